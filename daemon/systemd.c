/*
 * systemd.c: tendd as a systemd service (Type=notify). It owns what
 * tendd tells its own supervisor with sd_notify: READY=1 once the initial
 * autostart programs have settled, STATUS= counts (coalesced on a short
 * timer, so a storm of transitions costs a few datagrams), RELOADING=1 and
 * READY=1 around reloads, STOPPING=1, and WATCHDOG=1 from an event-loop
 * timer at half WATCHDOG_USEC (a wedged loop stops pinging, which is the
 * point). It also takes the control socket of socket activation and
 * decides whether tendd's own log goes to the journal.
 *
 * "Settled": every process that autostart spawned has left STARTING
 * (RUNNING, BACKOFF, FATAL, EXITED ...); in practice, no process is
 * STARTING once autostart is done. Nothing here runs when NOTIFY_SOCKET
 * is not set.
 *
 * libsystemd itself is loaded (dlopen) the first time something needs
 * it: NOTIFY_SOCKET, LISTEN_FDS or WATCHDOG_USEC in tendd's environment,
 * or a log that goes to the journal. With its own dependencies it is
 * about half of tendd's memory (PSS), which a container or a hand-run
 * tendd, talking to no systemd, should not pay.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>
#define SD_JOURNAL_SUPPRESS_LOCATION	/* the plain function, not a macro */
#include <systemd/sd-journal.h>

#include "tendd.h"

/* STATUS= goes out at most this often, whatever the storm. */
#define SYSTEMD_STATUS_DELAY_USEC	100000

static int		 systemd_notify_on;	/* NOTIFY_SOCKET is set */
static int		 systemd_listen = -1;	/* LISTEN_FDS' socket */
static uint64_t		 systemd_watchdog_usec;
static struct event	*systemd_watchdog_ev;
static struct event	*systemd_status_ev;
static int		 systemd_autostarted;	/* initial spawns done */
static int		 systemd_ready;		/* READY=1 was sent */
static int		 systemd_reloading_now;
static int		 systemd_stopping_now;
static char		 systemd_last_status[256];

static struct systemd_lib systemd_lib_fns;
static int		 systemd_lib_state;	/* 0 not tried, 1 ok, -1 failed */
static char		*systemd_lib_err;

#define SYSTEMD_LIB_NAME	"libsystemd.so.0"

/* The pointers have the types libsystemd's headers declare. */
#define SYSTEMD_SAME(fn, field) _Static_assert(__builtin_types_compatible_p( \
	__typeof__(&fn), __typeof__(((struct systemd_lib *)0)->field)), #fn)
SYSTEMD_SAME(sd_notify, notify);
SYSTEMD_SAME(sd_listen_fds, listen_fds);
SYSTEMD_SAME(sd_is_socket_unix, is_socket_unix);
SYSTEMD_SAME(sd_watchdog_enabled, watchdog_enabled);
SYSTEMD_SAME(sd_journal_send, journal_send);
SYSTEMD_SAME(sd_journal_sendv, journal_sendv);

/* The functions tendd uses; NULL with the reason if it cannot be loaded. */
const struct systemd_lib *
systemd_lib(char **cause)
{
	static const struct {
		const char	*name;
		size_t		 off;
	} syms[] = {
		{ "sd_notify", offsetof(struct systemd_lib, notify) },
		{ "sd_listen_fds", offsetof(struct systemd_lib, listen_fds) },
		{ "sd_is_socket_unix",
		  offsetof(struct systemd_lib, is_socket_unix) },
		{ "sd_watchdog_enabled",
		  offsetof(struct systemd_lib, watchdog_enabled) },
		{ "sd_journal_send", offsetof(struct systemd_lib, journal_send) },
		{ "sd_journal_sendv",
		  offsetof(struct systemd_lib, journal_sendv) },
	};
	void *h, *fn;
	size_t i;

	if (systemd_lib_state == 0) {
		systemd_lib_state = -1;
		if ((h = dlopen(SYSTEMD_LIB_NAME, RTLD_NOW | RTLD_LOCAL)) ==
		    NULL) {
			xasprintf(&systemd_lib_err, "cannot load %s: %s",
			    SYSTEMD_LIB_NAME, dlerror());
			goto out;
		}
		for (i = 0; i < nitems(syms); i++) {
			if ((fn = dlsym(h, syms[i].name)) == NULL) {
				xasprintf(&systemd_lib_err, "%s has no %s",
				    SYSTEMD_LIB_NAME, syms[i].name);
				goto out;
			}
			memcpy((char *)&systemd_lib_fns + syms[i].off, &fn,
			    sizeof(fn));
		}
		systemd_lib_state = 1;	/* never unloaded: tendd uses it */
	}
out:
	if (systemd_lib_state == 1)
		return &systemd_lib_fns;
	if (cause != NULL)
		*cause = xstrdup(systemd_lib_err);
	return NULL;
}

static void	 systemd_send(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

static void
systemd_send(const char *fmt, ...)
{
	static int warned;
	const struct systemd_lib *sd;
	va_list ap;
	char *msg, *why;
	int r;

	if (!systemd_notify_on)
		return;
	if ((sd = systemd_lib(&why)) == NULL) {
		if (!warned)
			log_warn("cannot notify systemd (NOTIFY_SOCKET): %s",
			    why);
		warned = 1;
		free(why);
		return;
	}
	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	/* unset_environment = 0: later messages need NOTIFY_SOCKET too. */
	r = sd->notify(0, msg);
	if (r < 0 && !warned) {
		log_warn("cannot notify systemd (NOTIFY_SOCKET): %s",
		    strerror(-r));
		warned = 1;
	} else if (r > 0)
		log_debug("sd_notify: %s", msg);
	free(msg);
}

int
systemd_init(char **cause)
{
	const char *ns = getenv("NOTIFY_SOCKET");
	const struct systemd_lib *sd = NULL;
	uint64_t usec = 0;
	char *why;
	int n = 0, r;

	systemd_notify_on = ns != NULL && *ns != '\0';
	systemd_listen = -1;
	systemd_watchdog_usec = 0;
	/*
	 * LISTEN_PID must be our pid, so this comes before any fork.
	 * unset_environment = 0: children never see these anyway (spawn.c
	 * leaves them out).
	 */
	if (getenv("LISTEN_FDS") != NULL || getenv("LISTEN_PID") != NULL) {
		if ((sd = systemd_lib(&why)) == NULL) {
			xasprintf(cause, "socket activation: %s", why);
			free(why);
			return -1;
		}
		n = sd->listen_fds(0);
	}
	if (n < 0) {
		xasprintf(cause, "socket activation: %s", strerror(-n));
		return -1;
	}
	if (n > 1) {
		xasprintf(cause, "socket activation passed %d sockets; tendd "
		    "takes one, its control socket (one ListenStream= in "
		    "tend.socket)", n);
		return -1;
	}
	if (n == 1) {
		r = sd->is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1,
		    NULL, 0);
		if (r <= 0) {
			xasprintf(cause, "socket activation: descriptor %d is "
			    "not a listening Unix stream socket",
			    SD_LISTEN_FDS_START);
			return -1;
		}
		systemd_listen = SD_LISTEN_FDS_START;
	}
	/* > 0 only when WATCHDOG_PID, if set, is us. */
	if (getenv("WATCHDOG_USEC") != NULL) {
		if ((sd = systemd_lib(&why)) == NULL) {
			log_warn("WATCHDOG_USEC is set, but %s: no watchdog "
			    "pings", why);
			free(why);
		} else if (sd->watchdog_enabled(0, &usec) > 0 && usec > 0)
			systemd_watchdog_usec = usec;
	}
	return 0;
}

int
systemd_listen_fd(void)
{
	return systemd_listen;
}

/*
 * logfile = journal, or auto under systemd: systemd gives every service
 * an INVOCATION_ID, and JOURNAL_STREAM when its output is the journal.
 */
int
systemd_wants_journal(const char *logfile)
{
	if (logfile == NULL)
		return 0;
	if (strcmp(logfile, "journal") == 0)
		return 1;
	if (strcmp(logfile, "auto") != 0)
		return 0;
	return getenv("INVOCATION_ID") != NULL ||
	    getenv("JOURNAL_STREAM") != NULL;
}

void
systemd_status_text(char *buf, size_t len, const int counts[PROC_NSTATES])
{
	snprintf(buf, len, "%s%d running, %d starting, %d backoff, %d fatal",
	    systemd_stopping_now ? "shutting down: " :
	    systemd_reloading_now ? "reloading: " : "",
	    counts[PROC_RUNNING], counts[PROC_STARTING], counts[PROC_BACKOFF],
	    counts[PROC_FATAL]);
}

int
systemd_is_ready(void)
{
	return systemd_ready;
}

/* The batch of transitions is over: one message for all of them. */
static void
systemd_status_cb(int fd, short ev, void *arg)
{
	int counts[PROC_NSTATES];
	char text[sizeof(systemd_last_status)];

	program_count(counts);
	systemd_status_text(text, sizeof(text), counts);
	if (!systemd_ready && systemd_autostarted && !systemd_stopping_now &&
	    !systemd_reloading_now && counts[PROC_STARTING] == 0) {
		systemd_ready = 1;
		log_info("initial programs settled (%s); telling systemd we "
		    "are ready", text);
		systemd_send("READY=1\nSTATUS=%s", text);
	} else if (strcmp(text, systemd_last_status) != 0)
		systemd_send("STATUS=%s", text);
	else
		return;
	memcpy(systemd_last_status, text, sizeof(text));
}

static void
systemd_schedule_status(void)
{
	struct timeval tv = { 0, SYSTEMD_STATUS_DELAY_USEC };

	if (systemd_status_ev != NULL &&
	    !evtimer_pending(systemd_status_ev, NULL))
		evtimer_add(systemd_status_ev, &tv);
}

static void
systemd_watchdog_cb(int fd, short ev, void *arg)
{
	systemd_send("WATCHDOG=1");
}

void
systemd_start(void)
{
	struct timeval tv;
	uint64_t half;

	if (!systemd_notify_on)
		return;
	systemd_status_ev = evtimer_new(tendd_base, systemd_status_cb, NULL);
	if (systemd_status_ev == NULL)
		fatal("cannot create a timer");
	if (systemd_watchdog_usec > 0) {
		half = systemd_watchdog_usec / 2;
		tv = util_timeval((double)half / 1e6);
		systemd_watchdog_ev = event_new(tendd_base, -1, EV_PERSIST,
		    systemd_watchdog_cb, NULL);
		if (systemd_watchdog_ev == NULL ||
		    event_add(systemd_watchdog_ev, &tv) == -1)
			fatal("cannot create the watchdog timer");
		log_info("systemd watchdog: %.3fs; pinging every %.3fs",
		    (double)systemd_watchdog_usec / 1e6, (double)half / 1e6);
	}
	systemd_send("STATUS=starting programs");
}

void
systemd_autostart_done(void)
{
	systemd_autostarted = 1;
	systemd_schedule_status();
}

void
systemd_state_changed(struct proc *p, enum proc_state old)
{
	systemd_schedule_status();
}

void
systemd_reloading(void)
{
	struct timespec ts;

	systemd_reloading_now = 1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* MONOTONIC_USEC: Type=notify-reload (systemd 253+) requires it. */
	systemd_send("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading the "
	    "configuration", (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
}

void
systemd_reloaded(void)
{
	int counts[PROC_NSTATES];
	char text[sizeof(systemd_last_status)];

	systemd_reloading_now = 0;
	if (!systemd_ready) {
		/* the first READY=1 still waits for the initial programs */
		systemd_schedule_status();
		return;
	}
	program_count(counts);
	systemd_status_text(text, sizeof(text), counts);
	systemd_send("READY=1\nSTATUS=%s", text);
	memcpy(systemd_last_status, text, sizeof(text));
}

void
systemd_stopping(void)
{
	if (systemd_stopping_now)
		return;
	systemd_stopping_now = 1;
	/* The watchdog keeps pinging while the children stop. */
	systemd_send("STOPPING=1\nSTATUS=shutting down");
	snprintf(systemd_last_status, sizeof(systemd_last_status),
	    "shutting down");
}

void
systemd_close(void)
{
	if (systemd_status_ev != NULL) {
		event_free(systemd_status_ev);
		systemd_status_ev = NULL;
	}
	if (systemd_watchdog_ev != NULL) {
		event_free(systemd_watchdog_ev);
		systemd_watchdog_ev = NULL;
	}
	systemd_autostarted = systemd_ready = 0;
	systemd_reloading_now = systemd_stopping_now = 0;
	systemd_last_status[0] = '\0';
}
