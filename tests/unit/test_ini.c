/* test_ini.c: the INI reader (common/ini.c) over libinih's limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ini.h"
#include "util.h"

struct rec {
	char	*section;
	char	*key;		/* NULL: a section header */
	char	*value;
	int	 line;
};

struct result {
	struct rec	 recs[256];
	int		 n;
	int		 err_lines[256];
	char		*err_what[256];
	int		 nerr;
};

static void
on_entry(void *arg, const char *section, const char *key, const char *value,
    int line)
{
	struct result *r = arg;
	struct rec *rec;

	assert_true(r->n < 256);
	rec = &r->recs[r->n++];
	rec->section = xstrdup(section);
	rec->key = key != NULL ? xstrdup(key) : NULL;
	rec->value = value != NULL ? xstrdup(value) : NULL;
	rec->line = line;
	assert_true((key == NULL) == (value == NULL));
}

static void
on_error(void *arg, int line, const char *what)
{
	struct result *r = arg;

	assert_true(r->nerr < 256);
	r->err_lines[r->nerr] = line;
	r->err_what[r->nerr++] = xstrdup(what);
}

static void
result_free(struct result *r)
{
	int i;

	for (i = 0; i < r->n; i++) {
		free(r->recs[i].section);
		free(r->recs[i].key);
		free(r->recs[i].value);
	}
	for (i = 0; i < r->nerr; i++)
		free(r->err_what[i]);
	memset(r, 0, sizeof(*r));
}

static void
parse_len(struct result *r, const char *text, size_t len)
{
	char *cause = NULL;

	memset(r, 0, sizeof(*r));
	assert_int_equal(ini_read_buffer(text, len, on_entry, on_error, r,
	    &cause), 0);
	assert_null(cause);
}

static void
parse(struct result *r, const char *text)
{
	parse_len(r, text, strlen(text));
}

/* The key record KEY in SECTION; fails the test when absent. */
static const struct rec *
find(const struct result *r, const char *section, const char *key)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (r->recs[i].key != NULL &&
		    strcmp(r->recs[i].section, section) == 0 &&
		    strcmp(r->recs[i].key, key) == 0)
			return &r->recs[i];
	fail_msg("no key %s in [%s]", key, section);
	return NULL;
}

static void
assert_key(const struct result *r, const char *section, const char *key,
    const char *value, int line)
{
	const struct rec *rec = find(r, section, key);

	assert_string_equal(rec->value, value);
	assert_int_equal(rec->line, line);
}

static void
test_basic(void **state)
{
	struct result r;

	parse(&r,
	    "top = 1\n"
	    "[one]\n"
	    "a=1\n"
	    "b : two words \n"
	    "c = x=y:z\n"
	    "[empty]\n"
	    "[  spaced name  ]\n"
	    "d=\n"
	    "[one]\n"
	    "e=5");
	assert_int_equal(r.nerr, 0);
	assert_int_equal(r.n, 10);
	assert_key(&r, "", "top", "1", 1);
	assert_null(r.recs[1].key);
	assert_string_equal(r.recs[1].section, "one");
	assert_int_equal(r.recs[1].line, 2);
	assert_key(&r, "one", "a", "1", 3);
	assert_key(&r, "one", "b", "two words", 4);
	assert_key(&r, "one", "c", "x=y:z", 5);
	/* An empty section is still seen. */
	assert_null(r.recs[5].key);
	assert_string_equal(r.recs[5].section, "empty");
	assert_int_equal(r.recs[5].line, 6);
	assert_string_equal(r.recs[6].section, "spaced name");
	assert_key(&r, "spaced name", "d", "", 8);
	/* A repeated header is reported again; no trailing newline needed. */
	assert_string_equal(r.recs[8].section, "one");
	assert_int_equal(r.recs[8].line, 9);
	assert_key(&r, "one", "e", "5", 10);
	result_free(&r);
}

static void
test_comments(void **state)
{
	struct result r;

	parse(&r,
	    "; comment\n"
	    "# comment\n"
	    "   ; indented comment\n"
	    "\t# indented comment\n"
	    "[s] ; after a header\n"
	    "a = 1 ; semicolon comment\n"
	    "b = 2 # hash comment\n"
	    "c = x;y#z\n"
	    "d = sh -c 'echo a; echo b'\n"
	    "e = v\t#tab before\n"
	    "f = ;all comment\n"
	    "g=#\n");
	assert_int_equal(r.nerr, 0);
	assert_key(&r, "s", "a", "1", 6);
	assert_key(&r, "s", "b", "2", 7);
	assert_key(&r, "s", "c", "x;y#z", 8);
	assert_key(&r, "s", "d", "sh -c 'echo a; echo b'", 9);
	assert_key(&r, "s", "e", "v", 10);
	assert_key(&r, "s", "f", "", 11);
	assert_key(&r, "s", "g", "#", 12);
	result_free(&r);
}

static void
test_continuation(void **state)
{
	struct result r;

	parse(&r,
	    "[s]\n"
	    "a = first\n"
	    "  second\n"
	    "\tthird ; comment\n"
	    "\n"
	    "  ; a comment inside\n"
	    "  fourth\n"
	    "b =\n"
	    "  x\n"
	    "  y\n"
	    "  c = 1\n"
	    "  d = 2\n"
	    "    more\n"
	    "e = 3\n"
	    "  [not a section]\n"
	    "[t]\n"
	    "  f = 4\n");
	assert_int_equal(r.nerr, 0);
	assert_key(&r, "s", "a", "first\nsecond\nthird\nfourth", 2);
	/* A value starting on the next line does not start with "\n". */
	assert_key(&r, "s", "b", "x\ny\nc = 1\nd = 2\nmore", 8);
	assert_key(&r, "s", "e", "3\n[not a section]", 14);
	/* Indented keys: configparser continues only deeper lines. */
	assert_key(&r, "t", "f", "4", 17);
	result_free(&r);

	parse(&r,
	    "[s]\n"
	    "  a = 1\n"
	    "  b = 2\n"
	    "     c\n");
	assert_int_equal(r.nerr, 0);
	assert_key(&r, "s", "a", "1", 2);
	assert_key(&r, "s", "b", "2\nc", 3);
	result_free(&r);
}

static void
test_crlf_bom(void **state)
{
	struct result r;

	parse(&r,
	    "\xef\xbb\xbf[s]\r\n"
	    "a = 1\r\n"
	    "b = two ; c\r\n"
	    "  more\r\n"
	    "\r\n"
	    "c=3\r");
	assert_int_equal(r.nerr, 0);
	assert_string_equal(r.recs[0].section, "s");
	assert_key(&r, "s", "a", "1", 2);
	assert_key(&r, "s", "b", "two\nmore", 3);
	assert_key(&r, "s", "c", "3", 6);
	result_free(&r);

	/* A BOM before a key on line 1 is not part of the key. */
	parse(&r, "\xef\xbb\xbfk=v\n");
	assert_int_equal(r.nerr, 0);
	assert_key(&r, "", "k", "v", 1);
	result_free(&r);
}

static void
test_long_value(void **state)
{
	struct result r;
	size_t big = 64 * 1024, i;
	char *text, *value, *more, *p;

	value = xmalloc(big + 1);
	for (i = 0; i < big; i++)
		value[i] = 'a' + i % 26;
	value[big] = '\0';
	value[100] = '=';	/* libinih must not see this one */
	value[300] = ':';
	value[500] = '[';
	more = xmalloc(big + 1);
	memset(more, 'm', big);
	more[big] = '\0';
	xasprintf(&text,
	    "[s]\n"
	    "long = %s\n"
	    "after = 1\n"
	    "cont = short\n"
	    "  %s\n"
	    "  tail\n"
	    "last = 2 ; %s\n"
	    "[t]\n"
	    "x = %s\n", value, more, value, more);
	parse(&r, text);
	assert_int_equal(r.nerr, 0);
	assert_key(&r, "s", "long", value, 2);
	assert_key(&r, "s", "after", "1", 3);
	xasprintf(&p, "short\n%s\ntail", more);
	assert_key(&r, "s", "cont", p, 4);
	free(p);
	assert_key(&r, "s", "last", "2", 7);
	assert_key(&r, "t", "x", more, 9);
	assert_int_equal(r.n, 7);
	result_free(&r);
	free(text);

	/* Long lines are still checked for syntax, with the right line. */
	xasprintf(&text, "[s]\n%s\nok = 1\n%s\n", more, more);
	parse(&r, text);
	assert_int_equal(r.nerr, 2);
	assert_int_equal(r.err_lines[0], 2);
	assert_int_equal(r.err_lines[1], 4);
	assert_key(&r, "s", "ok", "1", 3);
	result_free(&r);
	free(text);
	free(value);
	free(more);
}

static void
test_long_names(void **state)
{
	struct result r;
	char sec1[201], sec2[201], key[201], key2[201];
	char *text;

	memset(sec1, 'p', 200);
	sec1[200] = '\0';
	memcpy(sec1, "program:", 8);
	memcpy(sec2, sec1, 201);
	sec2[199] = 'q';	/* same first 199 bytes */
	memset(key, 'k', 200);
	key[200] = '\0';
	memcpy(key2, key, 201);
	key2[199] = 'x';
	xasprintf(&text,
	    "[%s]\n"
	    "%s = 1\n"
	    "%s = 2\n"
	    "  cont\n"
	    "[%s]\n"
	    "%s = 3\n"
	    "short = 4\n", sec1, key, key2, sec2, key);
	parse(&r, text);
	assert_int_equal(r.nerr, 0);
	assert_int_equal(r.n, 6);
	assert_string_equal(r.recs[0].section, sec1);
	assert_key(&r, sec1, key, "1", 2);
	assert_key(&r, sec1, key2, "2\ncont", 3);
	assert_null(r.recs[3].key);
	assert_string_equal(r.recs[3].section, sec2);
	assert_int_equal(r.recs[3].line, 5);
	assert_key(&r, sec2, key, "3", 6);
	assert_key(&r, sec2, "short", "4", 7);
	result_free(&r);
	free(text);
}

static void
test_placeholder_text(void **state)
{
	struct result r;

	/* Text that looks like our placeholders is just text. */
	parse(&r,
	    "[\001s]\n"
	    "\001k = \001v\n"
	    "a = \001v\n"
	    "  \001v\n");
	assert_int_equal(r.nerr, 0);
	assert_key(&r, "\001s", "\001k", "\001v", 2);
	assert_key(&r, "\001s", "a", "\001v\n\001v", 3);
	result_free(&r);
}

static void
test_syntax_errors(void **state)
{
	struct result r;
	static const char text[] =
	    "[s]\n"
	    "a = 1\n"
	    "just words\n"
	    "[unclosed\n"
	    "[]\n"
	    "= value\n"
	    "[s] trailing\n"
	    "b = 2\n"
	    "[x ; comment]\n"
	    "c\0d = 3\n"
	    "e = 4\n";

	parse_len(&r, text, sizeof(text) - 1);
	/* Every bad line, not just the first; good lines still read. */
	assert_int_equal(r.nerr, 7);
	assert_int_equal(r.err_lines[0], 3);
	assert_string_equal(r.err_what[0], "expected 'key = value' or "
	    "'[section]'");
	assert_int_equal(r.err_lines[1], 4);
	assert_string_equal(r.err_what[1], "missing ']' at the end of the "
	    "section header");
	assert_int_equal(r.err_lines[2], 5);
	assert_string_equal(r.err_what[2], "empty section name");
	assert_int_equal(r.err_lines[3], 6);
	assert_string_equal(r.err_what[3], "missing key name before '='");
	assert_int_equal(r.err_lines[4], 7);
	assert_string_equal(r.err_what[4], "unexpected text after ']'");
	assert_int_equal(r.err_lines[5], 9);
	assert_int_equal(r.err_lines[6], 10);
	assert_string_equal(r.err_what[6], "the line contains a NUL byte");
	/* Keys under a broken header go nowhere, not to the section before. */
	assert_int_equal(r.n, 2);
	assert_key(&r, "s", "a", "1", 2);
	result_free(&r);

	parse(&r,
	    "[s]\n"
	    "a = 1\n"
	    "  more\n"
	    "[broken\n"
	    "  b = 2\n"
	    "c = 3\n"
	    "  c continued\n"
	    "[t]\n"
	    "d = 4\n");
	assert_int_equal(r.nerr, 1);
	assert_int_equal(r.err_lines[0], 4);
	assert_int_equal(r.n, 4);
	assert_key(&r, "s", "a", "1\nmore", 2);
	assert_null(r.recs[2].key);
	assert_string_equal(r.recs[2].section, "t");
	assert_key(&r, "t", "d", "4", 9);
	result_free(&r);
}

static void
test_empty(void **state)
{
	struct result r;

	parse(&r, "");
	assert_int_equal(r.n, 0);
	assert_int_equal(r.nerr, 0);
	parse(&r, "\n\n; only comments\n   \n");
	assert_int_equal(r.n, 0);
	assert_int_equal(r.nerr, 0);
}

static void
test_file(void **state)
{
	struct result r;
	char path[] = "/tmp/test_ini.XXXXXX";
	char *cause = NULL;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("[a]\nk = v\n  w\n", f);
	fclose(f);
	memset(&r, 0, sizeof(r));
	assert_int_equal(ini_read_file(path, on_entry, on_error, &r, &cause),
	    0);
	assert_key(&r, "a", "k", "v\nw", 2);
	result_free(&r);
	unlink(path);

	assert_int_equal(ini_read_file(path, on_entry, on_error, &r, &cause),
	    -1);
	assert_non_null(strstr(cause, "No such file or directory"));
	assert_non_null(strstr(cause, path));
	free(cause);
	assert_int_equal(ini_read_file("/", on_entry, NULL, &r, &cause), -1);
	assert_non_null(strstr(cause, "Is a directory"));
	free(cause);
	assert_int_equal(r.n, 0);
}

/* Nothing in the input may crash the reader (run under ASan). */
static void
test_garbage(void **state)
{
	static const char alphabet[] = "[]=:;# \t\r\n\001\357\273\277ab\\\"'";
	struct result r;
	unsigned int seed = 12345;
	char buf[4096];
	size_t len, i;
	int round;

	for (round = 0; round < 3000; round++) {
		len = (seed = seed * 1103515245 + 12345) % sizeof(buf);
		for (i = 0; i < len; i++) {
			seed = seed * 1103515245 + 12345;
			if (round % 3 == 0)
				buf[i] = (char)(seed >> 16);
			else
				buf[i] = alphabet[(seed >> 16) %
				    (sizeof(alphabet))];
		}
		/* Long runs, so that placeholders are used too. */
		if (round % 5 == 0 && len > 600)
			memset(buf + 50, 'x', 500);
		parse_len(&r, buf, len);
		for (i = 0; i < (size_t)r.n; i++)
			assert_true(r.recs[i].line >= 1);
		/* libinih never disagrees with our reading of a line. */
		for (i = 0; i < (size_t)r.nerr; i++)
			assert_string_not_equal(r.err_what[i],
			    "cannot parse this line");
		result_free(&r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_continuation),
		cmocka_unit_test(test_crlf_bom),
		cmocka_unit_test(test_long_value),
		cmocka_unit_test(test_long_names),
		cmocka_unit_test(test_placeholder_text),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
