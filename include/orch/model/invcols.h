/* invcols.h - the inventory's named columns: which header cells are the
 * --where filters' columns and the columns a load keeps one value of per
 * device (--wave-column, --time-zone-column), and what each row holds in
 * them: whether the filters keep the row, and each kept device's values.
 * The DeviceName and ProductKey columns are invheader.h's; the cells a
 * row holds in them are struct orch_invcell too.
 *
 * One struct orch_invcols serves one load (inventory.h), in this order:
 * orch_invcols_init; orch_invcols_header_cell for each header cell, then
 * orch_invcols_check_header; for each data row orch_invcols_row_start,
 * orch_invcols_cell for each cell, orch_invcols_row_selected and, for a
 * row that became a device, orch_invcols_keep_row; at the end, once the
 * duplicates are gone, orch_invcols_settle and orch_invcols_check_kept;
 * orch_invcols_cleanup in any case.
 *
 * struct orch_invcols is caller-owned; it borrows the filters and the
 * column and option names, which must outlive it. The values it finds go
 * into the caller's struct orch_inventory_key array (whose values, line
 * and of the caller frees). Not thread-safe per struct.
 */
#ifndef ORCH_INVCOLS_H
#define ORCH_INVCOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "orch/model/device.h"    /* struct orch_device */
#include "orch/model/invfilter.h" /* struct orch_where, ORCH_WHERE_MAX */

struct orch_diag;
struct orch_invheader;

/* Named columns a load keeps one value of per device (the inventory's
 * other columns are read past). */
enum orch_inventory_key_id {
    ORCH_INV_KEY_WAVE = 0, /* --wave-column (wavecol.h) */
    ORCH_INV_KEY_ZONE,     /* a device's zone group (plan.h) */
    ORCH_INV_NKEYS
};

/* One named column's values: the distinct values in order of first
 * appearance, and each kept device's. Empty when the column is not
 * asked for (nvalues 0, of NULL). */
struct orch_inventory_key {
    char **values;  /* distinct values (owned) */
    uint32_t *line; /* [nvalues] line of each value's first row */
    size_t nvalues;
    uint32_t *of; /* [n] device i's value index (owned) */
};

/* A row's cell keeps this much: enough to validate and to show. */
#define ORCH_INVCELL_KEEP 128

/* One cell of the current row, trimmed. */
struct orch_invcell {
    char s[ORCH_INVCELL_KEEP + 1]; /* the first ORCH_INVCELL_KEEP bytes */
    size_t len; /* full (trimmed) length, may exceed ORCH_INVCELL_KEEP */
};

/* Keeps s (len bytes, cut to ORCH_INVCELL_KEEP) and its full length. */
void orch_invcell_set(struct orch_invcell *c, const char *s, size_t len);
/* Empties c. */
void orch_invcell_clear(struct orch_invcell *c);

/* A named column's values row by row, until the devices are settled:
 * (line, value index) of each row that became a device. */
struct orch_invcols_rows {
    uint32_t (*v)[2]; /* owned */
    size_t n, cap;
};

struct orch_invcols {
    const struct orch_where *where; /* borrowed, nwhere filters */
    size_t nwhere;
    const char *column[ORCH_INV_NKEYS]; /* borrowed; NULL: not kept */
    const char *option[ORCH_INV_NKEYS]; /* borrowed; for messages */
    long where_col[ORCH_WHERE_MAX];     /* column of each filter, -1 */
    struct orch_invcell where_cell[ORCH_WHERE_MAX];
    long key_col[ORCH_INV_NKEYS]; /* column of each named one, -1 */
    struct orch_invcell key_cell[ORCH_INV_NKEYS];
    struct orch_invcols_rows rows[ORCH_INV_NKEYS];
    size_t last[ORCH_INV_NKEYS]; /* cache for the value lookup */
};

/* Sets c up for the filters where[0..nwhere) and the named columns
 * column[k] (NULL: not kept; option[k] names the option for messages,
 * NULL: "column" / "the plan"); no column found yet. Returns 0, or
 * ORCH_ECONFIG with diag for more than ORCH_WHERE_MAX filters; c can be
 * cleaned up either way. */
int orch_invcols_init(struct orch_invcols *c, const struct orch_where *where,
                      size_t nwhere, const char *const *column,
                      const char *const *option, struct orch_diag *diag);

/* Frees what c owns; NULL-safe. */
void orch_invcols_cleanup(struct orch_invcols *c);

/* The header row's cell at column col (trimmed, len bytes): the first
 * column named as a filter's or a named column's (matched as
 * orch_invheader_key does) becomes that one's column. */
void orch_invcols_header_cell(struct orch_invcols *c, size_t col, const char *s,
                              size_t len);

/* After the header row (of file, on line): ORCH_ECSV with diag when it
 * has no column for a filter or a named column (diag lists the columns
 * h saw), else 0. */
int orch_invcols_check_header(const struct orch_invcols *c,
                              const struct orch_invheader *h, const char *file,
                              uint32_t line, struct orch_diag *diag);

/* A new data row: its filters' and named columns' cells are empty. */
void orch_invcols_row_start(struct orch_invcols *c);

/* The current row's cell at column col (trimmed, len bytes): kept when
 * it is a filter's or a named column's (one cell may serve several). */
void orch_invcols_cell(struct orch_invcols *c, size_t col, const char *s,
                       size_t len);

/* True when every filter keeps the current row. Adds 1 to where_kept[f]
 * for each filter f that keeps it, up to the first that does not, and
 * then to *filtered. */
bool orch_invcols_row_selected(const struct orch_invcols *c, size_t *filtered,
                               size_t *where_kept);

/* The current row (of file, on line) became a device: keeps its value of
 * each named column, adding new values to keys[k]. Returns 0, or ORCH_ECSV
 * (a named column's cell is empty), ORCH_ENOMEM or ORCH_ETOOBIG with diag
 * "FILE:LINE: ...". */
int orch_invcols_keep_row(struct orch_invcols *c,
                          struct orch_inventory_key *keys, const char *file,
                          uint32_t line, struct orch_diag *diag);

/* Once the duplicates are gone (dev[0..n) in line order, a subset of the
 * kept rows): sets keys[k].of, device i's value index, for each named
 * column. Returns 0 or ORCH_ENOMEM with diag. */
int orch_invcols_settle(const struct orch_invcols *c,
                        struct orch_inventory_key *keys,
                        const struct orch_device *dev, size_t n,
                        struct orch_diag *diag);

/* At the end of a load of file that read rows data rows: ORCH_ECSV with
 * diag when a filter kept no row (where_kept as orch_invcols_row_selected
 * counted), else 0. */
int orch_invcols_check_kept(const struct orch_invcols *c,
                            const size_t *where_kept, size_t rows,
                            const char *file, struct orch_diag *diag);

#endif
