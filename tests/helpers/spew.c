/*
 * spew: writes a known stream of bytes to stdout (or stderr) as fast as
 * it can, for the output tests and bench/output.py. The stream is 1 MiB
 * blocks; block K is 100-byte lines ("%010d " line number, 88 letters
 * starting at letter number % 26, "\n"), the last line cut at the block's
 * end, with the block's first 20 bytes replaced by "%019d\n" of K. So any
 * byte lost, doubled or moved changes the checksum, and tests/integration
 * (spew_bytes) and bench/output.py can compute it without running spew.
 *
 *   spew [--bytes N] [--chunk N] [--one-line] [--stderr] [--linger S]
 *        [--last TEXT] [--die SIG]
 *   spew --ticks N [--every S] [--both]
 *
 * --bytes N     how many bytes (K, M, G suffixes: powers of 1024); 1M
 * --chunk N     bytes per write(2); 65536
 * --one-line    every newline of the stream becomes '.', and one "\n"
 *               ends it (one line of N+1 bytes)
 * --stderr      write to stderr instead of stdout
 * --linger S    stay alive S seconds after writing (pipes still open)
 * --last TEXT   then write TEXT and a newline (one write)
 * --die SIG     then kill itself with signal SIG (a crash: no exit path)
 * --ticks N     instead: "tick K\n" lines, K = 1..N (0: for ever), one
 *               write each, every S seconds (--every, default 0.05);
 *               with --both also "etick K\n" on stderr
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BLOCK	(1024 * 1024)
#define LINE	100

static unsigned long long
parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	switch (*end) {
	case 'K': case 'k': v <<= 10; break;
	case 'M': case 'm': v <<= 20; break;
	case 'G': case 'g': v <<= 30; break;
	case '\0': break;
	default:
		fprintf(stderr, "spew: bad size %s\n", s);
		exit(2);
	}
	return v;
}

static void
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			_exit(3);
		}
		p += w;
		n -= (size_t)w;
	}
}

int
main(int argc, char **argv)
{
	unsigned long long total = 1 << 20, done = 0, k = 0;
	size_t chunk = 65536, off, n, i, j;
	int fd = 1, one_line = 0, die = 0, both = 0;
	long ticks = -1, t;
	double linger = 0, every = 0.05;
	const char *last = NULL;
	char *base, *block, stamp[21], tick[64];

	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--bytes") == 0 && i + 1 < (size_t)argc)
			total = parse_size(argv[++i]);
		else if (strcmp(argv[i], "--chunk") == 0 && i + 1 < (size_t)argc)
			chunk = (size_t)parse_size(argv[++i]);
		else if (strcmp(argv[i], "--one-line") == 0)
			one_line = 1;
		else if (strcmp(argv[i], "--stderr") == 0)
			fd = 2;
		else if (strcmp(argv[i], "--linger") == 0 && i + 1 < (size_t)argc)
			linger = atof(argv[++i]);
		else if (strcmp(argv[i], "--last") == 0 && i + 1 < (size_t)argc)
			last = argv[++i];
		else if (strcmp(argv[i], "--die") == 0 && i + 1 < (size_t)argc)
			die = atoi(argv[++i]);
		else if (strcmp(argv[i], "--ticks") == 0 && i + 1 < (size_t)argc)
			ticks = atol(argv[++i]);
		else if (strcmp(argv[i], "--every") == 0 && i + 1 < (size_t)argc)
			every = atof(argv[++i]);
		else if (strcmp(argv[i], "--both") == 0)
			both = 1;
		else {
			fprintf(stderr, "usage: spew [--bytes N] [--chunk N] "
			    "[--one-line] [--stderr] [--linger S] [--last TEXT] "
			    "[--die SIG] | --ticks N [--every S] [--both]\n");
			return 2;
		}
	}
	if (ticks >= 0) {
		struct timespec ts = { (time_t)every,
		    (long)((every - (double)(time_t)every) * 1e9) }, rem;

		for (t = 1; ticks == 0 || t <= ticks; t++) {
			n = (size_t)snprintf(tick, sizeof(tick), "tick %ld\n", t);
			write_all(fd, tick, n);
			if (both) {
				n = (size_t)snprintf(tick, sizeof(tick),
				    "etick %ld\n", t);
				write_all(2, tick, n);
			}
			rem = ts;
			while (nanosleep(&rem, &rem) == -1 && errno == EINTR)
				;
		}
		return 0;
	}
	if (chunk == 0)
		chunk = 1;

	base = malloc(BLOCK);
	block = malloc(BLOCK);
	if (base == NULL || block == NULL)
		return 1;
	for (i = 0; i < BLOCK; i += LINE) {
		char line[LINE + 1];

		snprintf(line, sizeof(line), "%010zu ", i / LINE);
		for (j = 11; j < LINE - 1; j++)
			line[j] = (char)('a' + ((i / LINE) + j - 11) % 26);
		line[LINE - 1] = '\n';
		memcpy(base + i, line, BLOCK - i < LINE ? BLOCK - i : LINE);
	}
	if (one_line)
		for (i = 0; i < BLOCK; i++)
			if (base[i] == '\n')
				base[i] = '.';

	while (done < total) {
		memcpy(block, base, BLOCK);
		snprintf(stamp, sizeof(stamp), "%019llu\n", k++);
		memcpy(block, stamp, 20);
		if (one_line)
			block[19] = '.';
		for (off = 0; off < BLOCK && done < total; off += n) {
			n = BLOCK - off < chunk ? BLOCK - off : chunk;
			if (n > total - done)
				n = (size_t)(total - done);
			write_all(fd, block + off, n);
			done += n;
		}
	}
	if (one_line)
		write_all(fd, "\n", 1);
	if (last != NULL) {
		size_t len = strlen(last);
		char *l = malloc(len + 1);

		memcpy(l, last, len);
		l[len] = '\n';
		write_all(fd, l, len + 1);
	}
	if (die > 0) {
		signal(die, SIG_DFL);
		raise(die);
	}
	if (linger > 0) {
		struct timespec ts = { (time_t)linger,
		    (long)((linger - (double)(time_t)linger) * 1e9) };

		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
	}
	return 0;
}
