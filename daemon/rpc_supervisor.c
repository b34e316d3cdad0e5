/*
 * rpc_supervisor.c: supervisord's XML-RPC methods (API 3.0, spec section
 * 9) on tend's processes: the method table (name, arguments, help), name
 * lookup as supervisord's split_namespec, process info with supervisord's
 * fields and state codes, and the calls that wait (start and stop with
 * wait), parked here and answered from the state setter's hook
 * (rpc_state_changed, called by command_state_changed) like tendctl's
 * waiters: the loop never blocks.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xmlrpc.h"

#define RPC_API_VERSION		"3.0"

/* supervisord's process state codes (supervisor/states.py). */
enum {
	RS_STOPPED = 0, RS_STARTING = 10, RS_RUNNING = 20, RS_BACKOFF = 30,
	RS_STOPPING = 40, RS_EXITED = 100, RS_FATAL = 200, RS_UNKNOWN = 1000,
};

struct rpc_ctx {
	struct conn	*c;
	json_t		*params;
	int		 code;		/* a fault: its code and text */
	char		*text;
	int		 parked;
	int		 nowait;	/* inside multicall: nothing parks */
	const char	*name;		/* the name a one-process call was given */
};

struct rpc_method {
	const char	*name;
	const char	*args;		/* s string, i int, b bool, a array,
					   x string or int; upper case: optional */
	json_t		*(*fn)(struct rpc_ctx *);
	const char	*sig;		/* return type, then argument types */
	const char	*help;
};

/* A call waiting for its processes' outcomes. */
struct rpc_park {
	TAILQ_ENTRY(rpc_park) entry;
	struct conn	*c;
	enum state_goal	 goal;
	int		 many;		/* reply the results array */
	size_t		 n;
	struct proc	**procs;
	json_t		*results;	/* many: what was known at once */
	int		*done;
	char		*name;		/* one: the name as the caller gave it */
};
static TAILQ_HEAD(, rpc_park) rpc_parked = TAILQ_HEAD_INITIALIZER(rpc_parked);

/* Groups an update's removeProcessGroup took out, for its addProcessGroup. */
static char	**rpc_readd;
/*
 * Groups removeProcessGroup took out that the file still has: hidden from
 * this interface (as supervisord forgets them) until addProcessGroup.
 */
static char	**rpc_hidden;

static int
rpc_strv_has(char **v, const char *s)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

static void
rpc_strv_add(char ***v, const char *s)
{
	size_t n = strv_len(*v);

	if (rpc_strv_has(*v, s))
		return;
	*v = xreallocarray(*v, n + 2, sizeof(char *));
	(*v)[n] = xstrdup(s);
	(*v)[n + 1] = NULL;
}

/* 1 when S was in *V (and is not any more). */
static int
rpc_strv_take(char **v, const char *s)
{
	size_t i, n = strv_len(v);

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0) {
			free(v[i]);
			v[i] = v[n - 1];
			v[n - 1] = NULL;
			return 1;
		}
	return 0;
}

/* What this interface shows: not removed by a reload, not hidden. */
static int
rpc_visible(const struct proc *p)
{
	return !p->removed && !rpc_strv_has(rpc_hidden, p->group);
}

static json_t *
rpc_fault(struct rpc_ctx *x, int code, const char *name, const char *extra)
{
	static const struct { int code; const char *name; } names[] = {
		{ 1, "UNKNOWN_METHOD" }, { 2, "INCORRECT_PARAMETERS" },
		{ 3, "BAD_ARGUMENTS" }, { 4, "SIGNATURE_UNSUPPORTED" },
		{ 6, "SHUTDOWN_STATE" }, { 10, "BAD_NAME" }, { 11, "BAD_SIGNAL" },
		{ 20, "NO_FILE" }, { 21, "NOT_EXECUTABLE" }, { 30, "FAILED" },
		{ 40, "ABNORMAL_TERMINATION" }, { 50, "SPAWN_ERROR" },
		{ 60, "ALREADY_STARTED" }, { 70, "NOT_RUNNING" },
		{ 80, "SUCCESS" }, { 90, "ALREADY_ADDED" },
		{ 91, "STILL_RUNNING" }, { 92, "CANT_REREAD" },
	};
	const char *desc = "UNKNOWN";
	size_t i;

	(void)name;
	for (i = 0; i < nitems(names); i++)
		if (names[i].code == code)
			desc = names[i].name;
	free(x->text);
	x->code = code;
	if (extra != NULL)
		xasprintf(&x->text, "%s: %s", desc, extra);
	else
		x->text = xstrdup(desc);
	return NULL;
}
#define FAULT(x, code, extra)	rpc_fault(x, FAULT_##code, #code, extra)

/* ------------------------------------------------------------------ */
/* Names and states                                                     */

/* split_namespec: GROUP:NAME; GROUP:* and GROUP: name the group; NAME is NAME:NAME. */
static void
rpc_split(const char *spec, char **group, char **name)
{
	const char *colon = strchr(spec, ':');

	if (colon == NULL) {
		*group = xstrdup(spec);
		*name = xstrdup(spec);
		return;
	}
	*group = xstrndup(spec, colon - spec);
	if (colon[1] == '\0' || strcmp(colon + 1, "*") == 0)
		*name = NULL;
	else
		*name = xstrdup(colon + 1);
}

static int
rpc_group_exists(const char *group)
{
	struct proc *p;

	TAILQ_FOREACH(p, &procs, entry)
		if (strcmp(p->group, group) == 0 && rpc_visible(p))
			return 1;
	return 0;
}

static struct proc *
rpc_lookup(const char *group, const char *name)
{
	struct proc *p;

	TAILQ_FOREACH(p, &procs, entry)
		if (strcmp(p->group, group) == 0 && strcmp(p->name, name) == 0 &&
		    rpc_visible(p))
			return p;
	return NULL;
}

struct proc *
rpc_find_process(const char *spec)
{
	char *group, *name;
	struct proc *p = NULL;

	rpc_split(spec, &group, &name);
	if (name != NULL)
		p = rpc_lookup(group, name);
	free(group);
	free(name);
	return p;
}

static int
rpc_state(const struct proc *p)
{
	switch (p->state) {
	case PROC_NEW:
	case PROC_STOPPED:
		return RS_STOPPED;
	case PROC_STARTING:
		return RS_STARTING;
	case PROC_RUNNING:
	case PROC_PAUSED:
		return RS_RUNNING;
	case PROC_BACKOFF:
		return RS_BACKOFF;
	case PROC_STOPPING:
		return RS_STOPPING;
	case PROC_EXITED:
		return RS_EXITED;
	case PROC_FATAL:
		return RS_FATAL;
	case PROC_WAITING:
		/* tend's own state: on its way up (spec section 9) */
		return RS_STARTING;
	}
	/* no default: a new state must be mapped here (-Wswitch) */
	return RS_STARTING;
}

static const char *
rpc_state_name(int code)
{
	switch (code) {
	case RS_STOPPED: return "STOPPED";
	case RS_STARTING: return "STARTING";
	case RS_RUNNING: return "RUNNING";
	case RS_BACKOFF: return "BACKOFF";
	case RS_STOPPING: return "STOPPING";
	case RS_EXITED: return "EXITED";
	case RS_FATAL: return "FATAL";
	}
	return "UNKNOWN";
}

/* supervisord's RUNNING_STATES and SIGNALLABLE_STATES */
static int
rpc_is_running(const struct proc *p)
{
	int s = rpc_state(p);

	return s == RS_RUNNING || s == RS_BACKOFF || s == RS_STARTING;
}

static int
rpc_is_signallable(const struct proc *p)
{
	int s = rpc_state(p);

	return s == RS_RUNNING || s == RS_STARTING || s == RS_STOPPING;
}

/* ------------------------------------------------------------------ */
/* Process info                                                         */

static long long
rpc_start_wall(const struct proc *p)
{
	if (p->start_time <= 0)
		return 0;
	return (long long)(util_wallclock() - (util_now() - p->start_time));
}

static const char *
rpc_spawnerr(const struct proc *p)
{
	if (p->spawnerr != NULL)
		return p->spawnerr;
	if (p->state == PROC_BACKOFF || p->state == PROC_FATAL)
		return "Exited too quickly (process log may have details)";
	return "";
}

static void
rpc_describe(const struct proc *p, int state, long long start,
    long long stop, long long now, char *buf, size_t size)
{
	long long up;
	time_t t;
	struct tm tm;

	buf[0] = '\0';
	if (state == RS_RUNNING && p->state == PROC_PAUSED)
		snprintf(buf, size, "pid %ld, paused", (long)p->pid);
	else if (state == RS_RUNNING) {
		up = now - start < 0 ? 0 : now - start;
		if (up >= 86400)
			snprintf(buf, size, "pid %ld, uptime %lld day%s, "
			    "%lld:%02lld:%02lld", (long)p->pid, up / 86400,
			    up / 86400 == 1 ? "" : "s", up % 86400 / 3600,
			    up % 3600 / 60, up % 60);
		else
			snprintf(buf, size, "pid %ld, uptime %lld:%02lld:%02lld",
			    (long)p->pid, up / 3600, up % 3600 / 60, up % 60);
	} else if (state == RS_FATAL || state == RS_BACKOFF)
		snprintf(buf, size, "%s", *rpc_spawnerr(p) != '\0' ?
		    rpc_spawnerr(p) : "unknown error");
	else if (state == RS_STOPPED || state == RS_EXITED) {
		if (start == 0) {
			snprintf(buf, size, "Not started");
			return;
		}
		t = (time_t)stop;
		localtime_r(&t, &tm);
		strftime(buf, size, "%b %d %I:%M %p", &tm);
	}
}

static json_t *
rpc_logfile(const char *dest)
{
	return protocol_string(dest != NULL && dest[0] == '/' ? dest : "");
}

/* The file a process's stream goes to: the open one (AUTO's real name),
   else the path the config gives. */
static json_t *
rpc_proc_logfile(const struct proc *p, enum output_stream which)
{
	const char *open = output_file_path(p, which);

	if (open != NULL)
		return protocol_string(open);
	if (which == OUTPUT_STDERR && p->pc->redirect_stderr)
		return json_string("");
	return rpc_logfile(which == OUTPUT_STDOUT ? p->pc->stdout_logfile :
	    p->pc->stderr_logfile);
}

static json_t *
rpc_info(const struct proc *p)
{
	int state = rpc_state(p);
	long long start = rpc_start_wall(p), now = (long long)util_wallclock();
	long long stop = 0;
	int exitstatus = 0;
	char desc[512];

	if (start != 0 && (state == RS_STOPPED || state == RS_EXITED ||
	    state == RS_FATAL || state == RS_BACKOFF))
		stop = (long long)p->state_wall;
	if (p->has_exited)
		exitstatus = p->exitcode < 0 ? -1 : p->exitcode;
	rpc_describe(p, state, start, stop, now, desc, sizeof(desc));
	return json_pack("{s:o, s:o, s:I, s:I, s:I, s:i, s:s, s:o, s:i, s:o, "
	    "s:o, s:o, s:i, s:o}",
	    "name", protocol_string(p->name),
	    "group", protocol_string(p->group),
	    "start", (json_int_t)start, "stop", (json_int_t)stop,
	    "now", (json_int_t)now, "state", state,
	    "statename", rpc_state_name(state),
	    "spawnerr", protocol_string(rpc_spawnerr(p)),
	    "exitstatus", exitstatus,
	    "logfile", rpc_proc_logfile(p, OUTPUT_STDOUT),
	    "stdout_logfile", rpc_proc_logfile(p, OUTPUT_STDOUT),
	    "stderr_logfile", rpc_proc_logfile(p, OUTPUT_STDERR),
	    "pid", (int)p->pid,
	    "description", protocol_string(desc));
}

static json_t *
rpc_result(const struct proc *p, int code, const char *text)
{
	return json_pack("{s:o, s:o, s:i, s:o}", "name",
	    protocol_string(p->name), "group", protocol_string(p->group),
	    "status", code, "description", protocol_string(text));
}

/* ------------------------------------------------------------------ */
/* Arguments                                                            */

static const char *
rpc_str(struct rpc_ctx *x, size_t i)
{
	return json_string_value(json_array_get(x->params, i));
}

static int
rpc_bool(struct rpc_ctx *x, size_t i, int def)
{
	json_t *v = json_array_get(x->params, i);

	if (v == NULL)
		return def;
	if (json_is_integer(v))
		return json_integer_value(v) != 0;
	return json_is_true(v);
}

static long long
rpc_int(struct rpc_ctx *x, size_t i)
{
	return json_integer_value(json_array_get(x->params, i));
}

static int
rpc_args_ok(const struct rpc_method *m, json_t *params)
{
	size_t n = json_array_size(params), i, max = strlen(m->args);
	json_t *v;
	int t;

	for (i = 0; i < max; i++) {
		t = m->args[i];
		if (i >= n)
			return t >= 'A' && t <= 'Z';
		v = json_array_get(params, i);
		switch (t | 0x20) {
		case 's':
			if (!json_is_string(v))
				return 0;
			break;
		case 'i':
			if (!json_is_integer(v))
				return 0;
			break;
		case 'b':
			if (!json_is_boolean(v) && !json_is_integer(v))
				return 0;
			break;
		case 'a':
			if (!json_is_array(v))
				return 0;
			break;
		case 'x':
			if (!json_is_string(v) && !json_is_integer(v))
				return 0;
			break;
		}
	}
	return n <= max;
}

/* ------------------------------------------------------------------ */
/* Parked calls                                                         */

static void
rpc_park_free(struct rpc_park *pk)
{
	free(pk->procs);
	free(pk->done);
	free(pk->name);
	json_decref(pk->results);
	free(pk);
}

/* 1 once every process has its outcome (and the reply went). */
static int
rpc_park_try(struct rpc_park *pk)
{
	size_t i, pending = 0;
	json_t *results;
	char *msg;
	enum state_outcome o;
	struct proc *p;

	for (i = 0; i < pk->n; i++) {
		if (pk->done[i] != 0)
			continue;
		p = pk->procs[i];
		o = p != NULL ? state_outcome(p, pk->goal, &msg) :
		    OUTCOME_FAILED;
		if (p != NULL)
			free(msg);
		if (o == OUTCOME_PENDING) {
			pending++;
			continue;
		}
		pk->done[i] = o == OUTCOME_DONE ? FAULT_SUCCESS :
		    p != NULL && p->spawnerr != NULL ? FAULT_SPAWN_ERROR :
		    FAULT_ABNORMAL_TERMINATION;
	}
	if (pending > 0)
		return 0;
	if (!pk->many) {
		struct rpc_ctx x = { 0 };

		if (pk->done[0] == FAULT_SUCCESS)
			http_reply_value(pk->c, json_true());
		else {
			rpc_fault(&x, pk->done[0], NULL, pk->name);
			http_reply_fault(pk->c, x.code, x.text);
			free(x.text);
		}
		return 1;
	}
	results = json_copy(pk->results);
	for (i = 0; i < pk->n; i++) {
		struct rpc_ctx x = { 0 };

		if (pk->procs[i] == NULL)
			continue;
		if (pk->done[i] == FAULT_SUCCESS)
			json_array_append_new(results,
			    rpc_result(pk->procs[i], FAULT_SUCCESS, "OK"));
		else {
			rpc_fault(&x, pk->done[i], NULL, pk->procs[i]->display);
			json_array_append_new(results,
			    rpc_result(pk->procs[i], x.code, x.text));
			free(x.text);
		}
	}
	http_reply_value(pk->c, results);
	json_decref(results);
	return 1;
}

static json_t *
rpc_park(struct rpc_ctx *x, enum state_goal goal, int many,
    struct proc **ps, size_t n, json_t *results)
{
	struct rpc_park *pk = xcalloc(1, sizeof(*pk));

	pk->name = xstrdup(x->name != NULL ? x->name : ps[0]->display);
	pk->c = x->c;
	pk->goal = goal;
	pk->many = many;
	pk->n = n;
	pk->procs = xcalloc(n + 1, sizeof(*pk->procs));
	memcpy(pk->procs, ps, n * sizeof(*ps));
	pk->done = xcalloc(n + 1, sizeof(*pk->done));
	pk->results = results != NULL ? json_incref(results) : json_array();
	x->parked = 1;
	if (rpc_park_try(pk)) {
		rpc_park_free(pk);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&rpc_parked, pk, entry);
	return NULL;
}

void
rpc_state_changed(struct proc *p)
{
	struct rpc_park *pk, *next;
	size_t i;

	for (pk = TAILQ_FIRST(&rpc_parked); pk != NULL; pk = next) {
		next = TAILQ_NEXT(pk, entry);
		for (i = 0; i < pk->n; i++)
			if (pk->procs[i] == p)
				break;
		if (i < pk->n && rpc_park_try(pk)) {
			TAILQ_REMOVE(&rpc_parked, pk, entry);
			rpc_park_free(pk);
		}
	}
}

void
rpc_proc_gone(struct proc *p)
{
	struct rpc_park *pk;
	size_t i;

	TAILQ_FOREACH(pk, &rpc_parked, entry)
		for (i = 0; i < pk->n; i++)
			if (pk->procs[i] == p) {
				pk->procs[i] = NULL;
				if (pk->done[i] == 0)
					pk->done[i] = pk->goal == GOAL_DOWN ?
					    FAULT_SUCCESS :
					    FAULT_ABNORMAL_TERMINATION;
			}
}

void
rpc_conn_gone(struct conn *c)
{
	struct rpc_park *pk, *next;

	for (pk = TAILQ_FIRST(&rpc_parked); pk != NULL; pk = next) {
		next = TAILQ_NEXT(pk, entry);
		if (pk->c == c) {
			TAILQ_REMOVE(&rpc_parked, pk, entry);
			rpc_park_free(pk);
		}
	}
}

/* What removeProcessGroup left hidden or to re-add: forgotten (fuzz world). */
void
rpc_forget(void)
{
	strv_free(rpc_hidden);
	strv_free(rpc_readd);
	rpc_hidden = rpc_readd = NULL;
}

void
rpc_shutdown_done(void)
{
	struct rpc_park *pk;

	while ((pk = TAILQ_FIRST(&rpc_parked)) != NULL) {
		TAILQ_REMOVE(&rpc_parked, pk, entry);
		if (!rpc_park_try(pk))
			http_reply_fault(pk->c, FAULT_SHUTDOWN_STATE,
			    "SHUTDOWN_STATE");
		rpc_park_free(pk);
	}
}

/* ------------------------------------------------------------------ */
/* Process methods                                                      */

/* A process's executable, as supervisord checks it before a start. */
static json_t *
rpc_check_exec(struct rpc_ctx *x, struct proc *p, const char *name)
{
	char *found;
	int err = 0;

	const char *file;

	if (p->pc->argv == NULL || p->pc->argv[0] == NULL)
		return NULL;
	/* the file found in the program's PATH at load, or as written */
	file = p->pc->path != NULL ? p->pc->path : p->pc->argv[0];
	if (strchr(file, '/') != NULL) {
		if (access(file, F_OK) == -1)
			return FAULT(x, NO_FILE, file);
		if (access(file, X_OK) == -1)
			return FAULT(x, NOT_EXECUTABLE, file);
		return NULL;
	}
	if ((found = config_env_which(p->pc->argv[0], NULL, &err)) == NULL)
		return FAULT(x, NO_FILE, p->pc->argv[0]);
	free(found);
	return NULL;
}

/* One start: 0 started (or parked later), -1 a fault in X. */
static int
rpc_start_one(struct rpc_ctx *x, struct proc *p, const char *name)
{
	char *cause = NULL;

	rpc_check_exec(x, p, name);
	if (x->text != NULL)
		return -1;
	if (rpc_is_running(p)) {
		FAULT(x, ALREADY_STARTED, name);
		return -1;
	}
	program_start(p, &cause);
	free(cause);
	if (p->state == PROC_FATAL && p->spawnerr != NULL) {
		FAULT(x, SPAWN_ERROR, name);
		return -1;
	}
	return 0;
}

/* The processes of GROUP (or every one) in priority order. */
static struct proc **
rpc_members(const char *group, size_t *n)
{
	struct proc **ps, *p;
	size_t k = 0;

	ps = xcalloc((size_t)program_nprocs + 1, sizeof(*ps));
	TAILQ_FOREACH(p, &procs, entry)
		if (rpc_visible(p) && (group == NULL ||
		    strcmp(p->group, group) == 0) && k < (size_t)program_nprocs)
			ps[k++] = p;
	*n = k;
	return ps;
}

/* start or stop of many: supervisord's make_allfunc. */
static json_t *
rpc_act_many(struct rpc_ctx *x, const char *group, int start, int wait)
{
	struct proc **ps, **pend;
	size_t n, i, np = 0;
	json_t *results = json_array();
	char *cause;

	if (group != NULL && !rpc_group_exists(group)) {
		json_decref(results);
		return FAULT(x, BAD_NAME, group);
	}
	ps = rpc_members(group, &n);
	pend = xcalloc(n + 1, sizeof(*pend));
	for (i = 0; i < n; i++) {
		struct rpc_ctx one = { 0 };

		if (start ? rpc_is_running(ps[i]) : !rpc_is_running(ps[i]))
			continue;
		if (start && rpc_start_one(&one, ps[i], ps[i]->display) == -1) {
			json_array_append_new(results,
			    rpc_result(ps[i], one.code, one.text));
			free(one.text);
			continue;
		}
		if (!start) {
			cause = NULL;
			program_stop(ps[i], &cause);
			free(cause);
		}
		if (wait && !x->nowait)
			pend[np++] = ps[i];
		else
			json_array_append_new(results,
			    rpc_result(ps[i], FAULT_SUCCESS, "OK"));
	}
	free(ps);
	if (np > 0) {
		rpc_park(x, start ? GOAL_UP : GOAL_DOWN, 1, pend, np, results);
		json_decref(results);
		results = NULL;
	}
	free(pend);
	return results;
}

/* NAME: a process, or GROUP:* (then the group's). */
static json_t *
rpc_act(struct rpc_ctx *x, int start)
{
	const char *spec = rpc_str(x, 0);
	int wait = rpc_bool(x, 1, 1);
	char *group, *name;
	struct proc *p;
	json_t *r = NULL;
	char *cause = NULL;

	rpc_split(spec, &group, &name);
	if (!rpc_group_exists(group))
		FAULT(x, BAD_NAME, spec);
	else if (name == NULL)
		r = rpc_act_many(x, group, start, wait);
	else if ((p = rpc_lookup(group, name)) == NULL)
		FAULT(x, BAD_NAME, spec);
	else if (start) {
		if (rpc_start_one(x, p, spec) == 0) {
			x->name = spec;
			if (wait && !x->nowait)
				rpc_park(x, GOAL_UP, 0, &p, 1, NULL);
			else
				r = json_true();
		}
	} else if (!rpc_is_running(p))
		FAULT(x, NOT_RUNNING, spec);
	else {
		program_stop(p, &cause);
		free(cause);
		x->name = spec;
		if (wait && !x->nowait)
			rpc_park(x, GOAL_DOWN, 0, &p, 1, NULL);
		else
			r = json_true();
	}
	free(group);
	free(name);
	return r;
}

static json_t *
rpc_startProcess(struct rpc_ctx *x)
{
	return rpc_act(x, 1);
}

static json_t *
rpc_stopProcess(struct rpc_ctx *x)
{
	return rpc_act(x, 0);
}

static json_t *
rpc_startProcessGroup(struct rpc_ctx *x)
{
	return rpc_act_many(x, rpc_str(x, 0), 1, rpc_bool(x, 1, 1));
}

static json_t *
rpc_stopProcessGroup(struct rpc_ctx *x)
{
	return rpc_act_many(x, rpc_str(x, 0), 0, rpc_bool(x, 1, 1));
}

static json_t *
rpc_startAllProcesses(struct rpc_ctx *x)
{
	return rpc_act_many(x, NULL, 1, rpc_bool(x, 0, 1));
}

static json_t *
rpc_stopAllProcesses(struct rpc_ctx *x)
{
	return rpc_act_many(x, NULL, 0, rpc_bool(x, 0, 1));
}

static int
rpc_signal_of(json_t *v)
{
	if (json_is_integer(v))
		return json_integer_value(v) > 0 && json_integer_value(v) < NSIG ?
		    (int)json_integer_value(v) : -1;
	return util_signal_number(json_string_value(v));
}

static int
rpc_signal_one(struct rpc_ctx *x, struct proc *p, int sig, const char *name)
{
	char *cause = NULL;
	int r;

	if (!rpc_is_signallable(p)) {
		FAULT(x, NOT_RUNNING, name);
		return -1;
	}
	r = program_signal(p, sig, &cause);
	if (r == -1)
		FAULT(x, FAILED, cause);
	free(cause);
	return r;
}

static json_t *
rpc_signal_many(struct rpc_ctx *x, const char *group, json_t *sigv)
{
	struct proc **ps;
	size_t n, i;
	json_t *results;
	int sig = rpc_signal_of(sigv);

	if (group != NULL && !rpc_group_exists(group))
		return FAULT(x, BAD_NAME, group);
	if (sig <= 0)
		return rpc_fault(x, FAULT_BAD_SIGNAL, NULL,
		    json_is_string(sigv) ? json_string_value(sigv) : "?");
	results = json_array();
	ps = rpc_members(group, &n);
	for (i = 0; i < n; i++) {
		struct rpc_ctx one = { 0 };

		if (!rpc_is_signallable(ps[i]))
			continue;
		if (rpc_signal_one(&one, ps[i], sig, ps[i]->display) == -1)
			json_array_append_new(results,
			    rpc_result(ps[i], one.code, one.text));
		else
			json_array_append_new(results,
			    rpc_result(ps[i], FAULT_SUCCESS, "OK"));
		free(one.text);
	}
	free(ps);
	return results;
}

static json_t *
rpc_signalProcess(struct rpc_ctx *x)
{
	const char *spec = rpc_str(x, 0);
	json_t *sigv = json_array_get(x->params, 1), *r = NULL;
	char *group, *name, num[32];
	struct proc *p;
	int sig;

	rpc_split(spec, &group, &name);
	if (!rpc_group_exists(group))
		FAULT(x, BAD_NAME, spec);
	else if (name == NULL)
		r = rpc_signal_many(x, group, sigv);
	else if ((p = rpc_lookup(group, name)) == NULL)
		FAULT(x, BAD_NAME, spec);
	else if ((sig = rpc_signal_of(sigv)) <= 0) {
		if (json_is_integer(sigv)) {
			snprintf(num, sizeof(num), "%lld",
			    (long long)json_integer_value(sigv));
			FAULT(x, BAD_SIGNAL, num);
		} else
			FAULT(x, BAD_SIGNAL, json_string_value(sigv));
	} else if (rpc_signal_one(x, p, sig, spec) == 0)
		r = json_true();
	free(group);
	free(name);
	return r;
}

static json_t *
rpc_signalProcessGroup(struct rpc_ctx *x)
{
	return rpc_signal_many(x, rpc_str(x, 0), json_array_get(x->params, 1));
}

static json_t *
rpc_signalAllProcesses(struct rpc_ctx *x)
{
	return rpc_signal_many(x, NULL, json_array_get(x->params, 0));
}

static struct proc *
rpc_named(struct rpc_ctx *x, const char *spec)
{
	struct proc *p = rpc_find_process(spec);

	if (p == NULL)
		FAULT(x, BAD_NAME, spec);
	return p;
}

static json_t *
rpc_getProcessInfo(struct rpc_ctx *x)
{
	struct proc *p = rpc_named(x, rpc_str(x, 0));

	return p != NULL ? rpc_info(p) : NULL;
}

static int
rpc_lexical_cmp(const void *a, const void *b)
{
	const struct proc *pa = *(struct proc *const *)a;
	const struct proc *pb = *(struct proc *const *)b;
	int r = strcmp(pa->group, pb->group);

	return r != 0 ? r : strcmp(pa->name, pb->name);
}

static json_t *
rpc_getAllProcessInfo(struct rpc_ctx *x)
{
	struct proc **ps;
	size_t n, i;
	json_t *all = json_array();

	ps = rpc_members(NULL, &n);
	qsort(ps, n, sizeof(*ps), rpc_lexical_cmp);
	for (i = 0; i < n; i++)
		json_array_append_new(all, rpc_info(ps[i]));
	free(ps);
	return all;
}

/* getAllConfigInfo's order: by process name (supervisord's sort). */
static int
rpc_name_order(const void *a, const void *b)
{
	const struct proc *pa = *(struct proc *const *)a;
	const struct proc *pb = *(struct proc *const *)b;
	int r = strcmp(pa->name, pb->name);

	return r != 0 ? r : strcmp(pa->group, pb->group);
}

static json_t *
rpc_getAllConfigInfo(struct rpc_ctx *x)
{
	struct proc **ps;
	size_t n, i;
	json_t *all = json_array();
	const struct program_conf *pc;

	ps = rpc_members(NULL, &n);
	qsort(ps, n, sizeof(*ps), rpc_name_order);
	for (i = 0; i < n; i++) {
		pc = ps[i]->pc;
		json_array_append_new(all, json_pack("{s:b, s:o, s:o, s:s, "
		    "s:s, s:i, s:b, s:s, s:i, s:b, s:i, s:f, s:o, s:I, s:i, "
		    "s:o, s:I, s:i, s:i, s:f, s:o}",
		    "autostart", pc->autostart,
		    "directory", protocol_string(pc->directory ? pc->directory :
		    "none"),
		    "command", protocol_string(pc->command),
		    "group", ps[i]->group, "name", ps[i]->name,
		    "group_prio", pc->group_priority,
		    "inuse", 1,
		    "uid", pc->user ? pc->user : "none",
		    "process_prio", pc->priority,
		    "killasgroup", pc->killasgroup,
		    "startretries", pc->startretries,
		    "startsecs", pc->startsecs,
		    "stdout_logfile", rpc_logfile(pc->stdout_logfile),
		    "stdout_logfile_maxbytes", (json_int_t)pc->stdout_maxbytes,
		    "stdout_logfile_backups", pc->stdout_backups,
		    "stderr_logfile", rpc_logfile(pc->stderr_logfile),
		    "stderr_logfile_maxbytes", (json_int_t)pc->stderr_maxbytes,
		    "stderr_logfile_backups", pc->stderr_backups,
		    "stopsignal", pc->stopsignal,
		    "stopwaitsecs", pc->stopwaitsecs,
		    "redirect_stderr", json_boolean(pc->redirect_stderr)));
	}
	free(ps);
	return all;
}

/* ------------------------------------------------------------------ */
/* Logs: a process's are what tendd keeps of its stream (64 KiB).       */

static json_t *
rpc_read_log(struct rpc_ctx *x, enum output_stream which, int tail)
{
	struct proc *p = rpc_named(x, rpc_str(x, 0));
	long long offset = rpc_int(x, 1), length = rpc_int(x, 2);
	unsigned long long start, total, from, to;
	char *buf;
	size_t len;
	int overflow = 0;
	json_t *r;

	if (p == NULL)
		return NULL;
	output_kept(p, which, &buf, &len, &start, &total);
	if (tail) {
		/* tailFile: LENGTH bytes up to the end from OFFSET */
		if (offset < 0)
			offset = 0;
		if (length < 0)
			length = 0;
		if (total > (unsigned long long)(offset + length)) {
			overflow = 1;
			offset = (long long)total - 1;
		}
		if ((unsigned long long)(offset + length) > total) {
			if ((unsigned long long)offset > total - 1 || total == 0)
				length = 0;
			offset = (long long)total - length;
		}
		from = (unsigned long long)(offset < 0 ? 0 : offset);
		to = from + (unsigned long long)length;
	} else {
		/* readFile: OFFSET < 0 is that many from the end, LENGTH 0 */
		if ((offset < 0 && length != 0) || length < 0) {
			free(buf);
			return FAULT(x, BAD_ARGUMENTS, NULL);
		}
		from = offset < 0 ? ((unsigned long long)-offset > total ? 0 :
		    total + (unsigned long long)offset) :
		    (unsigned long long)offset;
		to = offset < 0 || length == 0 ? total :
		    from + (unsigned long long)length;
	}
	if (from < start)
		from = start;
	if (to > total)
		to = total;
	if (from > to)
		from = to;
	r = output_json_data(buf != NULL ? buf + (from - start) : "",
	    (size_t)(to - from), 0);
	free(buf);
	if (!tail)
		return r;
	return json_pack("[o, I, b]", r, (json_int_t)total, overflow);
}

static json_t *
rpc_readProcessStdoutLog(struct rpc_ctx *x)
{
	return rpc_read_log(x, OUTPUT_STDOUT, 0);
}

static json_t *
rpc_readProcessStderrLog(struct rpc_ctx *x)
{
	return rpc_read_log(x, OUTPUT_STDERR, 0);
}

static json_t *
rpc_tailProcessStdoutLog(struct rpc_ctx *x)
{
	return rpc_read_log(x, OUTPUT_STDOUT, 1);
}

static json_t *
rpc_tailProcessStderrLog(struct rpc_ctx *x)
{
	return rpc_read_log(x, OUTPUT_STDERR, 1);
}

static json_t *
rpc_clearProcessLogs(struct rpc_ctx *x)
{
	struct proc *p = rpc_named(x, rpc_str(x, 0));
	char *cause = NULL;

	if (p == NULL)
		return NULL;
	if (output_clear(p, &cause) == -1) {
		free(cause);
		return FAULT(x, FAILED, rpc_str(x, 0));
	}
	return json_true();
}

static json_t *
rpc_clearAllProcessLogs(struct rpc_ctx *x)
{
	struct proc **ps;
	size_t n, i;
	json_t *results = json_array();
	char *cause;

	ps = rpc_members(NULL, &n);
	for (i = 0; i < n; i++) {
		cause = NULL;
		if (output_clear(ps[i], &cause) == -1)
			json_array_append_new(results, rpc_result(ps[i],
			    FAULT_FAILED, "FAILED"));
		else
			json_array_append_new(results, rpc_result(ps[i],
			    FAULT_SUCCESS, "OK"));
		free(cause);
	}
	free(ps);
	return results;
}

/* tendd's own log, when it is a file. */
static const char *
rpc_main_log(void)
{
	const char *path = tendd_conf->logfile;

	if (path == NULL || path[0] != '/' || strncmp(path, "/dev/", 5) == 0)
		return NULL;
	return path;
}

static json_t *
rpc_readLog(struct rpc_ctx *x)
{
	const char *path = rpc_main_log();
	long long offset = rpc_int(x, 0), length = rpc_int(x, 1);
	FILE *f;
	long size;
	char *buf;
	size_t n;
	json_t *r;

	if (path == NULL || (f = fopen(path, "rbe")) == NULL)
		return FAULT(x, NO_FILE, path != NULL ? path : "none");
	if ((offset < 0 && length != 0) || length < 0) {
		fclose(f);
		return FAULT(x, BAD_ARGUMENTS, NULL);
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	if (offset < 0)
		offset = size + offset < 0 ? 0 : size + offset;
	if (length == 0 || length > 1024 * 1024)
		length = size - offset > 1024 * 1024 ? 1024 * 1024 :
		    size - offset;
	if (length < 0)
		length = 0;
	buf = xmalloc((size_t)length + 1);
	fseek(f, offset, SEEK_SET);
	n = fread(buf, 1, (size_t)length, f);
	fclose(f);
	r = output_json_data(buf, n, 0);
	free(buf);
	return r;
}

static json_t *
rpc_clearLog(struct rpc_ctx *x)
{
	const char *path = rpc_main_log();

	if (path == NULL)
		return FAULT(x, NO_FILE, NULL);
	if (truncate(path, 0) == -1)
		return FAULT(x, FAILED, NULL);
	return json_true();
}

static json_t *
rpc_sendProcessStdin(struct rpc_ctx *x)
{
	struct proc *p = rpc_named(x, rpc_str(x, 0));

	if (p == NULL)
		return NULL;
	if (!state_has_process(p) || p->state == PROC_STOPPING)
		return FAULT(x, NOT_RUNNING, rpc_str(x, 0));
	/* tend gives children /dev/null as stdin: there is no pipe to it */
	return FAULT(x, NO_FILE, rpc_str(x, 0));
}

static json_t *
rpc_sendRemoteCommEvent(struct rpc_ctx *x)
{
	/* REMOTE_COMMUNICATION to the listeners subscribed (sevents.c) */
	sevent_remote(rpc_str(x, 0), rpc_str(x, 1));
	return json_true();
}

/* ------------------------------------------------------------------ */
/* The daemon                                                           */

static json_t *
rpc_getAPIVersion(struct rpc_ctx *x)
{
	return json_string(RPC_API_VERSION);
}

static json_t *
rpc_getSupervisorVersion(struct rpc_ctx *x)
{
	return json_string(TEND_VERSION);
}

static json_t *
rpc_getIdentification(struct rpc_ctx *x)
{
	return protocol_string(tendd_conf->identifier);
}

static json_t *
rpc_getState(struct rpc_ctx *x)
{
	return json_pack("{s:i, s:s}", "statecode", 1, "statename", "RUNNING");
}

static json_t *
rpc_getPID(struct rpc_ctx *x)
{
	return json_integer(getpid());
}

static json_t *
rpc_shutdown(struct rpc_ctx *x)
{
	tendd_shutdown(0, "shutdown requested over XML-RPC");
	return json_true();
}

/* The group names of a plan: added, changed, removed (reloadConfig). */
static json_t *
rpc_plan_groups(const struct reload_plan *plan)
{
	json_t *added = json_array(), *changed = json_array();
	json_t *removed = json_array();
	struct reload_item *it;
	struct proc *p;
	int i, ncur, nrem, other;

	for (i = 0; i < plan->n; i++) {
		it = &plan->items[i];
		if (i > 0 && strcmp(plan->items[i - 1].group, it->group) == 0)
			continue;
		ncur = nrem = other = 0;
		TAILQ_FOREACH(p, &procs, entry)
			if (strcmp(p->group, it->group) == 0 && !p->removed)
				ncur++;
		for (int k = 0; k < plan->n; k++)
			if (strcmp(plan->items[k].group, it->group) == 0) {
				if (plan->items[k].change == RELOAD_REMOVED)
					nrem++;
				else
					other++;
			}
		if (ncur == 0)
			json_array_append_new(added, protocol_string(it->group));
		else if (nrem == ncur && other == 0)
			json_array_append_new(removed,
			    protocol_string(it->group));
		else
			json_array_append_new(changed,
			    protocol_string(it->group));
	}
	return json_pack("[[o, o, o]]", added, changed, removed);
}

static int
rpc_has_str(json_t *a, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

/* The plan from the file, or -1 with CANT_REREAD in X. */
static int
rpc_reread(struct rpc_ctx *x, int flags, json_t **groups)
{
	struct reload_plan plan;
	struct diag d = { 0 };
	char *msg = NULL, *m;
	int k;

	if (tendd_reload(flags, &d, &plan) == -1) {
		for (k = 0; k < d.n; k++)
			if (d.msgs[k].is_error) {
				xasprintf(&m, "%s%s%s", msg ? msg : "",
				    msg ? "; " : "", d.msgs[k].text);
				free(msg);
				msg = m;
			}
		FAULT(x, CANT_REREAD, msg);
		free(msg);
		diag_clear(&d);
		return -1;
	}
	*groups = rpc_plan_groups(&plan);
	diag_clear(&d);
	reload_plan_free(&plan);
	return 0;
}

static json_t *
rpc_reloadConfig(struct rpc_ctx *x)
{
	json_t *g = NULL;

	if (rpc_reread(x, TENDD_RELOAD_CHECK, &g) == -1)
		return NULL;
	return g;
}

/*
 * update's steps (removeProcessGroup, addProcessGroup) on tend's reload,
 * which applies the whole file at once: the first step that needs the
 * file applies it, and the groups it brought in or back are remembered
 * so that their addProcessGroup says true.
 */
static void
rpc_apply(struct rpc_ctx *x)
{
	json_t *g = NULL, *lists, *v;
	size_t i, j;

	if (rpc_reread(x, 0, &g) == -1)
		return;
	lists = json_array_get(g, 0);
	for (i = 0; i < 2; i++)
		json_array_foreach(json_array_get(lists, i), j, v)
			rpc_strv_add(&rpc_readd, json_string_value(v));
	json_decref(g);
}

/* addProcessGroup of a group that is there: its autostart processes go. */
static void
rpc_start_group(const char *name)
{
	struct proc *p;
	char *cause;

	TAILQ_FOREACH(p, &procs, entry)
		if (strcmp(p->group, name) == 0 && rpc_visible(p) &&
		    p->pc->autostart && !state_has_process(p)) {
			cause = NULL;
			program_start(p, &cause);
			free(cause);
		}
}

static json_t *
rpc_addProcessGroup(struct rpc_ctx *x)
{
	const char *name = rpc_str(x, 0);
	json_t *g = NULL;

	if (rpc_strv_take(rpc_hidden, name) |
	    rpc_strv_take(rpc_readd, name)) {
		rpc_start_group(name);
		return json_true();
	}
	if (rpc_group_exists(name))
		return FAULT(x, ALREADY_ADDED, name);
	if (rpc_reread(x, TENDD_RELOAD_CHECK, &g) == -1)
		return NULL;
	if (!rpc_has_str(json_array_get(json_array_get(g, 0), 0), name) &&
	    !rpc_has_str(json_array_get(json_array_get(g, 0), 1), name)) {
		json_decref(g);
		return FAULT(x, BAD_NAME, name);
	}
	json_decref(g);
	rpc_apply(x);
	if (x->text != NULL)
		return NULL;
	rpc_strv_take(rpc_readd, name);
	rpc_start_group(name);
	return json_true();
}

static json_t *
rpc_removeProcessGroup(struct rpc_ctx *x)
{
	const char *name = rpc_str(x, 0);
	struct proc *p;

	if (!rpc_group_exists(name))
		return FAULT(x, BAD_NAME, name);
	TAILQ_FOREACH(p, &procs, entry)
		if (strcmp(p->group, name) == 0 && state_has_process(p))
			return FAULT(x, STILL_RUNNING, name);
	rpc_apply(x);
	if (x->text != NULL)
		return NULL;
	/* still in the file: gone from here until addProcessGroup */
	if (rpc_group_exists(name))
		rpc_strv_add(&rpc_hidden, name);
	return json_true();
}

/* supervisorctl reload: tend has no re-exec; the file again, then each
   process that was up restarts. */
static json_t *
rpc_restart(struct rpc_ctx *x)
{
	json_t *g = NULL;
	struct proc *p;
	char *cause;

	if (rpc_reread(x, 0, &g) == -1)
		return NULL;
	json_decref(g);
	TAILQ_FOREACH(p, &procs, entry) {
		cause = NULL;
		if (program_is_up(p)) {
			program_stop(p, &cause);
			p->want = WANT_UP;
		} else if (p->pc->autostart && !p->removed)
			program_start(p, &cause);
		free(cause);
	}
	return json_true();
}

/* ------------------------------------------------------------------ */
/* system.*                                                             */

static json_t *rpc_listMethods(struct rpc_ctx *);
static json_t *rpc_methodHelp(struct rpc_ctx *);
static json_t *rpc_methodSignature(struct rpc_ctx *);
static json_t *rpc_multicall(struct rpc_ctx *);

#define M(n, a, s, h)	{ "supervisor." #n, a, rpc_##n, s, h }
static const struct rpc_method rpc_methods[] = {
	M(getAPIVersion, "", "string", "Return the version of the RPC API"),
	{ "supervisor.getVersion", "", rpc_getAPIVersion, "string",
	    "Return the version of the RPC API (old name)" },
	M(getSupervisorVersion, "", "string", "Return tend's version"),
	M(getIdentification, "", "string", "Return the identifier"),
	M(getState, "", "struct", "Return the daemon's state"),
	M(getPID, "", "int", "Return tendd's pid"),
	M(readLog, "ii", "string int int", "Read from tendd's own log"),
	{ "supervisor.readMainLog", "ii", rpc_readLog, "string int int",
	    "Read from tendd's own log (old name)" },
	M(clearLog, "", "boolean", "Clear tendd's own log"),
	M(shutdown, "", "boolean", "Shut tendd down"),
	M(restart, "", "boolean",
	    "Read the config again and restart what runs"),
	M(reloadConfig, "", "array", "Read the config: [[added, changed, "
	    "removed]]"),
	M(addProcessGroup, "s", "boolean string", "Add a group read by "
	    "reloadConfig"),
	M(removeProcessGroup, "s", "boolean string", "Remove a stopped "
	    "group"),
	M(startProcess, "sB", "boolean string boolean", "Start a process"),
	M(startProcessGroup, "sB", "array string boolean", "Start a group"),
	M(startAllProcesses, "B", "array boolean", "Start every process"),
	M(stopProcess, "sB", "boolean string boolean", "Stop a process"),
	M(stopProcessGroup, "sB", "array string boolean", "Stop a group"),
	M(stopAllProcesses, "B", "array boolean", "Stop every process"),
	M(signalProcess, "sx", "boolean string string", "Signal a process"),
	M(signalProcessGroup, "sx", "array string string", "Signal a group"),
	M(signalAllProcesses, "x", "array string", "Signal every process"),
	M(getAllConfigInfo, "", "array", "Every process's configuration"),
	M(getProcessInfo, "s", "struct string", "A process's info"),
	M(getAllProcessInfo, "", "array", "Every process's info"),
	M(readProcessStdoutLog, "sii", "string string int int",
	    "Read a process's stdout"),
	{ "supervisor.readProcessLog", "sii", rpc_readProcessStdoutLog,
	    "string string int int", "Read a process's stdout (old name)" },
	M(readProcessStderrLog, "sii", "string string int int",
	    "Read a process's stderr"),
	M(tailProcessStdoutLog, "sii", "array string int int",
	    "Tail a process's stdout: [bytes, offset, overflow]"),
	{ "supervisor.tailProcessLog", "sii", rpc_tailProcessStdoutLog,
	    "array string int int", "Tail a process's stdout (old name)" },
	M(tailProcessStderrLog, "sii", "array string int int",
	    "Tail a process's stderr: [bytes, offset, overflow]"),
	M(clearProcessLogs, "s", "boolean string", "Clear a process's logs"),
	{ "supervisor.clearProcessLog", "s", rpc_clearProcessLogs,
	    "boolean string", "Clear a process's logs (old name)" },
	M(clearAllProcessLogs, "", "array", "Clear every process's logs"),
	M(sendProcessStdin, "ss", "boolean string string",
	    "Write to a process's stdin"),
	M(sendRemoteCommEvent, "ss", "boolean string string",
	    "Send a REMOTE_COMMUNICATION event"),
	{ "system.listMethods", "", rpc_listMethods, "array",
	    "Return an array listing the available method names" },
	{ "system.methodHelp", "s", rpc_methodHelp, "string string",
	    "Return a string showing the method's documentation" },
	{ "system.methodSignature", "s", rpc_methodSignature, "array string",
	    "Return an array describing the method signature" },
	{ "system.multicall", "a", rpc_multicall, "array array",
	    "Process an array of calls, and return an array of results" },
};

static const struct rpc_method *
rpc_method_find(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(rpc_methods); i++)
		if (strcmp(rpc_methods[i].name, name) == 0)
			return &rpc_methods[i];
	return NULL;
}

static int
rpc_name_cmp(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
	    json_string_value(*(json_t *const *)b));
}

static json_t *
rpc_listMethods(struct rpc_ctx *x)
{
	json_t *v[nitems(rpc_methods)], *a = json_array();
	size_t i;

	for (i = 0; i < nitems(rpc_methods); i++)
		v[i] = json_string(rpc_methods[i].name);
	qsort(v, nitems(rpc_methods), sizeof(v[0]), rpc_name_cmp);
	for (i = 0; i < nitems(rpc_methods); i++)
		json_array_append_new(a, v[i]);
	return a;
}

static json_t *
rpc_methodHelp(struct rpc_ctx *x)
{
	const struct rpc_method *m = rpc_method_find(rpc_str(x, 0));

	if (m == NULL)
		return FAULT(x, SIGNATURE_UNSUPPORTED, NULL);
	return json_string(m->help);
}

static json_t *
rpc_methodSignature(struct rpc_ctx *x)
{
	const struct rpc_method *m = rpc_method_find(rpc_str(x, 0));
	json_t *sig;
	char *s, *tok, *save;

	if (m == NULL)
		return FAULT(x, SIGNATURE_UNSUPPORTED, NULL);
	sig = json_array();
	s = xstrdup(m->sig);
	for (tok = strtok_r(s, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save))
		json_array_append_new(sig, json_string(tok));
	free(s);
	return json_pack("[o]", sig);
}

/* One call: its value, or NULL with a fault (or parked) in X. */
static json_t *
rpc_dispatch(struct rpc_ctx *x, const char *method, json_t *params)
{
	const struct rpc_method *m = rpc_method_find(method);

	if (m == NULL)
		return FAULT(x, UNKNOWN_METHOD, NULL);
	if (!rpc_args_ok(m, params))
		return FAULT(x, INCORRECT_PARAMETERS, NULL);
	if (strncmp(method, "supervisor.", 11) == 0 && tendd_shutting_down())
		return FAULT(x, SHUTDOWN_STATE, NULL);
	x->params = params;
	return m->fn(x);
}

/* supervisord's: each result as it is, or a fault struct; nothing waits. */
static json_t *
rpc_multicall(struct rpc_ctx *x)
{
	json_t *calls = json_array_get(x->params, 0), *call, *results, *v;
	const char *name;
	size_t i;

	results = json_array();
	json_array_foreach(calls, i, call) {
		struct rpc_ctx one = { .c = x->c, .nowait = 1 };

		name = json_string_value(json_object_get(call, "methodName"));
		v = json_object_get(call, "params");
		if (name == NULL)
			FAULT(&one, INCORRECT_PARAMETERS, "No methodName");
		else if (strcmp(name, "system.multicall") == 0)
			FAULT(&one, INCORRECT_PARAMETERS,
			    "Recursive system.multicall forbidden");
		else if (v != NULL && !json_is_array(v))
			FAULT(&one, INCORRECT_PARAMETERS, NULL);
		else {
			json_t *empty = json_array();

			v = rpc_dispatch(&one, name, v != NULL ? v : empty);
			json_decref(empty);
			if (v != NULL) {
				json_array_append_new(results, v);
				continue;
			}
		}
		json_array_append_new(results, json_pack("{s:i, s:o}",
		    "faultCode", one.code, "faultString",
		    protocol_string(one.text)));
		free(one.text);
	}
	return results;
}

int
rpc_call(struct conn *c, const char *method, json_t *params)
{
	struct rpc_ctx x = { .c = c };
	json_t *v;

	v = rpc_dispatch(&x, method, params);
	if (x.parked)
		return 1;
	if (v != NULL)
		http_reply_value(c, v);
	else
		http_reply_fault(c, x.code, x.text != NULL ? x.text : "FAILED");
	json_decref(v);
	free(x.text);
	return 0;
}
