/*
 * forker: a service that leaves a grandchild in its process group, for
 * stopasgroup/killasgroup tests.
 *
 *   forker --pidfile FILE [--ignore-term] [--child-ignore-term] [--new-pgrp]
 *          [--setsid]
 *
 * Forks one child that sleeps forever in the same process group (or in a
 * group of its own with --new-pgrp), then writes "LEADER_PID CHILD_PID\n"
 * to FILE atomically (FILE.tmp, then rename) and sleeps forever itself.
 * --ignore-term makes the leader (only) ignore SIGTERM;
 * --child-ignore-term the child (only). --setsid: the classic daemon's
 * double fork instead; the child forks the grandchild, which calls
 * setsid() (leaving the session) and sleeps forever, and exits; FILE
 * then names the grandchild, which tendd (the subreaper) has adopted.
 */
#include <sys/wait.h>
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

int
main(int argc, char **argv)
{
	const char *pidfile = NULL;
	int ignore = 0, newpgrp = 0, cignore = 0, daemon = 0, fds[2];
	char buf[64];
	pid_t pid;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--pidfile") == 0 && i + 1 < argc)
			pidfile = argv[++i];
		else if (strcmp(argv[i], "--ignore-term") == 0)
			ignore = 1;
		else if (strcmp(argv[i], "--child-ignore-term") == 0)
			cignore = 1;
		else if (strcmp(argv[i], "--new-pgrp") == 0)
			newpgrp = 1;
		else if (strcmp(argv[i], "--setsid") == 0)
			daemon = 1;
		else {
			fprintf(stderr, "forker: bad argument %s\n", argv[i]);
			return 2;
		}
	}
	if (pidfile == NULL) {
		fprintf(stderr, "usage: forker --pidfile FILE [--ignore-term] "
		    "[--new-pgrp]\n");
		return 2;
	}
	/* Set before the fork: true by the time the pidfile is there. */
	if (cignore)
		signal(SIGTERM, SIG_IGN);
	if (daemon) {
		if (pipe(fds) == -1 || (pid = fork()) == -1) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			if ((pid = fork()) == 0) {
				setsid();
				for (;;)
					pause();
			}
			if (write(fds[1], &pid, sizeof(pid)) != sizeof(pid))
				_exit(1);
			_exit(0);
		}
		waitpid(pid, NULL, 0);
		if (read(fds[0], &pid, sizeof(pid)) != sizeof(pid))
			return 1;
		/* wait until it has left the session */
		while (getsid(pid) == getpid())
			usleep(1000);
	} else if ((pid = fork()) == -1) {
		perror("fork");
		return 1;
	} else if (pid == 0) {
		if (newpgrp)
			setpgid(0, 0);
		for (;;)
			pause();
	}
	if (newpgrp)
		setpgid(pid, pid);	/* the child's own call may come later */
	signal(SIGTERM, ignore ? SIG_IGN : SIG_DFL);
	snprintf(buf, sizeof buf, "%ld %ld\n", (long)getpid(), (long)pid);
	write_atomic(pidfile, buf);
	for (;;)
		pause();
}
