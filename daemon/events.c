/*
 * events.c: the events stream (docs/protocol.md, events). A subscriber
 * gets {"id", "ok": true} and then one object a line for every state
 * change of a process its names match, from now on, until it closes.
 * command_state_changed() hands every change here.
 *
 * Every string an event carries goes through protocol_string(); an
 * event line that cannot be built (no memory) closes the subscriber
 * rather than let it miss the event unawares.
 */
#include <stdlib.h>
#include <string.h>

#include "command.h"

/* An events subscriber: its connection and the names it asked for. */
struct subscriber {
	TAILQ_ENTRY(subscriber) entry;
	struct conn	*conn;
	json_t		*names;		/* NULL: every process */
};
static TAILQ_HEAD(, subscriber) subscribers =
    TAILQ_HEAD_INITIALIZER(subscribers);
/* Numbers every state change, so a consumer can see the order. */
static json_int_t events_seq;

/* The names were checked by dispatch, and are matched again at each change. */
enum cmd_retval
events_subscribe(struct conn *c, json_t *id, struct cmd_args *a)
{
	struct subscriber *s;

	s = xcalloc(1, sizeof(*s));
	s->conn = c;
	s->names = json_incref(a->names);
	TAILQ_INSERT_TAIL(&subscribers, s, entry);
	reply_send(c, reply_ok(id));
	log_debug("events: a client subscribed%s", s->names ? " (to some "
	    "processes)" : "");
	return CMD_RETURN_STREAM;
}

static int
events_matches_any(const struct proc *p, json_t *names)
{
	json_t *v;
	size_t i;

	json_array_foreach(names, i, v)
		if (command_matches(p, json_string_value(v)))
			return 1;
	return 0;
}

/*
 * One line for every subscriber: the state change P just made. NULL
 * when memory ran out.
 */
static char *
events_line(struct proc *p, enum proc_state old, size_t *len)
{
	char desc[1024], *line;
	json_t *j, *pid;
	int had = old == PROC_STARTING || old == PROC_RUNNING ||
	    old == PROC_PAUSED || old == PROC_STOPPING;

	/* The pid that ended, for a transition an exit caused. */
	if (p->pid > 0)
		pid = json_integer(p->pid);
	else if (had && p->last_pid > 0)
		pid = json_integer(p->last_pid);
	else
		pid = json_null();
	program_describe_text(p, desc, sizeof(desc));
	j = json_pack("{s:s, s:I, s:f, s:o, s:o, s:o, s:s, s:s, s:o, s:o, "
	    "s:o, s:o}",
	    "event", "state",
	    "seq", events_seq,
	    "time", p->state_wall,
	    "name", protocol_string(p->display),
	    "group", protocol_string(p->group),
	    "process", protocol_string(p->name),
	    "from", program_state_name(old),
	    "to", program_state_name(p->state),
	    "pid", pid,
	    "exitcode", p->has_exited ? json_integer(p->exitcode) : json_null(),
	    "reason", protocol_string(p->reason),
	    "description", protocol_string(desc));
	line = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	*len = line != NULL ? strlen(line) : 0;
	return line;
}

void
events_state_changed(struct proc *p, enum proc_state old)
{
	struct subscriber *s;
	char *line = NULL;
	size_t len = 0;
	int built = 0;

	/* control_send never frees a connection here: the list holds. */
	events_seq++;
	TAILQ_FOREACH(s, &subscribers, entry) {
		if (s->names != NULL && !events_matches_any(p, s->names))
			continue;
		if (!built) {
			line = events_line(p, old, &len);
			built = 1;
		}
		/* without it, a subscriber would miss an event unawares */
		if (line == NULL)
			control_unbuilt(s->conn, "an event");
		else
			control_send_line(s->conn, line, len);
	}
	free(line);
}

/*
 * A health event: the check's verdict changed, or it failed once more
 * (the count of failures in a row is part of what it says). Numbered in
 * the same sequence as state changes, so their order can be read.
 */
static char *
events_health_line(struct proc *p, size_t *len)
{
	const char *detail = probe_health_detail(p);
	char *line;
	json_t *j;

	j = json_pack("{s:s, s:I, s:f, s:o, s:o, s:o, s:s, s:o, s:o, s:o, "
	    "s:i, s:i}",
	    "event", "health",
	    "seq", events_seq,
	    "time", util_wallclock(),
	    "name", protocol_string(p->display),
	    "group", protocol_string(p->group),
	    "process", protocol_string(p->name),
	    "state", program_state_name(p->state),
	    "pid", p->pid > 0 ? json_integer(p->pid) : json_null(),
	    "health", probe_health_name(p) != NULL ?
	    json_string(probe_health_name(p)) : json_null(),
	    "health_detail", protocol_string(detail),
	    "failures", probe_health_failures(p),
	    "retries", p->pc->healthcheck_retries);
	line = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	*len = line != NULL ? strlen(line) : 0;
	return line;
}

void
events_health_changed(struct proc *p)
{
	struct subscriber *s;
	char *line = NULL;
	size_t len = 0;
	int built = 0;

	page_state_changed(p);
	events_seq++;
	TAILQ_FOREACH(s, &subscribers, entry) {
		if (s->names != NULL && !events_matches_any(p, s->names))
			continue;
		if (!built) {
			line = events_health_line(p, &len);
			built = 1;
		}
		if (line == NULL)
			control_unbuilt(s->conn, "an event");
		else
			control_send_line(s->conn, line, len);
	}
	free(line);
}

void
events_conn_gone(struct conn *c)
{
	struct subscriber *s, *next;

	for (s = TAILQ_FIRST(&subscribers); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->conn == c) {
			TAILQ_REMOVE(&subscribers, s, entry);
			json_decref(s->names);
			free(s);
		}
	}
}

int
events_conn_waiting(struct conn *c)
{
	struct subscriber *s;

	TAILQ_FOREACH(s, &subscribers, entry)
		if (s->conn == c)
			return 1;
	return 0;
}
