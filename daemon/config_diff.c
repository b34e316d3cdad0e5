/*
 * config_diff.c: what differs between two configs, for a reload. A
 * process restarts when a [program:] row of class PROCESS differs (its
 * value at the row's offset, or what the row's differs function looks
 * at: a value derived at load, a [tend] or [group:] setting the process
 * runs with); [tend] rows of class TENDD are listed as waiting for
 * tendd's restart. Both lists follow the table's order (config_keys.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

static int
config_diff_str_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static void
config_diff_add(char ***v, const char *s)
{
	size_t n = strv_len(*v);

	*v = xreallocarray(*v, n + 2, sizeof(char *));
	(*v)[n] = xstrdup(s);
	(*v)[n + 1] = NULL;
}

/* The process name is its handle with the group: either differs. */
int
config_diff_name(const struct config_diff *d)
{
	return !config_diff_str_equal(d->a->name, d->b->name) ||
	    !config_diff_str_equal(d->a->group, d->b->group);
}

/* What is exec'd: the words as split, and the file found in PATH. */
int
config_diff_command(const struct config_diff *d)
{
	return !strv_equal(d->a->argv, d->b->argv) ||
	    !config_diff_str_equal(d->a->path, d->b->path);
}

/* The file, and what it said at load. */
int
config_diff_env_file(const struct config_diff *d)
{
	return !config_diff_str_equal(d->a->env_file, d->b->env_file) ||
	    !strv_equal(d->a->env_file_env, d->b->env_file_env);
}

/* Every child gets [tend] environment. */
int
config_diff_tend_environment(const struct config_diff *d)
{
	return d->ca != NULL && d->cb != NULL &&
	    !strv_equal(d->ca->environment, d->cb->environment);
}

/* The group's order, unless the program's own changed (named then). */
int
config_diff_group_priority(const struct config_diff *d)
{
	return d->a->group_priority != d->b->group_priority &&
	    d->a->priority == d->b->priority;
}

/* AUTO files are made in childlogdir, named with the identifier. */
int
config_diff_childlogdir(const struct config_diff *d)
{
	return d->ca != NULL && d->cb != NULL &&
	    (config_diff_str_equal(d->a->stdout_logfile, "AUTO") ||
	    config_diff_str_equal(d->a->stderr_logfile, "AUTO")) &&
	    (!config_diff_str_equal(d->ca->childlogdir, d->cb->childlogdir) ||
	    !config_diff_str_equal(d->ca->identifier, d->cb->identifier));
}

char **
config_program_changes(const struct tend_conf *ca,
    const struct program_conf *a, const struct tend_conf *cb,
    const struct program_conf *b)
{
	const struct config_key *k;
	struct config_diff d = { ca, cb, a, b };
	char **keys = NULL;
	int differs;

	for (k = config_keys_table(CONFIG_SEC_PROGRAM); k->name != NULL; k++) {
		if (k->reload != CONFIG_RELOAD_PROCESS)
			continue;
		if (k->differs != NULL)
			differs = k->differs(&d);
		else
			differs = !config_keys_equal(k, a, b);
		if (differs)
			config_diff_add(&keys, k->name);
	}
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

char **
config_restart_changes(const struct tend_conf *a, const struct tend_conf *b)
{
	const struct config_key *k;
	char **v = NULL, *sa, *sb, *s;

	/* What tendd set up for itself at start: its socket, log, cwd. */
	for (k = config_keys_table(CONFIG_SEC_TEND); k->name != NULL; k++) {
		if (k->reload != CONFIG_RELOAD_TENDD ||
		    config_keys_equal(k, a, b))
			continue;
		sa = config_keys_format(k, a);
		sb = config_keys_format(k, b);
		xasprintf(&s, "[tend] %s: %s -> %s", k->name, sa, sb);
		config_diff_add(&v, s);
		free(s);
		free(sa);
		free(sb);
	}
	return v;
}
