/*
 * config_keys.c: the key table, one row per key of each section (the
 * only list of keys: tend.conf(5) is checked against it by
 * tests/unit/test_keys.c), and the loops over it that set defaults,
 * store what was read, free, compare and print values. A row's type
 * says how a value is read (config_value.c) and how it is kept (here);
 * its reload class what a reload does when the value differs
 * (config_diff.c). See docs/design.md, "Config keys".
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

#define P(f)	CONFIG_PROG(f)
#define T(f)	CONFIG_TEND(f)
#define NOWHERE	CONFIG_NOWHERE
#define NONE	CONFIG_RELOAD_NONE
#define PROC	CONFIG_RELOAD_PROCESS
#define LIVE	CONFIG_RELOAD_LIVE
#define TENDD	CONFIG_RELOAD_TENDD
#define MB50	(50LL * 1024 * 1024)

/* How a key's value is kept in its object. */
enum config_storage {
	CS_NONE,	/* not kept */
	CS_INT,		/* int, and the enums (int-sized) */
	CS_LL,
	CS_DOUBLE,
	CS_STR,
	CS_STRV,
	CS_CODES,	/* uint8_t[32]: a bit per exit code */
};

_Static_assert(sizeof(enum loglevel) == sizeof(int) &&
    sizeof(enum autorestart) == sizeof(int) &&
    sizeof(enum ready_mode) == sizeof(int), "enums are kept as int");

/*
 * [tend] (and [supervisord]). Order matters twice: unknown keys are
 * matched against the names in this order, and TENDD keys are listed
 * in this order by config_restart_changes().
 */
static const struct config_key config_keys_tend[] = {
	{ "socket", CT_SOCKET, T(socket), TENDD, { .s = NULL }, NULL,
	    "the control socket (default: protocol_default_socket())" },
	{ "socket_mode", CT_MODE, T(socket_mode), TENDD, { .i = 0600 }, NULL,
	    "the socket's permissions" },
	{ "socket_owner", CT_OWNER, T(socket_owner), TENDD, { .s = NULL },
	    NULL, "user or user:group owning the socket" },
	{ "loglevel", CT_LOGLEVEL, T(loglevel), LIVE,
	    { .i = LOG_LEVEL_INFO }, NULL, "error, warn, info or debug" },
	{ "logfile", CT_LOGFILE, T(logfile), TENDD, { .s = "stderr" }, NULL,
	    "tendd's own log: stderr, journal, syslog, auto or a path" },
	{ "childlogdir", CT_PATH, T(childlogdir), LIVE,
	    { .s = "/var/log/tend" }, NULL,
	    "where AUTO log files go (a change restarts AUTO-logged processes)" },
	{ "pidfile", CT_PATH, T(pidfile), TENDD, { .s = NULL }, NULL,
	    "tendd's pid file" },
	{ "identifier", CT_STRING, T(identifier), TENDD, { .s = "tend" }, NULL,
	    "names AUTO log files" },
	{ "umask", CT_OCTAL, T(umask), TENDD, { .i = -1 }, NULL,
	    "tendd's umask (default: as started)" },
	{ "directory", CT_PATH, T(directory), TENDD, { .s = NULL }, NULL,
	    "tendd's working directory" },
	{ "environment", CT_ENV, T(environment), LIVE, { .s = NULL }, NULL,
	    "KEY=VALUE pairs for every child (a change restarts them all)" },
	{ "client_timeout", CT_SECS, T(client_timeout), LIVE, { .d = 60 }, NULL,
	    "idle control clients are dropped after it; 0: never" },
	{ "nodaemon", CT_BOOL, NOWHERE, NONE, { .i = 0 }, NULL,
	    "supervisord's; tendd never forks away: checked, ignored" },
	{ "logfile_maxbytes", CT_SIZE, T(logfile_maxbytes), LIVE,
	    { .ll = MB50 }, NULL, "a logfile path rotates at this size" },
	{ "logfile_backups", CT_UINT, T(logfile_backups), LIVE, { .i = 10 },
	    NULL, "rotated files kept" },
	{ "minfds", CT_UINT, T(minfds), LIVE, { .i = CONFIG_MINFDS }, NULL,
	    "RLIMIT_NOFILE at least" },
	{ "minprocs", CT_UINT, T(minprocs), LIVE, { .i = CONFIG_MINPROCS },
	    NULL, "RLIMIT_NPROC at least" },
	{ "silent", CT_UNSUPPORTED, NOWHERE, NONE, { .i = 0 }, NULL,
	    "supervisord's; warned about, ignored" },
	{ "nocleanup", CT_BOOL, T(nocleanup), LIVE, { .i = 0 }, NULL,
	    "keep earlier runs' AUTO log files (read at start-up)" },
	{ "strip_ansi", CT_UNSUPPORTED, NOWHERE, NONE, { .i = 0 }, NULL,
	    "supervisord's; warned about, ignored" },
	{ "user", CT_DAEMON_USER, NOWHERE, NONE, { .i = 0 }, NULL,
	    "supervisord's; fine when it is tendd's own user, else warned" },
	/* spec §12: runtime operations */
	{ "state_dir", CT_PATH, T(state_dir), TENDD, { .s = NULL }, NULL,
	    "what is remembered across reboots (enable/disable)" },
	{ NULL, CT_ANY, NOWHERE, NONE, { .i = 0 }, NULL, NULL }
};

/* supervisord's: kept by the reader (config_uhs_hook), used where [tend]
   says nothing. */
static const struct config_key config_keys_uhs[] = {
	{ "file", CT_SOCKET, NOWHERE, TENDD, { .i = 0 }, NULL,
	    "the socket, unless [tend] socket" },
	{ "chmod", CT_MODE, NOWHERE, TENDD, { .i = 0 }, NULL,
	    "its permissions, unless [tend] socket_mode" },
	{ "chown", CT_OWNER, NOWHERE, TENDD, { .i = 0 }, NULL,
	    "its owner, unless [tend] socket_owner" },
	{ "username", CT_STRING, T(http_username), TENDD, { .s = NULL }, NULL,
	    "HTTP Basic auth user of the XML-RPC interface on the socket" },
	{ "password", CT_STRING, T(http_password), TENDD, { .s = NULL }, NULL,
	    "its password (never logged)" },
	{ NULL, CT_ANY, NOWHERE, NONE, { .i = 0 }, NULL, NULL }
};

/* supervisord's XML-RPC interface on TCP (spec section 9). */
static const struct config_key config_keys_inet[] = {
	{ "port", CT_STRING, T(inet_port), TENDD, { .s = NULL }, NULL,
	    "HOST:PORT to serve the XML-RPC interface on" },
	{ "username", CT_STRING, T(inet_username), TENDD, { .s = NULL }, NULL,
	    "HTTP Basic auth user" },
	{ "password", CT_STRING, T(inet_password), TENDD, { .s = NULL }, NULL,
	    "its password (never logged)" },
	{ NULL, CT_ANY, NOWHERE, NONE, { .i = 0 }, NULL, NULL }
};

/*
 * [program:NAME]. The PROC rows and the CT_DERIVED ones are, in this
 * order, the "keys that differ" a reload reports for a process.
 */
static const struct config_key config_keys_program[] = {
	{ "process_name", CT_NAME, P(name), PROC, { .s = NULL },
	    config_diff_name, "the process name (default: the program's)" },
	{ "command", CT_COMMAND, P(command), PROC, { .s = NULL },
	    config_diff_command, "what runs, split like a shell; required" },
	{ "autostart", CT_BOOL, P(autostart), PROC, { .i = 1 }, NULL,
	    "start with tendd and when added by a reload" },
	{ "autorestart", CT_AUTORESTART, P(autorestart), PROC,
	    { .i = AUTORESTART_UNEXPECTED }, NULL,
	    "false, unexpected or true" },
	{ "startsecs", CT_SECS, P(startsecs), PROC, { .d = 1 }, NULL,
	    "up for this long: RUNNING" },
	{ "startretries", CT_RETRIES, P(startretries), PROC, { .i = 3 }, NULL,
	    "failed starts before FATAL, or infinite" },
	{ "exitcodes", CT_EXITCODES, P(exitcodes), PROC, { .codes = { 1 } },
	    NULL, "expected exit codes (default 0)" },
	{ "stopsignal", CT_SIGNAL, P(stopsignal), PROC, { .i = SIGTERM }, NULL,
	    "the signal that stops it" },
	{ "stopwaitsecs", CT_SECS, P(stopwaitsecs), PROC, { .d = 10 }, NULL,
	    "then SIGKILL" },
	{ "stopasgroup", CT_BOOL, P(stopasgroup), PROC, { .i = 0 }, NULL,
	    "stop its whole process group (implies killasgroup)" },
	{ "killasgroup", CT_BOOL, P(killasgroup), PROC, { .i = 0 }, NULL,
	    "SIGKILL its whole process group" },
	{ "directory", CT_PATH, P(directory), PROC, { .s = NULL }, NULL,
	    "where it starts" },
	{ "umask", CT_OCTAL, P(umask), PROC, { .i = -1 }, NULL,
	    "its umask (default: tendd's)" },
	{ "user", CT_USER, P(user), PROC, { .s = NULL }, NULL,
	    "run as this user (tendd as root)" },
	{ "environment", CT_ENV, P(environment), PROC, { .s = NULL }, NULL,
	    "KEY=VALUE pairs added to its environment" },
	{ "env_file", CT_PATH, P(env_file), PROC, { .s = NULL },
	    config_diff_env_file, "KEY=VALUE lines read at each start" },
	{ "[tend] environment", CT_DERIVED, NOWHERE, PROC, { .i = 0 },
	    config_diff_tend_environment, "[tend] environment differs" },
	{ "priority", CT_INT, P(priority), PROC, { .i = 999 }, NULL,
	    "start and stop order" },
	{ "[group] priority", CT_DERIVED, NOWHERE, PROC, { .i = 0 },
	    config_diff_group_priority, "its [group:]'s priority differs" },
	{ "daemon", CT_BOOL, P(daemon), PROC, { .i = 1 }, NULL,
	    "a service (true) or a job that runs once" },
	{ "joinsecs", CT_SECS, P(joinsecs), PROC, { .d = 60 }, NULL,
	    "a job's time to finish when a group is joined" },
	{ "restart_delay", CT_SECS, P(restart_delay), PROC, { .d = 0 }, NULL,
	    "wait before a restart" },
	{ "backoff_max", CT_SECS, P(backoff_max), PROC, { .d = 30 }, NULL,
	    "the longest wait between failed starts" },
	{ "backoff_reset", CT_SECS, P(backoff_reset), PROC, { .d = 60 }, NULL,
	    "up this long: the backoff starts over" },
	{ "critical", CT_BOOL, P(critical), PROC, { .i = 0 }, NULL,
	    "FATAL stops tendd" },
	{ "rlimit_nofile", CT_RLIMIT, P(rlimit_nofile), PROC,
	    { .ll = CONFIG_RLIMIT_UNSET }, NULL, "its RLIMIT_NOFILE" },
	{ "rlimit_core", CT_RLIMIT, P(rlimit_core), PROC,
	    { .ll = CONFIG_RLIMIT_UNSET }, NULL, "its RLIMIT_CORE" },
	{ "stdout_logfile", CT_CHILDLOG, P(stdout_logfile), PROC,
	    { .s = "AUTO" }, NULL,
	    "where stdout goes: AUTO, NONE, journal or a path" },
	{ "stdout_logfile_maxbytes", CT_SIZE, P(stdout_maxbytes), PROC,
	    { .ll = MB50 }, NULL, "rotate stdout's file at this size" },
	{ "stdout_logfile_backups", CT_UINT, P(stdout_backups), PROC,
	    { .i = 10 }, NULL, "rotated stdout files kept" },
	{ "stderr_logfile", CT_CHILDLOG, P(stderr_logfile), PROC,
	    { .s = "AUTO" }, NULL,
	    "where stderr goes: AUTO, NONE, journal or a path" },
	{ "stderr_logfile_maxbytes", CT_SIZE, P(stderr_maxbytes), PROC,
	    { .ll = MB50 }, NULL, "rotate stderr's file at this size" },
	{ "stderr_logfile_backups", CT_UINT, P(stderr_backups), PROC,
	    { .i = 10 }, NULL, "rotated stderr files kept" },
	{ "redirect_stderr", CT_BOOL, P(redirect_stderr), PROC, { .i = 0 },
	    NULL, "stderr down stdout's pipe" },
	{ "log_timestamps", CT_BOOL, P(log_timestamps), PROC, { .i = 0 }, NULL,
	    "prefix each logged line with the time" },
	{ "[tend] childlogdir", CT_DERIVED, NOWHERE, PROC, { .i = 0 },
	    config_diff_childlogdir,
	    "where its AUTO log files go differs ([tend] childlogdir, identifier)" },
	{ "ready", CT_READY, P(ready_spec), PROC, { .s = "none" }, NULL,
	    "none, notify, tcp:, http://, exec: or log: (a probe)" },
	{ "ready_timeout", CT_SECS, P(ready_timeout), PROC, { .d = 90 }, NULL,
	    "not ready by then: it failed; 0: wait forever" },
	/* Probes (probe.c, spec §7). */
	{ "ready_interval", CT_SECS, P(ready_interval), PROC, { .d = 0.5 },
	    NULL, "a ready probe is tried this often" },
	{ "probe_timeout", CT_SECS, P(probe_timeout), PROC, { .d = 5 }, NULL,
	    "each try of a probe or health check is bounded by it" },
	{ "healthcheck", CT_HEALTH, P(healthcheck), PROC, { .s = "none" },
	    NULL, "none, tcp:, http:// or exec: run while RUNNING" },
	{ "healthcheck_interval", CT_SECS, P(healthcheck_interval), PROC,
	    { .d = 10 }, NULL, "the health check is run this often" },
	{ "healthcheck_retries", CT_UINT, P(healthcheck_retries), PROC,
	    { .i = 3 }, NULL, "failed checks in a row that restart it" },
	{ "watchdog_secs", CT_SECS, P(watchdog_secs), PROC, { .d = 0 }, NULL,
	    "notify: WATCHDOG=1 at least this often" },
	{ "pidfile", CT_PATH, P(pidfile), PROC, { .s = NULL }, NULL,
	    "a self-daemonizing program: the pid to supervise" },
	/* Sockets held by tendd (sockets.c): a change rebinds and restarts. */
	{ "sockets", CT_STRING, P(sockets), PROC, { .s = NULL }, NULL,
	    "tcp://HOST:PORT, tcp6://, unix:///PATH: passed as fds 3.." },
	{ "socket_owner", CT_OWNER, P(socket_owner), PROC, { .s = NULL },
	    NULL, "user or user:group owning its unix sockets (else user)" },
	{ "socket_mode", CT_MODE, P(socket_mode), PROC, { .i = 0700 }, NULL,
	    "its unix sockets' permissions" },
	{ "socket_backlog", CT_UINT, P(socket_backlog), PROC, { .i = 0 },
	    NULL, "listen() backlog (0: the system's maximum)" },
	{ "socket", CT_STRING, P(fcgi_socket), PROC, { .s = NULL }, NULL,
	    "an [fcgi-program:]'s one socket (fd 0); in a [program:], sockets" },
	/* depends_on: checked whole (names, cycles) by config_check_depends() */
	{ "depends_on", CT_STRING, P(depends_on), LIVE, { .s = NULL }, NULL,
	    "started after these are up or done; stopped before them" },
	/* spec §12: hooks (hooks.c), split like command at each run */
	{ "pre_start", CT_STRING, P(pre_start), LIVE, { .s = NULL }, NULL,
	    "run before each start; a failure is a failed start" },
	{ "post_stop", CT_STRING, P(post_stop), LIVE, { .s = NULL }, NULL,
	    "run after each end of a process" },
	{ "hook_timeout", CT_SECS, P(hook_timeout), LIVE, { .d = 30 }, NULL,
	    "a hook still running then is killed (and failed)" },
	/* checked by config_process() (cron.c); jobs only, no autostart */
	{ "schedule", CT_STRING, P(schedule), LIVE, { .s = NULL }, NULL,
	    "a cron expression: the job is started at each matching minute" },
	/* cgroup v2 limits (cgroup.c); 0: none */
	{ "memory_max", CT_SIZE, P(memory_max), PROC, { .ll = 0 }, NULL,
	    "memory.max of its own cgroup" },
	{ "memory_high", CT_SIZE, P(memory_high), PROC, { .ll = 0 }, NULL,
	    "memory.high of its own cgroup" },
	{ "cpu_max", CT_UINT, P(cpu_max), PROC, { .i = 0 }, NULL,
	    "cpu.max, as a percentage of one CPU" },
	{ "cpu_weight", CT_UINT, P(cpu_weight), PROC, { .i = 0 }, NULL,
	    "cpu.weight (1-10000)" },
	{ "pids_max", CT_UINT, P(pids_max), PROC, { .i = 0 }, NULL,
	    "pids.max of its own cgroup" },
	/* Read once per program, before its processes: config_program(). */
	{ "numprocs", CT_NUMPROCS, NOWHERE, NONE, { .i = 1 }, NULL,
	    "processes of the program (a change adds or removes some)" },
	{ "numprocs_start", CT_NUMSTART, NOWHERE, NONE, { .i = 0 }, NULL,
	    "the first process_num" },
	/* Read and checked now, used by later work. */
	{ "stdout_capture_maxbytes", CT_SIZE, NOWHERE, NONE, { .i = 0 }, NULL,
	    "supervisord's; checked, ignored" },
	{ "stderr_capture_maxbytes", CT_SIZE, NOWHERE, NONE, { .i = 0 }, NULL,
	    "supervisord's; checked, ignored" },
	{ "stdout_events_enabled", CT_BOOL, P(stdout_events), LIVE, { .i = 0 },
	    NULL, "PROCESS_LOG_STDOUT events of its output for listeners" },
	{ "stderr_events_enabled", CT_BOOL, P(stderr_events), LIVE, { .i = 0 },
	    NULL, "PROCESS_LOG_STDERR events of its output for listeners" },
	/* [eventlistener:NAME] only (config_listener() warns elsewhere) */
	{ "events", CT_STRING, P(events), PROC, { .s = NULL }, NULL,
	    "the event types a listener gets (supertypes match subtypes)" },
	{ "buffer_size", CT_UINT, P(buffer_size), PROC, { .i = 10 }, NULL,
	    "events kept for a listener pool; the oldest dropped beyond" },
	{ "result_handler", CT_ANY, NOWHERE, NONE, { .i = 0 }, NULL,
	    "supervisord's default only; another is warned about" },
	{ "stdout_syslog", CT_BOOL, NOWHERE, NONE, { .i = 0 }, NULL,
	    "supervisord's; checked, ignored" },
	{ "stderr_syslog", CT_BOOL, NOWHERE, NONE, { .i = 0 }, NULL,
	    "supervisord's; checked, ignored" },
	{ "serverurl", CT_ANY, NOWHERE, NONE, { .i = 0 }, NULL,
	    "supervisord's; ignored" },
	{ NULL, CT_ANY, NOWHERE, NONE, { .i = 0 }, NULL, NULL }
};

/* [group:NAME] and [include]: read by config_group(), config_include(). */
static const struct config_key config_keys_group[] = {
	{ "programs", CT_ANY, NOWHERE, NONE, { .i = 0 }, NULL,
	    "the programs in the group (a change moves processes)" },
	{ "priority", CT_INT, NOWHERE, NONE, { .i = 999 }, NULL,
	    "the group's start and stop order (see [group] priority)" },
	{ NULL, CT_ANY, NOWHERE, NONE, { .i = 0 }, NULL, NULL }
};
static const struct config_key config_keys_include[] = {
	{ "files", CT_ANY, NOWHERE, NONE, { .i = 0 }, NULL,
	    "globs of files read after this one" },
	{ NULL, CT_ANY, NOWHERE, NONE, { .i = 0 }, NULL, NULL }
};

static const struct config_key *const config_keys_sections[] = {
	[CONFIG_SEC_TEND] = config_keys_tend,
	[CONFIG_SEC_UHS] = config_keys_uhs,
	[CONFIG_SEC_PROGRAM] = config_keys_program,
	[CONFIG_SEC_GROUP] = config_keys_group,
	[CONFIG_SEC_INCLUDE] = config_keys_include,
	[CONFIG_SEC_INET] = config_keys_inet,
};

const struct config_key *
config_keys_table(enum config_section sec)
{
	return config_keys_sections[sec];
}

static enum config_storage
config_keys_storage(const struct config_key *k)
{
	if (k->off == NOWHERE)
		return CS_NONE;
	if (config_value_is_string(k->type))
		return CS_STR;
	switch (k->type) {
	case CT_ENV:
		return CS_STRV;
	case CT_SECS:
		return CS_DOUBLE;
	case CT_RLIMIT:
	case CT_SIZE:
		return CS_LL;
	case CT_EXITCODES:
		return CS_CODES;
	default:
		return CS_INT;
	}
}

/* A real key of the file (the derived rows are only for a reload). */
const struct config_key *
config_keys_find(const struct config_key *keys, const char *name)
{
	for (; keys->name != NULL; keys++)
		if (keys->type != CT_DERIVED && strcmp(keys->name, name) == 0)
			return keys;
	return NULL;
}

void
config_keys_defaults(const struct config_key *keys, void *obj)
{
	const struct config_key *k;
	void *dst;

	for (k = keys; k->name != NULL; k++) {
		/* no address for a row kept nowhere: obj + (size_t)-1 is UB */
		if (config_keys_storage(k) == CS_NONE)
			continue;
		dst = (char *)obj + k->off;
		switch (config_keys_storage(k)) {
		case CS_NONE:
			break;
		case CS_INT:
			*(int *)dst = k->def.i;
			break;
		case CS_LL:
			*(long long *)dst = k->def.ll;
			break;
		case CS_DOUBLE:
			*(double *)dst = k->def.d;
			break;
		case CS_STR:
			*(char **)dst = k->def.s ? xstrdup(k->def.s) : NULL;
			break;
		case CS_STRV:
			*(char ***)dst = NULL;
			break;
		case CS_CODES:
			memcpy(dst, k->def.codes, sizeof(k->def.codes));
			break;
		}
	}
}

/* Stores V (read as K's type) at OBJ + K->off; frees it if not kept. */
void
config_keys_store(const struct config_key *k, void *obj, union config_val *v)
{
	enum config_storage cs = obj == NULL ? CS_NONE : config_keys_storage(k);
	void *dst = cs == CS_NONE ? NULL : (char *)obj + k->off;

	switch (cs) {
	case CS_NONE:
		if (k->type == CT_ENV)
			strv_free(v->v);
		else if (config_value_is_string(k->type))
			free(v->s);
		break;
	case CS_INT:
		*(int *)dst = v->i;
		break;
	case CS_LL:
		*(long long *)dst = v->ll;
		break;
	case CS_DOUBLE:
		*(double *)dst = v->d;
		break;
	case CS_STR:
		free(*(char **)dst);
		*(char **)dst = v->s;
		break;
	case CS_STRV:
		strv_free(*(char ***)dst);
		*(char ***)dst = v->v;
		break;
	case CS_CODES:
		memcpy(dst, v->codes, sizeof(v->codes));
		break;
	}
}

void
config_keys_free(const struct config_key *keys, void *obj)
{
	const struct config_key *k;

	for (k = keys; k->name != NULL; k++) {
		if (config_keys_storage(k) == CS_STR)
			free(*(char **)((char *)obj + k->off));
		else if (config_keys_storage(k) == CS_STRV)
			strv_free(*(char ***)((char *)obj + k->off));
	}
}

static int
config_keys_str_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* K's values in A and B (two objects of its section) are the same. */
int
config_keys_equal(const struct config_key *k, const void *a, const void *b)
{
	const char *x = (const char *)a + k->off, *y = (const char *)b + k->off;

	switch (config_keys_storage(k)) {
	case CS_NONE:
		return 1;
	case CS_INT:
		return *(const int *)x == *(const int *)y;
	case CS_LL:
		return *(const long long *)x == *(const long long *)y;
	case CS_DOUBLE:
		return *(const double *)x == *(const double *)y;
	case CS_STR:
		return config_keys_str_equal(*(char *const *)x,
		    *(char *const *)y);
	case CS_STRV:
		return strv_equal(*(char **const *)x, *(char **const *)y);
	case CS_CODES:
		return memcmp(x, y, 32) == 0;
	}
	return 1;
}

/* K's value in OBJ as a reload names it: "(none)" when unset. */
char *
config_keys_format(const struct config_key *k, const void *obj)
{
	const char *p = config_keys_storage(k) == CS_NONE ? NULL :
	    (const char *)obj + k->off;
	char *s;
	int i;

	switch (config_keys_storage(k)) {
	case CS_STR:
		return xstrdup(*(char *const *)p ? *(char *const *)p :
		    "(none)");
	case CS_INT:
		i = *(const int *)p;
		if (k->type == CT_OCTAL || k->type == CT_MODE) {
			if (i < 0)
				return xstrdup("(none)");
			xasprintf(&s, "0%o", i);
		} else
			xasprintf(&s, "%d", i);
		return s;
	case CS_LL:
		xasprintf(&s, "%lld", *(const long long *)p);
		return s;
	case CS_DOUBLE:
		xasprintf(&s, "%g", *(const double *)p);
		return s;
	default:
		return xstrdup("(differs)");
	}
}
