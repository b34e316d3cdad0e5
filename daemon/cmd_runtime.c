/*
 * cmd_runtime.c: the runtime operations of spec §12 that are commands:
 * enable and disable (persist.c keeps the list). Their names were
 * resolved by dispatch (command.c).
 */
#include <stdlib.h>
#include <string.h>

#include "command.h"

/* disable: remembered, then stopped (what depends on it first). */
enum cmd_retval
cmd_runtime_disable(struct conn *c, json_t *id, struct cmd_args *a)
{
	struct reply_results rr;
	struct proc *p;
	size_t i;
	char *cause;

	for (i = 0; i < a->n; i++) {
		p = a->procs[i];
		persist_set_disabled(p, 1);
		persist_set_stopped(p, 0);
		if (program_is_up(p) || p->state == PROC_BACKOFF ||
		    p->state == PROC_WAITING) {
			cause = NULL;
			program_stop_tree(p, &cause);
			free(cause);
		}
		p->want = WANT_DOWN;
	}
	persist_flush();
	reply_results_start(&rr);
	for (i = 0; i < a->n; i++)
		reply_results_add(&rr, a->procs[i]->display, 1,
		    program_state_name(a->procs[i]->state), "disabled");
	reply_results_send(c, id, &rr);
	return CMD_RETURN_DONE;
}

/* enable: may be started again; enabling does not start it. */
enum cmd_retval
cmd_runtime_enable(struct conn *c, json_t *id, struct cmd_args *a)
{
	struct reply_results rr;
	size_t i;

	for (i = 0; i < a->n; i++)
		persist_set_disabled(a->procs[i], 0);
	persist_flush();
	reply_results_start(&rr);
	for (i = 0; i < a->n; i++)
		reply_results_add(&rr, a->procs[i]->display, 1,
		    program_state_name(a->procs[i]->state), "enabled");
	reply_results_send(c, id, &rr);
	return CMD_RETURN_DONE;
}

/* Was P named as itself (not through all, GROUP:* or a glob)? */
static int
cmd_runtime_named(const struct proc *p, json_t *names)
{
	json_t *v;
	size_t i;
	const char *s;

	json_array_foreach(names, i, v) {
		s = json_string_value(v);
		if (strcmp(s, p->fullname) == 0 || strcmp(s, p->name) == 0)
			return 1;
	}
	return 0;
}

/*
 * start and restart: a disabled process is passed over when a pattern
 * named it (start all) and refused when named as itself.
 */
int
cmd_runtime_filter(struct cmd_args *a, char **cause)
{
	size_t i, n = 0;
	struct proc *p;

	for (i = 0; i < a->n; i++) {
		p = a->procs[i];
		if (!persist_is_disabled(p)) {
			a->procs[n++] = p;
			continue;
		}
		if (a->names != NULL && cmd_runtime_named(p, a->names)) {
			xasprintf(cause, "%s is disabled (tendctl enable %s)",
			    p->display, p->display);
			return -1;
		}
	}
	a->n = n;
	a->procs[n] = NULL;
	return 0;
}
