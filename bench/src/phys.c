/*
 * phys.c: the physical floor of this machine, without any supervisor.
 *
 *   phys CHILD EVENTS_FILE [ITERATIONS]
 *
 * CHILD is the benchmark's static tiny program (child.c). Measures:
 *  - fork+execve+waitpid, vfork+execve+waitpid and posix_spawn+waitpid of
 *    "CHILD --exit" (returns at once): what one start costs;
 *  - child death -> parent notices and has reaped it, via pidfd + epoll +
 *    waitid(P_PIDFD) and via signalfd(SIGCHLD) + epoll + waitpid, for a
 *    child that _exits (stamp in shared memory just before) and for one the
 *    parent SIGKILLs (from the kill() call);
 *  - kill -> replacement running: SIGKILL a running CHILD, notice through
 *    its pidfd, posix_spawn a new one, until the new one's own start stamp
 *    (as in the harness's restart test, with no supervisor in between).
 * Prints one JSON object: per test, ops/s and median/p99 in microseconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *child_path, *events_path;
static int first = 1;

static long long
phys_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int
phys_cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* Prints one test's summary; TOTAL_NS > 0 adds ops/s. */
static void
phys_report(const char *name, long long *ns, int n, long long total_ns)
{
	qsort(ns, n, sizeof *ns, phys_cmp);
	printf("%s\n  \"%s\": {\"n\": %d, \"median_us\": %.1f, "
	    "\"p99_us\": %.1f", first ? "" : ",", name, n,
	    ns[n / 2] / 1000.0, ns[(n * 99) / 100] / 1000.0);
	if (total_ns > 0)
		printf(", \"ops_per_s\": %.0f", n * 1e9 / total_ns);
	printf("}");
	first = 0;
	fflush(stdout);
}

static int
phys_pidfd(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd == -1) {
		perror("pidfd_open");
		exit(1);
	}
	return fd;
}

enum spawn_how { HOW_FORK, HOW_VFORK, HOW_SPAWN };

static void
phys_spawn_wait(const char *name, enum spawn_how how, int iters)
{
	char *argv[] = { (char *)child_path, (char *)"--exit", NULL };
	long long *ns = calloc(iters, sizeof *ns), t0, start;
	pid_t pid;
	int i, st;

	start = phys_now();
	for (i = 0; i < iters; i++) {
		t0 = phys_now();
		if (how == HOW_SPAWN) {
			if (posix_spawn(&pid, child_path, NULL, NULL, argv,
			    environ) != 0)
				exit(1);
		} else {
			pid = how == HOW_FORK ? fork() : vfork();
			if (pid == 0) {
				execve(child_path, argv, environ);
				_exit(127);
			}
		}
		if (pid == -1 || waitpid(pid, &st, 0) != pid)
			exit(1);
		ns[i] = phys_now() - t0;
	}
	phys_report(name, ns, iters, phys_now() - start);
	free(ns);
}

/*
 * Child death -> parent has noticed and reaped. KILL: the parent SIGKILLs
 * a paused child (latency from the kill() call); else the child stamps
 * shared memory and _exits (latency from the stamp).
 */
static void
phys_notice(const char *name, int use_pidfd, int kill_it, int iters)
{
	volatile long long *shm = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	long long *ns = calloc(iters, sizeof *ns), t0;
	struct epoll_event ev, out;
	int ep, fd = -1, sfd = -1, i, st;
	sigset_t set;
	pid_t pid;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!use_pidfd) {
		sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
		ev.events = EPOLLIN;
		ev.data.fd = sfd;
		epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	}
	for (i = 0; i < iters; i++) {
		shm[0] = 0;
		pid = fork();
		if (pid == 0) {
			sigprocmask(SIG_UNBLOCK, &set, NULL);
			if (kill_it) {
				shm[0] = 1;
				for (;;)
					pause();
			}
			shm[0] = phys_now();
			_exit(0);
		}
		if (use_pidfd) {
			fd = phys_pidfd(pid);
			ev.events = EPOLLIN;
			ev.data.fd = fd;
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		}
		if (kill_it) {
			while (shm[0] == 0)
				sched_yield();
			t0 = phys_now();
			kill(pid, SIGKILL);
		}
		for (;;) {
			if (epoll_wait(ep, &out, 1, -1) != 1)
				continue;
			if (use_pidfd) {
				siginfo_t si;

				waitid(P_PIDFD, (id_t)fd, &si, WEXITED);
				break;
			} else {
				struct signalfd_siginfo ssi;

				while (read(sfd, &ssi, sizeof ssi) > 0)
					;
				if (waitpid(-1, &st, WNOHANG) == pid)
					break;
			}
		}
		ns[i] = phys_now() - (kill_it ? t0 : shm[0]);
		if (use_pidfd) {
			epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
			close(fd);
		}
	}
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	if (sfd != -1)
		close(sfd);
	close(ep);
	munmap((void *)shm, 4096);
	phys_report(name, ns, iters, 0);
	free(ns);
}

/* Waits for the next "up NAME PID T" line of PID in the events file. */
static long long
phys_wait_up(int efd, pid_t pid)
{
	static char buf[1 << 16];
	static size_t len;
	struct timespec tick = { 0, 100000 };
	char *nl, *line;
	long long t;
	int p;
	ssize_t n;

	for (;;) {
		while ((nl = memchr(buf, '\n', len)) != NULL) {
			*nl = '\0';
			line = buf;
			if (sscanf(line, "up %*s %d %lld", &p, &t) == 2 &&
			    p == pid) {
				len -= nl + 1 - buf;
				memmove(buf, nl + 1, len);
				return t;
			}
			len -= nl + 1 - buf;
			memmove(buf, nl + 1, len);
		}
		n = read(efd, buf + len, sizeof buf - len);
		if (n > 0)
			len += n;
		else
			nanosleep(&tick, NULL);
	}
}

static void
phys_respawn(int iters)
{
	char *argv[] = { (char *)child_path, (char *)"floor", NULL };
	long long *ns = calloc(iters, sizeof *ns), t0, t;
	struct epoll_event ev, out;
	int ep, fd, efd, i;
	posix_spawnattr_t attr;
	siginfo_t si;
	pid_t pid;

	setenv("BENCH_EVENTS", events_path, 1);
	efd = open(events_path, O_RDONLY | O_CLOEXEC);
	if (efd == -1) {
		perror(events_path);
		exit(1);
	}
	lseek(efd, 0, SEEK_END);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (posix_spawn(&pid, child_path, NULL, &attr, argv, environ) != 0)
		exit(1);
	phys_wait_up(efd, pid);
	for (i = 0; i < iters; i++) {
		fd = phys_pidfd(pid);
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		t0 = phys_now();
		kill(pid, SIGKILL);
		while (epoll_wait(ep, &out, 1, -1) != 1)
			;
		waitid(P_PIDFD, (id_t)fd, &si, WEXITED);
		epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
		close(fd);
		if (posix_spawn(&pid, child_path, NULL, &attr, argv,
		    environ) != 0)
			exit(1);
		t = phys_wait_up(efd, pid);
		ns[i] = t - t0;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(ep);
	close(efd);
	phys_report("kill_to_respawned_main", ns, iters, 0);
	free(ns);
}

int
main(int argc, char **argv)
{
	int iters;

	if (argc < 3) {
		fprintf(stderr, "usage: phys CHILD EVENTS_FILE [ITERATIONS]\n");
		return 2;
	}
	child_path = argv[1];
	events_path = argv[2];
	iters = argc > 3 ? atoi(argv[3]) : 2000;
	if (iters < 10)
		iters = 10;
	printf("{");
	phys_spawn_wait("fork_exec_wait", HOW_FORK, iters);
	phys_spawn_wait("vfork_exec_wait", HOW_VFORK, iters);
	phys_spawn_wait("posix_spawn_wait", HOW_SPAWN, iters);
	phys_notice("death_notice_pidfd_exit", 1, 0, iters / 4);
	phys_notice("death_notice_pidfd_kill", 1, 1, iters / 4);
	phys_notice("death_notice_signalfd_exit", 0, 0, iters / 4);
	phys_notice("death_notice_signalfd_kill", 0, 1, iters / 4);
	phys_respawn(iters / 8);
	printf("\n}\n");
	return 0;
}
