/*
 * sleeper: a long-running service that does nothing.
 *
 *   sleeper [--record FILE] [--ignore-term] [--term-exit CODE]
 *
 * --record FILE    appends "PID MONOTONIC\n" to FILE at start.
 * --ignore-term    ignores SIGTERM (stopwaitsecs escalation tests).
 * --term-exit CODE on SIGTERM, appends to the --record file again
 *                  ("PID MONOTONIC term") and exits with CODE.
 * Otherwise it sleeps in pause() until a signal ends it.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *record;
static int term_code = -1;

static void
append_line(const char *file, const char *tag)
{
	struct timespec ts;
	char buf[80];
	int fd, n;

	if (file == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(buf, sizeof buf, "%ld %ld.%06ld%s\n", (long)getpid(),
	    (long)ts.tv_sec, ts.tv_nsec / 1000, tag);
	fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1 || write(fd, buf, n) != n)
		_exit(100);
	close(fd);
}

static void
on_term(int sig)
{
	(void)sig;
	append_line(record, " term");
	_exit(term_code);
}

int
main(int argc, char **argv)
{
	int ignore = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--record") == 0 && i + 1 < argc)
			record = argv[++i];
		else if (strcmp(argv[i], "--ignore-term") == 0)
			ignore = 1;
		else if (strcmp(argv[i], "--term-exit") == 0 && i + 1 < argc)
			term_code = atoi(argv[++i]);
		else {
			fprintf(stderr, "sleeper: bad argument %s\n", argv[i]);
			return 2;
		}
	}
	if (ignore)
		signal(SIGTERM, SIG_IGN);
	else if (term_code >= 0)
		signal(SIGTERM, on_term);
	append_line(record, "");
	for (;;)
		pause();
}
