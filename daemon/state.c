/*
 * state.c: the per-process state machine (spec §1). A process's internal
 * state (state_of()) is its public state refined by what used to be
 * flags: STARTING without a process (a launcher gone, its pidfile not
 * read yet), a process reaped whose last output is still coming, a job
 * joined at shutdown. Every event goes through state_event(), which looks
 * up the action in state_table[state][event]; every transition goes
 * through state_set(), which owns the state timer, the log line and the
 * notifications. What a person asked for (want) is kept apart from what
 * is happening, so a user's stop is never followed by a restart.
 *
 * Notifications: waiters and the events stream (command_state_changed)
 * and systemd (systemd_state_changed, which only schedules) are told at
 * once and never call back into the machine, so each sees the state it
 * was told about; shutdown progress, which starts other transitions, is
 * handed to the loop (program_shutdown_progress()).
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "tendd.h"

/* pidfile: first wait between reads of a pidfile not written yet, and the cap. */
#define PIDFILE_POLL_FIRST	0.05
#define PIDFILE_POLL_MAX	1.0

/* ---- the tables */

static const char *const state_public_names[PROC_NSTATES] = {
	[PROC_NEW] = "NEW",
	[PROC_STARTING] = "STARTING",
	[PROC_RUNNING] = "RUNNING",
	[PROC_PAUSED] = "PAUSED",
	[PROC_STOPPING] = "STOPPING",
	[PROC_STOPPED] = "STOPPED",
	[PROC_EXITED] = "EXITED",
	[PROC_BACKOFF] = "BACKOFF",
	[PROC_FATAL] = "FATAL",
	[PROC_WAITING] = "WAITING",
};

/* Each internal state: its name, the spec's state, the timer it has. */
const struct state_info state_info[ST_N] = {
	[ST_NEW] =		{ "NEW",		PROC_NEW,	TIMER_NONE },
	[ST_STARTING] =		{ "STARTING",		PROC_STARTING,	TIMER_START },
	[ST_AWAIT_PIDFILE] =	{ "AWAIT_PIDFILE",	PROC_STARTING,	TIMER_PIDFILE },
	[ST_STARTING_ENDED] =	{ "STARTING_ENDED",	PROC_STARTING,	TIMER_NONE },
	[ST_RUNNING] =		{ "RUNNING",		PROC_RUNNING,	TIMER_NONE },
	[ST_JOINING] =		{ "JOINING",		PROC_RUNNING,	TIMER_JOIN },
	[ST_RUNNING_ENDED] =	{ "RUNNING_ENDED",	PROC_RUNNING,	TIMER_NONE },
	[ST_PAUSED] =		{ "PAUSED",		PROC_PAUSED,	TIMER_NONE },
	[ST_PAUSED_ENDED] =	{ "PAUSED_ENDED",	PROC_PAUSED,	TIMER_NONE },
	[ST_STOPPING] =		{ "STOPPING",		PROC_STOPPING,	TIMER_STOPWAIT },
	[ST_STOPPING_ENDED] =	{ "STOPPING_ENDED",	PROC_STOPPING,	TIMER_NONE },
	[ST_STOPPED] =		{ "STOPPED",		PROC_STOPPED,	TIMER_NONE },
	[ST_EXITED] =		{ "EXITED",		PROC_EXITED,	TIMER_NONE },
	[ST_BACKOFF] =		{ "BACKOFF",		PROC_BACKOFF,	TIMER_BACKOFF },
	[ST_FATAL] =		{ "FATAL",		PROC_FATAL,	TIMER_NONE },
	[ST_WAITING] =		{ "WAITING",		PROC_WAITING,	TIMER_NONE },
	[ST_PRE_START] =	{ "PRE_START",		PROC_STARTING,	TIMER_HOOK },
};

const char *const state_event_names[E_N] = {
	[E_START] = "start", [E_STOP] = "stop", [E_KILL] = "kill",
	[E_PAUSE] = "pause", [E_RESUME] = "resume", [E_SIGNAL] = "signal",
	[E_TIMER] = "timer", [E_READY] = "ready",
	[E_WATCHDOG] = "watchdog", [E_TRIGGER] = "watchdog-trigger",
	[E_EXITED] = "exited", [E_REAPED] = "reaped",
	[E_DRAINED] = "drained", [E_CHANGE] = "reload-change",
	[E_REMOVE] = "reload-remove", [E_SHUTDOWN] = "shutdown",
	[E_LEVEL] = "shutdown-level",
	[E_DEPS] = "dependency", [E_HOOK] = "pre_start-ended",
};

/* A BACKOFF's wait cancelled: the reason, by what cancelled it. */
static const char *const state_cancel_why[E_N] = {
	[E_STOP] = "stopped while waiting to restart",
	[E_KILL] = "killed while waiting to restart",
	[E_REMOVE] = "removed from the config",
	[E_SHUTDOWN] = "tendd is shutting down",
};
/* A WAITING process's start cancelled: the reason. */
static const char *const state_unwait_why[E_N] = {
	[E_STOP] = "stopped while waiting for its dependencies",
	[E_KILL] = "killed while waiting for its dependencies",
	[E_REMOVE] = "removed from the config",
	[E_SHUTDOWN] = "tendd is shutting down",
};

typedef int (*state_fn)(struct proc *, enum state_event, struct state_arg *);

static int state_a_nothing(struct proc *, enum state_event, struct state_arg *);
static int state_a_impossible(struct proc *, enum state_event,
    struct state_arg *);
static int state_a_refuse(struct proc *, enum state_event, struct state_arg *);
static int state_a_stray(struct proc *, enum state_event, struct state_arg *);
static int state_a_late(struct proc *, enum state_event, struct state_arg *);
static int state_a_spawn(struct proc *, enum state_event, struct state_arg *);
static int state_a_stop(struct proc *, enum state_event, struct state_arg *);
static int state_a_kill(struct proc *, enum state_event, struct state_arg *);
static int state_a_cancel(struct proc *, enum state_event, struct state_arg *);
static int state_a_pause(struct proc *, enum state_event, struct state_arg *);
static int state_a_resume(struct proc *, enum state_event, struct state_arg *);
static int state_a_signal(struct proc *, enum state_event, struct state_arg *);
static int state_a_started(struct proc *, enum state_event, struct state_arg *);
static int state_a_poll(struct proc *, enum state_event, struct state_arg *);
static int state_a_retry(struct proc *, enum state_event, struct state_arg *);
static int state_a_escalate(struct proc *, enum state_event,
    struct state_arg *);
static int state_a_joined(struct proc *, enum state_event, struct state_arg *);
static int state_a_ready(struct proc *, enum state_event, struct state_arg *);
static int state_a_watchdog(struct proc *, enum state_event,
    struct state_arg *);
static int state_a_trigger(struct proc *, enum state_event, struct state_arg *);
static int state_a_groupkill(struct proc *, enum state_event,
    struct state_arg *);
static int state_a_reap(struct proc *, enum state_event, struct state_arg *);
static int state_a_end_start(struct proc *, enum state_event,
    struct state_arg *);
static int state_a_end_run(struct proc *, enum state_event, struct state_arg *);
static int state_a_end_stop(struct proc *, enum state_event,
    struct state_arg *);
static int state_a_change_up(struct proc *, enum state_event,
    struct state_arg *);
static int state_a_change_idle(struct proc *, enum state_event,
    struct state_arg *);
static int state_a_remove_up(struct proc *, enum state_event,
    struct state_arg *);
static int state_a_forget(struct proc *, enum state_event, struct state_arg *);
static int state_a_join(struct proc *, enum state_event, struct state_arg *);
static int state_a_deps(struct proc *, enum state_event, struct state_arg *);
static int state_a_hook_done(struct proc *, enum state_event,
    struct state_arg *);
static void state_start_failed(struct proc *, const char *);
static int state_a_hook_timeout(struct proc *, enum state_event,
    struct state_arg *);

#define S(s)	(1u << (s))
#define M_UP	(S(PROC_STARTING) | S(PROC_RUNNING) | S(PROC_PAUSED) | \
		    S(PROC_STOPPING))
#define M_DOWN	(S(PROC_STOPPED) | S(PROC_EXITED) | S(PROC_BACKOFF) | \
		    S(PROC_FATAL))
#define FX_S	STATE_FX_SPAWN
#define FX_K	STATE_FX_SIGNAL
#define FX_F	STATE_FX_FORGET
#define FX_R	STATE_FX_REFUSE

/*
 * Each action: what it may lead to, as data a test reads (the public
 * states it may enter, 0: none, the state stays; and the effects it may
 * have). Entering a state always notifies (STATE_FX_NOTIFY is implied).
 */
const struct state_action state_actions[A_N] = {
	[A_MISSING] =	{ "missing",	NULL,			0, 0 },
	[A_NOTHING] =	{ "nothing",	state_a_nothing,	0, 0 },
	[A_IMPOSSIBLE] = { "impossible", state_a_impossible,	0, 0 },
	[A_REFUSE] =	{ "refuse",	state_a_refuse,		0, FX_R },
	[A_STRAY] =	{ "stray",	state_a_stray,		0, 0 },
	[A_LATE] =	{ "late",	state_a_late,		0, 0 },
	[A_SPAWN] =	{ "spawn",	state_a_spawn,
	    S(PROC_STARTING) | S(PROC_RUNNING) | S(PROC_BACKOFF) |
	    S(PROC_FATAL) | S(PROC_WAITING), FX_S },
	[A_STOP] =	{ "stop",	state_a_stop,
	    S(PROC_STOPPING) | S(PROC_STOPPED) | S(PROC_STARTING) |
	    S(PROC_RUNNING), FX_K },
	[A_KILL] =	{ "kill",	state_a_kill,
	    S(PROC_STOPPING) | S(PROC_STOPPED) | S(PROC_STARTING) |
	    S(PROC_RUNNING), FX_K },
	[A_CANCEL] =	{ "cancel",	state_a_cancel,	S(PROC_STOPPED), 0 },
	[A_PAUSE] =	{ "pause",	state_a_pause,	S(PROC_PAUSED), FX_K | FX_R },
	[A_RESUME] =	{ "resume",	state_a_resume,	S(PROC_RUNNING), FX_K | FX_R },
	[A_SIGNAL] =	{ "signal",	state_a_signal,	0, FX_K | FX_R },
	[A_STARTED] =	{ "started",	state_a_started,
	    S(PROC_RUNNING) | S(PROC_STOPPING) | S(PROC_STOPPED), FX_K },
	[A_POLL] =	{ "poll-pidfile", state_a_poll,
	    S(PROC_RUNNING) | M_DOWN, 0 },
	[A_RETRY] =	{ "retry",	state_a_retry,
	    S(PROC_STARTING) | S(PROC_RUNNING) | S(PROC_BACKOFF) |
	    S(PROC_FATAL) | S(PROC_WAITING), FX_S },
	[A_ESCALATE] =	{ "sigkill",	state_a_escalate, 0, FX_K },
	[A_JOINED] =	{ "join-over",	state_a_joined,	S(PROC_STOPPING), FX_K },
	[A_READY] =	{ "ready",	state_a_ready,	S(PROC_RUNNING), 0 },
	[A_WATCHDOG] =	{ "watchdog",	state_a_watchdog, S(PROC_STOPPING), FX_K },
	[A_TRIGGER] =	{ "trigger",	state_a_trigger,
	    S(PROC_STOPPING) | S(PROC_STOPPED) | S(PROC_STARTING) |
	    S(PROC_RUNNING), FX_K },
	[A_GROUPKILL] =	{ "group-kill",	state_a_groupkill, 0, FX_K },
	/* with no output to wait for, the end is handled at once */
	[A_REAP] =	{ "reap",	state_a_reap,	M_UP | M_DOWN |
	    S(PROC_WAITING), FX_S | FX_K | FX_F },
	[A_END_START] =	{ "end-starting", state_a_end_start,
	    S(PROC_EXITED) | S(PROC_STOPPED) | S(PROC_BACKOFF) | S(PROC_FATAL),
	    0 },
	[A_END_RUN] =	{ "end-running", state_a_end_run,
	    S(PROC_EXITED) | S(PROC_BACKOFF) | S(PROC_STARTING) |
	    S(PROC_RUNNING) | S(PROC_FATAL) | S(PROC_WAITING), FX_S },
	[A_END_STOP] =	{ "end-stopping", state_a_end_stop,
	    M_DOWN | S(PROC_STARTING) | S(PROC_RUNNING) | S(PROC_WAITING),
	    FX_S | FX_F },
	[A_CHANGE_UP] =	{ "restart-changed", state_a_change_up,
	    S(PROC_STOPPING) | S(PROC_STOPPED) | S(PROC_STARTING) |
	    S(PROC_RUNNING), FX_K },
	[A_CHANGE_IDLE] = { "take-changed", state_a_change_idle, 0, 0 },
	[A_REMOVE_UP] =	{ "stop-removed", state_a_remove_up,
	    S(PROC_STOPPING) | S(PROC_STOPPED) | S(PROC_STARTING) |
	    S(PROC_RUNNING), FX_K | FX_F },
	[A_FORGET] =	{ "forget",	state_a_forget,	S(PROC_STOPPED), FX_F },
	[A_JOIN] =	{ "join",	state_a_join,	S(PROC_RUNNING), FX_K },
	[A_DEPS] =	{ "dependency",	state_a_deps,
	    S(PROC_STARTING) | S(PROC_RUNNING) | S(PROC_BACKOFF) |
	    S(PROC_FATAL) | S(PROC_WAITING), FX_S },
	[A_HOOK_DONE] =	{ "pre_start-done", state_a_hook_done,
	    S(PROC_STARTING) | S(PROC_RUNNING) | S(PROC_BACKOFF) |
	    S(PROC_FATAL) | S(PROC_WAITING) | S(PROC_STOPPED) |
	    S(PROC_EXITED), FX_S },
	[A_HOOK_TIMEOUT] = { "pre_start-timeout", state_a_hook_timeout,
	    S(PROC_BACKOFF) | S(PROC_FATAL) | S(PROC_STOPPED) |
	    S(PROC_EXITED), 0 },
};

/* Short names, so that the table below fits on a screen. */
#define __	A_MISSING
#define no	A_NOTHING
#define XX	A_IMPOSSIBLE
#define rf	A_REFUSE
#define st	A_STRAY
#define lt	A_LATE
#define SP	A_SPAWN
#define SO	A_STOP
#define KI	A_KILL
#define CA	A_CANCEL
#define PA	A_PAUSE
#define RE	A_RESUME
#define SG	A_SIGNAL
#define UP	A_STARTED
#define PO	A_POLL
#define RT	A_RETRY
#define K9	A_ESCALATE
#define JO	A_JOINED
#define RD	A_READY
#define WD	A_WATCHDOG
#define TR	A_TRIGGER
#define GK	A_GROUPKILL
#define RP	A_REAP
#define ES	A_END_START
#define ER	A_END_RUN
#define EP	A_END_STOP
#define CU	A_CHANGE_UP
#define CI	A_CHANGE_IDLE
#define RU	A_REMOVE_UP
#define FG	A_FORGET
#define JN	A_JOIN
#define DP	A_DEPS
#define HD	A_HOOK_DONE
#define HT	A_HOOK_TIMEOUT

/*
 * The machine: what each event does in each state (docs/design.md).
 * __ missing (a test fails)   no nothing to do           XX cannot happen
 * rf refused: not running     st stray timer (debug)     lt READY=1 too late
 * SP spawn    SO stop signal  KI SIGKILL     CA BACKOFF -> STOPPED
 * PA SIGSTOP  RE SIGCONT      SG send it     UP startsecs/ready over
 * PO read the pidfile         RT retry       K9 stopwaitsecs over: SIGKILL
 * JO joinsecs over: stop      RD READY=1     WD watchdog failed
 * TR WATCHDOG=trigger         GK kill the rest of its group
 * RP reaped: handover or wait for output     ES/ER/EP judge the end of a
 * start, a run, a stop        CU restart with new settings
 * CI take new settings        RU stop, forget once down   FG forget
 * JN join a job at shutdown  DP a dependency is up, done or failed:
 * start, wait on, or FATAL    HD pre_start ended: spawn, or a failed
 * start                       HT hook_timeout: pre_start killed, failed
 * Columns: start stop kill pause resume signal timer ready watchdog
 * trigger exited reaped drained change remove shutdown level dependency
 * hook.
 */
const unsigned char state_table[ST_N][E_N] = {
/*                       sta sto kil pau res sig tim rdy wdg trg exi rea dra chg rem shu lvl dep hok */
[ST_NEW]             = { SP, no, no, rf, rf, rf, st, lt, no, no, XX, XX, no, CI, FG, no, XX, no, XX },
[ST_STARTING]        = { no, SO, KI, rf, no, SG, UP, RD, no, TR, no, RP, no, CU, RU, JN, SO, no, XX },
[ST_AWAIT_PIDFILE]   = { no, SO, KI, rf, no, rf, PO, RD, no, TR, XX, XX, no, CU, RU, SO, XX, no, XX },
[ST_STARTING_ENDED]  = { no, SO, KI, rf, no, SG, st, lt, no, no, XX, XX, ES, CU, RU, SO, SO, no, XX },
[ST_RUNNING]         = { no, SO, KI, PA, no, SG, no, lt, WD, TR, no, RP, no, CU, RU, JN, SO, no, XX },
[ST_JOINING]         = { no, SO, KI, PA, no, SG, JO, lt, WD, TR, no, RP, no, CU, RU, JN, SO, no, XX },
[ST_RUNNING_ENDED]   = { no, SO, KI, PA, no, SG, st, lt, no, no, XX, XX, ER, CU, RU, JN, SO, no, XX },
[ST_PAUSED]          = { no, SO, KI, no, RE, SG, st, lt, no, no, no, RP, no, CU, RU, JN, SO, no, XX },
[ST_PAUSED_ENDED]    = { no, SO, KI, no, RE, SG, st, lt, no, no, XX, XX, ER, CU, RU, JN, SO, no, XX },
[ST_STOPPING]        = { no, no, KI, rf, rf, SG, K9, lt, no, no, GK, RP, no, CU, RU, no, no, no, XX },
[ST_STOPPING_ENDED]  = { no, no, KI, rf, rf, SG, st, lt, no, no, XX, XX, EP, CU, RU, no, no, no, XX },
[ST_STOPPED]         = { SP, no, no, rf, rf, rf, st, lt, no, no, XX, XX, no, CI, FG, no, XX, no, XX },
[ST_EXITED]          = { SP, no, no, rf, rf, rf, st, lt, no, no, XX, XX, no, CI, FG, no, XX, no, XX },
[ST_BACKOFF]         = { SP, CA, CA, rf, rf, rf, RT, lt, no, no, XX, XX, no, CI, FG, CA, XX, no, XX },
[ST_FATAL]           = { SP, no, no, rf, rf, rf, st, lt, no, no, XX, XX, no, CI, FG, no, XX, no, XX },
[ST_WAITING]         = { no, CA, CA, rf, rf, rf, st, lt, no, no, XX, XX, no, CI, FG, CA, XX, DP, XX },
[ST_PRE_START]       = { no, CA, CA, rf, rf, rf, HT, lt, no, no, XX, XX, no, CI, FG, CA, CA, no, HD },
};

#undef __
#undef no
#undef XX
#undef rf
#undef st
#undef lt
#undef SP
#undef SO
#undef KI
#undef CA
#undef PA
#undef RE
#undef SG
#undef UP
#undef PO
#undef RT
#undef K9
#undef JO
#undef RD
#undef WD
#undef TR
#undef GK
#undef RP
#undef ES
#undef ER
#undef EP
#undef CU
#undef CI
#undef RU
#undef FG
#undef JN
#undef DP
#undef HD
#undef HT

const char *
program_state_name(enum proc_state s)
{
	if ((unsigned)s >= PROC_NSTATES)
		return "UNKNOWN";
	return state_public_names[s];
}

enum state_id
state_of(const struct proc *p)
{
	switch (p->state) {
	case PROC_NEW:
		return ST_NEW;
	case PROC_STARTING:
		if (p->reaped)
			return ST_STARTING_ENDED;
		if (p->pid > 0)
			return ST_STARTING;
		return p->hook != NULL ? ST_PRE_START : ST_AWAIT_PIDFILE;
	case PROC_RUNNING:
		if (p->reaped)
			return ST_RUNNING_ENDED;
		/* every job up at shutdown is joined (program_shutdown()) */
		return program_stopping_all && !p->pc->daemon ? ST_JOINING :
		    ST_RUNNING;
	case PROC_PAUSED:
		return p->reaped ? ST_PAUSED_ENDED : ST_PAUSED;
	case PROC_STOPPING:
		return p->reaped ? ST_STOPPING_ENDED : ST_STOPPING;
	case PROC_STOPPED:
		return ST_STOPPED;
	case PROC_EXITED:
		return ST_EXITED;
	case PROC_BACKOFF:
		return ST_BACKOFF;
	case PROC_FATAL:
		return ST_FATAL;
	case PROC_WAITING:
		return ST_WAITING;
	}
	return ST_FATAL;
}

int
state_has_process(const struct proc *p)
{
	/* Reaped but its last output still coming: not ended yet. */
	return p->pid > 0 || p->reaped;
}

int
state_event(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	static struct state_arg none;
	enum state_id s = state_of(p);
	const struct state_action *a = &state_actions[state_table[s][ev]];

	if (arg == NULL)
		arg = &none;
	if (a->fn == NULL) {
		log_error("%s: no action for %s in state %s", p->display,
		    state_event_names[ev], state_info[s].name);
		return 0;
	}
	/* P may be gone once the action returns (a removed process). */
	return a->fn(p, ev, arg);
}

/* ---- the setter */

void
state_arm(struct proc *p, double secs)
{
	struct timeval tv;

	if (secs < 0)
		secs = 0;
	tv = util_timeval(secs);
	p->timer_due = util_now() + secs;
	evtimer_add(p->timer, &tv);
}

/*
 * ARM >= 0: the state waits that long (BACKOFF, STOPPING), and its timer
 * is armed before anyone hears of the change, so that the event and the
 * log describe the wait that begins ("restart in 2s", "SIGKILL in 10s").
 * STARTING's timer is armed after (its event says "starting").
 */
static void
state_vset(struct proc *p, enum proc_state s, double arm, const char *fmt,
    va_list ap)
{
	enum proc_state old = p->state;

	/* Each state arms its own timer (state_info[]); none carries over. */
	evtimer_del(p->timer);
	p->timer_due = 0;
	if (arm >= 0)
		state_arm(p, arm);

	free(p->reason);
	p->reason = NULL;
	if (fmt != NULL)
		xvasprintf(&p->reason, fmt, ap);
	p->state = s;
	if (arm >= 0 && state_info[state_of(p)].timer == TIMER_NONE)
		log_error("%s: a timer armed in state %s, which has none",
		    p->display, state_info[state_of(p)].name);
	p->state_time = util_now();
	p->state_wall = util_wallclock();
	/*
	 * At rest, its cgroup goes (once what it left running ends too).
	 * Not at each exit: a restart keeps the directory rather than
	 * removing and making it again.
	 */
	if (s == PROC_STOPPED || s == PROC_EXITED || s == PROC_FATAL)
		cgroup_proc_ended(p);
	/* spec §12: a run of it ended (a restart's comes before its spawn) */
	if (p->post_stop_due && !state_has_process(p) && (s == PROC_STOPPED ||
	    s == PROC_EXITED || s == PROC_FATAL || s == PROC_BACKOFF))
		hooks_post_stop(p);
	if (s == PROC_RUNNING && old != PROC_PAUSED)
		p->running_time = p->state_time;

	if (p->pid > 0)
		log_info("%s: %s -> %s (pid %ld%s%s)", p->display,
		    program_state_name(old), program_state_name(s),
		    (long)p->pid, p->reason ? ", " : "",
		    p->reason ? p->reason : "");
	else
		log_info("%s: %s -> %s%s%s%s", p->display,
		    program_state_name(old), program_state_name(s),
		    p->reason ? " (" : "", p->reason ? p->reason : "",
		    p->reason ? ")" : "");

	/* The watchdog runs only while RUNNING: PAUSED cannot ping. */
	state_watchdog_arm(p);

	/* Told at once: they never call back into the machine. */
	command_state_changed(p, old);
	systemd_state_changed(p, old);
	/* supervisord's PROCESS_STATE_* to listeners (spec §10) */
	sevent_state_changed(p, old);
	listener_state_changed(p);
	probe_state_changed(p, old);
	if (p->runjob != NULL)
		runjob_state_changed(p);	/* spec §12 */
	/*
	 * What depends on P is told after: its events follow P's. Only
	 * P's dependents are looked at (depend.c), whatever N is.
	 */
	if (p->ndeps > 0 || p->nrdeps > 0)
		depend_changed(p);

	/*
	 * A critical program's end stops tendd at once, before anything
	 * else is spawned (autostart's loop goes on after this returns);
	 * P itself is at rest and shutdown leaves it so.
	 */
	if (s == PROC_FATAL && p->pc->critical && !program_stopping_all) {
		char *why;

		xasprintf(&why, "critical program %s is FATAL", p->display);
		tendd_shutdown(1, why);
		free(why);
	} else if (program_stopping_all)
		program_shutdown_progress();
}

static void state_set(struct proc *, enum proc_state, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static void
state_set(struct proc *p, enum proc_state s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	state_vset(p, s, -1, fmt, ap);
	va_end(ap);
}

static void state_set_armed(struct proc *, enum proc_state, double,
    const char *, ...) __attribute__((format(printf, 4, 5)));
static void
state_set_armed(struct proc *p, enum proc_state s, double secs,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	state_vset(p, s, secs, fmt, ap);
	va_end(ap);
}

/* ---- the outcome a waiting client gets */

/* Settled: no process, no restart coming (what tendctl wait joins). */
static int
state_settled(const struct proc *p)
{
	switch (p->state) {
	case PROC_NEW:
	case PROC_EXITED:
	case PROC_FATAL:
		return 1;
	case PROC_STOPPED:
		/* A restart (or a start while stopping) passes through STOPPED. */
		return p->want != WANT_UP || program_stopping_all;
	default:
		return 0;
	}
}

/* What a start waits for: up, finished as a job, or failed. */
static enum state_outcome
state_start_outcome(const struct proc *p, char **msg)
{
	char desc[1024];

	switch (p->state) {
	case PROC_RUNNING:
		*msg = xstrdup("started");
		return OUTCOME_DONE;
	case PROC_EXITED:
		/* a job that ran to completion did what start asked */
		program_describe_text(p, desc, sizeof(desc));
		if (!p->pc->daemon &&
		    config_exitcode_expected(p->pc, p->exitcode)) {
			xasprintf(msg, "started and finished (%s)", desc);
			return OUTCOME_DONE;
		}
		xasprintf(msg, "exited (%s)", desc);
		return OUTCOME_FAILED;
	case PROC_FATAL:
		program_describe_text(p, desc, sizeof(desc));
		*msg = xstrdup(desc);
		return OUTCOME_FAILED;
	case PROC_BACKOFF:
		xasprintf(msg, "%s (%s)", p->shortfails > 0 ?
		    "could not be started yet" : "did not stay up",
		    p->reason ? p->reason : "exited");
		return OUTCOME_FAILED;
	case PROC_STOPPED:
		/* a restart passes through STOPPED on its way up */
		if (p->want == WANT_UP)
			return OUTCOME_PENDING;
		*msg = xstrdup("stopped before it was up");
		return OUTCOME_FAILED;
	default:
		return OUTCOME_PENDING;
	}
}

enum state_outcome
state_outcome(const struct proc *p, enum state_goal goal, char **msg)
{
	*msg = NULL;
	switch (goal) {
	case GOAL_SETTLED:
		return state_settled(p) ? OUTCOME_DONE : OUTCOME_PENDING;
	case GOAL_DOWN:
		if (state_has_process(p))
			return OUTCOME_PENDING;
		*msg = xstrdup("stopped");
		return OUTCOME_DONE;
	case GOAL_UP:
		if (p->removed) {
			/* It goes away once down: it will not come up. */
			*msg = xstrdup("removed from the config by a reload");
			return OUTCOME_FAILED;
		}
		return state_start_outcome(p, msg);
	}
	return OUTCOME_PENDING;
}

/* ---- the actions that change nothing */

static int
state_a_nothing(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	return 0;
}

static int
state_a_impossible(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	log_error("%s: %s cannot happen in state %s", p->display,
	    state_event_names[ev], state_info[state_of(p)].name);
	return 0;
}

/* Why pause/resume/signal cannot act on P in its state. */
static int
state_a_refuse(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	if (arg->cause == NULL)
		return -1;
	if (state_has_process(p))
		xasprintf(arg->cause, "is %s, not RUNNING (pid %ld)",
		    program_state_name(p->state), (long)p->pid);
	else
		xasprintf(arg->cause, "not running (%s)",
		    program_state_name(p->state));
	return -1;
}

static int
state_a_stray(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	log_debug("%s: stray %s in state %s", p->display,
	    state_event_names[ev], program_state_name(p->state));
	return 0;
}

/* After its death (its output still coming), READY=1 is too late. */
static int
state_a_late(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	log_debug("%s: READY=1 in state %s", p->display,
	    program_state_name(p->state));
	return 0;
}

/* ---- starting */

/* Forget what the last run said and did: a spawn starts afresh. */
static void
state_reset_run(struct proc *p)
{
	const struct program_conf *pc = p->pc;

	p->failing = FAIL_NONE;
	free(p->fail_why);
	p->fail_why = NULL;
	p->ready_seen = 0;
	free(p->notify_status);
	p->notify_status = NULL;
	p->watchdog_secs = pc->watchdog_secs;
	p->adopted = 0;
	p->mainpid_next = 0;
	p->pidfile_poll = PIDFILE_POLL_FIRST;
	free(p->pidfile_err);
	p->pidfile_err = NULL;
	p->start_deadline = 0;
	if (pc->ready != READY_NONE && pc->ready_timeout > 0)
		p->start_deadline = util_now() + pc->ready_timeout;
}

/* STARTING, with a process that is judged by startsecs from now. */
static void
state_startsecs(struct proc *p)
{
	if (p->pc->startsecs <= 0) {
		p->startfails = 0;
		state_set(p, PROC_RUNNING, NULL);
	} else
		state_arm(p, p->pc->startsecs);
}

/*
 * The machine could not make the process (out of descriptors, processes
 * or memory): its state, not the program's fault, so BACKOFF and a new
 * try after the usual doubling delay, as long as it takes. startretries
 * counts the program's own failures only: a full descriptor table says
 * nothing about the program, and a person would have to start every
 * process it made FATAL by hand once the machine has room again.
 */
static void
state_spawn_short(struct proc *p, char *cause)
{
	p->spawnerr = cause;
	p->shortfails++;
	if (p->state == PROC_BACKOFF && p->shortfails > 1) {
		/*
		 * Still no room: the same state, a fresher reason. Thousands
		 * of processes may wait so: no event, no log line each try.
		 */
		free(p->reason);
		p->reason = xstrdup(cause);
		log_debug("%s: still BACKOFF (%s)", p->display, cause);
		state_arm(p, program_backoff(p->pc, p->shortfails));
	} else
		/* Armed first: the event says when the retry comes. */
		state_set_armed(p, PROC_BACKOFF,
		    program_backoff(p->pc, p->shortfails), "%s", cause);
}

/*
 * Its dependencies (depend.c) not all up or done: WAITING, or FATAL when
 * one failed. PULL (a start, not a retry) starts those that are neither
 * up nor done first. 1 when the spawn must not happen now.
 */
static int
state_held(struct proc *p, int pull)
{
	struct proc *d;
	int failed, i;

	if (p->ndeps == 0)
		return 0;
	if (pull)
		depend_pull(p);
	for (i = 0; i < p->ndeps; i++) {
		if (depend_failed(p->deps[i])) {
			state_set(p, PROC_FATAL, "dependency %s failed",
			    p->deps[i]->display);
			return 1;
		}
	}
	if ((d = depend_unmet(p, &failed)) == NULL)
		return 0;
	if (p->state != PROC_WAITING)
		state_set(p, PROC_WAITING, "waiting for %s (%s)", d->display,
		    program_state_name(d->state));
	return 1;
}

/* spec §12: the pre_start hook first (hooks.c); E_HOOK when it ends. */
static void
state_pre_start(struct proc *p, const char *why)
{
	char *cause = NULL;
	int r;

	if ((r = hooks_pre_start(p, &cause)) == SPAWN_SHORT) {
		state_spawn_short(p, cause);
		return;
	}
	if (r == -1) {
		p->spawnerr = cause;
		state_set(p, PROC_FATAL, "%s", cause);
		return;
	}
	p->shortfails = 0;
	state_set_armed(p, PROC_STARTING, p->pc->hook_timeout > 0 ?
	    p->pc->hook_timeout : -1, "%s%spre_start", why ? why : "",
	    why ? ", " : "");
}

/* WHY, when given, says what led to this spawn in the transition's log. */
static void
state_spawn_pull(struct proc *p, const char *why, int pull)
{
	char *cause = NULL;
	int r;

	if (program_stopping_all)
		return;
	free(p->spawnerr);
	p->spawnerr = NULL;
	if (state_held(p, pull))
		return;
	/* the last run's post_stop, before this run's pre_start */
	if (p->post_stop_due)
		hooks_post_stop(p);
	if (p->pc->pre_start != NULL && !p->hook_passed) {
		state_pre_start(p, why);
		return;
	}
	p->hook_passed = 0;
	if ((r = spawn_proc(p, &cause)) == SPAWN_SHORT) {
		state_spawn_short(p, cause);
		return;
	}
	if (r == -1) {
		/* A spawn error is final: retrying a missing binary is a loop. */
		p->spawnerr = cause;
		state_set(p, PROC_FATAL, "%s", cause);
		return;
	}
	p->shortfails = 0;
	p->post_stop_due = 1;
	if (p->start_time > 0)
		p->restarts++;
	p->start_time = util_now();
	p->killed = 0;
	state_reset_run(p);
	program_pid_add(p->pid, p);
	if (why != NULL)
		state_set(p, PROC_STARTING, "%s", why);
	else
		state_set(p, PROC_STARTING, NULL);
	/*
	 * A notify program is up when it says so: ready_timeout bounds the
	 * wait for READY=1, startsecs does not judge it. A pidfile program's
	 * command is judged like any other until it exits (see
	 * state_handover()).
	 */
	if (p->pc->ready != READY_NONE) {
		if (p->start_deadline > 0)
			state_arm(p, p->pc->ready_timeout);
		return;
	}
	state_startsecs(p);
}

/* A spawn that is no start (a retry, a restart): no dependency pulled in. */
static void
state_spawn(struct proc *p, const char *why)
{
	state_spawn_pull(p, why, 0);
}

static int
state_a_spawn(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	if (arg->reset & STATE_RESET_TRIES) {
		p->startfails = 0;
		p->crashes = 0;
	}
	if (arg->reset & STATE_RESET_SHORT)
		p->shortfails = 0;
	state_spawn_pull(p, arg->why, 1);
	return 0;
}

/* ST_PRE_START: its pre_start ended (arg status, why). */
static int
state_a_hook_done(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	char *what;

	p->hook = NULL;		/* hooks.c frees it */
	if (arg->status == 0) {
		p->hook_passed = 1;
		state_spawn(p, NULL);
		return 0;
	}
	xasprintf(&what, "pre_start failed: %s", arg->why != NULL ?
	    arg->why : "exited with an error");
	state_start_failed(p, what);
	free(what);
	return 0;
}

/* ST_PRE_START: hook_timeout over; the hook is killed, a failed start. */
static int
state_a_hook_timeout(struct proc *p, enum state_event ev,
    struct state_arg *arg)
{
	char *what;

	hooks_cancel(p);
	xasprintf(&what, "pre_start still running after %gs: killed",
	    p->pc->hook_timeout);
	state_start_failed(p, what);
	free(what);
	return 0;
}

/* WAITING, and a dependency is up, done or failed (arg->dep). */
static int
state_a_deps(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	int failed;

	if (arg->dep != NULL && depend_failed(arg->dep)) {
		state_set(p, PROC_FATAL, "dependency %s failed",
		    arg->dep->display);
		return 0;
	}
	if (depend_unmet(p, &failed) != NULL && !failed)
		return 0;
	state_spawn(p, "dependencies up");
	return 0;
}

static int
state_a_retry(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	state_spawn(p, p->startfails > 0 || p->shortfails > 0 ?
	    "retry after a failed start" : "restart after backoff");
	return 0;
}

/* ---- stopping */

static void state_adopted(struct proc *);

/*
 * Sends SIG (the stop signal, or SIGKILL) and waits in STOPPING. WHY,
 * when given, says why tend stops it (a failure rather than a request).
 */
static void
state_enter_stopping(struct proc *p, int sig, const char *why)
{
	int group = p->pc->stopasgroup;

	if (p->reaped) {
		/* Gone already; its end comes once its output is in. */
		if (p->state != PROC_STOPPING)
			state_set(p, PROC_STOPPING, "exited already");
		return;
	}
	if (p->pid <= 0) {
		/*
		 * Between a launcher's exit and its pidfile: the daemon may
		 * be there already, and must not be left behind unwatched.
		 */
		if (p->pc->pidfile != NULL && adopt_pidfile(p))
			state_adopted(p);
		else {
			state_set(p, PROC_STOPPED, "%s before the pidfile "
			    "named a process", why != NULL ? why : "stopped");
			return;
		}
		if (p->pid <= 0)
			return;
	}
	if (sig == SIGKILL) {
		group = p->pc->killasgroup || p->pc->stopasgroup;
		p->killed = 1;
	}
	if (spawn_signal(p, sig, group) == -1)
		log_warn("%s: cannot send SIG%s to pid %ld: %s", p->display,
		    util_signal_name(sig), (long)p->pid, strerror(errno));
	/*
	 * A stopped process never acts on the stop signal until it runs
	 * again; it may have been stopped by tend's pause or from outside.
	 */
	if (sig != SIGKILL && sig != SIGCONT)
		spawn_signal(p, SIGCONT, group);
	if (p->state != PROC_STOPPING)
		state_set_armed(p, PROC_STOPPING, sig != SIGKILL ?
		    p->pc->stopwaitsecs : -1, "%s%sSIG%s sent",
		    why != NULL ? why : "", why != NULL ? "; " : "",
		    util_signal_name(sig));
	else if (sig != SIGKILL)
		state_arm(p, p->pc->stopwaitsecs);
}

static int
state_a_stop(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	state_enter_stopping(p, p->pc->stopsignal, arg->why);
	return 0;
}

static int
state_a_kill(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	state_enter_stopping(p, SIGKILL, NULL);
	return 0;
}

static int
state_a_cancel(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	if (p->hook != NULL) {
		/* ST_PRE_START: its pre_start goes, nothing was started */
		hooks_cancel(p);
		state_set(p, PROC_STOPPED, "pre_start cancelled (%s)",
		    state_event_names[ev]);
		return 0;
	}
	state_set(p, PROC_STOPPED, "%s", p->state == PROC_WAITING ?
	    state_unwait_why[ev] : state_cancel_why[ev]);
	return 0;
}

static int
state_a_escalate(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	log_warn("%s: still running %gs after SIG%s; sending SIGKILL",
	    p->display, p->pc->stopwaitsecs,
	    util_signal_name(p->pc->stopsignal));
	state_enter_stopping(p, SIGKILL, NULL);
	return 0;
}

/* ---- failures tend finds itself: not ready in time, a silent watchdog */

/* Stop it for WHY; its end is then judged as FAIL says. */
static void state_fail(struct proc *, enum proc_fail, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static void
state_fail(struct proc *p, enum proc_fail fail, const char *fmt, ...)
{
	va_list ap;

	free(p->fail_why);
	va_start(ap, fmt);
	xvasprintf(&p->fail_why, fmt, ap);
	va_end(ap);
	log_warn("%s: %s", p->display, p->fail_why);
	p->failing = fail;
	state_enter_stopping(p, p->pc->stopsignal, p->fail_why);
}

static int
state_a_watchdog(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	/* probe.c's health check, which failed too often, says why */
	if (arg->why != NULL)
		state_fail(p, FAIL_WATCHDOG, "%s", arg->why);
	else
		state_fail(p, FAIL_WATCHDOG, "watchdog timeout: no WATCHDOG=1 "
		    "for %gs", p->watchdog_secs);
	return 0;
}

/* WATCHDOG=trigger: the program knows it is broken; same as a timeout. */
static int
state_a_trigger(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	state_fail(p, p->state == PROC_RUNNING ? FAIL_WATCHDOG : FAIL_START,
	    "watchdog triggered by the program (WATCHDOG=trigger)");
	return 0;
}

static void
state_watchdog_cb(int fd, short ev, void *arg)
{
	state_event(arg, E_WATCHDOG, NULL);
}

/* (Re)arms the watchdog when P is RUNNING: a full watchdog_secs from now. */
void
state_watchdog_arm(struct proc *p)
{
	struct timeval tv;
	double secs = p->watchdog_secs;

	if (p->pc->ready != READY_NOTIFY || secs <= 0 ||
	    p->state != PROC_RUNNING) {
		if (p->watchdog != NULL)
			evtimer_del(p->watchdog);
		return;
	}
	if (p->watchdog == NULL &&
	    (p->watchdog = evtimer_new(tendd_base, state_watchdog_cb, p)) == NULL)
		fatal("cannot create a timer");
	tv = util_timeval(secs);
	evtimer_add(p->watchdog, &tv);
}

static int
state_a_ready(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	if (p->ready_seen)
		return state_a_late(p, ev, arg);
	p->ready_seen = 1;
	p->startfails = 0;
	/* a ready probe (probe.c) says which */
	state_set(p, PROC_RUNNING, "%s", arg->why != NULL ? arg->why :
	    "READY=1");
	return 0;
}

/* ---- pause, resume, signal */

static int
state_a_pause(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	if (program_stopping_all) {
		*arg->cause = xstrdup("tendd is shutting down");
		return -1;
	}
	if (spawn_signal(p, SIGSTOP, p->pc->stopasgroup) == -1) {
		xasprintf(arg->cause, "cannot send SIGSTOP to pid %ld: %s",
		    (long)p->pid, strerror(errno));
		return -1;
	}
	state_set(p, PROC_PAUSED, "SIGSTOP sent");
	return 0;
}

static int
state_a_resume(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	if (spawn_signal(p, SIGCONT, p->pc->stopasgroup) == -1) {
		xasprintf(arg->cause, "cannot send SIGCONT to pid %ld: %s",
		    (long)p->pid, strerror(errno));
		return -1;
	}
	state_set(p, PROC_RUNNING, "SIGCONT sent");
	return 0;
}

static int
state_a_signal(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	int sig = arg->sig;

	if (spawn_signal(p, sig, 0) == -1) {
		xasprintf(arg->cause, "cannot send SIG%s to pid %ld: %s",
		    util_signal_name(sig), (long)p->pid, strerror(errno));
		return -1;
	}
	log_info("%s: SIG%s sent (pid %ld)", p->display, util_signal_name(sig),
	    (long)p->pid);
	return 0;
}

/* ---- a launcher's daemon (pidfile), MAINPID= */

static void state_start_failed(struct proc *, const char *);

/* P now has its daemon: judge it as the process from here on. */
static void
state_adopted(struct proc *p)
{
	log_info("%s: supervising pid %ld from %s", p->display, (long)p->pid,
	    p->pc->pidfile);
	if (p->state == PROC_STARTING)
		state_startsecs(p);
	else if (p->state == PROC_STOPPING)
		state_enter_stopping(p, p->killed ? SIGKILL : p->pc->stopsignal,
		    NULL);
}

/* STARTING, launcher gone, no daemon yet: read again soon, or give up. */
static void
state_pidfile_wait(struct proc *p)
{
	double now = util_now(), wait = p->pidfile_poll;
	char *what;

	if (p->start_deadline > 0 && now >= p->start_deadline) {
		xasprintf(&what, "no process to supervise %gs after the "
		    "launcher exited (ready_timeout): %s", p->pc->ready_timeout,
		    p->pidfile_err ? p->pidfile_err : "no pidfile");
		state_start_failed(p, what);
		free(what);
		return;
	}
	if (p->start_deadline > 0 && p->start_deadline - now < wait)
		wait = p->start_deadline - now;
	/* Most daemons write it at once; a slow one is not read 20 times a second. */
	p->pidfile_poll = p->pidfile_poll * 2 > PIDFILE_POLL_MAX ?
	    PIDFILE_POLL_MAX : p->pidfile_poll * 2;
	state_arm(p, wait);
}

static int
state_a_poll(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	if (adopt_pidfile(p))
		state_adopted(p);
	else
		state_pidfile_wait(p);
	return 0;
}

/*
 * P's command (or the process it handed over to) was PID and has ended
 * with CODE; P has a pidfile. Whether the command was a launcher is
 * known only now: if the pidfile names a live child of tendd other than
 * PID (a daemon it left behind, reparented to tendd), that one is P's
 * process from now on. That holds for an exit with an expected code
 * while STARTING or RUNNING, and for any exit while stopping (the daemon
 * is then stopped too, never left behind). A command that exits with an
 * expected code while STARTING and names no such process yet is waited
 * for as a launcher (unless it was adopted itself): its pidfile is read
 * again until ready_timeout.
 * Returns 1 when P goes on with a process (or waits for one), 0 when
 * the end is P's end, as without a pidfile (a pidfile naming PID
 * itself: the command was the program).
 */
static int
state_handover(struct proc *p, pid_t pid, int code)
{
	int expected = config_exitcode_expected(p->pc, code);
	const char *how = code == 0 ? "exited" : expected ?
	    "exited as expected" : "ended";

	if (p->state != PROC_STOPPING && (!expected ||
	    (p->state != PROC_STARTING && p->state != PROC_RUNNING)))
		return 0;
	if (adopt_pidfile_names(p, pid))
		return 0;
	if (adopt_pidfile(p)) {
		log_info("%s: pid %ld %s and %s names pid %ld: %s",
		    p->display, (long)pid, how, p->pc->pidfile, (long)p->pid,
		    p->state == PROC_STOPPING ? "stopping it too" :
		    "it was a launcher");
		state_adopted(p);
		return 1;
	}
	/* An adopted daemon that exits is not a launcher. */
	if (p->state != PROC_STARTING || p->adopted || p->want != WANT_UP ||
	    program_stopping_all)
		return 0;
	log_info("%s: pid %ld %s before startsecs: a launcher; waiting for "
	    "%s", p->display, (long)pid, how, p->pc->pidfile);
	p->start_deadline = p->pc->ready_timeout > 0 ?
	    util_now() + p->pc->ready_timeout : 0;
	state_pidfile_wait(p);
	return 1;
}

/* MAINPID= named a child of the process that ended (PID): it carries on. */
static int
state_mainpid_next(struct proc *p, pid_t pid, int code)
{
	pid_t next = p->mainpid_next;
	char *cause = NULL;

	if (next <= 0)
		return 0;
	p->mainpid_next = 0;
	if (adopt_pid(p, next, "MAINPID=", &cause) == 0) {
		log_info("%s: pid %ld exited (%d); main pid is now %ld "
		    "(MAINPID=)", p->display, (long)pid, code, (long)next);
		if (p->state == PROC_STOPPING)
			state_enter_stopping(p, p->killed ? SIGKILL :
			    p->pc->stopsignal, NULL);
		return 1;
	}
	log_warn("%s: cannot follow MAINPID=%ld: %s", p->display, (long)next,
	    cause);
	free(cause);
	return 0;
}

/* ---- the timers of STARTING and of a job joined at shutdown */

/* The STARTING timer: startsecs or ready_timeout. */
static int
state_a_started(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	if (p->pc->ready == READY_NOTIFY && !p->ready_seen) {
		state_fail(p, FAIL_START, "not ready after ready_timeout=%gs "
		    "(no READY=1)", p->pc->ready_timeout);
		return 0;
	}
	if (p->pc->ready == READY_PROBE && !p->ready_seen) {
		state_fail(p, FAIL_START, "not ready after ready_timeout=%gs: "
		    "%s", p->pc->ready_timeout, probe_ready_error(p) != NULL ?
		    probe_ready_error(p) : "no try finished");
		return 0;
	}
	p->startfails = 0;
	state_set(p, PROC_RUNNING, NULL);
	return 0;
}

static int
state_a_joined(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	log_info("%s: not finished after joinsecs=%gs; stopping", p->display,
	    p->pc->joinsecs);
	state_enter_stopping(p, p->pc->stopsignal, NULL);
	return 0;
}

void
state_timer_cb(int fd, short ev, void *arg)
{
	state_event(arg, E_TIMER, NULL);
}

/* ---- the end of a process: exited, reaped, its output drained */

/*
 * A process stopped as a group (stopasgroup or killasgroup) leaves
 * nothing behind: when it has ended during a stop, what is left of its
 * group and session (a descendant that ignored the stop signal, or is
 * in a group of its own) is killed at once. tend has no handle to wait
 * on them with, and the stop signal has reached them already. Called
 * before the reap, so the group id cannot have changed hands. Not for an
 * adopted process (its session is not one tend made), a MAINPID=
 * handover, or a launcher whose pidfile names its daemon (stopped next,
 * as itself: see state_handover()).
 */
static int
state_a_groupkill(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	if (p->adopted || p->mainpid_next > 0 ||
	    !(p->pc->stopasgroup || p->pc->killasgroup) ||
	    (p->pc->pidfile != NULL && adopt_pidfile_names_other(p)))
		return 0;
	log_debug("%s: pid %ld ended; SIGKILL to what is left of its group",
	    p->display, (long)p->pid);
	spawn_signal(p, SIGKILL, 1);
	return 0;
}

static int
state_a_reap(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	int code = util_exitcode(arg->status);
	pid_t pid = p->pid;

	program_pid_del(pid);
	/* From here on the pid may belong to someone else: forget it. */
	log_debug("%s: pid %ld reaped, exit code %d", p->display, (long)pid,
	    code);
	p->last_pid = pid;
	p->pid = 0;
	reap_unwatch(p);
	if (p->pidfd != -1) {
		close(p->pidfd);
		p->pidfd = -1;
	}

	/* A launcher that did its job: its daemon is the process now. */
	if (p->pc->pidfile != NULL) {
		if (state_handover(p, pid, code))
			return 0;
		adopt_pidfile_remove(p, pid);
	}
	if (state_mainpid_next(p, pid, code))
		return 0;

	p->exitcode = code;
	p->has_exited = 1;
	/* spec §12: a SIGKILL the OOM killer sent (memory.events) */
	p->oom_killed = code == -SIGKILL && cgroup_proc_oom(p);
	/*
	 * The end is judged now (a STARTING process that died is a failed
	 * start even if its output takes a moment), and reported once its
	 * last output is in the log (output.c): the state is *_ENDED until.
	 */
	evtimer_del(p->timer);
	p->timer_due = 0;
	p->reaped = 1;
	if (output_reaped(p))
		state_event(p, E_DRAINED, NULL);
	return 0;
}

void
state_format_exit(char *buf, size_t len, int code)
{
	if (code < 0)
		snprintf(buf, len, "killed by SIG%s", util_signal_name(-code));
	else
		snprintf(buf, len, "exited with code %d", code);
}

/* How P's last run ended: as state_format_exit(), or an OOM kill. */
static void
state_format_end(const struct proc *p, char *buf, size_t len)
{
	if (p->oom_killed)
		snprintf(buf, len, "killed: out of memory");
	else
		state_format_exit(buf, len, p->exitcode);
}

/*
 * A start failed (WHAT says how: "exited with code 1 before
 * startsecs=1s"): retry after a backoff, or FATAL after startretries.
 */
static void
state_start_failed(struct proc *p, const char *what)
{
	const struct program_conf *pc = p->pc;
	double delay;

	if (p->want != WANT_UP || program_stopping_all) {
		state_set(p, p->has_exited ? PROC_EXITED : PROC_STOPPED,
		    "%s", what);
		return;
	}
	p->startfails++;
	if (pc->startretries >= 0 && p->startfails > pc->startretries) {
		state_set(p, PROC_FATAL, "%s; gave up after %d %s", what,
		    pc->startretries, pc->startretries == 1 ? "retry" :
		    "retries");
		return;
	}
	delay = program_backoff(pc, p->startfails);
	state_set_armed(p, PROC_BACKOFF, delay, "%s", what);
}

/*
 * It went down after it was up (HOW says how) and is to be restarted.
 * A crash loop never spins: each exit that comes before the process
 * stayed up backoff_reset seconds doubles the delay.
 */
static void
state_crashed(struct proc *p, const char *how)
{
	const struct program_conf *pc = p->pc;
	double uptime, delay;
	char *why;

	uptime = util_now() - p->running_time;
	if (uptime >= pc->backoff_reset)
		p->crashes = 0;
	p->crashes++;
	delay = program_crash_delay(pc, p->crashes);
	if (delay <= 0) {
		xasprintf(&why, "restart: %s", how);
		state_spawn(p, why);
		free(why);
		return;
	}
	state_set_armed(p, PROC_BACKOFF, delay, "%s", how);
}

/* Ended while STARTING: a job may finish before startsecs (success). */
static int
state_a_end_start(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	const struct program_conf *pc = p->pc;
	char how[64], *what;

	p->reaped = 0;
	state_format_end(p, how, sizeof(how));
	if (!pc->daemon && config_exitcode_expected(pc, p->exitcode)) {
		state_set(p, PROC_EXITED, "%s", how);
		return 0;
	}
	if (pc->ready != READY_NONE)
		xasprintf(&what, "%s before it was ready", how);
	else
		xasprintf(&what, "%s before startsecs=%gs", how, pc->startsecs);
	state_start_failed(p, what);
	free(what);
	return 0;
}

/* Ended while RUNNING or PAUSED: restarted as autorestart says. */
static int
state_a_end_run(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	const struct program_conf *pc = p->pc;
	int expected = config_exitcode_expected(pc, p->exitcode);
	int restart;
	char how[64];

	p->reaped = 0;
	state_format_end(p, how, sizeof(how));
	if (!pc->daemon)
		restart = !expected && pc->autorestart != AUTORESTART_FALSE;
	else if (pc->autorestart == AUTORESTART_TRUE)
		restart = 1;
	else if (pc->autorestart == AUTORESTART_UNEXPECTED)
		restart = !expected;
	else
		restart = 0;
	if (!restart || p->want != WANT_UP || program_stopping_all) {
		state_set(p, PROC_EXITED, "%s", how);
		return 0;
	}
	state_crashed(p, how);
	return 0;
}

/* Ended while STOPPING: down, unless tend stopped it for a failure. */
static int
state_a_end_stop(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	enum proc_fail fail = p->failing;
	char how[64], *what;

	p->reaped = 0;
	state_format_end(p, how, sizeof(how));
	p->failing = FAIL_NONE;
	/* tend stopped it for a failure: judge that, not a stop */
	if (fail != FAIL_NONE && p->want == WANT_UP && !program_stopping_all) {
		xasprintf(&what, "%s (%s)", p->fail_why, how);
		if (fail == FAIL_START)
			state_start_failed(p, what);
		else
			state_crashed(p, what);
		free(what);
		return 0;
	}
	state_set(p, PROC_STOPPED, "%s", how);
	/* Stopped for a reload: gone now, or on to its new settings. */
	if (p->removed) {
		reload_forget(p);
		return 0;
	}
	if (p->next_pc != NULL)
		reload_take_next(p);
	/* restart, or a start that came while it was stopping */
	if (p->want == WANT_UP && !program_stopping_all) {
		p->startfails = 0;
		p->crashes = 0;
		state_spawn_pull(p, "start requested while stopping", 1);
	}
	return 0;
}

/* ---- reload: a changed or removed program, and shutdown */

/*
 * Up (or STARTING without a process: its daemon may be running all the
 * same) and its config changed: stopped, then on to the new settings.
 */
static int
state_a_change_up(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	log_info("%s: config changed (%s): restarting", p->display, arg->why);
	reload_own_pc(p, arg->old);
	p->next_pc = arg->pc;
	/* A person's stop stands; anything else comes back up. */
	if (p->want != WANT_DOWN)
		p->want = WANT_UP;
	if (p->state != PROC_STOPPING)
		state_enter_stopping(p, p->pc->stopsignal, NULL);
	/* Nothing to stop after all: on to the new settings now. */
	if (!state_has_process(p)) {
		reload_take_next(p);
		if (p->want == WANT_UP)
			p->reload_start = 2;
	}
	return 0;
}

static int
state_a_change_idle(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	log_info("%s: config changed (%s)", p->display, arg->why);
	p->pc = arg->pc;
	if (p->want == WANT_UP || (p->want == WANT_NONE && arg->pc->autostart))
		p->reload_start = 2;
	return 0;
}

static int
state_a_remove_up(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	log_info("%s: removed from the config: stopping", p->display);
	reload_own_pc(p, arg->old);
	if (p->state != PROC_STOPPING)
		state_enter_stopping(p, p->pc->stopsignal, NULL);
	if (state_has_process(p))
		return 0;
	/* Nothing was running: forgotten now (its pc with it). */
	reload_forget(p);
	return 0;
}

static int
state_a_forget(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	if (p->hook != NULL)
		hooks_cancel(p);	/* ST_PRE_START */
	if (p->state == PROC_BACKOFF || p->state == PROC_WAITING ||
	    p->state == PROC_STARTING)
		state_set(p, PROC_STOPPED, "%s", state_cancel_why[ev]);
	reload_forget(p);
	return 0;
}

/* Shutdown: a job up is joined for joinsecs; a daemon waits its level. */
static int
state_a_join(struct proc *p, enum state_event ev, struct state_arg *arg)
{
	if (p->pc->daemon)
		return 0;
	log_info("%s: joining job for up to %gs", p->display, p->pc->joinsecs);
	/* PAUSED jobs would never finish: let them run again. */
	if (p->state == PROC_PAUSED) {
		spawn_signal(p, SIGCONT, 0);
		state_set(p, PROC_RUNNING, "resumed to be joined");
	}
	if (p->state == PROC_STARTING)
		state_set(p, PROC_RUNNING, "joined at shutdown");
	state_arm(p, p->pc->joinsecs);
	return 0;
}
