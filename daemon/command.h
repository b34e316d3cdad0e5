/*
 * command.h: the command layer's own interface, between the table and
 * dispatch (command.c), the handlers (cmd_*.c), the events stream
 * (events.c) and the reply writer (reply.c). The rest of tendd sees only
 * the command_*() calls in tendd.h.
 *
 * A command is one row of command_table[] (command.c): its name, the
 * fields it takes, its flags and its handler. Dispatch checks every
 * field the row declares, in the row's order, and fills a struct
 * cmd_args; a handler never looks at the request itself.
 */
#ifndef TEND_COMMAND_H
#define TEND_COMMAND_H

#include <stddef.h>

#include <jansson.h>

#include "tendd.h"

/* What a parked request waits for (the row's `until`). */
enum waiter_op {
	OP_START,	/* up (start, restart) */
	OP_STOP,	/* down (stop, kill) */
	OP_WAIT,	/* settled, with no restart coming (wait) */
	OP_ROLL,	/* restart --rolling: up again, one after another */
};

/* The fields of a process object, in status's default order. */
enum command_field {
	FIELD_NAME,
	FIELD_GROUP,
	FIELD_PROCESS,
	FIELD_STATE,
	FIELD_PID,
	FIELD_EXITCODE,
	FIELD_UPTIME,
	FIELD_RESTARTS,
	FIELD_DAEMON,
	FIELD_DESCRIPTION,
	FIELD_SPAWNERR,
	FIELD_SINCE,
	FIELD_WANT,
	FIELD_HEALTH,		/* probe.c: null without a health check */
	FIELD_HEALTH_DETAIL,
	FIELD_CPU_SECONDS,	/* metrics.c: null without a pid */
	FIELD_MEMORY_BYTES,
	FIELD_ENABLED,		/* spec §12: false once disabled */
	FIELD_NEXT_RUN,		/* schedule.c: wall clock; null without one */
	FIELD_SKIPPED_RUNS,	/* schedule.c: runs skipped (still running) */
	FIELD_COUNT
};

/* Which fields a status reply carries, in which order, and how. */
struct command_fields {
	enum command_field f[FIELD_COUNT];
	int		 n;
	int		 rows;		/* arrays of values, not objects */
};

/*
 * A request's fields once checked: what a handler gets. A field the row
 * does not declare keeps its zero; a declared one its default when the
 * request leaves it out.
 */
struct cmd_args {
	json_t		*names;		/* names (or tail's name as a list); NULL: all */
	json_t		*name;		/* tail: the one name (a string) as given */
	struct proc	**procs;	/* what they name, in priority order */
	size_t		 n;
	int		 wait;		/* start, stop, restart, kill */
	int		 follow;	/* tail */
	int		 check;		/* reload */
	int		 stream;	/* tail: enum output_stream */
	int		 base64;	/* tail: encoding (0 text, 1 base64) */
	long		 lines;		/* tail: -1 all that is kept */
	int		 sig;		/* signal */
	double		 timeout;	/* wait: seconds; < 0 none */
	int		 rolling;	/* restart: one process at a time */
	struct command_fields fields;	/* status: fields and rows */
	/* spec §12 */
	json_t		*program;	/* scale: the program (a string) */
	long		 count;		/* scale: processes; -1 when negative */
	json_t		*argv;		/* run: the command (strings) */
	json_t		*run_name;	/* run: its name; NULL: made up */
	json_t		*env;		/* run: "KEY=VALUE" strings; NULL */
	json_t		*directory;	/* run: where; NULL: tendd's */
};

/* The kinds of field; command.c has each one's check and its error text. */
enum cmd_type {
	CMD_T_NAMES,	/* a list of names; resolved to processes */
	CMD_T_NAME,	/* one name; resolved to exactly one process */
	CMD_T_BOOL,	/* true or false */
	CMD_T_LINES,	/* a whole number; negative: all */
	CMD_T_SECONDS,	/* a number of seconds, 0 or more, or null: none */
	CMD_T_SIGNAL,	/* a signal's name or number */
	CMD_T_CHOICE,	/* one of two strings; the index is kept */
	CMD_T_FIELDS,	/* status's "fields" (a list of process fields) */
	CMD_T_STRV,	/* a list of strings (run's argv, env) */
};

struct cmd_field {
	const char	*name;		/* the JSON key; NULL ends a row's list */
	enum cmd_type	 type;
	size_t		 off;		/* where in struct cmd_args */
	long		 def;		/* default when absent */
	const char	*missing;	/* required: the missing_field message */
	const char	*choices[2];	/* CMD_T_CHOICE */
};

/* What a handler did with the request, for dispatch to finish. */
enum cmd_retval {
	CMD_RETURN_DONE,	/* replied */
	CMD_RETURN_PARK,	/* park it until the row's `until` (CMD_PARKS) */
	CMD_RETURN_STREAM,	/* replied; the connection now streams (CMD_STREAMS) */
};

/* Row flags. */
#define CMD_NOT_IN_SHUTDOWN	0x1	/* refused with shutting_down */
#define CMD_PARKS		0x2	/* may be answered later (a waiter) */
#define CMD_STREAMS		0x4	/* the reply is followed by a stream */

#define CMD_MAXFIELDS		6

struct cmd_entry {
	const char	*name;
	struct cmd_field fields[CMD_MAXFIELDS];
	int		 flags;
	enum waiter_op	 until;		/* CMD_PARKS: the outcome waited for */
	enum cmd_retval	 (*exec)(struct conn *, json_t *id, struct cmd_args *);
};

/* command.c: the table and the checks, for the handlers and the tests. */
const struct cmd_entry *command_find(const char *name);
const struct cmd_entry *command_at(size_t i);
/*
 * Checks one request line up to the handler, without touching a process:
 * decoding, the command's name, each field the row declares, the
 * shutdown refusal (SHUTTING_DOWN: tendd is shutting down) and the form
 * of the names. 0 with *E, *REQ, *ID and *A filled (free with
 * command_args_free, json_decref), or -1 with the error's code and an
 * allocated message (*ID is still set).
 */
int	 command_check(const char *line, size_t len, int shutting_down,
	    const struct cmd_entry **e, json_t **req, json_t **id,
	    struct cmd_args *a, const char **code, char **msg);
void	 command_args_free(struct cmd_args *);
/* Does P match NAME (all, GROUP:*, GROUP:NAME, NAME, a glob)? */
int	 command_matches(const struct proc *, const char *name);

/* reply.c: every reply and error is built here and sent by reply_send. */
struct jsonw;
void	 reply_send(struct conn *, json_t *reply);
void	 reply_send_jsonw(struct conn *, struct jsonw *);
void	 reply_unbuilt(struct conn *);
void	 reply_error(struct conn *, json_t *id, const char *code,
	    const char *msg);
json_t	*reply_failed(json_t *id, const char *code, const char *msg,
	    const char *key, json_t *v);
json_t	*reply_ok(json_t *id);
json_t	*reply_push(json_t *array, json_t *v);
json_t	*reply_set(json_t *object, const char *key, json_t *v);
json_t	*reply_result(const char *name, int ok, const char *state,
	    const char *msg);
json_t	*reply_strv(char **v);
/*
 * N processes' results, then one reply: ok, or failed naming the first
 * failure. start, add each, send.
 */
struct reply_results {
	json_t		*results;
	char		*first;		/* "NAME: why" of the first failure */
};
void	 reply_results_start(struct reply_results *);
void	 reply_results_add(struct reply_results *, const char *name, int ok,
	    const char *state, const char *msg);
void	 reply_results_send(struct conn *, json_t *id, struct reply_results *);

/* cmd_status.c */
enum cmd_retval cmd_status_exec(struct conn *, json_t *, struct cmd_args *);
/* "fields" into FS: 0, or -1 with an allocated message. */
int	 cmd_status_pick(json_t *fields, struct command_fields *fs,
	    char **msg);

/* cmd_proc.c */
enum cmd_retval cmd_proc_start(struct conn *, json_t *, struct cmd_args *);
enum cmd_retval cmd_proc_stop(struct conn *, json_t *, struct cmd_args *);
enum cmd_retval cmd_proc_restart(struct conn *, json_t *, struct cmd_args *);
/* One process's restart (restart, and restart --rolling's each step). */
void	 cmd_proc_restart_one(struct proc *);
enum cmd_retval cmd_proc_kill(struct conn *, json_t *, struct cmd_args *);
enum cmd_retval cmd_proc_signal(struct conn *, json_t *, struct cmd_args *);
enum cmd_retval cmd_proc_pause(struct conn *, json_t *, struct cmd_args *);
enum cmd_retval cmd_proc_resume(struct conn *, json_t *, struct cmd_args *);
enum cmd_retval cmd_proc_wait(struct conn *, json_t *, struct cmd_args *);
int	 cmd_proc_verb(struct proc *, const char *verb, char **cause);

/* cmd_runtime.c: spec §12 (enable, disable; start's disabled filter) */
enum cmd_retval cmd_runtime_enable(struct conn *, json_t *, struct cmd_args *);
enum cmd_retval cmd_runtime_disable(struct conn *, json_t *,
	    struct cmd_args *);
int	 cmd_runtime_filter(struct cmd_args *, char **cause);
enum cmd_retval cmd_runtime_scale(struct conn *, json_t *, struct cmd_args *);
enum cmd_retval cmd_runtime_run(struct conn *, json_t *, struct cmd_args *);

/* cmd_output.c */
enum cmd_retval cmd_output_tail(struct conn *, json_t *, struct cmd_args *);
enum cmd_retval cmd_output_clear(struct conn *, json_t *, struct cmd_args *);
enum cmd_retval cmd_output_reopen(struct conn *, json_t *, struct cmd_args *);

/* cmd_daemon.c */
enum cmd_retval cmd_daemon_version(struct conn *, json_t *, struct cmd_args *);
enum cmd_retval cmd_daemon_shutdown(struct conn *, json_t *, struct cmd_args *);
enum cmd_retval cmd_daemon_reload(struct conn *, json_t *, struct cmd_args *);

/* events.c: the events stream */
enum cmd_retval events_subscribe(struct conn *, json_t *, struct cmd_args *);
void	 events_state_changed(struct proc *, enum proc_state old);
/* probe.c: P's health changed (or failed once more): a "health" event. */
void	 events_health_changed(struct proc *);
void	 events_conn_gone(struct conn *);
int	 events_conn_waiting(struct conn *);

#endif
