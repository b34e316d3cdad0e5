/*
 * exitwith: a program that exits with a chosen code, for restart-policy tests.
 *
 *   exitwith CODE [--after SECS] [--after-list S1,S2,...] [--record FILE]
 *            [--done FILE] [--ignore-term] [--barrier FIFO]
 *
 * --record FILE  appends "PID MONOTONIC\n" to FILE at start (one write(2)
 *                with O_APPEND, so lines never interleave).
 * --after SECS   runs that long before exiting (fractions allowed).
 * --after-list   the run time of the Nth spawn, N = lines in the --record
 *                file after this spawn appended its own (the last entry
 *                repeats); lets a test script a crash loop.
 * --done FILE    appends "PID MONOTONIC\n" to FILE just before exiting.
 * --ignore-term  ignores SIGTERM while it runs.
 * --barrier FIFO after --after, opens FIFO for reading (blocking until a
 *                writer comes) and reads until EOF: every process waiting
 *                on the same FIFO is released when the writer closes it,
 *                so hundreds can be made to exit within a millisecond.
 * CODE           0..255 exits with it; -N kills itself with signal N.
 *
 * Times are CLOCK_MONOTONIC seconds: what Python's time.monotonic() reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
append_line(const char *file)
{
	char buf[64];
	int fd, n;

	if (file == NULL)
		return;
	n = snprintf(buf, sizeof buf, "%ld %.6f\n", (long)getpid(), now());
	fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1 || write(fd, buf, n) != n) {
		perror(file);
		exit(100);
	}
	close(fd);
}

static int
count_lines(const char *file)
{
	char buf[4096];
	ssize_t n;
	int fd, lines = 0;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
	close(fd);
	return lines;
}

static void
sleep_for(double secs)
{
	double end = now() + secs, left;
	struct timespec ts;

	while ((left = end - now()) > 0) {
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
}

static double
pick(const char *list, int n)
{
	const char *p = list;
	double v = 0;

	for (int i = 0; i < n; i++) {
		v = strtod(p, NULL);
		if ((p = strchr(p, ',')) == NULL)
			break;
		p++;
	}
	return v;
}

int
main(int argc, char **argv)
{
	const char *record = NULL, *done = NULL, *list = NULL, *barrier = NULL;
	double after = 0;
	int code, ignore = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: exitwith CODE [--after SECS] "
		    "[--after-list S1,S2...] [--record FILE] [--done FILE] "
		    "[--ignore-term]\n");
		return 2;
	}
	code = atoi(argv[1]);
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--after") == 0 && i + 1 < argc)
			after = strtod(argv[++i], NULL);
		else if (strcmp(argv[i], "--after-list") == 0 && i + 1 < argc)
			list = argv[++i];
		else if (strcmp(argv[i], "--record") == 0 && i + 1 < argc)
			record = argv[++i];
		else if (strcmp(argv[i], "--done") == 0 && i + 1 < argc)
			done = argv[++i];
		else if (strcmp(argv[i], "--ignore-term") == 0)
			ignore = 1;
		else if (strcmp(argv[i], "--barrier") == 0 && i + 1 < argc)
			barrier = argv[++i];
		else {
			fprintf(stderr, "exitwith: bad argument %s\n", argv[i]);
			return 2;
		}
	}
	if (ignore)
		signal(SIGTERM, SIG_IGN);
	append_line(record);
	if (list != NULL)
		after = pick(list, record ? count_lines(record) : 1);
	sleep_for(after);
	if (barrier != NULL) {
		char buf[256];
		int fd = open(barrier, O_RDONLY | O_CLOEXEC);
		ssize_t n;

		if (fd == -1) {
			perror(barrier);
			exit(100);
		}
		do
			n = read(fd, buf, sizeof buf);
		while (n > 0 || (n == -1 && errno == EINTR));
		close(fd);
	}
	append_line(done);
	if (code < 0) {
		signal(-code, SIG_DFL);
		raise(-code);
		for (;;)
			pause();
	}
	return code;
}
