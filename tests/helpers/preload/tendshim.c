/*
 * tendshim.so: an LD_PRELOAD library for chaos tests of tendd.
 *
 *   TENDSHIM_CLOCK=FILE   the wall clock (CLOCK_REALTIME and its coarse
 *                         and TAI variants, gettimeofday, time) is shifted
 *                         by the number of seconds FILE holds ("+7200",
 *                         "-3600"); rewrite FILE to step the clock again.
 *                         FILE is looked at every 20 ms of monotonic time,
 *                         so a step takes effect at once. CLOCK_MONOTONIC
 *                         and CLOCK_BOOTTIME are never touched: a process
 *                         that times on them cannot see the step.
 *   TENDSHIM_SIGLOG=FILE  every kill(), killpg() and pidfd_send_signal()
 *                         call is appended to FILE as "kill PID SIG",
 *                         "killpg PGRP SIG" or "pidfd SIG" (one write
 *                         each), then made: shows which way a signal went.
 *
 * Only the preloading process is affected: the variables are removed from
 * the environment at load, so its children run with the real clock.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char	*shim_clock_file;
static char	*shim_siglog;
static long long shim_offset_ns;
static long long shim_next_check_ns;

__attribute__((constructor)) static void
shim_init(void)
{
	const char *s;

	if ((s = getenv("TENDSHIM_CLOCK")) != NULL)
		shim_clock_file = strdup(s);
	if ((s = getenv("TENDSHIM_SIGLOG")) != NULL)
		shim_siglog = strdup(s);
	unsetenv("TENDSHIM_CLOCK");
	unsetenv("TENDSHIM_SIGLOG");
	unsetenv("LD_PRELOAD");
}

/* The real clocks, by system call: no recursion through the shim. */
static int
shim_raw(clockid_t id, struct timespec *ts)
{
	return (int)syscall(SYS_clock_gettime, id, ts);
}

static void
shim_refresh(void)
{
	struct timespec m;
	long long now;
	char buf[64];
	ssize_t n;
	int fd;

	if (shim_clock_file == NULL)
		return;
	shim_raw(CLOCK_MONOTONIC, &m);
	now = m.tv_sec * 1000000000LL + m.tv_nsec;
	if (now < shim_next_check_ns)
		return;
	shim_next_check_ns = now + 20000000LL;
	if ((fd = open(shim_clock_file, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	shim_offset_ns = (long long)(strtod(buf, NULL) * 1e9);
}

static int
shim_is_wall(clockid_t id)
{
	return id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE ||
	    id == CLOCK_TAI;
}

int
clock_gettime(clockid_t id, struct timespec *ts)
{
	long long t;
	int r = shim_raw(id, ts);

	if (r == 0 && shim_is_wall(id)) {
		shim_refresh();
		t = ts->tv_sec * 1000000000LL + ts->tv_nsec + shim_offset_ns;
		ts->tv_sec = t / 1000000000LL;
		ts->tv_nsec = t % 1000000000LL;
	}
	return r;
}

int
gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	struct timespec ts;

	(void)tz;
	clock_gettime(CLOCK_REALTIME, &ts);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}

time_t
time(time_t *out)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (out != NULL)
		*out = ts.tv_sec;
	return ts.tv_sec;
}

static void
shim_log(const char *fmt, long a, long b)
{
	char buf[96];
	int fd, n;

	if (shim_siglog == NULL)
		return;
	n = snprintf(buf, sizeof(buf), fmt, a, b);
	if ((fd = open(shim_siglog, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644)) == -1)
		return;
	if (write(fd, buf, (size_t)n) != n)
		n = 0;
	close(fd);
}

int
kill(pid_t pid, int sig)
{
	shim_log("kill %ld %ld\n", (long)pid, (long)sig);
	return (int)syscall(SYS_kill, pid, sig);
}

int
killpg(pid_t pgrp, int sig)
{
	shim_log("killpg %ld %ld\n", (long)pgrp, (long)sig);
	return (int)syscall(SYS_kill, -pgrp, sig);
}

int
pidfd_send_signal(int fd, int sig, siginfo_t *info, unsigned int flags)
{
	shim_log("pidfd %ld %ld\n", (long)sig, 0);
	return (int)syscall(SYS_pidfd_send_signal, fd, sig, info, flags);
}
