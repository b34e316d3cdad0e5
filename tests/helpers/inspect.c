/*
 * inspect: reports what a child inherited from tendd, for spawn tests.
 *
 *   inspect --out FILE [--exit CODE]
 *
 * Writes to FILE (atomically: FILE.tmp, then rename) one fact a line:
 *   pid N / ppid N / pgid N / sid N / uid N / gid N / groups G1 G2...
 *   umask 0022 / cwd PATH
 *   fd N TARGET          every open descriptor but the one listing them
 *   SigBlk: HEX / SigIgn: HEX / ...   copied from /proc/self/status
 *   env KEY=VALUE        each environment variable (newlines as \n)
 * then sleeps forever, or exits with CODE when --exit is given.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <dirent.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static char *out;
static size_t outlen, outsize;

static void
add(const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(out + outlen, outsize - outlen, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < outsize - outlen)
			break;
		outsize = outsize * 2 + n + 1;
		if ((out = realloc(out, outsize)) == NULL)
			exit(100);
	}
	outlen += n;
}

int
main(int argc, char **argv)
{
	const char *file = NULL;
	char path[PATH_MAX], target[PATH_MAX], tmp[PATH_MAX], line[512];
	int do_exit = 0, code = 0, n;
	gid_t groups[256];
	struct dirent *de;
	mode_t mask;
	ssize_t len;
	FILE *f;
	DIR *d;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			file = argv[++i];
		else if (strcmp(argv[i], "--exit") == 0 && i + 1 < argc) {
			do_exit = 1;
			code = atoi(argv[++i]);
		} else {
			fprintf(stderr, "inspect: bad argument %s\n", argv[i]);
			return 2;
		}
	}
	if (file == NULL) {
		fprintf(stderr, "usage: inspect --out FILE [--exit CODE]\n");
		return 2;
	}
	outsize = 65536;
	if ((out = malloc(outsize)) == NULL)
		return 100;

	/* Descriptors first, before this program opens anything. */
	if ((d = opendir("/proc/self/fd")) == NULL)
		return 101;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
			continue;
		snprintf(path, sizeof path, "/proc/self/fd/%s", de->d_name);
		if ((len = readlink(path, target, sizeof target - 1)) < 0)
			len = 0;
		target[len] = '\0';
		add("fd %s %s\n", de->d_name, target);
	}
	closedir(d);

	add("pid %ld\nppid %ld\npgid %ld\nsid %ld\n", (long)getpid(),
	    (long)getppid(), (long)getpgid(0), (long)getsid(0));
	add("uid %ld\ngid %ld\ngroups", (long)getuid(), (long)getgid());
	n = getgroups(256, groups);
	for (int i = 0; i < n; i++)
		add(" %ld", (long)groups[i]);
	add("\n");
	mask = umask(0);
	umask(mask);
	add("umask %04o\n", (unsigned)mask);
	if (getcwd(path, sizeof path) == NULL)
		strcpy(path, "?");
	add("cwd %s\n", path);

	if ((f = fopen("/proc/self/status", "re")) != NULL) {
		while (fgets(line, sizeof line, f) != NULL)
			if (strncmp(line, "Sig", 3) == 0 ||
			    strncmp(line, "Shd", 3) == 0)
				add("%s", line);
		fclose(f);
	}

	for (char **e = environ; *e != NULL; e++) {
		add("env ");
		for (const char *p = *e; *p; p++) {
			if (*p == '\n')
				add("\\n");
			else if (*p == '\\')
				add("\\\\");
			else
				add("%c", *p);
		}
		add("\n");
	}

	snprintf(tmp, sizeof tmp, "%s.tmp", file);
	if ((f = fopen(tmp, "we")) == NULL ||
	    fwrite(out, 1, outlen, f) != outlen || fclose(f) == EOF ||
	    rename(tmp, file) == -1) {
		perror(file);
		return 100;
	}
	if (do_exit)
		return code;
	for (;;)
		pause();
}
