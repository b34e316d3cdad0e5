/*
 * utf8.h: strings from outside (requests, config, children, paths,
 * environment) are bytes until proven UTF-8. These turn bytes into text
 * that any JSON encoder, log or journal takes: each byte that does not
 * begin a well-formed character becomes U+FFFD, and a string cut to fit
 * is cut between characters, never inside one.
 */
#ifndef TEND_UTF8_H
#define TEND_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* What utf8_clean() writes for a byte that is not UTF-8. */
#define UTF8_REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD */

/*
 * The length of the well-formed UTF-8 character at S (AVAIL > 0 bytes
 * left), or 0: no overlong forms, surrogates or code points beyond
 * U+10FFFF. ASCII, NUL included, is 1.
 */
size_t	 utf8_len(const unsigned char *s, size_t avail);

/* Is S (LEN bytes) well-formed UTF-8 throughout? */
int	 utf8_valid(const char *s, size_t len);

/*
 * Is S a NUL-terminated string of well-formed UTF-8 without a control
 * character: C0 (U+0000-U+001F), DEL (U+007F) or C1 (U+0080-U+009F)?
 * The rule for names of programs, groups and processes (spec §1).
 */
int	 utf8_printable(const char *s);

/*
 * How many bytes at the end of S (LEN bytes) begin a character that S
 * does not finish (0 to 3): where a cut by bytes went through one.
 */
size_t	 utf8_partial_tail(const char *s, size_t len);

/* utf8_clean() flags */
#define UTF8_NOCTRL	0x1	/* C0, DEL and C1 become a space: one line */
#define UTF8_WASCUT	0x2	/* SRC was cut by bytes (snprintf, jansson's
				   error text): the start of a character at
				   its very end is left out, not replaced */

/*
 * LEN bytes of SRC as text in DST (SIZE > 0 bytes, NUL-terminated):
 * well-formed characters as they are, every other byte as U+FFFD, a NUL
 * byte as U+FFFD too (it would end the string). What does not fit is
 * left out whole characters at a time, so DST never ends inside a
 * character. Returns the length written (without the NUL). SRC and DST
 * must not overlap.
 */
size_t	 utf8_clean(char *dst, size_t size, const char *src, size_t len,
	    int flags);

/*
 * S as text, allocated, cut to at most MAX bytes at a character boundary
 * (SIZE_MAX: whole): utf8_clean() of S for messages that quote what
 * someone sent or wrote ("unknown field: %s").
 */
char	*utf8_dup(const char *s, size_t max);

#endif
