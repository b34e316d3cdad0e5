/*
 * adopt.c: processes tend did not spawn but supervises all the same: the
 * daemon a launcher names in its pidfile (read, checked, removed when it
 * is gone) and a MAINPID= handover. What to do once one is adopted (or
 * is not there yet) is the state machine's (state.c); this file only
 * finds, checks and takes the process.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "tendd.h"

/* The pid in P's pidfile: 0 and *pid, or -1 with p->pidfile_err set. */
static int
adopt_pidfile_read(struct proc *p, pid_t *pid)
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

pid_t
adopt_parent_of(pid_t pid)
{
	struct pidstat ps;

	return procfs_stat(pid, &ps) == -1 ? -1 : ps.ppid;
}

/*
 * Supervise PID from now on, as P's process. Only a child of tendd (a
 * daemon reparented to it, tendd being a subreaper) or of P's current
 * process qualifies: a pidfile must never make tend signal a stranger.
 */
int
adopt_pid(struct proc *p, pid_t pid, const char *from, char **cause)
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
	parent = adopt_parent_of(pid);
	if (parent != getpid() && (p->pid <= 0 || parent != p->pid)) {
		xasprintf(cause, "pid %ld from %s is not a child of tendd "
		    "(its parent is %ld), so tend cannot supervise it",
		    (long)pid, from, (long)parent);
		close(fd);
		return -1;
	}
	if (p->pid > 0)
		program_pid_del(p->pid);
	reap_unwatch(p);
	if (p->pidfd != -1)
		close(p->pidfd);
	p->pid = pid;
	p->pidfd = fd;
	p->adopted = 1;
	program_pid_add(pid, p);
	reap_watch(p);
	return 0;
}

int
adopt_pidfile(struct proc *p)
{
	pid_t pid;
	char *cause = NULL;

	if (adopt_pidfile_read(p, &pid) == -1)
		return 0;
	if (adopt_pid(p, pid, p->pc->pidfile, &cause) == -1) {
		free(p->pidfile_err);
		p->pidfile_err = cause;
		return 0;
	}
	return 1;
}

int
adopt_pidfile_names(struct proc *p, pid_t pid)
{
	pid_t named;

	return adopt_pidfile_read(p, &named) == 0 && named == pid;
}

void
adopt_pidfile_remove(struct proc *p, pid_t pid)
{
	pid_t named;

	if (adopt_pidfile_read(p, &named) == 0 && named == pid &&
	    unlink(p->pc->pidfile) == 0)
		log_debug("%s: removed %s", p->display, p->pc->pidfile);
	free(p->pidfile_err);
	p->pidfile_err = NULL;
}

/*
 * Whether P's pidfile names the daemon a launcher being stopped leaves,
 * to be stopped as itself, not killed with what is left of the
 * launcher's group: a process adopt_pid() would take (a child of tendd
 * or of P's process, no process's own). A stale pidfile naming a
 * stranger saves nothing from that kill.
 */
int
adopt_pidfile_names_other(struct proc *p)
{
	pid_t named, parent;

	if (adopt_pidfile_read(p, &named) == -1 || named == p->pid ||
	    program_find_pid(named) != NULL)
		return 0;
	parent = adopt_parent_of(named);
	return parent != -1 && (parent == getpid() ||
	    (p->pid > 0 && parent == p->pid));
}

/*
 * MAINPID=: a child of tendd (the old main is gone) is adopted at once;
 * a child of the current process when that one exits.
 */
int
adopt_mainpid(struct proc *p, pid_t pid, char **cause)
{
	pid_t parent;

	if (pid == p->pid)
		return 0;
	if (p->pid <= 0 || !state_has_process(p)) {
		*cause = xstrdup("it has no process");
		return -1;
	}
	parent = adopt_parent_of(pid);
	if (parent == p->pid) {
		p->mainpid_next = pid;
		log_info("%s: main pid becomes %ld when pid %ld exits "
		    "(MAINPID=)", p->display, (long)pid, (long)p->pid);
		return 0;
	}
	if (adopt_pid(p, pid, "MAINPID=", cause) == -1)
		return -1;
	log_info("%s: main pid is now %ld (MAINPID=)", p->display, (long)pid);
	return 0;
}
