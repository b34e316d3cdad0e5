/*
 * sevents.c: supervisord's events (spec §10) as its listeners read them:
 * the type names and their supertypes (a listener subscribed to
 * PROCESS_STATE gets every PROCESS_STATE_*), the payloads byte for byte
 * as supervisor/events.py writes them, the supervisord state a tend
 * state is announced as, and the TICK_* timer. What is built goes to
 * listener.c's pools; nothing is built when no pool wants the type.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "tendd.h"

static const char *const sevent_names[SEV_NTYPES] = {
	[SEV_STATE_STOPPED] = "PROCESS_STATE_STOPPED",
	[SEV_STATE_EXITED] = "PROCESS_STATE_EXITED",
	[SEV_STATE_STARTING] = "PROCESS_STATE_STARTING",
	[SEV_STATE_STOPPING] = "PROCESS_STATE_STOPPING",
	[SEV_STATE_BACKOFF] = "PROCESS_STATE_BACKOFF",
	[SEV_STATE_FATAL] = "PROCESS_STATE_FATAL",
	[SEV_STATE_RUNNING] = "PROCESS_STATE_RUNNING",
	[SEV_STATE_UNKNOWN] = "PROCESS_STATE_UNKNOWN",
	[SEV_LOG_STDOUT] = "PROCESS_LOG_STDOUT",
	[SEV_LOG_STDERR] = "PROCESS_LOG_STDERR",
	[SEV_COMM_STDOUT] = "PROCESS_COMMUNICATION_STDOUT",
	[SEV_COMM_STDERR] = "PROCESS_COMMUNICATION_STDERR",
	[SEV_REMOTE] = "REMOTE_COMMUNICATION",
	[SEV_SUPERVISOR_RUNNING] = "SUPERVISOR_STATE_CHANGE_RUNNING",
	[SEV_SUPERVISOR_STOPPING] = "SUPERVISOR_STATE_CHANGE_STOPPING",
	[SEV_TICK_5] = "TICK_5",
	[SEV_TICK_60] = "TICK_60",
	[SEV_TICK_3600] = "TICK_3600",
	[SEV_GROUP_ADDED] = "PROCESS_GROUP_ADDED",
	[SEV_GROUP_REMOVED] = "PROCESS_GROUP_REMOVED",
};

#define RANGE(a, b)	((SEV_BIT((b) + 1) - 1) & ~(SEV_BIT(a) - 1))

/* supervisord's abstract types: a subscription to one is to these. */
static const struct {
	const char		*name;
	unsigned long long	 mask;
} sevent_supertypes[] = {
	{ "EVENT", RANGE(0, SEV_NTYPES - 1) },
	{ "PROCESS_STATE", RANGE(SEV_STATE_STOPPED, SEV_STATE_UNKNOWN) },
	{ "PROCESS_LOG", RANGE(SEV_LOG_STDOUT, SEV_LOG_STDERR) },
	{ "PROCESS_COMMUNICATION", RANGE(SEV_COMM_STDOUT, SEV_COMM_STDERR) },
	{ "SUPERVISOR_STATE_CHANGE",
	    RANGE(SEV_SUPERVISOR_RUNNING, SEV_SUPERVISOR_STOPPING) },
	{ "TICK", RANGE(SEV_TICK_5, SEV_TICK_3600) },
	{ "PROCESS_GROUP", RANGE(SEV_GROUP_ADDED, SEV_GROUP_REMOVED) },
};

/*
 * The supervisord state a tend state is announced as; -1: none of its
 * own (NEW is supervisord's STOPPED before a first start; WAITING and
 * PAUSED are tend's, and a process in them stays what it was).
 */
static const int sevent_of_state[PROC_NSTATES] = {
	[PROC_NEW] = -1,
	[PROC_STARTING] = SEV_STATE_STARTING,
	[PROC_RUNNING] = SEV_STATE_RUNNING,
	[PROC_PAUSED] = -1,
	[PROC_STOPPING] = SEV_STATE_STOPPING,
	[PROC_STOPPED] = SEV_STATE_STOPPED,
	[PROC_EXITED] = SEV_STATE_EXITED,
	[PROC_BACKOFF] = SEV_STATE_BACKOFF,
	[PROC_FATAL] = SEV_STATE_FATAL,
	[PROC_WAITING] = -1,
};

const char *
sevent_name(enum sevent_type t)
{
	return sevent_names[t];
}

int
sevent_parse_types(const char *list, unsigned long long *mask, char **why)
{
	char *copy = xstrdup(list), *tok, *save = NULL;
	size_t i;
	int found;

	*mask = 0;
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		found = 0;
		for (i = 0; i < SEV_NTYPES && !found; i++)
			if (strcmp(tok, sevent_names[i]) == 0) {
				*mask |= SEV_BIT(i);
				found = 1;
			}
		for (i = 0; i < nitems(sevent_supertypes) && !found; i++)
			if (strcmp(tok, sevent_supertypes[i].name) == 0) {
				*mask |= sevent_supertypes[i].mask;
				found = 1;
			}
		if (!found) {
			xasprintf(why, "unknown event type %s", tok);
			free(copy);
			return -1;
		}
	}
	free(copy);
	if (*mask == 0) {
		*why = xstrdup("no event type (such as events = PROCESS_STATE)");
		return -1;
	}
	return 0;
}

/* supervisord's name of what a process was: NEW is its STOPPED. */
static const char *
sevent_state_word(int sev)
{
	return sev < 0 ? "STOPPED" : sevent_names[sev] +
	    strlen("PROCESS_STATE_");
}

/*
 * A state change, as supervisord's ProcessStateEvent writes it: the
 * extra values it adds for each type (tries, expected, pid).
 */
static void sevent_state_announce(struct proc *, int from, int to);

void
sevent_state_changed(struct proc *p, enum proc_state old)
{
	int to = sevent_of_state[p->state], from;

	(void)old;
	if (to < 0)
		return;
	from = p->sv_state > 0 ? p->sv_state - 1 : -1;
	if (from == to)
		return;
	/*
	 * supervisord reaches FATAL only from BACKOFF (a last failed start
	 * is a BACKOFF it gives up); tend's STARTING -> FATAL is announced
	 * as those two.
	 */
	if (to == SEV_STATE_FATAL && from != SEV_STATE_BACKOFF) {
		sevent_state_announce(p, from, SEV_STATE_BACKOFF);
		from = SEV_STATE_BACKOFF;
	}
	p->sv_state = to + 1;
	sevent_state_announce(p, from, to);
}

static void
sevent_state_announce(struct proc *p, int from, int to)
{
	char *buf, extra[64] = "";
	pid_t pid;
	int n;

	if (!listener_wanted(to))
		return;
	pid = p->pid > 0 ? p->pid : p->last_pid;
	switch (to) {
	case SEV_STATE_STARTING:
	case SEV_STATE_BACKOFF:
		snprintf(extra, sizeof(extra), " tries:%d", p->startfails);
		break;
	case SEV_STATE_EXITED:
		snprintf(extra, sizeof(extra), " expected:%d pid:%ld",
		    p->has_exited && config_exitcode_expected(p->pc,
		    p->exitcode), (long)pid);
		break;
	case SEV_STATE_STOPPED:
		/* after a stop, the pid that ended; else supervisord's 0 */
		snprintf(extra, sizeof(extra), " pid:%ld",
		    from == SEV_STATE_STOPPING ? (long)pid : 0L);
		break;
	case SEV_STATE_RUNNING:
	case SEV_STATE_STOPPING:
		snprintf(extra, sizeof(extra), " pid:%ld", (long)pid);
		break;
	}
	n = xasprintf(&buf, "processname:%s groupname:%s from_state:%s%s",
	    p->name, p->group, sevent_state_word(from), extra);
	listener_notify(to, buf, (size_t)n);
	free(buf);
}

void
sevent_log(struct proc *p, enum output_stream which, const char *data,
    size_t len)
{
	enum sevent_type t = which == OUTPUT_STDOUT ? SEV_LOG_STDOUT :
	    SEV_LOG_STDERR;
	char *buf;
	int n;

	if (len == 0 || !listener_wanted(t))
		return;
	n = xasprintf(&buf, "processname:%s groupname:%s pid:%ld "
	    "channel:%s\n", p->name, p->group, (long)(p->pid > 0 ? p->pid :
	    p->last_pid), which == OUTPUT_STDOUT ? "stdout" : "stderr");
	buf = xrealloc(buf, (size_t)n + len);
	memcpy(buf + n, data, len);
	listener_notify(t, buf, (size_t)n + len);
	free(buf);
}

void
sevent_supervisor(int stopping)
{
	enum sevent_type t = stopping ? SEV_SUPERVISOR_STOPPING :
	    SEV_SUPERVISOR_RUNNING;

	if (listener_wanted(t))
		listener_notify(t, "", 0);
}

void
sevent_group(const char *group, int added)
{
	enum sevent_type t = added ? SEV_GROUP_ADDED : SEV_GROUP_REMOVED;
	char *buf;
	int n;

	if (!listener_wanted(t))
		return;
	n = xasprintf(&buf, "groupname:%s\n", group);
	listener_notify(t, buf, (size_t)n);
	free(buf);
}

void
sevent_remote(const char *type, const char *data)
{
	char *buf;
	int n;

	if (!listener_wanted(SEV_REMOTE))
		return;
	n = xasprintf(&buf, "type:%s\n%s", type, data);
	listener_notify(SEV_REMOTE, buf, (size_t)n);
	free(buf);
}

/*
 * TICK_N fires when the wall clock crosses a multiple of N seconds,
 * with that multiple as `when` (supervisord's timeslice): one timer at
 * the next multiple of 5, which is also where 60 and 3600 fall.
 */
static struct event *sevent_tick_ev;
static long long sevent_last[3] = { -1, -1, -1 };

static void
sevent_tick_schedule(void)
{
	double now = util_wallclock(), next = ((long long)(now / 5) + 1) * 5.0;
	struct timeval tv;

	tv.tv_sec = (time_t)(next - now);
	tv.tv_usec = (suseconds_t)(((next - now) - (double)tv.tv_sec) * 1e6);
	evtimer_add(sevent_tick_ev, &tv);
}

static void
sevent_tick_cb(int fd, short ev, void *arg)
{
	static const int periods[3] = { 5, 60, 3600 };
	/* a timer a little early still names the boundary it was set for */
	long long now = (long long)(util_wallclock() + 0.5), slice;
	char buf[64];
	int i, n;

	for (i = 0; i < 3; i++) {
		slice = now - now % periods[i];
		if (slice == sevent_last[i])
			continue;
		sevent_last[i] = slice;
		if (!listener_wanted(SEV_TICK_5 + i))
			continue;
		n = snprintf(buf, sizeof(buf), "when:%lld", slice);
		listener_notify(SEV_TICK_5 + i, buf, (size_t)n);
	}
	sevent_tick_schedule();
}

/* From the first listener on: every 5 s, whatever subscribes. */
void
sevent_ticks_arm(void)
{
	long long now;
	int i;
	static const int periods[3] = { 5, 60, 3600 };

	if (sevent_tick_ev != NULL)
		return;
	sevent_tick_ev = evtimer_new(tendd_base, sevent_tick_cb, NULL);
	if (sevent_tick_ev == NULL)
		fatal("cannot create a timer");
	now = (long long)util_wallclock();
	for (i = 0; i < 3; i++)
		sevent_last[i] = now - now % periods[i];
	sevent_tick_schedule();
}

/* Is GROUP the group of one of V[0..n)? */
static int
sevent_seen(const char **v, size_t n, const char *group)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], group) == 0)
			return 1;
	return 0;
}

/*
 * At start, as supervisord adds its groups before it runs: each group's
 * PROCESS_GROUP_ADDED in start order, then SUPERVISOR_STATE_CHANGE_RUNNING.
 */
void
sevent_startup(void)
{
	const char **seen;
	struct proc *p;
	size_t n = 0;

	if (listener_wanted(SEV_GROUP_ADDED)) {
		seen = xcalloc((size_t)program_nprocs + 1, sizeof(*seen));
		TAILQ_FOREACH(p, &procs, entry) {
			if (sevent_seen(seen, n, p->group))
				continue;
			seen[n++] = p->group;
			sevent_group(p->group, 1);
		}
		free(seen);
	}
	sevent_supervisor(0);
}

static const char **
sevent_groups_of(struct tend_conf *conf, size_t *np)
{
	struct program_conf *pc;
	const char **v;
	size_t n = 0;

	v = xcalloc((size_t)conf->nprocs + 1, sizeof(*v));
	TAILQ_FOREACH(pc, &conf->programs, entry)
		if (!sevent_seen(v, n, pc->group))
			v[n++] = pc->group;
	*np = n;
	return v;
}

/*
 * A reload: the groups it removes (ADDED false, before anything moves),
 * or those it adds (after their processes, a new listener's pool among
 * them, exist: a new listener hears of its own group, as under
 * supervisord).
 */
void
sevent_reload(struct tend_conf *old, struct tend_conf *new, int added)
{
	const char **a, **b;
	size_t na, nb, i;

	if (!listener_wanted(SEV_GROUP_ADDED) &&
	    !listener_wanted(SEV_GROUP_REMOVED))
		return;
	a = sevent_groups_of(old, &na);
	b = sevent_groups_of(new, &nb);
	for (i = 0; i < na && !added; i++)
		if (!sevent_seen(b, nb, a[i]))
			sevent_group(a[i], 0);
	for (i = 0; i < nb && added; i++)
		if (!sevent_seen(a, na, b[i]))
			sevent_group(b[i], 1);
	free(a);
	free(b);
}
