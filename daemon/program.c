/*
 * program.c: the per-process state machine (spec §1). Every transition
 * goes through proc_set_state(), which owns the state timer, the log line
 * and the broadcast to waiters. What a person asked for (want) is kept
 * apart from what is happening (state), so a user's stop is never
 * followed by a restart.
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

struct procs procs = TAILQ_HEAD_INITIALIZER(procs);

static int	 program_stopping_all;	/* tendd is shutting down */

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
static void	 proc_spawn(struct proc *, const char *);
static void	 proc_timer_cb(int, short, void *);
static void	 program_shutdown_step(void);

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

/* Processes are kept by priority (low first), then by name. */
static void
proc_insert(struct proc *p)
{
	struct proc *q;

	TAILQ_FOREACH(q, &procs, entry) {
		if (q->pc->priority > p->pc->priority ||
		    (q->pc->priority == p->pc->priority &&
		    strcmp(q->fullname, p->fullname) > 0)) {
			TAILQ_INSERT_BEFORE(q, p, entry);
			return;
		}
	}
	TAILQ_INSERT_TAIL(&procs, p, entry);
}

void
program_setup(struct tend_conf *conf)
{
	struct program_conf *pc;
	struct proc *p;

	TAILQ_FOREACH(pc, &conf->programs, entry) {
		p = xcalloc(1, sizeof(*p));
		p->pc = pc;
		p->name = xstrdup(pc->name);
		p->group = xstrdup(pc->group);
		xasprintf(&p->fullname, "%s:%s", p->group, p->name);
		p->display = strcmp(p->group, p->name) == 0 ? p->name :
		    p->fullname;
		p->state = PROC_NEW;
		p->want = WANT_NONE;
		p->pidfd = -1;
		p->state_time = util_now();
		p->state_wall = util_wallclock();
		p->timer = evtimer_new(tendd_base, proc_timer_cb, p);
		if (p->timer == NULL)
			fatal("cannot create a timer");
		proc_insert(p);
	}
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
	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
	p->timer_due = util_now() + secs;
	evtimer_add(p->timer, &tv);
}

static void
proc_set_state(struct proc *p, enum proc_state s, const char *fmt, ...)
{
	enum proc_state old = p->state;
	va_list ap;

	/* Each state arms its own timer after this; none carries over. */
	evtimer_del(p->timer);
	p->timer_due = 0;

	free(p->reason);
	p->reason = NULL;
	if (fmt != NULL) {
		va_start(ap, fmt);
		xvasprintf(&p->reason, fmt, ap);
		va_end(ap);
	}
	p->state = s;
	p->state_time = util_now();
	p->state_wall = util_wallclock();
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

	command_state_changed(p, old);

	if (s == PROC_FATAL && p->pc->critical && !program_stopping_all) {
		char *why;

		xasprintf(&why, "critical program %s is FATAL", p->display);
		tendd_shutdown(1, why);
		free(why);
	} else if (program_stopping_all)
		program_shutdown_step();
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

/* WHY, when given, says what led to this spawn in the transition's log. */
static void
proc_spawn(struct proc *p, const char *why)
{
	char *cause = NULL;

	if (program_stopping_all)
		return;
	free(p->spawnerr);
	p->spawnerr = NULL;
	if (spawn_proc(p, &cause) == -1) {
		/* A spawn error is final: retrying a missing binary is a loop. */
		p->spawnerr = cause;
		proc_set_state(p, PROC_FATAL, "%s", cause);
		return;
	}
	if (p->start_time > 0)
		p->restarts++;
	p->start_time = util_now();
	p->killed = 0;
	pidhash_add(p->pid, p);
	if (why != NULL)
		proc_set_state(p, PROC_STARTING, "%s", why);
	else
		proc_set_state(p, PROC_STARTING, NULL);
	if (p->state != PROC_STARTING)
		return;	/* a waiter or shutdown moved it on */
	if (p->pc->startsecs <= 0) {
		p->startfails = 0;
		proc_set_state(p, PROC_RUNNING, NULL);
	} else
		proc_arm(p, p->pc->startsecs);
}

static void
proc_enter_stopping(struct proc *p, int sig)
{
	int group = p->pc->stopasgroup;

	if (sig == SIGKILL) {
		group = p->pc->killasgroup || p->pc->stopasgroup;
		p->killed = 1;
	}
	if (p->pid <= 0) {
		/* Gone already; its end comes once its output is in. */
		if (p->state != PROC_STOPPING)
			proc_set_state(p, PROC_STOPPING, "exited already");
		return;
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
		proc_set_state(p, PROC_STOPPING, "SIG%s sent",
		    util_signal_name(sig));
	if (sig != SIGKILL)
		proc_arm(p, p->pc->stopwaitsecs);
}

static void
proc_timer_cb(int fd, short ev, void *arg)
{
	struct proc *p = arg;

	switch (p->state) {
	case PROC_STARTING:
		p->startfails = 0;
		proc_set_state(p, PROC_RUNNING, NULL);
		break;
	case PROC_BACKOFF:
		proc_spawn(p, p->startfails > 0 ? "retry after a failed start" :
		    "restart after backoff");
		break;
	case PROC_STOPPING:
		log_warn("%s: still running %gs after SIG%s; sending SIGKILL",
		    p->display, p->pc->stopwaitsecs,
		    util_signal_name(p->pc->stopsignal));
		proc_enter_stopping(p, SIGKILL);
		break;
	case PROC_RUNNING:
		/* Only a job being joined at shutdown arms a RUNNING timer. */
		if (program_stopping_all) {
			log_info("%s: not finished after joinsecs=%gs; stopping",
			    p->display, p->pc->joinsecs);
			proc_enter_stopping(p, p->pc->stopsignal);
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

/* The process is gone (reaped). Decide what comes next. */
static void
proc_ended(struct proc *p)
{
	const struct program_conf *pc = p->pc;
	int expected = config_exitcode_expected(pc, p->exitcode);
	int restart;
	double uptime, delay;
	char how[64];

	proc_format_exit(how, sizeof(how), p->exitcode);
	switch (p->state) {
	case PROC_STOPPING:
		proc_set_state(p, PROC_STOPPED, "%s", how);
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
		if (p->want != WANT_UP || program_stopping_all) {
			proc_set_state(p, PROC_EXITED, "%s", how);
			return;
		}
		p->startfails++;
		if (pc->startretries >= 0 && p->startfails > pc->startretries) {
			proc_set_state(p, PROC_FATAL,
			    "%s before startsecs=%gs; gave up after %d %s",
			    how, pc->startsecs, pc->startretries,
			    pc->startretries == 1 ? "retry" : "retries");
			return;
		}
		delay = program_backoff(pc, p->startfails);
		proc_set_state(p, PROC_BACKOFF, "%s before startsecs=%gs",
		    how, pc->startsecs);
		if (p->state == PROC_BACKOFF)
			proc_arm(p, delay);
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
		/*
		 * A crash loop never spins: each exit that comes before the
		 * process stayed up backoff_reset seconds doubles the delay.
		 */
		uptime = util_now() - p->running_time;
		if (uptime >= pc->backoff_reset)
			p->crashes = 0;
		p->crashes++;
		delay = program_crash_delay(pc, p->crashes);
		if (delay <= 0) {
			char why[96];

			snprintf(why, sizeof(why), "restart: %s", how);
			proc_spawn(p, why);
			return;
		}
		proc_set_state(p, PROC_BACKOFF, "%s", how);
		if (p->state == PROC_BACKOFF)
			proc_arm(p, delay);
		return;

	default:
		/* Only the states above have a process: a broken invariant. */
		log_error("%s: process ended in state %s", p->display,
		    program_state_name(p->state));
		proc_set_state(p, PROC_EXITED, "%s", how);
		return;
	}
}

void
program_reaped(struct proc *p, int status)
{
	p->exitcode = util_exitcode(status);
	p->has_exited = 1;
	pidhash_del(p->pid);
	/* From here on the pid may belong to someone else: forget it. */
	log_debug("%s: pid %ld reaped, exit code %d", p->display,
	    (long)p->pid, p->exitcode);
	p->pid = 0;
	if (p->pidfd != -1) {
		close(p->pidfd);
		p->pidfd = -1;
	}
	/*
	 * The end is judged now (a STARTING process that died is a failed
	 * start even if its output takes a moment), and reported once its
	 * last output is in the log.
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

int
program_start(struct proc *p, char **cause)
{
	if (program_stopping_all) {
		*cause = xstrdup("tendd is shutting down");
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
		proc_enter_stopping(p, p->pc->stopsignal);
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
	if (program_is_up(p)) {
		proc_enter_stopping(p, SIGKILL);
		return 0;
	}
	if (p->state == PROC_BACKOFF)
		proc_set_state(p, PROC_STOPPED, "killed while waiting to restart");
	return 0;
}

void
program_describe(struct proc *p, char *buf, size_t len)
{
	char dur[64], how[64];
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
		snprintf(buf, len, "not started");
		break;
	case PROC_STARTING:
		snprintf(buf, len, "pid %ld, starting", (long)p->pid);
		break;
	case PROC_RUNNING:
		util_format_duration(dur, sizeof(dur), now - p->running_time);
		snprintf(buf, len, "pid %ld, uptime %s", (long)p->pid, dur);
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
		if (p->has_exited)
			snprintf(buf, len, "exit %d, %s ago", p->exitcode, dur);
		else
			snprintf(buf, len, "%s ago", dur);
		break;
	case PROC_BACKOFF:
		if (p->startfails > 0 && p->pc->startretries >= 0)
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
	struct proc *p;
	int level = 0, found = 0;

	TAILQ_FOREACH(p, &procs, entry) {
		/* a level is still stopping: wait for it */
		if (p->pc->daemon && p->shutdown_stop && program_is_up(p))
			return;
	}
	TAILQ_FOREACH_REVERSE(p, &procs, procs, entry) {
		if (p->pc->daemon && program_is_up(p) && !p->shutdown_stop) {
			level = p->pc->priority;
			found = 1;
			break;
		}
	}
	if (found) {
		TAILQ_FOREACH_REVERSE(p, &procs, procs, entry) {
			if (p->pc->daemon && program_is_up(p) &&
			    !p->shutdown_stop && p->pc->priority == level) {
				p->shutdown_stop = 1;
				if (p->state != PROC_STOPPING)
					proc_enter_stopping(p, p->pc->stopsignal);
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

void
program_free_all(void)
{
	struct proc *p;
	size_t i;

	while ((p = TAILQ_FIRST(&procs)) != NULL) {
		TAILQ_REMOVE(&procs, p, entry);
		if (p->timer != NULL)
			event_free(p->timer);
		if (p->pidfd != -1)
			close(p->pidfd);
		output_free(p);
		free(p->name);
		free(p->group);
		free(p->fullname);
		free(p->spawnerr);
		free(p->reason);
		free(p);
	}
	for (i = 0; i < PIDHASH_SIZE; i++) {
		while (pidhash[i] != NULL) {
			struct pidslot *s = pidhash[i];

			pidhash[i] = s->next;
			free(s);
		}
	}
}
