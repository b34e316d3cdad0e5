/*
 * metrics.c: what a process uses (CPU seconds over all its runs, resident
 * memory) and GET /metrics, the Prometheus text exposition (spec section
 * 11). Nothing is sampled on a timer: /proc/PID/stat (procfs.c) and the
 * cgroup's memory.current are read when someone asks (a scrape, a status
 * with those fields, the status page), so an idle tendd stays idle.
 *
 * CPU is a counter that never goes backwards across restarts: the latest
 * reading of a run (cpu_live, for cpu_pid) is folded into cpu_ended when
 * a new pid is read, and the zombie's own final figure is taken when the
 * process ends (metrics_proc_ended, from reap.c), before it is reaped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include "tendd.h"

static unsigned long long metrics_reloads;
static double metrics_hz, metrics_page;

void
metrics_reloaded(void)
{
	metrics_reloads++;
}

static void
metrics_units(void)
{
	long v;

	if (metrics_hz > 0)
		return;
	metrics_hz = (v = sysconf(_SC_CLK_TCK)) > 0 ? (double)v : 100.0;
	metrics_page = (v = sysconf(_SC_PAGESIZE)) > 0 ? (double)v : 4096.0;
}

/* PID's reading TICKS is the latest of its run: a new pid ends the last. */
static void
metrics_cpu_seen(struct proc *p, pid_t pid, double secs)
{
	if (p->cpu_pid != pid) {
		p->cpu_ended += p->cpu_live;
		p->cpu_live = 0;
		p->cpu_pid = pid;
	}
	if (secs > p->cpu_live)
		p->cpu_live = secs;
}

void
metrics_proc_ended(struct proc *p)
{
	unsigned long long ticks, rss;

	if (p->pid <= 0 || procfs_usage(p->pid, &ticks, &rss) == -1)
		return;
	metrics_units();
	metrics_cpu_seen(p, p->pid, (double)ticks / metrics_hz);
}

/* DIR/memory.current; -1 when it cannot be read. */
static long long
metrics_cgroup_memory(const char *dir)
{
	char path[4096], buf[64];
	long long v;
	ssize_t n;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/memory.current", dir) >=
	    sizeof(path) || (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return sscanf(buf, "%lld", &v) == 1 && v >= 0 ? v : -1;
}

void
metrics_usage(struct proc *p, struct metrics_usage *u)
{
	unsigned long long ticks, rss;
	long long cg;
	int live = p->pid > 0 && !p->reaped;

	metrics_units();
	u->mem = -1;
	if (live && procfs_usage(p->pid, &ticks, &rss) == 0) {
		metrics_cpu_seen(p, p->pid, (double)ticks / metrics_hz);
		u->mem = (long long)((double)rss * metrics_page);
	}
	if (live && p->cgroup != NULL &&
	    (cg = metrics_cgroup_memory(p->cgroup)) >= 0)
		u->mem = cg;
	u->cpu = p->cpu_ended + p->cpu_live;
	if (!live)
		u->mem = -1;
}

/* ------------------------------------------------------------------ */
/* The exposition                                                       */

/* V as a label value: backslash, double quote and newline escaped. */
static void
metrics_label(FILE *f, const char *v)
{
	for (; v != NULL && *v != '\0'; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '"')
			fputs("\\\"", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void
metrics_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The families per process, in the order they are written. */
enum metrics_fam {
	MF_STATE,
	MF_UP,
	MF_RESTARTS,
	MF_START,
	MF_EXIT,
	MF_CPU,
	MF_MEM,
	MF_HEALTH,
	MF_LOG_WRITTEN,
	MF_LOG_DROPPED,
	MF_COUNT
};

static const struct {
	const char	*name;
	const char	*type;
	const char	*help;
} metrics_fams[MF_COUNT] = {
	[MF_STATE] = { "tend_process_state", "gauge",
	    "The process's state: 1 for the current one, 0 for the others." },
	[MF_UP] = { "tend_process_up", "gauge",
	    "1 when the process is RUNNING or PAUSED, else 0." },
	[MF_RESTARTS] = { "tend_process_restarts_total", "counter",
	    "Spawns of the process after its first one." },
	[MF_START] = { "tend_process_start_time_seconds", "gauge",
	    "When the process was last spawned, in seconds since the epoch." },
	[MF_EXIT] = { "tend_process_last_exit_code", "gauge",
	    "The exit code of its last run (128+N for signal N)." },
	[MF_CPU] = { "tend_process_cpu_seconds_total", "counter",
	    "User and system CPU time of all of the process's runs." },
	[MF_MEM] = { "tend_process_resident_memory_bytes", "gauge",
	    "Its cgroup's memory.current when it has one, else its RSS." },
	[MF_HEALTH] = { "tend_process_health", "gauge",
	    "Health check verdict: 1 for the current one (with a check)." },
	[MF_LOG_WRITTEN] = { "tend_log_bytes_written_total", "counter",
	    "Bytes of output written to the stream's log destination." },
	[MF_LOG_DROPPED] = { "tend_log_bytes_dropped_total", "counter",
	    "Bytes of output the stream's log destination dropped." },
};

static const char *const metrics_health[] = { "unknown", "healthy",
    "unhealthy" };

struct metrics_row {
	struct proc		*p;
	char			*labels;	/* name="..",group=".." */
	struct metrics_usage	 u;
};

static void
metrics_proc_family(FILE *f, enum metrics_fam fam, struct metrics_row *r,
    double wall_offset)
{
	struct proc *p = r->p;
	const char *n = metrics_fams[fam].name, *h;
	uint64_t w, d;
	int i;

	switch (fam) {
	case MF_STATE:
		for (i = 0; i < PROC_NSTATES; i++)
			fprintf(f, "%s{%s,state=\"%s\"} %d\n", n, r->labels,
			    program_state_name((enum proc_state)i),
			    p->state == (enum proc_state)i);
		break;
	case MF_UP:
		fprintf(f, "%s{%s} %d\n", n, r->labels, p->state ==
		    PROC_RUNNING || p->state == PROC_PAUSED);
		break;
	case MF_RESTARTS:
		fprintf(f, "%s{%s} %d\n", n, r->labels, p->restarts);
		break;
	case MF_START:
		if (p->start_time > 0)
			fprintf(f, "%s{%s} %.3f\n", n, r->labels,
			    p->start_time + wall_offset);
		break;
	case MF_EXIT:
		if (p->has_exited)
			fprintf(f, "%s{%s} %d\n", n, r->labels, p->exitcode);
		break;
	case MF_CPU:
		fprintf(f, "%s{%s} %.2f\n", n, r->labels, r->u.cpu);
		break;
	case MF_MEM:
		if (r->u.mem >= 0)
			fprintf(f, "%s{%s} %lld\n", n, r->labels, r->u.mem);
		break;
	case MF_HEALTH:
		if ((h = probe_health_name(p)) == NULL)
			break;
		for (i = 0; i < 3; i++)
			fprintf(f, "%s{%s,health=\"%s\"} %d\n", n, r->labels,
			    metrics_health[i], strcmp(h, metrics_health[i]) ==
			    0);
		break;
	case MF_LOG_WRITTEN:
	case MF_LOG_DROPPED:
		for (i = 0; i < OUTPUT_NSTREAMS; i++) {
			output_counts(p, (enum output_stream)i, &w, &d);
			fprintf(f, "%s{%s,stream=\"%s\"} %llu\n", n,
			    r->labels, i == OUTPUT_STDOUT ? "stdout" :
			    "stderr", (unsigned long long)
			    (fam == MF_LOG_WRITTEN ? w : d));
		}
		break;
	case MF_COUNT:
		break;
	}
}

/* tendd's own families: processes by state, reloads, build info. */
static void
metrics_own(FILE *f)
{
	int count[PROC_NSTATES] = { 0 }, i;
	struct proc *p;

	TAILQ_FOREACH(p, &procs, entry)
		count[p->state]++;
	metrics_family(f, "tend_processes", "gauge",
	    "Processes tendd supervises, by state.");
	for (i = 0; i < PROC_NSTATES; i++)
		fprintf(f, "tend_processes{state=\"%s\"} %d\n",
		    program_state_name((enum proc_state)i), count[i]);
	metrics_family(f, "tend_reloads_total", "counter",
	    "Configuration reloads applied since tendd started.");
	fprintf(f, "tend_reloads_total %llu\n", metrics_reloads);
	metrics_family(f, "tend_build_info", "gauge",
	    "Always 1; the version of tendd as a label.");
	fputs("tend_build_info{version=\"", f);
	metrics_label(f, TEND_VERSION);
	fputs("\"} 1\n", f);
}

void
metrics_write(char **out, size_t *len)
{
	struct metrics_row *rows;
	double wall_offset = util_wallclock() - util_now();
	size_t n = 0, i, cap;
	struct proc *p;
	FILE *f;
	int fam;

	cap = (size_t)program_nprocs + 1;
	rows = xcalloc(cap, sizeof(*rows));
	TAILQ_FOREACH(p, &procs, entry) {
		if (n == cap)
			break;
		rows[n].p = p;
		metrics_usage(p, &rows[n].u);
		n++;
	}
	for (i = 0; i < n; i++) {
		char *buf = NULL;
		size_t blen = 0;
		FILE *lf = open_memstream(&buf, &blen);

		if (lf == NULL)
			fatal("open_memstream: no memory");
		fputs("name=\"", lf);
		metrics_label(lf, rows[i].p->display);
		fputs("\",group=\"", lf);
		metrics_label(lf, rows[i].p->group);
		fputc('"', lf);
		fclose(lf);
		rows[i].labels = buf;
	}
	if ((f = open_memstream(out, len)) == NULL)
		fatal("open_memstream: no memory");
	for (fam = 0; fam < MF_COUNT; fam++) {
		metrics_family(f, metrics_fams[fam].name,
		    metrics_fams[fam].type, metrics_fams[fam].help);
		for (i = 0; i < n; i++)
			metrics_proc_family(f, (enum metrics_fam)fam, &rows[i],
			    wall_offset);
	}
	metrics_own(f);
	fclose(f);
	for (i = 0; i < n; i++)
		free(rows[i].labels);
	free(rows);
}
