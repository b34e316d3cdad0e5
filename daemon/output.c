/*
 * output.c: the children's stdout and stderr (spec §6). Each stream of a
 * process is a pipe read by the event loop straight into the stream's
 * 64 KiB ring, which is at once the read buffer, the data not yet taken
 * by the destination, and the memory `tendctl tail` reads: readv() into
 * the ring, writev() out of it, no other copy (log_timestamps gathers
 * lines and their prefixes into one buffer first). redirect_stderr makes
 * one pipe of the two; a stream whose log is NONE has none (the child
 * writes to /dev/null): nothing to read, keep or tail, no descriptor.
 *
 * Backpressure: bytes leave the ring only once the destination took
 * them. A destination that cannot take more (behind, or broken: see
 * logfile.c) makes the ring fill up; then the pipe is not read, so the
 * child blocks in write() and loses nothing. The child's end of the pipe
 * is blocking, tendd's end nonblocking.
 *
 * A process has ended when it is reaped and its pipes are at EOF, so its
 * last lines are in the log before its state changes. A descendant may
 * keep the pipes open for ever; tendd waits OUTPUT_EOF_WAIT seconds for
 * that, then lets the process end and keeps reading those pipes into the
 * same stream until they close, or until the process has been started
 * twice more (each stream keeps at most one such pipe beside its own).
 * It never ends before what the process itself wrote (counted in each
 * pipe at the reap) has been taken by the destination, however long a
 * blocked destination holds it: else its end would be reported before
 * its last lines were written, and the next run's output could reach
 * the ring before them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "utf8.h"
#include "tendd.h"

/* After a reap, how long to wait for a descendant to close the pipes. */
#define OUTPUT_EOF_WAIT		1
/* Reads per callback before others get their turn (64 KiB each). */
#define OUTPUT_READS_PER_CB	16
/*
 * The pipe's own buffer: a child runs ahead of tendd by this much
 * before it blocks. Only asked for as root (see output_pipe_size()).
 */
#define OUTPUT_PIPE_SIZE	(256 * 1024)
/* A tail -f client with this much unread is skipped until it reads. */
#define OUTPUT_FOLLOW_MAX	(1024 * 1024)
/* "2026-11-22T10:00:00.123 " */
#define OUTPUT_STAMP_MAX	40

struct outstream;

/* One pipe: the process's own, or one a descendant still holds. */
struct outpipe {
	int		 fd;
	struct event	*ev;
	struct outstream *os;
	int		 paused;	/* not read: the ring is full */
	uint64_t	 left;		/* an ended process's bytes still in it */
};

/* A tail -f client of one stream. */
struct follower {
	TAILQ_ENTRY(follower) entry;	/* in its stream */
	TAILQ_ENTRY(follower) all;	/* in output_followers */
	struct conn	*conn;
	json_t		*id;
	int		 base64;
	int		 raw;		/* HTTP /logtail: bytes as they are */
	unsigned long long skipped;	/* bytes it missed while behind */
	struct outstream *os;
	/* text: the start of a character the last chunk cut, sent next */
	char		 carry[3];
	size_t		 ncarry;
};
static TAILQ_HEAD(output_followers_head, follower) output_followers =
    TAILQ_HEAD_INITIALIZER(output_followers);

struct outstream {
	struct output	*out;
	enum output_stream which;
	char		*ring;		/* OUTPUT_RING_SIZE; at first output */
	uint64_t	 total;		/* bytes ever read into the ring */
	uint64_t	 sent;		/* ... of them taken by the destination */
	uint64_t	 written;	/* bytes it wrote, prefixes too (metrics) */
	uint64_t	 dropped;	/* ... and bytes it dropped */
	uint64_t	 shown;		/* tail shows nothing before (clear) */
	uint64_t	 mark;		/* after a reap: the process's last
					   byte ends here (UINT64_MAX: not
					   read from its pipe yet) */
	struct logfile	*lf;		/* NULL: NONE */
	char		*spec;		/* what lf was opened from */
	int		 blocked;	/* lf took less than offered: waiting */
	struct logfile_waiter wait;
	int		 at_line_start;	/* log_timestamps: next byte starts one */
	int		 need_eol;	/* EOF inside a line: end it in the log */
	char		 pend[OUTPUT_STAMP_MAX];	/* a prefix not yet all out */
	size_t		 pend_off, pend_len;
	struct outpipe	*cur;		/* the current process's pipe */
	struct outpipe	*old;		/* an earlier one a descendant holds */
	TAILQ_HEAD(, follower) followers;
};

struct output {
	struct proc	*p;
	struct outstream st[OUTPUT_NSTREAMS];
	struct event	*eof_timer;
	int		 waiting;	/* reaped; waiting for the pipes */
	int		 eof_expired;	/* ... for OUTPUT_EOF_WAIT already */
	int		 rd[OUTPUT_NSTREAMS];	/* during a spawn: our ends */
	int		 wr[OUTPUT_NSTREAMS];	/* ... and the child's */
};

static void	 output_flush(struct outstream *);
static void	 output_tell_listeners(struct outstream *, uint64_t);
static void	 output_check_done(struct output *);

static const char *
output_stream_name(enum output_stream which)
{
	return which == OUTPUT_STDOUT ? "stdout" : "stderr";
}

static void
output_wake_cb(void *arg)
{
	struct outstream *os = arg;
	struct outpipe *ops[2] = { os->cur, os->old };
	int i;

	os->blocked = 0;
	output_flush(os);
	if (os->blocked)
		return;
	/* Room again: read the pipes that were left alone. */
	for (i = 0; i < 2; i++) {
		if (ops[i] != NULL && ops[i]->paused) {
			ops[i]->paused = 0;
			event_add(ops[i]->ev, NULL);
		}
	}
	if (os->cur == NULL && os->old == NULL)
		logfile_flush(os->lf);
	output_check_done(os->out);
}

static int	 output_marks_in(struct output *);

/*
 * OUTPUT_EOF_WAIT after the reap (and again whenever the process's last
 * bytes reach the destination after that): the pipes are still open.
 */
static void
output_eof_timer_cb(int fd, short ev, void *arg)
{
	struct output *out = arg;

	if (!out->waiting)
		return;
	if (!out->eof_expired) {
		out->eof_expired = 1;
		if (!output_marks_in(out))
			log_debug("%s: its last output is not all in its log "
			    "%ds after the exit (the log cannot take it now); "
			    "its end waits for it", out->p->display,
			    OUTPUT_EOF_WAIT);
	}
	output_check_done(out);
}

static struct output *
output_get(struct proc *p)
{
	struct output *out;
	int i;

	if (p->out != NULL)
		return p->out;
	out = xcalloc(1, sizeof(*out));
	out->p = p;
	for (i = 0; i < OUTPUT_NSTREAMS; i++) {
		out->st[i].out = out;
		out->st[i].which = (enum output_stream)i;
		out->st[i].at_line_start = 1;
		out->st[i].wait.cb = output_wake_cb;
		out->st[i].wait.arg = &out->st[i];
		TAILQ_INIT(&out->st[i].followers);
		out->rd[i] = out->wr[i] = -1;
	}
	out->eof_timer = evtimer_new(tendd_base, output_eof_timer_cb, out);
	if (out->eof_timer == NULL)
		fatal("cannot create a timer");
	p->out = out;
	return out;
}

/* ------------------------------------------------------------------ */
/* Into the log                                                         */

/* Local time with milliseconds, as tendd's own log writes it. */
static size_t
output_stamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(buf + n, len - n, ".%03ld ",
	    ts.tv_nsec / 1000000);
	return n;
}

/* A flush offers at most the ring and a prefix per line of it. */
static char	 output_flat[OUTPUT_RING_SIZE + (IOV_MAX / 2 + 1) *
		    OUTPUT_STAMP_MAX];

enum output_piece {
	PIECE_PEND,	/* the rest of a prefix written in part */
	PIECE_STAMP,	/* a fresh prefix */
	PIECE_DATA,	/* bytes of the ring */
};

/* One writev's worth of pieces, and the prefix they share. */
struct output_batch {
	struct iovec	 iov[IOV_MAX];
	enum output_piece kind[IOV_MAX];
	int		 n;
	char		 stamp[OUTPUT_STAMP_MAX];
	size_t		 stamplen;	/* 0 until a line needs it */
};

/*
 * The next pieces to offer: a prefix cut last time, then the ring's
 * unsent bytes, a fresh prefix before each line when STAMPS.
 */
static void
output_gather(struct outstream *os, struct output_batch *b, int stamps)
{
	uint64_t pos = os->sent;
	int line_start = os->at_line_start;
	const char *nl;
	size_t off, seg;

	b->n = 0;
	if (os->pend_off < os->pend_len) {
		b->iov[b->n].iov_base = os->pend + os->pend_off;
		b->iov[b->n].iov_len = os->pend_len - os->pend_off;
		b->kind[b->n++] = PIECE_PEND;
	}
	while (pos < os->total && b->n < IOV_MAX - 1) {
		if (stamps && line_start) {
			if (b->stamplen == 0)
				b->stamplen = output_stamp(b->stamp,
				    sizeof(b->stamp));
			b->iov[b->n].iov_base = b->stamp;
			b->iov[b->n].iov_len = b->stamplen;
			b->kind[b->n++] = PIECE_STAMP;
			line_start = 0;
		}
		off = (size_t)(pos % OUTPUT_RING_SIZE);
		seg = OUTPUT_RING_SIZE - off;
		if (seg > os->total - pos)
			seg = (size_t)(os->total - pos);
		if (stamps && (nl = memchr(os->ring + off, '\n', seg)) != NULL) {
			seg = (size_t)(nl - (os->ring + off)) + 1;
			line_start = 1;
		}
		b->iov[b->n].iov_base = os->ring + off;
		b->iov[b->n].iov_len = seg;
		b->kind[b->n++] = PIECE_DATA;
		pos += seg;
	}
}

/* B to the destination; how many bytes it took, dropped ones too. */
static size_t
output_offer_lf(struct outstream *os, const struct output_batch *b)
{
	struct iovec flat;
	size_t at = 0;
	int i;

	if (b->n <= 2)
		return logfile_writev(os->lf, b->iov, b->n);
	/*
	 * Many short pieces (a prefix before each line): one copy into a
	 * flat buffer costs far less than a writev() of a thousand small
	 * pieces.
	 */
	for (i = 0; i < b->n; i++) {
		memcpy(output_flat + at, b->iov[i].iov_base, b->iov[i].iov_len);
		at += b->iov[i].iov_len;
	}
	flat.iov_base = output_flat;
	flat.iov_len = at;
	return logfile_writev(os->lf, &flat, 1);
}

/* Offers B to the destination; how many bytes it took. */
static size_t
output_offer(struct outstream *os, const struct output_batch *b)
{
	unsigned long long before = logfile_dropped(os->lf), lost;
	size_t taken;

	taken = output_offer_lf(os, b);
	lost = logfile_dropped(os->lf) - before;
	os->dropped += lost;
	os->written += taken > lost ? taken - lost : 0;
	return taken;
}

/*
 * What went out of B (TAKEN bytes): the ring, the line state, a cut
 * prefix. 1 when all of it went.
 */
static int
output_account(struct outstream *os, const struct output_batch *b,
    size_t taken)
{
	size_t k, len;
	int i;

	for (i = 0; i < b->n; i++) {
		len = b->iov[i].iov_len;
		k = taken < len ? taken : len;
		taken -= k;
		switch (b->kind[i]) {
		case PIECE_PEND:
			os->pend_off += k;
			break;
		case PIECE_STAMP:
			if (k > 0)
				os->at_line_start = 0;
			if (k < len && k > 0) {
				memcpy(os->pend, b->stamp + k, b->stamplen - k);
				os->pend_off = 0;
				os->pend_len = b->stamplen - k;
			}
			break;
		case PIECE_DATA:
			os->sent += k;
			if (k > 0)
				os->at_line_start =
				    ((const char *)b->iov[i].iov_base)[k - 1]
				    == '\n';
			break;
		}
		if (k < len)
			break;
	}
	if (os->pend_off == os->pend_len)
		os->pend_off = os->pend_len = 0;
	return i == b->n;
}

/*
 * Hands the ring's unsent bytes to the destination, with a time before
 * each line under log_timestamps. A prefix the destination took only in
 * part is kept in os->pend and finished before anything else.
 */
static void
output_flush(struct outstream *os)
{
	static struct output_batch b;
	int stamps;

	if (os->lf == NULL) {
		os->sent = os->total;
		os->pend_len = os->pend_off = 0;
		os->need_eol = 0;
		return;
	}
	stamps = os->out->p->pc->log_timestamps && !logfile_is_journal(os->lf);
	b.stamplen = 0;
	for (;;) {
		if (os->sent == os->total && os->pend_off == os->pend_len) {
			/* A line cut by EOF ends before the next run writes. */
			if (!os->need_eol)
				break;
			os->need_eol = 0;
			if (os->at_line_start)
				break;
			os->pend[0] = '\n';
			os->pend_off = 0;
			os->pend_len = 1;
			os->at_line_start = 1;
		}
		output_gather(os, &b, stamps);
		if (!output_account(os, &b, output_offer(os, &b))) {
			/* It cannot take more now: wait until it can. */
			os->blocked = 1;
			logfile_wait(os->lf, &os->wait);
			return;
		}
	}
}

/* ------------------------------------------------------------------ */
/* tail -f                                                              */

json_t *
output_json_data(const char *buf, size_t len, int base64)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = (const unsigned char *)buf;
	unsigned char *d, *o;
	size_t i, n;
	uint32_t v;
	json_t *j;

	if (base64) {
		o = d = xmalloc((len + 2) / 3 * 4 + 1);
		for (i = 0; i + 2 < len; i += 3) {
			v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
			*o++ = b64[v >> 18];
			*o++ = b64[(v >> 12) & 63];
			*o++ = b64[(v >> 6) & 63];
			*o++ = b64[v & 63];
		}
		if (i < len) {
			v = (uint32_t)s[i] << 16;
			if (i + 1 < len)
				v |= (uint32_t)s[i + 1] << 8;
			*o++ = b64[v >> 18];
			*o++ = b64[(v >> 12) & 63];
			*o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
			*o++ = '=';
		}
		j = json_stringn((char *)d, (size_t)(o - d));
		free(d);
		return j;
	}

	/* Text: valid UTF-8 as it is, every other byte as U+FFFD. */
	o = d = xmalloc(len * 3 + 1);
	for (i = 0; i < len; i += n) {
		if ((n = utf8_len(s + i, len - i)) > 0) {
			memcpy(o, s + i, n);
			o += n;
			continue;
		}
		n = 1;
		*o++ = 0xef;
		*o++ = 0xbf;
		*o++ = 0xbd;
	}
	j = json_stringn((char *)d, (size_t)(o - d));
	free(d);
	return j;
}

static void
output_send_chunk(struct follower *f, const char *buf, size_t len)
{
	struct proc *p = f->os->out->p;
	json_t *j;

	if (f->skipped > 0) {
		control_send(f->conn, json_pack("{s:O, s:s, s:s, s:I}",
		    "id", f->id, "name", p->display, "stream",
		    output_stream_name(f->os->which), "skipped",
		    (json_int_t)f->skipped));
		f->skipped = 0;
	}
	j = json_pack("{s:O, s:s, s:s, s:o}", "id", f->id, "name",
	    p->display, "stream", output_stream_name(f->os->which), "data",
	    output_json_data(buf, len, f->base64));
	control_send(f->conn, j);
}

/*
 * tail -f as text: reads and the ring's end cut anywhere, so the start
 * of a character that a chunk ends with waits for the next chunk; each
 * chunk is whole characters (or U+FFFD for bytes that are not UTF-8).
 */
static void
output_send_text(struct follower *f, const char *a, size_t alen,
    const char *b, size_t blen)
{
	size_t n = f->ncarry + alen + blen, keep;
	char *buf = xmalloc(n);

	memcpy(buf, f->carry, f->ncarry);
	memcpy(buf + f->ncarry, a, alen);
	memcpy(buf + f->ncarry + alen, b, blen);
	keep = utf8_partial_tail(buf, n);
	memcpy(f->carry, buf + n - keep, keep);
	f->ncarry = keep;
	if (n > keep)
		output_send_chunk(f, buf, n - keep);
	free(buf);
}

/* New bytes FROM .. total of OS to every tail -f client of it. */
static void
output_tell_followers(struct outstream *os, uint64_t from)
{
	struct follower *f, *next;
	size_t off, seg, len = (size_t)(os->total - from);

	for (f = TAILQ_FIRST(&os->followers); f != NULL; f = next) {
		next = TAILQ_NEXT(f, entry);
		/* A reader that cannot keep up misses output, not tendd. */
		if (control_pending(f->conn) > OUTPUT_FOLLOW_MAX) {
			f->skipped += len + f->ncarry;
			f->ncarry = 0;
			continue;
		}
		off = (size_t)(from % OUTPUT_RING_SIZE);
		seg = OUTPUT_RING_SIZE - off;
		if (seg > len)
			seg = len;
		if (f->raw) {
			http_send_chunk(f->conn, os->ring + off, seg);
			if (seg < len)
				http_send_chunk(f->conn, os->ring, len - seg);
			continue;
		}
		if (!f->base64) {
			output_send_text(f, os->ring + off, seg, os->ring,
			    len - seg);
			continue;
		}
		output_send_chunk(f, os->ring + off, seg);
		if (seg < len)
			output_send_chunk(f, os->ring, len - seg);
	}
}

/* New bytes FROM .. total of OS, as the ring holds them, to probe.c. */
static void
output_tell_probe(struct outstream *os, uint64_t from)
{
	size_t off = (size_t)(from % OUTPUT_RING_SIZE);
	size_t len = (size_t)(os->total - from), seg = OUTPUT_RING_SIZE - off;

	if (seg > len)
		seg = len;
	probe_output(os->out->p, os->which, os->ring + off, seg, os->ring,
	    len - seg);
}

void
output_follow(struct proc *p, enum output_stream which, struct conn *c,
    json_t *id, int base64)
{
	struct output *out = output_get(p);
	struct follower *f = xcalloc(1, sizeof(*f));

	f->conn = c;
	f->id = json_incref(id);
	f->base64 = base64;
	f->os = &out->st[which];
	TAILQ_INSERT_TAIL(&f->os->followers, f, entry);
	TAILQ_INSERT_TAIL(&output_followers, f, all);
}

void
output_follow_raw(struct proc *p, enum output_stream which, struct conn *c)
{
	output_follow(p, which, c, NULL, 0);
	TAILQ_LAST(&output_followers, output_followers_head)->raw = 1;
}

const char *
output_file_path(const struct proc *p, enum output_stream which)
{
	return p->out != NULL ? logfile_file_path(p->out->st[which].lf) : NULL;
}

void
output_kept(struct proc *p, enum output_stream which, char **buf,
    size_t *len, unsigned long long *start, unsigned long long *total)
{
	struct outstream *os;
	uint64_t from, pos;
	size_t off, seg, n = 0;

	*buf = NULL;
	*len = 0;
	*start = *total = 0;
	if (p->out == NULL)
		return;
	os = &p->out->st[which];
	from = os->total > OUTPUT_RING_SIZE ? os->total - OUTPUT_RING_SIZE : 0;
	if (from < os->shown)
		from = os->shown;
	*start = from;
	*total = os->total;
	if (os->total == from)
		return;
	*buf = xmalloc((size_t)(os->total - from));
	for (pos = from; pos < os->total; pos += seg) {
		off = (size_t)(pos % OUTPUT_RING_SIZE);
		seg = OUTPUT_RING_SIZE - off;
		if (seg > os->total - pos)
			seg = (size_t)(os->total - pos);
		memcpy(*buf + n, os->ring + off, seg);
		n += seg;
	}
	*len = n;
}

static void
output_follower_free(struct follower *f)
{
	TAILQ_REMOVE(&f->os->followers, f, entry);
	TAILQ_REMOVE(&output_followers, f, all);
	json_decref(f->id);
	free(f);
}

void
output_conn_gone(struct conn *c)
{
	struct follower *f, *next;

	for (f = TAILQ_FIRST(&output_followers); f != NULL; f = next) {
		next = TAILQ_NEXT(f, all);
		if (f->conn == c)
			output_follower_free(f);
	}
}

/* ------------------------------------------------------------------ */
/* Reading the pipes                                                    */

static void
output_pipe_close(struct outpipe *op)
{
	struct outstream *os = op->os;

	if (os->cur == op)
		os->cur = NULL;
	if (os->old == op)
		os->old = NULL;
	event_free(op->ev);
	close(op->fd);
	free(op);
}

/* EOF (or a read error): the stream may be complete now. */
static void
output_pipe_eof(struct outpipe *op)
{
	struct outstream *os = op->os;
	const struct program_conf *pc = os->out->p->pc;

	output_pipe_close(op);
	if (os->cur == NULL && os->old == NULL) {
		if (pc->log_timestamps && !os->at_line_start)
			os->need_eol = 1;
		if (!os->blocked) {
			output_flush(os);
			if (!os->blocked)
				logfile_flush(os->lf);
		}
	}
	output_check_done(os->out);
}

/* One read: 1 when bytes came, 0 when there is nothing now (or EOF). */
/*
 * The first read of a stream, into a small buffer: most streams (stderr
 * of most programs) only ever read their EOF, and need no ring for it.
 */
static ssize_t
output_read_first(struct outpipe *op, size_t off, size_t room)
{
	struct outstream *os = op->os;
	char first[4096];
	size_t head;
	ssize_t n;

	n = read(op->fd, first, room < sizeof(first) ? room : sizeof(first));
	if (n <= 0)
		return n;
	os->ring = xmalloc(OUTPUT_RING_SIZE);
	head = OUTPUT_RING_SIZE - off;
	if (head > (size_t)n)
		head = (size_t)n;
	memcpy(os->ring + off, first, head);
	memcpy(os->ring, first + head, (size_t)n - head);
	return n;
}

static int
output_read_once(struct outpipe *op)
{
	struct outstream *os = op->os;
	struct iovec iov[2];
	size_t room, off;
	uint64_t before;
	ssize_t n;
	int cnt = 1;

	room = OUTPUT_RING_SIZE - (size_t)(os->total - os->sent);
	if (room == 0) {
		/* The destination is behind: let the pipe fill up. */
		if (!op->paused) {
			event_del(op->ev);
			op->paused = 1;
		}
		return 0;
	}
	off = (size_t)(os->total % OUTPUT_RING_SIZE);
	if (os->ring == NULL)
		n = output_read_first(op, off, room);
	else {
		iov[0].iov_base = os->ring + off;
		iov[0].iov_len = OUTPUT_RING_SIZE - off;
		if (iov[0].iov_len > room)
			iov[0].iov_len = room;
		else if (iov[0].iov_len < room) {
			iov[1].iov_base = os->ring;
			iov[1].iov_len = room - iov[0].iov_len;
			cnt = 2;
		}
		n = readv(op->fd, iov, cnt);
	}
	if (n > 0) {
		before = os->total;
		os->total += (uint64_t)n;
		if (op->left > 0) {
			/* The ended process's last byte is read: it ends here. */
			if ((uint64_t)n >= op->left) {
				os->mark = before + op->left;
				op->left = 0;
			} else
				op->left -= (uint64_t)n;
		}
		if (!TAILQ_EMPTY(&os->followers))
			output_tell_followers(os, before);
		/* PROCESS_LOG_* for listeners (sevents.c), the bytes read */
		if (os->which == OUTPUT_STDOUT ? os->out->p->pc->stdout_events :
		    os->out->p->pc->stderr_events)
			output_tell_listeners(os, before);
		/* ready = log:REGEX (probe.c): only a probed process pays */
		if (os->out->p->probe != NULL)
			output_tell_probe(os, before);
		if (!os->blocked)
			output_flush(os);
		/* Not from here (OP may go with the process): from the loop. */
		if (os->out->waiting && os->out->eof_expired &&
		    os->sent >= os->mark && output_marks_in(os->out))
			event_active(os->out->eof_timer, EV_TIMEOUT, 1);
		return 1;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n == -1)
		log_warn("%s: reading its %s: %s", os->out->p->display,
		    output_stream_name(os->which), strerror(errno));
	output_pipe_eof(op);
	return 0;
}

/* The bytes from FROM on, in one piece or two around the ring's end. */
static void
output_tell_listeners(struct outstream *os, uint64_t from)
{
	size_t off = (size_t)(from % OUTPUT_RING_SIZE);
	size_t len = (size_t)(os->total - from), first;
	char *buf;

	first = OUTPUT_RING_SIZE - off;
	if (first >= len) {
		sevent_log(os->out->p, os->which, os->ring + off, len);
		return;
	}
	buf = xmalloc(len);
	memcpy(buf, os->ring + off, first);
	memcpy(buf + first, os->ring, len - first);
	sevent_log(os->out->p, os->which, buf, len);
	free(buf);
}

static void
output_read_cb(int fd, short ev, void *arg)
{
	struct outpipe *op = arg;
	int i;

	/* op may be freed by a read that finds EOF: stop at once then. */
	for (i = 0; i < OUTPUT_READS_PER_CB; i++)
		if (output_read_once(op) == 0)
			break;
}

/* Everything the process wrote is in the destination (or dropped). */
static int
output_all_in(struct output *out)
{
	int i;

	for (i = 0; i < OUTPUT_NSTREAMS; i++) {
		if (out->st[i].cur != NULL)
			return 0;
		if (out->st[i].blocked || out->st[i].sent != out->st[i].total)
			return 0;
	}
	return 1;
}

/* What the ended process wrote is in the destination (or dropped). */
static int
output_marks_in(struct output *out)
{
	int i;

	for (i = 0; i < OUTPUT_NSTREAMS; i++)
		if (out->st[i].sent < out->st[i].mark)
			return 0;
	return 1;
}

/*
 * The process ends once its pipes are at EOF and all is written, or,
 * when a descendant keeps them open past OUTPUT_EOF_WAIT, once what the
 * process itself wrote is written.
 */
static void
output_check_done(struct output *out)
{
	if (!out->waiting)
		return;
	if (!output_all_in(out)) {
		if (!out->eof_expired || !output_marks_in(out))
			return;
		log_debug("%s: output pipes still open %ds after the exit (a "
		    "descendant holds them); reading them on", out->p->display,
		    OUTPUT_EOF_WAIT);
	}
	out->waiting = 0;
	evtimer_del(out->eof_timer);
	program_output_done(out->p);
}

/* At the reap: where each stream's share of the process ends. */
static void
output_set_marks(struct output *out)
{
	struct outstream *os;
	int i, n;

	for (i = 0; i < OUTPUT_NSTREAMS; i++) {
		os = &out->st[i];
		os->mark = os->total;
		if (os->cur == NULL)
			continue;
		/* The process is gone: nothing it wrote can be added now. */
		if (ioctl(os->cur->fd, FIONREAD, &n) == -1 || n < 0)
			n = 0;
		os->cur->left = (uint64_t)n;
		if (n > 0)
			os->mark = UINT64_MAX;
	}
}

/*
 * Reads what is in a pipe now, up to what a full pipe holds (a
 * descendant may keep writing; that is read by the loop later).
 */
static void
output_drain(struct outpipe *op)
{
	int i;

	for (i = 0; i < OUTPUT_PIPE_SIZE / OUTPUT_RING_SIZE + 2; i++)
		if (output_read_once(op) == 0)
			break;
}

int
output_reaped(struct proc *p)
{
	struct output *out = p->out;
	struct timeval tv = { OUTPUT_EOF_WAIT, 0 };
	int i;

	if (out == NULL)
		return 1;
	/*
	 * The process closed its ends when it died, so what it wrote is in
	 * the pipes now, and EOF is there unless someone else holds them.
	 */
	for (i = 0; i < OUTPUT_NSTREAMS; i++)
		if (out->st[i].cur != NULL)
			output_drain(out->st[i].cur);
	if (output_all_in(out))
		return 1;
	output_set_marks(out);
	out->waiting = 1;
	out->eof_expired = 0;
	evtimer_add(out->eof_timer, &tv);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Spawning                                                             */

/*
 * A bigger pipe lets a child run further ahead of tendd. Unprivileged
 * users have a budget of pipe pages (fs.pipe-user-pages-soft) shared
 * with everything else they run, which many big pipes would exhaust, so
 * only root asks for more than the default.
 */
static void
output_pipe_size(int fd)
{
	if (geteuid() == 0)
		(void)fcntl(fd, F_SETPIPE_SZ, OUTPUT_PIPE_SIZE);
}

static void
output_close_fds(int fds[OUTPUT_NSTREAMS])
{
	int i;

	for (i = 0; i < OUTPUT_NSTREAMS; i++) {
		if (fds[i] != -1 && (i == 0 || fds[i] != fds[0]))
			close(fds[i]);
		fds[i] = -1;
	}
}

int
output_spawn_prepare(struct proc *p, int fds[2], char **cause)
{
	struct output *out = output_get(p);
	struct outstream *os;
	struct logfile *lf;
	char *spec;
	int i, r, pfd[2], nstreams = p->pc->redirect_stderr ? 1 : 2;

	/* Destinations first: one that cannot be opened fails the start. */
	for (i = 0; i < OUTPUT_NSTREAMS; i++) {
		os = &out->st[i];
		spec = i < nstreams ? logfile_make_spec(p, i) : NULL;
		if (spec != NULL && os->spec != NULL &&
		    strcmp(spec, os->spec) == 0) {
			free(spec);
			continue;
		}
		if (spec == NULL && os->spec == NULL)
			continue;
		if (spec != NULL && logfile_open(p, i, &lf, cause) == -1) {
			free(spec);
			return -1;
		}
		if (spec == NULL)
			lf = NULL;
		/* What the old one still holds is written first. */
		if (os->lf != NULL) {
			if (!os->blocked)
				output_flush(os);
			logfile_unwait(os->lf, &os->wait);
			logfile_flush(os->lf);
			logfile_release(os->lf);
		}
		os->blocked = 0;
		os->sent = os->total;
		os->pend_off = os->pend_len = 0;
		os->lf = lf;
		free(os->spec);
		os->spec = spec;
	}

	/*
	 * A pipe only where the output goes somewhere: a stream whose log
	 * is NONE is /dev/null (spawn.c), and costs tendd no descriptor.
	 */
	for (i = 0; i < nstreams; i++) {
		if (out->st[i].lf == NULL)
			continue;
		if (pipe2(pfd, O_CLOEXEC) == -1) {
			r = spawn_cause(cause, "cannot create a pipe", errno);
			output_close_fds(out->rd);
			output_close_fds(out->wr);
			return r;
		}
		/* Ours nonblocking; the child's stays blocking. */
		util_set_nonblock(pfd[0]);
		output_pipe_size(pfd[0]);
		out->rd[i] = pfd[0];
		out->wr[i] = pfd[1];
	}
	fds[0] = out->wr[0];
	fds[1] = nstreams == 1 ? out->wr[0] : out->wr[1];
	return 0;
}

void
output_spawn_done(struct proc *p, int ok)
{
	struct output *out = p->out;
	struct outstream *os;
	struct outpipe *op;
	int i;

	listener_spawn_done(p, ok);
	if (out == NULL)
		return;
	output_close_fds(out->wr);
	if (!ok) {
		output_close_fds(out->rd);
		return;
	}
	for (i = 0; i < OUTPUT_NSTREAMS; i++) {
		os = &out->st[i];
		if (out->rd[i] == -1 && os->cur == NULL)
			continue;
		/* At most one pipe held by a descendant beside the new one. */
		if (os->old != NULL) {
			log_debug("%s: closing an output pipe a descendant of "
			    "an earlier run still holds", p->display);
			output_pipe_close(os->old);
		}
		os->old = os->cur;
		os->cur = NULL;
		/* No pipe this run (NONE, redirect_stderr): the last one's
		   reader stays beside it, as it does for a new pipe. */
		if (out->rd[i] == -1)
			continue;
		op = xcalloc(1, sizeof(*op));
		op->fd = out->rd[i];
		op->os = os;
		op->ev = event_new(tendd_base, op->fd, EV_READ | EV_PERSIST,
		    output_read_cb, op);
		if (op->ev == NULL)
			fatal("cannot create an event");
		event_add(op->ev, NULL);
		os->cur = op;
		out->rd[i] = -1;
		logfile_set_pid(os->lf, p->pid);
	}
}

/* ------------------------------------------------------------------ */
/* tail and clear                                                       */

void
output_tail(struct proc *p, enum output_stream which, long lines,
    char **buf, size_t *len)
{
	struct outstream *os;
	uint64_t start, pos;
	size_t n = 0, off, seg, end;
	char *b, *s;
	long found = 0;

	*buf = NULL;
	*len = 0;
	if (p->out == NULL || lines == 0)
		return;
	os = &p->out->st[which];
	start = os->total > OUTPUT_RING_SIZE ? os->total - OUTPUT_RING_SIZE : 0;
	if (start < os->shown)
		start = os->shown;
	if (os->total == start)
		return;
	b = xmalloc((size_t)(os->total - start));
	for (pos = start; pos < os->total; pos += seg) {
		off = (size_t)(pos % OUTPUT_RING_SIZE);
		seg = OUTPUT_RING_SIZE - off;
		if (seg > os->total - pos)
			seg = (size_t)(os->total - pos);
		memcpy(b + n, os->ring + off, seg);
		n += seg;
	}
	s = b;
	if (lines > 0) {
		/* The last LINES lines; a last line without its \n counts. */
		end = b[n - 1] == '\n' ? n - 1 : n;
		for (off = end; off > 0; off--) {
			if (b[off - 1] == '\n' && ++found == lines) {
				s = b + off;
				break;
			}
		}
	}
	/* Where the ring (or a clear) cut a character, it starts after it. */
	for (off = 0; s == b && start > 0 && off < 3 && off < n &&
	    ((unsigned char)b[off] & 0xc0) == 0x80; off++)
		;
	s += off;
	*len = n - (size_t)(s - b);
	memmove(b, s, *len);
	*buf = b;
}

/* GET /metrics: bytes P's stream WHICH wrote to its log and dropped. */
void
output_counts(struct proc *p, enum output_stream which, uint64_t *written,
    uint64_t *dropped)
{
	struct outstream *os;

	*written = *dropped = 0;
	if (p->out == NULL)
		return;
	os = &p->out->st[which];
	*written = os->written;
	*dropped = os->dropped;
}

int
output_clear(struct proc *p, char **cause)
{
	struct outstream *os;
	int i, ret = 0;

	if (p->out == NULL)
		return 0;
	for (i = 0; i < OUTPUT_NSTREAMS; i++) {
		os = &p->out->st[i];
		os->shown = os->total;
		if (os->lf != NULL && logfile_clear(os->lf, cause) == -1)
			ret = -1;
		if (ret == -1)
			break;
	}
	return ret;
}

/* ------------------------------------------------------------------ */
/* The end                                                              */

void
output_free(struct proc *p)
{
	struct output *out = p->out;
	struct outstream *os;
	int i;

	if (out == NULL)
		return;
	for (i = 0; i < OUTPUT_NSTREAMS; i++) {
		os = &out->st[i];
		/* A process that goes (a reload removed it) ends its tails. */
		while (!TAILQ_EMPTY(&os->followers)) {
			struct follower *f = TAILQ_FIRST(&os->followers);

			if (f->raw)
				http_stream_end(f->conn);
			else
				control_send(f->conn, json_pack("{s:O, s:s, "
				    "s:s, s:b}", "id", f->id, "name", p->display,
				    "stream", output_stream_name(os->which),
				    "gone", 1));
			output_follower_free(f);
		}
		if (os->cur != NULL)
			output_pipe_close(os->cur);
		if (os->old != NULL)
			output_pipe_close(os->old);
		if (os->lf != NULL) {
			logfile_unwait(os->lf, &os->wait);
			logfile_flush(os->lf);
			logfile_release(os->lf);
		}
		free(os->spec);
		free(os->ring);
	}
	output_close_fds(out->rd);
	output_close_fds(out->wr);
	event_free(out->eof_timer);
	free(out);
	p->out = NULL;
}

void
output_close_all(void)
{
	struct proc *p;
	struct outstream *os;
	int i;

	/* What is still in the pipes goes out before tendd does. */
	TAILQ_FOREACH(p, &procs, entry) {
		if (p->out == NULL)
			continue;
		for (i = 0; i < OUTPUT_NSTREAMS; i++) {
			os = &p->out->st[i];
			if (os->old != NULL)
				output_drain(os->old);
			if (os->cur != NULL)
				output_drain(os->cur);
			if (!os->blocked)
				output_flush(os);
		}
	}
}
