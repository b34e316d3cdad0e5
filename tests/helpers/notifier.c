/*
 * notifier: a service that speaks sd_notify through libsystemd, as an
 * unmodified program would, for ready = notify and watchdog tests.
 *
 *   notifier [--record F] [--env-out F] [--status TEXT] [--ready-after S]
 *            [--never-ready] [--ready-from-child] [--ready-status TEXT]
 *            [--watchdog-for S] [--watchdog-every S] [--mainpid-child]
 *            [--mainpid-linger S]
 *
 * --record F         appends "PID MONOTONIC" to F at start, and
 *                    "PID MONOTONIC ready" just before sending READY=1.
 * --env-out F        writes NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID
 *                    ("env K=V", "-" when unset) and what
 *                    sd_watchdog_enabled() says ("wd N USEC") to F.
 * --status TEXT      sends STATUS=TEXT at start.
 * --ready-after S    waits S seconds, then sends READY=1 (default 0).
 * --ready-status T   sends STATUS=T with READY=1.
 * --never-ready      never sends READY=1.
 * --ready-from-child READY=1 comes from a forked child (same group), which
 *                    exits 1 s later.
 * --watchdog-for S   once ready, sends WATCHDOG=1 for S seconds, then
 *                    stops pinging (hangs; recorded as "PID MONOTONIC
 *                    quiet" after the last ping); default: pings
 *                    forever if the watchdog is enabled.
 * --watchdog-every S the ping interval (default: half of WATCHDOG_USEC).
 * --mainpid-child    once ready, forks a child that carries on as the
 *                    service, sends MAINPID=child, and exits 0; the
 *                    child records "PID MONOTONIC main" and sleeps.
 * --mainpid-linger S the parent exits S seconds after MAINPID= (default 0).
 * Exits on SIGTERM (default action).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

static const char *record;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
sleep_for(double secs)
{
	struct timespec ts;

	if (secs <= 0)
		return;
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1)
		;
}

static void
append_line(const char *tag)
{
	char buf[96];
	int fd, n;

	if (record == NULL)
		return;
	n = snprintf(buf, sizeof buf, "%ld %.6f%s%s\n", (long)getpid(), now(),
	    *tag ? " " : "", tag);
	fd = open(record, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1 || write(fd, buf, n) != n)
		_exit(100);
	close(fd);
}

static void
write_env(const char *file)
{
	static const char *const names[] = {
		"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"
	};
	char tmp[4096];
	uint64_t usec = 0;
	FILE *f;
	int r;

	snprintf(tmp, sizeof tmp, "%s.tmp", file);
	if ((f = fopen(tmp, "we")) == NULL)
		_exit(100);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		const char *v = getenv(names[i]);

		fprintf(f, "env %s=%s\n", names[i], v ? v : "-");
	}
	fprintf(f, "pid %ld\n", (long)getpid());
	r = sd_watchdog_enabled(0, &usec);
	fprintf(f, "wd %d %llu\n", r, (unsigned long long)usec);
	if (fclose(f) == EOF || rename(tmp, file) == -1)
		_exit(100);
}

static void
notify(const char *msg)
{
	/* 0: not under a supervisor; the tests always give a socket */
	if (sd_notify(0, msg) <= 0)
		_exit(101);
}

int
main(int argc, char **argv)
{
	const char *env_out = NULL, *status = NULL, *ready_status = NULL;
	double ready_after = 0, watchdog_for = -1, every = 0, linger = 0;
	int never = 0, from_child = 0, mainpid_child = 0;
	uint64_t usec = 0;
	char msg[512];
	pid_t pid;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--record") == 0 && i + 1 < argc)
			record = argv[++i];
		else if (strcmp(argv[i], "--env-out") == 0 && i + 1 < argc)
			env_out = argv[++i];
		else if (strcmp(argv[i], "--status") == 0 && i + 1 < argc)
			status = argv[++i];
		else if (strcmp(argv[i], "--ready-status") == 0 && i + 1 < argc)
			ready_status = argv[++i];
		else if (strcmp(argv[i], "--ready-after") == 0 && i + 1 < argc)
			ready_after = strtod(argv[++i], NULL);
		else if (strcmp(argv[i], "--never-ready") == 0)
			never = 1;
		else if (strcmp(argv[i], "--ready-from-child") == 0)
			from_child = 1;
		else if (strcmp(argv[i], "--watchdog-for") == 0 && i + 1 < argc)
			watchdog_for = strtod(argv[++i], NULL);
		else if (strcmp(argv[i], "--watchdog-every") == 0 && i + 1 < argc)
			every = strtod(argv[++i], NULL);
		else if (strcmp(argv[i], "--mainpid-child") == 0)
			mainpid_child = 1;
		else if (strcmp(argv[i], "--mainpid-linger") == 0 && i + 1 < argc)
			linger = strtod(argv[++i], NULL);
		else {
			fprintf(stderr, "notifier: bad argument %s\n", argv[i]);
			return 2;
		}
	}
	append_line("");
	if (env_out != NULL)
		write_env(env_out);
	if (status != NULL) {
		snprintf(msg, sizeof msg, "STATUS=%s", status);
		notify(msg);
	}
	if (never)
		for (;;)
			pause();
	sleep_for(ready_after);
	if (ready_status != NULL)
		snprintf(msg, sizeof msg, "READY=1\nSTATUS=%s", ready_status);
	else
		snprintf(msg, sizeof msg, "READY=1");
	/* recorded first: whoever sees RUNNING finds the record there */
	append_line("ready");
	if (from_child) {
		/*
		 * The child stays a while after sending: a sender that is gone
		 * before tendd reads its message cannot be told apart from a
		 * stranger (systemd has the same limit).
		 */
		signal(SIGCHLD, SIG_IGN);
		if ((pid = fork()) == 0) {
			notify(msg);
			sleep_for(1);
			_exit(0);
		}
	} else
		notify(msg);

	if (mainpid_child) {
		if ((pid = fork()) == 0) {
			/* wait until the parent is gone: then tendd adopts us */
			/* the parent leads the group (setsid by tendd) */
			while (getppid() == getpgrp())
				sleep_for(0.005);
			append_line("main");
			for (;;)
				pause();
		}
		snprintf(msg, sizeof msg, "MAINPID=%ld", (long)pid);
		notify(msg);
		sleep_for(linger);
		_exit(0);
	}

	if (sd_watchdog_enabled(0, &usec) > 0 || every > 0) {
		double start = now();

		if (every <= 0)
			every = usec / 2e6;
		while (watchdog_for < 0 || now() - start < watchdog_for) {
			notify("WATCHDOG=1");
			sleep_for(every);
		}
		append_line("quiet");
	}
	for (;;)
		pause();
}
