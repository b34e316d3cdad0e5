/*
 * test_systemd.c: what daemon/systemd.c tells systemd, read from a
 * test-owned NOTIFY_SOCKET: READY once settled, RELOADING=1 with
 * MONOTONIC_USEC and READY=1 around a reload, STOPPING=1, WATCHDOG=1;
 * and how it refuses bad socket activation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "tendd.h"

static char sockpath[64];
static int sock = -1;

static int
setup(void **state)
{
	struct sockaddr_un sun;

	snprintf(sockpath, sizeof(sockpath), "/tmp/test_systemd.%ld",
	    (long)getpid());
	unlink(sockpath);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, sockpath);
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock == -1 || bind(sock, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		return -1;
	setenv("NOTIFY_SOCKET", sockpath, 1);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	tendd_base = event_base_new();
	return tendd_base == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	systemd_close();
	event_base_free(tendd_base);
	tendd_base = NULL;
	close(sock);
	unlink(sockpath);
	unsetenv("NOTIFY_SOCKET");
	return 0;
}

static uint64_t
mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* The next datagram, waiting up to 2 s; "" when none came. */
static const char *
next_msg(void)
{
	static char buf[4096];
	struct timeval tv = { 2, 0 };
	ssize_t n;

	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(sock, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static int
pending(void)
{
	char c;

	return recv(sock, &c, 1, MSG_DONTWAIT | MSG_PEEK) >= 0;
}

static void
test_status_text(void **state)
{
	int counts[PROC_NSTATES] = { 0 };
	char buf[128];

	counts[PROC_RUNNING] = 3;
	counts[PROC_STARTING] = 1;
	counts[PROC_BACKOFF] = 2;
	counts[PROC_FATAL] = 4;
	counts[PROC_EXITED] = 7;
	systemd_status_text(buf, sizeof(buf), counts);
	assert_string_equal(buf, "3 running, 1 starting, 2 backoff, 4 fatal");
}

static void
test_ready_reload_stopping(void **state)
{
	char *cause = NULL, *end;
	const char *m;
	uint64_t before, after, usec;

	assert_int_equal(systemd_init(&cause), 0);
	assert_int_equal(systemd_listen_fd(), -1);
	systemd_start();
	assert_string_equal(next_msg(), "STATUS=starting programs");

	/* Settled at once (no processes): READY=1 from the status timer. */
	systemd_autostart_done();
	assert_false(systemd_is_ready());
	event_base_loop(tendd_base, EVLOOP_ONCE);
	assert_true(systemd_is_ready());
	assert_string_equal(next_msg(),
	    "READY=1\nSTATUS=0 running, 0 starting, 0 backoff, 0 fatal");

	/* RELOADING=1 carries CLOCK_MONOTONIC in microseconds. */
	before = mono_usec();
	systemd_reloading();
	after = mono_usec();
	m = next_msg();
	assert_true(strncmp(m, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0);
	usec = strtoull(m + 27, &end, 10);
	assert_true(usec >= before && usec <= after);
	assert_string_equal(end, "\nSTATUS=reloading the configuration");
	systemd_reloaded();
	assert_string_equal(next_msg(),
	    "READY=1\nSTATUS=0 running, 0 starting, 0 backoff, 0 fatal");

	systemd_stopping();
	assert_string_equal(next_msg(), "STOPPING=1\nSTATUS=shutting down");
	systemd_stopping();	/* once only */
	assert_false(pending());
}

static void
test_reload_before_ready_waits_for_settle(void **state)
{
	char *cause = NULL;

	assert_int_equal(systemd_init(&cause), 0);
	systemd_start();
	assert_string_equal(next_msg(), "STATUS=starting programs");
	systemd_reloading();
	assert_true(strncmp(next_msg(), "RELOADING=1\n", 12) == 0);
	/* Not ready yet: no READY=1 until the initial programs settle. */
	systemd_reloaded();
	assert_false(pending());
}

static void
test_watchdog(void **state)
{
	char *cause = NULL;

	setenv("WATCHDOG_USEC", "100000", 1);
	assert_int_equal(systemd_init(&cause), 0);
	systemd_start();
	assert_string_equal(next_msg(), "STATUS=starting programs");
	/* every 50 ms from the event loop */
	event_base_loop(tendd_base, EVLOOP_ONCE);
	assert_string_equal(next_msg(), "WATCHDOG=1");
	unsetenv("WATCHDOG_USEC");
}

static void
test_not_under_systemd_sends_nothing(void **state)
{
	char *cause = NULL;

	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(systemd_init(&cause), 0);
	systemd_start();
	systemd_reloading();
	systemd_stopping();
	assert_false(pending());
}

/* LISTEN_FDS for this process, with fds 3.. as given. */
static void
listen_env(const char *n)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("LISTEN_FDS", n, 1);
	setenv("LISTEN_PID", pid, 1);
}

static void
test_socket_activation_refusals(void **state)
{
	char *cause = NULL;
	int saved3 = fcntl(3, F_DUPFD_CLOEXEC, 10);
	int saved4 = fcntl(4, F_DUPFD_CLOEXEC, 10);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	assert_true(null >= 0);
	assert_int_equal(dup2(null, 3), 3);
	assert_int_equal(dup2(null, 4), 4);

	listen_env("2");
	assert_int_equal(systemd_init(&cause), -1);
	assert_non_null(strstr(cause, "passed 2 sockets; tendd takes one"));
	free(cause);
	cause = NULL;

	listen_env("1");
	assert_int_equal(systemd_init(&cause), -1);
	assert_string_equal(cause, "socket activation: descriptor 3 is not a "
	    "listening Unix stream socket");
	free(cause);
	cause = NULL;

	/* Meant for another process: not ours, ignored. */
	setenv("LISTEN_PID", "1", 1);
	assert_int_equal(systemd_init(&cause), 0);
	assert_int_equal(systemd_listen_fd(), -1);

	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	close(null);
	if (saved3 != -1) {
		dup2(saved3, 3);
		close(saved3);
	} else
		close(3);
	if (saved4 != -1) {
		dup2(saved4, 4);
		close(saved4);
	} else
		close(4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_text),
		cmocka_unit_test_setup_teardown(test_ready_reload_stopping,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_reload_before_ready_waits_for_settle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watchdog, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_not_under_systemd_sends_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_activation_refusals,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
