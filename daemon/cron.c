/*
 * cron.c: cron expressions (spec §12 schedule): five fields (minute,
 * hour, day of month, month, day of week) of numbers, names (jan..dec,
 * sun..sat), ranges, lists and steps, or @hourly, @daily (@midnight),
 * @weekly, @monthly, @yearly (@annually); and the next matching minute
 * in local time (TZ, or the machine's). Pure: no clock, no state; the
 * unit tests drive it (tests/unit/test_cron.c).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "tendd.h"

static const struct {
	const char	*name;
	int		 min, max;
	const char	*const *names;	/* names[i] is value i (or i+1) */
	int		 names_from;
} cron_fields[5] = {
	{ "minute", 0, 59, NULL, 0 },
	{ "hour", 0, 23, NULL, 0 },
	{ "day of month", 1, 31, NULL, 0 },
	{ "month", 1, 12, (const char *const[]){ "jan", "feb", "mar", "apr",
	    "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL }, 1 },
	{ "day of week", 0, 7, (const char *const[]){ "sun", "mon", "tue",
	    "wed", "thu", "fri", "sat", NULL }, 0 },
};

static const struct {
	const char	*name;
	const char	*expr;
} cron_macros[] = {
	{ "@hourly", "0 * * * *" },
	{ "@daily", "0 0 * * *" },
	{ "@midnight", "0 0 * * *" },
	{ "@weekly", "0 0 * * 0" },
	{ "@monthly", "0 0 1 * *" },
	{ "@yearly", "0 0 1 1 *" },
	{ "@annually", "0 0 1 1 *" },
};

/* A number or a name of field F at *S; -1 when neither. */
static int
cron_value(int f, const char **s)
{
	const char *const *n;
	char *end;
	long v;
	int i;

	if (isdigit((unsigned char)**s)) {
		v = strtol(*s, &end, 10);
		*s = end;
		return v > 99 ? 99 : (int)v;
	}
	for (n = cron_fields[f].names, i = 0; n != NULL && n[i] != NULL; i++) {
		if (strncasecmp(*s, n[i], 3) == 0 &&
		    !isalpha((unsigned char)(*s)[3])) {
			*s += 3;
			return i + cron_fields[f].names_from;
		}
	}
	return -1;
}

/* One comma item of field F ("*", "N", "N-M", each with "/STEP"). */
static int
cron_item(int f, const char *s, uint64_t *bits, char **cause)
{
	int lo = cron_fields[f].min, hi = cron_fields[f].max, step = 1, v;
	const char *p = s;
	char *end;
	long st;

	if (*p == '*')
		p++;
	else {
		if ((lo = cron_value(f, &p)) == -1)
			goto bad;
		hi = lo;
		if (*p == '-') {
			p++;
			if ((hi = cron_value(f, &p)) == -1)
				goto bad;
		} else if (*p == '/')
			hi = cron_fields[f].max;	/* N/STEP: N to the end */
	}
	if (*p == '/') {
		st = strtol(p + 1, &end, 10);
		if (end == p + 1 || st < 1 || st > 99)
			goto bad;
		step = (int)st;
		p = end;
	}
	if (*p != '\0')
		goto bad;
	if (lo < cron_fields[f].min || hi > cron_fields[f].max || lo > hi) {
		xasprintf(cause, "%s: %s is out of %d-%d", cron_fields[f].name,
		    s, cron_fields[f].min, cron_fields[f].max);
		return -1;
	}
	for (v = lo; v <= hi; v += step)
		*bits |= 1ULL << v;
	return 0;
bad:
	xasprintf(cause, "%s: cannot read '%s'", cron_fields[f].name, s);
	return -1;
}

static int
cron_field(int f, char *text, uint64_t *bits, char **cause)
{
	char *item, *save = NULL;

	*bits = 0;
	for (item = strtok_r(text, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save))
		if (cron_item(f, item, bits, cause) == -1)
			return -1;
	if (*bits == 0) {
		xasprintf(cause, "%s: empty", cron_fields[f].name);
		return -1;
	}
	return 0;
}

int
cron_parse(const char *expr, struct cron *c, char **cause)
{
	char *copy, *fields[6], *save = NULL;
	uint64_t bits[5];
	size_t i;
	int n = 0, rc = -1;

	while (isspace((unsigned char)*expr))
		expr++;
	for (i = 0; i < nitems(cron_macros); i++)
		if (strcasecmp(expr, cron_macros[i].name) == 0)
			expr = cron_macros[i].expr;
	if (*expr == '@') {
		xasprintf(cause, "unknown %s (@hourly, @daily, @weekly, "
		    "@monthly or @yearly)", expr);
		return -1;
	}
	copy = xstrdup(expr);
	for (fields[n] = strtok_r(copy, " \t", &save); fields[n] != NULL &&
	    n < 5; fields[n] = strtok_r(NULL, " \t", &save))
		n++;
	if (n != 5 || fields[5] != NULL) {
		xasprintf(cause, "a cron expression has 5 fields (minute hour "
		    "day-of-month month day-of-week), not %s", n < 5 ? "fewer" :
		    "more");
		goto out;
	}
	memset(c, 0, sizeof(*c));
	c->dom_any = strcmp(fields[2], "*") == 0;
	c->dow_any = strcmp(fields[4], "*") == 0;
	for (i = 0; i < 5; i++)
		if (cron_field((int)i, fields[i], &bits[i], cause) == -1)
			goto out;
	c->minutes = bits[0];
	c->hours = (uint32_t)bits[1];
	c->mdays = (uint32_t)bits[2];
	c->months = (uint16_t)bits[3];
	/* 7 is Sunday too */
	c->wdays = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7f);
	rc = 0;
out:
	free(copy);
	return rc;
}

/* As cron: with both day fields restricted, either may match. */
static int
cron_day_matches(const struct cron *c, const struct tm *tm)
{
	int dom = (c->mdays >> tm->tm_mday) & 1;
	int dow = (c->wdays >> tm->tm_wday) & 1;

	if (c->dom_any && c->dow_any)
		return 1;
	if (c->dom_any)
		return dow;
	if (c->dow_any)
		return dom;
	return dom || dow;
}

/* TM normalized by mktime (local time, DST as it falls). */
static time_t
cron_norm(struct tm *tm)
{
	time_t t;

	tm->tm_isdst = -1;
	t = mktime(tm);
	localtime_r(&t, tm);
	return t;
}

time_t
cron_next(const struct cron *c, time_t after)
{
	struct tm tm;
	time_t t = after - (after % 60 + 60) % 60 + 60;
	int i;

	localtime_r(&t, &tm);
	tm.tm_sec = 0;
	t = cron_norm(&tm);
	/* at most a few years of days, hours and minutes */
	for (i = 0; i < 200000; i++) {
		if (!((c->months >> (tm.tm_mon + 1)) & 1)) {
			tm.tm_mon++;
			tm.tm_mday = 1;
			tm.tm_hour = tm.tm_min = 0;
		} else if (!cron_day_matches(c, &tm)) {
			tm.tm_mday++;
			tm.tm_hour = tm.tm_min = 0;
		} else if (!((c->hours >> tm.tm_hour) & 1)) {
			tm.tm_hour++;
			tm.tm_min = 0;
		} else if (!((c->minutes >> tm.tm_min) & 1))
			tm.tm_min++;
		else
			return t > after ? t : cron_next(c, t);
		t = cron_norm(&tm);
	}
	return (time_t)-1;
}
