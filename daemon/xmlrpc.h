/*
 * xmlrpc.h: supervisord's HTTP + XML-RPC interface (spec section 9), between
 * its three files: http.c (the HTTP/1.x transport on the control socket
 * and on [inet_http_server]), xmlrpc.c (the codec) and rpc_supervisor.c
 * (the methods). The rest of tendd sees the calls in tendd.h.
 */
#ifndef TEND_XMLRPC_H
#define TEND_XMLRPC_H

#include <stddef.h>

#include <jansson.h>

#include "tendd.h"

/* supervisord's fault codes (supervisor/xmlrpc.py). */
enum rpc_fault {
	FAULT_UNKNOWN_METHOD = 1,
	FAULT_INCORRECT_PARAMETERS = 2,
	FAULT_BAD_ARGUMENTS = 3,
	FAULT_SIGNATURE_UNSUPPORTED = 4,
	FAULT_SHUTDOWN_STATE = 6,
	FAULT_BAD_NAME = 10,
	FAULT_BAD_SIGNAL = 11,
	FAULT_NO_FILE = 20,
	FAULT_NOT_EXECUTABLE = 21,
	FAULT_FAILED = 30,
	FAULT_ABNORMAL_TERMINATION = 40,
	FAULT_SPAWN_ERROR = 50,
	FAULT_ALREADY_STARTED = 60,
	FAULT_NOT_RUNNING = 70,
	FAULT_SUCCESS = 80,
	FAULT_ALREADY_ADDED = 90,
	FAULT_STILL_RUNNING = 91,
	FAULT_CANT_REREAD = 92,
};

/* xmlrpc.c */
struct xmlrpc_buf {
	char		*data;
	size_t		 len, size;
};
/*
 * A methodCall: 0 with the method's name and its params (an array),
 * or -1 with *cause (not XML, a DOCTYPE, too deep, a bad value).
 */
int	 xmlrpc_decode(const char *body, size_t len, char **method,
	    json_t **params, char **cause);
void	 xmlrpc_encode_response(struct xmlrpc_buf *, json_t *value);
void	 xmlrpc_encode_fault(struct xmlrpc_buf *, int code, const char *text);
void	 xmlrpc_put_text(struct xmlrpc_buf *, const char *, size_t);
int	 xmlrpc_base64_decode(const char *in, unsigned char *out, size_t *n);

/* http.c: a request's head (CRLF CRLF included) as the reader parses
   it: 0, or the HTTP status refusing it; for the fuzz target. */
int	 http_parse_head(struct http_conn *, char *head, size_t len);
void	 http_conn_free(struct http_conn *);

/* http.c: what the methods answer through. */
/* The XML-RPC reply to C's request in flight (steals nothing). */
void	 http_reply_value(struct conn *, json_t *value);
void	 http_reply_fault(struct conn *, int code, const char *text);

/*
 * rpc_supervisor.c: one methodCall of C (its params an array). Replies
 * through http_reply_*() now, or later for a call that waits (start or
 * stop with wait): then returns 1 and the connection reads nothing more
 * until that reply.
 */
int	 rpc_call(struct conn *, const char *method, json_t *params);
/* GET /logtail/NAME[/stderr]: the process and stream, or NULL (404). */
struct proc *rpc_find_process(const char *namespec);

#endif
