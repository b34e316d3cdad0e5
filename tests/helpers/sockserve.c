/*
 * sockserve: a server that takes its listening sockets from tendd the
 * systemd way (LISTEN_FDS from descriptor 3, LISTEN_PID its own pid).
 * Each connection gets one line, "PID\n", and is closed.
 *
 *   sockserve [--delay SECS] [--fail]
 *
 * --delay: sleep that long before accepting (a slow start); --fail:
 * exit 1 at once (a start that fails). Exits 3 when LISTEN_PID is not
 * its pid or LISTEN_FDS is missing.
 */
#include <sys/select.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	const char *lf = getenv("LISTEN_FDS"), *lp = getenv("LISTEN_PID");
	double delay = 0;
	char line[32];
	fd_set set;
	int i, n, c, fd, maxfd;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--delay") == 0 && i + 1 < argc)
			delay = atof(argv[++i]);
		else if (strcmp(argv[i], "--fail") == 0)
			return 1;
	}
	if (lf == NULL || lp == NULL || atol(lp) != (long)getpid())
		return 3;
	n = atoi(lf);
	if (n < 1)
		return 3;
	signal(SIGPIPE, SIG_IGN);
	if (delay > 0)
		usleep((useconds_t)(delay * 1e6));
	snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	for (;;) {
		FD_ZERO(&set);
		maxfd = 0;
		for (fd = 3; fd < 3 + n; fd++) {
			FD_SET(fd, &set);
			maxfd = fd;
		}
		if (select(maxfd + 1, &set, NULL, NULL, NULL) == -1) {
			if (errno == EINTR)
				continue;
			return 4;
		}
		for (fd = 3; fd < 3 + n; fd++) {
			if (!FD_ISSET(fd, &set))
				continue;
			c = accept(fd, NULL, NULL);
			if (c == -1)
				continue;
			(void)!write(c, line, strlen(line));
			close(c);
		}
	}
}
