/*
 * command.c: one request line in, one reply out (spec §5). A table maps
 * "cmd" to a handler; every field is checked before anything changes.
 * Requests that wait for an outcome (start, stop, restart, kill, wait) are
 * parked as waiters and answered from command_state_changed(), so the
 * loop never blocks on them; the events stream hangs off the same place.
 *
 * Nothing here trusts a string: every one a reply or an event carries
 * goes through protocol_string() (or jsonw), which makes it valid UTF-8,
 * and a quote of what a client sent is cut by utf8_dup(), never inside a
 * character. A reply that cannot be built (no memory) costs its
 * connection (control_send), never tendd.
 */
#include <fnmatch.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "jsonw.h"
#include "tendd.h"
#include "utf8.h"

/*
 * What a parked request waits for: up (start, restart), down (stop,
 * kill), or settled, with no restart coming (wait).
 */
enum waiter_op {
	OP_START,
	OP_STOP,
	OP_WAIT,
};

enum command_action {
	ACT_START,
	ACT_STOP,
	ACT_RESTART,
	ACT_KILL,
};

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
	struct event	*timer;
};
static TAILQ_HEAD(, waiter) waiters = TAILQ_HEAD_INITIALIZER(waiters);

/* An events subscriber: its connection and the names it asked for. */
struct subscriber {
	TAILQ_ENTRY(subscriber) entry;
	struct conn	*conn;
	json_t		*names;		/* NULL: every process */
};
static TAILQ_HEAD(, subscriber) subscribers =
    TAILQ_HEAD_INITIALIZER(subscribers);
/* Numbers every state change, so a consumer can see the order. */
static json_int_t command_event_seq;

struct cmd_handler {
	const char	*name;
	void		(*fn)(struct conn *, json_t *id, json_t *req);
};

static void	 command_version(struct conn *, json_t *, json_t *);
static void	 command_status(struct conn *, json_t *, json_t *);
static void	 command_start(struct conn *, json_t *, json_t *);
static void	 command_stop(struct conn *, json_t *, json_t *);
static void	 command_restart(struct conn *, json_t *, json_t *);
static void	 command_shutdown(struct conn *, json_t *, json_t *);
static void	 command_tail(struct conn *, json_t *, json_t *);
static void	 command_clear(struct conn *, json_t *, json_t *);
static void	 command_reopen(struct conn *, json_t *, json_t *);
static void	 command_reload(struct conn *, json_t *, json_t *);
static void	 command_kill(struct conn *, json_t *, json_t *);
static void	 command_signal(struct conn *, json_t *, json_t *);
static void	 command_pause(struct conn *, json_t *, json_t *);
static void	 command_resume(struct conn *, json_t *, json_t *);
static void	 command_wait(struct conn *, json_t *, json_t *);
static void	 command_events(struct conn *, json_t *, json_t *);

static const struct cmd_handler command_table[] = {
	{ "version", command_version },
	{ "status", command_status },
	{ "start", command_start },
	{ "stop", command_stop },
	{ "restart", command_restart },
	{ "shutdown", command_shutdown },
	/* output (output.c, logfile.c) */
	{ "tail", command_tail },
	{ "clear", command_clear },
	{ "reopen", command_reopen },
	{ "reload", command_reload },
	{ "kill", command_kill },
	{ "signal", command_signal },
	{ "pause", command_pause },
	{ "resume", command_resume },
	{ "wait", command_wait },
	{ "events", command_events },
};

static void
command_error(struct conn *c, json_t *id, const char *code, const char *msg)
{
	control_send(c, json_pack("{s:O, s:b, s:{s:s, s:o}}", "id", id,
	    "ok", 0, "error", "code", code, "message", protocol_string(msg)));
}

/* {"id", "ok": false, "error": {CODE, MSG}, KEY: V}; steals V. */
static json_t *
command_failed(json_t *id, const char *code, const char *msg,
    const char *key, json_t *v)
{
	return json_pack("{s:O, s:b, s:{s:s, s:o}, s:o}", "id", id, "ok", 0,
	    "error", "code", code, "message", protocol_string(msg), key, v);
}

static json_t *
command_ok(json_t *id)
{
	return json_pack("{s:O, s:b}", "id", id, "ok", 1);
}

/*
 * Building a reply: each step steals V and passes the array or object
 * on, or NULL once anything failed (no memory), which control_send()
 * then turns into a dropped connection rather than half a reply.
 */
static json_t *
command_push(json_t *a, json_t *v)
{
	if (json_array_append_new(a, v) == 0)
		return a;
	json_decref(a);
	return NULL;
}

static json_t *
command_set(json_t *o, const char *key, json_t *v)
{
	if (json_object_set_new(o, key, v) == 0)
		return o;
	json_decref(o);
	return NULL;
}

/* {"name", "ok", "state", "message"}: one process's part of a reply. */
static json_t *
command_result(const char *name, int ok, const char *state, const char *msg)
{
	return json_pack("{s:o, s:b, s:s, s:o}", "name", protocol_string(name),
	    "ok", ok, "state", state, "message", protocol_string(msg));
}

/*
 * The fields of a process object, in the order a status reply writes
 * them unless a request's "fields" picks some, in its own order
 * (docs/protocol.md).
 */
enum command_field {
	FIELD_NAME,
	FIELD_GROUP,
	FIELD_PROCESS,
	FIELD_STATE,
	FIELD_PID,
	FIELD_EXITCODE,
	FIELD_UPTIME,
	FIELD_RESTARTS,
	FIELD_DAEMON,
	FIELD_DESCRIPTION,
	FIELD_SPAWNERR,
	FIELD_SINCE,
	FIELD_WANT,
	FIELD_COUNT
};
static const char *const command_field_names[FIELD_COUNT] = {
	[FIELD_NAME] = "name",
	[FIELD_GROUP] = "group",
	[FIELD_PROCESS] = "process",
	[FIELD_STATE] = "state",
	[FIELD_PID] = "pid",
	[FIELD_EXITCODE] = "exitcode",
	[FIELD_UPTIME] = "uptime",
	[FIELD_RESTARTS] = "restarts",
	[FIELD_DAEMON] = "daemon",
	[FIELD_DESCRIPTION] = "description",
	[FIELD_SPAWNERR] = "spawnerr",
	[FIELD_SINCE] = "since",
	[FIELD_WANT] = "want",
};

/* Which fields a status reply carries, in which order, and how. */
struct command_fields {
	enum command_field f[FIELD_COUNT];
	int		 n;
	int		 rows;		/* arrays of values, not objects */
};

/*
 * program_describe() into BUF (LEN bytes) as text: what it quotes (a
 * path, a child's STATUS=) made valid UTF-8, and where it was cut to
 * fit, cut between characters.
 */
static void
command_describe(struct proc *p, char *buf, size_t len)
{
	char raw[1024];
	size_t n;

	program_describe(p, raw, sizeof(raw));
	n = strlen(raw);
	utf8_clean(buf, len, raw, n, n == sizeof(raw) - 1 ? UTF8_WASCUT : 0);
}

/*
 * Process P as a JSON object (or with ROWS, an array of values) of
 * fields FS, written straight into W: a status of thousands builds no
 * jansson objects. NOW is util_now() for the whole reply.
 */
static void
command_proc_write(struct jsonw *w, struct proc *p,
    const struct command_fields *fs, double now)
{
	char desc[1024];
	int up = p->state == PROC_RUNNING || p->state == PROC_PAUSED;
	int i;

	jsonw_open(w, fs->rows ? '[' : '{');
	for (i = 0; i < fs->n; i++) {
		if (!fs->rows)
			jsonw_key(w, command_field_names[fs->f[i]]);
		switch (fs->f[i]) {
		case FIELD_NAME:
			jsonw_string(w, p->display);
			break;
		case FIELD_GROUP:
			jsonw_string(w, p->group);
			break;
		case FIELD_PROCESS:
			jsonw_string(w, p->name);
			break;
		case FIELD_STATE:
			jsonw_string(w, program_state_name(p->state));
			break;
		case FIELD_PID:
			if (p->pid > 0)
				jsonw_int(w, p->pid);
			else
				jsonw_null(w);
			break;
		case FIELD_EXITCODE:
			if (p->has_exited)
				jsonw_int(w, p->exitcode);
			else
				jsonw_null(w);
			break;
		case FIELD_UPTIME:
			jsonw_real(w, up ? now - p->running_time : 0.0);
			break;
		case FIELD_RESTARTS:
			jsonw_int(w, p->restarts);
			break;
		case FIELD_DAEMON:
			jsonw_bool(w, p->pc->daemon);
			break;
		case FIELD_DESCRIPTION:
			command_describe(p, desc, sizeof(desc));
			jsonw_string(w, desc);
			break;
		case FIELD_SPAWNERR:
			jsonw_string(w, p->spawnerr);
			break;
		case FIELD_SINCE:
			jsonw_real(w, p->state_wall);
			break;
		case FIELD_WANT:
			jsonw_string(w, p->want == WANT_UP ? "up" :
			    p->want == WANT_DOWN ? "down" : "none");
			break;
		case FIELD_COUNT:
			break;
		}
	}
	jsonw_close(w, fs->rows ? ']' : '}');
}

static int
command_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static int
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

/*
 * NAMES -> processes in priority order, each once. Any name that matches
 * nothing refuses the whole request: nothing is changed half-way.
 */
static struct proc **
command_resolve(struct conn *c, json_t *id, json_t *req, int required,
    size_t *np)
{
	json_t *names = json_object_get(req, "names"), *v, *unknown;
	struct proc **out, *p;
	size_t i, n = 0, k, total = 0, nunknown;
	const char *first = NULL;
	char *msg;
	int any;

	*np = 0;
	if (names != NULL && !json_is_array(names)) {
		command_error(c, id, TEND_ERR_BAD_REQUEST,
		    "names must be a list of strings");
		return NULL;
	}
	if (names == NULL || json_array_size(names) == 0) {
		if (required) {
			command_error(c, id, TEND_ERR_MISSING,
			    "no process named: give names, or all");
			return NULL;
		}
		names = NULL;
	}
	json_array_foreach(names, i, v) {
		if (!json_is_string(v)) {
			command_error(c, id, TEND_ERR_BAD_REQUEST,
			    "names must be a list of strings");
			return NULL;
		}
	}
	total = (size_t)program_nprocs;
	out = xcalloc(total + 1, sizeof(*out));
	unknown = json_array();
	nunknown = 0;
	json_array_foreach(names, i, v) {
		any = 0;
		TAILQ_FOREACH(p, &procs, entry)
			if (command_matches(p, json_string_value(v)))
				any = 1;
		if (!any && nunknown++ == 0)
			first = json_string_value(v);
		if (!any)
			unknown = command_push(unknown, json_incref(v));
	}
	if (nunknown > 0) {
		if (nunknown == 1)
			xasprintf(&msg, "no such process: %s", first);
		else
			xasprintf(&msg, "no such process: %s (and %zu more)",
			    first, nunknown - 1);
		control_send(c, command_failed(id, TEND_ERR_UNKNOWN_NAME, msg,
		    "names", unknown));
		free(msg);
		free(out);
		return NULL;
	}
	json_decref(unknown);
	TAILQ_FOREACH(p, &procs, entry) {
		if (names == NULL) {
			out[n++] = p;
			continue;
		}
		json_array_foreach(names, k, v) {
			if (command_matches(p, json_string_value(v))) {
				out[n++] = p;
				break;
			}
		}
	}
	*np = n;
	return out;
}

static void
command_version(struct conn *c, json_t *id, json_t *req)
{
	json_t *r;

	r = command_set(command_ok(id), "version", json_string(TEND_VERSION));
	r = command_set(r, "protocol", json_integer(TEND_PROTOCOL_VERSION));
	r = command_set(r, "pid", json_integer(getpid()));
	control_send(c, r);
}

/*
 * status's "fields" (which keys, in which order; all when absent or
 * empty) and "rows". 0 with *FS, or -1 once refused.
 */
static int
command_status_fields(struct conn *c, json_t *id, json_t *req,
    struct command_fields *fs)
{
	json_t *fields = json_object_get(req, "fields"), *v;
	json_t *rows = json_object_get(req, "rows");
	unsigned seen = 0;
	size_t i;
	int f;
	char *msg, *quote;

	if (rows != NULL && !json_is_boolean(rows)) {
		command_error(c, id, TEND_ERR_BAD_REQUEST,
		    "rows must be true or false");
		return -1;
	}
	fs->rows = json_is_true(rows);
	if (fields != NULL && !json_is_array(fields)) {
		command_error(c, id, TEND_ERR_BAD_REQUEST,
		    "fields must be a list of strings");
		return -1;
	}
	fs->n = 0;
	json_array_foreach(fields, i, v) {
		if (!json_is_string(v)) {
			command_error(c, id, TEND_ERR_BAD_REQUEST,
			    "fields must be a list of strings");
			return -1;
		}
		for (f = 0; f < FIELD_COUNT; f++)
			if (strcmp(json_string_value(v),
			    command_field_names[f]) == 0)
				break;
		if (f == FIELD_COUNT || (seen & (1u << f))) {
			quote = utf8_dup(json_string_value(v), 64);
			xasprintf(&msg, "%s field: %s", f == FIELD_COUNT ?
			    "unknown" : "repeated", quote);
			command_error(c, id, TEND_ERR_BAD_REQUEST, msg);
			free(quote);
			free(msg);
			return -1;
		}
		seen |= 1u << f;
		fs->f[fs->n++] = (enum command_field)f;
	}
	if (fs->n == 0)
		for (f = 0; f < FIELD_COUNT; f++)
			fs->f[fs->n++] = (enum command_field)f;
	return 0;
}

/*
 * The reply is written as text, not built as objects: at a thousand
 * processes that is most of what status costs tendd.
 */
static void
command_status(struct conn *c, json_t *id, json_t *req)
{
	struct command_fields fs;
	struct proc **ps;
	struct jsonw w;
	size_t i, n;
	double now;
	char *ids;

	if (command_status_fields(c, id, req, &fs) == -1)
		return;
	if ((ps = command_resolve(c, id, req, 0, &n)) == NULL)
		return;
	if ((ids = json_dumps(id, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL) {
		control_unbuilt(c, "a reply");
		free(ps);
		return;
	}
	now = util_now();
	jsonw_init(&w, 64 + n * (size_t)(24 + 20 * fs.n));
	jsonw_open(&w, '{');
	jsonw_key(&w, "id");
	jsonw_raw(&w, ids, strlen(ids));
	jsonw_key(&w, "ok");
	jsonw_bool(&w, 1);
	jsonw_key(&w, "processes");
	jsonw_open(&w, '[');
	for (i = 0; i < n; i++)
		command_proc_write(&w, ps[i], &fs, now);
	jsonw_close(&w, ']');
	jsonw_close(&w, '}');
	if (w.failed)
		control_unbuilt(c, "a reply");
	else
		control_send_line(c, w.buf, w.len);
	jsonw_free(&w);
	free(ids);
	free(ps);
}

/* The "wait" field: true unless given as false. */
static int
command_wants_wait(struct conn *c, json_t *id, json_t *req, int *wait)
{
	json_t *w = json_object_get(req, "wait");

	*wait = 1;
	if (w == NULL)
		return 0;
	if (!json_is_boolean(w)) {
		command_error(c, id, TEND_ERR_BAD_REQUEST, "wait must be true "
		    "or false");
		return -1;
	}
	*wait = json_is_true(w);
	return 0;
}

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
			results = command_push(results, json_incref(w->res[i]));
			st = json_integer_value(json_object_get(w->res[i],
			    "status"));
			if (status == 0 && st != 0)
				status = st;
			continue;
		}
		if (left++ == 0)
			first = i;
		xasprintf(&msg, "still %s", program_state_name(w->procs[i]->state));
		results = command_push(results, json_pack("{s:o, s:b, s:s, s:n, "
		    "s:n, s:s}", "name", protocol_string(w->procs[i]->display),
		    "ok", 0, "state", program_state_name(w->procs[i]->state),
		    "exitcode", "status", "message", msg));
		free(msg);
	}
	if (timedout == NULL) {
		r = command_set(command_ok(w->id), "status",
		    json_integer(status));
		r = command_set(r, "results", results);
	} else {
		if (left > 1)
			xasprintf(&msg, "%s still running after %s (and %zu more)",
			    w->procs[first]->display, timedout, left - 1);
		else
			xasprintf(&msg, "%s still running after %s",
			    w->procs[first]->display, timedout);
		r = command_failed(w->id, TEND_ERR_TIMEOUT, msg, "results",
		    results);
		free(msg);
	}
	control_send(w->conn, r);
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

/* Reply when every process has an outcome; then the waiter is gone. */
static int
waiter_try_reply(struct waiter *w)
{
	json_t *r, *results;
	size_t i, failed = 0, first = 0;
	char *msg;

	for (i = 0; i < w->n; i++) {
		waiter_check(w, i);
		if (w->done[i] == 0)
			return 0;
	}
	if (w->op == OP_WAIT) {
		waiter_reply_wait(w, NULL);
		return 1;
	}
	results = json_array();
	for (i = 0; i < w->n; i++) {
		if (w->done[i] < 0 && failed++ == 0)
			first = i;
		results = command_push(results, command_result(waiter_name(w, i),
		    w->done[i] > 0, w->procs[i] != NULL ?
		    program_state_name(w->procs[i]->state) : "STOPPED",
		    w->msgs[i]));
	}
	if (failed) {
		xasprintf(&msg, "%s: %s", waiter_name(w, first),
		    w->msgs[first]);
		r = command_failed(w->id, TEND_ERR_FAILED, msg, "results",
		    results);
		free(msg);
	} else
		r = command_set(command_ok(w->id), "results", results);
	control_send(w->conn, r);
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
static void
command_act(struct conn *c, json_t *id, json_t *req,
    enum command_action which)
{
	struct proc **ps;
	size_t i, n;
	int wait;
	char *cause;
	json_t *results;

	if (command_wants_wait(c, id, req, &wait) == -1)
		return;
	if ((which == ACT_START || which == ACT_RESTART) &&
	    tendd_shutting_down()) {
		command_error(c, id, TEND_ERR_SHUTTING_DOWN,
		    "tendd is shutting down");
		return;
	}
	if ((ps = command_resolve(c, id, req, 1, &n)) == NULL)
		return;
	for (i = 0; i < n; i++) {
		cause = NULL;
		if (which == ACT_STOP)
			program_stop(ps[i], &cause);
		else if (which == ACT_KILL)
			program_kill(ps[i], &cause);
		else if (which == ACT_RESTART && program_is_up(ps[i])) {
			/* restart: stop, and come back up once down */
			program_stop(ps[i], &cause);
			ps[i]->want = WANT_UP;
		} else
			program_start(ps[i], &cause);
		free(cause);
	}
	if (wait) {
		command_park(c, id, which == ACT_STOP || which == ACT_KILL ?
		    OP_STOP : OP_START, ps, n, -1);
		return;
	}
	results = json_array();
	for (i = 0; i < n; i++)
		results = command_push(results, command_result(ps[i]->display,
		    1, program_state_name(ps[i]->state),
		    which == ACT_STOP ? "stop requested" :
		    which == ACT_KILL ? "SIGKILL sent" : "start requested"));
	free(ps);
	control_send(c, command_set(command_ok(id), "results", results));
}

static void
command_start(struct conn *c, json_t *id, json_t *req)
{
	command_act(c, id, req, ACT_START);
}

static void
command_stop(struct conn *c, json_t *id, json_t *req)
{
	command_act(c, id, req, ACT_STOP);
}

static void
command_restart(struct conn *c, json_t *id, json_t *req)
{
	command_act(c, id, req, ACT_RESTART);
}

static void
command_shutdown(struct conn *c, json_t *id, json_t *req)
{
	control_send(c, command_ok(id));
	/* The connection stays open; it closes when tendd exits. */
	control_hold(c);
	tendd_shutdown(0, "shutdown requested by tendctl");
}

/* ------------------------------------------------------------------ */
/* Output: tail, clear, reopen                                          */

/*
 * {"name": N, "stream": "stdout"|"stderr", "lines": N (10; -1: all that
 * is kept), "follow": bool, "encoding": "text"|"base64"}. With follow,
 * the reply is followed by {"id", "name", "stream", "data"} objects
 * (and {"skipped": N} after a reader fell behind) until it closes.
 */
static void
command_tail(struct conn *c, json_t *id, json_t *req)
{
	json_t *name = json_object_get(req, "name"), *v, *q, *r;
	enum output_stream which = OUTPUT_STDOUT;
	struct proc **ps;
	const char *enc = "text";
	long lines = 10;
	int follow = 0, base64;
	size_t n, len;
	char *buf, *msg;

	if (name == NULL) {
		command_error(c, id, TEND_ERR_MISSING, "tail needs a name");
		return;
	}
	if (!json_is_string(name)) {
		command_error(c, id, TEND_ERR_BAD_REQUEST,
		    "name must be a string");
		return;
	}
	if ((v = json_object_get(req, "stream")) != NULL) {
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), "stderr") == 0)
			which = OUTPUT_STDERR;
		else if (!json_is_string(v) ||
		    strcmp(json_string_value(v), "stdout") != 0) {
			command_error(c, id, TEND_ERR_BAD_REQUEST,
			    "stream must be stdout or stderr");
			return;
		}
	}
	if ((v = json_object_get(req, "lines")) != NULL) {
		if (!json_is_integer(v)) {
			command_error(c, id, TEND_ERR_BAD_REQUEST,
			    "lines must be a whole number");
			return;
		}
		lines = json_integer_value(v) < 0 ? -1 :
		    json_integer_value(v) > LONG_MAX ? LONG_MAX :
		    (long)json_integer_value(v);
	}
	if ((v = json_object_get(req, "follow")) != NULL) {
		if (!json_is_boolean(v)) {
			command_error(c, id, TEND_ERR_BAD_REQUEST,
			    "follow must be true or false");
			return;
		}
		follow = json_is_true(v);
	}
	if ((v = json_object_get(req, "encoding")) != NULL) {
		if (!json_is_string(v) ||
		    (strcmp(json_string_value(v), "text") != 0 &&
		    strcmp(json_string_value(v), "base64") != 0)) {
			command_error(c, id, TEND_ERR_BAD_REQUEST,
			    "encoding must be text or base64");
			return;
		}
		enc = json_string_value(v);
	}
	base64 = strcmp(enc, "base64") == 0;

	if ((q = json_pack("{s:[O]}", "names", name)) == NULL) {
		control_unbuilt(c, "a reply");
		return;
	}
	ps = command_resolve(c, id, q, 1, &n);
	json_decref(q);
	if (ps == NULL)
		return;
	if (n != 1) {
		xasprintf(&msg, "%s names %zu processes; tail shows one",
		    json_string_value(name), n);
		command_error(c, id, TEND_ERR_BAD_REQUEST, msg);
		free(msg);
		free(ps);
		return;
	}
	output_tail(ps[0], which, lines, &buf, &len);
	/* as text, a character still being written is not shown in half */
	if (!base64)
		len -= utf8_partial_tail(buf, len);
	r = command_set(command_ok(id), "name", protocol_string(ps[0]->display));
	r = command_set(r, "stream", json_string(which == OUTPUT_STDOUT ?
	    "stdout" : "stderr"));
	r = command_set(r, "encoding", json_string(enc));
	r = command_set(r, "data", output_json_data(buf ? buf : "", len,
	    base64));
	free(buf);
	control_send(c, r);
	if (follow)
		output_follow(ps[0], which, c, id, base64);
	free(ps);
}

static void
command_clear(struct conn *c, json_t *id, json_t *req)
{
	struct proc **ps;
	size_t i, n, failed = 0;
	json_t *results, *r;
	char *cause, *first = NULL;

	if ((ps = command_resolve(c, id, req, 1, &n)) == NULL)
		return;
	results = json_array();
	for (i = 0; i < n; i++) {
		cause = NULL;
		if (output_clear(ps[i], &cause) == -1) {
			if (failed++ == 0)
				xasprintf(&first, "%s: %s", ps[i]->display,
				    cause);
		}
		results = command_push(results, command_result(ps[i]->display,
		    cause == NULL, program_state_name(ps[i]->state),
		    cause ? cause : "cleared"));
		free(cause);
	}
	if (failed) {
		r = command_failed(id, TEND_ERR_FAILED, first, "results",
		    results);
		free(first);
	} else
		r = command_set(command_ok(id), "results", results);
	free(ps);
	control_send(c, r);
}

static void
command_reopen(struct conn *c, json_t *id, json_t *req)
{
	char *causes = NULL;

	if (tendd_reopen_logs("reopen requested by tendctl", &causes) == -1)
		command_error(c, id, TEND_ERR_FAILED, causes);
	else
		control_send(c, command_ok(id));
	free(causes);
}

static json_t *
command_strv_json(char **v)
{
	json_t *a = json_array();

	for (; v != NULL && *v != NULL; v++)
		a = command_push(a, protocol_string(*v));
	return a;
}

/*
 * reload: the config is read again; with errors nothing changes and they
 * come back in "errors". "check": only the plan, nothing applied.
 */
static void
command_reload(struct conn *c, json_t *id, json_t *req)
{
	static const char *const kinds[] = {
		[RELOAD_ADDED] = "added",
		[RELOAD_CHANGED] = "changed",
		[RELOAD_REMOVED] = "removed",
	};
	json_t *chk = json_object_get(req, "check"), *errors, *warnings;
	json_t *changes, *item, *r;
	struct reload_plan plan;
	struct diag d = { 0 };
	char *msg;
	int i, check = 0;

	if (chk != NULL && !json_is_boolean(chk)) {
		command_error(c, id, TEND_ERR_BAD_REQUEST, "check must be true "
		    "or false");
		return;
	}
	check = json_is_true(chk);
	if (tendd_shutting_down()) {
		command_error(c, id, TEND_ERR_SHUTTING_DOWN,
		    "tendd is shutting down");
		return;
	}
	i = tendd_reload(check ? TENDD_RELOAD_CHECK : 0, &d, &plan);
	errors = json_array();
	warnings = json_array();
	for (int k = 0; k < d.n; k++) {
		if (d.msgs[k].is_error)
			errors = command_push(errors,
			    protocol_string(d.msgs[k].text));
		else
			warnings = command_push(warnings,
			    protocol_string(d.msgs[k].text));
	}
	if (i == -1) {
		xasprintf(&msg, "the config has %d error%s; nothing was "
		    "changed", d.nerrors, d.nerrors == 1 ? "" : "s");
		r = command_failed(id, TEND_ERR_CONFIG, msg, "errors", errors);
		control_send(c, command_set(r, "warnings", warnings));
		free(msg);
		diag_clear(&d);
		reload_plan_free(&plan);
		return;
	}
	changes = json_array();
	for (i = 0; i < plan.n; i++) {
		item = json_pack("{s:o, s:o, s:o, s:s}",
		    "name", protocol_string(plan.items[i].name),
		    "group", protocol_string(plan.items[i].group),
		    "process", protocol_string(plan.items[i].process),
		    "change", kinds[plan.items[i].change]);
		if (plan.items[i].change == RELOAD_CHANGED)
			item = command_set(item, "keys",
			    command_strv_json(plan.items[i].keys));
		changes = command_push(changes, item);
	}
	r = command_set(command_ok(id), "applied", json_boolean(!check));
	r = command_set(r, "changes", changes);
	r = command_set(r, "unchanged", json_integer(plan.unchanged));
	r = command_set(r, "restart_required",
	    command_strv_json(plan.restart));
	r = command_set(r, "warnings", warnings);
	json_decref(errors);
	control_send(c, r);
	diag_clear(&d);
	reload_plan_free(&plan);
}

static void
command_kill(struct conn *c, json_t *id, json_t *req)
{
	command_act(c, id, req, ACT_KILL);
}

/*
 * pause, resume, signal: one action per process, done at once. Every
 * result is ok, or the reply is "failed" naming the first that is not.
 */
static void
command_each(struct conn *c, json_t *id, json_t *req,
    int (*fn)(struct proc *, int, char **), int arg, const char *done)
{
	struct proc **ps;
	size_t i, n, failed = 0;
	char *cause, *msg = NULL;
	json_t *r, *results;
	int ok;

	if ((ps = command_resolve(c, id, req, 1, &n)) == NULL)
		return;
	results = json_array();
	for (i = 0; i < n; i++) {
		cause = NULL;
		ok = fn(ps[i], arg, &cause) == 0;
		if (!ok && failed++ == 0)
			xasprintf(&msg, "%s: %s", ps[i]->display,
			    cause != NULL ? cause : "failed");
		results = command_push(results, command_result(ps[i]->display,
		    ok, program_state_name(ps[i]->state),
		    ok ? done : cause != NULL ? cause : "failed"));
		free(cause);
	}
	if (failed) {
		r = command_failed(id, TEND_ERR_FAILED, msg, "results",
		    results);
		free(msg);
	} else
		r = command_set(command_ok(id), "results", results);
	free(ps);
	control_send(c, r);
}

static int
command_do_pause(struct proc *p, int arg, char **cause)
{
	return program_pause(p, cause);
}

static int
command_do_resume(struct proc *p, int arg, char **cause)
{
	return program_resume(p, cause);
}

static int
command_do_signal(struct proc *p, int sig, char **cause)
{
	return program_signal(p, sig, cause);
}

static void
command_pause(struct conn *c, json_t *id, json_t *req)
{
	command_each(c, id, req, command_do_pause, 0, "paused");
}

static void
command_resume(struct conn *c, json_t *id, json_t *req)
{
	command_each(c, id, req, command_do_resume, 0, "resumed");
}

/* "signal": a name (HUP, SIGHUP, hup) or a number. */
static void
command_signal(struct conn *c, json_t *id, json_t *req)
{
	json_t *s = json_object_get(req, "signal");
	char *msg, *quote, done[64];
	json_int_t n;
	int sig;

	if (s == NULL) {
		command_error(c, id, TEND_ERR_MISSING, "no signal given");
		return;
	}
	if (json_is_integer(s)) {
		n = json_integer_value(s);
		sig = n >= 1 && n <= SIGRTMAX ? (int)n : -1;
	} else if (json_is_string(s))
		sig = util_signal_number(json_string_value(s));
	else {
		command_error(c, id, TEND_ERR_BAD_REQUEST,
		    "signal must be a name or a number");
		return;
	}
	if (sig <= 0) {
		if (json_is_string(s)) {
			quote = utf8_dup(json_string_value(s), 64);
			xasprintf(&msg, "unknown signal: %s", quote);
			free(quote);
		} else
			xasprintf(&msg, "unknown signal: %lld",
			    (long long)json_integer_value(s));
		command_error(c, id, TEND_ERR_BAD_REQUEST, msg);
		free(msg);
		return;
	}
	snprintf(done, sizeof(done), "SIG%s sent", util_signal_name(sig));
	command_each(c, id, req, command_do_signal, sig, done);
}

/* wait: join. "timeout" (seconds, optional) bounds it. */
static void
command_wait(struct conn *c, json_t *id, json_t *req)
{
	json_t *t = json_object_get(req, "timeout");
	struct proc **ps;
	double timeout = -1;
	size_t n;

	if (t != NULL && !json_is_null(t)) {
		if (!json_is_number(t) || !(json_number_value(t) >= 0)) {
			command_error(c, id, TEND_ERR_BAD_REQUEST, "timeout must "
			    "be a number of seconds, 0 or more");
			return;
		}
		/* beyond any timer libevent can hold: no timeout */
		if (json_number_value(t) < (double)INT_MAX)
			timeout = json_number_value(t);
	}
	if ((ps = command_resolve(c, id, req, 1, &n)) == NULL)
		return;
	command_park(c, id, OP_WAIT, ps, n, timeout);
}

/*
 * events: a stream of state changes from now on, one object a line,
 * for every process or those NAMES match.
 */
static void
command_events(struct conn *c, json_t *id, json_t *req)
{
	json_t *names = json_object_get(req, "names");
	struct subscriber *s;
	struct proc **ps;
	size_t n;

	/* The names are checked now, and matched again at each change. */
	if ((ps = command_resolve(c, id, req, 0, &n)) == NULL)
		return;
	free(ps);
	s = xcalloc(1, sizeof(*s));
	s->conn = c;
	if (names != NULL && json_array_size(names) > 0)
		s->names = json_incref(names);
	TAILQ_INSERT_TAIL(&subscribers, s, entry);
	control_send(c, command_ok(id));
	control_stream(c);
	log_debug("events: a client subscribed%s", s->names ? " (to some "
	    "processes)" : "");
}

static int
command_matches_any(const struct proc *p, json_t *names)
{
	json_t *v;
	size_t i;

	json_array_foreach(names, i, v)
		if (command_matches(p, json_string_value(v)))
			return 1;
	return 0;
}

/*
 * One line for every subscriber: the state change P just made. NULL
 * when memory ran out.
 */
static char *
command_event_line(struct proc *p, enum proc_state old, size_t *len)
{
	char desc[1024], *line;
	json_t *j, *pid;
	int had = old == PROC_STARTING || old == PROC_RUNNING ||
	    old == PROC_PAUSED || old == PROC_STOPPING;

	/* The pid that ended, for a transition an exit caused. */
	if (p->pid > 0)
		pid = json_integer(p->pid);
	else if (had && p->last_pid > 0)
		pid = json_integer(p->last_pid);
	else
		pid = json_null();
	command_describe(p, desc, sizeof(desc));
	j = json_pack("{s:s, s:I, s:f, s:o, s:o, s:o, s:s, s:s, s:o, s:o, "
	    "s:o, s:o}",
	    "event", "state",
	    "seq", command_event_seq,
	    "time", p->state_wall,
	    "name", protocol_string(p->display),
	    "group", protocol_string(p->group),
	    "process", protocol_string(p->name),
	    "from", program_state_name(old),
	    "to", program_state_name(p->state),
	    "pid", pid,
	    "exitcode", p->has_exited ? json_integer(p->exitcode) : json_null(),
	    "reason", protocol_string(p->reason),
	    "description", protocol_string(desc));
	line = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	*len = line != NULL ? strlen(line) : 0;
	return line;
}

void
command_dispatch(struct conn *c, const char *line, size_t len)
{
	json_t *req, *id;
	const char *name, *code;
	size_t i;
	char *msg, *quote;

	if (protocol_decode(line, len, &req, &id, &name, &code, &msg) == -1) {
		command_error(c, id, code, msg);
		json_decref(id);
		free(msg);
		return;
	}
	for (i = 0; i < nitems(command_table); i++) {
		if (strcmp(name, command_table[i].name) == 0) {
			command_table[i].fn(c, id, req);
			break;
		}
	}
	if (i == nitems(command_table)) {
		quote = utf8_dup(name, 100);
		xasprintf(&msg, "unknown command: %s", quote);
		command_error(c, id, TEND_ERR_UNKNOWN_CMD, msg);
		free(quote);
		free(msg);
	}
	json_decref(id);
	json_decref(req);
}

void
command_state_changed(struct proc *p, enum proc_state old)
{
	struct waiter *w, *next;
	struct subscriber *s;
	size_t i, len;
	char *line = NULL;
	int built = 0;

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

	/* control_send never frees a connection here: the list holds. */
	command_event_seq++;
	TAILQ_FOREACH(s, &subscribers, entry) {
		if (s->names != NULL && !command_matches_any(p, s->names))
			continue;
		if (!built) {
			line = command_event_line(p, old, &len);
			built = 1;
		}
		/* without it, a subscriber would miss an event unawares */
		if (line == NULL)
			control_unbuilt(s->conn, "an event");
		else
			control_send_line(s->conn, line, len);
	}
	free(line);
}

void
command_conn_gone(struct conn *c)
{
	struct waiter *w, *next;
	struct subscriber *s, *snext;

	output_conn_gone(c);
	for (w = TAILQ_FIRST(&waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (w->conn == c) {
			TAILQ_REMOVE(&waiters, w, entry);
			waiter_free(w);
		}
	}
	for (s = TAILQ_FIRST(&subscribers); s != NULL; s = snext) {
		snext = TAILQ_NEXT(s, entry);
		if (s->conn == c) {
			TAILQ_REMOVE(&subscribers, s, entry);
			json_decref(s->names);
			free(s);
		}
	}
}

int
command_conn_waiting(struct conn *c)
{
	struct waiter *w;
	struct subscriber *s;

	TAILQ_FOREACH(w, &waiters, entry)
		if (w->conn == c)
			return 1;
	TAILQ_FOREACH(s, &subscribers, entry)
		if (s->conn == c)
			return 1;
	return 0;
}

void
command_proc_gone(struct proc *p)
{
	struct waiter *w, *next;
	size_t i;

	int held;

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

	/* Nothing will change any more: answer whoever still waits. */
	while ((w = TAILQ_FIRST(&waiters)) != NULL) {
		TAILQ_REMOVE(&waiters, w, entry);
		if (!waiter_try_reply(w))
			command_error(w->conn, w->id, TEND_ERR_SHUTTING_DOWN,
			    "tendd shut down first");
		waiter_free(w);
	}
}
