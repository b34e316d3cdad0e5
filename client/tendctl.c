/*
 * tendctl.c: main() of the control client: global options, finding the
 * socket (spec §4), and the blocking connection to tendd: one request
 * line out, reply lines in until the one with our id.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "confsock.h"
#include "protocol.h"
#include "tendctl.h"
#include "util.h"

/* Read size; the buffer grows in these steps up to one full line. */
#define TENDCTL_READ_CHUNK	(64 * 1024)

static int	 tendctl_find_socket(struct tendctl *);
static int	 tendctl_write(struct tendctl *, const char *, size_t);
static int	 tendctl_usage_error(struct tendctl *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static const struct option tendctl_longopts[] = {
	{ "config",	required_argument,	NULL,	'c' },
	{ "socket",	required_argument,	NULL,	's' },
	{ "json",	no_argument,		NULL,	'j' },
	{ "help",	no_argument,		NULL,	'h' },
	{ "version",	no_argument,		NULL,	'V' },
	{ NULL,		0,			NULL,	0 }
};

/*
 * Reports an error the way every tendctl error is reported: one sentence
 * on stderr and, under --json, {"error": {...}} on stdout. Returns STATUS
 * so callers can write "return tendctl_fail(...)".
 */
int
tendctl_fail(struct tendctl *t, int status, const char *code,
    const char *fmt, ...)
{
	va_list ap;
	json_t *err;
	char *msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "tendctl: %s\n", msg);
	if (t->json) {
		err = json_pack("{s:s,s:s}", "code", code, "message", msg);
		print_error_json(err, NULL);
		json_decref(err);
	}
	free(msg);
	return status;
}

static int
tendctl_usage_error(struct tendctl *t, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	tendctl_fail(t, TEND_EXIT_USAGE, TENDCTL_ERR_USAGE,
	    "%s (try 'tendctl --help')", msg);
	free(msg);
	return TEND_EXIT_USAGE;
}

/*
 * Spec §4: -s, else $TEND_SOCKET, else the config named by -c (or the
 * default config when it exists), else the default socket path.
 */
static int
tendctl_find_socket(struct tendctl *t)
{
	const char *env;
	char *cause = NULL;
	int status;

	if (t->sockopt != NULL) {
		t->socket = xstrdup(t->sockopt);
		return 0;
	}
	env = getenv("TEND_SOCKET");
	if (env != NULL && *env != '\0') {
		t->socket = xstrdup(env);
		return 0;
	}
	if (t->config != NULL) {
		/* A file the operator named must be readable: say so. */
		t->socket = confsock_read(t->config, &cause);
		if (t->socket == NULL) {
			status = tendctl_fail(t, TEND_EXIT_USAGE,
			    TENDCTL_ERR_CONFIG, "%s",
			    cause != NULL ? cause : "cannot read the config");
			free(cause);
			return status;
		}
		return 0;
	}
	if (access(TEND_DEFAULT_CONFIG, F_OK) == 0) {
		/*
		 * The default config is often root-only; a user who cannot
		 * read it still gets the default socket rather than an error.
		 */
		t->socket = confsock_read(TEND_DEFAULT_CONFIG, &cause);
		free(cause);
		if (t->socket != NULL)
			return 0;
	}
	t->socket = protocol_default_socket();
	return 0;
}

int
tendctl_connect(struct tendctl *t)
{
	struct sockaddr_un sun;
	int fd, saved, status;

	if (t->fd != -1)
		return 0;
	if (t->socket == NULL && (status = tendctl_find_socket(t)) != 0)
		return status;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(t->socket) >= sizeof sun.sun_path) {
		return tendctl_fail(t, TEND_EXIT_UNREACHABLE,
		    TENDCTL_ERR_UNREACHABLE, "cannot reach tendd at %s: "
		    "the path is too long for a Unix socket", t->socket);
	}
	memcpy(sun.sun_path, t->socket, strlen(t->socket));

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		return tendctl_fail(t, TEND_EXIT_UNREACHABLE,
		    TENDCTL_ERR_UNREACHABLE, "cannot reach tendd at %s: %s",
		    t->socket, strerror(errno));
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		saved = errno;
		close(fd);
		return tendctl_fail(t, TEND_EXIT_UNREACHABLE,
		    TENDCTL_ERR_UNREACHABLE, "cannot reach tendd at %s: %s",
		    t->socket, strerror(saved));
	}
	t->fd = fd;
	return 0;
}

/*
 * Writes all of P: 0; -1 when tendd had closed the connection (not
 * reported: the caller reads what tendd said before closing); or an
 * exit status once another error is reported.
 */
static int
tendctl_write(struct tendctl *t, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		/* MSG_NOSIGNAL: a tendd that went away is an error, not a kill. */
		w = send(t->fd, p, n, MSG_NOSIGNAL);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			/* tendd closed first; its reason may be waiting. */
			if (errno == EPIPE || errno == ECONNRESET)
				return -1;
			return tendctl_fail(t, TEND_EXIT_UNREACHABLE,
			    TENDCTL_ERR_UNREACHABLE, "cannot send to tendd at "
			    "%s: %s", t->socket, strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * The next line from tendd, without its newline: 1 and an allocated
 * *line; 0 when tendd closed the connection (a partial last line is
 * dropped: it cannot be a whole reply); -1 after reporting an error.
 */
int
tendctl_read_line(struct tendctl *t, char **line)
{
	char *nl;
	size_t n;
	ssize_t r;

	*line = NULL;
	for (;;) {
		nl = t->len > 0 ? memchr(t->buf, '\n', t->len) : NULL;
		if (nl != NULL) {
			n = (size_t)(nl - t->buf);
			*line = xmalloc(n + 1);
			memcpy(*line, t->buf, n);
			(*line)[n] = '\0';
			t->len -= n + 1;
			memmove(t->buf, nl + 1, t->len);
			return 1;
		}
		/* No newline within what tendd can send: a broken reply. */
		if (t->len > TEND_MAX_REPLY) {
			tendctl_fail(t, TEND_EXIT_UNREACHABLE,
			    TENDCTL_ERR_BAD_REPLY, "tendd at %s sent a line "
			    "longer than %d bytes", t->socket, TEND_MAX_REPLY);
			return -1;
		}
		if (t->cap - t->len < TENDCTL_READ_CHUNK) {
			while (t->cap - t->len < TENDCTL_READ_CHUNK)
				t->cap = t->cap == 0 ? TENDCTL_READ_CHUNK :
				    t->cap * 2;
			t->buf = xrealloc(t->buf, t->cap);
		}
		r = read(t->fd, t->buf + t->len, t->cap - t->len);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			if (errno == ECONNRESET)
				return 0;
			tendctl_fail(t, TEND_EXIT_UNREACHABLE,
			    TENDCTL_ERR_UNREACHABLE, "cannot read from tendd "
			    "at %s: %s", t->socket, strerror(errno));
			return -1;
		}
		if (r == 0)
			return 0;
		t->len += (size_t)r;
	}
}

/*
 * Sends {"id", "cmd", FIELDS...} (FIELDS is consumed, may be NULL) and
 * waits for the reply carrying our id; lines for other ids are skipped.
 * Returns 0 with *reply, or an exit status once the error is reported.
 */
int
tendctl_request(struct tendctl *t, const char *cmd, json_t *fields,
    json_t **reply)
{
	json_t *req, *r, *id;
	json_error_t jerr;
	long long myid;
	char *text, *line;
	size_t len;
	int status, got, cut = 0;

	*reply = NULL;
	if ((status = tendctl_connect(t)) != 0) {
		json_decref(fields);
		return status;
	}

	myid = t->next_id++;
	req = json_object();
	json_object_set_new(req, "id", json_integer(myid));
	json_object_set_new(req, "cmd", json_string(cmd));
	if (fields != NULL)
		json_object_update(req, fields);
	json_decref(fields);
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (text == NULL) {
		return tendctl_fail(t, TEND_EXIT_USAGE, TENDCTL_ERR_USAGE,
		    "cannot encode the %s request", cmd);
	}
	len = strlen(text);
	text = xrealloc(text, len + 2);
	text[len] = '\n';
	text[len + 1] = '\0';
	status = tendctl_write(t, text, len + 1);
	free(text);
	/*
	 * Closed on us (a refused peer, too many connections): tendd said
	 * why before it closed, and that line is still there to read.
	 */
	if (status == -1)
		cut = 1;
	else if (status != 0)
		return status;

	for (;;) {
		got = tendctl_read_line(t, &line);
		if (got == -1)
			return TEND_EXIT_UNREACHABLE;
		if (got == 0 && cut) {
			return tendctl_fail(t, TEND_EXIT_UNREACHABLE,
			    TENDCTL_ERR_CLOSED, "tendd at %s closed the "
			    "connection", t->socket);
		}
		if (got == 0) {
			return tendctl_fail(t, TEND_EXIT_UNREACHABLE,
			    TENDCTL_ERR_CLOSED, "tendd at %s closed the "
			    "connection before replying to %s", t->socket, cmd);
		}
		r = json_loads(line, JSON_ALLOW_NUL, &jerr);
		free(line);
		if (r == NULL || !json_is_object(r)) {
			json_decref(r);
			return tendctl_fail(t, TEND_EXIT_UNREACHABLE,
			    TENDCTL_ERR_BAD_REPLY, "tendd at %s sent a reply "
			    "that is not a JSON object", t->socket);
		}
		id = json_object_get(r, "id");
		if (json_is_integer(id) && json_integer_value(id) == myid)
			break;
		/*
		 * A null id answers a request tendd could not read; ours is
		 * the only one in flight, so such an error is ours.
		 */
		if ((id == NULL || json_is_null(id)) &&
		    json_is_false(json_object_get(r, "ok")))
			break;
		json_decref(r);
	}
	if (!json_is_boolean(json_object_get(r, "ok"))) {
		json_decref(r);
		return tendctl_fail(t, TEND_EXIT_UNREACHABLE,
		    TENDCTL_ERR_BAD_REPLY, "tendd at %s sent a reply without "
		    "\"ok\"", t->socket);
	}
	*reply = r;
	return 0;
}

/*
 * Reads and drops lines until tendd closes the connection: how shutdown
 * learns that tendd has exited. No timeout: stopping may take a while,
 * and a dead tendd closes the socket anyway.
 */
int
tendctl_wait_close(struct tendctl *t)
{
	char *line;
	int got;

	while ((got = tendctl_read_line(t, &line)) == 1)
		free(line);
	return got == 0 ? 0 : TEND_EXIT_UNREACHABLE;
}

int
main(int argc, char **argv)
{
	struct tendctl t = { .fd = -1, .next_id = 1 };
	const struct tendctl_cmd *cmd;
	int ch, status;

	opterr = 0;
	/* "+": stop at the command; its own options are parsed later. */
	while ((ch = getopt_long(argc, argv, "+:c:s:h", tendctl_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			t.config = optarg;
			break;
		case 's':
			t.sockopt = optarg;
			break;
		case 'j':
			t.json = 1;
			break;
		case 'h':
			commands_usage(stdout);
			return TEND_EXIT_OK;
		case 'V':
			printf("tendctl %s\n", TEND_VERSION);
			return TEND_EXIT_OK;
		case ':':
			return tendctl_usage_error(&t, "option %s needs an "
			    "argument", argv[optind - 1]);
		default:
			if (optopt != 0) {
				return tendctl_usage_error(&t,
				    "unknown option: -%c", optopt);
			}
			return tendctl_usage_error(&t, "unknown option: %s",
			    argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return tendctl_usage_error(&t, "no command given");
	if ((cmd = commands_find(argv[optind])) == NULL) {
		return tendctl_usage_error(&t, "unknown command: %s",
		    argv[optind]);
	}

	status = commands_run(&t, cmd, argc - optind, argv + optind);

	if (t.fd != -1)
		close(t.fd);
	free(t.socket);
	free(t.buf);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "tendctl: cannot write the output: %s\n",
		    strerror(errno));
		if (status == TEND_EXIT_OK)
			status = TEND_EXIT_FAILED;
	}
	return status;
}
