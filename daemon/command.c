/*
 * command.c: one request line in, one reply out (spec §5). command_table[]
 * below is every command: the fields it takes, its flags, its handler
 * (cmd_*.c, events.c). Dispatch checks every field a row declares before
 * a handler runs, so nothing changes on a request that is refused; the
 * handler gets the parsed fields (struct cmd_args) and replies through
 * reply.c.
 *
 * Requests that wait for an outcome (start, stop, restart, kill, wait)
 * are parked here as waiters and answered from command_state_changed(),
 * so the loop never blocks on them; the events stream (events.c) hangs
 * off the same place.
 *
 * A quote of what a client sent is cut by utf8_dup(), never inside a
 * character.
 */
#include <fnmatch.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "command.h"
#include "utf8.h"

/* One parked request: which processes, and what outcome it waits for. */
struct waiter {
	TAILQ_ENTRY(waiter) entry;
	struct conn	*conn;
	json_t		*id;
	enum waiter_op	 op;
	size_t		 n;
	struct proc	**procs;
	int		*done;		/* per process: 0 waiting, 1 ok, -1 failed */
	char		**msgs;
	char		**gone;		/* name of a process a reload removed */
	/* OP_WAIT: each result as it settled, and the timeout's timer */
	json_t		**res;
	double		 timeout;	/* seconds; < 0: none */
	struct event	*timer;		/* OP_ROLL: the next step, from the loop */
	size_t		 cur;		/* OP_ROLL: the process restarting */
	int		 step_due;	/* OP_ROLL: cur not restarted yet */
};
static TAILQ_HEAD(, waiter) waiters = TAILQ_HEAD_INITIALIZER(waiters);

/* ------------------------------------------------------------------ */
/* The table                                                            */

/*
 * A field: its key, its type (command_types[] below has each one's
 * check), the member of struct cmd_args it fills, its default, and for a
 * required one the missing_field message.
 */
#define FIELD(key, t, member, d, need)					\
	{ .name = key, .type = t, .off = offsetof(struct cmd_args, member), \
	  .def = d, .missing = need }
#define CHOICE(key, member, a, b)					\
	{ .name = key, .type = CMD_T_CHOICE,				\
	  .off = offsetof(struct cmd_args, member), .choices = { a, b } }
#define BOOL(key, member, d)	FIELD(key, CMD_T_BOOL, member, d, NULL)
#define WAIT			BOOL("wait", wait, 1)
#define NAMES			FIELD("names", CMD_T_NAMES, names, 0, \
				    "no process named: give names, or all")
#define NAMES_OR_ALL		FIELD("names", CMD_T_NAMES, names, 0, NULL)

/*
 * Every command. Its fields are checked in the order given, then the
 * flags: CMD_NOT_IN_SHUTDOWN refuses it while tendd shuts down;
 * CMD_PARKS lets its handler park it until `until` (up, down, settled);
 * CMD_STREAMS lets its handler turn the connection into a stream.
 */
static const struct cmd_entry command_table[] = {
	{ .name = "version", .exec = cmd_daemon_version },
	{ .name = "status", .exec = cmd_status_exec,
	  .fields = { BOOL("rows", fields.rows, 0),
		      FIELD("fields", CMD_T_FIELDS, fields, 0, NULL),
		      NAMES_OR_ALL } },
	{ .name = "start", .exec = cmd_proc_start, .fields = { WAIT, NAMES },
	  .flags = CMD_NOT_IN_SHUTDOWN | CMD_PARKS, .until = OP_START },
	{ .name = "stop", .exec = cmd_proc_stop, .fields = { WAIT, NAMES },
	  .flags = CMD_PARKS, .until = OP_STOP },
	{ .name = "restart", .exec = cmd_proc_restart,
	  .fields = { WAIT, NAMES, BOOL("rolling", rolling, 0) },
	  .flags = CMD_NOT_IN_SHUTDOWN | CMD_PARKS, .until = OP_START },
	{ .name = "shutdown", .exec = cmd_daemon_shutdown },
	{ .name = "tail", .exec = cmd_output_tail,
	  .fields = { FIELD("name", CMD_T_NAME, name, 0, "tail needs a name"),
		      CHOICE("stream", stream, "stdout", "stderr"),
		      FIELD("lines", CMD_T_LINES, lines, 10, NULL),
		      BOOL("follow", follow, 0),
		      CHOICE("encoding", base64, "text", "base64") } },
	{ .name = "clear", .exec = cmd_output_clear, .fields = { NAMES } },
	{ .name = "reopen", .exec = cmd_output_reopen },
	{ .name = "reload", .exec = cmd_daemon_reload,
	  .fields = { BOOL("check", check, 0) },
	  .flags = CMD_NOT_IN_SHUTDOWN },
	{ .name = "kill", .exec = cmd_proc_kill, .fields = { WAIT, NAMES },
	  .flags = CMD_PARKS, .until = OP_STOP },
	{ .name = "signal", .exec = cmd_proc_signal,
	  .fields = { FIELD("signal", CMD_T_SIGNAL, sig, 0, "no signal given"),
		      NAMES } },
	{ .name = "pause", .exec = cmd_proc_pause, .fields = { NAMES } },
	{ .name = "resume", .exec = cmd_proc_resume, .fields = { NAMES } },
	{ .name = "wait", .exec = cmd_proc_wait,
	  .fields = { FIELD("timeout", CMD_T_SECONDS, timeout, -1, NULL),
		      NAMES },
	  .flags = CMD_PARKS, .until = OP_WAIT },
	{ .name = "events", .exec = events_subscribe,
	  .fields = { NAMES_OR_ALL }, .flags = CMD_STREAMS },
	/* spec §12: runtime operations (cmd_runtime.c) */
	{ .name = "enable", .exec = cmd_runtime_enable, .fields = { NAMES } },
	{ .name = "disable", .exec = cmd_runtime_disable, .fields = { NAMES } },
	{ .name = "scale", .exec = cmd_runtime_scale,
	  .fields = { FIELD("program", CMD_T_NAME, program, 0,
			    "scale needs a program"),
		      FIELD("count", CMD_T_LINES, count, -1,
			    "scale needs a count") },
	  .flags = CMD_NOT_IN_SHUTDOWN },
	{ .name = "run", .exec = cmd_runtime_run,
	  .fields = { FIELD("argv", CMD_T_STRV, argv, 0, "run needs a command"),
		      FIELD("name", CMD_T_NAME, run_name, 0, NULL),
		      FIELD("env", CMD_T_STRV, env, 0, NULL),
		      FIELD("directory", CMD_T_NAME, directory, 0, NULL),
		      BOOL("wait", wait, 0),
		      FIELD("timeout", CMD_T_SECONDS, timeout, -1, NULL) },
	  .flags = CMD_NOT_IN_SHUTDOWN | CMD_PARKS, .until = OP_WAIT },
};

/* Row I of the table, or NULL past its end (for the tests). */
const struct cmd_entry *
command_at(size_t i)
{
	return i < nitems(command_table) ? &command_table[i] : NULL;
}

const struct cmd_entry *
command_find(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(command_table); i++)
		if (strcmp(name, command_table[i].name) == 0)
			return &command_table[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Field checks: each stores the value at AT, or says what is wrong.    */

/*
 * A check returns 0, or -1 when V is not of its type at all (the message
 * is "KEY must be ..." from command_types[]), or -2 with its own *MSG.
 */
typedef int	(*command_check_fn)(const struct cmd_field *, json_t *v,
		    void *at, char **msg);

static int
command_check_bool(const struct cmd_field *f, json_t *v, void *at,
    char **msg)
{
	if (!json_is_boolean(v))
		return -1;
	*(int *)at = json_is_true(v);
	return 0;
}

static int
command_check_name(const struct cmd_field *f, json_t *v, void *at,
    char **msg)
{
	if (!json_is_string(v))
		return -1;
	*(json_t **)at = v;
	return 0;
}

static int
command_check_lines(const struct cmd_field *f, json_t *v, void *at,
    char **msg)
{
	json_int_t n;

	if (!json_is_integer(v))
		return -1;
	n = json_integer_value(v);
	*(long *)at = n < 0 ? -1 : n > LONG_MAX ? LONG_MAX : (long)n;
	return 0;
}

static int
command_check_seconds(const struct cmd_field *f, json_t *v, void *at,
    char **msg)
{
	if (json_is_null(v))
		return 0;
	if (!json_is_number(v) || !(json_number_value(v) >= 0))
		return -1;
	/* beyond any timer libevent can hold: no timeout */
	if (json_number_value(v) < (double)INT_MAX)
		*(double *)at = json_number_value(v);
	return 0;
}

/* A name (HUP, SIGHUP, hup, rtmin+1) or a number. */
static int
command_check_signal(const struct cmd_field *f, json_t *v, void *at,
    char **msg)
{
	json_int_t n;
	char *quote;
	int sig;

	if (json_is_integer(v)) {
		n = json_integer_value(v);
		sig = n >= 1 && n <= SIGRTMAX ? (int)n : -1;
	} else if (json_is_string(v))
		sig = util_signal_number(json_string_value(v));
	else
		return -1;
	if (sig <= 0) {
		if (json_is_string(v)) {
			quote = utf8_dup(json_string_value(v), 64);
			xasprintf(msg, "unknown signal: %s", quote);
			free(quote);
		} else
			xasprintf(msg, "unknown signal: %lld",
			    (long long)json_integer_value(v));
		return -2;
	}
	*(int *)at = sig;
	return 0;
}

static int
command_check_choice(const struct cmd_field *f, json_t *v, void *at,
    char **msg)
{
	int i;

	for (i = 0; i < 2; i++)
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), f->choices[i]) == 0) {
			*(int *)at = i;
			return 0;
		}
	xasprintf(msg, "%s must be %s or %s", f->name, f->choices[0],
	    f->choices[1]);
	return -2;
}

static int
command_check_fields(const struct cmd_field *f, json_t *v, void *at,
    char **msg)
{
	return cmd_status_pick(v, at, msg) == -1 ? -2 : 0;
}

/* spec §12: run's argv and env; argv not empty. */
static int
command_check_strv(const struct cmd_field *f, json_t *v, void *at,
    char **msg)
{
	json_t *e;
	size_t i;

	if (!json_is_array(v) || (strcmp(f->name, "argv") == 0 &&
	    json_array_size(v) == 0))
		return -1;
	json_array_foreach(v, i, e)
		if (!json_is_string(e) || strlen(json_string_value(e)) !=
		    json_string_length(e))
			return -1;
	*(json_t **)at = v;
	return 0;
}

static const struct {
	command_check_fn check;
	const char	*must;		/* KEY must be ... */
} command_types[] = {
	/* checked after the shutdown refusal: command_check_names */
	[CMD_T_NAMES] = { NULL, "a list of strings" },
	[CMD_T_NAME] = { command_check_name, "a string" },
	[CMD_T_BOOL] = { command_check_bool, "true or false" },
	[CMD_T_LINES] = { command_check_lines, "a whole number" },
	[CMD_T_SECONDS] = { command_check_seconds,
			    "a number of seconds, 0 or more" },
	[CMD_T_SIGNAL] = { command_check_signal, "a name or a number" },
	[CMD_T_CHOICE] = { command_check_choice, NULL },
	[CMD_T_FIELDS] = { command_check_fields, NULL },
	[CMD_T_STRV] = { command_check_strv, "a list of strings" },
};

/* Every default first, so a refused field leaves nothing half-set. */
static void
command_args_init(const struct cmd_entry *e, struct cmd_args *a)
{
	const struct cmd_field *f;
	void *at;

	memset(a, 0, sizeof(*a));
	a->timeout = -1;
	for (f = e->fields; f < e->fields + CMD_MAXFIELDS && f->name; f++) {
		at = (char *)a + f->off;
		switch (f->type) {
		case CMD_T_BOOL:
		case CMD_T_CHOICE:
			*(int *)at = (int)f->def;
			break;
		case CMD_T_LINES:
			*(long *)at = f->def;
			break;
		case CMD_T_SECONDS:
			*(double *)at = (double)f->def;
			break;
		case CMD_T_FIELDS:
			/* every field, in the table's order */
			cmd_status_pick(NULL, at, NULL);
			break;
		default:
			break;
		}
	}
}

/* Each field of E's row in REQ, in the row's order: the first wrong one. */
static const char *
command_check_fields_of(const struct cmd_entry *e, json_t *req,
    struct cmd_args *a, char **msg)
{
	const struct cmd_field *f;
	json_t *v;
	int rc;

	for (f = e->fields; f < e->fields + CMD_MAXFIELDS && f->name; f++) {
		if (command_types[f->type].check == NULL)
			continue;	/* names: command_check_names */
		v = json_object_get(req, f->name);
		if (v == NULL && f->missing != NULL) {
			*msg = xstrdup(f->missing);
			return TEND_ERR_MISSING;
		}
		if (v == NULL)
			continue;
		rc = command_types[f->type].check(f, v, (char *)a + f->off,
		    msg);
		if (rc == -1)
			xasprintf(msg, "%s must be %s", f->name,
			    command_types[f->type].must);
		if (rc != 0)
			return TEND_ERR_BAD_REQUEST;
	}
	return NULL;
}

/* E's "names" field, or NULL when it takes none. */
static const struct cmd_field *
command_names_field(const struct cmd_entry *e)
{
	const struct cmd_field *f;

	for (f = e->fields; f < e->fields + CMD_MAXFIELDS && f->name; f++)
		if (f->type == CMD_T_NAMES)
			return f;
	return NULL;
}

/*
 * "names": absent or empty is every process (or missing_field where the
 * row says so); else a list of strings, matched later.
 */
static const char *
command_check_names(const struct cmd_entry *e, json_t *req,
    struct cmd_args *a, char **msg)
{
	const struct cmd_field *f;
	json_t *names, *v;
	size_t i;

	if ((f = command_names_field(e)) == NULL)
		return NULL;
	names = json_object_get(req, f->name);
	if (names != NULL && !json_is_array(names))
		goto bad;
	if (names == NULL || json_array_size(names) == 0) {
		if (f->missing != NULL) {
			*msg = xstrdup(f->missing);
			return TEND_ERR_MISSING;
		}
		return NULL;
	}
	json_array_foreach(names, i, v)
		if (!json_is_string(v))
			goto bad;
	a->names = json_incref(names);
	return NULL;
bad:
	xasprintf(msg, "%s must be %s", f->name,
	    command_types[CMD_T_NAMES].must);
	return TEND_ERR_BAD_REQUEST;
}

int
command_check(const char *line, size_t len, int shutting_down,
    const struct cmd_entry **e, json_t **req, json_t **id,
    struct cmd_args *a, const char **code, char **msg)
{
	const char *name;
	char *quote;

	memset(a, 0, sizeof(*a));
	*e = NULL;
	if (protocol_decode(line, len, req, id, &name, code, msg) == -1)
		return -1;
	if ((*e = command_find(name)) == NULL) {
		quote = utf8_dup(name, 100);
		xasprintf(msg, "unknown command: %s", quote);
		free(quote);
		*code = TEND_ERR_UNKNOWN_CMD;
		return -1;
	}
	command_args_init(*e, a);
	if ((*code = command_check_fields_of(*e, *req, a, msg)) != NULL)
		return -1;
	if (((*e)->flags & CMD_NOT_IN_SHUTDOWN) && shutting_down) {
		*code = TEND_ERR_SHUTTING_DOWN;
		*msg = xstrdup("tendd is shutting down");
		return -1;
	}
	if ((*code = command_check_names(*e, *req, a, msg)) != NULL)
		return -1;
	return 0;
}

void
command_args_free(struct cmd_args *a)
{
	json_decref(a->names);
	free(a->procs);
	a->names = NULL;
	a->procs = NULL;
}

/* ------------------------------------------------------------------ */
/* Names -> processes                                                   */

static int
command_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

int
command_matches(const struct proc *p, const char *name)
{
	const char *colon;

	if (strcmp(name, "all") == 0)
		return 1;
	if (command_glob(name))
		return fnmatch(name, p->fullname, 0) == 0 ||
		    fnmatch(name, p->name, 0) == 0;
	if ((colon = strchr(name, ':')) != NULL) {
		/* GROUP:NAME; GROUP:* is a glob above */
		return strcmp(name, p->fullname) == 0;
	}
	return strcmp(name, p->name) == 0;
}

/* The names of NAMES (checked strings) that match nothing, FIRST first. */
static json_t *
command_unknown(json_t *names, size_t *nunknown, const char **first)
{
	json_t *unknown = json_array(), *v;
	struct proc *p;
	size_t i;
	int any;

	*nunknown = 0;
	json_array_foreach(names, i, v) {
		any = 0;
		TAILQ_FOREACH(p, &procs, entry)
			if (command_matches(p, json_string_value(v)))
				any = 1;
		if (!any) {
			if ((*nunknown)++ == 0)
				*first = json_string_value(v);
			unknown = reply_push(unknown, json_incref(v));
		}
	}
	return unknown;
}

/*
 * NAMES (NULL: all) -> processes in priority order, each once. Any name
 * that matches nothing refuses the whole request: nothing is changed
 * half-way.
 */
static struct proc **
command_resolve(struct conn *c, json_t *id, json_t *names, size_t *np)
{
	json_t *v, *unknown;
	struct proc **out, *p;
	size_t i, n = 0, nunknown;
	const char *first = NULL;
	char *msg;

	*np = 0;
	unknown = command_unknown(names, &nunknown, &first);
	if (nunknown > 0) {
		if (nunknown == 1)
			xasprintf(&msg, "no such process: %s", first);
		else
			xasprintf(&msg, "no such process: %s (and %zu more)",
			    first, nunknown - 1);
		reply_send(c, reply_failed(id, TEND_ERR_UNKNOWN_NAME, msg,
		    "names", unknown));
		free(msg);
		return NULL;
	}
	json_decref(unknown);
	out = xcalloc((size_t)program_nprocs + 1, sizeof(*out));
	TAILQ_FOREACH(p, &procs, entry) {
		if (names == NULL) {
			out[n++] = p;
			continue;
		}
		json_array_foreach(names, i, v) {
			if (command_matches(p, json_string_value(v))) {
				out[n++] = p;
				break;
			}
		}
	}
	*np = n;
	return out;
}

/* ------------------------------------------------------------------ */
/* Parked requests                                                      */

static void
waiter_free(struct waiter *w)
{
	size_t i;

	json_decref(w->id);
	for (i = 0; i < w->n; i++) {
		free(w->msgs[i]);
		free(w->gone[i]);
		json_decref(w->res[i]);
	}
	if (w->timer != NULL)
		event_free(w->timer);
	free(w->res);
	free(w->msgs);
	free(w->gone);
	free(w->procs);
	free(w->done);
	free(w);
}

/*
 * wait's status for a settled process, like a shell's: N for exit(N),
 * 128+N for signal N. One that never ran (NEW, or a spawn error) is 127,
 * as a shell says of a command it could not run.
 */
static json_t *
command_wait_result(struct proc *p)
{
	json_t *r;
	char *msg;
	int status;

	if (p->state == PROC_FATAL && p->spawnerr != NULL) {
		status = 127;
		xasprintf(&msg, "could not be started: %s", p->spawnerr);
	} else if (!p->has_exited) {
		status = 127;
		msg = xstrdup("never started");
	} else if (p->exitcode < 0) {
		status = 128 - p->exitcode;
		xasprintf(&msg, "killed by SIG%s", util_signal_name(-p->exitcode));
	} else {
		status = p->exitcode;
		xasprintf(&msg, "exited with code %d", p->exitcode);
	}
	r = json_pack("{s:o, s:b, s:s, s:o, s:i, s:o}",
	    "name", protocol_string(p->display), "ok", 1,
	    "state", program_state_name(p->state),
	    "exitcode", p->has_exited ? json_integer(p->exitcode) : json_null(),
	    "status", status, "message", protocol_string(msg));
	free(msg);
	return r;
}

/*
 * wait's reply: every process settled (TIMEDOUT NULL): ok, with the first
 * nonzero status as the overall one; or the timeout ran out first.
 */
static void
waiter_reply_wait(struct waiter *w, const char *timedout)
{
	json_t *r, *results;
	size_t i, left = 0, first = 0;
	json_int_t status = 0, st;
	char *msg;

	results = json_array();
	for (i = 0; i < w->n; i++) {
		if (w->res[i] != NULL || w->done[i] != 0) {
			/* settled (no result only when memory ran out) */
			results = reply_push(results, json_incref(w->res[i]));
			st = json_integer_value(json_object_get(w->res[i],
			    "status"));
			if (status == 0 && st != 0)
				status = st;
			continue;
		}
		if (left++ == 0)
			first = i;
		xasprintf(&msg, "still %s", program_state_name(w->procs[i]->state));
		results = reply_push(results, json_pack("{s:o, s:b, s:s, s:n, "
		    "s:n, s:s}", "name", protocol_string(w->procs[i]->display),
		    "ok", 0, "state", program_state_name(w->procs[i]->state),
		    "exitcode", "status", "message", msg));
		free(msg);
	}
	if (timedout == NULL) {
		r = reply_set(reply_ok(w->id), "status",
		    json_integer(status));
		r = reply_set(r, "results", results);
	} else {
		if (left > 1)
			xasprintf(&msg, "%s still running after %s (and %zu more)",
			    w->procs[first]->display, timedout, left - 1);
		else
			xasprintf(&msg, "%s still running after %s",
			    w->procs[first]->display, timedout);
		r = reply_failed(w->id, TEND_ERR_TIMEOUT, msg, "results",
		    results);
		free(msg);
	}
	reply_send(w->conn, r);
}

static void
waiter_timeout_cb(int fd, short ev, void *arg)
{
	struct waiter *w = arg;
	char when[64];

	snprintf(when, sizeof(when), "%gs", w->timeout);
	TAILQ_REMOVE(&waiters, w, entry);
	waiter_reply_wait(w, when);
	waiter_free(w);
}

/* Has process I reached the outcome this waiter waits for? */
static void
waiter_check(struct waiter *w, size_t i)
{
	struct proc *p = w->procs[i];
	enum state_outcome o;

	if (w->done[i] != 0 || p == NULL)
		return;
	o = state_outcome(p, w->op == OP_WAIT ? GOAL_SETTLED :
	    w->op == OP_STOP ? GOAL_DOWN : GOAL_UP, &w->msgs[i]);
	if (o == OUTCOME_PENDING)
		return;
	w->done[i] = o == OUTCOME_DONE ? 1 : -1;
	if (w->op == OP_WAIT)
		w->res[i] = command_wait_result(p);
}

static const char *
waiter_name(struct waiter *w, size_t i)
{
	return w->procs[i] != NULL ? w->procs[i]->display : w->gone[i];
}

static int	 waiter_try_reply(struct waiter *);

/* restart --rolling's next process, from the loop (not from a change). */
static void
waiter_roll_cb(int fd, short ev, void *arg)
{
	struct waiter *w = arg;

	w->step_due = 0;
	if (w->procs[w->cur] != NULL)
		cmd_proc_restart_one(w->procs[w->cur]);
	if (waiter_try_reply(w)) {
		TAILQ_REMOVE(&waiters, w, entry);
		waiter_free(w);
	}
}

/*
 * restart --rolling: the next process is restarted once the current
 * one is up again; the first failure ends it, the rest untouched. 1 when
 * every process has its outcome.
 */
static int
waiter_roll(struct waiter *w)
{
	struct timeval tv = { 0, 0 };
	size_t i;

	if (w->step_due)
		return 0;
	waiter_check(w, w->cur);
	if (w->done[w->cur] == 0)
		return 0;
	if (w->done[w->cur] > 0 && w->cur + 1 < w->n) {
		w->cur++;
		if (w->timer == NULL)
			w->timer = evtimer_new(tendd_base, waiter_roll_cb, w);
		if (w->timer != NULL && evtimer_add(w->timer, &tv) == 0) {
			w->step_due = 1;
			return 0;
		}
		w->done[w->cur] = -1;	/* no memory for the next step */
		w->msgs[w->cur] = xstrdup("not restarted: out of memory");
	}
	for (i = w->cur + 1; i < w->n; i++) {
		w->done[i] = -1;
		xasprintf(&w->msgs[i], "not restarted: %s failed first",
		    waiter_name(w, w->cur));
	}
	return 1;
}

/* Reply when every process has an outcome; then the waiter is gone. */
static int
waiter_try_reply(struct waiter *w)
{
	struct reply_results rr;
	size_t i;

	if (w->op == OP_ROLL && !waiter_roll(w))
		return 0;
	for (i = 0; i < w->n; i++) {
		waiter_check(w, i);
		if (w->done[i] == 0)
			return 0;
	}
	if (w->op == OP_WAIT) {
		waiter_reply_wait(w, NULL);
		return 1;
	}
	reply_results_start(&rr);
	for (i = 0; i < w->n; i++)
		reply_results_add(&rr, waiter_name(w, i), w->done[i] > 0,
		    w->procs[i] != NULL ?
		    program_state_name(w->procs[i]->state) : "STOPPED",
		    w->msgs[i]);
	reply_results_send(w->conn, w->id, &rr);
	return 1;
}

static void
command_park(struct conn *c, json_t *id, enum waiter_op op,
    struct proc **ps, size_t n, double timeout)
{
	struct waiter *w = xcalloc(1, sizeof(*w));
	struct timeval tv;

	w->conn = c;
	w->id = json_incref(id);
	w->op = op;
	w->n = n;
	w->procs = ps;
	w->done = xcalloc(n + 1, sizeof(int));
	w->msgs = xcalloc(n + 1, sizeof(char *));
	w->gone = xcalloc(n + 1, sizeof(char *));
	w->res = xcalloc(n + 1, sizeof(json_t *));
	w->timeout = timeout;
	if (waiter_try_reply(w)) {
		waiter_free(w);
		return;
	}
	if (timeout >= 0) {
		tv = util_timeval(timeout);
		if ((w->timer = evtimer_new(tendd_base, waiter_timeout_cb, w))
		    == NULL || evtimer_add(w->timer, &tv) == -1) {
			control_unbuilt(c, "a timeout");
			waiter_free(w);
			return;
		}
	}
	TAILQ_INSERT_TAIL(&waiters, w, entry);
}

/* start, stop, restart: act on every process, then wait or reply. */

/* ------------------------------------------------------------------ */
/* Dispatch                                                             */

/*
 * The processes a request's names (or tail's one name) select; -1 once
 * refused (unknown_name, or tail's name matching more than one).
 */
static int
command_select(struct conn *c, json_t *id, const struct cmd_entry *e,
    struct cmd_args *a)
{
	char *msg;

	if (a->name != NULL) {
		if ((a->names = json_pack("[O]", a->name)) == NULL) {
			reply_unbuilt(c);
			return -1;
		}
	} else if (command_names_field(e) == NULL)
		return 0;
	if ((a->procs = command_resolve(c, id, a->names, &a->n)) == NULL)
		return -1;
	if (a->name != NULL && a->n != 1) {
		xasprintf(&msg, "%s names %zu processes; %s shows one",
		    json_string_value(a->name), a->n, e->name);
		reply_error(c, id, TEND_ERR_BAD_REQUEST, msg);
		free(msg);
		return -1;
	}
	return 0;
}

void
command_dispatch(struct conn *c, const char *line, size_t len)
{
	const struct cmd_entry *e;
	struct cmd_args a;
	json_t *req, *id;
	const char *code;
	char *msg;

	if (command_check(line, len, tendd_shutting_down(), &e, &req, &id,
	    &a, &code, &msg) == -1) {
		reply_error(c, id, code, msg);
		free(msg);
	} else if (command_select(c, id, e, &a) == 0) {
		switch (e->exec(c, id, &a)) {
		case CMD_RETURN_DONE:
			break;
		case CMD_RETURN_PARK:
			if (!(e->flags & CMD_PARKS))
				fatal("command %s parked: not in its row",
				    e->name);
			command_park(c, id, a.rolling ? OP_ROLL : e->until,
			    a.procs, a.n, e->until == OP_WAIT ? a.timeout : -1);
			a.procs = NULL;
			break;
		case CMD_RETURN_STREAM:
			if (!(e->flags & CMD_STREAMS))
				fatal("command %s streams: not in its row",
				    e->name);
			control_stream(c);
			break;
		}
	}
	command_args_free(&a);
	json_decref(id);
	json_decref(req);
}

/* Every state change: the waiters it answers, then the events stream. */
void
command_state_changed(struct proc *p, enum proc_state old)
{
	struct waiter *w, *next;
	size_t i;

	for (w = TAILQ_FIRST(&waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		for (i = 0; i < w->n; i++)
			if (w->procs[i] == p)
				break;
		if (i == w->n)
			continue;
		if (waiter_try_reply(w)) {
			TAILQ_REMOVE(&waiters, w, entry);
			waiter_free(w);
		}
	}

	events_state_changed(p, old);
	rpc_state_changed(p);
	page_state_changed(p);
}

void
command_conn_gone(struct conn *c)
{
	struct waiter *w, *next;

	output_conn_gone(c);
	for (w = TAILQ_FIRST(&waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (w->conn == c) {
			TAILQ_REMOVE(&waiters, w, entry);
			waiter_free(w);
		}
	}
	events_conn_gone(c);
}

int
command_conn_waiting(struct conn *c)
{
	struct waiter *w;

	TAILQ_FOREACH(w, &waiters, entry)
		if (w->conn == c)
			return 1;
	return events_conn_waiting(c);
}

void
command_proc_gone(struct proc *p)
{
	struct waiter *w, *next;
	size_t i;
	int held;

	rpc_proc_gone(p);
	for (w = TAILQ_FIRST(&waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		held = 0;
		for (i = 0; i < w->n; i++) {
			if (w->procs[i] != p)
				continue;
			held = 1;
			/* Its outcome is final: a stop got what it asked. */
			if (w->done[i] == 0 && w->op == OP_WAIT) {
				/* it was stopped before it went: that exit */
				w->done[i] = 1;
				w->res[i] = command_wait_result(p);
			} else if (w->done[i] == 0) {
				w->done[i] = w->op == OP_STOP ? 1 : -1;
				w->msgs[i] = xstrdup(w->op == OP_STOP ?
				    "stopped, and removed from the config" :
				    "removed from the config by a reload");
			}
			w->gone[i] = xstrdup(p->display);
			w->procs[i] = NULL;
		}
		if (held && waiter_try_reply(w)) {
			TAILQ_REMOVE(&waiters, w, entry);
			waiter_free(w);
		}
	}
}

void
command_shutdown_done(void)
{
	struct waiter *w;

	rpc_shutdown_done();
	/* Nothing will change any more: answer whoever still waits. */
	while ((w = TAILQ_FIRST(&waiters)) != NULL) {
		TAILQ_REMOVE(&waiters, w, entry);
		if (!waiter_try_reply(w))
			reply_error(w->conn, w->id, TEND_ERR_SHUTTING_DOWN,
			    "tendd shut down first");
		waiter_free(w);
	}
}
