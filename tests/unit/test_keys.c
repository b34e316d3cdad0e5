/*
 * test_keys.c: the config key table (daemon/config_keys.c) against
 * tend.conf(5) and against what a reload does. Every key of a section's
 * table is documented in that section of packaging/man/tend.conf.5, and
 * every key documented there is in the table. Every stored [program:]
 * key changed alone is named alone by a reload (or, for a live key, not
 * at all), and every [tend] key that waits for tendd's restart is listed
 * alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_int.h"

/* The man page, found from this file's path (the tree's root). */
#define TEST_KEYS_SELF	"tests/unit/test_keys.c"
#define TEST_KEYS_MAN	"packaging/man/tend.conf.5"

static char tmpdir[] = "/tmp/test_keys.XXXXXX";
static char *oldcwd;

/* The keys the man page documents, per section. */
struct man_key {
	enum config_section sec;
	char		*name;
};
static struct man_key *man_keys;
static size_t nman_keys;

static const char *const section_names[CONFIG_NSECTIONS] = {
	[CONFIG_SEC_TEND] = "[tend]",
	[CONFIG_SEC_UHS] = "[unix_http_server]",
	[CONFIG_SEC_PROGRAM] = "[program:NAME]",
	[CONFIG_SEC_GROUP] = "[group:NAME]",
	[CONFIG_SEC_INCLUDE] = "[include]",
	[CONFIG_SEC_INET] = "[inet_http_server]",
};

static int
man_section(const char *title)
{
	int s;

	for (s = 0; s < CONFIG_NSECTIONS; s++)
		if (strcmp(title, section_names[s]) == 0)
			return s;
	return -1;
}

/* ".B a \fR(1)\fB, b \fR(2)": the names a, b. */
static void
man_add_names(int sec, const char *line)
{
	char *copy = xstrdup(line), *out = copy, *tok, *save = NULL;
	const char *p;

	for (p = line; *p != '\0'; p++) {
		if (strncmp(p, "\\fR", 3) == 0) {
			p = strstr(p, "\\fB");
			if (p == NULL)
				break;
			p += 2;
			continue;
		}
		*out++ = *p;
	}
	*out = '\0';
	for (tok = strtok_r(copy, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save)) {
		man_keys = xreallocarray(man_keys, nman_keys + 1,
		    sizeof(*man_keys));
		man_keys[nman_keys].sec = sec;
		man_keys[nman_keys].name = xstrdup(tok);
		nman_keys++;
	}
	free(copy);
}

static int
read_man(void **state)
{
	char path[PATH_MAX], *line = NULL;
	size_t size = 0, n;
	ssize_t len;
	int sec = -1, tagged = 0;
	FILE *f;

	n = strlen(__FILE__) - strlen(TEST_KEYS_SELF);
	snprintf(path, sizeof(path), "%.*s%s", (int)n, __FILE__,
	    TEST_KEYS_MAN);
	if ((f = fopen(path, "re")) == NULL) {
		fprintf(stderr, "cannot read %s (run from the tree's root)\n",
		    path);
		return -1;
	}
	while ((len = getline(&line, &size, f)) != -1) {
		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (strncmp(line, ".SH ", 4) == 0)
			sec = man_section(line + 4);
		else if (sec >= 0 && tagged && strncmp(line, ".B ", 3) == 0)
			man_add_names(sec, line + 3);
		/* A tag is the line after .TP, or after .TQ. */
		tagged = strcmp(line, ".TP") == 0 || strcmp(line, ".TQ") == 0;
	}
	free(line);
	fclose(f);
	return nman_keys > 0 ? 0 : -1;
}

static int
free_man(void **state)
{
	size_t i;

	for (i = 0; i < nman_keys; i++)
		free(man_keys[i].name);
	free(man_keys);
	return 0;
}

static int
man_has(enum config_section sec, const char *name)
{
	size_t i;

	for (i = 0; i < nman_keys; i++)
		if (man_keys[i].sec == sec && strcmp(man_keys[i].name,
		    name) == 0)
			return 1;
	return 0;
}

/* Every key of the table is in tend.conf(5), in its section. */
static void
test_table_in_man(void **state)
{
	const struct config_key *k;
	int sec, missing = 0;

	for (sec = 0; sec < CONFIG_NSECTIONS; sec++) {
		for (k = config_keys_table(sec); k->name != NULL; k++) {
			if (k->type == CT_DERIVED || man_has(sec, k->name))
				continue;
			print_error("%s %s: not in %s\n", section_names[sec],
			    k->name, TEST_KEYS_MAN);
			missing++;
		}
	}
	assert_int_equal(missing, 0);
}

/* Every key tend.conf(5) documents is in the table, in its section. */
static void
test_man_in_table(void **state)
{
	size_t i;
	int missing = 0;

	for (i = 0; i < nman_keys; i++) {
		if (config_keys_find(config_keys_table(man_keys[i].sec),
		    man_keys[i].name) != NULL)
			continue;
		print_error("%s %s: documented, not in the key table\n",
		    section_names[man_keys[i].sec], man_keys[i].name);
		missing++;
	}
	assert_int_equal(missing, 0);
}

/* Rows that a loop could not handle, or that no one could read. */
static void
test_rows(void **state)
{
	const struct config_key *k, *j;
	int sec;

	for (sec = 0; sec < CONFIG_NSECTIONS; sec++) {
		for (k = config_keys_table(sec); k->name != NULL; k++) {
			assert_non_null(k->doc);
			assert_true(k->doc[0] != '\0');
			for (j = config_keys_table(sec); j != k; j++)
				assert_string_not_equal(j->name, k->name);
			if (k->type == CT_DERIVED) {
				/* only a reload's, never a key's */
				assert_non_null(k->differs);
				assert_true(k->off == CONFIG_NOWHERE);
				assert_int_equal(k->reload,
				    CONFIG_RELOAD_PROCESS);
				continue;
			}
			/* a process restarts for what it keeps */
			if (k->reload == CONFIG_RELOAD_PROCESS)
				assert_true(k->off != CONFIG_NOWHERE ||
				    k->differs != NULL);
			if (k->reload == CONFIG_RELOAD_TENDD)
				assert_true(sec == CONFIG_SEC_TEND ||
				    sec == CONFIG_SEC_UHS ||
				    sec == CONFIG_SEC_INET);
			if (sec == CONFIG_SEC_PROGRAM &&
			    k->off != CONFIG_NOWHERE)
				assert_true(k->reload ==
				    CONFIG_RELOAD_PROCESS ||
				    k->reload == CONFIG_RELOAD_LIVE);
		}
	}
}

static int
setup(void **state)
{
	strcpy(tmpdir, "/tmp/test_keys.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	oldcwd = getcwd(NULL, 0);
	return chdir(tmpdir);
}

static int
teardown(void **state)
{
	char *cmd;
	int rc = chdir(oldcwd);

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
	for (i = 0; conf == NULL && i < d.n; i++)
		print_error("  %s\n", d.msgs[i].text);
	assert_non_null(conf);
	diag_clear(&d);
	return conf;
}

/*
 * A value other than the default, for each stored [program:] key; and
 * what a reload names when only it changes ("" for a live key).
 */
static const struct {
	const char	*key;
	const char	*value;
	const char	*named;
} program_values[] = {
	{ "process_name", "other", "process_name" },
	{ "command", "/bin/false", "command" },
	{ "autostart", "false", "autostart" },
	{ "autorestart", "true", "autorestart" },
	{ "startsecs", "2.5", "startsecs" },
	{ "startretries", "infinite", "startretries" },
	{ "exitcodes", "0,2", "exitcodes" },
	{ "stopsignal", "INT", "stopsignal" },
	{ "stopwaitsecs", "3", "stopwaitsecs" },
	{ "stopasgroup", "true", "stopasgroup killasgroup" },
	{ "killasgroup", "true", "killasgroup" },
	{ "directory", "/", "directory" },
	{ "umask", "022", "umask" },
	{ "user", "root", "user" },
	{ "environment", "A=1", "environment" },
	{ "env_file", "/nonexistent/env", "env_file" },
	{ "priority", "5", "priority" },
	{ "daemon", "false", "daemon" },
	{ "joinsecs", "7", "joinsecs" },
	{ "restart_delay", "1", "restart_delay" },
	{ "backoff_max", "9", "backoff_max" },
	{ "backoff_reset", "9", "backoff_reset" },
	{ "critical", "true", "critical" },
	{ "rlimit_nofile", "100", "rlimit_nofile" },
	{ "rlimit_core", "unlimited", "rlimit_core" },
	{ "stdout_logfile", "NONE", "stdout_logfile" },
	{ "stdout_logfile_maxbytes", "1MB", "stdout_logfile_maxbytes" },
	{ "stdout_logfile_backups", "2", "stdout_logfile_backups" },
	{ "stderr_logfile", "NONE", "stderr_logfile" },
	{ "stderr_logfile_maxbytes", "1MB", "stderr_logfile_maxbytes" },
	{ "stderr_logfile_backups", "2", "stderr_logfile_backups" },
	{ "redirect_stderr", "true", "redirect_stderr" },
	{ "log_timestamps", "true", "log_timestamps" },
	{ "events", "TICK_5", "events" },
	{ "buffer_size", "3", "buffer_size" },
	{ "ready", "notify", "ready" },
	{ "ready_timeout", "5", "ready_timeout" },
	{ "ready_interval", "0.1", "ready_interval" },
	{ "probe_timeout", "1", "probe_timeout" },
	{ "healthcheck", "tcp:127.0.0.1:80", "healthcheck" },
	{ "healthcheck_interval", "3", "healthcheck_interval" },
	{ "healthcheck_retries", "5", "healthcheck_retries" },
	{ "watchdog_secs", "5", "watchdog_secs" },
	{ "pidfile", "/nonexistent/pid", "pidfile" },
	/* LIVE: named by no reload; the name it gives must exist */
	{ "depends_on", "y\n[program:y]\ncommand = /bin/true", "" },
	{ "sockets", "tcp://127.0.0.1:0", "sockets" },
	{ "socket_owner", "nobody", "socket_owner" },
	{ "socket_mode", "0600", "socket_mode" },
	{ "socket_backlog", "5", "socket_backlog" },
	{ "socket", "unix:///nonexistent/x.sock", "socket" },
	/* spec §12 */
	{ "pre_start", "/bin/true pre", "" },
	{ "post_stop", "/bin/true post", "" },
	{ "hook_timeout", "5", "" },
	{ "schedule", "@daily\ndaemon = false", "autostart daemon" },
	{ "memory_max", "64MB", "memory_max" },
	{ "memory_high", "32MB", "memory_high" },
	{ "cpu_max", "50", "cpu_max" },
	{ "cpu_weight", "200", "cpu_weight" },
	{ "pids_max", "10", "pids_max" },
	{ "stdout_events_enabled", "true", "" },
	{ "stderr_events_enabled", "true", "" },
};

static char *
changes_text(char **keys)
{
	char *s = xstrdup(""), *t;
	size_t i;

	for (i = 0; keys != NULL && keys[i] != NULL; i++) {
		xasprintf(&t, "%s%s%s", s, i ? " " : "", keys[i]);
		free(s);
		s = t;
	}
	return s;
}

/* Each stored [program:] key changed alone: a reload names it alone. */
static void
test_each_key_alone(void **state)
{
	const struct config_key *k;
	struct tend_conf *a, *b;
	char *text, **keys, *got;
	size_t i;

	a = load("[program:x]\ncommand = /bin/true\n");
	for (k = config_keys_table(CONFIG_SEC_PROGRAM); k->name != NULL;
	    k++) {
		if (k->off == CONFIG_NOWHERE)
			continue;
		for (i = 0; i < nitems(program_values); i++)
			if (strcmp(program_values[i].key, k->name) == 0)
				break;
		if (i == nitems(program_values))
			fail_msg("%s: no value in program_values", k->name);
		xasprintf(&text, "[program:x]\n%s%s = %s\n",
		    strcmp(k->name, "command") != 0 ?
		    "command = /bin/true\n" : "", k->name,
		    program_values[i].value);
		b = load(text);
		keys = config_program_changes(a, TAILQ_FIRST(&a->programs), b,
		    TAILQ_FIRST(&b->programs));
		got = changes_text(keys);
		assert_string_equal(got, program_values[i].named);
		assert_int_equal(config_program_equal(TAILQ_FIRST(&a->programs),
		    TAILQ_FIRST(&b->programs)), *program_values[i].named == '\0');
		free(got);
		strv_free(keys);
		config_free(b);
		free(text);
	}
	config_free(a);
}

/* What a process runs with beyond its section: named as such. */
static void
test_derived(void **state)
{
	static const struct {
		const char	*before;
		const char	*after;
		const char	*named;
	} cases[] = {
		{ "", "[tend]\nenvironment = A=1\n", "[tend] environment" },
		{ "", "[tend]\nchildlogdir = /\n", "[tend] childlogdir" },
		{ "", "[tend]\nidentifier = other\n", "[tend] childlogdir" },
		{ "[group:g]\nprograms = x\n",
		    "[group:g]\nprograms = x\npriority = 5\n",
		    "[group] priority" },
		/* the program's own priority is named instead */
		{ "[group:g]\nprograms = x\n",
		    "[group:g]\nprograms = x\npriority = 5\n"
		    "[program:x]\npriority = 5\n", "priority" },
	};
	struct tend_conf *a, *b;
	char *text, **keys, *got;
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		xasprintf(&text, "%s[program:x]\ncommand = /bin/true\n",
		    cases[i].before);
		a = load(text);
		free(text);
		xasprintf(&text, "%s[program:x]\ncommand = /bin/true\n",
		    cases[i].after);
		b = load(text);
		free(text);
		keys = config_program_changes(a, TAILQ_FIRST(&a->programs), b,
		    TAILQ_FIRST(&b->programs));
		got = changes_text(keys);
		assert_string_equal(got, cases[i].named);
		free(got);
		strv_free(keys);
		config_free(a);
		config_free(b);
	}
}

/* [tend] keys read at start only: listed alone, old -> new. */
static void
test_restart_changes(void **state)
{
	static const struct {
		const char	*key;
		const char	*value;
	} values[] = {
		{ "socket", "/tmp/other.sock" },
		{ "socket_mode", "0660" },
		{ "socket_owner", "root" },
		{ "logfile", "journal" },
		{ "pidfile", "/nonexistent/tendd.pid" },
		{ "identifier", "other" },
		{ "umask", "022" },
		{ "directory", "/" },
		{ "state_dir", "/nonexistent/state" },
	};
	const struct config_key *k;
	struct tend_conf *a, *b;
	char *text, **v, *prefix;
	size_t i;

	a = load("[tend]\n");
	for (k = config_keys_table(CONFIG_SEC_TEND); k->name != NULL; k++) {
		if (k->reload != CONFIG_RELOAD_TENDD)
			continue;
		for (i = 0; i < nitems(values); i++)
			if (strcmp(values[i].key, k->name) == 0)
				break;
		if (i == nitems(values))
			fail_msg("%s: no value in values", k->name);
		xasprintf(&text, "[tend]\n%s = %s\n", k->name, values[i].value);
		b = load(text);
		v = config_restart_changes(a, b);
		assert_non_null(v);
		assert_int_equal(strv_len(v), 1);
		xasprintf(&prefix, "[tend] %s: ", k->name);
		assert_memory_equal(v[0], prefix, strlen(prefix));
		free(prefix);
		strv_free(v);
		config_free(b);
		free(text);
	}
	b = load("[tend]\nloglevel = debug\nclient_timeout = 5\n");
	assert_null(config_restart_changes(a, b));
	config_free(b);
	config_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_in_man),
		cmocka_unit_test(test_man_in_table),
		cmocka_unit_test(test_rows),
		cmocka_unit_test_setup_teardown(test_each_key_alone, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_derived, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_changes, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, read_man, free_man);
}
