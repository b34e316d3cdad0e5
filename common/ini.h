/*
 * ini.h: tend's INI reader. It parses through Debian's libinih but hides
 * that build's limits (200-byte lines, 49-byte names, no line numbers):
 * callers get whole values of any length, exact names, physical line
 * numbers, and every syntax error rather than the first.
 *
 * The grammar is supervisord's (Python configparser's):
 *   - "[name]" starts a section; whitespace around the name is dropped.
 *   - "key = value" or "key: value"; the key ends at the first '=' or ':'.
 *   - Lines whose first non-blank character is ';' or '#' are comments;
 *     so is the rest of a line from a ';' or '#' that follows a blank.
 *   - A line indented deeper than its key continues that key's value;
 *     the pieces are joined with "\n".
 *   - CRLF line endings and a UTF-8 byte order mark are accepted.
 * Keys after a header that cannot be read, up to the next good header,
 * belong to no known section: they are skipped (the header is an error).
 */
#ifndef TEND_INI_H
#define TEND_INI_H

#include <stddef.h>

/*
 * Our header shares its name with libinih's <ini.h>. Only ini.c needs
 * the library's declarations: it defines TEND_INI_LIBINIH and includes
 * this file as <ini.h>, so #include_next reaches the system header.
 */
#ifdef TEND_INI_LIBINIH
#include_next <ini.h>
#endif

/*
 * Called for each section header (KEY and VALUE NULL), so that empty
 * sections are seen too, and for each key once its whole value is known.
 * SECTION is "" for keys before the first header. LINE is the physical
 * line (from 1) of the header or of the key's first line.
 */
typedef void (*ini_entry_fn)(void *arg, const char *section, const char *key,
    const char *value, int line);
/*
 * Called for each line that cannot be read; WHAT says why. A key is only
 * passed on once its value is complete, so an error may come before the
 * key of an earlier line: sort by line when the order matters.
 */
typedef void (*ini_error_fn)(void *arg, int line, const char *what);

/*
 * Reads PATH, calling ENTRY and ERROR (which may be NULL) in file order.
 * Returns 0 once the whole file was read, syntax errors included; -1 with
 * an allocated *cause when the file cannot be opened or read.
 */
int	 ini_read_file(const char *path, ini_entry_fn entry,
	    ini_error_fn error, void *arg, char **cause);
/* The same over LEN bytes of TEXT (which may contain NUL bytes). */
int	 ini_read_buffer(const char *text, size_t len, ini_entry_fn entry,
	    ini_error_fn error, void *arg, char **cause);

#endif
