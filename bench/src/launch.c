/*
 * launch.c: starts one supervisor under test and holds its whole tree.
 *
 *   launch EVENTS_FILE PROGRAM ARG...
 *
 * It becomes a child subreaper, stamps "launch PID T_NS" into EVENTS_FILE
 * (T taken just before the fork: cold start counts from here), forks, and
 * the child execs PROGRAM in a session of its own. Processes the supervisor
 * orphans (runit's runsv after runsvdir exits, say) are re-parented here
 * rather than to PID 1, so the harness finds every process of a supervisor
 * below this one, and nothing is left unreaped. It exits when no
 * descendant is left, with the supervisor's exit status (128+signal when
 * killed).
 *
 * If the harness dies, PR_SET_PDEATHSIG sends SIGTERM here and every
 * descendant is SIGKILLed, by pid, so no benchmark process survives it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t launch_orphaned;

static void
launch_term_cb(int sig)
{
	(void)sig;
	launch_orphaned = 1;
}

/* The parent pid of PID from /proc/PID/stat, or -1. */
static int
launch_ppid(int pid)
{
	char path[64], buf[1024], *p;
	int fd, ppid;
	ssize_t n;

	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

/* SIGKILLs every descendant, repeating until a pass finds none. */
static void
launch_kill_tree(void)
{
	static int pids[1 << 16], ppids[1 << 16];
	static int in[1 << 16];
	int n, i, j, found;
	struct dirent *de;
	DIR *d;

	do {
		n = 0;
		if ((d = opendir("/proc")) == NULL)
			return;
		while ((de = readdir(d)) != NULL && n < (1 << 16)) {
			int pid = atoi(de->d_name);

			if (pid <= 0)
				continue;
			pids[n] = pid;
			ppids[n] = launch_ppid(pid);
			in[n] = pid == getpid();
			n++;
		}
		closedir(d);
		/* Mark descendants: repeat until no new parent is marked. */
		do {
			found = 0;
			for (i = 0; i < n; i++) {
				if (in[i])
					continue;
				for (j = 0; j < n; j++) {
					if (in[j] && ppids[i] == pids[j]) {
						in[i] = 1;
						found = 1;
						break;
					}
				}
			}
		} while (found);
		found = 0;
		for (i = 0; i < n; i++) {
			if (in[i] && pids[i] != getpid()) {
				kill(pids[i], SIGKILL);
				found = 1;
			}
		}
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	} while (found);
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	struct timespec ts;
	int status, sup_status = 0, fd;
	pid_t pid, sup;
	char line[128];

	if (argc < 3) {
		fprintf(stderr, "usage: launch EVENTS_FILE PROGRAM ARG...\n");
		return 2;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = launch_term_cb;
	sigaction(SIGTERM, &sa, NULL);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1 ||
	    prctl(PR_SET_PDEATHSIG, SIGTERM) == -1) {
		perror("launch: prctl");
		return 1;
	}
	if (getppid() == 1)
		return 1;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sup = fork();
	if (sup == -1) {
		perror("launch: fork");
		return 1;
	}
	if (sup == 0) {
		signal(SIGTERM, SIG_DFL);
		setsid();
		execvp(argv[2], argv + 2);
		fprintf(stderr, "launch: cannot execute %s: %s\n", argv[2],
		    strerror(errno));
		_exit(127);
	}
	fd = open(argv[1], O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd != -1) {
		int n = snprintf(line, sizeof line, "launch - %d %lld\n",
		    (int)sup, (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);

		if (write(fd, line, n) != n)
			perror("launch: events");
		close(fd);
	}
	for (;;) {
		if (launch_orphaned) {
			launch_kill_tree();
			launch_orphaned = 0;
		}
		pid = waitpid(-1, &status, 0);
		if (pid == -1) {
			if (errno == EINTR)
				continue;
			break;	/* ECHILD: the whole tree is gone */
		}
		if (pid == sup)
			sup_status = WIFEXITED(status) ? WEXITSTATUS(status) :
			    128 + WTERMSIG(status);
	}
	return sup_status;
}
