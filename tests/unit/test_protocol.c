/* test_protocol.c: the checks every request line passes before a handler. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "protocol.h"
#include "util.h"

struct decoded {
	int		 rc;
	json_t		*req;
	json_t		*id;
	const char	*cmd;
	const char	*code;
	char		*msg;
};

static struct decoded
decode(const char *line)
{
	struct decoded d = { 0 };

	d.rc = protocol_decode(line, strlen(line), &d.req, &d.id, &d.cmd,
	    &d.code, &d.msg);
	return d;
}

static void
done(struct decoded *d)
{
	json_decref(d->req);
	json_decref(d->id);
	if (d->rc == -1)
		free(d->msg);
}

static void
test_good_request(void **state)
{
	struct decoded d = decode("{\"id\": 7, \"cmd\": \"status\", "
	    "\"names\": [\"web\"]}");

	assert_int_equal(d.rc, 0);
	assert_string_equal(d.cmd, "status");
	assert_int_equal(json_integer_value(d.id), 7);
	assert_true(json_is_array(json_object_get(d.req, "names")));
	done(&d);
}

static void
test_id_any_value_and_absent(void **state)
{
	struct decoded d = decode("{\"id\": \"abc\", \"cmd\": \"version\"}");

	assert_int_equal(d.rc, 0);
	assert_string_equal(json_string_value(d.id), "abc");
	done(&d);
	d = decode("{\"cmd\": \"version\"}");
	assert_int_equal(d.rc, 0);
	assert_true(json_is_null(d.id));
	done(&d);
}

static void
test_bad_json(void **state)
{
	static const char *const bad[] = {
		"", "{", "not json", "{\"id\": 1, \"cmd\": }", "{\"a\":1}x",
		"{\"id\": 1, \"id\": 2, \"cmd\": \"x\"}",	/* duplicate key */
	};
	size_t i;

	for (i = 0; i < nitems(bad); i++) {
		struct decoded d = decode(bad[i]);

		assert_int_equal(d.rc, -1);
		assert_string_equal(d.code, TEND_ERR_BAD_REQUEST);
		assert_non_null(strstr(d.msg, "not JSON"));
		assert_true(json_is_null(d.id));
		done(&d);
	}
}

static void
test_not_an_object(void **state)
{
	struct decoded d = decode("[1, 2]");

	assert_int_equal(d.rc, -1);
	assert_string_equal(d.code, TEND_ERR_BAD_REQUEST);
	done(&d);
	d = decode("42");
	assert_int_equal(d.rc, -1);
	done(&d);
}

static void
test_cmd_missing_or_wrong_type(void **state)
{
	struct decoded d = decode("{\"id\": 3}");

	assert_int_equal(d.rc, -1);
	assert_string_equal(d.code, TEND_ERR_MISSING);
	/* the id is still echoed, so the client can match the error */
	assert_int_equal(json_integer_value(d.id), 3);
	done(&d);
	d = decode("{\"id\": 4, \"cmd\": 12}");
	assert_int_equal(d.rc, -1);
	assert_string_equal(d.code, TEND_ERR_BAD_REQUEST);
	assert_int_equal(json_integer_value(d.id), 4);
	done(&d);
}

static void
test_too_long(void **state)
{
	size_t n = TEND_MAX_LINE + 1;
	char *line = xmalloc(n + 1);
	struct decoded d = { 0 };

	memset(line, ' ', n);
	line[n] = '\0';
	d.rc = protocol_decode(line, n, &d.req, &d.id, &d.cmd, &d.code,
	    &d.msg);
	assert_int_equal(d.rc, -1);
	assert_string_equal(d.code, TEND_ERR_TOO_LONG);
	done(&d);
	free(line);
}

static void
test_embedded_nul(void **state)
{
	static const char line[] = "{\"cmd\": \"status\"}\0garbage";
	struct decoded d = { 0 };

	/* a NUL inside the line is not JSON: refuse, never truncate */
	d.rc = protocol_decode(line, sizeof(line) - 1, &d.req, &d.id, &d.cmd,
	    &d.code, &d.msg);
	assert_int_equal(d.rc, -1);
	done(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_request),
		cmocka_unit_test(test_id_any_value_and_absent),
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_cmd_missing_or_wrong_type),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_embedded_nul),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
