/*
 * binder: a master that listens on a TCP port and leaves a worker holding
 * it, as nginx and php-fpm do, for tests of what outlives tendd.
 *
 *   binder --port N --pidfile FILE [--worker session|setsid]
 *
 * Listens on 127.0.0.1:N (SO_REUSEADDR: only a live listener is in the
 * way); when the port is taken it says so and exits 78 (php-fpm's code).
 * --worker: forks a worker that keeps the listening socket and sleeps
 * forever, in the master's session (session, nginx's way) or, double
 * forked, in a session of its own (setsid). Then writes "MASTER WORKER\n"
 * (WORKER 0 without --worker) to FILE atomically (FILE.tmp, then rename)
 * and sleeps forever: FILE exists only once the port is held.
 */
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
write_atomic(const char *file, const char *text)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof tmp, "%s.tmp", file);
	if ((f = fopen(tmp, "we")) == NULL || fputs(text, f) == EOF ||
	    fclose(f) == EOF || rename(tmp, file) == -1) {
		perror(file);
		exit(100);
	}
}

static void
sleep_forever(void)
{
	for (;;)
		pause();
}

int
main(int argc, char **argv)
{
	const char *pidfile = NULL, *worker = NULL;
	struct sockaddr_in sin;
	int port = 0, one = 1, fd, fds[2];
	pid_t pid = 0, mid;
	char buf[64];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			port = atoi(argv[++i]);
		else if (strcmp(argv[i], "--pidfile") == 0 && i + 1 < argc)
			pidfile = argv[++i];
		else if (strcmp(argv[i], "--worker") == 0 && i + 1 < argc)
			worker = argv[++i];
		else {
			fprintf(stderr, "binder: bad argument %s\n", argv[i]);
			return 2;
		}
	}
	if (port <= 0 || port > 65535 || pidfile == NULL || (worker != NULL &&
	    strcmp(worker, "session") != 0 && strcmp(worker, "setsid") != 0)) {
		fprintf(stderr, "usage: binder --port N --pidfile FILE "
		    "[--worker session|setsid]\n");
		return 2;
	}
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1) {
		perror("binder: socket");
		return 1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 16) == -1) {
		fprintf(stderr, "binder: cannot listen on port %d: %s\n", port,
		    strerror(errno));
		return 78;
	}
	if (worker != NULL && strcmp(worker, "session") == 0) {
		if ((pid = fork()) == -1) {
			perror("binder: fork");
			return 1;
		}
		if (pid == 0)
			sleep_forever();
	} else if (worker != NULL) {
		if (pipe(fds) == -1 || (mid = fork()) == -1) {
			perror("binder: fork");
			return 1;
		}
		if (mid == 0) {
			if ((pid = fork()) == 0) {
				setsid();
				sleep_forever();
			}
			if (write(fds[1], &pid, sizeof(pid)) != sizeof(pid))
				_exit(1);
			_exit(0);
		}
		waitpid(mid, NULL, 0);
		if (read(fds[0], &pid, sizeof(pid)) != sizeof(pid) || pid <= 0)
			return 1;
		/* wait until it has left the session */
		while (getsid(pid) == getsid(0))
			usleep(1000);
	}
	snprintf(buf, sizeof buf, "%ld %ld\n", (long)getpid(), (long)pid);
	write_atomic(pidfile, buf);
	sleep_forever();
}
