/*
 * ini.c: owns reading INI files (ini.h) through Debian's libinih.
 *
 * That build reads 200-byte lines (longer ones are split silently), cuts
 * names to 49 bytes, knows only ';' inline comments and gives the handler
 * no line numbers. So we read the physical lines ourselves and hand
 * libinih one rewritten line per physical line, in a canonical form that
 * always fits: comments and broken lines become empty lines, names and
 * values too long for it become short placeholders that the handler maps
 * back. libinih calls our reader for a line right before it calls the
 * handler for that line, which is how each call gets its physical line.
 */
#define TEND_INI_LIBINIH
#include <ini.h>	/* ours (it pulls in libinih's with #include_next) */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/*
 * Longest name and value handed to libinih as they are: its names are 50
 * bytes, and name + '=' + value + "\r\n\0" must stay well under 200.
 */
#define INI_NAME_MAX	40
#define INI_VALUE_MAX	120

/*
 * Placeholders hold no blank, '=', ':', ';', '#' or ']', so libinih passes
 * them through untouched. They are mapped back by what the current line
 * held, never by their content, so a file containing them is harmless.
 */
#define INI_PH_SECTION	"\001s"
#define INI_PH_KEY	"\001k"
#define INI_PH_VALUE	"\001v"

/* What libinih should do with the line it was just handed. */
enum ini_expect {
	INI_EXPECT_NOTHING,
	INI_EXPECT_KEY,		/* one handler call for a new key */
	INI_EXPECT_MORE,	/* one handler call continuing the key */
};

struct ini_state {
	FILE		*f;
	ini_entry_fn	 entry;
	ini_error_fn	 error;
	void		*arg;

	char		*buf;		/* getline's; holds the current line */
	size_t		 bufsize;
	int		 line;		/* physical line last read */
	int		 error_line;	/* last line an error was reported on */
	int		 read_errno;	/* why getline() failed, if it did */

	char		*section;	/* "" before the first header */
	const char	*section_inih;	/* section, or its placeholder */
	int		 key_indent;	/* -1: nothing to continue */
	int		 lost;		/* after a broken header: no section */

	/* The key whose value is being gathered, built by the handler. */
	char		*key;
	const char	*key_inih;	/* key, or its placeholder */
	char		*value;
	size_t		 value_len;
	int		 key_line;

	/* The current line as handed to libinih, to check and map back. */
	enum ini_expect	 expect;
	int		 expect_seen;
	const char	*line_key;	/* both point into buf */
	const char	*line_value;
	const char	*line_key_inih;
	const char	*line_value_inih;
};

static int
ini_is_blank(int c)
{
	/* The same set as isspace() in the C locale, which libinih uses. */
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	    c == '\r';
}

static char *
ini_lskip(char *s)
{
	while (ini_is_blank((unsigned char)*s))
		s++;
	return s;
}

static void
ini_rstrip(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && ini_is_blank((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

static void
ini_syntax(struct ini_state *st, int line, const char *what)
{
	st->error_line = line;
	if (st->error != NULL)
		st->error(st->arg, line, what);
}

/* The gathered key is complete: give it to the caller. */
static void
ini_flush(struct ini_state *st)
{
	if (st->key == NULL)
		return;
	st->entry(st->arg, st->section, st->key, st->value, st->key_line);
	free(st->key);
	free(st->value);
	st->key = NULL;
	st->key_inih = NULL;
	st->value = NULL;
	st->value_len = 0;
}

/* libinih skipped a call it should have made: the line is lost, say so. */
static void
ini_check_step(struct ini_state *st)
{
	if (st->expect != INI_EXPECT_NOTHING && !st->expect_seen)
		ini_syntax(st, st->line, "cannot parse this line");
	st->expect = INI_EXPECT_NOTHING;
	st->expect_seen = 0;
}

static char *
ini_put(char *str, int num, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static char *
ini_put(char *str, int num, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(str, num, fmt, ap);
	va_end(ap);
	/* Leave room for the "\r" libinih's buffer size allows for, too. */
	if (n < 0 || n + 2 > num)
		return NULL;
	return str;
}

/*
 * A header that cannot be read: the keys after it belong to a section we
 * do not know, and filing them under the previous one would mislead.
 */
static char *
ini_bad_section(struct ini_state *st, const char *what, char *str, int num)
{
	ini_syntax(st, st->line, what);
	ini_flush(st);
	st->lost = 1;
	st->key_indent = -1;
	return ini_put(str, num, "\n");
}

/* A "[section]" line (S starts at '['). */
static char *
ini_section_line(struct ini_state *st, char *s, char *str, int num)
{
	char *end, *name;
	char *out;

	end = strchr(s, ']');
	if (end == NULL)
		return ini_bad_section(st, "missing ']' at the end of the "
		    "section header", str, num);
	if (end[1] != '\0')
		return ini_bad_section(st, "unexpected text after ']'", str,
		    num);
	*end = '\0';
	name = ini_lskip(s + 1);
	ini_rstrip(name);
	if (*name == '\0')
		return ini_bad_section(st, "empty section name", str, num);

	ini_flush(st);
	st->lost = 0;
	free(st->section);
	st->section = xstrdup(name);
	st->key_indent = -1;
	st->entry(st->arg, st->section, NULL, NULL, st->line);

	st->section_inih = st->section;
	if (strlen(name) > INI_NAME_MAX ||
	    (out = ini_put(str, num, "[%s]\n", name)) == NULL) {
		st->section_inih = INI_PH_SECTION;
		out = ini_put(str, num, "[%s]\n", INI_PH_SECTION);
	}
	return out;
}

/* A "key = value" line. */
static char *
ini_key_line(struct ini_state *st, char *s, int indent, char *str, int num)
{
	char *sep, *value;
	char *out;

	sep = s + strcspn(s, "=:");
	if (*sep == '\0') {
		ini_syntax(st, st->line, "expected 'key = value' or "
		    "'[section]'");
		return ini_put(str, num, "\n");
	}
	value = ini_lskip(sep + 1);
	*sep = '\0';
	ini_rstrip(s);
	if (*s == '\0') {
		ini_syntax(st, st->line, "missing key name before '='");
		return ini_put(str, num, "\n");
	}

	st->key_indent = indent;
	st->expect = INI_EXPECT_KEY;
	st->line_key = s;
	st->line_value = value;
	st->line_key_inih = s;
	st->line_value_inih = value;
	/* libinih drops a byte order mark at the start of line 1 again. */
	if (strlen(s) > INI_NAME_MAX ||
	    (st->line == 1 && (unsigned char)*s == 0xef))
		st->line_key_inih = INI_PH_KEY;
	if (strlen(value) > INI_VALUE_MAX)
		st->line_value_inih = INI_PH_VALUE;
	out = ini_put(str, num, "%s=%s\n", st->line_key_inih,
	    st->line_value_inih);
	if (out == NULL) {
		st->line_key_inih = INI_PH_KEY;
		st->line_value_inih = INI_PH_VALUE;
		out = ini_put(str, num, "%s=%s\n", INI_PH_KEY, INI_PH_VALUE);
	}
	return out;
}

/* A line continuing the current key's value. */
static char *
ini_more_line(struct ini_state *st, char *s, char *str, int num)
{
	char *out;

	st->expect = INI_EXPECT_MORE;
	st->line_key = NULL;
	st->line_value = s;
	st->line_value_inih = s;
	if (strlen(s) > INI_VALUE_MAX)
		st->line_value_inih = INI_PH_VALUE;
	/* The leading blank is what makes it a continuation to libinih. */
	out = ini_put(str, num, " %s\n", st->line_value_inih);
	if (out == NULL) {
		st->line_value_inih = INI_PH_VALUE;
		out = ini_put(str, num, " %s\n", INI_PH_VALUE);
	}
	return out;
}

/* libinih's reader: the next physical line, rewritten. */
static char *
ini_read_line(char *str, int num, void *stream)
{
	struct ini_state *st = stream;
	ssize_t n;
	size_t len;
	char *p, *s, *q, *out;
	int indent;

	ini_check_step(st);
	if (st->f == NULL)
		return NULL;
	errno = 0;
	n = getline(&st->buf, &st->bufsize, st->f);
	if (n == -1) {
		if (ferror(st->f))
			st->read_errno = errno != 0 ? errno : EIO;
		return NULL;
	}
	st->line++;

	len = n;
	if (len > 0 && st->buf[len - 1] == '\n')
		len--;
	if (len > 0 && st->buf[len - 1] == '\r')
		len--;
	st->buf[len] = '\0';
	p = st->buf;
	if (st->line == 1 && len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
		p += 3;
		len -= 3;
	}
	if (strlen(p) != len) {
		ini_syntax(st, st->line, "the line contains a NUL byte");
		return ini_put(str, num, "\n");
	}

	s = ini_lskip(p);
	indent = s - p;
	if (*s == '\0' || *s == ';' || *s == '#')
		return ini_put(str, num, "\n");
	/* Inline comments: ';' or '#' after a blank (configparser's rule). */
	for (q = s + 1; *q != '\0'; q++) {
		if ((*q == ';' || *q == '#') &&
		    ini_is_blank((unsigned char)q[-1])) {
			*q = '\0';
			break;
		}
	}
	ini_rstrip(s);

	if (st->key_indent >= 0 && indent > st->key_indent)
		out = ini_more_line(st, s, str, num);
	else if (*s == '[')
		out = ini_section_line(st, s, str, num);
	else
		out = ini_key_line(st, s, indent, str, num);
	if (out == NULL) {
		/* Only a libinih with a tiny buffer gets here. */
		st->expect = INI_EXPECT_NOTHING;
		ini_syntax(st, st->line, "cannot parse this line");
		out = ini_put(str, num, "\n");
	}
	return out;
}

static void
ini_append(struct ini_state *st, const char *more)
{
	size_t n = strlen(more);

	/* A value that starts on the next line does not start with "\n". */
	st->value = xrealloc(st->value, st->value_len + n + 2);
	if (st->value_len > 0)
		st->value[st->value_len++] = '\n';
	memcpy(st->value + st->value_len, more, n + 1);
	st->value_len += n;
}

/* libinih's handler: map placeholders back and gather the value. */
static int
ini_handle(void *user, const char *section, const char *name,
    const char *value)
{
	struct ini_state *st = user;
	const char *want_key;

	if (st->expect == INI_EXPECT_NOTHING || st->expect_seen)
		goto out_of_step;
	if (st->lost) {
		st->expect_seen = 1;
		return 1;
	}
	want_key = st->expect == INI_EXPECT_KEY ? st->line_key_inih :
	    st->key_inih;
	if (want_key == NULL || st->section_inih == NULL ||
	    strcmp(section, st->section_inih) != 0 ||
	    strcmp(name, want_key) != 0 ||
	    strcmp(value, st->line_value_inih) != 0)
		goto out_of_step;
	st->expect_seen = 1;

	if (st->expect == INI_EXPECT_KEY) {
		ini_flush(st);
		st->key = xstrdup(st->line_key);
		st->key_inih = st->line_key_inih == st->line_key ? st->key :
		    INI_PH_KEY;
		st->key_line = st->line;
	}
	ini_append(st, st->line_value);
	return 1;

out_of_step:
	/* Reported once, by ini_check_step() or here. */
	if (st->error_line != st->line)
		ini_syntax(st, st->line, "cannot parse this line");
	st->expect_seen = 1;
	return 1;
}

static int
ini_run(FILE *f, const char *name, ini_entry_fn entry, ini_error_fn error,
    void *arg, char **cause)
{
	struct ini_state st;
	int rc, ret = 0;

	memset(&st, 0, sizeof(st));
	st.f = f;
	st.entry = entry;
	st.error = error;
	st.arg = arg;
	st.section = xstrdup("");
	st.section_inih = st.section;
	st.key_indent = -1;

	rc = ini_parse_stream(ini_read_line, &st, ini_handle, &st);
	ini_check_step(&st);
	if (st.read_errno != 0) {
		xasprintf(cause, "cannot read %s: %s", name,
		    strerror(st.read_errno));
		ret = -1;
	} else if (rc == -2) {
		xasprintf(cause, "cannot read %s: out of memory", name);
		ret = -1;
	} else {
		/* libinih only knows the first bad line; we knew the rest. */
		if (rc > 0 && st.error_line != rc)
			ini_syntax(&st, rc, "cannot parse this line");
		ini_flush(&st);
	}

	free(st.key);
	free(st.value);
	free(st.section);
	free(st.buf);
	return ret;
}

int
ini_read_file(const char *path, ini_entry_fn entry, ini_error_fn error,
    void *arg, char **cause)
{
	FILE *f;
	int ret;

	f = fopen(path, "re");
	if (f == NULL) {
		xasprintf(cause, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	ret = ini_run(f, path, entry, error, arg, cause);
	fclose(f);
	return ret;
}

int
ini_read_buffer(const char *text, size_t len, ini_entry_fn entry,
    ini_error_fn error, void *arg, char **cause)
{
	FILE *f = NULL;
	int ret;

	if (len > 0) {
		/* Read-only, so fmemopen never writes through the cast. */
		f = fmemopen((void *)text, len, "r");
		if (f == NULL) {
			xasprintf(cause, "cannot read text: %s",
			    strerror(errno));
			return -1;
		}
	}
	ret = ini_run(f, "text", entry, error, arg, cause);
	if (f != NULL)
		fclose(f);
	return ret;
}
