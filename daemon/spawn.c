/*
 * spawn.c: clone + exec of one process, with everything the spec promises
 * the child: its own session, a clean signal mask and dispositions, stdin
 * from /dev/null, stdout and stderr into the pipes of output.c (or
 * /dev/null for a stream whose log is NONE), no descriptor of tendd, a
 * scrubbed environment, its directory, umask and user, PDEATHSIG for
 * services, and its cgroup for group stops. Setup and exec failures come
 * back synchronously, in memory the child shares with tendd until it
 * execs. Failures are of two classes: the program's (a missing binary,
 * user, directory: FATAL) and the machine's (out of descriptors,
 * processes or memory: SPAWN_SHORT, retried from BACKOFF), the latter
 * with the descriptors in use and the limit. Also group signals. A
 * ready = notify child gets tendd's own NOTIFY_SOCKET (and WATCHDOG_USEC,
 * WATCHDOG_PID), never the one of tendd's supervisor.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tendd.h"

/*
 * valgrind cannot follow a clone that shares the descriptor table or
 * returns a pidfd ("does not support general clone"): under it, spawns
 * copy the table and open the pidfd after, as they did before.
 */
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define SPAWN_UNDER_VALGRIND()	(RUNNING_ON_VALGRIND != 0)
#else
#define SPAWN_UNDER_VALGRIND()	0
#endif

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
/*
 * A child that execs never returns from its frames, so AddressSanitizer's
 * marks for them stay on the reused stack: clear them before each clone.
 */
#define SPAWN_STACK_FRESH(p, n)	__asan_unpoison_memory_region((p), (n))
#else
#define SPAWN_STACK_FRESH(p, n)	((void)0)
#endif
/*
 * The child runs on a borrowed stack in tendd's memory until exec: like
 * glibc's posix_spawn child, it is not instrumented.
 */
#define SPAWN_CHILD	__attribute__((no_sanitize_address))

extern char **environ;

/* tendd's environment without what belongs to tendd's own supervisor. */
static char **spawn_base_env;

/* Variables that describe tendd's relation to systemd, not the child's. */
static const char *const spawn_scrub[] = {
	"NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
	"WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM", "MAINPID",
	"SYSTEMD_EXEC_PID", "INVOCATION_ID", "MANAGERPID",
};

/* What the child tells the parent before it gives up. */
enum spawn_stage {
	STAGE_DEVNULL = 1,
	STAGE_SESSION,
	STAGE_CGROUP,
	STAGE_RLIMIT_NOFILE,
	STAGE_RLIMIT_CORE,
	STAGE_GROUPS,
	STAGE_GID,
	STAGE_UID,
	STAGE_CHDIR,
	STAGE_PDEATHSIG,
	STAGE_EXEC,
};
struct spawn_report {
	int	stage;
	int	err;
};

static int
spawn_env_scrubbed(const char *kv)
{
	size_t i, n;

	for (i = 0; i < nitems(spawn_scrub); i++) {
		n = strlen(spawn_scrub[i]);
		if (strncmp(kv, spawn_scrub[i], n) == 0 && kv[n] == '=')
			return 1;
	}
	return 0;
}

/*
 * Low descriptor slots for what a child keeps: /dev/null for its stdin,
 * /dev/null for a stream whose log is NONE (no pipe, no descriptor in
 * tendd for it), and two placeholders the output pipes are moved into
 * for the length of a spawn. The child shares tendd's descriptor table
 * (CLONE_FILES) and unshares it with close_range(CLOSE_RANGE_UNSHARE),
 * which copies only the descriptors below the range: with these slots
 * that is a dozen, not the thousands tendd holds with a thousand
 * processes and clients (each copied at clone and closed again at exec,
 * which made a restart's cost grow with N).
 */
static int	 spawn_nullfd = -1, spawn_nullout = -1;
static int	 spawn_slot[2] = { -1, -1 };
/* CLONE_FILES | CLONE_PIDFD, or 0 under valgrind */
static unsigned long spawn_clone_flags;

static void
spawn_init_slots(void)
{
	int i;

	if ((spawn_nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1 ||
	    (spawn_nullout = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1)
		fatal("cannot open /dev/null: %s", strerror(errno));
	for (i = 0; i < 2; i++)
		if ((spawn_slot[i] = fcntl(spawn_nullfd, F_DUPFD_CLOEXEC,
		    0)) == -1)
			fatal("cannot reserve a descriptor: %s",
			    strerror(errno));
}

void
spawn_init(void)
{
	size_t i, n = 0;

	spawn_init_slots();
	spawn_clone_flags = SPAWN_UNDER_VALGRIND() ? 0 :
	    CLONE_FILES | CLONE_PIDFD;

	strv_free(spawn_base_env);
	spawn_base_env = xcalloc(strv_len(environ) + 1, sizeof(char *));
	for (i = 0; environ[i] != NULL; i++)
		if (!spawn_env_scrubbed(environ[i]))
			spawn_base_env[n++] = xstrdup(environ[i]);
	spawn_base_env[n] = NULL;
}

/* Set KEY=VALUE in the vector, replacing an earlier KEY. */
static void
spawn_env_set(char ***envp, size_t *n, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : strlen(kv), i;

	for (i = 0; i < *n; i++) {
		if (strncmp((*envp)[i], kv, klen) == 0 &&
		    (*envp)[i][klen] == '=') {
			free((*envp)[i]);
			(*envp)[i] = xstrdup(kv);
			return;
		}
	}
	*envp = xreallocarray(*envp, *n + 2, sizeof(char *));
	(*envp)[(*n)++] = xstrdup(kv);
	(*envp)[*n] = NULL;
}

static void
spawn_env_setf(char ***envp, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
spawn_env_setf(char ***envp, size_t *n, const char *fmt, ...)
{
	va_list ap;
	char *kv;

	va_start(ap, fmt);
	xvasprintf(&kv, fmt, ap);
	va_end(ap);
	spawn_env_set(envp, n, kv);
	free(kv);
}

/* Room for a pid in WATCHDOG_PID=, filled in by the child itself. */
#define SPAWN_PID_SLOT	"WATCHDOG_PID=                    "

/*
 * Later sources win: tendd's environment, the names tend gives every
 * child, the user's identity, [tend] environment, the env_file, the
 * program's own environment, and for ready = notify the socket (and
 * watchdog) tendd itself serves. *PIDSLOT is the WATCHDOG_PID entry the
 * child completes, or NULL.
 */
static char **
spawn_build_env(struct proc *p, const struct passwd *pw, char **fileenv,
    char **pidslot)
{
	char **envp = strv_dup(spawn_base_env);
	size_t i, n = strv_len(envp);

	if (envp == NULL)
		envp = xcalloc(1, sizeof(char *));
	spawn_env_set(&envp, &n, "SUPERVISOR_ENABLED=1");
	if (tendd_conf != NULL && tendd_conf->socket != NULL)
		spawn_env_setf(&envp, &n, "SUPERVISOR_SERVER_URL=unix://%s",
		    tendd_conf->socket);
	spawn_env_setf(&envp, &n, "TEND_PROCESS_NAME=%s", p->name);
	spawn_env_setf(&envp, &n, "TEND_GROUP_NAME=%s", p->group);
	spawn_env_setf(&envp, &n, "SUPERVISOR_PROCESS_NAME=%s", p->name);
	spawn_env_setf(&envp, &n, "SUPERVISOR_GROUP_NAME=%s", p->group);
	if (pw != NULL) {
		spawn_env_setf(&envp, &n, "HOME=%s", pw->pw_dir);
		spawn_env_setf(&envp, &n, "USER=%s", pw->pw_name);
		spawn_env_setf(&envp, &n, "LOGNAME=%s", pw->pw_name);
	}
	if (tendd_conf != NULL && tendd_conf->environment != NULL)
		for (i = 0; tendd_conf->environment[i] != NULL; i++)
			spawn_env_set(&envp, &n, tendd_conf->environment[i]);
	for (i = 0; fileenv != NULL && fileenv[i] != NULL; i++)
		spawn_env_set(&envp, &n, fileenv[i]);
	if (p->pc->environment != NULL)
		for (i = 0; p->pc->environment[i] != NULL; i++)
			spawn_env_set(&envp, &n, p->pc->environment[i]);
	*pidslot = NULL;
	if (p->pc->ready == READY_NOTIFY && notify_address() != NULL) {
		spawn_env_setf(&envp, &n, "NOTIFY_SOCKET=%s", notify_address());
		if (p->pc->watchdog_secs > 0) {
			/* what sd_watchdog_enabled() reads, as systemd sets it */
			spawn_env_setf(&envp, &n, "WATCHDOG_USEC=%llu",
			    (unsigned long long)(p->pc->watchdog_secs * 1e6));
			spawn_env_set(&envp, &n, SPAWN_PID_SLOT);
			for (i = 0; i < n; i++)
				if (strncmp(envp[i], "WATCHDOG_PID=", 13) == 0)
					*pidslot = envp[i];
		}
	}
	return envp;
}

/* In the child: its own pid into the WATCHDOG_PID slot, no stdio. */
static void SPAWN_CHILD
spawn_fill_pid(char *slot)
{
	char digits[24], *d = strchr(slot, '=') + 1;
	long pid = (long)getpid();
	int n = 0;

	do {
		digits[n++] = (char)('0' + pid % 10);
		pid /= 10;
	} while (pid > 0);
	while (n > 0)
		*d++ = digits[--n];
	*d = '\0';
}

/*
 * The path exec will run: a name without '/' is looked up in tendd's
 * PATH, by the rule of the lookup at load (config_env_which).
 */
static char *
spawn_resolve(const char *file, char **cause)
{
	char *found;
	int err;

	if (strchr(file, '/') != NULL)
		return xstrdup(file);
	if ((found = config_env_which(file, NULL, &err)) == NULL)
		xasprintf(cause, "cannot execute %s: %s", file, strerror(err));
	return found;
}

/*
 * glibc keeps signals 32 and 33 for itself and its sigaction() refuses
 * them, but an ignored disposition there is inherited across exec all the
 * same: signals are read and reset with the system call itself.
 */
struct spawn_ksigaction {
	void		(*handler)(int);
	unsigned long	 flags;
	void		(*restorer)(void);
	uint64_t	 mask;
};

/*
 * The signals whose disposition in tendd is not the default: tendd's
 * handlers (libevent's), SIGPIPE ignored, and whatever tendd inherited
 * ignored. Read once, at the first spawn: tendd sets its dispositions
 * while starting up, before any program starts, and never again. The
 * child resets only these: a dozen system calls rather than 62 (13 us
 * here), in the time before exec that tendd waits out.
 */
static int	 spawn_sigs[NSIG];
static int	 spawn_nsigs = -1;

static void
spawn_list_signals(void)
{
	struct spawn_ksigaction old;
	int sig;

	spawn_nsigs = 0;
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (syscall(SYS_rt_sigaction, sig, NULL, &old,
		    sizeof(old.mask)) == -1 || old.handler != SIG_DFL)
			spawn_sigs[spawn_nsigs++] = sig;
	}
}

static void SPAWN_CHILD
spawn_default_signals(void)
{
	struct spawn_ksigaction ksa = { SIG_DFL, 0, NULL, 0 };
	int i;

	for (i = 0; i < spawn_nsigs; i++)
		syscall(SYS_rt_sigaction, spawn_sigs[i], &ksa, NULL,
		    sizeof(ksa.mask));
}

#define SPAWN_SOCKETS_MAX	64

/*
 * What the child needs, prepared by tendd before the clone: the child
 * shares tendd's memory until it execs (CLONE_VM|CLONE_VFORK, as glibc's
 * posix_spawn), so it only reads this, writes its report, makes system
 * calls and exits. No allocation, no stdio, no locks.
 */
struct spawn_child {
	const struct program_conf *pc;
	const char	*path;
	char *const	*argv;		/* pc->argv, or a probe's command */
	int		 pdeath;	/* PDEATHSIG: services and probes */
	char		**envp;
	char		*pidslot;
	int		 nullfd, outfds[2];
	int		 listener_in;	/* an [eventlistener:]'s stdin; 0: none */
	unsigned int	 keep;		/* descriptors below this are copied */
	int		 set_nofile, set_core;
	struct rlimit	 rl_nofile, rl_core;
	int		 has_user;
	uid_t		 uid;
	gid_t		 gid;
	int		 ngroups;
	gid_t		*groups;
	const char	*cgroup;	/* cgroup.procs to join, or NULL */
	/* sockets.c's: to 3.. (LISTEN_FDS), or to 0 for an fcgi-program */
	const int	*socks;
	int		 nsocks;
	int		 socks_tmp[SPAWN_SOCKETS_MAX];
	char		*listenslot;	/* LISTEN_PID=, completed by the child */
	pid_t		 parent;
	struct spawn_report rep;	/* written by a child that gives up */
};

/*
 * LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES as systemd sets them (each
 * descriptor named after the program, as a .socket unit's default).
 */
static void
spawn_listen_env(struct proc *p, struct spawn_child *c)
{
	size_t i, n = strv_len(c->envp);
	char *names, *t;
	int k;

	if (c->nsocks == 0 || p->pc->fcgi)
		return;
	spawn_env_setf(&c->envp, &n, "LISTEN_FDS=%d", c->nsocks);
	spawn_env_set(&c->envp, &n, "LISTEN_PID=                    ");
	names = xstrdup("LISTEN_FDNAMES=");
	for (k = 0; k < c->nsocks; k++) {
		xasprintf(&t, "%s%s%s", names, k > 0 ? ":" : "",
		    p->pc->program);
		free(names);
		names = t;
	}
	spawn_env_set(&c->envp, &n, names);
	free(names);
	for (i = 0; i < n; i++)
		if (strncmp(c->envp[i], "LISTEN_PID=", 11) == 0)
			c->listenslot = c->envp[i];
}

/* In the child: the held sockets into place, before close-on-exec. */
static int SPAWN_CHILD
spawn_child_sockets(struct spawn_child *c)
{
	int i;

	if (c->nsocks == 0)
		return 0;
	if (c->pc->fcgi)
		return dup2(c->socks[0], STDIN_FILENO) == -1 ? -1 : 0;
	/* Above the range first: a socket may sit where another goes. */
	for (i = 0; i < c->nsocks; i++)
		if ((c->socks_tmp[i] = fcntl(c->socks[i], F_DUPFD_CLOEXEC,
		    3 + c->nsocks)) == -1)
			return -1;
	for (i = 0; i < c->nsocks; i++)
		if (dup2(c->socks_tmp[i], 3 + i) == -1)
			return -1;
	return 0;
}

/* The child's stack: one, reused, since spawns never overlap. */
#define SPAWN_STACK_SIZE	(256 * 1024)
static void	*spawn_stack;

/*
 * A child that joins its cgroup by writing to cgroup.procs takes the
 * kernel's cgroup_threadgroup_rwsem for writing, which waits for an RCU
 * grace period: 7-9 ms when spawns are a few ms apart, on every restart.
 * clone3(CLONE_INTO_CGROUP) makes the child in its cgroup and only reads
 * that lock. glibc has no clone3() that runs a function on a new stack,
 * as its clone() does, so this is that, for x86_64: the child comes back
 * from the system call on the new stack, calls FN(ARG) and exits with its
 * result. Elsewhere (and on kernels before 5.7) the child writes to
 * cgroup.procs. Not static: the definition is assembly.
 */
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP	0x200000000ULL
#endif
struct spawn_clone_args {		/* the kernel's struct clone_args */
	uint64_t	flags, pidfd, child_tid, parent_tid, exit_signal;
	uint64_t	stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
#if defined(__x86_64__) && defined(SYS_clone3)
#define SPAWN_CLONE3
_Static_assert(SYS_clone3 == 435 && SYS_exit == 60, "x86_64 numbers");
long	spawn_clone3(struct spawn_clone_args *, size_t, int (*)(void *),
	    void *) __attribute__((visibility("hidden")));
__asm__(
	".text\n"
	".globl spawn_clone3\n"
	".hidden spawn_clone3\n"
	".type spawn_clone3, @function\n"
	".p2align 4\n"
	"spawn_clone3:\n"
	"	mov %rdx, %r8\n"	/* fn and arg survive the system call */
	"	mov %rcx, %r9\n"	/* (it clobbers rcx and r11 only) */
	"	mov $435, %eax\n"
	"	syscall\n"
	"	test %rax, %rax\n"
	"	jnz 1f\n"
	"	xor %ebp, %ebp\n"	/* the child: the outermost frame */
	"	and $-16, %rsp\n"
	"	mov %r9, %rdi\n"
	"	call *%r8\n"
	"	mov %eax, %edi\n"
	"	mov $60, %eax\n"
	"	syscall\n"
	"	hlt\n"
	"1:	ret\n"
	".size spawn_clone3, .-spawn_clone3\n");
static int	 spawn_clone3_works = 1;
#endif

/* Whether a child is made in its cgroup, not left to join it itself. */
static int
spawn_clones_into_cgroup(void)
{
#ifdef SPAWN_CLONE3
	return spawn_clone3_works && spawn_clone_flags != 0;
#else
	return 0;
#endif
}

/*
 * The output pipes into the low slots for the child to find (/dev/null
 * for a stream without one), and the highest descriptor it needs.
 * Should a slot not take (it cannot, short of a broken invariant), the
 * child is handed the pipes where they are and copies the table up to
 * them: slower, never wrong.
 */
static void
spawn_enter_slots(struct spawn_child *c, const int outfds[2])
{
	int i, fd;

	c->nullfd = c->listener_in > 0 ? c->listener_in : spawn_nullfd;
	c->keep = (unsigned int)c->nullfd + 1;
	for (i = 0; i < 2; i++) {
		fd = outfds[i];
		if (fd == -1)
			fd = spawn_nullout;
		else if (spawn_slot[i] != -1 &&
		    dup3(outfds[i], spawn_slot[i], O_CLOEXEC) != -1)
			fd = spawn_slot[i];
		c->outfds[i] = fd;
		if ((unsigned int)fd + 1 > c->keep)
			c->keep = (unsigned int)fd + 1;
	}
}

/*
 * Back to placeholders once the child has exec'd or exited: a slot
 * holding a pipe's write end would keep the pipe from ever reaching EOF.
 */
static void
spawn_leave_slots(void)
{
	int i;

	for (i = 0; i < 2; i++)
		if (spawn_slot[i] != -1 &&
		    dup3(spawn_nullfd, spawn_slot[i], O_CLOEXEC) == -1) {
			log_warn("cannot reset a spawn slot: %s",
			    strerror(errno));
			close(spawn_slot[i]);
			spawn_slot[i] = -1;
		}
}

static void SPAWN_CHILD __attribute__((noreturn))
spawn_report_failure(struct spawn_child *c, int stage)
{
	/* tendd sleeps until this child exits, and reads the report then. */
	c->rep.err = errno;
	c->rep.stage = stage;
	_exit(127);
}

static const char *
spawn_rlimit_str(long long v)
{
	static char buf[32];

	if (v == CONFIG_RLIMIT_INFINITY)
		return "unlimited";
	snprintf(buf, sizeof(buf), "%lld", v);
	return buf;
}

/* rlimit_* as setrlimit() wants it: soft and hard, as systemd's LimitX=N. */
static int
spawn_rlimit(long long v, struct rlimit *rl)
{
	if (v == CONFIG_RLIMIT_UNSET)
		return 0;
	rl->rlim_cur = rl->rlim_max = v == CONFIG_RLIMIT_INFINITY ?
	    RLIM_INFINITY : (rlim_t)v;
	return 1;
}

/* ------------------------------------------------------------------ */
/* Short of descriptors: the machine's state, not the program's fault  */

/*
 * The descriptors below LIMIT tendd has open, counted only when a start
 * has failed for want of them. The kernel hands out the lowest free
 * number, so every one below the lowest free is taken; the few above it
 * are tried one by one (F_GETFD). Out of descriptors, the lowest free is
 * at or near the limit: a handful of system calls, where listing
 * /proc/self/fd would take 90 ms at 20,000.
 */
#define SPAWN_COUNT_MAX		65536

static long
spawn_count_fds(rlim_t limit)
{
	long n;
	int fd, low;

	if (limit == RLIM_INFINITY || limit > INT_MAX)
		return -1;
	if ((low = fcntl(spawn_nullfd, F_DUPFD_CLOEXEC, 0)) == -1)
		return errno == EMFILE ? (long)limit : -1;
	close(low);
	if (limit - (rlim_t)low > SPAWN_COUNT_MAX)
		return -1;	/* not out of descriptors after all */
	n = low;
	for (fd = low + 1; (rlim_t)fd < limit; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return n;
}

/* Open files of the whole system and its limit (fs.file-nr, file-max). */
static int
spawn_count_files(long long *used, long long *max)
{
	char buf[128];
	long long freed;
	ssize_t n;
	int fd;

	/* (the system's table may be too full even for this) */
	n = -1;
	if ((fd = open("/proc/sys/fs/file-nr", O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return sscanf(buf, "%lld %lld %lld", used, &freed, max) == 3 ? 0 : -1;
}

/* " (19998 of 20000 descriptors in use)" for EMFILE, the like for ENFILE. */
static void
spawn_short_note(int err, char *buf, size_t len)
{
	struct rlimit rl;
	long long used, max;
	long n;

	buf[0] = '\0';
	if (err == EMFILE) {
		if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
			return;
		n = spawn_count_fds(rl.rlim_cur);
		if (n >= 0 && rl.rlim_cur != RLIM_INFINITY)
			snprintf(buf, len, " (%ld of %llu descriptors in use)",
			    n, (unsigned long long)rl.rlim_cur);
		else if (rl.rlim_cur != RLIM_INFINITY)
			snprintf(buf, len, " (the limit is %llu descriptors)",
			    (unsigned long long)rl.rlim_cur);
	} else if (err == ENFILE && spawn_count_files(&used, &max) == 0)
		snprintf(buf, len, " (%lld of %lld files open on the system)",
		    used, max);
}

int
spawn_cause(char **cause, const char *what, int err)
{
	char note[96];

	spawn_short_note(err, note, sizeof(note));
	xasprintf(cause, "%s: %s%s", what, strerror(err), note);
	return err == EMFILE || err == ENFILE ? SPAWN_SHORT : -1;
}

/*
 * The top descriptors below the limit that no process takes: with every
 * other one held by processes, tendd can still accept a client (to stop
 * some), open a log file, count its descriptors.
 */
#define SPAWN_FDS_KEPT		32

/*
 * Room for one more process: the lowest free descriptor (where its
 * pidfd would go; the kernel hands out the lowest) is below the kept
 * ones. Else SPAWN_SHORT with *CAUSE. Two system calls a spawn.
 */
static int
spawn_room(char **cause)
{
	struct rlimit rl;
	long n;
	int fd;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur <= 4 * SPAWN_FDS_KEPT)
		return 0;
	if ((fd = fcntl(spawn_nullfd, F_DUPFD_CLOEXEC, 0)) == -1)
		return errno == EMFILE ? spawn_cause(cause,
		    "cannot start a process", errno) : 0;
	close(fd);
	if ((rlim_t)fd < rl.rlim_cur - SPAWN_FDS_KEPT)
		return 0;
	if ((n = spawn_count_fds(rl.rlim_cur)) >= 0)
		xasprintf(cause, "cannot start a process: %s (%ld of %llu "
		    "descriptors in use; the last %d are kept for clients)",
		    strerror(EMFILE), n, (unsigned long long)rl.rlim_cur,
		    SPAWN_FDS_KEPT);
	else
		xasprintf(cause, "cannot start a process: %s (the last %d of "
		    "%llu descriptors are kept for clients)", strerror(EMFILE),
		    SPAWN_FDS_KEPT, (unsigned long long)rl.rlim_cur);
	return SPAWN_SHORT;
}

/* EMFILE or ENFILE when tendd cannot open a descriptor now, else 0. */
static int
spawn_probe(void)
{
	int fd;

	if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) != -1) {
		close(fd);
		return 0;
	}
	return errno == EMFILE || errno == ENFILE ? errno : 0;
}

/*
 * After a step that failed without handing back its errno (a log file,
 * the env_file, the notify socket): when tendd cannot open a descriptor
 * now, that is why, and the start is retried. Else -1: the program's
 * own problem.
 */
static int
spawn_recheck(char **cause)
{
	char note[96], *s;
	int err;

	if ((err = spawn_probe()) == 0)
		return -1;
	spawn_short_note(err, note, sizeof(note));
	xasprintf(&s, "%s%s", *cause, note);
	free(*cause);
	*cause = s;
	return SPAWN_SHORT;
}

static char *
spawn_describe(struct proc *p, const char *path, const char *cgdir,
    struct spawn_report *r)
{
	char *s;
	const char *what = strerror(r->err);

	switch (r->stage) {
	case STAGE_DEVNULL:
		xasprintf(&s, "cannot set up stdin, stdout and stderr: %s",
		    what);
		break;
	case STAGE_SESSION:
		xasprintf(&s, "cannot start a session: %s", what);
		break;
	case STAGE_CGROUP:
		xasprintf(&s, "cannot join cgroup %s: %s", cgdir, what);
		break;
	case STAGE_RLIMIT_NOFILE:
	case STAGE_RLIMIT_CORE:
		xasprintf(&s, "cannot set %s to %s: %s", r->stage ==
		    STAGE_RLIMIT_NOFILE ? "rlimit_nofile" : "rlimit_core",
		    spawn_rlimit_str(r->stage == STAGE_RLIMIT_NOFILE ?
		    p->pc->rlimit_nofile : p->pc->rlimit_core), what);
		break;
	case STAGE_GROUPS:
	case STAGE_GID:
	case STAGE_UID:
		xasprintf(&s, "cannot become user %s: %s", p->pc->user, what);
		break;
	case STAGE_CHDIR:
		xasprintf(&s, "cannot change directory to %s: %s",
		    p->pc->directory, what);
		break;
	case STAGE_PDEATHSIG:
		xasprintf(&s, "cannot set the parent-death signal: %s", what);
		break;
	default:
		xasprintf(&s, "cannot execute %s: %s", path, what);
		break;
	}
	return s;
}

/* The child, between clone and exec. */
static int SPAWN_CHILD
spawn_child_main(void *arg)
{
	struct spawn_child *c = arg;
	const struct program_conf *pc = c->pc;
	sigset_t empty;
	int in, out, err;

	/*
	 * First, before anything touches a descriptor: a table of its own,
	 * with only the low slots copied (spawn_init_slots).
	 */
	if (close_range(c->keep, ~0U, CLOSE_RANGE_UNSHARE) == -1)
		spawn_report_failure(c, STAGE_DEVNULL);
	spawn_default_signals();

	/*
	 * Moved above 2 first, so that no dup2() below overwrites a
	 * descriptor another one still needs (tendd may have been
	 * started with 0-2 closed, making these low numbers).
	 */
	in = fcntl(c->nullfd, F_DUPFD_CLOEXEC, 3);
	out = fcntl(c->outfds[0], F_DUPFD_CLOEXEC, 3);
	err = fcntl(c->outfds[1], F_DUPFD_CLOEXEC, 3);
	if (in == -1 || out == -1 || err == -1 ||
	    dup2(in, STDIN_FILENO) == -1 ||
	    dup2(out, STDOUT_FILENO) == -1 ||
	    dup2(err, STDERR_FILENO) == -1)
		spawn_report_failure(c, STAGE_DEVNULL);
	if (spawn_child_sockets(c) == -1)
		spawn_report_failure(c, STAGE_DEVNULL);
	if (setsid() == -1)
		spawn_report_failure(c, STAGE_SESSION);
	/* Before anything it runs can fork: no descendant is left out. */
	if (c->cgroup != NULL) {
		int cg = open(c->cgroup, O_WRONLY | O_CLOEXEC);

		if (cg == -1 || write(cg, "0", 1) != 1)
			spawn_report_failure(c, STAGE_CGROUP);
		close(cg);
	}
	/* Before the uid change: raising a hard limit needs root. */
	if (c->set_nofile && setrlimit(RLIMIT_NOFILE, &c->rl_nofile) == -1)
		spawn_report_failure(c, STAGE_RLIMIT_NOFILE);
	if (c->set_core && setrlimit(RLIMIT_CORE, &c->rl_core) == -1)
		spawn_report_failure(c, STAGE_RLIMIT_CORE);
	/*
	 * The system calls themselves: glibc's wrappers would run
	 * their all-threads machinery in memory shared with tendd.
	 */
	if (c->has_user) {
		if (syscall(SYS_setgroups, c->ngroups, c->groups) == -1)
			spawn_report_failure(c, STAGE_GROUPS);
		if (syscall(SYS_setresgid, c->gid, c->gid, c->gid) == -1)
			spawn_report_failure(c, STAGE_GID);
		if (syscall(SYS_setresuid, c->uid, c->uid, c->uid) == -1)
			spawn_report_failure(c, STAGE_UID);
	}
	if (pc->directory != NULL && chdir(pc->directory) == -1)
		spawn_report_failure(c, STAGE_CHDIR);
	if (pc->umask >= 0)
		umask((mode_t)pc->umask);
	/* After the uid change, which clears it; services and probes. */
	if (c->pdeath) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
			spawn_report_failure(c, STAGE_PDEATHSIG);
		if (getppid() != c->parent)
			_exit(127);	/* tendd died before the prctl */
	}
	/*
	 * The descriptor limit tendd was given, not its raised one,
	 * unless the program asks for its own (rlimit_nofile).
	 */
	if (!c->set_nofile && tendd_child_nofile.rlim_cur != 0)
		setrlimit(RLIMIT_NOFILE, &tendd_child_nofile);
	/* Belt and braces: whatever tendd has open closes at exec. */
	close_range(3 + (c->pc->fcgi ? 0 : (unsigned)c->nsocks), ~0U,
	    CLOSE_RANGE_CLOEXEC);
	if (c->pidslot != NULL)
		spawn_fill_pid(c->pidslot);
	if (c->listenslot != NULL)
		spawn_fill_pid(c->listenslot);
	sigemptyset(&empty);
	sigprocmask(SIG_SETMASK, &empty, NULL);
	execve(c->path, c->argv, c->envp);
	spawn_report_failure(c, STAGE_EXEC);
}

/*
 * A descriptor held only for the length of a spawn, moved among the kept
 * ones at the top: left in the lowest free slot, it would leave a hole
 * there once closed, and spawn_room, which looks at the lowest free
 * slot, would never see the table fill up.
 */
static int
spawn_fd_aside(int fd)
{
	struct rlimit rl;
	int hi;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur <= 4 * SPAWN_FDS_KEPT ||
	    (rlim_t)fd >= rl.rlim_cur - SPAWN_FDS_KEPT)
		return fd;
	if ((hi = fcntl(fd, F_DUPFD_CLOEXEC,
	    (int)(rl.rlim_cur - SPAWN_FDS_KEPT))) == -1)
		return fd;
	close(fd);
	return hi;
}

/*
 * The clone: into CGDIR (the process's cgroup, or NULL) at birth where the
 * kernel can, else the child joins it itself (spawn_child_main).
 */
static pid_t
spawn_clone(struct spawn_child *c, const char *cgdir, int *pidfd)
{
#ifdef SPAWN_CLONE3
	struct spawn_clone_args ca;
	const char *join = c->cgroup;
	long r;
	int cfd;

	if (cgdir != NULL && join != NULL && spawn_clone3_works &&
	    spawn_clone_flags != 0 &&
	    (cfd = open(cgdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		cfd = spawn_fd_aside(cfd);
		memset(&ca, 0, sizeof(ca));
		ca.flags = CLONE_VM | CLONE_VFORK | CLONE_FILES | CLONE_PIDFD |
		    CLONE_INTO_CGROUP;
		ca.pidfd = (uintptr_t)pidfd;
		ca.exit_signal = SIGCHLD;
		ca.stack = (uintptr_t)spawn_stack;
		ca.stack_size = SPAWN_STACK_SIZE;
		ca.cgroup = (uint64_t)cfd;
		c->cgroup = NULL;	/* in it from birth */
		r = spawn_clone3(&ca, sizeof(ca), spawn_child_main, c);
		close(cfd);
		if (r >= 0)
			return (pid_t)r;
		c->cgroup = join;
		if (r == -ENOSYS || r == -E2BIG || r == -EINVAL) {
			/* a kernel before 5.7: every child joins by itself */
			log_debug("clone3 into a cgroup: %s; children join "
			    "their cgroup themselves", strerror((int)-r));
			spawn_clone3_works = 0;
		}
		/* else the child's own join says what is wrong */
	}
#else
	(void)cgdir;
#endif
	return clone(spawn_child_main, (char *)spawn_stack + SPAWN_STACK_SIZE,
	    (int)(CLONE_VM | CLONE_VFORK | spawn_clone_flags | SIGCHLD), c,
	    pidfd);
}

/* Who the child runs as (user =): looked up before the clone. */
struct spawn_user {
	struct passwd	 pwbuf;
	struct passwd	*pw;		/* NULL: tendd's own user */
	char		 pwstr[4096];
	gid_t		*groups;
	int		 ngroups;
};

/* PC's user and its groups into U. 0, or -1/SPAWN_SHORT with *cause. */
static int
spawn_lookup_user(const struct program_conf *pc, struct spawn_user *u,
    char **cause)
{
	char *why;
	int r;

	u->pw = NULL;
	u->groups = NULL;
	u->ngroups = 0;
	if (pc->user == NULL)
		return 0;
	/*
	 * The user and group databases are files: without a descriptor to
	 * read them, the user would seem not to exist or to have no
	 * supplementary groups.
	 */
	if ((r = spawn_probe()) != 0) {
		xasprintf(&why, "cannot look up user %s", pc->user);
		r = spawn_cause(cause, why, r);
		free(why);
		return r;
	}
	r = getpwnam_r(pc->user, &u->pwbuf, u->pwstr, sizeof(u->pwstr), &u->pw);
	if (u->pw == NULL) {
		if (r != 0) {
			xasprintf(&why, "cannot find user %s", pc->user);
			r = spawn_cause(cause, why, r);
			free(why);
			return r;
		}
		xasprintf(cause, "cannot find user %s", pc->user);
		return -1;
	}
	u->ngroups = 64;
	u->groups = xcalloc(u->ngroups, sizeof(gid_t));
	if (getgrouplist(u->pw->pw_name, u->pw->pw_gid, u->groups,
	    &u->ngroups) == -1) {
		u->groups = xreallocarray(u->groups, u->ngroups, sizeof(gid_t));
		if (getgrouplist(u->pw->pw_name, u->pw->pw_gid, u->groups,
		    &u->ngroups) == -1)
			u->ngroups = 0;
	}
	return 0;
}

/* The clone's stack, mapped once. 0, or SPAWN_SHORT with *cause. */
static int
spawn_map_stack(char **cause)
{
	if (spawn_stack != NULL)
		return 0;
	spawn_stack = mmap(NULL, SPAWN_STACK_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (spawn_stack == MAP_FAILED) {
		/* out of memory: the machine's, retried */
		spawn_stack = NULL;
		spawn_cause(cause, "cannot map a stack for spawning", errno);
		return SPAWN_SHORT;
	}
	return 0;
}

/*
 * What the child needs before the clone, in the order a failure is
 * cheapest: the env_file, the limits, the user, the file to exec, the
 * notify socket, the stack, the output pipes. 0 with C and *PATH
 * filled, or -1/SPAWN_SHORT with *cause and nothing held.
 */
static int
spawn_prepare(struct proc *p, struct spawn_child *c, struct spawn_user *u,
    int outfds[2], char **path, char **cause)
{
	const struct program_conf *pc = p->pc;
	char **fileenv = NULL, *why;
	int r;

	/* Everything that allocates or reads files happens before fork. */
	if (pc->env_file != NULL &&
	    config_read_env_file(pc->env_file, &fileenv, &why) == -1) {
		/* Read at each start, so a restart picks up new secrets. */
		xasprintf(cause, "env_file: %s", why);
		free(why);
		return spawn_recheck(cause);
	}
	c->set_nofile = spawn_rlimit(pc->rlimit_nofile, &c->rl_nofile);
	c->set_core = spawn_rlimit(pc->rlimit_core, &c->rl_core);
	if ((r = spawn_lookup_user(pc, u, cause)) != 0) {
		strv_free(fileenv);
		return r;
	}
	if ((*path = spawn_resolve(pc->path ? pc->path : pc->argv[0],
	    cause)) == NULL)
		r = -1;
	/* The notify socket is made when the first notify program needs it. */
	else if (pc->ready == READY_NOTIFY && notify_address() == NULL &&
	    notify_open(tendd_conf != NULL ? tendd_conf->socket : NULL,
	    cause) == -1)
		r = spawn_recheck(cause);
	else if ((r = spawn_map_stack(cause)) != 0)
		;
	/* The sockets tendd holds for it; one that cannot be bound: FATAL. */
	else if ((r = sockets_for(pc, &c->socks, &c->nsocks, cause)) != 0)
		;
	else if (c->nsocks > SPAWN_SOCKETS_MAX) {
		xasprintf(cause, "more than %d sockets", SPAWN_SOCKETS_MAX);
		r = -1;
	}
	/* The output pipes, and the log files they go to (spec §6). */
	else if ((r = output_spawn_prepare(p, outfds, cause)) != 0) {
		output_spawn_done(p, 0);
		/* a log file that could not be opened for lack of room too */
		if (r != SPAWN_SHORT)
			r = spawn_recheck(cause);
	}
	/* an [eventlistener:]'s stdin and stdout: listener.c's pipes */
	else if ((r = listener_spawn_prepare(p, &c->listener_in, outfds,
	    cause)) != 0)
		output_spawn_done(p, 0);
	if (r != 0) {
		free(u->groups);
		free(*path);
		*path = NULL;
		strv_free(fileenv);
		return r;
	}
	c->envp = spawn_build_env(p, u->pw, fileenv, &c->pidslot);
	spawn_listen_env(p, c);
	strv_free(fileenv);
	return 0;
}

/*
 * The child reported a failure before exec, and is exiting: the cause,
 * and P left without a process (reap.c collects it as an unknown pid).
 */
static int
spawn_failed_child(struct proc *p, const char *path, const char *cgdir,
    struct spawn_child *c, char **cause)
{
	char note[96], *s;
	int r;

	*cause = spawn_describe(p, path, cgdir, &c->rep);
	r = c->rep.err == EMFILE || c->rep.err == ENFILE ? SPAWN_SHORT : -1;
	if (c->rep.err == ENFILE) {
		spawn_short_note(ENFILE, note, sizeof(note));
		xasprintf(&s, "%s%s", *cause, note);
		free(*cause);
		*cause = s;
	}
	output_spawn_done(p, 0);
	p->pid = 0;
	if (p->pidfd != -1) {
		close(p->pidfd);
		p->pidfd = -1;
	}
	return r;
}

int
spawn_proc(struct proc *p, char **cause)
{
	struct spawn_user u;
	struct spawn_child child;
	char *path = NULL;
	const char *cgdir;
	int r, outfds[2], saved = 0, pidfd;
	sigset_t all, old;
	pid_t pid;

	if ((r = spawn_room(cause)) != 0)
		return r;
	/*
	 * Not while a predecessor's leftovers may still hold its ports: like
	 * a full descriptor table, a state of the machine that passes, so
	 * the start is retried from BACKOFF, never FATAL.
	 */
	if (cgroup_may_spawn(cause) == -1)
		return SPAWN_SHORT;
	memset(&child, 0, sizeof(child));
	if ((r = spawn_prepare(p, &child, &u, outfds, &path, cause)) != 0)
		return r;
	if (spawn_nsigs == -1)
		spawn_list_signals();

	/*
	 * No signal may run libevent's handler in the child: it would write
	 * into the socketpair tendd shares with it.
	 */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	child.pc = p->pc;
	child.path = path;
	child.argv = p->pc->argv;
	child.pdeath = p->pc->daemon;
	spawn_enter_slots(&child, outfds);
	for (r = 0; r < child.nsocks; r++)	/* copied into its table */
		if ((unsigned int)child.socks[r] + 1 > child.keep)
			child.keep = (unsigned int)child.socks[r] + 1;
	child.has_user = u.pw != NULL;
	child.uid = u.pw != NULL ? u.pw->pw_uid : 0;
	child.gid = u.pw != NULL ? u.pw->pw_gid : 0;
	child.ngroups = u.ngroups;
	child.groups = u.groups;
	child.cgroup = cgroup_proc_prepare(p, spawn_clones_into_cgroup(),
	    &cgdir);
	child.parent = getpid();
	child.rep.stage = 0;
	child.rep.err = 0;
	/*
	 * tendd sleeps until the child has exec'd or exited: no page tables
	 * are copied (fork's cost grows with tendd's memory) and the child's
	 * report needs no pipe.
	 */
	SPAWN_STACK_FRESH(spawn_stack, SPAWN_STACK_SIZE);
	pidfd = -1;
	pid = spawn_clone(&child, cgdir, &pidfd);
	saved = errno;
	spawn_leave_slots();
	sigprocmask(SIG_SETMASK, &old, NULL);
	strv_free(child.envp);
	free(u.groups);
	if (pid == -1) {
		/*
		 * Out of descriptors for the pidfd, of processes, of memory:
		 * all the machine's state, and a later try may do.
		 */
		r = spawn_cause(cause, "cannot fork", saved);
		output_spawn_done(p, 0);
		free(path);
		return saved == EAGAIN || saved == ENOMEM ? SPAWN_SHORT : r;
	}

	/* Made by clone itself: it can only ever name this child. */
	p->pid = pid;
	if (pidfd == -1)	/* under valgrind: before any reap, so the same */
		pidfd = pidfd_open(pid, 0);
	p->pidfd = pidfd;

	if (child.rep.stage != 0) {
		r = spawn_failed_child(p, path, cgdir, &child, cause);
		free(path);
		return r;
	}
	free(path);
	reap_watch(p);
	sockets_spawned(p->pc);
	cgroup_proc_spawned(p, cgdir != NULL);
	output_spawn_done(p, 1);
	log_debug("%s: spawned pid %ld: %s", p->fullname, (long)pid,
	    p->pc->command);
	return 0;
}

/*
 * An exec probe: what spawn_prepare() does for the program itself,
 * without its output pipes, cgroup or notify socket. The probe's
 * output goes to /dev/null: tendd reads nothing from it.
 */
int
spawn_command(struct proc *p, char *const *argv, pid_t *pidp, int *pidfdp,
    char **cause)
{
	return spawn_command_out(p, argv, -1, pidp, pidfdp, cause);
}

/* spawn_command(), with stdout and stderr to OUTFD (-1: /dev/null). */
int
spawn_command_out(struct proc *p, char *const *argv, int outfd, pid_t *pidp,
    int *pidfdp, char **cause)
{
	const struct program_conf *pc = p->pc;
	struct spawn_user u;
	struct spawn_child child;
	char **fileenv = NULL, *path, *why;
	int r, outfds[2] = { outfd, outfd }, pidfd = -1, saved;
	sigset_t all, old;
	pid_t pid;

	*pidp = 0;
	*pidfdp = -1;
	if ((r = spawn_room(cause)) != 0)
		return r;
	if (pc->env_file != NULL &&
	    config_read_env_file(pc->env_file, &fileenv, &why) == -1) {
		xasprintf(cause, "env_file: %s", why);
		free(why);
		return -1;
	}
	memset(&child, 0, sizeof(child));
	child.set_nofile = spawn_rlimit(pc->rlimit_nofile, &child.rl_nofile);
	child.set_core = spawn_rlimit(pc->rlimit_core, &child.rl_core);
	if ((r = spawn_lookup_user(pc, &u, cause)) != 0) {
		strv_free(fileenv);
		return r;
	}
	if ((path = spawn_resolve(argv[0], cause)) == NULL ||
	    (r = spawn_map_stack(cause)) != 0) {
		free(u.groups);
		free(path);
		strv_free(fileenv);
		return path == NULL ? -1 : r;
	}
	child.envp = spawn_build_env(p, u.pw, fileenv, &child.pidslot);
	strv_free(fileenv);
	if (spawn_nsigs == -1)
		spawn_list_signals();

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	child.pc = pc;
	child.path = path;
	child.argv = argv;
	child.pdeath = 1;
	spawn_enter_slots(&child, outfds);
	child.has_user = u.pw != NULL;
	child.uid = u.pw != NULL ? u.pw->pw_uid : 0;
	child.gid = u.pw != NULL ? u.pw->pw_gid : 0;
	child.ngroups = u.ngroups;
	child.groups = u.groups;
	child.cgroup = NULL;
	child.parent = getpid();
	SPAWN_STACK_FRESH(spawn_stack, SPAWN_STACK_SIZE);
	pid = spawn_clone(&child, NULL, &pidfd);
	saved = errno;
	spawn_leave_slots();
	sigprocmask(SIG_SETMASK, &old, NULL);
	strv_free(child.envp);
	free(u.groups);
	if (pid == -1) {
		r = spawn_cause(cause, "cannot fork", saved);
		free(path);
		return saved == EAGAIN || saved == ENOMEM ? SPAWN_SHORT : r;
	}
	if (pidfd == -1)
		pidfd = pidfd_open(pid, 0);
	if (child.rep.stage != 0) {
		/* the child exits: the sweep collects it as not ours */
		*cause = spawn_describe(p, path, NULL, &child.rep);
		if (pidfd != -1)
			close(pidfd);
		free(path);
		return -1;
	}
	free(path);
	*pidp = pid;
	*pidfdp = pidfd;
	return 0;
}

/* The process group and session of PID (/proc/PID/stat); -1 if gone. */
static int
spawn_ids(pid_t pid, pid_t *pgrp, pid_t *sid)
{
	struct pidstat ps;

	if (procfs_stat(pid, &ps) == -1)
		return -1;
	*pgrp = ps.pgrp;
	*sid = ps.sid;
	return 0;
}

/*
 * Processes in a process group other than their session's (pgrp != sid):
 * the only ones kill(-SID) misses. Listed by one walk of /proc, kept for
 * SPAWN_STRAYS_SECS so that a shutdown stopping a thousand programs as
 * groups walks /proc once, not a thousand times. Usually very few.
 */
#define SPAWN_STRAYS_SECS	0.05
struct spawn_stray {
	pid_t	pid;
	pid_t	sid;
};
static struct spawn_stray *spawn_strays;
static size_t	 spawn_nstrays, spawn_strays_cap;
static double	 spawn_strays_at = -1;

static void
spawn_list_strays(void)
{
	struct dirent *de;
	pid_t pid, g, s;
	double now = util_now();
	char *end;
	DIR *d;

	if (spawn_strays_at >= 0 && now - spawn_strays_at < SPAWN_STRAYS_SECS)
		return;
	spawn_nstrays = 0;
	spawn_strays_at = now;
	if ((d = opendir("/proc")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		pid = (pid_t)strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 0 ||
		    spawn_ids(pid, &g, &s) == -1 || s <= 0 || g == s)
			continue;
		if (spawn_nstrays == spawn_strays_cap) {
			spawn_strays_cap = spawn_strays_cap ?
			    2 * spawn_strays_cap : 64;
			spawn_strays = xreallocarray(spawn_strays,
			    spawn_strays_cap, sizeof(*spawn_strays));
		}
		spawn_strays[spawn_nstrays].pid = pid;
		spawn_strays[spawn_nstrays++].sid = s;
	}
	closedir(d);
}

/*
 * SIG to the processes of session SID outside process group SID (which
 * kill(-SID) reaches). A descendant that moved to a group of its own
 * (setpgid, a shell's job control) is still in the session the child
 * made, and still the program's: stopasgroup and killasgroup must reach
 * it. Each is pinned with a pidfd and checked again before the signal,
 * so a pid that changed hands since the list was made is never hit.
 */
static void
spawn_signal_session(pid_t sid, int sig)
{
	pid_t g, s;
	size_t i;
	int fd;

	spawn_list_strays();
	for (i = 0; i < spawn_nstrays; i++) {
		if (spawn_strays[i].sid != sid)
			continue;
		if ((fd = pidfd_open(spawn_strays[i].pid, 0)) == -1)
			continue;
		if (spawn_ids(spawn_strays[i].pid, &g, &s) == 0 && s == sid &&
		    g != sid)
			pidfd_send_signal(fd, sig, NULL, 0);
		close(fd);
	}
}

int
spawn_signal(struct proc *p, int sig, int group)
{
	if (p->pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	/*
	 * The child called setsid(), so its group and session ids are its
	 * pid (not so for a process adopted from a pidfile or MAINPID=).
	 */
	/*
	 * Everything the child started is in its cgroup, even what left
	 * its session. A process adopted from a pidfile or MAINPID= keeps
	 * to its session: its cgroup is the one of its launcher.
	 */
	if (group && p->cgroup != NULL && !p->adopted &&
	    cgroup_proc_signal(p, sig) == 0)
		return 0;
	if (group) {
		if (!p->adopted)
			spawn_signal_session(p->pid, sig);
		if (kill(-p->pid, sig) == 0)
			return 0;
		if (errno != ESRCH)
			return -1;
		/* the group is empty but for a leader that left it */
	}
	if (p->pidfd != -1)
		return pidfd_send_signal(p->pidfd, sig, NULL, 0);
	return kill(p->pid, sig);
}
