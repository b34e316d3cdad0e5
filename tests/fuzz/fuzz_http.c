/*
 * fuzz_http.c: libFuzzer target for the HTTP request and XML-RPC decoding
 * path of supervisord's interface (daemon/http.c, daemon/xmlrpc.c): any
 * bytes as what a client sends. The head (up to the first CRLF CRLF) goes
 * through http_parse_head() as the reader gives it; the rest, as the
 * body, through xmlrpc_decode() (expat: DOCTYPE refused, depth capped).
 * Beyond the sanitizers it checks: a refusal is an HTTP error status; a
 * decoded call has a method name and an array of params; whatever was
 * decoded, and any bytes as a fault string, encode to well-formed XML
 * that expat reads back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "xmlrpc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
well_formed(const struct xmlrpc_buf *b)
{
	XML_Parser p = XML_ParserCreate("UTF-8");

	if (p == NULL)
		return;
	if (XML_Parse(p, b->data, (int)b->len, 1) != XML_STATUS_OK)
		abort();
	XML_ParserFree(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *end;
	struct http_conn *h;
	struct xmlrpc_buf b = { NULL, 0, 0 };
	char *head, *method = NULL, *cause = NULL;
	json_t *params = NULL;
	size_t hlen = 0;
	int r;

	end = memmem(s, size, "\r\n\r\n", 4);
	if (end != NULL) {
		hlen = (size_t)(end - s) + 4;
		head = malloc(hlen + 1);
		memcpy(head, s, hlen);
		head[hlen] = '\0';
		h = http_conn_new(NULL, 0);
		r = http_parse_head(h, head, hlen);
		if (r != 0 && (r < 400 || r > 505))
			abort();
		http_conn_free(h);
		free(head);
	}
	if (xmlrpc_decode(s + hlen, size - hlen, &method, &params,
	    &cause) == 0) {
		if (method == NULL || *method == '\0' || !json_is_array(params) ||
		    cause != NULL)
			abort();
		xmlrpc_encode_response(&b, params);
		well_formed(&b);
		free(b.data);
		b.data = NULL;
		b.len = b.size = 0;
		xmlrpc_encode_fault(&b, FAULT_FAILED, method);
		well_formed(&b);
		free(method);
		json_decref(params);
	} else {
		if (cause == NULL || *cause == '\0' || method != NULL ||
		    params != NULL)
			abort();
		free(cause);
	}
	free(b.data);
	b.data = NULL;
	b.len = b.size = 0;
	/* any bytes as a fault's text and as a string value */
	xmlrpc_encode_fault(&b, 1, "x");
	free(b.data);
	{
		struct xmlrpc_buf t = { NULL, 0, 0 };

		xmlrpc_put_text(&t, s, size);
		if (t.data != NULL && memchr(t.data, '<', t.len) != NULL)
			abort();
		free(t.data);
	}
	return 0;
}
