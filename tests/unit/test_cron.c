/*
 * test_cron: cron expressions (daemon/cron.c, spec §12 schedule): what
 * is read and what is refused, and the next matching minute, in UTC and
 * across a DST change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "tendd.h"

static time_t
at(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	assert_non_null(strptime(s, "%Y-%m-%d %H:%M", &tm));
	tm.tm_isdst = -1;
	return mktime(&tm);
}

static void
next_is(const char *expr, const char *after, const char *want)
{
	struct cron c;
	char *cause = NULL, got[64];
	time_t t;
	struct tm tm;

	if (cron_parse(expr, &c, &cause) != 0)
		fail_msg("%s: %s", expr, cause);
	t = cron_next(&c, at(after));
	localtime_r(&t, &tm);
	strftime(got, sizeof(got), "%Y-%m-%d %H:%M", &tm);
	if (strcmp(got, want) != 0)
		fail_msg("%s after %s: %s, not %s", expr, after, got, want);
}

static void
test_next_utc(void **state)
{
	setenv("TZ", "UTC", 1);
	tzset();
	next_is("* * * * *", "2026-03-01 12:00", "2026-03-01 12:01");
	next_is("*/5 * * * *", "2026-03-01 12:03", "2026-03-01 12:05");
	next_is("*/5 * * * *", "2026-03-01 12:55", "2026-03-01 13:00");
	next_is("0 12 * * mon-fri", "2026-03-07 13:00", "2026-03-09 12:00");
	next_is("30 2 * * 7", "2026-03-02 00:00", "2026-03-08 02:30");
	next_is("@hourly", "2026-03-01 12:00", "2026-03-01 13:00");
	next_is("@daily", "2026-12-31 23:59", "2027-01-01 00:00");
	next_is("@weekly", "2026-03-01 00:00", "2026-03-08 00:00");
	next_is("@monthly", "2026-01-31 10:00", "2026-02-01 00:00");
	next_is("0 0 31 * *", "2026-02-01 00:00", "2026-03-31 00:00");
	next_is("0 0 29 feb *", "2026-03-01 00:00", "2028-02-29 00:00");
	next_is("15,45 9-17/4 * jan,JUL *", "2026-01-01 10:00",
	    "2026-01-01 13:15");
	/* both day fields restricted: either matches (as cron) */
	next_is("0 0 13 * fri", "2026-03-01 00:00", "2026-03-06 00:00");
	next_is("0 0 1-3 * *", "2026-03-03 00:00", "2026-04-01 00:00");
	next_is("5/20 * * * *", "2026-03-01 12:06", "2026-03-01 12:25");
}

static void
test_next_dst(void **state)
{
	/* 2026-03-29 02:00 does not exist in Berlin; 02:30 on 10-25 twice */
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	next_is("30 * * * *", "2026-03-29 01:40", "2026-03-29 03:30");
	next_is("0 3 * * *", "2026-03-28 04:00", "2026-03-29 03:00");
	next_is("0 12 * * *", "2026-10-24 13:00", "2026-10-25 12:00");
	setenv("TZ", "UTC", 1);
	tzset();
}

static void
test_refused(void **state)
{
	static const char *const bad[][2] = {
		{ "* * * *", "5 fields" },
		{ "* * * * * *", "5 fields" },
		{ "60 * * * *", "minute: 60 is out of 0-59" },
		{ "* 24 * * *", "hour: 24 is out of 0-23" },
		{ "* * 0 * *", "day of month: 0 is out of 1-31" },
		{ "* * * 13 *", "month: 13 is out of 1-12" },
		{ "* * * * 8", "day of week: 8 is out of 0-7" },
		{ "*/0 * * * *", "minute: cannot read '*/0'" },
		{ "5-1 * * * *", "minute: 5-1 is out of 0-59" },
		{ "a * * * *", "minute: cannot read 'a'" },
		{ "* * * foo *", "month: cannot read 'foo'" },
		{ "1,,2 * * * *", "" },
		{ "@reboot", "unknown @reboot" },
		{ "", "5 fields" },
	};
	struct cron c;
	char *cause;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cause = NULL;
		if (cron_parse(bad[i][0], &c, &cause) == 0) {
			if (*bad[i][1] == '\0')
				continue;	/* empty items are skipped */
			fail_msg("accepted: '%s'", bad[i][0]);
		}
		if (strstr(cause, bad[i][1]) == NULL)
			fail_msg("'%s': %s", bad[i][0], cause);
		free(cause);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_next_utc),
		cmocka_unit_test(test_next_dst),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
