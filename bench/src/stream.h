/*
 * stream.h: the log test's byte stream, shared by its writer (child.c
 * built as blast) and its checker (logcheck.c), so both agree on every
 * byte without storing the stream anywhere.
 *
 * Line i (from 0) is 100 bytes: i as 10 decimal digits, a space, 88
 * letters starting at 'a' + i % 26, and '\n'. A line is unique, so a lost,
 * doubled or reordered chunk shows at the first differing byte.
 */
#ifndef BENCH_STREAM_H
#define BENCH_STREAM_H

#include <stddef.h>
#include <string.h>

#define STREAM_LINE		100
#define STREAM_CHUNK_LINES	655	/* 65,500 bytes per write() */

static const char stream_letters[] =
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
    "abcdefghijklmnopqrstuvwxyz";

/* Writes COUNT lines starting at line FIRST into BUF; returns the bytes. */
static inline size_t
stream_fill(char *buf, long long first, long long count)
{
	char *p = buf;
	long long i, v;
	int d;

	for (i = first; i < first + count; i++) {
		v = i;
		for (d = 9; d >= 0; d--) {
			p[d] = (char)('0' + v % 10);
			v /= 10;
		}
		p[10] = ' ';
		memcpy(p + 11, stream_letters + i % 26, 88);
		p[99] = '\n';
		p += STREAM_LINE;
	}
	return (size_t)(p - buf);
}

#endif
