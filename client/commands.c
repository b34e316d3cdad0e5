/*
 * commands.c: tendctl's command table, the parsing of each command's own
 * options and operands, and the handlers: what each sends to tendd and
 * which exit status its reply means (spec §4).
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

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

static const struct option commands_nowait_opts[] = {
	{ "no-wait",	no_argument,	NULL,	CMDOPT_NO_WAIT },
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
	{ "status", "[NAME...]", "show the state of processes",
	  0, -1, "", NULL, commands_status },
	{ "start", "[--no-wait] NAME...",
	  "start; wait until RUNNING or failed",
	  1, -1, "", commands_nowait_opts, commands_start },
	{ "stop", "[--no-wait] NAME...",
	  "stop; wait until stopped",
	  1, -1, "", commands_nowait_opts, commands_stop },
	{ "restart", "[--no-wait] NAME...", "stop, then start",
	  1, -1, "", commands_nowait_opts, commands_restart },
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
	{ "help", "[COMMAND]", "show this help, or a command's",
	  0, 1, "", NULL, commands_help },
};

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
	    "5 cannot reach tendd\n", TEND_DEFAULT_CONFIG);
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
	return TEND_EXIT_OK;
}

static int
commands_status(struct tendctl *t, struct tendctl_args *args)
{
	json_t *fields = NULL, *names, *reply, *procs, *p;
	const char *code;
	size_t i;
	int status;

	/* No names: tendd shows every process. */
	if (args->argc > 0) {
		if ((names = commands_names(t, args)) == NULL)
			return TEND_EXIT_USAGE;
		fields = json_pack("{s:o}", "names", names);
	}
	if ((status = tendctl_request(t, "status", fields, &reply)) != 0)
		return status;

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
	else
		print_status(procs);

	/* LSB-style, as supervisorctl: 3 when anything shown is not up. */
	status = TEND_EXIT_OK;
	json_array_foreach(procs, i, p) {
		if (strcmp(print_str(p, "state", ""), "RUNNING") != 0)
			status = TEND_EXIT_NOT_RUNNING;
	}
	json_decref(reply);
	return status;
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
	json_t *names, *reply, *results, *r;
	int status, wait, failed = 0;
	size_t i;

	if ((names = commands_names(t, args)) == NULL)
		return TEND_EXIT_USAGE;
	wait = args->opt[CMDOPT_NO_WAIT] == NULL;
	status = tendctl_request(t, cmd, json_pack("{s:o,s:b}", "names",
	    names, "wait", wait), &reply);
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
		    TEND_EXIT_FAILED);
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

	return commands_action(t, args, "restart", verbs, nowait);
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
 * line as file:line: message, and exit 1: nothing was changed.
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

	json_array_foreach(json_object_get(reply, "warnings"), i, v)
		if (json_is_string(v))
			fprintf(stderr, "%s\n", json_string_value(v));
	if (!json_is_true(json_object_get(reply, "ok"))) {
		json_array_foreach(json_object_get(reply, "errors"), i, v)
			if (json_is_string(v))
				fprintf(stderr, "%s\n", json_string_value(v));
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
