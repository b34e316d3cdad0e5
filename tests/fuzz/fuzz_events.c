/*
 * fuzz_events.c: libFuzzer target for what tendd writes about a process
 * whose strings and output are hostile: the events stream, status (all
 * fields, rows, a name filter), tail (text and base64, any line count,
 * tail -f) and the per-process results of wait, signal and clear. In
 * process, on the daemon's own code (world.h): the input's bytes become
 * one process's output (written into its real pipe by its fake spawn)
 * and its names, reason, spawn error, STATUS= text, pidfile error and
 * failure, then it changes state.
 *
 * The input: byte 0 picks the process, byte 1 its state before (high
 * nibble) and after (low), byte 2 flags (0x01: shown by its process name
 * alone; 0x02: it has exited, with the code in byte 3; 0x04: it runs and
 * writes four times, so the 64 KiB ring wraps), byte 4 the line count
 * for tail; then, separated by NULs: name, group, reason, spawn
 * error, STATUS= text, pidfile error, failure; the rest (NULs and all,
 * at most 32 KiB) is its output.
 * What must hold, beyond ASan, UBSan and LSan: tendd never calls
 * fatal(); every line is whole, valid UTF-8 and a JSON object; strings
 * that are valid UTF-8 come back byte for byte, and events, status,
 * results and tail repair the others as the protocol says (each byte
 * that does not begin a well-formed character a U+FFFD);
 * base64 gives the bytes back exactly; tail's text is the last N lines
 * of them, without a character still being written, and where the ring
 * begins inside one, both begin after it; tail -f sends what was written,
 * once, as base64 byte for byte and as text whole characters.
 */
#include "world.h"

#define EVENTS_MAX_OUT	(32 * 1024)
#define EVENTS_NFIELDS	7

/* Standard base64 back to bytes; -1 if it is not that. */
static int
events_unbase64(const char *s, size_t n, char **out, size_t *outlen)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char *o;
	uint32_t v = 0;
	size_t i, k = 0, pad = 0;
	const char *c;

	if (n % 4 != 0)
		return -1;
	o = xmalloc(n / 4 * 3 + 1);
	for (i = 0; i < n; i++) {
		if (s[i] == '=' && i >= n - 2) {
			pad++;
			v <<= 6;
		} else if (pad > 0 || s[i] == '\0' ||
		    (c = strchr(b64, s[i])) == NULL) {
			free(o);
			return -1;
		} else
			v = v << 6 | (uint32_t)(c - b64);
		if (i % 4 == 3) {
			o[k++] = (unsigned char)(v >> 16);
			o[k++] = (unsigned char)(v >> 8);
			o[k++] = (unsigned char)v;
			v = 0;
		}
	}
	*out = (char *)o;
	*outlen = k - pad;
	return 0;
}

/* S as the protocol must show it: itself if valid, else repaired. */
static void
events_expect(json_t *got, const char *s, const char *what)
{
	char *want;
	size_t n;

	if (s == NULL) {
		if (!json_is_null(got))
			world_fail("%s: null expected", what);
		return;
	}
	want = world_repair(s, strlen(s), &n);
	if (!json_is_string(got) || json_string_length(got) != n ||
	    memcmp(json_string_value(got), want, n) != 0)
		world_fail("%s: got %s, want %s", what,
		    json_is_string(got) ? json_string_value(got) : "?", want);
	free(want);
}

/* A request: FMT's json_pack() with "id" added, as a line. */
static json_t *
events_ask(const char *fmt, ...)
{
	va_list ap;
	json_t *req, *r;
	char *line, *s;

	va_start(ap, fmt);
	req = json_vpack_ex(NULL, 0, fmt, ap);
	va_end(ap);
	if (req == NULL)
		world_fail("json_vpack_ex");
	json_object_set_new(req, "id", json_string("q"));
	line = json_dumps(req, JSON_COMPACT);
	xasprintf(&s, "%s\n", line);
	r = world_ask(s);
	free(s);
	free(line);
	json_decref(req);
	return r;
}

/* The bytes of tail's reply R (base64). */
static void
events_tail_bytes(json_t *r, char **buf, size_t *len)
{
	json_t *data = json_object_get(r, "data");

	if (!json_is_true(json_object_get(r, "ok")) || !json_is_string(data) ||
	    events_unbase64(json_string_value(data), json_string_length(data),
	    buf, len) == -1)
		world_fail("a wrong base64 tail");
}

/* The last N lines of B (all if N < 0), as output_tail() promises. */
static size_t
events_last_lines(const char *b, size_t n, long lines)
{
	size_t end, off;
	long found = 0;

	if (lines == 0)
		return n;
	if (lines < 0 || n == 0)
		return 0;
	end = b[n - 1] == '\n' ? n - 1 : n;
	for (off = end; off > 0; off--)
		if (b[off - 1] == '\n' && ++found == lines)
			return off;
	return 0;
}

/*
 * The bytes at the end of S (N long) that begin a character and could
 * still be finished by what comes next: a lead byte within the last 3,
 * followed only by continuation bytes, short of its length, and a prefix
 * of a well-formed character. 0 when the text ends whole.
 */
static size_t
events_partial_tail(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char lead;
	size_t k, need;

	for (k = 1; k <= 3 && k <= n; k++) {
		if ((s[n - k] & 0xc0) == 0x80)
			continue;
		lead = s[n - k];
		need = lead >= 0xc2 && lead <= 0xdf ? 2 :
		    lead >= 0xe0 && lead <= 0xef ? 3 :
		    lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
		if (need <= k)
			return 0;
		if (k >= 2 && ((lead == 0xe0 && s[n - k + 1] < 0xa0) ||
		    (lead == 0xed && s[n - k + 1] > 0x9f) ||
		    (lead == 0xf0 && s[n - k + 1] < 0x90) ||
		    (lead == 0xf4 && s[n - k + 1] > 0x8f)))
			return 0;
		return k;
	}
	return 0;
}

static void
events_set(char **field, const char *s)
{
	free(*field);
	*field = s != NULL && *s != '\0' ? xstrdup(s) : NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *f[EVENTS_NFIELDS], *out, *name;
	struct world_client *sub;
	struct proc *p, *q;
	size_t outlen, i, n, beforelen, gotlen, k, idx;
	char *before, *got, *want, *rep = NULL;
	json_t *r, *lines, *ev, *o;
	int flags, from, to, wrapped = 0;
	long nlines;

	if (size < 5)
		return 0;
	flags = data[2];
	nlines = (signed char)data[4];
	/* The fields; a missing one is empty. */
	out = (const char *)data + 5;
	outlen = size - 5;
	for (i = 0; i < EVENTS_NFIELDS; i++) {
		f[i] = "";
		if (outlen > 0) {
			f[i] = out;
			n = strnlen(out, outlen);
			out += n < outlen ? n + 1 : n;
			outlen -= n < outlen ? n + 1 : n;
		}
	}
	if (outlen > EVENTS_MAX_OUT)
		outlen = EVENTS_MAX_OUT;
	/* Strings end at their NUL: copies, so the last one ends too. */
	for (i = 0; i < EVENTS_NFIELDS; i++)
		f[i] = xstrndup(f[i], strnlen(f[i], (size_t)(data + size -
		    (const uint8_t *)f[i])));

	world_start();
	sub = world_connect();
	world_send(sub, WORLD_SUBSCRIBE, strlen(WORLD_SUBSCRIBE));
	world_settle();

	idx = data[0] % (size_t)program_nprocs;
	k = 0;
	TAILQ_FOREACH(p, &procs, entry)
		if (k++ == idx)
			break;
	name = p->display;

	/*
	 * Its output: what the ring had, then one run (four with flag 0x04,
	 * so the 64 KiB ring wraps) that writes ours.
	 */
	r = events_ask("{s:s, s:s, s:s, s:i}", "cmd", "tail", "name", name,
	    "encoding", "base64", "lines", -1);
	events_tail_bytes(r, &before, &beforelen);
	json_decref(r);
	for (i = 0; i < (flags & 0x04 ? 4u : 1u); i++) {
		program_kill(p, &rep);
		world_settle();
		world_next_out = out;
		world_next_outlen = outlen;
		program_start(p, &rep);
		free(rep);
		rep = NULL;
		world_settle();
		if (world_next_out != NULL) {
			/* not started, or no pipe (NONE): nothing written */
			world_next_out = NULL;
			continue;
		}
		before = xrealloc(before, beforelen + outlen + 1);
		memcpy(before + beforelen, out, outlen);
		beforelen += outlen;
	}
	if (beforelen > OUTPUT_RING_SIZE) {
		memmove(before, before + beforelen - OUTPUT_RING_SIZE,
		    OUTPUT_RING_SIZE);
		beforelen = OUTPUT_RING_SIZE;
		wrapped = 1;
	}

	/* Both tails on one connection: base64 whole, text of N lines. */
	{
		json_t *reqs = json_pack("[{s:i, s:s, s:s, s:s, s:i}, "
		    "{s:i, s:s, s:s, s:i}]",
		    "id", 1, "cmd", "tail", "name", name, "encoding", "base64",
		    "lines", -1, "id", 2, "cmd", "tail", "name", name,
		    "lines", nlines);
		char *a = json_dumps(json_array_get(reqs, 0), JSON_COMPACT);
		char *b = json_dumps(json_array_get(reqs, 1), JSON_COMPACT);
		char *both;

		xasprintf(&both, "%s\n%s\n", a, b);
		lines = world_ask_all(both, 2);
		free(both);
		free(a);
		free(b);
		json_decref(reqs);
	}
	/*
	 * Where the ring begins inside a character, tail begins after it
	 * (docs/protocol.md), in both encodings: the bytes are still an
	 * exact run of the output.
	 */
	k = 0;
	while (wrapped && k < 3 && k < beforelen &&
	    ((unsigned char)before[k] & 0xc0) == 0x80)
		k++;
	events_tail_bytes(world_reply(lines, 1), &got, &gotlen);
	if (gotlen != beforelen - k || memcmp(got, before + k, gotlen) != 0)
		world_fail("tail (base64) lost or changed bytes");
	free(got);
	/*
	 * As text: the last N lines, repaired, without a character the
	 * process has not finished writing.
	 */
	i = events_last_lines(before, beforelen, nlines);
	if (i == 0)
		i = k;
	n = beforelen - i;
	n -= events_partial_tail(before + i, n);
	want = world_repair(before + i, n, &n);
	o = json_object_get(world_reply(lines, 2), "data");
	if (!json_is_string(o) || json_string_length(o) != n ||
	    memcmp(json_string_value(o), want, n) != 0)
		world_fail("tail of %ld lines: not the last lines, repaired",
		    nlines);
	free(want);
	json_decref(lines);
	free(before);

	/*
	 * tail -f, as base64 and as text: the next run's output arrives,
	 * once, byte for byte; as text in whole characters (one the process
	 * never finished may be left out).
	 */
	{
		struct world_client *fc[2];
		size_t expect, m, t;
		char *text;

		for (t = 0; t < 2; t++) {
			json_t *req = json_pack("{s:s, s:s, s:s, s:s, s:i, s:b}",
			    "id", "f", "cmd", "tail", "name", name, "encoding",
			    t == 0 ? "base64" : "text", "lines", 0, "follow", 1);
			char *line = json_dumps(req, JSON_COMPACT);

			fc[t] = world_connect();
			world_send(fc[t], line, strlen(line));
			world_send(fc[t], "\n", 1);
			free(line);
			json_decref(req);
		}
		world_settle();
		program_kill(p, &rep);
		world_settle();
		world_next_out = out;
		world_next_outlen = outlen;
		program_start(p, &rep);
		free(rep);
		rep = NULL;
		world_settle();
		expect = world_next_out == NULL ? outlen : 0;
		world_next_out = NULL;
		for (t = 0; t < 2; t++) {
			if (fc[t]->eof)
				world_fail("a tail -f client was dropped");
			lines = world_lines(fc[t]);
			before = xstrdup("");
			beforelen = 0;
			for (i = 1; i < json_array_size(lines); i++) {
				o = json_object_get(json_array_get(lines, i),
				    "data");
				if (o == NULL)
					continue;
				if (t == 0) {
					o = json_pack("{s:b, s:O}", "ok", 1,
					    "data", o);
					events_tail_bytes(o, &got, &gotlen);
					json_decref(o);
				} else {
					gotlen = json_string_length(o);
					got = xmalloc(gotlen + 1);
					memcpy(got, json_string_value(o),
					    gotlen);
				}
				before = xrealloc(before, beforelen + gotlen +
				    1);
				memcpy(before + beforelen, got, gotlen);
				beforelen += gotlen;
				free(got);
			}
			json_decref(lines);
			if (t == 0) {
				if (beforelen != expect ||
				    memcmp(before, out, expect) != 0)
					world_fail("tail -f: %zu bytes, %zu "
					    "written", beforelen, expect);
				free(before);
				continue;
			}
			text = world_repair(out, expect, &m);
			if (beforelen != m || memcmp(before, text, m) != 0) {
				free(text);
				text = world_repair(out, expect -
				    events_partial_tail(out, expect), &m);
				if (beforelen != m ||
				    memcmp(before, text, m) != 0)
					world_fail("tail -f as text: not the "
					    "output in whole characters");
			}
			free(text);
			free(before);
		}
	}

	/* Now its strings are hostile, and it changes state. */
	events_set(&p->name, f[0]);
	if (p->name == NULL)
		p->name = xstrdup("");
	events_set(&p->group, f[1]);
	if (p->group == NULL)
		p->group = xstrdup("");
	free(p->fullname);
	xasprintf(&p->fullname, "%s:%s", p->group, p->name);
	p->display = flags & 0x01 ? p->name : p->fullname;
	events_set(&p->spawnerr, f[3]);
	events_set(&p->notify_status, f[4]);
	events_set(&p->pidfile_err, f[5]);
	events_set(&p->fail_why, f[6]);
	if (flags & 0x02) {
		p->has_exited = 1;
		p->exitcode = (signed char)data[3];
	}
	from = (data[1] >> 4) % PROC_NSTATES;
	to = (data[1] & 15) % PROC_NSTATES;
	/* Its event is the first line after those the stream has now. */
	world_settle();
	lines = world_lines(sub);
	k = json_array_size(lines);
	json_decref(lines);
	p->state = (enum proc_state)from;
	if (f[2][0] != '\0')
		state_set(p, (enum proc_state)to, "%s", f[2]);
	else
		state_set(p, (enum proc_state)to, NULL);
	world_settle();

	if (sub->eof)
		world_fail("the events subscriber was dropped");
	lines = world_lines(sub);
	if ((ev = json_array_get(lines, k)) == NULL)
		world_fail("no event");
	events_expect(json_object_get(ev, "name"), p->display, "name");
	events_expect(json_object_get(ev, "group"), p->group, "group");
	events_expect(json_object_get(ev, "process"), p->name, "process");
	events_expect(json_object_get(ev, "reason"), p->reason, "reason");
	if (!json_is_string(json_object_get(ev, "description")))
		world_fail("an event without a description");
	if (strcmp(json_string_value(json_object_get(ev, "from")),
	    program_state_name(from)) != 0 ||
	    strcmp(json_string_value(json_object_get(ev, "to")),
	    program_state_name(p->state)) != 0)
		world_fail("the event says another transition");
	json_decref(lines);

	/*
	 * status: every field, as rows, filtered by a glob; and results that
	 * carry its name and messages. One connection: replies by id.
	 */
	lines = world_ask_all(
	    "{\"id\":1,\"cmd\":\"status\"}\n"
	    "{\"id\":2,\"cmd\":\"status\",\"rows\":true,"
	    "\"fields\":[\"description\",\"name\",\"spawnerr\"]}\n"
	    "{\"id\":3,\"cmd\":\"status\",\"names\":[\"*\"]}\n"
	    "{\"id\":4,\"cmd\":\"wait\",\"names\":[\"*\"],\"timeout\":0}\n"
	    "{\"id\":5,\"cmd\":\"signal\",\"names\":[\"*\"],"
	    "\"signal\":\"HUP\"}\n"
	    "{\"id\":6,\"cmd\":\"clear\",\"names\":[\"*\"]}\n"
	    "{\"id\":7,\"cmd\":\"stop\",\"names\":[\"*\"],\"wait\":false}\n",
	    7);
	idx = 0;
	TAILQ_FOREACH(q, &procs, entry) {
		if (q == p)
			break;
		idx++;
	}
	o = json_array_get(json_object_get(world_reply(lines, 1),
	    "processes"), idx);
	events_expect(json_object_get(o, "name"), p->display, "status name");
	events_expect(json_object_get(o, "group"), p->group, "status group");
	events_expect(json_object_get(o, "process"), p->name,
	    "status process");
	events_expect(json_object_get(o, "spawnerr"), p->spawnerr,
	    "status spawnerr");
	if (!json_is_string(json_object_get(o, "description")))
		world_fail("status: no description");
	o = json_array_get(json_array_get(json_object_get(world_reply(lines,
	    2), "processes"), idx), 1);
	events_expect(o, p->display, "status rows name");
	if (json_array_size(json_object_get(world_reply(lines, 3),
	    "processes")) != (size_t)program_nprocs)
		world_fail("status of * is not everything");
	/* wait, signal, clear, stop: a result per process, in its order */
	for (k = 4; k <= 7; k++) {
		o = json_object_get(world_reply(lines, (json_int_t)k),
		    "results");
		if (json_array_size(o) != (size_t)program_nprocs)
			world_fail("request %zu: %zu results", k,
			    json_array_size(o));
		events_expect(json_object_get(json_array_get(o, idx), "name"),
		    p->display, "a result's name");
		if (!json_is_string(json_object_get(json_array_get(o, idx),
		    k == 4 ? "state" : "message")))
			world_fail("request %zu: a result without its text", k);
	}
	json_decref(lines);
	world_settle();
	if (sub->eof)
		world_fail("the events subscriber was dropped");
	json_decref(world_lines(sub));

	world_check_status();
	world_end();
	for (i = 0; i < EVENTS_NFIELDS; i++)
		free((char *)f[i]);
	return 0;
}
