/*
 * cmd_output.c: the commands about what processes write: tail (recent
 * output from output.c's memory, then with "follow" output.c streams the
 * chunks), clear (empty the log files) and reopen (every log file, after
 * a logrotate).
 */
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "utf8.h"

/*
 * The reply is {"name", "stream", "encoding", "data"}; with follow it is
 * followed by {"id", "name", "stream", "data"} objects (and {"skipped":
 * N} after a reader fell behind) until the connection closes.
 */
enum cmd_retval
cmd_output_tail(struct conn *c, json_t *id, struct cmd_args *a)
{
	struct proc *p = a->procs[0];
	enum output_stream which = a->stream;
	size_t len;
	char *buf;
	json_t *r;

	output_tail(p, which, a->lines, &buf, &len);
	/* as text, a character still being written is not shown in half */
	if (!a->base64)
		len -= utf8_partial_tail(buf, len);
	r = reply_set(reply_ok(id), "name", protocol_string(p->display));
	r = reply_set(r, "stream", json_string(which == OUTPUT_STDOUT ?
	    "stdout" : "stderr"));
	r = reply_set(r, "encoding", json_string(a->base64 ? "base64" :
	    "text"));
	r = reply_set(r, "data", output_json_data(buf ? buf : "", len,
	    a->base64));
	free(buf);
	reply_send(c, r);
	if (a->follow)
		output_follow(p, which, c, id, a->base64);
	return CMD_RETURN_DONE;
}

enum cmd_retval
cmd_output_clear(struct conn *c, json_t *id, struct cmd_args *a)
{
	struct reply_results rr;
	struct proc *p;
	size_t i;
	char *cause;

	reply_results_start(&rr);
	for (i = 0; i < a->n; i++) {
		p = a->procs[i];
		cause = NULL;
		output_clear(p, &cause);
		reply_results_add(&rr, p->display, cause == NULL,
		    program_state_name(p->state), cause ? cause : "cleared");
		free(cause);
	}
	reply_results_send(c, id, &rr);
	return CMD_RETURN_DONE;
}

enum cmd_retval
cmd_output_reopen(struct conn *c, json_t *id, struct cmd_args *a)
{
	char *causes = NULL;

	if (tendd_reopen_logs("reopen requested by tendctl", &causes) == -1)
		reply_error(c, id, TEND_ERR_FAILED, causes);
	else
		reply_send(c, reply_ok(id));
	free(causes);
	return CMD_RETURN_DONE;
}
