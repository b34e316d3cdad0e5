/*
 * test_reload.c: the per-process diff of a reload (reload_diff) and its
 * bookkeeping (reload_apply) on processes that are not running, so that
 * nothing is spawned: matching by GROUP:NAME, re-pointing unchanged ones
 * to the new config, forgetting removed ones, the names status shows.
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

#include <event2/event.h>

#include "tendd.h"

static char tmpdir[] = "/tmp/test_reload.XXXXXX";
static char *oldcwd;

static int
setup(void **state)
{
	strcpy(tmpdir, "/tmp/test_reload.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	oldcwd = getcwd(NULL, 0);
	tendd_base = event_base_new();
	return tendd_base == NULL ? -1 : chdir(tmpdir);
}

static int
teardown(void **state)
{
	char *cmd;
	int rc;

	program_free_all();
	config_free(tendd_conf);
	tendd_conf = NULL;
	event_base_free(tendd_base);
	tendd_base = NULL;
	rc = chdir(oldcwd);
	free(oldcwd);
	xasprintf(&cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		rc = -1;
	free(cmd);
	return rc;
}

static struct tend_conf *
load(const char *text)
{
	struct diag d = { 0 };
	struct tend_conf *conf;
	FILE *f = fopen("t.conf", "w");
	int i;

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	conf = config_load("t.conf", 0, &d);
	for (i = 0; i < d.n; i++)
		print_message("  %s\n", d.msgs[i].text);
	assert_non_null(conf);
	diag_clear(&d);
	return conf;
}

static struct proc *
find(const char *fullname)
{
	struct proc *p;

	TAILQ_FOREACH(p, &procs, entry)
		if (strcmp(p->fullname, fullname) == 0)
			return p;
	return NULL;
}

static struct program_conf *
pc_of(struct tend_conf *conf, const char *group, const char *name)
{
	struct program_conf *pc;

	TAILQ_FOREACH(pc, &conf->programs, entry)
		if (strcmp(pc->group, group) == 0 &&
		    strcmp(pc->name, name) == 0)
			return pc;
	fail_msg("no %s:%s", group, name);
	return NULL;
}

/* "NAME change [keys]" for each item, one string, to compare whole. */
static char *
plan_text(const struct reload_plan *plan)
{
	static const char *const kinds[] = { "added", "changed", "removed" };
	char *s = xstrdup(""), *more;
	int i, j;

	for (i = 0; i < plan->n; i++) {
		xasprintf(&more, "%s%s %s", s, plan->items[i].name,
		    kinds[plan->items[i].change]);
		free(s);
		s = more;
		for (j = 0; plan->items[i].keys != NULL &&
		    plan->items[i].keys[j] != NULL; j++) {
			xasprintf(&more, "%s %s", s, plan->items[i].keys[j]);
			free(s);
			s = more;
		}
		xasprintf(&more, "%s; ", s);
		free(s);
		s = more;
	}
	return s;
}

static const char base[] =
    "[program:a]\n"
    "command = /bin/echo a\n"
    "autostart = false\n"
    "[program:b]\n"
    "command = /bin/echo b\n"
    "autostart = false\n"
    "[program:w]\n"
    "command = /bin/echo %(process_num)d\n"
    "process_name = w_%(process_num)d\n"
    "numprocs = 4\n"
    "autostart = false\n"
    "[program:gone]\n"
    "command = /bin/true\n"
    "autostart = false\n";

static void
test_plan_and_apply(void **state)
{
	struct tend_conf *c1, *c2;
	struct reload_plan plan = { 0 };
	struct proc *a, *w0, *w3;
	char *text;

	c1 = load(base);
	tendd_conf = c1;
	program_setup(c1);
	a = find("a:a");
	w0 = find("w:w_0");
	w3 = find("w:w_3");
	assert_non_null(a);
	assert_string_equal(a->display, "a");
	assert_string_equal(w0->display, "w:w_0");

	/* numprocs 4 -> 6, b's command changed, gone removed, c added. */
	c2 = load(
	    "[program:c]\n"
	    "command = /bin/true\n"
	    "autostart = false\n"
	    "[program:a]\n"
	    "command = /bin/echo   'a'\n"
	    "autostart = false\n"
	    "[program:b]\n"
	    "command = /bin/echo B\n"
	    "autostart = false\n"
	    "stopwaitsecs = 3\n"
	    "[program:w]\n"
	    "command = /bin/echo %(process_num)d\n"
	    "process_name = w_%(process_num)d\n"
	    "numprocs = 6\n"
	    "autostart = false\n");
	reload_diff(c1, c2, &plan);
	text = plan_text(&plan);
	assert_string_equal(text, "c added; b changed command stopwaitsecs; "
	    "w:w_4 added; w:w_5 added; gone removed; ");
	free(text);
	assert_int_equal(plan.unchanged, 5);
	reload_plan_free(&plan);

	/* Applying it: the same objects, pointing to the new config. */
	tendd_conf = c2;
	reload_apply(c1, c2);
	config_free(c1);
	assert_ptr_equal(find("a:a"), a);
	assert_ptr_equal(a->pc, pc_of(c2, "a", "a"));
	assert_ptr_equal(find("w:w_0"), w0);
	assert_ptr_equal(w0->pc, pc_of(c2, "w", "w_0"));
	assert_ptr_equal(find("w:w_3"), w3);
	assert_ptr_equal(find("b:b")->pc, pc_of(c2, "b", "b"));
	assert_non_null(find("w:w_5"));
	assert_null(find("gone:gone"));
	assert_int_equal(find("c:c")->state, PROC_NEW);
	/* autostart = false everywhere: nothing was started. */
	assert_int_equal(a->state, PROC_NEW);
	assert_int_equal(find("w:w_5")->state, PROC_NEW);
	/* In start order: priority, then name. */
	assert_string_equal(TAILQ_FIRST(&procs)->fullname, "a:a");
	assert_string_equal(TAILQ_LAST(&procs, procs)->fullname, "w:w_5");

	/* 6 -> 4: the last two go, the others are untouched. */
	c1 = c2;
	c2 = load(base);
	reload_diff(c1, c2, &plan);
	text = plan_text(&plan);
	assert_string_equal(text, "b changed command stopwaitsecs; gone added; "
	    "c removed; w:w_4 removed; w:w_5 removed; ");
	free(text);
	reload_plan_free(&plan);
	tendd_conf = c2;
	reload_apply(c1, c2);
	config_free(c1);
	assert_ptr_equal(find("w:w_3"), w3);
	assert_null(find("w:w_4"));
	assert_null(find("c:c"));
	assert_non_null(find("gone:gone"));
}

static void
test_plan_groups_and_env(void **state)
{
	struct tend_conf *c1, *c2;
	struct reload_plan plan = { 0 };
	char *text;

	c1 = load(
	    "[tend]\n"
	    "environment = TZ=UTC\n"
	    "[program:x]\n"
	    "command = /bin/true\n"
	    "autostart = false\n"
	    "[program:y]\n"
	    "command = /bin/true\n"
	    "autostart = false\n");
	tendd_conf = c1;
	program_setup(c1);

	/* Moving x into a group renames it: removed and added. */
	c2 = load(
	    "[tend]\n"
	    "environment = TZ=CET\n"
	    "[group:g]\n"
	    "programs = x\n"
	    "[group:y]\n"
	    "programs = y\n"
	    "[program:x]\n"
	    "command = /bin/true\n"
	    "autostart = false\n"
	    "[program:y]\n"
	    "command = /bin/true\n"
	    "autostart = false\n");
	reload_diff(c1, c2, &plan);
	text = plan_text(&plan);
	/* y stays y:y, alone in a group of its name: shown as y. */
	assert_string_equal(text, "g:x added; y changed [tend] environment; "
	    "x removed; ");
	free(text);
	reload_plan_free(&plan);
	tendd_conf = c2;
	reload_apply(c1, c2);
	config_free(c1);
	assert_string_equal(find("g:x")->display, "g:x");
	assert_string_equal(find("y:y")->display, "y");
	assert_null(find("x:x"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plan_and_apply, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_plan_groups_and_env,
		    setup, teardown),
	};

	log_init(LOG_LEVEL_ERROR, "test_reload");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
