/*
 * print.c: what tendctl shows: the status table in supervisorctl's
 * layout (scripts parse it), supervisorctl-style result lines, and the
 * JSON documents of --json.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "tendctl.h"
#include "util.h"

/* supervisorctl's columns: name in 32, state in 10. */
#define PRINT_NAME_WIDTH	32
#define PRINT_STATE_WIDTH	10

static void	 print_clean(FILE *, const char *);

/* OBJ[KEY] when it is a string, else DEF (OBJ may be anything, or NULL). */
const char *
print_str(json_t *obj, const char *key, const char *def)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : def;
}

/* Control characters from tendd must not break the one-line layout. */
static void
print_clean(FILE *f, const char *s)
{
	for (; *s != '\0'; s++)
		fputc(iscntrl((unsigned char)*s) ? ' ' : *s, f);
}

void
print_json(json_t *j)
{
	/* Order kept as tendd sent it; real numbers round-trip exactly. */
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_ENCODE_ANY);
	fputc('\n', stdout);
}

/* {"error": ERR} or {"error": ERR, "results": RESULTS}. */
void
print_error_json(json_t *err, json_t *results)
{
	json_t *doc;

	doc = json_object();
	if (err != NULL)
		json_object_set(doc, "error", err);
	else {
		/* Only when the message itself could not be encoded. */
		json_object_set_new(doc, "error", json_pack("{s:s,s:s}",
		    "code", "unknown", "message", "(not valid UTF-8)"));
	}
	if (results != NULL)
		json_object_set(doc, "results", results);
	print_json(doc);
	json_decref(doc);
}

/*
 * The status table's columns: what plain "tendctl status" asks tendd
 * for, as rows of values in this order (docs/protocol.md).
 */
enum { PRINT_COL_NAME, PRINT_COL_STATE, PRINT_COL_DESCRIPTION,
    PRINT_COL_CPU, PRINT_COL_MEM, PRINT_COL_PID };
static const char *const print_status_keys[] = {
	[PRINT_COL_NAME] = "name",
	[PRINT_COL_STATE] = "state",
	[PRINT_COL_DESCRIPTION] = "description",
	/* status --resources adds these */
	[PRINT_COL_CPU] = "cpu_seconds",
	[PRINT_COL_MEM] = "memory_bytes",
	[PRINT_COL_PID] = "pid",
};

json_t *
print_status_fields(int resources)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < (resources ? nitems(print_status_keys) :
	    PRINT_COL_DESCRIPTION + 1); i++)
		json_array_append_new(a, json_string(print_status_keys[i]));
	return a;
}

/*
 * ROW[COL] when it is a string, else DEF. A tendd older than "rows"
 * ignores it and sends objects (until it is restarted after an
 * upgrade): those are read by key.
 */
static const char *
print_col(json_t *row, size_t col, const char *def)
{
	json_t *v;

	if (json_is_object(row))
		return print_str(row, print_status_keys[col], def);
	v = json_array_get(row, col);
	return json_is_string(v) ? json_string_value(v) : def;
}

const char *
print_status_state(json_t *row)
{
	return print_col(row, PRINT_COL_STATE, "");
}

/*
 * One line per process (ROWS as print_status_fields() asked), like
 * supervisorctl: the name column is 32 wide, or as wide as the longest
 * name, so the columns stay aligned.
 */
void
print_status(json_t *rows)
{
	json_t *r;
	size_t i, len, width = PRINT_NAME_WIDTH;

	json_array_foreach(rows, i, r) {
		len = strlen(print_col(r, PRINT_COL_NAME, "?"));
		if (len > width)
			width = len;
	}
	json_array_foreach(rows, i, r) {
		printf("%-*s %-*s", (int)width, print_col(r, PRINT_COL_NAME,
		    "?"), PRINT_STATE_WIDTH, print_col(r, PRINT_COL_STATE,
		    "UNKNOWN"));
		print_clean(stdout, print_col(r, PRINT_COL_DESCRIPTION, ""));
		fputc('\n', stdout);
	}
}

/* ROW[COL] as JSON (or by key from an object), NULL if absent. */
static json_t *
print_val(json_t *row, size_t col)
{
	if (json_is_object(row))
		return json_object_get(row, print_status_keys[col]);
	return json_array_get(row, col);
}

/* N bytes as a person reads them: 512K, 12.3M, 1.2G. */
static void
print_bytes(char *buf, size_t len, double n)
{
	const char *units = "BKMGTP";

	while (n >= 1024 && units[1] != '\0') {
		n /= 1024;
		units++;
	}
	if (*units == 'B')
		snprintf(buf, len, "%.0fB", n);
	else
		snprintf(buf, len, "%.*f%c", n < 10 ? 1 : 0, n, *units);
}

/*
 * status --resources: the table with CPU% (the CPU seconds that went by
 * between the samples BEFORE and ROWS, over SECS) and resident memory
 * before the description.
 */
void
print_status_resources(json_t *before, json_t *rows, double secs)
{
	json_t *r, *b, *cpu, *cpu0, *mem, *pid, *pid0;
	size_t i, len, width = PRINT_NAME_WIDTH;
	char pct[16], membuf[16];

	json_array_foreach(rows, i, r) {
		len = strlen(print_col(r, PRINT_COL_NAME, "?"));
		if (len > width)
			width = len;
	}
	printf("%-*s %-*s %6s %8s %s\n", (int)width, "NAME", PRINT_STATE_WIDTH,
	    "STATE", "CPU%", "MEM", "DESCRIPTION");
	json_array_foreach(rows, i, r) {
		b = json_array_get(before, i);
		cpu = print_val(r, PRINT_COL_CPU);
		cpu0 = print_val(b, PRINT_COL_CPU);
		pid = print_val(r, PRINT_COL_PID);
		pid0 = print_val(b, PRINT_COL_PID);
		mem = print_val(r, PRINT_COL_MEM);
		pct[0] = membuf[0] = '\0';
		if (json_is_number(cpu) && json_is_number(cpu0) && secs > 0 &&
		    json_equal(pid, pid0) && strcmp(print_col(b, PRINT_COL_NAME,
		    ""), print_col(r, PRINT_COL_NAME, "?")) == 0)
			snprintf(pct, sizeof(pct), "%.1f", 100 *
			    (json_number_value(cpu) - json_number_value(cpu0)) /
			    secs);
		else if (json_is_number(cpu))
			snprintf(pct, sizeof(pct), "-");
		if (json_is_number(mem))
			print_bytes(membuf, sizeof(membuf),
			    json_number_value(mem));
		printf("%-*s %-*s %6s %8s ", (int)width, print_col(r,
		    PRINT_COL_NAME, "?"), PRINT_STATE_WIDTH, print_col(r,
		    PRINT_COL_STATE, "UNKNOWN"), pct, membuf);
		print_clean(stdout, print_col(r, PRINT_COL_DESCRIPTION, ""));
		fputc('\n', stdout);
	}
}

/*
 * start/stop/restart results: "NAME: VERB" on stdout for each VERB and
 * each process that succeeded (all of the first verb, then the next, as
 * supervisorctl's restart does), "NAME: ERROR (why)" on stderr for each
 * failure. Returns the number of failures.
 */
int
print_results(json_t *results, const char *const *verbs)
{
	json_t *r;
	const char *why;
	size_t i;
	int failed = 0;

	for (; *verbs != NULL; verbs++) {
		json_array_foreach(results, i, r) {
			if (json_is_true(json_object_get(r, "ok")))
				printf("%s: %s\n", print_str(r, "name", "?"),
				    *verbs);
		}
	}
	fflush(stdout);
	json_array_foreach(results, i, r) {
		if (json_is_true(json_object_get(r, "ok")))
			continue;
		failed++;
		why = print_str(r, "message", "");
		if (*why == '\0')
			why = print_str(r, "state", "failed");
		fprintf(stderr, "%s: ERROR (", print_str(r, "name", "?"));
		print_clean(stderr, why);
		fprintf(stderr, ")\n");
	}
	return failed;
}
