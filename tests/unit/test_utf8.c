/*
 * test_utf8.c: common/utf8.c, bytes made into text: what is well-formed,
 * what replaces what is not, where a string may be cut, and which names
 * are printable (spec §1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "protocol.h"
#include "utf8.h"

#define FFFD	"\xef\xbf\xbd"

/* utf8_clean() of LEN bytes of SRC into SIZE bytes, compared with WANT. */
static void
assert_clean(const char *src, size_t len, size_t size, int flags,
    const char *want)
{
	char *dst = malloc(size);
	size_t n;

	assert_non_null(dst);
	n = utf8_clean(dst, size, src, len, flags);
	assert_string_equal(dst, want);
	assert_int_equal(n, strlen(want));
	/* whatever went in, what comes out is valid */
	assert_true(utf8_valid(dst, n));
	free(dst);
}

static void
test_valid(void **state)
{
	assert_true(utf8_valid("", 0));
	assert_true(utf8_valid("plain ascii", 11));
	assert_true(utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	    14));
	assert_false(utf8_valid("caf\xe9", 4));
	/* overlong, surrogate, beyond U+10FFFF, cut short, lone continuation */
	assert_false(utf8_valid("\xc0\xaf", 2));
	assert_false(utf8_valid("\xe0\x80\xaf", 3));
	assert_false(utf8_valid("\xed\xa0\x80", 3));
	assert_false(utf8_valid("\xf4\x90\x80\x80", 4));
	assert_false(utf8_valid("\xe2\x82", 2));
	assert_false(utf8_valid("\x80", 1));
	/* the length counts: the good part alone is good */
	assert_true(utf8_valid("ab\xff", 2));
}

static void
test_clean_repairs(void **state)
{
	assert_clean("caf\xc3\xa9", 5, 64, 0, "caf\xc3\xa9");
	assert_clean("caf\xe9", 4, 64, 0, "caf" FFFD);
	/* one U+FFFD per byte; a bad lead never swallows what follows */
	assert_clean("\xe2\xc3\xa9", 3, 64, 0, FFFD "\xc3\xa9");
	assert_clean("\xed\xa0\x80", 3, 64, 0, FFFD FFFD FFFD);
	/* a NUL inside would end the string: it is not a character here */
	assert_clean("a\0b", 3, 64, 0, "a" FFFD "b");
	/* control characters stay, unless the text is to be one line */
	assert_clean("a\tb\n\x1b[0m\x7f", 9, 64, 0, "a\tb\n\x1b[0m\x7f");
	assert_clean("a\tb\n\x1b[0m\x7f", 9, 64, UTF8_NOCTRL, "a b  [0m ");
	/* C1 (U+0085, U+009B) is a control; U+00A0 is not */
	assert_clean("\xc2\x85\xc2\x9b\xc2\xa0", 6, 64, UTF8_NOCTRL,
	    "  \xc2\xa0");
}

static void
test_clean_cuts_between_characters(void **state)
{
	/* "é" is 2 bytes, "€" 3, "😀" 4: each is whole or left out */
	assert_clean("ab\xc3\xa9", 4, 4, 0, "ab");
	assert_clean("ab\xc3\xa9", 4, 5, 0, "ab\xc3\xa9");
	assert_clean("a\xe2\x82\xac", 4, 3, 0, "a");
	assert_clean("a\xe2\x82\xac", 4, 4, 0, "a");
	assert_clean("a\xe2\x82\xac", 4, 5, 0, "a\xe2\x82\xac");
	assert_clean("\xf0\x9f\x98\x80z", 5, 4, 0, "");
	assert_clean("\xf0\x9f\x98\x80z", 5, 6, 0, "\xf0\x9f\x98\x80z");
	/* a replacement is a character too: 3 bytes or none */
	assert_clean("a\xff", 2, 3, 0, "a");
	assert_clean("a\xff", 2, 5, 0, "a" FFFD);
	/* room for the NUL only */
	assert_clean("abc", 3, 1, 0, "");
}

static void
test_clean_of_a_cut_string(void **state)
{
	/* snprintf or jansson cut it inside "€": that start is left out */
	assert_clean("ab\xe2\x82", 4, 64, UTF8_WASCUT, "ab");
	assert_clean("ab\xe2", 3, 64, UTF8_WASCUT, "ab");
	assert_clean("ab\xf0\x9f\x98", 5, 64, UTF8_WASCUT, "ab");
	/* but a byte that starts nothing is still a bad byte */
	assert_clean("ab\xff", 3, 64, UTF8_WASCUT, "ab" FFFD);
	assert_clean("ab\xe0\x80", 4, 64, UTF8_WASCUT, "ab" FFFD FFFD);
	/* and a broken character before the end is replaced */
	assert_clean("\xe2\x82z", 3, 64, UTF8_WASCUT, FFFD FFFD "z");
	/* without the flag, a cut character is two bad bytes */
	assert_clean("ab\xe2\x82", 4, 64, 0, "ab" FFFD FFFD);
}

static void
test_partial_tail(void **state)
{
	assert_int_equal(utf8_partial_tail("", 0), 0);
	assert_int_equal(utf8_partial_tail("abc", 3), 0);
	assert_int_equal(utf8_partial_tail("a\xc3\xa9", 3), 0);
	assert_int_equal(utf8_partial_tail("a\xc3", 2), 1);
	assert_int_equal(utf8_partial_tail("a\xe2\x82", 3), 2);
	assert_int_equal(utf8_partial_tail("a\xf0\x9f\x98", 4), 3);
	assert_int_equal(utf8_partial_tail("a\xf0\x9f\x98\x80", 5), 0);
	/* bytes that could never complete are not a cut character */
	assert_int_equal(utf8_partial_tail("a\xff", 2), 0);
	assert_int_equal(utf8_partial_tail("a\xe0\x80", 3), 0);
	assert_int_equal(utf8_partial_tail("\x80\x80\x80", 3), 0);
}

/*
 * utf8_dup: what a message quotes of a request ("unknown field: %s"),
 * cut to at most MAX bytes: the reproduction of issue 12 cut 99 × a + é
 * to 100 bytes, inside é.
 */
static void
test_dup(void **state)
{
	char in[128], *s;

	memset(in, 'a', 99);
	strcpy(in + 99, "\xc3\xa9");
	s = utf8_dup(in, 100);
	assert_int_equal(strlen(s), 99);
	assert_true(utf8_valid(s, strlen(s)));
	free(s);
	s = utf8_dup(in, 101);
	assert_string_equal(s, in);
	free(s);
	s = utf8_dup("caf\xe9", SIZE_MAX);
	assert_string_equal(s, "caf" FFFD);
	free(s);
	s = utf8_dup("", 0);
	assert_string_equal(s, "");
	free(s);
	/* 63 bytes and a 2-byte character, cut at 64 */
	memset(in, 'f', 63);
	strcpy(in + 63, "\xc3\xa9");
	s = utf8_dup(in, 64);
	assert_int_equal(strlen(s), 63);
	free(s);
}

static void
test_printable(void **state)
{
	assert_true(utf8_printable("web"));
	assert_true(utf8_printable("caf\xc3\xa9"));
	assert_true(utf8_printable("\xe6\x97\xa5\xe6\x9c\xac"));
	assert_true(utf8_printable("nbsp\xc2\xa0ok"));
	assert_true(utf8_printable(""));
	assert_false(utf8_printable("caf\xe9"));
	assert_false(utf8_printable("tab\there"));
	assert_false(utf8_printable("esc\x1b"));
	assert_false(utf8_printable("del\x7f"));
	assert_false(utf8_printable("nel\xc2\x85"));
	assert_false(utf8_printable("csi\xc2\x9b"));
	assert_false(utf8_printable("\xed\xa0\x80"));
}

/* What jansson gets: always a string, whatever the bytes. */
static void
test_protocol_string(void **state)
{
	json_t *j;
	char *s;

	j = protocol_string("caf\xe9");
	assert_non_null(j);
	assert_string_equal(json_string_value(j), "caf" FFFD);
	s = json_dumps(j, JSON_ENCODE_ANY);
	assert_non_null(s);
	assert_string_equal(s, "\"caf" FFFD "\"");
	free(s);
	json_decref(j);

	j = protocol_string("ok\xc3\xa9");
	assert_string_equal(json_string_value(j), "ok\xc3\xa9");
	json_decref(j);

	j = protocol_string(NULL);
	assert_true(json_is_null(j));
	json_decref(j);
}

/* Decoding errors quote the request; the quote is text too. */
static void
test_decode_error_is_text(void **state)
{
	static const char *const lines[] = {
		"{\"id\":1,\"cmd\":\"caf\xe9\"}",
		"{\"id\":1,\"cmd\":x\xc3\xa9\xe9}",
		"\xff\xfe",
		"{\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
		NULL,
	};
	json_t *req, *id;
	const char *cmd, *code;
	char *msg;
	int i;

	for (i = 0; lines[i] != NULL; i++) {
		assert_int_equal(protocol_decode(lines[i], strlen(lines[i]),
		    &req, &id, &cmd, &code, &msg), -1);
		assert_string_equal(code, TEND_ERR_BAD_REQUEST);
		assert_true(utf8_valid(msg, strlen(msg)));
		assert_non_null(strstr(msg, "not JSON"));
		free(msg);
		json_decref(id);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_clean_repairs),
		cmocka_unit_test(test_clean_cuts_between_characters),
		cmocka_unit_test(test_clean_of_a_cut_string),
		cmocka_unit_test(test_partial_tail),
		cmocka_unit_test(test_dup),
		cmocka_unit_test(test_printable),
		cmocka_unit_test(test_protocol_string),
		cmocka_unit_test(test_decode_error_is_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
