/*
 * test_sevents.c: supervisord's event types (names, supertypes) and the
 * listener protocol byte for byte on real pipes: READY, the header line
 * and payload, RESULT OK, RESULT FAIL (the same event again), serial and
 * poolserial, supervisord's states in PROCESS_STATE payloads (tend's
 * STARTING -> FATAL as BACKOFF then FATAL, PAUSED silent).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "tendd.h"

static void
test_types(void **state)
{
	unsigned long long m;
	char *why = NULL;

	assert_int_equal(sevent_parse_types("PROCESS_STATE", &m, &why), 0);
	assert_true(m & SEV_BIT(SEV_STATE_FATAL));
	assert_true(m & SEV_BIT(SEV_STATE_STARTING));
	assert_false(m & SEV_BIT(SEV_TICK_5));
	assert_int_equal(sevent_parse_types("TICK_60, PROCESS_LOG_STDERR", &m,
	    &why), 0);
	assert_true(m == (SEV_BIT(SEV_TICK_60) | SEV_BIT(SEV_LOG_STDERR)));
	assert_int_equal(sevent_parse_types("EVENT", &m, &why), 0);
	assert_true(m == SEV_BIT(SEV_NTYPES) - 1);
	assert_int_equal(sevent_parse_types("PROCESS_STATE,NOPE", &m, &why),
	    -1);
	assert_string_equal(why, "unknown event type NOPE");
	free(why);
	why = NULL;
	assert_int_equal(sevent_parse_types(" , ", &m, &why), -1);
	free(why);
	assert_string_equal(sevent_name(SEV_SUPERVISOR_STOPPING),
	    "SUPERVISOR_STATE_CHANGE_STOPPING");
}

/* A listener process's two pipes, as its stdin and stdout would be. */
struct fake {
	struct program_conf pc;
	struct proc	 p;
	int		 in;	/* what tendd writes: the child's stdin */
	int		 out;	/* what the child writes to */
};

static void
fake_listener(struct fake *f, const char *events)
{
	int in = 0, out[2] = { -1, -1 };
	char *why = NULL;

	memset(f, 0, sizeof(*f));
	f->pc.listener = 1;
	f->pc.buffer_size = 2;
	assert_int_equal(sevent_parse_types(events, &f->pc.events_mask,
	    &why), 0);
	f->p.pc = &f->pc;
	f->p.name = "rec";
	f->p.group = "rec";
	f->p.display = "rec";
	f->p.state = PROC_RUNNING;
	assert_int_equal(listener_spawn_prepare(&f->p, &in, out, &why), 0);
	assert_true(in > 0 && out[0] > 0);
	f->in = dup(in);
	f->out = dup(out[0]);
	listener_spawn_done(&f->p, 1);
}

static void
put(struct fake *f, const char *s)
{
	assert_int_equal(write(f->out, s, strlen(s)), (ssize_t)strlen(s));
	event_base_loop(tendd_base, EVLOOP_NONBLOCK);
	event_base_loop(tendd_base, EVLOOP_NONBLOCK);
}

/* What tendd sent since the last call ("" when nothing). */
static char *
got(struct fake *f)
{
	static char buf[4096];
	ssize_t n;

	event_base_loop(tendd_base, EVLOOP_NONBLOCK);
	util_set_nonblock(f->in);
	n = read(f->in, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* The header line and PAYLOAD, as supervisord's pool writes them. */
static const char *
sent(int serial, const char *type, const char *payload)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "ver:3.0 server:tend serial:%d pool:rec "
	    "poolserial:%d eventname:%s len:%zu\n%s", serial, serial, type,
	    strlen(payload), payload);
	return buf;
}

static void
test_protocol(void **state)
{
	struct program_conf opc;
	struct proc o;
	struct fake f;

	tendd_base = event_base_new();
	assert_non_null(tendd_base);
	fake_listener(&f, "PROCESS_STATE,REMOTE_COMMUNICATION");

	/* before READY nothing is sent; the event waits in the pool */
	sevent_remote("t", "data");
	assert_string_equal(got(&f), "");
	put(&f, "READY\n");
	assert_string_equal(got(&f), sent(0, "REMOTE_COMMUNICATION",
	    "type:t\ndata"));
	/* FAIL: the same event again, same serials */
	put(&f, "RESULT 4\nFAILREADY\n");
	assert_string_equal(got(&f), sent(0, "REMOTE_COMMUNICATION",
	    "type:t\ndata"));
	put(&f, "RESULT 2\nOK");
	assert_string_equal(got(&f), "");
	put(&f, "READY\n");
	assert_string_equal(got(&f), "");

	/* supervisord's states: NEW is STOPPED, a last failed start is
	   BACKOFF then FATAL, PAUSED says nothing */
	memset(&o, 0, sizeof(o));
	memset(&opc, 0, sizeof(opc));
	o.pc = &opc;
	o.name = "web";
	o.group = "g";
	o.state = PROC_STARTING;
	sevent_state_changed(&o, PROC_NEW);
	assert_string_equal(got(&f), sent(1, "PROCESS_STATE_STARTING",
	    "processname:web groupname:g from_state:STOPPED tries:0"));
	put(&f, "RESULT 2\nOKREADY\n");
	o.state = PROC_FATAL;
	o.startfails = 1;
	sevent_state_changed(&o, PROC_STARTING);
	assert_string_equal(got(&f), sent(2, "PROCESS_STATE_BACKOFF",
	    "processname:web groupname:g from_state:STARTING tries:1"));
	put(&f, "RESULT 2\nOKREADY\n");
	assert_string_equal(got(&f), sent(3, "PROCESS_STATE_FATAL",
	    "processname:web groupname:g from_state:BACKOFF"));
	put(&f, "RESULT 2\nOKREADY\n");
	o.state = PROC_PAUSED;
	sevent_state_changed(&o, PROC_FATAL);
	assert_string_equal(got(&f), "");

	/* one in flight, buffer_size 2: of three more, the oldest goes */
	sevent_remote("a", "");
	assert_string_equal(got(&f), sent(4, "REMOTE_COMMUNICATION",
	    "type:a\n"));
	sevent_remote("b", "");
	sevent_remote("c", "");
	sevent_remote("d", "");
	put(&f, "RESULT 2\nOKREADY\n");
	assert_string_equal(got(&f), sent(6, "REMOTE_COMMUNICATION",
	    "type:c\n"));
	put(&f, "RESULT 2\nOKREADY\n");
	assert_string_equal(got(&f), sent(7, "REMOTE_COMMUNICATION",
	    "type:d\n"));

	listener_proc_free(&f.p);
	close(f.in);
	close(f.out);
	event_base_free(tendd_base);
	tendd_base = NULL;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_protocol),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
