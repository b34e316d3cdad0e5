/* test_backoff.c: the delay sequences of failed starts and crash loops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tendd.h"

static void
test_failed_start_sequence(void **state)
{
	struct program_conf pc = { .backoff_max = 30 };
	static const double want[] = { 1, 2, 4, 8, 16, 30, 30, 30 };
	int i;

	for (i = 0; i < 8; i++)
		assert_float_equal(program_backoff(&pc, i + 1), want[i], 1e-9);
	/* far along the sequence it stays capped, never overflows */
	assert_float_equal(program_backoff(&pc, 1000), 30, 1e-9);
	assert_float_equal(program_backoff(&pc, 0), 1, 1e-9);
}

static void
test_backoff_max_below_one(void **state)
{
	struct program_conf pc = { .backoff_max = 0.5 };

	assert_float_equal(program_backoff(&pc, 1), 0.5, 1e-9);
	assert_float_equal(program_backoff(&pc, 5), 0.5, 1e-9);
}

static void
test_crash_loop_sequence(void **state)
{
	struct program_conf pc = { .backoff_max = 10, .restart_delay = 0 };
	/* first restart at once, then 1, 2, 4, 8, capped at 10 */
	static const double want[] = { 0, 1, 2, 4, 8, 10, 10 };
	int i;

	for (i = 0; i < 7; i++)
		assert_float_equal(program_crash_delay(&pc, i + 1), want[i],
		    1e-9);
}

static void
test_crash_loop_restart_delay_floor(void **state)
{
	struct program_conf pc = { .backoff_max = 30, .restart_delay = 3 };

	/* restart_delay first, and never less than it afterwards */
	assert_float_equal(program_crash_delay(&pc, 1), 3, 1e-9);
	assert_float_equal(program_crash_delay(&pc, 2), 3, 1e-9);
	assert_float_equal(program_crash_delay(&pc, 3), 3, 1e-9);
	assert_float_equal(program_crash_delay(&pc, 4), 4, 1e-9);
	assert_float_equal(program_crash_delay(&pc, 5), 8, 1e-9);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_start_sequence),
		cmocka_unit_test(test_backoff_max_below_one),
		cmocka_unit_test(test_crash_loop_sequence),
		cmocka_unit_test(test_crash_loop_restart_delay_floor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
