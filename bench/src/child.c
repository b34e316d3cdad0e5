/*
 * child.c: the tiny program every supervisor in the benchmark runs.
 *
 * Built twice, statically (exec cost is what a supervisor pays per start,
 * so keep it minimal): "child" stamps its start and pauses; "blast"
 * (-DBLAST) stamps its start, waits for a go-file, then writes a fixed,
 * checkable stream of 100-byte lines to stdout for the log test.
 *
 * The start stamp is the first thing main() does: one line
 * "up NAME PID T_NS" (CLOCK_MONOTONIC, the harness's clock) appended with
 * one write(2) to $BENCH_EVENTS. The harness times everything from these
 * stamps, so its own polling interval adds no error. NAME is argv[1], or
 * the basename of the working directory when there is no argument (runit
 * and s6 exec ./run in the service directory).
 *
 * "child --exit" returns at once: the fork+exec+reap floor.
 * $BENCH_NOTIFY_FD (s6 only): write "\n" there once started, s6's
 * readiness notification, without which s6 delays every restart by 1 s.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "stream.h"

static long long
child_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Appends one event line; one write() so lines never interleave. */
static void
child_event(const char *what, const char *name, long long t, long long extra)
{
	const char *path = getenv("BENCH_EVENTS");
	char line[512];
	int fd, n;

	if (path == NULL)
		return;
	if (extra >= 0)
		n = snprintf(line, sizeof line, "%s %s %d %lld %lld\n", what,
		    name, (int)getpid(), t, extra);
	else
		n = snprintf(line, sizeof line, "%s %s %d %lld\n", what, name,
		    (int)getpid(), t);
	if (n <= 0 || n >= (int)sizeof line)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd == -1)
		return;
	if (write(fd, line, n) != n)
		_exit(70);
	close(fd);
}

static const char *
child_name(int argc, char **argv, char *buf, size_t len)
{
	char *slash;

	if (argc > 1 && argv[1][0] != '-')
		return argv[1];
	if (getcwd(buf, len) == NULL)
		return "unknown";
	slash = strrchr(buf, '/');
	return slash != NULL && slash[1] != '\0' ? slash + 1 : buf;
}

#ifdef BLAST
/* Waits for the harness's go-file: the supervisor and its logger are up. */
static void
blast_wait_go(void)
{
	const char *go = getenv("BENCH_GO");
	struct timespec ms = { 0, 1000000 };
	struct stat st;

	if (go == NULL)
		return;
	while (stat(go, &st) == -1)
		nanosleep(&ms, NULL);
}

static void
blast_write(const char *name, long long bytes)
{
	static char buf[STREAM_CHUNK_LINES * STREAM_LINE];
	long long line = 0, total = bytes / STREAM_LINE, done = 0;
	size_t n, off;
	ssize_t w;

	while (line < total) {
		n = stream_fill(buf, line, total - line < STREAM_CHUNK_LINES ?
		    total - line : STREAM_CHUNK_LINES);
		line += n / STREAM_LINE;
		for (off = 0; off < n; off += w) {
			w = write(1, buf + off, n - off);
			if (w == -1 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w <= 0) {
				child_event("wrote", name, child_now(), done);
				return;
			}
			done += w;
		}
	}
	child_event("wrote", name, child_now(), done);
}
#endif

int
main(int argc, char **argv)
{
	long long t = child_now();
	char cwd[4096];
	const char *name, *nfd;

	if (argc > 1 && strcmp(argv[1], "--exit") == 0)
		return 0;
	name = child_name(argc, argv, cwd, sizeof cwd);
	child_event("up", name, t, -1);
	nfd = getenv("BENCH_NOTIFY_FD");
	if (nfd != NULL) {
		int fd = atoi(nfd);

		if (fd > 2 && write(fd, "\n", 1) == 1)
			close(fd);
	}
#ifdef BLAST
	{
		const char *b = getenv("BENCH_BYTES");

		blast_wait_go();
		child_event("go", name, child_now(), -1);
		blast_write(name, b != NULL ? atoll(b) : 0);
	}
#endif
	for (;;)
		pause();
}
