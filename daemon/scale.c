/*
 * scale.c: the counts tendctl scale set (spec §12), by program. The
 * config reader asks scale_numprocs() for each program's numprocs, so a
 * scale is carried out by the reload machinery (reload.c adds and
 * removes processes, depend.c orders their stops) and outlives every
 * reload that leaves the file's numprocs as it was. A reload that
 * changes it forgets the scale: the file speaks again.
 */
#include <stdlib.h>
#include <string.h>

#include "tendd.h"

struct scale_entry {
	char		*program;
	int		 file_n;	/* the file's numprocs when scaled */
	int		 n;		/* what scale asked */
};

static struct scale_entry *scale_entries;
static size_t	 scale_n;

static struct scale_entry *
scale_find(const char *program)
{
	size_t i;

	for (i = 0; i < scale_n; i++)
		if (strcmp(scale_entries[i].program, program) == 0)
			return &scale_entries[i];
	return NULL;
}

static void
scale_drop(struct scale_entry *e)
{
	free(e->program);
	*e = scale_entries[--scale_n];
}

int
scale_numprocs(const char *program, int *numprocs)
{
	struct scale_entry *e = scale_find(program);

	if (e == NULL)
		return 0;
	if (e->file_n != *numprocs) {
		log_info("%s: numprocs is now %d in the file: the scale to %d "
		    "is forgotten", program, *numprocs, e->n);
		scale_drop(e);
		return 0;
	}
	*numprocs = e->n;
	return 1;
}

/* The scale PROGRAM has: 1 with *FILE_N and *N, or 0 (the file's). */
int
scale_get(const char *program, int *file_n, int *n)
{
	struct scale_entry *e = scale_find(program);

	if (e == NULL)
		return 0;
	*file_n = e->file_n;
	*n = e->n;
	return 1;
}

/* PROGRAM runs N from now on (the file says FILE_N): N == FILE_N forgets. */
void
scale_set(const char *program, int file_n, int n)
{
	struct scale_entry *e = scale_find(program);

	if (e != NULL && n == file_n) {
		scale_drop(e);
		return;
	}
	if (n == file_n)
		return;
	if (e == NULL) {
		scale_entries = xreallocarray(scale_entries, scale_n + 1,
		    sizeof(*scale_entries));
		e = &scale_entries[scale_n++];
		e->program = xstrdup(program);
	}
	e->file_n = file_n;
	e->n = n;
}

void
scale_close(void)
{
	while (scale_n > 0)
		scale_drop(&scale_entries[0]);
	free(scale_entries);
	scale_entries = NULL;
}
