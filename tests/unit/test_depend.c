/*
 * test_depend.c: depends_on's pure parts (depend.c): the name list, how a
 * name matches a process, the cycle search; and what the config reader
 * reports with them: unknown names and cycles at file:line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tendd.h"

static char tmpdir[] = "/tmp/test_depend.XXXXXX";
static char *oldcwd;

static int
setup(void **state)
{
	strcpy(tmpdir, "/tmp/test_depend.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	oldcwd = getcwd(NULL, 0);
	return chdir(tmpdir);
}

static int
teardown(void **state)
{
	char *cmd;
	int rc;

	rc = chdir(oldcwd);
	free(oldcwd);
	xasprintf(&cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		rc = -1;
	free(cmd);
	return rc;
}

static void
test_split(void **state)
{
	char **v = depend_split(" db,  mig web ,,");

	assert_non_null(v);
	assert_string_equal(v[0], "db");
	assert_string_equal(v[1], "mig");
	assert_string_equal(v[2], "web");
	assert_null(v[3]);
	strv_free(v);
	assert_null(depend_split(" , "));
	assert_null(depend_split(NULL));
}

static void
test_match(void **state)
{
	/* PROCESS, GROUP:PROCESS, GROUP:*, a group's name, a glob */
	assert_true(depend_match("db", "db", "db"));
	assert_true(depend_match("db", "backend", "db"));
	assert_true(depend_match("backend", "backend", "db"));
	assert_true(depend_match("backend:db", "backend", "db"));
	assert_false(depend_match("backend:db", "backend", "cache"));
	assert_true(depend_match("workers:*", "workers", "workers_03"));
	assert_false(depend_match("workers:*", "other", "workers_03"));
	assert_true(depend_match("workers", "workers", "workers_03"));
	assert_true(depend_match("work*", "x", "workers_03"));
	assert_false(depend_match("dbx", "db", "db"));
	assert_false(depend_match("d", "db", "db"));
}

static size_t a0[] = { 1 }, a1[] = { 2 }, a2[] = { 0 }, a3[] = { 0, 1 };

static void
test_cycle(void **state)
{
	size_t *adj[4] = { a0, a1, a2, a3 }, nadj[4] = { 1, 1, 1, 2 };
	size_t *path = NULL, plen = 0;

	/* 0 -> 1 -> 2 -> 0 */
	assert_int_equal(depend_cycle(4, adj, nadj, &path, &plen), 1);
	assert_int_equal(plen, 4);
	assert_int_equal(path[0], 0);
	assert_int_equal(path[1], 1);
	assert_int_equal(path[2], 2);
	assert_int_equal(path[3], 0);
	free(path);
	/* 2 -> 0 cut: 3 -> 0 -> 1 -> 2, no cycle */
	nadj[2] = 0;
	path = NULL;
	assert_int_equal(depend_cycle(4, adj, nadj, &path, &plen), 0);
	assert_null(path);
	/* a self-loop */
	nadj[2] = 1;
	a2[0] = 2;
	assert_int_equal(depend_cycle(4, adj, nadj, &path, &plen), 1);
	assert_int_equal(plen, 2);
	assert_int_equal(path[0], 2);
	assert_int_equal(path[1], 2);
	free(path);
	a2[0] = 0;
}

/* The messages config_load() gives TEXT (joined by newlines), or "OK". */
static char *
check(const char *text)
{
	struct diag d = { 0 };
	struct tend_conf *conf;
	FILE *f = fopen("a.conf", "w");
	char *out = xstrdup(""), *more;
	int i;

	assert_non_null(f);
	fprintf(f, "[tend]\nsocket = t.sock\nchildlogdir = .\n%s", text);
	assert_int_equal(fclose(f), 0);
	conf = config_load("a.conf", 0, &d);
	for (i = 0; i < d.n; i++) {
		xasprintf(&more, "%s%s%s", out, *out ? "\n" : "",
		    d.msgs[i].text);
		free(out);
		out = more;
	}
	if (conf != NULL) {
		config_free(conf);
		if (*out == '\0') {
			free(out);
			out = xstrdup("OK");
		}
	}
	diag_clear(&d);
	return out;
}

static void
test_config_errors(void **state)
{
	char *got;

	/* lines 4..: the [tend] header takes 1-3 */
	got = check("[program:web]\n"			/* 4 */
	    "command = /bin/true\n"			/* 5 */
	    "depends_on = api\n"			/* 6 */
	    "[program:api]\n"				/* 7 */
	    "command = /bin/true\n"			/* 8 */
	    "depends_on = web\n");			/* 9 */
	assert_string_equal(got,
	    "a.conf:6: [program:web] depends_on: cycle web -> api -> web");
	free(got);
	got = check("[program:web]\n"
	    "command = /bin/true\n"
	    "depends_on = db, nosuch\n");
	assert_string_equal(got, "a.conf:6: [program:web] depends_on: unknown "
	    "name db (no process or group of that name)\n"
	    "a.conf:6: [program:web] depends_on: unknown name nosuch (no "
	    "process or group of that name)");
	free(got);
	/* a numprocs program and a [group:] by name; a job; no cycle */
	got = check("[program:w]\n"
	    "command = /bin/true\n"
	    "numprocs = 3\n"
	    "process_name = w_%(process_num)d\n"
	    "[group:back]\n"
	    "programs = db, cache\n"
	    "[program:db]\n"
	    "command = /bin/true\n"
	    "[program:cache]\n"
	    "command = /bin/true\n"
	    "depends_on = back:db\n"
	    "[program:web]\n"
	    "command = /bin/true\n"
	    "depends_on = w, back\n");
	assert_string_equal(got, "OK");
	free(got);
	/* a group that holds the program itself is a cycle */
	got = check("[program:w]\n"
	    "command = /bin/true\n"
	    "numprocs = 2\n"
	    "process_name = w_%(process_num)d\n"
	    "depends_on = w:w_0\n");
	assert_string_equal(got,
	    "a.conf:8: [program:w] depends_on: cycle w -> w");
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test_setup_teardown(test_config_errors, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
