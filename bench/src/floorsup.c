/*
 * floorsup.c: the benchmark's "floor" column: the least a supervisor can
 * do on this machine, measured by exactly the same harness as the peers.
 * It is not a product (no config reload, rotation, users, readiness,
 * backoff): one process, one epoll loop, posix_spawn, a pidfd per child,
 * respawn as soon as a pidfd is readable, a Unix socket for
 * status/stop/start, and a plain pipe -> read -> write(file) loop for
 * output.
 *
 *   floorsup -s SOCKET -c CONF      supervise; CONF lines: NAME LOG|- ARGV...
 *   floorsup -C SOCKET CMD          client: CMD is status, stop or start
 *
 * SIGTERM/SIGINT: SIGTERM every child, exit once all are reaped.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define FLOOR_MAXARGS	16
#define FLOOR_BUF	(64 * 1024)

/* epoll data: kind in the top bits, program index below. */
#define TAG_PIDFD	(1ULL << 40)
#define TAG_LOG		(2ULL << 40)
#define TAG_LISTEN	(3ULL << 40)
#define TAG_SIGNAL	(4ULL << 40)
#define TAG_MASK	(0xffULL << 40)

extern char **environ;

struct floor_prog {
	char	*name;
	char	*argv[FLOOR_MAXARGS + 1];
	int	 logfd;		/* file, or -1 */
	int	 pipe_r, pipe_w;	/* output pipe when logged */
	pid_t	 pid;		/* 0 when down */
	int	 pidfd;
	int	 want_up;
};

static struct floor_prog *progs;
static int nprogs, running, shutting, ep;

static void
floor_die(const char *what)
{
	perror(what);
	exit(1);
}

static void
floor_add(int fd, unsigned long long data)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = data };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		floor_die("epoll_ctl");
}

static void
floor_spawn(int i)
{
	struct floor_prog *p = &progs[i];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	int err;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (p->pipe_w != -1) {
		posix_spawn_file_actions_adddup2(&fa, p->pipe_w, 1);
		posix_spawn_file_actions_adddup2(&fa, p->pipe_w, 2);
	} else {
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null",
		    O_WRONLY, 0);
		posix_spawn_file_actions_adddup2(&fa, 1, 2);
	}
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGPIPE);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	err = posix_spawn(&p->pid, p->argv[0], &fa, &attr, p->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (err != 0) {
		fprintf(stderr, "floorsup: %s: %s\n", p->name, strerror(err));
		p->pid = 0;
		return;
	}
	/* Not reaped yet, so the pid cannot have been reused. */
	p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	if (p->pidfd == -1)
		floor_die("pidfd_open");
	fcntl(p->pidfd, F_SETFD, FD_CLOEXEC);
	floor_add(p->pidfd, TAG_PIDFD | (unsigned)i);
	running++;
}

static void
floor_reaped(int i)
{
	struct floor_prog *p = &progs[i];
	siginfo_t si;

	waitid(P_PIDFD, (id_t)p->pidfd, &si, WEXITED);
	epoll_ctl(ep, EPOLL_CTL_DEL, p->pidfd, NULL);
	close(p->pidfd);
	p->pid = 0;
	running--;
	if (p->want_up && !shutting)
		floor_spawn(i);
}

static void
floor_log(int i)
{
	static char buf[FLOOR_BUF];
	struct floor_prog *p = &progs[i];
	ssize_t n, w, off;

	n = read(p->pipe_r, buf, sizeof buf);
	for (off = 0; off < n; off += w) {
		w = write(p->logfd, buf + off, n - off);
		if (w <= 0)
			floor_die("write log");
	}
}

static void
floor_stop_all(void)
{
	int i;

	for (i = 0; i < nprogs; i++) {
		progs[i].want_up = 0;
		if (progs[i].pid > 0)
			kill(progs[i].pid, SIGTERM);
	}
}

/* One request per connection: read the word, answer, close. */
static void
floor_serve(int lfd)
{
	char req[64], *out, *p;
	size_t len = 0, cap;
	ssize_t n;
	int c, i;

	c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (c == -1)
		return;
	while (len < sizeof req - 1 &&
	    (n = read(c, req + len, sizeof req - 1 - len)) > 0) {
		len += n;
		if (memchr(req, '\n', len) != NULL)
			break;
	}
	req[len] = '\0';
	cap = (size_t)nprogs * 64 + 64;
	out = p = malloc(cap);
	if (out == NULL)
		floor_die("malloc");
	if (strncmp(req, "status", 6) == 0) {
		for (i = 0; i < nprogs; i++)
			p += snprintf(p, cap - (p - out), "%s %s %d\n",
			    progs[i].name, progs[i].pid > 0 ? "up" : "down",
			    (int)progs[i].pid);
	} else if (strncmp(req, "stop", 4) == 0) {
		floor_stop_all();
		p += snprintf(p, cap, "ok\n");
	} else if (strncmp(req, "start", 5) == 0) {
		for (i = 0; i < nprogs; i++) {
			progs[i].want_up = 1;
			if (progs[i].pid == 0)
				floor_spawn(i);
		}
		p += snprintf(p, cap, "ok\n");
	} else {
		p += snprintf(p, cap, "error\n");
	}
	for (char *q = out; q < p; q += n)
		if ((n = write(c, q, p - q)) <= 0)
			break;
	free(out);
	close(c);
}

static void
floor_read_conf(const char *path)
{
	char line[4096], *save, *tok;
	int cap = 0, k, fds[2];
	FILE *f;

	if ((f = fopen(path, "re")) == NULL)
		floor_die(path);
	while (fgets(line, sizeof line, f) != NULL) {
		struct floor_prog *p;

		if ((tok = strtok_r(line, " \t\n", &save)) == NULL)
			continue;
		if (nprogs == cap) {
			cap = cap ? cap * 2 : 64;
			progs = realloc(progs, cap * sizeof *progs);
			if (progs == NULL)
				floor_die("realloc");
		}
		p = &progs[nprogs++];
		memset(p, 0, sizeof *p);
		p->name = strdup(tok);
		p->logfd = p->pipe_r = p->pipe_w = -1;
		p->want_up = 1;
		tok = strtok_r(NULL, " \t\n", &save);
		if (tok != NULL && strcmp(tok, "-") != 0) {
			p->logfd = open(tok, O_WRONLY | O_CREAT | O_APPEND |
			    O_CLOEXEC, 0644);
			if (p->logfd == -1 || pipe2(fds, O_CLOEXEC) == -1)
				floor_die(tok);
			p->pipe_r = fds[0];
			p->pipe_w = fds[1];
		}
		for (k = 0; k < FLOOR_MAXARGS &&
		    (tok = strtok_r(NULL, " \t\n", &save)) != NULL; k++)
			p->argv[k] = strdup(tok);
		if (k == 0) {
			fprintf(stderr, "floorsup: %s: no command\n", p->name);
			exit(1);
		}
	}
	fclose(f);
}

static int
floor_client(const char *sock, const char *cmd)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[FLOOR_BUF];
	ssize_t n;
	int fd;

	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1)
		floor_die(sock);
	if (dprintf(fd, "%s\n", cmd) < 0)
		floor_die("send");
	while ((n = read(fd, buf, sizeof buf)) > 0)
		if (write(1, buf, n) != n)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct epoll_event evs[64];
	const char *sock = NULL, *conf = NULL;
	int lfd, sfd, n, i, opt;
	sigset_t set;

	while ((opt = getopt(argc, argv, "s:c:C:")) != -1) {
		if (opt == 's')
			sock = optarg;
		else if (opt == 'c')
			conf = optarg;
		else if (opt == 'C')
			return floor_client(optarg, optind < argc ?
			    argv[optind] : "status");
		else
			return 2;
	}
	if (sock == NULL || conf == NULL) {
		fprintf(stderr, "usage: floorsup -s SOCKET -c CONF | "
		    "floorsup -C SOCKET CMD\n");
		return 2;
	}
	floor_read_conf(conf);

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		floor_die("epoll_create1");
	if ((sfd = signalfd(-1, &set, SFD_CLOEXEC)) == -1)
		floor_die("signalfd");
	floor_add(sfd, TAG_SIGNAL);

	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sock);
	unlink(sock);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd == -1 || bind(lfd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(lfd, 64) == -1)
		floor_die(sock);
	floor_add(lfd, TAG_LISTEN);

	for (i = 0; i < nprogs; i++) {
		if (progs[i].pipe_r != -1)
			floor_add(progs[i].pipe_r, TAG_LOG | (unsigned)i);
		floor_spawn(i);
	}
	while (!shutting || running > 0) {
		n = epoll_wait(ep, evs, 64, -1);
		for (i = 0; i < n; i++) {
			unsigned long long d = evs[i].data.u64;
			int idx = (int)(d & ~TAG_MASK);

			switch (d & TAG_MASK) {
			case TAG_PIDFD:
				floor_reaped(idx);
				break;
			case TAG_LOG:
				floor_log(idx);
				break;
			case TAG_LISTEN:
				floor_serve(lfd);
				break;
			case TAG_SIGNAL: {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof si) > 0) {
					shutting = 1;
					floor_stop_all();
				}
				break;
			}
			}
		}
	}
	unlink(sock);
	return 0;
}
