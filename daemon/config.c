/*
 * config.c: owns the config object (tendd.h). The file and its
 * [include]s are read into raw sections first (config_file.c), then each
 * [program:] is expanded once per process (numprocs, and once per
 * [group:] listing it), each key read as its type (config_value.c) and
 * stored by the key table (config_keys.c), and the whole object is
 * checked (config_check.c). Every problem is collected and reported,
 * sorted by file and line, so that one --check shows all of them; only
 * errors make the object unusable.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_int.h"
#include "utf8.h"

/* ------------------------------------------------------------------ */
/* Messages                                                             */

static void
config_vmsg(struct config_reader *rd, int is_error, int file, int line,
    const char *fmt, va_list ap)
{
	struct config_msg *m;
	char *what, *text;
	int i;

	xvasprintf(&what, fmt, ap);
	if (file >= 0 && line > 0)
		xasprintf(&text, "%s:%d: %s", rd->files[file].path, line, what);
	else if (file >= 0)
		xasprintf(&text, "%s: %s", rd->files[file].path, what);
	else
		text = xstrdup(what);
	free(what);
	/* It quotes the file (names, values, paths): text from here on. */
	if (!utf8_valid(text, strlen(text))) {
		what = text;
		text = utf8_dup(what, SIZE_MAX);
		free(what);
	}
	if (is_error)
		rd->nerrors++;
	/* numprocs copies of one program say the same things once. */
	if (rd->dedupe_from >= 0) {
		for (i = rd->dedupe_from; i < rd->nmsgs; i++) {
			if (strcmp(rd->msgs[i].text, text) == 0) {
				free(text);
				return;
			}
		}
	}
	rd->msgs = xreallocarray(rd->msgs, rd->nmsgs + 1, sizeof(*rd->msgs));
	m = &rd->msgs[rd->nmsgs];
	m->file = file;
	m->line = line;
	m->seq = rd->nmsgs++;
	m->is_error = is_error;
	m->text = text;
}

void
config_error(struct config_reader *rd, int file, int line, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_vmsg(rd, 1, file, line, fmt, ap);
	va_end(ap);
}

/* About the file itself: an error under CONFIG_STRICT. */
void
config_warn_file(struct config_reader *rd, int file, int line,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_vmsg(rd, (rd->flags & CONFIG_STRICT) != 0, file, line, fmt, ap);
	va_end(ap);
}

/* About this machine: the program fails when started, the rest runs. */
void
config_warn_machine(struct config_reader *rd, int file, int line,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_vmsg(rd, 0, file, line, fmt, ap);
	va_end(ap);
}

static int
config_msg_cmp(const void *a, const void *b)
{
	const struct config_msg *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* "line 3" in the same file, "other.conf:3" in another. */
char *
config_where(struct config_reader *rd, int from_file, int file, int line)
{
	char *s;

	if (file == from_file)
		xasprintf(&s, "line %d", line);
	else
		xasprintf(&s, "%s:%d", rd->files[file].path, line);
	return s;
}

void
diag_add(struct diag *d, int is_error, const char *fmt, ...)
{
	struct diag_msg *m;
	va_list ap;
	char *text;

	d->msgs = xreallocarray(d->msgs, d->n + 1, sizeof(*d->msgs));
	m = &d->msgs[d->n++];
	m->is_error = is_error;
	va_start(ap, fmt);
	xvasprintf(&text, fmt, ap);
	va_end(ap);
	/* a reload's reply and tendd's log carry it: text, whatever it quotes */
	m->text = utf8_dup(text, SIZE_MAX);
	free(text);
	if (is_error)
		d->nerrors++;
	else
		d->nwarnings++;
}

void
diag_clear(struct diag *d)
{
	int i;

	for (i = 0; i < d->n; i++)
		free(d->msgs[i].text);
	free(d->msgs);
	memset(d, 0, sizeof(*d));
}

void
config_unknown_key(struct config_reader *rd, const struct config_rawkey *k,
    const struct config_key *keys)
{
	const char *names[128], *suggestion;
	size_t n = 0;

	for (; keys->name != NULL && n < nitems(names) - 1; keys++)
		if (keys->type != CT_DERIVED)
			names[n++] = keys->name;
	names[n] = NULL;
	suggestion = expand_suggest(k->name, names);
	if (suggestion != NULL)
		config_warn_file(rd, k->file, k->line, "[%s] %s: unknown key; "
		    "did you mean %s?", k->section, k->written, suggestion);
	else
		config_warn_file(rd, k->file, k->line, "[%s] %s: unknown key; "
		    "ignored", k->section, k->written);
}

/*
 * Every key of SEC: expanded with VARS, read, shown to HOOK (which may
 * take a string by setting it to NULL), and stored into OBJ.
 */
/* K expanded with VARS and read as TYPE into *v; -1 after reporting. */
int
config_read_key(struct config_reader *rd, const struct config_rawkey *k,
    enum config_type type, const struct expand_vars *vars,
    union config_val *v)
{
	char *expanded, *why;

	if (expand_value(k->value, vars, &expanded, &why) == -1) {
		config_error(rd, k->file, k->line, "[%s] %s: %s", k->section,
		    k->written, why);
		free(why);
		return -1;
	}
	if (config_value_parse(rd, k, type, expanded, v, &why) == -1) {
		config_error(rd, k->file, k->line, "[%s] %s: %s", k->section,
		    k->written, why);
		free(why);
		free(expanded);
		return -1;
	}
	free(expanded);
	return 0;
}

static void
config_section_keys(struct config_reader *rd, struct config_rawsec *sec,
    const struct config_key *keys, const struct expand_vars *vars, void *obj,
    void (*hook)(struct config_reader *, const struct config_rawkey *,
    const struct config_key *, union config_val *, void *), void *hookarg)
{
	const struct config_key *kd;
	struct config_rawkey *k;
	struct expand_vars kv = *vars;
	union config_val v;
	int i;

	for (i = 0; i < sec->nkeys; i++) {
		k = &sec->keys[i];
		kd = config_keys_find(keys, k->name);
		if (kd == NULL) {
			config_unknown_key(rd, k, keys);
			continue;
		}
		/* Read once per program, before its processes. */
		if (kd->type == CT_NUMPROCS || kd->type == CT_NUMSTART)
			continue;
		if (kd->type == CT_UNSUPPORTED) {
			config_warn_file(rd, k->file, k->line, "[%s] %s: not "
			    "supported by tend; ignored", k->section,
			    k->written);
			continue;
		}
		/* A section may be merged from several files. */
		kv.here = rd->files[k->file].here;
		if (config_read_key(rd, k, kd->type, &kv, &v) == -1)
			continue;
		if (hook != NULL)
			hook(rd, k, kd, &v, hookarg);
		config_keys_store(kd, obj, &v);
	}
}

/* ------------------------------------------------------------------ */
/* Sections                                                             */

static void
config_tend_hook(struct config_reader *rd, const struct config_rawkey *k,
    const struct config_key *kd, union config_val *v, void *arg)
{
	struct tend_conf *conf = arg;

	if (strcmp(kd->name, "socket") == 0)
		rd->tend_socket_line = k->line;
	else if (strcmp(kd->name, "socket_mode") == 0)
		rd->tend_mode_given = 1;
	else if (strcmp(kd->name, "socket_owner") == 0)
		rd->tend_owner_given = 1;
	else if (strcmp(kd->name, "directory") == 0)
		config_check_dir(rd, k, v->s, "");
	else if (strcmp(kd->name, "childlogdir") == 0)
		config_check_dir(rd, k, v->s, "");
	else if (strcmp(kd->name, "minfds") == 0)
		conf->minfds_set = 1;
	else if (strcmp(kd->name, "minprocs") == 0)
		conf->minprocs_set = 1;
}

static void
config_uhs_hook(struct config_reader *rd, const struct config_rawkey *k,
    const struct config_key *kd, union config_val *v, void *arg)
{
	if (strcmp(kd->name, "file") == 0) {
		free(rd->uhs_socket);
		rd->uhs_socket = v->s;
		v->s = NULL;
	} else if (strcmp(kd->name, "chmod") == 0)
		rd->uhs_mode = v->i;
	else if (strcmp(kd->name, "chown") == 0) {
		free(rd->uhs_owner);
		rd->uhs_owner = v->s;
		v->s = NULL;
	}
}

static void
config_inet_hook(struct config_reader *rd, const struct config_rawkey *k,
    const struct config_key *kd, union config_val *v, void *arg)
{
	if (strcmp(kd->name, "port") == 0) {
		rd->inet_file = k->file;
		rd->inet_line = k->line;
	}
}

/*
 * [inet_http_server] port = HOST:PORT: a control surface on the network
 * needs a password (spec section 9), unless only this machine reaches it.
 */
static void
config_check_inet(struct config_reader *rd, struct tend_conf *conf)
{
	const char *port = conf->inet_port, *colon;
	char *host;
	long n;
	char *end;

	if (port == NULL)
		return;
	colon = strrchr(port, ':');
	host = colon != NULL ? xstrndup(port, colon - port) : xstrdup("");
	n = strtol(colon != NULL ? colon + 1 : port, &end, 10);
	if (*end != '\0' || end == (colon != NULL ? colon + 1 : port) ||
	    n < 1 || n > 65535)
		config_error(rd, rd->inet_file, rd->inet_line,
		    "[inet_http_server] port: %s: expected HOST:PORT with "
		    "PORT from 1 to 65535", port);
	else if (!http_host_is_loopback(host) &&
	    conf->inet_password == NULL)
		config_error(rd, rd->inet_file, rd->inet_line,
		    "[inet_http_server] port: %s is reachable from other "
		    "machines: set username and password (or use 127.0.0.1)",
		    port);
	else if ((conf->inet_username == NULL) !=
	    (conf->inet_password == NULL))
		config_error(rd, rd->inet_file, rd->inet_line,
		    "[inet_http_server]: username and password go together");
	free(host);
}

/* What %(name)s means in a section of FILE; NULL and -1: undefined. */
void
config_expand_vars(struct config_reader *rd, struct expand_vars *vars,
    int file, const char *program, const char *group, int process_num,
    int numprocs)
{
	memset(vars, 0, sizeof(*vars));
	vars->here = rd->files[file].here;
	vars->program_name = program;
	vars->group_name = group;
	vars->process_num = process_num;
	vars->numprocs = numprocs;
}

/*
 * NULL when NAME may name a program, group or process (spec §1: UTF-8
 * without control characters, C1 included; and neither ':', '/' nor
 * blanks, which full names, globs and log file names need), else what
 * it must be.
 */
const char *
config_name_problem(const char *name)
{
	const unsigned char *p;

	if (!utf8_valid(name, strlen(name)))
		return "must be valid UTF-8";
	if (*name == '\0' || !utf8_printable(name))
		return "must be non-empty, without ':', '/', blanks or control "
		    "characters";
	for (p = (const unsigned char *)name; *p != '\0'; p++)
		if (*p == ':' || *p == '/' || isspace(*p))
			return "must be non-empty, without ':', '/', blanks or "
			    "control characters";
	return NULL;
}

struct config_rawkey *
config_sec_key(struct config_rawsec *sec, const char *name)
{
	int i;

	for (i = 0; i < sec->nkeys; i++)
		if (strcmp(sec->keys[i].name, name) == 0)
			return &sec->keys[i];
	return NULL;
}

struct program_conf *
config_program_new(const char *program, const char *group, const char *file,
    int line)
{
	struct program_conf *pc = xcalloc(1, sizeof(*pc));

	config_keys_defaults(config_keys_table(CONFIG_SEC_PROGRAM), pc);
	pc->program = xstrdup(program);
	free(pc->name);
	pc->name = xstrdup(program);
	pc->group = xstrdup(group);
	pc->file = xstrdup(file);
	pc->line = line;
	return pc;
}

void
config_program_free(struct program_conf *pc)
{
	if (pc == NULL)
		return;
	config_keys_free(config_keys_table(CONFIG_SEC_PROGRAM), pc);
	/* Not keys: what the process is, and what load derived from keys. */
	free(pc->program);
	free(pc->group);
	free(pc->file);
	strv_free(pc->argv);
	free(pc->path);
	strv_free(pc->env_file_env);
	probe_spec_free(pc->ready_probe);
	probe_spec_free(pc->health_probe);
	free(pc);
}

/* ------------------------------------------------------------------ */
/* [group:NAME]                                                         */

/* supervisord's list: names separated by commas (blanks allowed too). */
static void
config_group_programs(struct config_reader *rd, struct config_group *grp,
    const struct config_rawkey *k, const char *value)
{
	const char *p = value, *start;
	char *name;
	size_t n = 0;
	int i, dup;

	for (;;) {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p != '\0' && *p != ',' && !isspace((unsigned char)*p))
			p++;
		name = xstrndup(start, p - start);
		if (config_name_problem(name) != NULL) {
			config_error(rd, k->file, k->line, "[%s] %s: '%s' is "
			    "not a program name", k->section, k->written, name);
			grp->bad = 1;
			free(name);
			continue;
		}
		for (i = 0, dup = 0; i < (int)n; i++)
			if (strcmp(grp->programs[i], name) == 0)
				dup = 1;
		if (dup) {
			config_warn_file(rd, k->file, k->line, "[%s] %s: %s is "
			    "listed twice", k->section, k->written, name);
			free(name);
			continue;
		}
		grp->programs = xreallocarray(grp->programs, n + 2,
		    sizeof(char *));
		grp->programs[n++] = name;
		grp->programs[n] = NULL;
	}
	if (n == 0) {
		config_error(rd, k->file, k->line, "[%s] %s: no program "
		    "named (programs = a,b)", k->section, k->written);
		grp->bad = 1;
	}
}

static void
config_group(struct config_reader *rd, struct config_rawsec *sec)
{
	const char *name = sec->name + strlen("group:"), *problem;
	const struct config_key *keys = config_keys_table(CONFIG_SEC_GROUP);
	const struct config_key *kd;
	struct config_group *grp;
	struct config_rawkey *k;
	struct expand_vars vars;
	union config_val v;
	char *expanded, *why;
	int i;

	if ((problem = config_name_problem(name)) != NULL) {
		config_error(rd, sec->file, sec->line, "[%s]: a group name %s",
		    sec->label, problem);
		return;
	}
	rd->groups = xreallocarray(rd->groups, rd->ngroups + 1,
	    sizeof(*rd->groups));
	grp = &rd->groups[rd->ngroups++];
	memset(grp, 0, sizeof(*grp));
	grp->name = xstrdup(name);
	grp->label = xstrdup(sec->label);
	grp->file = sec->file;
	grp->line = sec->line;
	grp->priority = 999;

	for (i = 0; i < sec->nkeys; i++) {
		k = &sec->keys[i];
		kd = config_keys_find(keys, k->name);
		if (kd == NULL) {
			config_unknown_key(rd, k, keys);
			continue;
		}
		config_expand_vars(rd, &vars, k->file, NULL, name, -1, -1);
		if (strcmp(kd->name, "priority") == 0) {
			if (config_read_key(rd, k, CT_INT, &vars, &v) == 0)
				grp->priority = v.i;
			else
				grp->bad = 1;
			continue;
		}
		if (expand_value(k->value, &vars, &expanded, &why) == -1) {
			config_error(rd, k->file, k->line, "[%s] %s: %s",
			    k->section, k->written, why);
			free(why);
			grp->bad = 1;
			continue;
		}
		grp->programs_file = k->file;
		grp->programs_line = k->line;
		config_group_programs(rd, grp, k, expanded);
		free(expanded);
	}
	if (config_sec_key(sec, "programs") == NULL) {
		config_error(rd, sec->file, sec->line, "[%s] programs: missing "
		    "(a group lists its programs: programs = a,b)", sec->label);
		grp->bad = 1;
	}
}

/* ------------------------------------------------------------------ */
/* [program:NAME]                                                       */

/* The numprocs and numprocs_start of SEC (read without process_num). */
static int
config_program_count(struct config_reader *rd, struct config_rawsec *sec,
    const char *name, const char *group, int *numprocs, int *start)
{
	struct config_rawkey *knum, *kstart, *kname;
	struct expand_vars vars;
	union config_val v;
	int errors = rd->nerrors;

	*numprocs = 1;
	*start = 0;
	knum = config_sec_key(sec, "numprocs");
	kstart = config_sec_key(sec, "numprocs_start");
	kname = config_sec_key(sec, "process_name");
	if (knum != NULL) {
		config_expand_vars(rd, &vars, knum->file, name, group, -1, -1);
		if (config_read_key(rd, knum, CT_NUMPROCS, &vars, &v) == 0)
			*numprocs = v.i;
	}
	if (kstart != NULL) {
		config_expand_vars(rd, &vars, kstart->file, name, group, -1,
		    -1);
		if (config_read_key(rd, kstart, CT_NUMSTART, &vars, &v) == 0)
			*start = v.i;
	}
	if (rd->nerrors > errors)
		return -1;
	if ((long long)*start + *numprocs - 1 > INT_MAX) {
		config_error(rd, kstart->file, kstart->line, "[%s] %s: "
		    "numprocs_start + numprocs goes beyond %d", kstart->section,
		    kstart->written, INT_MAX);
		return -1;
	}
	/* tendctl scale (spec §12): its count while the file's holds */
	if (scale_numprocs(name, numprocs) && *numprocs > 1 &&
	    (kname == NULL || strstr(kname->value, "%(process_num)") ==
	    NULL)) {
		config_error(rd, sec->file, sec->line, "[%s]: %d processes "
		    "need a process_name with %%(process_num)s (such as "
		    "process_name = %%(program_name)s_%%(process_num)02d)",
		    sec->label, *numprocs);
		return -1;
	}
	/* As supervisord: N processes of one name cannot be told apart. */
	if (*numprocs > 1 && (kname == NULL ||
	    strstr(kname->value, "%(process_num)") == NULL)) {
		if (kname != NULL)
			config_error(rd, kname->file, kname->line, "[%s] %s: "
			    "with numprocs = %d it must contain "
			    "%%(process_num)s (such as "
			    "%%(program_name)s_%%(process_num)02d)",
			    kname->section, kname->written, *numprocs);
		else
			config_error(rd, knum->file, knum->line, "[%s] %s: %d "
			    "processes need a process_name with "
			    "%%(process_num)s (such as process_name = "
			    "%%(program_name)s_%%(process_num)02d)",
			    knum->section, knum->written, *numprocs);
		return -1;
	}
	return 0;
}

/*
 * ready and healthcheck as probe.c runs them, from the values as written
 * (checked when read: a failure here is only a value that was refused).
 */
static void
config_probes(struct config_reader *rd, struct program_conf *pc,
    struct config_rawsec *sec)
{
	enum probe_kind kind = PROBE_NONE;
	char *why = NULL;

	pc->ready = READY_NONE;
	if (pc->ready_spec != NULL && probe_spec_parse(pc->ready_spec,
	    PROBE_FOR_READY, &kind, &pc->ready_probe, &why) == 0)
		pc->ready = kind == PROBE_NOTIFY ? READY_NOTIFY :
		    kind == PROBE_NONE ? READY_NONE : READY_PROBE;
	free(why);
	why = NULL;
	if (pc->healthcheck != NULL)
		probe_spec_parse(pc->healthcheck, 0, &kind, &pc->health_probe,
		    &why);
	free(why);
	(void)rd;
	(void)sec;
}

/* spec §12: schedule is a cron expression, for jobs, never autostarted. */
static void
config_check_schedule(struct config_reader *rd, struct program_conf *pc,
    struct config_rawsec *sec)
{
	struct config_rawkey *k = config_sec_key(sec, "schedule");
	struct cron c;
	char *why = NULL;

	if (k == NULL || pc->schedule == NULL)
		return;
	if (cron_parse(pc->schedule, &c, &why) == -1) {
		config_error(rd, k->file, k->line, "[%s] %s: %s", k->section,
		    k->written, why);
		free(why);
	} else if (pc->daemon)
		config_error(rd, k->file, k->line, "[%s] %s: only for jobs "
		    "(daemon = false)", k->section, k->written);
	pc->autostart = 0;
}

/*
 * [eventlistener:NAME] (spec §10): a program whose stdin and stdout are
 * the protocol (listener.c), so its stdout is never logged nor merged
 * with stderr. The listener keys in a [program:] are warned about.
 */
static void
config_listener(struct config_reader *rd, struct program_conf *pc,
    struct config_rawsec *sec)
{
	static const char *const only[] = { "events", "buffer_size",
	    "result_handler" };
	struct config_rawkey *k;
	char *why = NULL;
	size_t i;

	pc->listener = strncmp(sec->name, "eventlistener:", 14) == 0;
	if (!pc->listener) {
		for (i = 0; i < nitems(only); i++)
			if ((k = config_sec_key(sec, only[i])) != NULL)
				config_warn_file(rd, k->file, k->line, "[%s] "
				    "%s: only for [eventlistener:]; ignored",
				    k->section, k->written);
		return;
	}
	k = config_sec_key(sec, "result_handler");
	if (k != NULL && strcmp(k->value,
	    "supervisor.dispatchers:default_handler") != 0)
		config_warn_file(rd, k->file, k->line, "[%s] %s: only "
		    "supervisord's default_handler (OK, FAIL) is supported; "
		    "ignored", k->section, k->written);
	k = config_sec_key(sec, "events");
	if (k == NULL || pc->events == NULL)
		config_error(rd, sec->file, sec->line, "[%s] events: missing "
		    "(a listener names the events it gets: events = "
		    "PROCESS_STATE)", sec->label);
	else if (sevent_parse_types(pc->events, &pc->events_mask,
	    &why) == -1) {
		config_error(rd, k->file, k->line, "[%s] %s: %s", k->section,
		    k->written, why);
		free(why);
	}
	if ((k = config_sec_key(sec, "redirect_stderr")) != NULL &&
	    pc->redirect_stderr)
		config_warn_file(rd, k->file, k->line, "[%s] %s: a listener's "
		    "stdout is the protocol; ignored", k->section, k->written);
	pc->redirect_stderr = 0;
	free(pc->stdout_logfile);
	pc->stdout_logfile = xstrdup("NONE");
}

/*
 * One process of SEC: every key expanded with its own process_num and
 * group, read, stored and checked. NULL after reporting an error.
 */
static struct program_conf *
config_process(struct config_reader *rd, struct tend_conf *conf,
    struct config_rawsec *sec, const struct config_group *grp, int num,
    int numprocs)
{
	const char *name = strchr(sec->name, ':') + 1;
	const char *group = grp != NULL ? grp->name : name;
	struct program_conf *pc;
	struct config_rawkey *k;
	struct expand_vars vars;
	char *why;
	int errors = rd->nerrors;

	pc = config_program_new(name, group, rd->files[sec->file].path,
	    sec->line);
	pc->process_num = num;
	pc->numprocs = numprocs;
	config_expand_vars(rd, &vars, sec->file, name, group, num, numprocs);
	config_section_keys(rd, sec, config_keys_table(CONFIG_SEC_PROGRAM),
	    &vars, pc, NULL, NULL);
	if (pc->stopasgroup)
		pc->killasgroup = 1;
	pc->group_priority = grp != NULL ? grp->priority : pc->priority;

	k = config_sec_key(sec, "command");
	if (k == NULL)
		config_error(rd, sec->file, sec->line, "[%s] command: missing "
		    "(every program needs one)", sec->label);
	else if (pc->command != NULL &&
	    expand_argv(pc->command, &pc->argv, &why) == -1) {
		config_error(rd, k->file, k->line, "[%s] command: %s",
		    k->section, why);
		free(why);
	}
	config_probes(rd, pc, sec);
	config_check_readiness(rd, pc, sec);
	config_check_sockets(rd, pc, sec);
	config_check_schedule(rd, pc, sec);
	config_listener(rd, pc, sec);
	if (rd->nerrors > errors) {
		config_program_free(pc);
		return NULL;
	}

	config_check_process(rd, conf, pc, sec);
	return pc;
}

static void
config_program(struct config_reader *rd, struct tend_conf *conf,
    struct config_rawsec *sec)
{
	const char *name = strchr(sec->name, ':') + 1, *problem;
	struct config_group **grps = NULL;
	struct program_conf *pc;
	int ngrps = 0, numprocs, start, g, n, i, j, errors = rd->nerrors;

	if ((problem = config_name_problem(name)) != NULL) {
		config_error(rd, sec->file, sec->line, "[%s]: a program name %s",
		    sec->label, problem);
		return;
	}
	/* In the [group:]s that list it, else in a group of its own name. */
	for (i = 0; i < rd->ngroups; i++) {
		for (j = 0; rd->groups[i].programs != NULL &&
		    rd->groups[i].programs[j] != NULL; j++) {
			if (strcmp(rd->groups[i].programs[j], name) == 0) {
				grps = xreallocarray(grps, ngrps + 1,
				    sizeof(*grps));
				grps[ngrps++] = &rd->groups[i];
				break;
			}
		}
	}
	if (config_program_count(rd, sec, name, ngrps > 0 ? grps[0]->name :
	    name, &numprocs, &start) == -1) {
		/* Still read the rest once, so every error shows at once. */
		rd->dedupe_from = rd->nmsgs;
		config_program_free(config_process(rd, conf, sec,
		    ngrps ? grps[0] : NULL, 0, 1));
		goto out;
	}
	if (conf->nprocs + (long long)numprocs * (ngrps ? ngrps : 1) >
	    CONFIG_PROCS_MAX) {
		config_error(rd, sec->file, sec->line, "[%s]: more than %d "
		    "processes in all", sec->label, CONFIG_PROCS_MAX);
		goto out;
	}
	if (numprocs == 0 && config_sec_key(sec, "command") == NULL)
		config_error(rd, sec->file, sec->line, "[%s] command: missing "
		    "(every program needs one)", sec->label);

	/* Copies of one program say the same things once. */
	rd->dedupe_from = rd->nmsgs;
	for (g = 0; g < (ngrps ? ngrps : 1); g++) {
		for (n = start; n < start + numprocs; n++) {
			pc = config_process(rd, conf, sec, ngrps ? grps[g] :
			    NULL, n, numprocs);
			if (pc == NULL)
				goto out;
			TAILQ_INSERT_TAIL(&conf->programs, pc, entry);
			conf->nprocs++;
		}
	}
out:
	rd->dedupe_from = -1;
	if (rd->nerrors == errors)
		conf->nprograms++;
	free(grps);
}


static const char *const config_prefixes[] = {
	"program", "group", "eventlistener", "fcgi-program", "rpcinterface",
	NULL
};
static const char *const config_plain[] = {
	"tend", "supervisord", "unix_http_server", "supervisorctl",
	"inet_http_server", "include", "program", "group", NULL
};

static void
config_other_section(struct config_reader *rd, struct config_rawsec *sec)
{
	const char *colon = strchr(sec->name, ':'), *suggestion;
	char *prefix;

	if (strncmp(sec->name, "rpcinterface:", 13) == 0 &&
	    strcmp(sec->name, "rpcinterface:supervisor") != 0) {
		config_warn_file(rd, sec->file, sec->line, "[%s]: not "
		    "supported by tend; the section is ignored", sec->label);
		return;
	}

	/* supervisorctl's own, and the interface tendd serves (spec 2) */
	if (strcmp(sec->name, "supervisorctl") == 0 ||
	    strcmp(sec->name, "rpcinterface:supervisor") == 0)
		return;
	if (colon != NULL) {
		prefix = xstrndup(sec->name, colon - sec->name);
		suggestion = expand_suggest(prefix, config_prefixes);
		free(prefix);
		if (suggestion != NULL) {
			config_warn_file(rd, sec->file, sec->line, "[%s]: "
			    "unknown section; did you mean [%s%s]?",
			    sec->label, suggestion, colon);
			return;
		}
	} else {
		suggestion = expand_suggest(sec->name, config_plain);
		if (suggestion != NULL) {
			config_warn_file(rd, sec->file, sec->line, "[%s]: "
			    "unknown section; did you mean [%s%s]?",
			    sec->label, suggestion,
			    strcmp(suggestion, "program") == 0 ||
			    strcmp(suggestion, "group") == 0 ? ":NAME" : "");
			return;
		}
	}
	config_warn_file(rd, sec->file, sec->line, "[%s]: unknown section; "
	    "ignored", sec->label);
}

/* ------------------------------------------------------------------ */
/* The object                                                           */

static struct tend_conf *
config_new(const char *file)
{
	struct tend_conf *conf = xcalloc(1, sizeof(*conf));
	char *cwd = getcwd(NULL, 0);

	conf->file = expand_path(cwd, file);
	free(cwd);
	config_keys_defaults(config_keys_table(CONFIG_SEC_TEND), conf);
	TAILQ_INIT(&conf->programs);
	return conf;
}

void
config_free(struct tend_conf *conf)
{
	struct program_conf *pc;

	if (conf == NULL)
		return;
	while ((pc = TAILQ_FIRST(&conf->programs)) != NULL) {
		TAILQ_REMOVE(&conf->programs, pc, entry);
		config_program_free(pc);
	}
	config_keys_free(config_keys_table(CONFIG_SEC_TEND), conf);
	config_keys_free(config_keys_table(CONFIG_SEC_UHS), conf);
	config_keys_free(config_keys_table(CONFIG_SEC_INET), conf);
	free(conf->file);
	free(conf);
}

static void
config_reader_free(struct config_reader *rd)
{
	int i, j;

	for (i = 0; i < rd->nsecs; i++) {
		for (j = 0; j < rd->secs[i].nkeys; j++) {
			free(rd->secs[i].keys[j].name);
			free(rd->secs[i].keys[j].written);
			free(rd->secs[i].keys[j].value);
			free(rd->secs[i].keys[j].section);
		}
		free(rd->secs[i].keys);
		free(rd->secs[i].name);
		free(rd->secs[i].label);
	}
	free(rd->secs);
	for (i = 0; i < rd->nmsgs; i++)
		free(rd->msgs[i].text);
	free(rd->msgs);
	for (i = 0; i < rd->nfiles; i++) {
		free(rd->files[i].path);
		free(rd->files[i].here);
	}
	free(rd->files);
	for (i = 0; i < rd->ngroups; i++) {
		free(rd->groups[i].name);
		free(rd->groups[i].label);
		strv_free(rd->groups[i].programs);
	}
	free(rd->groups);
	free(rd->uhs_socket);
	free(rd->uhs_owner);
}

struct tend_conf *
config_load(const char *file, int flags, struct diag *d)
{
	struct config_reader rd;
	struct tend_conf *conf;
	struct expand_vars vars;
	int i, pass;

	memset(&rd, 0, sizeof(rd));
	rd.flags = flags;
	rd.cur = -1;
	rd.curfile = -1;
	rd.uhs_mode = -1;
	rd.dedupe_from = -1;
	if (config_file_read(&rd, file, -1, NULL) == -1) {
		for (i = 0; i < rd.nmsgs; i++)
			diag_add(d, 1, "%s", rd.msgs[i].text);
		config_reader_free(&rd);
		return NULL;
	}

	conf = config_new(file);
	/* The daemon's sections and groups first: programs need them. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < rd.nsecs; i++) {
			struct config_rawsec *sec = &rd.secs[i];
			int is_program = strncmp(sec->name, "program:", 8) == 0 ||
			    strncmp(sec->name, "eventlistener:", 14) == 0;
			int is_group = strncmp(sec->name, "group:", 6) == 0;

			config_expand_vars(&rd, &vars, sec->file, NULL, NULL,
			    -1, -1);
			if (pass == 0 && strcmp(sec->name, "tend") == 0)
				config_section_keys(&rd, sec,
				    config_keys_table(CONFIG_SEC_TEND), &vars,
				    conf, config_tend_hook, conf);
			else if (pass == 0 &&
			    strcmp(sec->name, "unix_http_server") == 0)
				config_section_keys(&rd, sec,
				    config_keys_table(CONFIG_SEC_UHS), &vars,
				    conf, config_uhs_hook, NULL);
			else if (pass == 0 &&
			    strcmp(sec->name, "inet_http_server") == 0)
				config_section_keys(&rd, sec,
				    config_keys_table(CONFIG_SEC_INET), &vars,
				    conf, config_inet_hook, NULL);
			else if (pass == 0 && is_group)
				config_group(&rd, sec);
			else if (pass == 1 && is_program)
				config_program(&rd, conf, sec);
			else if (pass == 1 && !is_group &&
			    strcmp(sec->name, "tend") != 0 &&
			    strcmp(sec->name, "unix_http_server") != 0 &&
			    strcmp(sec->name, "inet_http_server") != 0 &&
			    strcmp(sec->name, "include") != 0)
				config_other_section(&rd, sec);
		}
		if (pass == 0)
			config_check_groups(&rd);
	}
	config_check_names(&rd, conf);
	/* only a whole config can say what a name is not */
	if (rd.nerrors == 0)
		config_check_depends(&rd, conf);
	conf->proc_fds = config_proc_fds(conf);
	config_check_fds(&rd, conf);
	config_check_inet(&rd, conf);

	/* [tend] says first; supervisord's [unix_http_server] otherwise. */
	if (rd.tend_socket_line == 0 && rd.uhs_socket != NULL) {
		free(conf->socket);
		conf->socket = rd.uhs_socket;
		rd.uhs_socket = NULL;
	}
	if (conf->socket == NULL)
		conf->socket = protocol_default_socket();
	if (!rd.tend_mode_given && rd.uhs_mode != -1)
		conf->socket_mode = rd.uhs_mode;
	if (!rd.tend_owner_given && rd.uhs_owner != NULL) {
		conf->socket_owner = rd.uhs_owner;
		rd.uhs_owner = NULL;
	}

	if (rd.nmsgs > 0)
		qsort(rd.msgs, rd.nmsgs, sizeof(*rd.msgs), config_msg_cmp);
	for (i = 0; i < rd.nmsgs; i++)
		diag_add(d, rd.msgs[i].is_error, "%s", rd.msgs[i].text);
	if (rd.nerrors > 0) {
		config_free(conf);
		conf = NULL;
	}
	config_reader_free(&rd);
	return conf;
}
int
config_exitcode_expected(const struct program_conf *pc, int code)
{
	if (code < 0 || code > 255)
		return 0;
	return (pc->exitcodes[code / 8] >> (code % 8)) & 1;
}

