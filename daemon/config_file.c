/*
 * config_file.c: the main file and the files its [include]s name, read
 * through ini.c into raw sections and keys (struct config_reader), so
 * that duplicates and unknown names can be judged with every line known:
 * include loops, depth, globs, and the sections of several files read
 * as one.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "ini.h"

void
config_file_lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = tolower((unsigned char)*s);
}

/* [include] is read per file (each file's names files beside it). */
static int
config_file_per_file(const char *name)
{
	return strcmp(name, "include") == 0;
}

struct config_rawsec *
config_file_section(struct config_reader *rd, const char *name, int file)
{
	int i;

	for (i = 0; i < rd->nsecs; i++)
		if (strcmp(rd->secs[i].name, name) == 0 &&
		    (!config_file_per_file(name) ||
		    rd->secs[i].file == file))
			return &rd->secs[i];
	return NULL;
}

static void
config_file_ini_section(struct config_reader *rd, const char *section,
    int line)
{
	struct config_rawsec *sec;
	const char *name = section;
	char *where;

	/* supervisord's own section is ours under its old name. */
	if (strcmp(name, "supervisord") == 0)
		name = "tend";
	/* An [fcgi-program:] is a program whose socket is its stdin
	   (config_process() tells them apart by the label). */
	if (strncmp(name, "fcgi-program:", 13) == 0)
		name = section + 5;
	sec = config_file_section(rd, name, rd->curfile);
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
config_file_ini_entry(void *arg, const char *section, const char *key,
    const char *value, int line)
{
	struct config_reader *rd = arg;
	struct config_rawsec *sec;
	struct config_rawkey *k;
	char *lower, *where;
	int i;

	if (key == NULL) {
		config_file_ini_section(rd, section, line);
		return;
	}
	if (rd->cur == -1) {
		config_error(rd, rd->curfile, line, "%s: not in any section (a "
		    "[section] header must come first)", key);
		return;
	}
	sec = &rd->secs[rd->cur];
	lower = xstrdup(key);
	config_file_lower(lower);

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
config_file_ini_error(void *arg, int line, const char *what)
{
	struct config_reader *rd = arg;

	config_error(rd, rd->curfile, line, "syntax error: %s", what);
}


/* "a.conf -> b.conf -> a.conf": how FILE came to include TARGET again. */
static char *
config_file_loop_chain(struct config_reader *rd, int file, int target)
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
config_file_include_one(struct config_reader *rd, int file,
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
			chain = config_file_loop_chain(rd, file, f);
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
	config_file_read(rd, path, file, k);
}

/* FILE's [include] files = globs, relative to FILE's directory. */
static void
config_file_include(struct config_reader *rd, int file)
{
	struct config_rawsec *sec = config_file_section(rd, "include", file);
	const struct config_key *keys = config_keys_table(CONFIG_SEC_INCLUDE);
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
		sec = config_file_section(rd, "include", file);
		if (i >= sec->nkeys)
			break;
		k = &sec->keys[i];
		kd = config_keys_find(keys, k->name);
		if (kd == NULL) {
			config_unknown_key(rd, k, keys);
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
					config_file_include_one(rd, file, k,
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
int
config_file_read(struct config_reader *rd, const char *path, int from,
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
	if (ini_read_file(path, config_file_ini_entry, config_file_ini_error, rd,
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
	config_file_include(rd, idx);
	rd->files[idx].reading = 0;
	rd->cur = saved_cur;
	rd->curfile = saved_file;
	return 0;
}
