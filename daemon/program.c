/*
 * program.c: the processes as a whole: the list in start order, pid
 * lookup, the names status shows, what a person or a module asks of a
 * process (handed to the state machine, state.c, as events), the status
 * description, the shutdown order (reload.c changes the list).
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
#include "utf8.h"

struct procs procs = TAILQ_HEAD_INITIALIZER(procs);
/* How many are in procs: every proc_new() joins it, proc_free() leaves. */
int		 program_nprocs;

int		 program_stopping_all;	/* tendd is shutting down */
static int	 program_step_queued;	/* program_shutdown_step() is due */

/* pid -> proc, so a reap costs the same with 10 or 10000 processes. */
#define PIDHASH_SIZE	1024
struct pidslot {
	pid_t		 pid;
	struct proc	*p;
	struct pidslot	*next;
};
static struct pidslot	*pidhash[PIDHASH_SIZE];

static void	 program_shutdown_step(void);

void
program_pid_add(pid_t pid, struct proc *p)
{
	struct pidslot *s = xmalloc(sizeof(*s));

	s->pid = pid;
	s->p = p;
	s->next = pidhash[pid % PIDHASH_SIZE];
	pidhash[pid % PIDHASH_SIZE] = s;
}

void
program_pid_del(pid_t pid)
{
	struct pidslot **sp, *s;

	for (sp = &pidhash[pid % PIDHASH_SIZE]; (s = *sp) != NULL;
	    sp = &s->next) {
		if (s->pid == pid) {
			*sp = s->next;
			free(s);
			return;
		}
	}
}

struct proc *
program_find_pid(pid_t pid)
{
	struct pidslot *s;

	if (pid <= 0)
		return NULL;
	for (s = pidhash[pid % PIDHASH_SIZE]; s != NULL; s = s->next)
		if (s->pid == pid)
			return s->p;
	return NULL;
}

/*
 * Processes are kept in start order: by their group's priority, then
 * their own (low first), then by name. A program in no [group:] has its
 * own priority as its group's.
 */
static int
proc_level_cmp(const struct proc *a, const struct proc *b)
{
	if (a->pc->group_priority != b->pc->group_priority)
		return a->pc->group_priority < b->pc->group_priority ? -1 : 1;
	if (a->pc->priority != b->pc->priority)
		return a->pc->priority < b->pc->priority ? -1 : 1;
	/* listeners start before their level and stop after it (spec §10) */
	if (a->pc->listener != b->pc->listener)
		return a->pc->listener ? -1 : 1;
	return 0;
}

static int
proc_order_cmp(const void *x, const void *y)
{
	const struct proc *a = *(struct proc *const *)x;
	const struct proc *b = *(struct proc *const *)y;
	int c;

	if ((c = proc_level_cmp(a, b)) != 0)
		return c;
	return strcmp(a->fullname, b->fullname);
}

struct proc **
program_array(size_t *np)
{
	struct proc **all, *p;
	size_t n = 0;

	TAILQ_FOREACH(p, &procs, entry)
		n++;
	all = xcalloc(n + 1, sizeof(*all));
	n = 0;
	TAILQ_FOREACH(p, &procs, entry)
		all[n++] = p;
	*np = n;
	return all;
}

/* After priorities may have changed: the list in start order again. */
void
program_sort(void)
{
	struct proc **all;
	size_t i, n;

	all = program_array(&n);
	qsort(all, n, sizeof(*all), proc_order_cmp);
	TAILQ_INIT(&procs);
	for (i = 0; i < n; i++)
		TAILQ_INSERT_TAIL(&procs, all[i], entry);
	free(all);
}

static int
display_slot_cmp(const void *x, const void *y)
{
	const struct display_slot *a = x, *b = y;

	return strcmp(a->group, b->group);
}

/*
 * As supervisorctl shows names: PROCESS when it is alone in a group of
 * its own name, GROUP:PROCESS otherwise. The one place the rule is
 * written: for the processes (groups change with reloads) and for a
 * config a reload would load. Sorts ALL by group.
 */
void
program_display_rule(struct display_slot *all, size_t n)
{
	size_t i, j, k;

	qsort(all, n, sizeof(*all), display_slot_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && strcmp(all[i].group,
		    all[j].group) == 0; j++)
			;
		for (k = i; k < j; k++)
			all[k].bare = j - i == 1 &&
			    strcmp(all[k].group, all[k].name) == 0;
	}
}

void
program_update_display(void)
{
	struct proc **all;
	struct display_slot *slots;
	size_t i, n;

	all = program_array(&n);
	slots = xcalloc(n + 1, sizeof(*slots));
	for (i = 0; i < n; i++)
		slots[i] = (struct display_slot){ all[i]->group, all[i]->name,
		    i, 0 };
	program_display_rule(slots, n);
	for (i = 0; i < n; i++) {
		struct proc *p = all[slots[i].idx];

		p->display = slots[i].bare ? p->name : p->fullname;
	}
	free(slots);
	free(all);
}

struct proc *
program_new(struct program_conf *pc)
{
	struct proc *p = xcalloc(1, sizeof(*p));

	p->pc = pc;
	p->name = xstrdup(pc->name);
	p->group = xstrdup(pc->group);
	xasprintf(&p->fullname, "%s:%s", p->group, p->name);
	p->display = p->fullname;
	p->state = PROC_NEW;
	p->want = WANT_NONE;
	p->pidfd = -1;
	p->state_time = util_now();
	p->state_wall = util_wallclock();
	p->timer = evtimer_new(tendd_base, state_timer_cb, p);
	if (p->timer == NULL)
		fatal("cannot create a timer");
	program_nprocs++;
	if (pc->listener)
		listener_proc_sync(p);
	return p;
}

void
program_setup(struct tend_conf *conf)
{
	struct program_conf *pc;
	struct proc *p;

	sockets_apply(conf);	/* bound before the first start */
	TAILQ_FOREACH(pc, &conf->programs, entry) {
		p = program_new(pc);
		TAILQ_INSERT_TAIL(&procs, p, entry);
	}
	program_sort();
	program_update_display();
	depend_build();
}

void
program_autostart(void)
{
	struct state_arg a = { .why = "autostart" };
	struct proc *p;

	/* procs is in priority order, so low priorities spawn first. */
	TAILQ_FOREACH(p, &procs, entry) {
		if (p->pc->autostart && p->state == PROC_NEW) {
			p->want = WANT_UP;
			state_event(p, E_START, &a);
		}
	}
}
/* command.c's name for state_has_process(). */
int
program_is_up(const struct proc *p)
{
	return state_has_process(p);
}

int
program_all_down(void)
{
	struct proc *p;

	TAILQ_FOREACH(p, &procs, entry)
		if (program_is_up(p))
			return 0;
	return 1;
}

void
program_count(int counts[PROC_NSTATES])
{
	struct proc *p;

	memset(counts, 0, sizeof(int) * PROC_NSTATES);
	TAILQ_FOREACH(p, &procs, entry)
		counts[p->state]++;
}


double
program_backoff(const struct program_conf *pc, int n)
{
	double d;

	if (n < 1)
		n = 1;
	d = n > 62 ? INFINITY : ldexp(1.0, n - 1);
	if (d > pc->backoff_max)
		d = pc->backoff_max;
	return d;
}

double
program_crash_delay(const struct program_conf *pc, int crashes)
{
	double d = pc->restart_delay;

	if (crashes > 1 && program_backoff(pc, crashes - 1) > d)
		d = program_backoff(pc, crashes - 1);
	return d;
}


/* ---- what others ask of a process: events for the machine (state.c) */

int
program_start(struct proc *p, char **cause)
{
	struct state_arg a = { .why = "start requested",
	    .reset = STATE_RESET_TRIES | STATE_RESET_SHORT, .cause = cause };

	if (program_stopping_all) {
		*cause = xstrdup("tendd is shutting down");
		return -1;
	}
	if (p->removed) {
		/* It goes away once stopped; a reload may bring it back. */
		xasprintf(cause, "%s was removed from the config", p->display);
		return -1;
	}
	/* a person's start is a fresh series of tries */
	p->want = WANT_UP;
	return state_event(p, E_START, &a);
}

/* tendctl stop: what depends on P first (depend.c). */
int
program_stop_tree(struct proc *p, char **cause)
{
	return depend_stop(p, cause);
}

int
program_stop(struct proc *p, char **cause)
{
	struct state_arg a = { .cause = cause };

	p->want = WANT_DOWN;
	return state_event(p, E_STOP, &a);
}

int
program_kill(struct proc *p, char **cause)
{
	struct state_arg a = { .cause = cause };

	p->want = WANT_DOWN;
	return state_event(p, E_KILL, &a);
}

/*
 * pause/resume: SIGSTOP/SIGCONT, to the process group when the program
 * is stopped as a group (it is one unit then). Only a RUNNING process is
 * paused: STARTING has its startsecs timer to keep, and during shutdown
 * a paused job could never be joined.
 */
int
program_pause(struct proc *p, char **cause)
{
	struct state_arg a = { .cause = cause };

	return state_event(p, E_PAUSE, &a);
}

int
program_resume(struct proc *p, char **cause)
{
	struct state_arg a = { .cause = cause };

	return state_event(p, E_RESUME, &a);
}

int
program_signal(struct proc *p, int sig, char **cause)
{
	struct state_arg a = { .sig = sig, .cause = cause };

	/* STOP and CONT change what the state must say. */
	if (sig == SIGSTOP)
		return program_pause(p, cause);
	if (sig == SIGCONT && p->state == PROC_PAUSED)
		return program_resume(p, cause);
	return state_event(p, E_SIGNAL, &a);
}

void
program_exited(struct proc *p)
{
	state_event(p, E_EXITED, NULL);
}

void
program_reaped(struct proc *p, int status)
{
	struct state_arg a = { .status = status };

	state_event(p, E_REAPED, &a);
}

void
program_output_done(struct proc *p)
{
	state_event(p, E_DRAINED, NULL);
}

/* ---- what a ready = notify process says (notify.c) */

void
program_notify_ready(struct proc *p)
{
	state_event(p, E_READY, NULL);
}

void
program_notify_watchdog(struct proc *p)
{
	if (p->state == PROC_RUNNING)
		state_watchdog_arm(p);
}

void
program_notify_watchdog_trigger(struct proc *p)
{
	state_event(p, E_TRIGGER, NULL);
}

/* WATCHDOG_USEC=: the program sets its own timeout (0 turns it off). */
void
program_notify_watchdog_usec(struct proc *p, uint64_t usec)
{
	p->watchdog_secs = (double)usec / 1e6;
	log_info("%s: watchdog set to %gs by the program", p->display,
	    p->watchdog_secs);
	state_watchdog_arm(p);
}

void
program_notify_status(struct proc *p, const char *text)
{
	free(p->notify_status);
	p->notify_status = text[0] != '\0' ? xstrdup(text) : NULL;
}

int
program_notify_mainpid(struct proc *p, pid_t pid, char **cause)
{
	return adopt_mainpid(p, pid, cause);
}

/* "exit 3" or "exit -9 (SIGKILL)": the spec's code, and for people the name. */
static void
proc_format_code(char *buf, size_t len, int code)
{
	if (code < 0)
		snprintf(buf, len, "exit %d (SIG%s)", code,
		    util_signal_name(-code));
	else
		snprintf(buf, len, "exit %d", code);
}

/* STARTING: what it waits for. */
static void
program_describe_starting(const struct proc *p, char *buf, size_t len,
    double left)
{
	if (p->pid <= 0 && p->hook != NULL)	/* spec §12 */
		snprintf(buf, len, "starting, running pre_start");
	else if (p->pid <= 0)
		snprintf(buf, len, "starting, waiting for %s%s%s",
		    p->pc->pidfile ? p->pc->pidfile : "a process",
		    p->pidfile_err ? ": " : "",
		    p->pidfile_err ? p->pidfile_err : "");
	else if (p->pc->ready == READY_NOTIFY)
		snprintf(buf, len, "pid %ld, starting, waiting for "
		    "READY=1%s%s", (long)p->pid,
		    p->notify_status ? ": " : "",
		    p->notify_status ? p->notify_status : "");
	else if (p->pc->ready == READY_PROBE)
		snprintf(buf, len, "pid %ld, starting, waiting for %s%s%s",
		    (long)p->pid, p->pc->ready_spec,
		    probe_ready_error(p) ? ": " : "",
		    probe_ready_error(p) ? probe_ready_error(p) : "");
	else if (p->timer_due > 0)
		snprintf(buf, len, "pid %ld, starting; RUNNING in %.0fs",
		    (long)p->pid, ceil(left));
	else
		snprintf(buf, len, "pid %ld, starting", (long)p->pid);
}

/* BACKOFF: why, and when the next try comes. */
static void
program_describe_backoff(const struct proc *p, char *buf, size_t len,
    char *how, size_t howlen, double left)
{
	/* tend's own verdict (not ready, watchdog) says more */
	if (p->fail_why != NULL)
		snprintf(how, howlen, "%s", p->fail_why);
	/* a start the machine could not make: as long as it takes */
	if (p->shortfails > 0 && p->spawnerr != NULL)
		snprintf(buf, len, "%s; retry %d in %.0fs", p->spawnerr,
		    p->shortfails, ceil(left));
	else if (p->startfails > 0 && p->pc->startretries >= 0)
		snprintf(buf, len, "%s; retry %d of %d in %.0fs", how,
		    p->startfails, p->pc->startretries, ceil(left));
	else if (p->startfails > 0)
		snprintf(buf, len, "%s; retry %d in %.0fs", how,
		    p->startfails, ceil(left));
	else
		snprintf(buf, len, "%s; restart in %.0fs", how,
		    ceil(left));
}

void
program_describe(const struct proc *p, char *buf, size_t len)
{
	char dur[64], how[256];
	double now = util_now(), left;

	left = p->timer_due > now ? p->timer_due - now : 0;
	if (p->has_exited)
		state_format_exit(how, sizeof(how), p->exitcode);
	else
		how[0] = '\0';

	if (p->reaped) {
		snprintf(buf, len, "%s; reading its last output", how);
		return;
	}
	switch (p->state) {
	case PROC_NEW:
		snprintf(buf, len, "not started%s", p->pc->autostart ? "" :
		    p->sched != NULL ? " yet" : " (autostart = false)");
		break;
	case PROC_STARTING:
		program_describe_starting(p, buf, len, left);
		break;
	case PROC_RUNNING:
		util_format_duration(dur, sizeof(dur), now - p->running_time);
		/* only when not healthy (probe.c) */
		probe_describe_health(p, how, sizeof(how));
		snprintf(buf, len, "pid %ld, uptime %s%s%s%s", (long)p->pid, dur,
		    p->notify_status ? ", " : "",
		    p->notify_status ? p->notify_status : "", how);
		break;
	case PROC_PAUSED:
		util_format_duration(dur, sizeof(dur), now - p->running_time);
		snprintf(buf, len, "pid %ld, paused, uptime %s", (long)p->pid,
		    dur);
		break;
	case PROC_STOPPING:
		if (p->killed || p->timer_due == 0)
			snprintf(buf, len, "pid %ld, SIGKILL sent", (long)p->pid);
		else
			snprintf(buf, len, "pid %ld, stopping; SIGKILL in %.0fs",
			    (long)p->pid, ceil(left));
		break;
	case PROC_STOPPED:
	case PROC_EXITED:
		util_format_duration(dur, sizeof(dur), now - p->state_time);
		if (p->has_exited) {
			if (p->oom_killed)	/* spec §12 */
				snprintf(how, sizeof(how), "killed: out of memory");
			else
				proc_format_code(how, sizeof(how), p->exitcode);
			snprintf(buf, len, "%s, %s ago", how, dur);
		} else
			snprintf(buf, len, "stopped %s ago", dur);
		break;
	case PROC_BACKOFF:
		program_describe_backoff(p, buf, len, how, sizeof(how), left);
		break;
	case PROC_FATAL:
		snprintf(buf, len, "%s", p->spawnerr ? p->spawnerr :
		    p->reason ? p->reason : "failed");
		break;
	case PROC_WAITING: {
		/* the dependency it waits for now, in its state now */
		struct proc *d;
		int failed;

		if ((d = depend_unmet((struct proc *)p, &failed)) != NULL)
			snprintf(buf, len, "waiting for %s (%s)", d->display,
			    program_state_name(d->state));
		else
			snprintf(buf, len, "waiting for its dependencies");
		break;
	}
	}
	/* spec §12: "exit 0, 0:03:12 ago; next 12:00", "...; disabled" */
	if (p->sched != NULL && !program_is_up(p))
		schedule_describe(p, buf + strlen(buf), len - strlen(buf));
	if (!program_is_up(p) && persist_is_disabled(p))
		snprintf(buf + strlen(buf), len - strlen(buf), "; disabled");
}

void
program_describe_text(const struct proc *p, char *buf, size_t len)
{
	char raw[1024];
	size_t n;

	program_describe(p, raw, sizeof(raw));
	n = strlen(raw);
	utf8_clean(buf, len, raw, n, n == sizeof(raw) - 1 ? UTF8_WASCUT : 0);
}

/*
 * Shutdown order: services stop by priority, highest first, each level
 * after the one above it is down; jobs are joined meanwhile, each for its
 * own joinsecs, then stopped like a service. A service that something
 * still up depends on is not of any level yet (depends_on orders before
 * priority): it stops in the first step after its dependents are down.
 */
static void
program_shutdown_step(void)
{
	struct proc *p, *level = NULL;

	TAILQ_FOREACH(p, &procs, entry) {
		/* a level is still stopping: wait for it */
		if (p->pc->daemon && p->shutdown_stop && program_is_up(p))
			return;
	}
	TAILQ_FOREACH_REVERSE(p, &procs, procs, entry) {
		if (p->pc->daemon && program_is_up(p) && !p->shutdown_stop &&
		    !depend_dependents_up(p)) {
			level = p;
			break;
		}
	}
	/* a listener first takes what its pool holds (listener.c) */
	if (level != NULL && level->lsn != NULL && listener_holds(level))
		return;
	if (level != NULL) {
		TAILQ_FOREACH_REVERSE(p, &procs, procs, entry) {
			if (p->pc->daemon && program_is_up(p) &&
			    !p->shutdown_stop && !depend_dependents_up(p) &&
			    proc_level_cmp(p, level) == 0) {
				p->shutdown_stop = 1;
				state_event(p, E_LEVEL, NULL);
			}
		}
		return;
	}
	if (program_all_down())
		tendd_all_stopped();
}

static void
program_step_cb(int fd, short ev, void *arg)
{
	program_step_queued = 0;
	program_shutdown_step();
}

/*
 * A transition during shutdown: the next step is taken from the loop,
 * not inside the transition, so whoever changed a state finds it as
 * they left it. Several transitions in a row make one step.
 */
void
program_shutdown_progress(void)
{
	static const struct timeval now = { 0, 0 };

	if (program_step_queued)
		return;
	if (event_base_once(tendd_base, -1, EV_TIMEOUT, program_step_cb, NULL,
	    &now) == -1)
		fatal("cannot schedule the shutdown's next step");
	program_step_queued = 1;
}

void
program_shutdown(void)
{
	struct state_arg a = { .why = "tendd is shutting down" };
	struct proc *p;

	if (program_stopping_all)
		return;
	program_stopping_all = 1;
	sevent_supervisor(1);
	TAILQ_FOREACH(p, &procs, entry) {
		p->want = WANT_DOWN;
		state_event(p, E_SHUTDOWN, &a);
	}
	program_shutdown_step();
}

void
program_free(struct proc *p)
{
	program_nprocs--;
	listener_proc_free(p);
	depend_detach(p);
	if (p->timer != NULL)
		event_free(p->timer);
	if (p->watchdog != NULL)
		event_free(p->watchdog);
	free(p->fail_why);
	free(p->held_why);
	free(p->notify_status);
	free(p->pidfile_err);
	probe_free(p);
	reap_unwatch(p);
	if (p->pidfd != -1)
		close(p->pidfd);
	output_free(p);
	cgroup_proc_free(p);
	if (p->pc_owned)
		config_program_free(p->pc);
	free(p->name);
	free(p->group);
	free(p->fullname);
	free(p->spawnerr);
	free(p->reason);
	free(p);
}

void
program_free_all(void)
{
	struct proc *p;
	size_t i;

	while ((p = TAILQ_FIRST(&procs)) != NULL) {
		TAILQ_REMOVE(&procs, p, entry);
		program_free(p);
	}
	for (i = 0; i < PIDHASH_SIZE; i++) {
		while (pidhash[i] != NULL) {
			struct pidslot *s = pidhash[i];

			pidhash[i] = s->next;
			free(s);
		}
	}
}
