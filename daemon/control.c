/*
 * control.c: the control socket and its connections. Creates the socket
 * safely (umask before bind, a lock file against a second tendd, stale
 * sockets replaced, live ones refused), accepts with an EMFILE back-off,
 * checks each peer with SO_PEERCRED, frames newline-delimited requests
 * with a 1 MiB limit, bounds what it queues for a slow reader, times out
 * idle clients, and caps connections so that they can never take the
 * descriptors children and log files need. A socket passed by systemd
 * (socket activation) is taken as it is. The first byte of a connection
 * says what it speaks: an HTTP request line (supervisord's XML-RPC
 * interface, http.c), anything else tendctl's JSON lines; [inet_http_server]'s TCP connections are HTTP only.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>

#include "command.h"
#include "tendd.h"

/* A reader this far behind is stuck: drop it rather than grow. */
/* The longest first line that may be an HTTP request line. */
#define CONTROL_SNIFF_MAX	8192
#define CONTROL_MAX_OUTPUT	TEND_MAX_REPLY
/* A stream subscriber (events) lagging this far is dropped sooner. */
#define CONTROL_MAX_STREAM	(1024 * 1024)
#define CONTROL_MAX_CONNS	4096
#define CONTROL_MIN_CONNS	8
/*
 * Descriptors connections never take: tendd's own (log, lock, listener,
 * event loop, spawn pipes) and its processes' (config_proc_fds: pidfds,
 * output pipes, log files).
 */
#define CONTROL_FD_RESERVE	TENDD_FDS_OWN
/* A client that stops reading its replies for this long is dropped. */
#define CONTROL_WRITE_TIMEOUT	30

struct conn {
	TAILQ_ENTRY(conn) entry;
	struct bufferevent *bev;
	uid_t		 uid;
	gid_t		 gid;
	pid_t		 pid;
	int		 closing;	/* close once the output is written */
	int		 busy;		/* inside one of its callbacks */
	int		 dead;		/* free when the callback returns */
	int		 held;		/* waits legitimately: no idle timeout */
	size_t		 max_output;	/* queued beyond this: dropped */
	double		 partial_since;	/* monotonic: a request line began */
	int		 sniffed;	/* its first byte said JSON or HTTP */
	int		 inet;		/* [inet_http_server]: TCP, no peer creds */
	struct http_conn *http;		/* HTTP: http.c's state; NULL: JSON */
};
static TAILQ_HEAD(, conn) conns = TAILQ_HEAD_INITIALIZER(conns);
static int		 nconns;

static struct evconnlistener *control_listener;
static struct event	*control_retry;	/* re-enables accept after EMFILE */
static char		*control_path;	/* what we bound, to unlink at exit */
static char		*control_lockpath;
static int		 control_lockfd = -1;
static gid_t		 control_gid;	/* the socket's group */
static struct event	*control_sweep;	/* frees dropped connections */
static int		 control_spare = -1; /* given up to shed on EMFILE */
static rlim_t		 control_nofile; /* tendd's descriptor limit */

static void	 control_free(struct conn *);

/*
 * root, tendd's own user, and members of the socket's group (spec §5),
 * supplementary groups included: the peer's own, as the kernel saw them
 * at connect (SO_PEERGROUPS), else the group database's.
 */
static int
control_peer_allowed(int fd, uid_t uid, gid_t gid)
{
	struct passwd *pw;
	gid_t buf[64], *groups = buf;
	socklen_t len = sizeof(buf);
	int n, i, r, ok = 0;

	if (uid == 0 || uid == geteuid())
		return 1;
	if (gid == control_gid)
		return 1;
	r = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len);
	if (r == -1 && errno == ERANGE) {
		groups = xmalloc(len);
		r = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len);
	}
	if (r == 0) {
		n = (int)(len / sizeof(gid_t));
		for (i = 0; i < n; i++)
			if (groups[i] == control_gid)
				ok = 1;
	}
	if (groups != buf)
		free(groups);
	if (r == 0)
		return ok;
	/* A kernel before 4.13: what the group database says of the user. */
	if ((pw = getpwuid(uid)) == NULL)
		return 0;
	n = (int)nitems(buf);
	if (getgrouplist(pw->pw_name, pw->pw_gid, buf, &n) == -1)
		n = (int)nitems(buf);
	for (i = 0; i < n; i++)
		if (buf[i] == control_gid)
			return 1;
	return 0;
}

/*
 * How many connections tendd takes: never so many that children and log
 * files run out of descriptors, whatever clients do.
 */
static int
control_max_conns(void)
{
	long room;

	if (control_nofile == RLIM_INFINITY || control_nofile > (rlim_t)LONG_MAX / 2)
		return CONTROL_MAX_CONNS;
	room = (long)control_nofile - CONTROL_FD_RESERVE - tendd_conf->proc_fds;
	if (room > CONTROL_MAX_CONNS)
		return CONTROL_MAX_CONNS;
	return room < CONTROL_MIN_CONNS ? CONTROL_MIN_CONNS : (int)room;
}

/* The idle timeout as a libevent common timeout: one queue for all. */
static const struct timeval *
control_idle_tv(void)
{
	static struct timeval tv;
	static double cached = -1;
	const struct timeval *common;
	double secs = tendd_conf->client_timeout;

	if (secs <= 0)
		return NULL;
	if (secs != cached) {
		tv = util_timeval(secs);
		common = event_base_init_common_timeout(tendd_base, &tv);
		if (common != NULL)
			tv = *common;
		cached = tendd_conf->client_timeout;
	}
	return &tv;
}

static const struct timeval *
control_write_tv(void)
{
	static struct timeval tv;
	static int done;
	const struct timeval *common;

	if (!done) {
		tv = util_timeval(CONTROL_WRITE_TIMEOUT);
		common = event_base_init_common_timeout(tendd_base, &tv);
		if (common != NULL)
			tv = *common;
		done = 1;
	}
	return &tv;
}

static void
control_check_dead(struct conn *c)
{
	if (c->dead && !c->busy)
		control_free(c);
}

static void
control_free(struct conn *c)
{
	if (c->busy) {
		c->dead = 1;
		return;
	}
	command_conn_gone(c);
	if (c->http != NULL)
		http_conn_gone(c);
	TAILQ_REMOVE(&conns, c, entry);
	nconns--;
	bufferevent_free(c->bev);
	free(c);
}

/*
 * Drops C from inside any callback: it is marked dead and silenced now,
 * and freed by the sweep, so no list that is being walked (waiters,
 * subscribers) loses an element under its walker.
 */
static void
control_drop(struct conn *c)
{
	static const struct timeval now = { 0, 0 };

	if (c->dead)
		return;
	c->dead = 1;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	evtimer_add(control_sweep, &now);
}

static void
control_sweep_cb(int fd, short ev, void *arg)
{
	struct conn *c, *next;

	for (c = TAILQ_FIRST(&conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->dead && !c->busy)
			control_free(c);
	}
}

static void
control_reply_error(struct conn *c, const char *code, const char *msg)
{
	reply_send(c, reply_failed(json_null(), code, msg, NULL, NULL));
}

/*
 * A request line must be whole within client_timeout of its first byte:
 * a client trickling bytes cannot hold a connection forever.
 */
static void
control_check_partial(struct conn *c)
{
	double limit = tendd_conf->client_timeout, now = util_now();
	char msg[128];

	if (evbuffer_get_length(bufferevent_get_input(c->bev)) == 0) {
		c->partial_since = 0;
		return;
	}
	if (c->partial_since == 0) {
		c->partial_since = now;
		return;
	}
	if (limit > 0 && now - c->partial_since >= limit) {
		log_info("control: closing a client (pid %ld) whose request "
		    "took over %gs", (long)c->pid, limit);
		snprintf(msg, sizeof(msg), "request line not finished within "
		    "%gs", limit);
		control_reply_error(c, TEND_ERR_BAD_REQUEST, msg);
		control_finish(c);
	}
}

/*
 * What a connection on the Unix socket speaks, from its first line: an
 * HTTP request line ("POST /RPC2 HTTP/1.1") is supervisord's interface
 * (http.c), anything else tendctl's JSON lines, where a line of garbage
 * gets its bad_request as it always did. 1 HTTP, 0 JSON, -1 not known
 * until the first line ends.
 */
static int
control_sniff(struct evbuffer *in, unsigned char first)
{
	char head[CONTROL_SNIFF_MAX + 1];
	struct evbuffer_ptr eol;
	size_t n, i;

	if (first < 'A' || first > 'Z')
		return 0;
	eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
	if (eol.pos == -1)
		return evbuffer_get_length(in) > CONTROL_SNIFF_MAX ? 0 : -1;
	if ((size_t)eol.pos > CONTROL_SNIFF_MAX)
		return 0;
	n = evbuffer_copyout(in, head, (size_t)eol.pos);
	if (n > 0 && head[n - 1] == '\r')
		n--;
	head[n] = '\0';
	/* METHOD SP TARGET SP HTTP/D.D, the method upper-case letters */
	for (i = 0; head[i] >= 'A' && head[i] <= 'Z'; i++)
		;
	if (i == 0 || i > 16 || head[i] != ' ' || head[i + 1] == ' ' ||
	    head[i + 1] == '\0')
		return 0;
	for (i++; head[i] != '\0' && head[i] != ' '; i++)
		;
	if (head[i] != ' ' || n - (i + 1) != 8)
		return 0;
	return strncmp(head + i + 1, "HTTP/", 5) == 0 &&
	    head[i + 6] >= '0' && head[i + 6] <= '9' && head[i + 7] == '.' &&
	    head[i + 8] >= '0' && head[i + 8] <= '9';
}

static void
control_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr eol;
	size_t len;
	char *line;
	unsigned char first;

	c->busy = 1;
	if (!c->sniffed && evbuffer_copyout(in, &first, 1) == 1) {
		switch (c->inet ? 1 : control_sniff(in, first)) {
		case -1:
			/* a request line still coming: wait for its end */
			c->busy = 0;
			return;
		case 1:
			c->http = http_conn_new(c, c->inet);
			break;
		}
		c->sniffed = 1;
	}
	if (c->http != NULL) {
		if (!c->dead && !c->closing)
			http_read(c, in);
		c->busy = 0;
		control_check_dead(c);
		return;
	}
	while (!c->dead && !c->closing) {
		eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
		if (eol.pos == -1) {
			if (evbuffer_get_length(in) > TEND_MAX_LINE) {
				control_reply_error(c, TEND_ERR_TOO_LONG,
				    "request line over 1 MiB");
				control_finish(c);
				break;
			}
			control_check_partial(c);
			break;
		}
		c->partial_since = 0;
		len = (size_t)eol.pos;
		if (len > TEND_MAX_LINE) {
			control_reply_error(c, TEND_ERR_TOO_LONG,
			    "request line over 1 MiB");
			control_finish(c);
			break;
		}
		/* up to 1 MiB a client chose: no memory costs it, not us */
		if ((line = malloc(len + 1)) == NULL) {
			control_unbuilt(c, "a request line");
			break;
		}
		evbuffer_remove(in, line, len);
		evbuffer_drain(in, 1);
		line[len] = '\0';
		command_dispatch(c, line, len);
		free(line);
	}
	c->busy = 0;
	control_check_dead(c);
}

static void
control_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->closing &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		control_free(c);
}

static void
control_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if (what & BEV_EVENT_EOF) {
		/* The client is gone or done asking: forget what it waits for. */
		command_conn_gone(c);
		control_finish(c);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING)) {
		/* Quiet, but waiting for a reply or a stream: fine. */
		if (c->held || command_conn_waiting(c)) {
			bufferevent_enable(bev, EV_READ);
			return;
		}
		c->busy = 1;
		if (c->http != NULL)
			http_timeout(c);
		else if (evbuffer_get_length(bufferevent_get_input(bev)) > 0) {
			/* the line deadline has passed too: say so */
			c->partial_since = util_now() -
			    tendd_conf->client_timeout;
			control_check_partial(c);
		} else {
			log_debug("control: closing an idle client (pid %ld)",
			    (long)c->pid);
			control_finish(c);
		}
		c->busy = 0;
		control_check_dead(c);
		return;
	}
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		if (what & BEV_EVENT_TIMEOUT)
			log_warn("control: dropping a client (pid %ld) that "
			    "does not read its replies", (long)c->pid);
		control_free(c);
	}
}

/*
 * C's output, or NULL when C is gone or its reader holds more than it
 * may (then C is dropped): the one bound on what a slow reader holds.
 */
static struct evbuffer *
control_output(struct conn *c)
{
	struct evbuffer *out;

	if (c->dead)
		return NULL;
	out = bufferevent_get_output(c->bev);
	if (evbuffer_get_length(out) > c->max_output) {
		log_warn("control: dropping a client (pid %ld) with %zu bytes "
		    "unread", (long)c->pid, evbuffer_get_length(out));
		control_drop(c);
		return NULL;
	}
	return out;
}

void
control_send_line(struct conn *c, const char *line, size_t len)
{
	struct evbuffer *out;

	if ((out = control_output(c)) == NULL)
		return;
	evbuffer_add(out, line, len);
	evbuffer_add(out, "\n", 1);
}

/* Raw bytes (HTTP): the same bound. */
void
control_send_bytes(struct conn *c, const void *data, size_t len)
{
	struct evbuffer *out;

	if ((out = control_output(c)) != NULL)
		evbuffer_add(out, data, len);
}

struct http_conn *
control_http(struct conn *c)
{
	return c->http;
}

void
control_set_http(struct conn *c, struct http_conn *h)
{
	c->http = h;
}

pid_t
control_peer_pid(struct conn *c)
{
	return c->pid;
}

/* A held connection is an ordinary one again: idle timeout, more input. */
void
control_unhold(struct conn *c)
{
	c->held = 0;
	if (c->dead)
		return;
	bufferevent_set_timeouts(c->bev, control_idle_tv(), control_write_tv());
	/* what it sent meanwhile (pipelined requests), from the loop */
	bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS |
	    BEV_TRIG_DEFER_CALLBACKS);
}

void
control_unbuilt(struct conn *c, const char *what)
{
	if (c->dead)
		return;
	log_warn("control: no memory for %s of a client (pid %ld); dropping "
	    "that client", what, (long)c->pid);
	control_drop(c);
}

/*
 * Every string in J came through protocol_string() or was proven UTF-8,
 * so only a lack of memory fails here: that costs C, never tendd.
 */
void
control_send(struct conn *c, json_t *j)
{
	char *s;

	if (c->dead) {
		json_decref(j);
		return;
	}
	s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (s == NULL) {
		control_unbuilt(c, "a reply");
		return;
	}
	control_send_line(c, s, strlen(s));
	free(s);
}

size_t
control_pending(struct conn *c)
{
	if (c->dead)
		return 0;
	return evbuffer_get_length(bufferevent_get_output(c->bev));
}

void
control_hold(struct conn *c)
{
	c->held = 1;
	if (!c->dead)
		bufferevent_set_timeouts(c->bev, NULL, control_write_tv());
}

void
control_stream(struct conn *c)
{
	control_hold(c);
	c->max_output = CONTROL_MAX_STREAM;
}

void
control_finish(struct conn *c)
{
	if (c->dead)
		return;
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		control_free(c);
}

static struct conn *
control_conn_new(int fd)
{
	struct conn *c;

	c = xcalloc(1, sizeof(*c));
	c->max_output = CONTROL_MAX_OUTPUT;
	c->bev = bufferevent_socket_new(tendd_base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(fd);
		free(c);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&conns, c, entry);
	nconns++;
	bufferevent_setcb(c->bev, control_read_cb, control_write_cb,
	    control_event_cb, c);
	bufferevent_set_timeouts(c->bev, control_idle_tv(), control_write_tv());
	return c;
}

/*
 * [inet_http_server] (http.c accepted FD): HTTP only, Basic auth decides
 * who is served, the same cap on connections.
 */
void
control_accept_inet(int fd)
{
	struct conn *c;

	if ((c = control_conn_new(fd)) == NULL)
		return;
	c->inet = 1;
	c->sniffed = 1;
	c->uid = (uid_t)-1;
	c->gid = (gid_t)-1;
	c->pid = 0;
	c->http = http_conn_new(c, 1);
	if (nconns > control_max_conns()) {
		log_warn("control: %d connections already; refusing a TCP "
		    "client", nconns - 1);
		control_free(c);
		return;
	}
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void
control_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct conn *c;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: SO_PEERCRED: %s", strerror(errno));
		close(fd);
		return;
	}
	if ((c = control_conn_new(fd)) == NULL)
		return;
	c->uid = cred.uid;
	c->gid = cred.gid;
	c->pid = cred.pid;

	if (!control_peer_allowed(fd, c->uid, c->gid)) {
		log_warn("control: refused uid %u (pid %ld): not root, not "
		    "tendd's user and not in the socket's group",
		    (unsigned)c->uid, (long)c->pid);
		control_reply_error(c, TEND_ERR_DENIED, "permission denied: "
		    "not root, not tendd's user and not in the socket's group");
		control_finish(c);
		return;
	}
	if (nconns > control_max_conns()) {
		log_warn("control: %d connections already; refusing pid %ld",
		    nconns - 1, (long)c->pid);
		control_reply_error(c, TEND_ERR_BUSY,
		    "too many connections to tendd; try again later");
		control_finish(c);
		return;
	}
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void
control_retry_cb(int fd, short ev, void *arg)
{
	evconnlistener_enable(control_listener);
}

static void
control_error_cb(struct evconnlistener *l, void *arg)
{
	static const char busy[] = "{\"id\":null,\"ok\":false,\"error\":"
	    "{\"code\":\"" TEND_ERR_BUSY "\",\"message\":\"tendd is out of "
	    "file descriptors; try again later\"}}\n";
	struct timeval tv = { 1, 0 };
	int err = EVUTIL_SOCKET_ERROR(), fd;

	/*
	 * Out of descriptors: the spare one is given up to take the waiting
	 * client, tell it, and close it, so it is not left hanging and the
	 * listener does not fire again at once for it.
	 */
	if ((err == EMFILE || err == ENFILE) && control_spare != -1) {
		close(control_spare);
		fd = accept4(evconnlistener_get_fd(l), NULL, NULL,
		    SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd != -1) {
			if (send(fd, busy, sizeof(busy) - 1,
			    MSG_DONTWAIT | MSG_NOSIGNAL) == -1)
				log_debug("control: cannot tell a client "
				    "tendd is busy: %s", strerror(errno));
			close(fd);
		}
		control_spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
		log_warn("control: accept: %s; a client was turned away",
		    evutil_socket_error_to_string(err));
		if (fd != -1 && control_spare != -1)
			return;
	}
	/* Nothing to shed with: pause accepting for a second. */
	log_warn("control: accept: %s; pausing for 1s",
	    evutil_socket_error_to_string(err));
	evconnlistener_disable(l);
	evtimer_add(control_retry, &tv);
}

/*
 * Creates the missing directories above the socket. Those in between get
 * 0755; the socket's own directory is owned by tendd's user (group: the
 * socket's) and only searchable (x) by the classes socket_mode lets in:
 * 0700 for 0600, 0710 for 0660, 0711 for 0666. Modes are set with chmod,
 * so tendd's umask cannot loosen or tighten them.
 */
static int
control_mkdirs(const char *path, int mode, uid_t uid, gid_t gid,
    char **cause)
{
	char *dir = xstrdup(path), *s, c;
	mode_t m;
	int leaf, dfd;

	if ((s = strrchr(dir, '/')) == NULL || s == dir) {
		free(dir);
		return 0;
	}
	*s = '\0';
	for (s = dir + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		c = *s;
		*s = '\0';
		leaf = c == '\0';
		m = 0755;
		if (leaf) {
			m = 0700;
			if (mode & 0070)
				m |= 0010;
			if ((mode & 0007) || (uid != (uid_t)-1 && uid != geteuid()))
				m |= 0001;
		}
		if (mkdir(dir, 0700) == 0) {
			/*
			 * Through a descriptor of the directory just made: a
			 * symlink swapped in for it (the parent may be /tmp)
			 * must not have tendd chmod the file it points to.
			 */
			dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC);
			if (dfd == -1 || fchmod(dfd, m) == -1 || (leaf &&
			    gid != (gid_t)-1 && fchown(dfd, (uid_t)-1, gid) == -1)) {
				xasprintf(cause, "cannot set the mode of %s: %s",
				    dir, strerror(errno));
				if (dfd != -1)
					close(dfd);
				free(dir);
				return -1;
			}
			close(dfd);
			log_info("created %s with mode %04o", dir, (unsigned)m);
		} else if (errno != EEXIST) {
			xasprintf(cause, "cannot create directory %s: %s",
			    dir, strerror(errno));
			free(dir);
			return -1;
		}
		*s = c;
		if (leaf)
			break;
	}
	free(dir);
	return 0;
}

/* Anyone who can write the socket's directory can replace the socket. */
static void
control_check_dir(const char *path)
{
	char *dir = xstrdup(path), *s;
	struct stat st;

	if ((s = strrchr(dir, '/')) != NULL && s != dir)
		*s = '\0';
	if (stat(dir, &st) == 0 && (st.st_mode & S_IWOTH) &&
	    !(st.st_mode & S_ISVTX))
		log_warn("%s is writable by anyone: another user could "
		    "replace tendd's socket in it", dir);
	free(dir);
}

int
control_owner(const char *owner, uid_t *uid, gid_t *gid, char **cause)
{
	char *u = xstrdup(owner), *g = strchr(u, ':');
	struct passwd *pw;
	struct group *gr;

	if (g != NULL)
		*g++ = '\0';
	if ((pw = getpwnam(u)) == NULL) {
		xasprintf(cause, "socket_owner: unknown user %s", u);
		free(u);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (g != NULL && *g != '\0') {
		if ((gr = getgrnam(g)) == NULL) {
			xasprintf(cause, "socket_owner: unknown group %s", g);
			free(u);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	free(u);
	return 0;
}

/*
 * FD is bound and listening (backlog 0 below): accept on it from the
 * loop. Both the socket tendd binds and one systemd passes come here.
 */
static int
control_serve(int fd, const char *where, char **cause)
{
	struct rlimit rl;

	control_listener = evconnlistener_new(tendd_base, control_accept_cb,
	    NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (control_listener == NULL) {
		xasprintf(cause, "cannot listen on %s", where);
		return -1;
	}
	evconnlistener_set_error_cb(control_listener, control_error_cb);
	control_retry = evtimer_new(tendd_base, control_retry_cb, NULL);
	control_sweep = evtimer_new(tendd_base, control_sweep_cb, NULL);
	if (control_retry == NULL || control_sweep == NULL)
		fatal("cannot create a timer");
	control_spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		control_nofile = rl.rlim_cur;
	else
		control_nofile = 1024;
	return 0;
}

/*
 * Two tendds starting at once: the lock decides, not the race. It is
 * keyed on the config's socket path, as the cgroup instance is: whoever
 * holds it owns that instance (its services, SOCKET.state, AUTO logs),
 * however its socket came (bound here or passed by systemd).
 */
static int
control_lock(const char *path, char **cause)
{
	xasprintf(&control_lockpath, "%s.lock", path);
	control_lockfd = open(control_lockpath,
	    O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (control_lockfd == -1) {
		xasprintf(cause, "cannot open %s: %s", control_lockpath,
		    strerror(errno));
		goto fail;
	}
	if (flock(control_lockfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			xasprintf(cause, "another tendd is running on %s", path);
		else
			xasprintf(cause, "cannot lock %s: %s", control_lockpath,
			    strerror(errno));
		goto fail;
	}
	return 0;

fail:
	if (control_lockfd != -1)
		close(control_lockfd);
	control_lockfd = -1;
	free(control_lockpath);
	control_lockpath = NULL;
	return -1;
}

/*
 * A fresh socket for PATH, once nobody answers there: a stale socket
 * left by a tendd that died is removed, anything else at PATH refuses.
 * The fd, or -1 with *cause.
 */
static int
control_socket_for(const char *path, const struct sockaddr_un *sun,
    char **cause)
{
	struct stat st;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return -1;
	}
	if (lstat(path, &st) == -1)
		return fd;
	if (!S_ISSOCK(st.st_mode)) {
		xasprintf(cause, "%s exists and is not a socket", path);
		close(fd);
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0 ||
	    errno == EAGAIN) {
		xasprintf(cause, "another tendd is answering on %s", path);
		close(fd);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		xasprintf(cause, "cannot tell whether %s is in use: %s",
		    path, strerror(errno));
		close(fd);
		return -1;
	}
	/* Nobody listens: a stale socket from a tendd that died. */
	close(fd);
	if (unlink(path) == -1) {
		xasprintf(cause, "cannot remove stale socket %s: %s",
		    path, strerror(errno));
		return -1;
	}
	log_info("removed stale socket %s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		xasprintf(cause, "socket: %s", strerror(errno));
	return fd;
}

int
control_listen(const char *path, int mode, const char *owner, char **cause)
{
	struct sockaddr_un sun;
	mode_t old;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		xasprintf(cause, "socket path %s is too long (%zu bytes; the "
		    "limit is %zu)", path, strlen(path),
		    sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if (owner != NULL && control_owner(owner, &uid, &gid, cause) == -1)
		return -1;
	if (control_mkdirs(path, mode, uid, gid, cause) == -1)
		return -1;
	control_check_dir(path);

	if (control_lock(path, cause) == -1)
		return -1;
	if ((fd = control_socket_for(path, &sun, cause)) == -1)
		goto fail;

	/*
	 * The socket must never exist with looser permissions than asked:
	 * bind() makes it with exactly MODE (0777 & ~umask). No chmod() by
	 * path afterwards, and the chown does not follow a link: someone
	 * who can write the directory could swap a symlink in between.
	 */
	old = umask(~(mode_t)mode & 0777);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		xasprintf(cause, "cannot bind %s: %s", path, strerror(errno));
		close(fd);
		goto fail;
	}
	umask(old);
	control_path = xstrdup(path);
	if (owner != NULL &&
	    fchownat(AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW) == -1) {
		xasprintf(cause, "cannot set the mode or owner of %s: %s", path,
		    strerror(errno));
		close(fd);
		goto fail;
	}
	control_gid = owner != NULL ? gid : getegid();
	/* Many clients may connect at once (scripts, monitoring). */
	if (listen(fd, SOMAXCONN) == -1) {
		xasprintf(cause, "listen on %s: %s", path, strerror(errno));
		close(fd);
		goto fail;
	}
	if (control_serve(fd, path, cause) == -1) {
		close(fd);
		goto fail;
	}
	log_info("listening on %s", path);
	return 0;

fail:
	control_close();
	return -1;
}

/*
 * Socket activation: FD is bound and listening already, and the .socket
 * unit owns its path, mode and owner, so it is used as is: never
 * unlinked, chmod'ed or chown'ed. PATH (the config's) is compared, and
 * names the lock: the cgroup instance comes from it, so a tendd holding
 * it (activated or not) refuses this one before it touches anything.
 * MODE and OWNER make PATH's directory, as control_listen() would, only
 * if it is missing.
 */
int
control_listen_fd(int fd, const char *path, int mode, const char *owner,
    char **cause)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);
	struct stat st;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	char *where;
	int fl;

	if (owner != NULL && control_owner(owner, &uid, &gid, cause) == -1)
		return -1;
	if (control_mkdirs(path, mode, uid, gid, cause) == -1 ||
	    control_lock(path, cause) == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	if (getsockname(fd, (struct sockaddr *)&sun, &len) == -1) {
		xasprintf(cause, "socket activation: getsockname: %s",
		    strerror(errno));
		return -1;
	}
	if (len > offsetof(struct sockaddr_un, sun_path) &&
	    sun.sun_path[0] != '\0') {
		where = xstrndup(sun.sun_path,
		    len - offsetof(struct sockaddr_un, sun_path));
		/* "the socket's group" of spec §5: the file's group */
		control_gid = stat(where, &st) == 0 ? st.st_gid : getegid();
	} else {
		where = xstrdup("an unnamed or abstract socket");
		control_gid = getegid();
	}
	if (strcmp(where, path) != 0)
		log_warn("socket activation passed %s, but the config says "
		    "socket = %s; tendctl -c finds tendd only if they agree",
		    where, path);
	/* sd_listen_fds() made it CLOEXEC; libevent wants it nonblocking. */
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    util_set_cloexec(fd) == -1) {
		xasprintf(cause, "socket activation: %s", strerror(errno));
		free(where);
		return -1;
	}
	if (control_serve(fd, where, cause) == -1) {
		free(where);
		return -1;
	}
	log_info("listening on %s (passed by systemd)", where);
	free(where);
	return 0;
}

void
control_close_all(void)
{
	struct timeval tv = { 1, 0 };
	struct evbuffer *out;
	struct conn *c;
	int fd;

	while ((c = TAILQ_FIRST(&conns)) != NULL) {
		/*
		 * Last replies (shutdown's among them) are written before
		 * tendd exits; a client that does not read gets 1 s, no more.
		 */
		out = bufferevent_get_output(c->bev);
		fd = bufferevent_getfd(c->bev);
		if (evbuffer_get_length(out) > 0 && fd != -1) {
			int fl = fcntl(fd, F_GETFL);

			if (fl != -1)
				fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
			/*
			 * libevent keeps a socket bufferevent's output frozen
			 * at its start outside its own write callback: without
			 * this, evbuffer_write() writes nothing.
			 */
			evbuffer_unfreeze(out, 1);
			while (evbuffer_get_length(out) > 0)
				if (evbuffer_write(out, fd) <= 0)
					break;
		}
		c->busy = 0;
		control_free(c);
	}
}

void
control_close(void)
{
	if (control_listener != NULL) {
		evconnlistener_free(control_listener);
		control_listener = NULL;
	}
	if (control_retry != NULL) {
		event_free(control_retry);
		control_retry = NULL;
	}
	if (control_sweep != NULL) {
		event_free(control_sweep);
		control_sweep = NULL;
	}
	if (control_spare != -1) {
		close(control_spare);
		control_spare = -1;
	}
	if (control_path != NULL) {
		unlink(control_path);
		free(control_path);
		control_path = NULL;
	}
	/*
	 * The lock file stays: unlinking it would let a tendd that opened
	 * it just before lock an orphaned inode beside a newer one.
	 */
	if (control_lockpath != NULL) {
		free(control_lockpath);
		control_lockpath = NULL;
	}
	if (control_lockfd != -1) {
		close(control_lockfd);
		control_lockfd = -1;
	}
}

/* spec §12: who is asking (SO_PEERCRED at accept), for tendctl run. */
void
control_peer(struct conn *c, uid_t *uid, gid_t *gid)
{
	*uid = c->uid;
	*gid = c->gid;
}
