/*
 * depend.c: depends_on (spec §7). The names a program lists, matched
 * like names on tendctl's command line, become edges between processes,
 * kept both ways (deps: what P waits for; rdeps: what waits for P), so
 * that a state change looks only at the processes it concerns, never at
 * all of them. Also the cycle search the config reader reports with.
 * The state machine (state.c) decides; this file answers its questions
 * (is a dependency up, did it fail) and walks the edges for it.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "tendd.h"

/* Marks for walks over the edges (proc.dep_gen): one number per walk. */
static unsigned depend_gen;

static unsigned
depend_next_gen(void)
{
	if (++depend_gen == 0)
		depend_gen = 1;
	return depend_gen;
}

char **
depend_split(const char *list)
{
	const char *p = list, *start;
	char **v = NULL;
	size_t n = 0;

	if (list == NULL)
		return NULL;
	for (;;) {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p != '\0' && *p != ',' && !isspace((unsigned char)*p))
			p++;
		v = xreallocarray(v, n + 2, sizeof(*v));
		v[n++] = xstrndup(start, p - start);
		v[n] = NULL;
	}
	return v;
}

/*
 * As tendctl matches names (command_matches()), and a bare name is
 * also a group's: every process of a [group:] or of a numprocs program.
 */
int
depend_match(const char *dep, const char *group, const char *name)
{
	const char *colon = strchr(dep, ':');
	size_t glen;

	if (colon == NULL)
		return fnmatch(dep, name, 0) == 0 ||
		    fnmatch(dep, group, 0) == 0;
	glen = colon - dep;
	if (strlen(group) != glen || strncmp(dep, group, glen) != 0) {
		/* GROUP may be a glob too: match the whole name then */
		char *full;
		int r;

		xasprintf(&full, "%s:%s", group, name);
		r = fnmatch(dep, full, 0) == 0;
		free(full);
		return r;
	}
	return fnmatch(colon + 1, name, 0) == 0;
}

/* Depth-first search with colours; the grey path is the cycle. */
int
depend_cycle(size_t n, size_t *const *adj, const size_t *nadj,
    size_t **path, size_t *plen)
{
	unsigned char *colour = xcalloc(n + 1, 1);	/* 0 white 1 grey 2 black */
	size_t *stack = xcalloc(n + 1, sizeof(*stack));
	size_t *next = xcalloc(n + 1, sizeof(*next));
	size_t root, depth, v, w, i, k;
	int found = 0;

	for (root = 0; root < n && !found; root++) {
		if (colour[root] != 0)
			continue;
		depth = 0;
		stack[depth++] = root;
		colour[root] = 1;
		next[root] = 0;
		while (depth > 0 && !found) {
			v = stack[depth - 1];
			if (next[v] >= nadj[v]) {
				colour[v] = 2;
				depth--;
				continue;
			}
			w = adj[v][next[v]++];
			if (colour[w] == 0) {
				colour[w] = 1;
				next[w] = 0;
				stack[depth++] = w;
			} else if (colour[w] == 1) {
				for (i = 0; stack[i] != w; i++)
					;
				*plen = depth - i + 1;
				*path = xcalloc(*plen, sizeof(**path));
				for (k = 0; i + k < depth; k++)
					(*path)[k] = stack[i + k];
				(*path)[k] = w;
				found = 1;
			}
		}
	}
	free(colour);
	free(stack);
	free(next);
	return found;
}

/* ---- the edges between processes */

static void
depend_push(struct proc ***v, int *n, struct proc *p)
{
	/* grown in powers of two: the count says the capacity */
	if ((*n & (*n - 1)) == 0)
		*v = xreallocarray(*v, *n == 0 ? 1 : 2 * (size_t)*n,
		    sizeof(**v));
	(*v)[(*n)++] = p;
}

static void
depend_clear(struct proc *p)
{
	free(p->deps);
	free(p->rdeps);
	p->deps = p->rdeps = NULL;
	p->ndeps = p->nrdeps = 0;
	p->dep_cursor = 0;
}

/*
 * From each process's depends_on (its current settings; a process a
 * reload removed keeps its old ones until it is down, and is no living
 * process's dependency). At load and each reload: the only walk over
 * every process.
 */
void
depend_build(void)
{
	struct proc *p, *q;
	char **names;
	unsigned gen;
	size_t i;

	TAILQ_FOREACH(p, &procs, entry)
		depend_clear(p);
	TAILQ_FOREACH(p, &procs, entry) {
		/* a removed one still stopping keeps its (old) edges */
		if (p->pc->depends_on == NULL)
			continue;
		names = depend_split(p->pc->depends_on);
		gen = depend_next_gen();
		for (i = 0; names != NULL && names[i] != NULL; i++) {
			TAILQ_FOREACH(q, &procs, entry) {
				if (q == p || (q->removed && !p->removed) ||
				    q->dep_gen == gen ||
				    !depend_match(names[i], q->group, q->name))
					continue;
				q->dep_gen = gen;
				depend_push(&p->deps, &p->ndeps, q);
				depend_push(&q->rdeps, &q->nrdeps, p);
			}
		}
		strv_free(names);
	}
}

static void
depend_unlink(struct proc **v, int *n, const struct proc *p)
{
	int i;

	for (i = 0; i < *n; i++) {
		if (v[i] == p) {
			v[i] = v[--*n];
			return;
		}
	}
}

void
depend_detach(struct proc *p)
{
	int i;

	for (i = 0; i < p->ndeps; i++)
		depend_unlink(p->deps[i]->rdeps, &p->deps[i]->nrdeps, p);
	for (i = 0; i < p->nrdeps; i++) {
		depend_unlink(p->rdeps[i]->deps, &p->rdeps[i]->ndeps, p);
		p->rdeps[i]->dep_cursor = 0;
	}
	depend_clear(p);
}

/* ---- what a dependency's state means for those waiting on it */

/* Up (a service) or done (a job), and not about to be stopped. */
static int
depend_ok(const struct proc *d)
{
	if (d->stop_held)
		return 0;
	if (d->pc->daemon)
		return d->state == PROC_RUNNING;
	return d->state == PROC_EXITED && d->has_exited &&
	    config_exitcode_expected(d->pc, d->exitcode);
}

/* Failed for good: FATAL, or a job that ended badly, not to be retried. */
int
depend_failed(const struct proc *d)
{
	if (d->state == PROC_FATAL)
		return 1;
	return !d->pc->daemon && d->state == PROC_EXITED && d->has_exited &&
	    !config_exitcode_expected(d->pc, d->exitcode);
}

/*
 * The first dependency not up, from where the last one was: a process
 * waiting on a hundred looks at each about once as they come up.
 */
struct proc *
depend_unmet(struct proc *p, int *failed)
{
	struct proc *d;
	int i, k;

	*failed = 0;
	for (k = 0; k < p->ndeps; k++) {
		i = (p->dep_cursor + k) % p->ndeps;
		d = p->deps[i];
		if (!depend_ok(d)) {
			p->dep_cursor = i;
			*failed = depend_failed(d);
			return d;
		}
	}
	return NULL;
}

/* Neither up nor done nor on its way up. */
static int
depend_needs_start(const struct proc *d)
{
	switch (d->state) {
	case PROC_NEW:
	case PROC_STOPPED:
	case PROC_FATAL:
		return 1;
	case PROC_EXITED:
		return !depend_ok(d);
	case PROC_STOPPING:
		return d->want != WANT_UP;
	default:
		return 0;
	}
}

/* Each started dependency pulls its own in as it starts (state.c). */
void
depend_pull(struct proc *p)
{
	char *cause;
	int i;

	for (i = 0; i < p->ndeps; i++) {
		if (!depend_needs_start(p->deps[i]))
			continue;
		cause = NULL;
		if (program_start(p->deps[i], &cause) == -1)
			log_warn("%s: cannot start its dependency %s: %s",
			    p->display, p->deps[i]->display,
			    cause != NULL ? cause : "refused");
		free(cause);
	}
}

int
depend_dependents_up(const struct proc *p)
{
	int i;

	for (i = 0; i < p->nrdeps; i++)
		if (state_has_process(p->rdeps[i]))
			return 1;
	return 0;
}

/* P's dependents are down: what was held for them is done now. */
static void
depend_release(struct proc *d)
{
	struct state_arg a = { .why = NULL };
	int kind = d->stop_held;

	d->stop_held = 0;
	switch (kind) {
	case DEPEND_HOLD_STOP:
		if (d->want == WANT_DOWN)
			state_event(d, E_STOP, NULL);
		break;
	case DEPEND_HOLD_RESTART:
		state_event(d, E_STOP, NULL);
		break;
	case DEPEND_HOLD_CHANGE:
		a.pc = d->next_pc;
		a.why = d->held_why;
		if (state_has_process(d))
			state_event(d, E_CHANGE, &a);
		else {
			/* it ended meanwhile: on to the new settings now */
			reload_take_next(d);
			if (d->want == WANT_UP)
				state_event(d, E_START, &a);
		}
		free(d->held_why);
		d->held_why = NULL;
		break;
	case DEPEND_HOLD_REMOVE:
		state_event(d, E_REMOVE, NULL);
		break;
	}
}

void
depend_changed(struct proc *p)
{
	struct state_arg a = { .dep = p };
	struct proc *d;
	int i;

	if (program_stopping_all)
		return;	/* the shutdown's order holds (program.c) */
	if (depend_ok(p) || depend_failed(p)) {
		for (i = 0; i < p->nrdeps; i++)
			if (p->rdeps[i]->state == PROC_WAITING)
				state_event(p->rdeps[i], E_DEPS, &a);
	}
	if (state_has_process(p))
		return;
	/* down: a stop held for it may go on */
	for (i = 0; i < p->ndeps; i++) {
		d = p->deps[i];
		if (d->stop_held && !depend_dependents_up(d))
			depend_release(d);
	}
}

/* After a reload rebuilt the edges: holds nothing keeps any more. */
void
depend_release_free(void)
{
	struct proc *p, *next;

	for (p = TAILQ_FIRST(&procs); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (p->stop_held && !depend_dependents_up(p))
			depend_release(p);
	}
}

/*
 * Stops P's dependents, then P once they are down. KIND: a person's
 * stop (P is wanted down) or a restart (P comes back as it wants).
 */
static void
depend_stop_walk(struct proc *p, unsigned gen, int kind)
{
	int i, held = 0;

	p->dep_gen = gen;
	for (i = 0; i < p->nrdeps; i++) {
		if (p->rdeps[i]->dep_gen != gen)
			depend_stop_walk(p->rdeps[i], gen, kind);
		if (state_has_process(p->rdeps[i]))
			held = 1;
	}
	if (kind == DEPEND_HOLD_STOP)
		p->want = WANT_DOWN;
	if (held) {
		p->stop_held = kind;
		return;
	}
	p->stop_held = 0;
	/* one to come back that has no process waits as it is (on P) */
	if (kind == DEPEND_HOLD_RESTART && !state_has_process(p))
		return;
	state_event(p, E_STOP, NULL);
}

/* tendctl stop: what depends on P stops first, P once they are down. */
int
depend_stop(struct proc *p, char **cause)
{
	depend_stop_walk(p, depend_next_gen(), DEPEND_HOLD_STOP);
	return 0;
}

int
depend_hold(struct proc *p, int kind)
{
	unsigned gen;
	int i;

	if (!state_has_process(p) || !depend_dependents_up(p))
		return 0;
	gen = depend_next_gen();
	p->dep_gen = gen;
	for (i = 0; i < p->nrdeps; i++)
		if (p->rdeps[i]->dep_gen != gen)
			depend_stop_walk(p->rdeps[i], gen, DEPEND_HOLD_RESTART);
	if (!depend_dependents_up(p))
		return 0;
	p->stop_held = kind;
	return 1;
}
