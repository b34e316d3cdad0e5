/*
 * confsock.c: owns finding the control socket from a config file for
 * tendctl (confsock.h). Only the socket keys are looked at, and problems
 * anywhere else in the file are none of tendctl's business.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "confsock.h"
#include "expand.h"
#include "ini.h"
#include "protocol.h"
#include "util.h"

struct confsock {
	char	*socket;	/* [tend] or [supervisord] socket */
	int	 socket_line;
	char	*file;		/* [unix_http_server] file */
	int	 file_line;
};

static void
confsock_entry(void *arg, const char *section, const char *key,
    const char *value, int line)
{
	struct confsock *cs = arg;

	if (key == NULL)
		return;
	/* Keys are case-insensitive, as configparser makes them. */
	if ((strcmp(section, "tend") == 0 ||
	    strcmp(section, "supervisord") == 0) &&
	    strcasecmp(key, "socket") == 0) {
		free(cs->socket);
		cs->socket = xstrdup(value);
		cs->socket_line = line;
	} else if (strcmp(section, "unix_http_server") == 0 &&
	    strcasecmp(key, "file") == 0) {
		free(cs->file);
		cs->file = xstrdup(value);
		cs->file_line = line;
	}
}

char *
confsock_read(const char *file, char **cause)
{
	struct confsock cs;
	struct expand_vars vars;
	const char *raw, *section;
	char *here = NULL, *expanded = NULL, *path = NULL, *why = NULL;
	int line;

	memset(&cs, 0, sizeof(cs));
	if (ini_read_file(file, confsock_entry, NULL, &cs, cause) == -1)
		return NULL;

	if (cs.socket != NULL) {
		raw = cs.socket;
		line = cs.socket_line;
		section = "[tend] socket";
	} else if (cs.file != NULL) {
		raw = cs.file;
		line = cs.file_line;
		section = "[unix_http_server] file";
	} else {
		path = protocol_default_socket();
		goto out;
	}

	here = expand_here(file);
	memset(&vars, 0, sizeof(vars));
	vars.here = here;
	vars.process_num = -1;
	vars.numprocs = -1;
	if (expand_value(raw, &vars, &expanded, &why) == -1) {
		/* tendd would refuse this file too: say where, not guess. */
		xasprintf(cause, "%s:%d: %s: %s", file, line, section, why);
		free(why);
		goto out;
	}
	if (*expanded == '\0') {
		xasprintf(cause, "%s:%d: %s: empty path", file, line, section);
		goto out;
	}
	path = expand_path(here, expanded);

out:
	free(here);
	free(expanded);
	free(cs.socket);
	free(cs.file);
	return path;
}
