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
#include <stdarg.h>
#include <stdint.h>

#include "protocol.h"
#include "util.h"

struct event_base;
struct event;
struct json_t;

extern struct event_base *tendd_base;

/* ------------------------------------------------------------------ */
/* config.c: the config object, read whole and validated whole.        */

enum autorestart {
	AUTORESTART_FALSE,
	AUTORESTART_UNEXPECTED,
	AUTORESTART_TRUE,
};

enum loglevel {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* One [program:NAME] section, expanded and checked. */
struct program_conf {
	TAILQ_ENTRY(program_conf) entry;
	char		*name;		/* NAME of [program:NAME] */
	char		*group;		/* its group: the program name for now */
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
};
TAILQ_HEAD(program_confs, program_conf);

/* The whole file: [tend] (or [supervisord]/[unix_http_server]) and programs. */
struct tend_conf {
	char		*file;		/* absolute path of the main file */
	char		*socket;	/* absolute */
	int		 socket_mode;
	char		*socket_owner;	/* NULL: tendd's user */
	enum loglevel	 loglevel;
	char		*logfile;	/* "stderr", "journal", "auto" or a path */
	char		*childlogdir;
	char		*pidfile;	/* NULL: none */
	char		*identifier;
	int		 umask;		/* -1: leave as is */
	char		*directory;	/* NULL: stay */
	char		**environment;	/* added to tendd's own for every child */
	double		 client_timeout; /* idle control clients; 0: never */
	int		 nprograms;
	struct program_confs programs;	/* in file order */
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
 * Reads FILE into a fresh object. Every error and warning goes to D.
 * Returns NULL when there is any error (and then nothing may be started).
 */
struct tend_conf *config_load(const char *file, int flags, struct diag *d);
void	 config_free(struct tend_conf *);
/* Same settings, so a reload leaves the running process alone. */
int	 config_program_equal(const struct program_conf *,
	    const struct program_conf *);
int	 config_exitcode_expected(const struct program_conf *, int code);

void	 diag_add(struct diag *, int is_error, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	 diag_clear(struct diag *);

/* ------------------------------------------------------------------ */
/* program.c: the per-process state machine.                           */

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
};
#define PROC_NSTATES	(PROC_FATAL + 1)

/* What a person asked for, apart from what is happening (runit's want). */
enum proc_want {
	WANT_NONE,	/* never asked: autostart=false and no start yet */
	WANT_UP,
	WANT_DOWN,
};

struct waiter;

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
	int		 restarts;	/* spawns after the first one */
	int		 killed;	/* SIGKILL was sent in this stop */
	int		 shutdown_stop;	/* stopping because tendd shuts down */
	char		*spawnerr;	/* why the last spawn failed; NULL if none */
	char		*reason;	/* why the last transition happened */

	struct event	*timer;		/* the one timer of the current state */
};
TAILQ_HEAD(procs, proc);
extern struct procs procs;

const char *program_state_name(enum proc_state);
/* Builds processes for CONF (first load). */
void	 program_setup(struct tend_conf *);
/* autostart, by priority (low first). */
void	 program_autostart(void);
/* A person's start/stop. Return 0, or -1 with a reason in *cause. */
int	 program_start(struct proc *, char **cause);
int	 program_stop(struct proc *, char **cause);
/* SIGKILL now, no restart. */
int	 program_kill(struct proc *, char **cause);
/* SIGSTOP -> PAUSED, SIGCONT -> RUNNING (tendctl pause/resume). */
int	 program_pause(struct proc *, char **cause);
int	 program_resume(struct proc *, char **cause);
/* Any signal to the process (STOP and CONT go through pause/resume). */
int	 program_signal(struct proc *, int sig, char **cause);
/* Settled: no process, no restart coming (what tendctl wait joins). */
int	 program_is_settled(const struct proc *);
/* reap.c calls this when the process PID ended with STATUS. */
void	 program_reaped(struct proc *, int status);
struct proc *program_find_pid(pid_t);
/* The status-line description (pid and uptime, retry n of m in Ns, ...). */
void	 program_describe(struct proc *, char *, size_t);
int	 program_is_up(const struct proc *);	/* has a live process */
int	 program_is_done(const struct proc *);	/* settled: no process, no timer */
/* Delay before failed-start retry N (1, 2, 4 ... up to backoff_max). */
double	 program_backoff(const struct program_conf *, int n);
/* Delay before restarting after the Nth quick exit from RUNNING in a row. */
double	 program_crash_delay(const struct program_conf *, int crashes);
/* Shutdown: stop everything in priority order (high first), join jobs. */
void	 program_shutdown(void);
int	 program_all_down(void);
void	 program_free_all(void);
/* Invariant: *proc lists were set up; counts by state for STATUS= later. */
void	 program_count(int counts[PROC_NSTATES]);

/* ------------------------------------------------------------------ */
/* spawn.c: fork + exec of one process.                                 */

/*
 * Starts P's program. 0 with p->pid and p->pidfd set, or -1 with the
 * reason in *cause ("cannot execute /x: No such file or directory").
 */
int	 spawn_proc(struct proc *, char **cause);
/* Signal the process (and its group when GROUP is set). */
int	 spawn_signal(struct proc *, int sig, int group);
/* tendd's environment minus what belongs to tendd's own supervisor. */
void	 spawn_init_environ(void);

/* ------------------------------------------------------------------ */
/* reap.c: SIGCHLD, waitpid(-1) loop, subreaper orphans.                */

void	 reap_children(void);

/* ------------------------------------------------------------------ */
/* control.c: the listening socket and its connections.                 */

struct conn;
int	 control_listen(const char *path, int mode, const char *owner,
	    char **cause);
void	 control_close(void);
/* Queue one JSON document (reply or stream item) to C; steals J. */
void	 control_send(struct conn *, struct json_t *j);
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

/* ------------------------------------------------------------------ */
/* command.c: requests -> handlers -> replies; parked requests.         */

void	 command_dispatch(struct conn *, const char *line, size_t len);
/* A connection is going away: forget its parked requests. */
void	 command_conn_gone(struct conn *);
/* Does C have parked requests or a subscription (not idle)? */
int	 command_conn_waiting(struct conn *);
/* Every state change passes here (waiters, later the events stream). */
void	 command_state_changed(struct proc *, enum proc_state old);
/* Everything is down at shutdown: answer whoever still waits. */
void	 command_shutdown_done(void);

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

/* ------------------------------------------------------------------ */
/* log.c: tendd's own log.                                              */

void	 log_init(enum loglevel, const char *identifier);
void	 log_set_level(enum loglevel);
void	 log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Startup failures and broken invariants only. */
void	 fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
