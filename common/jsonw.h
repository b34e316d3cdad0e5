/*
 * jsonw.h: a small JSON writer that appends text straight to a growing
 * buffer, for replies too big to build as jansson objects (status of
 * thousands of processes). Whatever bytes it is given, the output is
 * valid JSON that jansson reads back: strings are escaped, and bytes that
 * are not valid UTF-8 become U+FFFD. Should memory run out, "failed" is
 * set and the text is incomplete: the caller drops it (jsonw never
 * aborts the process on its own).
 *
 * Separators are the writer's job: a key or a value that follows a
 * finished value gets its comma. So an object is
 *	jsonw_open(w, '{'); jsonw_key(w, "a"); jsonw_int(w, 1);
 *	jsonw_key(w, "b"); jsonw_string(w, "x"); jsonw_close(w, '}');
 */
#ifndef TEND_JSONW_H
#define TEND_JSONW_H

#include <stddef.h>

struct jsonw {
	char	*buf;		/* not NUL-terminated */
	size_t	 len;
	size_t	 cap;
	int	 failed;	/* out of memory: the text is unusable */
};

void	 jsonw_init(struct jsonw *, size_t hint);
void	 jsonw_free(struct jsonw *);

/* Bytes as they are: JSON text the caller made (a dumped id, say). */
void	 jsonw_raw(struct jsonw *, const char *, size_t);
/* '{' or '['; and '}' or ']'. */
void	 jsonw_open(struct jsonw *, char);
void	 jsonw_close(struct jsonw *, char);
/* "KEY": — KEY is written as a string, escaped like any other. */
void	 jsonw_key(struct jsonw *, const char *);

/* A JSON string of S (NULL: null), or of LEN bytes (NULs as \u0000). */
void	 jsonw_string(struct jsonw *, const char *s);
void	 jsonw_stringn(struct jsonw *, const char *s, size_t len);
void	 jsonw_int(struct jsonw *, long long);
void	 jsonw_bool(struct jsonw *, int);
void	 jsonw_null(struct jsonw *);
/*
 * A real, rounded to the microsecond and always with a fraction, so
 * that readers see a float: 0.0, 12.5, -3.000001, 1700000000.123456.
 * Beyond 2^53 µs it falls back to %.17g; NaN and infinities (which JSON
 * cannot hold) are written as 0.0.
 */
void	 jsonw_real(struct jsonw *, double);

#endif
