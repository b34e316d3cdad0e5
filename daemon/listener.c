/*
 * listener.c: supervisord's event listeners (spec §10). Owns the pools
 * (one per [eventlistener:] section: its buffer of events, its
 * poolserial), the global serial, and each listener process's channel:
 * the pipe tendd writes events into (the child's stdin) and the pipe it
 * reads the protocol from (the child's stdout), both nonblocking on
 * tendd's side. At most one event is in flight per process, so what
 * tendd holds for a listener that never reads is that one event and
 * its pool's buffer_size: a slow listener slows nobody.
 *
 * The protocol, as supervisor/dispatchers.py reads it: ACKNOWLEDGED
 * until READY\n; READY until an event is sent (anything it writes then
 * is a breach); BUSY until "RESULT N\n" and N bytes: OK, or FAIL (the
 * event goes back to the head of the buffer). A breach is logged and
 * the process restarted.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "tendd.h"

/* At shutdown, how long a listener may take to empty its pool. */
#define LISTENER_DRAIN_SECS	5
/* A result line and its body are short ("RESULT 2\nOK"). */
#define LISTENER_LINE_MAX	64
#define LISTENER_RESULT_MAX	4096

struct sev {
	int			 refs;
	unsigned long long	 serial;
	enum sevent_type	 type;
	size_t			 len;
	char			 data[];
};

struct qent {
	struct sev		*ev;
	unsigned long long	 poolserial;
};

enum lstate { L_ACK, L_READY, L_BUSY, L_UNKNOWN };

struct pool {
	TAILQ_ENTRY(pool)	 entry;
	char			*name;
	long long		 serial;	/* the last poolserial given */
	struct qent		*q;		/* oldest first */
	int			 qlen, qcap;
	double			 drop_logged;	/* when the last drop was logged */
	unsigned long long	 drops_unlogged; /* drops since that line */
	TAILQ_HEAD(, listener)	 members;
};

struct listener {
	TAILQ_ENTRY(listener)	 entry;		/* in its pool */
	struct proc		*p;
	struct pool		*pool;
	int			 infd, outfd;	/* ours: -1 when closed */
	int			 child_in, child_out;	/* during a spawn */
	struct event		*rev, *wev;
	enum lstate		 st;
	char			 rbuf[LISTENER_LINE_MAX +
				    LISTENER_RESULT_MAX];
	size_t			 rlen;
	long			 resultlen;	/* -1: the line not read yet */
	char			*wbuf;
	size_t			 wlen, woff;
	struct qent		 cur;		/* BUSY: the event sent */
};

static TAILQ_HEAD(, pool) listener_pools =
    TAILQ_HEAD_INITIALIZER(listener_pools);
static long long listener_serial = -1;
static unsigned long long listener_mask;	/* what any pool wants */

static void listener_dispatch(struct pool *);
static double listener_drain_until;	/* shutdown: holds end; 0: none */
static struct event *listener_drain_ev;

static void
listener_unref(struct sev *ev)
{
	if (ev != NULL && --ev->refs == 0)
		free(ev);
}

static unsigned long long
listener_pool_mask(struct pool *pl)
{
	struct listener *l = TAILQ_FIRST(&pl->members);

	return l != NULL ? l->p->pc->events_mask : 0;
}

static int
listener_pool_size(struct pool *pl)
{
	struct listener *l = TAILQ_FIRST(&pl->members);

	return l != NULL ? l->p->pc->buffer_size : 10;
}

static void
listener_remask(void)
{
	struct pool *pl;

	listener_mask = 0;
	TAILQ_FOREACH(pl, &listener_pools, entry)
		listener_mask |= listener_pool_mask(pl);
}

int
listener_wanted(enum sevent_type t)
{
	return (listener_mask & SEV_BIT(t)) != 0;
}

/*
 * supervisord logs every dropped event; a producer far faster than its
 * listener would make that a line per event, so one line a second at
 * most, with the count of those it stands for.
 */
static void
listener_log_drop(struct pool *pl, unsigned long long serial)
{
	double now = util_now();

	if (pl->drop_logged != 0 && now - pl->drop_logged < 1) {
		pl->drops_unlogged++;
		return;
	}
	if (pl->drops_unlogged > 0)
		log_warn("pool %s event buffer overflowed, discarding event "
		    "%llu (and %llu more since the last such line)", pl->name,
		    serial, pl->drops_unlogged);
	else
		log_warn("pool %s event buffer overflowed, discarding event "
		    "%llu", pl->name, serial);
	pl->drop_logged = now;
	pl->drops_unlogged = 0;
}

/*
 * Into the pool's buffer (at the head for an event handed back), the
 * oldest dropped first when it is full, as supervisord does.
 */
static void
listener_accept(struct pool *pl, struct qent e, int head)
{
	int size = listener_pool_size(pl);

	if (size < 1)
		size = 1;
	while (pl->qlen >= size) {
		listener_log_drop(pl, pl->q[0].ev->serial);
		listener_unref(pl->q[0].ev);
		memmove(pl->q, pl->q + 1, (size_t)(pl->qlen - 1) *
		    sizeof(*pl->q));
		pl->qlen--;
	}
	if (pl->qlen == pl->qcap) {
		pl->qcap = pl->qcap ? pl->qcap * 2 : 16;
		pl->q = xreallocarray(pl->q, (size_t)pl->qcap, sizeof(*pl->q));
	}
	if (head) {
		memmove(pl->q + 1, pl->q, (size_t)pl->qlen * sizeof(*pl->q));
		pl->q[0] = e;
	} else
		pl->q[pl->qlen] = e;
	pl->qlen++;
}

void
listener_notify(enum sevent_type t, const char *data, size_t len)
{
	struct sev *ev = NULL;
	struct pool *pl;
	struct qent e;

	TAILQ_FOREACH(pl, &listener_pools, entry) {
		if (!(listener_pool_mask(pl) & SEV_BIT(t)))
			continue;
		if (ev == NULL) {
			ev = xmalloc(sizeof(*ev) + len);
			ev->refs = 0;
			ev->serial = (unsigned long long)++listener_serial;
			ev->type = t;
			ev->len = len;
			memcpy(ev->data, data, len);
		}
		ev->refs++;
		e.ev = ev;
		e.poolserial = (unsigned long long)++pl->serial;
		listener_accept(pl, e, 0);
	}
	TAILQ_FOREACH(pl, &listener_pools, entry)
		if (pl->qlen > 0)
			listener_dispatch(pl);
}

/* ------------------------------------------------------------------ */
/* One listener's channel                                              */

static void
listener_close(struct listener *l)
{
	if (l->rev != NULL)
		event_free(l->rev);
	if (l->wev != NULL)
		event_free(l->wev);
	l->rev = l->wev = NULL;
	if (l->infd != -1)
		close(l->infd);
	if (l->outfd != -1)
		close(l->outfd);
	l->infd = l->outfd = -1;
	free(l->wbuf);
	l->wbuf = NULL;
	l->wlen = l->woff = 0;
	l->rlen = 0;
	l->resultlen = -1;
	/* an event it had not answered goes back to the head */
	if (l->cur.ev != NULL && l->pool != NULL)
		listener_accept(l->pool, l->cur, 1);
	else
		listener_unref(l->cur.ev);
	l->cur.ev = NULL;
	l->st = L_UNKNOWN;
}

/* A breach of the protocol: logged, and the process started again. */
static void
listener_breach(struct listener *l, const char *what)
{
	struct proc *p = l->p;
	char *cause = NULL;

	log_warn("%s: broke the event listener protocol (%s); restarting it",
	    p->display, what);
	if (l->cur.ev != NULL && l->pool != NULL)
		listener_accept(l->pool, l->cur, 1);
	else
		listener_unref(l->cur.ev);
	l->cur.ev = NULL;
	l->st = L_UNKNOWN;
	l->rlen = 0;
	if (program_signal(p, SIGKILL, &cause) == -1) {
		log_warn("%s: %s", p->display, cause);
		free(cause);
	}
}

static void
listener_write(struct listener *l)
{
	ssize_t n;

	while (l->woff < l->wlen) {
		n = write(l->infd, l->wbuf + l->woff, l->wlen - l->woff);
		if (n > 0) {
			l->woff += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			event_add(l->wev, NULL);
			return;
		}
		/* its stdin is closed: it ends, and the event goes back */
		log_debug("%s: cannot send an event: %s", l->p->display,
		    strerror(errno));
		event_del(l->wev);
		free(l->wbuf);
		l->wbuf = NULL;
		l->wlen = l->woff = 0;
		return;
	}
	event_del(l->wev);
	free(l->wbuf);
	l->wbuf = NULL;
	l->wlen = l->woff = 0;
}

static void
listener_write_cb(int fd, short what, void *arg)
{
	listener_write(arg);
}

static void
listener_send(struct listener *l, struct qent e)
{
	struct sev *ev = e.ev;
	int n;

	n = xasprintf(&l->wbuf, "ver:3.0 server:%s serial:%llu pool:%s "
	    "poolserial:%llu eventname:%s len:%zu\n", tendd_conf != NULL ?
	    tendd_conf->identifier : "tend", ev->serial, l->pool->name,
	    e.poolserial, sevent_name(ev->type), ev->len);
	l->wbuf = xrealloc(l->wbuf, (size_t)n + ev->len);
	memcpy(l->wbuf + n, ev->data, ev->len);
	l->wlen = (size_t)n + ev->len;
	l->woff = 0;
	l->cur = e;
	l->st = L_BUSY;
	l->resultlen = -1;
	listener_write(l);
}

static void
listener_dispatch(struct pool *pl)
{
	struct listener *l;

	while (pl->qlen > 0) {
		TAILQ_FOREACH(l, &pl->members, entry)
			if (l->st == L_READY && l->p->state == PROC_RUNNING &&
			    l->infd != -1)
				break;
		if (l == NULL)
			return;
		struct qent e = pl->q[0];
		memmove(pl->q, pl->q + 1, (size_t)(pl->qlen - 1) *
		    sizeof(*pl->q));
		pl->qlen--;
		listener_send(l, e);
	}
}

static void
listener_consume(struct listener *l, size_t n)
{
	memmove(l->rbuf, l->rbuf + n, l->rlen - n);
	l->rlen -= n;
}

/* The result's body: OK, FAIL (handed back), else a breach. */
static int
listener_result(struct listener *l, const char *body, size_t len)
{
	struct qent e = l->cur;

	l->cur.ev = NULL;
	if (len == 2 && memcmp(body, "OK", 2) == 0) {
		listener_unref(e.ev);
		l->st = L_ACK;
		return 0;
	}
	if (len == 4 && memcmp(body, "FAIL", 4) == 0) {
		log_warn("%s: event %llu was rejected", l->p->display,
		    e.ev->serial);
		listener_accept(l->pool, e, 1);
		l->st = L_ACK;
		return 0;
	}
	l->cur = e;
	return -1;
}

/* What it wrote, taken as supervisord's dispatcher does. 0, or -1. */
static int
listener_parse(struct listener *l)
{
	const char *nl;
	char *end, line[LISTENER_LINE_MAX + 1];
	long n;

	while (l->rlen > 0) {
		switch (l->st) {
		case L_ACK:
			if (l->rlen < 6)
				return memcmp(l->rbuf, "READY\n", l->rlen) == 0 ?
				    0 : -1;
			if (memcmp(l->rbuf, "READY\n", 6) != 0)
				return -1;
			listener_consume(l, 6);
			l->st = L_READY;
			break;
		case L_READY:
		case L_UNKNOWN:
			return -1;
		case L_BUSY:
			if (l->resultlen < 0) {
				nl = memchr(l->rbuf, '\n', l->rlen);
				if (nl == NULL)
					return l->rlen > LISTENER_LINE_MAX ?
					    -1 : 0;
				if ((size_t)(nl - l->rbuf) > LISTENER_LINE_MAX ||
				    nl - l->rbuf < 8 ||
				    memcmp(l->rbuf, "RESULT ", 7) != 0)
					return -1;
				memcpy(line, l->rbuf + 7, (size_t)(nl - l->rbuf)
				    - 7);
				line[nl - l->rbuf - 7] = '\0';
				errno = 0;
				n = strtol(line, &end, 10);
				if (errno != 0 || *end != '\0' || n < 0 ||
				    n > LISTENER_RESULT_MAX)
					return -1;
				l->resultlen = n;
				listener_consume(l, (size_t)(nl - l->rbuf) + 1);
				break;
			}
			if (l->rlen < (size_t)l->resultlen)
				return 0;
			if (listener_result(l, l->rbuf,
			    (size_t)l->resultlen) == -1)
				return -1;
			listener_consume(l, (size_t)l->resultlen);
			l->resultlen = -1;
			break;
		}
	}
	return 0;
}

static void
listener_read_cb(int fd, short what, void *arg)
{
	struct listener *l = arg;
	ssize_t n;

	n = read(l->outfd, l->rbuf + l->rlen, sizeof(l->rbuf) - l->rlen);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		listener_close(l);
		if (l->pool != NULL)
			listener_dispatch(l->pool);
		return;
	}
	if (l->st == L_UNKNOWN)
		return;		/* being restarted: what it says is dropped */
	l->rlen += (size_t)n;
	if (listener_parse(l) == -1) {
		listener_breach(l, l->st == L_READY ? "wrote while READY" :
		    l->st == L_BUSY ? "not a RESULT" : "not READY");
		return;
	}
	if (l->st == L_READY)
		listener_dispatch(l->pool);
	/* shutdown waits for nothing more from it once it is idle */
	if (program_stopping_all && l->st != L_BUSY)
		program_shutdown_progress();
}

/* ------------------------------------------------------------------ */
/* Processes and pools                                                 */

static void
listener_detach(struct proc *p)
{
	struct listener *l = p->lsn;
	struct pool *pl;
	int i;

	if (l == NULL)
		return;
	pl = l->pool;
	listener_close(l);
	TAILQ_REMOVE(&pl->members, l, entry);
	if (TAILQ_EMPTY(&pl->members)) {
		for (i = 0; i < pl->qlen; i++)
			listener_unref(pl->q[i].ev);
		free(pl->q);
		free(pl->name);
		TAILQ_REMOVE(&listener_pools, pl, entry);
		free(pl);
	}
	free(l);
	p->lsn = NULL;
	listener_remask();
}

static void
listener_attach(struct proc *p)
{
	struct listener *l;
	struct pool *pl;

	TAILQ_FOREACH(pl, &listener_pools, entry)
		if (strcmp(pl->name, p->group) == 0)
			break;
	if (pl == NULL) {
		pl = xcalloc(1, sizeof(*pl));
		pl->name = xstrdup(p->group);
		pl->serial = -1;
		TAILQ_INIT(&pl->members);
		TAILQ_INSERT_TAIL(&listener_pools, pl, entry);
	}
	l = xcalloc(1, sizeof(*l));
	l->p = p;
	l->pool = pl;
	l->infd = l->outfd = l->child_in = l->child_out = -1;
	l->resultlen = -1;
	l->st = L_UNKNOWN;
	TAILQ_INSERT_TAIL(&pl->members, l, entry);
	p->lsn = l;
	listener_remask();
	sevent_ticks_arm();
}

/*
 * A process's listener side follows its settings: attached when it is
 * a listener (at creation and after a reload changed it), else detached.
 */
void
listener_proc_sync(struct proc *p)
{
	if (p->pc->listener && p->lsn == NULL)
		listener_attach(p);
	else if (!p->pc->listener && p->lsn != NULL)
		listener_detach(p);
	else if (p->lsn != NULL)
		listener_remask();
}

void
listener_proc_free(struct proc *p)
{
	listener_detach(p);
}

int
listener_spawn_prepare(struct proc *p, int *in, int out[2], char **cause)
{
	struct listener *l;
	int ip[2], op[2];

	*in = 0;
	listener_proc_sync(p);
	if ((l = p->lsn) == NULL)
		return 0;
	listener_close(l);
	if (pipe2(ip, O_CLOEXEC) == -1)
		return spawn_cause(cause, "cannot create a pipe", errno);
	if (pipe2(op, O_CLOEXEC) == -1) {
		close(ip[0]);
		close(ip[1]);
		return spawn_cause(cause, "cannot create a pipe", errno);
	}
	/* 0 says "none" to spawn.c (tendd may run with its stdin closed) */
	if (ip[0] == 0) {
		ip[0] = fcntl(0, F_DUPFD_CLOEXEC, 3);
		close(0);
		if (ip[0] == -1) {
			close(ip[1]);
			close(op[0]);
			close(op[1]);
			return spawn_cause(cause, "cannot create a pipe", errno);
		}
	}
	util_set_nonblock(ip[1]);
	util_set_nonblock(op[0]);
	l->infd = ip[1];
	l->outfd = op[0];
	/* its stdout replaces output.c's (none: stdout_logfile is NONE) */
	l->child_in = *in = ip[0];
	l->child_out = out[0] = op[1];
	return 0;
}

void
listener_spawn_done(struct proc *p, int ok)
{
	struct listener *l = p->lsn;

	if (l == NULL || l->child_in == -1)
		return;
	close(l->child_in);
	close(l->child_out);
	l->child_in = l->child_out = -1;
	if (!ok) {
		listener_close(l);
		return;
	}
	l->rev = event_new(tendd_base, l->outfd, EV_READ | EV_PERSIST,
	    listener_read_cb, l);
	l->wev = event_new(tendd_base, l->infd, EV_WRITE, listener_write_cb,
	    l);
	if (l->rev == NULL || l->wev == NULL)
		fatal("cannot create an event");
	event_add(l->rev, NULL);
	l->st = L_ACK;
	l->rlen = 0;
	l->resultlen = -1;
}

static void
listener_drain_cb(int fd, short what, void *arg)
{
	program_shutdown_progress();
}

/*
 * Shutdown stops a listener once it has taken what its pool holds, so
 * that it sees SUPERVISOR_STATE_CHANGE_STOPPING and the programs' stops
 * (supervisord's loop lets it); one that does not take them is stopped
 * after LISTENER_DRAIN_SECS all the same.
 */
int
listener_holds(struct proc *p)
{
	struct listener *l = p->lsn;
	struct timeval tv;
	double now = util_now();

	if (l == NULL || l->infd == -1 || p->state != PROC_RUNNING ||
	    (l->st != L_BUSY && l->pool->qlen == 0))
		return 0;
	if (listener_drain_until == 0)
		listener_drain_until = now + LISTENER_DRAIN_SECS;
	if (now >= listener_drain_until)
		return 0;
	if (listener_drain_ev == NULL &&
	    (listener_drain_ev = evtimer_new(tendd_base, listener_drain_cb,
	    NULL)) == NULL)
		fatal("cannot create a timer");
	tv.tv_sec = (time_t)(listener_drain_until - now) + 1;
	tv.tv_usec = 0;
	evtimer_add(listener_drain_ev, &tv);
	return 1;
}

/* A listener becoming RUNNING may take what waits in its pool. */
void
listener_state_changed(struct proc *p)
{
	if (p->lsn != NULL && p->state == PROC_RUNNING)
		listener_dispatch(p->lsn->pool);
}
