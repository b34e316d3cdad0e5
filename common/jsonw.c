/*
 * jsonw.c: JSON text appended to a growing buffer, without building
 * objects first and without printf in the common cases (see jsonw.h).
 */
#include <math.h>	/* isfinite, fabs: no libm needed */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "utf8.h"

/* Per byte, in a string: copied as is, escaped, or the start of UTF-8. */
enum { JSONW_PLAIN, JSONW_ESCAPE, JSONW_HIGH };
static const unsigned char jsonw_class[256] = {
	[0 ... 0x1f] = JSONW_ESCAPE,
	['"'] = JSONW_ESCAPE,
	['\\'] = JSONW_ESCAPE,
	[0x80 ... 0xff] = JSONW_HIGH,
};

/*
 * Room for N more bytes, or NULL once memory ran out: the writer is then
 * failed, writes nothing more, and its owner drops what it was for.
 */
static inline char *
jsonw_room(struct jsonw *w, size_t n)
{
	size_t cap;
	char *buf;

	if (w->failed)
		return NULL;
	if (w->cap - w->len < n) {
		cap = w->cap < 256 ? 256 : w->cap;
		while (cap - w->len < n) {
			if (cap > SIZE_MAX / 2)
				goto failed;
			cap *= 2;
		}
		if ((buf = realloc(w->buf, cap)) == NULL)
			goto failed;
		w->buf = buf;
		w->cap = cap;
	}
	return w->buf + w->len;
failed:
	w->failed = 1;
	return NULL;
}

/* A comma when the last thing written was a finished value. */
static inline void
jsonw_sep(struct jsonw *w)
{
	char last;

	if (w->len == 0)
		return;
	last = w->buf[w->len - 1];
	if (last != '{' && last != '[' && last != ':' && last != ',' &&
	    jsonw_room(w, 1) != NULL)
		w->buf[w->len++] = ',';
}

void
jsonw_init(struct jsonw *w, size_t hint)
{
	w->buf = NULL;
	w->len = w->cap = 0;
	w->failed = 0;
	if (hint > 0)
		jsonw_room(w, hint);
}

void
jsonw_free(struct jsonw *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

void
jsonw_raw(struct jsonw *w, const char *s, size_t n)
{
	char *o;

	if ((o = jsonw_room(w, n)) == NULL)
		return;
	memcpy(o, s, n);
	w->len += n;
}

void
jsonw_open(struct jsonw *w, char c)
{
	jsonw_sep(w);
	jsonw_raw(w, &c, 1);
}

void
jsonw_close(struct jsonw *w, char c)
{
	jsonw_raw(w, &c, 1);
}

void
jsonw_key(struct jsonw *w, const char *key)
{
	jsonw_string(w, key);
	jsonw_raw(w, ":", 1);
}

void
jsonw_stringn(struct jsonw *w, const char *str, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run, n;
	char *o;

	jsonw_sep(w);
	/* Worst case: every byte a \u00XX. */
	if (len > (SIZE_MAX - 2) / 6)
		w->failed = 1;
	if ((o = jsonw_room(w, len * 6 + 2)) == NULL)
		return;
	*o++ = '"';
	while (i < len) {
		for (run = i; run < len && jsonw_class[s[run]] == JSONW_PLAIN;
		    run++)
			;
		memcpy(o, s + i, run - i);
		o += run - i;
		if ((i = run) == len)
			break;
		if (jsonw_class[s[i]] == JSONW_HIGH) {
			if ((n = utf8_len(s + i, len - i)) > 0) {
				memcpy(o, s + i, n);
				o += n;
				i += n;
			} else {
				/* not UTF-8: U+FFFD for this byte */
				memcpy(o, UTF8_REPLACEMENT, 3);
				o += 3;
				i++;
			}
			continue;
		}
		*o++ = '\\';
		switch (s[i]) {
		case '"':	*o++ = '"'; break;
		case '\\':	*o++ = '\\'; break;
		case '\b':	*o++ = 'b'; break;
		case '\f':	*o++ = 'f'; break;
		case '\n':	*o++ = 'n'; break;
		case '\r':	*o++ = 'r'; break;
		case '\t':	*o++ = 't'; break;
		default:
			memcpy(o, "u00", 3);
			o[3] = hex[s[i] >> 4];
			o[4] = hex[s[i] & 15];
			o += 5;
		}
		i++;
	}
	*o++ = '"';
	w->len = (size_t)(o - w->buf);
}

void
jsonw_string(struct jsonw *w, const char *s)
{
	if (s == NULL)
		jsonw_null(w);
	else
		jsonw_stringn(w, s, strlen(s));
}

/* The decimal digits of V, without a sign. */
static void
jsonw_digits(struct jsonw *w, uint64_t v)
{
	char tmp[20], *p = tmp + sizeof(tmp);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	jsonw_raw(w, p, (size_t)(tmp + sizeof(tmp) - p));
}

void
jsonw_int(struct jsonw *w, long long v)
{
	jsonw_sep(w);
	if (v < 0) {
		jsonw_raw(w, "-", 1);
		jsonw_digits(w, -(uint64_t)v);
	} else
		jsonw_digits(w, (uint64_t)v);
}

void
jsonw_bool(struct jsonw *w, int v)
{
	jsonw_sep(w);
	if (v)
		jsonw_raw(w, "true", 4);
	else
		jsonw_raw(w, "false", 5);
}

void
jsonw_null(struct jsonw *w)
{
	jsonw_sep(w);
	jsonw_raw(w, "null", 4);
}

void
jsonw_real(struct jsonw *w, double v)
{
	char frac[7], buf[40];
	double us;
	uint64_t u;
	int i, end;

	jsonw_sep(w);
	if (!isfinite(v))
		v = 0;
	/* rounded to the nearest µs (no libm: half up is fine here) */
	us = fabs(v) * 1e6 + 0.5;
	if (us >= 9007199254740992.0) {
		/* 2^53 µs and beyond: printf's digits, and a fraction */
		snprintf(buf, sizeof(buf), "%.17g", v);
		jsonw_raw(w, buf, strlen(buf));
		if (strpbrk(buf, ".e") == NULL)
			jsonw_raw(w, ".0", 2);
		return;
	}
	u = (uint64_t)us;
	if (u != 0 && v < 0)
		jsonw_raw(w, "-", 1);
	jsonw_digits(w, u / 1000000);
	u %= 1000000;
	for (i = 5; i >= 0; i--, u /= 10)
		frac[i] = (char)('0' + u % 10);
	/* trailing zeros go, but one digit stays: 2.0, 2.5, 2.000001 */
	for (end = 6; end > 1 && frac[end - 1] == '0'; end--)
		;
	frac[end] = '\0';
	jsonw_raw(w, ".", 1);
	jsonw_raw(w, frac, (size_t)end);
}
