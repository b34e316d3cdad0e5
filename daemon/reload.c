/*
 * reload.c: what a new config changes, process by process (the plan a
 * reload shows, and its dry run), and applying it: processes added,
 * changed ones handed to the state machine (E_CHANGE: restarted, or
 * given the new settings), removed ones stopped and forgotten once down
 * (E_REMOVE), unchanged ones re-pointed to the new config, untouched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tendd.h"

static int	 reload_running;	/* reload_apply() is under way */

/* A process removed by a reload is down: forget it. */
void
reload_forget(struct proc *p)
{
	log_info("%s: removed from the config", p->display);
	/* Whoever holds a pointer to it lets go first. */
	command_proc_gone(p);
	schedule_forget(p);
	TAILQ_REMOVE(&procs, p, entry);
	if (p->pid > 0)
		program_pid_del(p->pid);
	program_free(p);
	/* A reload under way shows the new names once, at its end. */
	if (!reload_running)
		program_update_display();
}

/* "a, b, c" */
static char *
reload_join(char **v)
{
	char *s = xstrdup(""), *more;
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++) {
		xasprintf(&more, "%s%s%s", s, i > 0 ? ", " : "", v[i]);
		free(s);
		s = more;
	}
	return s;
}

/* Down after a stop for a changed config: from now on, the new settings. */
void
reload_take_next(struct proc *p)
{
	int moved = p->pc->priority != p->next_pc->priority ||
	    p->pc->group_priority != p->next_pc->group_priority;

	if (p->pc_owned)
		config_program_free(p->pc);
	p->pc = p->next_pc;
	p->pc_owned = 0;
	p->next_pc = NULL;
	if (moved)
		program_sort();
}

static int
reload_fullname_cmp(const void *x, const void *y)
{
	const struct proc *a = *(struct proc *const *)x;
	const struct proc *b = *(struct proc *const *)y;

	return strcmp(a->fullname, b->fullname);
}

/* The processes, sorted by GROUP:NAME, to match a new config against. */
static struct proc **
reload_by_fullname(size_t *np)
{
	struct proc **all = program_array(np);

	qsort(all, *np, sizeof(*all), reload_fullname_cmp);
	return all;
}

static struct proc *
reload_lookup(struct proc **all, size_t n, const struct program_conf *pc)
{
	struct proc key, *kp = &key, **found;

	xasprintf(&key.fullname, "%s:%s", pc->group, pc->name);
	found = bsearch(&kp, all, n, sizeof(*all), reload_fullname_cmp);
	free(key.fullname);
	return found != NULL ? *found : NULL;
}

/* The settings P will run with next: what a new config is compared to. */
static const struct program_conf *
reload_target(const struct proc *p)
{
	return p->next_pc != NULL ? p->next_pc : p->pc;
}

/* How status will show each process of CONF, in the config's order. */
static char **
reload_conf_displays(const struct tend_conf *conf)
{
	struct program_conf *pc;
	struct display_slot *all;
	char **names;
	size_t i, n = 0;

	all = xcalloc(conf->nprocs + 1, sizeof(*all));
	TAILQ_FOREACH(pc, &conf->programs, entry) {
		all[n] = (struct display_slot){ pc->group, pc->name, n, 0 };
		n++;
	}
	program_display_rule(all, n);
	names = xcalloc(n + 1, sizeof(*names));
	for (i = 0; i < n; i++) {
		if (all[i].bare)
			names[all[i].idx] = xstrdup(all[i].name);
		else
			xasprintf(&names[all[i].idx], "%s:%s", all[i].group,
			    all[i].name);
	}
	free(all);
	return names;
}

static void
reload_plan_add(struct reload_plan *plan, enum reload_change change,
    const char *name, const char *group, const char *process, char **keys)
{
	struct reload_item *it;

	plan->items = xreallocarray(plan->items, plan->n + 1,
	    sizeof(*plan->items));
	it = &plan->items[plan->n++];
	it->change = change;
	it->name = xstrdup(name);
	it->group = xstrdup(group);
	it->process = xstrdup(process);
	it->keys = keys;
}

void
reload_diff(const struct tend_conf *cur, const struct tend_conf *new,
    struct reload_plan *plan)
{
	struct proc **all, *p;
	struct program_conf *pc;
	char **names, **keys;
	size_t n, i = 0;

	all = reload_by_fullname(&n);
	names = reload_conf_displays(new);
	TAILQ_FOREACH(p, &procs, entry)
		p->reload_seen = 0;
	/* In the order of the new config, so it reads like the file. */
	for (pc = TAILQ_FIRST(&new->programs); pc != NULL;
	    pc = TAILQ_NEXT(pc, entry), i++) {
		p = reload_lookup(all, n, pc);
		if (p != NULL)
			p->reload_seen = 1;
		if (p == NULL || p->removed) {
			reload_plan_add(plan, RELOAD_ADDED, names[i], pc->group,
			    pc->name, NULL);
			continue;
		}
		keys = config_program_changes(cur, reload_target(p), new, pc);
		if (keys != NULL)
			reload_plan_add(plan, RELOAD_CHANGED, names[i], pc->group,
			    pc->name, keys);
		else
			plan->unchanged++;
	}
	TAILQ_FOREACH(p, &procs, entry) {
		if (!p->reload_seen && !p->removed && p->runjob == NULL)
			reload_plan_add(plan, RELOAD_REMOVED, p->display, p->group,
			    p->name, NULL);
		p->reload_seen = 0;
	}
	for (i = 0; names[i] != NULL; i++)
		free(names[i]);
	free(names);
	free(all);
}

/*
 * The settings of an up process stay with it until it is down, however
 * many reloads come meanwhile: its stop uses them. Take them off OLD.
 */
void
reload_own_pc(struct proc *p, struct tend_conf *old)
{
	if (p->pc_owned)
		return;
	TAILQ_REMOVE(&old->programs, p->pc, entry);
	p->pc_owned = 1;
}

static void
reload_change(struct proc *p, struct tend_conf *old,
    struct program_conf *pc, char **keys)
{
	struct state_arg a = { .pc = pc, .old = old };
	char *list = reload_join(keys);

	/* what depends on it stops first, and comes back after it */
	if (depend_hold(p, DEPEND_HOLD_CHANGE)) {
		log_info("%s: config changed (%s): restarting once its "
		    "dependents are down", p->display, list);
		reload_own_pc(p, old);
		p->next_pc = pc;
		if (p->want != WANT_DOWN)
			p->want = WANT_UP;
		free(p->held_why);
		p->held_why = list;
		return;
	}
	a.why = list;
	state_event(p, E_CHANGE, &a);
	free(list);
}

static void
reload_remove(struct proc *p, struct tend_conf *old)
{
	struct state_arg a = { .old = old };

	p->removed = 1;
	p->want = WANT_DOWN;
	p->next_pc = NULL;	/* it was in OLD's list */
	/* what depends on it stops first */
	if (depend_hold(p, DEPEND_HOLD_REMOVE)) {
		log_info("%s: removed from the config: stopping once its "
		    "dependents are down", p->display);
		reload_own_pc(p, old);
		return;
	}
	state_event(p, E_REMOVE, &a);
}

void
reload_apply(struct tend_conf *old, struct tend_conf *new)
{
	struct state_arg a = { .reset = STATE_RESET_TRIES };
	struct proc **all, *p, *next;
	struct program_conf *pc;
	char **keys;
	size_t n;

	reload_running = 1;
	sockets_apply(new);	/* unchanged sets stay as they are */
	sevent_reload(old, new, 0);
	all = reload_by_fullname(&n);
	TAILQ_FOREACH(p, &procs, entry)
		p->reload_seen = p->reload_start = 0;
	TAILQ_FOREACH(pc, &new->programs, entry) {
		p = reload_lookup(all, n, pc);
		if (p == NULL) {
			p = program_new(pc);
			TAILQ_INSERT_TAIL(&procs, p, entry);
			p->reload_seen = 1;
			if (pc->autostart)
				p->reload_start = 1;
			log_info("%s:%s: added to the config", pc->group,
			    pc->name);
			continue;
		}
		p->reload_seen = 1;
		if (p->removed) {
			/* Still stopping from a reload that removed it. */
			log_info("%s: back in the config: it starts again "
			    "once stopped", p->display);
			p->removed = 0;
			p->next_pc = pc;
			p->want = pc->autostart ? WANT_UP : WANT_NONE;
			continue;
		}
		keys = config_program_changes(old, reload_target(p), new, pc);
		if (keys == NULL) {
			/* Untouched: same pid, same timers, new settings. */
			if (p->next_pc != NULL)
				p->next_pc = pc;
			else
				p->pc = pc;
			continue;
		}
		reload_change(p, old, pc, keys);
		strv_free(keys);
	}
	free(all);
	for (p = TAILQ_FIRST(&procs); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		/* tendctl run's jobs are not the file's (spec §12) */
		if (!p->reload_seen && !p->removed && p->runjob == NULL)
			reload_remove(p, old);
	}
	reload_running = 0;
	/* a listener's new settings (events, buffer_size) or a new role */
	TAILQ_FOREACH(p, &procs, entry)
		listener_proc_sync(p);
	sevent_reload(old, new, 1);
	program_sort();
	program_update_display();
	/*
	 * The new depends_on from now on (a LIVE key: nothing restarts for
	 * it); what waits looks again at what it waits for.
	 */
	depend_build();
	depend_release_free();
	TAILQ_FOREACH(p, &procs, entry)
		if (p->state == PROC_WAITING)
			state_event(p, E_DEPS, NULL);

	/* Start order, as at boot: low priorities first. */
	TAILQ_FOREACH(p, &procs, entry) {
		if (p->reload_start == 0)
			continue;
		if (persist_is_disabled(p)) {	/* spec §12 */
			p->reload_start = 0;
			p->want = WANT_DOWN;
			continue;
		}
		p->want = WANT_UP;
		a.why = p->reload_start == 1 ? "added by reload" :
		    "config changed";
		state_event(p, E_START, &a);
		p->reload_start = 0;
	}
	schedule_sync();	/* spec §12: new, changed, gone schedules */
}

void
reload_plan_free(struct reload_plan *plan)
{
	int i;

	for (i = 0; i < plan->n; i++) {
		free(plan->items[i].name);
		free(plan->items[i].group);
		free(plan->items[i].process);
		strv_free(plan->items[i].keys);
	}
	free(plan->items);
	strv_free(plan->restart);
	memset(plan, 0, sizeof(*plan));
}
