/*
 * probe.c: readiness probes and health checks (spec §7). A probe is read
 * from `ready` or `healthcheck` (probe_spec_parse, at load); at run time
 * a probed process has one probe_run, made when it first needs one: the
 * ready probe while it is STARTING, the health check while it is
 * RUNNING, nothing otherwise (probe_state_changed(), told by state_set()).
 *
 * Nothing here blocks and nothing is polled: each run has one timer,
 * which is the wait before the next try or the deadline of the try under
 * way (probe_timeout), and each try waits on one descriptor (a TCP
 * connect, evhttp's connection, an exec probe's pidfd) or on the lines
 * of the process's own output (log:, fed by output.c). A try's outcome
 * is acted on from the timer, never from inside libevent's callbacks
 * (evhttp's request must not be freed from its own callback), and is
 * handed to the state machine as the events it already has: E_READY (as
 * READY=1) and, for failed health, E_WATCHDOG with the reason (stopped
 * as a crash, counted for the back-off).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/util.h>

#include "command.h"
#include "expand.h"
#include "tendd.h"

/* A line of output longer than this is matched by its start. */
#define PROBE_LINE_MAX		4096
/* What an HTTP probe reads at most: a health page, not a download. */
#define PROBE_HTTP_BODY_MAX	(1024 * 1024)
#define PROBE_HTTP_HEADERS_MAX	(64 * 1024)

struct probe_spec {
	enum probe_kind	 kind;
	char		*host;		/* tcp, http */
	int		 port;
	char		*path;		/* http: from the first '/' */
	char		*hosthdr;	/* http: the Host header */
	char		**argv;		/* exec */
	regex_t		 re;		/* log */
	int		 re_set;
};

enum probe_what {
	RUN_IDLE,
	RUN_READY,	/* the ready probe, while STARTING */
	RUN_HEALTH,	/* the health check, while RUNNING */
};

enum proc_health {
	HEALTH_UNKNOWN,
	HEALTH_HEALTHY,
	HEALTH_UNHEALTHY,
};

struct probe_run {
	struct proc	*p;
	enum probe_what	 what;
	struct event	*timer;		/* next try, or the try's deadline */
	int		 busy;		/* a try is under way */
	int		 done;		/* ... and has an outcome: ok, why */
	int		 ok;
	char		*why;
	/* tcp */
	int		 fd;
	struct event	*io;
	struct evdns_getaddrinfo_request *dns;
	/* http: the connection is kept between tries that succeed */
	struct evhttp_connection *evcon;
	int		 http_reused;	/* this try went on a kept connection */
	int		 http_noresp;	/* ... and got no response at all */
	/* exec */
	pid_t		 pid;
	int		 pidfd;
	struct event	*exitev;
	LIST_ENTRY(probe_run) execs;	/* while its child runs */
	/* log */
	char		*line[2];
	size_t		 len[2];
	/* what status says */
	char		*ready_error;	/* the last ready try's failure */
	enum proc_health health;
	int		 fails;		/* health checks failed in a row */
	char		*detail;
};

static LIST_HEAD(, probe_run) probe_execs = LIST_HEAD_INITIALIZER(probe_execs);
static struct evdns_base *probe_dns;

/* ------------------------------------------------------------------ */
/* Specs                                                                */

static const char probe_expected_ready[] = "expected none, notify, "
    "tcp:HOST:PORT, http://HOST[:PORT]/PATH, exec:COMMAND or log:REGEX";
static const char probe_expected_health[] = "expected none, "
    "tcp:HOST:PORT, http://HOST[:PORT]/PATH or exec:COMMAND";

void
probe_spec_free(struct probe_spec *sp)
{
	if (sp == NULL)
		return;
	free(sp->host);
	free(sp->path);
	free(sp->hosthdr);
	strv_free(sp->argv);
	if (sp->re_set)
		regfree(&sp->re);
	free(sp);
}

static int
probe_port(const char *s, size_t n)
{
	int port = 0;
	size_t i;

	if (n == 0 || n > 5)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		port = port * 10 + (s[i] - '0');
	}
	return port >= 1 && port <= 65535 ? port : -1;
}

/* Printable ASCII without blanks: what a host or a URL path may hold. */
static int
probe_plain(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/*
 * HOST:PORT (HOST may be [v6]) of S (N bytes) into SP. DEFPORT > 0: the
 * port may be left out. 0, or -1 with *why.
 */
static int
probe_hostport(struct probe_spec *sp, const char *s, size_t n, int defport,
    const char *form, char **why)
{
	const char *colon = NULL, *h = s;
	size_t hlen;

	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (close == NULL)
			goto bad;
		h = s + 1;
		hlen = (size_t)(close - h);
		if (close + 1 < s + n) {
			if (close[1] != ':')
				goto bad;
			colon = close + 1;
		}
	} else {
		colon = memrchr(s, ':', n);
		hlen = colon != NULL ? (size_t)(colon - s) : n;
	}
	if (hlen == 0 || hlen > 255 || !probe_plain(h, hlen) ||
	    memchr(h, '/', hlen) != NULL)
		goto bad;
	if (colon != NULL)
		sp->port = probe_port(colon + 1, (size_t)(s + n - colon - 1));
	else
		sp->port = defport;
	if (sp->port <= 0)
		goto bad;
	sp->host = xstrndup(h, hlen);
	return 0;
bad:
	xasprintf(why, "expected %s, got '%.*s'", form, (int)n, s);
	return -1;
}

static int
probe_parse_http(struct probe_spec *sp, const char *s, char **why)
{
	const char *auth = s + strlen("http://"), *slash = strchr(auth, '/');
	size_t alen = slash != NULL ? (size_t)(slash - auth) : strlen(auth);
	const char *path = slash != NULL ? slash : "/";

	if (probe_hostport(sp, auth, alen, 80, "http://HOST[:PORT]/PATH",
	    why) == -1)
		return -1;
	if (!probe_plain(path, strlen(path))) {
		xasprintf(why, "the path of %s has blanks or control "
		    "characters (write them as %%20 ...)", s);
		return -1;
	}
	sp->path = xstrdup(path);
	if (strchr(sp->host, ':') != NULL)
		xasprintf(&sp->hosthdr, "[%s]:%d", sp->host, sp->port);
	else if (sp->port != 80)
		xasprintf(&sp->hosthdr, "%s:%d", sp->host, sp->port);
	else
		sp->hosthdr = xstrdup(sp->host);
	return 0;
}

static int
probe_parse_log(struct probe_spec *sp, const char *re, char **why)
{
	char buf[256];
	int r;

	if (*re == '\0') {
		xasprintf(why, "log: needs a regular expression");
		return -1;
	}
	if ((r = regcomp(&sp->re, re, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(r, &sp->re, buf, sizeof(buf));
		xasprintf(why, "log: not a regular expression: %s", buf);
		return -1;
	}
	sp->re_set = 1;
	return 0;
}

/* The kind and its parser by prefix. */
static int
probe_parse_kind(struct probe_spec *sp, const char *s, int flags, char **why)
{
	char *cause;

	if (strncasecmp(s, "tcp:", 4) == 0) {
		sp->kind = PROBE_TCP;
		return probe_hostport(sp, s + 4, strlen(s + 4), 0,
		    "tcp:HOST:PORT", why);
	}
	if (strncasecmp(s, "http://", 7) == 0) {
		sp->kind = PROBE_HTTP;
		return probe_parse_http(sp, s, why);
	}
	if (strncasecmp(s, "exec:", 5) == 0) {
		sp->kind = PROBE_EXEC;
		if (expand_argv(s + 5, &sp->argv, &cause) == -1) {
			xasprintf(why, "exec: %s", cause);
			free(cause);
			return -1;
		}
		if (sp->argv == NULL || sp->argv[0] == NULL) {
			xasprintf(why, "exec: needs a command");
			return -1;
		}
		return 0;
	}
	if ((flags & PROBE_FOR_READY) && strncasecmp(s, "log:", 4) == 0) {
		sp->kind = PROBE_LOG;
		return probe_parse_log(sp, s + 4, why);
	}
	if (strncasecmp(s, "https://", 8) == 0)
		xasprintf(why, "https is not supported (probe the plain HTTP "
		    "port, or use exec: with a client), got '%s'", s);
	/* The words alone keep the message they always had. */
	else if ((flags & PROBE_FOR_READY) && strchr(s, ':') == NULL)
		xasprintf(why, "expected none or notify, got '%s'", s);
	else
		xasprintf(why, "%s, got '%s'", flags & PROBE_FOR_READY ?
		    probe_expected_ready : probe_expected_health, s);
	return -1;
}

int
probe_spec_parse(const char *s, int flags, enum probe_kind *kind,
    struct probe_spec **out, char **why)
{
	struct probe_spec *sp;

	*out = NULL;
	*kind = PROBE_NONE;
	if (strcasecmp(s, "none") == 0)
		return 0;
	if ((flags & PROBE_FOR_READY) && strcasecmp(s, "notify") == 0) {
		*kind = PROBE_NOTIFY;
		return 0;
	}
	sp = xcalloc(1, sizeof(*sp));
	if (probe_parse_kind(sp, s, flags, why) == -1) {
		probe_spec_free(sp);
		return -1;
	}
	*kind = sp->kind;
	*out = sp;
	return 0;
}

enum probe_kind
probe_spec_kind(const struct probe_spec *sp)
{
	return sp != NULL ? sp->kind : PROBE_NONE;
}

const char *
probe_spec_host(const struct probe_spec *sp)
{
	return sp->host;
}

int
probe_spec_port(const struct probe_spec *sp)
{
	return sp->port;
}

const char *
probe_spec_path(const struct probe_spec *sp)
{
	return sp->path;
}

char *const *
probe_spec_argv(const struct probe_spec *sp)
{
	return sp->argv;
}

int
probe_spec_matches(const struct probe_spec *sp, const char *line)
{
	return sp->re_set && regexec(&sp->re, line, 0, NULL, 0) == 0;
}

/* ------------------------------------------------------------------ */
/* A run: one per probed process                                        */

static void	 probe_timer_cb(int, short, void *);

static const struct probe_spec *
probe_spec_of(const struct probe_run *r)
{
	return r->what == RUN_READY ? r->p->pc->ready_probe :
	    r->what == RUN_HEALTH ? r->p->pc->health_probe : NULL;
}

static struct probe_run *
probe_get(struct proc *p)
{
	struct probe_run *r = p->probe;

	if (r != NULL)
		return r;
	r = xcalloc(1, sizeof(*r));
	r->p = p;
	r->fd = -1;
	r->pidfd = -1;
	if ((r->timer = evtimer_new(tendd_base, probe_timer_cb, r)) == NULL)
		fatal("cannot create a timer");
	p->probe = r;
	return r;
}

static void
probe_arm(struct probe_run *r, double secs)
{
	struct timeval tv = util_timeval(secs);

	evtimer_add(r->timer, &tv);
}

/*
 * The wait before the next check: on a grid of PROBE_GRID seconds when
 * the interval is long enough for that not to matter, so that the checks
 * of many processes share the loop's wake-ups (a thousand checks a
 * second then wake tendd 40 times, not a thousand).
 */
#define PROBE_GRID	0.025
static void
probe_arm_interval(struct probe_run *r, double secs)
{
	double due;

	if (secs >= 1.0) {
		due = util_now() + secs;
		secs += ceil(due / PROBE_GRID) * PROBE_GRID - due;
	}
	probe_arm(r, secs);
}

/* The try under way has an outcome: acted on from the timer, at once. */
static void
probe_finish(struct probe_run *r, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
probe_finish(struct probe_run *r, int ok, const char *fmt, ...)
{
	va_list ap;

	if (!r->busy || r->done)
		return;
	r->done = 1;
	r->ok = ok;
	free(r->why);
	r->why = NULL;
	if (fmt != NULL) {
		va_start(ap, fmt);
		xvasprintf(&r->why, fmt, ap);
		va_end(ap);
	}
	evtimer_del(r->timer);
	event_active(r->timer, EV_TIMEOUT, 1);
}

/* An exec probe's child is done with: killed if still there. */
static void
probe_exec_drop(struct probe_run *r)
{
	if (r->pid <= 0)
		return;
	/* Not reaped yet: the pid (its session's id too) is still its. */
	kill(-r->pid, SIGKILL);
	kill(r->pid, SIGKILL);
	LIST_REMOVE(r, execs);
	r->pid = 0;
	if (r->exitev != NULL) {
		event_free(r->exitev);
		r->exitev = NULL;
	}
	if (r->pidfd != -1) {
		close(r->pidfd);
		r->pidfd = -1;
	}
	/* the zombie is collected by reap.c's sweep, as not ours */
	reap_sigchld();
}

/*
 * Whatever the try under way holds goes; with KEEP_HTTP, an HTTP
 * connection that just answered stays for the next try (no connect, no
 * accept each time: most of what an HTTP check costs). Not busy first:
 * freeing evhttp's connection may call its callbacks, which must find
 * nothing to finish.
 */
static void
probe_settle(struct probe_run *r, int keep_http)
{
	r->busy = 0;
	if (r->io != NULL) {
		event_free(r->io);
		r->io = NULL;
	}
	if (r->fd != -1) {
		close(r->fd);
		r->fd = -1;
	}
	if (r->dns != NULL) {
		/* its callback runs now, with EVUTIL_EAI_CANCEL: ignored */
		evdns_getaddrinfo_cancel(r->dns);
		r->dns = NULL;
	}
	if (r->evcon != NULL && !keep_http) {
		evhttp_connection_free(r->evcon);
		r->evcon = NULL;
	}
	probe_exec_drop(r);
	evtimer_del(r->timer);
	r->done = 0;
	r->len[0] = r->len[1] = 0;
}

static void
probe_cancel(struct probe_run *r)
{
	probe_settle(r, 0);
}

static void
probe_stop(struct probe_run *r)
{
	probe_cancel(r);
	evtimer_del(r->timer);
	r->what = RUN_IDLE;
}

/* ---- tcp: a connect */

static void
probe_tcp_io_cb(int fd, short ev, void *arg)
{
	struct probe_run *r = arg;
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == 0)
		probe_finish(r, 1, NULL);
	else
		probe_finish(r, 0, "tcp %s:%d: %s", probe_spec_of(r)->host,
		    probe_spec_of(r)->port, strerror(err));
}

static void
probe_tcp_connect(struct probe_run *r, const struct sockaddr *sa,
    socklen_t salen)
{
	const struct probe_spec *sp = probe_spec_of(r);

	r->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (r->fd == -1) {
		probe_finish(r, 0, "tcp %s:%d: cannot make a socket: %s",
		    sp->host, sp->port, strerror(errno));
		return;
	}
	if (connect(r->fd, sa, salen) == 0) {
		probe_finish(r, 1, NULL);
		return;
	}
	if (errno != EINPROGRESS) {
		probe_finish(r, 0, "tcp %s:%d: %s", sp->host, sp->port,
		    strerror(errno));
		return;
	}
	r->io = event_new(tendd_base, r->fd, EV_WRITE, probe_tcp_io_cb, r);
	if (r->io == NULL || event_add(r->io, NULL) == -1)
		probe_finish(r, 0, "tcp %s:%d: cannot watch the socket",
		    sp->host, sp->port);
}

static void
probe_dns_cb(int result, struct evutil_addrinfo *ai, void *arg)
{
	struct probe_run *r = arg;

	if (result == EVUTIL_EAI_CANCEL)
		return;		/* R may be gone */
	r->dns = NULL;
	if (result != 0 || ai == NULL) {
		probe_finish(r, 0, "tcp %s: cannot resolve: %s",
		    probe_spec_of(r)->host, evutil_gai_strerror(result));
		if (ai != NULL)
			evutil_freeaddrinfo(ai);
		return;
	}
	probe_tcp_connect(r, ai->ai_addr, (socklen_t)ai->ai_addrlen);
	evutil_freeaddrinfo(ai);
}

/* The resolver, made when a host first needs one (a name, not a number). */
static struct evdns_base *
probe_dns_base(void)
{
	if (probe_dns == NULL)
		probe_dns = evdns_base_new(tendd_base,
		    EVDNS_BASE_INITIALIZE_NAMESERVERS);
	return probe_dns;
}

static int
probe_is_numeric(const char *host)
{
	struct evutil_addrinfo hints, *ai = NULL;
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = EVUTIL_AI_NUMERICHOST;
	hints.ai_socktype = SOCK_STREAM;
	r = evutil_getaddrinfo(host, "1", &hints, &ai);
	if (ai != NULL)
		evutil_freeaddrinfo(ai);
	return r == 0;
}

static void
probe_try_tcp(struct probe_run *r, const struct probe_spec *sp)
{
	struct evutil_addrinfo hints, *ai = NULL;
	struct evdns_getaddrinfo_request *req;
	struct evdns_base *dns;
	char port[8];

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", sp->port);
	/* A number needs no resolver, and no wait. */
	hints.ai_flags = EVUTIL_AI_NUMERICHOST;
	if (evutil_getaddrinfo(sp->host, port, &hints, &ai) == 0 &&
	    ai != NULL) {
		probe_tcp_connect(r, ai->ai_addr, (socklen_t)ai->ai_addrlen);
		evutil_freeaddrinfo(ai);
		return;
	}
	hints.ai_flags = 0;
	if ((dns = probe_dns_base()) == NULL) {
		probe_finish(r, 0, "tcp %s: no resolver", sp->host);
		return;
	}
	/* may answer at once (/etc/hosts), then NULL */
	req = evdns_getaddrinfo(dns, sp->host, port, &hints, probe_dns_cb, r);
	r->dns = req;
}

/* ---- http: evhttp's client */

static void
probe_http_done_cb(struct evhttp_request *req, void *arg)
{
	struct probe_run *r = arg;
	int code = req != NULL ? evhttp_request_get_response_code(req) : 0;

	if (code >= 200 && code < 400)
		probe_finish(r, 1, NULL);
	else if (code > 0)
		probe_finish(r, 0, "HTTP %d", code);
	else {
		r->http_noresp = 1;
		probe_finish(r, 0, "HTTP: no response (connection refused, "
		    "closed or broken)");
	}
}

static void
probe_http_error_cb(enum evhttp_request_error err, void *arg)
{
	struct probe_run *r = arg;

	switch (err) {
	case EVREQ_HTTP_TIMEOUT:
		probe_finish(r, 0, "HTTP: timed out");
		break;
	case EVREQ_HTTP_INVALID_HEADER:
		probe_finish(r, 0, "HTTP: not a valid HTTP response");
		break;
	case EVREQ_HTTP_DATA_TOO_LONG:
		probe_finish(r, 0, "HTTP: response too long");
		break;
	case EVREQ_HTTP_REQUEST_CANCEL:
		break;
	default:
		r->http_noresp = 1;
		probe_finish(r, 0, "HTTP: no response (connection refused, "
		    "closed or broken)");
		break;
	}
}

static void
probe_try_http(struct probe_run *r, const struct probe_spec *sp)
{
	struct evhttp_request *req;
	struct bufferevent *bev;
	struct evdns_base *dns = NULL;
	int fd;

	r->http_reused = r->evcon != NULL;
	r->http_noresp = 0;
	if (r->evcon == NULL) {
		if (!probe_is_numeric(sp->host) &&
		    (dns = probe_dns_base()) == NULL) {
			probe_finish(r, 0, "HTTP %s: no resolver", sp->host);
			return;
		}
		r->evcon = evhttp_connection_base_new(tendd_base, dns,
		    sp->host, (unsigned short)sp->port);
		if (r->evcon == NULL) {
			probe_finish(r, 0, "HTTP: out of memory");
			return;
		}
		evhttp_connection_set_timeout(r->evcon,
		    (int)(r->p->pc->probe_timeout + 1));
		evhttp_connection_set_retries(r->evcon, 0);
		evhttp_connection_set_max_body_size(r->evcon,
		    PROBE_HTTP_BODY_MAX);
		evhttp_connection_set_max_headers_size(r->evcon,
		    PROBE_HTTP_HEADERS_MAX);
	}
	if ((req = evhttp_request_new(probe_http_done_cb, r)) == NULL) {
		probe_finish(r, 0, "HTTP: out of memory");
		return;
	}
	evhttp_request_set_error_cb(req, probe_http_error_cb);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host",
	    sp->hosthdr);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "User-Agent", "tend-probe");
	if (evhttp_make_request(r->evcon, req, EVHTTP_REQ_GET,
	    sp->path) == -1) {
		/* evhttp has freed the request */
		probe_finish(r, 0, "HTTP: cannot send the request");
		return;
	}
	/* libevent makes its socket without CLOEXEC: set before any spawn */
	bev = evhttp_connection_get_bufferevent(r->evcon);
	if (bev != NULL && (fd = bufferevent_getfd(bev)) >= 0)
		util_set_cloexec(fd);
}

/* ---- exec: a child of tendd's, reaped through its pidfd */

static void
probe_exec_ended(struct probe_run *r, int status)
{
	int code = util_exitcode(status);
	char how[64];

	LIST_REMOVE(r, execs);
	r->pid = 0;
	if (r->exitev != NULL) {
		event_free(r->exitev);
		r->exitev = NULL;
	}
	if (r->pidfd != -1) {
		close(r->pidfd);
		r->pidfd = -1;
	}
	if (code == 0) {
		probe_finish(r, 1, NULL);
		return;
	}
	state_format_exit(how, sizeof(how), code);
	probe_finish(r, 0, "%s %s", probe_spec_of(r)->argv[0], how);
}

static void
probe_exec_cb(int fd, short ev, void *arg)
{
	struct probe_run *r = arg;
	int status;

	switch (reap_helper(fd, r->pid, &status)) {
	case -1:
		/* not waitable (cannot be): reap.c's sweep finds its end */
		return;
	case 0:
		event_add(r->exitev, NULL);	/* look again */
		return;
	}
	probe_exec_ended(r, status);
}

int
probe_reap_pid(pid_t pid)
{
	struct probe_run *r;
	int status;

	LIST_FOREACH(r, &probe_execs, execs) {
		if (r->pid != pid)
			continue;
		if (waitpid(pid, &status, WNOHANG) != pid)
			return 0;
		probe_exec_ended(r, status);
		return 1;
	}
	return 0;
}

static void
probe_try_exec(struct probe_run *r, const struct probe_spec *sp)
{
	char *cause = NULL;

	if (spawn_command(r->p, sp->argv, &r->pid, &r->pidfd, &cause) != 0) {
		probe_finish(r, 0, "%s", cause);
		free(cause);
		return;
	}
	LIST_INSERT_HEAD(&probe_execs, r, execs);
	if (r->pidfd == -1)
		return;		/* the sweep finds its end */
	r->exitev = event_new(tendd_base, r->pidfd, EV_READ, probe_exec_cb, r);
	if (r->exitev != NULL)
		event_add(r->exitev, NULL);
}

/* ---- log: a line of its output (output.c feeds it) */

static void
probe_log_line(struct probe_run *r, int s)
{
	const struct probe_spec *sp = probe_spec_of(r);

	r->line[s][r->len[s]] = '\0';
	r->len[s] = 0;
	if (sp != NULL && probe_spec_matches(sp, r->line[s]))
		probe_finish(r, 1, NULL);
}

void
probe_output(struct proc *p, int stream, const char *a, size_t alen,
    const char *b, size_t blen)
{
	struct probe_run *r = p->probe;
	const char *piece[2] = { a, b }, *s, *nl;
	size_t plen[2] = { alen, blen }, n, take;
	int i;

	if (r == NULL || r->what != RUN_READY || !r->busy || r->done ||
	    probe_spec_kind(p->pc->ready_probe) != PROBE_LOG ||
	    stream < 0 || stream > 1)
		return;
	if (r->line[stream] == NULL)
		r->line[stream] = xmalloc(PROBE_LINE_MAX + 1);
	for (i = 0; i < 2 && !r->done; i++) {
		s = piece[i];
		n = plen[i];
		while (n > 0 && !r->done) {
			nl = memchr(s, '\n', n);
			take = nl != NULL ? (size_t)(nl - s) : n;
			/* a long line is matched by its start */
			if (take > PROBE_LINE_MAX - r->len[stream])
				take = PROBE_LINE_MAX - r->len[stream];
			memcpy(r->line[stream] + r->len[stream], s, take);
			r->len[stream] += take;
			if (nl == NULL) {
				n = 0;
				break;
			}
			probe_log_line(r, stream);
			n -= (size_t)(nl - s) + 1;
			s = nl + 1;
		}
	}
}

/* ---- tries and their outcomes */

static void
probe_try(struct probe_run *r)
{
	const struct probe_spec *sp = probe_spec_of(r);

	if (sp == NULL) {
		probe_stop(r);
		return;
	}
	r->busy = 1;
	r->done = 0;
	/* log: waits for lines, bounded by ready_timeout alone */
	if (sp->kind != PROBE_LOG)
		probe_arm(r, r->p->pc->probe_timeout);
	switch (sp->kind) {
	case PROBE_TCP:
		probe_try_tcp(r, sp);
		break;
	case PROBE_HTTP:
		probe_try_http(r, sp);
		break;
	case PROBE_EXEC:
		probe_try_exec(r, sp);
		break;
	case PROBE_LOG:
		free(r->ready_error);
		r->ready_error = NULL;
		xasprintf(&r->ready_error, "no line of its output matched "
		    "%s", r->p->pc->ready_spec);
		break;
	default:
		probe_stop(r);
		break;
	}
}

static const char *const probe_health_names[] = {
	[HEALTH_UNKNOWN] = "unknown",
	[HEALTH_HEALTHY] = "healthy",
	[HEALTH_UNHEALTHY] = "unhealthy",
};

static void
probe_set_health(struct probe_run *r, enum proc_health h, const char *why)
{
	enum proc_health old = r->health;

	r->health = h;
	free(r->detail);
	r->detail = why != NULL ? xstrdup(why) : NULL;
	if (old != h || h == HEALTH_UNHEALTHY) {
		if (old != h)
			log_info("%s: %s%s%s", r->p->display,
			    probe_health_names[h], why ? ": " : "",
			    why ? why : "");
		events_health_changed(r->p);
	}
}

static void
probe_ready_outcome(struct probe_run *r, int ok, const char *why)
{
	struct state_arg arg;
	char *what;

	if (ok) {
		probe_stop(r);
		memset(&arg, 0, sizeof(arg));
		xasprintf(&what, "ready: %s", r->p->pc->ready_spec);
		arg.why = what;
		state_event(r->p, E_READY, &arg);
		free(what);
		return;
	}
	free(r->ready_error);
	r->ready_error = xstrdup(why ? why : "failed");
	log_debug("%s: not ready yet: %s", r->p->display, r->ready_error);
	probe_arm_interval(r, r->p->pc->ready_interval);
}

static void
probe_health_outcome(struct probe_run *r, int ok, const char *why)
{
	const struct program_conf *pc = r->p->pc;
	struct state_arg arg;
	char *what;

	if (ok) {
		r->fails = 0;
		if (r->health != HEALTH_HEALTHY)
			probe_set_health(r, HEALTH_HEALTHY, NULL);
		probe_arm_interval(r, pc->healthcheck_interval);
		return;
	}
	r->fails++;
	probe_set_health(r, HEALTH_UNHEALTHY, why ? why : "failed");
	if (r->fails < pc->healthcheck_retries) {
		probe_arm_interval(r, pc->healthcheck_interval);
		return;
	}
	/* restarted as a crash (state.c's watchdog action, with the reason) */
	probe_stop(r);
	memset(&arg, 0, sizeof(arg));
	xasprintf(&what, "health check failed: %s", why ? why : "failed");
	arg.why = what;
	state_event(r->p, E_WATCHDOG, &arg);
	free(what);
}

static void
probe_timer_cb(int fd, short ev, void *arg)
{
	struct probe_run *r = arg;
	char *why = NULL;
	int ok;

	if (!r->busy) {
		probe_try(r);
		return;
	}
	if (!r->done) {
		/* the deadline: whatever hangs is dropped */
		probe_cancel(r);
		ok = 0;
		xasprintf(&why, "timed out after probe_timeout=%gs",
		    r->p->pc->probe_timeout);
	} else if (!r->ok && r->http_reused && r->http_noresp) {
		/* the kept connection was closed under it: once more, afresh */
		probe_cancel(r);
		r->busy = 1;
		probe_arm(r, r->p->pc->probe_timeout);
		probe_try_http(r, probe_spec_of(r));
		return;
	} else {
		ok = r->ok;
		why = r->why;
		r->why = NULL;
		probe_settle(r, ok);
	}
	if (r->what == RUN_READY)
		probe_ready_outcome(r, ok, why);
	else if (r->what == RUN_HEALTH)
		probe_health_outcome(r, ok, why);
	free(why);
}

/* ------------------------------------------------------------------ */
/* What the state machine tells                                         */

void
probe_state_changed(struct proc *p, enum proc_state old)
{
	const struct program_conf *pc = p->pc;
	struct probe_run *r = p->probe;

	if (p->state == PROC_STARTING && pc->ready == READY_PROBE &&
	    pc->ready_probe != NULL) {
		r = probe_get(p);
		if (r->what == RUN_READY)
			return;
		probe_stop(r);
		r->what = RUN_READY;
		free(r->ready_error);
		r->ready_error = NULL;
		if (pc->ready_probe->kind == PROBE_LOG)
			probe_try(r);	/* waits for lines from now on */
		else
			probe_arm(r, 0);
	} else if (p->state == PROC_RUNNING && pc->health_probe != NULL) {
		r = probe_get(p);
		if (r->what == RUN_HEALTH)
			return;
		probe_stop(r);
		r->what = RUN_HEALTH;
		r->fails = 0;
		if (r->health != HEALTH_UNKNOWN)
			probe_set_health(r, HEALTH_UNKNOWN, NULL);
		probe_arm_interval(r, pc->healthcheck_interval);
	} else if (r != NULL) {
		probe_stop(r);
		r->fails = 0;
		if (r->health != HEALTH_UNKNOWN)
			probe_set_health(r, HEALTH_UNKNOWN, NULL);
	}
	(void)old;
}

void
probe_free(struct proc *p)
{
	struct probe_run *r = p->probe;

	if (r == NULL)
		return;
	probe_stop(r);
	event_free(r->timer);
	free(r->line[0]);
	free(r->line[1]);
	free(r->why);
	free(r->ready_error);
	free(r->detail);
	free(r);
	p->probe = NULL;
}

void
probe_close(void)
{
	if (probe_dns != NULL) {
		evdns_base_free(probe_dns, 0);
		probe_dns = NULL;
	}
}

const char *
probe_ready_error(const struct proc *p)
{
	return p->probe != NULL ? p->probe->ready_error : NULL;
}

const char *
probe_health_name(const struct proc *p)
{
	if (p->pc->health_probe == NULL)
		return NULL;
	return probe_health_names[p->probe != NULL ? p->probe->health :
	    HEALTH_UNKNOWN];
}

const char *
probe_health_detail(const struct proc *p)
{
	return p->pc->health_probe != NULL && p->probe != NULL ?
	    p->probe->detail : NULL;
}

int
probe_health_failures(const struct proc *p)
{
	return p->probe != NULL ? p->probe->fails : 0;
}

void
probe_describe_health(const struct proc *p, char *buf, size_t len)
{
	const struct probe_run *r = p->probe;

	if (r == NULL || p->pc->health_probe == NULL ||
	    r->health != HEALTH_UNHEALTHY) {
		buf[0] = '\0';
		return;
	}
	snprintf(buf, len, ", unhealthy (%d of %d: %s)", r->fails,
	    p->pc->healthcheck_retries, r->detail ? r->detail : "failed");
}
