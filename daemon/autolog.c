/*
 * autolog.c: the AUTO log files of earlier runs. AUTO names a new file
 * per stream at every start (logfile.c), so without this a childlogdir
 * grows by two files per program at each restart of tendd. As
 * supervisord does at start-up (options.clear_autochildlogdir), every
 * file named like an AUTO file of this identifier is removed, unless
 * [tend] nocleanup = true. It runs once, after the control socket is
 * ours (a second tendd on the same socket stops before it) and before
 * the first program opens its new files.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tendd.h"

/*
 * supervisord's test, re.match('.+?---IDENT-\S+\.log\.{0,1}\d{0,4}'),
 * anchored at the start only: at least one byte, "---IDENT-", at least
 * one byte without blanks, then ".log", whatever follows it (so the
 * backups, ".log.1" ..., too). IDENT is written as logfile.c writes it
 * into names ('/' as '_').
 */
static int
autolog_match(const char *name, const char *ident)
{
	size_t len = strlen(name), ilen = strlen(ident), i, j, t, w;

	for (i = 1; i + 3 + ilen + 1 < len; i++) {
		if (memcmp(name + i, "---", 3) != 0)
			continue;
		for (j = 0; j < ilen; j++)
			if (name[i + 3 + j] != (ident[j] == '/' ? '_' : ident[j]))
				break;
		if (j < ilen || name[i + 3 + ilen] != '-')
			continue;
		/* The blank-free tail, then ".log" after its first byte. */
		t = i + 3 + ilen + 1;
		for (w = t; w < len && !isspace((unsigned char)name[w]); w++)
			;
		for (j = t + 1; j + 4 <= w; j++)
			if (memcmp(name + j, ".log", 4) == 0)
				return 1;
	}
	return 0;
}

/*
 * Removes the AUTO files of earlier runs from DIR. Regular files only,
 * by name relative to the directory opened once (nothing followed).
 * Problems are logged; none stops tendd.
 */
void
autolog_cleanup(const char *dir, const char *ident)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, removed = 0, failed = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		/* A missing default childlogdir is made on first use. */
		if (errno != ENOENT)
			log_warn("cannot clean up AUTO logs in %s: %s", dir,
			    strerror(errno));
		return;
	}
	if ((d = fdopendir(fd)) == NULL) {
		log_warn("cannot clean up AUTO logs in %s: %s", dir,
		    strerror(errno));
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (!autolog_match(de->d_name, ident))
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(fd, de->d_name, 0) == 0)
			removed++;
		else if (errno != ENOENT && failed++ == 0)
			log_warn("cannot remove the old AUTO log %s/%s: %s",
			    dir, de->d_name, strerror(errno));
	}
	closedir(d);
	if (removed > 0)
		log_info("removed %d AUTO log file%s of earlier runs from %s "
		    "(nocleanup = true keeps them)", removed,
		    removed == 1 ? "" : "s", dir);
	if (failed > 1)
		log_warn("%d old AUTO logs in %s could not be removed", failed,
		    dir);
}
