/*
 * replay.c: main() for a fuzz target built without libFuzzer (make
 * check's sanitizer build, GCC): runs LLVMFuzzerTestOneInput once on each
 * file named, or on each file of a directory named, so the seed corpus
 * and every input that once crashed are replayed by every check. Prints
 * "replayed N inputs" when all ran; a crash is the sanitizers' report.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
/* Optional in a target, as for libFuzzer. */
int	LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));

static int	replay_count;

static int
replay_file(const char *path)
{
	FILE *f;
	uint8_t *buf = NULL;
	size_t len = 0, size = 0, n;

	f = fopen(path, "rbe");
	if (f == NULL) {
		perror(path);
		return -1;
	}
	do {
		if (size - len < 4096) {
			size = size * 2 + 4096;
			buf = xrealloc(buf, size);
		}
		n = fread(buf + len, 1, size - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		perror(path);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	/* An exact-size copy, so ASan sees a read past the input. */
	{
		uint8_t *exact = xmalloc(len > 0 ? len : 1);

		memcpy(exact, buf, len);
		free(buf);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	replay_count++;
	return 0;
}

static int
replay_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
replay_path(const char *path)
{
	struct stat sb;
	struct dirent *de;
	DIR *d;
	char **names = NULL, *p;
	size_t n = 0, i;
	int ret = 0;

	if (stat(path, &sb) == -1) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(sb.st_mode))
		return replay_file(path);
	d = opendir(path);
	if (d == NULL) {
		perror(path);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		xasprintf(&p, "%s/%s", path, de->d_name);
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = p;
	}
	closedir(d);
	/* In name order, so a run is the same run every time. */
	if (n > 0)
		qsort(names, n, sizeof(*names), replay_name_cmp);
	for (i = 0; i < n; i++) {
		if (ret == 0 && replay_path(names[i]) == -1)
			ret = -1;
		free(names[i]);
	}
	free(names);
	return ret;
}

int
main(int argc, char **argv)
{
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++)
		if (replay_path(argv[i]) == -1)
			return 1;
	printf("replayed %d inputs\n", replay_count);
	return 0;
}
