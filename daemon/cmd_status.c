/*
 * cmd_status.c: the status command: process objects, all their fields or
 * those a request picks, as objects or rows (docs/protocol.md, "Process
 * objects"). The reply is written as text by jsonw, not built as jansson
 * objects: at a thousand processes that is most of what status costs.
 */
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "jsonw.h"
#include "utf8.h"

/* The keys, in the order a status reply writes them unless picked. */
static const char *const cmd_status_names[FIELD_COUNT] = {
	[FIELD_NAME] = "name",
	[FIELD_GROUP] = "group",
	[FIELD_PROCESS] = "process",
	[FIELD_STATE] = "state",
	[FIELD_PID] = "pid",
	[FIELD_EXITCODE] = "exitcode",
	[FIELD_UPTIME] = "uptime",
	[FIELD_RESTARTS] = "restarts",
	[FIELD_DAEMON] = "daemon",
	[FIELD_DESCRIPTION] = "description",
	[FIELD_SPAWNERR] = "spawnerr",
	[FIELD_SINCE] = "since",
	[FIELD_WANT] = "want",
	[FIELD_HEALTH] = "health",
	[FIELD_HEALTH_DETAIL] = "health_detail",
	[FIELD_CPU_SECONDS] = "cpu_seconds",
	[FIELD_MEMORY_BYTES] = "memory_bytes",
	[FIELD_ENABLED] = "enabled",
	[FIELD_NEXT_RUN] = "next_run",
	[FIELD_SKIPPED_RUNS] = "skipped_runs",
};

/* What a process uses, read once per process of a reply, if asked. */
struct cmd_status_usage {
	int			 read;
	struct metrics_usage	 u;
};

static const struct metrics_usage *
cmd_status_usage(struct proc *p, struct cmd_status_usage *cu)
{
	if (!cu->read)
		metrics_usage(p, &cu->u);
	cu->read = 1;
	return &cu->u;
}

/*
 * "fields": which keys, in which order; all when absent or empty. An
 * unknown name, one given twice, or anything but a list of strings is
 * refused. FS->rows is left as it is.
 */
int
cmd_status_pick(json_t *fields, struct command_fields *fs, char **msg)
{
	unsigned seen = 0;
	json_t *v;
	size_t i;
	int f;
	char *quote;

	if (fields != NULL && !json_is_array(fields)) {
		*msg = xstrdup("fields must be a list of strings");
		return -1;
	}
	fs->n = 0;
	json_array_foreach(fields, i, v) {
		if (!json_is_string(v)) {
			*msg = xstrdup("fields must be a list of strings");
			return -1;
		}
		for (f = 0; f < FIELD_COUNT; f++)
			if (strcmp(json_string_value(v),
			    cmd_status_names[f]) == 0)
				break;
		if (f == FIELD_COUNT || (seen & (1u << f))) {
			quote = utf8_dup(json_string_value(v), 64);
			xasprintf(msg, "%s field: %s", f == FIELD_COUNT ?
			    "unknown" : "repeated", quote);
			free(quote);
			return -1;
		}
		seen |= 1u << f;
		fs->f[fs->n++] = (enum command_field)f;
	}
	if (fs->n == 0)
		for (f = 0; f < FIELD_COUNT; f++)
			fs->f[fs->n++] = (enum command_field)f;
	return 0;
}

/* spec §12: enabled, next_run, skipped_runs */
static void
cmd_status_runtime(struct jsonw *w, struct proc *p, enum command_field f)
{
	double next;
	int skipped;

	next = schedule_next(p, &skipped);
	if (f == FIELD_ENABLED)
		jsonw_bool(w, !persist_is_disabled(p));
	else if (p->sched == NULL)
		jsonw_null(w);
	else if (f == FIELD_NEXT_RUN)
		jsonw_real(w, next);
	else
		jsonw_int(w, skipped);
}

/* One field of P into W. NOW is util_now() for the whole reply. */
static void
cmd_status_field(struct jsonw *w, struct proc *p, enum command_field f,
    double now, struct cmd_status_usage *cu)
{
	char desc[1024];
	int up = p->state == PROC_RUNNING || p->state == PROC_PAUSED;

	switch (f) {
	case FIELD_NAME:
		jsonw_string(w, p->display);
		break;
	case FIELD_GROUP:
		jsonw_string(w, p->group);
		break;
	case FIELD_PROCESS:
		jsonw_string(w, p->name);
		break;
	case FIELD_STATE:
		jsonw_string(w, program_state_name(p->state));
		break;
	case FIELD_PID:
		if (p->pid > 0)
			jsonw_int(w, p->pid);
		else
			jsonw_null(w);
		break;
	case FIELD_EXITCODE:
		if (p->has_exited)
			jsonw_int(w, p->exitcode);
		else
			jsonw_null(w);
		break;
	case FIELD_UPTIME:
		jsonw_real(w, up ? now - p->running_time : 0.0);
		break;
	case FIELD_RESTARTS:
		jsonw_int(w, p->restarts);
		break;
	case FIELD_DAEMON:
		jsonw_bool(w, p->pc->daemon);
		break;
	case FIELD_DESCRIPTION:
		program_describe_text(p, desc, sizeof(desc));
		jsonw_string(w, desc);
		break;
	case FIELD_SPAWNERR:
		jsonw_string(w, p->spawnerr);
		break;
	case FIELD_SINCE:
		jsonw_real(w, p->state_wall);
		break;
	case FIELD_WANT:
		jsonw_string(w, p->want == WANT_UP ? "up" :
		    p->want == WANT_DOWN ? "down" : "none");
		break;
	case FIELD_HEALTH:
		jsonw_string(w, probe_health_name(p));
		break;
	case FIELD_HEALTH_DETAIL:
		jsonw_string(w, probe_health_detail(p));
		break;
	case FIELD_CPU_SECONDS:
		if (p->pid > 0)
			jsonw_real(w, cmd_status_usage(p, cu)->cpu);
		else
			jsonw_null(w);
		break;
	case FIELD_MEMORY_BYTES:
		if (p->pid > 0 && cmd_status_usage(p, cu)->mem >= 0)
			jsonw_int(w, cmd_status_usage(p, cu)->mem);
		else
			jsonw_null(w);
		break;
	case FIELD_ENABLED:
	case FIELD_NEXT_RUN:
	case FIELD_SKIPPED_RUNS:
		cmd_status_runtime(w, p, f);
		break;
	case FIELD_COUNT:
		break;
	}
}

/*
 * Process P as a JSON object (or with ROWS, an array of values) of
 * fields FS, written straight into W: a status of thousands builds no
 * jansson objects.
 */
static void
cmd_status_proc(struct jsonw *w, struct proc *p,
    const struct command_fields *fs, double now)
{
	struct cmd_status_usage cu = { 0 };
	int i;

	jsonw_open(w, fs->rows ? '[' : '{');
	for (i = 0; i < fs->n; i++) {
		if (!fs->rows)
			jsonw_key(w, cmd_status_names[fs->f[i]]);
		cmd_status_field(w, p, fs->f[i], now, &cu);
	}
	jsonw_close(w, fs->rows ? ']' : '}');
}

enum cmd_retval
cmd_status_exec(struct conn *c, json_t *id, struct cmd_args *a)
{
	const struct command_fields *fs = &a->fields;
	struct jsonw w;
	size_t i;
	double now;
	char *ids;

	if ((ids = json_dumps(id, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL) {
		reply_unbuilt(c);
		return CMD_RETURN_DONE;
	}
	now = util_now();
	jsonw_init(&w, 64 + a->n * (size_t)(24 + 20 * fs->n));
	jsonw_open(&w, '{');
	jsonw_key(&w, "id");
	jsonw_raw(&w, ids, strlen(ids));
	jsonw_key(&w, "ok");
	jsonw_bool(&w, 1);
	jsonw_key(&w, "processes");
	jsonw_open(&w, '[');
	for (i = 0; i < a->n; i++)
		cmd_status_proc(&w, a->procs[i], fs, now);
	jsonw_close(&w, ']');
	jsonw_close(&w, '}');
	reply_send_jsonw(c, &w);
	jsonw_free(&w);
	free(ids);
	return CMD_RETURN_DONE;
}
