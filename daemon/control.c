/*
 * control.c: the control socket and its connections. Creates the socket
 * safely (umask before bind, a lock file against a second tendd, stale
 * sockets replaced, live ones refused), accepts with an EMFILE back-off,
 * checks each peer with SO_PEERCRED, frames newline-delimited requests
 * with a 1 MiB limit, and bounds what it queues for a slow reader. A
 * socket passed by systemd (socket activation) is taken as it is.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>

#include "tendd.h"

/* A reader this far behind is stuck: drop it rather than grow. */
#define CONTROL_MAX_OUTPUT	(16 * 1024 * 1024)
#define CONTROL_MAX_CONNS	1024
/* A client that stops reading its replies for this long is dropped. */
#define CONTROL_WRITE_TIMEOUT	30

struct conn {
	TAILQ_ENTRY(conn) entry;
	struct bufferevent *bev;
	uid_t		 uid;
	gid_t		 gid;
	pid_t		 pid;
	int		 closing;	/* close once the output is written */
	int		 dead;		/* gone; freed by the next sweep */
};
static TAILQ_HEAD(, conn) conns = TAILQ_HEAD_INITIALIZER(conns);
static int		 nconns;

static struct evconnlistener *control_listener;
static struct event	*control_retry;	/* re-enables accept after EMFILE */
static struct event	*control_sweep;	/* frees dead connections */
static char		*control_path;	/* what we bound, to unlink at exit */
static char		*control_lockpath;
static int		 control_lockfd = -1;
static gid_t		 control_gid;	/* the socket's group */

static void	 control_free(struct conn *);

/* root, tendd's own user, and members of the socket's group (spec §5). */
static int
control_peer_allowed(uid_t uid, gid_t gid)
{
	struct passwd *pw;
	gid_t groups[256];
	int n = (int)nitems(groups), i;

	if (uid == 0 || uid == geteuid())
		return 1;
	if (gid == control_gid)
		return 1;
	if ((pw = getpwuid(uid)) == NULL)
		return 0;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) == -1)
		n = (int)nitems(groups);
	for (i = 0; i < n; i++)
		if (groups[i] == control_gid)
			return 1;
	return 0;
}

/*
 * A connection is never freed in the middle of someone else's work: a
 * reply sent while the waiters are being walked may find the client
 * stuck, and freeing it there would pull the list from under the walk.
 * It is marked dead, silenced, and freed from a zero timer.
 */
static void
control_free(struct conn *c)
{
	static const struct timeval now = { 0, 0 };

	if (c->dead)
		return;
	c->dead = 1;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	evtimer_add(control_sweep, &now);
}

static void
control_destroy(struct conn *c)
{
	command_conn_gone(c);
	TAILQ_REMOVE(&conns, c, entry);
	nconns--;
	bufferevent_free(c->bev);
	free(c);
}

static void
control_sweep_cb(int fd, short ev, void *arg)
{
	struct conn *c, *next;

	for (c = TAILQ_FIRST(&conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->dead)
			control_destroy(c);
	}
}

static void
control_reply_error(struct conn *c, const char *code, const char *msg)
{
	control_send(c, json_pack("{s:n, s:b, s:{s:s, s:s}}", "id", "ok", 0,
	    "error", "code", code, "message", msg));
}

static void
control_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr eol;
	size_t len;
	char *line;

	while (!c->dead && !c->closing) {
		eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
		if (eol.pos == -1) {
			if (evbuffer_get_length(in) > TEND_MAX_LINE) {
				control_reply_error(c, TEND_ERR_TOO_LONG,
				    "request line over 1 MiB");
				control_finish(c);
			}
			break;
		}
		len = (size_t)eol.pos;
		if (len > TEND_MAX_LINE) {
			control_reply_error(c, TEND_ERR_TOO_LONG,
			    "request line over 1 MiB");
			control_finish(c);
			break;
		}
		line = xmalloc(len + 1);
		evbuffer_remove(in, line, len);
		evbuffer_drain(in, 1);
		line[len] = '\0';
		command_dispatch(c, line, len);
		free(line);
	}
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
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		if (what & BEV_EVENT_TIMEOUT)
			log_warn("control: dropping a client (pid %ld) that "
			    "does not read its replies", (long)c->pid);
		control_free(c);
	}
}

void
control_send(struct conn *c, json_t *j)
{
	struct evbuffer *out;
	char *s;

	if (j == NULL)
		fatal("control_send: no JSON (out of memory?)");
	if (c->dead) {
		json_decref(j);
		return;
	}
	out = bufferevent_get_output(c->bev);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s == NULL)
		fatal("control_send: cannot encode JSON");
	if (evbuffer_get_length(out) > CONTROL_MAX_OUTPUT) {
		log_warn("control: dropping a client (pid %ld) with %zu bytes "
		    "unread", (long)c->pid, evbuffer_get_length(out));
		free(s);
		control_free(c);
		return;
	}
	evbuffer_add(out, s, strlen(s));
	evbuffer_add(out, "\n", 1);
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
control_finish(struct conn *c)
{
	if (c->dead)
		return;
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		control_free(c);
}

static void
control_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct timeval wtv = { CONTROL_WRITE_TIMEOUT, 0 };
	struct conn *c;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: SO_PEERCRED: %s", strerror(errno));
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->uid = cred.uid;
	c->gid = cred.gid;
	c->pid = cred.pid;
	c->bev = bufferevent_socket_new(tendd_base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(fd);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&conns, c, entry);
	nconns++;
	bufferevent_setcb(c->bev, control_read_cb, control_write_cb,
	    control_event_cb, c);
	bufferevent_set_timeouts(c->bev, NULL, &wtv);

	if (!control_peer_allowed(c->uid, c->gid)) {
		log_warn("control: refused uid %u (pid %ld): not root, not "
		    "tendd's user and not in the socket's group",
		    (unsigned)c->uid, (long)c->pid);
		control_reply_error(c, TEND_ERR_DENIED, "permission denied: "
		    "not root, not tendd's user and not in the socket's group");
		control_finish(c);
		return;
	}
	if (nconns > CONTROL_MAX_CONNS) {
		log_warn("control: too many connections; refusing pid %ld",
		    (long)c->pid);
		control_reply_error(c, TEND_ERR_FAILED,
		    "too many connections to tendd");
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
	struct timeval tv = { 1, 0 };
	int err = EVUTIL_SOCKET_ERROR();

	/* EMFILE would fire again at once: pause accepting for a second. */
	log_warn("control: accept: %s; pausing for 1s",
	    evutil_socket_error_to_string(err));
	evconnlistener_disable(l);
	evtimer_add(control_retry, &tv);
}

static int
control_mkdirs(const char *path, char **cause)
{
	char *dir = xstrdup(path), *s;

	if ((s = strrchr(dir, '/')) == NULL || s == dir) {
		free(dir);
		return 0;
	}
	*s = '\0';
	for (s = dir + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
				xasprintf(cause, "cannot create directory %s: %s",
				    dir, strerror(errno));
				free(dir);
				return -1;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	free(dir);
	return 0;
}

static int
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

/* FD listens already (backlog 0 below): accept on it from the loop. */
static int
control_serve(int fd, const char *where, char **cause)
{
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
		fatal("cannot create the control timers");
	return 0;
}

int
control_listen(const char *path, int mode, const char *owner, char **cause)
{
	struct sockaddr_un sun;
	struct stat st;
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
	if (control_mkdirs(path, cause) == -1)
		return -1;

	/* Two tendds starting at once: the lock decides, not the race. */
	xasprintf(&control_lockpath, "%s.lock", path);
	control_lockfd = open(control_lockpath,
	    O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (control_lockfd == -1) {
		xasprintf(cause, "cannot open %s: %s", control_lockpath,
		    strerror(errno));
		goto fail;
	}
	if (flock(control_lockfd, LOCK_EX | LOCK_NB) == -1) {
		xasprintf(cause, "another tendd is running on %s", path);
		close(control_lockfd);
		control_lockfd = -1;
		free(control_lockpath);
		control_lockpath = NULL;
		return -1;
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		goto fail;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			xasprintf(cause, "%s exists and is not a socket", path);
			close(fd);
			goto fail;
		}
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ||
		    errno == EAGAIN) {
			xasprintf(cause, "another tendd is answering on %s", path);
			close(fd);
			goto fail;
		}
		if (errno != ECONNREFUSED) {
			xasprintf(cause, "cannot tell whether %s is in use: %s",
			    path, strerror(errno));
			close(fd);
			goto fail;
		}
		/* Nobody listens: a stale socket from a tendd that died. */
		close(fd);
		if (unlink(path) == -1) {
			xasprintf(cause, "cannot remove stale socket %s: %s",
			    path, strerror(errno));
			goto fail;
		}
		log_info("removed stale socket %s", path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0);
		if (fd == -1) {
			xasprintf(cause, "socket: %s", strerror(errno));
			goto fail;
		}
	}

	/* The socket must never exist with looser permissions than asked. */
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		xasprintf(cause, "cannot bind %s: %s", path, strerror(errno));
		close(fd);
		goto fail;
	}
	umask(old);
	control_path = xstrdup(path);
	if (chmod(path, (mode_t)mode) == -1 ||
	    (owner != NULL && chown(path, uid, gid) == -1)) {
		xasprintf(cause, "cannot set the mode or owner of %s: %s", path,
		    strerror(errno));
		close(fd);
		goto fail;
	}
	control_gid = owner != NULL ? gid : getegid();
	if (listen(fd, 128) == -1) {
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
 * unlinked, chmod'ed or chown'ed. PATH (the config's) is only compared.
 */
int
control_listen_fd(int fd, const char *path, char **cause)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);
	struct stat st;
	char *where;
	int fl;

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
	if (path != NULL && strcmp(where, path) != 0)
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
		if (!c->dead && evbuffer_get_length(out) > 0 && fd != -1) {
			int fl = fcntl(fd, F_GETFL);

			if (fl != -1)
				fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
			/*
			 * A socket bufferevent keeps its output's start frozen
			 * (only it drains it): evbuffer_write() would fail.
			 */
			evbuffer_unfreeze(out, 1);
			while (evbuffer_get_length(out) > 0)
				if (evbuffer_write(out, fd) <= 0)
					break;
		}
		control_destroy(c);
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
