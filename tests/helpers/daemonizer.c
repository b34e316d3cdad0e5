/*
 * daemonizer: a program that forks itself into the background the
 * classic way, for pidfile tests.
 *
 *   daemonizer --pidfile F [--pid-delay S] [--write-pid N]
 *              [--launcher-exit CODE] [--launcher-after S]
 *              [--record F] [--term-exit CODE] [--no-fork | --foreground]
 *
 * The launcher forks; the child calls setsid() and forks the daemon,
 * then exits; the launcher reaps it, waits --launcher-after seconds and
 * exits with --launcher-exit (default 0). The daemon waits until it has
 * been reparented, appends "PID MONOTONIC daemon" to --record, waits
 * --pid-delay seconds and writes its pid (or N with --write-pid) to the
 * pidfile atomically. On SIGTERM it appends "PID MONOTONIC term" and
 * exits with --term-exit (default 0). --no-fork: the launcher never
 * forks and never exits. --foreground: the same, and it writes its own
 * pid to the pidfile after --pid-delay (a program that stays in the
 * foreground and writes a pidfile, such as saslauthd -d).
 */
#include <sys/wait.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *record;
static int term_code;

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
	n = snprintf(buf, sizeof buf, "%ld %.6f %s\n", (long)getpid(), now(),
	    tag);
	fd = open(record, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1 || write(fd, buf, n) != n)
		_exit(100);
	close(fd);
}

static void
on_term(int sig)
{
	(void)sig;
	append_line("term");
	_exit(term_code);
}

static void
write_pidfile(const char *file, long pid)
{
	char tmp[4096], buf[32];
	int fd, n;

	snprintf(tmp, sizeof tmp, "%s.tmp", file);
	n = snprintf(buf, sizeof buf, "%ld\n", pid);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1 || write(fd, buf, n) != n || close(fd) == -1 ||
	    rename(tmp, file) == -1)
		_exit(100);
}

int
main(int argc, char **argv)
{
	const char *pidfile = NULL;
	double pid_delay = 0, launcher_after = 0;
	long write_pid = 0;
	int launcher_exit = 0, no_fork = 0, foreground = 0;
	pid_t mid, parent;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--pidfile") == 0 && i + 1 < argc)
			pidfile = argv[++i];
		else if (strcmp(argv[i], "--pid-delay") == 0 && i + 1 < argc)
			pid_delay = strtod(argv[++i], NULL);
		else if (strcmp(argv[i], "--write-pid") == 0 && i + 1 < argc)
			write_pid = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--launcher-exit") == 0 && i + 1 < argc)
			launcher_exit = atoi(argv[++i]);
		else if (strcmp(argv[i], "--launcher-after") == 0 && i + 1 < argc)
			launcher_after = strtod(argv[++i], NULL);
		else if (strcmp(argv[i], "--record") == 0 && i + 1 < argc)
			record = argv[++i];
		else if (strcmp(argv[i], "--term-exit") == 0 && i + 1 < argc)
			term_code = atoi(argv[++i]);
		else if (strcmp(argv[i], "--no-fork") == 0)
			no_fork = 1;
		else if (strcmp(argv[i], "--foreground") == 0)
			foreground = 1;
		else {
			fprintf(stderr, "daemonizer: bad argument %s\n", argv[i]);
			return 2;
		}
	}
	if (pidfile == NULL) {
		fprintf(stderr, "usage: daemonizer --pidfile FILE ...\n");
		return 2;
	}
	signal(SIGTERM, on_term);
	append_line("launcher");
	if (foreground) {
		sleep_for(pid_delay);
		write_pidfile(pidfile, write_pid ? write_pid : (long)getpid());
	}
	if (no_fork || foreground)
		for (;;)
			pause();
	if ((mid = fork()) == -1)
		return 1;
	if (mid == 0) {
		setsid();
		parent = getpid();
		switch (fork()) {
		case -1:
			_exit(1);
		case 0:
			while (getppid() == parent)
				sleep_for(0.001);
			append_line("daemon");
			sleep_for(pid_delay);
			write_pidfile(pidfile, write_pid ? write_pid :
			    (long)getpid());
			for (;;)
				pause();
		}
		_exit(0);
	}
	waitpid(mid, NULL, 0);
	sleep_for(launcher_after);
	return launcher_exit;
}
