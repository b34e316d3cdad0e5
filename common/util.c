/* util.c: allocation, string vectors, clocks, signal names, exit codes. */
#include <ctype.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static void
util_oom(void)
{
	static const char msg[] = "out of memory\n";

	/* Nothing sane can be done without memory; say so and stop. */
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		util_oom();
	return p;
}

void *
xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);

	if (p == NULL)
		util_oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		util_oom();
	return p;
}

void *
xreallocarray(void *p, size_t n, size_t m)
{
	p = reallocarray(p, n ? n : 1, m ? m : 1);
	if (p == NULL)
		util_oom();
	return p;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		util_oom();
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		util_oom();
	return p;
}

int
xvasprintf(char **ret, const char *fmt, va_list ap)
{
	int n = vasprintf(ret, fmt, ap);

	if (n < 0)
		util_oom();
	return n;
}

int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = xvasprintf(ret, fmt, ap);
	va_end(ap);
	return n;
}

size_t
strv_len(char *const *v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

char **
strv_dup(char *const *v)
{
	size_t i, n = strv_len(v);
	char **d;

	if (v == NULL)
		return NULL;
	d = xcalloc(n + 1, sizeof(*d));
	for (i = 0; i < n; i++)
		d[i] = xstrdup(v[i]);
	return d;
}

void
strv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

int
strv_equal(char *const *a, char *const *b)
{
	size_t i, n = strv_len(a);

	if (n != strv_len(b))
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return 1;
}

struct timeval
util_timeval(double secs)
{
	struct timeval tv;

	if (!(secs > 0))
		secs = 0;
	if (secs > (double)INT_MAX)
		secs = (double)INT_MAX;
	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
	if (tv.tv_usec >= 1000000)
		tv.tv_usec = 999999;
	return tv;
}

double
util_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double
util_wallclock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const struct {
	const char	*name;
	int		 number;
} util_signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "ILL", SIGILL }, { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },
	{ "IOT", SIGIOT }, { "BUS", SIGBUS }, { "FPE", SIGFPE },
	{ "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV },
	{ "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },
	{ "TERM", SIGTERM }, { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },
	{ "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "TSTP", SIGTSTP },
	{ "TTIN", SIGTTIN }, { "TTOU", SIGTTOU }, { "URG", SIGURG },
	{ "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM },
	{ "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO },
	{ "POLL", SIGPOLL }, { "PWR", SIGPWR }, { "SYS", SIGSYS },
};

int
util_signal_number(const char *s)
{
	const char *p;
	char *end;
	long n;
	size_t i;

	if (s == NULL || *s == '\0')
		return -1;
	if (isdigit((unsigned char)*s)) {
		errno = 0;
		n = strtol(s, &end, 10);
		if (errno != 0 || *end != '\0' || n < 1 || n > SIGRTMAX)
			return -1;
		return (int)n;
	}
	p = s;
	if (strncasecmp(p, "SIG", 3) == 0)
		p += 3;
	for (i = 0; i < nitems(util_signals); i++)
		if (strcasecmp(p, util_signals[i].name) == 0)
			return util_signals[i].number;
	/* RTMIN, RTMIN+3, RTMAX-1 */
	if (strncasecmp(p, "RTMIN", 5) == 0 || strncasecmp(p, "RTMAX", 5) == 0) {
		int base = strncasecmp(p, "RTMIN", 5) == 0 ? SIGRTMIN : SIGRTMAX;
		p += 5;
		if (*p == '\0')
			return base;
		errno = 0;
		n = strtol(p, &end, 10);
		if (errno != 0 || *end != '\0' || (*p != '+' && *p != '-'))
			return -1;
		if (base + n < SIGRTMIN || base + n > SIGRTMAX)
			return -1;
		return (int)(base + n);
	}
	return -1;
}

const char *
util_signal_name(int sig)
{
	static char buf[16];
	size_t i;

	for (i = 0; i < nitems(util_signals); i++)
		if (util_signals[i].number == sig)
			return util_signals[i].name;
	snprintf(buf, sizeof(buf), "SIG%d", sig);
	return buf;
}

int
util_exitcode(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return -WTERMSIG(status);
	return 0;
}

void
util_format_duration(char *buf, size_t len, double secs)
{
	long s = secs < 0 ? 0 : (long)secs;
	long d = s / 86400;

	s %= 86400;
	if (d > 0)
		snprintf(buf, len, "%ld day%s, %ld:%02ld:%02ld", d,
		    d == 1 ? "" : "s", s / 3600, (s / 60) % 60, s % 60);
	else
		snprintf(buf, len, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60,
		    s % 60);
}

int
util_set_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl == -1)
		return -1;
	return fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

int
util_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1)
		return -1;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}
