/*
 * cmd_daemon.c: the commands about tendd itself: version, shutdown and
 * reload (the config read again, tendd.c; with "check" only the plan).
 */
#include <stdlib.h>
#include <unistd.h>

#include "command.h"

enum cmd_retval
cmd_daemon_version(struct conn *c, json_t *id, struct cmd_args *a)
{
	json_t *r;

	r = reply_set(reply_ok(id), "version", json_string(TEND_VERSION));
	r = reply_set(r, "protocol", json_integer(TEND_PROTOCOL_VERSION));
	r = reply_set(r, "pid", json_integer(getpid()));
	reply_send(c, r);
	return CMD_RETURN_DONE;
}

enum cmd_retval
cmd_daemon_shutdown(struct conn *c, json_t *id, struct cmd_args *a)
{
	reply_send(c, reply_ok(id));
	/* The connection stays open; it closes when tendd exits. */
	control_hold(c);
	tendd_shutdown(0, "shutdown requested by tendctl");
	return CMD_RETURN_DONE;
}

/* The processes a reload adds, changes and removes. */
static json_t *
cmd_daemon_changes(const struct reload_plan *plan)
{
	static const char *const kinds[] = {
		[RELOAD_ADDED] = "added",
		[RELOAD_CHANGED] = "changed",
		[RELOAD_REMOVED] = "removed",
	};
	json_t *changes = json_array(), *item;
	int i;

	for (i = 0; i < plan->n; i++) {
		item = json_pack("{s:o, s:o, s:o, s:s}",
		    "name", protocol_string(plan->items[i].name),
		    "group", protocol_string(plan->items[i].group),
		    "process", protocol_string(plan->items[i].process),
		    "change", kinds[plan->items[i].change]);
		if (plan->items[i].change == RELOAD_CHANGED)
			item = reply_set(item, "keys",
			    reply_strv(plan->items[i].keys));
		changes = reply_push(changes, item);
	}
	return changes;
}

/*
 * reload: the config is read again; with errors nothing changes and they
 * come back in "errors". "check": only the plan, nothing applied.
 */
enum cmd_retval
cmd_daemon_reload(struct conn *c, json_t *id, struct cmd_args *a)
{
	json_t *errors, *warnings, *r;
	struct reload_plan plan;
	struct diag d = { 0 };
	char *msg;
	int k, rc;

	rc = tendd_reload(a->check ? TENDD_RELOAD_CHECK : 0, &d, &plan);
	errors = json_array();
	warnings = json_array();
	for (k = 0; k < d.n; k++) {
		if (d.msgs[k].is_error)
			errors = reply_push(errors,
			    protocol_string(d.msgs[k].text));
		else
			warnings = reply_push(warnings,
			    protocol_string(d.msgs[k].text));
	}
	if (rc == -1) {
		xasprintf(&msg, "the config has %d error%s; nothing was "
		    "changed", d.nerrors, d.nerrors == 1 ? "" : "s");
		r = reply_failed(id, TEND_ERR_CONFIG, msg, "errors", errors);
		reply_send(c, reply_set(r, "warnings", warnings));
		free(msg);
	} else {
		r = reply_set(reply_ok(id), "applied", json_boolean(!a->check));
		r = reply_set(r, "changes", cmd_daemon_changes(&plan));
		r = reply_set(r, "unchanged", json_integer(plan.unchanged));
		r = reply_set(r, "restart_required", reply_strv(plan.restart));
		r = reply_set(r, "warnings", warnings);
		json_decref(errors);
		reply_send(c, r);
	}
	diag_clear(&d);
	reload_plan_free(&plan);
	return CMD_RETURN_DONE;
}
