/*
 * cmd_proc.c: the commands that act on processes: start, stop, restart,
 * kill (which may park until the outcome, command.c), signal, pause,
 * resume (done at once), and wait (always parks). Their fields were
 * checked and their names resolved by dispatch (command.c).
 */
#include <stdlib.h>
#include <string.h>

#include "command.h"

enum cmd_proc_action {
	ACT_START,
	ACT_STOP,
	ACT_RESTART,
	ACT_KILL,
};

static int
cmd_proc_apply(struct proc *p, enum cmd_proc_action which, char **cause)
{
	int r;

	if (which == ACT_STOP)
		return program_stop_tree(p, cause);
	if (which == ACT_KILL)
		return program_kill(p, cause);
	if (which == ACT_RESTART && program_is_up(p)) {
		/* restart: stop, and come back up once down */
		r = program_stop(p, cause);
		p->want = WANT_UP;
		return r;
	}
	return program_start(p, cause);
}

/* The status page's buttons (page.c): VERB is start, stop or restart. */
int
cmd_proc_verb(struct proc *p, const char *verb, char **cause)
{
	if (strcmp(verb, "start") == 0)
		return cmd_proc_apply(p, ACT_START, cause);
	if (strcmp(verb, "stop") == 0)
		return cmd_proc_apply(p, ACT_STOP, cause);
	if (strcmp(verb, "restart") == 0)
		return cmd_proc_apply(p, ACT_RESTART, cause);
	*cause = xstrdup("unknown action");
	return -1;
}

/* restart: stop, and come back up once down; or start. */
void
cmd_proc_restart_one(struct proc *p)
{
	char *cause = NULL;

	cmd_proc_apply(p, ACT_RESTART, &cause);
	free(cause);
}

/*
 * start, stop, restart, kill: act on every process, then park until the
 * outcome (the row's `until`) or, without "wait", reply at once.
 */
static enum cmd_retval
cmd_proc_act(struct conn *c, json_t *id, struct cmd_args *a,
    enum cmd_proc_action which)
{
	static const char *const done[] = {
		[ACT_START] = "start requested",
		[ACT_STOP] = "stop requested",
		[ACT_RESTART] = "start requested",
		[ACT_KILL] = "SIGKILL sent",
	};
	struct reply_results rr;
	struct proc *p;
	size_t i;
	char *cause = NULL;

	/* spec §12: disabled processes are not started; stops remembered */
	if ((which == ACT_START || which == ACT_RESTART) &&
	    cmd_runtime_filter(a, &cause) == -1) {
		reply_error(c, id, TEND_ERR_FAILED, cause);
		free(cause);
		return CMD_RETURN_DONE;
	}
	for (i = 0; i < a->n; i++)
		persist_set_stopped(a->procs[i],
		    which == ACT_STOP || which == ACT_KILL);
	persist_flush();
	for (i = 0; i < a->n; i++) {
		p = a->procs[i];
		cause = NULL;
		cmd_proc_apply(p, which, &cause);
		if (which == ACT_RESTART && a->rolling) {
			/* the others follow one by one */
			free(cause);
			return CMD_RETURN_PARK;
		}
		free(cause);
	}
	if (a->wait)
		return CMD_RETURN_PARK;
	reply_results_start(&rr);
	for (i = 0; i < a->n; i++)
		reply_results_add(&rr, a->procs[i]->display, 1,
		    program_state_name(a->procs[i]->state), done[which]);
	reply_results_send(c, id, &rr);
	return CMD_RETURN_DONE;
}

enum cmd_retval
cmd_proc_start(struct conn *c, json_t *id, struct cmd_args *a)
{
	return cmd_proc_act(c, id, a, ACT_START);
}

enum cmd_retval
cmd_proc_stop(struct conn *c, json_t *id, struct cmd_args *a)
{
	return cmd_proc_act(c, id, a, ACT_STOP);
}

enum cmd_retval
cmd_proc_restart(struct conn *c, json_t *id, struct cmd_args *a)
{
	return cmd_proc_act(c, id, a, ACT_RESTART);
}

enum cmd_retval
cmd_proc_kill(struct conn *c, json_t *id, struct cmd_args *a)
{
	return cmd_proc_act(c, id, a, ACT_KILL);
}

/*
 * pause, resume, signal: one action per process, done at once. Every
 * result is ok, or the reply is "failed" naming the first that is not.
 */
static enum cmd_retval
cmd_proc_each(struct conn *c, json_t *id, struct cmd_args *a,
    int (*fn)(struct proc *, int, char **), const char *done)
{
	struct reply_results rr;
	struct proc *p;
	size_t i;
	char *cause;
	int ok;

	reply_results_start(&rr);
	for (i = 0; i < a->n; i++) {
		p = a->procs[i];
		cause = NULL;
		ok = fn(p, a->sig, &cause) == 0;
		reply_results_add(&rr, p->display, ok,
		    program_state_name(p->state),
		    ok ? done : cause != NULL ? cause : "failed");
		free(cause);
	}
	reply_results_send(c, id, &rr);
	return CMD_RETURN_DONE;
}

static int
cmd_proc_do_pause(struct proc *p, int sig, char **cause)
{
	return program_pause(p, cause);
}

static int
cmd_proc_do_resume(struct proc *p, int sig, char **cause)
{
	return program_resume(p, cause);
}

static int
cmd_proc_do_signal(struct proc *p, int sig, char **cause)
{
	return program_signal(p, sig, cause);
}

enum cmd_retval
cmd_proc_pause(struct conn *c, json_t *id, struct cmd_args *a)
{
	return cmd_proc_each(c, id, a, cmd_proc_do_pause, "paused");
}

enum cmd_retval
cmd_proc_resume(struct conn *c, json_t *id, struct cmd_args *a)
{
	return cmd_proc_each(c, id, a, cmd_proc_do_resume, "resumed");
}

enum cmd_retval
cmd_proc_signal(struct conn *c, json_t *id, struct cmd_args *a)
{
	char done[64];

	snprintf(done, sizeof(done), "SIG%s sent", util_signal_name(a->sig));
	return cmd_proc_each(c, id, a, cmd_proc_do_signal, done);
}

/* wait: join; dispatch parks it, bounded by "timeout". */
enum cmd_retval
cmd_proc_wait(struct conn *c, json_t *id, struct cmd_args *a)
{
	return CMD_RETURN_PARK;
}
