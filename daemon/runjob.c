/*
 * runjob.c: the transient jobs of tendctl run (spec §12), like
 * systemd-run's: a process of its own (group "run", shown as run:NAME)
 * whose settings are made here rather than read from the file, owned by
 * the process (pc_owned), left alone by reloads, started once, never
 * restarted, and forgotten TEND_RUN_KEEP seconds (600) after it has come
 * to rest: one timer each, no scan.
 */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "tendd.h"
#include "utf8.h"

#define RUNJOB_GROUP	"run"
#define RUNJOB_KEEP	600.0	/* seconds a finished job stays listed */

struct runjob {
	struct proc	*p;
	struct event	*forget;	/* armed while it is at rest */
	struct event	*limit;		/* --timeout: stop it then */
	double		 timeout;
};

static unsigned	 runjob_seq;

static double
runjob_keep(void)
{
	const char *v = getenv("TEND_RUN_KEEP");	/* tests only */
	char *end;
	double d;

	if (v == NULL)
		return RUNJOB_KEEP;
	d = strtod(v, &end);
	return *v != '\0' && *end == '\0' && d >= 0 ? d : RUNJOB_KEEP;
}

static void
runjob_free(struct runjob *j)
{
	if (j->forget != NULL)
		event_free(j->forget);
	if (j->limit != NULL)
		event_free(j->limit);
	j->p->runjob = NULL;
	free(j);
}

static void
runjob_forget_cb(int fd, short ev, void *arg)
{
	struct runjob *j = arg;
	struct proc *p = j->p;

	runjob_free(j);
	reload_forget(p);
}

static void
runjob_limit_cb(int fd, short ev, void *arg)
{
	struct runjob *j = arg;
	char *cause = NULL;

	log_info("%s: still running after --timeout %gs: stopping it",
	    j->p->display, j->timeout);
	program_stop(j->p, &cause);
	free(cause);
}

static struct program_conf *
runjob_conf(char **argv, const char *name, const char *user, char **env,
    const char *dir)
{
	struct program_conf *pc;
	size_t i;
	char *cmd = NULL, *t;

	pc = config_program_new(name, RUNJOB_GROUP, "tendctl run", 0);
	for (i = 0; argv[i] != NULL; i++) {
		xasprintf(&t, "%s%s%s", cmd ? cmd : "", cmd ? " " : "", argv[i]);
		free(cmd);
		cmd = t;
	}
	pc->command = cmd;
	pc->argv = strv_dup(argv);
	pc->daemon = 0;
	pc->autostart = 0;
	pc->autorestart = AUTORESTART_FALSE;
	pc->startsecs = 0;
	pc->startretries = 0;
	pc->numprocs = 1;
	pc->group_priority = pc->priority;
	pc->user = user != NULL ? xstrdup(user) : NULL;
	pc->directory = dir != NULL ? xstrdup(dir) : NULL;
	pc->environment = env != NULL ? strv_dup(env) : NULL;
	return pc;
}

/* NAME, or the command's base name and a number: not in use. */
static char *
runjob_name(char **argv, const char *name, const char **code, char **cause)
{
	struct proc *p;
	char *base, *n;

	if (name != NULL) {
		if (*name == '\0' || strpbrk(name, ":/ \t\n*?[") != NULL ||
		    !utf8_printable(name)) {
			*code = TEND_ERR_BAD_REQUEST;
			xasprintf(cause, "name: not a process name: %s", name);
			return NULL;
		}
		TAILQ_FOREACH(p, &procs, entry) {
			if (strcmp(p->group, RUNJOB_GROUP) == 0 &&
			    strcmp(p->name, name) == 0) {
				*code = TEND_ERR_FAILED;
				xasprintf(cause, "run:%s exists (it is %s)",
				    name, program_state_name(p->state));
				return NULL;
			}
		}
		return xstrdup(name);
	}
	base = xstrdup(argv[0]);
	xasprintf(&n, "%s-%u", basename(base), ++runjob_seq);
	free(base);
	/* a base name may hold what a name may not */
	for (base = n; *base != '\0'; base++)
		if (strchr(":/ \t*?[", *base) != NULL ||
		    (unsigned char)*base < 0x20)
			*base = '_';
	return n;
}

struct proc *
runjob_create(char **argv, const char *name, const char *user, char **env,
    const char *dir, double timeout, const char **code, char **cause)
{
	struct runjob *j;
	struct proc *p;
	char *n, *why = NULL;

	if ((n = runjob_name(argv, name, code, cause)) == NULL)
		return NULL;
	p = program_new(runjob_conf(argv, n, user, env, dir));
	free(n);
	p->pc_owned = 1;
	j = xcalloc(1, sizeof(*j));
	j->p = p;
	j->timeout = timeout;
	p->runjob = j;
	TAILQ_INSERT_TAIL(&procs, p, entry);
	program_sort();
	program_update_display();
	log_info("%s: run: %s%s%s", p->display, p->pc->command,
	    user != NULL ? ", as " : "", user != NULL ? user : "");
	if (timeout >= 0) {
		struct timeval tv = util_timeval(timeout);

		if ((j->limit = evtimer_new(tendd_base, runjob_limit_cb, j)) !=
		    NULL)
			evtimer_add(j->limit, &tv);
	}
	program_start(p, &why);
	free(why);
	return p;
}

void
runjob_state_changed(struct proc *p)
{
	struct runjob *j = p->runjob;
	struct timeval tv;
	int rest = p->state == PROC_EXITED || p->state == PROC_FATAL ||
	    p->state == PROC_STOPPED;

	if (j == NULL)
		return;
	if (!rest) {
		if (j->forget != NULL)
			evtimer_del(j->forget);
		return;
	}
	if (j->limit != NULL)
		evtimer_del(j->limit);
	if (j->forget == NULL &&
	    (j->forget = evtimer_new(tendd_base, runjob_forget_cb, j)) == NULL)
		return;
	tv = util_timeval(runjob_keep());
	evtimer_add(j->forget, &tv);
}

void
runjob_close(void)
{
	struct proc *p;

	TAILQ_FOREACH(p, &procs, entry)
		if (p->runjob != NULL)
			runjob_free(p->runjob);
}
