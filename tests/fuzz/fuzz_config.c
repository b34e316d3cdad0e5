/*
 * fuzz_config.c: libFuzzer target for the whole config reader: the input
 * is tend.conf, read by config_load() (daemon/config.c over common/ini.c
 * and common/expand.c) exactly as tendd reads it, includes, env files,
 * groups, numprocs and every key's parser included. An odd-sized input is
 * read with CONFIG_STRICT (tendd --check --strict).
 *
 * The file lives in a private directory made once, which also holds an
 * include (inc.conf, conf.d/a.conf) and an env file (env) for the seeds
 * to name. The reader only reads, but an [include] glob or an env_file
 * can name any path, and a device or a FIFO there (/dev/zero, /dev/tty)
 * would make a run read forever or block: inputs that could reach out of
 * the directory that way are skipped. The environment is cleared to a
 * fixed one so %(ENV_X)s is the same run after run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tendd.h"

static char	fuzz_dir[] = "/tmp/tend-fuzz-config.XXXXXX";
static char	fuzz_conf[sizeof(fuzz_dir) + 16];

/* NAME in the directory (the cwd is the caller's: a replay's paths). */
static const char *
fuzz_config_path(const char *name)
{
	static char path[sizeof(fuzz_dir) + 32];

	snprintf(path, sizeof(path), "%s/%s", fuzz_dir, name);
	return path;
}

static void
fuzz_config_put(const char *name, const char *text)
{
	FILE *f = fopen(fuzz_config_path(name), "we");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
		perror(name);
		exit(1);
	}
}

static void
fuzz_config_cleanup(void)
{
	unlink(fuzz_config_path("t.conf"));
	unlink(fuzz_config_path("inc.conf"));
	unlink(fuzz_config_path("conf.d/a.conf"));
	rmdir(fuzz_config_path("conf.d"));
	unlink(fuzz_config_path("env"));
	rmdir(fuzz_dir);
}

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (mkdtemp(fuzz_dir) == NULL ||
	    mkdir(fuzz_config_path("conf.d"), 0700) == -1) {
		perror(fuzz_dir);
		exit(1);
	}
	atexit(fuzz_config_cleanup);
	snprintf(fuzz_conf, sizeof(fuzz_conf), "%s/t.conf", fuzz_dir);
	fuzz_config_put("inc.conf", "[program:included]\ncommand = /bin/true\n"
	    "[include]\nfiles = conf.d/*.conf\n");
	fuzz_config_put("conf.d/a.conf", "[group:g]\nprograms = included\n");
	fuzz_config_put("env", "# env file\nexport A=1\nB='two words'\n"
	    "C=\"x\\\"y\"\n");
	clearenv();
	setenv("PATH", "/usr/bin:/bin", 1);
	setenv("HOME", fuzz_dir, 1);
	setenv("TEND_FUZZ", "fuzz", 1);
	return 0;
}

static int
fuzz_config_has(const uint8_t *data, size_t size, const char *word)
{
	size_t n = strlen(word), i;

	for (i = 0; i + n <= size; i++)
		if (strncasecmp((const char *)data + i, word, n) == 0)
			return 1;
	return 0;
}

/* Could this input read a path outside the directory? */
static int
fuzz_config_reaches_out(const uint8_t *data, size_t size)
{
	if (memchr(data, '/', size) == NULL)
		return 0;
	return fuzz_config_has(data, size, "include") ||
	    fuzz_config_has(data, size, "env_file");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tend_conf *conf;
	struct diag d;
	FILE *f;
	int i;

	if (fuzz_config_reaches_out(data, size))
		return 0;
	f = fopen(fuzz_conf, "we");
	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
		perror(fuzz_conf);
		exit(1);
	}
	memset(&d, 0, sizeof(d));
	conf = config_load(fuzz_conf, size % 2 ? CONFIG_STRICT : 0, &d);
	/* NULL exactly when there is an error, and then one is said. */
	if ((conf == NULL) != (d.nerrors > 0))
		abort();
	for (i = 0; i < d.n; i++)
		if (d.msgs[i].text == NULL || d.msgs[i].text[0] == '\0')
			abort();
	config_free(conf);
	diag_clear(&d);
	return 0;
}
