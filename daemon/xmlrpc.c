/*
 * xmlrpc.c: the XML-RPC codec of supervisord's interface (spec section 9).
 * Requests are parsed by expat (Debian's libexpat1) into jansson values
 * (int, double, boolean, string, array, struct; base64 and dateTime as
 * strings), so the methods see the same value model as the JSON
 * protocol. Hostile input is bounded here: a DOCTYPE (hence any entity
 * declaration, internal or external) stops the parse, external and
 * parameter entities are never read, nesting is capped, and what expat
 * does not accept as UTF-8 is a parse error. Replies are written here:
 * every string comes out as valid XML 1.0 whatever its bytes (bad UTF-8
 * and forbidden control characters become U+FFFD).
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>
#include <jansson.h>

#include "tendd.h"
#include "utf8.h"
#include "xmlrpc.h"

/* Elements deep: a methodCall needs 6 plus 3 per nested array/struct. */
#define XMLRPC_MAX_DEPTH	64

enum xmlrpc_frame_kind {
	XF_OTHER,
	XF_VALUE,	/* a <value>: its type and, once made, its value */
	XF_MEMBER,	/* a struct's <member>: name and value */
};

struct xmlrpc_frame {
	enum xmlrpc_frame_kind kind;
	char		*type;		/* <value>'s typed child, or NULL */
	json_t		*v;		/* <value>: the container or the value */
	char		*name;		/* <member>: its <name> */
};

struct xmlrpc_parse {
	XML_Parser	 p;
	struct xmlrpc_frame stack[XMLRPC_MAX_DEPTH + 1];
	int		 depth;
	char		*text;		/* character data of the current element */
	size_t		 tlen, tsize;
	char		*method;
	json_t		*params;
	char		*error;
	int		 seen_root;
};

static void
xmlrpc_fail(struct xmlrpc_parse *x, const char *why)
{
	if (x->error == NULL)
		x->error = xstrdup(why);
	XML_StopParser(x->p, XML_FALSE);
}

/* Is the innermost open <value> frame at DEPTH-1 (the parent)? */
static struct xmlrpc_frame *
xmlrpc_parent(struct xmlrpc_parse *x)
{
	return x->depth >= 2 ? &x->stack[x->depth - 2] : NULL;
}

static void
xmlrpc_start_cb(void *arg, const XML_Char *el, const XML_Char **attr)
{
	struct xmlrpc_parse *x = arg;
	struct xmlrpc_frame *f, *up;

	if (x->error != NULL)
		return;
	if (x->depth >= XMLRPC_MAX_DEPTH) {
		xmlrpc_fail(x, "nested too deeply");
		return;
	}
	if (x->depth == 0 && strcmp(el, "methodCall") != 0) {
		xmlrpc_fail(x, "not a methodCall");
		return;
	}
	x->seen_root = 1;
	f = &x->stack[x->depth++];
	memset(f, 0, sizeof(*f));
	x->tlen = 0;
	up = xmlrpc_parent(x);
	if (strcmp(el, "value") == 0) {
		f->kind = XF_VALUE;
		return;
	}
	if (strcmp(el, "member") == 0) {
		f->kind = XF_MEMBER;
		return;
	}
	if (up != NULL && up->kind == XF_VALUE) {
		if (up->type != NULL || up->v != NULL) {
			xmlrpc_fail(x, "a value has one type");
			return;
		}
		up->type = xstrdup(el);
		if (strcmp(el, "array") == 0)
			up->v = json_array();
		else if (strcmp(el, "struct") == 0)
			up->v = json_object();
	}
}

static void
xmlrpc_text_cb(void *arg, const XML_Char *s, int len)
{
	struct xmlrpc_parse *x = arg;

	if (x->error != NULL || len <= 0)
		return;
	if (x->tlen + (size_t)len + 1 > x->tsize) {
		x->tsize = (x->tlen + (size_t)len + 1) * 2;
		x->text = xrealloc(x->text, x->tsize);
	}
	memcpy(x->text + x->tlen, s, (size_t)len);
	x->tlen += (size_t)len;
	x->text[x->tlen] = '\0';
}

/*
 * Base64 (whitespace allowed between groups, '=' padding) into OUT,
 * which has room for strlen(IN) bytes. 0 with *N, or -1.
 */
int
xmlrpc_base64_decode(const char *in, unsigned char *out, size_t *n)
{
	static const char set[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned int acc = 0;
	int bits = 0, pad = 0;
	const char *at;

	*n = 0;
	for (; *in != '\0'; in++) {
		if (*in == ' ' || *in == '\t' || *in == '\n' || *in == '\r')
			continue;
		if (*in == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (at = strchr(set, *in)) == NULL)
			return -1;
		acc = (acc << 6) | (unsigned int)(at - set);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[(*n)++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return pad > 2 || bits >= 6 ? -1 : 0;
}

/* A scalar from its type and text; NULL when its text is not of it. */
static json_t *
xmlrpc_scalar(struct xmlrpc_parse *x, const char *type, const char *text)
{
	char *end;
	long long ll;
	double d;
	size_t n;
	unsigned char *raw;

	if (type == NULL || strcmp(type, "string") == 0 ||
	    strcmp(type, "dateTime.iso8601") == 0)
		return json_stringn(text, x->tlen);
	if (strcmp(type, "int") == 0 || strcmp(type, "i4") == 0 ||
	    strcmp(type, "i8") == 0) {
		while (*text == ' ' || *text == '\t' || *text == '\n' ||
		    *text == '\r')
			text++;
		ll = strtoll(text, &end, 10);
		while (*end == ' ' || *end == '\t' || *end == '\n' ||
		    *end == '\r')
			end++;
		if (end == text || *end != '\0' || ll == LLONG_MIN ||
		    ll == LLONG_MAX)
			return NULL;
		return json_integer(ll);
	}
	if (strcmp(type, "boolean") == 0) {
		if (strcmp(text, "1") == 0)
			return json_true();
		if (strcmp(text, "0") == 0)
			return json_false();
		return NULL;
	}
	if (strcmp(type, "double") == 0) {
		d = strtod(text, &end);
		if (end == text || *end != '\0' || !isfinite(d))
			return NULL;
		return json_real(d);
	}
	if (strcmp(type, "nil") == 0)
		return json_null();
	if (strcmp(type, "base64") == 0) {
		raw = xmalloc(x->tlen + 1);
		if (xmlrpc_base64_decode(text, raw, &n) == -1 ||
		    !utf8_valid((char *)raw, n)) {
			free(raw);
			return NULL;
		}
		{
			json_t *j = json_stringn((char *)raw, n);

			free(raw);
			return j;
		}
	}
	return NULL;
}

/* A finished value goes to what holds it: a member, an array, params. */
static void
xmlrpc_attach(struct xmlrpc_parse *x, json_t *v)
{
	struct xmlrpc_frame *up = xmlrpc_parent(x);

	if (up == NULL) {
		json_decref(v);
		xmlrpc_fail(x, "a value outside a methodCall");
		return;
	}
	if (up->kind == XF_MEMBER) {
		if (up->v != NULL)
			json_decref(up->v);
		up->v = v;
		return;
	}
	/* value > array > data > this value, or a <param>'s */
	if (x->depth >= 4) {
		struct xmlrpc_frame *holder = &x->stack[x->depth - 4];

		if (holder->kind == XF_VALUE && json_is_array(holder->v)) {
			json_array_append_new(holder->v, v);
			return;
		}
	}
	if (x->params != NULL && x->depth == 4) {
		json_array_append_new(x->params, v);
		return;
	}
	json_decref(v);
	xmlrpc_fail(x, "a value where none belongs");
}

static void
xmlrpc_end_value(struct xmlrpc_parse *x, struct xmlrpc_frame *f)
{
	json_t *v = f->v;

	if (v == NULL) {
		if (x->text == NULL)
			x->text = xstrdup("");
		v = xmlrpc_scalar(x, f->type, x->text);
		if (v == NULL) {
			xmlrpc_fail(x, "a value of the wrong form for its type");
			return;
		}
	}
	f->v = NULL;
	xmlrpc_attach(x, v);
}

static void
xmlrpc_end_member(struct xmlrpc_parse *x, struct xmlrpc_frame *f)
{
	/* value > struct > this member */
	struct xmlrpc_frame *up = x->depth >= 3 ? &x->stack[x->depth - 3] :
	    NULL;

	if (f->name == NULL || f->v == NULL || up == NULL ||
	    up->kind != XF_VALUE || !json_is_object(up->v)) {
		xmlrpc_fail(x, "a member needs a name and a value in a struct");
		return;
	}
	json_object_set_new(up->v, f->name, f->v);
	f->v = NULL;
}

static void
xmlrpc_end_cb(void *arg, const XML_Char *el)
{
	struct xmlrpc_parse *x = arg;
	struct xmlrpc_frame *f, *up;

	if (x->error != NULL || x->depth == 0)
		return;
	f = &x->stack[x->depth - 1];
	up = xmlrpc_parent(x);
	if (f->kind == XF_VALUE)
		xmlrpc_end_value(x, f);
	else if (f->kind == XF_MEMBER)
		xmlrpc_end_member(x, f);
	else if (strcmp(el, "methodName") == 0 && x->depth == 2) {
		free(x->method);
		x->method = xstrndup(x->text != NULL ? x->text : "", x->tlen);
	} else if (strcmp(el, "name") == 0 && up != NULL &&
	    up->kind == XF_MEMBER) {
		free(up->name);
		up->name = xstrndup(x->text != NULL ? x->text : "", x->tlen);
	} else if (strcmp(el, "params") == 0 && x->depth != 2)
		xmlrpc_fail(x, "params outside a methodCall");
	else if (up != NULL && up->kind == XF_VALUE && up->v == NULL) {
		/* a value's typed child: its text is the value */
		if (x->text == NULL)
			x->text = xstrdup("");
		up->v = xmlrpc_scalar(x, up->type, x->text);
		if (up->v == NULL)
			xmlrpc_fail(x, "a value of the wrong form for its type");
	}
	free(f->type);
	free(f->name);
	json_decref(f->v);
	memset(f, 0, sizeof(*f));
	x->depth--;
	x->tlen = 0;
	if (x->text != NULL)
		x->text[0] = '\0';
}

/* <params> opens the list the <param> values go to. */
static void
xmlrpc_start_outer_cb(void *arg, const XML_Char *el, const XML_Char **attr)
{
	struct xmlrpc_parse *x = arg;

	xmlrpc_start_cb(arg, el, attr);
	if (x->error == NULL && x->depth == 2 && strcmp(el, "params") == 0 &&
	    x->params == NULL)
		x->params = json_array();
}

static void
xmlrpc_doctype_cb(void *arg, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal_subset)
{
	xmlrpc_fail(arg, "a DOCTYPE is not allowed (no entities)");
}

static void
xmlrpc_entity_cb(void *arg, const XML_Char *name, int is_param,
    const XML_Char *value, int value_length, const XML_Char *base,
    const XML_Char *sysid, const XML_Char *pubid, const XML_Char *notation)
{
	xmlrpc_fail(arg, "entity declarations are not allowed");
}

int
xmlrpc_decode(const char *body, size_t len, char **method, json_t **params,
    char **cause)
{
	struct xmlrpc_parse x;
	int i, ok;

	*method = NULL;
	*params = NULL;
	*cause = NULL;
	memset(&x, 0, sizeof(x));
	if (len > INT32_MAX) {
		*cause = xstrdup("too long");
		return -1;
	}
	/* UTF-8 whatever the document says it is: no other decoder runs. */
	x.p = XML_ParserCreate("UTF-8");
	if (x.p == NULL) {
		*cause = xstrdup("no memory for a parser");
		return -1;
	}
	XML_SetUserData(x.p, &x);
	XML_SetElementHandler(x.p, xmlrpc_start_outer_cb, xmlrpc_end_cb);
	XML_SetCharacterDataHandler(x.p, xmlrpc_text_cb);
	XML_SetStartDoctypeDeclHandler(x.p, xmlrpc_doctype_cb);
	XML_SetEntityDeclHandler(x.p, xmlrpc_entity_cb);
	XML_SetParamEntityParsing(x.p, XML_PARAM_ENTITY_PARSING_NEVER);
	ok = XML_Parse(x.p, body, (int)len, 1) == XML_STATUS_OK;
	if (!ok && x.error == NULL)
		xasprintf(&x.error, "not XML: %s at line %lu",
		    XML_ErrorString(XML_GetErrorCode(x.p)),
		    (unsigned long)XML_GetCurrentLineNumber(x.p));
	if (x.error == NULL && (x.method == NULL || *x.method == '\0'))
		x.error = xstrdup("no methodName");
	for (i = 0; i < x.depth; i++) {
		free(x.stack[i].type);
		free(x.stack[i].name);
		json_decref(x.stack[i].v);
	}
	XML_ParserFree(x.p);
	free(x.text);
	if (x.error != NULL) {
		free(x.method);
		json_decref(x.params);
		*cause = x.error;
		return -1;
	}
	*method = x.method;
	*params = x.params != NULL ? x.params : json_array();
	return 0;
}

/* ------------------------------------------------------------------ */
/* Encoding                                                             */

static void
xmlrpc_put(struct xmlrpc_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->size) {
		b->size = (b->len + n + 1) * 2;
		b->data = xrealloc(b->data, b->size);
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void
xmlrpc_puts(struct xmlrpc_buf *b, const char *s)
{
	xmlrpc_put(b, s, strlen(s));
}

/* S as XML character data: valid UTF-8 and XML 1.0 characters only. */
void
xmlrpc_put_text(struct xmlrpc_buf *b, const char *s, size_t n)
{
	static const char bad[] = "\xef\xbf\xbd";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		k = utf8_len(u + i, n - i);
		if (k == 0 || (k == 1 && u[i] < 0x20 && u[i] != '\t' &&
		    u[i] != '\n' && u[i] != '\r') || (k == 3 && u[i] == 0xef &&
		    u[i + 1] == 0xbf && u[i + 2] >= 0xbe)) {
			xmlrpc_put(b, bad, 3);
			i += k == 0 ? 1 : k;
			continue;
		}
		if (u[i] == '<')
			xmlrpc_puts(b, "&lt;");
		else if (u[i] == '>')
			xmlrpc_puts(b, "&gt;");
		else if (u[i] == '&')
			xmlrpc_puts(b, "&amp;");
		else if (u[i] == '\r')
			xmlrpc_puts(b, "&#13;");
		else
			xmlrpc_put(b, s + i, k);
		i += k;
	}
}

static void
xmlrpc_put_value(struct xmlrpc_buf *b, json_t *v)
{
	char num[64];
	const char *key;
	json_t *e;
	size_t i;

	xmlrpc_puts(b, "<value>");
	switch (json_typeof(v)) {
	case JSON_INTEGER:
		/* XML-RPC's int is 32 bits: capped as supervisord does. */
		snprintf(num, sizeof(num), "<int>%lld</int>",
		    json_integer_value(v) > INT32_MAX ? (long long)INT32_MAX :
		    json_integer_value(v) < INT32_MIN ? (long long)INT32_MIN :
		    (long long)json_integer_value(v));
		xmlrpc_puts(b, num);
		break;
	case JSON_REAL:
		snprintf(num, sizeof(num), "<double>%.17g</double>",
		    json_real_value(v));
		xmlrpc_puts(b, num);
		break;
	case JSON_TRUE:
		xmlrpc_puts(b, "<boolean>1</boolean>");
		break;
	case JSON_FALSE:
		xmlrpc_puts(b, "<boolean>0</boolean>");
		break;
	case JSON_STRING:
		xmlrpc_puts(b, "<string>");
		xmlrpc_put_text(b, json_string_value(v), json_string_length(v));
		xmlrpc_puts(b, "</string>");
		break;
	case JSON_ARRAY:
		xmlrpc_puts(b, "<array><data>\n");
		json_array_foreach(v, i, e)
			xmlrpc_put_value(b, e);
		xmlrpc_puts(b, "</data></array>");
		break;
	case JSON_OBJECT:
		xmlrpc_puts(b, "<struct>\n");
		json_object_foreach(v, key, e) {
			xmlrpc_puts(b, "<member><name>");
			xmlrpc_put_text(b, key, strlen(key));
			xmlrpc_puts(b, "</name>");
			xmlrpc_put_value(b, e);
			xmlrpc_puts(b, "</member>\n");
		}
		xmlrpc_puts(b, "</struct>");
		break;
	case JSON_NULL:
		xmlrpc_puts(b, "<nil/>");
		break;
	}
	xmlrpc_puts(b, "</value>\n");
}

void
xmlrpc_encode_response(struct xmlrpc_buf *b, json_t *v)
{
	xmlrpc_puts(b, "<?xml version='1.0'?>\n<methodResponse>\n<params>\n"
	    "<param>\n");
	xmlrpc_put_value(b, v);
	xmlrpc_puts(b, "</param>\n</params>\n</methodResponse>\n");
}

void
xmlrpc_encode_fault(struct xmlrpc_buf *b, int code, const char *text)
{
	json_t *f = json_object();

	json_object_set_new(f, "faultCode", json_integer(code));
	json_object_set_new(f, "faultString", protocol_string(text));
	xmlrpc_puts(b, "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n");
	xmlrpc_put_value(b, f);
	xmlrpc_puts(b, "</fault>\n</methodResponse>\n");
	json_decref(f);
}
