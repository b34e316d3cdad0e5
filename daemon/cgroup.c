/*
 * cgroup.c: one cgroup (v2) per process, so that the group that
 * stopasgroup and killasgroup reach is everything the process started,
 * even a descendant that double-forked and called setsid(). Owns tendd's
 * instance directory (tend-HASH, beside tendd in its own cgroup, HASH
 * from the control socket's path), a directory per process in it (the
 * child joins it before exec, spawn.c), signalling a cgroup's members,
 * and removing a directory once it is empty (an inotify watch on its
 * cgroup.events; rmdir fails while it is populated). No controller is
 * enabled: only cgroup.procs, cgroup.kill and cgroup.events are used.
 *
 * Without a writable cgroup2 hierarchy (none mounted, read-only, not
 * ours to write: a systemd unit without Delegate=yes) it says so once
 * and stays out of the way: the group is then the process's session.
 */
#include <sys/inotify.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "tendd.h"

/* Deeper than any tree a program makes of its own cgroup on purpose. */
#define CGROUP_DEPTH	16

/* The instance directory, and its path as /proc/PID/cgroup shows it. */
static char	*cgroup_instance;
static char	*cgroup_instance_rel;
static int	 cgroup_has_kill;	/* cgroup.kill: Linux 5.14 */

/* Directories to remove once empty, each watched through inotify. */
struct cgroup_pending {
	char	*dir;
	int	 wd;
	TAILQ_ENTRY(cgroup_pending) entry;
};
static TAILQ_HEAD(, cgroup_pending) cgroup_pendings =
    TAILQ_HEAD_INITIALIZER(cgroup_pendings);
static int	 cgroup_ifd = -1;
static struct event *cgroup_iev;

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

static void
cgroup_drop_pending(struct cgroup_pending *cp, int unwatch)
{
	if (unwatch)
		inotify_rm_watch(cgroup_ifd, cp->wd);
	TAILQ_REMOVE(&cgroup_pendings, cp, entry);
	free(cp->dir);
	free(cp);
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
 * DIR's processes are no longer wanted there: remove it now if it is
 * empty, or when it becomes so (its cgroup.events changes when the last
 * process leaves). Never a wait, never a retry on a timer.
 */
static void
cgroup_release(const char *dir)
{
	struct cgroup_pending *cp;
	char *events;
	int wd;

	if (cgroup_rmtree(dir, 0) == 0 || errno == ENOENT ||
	    cgroup_find_pending(dir, -1) != NULL)
		return;
	if (errno != EBUSY && errno != ENOTEMPTY) {
		log_warn("cannot remove cgroup %s: %s", dir, strerror(errno));
		return;
	}
	xasprintf(&events, "%s/cgroup.events", dir);
	wd = inotify_add_watch(cgroup_ifd, events, IN_MODIFY);
	free(events);
	if (wd == -1) {
		log_warn("cannot watch cgroup %s: %s", dir, strerror(errno));
		return;
	}
	cp = xcalloc(1, sizeof(*cp));
	cp->dir = xstrdup(dir);
	cp->wd = wd;
	TAILQ_INSERT_TAIL(&cgroup_pendings, cp, entry);
	/* It may have emptied before the watch was there. */
	if (cgroup_rmtree(dir, 0) == 0)
		cgroup_drop_pending(cp, 1);
}

/* ---- the instance */

/* tendd's own cgroup directory, or NULL with *CAUSE. */
static char *
cgroup_own_dir(char **rel, char **cause)
{
	char *text, *line = NULL, *root, *mnt, *dir = NULL;
	size_t cap = 0;
	FILE *f;

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
	if ((f = fopen("/proc/self/mountinfo", "re")) == NULL) {
		xasprintf(cause, "cannot read /proc/self/mountinfo: %s",
		    strerror(errno));
		goto fail;
	}
	while (dir == NULL && getline(&line, &cap, f) != -1) {
		line[strcspn(line, "\n")] = '\0';
		if (!cgroup_parse_mountinfo(line, &root, &mnt))
			continue;
		dir = cgroup_dir_of(mnt, root, *rel);
		free(root);
		free(mnt);
	}
	free(line);
	fclose(f);
	if (dir != NULL)
		return dir;
	*cause = xstrdup("no cgroup2 file system is mounted that shows "
	    "tendd's cgroup");
fail:
	free(*rel);
	*rel = NULL;
	return NULL;
}

static int	 cgroup_instance_made;	/* the instance directory exists */

static int
cgroup_setup(const char *socket, char **cause)
{
	char *own, *rel, *name, *sock, *cwd, *path;
	struct dirent *de;
	DIR *d;

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
	/* The socket names this tendd: same socket, same directory. */
	if (socket[0] != '/' && (cwd = getcwd(NULL, 0)) != NULL) {
		xasprintf(&sock, "%s/%s", cwd, socket);
		free(cwd);
	} else
		sock = xstrdup(socket);
	xasprintf(&name, "tend-%016llx",
	    (unsigned long long)cgroup_hash(sock));
	free(sock);
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
	/*
	 * What a predecessor on this socket left (it was SIGKILLed, or
	 * stopped programs without their group): empty directories go at
	 * once. Populated ones hold its jobs, which outlive tendd by design
	 * (docs/behaviour.md), or what a stop without stopasgroup left
	 * running: nothing is killed; each goes when it empties, unless a
	 * process of the same name starts first and makes it its own.
	 */
	if ((d = opendir(cgroup_instance)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_type != DT_DIR || de->d_name[0] == '.')
				continue;
			xasprintf(&path, "%s/%s", cgroup_instance, de->d_name);
			cgroup_release(path);
			free(path);
		}
		closedir(d);
	}
	/*
	 * Made again when a process first needs it: a tendd whose programs
	 * never stop as a group, if SIGKILLed, leaves nothing behind.
	 */
	if (rmdir(cgroup_instance) == 0)
		cgroup_instance_made = 0;
	else
		cgroup_instance_made = 1;	/* the predecessor's, populated */
	return 0;
}

int
cgroup_init(const char *socket)
{
	char *cause = NULL;

	if (cgroup_setup(socket, &cause) == 0) {
		log_info("group stops use a cgroup per process in %s%s",
		    cgroup_instance, cgroup_has_kill ? "" : " (no cgroup.kill: group SIGKILLs "
		    "go to each member)");
		return 0;
	}
	log_info("no cgroups (%s): stopasgroup and killasgroup reach a "
	    "process's session", cause);
	free(cause);
	cgroup_close();
	return -1;
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

	while ((cp = TAILQ_FIRST(&cgroup_pendings)) != NULL) {
		if (cgroup_rmtree(cp->dir, 0) == -1 && errno != ENOENT)
			log_debug("cgroup %s stays: %s", cp->dir,
			    strerror(errno));
		cgroup_drop_pending(cp, 1);
	}
	if (cgroup_iev != NULL)
		event_free(cgroup_iev);
	cgroup_iev = NULL;
	if (cgroup_ifd != -1)
		close(cgroup_ifd);
	cgroup_ifd = -1;
	if (cgroup_instance != NULL && rmdir(cgroup_instance) == -1 &&
	    errno != ENOENT)
		log_debug("cgroup %s stays: %s", cgroup_instance,
		    strerror(errno));
	free(cgroup_instance);
	free(cgroup_instance_rel);
	cgroup_instance = cgroup_instance_rel = NULL;
	cgroup_instance_made = 0;
}

/* ---- a process's cgroup */

const char *
cgroup_proc_prepare(struct proc *p)
{
	struct cgroup_pending *cp;
	char *name;

	if (cgroup_instance == NULL)
		return NULL;
	/*
	 * Only a group stop uses the group. The cgroup costs every spawn of
	 * the process (a css_set made in the kernel, a directory made and
	 * removed): a program without stopasgroup or killasgroup does not pay.
	 */
	if (!p->pc->stopasgroup && !p->pc->killasgroup) {
		if (p->cgroup != NULL)
			cgroup_proc_free(p);
		return NULL;
	}
	if (!cgroup_instance_made) {
		if (mkdir(cgroup_instance, 0755) == -1 && errno != EEXIST) {
			log_warn("%s: cannot create %s: %s; its group is its "
			    "session", p->display, cgroup_instance,
			    strerror(errno));
			return NULL;
		}
		cgroup_instance_made = 1;
	}
	if (p->cgroup == NULL) {
		name = cgroup_encode_name(p->fullname);
		xasprintf(&p->cgroup, "%s/%s", cgroup_instance, name);
		xasprintf(&p->cgroup_join, "%s/cgroup.procs", p->cgroup);
		free(name);
	}
	/* In use again: no longer to be removed. */
	if ((cp = cgroup_find_pending(p->cgroup, -1)) != NULL)
		cgroup_drop_pending(cp, 1);
	if (mkdir(p->cgroup, 0755) == -1 && errno != EEXIST) {
		log_warn("%s: cannot create cgroup %s: %s; its group is its "
		    "session", p->display, p->cgroup, strerror(errno));
		cgroup_proc_free(p);
		return NULL;
	}
	return p->cgroup_join;
}

void
cgroup_proc_ended(struct proc *p)
{
	if (p->cgroup != NULL)
		cgroup_release(p->cgroup);
}

void
cgroup_proc_free(struct proc *p)
{
	cgroup_proc_ended(p);
	free(p->cgroup);
	free(p->cgroup_join);
	p->cgroup = p->cgroup_join = NULL;
}

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
