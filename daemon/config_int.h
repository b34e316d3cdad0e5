/*
 * config_int.h: what the config*.c files share and nothing else sees:
 * the reader (files, raw sections and keys as read, the messages), the
 * value types, and the key table's row (config_keys.c). tendd.h has the
 * config object itself and the functions the rest of tendd calls.
 */
#ifndef CONFIG_INT_H
#define CONFIG_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "expand.h"
#include "tendd.h"

/* sizeof(sockaddr_un.sun_path) - 1: longer paths cannot be bound. */
#define CONFIG_SOCKET_MAX	107
/* Durations above this (about 31 years) are typos. */
#define CONFIG_SECS_MAX		1e9
/* numprocs and the processes of a whole config: beyond is a typo or worse. */
#define CONFIG_NUMPROCS_MAX	10000
#define CONFIG_PROCS_MAX	50000
/* [include]s within [include]s, and files in all. */
#define CONFIG_INCLUDE_DEPTH	32
#define CONFIG_FILES_MAX	4096
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
	int		 inet_file;	/* where [inet_http_server] port is */
	int		 inet_line;
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
	CT_READY,	/* none, notify or a probe (probe.c); kept as written */
	CT_HEALTH,	/* healthcheck: none or a probe */
	CT_RLIMIT,
	CT_NUMPROCS,	/* 0 .. CONFIG_NUMPROCS_MAX */
	CT_NUMSTART,	/* numprocs_start: 0 .. INT_MAX */
	CT_NAME,	/* a process name: no ':', '/', blanks */
	CT_UNSUPPORTED,	/* supervisord's, not tend's: warned about */
	CT_DERIVED,	/* not a key: a difference found elsewhere (config_diff.c) */
	CT_NTYPES
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

/* A default as a row states it; strings are copied when set. */
union config_def {
	int		 i;
	long long	 ll;
	double		 d;
	const char	*s;
	uint8_t		 codes[32];
};

/* The sections a key table is for: config_keys_table(). */
enum config_section {
	CONFIG_SEC_TEND,	/* [tend], also spelt [supervisord] */
	CONFIG_SEC_UHS,		/* supervisord's [unix_http_server] */
	CONFIG_SEC_PROGRAM,
	CONFIG_SEC_GROUP,
	CONFIG_SEC_INCLUDE,
	CONFIG_SEC_INET,	/* supervisord's [inet_http_server] */
	CONFIG_NSECTIONS
};

/* What a reload does when a key's value differs (docs/design.md). */
enum config_reload {
	CONFIG_RELOAD_NONE,	/* not stored, or read with others: nothing
				   of its own to apply */
	CONFIG_RELOAD_PROCESS,	/* the process restarts: a "key that differs" */
	CONFIG_RELOAD_LIVE,	/* taken as is: the new value applies from
				   the reload on, no process restarts */
	CONFIG_RELOAD_TENDD,	/* only when tendd restarts: the reload says so */
};

/* Two processes' settings being compared (config_diff.c). */
struct config_diff {
	const struct tend_conf		*ca;	/* NULL: no [tend] side */
	const struct tend_conf		*cb;
	const struct program_conf	*a;
	const struct program_conf	*b;
};

#define CONFIG_NOWHERE	((size_t)-1)

/*
 * One key of one section: the only place a key is listed. Defaults,
 * storing, freeing and the reload diff are loops over the table.
 */
struct config_key {
	const char	*name;		/* as written in the file, lower case;
					   for CT_DERIVED, as a reload names it */
	enum config_type type;		/* how it is read and stored */
	size_t		 off;		/* in the section's object, or
					   CONFIG_NOWHERE: read, checked, not kept */
	enum config_reload reload;
	union config_def def;		/* stored before the file is read */
	/* A difference other than of the value at off; NULL: that value. */
	int		(*differs)(const struct config_diff *);
	const char	*doc;		/* one line; the man page says more */
};

#define CONFIG_PROG(f)	offsetof(struct program_conf, f)
#define CONFIG_TEND(f)	offsetof(struct tend_conf, f)

/* config.c: messages of one read, "file:line: text". */
void	 config_error(struct config_reader *, int, int, const char *, ...)
	    __attribute__((format(printf, 4, 5)));
void	 config_warn_file(struct config_reader *, int, int, const char *,
	    ...) __attribute__((format(printf, 4, 5)));
void	 config_warn_machine(struct config_reader *, int, int,
	    const char *, ...) __attribute__((format(printf, 4, 5)));
char	*config_where(struct config_reader *, int from_file, int file,
	    int line);
struct config_rawkey *config_sec_key(struct config_rawsec *, const char *);
const char *config_name_problem(const char *);
void	 config_expand_vars(struct config_reader *, struct expand_vars *,
	    int file, const char *program, const char *group, int process_num,
	    int numprocs);
int	 config_read_key(struct config_reader *, const struct config_rawkey *,
	    enum config_type, const struct expand_vars *, union config_val *);
void	 config_unknown_key(struct config_reader *,
	    const struct config_rawkey *, const struct config_key *);

/* config_file.c: the main file and its [include]s into raw sections. */
int	 config_file_read(struct config_reader *, const char *path, int from,
	    const struct config_rawkey *);
struct config_rawsec *config_file_section(struct config_reader *,
	    const char *name, int file);
void	 config_file_lower(char *);

/* config_keys.c: the key table and the loops over it. */
const struct config_key *config_keys_table(enum config_section);
const struct config_key *config_keys_find(const struct config_key *,
	    const char *name);
void	 config_keys_defaults(const struct config_key *, void *obj);
void	 config_keys_store(const struct config_key *, void *obj,
	    union config_val *);
void	 config_keys_free(const struct config_key *, void *obj);
int	 config_keys_equal(const struct config_key *, const void *a,
	    const void *b);
char	*config_keys_format(const struct config_key *, const void *obj);

/* config_value.c: a value as its type reads it. */
int	 config_value_parse(struct config_reader *,
	    const struct config_rawkey *, enum config_type, const char *value,
	    union config_val *, char **why);
/* Which types read into v->s (the others must not free it). */
int	 config_value_is_string(enum config_type);

/* config_check.c: the machine's side, and the object whole. */
void	 config_check_owner(struct config_reader *,
	    const struct config_rawkey *, const char *owner);
void	 config_check_daemon_user(struct config_reader *,
	    const struct config_rawkey *, const char *user);
void	 config_check_dir(struct config_reader *, const struct config_rawkey *,
	    const char *dir, const char *what);
void	 config_check_syslog(struct config_reader *,
	    const struct config_rawkey *);
void	 config_check_readiness(struct config_reader *,
	    struct program_conf *, struct config_rawsec *);
/* sockets.c: sockets/socket of a [program:] or [fcgi-program:]. */
void	 config_check_sockets(struct config_reader *,
	    struct program_conf *, struct config_rawsec *);
void	 config_check_process(struct config_reader *, struct tend_conf *,
	    struct program_conf *, struct config_rawsec *);
void	 config_check_groups(struct config_reader *);
void	 config_check_names(struct config_reader *, struct tend_conf *);
void	 config_check_depends(struct config_reader *, struct tend_conf *);
void	 config_check_fds(struct config_reader *, const struct tend_conf *);

/* config_env.c */
void	 config_env_set(char ***envp, const char *key, size_t keylen,
	    const char *value);
const char *config_env_get(char *const *env, const char *name);
int	 config_env_parse(const char *s, char ***out, char **why);
int	 config_env_executable(const char *path, int *err);

/* config_diff.c: differences the table's rows cannot see at an offset. */
int	 config_diff_name(const struct config_diff *);
int	 config_diff_command(const struct config_diff *);
int	 config_diff_env_file(const struct config_diff *);
int	 config_diff_tend_environment(const struct config_diff *);
int	 config_diff_group_priority(const struct config_diff *);
int	 config_diff_childlogdir(const struct config_diff *);

#endif
