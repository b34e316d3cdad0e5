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
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "tendd.h"

struct event_base *tendd_base;
struct tend_conf *tendd_conf;
int		 tendd_exit_status;
struct rlimit	 tendd_child_nofile;

static int	 tendd_stopping;
static char	*tendd_pidfile;
/* What the command line said, which a reload keeps. */
static int	 tendd_config_flags;
static int	 tendd_opt_socket;
static int	 tendd_opt_level;

static void	 tendd_raise_nofile(const struct tend_conf *);

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
	systemd_stopping();
	program_shutdown();
}

static void
tendd_exit_loop(void)
{
	command_shutdown_done();
	event_base_loopexit(tendd_base, NULL);
}

void
tendd_all_stopped(void)
{
	/* their cgroups go too, once what a group kill ended has ended */
	cgroup_when_empty(tendd_exit_loop);
}

/*
 * supervisord's minfds and minprocs: children inherit tendd's limits, so
 * raise the soft limit (and the hard one, when root) to at least MIN.
 */
static void
tendd_raise_limit(int resource, const char *key, int min, int given)
{
	struct rlimit rl, want;

	if (getrlimit(resource, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= (rlim_t)min)
		return;
	want.rlim_cur = (rlim_t)min;
	want.rlim_max = rl.rlim_max;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)min)
		want.rlim_max = (rlim_t)min;
	if (setrlimit(resource, &want) == 0) {
		log_info("%s: raised the soft limit from %llu to %d", key,
		    (unsigned long long)rl.rlim_cur, min);
		return;
	}
	/* Not root: as far as the hard limit allows. */
	want.rlim_cur = rl.rlim_max;
	want.rlim_max = rl.rlim_max;
	if (setrlimit(resource, &want) == 0)
		rl.rlim_cur = rl.rlim_max;
	if (given)
		log_warn("%s = %d: cannot raise the limit beyond %llu (the "
		    "hard limit; only root can raise it); going on with that",
		    key, min, (unsigned long long)rl.rlim_cur);
	else
		log_debug("%s: default %d is above the hard limit %llu", key,
		    min, (unsigned long long)rl.rlim_max);
}

/* The descriptor limits tendd was started with. */
static struct rlimit tendd_start_nofile;

/*
 * Children get the soft descriptor limit tendd was started with, raised
 * to minfds when the file sets it (supervisord's meaning: children
 * inherit it). tendd's own extra room for clients (tendd_raise_nofile)
 * is not theirs: select() breaks on descriptors over 1023.
 */
static void
tendd_apply_limits(const struct tend_conf *conf)
{
	struct rlimit rl;

	if (conf->minfds_set)
		tendd_raise_limit(RLIMIT_NOFILE, "minfds", conf->minfds, 1);
	tendd_raise_limit(RLIMIT_NPROC, "minprocs", conf->minprocs,
	    conf->minprocs_set);
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    tendd_start_nofile.rlim_cur == 0)
		return;
	tendd_child_nofile.rlim_max = rl.rlim_max;
	tendd_child_nofile.rlim_cur = tendd_start_nofile.rlim_cur;
	if (conf->minfds_set && tendd_child_nofile.rlim_cur < (rlim_t)conf->minfds)
		tendd_child_nofile.rlim_cur = (rlim_t)conf->minfds;
	if (rl.rlim_max != RLIM_INFINITY &&
	    tendd_child_nofile.rlim_cur > rl.rlim_max)
		tendd_child_nofile.rlim_cur = rl.rlim_max;
}

static void
tendd_swap_str(char **a, char **b)
{
	char *t = *a;

	*a = *b;
	*b = t;
}

/*
 * Settings tendd took at start (its socket, log, pidfile, cwd) stay what
 * they are until it restarts: NEW keeps OLD's, so the next reload still
 * reports the difference and status stays truthful.
 */
static void
tendd_keep_running(struct tend_conf *old, struct tend_conf *new)
{
	tendd_swap_str(&old->socket, &new->socket);
	new->socket_mode = old->socket_mode;
	tendd_swap_str(&old->socket_owner, &new->socket_owner);
	tendd_swap_str(&old->logfile, &new->logfile);
	tendd_swap_str(&old->pidfile, &new->pidfile);
	tendd_swap_str(&old->identifier, &new->identifier);
	new->umask = old->umask;
	tendd_swap_str(&old->directory, &new->directory);
}

static int
tendd_reload_apply(int flags, struct diag *d, struct reload_plan *plan)
{
	struct tend_conf *new, *old;
	int i, added = 0, changed = 0, removed = 0;
	const char *what = flags & TENDD_RELOAD_CHECK ? "reload --check" :
	    "reload";

	memset(plan, 0, sizeof(*plan));
	if (tendd_stopping) {
		diag_add(d, 1, "tendd is shutting down");
		return -1;
	}
	/* The absolute path: tendd may have changed its directory since. */
	new = config_load(tendd_conf->file, tendd_config_flags, d);
	if (new == NULL) {
		log_error("%s: %s has %d error%s; the running config stays",
		    what, tendd_conf->file, d->nerrors,
		    d->nerrors == 1 ? "" : "s");
		for (i = 0; i < d->n; i++)
			if (d->msgs[i].is_error)
				log_error("%s: %s", what, d->msgs[i].text);
		return -1;
	}
	if (tendd_opt_socket) {
		free(new->socket);
		new->socket = xstrdup(tendd_conf->socket);
	}
	reload_diff(tendd_conf, new, plan);
	plan->restart = config_restart_changes(tendd_conf, new);
	if (flags & TENDD_RELOAD_CHECK) {
		config_free(new);
		return 0;
	}

	for (i = 0; i < d->n; i++)
		log_warn("%s: %s", what, d->msgs[i].text);
	for (i = 0; i < plan->n; i++) {
		if (plan->items[i].change == RELOAD_ADDED)
			added++;
		else if (plan->items[i].change == RELOAD_CHANGED)
			changed++;
		else
			removed++;
	}
	log_info("%s: %s: %d added, %d changed, %d removed, %d unchanged",
	    what, tendd_conf->file, added, changed, removed, plan->unchanged);
	for (i = 0; plan->restart != NULL && plan->restart[i] != NULL; i++)
		log_warn("%s: %s: takes effect when tendd restarts", what,
		    plan->restart[i]);

	old = tendd_conf;
	tendd_keep_running(old, new);
	tendd_conf = new;
	if (!tendd_opt_level)
		log_set_level(new->loglevel);
	log_set_rotation(new->logfile_maxbytes, new->logfile_backups);
	tendd_apply_limits(new);
	tendd_raise_nofile(new);
	reload_apply(old, new);
	config_free(old);
	metrics_reloaded();
	return 0;
}

/*
 * The one entry point of a reload (SIGHUP, tendctl reload). Under
 * systemd, RELOADING=1 (with MONOTONIC_USEC) goes out before the config
 * is read and READY=1 after it is applied or refused, so systemctl
 * reload returns once tendd has settled on a config.
 */
int
tendd_reload(int flags, struct diag *d, struct reload_plan *plan)
{
	int tell = !(flags & TENDD_RELOAD_CHECK) && !tendd_stopping, rc;

	if (tell)
		systemd_reloading();
	rc = tendd_reload_apply(flags, d, plan);
	if (tell)
		systemd_reloaded();
	return rc;
}

static void
tendd_signal_cb(int sig, short ev, void *arg)
{
	struct reload_plan plan;
	struct diag d = { 0 };
	char why[64];

	switch (sig) {
	case SIGCHLD:
		reap_sigchld();
		break;
	case SIGTERM:
	case SIGINT:
	case SIGQUIT:
		snprintf(why, sizeof(why), "SIG%s received",
		    util_signal_name(sig));
		tendd_shutdown(0, why);
		break;
	case SIGHUP:
		if (tendd_stopping) {
			log_info("SIGHUP received while shutting down: "
			    "ignored");
			break;
		}
		log_info("SIGHUP received: reloading %s", tendd_conf->file);
		tendd_reload(0, &d, &plan);
		reload_plan_free(&plan);
		diag_clear(&d);
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
	/*
	 * A fresh file, never an existing one: O_TRUNC on a hard link
	 * planted at the .new name would overwrite the file it points to
	 * (O_NOFOLLOW only stops symlinks). A link planted again after the
	 * unlink makes O_EXCL fail: an error, never a write through it.
	 */
	if (unlink(tmp) == -1 && errno != ENOENT)
		log_warn("cannot remove %s: %s", tmp, strerror(errno));
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
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

/*
 * Each message labelled in front ("error: FILE:LINE: message"), so that
 * FILE:LINE: message stays one string to grep for.
 */
static void
tendd_print_diag(const struct diag *d)
{
	int i;

	for (i = 0; i < d->n; i++)
		fprintf(stderr, "%s: %s\n", d->msgs[i].is_error ? "error" :
		    "warning", d->msgs[i].text);
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

/*
 * Clients and children need descriptors: tendd takes all it may (the
 * hard limit), and where it may raise the hard limit (CAP_SYS_RESOURCE,
 * root under systemd) raises it to what CONF needs, up to fs.nr_open.
 * Where it may not, --check and the start-up said so (config.c), and
 * the processes that do not fit wait in BACKOFF. Children get their
 * limit back (tendd_apply_limits), as systemd does.
 */
static void
tendd_raise_nofile(const struct tend_conf *conf)
{
	struct rlimit rl, want;
	rlim_t need = (rlim_t)CONFIG_FDS_NEEDED(conf);
	int saved;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		want.rlim_cur = want.rlim_max = need;
		if (setrlimit(RLIMIT_NOFILE, &want) == 0) {
			log_info("descriptor limit raised from %llu to %llu, "
			    "what %d process%s need", (unsigned long long)
			    rl.rlim_max, (unsigned long long)need,
			    conf->nprocs, conf->nprocs == 1 ? "" : "es");
			return;
		}
		saved = errno;
		/* EPERM: no CAP_SYS_RESOURCE, or above fs.nr_open (config.c
		   has warned); anything else is news */
		if (saved == EPERM)
			log_debug("cannot raise the hard descriptor limit from "
			    "%llu to %llu: %s", (unsigned long long)rl.rlim_max,
			    (unsigned long long)need, strerror(saved));
		else
			log_warn("cannot raise the hard descriptor limit from "
			    "%llu to %llu: %s", (unsigned long long)rl.rlim_max,
			    (unsigned long long)need, strerror(saved));
	}
	if (rl.rlim_cur >= rl.rlim_max)
		return;
	want.rlim_cur = want.rlim_max = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &want) == -1) {
		log_debug("cannot raise the descriptor limit to %llu: %s",
		    (unsigned long long)rl.rlim_max, strerror(errno));
		return;
	}
	log_debug("descriptor limit raised from %llu to %llu",
	    (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
}

int
tendd_reopen_logs(const char *why, char **causes)
{
	char *failed = NULL, *s, *cause;
	int n;

	/* For an external logrotate: every file opened again at its path. */
	n = logfile_reopen_all(&failed);
	if (log_reopen(&cause) == -1) {
		xasprintf(&s, "%s%s%s", failed ? failed : "",
		    failed ? "; " : "", cause);
		free(cause);
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

/* The programs with autostart, in priority order. */
static void
tendd_autostart(void)
{
	sevent_startup();
	program_autostart();
	schedule_sync();	/* spec §12 */
	systemd_autostart_done();
}

/* What the command line asks for. */
struct tendd_opts {
	const char	*file;
	const char	*socket;	/* --socket, else NULL */
	const char	*level;		/* --loglevel, else NULL */
	int		 check;
	int		 strict;
	int		 daemonize;
};

/* -1 to go on, else main's exit status (--version, --help, a mistake). */
static int
tendd_options(int argc, char **argv, struct tendd_opts *o)
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
	int ch;

	o->file = TEND_DEFAULT_CONFIG;
	while ((ch = getopt_long(argc, argv, "c:l:s:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->file = optarg;
			break;
		case 'C':
			o->check = 1;
			break;
		case 'S':
			o->strict = 1;
			break;
		case 'l':
			o->level = optarg;
			break;
		case 's':
			o->socket = optarg;
			break;
		case 'd':
			o->daemonize = 1;
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
	return -1;
}

/*
 * Reads the config into tendd_conf and prints what it found. -1 to go
 * on, else main's exit status (errors, or --check done).
 */
static int
tendd_load(const struct tendd_opts *o)
{
	struct diag d = { 0 };

	log_init(o->level ? tendd_parse_level(o->level) : LOG_LEVEL_INFO,
	    "tendd");
	tendd_config_flags = o->strict ? CONFIG_STRICT : 0;
	tendd_opt_socket = o->socket != NULL;
	tendd_opt_level = o->level != NULL;
	tendd_conf = config_load(o->file, tendd_config_flags, &d);
	tendd_print_diag(&d);
	if (tendd_conf == NULL) {
		fprintf(stderr, "tendd: %s: %d error%s, %d warning%s; "
		    "nothing started\n", o->file, d.nerrors,
		    d.nerrors == 1 ? "" : "s", d.nwarnings,
		    d.nwarnings == 1 ? "" : "s");
		diag_clear(&d);
		return 1;
	}
	if (o->check) {
		printf("%s: OK: %d program%s, %d process%s, %d group%s, "
		    "%d warning%s\n", o->file, tendd_conf->nprograms,
		    tendd_conf->nprograms == 1 ? "" : "s",
		    tendd_conf->nprocs, tendd_conf->nprocs == 1 ? "" : "es",
		    tendd_conf->ngroups, tendd_conf->ngroups == 1 ? "" : "s",
		    d.nwarnings, d.nwarnings == 1 ? "" : "s");
		diag_clear(&d);
		config_free(tendd_conf);
		return 0;
	}
	diag_clear(&d);
	if (o->socket != NULL) {
		free(tendd_conf->socket);
		tendd_conf->socket = xstrdup(o->socket);
	}
	log_set_level(o->level ? tendd_parse_level(o->level) :
	    tendd_conf->loglevel);
	return -1;
}

/*
 * The process tendd runs as: its log, umask, limits, directory, signals
 * and, with --daemonize, its fork. The descriptor to tell the parent
 * tendd is ready on, or -1.
 */
static int
tendd_become(const struct tendd_opts *o)
{
	struct sigaction sa;
	char *cause = NULL;
	int readyfd = -1;

	log_set_rotation(tendd_conf->logfile_maxbytes,
	    tendd_conf->logfile_backups);
	if (log_open(tendd_conf->logfile, tendd_conf->identifier,
	    &cause) == -1)
		fatal("%s", cause);
	if (tendd_conf->umask >= 0)
		umask((mode_t)tendd_conf->umask);
	getrlimit(RLIMIT_NOFILE, &tendd_start_nofile);
	logfile_init();
	tendd_apply_limits(tendd_conf);
	if (tendd_conf->directory != NULL && chdir(tendd_conf->directory) == -1)
		fatal("cannot change directory to %s: %s",
		    tendd_conf->directory, strerror(errno));

	/* A client that goes away mid-reply must not kill tendd. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	if (o->daemonize) {
		if (getenv("NOTIFY_SOCKET") != NULL)
			log_warn("--daemonize under systemd: the forked tendd "
			    "is not the main process systemd knows; run "
			    "tendd in the foreground with Type=notify");
		readyfd = tendd_daemonize();
	}
	/* Orphans of our children come to us, so no zombie outlives them. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("cannot become a child subreaper: %s", strerror(errno));
	tendd_raise_nofile(tendd_conf);
	return readyfd;
}

/* The loop, the control socket, what a predecessor left, the pidfile. */
static void
tendd_open(void)
{
	char *cause = NULL;

	if ((tendd_base = event_base_new()) == NULL)
		fatal("cannot create the event loop");
	spawn_init();
	systemd_start();
	if (systemd_listen_fd() != -1) {
		if (control_listen_fd(systemd_listen_fd(), tendd_conf->socket,
		    tendd_conf->socket_mode, tendd_conf->socket_owner,
		    &cause) == -1)
			fatal("%s", cause);
	} else if (control_listen(tendd_conf->socket, tendd_conf->socket_mode,
	    tendd_conf->socket_owner, &cause) == -1)
		fatal("%s", cause);
	if (tendd_conf->inet_port != NULL &&
	    http_listen_inet(tendd_conf->inet_port, &cause) == -1)
		fatal("%s", cause);
	/*
	 * After the socket's lock (taken by either path, on the config's
	 * socket): a second tendd on it is refused before this.
	 */
	cgroup_init(tendd_conf->socket);
	if (!tendd_conf->nocleanup)
		autolog_cleanup(tendd_conf->childlogdir,
		    tendd_conf->identifier);
	if (tendd_conf->pidfile != NULL &&
	    tendd_write_pidfile(tendd_conf->pidfile) == 0)
		tendd_pidfile = xstrdup(tendd_conf->pidfile);
}

/* After the loop: what is left of the children, then everything else. */
static void
tendd_close(void)
{
	/* Children that died in the last round are collected too. */
	reap_children();
	output_close_all();
	log_info("tendd exits with status %d", tendd_exit_status);
	control_close_all();
	control_close();
	http_close();
	sockets_close_all();
	notify_close();
	systemd_close();
	if (tendd_pidfile != NULL) {
		unlink(tendd_pidfile);
		free(tendd_pidfile);
	}
}

int
main(int argc, char **argv)
{
	static const int sigs[6] = {
		SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1
	};
	struct tendd_opts o = { 0 };
	struct event *sigev[6];
	char *cause = NULL;
	int readyfd, status, i;

	if ((status = tendd_options(argc, argv, &o)) != -1 ||
	    (status = tendd_load(&o)) != -1)
		return status;
	/* LISTEN_PID names this process: read before --daemonize forks. */
	if (systemd_init(&cause) == -1) {
		fprintf(stderr, "tendd: %s\n", cause);
		free(cause);
		config_free(tendd_conf);
		return 1;
	}
	readyfd = tendd_become(&o);
	tendd_open();
	for (i = 0; i < (int)nitems(sigs); i++) {
		sigev[i] = evsignal_new(tendd_base, sigs[i], tendd_signal_cb,
		    NULL);
		if (sigev[i] == NULL || event_add(sigev[i], NULL) == -1)
			fatal("cannot watch signal %d", sigs[i]);
	}

	program_setup(tendd_conf);
	persist_init(tendd_conf);
	log_info("tendd %s started (pid %ld): %d process%s from %s",
	    TEND_VERSION, (long)getpid(), program_nprocs,
	    program_nprocs == 1 ? "" : "es", tendd_conf->file);
	if (readyfd != -1) {
		if (write(readyfd, "", 1) < 0)
			log_debug("cannot tell the parent we are ready");
		close(readyfd);
		log_detach();
	}
	/* Once what a predecessor left has ended: it may hold their ports. */
	cgroup_after_sweep(tendd_autostart);

	event_base_dispatch(tendd_base);

	tendd_close();
	for (i = 0; i < (int)nitems(sigs); i++)
		event_free(sigev[i]);
	reap_close();
	runjob_close();
	schedule_close();
	program_free_all();
	persist_close();
	scale_close();
	hooks_close();
	probe_close();
	cgroup_close();
	logfile_close_all();
	config_free(tendd_conf);
	event_base_free(tendd_base);
	return tendd_exit_status;
}
