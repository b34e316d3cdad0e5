/*
 * logfile.c: where children's output goes (spec §2, §6). A file (a path,
 * or AUTO: a file of its own in childlogdir) is appended to and rotated
 * at maxbytes into name.1 ... name.N as supervisord does; tendd's own
 * stdout and stderr are written as they are and never rotated; the
 * journal gets one entry per line. A file named by several streams is
 * opened once and shared, so it is rotated once.
 *
 * A destination that cannot be written (deleted directory, read-only
 * file, full disk, a reader of tendd's stdout that stopped reading) is
 * reported once in tendd's log. Its writers are held (they stop reading
 * their pipes, so the children block in write() and lose nothing) for
 * LOGFILE_HOLD_SECS; after that the output is dropped and counted, so
 * that no child blocks forever and tendd's memory stays bounded. Every
 * second it is tried again; when it works, a line saying how many bytes
 * were lost goes into it and tendd logs that it recovered.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/event.h>

#include "tendd.h"
#include "utf8.h"

/* Held this long, then dropped and counted (see the top). */
#define LOGFILE_HOLD_SECS	5.0
/* A broken destination is tried again this often. */
#define LOGFILE_RETRY_SECS	1
/* How often a file is checked for having been deleted or moved away. */
#define LOGFILE_CHECK_SECS	1.0
/* journald's own LineMax: a longer line becomes several entries. */
#define LOGFILE_JOURNAL_LINE	(48 * 1024)
#define LOGFILE_MSG_PREFIX	"MESSAGE="
/* The childlogdir that is created when missing (the spec's default). */
#define LOGFILE_DEFAULT_DIR	"/var/log/tend"
/* Pieces of one write; output.c offers one or two (the ring's halves). */
#define LOGFILE_IOV		16

enum logfile_kind {
	LOGFILE_FILE,		/* a path or AUTO: appended, sized, rotated */
	LOGFILE_FD,		/* /dev/stdout, /dev/stderr: tendd's own */
	LOGFILE_JOURNAL,
};

struct logfile {
	TAILQ_ENTRY(logfile) entry;
	int		 refs;
	enum logfile_kind kind;
	char		*path;		/* file path; "/dev/stdout"; "journal" */
	int		 fd;		/* -1 while it cannot be opened */
	int		 regular;	/* a regular file: sized and rotated */
	int		 sock;		/* a socket: send(MSG_DONTWAIT) */
	int		 nofollow;	/* open with O_NOFOLLOW (see below) */
	long long	 maxbytes;	/* 0: never rotate */
	int		 backups;
	long long	 size;
	double		 checked;	/* last look at the path (monotonic) */
	double		 norotate_until;	/* a rotation failed: retry later */

	/* When it cannot be written. */
	int		 err;		/* errno of the failure; 0: healthy */
	const char	*op;		/* "open", "write", "send" */
	double		 since;		/* monotonic time of the failure */
	int		 retry_due;	/* the retry timer fired */
	unsigned	 round;		/* wake-ups so far (logfile_retry_cb) */
	unsigned long long lost;	/* bytes dropped, not yet noted */
	unsigned long long lost_noted;	/* ... and noted in the file */
	unsigned long long lost_ever;	/* bytes dropped, never reset */
	int		 rotate_err;	/* a rotation failed (reported) */
	double		 stalled;	/* nonblocking: EAGAIN since then; 0 */
	struct event	*retry;
	struct event	*wev;		/* writable again (nonblocking fds) */
	TAILQ_HEAD(, logfile_waiter) waiters;

	/* The journal: one object per stream, with its fields. */
	char		*f_ident;	/* SYSLOG_IDENTIFIER=name */
	char		*f_process;	/* TEND_PROCESS=group:name */
	const char	*f_stream;	/* TEND_STREAM=stdout */
	const char	*f_prio;	/* PRIORITY=6 (stdout) or 4 (stderr) */
	pid_t		 pid;
	char		*line;		/* "MESSAGE=" and the line so far */
	size_t		 linelen;	/* bytes after the prefix */
	int		 line_ready;	/* complete, not yet sent */
};
static TAILQ_HEAD(, logfile) logfiles = TAILQ_HEAD_INITIALIZER(logfiles);
static mode_t	 logfile_umask = 022;
static const struct systemd_lib *logfile_sd;	/* set by the first journal */

static int	 logfile_reopen(struct logfile *);

void
logfile_init(void)
{
	mode_t m = umask(022);

	umask(m);
	logfile_umask = m;
}

int
logfile_is_journal(const struct logfile *lf)
{
	return lf->kind == LOGFILE_JOURNAL;
}

/* The file LF writes (an AUTO one's real name); NULL for the others. */
const char *
logfile_file_path(const struct logfile *lf)
{
	return lf != NULL && lf->kind == LOGFILE_FILE ? lf->path : NULL;
}

static void
logfile_retry_cb(int fd, short ev, void *arg)
{
	struct logfile *lf = arg;
	struct logfile_waiter *w;

	lf->retry_due = 1;
	/*
	 * Each is woken once: one that still cannot write waits again, at
	 * the tail with this round's number, and is left for the next tick.
	 * A writer may drop its destination while woken: hold a reference.
	 */
	lf->refs++;
	lf->round++;
	while ((w = TAILQ_FIRST(&lf->waiters)) != NULL &&
	    w->round != lf->round) {
		TAILQ_REMOVE(&lf->waiters, w, entry);
		w->queued = 0;
		w->cb(w->arg);
	}
	logfile_release(lf);
}

static void
logfile_wev_cb(int fd, short ev, void *arg)
{
	logfile_retry_cb(fd, ev, arg);
}

static void
logfile_arm_retry(struct logfile *lf)
{
	struct timeval tv = { LOGFILE_RETRY_SECS, 0 };

	if (!evtimer_pending(lf->retry, NULL))
		evtimer_add(lf->retry, &tv);
}

void
logfile_wait(struct logfile *lf, struct logfile_waiter *w)
{
	if (w->queued)
		return;
	w->queued = 1;
	w->round = lf->round;
	TAILQ_INSERT_TAIL(&lf->waiters, w, entry);
	/* Whatever happens, a waiter hears again within a second. */
	logfile_arm_retry(lf);
}

void
logfile_unwait(struct logfile *lf, struct logfile_waiter *w)
{
	if (lf == NULL || !w->queued)
		return;
	TAILQ_REMOVE(&lf->waiters, w, entry);
	w->queued = 0;
}

static struct logfile *
logfile_new(enum logfile_kind kind, const char *path)
{
	struct logfile *lf = xcalloc(1, sizeof(*lf));

	lf->refs = 1;
	lf->kind = kind;
	lf->path = xstrdup(path);
	lf->fd = -1;
	TAILQ_INIT(&lf->waiters);
	lf->retry = evtimer_new(tendd_base, logfile_retry_cb, lf);
	if (lf->retry == NULL)
		fatal("cannot create a timer");
	TAILQ_INSERT_TAIL(&logfiles, lf, entry);
	return lf;
}

/*
 * Symbolic links are followed (people point logs at /proc/1/fd/1), but
 * not in a directory others may write to, where a planted link would
 * make tendd append to a file of the planter's choice.
 */
static int
logfile_needs_nofollow(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	struct stat st;
	int r = 1;

	if (slash != NULL) {
		*(slash == dir ? slash + 1 : slash) = '\0';
		if (stat(dir, &st) == 0)
			r = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0 ||
			    (st.st_uid != 0 && st.st_uid != geteuid());
	}
	free(dir);
	return r;
}

/* Opens lf->path for appending. 0, or -1 with errno. */
static int
logfile_open_path(struct logfile *lf)
{
	struct stat st;
	int fd, flags;

	/* O_NONBLOCK: a FIFO without a reader must not hang tendd. */
	flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK;
	if (lf->nofollow)
		flags |= O_NOFOLLOW;
	fd = open(lf->path, flags, 0644);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	lf->fd = fd;
	lf->regular = S_ISREG(st.st_mode);
	lf->size = lf->regular ? st.st_size : 0;
	lf->sock = 0;
	lf->checked = util_now();
	if (lf->wev != NULL) {
		event_free(lf->wev);
		lf->wev = NULL;
	}
	return 0;
}

/*
 * A descriptor of tendd's own for its fd SRC (1 or 2), CLOEXEC. A pipe
 * or terminal is opened again through /proc, which gives tendd a
 * description of its own that it may make nonblocking without touching
 * the one it shares with whoever started it; anything else (a file, a
 * socket, which /proc cannot open) is duplicated, and *SOCK says whether
 * it must be written with send(MSG_DONTWAIT). -1 with errno.
 */
int
logfile_own_fd(int src, int *sock)
{
	struct stat st;
	char proc[32];
	int fd = -1;

	if (fstat(src, &st) == -1)
		return -1;
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", src);
		fd = open(proc, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	}
	if (fd == -1)
		fd = fcntl(src, F_DUPFD_CLOEXEC, 3);
	if (fd == -1)
		return -1;
	*sock = S_ISSOCK(st.st_mode);
	return fd;
}

/*
 * 1 or 2 when PATH names tendd's own stdout or stderr however it is
 * spelt (/dev/stdout, /dev/fd/1, /proc/self/fd/1, /proc/thread-self/fd/1,
 * /proc/PID/fd/1 with tendd's pid, as PID 1 in a container is), else 0.
 * Those are links to whatever the descriptor is: opening one fails for a
 * socket and would give a second, blocking description of a pipe, so
 * tendd writes to the descriptor instead.
 */
int
logfile_descriptor(const char *path)
{
	static const char *const prefixes[] = {
		"/dev/fd/", "/proc/self/fd/", "/proc/thread-self/fd/", NULL
	};
	const char *rest = NULL;
	char *end;
	long pid;
	int i;

	if (strcmp(path, "/dev/stdout") == 0)
		return 1;
	if (strcmp(path, "/dev/stderr") == 0)
		return 2;
	for (i = 0; prefixes[i] != NULL && rest == NULL; i++)
		if (strncmp(path, prefixes[i], strlen(prefixes[i])) == 0)
			rest = path + strlen(prefixes[i]);
	if (rest == NULL && strncmp(path, "/proc/", 6) == 0 &&
	    path[6] >= '1' && path[6] <= '9') {
		pid = strtol(path + 6, &end, 10);
		if (pid == (long)getpid() && strncmp(end, "/fd/", 4) == 0)
			rest = end + 4;
	}
	if (rest == NULL)
		return 0;
	if (strcmp(rest, "1") == 0)
		return 1;
	if (strcmp(rest, "2") == 0)
		return 2;
	return 0;
}

/* tendd's own fd 1 or 2 as a destination. */
static int
logfile_open_own(struct logfile *lf, int src, char **cause)
{
	int sock, fd;

	if ((fd = logfile_own_fd(src, &sock)) == -1) {
		if (errno == EBADF)
			xasprintf(cause, "cannot write to %s: tendd's %s is "
			    "closed", lf->path, src == 1 ? "stdout" : "stderr");
		else
			xasprintf(cause, "cannot write to %s: %s", lf->path,
			    strerror(errno));
		return -1;
	}
	lf->fd = fd;
	lf->sock = sock;
	lf->regular = 0;	/* never rotated: it is tendd's, not ours */
	return 0;
}

/*
 * S as one component of an AUTO file name: a '/' (an identifier such as
 * "a/../../b"; names cannot hold one) would lead the file out of
 * childlogdir, so it becomes '_'. Nothing else needs care: no shell ever
 * sees the name.
 */
static char *
logfile_auto_part(const char *s)
{
	char *r = xstrdup(s), *c;

	for (c = r; *c != '\0'; c++)
		if (*c == '/')
			*c = '_';
	return r;
}

/* A new file in DIR named NAME-stdout---IDENT-XXXXXX.log (supervisord's). */
static int
logfile_open_auto(struct logfile *lf, const struct proc *p,
    enum output_stream which, char **cause)
{
	const char *dir = tendd_conf->childlogdir;
	struct stat st;
	char *tmpl, *name, *ident;
	int fd;

	if (stat(dir, &st) == -1 && errno == ENOENT &&
	    strcmp(dir, LOGFILE_DEFAULT_DIR) == 0) {
		/* The spec's default: made on first use, as packages do. */
		if (mkdir(dir, 0755) == 0)
			log_info("created childlogdir %s", dir);
	}
	name = logfile_auto_part(p->name);
	ident = logfile_auto_part(tendd_conf->identifier);
	xasprintf(&tmpl, "%s/%s-%s---%s-XXXXXX.log", dir, name,
	    which == OUTPUT_STDOUT ? "stdout" : "stderr", ident);
	free(name);
	free(ident);
	fd = mkostemps(tmpl, 4, O_APPEND | O_CLOEXEC);
	if (fd == -1) {
		xasprintf(cause, "cannot create a log file in childlogdir %s: "
		    "%s", dir, strerror(errno));
		free(tmpl);
		return -1;
	}
	fchmod(fd, 0644 & ~logfile_umask);
	free(lf->path);
	lf->path = tmpl;
	lf->fd = fd;
	lf->regular = 1;
	lf->size = 0;
	lf->checked = util_now();
	return 0;
}

static struct logfile *
logfile_find(enum logfile_kind kind, const char *path)
{
	struct logfile *lf;

	TAILQ_FOREACH(lf, &logfiles, entry)
		if (lf->kind == kind && strcmp(lf->path, path) == 0)
			return lf;
	return NULL;
}

char *
logfile_make_spec(const struct proc *p, enum output_stream which)
{
	const struct program_conf *pc = p->pc;
	const char *dest = which == OUTPUT_STDOUT ? pc->stdout_logfile :
	    pc->stderr_logfile;
	long long maxbytes = which == OUTPUT_STDOUT ? pc->stdout_maxbytes :
	    pc->stderr_maxbytes;
	int backups = which == OUTPUT_STDOUT ? pc->stdout_backups :
	    pc->stderr_backups;
	char *spec;

	if (dest == NULL || strcmp(dest, "NONE") == 0)
		return NULL;
	if (strcmp(dest, "AUTO") == 0)
		xasprintf(&spec, "AUTO %s %s %lld %d", tendd_conf->childlogdir,
		    tendd_conf->identifier, maxbytes, backups);
	else if (strcmp(dest, "journal") == 0)
		xasprintf(&spec, "journal %s", p->fullname);
	else
		xasprintf(&spec, "%s %lld %d", dest, maxbytes, backups);
	return spec;
}

int
logfile_open(struct proc *p, enum output_stream which, struct logfile **out,
    char **cause)
{
	const struct program_conf *pc = p->pc;
	const char *dest = which == OUTPUT_STDOUT ? pc->stdout_logfile :
	    pc->stderr_logfile;
	struct logfile *lf;
	char *why;
	int own;

	*out = NULL;
	if (dest == NULL || strcmp(dest, "NONE") == 0)
		return 0;

	if (strcmp(dest, "journal") == 0) {
		if (logfile_sd == NULL &&
		    (logfile_sd = systemd_lib(&why)) == NULL) {
			xasprintf(cause, "%s = journal: %s", which ==
			    OUTPUT_STDOUT ? "stdout_logfile" : "stderr_logfile",
			    why);
			free(why);
			return -1;
		}
		lf = logfile_new(LOGFILE_JOURNAL, "journal");
		xasprintf(&lf->f_ident, "SYSLOG_IDENTIFIER=%s", p->name);
		xasprintf(&lf->f_process, "TEND_PROCESS=%s", p->fullname);
		lf->f_stream = which == OUTPUT_STDOUT ? "TEND_STREAM=stdout" :
		    "TEND_STREAM=stderr";
		/* stdout at info, stderr at warning */
		lf->f_prio = which == OUTPUT_STDOUT ? "PRIORITY=6" :
		    "PRIORITY=4";
		lf->line = xmalloc(strlen(LOGFILE_MSG_PREFIX) +
		    LOGFILE_JOURNAL_LINE);
		memcpy(lf->line, LOGFILE_MSG_PREFIX,
		    strlen(LOGFILE_MSG_PREFIX));
		*out = lf;
		return 0;
	}

	if ((own = logfile_descriptor(dest)) != 0) {
		dest = own == 1 ? "/dev/stdout" : "/dev/stderr";
		if ((lf = logfile_find(LOGFILE_FD, dest)) != NULL) {
			lf->refs++;
			*out = lf;
			return 0;
		}
		lf = logfile_new(LOGFILE_FD, dest);
		if (logfile_open_own(lf, own, cause) == -1) {
			logfile_release(lf);
			return -1;
		}
		*out = lf;
		return 0;
	}

	if (strcmp(dest, "AUTO") != 0 &&
	    (lf = logfile_find(LOGFILE_FILE, dest)) != NULL) {
		/* One file, one writer object: rotated once, by its first
		   user's maxbytes and backups. */
		lf->refs++;
		*out = lf;
		return 0;
	}
	lf = logfile_new(LOGFILE_FILE, dest);
	lf->maxbytes = which == OUTPUT_STDOUT ? pc->stdout_maxbytes :
	    pc->stderr_maxbytes;
	lf->backups = which == OUTPUT_STDOUT ? pc->stdout_backups :
	    pc->stderr_backups;
	if (strcmp(dest, "AUTO") == 0) {
		if (logfile_open_auto(lf, p, which, cause) == -1) {
			logfile_release(lf);
			return -1;
		}
		lf->nofollow = 1;	/* the name is ours alone */
	} else {
		lf->nofollow = logfile_needs_nofollow(dest);
		if (logfile_open_path(lf) == -1) {
			if (errno == ELOOP && lf->nofollow)
				xasprintf(cause, "cannot open log file %s: it "
				    "is a symbolic link in a directory others "
				    "can write to", dest);
			else
				xasprintf(cause, "cannot open log file %s: %s",
				    dest, strerror(errno));
			logfile_release(lf);
			return -1;
		}
	}
	*out = lf;
	return 0;
}

/*
 * The journal's partial line goes out as an entry of its own. MESSAGE=
 * is text: bytes of the line that are not UTF-8 are sent as U+FFFD (the
 * log file, not the journal, keeps a program's bytes as they were).
 */
static int
logfile_journal_send(struct logfile *lf)
{
	size_t pre = strlen(LOGFILE_MSG_PREFIX), size;
	struct iovec iov[6];
	char pidf[32], *text = NULL;
	int n = 0, r;

	iov[n].iov_base = lf->line;
	iov[n++].iov_len = pre + lf->linelen;
	if (!utf8_valid(lf->line + pre, lf->linelen) ||
	    memchr(lf->line + pre, '\0', lf->linelen) != NULL) {
		size = pre + lf->linelen * 3 + 1;
		text = xmalloc(size);
		memcpy(text, LOGFILE_MSG_PREFIX, pre);
		iov[0].iov_base = text;
		iov[0].iov_len = pre + utf8_clean(text + pre, size - pre,
		    lf->line + pre, lf->linelen, 0);
	}
	iov[n].iov_base = (void *)lf->f_prio;
	iov[n++].iov_len = strlen(lf->f_prio);
	iov[n].iov_base = lf->f_ident;
	iov[n++].iov_len = strlen(lf->f_ident);
	iov[n].iov_base = lf->f_process;
	iov[n++].iov_len = strlen(lf->f_process);
	iov[n].iov_base = (void *)lf->f_stream;
	iov[n++].iov_len = strlen(lf->f_stream);
	if (lf->pid > 0) {
		snprintf(pidf, sizeof(pidf), "SYSLOG_PID=%ld", (long)lf->pid);
		iov[n].iov_base = pidf;
		iov[n++].iov_len = strlen(pidf);
	}
	r = logfile_sd->journal_sendv(iov, n);
	free(text);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	lf->linelen = 0;
	lf->line_ready = 0;
	return 0;
}

void
logfile_flush(struct logfile *lf)
{
	if (lf == NULL || lf->kind != LOGFILE_JOURNAL || lf->linelen == 0)
		return;
	if (lf->err == 0 && logfile_journal_send(lf) == 0)
		return;
	lf->lost += lf->linelen;
	lf->linelen = 0;
	lf->line_ready = 0;
}

void
logfile_set_pid(struct logfile *lf, pid_t pid)
{
	if (lf != NULL)
		lf->pid = pid;
}

static size_t
logfile_iov_len(const struct iovec *iov, int n)
{
	size_t len = 0;
	int i;

	for (i = 0; i < n; i++)
		len += iov[i].iov_len;
	return len;
}

/* The byte at OFF of the gather list. */
static const char *
logfile_iov_at(const struct iovec *iov, int n, size_t off, size_t *avail)
{
	int i;

	for (i = 0; i < n; i++) {
		if (off < iov[i].iov_len) {
			*avail = iov[i].iov_len - off;
			return (const char *)iov[i].iov_base + off;
		}
		off -= iov[i].iov_len;
	}
	*avail = 0;
	return NULL;
}

/* Bytes OFF .. OFF+LEN of the gather list, as a list of its own. */
static int
logfile_iov_slice(const struct iovec *iov, int n, size_t off, size_t len,
    struct iovec *out, int max)
{
	int i, k = 0;
	size_t take;

	for (i = 0; i < n && len > 0 && k < max; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		take = iov[i].iov_len - off;
		if (take > len)
			take = len;
		out[k].iov_base = (char *)iov[i].iov_base + off;
		out[k++].iov_len = take;
		len -= take;
		off = 0;
	}
	return k;
}

/*
 * Where to end the bytes that still fit in the file before it rotates:
 * after the last newline within ROOM bytes from OFF, so lines are not cut
 * in two; at ROOM when there is none.
 */
static size_t
logfile_split(const struct iovec *iov, int n, size_t off, size_t room)
{
	struct iovec sl[LOGFILE_IOV];
	const char *nl;
	int k, i;

	k = logfile_iov_slice(iov, n, off, room, sl, LOGFILE_IOV);
	for (i = k - 1; i >= 0; i--) {
		nl = memrchr(sl[i].iov_base, '\n', sl[i].iov_len);
		if (nl != NULL) {
			size_t at = (size_t)(nl - (const char *)sl[i].iov_base) + 1;
			int j;

			for (j = 0; j < i; j++)
				at += sl[j].iov_len;
			return at;
		}
	}
	return room;
}

/*
 * supervisord's scheme: PATH.N-1 -> PATH.N ... PATH -> PATH.1 (a missing
 * one is skipped). -1 with *CAUSE when a rename is refused; what was
 * renamed stays renamed.
 */
int
logfile_shift(const char *path, int backups, char **cause)
{
	char *from, *to;
	int i;

	for (i = backups; i >= 1; i--) {
		if (i == 1)
			from = xstrdup(path);
		else
			xasprintf(&from, "%s.%d", path, i - 1);
		xasprintf(&to, "%s.%d", path, i);
		if (rename(from, to) == -1 && errno != ENOENT) {
			xasprintf(cause, "rename %s to %s: %s", from, to,
			    strerror(errno));
			free(from);
			free(to);
			return -1;
		}
		free(from);
		free(to);
	}
	return 0;
}

/*
 * The file is full: shifted into the backups and opened fresh; with no
 * backups it is emptied instead (as supervisord).
 */
static int
logfile_rotate(struct logfile *lf)
{
	char *cause;
	int fd;

	if (lf->backups <= 0) {
		if (ftruncate(lf->fd, 0) == -1) {
			if (!lf->rotate_err++)
				log_error("cannot empty %s at maxbytes=%lld: "
				    "%s", lf->path, lf->maxbytes,
				    strerror(errno));
			return -1;
		}
		lf->size = 0;
		lf->rotate_err = 0;
		return 0;
	}
	if (logfile_shift(lf->path, lf->backups, &cause) == -1) {
		if (!lf->rotate_err++)
			log_error("cannot rotate %s: %s; writing on and trying "
			    "again", lf->path, cause);
		free(cause);
		return -1;
	}
	fd = lf->fd;
	lf->fd = -1;
	if (logfile_open_path(lf) == -1) {
		/* The old file is name.1 now; nothing more can go there. */
		int saved = errno;

		close(fd);
		errno = saved;
		return -2;
	}
	close(fd);
	if (lf->rotate_err) {
		log_info("%s rotated again", lf->path);
		lf->rotate_err = 0;
	}
	return 0;
}

static void
logfile_fail(struct logfile *lf, const char *op, int err)
{
	if (lf->err != 0)
		return;
	lf->err = err;
	lf->op = op;
	lf->since = lf->stalled > 0 ? lf->stalled : util_now();
	lf->lost = 0;
	if (err == EAGAIN)
		log_error("%s is not being read for %.0fs; output written to "
		    "it is dropped (and counted) until it is read again",
		    lf->path, LOGFILE_HOLD_SECS);
	else
		log_error("cannot %s %s: %s; the output is held for %.0fs "
		    "(programs block once their pipe is full), then dropped "
		    "and counted until it can be written again; retrying "
		    "every %ds", op, lf->path, strerror(err),
		    LOGFILE_HOLD_SECS, LOGFILE_RETRY_SECS);
}

static void
logfile_recovered(struct logfile *lf)
{
	unsigned long long lost;

	if (lf->err == 0)
		return;
	lost = lf->lost + lf->lost_noted;
	if (lost > 0)
		log_info("%s can be written again after %.1fs; %llu bytes "
		    "of output were lost", lf->path, util_now() - lf->since,
		    lost);
	else
		log_info("%s can be written again after %.1fs; nothing was "
		    "lost", lf->path, util_now() - lf->since);
	lf->err = 0;
	lf->lost = 0;
	lf->lost_noted = 0;
	lf->stalled = 0;
}

/*
 * LEN bytes could not be written (TAKEN of them were): hold them back
 * (return TAKEN: the writer waits) while the failure is young, drop and
 * count them once it is older than LOGFILE_HOLD_SECS.
 */
static size_t
logfile_unwritten(struct logfile *lf, size_t len, size_t taken)
{
	/* Dropping or not, the destination is tried again in a second. */
	logfile_arm_retry(lf);
	if (util_now() - lf->since >= LOGFILE_HOLD_SECS) {
		lf->lost += len - taken;
		lf->lost_ever += len - taken;
		return len;
	}
	return taken;
}

/* Bytes it ever dropped (metrics: per stream, counted around a write). */
unsigned long long
logfile_dropped(const struct logfile *lf)
{
	return lf != NULL ? lf->lost_ever : 0;
}

/* After a loss, the file says so before anything else goes in. */
static int
logfile_write_note(struct logfile *lf)
{
	char note[512];
	int n;

	if (lf->lost == 0 || lf->kind == LOGFILE_JOURNAL)
		return 0;
	n = snprintf(note, sizeof(note), "[tend: %llu bytes of output were "
	    "lost here: cannot %s %s: %s]\n", lf->lost, lf->op, lf->path,
	    strerror(lf->err));
	if (n < 0 || n >= (int)sizeof(note))
		n = (int)strlen(note);
	if (write(lf->fd, note, (size_t)n) != n)
		return -1;
	if (lf->regular)
		lf->size += n;
	lf->lost_noted += lf->lost;
	lf->lost = 0;
	return 0;
}

/*
 * Every LOGFILE_CHECK_SECS of writing, make sure the path still names
 * the file being written: deleted, moved away (logrotate without a
 * reopen) or replaced, it is opened again.
 */
static void
logfile_check(struct logfile *lf, double now)
{
	struct stat fst, pst;

	lf->checked = now;
	if (fstat(lf->fd, &fst) == -1)
		return;
	if (fst.st_nlink > 0 && stat(lf->path, &pst) == 0 &&
	    pst.st_dev == fst.st_dev && pst.st_ino == fst.st_ino)
		return;
	log_info("%s was deleted or moved away; opening it again", lf->path);
	close(lf->fd);
	lf->fd = -1;
	if (logfile_open_path(lf) == -1)
		logfile_fail(lf, "open", errno);
}

static size_t
logfile_journal_writev(struct logfile *lf, const struct iovec *iov, int n)
{
	size_t len = logfile_iov_len(iov, n), off = 0, avail, take;
	const char *p, *nl;
	char *dst;

	/* journald is tried again once per retry tick, not per chunk. */
	if (lf->err != 0 && !lf->retry_due)
		return logfile_unwritten(lf, len, 0);
	lf->retry_due = 0;
	while (off < len || lf->line_ready) {
		if (lf->line_ready) {
			if (logfile_journal_send(lf) == -1) {
				logfile_fail(lf, "send to", errno);
				if (util_now() - lf->since >= LOGFILE_HOLD_SECS) {
					lf->lost += lf->linelen;
					lf->linelen = 0;
					lf->line_ready = 0;
				}
				return logfile_unwritten(lf, len, off);
			}
			logfile_recovered(lf);
			continue;
		}
		p = logfile_iov_at(iov, n, off, &avail);
		take = LOGFILE_JOURNAL_LINE - lf->linelen;
		if (take > avail)
			take = avail;
		nl = memchr(p, '\n', take);
		dst = lf->line + strlen(LOGFILE_MSG_PREFIX) + lf->linelen;
		if (nl != NULL) {
			memcpy(dst, p, (size_t)(nl - p));
			lf->linelen += (size_t)(nl - p);
			off += (size_t)(nl - p) + 1;
			lf->line_ready = 1;
		} else {
			if (lf->linelen + take == LOGFILE_JOURNAL_LINE) {
				/* full: split between characters, not in one */
				take -= utf8_partial_tail(p, take);
				lf->line_ready = 1;
			}
			memcpy(dst, p, take);
			lf->linelen += take;
			off += take;
		}
	}
	return len;
}

size_t
logfile_writev(struct logfile *lf, const struct iovec *iov, int n)
{
	size_t len = logfile_iov_len(iov, n), total = 0, chunk, room;
	struct iovec sl[LOGFILE_IOV];
	int k, rotate_after, r;
	ssize_t w;
	double now;

	if (len == 0)
		return 0;
	if (lf->kind == LOGFILE_JOURNAL)
		return logfile_journal_writev(lf, iov, n);

	now = util_now();
	if (lf->fd == -1) {
		/* Opening is tried once per retry tick, not per chunk. */
		if (lf->retry_due) {
			lf->retry_due = 0;
			if (logfile_reopen(lf) == -1)
				logfile_fail(lf, "open", errno);
		}
		if (lf->fd == -1)
			return logfile_unwritten(lf, len, 0);
	}
	lf->retry_due = 0;
	if (lf->regular && now - lf->checked >= LOGFILE_CHECK_SECS) {
		logfile_check(lf, now);
		if (lf->fd == -1)
			return logfile_unwritten(lf, len, 0);
	}
	if (lf->err != 0 && lf->lost > 0 && logfile_write_note(lf) == -1) {
		lf->err = errno;
		return logfile_unwritten(lf, len, 0);
	}

	while (total < len) {
		chunk = len - total;
		rotate_after = 0;
		if (lf->regular && lf->maxbytes > 0 &&
		    now >= lf->norotate_until) {
			if (lf->size >= lf->maxbytes) {
				r = logfile_rotate(lf);
				if (r == -2) {
					logfile_fail(lf, "open", errno);
					return logfile_unwritten(lf, len, total);
				}
				if (r == -1) {
					/* Keep writing; try again later. */
					lf->norotate_until = now + LOGFILE_RETRY_SECS;
					continue;
				}
			}
			room = (size_t)(lf->maxbytes - lf->size);
			if (chunk > room) {
				chunk = logfile_split(iov, n, total, room);
				rotate_after = 1;
			}
		}
		/* More pieces than LOGFILE_IOV: the rest goes next round. */
		k = logfile_iov_slice(iov, n, total, chunk, sl, LOGFILE_IOV);
		if (lf->sock)
			w = sendmsg(lf->fd, &(struct msghdr){ .msg_iov = sl,
			    .msg_iovlen = (size_t)k }, MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			w = writev(lf->fd, sl, k);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && errno == EAGAIN) {
			/* Behind: wait until it can take more. */
			if (lf->stalled == 0 || total > 0)
				lf->stalled = now;
			if (now - lf->stalled >= LOGFILE_HOLD_SECS)
				logfile_fail(lf, "write", EAGAIN);
			if (lf->err == 0) {
				if (lf->wev == NULL)
					lf->wev = event_new(tendd_base, lf->fd,
					    EV_WRITE, logfile_wev_cb, lf);
				if (lf->wev != NULL)
					event_add(lf->wev, NULL);
				logfile_arm_retry(lf);
				return total;
			}
			return logfile_unwritten(lf, len, total);
		}
		if (w <= 0) {
			logfile_fail(lf, lf->sock ? "send to" : "write",
			    w == 0 ? ENOSPC : errno);
			return logfile_unwritten(lf, len, total);
		}
		total += (size_t)w;
		if (lf->regular)
			lf->size += w;
		lf->stalled = 0;
		if (rotate_after && (size_t)w == chunk)
			lf->size = lf->maxbytes;	/* rotate before more */
	}
	logfile_recovered(lf);
	return total;
}

/* Opens a file destination again at its path (SIGUSR1, retries). */
static int
logfile_reopen(struct logfile *lf)
{
	if (lf->kind != LOGFILE_FILE)
		return 0;
	if (lf->fd != -1) {
		close(lf->fd);
		lf->fd = -1;
	}
	return logfile_open_path(lf);
}

int
logfile_reopen_all(char **causes)
{
	struct logfile *lf;
	char *s;
	int failed = 0;

	*causes = NULL;
	TAILQ_FOREACH(lf, &logfiles, entry) {
		if (lf->kind != LOGFILE_FILE)
			continue;
		if (logfile_reopen(lf) == -1) {
			failed++;
			xasprintf(&s, "%s%scannot open %s: %s",
			    *causes ? *causes : "", *causes ? "; " : "",
			    lf->path, strerror(errno));
			free(*causes);
			*causes = s;
			logfile_fail(lf, "open", errno);
			continue;
		}
		/* A fresh file: tried again at once by its next write. */
		lf->retry_due = 1;
	}
	return failed;
}

int
logfile_clear(struct logfile *lf, char **cause)
{
	if (lf->kind != LOGFILE_FILE)
		return 0;
	if (lf->fd != -1 && lf->regular) {
		if (ftruncate(lf->fd, 0) == -1) {
			xasprintf(cause, "cannot empty %s: %s", lf->path,
			    strerror(errno));
			return -1;
		}
		lf->size = 0;
		return 0;
	}
	if (lf->fd == -1 && truncate(lf->path, 0) == -1 && errno != ENOENT) {
		xasprintf(cause, "cannot empty %s: %s", lf->path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

void
logfile_release(struct logfile *lf)
{
	if (lf == NULL || --lf->refs > 0)
		return;
	logfile_flush(lf);
	TAILQ_REMOVE(&logfiles, lf, entry);
	if (lf->wev != NULL)
		event_free(lf->wev);
	event_free(lf->retry);
	if (lf->fd != -1)
		close(lf->fd);
	free(lf->path);
	free(lf->f_ident);
	free(lf->f_process);
	free(lf->line);
	free(lf);
}

void
logfile_close_all(void)
{
	struct logfile *lf;

	/* Whatever still holds a reference is going away with tendd. */
	while ((lf = TAILQ_FIRST(&logfiles)) != NULL) {
		lf->refs = 1;
		logfile_release(lf);
	}
}
