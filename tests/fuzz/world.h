/*
 * world.h: tendd itself, inside a fuzz target's process, for the targets
 * that run the daemon's own path from a connection's bytes to the lines
 * it writes (fuzz_daemon.c, fuzz_events.c). Included by one target each.
 *
 * Real: the config (a file in a private directory, read by config_load()
 * as tendd reads it), the program table and its state machine (program.c,
 * state.c, reload.c), the control socket and its connections (control.c,
 * listening on a socket in that directory; the harness connects as
 * clients do), framing, the command table, name matching and parked
 * requests (command.c), the handlers (cmd_*.c), the events stream
 * (events.c), the replies (reply.c), output pipes and tail rings
 * (output.c), log files
 * (logfile.c), reload and shutdown (tendd.c).
 *
 * Fake, because it would touch the OS beyond this process (linked with
 * -Wl,--wrap=spawn_proc,--wrap=spawn_signal,--wrap=fatal; see Makefile):
 *   spawn_proc()   no clone or exec: the process gets a pid above
 *                  PID_MAX_LIMIT (no kernel hands those out, so a stray
 *                  real call could only fail), real output pipes with its
 *                  program's scripted output written into them, and its
 *                  program's scripted fate: stays up, exits at once with
 *                  a code, or cannot be started (a reason, as spawn.c
 *                  gives one);
 *   spawn_signal() no kill(): the fake process stops (SIGSTOP), continues
 *                  (SIGCONT), dies of SIGTERM, SIGINT, SIGQUIT or SIGKILL
 *                  (a stubborn one of SIGKILL only; a stopped one once it
 *                  continues), and ignores the rest. A death reaches the
 *                  daemon from the event loop as reap.c delivers one:
 *                  program_exited(), then program_reaped() with the status;
 *   fatal()        aborts, so the fuzzer reports the input (tendd would
 *                  exit, and every service with it);
 *   log_error()    prints, or aborts where the target says no error can
 *                  be right (world_strict).
 * Nothing else is replaced. tendd.c, program.c and state.c are included
 * here rather than linked, so that their file-scope state (shutting down,
 * stopping all, a shutdown step queued) is put back between inputs and
 * the state setter can be called; their code is the daemon's, unchanged.
 *
 * Every input starts from the same table (world_start) and leaves nothing
 * behind (world_end): no connection, process, timer, pipe or log file.
 */
#ifndef TEND_FUZZ_WORLD_H
#define TEND_FUZZ_WORLD_H

#define main tendd_unused_main
#include "tendd.c"
#undef main
#include "program.c"
#include "state.c"

#include <dirent.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <jansson.h>

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* ------------------------------------------------------------------ */
/* The config: one program per kind of state, groups, numprocs.         */

/*
 * What each program's fake process does. Output has invalid UTF-8, NULs,
 * a character cut at the end, control characters and a long line.
 */
struct world_fate {
	const char	*program;
	int		 exits;		/* exits at once with code */
	int		 code;
	int		 stubborn;	/* dies of SIGKILL only */
	const char	*spawnerr;	/* cannot be started: why */
	int		 short_of_fds;	/* tendd is out of descriptors */
};

static const struct world_fate world_fates[] = {
	{ "job", 1, 0, 0, NULL, 0 },
	{ "crashy", 1, 3, 0, NULL, 0 },
	{ "flaky", 1, 1, 0, NULL, 0 },
	{ "stubborn", 0, 0, 1, NULL, 0 },
	{ "quick", 0, 0, 1, NULL, 0 },
	/* a path from the config is bytes: spawn.c's reason carries them */
	{ "nostart", 0, 0, 0, "cannot execute /opt/caf\xe9/bin/nostart: No "
	    "such file or directory", 0 },
	{ "starved", 0, 0, 0, NULL, 1 },
	/* exits before startsecs: a launcher; its pidfile never comes */
	{ "launcher", 1, 0, 0, NULL, 0 },
};
static const struct world_fate world_fate_default = { NULL, 0, 0, 0, NULL, 0 };

static const char world_stdout[] =
    "hello w\xc3\xb6rld\n"
    "invalid \xff\xfe bytes, a lone \xc3 byte, overlong \xc0\xaf, "
    "surrogate \xed\xa0\x80\n"
    "nul \0 in a line\r\n\x1b[31mcolour\x1b[0m\ttab\n"
    "emoji \xf0\x9f\x98\x80 and a cut \xe2\x82";
static const char world_stderr[] = "warning: caf\xe9\n\xf4\x90\x80\x80\n";

/* The config, with @DIR@ for the private directory. */
static const char world_config[] =
    "[tend]\n"
    "socket = @DIR@/tend.sock\n"
    "childlogdir = @DIR@/logs\n"
    "logfile = stderr\n"
    "loglevel = error\n"
    "client_timeout = 0\n"
    "\n"
    "[group:gr\xc3\xbcppe]\n"
    "programs = web, caf\xc3\xa9\n"
    "priority = 100\n"
    "\n"
    "[program:web]\n"
    "command = /bin/true web\n"
    "numprocs = 3\n"
    "process_name = web_%(process_num)d\n"
    "startsecs = 0\n"
    "stopwaitsecs = 3600\n"
    "stdout_logfile = /dev/null\n"
    "stderr_logfile = /dev/null\n"
    "\n"
    "[program:caf\xc3\xa9]\n"
    "command = /bin/true caf\xc3\xa9\n"
    "startsecs = 0\n"
    "stopasgroup = true\n"
    "stdout_logfile = /dev/null\n"
    "stderr_logfile = /dev/null\n"
    "\n"
    "[program:job]\n"
    "command = /bin/true job\n"
    "daemon = false\n"
    "startsecs = 0\n"
    "joinsecs = 0\n"
    "stdout_logfile = /dev/null\n"
    "stderr_logfile = NONE\n"
    "\n"
    "[program:crashy]\n"
    "command = /bin/true crashy\n"
    "startsecs = 0\n"
    "autorestart = true\n"
    "restart_delay = 3600\n"
    "stdout_logfile = /dev/null\n"
    "stderr_logfile = /dev/null\n"
    "\n"
    "[program:nostart]\n"
    "command = /bin/true nostart\n"
    "startsecs = 0\n"
    "stdout_logfile = /dev/null\n"
    "stderr_logfile = NONE\n"
    "\n"
    "[program:flaky]\n"
    "command = /bin/true flaky\n"
    "startsecs = 3600\n"
    "startretries = 0\n"
    "stdout_logfile = NONE\n"
    "stderr_logfile = NONE\n"
    "\n"
    "[program:slow]\n"
    "command = /bin/true slow\n"
    "startsecs = 3600\n"
    "stdout_logfile = /dev/null\n"
    "stderr_logfile = NONE\n"
    "\n"
    "[program:stubborn]\n"
    "command = /bin/true stubborn\n"
    "startsecs = 0\n"
    "stopwaitsecs = 3600\n"
    "stdout_logfile = /dev/null\n"
    "stderr_logfile = NONE\n"
    "\n"
    "[program:quick]\n"
    "command = /bin/true quick\n"
    "startsecs = 0\n"
    "stopwaitsecs = 0\n"
    "killasgroup = true\n"
    "stdout_logfile = /dev/null\n"
    "stderr_logfile = /dev/null\n"
    "\n"
    "[program:starved]\n"
    "command = /bin/true starved\n"
    "autostart = false\n"
    "startsecs = 0\n"
    "stdout_logfile = /dev/null\n"
    "stderr_logfile = NONE\n"
    "\n"
    "[program:idle]\n"
    "command = /bin/true idle\n"
    "autostart = false\n"
    "startsecs = 0\n"
    "stdout_logfile = NONE\n"
    "stderr_logfile = NONE\n"
    "\n"
    "[program:halted]\n"
    "command = /bin/true halted\n"
    "startsecs = 0\n"
    "stdout_logfile = NONE\n"
    "stderr_logfile = NONE\n"
    "\n"
    "[program:sleeper]\n"
    "command = /bin/true sleeper\n"
    "startsecs = 0\n"
    "stdout_logfile = /dev/null\n"
    "stderr_logfile = /dev/null\n"
    "\n"
    "[program:notify]\n"
    "command = /bin/true notify\n"
    "ready = notify\n"
    "ready_timeout = 3600\n"
    "stdout_logfile = /dev/null\n"
    "stderr_logfile = NONE\n"
    "\n"
    "[program:launcher]\n"
    "command = /bin/true launcher\n"
    "pidfile = @DIR@/d\xc3\xa6mon.pid\n"
    "startsecs = 3600\n"
    "ready_timeout = 3600\n"
    "stdout_logfile = /dev/null\n"
    "stderr_logfile = NONE\n"
    "\n"
    "[program:logged]\n"
    "command = /bin/true logged\n"
    "startsecs = 0\n"
    "priority = 1\n"
    "stdout_logfile = @DIR@/logs/logged.log\n"
    "stdout_logfile_maxbytes = 1KB\n"
    "stdout_logfile_backups = 2\n"
    "redirect_stderr = true\n"
    "log_timestamps = true\n";

/* TEND_FUZZ_SHOW=1: every line tendd writes goes to stderr too. */
static int	 world_show;
/*
 * The config a reload finds when an input asks for it (fuzz_daemon.c's
 * flag 0x08): the same file with these changes, so that a reload
 * removes (web_2 of three, halted STOPPED, stubborn STOPPING, slow
 * STARTING), adds (fresh, stubborn2, slower), changes (crashy in
 * BACKOFF, café and logged RUNNING, sleeper PAUSED, launcher STARTING)
 * and finds a [tend] key that needs a restart.
 */
static const char *const world_config_b[][2] = {
	{ "client_timeout = 0\n", "client_timeout = 0\nidentifier = tendd-b\n" },
	{ "numprocs = 3\n", "numprocs = 2\n" },
	{ "[program:halted]\n", "[program:fresh]\n" },
	{ "[program:stubborn]\n", "[program:stubborn2]\n" },
	{ "[program:slow]\n", "[program:slower]\n" },
	{ "restart_delay = 3600\n", "restart_delay = 7200\n" },
	{ "/bin/true caf\xc3\xa9\n", "/bin/true caf\xc3\xa9 --changed\n" },
	{ "/bin/true sleeper\n", "/bin/true sleeper --changed\n" },
	{ "/bin/true launcher\n", "/bin/true launcher --changed\n" },
	{ "stdout_logfile_maxbytes = 1KB\n", "stdout_logfile_maxbytes = 2KB\n" },
};

static char	 world_dir[] = "/tmp/tend-fuzz-world.XXXXXX";
static char	 world_file[sizeof(world_dir) + 16];
/* The config's text as written (0) and as a reload may find it (1). */
static char	*world_text[2];
/* The file says world_text[1] (and a reload may have read it). */
static int	 world_conf_b;
static struct sockaddr_un world_sun;

/* Output the next spawn writes instead of its program's (fuzz_events.c). */
static const char *world_next_out;
static size_t	 world_next_outlen;

static void __attribute__((noreturn, format(printf, 1, 2)))
world_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "world: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

/* fatal() on any path of the daemon is a finding: tendd would exit. */
void	__wrap_fatal(const char *, ...) __attribute__((noreturn));
void
__wrap_fatal(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "world: tendd called fatal(): ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

/*
 * tendd's error log: a broken invariant, a log file it cannot write, a
 * reload it refuses. With WORLD_STRICT (fuzz_daemon.c, where none of
 * these can happen for a good reason) that is a finding too.
 */
static int	 world_strict;
void	__wrap_log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void
__wrap_log_error(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (world_strict)
		world_fail("tendd logged an error: %s", msg);
	fprintf(stderr, "tendd: error: %s\n", msg);
}

/* ------------------------------------------------------------------ */
/* Fake processes                                                       */

/* Above PID_MAX_LIMIT (2^22): never a real process. */
#define WORLD_PID_BASE	5000000

struct world_fake {
	pid_t		 pid;
	const struct world_fate *fate;
	int		 stopped;	/* SIGSTOP'd */
	int		 dying;		/* its death is on its way */
	int		 pending;	/* a deadly signal waiting for SIGCONT */
	int		 status;	/* wait status of its death */
	struct event	*ev;
};
static struct world_fake *world_fakes;
static size_t	 world_nfakes, world_fakes_cap;
/* Something happened in the last pass: a death, bytes for a client. */
static unsigned long world_activity;

static const struct world_fate *
world_fate_of(const struct proc *p)
{
	size_t i;

	for (i = 0; i < nitems(world_fates); i++)
		if (strcmp(p->pc->program, world_fates[i].program) == 0)
			return &world_fates[i];
	return &world_fate_default;
}

static struct world_fake *
world_fake_of(pid_t pid)
{
	if (pid < WORLD_PID_BASE || (size_t)(pid - WORLD_PID_BASE) >= world_nfakes)
		return NULL;
	return &world_fakes[pid - WORLD_PID_BASE];
}

/* As reap.c: still a zombie (program_exited), then reaped. */
static void
world_death_cb(int fd, short ev, void *arg)
{
	struct world_fake *f = &world_fakes[(size_t)(uintptr_t)arg];
	struct proc *p;

	world_activity++;
	if ((p = program_find_pid(f->pid)) == NULL)
		return;
	program_exited(p);
	if (p->pid == f->pid)
		program_reaped(p, f->status);
}

static void
world_die(struct world_fake *f, int status)
{
	static const struct timeval now = { 0, 0 };

	if (f->dying)
		return;
	f->dying = 1;
	f->status = status;
	if (f->ev == NULL && (f->ev = evtimer_new(tendd_base, world_death_cb,
	    (void *)(uintptr_t)(f - world_fakes))) == NULL)
		world_fail("evtimer_new");
	evtimer_add(f->ev, &now);
}

static void
world_write(int fd, const char *s, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, s, n)) == -1)
			world_fail("write to an output pipe: %s", strerror(errno));
		s += w;
		n -= (size_t)w;
	}
}

int	__wrap_spawn_proc(struct proc *, char **);
int
__wrap_spawn_proc(struct proc *p, char **cause)
{
	const struct world_fate *fate = world_fate_of(p);
	struct world_fake *f;
	int fds[2], r;

	if (fate->spawnerr != NULL) {
		*cause = xstrdup(fate->spawnerr);
		return -1;
	}
	if (fate->short_of_fds)
		return spawn_cause(cause, "cannot create a pipe", EMFILE);
	/*
	 * The real pipes and log files: what it writes is read by output.c.
	 * A stream whose log is NONE has no pipe (-1): it would write to
	 * /dev/null.
	 */
	if ((r = output_spawn_prepare(p, fds, cause)) != 0) {
		output_spawn_done(p, 0);
		return r;
	}
	if (world_next_out != NULL && fds[0] != -1) {
		world_write(fds[0], world_next_out, world_next_outlen);
		world_next_out = NULL;
	} else if (world_next_out == NULL) {
		if (fds[0] != -1)
			world_write(fds[0], world_stdout,
			    sizeof(world_stdout) - 1);
		if (fds[1] != -1 && fds[1] != fds[0])
			world_write(fds[1], world_stderr,
			    sizeof(world_stderr) - 1);
	}
	if (world_nfakes == world_fakes_cap) {
		world_fakes_cap = world_fakes_cap ? world_fakes_cap * 2 : 64;
		world_fakes = xreallocarray(world_fakes, world_fakes_cap,
		    sizeof(*world_fakes));
	}
	f = &world_fakes[world_nfakes];
	memset(f, 0, sizeof(*f));
	f->pid = WORLD_PID_BASE + (pid_t)world_nfakes++;
	f->fate = fate;
	p->pid = f->pid;
	p->pidfd = -1;
	/* The child's ends close: it has written all it will. */
	output_spawn_done(p, 1);
	if (fate->exits)
		world_die(f, W_EXITCODE(fate->code, 0));
	return 0;
}

int	__wrap_spawn_signal(struct proc *, int, int);
int
__wrap_spawn_signal(struct proc *p, int sig, int group)
{
	struct world_fake *f;

	if (p->pid <= 0 || (f = world_fake_of(p->pid)) == NULL) {
		errno = ESRCH;
		return -1;
	}
	if (f->dying)
		return 0;	/* a zombie takes signals too */
	switch (sig) {
	case SIGSTOP:
	case SIGTSTP:
		f->stopped = 1;
		return 0;
	case SIGCONT:
		f->stopped = 0;
		if (f->pending)
			world_die(f, f->pending);
		return 0;
	case SIGKILL:
		world_die(f, SIGKILL);
		return 0;
	case SIGTERM:
	case SIGINT:
	case SIGQUIT:
		if (f->fate->stubborn)
			return 0;
		if (f->stopped)
			f->pending = sig;
		else
			world_die(f, sig);
		return 0;
	default:
		return 0;	/* handled, or ignored */
	}
}

static void
world_fakes_reset(void)
{
	size_t i;

	for (i = 0; i < world_nfakes; i++)
		if (world_fakes[i].ev != NULL)
			event_free(world_fakes[i].ev);
	world_nfakes = 0;
}

/* ------------------------------------------------------------------ */
/* Clients                                                              */

struct world_client {
	int		 fd;		/* -1 once closed */
	char		*buf;		/* what tendd wrote to it */
	size_t		 len, cap;
	int		 eof;
};
#define WORLD_MAX_CLIENTS	8
/* An honest client's subscription to every process's events. */
#define WORLD_SUBSCRIBE	"{\"id\":\"sub\",\"cmd\":\"events\"}\n"
static struct world_client *world_clients[WORLD_MAX_CLIENTS];
static size_t	 world_nclients;

static struct world_client *
world_connect(void)
{
	struct world_client *c;

	if (world_nclients == WORLD_MAX_CLIENTS)
		world_fail("too many clients");
	c = xcalloc(1, sizeof(*c));
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1 || connect(c->fd, (struct sockaddr *)&world_sun,
	    sizeof(world_sun)) == -1)
		world_fail("connect: %s", strerror(errno));
	world_clients[world_nclients++] = c;
	return c;
}

static void
world_client_read(struct world_client *c)
{
	ssize_t n;

	if (c->fd == -1 || c->eof)
		return;
	for (;;) {
		if (c->cap - c->len < 65536) {
			c->cap = c->cap * 2 + 65536;
			c->buf = xrealloc(c->buf, c->cap);
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
		if (n > 0) {
			c->len += (size_t)n;
			world_activity++;
			continue;
		}
		if (n == 0)
			c->eof = 1;
		else if (errno == ECONNRESET)
			c->eof = 1;
		else if (errno != EAGAIN && errno != EINTR)
			world_fail("recv: %s", strerror(errno));
		return;
	}
}

/* Bytes this client sent that tendd has not read yet. */
static int
world_client_unread(struct world_client *c)
{
	int n = 0;

	if (c->fd == -1 || ioctl(c->fd, SIOCOUTQ, &n) == -1)
		return 0;
	return n;
}

static void
world_client_close(struct world_client *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
}

/* Closes C and forgets it (its lines are read and checked). */
static void
world_client_free(struct world_client *c)
{
	size_t i;

	world_client_close(c);
	for (i = 0; i < world_nclients; i++)
		if (world_clients[i] == c)
			world_clients[i] = world_clients[--world_nclients];
	free(c->buf);
	free(c);
}

/*
 * Runs the loop until tendd has nothing left to do now: two passes in a
 * row with no death, no byte for any client, no byte of a client unread
 * and no event active. Timers due later (a backoff, a stop timeout) wait
 * for an input that takes that long, which none does.
 */
static void
world_settle(void)
{
	unsigned long before;
	int quiet = 0, passes = 0, busy;
	size_t i;

	while (quiet < 2) {
		before = world_activity;
		event_base_loop(tendd_base, EVLOOP_NONBLOCK);
		busy = 0;
		for (i = 0; i < world_nclients; i++) {
			world_client_read(world_clients[i]);
			if (world_client_unread(world_clients[i]) > 0)
				busy = 1;
		}
		if (world_activity == before && !busy &&
		    event_base_get_num_events(tendd_base,
		    EVENT_BASE_COUNT_ACTIVE) == 0)
			quiet++;
		else
			quiet = 0;
		if (++passes > 1000000)
			world_fail("tendd never settles (a loop of events)");
	}
}

/* Writes all of S to C, letting tendd read as the socket fills up. */
static void
world_send(struct world_client *c, const void *s, size_t n)
{
	const char *p = s;
	ssize_t w;

	while (n > 0) {
		w = send(c->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w == -1 && (errno == EPIPE || errno == ECONNRESET))
			return;		/* tendd closed it: fine */
		if (w == -1 && errno != EAGAIN && errno != EINTR)
			world_fail("send: %s", strerror(errno));
		world_settle();
	}
}

/* ------------------------------------------------------------------ */
/* What tendd wrote: checked line by line                               */

/* RFC 3629, independently of jsonw_utf8_len(). */
static int
world_utf8_at(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need, k;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	for (k = 2; k < need; k++)
		if (s[k] < 0x80 || s[k] > 0xbf)
			return 0;
	return (int)need;
}

static int
world_utf8_ok(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i;
	int k;

	for (i = 0; i < n; i += (size_t)k)
		if ((k = world_utf8_at(s + i, n - i)) == 0)
			return 0;
	return 1;
}

/* What the protocol promises for bytes: every invalid byte as U+FFFD. */
static char *
world_repair(const char *str, size_t n, size_t *outlen)
{
	const unsigned char *s = (const unsigned char *)str;
	char *o = xmalloc(n * 3 + 1), *d = o;
	size_t i;
	int k;

	for (i = 0; i < n; i += (size_t)k) {
		if ((k = world_utf8_at(s + i, n - i)) > 0) {
			memcpy(d, s + i, (size_t)k);
			d += k;
		} else {
			memcpy(d, "\xef\xbf\xbd", 3);
			d += 3;
			k = 1;
		}
	}
	*d = '\0';
	*outlen = (size_t)(d - o);
	return o;
}

/*
 * Every line C got: whole (ends in a newline), valid UTF-8, and one JSON
 * object without a repeated key. A reply ("ok") has an id, and when it
 * is a refusal, an error with a code and a message. Returns them, in
 * order, as an array.
 */
static json_t *
world_lines(struct world_client *c)
{
	json_t *all = json_array(), *j, *e, *ok;
	json_error_t err;
	size_t i = 0, end;
	char *nl;

	/*
	 * A client whose first line was an HTTP request line speaks HTTP
	 * (supervisord's interface, http.c): its replies are HTTP responses,
	 * whose reading the http target checks.
	 */
	if (c->len >= 7 && memcmp(c->buf, "HTTP/1.", 7) == 0)
		return all;
	if (c->len > 0 && c->buf[c->len - 1] != '\n')
		world_fail("a line cut short: ...%.*s", (int)(c->len > 200 ?
		    200 : c->len), c->buf + (c->len > 200 ? c->len - 200 : 0));
	while (i < c->len) {
		nl = memchr(c->buf + i, '\n', c->len - i);
		end = (size_t)(nl - c->buf);
		if (world_show)
			fprintf(stderr, "client %d: %.*s\n", c->fd,
			    (int)(end - i), c->buf + i);
		if (!world_utf8_ok(c->buf + i, end - i))
			world_fail("not UTF-8: %.*s", (int)(end - i), c->buf + i);
		j = json_loadb(c->buf + i, end - i, JSON_REJECT_DUPLICATES |
		    JSON_ALLOW_NUL, &err);
		if (j == NULL || !json_is_object(j))
			world_fail("not a JSON object (%s): %.*s", j ? "not an "
			    "object" : err.text, (int)(end - i), c->buf + i);
		ok = json_object_get(j, "ok");
		if (ok != NULL) {
			if (!json_is_boolean(ok) ||
			    json_object_get(j, "id") == NULL)
				world_fail("a reply without id or ok: %.*s",
				    (int)(end - i), c->buf + i);
			e = json_object_get(j, "error");
			if (json_is_false(ok) && (!json_is_object(e) ||
			    !json_is_string(json_object_get(e, "code")) ||
			    json_string_length(json_object_get(e,
			    "message")) == 0))
				world_fail("a refusal without code or message: "
				    "%.*s", (int)(end - i), c->buf + i);
		} else if (json_object_get(j, "event") == NULL &&
		    json_object_get(j, "id") == NULL)
			world_fail("neither a reply, an event nor a stream "
			    "item: %.*s", (int)(end - i), c->buf + i);
		json_array_append_new(all, j);
		i = end + 1;
	}
	return all;
}

/* Is GOT the string S, as status shows it (repaired)? */
static int
world_same(json_t *got, const char *s)
{
	char *want = world_repair(s, strlen(s), &(size_t){ 0 });
	int same = json_is_string(got) &&
	    strcmp(json_string_value(got), want) == 0 &&
	    json_string_length(got) == strlen(want);

	free(want);
	return same;
}

/* Honest requests (N lines) on a fresh connection: their N replies. */
static json_t *
world_ask_all(const char *reqs, size_t n)
{
	struct world_client *c = world_connect();
	json_t *lines;

	world_send(c, reqs, strlen(reqs));
	world_settle();
	lines = world_lines(c);
	if (json_array_size(lines) != n)
		world_fail("%zu replies to %s", json_array_size(lines), reqs);
	world_client_free(c);
	return lines;
}

/* One honest request on a fresh connection: its one reply. */
static json_t *
world_ask(const char *req)
{
	json_t *lines = world_ask_all(req, 1), *r;

	r = json_incref(json_array_get(lines, 0));
	json_decref(lines);
	return r;
}

/* The reply in LINES to the request with the integer id ID. */
static __attribute__((unused)) json_t *
world_reply(json_t *lines, json_int_t id)
{
	json_t *r;
	size_t i;

	json_array_foreach(lines, i, r)
		if (json_integer_value(json_object_get(r, "id")) == id)
			return r;
	world_fail("no reply to request %lld", (long long)id);
}

static struct proc *
world_find(const char *program)
{
	struct proc *p;

	TAILQ_FOREACH(p, &procs, entry)
		if (strcmp(p->pc->program, program) == 0)
			return p;
	world_fail("no program %s", program);
}

/*
 * An honest status must describe the table exactly: every process, in
 * its order, with its name, group, process name, state and pid.
 */
static void
world_check_status(void)
{
	json_t *r = world_ask("{\"id\":\"final\",\"cmd\":\"status\"}\n");
	json_t *ps = json_object_get(r, "processes"), *o, *pid;
	struct proc *p;
	size_t i = 0;

	if (!json_is_true(json_object_get(r, "ok")) ||
	    strcmp(json_string_value(json_object_get(r, "id")) ?
	    json_string_value(json_object_get(r, "id")) : "", "final") != 0 ||
	    json_array_size(ps) != (size_t)program_nprocs)
		world_fail("a wrong status reply");
	TAILQ_FOREACH(p, &procs, entry) {
		o = json_array_get(ps, i++);
		pid = json_object_get(o, "pid");
		if (!world_same(json_object_get(o, "name"), p->display) ||
		    !world_same(json_object_get(o, "group"), p->group) ||
		    !world_same(json_object_get(o, "process"), p->name) ||
		    strcmp(json_string_value(json_object_get(o, "state")),
		    program_state_name(p->state)) != 0 ||
		    (p->pid > 0 ? json_integer_value(pid) != p->pid :
		    !json_is_null(pid)))
			world_fail("status says %s of %s (%s, pid %ld)",
			    json_string_value(json_object_get(o, "state")),
			    json_string_value(json_object_get(o, "name")),
			    program_state_name(p->state), (long)p->pid);
	}
	json_decref(r);
}

/* ------------------------------------------------------------------ */
/* Before and after each input                                          */

/* TEXT with every FROM replaced by TO (allocated). */
static char *
world_replace(const char *text, const char *from, const char *to)
{
	char *out = xstrdup(""), *more;
	const char *t, *s;

	for (t = text; (s = strstr(t, from)) != NULL; t = s + strlen(from)) {
		xasprintf(&more, "%s%.*s%s", out, (int)(s - t), t, to);
		free(out);
		out = more;
	}
	xasprintf(&more, "%s%s", out, t);
	free(out);
	return more;
}

/* The config file says world_text[WHICH] from now on. */
static void
world_write_config(int which)
{
	FILE *f;

	if ((f = fopen(world_file, "we")) == NULL ||
	    fputs(world_text[which], f) == EOF || fclose(f) != 0)
		world_fail("%s: %s", world_file, strerror(errno));
	world_conf_b = which;
}

static struct tend_conf *
world_load(void)
{
	struct diag d = { 0 };
	struct tend_conf *conf;
	int i;

	conf = config_load(world_file, 0, &d);
	for (i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", d.msgs[i].text);
	diag_clear(&d);
	if (conf == NULL)
		world_fail("the world's config does not load");
	return conf;
}

static void
world_cleanup(void)
{
	char *cmd;

	control_close();
	config_free(tendd_conf);
	tendd_conf = NULL;
	free(world_text[0]);
	free(world_text[1]);
	xasprintf(&cmd, "rm -rf '%s'", world_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "world: cannot remove %s\n", world_dir);
	free(cmd);
}

int
LLVMFuzzerInitialize(int *argc, char **argv[])
{
	struct sigaction sa;
	char *cause = NULL, *s;
	int i;

	if (mkdtemp(world_dir) == NULL) {
		perror(world_dir);
		exit(1);
	}
	snprintf(world_file, sizeof(world_file), "%s/tend.conf", world_dir);
	xasprintf(&s, "%s/logs", world_dir);
	if (mkdir(s, 0700) == -1) {
		perror(s);
		exit(1);
	}
	free(s);
	/* The config with its directory in place of each @DIR@. */
	world_text[0] = world_replace(world_config, "@DIR@", world_dir);
	world_text[1] = xstrdup(world_text[0]);
	for (i = 0; i < (int)nitems(world_config_b); i++) {
		if (strstr(world_text[1], world_config_b[i][0]) == NULL)
			world_fail("config B: no %s", world_config_b[i][0]);
		s = world_replace(world_text[1], world_config_b[i][0],
		    world_config_b[i][1]);
		free(world_text[1]);
		world_text[1] = s;
	}
	world_show = getenv("TEND_FUZZ_SHOW") != NULL &&
	    *getenv("TEND_FUZZ_SHOW") != '\0';
	/* Nothing of a supervisor of ours, nothing that varies run to run. */
	clearenv();
	setenv("PATH", "/usr/bin:/bin", 1);
	setenv("HOME", world_dir, 1);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* loglevel = error: an input makes thousands of transitions. */
	log_init(LOG_LEVEL_ERROR, "tendd");
	if ((tendd_base = event_base_new()) == NULL)
		world_fail("event_base_new");
	logfile_init();
	world_write_config(1);
	config_free(world_load());	/* B must load too */
	world_write_config(0);
	tendd_conf = world_load();
	log_set_level(tendd_conf->loglevel);
	if (control_listen(tendd_conf->socket, tendd_conf->socket_mode, NULL,
	    &cause) == -1)
		world_fail("%s", cause);
	memset(&world_sun, 0, sizeof(world_sun));
	world_sun.sun_family = AF_UNIX;
	snprintf(world_sun.sun_path, sizeof(world_sun.sun_path), "%s",
	    tendd_conf->socket);
	atexit(world_cleanup);
	return 0;
}

/*
 * The same table each time: every process spawned as at start, then a
 * person's stops and a pause, so that there is a process in every state
 * but PAUSED's neighbours: RUNNING (web x3, café, quick, logged), STARTING
 * (slow; notify waiting for READY=1; launcher, gone, waiting for the
 * pidfile it never writes), EXITED (job), BACKOFF
 * (crashy), FATAL (nostart: cannot execute; flaky: gave up), NEW (idle),
 * STOPPED (halted), PAUSED (sleeper), STOPPING (stubborn).
 */
static void
world_start(void)
{
	char *cause = NULL;

	program_setup(tendd_conf);
	program_autostart();
	world_settle();
	if (program_stop(world_find("halted"), &cause) == -1 ||
	    program_stop(world_find("stubborn"), &cause) == -1 ||
	    program_pause(world_find("sleeper"), &cause) == -1)
		world_fail("setup: %s", cause);
	world_settle();
}

static void
world_end(void)
{
	struct dirent *de;
	char *path;
	DIR *dir;

	while (world_nclients > 0)
		world_client_free(world_clients[0]);
	control_close_all();
	world_fakes_reset();
	rpc_forget();
	/* spec §12's: run jobs, schedules, hooks, remembered names, scales */
	runjob_close();
	schedule_close();
	program_free_all();
	hooks_close();
	persist_close();
	scale_close();
	world_next_out = NULL;
	/* The file as it was, and the config read from it, if it changed. */
	if (world_conf_b) {
		world_write_config(0);
		config_free(tendd_conf);
		tendd_conf = world_load();
	}
	/* What a shutdown left: tendd.c's and program.c's flags. */
	tendd_stopping = 0;
	tendd_exit_status = 0;
	program_stopping_all = 0;
	program_step_queued = 0;
	/*
	 * Log files start empty, so rotation is the same each time; the
	 * current one is emptied rather than removed (a new inode each
	 * time costs more than the rest of an input).
	 */
	xasprintf(&path, "%s/logs", world_dir);
	if ((dir = opendir(path)) != NULL) {
		while ((de = readdir(dir)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			free(path);
			xasprintf(&path, "%s/logs/%s", world_dir, de->d_name);
			if ((strcmp(de->d_name, "logged.log") == 0 ?
			    truncate(path, 0) : unlink(path)) == -1)
				world_fail("%s: %s", path, strerror(errno));
		}
		closedir(dir);
	}
	free(path);
	if (program_nprocs != 0)
		world_fail("%d processes left", program_nprocs);
}

#endif
