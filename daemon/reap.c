/*
 * reap.c: SIGCHLD turned into exits. Signals coalesce, so one callback
 * may stand for many deaths or none: loop waitpid(-1, WNOHANG) until it
 * says there is nothing more. tendd is a child subreaper, so orphaned
 * descendants land here too: a daemon adopted through a pidfile or
 * MAINPID= is found by its pid like any child; other orphans are reaped
 * and otherwise ignored.
 */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>

#include "tendd.h"

void
reap_children(void)
{
	struct proc *p;
	pid_t pid;
	int status;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == 0)
			break;
		if (pid == -1) {
			if (errno == EINTR)
				continue;
			if (errno != ECHILD)
				log_warn("waitpid: %s", strerror(errno));
			break;
		}
		if ((p = program_find_pid(pid)) != NULL)
			program_reaped(p, status);
		else
			log_debug("reaped pid %ld (not ours: an orphan or a "
			    "failed spawn), exit code %d", (long)pid,
			    util_exitcode(status));
	}
}
