/*
 * fuzz_argv.c: libFuzzer target for expand_argv() (common/expand.c), the
 * shell-like splitter of command = lines: quotes, backslashes, line
 * continuations, blanks of every kind. The input up to its first NUL is
 * the command, as the config hands it over. Beyond the sanitizers: a
 * success has at least one word and no word longer than the command; a
 * failure says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "expand.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *cmd, **argv = NULL, *cause = NULL;
	size_t i;

	cmd = xstrndup((const char *)data, size);
	if (expand_argv(cmd, &argv, &cause) == 0) {
		if (argv == NULL || argv[0] == NULL || cause != NULL)
			abort();
		for (i = 0; argv[i] != NULL; i++) {
			if (strlen(argv[i]) > strlen(cmd))
				abort();
			free(argv[i]);
		}
		free(argv);
	} else {
		if (cause == NULL || *cause == '\0')
			abort();
		free(cause);
	}
	free(cmd);
	return 0;
}
