/* invfilter.h - --where COLUMN=VALUE[,VALUE...]: which inventory rows a
 * run takes. The values of one filter are alternatives; several filters
 * must all hold. Values are compared case-sensitively with the cell as
 * the inventory reads it (trimmed); the column is named as the
 * inventory's other columns are (invheader.h: without case, ' ', '_' and
 * '-').
 *
 * A filter is caller-owned (orch_where_parse / orch_where_cleanup); the
 * inventory load (inventory.h) finds its column in the header and counts
 * the rows it keeps. Pure; not thread-safe per filter.
 */
#ifndef ORCH_INVFILTER_H
#define ORCH_INVFILTER_H

#include <stdbool.h>
#include <stddef.h>

struct orch_diag;

/* Filters a run takes at most (--where is repeatable). */
#define ORCH_WHERE_MAX 16

struct orch_where {
    const char *text; /* borrowed: the option's value as typed */
    char *column;     /* the column name as typed (owned) */
    char **values;    /* the alternatives (owned), nvalues >= 1 */
    size_t nvalues;
};

/* Parses "COLUMN=V1,V2" into w (zeroed first). Spaces around the column
 * and each value are dropped. Returns 0, ORCH_ECONFIG with diag
 * ("--where: ...": no '=', no column, an empty value) or ORCH_ENOMEM.
 * w must be cleaned up either way. text is borrowed and must outlive w. */
int orch_where_parse(const char *text, struct orch_where *w,
                     struct orch_diag *diag);

/* True when the cell s (len bytes) is one of w's values. */
bool orch_where_match(const struct orch_where *w, const char *s, size_t len);

/* Frees what w owns; NULL-safe. */
void orch_where_cleanup(struct orch_where *w);

#endif
