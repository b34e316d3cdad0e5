/*
 * test_command.c: dispatch's checks of a request (command_check), for
 * every row of the command table: each field the row declares, given the
 * wrong type or left out when required, gets the error reply
 * docs/protocol.md documents, in the row's order; an unknown command
 * gets unknown_command; the shutdown refusal comes where it always did.
 * No process is touched: the names are matched after these checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"

/* One request line and what command_check must say of it. */
struct check_case {
	const char	*line;
	int		 shutting_down;
	const char	*code;		/* NULL: accepted */
	const char	*msg;
};

#define NAMES_MISSING	"no process named: give names, or all"

static const struct check_case cases[] = {
	/* the request itself (protocol_decode) and the command's name */
	{ "[1]", 0, TEND_ERR_BAD_REQUEST, "a request is a JSON object" },
	{ "{\"id\": 1}", 0, TEND_ERR_MISSING, "no cmd in the request" },
	{ "{\"cmd\": 5}", 0, TEND_ERR_BAD_REQUEST, "cmd must be a string" },
	{ "{\"cmd\": \"nope\"}", 0, TEND_ERR_UNKNOWN_CMD,
	  "unknown command: nope" },
	{ "{\"cmd\": \"Status\"}", 0, TEND_ERR_UNKNOWN_CMD,
	  "unknown command: Status" },
	/* version, shutdown, reopen: no fields; unknown ones are ignored */
	{ "{\"cmd\": \"version\", \"names\": 5}", 0, NULL, NULL },
	{ "{\"cmd\": \"shutdown\"}", 1, NULL, NULL },
	{ "{\"cmd\": \"reopen\", \"x\": []}", 0, NULL, NULL },
	/* status: rows, fields, names; all optional */
	{ "{\"cmd\": \"status\"}", 1, NULL, NULL },
	{ "{\"cmd\": \"status\", \"rows\": 1}", 0, TEND_ERR_BAD_REQUEST,
	  "rows must be true or false" },
	{ "{\"cmd\": \"status\", \"fields\": \"name\"}", 0,
	  TEND_ERR_BAD_REQUEST, "fields must be a list of strings" },
	{ "{\"cmd\": \"status\", \"fields\": [\"name\", 1]}", 0,
	  TEND_ERR_BAD_REQUEST, "fields must be a list of strings" },
	{ "{\"cmd\": \"status\", \"fields\": [\"bogus\"]}", 0,
	  TEND_ERR_BAD_REQUEST, "unknown field: bogus" },
	{ "{\"cmd\": \"status\", \"fields\": [\"pid\", \"pid\"]}", 0,
	  TEND_ERR_BAD_REQUEST, "repeated field: pid" },
	{ "{\"cmd\": \"status\", \"names\": \"web\"}", 0,
	  TEND_ERR_BAD_REQUEST, "names must be a list of strings" },
	{ "{\"cmd\": \"status\", \"names\": [\"web\", 2]}", 0,
	  TEND_ERR_BAD_REQUEST, "names must be a list of strings" },
	{ "{\"cmd\": \"status\", \"rows\": 0, \"fields\": 0}", 0,
	  TEND_ERR_BAD_REQUEST, "rows must be true or false" },
	/* start, restart: wait, then the shutdown refusal, then names */
	{ "{\"cmd\": \"start\"}", 0, TEND_ERR_MISSING, NAMES_MISSING },
	{ "{\"cmd\": \"start\", \"names\": []}", 0, TEND_ERR_MISSING,
	  NAMES_MISSING },
	{ "{\"cmd\": \"start\", \"names\": {}}", 0, TEND_ERR_BAD_REQUEST,
	  "names must be a list of strings" },
	{ "{\"cmd\": \"start\", \"names\": [\"a\"], \"wait\": \"no\"}", 0,
	  TEND_ERR_BAD_REQUEST, "wait must be true or false" },
	{ "{\"cmd\": \"start\", \"names\": [\"a\"]}", 1,
	  TEND_ERR_SHUTTING_DOWN, "tendd is shutting down" },
	{ "{\"cmd\": \"start\"}", 1, TEND_ERR_SHUTTING_DOWN,
	  "tendd is shutting down" },
	{ "{\"cmd\": \"start\", \"wait\": 0}", 1, TEND_ERR_BAD_REQUEST,
	  "wait must be true or false" },
	{ "{\"cmd\": \"restart\", \"names\": 3}", 1, TEND_ERR_SHUTTING_DOWN,
	  "tendd is shutting down" },
	{ "{\"cmd\": \"restart\"}", 0, TEND_ERR_MISSING, NAMES_MISSING },
	{ "{\"cmd\": \"restart\", \"names\": [5]}", 0, TEND_ERR_BAD_REQUEST,
	  "names must be a list of strings" },
	{ "{\"cmd\": \"restart\", \"names\": [\"a\"], \"wait\": null}", 0,
	  TEND_ERR_BAD_REQUEST, "wait must be true or false" },
	{ "{\"cmd\": \"restart\", \"names\": [\"a\"], \"rolling\": 1}", 0,
	  TEND_ERR_BAD_REQUEST, "rolling must be true or false" },
	{ "{\"cmd\": \"restart\", \"names\": [\"a\"], \"rolling\": true}",
	  0, NULL, NULL },
	/* stop, kill: not refused while shutting down */
	{ "{\"cmd\": \"stop\", \"names\": [\"a\"]}", 1, NULL, NULL },
	{ "{\"cmd\": \"stop\"}", 1, TEND_ERR_MISSING, NAMES_MISSING },
	{ "{\"cmd\": \"stop\", \"names\": [1]}", 1, TEND_ERR_BAD_REQUEST,
	  "names must be a list of strings" },
	{ "{\"cmd\": \"stop\", \"names\": [\"a\"], \"wait\": 1}", 0,
	  TEND_ERR_BAD_REQUEST, "wait must be true or false" },
	{ "{\"cmd\": \"kill\", \"names\": [\"a\"]}", 1, NULL, NULL },
	{ "{\"cmd\": \"kill\"}", 0, TEND_ERR_MISSING, NAMES_MISSING },
	{ "{\"cmd\": \"kill\", \"names\": \"a\"}", 0, TEND_ERR_BAD_REQUEST,
	  "names must be a list of strings" },
	{ "{\"cmd\": \"kill\", \"names\": [\"a\"], \"wait\": []}", 0,
	  TEND_ERR_BAD_REQUEST, "wait must be true or false" },
	/* tail: name, stream, lines, follow, encoding, in that order */
	{ "{\"cmd\": \"tail\"}", 0, TEND_ERR_MISSING, "tail needs a name" },
	{ "{\"cmd\": \"tail\", \"names\": [\"a\"]}", 0, TEND_ERR_MISSING,
	  "tail needs a name" },
	{ "{\"cmd\": \"tail\", \"name\": [\"a\"]}", 0, TEND_ERR_BAD_REQUEST,
	  "name must be a string" },
	{ "{\"cmd\": \"tail\", \"name\": \"a\", \"stream\": \"both\"}", 0,
	  TEND_ERR_BAD_REQUEST, "stream must be stdout or stderr" },
	{ "{\"cmd\": \"tail\", \"name\": \"a\", \"stream\": 1}", 0,
	  TEND_ERR_BAD_REQUEST, "stream must be stdout or stderr" },
	{ "{\"cmd\": \"tail\", \"name\": \"a\", \"lines\": 1.5}", 0,
	  TEND_ERR_BAD_REQUEST, "lines must be a whole number" },
	{ "{\"cmd\": \"tail\", \"name\": \"a\", \"lines\": \"9\"}", 0,
	  TEND_ERR_BAD_REQUEST, "lines must be a whole number" },
	{ "{\"cmd\": \"tail\", \"name\": \"a\", \"follow\": \"yes\"}", 0,
	  TEND_ERR_BAD_REQUEST, "follow must be true or false" },
	{ "{\"cmd\": \"tail\", \"name\": \"a\", \"encoding\": \"hex\"}", 0,
	  TEND_ERR_BAD_REQUEST, "encoding must be text or base64" },
	{ "{\"cmd\": \"tail\", \"name\": \"a\", \"encoding\": null}", 0,
	  TEND_ERR_BAD_REQUEST, "encoding must be text or base64" },
	{ "{\"cmd\": \"tail\", \"name\": 1, \"stream\": 1}", 0,
	  TEND_ERR_BAD_REQUEST, "name must be a string" },
	{ "{\"cmd\": \"tail\", \"stream\": 1}", 0, TEND_ERR_MISSING,
	  "tail needs a name" },
	{ "{\"cmd\": \"tail\", \"name\": \"a\", \"lines\": 1.5, "
	  "\"stream\": 2}", 0, TEND_ERR_BAD_REQUEST,
	  "stream must be stdout or stderr" },
	/* clear, pause, resume: names */
	{ "{\"cmd\": \"clear\"}", 0, TEND_ERR_MISSING, NAMES_MISSING },
	{ "{\"cmd\": \"clear\", \"names\": []}", 0, TEND_ERR_MISSING,
	  NAMES_MISSING },
	{ "{\"cmd\": \"clear\", \"names\": [null]}", 0, TEND_ERR_BAD_REQUEST,
	  "names must be a list of strings" },
	{ "{\"cmd\": \"pause\"}", 0, TEND_ERR_MISSING, NAMES_MISSING },
	{ "{\"cmd\": \"pause\", \"names\": true}", 0, TEND_ERR_BAD_REQUEST,
	  "names must be a list of strings" },
	{ "{\"cmd\": \"pause\", \"names\": []}", 0, TEND_ERR_MISSING,
	  NAMES_MISSING },
	{ "{\"cmd\": \"resume\"}", 0, TEND_ERR_MISSING, NAMES_MISSING },
	{ "{\"cmd\": \"resume\", \"names\": []}", 0, TEND_ERR_MISSING,
	  NAMES_MISSING },
	{ "{\"cmd\": \"resume\", \"names\": [[]]}", 0, TEND_ERR_BAD_REQUEST,
	  "names must be a list of strings" },
	/* enable, disable (spec §12): names */
	{ "{\"cmd\": \"enable\"}", 0, TEND_ERR_MISSING, NAMES_MISSING },
	{ "{\"cmd\": \"enable\", \"names\": [1]}", 0, TEND_ERR_BAD_REQUEST,
	  "names must be a list of strings" },
	{ "{\"cmd\": \"disable\"}", 0, TEND_ERR_MISSING, NAMES_MISSING },
	{ "{\"cmd\": \"disable\", \"names\": []}", 0, TEND_ERR_MISSING,
	  NAMES_MISSING },
	{ "{\"cmd\": \"disable\", \"names\": \"a\"}", 0,
	  TEND_ERR_BAD_REQUEST, "names must be a list of strings" },
	/* scale (spec §12): program, count, then the shutdown refusal */
	{ "{\"cmd\": \"scale\", \"count\": 2}", 0, TEND_ERR_MISSING,
	  "scale needs a program" },
	{ "{\"cmd\": \"scale\", \"program\": 1, \"count\": 2}", 0,
	  TEND_ERR_BAD_REQUEST, "program must be a string" },
	{ "{\"cmd\": \"scale\", \"program\": \"w\"}", 0, TEND_ERR_MISSING,
	  "scale needs a count" },
	{ "{\"cmd\": \"scale\", \"program\": \"w\", \"count\": \"2\"}", 0,
	  TEND_ERR_BAD_REQUEST, "count must be a whole number" },
	{ "{\"cmd\": \"scale\", \"program\": \"w\", \"count\": 2}", 1,
	  TEND_ERR_SHUTTING_DOWN, "tendd is shutting down" },
	/* run (spec §12) */
	{ "{\"cmd\": \"run\"}", 0, TEND_ERR_MISSING, "run needs a command" },
	{ "{\"cmd\": \"run\", \"argv\": []}", 0, TEND_ERR_BAD_REQUEST,
	  "argv must be a list of strings" },
	{ "{\"cmd\": \"run\", \"argv\": [\"a\", 1]}", 0,
	  TEND_ERR_BAD_REQUEST, "argv must be a list of strings" },
	{ "{\"cmd\": \"run\", \"argv\": [\"a\"], \"name\": 1}", 0,
	  TEND_ERR_BAD_REQUEST, "name must be a string" },
	{ "{\"cmd\": \"run\", \"argv\": [\"a\"], \"env\": \"A=1\"}", 0,
	  TEND_ERR_BAD_REQUEST, "env must be a list of strings" },
	{ "{\"cmd\": \"run\", \"argv\": [\"a\"], \"directory\": []}", 0,
	  TEND_ERR_BAD_REQUEST, "directory must be a string" },
	{ "{\"cmd\": \"run\", \"argv\": [\"a\"], \"wait\": 1}", 0,
	  TEND_ERR_BAD_REQUEST, "wait must be true or false" },
	{ "{\"cmd\": \"run\", \"argv\": [\"a\"], \"timeout\": -1}", 0,
	  TEND_ERR_BAD_REQUEST, "timeout must be a number of seconds, 0 or more" },
	{ "{\"cmd\": \"run\", \"argv\": [\"a\"]}", 1,
	  TEND_ERR_SHUTTING_DOWN, "tendd is shutting down" },
	/* reload: check, then the shutdown refusal */
	{ "{\"cmd\": \"reload\"}", 1, TEND_ERR_SHUTTING_DOWN,
	  "tendd is shutting down" },
	{ "{\"cmd\": \"reload\", \"check\": \"yes\"}", 1,
	  TEND_ERR_BAD_REQUEST, "check must be true or false" },
	{ "{\"cmd\": \"reload\", \"check\": true}", 0, NULL, NULL },
	/* signal: the signal, then names */
	{ "{\"cmd\": \"signal\", \"names\": [\"a\"]}", 0, TEND_ERR_MISSING,
	  "no signal given" },
	{ "{\"cmd\": \"signal\"}", 0, TEND_ERR_MISSING, "no signal given" },
	{ "{\"cmd\": \"signal\", \"signal\": [], \"names\": [\"a\"]}", 0,
	  TEND_ERR_BAD_REQUEST, "signal must be a name or a number" },
	{ "{\"cmd\": \"signal\", \"signal\": 1.5, \"names\": [\"a\"]}", 0,
	  TEND_ERR_BAD_REQUEST, "signal must be a name or a number" },
	{ "{\"cmd\": \"signal\", \"signal\": \"BOGUS\", \"names\": [\"a\"]}", 0,
	  TEND_ERR_BAD_REQUEST, "unknown signal: BOGUS" },
	{ "{\"cmd\": \"signal\", \"signal\": 0, \"names\": [\"a\"]}", 0,
	  TEND_ERR_BAD_REQUEST, "unknown signal: 0" },
	{ "{\"cmd\": \"signal\", \"signal\": 99999, \"names\": [\"a\"]}", 0,
	  TEND_ERR_BAD_REQUEST, "unknown signal: 99999" },
	{ "{\"cmd\": \"signal\", \"signal\": \"HUP\"}", 0, TEND_ERR_MISSING,
	  NAMES_MISSING },
	{ "{\"cmd\": \"signal\", \"signal\": \"HUP\", \"names\": 1}", 0,
	  TEND_ERR_BAD_REQUEST, "names must be a list of strings" },
	/* wait: timeout, then names */
	{ "{\"cmd\": \"wait\"}", 0, TEND_ERR_MISSING, NAMES_MISSING },
	{ "{\"cmd\": \"wait\", \"timeout\": \"1\"}", 0, TEND_ERR_BAD_REQUEST,
	  "timeout must be a number of seconds, 0 or more" },
	{ "{\"cmd\": \"wait\", \"timeout\": -0.5, \"names\": [\"a\"]}", 0,
	  TEND_ERR_BAD_REQUEST,
	  "timeout must be a number of seconds, 0 or more" },
	{ "{\"cmd\": \"wait\", \"timeout\": null, \"names\": [\"a\"]}", 1,
	  NULL, NULL },
	{ "{\"cmd\": \"wait\", \"timeout\": 1, \"names\": \"a\"}", 0,
	  TEND_ERR_BAD_REQUEST, "names must be a list of strings" },
	/* events: names, optional */
	{ "{\"cmd\": \"events\"}", 1, NULL, NULL },
	{ "{\"cmd\": \"events\", \"names\": {}}", 0, TEND_ERR_BAD_REQUEST,
	  "names must be a list of strings" },
};

/*
 * Does a case refuse a wrong FIELD of CMD (a line that has it), and when
 * MISSING (required), one that leaves it out?
 */
static int
case_covers(const char *cmd, const char *field, const char *missing)
{
	char want_cmd[64], want_field[64];
	size_t i;
	int wrong = 0, absent = missing == NULL;

	snprintf(want_cmd, sizeof(want_cmd), "\"cmd\": \"%s\"", cmd);
	snprintf(want_field, sizeof(want_field), "\"%s\":", field);
	for (i = 0; i < nitems(cases); i++) {
		if (strstr(cases[i].line, want_cmd) == NULL ||
		    cases[i].code == NULL)
			continue;
		if (strstr(cases[i].line, want_field) != NULL &&
		    strcmp(cases[i].code, TEND_ERR_BAD_REQUEST) == 0)
			wrong = 1;
		if (missing != NULL && strcmp(cases[i].msg, missing) == 0 &&
		    strstr(cases[i].line, want_field) == NULL)
			absent = 1;
	}
	return wrong && absent;
}

static void
test_every_case(void **state)
{
	const struct cmd_entry *e;
	struct cmd_args a;
	json_t *req, *id;
	const char *code;
	char *msg;
	size_t i;
	int rc;

	for (i = 0; i < nitems(cases); i++) {
		rc = command_check(cases[i].line, strlen(cases[i].line),
		    cases[i].shutting_down, &e, &req, &id, &a, &code, &msg);
		if (cases[i].code == NULL) {
			if (rc != 0)
				fail_msg("%s: refused: %s", cases[i].line, msg);
		} else {
			if (rc != -1)
				fail_msg("%s: accepted", cases[i].line);
			assert_string_equal(code, cases[i].code);
			assert_string_equal(msg, cases[i].msg);
			free(msg);
		}
		command_args_free(&a);
		json_decref(req);
		json_decref(id);
	}
}

/* A field a row declares without a case here fails: add its case. */
static void
test_every_field_covered(void **state)
{
	const struct cmd_entry *e;
	const struct cmd_field *f;
	size_t i, n = 0;

	for (i = 0; (e = command_at(i)) != NULL; i++) {
		assert_ptr_equal(command_find(e->name), e);
		for (f = e->fields; f < e->fields + CMD_MAXFIELDS && f->name;
		    f++, n++)
			if (!case_covers(e->name, f->name, f->missing))
				fail_msg("%s: field %s has no failing case",
				    e->name, f->name);
	}
	assert_int_equal(i, 16 + 4);	/* + enable, disable, scale, run (§12) */
	assert_true(n > 0);
}

/* Missing fields take their documented defaults. */
static void
test_defaults(void **state)
{
	static const char tail[] = "{\"cmd\": \"tail\", \"name\": \"web\"}";
	static const char wait[] = "{\"cmd\": \"wait\", \"names\": [\"a\"]}";
	static const char start[] = "{\"cmd\": \"start\", \"names\": [\"a\"]}";
	const struct cmd_entry *e;
	struct cmd_args a;
	json_t *req, *id;
	const char *code;
	char *msg;

	assert_int_equal(command_check(tail, strlen(tail), 0, &e, &req, &id,
	    &a, &code, &msg), 0);
	assert_string_equal(json_string_value(a.name), "web");
	assert_int_equal(a.stream, OUTPUT_STDOUT);
	assert_int_equal(a.lines, 10);
	assert_int_equal(a.follow, 0);
	assert_int_equal(a.base64, 0);
	command_args_free(&a);
	json_decref(req);
	json_decref(id);

	assert_int_equal(command_check(wait, strlen(wait), 0, &e, &req, &id,
	    &a, &code, &msg), 0);
	assert_true(a.timeout < 0);
	assert_int_equal(json_array_size(a.names), 1);
	assert_true(e->flags & CMD_PARKS);
	assert_int_equal(e->until, OP_WAIT);
	command_args_free(&a);
	json_decref(req);
	json_decref(id);

	assert_int_equal(command_check(start, strlen(start), 0, &e, &req,
	    &id, &a, &code, &msg), 0);
	assert_int_equal(a.wait, 1);
	assert_int_equal(e->until, OP_START);
	command_args_free(&a);
	json_decref(req);
	json_decref(id);
}

/* Values as given: clamped, named, picked. */
static void
test_values(void **state)
{
	static const char tail[] = "{\"cmd\": \"tail\", \"name\": \"w\", "
	    "\"stream\": \"stderr\", \"lines\": -7, \"follow\": true, "
	    "\"encoding\": \"base64\"}";
	static const char sig[] = "{\"cmd\": \"signal\", \"signal\": "
	    "\"sigusr1\", \"names\": [\"a\"]}";
	static const char st[] = "{\"cmd\": \"status\", \"fields\": "
	    "[\"state\", \"name\"], \"rows\": true, \"names\": []}";
	static const char wait[] = "{\"cmd\": \"wait\", \"timeout\": 2.5, "
	    "\"names\": [\"a\"]}";
	const struct cmd_entry *e;
	struct cmd_args a;
	json_t *req, *id;
	const char *code;
	char *msg;

	assert_int_equal(command_check(tail, strlen(tail), 0, &e, &req, &id,
	    &a, &code, &msg), 0);
	assert_int_equal(a.stream, OUTPUT_STDERR);
	assert_int_equal(a.lines, -1);
	assert_int_equal(a.follow, 1);
	assert_int_equal(a.base64, 1);
	command_args_free(&a);
	json_decref(req);
	json_decref(id);

	assert_int_equal(command_check(sig, strlen(sig), 0, &e, &req, &id,
	    &a, &code, &msg), 0);
	assert_int_equal(a.sig, SIGUSR1);
	command_args_free(&a);
	json_decref(req);
	json_decref(id);

	assert_int_equal(command_check(st, strlen(st), 0, &e, &req, &id,
	    &a, &code, &msg), 0);
	assert_int_equal(a.fields.n, 2);
	assert_int_equal(a.fields.f[0], FIELD_STATE);
	assert_int_equal(a.fields.f[1], FIELD_NAME);
	assert_int_equal(a.fields.rows, 1);
	assert_null(a.names);		/* empty: every process */
	command_args_free(&a);
	json_decref(req);
	json_decref(id);

	assert_int_equal(command_check(wait, strlen(wait), 0, &e, &req, &id,
	    &a, &code, &msg), 0);
	assert_true(a.timeout == 2.5);
	command_args_free(&a);
	json_decref(req);
	json_decref(id);
}

/* A long unknown command is quoted to 100 bytes, never inside a character. */
static void
test_unknown_command_cut(void **state)
{
	char line[400], name[300];
	const struct cmd_entry *e;
	struct cmd_args a;
	json_t *req, *id;
	const char *code;
	char *msg;

	memset(name, 'x', 99);
	strcpy(name + 99, "\xc3\xa9tail");	/* U+00E9 across byte 100 */
	snprintf(line, sizeof(line), "{\"id\": 7, \"cmd\": \"%s\"}", name);
	assert_int_equal(command_check(line, strlen(line), 0, &e, &req, &id,
	    &a, &code, &msg), -1);
	assert_string_equal(code, TEND_ERR_UNKNOWN_CMD);
	assert_int_equal(strlen(msg), strlen("unknown command: ") + 99);
	assert_int_equal(json_integer_value(id), 7);
	free(msg);
	json_decref(req);
	json_decref(id);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_case),
		cmocka_unit_test(test_every_field_covered),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_unknown_command_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
