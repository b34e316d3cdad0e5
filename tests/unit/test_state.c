/*
 * test_state.c: the state machine's table (state.c), cell by cell, with
 * no real process: every (internal state, event) pair has an action (a
 * hole fails), and each action, run on a process put in that state, may
 * only do what its row in state_actions[] declares: the public states it
 * enters, spawning, signalling, freeing the process (a reload), refusing.
 * The state reached has its timer armed exactly when state_info[] says
 * it has one; a pair declared impossible is reported as an error, and
 * no other pair reports one. Linked with --wrap=spawn_proc,spawn_signal,
 * log_error (Makefile): a spawn gives a pid no kernel hands out, a
 * signal is counted, an error is counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "tendd.h"

/* Above PID_MAX_LIMIT (4194304): never a real process. */
#define FAKE_PID	5000000

static int	 spawns, signals, errors, next_pid = FAKE_PID;
static int	 spawn_fails;	/* the next spawn fails (-1) */

int	__wrap_spawn_proc(struct proc *, char **);
int
__wrap_spawn_proc(struct proc *p, char **cause)
{
	spawns++;
	if (spawn_fails) {
		*cause = xstrdup("cannot execute /x: No such file or directory");
		return -1;
	}
	p->pid = next_pid++;
	p->pidfd = -1;
	return 0;
}

int	__wrap_spawn_signal(struct proc *, int, int);
int
__wrap_spawn_signal(struct proc *p, int sig, int group)
{
	signals++;
	return 0;
}

/* spec §12: a pre_start is a fake too (ST_PRE_START's p->hook). */
static struct hook_run	*fake_hook = (struct hook_run *)&spawns;

int	__wrap_hooks_pre_start(struct proc *, char **);
int
__wrap_hooks_pre_start(struct proc *p, char **cause)
{
	spawns++;
	p->hook = fake_hook;
	return 0;
}

void	__wrap_hooks_cancel(struct proc *);
void
__wrap_hooks_cancel(struct proc *p)
{
	p->hook = NULL;
}

void	__wrap_log_error(const char *, ...);
void
__wrap_log_error(const char *fmt, ...)
{
	va_list ap;

	errors++;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static char tmpdir[] = "/tmp/test_state.XXXXXX";
static char *oldcwd;

static const char config[] =
    "[tend]\n"
    "socket = t.sock\n"
    "childlogdir = .\n"
    "[program:d]\n"
    "command = /bin/true d\n"
    "startsecs = 1\n"
    "stopwaitsecs = 10\n"
    "stdout_logfile = NONE\n"
    "stderr_logfile = NONE\n"
    "[program:j]\n"
    "command = /bin/true j\n"
    "daemon = false\n"
    "startsecs = 1\n"
    "joinsecs = 5\n"
    "stdout_logfile = NONE\n"
    "stderr_logfile = NONE\n"
    "[program:n]\n"
    "command = /bin/true n\n"
    "ready = notify\n"
    "ready_timeout = 5\n"
    "watchdog_secs = 5\n"
    "stdout_logfile = NONE\n"
    "stderr_logfile = NONE\n"
    "[program:h]\n"
    "command = /bin/true h\n"
    "pre_start = /bin/true pre\n"
    "stdout_logfile = NONE\n"
    "stderr_logfile = NONE\n"
    "[program:pf]\n"
    "command = /bin/true pf\n"
    "pidfile = @DIR@/none.pid\n"
    "ready_timeout = 5\n"
    "stdout_logfile = NONE\n"
    "stderr_logfile = NONE\n";

static int
setup(void **state)
{
	strcpy(tmpdir, "/tmp/test_state.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	oldcwd = getcwd(NULL, 0);
	tendd_base = event_base_new();
	return tendd_base == NULL ? -1 : chdir(tmpdir);
}

static int
teardown(void **state)
{
	char *cmd;
	int rc;

	event_base_free(tendd_base);
	tendd_base = NULL;
	rc = chdir(oldcwd);
	free(oldcwd);
	xasprintf(&cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		rc = -1;
	free(cmd);
	return rc;
}

static struct tend_conf *
load(void)
{
	struct diag d = { 0 };
	struct tend_conf *conf;
	char *text, *at;
	FILE *f = fopen("t.conf", "w");
	int i;

	text = xstrdup(config);
	at = strstr(text, "@DIR@");
	assert_non_null(f);
	fprintf(f, "%.*s%s%s", (int)(at - text), text, tmpdir, at + 5);
	assert_int_equal(fclose(f), 0);
	free(text);
	conf = config_load("t.conf", 0, &d);
	for (i = 0; i < d.n; i++)
		print_message("  %s\n", d.msgs[i].text);
	assert_non_null(conf);
	diag_clear(&d);
	return conf;
}

static struct proc *
find(const char *name)
{
	struct proc *p;

	TAILQ_FOREACH(p, &procs, entry)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

static struct program_conf *
pc_of(struct tend_conf *conf, const char *name)
{
	struct program_conf *pc;

	TAILQ_FOREACH(pc, &conf->programs, entry)
		if (strcmp(pc->name, name) == 0)
			return pc;
	fail_msg("no %s", name);
	return NULL;
}

/* The program that can be in state S and hear event EV. */
static const char *
program_for(enum state_id s, enum state_event ev)
{
	if (s == ST_AWAIT_PIDFILE)
		return "pf";
	if (s == ST_PRE_START)
		return "h";
	if (s == ST_JOINING)
		return "j";
	if (ev == E_READY || ev == E_WATCHDOG || ev == E_TRIGGER)
		return "n";
	return "d";
}

/* Puts P in internal state S, as the machine would have left it. */
static void
put_in(struct proc *p, enum state_id s)
{
	p->state = state_info[s].public;
	p->want = WANT_UP;
	switch (s) {
	case ST_STARTING_ENDED:
	case ST_RUNNING_ENDED:
	case ST_PAUSED_ENDED:
	case ST_STOPPING_ENDED:
		p->reaped = 1;
		p->has_exited = 1;
		p->exitcode = 1;
		p->last_pid = next_pid++;
		break;
	case ST_STARTING:
	case ST_RUNNING:
	case ST_JOINING:
	case ST_PAUSED:
	case ST_STOPPING:
		p->pid = next_pid++;
		program_pid_add(p->pid, p);
		break;
	default:
		break;
	}
	if (s == ST_JOINING)
		program_stopping_all = 1;
	if (s == ST_PRE_START)
		p->hook = fake_hook;
	if (p->pc->ready == READY_NOTIFY)
		p->start_deadline = util_now() + p->pc->ready_timeout;
	if (state_info[s].timer != TIMER_NONE)
		state_arm(p, 1);
	if (s == ST_RUNNING && p->pc->ready == READY_NOTIFY)
		state_watchdog_arm(p);
	assert_int_equal(state_of(p), s);
}

/* What the process's own state says its timer must be. */
static void
check_timer(struct proc *p)
{
	enum state_id s = state_of(p);
	int pending = evtimer_pending(p->timer, NULL) != 0;
	int must;

	switch (state_info[s].timer) {
	case TIMER_NONE:
		must = 0;
		break;
	case TIMER_STOPWAIT:
		/* once killed, a wait begun before may still run out */
		if (p->killed)
			return;
		must = 1;
		break;
	case TIMER_START:
		/* with startsecs = 0 or no ready_timeout, none */
		must = p->pc->ready == READY_NOTIFY ? p->start_deadline > 0 :
		    p->pc->startsecs > 0;
		break;
	default:
		must = 1;
		break;
	}
	if (pending != must)
		fail_msg("%s: timer %s in %s", p->name, pending ? "armed" :
		    "not armed", state_info[s].name);
}

/* The event E_TIMER comes when the timer has fired: not pending. */
static void
fire(struct proc *p, enum state_event ev)
{
	if (ev != E_TIMER)
		return;
	evtimer_del(p->timer);
	p->timer_due = 0;
}

/* Runs the cell (S, EV) on a fresh process; checks it against its row. */
static void
run_cell(enum state_id s, enum state_event ev)
{
	enum state_action_id aid = state_table[s][ev];
	const struct state_action *a = &state_actions[aid];
	struct tend_conf *conf = load(), *conf2 = load();
	const char *name = program_for(s, ev);
	struct state_arg arg = { .why = "a test", .sig = SIGHUP,
	    .reset = STATE_RESET_TRIES | STATE_RESET_SHORT };
	enum proc_state before;
	struct proc *p;
	char *cause = NULL;
	int rc, err0;

	if (aid == A_MISSING || aid >= A_N || a->fn == NULL)
		fail_msg("no action for %s in %s", state_event_names[ev],
		    state_info[s].name);
	tendd_conf = conf;
	program_setup(conf);
	p = find(name);
	put_in(p, s);
	arg.cause = &cause;
	arg.status = W_EXITCODE(1, 0);
	arg.pc = pc_of(conf2, name);
	arg.old = conf;
	if (ev == E_STOP || ev == E_KILL || ev == E_SHUTDOWN ||
	    ev == E_REMOVE)
		p->want = WANT_DOWN;
	if (ev == E_REMOVE)
		p->removed = 1;
	if (ev == E_SHUTDOWN)
		program_stopping_all = 1;
	before = p->state;
	spawns = signals = 0;
	err0 = errors;
	fire(p, ev);

	rc = state_event(p, ev, &arg);

	if (aid == A_IMPOSSIBLE)
		assert_int_equal(errors - err0, 1);
	else if (errors != err0)
		fail_msg("%s in %s: an error from action %s",
		    state_event_names[ev], state_info[s].name, a->name);
	if (spawns > 0 && !(a->fx & STATE_FX_SPAWN))
		fail_msg("%s spawned", a->name);
	if (signals > 0 && !(a->fx & STATE_FX_SIGNAL))
		fail_msg("%s signalled", a->name);
	if (rc != 0 && !(a->fx & STATE_FX_REFUSE))
		fail_msg("%s refused", a->name);
	if (rc != 0)
		assert_non_null(cause);
	free(cause);
	if ((p = find(name)) == NULL) {
		if (!(a->fx & STATE_FX_FORGET))
			fail_msg("%s freed the process", a->name);
	} else {
		if (p->state != before && !(a->next & (1u << p->state)))
			fail_msg("%s in %s: action %s led to %s",
			    state_event_names[ev], state_info[s].name, a->name,
			    program_state_name(p->state));
		if (a->next == 0)
			assert_int_equal(p->state, before);
		check_timer(p);
		/* Nothing but the action's own may change the state. */
		if (a->next == 0 && a->fn != NULL && spawns > 0)
			fail_msg("%s spawned without a new state", a->name);
	}
	program_free_all();
	program_stopping_all = 0;
	tendd_conf = NULL;
	config_free(conf);
	config_free(conf2);
}

static void
test_every_cell(void **state)
{
	int s, ev;

	for (s = 0; s < ST_N; s++)
		for (ev = 0; ev < E_N; ev++)
			run_cell(s, ev);
}

/* Every internal state maps to a public one, and every public one is one. */
static void
test_public_map(void **state)
{
	unsigned seen = 0;
	int s;

	for (s = 0; s < ST_N; s++) {
		assert_non_null(state_info[s].name);
		assert_true(state_info[s].public < PROC_NSTATES);
		seen |= 1u << state_info[s].public;
	}
	assert_int_equal(seen, (1u << PROC_NSTATES) - 1);
	for (s = 0; s < E_N; s++)
		assert_non_null(state_event_names[s]);
}

/* Spot checks: the cells a newcomer would check first, with exact outcomes. */
struct expect {
	enum state_id	 from;
	enum state_event ev;
	enum state_id	 to;
	int		 spawns, signals;
};

static const struct expect expects[] = {
	{ ST_NEW, E_START, ST_STARTING, 1, 0 },
	{ ST_STOPPED, E_START, ST_STARTING, 1, 0 },
	{ ST_BACKOFF, E_TIMER, ST_STARTING, 1, 0 },
	{ ST_BACKOFF, E_STOP, ST_STOPPED, 0, 0 },
	{ ST_RUNNING, E_STOP, ST_STOPPING, 0, 2 },	/* SIGTERM, SIGCONT */
	{ ST_RUNNING, E_KILL, ST_STOPPING, 0, 1 },
	{ ST_RUNNING, E_PAUSE, ST_PAUSED, 0, 1 },
	{ ST_PAUSED, E_RESUME, ST_RUNNING, 0, 1 },
	{ ST_STARTING, E_TIMER, ST_RUNNING, 0, 0 },
	{ ST_STOPPING, E_TIMER, ST_STOPPING, 0, 1 },	/* SIGKILL */
	{ ST_STOPPING_ENDED, E_DRAINED, ST_STOPPED, 0, 0 },
	{ ST_RUNNING_ENDED, E_DRAINED, ST_STARTING, 1, 0 }, /* restart_delay 0 */
	{ ST_STARTING_ENDED, E_DRAINED, ST_BACKOFF, 0, 0 },
	/* no output to wait for: its end is handled at once */
	{ ST_RUNNING, E_REAPED, ST_STARTING, 1, 0 },
	{ ST_JOINING, E_TIMER, ST_STOPPING, 0, 2 },
	{ ST_AWAIT_PIDFILE, E_STOP, ST_STOPPED, 0, 0 },
	/* no dependency left unmet: on to the spawn */
	{ ST_WAITING, E_DEPS, ST_STARTING, 1, 0 },
	{ ST_WAITING, E_STOP, ST_STOPPED, 0, 0 },
	{ ST_WAITING, E_SHUTDOWN, ST_STOPPED, 0, 0 },
};

static void
test_spot_checks(void **state)
{
	struct state_arg arg = { .why = "a test", .status = W_EXITCODE(1, 0) };
	struct tend_conf *conf;
	struct proc *p;
	size_t i;

	for (i = 0; i < sizeof(expects) / sizeof(expects[0]); i++) {
		const struct expect *e = &expects[i];

		conf = load();
		tendd_conf = conf;
		program_setup(conf);
		p = find(program_for(e->from, e->ev));
		put_in(p, e->from);
		if (e->ev == E_STOP || e->ev == E_KILL ||
		    e->from == ST_STOPPING_ENDED)
			p->want = WANT_DOWN;
		spawns = signals = 0;
		fire(p, e->ev);
		state_event(p, e->ev, &arg);
		if (state_of(p) != e->to || spawns != e->spawns ||
		    signals != e->signals)
			fail_msg("%s + %s: %s, %d spawns, %d signals",
			    state_info[e->from].name,
			    state_event_names[e->ev], state_info[state_of(p)].name,
			    spawns, signals);
		check_timer(p);
		program_free_all();
		program_stopping_all = 0;
		tendd_conf = NULL;
		config_free(conf);
	}
}

/* A spawn that fails is final (FATAL); a waiting start is told so. */
static void
test_outcome(void **state)
{
	struct state_arg arg = { .why = "a test" };
	struct tend_conf *conf = load();
	struct proc *p;
	char *msg;

	tendd_conf = conf;
	program_setup(conf);
	p = find("d");
	assert_int_equal(state_outcome(p, GOAL_UP, &msg), OUTCOME_PENDING);
	assert_null(msg);
	assert_int_equal(state_outcome(p, GOAL_SETTLED, &msg), OUTCOME_DONE);
	assert_int_equal(state_outcome(p, GOAL_DOWN, &msg), OUTCOME_DONE);
	assert_string_equal(msg, "stopped");
	free(msg);
	spawn_fails = 1;
	p->want = WANT_UP;
	state_event(p, E_START, &arg);
	spawn_fails = 0;
	assert_int_equal(p->state, PROC_FATAL);
	assert_int_equal(state_outcome(p, GOAL_UP, &msg), OUTCOME_FAILED);
	assert_string_equal(msg, "cannot execute /x: No such file or directory");
	free(msg);

	p = find("j");
	put_in(p, ST_RUNNING);
	assert_int_equal(state_outcome(p, GOAL_UP, &msg), OUTCOME_DONE);
	assert_string_equal(msg, "started");
	free(msg);
	assert_int_equal(state_outcome(p, GOAL_DOWN, &msg), OUTCOME_PENDING);
	assert_int_equal(state_outcome(p, GOAL_SETTLED, &msg), OUTCOME_PENDING);
	program_free_all();
	tendd_conf = NULL;
	config_free(conf);
}

/* depends_on: db (a service), mig (a job, after db), web (after both). */
static const char config_deps[] =
    "[tend]\n"
    "socket = t.sock\n"
    "childlogdir = .\n"
    "[program:db]\n"
    "command = /bin/true db\n"
    "autostart = false\n"
    "startsecs = 1\n"
    "stdout_logfile = NONE\n"
    "stderr_logfile = NONE\n"
    "[program:mig]\n"
    "command = /bin/true mig\n"
    "autostart = false\n"
    "daemon = false\n"
    "depends_on = db\n"
    "stdout_logfile = NONE\n"
    "stderr_logfile = NONE\n"
    "[program:web]\n"
    "command = /bin/true web\n"
    "startsecs = 1\n"
    "depends_on = db, mig\n"
    "stdout_logfile = NONE\n"
    "stderr_logfile = NONE\n";

static struct tend_conf *
load_deps(void)
{
	struct diag d = { 0 };
	struct tend_conf *conf;
	FILE *f = fopen("t.conf", "w");

	assert_non_null(f);
	assert_int_equal(fputs(config_deps, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	conf = config_load("t.conf", 0, &d);
	assert_non_null(conf);
	diag_clear(&d);
	tendd_conf = conf;
	program_setup(conf);
	return conf;
}

/* A process's end, as reap.c and output.c report it. */
static void
end_with(struct proc *p, int code)
{
	struct state_arg a = { .status = W_EXITCODE(code, 0) };

	state_event(p, E_REAPED, &a);
}

static void
timer_over(struct proc *p)
{
	fire(p, E_TIMER);
	state_event(p, E_TIMER, NULL);
}

/*
 * WAITING: a start pulls the dependencies in and waits; each becoming
 * up or done lets the next go; a stop takes the dependents first.
 */
static void
test_depends(void **state)
{
	struct state_arg arg = { .why = "a test" };
	struct tend_conf *conf = load_deps();
	struct proc *db = find("db"), *mig = find("mig"), *web = find("web");
	char desc[256], *cause = NULL;

	assert_int_equal(web->ndeps, 2);
	assert_int_equal(db->nrdeps, 2);
	spawns = errors = 0;
	web->want = WANT_UP;
	state_event(web, E_START, &arg);
	assert_int_equal(spawns, 1);		/* db alone */
	assert_int_equal(db->state, PROC_STARTING);
	assert_int_equal(mig->state, PROC_WAITING);
	assert_int_equal(web->state, PROC_WAITING);
	program_describe(web, desc, sizeof(desc));
	assert_string_equal(desc, "waiting for db (STARTING)");
	timer_over(db);				/* up for startsecs */
	assert_int_equal(db->state, PROC_RUNNING);
	assert_int_equal(mig->state, PROC_STARTING);
	assert_int_equal(web->state, PROC_WAITING);
	program_describe(web, desc, sizeof(desc));
	assert_string_equal(desc, "waiting for mig (STARTING)");
	end_with(mig, 0);			/* the job is done */
	assert_int_equal(mig->state, PROC_EXITED);
	assert_int_equal(web->state, PROC_STARTING);
	assert_int_equal(spawns, 3);
	timer_over(web);
	assert_int_equal(web->state, PROC_RUNNING);

	/* a crash of db restarts it: web stays up */
	end_with(db, 1);
	assert_int_equal(db->state, PROC_STARTING);
	assert_int_equal(web->state, PROC_RUNNING);
	timer_over(db);

	/* stop db: web first, db once web is down */
	signals = 0;
	assert_int_equal(program_stop_tree(db, &cause), 0);
	assert_int_equal(web->state, PROC_STOPPING);
	assert_int_equal(db->state, PROC_RUNNING);
	assert_int_equal(db->stop_held, 1);
	end_with(web, 0);
	assert_int_equal(web->state, PROC_STOPPED);
	assert_int_equal(db->state, PROC_STOPPING);
	end_with(db, 0);
	assert_int_equal(db->state, PROC_STOPPED);

	/* db cannot start: what waits on it is FATAL */
	spawn_fails = 1;
	web->want = WANT_UP;
	state_event(web, E_START, &arg);
	spawn_fails = 0;
	assert_int_equal(db->state, PROC_FATAL);
	assert_int_equal(web->state, PROC_FATAL);
	assert_string_equal(web->reason, "dependency db failed");

	/* a job that fails for good fails its dependents */
	put_in(mig, ST_STOPPED);		/* to be run again */
	web->want = WANT_UP;
	state_event(web, E_START, &arg);	/* db again */
	timer_over(db);
	assert_int_equal(web->state, PROC_WAITING);
	mig->pc->autorestart = AUTORESTART_FALSE;
	end_with(mig, 3);			/* before startsecs: retried */
	assert_int_equal(mig->state, PROC_BACKOFF);
	assert_int_equal(web->state, PROC_WAITING);
	timer_over(mig);
	timer_over(mig);			/* up, not done: a job */
	assert_int_equal(mig->state, PROC_RUNNING);
	assert_int_equal(web->state, PROC_WAITING);
	end_with(mig, 3);			/* not retried */
	assert_int_equal(mig->state, PROC_EXITED);
	assert_int_equal(web->state, PROC_FATAL);
	assert_string_equal(web->reason, "dependency mig failed");
	assert_int_equal(errors, 0);
	program_free_all();
	tendd_conf = NULL;
	config_free(conf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_public_map),
		cmocka_unit_test_setup_teardown(test_every_cell, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spot_checks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_outcome, setup, teardown),
		cmocka_unit_test_setup_teardown(test_depends, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
