/*
 * procfs.c: what tendd reads of another process in /proc/PID/stat, its
 * state, parent, process group, session and start time. One parser, so
 * that a command name holding ")" or blanks is read the same way by
 * every caller (pidfile adoption, group stops, the start-up sweep), and
 * a process's CPU and memory for metrics.c.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tendd.h"

/*
 * TEXT is /proc/PID/stat: "PID (COMM) STATE PPID PGRP SESSION ...
 * STARTTIME ...", STARTTIME being field 22 (clock ticks since boot).
 * COMM may hold anything, ')' and blanks too: the fields are read after
 * the last ')'.
 */
int
procfs_parse_stat(const char *text, struct pidstat *ps)
{
	const char *s = strrchr(text, ')');
	unsigned long long start;
	long ppid, pgrp, sid;
	char c;

	if (s == NULL || sscanf(s + 1, " %c %ld %ld %ld %*s %*s %*s %*s %*s "
	    "%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu", &c, &ppid, &pgrp,
	    &sid, &start) != 5 || sid < 0)
		return -1;
	ps->state = c;
	ps->ppid = (pid_t)ppid;
	ps->pgrp = (pid_t)pgrp;
	ps->sid = (pid_t)sid;
	ps->start = start;
	return 0;
}

/* /proc/PID/stat into BUF; -1 when it is gone. */
static int
procfs_read(pid_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* PID's stat; -1 when it is gone (a zombie is still there: see state). */
int
procfs_stat(pid_t pid, struct pidstat *ps)
{
	char buf[2048];

	if (procfs_read(pid, buf, sizeof(buf)) == -1)
		return -1;
	return procfs_parse_stat(buf, ps);
}

/*
 * The same TEXT's utime and stime (fields 14 and 15, clock ticks) and
 * rss (field 24, pages): what metrics.c reports of a process.
 */
int
procfs_parse_usage(const char *text, unsigned long long *ticks,
    unsigned long long *rss_pages)
{
	const char *s = strrchr(text, ')');
	unsigned long long v[24];
	char *end;
	int field;

	/* by hand: sscanf was most of tendd's own time in a scrape */
	if (s == NULL)
		return -1;
	s++;
	for (field = 3; field <= 24; field++) {
		while (*s == ' ')
			s++;
		if (*s == '\0')
			return -1;
		if (field == 14 || field == 15 || field == 24) {
			if (*s == '-') {	/* rss may be negative: none */
				v[field - 1] = 0;
				strtoll(s, &end, 10);
			} else
				v[field - 1] = strtoull(s, &end, 10);
			if (end == s)
				return -1;
			s = end;
		} else
			while (*s != ' ' && *s != '\0')
				s++;
	}
	*ticks = v[13] + v[14];
	*rss_pages = v[23];
	return 0;
}

int
procfs_usage(pid_t pid, unsigned long long *ticks,
    unsigned long long *rss_pages)
{
	char buf[2048];

	if (procfs_read(pid, buf, sizeof(buf)) == -1)
		return -1;
	return procfs_parse_usage(buf, ticks, rss_pages);
}
