/*
 * logcheck.c: checks the log test's captured output against the stream
 * the writer produced (stream.h), byte for byte, without holding it.
 *
 *   logcheck EXPECTED_BYTES FILE...
 *
 * FILEs are read in the order given as one stream (a logger's archives
 * oldest first, then its current file). Prints one JSON object:
 * {"bytes": read, "expected": E, "match": bytes equal to the stream before
 * the first difference, "ok": true when all E bytes matched and no more}.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream.h"

#define CHECK_BUF	(STREAM_CHUNK_LINES * STREAM_LINE)

int
main(int argc, char **argv)
{
	static char got[CHECK_BUF], want[CHECK_BUF];
	long long expected, total = 0, match = 0, line = 0;
	size_t have = 0, wlen = 0, wpos = 0;
	int i, fd, diverged = 0;
	ssize_t n;

	if (argc < 2) {
		fprintf(stderr, "usage: logcheck EXPECTED_BYTES FILE...\n");
		return 2;
	}
	expected = atoll(argv[1]);
	for (i = 2; i < argc; i++) {
		fd = open(argv[i], O_RDONLY | O_CLOEXEC);
		if (fd == -1) {
			perror(argv[i]);
			return 1;
		}
		while ((n = read(fd, got, sizeof got)) > 0) {
			total += n;
			for (have = 0; have < (size_t)n && !diverged;) {
				size_t k;

				if (wpos == wlen) {
					wlen = stream_fill(want, line,
					    STREAM_CHUNK_LINES);
					line += STREAM_CHUNK_LINES;
					wpos = 0;
				}
				k = (size_t)n - have < wlen - wpos ?
				    (size_t)n - have : wlen - wpos;
				if (memcmp(got + have, want + wpos, k) != 0) {
					while (got[have] == want[wpos]) {
						have++;
						wpos++;
						match++;
					}
					diverged = 1;
					break;
				}
				have += k;
				wpos += k;
				match += k;
			}
		}
		close(fd);
	}
	if (match > expected)
		match = expected;
	printf("{\"bytes\": %lld, \"expected\": %lld, \"match\": %lld, "
	    "\"ok\": %s}\n", total, expected, match,
	    total == expected && match == expected ? "true" : "false");
	return 0;
}
