/*
 * hooks.c: pre_start and post_stop (spec §12). Each is a command split
 * like `command`, run as the program's user in its directory and
 * environment (spawn_command_out), in a session of its own, its output
 * read by the loop (the last line is what a failure says), killed at
 * hook_timeout. Nothing here waits: a hook is a child watched through
 * its pidfd (or reap.c's sweep, hooks_reap_pid).
 *
 * A pre_start belongs to the state machine: the process is STARTING
 * (ST_PRE_START) while it runs, its end is the event E_HOOK, and its
 * timeout is the state's timer (state.c). A post_stop runs on its own,
 * with its own timer: its outcome is only logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "expand.h"
#include "tendd.h"

#define HOOK_TAIL	512	/* the last bytes of its output kept */

struct hook_run {
	LIST_ENTRY(hook_run) entry;
	struct proc	*p;		/* pre_start: its process; NULL: post_stop */
	char		*display;	/* for the log */
	const char	*kind;		/* "pre_start", "post_stop" */
	pid_t		 pid;
	int		 pidfd;
	int		 outfd;
	struct event	*exitev;
	struct event	*outev;
	struct event	*timer;		/* post_stop's own timeout */
	char		 tail[HOOK_TAIL];
	size_t		 len;
	int		 ended;		/* reaped */
	int		 status;
};

static LIST_HEAD(, hook_run) hook_runs = LIST_HEAD_INITIALIZER(hook_runs);

static void	 hook_finish(struct hook_run *);

/* Keeps the last HOOK_TAIL bytes. */
static void
hook_keep(struct hook_run *h, const char *buf, size_t n)
{
	if (n >= HOOK_TAIL) {
		memcpy(h->tail, buf + n - HOOK_TAIL, HOOK_TAIL);
		h->len = HOOK_TAIL;
		return;
	}
	if (h->len + n > HOOK_TAIL) {
		memmove(h->tail, h->tail + (h->len + n - HOOK_TAIL),
		    HOOK_TAIL - n);
		h->len = HOOK_TAIL - n;
	}
	memcpy(h->tail + h->len, buf, n);
	h->len += n;
}

/* The last non-empty line of what it wrote, as text; "" if none. */
static char *
hook_last_line(const struct hook_run *h)
{
	size_t end = h->len, start;

	while (end > 0 && (h->tail[end - 1] == '\n' ||
	    h->tail[end - 1] == '\r' || h->tail[end - 1] == ' '))
		end--;
	for (start = end; start > 0 && h->tail[start - 1] != '\n'; start--)
		;
	return xstrndup(h->tail + start, end - start);
}

/* Reads what is there; 1 at EOF (or an error). */
static int
hook_read(struct hook_run *h)
{
	char buf[4096];
	ssize_t n;

	if (h->outfd == -1)
		return 1;
	for (;;) {
		n = read(h->outfd, buf, sizeof(buf));
		if (n > 0) {
			hook_keep(h, buf, (size_t)n);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		return 1;
	}
}

static void
hook_close_out(struct hook_run *h)
{
	if (h->outev != NULL) {
		event_free(h->outev);
		h->outev = NULL;
	}
	if (h->outfd != -1) {
		close(h->outfd);
		h->outfd = -1;
	}
}

static void
hook_free(struct hook_run *h)
{
	LIST_REMOVE(h, entry);
	if (h->pid > 0 && !h->ended) {
		/* not reaped: the pid (its session's too) is still its */
		kill(-h->pid, SIGKILL);
		kill(h->pid, SIGKILL);
		reap_sigchld();
	}
	if (h->exitev != NULL)
		event_free(h->exitev);
	if (h->timer != NULL)
		event_free(h->timer);
	if (h->pidfd != -1)
		close(h->pidfd);
	hook_close_out(h);
	free(h->display);
	free(h);
}

static void
hook_out_cb(int fd, short ev, void *arg)
{
	struct hook_run *h = arg;

	if (hook_read(h))
		hook_close_out(h);
}

/* Reaped: its end is told once its output is in (or was closed). */
static void
hook_ended(struct hook_run *h, int status)
{
	h->ended = 1;
	h->status = status;
	if (h->exitev != NULL) {
		event_free(h->exitev);
		h->exitev = NULL;
	}
	/*
	 * What it wrote is in the pipe now; what it left running may hold
	 * the pipe open for ever: read what is there and finish.
	 */
	hook_read(h);
	hook_close_out(h);
	hook_finish(h);
}

static void
hook_exit_cb(int fd, short ev, void *arg)
{
	struct hook_run *h = arg;
	int status;

	switch (reap_helper(fd, h->pid, &status)) {
	case -1:
		return;
	case 0:
		event_add(h->exitev, NULL);
		return;
	}
	hook_ended(h, status);
}

int
hooks_reap_pid(pid_t pid)
{
	struct hook_run *h;
	int status;

	LIST_FOREACH(h, &hook_runs, entry) {
		if (h->pid != pid || h->ended)
			continue;
		if (waitpid(pid, &status, WNOHANG) != pid)
			return 0;
		hook_ended(h, status);
		return 1;
	}
	return 0;
}

/* Ended and read: pre_start tells the machine, post_stop the log. */
static void
hook_finish(struct hook_run *h)
{
	struct state_arg a = { 0 };
	struct proc *p = h->p;
	char how[64], *line, *why;
	int code = util_exitcode(h->status);

	line = hook_last_line(h);
	if (code == 0)
		why = NULL;
	else if (*line != '\0')
		why = xstrdup(line);
	else {
		state_format_exit(how, sizeof(how), code);
		xasprintf(&why, "%s %s", h->kind, how);
	}
	if (p == NULL) {
		if (why != NULL)
			log_warn("%s: post_stop failed: %s", h->display, why);
		else
			log_info("%s: post_stop done", h->display);
		hook_free(h);
	} else {
		/* p->hook stays until the machine has heard (ST_PRE_START) */
		a.status = W_EXITCODE(code < 0 ? 1 : code, 0);
		a.why = why;
		state_event(p, E_HOOK, &a);
		if (p->hook == h)
			p->hook = NULL;
		hook_free(h);
	}
	free(why);
	free(line);
}

static void
hook_timeout_cb(int fd, short ev, void *arg)
{
	struct hook_run *h = arg;

	log_warn("%s: post_stop still running after hook_timeout: killed",
	    h->display);
	hook_free(h);
}

/* CMD run for P: the run, or NULL with *cause (-1 or SPAWN_SHORT in *R). */
static struct hook_run *
hook_spawn(struct proc *p, const char *kind, const char *cmd, char **cause,
    int *r)
{
	struct hook_run *h;
	char **argv = NULL, *why;
	int pfd[2];

	*r = -1;
	if (expand_argv(cmd, &argv, &why) == -1) {
		xasprintf(cause, "%s: %s", kind, why);
		free(why);
		return NULL;
	}
	if (pipe2(pfd, O_CLOEXEC) == -1) {
		*r = spawn_cause(cause, "cannot make a pipe", errno);
		strv_free(argv);
		return NULL;
	}
	util_set_nonblock(pfd[0]);
	h = xcalloc(1, sizeof(*h));
	h->kind = kind;
	h->outfd = pfd[0];
	h->pidfd = -1;
	h->display = xstrdup(p->display);
	*r = spawn_command_out(p, argv, pfd[1], &h->pid, &h->pidfd, &why);
	close(pfd[1]);
	strv_free(argv);
	if (*r != 0) {
		xasprintf(cause, "%s: %s", kind, why);
		free(why);
		close(h->outfd);
		free(h->display);
		free(h);
		return NULL;
	}
	LIST_INSERT_HEAD(&hook_runs, h, entry);
	if (h->pidfd != -1) {
		h->exitev = event_new(tendd_base, h->pidfd, EV_READ,
		    hook_exit_cb, h);
		if (h->exitev != NULL)
			event_add(h->exitev, NULL);
	}
	h->outev = event_new(tendd_base, h->outfd, EV_READ | EV_PERSIST,
	    hook_out_cb, h);
	if (h->outev != NULL)
		event_add(h->outev, NULL);
	return h;
}

int
hooks_pre_start(struct proc *p, char **cause)
{
	struct hook_run *h;
	int r;

	if ((h = hook_spawn(p, "pre_start", p->pc->pre_start, cause, &r))
	    == NULL)
		return r;
	h->p = p;
	p->hook = h;
	return 0;
}

void
hooks_cancel(struct proc *p)
{
	if (p->hook == NULL)
		return;
	hook_free(p->hook);
	p->hook = NULL;
}

void
hooks_post_stop(struct proc *p)
{
	struct hook_run *h;
	struct timeval tv;
	char *cause = NULL;
	int r;

	p->post_stop_due = 0;
	if (p->pc->post_stop == NULL || program_stopping_all)
		return;
	if ((h = hook_spawn(p, "post_stop", p->pc->post_stop, &cause, &r))
	    == NULL) {
		log_warn("%s: %s", p->display, cause);
		free(cause);
		return;
	}
	if (p->pc->hook_timeout > 0 &&
	    (h->timer = evtimer_new(tendd_base, hook_timeout_cb, h)) != NULL) {
		tv = util_timeval(p->pc->hook_timeout);
		evtimer_add(h->timer, &tv);
	}
}

void
hooks_close(void)
{
	while (!LIST_EMPTY(&hook_runs))
		hook_free(LIST_FIRST(&hook_runs));
}
