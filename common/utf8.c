/*
 * utf8.c: bytes from outside made into text (see utf8.h). The one place
 * that decides what well-formed UTF-8 is, what replaces what is not, and
 * where a string may be cut.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "util.h"

size_t
utf8_len(const unsigned char *s, size_t avail)
{
	size_t need, k;

	if (s[0] < 0x80)
		return 1;
	need = s[0] >= 0xc2 && s[0] <= 0xdf ? 2 :
	    s[0] >= 0xe0 && s[0] <= 0xef ? 3 :
	    s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;
	if (need == 0 || need > avail)
		return 0;
	for (k = 1; k < need; k++)
		if ((s[k] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return need;
}

int
utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i, n;

	for (i = 0; i < len; i += n) {
		/* runs of ASCII are the common case */
		if (s[i] < 0x80) {
			n = 1;
			continue;
		}
		if ((n = utf8_len(s + i, len - i)) == 0)
			return 0;
	}
	return 1;
}

/*
 * Are the N bytes at S the start of a well-formed character that needs
 * more than N? (What a cut by bytes leaves at the end of a string.)
 */
static int
utf8_is_partial(const unsigned char *s, size_t n)
{
	unsigned char pad[4] = { 0x80, 0x80, 0x80, 0x80 };
	size_t need;

	need = s[0] >= 0xc2 && s[0] <= 0xdf ? 2 :
	    s[0] >= 0xe0 && s[0] <= 0xef ? 3 :
	    s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;
	if (need == 0 || n >= need)
		return 0;
	/* completed with the smallest continuation bytes, is it valid? */
	memcpy(pad, s, n);
	if (pad[0] == 0xe0 && n == 1)
		pad[1] = 0xa0;
	if (pad[0] == 0xf0 && n == 1)
		pad[1] = 0x90;
	return utf8_len(pad, need) == need;
}

size_t
utf8_partial_tail(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t k;

	/* a lead byte within the last 3, followed only by continuations */
	for (k = 1; k <= 3 && k <= len; k++) {
		if ((s[len - k] & 0xc0) != 0x80)
			return utf8_is_partial(s + len - k, k) ? k : 0;
	}
	return 0;
}

/* Is the character at S (N bytes, well-formed) C0, DEL or C1? */
static int
utf8_is_control(const unsigned char *s, size_t n)
{
	if (n == 1)
		return s[0] < 0x20 || s[0] == 0x7f;
	/* U+0080-U+009F: C2 80 .. C2 9F */
	return n == 2 && s[0] == 0xc2 && s[1] <= 0x9f;
}

int
utf8_printable(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len = strlen(str), i, n;

	for (i = 0; i < len; i += n)
		if ((n = utf8_len(s + i, len - i)) == 0 ||
		    utf8_is_control(s + i, n))
			return 0;
	return 1;
}

size_t
utf8_clean(char *dst, size_t size, const char *str, size_t len, int flags)
{
	const unsigned char *s = (const unsigned char *)str;
	const char *put;
	size_t i = 0, o = 0, n, w;

	if (size == 0)
		return 0;
	while (i < len) {
		n = utf8_len(s + i, len - i);
		if (n == 0 && (flags & UTF8_WASCUT) &&
		    utf8_is_partial(s + i, len - i))
			break;
		if (n == 0 || s[i] == '\0') {
			/* not UTF-8 (or a NUL): U+FFFD for this one byte */
			put = UTF8_REPLACEMENT;
			w = 3;
			n = 1;
		} else if ((flags & UTF8_NOCTRL) && utf8_is_control(s + i, n)) {
			put = " ";
			w = 1;
		} else {
			put = str + i;
			w = n;
		}
		/* the character fits whole, or the text ends before it */
		if (w > size - 1 - o)
			break;
		memcpy(dst + o, put, w);
		o += w;
		i += n;
	}
	dst[o] = '\0';
	return o;
}

char *
utf8_dup(const char *s, size_t max)
{
	size_t len = strlen(s), size;
	char *d;

	/* each byte becomes at most 3 (U+FFFD) */
	size = len > (SIZE_MAX - 1) / 3 ? SIZE_MAX - 1 : len * 3;
	if (size > max)
		size = max;
	d = xmalloc(size + 1);
	utf8_clean(d, size + 1, s, len, 0);
	return d;
}
