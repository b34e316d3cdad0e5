/*
 * test_jsonw.c: the JSON writer of status replies: separators, string
 * escaping, UTF-8 repair, numbers, and that jansson reads back exactly
 * what was meant.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonw.h"
#include "utf8.h"

/* W's text as a C string (the writer's buffer has no NUL). */
static char *
text_of(struct jsonw *w)
{
	char *s = malloc(w->len + 1);

	assert_non_null(s);
	memcpy(s, w->buf, w->len);
	s[w->len] = '\0';
	return s;
}

/* One string value written: its JSON text. */
static char *
string_text(const char *s, size_t len)
{
	struct jsonw w;
	char *t;

	jsonw_init(&w, 0);
	jsonw_stringn(&w, s, len);
	t = text_of(&w);
	jsonw_free(&w);
	return t;
}

static char *
real_text(double v)
{
	struct jsonw w;
	char *t;

	jsonw_init(&w, 0);
	jsonw_real(&w, v);
	t = text_of(&w);
	jsonw_free(&w);
	return t;
}

/* What jansson reads from TEXT as one string value; NULL when not one. */
static json_t *
load(const char *text)
{
	json_error_t err;

	return json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
}

static void
assert_string_text(const char *in, size_t len, const char *want)
{
	char *t = string_text(in, len);

	assert_string_equal(t, want);
	free(t);
}

static void
test_escapes(void **state)
{
	assert_string_text("", 0, "\"\"");
	assert_string_text("plain text", 10, "\"plain text\"");
	assert_string_text("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
	assert_string_text("\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"");
	assert_string_text("\x01\x1f", 2, "\"\\u0001\\u001f\"");
	assert_string_text("a\0b", 3, "\"a\\u0000b\"");
	/* DEL and the slash need no escape */
	assert_string_text("\x7f/", 2, "\"\x7f/\"");
}

static void
test_utf8(void **state)
{
	/* well-formed UTF-8 of every length passes as it is */
	assert_string_text("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9,
	    "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	/* each byte that is not is U+FFFD */
	assert_string_text("\xff", 1, "\"\xef\xbf\xbd\"");
	assert_string_text("a\x80z", 3, "\"a\xef\xbf\xbdz\"");
	/* overlong, surrogate, beyond U+10FFFF, cut short */
	assert_string_text("\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"");
	assert_string_text("\xe0\x80\xaf", 3,
	    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	assert_string_text("\xed\xa0\x80", 3,
	    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	assert_string_text("\xf4\x90\x80\x80", 4,
	    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	assert_string_text("\xe2\x82", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"");
	/* a bad lead does not swallow the good character after it */
	assert_string_text("\xe2\xc3\xa9", 3, "\"\xef\xbf\xbd\xc3\xa9\"");
	/* the check itself (tail's text encoding uses it too) */
	assert_int_equal(utf8_len((const unsigned char *)"a", 1), 1);
	assert_int_equal(utf8_len((const unsigned char *)"\xc3\xa9", 2), 2);
	assert_int_equal(utf8_len((const unsigned char *)"\xc3\xa9", 1), 0);
	assert_int_equal(utf8_len((const unsigned char *)
	    "\xf0\x9f\x98\x80", 4), 4);
	assert_int_equal(utf8_len((const unsigned char *)"\x80", 1), 0);
}

/* Every single byte, and pairs of them, read back by jansson. */
static void
test_round_trip_bytes(void **state)
{
	char in[3], *t;
	json_t *j;
	int a, b;

	for (a = 0; a < 256; a++) {
		for (b = 0; b < 256; b++) {
			in[0] = (char)a;
			in[1] = (char)b;
			in[2] = 'x';
			t = string_text(in, 3);
			j = load(t);
			assert_non_null(j);
			assert_true(json_is_string(j));
			/* ASCII comes back byte for byte */
			if (a < 0x80 && b < 0x80) {
				assert_int_equal(json_string_length(j), 3);
				assert_memory_equal(json_string_value(j), in, 3);
			}
			json_decref(j);
			free(t);
		}
	}
}

static void
test_objects_and_separators(void **state)
{
	struct jsonw w;
	char *t;

	jsonw_init(&w, 4);
	jsonw_open(&w, '{');
	jsonw_key(&w, "id");
	jsonw_raw(&w, "[1,\"a:\"]", 8);
	jsonw_key(&w, "ok");
	jsonw_bool(&w, 1);
	jsonw_key(&w, "list");
	jsonw_open(&w, '[');
	jsonw_open(&w, '{');
	jsonw_close(&w, '}');
	jsonw_open(&w, '{');
	jsonw_key(&w, "k\"");
	jsonw_null(&w);
	jsonw_key(&w, "f");
	jsonw_bool(&w, 0);
	jsonw_key(&w, "s");
	jsonw_string(&w, NULL);
	jsonw_close(&w, '}');
	jsonw_int(&w, -7);
	jsonw_string(&w, "x");
	jsonw_close(&w, ']');
	jsonw_close(&w, '}');
	t = text_of(&w);
	assert_string_equal(t, "{\"id\":[1,\"a:\"],\"ok\":true,\"list\":[{},"
	    "{\"k\\\"\":null,\"f\":false,\"s\":null},-7,\"x\"]}");
	free(t);
	jsonw_free(&w);
	assert_null(w.buf);
}

static void
test_integers(void **state)
{
	static const long long v[] = { 0, 1, -1, 9, 10, 4127, -9, INT_MAX,
	    INT_MIN, LLONG_MAX, LLONG_MIN };
	struct jsonw w;
	char *t, want[32];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		jsonw_init(&w, 0);
		jsonw_int(&w, v[i]);
		t = text_of(&w);
		snprintf(want, sizeof(want), "%lld", v[i]);
		assert_string_equal(t, want);
		free(t);
		jsonw_free(&w);
	}
}

static void
test_reals(void **state)
{
	static const struct {
		double		 v;
		const char	*text;
	} cases[] = {
		{ 0.0, "0.0" },
		{ -0.0, "0.0" },
		{ -0.0000001, "0.0" },
		{ 1.0, "1.0" },
		{ 2.5, "2.5" },
		{ 0.000001, "0.000001" },
		{ 12.3456789, "12.345679" },
		{ -3.000001, "-3.000001" },
		{ 59.9999996, "60.0" },
		{ 1700000000.123456, "1700000000.123456" },
		{ 1e20, "1e+20" },
		{ -1e20, "-1e+20" },
	};
	char *t;
	json_t *j;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = real_text(cases[i].v);
		assert_string_equal(t, cases[i].text);
		/* a real for jansson (and Python), never an integer */
		j = load(t);
		assert_true(json_is_real(j));
		json_decref(j);
		free(t);
	}
	t = real_text(NAN);
	assert_string_equal(t, "0.0");
	free(t);
	t = real_text(-INFINITY);
	assert_string_equal(t, "0.0");
	free(t);
	/* microseconds come back to within half of one */
	for (i = 0; i < 1000; i++) {
		double v = (double)i * 1234.567891234 - 40000.0;

		t = real_text(v);
		j = load(t);
		assert_true(fabs(json_real_value(j) - v) <= 0.51e-6);
		json_decref(j);
		free(t);
	}
}

/* Grows from nothing to far beyond any first guess. */
static void
test_growth(void **state)
{
	struct jsonw w;
	json_t *j;
	size_t i;
	char *t;

	jsonw_init(&w, 0);
	jsonw_open(&w, '[');
	for (i = 0; i < 20000; i++)
		jsonw_string(&w, "\x01\xff\"\\ a status line of some length");
	jsonw_close(&w, ']');
	t = text_of(&w);
	j = load(t);
	assert_non_null(j);
	assert_int_equal(json_array_size(j), 20000);
	assert_string_equal(json_string_value(json_array_get(j, 19999)),
	    "\x01\xef\xbf\xbd\"\\ a status line of some length");
	json_decref(j);
	free(t);
	jsonw_free(&w);
}

/*
 * A writer that cannot get memory is failed: it says so, writes nothing
 * more, and never aborts (a status reply then costs its connection).
 */
static void
test_failure_is_reported(void **state)
{
	struct jsonw w;

	jsonw_init(&w, 0);
	jsonw_open(&w, '[');
	jsonw_string(&w, "before");
	assert_false(w.failed);
	/* more than SIZE_MAX / 6 bytes: the room cannot even be counted */
	jsonw_stringn(&w, "x", SIZE_MAX / 2);
	assert_true(w.failed);
	jsonw_string(&w, "after");
	jsonw_close(&w, ']');
	assert_true(w.failed);
	assert_int_equal(w.len, strlen("[\"before\","));
	jsonw_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_round_trip_bytes),
		cmocka_unit_test(test_objects_and_separators),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_reals),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_failure_is_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
