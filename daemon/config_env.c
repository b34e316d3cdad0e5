/*
 * config_env.c: a child's environment as the config gives it:
 * environment = values, env_file files (read at load by config.c and at
 * each start by spawn.c), and where a command name is found in a PATH,
 * by the one rule both the load and each start use.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_int.h"
#include "utf8.h"

/* An env_file bigger than this is not an env file. */
#define CONFIG_ENV_FILE_MAX	(4 * 1024 * 1024)

const char *
config_env_get(char *const *env, const char *name)
{
	size_t n = strlen(name);

	for (; env != NULL && *env != NULL; env++)
		if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}


void
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
int
config_env_parse(const char *s, char ***out, char **why)
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

/* PATH is an executable file (not a directory); else 0 with *err. */
int
config_env_executable(const char *path, int *err)
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

char *
config_env_which(const char *file, const char *search, int *err)
{
	const char *p, *end;
	char *cand;
	int why = ENOENT, found_err = 0;

	if (search == NULL)
		search = getenv("PATH");
	if (search == NULL)
		search = CONFIG_DEFAULT_PATH;
	for (p = search; ; p = end + 1) {
		end = strchrnul(p, ':');
		/* Only absolute entries give an absolute path to keep. */
		if (end > p && *p == '/') {
			xasprintf(&cand, "%.*s/%s", (int)(end - p), p, file);
			if (config_env_executable(cand, &why))
				return cand;
			if (why != ENOENT && why != ENOTDIR && found_err == 0)
				found_err = why;
			free(cand);
		}
		if (*end == '\0')
			break;
	}
	*err = found_err != 0 ? found_err : ENOENT;
	return NULL;
}
