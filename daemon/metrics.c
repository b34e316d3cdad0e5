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
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/*
 * A hybrid hierarchy's v2 part may have no memory controller: then no
 * cgroup of tendd's has memory.current, and trying each one's would be
 * a third of a scrape. One miss stands for all for a few seconds.
 */
#define METRICS_CG_RECHECK	10.0
static double metrics_cg_missing;	/* monotonic; 0: not known missing */

/* DIR/memory.current; -1 when it cannot be read. */
static long long
metrics_cgroup_memory(const char *dir)
{
	char path[4096], buf[64];
	long long v;
	ssize_t n;
	int fd;

	if (metrics_cg_missing > 0 &&
	    util_now() - metrics_cg_missing < METRICS_CG_RECHECK)
		return -1;
	metrics_cg_missing = 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/memory.current", dir) >=
	    sizeof(path))
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			metrics_cg_missing = util_now();
		return -1;
	}
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

/*
 * The text is built by hand into one growing buffer: at 1,000 processes
 * (19,000 lines) printf's format parsing was a good part of a scrape.
 */
struct metrics_buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

static void
metrics_add(struct metrics_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap < 4096 ? 4096 : b->cap * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
metrics_str(struct metrics_buf *b, const char *s)
{
	metrics_add(b, s, strlen(s));
}

static void
metrics_ll(struct metrics_buf *b, long long v)
{
	char tmp[24], *e = tmp + sizeof(tmp), *q = e;
	unsigned long long u = v < 0 ? 0 - (unsigned long long)v :
	    (unsigned long long)v;

	do
		*--q = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--q = '-';
	metrics_add(b, q, (size_t)(e - q));
}

static void
metrics_fixed(struct metrics_buf *b, double v, int decimals)
{
	char tmp[64];
	int n = snprintf(tmp, sizeof(tmp), "%.*f", decimals, v);

	if (n > 0 && (size_t)n < sizeof(tmp))
		metrics_add(b, tmp, (size_t)n);
}

/* V as a label value: backslash, double quote and newline escaped. */
static void
metrics_label(struct metrics_buf *b, const char *v)
{
	const char *run = v;

	for (; v != NULL && *v != '\0'; v++) {
		if (*v != '\\' && *v != '"' && *v != '\n')
			continue;
		metrics_add(b, run, (size_t)(v - run));
		metrics_str(b, *v == '\\' ? "\\\\" : *v == '"' ? "\\\"" :
		    "\\n");
		run = v + 1;
	}
	if (v != NULL)
		metrics_add(b, run, (size_t)(v - run));
}

static void
metrics_family(struct metrics_buf *b, const char *name, const char *type,
    const char *help)
{
	metrics_str(b, "# HELP ");
	metrics_str(b, name);
	metrics_str(b, " ");
	metrics_str(b, help);
	metrics_str(b, "\n# TYPE ");
	metrics_str(b, name);
	metrics_str(b, " ");
	metrics_str(b, type);
	metrics_str(b, "\n");
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
	size_t			 nlabels;
	struct metrics_usage	 u;
};

/* NAME{LABELS[,KEY="VALUE"]} and the blank before a value. */
static void
metrics_series(struct metrics_buf *b, const char *name,
    const struct metrics_row *r, const char *key, const char *value)
{
	metrics_str(b, name);
	metrics_add(b, "{", 1);
	metrics_add(b, r->labels, r->nlabels);
	if (key != NULL) {
		metrics_add(b, ",", 1);
		metrics_str(b, key);
		metrics_add(b, "=\"", 2);
		metrics_str(b, value);
		metrics_add(b, "\"", 1);
	}
	metrics_add(b, "} ", 2);
}

static void
metrics_series_ll(struct metrics_buf *b, const char *name,
    const struct metrics_row *r, const char *key, const char *value,
    long long v)
{
	metrics_series(b, name, r, key, value);
	metrics_ll(b, v);
	metrics_add(b, "\n", 1);
}

static void
metrics_proc_family(struct metrics_buf *b, enum metrics_fam fam,
    struct metrics_row *r, double wall_offset)
{
	struct proc *p = r->p;
	const char *n = metrics_fams[fam].name, *h;
	uint64_t w, d;
	int i;

	switch (fam) {
	case MF_STATE:
		for (i = 0; i < PROC_NSTATES; i++)
			metrics_series_ll(b, n, r, "state",
			    program_state_name((enum proc_state)i),
			    p->state == (enum proc_state)i);
		break;
	case MF_UP:
		metrics_series_ll(b, n, r, NULL, NULL, p->state ==
		    PROC_RUNNING || p->state == PROC_PAUSED);
		break;
	case MF_RESTARTS:
		metrics_series_ll(b, n, r, NULL, NULL, p->restarts);
		break;
	case MF_START:
		if (p->start_time <= 0)
			break;
		metrics_series(b, n, r, NULL, NULL);
		metrics_fixed(b, p->start_time + wall_offset, 3);
		metrics_add(b, "\n", 1);
		break;
	case MF_EXIT:
		if (p->has_exited)
			metrics_series_ll(b, n, r, NULL, NULL, p->exitcode);
		break;
	case MF_CPU:
		metrics_series(b, n, r, NULL, NULL);
		metrics_fixed(b, r->u.cpu, 2);
		metrics_add(b, "\n", 1);
		break;
	case MF_MEM:
		if (r->u.mem >= 0)
			metrics_series_ll(b, n, r, NULL, NULL, r->u.mem);
		break;
	case MF_HEALTH:
		if ((h = probe_health_name(p)) == NULL)
			break;
		for (i = 0; i < 3; i++)
			metrics_series_ll(b, n, r, "health", metrics_health[i],
			    strcmp(h, metrics_health[i]) == 0);
		break;
	case MF_LOG_WRITTEN:
	case MF_LOG_DROPPED:
		for (i = 0; i < OUTPUT_NSTREAMS; i++) {
			output_counts(p, (enum output_stream)i, &w, &d);
			metrics_series_ll(b, n, r, "stream", i == OUTPUT_STDOUT ?
			    "stdout" : "stderr", (long long)(fam ==
			    MF_LOG_WRITTEN ? w : d));
		}
		break;
	case MF_COUNT:
		break;
	}
}

/* tendd's own families: processes by state, reloads, build info. */
static void
metrics_own(struct metrics_buf *b)
{
	int count[PROC_NSTATES] = { 0 }, i;
	struct proc *p;

	TAILQ_FOREACH(p, &procs, entry)
		count[p->state]++;
	metrics_family(b, "tend_processes", "gauge",
	    "Processes tendd supervises, by state.");
	for (i = 0; i < PROC_NSTATES; i++) {
		metrics_str(b, "tend_processes{state=\"");
		metrics_str(b, program_state_name((enum proc_state)i));
		metrics_str(b, "\"} ");
		metrics_ll(b, count[i]);
		metrics_add(b, "\n", 1);
	}
	metrics_family(b, "tend_reloads_total", "counter",
	    "Configuration reloads applied since tendd started.");
	metrics_str(b, "tend_reloads_total ");
	metrics_ll(b, (long long)metrics_reloads);
	metrics_add(b, "\n", 1);
	metrics_family(b, "tend_build_info", "gauge",
	    "Always 1; the version of tendd as a label.");
	metrics_str(b, "tend_build_info{version=\"");
	metrics_label(b, TEND_VERSION);
	metrics_str(b, "\"} 1\n");
}

void
metrics_write(char **out, size_t *len)
{
	struct metrics_buf b = { NULL, 0, 0 }, lb;
	struct metrics_row *rows;
	double wall_offset = util_wallclock() - util_now();
	size_t n = 0, i, cap;
	struct proc *p;
	int fam;

	cap = (size_t)program_nprocs + 1;
	rows = xcalloc(cap, sizeof(*rows));
	/* about 1.2 KiB a process: grown by doubling, it was copied 9 times */
	b.cap = 4096 + cap * 1536;
	b.p = xmalloc(b.cap);
	TAILQ_FOREACH(p, &procs, entry) {
		if (n == cap)
			break;
		rows[n].p = p;
		metrics_usage(p, &rows[n].u);
		memset(&lb, 0, sizeof(lb));
		metrics_str(&lb, "name=\"");
		metrics_label(&lb, p->display);
		metrics_str(&lb, "\",group=\"");
		metrics_label(&lb, p->group);
		metrics_str(&lb, "\"");
		rows[n].labels = lb.p;
		rows[n].nlabels = lb.len;
		n++;
	}
	for (fam = 0; fam < MF_COUNT; fam++) {
		metrics_family(&b, metrics_fams[fam].name,
		    metrics_fams[fam].type, metrics_fams[fam].help);
		for (i = 0; i < n; i++)
			metrics_proc_family(&b, (enum metrics_fam)fam, &rows[i],
			    wall_offset);
	}
	metrics_own(&b);
	for (i = 0; i < n; i++)
		free(rows[i].labels);
	free(rows);
	*out = b.p;
	*len = b.len;
}
