/*
 * expand.c: owns what is done to config text before it is interpreted:
 * %(name)s expansion, the shell-like command splitter, paths made
 * absolute, and the "did you mean" suggestions (expand.h).
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "expand.h"
#include "utf8.h"
#include "util.h"

/* A width or precision beyond this is a typo, not a layout. */
#define EXPAND_MAX_WIDTH	4096

struct expand_buf {
	char	*s;
	size_t	 len;
	size_t	 size;
};

static void
expand_putn(struct expand_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->size) {
		b->size = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->size);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
expand_putc(struct expand_buf *b, char c)
{
	expand_putn(b, &c, 1);
}

static void
expand_pad(struct expand_buf *b, char c, int n)
{
	while (n-- > 0)
		expand_putc(b, c);
}

/* One conversion's flags, width and precision. */
struct expand_spec {
	int	 minus;
	int	 plus;
	int	 space;
	int	 zero;
	int	 width;
	int	 prec;		/* -1: none */
	char	 conv;		/* 's' or 'd' */
};

static void
expand_put_string(struct expand_buf *b, const struct expand_spec *sp,
    const char *s)
{
	size_t n = strlen(s);
	int pad;

	if (sp->prec >= 0 && n > (size_t)sp->prec)
		n = sp->prec;
	pad = n < (size_t)sp->width ? sp->width - (int)n : 0;
	if (!sp->minus)
		expand_pad(b, ' ', pad);
	expand_putn(b, s, n);
	if (sp->minus)
		expand_pad(b, ' ', pad);
}

/* printf's %d rules, done by hand so no user text reaches a format. */
static void
expand_put_number(struct expand_buf *b, const struct expand_spec *sp, int v)
{
	char digits[32];
	const char *sign;
	int ndigits, nzeros, len, pad;

	ndigits = snprintf(digits, sizeof(digits), "%lld",
	    v < 0 ? -(long long)v : (long long)v);
	sign = v < 0 ? "-" : sp->plus ? "+" : sp->space ? " " : "";
	nzeros = sp->prec > ndigits ? sp->prec - ndigits : 0;
	len = (int)strlen(sign) + nzeros + ndigits;
	pad = sp->width > len ? sp->width - len : 0;
	if (sp->minus) {
		expand_putn(b, sign, strlen(sign));
		expand_pad(b, '0', nzeros);
		expand_putn(b, digits, ndigits);
		expand_pad(b, ' ', pad);
	} else if (sp->zero && sp->prec < 0) {
		expand_putn(b, sign, strlen(sign));
		expand_pad(b, '0', pad + nzeros);
		expand_putn(b, digits, ndigits);
	} else {
		expand_pad(b, ' ', pad);
		expand_putn(b, sign, strlen(sign));
		expand_pad(b, '0', nzeros);
		expand_putn(b, digits, ndigits);
	}
}

static const char *const expand_names[] = {
	"here", "program_name", "group_name", "process_num", "host_node_name",
	"numprocs", NULL
};

/*
 * The value of NAME: a string in *s, or a number in *num (*s NULL).
 * Returns 0, or -1 with *cause; TOKEN is the text as written, for messages.
 */
static int
expand_lookup(const char *name, const char *token,
    const struct expand_vars *vars, const char **s, int *num, char **cause)
{
	static struct utsname uts;
	const char *suggestion;

	*s = NULL;
	if (strncmp(name, "ENV_", 4) == 0) {
		if (name[4] == '\0') {
			xasprintf(cause, "%s: no variable name after ENV_",
			    token);
			return -1;
		}
		*s = getenv(name + 4);
		if (*s == NULL) {
			xasprintf(cause, "%s: environment variable %s is not "
			    "set", token, name + 4);
			return -1;
		}
		return 0;
	}
	if (strcmp(name, "here") == 0)
		*s = vars->here;
	else if (strcmp(name, "program_name") == 0)
		*s = vars->program_name;
	else if (strcmp(name, "group_name") == 0)
		*s = vars->group_name;
	else if (strcmp(name, "host_node_name") == 0) {
		*s = vars->host_node_name;
		if (*s == NULL) {
			if (uts.nodename[0] == '\0' && uname(&uts) == -1)
				strcpy(uts.nodename, "localhost");
			*s = uts.nodename;
		}
	} else if (strcmp(name, "process_num") == 0) {
		if (vars->process_num >= 0) {
			*num = vars->process_num;
			return 0;
		}
	} else if (strcmp(name, "numprocs") == 0) {
		if (vars->numprocs >= 0 && vars->program_name != NULL) {
			*num = vars->numprocs;
			return 0;
		}
	} else {
		suggestion = expand_suggest(name, expand_names);
		if (suggestion != NULL)
			xasprintf(cause, "unknown name %s; did you mean "
			    "%%(%s)s?", token, suggestion);
		else
			xasprintf(cause, "unknown name %s (known: here, "
			    "program_name, group_name, process_num, "
			    "numprocs, host_node_name, ENV_name)", token);
		return -1;
	}
	if (*s == NULL && vars->program_name != NULL) {
		/* In a program, only what is read before its processes. */
		xasprintf(cause, "%s is not defined here: the number of "
		    "processes is read before there are processes", token);
		return -1;
	}
	if (*s == NULL) {
		xasprintf(cause, "%s is only defined in [program:] sections",
		    token);
		return -1;
	}
	return 0;
}

/* Reads a width or precision at *p. */
static int
expand_digits(const char **p, int *out)
{
	int n = 0;

	while (isdigit((unsigned char)**p)) {
		n = n * 10 + (**p - '0');
		if (n > EXPAND_MAX_WIDTH)
			return -1;
		(*p)++;
	}
	*out = n;
	return 0;
}

/* One %(name)... at P (P[0] == '%', P[1] == '('); *end is past it. */
static int
expand_one(struct expand_buf *b, const char *p, const char **end,
    const struct expand_vars *vars, char **cause)
{
	struct expand_spec sp;
	const char *close, *q, *s;
	char *name = NULL, *token = NULL;
	int num = 0, ret = -1;

	close = strchr(p + 2, ')');
	if (close == NULL) {
		xasprintf(cause, "unterminated %%(...) expansion: missing ')' "
		    "(write %%%% for a literal %%)");
		return -1;
	}
	name = xstrndup(p + 2, close - (p + 2));

	memset(&sp, 0, sizeof(sp));
	sp.prec = -1;
	for (q = close + 1; *q != '\0' && strchr("-+ 0#", *q) != NULL; q++) {
		switch (*q) {
		case '-': sp.minus = 1; break;
		case '+': sp.plus = 1; break;
		case ' ': sp.space = 1; break;
		case '0': sp.zero = 1; break;
		default: break;	/* '#' changes nothing for s and d */
		}
	}
	if (expand_digits(&q, &sp.width) == -1)
		goto too_wide;
	if (*q == '.') {
		q++;
		if (expand_digits(&q, &sp.prec) == -1)
			goto too_wide;
	}
	sp.conv = *q;
	token = xstrndup(p, q - p + (*q != '\0'));
	if (*q != 's' && *q != 'd' && *q != 'i') {
		if (*q == '\0')
			xasprintf(cause, "%s: missing conversion after ')' "
			    "(write %%(%s)s)", token, name);
		else
			xasprintf(cause, "%s: unsupported conversion '%c' "
			    "(use s, or d for numbers)", token, *q);
		goto out;
	}
	if (*name == '\0') {
		xasprintf(cause, "%s: empty name in %%()", token);
		goto out;
	}
	if (expand_lookup(name, token, vars, &s, &num, cause) == -1)
		goto out;
	if (*q == 's') {
		if (s == NULL) {
			char digits[32];

			snprintf(digits, sizeof(digits), "%d", num);
			expand_put_string(b, &sp, digits);
		} else
			expand_put_string(b, &sp, s);
	} else {
		if (s != NULL) {
			xasprintf(cause, "%s: %s is not a number (use "
			    "%%(%s)s)", token, name, name);
			goto out;
		}
		expand_put_number(b, &sp, num);
	}
	*end = q + 1;
	ret = 0;
	goto out;

too_wide:
	xasprintf(cause, "%%(%s): width or precision over %d", name,
	    EXPAND_MAX_WIDTH);
out:
	free(name);
	free(token);
	return ret;
}

int
expand_value(const char *in, const struct expand_vars *vars, char **out,
    char **cause)
{
	struct expand_buf b = { NULL, 0, 0 };
	const char *p, *pct;
	char *quote;

	expand_putn(&b, "", 0);
	for (p = in; *p != '\0'; ) {
		pct = strchr(p, '%');
		if (pct == NULL) {
			expand_putn(&b, p, strlen(p));
			break;
		}
		expand_putn(&b, p, pct - p);
		if (pct[1] == '%') {
			expand_putc(&b, '%');
			p = pct + 2;
		} else if (pct[1] == '(') {
			if (expand_one(&b, pct, &p, vars, cause) == -1)
				goto fail;
		} else {
			/* supervisord refuses it too: the value is a format. */
			quote = utf8_dup(pct, 20);
			xasprintf(cause, "lone %% in \"%s\": write %%%% for "
			    "a literal %%", quote);
			free(quote);
			goto fail;
		}
	}
	*out = b.s;
	return 0;

fail:
	free(b.s);
	return -1;
}

static int
expand_is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

int
expand_argv(const char *cmd, char ***argvp, char **cause)
{
	struct expand_buf w = { NULL, 0, 0 };
	char **argv = NULL;
	size_t argc = 0;
	const char *p, *open;
	int in_word = 0;

	for (p = cmd; *p != '\0'; p++) {
		if (expand_is_blank((unsigned char)*p)) {
			if (in_word) {
				argv = xreallocarray(argv, argc + 2,
				    sizeof(*argv));
				argv[argc++] = w.s;
				w.s = NULL;
				w.len = w.size = 0;
				in_word = 0;
			}
			continue;
		}
		if (*p == '\\' && p[1] == '\n') {
			/* A line continuation joins, it neither starts a word nor ends one. */
			p++;
			continue;
		}
		in_word = 1;
		expand_putn(&w, "", 0);
		switch (*p) {
		case '\'':
			open = p;
			p = strchr(p + 1, '\'');
			if (p == NULL) {
				xasprintf(cause, "unterminated single quote "
				    "(opened at character %zu)",
				    (size_t)(open - cmd) + 1);
				goto fail;
			}
			expand_putn(&w, open + 1, p - open - 1);
			break;
		case '"':
			open = p;
			for (p++; *p != '"'; p++) {
				if (*p == '\0') {
					xasprintf(cause, "unterminated double "
					    "quote (opened at character %zu)",
					    (size_t)(open - cmd) + 1);
					goto fail;
				}
				if (*p == '\\' && p[1] == '\n')
					p++;
				else if (*p == '\\' && p[1] != '\0' &&
				    strchr("\\\"$`", p[1]) != NULL)
					expand_putc(&w, *++p);
				else
					expand_putc(&w, *p);
			}
			break;
		case '\\':
			if (p[1] == '\0') {
				xasprintf(cause, "backslash at the end of the "
				    "command escapes nothing");
				goto fail;
			}
			expand_putc(&w, *++p);
			break;
		default:
			expand_putc(&w, *p);
			break;
		}
	}
	if (in_word) {
		argv = xreallocarray(argv, argc + 2, sizeof(*argv));
		argv[argc++] = w.s;
		w.s = NULL;
	}
	if (argc == 0) {
		xasprintf(cause, "empty command");
		goto fail;
	}
	argv[argc] = NULL;
	*argvp = argv;
	return 0;

fail:
	free(w.s);
	while (argc > 0)
		free(argv[--argc]);
	free(argv);
	return -1;
}

char *
expand_path(const char *dir, const char *path)
{
	struct expand_buf b = { NULL, 0, 0 };
	char *joined, *p, *seg, *save = NULL;

	if (path[0] == '/' || dir == NULL || *dir == '\0')
		joined = xstrdup(path);
	else
		xasprintf(&joined, "%s/%s", dir, path);
	expand_putn(&b, "", 0);
	for (p = joined; (seg = strtok_r(p, "/", &save)) != NULL; p = NULL) {
		if (strcmp(seg, ".") == 0)
			continue;
		if (strcmp(seg, "..") == 0) {
			/* Above the root is the root, as for the kernel. */
			while (b.len > 0 && b.s[b.len - 1] != '/')
				b.len--;
			if (b.len > 0)
				b.len--;
			b.s[b.len] = '\0';
			continue;
		}
		expand_putc(&b, '/');
		expand_putn(&b, seg, strlen(seg));
	}
	if (b.len == 0)
		expand_putc(&b, '/');
	/* A relative DIR (no cwd) leaves the result relative. */
	if (joined[0] != '/')
		memmove(b.s, b.s + 1, b.len--);
	free(joined);
	return b.s;
}

char *
expand_here(const char *file)
{
	char *cwd, *abs, *slash, *dir;

	cwd = getcwd(NULL, 0);
	abs = expand_path(cwd, file);
	free(cwd);
	slash = strrchr(abs, '/');
	if (slash == NULL)
		dir = xstrdup(".");
	else if (slash == abs)
		dir = xstrdup("/");
	else
		dir = xstrndup(abs, slash - abs);
	free(abs);
	return dir;
}

/*
 * Case-insensitive edit distance where swapping two neighbours counts as
 * one edit (optimal string alignment), or INT_MAX when over LIMIT.
 */
static int
expand_distance(const char *a, const char *b, int limit)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	int *rows, *pp, *prev, *cur, *tmp, d, best;

	if ((la > lb ? la - lb : lb - la) > (size_t)limit)
		return INT_MAX;
	rows = xcalloc(3 * (lb + 1), sizeof(*rows));
	pp = rows;
	prev = rows + (lb + 1);
	cur = rows + 2 * (lb + 1);
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	d = lb;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		best = cur[0];
		for (j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]);
			int cb = tolower((unsigned char)b[j - 1]);

			d = prev[j - 1] + (ca != cb);
			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (i > 1 && j > 1 &&
			    ca == tolower((unsigned char)b[j - 2]) &&
			    cb == tolower((unsigned char)a[i - 2]) &&
			    pp[j - 2] + 1 < d)
				d = pp[j - 2] + 1;
			cur[j] = d;
			if (d < best)
				best = d;
		}
		tmp = pp;
		pp = prev;
		prev = cur;
		cur = tmp;
		if (best > limit) {
			free(rows);
			return INT_MAX;
		}
	}
	d = prev[lb];
	free(rows);
	return d;
}

const char *
expand_suggest(const char *word, const char *const *cands)
{
	const char *best = NULL;
	int bestd = INT_MAX, d, limit;
	size_t i, n;

	for (i = 0; cands[i] != NULL; i++) {
		n = strlen(cands[i]);
		if (strlen(word) > n)
			n = strlen(word);
		/* About one typo in three letters, at least one. */
		limit = n > 3 ? (int)(n + 1) / 3 : 1;
		d = expand_distance(word, cands[i], limit);
		if (d <= limit && d < bestd) {
			best = cands[i];
			bestd = d;
		}
	}
	return best;
}
