/*
 * fuzz_daemon.c: libFuzzer target for tendd's whole request path, in
 * process (world.h): the input is what clients write to tendd's socket,
 * read by control.c, framed, decoded and dispatched by command.c's table
 * (name matching, parked requests, streams) against a program table with
 * a process in every state, acted on by program.c (with fake processes,
 * see world.h), and answered; an honest client follows the events stream
 * all along.
 *
 * The input: one byte of flags, then what up to four clients write, each
 * after the one before has been answered, separated by "~~~":
 *   0x01  each client half-closes (shutdown(SHUT_WR)) after its bytes;
 *   0x02  the bytes trickle in, (flags >> 4) + 1 at a time, tendd reading
 *         between;
 *   0x04  each client goes away (close) right after its bytes, without
 *         reading what tendd answers;
 *   0x08  the config file changes first (world.h's world_config_b), so a
 *         reload in the input removes, adds and changes processes.
 * What must hold, beyond ASan, UBSan and LSan:
 *   - tendd never calls fatal(), nor logs an error (none can be right
 *     here: a broken invariant, a log file it cannot write);
 *   - every line a client got is whole, valid UTF-8 and one JSON object;
 *     a reply has an id, a refusal an error code and a message (a client
 *     whose first byte is an upper-case letter speaks HTTP: it may be
 *     closed only after a response that said "Connection: close");
 *   - no client is dropped: tendd closes one that did not close first
 *     only after a line over the limit, and says so;
 *   - the events stream is the state machine's: seq counts up by one,
 *     each event's "from" is the state the last event (or the start; NEW
 *     for one a reload added) left that process in, and each process
 *     ends in the state its last event said;
 *   - an honest status afterwards describes the table exactly.
 */
#include "world.h"

#define DAEMON_MAX_CONNS	4

/*
 * Each process's state as the events stream has told it so far, by name
 * (a reload may free a process, and add others, which start NEW).
 */
struct daemon_seen {
	char		*name;
	const char	*state;
};
#define DAEMON_MAX_SEEN	64

static struct daemon_seen *
daemon_seen_of(struct daemon_seen *seen, size_t *n, const char *name)
{
	size_t k;

	for (k = 0; k < *n; k++)
		if (strcmp(seen[k].name, name) == 0)
			return &seen[k];
	if (*n == DAEMON_MAX_SEEN)
		world_fail("too many processes");
	seen[*n].name = xstrdup(name);
	seen[*n].state = program_state_name(PROC_NEW);
	return &seen[(*n)++];
}

static void
daemon_check_events(json_t *lines, struct daemon_seen *seen, size_t *nseen)
{
	struct daemon_seen *sp;
	json_t *ev;
	json_int_t seq = -1;
	const char *name, *from, *to;
	size_t i;
	int st;

	/* The first line is the reply to the subscription. */
	if (!json_is_true(json_object_get(json_array_get(lines, 0), "ok")))
		world_fail("the events subscription was refused");
	for (i = 1; i < json_array_size(lines); i++) {
		ev = json_array_get(lines, i);
		name = json_string_value(json_object_get(ev, "name"));
		from = json_string_value(json_object_get(ev, "from"));
		to = json_string_value(json_object_get(ev, "to"));
		if (name == NULL || from == NULL || to == NULL ||
		    !json_is_integer(json_object_get(ev, "seq")) ||
		    strcmp(json_string_value(json_object_get(ev, "event")) ?
		    json_string_value(json_object_get(ev, "event")) : "",
		    "state") != 0)
			world_fail("a malformed event (line %zu)", i);
		if (seq != -1 &&
		    json_integer_value(json_object_get(ev, "seq")) != seq + 1)
			world_fail("event seq %lld after %lld", (long long)
			    json_integer_value(json_object_get(ev, "seq")),
			    (long long)seq);
		seq = json_integer_value(json_object_get(ev, "seq"));
		sp = daemon_seen_of(seen, nseen, name);
		if (strcmp(sp->state, from) != 0)
			world_fail("%s: an event from %s, but it was %s", name,
			    from, sp->state);
		for (st = 0; st < PROC_NSTATES; st++)
			if (strcmp(program_state_name(st), to) == 0)
				break;
		if (st == PROC_NSTATES)
			world_fail("%s: an event to %s", name, to);
		sp->state = program_state_name(st);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct world_client *sub, *conns[DAEMON_MAX_CONNS];
	struct daemon_seen seen[DAEMON_MAX_SEEN], *sp;
	const uint8_t *seg[DAEMON_MAX_CONNS], *s, *end = data + size;
	size_t seglen[DAEMON_MAX_CONNS], nseg = 0, nseen = 0, i, off, chunk;
	struct proc *p;
	json_t *lines;
	int flags;

	if (size < 1)
		return 0;
	world_strict = 1;
	flags = data[0];
	/* The segments: the last takes whatever separators follow. */
	s = data + 1;
	while (nseg < DAEMON_MAX_CONNS - 1) {
		const uint8_t *sep = memmem(s, (size_t)(end - s), "~~~", 3);

		if (sep == NULL)
			break;
		seg[nseg] = s;
		seglen[nseg++] = (size_t)(sep - s);
		s = sep + 3;
	}
	seg[nseg] = s;
	seglen[nseg++] = (size_t)(end - s);

	world_start();
	if (flags & 0x08)
		world_write_config(1);
	sub = world_connect();
	world_send(sub, WORLD_SUBSCRIBE, strlen(WORLD_SUBSCRIBE));
	world_settle();
	TAILQ_FOREACH(p, &procs, entry)
		daemon_seen_of(seen, &nseen, p->display)->state =
		    program_state_name(p->state);

	for (i = 0; i < nseg; i++) {
		conns[i] = world_connect();
		chunk = flags & 0x02 ? (size_t)(flags >> 4) + 1 : seglen[i];
		for (off = 0; off < seglen[i]; off += chunk) {
			if (chunk > seglen[i] - off)
				chunk = seglen[i] - off;
			world_send(conns[i], seg[i] + off, chunk);
			if (flags & 0x02)
				world_settle();
		}
		if (flags & 0x04)
			world_client_close(conns[i]);
		else if (flags & 0x01)
			shutdown(conns[i]->fd, SHUT_WR);
		world_settle();
	}

	for (i = 0; i < nseg; i++) {
		lines = world_lines(conns[i]);
		/*
		 * tendd closes a client that did not close first only after
		 * saying why: its line was too long. Anything else is a
		 * client dropped (a reply it could not build, say).
		 */
		/* HTTP: tendd closes after a response that says so */
		if (conns[i]->eof && !(flags & 0x05) && conns[i]->len >= 7 &&
		    memcmp(conns[i]->buf, "HTTP/1.", 7) == 0) {
			if (memmem(conns[i]->buf, conns[i]->len,
			    "Connection: close\r\n", 19) == NULL)
				world_fail("HTTP client %zu was dropped", i);
		} else if (conns[i]->eof && !(flags & 0x05)) {
			json_t *last = json_array_get(lines,
			    json_array_size(lines) - 1);

			if (strcmp(json_string_value(json_object_get(
			    json_object_get(last, "error"), "code")) ?
			    json_string_value(json_object_get(json_object_get(
			    last, "error"), "code")) : "", "line_too_long") != 0)
				world_fail("client %zu was dropped", i);
		}
		json_decref(lines);
	}
	if (sub->eof)
		world_fail("the events subscriber was dropped");
	lines = world_lines(sub);
	daemon_check_events(lines, seen, &nseen);
	json_decref(lines);
	TAILQ_FOREACH(p, &procs, entry) {
		sp = daemon_seen_of(seen, &nseen, p->display);
		if (strcmp(sp->state, program_state_name(p->state)) != 0)
			world_fail("%s is %s, but its last event said %s",
			    p->display, program_state_name(p->state),
			    sp->state);
	}
	for (i = 0; i < nseen; i++)
		free(seen[i].name);
	world_check_status();
	world_end();
	return 0;
}
