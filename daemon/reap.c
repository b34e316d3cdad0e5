/*
 * reap.c: ended children turned into exits. Each process of ours is
 * watched through its pidfd, which turns readable when the process ends,
 * and is reaped by pid: both cost the same with ten children or ten
 * thousand. waitid(P_ALL), which the kernel answers by walking every child
 * tendd has, is kept for what no pidfd covers: tendd is a child subreaper,
 * so orphaned descendants land here too, and a failed spawn leaves its
 * child to be collected. SIGCHLD (which coalesces, so it may stand for
 * many deaths or none) schedules one such sweep shortly after, so a burst
 * of exits costs one walk, and never delays the restart of our own.
 * A daemon adopted through a pidfile or MAINPID= is a child of tendd by
 * then, and is watched like any other.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include <event2/event.h>

#include "tendd.h"

/* How long an orphan may stay a zombie: bounds the walks to 100 a second. */
#define REAP_SWEEP_SECS	0.01

static struct event *reap_sweep_ev;

/*
 * How a child ended, as a wait status, from what waitid() saw of it
 * (WNOWAIT): what stands when the reap itself fails.
 */
static int
reap_status_of(const siginfo_t *si)
{
	switch (si->si_code) {
	case CLD_EXITED:
		return W_EXITCODE(si->si_status & 0xff, 0);
	case CLD_DUMPED:
		return W_EXITCODE(0, si->si_status) | WCOREFLAG;
	default:
		return W_EXITCODE(0, si->si_status);
	}
}

/*
 * Reaps PID, which waitid() has seen end. 0 with *STATUS, or -1: the
 * call failed (errno) or found nothing, and *STATUS means nothing.
 */
static int
reap_pid(pid_t pid, int *status)
{
	pid_t r;

	while ((r = waitpid(pid, status, WNOHANG)) == -1 && errno == EINTR)
		;
	if (r == pid)
		return 0;
	if (r != -1)
		errno = ECHILD;	/* 0: not waitable after all */
	return -1;
}

/*
 * P's process has ended and is still a zombie (SI is what waitid() saw):
 * while it is, its pid (also its group and session id) cannot be anyone
 * else's, so program_exited() may still signal what is left of its group.
 * Then reap it; program_reaped() drops the watch with the pidfd. A reap
 * that fails (it cannot, short of someone else reaping our child) leaves
 * the exit as waitid() saw it, and a sweep to try the zombie again.
 */
static void
reap_proc(struct proc *p, const siginfo_t *si)
{
	pid_t pid = p->pid;
	int status;

	metrics_proc_ended(p);	/* the zombie's CPU, before it is gone */
	program_exited(p);
	if (reap_pid(pid, &status) == -1) {
		log_warn("%s: cannot reap pid %ld: %s; its exit as seen "
		    "before counts", p->display, (long)pid, strerror(errno));
		status = reap_status_of(si);
		reap_sigchld();
	}
	program_reaped(p, status);
}

static void
reap_pidfd_cb(int fd, short what, void *arg)
{
	struct proc *p = arg;
	siginfo_t si;

	(void)what;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, fd, &si, WEXITED | WNOHANG | WNOWAIT) == -1) {
		/* not our child after all (cannot be): the sweep decides */
		log_debug("%s: waitid on pidfd: %s", p->display,
		    strerror(errno));
		reap_unwatch(p);
		return;
	}
	if (si.si_pid == 0) {
		/* readable before it can be waited for: look again */
		event_add(p->exitev, NULL);
		return;
	}
	reap_proc(p, &si);
}

int
reap_helper(int fd, pid_t pid, int *status)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, fd, &si, WEXITED | WNOHANG | WNOWAIT) == -1)
		return -1;
	if (si.si_pid == 0)
		return 0;	/* readable before it can be waited for */
	if (waitpid(pid, status, WNOHANG) != pid)
		*status = W_EXITCODE(127, 0);
	return 1;
}

void
reap_watch(struct proc *p)
{
	reap_unwatch(p);
	if (p->pidfd == -1)
		return;		/* the sweep finds its end */
	p->exitev = event_new(tendd_base, p->pidfd, EV_READ, reap_pidfd_cb, p);
	if (p->exitev == NULL || event_add(p->exitev, NULL) == -1) {
		log_warn("%s: cannot watch pid %ld; relying on SIGCHLD",
		    p->display, (long)p->pid);
		reap_unwatch(p);
	}
}

void
reap_unwatch(struct proc *p)
{
	if (p->exitev != NULL) {
		event_free(p->exitev);
		p->exitev = NULL;
	}
}

void
reap_children(void)
{
	struct proc *p;
	siginfo_t si;
	pid_t pid;
	int status;

	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != ECHILD)
				log_warn("waitid: %s", strerror(errno));
			break;
		}
		if ((pid = si.si_pid) == 0)
			break;
		if ((p = program_find_pid(pid)) != NULL) {
			reap_proc(p, &si);
			continue;
		}
		/* an exec probe's child (probe.c) */
		if (probe_reap_pid(pid) || hooks_reap_pid(pid))
			continue;
		if (reap_pid(pid, &status) == -1) {
			/*
			 * waitid() would name the same zombie again and again:
			 * leave it to the next SIGCHLD rather than spin.
			 */
			log_warn("cannot reap pid %ld (not ours): %s", (long)pid,
			    strerror(errno));
			break;
		}
		log_debug("reaped pid %ld (not ours: an orphan or a failed "
		    "spawn), exit code %d", (long)pid, util_exitcode(status));
	}
}

static void
reap_sweep_cb(int fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	reap_children();
}

void
reap_sigchld(void)
{
	struct timeval tv = { 0, (suseconds_t)(REAP_SWEEP_SECS * 1e6) };

	if (reap_sweep_ev == NULL &&
	    (reap_sweep_ev = evtimer_new(tendd_base, reap_sweep_cb,
	    NULL)) == NULL) {
		reap_children();
		return;
	}
	if (!evtimer_pending(reap_sweep_ev, NULL))
		evtimer_add(reap_sweep_ev, &tv);
}

void
reap_close(void)
{
	if (reap_sweep_ev != NULL) {
		event_free(reap_sweep_ev);
		reap_sweep_ev = NULL;
	}
}
