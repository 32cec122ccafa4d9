/* invcols.c - the inventory's named columns: --where filters and the
 * values each device keeps (invcols.h). */
#include "orch/model/invcols.h"

#include "orch/base/err.h"
#include "orch/base/grow.h"
#include "orch/model/invheader.h"

#include <stdlib.h>
#include <string.h>

void orch_invcell_set(struct orch_invcell *c, const char *s, size_t len)
{
    size_t keep = len < ORCH_INVCELL_KEEP ? len : ORCH_INVCELL_KEEP;

    memcpy(c->s, s, keep);
    c->s[keep] = '\0';
    c->len = len;
}

void orch_invcell_clear(struct orch_invcell *c)
{
    c->s[0] = '\0';
    c->len = 0;
}

int orch_invcols_init(struct orch_invcols *c, const struct orch_where *where,
                      size_t nwhere, const char *const *column,
                      const char *const *option, struct orch_diag *diag)
{
    size_t f = 0;

    memset(c, 0, sizeof(*c));
    for (f = 0; f < ORCH_WHERE_MAX; f++)
        c->where_col[f] = -1;
    for (f = 0; f < ORCH_INV_NKEYS; f++) {
        c->key_col[f] = -1;
        c->column[f] = column ? column[f] : NULL;
        c->option[f] = option ? option[f] : NULL;
    }
    if (nwhere > ORCH_WHERE_MAX)
        return orch_diag_set(diag, ORCH_ECONFIG, "--where: more than %d",
                             ORCH_WHERE_MAX);
    c->where = where;
    c->nwhere = nwhere;
    return 0;
}

void orch_invcols_cleanup(struct orch_invcols *c)
{
    size_t k = 0;

    if (c == NULL)
        return;
    for (k = 0; k < ORCH_INV_NKEYS; k++)
        free(c->rows[k].v);
    memset(c->rows, 0, sizeof(c->rows));
}

static bool same_column(const char *want, const char *s, size_t len)
{
    char a[64], b[64];

    orch_invheader_key(a, sizeof(a), want, strlen(want));
    orch_invheader_key(b, sizeof(b), s, len);
    return a[0] != '\0' && strcmp(a, b) == 0;
}

void orch_invcols_header_cell(struct orch_invcols *c, size_t col, const char *s,
                              size_t len)
{
    size_t f = 0;

    for (f = 0; f < c->nwhere; f++) {
        if (c->where_col[f] < 0 && same_column(c->where[f].column, s, len))
            c->where_col[f] = (long)col;
    }
    for (f = 0; f < ORCH_INV_NKEYS; f++) {
        if (c->column[f] && c->key_col[f] < 0 &&
            same_column(c->column[f], s, len))
            c->key_col[f] = (long)col;
    }
}

int orch_invcols_check_header(const struct orch_invcols *c,
                              const struct orch_invheader *h, const char *file,
                              uint32_t line, struct orch_diag *diag)
{
    const char *seen = h->seen_len ? h->seen : "none";
    size_t f = 0;

    for (f = 0; f < c->nwhere; f++) {
        if (c->where_col[f] < 0)
            return orch_diag_set(diag, ORCH_ECSV,
                                 "%s:%u: --where %s: the header has no "
                                 "column \"%s\" (the columns are %s)",
                                 file, line, c->where[f].text,
                                 c->where[f].column, seen);
    }
    for (f = 0; f < ORCH_INV_NKEYS; f++) {
        if (c->column[f] && c->key_col[f] < 0)
            return orch_diag_set(diag, ORCH_ECSV,
                                 "%s:%u: %s %s: the header has no such "
                                 "column (the columns are %s)",
                                 file, line,
                                 c->option[f] ? c->option[f] : "column",
                                 c->column[f], seen);
    }
    return 0;
}

void orch_invcols_row_start(struct orch_invcols *c)
{
    size_t f = 0;

    for (f = 0; f < c->nwhere; f++)
        orch_invcell_clear(&c->where_cell[f]);
    for (f = 0; f < ORCH_INV_NKEYS; f++)
        orch_invcell_clear(&c->key_cell[f]);
}

void orch_invcols_cell(struct orch_invcols *c, size_t col, const char *s,
                       size_t len)
{
    size_t f = 0;

    for (f = 0; f < c->nwhere; f++) {
        if (c->where_col[f] == (long)col)
            orch_invcell_set(&c->where_cell[f], s, len);
    }
    for (f = 0; f < ORCH_INV_NKEYS; f++) {
        if (c->key_col[f] == (long)col)
            orch_invcell_set(&c->key_cell[f], s, len);
    }
}

bool orch_invcols_row_selected(const struct orch_invcols *c, size_t *filtered,
                               size_t *where_kept)
{
    size_t f = 0;

    for (f = 0; f < c->nwhere; f++) {
        const struct orch_invcell *cell = &c->where_cell[f];

        if (cell->len > ORCH_INVCELL_KEEP ||
            !orch_where_match(&c->where[f], cell->s, cell->len)) {
            (*filtered)++;
            return false;
        }
        where_kept[f]++;
    }
    return true;
}

/* The index of cell's value in key's distinct values (first seen on
 * line), added when new; *last caches the previous answer. */
static int key_value(struct orch_inventory_key *key, size_t *last,
                     const struct orch_invcell *cell, uint32_t line,
                     uint32_t *out)
{
    size_t i = *last;
    char **nv = NULL;
    uint32_t *nl = NULL;

    if (i < key->nvalues && strcmp(key->values[i], cell->s) == 0)
        goto found;
    for (i = 0; i < key->nvalues; i++) {
        if (strcmp(key->values[i], cell->s) == 0)
            goto found;
    }
    if (key->nvalues >= UINT32_MAX - 1)
        return ORCH_ETOOBIG;
    nv = realloc(key->values, (key->nvalues + 1) * sizeof(*nv));
    if (nv == NULL)
        return ORCH_ENOMEM;
    key->values = nv;
    nl = realloc(key->line, (key->nvalues + 1) * sizeof(*nl));
    if (nl == NULL)
        return ORCH_ENOMEM;
    key->line = nl;
    key->values[key->nvalues] = strdup(cell->s);
    if (key->values[key->nvalues] == NULL)
        return ORCH_ENOMEM;
    key->line[key->nvalues] = line;
    i = key->nvalues++;
found:
    *last = i;
    *out = (uint32_t)i;
    return 0;
}

int orch_invcols_keep_row(struct orch_invcols *c,
                          struct orch_inventory_key *keys, const char *file,
                          uint32_t line, struct orch_diag *diag)
{
    size_t k = 0;
    uint32_t v = 0;
    int rc = 0;

    for (k = 0; k < ORCH_INV_NKEYS; k++) {
        struct orch_invcols_rows *kr = &c->rows[k];
        uint32_t(*grown)[2] = NULL;

        if (c->column[k] == NULL)
            continue;
        if (c->key_cell[k].len == 0)
            return orch_diag_set(diag, ORCH_ECSV,
                                 "%s:%u: column \"%s\" is empty; %s needs "
                                 "a value in every row; nothing sent",
                                 file, line, c->column[k],
                                 c->option[k] ? c->option[k] : "the plan");
        rc = key_value(&keys[k], &c->last[k], &c->key_cell[k], line, &v);
        if (rc == 0) {
            grown = orch_grow(kr->v, &kr->cap, kr->n + 1, sizeof(*kr->v), 4096);
            if (grown == NULL)
                rc = ORCH_ENOMEM;
        }
        if (rc)
            return orch_diag_set(diag, rc, "%s:%u: %s", file, line,
                                 orch_strerror(rc));
        kr->v = grown;
        kr->v[kr->n][0] = line;
        kr->v[kr->n][1] = v;
        kr->n++;
    }
    return 0;
}

/* Devices and rows are both in line order; a duplicate's row has no
 * device. */
int orch_invcols_settle(const struct orch_invcols *c,
                        struct orch_inventory_key *keys,
                        const struct orch_device *dev, size_t n,
                        struct orch_diag *diag)
{
    size_t k = 0, i = 0, r = 0;

    for (k = 0; k < ORCH_INV_NKEYS; k++) {
        const struct orch_invcols_rows *kr = &c->rows[k];
        uint32_t *of = NULL;

        if (c->column[k] == NULL)
            continue;
        of = malloc((n ? n : 1) * sizeof(*of));
        if (of == NULL)
            return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
        for (i = 0, r = 0; i < n; i++) {
            while (r < kr->n && kr->v[r][0] != dev[i].line)
                r++;
            of[i] = r < kr->n ? kr->v[r][1] : 0;
        }
        keys[k].of = of;
    }
    return 0;
}

int orch_invcols_check_kept(const struct orch_invcols *c,
                            const size_t *where_kept, size_t rows,
                            const char *file, struct orch_diag *diag)
{
    size_t f = 0;

    for (f = 0; f < c->nwhere; f++) {
        if (where_kept[f] == 0)
            return orch_diag_set(
                diag, ORCH_ECSV,
                "%s: --where %s keeps no row (of %zu%s); the values are "
                "compared case-sensitively; nothing sent",
                file, c->where[f].text, f ? where_kept[f - 1] : rows,
                f ? " the filters before it kept" : "");
    }
    return 0;
}
