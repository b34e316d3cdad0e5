/*
 * schedule.c: jobs started by their cron expression (spec §12
 * schedule). Every scheduled process has an entry in one heap ordered
 * by its next run, and one timer waits for the earliest: a
 * CLOCK_REALTIME timerfd armed at that wall time, absolute, with
 * TFD_TIMER_CANCEL_ON_SET, so the kernel wakes tendd at the right wall
 * time whatever happens to the clock, and says so when the clock is
 * set. Between runs nothing runs: no per-minute tick, no scan.
 *
 * Clock steps: forward, every entry whose run was passed over is due
 * once (a missed run runs at most once); back, an entry is never due
 * before the minute after its last run (a minute never runs twice).
 * A run that finds its job still running is skipped, logged, counted.
 *
 * Tests move the clock without root or waiting: TEND_CLOCK_OFFSET_FILE
 * names a file of seconds added to the real time, read again (as a
 * clock step) whenever it is written (inotify).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "tendd.h"

struct sched {
	struct proc	*p;
	char		*expr;		/* as parsed */
	struct cron	 cron;
	time_t		 next;		/* wall clock */
	time_t		 last;		/* the last run's time; 0: none */
	int		 skipped;
	size_t		 idx;		/* in the heap */
};

static struct sched	**sched_heap;
static size_t		 sched_n, sched_cap;
static int		 sched_fd = -1;
static struct event	*sched_ev;
static double		 sched_offset;	/* tests: TEND_CLOCK_OFFSET_FILE */
static const char	*sched_offset_file;
static int		 sched_ino = -1;
static struct event	*sched_inoev;

static double
sched_read_offset(void)
{
	char buf[64];
	ssize_t n;
	int fd;

	if (sched_offset_file == NULL ||
	    (fd = open(sched_offset_file, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strtod(buf, NULL);
}

static time_t
sched_now(void)
{
	return (time_t)(util_wallclock() + sched_offset);
}

/* ---- the heap, by next run */

static int
sched_less(size_t a, size_t b)
{
	return sched_heap[a]->next < sched_heap[b]->next;
}

static void
sched_swap(size_t a, size_t b)
{
	struct sched *t = sched_heap[a];

	sched_heap[a] = sched_heap[b];
	sched_heap[b] = t;
	sched_heap[a]->idx = a;
	sched_heap[b]->idx = b;
}

static void
sched_fix(size_t i)
{
	size_t c;

	while (i > 0 && sched_less(i, (i - 1) / 2)) {
		sched_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		c = 2 * i + 1;
		if (c >= sched_n)
			break;
		if (c + 1 < sched_n && sched_less(c + 1, c))
			c++;
		if (!sched_less(c, i))
			break;
		sched_swap(i, c);
		i = c;
	}
}

static void
sched_push(struct sched *e)
{
	if (sched_n == sched_cap) {
		sched_cap = sched_cap ? 2 * sched_cap : 16;
		sched_heap = xreallocarray(sched_heap, sched_cap,
		    sizeof(*sched_heap));
	}
	e->idx = sched_n;
	sched_heap[sched_n++] = e;
	sched_fix(e->idx);
}

static void
sched_remove(struct sched *e)
{
	size_t i = e->idx;

	if (i != sched_n - 1) {
		sched_swap(i, sched_n - 1);
		sched_n--;
		sched_fix(i);
	} else
		sched_n--;
}

/* ---- the one timer */

static void
sched_arm(void)
{
	struct itimerspec its;
	double real;

	if (sched_fd == -1)
		return;
	memset(&its, 0, sizeof(its));
	if (sched_n > 0) {
		real = (double)sched_heap[0]->next - sched_offset;
		if (real < 1)
			real = 1;
		its.it_value.tv_sec = (time_t)real;
		its.it_value.tv_nsec = (long)((real - (double)(time_t)real) *
		    1e9);
	}
	if (timerfd_settime(sched_fd, TFD_TIMER_ABSTIME |
	    TFD_TIMER_CANCEL_ON_SET, &its, NULL) == -1)
		log_warn("schedule: cannot arm the timer: %s", strerror(errno));
}

/* The next run after NOW, never at or before the last run's minute. */
static void
sched_plan(struct sched *e, time_t now)
{
	e->next = cron_next(&e->cron, now > e->last ? now : e->last);
	if (e->next == (time_t)-1)
		e->next = (time_t)1 << 40;	/* never (cannot happen) */
}

/* E is due: start the job unless it is still running. */
static void
sched_fire(struct sched *e)
{
	struct state_arg a = { .why = "scheduled",
	    .reset = STATE_RESET_TRIES | STATE_RESET_SHORT };
	struct proc *p = e->p;

	if (tendd_shutting_down() || persist_is_disabled(p) || p->removed)
		return;
	if (program_is_up(p) || p->state == PROC_STARTING ||
	    p->state == PROC_BACKOFF || p->state == PROC_WAITING) {
		e->skipped++;
		log_warn("%s: schedule: still %s, this run is skipped "
		    "(%d skipped)", p->display, program_state_name(p->state),
		    e->skipped);
		return;
	}
	p->want = WANT_UP;
	state_event(p, E_START, &a);
}

/* Every due entry runs (once); STEPPED: the clock was set. */
static void
sched_run(int stepped)
{
	struct sched *e;
	time_t now = sched_now();
	size_t i;

	if (stepped) {
		/* passed over: due now (once); else planned afresh */
		for (i = 0; i < sched_n; i++)
			if (sched_heap[i]->next > now)
				sched_plan(sched_heap[i], now);
		for (i = sched_n; i-- > 0;)
			sched_fix(i);
	}
	while (sched_n > 0 && sched_heap[0]->next <= now) {
		e = sched_heap[0];
		e->last = now;
		sched_plan(e, now);
		sched_fix(0);
		sched_fire(e);
	}
	sched_arm();
}

static void
sched_timer_cb(int fd, short ev, void *arg)
{
	uint64_t n;
	int stepped = 0;

	if (read(fd, &n, sizeof(n)) == -1) {
		if (errno == EAGAIN)
			return;
		stepped = errno == ECANCELED;
	}
	if (stepped)
		log_info("schedule: the clock was set; runs planned again");
	sched_run(stepped);
}

static void
sched_offset_cb(int fd, short ev, void *arg)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	sched_offset = sched_read_offset();
	log_info("schedule: clock offset now %gs", sched_offset);
	sched_run(1);
}

static void
sched_open(void)
{
	sched_fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (sched_fd == -1) {
		log_error("schedule: no timer: %s: schedules do not run",
		    strerror(errno));
		return;
	}
	sched_ev = event_new(tendd_base, sched_fd, EV_READ | EV_PERSIST,
	    sched_timer_cb, NULL);
	if (sched_ev == NULL || event_add(sched_ev, NULL) == -1)
		fatal("cannot watch the schedule timer");
	if ((sched_offset_file = getenv("TEND_CLOCK_OFFSET_FILE")) == NULL)
		return;
	sched_offset = sched_read_offset();
	sched_ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (sched_ino == -1 || inotify_add_watch(sched_ino, sched_offset_file,
	    IN_CLOSE_WRITE) == -1)
		return;
	sched_inoev = event_new(tendd_base, sched_ino, EV_READ | EV_PERSIST,
	    sched_offset_cb, NULL);
	if (sched_inoev != NULL)
		event_add(sched_inoev, NULL);
}

/* ---- the table follows the processes */

static void
sched_drop(struct sched *e)
{
	sched_remove(e);
	e->p->sched = NULL;
	free(e->expr);
	free(e);
}

/* P's entry as its config says: made, changed or dropped. */
static void
sched_sync_one(struct proc *p, time_t now)
{
	const char *expr = p->runjob == NULL ? p->pc->schedule : NULL;
	struct sched *e = p->sched;
	struct cron c;
	char *why = NULL;

	if (e != NULL && (expr == NULL || strcmp(expr, e->expr) != 0))
		sched_drop(e);
	if (expr == NULL || p->sched != NULL)
		return;
	if (cron_parse(expr, &c, &why) == -1) {
		/* the reader refused it already: cannot happen */
		log_error("%s: schedule: %s", p->display, why);
		free(why);
		return;
	}
	e = xcalloc(1, sizeof(*e));
	e->p = p;
	e->expr = xstrdup(expr);
	e->cron = c;
	sched_plan(e, now);
	p->sched = e;
	sched_push(e);
}

void
schedule_sync(void)
{
	struct proc *p;
	time_t now;

	if (sched_fd == -1 && sched_ev == NULL) {
		TAILQ_FOREACH(p, &procs, entry)
			if (p->pc->schedule != NULL)
				break;
		if (p == NULL)
			return;
		sched_open();
	}
	now = sched_now();
	TAILQ_FOREACH(p, &procs, entry)
		sched_sync_one(p, now);
	sched_arm();
}

void
schedule_forget(struct proc *p)
{
	if (p->sched != NULL) {
		sched_drop(p->sched);
		sched_arm();
	}
}

double
schedule_next(const struct proc *p, int *skipped)
{
	*skipped = p->sched != NULL ? p->sched->skipped : 0;
	return p->sched != NULL ? (double)p->sched->next : 0;
}

void
schedule_describe(const struct proc *p, char *buf, size_t len)
{
	struct tm tm, now;
	time_t t, n;

	buf[0] = '\0';
	if (p->sched == NULL || len == 0)
		return;
	t = p->sched->next;
	n = sched_now();
	localtime_r(&t, &tm);
	localtime_r(&n, &now);
	if (t - n < 86400 && (tm.tm_mday == now.tm_mday || t - n < 43200))
		strftime(buf, len, "; next %H:%M", &tm);
	else
		strftime(buf, len, "; next %Y-%m-%d %H:%M", &tm);
}

void
schedule_close(void)
{
	while (sched_n > 0)
		sched_drop(sched_heap[0]);
	free(sched_heap);
	sched_heap = NULL;
	sched_cap = 0;
	if (sched_ev != NULL)
		event_free(sched_ev);
	if (sched_inoev != NULL)
		event_free(sched_inoev);
	if (sched_fd != -1)
		close(sched_fd);
	if (sched_ino != -1)
		close(sched_ino);
	sched_ev = sched_inoev = NULL;
	sched_fd = sched_ino = -1;
}
