/*
 * program.c: the per-process state machine (spec §1). Every transition
 * goes through proc_set_state(), which owns the state timer, the log line
 * and the broadcast to waiters. What a person asked for (want) is kept
 * apart from what is happening (state), so a user's stop is never
 * followed by a restart. Readiness is judged here too: startsecs, a
 * READY=1 (ready = notify, with its watchdog); with a pidfile, the daemon
 * a launcher left behind is adopted when the command exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "tendd.h"

struct procs procs = TAILQ_HEAD_INITIALIZER(procs);
/* How many are in procs: every proc_new() joins it, proc_free() leaves. */
int		 program_nprocs;

static int	 program_stopping_all;	/* tendd is shutting down */
static int	 program_reloading;	/* program_reload() is under way */

/* pid -> proc, so a reap costs the same with 10 or 10000 processes. */
#define PIDHASH_SIZE	1024
struct pidslot {
	pid_t		 pid;
	struct proc	*p;
	struct pidslot	*next;
};
static struct pidslot	*pidhash[PIDHASH_SIZE];

static const char *const program_state_names[PROC_NSTATES] = {
	[PROC_NEW] = "NEW",
	[PROC_STARTING] = "STARTING",
	[PROC_RUNNING] = "RUNNING",
	[PROC_PAUSED] = "PAUSED",
	[PROC_STOPPING] = "STOPPING",
	[PROC_STOPPED] = "STOPPED",
	[PROC_EXITED] = "EXITED",
	[PROC_BACKOFF] = "BACKOFF",
	[PROC_FATAL] = "FATAL",
};

static void	 proc_set_state(struct proc *, enum proc_state, const char *,
		    ...) __attribute__((format(printf, 3, 4)));
static void	 proc_set_state_armed(struct proc *, enum proc_state, double,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
static void	 proc_spawn(struct proc *, const char *);
static void	 proc_timer_cb(int, short, void *);
static void	 proc_watchdog_arm(struct proc *);
static void	 proc_enter_stopping(struct proc *, int, const char *);
static int	 proc_pidfile_adopt(struct proc *);
static void	 proc_adopted(struct proc *);
static void	 program_shutdown_step(void);
static void	 program_forget(struct proc *);
static void	 proc_take_next(struct proc *);

/* pidfile: first wait between reads of a pidfile not written yet, and the cap. */
#define PIDFILE_POLL_FIRST	0.05
#define PIDFILE_POLL_MAX	1.0

const char *
program_state_name(enum proc_state s)
{
	if ((unsigned)s >= PROC_NSTATES)
		return "UNKNOWN";
	return program_state_names[s];
}

static void
pidhash_add(pid_t pid, struct proc *p)
{
	struct pidslot *s = xmalloc(sizeof(*s));

	s->pid = pid;
	s->p = p;
	s->next = pidhash[pid % PIDHASH_SIZE];
	pidhash[pid % PIDHASH_SIZE] = s;
}

static void
pidhash_del(pid_t pid)
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

static struct proc **
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
static void
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
proc_group_cmp(const void *x, const void *y)
{
	const struct proc *a = *(struct proc *const *)x;
	const struct proc *b = *(struct proc *const *)y;

	return strcmp(a->group, b->group);
}

/*
 * As supervisorctl shows names: PROCESS when it is alone in a group of
 * its own name, GROUP:PROCESS otherwise. Groups change with reloads.
 */
static void
program_update_display(void)
{
	struct proc **all;
	size_t i, j, n;
	int alone;

	all = program_array(&n);
	qsort(all, n, sizeof(*all), proc_group_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && strcmp(all[i]->group,
		    all[j]->group) == 0; j++)
			;
		alone = j - i == 1;
		for (; i < j; i++)
			all[i]->display = alone &&
			    strcmp(all[i]->group, all[i]->name) == 0 ?
			    all[i]->name : all[i]->fullname;
	}
	free(all);
}

static struct proc *
proc_new(struct program_conf *pc)
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
	p->timer = evtimer_new(tendd_base, proc_timer_cb, p);
	if (p->timer == NULL)
		fatal("cannot create a timer");
	program_nprocs++;
	return p;
}

void
program_setup(struct tend_conf *conf)
{
	struct program_conf *pc;
	struct proc *p;

	TAILQ_FOREACH(pc, &conf->programs, entry) {
		p = proc_new(pc);
		TAILQ_INSERT_TAIL(&procs, p, entry);
	}
	program_sort();
	program_update_display();
}

void
program_autostart(void)
{
	struct proc *p;

	/* procs is in priority order, so low priorities spawn first. */
	TAILQ_FOREACH(p, &procs, entry) {
		if (p->pc->autostart && p->state == PROC_NEW) {
			p->want = WANT_UP;
			proc_spawn(p, "autostart");
		}
	}
}

int
program_is_up(const struct proc *p)
{
	/* Reaped but its last output still coming: not ended yet. */
	return p->pid > 0 || p->reaped;
}

int
program_is_done(const struct proc *p)
{
	switch (p->state) {
	case PROC_NEW:
	case PROC_STOPPED:
	case PROC_EXITED:
	case PROC_FATAL:
		return 1;
	default:
		return 0;
	}
}

int
program_is_settled(const struct proc *p)
{
	if (!program_is_done(p))
		return 0;
	/* A restart (or a start while stopping) passes through STOPPED. */
	if (p->state == PROC_STOPPED && p->want == WANT_UP &&
	    !program_stopping_all)
		return 0;
	return 1;
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

static void
proc_arm(struct proc *p, double secs)
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
 */
static void
proc_vset_state(struct proc *p, enum proc_state s, double arm,
    const char *fmt, va_list ap)
{
	enum proc_state old = p->state;

	/* Each state arms its own timer; none carries over. */
	evtimer_del(p->timer);
	p->timer_due = 0;
	if (arm >= 0)
		proc_arm(p, arm);

	free(p->reason);
	p->reason = NULL;
	if (fmt != NULL)
		xvasprintf(&p->reason, fmt, ap);
	p->state = s;
	p->state_time = util_now();
	p->state_wall = util_wallclock();
	/*
	 * At rest, its cgroup goes (once what it left running ends too).
	 * Not at each exit: a restart keeps the directory rather than
	 * removing and making it again.
	 */
	if (s == PROC_STOPPED || s == PROC_EXITED || s == PROC_FATAL)
		cgroup_proc_ended(p);
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
	if (s == PROC_RUNNING)
		proc_watchdog_arm(p);
	else if (p->watchdog != NULL)
		evtimer_del(p->watchdog);

	command_state_changed(p, old);
	systemd_state_changed(p, old);

	if (s == PROC_FATAL && p->pc->critical && !program_stopping_all) {
		char *why;

		xasprintf(&why, "critical program %s is FATAL", p->display);
		tendd_shutdown(1, why);
		free(why);
	} else if (program_stopping_all)
		program_shutdown_step();
}

static void
proc_set_state(struct proc *p, enum proc_state s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	proc_vset_state(p, s, -1, fmt, ap);
	va_end(ap);
}

static void
proc_set_state_armed(struct proc *p, enum proc_state s, double secs,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	proc_vset_state(p, s, secs, fmt, ap);
	va_end(ap);
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

/* Forget what the last run said and did: a spawn starts afresh. */
static void
proc_reset_run(struct proc *p)
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
	if (pc->ready == READY_NOTIFY && pc->ready_timeout > 0)
		p->start_deadline = util_now() + pc->ready_timeout;
}

/* STARTING, with a process that is judged by startsecs from now. */
static void
proc_startsecs(struct proc *p)
{
	if (p->pc->startsecs <= 0) {
		p->startfails = 0;
		proc_set_state(p, PROC_RUNNING, NULL);
	} else
		proc_arm(p, p->pc->startsecs);
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
proc_spawn_short(struct proc *p, char *cause)
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
		proc_arm(p, program_backoff(p->pc, p->shortfails));
	} else
		/* Armed first: the event says when the retry comes. */
		proc_set_state_armed(p, PROC_BACKOFF,
		    program_backoff(p->pc, p->shortfails), "%s", cause);
}

/* WHY, when given, says what led to this spawn in the transition's log. */
static void
proc_spawn(struct proc *p, const char *why)
{
	char *cause = NULL;
	int r;

	if (program_stopping_all)
		return;
	free(p->spawnerr);
	p->spawnerr = NULL;
	if ((r = spawn_proc(p, &cause)) == SPAWN_SHORT) {
		proc_spawn_short(p, cause);
		return;
	}
	if (r == -1) {
		/* A spawn error is final: retrying a missing binary is a loop. */
		p->spawnerr = cause;
		proc_set_state(p, PROC_FATAL, "%s", cause);
		return;
	}
	p->shortfails = 0;
	if (p->start_time > 0)
		p->restarts++;
	p->start_time = util_now();
	p->killed = 0;
	proc_reset_run(p);
	pidhash_add(p->pid, p);
	if (why != NULL)
		proc_set_state(p, PROC_STARTING, "%s", why);
	else
		proc_set_state(p, PROC_STARTING, NULL);
	if (p->state != PROC_STARTING)
		return;	/* a waiter or shutdown moved it on */
	/*
	 * A notify program is up when it says so: ready_timeout bounds the
	 * wait for READY=1, startsecs does not judge it. A pidfile program's
	 * command is judged like any other until it exits (see
	 * proc_pidfile_handover()).
	 */
	if (p->pc->ready == READY_NOTIFY) {
		if (p->start_deadline > 0)
			proc_arm(p, p->pc->ready_timeout);
		return;
	}
	proc_startsecs(p);
}

/*
 * Sends SIG (the stop signal, or SIGKILL) and waits in STOPPING. WHY,
 * when given, says why tend stops it (a failure rather than a request).
 */
static void
proc_enter_stopping(struct proc *p, int sig, const char *why)
{
	int group = p->pc->stopasgroup;

	if (p->reaped) {
		/* Gone already; its end comes once its output is in. */
		if (p->state != PROC_STOPPING)
			proc_set_state(p, PROC_STOPPING, "exited already");
		return;
	}
	if (p->pid <= 0) {
		/*
		 * Between a launcher's exit and its pidfile: the daemon may
		 * be there already, and must not be left behind unwatched.
		 */
		if (p->pc->pidfile != NULL && proc_pidfile_adopt(p))
			proc_adopted(p);
		else {
			proc_set_state(p, PROC_STOPPED, "%s before the pidfile "
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
		proc_set_state_armed(p, PROC_STOPPING, sig != SIGKILL ?
		    p->pc->stopwaitsecs : -1, "%s%sSIG%s sent",
		    why != NULL ? why : "", why != NULL ? "; " : "",
		    util_signal_name(sig));
	else if (sig != SIGKILL)
		proc_arm(p, p->pc->stopwaitsecs);
}

/* ---- failures tend finds itself: not ready in time, a silent watchdog */

/* Stop it for WHY; its end is then judged as FAIL says. */
static void
proc_fail(struct proc *p, enum proc_fail fail, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
proc_fail(struct proc *p, enum proc_fail fail, const char *fmt, ...)
{
	va_list ap;

	free(p->fail_why);
	va_start(ap, fmt);
	xvasprintf(&p->fail_why, fmt, ap);
	va_end(ap);
	log_warn("%s: %s", p->display, p->fail_why);
	p->failing = fail;
	proc_enter_stopping(p, p->pc->stopsignal, p->fail_why);
}

/* The wait for a pidfile ended without a process: a failed start. */
static void proc_start_failed(struct proc *, const char *);

/* ---- ready = notify: the watchdog */

static void
proc_watchdog_cb(int fd, short ev, void *arg)
{
	struct proc *p = arg;

	if (p->state != PROC_RUNNING || p->pid <= 0)
		return;
	proc_fail(p, FAIL_WATCHDOG, "watchdog timeout: no WATCHDOG=1 for "
	    "%gs", p->watchdog_secs);
}

/* (Re)arms the watchdog: a full watchdog_secs from now. */
static void
proc_watchdog_arm(struct proc *p)
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
	    (p->watchdog = evtimer_new(tendd_base, proc_watchdog_cb, p)) == NULL)
		fatal("cannot create a timer");
	tv = util_timeval(secs);
	evtimer_add(p->watchdog, &tv);
}

/* ---- pidfile: the daemon a launcher leaves behind */

/* The pid in P's pidfile: 0 and *pid, or -1 with p->pidfile_err set. */
static int
proc_pidfile_read(struct proc *p, pid_t *pid)
{
	const char *file = p->pc->pidfile;
	char buf[64], *end;
	long v;
	ssize_t n;
	int fd;

	free(p->pidfile_err);
	p->pidfile_err = NULL;
	if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		xasprintf(&p->pidfile_err, "cannot open %s: %s", file,
		    strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		xasprintf(&p->pidfile_err, "cannot read %s: %s", file,
		    strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
		end++;
	if (n == 0 || end == buf || *end != '\0' || errno != 0 || v <= 0 ||
	    v > INT32_MAX) {
		xasprintf(&p->pidfile_err, "%s does not hold a pid (%s)", file,
		    n == 0 ? "it is empty" : "it says something else");
		return -1;
	}
	*pid = (pid_t)v;
	return 0;
}

/* The parent of PID as /proc says, or -1 when it is gone. */
static pid_t
proc_parent_of(pid_t pid)
{
	struct pidstat ps;

	return procfs_stat(pid, &ps) == -1 ? -1 : ps.ppid;
}

/*
 * Supervise PID from now on, as P's process. Only a child of tendd (a
 * daemon reparented to it, tendd being a subreaper) or of P's current
 * process qualifies: a pidfile must never make tend signal a stranger.
 */
static int
proc_adopt(struct proc *p, pid_t pid, const char *from, char **cause)
{
	struct proc *q;
	pid_t parent;
	int fd;

	if ((q = program_find_pid(pid)) != NULL) {
		xasprintf(cause, "pid %ld from %s is %s's own process",
		    (long)pid, from, q->display);
		return -1;
	}
	/* The pidfd pins the process: checked below, it cannot change. */
	if ((fd = pidfd_open(pid, 0)) == -1) {
		xasprintf(cause, "pid %ld from %s is not running", (long)pid,
		    from);
		return -1;
	}
	parent = proc_parent_of(pid);
	if (parent != getpid() && (p->pid <= 0 || parent != p->pid)) {
		xasprintf(cause, "pid %ld from %s is not a child of tendd "
		    "(its parent is %ld), so tend cannot supervise it",
		    (long)pid, from, (long)parent);
		close(fd);
		return -1;
	}
	if (p->pid > 0)
		pidhash_del(p->pid);
	reap_unwatch(p);
	if (p->pidfd != -1)
		close(p->pidfd);
	p->pid = pid;
	p->pidfd = fd;
	p->adopted = 1;
	pidhash_add(pid, p);
	reap_watch(p);
	return 0;
}

/* Read the pidfile and adopt what it names. 1 when P has its daemon. */
static int
proc_pidfile_adopt(struct proc *p)
{
	pid_t pid;
	char *cause = NULL;

	if (proc_pidfile_read(p, &pid) == -1)
		return 0;
	if (proc_adopt(p, pid, p->pc->pidfile, &cause) == -1) {
		free(p->pidfile_err);
		p->pidfile_err = cause;
		return 0;
	}
	return 1;
}

/* P now has its daemon: judge it as the process from here on. */
static void
proc_adopted(struct proc *p)
{
	log_info("%s: supervising pid %ld from %s", p->display, (long)p->pid,
	    p->pc->pidfile);
	if (p->state == PROC_STARTING)
		proc_startsecs(p);
	else if (p->state == PROC_STOPPING)
		proc_enter_stopping(p, p->killed ? SIGKILL : p->pc->stopsignal,
		    NULL);
}

/* STARTING, launcher gone, no daemon yet: read again soon, or give up. */
static void
proc_pidfile_wait(struct proc *p)
{
	double now = util_now(), wait = p->pidfile_poll;
	char *what;

	if (p->start_deadline > 0 && now >= p->start_deadline) {
		xasprintf(&what, "no process to supervise %gs after the "
		    "launcher exited (ready_timeout): %s", p->pc->ready_timeout,
		    p->pidfile_err ? p->pidfile_err : "no pidfile");
		proc_start_failed(p, what);
		free(what);
		return;
	}
	if (p->start_deadline > 0 && p->start_deadline - now < wait)
		wait = p->start_deadline - now;
	/* Most daemons write it at once; a slow one is not read 20 times a second. */
	p->pidfile_poll = p->pidfile_poll * 2 > PIDFILE_POLL_MAX ?
	    PIDFILE_POLL_MAX : p->pidfile_poll * 2;
	proc_arm(p, wait);
}

/* The daemon is gone: its pidfile, if it still names it, goes too. */
static void
proc_pidfile_remove(struct proc *p, pid_t pid)
{
	pid_t named;

	if (proc_pidfile_read(p, &named) == 0 && named == pid &&
	    unlink(p->pc->pidfile) == 0)
		log_debug("%s: removed %s", p->display, p->pc->pidfile);
	free(p->pidfile_err);
	p->pidfile_err = NULL;
}

/*
 * Whether P's pidfile names the daemon a launcher being stopped leaves,
 * to be stopped as itself, not killed with what is left of the
 * launcher's group: a process proc_adopt() would take (a child of tendd
 * or of P's process, no process's own). A stale pidfile naming a
 * stranger saves nothing from that kill.
 */
static int
proc_pidfile_names_other(struct proc *p)
{
	pid_t named, parent;

	if (proc_pidfile_read(p, &named) == -1 || named == p->pid ||
	    program_find_pid(named) != NULL)
		return 0;
	parent = proc_parent_of(named);
	return parent != -1 && (parent == getpid() ||
	    (p->pid > 0 && parent == p->pid));
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
proc_pidfile_handover(struct proc *p, pid_t pid, int code)
{
	int expected = config_exitcode_expected(p->pc, code);
	const char *how = code == 0 ? "exited" : expected ?
	    "exited as expected" : "ended";
	pid_t named;

	if (p->state != PROC_STOPPING && (!expected ||
	    (p->state != PROC_STARTING && p->state != PROC_RUNNING)))
		return 0;
	if (proc_pidfile_read(p, &named) == 0 && named == pid)
		return 0;
	if (proc_pidfile_adopt(p)) {
		log_info("%s: pid %ld %s and %s names pid %ld: %s",
		    p->display, (long)pid, how, p->pc->pidfile, (long)p->pid,
		    p->state == PROC_STOPPING ? "stopping it too" :
		    "it was a launcher");
		proc_adopted(p);
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
	proc_pidfile_wait(p);
	return 1;
}

/* The STARTING timer: startsecs, ready_timeout or a pidfile read. */
static void
proc_starting_timer(struct proc *p)
{
	if (p->pc->pidfile != NULL && p->pid <= 0) {
		if (proc_pidfile_adopt(p))
			proc_adopted(p);
		else
			proc_pidfile_wait(p);
		return;
	}
	if (p->pc->ready == READY_NOTIFY && !p->ready_seen) {
		proc_fail(p, FAIL_START, "not ready after ready_timeout=%gs "
		    "(no READY=1)", p->pc->ready_timeout);
		return;
	}
	p->startfails = 0;
	proc_set_state(p, PROC_RUNNING, NULL);
}

static void
proc_timer_cb(int fd, short ev, void *arg)
{
	struct proc *p = arg;

	switch (p->state) {
	case PROC_STARTING:
		proc_starting_timer(p);
		break;
	case PROC_BACKOFF:
		proc_spawn(p, p->startfails > 0 || p->shortfails > 0 ?
		    "retry after a failed start" : "restart after backoff");
		break;
	case PROC_STOPPING:
		log_warn("%s: still running %gs after SIG%s; sending SIGKILL",
		    p->display, p->pc->stopwaitsecs,
		    util_signal_name(p->pc->stopsignal));
		proc_enter_stopping(p, SIGKILL, NULL);
		break;
	case PROC_RUNNING:
		/* Only a job being joined at shutdown arms a RUNNING timer. */
		if (program_stopping_all) {
			log_info("%s: not finished after joinsecs=%gs; stopping",
			    p->display, p->pc->joinsecs);
			proc_enter_stopping(p, p->pc->stopsignal, NULL);
		}
		break;
	default:
		log_debug("%s: stray timer in state %s", p->display,
		    program_state_name(p->state));
		break;
	}
}

static void
proc_format_exit(char *buf, size_t len, int code)
{
	if (code < 0)
		snprintf(buf, len, "killed by SIG%s", util_signal_name(-code));
	else
		snprintf(buf, len, "exited with code %d", code);
}

/*
 * A start failed (WHAT says how: "exited with code 1 before
 * startsecs=1s"): retry after a backoff, or FATAL after startretries.
 */
static void
proc_start_failed(struct proc *p, const char *what)
{
	const struct program_conf *pc = p->pc;
	double delay;

	if (p->want != WANT_UP || program_stopping_all) {
		proc_set_state(p, p->has_exited ? PROC_EXITED : PROC_STOPPED,
		    "%s", what);
		return;
	}
	p->startfails++;
	if (pc->startretries >= 0 && p->startfails > pc->startretries) {
		proc_set_state(p, PROC_FATAL, "%s; gave up after %d %s", what,
		    pc->startretries, pc->startretries == 1 ? "retry" :
		    "retries");
		return;
	}
	delay = program_backoff(pc, p->startfails);
	proc_set_state_armed(p, PROC_BACKOFF, delay, "%s", what);
}

/*
 * It went down after it was up (HOW says how) and is to be restarted.
 * A crash loop never spins: each exit that comes before the process
 * stayed up backoff_reset seconds doubles the delay.
 */
static void
proc_crashed(struct proc *p, const char *how)
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
		proc_spawn(p, why);
		free(why);
		return;
	}
	proc_set_state_armed(p, PROC_BACKOFF, delay, "%s", how);
}

/* The process is gone (reaped). Decide what comes next. */
static void
proc_ended(struct proc *p)
{
	const struct program_conf *pc = p->pc;
	int expected = config_exitcode_expected(pc, p->exitcode);
	int restart;
	enum proc_fail fail;
	char how[64], *what;

	proc_format_exit(how, sizeof(how), p->exitcode);
	switch (p->state) {
	case PROC_STOPPING:
		fail = p->failing;
		p->failing = FAIL_NONE;
		/* tend stopped it for a failure: judge that, not a stop */
		if (fail != FAIL_NONE && p->want == WANT_UP &&
		    !program_stopping_all) {
			xasprintf(&what, "%s (%s)", p->fail_why, how);
			if (fail == FAIL_START)
				proc_start_failed(p, what);
			else
				proc_crashed(p, what);
			free(what);
			return;
		}
		proc_set_state(p, PROC_STOPPED, "%s", how);
		/* Stopped for a reload: gone now, or on to its new settings. */
		if (p->removed) {
			program_forget(p);
			return;
		}
		if (p->next_pc != NULL)
			proc_take_next(p);
		/* restart, or a start that came while it was stopping */
		if (p->want == WANT_UP && p->state == PROC_STOPPED &&
		    !program_stopping_all) {
			p->startfails = 0;
			p->crashes = 0;
			proc_spawn(p, "start requested while stopping");
		}
		return;

	case PROC_STARTING:
		/* A job may finish before startsecs: that is success. */
		if (!pc->daemon && expected) {
			proc_set_state(p, PROC_EXITED, "%s", how);
			return;
		}
		if (pc->ready == READY_NOTIFY)
			xasprintf(&what, "%s before it was ready", how);
		else
			xasprintf(&what, "%s before startsecs=%gs", how,
			    pc->startsecs);
		proc_start_failed(p, what);
		free(what);
		return;

	case PROC_RUNNING:
	case PROC_PAUSED:
		if (!pc->daemon)
			restart = !expected && pc->autorestart != AUTORESTART_FALSE;
		else if (pc->autorestart == AUTORESTART_TRUE)
			restart = 1;
		else if (pc->autorestart == AUTORESTART_UNEXPECTED)
			restart = !expected;
		else
			restart = 0;
		if (!restart || p->want != WANT_UP || program_stopping_all) {
			proc_set_state(p, PROC_EXITED, "%s", how);
			return;
		}
		proc_crashed(p, how);
		return;

	default:
		/* Only the states above have a process: a broken invariant. */
		log_error("%s: process ended in state %s", p->display,
		    program_state_name(p->state));
		proc_set_state(p, PROC_EXITED, "%s", how);
		return;
	}
}

/*
 * A process stopped as a group (stopasgroup or killasgroup) leaves
 * nothing behind: when it has ended during a stop, what is left of its
 * group and session (a descendant that ignored the stop signal, or is
 * in a group of its own) is killed at once. tend has no handle to wait
 * on them with, and the stop signal has reached them already. Called
 * before the reap, so the group id cannot have changed hands. Not for an
 * adopted process (its session is not one tend made), a MAINPID=
 * handover, or a launcher whose pidfile names its daemon (stopped next,
 * as itself: see proc_pidfile_handover()).
 */
void
program_exited(struct proc *p)
{
	if (p->state != PROC_STOPPING || p->adopted || p->mainpid_next > 0 ||
	    !(p->pc->stopasgroup || p->pc->killasgroup) ||
	    (p->pc->pidfile != NULL && proc_pidfile_names_other(p)))
		return;
	log_debug("%s: pid %ld ended; SIGKILL to what is left of its group",
	    p->display, (long)p->pid);
	spawn_signal(p, SIGKILL, 1);
}

void
program_reaped(struct proc *p, int status)
{
	int code = util_exitcode(status);
	pid_t pid = p->pid, next;
	char *cause = NULL;

	pidhash_del(pid);
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
		if (proc_pidfile_handover(p, pid, code))
			return;
		proc_pidfile_remove(p, pid);
	}

	/* MAINPID= named a child of this process: it carries on. */
	if ((next = p->mainpid_next) > 0) {
		p->mainpid_next = 0;
		if (proc_adopt(p, next, "MAINPID=", &cause) == 0) {
			log_info("%s: pid %ld exited (%d); main pid is now %ld "
			    "(MAINPID=)", p->display, (long)pid, code,
			    (long)next);
			if (p->state == PROC_STOPPING)
				proc_enter_stopping(p, p->killed ? SIGKILL :
				    p->pc->stopsignal, NULL);
			return;
		}
		log_warn("%s: cannot follow MAINPID=%ld: %s", p->display,
		    (long)next, cause);
		free(cause);
	}

	p->exitcode = code;
	p->has_exited = 1;
	/*
	 * The end is judged now (a STARTING process that died is a failed
	 * start even if its output takes a moment), and reported once its
	 * last output is in the log (output.c).
	 */
	evtimer_del(p->timer);
	p->timer_due = 0;
	p->reaped = 1;
	if (output_reaped(p))
		program_output_done(p);
}

void
program_output_done(struct proc *p)
{
	if (!p->reaped)
		return;
	p->reaped = 0;
	proc_ended(p);
}

/* ---- what a ready = notify process says (notify.c) */

void
program_notify_ready(struct proc *p)
{
	/* After its death (its output still coming), too late to count. */
	if (p->state != PROC_STARTING || p->ready_seen || p->reaped) {
		log_debug("%s: READY=1 in state %s", p->display,
		    program_state_name(p->state));
		return;
	}
	p->ready_seen = 1;
	p->startfails = 0;
	proc_set_state(p, PROC_RUNNING, "READY=1");
}

void
program_notify_watchdog(struct proc *p)
{
	if (p->state == PROC_RUNNING)
		proc_watchdog_arm(p);
}

/* WATCHDOG=trigger: the program knows it is broken; same as a timeout. */
void
program_notify_watchdog_trigger(struct proc *p)
{
	if ((p->state != PROC_RUNNING && p->state != PROC_STARTING) ||
	    p->reaped)
		return;
	proc_fail(p, p->state == PROC_RUNNING ? FAIL_WATCHDOG : FAIL_START,
	    "watchdog triggered by the program (WATCHDOG=trigger)");
}

/* WATCHDOG_USEC=: the program sets its own timeout (0 turns it off). */
void
program_notify_watchdog_usec(struct proc *p, uint64_t usec)
{
	p->watchdog_secs = (double)usec / 1e6;
	log_info("%s: watchdog set to %gs by the program", p->display,
	    p->watchdog_secs);
	proc_watchdog_arm(p);
}

void
program_notify_status(struct proc *p, const char *text)
{
	free(p->notify_status);
	p->notify_status = text[0] != '\0' ? xstrdup(text) : NULL;
}

/*
 * MAINPID=: a child of tendd (the old main is gone) is adopted at once;
 * a child of the current process when that one exits.
 */
int
program_notify_mainpid(struct proc *p, pid_t pid, char **cause)
{
	pid_t parent;

	if (pid == p->pid)
		return 0;
	if (p->pid <= 0 || !program_is_up(p)) {
		*cause = xstrdup("it has no process");
		return -1;
	}
	parent = proc_parent_of(pid);
	if (parent == p->pid) {
		p->mainpid_next = pid;
		log_info("%s: main pid becomes %ld when pid %ld exits "
		    "(MAINPID=)", p->display, (long)pid, (long)p->pid);
		return 0;
	}
	if (proc_adopt(p, pid, "MAINPID=", cause) == -1)
		return -1;
	log_info("%s: main pid is now %ld (MAINPID=)", p->display, (long)pid);
	return 0;
}

int
program_start(struct proc *p, char **cause)
{
	if (program_stopping_all) {
		*cause = xstrdup("tendd is shutting down");
		return -1;
	}
	if (p->removed) {
		/* It goes away once stopped; a reload may bring it back. */
		xasprintf(cause, "%s was removed from the config", p->display);
		return -1;
	}
	p->want = WANT_UP;
	switch (p->state) {
	case PROC_STARTING:
	case PROC_RUNNING:
	case PROC_PAUSED:
	case PROC_STOPPING:
		/* up already, or comes back up once it has stopped */
		return 0;
	case PROC_NEW:
	case PROC_STOPPED:
	case PROC_EXITED:
	case PROC_FATAL:
	case PROC_BACKOFF:
		/* a person's start is a fresh series of tries */
		p->startfails = 0;
		p->crashes = 0;
		p->shortfails = 0;
		proc_spawn(p, "start requested");
		return 0;
	}
	return 0;
}

int
program_stop(struct proc *p, char **cause)
{
	p->want = WANT_DOWN;
	switch (p->state) {
	case PROC_STARTING:
	case PROC_RUNNING:
	case PROC_PAUSED:
		proc_enter_stopping(p, p->pc->stopsignal, NULL);
		return 0;
	case PROC_BACKOFF:
		proc_set_state(p, PROC_STOPPED, "stopped while waiting to restart");
		return 0;
	default:
		return 0;
	}
}

int
program_kill(struct proc *p, char **cause)
{
	p->want = WANT_DOWN;
	/* STARTING without a pid: a pidfile's daemon may be there already */
	if (program_is_up(p) || p->state == PROC_STARTING) {
		proc_enter_stopping(p, SIGKILL, NULL);
		return 0;
	}
	if (p->state == PROC_BACKOFF)
		proc_set_state(p, PROC_STOPPED, "killed while waiting to restart");
	return 0;
}

/*
 * pause/resume: SIGSTOP/SIGCONT, to the process group when the program
 * is stopped as a group (it is one unit then). Only a RUNNING process is
 * paused: STARTING has its startsecs timer to keep, and during shutdown
 * a paused job could never be joined.
 */
/* Why pause/resume/signal cannot act on P in its state. */
static void
proc_not_running(struct proc *p, char **cause)
{
	if (program_is_up(p))
		xasprintf(cause, "is %s, not RUNNING (pid %ld)",
		    program_state_name(p->state), (long)p->pid);
	else
		xasprintf(cause, "not running (%s)",
		    program_state_name(p->state));
}

int
program_pause(struct proc *p, char **cause)
{
	switch (p->state) {
	case PROC_PAUSED:
		return 0;
	case PROC_RUNNING:
		if (program_stopping_all) {
			*cause = xstrdup("tendd is shutting down");
			return -1;
		}
		if (spawn_signal(p, SIGSTOP, p->pc->stopasgroup) == -1) {
			xasprintf(cause, "cannot send SIGSTOP to pid %ld: %s",
			    (long)p->pid, strerror(errno));
			return -1;
		}
		proc_set_state(p, PROC_PAUSED, "SIGSTOP sent");
		return 0;
	default:
		proc_not_running(p, cause);
		return -1;
	}
}

int
program_resume(struct proc *p, char **cause)
{
	switch (p->state) {
	case PROC_STARTING:
	case PROC_RUNNING:
		return 0;	/* not paused: what was asked for holds */
	case PROC_PAUSED:
		if (spawn_signal(p, SIGCONT, p->pc->stopasgroup) == -1) {
			xasprintf(cause, "cannot send SIGCONT to pid %ld: %s",
			    (long)p->pid, strerror(errno));
			return -1;
		}
		proc_set_state(p, PROC_RUNNING, "SIGCONT sent");
		return 0;
	default:
		proc_not_running(p, cause);
		return -1;
	}
}

int
program_signal(struct proc *p, int sig, char **cause)
{
	/* STOP and CONT change what the state must say. */
	if (sig == SIGSTOP)
		return program_pause(p, cause);
	if (sig == SIGCONT && p->state == PROC_PAUSED)
		return program_resume(p, cause);
	if (!program_is_up(p)) {
		proc_not_running(p, cause);
		return -1;
	}
	if (spawn_signal(p, sig, 0) == -1) {
		xasprintf(cause, "cannot send SIG%s to pid %ld: %s",
		    util_signal_name(sig), (long)p->pid, strerror(errno));
		return -1;
	}
	log_info("%s: SIG%s sent (pid %ld)", p->display, util_signal_name(sig),
	    (long)p->pid);
	return 0;
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

void
program_describe(struct proc *p, char *buf, size_t len)
{
	char dur[64], how[256];
	double now = util_now(), left;

	left = p->timer_due > now ? p->timer_due - now : 0;
	if (p->has_exited)
		proc_format_exit(how, sizeof(how), p->exitcode);
	else
		how[0] = '\0';

	if (p->reaped) {
		snprintf(buf, len, "%s; reading its last output", how);
		return;
	}
	switch (p->state) {
	case PROC_NEW:
		snprintf(buf, len, "not started%s", p->pc->autostart ? "" :
		    " (autostart = false)");
		break;
	case PROC_STARTING:
		if (p->pid <= 0)
			snprintf(buf, len, "starting, waiting for %s%s%s",
			    p->pc->pidfile ? p->pc->pidfile : "a process",
			    p->pidfile_err ? ": " : "",
			    p->pidfile_err ? p->pidfile_err : "");
		else if (p->pc->ready == READY_NOTIFY)
			snprintf(buf, len, "pid %ld, starting, waiting for "
			    "READY=1%s%s", (long)p->pid,
			    p->notify_status ? ": " : "",
			    p->notify_status ? p->notify_status : "");
		else if (p->timer_due > 0)
			snprintf(buf, len, "pid %ld, starting; RUNNING in %.0fs",
			    (long)p->pid, ceil(left));
		else
			snprintf(buf, len, "pid %ld, starting", (long)p->pid);
		break;
	case PROC_RUNNING:
		util_format_duration(dur, sizeof(dur), now - p->running_time);
		snprintf(buf, len, "pid %ld, uptime %s%s%s", (long)p->pid, dur,
		    p->notify_status ? ", " : "",
		    p->notify_status ? p->notify_status : "");
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
			proc_format_code(how, sizeof(how), p->exitcode);
			snprintf(buf, len, "%s, %s ago", how, dur);
		} else
			snprintf(buf, len, "stopped %s ago", dur);
		break;
	case PROC_BACKOFF:
		/* tend's own verdict (not ready, watchdog) says more */
		if (p->fail_why != NULL)
			snprintf(how, sizeof(how), "%s", p->fail_why);
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
		break;
	case PROC_FATAL:
		snprintf(buf, len, "%s", p->spawnerr ? p->spawnerr :
		    p->reason ? p->reason : "failed");
		break;
	}
}

/*
 * Shutdown order: services stop by priority, highest first, each level
 * after the one above it is down; jobs are joined meanwhile, each for its
 * own joinsecs, then stopped like a service.
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
		if (p->pc->daemon && program_is_up(p) && !p->shutdown_stop) {
			level = p;
			break;
		}
	}
	if (level != NULL) {
		TAILQ_FOREACH_REVERSE(p, &procs, procs, entry) {
			if (p->pc->daemon && program_is_up(p) &&
			    !p->shutdown_stop &&
			    proc_level_cmp(p, level) == 0) {
				p->shutdown_stop = 1;
				if (p->state != PROC_STOPPING)
					proc_enter_stopping(p, p->pc->stopsignal, NULL);
			}
		}
		return;
	}
	if (program_all_down())
		tendd_all_stopped();
}

void
program_shutdown(void)
{
	struct proc *p;

	if (program_stopping_all)
		return;
	program_stopping_all = 1;
	TAILQ_FOREACH(p, &procs, entry) {
		p->want = WANT_DOWN;
		if (p->state == PROC_BACKOFF)
			proc_set_state(p, PROC_STOPPED, "tendd is shutting down");
		else if (p->state == PROC_STARTING && p->pid <= 0)
			/* waiting for a pidfile: stop what it names, if any */
			proc_enter_stopping(p, p->pc->stopsignal,
			    "tendd is shutting down");
		else if (!p->pc->daemon && program_is_up(p) &&
		    p->state != PROC_STOPPING) {
			log_info("%s: joining job for up to %gs", p->display,
			    p->pc->joinsecs);
			/* PAUSED jobs would never finish: let them run again. */
			if (p->state == PROC_PAUSED) {
				spawn_signal(p, SIGCONT, 0);
				proc_set_state(p, PROC_RUNNING, "resumed to be joined");
			}
			if (p->state == PROC_STARTING)
				proc_set_state(p, PROC_RUNNING, "joined at shutdown");
			proc_arm(p, p->pc->joinsecs);
		}
	}
	program_shutdown_step();
}

static void
proc_free(struct proc *p)
{
	program_nprocs--;
	if (p->timer != NULL)
		event_free(p->timer);
	if (p->watchdog != NULL)
		event_free(p->watchdog);
	free(p->fail_why);
	free(p->notify_status);
	free(p->pidfile_err);
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
		proc_free(p);
	}
	for (i = 0; i < PIDHASH_SIZE; i++) {
		while (pidhash[i] != NULL) {
			struct pidslot *s = pidhash[i];

			pidhash[i] = s->next;
			free(s);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Reload                                                               */

/* A process removed by a reload is down: forget it. */
static void
program_forget(struct proc *p)
{
	log_info("%s: removed from the config", p->display);
	/* Whoever holds a pointer to it lets go first. */
	command_proc_gone(p);
	TAILQ_REMOVE(&procs, p, entry);
	if (p->pid > 0)
		pidhash_del(p->pid);
	proc_free(p);
	/* A reload under way shows the new names once, at its end. */
	if (!program_reloading)
		program_update_display();
}

/* "a, b, c" */
static char *
program_join(char **v)
{
	char *s = xstrdup(""), *more;
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++) {
		xasprintf(&more, "%s%s%s", s, i > 0 ? ", " : "", v[i]);
		free(s);
		s = more;
	}
	return s;
}

/* Down after a stop for a changed config: from now on, the new settings. */
static void
proc_take_next(struct proc *p)
{
	int moved = p->pc->priority != p->next_pc->priority ||
	    p->pc->group_priority != p->next_pc->group_priority;

	if (p->pc_owned)
		config_program_free(p->pc);
	p->pc = p->next_pc;
	p->pc_owned = 0;
	p->next_pc = NULL;
	if (moved)
		program_sort();
}

static int
proc_fullname_cmp(const void *x, const void *y)
{
	const struct proc *a = *(struct proc *const *)x;
	const struct proc *b = *(struct proc *const *)y;

	return strcmp(a->fullname, b->fullname);
}

/* The processes, sorted by GROUP:NAME, to match a new config against. */
static struct proc **
program_by_fullname(size_t *np)
{
	struct proc **all = program_array(np);

	qsort(all, *np, sizeof(*all), proc_fullname_cmp);
	return all;
}

static struct proc *
program_lookup(struct proc **all, size_t n, const struct program_conf *pc)
{
	struct proc key, *kp = &key, **found;

	xasprintf(&key.fullname, "%s:%s", pc->group, pc->name);
	found = bsearch(&kp, all, n, sizeof(*all), proc_fullname_cmp);
	free(key.fullname);
	return found != NULL ? *found : NULL;
}

/* The settings P will run with next: what a new config is compared to. */
static const struct program_conf *
proc_target(const struct proc *p)
{
	return p->next_pc != NULL ? p->next_pc : p->pc;
}

struct pc_slot {
	const struct program_conf *pc;
	size_t		 idx;		/* in the config's list */
};

static int
pc_slot_cmp(const void *x, const void *y)
{
	const struct pc_slot *a = x, *b = y;

	return strcmp(a->pc->group, b->pc->group);
}

/*
 * How status will show each process of CONF, in the config's order:
 * PROCESS when alone in a group of its name, else GROUP:PROCESS.
 */
static char **
program_conf_displays(const struct tend_conf *conf)
{
	struct program_conf *pc;
	struct pc_slot *all;
	char **names;
	size_t i, j, k, n = 0;

	all = xcalloc(conf->nprocs + 1, sizeof(*all));
	TAILQ_FOREACH(pc, &conf->programs, entry) {
		all[n].pc = pc;
		all[n].idx = n;
		n++;
	}
	qsort(all, n, sizeof(*all), pc_slot_cmp);
	names = xcalloc(n + 1, sizeof(*names));
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && strcmp(all[i].pc->group,
		    all[j].pc->group) == 0; j++)
			;
		for (k = i; k < j; k++) {
			pc = (struct program_conf *)all[k].pc;
			if (j - i == 1 && strcmp(pc->group, pc->name) == 0)
				names[all[k].idx] = xstrdup(pc->name);
			else
				xasprintf(&names[all[k].idx], "%s:%s",
				    pc->group, pc->name);
		}
	}
	free(all);
	return names;
}

static void
plan_add(struct reload_plan *plan, enum reload_change change,
    const char *name, const char *group, const char *process, char **keys)
{
	struct reload_item *it;

	plan->items = xreallocarray(plan->items, plan->n + 1,
	    sizeof(*plan->items));
	it = &plan->items[plan->n++];
	it->change = change;
	it->name = xstrdup(name);
	it->group = xstrdup(group);
	it->process = xstrdup(process);
	it->keys = keys;
}

void
program_plan(const struct tend_conf *cur, const struct tend_conf *new,
    struct reload_plan *plan)
{
	struct proc **all, *p;
	struct program_conf *pc;
	char **names, **keys;
	size_t n, i = 0;

	all = program_by_fullname(&n);
	names = program_conf_displays(new);
	TAILQ_FOREACH(p, &procs, entry)
		p->reload_seen = 0;
	/* In the order of the new config, so it reads like the file. */
	for (pc = TAILQ_FIRST(&new->programs); pc != NULL;
	    pc = TAILQ_NEXT(pc, entry), i++) {
		p = program_lookup(all, n, pc);
		if (p != NULL)
			p->reload_seen = 1;
		if (p == NULL || p->removed) {
			plan_add(plan, RELOAD_ADDED, names[i], pc->group,
			    pc->name, NULL);
			continue;
		}
		keys = config_program_changes(cur, proc_target(p), new, pc);
		if (keys != NULL)
			plan_add(plan, RELOAD_CHANGED, names[i], pc->group,
			    pc->name, keys);
		else
			plan->unchanged++;
	}
	TAILQ_FOREACH(p, &procs, entry) {
		if (!p->reload_seen && !p->removed)
			plan_add(plan, RELOAD_REMOVED, p->display, p->group,
			    p->name, NULL);
		p->reload_seen = 0;
	}
	for (i = 0; names[i] != NULL; i++)
		free(names[i]);
	free(names);
	free(all);
}

/*
 * The settings of an up process stay with it until it is down, however
 * many reloads come meanwhile: its stop uses them. Take them off OLD.
 */
static void
proc_own_pc(struct proc *p, struct tend_conf *old)
{
	if (p->pc_owned)
		return;
	TAILQ_REMOVE(&old->programs, p->pc, entry);
	p->pc_owned = 1;
}

/*
 * STARTING without a process: its launcher has exited and its pidfile
 * names nothing yet. Its daemon may be running all the same, so what
 * goes away or restarts stops it as a stop would: the pidfile is read
 * once more, and a daemon found is adopted and stopped.
 */
static int
proc_awaits_pidfile(const struct proc *p)
{
	return p->state == PROC_STARTING && p->pid <= 0 && !p->reaped;
}

static void
program_change(struct proc *p, struct tend_conf *old,
    struct program_conf *pc, char **keys)
{
	char *list = program_join(keys);

	if (program_is_up(p) || proc_awaits_pidfile(p)) {
		log_info("%s: config changed (%s): restarting", p->display,
		    list);
		proc_own_pc(p, old);
		p->next_pc = pc;
		/* A person's stop stands; anything else comes back up. */
		if (p->want != WANT_DOWN)
			p->want = WANT_UP;
		if (p->state != PROC_STOPPING)
			proc_enter_stopping(p, p->pc->stopsignal, NULL);
		/* Nothing to stop after all: on to the new settings now. */
		if (!program_is_up(p)) {
			proc_take_next(p);
			if (p->want == WANT_UP)
				p->reload_start = 2;
		}
	} else {
		log_info("%s: config changed (%s)", p->display, list);
		p->pc = pc;
		if (p->want == WANT_UP || (p->want == WANT_NONE &&
		    pc->autostart))
			p->reload_start = 2;
	}
	free(list);
}

static void
program_remove(struct proc *p, struct tend_conf *old)
{
	p->removed = 1;
	p->want = WANT_DOWN;
	p->next_pc = NULL;	/* it was in OLD's list */
	if (program_is_up(p) || proc_awaits_pidfile(p)) {
		log_info("%s: removed from the config: stopping", p->display);
		proc_own_pc(p, old);
		if (p->state != PROC_STOPPING)
			proc_enter_stopping(p, p->pc->stopsignal, NULL);
		if (program_is_up(p))
			return;
		/* Nothing was running: forgotten now (its pc with it). */
	}
	if (p->state == PROC_BACKOFF)
		proc_set_state(p, PROC_STOPPED, "removed from the config");
	program_forget(p);
}

void
program_reload(struct tend_conf *old, struct tend_conf *new)
{
	struct proc **all, *p, *next;
	struct program_conf *pc;
	char **keys;
	size_t n;

	program_reloading = 1;
	all = program_by_fullname(&n);
	TAILQ_FOREACH(p, &procs, entry)
		p->reload_seen = p->reload_start = 0;
	TAILQ_FOREACH(pc, &new->programs, entry) {
		p = program_lookup(all, n, pc);
		if (p == NULL) {
			p = proc_new(pc);
			TAILQ_INSERT_TAIL(&procs, p, entry);
			p->reload_seen = 1;
			if (pc->autostart)
				p->reload_start = 1;
			log_info("%s:%s: added to the config", pc->group,
			    pc->name);
			continue;
		}
		p->reload_seen = 1;
		if (p->removed) {
			/* Still stopping from a reload that removed it. */
			log_info("%s: back in the config: it starts again "
			    "once stopped", p->display);
			p->removed = 0;
			p->next_pc = pc;
			p->want = pc->autostart ? WANT_UP : WANT_NONE;
			continue;
		}
		keys = config_program_changes(old, proc_target(p), new, pc);
		if (keys == NULL) {
			/* Untouched: same pid, same timers, new settings. */
			if (p->next_pc != NULL)
				p->next_pc = pc;
			else
				p->pc = pc;
			continue;
		}
		program_change(p, old, pc, keys);
		strv_free(keys);
	}
	free(all);
	for (p = TAILQ_FIRST(&procs); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (!p->reload_seen && !p->removed)
			program_remove(p, old);
	}
	program_reloading = 0;
	program_sort();
	program_update_display();

	/* Start order, as at boot: low priorities first. */
	TAILQ_FOREACH(p, &procs, entry) {
		if (p->reload_start == 0)
			continue;
		p->want = WANT_UP;
		p->startfails = 0;
		p->crashes = 0;
		proc_spawn(p, p->reload_start == 1 ? "added by reload" :
		    "config changed");
		p->reload_start = 0;
	}
}

void
reload_plan_free(struct reload_plan *plan)
{
	int i;

	for (i = 0; i < plan->n; i++) {
		free(plan->items[i].name);
		free(plan->items[i].group);
		free(plan->items[i].process);
		strv_free(plan->items[i].keys);
	}
	free(plan->items);
	strv_free(plan->restart);
	memset(plan, 0, sizeof(*plan));
}
