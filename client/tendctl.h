/*
 * tendctl.h: the private header of tendctl: the connection to tendd
 * (tendctl.c), the command table (commands.c) and the printers (print.c).
 */
#ifndef TENDCTL_H
#define TENDCTL_H

#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* Error codes tendctl itself puts in {"error": {...}} under --json. */
#define TENDCTL_ERR_USAGE	"usage"
#define TENDCTL_ERR_CONFIG	"config"
#define TENDCTL_ERR_UNREACHABLE	"unreachable"
#define TENDCTL_ERR_CLOSED	"connection_closed"
#define TENDCTL_ERR_BAD_REPLY	"bad_reply"

/* One run of tendctl: where tendd is and how to talk to it. */
struct tendctl {
	const char	*sockopt;	/* -s */
	const char	*config;	/* -c */
	char		*socket;	/* resolved at connect time */
	int		 json;		/* --json */
	int		 fd;		/* -1 until connected */
	long long	 next_id;
	char		*buf;		/* bytes read but not yet split into lines */
	size_t		 len;
	size_t		 cap;
};

/*
 * What a command line parsed into. Options are stored by their getopt
 * value: opt['W'] is "" when a flag was given, the argument for options
 * that take one, NULL when absent.
 */
struct tendctl_args {
	int		 argc;
	char		**argv;		/* the operands after the options */
	const char	*opt[UCHAR_MAX + 1];
};

/* Option values shared by several commands. */
#define CMDOPT_NO_WAIT	'W'	/* --no-wait: long only */
#define CMDOPT_RESOURCES 'R'	/* status --resources: long only */

struct tendctl_cmd {
	const char	*name;
	const char	*args;		/* for usage: "[--no-wait] NAME..." */
	const char	*summary;	/* one line for tendctl --help */
	int		 min_args;
	int		 max_args;	/* -1: no limit */
	const char	*shortopts;	/* beyond -h */
	const struct option *longopts;	/* beyond --help and --json; may be NULL */
	int		(*exec)(struct tendctl *, struct tendctl_args *);
};

/* tendctl.c */
int	 tendctl_connect(struct tendctl *);
int	 tendctl_request(struct tendctl *, const char *, json_t *, json_t **);
int	 tendctl_read_line(struct tendctl *, char **);
int	 tendctl_wait_close(struct tendctl *);
int	 tendctl_fail(struct tendctl *, int, const char *, const char *, ...)
	    __attribute__((format(printf, 4, 5)));

/* commands.c */
const struct tendctl_cmd *commands_find(const char *);
int	 commands_run(struct tendctl *, const struct tendctl_cmd *, int, char **);
void	 commands_usage(FILE *);
void	 commands_usage_one(FILE *, const struct tendctl_cmd *);

/* print.c */
void	 print_json(json_t *);
void	 print_error_json(json_t *, json_t *);
json_t	*print_status_fields(int resources);
void	 print_status_resources(json_t *before, json_t *rows, double secs);
const char *print_status_state(json_t *);
void	 print_status(json_t *);
int	 print_results(json_t *, const char *const *);
const char *print_str(json_t *, const char *, const char *);

#endif
