/*
 * config_check.c: what is judged beyond one value: the machine's side
 * (users, directories, the command in PATH, limits, descriptors: only
 * warnings, since the program fails when started, not the file), and
 * the object whole (groups, readiness, unique process names).
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_int.h"

/* An owner: a known user, or user:group. Only warnings: it is the machine. */
void
config_check_owner(struct config_reader *rd, const struct config_rawkey *k,
    const char *owner)
{
	const char *colon = strchr(owner, ':');
	char *user = xstrndup(owner, colon == NULL ? strlen(owner) :
	    (size_t)(colon - owner));

	if (getpwnam(user) == NULL)
		config_warn_machine(rd, k->file, k->line, "[%s] %s: user '%s' "
		    "does not exist", k->section, k->written, user);
	if (colon != NULL && getgrnam(colon + 1) == NULL)
		config_warn_machine(rd, k->file, k->line, "[%s] %s: group '%s' "
		    "does not exist", k->section, k->written, colon + 1);
	free(user);
}

/*
 * supervisord drops to user= itself; tendd runs as whoever starts it.
 * Saying the user it already is (user=root in containers) is harmless.
 */
void
config_check_daemon_user(struct config_reader *rd,
    const struct config_rawkey *k, const char *user)
{
	struct passwd *pw = getpwnam(user);

	if (pw != NULL && pw->pw_uid == geteuid())
		return;
	config_warn_file(rd, k->file, k->line, "[%s] %s: not supported by "
	    "tend, which runs as the user that starts it; ignored", k->section,
	    k->written);
}

void
config_check_dir(struct config_reader *rd, const struct config_rawkey *k,
    const char *dir, const char *what)
{
	struct stat sb;

	if (stat(dir, &sb) == -1)
		config_warn_machine(rd, k->file, k->line, "[%s] %s: %s%s: %s",
		    k->section, k->written, what, dir, strerror(errno));
	else if (!S_ISDIR(sb.st_mode))
		config_warn_machine(rd, k->file, k->line, "[%s] %s: %s%s is "
		    "not a directory", k->section, k->written, what, dir);
}

/* logfile = syslog: is anyone listening? tendd logs to stderr if not. */
void
config_check_syslog(struct config_reader *rd, const struct config_rawkey *k)
{
	const char *path = log_syslog_socket();
	struct stat sb;

	if (stat(path, &sb) == -1)
		config_warn_machine(rd, k->file, k->line, "[%s] %s: syslog: "
		    "%s: %s; tendd will log to stderr until it exists",
		    k->section, k->written, path, strerror(errno));
	else if (!S_ISSOCK(sb.st_mode))
		config_warn_machine(rd, k->file, k->line, "[%s] %s: syslog: "
		    "%s is not a socket; tendd will log to stderr",
		    k->section, k->written, path);
}

/*
 * argv[0] without a '/' is looked up in PATH now, so the status line can
 * name the file that is missing. The absolute path goes to pc->path, the
 * file exec'd; argv[0] stays as written (as supervisord leaves it), since
 * multi-call programs read their name from it.
 */
static void
config_check_command(struct config_reader *rd, struct tend_conf *conf,
    struct program_conf *pc, const struct config_rawkey *k)
{
	const char *path;
	char *rel;
	int err = ENOENT;

	if (strchr(pc->argv[0], '/') != NULL) {
		if (pc->argv[0][0] != '/') {
			/* Relative to where it runs, known only if set. */
			if (pc->directory == NULL)
				return;
			rel = expand_path(pc->directory, pc->argv[0]);
		} else
			rel = xstrdup(pc->argv[0]);
		if (!config_env_executable(rel, &err))
			config_warn_machine(rd, k->file, k->line, "[%s] "
			    "command: cannot execute %s: %s", k->section, rel,
			    strerror(err));
		free(rel);
		return;
	}

	/* The PATH the program will have (docs/behaviour.md). */
	path = config_env_get(pc->environment, "PATH");
	if (path == NULL)
		path = config_env_get(pc->env_file_env, "PATH");
	if (path == NULL)
		path = config_env_get(conf->environment, "PATH");
	if (path == NULL)
		path = getenv("PATH");
	if (path == NULL)
		path = CONFIG_DEFAULT_PATH;
	free(pc->path);
	pc->path = config_env_which(pc->argv[0], path, &err);
	if (pc->path != NULL)
		return;
	if (err != ENOENT)
		config_warn_machine(rd, k->file, k->line, "[%s] command: %s "
		    "is in PATH but cannot be executed: %s", k->section,
		    pc->argv[0], strerror(err));
	else
		config_warn_machine(rd, k->file, k->line, "[%s] command: %s "
		    "not found in PATH (%s)", k->section, pc->argv[0], path);
}

static void
config_check_user(struct config_reader *rd, struct program_conf *pc,
    const struct config_rawkey *k)
{
	struct passwd *pw;
	const char *p;

	pw = getpwnam(pc->user);
	if (pw == NULL) {
		for (p = pc->user; isdigit((unsigned char)*p); p++)
			;
		/* A bare uid needs no passwd entry. */
		if (*p == '\0')
			return;
		config_warn_machine(rd, k->file, k->line, "[%s] user: user "
		    "'%s' does not exist", k->section, pc->user);
		return;
	}
	if (geteuid() != 0 && pw->pw_uid != geteuid())
		config_warn_machine(rd, k->file, k->line, "[%s] user: tendd is "
		    "not root, so it cannot run the program as '%s'",
		    k->section, pc->user);
}

/* A limit only root could give: the program would fail to start here. */
static void
config_check_rlimit(struct config_reader *rd, const struct config_rawkey *k,
    int resource, long long value)
{
	struct rlimit rl;
	char have[32];

	if (value == CONFIG_RLIMIT_UNSET || geteuid() == 0 ||
	    getrlimit(resource, &rl) == -1 || rl.rlim_max == RLIM_INFINITY)
		return;
	if (value != CONFIG_RLIMIT_INFINITY &&
	    (unsigned long long)value <= (unsigned long long)rl.rlim_max)
		return;
	snprintf(have, sizeof(have), "%llu",
	    (unsigned long long)rl.rlim_max);
	config_warn_machine(rd, k->file, k->line, "[%s] %s: tendd is not "
	    "root and its hard limit is %s, so the program cannot be given "
	    "more", k->section, k->written, have);
}


/*
 * The machine's side of one process read without errors: the program
 * fails when started, not the file, so warnings only.
 */
/* spec §12: cgroup limits where no cgroup2 can take them: a warning. */
static void
config_check_limits(struct config_reader *rd, struct program_conf *pc,
    struct config_rawsec *sec)
{
	static const char *const keys[] = { "memory_max", "memory_high",
	    "cpu_max", "cpu_weight", "pids_max" };
	static int usable = -1;
	static char *why;
	struct config_rawkey *k;
	size_t i;

	if (!cgroup_limited(pc))
		return;
	if (usable == -1)
		usable = cgroup_limits_usable(&why);
	if (usable)
		return;
	for (i = 0; i < nitems(keys); i++)
		if ((k = config_sec_key(sec, keys[i])) != NULL)
			config_warn_machine(rd, k->file, k->line, "[%s] %s: not "
			    "applied: %s", k->section, k->written, why);
}

void
config_check_process(struct config_reader *rd, struct tend_conf *conf,
    struct program_conf *pc, struct config_rawsec *sec)
{
	struct config_rawkey *k;
	char *why;

	if (pc->env_file != NULL && (k = config_sec_key(sec, "env_file")) &&
	    config_read_env_file(pc->env_file, &pc->env_file_env, &why) == -1) {
		config_warn_machine(rd, k->file, k->line, "[%s] %s: %s",
		    k->section, k->written, why);
		free(why);
	}
	config_check_command(rd, conf, pc, config_sec_key(sec, "command"));
	if (pc->directory != NULL && (k = config_sec_key(sec, "directory")))
		config_check_dir(rd, k, pc->directory, "");
	if (pc->user != NULL && (k = config_sec_key(sec, "user")))
		config_check_user(rd, pc, k);
	if ((k = config_sec_key(sec, "rlimit_nofile")) != NULL)
		config_check_rlimit(rd, k, RLIMIT_NOFILE, pc->rlimit_nofile);
	if ((k = config_sec_key(sec, "rlimit_core")) != NULL)
		config_check_rlimit(rd, k, RLIMIT_CORE, pc->rlimit_core);
	config_check_limits(rd, pc, sec);
}

/* Every program a group lists exists; one in two groups runs in both. */
void
config_check_groups(struct config_reader *rd)
{
	const char **names;
	const char *suggestion;
	struct config_group *grp, *other;
	char *where;
	int i, j, n = 0, g, h;

	names = xcalloc(rd->nsecs + 1, sizeof(*names));
	for (i = 0; i < rd->nsecs; i++)
		if (strncmp(rd->secs[i].name, "program:", 8) == 0)
			names[n++] = rd->secs[i].name + 8;
	names[n] = NULL;
	for (g = 0; g < rd->ngroups; g++) {
		grp = &rd->groups[g];
		for (i = 0; grp->programs != NULL && grp->programs[i] != NULL;
		    i++) {
			for (j = 0; j < n; j++)
				if (strcmp(names[j], grp->programs[i]) == 0)
					break;
			if (j == n) {
				suggestion = expand_suggest(grp->programs[i],
				    names);
				config_error(rd, grp->programs_file,
				    grp->programs_line, "[%s] programs: no "
				    "[program:%s] section%s%s%s", grp->label,
				    grp->programs[i], suggestion ?
				    "; did you mean " : "", suggestion ?
				    suggestion : "", suggestion ? "?" : "");
				continue;
			}
			for (h = 0; h < g; h++) {
				other = &rd->groups[h];
				if (other->programs == NULL ||
				    strv_len(other->programs) == 0)
					continue;
				for (j = 0; other->programs[j] != NULL; j++)
					if (strcmp(other->programs[j],
					    grp->programs[i]) == 0)
						break;
				if (other->programs[j] == NULL)
					continue;
				where = config_where(rd, grp->programs_file,
				    other->programs_file, other->programs_line);
				config_warn_file(rd, grp->programs_file,
				    grp->programs_line, "[%s] programs: %s is "
				    "also in [%s] (%s); it runs once in each "
				    "group, as under supervisord", grp->label,
				    grp->programs[i], other->label, where);
				free(where);
				break;
			}
		}
	}
	free(names);
}


/* A probe's period must be a period: 0 would try without end. */
static void
config_check_positive(struct config_reader *rd, struct config_rawsec *sec,
    const char *key, double v)
{
	struct config_rawkey *k;

	if (v > 0)
		return;
	k = config_sec_key(sec, key);
	config_error(rd, k != NULL ? k->file : sec->file,
	    k != NULL ? k->line : sec->line, "[%s] %s: must be more than 0",
	    sec->label, key);
}

static void
config_check_probes(struct config_reader *rd, struct program_conf *pc,
    struct config_rawsec *sec)
{
	config_check_positive(rd, sec, "ready_interval", pc->ready_interval);
	config_check_positive(rd, sec, "probe_timeout", pc->probe_timeout);
	config_check_positive(rd, sec, "healthcheck_interval",
	    pc->healthcheck_interval);
	config_check_positive(rd, sec, "healthcheck_retries",
	    pc->healthcheck_retries);
}

/*
 * ready, watchdog_secs and pidfile judge readiness in different ways;
 * combinations that cannot mean anything are said out loud.
 */
void
config_check_readiness(struct config_reader *rd, struct program_conf *pc,
    struct config_rawsec *sec)
{
	struct config_rawkey *k;

	if (pc->pidfile != NULL && pc->ready == READY_NOTIFY) {
		k = config_sec_key(sec, "pidfile");
		config_error(rd, k != NULL ? k->file : sec->file,
		    k != NULL ? k->line : sec->line, "[%s] pidfile: cannot be "
		    "combined with ready = notify (a notify program names its "
		    "main process with MAINPID=); use one of them", sec->label);
	}
	config_check_probes(rd, pc, sec);
	if (pc->pidfile != NULL && pc->ready == READY_PROBE) {
		k = config_sec_key(sec, "pidfile");
		config_error(rd, k != NULL ? k->file : sec->file,
		    k != NULL ? k->line : sec->line, "[%s] pidfile: cannot be "
		    "combined with a ready probe (ready = %s); use one of them",
		    sec->label, pc->ready_spec);
	}
	if (pc->watchdog_secs > 0 && pc->ready != READY_NOTIFY) {
		k = config_sec_key(sec, "watchdog_secs");
		config_warn_file(rd, k != NULL ? k->file : sec->file,
		    k != NULL ? k->line : sec->line, "[%s] watchdog_secs: has "
		    "no effect without ready = notify (only a notify program "
		    "can send WATCHDOG=1)", sec->label);
	}
}


static int
config_check_pc_cmp(const void *a, const void *b)
{
	const struct program_conf *x = *(struct program_conf *const *)a;
	const struct program_conf *y = *(struct program_conf *const *)b;
	int c;

	if ((c = strcmp(x->group, y->group)) != 0)
		return c;
	return strcmp(x->name, y->name);
}

/* GROUP:NAME is the handle of a process: no two may share one. */
void
config_check_names(struct config_reader *rd, struct tend_conf *conf)
{
	struct program_conf **all, *pc, *prev;
	const char *lastgroup = NULL;
	char *a, *b;
	int i, n = 0;

	all = xcalloc(conf->nprocs + 1, sizeof(*all));
	TAILQ_FOREACH(pc, &conf->programs, entry)
		all[n++] = pc;
	qsort(all, n, sizeof(*all), config_check_pc_cmp);
	conf->ngroups = 0;
	for (i = 0; i < n; i++) {
		if (lastgroup == NULL || strcmp(lastgroup, all[i]->group) != 0)
			conf->ngroups++;
		lastgroup = all[i]->group;
		if (i == 0 || config_check_pc_cmp(&all[i - 1], &all[i]) != 0)
			continue;
		prev = all[i - 1];
		pc = all[i];
		/* Report at the later section, naming the earlier. */
		if (strcmp(prev->file, pc->file) == 0 &&
		    prev->line > pc->line) {
			prev = all[i];
			pc = all[i - 1];
		}
		xasprintf(&a, "[program:%s]", pc->program);
		if (strcmp(prev->file, pc->file) == 0)
			xasprintf(&b, "line %d", prev->line);
		else
			xasprintf(&b, "%s:%d", prev->file, prev->line);
		for (int f = 0; f < rd->nfiles; f++) {
			if (strcmp(rd->files[f].path, pc->file) == 0) {
				config_error(rd, f, pc->line, "%s: process "
				    "%s:%s is also a process of [program:%s] "
				    "(%s); process names must differ", a,
				    pc->group, pc->name, prev->program, b);
				break;
			}
		}
		free(a);
		free(b);
	}
	free(all);
}


/* ------------------------------------------------------------------ */
/* Descriptors                                                          */

static int
config_check_strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

long
config_proc_fds(const struct tend_conf *conf)
{
	const struct program_conf *pc;
	const char *dest;
	const char **shared;
	long n = 0;
	size_t nshared = 0, i, max = 0;
	int s;

	TAILQ_FOREACH(pc, &conf->programs, entry)
		max += 2;
	shared = xcalloc(max + 1, sizeof(*shared));
	TAILQ_FOREACH(pc, &conf->programs, entry) {
		n++;				/* its pidfd */
		/* the sockets its program holds (sockets.c), once a program */
		if (TAILQ_PREV(pc, program_confs, entry) == NULL ||
		    strcmp(TAILQ_PREV(pc, program_confs, entry)->program,
		    pc->program) != 0)
			n += sockets_count(pc);
		/* a probe's socket or pidfd (one try at a time: probe.c) */
		if (pc->ready_probe != NULL || pc->health_probe != NULL)
			n++;
		for (s = 0; s < (pc->redirect_stderr ? 1 : 2); s++) {
			dest = s == 0 ? pc->stdout_logfile : pc->stderr_logfile;
			if (dest == NULL || strcmp(dest, "NONE") == 0)
				continue;	/* /dev/null: nothing */
			n++;			/* tendd's end of the pipe */
			if (strcmp(dest, "AUTO") == 0)
				n++;		/* a file of its own */
			else
				shared[nshared++] = dest;
		}
	}
	/* A path (or /dev/stdout, the journal) named many times is one. */
	qsort(shared, nshared, sizeof(*shared), config_check_strp_cmp);
	for (i = 0; i < nshared; i++)
		if (i == 0 || strcmp(shared[i], shared[i - 1]) != 0)
			n++;
	free(shared);
	return n;
}

/* CAP_SYS_RESOURCE in effect: tendd may raise its hard limits. */
static int
config_check_may_raise(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct c[2];

	if (syscall(SYS_capget, &h, c) == -1)
		return 0;
	return (c[CAP_TO_INDEX(CAP_SYS_RESOURCE)].effective &
	    CAP_TO_MASK(CAP_SYS_RESOURCE)) != 0;
}

/* fs.nr_open: the most any descriptor limit can be. */
static long long
config_check_nr_open(void)
{
	long long v = 1024 * 1024;
	FILE *f;

	if ((f = fopen("/proc/sys/fs/nr_open", "re")) != NULL) {
		if (fscanf(f, "%lld", &v) != 1)
			v = 1024 * 1024;
		fclose(f);
	}
	return v;
}

/*
 * The processes that do not fit under tendd's descriptor limit would
 * wait in BACKOFF (spawn.c): a problem of this machine, so a warning.
 * None when tendd can raise its hard limit to what is needed (it does
 * at start, see tendd.c).
 */
void
config_check_fds(struct config_reader *rd, const struct tend_conf *conf)
{
	long need = CONFIG_FDS_NEEDED(conf);
	long long nr_open;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    rl.rlim_max == RLIM_INFINITY || (rlim_t)need <= rl.rlim_max)
		return;
	nr_open = config_check_nr_open();
	if (config_check_may_raise() && need <= nr_open)
		return;
	config_warn_machine(rd, 0, 0, "%d process%s need about %ld file "
	    "descriptors (%ld for them, %d for tendd and its clients), more "
	    "than %s %llu%s: those that do not fit wait in BACKOFF until "
	    "descriptors are free; raise the limit (ulimit -Hn, "
	    "LimitNOFILE=) or log less (stdout_logfile or stderr_logfile = "
	    "NONE costs no descriptor, redirect_stderr one pipe)",
	    conf->nprocs, conf->nprocs == 1 ? "" : "es", need,
	    conf->proc_fds, TENDD_FDS_OWN + TENDD_FDS_CLIENTS,
	    need > nr_open ? "fs.nr_open," : "the hard limit of",
	    need > nr_open ? (unsigned long long)nr_open :
	    (unsigned long long)rl.rlim_max,
	    need > nr_open ? ", the most any limit can be" :
	    ", which tendd cannot raise (no CAP_SYS_RESOURCE)");
}



/* ------------------------------------------------------------------ */
/* depends_on: every name known, no cycle (between programs)          */

struct config_dep_prog {
	const char	*name;		/* [program:NAME] */
	size_t		*adj;		/* programs it depends on */
	size_t		 nadj;
	struct config_rawkey *key;	/* its depends_on, for messages */
};

static size_t
config_dep_index(struct config_dep_prog *progs, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(progs[i].name, name) == 0)
			return i;
	return n;
}

static void
config_dep_edge(struct config_dep_prog *from, size_t to)
{
	size_t i;

	for (i = 0; i < from->nadj; i++)
		if (from->adj[i] == to)
			return;
	from->adj = xreallocarray(from->adj, from->nadj + 1,
	    sizeof(*from->adj));
	from->adj[from->nadj++] = to;
}

/* The raw depends_on of [program:NAME] (where messages point). */
static struct config_rawkey *
config_dep_key(struct config_reader *rd, const char *program)
{
	int i;

	for (i = 0; i < rd->nsecs; i++)
		if (strncmp(rd->secs[i].name, "program:", 8) == 0 &&
		    strcmp(rd->secs[i].name + 8, program) == 0)
			return config_sec_key(&rd->secs[i], "depends_on");
	return NULL;
}

/* One process's names: edges from its program, or unknown-name errors. */
static void
config_dep_names(struct config_reader *rd, struct tend_conf *conf,
    struct config_dep_prog *progs, size_t n, struct program_conf *pc)
{
	struct config_dep_prog *from;
	struct program_conf *q;
	char **names = depend_split(pc->depends_on);
	size_t i, to;
	int found;

	from = &progs[config_dep_index(progs, n, pc->program)];
	if (from->key == NULL)
		from->key = config_dep_key(rd, pc->program);
	for (i = 0; names != NULL && names[i] != NULL; i++) {
		found = 0;
		TAILQ_FOREACH(q, &conf->programs, entry) {
			if (!depend_match(names[i], q->group, q->name))
				continue;
			found = 1;
			to = config_dep_index(progs, n, q->program);
			config_dep_edge(from, to);
		}
		if (!found && from->key != NULL)
			config_error(rd, from->key->file, from->key->line,
			    "[%s] %s: unknown name %s (no process or group "
			    "of that name)", from->key->section,
			    from->key->written, names[i]);
	}
	strv_free(names);
}

void
config_check_depends(struct config_reader *rd, struct tend_conf *conf)
{
	struct config_dep_prog *progs;
	struct program_conf *pc, *last = NULL;
	size_t n = 0, i, *path = NULL, plen = 0, **adj, *nadj;
	char *cycle, *more;

	progs = xcalloc(conf->nprocs + 1, sizeof(*progs));
	TAILQ_FOREACH(pc, &conf->programs, entry)
		if (config_dep_index(progs, n, pc->program) == n)
			progs[n++].name = pc->program;
	/* copies of a program usually say the same: read each text once */
	TAILQ_FOREACH(pc, &conf->programs, entry) {
		if (pc->depends_on != NULL && (last == NULL ||
		    strcmp(last->program, pc->program) != 0 ||
		    strcmp(last->depends_on, pc->depends_on) != 0))
			config_dep_names(rd, conf, progs, n, pc);
		if (pc->depends_on != NULL)
			last = pc;
	}
	adj = xcalloc(n + 1, sizeof(*adj));
	nadj = xcalloc(n + 1, sizeof(*nadj));
	for (i = 0; i < n; i++) {
		adj[i] = progs[i].adj;
		nadj[i] = progs[i].nadj;
	}
	if (depend_cycle(n, adj, nadj, &path, &plen) &&
	    progs[path[0]].key != NULL) {
		cycle = xstrdup(progs[path[0]].name);
		for (i = 1; i < plen; i++) {
			xasprintf(&more, "%s -> %s", cycle, progs[path[i]].name);
			free(cycle);
			cycle = more;
		}
		config_error(rd, progs[path[0]].key->file,
		    progs[path[0]].key->line, "[%s] %s: cycle %s",
		    progs[path[0]].key->section, progs[path[0]].key->written,
		    cycle);
		free(cycle);
	}
	free(path);
	for (i = 0; i < n; i++)
		free(progs[i].adj);
	free(progs);
	free(adj);
	free(nadj);
}
