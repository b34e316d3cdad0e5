/*
 * persist.c: what tendd remembers of a person's wishes beyond its own
 * life (spec §12). Two sets of process names, each a small file written
 * whole (a temporary file, fsync, rename, fsync of the directory):
 *  - disabled processes, in [tend] state_dir: kept across reboots;
 *  - processes a person stopped, beside the control socket (the runtime
 *    directory, a tmpfs): a restarted tendd leaves them stopped, a
 *    reboot forgets them.
 * A file that is not ours (another header, another socket) or not
 * readable as names is reported and ignored, never fatal: at worst a
 * process starts that a person had stopped.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tendd.h"
#include "utf8.h"

#define PERSIST_MAGIC	"tend-state 1"
#define PERSIST_MAXLEN	(4 * 1024 * 1024)

struct persist_set {
	const char	*what;		/* for messages */
	char		*path;		/* NULL: nowhere to keep it */
	char		**names;	/* full names (GROUP:PROCESS) */
	size_t		 n, cap;
	int		 dirty;		/* changed since written */
};

static struct persist_set persist_disabled = { .what = "disabled" };
static struct persist_set persist_stopped = { .what = "stopped" };
static char	*persist_socket;

static ssize_t
persist_find(const struct persist_set *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return (ssize_t)i;
	return -1;
}

static int
persist_add(struct persist_set *s, const char *name)
{
	if (persist_find(s, name) != -1)
		return 0;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->names = xreallocarray(s->names, s->cap, sizeof(*s->names));
	}
	s->names[s->n++] = xstrdup(name);
	return 1;
}

static int
persist_del(struct persist_set *s, const char *name)
{
	ssize_t i = persist_find(s, name);

	if (i == -1)
		return 0;
	free(s->names[i]);
	s->names[i] = s->names[--s->n];
	return 1;
}

static void
persist_clear(struct persist_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->names[i]);
	free(s->names);
	s->names = NULL;
	s->n = s->cap = 0;
}

/*
 * TEXT (LEN bytes) into S: the header line names our socket, then one
 * full name a line. 0, or -1 with *CAUSE (S left empty).
 */
static int
persist_parse_into(struct persist_set *s, char *text, size_t len,
    char **cause)
{
	char *line, *nl, *end = text + len;
	size_t hlen = strlen(PERSIST_MAGIC);

	if (memchr(text, '\0', len) != NULL || !utf8_valid(text, len)) {
		*cause = xstrdup("not text");
		return -1;
	}
	if (len < hlen + 1 || memcmp(text, PERSIST_MAGIC " ", hlen + 1) != 0 ||
	    (nl = memchr(text, '\n', len)) == NULL) {
		*cause = xstrdup("not a tend state file");
		return -1;
	}
	*nl = '\0';
	if (strcmp(text + hlen + 1, persist_socket) != 0) {
		xasprintf(cause, "it belongs to the tendd of %s",
		    text + hlen + 1);
		return -1;
	}
	for (line = nl + 1; line < end; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL) {
			*cause = xstrdup("its last line is cut short");
			persist_clear(s);
			return -1;
		}
		*nl = '\0';
		if (*line == '\0' || !utf8_printable(line) ||
		    strchr(line, ':') == NULL) {
			*cause = xstrdup("a line is not a process name");
			persist_clear(s);
			return -1;
		}
		persist_add(s, line);
	}
	return 0;
}

static void
persist_load(struct persist_set *s)
{
	struct stat st;
	char *buf = NULL, *cause = NULL;
	ssize_t r;
	size_t len = 0;
	int fd;

	if (s->path == NULL)
		return;
	if ((fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno != ENOENT)
			log_warn("%s list %s: cannot read it (ignored): %s",
			    s->what, s->path, strerror(errno));
		return;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > PERSIST_MAXLEN) {
		log_warn("%s list %s: not a small regular file (ignored)",
		    s->what, s->path);
		close(fd);
		return;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size &&
	    (r = read(fd, buf + len, (size_t)st.st_size - len)) > 0)
		len += (size_t)r;
	close(fd);
	buf[len] = '\0';
	if (persist_parse_into(s, buf, len, &cause) == -1) {
		log_warn("%s list %s: %s (ignored)", s->what, s->path, cause);
		free(cause);
	}
	free(buf);
}

static int
persist_mkdirs(const char *dir)
{
	char *copy, *parent;
	int r;

	if (mkdir(dir, 0755) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -1;
	copy = xstrdup(dir);
	parent = dirname(copy);
	r = strcmp(parent, dir) != 0 ? persist_mkdirs(parent) : -1;
	free(copy);
	if (r == -1)
		return -1;
	return mkdir(dir, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* S written whole, atomically. Logged when it cannot be. */
static void
persist_save(struct persist_set *s)
{
	char *tmp, *copy, *dir;
	FILE *f;
	size_t i;
	int fd, ok, dfd;

	if (s->path == NULL)
		return;
	copy = xstrdup(s->path);
	dir = dirname(copy);
	if (persist_mkdirs(dir) == -1) {
		log_warn("%s list: cannot make %s: %s", s->what, dir,
		    strerror(errno));
		free(copy);
		return;
	}
	xasprintf(&tmp, "%s.tmp", s->path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0644);
	if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
		log_warn("%s list: cannot write %s: %s", s->what, tmp,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		free(tmp);
		free(copy);
		return;
	}
	fprintf(f, "%s %s\n", PERSIST_MAGIC, persist_socket);
	for (i = 0; i < s->n; i++)
		fprintf(f, "%s\n", s->names[i]);
	ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, s->path) == -1) {
		log_warn("%s list: cannot write %s: %s", s->what, s->path,
		    strerror(errno));
		unlink(tmp);
	} else if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) !=
	    -1) {
		fsync(dfd);
		close(dfd);
	}
	free(tmp);
	free(copy);
}

/* [tend] state_dir when the file gives none (spec §12). */
char *
persist_default_state_dir(void)
{
	const char *x, *home;
	char *d;

	if (geteuid() == 0)
		return xstrdup("/var/lib/tend");
	if ((x = getenv("XDG_STATE_HOME")) != NULL && x[0] == '/')
		xasprintf(&d, "%s/tend", x);
	else if ((home = getenv("HOME")) != NULL && home[0] == '/')
		xasprintf(&d, "%s/.local/state/tend", home);
	else
		return NULL;
	return d;
}

/*
 * At start-up, after program_setup() and before autostart: reads both
 * lists and leaves what they name STOPPED, so autostart passes it by.
 */
void
persist_init(const struct tend_conf *conf)
{
	struct proc *p;
	const char *why;
	char *dir;

	persist_socket = xstrdup(conf->socket);
	dir = conf->state_dir != NULL ? xstrdup(conf->state_dir) :
	    persist_default_state_dir();
	if (dir != NULL)
		xasprintf(&persist_disabled.path, "%s/tend-%016llx.disabled",
		    dir, (unsigned long long)cgroup_hash(conf->socket));
	free(dir);
	xasprintf(&persist_stopped.path, "%s.stopped", conf->socket);
	persist_load(&persist_disabled);
	persist_load(&persist_stopped);
	/* Nothing runs and nobody listens yet: set, not a transition. */
	TAILQ_FOREACH(p, &procs, entry) {
		if (persist_is_disabled(p))
			why = "disabled";
		else if (persist_find(&persist_stopped, p->fullname) != -1)
			why = "stopped by a person before tendd restarted";
		else
			continue;
		log_info("%s: %s: left STOPPED", p->display, why);
		p->want = WANT_DOWN;
		p->state = PROC_STOPPED;
		free(p->reason);
		p->reason = xstrdup(why);
	}
}

void
persist_close(void)
{
	persist_clear(&persist_disabled);
	persist_clear(&persist_stopped);
	free(persist_disabled.path);
	free(persist_stopped.path);
	persist_disabled.path = persist_stopped.path = NULL;
	free(persist_socket);
	persist_socket = NULL;
}

int
persist_is_disabled(const struct proc *p)
{
	return persist_find(&persist_disabled, p->fullname) != -1;
}

/* enable/disable: 1 when it changed, 0 when it was so already. */
int
persist_set_disabled(const struct proc *p, int disabled)
{
	int changed = disabled ? persist_add(&persist_disabled, p->fullname) :
	    persist_del(&persist_disabled, p->fullname);

	persist_disabled.dirty |= changed;
	return changed;
}

/* A person stopped P (STOPPED 1) or started it (0). */
void
persist_set_stopped(const struct proc *p, int stopped)
{
	if (persist_socket == NULL)
		return;		/* not set up (unit tests, fuzzing) */
	persist_stopped.dirty |= stopped ?
	    persist_add(&persist_stopped, p->fullname) :
	    persist_del(&persist_stopped, p->fullname);
}

/* Once per request: what changed is written, each file once. */
void
persist_flush(void)
{
	if (persist_disabled.dirty)
		persist_save(&persist_disabled);
	if (persist_stopped.dirty)
		persist_save(&persist_stopped);
	persist_disabled.dirty = persist_stopped.dirty = 0;
}
