/*
 * fuzz_ini.c: libFuzzer target for common/ini.c, tend's reader around
 * Debian's libinih: any bytes as a whole file (long lines and names past
 * libinih's 200/50-byte limits, NULs, CRs, BOMs, continuations, broken
 * headers). Beyond the sanitizers, it checks what ini.h promises: line
 * numbers within the file and never decreasing for entries, sections and
 * keys as the grammar allows them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ini.h"

struct fuzz_ini {
	int	lines;		/* physical lines in the input */
	int	last_line;	/* of the last header or key */
};

static int
fuzz_ini_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	    c == '\r';
}

static void
fuzz_ini_entry(void *arg, const char *section, const char *key,
    const char *value, int line)
{
	struct fuzz_ini *fi = arg;
	size_t n;

	if (section == NULL || line < 1 || line > fi->lines)
		abort();
	/* A key's entry comes once its value is whole: later lines only. */
	if (line < fi->last_line)
		abort();
	fi->last_line = line;
	if ((key == NULL) != (value == NULL))
		abort();
	if (key == NULL) {
		/* A header: a name, trimmed, with no ']' in it. */
		n = strlen(section);
		if (n == 0 || fuzz_ini_blank((unsigned char)section[0]) ||
		    fuzz_ini_blank((unsigned char)section[n - 1]) ||
		    strchr(section, ']') != NULL)
			abort();
		return;
	}
	/* A key ends at the first '=' or ':' and is trimmed, never empty. */
	n = strlen(key);
	if (n == 0 || strpbrk(key, "=:\n") != NULL ||
	    fuzz_ini_blank((unsigned char)key[0]) ||
	    fuzz_ini_blank((unsigned char)key[n - 1]))
		abort();
}

static void
fuzz_ini_error(void *arg, int line, const char *what)
{
	struct fuzz_ini *fi = arg;

	if (line < 1 || line > fi->lines || what == NULL || *what == '\0')
		abort();
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_ini fi = { 1, 0 };
	char *cause = NULL;
	size_t i;

	for (i = 0; i < size; i++)
		if (data[i] == '\n' && i + 1 < size)
			fi.lines++;
	if (ini_read_buffer((const char *)data, size, fuzz_ini_entry,
	    fuzz_ini_error, &fi, &cause) == -1) {
		/* Reading memory cannot fail but for memory itself. */
		if (cause == NULL)
			abort();
		free(cause);
	}
	return 0;
}
