/*
 * config.c: owns the config object (tendd.h). The file is read through
 * ini.c into raw sections first (so duplicates and unknown names can be
 * judged with every line known), then each key is expanded, read as its
 * type and stored, and the whole object is checked. Every problem is
 * collected and reported, sorted by line, so that one --check shows all
 * of them; only errors make the object unusable.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
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

/* sizeof(sockaddr_un.sun_path) - 1: longer paths cannot be bound. */
#define CONFIG_SOCKET_MAX	107
/* Durations above this (about 31 years) are typos. */
#define CONFIG_SECS_MAX		1e9
#define CONFIG_DEFAULT_PATH	"/usr/local/bin:/usr/bin:/bin"

struct config_rawkey {
	char		*name;		/* lower case: keys are case-insensitive */
	char		*written;	/* as written (the last time), for messages */
	char		*value;
	char		*section;	/* the header as written, for messages */
	int		 line;
};

/* A section as read; [tend] and [supervisord] are one. */
struct config_rawsec {
	char		*name;
	char		*label;		/* first header as written */
	int		 line;
	struct config_rawkey *keys;
	int		 nkeys;
};

struct config_msg {
	int		 line;
	int		 seq;
	int		 is_error;
	char		*text;
};

struct config_reader {
	const char	*file;		/* as given: every message starts so */
	char		*here;
	int		 flags;

	struct config_rawsec *secs;
	int		 nsecs;
	int		 cur;		/* section keys go to; -1: none yet */

	struct config_msg *msgs;
	int		 nmsgs;
	int		 nerrors;

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
	CT_NUMPROCS,
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
	NK("nodaemon", CT_BOOL),
	NK("logfile_maxbytes", CT_SIZE),
	NK("logfile_backups", CT_UINT),
	NK("minfds", CT_UINT),
	NK("minprocs", CT_UINT),
	NK("silent", CT_UNSUPPORTED),
	NK("nocleanup", CT_UNSUPPORTED),
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
	/* Read and checked now, used by later work. */
	NK("numprocs", CT_NUMPROCS),
	NK("numprocs_start", CT_UINT),
	NK("process_name", CT_STRING),
	PK("redirect_stderr", CT_BOOL, redirect_stderr),
	PK("stdout_logfile", CT_CHILDLOG, stdout_logfile),
	PK("stdout_logfile_maxbytes", CT_SIZE, stdout_maxbytes),
	PK("stdout_logfile_backups", CT_UINT, stdout_backups),
	PK("stderr_logfile", CT_CHILDLOG, stderr_logfile),
	PK("stderr_logfile_maxbytes", CT_SIZE, stderr_maxbytes),
	PK("stderr_logfile_backups", CT_UINT, stderr_backups),
	PK("log_timestamps", CT_BOOL, log_timestamps),
	NK("stdout_capture_maxbytes", CT_SIZE),
	NK("stderr_capture_maxbytes", CT_SIZE),
	NK("stdout_events_enabled", CT_BOOL),
	NK("stderr_events_enabled", CT_BOOL),
	NK("stdout_syslog", CT_BOOL),
	NK("stderr_syslog", CT_BOOL),
	NK("serverurl", CT_ANY),
	NK("ready", CT_READY),
	NK("ready_timeout", CT_SECS),
	NK("watchdog_secs", CT_SECS),
	NK("pidfile", CT_PATH),
	NK("env_file", CT_PATH),
	NK("rlimit_nofile", CT_RLIMIT),
	NK("rlimit_core", CT_RLIMIT),
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

/* ------------------------------------------------------------------ */
/* Messages                                                             */

static void
config_vmsg(struct config_reader *rd, int is_error, int line,
    const char *fmt, va_list ap)
{
	struct config_msg *m;
	char *what;

	rd->msgs = xreallocarray(rd->msgs, rd->nmsgs + 1, sizeof(*rd->msgs));
	m = &rd->msgs[rd->nmsgs];
	m->line = line;
	m->seq = rd->nmsgs++;
	m->is_error = is_error;
	xvasprintf(&what, fmt, ap);
	xasprintf(&m->text, "%s:%d: %s", rd->file, line, what);
	free(what);
	if (is_error)
		rd->nerrors++;
}

static void config_error(struct config_reader *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static void config_warn_file(struct config_reader *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static void config_warn_machine(struct config_reader *, int, const char *,
    ...) __attribute__((format(printf, 3, 4)));

static void
config_error(struct config_reader *rd, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_vmsg(rd, 1, line, fmt, ap);
	va_end(ap);
}

/* About the file itself: an error under CONFIG_STRICT. */
static void
config_warn_file(struct config_reader *rd, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_vmsg(rd, (rd->flags & CONFIG_STRICT) != 0, line, fmt, ap);
	va_end(ap);
}

/* About this machine: the program fails when started, the rest runs. */
static void
config_warn_machine(struct config_reader *rd, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_vmsg(rd, 0, line, fmt, ap);
	va_end(ap);
}

static int
config_msg_cmp(const void *a, const void *b)
{
	const struct config_msg *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void
diag_add(struct diag *d, int is_error, const char *fmt, ...)
{
	struct diag_msg *m;
	va_list ap;

	d->msgs = xreallocarray(d->msgs, d->n + 1, sizeof(*d->msgs));
	m = &d->msgs[d->n++];
	m->is_error = is_error;
	va_start(ap, fmt);
	xvasprintf(&m->text, fmt, ap);
	va_end(ap);
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

static struct config_rawsec *
config_find_section(struct config_reader *rd, const char *name)
{
	int i;

	for (i = 0; i < rd->nsecs; i++)
		if (strcmp(rd->secs[i].name, name) == 0)
			return &rd->secs[i];
	return NULL;
}

static void
config_ini_section(struct config_reader *rd, const char *section, int line)
{
	struct config_rawsec *sec;
	const char *name = section;

	/* supervisord's own section is ours under its old name. */
	if (strcmp(name, "supervisord") == 0)
		name = "tend";
	sec = config_find_section(rd, name);
	if (sec != NULL) {
		if (strcmp(sec->label, section) == 0)
			config_warn_file(rd, line, "[%s]: the section is "
			    "also at line %d; the two are read as one",
			    section, sec->line);
	} else {
		rd->secs = xreallocarray(rd->secs, rd->nsecs + 1,
		    sizeof(*rd->secs));
		sec = &rd->secs[rd->nsecs++];
		memset(sec, 0, sizeof(*sec));
		sec->name = xstrdup(name);
		sec->label = xstrdup(section);
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
	char *lower;
	int i;

	if (key == NULL) {
		config_ini_section(rd, section, line);
		return;
	}
	if (rd->cur == -1) {
		config_error(rd, line, "%s: not in any section (a [section] "
		    "header must come first)", key);
		return;
	}
	sec = &rd->secs[rd->cur];
	lower = xstrdup(key);
	config_lower(lower);

	for (i = 0; i < sec->nkeys; i++) {
		k = &sec->keys[i];
		if (strcmp(k->name, lower) != 0)
			continue;
		config_warn_file(rd, line, "[%s] %s: given twice (also at "
		    "line %d); the last one is used", section, key, k->line);
		free(k->value);
		free(k->section);
		free(k->written);
		k->written = xstrdup(key);
		k->value = xstrdup(value);
		k->section = xstrdup(section);
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
	k->line = line;
}

static void
config_ini_error(void *arg, int line, const char *what)
{
	struct config_reader *rd = arg;

	config_error(rd, line, "syntax error: %s", what);
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
	char *value = NULL;
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
			xasprintf(why, "expected KEY=VALUE pairs separated by "
			    "commas, at '%.20s'", key);
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
		config_warn_machine(rd, k->line, "[%s] %s: user '%s' does "
		    "not exist", k->section, k->written, user);
	if (colon != NULL && getgrnam(colon + 1) == NULL)
		config_warn_machine(rd, k->line, "[%s] %s: group '%s' does "
		    "not exist", k->section, k->written, colon + 1);
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
	config_warn_file(rd, k->line, "[%s] %s: not supported by tend, "
	    "which runs as the user that starts it; ignored", k->section,
	    k->written);
}

static void
config_check_dir(struct config_reader *rd, const struct config_rawkey *k,
    const char *dir, const char *what)
{
	struct stat sb;

	if (stat(dir, &sb) == -1)
		config_warn_machine(rd, k->line, "[%s] %s: %s%s: %s",
		    k->section, k->written, what, dir, strerror(errno));
	else if (!S_ISDIR(sb.st_mode))
		config_warn_machine(rd, k->line, "[%s] %s: %s%s is not a "
		    "directory", k->section, k->written, what, dir);
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
	const char *s, *slash;
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
		ret = config_parse_int(s, 0, INT_MAX, &v->i, why);
		break;
	case CT_INT:
		ret = config_parse_int(s, INT_MIN, INT_MAX, &v->i, why);
		break;
	case CT_NUMPROCS:
		ret = config_parse_int(s, 1, INT_MAX, &v->i, why);
		if (ret == 0 && v->i != 1) {
			xasprintf(why, "not supported yet (only 1)");
			ret = -1;
		}
		break;
	case CT_RETRIES:
		if (strcasecmp(s, "infinite") == 0)
			v->i = -1;
		else
			ret = config_parse_int(s, 0, INT_MAX, &v->i, why);
		break;
	case CT_RLIMIT:
		if (strcasecmp(s, "infinity") == 0 ||
		    strcasecmp(s, "unlimited") == 0)
			break;
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
		    strcasecmp(s, "auto") == 0) {
			v->s = xstrdup(s);
			config_lower(v->s);
			break;
		}
		/* FALLTHROUGH */
	case CT_CHILDLOG:
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
			else if (strcmp(s, "/dev/stdout") == 0 ||
			    strcmp(s, "/dev/stderr") == 0)
				v->s = xstrdup(s);
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
		v->s = expand_path(rd->here, s);
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
		config_warn_file(rd, k->line, "[%s] %s: unknown key; did you "
		    "mean %s?", k->section, k->written, suggestion);
	else
		config_warn_file(rd, k->line, "[%s] %s: unknown key; ignored",
		    k->section, k->written);
}

/*
 * Every key of SEC: expanded with VARS, read, shown to HOOK (which may
 * take a string by setting it to NULL), and stored into OBJ.
 */
static void
config_section_keys(struct config_reader *rd, struct config_rawsec *sec,
    const struct config_key *keys, const struct expand_vars *vars, void *obj,
    void (*hook)(struct config_reader *, const struct config_rawkey *,
    const struct config_key *, union config_val *, void *), void *hookarg)
{
	const struct config_key *kd;
	struct config_rawkey *k;
	union config_val v;
	char *expanded, *why;
	int i;

	for (i = 0; i < sec->nkeys; i++) {
		k = &sec->keys[i];
		kd = config_find_key(keys, k->name);
		if (kd == NULL) {
			config_unknown_key(rd, k, keys);
			continue;
		}
		if (kd->type == CT_UNSUPPORTED) {
			config_warn_file(rd, k->line, "[%s] %s: not supported "
			    "by tend; ignored", k->section, k->written);
			continue;
		}
		if (expand_value(k->value, vars, &expanded, &why) == -1) {
			config_error(rd, k->line, "[%s] %s: %s", k->section,
			    k->written, why);
			free(why);
			continue;
		}
		if (config_parse(rd, k, kd->type, expanded, &v, &why) == -1) {
			config_error(rd, k->line, "[%s] %s: %s", k->section,
			    k->written, why);
			free(why);
			free(expanded);
			continue;
		}
		free(expanded);
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
config_expand_vars(struct config_reader *rd, struct expand_vars *vars,
    const char *program)
{
	memset(vars, 0, sizeof(*vars));
	vars->here = rd->here;
	vars->program_name = program;
	vars->group_name = program;
	vars->process_num = program != NULL ? 0 : -1;
}

static int
config_program_name_ok(const char *name)
{
	const unsigned char *p;

	if (*name == '\0')
		return 0;
	for (p = (const unsigned char *)name; *p != '\0'; p++)
		if (*p == ':' || *p == '/' || isspace(*p) || iscntrl(*p))
			return 0;
	return 1;
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
    struct program_conf *pc, int line)
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
			config_warn_machine(rd, line, "[program:%s] command: "
			    "cannot execute %s: %s", pc->name, rel,
			    strerror(err));
		free(rel);
		return;
	}

	path = config_env_get(pc->environment, "PATH");
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
		config_warn_machine(rd, line, "[program:%s] command: %s is in "
		    "PATH but cannot be executed: %s", pc->name, pc->argv[0],
		    strerror(found_err));
	else
		config_warn_machine(rd, line, "[program:%s] command: %s not "
		    "found in PATH (%s)", pc->name, pc->argv[0], path);
}

static void
config_check_user(struct config_reader *rd, struct program_conf *pc,
    int line)
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
		config_warn_machine(rd, line, "[program:%s] user: user '%s' "
		    "does not exist", pc->name, pc->user);
		return;
	}
	if (geteuid() != 0 && pw->pw_uid != geteuid())
		config_warn_machine(rd, line, "[program:%s] user: tendd is not "
		    "root, so it cannot run the program as '%s'", pc->name,
		    pc->user);
}

static struct program_conf *
config_program_new(const char *name, const char *file, int line)
{
	struct program_conf *pc = xcalloc(1, sizeof(*pc));

	pc->name = xstrdup(name);
	pc->group = xstrdup(name);
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
	return pc;
}

static void
config_program_free(struct program_conf *pc)
{
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
	free(pc);
}

static void
config_program(struct config_reader *rd, struct tend_conf *conf,
    struct config_rawsec *sec)
{
	struct program_conf *pc;
	struct expand_vars vars;
	const char *name = sec->name + strlen("program:");
	const struct config_rawkey *cmdkey = NULL;
	char *why;
	int i, errors = rd->nerrors;

	if (!config_program_name_ok(name)) {
		config_error(rd, sec->line, "[%s]: a program name must be "
		    "non-empty, without ':', '/', blanks or control "
		    "characters", sec->label);
		return;
	}
	pc = config_program_new(name, rd->file, sec->line);
	config_expand_vars(rd, &vars, name);
	config_section_keys(rd, sec, config_program_keys, &vars, pc, NULL,
	    NULL);
	if (pc->stopasgroup)
		pc->killasgroup = 1;
	for (i = 0; i < sec->nkeys; i++)
		if (strcmp(sec->keys[i].name, "command") == 0)
			cmdkey = &sec->keys[i];

	if (cmdkey == NULL)
		config_error(rd, sec->line, "[%s] command: missing (every "
		    "program needs one)", sec->label);
	else if (pc->command != NULL) {
		if (expand_argv(pc->command, &pc->argv, &why) == -1) {
			config_error(rd, cmdkey->line, "[%s] command: %s",
			    cmdkey->section, why);
			free(why);
		}
	}

	/* The machine's side: the program fails when started, not the file. */
	if (pc->argv != NULL)
		config_resolve_command(rd, conf, pc, cmdkey->line);
	for (i = 0; i < sec->nkeys; i++) {
		if (strcmp(sec->keys[i].name, "directory") == 0 &&
		    pc->directory != NULL)
			config_check_dir(rd, &sec->keys[i], pc->directory,
			    "");
		if (strcmp(sec->keys[i].name, "user") == 0 && pc->user != NULL)
			config_check_user(rd, pc, sec->keys[i].line);
	}
	if (rd->nerrors > errors) {
		config_program_free(pc);
		return;
	}
	TAILQ_INSERT_TAIL(&conf->programs, pc, entry);
	conf->nprograms++;
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
		config_warn_file(rd, sec->line, "[%s]: not supported by tend; "
		    "the section is ignored", sec->label);
		return;
	}
	if (strncmp(sec->name, "group:", 6) == 0 ||
	    strcmp(sec->name, "include") == 0) {
		config_warn_file(rd, sec->line, "[%s]: not supported yet; the "
		    "section is ignored", sec->label);
		return;
	}

	if (colon != NULL) {
		prefix = xstrndup(sec->name, colon - sec->name);
		suggestion = expand_suggest(prefix, config_prefixes);
		free(prefix);
		if (suggestion != NULL) {
			config_warn_file(rd, sec->line, "[%s]: unknown "
			    "section; did you mean [%s%s]?", sec->label,
			    suggestion, colon);
			return;
		}
	} else {
		suggestion = expand_suggest(sec->name, config_plain);
		if (suggestion != NULL) {
			config_warn_file(rd, sec->line, "[%s]: unknown "
			    "section; did you mean [%s%s]?", sec->label,
			    suggestion, strcmp(suggestion, "program") == 0 ||
			    strcmp(suggestion, "group") == 0 ? ":NAME" : "");
			return;
		}
	}
	config_warn_file(rd, sec->line, "[%s]: unknown section; ignored",
	    sec->label);
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
	conf->childlogdir = xstrdup("/var/log/tend");
	conf->identifier = xstrdup("tend");
	conf->umask = -1;
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
	free(rd->here);
	free(rd->uhs_socket);
	free(rd->uhs_owner);
}

struct tend_conf *
config_load(const char *file, int flags, struct diag *d)
{
	struct config_reader rd;
	struct tend_conf *conf;
	struct expand_vars vars;
	char *cause;
	int i, pass;

	memset(&rd, 0, sizeof(rd));
	rd.file = file;
	rd.flags = flags;
	rd.cur = -1;
	rd.uhs_mode = -1;
	rd.here = expand_here(file);
	if (ini_read_file(file, config_ini_entry, config_ini_error, &rd,
	    &cause) == -1) {
		diag_add(d, 1, "%s", cause);
		free(cause);
		config_reader_free(&rd);
		return NULL;
	}

	conf = config_new(file);
	/* The daemon's sections first: programs look up its PATH. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < rd.nsecs; i++) {
			struct config_rawsec *sec = &rd.secs[i];
			int is_program = strncmp(sec->name, "program:", 8) == 0;

			if (pass == 0 && strcmp(sec->name, "tend") == 0) {
				config_expand_vars(&rd, &vars, NULL);
				config_section_keys(&rd, sec, config_tend_keys,
				    &vars, conf, config_tend_hook, NULL);
			} else if (pass == 0 &&
			    strcmp(sec->name, "unix_http_server") == 0) {
				config_expand_vars(&rd, &vars, NULL);
				config_section_keys(&rd, sec, config_uhs_keys,
				    &vars, NULL, config_uhs_hook, NULL);
			} else if (pass == 1 && is_program)
				config_program(&rd, conf, sec);
			else if (pass == 1 && strcmp(sec->name, "tend") != 0 &&
			    strcmp(sec->name, "unix_http_server") != 0)
				config_other_section(&rd, sec);
		}
	}

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

int
config_program_equal(const struct program_conf *a,
    const struct program_conf *b)
{
	/* Anything the process was started with, or is judged by. */
	return config_str_equal(a->name, b->name) &&
	    config_str_equal(a->group, b->group) &&
	    strv_equal(a->argv, b->argv) &&
	    config_str_equal(a->path, b->path) &&
	    a->autostart == b->autostart &&
	    a->autorestart == b->autorestart &&
	    a->startsecs == b->startsecs &&
	    a->startretries == b->startretries &&
	    memcmp(a->exitcodes, b->exitcodes, sizeof(a->exitcodes)) == 0 &&
	    a->stopsignal == b->stopsignal &&
	    a->stopwaitsecs == b->stopwaitsecs &&
	    a->stopasgroup == b->stopasgroup &&
	    a->killasgroup == b->killasgroup &&
	    config_str_equal(a->directory, b->directory) &&
	    a->umask == b->umask &&
	    config_str_equal(a->user, b->user) &&
	    strv_equal(a->environment, b->environment) &&
	    a->priority == b->priority &&
	    a->daemon == b->daemon &&
	    a->joinsecs == b->joinsecs &&
	    a->restart_delay == b->restart_delay &&
	    a->backoff_max == b->backoff_max &&
	    a->backoff_reset == b->backoff_reset &&
	    a->critical == b->critical &&
	    config_str_equal(a->stdout_logfile, b->stdout_logfile) &&
	    a->stdout_maxbytes == b->stdout_maxbytes &&
	    a->stdout_backups == b->stdout_backups &&
	    config_str_equal(a->stderr_logfile, b->stderr_logfile) &&
	    a->stderr_maxbytes == b->stderr_maxbytes &&
	    a->stderr_backups == b->stderr_backups &&
	    a->redirect_stderr == b->redirect_stderr &&
	    a->log_timestamps == b->log_timestamps;
}

int
config_exitcode_expected(const struct program_conf *pc, int code)
{
	if (code < 0 || code > 255)
		return 0;
	return (pc->exitcodes[code / 8] >> (code % 8)) & 1;
}
