/*
 * tendd.h: the daemon's one private header. The config object (what the
 * file says), the runtime objects (what is happening), and every module's
 * public functions, grouped by the file that owns them.
 */
#ifndef TENDD_H
#define TENDD_H

#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <stdarg.h>
#include <stdint.h>
#include <time.h>

#include "protocol.h"
#include "util.h"

struct event_base;
struct event;
struct json_t;
struct probe_spec;
struct probe_run;
struct hook_run;
struct runjob;
struct sched;

extern struct event_base *tendd_base;

/* ------------------------------------------------------------------ */
/* config.c: the config object, read whole and validated whole.        */

enum autorestart {
	AUTORESTART_FALSE,
	AUTORESTART_UNEXPECTED,
	AUTORESTART_TRUE,
};

/* How a process says it is up (spec: ready). */
enum ready_mode {
	READY_NONE,	/* up after startsecs */
	READY_NOTIFY,	/* up when it sends READY=1 (notify.c) */
	READY_PROBE,	/* up when its probe succeeds (probe.c) */
};

enum loglevel {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* rlimit_* values beside a number. */
#define CONFIG_RLIMIT_UNSET	(-1LL)
#define CONFIG_RLIMIT_INFINITY	(-2LL)

/*
 * One process of a [program:NAME] section, expanded and checked: a
 * program yields numprocs of them (times the [group:]s that list it),
 * each expanded with its own %(process_num)d and %(group_name)s.
 */
struct program_conf {
	TAILQ_ENTRY(program_conf) entry;
	char		*program;	/* NAME of [program:NAME] */
	char		*name;		/* the process name (process_name) */
	char		*group;		/* its [group:], or program */
	int		 process_num;
	int		 numprocs;	/* of its program */
	int		 group_priority; /* [group:] priority; else priority */
	char		*file;		/* where the section is */
	int		 line;

	char		*command;	/* expanded, as written */
	char		**argv;		/* split like a shell would; NULL-terminated */
	char		*path;		/* the file to exec, found in PATH at load;
					   NULL: look argv[0] up at spawn */
	int		 autostart;
	enum autorestart autorestart;
	double		 startsecs;
	int		 startretries;	/* -1: infinite */
	uint8_t		 exitcodes[32];	/* bit N set: exit code N is expected */
	int		 stopsignal;
	double		 stopwaitsecs;
	int		 stopasgroup;
	int		 killasgroup;	/* stopasgroup implies it */
	char		*directory;	/* absolute; NULL: tendd's own */
	int		 umask;		/* -1: inherit tendd's */
	char		*user;		/* NULL: tendd's own */
	char		**environment;	/* "KEY=VALUE", NULL-terminated; may be NULL */
	int		 priority;
	int		 daemon;
	double		 joinsecs;
	double		 restart_delay;
	double		 backoff_max;
	double		 backoff_reset;
	int		 critical;
	char		*env_file;	/* absolute; NULL: none */
	char		**env_file_env;	/* content at load; NULL: none */
	long long	 rlimit_nofile;	/* N, CONFIG_RLIMIT_UNSET, _INFINITY */
	long long	 rlimit_core;
	enum ready_mode	 ready;		/* from ready_spec */
	double		 ready_timeout;	/* notify, pidfile: 0 = wait forever */
	double		 watchdog_secs;	/* notify only; 0: no watchdog */
	char		*pidfile;	/* self-daemonizing: the pid to supervise */
	char		*depends_on;	/* names, as written (depend.c splits) */

	/* Probes (probe.c, spec §7): readiness beyond notify, health. */
	char		*ready_spec;	/* `ready` as written: none, notify, a probe */
	struct probe_spec *ready_probe;	/* derived; NULL unless READY_PROBE */
	double		 ready_interval;
	double		 probe_timeout;
	char		*healthcheck;	/* as written; "none" */
	struct probe_spec *health_probe; /* derived; NULL: none */
	double		 healthcheck_interval;
	int		 healthcheck_retries;

	/* Output (spec §6): where each stream goes and how it rotates. */
	char		*stdout_logfile;	/* "AUTO", "NONE", "journal",
						   "/dev/stdout", "/dev/stderr"
						   or an absolute path */
	long long	 stdout_maxbytes;	/* 0: never rotate */
	int		 stdout_backups;
	char		*stderr_logfile;
	long long	 stderr_maxbytes;
	int		 stderr_backups;
	int		 redirect_stderr;	/* stderr goes down stdout's pipe */
	int		 log_timestamps;	/* prefix each line with the time */

	/* Sockets held by tendd (sockets.c, spec §8). */
	char		*sockets;	/* URLs as written; NULL: none */
	char		*socket_owner;	/* user or user:group; NULL: tendd's */
	int		 socket_mode;	/* unix sockets */
	int		 socket_backlog; /* 0: SOMAXCONN */
	int		 fcgi;		/* [fcgi-program:]: the socket is fd 0 */
	char		*fcgi_socket;	/* its `socket =` */
	/* spec §12: runtime operations */
	char		*pre_start;	/* as written; NULL: none (hooks.c) */
	char		*post_stop;
	double		 hook_timeout;
	char		*schedule;	/* cron expression; NULL: none */
	long long	 memory_max;	/* cgroup limits (cgroup.c); 0: none */
	long long	 memory_high;
	int		 cpu_max;	/* percent of one CPU */
	int		 cpu_weight;
	int		 pids_max;
	/* Event listeners (spec §10, listener.c, sevents.c) */
	int		 listener;	/* an [eventlistener:] process */
	char		*events;	/* as written: a comma list of types */
	unsigned long long events_mask;	/* derived: SEV_BIT()s it matches */
	int		 buffer_size;	/* events kept for its pool */
	int		 stdout_events;	/* stdout_events_enabled */
	int		 stderr_events;	/* stderr_events_enabled */
};
TAILQ_HEAD(program_confs, program_conf);

/* The whole file: [tend] (or [supervisord]/[unix_http_server]) and programs. */
struct tend_conf {
	char		*file;		/* absolute path of the main file */
	char		*socket;	/* absolute */
	int		 socket_mode;
	char		*socket_owner;	/* NULL: tendd's user */
	enum loglevel	 loglevel;
	char		*logfile;	/* "stderr", "journal", "auto", "syslog",
					   "/dev/stdout", "/dev/stderr" or
					   an absolute path */
	long long	 logfile_maxbytes;	/* a path's rotation; 0: never */
	int		 logfile_backups;
	char		*childlogdir;
	char		*pidfile;	/* NULL: none */
	char		*identifier;
	int		 nocleanup;	/* keep earlier runs' AUTO logs */
	int		 umask;		/* -1: leave as is */
	char		*directory;	/* NULL: stay */
	char		**environment;	/* added to tendd's own for every child */
	double		 client_timeout; /* idle control clients; 0: never */
	int		 minfds;	/* tendd's RLIMIT_NOFILE at least */
	int		 minprocs;	/* and RLIMIT_NPROC */
	int		 minfds_set;	/* given in the file (else a default) */
	int		 minprocs_set;
	int		 nprograms;	/* [program:] sections */
	int		 nprocs;	/* processes they yield */
	long		 proc_fds;	/* descriptors tendd holds for them
					   all running (config_proc_fds) */
	int		 ngroups;	/* distinct groups of those */
	struct program_confs programs;	/* processes, in file order */

	/* supervisord's XML-RPC interface (spec section 9, http.c) */
	char		*http_username;	/* [unix_http_server]; NULL: none */
	char		*http_password;
	char		*inet_port;	/* [inet_http_server] port; NULL: off */
	char		*inet_username;
	char		*inet_password;
	/* spec §12 */
	char		*state_dir;	/* NULL: persist_default_state_dir() */
};

/* Errors and warnings of one config read, each "file:line: message". */
struct diag_msg {
	int		 is_error;
	char		*text;
};
struct diag {
	struct diag_msg	*msgs;
	int		 n;
	int		 nerrors;
	int		 nwarnings;
};

#define CONFIG_STRICT	0x1	/* warnings about the file become errors */

/*
 * Reads FILE (and what its [include]s name) into a fresh object. Every
 * error and warning goes to D. Returns NULL when there is any error (and
 * then nothing may be started).
 */
struct tend_conf *config_load(const char *file, int flags, struct diag *d);
void	 config_free(struct tend_conf *);
/* One process's settings, once it is off its config's list. */
void	 config_program_free(struct program_conf *);
/* Same settings, so a reload leaves the running process alone. */
int	 config_program_equal(const struct program_conf *,
	    const struct program_conf *);
/*
 * The keys whose values differ between A (of config CA) and B (of CB),
 * the [tend] environment included since every child gets it: a
 * NULL-terminated vector, or NULL when the process would run the same.
 */
char	**config_program_changes(const struct tend_conf *ca,
	    const struct program_conf *a, const struct tend_conf *cb,
	    const struct program_conf *b);
/* [tend] settings that differ and take effect only when tendd restarts. */
char	**config_restart_changes(const struct tend_conf *,
	    const struct tend_conf *);
int	 config_exitcode_expected(const struct program_conf *, int code);
/*
 * Descriptors tendd holds for CONF's processes when all of them run: a
 * pidfd each, a pipe per stream that is logged (none for NONE, one for
 * both with redirect_stderr), the log files they write (shared ones
 * once). Beside them tendd needs TENDD_FDS_OWN for itself and keeps
 * TENDD_FDS_CLIENTS for clients: tendd asks for the sum as its limit.
 */
long	 config_proc_fds(const struct tend_conf *conf);
#define TENDD_FDS_OWN		64
#define TENDD_FDS_CLIENTS	64
#define CONFIG_FDS_NEEDED(conf)	\
	((conf)->proc_fds + TENDD_FDS_OWN + TENDD_FDS_CLIENTS)
/*
 * Reads an env_file: KEY=VALUE lines, '#' comments, an optional "export ",
 * quoted values. 0 with an allocated vector (NULL when empty), or -1
 * with *cause ("cannot read F: ...", "F:3: expected KEY=VALUE").
 */
int	 config_read_env_file(const char *path, char ***env, char **cause);
/* The PATH of a child whose environment gives none, tendd's included. */
#define CONFIG_DEFAULT_PATH	"/usr/local/bin:/usr/bin:/bin"
/*
 * Where a command name without '/' is found, at load (in the program's
 * own PATH) and at each start (in tendd's): in SEARCH (a PATH value;
 * NULL: tendd's own, else CONFIG_DEFAULT_PATH), the first absolute entry
 * holding an executable file that is not a directory. An allocated path,
 * or NULL with *err: the first reason an entry's file could not be run
 * (EACCES, EISDIR, ...), else ENOENT.
 */
char	*config_env_which(const char *file, const char *search, int *err);

void	 diag_add(struct diag *, int is_error, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	 diag_clear(struct diag *);

/* ------------------------------------------------------------------ */
/* program.c: the processes as a whole; state.c: the state machine.    */

enum proc_state {
	PROC_NEW,
	PROC_STARTING,
	PROC_RUNNING,
	PROC_PAUSED,
	PROC_STOPPING,
	PROC_STOPPED,
	PROC_EXITED,
	PROC_BACKOFF,
	PROC_FATAL,
	PROC_WAITING,	/* to be started once its dependencies are */
};
#define PROC_NSTATES	(PROC_WAITING + 1)

/* What a person asked for, apart from what is happening (runit's want). */
enum proc_want {
	WANT_NONE,	/* never asked: autostart=false and no start yet */
	WANT_UP,
	WANT_DOWN,
};

struct waiter;
struct output;
struct conn;

/* Why tend itself is stopping a process: how its end is then judged. */
enum proc_fail {
	FAIL_NONE,
	FAIL_START,	/* not ready in time: a failed start */
	FAIL_WATCHDOG,	/* no WATCHDOG=1 in time: a crash, restarted */
};

struct proc {
	TAILQ_ENTRY(proc) entry;	/* in procs, by priority then name */
	struct program_conf *pc;	/* owned by the current tend_conf */
	char		*name;		/* process name */
	char		*group;		/* group name */
	char		*fullname;	/* GROUP:NAME */
	const char	*display;	/* NAME when alone in a group of that name */

	enum proc_state	 state;
	enum proc_want	 want;
	pid_t		 pid;		/* 0 when none */
	pid_t		 last_pid;	/* of the last run, kept after its reap */
	int		 pidfd;		/* -1 when none; signals go through it */
	struct event	*exitev;	/* pidfd readable: the process ended */
	int		 exitcode;	/* spec convention; valid if has_exited */
	int		 has_exited;
	int		 reaped;	/* pid gone, end not yet handled */

	double		 start_time;	/* monotonic, last spawn */
	double		 running_time;	/* monotonic, when it became RUNNING */
	double		 state_time;	/* monotonic, last state change */
	double		 state_wall;	/* wallclock of the same, for people */
	double		 timer_due;	/* monotonic, when the state timer fires */
	int		 startfails;	/* failed starts in a row (STARTING exits) */
	int		 crashes;	/* quick exits from RUNNING in a row */
	int		 shortfails;	/* starts the machine could not make
					   (SPAWN_SHORT) in a row: the backoff,
					   never startretries */
	int		 restarts;	/* spawns after the first one */
	int		 killed;	/* SIGKILL was sent in this stop */
	int		 shutdown_stop;	/* stopping because tendd shuts down */
	char		*spawnerr;	/* why the last spawn failed; NULL if none */
	char		*reason;	/* why the last transition happened */
	enum proc_fail	 failing;	/* set while tend stops it for a failure */
	char		*fail_why;	/* what that failure was, until next spawn */

	/* ready = notify (notify.c) */
	int		 ready_seen;	/* READY=1 arrived for this run */
	char		*notify_status;	/* the last STATUS= text; NULL if none */
	double		 watchdog_secs;	/* this run's; WATCHDOG_USEC= changes it */
	struct event	*watchdog;	/* fires when WATCHDOG=1 is overdue */

	/* pidfile: a launcher's daemon, adopted when the launcher exits. */
	int		 adopted;	/* pid was adopted (pidfile, MAINPID=) */
	pid_t		 mainpid_next;	/* MAINPID= to adopt when pid exits */
	double		 start_deadline; /* monotonic; 0: none (ready_timeout) */
	double		 pidfile_poll;	/* the next wait between pidfile reads */
	char		*pidfile_err;	/* why the pidfile was not usable yet */

	/*
	 * Reload. While a process stops because its config changed or went
	 * away, pc is its old settings, detached from the old config and
	 * owned here (the stop uses them); next_pc is what it runs next.
	 */
	struct program_conf *next_pc;	/* NULL, or in the current config */
	int		 pc_owned;	/* free pc with the proc */
	int		 removed;	/* forget it once it is down */
	int		 reload_seen;	/* matched by the reload under way */
	int		 reload_start;	/* start it after the reload */

	struct event	*timer;		/* the one timer of the current state */
	struct output	*out;		/* output.c: pipes, tail rings, logs */

	/* probe.c: the ready probe or health check under way; NULL: none */
	struct probe_run *probe;

	/* cgroup.c: its cgroup directory and cgroup.procs; NULL if none */
	char		*cgroup;
	char		*cgroup_join;
	int		 cgroup_slot;	/* 1 + its slot in SOCKET.state; 0 */

	/* depend.c: depends_on as edges both ways, rebuilt at each load. */
	struct proc	**deps;		/* what it waits for */
	int		 ndeps;
	int		 dep_cursor;	/* where the last unmet one was */
	struct proc	**rdeps;	/* what waits for it */
	int		 nrdeps;
	int		 stop_held;	/* DEPEND_HOLD_*: waits for its dependents */
	char		*held_why;	/* DEPEND_HOLD_CHANGE: the keys that differ */
	unsigned	 dep_gen;	/* visited by the walk of that number */

	/* metrics.c: CPU seconds of ended runs, the latest of pid's run */
	double		 cpu_ended;
	double		 cpu_live;
	pid_t		 cpu_pid;
	/* spec §12: runtime operations (persist.c, cmd_runtime.c) */
	struct hook_run	*hook;		/* hooks.c: pre_start under way */
	int		 hook_passed;	/* pre_start succeeded: spawn now */
	int		 post_stop_due;	/* it ran: post_stop once it ends */
	struct runjob	*runjob;	/* runjob.c: a transient job; NULL */
	struct sched	*sched;		/* schedule.c: its entry; NULL */
	long long	 oom_base;	/* cgroup.c: oom_kill count at spawn */
	int		 oom_killed;	/* its last end was the OOM killer's */
	/* sevents.c, listener.c (spec §10) */
	int		 sv_state;	/* the last supervisord state announced */
	struct listener	*lsn;		/* an [eventlistener:]'s channel; NULL */
};
TAILQ_HEAD(procs, proc);
extern struct procs procs;
extern int program_nprocs;

const char *program_state_name(enum proc_state);
/* Builds processes for CONF (first load). */
void	 program_setup(struct tend_conf *);
/* The list: a new process (not in it yet), in start order, freed. */
struct proc *program_new(struct program_conf *);
void	 program_free(struct proc *);
struct proc **program_array(size_t *);	/* allocated, NULL-ended */
void	 program_sort(void);
/*
 * The display-name rule (PROCESS when alone in a group of its name,
 * GROUP:PROCESS otherwise), for processes or a config's programs.
 */
struct display_slot {
	const char	*group;
	const char	*name;
	size_t		 idx;		/* in the caller's list */
	int		 bare;		/* out: shown as NAME alone */
};
void	 program_display_rule(struct display_slot *, size_t);
void	 program_update_display(void);
/* autostart, by priority (low first). */
void	 program_autostart(void);
/* A person's start/stop. Return 0, or -1 with a reason in *cause. */
int	 program_start(struct proc *, char **cause);
int	 program_stop(struct proc *, char **cause);
/* tendctl stop: the processes that depend on it first (spec §7). */
int	 program_stop_tree(struct proc *, char **cause);
/* SIGKILL now, no restart. */
int	 program_kill(struct proc *, char **cause);
/* SIGSTOP -> PAUSED, SIGCONT -> RUNNING (tendctl pause/resume). */
int	 program_pause(struct proc *, char **cause);
int	 program_resume(struct proc *, char **cause);
/* Any signal to the process (STOP and CONT go through pause/resume). */
int	 program_signal(struct proc *, int sig, char **cause);
/*
 * reap.c calls this when the process has ended but is not reaped yet
 * (its pid still names nobody else), then program_reaped() with STATUS.
 */
void	 program_exited(struct proc *);
void	 program_reaped(struct proc *, int status);
/*
 * output.c calls this when a reaped process's output is all in (both
 * pipes at EOF and written), or it stopped waiting for that.
 */
void	 program_output_done(struct proc *);
struct proc *program_find_pid(pid_t);
/* The status-line description (pid and uptime, retry n of m in Ns, ...). */
void	 program_describe(const struct proc *, char *, size_t);
int	 program_is_up(const struct proc *);	/* = state_has_process() */
/* The same, cut between characters to fit (replies, events). */
void	 program_describe_text(const struct proc *, char *, size_t);
/* pid -> process (program_find_pid()). */
void	 program_pid_add(pid_t, struct proc *);
void	 program_pid_del(pid_t);
/* Set while tendd shuts down. */
extern int program_stopping_all;
/* A transition during shutdown: take the next step from the loop. */
void	 program_shutdown_progress(void);
/* Delay before failed-start retry N (1, 2, 4 ... up to backoff_max). */
double	 program_backoff(const struct program_conf *, int n);
/* Delay before restarting after the Nth quick exit from RUNNING in a row. */
double	 program_crash_delay(const struct program_conf *, int crashes);
/* Shutdown: stop everything in priority order (high first), join jobs. */
void	 program_shutdown(void);
int	 program_all_down(void);
void	 program_free_all(void);
/* Counts by state (systemd's STATUS=). */
void	 program_count(int counts[PROC_NSTATES]);
/* What a ready=notify process said (notify.c parses, these act). */
void	 program_notify_ready(struct proc *);
void	 program_notify_watchdog(struct proc *);
void	 program_notify_watchdog_trigger(struct proc *);
void	 program_notify_watchdog_usec(struct proc *, uint64_t usec);
void	 program_notify_status(struct proc *, const char *text);
/* MAINPID=: supervise PID instead (a descendant). 0, or -1 with *cause. */
int	 program_notify_mainpid(struct proc *, pid_t pid, char **cause);

/* ------------------------------------------------------------------ */
/* state.c: the per-process state machine (docs/design.md).             */

/* Internal states: the public state refined by what was once flags. */
enum state_id {
	ST_NEW,
	ST_STARTING,		/* a process, judged by startsecs/READY=1 */
	ST_AWAIT_PIDFILE,	/* STARTING, its launcher gone, no daemon yet */
	ST_STARTING_ENDED,	/* reaped while STARTING, output draining */
	ST_RUNNING,
	ST_JOINING,		/* a job RUNNING at shutdown: joinsecs */
	ST_RUNNING_ENDED,	/* reaped while RUNNING, output draining */
	ST_PAUSED,
	ST_PAUSED_ENDED,	/* reaped while PAUSED, output draining */
	ST_STOPPING,
	ST_STOPPING_ENDED,	/* reaped while STOPPING, output draining */
	ST_STOPPED,
	ST_EXITED,
	ST_BACKOFF,
	ST_FATAL,
	ST_WAITING,		/* its dependencies are not up yet */
	ST_PRE_START,		/* STARTING, its pre_start hook running */
	ST_N
};

enum state_event {
	E_START,	/* a person, autostart, a reload */
	E_STOP,
	E_KILL,
	E_PAUSE,
	E_RESUME,
	E_SIGNAL,	/* any other signal, sent as is */
	E_TIMER,	/* the state's timer */
	E_READY,	/* READY=1 */
	E_WATCHDOG,	/* no WATCHDOG=1 in time */
	E_TRIGGER,	/* WATCHDOG=trigger */
	E_EXITED,	/* the process ended, not reaped yet */
	E_REAPED,	/* ... reaped (arg status) */
	E_DRAINED,	/* ... and its last output is in */
	E_CHANGE,	/* a reload changed its config (arg pc, old, why) */
	E_REMOVE,	/* a reload removed it (arg old) */
	E_SHUTDOWN,	/* tendd shuts down */
	E_LEVEL,	/* shutdown: its priority level's turn to stop */
	E_DEPS,		/* a dependency became up, done or failed */
	E_HOOK,		/* its pre_start ended (arg status, why) */
	E_N
};

/* The timer each internal state has (state_info[].timer). */
enum state_timer {
	TIMER_NONE,
	TIMER_START,	/* startsecs, or ready_timeout for READY=1 */
	TIMER_PIDFILE,	/* the next pidfile read, up to ready_timeout */
	TIMER_JOIN,	/* joinsecs */
	TIMER_STOPWAIT,	/* stopwaitsecs, then SIGKILL (none once killed) */
	TIMER_BACKOFF,	/* the retry or restart delay */
	TIMER_HOOK,	/* hook_timeout: the pre_start is killed */
};

struct state_info {
	const char	*name;
	enum proc_state	 public;
	enum state_timer timer;
};
extern const struct state_info state_info[ST_N];
extern const char *const state_event_names[E_N];

/* What an event carries; any field may be unused. */
#define STATE_RESET_TRIES	0x1	/* startfails, crashes */
#define STATE_RESET_SHORT	0x2	/* shortfails */
struct state_arg {
	const char	*why;		/* a reason for the log and the event */
	int		 reset;		/* E_START: STATE_RESET_* */
	int		 sig;		/* E_SIGNAL */
	int		 status;	/* E_REAPED: the wait status */
	struct program_conf *pc;	/* E_CHANGE: the new settings */
	struct tend_conf *old;		/* E_CHANGE, E_REMOVE */
	char		**cause;	/* a refused request: why */
	struct proc	*dep;		/* E_DEPS: the dependency that changed */
};

/* The actions of the table, and what each may do (as data, for tests). */
enum state_action_id {
	A_MISSING,	/* a hole in the table: a test failure */
	A_NOTHING,	/* nothing to do: what was asked holds already */
	A_IMPOSSIBLE,	/* cannot happen: logged as an error */
	A_REFUSE,	/* not in this state: -1 and a cause */
	A_STRAY,	/* a leftover timer: logged (debug) */
	A_LATE,		/* READY=1 when it no longer counts */
	A_SPAWN, A_STOP, A_KILL, A_CANCEL, A_PAUSE, A_RESUME, A_SIGNAL,
	A_STARTED, A_POLL, A_RETRY, A_ESCALATE, A_JOINED, A_READY,
	A_WATCHDOG, A_TRIGGER, A_GROUPKILL, A_REAP, A_END_START,
	A_END_RUN, A_END_STOP, A_CHANGE_UP, A_CHANGE_IDLE, A_REMOVE_UP,
	A_FORGET, A_JOIN, A_DEPS, A_HOOK_DONE, A_HOOK_TIMEOUT,
	A_N
};
#define STATE_FX_SPAWN	0x1	/* may spawn the program */
#define STATE_FX_SIGNAL	0x2	/* may signal the process */
#define STATE_FX_FORGET	0x4	/* may free the process (reload) */
#define STATE_FX_REFUSE	0x8	/* may return -1 with a cause */
struct state_action {
	const char	*name;
	int		(*fn)(struct proc *, enum state_event,
			    struct state_arg *);
	unsigned	 next;		/* public states it may enter (bits) */
	unsigned	 fx;		/* STATE_FX_* */
};
extern const struct state_action state_actions[A_N];
extern const unsigned char state_table[ST_N][E_N];

enum state_id state_of(const struct proc *);
/* Handle EV for P as the table says. 0, or -1 with *arg->cause. */
int	 state_event(struct proc *, enum state_event, struct state_arg *);
/* "has a process": a live pid, or reaped with output still coming. */
int	 state_has_process(const struct proc *);
void	 state_arm(struct proc *, double secs);
void	 state_watchdog_arm(struct proc *);
void	 state_timer_cb(int, short, void *);

/* What a waiting client is told. */
enum state_goal {
	GOAL_UP,	/* tendctl start: up (or a job finished) */
	GOAL_DOWN,	/* tendctl stop: no process */
	GOAL_SETTLED,	/* tendctl wait: no process, no restart coming */
};
enum state_outcome {
	OUTCOME_PENDING,
	OUTCOME_DONE,
	OUTCOME_FAILED,
};
/* The outcome for GOAL now; *msg (allocated, or NULL) says it. */
enum state_outcome state_outcome(const struct proc *, enum state_goal,
	    char **msg);

/* How an end is said: "exited with code 1", "killed by SIGTERM". */
void	 state_format_exit(char *, size_t, int code);

/* ------------------------------------------------------------------ */
/* depend.c: depends_on (spec §7).                                      */

/* "a, b c" -> a NULL-ended vector (NULL when empty). */
char	**depend_split(const char *list);
/* Whether the depends_on name DEP names process GROUP:NAME. */
int	 depend_match(const char *dep, const char *group, const char *name);
/*
 * A cycle among N nodes whose edges are ADJ[i][0 .. NADJ[i]-1]: 1 with
 * *PATH (allocated) the nodes of the cycle, the first one again at the
 * end, *PLEN of them; 0 when there is none.
 */
int	 depend_cycle(size_t n, size_t *const *adj, const size_t *nadj,
	    size_t **path, size_t *plen);
/* The edges of every process, from its current settings. */
void	 depend_build(void);
/* P is freed: no edge may point at it. */
void	 depend_detach(struct proc *);
/* A dependency that holds P back (NULL: none); *FAILED when it failed. */
int	 depend_failed(const struct proc *);
struct proc *depend_unmet(struct proc *, int *failed);
/* Start P's dependencies, transitively, that are neither up nor done. */
void	 depend_pull(struct proc *);
/* P changed state: tell what waits for it, release held stops. */
void	 depend_changed(struct proc *);
void	 depend_release_free(void);
/* A person's stop: dependents first, P once they are down. */
int	 depend_stop(struct proc *, char **cause);
/* What waits in proc.stop_held, to be done once the dependents are down. */
#define DEPEND_HOLD_STOP	1	/* a person's stop (if still wanted) */
#define DEPEND_HOLD_RESTART	2	/* a dependent of a reloaded one: stop,
					   and come back up as it wants */
#define DEPEND_HOLD_CHANGE	3	/* a reload changed it (next_pc) */
#define DEPEND_HOLD_REMOVE	4	/* a reload removed it */
/*
 * A reload changes or removes P (KIND): when something that depends on
 * it is up, those are stopped first (to come back once P is), P's part
 * held until they are down: 1. 0: nothing holds it, act now.
 */
int	 depend_hold(struct proc *, int kind);
/* Whether a process that depends on P still has a process. */
int	 depend_dependents_up(const struct proc *);

/* ------------------------------------------------------------------ */
/* reload.c: a new config, process by process.                         */

/* What reloading from CUR to NEW would do, per process. */
struct reload_plan;
void	 reload_diff(const struct tend_conf *cur, const struct tend_conf *new,
	    struct reload_plan *);
/*
 * Applies NEW (tendd_conf already points to it) over OLD: adds, stops,
 * restarts; unchanged processes are re-pointed to NEW and left alone.
 * OLD may be freed afterwards.
 */
void	 reload_apply(struct tend_conf *old, struct tend_conf *new);
/* For the machine's reload actions (state.c). */
void	 reload_forget(struct proc *);	/* a removed process is down: frees P */
void	 reload_take_next(struct proc *); /* down: on to its new settings */
void	 reload_own_pc(struct proc *, struct tend_conf *old);

/* ------------------------------------------------------------------ */
/* adopt.c: a launcher's daemon (pidfile), MAINPID=.                    */

pid_t	 adopt_parent_of(pid_t);	/* -1 when gone */
/* Supervise PID as P's process (a child of tendd or of P's). */
int	 adopt_pid(struct proc *, pid_t pid, const char *from, char **cause);
/* Read P's pidfile and adopt what it names: 1 when P has its daemon. */
int	 adopt_pidfile(struct proc *);
/* Whether P's pidfile names PID. */
int	 adopt_pidfile_names(struct proc *, pid_t pid);
/* Whether it names another process P would adopt. */
int	 adopt_pidfile_names_other(struct proc *);
/* PID is gone: its pidfile, if it still names it, goes too. */
void	 adopt_pidfile_remove(struct proc *, pid_t pid);
int	 adopt_mainpid(struct proc *, pid_t pid, char **cause);

/* ------------------------------------------------------------------ */
/* probe.c: readiness probes and health checks (spec §7).               */

enum probe_kind {
	PROBE_NONE,
	PROBE_NOTIFY,	/* ready only: READY=1 (notify.c) */
	PROBE_TCP,	/* tcp:HOST:PORT */
	PROBE_HTTP,	/* http://HOST[:PORT]/PATH */
	PROBE_EXEC,	/* exec:COMMAND */
	PROBE_LOG,	/* ready only: log:REGEX */
};
#define PROBE_FOR_READY		0x1	/* notify and log: allowed */
/*
 * Reads a `ready` (FOR_READY) or `healthcheck` value. 0 with *SPEC
 * (NULL for none and notify; *KIND says which), or -1 with *why.
 */
int	 probe_spec_parse(const char *value, int flags, enum probe_kind *kind,
	    struct probe_spec **spec, char **why);
void	 probe_spec_free(struct probe_spec *);
/* What a spec is, for the unit tests. */
enum probe_kind probe_spec_kind(const struct probe_spec *);
const char *probe_spec_host(const struct probe_spec *);
int	 probe_spec_port(const struct probe_spec *);
const char *probe_spec_path(const struct probe_spec *);
char	*const *probe_spec_argv(const struct probe_spec *);
int	 probe_spec_matches(const struct probe_spec *, const char *line);
/* state_set() calls this after every change: probes start and stop. */
void	 probe_state_changed(struct proc *, enum proc_state old);
/* output.c: new bytes of P's stream (two pieces of its ring). */
void	 probe_output(struct proc *, int stream, const char *a, size_t alen,
	    const char *b, size_t blen);
/* reap.c's sweep: PID was an exec probe's child; it is reaped here (1). */
int	 probe_reap_pid(pid_t pid);
/* P goes away, or tendd exits. */
void	 probe_free(struct proc *);
void	 probe_close(void);
/* The last ready probe's error ("connection refused"), or NULL. */
const char *probe_ready_error(const struct proc *);
/* Health (JSON status): "healthy", "unhealthy", "unknown", or NULL. */
const char *probe_health_name(const struct proc *);
const char *probe_health_detail(const struct proc *);
/* Health checks failed in a row in this run. */
int	 probe_health_failures(const struct proc *);
/* ", unhealthy (2 of 3: HTTP 503)" for the status line, or "". */
void	 probe_describe_health(const struct proc *, char *, size_t);

/* ------------------------------------------------------------------ */
/* spawn.c: fork + exec of one process.                                 */

/*
 * Starts P's program. 0 with p->pid and p->pidfd set, or -1 with the
 * reason in *cause ("cannot execute /x: No such file or directory"), or
 * SPAWN_SHORT when the machine, not the program, is short of what a
 * start needs (descriptors, processes, memory): retried, never FATAL.
 */
#define SPAWN_SHORT	(-2)
int	 spawn_proc(struct proc *, char **cause);
/*
 * "WHAT: strerror(ERR)", with for EMFILE and ENFILE how many
 * descriptors are in use and the limit. SPAWN_SHORT when ERR is such a
 * shortage, else -1.
 */
int	 spawn_cause(char **cause, const char *what, int err);
/* Signal the process (and its group when GROUP is set). */
int	 spawn_signal(struct proc *, int sig, int group);
/*
 * Another command of P's (an exec probe): ARGV as P's user, in its
 * directory, environment and limits, in a session of its own, output to
 * /dev/null, killed if tendd dies. 0 with *PID and *PIDFD (-1 if none),
 * or -1 / SPAWN_SHORT with *cause.
 */
int	 spawn_command(struct proc *, char *const *argv, pid_t *pid,
	    int *pidfd, char **cause);
/* The same, stdout and stderr to OUTFD (-1: /dev/null): hooks.c. */
int	 spawn_command_out(struct proc *, char *const *argv, int outfd,
	    pid_t *pid, int *pidfd, char **cause);
/* tendd's environment minus what belongs to tendd's own supervisor. */
void	 spawn_init(void);

/* ------------------------------------------------------------------ */
/* cgroup.c: a cgroup (v2) per service and per group-stopped process;  */
/* what a tendd that died abruptly left.                                */

/*
 * At start-up, once the control socket is bound: finds tendd's cgroup
 * and its instance directory there (named after SOCKET), and kills what
 * a predecessor's services left (in cgroups, or in the sessions
 * SOCKET.state recorded), without waiting for it. 0, or -1 (logged once)
 * when there is no writable cgroup2: the group is then the session.
 */
int	 cgroup_init(const char *socket);
/* THEN() once the predecessor's leftovers have ended (now if none). */
void	 cgroup_after_sweep(void (*then)(void));
/* -1 with *CAUSE while they have not: nothing may start yet. */
int	 cgroup_may_spawn(char **cause);
/* The instance directory, or NULL without cgroups. */
const char *cgroup_instance_dir(void);
/* At exit: removes the empty directories and the instance. */
void	 cgroup_close(void);
/*
 * At shutdown, once every process is down: THEN() once the cgroups they
 * left are empty and removed (what SIGKILL ends takes a moment), or
 * after 2 s at most; now if none is pending.
 */
void	 cgroup_when_empty(void (*then)(void));
/*
 * Before a spawn: P's cgroup exists. The path of the cgroup.procs the
 * child joins, or NULL (none: its group is its session), and in *DIR
 * the directory. CLONE_INTO: spawn.c can make the child in a cgroup
 * (else joining costs each spawn a few ms, which only a group stop
 * is worth).
 */
const char *cgroup_proc_prepare(struct proc *, int clone_into,
	    const char **dir);
/* P's child runs (IN_CGROUP: in the one prepared): its session recorded. */
void	 cgroup_proc_spawned(struct proc *, int in_cgroup);
/* P is at rest: its cgroup goes once empty, its session is forgotten. */
void	 cgroup_proc_ended(struct proc *);
/* P goes away: as cgroup_proc_ended(), and forgets the path. */
void	 cgroup_proc_free(struct proc *);
/* SIG to everything in P's cgroup. -1 when P has none or it is unreadable. */
int	 cgroup_proc_signal(struct proc *, int sig);
/* spec §12: PC has limits (a cgroup of its own); P's end was an OOM kill. */
int	 cgroup_limited(const struct program_conf *);
int	 cgroup_proc_oom(struct proc *);
/* --check: can limits be applied here? 0 with *WHY when not. */
int	 cgroup_limits_usable(char **why);
/* Pure helpers, exposed for the unit tests. */
#define CGROUP_STATE_SLOT	128
char	*cgroup_encode_name(const char *);
char	*cgroup_decode_name(const char *);
uint64_t cgroup_hash(const char *);
int	 cgroup_parse_mountinfo(const char *line, char **root, char **mnt);
char	*cgroup_parse_self(const char *text);
char	*cgroup_dir_of(const char *mnt, const char *root, const char *path);
void	 cgroup_format_session(char *buf, pid_t, unsigned long long start,
	    const char *name);
int	 cgroup_parse_session(const char *line, pid_t *,
	    unsigned long long *start, char **name);

/* ------------------------------------------------------------------ */
/* notify.c: tendd's own NOTIFY_SOCKET for ready = notify children.     */

/* Binds the datagram socket next to CONTROL_PATH (or abstract). */
int	 notify_open(const char *control_path, char **cause);
/* What a child's NOTIFY_SOCKET says; NULL before notify_open(). */
const char *notify_address(void);
void	 notify_close(void);

/* ------------------------------------------------------------------ */
/* systemd.c: tendd as a systemd service (sd_notify, socket activation, */
/* watchdog, journal).                                                  */

/* Before any fork: reads LISTEN_FDS, WATCHDOG_USEC, NOTIFY_SOCKET. */
int	 systemd_init(char **cause);
/* libsystemd's functions, loaded on first use; NULL with a cause. */
struct systemd_lib {
	int	(*notify)(int, const char *);
	int	(*listen_fds)(int);
	int	(*is_socket_unix)(int, int, int, const char *, size_t);
	int	(*watchdog_enabled)(int, uint64_t *);
	int	(*journal_send)(const char *, ...);
	int	(*journal_sendv)(const struct iovec *, int);
};
const struct systemd_lib *systemd_lib(char **cause);
/* The control socket systemd passed, or -1. */
int	 systemd_listen_fd(void);
/* journal or auto-under-systemd: tendd's own log goes to the journal. */
int	 systemd_wants_journal(const char *logfile);
/* Once the event loop exists: the watchdog timer. */
void	 systemd_start(void);
/* The initial autostart programs have all been spawned. */
void	 systemd_autostart_done(void);
/* state_set() calls this after every change. */
void	 systemd_state_changed(struct proc *, enum proc_state old);
/*
 * Around a reload: systemd_reloading() before the config is read
 * (RELOADING=1 with MONOTONIC_USEC), systemd_reloaded() when the new
 * config is applied or refused (READY=1 and fresh counts).
 */
void	 systemd_reloading(void);
void	 systemd_reloaded(void);
/* Shutdown has begun (STOPPING=1). */
void	 systemd_stopping(void);
void	 systemd_close(void);
/* The STATUS= text for COUNTS; for tests too. */
void	 systemd_status_text(char *, size_t, const int counts[PROC_NSTATES]);
/* Whether READY=1 has been sent. */
int	 systemd_is_ready(void);
/* output.c: the children's stdout and stderr pipes (spec §6).          */

enum output_stream {
	OUTPUT_STDOUT,
	OUTPUT_STDERR,
};
#define OUTPUT_NSTREAMS	2
/* The tail ring of each stream: the last this many bytes (spec §6). */
#define OUTPUT_RING_SIZE	(64 * 1024)

/*
 * Before fork: opens P's log destinations (a missing log directory is
 * an error with *cause: the program is FATAL) and makes the pipes. FDS
 * gets the child's stdout and stderr ends (the same pipe twice with
 * redirect_stderr; -1 for a stream whose log is NONE: /dev/null, no
 * pipe). SPAWN_SHORT when out of descriptors for a pipe.
 */
int	 output_spawn_prepare(struct proc *, int fds[2], char **cause);
/* After fork: closes the child's ends; starts reading if OK. */
void	 output_spawn_done(struct proc *, int ok);
/*
 * The process was reaped: reads what is left in its pipes. Returns 1
 * when everything it wrote is in; else 0, and program_output_done()
 * follows once the pipes reach EOF, or shortly even if a descendant
 * keeps them open.
 */
int	 output_reaped(struct proc *);
void	 output_free(struct proc *);
/* tendd exits: reads what is left in every pipe, then closes all. */
void	 output_close_all(void);
/* Empties P's tail rings and log files; -1 with *cause if a file failed. */
int	 output_clear(struct proc *, char **cause);
/*
 * tail: the last LINES lines of P's stream (all of the ring if LINES
 * < 0) into *buf and *len (allocated).
 */
void	 output_tail(struct proc *, enum output_stream, long lines,
	    char **buf, size_t *len);
/* Bytes P's stream wrote to its log and dropped, ever (metrics). */
void	 output_counts(struct proc *, enum output_stream, uint64_t *written,
	    uint64_t *dropped);
/* tail -f: send each new chunk of P's stream to C as {"id": ID, ...}. */
void	 output_follow(struct proc *, enum output_stream, struct conn *,
	    struct json_t *id, int base64);
/* GET /logtail: each new chunk of P's stream to C as it is (http.c). */
void	 output_follow_raw(struct proc *, enum output_stream, struct conn *);
/*
 * What the ring keeps of P's stream: *BUF (allocated) holds bytes
 * *START .. *TOTAL of all it ever read (readProcessStdoutLog's offsets).
 */
void	 output_kept(struct proc *, enum output_stream, char **buf,
	    size_t *len, unsigned long long *start, unsigned long long *total);
/* The file P's stream is written to (AUTO: its real name), or NULL. */
const char *output_file_path(const struct proc *, enum output_stream);
/* C is going away: forget its followers. */
void	 output_conn_gone(struct conn *);
/* Bytes as a JSON string: base64, or UTF-8 with bad bytes as U+FFFD. */
struct json_t *output_json_data(const char *, size_t, int base64);

/* ------------------------------------------------------------------ */
/* logfile.c: where output goes: files, tendd's stdout/stderr, journal. */

struct logfile;
/* What a logfile's writer is woken with when it may write again. */
struct logfile_waiter {
	TAILQ_ENTRY(logfile_waiter) entry;
	void		(*cb)(void *);
	void		*arg;
	int		 queued;
	unsigned	 round;		/* logfile.c's: when it began to wait */
};

/*
 * Opens the destination of P's stream WHICH as its config says. 0 with
 * *lf (NULL for NONE), or -1 with *cause. Files named twice are shared.
 */
int	 logfile_open(struct proc *, enum output_stream, struct logfile **,
	    char **cause);
void	 logfile_release(struct logfile *);
/*
 * What P's config says for stream WHICH, as a string: a stream whose
 * string changed (a reload) opens its destination again. NULL: NONE.
 */
char	*logfile_make_spec(const struct proc *, enum output_stream);
/*
 * Writes the bytes of IOV. Returns how many were taken: written, or
 * dropped and counted when the destination has been broken too long.
 * Fewer than all: it cannot take more now; wait with logfile_wait().
 */
size_t	 logfile_writev(struct logfile *, const struct iovec *, int);
unsigned long long logfile_dropped(const struct logfile *);
/* The stream ended: a journal destination sends its partial line. */
void	 logfile_flush(struct logfile *);
/* The child's pid, for the journal's SYSLOG_PID. */
void	 logfile_set_pid(struct logfile *, pid_t);
void	 logfile_wait(struct logfile *, struct logfile_waiter *);
void	 logfile_unwait(struct logfile *, struct logfile_waiter *);
/* Empties a file destination; -1 with *cause. */
int	 logfile_clear(struct logfile *, char **cause);
/* SIGUSR1, tendctl reopen: reopen every file. Failures counted/in *causes. */
int	 logfile_reopen_all(char **causes);
/* The file LF writes (an AUTO file's real name); NULL for the others. */
const char *logfile_file_path(const struct logfile *);
/* A path of LF for messages ("NONE" style words for the others). */
int	 logfile_is_journal(const struct logfile *);
void	 logfile_init(void);
void	 logfile_close_all(void);
/* 1 or 2 when PATH names tendd's stdout or stderr (/dev/fd/1...), else 0. */
int	 logfile_descriptor(const char *path);
/* A nonblocking CLOEXEC descriptor of tendd's own fd SRC; -1, errno. */
int	 logfile_own_fd(int src, int *sock);
/* PATH -> PATH.1 -> ... -> PATH.BACKUPS; -1 with *cause. */
int	 logfile_shift(const char *path, int backups, char **cause);

/* autolog.c: at start-up, the AUTO files of earlier runs (nocleanup). */
void	 autolog_cleanup(const char *dir, const char *identifier);

/* ------------------------------------------------------------------ */
/* reap.c: SIGCHLD, waitpid(-1) loop, subreaper orphans.                */

void	 reap_children(void);
void	 reap_sigchld(void);
void	 reap_watch(struct proc *);
void	 reap_unwatch(struct proc *);
void	 reap_close(void);
/*
 * A helper child of tendd's (an exec probe, a hook) whose pidfd FD is
 * readable: 1 with *STATUS once it is reaped; 0 when it cannot be waited
 * for yet (watch FD again); -1 when FD cannot be waited on at all (the
 * SIGCHLD sweep finds its end).
 */
int	 reap_helper(int fd, pid_t pid, int *status);

/* ------------------------------------------------------------------ */
/* control.c: the listening socket and its connections.                 */

struct conn;
int	 control_listen(const char *path, int mode, const char *owner,
	    char **cause);
/* Socket activation: FD is already bound and listening; used as is. */
int	 control_listen_fd(int fd, const char *path, int mode,
	     const char *owner, char **cause);
void	 control_close(void);
/* "user" or "user:group" (socket_owner) -> ids; -1 with *cause. */
int	 control_owner(const char *owner, uid_t *, gid_t *, char **cause);
/*
 * Queue one JSON document (reply or stream item) to C; steals J. J NULL
 * (jansson out of memory) or not encodable: C is dropped, with a log
 * line; tendd carries on.
 */
void	 control_send(struct conn *, struct json_t *j);
/* No memory for WHAT ("a reply") of C: C is dropped, with a log line. */
void	 control_unbuilt(struct conn *, const char *what);
/* Bytes queued to C and not yet written: stream senders skip past this. */
size_t	 control_pending(struct conn *);
/* Closes C after what is queued is written. */
void	 control_finish(struct conn *);
/* C waits legitimately (shutdown, a stream): no idle timeout for it. */
void	 control_hold(struct conn *);
/* C is a stream subscriber: held, and dropped sooner when it lags. */
void	 control_stream(struct conn *);
/* Queue one line that is JSON already (without its newline). */
void	 control_send_line(struct conn *, const char *, size_t);
/* Every connection, to close at exit. */
void	 control_close_all(void);
/* HTTP (http.c): raw bytes, the peer's pid, the end of a hold, TCP. */
void	 control_send_bytes(struct conn *, const void *, size_t);
pid_t	 control_peer_pid(struct conn *);
void	 control_unhold(struct conn *);
void	 control_accept_inet(int fd);
struct http_conn *control_http(struct conn *);
void	 control_set_http(struct conn *, struct http_conn *);

/* ------------------------------------------------------------------ */
/* http.c, xmlrpc.c, rpc_supervisor.c: supervisord's XML-RPC interface  */
/* (spec section 9; their own header is xmlrpc.h).                      */

struct http_conn;
/* C's first byte was an HTTP request's (or C is TCP: INET). */
struct http_conn *http_conn_new(struct conn *, int inet);
/* C's input (its bufferevent's): requests, one at a time. */
struct evbuffer;
void	 http_read(struct conn *, struct evbuffer *in);
/* C was quiet for client_timeout: 408 for half a request, or closed. */
void	 http_timeout(struct conn *);
/* C goes away: its parked call, its log follow, its state. */
void	 http_conn_gone(struct conn *);
/* [inet_http_server] port = HOST:PORT: listen. 0, or -1 with *cause. */
int	 http_listen_inet(const char *hostport, char **cause);
void	 http_close(void);
int	 http_host_is_loopback(const char *host);
/* A log tail's bytes to C (chunked unless HTTP/1.0). */
void	 http_send_chunk(struct conn *, const char *, size_t);
/* GET /mainlogtail: is anyone following tendd's own log; a line of it. */
int	 http_mainlog_wanted(void);
void	 http_mainlog_line(const char *, size_t);
/* ... and its end: the last chunk, then the connection closes. */
void	 http_stream_end(struct conn *);
/* SUPERVISOR_SERVER_URL for children (allocated). */
char	*http_server_url(void);
/* For page.c and metrics: one response; a stream's head (CTYPE); %XX. */
void	 http_respond(struct conn *, int code, const char *ctype,
	    const char *extra, const char *body, size_t len);
void	 http_error(struct conn *, int code);
void	 http_stream_open(struct conn *, const char *ctype);
int	 http_unquote(char *);
/* rpc_supervisor.c: parked calls, told what command.c's waiters are. */
void	 rpc_state_changed(struct proc *);
void	 rpc_proc_gone(struct proc *);
void	 rpc_shutdown_done(void);
void	 rpc_conn_gone(struct conn *);
/* The groups removeProcessGroup hid: forgotten (the fuzz world's reset). */
void	 rpc_forget(void);
/* spec §12: the peer's uid and gid (SO_PEERCRED when it connected). */
void	 control_peer(struct conn *, uid_t *, gid_t *);

/* ------------------------------------------------------------------ */
/* command.c: requests -> handlers -> replies; parked requests.         */
/* (the command layer's own interface is command.h)                     */

void	 command_dispatch(struct conn *, const char *line, size_t len);
/* A connection is going away: forget its parked requests. */
void	 command_conn_gone(struct conn *);
/* Does C have parked requests or a subscription (not idle)? */
int	 command_conn_waiting(struct conn *);
/* Every state change passes here (waiters, later the events stream). */
void	 command_state_changed(struct proc *, enum proc_state old);
/* Everything is down at shutdown: answer whoever still waits. */
void	 command_shutdown_done(void);
/* P is about to be freed (removed by a reload): drop every pointer to it. */
void	 command_proc_gone(struct proc *);

/* ------------------------------------------------------------------ */
/* tendd.c: the daemon as a whole.                                      */

extern struct tend_conf *tendd_conf;
extern int tendd_exit_status;
/* RLIMIT_NOFILE as tendd found it (children get it back); 0: unchanged. */
extern struct rlimit tendd_child_nofile;
/* Stop everything and exit (a request, a signal, or a critical FATAL). */
void	 tendd_shutdown(int status, const char *why);
int	 tendd_shutting_down(void);
/* program.c: every process is down during shutdown; leave the loop. */
void	 tendd_all_stopped(void);
/*
 * SIGUSR1, tendctl reopen: tendd's own log file and every child log file
 * are opened again at their paths. -1 when some failed (*causes says
 * which, when CAUSES is not NULL; allocated).
 */
int	 tendd_reopen_logs(const char *why, char **causes);

/* What a reload changes (tendd_reload() fills it in). */
enum reload_change {
	RELOAD_ADDED,
	RELOAD_CHANGED,
	RELOAD_REMOVED,
};
struct reload_item {
	enum reload_change change;
	char		*name;		/* as status shows it */
	char		*group;
	char		*process;
	char		**keys;		/* RELOAD_CHANGED: keys that differ */
};
struct reload_plan {
	struct reload_item *items;	/* new config's order; removed last */
	int		 n;
	int		 unchanged;	/* processes left alone */
	char		**restart;	/* [tend] keys needing a restart */
};
void	 reload_plan_free(struct reload_plan *);

#define TENDD_RELOAD_CHECK	0x1	/* compute the plan, change nothing */
/*
 * The one entry point of a reload (SIGHUP, tendctl reload): reads the
 * config file again with the options tendd started with. With errors,
 * nothing changes: -1, the messages in D (and logged). Otherwise fills
 * PLAN, applies it unless TENDD_RELOAD_CHECK, and returns 0.
 */
int	 tendd_reload(int flags, struct diag *d, struct reload_plan *plan);

/* ------------------------------------------------------------------ */
/* log.c: tendd's own log.                                              */

void	 log_init(enum loglevel, const char *identifier);
void	 log_set_level(enum loglevel);
/*
 * Sends the log where [tend] logfile says (stderr, /dev/stdout, a path,
 * syslog, journal, auto) as IDENTIFIER. -1 with *cause when a file
 * cannot be opened (nothing changed).
 */
int	 log_open(const char *logfile, const char *identifier, char **cause);
/* logfile_maxbytes (0: never) and logfile_backups of a file log. */
void	 log_set_rotation(long long maxbytes, int backups);
/* SIGUSR1: the file opened again at its path; -1 with *cause. */
int	 log_reopen(char **cause);
/* --daemonize, once ready: stderr is /dev/null unless the log is on 1 or 2. */
void	 log_detach(void);
/* The syslog socket logfile = syslog sends to ($TEND_SYSLOG_SOCKET). */
const char *log_syslog_socket(void);
void	 log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Startup failures and broken invariants only. */
void	 fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/* ------------------------------------------------------------------ */
/* persist.c: enable/disable (state_dir) and a person's stops (beside  */
/* the socket), kept across tendd restarts (spec §12).                 */

char	*persist_default_state_dir(void);
/* After program_setup(), before autostart: what they name stays STOPPED. */
void	 persist_init(const struct tend_conf *);
void	 persist_close(void);
int	 persist_is_disabled(const struct proc *);
int	 persist_set_disabled(const struct proc *, int disabled);
void	 persist_set_stopped(const struct proc *, int stopped);
/* Writes what the calls above changed (once per request). */
void	 persist_flush(void);

/* runjob.c: tendctl run's transient jobs, shown as run:NAME (spec §12). */

/*
 * A job running ARGV (a vector) as USER (NULL: tendd's), with ENV
 * (KEY=VALUE vector; may be NULL) in DIR (NULL: tendd's), named NAME
 * (NULL: made up), stopped after TIMEOUT seconds (< 0: never); it is
 * started. The process, or NULL with *CAUSE (*CODE the error's code).
 */
struct proc *runjob_create(char **argv, const char *name, const char *user,
	    char **env, const char *dir, double timeout, const char **code,
	    char **cause);
/* state_set(): a job at rest is forgotten TEND_RUN_KEEP (600) s later. */
void	 runjob_state_changed(struct proc *);
void	 runjob_close(void);
/* config.c: a process's settings, every key at its default. */
struct program_conf *config_program_new(const char *program,
	    const char *group, const char *file, int line);

/* cron.c: cron expressions (spec §12 schedule). */
struct cron {
	uint64_t	 minutes;	/* bit N: minute N */
	uint32_t	 hours;
	uint32_t	 mdays;		/* bits 1..31 */
	uint16_t	 months;	/* bits 1..12 */
	uint8_t		 wdays;		/* bits 0..6, Sunday 0 */
	int		 dom_any, dow_any;
};
/* 0, or -1 with *cause ("hour: 24 is out of 0-23"). */
int	 cron_parse(const char *, struct cron *, char **cause);
/* The first matching minute after AFTER, in local time; -1: none. */
time_t	 cron_next(const struct cron *, time_t after);

/* schedule.c: one timer for the next due job (spec §12). */

/* After start-up's setup and each reload: the table follows the config. */
void	 schedule_sync(void);
/* P goes away. */
void	 schedule_forget(struct proc *);
/* "; next 12:00" for status (empty when P has no schedule). */
void	 schedule_describe(const struct proc *, char *, size_t);
/* The next run (wall clock), 0 when none; skipped runs. */
double	 schedule_next(const struct proc *, int *skipped);
void	 schedule_close(void);

/* scale.c: tendctl scale's counts, kept while the file's numprocs holds. */

/*
 * config.c: PROGRAM's NUMPROCS as the file says; 1 when scale changed
 * it (to its count), 0 when the file's stands (a scale made against
 * another numprocs is forgotten).
 */
int	 scale_numprocs(const char *program, int *numprocs);
/* The scale PROGRAM has: 1 with *FILE_N and *N, or 0 (the file's). */
int	 scale_get(const char *program, int *file_n, int *n);
/* PROGRAM runs N from now on (the file says FILE_N; N == FILE_N forgets). */
void	 scale_set(const char *program, int file_n, int n);
void	 scale_close(void);

/* hooks.c: pre_start and post_stop (spec §12). */

/* P's pre_start: 0 started (E_HOOK when it ends), -1 / SPAWN_SHORT. */
int	 hooks_pre_start(struct proc *, char **cause);
/* Its pre_start is killed and forgotten (no E_HOOK); none: nothing. */
void	 hooks_cancel(struct proc *);
/* P ended (a run of it): its post_stop, on its own. */
void	 hooks_post_stop(struct proc *);
/* reap.c: a hook's pid; 1 when it was one (reaped). */
int	 hooks_reap_pid(pid_t);
void	 hooks_close(void);

/* procfs.c */
struct pidstat {
	char			 state;		/* R, S, Z, ... */
	pid_t			 ppid, pgrp, sid;
	unsigned long long	 start;		/* ticks after boot */
};
int	 procfs_parse_stat(const char *, struct pidstat *);
int	 procfs_stat(pid_t, struct pidstat *);
/* CPU (user + system, clock ticks) and resident pages from stat text. */
int	 procfs_parse_usage(const char *, unsigned long long *ticks,
	    unsigned long long *rss_pages);
int	 procfs_usage(pid_t, unsigned long long *ticks,
	    unsigned long long *rss_pages);

/* ------------------------------------------------------------------ */
/* metrics.c, page.c: observability (spec section 11)                   */

/* What P uses now, read when asked: -1 for a value it has none of. */
struct metrics_usage {
	double			 cpu;	/* seconds, all its runs; -1: none */
	long long		 mem;	/* bytes resident; -1: no pid */
};
void	 metrics_usage(struct proc *, struct metrics_usage *);
/* reap.c: P's process ended (a zombie still): its CPU counts from now. */
void	 metrics_proc_ended(struct proc *);
/* tendd.c: a reload was applied. */
void	 metrics_reloaded(void);
/* GET /metrics: the exposition (allocated) and its length. */
void	 metrics_write(char **, size_t *);

/* A request as page.c sees it (http.c parsed and authorized it). */
struct page_req {
	const char	*method;
	const char	*target;
	const char	*body;
	size_t		 body_len;
	int		 may_act;	/* it carried [*_http_server] credentials */
	const char	*origin;	/* headers; NULL when absent */
	const char	*host;
	const char	*fetch_site;
	const char	*token;		/* X-Tend-Token */
};
/* 1 when page.c answered REQ (GET /, /api/...), 0: not its route. */
int	 page_route(struct conn *, const struct page_req *);
void	 page_state_changed(struct proc *);
void	 page_conn_gone(struct conn *);
void	 page_close(void);

/* ------------------------------------------------------------------ */
/* sockets.c: listening sockets held for programs (spec §8).           */

int	 sockets_wanted(const struct program_conf *);
int	 sockets_count(const struct program_conf *);
void	 sockets_apply(const struct tend_conf *);
int	 sockets_for(const struct program_conf *, const int **, int *,
	    char **);
void	 sockets_spawned(const struct program_conf *);
void	 sockets_close_all(void);

/*
 * sevents.c: supervisord's events (spec §10), their types, payloads and
 * the TICK timers; listener.c: the [eventlistener:] pools, the protocol.
 */
enum sevent_type {
	SEV_STATE_STOPPED, SEV_STATE_EXITED, SEV_STATE_STARTING,
	SEV_STATE_STOPPING, SEV_STATE_BACKOFF, SEV_STATE_FATAL,
	SEV_STATE_RUNNING, SEV_STATE_UNKNOWN,
	SEV_LOG_STDOUT, SEV_LOG_STDERR,
	SEV_COMM_STDOUT, SEV_COMM_STDERR,
	SEV_REMOTE, SEV_SUPERVISOR_RUNNING, SEV_SUPERVISOR_STOPPING,
	SEV_TICK_5, SEV_TICK_60, SEV_TICK_3600,
	SEV_GROUP_ADDED, SEV_GROUP_REMOVED,
	SEV_NTYPES
};
#define SEV_BIT(t)	(1ULL << (t))
const char *sevent_name(enum sevent_type);
/* "PROCESS_STATE, TICK_5": the types matched; -1 with *why. */
int	 sevent_parse_types(const char *, unsigned long long *, char **why);
void	 sevent_state_changed(struct proc *, enum proc_state old);
void	 sevent_log(struct proc *, enum output_stream, const char *, size_t);
void	 sevent_supervisor(int stopping);
void	 sevent_group(const char *group, int added);
void	 sevent_remote(const char *type, const char *data);
void	 sevent_ticks_arm(void);
void	 sevent_startup(void);
void	 sevent_reload(struct tend_conf *old, struct tend_conf *new, int added);

int	 listener_wanted(enum sevent_type);
void	 listener_notify(enum sevent_type, const char *, size_t);
/*
 * spawn.c: the child's stdin (*IN; 0 when not a listener) and stdout
 * (OUT[0], else left as is) ends, closed by listener_spawn_done().
 */
int	 listener_spawn_prepare(struct proc *, int *in, int out[2],
	    char **cause);
void	 listener_spawn_done(struct proc *, int ok);
void	 listener_state_changed(struct proc *);
void	 listener_proc_free(struct proc *);
void	 listener_proc_sync(struct proc *);
/* At shutdown: P still has events to take (for a few seconds at most). */
int	 listener_holds(struct proc *);

#endif
