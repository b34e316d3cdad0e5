/*
 * cmd_runtime.c: the runtime operations of spec §12 that are commands:
 * enable and disable (persist.c keeps the list). Their names were
 * resolved by dispatch (command.c).
 */
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>
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

/* ---- scale */

#define SCALE_MAX	10000	/* as numprocs (config_int.h) */

/* How many processes PROGRAM has now, the file's numprocs in *FILE_N. */
static int
cmd_runtime_count(const char *program, int *file_n)
{
	struct proc *p;
	int n = 0, sn;

	*file_n = -1;
	TAILQ_FOREACH(p, &procs, entry) {
		if (strcmp(p->pc->program, program) != 0 || p->removed)
			continue;
		n++;
		if (*file_n == -1)
			*file_n = p->pc->numprocs;
	}
	/* the file's, not the scaled count the processes were read with */
	if (!scale_get(program, file_n, &sn) && *file_n == -1)
		return -1;
	return n;
}

/*
 * The plan of a reload with the new count must add or remove only
 * PROGRAM's processes: a file edited since the last reload is not
 * applied behind the person's back.
 */
static int
cmd_runtime_scale_only(const char *program, const struct reload_plan *plan)
{
	struct proc *p;
	int i, kind = -1;

	for (i = 0; i < plan->n; i++) {
		const struct reload_item *it = &plan->items[i];

		if (it->change == RELOAD_CHANGED ||
		    (kind != -1 && (int)it->change != kind))
			return 0;
		kind = (int)it->change;
		if (it->change == RELOAD_ADDED)
			continue;
		TAILQ_FOREACH(p, &procs, entry)
			if (strcmp(p->group, it->group) == 0 &&
			    strcmp(p->name, it->process) == 0)
				break;
		if (p == NULL || strcmp(p->pc->program, program) != 0)
			return 0;
	}
	return plan->restart == NULL || plan->restart[0] == NULL;
}

/* A reload (with the new count) that is refused: why, for the person. */
static char *
cmd_runtime_scale_refusal(struct diag *d, const struct reload_plan *plan,
    const char *program, int rc)
{
	char *msg;
	int i;

	if (rc == 0) {
		xasprintf(&msg, "%s: the config file has changes not loaded "
		    "yet: reload first", program);
		return msg;
	}
	for (i = 0; i < d->n; i++)
		if (d->msgs[i].is_error)
			return xstrdup(d->msgs[i].text);
	return xstrdup("the config cannot be read again");
}

/* The new processes with autostart = false are started too. */
static void
cmd_runtime_scale_start(const char *program)
{
	struct proc *p;
	char *cause;

	TAILQ_FOREACH(p, &procs, entry) {
		if (strcmp(p->pc->program, program) != 0 ||
		    p->state != PROC_NEW || p->want != WANT_NONE ||
		    persist_is_disabled(p))
			continue;
		cause = NULL;
		program_start(p, &cause);
		free(cause);
	}
}

/*
 * scale PROGRAM N: the count is set where the config reader sees it
 * (scale.c), then the file is read again as a reload would, and applied
 * when the only difference is PROGRAM's processes.
 */
enum cmd_retval
cmd_runtime_scale(struct conn *c, json_t *id, struct cmd_args *a)
{
	const char *program = json_string_value(a->program);
	struct reload_plan plan;
	struct diag d = { 0 };
	int file_n, had, old_file_n, old_n, scaled, rc;
	char *msg;

	if (a->count < 0 || a->count > SCALE_MAX) {
		xasprintf(&msg, "count must be 0 to %d", SCALE_MAX);
		reply_error(c, id, TEND_ERR_BAD_REQUEST, msg);
		free(msg);
		return CMD_RETURN_DONE;
	}
	if ((had = cmd_runtime_count(program, &file_n)) == -1) {
		xasprintf(&msg, "no such program: %s", program);
		reply_send(c, reply_failed(id, TEND_ERR_UNKNOWN_NAME, msg,
		    "names", json_pack("[O]", a->program)));
		free(msg);
		return CMD_RETURN_DONE;
	}
	scaled = scale_get(program, &old_file_n, &old_n);
	scale_set(program, file_n, (int)a->count);
	rc = tendd_reload(TENDD_RELOAD_CHECK, &d, &plan);
	if (rc == -1 || !cmd_runtime_scale_only(program, &plan)) {
		msg = cmd_runtime_scale_refusal(&d, &plan, program, rc);
		scale_set(program, file_n, scaled ? old_n : file_n);
		reply_error(c, id, TEND_ERR_FAILED, msg);
		free(msg);
	} else {
		reload_plan_free(&plan);
		diag_clear(&d);
		log_info("%s: scaled from %d to %ld processes", program, had,
		    a->count);
		rc = tendd_reload(0, &d, &plan);
		cmd_runtime_scale_start(program);
		reply_send(c, reply_set(reply_set(reply_set(reply_ok(id),
		    "program", protocol_string(program)),
		    "count", json_integer(a->count)),
		    "was", json_integer(had)));
	}
	reload_plan_free(&plan);
	diag_clear(&d);
	return CMD_RETURN_DONE;
}

/* ---- run */

/* JSON strings -> a vector; NULL for NULL. */
static char **
cmd_runtime_strv(json_t *a)
{
	char **v;
	json_t *e;
	size_t i;

	if (a == NULL)
		return NULL;
	v = xcalloc(json_array_size(a) + 1, sizeof(*v));
	json_array_foreach(a, i, e)
		v[i] = xstrdup(json_string_value(e));
	return v;
}

/* Who the job runs as: the peer; tendd's own user only for root. */
static int
cmd_runtime_user(struct conn *c, char **user, char **cause)
{
	struct passwd *pw;
	uid_t uid;
	gid_t gid;

	*user = NULL;
	control_peer(c, &uid, &gid);
	if (uid == 0 || uid == geteuid())
		return 0;
	if ((pw = getpwuid(uid)) == NULL) {
		xasprintf(cause, "uid %u has no entry in the user database: a "
		    "job cannot run as it", (unsigned)uid);
		return -1;
	}
	*user = xstrdup(pw->pw_name);
	return 0;
}

/* The request's values, checked beyond their types. */
static int
cmd_runtime_run_check(struct cmd_args *a, char **env, char **cause)
{
	const char *dir;
	size_t i;

	for (i = 0; env != NULL && env[i] != NULL; i++) {
		if (strchr(env[i], '=') == NULL || env[i][0] == '=') {
			xasprintf(cause, "env: not KEY=VALUE: %s", env[i]);
			return -1;
		}
	}
	dir = a->directory != NULL ? json_string_value(a->directory) : NULL;
	if (dir != NULL && dir[0] != '/') {
		xasprintf(cause, "directory: not an absolute path: %s", dir);
		return -1;
	}
	return 0;
}

/*
 * run: a transient job (runjob.c), as the peer. With "wait" it parks
 * like wait (and its timeout, which also stops the job, answers 124).
 */
enum cmd_retval
cmd_runtime_run(struct conn *c, json_t *id, struct cmd_args *a)
{
	const char *code = TEND_ERR_BAD_REQUEST;
	char **argv, **env, *user = NULL, *cause = NULL;
	struct proc *p = NULL;

	argv = cmd_runtime_strv(a->argv);
	env = cmd_runtime_strv(a->env);
	if (cmd_runtime_run_check(a, env, &cause) == 0) {
		code = TEND_ERR_FAILED;
		if (cmd_runtime_user(c, &user, &cause) == 0)
			p = runjob_create(argv, a->run_name != NULL ?
			    json_string_value(a->run_name) : NULL, user, env,
			    a->directory != NULL ?
			    json_string_value(a->directory) : NULL,
			    a->timeout, &code, &cause);
	}
	strv_free(argv);
	strv_free(env);
	free(user);
	if (p == NULL) {
		reply_error(c, id, code, cause);
		free(cause);
		return CMD_RETURN_DONE;
	}
	if (a->wait) {
		free(a->procs);
		a->procs = xcalloc(2, sizeof(*a->procs));
		a->procs[0] = p;
		a->n = 1;
		return CMD_RETURN_PARK;
	}
	reply_send(c, reply_set(reply_set(reply_set(reply_ok(id),
	    "name", protocol_string(p->display)),
	    "state", json_string(program_state_name(p->state))),
	    "pid", p->pid > 0 ? json_integer(p->pid) : json_null()));
	return CMD_RETURN_DONE;
}
