/*
 * reap.c: SIGCHLD turned into exits. Signals coalesce, so one callback
 * may stand for many deaths or none: loop waitpid(-1, WNOHANG) until it
 * says there is nothing more. tendd is a child subreaper, so orphaned
 * descendants land here too: a daemon adopted through a pidfile or
 * MAINPID= is found by its pid like any child; other orphans are reaped
 * and otherwise ignored.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "tendd.h"

void
reap_children(void)
{
	struct proc *p;
	siginfo_t si;
	pid_t pid;
	int status;

	for (;;) {
		/*
		 * Look before reaping (WNOWAIT): while the ended process is a
		 * zombie its pid, which is also its group and session id,
		 * cannot be anyone else's, so program_exited() may still
		 * signal what is left of its group.
		 */
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != ECHILD)
				log_warn("waitid: %s", strerror(errno));
			break;
		}
		if ((pid = si.si_pid) == 0)
			break;
		if ((p = program_find_pid(pid)) != NULL)
			program_exited(p);
		while (waitpid(pid, &status, WNOHANG) == -1 && errno == EINTR)
			;
		if (p != NULL)
			program_reaped(p, status);
		else
			log_debug("reaped pid %ld (not ours: an orphan or a "
			    "failed spawn), exit code %d", (long)pid,
			    util_exitcode(status));
	}
}
