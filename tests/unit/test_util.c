/* test_util.c: exit-code encoding, signal names, durations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

/* Real wait statuses from real children, not hand-made bit patterns. */
static int
status_of(int how, int value)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		if (how == 'x')
			_exit(value);
		signal(value, SIG_DFL);
		raise(value);
		_exit(99);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void
test_exitcode(void **state)
{
	assert_int_equal(util_exitcode(status_of('x', 0)), 0);
	assert_int_equal(util_exitcode(status_of('x', 1)), 1);
	assert_int_equal(util_exitcode(status_of('x', 255)), 255);
	assert_int_equal(util_exitcode(status_of('s', SIGKILL)), -9);
	assert_int_equal(util_exitcode(status_of('s', SIGTERM)), -15);
	assert_int_equal(util_exitcode(status_of('s', SIGUSR1)), -SIGUSR1);
}

static void
test_signal_names(void **state)
{
	assert_int_equal(util_signal_number("TERM"), SIGTERM);
	assert_int_equal(util_signal_number("SIGTERM"), SIGTERM);
	assert_int_equal(util_signal_number("term"), SIGTERM);
	assert_int_equal(util_signal_number("sigHup"), SIGHUP);
	assert_int_equal(util_signal_number("9"), SIGKILL);
	assert_int_equal(util_signal_number("USR2"), SIGUSR2);
	assert_int_equal(util_signal_number("RTMIN"), SIGRTMIN);
	assert_int_equal(util_signal_number("RTMIN+2"), SIGRTMIN + 2);
	assert_int_equal(util_signal_number("RTMAX-1"), SIGRTMAX - 1);
	assert_int_equal(util_signal_number("NOPE"), -1);
	assert_int_equal(util_signal_number(""), -1);
	assert_int_equal(util_signal_number("0"), -1);
	assert_int_equal(util_signal_number("999"), -1);
	assert_int_equal(util_signal_number("9x"), -1);
	assert_int_equal(util_signal_number("RTMIN+999"), -1);
	assert_string_equal(util_signal_name(SIGKILL), "KILL");
	assert_string_equal(util_signal_name(SIGTERM), "TERM");
}

static void
test_duration(void **state)
{
	char buf[64];

	util_format_duration(buf, sizeof(buf), 0);
	assert_string_equal(buf, "0:00:00");
	util_format_duration(buf, sizeof(buf), 723.9);
	assert_string_equal(buf, "0:12:03");
	util_format_duration(buf, sizeof(buf), 86399);
	assert_string_equal(buf, "23:59:59");
	util_format_duration(buf, sizeof(buf), 86400 + 3661);
	assert_string_equal(buf, "1 day, 1:01:01");
	util_format_duration(buf, sizeof(buf), 3 * 86400);
	assert_string_equal(buf, "3 days, 0:00:00");
	util_format_duration(buf, sizeof(buf), -5);
	assert_string_equal(buf, "0:00:00");
}

static void
test_strv(void **state)
{
	char *a[] = { "x", "y=1", NULL };
	char **d = strv_dup(a);

	assert_int_equal(strv_len(d), 2);
	assert_true(strv_equal(a, d));
	free(d[1]);
	d[1] = xstrdup("y=2");
	assert_false(strv_equal(a, d));
	strv_free(d);
	assert_null(strv_dup(NULL));
	assert_int_equal(strv_len(NULL), 0);
}

static void
test_timeval(void **state)
{
	struct timeval tv;

	(void)state;
	tv = util_timeval(2.5);
	assert_int_equal(tv.tv_sec, 2);
	assert_int_equal(tv.tv_usec, 500000);
	tv = util_timeval(-3);
	assert_int_equal(tv.tv_sec, 0);
	assert_int_equal(tv.tv_usec, 0);
	tv = util_timeval(0.000001);
	assert_int_equal(tv.tv_sec, 0);
	assert_int_equal(tv.tv_usec, 1);
	tv = util_timeval(1e30);
	assert_int_equal(tv.tv_sec, INT_MAX);
	assert_int_equal(tv.tv_usec, 0);
	tv = util_timeval(0.0 / 0.0);
	assert_int_equal(tv.tv_sec, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exitcode),
		cmocka_unit_test(test_signal_names),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_strv),
		cmocka_unit_test(test_timeval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
