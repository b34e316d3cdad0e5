/*
 * http.c: the HTTP/1.x side of supervisord's interface (spec section 9):
 * a strict request reader on the control socket's connections (after
 * control.c's SO_PEERCRED check and first-byte sniff) and on
 * [inet_http_server]'s TCP listener, Basic auth, routing (POST /RPC2,
 * GET /logtail/NAME[/stderr], GET /mainlogtail, GET /metrics and the
 * status page's routes, page.c) and the responses.
 *
 * Why not evhttp: libevent 2.1's evhttp only takes listening sockets
 * (evhttp_accept_socket, evhttp_bind_listener); it has no public call to
 * hand it a connection already accepted, checked with SO_PEERCRED and
 * whose first bytes were read to tell HTTP from tendctl's JSON. One
 * reader for both sockets keeps one set of limits and one path to fuzz.
 *
 * Limits: a head of at most HTTP_MAX_HEAD bytes and HTTP_MAX_HEADERS
 * lines, a body of at most HTTP_MAX_BODY (Content-Length only; a chunked
 * request body is refused), a whole request within client_timeout, one
 * request at a time (pipelined ones wait their turn in the input), what
 * a slow reader leaves unread bounded by control.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/listener.h>

#include "xmlrpc.h"

#define HTTP_MAX_HEAD		(16 * 1024)
#define HTTP_MAX_HEADERS	64
#define HTTP_MAX_BODY		(1024 * 1024)
/* What GET /logtail sends first, as supervisord's tail_f_producer. */
#define HTTP_TAIL_FIRST		1024

struct http_conn {
	struct conn	*c;
	int		 inet;
	double		 since;		/* monotonic: this request began */
	int		 busy;		/* a reply is to come (a parked call) */
	int		 streaming;	/* a log tail: nothing more is read */
	int		 chunked;	/* the stream is sent chunked */
	/* the request in flight */
	int		 have_head;
	size_t		 body_len;
	int		 close;		/* close after the reply */
	int		 v10;		/* HTTP/1.0 */
	char		*method;
	char		*target;
	char		*auth;		/* Authorization's value */
	/* for page.c's actions (cross-site checks); NULL when absent */
	char		*origin;
	char		*host;
	char		*fetch_site;	/* Sec-Fetch-Site */
	char		*token;		/* X-Tend-Token */
};

static struct evconnlistener *http_listener;
/* GET /mainlogtail: who follows tendd's own log. */
static struct conn	**http_mainlog;
static size_t		 http_nmainlog;
static char		*http_inet_url;

struct http_conn *
http_conn_new(struct conn *c, int inet)
{
	struct http_conn *h = xcalloc(1, sizeof(*h));

	h->c = c;
	h->inet = inet;
	return h;
}

static void	 http_request_free(struct http_conn *);

static void
http_mainlog_forget(struct conn *c)
{
	size_t i;

	for (i = 0; i < http_nmainlog; i++)
		if (http_mainlog[i] == c) {
			http_mainlog[i] = http_mainlog[--http_nmainlog];
			return;
		}
}

int
http_mainlog_wanted(void)
{
	return http_nmainlog > 0;
}

/* Called by log.c outside any of http.c's own work (it logs to stderr
   while it is in here, so nothing comes back). */
void
http_mainlog_line(const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < http_nmainlog; i++)
		http_send_chunk(http_mainlog[i], line, len);
}

/* For the fuzz target: a state with no connection. */
void
http_conn_free(struct http_conn *h)
{
	http_request_free(h);
	free(h);
}

static void
http_request_free(struct http_conn *h)
{
	if (h == NULL)
		return;
	free(h->method);
	free(h->target);
	free(h->auth);
	h->method = h->target = h->auth = NULL;
	free(h->origin);
	free(h->host);
	free(h->fetch_site);
	free(h->token);
	h->origin = h->host = h->fetch_site = h->token = NULL;
	h->have_head = 0;
	h->body_len = 0;
}

void
http_conn_gone(struct conn *c)
{
	struct http_conn *h = control_http(c);

	if (h == NULL)
		return;
	rpc_conn_gone(c);
	output_conn_gone(c);
	http_mainlog_forget(c);
	page_conn_gone(c);
	http_request_free(h);
	free(h);
	control_set_http(c, NULL);
}

static const char *
http_reason(int code)
{
	switch (code) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Payload Too Large";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 505: return "HTTP Version Not Supported";
	}
	return "Error";
}

/* One response; closes the connection after it when the request said so. */
void
http_respond(struct conn *c, int code, const char *ctype, const char *extra,
    const char *body, size_t len)
{
	struct http_conn *h = control_http(c);
	char *head;
	int close = h == NULL || h->close || code >= 400;

	xasprintf(&head, "HTTP/1.%d %d %s\r\nServer: tend\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n",
	    h != NULL && h->v10 ? 0 : 1, code, http_reason(code), ctype, len,
	    extra != NULL ? extra : "", close ? "Connection: close\r\n" : "");
	control_send_bytes(c, head, strlen(head));
	free(head);
	if (len > 0)
		control_send_bytes(c, body, len);
	if (close)
		control_finish(c);
}

void
http_error(struct conn *c, int code)
{
	char body[128];

	snprintf(body, sizeof(body), "<html><body>%d %s</body></html>\n",
	    code, http_reason(code));
	http_respond(c, code, "text/html", code == 401 ?
	    "WWW-Authenticate: Basic realm=\"default\"\r\n" : NULL, body,
	    strlen(body));
}

/* The reply ends the call in flight; what was pipelined comes next. */
static void
http_call_done(struct conn *c, struct xmlrpc_buf *b)
{
	struct http_conn *h = control_http(c);
	int was_busy;

	if (h == NULL) {
		free(b->data);
		return;
	}
	was_busy = h->busy;
	h->busy = 0;
	http_respond(c, 200, "text/xml", NULL, b->data, b->len);
	free(b->data);
	if (was_busy)
		control_unhold(c);
}

void
http_reply_value(struct conn *c, json_t *v)
{
	struct xmlrpc_buf b = { NULL, 0, 0 };

	if (v == NULL) {
		http_reply_fault(c, FAULT_FAILED, "FAILED: no memory");
		return;
	}
	xmlrpc_encode_response(&b, v);
	http_call_done(c, &b);
}

void
http_reply_fault(struct conn *c, int code, const char *text)
{
	struct xmlrpc_buf b = { NULL, 0, 0 };

	xmlrpc_encode_fault(&b, code, text);
	http_call_done(c, &b);
}

/* ------------------------------------------------------------------ */
/* Parsing a request's head                                             */

static int
http_token_char(int ch)
{
	return ch > 0x20 && ch < 0x7f && strchr("()<>@,;:\\\"/[]?={}", ch) ==
	    NULL;
}

/* The request line: METHOD SP TARGET SP HTTP/1.x. */
static int
http_parse_request_line(struct http_conn *h, char *line)
{
	char *sp1, *sp2, *s;

	if ((sp1 = strchr(line, ' ')) == NULL ||
	    (sp2 = strchr(sp1 + 1, ' ')) == NULL || sp1 == line ||
	    sp2 == sp1 + 1)
		return 400;
	for (s = line; s < sp1; s++)
		if (!http_token_char((unsigned char)*s))
			return 400;
	for (s = sp1 + 1; s < sp2; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 400;
	if (strcmp(sp2 + 1, "HTTP/1.1") == 0)
		h->v10 = 0;
	else if (strcmp(sp2 + 1, "HTTP/1.0") == 0)
		h->v10 = 1;
	else if (strncmp(sp2 + 1, "HTTP/", 5) == 0)
		return 505;
	else
		return 400;
	h->method = xstrndup(line, sp1 - line);
	h->target = xstrndup(sp1 + 1, sp2 - sp1 - 1);
	h->close = h->v10;
	return 0;
}

/* What page.c's actions check; the last of a header given twice. */
static void
http_parse_page_header(struct http_conn *h, const char *name, const char *v)
{
	static const struct {
		const char	*name;
		size_t		 off;
	} keep[] = {
		{ "Origin", offsetof(struct http_conn, origin) },
		{ "Host", offsetof(struct http_conn, host) },
		{ "Sec-Fetch-Site", offsetof(struct http_conn, fetch_site) },
		{ "X-Tend-Token", offsetof(struct http_conn, token) },
	};
	char **slot;
	size_t i;

	for (i = 0; i < nitems(keep); i++)
		if (strcasecmp(name, keep[i].name) == 0) {
			slot = (char **)((char *)h + keep[i].off);
			free(*slot);
			*slot = xstrdup(v);
		}
}

static int
http_parse_header(struct http_conn *h, char *line, int *seen_length)
{
	char *colon = strchr(line, ':'), *v, *end, *s;
	unsigned long long n;

	if (colon == NULL || colon == line)
		return 400;
	for (s = line; s < colon; s++)
		if (!http_token_char((unsigned char)*s))
			return 400;
	*colon = '\0';
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	end = v + strlen(v);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	if (strcasecmp(line, "Content-Length") == 0) {
		if (*v < '0' || *v > '9' || strlen(v) > 12)
			return 400;
		n = strtoull(v, &end, 10);
		if (*end != '\0' || (*seen_length && n != h->body_len))
			return 400;
		if (n > HTTP_MAX_BODY)
			return 413;
		h->body_len = (size_t)n;
		*seen_length = 1;
	} else if (strcasecmp(line, "Transfer-Encoding") == 0)
		return 501;
	else if (strcasecmp(line, "Connection") == 0) {
		if (strcasecmp(v, "close") == 0)
			h->close = 1;
		else if (strcasecmp(v, "keep-alive") == 0)
			h->close = 0;
	} else if (strcasecmp(line, "Authorization") == 0) {
		free(h->auth);
		h->auth = xstrdup(v);
	} else
		http_parse_page_header(h, line, v);
	return 0;
}

/* HEAD (LEN bytes, CRLF CRLF included) into H; 0 or an HTTP status. */
int
http_parse_head(struct http_conn *h, char *head, size_t len)
{
	char *line, *next;
	int n = 0, r, seen_length = 0;
	size_t i;

	for (i = 0; i < len; i++)
		if (head[i] == '\0' || ((unsigned char)head[i] < 0x20 &&
		    head[i] != '\r' && head[i] != '\n' && head[i] != '\t'))
			return 400;
	head[len - 4] = '\0';	/* the blank line */
	for (line = head; line != NULL; line = next) {
		if ((next = strstr(line, "\r\n")) != NULL) {
			*next = '\0';
			next += 2;
		}
		if (strchr(line, '\n') != NULL || strchr(line, '\r') != NULL)
			return 400;	/* a bare CR or LF */
		if (n == 0)
			r = http_parse_request_line(h, line);
		else if (*line == ' ' || *line == '\t')
			r = 400;	/* obsolete line folding */
		else
			r = http_parse_header(h, line, &seen_length);
		if (r != 0)
			return r;
		if (++n > HTTP_MAX_HEADERS + 1)
			return 431;
	}
	if (!seen_length && strcmp(h->method, "POST") == 0)
		return 400;
	h->have_head = 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Auth and routes                                                      */

/* Compared in full whatever differs: no timing hint to a guesser. */
static int
http_same(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b), i;
	unsigned char d = alen != blen;

	for (i = 0; i < alen; i++)
		d |= (unsigned char)(a[i] ^ (i < blen ? b[i] : 0));
	return d == 0;
}

static int
http_authorized(struct http_conn *h)
{
	const char *user = h->inet ? tendd_conf->inet_username :
	    tendd_conf->http_username;
	const char *pass = h->inet ? tendd_conf->inet_password :
	    tendd_conf->http_password;
	unsigned char *raw;
	char *colon;
	size_t n;
	int ok;

	if (user == NULL && pass == NULL)
		return 1;
	if (h->auth == NULL || strncasecmp(h->auth, "Basic ", 6) != 0)
		return 0;
	raw = xmalloc(strlen(h->auth) + 1);
	if (xmlrpc_base64_decode(h->auth + 6, raw, &n) == -1) {
		free(raw);
		return 0;
	}
	raw[n] = '\0';
	colon = memchr(raw, ':', n);
	ok = colon != NULL &&
	    http_same((char *)raw, (size_t)(colon - (char *)raw),
	    user != NULL ? user : "") &
	    http_same(colon + 1, n - (size_t)(colon + 1 - (char *)raw),
	    pass != NULL ? pass : "");
	explicit_bzero(raw, n);
	free(raw);
	return ok;
}

/* %XX in a path; -1 for a bad escape or a NUL. */
int
http_unquote(char *s)
{
	char *w = s, hex[3] = { 0, 0, 0 };

	for (; *s != '\0'; s++) {
		if (*s != '%') {
			*w++ = *s;
			continue;
		}
		if (s[1] == '\0' || s[2] == '\0' || strchr("0123456789abcdefABCDEF",
		    s[1]) == NULL || strchr("0123456789abcdefABCDEF", s[2]) == NULL)
			return -1;
		hex[0] = s[1];
		hex[1] = s[2];
		if ((*w = (char)strtol(hex, NULL, 16)) == '\0')
			return -1;
		w++;
		s += 2;
	}
	*w = '\0';
	return 0;
}

void
http_send_chunk(struct conn *c, const char *data, size_t len)
{
	struct http_conn *h = control_http(c);
	char size[32];

	if (h == NULL || len == 0)
		return;
	if (h->chunked) {
		snprintf(size, sizeof(size), "%zx\r\n", len);
		control_send_bytes(c, size, strlen(size));
	}
	control_send_bytes(c, data, len);
	if (h->chunked)
		control_send_bytes(c, "\r\n", 2);
}

/* Headers of a stream without a length: chunked (1.1) or to the close. */
static void
http_stream_start(struct conn *c, struct http_conn *h, const char *ctype)
{
	char *head;

	h->streaming = 1;
	h->chunked = !h->v10;
	xasprintf(&head, "HTTP/1.%d 200 OK\r\nServer: tend\r\n"
	    "Content-Type: %s\r\nX-Accel-Buffering: no\r\n"
	    "Cache-Control: no-store\r\n%s\r\n", h->v10 ? 0 : 1, ctype,
	    h->chunked ? "Transfer-Encoding: chunked\r\n" :
	    "Connection: close\r\n");
	control_send_bytes(c, head, strlen(head));
	free(head);
	control_stream(c);
}

void
http_stream_open(struct conn *c, const char *ctype)
{
	struct http_conn *h = control_http(c);

	if (h != NULL)
		http_stream_start(c, h, ctype);
}

/* GET /logtail/NAME[/CHANNEL]: the last 1 KiB, then what comes. */
static void
http_logtail(struct conn *c, struct http_conn *h, char *path)
{
	char *channel = strchr(path, '/'), *buf;
	enum output_stream which = OUTPUT_STDOUT;
	struct proc *p;
	size_t len, skip;

	if (channel != NULL) {
		*channel++ = '\0';
		if (strcmp(channel, "stderr") == 0)
			which = OUTPUT_STDERR;
		else if (strcmp(channel, "stdout") != 0) {
			http_error(c, 404);
			return;
		}
	}
	if ((p = rpc_find_process(path)) == NULL) {
		http_error(c, 404);
		return;
	}
	http_stream_start(c, h, "text/plain;charset=utf-8");
	output_tail(p, which, -1, &buf, &len);
	skip = len > HTTP_TAIL_FIRST ? len - HTTP_TAIL_FIRST : 0;
	http_send_chunk(c, buf + skip, len - skip);
	free(buf);
	output_follow_raw(p, which, c);
}

/*
 * GET /mainlogtail: the end of tendd's own log file, if it has one, then
 * each line tendd logs from now on (wherever its log goes).
 */
static void
http_mainlogtail(struct conn *c, struct http_conn *h)
{
	char buf[HTTP_TAIL_FIRST];
	const char *path = tendd_conf->logfile;
	ssize_t n;
	off_t end;
	int fd = -1;

	http_stream_start(c, h, "text/plain;charset=utf-8");
	http_mainlog = xreallocarray(http_mainlog, http_nmainlog + 1,
	    sizeof(*http_mainlog));
	http_mainlog[http_nmainlog++] = c;
	if (path == NULL || path[0] != '/' || strncmp(path, "/dev/", 5) == 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return;
	end = lseek(fd, 0, SEEK_END);
	if (end > (off_t)sizeof(buf))
		lseek(fd, end - (off_t)sizeof(buf), SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	if ((n = read(fd, buf, sizeof(buf))) > 0)
		http_send_chunk(c, buf, (size_t)n);
	close(fd);
}

/* Spec section 11: GET /metrics here, the status page in page.c. */
static int
http_observe(struct conn *c, struct http_conn *h, const char *body)
{
	struct page_req r;
	char *text;
	size_t len;

	if (strcmp(h->target, "/metrics") == 0) {
		if (strcmp(h->method, "GET") != 0) {
			http_error(c, 405);
			return 1;
		}
		metrics_write(&text, &len);
		http_respond(c, 200, "text/plain; version=0.0.4; charset=utf-8",
		    "Cache-Control: no-store\r\n", text, len);
		free(text);
		return 1;
	}
	memset(&r, 0, sizeof(r));
	r.method = h->method;
	r.target = h->target;
	r.body = body;
	r.body_len = h->body_len;
	r.may_act = h->inet ? tendd_conf->inet_username != NULL ||
	    tendd_conf->inet_password != NULL : tendd_conf->http_username !=
	    NULL || tendd_conf->http_password != NULL;
	r.origin = h->origin;
	r.host = h->host;
	r.fetch_site = h->fetch_site;
	r.token = h->token;
	return page_route(c, &r);
}

static void
http_route(struct conn *c, struct http_conn *h, char *body)
{
	char *method = NULL, *cause = NULL, *path;
	json_t *params = NULL;

	if (!http_authorized(h)) {
		log_warn("control: refused an HTTP request (%s, pid %ld): no "
		    "valid credentials", h->inet ? "TCP" : "unix socket",
		    (long)control_peer_pid(c));
		http_error(c, 401);
		return;
	}
	if (strcmp(h->target, "/RPC2") == 0) {
		if (strcmp(h->method, "POST") != 0) {
			http_error(c, 405);
			return;
		}
		if (xmlrpc_decode(body, h->body_len, &method, &params,
		    &cause) == -1) {
			log_info("control: an XML-RPC request that cannot be "
			    "read (pid %ld): %s", (long)control_peer_pid(c),
			    cause);
			free(cause);
			http_error(c, 400);
			return;
		}
		h->busy = 1;
		if (rpc_call(c, method, params) == 1)
			control_hold(c);
		else if (control_http(c) != NULL)
			control_http(c)->busy = 0;
		free(method);
		json_decref(params);
		return;
	}
	if (http_observe(c, h, body))
		return;
	if (strcmp(h->method, "GET") != 0) {
		http_error(c, 405);
		return;
	}
	if (strncmp(h->target, "/logtail/", 9) == 0) {
		path = xstrdup(h->target + 9);
		if (http_unquote(path) == -1)
			http_error(c, 400);
		else
			http_logtail(c, h, path);
		free(path);
		return;
	}
	if (strcmp(h->target, "/mainlogtail") == 0) {
		http_mainlogtail(c, h);
		return;
	}
	http_error(c, 404);
}

/* Whole requests from IN, one at a time. */
void
http_read(struct conn *c, struct evbuffer *in)
{
	struct http_conn *h = control_http(c);
	struct evbuffer_ptr end;
	double limit = tendd_conf->client_timeout;
	char *head, *body;
	size_t len;
	int r;

	while (h != NULL && !h->busy && !h->streaming &&
	    evbuffer_get_length(in) > 0) {
		if (h->since == 0)
			h->since = util_now();
		if (!h->have_head) {
			end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
			if (end.pos == -1) {
				if (evbuffer_get_length(in) > HTTP_MAX_HEAD)
					http_error(c, 431);
				else if (limit > 0 && util_now() - h->since > limit)
					http_error(c, 408);
				return;
			}
			len = (size_t)end.pos + 4;
			if (len > HTTP_MAX_HEAD) {
				http_error(c, 431);
				return;
			}
			head = xmalloc(len + 1);
			evbuffer_remove(in, head, len);
			head[len] = '\0';
			r = http_parse_head(h, head, len);
			free(head);
			if (r != 0) {
				http_error(c, r);
				return;
			}
		}
		if (evbuffer_get_length(in) < h->body_len) {
			if (limit > 0 && util_now() - h->since > limit)
				http_error(c, 408);
			return;
		}
		body = xmalloc(h->body_len + 1);
		evbuffer_remove(in, body, h->body_len);
		body[h->body_len] = '\0';
		h->since = 0;
		http_route(c, h, body);
		free(body);
		h = control_http(c);
		if (h != NULL)
			http_request_free(h);
	}
	if (h != NULL && h->streaming)
		evbuffer_drain(in, evbuffer_get_length(in));
	else if (h != NULL && h->busy &&
	    evbuffer_get_length(in) > HTTP_MAX_HEAD + HTTP_MAX_BODY) {
		/* pipelining this much behind a call that waits: refused */
		log_info("control: closing an HTTP client (pid %ld) that sent "
		    "over %d bytes while waiting for a reply",
		    (long)control_peer_pid(c), HTTP_MAX_HEAD + HTTP_MAX_BODY);
		control_finish(c);
	}
}

/* The stream's end (its process went away): the last chunk, then close. */
void
http_stream_end(struct conn *c)
{
	struct http_conn *h = control_http(c);

	if (h != NULL && h->chunked)
		control_send_bytes(c, "0\r\n\r\n", 5);
	control_finish(c);
}

void
http_timeout(struct conn *c)
{
	struct http_conn *h = control_http(c);

	if (h != NULL && h->since != 0) {
		log_info("control: closing an HTTP client (pid %ld) whose "
		    "request took over %gs", (long)control_peer_pid(c),
		    tendd_conf->client_timeout);
		http_error(c, 408);
		return;
	}
	control_finish(c);
}

/* ------------------------------------------------------------------ */
/* [inet_http_server]                                                   */

int
http_host_is_loopback(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (strcmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (host[0] == '[' && strlen(host) > 2) {
		char *h6 = xstrndup(host + 1, strlen(host) - 2);
		int r = inet_pton(AF_INET6, h6, &a6) == 1 &&
		    IN6_IS_ADDR_LOOPBACK(&a6);

		free(h6);
		return r;
	}
	return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

static void
http_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	control_accept_inet(fd);
}

int
http_listen_inet(const char *hostport, char **cause)
{
	struct addrinfo hints, *ai = NULL;
	const char *colon = strrchr(hostport, ':');
	char *host;
	int r;

	host = colon != NULL ? xstrndup(hostport, colon - hostport) :
	    xstrdup("");
	if (host[0] == '[' && strlen(host) > 2) {
		char *h6 = xstrndup(host + 1, strlen(host) - 2);

		free(host);
		host = h6;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	r = getaddrinfo(*host == '\0' || strcmp(host, "*") == 0 ? NULL : host,
	    colon != NULL ? colon + 1 : hostport, &hints, &ai);
	if (r != 0) {
		xasprintf(cause, "[inet_http_server] port %s: %s", hostport,
		    gai_strerror(r));
		free(host);
		return -1;
	}
	http_listener = evconnlistener_new_bind(tendd_base, http_accept_cb,
	    NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
	    LEV_OPT_REUSEABLE, SOMAXCONN, ai->ai_addr, (int)ai->ai_addrlen);
	freeaddrinfo(ai);
	if (http_listener == NULL) {
		xasprintf(cause, "[inet_http_server] cannot listen on %s: %s",
		    hostport, strerror(errno));
		free(host);
		return -1;
	}
	xasprintf(&http_inet_url, "http://%s:%s", *host == '\0' ||
	    strcmp(host, "*") == 0 ? "127.0.0.1" : host,
	    colon != NULL ? colon + 1 : hostport);
	free(host);
	log_info("serving the XML-RPC interface on %s", hostport);
	return 0;
}

void
http_close(void)
{
	if (http_listener != NULL)
		evconnlistener_free(http_listener);
	http_listener = NULL;
	free(http_inet_url);
	http_inet_url = NULL;
	free(http_mainlog);
	http_mainlog = NULL;
	http_nmainlog = 0;
	page_close();
}

char *
http_server_url(void)
{
	char *url;

	/* the socket tendd always has; TCP may need a password */
	xasprintf(&url, "unix://%s", tendd_conf->socket);
	return url;
}
