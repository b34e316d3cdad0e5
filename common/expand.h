/*
 * expand.h: the text transformations of config values: supervisord's
 * %(name)s expansions, the shell-like split of a command into argv,
 * relative paths made absolute, and the "did you mean" lookup used for
 * misspelled names.
 */
#ifndef TEND_EXPAND_H
#define TEND_EXPAND_H

#include <stddef.h>

/*
 * What %(name)s may refer to in one section. A NULL string (or a negative
 * process_num or numprocs) means the name does not exist there, as
 * %(program_name)s outside [program:]. %(ENV_X)s is always there when X
 * is set, and %(host_node_name)s always (uname's node name unless set
 * here).
 */
struct expand_vars {
	const char	*here;		/* directory of the file */
	const char	*program_name;
	const char	*group_name;
	const char	*host_node_name;
	int		 process_num;
	int		 numprocs;	/* %(numprocs)d; -1: none */
};

/*
 * Expands IN into an allocated *OUT: %(name)s and %(name)d with printf's
 * flags, width and precision (%(process_num)02d), and %% for %. Returns 0,
 * or -1 with an allocated *cause ("unknown name %(prog)s; did you mean
 * %(program_name)s?", "%(ENV_HOME)s: HOME is not set", "lone %: write %%").
 */
int	 expand_value(const char *in, const struct expand_vars *vars,
	    char **out, char **cause);

/*
 * Splits CMD into words like a POSIX shell, without globs or variables:
 * blanks separate words; '...' is literal; in "..." a backslash escapes
 * only \ " $ ` (and drops a newline); outside quotes a backslash escapes
 * any character. Returns 0 with an allocated NULL-terminated *argv (at
 * least one word), or -1 with an allocated *cause.
 */
int	 expand_argv(const char *cmd, char ***argv, char **cause);

/*
 * PATH made absolute against DIR when it is relative, with ".", ".." and
 * repeated slashes resolved by text alone (like Python's os.path.abspath:
 * symlinks are left alone). Allocated.
 */
char	*expand_path(const char *dir, const char *path);
/* The absolute directory of FILE (a relative FILE is under the cwd). */
char	*expand_here(const char *file);

/*
 * The candidate closest to WORD (case-insensitive edit distance) when it
 * is close enough to be a likely typo, else NULL. CANDS ends with NULL.
 */
const char *expand_suggest(const char *word, const char *const *cands);

#endif
