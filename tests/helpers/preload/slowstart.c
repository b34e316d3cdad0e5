/*
 * slowstart.so: an LD_PRELOAD library that holds each test helper after
 * its exec, before its main(), as a loaded machine may: a way to show
 * that a test does not race a helper's record (tests/integration/README.md,
 * "A state is not a helper's record").
 *
 *   SLOWSTART_MS=N   a program run from a helpers/ directory, or a shell
 *                    whose parent is tendd (a `/bin/sh -c` command),
 *                    sleeps N milliseconds before its main(). Every other
 *                    program (tendd, tendctl, pytest) is left alone.
 *
 * Meant for the environment of a whole test run, which tendd passes on to
 * its children:
 *   LD_PRELOAD=build/helpers/slowstart.so SLOWSTART_MS=300 \
 *   ASAN_OPTIONS=verify_asan_link_order=0 /usr/bin/python3 -m pytest ...
 * Not in make check. A tendd with tendshim.so or waitfail.so preloaded
 * removes LD_PRELOAD, so its children run without this.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Whether this process is a shell tendd started. */
static int
slowstart_shell_of_tendd(const char *exe)
{
	static const char *shells[] = { "/usr/bin/dash", "/usr/bin/bash",
	    "/bin/dash", "/bin/bash" };
	char path[64], comm[32];
	size_t i;
	FILE *f;
	int yes = 0;

	for (i = 0; i < sizeof(shells) / sizeof(shells[0]); i++)
		if (strcmp(exe, shells[i]) == 0)
			break;
	if (i == sizeof(shells) / sizeof(shells[0]))
		return 0;
	snprintf(path, sizeof path, "/proc/%ld/comm", (long)getppid());
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	if (fgets(comm, sizeof comm, f) != NULL)
		yes = strcmp(comm, "tendd\n") == 0;
	fclose(f);
	return yes;
}

__attribute__((constructor)) static void
slowstart_init(void)
{
	const char *s = getenv("SLOWSTART_MS");
	char exe[PATH_MAX];
	struct timespec ts;
	ssize_t n;
	long ms;

	if (s == NULL || (ms = atol(s)) <= 0)
		return;
	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) <= 0)
		return;
	exe[n] = '\0';
	if (strstr(exe, "/helpers/") == NULL && !slowstart_shell_of_tendd(exe))
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1)
		;
}
