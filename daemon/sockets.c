/*
 * sockets.c: the listening sockets tendd holds for programs (spec §8):
 * `sockets =` of a [program:] (passed as descriptors 3.. with LISTEN_*)
 * and `socket =` of an [fcgi-program:] (passed as descriptor 0). A set
 * belongs to a program and is keyed by what makes it (the URLs, owner,
 * mode, backlog): a reload that leaves the key alone keeps the same open
 * sockets; a changed set is bound anew and the old one is closed once a
 * process of the program has been spawned with the new one (its running
 * processes still hold their own copies). A set that cannot be bound
 * records why: the program's spawn fails with it (FATAL), and the next
 * start tries to bind again.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netdb.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tendd.h"
#include "config_int.h"

struct sockset {
	struct sockset	*next;
	char		*program;
	char		*key;		/* what makes it: URLs, owner, mode ... */
	char		**urls;
	int		 nfds;
	int		*fds;		/* -1 where unbound */
	dev_t		*dev;		/* unix paths we made, to unlink ours */
	ino_t		*ino;
	char		*error;		/* why it is not bound; NULL: bound */
	int		 short_fds;	/* for want of descriptors: retried */
	int		 retired;	/* replaced by a reload */
	int		 mark;
	const struct program_conf *pc;	/* settings of the last bind */
};

static struct sockset *sockets_all;

#define SOCKETS_MAX	64	/* spawn.c's SPAWN_SOCKETS_MAX */

/* What the program's sockets are, as written. */
static const char *
sockets_spec(const struct program_conf *pc)
{
	return pc->fcgi || pc->sockets == NULL ? pc->fcgi_socket : pc->sockets;
}

int
sockets_wanted(const struct program_conf *pc)
{
	const char *s = sockets_spec(pc);

	return s != NULL && s[0] != '\0';
}

/* How many sockets PC's program holds (for tendd's descriptor count). */
int
sockets_count(const struct program_conf *pc)
{
	const char *s = sockets_spec(pc);
	int n = 0;

	if (!sockets_wanted(pc))
		return 0;
	for (n = 1; *s != '\0'; s++)
		if (*s == ',')
			n++;
	return n;
}

static char *
sockets_key(const struct program_conf *pc)
{
	char *k;

	xasprintf(&k, "%d|%s|%s|%s|%o|%d", pc->fcgi, sockets_spec(pc),
	    pc->socket_owner != NULL ? pc->socket_owner : "",
	    pc->user != NULL ? pc->user : "",
	    (unsigned)pc->socket_mode, pc->socket_backlog);
	return k;
}

/* "a, b,c" into a vector of trimmed, non-empty items. */
static char **
sockets_split(const char *s)
{
	char **v = xcalloc(1, sizeof(char *)), *copy = xstrdup(s), *tok, *e;
	char *save = NULL;
	size_t n = 0;

	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ' || *tok == '\t')
			tok++;
		e = tok + strlen(tok);
		while (e > tok && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (*tok == '\0')
			continue;
		v = xreallocarray(v, n + 2, sizeof(char *));
		v[n++] = xstrdup(tok);
		v[n] = NULL;
	}
	free(copy);
	return v;
}

/* Whether DEV/INO is a unix socket a set of ours made. */
static int
sockets_ours(dev_t dev, ino_t ino)
{
	struct sockset *s;
	int i;

	for (s = sockets_all; s != NULL; s = s->next)
		for (i = 0; i < s->nfds; i++)
			if (s->fds[i] != -1 && s->ino[i] == ino &&
			    s->dev[i] == dev && ino != 0)
				return 1;
	return 0;
}

/*
 * PATH free to bind: nothing there, a stale socket nobody answers on, or
 * one of ours being replaced. A link or any other file is refused.
 */
static int
sockets_unix_clear(const char *path, const struct sockaddr_un *sun,
    char **cause)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) == -1)
		return 0;
	if (S_ISLNK(st.st_mode)) {
		xasprintf(cause, "cannot bind %s: it is a symbolic link", path);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		xasprintf(cause, "cannot bind %s: it exists and is not a "
		    "socket", path);
		return -1;
	}
	if (!sockets_ours(st.st_dev, st.st_ino)) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    0);
		if (fd != -1 && (connect(fd, (const struct sockaddr *)sun,
		    sizeof(*sun)) == 0 || errno != ECONNREFUSED)) {
			xasprintf(cause, "cannot bind %s: it is in use", path);
			close(fd);
			return -1;
		}
		if (fd != -1)
			close(fd);
	}
	if (unlink(path) == -1) {
		xasprintf(cause, "cannot remove %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
sockets_bind_unix(struct sockset *s, int i, const char *path,
    const struct program_conf *pc, char **cause)
{
	struct sockaddr_un sun;
	struct stat st;
	const char *owner = pc->socket_owner != NULL ? pc->socket_owner :
	    pc->user;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	mode_t old;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path[0] != '/' || strlen(path) >= sizeof(sun.sun_path)) {
		xasprintf(cause, "unix://%s: not an absolute path of at most "
		    "%zu bytes", path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if (owner != NULL && control_owner(owner, &uid, &gid, cause) == -1)
		return -1;
	if (sockets_unix_clear(path, &sun, cause) == -1)
		return -1;
	/*
	 * Blocking, as systemd hands them over: O_NONBLOCK belongs to the
	 * open file every process shares, and a FastCGI program (php-cgi)
	 * whose accept() says EAGAIN exits. tendd never accepts on them.
	 */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		s->short_fds = errno == EMFILE || errno == ENFILE;
		xasprintf(cause, "socket: %s", strerror(errno));
		return -1;
	}
	/* Made with exactly the mode: no window with looser permissions. */
	old = umask(~(mode_t)pc->socket_mode & 0777);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		xasprintf(cause, "cannot bind %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if ((owner != NULL && fchownat(AT_FDCWD, path, uid, gid,
	    AT_SYMLINK_NOFOLLOW) == -1) || lstat(path, &st) == -1) {
		xasprintf(cause, "cannot set the owner of %s: %s", path,
		    strerror(errno));
		unlink(path);
		close(fd);
		return -1;
	}
	s->fds[i] = fd;
	s->dev[i] = st.st_dev;
	s->ino[i] = st.st_ino;
	return 0;
}

static int
sockets_bind_inet(struct sockset *s, int i, const char *url, int v6,
    char **cause)
{
	struct addrinfo hints, *res = NULL;
	char *host, *port;
	const char *hp = url + (v6 ? 7 : 6);
	int fd, one = 1, r;

	host = xstrdup(hp);
	port = strrchr(host, ':');
	if (port == NULL || port[1] == '\0') {
		xasprintf(cause, "%s: no port", url);
		free(host);
		return -1;
	}
	*port++ = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = v6 ? AF_INET6 : AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (strcmp(host, "*") == 0 || host[0] == '\0')
		r = getaddrinfo(NULL, port, &hints, &res);
	else
		r = getaddrinfo(host, port, &hints, &res);
	free(host);
	if (r != 0 || res == NULL) {
		xasprintf(cause, "%s: %s", url, gai_strerror(r));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0); /* blocking */
	if (fd == -1) {
		s->short_fds = errno == EMFILE || errno == ENFILE;
		xasprintf(cause, "%s: socket: %s", url, strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* A changed set is bound while the old one is still held. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (v6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1) {
		xasprintf(cause, "cannot bind %s: %s", url, strerror(errno));
		close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	s->fds[i] = fd;
	return 0;
}

/* The URLs of S not held by another program's set (a config slip). */
static int
sockets_taken(const struct sockset *s, const char *url, char **cause)
{
	const struct sockset *o;
	int i;

	for (o = sockets_all; o != NULL; o = o->next) {
		if (o == s || o->retired || strcmp(o->program, s->program) == 0)
			continue;
		for (i = 0; o->urls[i] != NULL; i++)
			if (strcmp(o->urls[i], url) == 0 && o->fds[i] != -1) {
				xasprintf(cause, "cannot bind %s: program %s "
				    "holds it", url, o->program);
				return 1;
			}
	}
	return 0;
}

static void
sockets_close(struct sockset *s)
{
	struct stat st;
	int i;

	for (i = 0; i < s->nfds; i++) {
		if (s->fds[i] == -1)
			continue;
		/* The path, only if it is still the socket we made. */
		if (strncmp(s->urls[i], "unix://", 7) == 0 &&
		    lstat(s->urls[i] + 7, &st) == 0 && st.st_ino == s->ino[i] &&
		    st.st_dev == s->dev[i])
			unlink(s->urls[i] + 7);
		close(s->fds[i]);
		s->fds[i] = -1;
	}
}

/* "web: listening on tcp://127.0.0.1:43521" (the port port 0 got). */
static void
sockets_log_bound(const struct sockset *s, int i)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN], port[8];

	if (strncmp(s->urls[i], "unix://", 7) == 0 ||
	    getsockname(s->fds[i], (struct sockaddr *)&ss, &len) == -1 ||
	    getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port,
	    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		log_info("%s: listening on %s", s->program, s->urls[i]);
		return;
	}
	if (ss.ss_family == AF_INET6)
		log_info("%s: listening on tcp6://[%s]:%s", s->program, host,
		    port);
	else
		log_info("%s: listening on tcp://%s:%s", s->program, host,
		    port);
}

/* Binds every socket of S, all or none. 0, or -1 with s->error. */
static int
sockets_bind(struct sockset *s, const struct program_conf *pc)
{
	char *cause = NULL;
	const char *u;
	int i, r = 0, backlog;

	free(s->error);
	s->error = NULL;
	s->short_fds = 0;
	backlog = pc->socket_backlog > 0 ? pc->socket_backlog : SOMAXCONN;
	for (i = 0; i < s->nfds && r == 0; i++) {
		u = s->urls[i];
		if (sockets_taken(s, u, &cause))
			r = -1;
		else if (strncmp(u, "tcp://", 6) == 0)
			r = sockets_bind_inet(s, i, u, 0, &cause);
		else if (strncmp(u, "tcp6://", 7) == 0)
			r = sockets_bind_inet(s, i, u, 1, &cause);
		else if (strncmp(u, "unix://", 7) == 0)
			r = sockets_bind_unix(s, i, u + 7, pc, &cause);
		else {
			xasprintf(&cause, "%s: not tcp://, tcp6:// or unix://",
			    u);
			r = -1;
		}
		if (r == 0 && listen(s->fds[i], backlog) == -1) {
			xasprintf(&cause, "listen on %s: %s", u,
			    strerror(errno));
			r = -1;
		}
	}
	if (r == 0 && pc->fcgi && s->nfds != 1) {
		xasprintf(&cause, "an [fcgi-program:] has one socket");
		r = -1;
	}
	if (r == -1) {
		sockets_close(s);
		s->error = cause;
		log_warn("%s: %s", s->program, cause);
		return -1;
	}
	for (i = 0; i < s->nfds; i++)
		sockets_log_bound(s, i);
	return 0;
}

static struct sockset *
sockets_find(const char *program, const char *key)
{
	struct sockset *s;

	for (s = sockets_all; s != NULL; s = s->next)
		if (!s->retired && strcmp(s->program, program) == 0 &&
		    (key == NULL || strcmp(s->key, key) == 0))
			return s;
	return NULL;
}

static void
sockets_free(struct sockset *s)
{
	sockets_close(s);
	free(s->program);
	free(s->key);
	strv_free(s->urls);
	free(s->fds);
	free(s->dev);
	free(s->ino);
	free(s->error);
	free(s);
}

static struct sockset *
sockets_new(const struct program_conf *pc, char *key)
{
	struct sockset *s = xcalloc(1, sizeof(*s));
	int i;

	s->program = xstrdup(pc->program);
	s->key = key;
	s->urls = sockets_split(sockets_spec(pc));
	s->nfds = (int)strv_len(s->urls);
	s->fds = xcalloc((size_t)s->nfds + 1, sizeof(int));
	s->dev = xcalloc((size_t)s->nfds + 1, sizeof(dev_t));
	s->ino = xcalloc((size_t)s->nfds + 1, sizeof(ino_t));
	for (i = 0; i < s->nfds; i++)
		s->fds[i] = -1;
	s->next = sockets_all;
	sockets_all = s;
	return s;
}

/* Unlinks and frees the sets MATCH says, keeping the others. */
static void
sockets_drop(int (*match)(const struct sockset *, const void *),
    const void *arg)
{
	struct sockset **sp = &sockets_all, *s;

	while ((s = *sp) != NULL) {
		if (match(s, arg)) {
			*sp = s->next;
			sockets_free(s);
		} else
			sp = &s->next;
	}
}

/* Whether a process of PROGRAM is alive (and may use a replaced set). */
static int
sockets_in_use(const char *program)
{
	struct proc *p;

	TAILQ_FOREACH(p, &procs, entry)
		if (strcmp(p->pc->program, program) == 0 &&
		    state_has_process(p))
			return 1;
	return 0;
}

static int
sockets_unmarked_cb(const struct sockset *s, const void *arg)
{
	const struct tend_conf *conf = arg;
	const struct program_conf *pc;

	if (!s->retired)
		return 0;
	/* Nothing runs with it: no listener left without a taker. */
	if (!sockets_in_use(s->program))
		return 1;
	/* A program still configured keeps its old set until it spawns. */
	TAILQ_FOREACH(pc, &conf->programs, entry)
		if (strcmp(pc->program, s->program) == 0 && sockets_wanted(pc))
			return 0;
	return 1;
}

/*
 * After a load or reload: a set for each program of CONF with sockets,
 * the same open one where its key did not change; sets of programs gone
 * are closed now, replaced ones once the program spawns with the new.
 */
void
sockets_apply(const struct tend_conf *conf)
{
	const struct program_conf *pc;
	struct sockset *s;
	char *key;

	for (s = sockets_all; s != NULL; s = s->next)
		s->mark = 0;
	TAILQ_FOREACH(pc, &conf->programs, entry) {
		if (!sockets_wanted(pc))
			continue;
		key = sockets_key(pc);
		if ((s = sockets_find(pc->program, key)) != NULL) {
			free(key);
			s->mark = 1;
			continue;
		}
		s = sockets_new(pc, key);
		s->mark = 1;
		sockets_bind(s, pc);
	}
	for (s = sockets_all; s != NULL; s = s->next)
		if (!s->mark)
			s->retired = 1;
	sockets_drop(sockets_unmarked_cb, conf);
}

static int
sockets_retired_cb(const struct sockset *s, const void *arg)
{
	return s->retired && strcmp(s->program, (const char *)arg) == 0;
}

/*
 * The descriptors PC's process gets: *FDS (NULL when none) and their
 * count, binding again a set that could not be bound. -1 with *cause.
 */
int
sockets_for(const struct program_conf *pc, const int **fds, int *nfds,
    char **cause)
{
	struct sockset *s;
	char *key;

	*fds = NULL;
	*nfds = 0;
	if (!sockets_wanted(pc))
		return 0;
	key = sockets_key(pc);
	s = sockets_find(pc->program, key);
	if (s == NULL)
		s = sockets_new(pc, key);
	else
		free(key);
	if (s->error != NULL || s->fds[0] == -1)
		sockets_bind(s, pc);
	if (s->error != NULL) {
		*cause = xstrdup(s->error);
		/* like a pipe that could not be made: BACKOFF, not FATAL */
		return s->short_fds ? SPAWN_SHORT : -1;
	}
	*fds = s->fds;
	*nfds = s->nfds;
	return 0;
}

/* PC's process was spawned with its set: a replaced one closes now. */
void
sockets_spawned(const struct program_conf *pc)
{
	if (sockets_wanted(pc))
		sockets_drop(sockets_retired_cb, pc->program);
}

static int
sockets_all_cb(const struct sockset *s, const void *arg)
{
	(void)s;
	(void)arg;
	return 1;
}

/* At tendd's exit: close every set, unlink our unix paths. */
void
sockets_close_all(void)
{
	sockets_drop(sockets_all_cb, NULL);
}

/* Why URL is not a socket tend can make, or NULL. */
static const char *
sockets_url_problem(const char *u)
{
	const char *port;
	char *end;
	long n;

	if (strncmp(u, "unix://", 7) == 0) {
		if (u[7] != '/')
			return "a unix socket needs an absolute path "
			    "(unix:///PATH)";
		if (strlen(u + 7) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return "the unix socket path is too long";
		return NULL;
	}
	if (strncmp(u, "tcp://", 6) != 0 && strncmp(u, "tcp6://", 7) != 0)
		return "not tcp://HOST:PORT, tcp6://HOST:PORT or unix:///PATH";
	port = strrchr(u, ':');
	if (port == NULL || port < strstr(u, "//") + 2)
		return "no port (tcp://HOST:PORT)";
	errno = 0;
	n = strtol(port + 1, &end, 10);
	if (port[1] == '\0' || *end != '\0' || n < 0 || n > 65535)
		return "the port must be a number from 0 to 65535";
	return NULL;
}

/*
 * `sockets` of a [program:], `socket` of an [fcgi-program:] (which must
 * have exactly one): each a URL tend can bind.
 */
void
config_check_sockets(struct config_reader *rd, struct program_conf *pc,
    struct config_rawsec *sec)
{
	struct config_rawkey *k;
	const char *problem, *key;
	char **v;
	int i;

	pc->fcgi = strncmp(sec->label, "fcgi-program:", 13) == 0;
	key = pc->fcgi || pc->sockets == NULL ? "socket" : "sockets";
	k = config_sec_key(sec, "sockets");
	if (k != NULL && (pc->fcgi || config_sec_key(sec, "socket") != NULL))
		config_error(rd, k->file, k->line, "[%s] %s: %s", sec->label,
		    k->written, pc->fcgi ? "an [fcgi-program:] has one "
		    "socket (socket =)" : "give either socket or sockets");
	if (pc->fcgi && !sockets_wanted(pc)) {
		config_error(rd, sec->file, sec->line, "[%s] socket: missing "
		    "(every fcgi-program needs one)", sec->label);
		return;
	}
	if (!sockets_wanted(pc))
		return;
	k = config_sec_key(sec, key);
	v = sockets_split(sockets_spec(pc));
	if (v[0] == NULL || (pc->fcgi && v[1] != NULL))
		config_error(rd, k->file, k->line, "[%s] %s: %s", sec->label,
		    key, pc->fcgi ? "exactly one socket" : "no socket named");
	for (i = 0; v[i] != NULL; i++)
		if ((problem = sockets_url_problem(v[i])) != NULL)
			config_error(rd, k->file, k->line, "[%s] %s: %s: %s",
			    sec->label, key, v[i], problem);
	if (i > SOCKETS_MAX)
		config_error(rd, k->file, k->line, "[%s] %s: more than %d "
		    "sockets", sec->label, key, SOCKETS_MAX);
	strv_free(v);
}
