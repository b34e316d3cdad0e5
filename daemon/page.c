/*
 * page.c: the status page of spec section 11 on the HTTP interface:
 *   GET /                      the page (daemon/page.html, built in)
 *   GET /api/status            every process as JSON (with CPU, memory)
 *   GET /api/events            Server-Sent Events: one per state or
 *                              health change (command.c, events.c call
 *                              page_state_changed), nothing otherwise
 *   GET /api/tail/NAME[/stderr] the end of a stream's tail ring
 *   POST /api/action/VERB/NAME start, stop, restart
 *
 * Who may act: http.c answered only requests with valid credentials; a
 * request may act only when its listener HAS credentials ([unix_http_
 * server] or [inet_http_server] username/password), so an open socket
 * gives a read-only page. Against cross-site requests an action must
 * carry X-Tend-Token, a random value tendd makes once and hands only in
 * /api/status (which another site cannot read, and a custom header it
 * cannot send without a CORS preflight tendd never grants), a same-origin
 * Origin when one is sent, and Sec-Fetch-Site same-origin or none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "command.h"
#include "xmlrpc.h"

/* The end of a stream the page shows (a click on a process). */
#define PAGE_TAIL_MAX	(16 * 1024)

static const char page_html[] = {
#include "page_html.inc"
	0
};

/* Who follows /api/events. */
static struct conn	**page_subs;
static size_t		 page_nsubs;
static char		 page_token[65];

static const char *
page_get_token(void)
{
	unsigned char raw[32];
	size_t i;

	if (page_token[0] != '\0')
		return page_token;
	if (getrandom(raw, sizeof(raw), GRND_NONBLOCK) != (ssize_t)sizeof(raw))
		return NULL;	/* no token, no actions: tried again next time */
	for (i = 0; i < sizeof(raw); i++)
		snprintf(page_token + 2 * i, 3, "%02x", raw[i]);
	explicit_bzero(raw, sizeof(raw));
	return page_token;
}

void
page_conn_gone(struct conn *c)
{
	size_t i;

	for (i = 0; i < page_nsubs; i++)
		if (page_subs[i] == c) {
			page_subs[i] = page_subs[--page_nsubs];
			return;
		}
}

void
page_close(void)
{
	free(page_subs);
	page_subs = NULL;
	page_nsubs = 0;
}

void
page_state_changed(struct proc *p)
{
	json_t *name;
	char *s, *line;
	size_t i;

	if (page_nsubs == 0)
		return;
	name = protocol_string(p->display);
	s = name != NULL ? json_dumps(name, JSON_ENCODE_ANY) : NULL;
	json_decref(name);
	xasprintf(&line, "data: %s\n\n", s != NULL ? s : "null");
	free(s);
	/* a sender never frees a connection here: the list holds */
	for (i = 0; i < page_nsubs; i++)
		http_send_chunk(page_subs[i], line, strlen(line));
	free(line);
}

static void
page_json(struct conn *c, json_t *j)
{
	char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (text == NULL) {
		http_error(c, 500);
		return;
	}
	http_respond(c, 200, "application/json", "Cache-Control: no-store\r\n",
	    text, strlen(text));
	free(text);
}

static json_t *
page_proc(struct proc *p, double now)
{
	struct metrics_usage u;
	const char *health = probe_health_name(p);
	int up = p->state == PROC_RUNNING || p->state == PROC_PAUSED;

	metrics_usage(p, &u);
	return json_pack("{s:o, s:o, s:s, s:o, s:f, s:i, s:o, s:o, s:o, s:o}",
	    "name", protocol_string(p->display),
	    "group", protocol_string(p->group),
	    "state", program_state_name(p->state),
	    "pid", p->pid > 0 ? json_integer(p->pid) : json_null(),
	    "uptime", up ? now - p->running_time : 0.0,
	    "restarts", p->restarts,
	    "health", health != NULL ? json_string(health) : json_null(),
	    "exitcode", p->has_exited ? json_integer(p->exitcode) :
	    json_null(),
	    "cpu_seconds", u.cpu >= 0 && p->pid > 0 ? json_real(u.cpu) :
	    json_null(),
	    "memory_bytes", u.mem >= 0 ? json_integer(u.mem) : json_null());
}

static void
page_status(struct conn *c, const struct page_req *r)
{
	json_t *list = json_array(), *j;
	const char *token = r->may_act ? page_get_token() : NULL;
	double now = util_now();
	struct proc *p;

	TAILQ_FOREACH(p, &procs, entry)
		json_array_append_new(list, page_proc(p, now));
	j = json_pack("{s:o, s:b, s:o, s:f, s:s}",
	    "processes", list,
	    "can_act", token != NULL,
	    "token", token != NULL ? json_string(token) : json_null(),
	    "time", util_wallclock(),
	    "version", TEND_VERSION);
	page_json(c, j);
}

static void
page_events(struct conn *c)
{
	static const char hello[] = "retry: 1000\n\n";

	http_stream_open(c, "text/event-stream");
	http_send_chunk(c, hello, sizeof(hello) - 1);
	page_subs = xreallocarray(page_subs, page_nsubs + 1,
	    sizeof(*page_subs));
	page_subs[page_nsubs++] = c;
}

/* PATH is NAME or NAME/stderr (unquoted in place). */
static void
page_tail(struct conn *c, char *path)
{
	enum output_stream which = OUTPUT_STDOUT;
	char *slash, *buf, *nl;
	struct proc *p;
	size_t len, skip;

	if (http_unquote(path) == -1) {
		http_error(c, 400);
		return;
	}
	if ((p = rpc_find_process(path)) == NULL &&
	    (slash = strrchr(path, '/')) != NULL) {
		*slash = '\0';
		if (strcmp(slash + 1, "stderr") == 0)
			which = OUTPUT_STDERR;
		else if (strcmp(slash + 1, "stdout") != 0) {
			http_error(c, 404);
			return;
		}
		p = rpc_find_process(path);
	}
	if (p == NULL) {
		http_error(c, 404);
		return;
	}
	output_tail(p, which, -1, &buf, &len);
	skip = len > PAGE_TAIL_MAX ? len - PAGE_TAIL_MAX : 0;
	/* from a line's start: never inside a character */
	if (skip > 0 && (nl = memchr(buf + skip, '\n', len - skip)) != NULL)
		skip = (size_t)(nl + 1 - buf);
	http_respond(c, 200, "text/plain; charset=utf-8",
	    "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n",
	    buf + skip, len - skip);
	free(buf);
}

/* Same length and bytes, compared in full. */
static int
page_same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	for (i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* NULL when R may act, else why not (the 403's reason in the log). */
static const char *
page_refuse(const struct page_req *r)
{
	const char *token = page_get_token(), *o;
	size_t hl;

	if (!r->may_act)
		return "no credentials are configured for this listener";
	if (token == NULL || r->token == NULL || !page_same(r->token, token))
		return "no valid X-Tend-Token";
	if (r->fetch_site != NULL && strcmp(r->fetch_site, "same-origin") != 0 &&
	    strcmp(r->fetch_site, "none") != 0)
		return "a cross-site request (Sec-Fetch-Site)";
	if (r->origin != NULL) {
		o = r->origin;
		if (strncmp(o, "http://", 7) == 0)
			o += 7;
		else if (strncmp(o, "https://", 8) == 0)
			o += 8;
		else
			return "a cross-site request (Origin)";
		hl = r->host != NULL ? strlen(r->host) : 0;
		if (hl == 0 || strcmp(o, r->host) != 0)
			return "a cross-site request (Origin)";
	}
	return NULL;
}

/* POST /api/action/VERB/NAME */
static void
page_action(struct conn *c, const struct page_req *r, char *rest)
{
	char *slash = strchr(rest, '/'), *cause = NULL;
	const char *why;
	struct proc *p;
	json_t *j;
	int rc;

	if ((why = page_refuse(r)) != NULL) {
		log_warn("control: refused a status page action (pid %ld): %s",
		    (long)control_peer_pid(c), why);
		http_error(c, 403);
		return;
	}
	if (slash == NULL || http_unquote(slash + 1) == -1) {
		http_error(c, 400);
		return;
	}
	*slash = '\0';
	if ((p = rpc_find_process(slash + 1)) == NULL) {
		http_error(c, 404);
		return;
	}
	if (strcmp(rest, "start") != 0 && strcmp(rest, "stop") != 0 &&
	    strcmp(rest, "restart") != 0) {
		http_error(c, 404);
		return;
	}
	log_info("%s: %s from the status page", p->display, rest);
	rc = cmd_proc_verb(p, rest, &cause);
	j = json_pack("{s:b, s:o, s:s, s:o}", "ok", rc == 0,
	    "name", protocol_string(p->display),
	    "state", program_state_name(p->state),
	    "error", protocol_string(cause));
	free(cause);
	page_json(c, j);
}

int
page_route(struct conn *c, const struct page_req *r)
{
	char *path, *q;
	int get = strcmp(r->method, "GET") == 0, done = 1;

	path = xstrdup(r->target);
	if ((q = strchr(path, '?')) != NULL)
		*q = '\0';
	if (strncmp(path, "/api/action/", 12) == 0) {
		if (strcmp(r->method, "POST") != 0)
			http_error(c, 405);
		else
			page_action(c, r, path + 12);
	} else if (strcmp(path, "/") != 0 && strncmp(path, "/api/", 5) != 0)
		done = 0;
	else if (!get)
		http_error(c, 405);
	else if (strcmp(path, "/") == 0)
		http_respond(c, 200, "text/html; charset=utf-8",
		    "Cache-Control: no-store\r\nX-Frame-Options: DENY\r\n"
		    "Content-Security-Policy: default-src 'self'; "
		    "style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
		    "frame-ancestors 'none'\r\n", page_html,
		    sizeof(page_html) - 1);
	else if (strcmp(path, "/api/status") == 0)
		page_status(c, r);
	else if (strcmp(path, "/api/events") == 0)
		page_events(c);
	else if (strncmp(path, "/api/tail/", 10) == 0)
		page_tail(c, path + 10);
	else
		http_error(c, 404);
	free(path);
	return done;
}
