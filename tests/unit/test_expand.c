/* test_expand.c: %(name)s expansion, the argv splitter, paths, suggestions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "expand.h"
#include "util.h"

static const struct expand_vars prog_vars = {
	.here = "/etc/tend",
	.program_name = "web",
	.group_name = "webgroup",
	.host_node_name = "box",
	.process_num = 7,
	.numprocs = 8,
};

static const struct expand_vars daemon_vars = {
	.here = "/etc/tend",
	.process_num = -1,
	.numprocs = -1,
};

/* A program's numprocs and numprocs_start: read before any process. */
static const struct expand_vars count_vars = {
	.here = "/etc/tend",
	.program_name = "web",
	.group_name = "web",
	.process_num = -1,
	.numprocs = -1,
};

static void
expands_to(const struct expand_vars *vars, const char *in, const char *want)
{
	char *out = NULL, *cause = NULL;

	if (expand_value(in, vars, &out, &cause) != 0)
		fail_msg("'%s' failed: %s", in, cause);
	assert_null(cause);
	assert_string_equal(out, want);
	free(out);
}

/* Fails with a cause containing WANT. */
static void
fails_with(const struct expand_vars *vars, const char *in, const char *want)
{
	char *out = NULL, *cause = NULL;

	if (expand_value(in, vars, &out, &cause) != -1)
		fail_msg("'%s' expanded to '%s'", in, out);
	assert_null(out);
	assert_non_null(cause);
	if (strstr(cause, want) == NULL)
		fail_msg("'%s': cause '%s' lacks '%s'", in, cause, want);
	free(cause);
}

static void
test_names(void **state)
{
	struct utsname u;
	struct expand_vars v = prog_vars;
	char *want;

	expands_to(&prog_vars, "", "");
	expands_to(&prog_vars, "plain text", "plain text");
	expands_to(&prog_vars, "%(here)s/x", "/etc/tend/x");
	expands_to(&prog_vars, "%(program_name)s:%(group_name)s",
	    "web:webgroup");
	expands_to(&prog_vars, "%(host_node_name)s", "box");
	expands_to(&prog_vars, "n%(process_num)s n%(process_num)d "
	    "n%(process_num)i", "n7 n7 n7");
	expands_to(&prog_vars, "100%% %%(here)s %%%(program_name)s",
	    "100% %(here)s %web");

	/* Without a set node name, uname's. */
	v.host_node_name = NULL;
	assert_int_equal(uname(&u), 0);
	xasprintf(&want, "at %s", u.nodename);
	expands_to(&v, "at %(host_node_name)s", want);
	free(want);
	/* [tend] knows here and ENV_ too. */
	expands_to(&daemon_vars, "%(here)s/tend.sock", "/etc/tend/tend.sock");
}

static void
test_widths(void **state)
{
	expands_to(&prog_vars, "%(process_num)02d", "07");
	expands_to(&prog_vars, "%(process_num)05d", "00007");
	expands_to(&prog_vars, "[%(process_num)3d]", "[  7]");
	expands_to(&prog_vars, "[%(process_num)-3d]", "[7  ]");
	expands_to(&prog_vars, "[%(process_num)+d]", "[+7]");
	expands_to(&prog_vars, "[%(process_num) d]", "[ 7]");
	expands_to(&prog_vars, "[%(process_num).3d]", "[007]");
	expands_to(&prog_vars, "[%(process_num)5.3d]", "[  007]");
	expands_to(&prog_vars, "[%(process_num)03s]", "[  7]");
	expands_to(&prog_vars, "[%(program_name)6s]", "[   web]");
	expands_to(&prog_vars, "[%(program_name)-6s]", "[web   ]");
	expands_to(&prog_vars, "[%(program_name).2s]", "[we]");
	expands_to(&prog_vars, "[%(program_name)#s]", "[web]");
	fails_with(&prog_vars, "%(process_num)99999d", "width or precision");
}

static void
test_env(void **state)
{
	setenv("TEND_TEST_VAR", "hello", 1);
	setenv("TEND_TEST_EMPTY", "", 1);
	unsetenv("TEND_TEST_UNSET");
	expands_to(&prog_vars, "%(ENV_TEND_TEST_VAR)s",
	    "hello");
	expands_to(&daemon_vars, "<%(ENV_TEND_TEST_EMPTY)s>", "<>");
	expands_to(&daemon_vars, "[%(ENV_TEND_TEST_VAR)7s]", "[  hello]");
	fails_with(&prog_vars, "x %(ENV_TEND_TEST_UNSET)s",
	    "%(ENV_TEND_TEST_UNSET)s: environment variable TEND_TEST_UNSET "
	    "is not set");
	fails_with(&prog_vars, "%(ENV_)s", "no variable name");
	fails_with(&prog_vars, "%(ENV_TEND_TEST_VAR)d", "not a number");
}

static void
test_errors(void **state)
{
	fails_with(&prog_vars, "%(progam_name)s",
	    "unknown name %(progam_name)s; did you mean %(program_name)s?");
	fails_with(&prog_vars, "%(zzzzzzzz)s", "unknown name %(zzzzzzzz)s");
	fails_with(&prog_vars, "a %(here", "unterminated %(...)");
	fails_with(&prog_vars, "%(here)", "%(here): missing conversion");
	fails_with(&prog_vars, "%(here)5", "missing conversion");
	fails_with(&prog_vars, "%(here)x", "unsupported conversion 'x'");
	fails_with(&prog_vars, "%()s", "empty name");
	fails_with(&prog_vars, "50%", "lone %");
	fails_with(&prog_vars, "date +%s", "write %% for a literal %");
	/* the quote is 20 bytes at most, cut between characters */
	fails_with(&prog_vars, "%\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
	    "lone % in \"%\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\": write");
	fails_with(&prog_vars, "%(program_name)d",
	    "program_name is not a number");
	fails_with(&daemon_vars, "%(program_name)s",
	    "only defined in [program:] sections");
	fails_with(&daemon_vars, "%(process_num)02d",
	    "only defined in [program:] sections");
	fails_with(&daemon_vars, "%(numprocs)d",
	    "only defined in [program:] sections");
	fails_with(&count_vars, "%(process_num)d", "%(process_num)d is not "
	    "defined here: the number of processes is read before there are "
	    "processes");
	fails_with(&count_vars, "%(numprocs)d", "not defined here");
	fails_with(&prog_vars, "%(numproc)d", "did you mean %(numprocs)s?");
}

/* supervisord's %(numprocs)d, and names in numprocs itself. */
static void
test_numprocs(void **state)
{
	setenv("TEND_TEST_WORKERS", "4", 1);
	expands_to(&prog_vars, "%(process_num)d of %(numprocs)d", "7 of 8");
	expands_to(&prog_vars, "%(numprocs)03d", "008");
	/* The common numprocs = %(ENV_WORKERS)s works before any process. */
	expands_to(&count_vars, "%(ENV_TEND_TEST_WORKERS)s", "4");
}

/* Splits CMD; WANT is the expected words, NULL-terminated. */
static void
splits_to(const char *cmd, ...)
{
	char **argv = NULL, *cause = NULL;
	const char *w;
	va_list ap;
	size_t i = 0;

	if (expand_argv(cmd, &argv, &cause) != 0)
		fail_msg("'%s' failed: %s", cmd, cause);
	va_start(ap, cmd);
	while ((w = va_arg(ap, const char *)) != NULL) {
		assert_non_null(argv[i]);
		assert_string_equal(argv[i], w);
		i++;
	}
	va_end(ap);
	assert_null(argv[i]);
	strv_free(argv);
}

static void
split_fails(const char *cmd, const char *want)
{
	char **argv = NULL, *cause = NULL;

	assert_int_equal(expand_argv(cmd, &argv, &cause), -1);
	assert_null(argv);
	if (strstr(cause, want) == NULL)
		fail_msg("'%s': cause '%s' lacks '%s'", cmd, cause, want);
	free(cause);
}

static void
test_argv(void **state)
{
	splits_to("/bin/echo", "/bin/echo", NULL);
	splits_to("  a  b\tc\nd  ", "a", "b", "c", "d", NULL);
	splits_to("sh -c 'echo $HOME; exit 2'", "sh", "-c",
	    "echo $HOME; exit 2", NULL);
	splits_to("a 'b \\ \" c'", "a", "b \\ \" c", NULL);
	splits_to("a \"x \\\" \\\\ \\$ \\` \\n y\"", "a",
	    "x \" \\ $ ` \\n y", NULL);
	splits_to("a\\ b c\\'d \\\\ \\x", "a b", "c'd", "\\", "x", NULL);
	splits_to("pre'mid dle'\"post \"end", "premid dlepost end", NULL);
	splits_to("a '' \"\" b", "a", "", "", "b", NULL);
	splits_to("a \\\n b", "a", "b", NULL);
	splits_to("ab\\\ncd \"x\\\ny\"", "abcd", "xy", NULL);
	splits_to("# not a comment", "#", "not", "a", "comment", NULL);
	splits_to("echo * $HOME ~", "echo", "*", "$HOME", "~", NULL);

	split_fails("echo 'unterminated", "unterminated single quote "
	    "(opened at character 6)");
	split_fails("echo \"unterminated \\\"", "unterminated double quote");
	split_fails("echo trailing\\", "backslash at the end");
	split_fails("", "empty command");
	split_fails(" \t\n ", "empty command");
}

static void
test_path(void **state)
{
	char *p, *cwd, *want;

	p = expand_path("/etc/tend", "x.sock");
	assert_string_equal(p, "/etc/tend/x.sock");
	free(p);
	p = expand_path("/etc/tend", "/abs//path/./x/../y/");
	assert_string_equal(p, "/abs/path/y");
	free(p);
	p = expand_path("/etc/tend", "../../../../run/x");
	assert_string_equal(p, "/run/x");
	free(p);
	p = expand_path("/etc/tend", ".");
	assert_string_equal(p, "/etc/tend");
	free(p);
	p = expand_path("/", "..");
	assert_string_equal(p, "/");
	free(p);

	p = expand_here("/etc/tend/tend.conf");
	assert_string_equal(p, "/etc/tend");
	free(p);
	p = expand_here("/tend.conf");
	assert_string_equal(p, "/");
	free(p);
	cwd = getcwd(NULL, 0);
	xasprintf(&want, "%s/sub", strcmp(cwd, "/") == 0 ? "" : cwd);
	p = expand_here("./sub/x.conf");
	assert_string_equal(p, want);
	free(p);
	free(want);
	p = expand_here("x.conf");
	assert_string_equal(p, cwd);
	free(p);
	free(cwd);
}

static void
test_suggest(void **state)
{
	static const char *const keys[] = {
		"autostart", "autorestart", "command", "user", "umask",
		"stopwaitsecs", NULL
	};

	assert_string_equal(expand_suggest("autorestar", keys),
	    "autorestart");
	assert_string_equal(expand_suggest("AutoStrat", keys), "autostart");
	assert_string_equal(expand_suggest("comand", keys), "command");
	assert_string_equal(expand_suggest("stopwaitsec", keys),
	    "stopwaitsecs");
	assert_string_equal(expand_suggest("usr", keys), "user");
	/* A swap of two neighbours is one typo. */
	assert_string_equal(expand_suggest("uesr", keys), "user");
	assert_string_equal(expand_suggest("commnad", keys), "command");
	assert_null(expand_suggest("environment", keys));
	assert_null(expand_suggest("x", keys));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_widths),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_numprocs),
		cmocka_unit_test(test_argv),
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_suggest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
