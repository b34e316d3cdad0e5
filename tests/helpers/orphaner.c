/*
 * orphaner: a service whose grandchild is orphaned, for subreaper tests.
 *
 *   orphaner --pidfile FILE [--after SECS]
 *
 * Double-forks: the middle process exits at once, so the grandchild is
 * reparented to the nearest subreaper (tendd). The grandchild writes
 * "PID\n" to FILE atomically (FILE.tmp, then rename), sleeps SECS
 * (default 1) and exits 0, leaving a zombie for its new parent to reap.
 * The orphaner itself reaps the middle process and sleeps forever.
 */
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
		_exit(100);
	}
}

int
main(int argc, char **argv)
{
	const char *pidfile = NULL;
	double after = 1;
	struct timespec ts;
	char buf[32];
	pid_t mid;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--pidfile") == 0 && i + 1 < argc)
			pidfile = argv[++i];
		else if (strcmp(argv[i], "--after") == 0 && i + 1 < argc)
			after = strtod(argv[++i], NULL);
		else {
			fprintf(stderr, "orphaner: bad argument %s\n", argv[i]);
			return 2;
		}
	}
	if (pidfile == NULL) {
		fprintf(stderr, "usage: orphaner --pidfile FILE [--after SECS]\n");
		return 2;
	}
	switch ((mid = fork())) {
	case -1:
		perror("fork");
		return 1;
	case 0:
		mid = getpid();
		switch (fork()) {
		case -1:
			_exit(1);
		case 0:
			/* Wait until the middle process is gone: orphaned. */
			while (getppid() == mid)
				usleep(1000);
			snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
			write_atomic(pidfile, buf);
			ts.tv_sec = (time_t)after;
			ts.tv_nsec = (long)((after - ts.tv_sec) * 1e9);
			nanosleep(&ts, NULL);
			_exit(0);
		}
		_exit(0);
	}
	waitpid(mid, NULL, 0);
	for (;;)
		pause();
}
