/*
 * util.h: what both tendd and tendctl need from plain C: allocation that
 * cannot fail quietly, string helpers, monotonic time, signal names,
 * and the exit-code convention of the spec (0, N, -N).
 */
#ifndef TEND_UTIL_H
#define TEND_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/types.h>

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation: out of memory is a broken invariant for a supervisor. */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 xvasprintf(char **, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));

/* NULL-terminated string vectors (argv, environment). */
size_t	 strv_len(char *const *);
char	**strv_dup(char *const *);
void	 strv_free(char **);
int	 strv_equal(char *const *, char *const *);

/* Seconds on CLOCK_MONOTONIC: every timing decision uses it. */
double	 util_now(void);
/* Seconds on CLOCK_REALTIME, only for showing times to people. */
double	 util_wallclock(void);
/*
 * SECS as a timeval for a libevent timer: negative is 0, more than
 * INT_MAX is INT_MAX (about 68 years, later than anything waits).
 */
struct timeval util_timeval(double secs);

/* "TERM", "SIGTERM", "term", "15" -> 15; -1 when unknown. */
int	 util_signal_number(const char *);
/* 15 -> "TERM" (without SIG); "SIG37" style for unnamed ones. */
const char *util_signal_name(int);

/* wait(2) status -> spec exit code: N for exit(N), -N for signal N. */
int	 util_exitcode(int status);

/* Seconds as H:MM:SS, or "D days, H:MM:SS", like supervisorctl. */
void	 util_format_duration(char *, size_t, double);

int	 util_set_cloexec(int);
int	 util_set_nonblock(int);

#endif
