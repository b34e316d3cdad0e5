/*
 * waitfail.so: an LD_PRELOAD library that makes tendd's waitpid() fail,
 * for the reaping tests (tests/integration/test_reap.py).
 *
 *   WAITFAIL_CODE=N       a waitpid() for a child that has exited with
 *                         code N fails with ECHILD, as if something else
 *                         had reaped it, and leaves *status holding 0
 *                         (what a caller that trusts it would read: the
 *                         variable holds garbage, here a clean exit).
 *                         Once per pid; the next waitpid() for it works.
 *   WAITFAIL_ALWAYS=1     ... every time: the zombie cannot be reaped.
 *
 * Other children, and every other call, are left alone. Only the
 * preloading process is affected: the variables are removed from the
 * environment at load, so its children run without the library.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAITFAIL_PIDS	64

static int	 waitfail_code = -1;
static int	 waitfail_always;
static pid_t	 waitfail_done[WAITFAIL_PIDS];	/* failed once already */
static int	 waitfail_ndone;
static pid_t	(*waitfail_real)(pid_t, int *, int);

__attribute__((constructor)) static void
waitfail_init(void)
{
	const char *s;

	if ((s = getenv("WAITFAIL_CODE")) != NULL)
		waitfail_code = atoi(s);
	if ((s = getenv("WAITFAIL_ALWAYS")) != NULL)
		waitfail_always = atoi(s) != 0;
	unsetenv("WAITFAIL_CODE");
	unsetenv("WAITFAIL_ALWAYS");
	unsetenv("LD_PRELOAD");
	waitfail_real = (pid_t (*)(pid_t, int *, int))dlsym(RTLD_NEXT,
	    "waitpid");
}

/* PID has exited with the chosen code (looked at without reaping it). */
static int
waitfail_chosen(pid_t pid)
{
	siginfo_t si;
	int i;

	if (waitfail_code < 0 || pid <= 0)
		return 0;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == -1 ||
	    si.si_pid != pid || si.si_code != CLD_EXITED ||
	    si.si_status != waitfail_code)
		return 0;
	if (waitfail_always)
		return 1;
	for (i = 0; i < waitfail_ndone; i++)
		if (waitfail_done[i] == pid)
			return 0;
	if (waitfail_ndone < WAITFAIL_PIDS)
		waitfail_done[waitfail_ndone++] = pid;
	return 1;
}

pid_t
waitpid(pid_t pid, int *status, int options)
{
	if (waitfail_chosen(pid)) {
		if (status != NULL)
			*status = 0;
		errno = ECHILD;
		return -1;
	}
	return waitfail_real(pid, status, options);
}
