/*
 * cgroup.c: a cgroup (v2) for every service and for each process that
 * stops as a group, and what a tendd that died abruptly left behind.
 *
 * The instance directory, tend-HASH beside tendd in its own cgroup (HASH
 * from the control socket's path and its directory), holds:
 *   services/shared   every service (daemon = true) without a group stop
 *   services/NAME     a service with stopasgroup or killasgroup
 *   jobs/NAME         a job with stopasgroup or killasgroup (jobs/NAME.N
 *                     while a predecessor's run of it still holds NAME)
 * A job without them has none. The child is made in its directory
 * (spawn.c); a group stop signals a NAME directory's members; a directory
 * goes once empty (an inotify watch on its cgroup.events; rmdir fails
 * while it is populated). No controller is enabled: only cgroup.procs,
 * cgroup.kill and cgroup.events are used.
 *
 * At start-up, before anything starts, whatever a predecessor on the same
 * socket left in services/ (a master's workers, which the parent-death
 * signal does not reach) is killed, and starts wait until it has ended;
 * jobs/ is left alone (jobs run on by design), and never joined: a job
 * whose predecessor's run still holds its directory gets another, so a
 * group stop of the new run never reaches the old one. The socket's lock
 * (control.c) is what makes that predecessor dead, not merely another.
 *
 * Without a writable cgroup2 hierarchy (none mounted, read-only, not ours
 * to write: a systemd unit without Delegate=yes) the group is the
 * process's session. SOCKET.state, beside the socket, names the instance
 * directory (a successor in another cgroup finds it there) and records the
 * session (leader pid and start time) of each service that is in no
 * cgroup, so that a successor can stop what is left in it.
 */
#include <sys/inotify.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "utf8.h"
#include "tendd.h"

/* Deeper than any tree a program makes of its own cgroup on purpose. */
#define CGROUP_DEPTH	16
/* How long start-up waits for SIGKILLed leftovers before going on. */
#define CGROUP_SWEEP_SECS	10
/* Leftovers named by pid in one log line. */
#define CGROUP_LIST_MAX	8
/* SOCKET.state: a header block, then a fixed slot per process. */
#define STATE_HEADER	4096
#define STATE_MAX	(64 << 20)

/* The instance directory, and its path as /proc/PID/cgroup shows it. */
static char	*cgroup_instance;
static char	*cgroup_instance_rel;
static char	*cgroup_services, *cgroup_shared, *cgroup_shared_join;
static char	*cgroup_jobs;
static void	 cgroup_limits_apply(struct proc *, const char *parent);
static int	 cgroup_has_kill;	/* cgroup.kill: Linux 5.14 */
/* Whether each is known to exist (made when a process first needs it). */
static int	 cgroup_instance_made, cgroup_services_made;
static int	 cgroup_shared_made, cgroup_jobs_made;

/* Directories to remove once empty, each watched through inotify. */
struct cgroup_pending {
	char	*dir;
	int	 wd;
	int	 sweep;		/* a predecessor's services, SIGKILLed */
	int	 prev;		/* a predecessor's job, running on: not ours */
	TAILQ_ENTRY(cgroup_pending) entry;
};
static TAILQ_HEAD(, cgroup_pending) cgroup_pendings =
    TAILQ_HEAD_INITIALIZER(cgroup_pendings);
static int	 cgroup_ifd = -1;
static struct event *cgroup_iev;

/* Leftovers in no cgroup, SIGKILLed: a pidfd each, readable once ended. */
struct cgroup_dying {
	int		 fd;
	struct event	*ev;
	TAILQ_ENTRY(cgroup_dying) entry;
};
static TAILQ_HEAD(, cgroup_dying) cgroup_dyings =
    TAILQ_HEAD_INITIALIZER(cgroup_dyings);

/* The start-up sweep: what was killed, what is still to end, who waits. */
static int	 cgroup_swept;
static int	 cgroup_sweeping;
static struct event *cgroup_sweep_ev;
static void	(*cgroup_sweep_then)(void);
/* At shutdown: what runs once the pending directories are gone. */
static struct event *cgroup_empty_ev;
static void	(*cgroup_empty_then)(void);
#define CGROUP_EMPTY_WAIT	2.0	/* seconds, at most, for SIGKILL to end them */

/* SOCKET.state, and its free slots (a stack) above the highest used. */
static char	*cgroup_state_path;
static int	 cgroup_state_fd = -1;
static int	 cgroup_state_warned;
static int	*cgroup_state_free;
static size_t	 cgroup_state_nfree, cgroup_state_cap;
static int	 cgroup_state_top;

/* A predecessor's SOCKET.state, as read at start-up. */
struct cgroup_session {
	pid_t			 pid;	/* the leader, and the session id */
	unsigned long long	 start;	/* the leader's start time (ticks) */
	char			*name;
	int			 leader;	/* 0 unknown, 1 ours, -1 reused */
	int			 n;
	char			*list;	/* "pid N (comm), ..." for the log */
};
struct cgroup_old {
	char			*rel;	/* its instance directory, or NULL */
	struct cgroup_session	*s;
	size_t			 n;
};

/* ---- pure functions (tests/unit/test_cgroup.c) */

/*
 * A process's full name as one directory name: letters, digits, '_' and
 * '-' stay, every other byte becomes %XX. With no '.' left, the name is
 * never "." or "..", never hidden, and never one of the interface files
 * (cgroup.procs, memory.max) that share the directory; with no '/' it
 * cannot leave the instance directory. Names too long for a directory
 * keep their start and end with a hash of the whole name.
 */
char *
cgroup_encode_name(const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = strlen(name), i, n = 0;
	char *s = xmalloc(3 * len + 1);
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)name[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-')
			s[n++] = (char)c;
		else {
			s[n++] = '%';
			s[n++] = hex[c >> 4];
			s[n++] = hex[c & 15];
		}
	}
	s[n] = '\0';
	if (n > 200) {
		/* 160 bytes of it, '~', and the hash: never a valid encoding */
		snprintf(s + 160, 3 * len + 1 - 160, "~%016llx",
		    (unsigned long long)cgroup_hash(name));
	}
	return s;
}

/* FNV-1a, 64 bits. */
uint64_t
cgroup_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Undoes mountinfo's octal escapes (\040 for a blank) in place. */
static void
cgroup_unescape(char *s)
{
	char *d = s;

	for (; *s != '\0'; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
			    (s[3] - '0'));
			s += 3;
		} else
			*d++ = *s;
	}
	*d = '\0';
}

/*
 * One line of /proc/self/mountinfo: 1 with the mount's root and mount
 * point (allocated) when it is a cgroup2 file system, else 0.
 * "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - TYPE SRC SUPER"
 */
int
cgroup_parse_mountinfo(const char *line, char **root, char **mnt)
{
	char *copy = xstrdup(line), *f[5], *s = copy, *sep, *type;
	int i, ok = 0;

	for (i = 0; i < 5; i++)
		if ((f[i] = strsep(&s, " ")) == NULL)
			goto out;
	if (s == NULL || (sep = strstr(s, " - ")) == NULL)
		goto out;
	type = sep + 3;
	if (strncmp(type, "cgroup2 ", 8) != 0 || f[3][0] != '/' ||
	    f[4][0] != '/')
		goto out;
	cgroup_unescape(f[3]);
	cgroup_unescape(f[4]);
	*root = xstrdup(f[3]);
	*mnt = xstrdup(f[4]);
	ok = 1;
out:
	free(copy);
	return ok;
}

/* The cgroup2 path in the text of /proc/PID/cgroup ("0::/x"), or NULL. */
char *
cgroup_parse_self(const char *text)
{
	const char *s = text, *e;

	while (s != NULL && *s != '\0') {
		e = strchrnul(s, '\n');
		if (strncmp(s, "0::/", 4) == 0)
			return xstrndup(s + 3, (size_t)(e - s - 3));
		s = *e == '\n' ? e + 1 : NULL;
	}
	return NULL;
}

/*
 * The directory of cgroup PATH (as /proc/self/cgroup shows it) in a
 * cgroup2 mount at MNT that shows the hierarchy from ROOT; NULL when
 * PATH is not below ROOT (the mount does not show it).
 */
char *
cgroup_dir_of(const char *mnt, const char *root, const char *path)
{
	size_t n = strlen(root);
	char *dir;

	if (strcmp(root, "/") == 0)
		n = 0;
	else if (strncmp(path, root, n) != 0 ||
	    (path[n] != '\0' && path[n] != '/'))
		return NULL;
	path += n;
	if (strcmp(path, "/") == 0)
		path = "";
	xasprintf(&dir, "%s%s", strcmp(mnt, "/") == 0 && *path != '\0' ?
	    "" : mnt, path);
	return dir;
}

/* ---- files */

/* The whole of a small file (/proc, cgroupfs), NUL-terminated; or NULL. */
static char *
cgroup_read(const char *path)
{
	size_t len = 0, cap = 4096;
	char *buf;
	ssize_t n = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	buf = xmalloc(cap);
	for (;;) {
		if (len + 1 == cap)
			buf = xrealloc(buf, cap *= 2);
		n = read(fd, buf + len, cap - len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (n == -1) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

static int
cgroup_write(const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd, saved;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	if (write(fd, text, len) != (ssize_t)len) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return close(fd);
}

/*
 * Removes DIR and the empty cgroups below it (a program may make its
 * own). -1 with errno EBUSY while anything in it still runs.
 */
static int
cgroup_rmtree(const char *dir, int depth)
{
	struct dirent *de;
	char *sub;
	DIR *d;

	if (depth < CGROUP_DEPTH && (d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			xasprintf(&sub, "%s/%s", dir, de->d_name);
			cgroup_rmtree(sub, depth + 1);
			free(sub);
		}
		closedir(d);
	}
	return rmdir(dir);
}

static int
cgroup_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Undoes cgroup_encode_name() for a log line; a hashed name, and a
 * control character (never in a process name), stay encoded.
 */
char *
cgroup_decode_name(const char *enc)
{
	char *s = xmalloc(strlen(enc) + 1), *d = s;
	int hi, lo;

	if (strchr(enc, '~') != NULL)
		return strcpy(s, enc);
	for (; *enc != '\0'; enc++) {
		if (enc[0] == '%' && (hi = cgroup_hexval(enc[1])) != -1 &&
		    (lo = cgroup_hexval(enc[2])) != -1 &&
		    hi * 16 + lo >= 0x20 && hi * 16 + lo != 0x7f) {
			*d++ = (char)(hi * 16 + lo);
			enc += 2;
		} else
			*d++ = *enc;
	}
	*d = '\0';
	return s;
}

/*
 * One slot of SOCKET.state, CGROUP_STATE_SLOT bytes: "session PID START
 * NAME", blanks, '\n'; NAME is cut to fit, at a character boundary.
 * PID 0: an empty slot (all blanks).
 */
void
cgroup_format_session(char *buf, pid_t pid, unsigned long long start,
    const char *name)
{
	size_t n = 0, room, len, c;

	memset(buf, ' ', CGROUP_STATE_SLOT - 1);
	buf[CGROUP_STATE_SLOT - 1] = '\n';
	if (pid <= 0)
		return;
	n = (size_t)snprintf(buf, CGROUP_STATE_SLOT, "session %ld %llu ",
	    (long)pid, start);
	room = CGROUP_STATE_SLOT - 1 - n;
	len = strlen(name);
	while (len > 0 && room > 0) {
		c = utf8_len((const unsigned char *)name, len);
		if (c == 0 || c > room)
			break;
		memcpy(buf + n, name, c);
		n += c;
		room -= c;
		name += c;
		len -= c;
	}
	buf[n] = ' ';	/* snprintf's NUL, when NAME is empty */
}

/* The reverse: 1 with a session (NAME allocated), 0 for any other line. */
int
cgroup_parse_session(const char *line, pid_t *pid, unsigned long long *start,
    char **name)
{
	long p;
	int off = -1;
	size_t len;

	if (sscanf(line, "session %ld %llu %n", &p, start, &off) != 2 ||
	    off == -1 || p <= 1)
		return 0;
	len = strcspn(line + off, " \n");
	*pid = (pid_t)p;
	*name = xstrndup(line + off, len);
	return 1;
}

/* ---- signalling a cgroup */

/* Whether PID is in the cgroup REL (as /proc shows it) or below it. */
static int
cgroup_pid_in(pid_t pid, const char *rel)
{
	char path[64], *text, *cg;
	size_t n = strlen(rel);
	int in;

	snprintf(path, sizeof(path), "/proc/%ld/cgroup", (long)pid);
	if ((text = cgroup_read(path)) == NULL)
		return 0;
	cg = cgroup_parse_self(text);
	free(text);
	in = cg != NULL && strncmp(cg, rel, n) == 0 &&
	    (cg[n] == '\0' || cg[n] == '/');
	free(cg);
	return in;
}

/*
 * SIG to every process in DIR and the cgroups below it. Each pid is
 * pinned with a pidfd and then checked to be in REL: one that ended and
 * whose pid went to another process since cgroup.procs was read is
 * never hit. -1 when DIR's cgroup.procs cannot be read, or there are no
 * pidfds (Linux < 5.3, valgrind): the caller falls back to the session.
 */
static int
cgroup_signal_tree(const char *dir, const char *rel, int sig, int depth)
{
	char *path, *text, *s, *end;
	struct dirent *de;
	long pid;
	DIR *d;
	int fd;

	xasprintf(&path, "%s/cgroup.procs", dir);
	text = cgroup_read(path);
	free(path);
	if (text == NULL)
		return -1;
	for (s = text; *s != '\0'; s = end) {
		pid = strtol(s, &end, 10);
		if (end == s)
			break;
		if (pid <= 0)
			continue;
		if ((fd = pidfd_open((pid_t)pid, 0)) == -1) {
			if (errno == ENOSYS) {
				free(text);
				return -1;
			}
			continue;
		}
		if (cgroup_pid_in((pid_t)pid, rel))
			pidfd_send_signal(fd, sig, NULL, 0);
		close(fd);
	}
	free(text);
	if (depth >= CGROUP_DEPTH || (d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		xasprintf(&path, "%s/%s", dir, de->d_name);
		cgroup_signal_tree(path, rel, sig, depth + 1);
		free(path);
	}
	closedir(d);
	return 0;
}

int
cgroup_proc_signal(struct proc *p, int sig)
{
	char *path, *rel;
	int r;

	if (p->cgroup == NULL) {
		errno = ENOENT;
		return -1;
	}
	if (sig == SIGKILL && cgroup_has_kill) {
		/* Atomic: a fork under way is killed too. */
		xasprintf(&path, "%s/cgroup.kill", p->cgroup);
		r = cgroup_write(path, "1");
		free(path);
		if (r == 0)
			return 0;
	}
	xasprintf(&rel, "%s%s", cgroup_instance_rel,
	    p->cgroup + strlen(cgroup_instance));
	r = cgroup_signal_tree(p->cgroup, rel, sig, 0);
	free(rel);
	return r;
}

/* ---- removal once empty */

static struct cgroup_pending *
cgroup_find_pending(const char *dir, int wd)
{
	struct cgroup_pending *cp;

	TAILQ_FOREACH(cp, &cgroup_pendings, entry)
		if (dir != NULL ? strcmp(cp->dir, dir) == 0 : cp->wd == wd)
			return cp;
	return NULL;
}

static void cgroup_sweep_ended(void);

static void
cgroup_drop_pending(struct cgroup_pending *cp, int unwatch)
{
	int sweep = cp->sweep;

	if (unwatch)
		inotify_rm_watch(cgroup_ifd, cp->wd);
	TAILQ_REMOVE(&cgroup_pendings, cp, entry);
	free(cp->dir);
	free(cp);
	if (sweep)
		cgroup_sweep_ended();
	/* the last one shutdown waited for: on from the loop, not here */
	if (cgroup_empty_ev != NULL && TAILQ_EMPTY(&cgroup_pendings))
		event_active(cgroup_empty_ev, EV_TIMEOUT, 0);
}

/* Shutdown goes on: its cgroups emptied, or it waited long enough. */
static void
cgroup_empty_cb(int fd, short ev, void *arg)
{
	void (*then)(void) = cgroup_empty_then;

	cgroup_empty_then = NULL;
	if (cgroup_empty_ev != NULL)
		event_free(cgroup_empty_ev);
	cgroup_empty_ev = NULL;
	if (then != NULL)
		then();
}

void
cgroup_when_empty(void (*then)(void))
{
	struct timeval tv = util_timeval(CGROUP_EMPTY_WAIT);

	if (cgroup_empty_ev != NULL) {		/* waiting already */
		cgroup_empty_then = then;
		return;
	}
	if (TAILQ_EMPTY(&cgroup_pendings) || tendd_base == NULL ||
	    (cgroup_empty_ev = evtimer_new(tendd_base, cgroup_empty_cb,
	    NULL)) == NULL || evtimer_add(cgroup_empty_ev, &tv) == -1) {
		if (cgroup_empty_ev != NULL)
			event_free(cgroup_empty_ev);
		cgroup_empty_ev = NULL;
		then();
		return;
	}
	cgroup_empty_then = then;
}

static void
cgroup_inotify_cb(int fd, short ev, void *arg)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ie;
	struct cgroup_pending *cp;
	ssize_t n;
	char *p;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (p = buf; p < buf + n; p += sizeof(*ie) + ie->len) {
			ie = (const struct inotify_event *)p;
			if ((cp = cgroup_find_pending(NULL, ie->wd)) == NULL)
				continue;
			if (ie->mask & IN_IGNORED)
				cgroup_drop_pending(cp, 0);	/* gone */
			else if (cgroup_rmtree(cp->dir, 0) == 0 ||
			    errno == ENOENT) {
				log_debug("removed cgroup %s", cp->dir);
				cgroup_drop_pending(cp, 1);
			}
		}
	}
}

/*
 * DIR is to go: now if it is empty, or when it becomes so (its
 * cgroup.events changes when the last process leaves). Never a wait,
 * never a retry on a timer. SWEEP: a predecessor's services, whose end
 * start-up waits for. 1 when DIR stays for now.
 */
static int
cgroup_watch(const char *dir, int sweep)
{
	struct cgroup_pending *cp;
	char *events;
	int wd;

	if (cgroup_rmtree(dir, 0) == 0 || errno == ENOENT ||
	    cgroup_find_pending(dir, -1) != NULL)
		return 0;
	if (errno != EBUSY && errno != ENOTEMPTY) {
		log_warn("cannot remove cgroup %s: %s", dir, strerror(errno));
		return 0;
	}
	xasprintf(&events, "%s/cgroup.events", dir);
	wd = inotify_add_watch(cgroup_ifd, events, IN_MODIFY);
	free(events);
	if (wd == -1) {
		log_warn("cannot watch cgroup %s: %s", dir, strerror(errno));
		return 0;
	}
	cp = xcalloc(1, sizeof(*cp));
	cp->dir = xstrdup(dir);
	cp->wd = wd;
	TAILQ_INSERT_TAIL(&cgroup_pendings, cp, entry);
	/* It may have emptied before the watch was there. */
	if (cgroup_rmtree(dir, 0) == 0) {
		cgroup_drop_pending(cp, 1);
		return 0;
	}
	cp->sweep = sweep;
	if (sweep)
		cgroup_sweeping++;
	return 1;
}

static void
cgroup_release(const char *dir)
{
	cgroup_watch(dir, 0);
}

/* mkdir DIR unless it is known to exist. */
static int
cgroup_mkdir(const char *dir, int *made)
{
	if (*made)
		return 0;
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		return -1;
	*made = 1;
	return 0;
}

/* ---- the instance */

/* The cgroup2 directory of REL (as /proc/PID/cgroup shows it), or NULL. */
static char *
cgroup_find_dir(const char *rel)
{
	char *line = NULL, *root, *mnt, *dir = NULL;
	size_t cap = 0;
	FILE *f;

	if ((f = fopen("/proc/self/mountinfo", "re")) == NULL)
		return NULL;
	while (dir == NULL && getline(&line, &cap, f) != -1) {
		line[strcspn(line, "\n")] = '\0';
		if (!cgroup_parse_mountinfo(line, &root, &mnt))
			continue;
		dir = cgroup_dir_of(mnt, root, rel);
		free(root);
		free(mnt);
	}
	free(line);
	fclose(f);
	return dir;
}

/* tendd's own cgroup directory, or NULL with *CAUSE. */
static char *
cgroup_own_dir(char **rel, char **cause)
{
	char *text, *dir;

	if ((text = cgroup_read("/proc/self/cgroup")) == NULL) {
		xasprintf(cause, "cannot read /proc/self/cgroup: %s",
		    strerror(errno));
		return NULL;
	}
	*rel = cgroup_parse_self(text);
	free(text);
	if (*rel == NULL) {
		*cause = xstrdup("tendd is in no cgroup2 hierarchy");
		return NULL;
	}
	if ((dir = cgroup_find_dir(*rel)) != NULL)
		return dir;
	*cause = xstrdup("no cgroup2 file system is mounted that shows "
	    "tendd's cgroup");
	free(*rel);
	*rel = NULL;
	return NULL;
}

/*
 * The instance's name: a hash of the socket's absolute path and of its
 * directory's identity, so that two tendds whose sockets have the same
 * path in different mount namespaces (chroots, containers sharing a
 * cgroup) never share it.
 */
static char *
cgroup_instance_name(const char *socket)
{
	char *cwd, *sock, *copy, *key, *name;
	struct stat st;

	if (socket[0] != '/' && (cwd = getcwd(NULL, 0)) != NULL) {
		xasprintf(&sock, "%s/%s", cwd, socket);
		free(cwd);
	} else
		sock = xstrdup(socket);
	copy = xstrdup(sock);
	if (stat(dirname(copy), &st) == 0)
		xasprintf(&key, "%s\n%llu:%llu", sock,
		    (unsigned long long)st.st_dev,
		    (unsigned long long)st.st_ino);
	else
		key = xstrdup(sock);
	xasprintf(&name, "tend-%016llx", (unsigned long long)cgroup_hash(key));
	free(copy);
	free(key);
	free(sock);
	return name;
}

static int
cgroup_setup(const char *socket, char **cause)
{
	char *own, *rel, *name, *path;

	if ((own = cgroup_own_dir(&rel, cause)) == NULL)
		return -1;
	/* Children join from tendd's cgroup: that needs its cgroup.procs. */
	xasprintf(&path, "%s/cgroup.procs", own);
	if (access(path, W_OK) == -1) {
		xasprintf(cause, "cannot write %s: %s", path, strerror(errno));
		free(path);
		free(own);
		free(rel);
		return -1;
	}
	free(path);
	name = cgroup_instance_name(socket);
	xasprintf(&cgroup_instance, "%s/%s", own, name);
	xasprintf(&cgroup_instance_rel, "%s/%s", strcmp(rel, "/") == 0 ? "" :
	    rel, name);
	free(name);
	free(own);
	free(rel);
	if (mkdir(cgroup_instance, 0755) == -1 && errno != EEXIST) {
		xasprintf(cause, "cannot create %s: %s", cgroup_instance,
		    strerror(errno));
		return -1;
	}
	if ((cgroup_ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		xasprintf(cause, "inotify: %s", strerror(errno));
		rmdir(cgroup_instance);
		return -1;
	}
	cgroup_iev = event_new(tendd_base, cgroup_ifd, EV_READ | EV_PERSIST,
	    cgroup_inotify_cb, NULL);
	if (cgroup_iev == NULL || event_add(cgroup_iev, NULL) == -1)
		fatal("cannot watch the inotify descriptor");
	xasprintf(&path, "%s/cgroup.kill", cgroup_instance);
	cgroup_has_kill = access(path, W_OK) == 0;
	free(path);
	xasprintf(&cgroup_services, "%s/services", cgroup_instance);
	xasprintf(&cgroup_shared, "%s/shared", cgroup_services);
	xasprintf(&cgroup_shared_join, "%s/cgroup.procs", cgroup_shared);
	xasprintf(&cgroup_jobs, "%s/jobs", cgroup_instance);
	return 0;
}

/* What cgroup_setup() made, forgotten (no cgroups after all, or exit). */
static void
cgroup_forget(void)
{
	if (cgroup_iev != NULL)
		event_free(cgroup_iev);
	cgroup_iev = NULL;
	if (cgroup_ifd != -1)
		close(cgroup_ifd);
	cgroup_ifd = -1;
	free(cgroup_instance);
	free(cgroup_instance_rel);
	free(cgroup_services);
	free(cgroup_shared);
	free(cgroup_shared_join);
	free(cgroup_jobs);
	cgroup_instance = cgroup_instance_rel = NULL;
	cgroup_services = cgroup_shared = cgroup_shared_join = NULL;
	cgroup_jobs = NULL;
	cgroup_instance_made = cgroup_services_made = 0;
	cgroup_shared_made = cgroup_jobs_made = 0;
}

/* ---- what a predecessor left: the start-up sweep */

/* The short name of PID for a log line: printable ASCII only. */
static void
cgroup_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	n = -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, buf, len - 1);
		close(fd);
	}
	if (n <= 0) {
		snprintf(buf, len, "?");
		return;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	for (char *s = buf; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

/* Appends "pid N (comm)" to *LIST, the first CGROUP_LIST_MAX of N. */
static void
cgroup_list_add(char **list, int n, pid_t pid)
{
	char comm[32], *s;

	if (n > CGROUP_LIST_MAX)
		return;
	if (n == CGROUP_LIST_MAX) {
		xasprintf(&s, "%s, ...", *list);
	} else {
		cgroup_comm(pid, comm, sizeof(comm));
		xasprintf(&s, "%s%spid %ld (%s)", *list != NULL ? *list : "",
		    *list != NULL ? ", " : "", (long)pid, comm);
	}
	free(*list);
	*list = s;
}

/* Counts (and lists) the processes in DIR and below. */
static int
cgroup_count_tree(const char *dir, int depth, char **list, int n)
{
	char *path, *text, *s, *end;
	struct dirent *de;
	long pid;
	DIR *d;

	xasprintf(&path, "%s/cgroup.procs", dir);
	text = cgroup_read(path);
	free(path);
	for (s = text; s != NULL && *s != '\0'; s = end) {
		pid = strtol(s, &end, 10);
		if (end == s)
			break;
		if (pid > 0)
			cgroup_list_add(list, n++, (pid_t)pid);
	}
	free(text);
	if (depth >= CGROUP_DEPTH || (d = opendir(dir)) == NULL)
		return n;
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		xasprintf(&path, "%s/%s", dir, de->d_name);
		n = cgroup_count_tree(path, depth + 1, list, n);
		free(path);
	}
	closedir(d);
	return n;
}

static void
cgroup_log_leftovers(const char *what, int n, const char *list)
{
	cgroup_swept += n;
	log_info("%s: stopping %d process%s a previous tendd left running: %s",
	    what, n, n == 1 ? "" : "es", list);
}

/*
 * The processes in a predecessor's services/ (SERVICES; REL as /proc
 * shows it), one log line for each directory: SIGKILLed, and the
 * directory removed once they have ended.
 */
static void
cgroup_sweep_services(const char *services, const char *rel)
{
	char *path, *list, *what;
	struct dirent *de;
	int n, total;
	DIR *d;

	list = NULL;
	total = n = cgroup_count_tree(services, CGROUP_DEPTH, &list, 0);
	if (n > 0)
		cgroup_log_leftovers("services", n, list);
	free(list);
	if ((d = opendir(services)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_type != DT_DIR || de->d_name[0] == '.')
				continue;
			xasprintf(&path, "%s/%s", services, de->d_name);
			list = NULL;
			if ((n = cgroup_count_tree(path, 1, &list, 0)) > 0) {
				if (strcmp(de->d_name, "shared") == 0)
					what = xstrdup("services without a "
					    "group stop");
				else
					what = cgroup_decode_name(de->d_name);
				cgroup_log_leftovers(what, n, list);
				free(what);
			}
			total += n;
			free(list);
			free(path);
		}
		closedir(d);
	}
	if (total > 0) {
		/* cgroup.kill: the whole tree, and a fork under way too */
		xasprintf(&path, "%s/cgroup.kill", services);
		if (!cgroup_has_kill || cgroup_write(path, "1") == -1)
			cgroup_signal_tree(services, rel, SIGKILL, 0);
		free(path);
	}
	cgroup_watch(services, 1);
}

/*
 * A predecessor's job directory, DIR, goes once empty; until then no
 * process of this tendd joins it (cgroup_proc_prepare()).
 */
static void
cgroup_release_prev(const char *dir)
{
	struct cgroup_pending *cp;

	if (cgroup_watch(dir, 0) && (cp = cgroup_find_pending(dir, -1)) != NULL)
		cp->prev = 1;
}

/*
 * An instance directory of this socket as a predecessor left it: its
 * services are killed, its jobs (and anything else, from an older
 * layout) left to run on, each directory going once empty. OURS: the
 * one this tendd uses from now on. (cgroup2 has no rename: a job's
 * directory cannot be moved aside; a new run takes another name.)
 */
static void
cgroup_sweep_instance(const char *inst, const char *rel, int ours)
{
	char *path, *sub, *srel;
	struct dirent *de, *je;
	DIR *d, *jd;

	if ((d = opendir(inst)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		xasprintf(&path, "%s/%s", inst, de->d_name);
		if (strcmp(de->d_name, "services") == 0) {
			xasprintf(&srel, "%s/services", rel);
			cgroup_sweep_services(path, srel);
			free(srel);
		} else if (strcmp(de->d_name, "jobs") == 0 &&
		    (jd = opendir(path)) != NULL) {
			while ((je = readdir(jd)) != NULL) {
				if (je->d_type != DT_DIR ||
				    je->d_name[0] == '.')
					continue;
				xasprintf(&sub, "%s/%s", path, je->d_name);
				cgroup_release_prev(sub);
				free(sub);
			}
			closedir(jd);
			rmdir(path);
		} else
			cgroup_release(path);
		free(path);
	}
	closedir(d);
	if (!ours)
		cgroup_release(inst);
	else if (rmdir(inst) == -1)
		cgroup_instance_made = 1;	/* jobs still run in it */
}

/*
 * The session id and start time of PID; -1 once it has ended, unless
 * ZOMBIE: a zombie (waiting for a parent that may never reap it) has
 * ended, but still holds its pid.
 */
static int
cgroup_pid_stat(pid_t pid, pid_t *sid, unsigned long long *start, int zombie)
{
	struct pidstat ps;

	if (procfs_stat(pid, &ps) == -1 ||
	    (!zombie && (ps.state == 'Z' || ps.state == 'X')))
		return -1;
	*sid = ps.sid;
	*start = ps.start;
	return 0;
}

static void
cgroup_dying_free(struct cgroup_dying *cd)
{
	TAILQ_REMOVE(&cgroup_dyings, cd, entry);
	event_free(cd->ev);
	close(cd->fd);
	free(cd);
}

static void
cgroup_dying_cb(int fd, short ev, void *arg)
{
	cgroup_dying_free(arg);
	cgroup_sweep_ended();
}

/*
 * SIGKILL to PID if it is still in session SID, started at START: pinned
 * with a pidfd first, then checked, so a pid that changed hands is never
 * hit. 1 when it was sent (and its end is waited for).
 */
static int
cgroup_kill_member(pid_t pid, pid_t sid, unsigned long long start)
{
	struct cgroup_dying *cd;
	unsigned long long st;
	pid_t s;
	int fd;

	if ((fd = pidfd_open(pid, 0)) == -1)
		return 0;
	if (cgroup_pid_stat(pid, &s, &st, 0) == -1 || s != sid || st != start ||
	    pidfd_send_signal(fd, SIGKILL, NULL, 0) == -1) {
		close(fd);
		return 0;
	}
	cd = xcalloc(1, sizeof(*cd));
	cd->fd = fd;
	cd->ev = event_new(tendd_base, fd, EV_READ, cgroup_dying_cb, cd);
	if (cd->ev == NULL || event_add(cd->ev, NULL) == -1) {
		/*
		 * Killed, but not watched (epoll's watch limit, say): what a
		 * predecessor left must not stop this tendd from starting.
		 */
		log_warn("cannot watch leftover pid %ld until it ends: %s",
		    (long)pid, strerror(errno));
		if (cd->ev != NULL)
			event_free(cd->ev);
		free(cd);
		close(fd);
		return 0;
	}
	TAILQ_INSERT_TAIL(&cgroup_dyings, cd, entry);
	cgroup_sweeping++;
	return 1;
}

static int
cgroup_session_cmp(const void *a, const void *b)
{
	const struct cgroup_session *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/*
 * The members of each recorded session. The session id is its leader's
 * pid, which the kernel gives no other process while any member lives;
 * the leader itself still there with another start time means the id
 * was given again once the session had emptied: not ours. A member
 * started before the leader cannot be of its session. tendd's own
 * session is never touched.
 */
static void
cgroup_sweep_sessions(struct cgroup_old *old)
{
	struct cgroup_session key, *s;
	unsigned long long start, lstart;
	pid_t pid, sid, lsid, me = getpid(), mysid = getsid(0);
	struct dirent *de;
	char *end, *what;
	size_t i;
	DIR *d;

	if (old->n == 0 || (d = opendir("/proc")) == NULL)
		return;
	qsort(old->s, old->n, sizeof(*old->s), cgroup_session_cmp);
	while ((de = readdir(d)) != NULL) {
		pid = (pid_t)strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 1 || pid == me ||
		    cgroup_pid_stat(pid, &sid, &start, 0) == -1 || sid == mysid)
			continue;
		key.pid = sid;
		if ((s = bsearch(&key, old->s, old->n, sizeof(*old->s),
		    cgroup_session_cmp)) == NULL)
			continue;
		if (s->leader == 0)
			s->leader = cgroup_pid_stat(s->pid, &lsid, &lstart,
			    1) == -1 || lstart == s->start ? 1 : -1;
		if (s->leader < 0 || start < s->start)
			continue;
		if (cgroup_kill_member(pid, sid, start))
			cgroup_list_add(&s->list, s->n++, pid);
	}
	closedir(d);
	for (i = 0; i < old->n; i++) {
		s = &old->s[i];
		if (s->n == 0)
			continue;
		xasprintf(&what, "%s (session %ld)", s->name, (long)s->pid);
		cgroup_log_leftovers(what, s->n, s->list);
		free(what);
	}
}

/* Every leftover has ended, or the wait is over: starts may go on. */
static void
cgroup_sweep_cb(int fd, short ev, void *arg)
{
	struct cgroup_pending *cp, *next;
	void (*then)(void) = cgroup_sweep_then;

	if (cgroup_sweeping > 0) {
		log_warn("some processes a previous tendd left have not ended "
		    "%d s after SIGKILL (stuck in the kernel?); starting "
		    "programs anyway", CGROUP_SWEEP_SECS);
		/* They stay where they are; no one waits for them now. */
		cgroup_sweeping = 0;
		for (cp = TAILQ_FIRST(&cgroup_pendings); cp != NULL; cp = next) {
			next = TAILQ_NEXT(cp, entry);
			if (cp->sweep)
				cgroup_drop_pending(cp, 1);
		}
		while (!TAILQ_EMPTY(&cgroup_dyings))
			cgroup_dying_free(TAILQ_FIRST(&cgroup_dyings));
	} else
		log_info("the processes a previous tendd left have ended");
	event_free(cgroup_sweep_ev);
	cgroup_sweep_ev = NULL;
	cgroup_sweep_then = NULL;
	if (then != NULL)
		then();
}

static void
cgroup_sweep_ended(void)
{
	if (cgroup_sweeping > 0 && --cgroup_sweeping == 0 &&
	    cgroup_sweep_ev != NULL)
		event_active(cgroup_sweep_ev, EV_TIMEOUT, 0);
}

void
cgroup_after_sweep(void (*then)(void))
{
	if (cgroup_sweep_ev == NULL)
		then();
	else
		cgroup_sweep_then = then;
}

int
cgroup_may_spawn(char **cause)
{
	if (cgroup_sweep_ev == NULL)
		return 0;
	*cause = xstrdup("the processes a previous tendd left running are "
	    "still being stopped");
	return -1;
}

/* ---- SOCKET.state */

/* This boot's id and this pid namespace's: a record holds in them only. */
static char *
cgroup_state_where(void)
{
	char *boot, *s;
	struct stat st;

	if ((boot = cgroup_read("/proc/sys/kernel/random/boot_id")) == NULL)
		return NULL;
	boot[strcspn(boot, "\n")] = '\0';
	if (stat("/proc/self/ns/pid", &st) == -1) {
		free(boot);
		return NULL;
	}
	xasprintf(&s, "boot %s\npidns %llu\n", boot,
	    (unsigned long long)st.st_ino);
	free(boot);
	return s;
}

/* Parses TEXT into OLD when it was written in this boot and namespace. */
static void
cgroup_state_parse(const char *text, const char *where, struct cgroup_old *old)
{
	const char *s, *e;
	char *line, *name;
	unsigned long long start;
	size_t cap = 0;
	pid_t pid;

	if (strncmp(text, "tend-state 1\n", 13) != 0 ||
	    strncmp(text + 13, where, strlen(where)) != 0) {
		log_debug("%s is from another boot or namespace",
		    cgroup_state_path);
		return;
	}
	for (s = text; *s != '\0'; s = *e != '\0' ? e + 1 : e) {
		e = strchrnul(s, '\n');
		line = xstrndup(s, (size_t)(e - s));
		if (strncmp(line, "cgroup /", 8) == 0 && old->rel == NULL) {
			old->rel = xstrdup(line + 7);
		} else if (cgroup_parse_session(line, &pid, &start, &name)) {
			if (old->n == cap) {
				cap = cap ? 2 * cap : 16;
				old->s = xreallocarray(old->s, cap,
				    sizeof(*old->s));
			}
			memset(&old->s[old->n], 0, sizeof(*old->s));
			old->s[old->n].pid = pid;
			old->s[old->n].start = start;
			old->s[old->n++].name = name;
		}
		free(line);
	}
}

/*
 * A predecessor's SOCKET.state, read and removed. Only a regular file of
 * tendd's own user that no one else may write is believed: what it names
 * gets SIGKILL.
 */
static void
cgroup_state_load(const char *where, struct cgroup_old *old)
{
	struct stat st;
	size_t len = 0;
	ssize_t n;
	char *text;
	int fd;

	fd = open(cgroup_state_path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd == -1) {
		if (errno != ENOENT)
			log_warn("cannot read %s: %s", cgroup_state_path,
			    strerror(errno));
		return;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 022) != 0 ||
	    st.st_size > STATE_MAX) {
		log_warn("ignoring %s: not a regular file of tendd's user that "
		    "only it may write", cgroup_state_path);
		close(fd);
		return;
	}
	text = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size &&
	    (n = read(fd, text + len, (size_t)st.st_size - len)) > 0)
		len += (size_t)n;
	text[len] = '\0';
	close(fd);
	if (where != NULL)
		cgroup_state_parse(text, where, old);
	free(text);
}

/* A fresh SOCKET.state naming the instance (REL), with no session yet. */
static void
cgroup_state_create(const char *where, const char *rel)
{
	char head[STATE_HEADER];
	int n;

	if (unlink(cgroup_state_path) == -1 && errno != ENOENT)
		log_debug("cannot remove %s: %s", cgroup_state_path,
		    strerror(errno));
	if (where == NULL)
		return;
	n = snprintf(head, sizeof(head), "tend-state 1\n%s", where);
	if (rel != NULL && strlen(rel) + 8 < sizeof(head) - (size_t)n)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
		    "cgroup %s\n", rel);
	memset(head + n, ' ', sizeof(head) - (size_t)n - 1);
	head[sizeof(head) - 1] = '\n';
	cgroup_state_fd = open(cgroup_state_path, O_RDWR | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (cgroup_state_fd == -1 ||
	    pwrite(cgroup_state_fd, head, sizeof(head), 0) != sizeof(head)) {
		log_warn("cannot write %s: %s; should tendd die abruptly, the "
		    "next one finds what its services leave only in its own "
		    "cgroup", cgroup_state_path, strerror(errno));
		if (cgroup_state_fd != -1) {
			close(cgroup_state_fd);
			unlink(cgroup_state_path);
		}
		cgroup_state_fd = -1;
	}
}

/* Writes P's slot: its session (PID > 0), or blanks. */
static void
cgroup_state_put(struct proc *p, pid_t pid, unsigned long long start)
{
	char buf[CGROUP_STATE_SLOT];
	off_t off;

	if (cgroup_state_fd == -1 || p->cgroup_slot == 0)
		return;
	cgroup_format_session(buf, pid, start, p->display);
	off = STATE_HEADER + (off_t)(p->cgroup_slot - 1) * CGROUP_STATE_SLOT;
	if (pwrite(cgroup_state_fd, buf, sizeof(buf), off) != sizeof(buf) &&
	    !cgroup_state_warned) {
		cgroup_state_warned = 1;
		log_warn("cannot write %s: %s", cgroup_state_path,
		    strerror(errno));
	}
}

/* P's session, recorded: the next tendd stops what is left in it. */
static void
cgroup_state_record(struct proc *p)
{
	unsigned long long start;
	pid_t sid;

	if (cgroup_state_fd == -1)
		return;
	if (p->cgroup_slot == 0) {
		if (cgroup_state_nfree > 0)
			p->cgroup_slot = cgroup_state_free[--cgroup_state_nfree];
		else
			p->cgroup_slot = ++cgroup_state_top;
	}
	/* The child is past exec (CLONE_VFORK); SID is its pid (setsid). */
	if (cgroup_pid_stat(p->pid, &sid, &start, 0) == -1 || sid != p->pid)
		cgroup_state_put(p, 0, 0);
	else
		cgroup_state_put(p, p->pid, start);
}

static void
cgroup_state_release(struct proc *p)
{
	if (p->cgroup_slot == 0)
		return;
	cgroup_state_put(p, 0, 0);
	if (cgroup_state_nfree == cgroup_state_cap) {
		cgroup_state_cap = cgroup_state_cap ? 2 * cgroup_state_cap : 64;
		cgroup_state_free = xreallocarray(cgroup_state_free,
		    cgroup_state_cap, sizeof(*cgroup_state_free));
	}
	cgroup_state_free[cgroup_state_nfree++] = p->cgroup_slot;
	p->cgroup_slot = 0;
}

/* ---- start-up and exit */

int
cgroup_init(const char *socket)
{
	struct cgroup_old old;
	char *cause = NULL, *where, *dir, *base;
	size_t i;
	int r;

	memset(&old, 0, sizeof(old));
	xasprintf(&cgroup_state_path, "%s.state", socket);
	where = cgroup_state_where();
	cgroup_state_load(where, &old);
	cgroup_sweep_ev = evtimer_new(tendd_base, cgroup_sweep_cb, NULL);
	if (cgroup_sweep_ev == NULL)
		fatal("cannot create a timer");

	if ((r = cgroup_setup(socket, &cause)) == 0) {
		log_info("group stops use a cgroup per process and other "
		    "services share one, in %s", cgroup_instance);
		if (!cgroup_has_kill)
			log_info("no cgroup.kill: group SIGKILLs go to each "
			    "member");
		cgroup_sweep_instance(cgroup_instance, cgroup_instance_rel, 1);
		/* The predecessor ran in another cgroup: the same name there. */
		base = strrchr(cgroup_instance_rel, '/');
		if (old.rel != NULL && strcmp(old.rel, cgroup_instance_rel) != 0 &&
		    strcmp(strrchr(old.rel, '/'), base) == 0 &&
		    (dir = cgroup_find_dir(old.rel)) != NULL) {
			cgroup_sweep_instance(dir, old.rel, 0);
			free(dir);
		}
	} else {
		log_info("no cgroups (%s): stopasgroup and killasgroup reach a "
		    "process's session", cause);
		free(cause);
		cgroup_forget();
	}
	cgroup_sweep_sessions(&old);
	cgroup_state_create(where, cgroup_instance_rel);

	free(where);
	free(old.rel);
	for (i = 0; i < old.n; i++) {
		free(old.s[i].name);
		free(old.s[i].list);
	}
	free(old.s);
	if (cgroup_sweeping > 0) {
		struct timeval tv = { CGROUP_SWEEP_SECS, 0 };

		evtimer_add(cgroup_sweep_ev, &tv);
	} else {
		if (cgroup_swept > 0)
			log_info("the processes a previous tendd left have ended");
		event_free(cgroup_sweep_ev);
		cgroup_sweep_ev = NULL;
	}
	return r;
}

const char *
cgroup_instance_dir(void)
{
	return cgroup_instance;
}

void
cgroup_close(void)
{
	struct cgroup_pending *cp;
	int kept = 0;

	/* Nothing is started from here on. */
	cgroup_sweep_then = NULL;
	cgroup_empty_then = NULL;
	if (cgroup_empty_ev != NULL)
		event_free(cgroup_empty_ev);
	cgroup_empty_ev = NULL;
	if (cgroup_sweep_ev != NULL)
		event_free(cgroup_sweep_ev);
	cgroup_sweep_ev = NULL;
	while (!TAILQ_EMPTY(&cgroup_dyings))
		cgroup_dying_free(TAILQ_FIRST(&cgroup_dyings));
	while ((cp = TAILQ_FIRST(&cgroup_pendings)) != NULL) {
		if (cgroup_rmtree(cp->dir, 0) == -1 && errno != ENOENT)
			log_debug("cgroup %s stays: %s", cp->dir,
			    strerror(errno));
		cgroup_drop_pending(cp, 1);
	}
	cgroup_sweeping = 0;
	if (cgroup_instance != NULL) {
		cgroup_rmtree(cgroup_services, 0);
		cgroup_rmtree(cgroup_jobs, 0);
		if (rmdir(cgroup_instance) == -1 && errno != ENOENT) {
			log_debug("cgroup %s stays: %s", cgroup_instance,
			    strerror(errno));
			kept = 1;
		}
	}
	cgroup_forget();
	/* What stays running in it is found through it by the next tendd. */
	if (cgroup_state_fd != -1) {
		close(cgroup_state_fd);
		if (!kept)
			unlink(cgroup_state_path);
	}
	cgroup_state_fd = -1;
	free(cgroup_state_path);
	cgroup_state_path = NULL;
	free(cgroup_state_free);
	cgroup_state_free = NULL;
	cgroup_state_nfree = cgroup_state_cap = 0;
	cgroup_state_top = 0;
}

/* ---- a process's cgroup */

/* The shared directory of services without a group stop, made if need be. */
static int
cgroup_make_shared(void)
{
	static int warned;

	if (cgroup_mkdir(cgroup_instance, &cgroup_instance_made) == 0 &&
	    cgroup_mkdir(cgroup_services, &cgroup_services_made) == 0 &&
	    cgroup_mkdir(cgroup_shared, &cgroup_shared_made) == 0)
		return 0;
	if (!warned)
		log_warn("cannot create cgroup %s: %s; services without a "
		    "group stop are in none", cgroup_shared, strerror(errno));
	warned = 1;
	return -1;
}

/* P's directory is given up: it goes once empty. */
static void
cgroup_proc_leave(struct proc *p)
{
	if (p->cgroup != NULL)
		cgroup_release(p->cgroup);
	free(p->cgroup);
	free(p->cgroup_join);
	p->cgroup = p->cgroup_join = NULL;
}

const char *
cgroup_proc_prepare(struct proc *p, int clone_into, const char **dir)
{
	const struct program_conf *pc = p->pc;
	struct cgroup_pending *cp;
	const char *parent;
	int *made, n;
	char *name;

	*dir = NULL;
	if (cgroup_instance == NULL) {
		if (cgroup_limited(pc))
			log_warn("%s: no writable cgroup2: its limits are not "
			    "applied", p->display);
		return NULL;
	}
	/* spec §12: limits need a cgroup of its own, as a group stop does */
	if (!pc->stopasgroup && !pc->killasgroup && !cgroup_limited(pc)) {
		if (p->cgroup != NULL)
			cgroup_proc_leave(p);
		/*
		 * No group stop, but a service's leftovers must be found by
		 * the next tendd: one cgroup for all such services. Its
		 * css_set lives as long as any of them runs, so a spawn
		 * into it costs next to nothing (a cgroup of its own would
		 * cost a css_set at each restart, and a directory). Not
		 * where the child would have to join by writing to
		 * cgroup.procs (an RCU grace period, milliseconds, per
		 * spawn): its session is recorded instead.
		 */
		if (!pc->daemon || !clone_into || cgroup_make_shared() == -1)
			return NULL;
		*dir = cgroup_shared;
		return cgroup_shared_join;
	}
	parent = pc->daemon ? cgroup_services : cgroup_jobs;
	made = pc->daemon ? &cgroup_services_made : &cgroup_jobs_made;
	/* daemon changed (a reload restarts it): the other side now */
	if (p->cgroup != NULL && (strncmp(p->cgroup, parent,
	    strlen(parent)) != 0 || p->cgroup[strlen(parent)] != '/'))
		cgroup_proc_leave(p);
	if (cgroup_mkdir(cgroup_instance, &cgroup_instance_made) == -1 ||
	    cgroup_mkdir(parent, made) == -1) {
		log_warn("%s: cannot create cgroup %s: %s; its group is its "
		    "session", p->display, parent, strerror(errno));
		return NULL;
	}
	if (p->cgroup == NULL) {
		name = cgroup_encode_name(p->fullname);
		xasprintf(&p->cgroup, "%s/%s", parent, name);
		/*
		 * A predecessor's run of this job still in NAME: joining it
		 * would have this run's group stop (and the kill of its
		 * leftovers) end that one too. NAME.N instead: never a name
		 * of the encoding (no '.'), nor an interface file (none ends
		 * in digits after its dot).
		 */
		for (n = 1; (cp = cgroup_find_pending(p->cgroup, -1)) != NULL &&
		    cp->prev; n++) {
			free(p->cgroup);
			xasprintf(&p->cgroup, "%s/%s.%d", parent, name, n);
		}
		xasprintf(&p->cgroup_join, "%s/cgroup.procs", p->cgroup);
		free(name);
	}
	/* In use again (by this tendd): no longer to be removed. */
	if ((cp = cgroup_find_pending(p->cgroup, -1)) != NULL && !cp->prev)
		cgroup_drop_pending(cp, 1);
	if (mkdir(p->cgroup, 0755) == -1 && errno != EEXIST) {
		log_warn("%s: cannot create cgroup %s: %s; its group is its "
		    "session", p->display, p->cgroup, strerror(errno));
		cgroup_proc_leave(p);
		return NULL;
	}
	if (cgroup_limited(pc))
		cgroup_limits_apply(p, parent);
	*dir = p->cgroup;
	return p->cgroup_join;
}

void
cgroup_proc_spawned(struct proc *p, int in_cgroup)
{
	if (p->pc->daemon && !in_cgroup)
		cgroup_state_record(p);
	else if (p->cgroup_slot != 0)
		cgroup_state_put(p, 0, 0);
}

void
cgroup_proc_ended(struct proc *p)
{
	if (p->cgroup != NULL)
		cgroup_release(p->cgroup);
	/* At rest: what its session still holds is no longer tend's. */
	if (p->cgroup_slot != 0)
		cgroup_state_put(p, 0, 0);
}

void
cgroup_proc_free(struct proc *p)
{
	cgroup_proc_leave(p);
	cgroup_state_release(p);
}

/* ------------------------------------------------------------------ */
/* spec §12: memory_max, memory_high, cpu_max, cpu_weight, pids_max.    */

int
cgroup_limited(const struct program_conf *pc)
{
	return pc->memory_max > 0 || pc->memory_high > 0 || pc->cpu_max > 0 ||
	    pc->cpu_weight > 0 || pc->pids_max > 0;
}

/* The oom_kill count of DIR's memory.events; -1 when unreadable. */
static long long
cgroup_oom_count(const char *dir)
{
	char *path, *text, *at;
	long long n = -1;

	xasprintf(&path, "%s/memory.events", dir);
	text = cgroup_read(path);
	free(path);
	if (text == NULL)
		return -1;
	if ((at = strstr(text, "oom_kill ")) != NULL)
		n = strtoll(at + 9, NULL, 10);
	free(text);
	return n;
}

/* "+memory +cpu +pids", those needed, in DIR's cgroup.subtree_control. */
static void
cgroup_limits_enable(const char *dir, const struct program_conf *pc)
{
	static const char *const ctl[] = { "+memory", "+cpu", "+pids" };
	int need[3] = { pc->memory_max > 0 || pc->memory_high > 0,
	    pc->cpu_max > 0 || pc->cpu_weight > 0, pc->pids_max > 0 };
	char *path;
	int i;

	xasprintf(&path, "%s/cgroup.subtree_control", dir);
	for (i = 0; i < 3; i++)
		if (need[i])
			cgroup_write(path, ctl[i]);	/* checked by the writes */
	free(path);
}

static void
cgroup_limit_write(struct proc *p, const char *file, const char *value)
{
	char *path;

	xasprintf(&path, "%s/%s", p->cgroup, file);
	if (cgroup_write(path, value) == -1)
		log_warn("%s: cannot write %s to %s: %s: not applied",
		    p->display, value, path, strerror(errno));
	free(path);
}

/* Before the spawn: P's cgroup has its limits (clone3 puts it there). */
static void
cgroup_limits_apply(struct proc *p, const char *parent)
{
	const struct program_conf *pc = p->pc;
	char v[64];

	cgroup_limits_enable(cgroup_instance, pc);
	cgroup_limits_enable(parent, pc);
	snprintf(v, sizeof(v), "%lld", pc->memory_max);
	if (pc->memory_max > 0)
		cgroup_limit_write(p, "memory.max", v);
	snprintf(v, sizeof(v), "%lld", pc->memory_high);
	if (pc->memory_high > 0)
		cgroup_limit_write(p, "memory.high", v);
	/* a percentage of one CPU: quota per 100 ms period */
	snprintf(v, sizeof(v), "%d 100000", pc->cpu_max * 1000);
	if (pc->cpu_max > 0)
		cgroup_limit_write(p, "cpu.max", v);
	snprintf(v, sizeof(v), "%d", pc->cpu_weight);
	if (pc->cpu_weight > 0)
		cgroup_limit_write(p, "cpu.weight", v);
	snprintf(v, sizeof(v), "%d", pc->pids_max);
	if (pc->pids_max > 0)
		cgroup_limit_write(p, "pids.max", v);
	p->oom_base = cgroup_oom_count(p->cgroup);
}

int
cgroup_proc_oom(struct proc *p)
{
	long long n;

	if (p->cgroup == NULL || p->pc->memory_max <= 0 ||
	    (n = cgroup_oom_count(p->cgroup)) <= p->oom_base)
		return 0;
	p->oom_base = n;
	return 1;
}

int
cgroup_limits_usable(char **why)
{
	char *rel = NULL, *own, *path, *text;
	int ok;

	if ((own = cgroup_own_dir(&rel, why)) == NULL)
		return 0;
	free(rel);
	xasprintf(&path, "%s/cgroup.controllers", own);
	text = cgroup_read(path);
	free(path);
	ok = text != NULL && strstr(text, "memory") != NULL &&
	    strstr(text, "pids") != NULL && strstr(text, "cpu") != NULL &&
	    access(own, W_OK) == 0;
	if (!ok)
		xasprintf(why, "cgroup2 at %s has not the memory, cpu and pids "
		    "controllers, or is not writable", own);
	free(text);
	free(own);
	return ok;
}
