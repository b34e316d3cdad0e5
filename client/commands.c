/*
 * commands.c: tendctl's command table, the parsing of each command's own
 * options and operands, and the handlers: what each sends to tendd and
 * which exit status its reply means (spec §4).
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/types.h>

#include "protocol.h"
#include "tendctl.h"
#include "util.h"

static int	 commands_usage_error(struct tendctl *,
		    const struct tendctl_cmd *, const char *);
static json_t	*commands_names(struct tendctl *, struct tendctl_args *);
static json_t	*commands_error_of(json_t *);
static int	 commands_daemon_error(struct tendctl *, json_t *, json_t *,
		    int, int);
static int	 commands_action(struct tendctl *, struct tendctl_args *,
		    const char *, const char *const *, const char *const *);
static int	 commands_help(struct tendctl *, struct tendctl_args *);
static int	 commands_status(struct tendctl *, struct tendctl_args *);
static int	 commands_start(struct tendctl *, struct tendctl_args *);
static int	 commands_stop(struct tendctl *, struct tendctl_args *);
static int	 commands_restart(struct tendctl *, struct tendctl_args *);
static int	 commands_shutdown(struct tendctl *, struct tendctl_args *);
static int	 commands_version(struct tendctl *, struct tendctl_args *);
static int	 commands_tail(struct tendctl *, struct tendctl_args *);
static int	 commands_clear(struct tendctl *, struct tendctl_args *);
static int	 commands_reopen(struct tendctl *, struct tendctl_args *);
/* spec §12: runtime operations */
static int	 commands_enable(struct tendctl *, struct tendctl_args *);
static int	 commands_disable(struct tendctl *, struct tendctl_args *);
static int	 commands_scale(struct tendctl *, struct tendctl_args *);
static int	 commands_runjob(struct tendctl *, struct tendctl_args *);
/* run's -e K=V, which may be given many times (getopt keeps the last) */
#define CMDOPT_ENV	'e'
static json_t	*commands_run_env;

static const struct option commands_tail_opts[] = {
	{ "follow",	no_argument,		NULL,	'f' },
	{ "lines",	required_argument,	NULL,	'n' },
	{ NULL,		0,			NULL,	0 }
};
static int	 commands_reload(struct tendctl *, struct tendctl_args *);

/* reload's own option (option values are per command). */
#define COMMANDS_RELOAD_CHECK	'K'
static const struct option commands_reload_opts[] = {
	{ "check", no_argument, NULL, COMMANDS_RELOAD_CHECK },
	{ NULL,		0,		NULL,	0 }
};

static int	 commands_kill(struct tendctl *, struct tendctl_args *);
static int	 commands_signal(struct tendctl *, struct tendctl_args *);
static int	 commands_pause(struct tendctl *, struct tendctl_args *);
static int	 commands_resume(struct tendctl *, struct tendctl_args *);
static int	 commands_wait(struct tendctl *, struct tendctl_args *);
static int	 commands_pid(struct tendctl *, struct tendctl_args *);
static int	 commands_events(struct tendctl *, struct tendctl_args *);
static int	 commands_action_fields(struct tendctl *, struct tendctl_args *,
		    const char *, json_t *, int, const char *const *,
		    const char *const *);

#define CMDOPT_TIMEOUT	't'

static const struct option commands_wait_opts[] = {
	{ "timeout",	required_argument,	NULL,	CMDOPT_TIMEOUT },
	{ NULL,		0,			NULL,	0 }
};

static const struct option commands_status_opts[] = {
	{ "resources",	no_argument,	NULL,	CMDOPT_RESOURCES },
	{ NULL,		0,		NULL,	0 }
};

static const struct option commands_run_opts[] = {
	{ "name",	required_argument,	NULL,	'n' },
	{ "wait",	no_argument,		NULL,	'w' },
	{ "timeout",	required_argument,	NULL,	CMDOPT_TIMEOUT },
	{ "env",	required_argument,	NULL,	CMDOPT_ENV },
	{ "directory",	required_argument,	NULL,	'd' },
	{ NULL,		0,			NULL,	0 }
};

static const struct option commands_nowait_opts[] = {
	{ "no-wait",	no_argument,	NULL,	CMDOPT_NO_WAIT },
	{ NULL,		0,		NULL,	0 }
};

#define CMDOPT_ROLLING	'R'	/* restart --rolling: long only */
static const struct option commands_restart_opts[] = {
	{ "no-wait",	no_argument,	NULL,	CMDOPT_NO_WAIT },
	{ "rolling",	no_argument,	NULL,	CMDOPT_ROLLING },
	{ NULL,		0,		NULL,	0 }
};

/* Every command takes these, so "tendctl status --json" works too. */
static const struct option commands_common_opts[] = {
	{ "help",	no_argument,	NULL,	'h' },
	{ "json",	no_argument,	NULL,	'j' },
	{ NULL,		0,		NULL,	0 }
};

/*
 * The table: a new command is one row and one handler. Options beyond
 * --help/--json are declared per command (shortopts/longopts) and land
 * in args->opt[] by their getopt value; operand counts are checked here
 * so handlers start from a valid command line.
 */
static const struct tendctl_cmd commands_table[] = {
	{ "status", "[--resources] [NAME...]", "show the state of processes",
	  0, -1, "", commands_status_opts, commands_status },
	{ "start", "[--no-wait] NAME...",
	  "start; wait until RUNNING or failed",
	  1, -1, "", commands_nowait_opts, commands_start },
	{ "stop", "[--no-wait] NAME...",
	  "stop; wait until stopped",
	  1, -1, "", commands_nowait_opts, commands_stop },
	{ "restart", "[--no-wait | --rolling] NAME...", "stop, then start",
	  1, -1, "", commands_restart_opts, commands_restart },
	{ "kill", "[--no-wait] NAME...", "SIGKILL now, no restart",
	  1, -1, "", commands_nowait_opts, commands_kill },
	{ "signal", "SIG NAME...", "send a signal (HUP, SIGUSR1, 10...)",
	  2, -1, "", NULL, commands_signal },
	{ "pause", "NAME...", "SIGSTOP: PAUSED until resume",
	  1, -1, "", NULL, commands_pause },
	{ "resume", "NAME...", "SIGCONT a paused process",
	  1, -1, "", NULL, commands_resume },
	{ "wait", "[--timeout S] NAME...",
	  "block until they exit; their exit status",
	  1, -1, "t:", commands_wait_opts, commands_wait },
	{ "pid", "[NAME...]", "tendd's pid, or the processes'",
	  0, -1, "", NULL, commands_pid },
	{ "events", "[NAME...]", "stream state changes, one a line",
	  0, -1, "", NULL, commands_events },
	{ "shutdown", "[--no-wait]",
	  "stop everything and exit tendd; wait for it",
	  0, 0, "", commands_nowait_opts, commands_shutdown },
	{ "reload", "[--check]",
	  "re-read the config and apply the changes (--check: only show them)",
	  0, 0, "", commands_reload_opts, commands_reload },
	{ "version", "", "show the client and daemon versions",
	  0, 0, "", NULL, commands_version },
	{ "tail", "[-f] [-n N] NAME [stdout|stderr]",
	  "recent output (10 lines), or follow it",
	  1, 2, "fn:", commands_tail_opts, commands_tail },
	{ "clear", "NAME...", "empty the processes' log files",
	  1, -1, "", NULL, commands_clear },
	{ "reopen", "", "reopen every log file (after an external logrotate)",
	  0, 0, "", NULL, commands_reopen },
	/* spec §12: runtime operations */
	{ "enable", "NAME...", "may be started again (remembered in state_dir)",
	  1, -1, "", NULL, commands_enable },
	{ "disable", "NAME...",
	  "stop and never start until enabled (remembered in state_dir)",
	  1, -1, "", NULL, commands_disable },
	{ "scale", "PROGRAM N", "run N processes of PROGRAM from now on",
	  2, 2, "", NULL, commands_scale },
	{ "run", "[--name N] [--wait] [--timeout S] [-e K=V]... "
	  "[--directory D] -- CMD [ARG]...",
	  "run CMD once as a transient job (run:NAME), as you",
	  1, -1, "n:wt:e:d:", commands_run_opts, commands_runjob },
	{ "help", "[COMMAND]", "show this help, or a command's",
	  0, 1, "", NULL, commands_help },
};

/*
 * What "tendctl COMMAND --help" says beyond the usage line, for the
 * commands with options or exit statuses of their own.
 */
static const struct {
	const char	*name;
	const char	*text;
} commands_details[] = {
	{ "status", "  --resources CPU% (over half a second) and memory columns\n"
	  "exit status: 0 every named process RUNNING, 3 some not, "
	  "4 unknown name" },
	{ "start", "  --no-wait   return once the start is requested\n"
	  "exit status: 0 RUNNING (a job: finished with an expected code), "
	  "1 failed" },
	{ "stop", "  --no-wait   return once the stop signal is sent\n"
	  "exit status: 0 stopped (or was not running), 1 failed" },
	{ "restart", "  --no-wait   return once the restart is requested\n"
	  "  --rolling   one process at a time: the next is stopped only once\n"
	  "              the previous is RUNNING again; stops at the first "
	  "failure\n"
	  "exit status: 0 RUNNING again, 1 failed" },
	{ "kill", "  --no-wait   return once SIGKILL is sent\n"
	  "The process is not restarted. exit status: 0, 1 failed" },
	{ "signal", "SIG is a name (HUP, SIGHUP, usr1) or a number. STOP and "
	  "CONT pause and resume.\nexit status: 0 sent to every process, "
	  "1 some was not running" },
	{ "pause", "exit status: 0 every process PAUSED, 1 some was not "
	  "RUNNING" },
	{ "resume", "exit status: 0 every process running, 1 some was not" },
	{ "wait", "  -t, --timeout S   give up after S seconds (fractions "
	  "allowed)\n"
	  "Returns when every process has exited and no restart is coming;\n"
	  "at once for one that is not running.\n"
	  "exit status: like a shell's: the exit code N, 128+N for signal N,\n"
	  "127 never started; with several, the first that is not 0;\n"
	  "124 on timeout" },
	{ "pid", "exit status: 0, 3 some named process is not running" },
	{ "events", "Until tendd exits or tendctl is interrupted; --json: one "
	  "object a line." },
	{ "enable", "Does not start it: tendctl start does.\n"
	  "exit status: 0, 4 unknown name" },
	{ "disable", "Stopped now (what depends on it first), never started "
	  "by autostart,\nreload or start all; remembered across restarts "
	  "and reboots.\nexit status: 0, 4 unknown name" },
	{ "scale", "New processes are named by process_name and started; the "
	  "highest-numbered\nsurplus is stopped. Holds until a reload changes "
	  "the program's numprocs.\nexit status: 0, 1 failed, 4 unknown "
	  "program" },
	{ "run", "  -n, --name N        run:N (default: the command's name "
	  "and a number)\n"
	  "  -w, --wait          block until it exits; exit with its status\n"
	  "  -t, --timeout S     stop it after S seconds (--wait: exit 124)\n"
	  "  -e, --env K=V       set a variable (again for more)\n"
	  "  -d, --directory D   run it in D (default: here)\n"
	  "It runs as you (tendd's user only when you are root), its output "
	  "kept\n(tendctl tail run:N), listed until 10 minutes after it "
	  "ended.\nexit status: 0 started, 1 failed; --wait: as wait" },
};

static void
commands_details_print(FILE *f, const struct tendctl_cmd *cmd)
{
	size_t i;

	for (i = 0; i < nitems(commands_details); i++)
		if (strcmp(commands_details[i].name, cmd->name) == 0)
			fprintf(f, "%s\n", commands_details[i].text);
}

const struct tendctl_cmd *
commands_find(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(commands_table); i++) {
		if (strcmp(commands_table[i].name, name) == 0)
			return &commands_table[i];
	}
	return NULL;
}

void
commands_usage_one(FILE *f, const struct tendctl_cmd *cmd)
{
	fprintf(f, "usage: tendctl [-c FILE | -s SOCKET] [--json] %s%s%s\n",
	    cmd->name, *cmd->args != '\0' ? " " : "", cmd->args);
}

void
commands_usage(FILE *f)
{
	size_t i;
	int w;

	fprintf(f, "usage: tendctl [-c FILE | -s SOCKET] [--json] "
	    "COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < nitems(commands_table); i++) {
		w = (int)(strlen(commands_table[i].name) +
		    strlen(commands_table[i].args) + 1);
		fprintf(f, "  %s %s%*s  %s\n", commands_table[i].name,
		    commands_table[i].args, w < 28 ? 28 - w : 0, "",
		    commands_table[i].summary);
	}
	fprintf(f, "\nNAME is PROCESS, GROUP:PROCESS, GROUP:*, a glob (web*) "
	    "or all.\n\n"
	    "options:\n"
	    "  -c, --config FILE    find the socket in this config\n"
	    "                       (default %s)\n"
	    "  -s, --socket SOCKET  tendd's control socket (default: "
	    "$TEND_SOCKET,\n"
	    "                       else the config's, else the default "
	    "path)\n"
	    "  --json               print one JSON document\n"
	    "  -h, --help           show this help\n"
	    "  --version            show tendctl's version\n"
	    "\nexit status: 0 ok, 1 failed, 2 usage, 3 not running, "
	    "4 unknown name,\n"
	    "5 cannot reach tendd; wait: the process's own, 124 on timeout\n"
	    "'tendctl COMMAND --help' says more about each command.\n",
	    TEND_DEFAULT_CONFIG);
}

static int
commands_usage_error(struct tendctl *t, const struct tendctl_cmd *cmd,
    const char *msg)
{
	tendctl_fail(t, TEND_EXIT_USAGE, TENDCTL_ERR_USAGE, "%s: %s",
	    cmd->name, msg);
	commands_usage_one(stderr, cmd);
	return TEND_EXIT_USAGE;
}

/* ARGV[0] is the command's name, as getopt expects a program name. */
int
commands_run(struct tendctl *t, const struct tendctl_cmd *cmd, int argc,
    char **argv)
{
	struct tendctl_args args;
	struct option longopts[16];
	char shortopts[64], *msg;
	size_t n = 0, i;
	int ch, status;

	for (i = 0; commands_common_opts[i].name != NULL; i++)
		longopts[n++] = commands_common_opts[i];
	for (i = 0; cmd->longopts != NULL && cmd->longopts[i].name != NULL;
	    i++) {
		if (n == nitems(longopts) - 1)
			break;
		longopts[n++] = cmd->longopts[i];
	}
	memset(&longopts[n], 0, sizeof longopts[n]);
	snprintf(shortopts, sizeof shortopts, ":h%s", cmd->shortopts);

	memset(&args, 0, sizeof args);
	optind = 0;	/* glibc: start a fresh scan of a new vector */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			commands_usage_one(stdout, cmd);
			printf("%s\n", cmd->summary);
			commands_details_print(stdout, cmd);
			return TEND_EXIT_OK;
		case 'j':
			t->json = 1;
			break;
		case ':':
			xasprintf(&msg, "option %s needs an argument",
			    argv[optind - 1]);
			status = commands_usage_error(t, cmd, msg);
			free(msg);
			return status;
		case '?':
			if (optopt != 0)
				xasprintf(&msg, "unknown option: -%c", optopt);
			else
				xasprintf(&msg, "unknown option: %s",
				    argv[optind - 1]);
			status = commands_usage_error(t, cmd, msg);
			free(msg);
			return status;
		default:
			args.opt[(unsigned char)ch] = optarg != NULL ?
			    optarg : "";
			if (ch == CMDOPT_ENV && cmd->exec == commands_runjob) {
				if (commands_run_env == NULL)
					commands_run_env = json_array();
				json_array_append_new(commands_run_env,
				    json_string(optarg));
			}
			break;
		}
	}
	args.argc = argc - optind;
	args.argv = argv + optind;
	if (args.argc < cmd->min_args)
		return commands_usage_error(t, cmd, "missing arguments");
	if (cmd->max_args >= 0 && args.argc > cmd->max_args)
		return commands_usage_error(t, cmd, "too many arguments");
	return cmd->exec(t, &args);
}

/* The operands as a "names" array; NULL after reporting a bad name. */
static json_t *
commands_names(struct tendctl *t, struct tendctl_args *args)
{
	json_t *names, *s;
	int i;

	names = json_array();
	for (i = 0; i < args->argc; i++) {
		if ((s = json_string(args->argv[i])) == NULL) {
			tendctl_fail(t, TEND_EXIT_USAGE, TENDCTL_ERR_USAGE,
			    "%s is not a valid UTF-8 name", args->argv[i]);
			json_decref(names);
			return NULL;
		}
		json_array_append_new(names, s);
	}
	return names;
}

/*
 * tendd's error object from REPLY; when tendd sent none (ok, yet a result
 * failed), one naming the first failed result.
 */
static json_t *
commands_error_of(json_t *reply)
{
	json_t *err, *r;
	size_t i;

	err = json_object_get(reply, "error");
	if (json_is_object(err) && json_is_string(json_object_get(err,
	    "message")))
		return json_incref(err);
	json_array_foreach(json_object_get(reply, "results"), i, r) {
		if (!json_is_true(json_object_get(r, "ok"))) {
			return json_pack("{s:s,s:s++}", "code", TEND_ERR_FAILED,
			    "message", print_str(r, "name", "?"), ": ",
			    print_str(r, "message", "failed"));
		}
	}
	return json_pack("{s:s,s:s}", "code", print_str(err, "code",
	    TEND_ERR_FAILED), "message", "tendd reported a failure without "
	    "a reason");
}

/*
 * Reports tendd's {"ok": false} reply: its message on stderr unless the
 * caller printed better lines already, and under --json its error object
 * (with RESULTS, when not NULL). Returns STATUS.
 */
static int
commands_daemon_error(struct tendctl *t, json_t *reply, json_t *results,
    int say, int status)
{
	json_t *err;

	err = commands_error_of(reply);
	if (say) {
		fprintf(stderr, "tendctl: %s\n",
		    print_str(err, "message", "failed"));
	}
	if (t->json)
		print_error_json(err, results);
	json_decref(err);
	return status;
}

static int
commands_help(struct tendctl *t, struct tendctl_args *args)
{
	const struct tendctl_cmd *cmd;

	if (args->argc == 0) {
		commands_usage(stdout);
		return TEND_EXIT_OK;
	}
	if ((cmd = commands_find(args->argv[0])) == NULL) {
		return tendctl_fail(t, TEND_EXIT_USAGE, TENDCTL_ERR_USAGE,
		    "unknown command: %s (try 'tendctl --help')",
		    args->argv[0]);
	}
	commands_usage_one(stdout, cmd);
	printf("%s\n", cmd->summary);
	commands_details_print(stdout, cmd);
	return TEND_EXIT_OK;
}

/* How long status --resources watches the CPU seconds go by. */
#define COMMANDS_CPU_SAMPLE	0.5

/*
 * status --resources: a first sample of the same FIELDS, then the wait
 * CPU% is measured over; *SECS is how long that really was.
 */
static int
commands_status_sample(struct tendctl *t, json_t *fields, json_t **rows,
    double *secs)
{
	struct timespec a, b, d = { 0, (long)(COMMANDS_CPU_SAMPLE * 1e9) };
	json_t *reply;
	int status;

	*rows = NULL;
	clock_gettime(CLOCK_MONOTONIC, &a);
	if ((status = tendctl_request(t, "status", json_deep_copy(fields),
	    &reply)) != 0)
		return status;
	if (json_is_true(json_object_get(reply, "ok")))
		*rows = json_incref(json_object_get(reply, "processes"));
	json_decref(reply);
	while (nanosleep(&d, &d) == -1 && errno == EINTR)
		;
	clock_gettime(CLOCK_MONOTONIC, &b);
	*secs = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	return 0;
}

static int
commands_status(struct tendctl *t, struct tendctl_args *args)
{
	json_t *fields, *names, *reply, *procs, *p, *before = NULL;
	const char *code, *state;
	int resources = args->opt[CMDOPT_RESOURCES] != NULL;
	double secs = 0;
	size_t i;
	int status;

	/* No names: tendd shows every process. */
	fields = json_object();
	if (args->argc > 0) {
		if ((names = commands_names(t, args)) == NULL) {
			json_decref(fields);
			return TEND_EXIT_USAGE;
		}
		json_object_set_new(fields, "names", names);
	}
	/*
	 * The table needs three fields of the thirteen, as rows: a reply a
	 * fifth the size, without an object per process. Parsing it was
	 * most of what tendctl spent on a thousand processes.
	 */
	if (!t->json) {
		json_object_set_new(fields, "fields",
		    print_status_fields(resources));
		json_object_set_new(fields, "rows", json_true());
	}
	if (resources && !t->json && (status = commands_status_sample(t,
	    fields, &before, &secs)) != 0) {
		json_decref(fields);
		return status;
	}
	if ((status = tendctl_request(t, "status", fields, &reply)) != 0) {
		json_decref(before);
		return status;
	}

	if (!json_is_true(json_object_get(reply, "ok"))) {
		code = print_str(json_object_get(reply, "error"), "code", "");
		status = strcmp(code, TEND_ERR_UNKNOWN_NAME) == 0 ?
		    TEND_EXIT_UNKNOWN_NAME : TEND_EXIT_FAILED;
		status = commands_daemon_error(t, reply, NULL, 1, status);
		json_decref(reply);
		return status;
	}
	procs = json_object_get(reply, "processes");
	if (!json_is_array(procs)) {
		json_decref(reply);
		return tendctl_fail(t, TEND_EXIT_UNREACHABLE,
		    TENDCTL_ERR_BAD_REPLY, "tendd at %s sent a status reply "
		    "without processes", t->socket);
	}

	if (t->json)
		print_json(procs);
	else if (resources)
		print_status_resources(before, procs, secs);
	else
		print_status(procs);
	json_decref(before);

	/* LSB-style, as supervisorctl: 3 when anything shown is not up. */
	status = TEND_EXIT_OK;
	json_array_foreach(procs, i, p) {
		state = t->json ? print_str(p, "state", "") :
		    print_status_state(p);
		if (strcmp(state, "RUNNING") != 0)
			status = TEND_EXIT_NOT_RUNNING;
	}
	json_decref(reply);
	return status;
}

/* The exit status for a reply tendd refused as a whole. */
static int
commands_refused_status(json_t *reply)
{
	const char *code;

	code = print_str(json_object_get(reply, "error"), "code", "");
	return strcmp(code, TEND_ERR_UNKNOWN_NAME) == 0 ?
	    TEND_EXIT_UNKNOWN_NAME : TEND_EXIT_FAILED;
}

/*
 * start, stop and restart: the same request with "names" and "wait",
 * and a "results" list back. VERBS are the supervisorctl lines printed
 * for each process that succeeded.
 */
static int
commands_action(struct tendctl *t, struct tendctl_args *args,
    const char *cmd, const char *const *verbs, const char *const *nowait)
{
	return commands_action_fields(t, args, cmd, NULL,
	    args->opt[CMDOPT_NO_WAIT] == NULL, verbs, nowait);
}

/*
 * A request with "names" (the operands), FIELDS (consumed; may be NULL)
 * and "wait" unless WAIT is -1; "results" come back, one per process.
 */
static int
commands_action_fields(struct tendctl *t, struct tendctl_args *args,
    const char *cmd, json_t *fields, int wait, const char *const *verbs,
    const char *const *nowait)
{
	json_t *names, *reply, *results, *r;
	int status, failed = 0;
	size_t i;

	if ((names = commands_names(t, args)) == NULL) {
		json_decref(fields);
		return TEND_EXIT_USAGE;
	}
	if (fields == NULL)
		fields = json_object();
	json_object_set_new(fields, "names", names);
	if (wait != -1)
		json_object_set_new(fields, "wait", json_boolean(wait));
	status = tendctl_request(t, cmd, fields, &reply);
	if (status != 0)
		return status;

	results = json_object_get(reply, "results");
	if (!json_is_array(results)) {
		if (json_is_true(json_object_get(reply, "ok"))) {
			json_decref(reply);
			return tendctl_fail(t, TEND_EXIT_UNREACHABLE,
			    TENDCTL_ERR_BAD_REPLY, "tendd at %s sent a %s "
			    "reply without results", t->socket, cmd);
		}
		/* Refused as a whole (unknown name, shutting down...). */
		status = commands_daemon_error(t, reply, NULL, 1,
		    commands_refused_status(reply));
		json_decref(reply);
		return status;
	}

	json_array_foreach(results, i, r) {
		if (!json_is_true(json_object_get(r, "ok")))
			failed = 1;
	}
	if (!json_is_true(json_object_get(reply, "ok")))
		failed = 1;

	if (!failed) {
		if (t->json)
			print_json(results);
		else
			print_results(results, wait ? verbs : nowait);
	} else if (t->json) {
		commands_daemon_error(t, reply, results, 1, TEND_EXIT_FAILED);
	} else {
		/* One line per process; tendd's summary only if none failed. */
		if (print_results(results, wait ? verbs : nowait) == 0)
			commands_daemon_error(t, reply, NULL, 1,
			    TEND_EXIT_FAILED);
	}
	json_decref(reply);
	return failed ? TEND_EXIT_FAILED : TEND_EXIT_OK;
}

static int
commands_start(struct tendctl *t, struct tendctl_args *args)
{
	static const char *const verbs[] = { "started", NULL };
	static const char *const nowait[] = { "starting", NULL };

	return commands_action(t, args, "start", verbs, nowait);
}

static int
commands_stop(struct tendctl *t, struct tendctl_args *args)
{
	static const char *const verbs[] = { "stopped", NULL };
	static const char *const nowait[] = { "stopping", NULL };

	return commands_action(t, args, "stop", verbs, nowait);
}

static int
commands_restart(struct tendctl *t, struct tendctl_args *args)
{
	/* supervisorctl prints both halves; scripts grep for "started". */
	static const char *const verbs[] = { "stopped", "started", NULL };
	static const char *const nowait[] = { "restarting", NULL };
	json_t *fields;

	if (args->opt[CMDOPT_ROLLING] == NULL)
		return commands_action(t, args, "restart", verbs, nowait);
	if (args->opt[CMDOPT_NO_WAIT] != NULL)
		return commands_usage_error(t, commands_find("restart"),
		    "--rolling waits for each process; not with --no-wait");
	fields = json_pack("{s:b}", "rolling", 1);
	return commands_action_fields(t, args, "restart", fields, 1, verbs,
	    nowait);
}

static int
commands_shutdown(struct tendctl *t, struct tendctl_args *args)
{
	json_t *reply;
	const char *code;
	int status, wait;

	wait = args->opt[CMDOPT_NO_WAIT] == NULL;
	if ((status = tendctl_request(t, "shutdown", NULL, &reply)) != 0)
		return status;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		code = print_str(json_object_get(reply, "error"), "code", "");
		/* Already on its way out: the outcome asked for is coming. */
		if (strcmp(code, TEND_ERR_SHUTTING_DOWN) != 0) {
			status = commands_daemon_error(t, reply, NULL, 1,
			    TEND_EXIT_FAILED);
			json_decref(reply);
			return status;
		}
	}
	json_decref(reply);

	/* tendd closes the connection when it exits: that is the outcome. */
	if (wait && (status = tendctl_wait_close(t)) != 0)
		return status;
	if (t->json) {
		reply = json_pack("{s:b}", "exited", wait);
		print_json(reply);
		json_decref(reply);
	} else
		printf("%s\n", wait ? "Shut down" : "Shutting down");
	return TEND_EXIT_OK;
}

static int
commands_version(struct tendctl *t, struct tendctl_args *args)
{
	json_t *reply, *v, *proto, *pid, *out;
	int status;

	/* The client's half is known even when tendd cannot be reached. */
	if (!t->json) {
		printf("tendctl %s\n", TEND_VERSION);
		fflush(stdout);
	}
	if ((status = tendctl_request(t, "version", NULL, &reply)) != 0)
		return status;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		status = commands_daemon_error(t, reply, NULL, 1,
		    TEND_EXIT_FAILED);
		json_decref(reply);
		return status;
	}
	v = json_object_get(reply, "version");
	proto = json_object_get(reply, "protocol");
	pid = json_object_get(reply, "pid");

	if (t->json) {
		out = json_pack("{s:s,s:O?,s:O?,s:O?}", "client", TEND_VERSION,
		    "daemon", v, "protocol", proto, "pid", pid);
		print_json(out);
		json_decref(out);
	} else {
		printf("tendd %s", json_is_string(v) ?
		    json_string_value(v) : "(unknown)");
		if (json_is_integer(proto) && json_is_integer(pid)) {
			printf(" (protocol %lld, pid %lld)",
			    (long long)json_integer_value(proto),
			    (long long)json_integer_value(pid));
		}
		printf("\n");
	}
	if (json_is_integer(proto) &&
	    json_integer_value(proto) != TEND_PROTOCOL_VERSION) {
		fprintf(stderr, "tendctl: tendd speaks protocol %lld, tendctl "
		    "speaks %d: upgrade the older one\n",
		    (long long)json_integer_value(proto),
		    TEND_PROTOCOL_VERSION);
	}
	json_decref(reply);
	return TEND_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* Output: tail, clear, reopen                                          */

/* Standard base64 to bytes; the length, or -1 when it is not base64. */
static ssize_t
commands_unbase64(const char *s, size_t n, unsigned char *out)
{
	unsigned char *o = out;
	uint32_t v = 0;
	size_t i;
	int bits = 0, c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c >= 'A' && c <= 'Z')
			c -= 'A';
		else if (c >= 'a' && c <= 'z')
			c = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			c = c - '0' + 52;
		else if (c == '+')
			c = 62;
		else if (c == '/')
			c = 63;
		else if (c == '=')
			break;
		else
			return -1;
		v = v << 6 | (uint32_t)c;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*o++ = (unsigned char)(v >> bits);
		}
	}
	return o - out;
}

/* The output in an object from tendd, as the bytes it stands for. */
static void
commands_tail_write(json_t *obj, int base64)
{
	json_t *data = json_object_get(obj, "data");
	unsigned char *buf;
	ssize_t n;

	if (!json_is_string(data))
		return;
	if (!base64) {
		fwrite(json_string_value(data), 1, json_string_length(data),
		    stdout);
		return;
	}
	buf = xmalloc(json_string_length(data) / 4 * 3 + 3);
	n = commands_unbase64(json_string_value(data),
	    json_string_length(data), buf);
	if (n > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	free(buf);
}

/* ^C ends tail -f, which is its normal end: status 0 (spec §4). */
static void
commands_tail_sig(int sig)
{
	_exit(TEND_EXIT_OK);
}

static int
commands_tail(struct tendctl *t, struct tendctl_args *args)
{
	const char *stream = args->argc > 1 ? args->argv[1] : "stdout";
	const char *lines_opt = args->opt['n'];
	int follow = args->opt['f'] != NULL, status, got;
	json_t *reply, *obj, *id;
	json_error_t jerr;
	struct sigaction sa;
	long long lines = 10;
	char *line, *end;

	if (strcmp(stream, "stdout") != 0 && strcmp(stream, "stderr") != 0) {
		return tendctl_fail(t, TEND_EXIT_USAGE, TENDCTL_ERR_USAGE,
		    "tail: the stream is stdout or stderr, not %s", stream);
	}
	if (lines_opt != NULL) {
		if (strcmp(lines_opt, "all") == 0)
			lines = -1;
		else {
			errno = 0;
			lines = strtoll(lines_opt, &end, 10);
			if (*lines_opt == '\0' || *end != '\0' || lines < 0 ||
			    errno != 0) {
				return tendctl_fail(t, TEND_EXIT_USAGE,
				    TENDCTL_ERR_USAGE, "tail: -n takes a number "
				    "of lines (or all), not %s", lines_opt);
			}
		}
	}
	/* Text for JSON readers; the exact bytes for a terminal or a file. */
	status = tendctl_request(t, "tail", json_pack("{s:s,s:s,s:I,s:b,s:s}",
	    "name", args->argv[0], "stream", stream, "lines",
	    (json_int_t)lines, "follow", follow, "encoding",
	    t->json ? "text" : "base64"), &reply);
	if (status != 0)
		return status;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		const char *code = print_str(json_object_get(reply, "error"),
		    "code", "");

		status = strcmp(code, TEND_ERR_UNKNOWN_NAME) == 0 ?
		    TEND_EXIT_UNKNOWN_NAME : TEND_EXIT_FAILED;
		status = commands_daemon_error(t, reply, NULL, 1, status);
		json_decref(reply);
		return status;
	}
	json_object_del(reply, "id");
	json_object_del(reply, "ok");
	if (t->json && !follow)
		print_json(reply);
	else if (t->json) {
		json_dumpf(reply, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
	} else
		commands_tail_write(reply, 1);
	fflush(stdout);
	json_decref(reply);
	if (!follow)
		return TEND_EXIT_OK;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = commands_tail_sig;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* Until tendd goes away or we are interrupted. */
	while ((got = tendctl_read_line(t, &line)) == 1) {
		obj = json_loads(line, JSON_ALLOW_NUL, &jerr);
		free(line);
		id = json_object_get(obj, "id");
		if (!json_is_object(obj) || !json_is_integer(id) ||
		    json_integer_value(id) != t->next_id - 1) {
			json_decref(obj);
			continue;
		}
		json_object_del(obj, "id");
		/* The process is no longer configured: nothing more comes. */
		if (json_is_true(json_object_get(obj, "gone"))) {
			fflush(stdout);
			fprintf(stderr, "tendctl: %s is gone (no longer in the "
			    "config)\n", print_str(obj, "name", "?"));
			json_decref(obj);
			got = 0;
			break;
		}
		if (t->json) {
			json_dumpf(obj, stdout, JSON_COMPACT |
			    JSON_PRESERVE_ORDER);
			fputc('\n', stdout);
		} else if (json_is_integer(json_object_get(obj, "skipped"))) {
			fflush(stdout);
			fprintf(stderr, "tendctl: %lld bytes skipped: this "
			    "reader fell behind\n", (long long)
			    json_integer_value(json_object_get(obj, "skipped")));
		} else
			commands_tail_write(obj, 1);
		fflush(stdout);
		json_decref(obj);
	}
	return got == 0 ? TEND_EXIT_OK : TEND_EXIT_UNREACHABLE;
}

static int
commands_clear(struct tendctl *t, struct tendctl_args *args)
{
	static const char *const verbs[] = { "cleared", NULL };

	return commands_action(t, args, "clear", verbs, verbs);
}

static int
commands_reopen(struct tendctl *t, struct tendctl_args *args)
{
	json_t *reply, *out;
	int status;

	if ((status = tendctl_request(t, "reopen", NULL, &reply)) != 0)
		return status;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		status = commands_daemon_error(t, reply, NULL, 1,
		    TEND_EXIT_FAILED);
		json_decref(reply);
		return status;
	}
	json_decref(reply);
	if (t->json) {
		out = json_pack("{s:b}", "reopened", 1);
		print_json(out);
		json_decref(out);
	} else
		printf("Reopened the log files\n");
	return TEND_EXIT_OK;
}

/*
 * reload [--check]: one line per process that changes, supervisorctl
 * style ("NAME: added"), then a count. Config errors go to stderr, one a
 * line as "error: file:line: message" (warnings "warning: ..."), and
 * exit 1: nothing was changed.
 */
static int
commands_reload(struct tendctl *t, struct tendctl_args *args)
{
	json_t *reply, *v, *item, *out;
	const char *change;
	size_t i, j;
	int status, check, added = 0, changed = 0, removed = 0;

	check = args->opt[COMMANDS_RELOAD_CHECK] != NULL;
	status = tendctl_request(t, "reload", json_pack("{s:b}", "check",
	    check), &reply);
	if (status != 0)
		return status;

	/* Labelled as tendd --check labels them. */
	json_array_foreach(json_object_get(reply, "warnings"), i, v)
		if (json_is_string(v))
			fprintf(stderr, "warning: %s\n", json_string_value(v));
	if (!json_is_true(json_object_get(reply, "ok"))) {
		json_array_foreach(json_object_get(reply, "errors"), i, v)
			if (json_is_string(v))
				fprintf(stderr, "error: %s\n",
				    json_string_value(v));
		if (t->json) {
			out = commands_error_of(reply);
			if (json_is_array(json_object_get(reply, "errors")))
				json_object_set(out, "errors",
				    json_object_get(reply, "errors"));
			fprintf(stderr, "tendctl: %s\n", print_str(out,
			    "message", "reload failed"));
			print_error_json(out, NULL);
			json_decref(out);
		} else
			commands_daemon_error(t, reply, NULL, 1,
			    TEND_EXIT_FAILED);
		json_decref(reply);
		return TEND_EXIT_FAILED;
	}

	if (t->json) {
		out = json_deep_copy(reply);
		json_object_del(out, "id");
		json_object_del(out, "ok");
		print_json(out);
		json_decref(out);
		json_decref(reply);
		return TEND_EXIT_OK;
	}
	json_array_foreach(json_object_get(reply, "changes"), i, item) {
		change = print_str(item, "change", "?");
		if (strcmp(change, "added") == 0)
			added++;
		else if (strcmp(change, "changed") == 0)
			changed++;
		else
			removed++;
		printf("%s: %s", print_str(item, "name", "?"), change);
		if (json_array_size(json_object_get(item, "keys")) > 0) {
			printf(" (");
			json_array_foreach(json_object_get(item, "keys"), j, v)
				printf("%s%s", j > 0 ? ", " : "",
				    json_is_string(v) ? json_string_value(v) :
				    "?");
			printf(")");
		}
		printf("\n");
	}
	json_array_foreach(json_object_get(reply, "restart_required"), i, v)
		if (json_is_string(v))
			printf("%s: takes effect when tendd restarts\n",
			    json_string_value(v));
	printf("%s: %d added, %d changed, %d removed, %lld unchanged\n",
	    check ? "would reload (--check: nothing changed)" : "reloaded",
	    added, changed, removed, (long long)json_integer_value(
	    json_object_get(reply, "unchanged")));
	json_decref(reply);
	return TEND_EXIT_OK;
}

static int
commands_kill(struct tendctl *t, struct tendctl_args *args)
{
	static const char *const verbs[] = { "killed", NULL };
	static const char *const nowait[] = { "killing", NULL };

	return commands_action(t, args, "kill", verbs, nowait);
}

static int
commands_signal(struct tendctl *t, struct tendctl_args *args)
{
	static const char *const verbs[] = { "signalled", NULL };
	struct tendctl_args names = *args;
	const char *sig = args->argv[0];

	/* Checked here too, so a typo is a usage error (2), not a failure. */
	if (util_signal_number(sig) <= 0) {
		return tendctl_fail(t, TEND_EXIT_USAGE, TENDCTL_ERR_USAGE,
		    "signal: unknown signal %s (a name like HUP or USR1, or a "
		    "number)", sig);
	}
	names.argc--;
	names.argv++;
	return commands_action_fields(t, &names, "signal",
	    json_pack("{s:s}", "signal", sig), -1, verbs, verbs);
}

static int
commands_pause(struct tendctl *t, struct tendctl_args *args)
{
	static const char *const verbs[] = { "paused", NULL };

	return commands_action_fields(t, args, "pause", NULL, -1, verbs, verbs);
}

static int
commands_resume(struct tendctl *t, struct tendctl_args *args)
{
	static const char *const verbs[] = { "resumed", NULL };

	return commands_action_fields(t, args, "resume", NULL, -1, verbs,
	    verbs);
}

/* spec §12: enable, disable */
static int
commands_enable(struct tendctl *t, struct tendctl_args *args)
{
	static const char *const verbs[] = { "enabled", NULL };

	return commands_action_fields(t, args, "enable", NULL, -1, verbs,
	    verbs);
}

static int
commands_disable(struct tendctl *t, struct tendctl_args *args)
{
	static const char *const verbs[] = { "disabled", NULL };

	return commands_action_fields(t, args, "disable", NULL, -1, verbs,
	    verbs);
}

/* scale PROGRAM N */
static int
commands_scale(struct tendctl *t, struct tendctl_args *args)
{
	json_t *reply;
	char *end;
	long n;
	int status;

	errno = 0;
	n = strtol(args->argv[1], &end, 10);
	if (errno != 0 || end == args->argv[1] || *end != '\0' || n < 0)
		return tendctl_fail(t, TEND_EXIT_USAGE, TENDCTL_ERR_USAGE,
		    "scale: N must be a whole number, 0 or more: %s",
		    args->argv[1]);
	status = tendctl_request(t, "scale", json_pack("{s:s, s:I}",
	    "program", args->argv[0], "count", (json_int_t)n), &reply);
	if (status != 0)
		return status;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		status = commands_daemon_error(t, reply, NULL, 1,
		    commands_refused_status(reply));
		json_decref(reply);
		return status;
	}
	json_object_del(reply, "id");
	json_object_del(reply, "ok");
	if (t->json)
		print_json(reply);
	else
		printf("%s: %lld -> %lld processes\n", args->argv[0],
		    (long long)json_integer_value(json_object_get(reply,
		    "was")), (long long)json_integer_value(json_object_get(
		    reply, "count")));
	json_decref(reply);
	return TEND_EXIT_OK;
}

/* run: the fields of the request; NULL after a usage error. */
static json_t *
commands_run_fields(struct tendctl *t, struct tendctl_args *args)
{
	const char *opt = args->opt[CMDOPT_TIMEOUT], *dir = args->opt['d'];
	json_t *f, *argv = json_array();
	double timeout = -1;
	char *end, *abs = NULL, cwd[4096];
	int i;

	if (opt != NULL) {
		errno = 0;
		timeout = strtod(opt, &end);
		if (*opt == '\0' || *end != '\0' || errno != 0 ||
		    !isfinite(timeout) || timeout < 0) {
			json_decref(argv);
			tendctl_fail(t, TEND_EXIT_USAGE, TENDCTL_ERR_USAGE,
			    "run: --timeout wants seconds, 0 or more, not '%s'",
			    opt);
			return NULL;
		}
	}
	for (i = 0; i < args->argc; i++)
		json_array_append_new(argv, json_string(args->argv[i]));
	/* a relative directory, and the default, are where tendctl is */
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		cwd[0] = '\0';
	if (dir != NULL && dir[0] != '/' && cwd[0] != '\0')
		xasprintf(&abs, "%s/%s", cwd, dir);
	else
		abs = xstrdup(dir != NULL ? dir : cwd[0] != '\0' ? cwd : "/");
	f = json_pack("{s:o, s:b, s:s}", "argv", argv, "wait",
	    args->opt['w'] != NULL, "directory", abs);
	free(abs);
	if (args->opt['n'] != NULL)
		json_object_set_new(f, "name", json_string(args->opt['n']));
	if (timeout >= 0)
		json_object_set_new(f, "timeout", json_real(timeout));
	if (commands_run_env != NULL)
		json_object_set_new(f, "env", json_incref(commands_run_env));
	return f;
}

/* run: started (0), or with --wait the job's status as wait gives it. */
static int
commands_runjob(struct tendctl *t, struct tendctl_args *args)
{
	json_t *fields, *reply, *st;
	const char *code;
	int status;

	if ((fields = commands_run_fields(t, args)) == NULL)
		return TEND_EXIT_USAGE;
	if ((status = tendctl_request(t, "run", fields, &reply)) != 0)
		return status;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		code = print_str(json_object_get(reply, "error"), "code", "");
		status = strcmp(code, TEND_ERR_TIMEOUT) == 0 ?
		    TEND_EXIT_TIMEOUT : strcmp(code, TEND_ERR_BAD_REQUEST) == 0 ?
		    TEND_EXIT_USAGE : TEND_EXIT_FAILED;
		status = commands_daemon_error(t, reply, json_object_get(reply,
		    "results"), 1, status);
		json_decref(reply);
		return status;
	}
	json_object_del(reply, "id");
	json_object_del(reply, "ok");
	st = json_object_get(reply, "status");
	if (t->json)
		print_json(reply);
	else if (st == NULL)
		printf("%s: started (pid %lld)\n", print_str(reply, "name", "?"),
		    (long long)json_integer_value(json_object_get(reply,
		    "pid")));
	status = TEND_EXIT_OK;
	if (st != NULL) {
		status = (int)json_integer_value(st);
		if (status < 0 || status > 255)
			status = TEND_EXIT_FAILED;
	}
	json_decref(reply);
	return status;
}

/* wait: the shell-like status tendd computed, or 124 on timeout. */
static int
commands_wait(struct tendctl *t, struct tendctl_args *args)
{
	json_t *names, *fields, *reply, *results, *r, *st;
	const char *opt = args->opt[CMDOPT_TIMEOUT], *code;
	double timeout = -1;
	char *end;
	size_t i;
	int status;

	if (opt != NULL) {
		errno = 0;
		timeout = strtod(opt, &end);
		if (*opt == '\0' || *end != '\0' || errno != 0 ||
		    !isfinite(timeout) || timeout < 0) {
			return tendctl_fail(t, TEND_EXIT_USAGE,
			    TENDCTL_ERR_USAGE, "wait: --timeout wants seconds, "
			    "0 or more, not '%s'", opt);
		}
	}
	if ((names = commands_names(t, args)) == NULL)
		return TEND_EXIT_USAGE;
	fields = json_pack("{s:o}", "names", names);
	if (timeout >= 0)
		json_object_set_new(fields, "timeout", json_real(timeout));
	if ((status = tendctl_request(t, "wait", fields, &reply)) != 0)
		return status;

	results = json_object_get(reply, "results");
	if (!json_is_true(json_object_get(reply, "ok"))) {
		code = print_str(json_object_get(reply, "error"), "code", "");
		if (strcmp(code, TEND_ERR_TIMEOUT) == 0)
			status = TEND_EXIT_TIMEOUT;
		else
			status = commands_refused_status(reply);
		status = commands_daemon_error(t, reply,
		    json_is_array(results) ? results : NULL, 1, status);
		json_decref(reply);
		return status;
	}
	st = json_object_get(reply, "status");
	if (!json_is_integer(st) || !json_is_array(results)) {
		json_decref(reply);
		return tendctl_fail(t, TEND_EXIT_UNREACHABLE,
		    TENDCTL_ERR_BAD_REPLY, "tendd at %s sent a wait reply "
		    "without a status", t->socket);
	}
	if (t->json) {
		r = json_pack("{s:O,s:O}", "status", st, "results", results);
		print_json(r);
		json_decref(r);
	} else {
		json_array_foreach(results, i, r)
			printf("%s: %s\n", print_str(r, "name", "?"),
			    print_str(r, "message", "exited"));
	}
	status = (int)json_integer_value(st);
	if (status < 0 || status > 255)
		status = TEND_EXIT_FAILED;
	json_decref(reply);
	return status;
}

/*
 * pid: tendd's own, or each named process's, one a line. A process
 * without one prints nothing (supervisorctl prints 0, which kill(1)
 * would take for the caller's whole process group) and makes it 3.
 */
static int
commands_pid(struct tendctl *t, struct tendctl_args *args)
{
	json_t *names, *reply, *procs, *p, *pid, *out;
	size_t i;
	int status;

	if (args->argc == 0) {
		if ((status = tendctl_request(t, "version", NULL, &reply)) != 0)
			return status;
		pid = json_object_get(reply, "pid");
		if (!json_is_true(json_object_get(reply, "ok")) ||
		    !json_is_integer(pid)) {
			status = commands_daemon_error(t, reply, NULL, 1,
			    TEND_EXIT_FAILED);
			json_decref(reply);
			return status;
		}
		if (t->json) {
			out = json_pack("{s:O}", "pid", pid);
			print_json(out);
			json_decref(out);
		} else
			printf("%lld\n", (long long)json_integer_value(pid));
		json_decref(reply);
		return TEND_EXIT_OK;
	}

	if ((names = commands_names(t, args)) == NULL)
		return TEND_EXIT_USAGE;
	status = tendctl_request(t, "status", json_pack("{s:o}", "names",
	    names), &reply);
	if (status != 0)
		return status;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		status = commands_daemon_error(t, reply, NULL, 1,
		    commands_refused_status(reply));
		json_decref(reply);
		return status;
	}
	procs = json_object_get(reply, "processes");
	out = json_array();
	status = TEND_EXIT_OK;
	json_array_foreach(procs, i, p) {
		pid = json_object_get(p, "pid");
		json_array_append_new(out, json_pack("{s:s,s:s,s:O?}",
		    "name", print_str(p, "name", "?"),
		    "state", print_str(p, "state", "?"),
		    "pid", json_is_integer(pid) ? pid : NULL));
		if (json_is_integer(pid)) {
			if (!t->json)
				printf("%lld\n",
				    (long long)json_integer_value(pid));
			continue;
		}
		status = TEND_EXIT_NOT_RUNNING;
		if (!t->json)
			fprintf(stderr, "tendctl: %s is not running (%s)\n",
			    print_str(p, "name", "?"),
			    print_str(p, "state", "?"));
	}
	if (t->json)
		print_json(out);
	json_decref(out);
	json_decref(reply);
	return status;
}

/* An event as tendd's log shows a state change. */
static void
commands_print_event(json_t *ev)
{
	json_t *pid = json_object_get(ev, "pid"), *t = json_object_get(ev,
	    "time");
	const char *reason = print_str(ev, "reason", NULL);
	char when[64] = "";
	struct tm tm;
	time_t secs;
	double now;

	if (json_is_number(t)) {
		now = json_number_value(t);
		secs = (time_t)now;
		if (localtime_r(&secs, &tm) != NULL) {
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
			snprintf(when + strlen(when), sizeof(when) - strlen(when),
			    ".%03d ", (int)((now - (double)secs) * 1000));
		}
	}
	/* a health check's verdict (tendd's probes) */
	if (strcmp(print_str(ev, "event", ""), "health") == 0) {
		json_t *n = json_object_get(ev, "failures");

		printf("%s%s: %s", when, print_str(ev, "name", "?"),
		    print_str(ev, "health", "no health check"));
		if (json_integer_value(n) > 0)
			printf(" (%lld of %lld)", (long long)json_integer_value(n),
			    (long long)json_integer_value(json_object_get(ev,
			    "retries")));
		if (json_is_string(json_object_get(ev, "health_detail")))
			printf(": %s", print_str(ev, "health_detail", ""));
		printf("\n");
		return;
	}
	printf("%s%s: %s -> %s", when, print_str(ev, "name", "?"),
	    print_str(ev, "from", "?"), print_str(ev, "to", "?"));
	if (json_is_integer(pid) && reason != NULL)
		printf(" (pid %lld, %s)", (long long)json_integer_value(pid),
		    reason);
	else if (json_is_integer(pid))
		printf(" (pid %lld)", (long long)json_integer_value(pid));
	else if (reason != NULL)
		printf(" (%s)", reason);
	printf("\n");
}

/* events: tendd's stream, until it closes the connection. */
static int
commands_events(struct tendctl *t, struct tendctl_args *args)
{
	json_t *fields = NULL, *names, *reply, *ev;
	char *line;
	int status, got;

	if (args->argc > 0) {
		if ((names = commands_names(t, args)) == NULL)
			return TEND_EXIT_USAGE;
		fields = json_pack("{s:o}", "names", names);
	}
	if ((status = tendctl_request(t, "events", fields, &reply)) != 0)
		return status;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		status = commands_daemon_error(t, reply, NULL, 1,
		    commands_refused_status(reply));
		json_decref(reply);
		return status;
	}
	json_decref(reply);
	/* A reader of a pipe sees each event as it happens. */
	fflush(stdout);
	while ((got = tendctl_read_line(t, &line)) == 1) {
		ev = json_loads(line, 0, NULL);
		if (json_is_object(ev) && json_object_get(ev, "event") != NULL) {
			if (t->json)
				printf("%s\n", line);
			else
				commands_print_event(ev);
			if (fflush(stdout) != 0) {
				json_decref(ev);
				free(line);
				break;
			}
		}
		json_decref(ev);
		free(line);
	}
	return got == -1 ? TEND_EXIT_UNREACHABLE : TEND_EXIT_OK;
}
