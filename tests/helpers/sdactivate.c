/*
 * sdactivate: socket activation the way systemd does it, for one Unix
 * stream socket: binds and listens on PATH, gives it mode MODE, puts it
 * at descriptor 3 and execs PROG with LISTEN_FDS=1, LISTEN_PID (its own
 * pid, which exec keeps) and LISTEN_FDNAMES.
 *
 *   sdactivate PATH MODE PROG [ARG...]
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct sockaddr_un sun;
	char pid[32];
	int fd;

	if (argc < 4) {
		fprintf(stderr, "usage: sdactivate PATH MODE PROG [ARG...]\n");
		return 2;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(argv[1]) >= sizeof sun.sun_path)
		return 2;
	strcpy(sun.sun_path, argv[1]);
	unlink(argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    chmod(argv[1], (mode_t)strtol(argv[2], NULL, 8)) == -1 ||
	    listen(fd, 16) == -1) {
		perror(argv[1]);
		return 1;
	}
	if (fd != 3) {
		if (dup2(fd, 3) == -1)
			return 1;
		close(fd);
	}
	fcntl(3, F_SETFD, 0);
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	setenv("LISTEN_FDS", "1", 1);
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDNAMES", "tend.socket", 1);
	execv(argv[3], argv + 3);
	perror(argv[3]);
	return 127;
}
