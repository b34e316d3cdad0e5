/*
 * protocol.h: the wire contract between tendd and tendctl (spec §4, §5).
 * Newline-delimited JSON over a SOCK_STREAM Unix socket; docs/protocol.md
 * describes every request and reply.
 */
#ifndef TEND_PROTOCOL_H
#define TEND_PROTOCOL_H

#include <stddef.h>

#include <jansson.h>

#define TEND_PROTOCOL_VERSION	1
/* A request line longer than this is refused (spec §5). */
#define TEND_MAX_LINE		(1024 * 1024)
/*
 * A reply line may be longer: the status of 10,000 processes as full
 * objects is 2.5 MB. tendd never queues more than this for a client
 * (control.c), so tendctl takes up to this much before it calls a reply
 * broken.
 */
#define TEND_MAX_REPLY		(16 * 1024 * 1024)

/* tendctl exit statuses (spec §4). */
#define TEND_EXIT_OK		0
#define TEND_EXIT_FAILED	1
#define TEND_EXIT_USAGE		2
#define TEND_EXIT_NOT_RUNNING	3
#define TEND_EXIT_UNKNOWN_NAME	4
#define TEND_EXIT_UNREACHABLE	5
#define TEND_EXIT_TIMEOUT	124

/* Error codes in {"ok": false, "error": {"code": ...}}. */
#define TEND_ERR_BAD_REQUEST	"bad_request"	/* not JSON, not an object, wrong field type */
#define TEND_ERR_UNKNOWN_CMD	"unknown_command"
#define TEND_ERR_MISSING	"missing_field"
#define TEND_ERR_TOO_LONG	"line_too_long"
#define TEND_ERR_UNKNOWN_NAME	"unknown_name"
#define TEND_ERR_FAILED		"failed"	/* the action was tried and did not succeed */
#define TEND_ERR_DENIED		"permission_denied"
#define TEND_ERR_SHUTTING_DOWN	"shutting_down"
#define TEND_ERR_CONFIG		"config_error"	/* reload: errors in the file */
#define TEND_ERR_TIMEOUT	"timeout"	/* wait --timeout ran out */
#define TEND_ERR_BUSY		"too_many_connections"

#define TEND_DEFAULT_CONFIG	"/etc/tend/tend.conf"

/*
 * The default socket: /run/tend/tend.sock for root, else
 * $XDG_RUNTIME_DIR/tend/tend.sock (falling back to /tmp/tend-UID/tend.sock
 * when XDG_RUNTIME_DIR is unset). Returns an allocated string.
 */
char	*protocol_default_socket(void);

/*
 * One request line -> its JSON object, with "id" (json null when absent)
 * and "cmd" checked. 0 on success (*req and *id are new references), or
 * -1 with the error code and an allocated message for the reply; *id is
 * then the request's id when it could be read, else json null.
 */
/*
 * S as a JSON string whatever its bytes (NULL: json null): text that is
 * not UTF-8 is repaired as utf8_clean() does, so that jansson, which
 * refuses invalid UTF-8, never sees it. NULL only when out of memory.
 * Every string from outside that a reply or an event carries is made
 * with this (or written by jsonw, which repairs the same way).
 */
json_t	*protocol_string(const char *s);

int	 protocol_decode(const char *line, size_t len, json_t **req,
	    json_t **id, const char **cmd, const char **code, char **msg);

#endif
