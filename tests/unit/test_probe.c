/* test_probe.c: probe specs as `ready` and `healthcheck` read them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tendd.h"

/* S parses for FLAGS as KIND; the spec is returned (NULL: none). */
static struct probe_spec *
ok(const char *s, int flags, enum probe_kind want)
{
	struct probe_spec *sp = NULL;
	enum probe_kind kind;
	char *why = NULL;

	if (probe_spec_parse(s, flags, &kind, &sp, &why) != 0)
		fail_msg("%s: %s", s, why);
	assert_int_equal(kind, want);
	assert_int_equal(probe_spec_kind(sp), sp != NULL ? want : PROBE_NONE);
	return sp;
}

/* S is refused for FLAGS with exactly WANT. */
static void
bad(const char *s, int flags, const char *want)
{
	struct probe_spec *sp = NULL;
	enum probe_kind kind;
	char *why = NULL;

	assert_int_equal(probe_spec_parse(s, flags, &kind, &sp, &why), -1);
	assert_null(sp);
	assert_non_null(why);
	if (strcmp(why, want) != 0)
		fail_msg("%s: got \"%s\", wanted \"%s\"", s, why, want);
	free(why);
}

static void
test_words(void **state)
{
	assert_null(ok("none", PROBE_FOR_READY, PROBE_NONE));
	assert_null(ok("NONE", 0, PROBE_NONE));
	assert_null(ok("notify", PROBE_FOR_READY, PROBE_NOTIFY));
	assert_null(ok("Notify", PROBE_FOR_READY, PROBE_NOTIFY));
	/* a word alone keeps the message it always had */
	bad("sometimes", PROBE_FOR_READY, "expected none or notify, got "
	    "'sometimes'");
	/* notify and log are for ready only */
	bad("notify", 0, "expected none, tcp:HOST:PORT, "
	    "http://HOST[:PORT]/PATH or exec:COMMAND, got 'notify'");
	bad("log:x", 0, "expected none, tcp:HOST:PORT, "
	    "http://HOST[:PORT]/PATH or exec:COMMAND, got 'log:x'");
	bad("udp:1.2.3.4:5", PROBE_FOR_READY, "expected none, notify, "
	    "tcp:HOST:PORT, http://HOST[:PORT]/PATH, exec:COMMAND or "
	    "log:REGEX, got 'udp:1.2.3.4:5'");
}

static void
test_tcp(void **state)
{
	struct probe_spec *sp;

	sp = ok("tcp:127.0.0.1:5432", 0, PROBE_TCP);
	assert_string_equal(probe_spec_host(sp), "127.0.0.1");
	assert_int_equal(probe_spec_port(sp), 5432);
	probe_spec_free(sp);
	sp = ok("TCP:db.example:1", PROBE_FOR_READY, PROBE_TCP);
	assert_string_equal(probe_spec_host(sp), "db.example");
	assert_int_equal(probe_spec_port(sp), 1);
	probe_spec_free(sp);
	sp = ok("tcp:[::1]:65535", 0, PROBE_TCP);
	assert_string_equal(probe_spec_host(sp), "::1");
	assert_int_equal(probe_spec_port(sp), 65535);
	probe_spec_free(sp);

	bad("tcp:localhost", 0, "expected tcp:HOST:PORT, got 'localhost'");
	bad("tcp::80", 0, "expected tcp:HOST:PORT, got ':80'");
	bad("tcp:h:0", 0, "expected tcp:HOST:PORT, got 'h:0'");
	bad("tcp:h:65536", 0, "expected tcp:HOST:PORT, got 'h:65536'");
	bad("tcp:h:8x", 0, "expected tcp:HOST:PORT, got 'h:8x'");
	bad("tcp:a b:80", 0, "expected tcp:HOST:PORT, got 'a b:80'");
	bad("tcp:[::1:80", 0, "expected tcp:HOST:PORT, got '[::1:80'");
	bad("tcp:", 0, "expected tcp:HOST:PORT, got ''");
}

static void
test_http(void **state)
{
	struct probe_spec *sp;

	sp = ok("http://127.0.0.1:8080/healthz?full=1", 0, PROBE_HTTP);
	assert_string_equal(probe_spec_host(sp), "127.0.0.1");
	assert_int_equal(probe_spec_port(sp), 8080);
	assert_string_equal(probe_spec_path(sp), "/healthz?full=1");
	probe_spec_free(sp);
	sp = ok("http://localhost", PROBE_FOR_READY, PROBE_HTTP);
	assert_int_equal(probe_spec_port(sp), 80);
	assert_string_equal(probe_spec_path(sp), "/");
	probe_spec_free(sp);
	sp = ok("http://[::1]:81/x", 0, PROBE_HTTP);
	assert_string_equal(probe_spec_host(sp), "::1");
	assert_int_equal(probe_spec_port(sp), 81);
	probe_spec_free(sp);

	bad("http:///x", 0, "expected http://HOST[:PORT]/PATH, got ''");
	bad("http://h:99999/", 0, "expected http://HOST[:PORT]/PATH, got "
	    "'h:99999'");
	bad("http://h/a b", 0, "the path of http://h/a b has blanks or "
	    "control characters (write them as %20 ...)");
	bad("https://h/", 0, "https is not supported (probe the plain HTTP "
	    "port, or use exec: with a client), got 'https://h/'");
}

static void
test_exec(void **state)
{
	struct probe_spec *sp;
	char *const *argv;

	sp = ok("exec:pg_isready -h 'a b' -q", 0, PROBE_EXEC);
	argv = probe_spec_argv(sp);
	assert_string_equal(argv[0], "pg_isready");
	assert_string_equal(argv[1], "-h");
	assert_string_equal(argv[2], "a b");
	assert_string_equal(argv[3], "-q");
	assert_null(argv[4]);
	probe_spec_free(sp);

	bad("exec:", 0, "exec: empty command");
	bad("exec:'open", PROBE_FOR_READY, "exec: unterminated single quote (opened at character 1)");
}

static void
test_log(void **state)
{
	struct probe_spec *sp;

	sp = ok("log:listening on (port )?[0-9]+$", PROBE_FOR_READY, PROBE_LOG);
	assert_true(probe_spec_matches(sp, "2024 server listening on 8080"));
	assert_true(probe_spec_matches(sp, "listening on port 1"));
	assert_false(probe_spec_matches(sp, "listening on 8080 soon"));
	assert_false(probe_spec_matches(sp, "starting"));
	probe_spec_free(sp);

	bad("log:", PROBE_FOR_READY, "log: needs a regular expression");
	bad("log:(", PROBE_FOR_READY, "log: not a regular expression: "
	    "Unmatched ( or \\(");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_log),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
