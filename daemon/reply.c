/*
 * reply.c: the one place replies are built and sent (docs/protocol.md).
 * Every error reply, the dispatcher's, a handler's, a parked request's or
 * control.c's, is {"id", "ok": false, "error": {"code", "message"}} from
 * reply_failed(); every reply leaves through reply_send().
 *
 * Nothing here trusts a string: every one a reply carries goes through
 * protocol_string(), which makes it valid UTF-8. Each builder steals
 * what it is given and passes the array or object on, or NULL once
 * anything failed (no memory); reply_send() (control_send) turns NULL
 * into a dropped connection rather than half a reply, so a reply that
 * cannot be built costs its connection, never tendd.
 */
#include <stdlib.h>

#include "command.h"
#include "jsonw.h"

void
reply_send(struct conn *c, json_t *reply)
{
	control_send(c, reply);
}

/* {"id", "ok": false, "error": {CODE, MSG}}, or with KEY: V; steals V. */
json_t *
reply_failed(json_t *id, const char *code, const char *msg,
    const char *key, json_t *v)
{
	json_t *r;

	r = json_pack("{s:O, s:b, s:{s:s, s:o}}", "id", id, "ok", 0,
	    "error", "code", code, "message", protocol_string(msg));
	if (key == NULL)
		return r;
	if (r == NULL) {
		json_decref(v);
		return NULL;
	}
	return reply_set(r, key, v);
}

void
reply_error(struct conn *c, json_t *id, const char *code, const char *msg)
{
	reply_send(c, reply_failed(id, code, msg, NULL, NULL));
}

json_t *
reply_ok(json_t *id)
{
	return json_pack("{s:O, s:b}", "id", id, "ok", 1);
}

json_t *
reply_push(json_t *a, json_t *v)
{
	if (json_array_append_new(a, v) == 0)
		return a;
	json_decref(a);
	return NULL;
}

json_t *
reply_set(json_t *o, const char *key, json_t *v)
{
	if (json_object_set_new(o, key, v) == 0)
		return o;
	json_decref(o);
	return NULL;
}

/* {"name", "ok", "state", "message"}: one process's part of a reply. */
json_t *
reply_result(const char *name, int ok, const char *state, const char *msg)
{
	return json_pack("{s:o, s:b, s:s, s:o}", "name", protocol_string(name),
	    "ok", ok, "state", state, "message", protocol_string(msg));
}

/* A list of strings from outside (file names, config lines). */
json_t *
reply_strv(char **v)
{
	json_t *a = json_array();

	for (; v != NULL && *v != NULL; v++)
		a = reply_push(a, protocol_string(*v));
	return a;
}

void
reply_results_start(struct reply_results *rr)
{
	rr->results = json_array();
	rr->first = NULL;
}

void
reply_results_add(struct reply_results *rr, const char *name, int ok,
    const char *state, const char *msg)
{
	if (!ok && rr->first == NULL)
		xasprintf(&rr->first, "%s: %s", name, msg);
	rr->results = reply_push(rr->results, reply_result(name, ok, state,
	    msg));
}

/*
 * Every result ok: {"id", "ok": true, "results"}; else "failed", the
 * message naming the first failure, and still the results.
 */
void
reply_results_send(struct conn *c, json_t *id, struct reply_results *rr)
{
	if (rr->first != NULL)
		reply_send(c, reply_failed(id, TEND_ERR_FAILED, rr->first,
		    "results", rr->results));
	else
		reply_send(c, reply_set(reply_ok(id), "results", rr->results));
	free(rr->first);
	rr->first = NULL;
	rr->results = NULL;
}

/* No memory for the reply C is owed: C is dropped, tendd goes on. */
void
reply_unbuilt(struct conn *c)
{
	control_unbuilt(c, "a reply");
}

/* A reply jsonw wrote as text (status): sent, or C is dropped. */
void
reply_send_jsonw(struct conn *c, struct jsonw *w)
{
	if (w->failed)
		reply_unbuilt(c);
	else
		control_send_line(c, w->buf, w->len);
}
