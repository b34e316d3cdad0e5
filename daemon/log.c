/*
 * log.c: tendd's own log ([tend] logfile, spec §2). Each message is one
 * line, "TIME IDENT[PID]: LEVEL: message", of valid UTF-8 whatever it
 * quotes (names, paths, what a child sent: utf8_clean with UTF8_NOCTRL),
 * to one destination:
 *
 * - stderr (the default) or stdout (/dev/stdout, /dev/fd/1, ...: any
 *   spelling logfile_descriptor() knows). Written through a description
 *   of tendd's own (logfile_own_fd), so a write never blocks. When
 *   JOURNAL_STREAM names the descriptor (systemd's journal) the time is
 *   left out and the line gets a <N> priority prefix, which journald
 *   understands.
 * - a file: appended to, rotated before it would grow past
 *   logfile_maxbytes into PATH.1 ... PATH.<logfile_backups>, opened again
 *   on SIGUSR1 (and tendctl reopen).
 * - syslog: one datagram per message to /dev/log, RFC 3164 with facility
 *   daemon and the identifier, sent without waiting (MSG_DONTWAIT).
 * - the journal (journal, or auto under systemd): one entry per message
 *   with PRIORITY and SYSLOG_IDENTIFIER.
 *
 * tendd's descriptors 1 and 2 are never replaced by the log: a program's
 * /dev/stdout and /dev/stderr are tendd's real ones whatever it is.
 *
 * tendd never waits for its log. A line its destination does not take
 * (a full disk, no syslog, a receiver that does not keep up) goes to
 * stderr instead, the first of them saying why; a line stderr does not
 * take either (a reader that stopped reading) is dropped and counted. The
 * destination is tried again with every line (opened, connected or
 * rotated again at most once a second), and the first line it takes
 * again says how many went elsewhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tendd.h"
#include "utf8.h"

/* A whole line fits in one write to a pipe (PIPE_BUF): never mixed. */
#define LOG_LINE_MAX	4096
#define LOG_MSG_MAX	2048
/*
 * The syslog tag and SYSLOG_IDENTIFIER= (the config's identifier, made
 * text on one line): bounded, so a datagram always has room for the
 * message.
 */
#define LOG_ID_MAX	256
#define LOG_SYSLOG_SOCKET	"/dev/log"
#define LOG_SYSLOG_FACILITY	(3 << 3)	/* LOG_DAEMON */
/* A destination that failed is opened or connected again this often. */
#define LOG_RETRY_SECS	1.0
/* Where sd_journal_send() writes; it fails silently when it is missing. */
#define LOG_JOURNAL_SOCKET	"/run/systemd/journal/socket"

enum log_kind {
	LOG_TO_FD,	/* tendd's stderr or stdout */
	LOG_TO_FILE,
	LOG_TO_SYSLOG,
	LOG_TO_JOURNAL,
};

/* A descriptor lines are written to. */
struct log_out {
	int		 fd;		/* -1: none (yet) */
	int		 sock;		/* send(MSG_DONTWAIT) */
	int		 journal;	/* journald's stream: <N>, no time */
};

static enum loglevel	 log_level = LOG_LEVEL_INFO;
static const char	*log_ident = "tendd";
static enum log_kind	 log_kind = LOG_TO_FD;
static int		 log_src = STDERR_FILENO;	/* LOG_TO_FD */
static struct log_out	 log_err = { -1, 0, 0 };	/* tendd's stderr */
static struct log_out	 log_dest = { -1, 0, 0 };	/* stdout, file, syslog */
static char		*log_path;	/* the file, or the syslog socket */
static char		*log_syslog_id;	/* syslog's tag, SYSLOG_IDENTIFIER= */
static const struct systemd_lib *log_sd;

/* A file: its rotation. */
static long long	 log_maxbytes = 50LL * 1024 * 1024;
static int		 log_backups = 10;
static long long	 log_size;
static int		 log_regular;
static int		 log_rotate_err;	/* a failed rotation was told */

/* A destination that does not take lines (see the top). */
static int		 log_failing;
static int		 log_fail_errno;
static double		 log_retry_at;	/* next open, connect or rotation */
static unsigned long long log_diverted;	/* lines that went to stderr */
static unsigned long long log_lost;	/* lines that went nowhere */

static const char *const log_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};
/* syslog priorities: err, warning, info, debug */
static const int log_prio[] = { 3, 4, 6, 7 };

/* JOURNAL_STREAM is "DEV:INO" of the stream journald gave us. */
static int
log_is_journal_stream(int fd)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%lu:%lu", &dev, &ino) != 2)
		return 0;
	if (fstat(fd, &st) == -1)
		return 0;
	return st.st_dev == dev && st.st_ino == ino;
}

/* The destination is tendd's stderr itself: nothing to fall back to. */
static int
log_on_stderr(void)
{
	return log_kind == LOG_TO_FD && log_src == STDERR_FILENO;
}

static const char *
log_dest_name(void)
{
	switch (log_kind) {
	case LOG_TO_FD:
		return log_src == STDOUT_FILENO ? "stdout" : "stderr";
	case LOG_TO_JOURNAL:
		return "the journal";
	default:
		return log_path;
	}
}

static void
log_out_close(struct log_out *o)
{
	if (o->fd != -1 && o != &log_err)
		close(o->fd);
	o->fd = -1;
}

/* Descriptor SRC of tendd's as O; -1 when it is closed. */
static int
log_out_own(struct log_out *o, int src)
{
	int sock, fd;

	if ((fd = logfile_own_fd(src, &sock)) == -1)
		return -1;
	o->fd = fd;
	o->sock = sock;
	o->journal = log_is_journal_stream(src);
	return 0;
}

void
log_init(enum loglevel level, const char *identifier)
{
	int fd;

	log_level = level;
	if (identifier != NULL)
		log_ident = identifier;
	/*
	 * Started with 0, 1 or 2 closed, the next file tendd opens would
	 * take that number, and a program's /dev/stdout would write into
	 * it: they are /dev/null instead.
	 */
	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= STDERR_FILENO)
		;
	if (fd > STDERR_FILENO)
		close(fd);
	if (log_err.fd == -1)
		log_out_own(&log_err, STDERR_FILENO);
	else
		log_err.journal = log_is_journal_stream(STDERR_FILENO);
}

void
log_set_level(enum loglevel level)
{
	log_level = level;
}

void
log_set_rotation(long long maxbytes, int backups)
{
	log_maxbytes = maxbytes;
	log_backups = backups;
}

const char *
log_syslog_socket(void)
{
	const char *s = getenv("TEND_SYSLOG_SOCKET");

	return s != NULL && *s != '\0' ? s : LOG_SYSLOG_SOCKET;
}

/* The line for a descriptor or a file; its length (it ends in \n). */
static size_t
log_format(char *buf, size_t size, enum loglevel level, const char *msg,
    int journal)
{
	char stamp[64];
	struct timespec ts;
	struct tm tm;
	int n;

	if (journal) {
		n = snprintf(buf, size, "<%d>%s: %s\n", log_prio[level],
		    log_names[level], msg);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		n = snprintf(buf, size, "%s.%03ld %s[%ld]: %s: %s\n", stamp,
		    ts.tv_nsec / 1000000, log_ident, (long)getpid(),
		    log_names[level], msg);
	}
	if (n < 0)
		n = 0;
	if ((size_t)n >= size) {
		n = (int)size - 1;
		buf[n - 1] = '\n';
	}
	return (size_t)n;
}

/* All of BUF to O, or -1 with errno. A line cut short counts as written. */
static int
log_put(struct log_out *o, const char *buf, size_t len)
{
	size_t off = 0;
	ssize_t w;

	if (o->fd == -1) {
		errno = EBADF;
		return -1;
	}
	while (off < len) {
		if (o->sock)
			w = send(o->fd, buf + off, len - off,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			w = write(o->fd, buf + off, len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (off > 0)
				return 0;
			if (w == 0)
				errno = ENOSPC;
			return -1;
		}
		off += (size_t)w;
	}
	return 0;
}

/* A line to tendd's stderr; -1 when it did not take it. */
static int
log_put_stderr(enum loglevel level, const char *msg)
{
	char line[LOG_LINE_MAX];
	size_t n;

	if (log_err.fd == -1 && log_out_own(&log_err, STDERR_FILENO) == -1)
		return -1;	/* stderr is closed */
	n = log_format(line, sizeof(line), level, msg, log_err.journal);
	return log_put(&log_err, line, n);
}

/* ------------------------------------------------------------------ */
/* A file                                                               */

/* Opens PATH for appending: the descriptor, or -1 with *cause. */
static int
log_file_open(const char *path, char **cause)
{
	int fd;

	/*
	 * O_NOFOLLOW: a link planted at the path of root's log would make
	 * tendd append to any file (descriptor paths never get here).
	 * O_NONBLOCK: a FIFO without a reader must not hang tendd.
	 */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0640);
	if (fd == -1) {
		if (errno == ELOOP)
			xasprintf(cause, "cannot open logfile %s: it is a "
			    "symbolic link, which tendd's own log never "
			    "follows", path);
		else
			xasprintf(cause, "cannot open logfile %s: %s", path,
			    strerror(errno));
	}
	return fd;
}

/* FD is the log file from now on (the old one closed). */
static void
log_file_use(int fd)
{
	struct stat st;

	log_out_close(&log_dest);
	log_dest.fd = fd;
	log_dest.sock = 0;
	log_dest.journal = 0;
	log_regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	log_size = log_regular ? st.st_size : 0;
}

/* A line straight into the file, not rotated (rotation's own notes). */
static int
log_file_note(enum loglevel level, const char *msg)
{
	char line[LOG_LINE_MAX];
	size_t n;

	n = log_format(line, sizeof(line), level, msg, 0);
	if (log_put(&log_dest, line, n) == -1)
		return -1;
	log_size += (long long)n;
	return 0;
}

/*
 * The next LEN bytes would take the file past logfile_maxbytes: it is
 * shifted into its backups and opened fresh (emptied with no backups).
 * A failed rotation is said once in the file, which is written on and
 * rotated again a second later.
 */
static void
log_file_rotate(size_t len)
{
	char *cause = NULL, msg[LOG_MSG_MAX];
	struct stat st;
	int fd;

	/* Emptied behind tendd's back (copytruncate)? Then there is room. */
	if (fstat(log_dest.fd, &st) == 0 && S_ISREG(st.st_mode))
		log_size = st.st_size;
	if (log_size == 0 || log_size + (long long)len <= log_maxbytes ||
	    util_now() < log_retry_at)
		return;
	if (log_backups <= 0) {
		if (ftruncate(log_dest.fd, 0) == -1)
			xasprintf(&cause, "cannot empty it: %s",
			    strerror(errno));
		else
			log_size = 0;
	} else if (logfile_shift(log_path, log_backups, &cause) == 0) {
		if ((fd = log_file_open(log_path, &cause)) != -1)
			log_file_use(fd);
	}
	if (cause == NULL) {
		if (log_rotate_err) {
			log_rotate_err = 0;
			log_file_note(LOG_LEVEL_INFO, "logfile rotated again");
		}
		return;
	}
	log_retry_at = util_now() + LOG_RETRY_SECS;
	if (!log_rotate_err++) {
		snprintf(msg, sizeof(msg), "cannot rotate logfile %s at "
		    "logfile_maxbytes = %lld: %s; writing on and trying again",
		    log_path, log_maxbytes, cause);
		log_file_note(LOG_LEVEL_ERROR, msg);
	}
	free(cause);
}

static int
log_file_send(enum loglevel level, const char *msg)
{
	char line[LOG_LINE_MAX], *cause;
	size_t n;
	int fd;

	if (log_dest.fd == -1) {
		if (util_now() < log_retry_at) {
			errno = log_fail_errno;
			return -1;
		}
		log_retry_at = util_now() + LOG_RETRY_SECS;
		if ((fd = log_file_open(log_path, &cause)) == -1) {
			free(cause);
			return -1;
		}
		log_file_use(fd);
	}
	n = log_format(line, sizeof(line), level, msg, 0);
	if (log_regular && log_maxbytes > 0)
		log_file_rotate(n);
	if (log_put(&log_dest, line, n) == -1)
		return -1;
	log_size += (long long)n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* syslog                                                               */

/* Connects to the syslog socket; -1 with errno. */
static int
log_syslog_connect(void)
{
	struct sockaddr_un sun;
	int fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(log_path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, log_path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	log_out_close(&log_dest);
	log_dest.fd = fd;
	log_dest.sock = 1;
	log_dest.journal = 0;
	return 0;
}

static int
log_syslog_send(enum loglevel level, const char *msg)
{
	char dgram[LOG_LINE_MAX], stamp[32];
	struct tm tm;
	time_t now;
	int n, saved;

	if (log_dest.fd == -1) {
		if (util_now() < log_retry_at) {
			errno = log_fail_errno;
			return -1;
		}
		log_retry_at = util_now() + LOG_RETRY_SECS;
		if (log_syslog_connect() == -1)
			return -1;
	}
	/* RFC 3164, as syslog(3) sends it: "<PRI>Mmm dd hh:mm:ss TAG[PID]: " */
	now = time(NULL);
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	n = snprintf(dgram, sizeof(dgram), "<%d>%s %s[%ld]: %s: %s",
	    LOG_SYSLOG_FACILITY | log_prio[level], stamp, log_syslog_id,
	    (long)getpid(), log_names[level], msg);
	if (n < 0)
		n = 0;
	/* Cut (never, with the bounds above): between characters. */
	if ((size_t)n >= sizeof(dgram)) {
		n = (int)sizeof(dgram) - 1;
		n -= (int)utf8_partial_tail(dgram, (size_t)n);
	}
	if (log_put(&log_dest, dgram, (size_t)n) == 0)
		return 0;
	/* The receiver went away: connect again (a syslogd restarted). */
	if (errno != EAGAIN && errno != ENOBUFS) {
		saved = errno;
		log_out_close(&log_dest);
		errno = saved;
	}
	return -1;
}

static void
log_to_syslog(const char *identifier)
{
	char msg[LOG_MSG_MAX];

	log_out_close(&log_dest);
	free(log_path);
	log_path = xstrdup(log_syslog_socket());
	log_kind = LOG_TO_SYSLOG;
	if (log_syslog_connect() == -1) {
		/* Said now, on stderr: the first line would say it anyway. */
		log_failing = 1;
		log_fail_errno = errno;
		log_retry_at = util_now() + LOG_RETRY_SECS;
		snprintf(msg, sizeof(msg), "logfile = syslog, but %s: %s; "
		    "logging to stderr until it can be reached (tried again "
		    "every second)", log_path, strerror(errno));
		log_put_stderr(LOG_LEVEL_WARN, msg);
		return;
	}
	snprintf(msg, sizeof(msg), "logging to syslog at %s as %s",
	    log_path, identifier);
	if (log_level >= LOG_LEVEL_INFO)
		log_put_stderr(LOG_LEVEL_INFO, msg);
}

/* ------------------------------------------------------------------ */
/* The journal                                                          */

static void
log_to_journal(void)
{
	struct stat st;
	char *why;

	if (stat(LOG_JOURNAL_SOCKET, &st) == -1 || !S_ISSOCK(st.st_mode)) {
		log_warn("logfile = journal, but journald is not running (no "
		    LOG_JOURNAL_SOCKET "): logging to stderr");
		return;
	}
	if ((log_sd = systemd_lib(&why)) == NULL) {
		log_warn("logfile = journal, but %s: logging to stderr", why);
		free(why);
		return;
	}
	log_out_close(&log_dest);
	log_kind = LOG_TO_JOURNAL;
}

/* One journal entry; -1 when it could not be sent. */
static int
log_journal_send(enum loglevel level, const char *msg)
{
	int r;

	/* Each argument is a format: the message is never one. */
	r = log_sd->journal_send("MESSAGE=%s", msg, "PRIORITY=%d",
	    log_prio[level], "SYSLOG_IDENTIFIER=%s", log_syslog_id,
	    "TEND_LEVEL=%s", log_names[level], NULL);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Where the log goes                                                   */

int
log_open(const char *logfile, const char *identifier, char **cause)
{
	char msg[LOG_MSG_MAX], id[LOG_ID_MAX];
	int src, fd;

	if (identifier == NULL)
		identifier = log_ident;
	utf8_clean(id, sizeof(id), identifier, strlen(identifier), UTF8_NOCTRL);
	free(log_syslog_id);
	log_syslog_id = xstrdup(id);
	if (systemd_wants_journal(logfile)) {
		log_to_journal();
		return 0;
	}
	if (logfile == NULL || strcmp(logfile, "stderr") == 0 ||
	    strcmp(logfile, "journal") == 0 || strcmp(logfile, "auto") == 0)
		return 0;	/* under systemd, stderr is the journal already */
	if ((src = logfile_descriptor(logfile)) != 0) {
		log_out_close(&log_dest);
		log_kind = LOG_TO_FD;
		log_src = src;
		if (src == STDOUT_FILENO && log_out_own(&log_dest, src) == -1) {
			xasprintf(cause, "cannot log to %s: %s", logfile,
			    strerror(errno));
			log_src = STDERR_FILENO;
			return -1;
		}
		return 0;
	}
	if (strcmp(logfile, "syslog") == 0) {
		log_to_syslog(identifier);
		return 0;
	}
	if ((fd = log_file_open(logfile, cause)) == -1)
		return -1;
	free(log_path);
	log_path = xstrdup(logfile);
	log_kind = LOG_TO_FILE;
	log_file_use(fd);
	snprintf(msg, sizeof(msg), "logging to %s", logfile);
	if (log_level >= LOG_LEVEL_INFO)
		log_put_stderr(LOG_LEVEL_INFO, msg);
	return 0;
}

int
log_reopen(char **cause)
{
	int fd;

	switch (log_kind) {
	case LOG_TO_FILE:
		if ((fd = log_file_open(log_path, cause)) == -1)
			return -1;	/* writing on in the old one */
		log_file_use(fd);
		return 0;
	case LOG_TO_SYSLOG:
		/* A syslogd restarted at another socket: connect again. */
		if (log_syslog_connect() == -1) {
			xasprintf(cause, "cannot connect to syslog at %s: %s",
			    log_path, strerror(errno));
			return -1;
		}
		return 0;
	default:
		return 0;
	}
}

void
log_detach(void)
{
	int fd;

	/* The log keeps the stream it was told to use (stdout: its own copy). */
	if (log_kind == LOG_TO_FD)
		return;
	/* supervisord's way: a daemon keeps no terminal it was started on. */
	if ((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1)
		return;
	if (fd != STDERR_FILENO) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	if (log_err.fd != -1)
		close(log_err.fd);
	log_err.fd = -1;
	log_out_own(&log_err, STDERR_FILENO);
}

/* MSG to the destination; -1 with errno when it did not take it. */
static int
log_send(enum loglevel level, const char *msg)
{
	char line[LOG_LINE_MAX];
	size_t n;

	switch (log_kind) {
	case LOG_TO_JOURNAL:
		return log_journal_send(level, msg);
	case LOG_TO_SYSLOG:
		return log_syslog_send(level, msg);
	case LOG_TO_FILE:
		return log_file_send(level, msg);
	case LOG_TO_FD:
		break;
	}
	if (log_src == STDERR_FILENO)
		return log_put_stderr(level, msg);
	n = log_format(line, sizeof(line), level, msg, log_dest.journal);
	return log_put(&log_dest, line, n);
}

static void
log_emit(enum loglevel level, const char *msg)
{
	char note[LOG_MSG_MAX];

	/* Back after a failure: first, what became of the lines meanwhile. */
	if (log_failing) {
		snprintf(note, sizeof(note), "tendd's log could not be "
		    "written to %s (%s): %llu line%s went to stderr, %llu "
		    "%s lost", log_dest_name(), strerror(log_fail_errno),
		    log_diverted, log_diverted == 1 ? "" : "s", log_lost,
		    log_lost == 1 ? "was" : "were");
		if (log_send(LOG_LEVEL_WARN, note) == 0) {
			log_failing = 0;
			log_diverted = log_lost = 0;
		}
	}
	if (!log_failing && log_send(level, msg) == 0)
		return;
	if (!log_failing) {
		log_failing = 1;
		log_fail_errno = errno;
		if (!log_on_stderr()) {
			snprintf(note, sizeof(note), "cannot write tendd's log "
			    "to %s: %s; its lines go to stderr until it can "
			    "be written again", log_dest_name(),
			    strerror(log_fail_errno));
			log_put_stderr(LOG_LEVEL_ERROR, note);
		}
	}
	if (!log_on_stderr() && log_put_stderr(level, msg) == 0)
		log_diverted++;
	else
		log_lost++;
}

static void
log_vwrite(enum loglevel level, const char *fmt, va_list ap)
{
	static int busy;
	/*
	 * RAW is longer than MSG: utf8_clean() takes at most one byte of
	 * it per byte of MSG, so it never reaches where vsnprintf cut.
	 */
	char raw[2 * LOG_MSG_MAX], msg[LOG_MSG_MAX];
	int saved = errno;

	if (level > log_level) {
		errno = saved;
		return;
	}
	vsnprintf(raw, sizeof(raw), fmt, ap);
	utf8_clean(msg, sizeof(msg), raw, strlen(raw), UTF8_NOCTRL);
	/* Never from inside itself (a library logging for us): stderr. */
	if (busy)
		log_put_stderr(level, msg);
	else {
		busy = 1;
		log_emit(level, msg);
		/* supervisorctl maintail -f (http.c), whatever the log's place */
		if (http_mainlog_wanted()) {
			char line[LOG_MSG_MAX + 128];

			http_mainlog_line(line, log_format(line, sizeof(line),
			    level, msg, 0));
		}
		busy = 0;
	}
	errno = saved;
}

#define LOG_FN(fn, level)					\
void								\
fn(const char *fmt, ...)					\
{								\
	va_list ap;						\
								\
	va_start(ap, fmt);					\
	log_vwrite(level, fmt, ap);				\
	va_end(ap);						\
}
LOG_FN(log_error, LOG_LEVEL_ERROR)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_debug, LOG_LEVEL_DEBUG)

void
fatal(const char *fmt, ...)
{
	char raw[2 * LOG_MSG_MAX], msg[LOG_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
	/*
	 * Why tendd did not start belongs on stderr too (spec §3), unless
	 * the log is there, or is the journal that stderr goes to as well.
	 */
	if (!log_on_stderr() &&
	    !(log_kind == LOG_TO_JOURNAL && log_err.journal)) {
		/* As log_vwrite() makes it: text, one line, never cut badly. */
		va_start(ap, fmt);
		vsnprintf(raw, sizeof(raw), fmt, ap);
		va_end(ap);
		utf8_clean(msg, sizeof(msg), raw, strlen(raw), UTF8_NOCTRL);
		log_put_stderr(LOG_LEVEL_ERROR, msg);
	}
	exit(1);
}
