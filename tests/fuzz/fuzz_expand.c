/*
 * fuzz_expand.c: libFuzzer target for expand_value() (common/expand.c),
 * supervisord's %(name)s / %(name)02d expansion with printf's flags,
 * width and precision, and for what sits beside it: expand_path() and
 * expand_suggest(). The first byte picks the section the value is in
 * (a [program:] with or without a process number, or another section);
 * the rest, up to a NUL, is the value. The environment is fixed, so
 * %(ENV_X)s is the same run after run.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "expand.h"
#include "util.h"

/* A width or precision is at most 4096 (EXPAND_MAX_WIDTH). */
#define FUZZ_EXPAND_MAX_GROWTH	4200

static const char *const fuzz_expand_names[] = {
	"command", "process_name", "numprocs", "directory", "environment",
	NULL
};

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	clearenv();
	setenv("HOME", "/home/fuzz", 1);
	setenv("EMPTY", "", 1);
	setenv("PCT", "100%(x)s", 1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct expand_vars vars;
	char *in, *out = NULL, *cause = NULL, *path;
	size_t pieces = 0;
	const char *p;
	int how;

	if (size == 0)
		return 0;
	how = data[0];
	in = xstrndup((const char *)data + 1, size - 1);

	memset(&vars, 0, sizeof(vars));
	vars.here = "/etc/tend";
	vars.host_node_name = how & 1 ? "fuzzhost" : NULL;
	vars.process_num = -1;
	vars.numprocs = -1;
	if (how & 2) {
		vars.program_name = "web";
		vars.group_name = how & 4 ? "pool" : "web";
		vars.numprocs = how & 8 ? 3 : -1;
		vars.process_num = how & 16 ? (how >> 5) - 2 : -1;
	}

	if (expand_value(in, &vars, &out, &cause) == 0) {
		if (out == NULL || cause != NULL)
			abort();
		/* Each expansion writes a bounded amount. */
		for (p = in; (p = strchr(p, '%')) != NULL; p++)
			pieces++;
		if (strlen(out) > strlen(in) + pieces * FUZZ_EXPAND_MAX_GROWTH)
			abort();
		free(out);
	} else {
		if (cause == NULL || *cause == '\0')
			abort();
		free(cause);
	}

	/* expand_path: always absolute against an absolute directory. */
	path = expand_path("/srv/app", in);
	if (path[0] != '/' || strstr(path, "//") != NULL)
		abort();
	free(path);
	(void)expand_suggest(in, fuzz_expand_names);

	free(in);
	return 0;
}
