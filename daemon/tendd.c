/*
 * tendd.c: the daemon as a whole. Options, --check, the config, the one
 * event loop with its signals, start-up in priority order, and a shutdown
 * that exits only once every child has been reaped.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "tendd.h"

struct event_base *tendd_base;
struct tend_conf *tendd_conf;
int		 tendd_exit_status;

static int	 tendd_stopping;
static char	*tendd_pidfile;

static void
tendd_usage(FILE *f)
{
	fprintf(f,
	    "usage: tendd [-c FILE] [--check] [--strict] [-l LEVEL] [-s SOCKET]\n"
	    "             [--daemonize] [--version]\n"
	    "  -c, --config FILE   config file (default " TEND_DEFAULT_CONFIG ")\n"
	    "      --check         validate the config, print every problem, start nothing\n"
	    "      --strict        unknown sections and keys are errors, not warnings\n"
	    "  -l, --loglevel LVL  error, warn, info or debug (overrides the config)\n"
	    "  -s, --socket PATH   control socket (overrides the config)\n"
	    "      --daemonize     fork into the background once ready\n"
	    "      --version       print the version\n");
}

int
tendd_shutting_down(void)
{
	return tendd_stopping;
}

void
tendd_shutdown(int status, const char *why)
{
	if (status > tendd_exit_status)
		tendd_exit_status = status;
	if (tendd_stopping)
		return;
	tendd_stopping = 1;
	log_info("shutting down: %s", why);
	program_shutdown();
}

void
tendd_all_stopped(void)
{
	command_shutdown_done();
	event_base_loopexit(tendd_base, NULL);
}

static void
tendd_signal_cb(int sig, short ev, void *arg)
{
	char why[64];

	switch (sig) {
	case SIGCHLD:
		reap_children();
		break;
	case SIGTERM:
	case SIGINT:
	case SIGQUIT:
		snprintf(why, sizeof(why), "SIG%s received",
		    util_signal_name(sig));
		tendd_shutdown(0, why);
		break;
	case SIGHUP:
		log_warn("SIGHUP received: this version of tendd cannot reload "
		    "its config yet; restart it to apply changes");
		break;
	case SIGUSR1:
		tendd_reopen_logs("SIGUSR1 received", NULL);
		break;
	}
}

static enum loglevel
tendd_parse_level(const char *s)
{
	if (strcmp(s, "error") == 0)
		return LOG_LEVEL_ERROR;
	if (strcmp(s, "warn") == 0 || strcmp(s, "warning") == 0)
		return LOG_LEVEL_WARN;
	if (strcmp(s, "info") == 0)
		return LOG_LEVEL_INFO;
	if (strcmp(s, "debug") == 0)
		return LOG_LEVEL_DEBUG;
	fprintf(stderr, "tendd: unknown log level %s (error, warn, info, "
	    "debug)\n", s);
	exit(1);
}

/* Written whole or not at all: a reader never sees half a pid. */
static int
tendd_write_pidfile(const char *path)
{
	char *tmp, buf[32];
	int fd, n;

	xasprintf(&tmp, "%s.new", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0644);
	if (fd == -1) {
		log_error("cannot write pidfile %s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n || close(fd) == -1 ||
	    rename(tmp, path) == -1) {
		log_error("cannot write pidfile %s: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

static void
tendd_print_diag(const struct diag *d)
{
	int i;

	for (i = 0; i < d->n; i++)
		fprintf(stderr, "%s\n", d->msgs[i].text);
}

/* Fork away; the parent exits 0 once the child reports it is serving. */
static int
tendd_daemonize(void)
{
	int fds[2], fd;
	char c;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) == -1)
		fatal("pipe: %s", strerror(errno));
	if ((pid = fork()) == -1)
		fatal("fork: %s", strerror(errno));
	if (pid > 0) {
		close(fds[1]);
		/* EOF without a byte: the child failed and said why on stderr */
		_exit(read(fds[0], &c, 1) == 1 ? 0 : 1);
	}
	close(fds[0]);
	setsid();
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		close(fd);
	}
	return fds[1];
}

/* tendd's own log file on stderr; -1 with errno (nothing changed). */
static int
tendd_open_logfile(const char *logfile)
{
	int fd, saved;

	if (logfile == NULL || strcmp(logfile, "stderr") == 0 ||
	    strcmp(logfile, "journal") == 0 || strcmp(logfile, "auto") == 0)
		return 0;	/* under systemd, stderr is the journal already */
	fd = open(logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0640);
	if (fd == -1)
		return -1;
	if (dup2(fd, STDERR_FILENO) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	return 0;
}

int
tendd_reopen_logs(const char *why, char **causes)
{
	char *failed = NULL, *s;
	int n;

	/* For an external logrotate: every file opened again at its path. */
	n = logfile_reopen_all(&failed);
	if (tendd_conf != NULL && tendd_open_logfile(tendd_conf->logfile) == -1) {
		xasprintf(&s, "%s%scannot open %s: %s", failed ? failed : "",
		    failed ? "; " : "", tendd_conf->logfile, strerror(errno));
		free(failed);
		failed = s;
		n++;
	}
	if (n == 0)
		log_info("%s: log files reopened", why);
	else
		log_error("%s: %s", why, failed);
	if (causes != NULL)
		*causes = failed;
	else
		free(failed);
	return n == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'C' },
		{ "strict", no_argument, NULL, 'S' },
		{ "loglevel", required_argument, NULL, 'l' },
		{ "socket", required_argument, NULL, 's' },
		{ "daemonize", no_argument, NULL, 'd' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = TEND_DEFAULT_CONFIG, *sock = NULL, *level = NULL;
	int check = 0, strict = 0, daemonize = 0, readyfd = -1, ch, i;
	struct event *sigev[6];
	static const int sigs[6] = {
		SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1
	};
	struct diag d = { 0 };
	struct sigaction sa;
	struct proc *p;
	char *cause = NULL;
	int nprocs = 0;

	while ((ch = getopt_long(argc, argv, "c:l:s:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'C':
			check = 1;
			break;
		case 'S':
			strict = 1;
			break;
		case 'l':
			level = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'd':
			daemonize = 1;
			break;
		case 'V':
			printf("tendd %s (protocol %d)\n", TEND_VERSION,
			    TEND_PROTOCOL_VERSION);
			return 0;
		case 'h':
			tendd_usage(stdout);
			return 0;
		default:
			tendd_usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "tendd: unexpected argument %s\n", argv[optind]);
		tendd_usage(stderr);
		return 1;
	}

	log_init(level ? tendd_parse_level(level) : LOG_LEVEL_INFO, "tendd");
	tendd_conf = config_load(file, strict ? CONFIG_STRICT : 0, &d);
	tendd_print_diag(&d);
	if (tendd_conf == NULL) {
		fprintf(stderr, "tendd: %s: %d error%s, %d warning%s; "
		    "nothing started\n", file, d.nerrors,
		    d.nerrors == 1 ? "" : "s", d.nwarnings,
		    d.nwarnings == 1 ? "" : "s");
		diag_clear(&d);
		return 1;
	}
	if (check) {
		printf("%s: OK: %d program%s, %d process%s, %d warning%s\n",
		    file, tendd_conf->nprograms,
		    tendd_conf->nprograms == 1 ? "" : "s",
		    tendd_conf->nprograms,
		    tendd_conf->nprograms == 1 ? "" : "es", d.nwarnings,
		    d.nwarnings == 1 ? "" : "s");
		diag_clear(&d);
		config_free(tendd_conf);
		return 0;
	}
	diag_clear(&d);

	if (sock != NULL) {
		free(tendd_conf->socket);
		tendd_conf->socket = xstrdup(sock);
	}
	log_set_level(level ? tendd_parse_level(level) : tendd_conf->loglevel);
	if (tendd_open_logfile(tendd_conf->logfile) == -1)
		fatal("cannot open logfile %s: %s", tendd_conf->logfile,
		    strerror(errno));
	if (tendd_conf->umask >= 0)
		umask((mode_t)tendd_conf->umask);
	logfile_init();
	if (tendd_conf->directory != NULL && chdir(tendd_conf->directory) == -1)
		fatal("cannot change directory to %s: %s",
		    tendd_conf->directory, strerror(errno));

	/* A client that goes away mid-reply must not kill tendd. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	if (daemonize)
		readyfd = tendd_daemonize();
	/* Orphans of our children come to us, so no zombie outlives them. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("cannot become a child subreaper: %s", strerror(errno));

	if ((tendd_base = event_base_new()) == NULL)
		fatal("cannot create the event loop");
	spawn_init_environ();
	if (control_listen(tendd_conf->socket, tendd_conf->socket_mode,
	    tendd_conf->socket_owner, &cause) == -1)
		fatal("%s", cause);
	if (tendd_conf->pidfile != NULL &&
	    tendd_write_pidfile(tendd_conf->pidfile) == 0)
		tendd_pidfile = xstrdup(tendd_conf->pidfile);

	for (i = 0; i < (int)nitems(sigs); i++) {
		sigev[i] = evsignal_new(tendd_base, sigs[i], tendd_signal_cb,
		    NULL);
		if (sigev[i] == NULL || event_add(sigev[i], NULL) == -1)
			fatal("cannot watch signal %d", sigs[i]);
	}

	program_setup(tendd_conf);
	TAILQ_FOREACH(p, &procs, entry)
		nprocs++;
	log_info("tendd %s started (pid %ld): %d program%s from %s",
	    TEND_VERSION, (long)getpid(), nprocs, nprocs == 1 ? "" : "s",
	    tendd_conf->file);
	if (readyfd != -1) {
		if (write(readyfd, "", 1) < 0)
			log_debug("cannot tell the parent we are ready");
		close(readyfd);
	}
	program_autostart();

	event_base_dispatch(tendd_base);

	/* Children that died in the last round are collected too. */
	reap_children();
	output_close_all();
	log_info("tendd exits with status %d", tendd_exit_status);
	control_close_all();
	control_close();
	if (tendd_pidfile != NULL) {
		unlink(tendd_pidfile);
		free(tendd_pidfile);
	}
	for (i = 0; i < (int)nitems(sigs); i++)
		event_free(sigev[i]);
	program_free_all();
	logfile_close_all();
	config_free(tendd_conf);
	event_base_free(tendd_base);
	return tendd_exit_status;
}
