/*
 * notify.c: tendd plays systemd for its `ready = notify` programs. One
 * datagram socket with SO_PASSCRED (a file beside the control socket, or
 * an abstract name when that path is too long) receives what they send
 * with sd_notify(); the kernel-checked sender pid says which process a
 * message is from. Only a process's main pid or a member of its process
 * group is heard, and only for programs with ready = notify. What the
 * messages mean is decided by the state machine (state.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "tendd.h"
#include "utf8.h"

/* systemd reads one page a datagram; longer messages are not sd_notify's. */
#define NOTIFY_MAX_MSG	4096
/* A STATUS= text longer than this is cut: it is one status line. */
#define NOTIFY_MAX_STATUS 200
/* Datagrams read in one callback; the loop comes back for the rest. */
#define NOTIFY_BATCH	64

static int		 notify_fd = -1;
static struct event	*notify_ev;
static char		*notify_addr;	/* NOTIFY_SOCKET's value */
static char		*notify_path;	/* the file to unlink, if not abstract */

const char *
notify_address(void)
{
	return notify_addr;
}

/* Which supervised process a sender is: its main pid, or in its group. */
static struct proc *
notify_sender(pid_t pid)
{
	struct proc *p;
	pid_t pgid;

	if ((p = program_find_pid(pid)) != NULL)
		return p;
	/* Every child leads its own group (setsid): pgid names the proc. */
	if ((pgid = getpgid(pid)) > 0 && (p = program_find_pid(pgid)) != NULL &&
	    p->pid == pgid)
		return p;
	return NULL;
}

/*
 * A child's text (STATUS=, a line quoted in the log) made fit for one
 * line: valid UTF-8, no control characters, at most LEN - 1 bytes, cut
 * between characters.
 */
static void
notify_clean(char *dst, const char *src, size_t len)
{
	utf8_clean(dst, len, src, strlen(src), UTF8_NOCTRL);
}

static int
notify_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* One datagram: newline-separated KEY=VALUE assignments, in order. */
static void
notify_handle(struct proc *p, char *msg)
{
	char *line, *next, status[NOTIFY_MAX_STATUS + 1], *cause = NULL;
	char quote[81];
	uint64_t v;

	for (line = msg; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strcmp(line, "READY=1") == 0)
			program_notify_ready(p);
		else if (strncmp(line, "STATUS=", 7) == 0) {
			notify_clean(status, line + 7, sizeof(status));
			program_notify_status(p, status);
		} else if (strcmp(line, "WATCHDOG=1") == 0)
			program_notify_watchdog(p);
		else if (strcmp(line, "WATCHDOG=trigger") == 0)
			program_notify_watchdog_trigger(p);
		else if (strncmp(line, "WATCHDOG_USEC=", 14) == 0) {
			if (notify_parse_u64(line + 14, &v) == 0)
				program_notify_watchdog_usec(p, v);
			else {
				notify_clean(quote, line, sizeof(quote));
				log_debug("%s: bad %s", p->display, quote);
			}
		} else if (strncmp(line, "MAINPID=", 8) == 0) {
			if (notify_parse_u64(line + 8, &v) == -1 || v < 2 ||
			    v > INT_MAX) {
				notify_clean(quote, line, 41);
				log_warn("%s: ignoring %s: not a pid",
				    p->display, quote);
			} else if (program_notify_mainpid(p, (pid_t)v,
			    &cause) == -1) {
				log_warn("%s: ignoring MAINPID=%" PRIu64 ": %s",
				    p->display, v, cause);
				free(cause);
				cause = NULL;
			}
		} else {
			/* STOPPING=1, RELOADING=1, ERRNO=, FDSTORE=1 ... */
			notify_clean(quote, line, sizeof(quote));
			log_debug("%s: notify: %s", p->display, quote);
		}
	}
}

/* Any descriptors a sender passed (FDSTORE=1) are not kept. */
static void
notify_close_fds(struct msghdr *mh)
{
	struct cmsghdr *cm;
	size_t i, n;
	int *fds;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		fds = (int *)(void *)CMSG_DATA(cm);
		for (i = 0; i < n; i++)
			close(fds[i]);
	}
}

static void
notify_read_cb(int fd, short ev, void *arg)
{
	char buf[NOTIFY_MAX_MSG + 1];
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(struct ucred)) +
				    CMSG_SPACE(sizeof(int) * 16)];
	} ctl;
	struct iovec iov;
	struct msghdr mh;
	struct cmsghdr *cm;
	struct ucred *cred;
	struct proc *p;
	ssize_t n;
	int i;

	for (i = 0; i < NOTIFY_BATCH; i++) {
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = buf;
		iov.iov_len = sizeof(buf) - 1;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_TRUNC |
		    MSG_CMSG_CLOEXEC);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("notify socket: %s", strerror(errno));
			return;
		}
		notify_close_fds(&mh);
		cred = NULL;
		for (cm = CMSG_FIRSTHDR(&mh); cm != NULL;
		    cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SCM_CREDENTIALS &&
			    cm->cmsg_len == CMSG_LEN(sizeof(struct ucred)))
				cred = (struct ucred *)(void *)CMSG_DATA(cm);
		if (cred == NULL || cred->pid <= 0) {
			log_debug("notify: a message without credentials");
			continue;
		}
		if ((size_t)n > NOTIFY_MAX_MSG || (mh.msg_flags & MSG_TRUNC)) {
			log_warn("notify: dropped a %zd-byte message from pid "
			    "%ld (at most %d)", n, (long)cred->pid,
			    NOTIFY_MAX_MSG);
			continue;
		}
		buf[n] = '\0';
		if (memchr(buf, '\0', (size_t)n) != NULL) {
			log_debug("notify: a message with a NUL from pid %ld",
			    (long)cred->pid);
			continue;
		}
		p = notify_sender(cred->pid);
		if (p == NULL || p->pc->ready != READY_NOTIFY) {
			log_debug("notify: ignored a message from pid %ld: "
			    "%s", (long)cred->pid, p == NULL ?
			    "not a supervised process" :
			    "its program is not ready = notify");
			continue;
		}
		notify_handle(p, buf);
	}
}

/* "<control socket>.notify" when it fits in sun_path. */
static char *
notify_choose_path(const char *control_path)
{
	struct sockaddr_un sun;
	char *path;

	if (control_path == NULL)
		return NULL;
	xasprintf(&path, "%s.notify", control_path);
	if (strlen(path) >= sizeof(sun.sun_path)) {
		free(path);
		return NULL;
	}
	return path;
}

/* Binds FD to PATH, or to a fresh abstract name when PATH is NULL. */
static int
notify_bind(int fd, const char *path, char **cause)
{
	struct sockaddr_un sun;
	socklen_t len;
	unsigned char rnd[8];
	char name[64];
	mode_t old;
	int r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path != NULL) {
		/*
		 * Only this tendd uses the name (it holds the control
		 * socket's lock, or systemd started it once): whatever is
		 * there is left from one that died.
		 */
		if (unlink(path) == -1 && errno != ENOENT) {
			xasprintf(cause, "cannot remove %s: %s", path,
			    strerror(errno));
			return -1;
		}
		memcpy(sun.sun_path, path, strlen(path));
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    strlen(path) + 1);
	} else {
		/* Abstract: no file, no length limit to fear; unguessable. */
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			xasprintf(cause, "getrandom: %s", strerror(errno));
			return -1;
		}
		snprintf(name, sizeof(name), "tend/notify/%ld/%02x%02x%02x%02x"
		    "%02x%02x%02x%02x", (long)getpid(), rnd[0], rnd[1], rnd[2],
		    rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
		memcpy(sun.sun_path + 1, name, strlen(name));
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
		    strlen(name));
	}
	/* Programs that run as another user must be able to send. */
	old = umask(0111);
	r = bind(fd, (struct sockaddr *)&sun, len);
	umask(old);
	if (r == -1) {
		xasprintf(cause, "cannot bind %s%s: %s", path ? "" : "@",
		    path ? path : name, strerror(errno));
		return -1;
	}
	if (path != NULL) {
		notify_path = xstrdup(path);
		notify_addr = xstrdup(path);
	} else
		xasprintf(&notify_addr, "@%s", name);
	return 0;
}

int
notify_open(const char *control_path, char **cause)
{
	char *path, *why = NULL;
	int fd, one = 1;

	if (notify_fd != -1)
		return 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		xasprintf(cause, "cannot create the notify socket: %s",
		    strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == -1) {
		xasprintf(cause, "notify socket: SO_PASSCRED: %s",
		    strerror(errno));
		close(fd);
		return -1;
	}
	/* A file beside the control socket; else (too long, no dir) abstract. */
	path = notify_choose_path(control_path);
	if (path == NULL || notify_bind(fd, path, &why) == -1) {
		if (why != NULL) {
			log_debug("notify socket: %s; using an abstract name",
			    why);
			free(why);
			why = NULL;
		}
		if (notify_bind(fd, NULL, &why) == -1) {
			xasprintf(cause, "notify socket: %s", why);
			free(why);
			free(path);
			close(fd);
			return -1;
		}
	}
	free(path);
	notify_ev = event_new(tendd_base, fd, EV_READ | EV_PERSIST,
	    notify_read_cb, NULL);
	if (notify_ev == NULL || event_add(notify_ev, NULL) == -1)
		fatal("cannot watch the notify socket");
	notify_fd = fd;
	log_info("notify socket for ready = notify programs: %s", notify_addr);
	return 0;
}

void
notify_close(void)
{
	if (notify_ev != NULL) {
		event_free(notify_ev);
		notify_ev = NULL;
	}
	if (notify_fd != -1) {
		close(notify_fd);
		notify_fd = -1;
	}
	if (notify_path != NULL) {
		unlink(notify_path);
		free(notify_path);
		notify_path = NULL;
	}
	free(notify_addr);
	notify_addr = NULL;
}
