/* test_config.c: config_load() and friends (daemon/config.c), confsock.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "confsock.h"
#include "tendd.h"

static char tmpdir[] = "/tmp/test_config.XXXXXX";
static char *oldcwd;
static struct diag d;

/* Every test runs in a fresh directory holding t.conf. */
static int
setup(void **state)
{
	strcpy(tmpdir, "/tmp/test_config.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	oldcwd = getcwd(NULL, 0);
	memset(&d, 0, sizeof(d));
	return chdir(tmpdir);
}

static int
teardown(void **state)
{
	char *cmd;
	int rc;

	diag_clear(&d);
	rc = chdir(oldcwd);
	free(oldcwd);
	xasprintf(&cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		rc = -1;
	free(cmd);
	return rc;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

static struct tend_conf *
load(const char *text, int flags)
{
	write_file("t.conf", text);
	diag_clear(&d);
	return config_load("t.conf", flags, &d);
}

static void
dump(void)
{
	int i;

	for (i = 0; i < d.n; i++)
		print_message("  %s %s\n", d.msgs[i].is_error ? "error:" :
		    "warning:", d.msgs[i].text);
}

/* The message TEXT is there, as an error or a warning. */
static void
assert_msg(int is_error, const char *text)
{
	int i;

	for (i = 0; i < d.n; i++)
		if (strcmp(d.msgs[i].text, text) == 0) {
			if (d.msgs[i].is_error != is_error)
				fail_msg("'%s' is %s", text, is_error ?
				    "a warning" : "an error");
			return;
		}
	dump();
	fail_msg("no message '%s'", text);
}

static void
assert_counts(int nerrors, int nwarnings)
{
	if (d.nerrors != nerrors || d.nwarnings != nwarnings) {
		dump();
		fail_msg("%d errors and %d warnings, expected %d and %d",
		    d.nerrors, d.nwarnings, nerrors, nwarnings);
	}
}

static struct program_conf *
program(struct tend_conf *conf, const char *name)
{
	struct program_conf *pc;

	TAILQ_FOREACH(pc, &conf->programs, entry)
		if (strcmp(pc->name, name) == 0)
			return pc;
	fail_msg("no program %s", name);
	return NULL;
}

static void
test_defaults(void **state)
{
	struct tend_conf *conf;
	struct program_conf *pc;
	char *sock, *file;
	int code;

	conf = load("[program:a]\ncommand = /bin/true\n", 0);
	assert_non_null(conf);
	assert_counts(0, 0);
	xasprintf(&file, "%s/t.conf", tmpdir);
	assert_string_equal(conf->file, file);
	free(file);
	sock = protocol_default_socket();
	assert_string_equal(conf->socket, sock);
	free(sock);
	assert_int_equal(conf->socket_mode, 0600);
	assert_null(conf->socket_owner);
	assert_int_equal(conf->loglevel, LOG_LEVEL_INFO);
	assert_string_equal(conf->logfile, "stderr");
	assert_string_equal(conf->childlogdir, "/var/log/tend");
	assert_null(conf->pidfile);
	assert_string_equal(conf->identifier, "tend");
	assert_int_equal(conf->umask, -1);
	assert_null(conf->directory);
	assert_null(conf->environment);
	assert_int_equal(conf->nprograms, 1);

	pc = program(conf, "a");
	assert_string_equal(pc->group, "a");
	assert_string_equal(pc->file, "t.conf");
	assert_int_equal(pc->line, 1);
	assert_string_equal(pc->command, "/bin/true");
	assert_string_equal(pc->argv[0], "/bin/true");
	assert_null(pc->argv[1]);
	assert_true(pc->autostart);
	assert_int_equal(pc->autorestart, AUTORESTART_UNEXPECTED);
	assert_true(pc->startsecs == 1);
	assert_int_equal(pc->startretries, 3);
	for (code = 0; code < 256; code++)
		assert_int_equal(config_exitcode_expected(pc, code), code == 0);
	assert_false(config_exitcode_expected(pc, -1));
	assert_false(config_exitcode_expected(pc, 256));
	assert_int_equal(pc->stopsignal, SIGTERM);
	assert_true(pc->stopwaitsecs == 10);
	assert_false(pc->stopasgroup);
	assert_false(pc->killasgroup);
	assert_null(pc->directory);
	assert_int_equal(pc->umask, -1);
	assert_null(pc->user);
	assert_null(pc->environment);
	assert_int_equal(pc->priority, 999);
	assert_true(pc->daemon);
	assert_true(pc->joinsecs == 60);
	assert_true(pc->restart_delay == 0);
	assert_true(pc->backoff_max == 30);
	assert_true(pc->backoff_reset == 60);
	assert_false(pc->critical);
	config_free(conf);
}

static void
test_program_keys(void **state)
{
	struct tend_conf *conf;
	struct program_conf *pc;

	mkdir("work", 0755);
	conf = load(
	    "[program:b]\n"
	    "command = /bin/echo b\n"
	    "[program:a]\n"
	    "command=/bin/sleep 10\n"
	    "autostart = Off\n"
	    "autorestart = TRUE\n"
	    "startsecs = 0.5\n"
	    "startretries = infinite\n"
	    "exitcodes = 0, 2,255\n"
	    "stopsignal = sigint\n"
	    "stopwaitsecs = 2.25\n"
	    "stopasgroup = yes\n"
	    "directory = work\n"
	    "umask = 022\n"
	    "priority = -5\n"
	    "daemon = no\n"
	    "joinsecs = 0\n"
	    "restart_delay = 3\n"
	    "backoff_max = 100\n"
	    "backoff_reset = 7.5\n"
	    "critical = 1\n"
	    "[program:c]\n"
	    "command=/bin/true\n"
	    "autorestart=false\n"
	    "stopsignal=9\n"
	    "killasgroup=on\n"
	    "startretries=0\n"
	    "[program:d]\n"
	    "command=/bin/true\n"
	    "autorestart=Unexpected\n"
	    "stopsignal=USR1\n", 0);
	assert_non_null(conf);
	assert_counts(0, 0);
	/* File order. */
	assert_string_equal(TAILQ_FIRST(&conf->programs)->name, "b");
	assert_string_equal(TAILQ_LAST(&conf->programs, program_confs)->name,
	    "d");
	assert_int_equal(conf->nprograms, 4);

	pc = program(conf, "a");
	assert_int_equal(pc->line, 3);
	assert_string_equal(pc->argv[0], "/bin/sleep");
	assert_string_equal(pc->argv[1], "10");
	assert_false(pc->autostart);
	assert_int_equal(pc->autorestart, AUTORESTART_TRUE);
	assert_true(pc->startsecs == 0.5);
	assert_int_equal(pc->startretries, -1);
	assert_true(config_exitcode_expected(pc, 0));
	assert_false(config_exitcode_expected(pc, 1));
	assert_true(config_exitcode_expected(pc, 2));
	assert_true(config_exitcode_expected(pc, 255));
	assert_int_equal(pc->stopsignal, SIGINT);
	assert_true(pc->stopwaitsecs == 2.25);
	assert_true(pc->stopasgroup);
	assert_true(pc->killasgroup);	/* implied */
	assert_non_null(pc->directory);
	assert_true(strncmp(pc->directory, tmpdir, strlen(tmpdir)) == 0);
	assert_string_equal(pc->directory + strlen(tmpdir), "/work");
	assert_int_equal(pc->umask, 022);
	assert_int_equal(pc->priority, -5);
	assert_false(pc->daemon);
	assert_true(pc->joinsecs == 0);
	assert_true(pc->restart_delay == 3);
	assert_true(pc->backoff_max == 100);
	assert_true(pc->backoff_reset == 7.5);
	assert_true(pc->critical);

	pc = program(conf, "c");
	assert_int_equal(pc->autorestart, AUTORESTART_FALSE);
	assert_int_equal(pc->stopsignal, SIGKILL);
	assert_false(pc->stopasgroup);
	assert_true(pc->killasgroup);
	assert_int_equal(pc->startretries, 0);
	pc = program(conf, "d");
	assert_int_equal(pc->autorestart, AUTORESTART_UNEXPECTED);
	assert_int_equal(pc->stopsignal, SIGUSR1);
	config_free(conf);
}

static void
test_booleans(void **state)
{
	static const char *const yes[] = { "true", "TRUE", "yes", "Yes", "on",
	    "ON", "1" };
	static const char *const no[] = { "false", "False", "no", "NO", "off",
	    "Off", "0" };
	struct tend_conf *conf;
	char *text;
	size_t i;

	for (i = 0; i < nitems(yes); i++) {
		xasprintf(&text, "[program:a]\ncommand=/bin/true\n"
		    "critical=%s\nautostart=%s\n", yes[i], no[i]);
		conf = load(text, 0);
		free(text);
		assert_non_null(conf);
		assert_int_equal(program(conf, "a")->critical, 1);
		assert_int_equal(program(conf, "a")->autostart, 0);
		config_free(conf);
	}
	conf = load("[program:a]\ncommand=/bin/true\ncritical=2\n"
	    "autostart=\nDaemon=y\n", 0);
	assert_null(conf);
	assert_counts(3, 0);
	assert_msg(1, "t.conf:3: [program:a] critical: expected true or "
	    "false, got '2'");
	assert_msg(1, "t.conf:4: [program:a] autostart: expected true or "
	    "false, got ''");
	/* Keys are case-insensitive, and named as written. */
	assert_msg(1, "t.conf:5: [program:a] Daemon: expected true or false, "
	    "got 'y'");
}

static void
test_environment(void **state)
{
	struct tend_conf *conf;
	struct program_conf *pc;

	conf = load(
	    "[tend]\n"
	    "environment = TZ=UTC\n"
	    "[program:a]\n"
	    "command = /bin/true\n"
	    "environment = A=\"x,y\",B=2, C='q=1, r' , D = %(program_name)s_"
	    "%(process_num)02d,E=\"say \\\"hi\\\"\",F=,\n"
	    "  G=\"multi\n"
	    "  line\" \n"
	    "  H=1\n"
	    "  I=2,B=3\n", 0);
	assert_non_null(conf);
	assert_counts(0, 0);
	assert_string_equal(conf->environment[0], "TZ=UTC");
	assert_null(conf->environment[1]);
	pc = program(conf, "a");
	assert_non_null(pc->environment);
	assert_string_equal(pc->environment[0], "A=x,y");
	assert_string_equal(pc->environment[1], "B=3");	/* last one wins */
	assert_string_equal(pc->environment[2], "C=q=1, r");
	assert_string_equal(pc->environment[3], "D=a_00");
	assert_string_equal(pc->environment[4], "E=say \"hi\"");
	assert_string_equal(pc->environment[5], "F=");
	/* Quotes may span lines; outside them a line break separates. */
	assert_string_equal(pc->environment[6], "G=multi\nline");
	assert_string_equal(pc->environment[7], "H=1");
	assert_string_equal(pc->environment[8], "I=2");
	assert_null(pc->environment[9]);
	config_free(conf);

	conf = load(
	    "[program:a]\n"
	    "command = /bin/true\n"
	    "environment = A=1,NOEQUALS\n"
	    "[program:b]\n"
	    "command = /bin/true\n"
	    "environment = A=\"open\n", 0);
	assert_null(conf);
	assert_counts(2, 0);
	assert_msg(1, "t.conf:3: [program:a] environment: expected KEY=VALUE "
	    "pairs separated by commas, at 'NOEQUALS'");
	assert_msg(1, "t.conf:6: [program:b] environment: unterminated quote "
	    "in the value of A");
}

static void
test_signals_exitcodes(void **state)
{
	struct tend_conf *conf;

	conf = load(
	    "[program:a]\n"
	    "command = /bin/true\n"
	    "stopsignal = FOO\n"
	    "exitcodes = 0,256\n"
	    "[program:b]\n"
	    "command = /bin/true\n"
	    "stopsignal = 0\n"
	    "exitcodes = 1,,2\n"
	    "[program:c]\n"
	    "command = /bin/true\n"
	    "exitcodes = x\n"
	    "startretries = forever\n"
	    "umask = 088\n", 0);
	assert_null(conf);
	assert_counts(7, 0);
	assert_msg(1, "t.conf:3: [program:a] stopsignal: unknown signal 'FOO'");
	assert_msg(1, "t.conf:4: [program:a] exitcodes: exit codes are 0 to "
	    "255: 256 is out of range (0 to 255)");
	assert_msg(1, "t.conf:7: [program:b] stopsignal: unknown signal '0'");
	assert_msg(1, "t.conf:8: [program:b] exitcodes: expected a "
	    "comma-separated list of exit codes (such as 0,2), got '1,,2'");
	assert_msg(1, "t.conf:11: [program:c] exitcodes: exit codes are 0 to "
	    "255: expected a whole number, got 'x'");
	assert_msg(1, "t.conf:12: [program:c] startretries: expected a whole "
	    "number, got 'forever'");
	assert_msg(1, "t.conf:13: [program:c] umask: expected an octal number "
	    "(such as 022), got '088'");
}

static void
test_expansion(void **state)
{
	struct tend_conf *conf;
	struct program_conf *pc;
	char *want;

	setenv("TEND_TEST_SECS", " 5 ", 1);
	setenv("TEND_TEST_FLAG", "true", 1);
	unsetenv("TEND_TEST_UNSET");
	conf = load(
	    "[tend]\n"
	    "pidfile = %(here)s/tend.pid\n"
	    "[program:web]\n"
	    "command = /bin/echo %(program_name)s %(group_name)s "
	    "%(process_num)02d 100%%\n"
	    "startsecs = %(ENV_TEND_TEST_SECS)s\n"
	    "critical = %(ENV_TEND_TEST_FLAG)s\n"
	    "directory = %(here)s\n", 0);
	assert_non_null(conf);
	assert_counts(0, 0);
	xasprintf(&want, "%s/tend.pid", tmpdir);
	assert_string_equal(conf->pidfile, want);
	free(want);
	pc = program(conf, "web");
	assert_string_equal(pc->command, "/bin/echo web web 00 100%");
	assert_string_equal(pc->argv[1], "web");
	assert_string_equal(pc->argv[2], "web");
	assert_string_equal(pc->argv[3], "00");
	assert_string_equal(pc->argv[4], "100%");
	assert_true(pc->startsecs == 5);
	assert_true(pc->critical);
	assert_string_equal(pc->directory, tmpdir);
	config_free(conf);

	conf = load(
	    "[tend]\n"
	    "identifier = %(program_name)s\n"
	    "[program:a]\n"
	    "command = /bin/echo %(ENV_TEND_TEST_UNSET)s\n"
	    "directory = %(hre)s\n"
	    "priority = 50%\n", 0);
	assert_null(conf);
	assert_counts(4, 0);
	assert_msg(1, "t.conf:2: [tend] identifier: %(program_name)s is only "
	    "defined in [program:] sections");
	assert_msg(1, "t.conf:4: [program:a] command: "
	    "%(ENV_TEND_TEST_UNSET)s: environment variable TEND_TEST_UNSET "
	    "is not set");
	assert_msg(1, "t.conf:5: [program:a] directory: unknown name "
	    "%(hre)s; did you mean %(here)s?");
	assert_msg(1, "t.conf:6: [program:a] priority: lone % in \"%\": "
	    "write %% for a literal %");
}

static void
test_command(void **state)
{
	struct tend_conf *conf;
	struct program_conf *pc;
	char *text, *want;

	/* A bare name is found in PATH: the program's own PATH first. */
	mkdir("bin", 0755);
	write_file("bin/mytool", "#!/bin/sh\nexit 0\n");
	chmod("bin/mytool", 0755);
	write_file("bin/noexec", "#!/bin/sh\nexit 0\n");
	xasprintf(&text,
	    "[program:a]\n"
	    "command = sh -c 'echo \"a b\"; exit 3'  x\\ y\n"
	    "[program:b]\n"
	    "command = mytool --flag\n"
	    "environment = PATH=\"/nonexistent:%s/bin\"\n"
	    "[program:c]\n"
	    "command =\n"
	    "   /bin/echo\n"
	    "   two lines\n", tmpdir);
	conf = load(text, 0);
	free(text);
	assert_non_null(conf);
	assert_counts(0, 0);
	pc = program(conf, "a");
	/* argv[0] stays as written; the file found in PATH is pc->path */
	assert_string_equal(pc->argv[0], "sh");
	assert_non_null(pc->path);
	assert_true(pc->path[0] == '/');
	assert_string_equal(strrchr(pc->path, '/'), "/sh");
	assert_int_equal(access(pc->path, X_OK), 0);
	assert_string_equal(pc->argv[1], "-c");
	assert_string_equal(pc->argv[2], "echo \"a b\"; exit 3");
	assert_string_equal(pc->argv[3], "x y");
	assert_null(pc->argv[4]);
	pc = program(conf, "b");
	xasprintf(&want, "%s/bin/mytool", tmpdir);
	assert_string_equal(pc->argv[0], "mytool");
	assert_string_equal(pc->path, want);
	free(want);
	assert_string_equal(pc->argv[1], "--flag");
	pc = program(conf, "c");
	assert_string_equal(pc->argv[0], "/bin/echo");
	assert_string_equal(pc->argv[1], "two");
	assert_string_equal(pc->argv[2], "lines");
	config_free(conf);

	/* Errors: quotes, emptiness; missing and non-executable: warnings. */
	xasprintf(&text,
	    "[program:a]\n"
	    "command = echo 'unterminated\n"
	    "[program:b]\n"
	    "command =   \n"
	    "[program:c]\n"
	    "autostart = false\n"
	    "[program:d]\n"
	    "[program:e]\n"
	    "command = %s/bin/noexec\n"
	    "[program:f]\n"
	    "command = tend-no-such-command-anywhere\n"
	    "environment = PATH=/nonexistent\n", tmpdir);
	conf = load(text, 0);
	free(text);
	assert_null(conf);
	assert_counts(4, 2);
	assert_msg(1, "t.conf:2: [program:a] command: unterminated single "
	    "quote (opened at character 6)");
	assert_msg(1, "t.conf:4: [program:b] command: empty command");
	assert_msg(1, "t.conf:5: [program:c] command: missing (every program "
	    "needs one)");
	assert_msg(1, "t.conf:7: [program:d] command: missing (every program "
	    "needs one)");
	xasprintf(&text, "t.conf:9: [program:e] command: cannot execute "
	    "%s/bin/noexec: Permission denied", tmpdir);
	assert_msg(0, text);
	free(text);
	assert_msg(0, "t.conf:11: [program:f] command: "
	    "tend-no-such-command-anywhere not found in PATH (/nonexistent)");
}

static void
test_machine_warnings(void **state)
{
	struct tend_conf *conf;
	struct program_conf *pc;

	/* The machine's problems never stop the load, even under --strict. */
	conf = load(
	    "[program:a]\n"
	    "command = /nonexistent/bin/worker\n"
	    "directory = /nonexistent/dir\n"
	    "user = tend-no-such-user\n"
	    "[program:b]\n"
	    "command = /bin/true\n"
	    "stdout_logfile = /nonexistent/log/b.log\n", CONFIG_STRICT);
	assert_non_null(conf);
	assert_counts(0, 4);
	assert_msg(0, "t.conf:2: [program:a] command: cannot execute "
	    "/nonexistent/bin/worker: No such file or directory");
	assert_msg(0, "t.conf:3: [program:a] directory: /nonexistent/dir: No "
	    "such file or directory");
	assert_msg(0, "t.conf:4: [program:a] user: user 'tend-no-such-user' "
	    "does not exist");
	assert_msg(0, "t.conf:7: [program:b] stdout_logfile: log directory "
	    "/nonexistent/log: No such file or directory");
	pc = program(conf, "a");
	assert_string_equal(pc->argv[0], "/nonexistent/bin/worker");
	assert_string_equal(pc->directory, "/nonexistent/dir");
	assert_string_equal(pc->user, "tend-no-such-user");
	config_free(conf);
}

static void
test_errors_with_lines(void **state)
{
	struct tend_conf *conf;

	conf = load(
	    "stray = 1\n"
	    "[tend]\n"
	    "loglevel = loud\n"
	    "socket_mode = 0999\n"
	    "[program:a]\n"
	    "command = /bin/true\n"
	    "startsecs = -1\n"
	    "stopwaitsecs = 1e3\n"
	    "priority = 99999999999\n"
	    "this line is broken\n"
	    "numprocs = 2\n"
	    "stdout_logfile_maxbytes = 50XB\n"
	    "[program:b]\n"
	    "command = /bin/true\n"
	    "ready = sometimes\n"
	    "rlimit_nofile = lots\n", 0);
	assert_null(conf);
	assert_counts(11, 0);
	/* All of them, in line order, each FILE:LINE: [section] key: ... */
	assert_string_equal(d.msgs[0].text, "t.conf:1: stray: not in any "
	    "section (a [section] header must come first)");
	assert_string_equal(d.msgs[1].text, "t.conf:3: [tend] loglevel: "
	    "expected error, warn, info or debug, got 'loud'");
	assert_string_equal(d.msgs[2].text, "t.conf:4: [tend] socket_mode: "
	    "expected an octal number (such as 022), got '0999'");
	assert_string_equal(d.msgs[3].text, "t.conf:7: [program:a] startsecs: "
	    "expected a number of seconds (such as 5 or 0.5), got '-1'");
	assert_string_equal(d.msgs[4].text, "t.conf:8: [program:a] "
	    "stopwaitsecs: expected a number of seconds (such as 5 or 0.5), "
	    "got '1e3'");
	assert_string_equal(d.msgs[5].text, "t.conf:9: [program:a] priority: "
	    "99999999999 is out of range (-2147483648 to 2147483647)");
	assert_string_equal(d.msgs[6].text, "t.conf:10: syntax error: expected "
	    "'key = value' or '[section]'");
	assert_string_equal(d.msgs[7].text, "t.conf:11: [program:a] numprocs: "
	    "2 processes need a process_name with %(process_num)s (such as "
	    "process_name = %(program_name)s_%(process_num)02d)");
	assert_string_equal(d.msgs[8].text, "t.conf:12: [program:a] "
	    "stdout_logfile_maxbytes: expected a size (such as 50MB, 1024KB "
	    "or 0), got '50XB'");
	assert_string_equal(d.msgs[9].text, "t.conf:15: [program:b] ready: "
	    "expected none or notify, got 'sometimes'");
	assert_string_equal(d.msgs[10].text, "t.conf:16: [program:b] "
	    "rlimit_nofile: expected a number, a size or unlimited, got "
	    "'lots'");
}

static void
test_program_names(void **state)
{
	struct tend_conf *conf;

	conf = load(
	    "[program:]\ncommand=/bin/true\n"
	    "[program:a b]\ncommand=/bin/true\n"
	    "[program:a/b]\ncommand=/bin/true\n"
	    "[program:a:b]\ncommand=/bin/true\n"
	    "[program:a\tb]\ncommand=/bin/true\n"
	    "[program:ok-name_1.x]\ncommand=/bin/true\n", 0);
	assert_null(conf);
	assert_counts(5, 0);
	assert_msg(1, "t.conf:1: [program:]: a program name must be "
	    "non-empty, without ':', '/', blanks or control characters");
	assert_msg(1, "t.conf:3: [program:a b]: a program name must be "
	    "non-empty, without ':', '/', blanks or control characters");
	assert_msg(1, "t.conf:5: [program:a/b]: a program name must be "
	    "non-empty, without ':', '/', blanks or control characters");
	assert_msg(1, "t.conf:7: [program:a:b]: a program name must be "
	    "non-empty, without ':', '/', blanks or control characters");
	assert_msg(1, "t.conf:9: [program:a\tb]: a program name must be "
	    "non-empty, without ':', '/', blanks or control characters");
}

/*
 * Names are UTF-8 without control characters (spec §1), whichever way
 * they come: a section, a group's list, or an expansion. The message is
 * text too: the bad byte is shown as U+FFFD.
 */
static void
test_program_names_are_text(void **state)
{
	struct tend_conf *conf;

	setenv("TEND_TEST_NAME", "x\xff", 1);
	conf = load(
	    "[program:caf\xe9]\ncommand=/bin/true\n"
	    "[program:nel\xc2\x85]\ncommand=/bin/true\n"
	    "[program:del\x7f]\ncommand=/bin/true\n"
	    "[program:p]\ncommand=/bin/true\n"
	    "process_name = %(ENV_TEND_TEST_NAME)s\n"
	    "[group:g\xc3]\nprograms = ok\xc3\xa9\n"
	    "[group:h]\nprograms = ok\xc3\xa9,b\xe9" "d\n"
	    "[program:ok\xc3\xa9]\ncommand=/bin/true\n", 0);
	unsetenv("TEND_TEST_NAME");
	assert_null(conf);
	assert_counts(6, 0);
	assert_msg(1, "t.conf:1: [program:caf\xef\xbf\xbd]: a program name "
	    "must be valid UTF-8");
	assert_msg(1, "t.conf:3: [program:nel\xc2\x85]: a program name must "
	    "be non-empty, without ':', '/', blanks or control characters");
	assert_msg(1, "t.conf:5: [program:del\x7f]: a program name must "
	    "be non-empty, without ':', '/', blanks or control characters");
	assert_msg(1, "t.conf:9: [program:p] process_name: 'x\xef\xbf\xbd' is "
	    "not a valid process name: it must be valid UTF-8");
	assert_msg(1, "t.conf:10: [group:g\xef\xbf\xbd]: a group name must be "
	    "valid UTF-8");
	assert_msg(1, "t.conf:13: [group:h] programs: 'b\xef\xbf\xbd" "d' is "
	    "not a program name");

	/* A name in any script, alone, is fine. */
	conf = load("[program:caf\xc3\xa9]\ncommand=/bin/true\n"
	    "[group:\xe6\x97\xa5]\nprograms = caf\xc3\xa9\n", 0);
	assert_non_null(conf);
	assert_counts(0, 0);
	assert_string_equal(TAILQ_FIRST(&conf->programs)->group,
	    "\xe6\x97\xa5");
	config_free(conf);
}

static void
test_duplicates(void **state)
{
	struct tend_conf *conf;
	struct program_conf *pc;

	conf = load(
	    "[program:a]\n"
	    "command = /bin/echo one\n"
	    "priority = 1\n"
	    "PRIORITY = 2\n"
	    "[program:b]\n"
	    "command = /bin/true\n"
	    "[program:a]\n"
	    "command = /bin/echo two\n", 0);
	assert_non_null(conf);
	assert_counts(0, 3);
	assert_msg(0, "t.conf:4: [program:a] PRIORITY: given twice (also at "
	    "line 3); the last one is used");
	assert_msg(0, "t.conf:7: [program:a]: the section is also at line 1; "
	    "the two are read as one");
	assert_msg(0, "t.conf:8: [program:a] command: given twice (also at "
	    "line 2); the last one is used");
	assert_int_equal(conf->nprograms, 2);
	pc = program(conf, "a");
	assert_int_equal(pc->priority, 2);
	assert_string_equal(pc->argv[1], "two");
	config_free(conf);

	conf = load("[program:a]\ncommand = /bin/true\ncommand = /bin/false\n",
	    CONFIG_STRICT);
	assert_null(conf);
	assert_counts(1, 0);
}

static void
test_unknown_and_unsupported(void **state)
{
	static const char text[] =
	    "[tend]\n"
	    "logfle = x\n"
	    "[program:a]\n"
	    "command = /bin/true\n"
	    "autorestrat = true\n"
	    "frobnicate = 1\n"
	    "[programm:b]\n"
	    "[rpcinterface:c]\n"
	    "supervisor.rpcinterface_factory = x\n"
	    "; a Python plugin: the one kind of section still ignored\n"
	    "[rpcinterface:supervisor]\n"
	    "[supervisorctl]\n"
	    "[inet_http_server]\n"
	    "[grop:g]\n"
	    "[include]\n"
	    "[tned]\n"
	    "[whatever]\n";
	struct tend_conf *conf;
	int i;

	conf = load(text, 0);
	assert_non_null(conf);
	/* [rpcinterface:supervisor], [supervisorctl], [inet_http_server]:
	   read without a word (spec sections 2, 9); [fcgi-program:] and
	   [eventlistener:] are sections of their own (8, 10) */
	assert_counts(0, 9);
	assert_msg(0, "t.conf:2: [tend] logfle: unknown key; did you mean "
	    "logfile?");
	assert_msg(0, "t.conf:5: [program:a] autorestrat: unknown key; did "
	    "you mean autorestart?");
	assert_msg(0, "t.conf:6: [program:a] frobnicate: unknown key; "
	    "ignored");
	assert_msg(0, "t.conf:7: [programm:b]: unknown section; did you mean "
	    "[program:b]?");
	assert_msg(0, "t.conf:8: [rpcinterface:c]: not supported by tend; "
	    "the section is ignored");
	assert_msg(0, "t.conf:14: [grop:g]: unknown section; did you mean "
	    "[group:g]?");
	assert_msg(0, "t.conf:15: [include] files: missing, so nothing is "
	    "included");
	assert_msg(0, "t.conf:16: [tned]: unknown section; did you mean "
	    "[tend]?");
	assert_msg(0, "t.conf:17: [whatever]: unknown section; ignored");
	assert_int_equal(conf->nprograms, 1);
	config_free(conf);

	/* --strict: the same messages, as errors. */
	conf = load(text, CONFIG_STRICT);
	assert_null(conf);
	assert_counts(9, 0);
	for (i = 0; i < d.n; i++)
		assert_true(d.msgs[i].is_error);
}

static void
test_accepted_keys(void **state)
{
	struct tend_conf *conf;

	/* supervisord's and later tend keys: read, checked, no warning. */
	write_file("a.env", "A=1\n");
	conf = load(
	    "[supervisord]\n"
	    "nodaemon = true\n"
	    "logfile_maxbytes = 50MB\n"
	    "logfile_backups = 10\n"
	    "minfds = 1024\n"
	    "minprocs = 200\n"
	    "[program:a]\n"
	    "command = /bin/true\n"
	    "numprocs = 1\n"
	    "numprocs_start = 0\n"
	    "process_name = %(program_name)s_%(process_num)02d\n"
	    "redirect_stderr = true\n"
	    "stdout_logfile = AUTO\n"
	    "stdout_logfile_maxbytes = 1KB\n"
	    "stdout_logfile_backups = 3\n"
	    "stderr_logfile = NONE\n"
	    "stderr_logfile_maxbytes = 0\n"
	    "stderr_logfile_backups = 0\n"
	    "stdout_capture_maxbytes = 1GB\n"
	    "stderr_capture_maxbytes = 10 MB\n"
	    "stdout_events_enabled = false\n"
	    "stderr_events_enabled = false\n"
	    "stdout_syslog = false\n"
	    "stderr_syslog = false\n"
	    "serverurl = AUTO\n"
	    "log_timestamps = true\n"
	    "ready = notify\n"
	    "ready_timeout = 90\n"
	    "watchdog_secs = 0\n"
	    "env_file = a.env\n"
	    "rlimit_nofile = 4096\n"
	    "rlimit_core = unlimited\n"
	    /* pidfile excludes ready = notify: a program of its own */
	    "[program:b]\n"
	    "command = /bin/true\n"
	    "pidfile = b.pid\n", 0);
	assert_non_null(conf);
	assert_counts(0, 0);
	config_free(conf);
}

/* The output keys are stored, with supervisord's defaults and units. */
static void
test_output_keys(void **state)
{
	struct tend_conf *conf;
	struct program_conf *pc;
	char *expect;
	static const char *const changes[] = {
		"stdout_logfile = NONE\n", "stdout_logfile_maxbytes = 1MB\n",
		"stdout_logfile_backups = 2\n", "stderr_logfile = journal\n",
		"stderr_logfile_maxbytes = 1\n", "stderr_logfile_backups = 1\n",
		"redirect_stderr = true\n", "log_timestamps = true\n",
	};
	struct tend_conf *c2;
	char *text;
	size_t i;

	conf = load(
	    "[program:d]\n"
	    "command = /bin/true\n"
	    "[program:a]\n"
	    "command = /bin/true\n"
	    "stdout_logfile = a.log\n"
	    "stdout_logfile_maxbytes = 3KB\n"
	    "stdout_logfile_backups = 0\n"
	    "stderr_logfile = none\n"
	    "stderr_logfile_maxbytes = 2GB\n"
	    "redirect_stderr = yes\n"
	    "log_timestamps = on\n"
	    "[program:b]\n"
	    "command = /bin/true\n"
	    "stdout_logfile = /dev/stdout\n"
	    "stderr_logfile = syslog\n"
	    "stdout_logfile_maxbytes = 0\n"
	    "[program:c]\n"
	    "command = /bin/true\n"
	    "stdout_logfile = auto\n"
	    "stderr_logfile = JOURNAL\n", 0);
	if (conf == NULL)
		dump();
	assert_non_null(conf);
	assert_counts(0, 0);

	pc = program(conf, "d");
	assert_string_equal(pc->stdout_logfile, "AUTO");
	assert_string_equal(pc->stderr_logfile, "AUTO");
	assert_int_equal(pc->stdout_maxbytes, 50LL * 1024 * 1024);
	assert_int_equal(pc->stderr_maxbytes, 50LL * 1024 * 1024);
	assert_int_equal(pc->stdout_backups, 10);
	assert_int_equal(pc->stderr_backups, 10);
	assert_false(pc->redirect_stderr);
	assert_false(pc->log_timestamps);

	pc = program(conf, "a");
	xasprintf(&expect, "%s/a.log", tmpdir);
	assert_string_equal(pc->stdout_logfile, expect);
	free(expect);
	assert_int_equal(pc->stdout_maxbytes, 3 * 1024);
	assert_int_equal(pc->stdout_backups, 0);
	assert_string_equal(pc->stderr_logfile, "NONE");
	assert_int_equal(pc->stderr_maxbytes, 2LL * 1024 * 1024 * 1024);
	assert_true(pc->redirect_stderr);
	assert_true(pc->log_timestamps);

	pc = program(conf, "b");
	assert_string_equal(pc->stdout_logfile, "/dev/stdout");
	assert_string_equal(pc->stderr_logfile, "journal");
	assert_int_equal(pc->stdout_maxbytes, 0);

	pc = program(conf, "c");
	assert_string_equal(pc->stdout_logfile, "AUTO");
	assert_string_equal(pc->stderr_logfile, "journal");

	/* Each output setting makes a program different for a reload. */
	for (i = 0; i < nitems(changes); i++) {
		xasprintf(&text, "[program:d]\ncommand = /bin/true\n%s",
		    changes[i]);
		c2 = load(text, 0);
		free(text);
		assert_non_null(c2);
		assert_false(config_program_equal(program(conf, "d"),
		    program(c2, "d")));
		config_free(c2);
	}
	config_free(conf);
}

static void
test_supervisord_compat(void **state)
{
	struct tend_conf *conf;
	struct passwd *pw = getpwuid(geteuid());
	char *text;

	assert_non_null(pw);
	xasprintf(&text,
	    "[unix_http_server]\n"
	    "file = run/supervisor.sock\n"
	    "chmod = 0770\n"
	    "chown = %s\n"
	    "[supervisord]\n"
	    "loglevel = warning\n"
	    "logfile = log/supervisord.log\n"
	    "childlogdir = .\n"
	    "user = %s\n"
	    "umask = 002\n"
	    "identifier = sv\n"
	    "[tend]\n"
	    "directory = %%(here)s\n", pw->pw_name, pw->pw_name);
	mkdir("log", 0755);
	conf = load(text, 0);
	free(text);
	assert_non_null(conf);
	assert_counts(0, 0);
	xasprintf(&text, "%s/run/supervisor.sock", tmpdir);
	assert_string_equal(conf->socket, text);
	free(text);
	assert_int_equal(conf->socket_mode, 0770);
	assert_string_equal(conf->socket_owner, pw->pw_name);
	assert_int_equal(conf->loglevel, LOG_LEVEL_WARN);
	xasprintf(&text, "%s/log/supervisord.log", tmpdir);
	assert_string_equal(conf->logfile, text);
	free(text);
	assert_string_equal(conf->childlogdir, tmpdir);
	assert_string_equal(conf->directory, tmpdir);
	assert_int_equal(conf->umask, 002);
	assert_string_equal(conf->identifier, "sv");
	assert_int_equal(conf->nprograms, 0);
	config_free(conf);

	/* [tend] wins over [unix_http_server]; both [tend] and [supervisord]. */
	conf = load(
	    "[tend]\n"
	    "socket = /tmp/tend-test.sock\n"
	    "socket_mode = 0660\n"
	    "loglevel = blather\n"
	    "logfile = JOURNAL\n"
	    "[unix_http_server]\n"
	    "file = /tmp/other.sock\n"
	    "chmod = 0777\n"
	    "username = u\n"
	    "[supervisord]\n"
	    "loglevel = critical\n"
	    "user = tend-no-such-user\n", 0);
	assert_non_null(conf);
	/* username is the XML-RPC interface's Basic auth (spec section 9) */
	assert_counts(0, 2);
	assert_string_equal(conf->http_username, "u");
	assert_msg(0, "t.conf:11: [supervisord] loglevel: given twice (also "
	    "at line 4); the last one is used");
	assert_msg(0, "t.conf:12: [supervisord] user: not supported by tend, "
	    "which runs as the user that starts it; ignored");
	assert_string_equal(conf->socket, "/tmp/tend-test.sock");
	assert_int_equal(conf->socket_mode, 0660);
	assert_int_equal(conf->loglevel, LOG_LEVEL_ERROR);
	assert_string_equal(conf->logfile, "journal");
	config_free(conf);

	conf = load("[tend]\nloglevel = trace\nlogfile = auto\n", 0);
	assert_non_null(conf);
	assert_int_equal(conf->loglevel, LOG_LEVEL_DEBUG);
	assert_string_equal(conf->logfile, "auto");
	config_free(conf);
}

static void
test_socket(void **state)
{
	struct tend_conf *conf;
	char *text, *want, longname[200];

	conf = load("[tend]\nsocket = sub/../tend.sock\n", 0);
	assert_non_null(conf);
	xasprintf(&want, "%s/tend.sock", tmpdir);
	assert_string_equal(conf->socket, want);
	free(want);
	config_free(conf);

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	xasprintf(&text, "[tend]\nsocket = /tmp/%s\n", longname);
	conf = load(text, 0);
	free(text);
	assert_null(conf);
	assert_counts(1, 0);
	xasprintf(&want, "t.conf:2: [tend] socket: the socket path /tmp/%s is "
	    "204 bytes long; Unix sockets allow at most 107", longname);
	assert_msg(1, want);
	free(want);
}

static void
test_long_lines(void **state)
{
	struct tend_conf *conf;
	struct program_conf *pc;
	char name[201], *value, *text, *want;
	size_t big = 64 * 1024;

	memset(name, 'n', 200);
	name[200] = '\0';
	value = xmalloc(big + 1);
	memset(value, 'v', big);
	value[big] = '\0';
	xasprintf(&text,
	    "[program:%s]\n"
	    "command = /bin/echo %s\n"
	    "environment = BIG=\"%s\",SMALL=1\n"
	    "\n"
	    "autostart = nope\n"
	    "%s = 1\n", name, value, value, name);
	conf = load(text, 0);
	free(text);
	assert_null(conf);
	assert_counts(1, 1);
	xasprintf(&want, "t.conf:5: [program:%s] autostart: expected true or "
	    "false, got 'nope'", name);
	assert_msg(1, want);
	free(want);
	xasprintf(&want, "t.conf:6: [program:%s] %s: unknown key; ignored",
	    name, name);
	assert_msg(0, want);
	free(want);

	xasprintf(&text,
	    "[program:%s]\n"
	    "command = /bin/echo %s\n"
	    "environment = BIG=\"%s\",SMALL=1\n", name, value, value);
	conf = load(text, 0);
	free(text);
	assert_non_null(conf);
	assert_counts(0, 0);
	pc = program(conf, name);
	assert_string_equal(pc->argv[1], value);
	assert_int_equal(strlen(pc->environment[0]), 4 + big);
	assert_string_equal(pc->environment[1], "SMALL=1");
	config_free(conf);
	free(value);
}

static void
test_file_format(void **state)
{
	struct tend_conf *conf;
	struct program_conf *pc;

	conf = load(
	    "\xef\xbb\xbf; a supervisord config from Windows\r\n"
	    "[program:a]\r\n"
	    "command = /bin/echo hi ; a comment\r\n"
	    "priority: 5 # another\r\n"
	    "environment =\r\n"
	    "    A=1,\r\n"
	    "    B=2\r\n"
	    "autostart=false\r\n", 0);
	assert_non_null(conf);
	assert_counts(0, 0);
	pc = program(conf, "a");
	assert_int_equal(pc->line, 2);
	assert_string_equal(pc->argv[1], "hi");
	assert_null(pc->argv[2]);
	assert_int_equal(pc->priority, 5);
	assert_string_equal(pc->environment[0], "A=1");
	assert_string_equal(pc->environment[1], "B=2");
	assert_false(pc->autostart);
	config_free(conf);

	conf = load("[program:a\ncommand = /bin/true\n[program:b]\n"
	    "command = /bin/true\n", 0);
	assert_null(conf);
	assert_counts(1, 0);
	assert_msg(1, "t.conf:1: syntax error: missing ']' at the end of the "
	    "section header");

	/* Keys under a broken header are not blamed on the section before. */
	conf = load("[program:a]\ncommand = /bin/true\n[program:b\n"
	    "command = /bin/false\n", 0);
	assert_null(conf);
	assert_counts(1, 0);
	assert_msg(1, "t.conf:3: syntax error: missing ']' at the end of the "
	    "section header");
}

static void
test_unreadable(void **state)
{
	struct tend_conf *conf;

	diag_clear(&d);
	conf = config_load("missing.conf", 0, &d);
	assert_null(conf);
	assert_counts(1, 0);
	assert_string_equal(d.msgs[0].text, "cannot read missing.conf: No such "
	    "file or directory");
}

static void
test_program_equal(void **state)
{
	static const char base[] =
	    "[program:a]\n"
	    "command = /bin/echo x\n"
	    "environment = A=1\n"
	    "stopwaitsecs = 3\n";
	struct tend_conf *c1, *c2;
	char *text;

	c1 = load(base, 0);
	c2 = load(base, 0);
	assert_non_null(c1);
	assert_non_null(c2);
	assert_true(config_program_equal(program(c1, "a"), program(c2, "a")));
	config_free(c2);

	/* Blanks in the command do not matter, the words do. */
	c2 = load("[program:a]\ncommand =   /bin/echo   'x'\n"
	    "environment = A=1\nstopwaitsecs = 3.0\n", 0);
	assert_true(config_program_equal(program(c1, "a"), program(c2, "a")));
	config_free(c2);

	xasprintf(&text, "%s%s", base, "environment = A=2\n");
	c2 = load(text, 0);
	free(text);
	assert_false(config_program_equal(program(c1, "a"),
	    program(c2, "a")));
	config_free(c2);
	xasprintf(&text, "%s%s", base, "stopsignal = INT\n");
	c2 = load(text, 0);
	free(text);
	assert_false(config_program_equal(program(c1, "a"),
	    program(c2, "a")));
	config_free(c2);
	xasprintf(&text, "%s%s", base, "directory = /\n");
	c2 = load(text, 0);
	free(text);
	assert_false(config_program_equal(program(c1, "a"),
	    program(c2, "a")));
	config_free(c2);
	c2 = load("[program:a]\ncommand = /bin/echo y\nenvironment = A=1\n"
	    "stopwaitsecs = 3\n", 0);
	assert_false(config_program_equal(program(c1, "a"),
	    program(c2, "a")));
	config_free(c2);
	config_free(c1);
}

/*
 * [tend] logfile: the words, every spelling of tendd's stdout and
 * stderr, and the rotation of a path (spec §2: 50MB, 10).
 */
static void
test_log_destinations(void **state)
{
	static const struct {
		const char	*written;
		const char	*stored;
	} cases[] = {
		{ "stderr", "stderr" },
		{ "JOURNAL", "journal" },
		{ "Syslog", "syslog" },
		{ "/dev/stdout", "/dev/stdout" },
		{ "/dev/fd/1", "/dev/stdout" },
		{ "/proc/self/fd/1", "/dev/stdout" },
		{ "/proc/thread-self/fd/1", "/dev/stdout" },
		{ "/dev/stderr", "/dev/stderr" },
		{ "/dev/fd/2", "/dev/stderr" },
		{ "/proc/self/fd/2", "/dev/stderr" },
		/* Not tendd's 1 or 2: a path like any other. */
		{ "/dev/fd/3", "/dev/fd/3" },
		{ "/proc/self/fd/12", "/proc/self/fd/12" },
	};
	struct tend_conf *conf;
	struct program_conf *pc;
	char *text, *want;
	size_t i;

	setenv("TEND_SYSLOG_SOCKET", "/nonexistent/tend-test-log", 1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		xasprintf(&text, "[tend]\nlogfile = %s\n[program:p]\n"
		    "command = /bin/true\nstdout_logfile = %s\n",
		    cases[i].written, cases[i].written);
		conf = load(text, 0);
		free(text);
		assert_non_null(conf);
		assert_string_equal(conf->logfile, cases[i].stored);
		pc = program(conf, "p");
		if (strcmp(cases[i].stored, "syslog") == 0)
			assert_string_equal(pc->stdout_logfile, "journal");
		else if (cases[i].stored[0] == '/')
			assert_string_equal(pc->stdout_logfile,
			    cases[i].stored);
		config_free(conf);
	}
	/* syslog with nothing listening: said at --check, not an error. */
	conf = load("[tend]\nlogfile = syslog\n", 0);
	assert_non_null(conf);
	assert_msg(0, "t.conf:2: [tend] logfile: syslog: "
	    "/nonexistent/tend-test-log: No such file or directory; tendd "
	    "will log to stderr until it exists");
	assert_counts(0, 1);
	config_free(conf);
	unsetenv("TEND_SYSLOG_SOCKET");

	/* tendd's pid in /proc/PID/fd/N is its own descriptor too. */
	xasprintf(&text, "[tend]\nlogfile = /proc/%ld/fd/1\n",
	    (long)getpid());
	conf = load(text, 0);
	free(text);
	assert_non_null(conf);
	assert_string_equal(conf->logfile, "/dev/stdout");
	config_free(conf);

	/* A path: relative to the file, rotated as the spec says. */
	conf = load("[tend]\nlogfile = own.log\n", 0);
	assert_non_null(conf);
	xasprintf(&want, "%s/own.log", tmpdir);
	assert_string_equal(conf->logfile, want);
	free(want);
	assert_true(conf->logfile_maxbytes == 50LL * 1024 * 1024);
	assert_int_equal(conf->logfile_backups, 10);
	config_free(conf);
	conf = load("[supervisord]\nlogfile = own.log\n"
	    "logfile_maxbytes = 1KB\nlogfile_backups = 0\n", 0);
	assert_non_null(conf);
	assert_true(conf->logfile_maxbytes == 1024);
	assert_int_equal(conf->logfile_backups, 0);
	config_free(conf);
	conf = load("[tend]\nlogfile_maxbytes = lots\n", 0);
	assert_null(conf);
	assert_counts(1, 0);
}

/* The processes of CONF in file order: "GROUP:NAME" ... */
static struct program_conf *
process(struct tend_conf *conf, const char *group, const char *name)
{
	struct program_conf *pc;

	TAILQ_FOREACH(pc, &conf->programs, entry)
		if (strcmp(pc->group, group) == 0 &&
		    strcmp(pc->name, name) == 0)
			return pc;
	fail_msg("no process %s:%s", group, name);
	return NULL;
}

static void
test_numprocs(void **state)
{
	struct tend_conf *conf;
	struct program_conf *pc;
	int n;

	setenv("TEND_TEST_WORKERS", " 3 ", 1);
	conf = load(
	    "[program:celery]\n"
	    "command = /bin/echo worker-%(process_num)d of %(numprocs)d\n"
	    "process_name = %(program_name)s_%(process_num)02d\n"
	    "numprocs = %(ENV_TEND_TEST_WORKERS)s\n"
	    "numprocs_start = 8\n"
	    "environment = SLOT=%(process_num)s,GROUP=%(group_name)s\n"
	    "priority = %(process_num)d\n"
	    "[program:one]\n"
	    "command = /bin/true\n"
	    "[program:off]\n"
	    "command = /bin/true\n"
	    "numprocs = 0\n", 0);
	assert_non_null(conf);
	assert_counts(0, 0);
	assert_int_equal(conf->nprograms, 3);
	assert_int_equal(conf->nprocs, 4);
	assert_int_equal(conf->ngroups, 2);
	/* Each process has its own expansion of every key. */
	for (n = 8; n <= 10; n++) {
		char name[32], arg[32], slot[32];

		snprintf(name, sizeof(name), "celery_%02d", n);
		snprintf(arg, sizeof(arg), "worker-%d", n);
		snprintf(slot, sizeof(slot), "SLOT=%d", n);
		pc = process(conf, "celery", name);
		assert_string_equal(pc->program, "celery");
		assert_int_equal(pc->process_num, n);
		assert_int_equal(pc->numprocs, 3);
		assert_string_equal(pc->argv[1], arg);
		assert_string_equal(pc->argv[3], "3");
		assert_string_equal(pc->environment[0], slot);
		assert_string_equal(pc->environment[1], "GROUP=celery");
		assert_int_equal(pc->priority, n);
		assert_int_equal(pc->group_priority, n);
	}
	/* File order, and a lone program is its own group. */
	pc = TAILQ_FIRST(&conf->programs);
	assert_string_equal(pc->name, "celery_08");
	pc = process(conf, "one", "one");
	assert_int_equal(pc->process_num, 0);
	assert_int_equal(pc->numprocs, 1);
	config_free(conf);

	/* Errors, each at its line. */
	conf = load(
	    "[program:a]\n"
	    "command = /bin/true\n"
	    "numprocs = 2\n"
	    "[program:b]\n"
	    "command = /bin/true\n"
	    "numprocs = 2\n"
	    "process_name = b_%(program_name)s\n"
	    "[program:c]\n"
	    "command = /bin/true\n"
	    "numprocs = %(process_num)d\n"
	    "numprocs_start = -1\n"
	    "[program:d]\n"
	    "command = /bin/true\n"
	    "numprocs = 100001\n"
	    "[program:e]\n"
	    "command = /bin/true\n"
	    "process_name = x:%(process_num)d\n"
	    "[program:f]\n"
	    "command = /bin/true\n"
	    "process_name = f%(process_num)d\n"
	    "numprocs = 2\n"
	    "numprocs_start = 2147483647\n"
	    "stopsignal = NOPE\n", 0);
	assert_null(conf);
	assert_counts(8, 0);
	assert_msg(1, "t.conf:3: [program:a] numprocs: 2 processes need a "
	    "process_name with %(process_num)s (such as process_name = "
	    "%(program_name)s_%(process_num)02d)");
	assert_msg(1, "t.conf:7: [program:b] process_name: with numprocs = 2 "
	    "it must contain %(process_num)s (such as "
	    "%(program_name)s_%(process_num)02d)");
	assert_msg(1, "t.conf:10: [program:c] numprocs: %(process_num)d is "
	    "not defined here: the number of processes is read before there "
	    "are processes");
	assert_msg(1, "t.conf:11: [program:c] numprocs_start: -1 is out of "
	    "range (0 to 2147483647)");
	assert_msg(1, "t.conf:14: [program:d] numprocs: 100001 is out of "
	    "range (0 to 10000)");
	assert_msg(1, "t.conf:17: [program:e] process_name: 'x:0' is not a "
	    "valid process name: it must be non-empty, without ':', '/', "
	    "blanks or control characters");
	assert_msg(1, "t.conf:22: [program:f] numprocs_start: numprocs_start "
	    "+ numprocs goes beyond 2147483647");
	/* The rest of a program with a bad count is still read. */
	assert_msg(1, "t.conf:23: [program:f] stopsignal: unknown signal "
	    "'NOPE'");

	/* What 50 copies of a program have to say is said once. */
	conf = load(
	    "[program:w]\n"
	    "command = /nonexistent/w\n"
	    "process_name = w%(process_num)d\n"
	    "numprocs = 50\n", 0);
	assert_non_null(conf);
	assert_counts(0, 1);
	assert_msg(0, "t.conf:2: [program:w] command: cannot execute "
	    "/nonexistent/w: No such file or directory");
	assert_int_equal(conf->nprocs, 50);
	config_free(conf);
	conf = load(
	    "[program:w]\n"
	    "command = /bin/true\n"
	    "process_name = w%(process_num)d\n"
	    "numprocs = 50\n"
	    "startsecs = %(process_num)dx\n", 0);
	assert_null(conf);
	assert_counts(1, 0);
	assert_msg(1, "t.conf:5: [program:w] startsecs: expected a number of "
	    "seconds (such as 5 or 0.5), got '0x'");
}

static void
test_groups(void **state)
{
	struct tend_conf *conf;
	struct program_conf *pc;

	conf = load(
	    "[group:web]\n"
	    "programs = nginx, php\n"
	    "priority = 10\n"
	    "[program:nginx]\n"
	    "command = /bin/echo %(group_name)s %(program_name)s\n"
	    "priority = 5\n"
	    "[program:php]\n"
	    "command = /bin/true\n"
	    "process_name = php_%(process_num)d\n"
	    "numprocs = 2\n"
	    "[program:cron]\n"
	    "command = /bin/true\n"
	    "priority = 3\n"
	    "[group:both]\n"
	    "programs = cron,\n"
	    "   nginx\n", 0);
	assert_non_null(conf);
	assert_counts(0, 1);
	assert_msg(0, "t.conf:15: [group:both] programs: nginx is also in "
	    "[group:web] (line 2); it runs once in each group, as under "
	    "supervisord");
	assert_int_equal(conf->nprograms, 3);
	/* nginx in web and in both, php twice, cron in both */
	assert_int_equal(conf->nprocs, 5);
	assert_int_equal(conf->ngroups, 2);
	pc = process(conf, "web", "nginx");
	assert_string_equal(pc->argv[1], "web");
	assert_string_equal(pc->argv[2], "nginx");
	assert_int_equal(pc->priority, 5);
	assert_int_equal(pc->group_priority, 10);
	pc = process(conf, "both", "nginx");
	assert_string_equal(pc->argv[1], "both");
	assert_int_equal(pc->group_priority, 999);
	process(conf, "web", "php_0");
	process(conf, "web", "php_1");
	pc = process(conf, "both", "cron");
	assert_int_equal(pc->group_priority, 999);
	config_free(conf);

	conf = load(
	    "[group:g]\n"
	    "programs = alpha,betta\n"
	    "priorty = 1\n"
	    "[group:h]\n"
	    "priority = high\n"
	    "[group:i:j]\n"
	    "programs = alpha\n"
	    "[program:alpha]\n"
	    "command = /bin/true\n"
	    "[program:beta]\n"
	    "command = /bin/true\n"
	    "[group:k]\n"
	    "programs = alpha, alpha, bad/name\n", 0);
	assert_null(conf);
	assert_counts(5, 3);
	assert_msg(1, "t.conf:2: [group:g] programs: no [program:betta] "
	    "section; did you mean beta?");
	assert_msg(0, "t.conf:3: [group:g] priorty: unknown key; did you "
	    "mean priority?");
	assert_msg(1, "t.conf:4: [group:h] programs: missing (a group lists "
	    "its programs: programs = a,b)");
	assert_msg(1, "t.conf:5: [group:h] priority: expected a whole "
	    "number, got 'high'");
	assert_msg(1, "t.conf:6: [group:i:j]: a group name must be "
	    "non-empty, without ':', '/', blanks or control characters");
	assert_msg(0, "t.conf:13: [group:k] programs: alpha is listed twice");
	assert_msg(1, "t.conf:13: [group:k] programs: 'bad/name' is not a "
	    "program name");
	assert_msg(0, "t.conf:13: [group:k] programs: alpha is also in "
	    "[group:g] (line 2); it runs once in each group, as under "
	    "supervisord");

	/* Two programs may not give one group two processes of one name. */
	conf = load(
	    "[group:g]\n"
	    "programs = a,b\n"
	    "[program:a]\n"
	    "command = /bin/true\n"
	    "process_name = worker\n"
	    "[program:b]\n"
	    "command = /bin/true\n"
	    "process_name = worker\n", 0);
	assert_null(conf);
	assert_counts(1, 0);
	assert_msg(1, "t.conf:6: [program:b]: process g:worker is also a "
	    "process of [program:a] (line 3); process names must differ");
}

static void
test_include(void **state)
{
	struct tend_conf *conf;
	struct program_conf *pc;
	char *text, *want;

	mkdir("conf.d", 0755);
	mkdir("conf.d/sub", 0755);
	mkdir("empty.d", 0755);
	write_file("conf.d/10-web.conf",
	    "[program:web]\n"
	    "command = /bin/echo %(here)s\n"
	    "directory = sub\n"
	    "[include]\n"
	    "files = sub/*.ini\n");
	write_file("conf.d/20-worker.conf",
	    "; a comment first\n"
	    "[program:worker]\n"
	    "command = /bin/true\n"
	    "[program:main]\n"
	    "priority = 7\n");
	write_file("conf.d/sub/x.ini",
	    "[group:g]\n"
	    "programs = web,worker\n");
	write_file("conf.d/README", "not read: no .conf\n");
	conf = load(
	    "[program:main]\n"
	    "command = /bin/true\n"
	    "priority = 1\n"
	    "[include]\n"
	    "files = conf.d/*.conf %(here)s/empty.d/*.conf\n", 0);
	assert_non_null(conf);
	xasprintf(&want, "%s/conf.d/20-worker.conf:5: [program:main] "
	    "priority: given twice (also at t.conf:3); the last one is used",
	    tmpdir);
	assert_msg(0, want);
	free(want);
	xasprintf(&want, "%s/conf.d/20-worker.conf:4: [program:main]: the "
	    "section is also at t.conf:1; the two are read as one", tmpdir);
	assert_msg(0, want);
	free(want);
	/* A glob that matches nothing is a warning, as in supervisord. */
	xasprintf(&want, "t.conf:5: [include] files: no file matches "
	    "%s/empty.d/*.conf", tmpdir);
	assert_msg(0, want);
	free(want);
	assert_counts(0, 3);
	assert_int_equal(conf->nprocs, 3);
	/* %(here)s and relative paths are the including file's own. */
	pc = process(conf, "g", "web");
	xasprintf(&want, "%s/conf.d", tmpdir);
	assert_string_equal(pc->argv[1], want);
	free(want);
	xasprintf(&want, "%s/conf.d/sub", tmpdir);
	assert_string_equal(pc->directory, want);
	free(want);
	/* The included value wins, as the file read last. */
	assert_int_equal(process(conf, "main", "main")->priority, 7);
	process(conf, "g", "worker");
	config_free(conf);

	/* Loops, files named that do not exist, errors in included files. */
	write_file("a.conf", "[include]\nfiles = b.conf\n");
	write_file("b.conf", "[program:b]\ncommand = /bin/true\n"
	    "startsecs = soon\n[include]\nfiles = a.conf t.conf\n");
	conf = load(
	    "[include]\n"
	    "files = a.conf missing.conf\n"
	    "fils = x\n", 0);
	assert_null(conf);
	assert_counts(3, 2);
	xasprintf(&text, "t.conf:2: [include] files: %s/missing.conf: No such "
	    "file or directory", tmpdir);
	assert_msg(0, text);
	free(text);
	assert_msg(0, "t.conf:3: [include] fils: unknown key; did you mean "
	    "files?");
	xasprintf(&text, "%s/b.conf:3: [program:b] startsecs: expected a "
	    "number of seconds (such as 5 or 0.5), got 'soon'", tmpdir);
	assert_msg(1, text);
	free(text);
	xasprintf(&text, "%s/b.conf:5: [include] files: include loop: "
	    "%s/a.conf -> %s/b.conf -> %s/a.conf", tmpdir, tmpdir, tmpdir,
	    tmpdir);
	assert_msg(1, text);
	free(text);
	xasprintf(&text, "%s/b.conf:5: [include] files: include loop: "
	    "t.conf -> %s/a.conf -> %s/b.conf -> t.conf", tmpdir, tmpdir,
	    tmpdir);
	assert_msg(1, text);
	free(text);
	/* Sorted by file, then line: the main file's first. */
	assert_true(strncmp(d.msgs[0].text, "t.conf:", 7) == 0);

	/* A FIFO (or a device) a glob matches is not read: it would block. */
	mkdir("fifo.d", 0755);
	assert_int_equal(mkfifo("fifo.d/x.conf", 0600), 0);
	write_file("fifo.d/y.conf", "[program:y]\ncommand = /bin/true\n");
	conf = load("[include]\nfiles = fifo.d/*.conf /dev/null\n", 0);
	assert_non_null(conf);
	assert_counts(0, 2);
	xasprintf(&text, "t.conf:2: [include] files: %s/fifo.d/x.conf is not "
	    "a regular file; skipped", tmpdir);
	assert_msg(0, text);
	free(text);
	assert_msg(0, "t.conf:2: [include] files: /dev/null is not a regular "
	    "file; skipped");
	assert_int_equal(conf->nprocs, 1);
	config_free(conf);

	/* A file included twice is read once. */
	write_file("p.conf", "[program:p]\ncommand = /bin/true\n");
	conf = load("[include]\nfiles = p.conf ./p.conf\n", 0);
	assert_non_null(conf);
	assert_counts(0, 1);
	xasprintf(&text, "t.conf:2: [include] files: %s/p.conf is included "
	    "already (at line 2); skipped", tmpdir);
	assert_msg(0, text);
	free(text);
	assert_int_equal(conf->nprocs, 1);
	config_free(conf);
}

static void
test_env_file(void **state)
{
	struct tend_conf *conf;
	struct program_conf *pc;
	char **env, *cause = NULL, *text;

	write_file("app.env",
	    "# secrets\n"
	    "\n"
	    "DB_URL=postgres://u:p@h/db?x=1\r\n"
	    "export TOKEN = 'a b # c'\n"
	    "   QUOTED=\"say \\\"hi\\\"\\nbye\"\n"
	    "EMPTY=\n"
	    "DB_URL=second\n");
	assert_int_equal(config_read_env_file("app.env", &env, &cause), 0);
	assert_null(cause);
	assert_string_equal(env[0], "DB_URL=second");
	assert_string_equal(env[1], "TOKEN=a b # c");
	assert_string_equal(env[2], "QUOTED=say \"hi\"\nbye");
	assert_string_equal(env[3], "EMPTY=");
	assert_null(env[4]);
	strv_free(env);

	write_file("bad.env", "A=1\nnot a pair\n");
	assert_int_equal(config_read_env_file("bad.env", &env, &cause), -1);
	assert_string_equal(cause, "bad.env:2: expected KEY=VALUE");
	free(cause);
	write_file("bad.env", "A='open\n");
	assert_int_equal(config_read_env_file("bad.env", &env, &cause), -1);
	assert_string_equal(cause, "bad.env:1: unterminated quote in the "
	    "value of A");
	free(cause);
	assert_int_equal(config_read_env_file("none.env", &env, &cause), -1);
	assert_string_equal(cause, "cannot read none.env: No such file or "
	    "directory");
	free(cause);

	/* Read at load for --check and the reload diff; missing: a warning. */
	conf = load(
	    "[program:a]\n"
	    "command = /bin/true\n"
	    "env_file = %(here)s/app.env\n"
	    "[program:b]\n"
	    "command = /bin/true\n"
	    "env_file = none.env\n", 0);
	assert_non_null(conf);
	assert_counts(0, 1);
	xasprintf(&text, "t.conf:6: [program:b] env_file: cannot read "
	    "%s/none.env: No such file or directory", tmpdir);
	assert_msg(0, text);
	free(text);
	pc = program(conf, "a");
	xasprintf(&text, "%s/app.env", tmpdir);
	assert_string_equal(pc->env_file, text);
	free(text);
	assert_string_equal(pc->env_file_env[0], "DB_URL=second");
	assert_null(program(conf, "b")->env_file_env);
	config_free(conf);
}

static void
test_limits(void **state)
{
	struct tend_conf *conf;
	struct program_conf *pc;

	conf = load(
	    "[supervisord]\n"
	    "minfds = 4096\n"
	    "[program:a]\n"
	    "command = /bin/true\n"
	    "rlimit_nofile = 64\n"
	    "rlimit_core = 1GB\n"
	    "[program:b]\n"
	    "command = /bin/true\n"
	    "rlimit_core = unlimited\n"
	    "rlimit_nofile = 0\n", 0);
	assert_non_null(conf);
	assert_int_equal(conf->minfds, 4096);
	assert_true(conf->minfds_set);
	assert_int_equal(conf->minprocs, 200);
	assert_false(conf->minprocs_set);
	pc = program(conf, "a");
	assert_int_equal(pc->rlimit_nofile, 64);
	assert_int_equal(pc->rlimit_core, 1024LL * 1024 * 1024);
	pc = program(conf, "b");
	assert_int_equal(pc->rlimit_core, CONFIG_RLIMIT_INFINITY);
	assert_int_equal(pc->rlimit_nofile, 0);
	config_free(conf);

	conf = load("[program:a]\ncommand = /bin/true\n", 0);
	assert_int_equal(program(conf, "a")->rlimit_nofile,
	    CONFIG_RLIMIT_UNSET);
	assert_int_equal(conf->minfds, 1024);
	assert_false(conf->minfds_set);
	config_free(conf);

	conf = load("[tend]\nminprocs = -3\n", 0);
	assert_null(conf);
	assert_msg(1, "t.conf:2: [tend] minprocs: -3 is out of range (0 to "
	    "2147483647)");
}

static void
test_program_changes(void **state)
{
	struct tend_conf *c1, *c2;
	char **keys, **restart;

	write_file("e.env", "A=1\n");
	c1 = load(
	    "[tend]\n"
	    "environment = T=1\n"
	    "socket = /tmp/a.sock\n"
	    "[program:a]\n"
	    "command = /bin/echo x\n"
	    "env_file = e.env\n"
	    "[program:b]\n"
	    "command = /bin/true\n", 0);
	assert_non_null(c1);
	/* The same file: no change, whatever the blanks. */
	c2 = load(
	    "[tend]\n"
	    "environment = T=1\n"
	    "socket = /tmp/a.sock\n"
	    "[program:a]\n"
	    "command =   /bin/echo   'x'\n"
	    "env_file = e.env\n"
	    "[program:b]\n"
	    "command = /bin/true\n", 0);
	assert_null(config_program_changes(c1, program(c1, "a"), c2,
	    program(c2, "a")));
	assert_null(config_restart_changes(c1, c2));
	config_free(c2);

	/* Every child gets [tend] environment: all of them change. */
	write_file("e.env", "A=2\n");
	c2 = load(
	    "[tend]\n"
	    "environment = T=2\n"
	    "socket = /tmp/b.sock\n"
	    "umask = 022\n"
	    "[program:a]\n"
	    "command = /bin/echo y\n"
	    "env_file = e.env\n"
	    "stopsignal = INT\n"
	    "rlimit_nofile = 99\n"
	    "[program:b]\n"
	    "command = /bin/true\n", 0);
	keys = config_program_changes(c1, program(c1, "a"), c2,
	    program(c2, "a"));
	assert_non_null(keys);
	assert_string_equal(keys[0], "command");
	assert_string_equal(keys[1], "stopsignal");
	assert_string_equal(keys[2], "env_file");
	assert_string_equal(keys[3], "[tend] environment");
	assert_string_equal(keys[4], "rlimit_nofile");
	assert_null(keys[5]);
	strv_free(keys);
	keys = config_program_changes(c1, program(c1, "b"), c2,
	    program(c2, "b"));
	assert_string_equal(keys[0], "[tend] environment");
	assert_null(keys[1]);
	strv_free(keys);
	/* Without configs, only the program's own settings count. */
	assert_true(config_program_equal(program(c1, "b"), program(c2, "b")));
	restart = config_restart_changes(c1, c2);
	assert_string_equal(restart[0], "[tend] socket: /tmp/a.sock -> "
	    "/tmp/b.sock");
	assert_string_equal(restart[1], "[tend] umask: (none) -> 022");
	assert_null(restart[2]);
	strv_free(restart);
	config_free(c2);
	config_free(c1);
}

/* ready, ready_timeout, watchdog_secs, pidfile: stored, checked, compared. */
static void
test_readiness_keys(void **state)
{
	static const char base[] =
	    "[program:n]\n"
	    "command = /bin/true\n"
	    "ready = notify\n"
	    "ready_timeout = 2.5\n"
	    "watchdog_secs = 0.5\n";
	struct tend_conf *conf, *c2;
	struct program_conf *pc;
	char *want, *text;

	conf = load("[program:a]\ncommand = /bin/true\n", 0);
	assert_non_null(conf);
	pc = program(conf, "a");
	assert_int_equal(pc->ready, READY_NONE);
	assert_true(pc->ready_timeout == 90);
	assert_true(pc->watchdog_secs == 0);
	assert_null(pc->pidfile);
	config_free(conf);

	conf = load("[program:n]\ncommand = /bin/true\nready = NOTIFY\n"
	    "ready_timeout = 2.5\nwatchdog_secs = 0.5\n"
	    "[program:p]\ncommand = /bin/true\npidfile = run/p.pid\n"
	    "ready = none\nready_timeout = 0\n", 0);
	assert_non_null(conf);
	assert_counts(0, 0);
	pc = program(conf, "n");
	assert_int_equal(pc->ready, READY_NOTIFY);
	assert_true(pc->ready_timeout == 2.5);
	assert_true(pc->watchdog_secs == 0.5);
	pc = program(conf, "p");
	assert_int_equal(pc->ready, READY_NONE);
	assert_true(pc->ready_timeout == 0);
	xasprintf(&want, "%s/run/p.pid", tmpdir);
	assert_string_equal(pc->pidfile, want);
	free(want);
	config_free(conf);

	/* A pidfile and ready = notify cannot both judge readiness. */
	conf = load("[program:x]\ncommand = /bin/true\nready = notify\n"
	    "pidfile = x.pid\n", 0);
	assert_null(conf);
	assert_counts(1, 0);
	assert_msg(1, "t.conf:4: [program:x] pidfile: cannot be combined with "
	    "ready = notify (a notify program names its main process with "
	    "MAINPID=); use one of them");

	/* A watchdog nobody can feed: a warning, an error under --strict. */
	conf = load("[program:w]\ncommand = /bin/true\nwatchdog_secs = 5\n",
	    0);
	assert_non_null(conf);
	assert_counts(0, 1);
	assert_msg(0, "t.conf:3: [program:w] watchdog_secs: has no effect "
	    "without ready = notify (only a notify program can send "
	    "WATCHDOG=1)");
	config_free(conf);
	conf = load("[program:w]\ncommand = /bin/true\nwatchdog_secs = 5\n",
	    CONFIG_STRICT);
	assert_null(conf);

	/* Each of them is part of what a reload compares. */
	conf = load(base, 0);
	assert_non_null(conf);
	xasprintf(&text, "%s", base);
	c2 = load(text, 0);
	free(text);
	assert_true(config_program_equal(program(conf, "n"), program(c2, "n")));
	config_free(c2);
	c2 = load("[program:n]\ncommand = /bin/true\nready = notify\n"
	    "ready_timeout = 3\nwatchdog_secs = 0.5\n", 0);
	assert_false(config_program_equal(program(conf, "n"),
	    program(c2, "n")));
	config_free(c2);
	c2 = load("[program:n]\ncommand = /bin/true\nready = notify\n"
	    "ready_timeout = 2.5\nwatchdog_secs = 1\n", 0);
	assert_false(config_program_equal(program(conf, "n"),
	    program(c2, "n")));
	config_free(c2);
	c2 = load("[program:n]\ncommand = /bin/true\n"
	    "ready_timeout = 2.5\n", 0);
	assert_false(config_program_equal(program(conf, "n"),
	    program(c2, "n")));
	config_free(c2);
	config_free(conf);
	conf = load("[program:p]\ncommand = /bin/true\npidfile = a.pid\n", 0);
	c2 = load("[program:p]\ncommand = /bin/true\npidfile = b.pid\n", 0);
	assert_false(config_program_equal(program(conf, "p"),
	    program(c2, "p")));
	config_free(c2);
	config_free(conf);
}

static void
test_confsock(void **state)
{
	char *path, *cause = NULL, *want, *def;

	/* The rest of the file may be broken: only the socket matters. */
	write_file("t.conf",
	    "[program:broken\n"
	    "[unix_http_server]\n"
	    "file = %(here)s/uhs.sock\n"
	    "[program:x]\n"
	    "autostart = maybe\n");
	path = confsock_read("t.conf", &cause);
	xasprintf(&want, "%s/uhs.sock", tmpdir);
	assert_string_equal(path, want);
	free(want);
	free(path);

	write_file("t.conf",
	    "[tend]\n"
	    "socket = s/../tend.sock\n"
	    "[unix_http_server]\n"
	    "file = /tmp/uhs.sock\n");
	path = confsock_read("t.conf", &cause);
	xasprintf(&want, "%s/tend.sock", tmpdir);
	assert_string_equal(path, want);
	free(want);
	free(path);

	write_file("t.conf", "[program:x]\ncommand=/bin/true\n");
	path = confsock_read("t.conf", &cause);
	def = protocol_default_socket();
	assert_string_equal(path, def);
	free(def);
	free(path);

	unsetenv("TEND_TEST_UNSET");
	write_file("t.conf", "[tend]\nsocket = %(ENV_TEND_TEST_UNSET)s\n");
	assert_null(confsock_read("t.conf", &cause));
	assert_string_equal(cause, "t.conf:2: [tend] socket: "
	    "%(ENV_TEND_TEST_UNSET)s: environment variable TEND_TEST_UNSET "
	    "is not set");
	free(cause);

	assert_null(confsock_read("nope.conf", &cause));
	assert_string_equal(cause, "cannot read nope.conf: No such file or "
	    "directory");
	free(cause);
}

/* sockets = and [fcgi-program:] socket = (sockets.c): each a URL. */
static void
test_sockets_keys(void **state)
{
	struct tend_conf *conf;
	struct program_conf *pc;

	conf = load("[program:a]\ncommand = /bin/true\n"
	    "sockets = tcp://127.0.0.1:8080, tcp6://[::1]:80 ,unix:///run/a\n"
	    "[fcgi-program:f]\ncommand = /bin/true\n"
	    "socket = unix:///run/f.sock\n", 0);
	assert_non_null(conf);
	assert_counts(0, 0);
	pc = TAILQ_FIRST(&conf->programs);
	assert_false(pc->fcgi);
	pc = TAILQ_NEXT(pc, entry);
	assert_true(pc->fcgi);
	assert_string_equal(pc->fcgi_socket, "unix:///run/f.sock");
	config_free(conf);

	conf = load("[program:a]\ncommand = /bin/true\n"
	    "sockets = http://x:1, tcp://h, tcp://h:99999, unix://rel\n"
	    "[program:b]\ncommand = /bin/true\nsocket = tcp://h:1\n"
	    "sockets = tcp://h:2\n"
	    "[fcgi-program:f]\ncommand = /bin/true\n"
	    "[fcgi-program:g]\ncommand = /bin/true\n"
	    "socket = tcp://h:1, tcp://h:2\n", 0);
	assert_null(conf);
	assert_msg(1, "t.conf:3: [program:a] sockets: http://x:1: not "
	    "tcp://HOST:PORT, tcp6://HOST:PORT or unix:///PATH");
	assert_msg(1, "t.conf:3: [program:a] sockets: tcp://h: no port "
	    "(tcp://HOST:PORT)");
	assert_msg(1, "t.conf:3: [program:a] sockets: tcp://h:99999: the port "
	    "must be a number from 0 to 65535");
	assert_msg(1, "t.conf:3: [program:a] sockets: unix://rel: a unix "
	    "socket needs an absolute path (unix:///PATH)");
	assert_msg(1, "t.conf:7: [program:b] sockets: give either socket or "
	    "sockets");
	assert_msg(1, "t.conf:8: [fcgi-program:f] socket: missing (every "
	    "fcgi-program needs one)");
	assert_msg(1, "t.conf:12: [fcgi-program:g] socket: exactly one "
	    "socket");
}

/* Nothing in a config file may crash the reader (run under ASan). */
static void
test_garbage(void **state)
{
	static const char *const pieces[] = {
		"[program:x]", "[program:y]", "[tend]", "[supervisord]",
		"[unix_http_server]", "[program:", "[]", "command", "environment",
		"exitcodes", "stopsignal", "startsecs", "socket", "numprocs",
		"umask", "user", "directory", "stdout_logfile", "loglevel", "=",
		":", " ", "  ", "\t", "\n", "\n  ", "\r\n", ";", " ;", " #", ",",
		"\"", "'", "\\", "%", "%%", "%(", "%(here)s", "%(ENV_", ")s",
		")d", "%(process_num)05d", "0", "1", "-1", "999999999999", "0.5",
		"true", "TERM", "/bin/true", "sh -c 'x'", "A=1", "B=\"x,y\"",
		"\xef\xbb\xbf", "\x01", "\xff",
	};
	struct tend_conf *conf;
	unsigned int seed = 4242;
	char *text;
	size_t len, n;
	int round, i;

	for (round = 0; round < 400; round++) {
		text = xstrdup("");
		len = 0;
		seed = seed * 1103515245 + 12345;
		n = (seed >> 16) % 200;
		for (i = 0; i < (int)n; i++) {
			const char *p;

			seed = seed * 1103515245 + 12345;
			p = pieces[(seed >> 16) % nitems(pieces)];
			text = xrealloc(text, len + strlen(p) + 1);
			memcpy(text + len, p, strlen(p) + 1);
			len += strlen(p);
		}
		conf = load(text, round % 2 ? CONFIG_STRICT : 0);
		if (conf != NULL)
			assert_int_equal(d.nerrors, 0);
		else
			assert_true(d.nerrors > 0);
		config_free(conf);
		free(text);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_program_keys, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_booleans, setup, teardown),
		cmocka_unit_test_setup_teardown(test_environment, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_signals_exitcodes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_expansion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_machine_warnings, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_errors_with_lines, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_program_names, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_program_names_are_text, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_duplicates, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unknown_and_unsupported,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_accepted_keys, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_supervisord_compat, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_lines, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_file_format, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unreadable, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_program_equal, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_output_keys, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_log_destinations, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_numprocs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_include, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_program_changes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_readiness_keys, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_confsock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sockets_keys, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
