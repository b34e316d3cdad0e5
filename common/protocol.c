/*
 * protocol.c: what both ends compute the same way: the default socket,
 * and the checks every request line goes through before a handler.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "protocol.h"
#include "utf8.h"
#include "util.h"

char *
protocol_default_socket(void)
{
	const char *xdg;
	char *s;

	if (geteuid() == 0)
		return xstrdup("/run/tend/tend.sock");
	xdg = getenv("XDG_RUNTIME_DIR");
	if (xdg != NULL && *xdg == '/')
		xasprintf(&s, "%s/tend/tend.sock", xdg);
	else
		xasprintf(&s, "/tmp/tend-%u/tend.sock", (unsigned)geteuid());
	return s;
}

json_t *
protocol_string(const char *s)
{
	size_t len;
	char *clean;
	json_t *j;

	if (s == NULL)
		return json_null();
	len = strlen(s);
	if (utf8_valid(s, len))
		return json_stringn_nocheck(s, len);
	clean = utf8_dup(s, SIZE_MAX);
	j = json_stringn_nocheck(clean, strlen(clean));
	free(clean);
	return j;
}

int
protocol_decode(const char *line, size_t len, json_t **req, json_t **id,
    const char **cmd, const char **code, char **msg)
{
	json_error_t err;
	char text[sizeof(err.text) * 3];
	json_t *j, *c;

	*req = NULL;
	*id = json_null();
	*cmd = NULL;
	if (len > TEND_MAX_LINE) {
		*code = TEND_ERR_TOO_LONG;
		*msg = xstrdup("request line over 1 MiB");
		return -1;
	}
	j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
	if (j == NULL) {
		/* jansson quotes the request, cut by bytes: text again */
		utf8_clean(text, sizeof(text), err.text, strlen(err.text),
		    UTF8_NOCTRL | UTF8_WASCUT);
		*code = TEND_ERR_BAD_REQUEST;
		xasprintf(msg, "not JSON: %s", text);
		return -1;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		*code = TEND_ERR_BAD_REQUEST;
		*msg = xstrdup("a request is a JSON object");
		return -1;
	}
	if (json_object_get(j, "id") != NULL) {
		json_decref(*id);
		*id = json_incref(json_object_get(j, "id"));
	}
	c = json_object_get(j, "cmd");
	if (c == NULL || !json_is_string(c)) {
		json_decref(j);
		*code = c == NULL ? TEND_ERR_MISSING : TEND_ERR_BAD_REQUEST;
		*msg = xstrdup(c == NULL ? "no cmd in the request" :
		    "cmd must be a string");
		return -1;
	}
	*req = j;
	*cmd = json_string_value(c);
	return 0;
}
