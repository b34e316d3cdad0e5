/*
 * config.c: owns the config object (tendd.h). The file and the files its
 * [include]s name are read through ini.c into raw sections first (so
 * duplicates and unknown names can be judged with every line known), then
 * each [program:] is expanded once per process (numprocs, and once per
 * [group:] listing it), each key read as its type and stored, and the
 * whole object is checked. Every problem is collected and reported,
 * sorted by file and line, so that one --check shows all of them; only
 * errors make the object unusable.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "expand.h"
#include "ini.h"
#include "tendd.h"
#include "utf8.h"

/* sizeof(sockaddr_un.sun_path) - 1: longer paths cannot be bound. */
#define CONFIG_SOCKET_MAX	107
/* Durations above this (about 31 years) are typos. */
#define CONFIG_SECS_MAX		1e9
#define CONFIG_DEFAULT_PATH	"/usr/local/bin:/usr/bin:/bin"
/* numprocs and the processes of a whole config: beyond is a typo or worse. */
#define CONFIG_NUMPROCS_MAX	10000
#define CONFIG_PROCS_MAX	50000
/* [include]s within [include]s, and files in all. */
#define CONFIG_INCLUDE_DEPTH	32
#define CONFIG_FILES_MAX	4096
/* An env_file bigger than this is not an env file. */
#define CONFIG_ENV_FILE_MAX	(4 * 1024 * 1024)
/* supervisord's defaults for [supervisord] minfds and minprocs. */
#define CONFIG_MINFDS		1024
#define CONFIG_MINPROCS		200

/* One file read: the main one first, then the includes in read order. */
struct config_file {
	char		*path;		/* as messages name it */
	char		*here;		/* its directory: %(here)s, paths */
	dev_t		 dev;
	ino_t		 ino;
	int		 parent;	/* the file including it; -1: main */
	int		 parent_line;	/* of the [include] files = there */
	int		 reading;	/* being read: including it is a loop */
};

struct config_rawkey {
	char		*name;		/* lower case: keys are case-insensitive */
	char		*written;	/* as written (the last time), for messages */
	char		*value;
	char		*section;	/* the header as written, for messages */
	int		 file;
	int		 line;
};

/* A section as read; [tend] and [supervisord] are one. */
struct config_rawsec {
	char		*name;
	char		*label;		/* first header as written */
	int		 file;
	int		 line;
	struct config_rawkey *keys;
	int		 nkeys;
};

struct config_msg {
	int		 file;
	int		 line;
	int		 seq;
	int		 is_error;
	char		*text;
};

/* A [group:NAME] section, read before the programs it lists. */
struct config_group {
	char		*name;
	char		*label;
	int		 file;
	int		 line;
	char		**programs;	/* NULL-terminated */
	int		 programs_file;
	int		 programs_line;
	int		 priority;
	int		 bad;		/* an error was reported */
};

struct config_reader {
	int		 flags;

	struct config_file *files;
	int		 nfiles;
	int		 curfile;	/* being read */

	struct config_rawsec *secs;
	int		 nsecs;
	int		 cur;		/* section keys go to; -1: none yet */

	struct config_msg *msgs;
	int		 nmsgs;
	int		 nerrors;
	int		 dedupe_from;	/* -1, or no repeats from here on */

	struct config_group *groups;
	int		 ngroups;

	/* [unix_http_server]: used where [tend] says nothing. */
	char		*uhs_socket;
	int		 uhs_mode;	/* -1: not given */
	char		*uhs_owner;
	int		 tend_socket_line;	/* 0: [tend] socket not given */
	int		 tend_mode_given;
	int		 tend_owner_given;
};

enum config_type {
	CT_STRING,	/* non-empty text */
	CT_ANY,		/* any text, not stored */
	CT_BOOL,
	CT_UINT,	/* 0 .. INT_MAX */
	CT_INT,
	CT_SECS,	/* non-negative seconds, fractions allowed */
	CT_OCTAL,	/* umask: 0 .. 0777 */
	CT_MODE,	/* permissions: 0 .. 07777 */
	CT_SIZE,	/* bytes, with KB, MB, GB */
	CT_PATH,	/* made absolute */
	CT_SOCKET,	/* a path short enough to bind */
	CT_OWNER,	/* user or user:group */
	CT_USER,
	CT_DAEMON_USER,	/* supervisord's user=: fine when it is ours */
	CT_SIGNAL,
	CT_EXITCODES,
	CT_ENV,
	CT_LOGLEVEL,
	CT_LOGFILE,	/* tendd's own: stderr, journal, auto or a path */
	CT_CHILDLOG,	/* a child's: AUTO, NONE, journal, syslog or a path */
	CT_AUTORESTART,
	CT_RETRIES,	/* a count or infinite */
	CT_COMMAND,
	CT_READY,
	CT_RLIMIT,
	CT_NUMPROCS,	/* 0 .. CONFIG_NUMPROCS_MAX */
	CT_NUMSTART,	/* numprocs_start: 0 .. INT_MAX */
	CT_NAME,	/* a process name: no ':', '/', blanks */
	CT_UNSUPPORTED,	/* supervisord's, not tend's: warned about */
};

#define CONFIG_NOWHERE	((size_t)-1)

struct config_key {
	const char	*name;
	enum config_type type;
	size_t		 off;		/* in the section's object */
};

#define TK(n, t, f)	{ n, t, offsetof(struct tend_conf, f) }
#define PK(n, t, f)	{ n, t, offsetof(struct program_conf, f) }
#define NK(n, t)	{ n, t, CONFIG_NOWHERE }

static const struct config_key config_tend_keys[] = {
	TK("socket", CT_SOCKET, socket),
	TK("socket_mode", CT_MODE, socket_mode),
	TK("socket_owner", CT_OWNER, socket_owner),
	TK("loglevel", CT_LOGLEVEL, loglevel),
	TK("logfile", CT_LOGFILE, logfile),
	TK("childlogdir", CT_PATH, childlogdir),
	TK("pidfile", CT_PATH, pidfile),
	TK("identifier", CT_STRING, identifier),
	TK("umask", CT_OCTAL, umask),
	TK("directory", CT_PATH, directory),
	TK("environment", CT_ENV, environment),
	TK("client_timeout", CT_SECS, client_timeout),
	NK("nodaemon", CT_BOOL),
	TK("logfile_maxbytes", CT_SIZE, logfile_maxbytes),
	TK("logfile_backups", CT_UINT, logfile_backups),
	TK("minfds", CT_UINT, minfds),
	TK("minprocs", CT_UINT, minprocs),
	NK("silent", CT_UNSUPPORTED),
	TK("nocleanup", CT_BOOL, nocleanup),
	NK("strip_ansi", CT_UNSUPPORTED),
	NK("user", CT_DAEMON_USER),
	{ NULL, CT_ANY, CONFIG_NOWHERE }
};

/* Stored in struct config_reader, so no offsets: see config_uhs(). */
static const struct config_key config_uhs_keys[] = {
	NK("file", CT_SOCKET),
	NK("chmod", CT_MODE),
	NK("chown", CT_OWNER),
	NK("username", CT_UNSUPPORTED),
	NK("password", CT_UNSUPPORTED),
	{ NULL, CT_ANY, CONFIG_NOWHERE }
};

static const struct config_key config_program_keys[] = {
	PK("command", CT_COMMAND, command),
	PK("autostart", CT_BOOL, autostart),
	PK("autorestart", CT_AUTORESTART, autorestart),
	PK("startsecs", CT_SECS, startsecs),
	PK("startretries", CT_RETRIES, startretries),
	PK("exitcodes", CT_EXITCODES, exitcodes),
	PK("stopsignal", CT_SIGNAL, stopsignal),
	PK("stopwaitsecs", CT_SECS, stopwaitsecs),
	PK("stopasgroup", CT_BOOL, stopasgroup),
	PK("killasgroup", CT_BOOL, killasgroup),
	PK("directory", CT_PATH, directory),
	PK("umask", CT_OCTAL, umask),
	PK("user", CT_USER, user),
	PK("environment", CT_ENV, environment),
	PK("priority", CT_INT, priority),
	PK("daemon", CT_BOOL, daemon),
	PK("joinsecs", CT_SECS, joinsecs),
	PK("restart_delay", CT_SECS, restart_delay),
	PK("backoff_max", CT_SECS, backoff_max),
	PK("backoff_reset", CT_SECS, backoff_reset),
	PK("critical", CT_BOOL, critical),
	PK("process_name", CT_NAME, name),
	PK("env_file", CT_PATH, env_file),
	PK("rlimit_nofile", CT_RLIMIT, rlimit_nofile),
	PK("rlimit_core", CT_RLIMIT, rlimit_core),
	PK("ready", CT_READY, ready),
	PK("ready_timeout", CT_SECS, ready_timeout),
	PK("watchdog_secs", CT_SECS, watchdog_secs),
	PK("pidfile", CT_PATH, pidfile),
	/* Read once per program, before its processes: config_program(). */
	NK("numprocs", CT_NUMPROCS),
	NK("numprocs_start", CT_NUMSTART),
	PK("redirect_stderr", CT_BOOL, redirect_stderr),
	PK("stdout_logfile", CT_CHILDLOG, stdout_logfile),
	PK("stdout_logfile_maxbytes", CT_SIZE, stdout_maxbytes),
	PK("stdout_logfile_backups", CT_UINT, stdout_backups),
	PK("stderr_logfile", CT_CHILDLOG, stderr_logfile),
	PK("stderr_logfile_maxbytes", CT_SIZE, stderr_maxbytes),
	PK("stderr_logfile_backups", CT_UINT, stderr_backups),
	PK("log_timestamps", CT_BOOL, log_timestamps),
	/* Read and checked now, used by later work. */
	NK("stdout_capture_maxbytes", CT_SIZE),
	NK("stderr_capture_maxbytes", CT_SIZE),
	NK("stdout_events_enabled", CT_BOOL),
	NK("stderr_events_enabled", CT_BOOL),
	NK("stdout_syslog", CT_BOOL),
	NK("stderr_syslog", CT_BOOL),
	NK("serverurl", CT_ANY),
	{ NULL, CT_ANY, CONFIG_NOWHERE }
};

/* [group:NAME] and [include]: read by config_group(), config_include(). */
static const struct config_key config_group_keys[] = {
	NK("programs", CT_ANY),
	NK("priority", CT_INT),
	{ NULL, CT_ANY, CONFIG_NOWHERE }
};
static const struct config_key config_include_keys[] = {
	NK("files", CT_ANY),
	{ NULL, CT_ANY, CONFIG_NOWHERE }
};

/* What a value reads as, before it is stored. */
union config_val {
	int		 i;
	long long	 ll;
	double		 d;
	char		*s;
	char		**v;
	uint8_t		 codes[32];
};

static const char *config_name_problem(const char *);

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

static void config_error(struct config_reader *, int, int, const char *, ...)
    __attribute__((format(printf, 4, 5)));
static void config_warn_file(struct config_reader *, int, int, const char *,
    ...) __attribute__((format(printf, 4, 5)));
static void config_warn_machine(struct config_reader *, int, int,
    const char *, ...) __attribute__((format(printf, 4, 5)));

static void
config_error(struct config_reader *rd, int file, int line, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_vmsg(rd, 1, file, line, fmt, ap);
	va_end(ap);
}

/* About the file itself: an error under CONFIG_STRICT. */
static void
config_warn_file(struct config_reader *rd, int file, int line,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_vmsg(rd, (rd->flags & CONFIG_STRICT) != 0, file, line, fmt, ap);
	va_end(ap);
}

/* About this machine: the program fails when started, the rest runs. */
static void
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
static char *
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

/* ------------------------------------------------------------------ */
/* Reading the raw sections                                             */

static void
config_lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = tolower((unsigned char)*s);
}

/* [include] is read per file (each file's names files beside it). */
static int
config_section_per_file(const char *name)
{
	return strcmp(name, "include") == 0;
}

static struct config_rawsec *
config_find_section(struct config_reader *rd, const char *name, int file)
{
	int i;

	for (i = 0; i < rd->nsecs; i++)
		if (strcmp(rd->secs[i].name, name) == 0 &&
		    (!config_section_per_file(name) ||
		    rd->secs[i].file == file))
			return &rd->secs[i];
	return NULL;
}

static void
config_ini_section(struct config_reader *rd, const char *section, int line)
{
	struct config_rawsec *sec;
	const char *name = section;
	char *where;

	/* supervisord's own section is ours under its old name. */
	if (strcmp(name, "supervisord") == 0)
		name = "tend";
	sec = config_find_section(rd, name, rd->curfile);
	if (sec != NULL) {
		if (strcmp(sec->label, section) == 0) {
			where = config_where(rd, rd->curfile, sec->file,
			    sec->line);
			config_warn_file(rd, rd->curfile, line, "[%s]: the "
			    "section is also at %s; the two are read as one",
			    section, where);
			free(where);
		}
	} else {
		rd->secs = xreallocarray(rd->secs, rd->nsecs + 1,
		    sizeof(*rd->secs));
		sec = &rd->secs[rd->nsecs++];
		memset(sec, 0, sizeof(*sec));
		sec->name = xstrdup(name);
		sec->label = xstrdup(section);
		sec->file = rd->curfile;
		sec->line = line;
	}
	rd->cur = sec - rd->secs;
}

static void
config_ini_entry(void *arg, const char *section, const char *key,
    const char *value, int line)
{
	struct config_reader *rd = arg;
	struct config_rawsec *sec;
	struct config_rawkey *k;
	char *lower, *where;
	int i;

	if (key == NULL) {
		config_ini_section(rd, section, line);
		return;
	}
	if (rd->cur == -1) {
		config_error(rd, rd->curfile, line, "%s: not in any section (a "
		    "[section] header must come first)", key);
		return;
	}
	sec = &rd->secs[rd->cur];
	lower = xstrdup(key);
	config_lower(lower);

	for (i = 0; i < sec->nkeys; i++) {
		k = &sec->keys[i];
		if (strcmp(k->name, lower) != 0)
			continue;
		where = config_where(rd, rd->curfile, k->file, k->line);
		config_warn_file(rd, rd->curfile, line, "[%s] %s: given twice "
		    "(also at %s); the last one is used", section, key, where);
		free(where);
		free(k->value);
		free(k->section);
		free(k->written);
		k->written = xstrdup(key);
		k->value = xstrdup(value);
		k->section = xstrdup(section);
		k->file = rd->curfile;
		k->line = line;
		free(lower);
		return;
	}
	sec->keys = xreallocarray(sec->keys, sec->nkeys + 1,
	    sizeof(*sec->keys));
	k = &sec->keys[sec->nkeys++];
	k->name = lower;
	k->written = xstrdup(key);
	k->value = xstrdup(value);
	k->section = xstrdup(section);
	k->file = rd->curfile;
	k->line = line;
}

static void
config_ini_error(void *arg, int line, const char *what)
{
	struct config_reader *rd = arg;

	config_error(rd, rd->curfile, line, "syntax error: %s", what);
}

/* ------------------------------------------------------------------ */
/* Values                                                               */

/* Which types read into v->s (the others must not free it). */
static int
config_type_is_string(enum config_type type)
{
	switch (type) {
	case CT_STRING:
	case CT_USER:
	case CT_OWNER:
	case CT_COMMAND:
	case CT_LOGFILE:
	case CT_CHILDLOG:
	case CT_PATH:
	case CT_SOCKET:
	case CT_NAME:
		return 1;
	default:
		return 0;
	}
}

static const char *
config_trim(const char *s, char **copy)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	*copy = xstrndup(s, n);
	return *copy;
}

static int
config_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	size_t i;

	for (i = 0; i < nitems(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/* Decimal integer within [MIN, MAX]; *why on failure. */
static int
config_parse_int(const char *s, long long min, long long max, int *out,
    char **why)
{
	const char *p = s;
	long long v = 0;

	if (*p == '-' || *p == '+')
		p++;
	if (!isdigit((unsigned char)*p)) {
		xasprintf(why, "expected a whole number, got '%s'", s);
		return -1;
	}
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (*p - '0');
		if (v > (long long)INT_MAX + 1)
			break;
	}
	if (*p != '\0' && !isdigit((unsigned char)*p)) {
		xasprintf(why, "expected a whole number, got '%s'", s);
		return -1;
	}
	if (*s == '-')
		v = -v;
	if (v < min || v > max || isdigit((unsigned char)*p)) {
		xasprintf(why, "%s is out of range (%lld to %lld)", s, min,
		    max);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int
config_parse_secs(const char *s, double *out, char **why)
{
	const char *p = s;
	int digits = 0;

	while (isdigit((unsigned char)*p)) {
		p++;
		digits++;
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			p++;
			digits++;
		}
	}
	if (digits == 0 || *p != '\0') {
		xasprintf(why, "expected a number of seconds (such as 5 or "
		    "0.5), got '%s'", s);
		return -1;
	}
	*out = strtod(s, NULL);
	if (*out > CONFIG_SECS_MAX) {
		xasprintf(why, "%s seconds is too long (at most %.0f)", s,
		    CONFIG_SECS_MAX);
		return -1;
	}
	return 0;
}

static int
config_parse_octal(const char *s, int max, int *out, char **why)
{
	const char *p = s;
	long v = 0;

	if (strncasecmp(p, "0o", 2) == 0)
		p += 2;
	if (*p == '\0') {
		xasprintf(why, "expected an octal number, got '%s'", s);
		return -1;
	}
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '7') {
			xasprintf(why, "expected an octal number (such as "
			    "022), got '%s'", s);
			return -1;
		}
		v = v * 8 + (*p - '0');
		if (v > max) {
			xasprintf(why, "%s is out of range (at most 0%o)", s,
			    max);
			return -1;
		}
	}
	*out = (int)v;
	return 0;
}

/* supervisord's byte_size: a number with an optional KB, MB or GB. */
static int
config_parse_size(const char *s, long long *out, char **why)
{
	const char *p = s;
	unsigned long long v = 0, mult = 1;

	if (!isdigit((unsigned char)*p))
		goto bad;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (*p - '0');
		if (v > (1ULL << 50))
			goto big;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (strcasecmp(p, "KB") == 0)
		mult = 1024;
	else if (strcasecmp(p, "MB") == 0)
		mult = 1024 * 1024;
	else if (strcasecmp(p, "GB") == 0)
		mult = 1024 * 1024 * 1024;
	else if (strcasecmp(p, "B") != 0 && *p != '\0')
		goto bad;
	if (v > (1ULL << 62) / mult)
		goto big;
	*out = (long long)(v * mult);
	return 0;
bad:
	xasprintf(why, "expected a size (such as 50MB, 1024KB or 0), got "
	    "'%s'", s);
	return -1;
big:
	xasprintf(why, "%s is too large", s);
	return -1;
}

static int
config_parse_exitcodes(const char *s, uint8_t codes[32], char **why)
{
	const char *p = s, *end;
	char *item, *copy, *err = NULL;
	int code;

	memset(codes, 0, 32);
	for (;;) {
		end = strchr(p, ',');
		item = xstrndup(p, end == NULL ? strlen(p) : (size_t)(end - p));
		config_trim(item, &copy);
		free(item);
		if (*copy == '\0') {
			free(copy);
			xasprintf(why, "expected a comma-separated list of exit "
			    "codes (such as 0,2), got '%s'", s);
			return -1;
		}
		if (config_parse_int(copy, 0, 255, &code, &err) == -1) {
			xasprintf(why, "exit codes are 0 to 255: %s", err);
			free(err);
			free(copy);
			return -1;
		}
		free(copy);
		codes[code / 8] |= 1 << (code % 8);
		if (end == NULL)
			break;
		p = end + 1;
	}
	return 0;
}

static void
config_env_set(char ***envp, const char *key, size_t keylen,
    const char *value)
{
	char **env = *envp;
	size_t i, n = strv_len(env);
	char *kv;

	xasprintf(&kv, "%.*s=%s", (int)keylen, key, value);
	for (i = 0; i < n; i++) {
		if (strncmp(env[i], key, keylen) == 0 && env[i][keylen] == '=') {
			free(env[i]);
			env[i] = kv;
			return;
		}
	}
	env = xreallocarray(env, n + 2, sizeof(*env));
	env[n] = kv;
	env[n + 1] = NULL;
	*envp = env;
}

/*
 * supervisord's environment: KEY=VALUE pairs separated by commas; a value
 * may be quoted ('...' literal, "..." with \" and \\) to hold commas.
 * A line break (a continuation line) separates pairs too, so a list can
 * be written one pair a line with or without the commas.
 */
static int
config_parse_env(const char *s, char ***out, char **why)
{
	const char *p = s, *key, *open;
	char **env = NULL;
	char *value = NULL, *quote;
	size_t keylen, len, keep;

	for (;;) {
		while (isspace((unsigned char)*p) || *p == ',')
			p++;
		if (*p == '\0')
			break;
		key = p;
		while (*p != '\0' && *p != '=' && *p != ',' && *p != '"' &&
		    *p != '\'' && !isspace((unsigned char)*p) &&
		    !iscntrl((unsigned char)*p))
			p++;
		keylen = p - key;
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '=' || keylen == 0) {
			quote = utf8_dup(key, 20);
			xasprintf(why, "expected KEY=VALUE pairs separated by "
			    "commas, at '%s'", quote);
			free(quote);
			goto fail;
		}
		p++;
		while (isspace((unsigned char)*p))
			p++;

		value = xstrdup("");
		len = keep = 0;
		while (*p != '\0' && *p != ',' && *p != '\n') {
			value = xrealloc(value, len + strlen(p) + 1);
			if (*p == '\'' || *p == '"') {
				open = p;
				for (p++; *p != *open; p++) {
					if (*p == '\0') {
						xasprintf(why, "unterminated "
						    "quote in the value of "
						    "%.*s", (int)keylen, key);
						goto fail;
					}
					if (*open == '"' && *p == '\\' &&
					    (p[1] == '"' || p[1] == '\\'))
						p++;
					value[len++] = *p;
				}
				p++;
				keep = len;
			} else
				value[len++] = *p++;
		}
		/* Blanks before the comma are not part of the value. */
		while (len > keep && isspace((unsigned char)value[len - 1]))
			len--;
		value[len] = '\0';
		config_env_set(&env, key, keylen, value);
		free(value);
		value = NULL;
	}
	*out = env;
	return 0;

fail:
	free(value);
	strv_free(env);
	return -1;
}

static int
config_parse_loglevel(const char *s, enum loglevel *out)
{
	static const struct {
		const char	*name;
		enum loglevel	 level;
	} levels[] = {
		{ "error", LOG_LEVEL_ERROR }, { "critical", LOG_LEVEL_ERROR },
		{ "warn", LOG_LEVEL_WARN }, { "warning", LOG_LEVEL_WARN },
		{ "info", LOG_LEVEL_INFO }, { "debug", LOG_LEVEL_DEBUG },
		{ "trace", LOG_LEVEL_DEBUG }, { "blather", LOG_LEVEL_DEBUG },
	};
	size_t i;

	for (i = 0; i < nitems(levels); i++) {
		if (strcasecmp(s, levels[i].name) == 0) {
			*out = levels[i].level;
			return 0;
		}
	}
	return -1;
}

static int
config_parse_autorestart(const char *s, enum autorestart *out)
{
	int b;

	if (strcasecmp(s, "unexpected") == 0) {
		*out = AUTORESTART_UNEXPECTED;
		return 0;
	}
	if (config_parse_bool(s, &b) == -1)
		return -1;
	*out = b ? AUTORESTART_TRUE : AUTORESTART_FALSE;
	return 0;
}

/* An owner: a known user, or user:group. Only warnings: it is the machine. */
static void
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
static void
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

static void
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
static void
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
 * Reads K's expanded VALUE as TYPE into *v. Returns 0, or -1 with *why.
 * Problems of the machine are warned about here and are not failures.
 */
static int
config_parse(struct config_reader *rd, const struct config_rawkey *k,
    enum config_type type, const char *value, union config_val *v,
    char **why)
{
	char *copy;
	const char *s, *slash, *problem;
	int ret = 0;

	memset(v, 0, sizeof(*v));
	/* Numbers and words may come with blanks from an expansion. */
	s = config_trim(value, &copy);

	switch (type) {
	case CT_ANY:
	case CT_UNSUPPORTED:
		break;
	case CT_STRING:
	case CT_USER:
	case CT_OWNER:
		if (*s == '\0') {
			xasprintf(why, "empty value");
			ret = -1;
			break;
		}
		v->s = xstrdup(s);
		if (type == CT_OWNER)
			config_check_owner(rd, k, s);
		break;
	case CT_DAEMON_USER:
		config_check_daemon_user(rd, k, s);
		break;
	case CT_BOOL:
		if (config_parse_bool(s, &v->i) == -1) {
			xasprintf(why, "expected true or false, got '%s'", s);
			ret = -1;
		}
		break;
	case CT_UINT:
	case CT_NUMSTART:
		ret = config_parse_int(s, 0, INT_MAX, &v->i, why);
		break;
	case CT_INT:
		ret = config_parse_int(s, INT_MIN, INT_MAX, &v->i, why);
		break;
	case CT_NUMPROCS:
		ret = config_parse_int(s, 0, CONFIG_NUMPROCS_MAX, &v->i, why);
		break;
	case CT_NAME:
		/* after expansion: %(ENV_X)s cannot smuggle a bad name in */
		if ((problem = config_name_problem(s)) != NULL) {
			xasprintf(why, "'%s' is not a valid process name: it "
			    "%s", s, problem);
			ret = -1;
			break;
		}
		v->s = xstrdup(s);
		break;
	case CT_RETRIES:
		if (strcasecmp(s, "infinite") == 0)
			v->i = -1;
		else
			ret = config_parse_int(s, 0, INT_MAX, &v->i, why);
		break;
	case CT_RLIMIT:
		if (strcasecmp(s, "infinity") == 0 ||
		    strcasecmp(s, "unlimited") == 0) {
			v->ll = CONFIG_RLIMIT_INFINITY;
			break;
		}
		if (config_parse_size(s, &v->ll, why) == -1) {
			free(*why);
			xasprintf(why, "expected a number, a size or "
			    "unlimited, got '%s'", s);
			ret = -1;
		}
		break;
	case CT_SECS:
		ret = config_parse_secs(s, &v->d, why);
		break;
	case CT_OCTAL:
		ret = config_parse_octal(s, 0777, &v->i, why);
		break;
	case CT_MODE:
		ret = config_parse_octal(s, 07777, &v->i, why);
		break;
	case CT_SIZE:
		ret = config_parse_size(s, &v->ll, why);
		break;
	case CT_SIGNAL:
		v->i = util_signal_number(s);
		if (v->i <= 0) {
			xasprintf(why, "unknown signal '%s'", s);
			ret = -1;
		}
		break;
	case CT_EXITCODES:
		ret = config_parse_exitcodes(s, v->codes, why);
		break;
	case CT_ENV:
		ret = config_parse_env(value, &v->v, why);
		break;
	case CT_LOGLEVEL:
		if (config_parse_loglevel(s, (enum loglevel *)&v->i) == -1) {
			xasprintf(why, "expected error, warn, info or debug, "
			    "got '%s'", s);
			ret = -1;
		}
		break;
	case CT_AUTORESTART:
		if (config_parse_autorestart(s,
		    (enum autorestart *)&v->i) == -1) {
			xasprintf(why, "expected false, unexpected or true, "
			    "got '%s'", s);
			ret = -1;
		}
		break;
	case CT_READY:
		v->i = strcasecmp(s, "notify") == 0 ? READY_NOTIFY : READY_NONE;
		if (strcasecmp(s, "none") != 0 && strcasecmp(s, "notify") != 0) {
			xasprintf(why, "expected none or notify, got '%s'", s);
			ret = -1;
		}
		break;
	case CT_COMMAND:
		if (*s == '\0') {
			xasprintf(why, "empty command");
			ret = -1;
			break;
		}
		v->s = xstrdup(value);
		break;
	case CT_LOGFILE:
		if (strcasecmp(s, "stderr") == 0 ||
		    strcasecmp(s, "journal") == 0 ||
		    strcasecmp(s, "auto") == 0 ||
		    strcasecmp(s, "syslog") == 0) {
			v->s = xstrdup(s);
			config_lower(v->s);
			if (strcmp(v->s, "syslog") == 0)
				config_check_syslog(rd, k);
			break;
		}
		/* FALLTHROUGH */
	case CT_CHILDLOG:
		/* tendd's own stdout or stderr, however it is spelt. */
		if (logfile_descriptor(s) != 0) {
			v->s = xstrdup(logfile_descriptor(s) == 1 ?
			    "/dev/stdout" : "/dev/stderr");
			break;
		}
		if (type == CT_CHILDLOG) {
			/* The words are stored as one spelling each. */
			if (strcasecmp(s, "AUTO") == 0)
				v->s = xstrdup("AUTO");
			else if (strcasecmp(s, "NONE") == 0)
				v->s = xstrdup("NONE");
			/* supervisord's old syslog value: the journal. */
			else if (strcasecmp(s, "journal") == 0 ||
			    strcasecmp(s, "syslog") == 0)
				v->s = xstrdup("journal");
			if (v->s != NULL)
				break;
		}
		/* FALLTHROUGH */
	case CT_PATH:
	case CT_SOCKET:
		if (*s == '\0') {
			xasprintf(why, "empty path");
			ret = -1;
			break;
		}
		v->s = expand_path(rd->files[k->file].here, s);
		if (type == CT_SOCKET && strlen(v->s) > CONFIG_SOCKET_MAX) {
			xasprintf(why, "the socket path %s is %zu bytes long; "
			    "Unix sockets allow at most %d", v->s,
			    strlen(v->s), CONFIG_SOCKET_MAX);
			ret = -1;
		}
		if (type == CT_LOGFILE || type == CT_CHILDLOG) {
			slash = strrchr(v->s, '/');
			if (slash != NULL && slash != v->s) {
				char *dir = xstrndup(v->s, slash - v->s);

				config_check_dir(rd, k, dir, "log directory ");
				free(dir);
			}
		}
		break;
	}
	if (ret == -1 && config_type_is_string(type)) {
		free(v->s);
		v->s = NULL;
	}
	free(copy);
	return ret;
}

/* Stores V (read as K's type) at OBJ + K->off. */
static void
config_store(const struct config_key *k, void *obj, union config_val *v)
{
	void *dst;

	if (k->off == CONFIG_NOWHERE || obj == NULL) {
		if (k->type == CT_ENV)
			strv_free(v->v);
		else if (config_type_is_string(k->type))
			free(v->s);
		return;
	}
	dst = (char *)obj + k->off;
	if (config_type_is_string(k->type)) {
		free(*(char **)dst);
		*(char **)dst = v->s;
		return;
	}
	switch (k->type) {
	case CT_ENV:
		strv_free(*(char ***)dst);
		*(char ***)dst = v->v;
		break;
	case CT_SECS:
		*(double *)dst = v->d;
		break;
	case CT_RLIMIT:
	case CT_SIZE:
		*(long long *)dst = v->ll;
		break;
	case CT_EXITCODES:
		memcpy(dst, v->codes, sizeof(v->codes));
		break;
	case CT_LOGLEVEL:
		*(enum loglevel *)dst = *(enum loglevel *)&v->i;
		break;
	case CT_AUTORESTART:
		*(enum autorestart *)dst = *(enum autorestart *)&v->i;
		break;
	case CT_READY:
		*(enum ready_mode *)dst = v->i == READY_NOTIFY ? READY_NOTIFY :
		    READY_NONE;
		break;
	default:
		*(int *)dst = v->i;
		break;
	}
}

static const struct config_key *
config_find_key(const struct config_key *keys, const char *name)
{
	for (; keys->name != NULL; keys++)
		if (strcmp(keys->name, name) == 0)
			return keys;
	return NULL;
}

static void
config_unknown_key(struct config_reader *rd, const struct config_rawkey *k,
    const struct config_key *keys)
{
	const char *names[128], *suggestion;
	size_t n = 0;

	for (; keys->name != NULL && n < nitems(names) - 1; keys++)
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
static int
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
	if (config_parse(rd, k, type, expanded, v, &why) == -1) {
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
		kd = config_find_key(keys, k->name);
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
		config_store(kd, obj, &v);
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

/* What %(name)s means in a section of FILE; NULL and -1: undefined. */
static void
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
static const char *
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

static struct config_rawkey *
config_sec_key(struct config_rawsec *sec, const char *name)
{
	int i;

	for (i = 0; i < sec->nkeys; i++)
		if (strcmp(sec->keys[i].name, name) == 0)
			return &sec->keys[i];
	return NULL;
}

static const char *
config_env_get(char *const *env, const char *name)
{
	size_t n = strlen(name);

	for (; env != NULL && *env != NULL; env++)
		if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

static int
config_is_executable(const char *path, int *err)
{
	struct stat sb;

	if (stat(path, &sb) == -1) {
		*err = errno;
		return 0;
	}
	if (S_ISDIR(sb.st_mode)) {
		*err = EISDIR;
		return 0;
	}
	if (access(path, X_OK) == -1) {
		*err = errno;
		return 0;
	}
	return 1;
}

/*
 * argv[0] without a '/' is looked up in PATH now, so the status line can
 * name the file that is missing. The absolute path goes to pc->path, the
 * file exec'd; argv[0] stays as written (as supervisord leaves it), since
 * multi-call programs read their name from it.
 */
static void
config_resolve_command(struct config_reader *rd, struct tend_conf *conf,
    struct program_conf *pc, const struct config_rawkey *k)
{
	const char *path, *p, *end;
	char *cand, *rel;
	int err = ENOENT, found_err = 0;

	if (strchr(pc->argv[0], '/') != NULL) {
		if (pc->argv[0][0] != '/') {
			/* Relative to where it runs, known only if set. */
			if (pc->directory == NULL)
				return;
			rel = expand_path(pc->directory, pc->argv[0]);
		} else
			rel = xstrdup(pc->argv[0]);
		if (!config_is_executable(rel, &err))
			config_warn_machine(rd, k->file, k->line, "[%s] "
			    "command: cannot execute %s: %s", k->section, rel,
			    strerror(err));
		free(rel);
		return;
	}

	path = config_env_get(pc->environment, "PATH");
	if (path == NULL)
		path = config_env_get(pc->env_file_env, "PATH");
	if (path == NULL)
		path = config_env_get(conf->environment, "PATH");
	if (path == NULL)
		path = getenv("PATH");
	if (path == NULL)
		path = CONFIG_DEFAULT_PATH;
	for (p = path; ; p = end + 1) {
		end = strchrnul(p, ':');
		/* Only absolute entries give an absolute path to keep. */
		if (end > p && *p == '/') {
			xasprintf(&cand, "%.*s/%s", (int)(end - p), p,
			    pc->argv[0]);
			if (config_is_executable(cand, &err)) {
				free(pc->path);
				pc->path = cand;
				return;
			}
			if (err != ENOENT && err != ENOTDIR && found_err == 0)
				found_err = err;
			free(cand);
		}
		if (*end == '\0')
			break;
	}
	if (found_err != 0)
		config_warn_machine(rd, k->file, k->line, "[%s] command: %s "
		    "is in PATH but cannot be executed: %s", k->section,
		    pc->argv[0], strerror(found_err));
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

static struct program_conf *
config_program_new(const char *program, const char *group, const char *file,
    int line)
{
	struct program_conf *pc = xcalloc(1, sizeof(*pc));

	pc->program = xstrdup(program);
	pc->name = xstrdup(program);
	pc->group = xstrdup(group);
	pc->file = xstrdup(file);
	pc->line = line;
	pc->autostart = 1;
	pc->autorestart = AUTORESTART_UNEXPECTED;
	pc->startsecs = 1;
	pc->startretries = 3;
	pc->exitcodes[0] = 1;		/* exit code 0 */
	pc->stopsignal = SIGTERM;
	pc->stopwaitsecs = 10;
	pc->umask = -1;
	pc->priority = 999;
	pc->daemon = 1;
	pc->joinsecs = 60;
	pc->restart_delay = 0;
	pc->backoff_max = 30;
	pc->backoff_reset = 60;
	pc->stdout_logfile = xstrdup("AUTO");
	pc->stdout_maxbytes = 50 * 1024 * 1024;
	pc->stdout_backups = 10;
	pc->stderr_logfile = xstrdup("AUTO");
	pc->stderr_maxbytes = 50 * 1024 * 1024;
	pc->stderr_backups = 10;
	pc->rlimit_nofile = CONFIG_RLIMIT_UNSET;
	pc->rlimit_core = CONFIG_RLIMIT_UNSET;
	pc->ready = READY_NONE;
	pc->ready_timeout = 90;
	pc->watchdog_secs = 0;
	return pc;
}

void
config_program_free(struct program_conf *pc)
{
	if (pc == NULL)
		return;
	free(pc->program);
	free(pc->name);
	free(pc->group);
	free(pc->file);
	free(pc->command);
	strv_free(pc->argv);
	free(pc->path);
	free(pc->directory);
	free(pc->user);
	strv_free(pc->environment);
	free(pc->stdout_logfile);
	free(pc->stderr_logfile);
	free(pc->env_file);
	strv_free(pc->env_file_env);
	free(pc->pidfile);
	free(pc);
}

/* ------------------------------------------------------------------ */
/* env_file                                                             */

/* VALUE of one env_file line: quotes dropped, as a shell would. */
static int
config_env_file_value(const char *s, char **out)
{
	size_t n = strlen(s), len = 0;
	char *v;
	const char *p;

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= 2 && s[0] == '\'' && s[n - 1] == '\'') {
		*out = xstrndup(s + 1, n - 2);
		return 0;
	}
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		v = xmalloc(n);
		for (p = s + 1; p < s + n - 1; p++) {
			if (*p == '\\' && p + 1 < s + n - 1 &&
			    strchr("\"\\$`", p[1]) != NULL)
				p++;
			else if (*p == '\\' && p + 1 < s + n - 1 &&
			    p[1] == 'n') {
				p++;
				v[len++] = '\n';
				continue;
			}
			v[len++] = *p;
		}
		v[len] = '\0';
		*out = v;
		return 0;
	}
	if (n > 0 && (s[0] == '"' || s[0] == '\''))
		return -1;
	*out = xstrndup(s, n);
	return 0;
}

int
config_read_env_file(const char *path, char ***envp, char **cause)
{
	FILE *f;
	struct stat sb;
	char *line = NULL, *value, **env = NULL;
	const char *p, *key;
	size_t size = 0, keylen;
	ssize_t n;
	int lineno = 0;

	*envp = NULL;
	f = fopen(path, "re");
	if (f == NULL) {
		xasprintf(cause, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
		xasprintf(cause, "cannot read %s: %s", path, strerror(EISDIR));
		goto fail;
	}
	if (fstat(fileno(f), &sb) == 0 && sb.st_size > CONFIG_ENV_FILE_MAX) {
		xasprintf(cause, "%s is over %d bytes: not an env file", path,
		    CONFIG_ENV_FILE_MAX);
		goto fail;
	}
	while ((n = getline(&line, &size, f)) != -1) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		for (p = line; isspace((unsigned char)*p); p++)
			;
		if (*p == '\0' || *p == '#' || *p == ';')
			continue;
		if (strncmp(p, "export", 6) == 0 &&
		    isblank((unsigned char)p[6]))
			for (p += 6; isblank((unsigned char)*p); p++)
				;
		key = p;
		while (*p == '_' || isalnum((unsigned char)*p) || *p == '.')
			p++;
		keylen = p - key;
		while (isblank((unsigned char)*p))
			p++;
		if (keylen == 0 || *p != '=') {
			xasprintf(cause, "%s:%d: expected KEY=VALUE", path,
			    lineno);
			goto fail;
		}
		for (p++; isblank((unsigned char)*p); p++)
			;
		if (config_env_file_value(p, &value) == -1) {
			xasprintf(cause, "%s:%d: unterminated quote in the "
			    "value of %.*s", path, lineno, (int)keylen, key);
			goto fail;
		}
		config_env_set(&env, key, keylen, value);
		free(value);
	}
	if (ferror(f)) {
		xasprintf(cause, "cannot read %s: %s", path, strerror(errno));
		goto fail;
	}
	free(line);
	fclose(f);
	*envp = env;
	return 0;

fail:
	free(line);
	strv_free(env);
	fclose(f);
	return -1;
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
		kd = config_find_key(config_group_keys, k->name);
		if (kd == NULL) {
			config_unknown_key(rd, k, config_group_keys);
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

/* Every program a group lists exists; one in two groups runs in both. */
static void
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
 * ready, watchdog_secs and pidfile judge readiness in different ways;
 * combinations that cannot mean anything are said out loud.
 */
static void
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
	if (pc->watchdog_secs > 0 && pc->ready != READY_NOTIFY) {
		k = config_sec_key(sec, "watchdog_secs");
		config_warn_file(rd, k != NULL ? k->file : sec->file,
		    k != NULL ? k->line : sec->line, "[%s] watchdog_secs: has "
		    "no effect without ready = notify (only a notify program "
		    "can send WATCHDOG=1)", sec->label);
	}
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
	const char *name = sec->name + strlen("program:");
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
	config_section_keys(rd, sec, config_program_keys, &vars, pc, NULL,
	    NULL);
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
	config_check_readiness(rd, pc, sec);
	if (rd->nerrors > errors) {
		config_program_free(pc);
		return NULL;
	}

	/* The machine's side: the program fails when started, not the file. */
	if (pc->env_file != NULL && (k = config_sec_key(sec, "env_file")) &&
	    config_read_env_file(pc->env_file, &pc->env_file_env, &why) == -1) {
		config_warn_machine(rd, k->file, k->line, "[%s] %s: %s",
		    k->section, k->written, why);
		free(why);
	}
	config_resolve_command(rd, conf, pc, config_sec_key(sec, "command"));
	if (pc->directory != NULL && (k = config_sec_key(sec, "directory")))
		config_check_dir(rd, k, pc->directory, "");
	if (pc->user != NULL && (k = config_sec_key(sec, "user")))
		config_check_user(rd, pc, k);
	if ((k = config_sec_key(sec, "rlimit_nofile")) != NULL)
		config_check_rlimit(rd, k, RLIMIT_NOFILE, pc->rlimit_nofile);
	if ((k = config_sec_key(sec, "rlimit_core")) != NULL)
		config_check_rlimit(rd, k, RLIMIT_CORE, pc->rlimit_core);
	return pc;
}

static void
config_program(struct config_reader *rd, struct tend_conf *conf,
    struct config_rawsec *sec)
{
	const char *name = sec->name + strlen("program:"), *problem;
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

static int
config_pc_cmp(const void *a, const void *b)
{
	const struct program_conf *x = *(struct program_conf *const *)a;
	const struct program_conf *y = *(struct program_conf *const *)b;
	int c;

	if ((c = strcmp(x->group, y->group)) != 0)
		return c;
	return strcmp(x->name, y->name);
}

/* GROUP:NAME is the handle of a process: no two may share one. */
static void
config_check_names(struct config_reader *rd, struct tend_conf *conf)
{
	struct program_conf **all, *pc, *prev;
	const char *lastgroup = NULL;
	char *a, *b;
	int i, n = 0;

	all = xcalloc(conf->nprocs + 1, sizeof(*all));
	TAILQ_FOREACH(pc, &conf->programs, entry)
		all[n++] = pc;
	qsort(all, n, sizeof(*all), config_pc_cmp);
	conf->ngroups = 0;
	for (i = 0; i < n; i++) {
		if (lastgroup == NULL || strcmp(lastgroup, all[i]->group) != 0)
			conf->ngroups++;
		lastgroup = all[i]->group;
		if (i == 0 || config_pc_cmp(&all[i - 1], &all[i]) != 0)
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
/* Files and [include]                                                  */

static int	 config_read_file(struct config_reader *, const char *, int,
		    const struct config_rawkey *);

/* "a.conf -> b.conf -> a.conf": how FILE came to include TARGET again. */
static char *
config_loop_chain(struct config_reader *rd, int file, int target)
{
	char *chain, *more;
	int f;

	chain = xstrdup(rd->files[target].path);
	for (f = file; f >= 0; f = rd->files[f].parent) {
		xasprintf(&more, "%s -> %s", rd->files[f].path, chain);
		free(chain);
		chain = more;
		if (f == target)
			break;
	}
	return chain;
}

static void
config_include_one(struct config_reader *rd, int file,
    const struct config_rawkey *k, const char *path)
{
	struct stat sb;
	char *chain, *where;
	int f, depth = 0;

	if (stat(path, &sb) == -1) {
		config_warn_machine(rd, k->file, k->line, "[%s] %s: %s: %s",
		    k->section, k->written, path, strerror(errno));
		return;
	}
	if (S_ISDIR(sb.st_mode)) {
		config_warn_file(rd, k->file, k->line, "[%s] %s: %s is a "
		    "directory; skipped", k->section, k->written, path);
		return;
	}
	/*
	 * A FIFO, socket or device that a glob happens to match would block
	 * tendd's start (or a reload) forever, or read without end.
	 */
	if (!S_ISREG(sb.st_mode)) {
		config_warn_machine(rd, k->file, k->line, "[%s] %s: %s is not "
		    "a regular file; skipped", k->section, k->written, path);
		return;
	}
	for (f = 0; f < rd->nfiles; f++) {
		if (rd->files[f].dev != sb.st_dev ||
		    rd->files[f].ino != sb.st_ino)
			continue;
		if (rd->files[f].reading) {
			chain = config_loop_chain(rd, file, f);
			config_error(rd, k->file, k->line, "[%s] %s: include "
			    "loop: %s", k->section, k->written, chain);
			free(chain);
			return;
		}
		if (rd->files[f].parent < 0)
			where = xstrdup("it is the main file");
		else
			where = config_where(rd, k->file, rd->files[f].parent,
			    rd->files[f].parent_line);
		config_warn_file(rd, k->file, k->line, "[%s] %s: %s is "
		    "included already (%s%s); skipped", k->section, k->written,
		    path, rd->files[f].parent < 0 ? "" : "at ", where);
		free(where);
		return;
	}
	for (f = file; f >= 0; f = rd->files[f].parent)
		depth++;
	if (depth > CONFIG_INCLUDE_DEPTH || rd->nfiles >= CONFIG_FILES_MAX) {
		config_error(rd, k->file, k->line, "[%s] %s: includes nest "
		    "deeper than %d or name over %d files", k->section,
		    k->written, CONFIG_INCLUDE_DEPTH, CONFIG_FILES_MAX);
		return;
	}
	config_read_file(rd, path, file, k);
}

/* FILE's [include] files = globs, relative to FILE's directory. */
static void
config_include(struct config_reader *rd, int file)
{
	struct config_rawsec *sec = config_find_section(rd, "include", file);
	const struct config_key *kd;
	struct config_rawkey *k;
	struct expand_vars vars;
	char *expanded, *why, *pattern, *save = NULL, *tok;
	glob_t gl;
	size_t j;
	int i, rc;

	if (sec == NULL)
		return;
	if (config_sec_key(sec, "files") == NULL)
		config_warn_file(rd, sec->file, sec->line, "[%s] files: "
		    "missing, so nothing is included", sec->label);
	for (i = 0; ; i++) {
		/* Reading an include may move rd->secs: find it again. */
		sec = config_find_section(rd, "include", file);
		if (i >= sec->nkeys)
			break;
		k = &sec->keys[i];
		kd = config_find_key(config_include_keys, k->name);
		if (kd == NULL) {
			config_unknown_key(rd, k, config_include_keys);
			continue;
		}
		config_expand_vars(rd, &vars, file, NULL, NULL, -1, -1);
		if (expand_value(k->value, &vars, &expanded, &why) == -1) {
			config_error(rd, k->file, k->line, "[%s] %s: %s",
			    k->section, k->written, why);
			free(why);
			continue;
		}
		/*
		 * Reading a file may move rd->secs, not a section's keys:
		 * K stays valid.
		 */
		for (tok = strtok_r(expanded, " \t\r\n", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t\r\n", &save)) {
			pattern = expand_path(rd->files[file].here, tok);
			rc = glob(pattern, 0, NULL, &gl);
			if (rc == GLOB_NOMATCH) {
				/* supervisord warns too: a typo includes
				   nothing, silently otherwise. */
				if (strpbrk(tok, "*?[") == NULL)
					config_warn_machine(rd, k->file,
					    k->line, "[%s] %s: %s: %s",
					    k->section, k->written, pattern,
					    strerror(ENOENT));
				else
					config_warn_machine(rd, k->file,
					    k->line, "[%s] %s: no file matches "
					    "%s", k->section, k->written,
					    pattern);
			} else if (rc != 0)
				config_warn_machine(rd, k->file, k->line,
				    "[%s] %s: cannot expand %s", k->section,
				    k->written, pattern);
			else
				for (j = 0; j < gl.gl_pathc; j++)
					config_include_one(rd, file, k,
					    gl.gl_pathv[j]);
			globfree(&gl);
			free(pattern);
		}
		free(expanded);
	}
}

/*
 * Reads PATH into the raw sections; FROM is the including file and K its
 * [include] key (-1 and NULL for the main file). Returns -1 only when the
 * main file cannot be read.
 */
static int
config_read_file(struct config_reader *rd, const char *path, int from,
    const struct config_rawkey *k)
{
	struct stat sb;
	char *cause;
	int idx, saved_cur = rd->cur, saved_file = rd->curfile;

	rd->files = xreallocarray(rd->files, rd->nfiles + 1,
	    sizeof(*rd->files));
	idx = rd->nfiles++;
	memset(&rd->files[idx], 0, sizeof(rd->files[idx]));
	rd->files[idx].path = xstrdup(path);
	rd->files[idx].here = expand_here(path);
	rd->files[idx].parent = from;
	rd->files[idx].parent_line = k != NULL ? k->line : 0;
	if (stat(path, &sb) == 0) {
		rd->files[idx].dev = sb.st_dev;
		rd->files[idx].ino = sb.st_ino;
	}

	/* Each file starts outside any section, as configparser reads it. */
	rd->cur = -1;
	rd->curfile = idx;
	rd->files[idx].reading = 1;
	if (ini_read_file(path, config_ini_entry, config_ini_error, rd,
	    &cause) == -1) {
		rd->files[idx].reading = 0;
		rd->cur = saved_cur;
		rd->curfile = saved_file;
		if (k == NULL) {
			config_error(rd, -1, 0, "%s", cause);
			free(cause);
			return -1;
		}
		config_error(rd, k->file, k->line, "[include] %s: %s",
		    k->written, cause);
		free(cause);
		return 0;
	}
	config_include(rd, idx);
	rd->files[idx].reading = 0;
	rd->cur = saved_cur;
	rd->curfile = saved_file;
	return 0;
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

	if (strncmp(sec->name, "eventlistener:", 14) == 0 ||
	    strncmp(sec->name, "fcgi-program:", 13) == 0 ||
	    strncmp(sec->name, "rpcinterface:", 13) == 0 ||
	    strcmp(sec->name, "supervisorctl") == 0 ||
	    strcmp(sec->name, "inet_http_server") == 0) {
		config_warn_file(rd, sec->file, sec->line, "[%s]: not "
		    "supported by tend; the section is ignored", sec->label);
		return;
	}

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
	conf->socket_mode = 0600;
	conf->loglevel = LOG_LEVEL_INFO;
	conf->logfile = xstrdup("stderr");
	conf->logfile_maxbytes = 50LL * 1024 * 1024;
	conf->logfile_backups = 10;
	conf->childlogdir = xstrdup("/var/log/tend");
	conf->identifier = xstrdup("tend");
	conf->umask = -1;
	conf->minfds = CONFIG_MINFDS;
	conf->minprocs = CONFIG_MINPROCS;
	conf->client_timeout = 60;
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
	free(conf->file);
	free(conf->socket);
	free(conf->socket_owner);
	free(conf->logfile);
	free(conf->childlogdir);
	free(conf->pidfile);
	free(conf->identifier);
	free(conf->directory);
	strv_free(conf->environment);
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

/* ------------------------------------------------------------------ */
/* Descriptors                                                          */

static int
config_strp_cmp(const void *a, const void *b)
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
	qsort(shared, nshared, sizeof(*shared), config_strp_cmp);
	for (i = 0; i < nshared; i++)
		if (i == 0 || strcmp(shared[i], shared[i - 1]) != 0)
			n++;
	free(shared);
	return n;
}

/* CAP_SYS_RESOURCE in effect: tendd may raise its hard limits. */
static int
config_may_raise_limits(void)
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
config_nr_open(void)
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
static void
config_check_fds(struct config_reader *rd, const struct tend_conf *conf)
{
	long need = CONFIG_FDS_NEEDED(conf);
	long long nr_open;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    rl.rlim_max == RLIM_INFINITY || (rlim_t)need <= rl.rlim_max)
		return;
	nr_open = config_nr_open();
	if (config_may_raise_limits() && need <= nr_open)
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
	if (config_read_file(&rd, file, -1, NULL) == -1) {
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
			int is_program = strncmp(sec->name, "program:", 8) == 0;
			int is_group = strncmp(sec->name, "group:", 6) == 0;

			config_expand_vars(&rd, &vars, sec->file, NULL, NULL,
			    -1, -1);
			if (pass == 0 && strcmp(sec->name, "tend") == 0)
				config_section_keys(&rd, sec, config_tend_keys,
				    &vars, conf, config_tend_hook, conf);
			else if (pass == 0 &&
			    strcmp(sec->name, "unix_http_server") == 0)
				config_section_keys(&rd, sec, config_uhs_keys,
				    &vars, NULL, config_uhs_hook, NULL);
			else if (pass == 0 && is_group)
				config_group(&rd, sec);
			else if (pass == 1 && is_program)
				config_program(&rd, conf, sec);
			else if (pass == 1 && !is_group &&
			    strcmp(sec->name, "tend") != 0 &&
			    strcmp(sec->name, "unix_http_server") != 0 &&
			    strcmp(sec->name, "include") != 0)
				config_other_section(&rd, sec);
		}
		if (pass == 0)
			config_check_groups(&rd);
	}
	config_check_names(&rd, conf);
	conf->proc_fds = config_proc_fds(conf);
	config_check_fds(&rd, conf);

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

/* ------------------------------------------------------------------ */
/* Comparing and querying                                               */

static int
config_str_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static void
config_strv_add(char ***v, const char *s)
{
	size_t n = strv_len(*v);

	*v = xreallocarray(*v, n + 2, sizeof(char *));
	(*v)[n] = xstrdup(s);
	(*v)[n + 1] = NULL;
}

char **
config_program_changes(const struct tend_conf *ca,
    const struct program_conf *a, const struct tend_conf *cb,
    const struct program_conf *b)
{
	char **keys = NULL;

	/* Anything the process was started with, or is judged by. */
#define CHANGED(cond, key) \
	do { if (cond) config_strv_add(&keys, key); } while (0)
	CHANGED(!config_str_equal(a->name, b->name) ||
	    !config_str_equal(a->group, b->group), "process_name");
	CHANGED(!strv_equal(a->argv, b->argv) ||
	    !config_str_equal(a->path, b->path), "command");
	CHANGED(a->autostart != b->autostart, "autostart");
	CHANGED(a->autorestart != b->autorestart, "autorestart");
	CHANGED(a->startsecs != b->startsecs, "startsecs");
	CHANGED(a->startretries != b->startretries, "startretries");
	CHANGED(memcmp(a->exitcodes, b->exitcodes, sizeof(a->exitcodes)) != 0,
	    "exitcodes");
	CHANGED(a->stopsignal != b->stopsignal, "stopsignal");
	CHANGED(a->stopwaitsecs != b->stopwaitsecs, "stopwaitsecs");
	CHANGED(a->stopasgroup != b->stopasgroup, "stopasgroup");
	CHANGED(a->killasgroup != b->killasgroup, "killasgroup");
	CHANGED(!config_str_equal(a->directory, b->directory), "directory");
	CHANGED(a->umask != b->umask, "umask");
	CHANGED(!config_str_equal(a->user, b->user), "user");
	CHANGED(!strv_equal(a->environment, b->environment), "environment");
	CHANGED(!config_str_equal(a->env_file, b->env_file) ||
	    !strv_equal(a->env_file_env, b->env_file_env), "env_file");
	CHANGED(ca != NULL && cb != NULL &&
	    !strv_equal(ca->environment, cb->environment),
	    "[tend] environment");
	CHANGED(a->priority != b->priority, "priority");
	CHANGED(a->group_priority != b->group_priority &&
	    a->priority == b->priority, "[group] priority");
	CHANGED(a->daemon != b->daemon, "daemon");
	CHANGED(a->joinsecs != b->joinsecs, "joinsecs");
	CHANGED(a->restart_delay != b->restart_delay, "restart_delay");
	CHANGED(a->backoff_max != b->backoff_max, "backoff_max");
	CHANGED(a->backoff_reset != b->backoff_reset, "backoff_reset");
	CHANGED(a->critical != b->critical, "critical");
	CHANGED(a->rlimit_nofile != b->rlimit_nofile, "rlimit_nofile");
	CHANGED(a->rlimit_core != b->rlimit_core, "rlimit_core");
	CHANGED(!config_str_equal(a->stdout_logfile, b->stdout_logfile),
	    "stdout_logfile");
	CHANGED(a->stdout_maxbytes != b->stdout_maxbytes,
	    "stdout_logfile_maxbytes");
	CHANGED(a->stdout_backups != b->stdout_backups,
	    "stdout_logfile_backups");
	CHANGED(!config_str_equal(a->stderr_logfile, b->stderr_logfile),
	    "stderr_logfile");
	CHANGED(a->stderr_maxbytes != b->stderr_maxbytes,
	    "stderr_logfile_maxbytes");
	CHANGED(a->stderr_backups != b->stderr_backups,
	    "stderr_logfile_backups");
	CHANGED(a->redirect_stderr != b->redirect_stderr, "redirect_stderr");
	CHANGED(a->log_timestamps != b->log_timestamps, "log_timestamps");
	/* AUTO files are made in childlogdir, named with the identifier. */
	CHANGED(ca != NULL && cb != NULL &&
	    (config_str_equal(a->stdout_logfile, "AUTO") ||
	    config_str_equal(a->stderr_logfile, "AUTO")) &&
	    (!config_str_equal(ca->childlogdir, cb->childlogdir) ||
	    !config_str_equal(ca->identifier, cb->identifier)),
	    "[tend] childlogdir");
	CHANGED(a->ready != b->ready, "ready");
	CHANGED(a->ready_timeout != b->ready_timeout, "ready_timeout");
	CHANGED(a->watchdog_secs != b->watchdog_secs, "watchdog_secs");
	CHANGED(!config_str_equal(a->pidfile, b->pidfile), "pidfile");
#undef CHANGED
	return keys;
}

int
config_program_equal(const struct program_conf *a,
    const struct program_conf *b)
{
	char **keys = config_program_changes(NULL, a, NULL, b);

	strv_free(keys);
	return keys == NULL;
}

static void
config_restart_str(char ***v, const char *key, const char *a, const char *b)
{
	char *s;

	if (config_str_equal(a, b))
		return;
	xasprintf(&s, "[tend] %s: %s -> %s", key, a ? a : "(none)",
	    b ? b : "(none)");
	config_strv_add(v, s);
	free(s);
}

static void
config_restart_octal(char ***v, const char *key, int a, int b)
{
	char sa[16], sb[16];

	if (a == b)
		return;
	snprintf(sa, sizeof(sa), a < 0 ? "(none)" : "0%o", a);
	snprintf(sb, sizeof(sb), b < 0 ? "(none)" : "0%o", b);
	config_restart_str(v, key, sa, sb);
}

char **
config_restart_changes(const struct tend_conf *a, const struct tend_conf *b)
{
	char **v = NULL;

	/* What tendd set up for itself at start: its socket, log, cwd. */
	config_restart_str(&v, "socket", a->socket, b->socket);
	config_restart_octal(&v, "socket_mode", a->socket_mode,
	    b->socket_mode);
	config_restart_str(&v, "socket_owner", a->socket_owner,
	    b->socket_owner);
	config_restart_str(&v, "logfile", a->logfile, b->logfile);
	config_restart_str(&v, "pidfile", a->pidfile, b->pidfile);
	config_restart_str(&v, "identifier", a->identifier, b->identifier);
	config_restart_octal(&v, "umask", a->umask, b->umask);
	config_restart_str(&v, "directory", a->directory, b->directory);
	return v;
}

int
config_exitcode_expected(const struct program_conf *pc, int code)
{
	if (code < 0 || code > 255)
		return 0;
	return (pc->exitcodes[code / 8] >> (code % 8)) & 1;
}
