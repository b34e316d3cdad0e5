/*
 * test_xmlrpc.c: the XML-RPC codec (daemon/xmlrpc.c) and the HTTP head
 * reader (daemon/http.c) of supervisord's interface, without a socket:
 * every value type decoded as Python's xmlrpc.client writes it, untyped
 * values, structs and arrays; a DOCTYPE (billion laughs, an external
 * entity) refused with nothing expanded; nesting capped; bad UTF-8 and
 * malformed values refused; the writer's escaping; HTTP heads accepted
 * and refused with the status the reader answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmlrpc.h"

static json_t *
decode_ok(const char *xml, const char *method)
{
	char *m, *cause;
	json_t *params;

	if (xmlrpc_decode(xml, strlen(xml), &m, &params, &cause) != 0) {
		print_error("refused: %s\n", cause);
		fail();
	}
	assert_string_equal(m, method);
	free(m);
	return params;
}

static char *
decode_err(const char *xml, size_t len)
{
	char *m = NULL, *cause = NULL;
	json_t *params = NULL;

	assert_int_equal(xmlrpc_decode(xml, len, &m, &params, &cause), -1);
	assert_null(m);
	assert_null(params);
	assert_non_null(cause);
	return cause;
}

#define CALL(m, p) "<?xml version='1.0'?>\n<methodCall>\n<methodName>" m \
	"</methodName>\n<params>\n" p "</params>\n</methodCall>\n"
#define PARAM(v) "<param>\n<value>" v "</value>\n</param>\n"

static void
test_types(void **state)
{
	json_t *p = decode_ok(CALL("supervisor.startProcess",
	    PARAM("<string>web:web_00</string>")
	    PARAM("<boolean>1</boolean>")
	    PARAM("<int>-12</int>")
	    PARAM("<i4>7</i4>")
	    PARAM("<double>2.5</double>")
	    PARAM("plain &amp; &#233;")
	    PARAM("<base64>aGk=</base64>")
	    PARAM("<nil/>")
	    PARAM("<array><data>\n<value><int>1</int></value>\n"
	        "<value><string>x</string></value>\n</data></array>")
	    PARAM("<struct>\n<member>\n<name>methodName</name>\n"
	        "<value><string>a.b</string></value>\n</member>\n"
	        "<member><name>params</name><value><array><data>"
	        "</data></array></value></member>\n</struct>")),
	    "supervisor.startProcess");
	json_t *want = json_pack("[s, b, i, i, f, s, s, n, [i, s], "
	    "{s:s, s:[]}]", "web:web_00", 1, -12, 7, 2.5, "plain & \xc3\xa9",
	    "hi", 1, "x", "methodName", "a.b", "params");

	assert_true(json_equal(p, want));
	json_decref(p);
	json_decref(want);

	/* no <params> at all: an empty list */
	p = decode_ok("<methodCall><methodName>system.listMethods"
	    "</methodName></methodCall>", "system.listMethods");
	assert_int_equal(json_array_size(p), 0);
	json_decref(p);
}

static const char laughs[] =
    "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n"
    " <!ENTITY lol \"lol\">\n"
    " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
    " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
    "]>\n" CALL("a.b", PARAM("<string>&lol3;</string>"));
static const char external[] =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\n"
    CALL("a.b", PARAM("<string>&e;</string>"));
static const char param_entity[] =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE x [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]>\n"
    CALL("a.b", "");

static void
test_no_entities(void **state)
{
	char *why;

	why = decode_err(laughs, sizeof(laughs) - 1);
	assert_non_null(strstr(why, "DOCTYPE"));
	free(why);
	why = decode_err(external, sizeof(external) - 1);
	assert_non_null(strstr(why, "DOCTYPE"));
	free(why);
	why = decode_err(param_entity, sizeof(param_entity) - 1);
	free(why);
	/* an entity never declared is expat's error, not an expansion */
	why = decode_err(CALL("a.b", PARAM("&nope;")),
	    sizeof(CALL("a.b", PARAM("&nope;"))) - 1);
	free(why);
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"<notxml",
		"<methodResponse/>",
		CALL("", ""),
		CALL("a.b", PARAM("<int>12x</int>")),
		CALL("a.b", PARAM("<int>99999999999999999999999</int>")),
		CALL("a.b", PARAM("<boolean>2</boolean>")),
		CALL("a.b", PARAM("<double>nan</double>")),
		CALL("a.b", PARAM("<base64>!!</base64>")),
		CALL("a.b", PARAM("<base64>/w==</base64>")),	/* not UTF-8 */
		CALL("a.b", PARAM("<frob>1</frob>")),
		CALL("a.b", PARAM("<string>a</string><int>1</int>")),
		CALL("a.b", PARAM("<struct><member><name>k</name></member>"
		    "</struct>")),
		CALL("a.b", PARAM("<string>\xff\xfe</string>")),
		CALL("a.b", PARAM("<string>a\x01</string>")),
	};
	size_t i;
	char *why;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = decode_err(bad[i], strlen(bad[i]));
		free(why);
	}
}

static void
test_depth(void **state)
{
	char *xml, *why;
	size_t n = 40, i, len;
	json_t *p;
	FILE *f;

	/* 40 nested arrays: over the 64 elements' cap */
	f = open_memstream(&xml, &len);
	fputs("<methodCall><methodName>a.b</methodName><params><param>", f);
	for (i = 0; i < n; i++)
		fputs("<value><array><data>", f);
	for (i = 0; i < n; i++)
		fputs("</data></array></value>", f);
	fputs("</param></params></methodCall>", f);
	fclose(f);
	why = decode_err(xml, len);
	assert_non_null(strstr(why, "deep"));
	free(why);
	free(xml);

	/* 15 levels are fine */
	f = open_memstream(&xml, &len);
	fputs("<methodCall><methodName>a.b</methodName><params><param>", f);
	for (i = 0; i < 15; i++)
		fputs("<value><array><data>", f);
	for (i = 0; i < 15; i++)
		fputs("</data></array></value>", f);
	fputs("</param></params></methodCall>", f);
	fclose(f);
	p = decode_ok(xml, "a.b");
	assert_int_equal(json_array_size(p), 1);
	json_decref(p);
	free(xml);
}

static void
test_writer(void **state)
{
	struct xmlrpc_buf b = { NULL, 0, 0 };
	json_t *v = json_pack("{s:o, s:I, s:b}", "k<&>",
	    json_stringn_nocheck("a\x01\xff<b>&\r", 8), "big",
	    (json_int_t)5000000000LL, "t", 1);

	/* bytes that are not UTF-8 (jansson's _nocheck lets them in) */
	assert_non_null(v);
	xmlrpc_encode_response(&b, v);
	assert_non_null(strstr(b.data, "<name>k&lt;&amp;&gt;</name>"));
	assert_non_null(strstr(b.data, "<string>a\xef\xbf\xbd\xef\xbf\xbd"
	    "&lt;b&gt;&amp;&#13;</string>"));
	/* XML-RPC's int is 32 bits: capped */
	assert_non_null(strstr(b.data, "<int>2147483647</int>"));
	assert_non_null(strstr(b.data, "<boolean>1</boolean>"));
	free(b.data);
	json_decref(v);

	memset(&b, 0, sizeof(b));
	xmlrpc_encode_fault(&b, 10, "BAD_NAME: x");
	assert_non_null(strstr(b.data, "<fault>"));
	assert_non_null(strstr(b.data, "<name>faultCode</name><value><int>10"
	    "</int></value>"));
	assert_non_null(strstr(b.data, "<string>BAD_NAME: x</string>"));
	free(b.data);
}

static int
head(const char *text)
{
	struct http_conn *h = http_conn_new(NULL, 0);
	char *s = strdup(text);
	int r = http_parse_head(h, s, strlen(s));

	http_conn_free(h);
	free(s);
	return r;
}

static void
test_http_head(void **state)
{
	char big[2000];

	assert_int_equal(head("POST /RPC2 HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 10\r\nAuthorization: Basic dTpw\r\n\r\n"), 0);
	assert_int_equal(head("GET /logtail/a HTTP/1.0\r\n\r\n"), 0);
	assert_int_equal(head("POST /RPC2 HTTP/1.1\r\n\r\n"), 400);
	assert_int_equal(head("POST /RPC2 HTTP/1.1\r\nContent-Length: 2000000"
	    "\r\n\r\n"), 413);
	assert_int_equal(head("POST /RPC2 HTTP/1.1\r\nContent-Length: 1\r\n"
	    "Content-Length: 2\r\n\r\n"), 400);
	assert_int_equal(head("POST /RPC2 HTTP/1.1\r\nContent-Length: -1"
	    "\r\n\r\n"), 400);
	assert_int_equal(head("POST /RPC2 HTTP/1.1\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n"), 501);
	assert_int_equal(head("POST /RPC2 HTTP/2.0\r\n\r\n"), 505);
	assert_int_equal(head("POST /RPC2\r\n\r\n"), 400);
	assert_int_equal(head("P(ST /RPC2 HTTP/1.1\r\n\r\n"), 400);
	assert_int_equal(head("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"), 400);
	assert_int_equal(head("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n"), 400);
	assert_int_equal(head("GET / HTTP/1.1\r\nNo colon\r\n\r\n"), 400);
	memset(big, 0, sizeof(big));
	strcpy(big, "GET / HTTP/1.1\r\n");
	while (strlen(big) < sizeof(big) - 10)
		strcat(big, "A: b\r\n");
	strcat(big, "\r\n");
	assert_int_equal(head(big), 431);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_no_entities),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_http_head),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
