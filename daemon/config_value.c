/*
 * config_value.c: a key's value as its type reads it (enum config_type):
 * one parse function per type, chosen through a table; the parsers of
 * numbers, durations, sizes, exit codes and words. Problems of the
 * machine a value names (a missing user, a directory) are warned about
 * here, never failures: config_check.c has them.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_int.h"


/* Which types read into v->s (the others must not free it). */
int
config_value_is_string(enum config_type type)
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
	case CT_READY:
	case CT_HEALTH:
		return 1;
	default:
		return 0;
	}
}

static const char *
config_value_trim(const char *s, char **copy)
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
config_value_bool(const char *s, int *out)
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
config_value_int(const char *s, long long min, long long max, int *out,
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
config_value_secs(const char *s, double *out, char **why)
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
config_value_octal(const char *s, int max, int *out, char **why)
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
config_value_size(const char *s, long long *out, char **why)
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
config_value_exitcodes(const char *s, uint8_t codes[32], char **why)
{
	const char *p = s, *end;
	char *item, *copy, *err = NULL;
	int code;

	memset(codes, 0, 32);
	for (;;) {
		end = strchr(p, ',');
		item = xstrndup(p, end == NULL ? strlen(p) : (size_t)(end - p));
		config_value_trim(item, &copy);
		free(item);
		if (*copy == '\0') {
			free(copy);
			xasprintf(why, "expected a comma-separated list of exit "
			    "codes (such as 0,2), got '%s'", s);
			return -1;
		}
		if (config_value_int(copy, 0, 255, &code, &err) == -1) {
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

static int
config_value_loglevel(const char *s, enum loglevel *out)
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
config_value_autorestart(const char *s, enum autorestart *out)
{
	int b;

	if (strcasecmp(s, "unexpected") == 0) {
		*out = AUTORESTART_UNEXPECTED;
		return 0;
	}
	if (config_value_bool(s, &b) == -1)
		return -1;
	*out = b ? AUTORESTART_TRUE : AUTORESTART_FALSE;
	return 0;
}

/*
 * One type's reading: S is the value trimmed (numbers and words may come
 * with blanks from an expansion), VALUE as expanded. Returns 0, or -1
 * with *why.
 */
typedef int config_value_fn(struct config_reader *,
    const struct config_rawkey *, enum config_type, const char *s,
    const char *value, union config_val *, char **why);

static int
config_value_none_cb(struct config_reader *rd, const struct config_rawkey *k,
    enum config_type type, const char *s, const char *value,
    union config_val *v, char **why)
{
	return 0;
}

static int
config_value_string_cb(struct config_reader *rd,
    const struct config_rawkey *k, enum config_type type, const char *s,
    const char *value, union config_val *v, char **why)
{
	if (*s == '\0') {
		xasprintf(why, "empty value");
		return -1;
	}
	v->s = xstrdup(s);
	if (type == CT_OWNER)
		config_check_owner(rd, k, s);
	return 0;
}

static int
config_value_daemon_user_cb(struct config_reader *rd,
    const struct config_rawkey *k, enum config_type type, const char *s,
    const char *value, union config_val *v, char **why)
{
	config_check_daemon_user(rd, k, s);
	return 0;
}

static int
config_value_bool_cb(struct config_reader *rd, const struct config_rawkey *k,
    enum config_type type, const char *s, const char *value,
    union config_val *v, char **why)
{
	if (config_value_bool(s, &v->i) == -1) {
		xasprintf(why, "expected true or false, got '%s'", s);
		return -1;
	}
	return 0;
}

static int
config_value_int_cb(struct config_reader *rd, const struct config_rawkey *k,
    enum config_type type, const char *s, const char *value,
    union config_val *v, char **why)
{
	if (type == CT_INT)
		return config_value_int(s, INT_MIN, INT_MAX, &v->i, why);
	if (type == CT_NUMPROCS)
		return config_value_int(s, 0, CONFIG_NUMPROCS_MAX, &v->i, why);
	/* CT_UINT, CT_NUMSTART, and CT_RETRIES but for infinite */
	if (type == CT_RETRIES && strcasecmp(s, "infinite") == 0) {
		v->i = -1;
		return 0;
	}
	return config_value_int(s, 0, INT_MAX, &v->i, why);
}

static int
config_value_name_cb(struct config_reader *rd, const struct config_rawkey *k,
    enum config_type type, const char *s, const char *value,
    union config_val *v, char **why)
{
	const char *problem;

	/* after expansion: %(ENV_X)s cannot smuggle a bad name in */
	if ((problem = config_name_problem(s)) != NULL) {
		xasprintf(why, "'%s' is not a valid process name: it %s", s,
		    problem);
		return -1;
	}
	v->s = xstrdup(s);
	return 0;
}

static int
config_value_rlimit_cb(struct config_reader *rd,
    const struct config_rawkey *k, enum config_type type, const char *s,
    const char *value, union config_val *v, char **why)
{
	if (strcasecmp(s, "infinity") == 0 || strcasecmp(s, "unlimited") == 0) {
		v->ll = CONFIG_RLIMIT_INFINITY;
		return 0;
	}
	if (config_value_size(s, &v->ll, why) == -1) {
		free(*why);
		xasprintf(why, "expected a number, a size or unlimited, got "
		    "'%s'", s);
		return -1;
	}
	return 0;
}

static int
config_value_number_cb(struct config_reader *rd,
    const struct config_rawkey *k, enum config_type type, const char *s,
    const char *value, union config_val *v, char **why)
{
	switch (type) {
	case CT_SECS:
		return config_value_secs(s, &v->d, why);
	case CT_OCTAL:
		return config_value_octal(s, 0777, &v->i, why);
	case CT_MODE:
		return config_value_octal(s, 07777, &v->i, why);
	case CT_SIZE:
		return config_value_size(s, &v->ll, why);
	case CT_EXITCODES:
		return config_value_exitcodes(s, v->codes, why);
	default:
		return 0;
	}
}

static int
config_value_signal_cb(struct config_reader *rd,
    const struct config_rawkey *k, enum config_type type, const char *s,
    const char *value, union config_val *v, char **why)
{
	v->i = util_signal_number(s);
	if (v->i <= 0) {
		xasprintf(why, "unknown signal '%s'", s);
		return -1;
	}
	return 0;
}

static int
config_value_env_cb(struct config_reader *rd, const struct config_rawkey *k,
    enum config_type type, const char *s, const char *value,
    union config_val *v, char **why)
{
	return config_env_parse(value, &v->v, why);
}

static int
config_value_word_cb(struct config_reader *rd, const struct config_rawkey *k,
    enum config_type type, const char *s, const char *value,
    union config_val *v, char **why)
{
	switch (type) {
	case CT_LOGLEVEL:
		if (config_value_loglevel(s, (enum loglevel *)&v->i) == -1) {
			xasprintf(why, "expected error, warn, info or debug, "
			    "got '%s'", s);
			return -1;
		}
		return 0;
	case CT_AUTORESTART:
		if (config_value_autorestart(s,
		    (enum autorestart *)&v->i) == -1) {
			xasprintf(why, "expected false, unexpected or true, "
			    "got '%s'", s);
			return -1;
		}
		return 0;
	default:
		return 0;
	}
}

/*
 * ready and healthcheck: checked by probe.c's parser (a probe's command,
 * regex, host and port), kept as written; the words in one spelling.
 */
static int
config_value_probe_cb(struct config_reader *rd, const struct config_rawkey *k,
    enum config_type type, const char *s, const char *value,
    union config_val *v, char **why)
{
	struct probe_spec *spec = NULL;
	enum probe_kind kind;

	if (probe_spec_parse(s, type == CT_READY ? PROBE_FOR_READY : 0, &kind,
	    &spec, why) == -1)
		return -1;
	probe_spec_free(spec);
	if (kind == PROBE_NONE || kind == PROBE_NOTIFY) {
		v->s = xstrdup(kind == PROBE_NONE ? "none" : "notify");
		return 0;
	}
	v->s = xstrdup(s);
	return 0;
}

static int
config_value_command_cb(struct config_reader *rd,
    const struct config_rawkey *k, enum config_type type, const char *s,
    const char *value, union config_val *v, char **why)
{
	if (*s == '\0') {
		xasprintf(why, "empty command");
		return -1;
	}
	v->s = xstrdup(value);
	return 0;
}

/* A path made absolute; a log file's directory is checked. */
static int
config_value_path_cb(struct config_reader *rd, const struct config_rawkey *k,
    enum config_type type, const char *s, const char *value,
    union config_val *v, char **why)
{
	const char *slash;
	char *dir;

	if (*s == '\0') {
		xasprintf(why, "empty path");
		return -1;
	}
	v->s = expand_path(rd->files[k->file].here, s);
	if (type == CT_SOCKET && strlen(v->s) > CONFIG_SOCKET_MAX) {
		xasprintf(why, "the socket path %s is %zu bytes long; Unix "
		    "sockets allow at most %d", v->s, strlen(v->s),
		    CONFIG_SOCKET_MAX);
		return -1;
	}
	if (type == CT_LOGFILE || type == CT_CHILDLOG) {
		slash = strrchr(v->s, '/');
		if (slash != NULL && slash != v->s) {
			dir = xstrndup(v->s, slash - v->s);
			config_check_dir(rd, k, dir, "log directory ");
			free(dir);
		}
	}
	return 0;
}

/* A child's: tendd's stdout or stderr, AUTO, NONE, journal, or a path. */
static int
config_value_childlog_cb(struct config_reader *rd,
    const struct config_rawkey *k, enum config_type type, const char *s,
    const char *value, union config_val *v, char **why)
{
	/* tendd's own stdout or stderr, however it is spelt. */
	if (logfile_descriptor(s) != 0) {
		v->s = xstrdup(logfile_descriptor(s) == 1 ? "/dev/stdout" :
		    "/dev/stderr");
		return 0;
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
			return 0;
	}
	return config_value_path_cb(rd, k, type, s, value, v, why);
}

/* tendd's own: stderr, journal, auto, syslog, or as a child's. */
static int
config_value_logfile_cb(struct config_reader *rd,
    const struct config_rawkey *k, enum config_type type, const char *s,
    const char *value, union config_val *v, char **why)
{
	if (strcasecmp(s, "stderr") == 0 || strcasecmp(s, "journal") == 0 ||
	    strcasecmp(s, "auto") == 0 || strcasecmp(s, "syslog") == 0) {
		v->s = xstrdup(s);
		config_file_lower(v->s);
		if (strcmp(v->s, "syslog") == 0)
			config_check_syslog(rd, k);
		return 0;
	}
	return config_value_childlog_cb(rd, k, type, s, value, v, why);
}

static config_value_fn *const config_value_fns[CT_NTYPES] = {
	[CT_STRING] = config_value_string_cb,
	[CT_ANY] = config_value_none_cb,
	[CT_BOOL] = config_value_bool_cb,
	[CT_UINT] = config_value_int_cb,
	[CT_INT] = config_value_int_cb,
	[CT_SECS] = config_value_number_cb,
	[CT_OCTAL] = config_value_number_cb,
	[CT_MODE] = config_value_number_cb,
	[CT_SIZE] = config_value_number_cb,
	[CT_PATH] = config_value_path_cb,
	[CT_SOCKET] = config_value_path_cb,
	[CT_OWNER] = config_value_string_cb,
	[CT_USER] = config_value_string_cb,
	[CT_DAEMON_USER] = config_value_daemon_user_cb,
	[CT_SIGNAL] = config_value_signal_cb,
	[CT_EXITCODES] = config_value_number_cb,
	[CT_ENV] = config_value_env_cb,
	[CT_LOGLEVEL] = config_value_word_cb,
	[CT_LOGFILE] = config_value_logfile_cb,
	[CT_CHILDLOG] = config_value_childlog_cb,
	[CT_AUTORESTART] = config_value_word_cb,
	[CT_RETRIES] = config_value_int_cb,
	[CT_COMMAND] = config_value_command_cb,
	[CT_READY] = config_value_probe_cb,
	[CT_HEALTH] = config_value_probe_cb,
	[CT_RLIMIT] = config_value_rlimit_cb,
	[CT_NUMPROCS] = config_value_int_cb,
	[CT_NUMSTART] = config_value_int_cb,
	[CT_NAME] = config_value_name_cb,
	[CT_UNSUPPORTED] = config_value_none_cb,
	[CT_DERIVED] = config_value_none_cb,
};

/*
 * Reads K's expanded VALUE as TYPE into *v. Returns 0, or -1 with *why.
 * Problems of the machine are warned about here and are not failures.
 */
int
config_value_parse(struct config_reader *rd, const struct config_rawkey *k,
    enum config_type type, const char *value, union config_val *v,
    char **why)
{
	char *copy;
	const char *s;
	int ret;

	memset(v, 0, sizeof(*v));
	s = config_value_trim(value, &copy);
	ret = config_value_fns[type](rd, k, type, s, value, v, why);
	if (ret == -1 && config_value_is_string(type)) {
		free(v->s);
		v->s = NULL;
	}
	free(copy);
	return ret;
}
