/*
 * log.c: tendd's own log. Lines go to stderr (or a file given by
 * [tend] logfile) as "TIME IDENT[PID]: LEVEL: message". Under systemd's
 * journal (JOURNAL_STREAM names our stderr) the time is left out and the
 * line gets a <N> priority prefix instead, which journald understands.
 * With logfile = journal (or auto under systemd) each message is sent to
 * journald itself with its PRIORITY and SYSLOG_IDENTIFIER; should that
 * fail, the line goes to stderr rather than nowhere. Whatever the message
 * quotes (names, paths, what a child sent), it is written as one line of
 * valid UTF-8 (utf8_clean with UTF8_NOCTRL).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tendd.h"
#include "utf8.h"

static enum loglevel	 log_level = LOG_LEVEL_INFO;
static const char	*log_ident = "tendd";
static int		 log_journal;	/* stderr is journald's stream */
static int		 log_native;	/* sd_journal_send() each message */
static char		*log_syslog_id;	/* SYSLOG_IDENTIFIER= */
static const struct systemd_lib *log_sd;

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
log_stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%lu:%lu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return st.st_dev == dev && st.st_ino == ino;
}

void
log_init(enum loglevel level, const char *identifier)
{
	log_level = level;
	if (identifier != NULL)
		log_ident = identifier;
	log_journal = log_stderr_is_journal();
}

void
log_set_level(enum loglevel level)
{
	log_level = level;
}

/* Where sd_journal_send() writes; it fails silently when it is missing. */
#define LOG_JOURNAL_SOCKET	"/run/systemd/journal/socket"

void
log_to_journal(const char *identifier)
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
	free(log_syslog_id);
	log_syslog_id = xstrdup(identifier != NULL ? identifier : log_ident);
	log_native = 1;
}

/* One journal entry; -1 when it could not be sent. */
static int
log_journal_send(enum loglevel level, const char *msg)
{
	/* Each argument is a format: the message is never one. */
	return log_sd->journal_send("MESSAGE=%s", msg, "PRIORITY=%d",
	    log_prio[level], "SYSLOG_IDENTIFIER=%s", log_syslog_id,
	    "TEND_LEVEL=%s", log_names[level], NULL) < 0 ? -1 : 0;
}

static void
log_vwrite(enum loglevel level, const char *fmt, va_list ap)
{
	int saved = errno;
	/*
	 * RAW is longer than MSG: utf8_clean() takes at most one byte of
	 * it per byte of MSG, so it never reaches where vsnprintf cut.
	 */
	char raw[4096], msg[2048], stamp[64];
	struct timespec ts;
	struct tm tm;

	if (level > log_level) {
		errno = saved;
		return;
	}
	vsnprintf(raw, sizeof(raw), fmt, ap);
	utf8_clean(msg, sizeof(msg), raw, strlen(raw), UTF8_NOCTRL);
	if (log_native && log_journal_send(level, msg) == 0) {
		errno = saved;
		return;
	}
	if (log_journal) {
		fprintf(stderr, "<%d>%s: %s\n", log_prio[level],
		    log_names[level], msg);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld %s[%ld]: %s: %s\n", stamp,
		    ts.tv_nsec / 1000000, log_ident, (long)getpid(),
		    log_names[level], msg);
	}
	fflush(stderr);
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
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
	/* Why tendd did not start belongs on stderr too (spec §3). */
	if (log_native && !log_journal) {
		log_native = 0;
		va_start(ap, fmt);
		log_vwrite(LOG_LEVEL_ERROR, fmt, ap);
		va_end(ap);
	}
	exit(1);
}
