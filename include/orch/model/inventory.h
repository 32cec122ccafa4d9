/* inventory.h - read a device inventory CSV (libcsv) into a compact,
 * de-duplicated device list.
 *
 * DESIGN: device names are copied once into one arena; each device is a
 * 16-byte record (name offset, product index, source line). A hash set of
 * device indices drops duplicate (ProductKey, DeviceName) pairs while the
 * load runs (devset.h). Nothing else is kept per row, so memory grows
 * with the device count only. The naming rules and the invalid rows'
 * texts are invrules.h's (included here); the header row and the
 * delimiter, invheader.h's; the --where filters' and the named columns'
 * cells and values, invcols.h's (included here).
 */
#ifndef ORCH_INVENTORY_H
#define ORCH_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "orch/model/device.h"   /* struct orch_device */
#include "orch/model/invcols.h"  /* struct orch_inventory_key */
#include "orch/model/invfilter.h" /* struct orch_where */
#include "orch/model/invrules.h" /* the rules, orch_inventory_problems */

struct orch_diag;

struct orch_inventory {
    char *path;                 /* copy of the file name (for messages) */
    char *names;                /* arena of NUL-terminated names */
    size_t names_len, names_cap;
    struct orch_device *dev;    /* kept devices, in inventory order */
    size_t n, cap;
    char **products;            /* distinct ProductKeys, first-seen order */
    size_t nproducts;
    bool has_product_column;
    char delimiter;             /* the delimiter used */
    size_t rows;                /* data rows read (not counting blank lines) */
    size_t duplicates;          /* rows dropped as duplicate pairs */
    size_t rejected;            /* invalid rows skipped (--skip-invalid) */
    size_t filtered;            /* rows left out by the --where filters */
    size_t where_kept[ORCH_WHERE_MAX]; /* rows filter f kept, of those the
                                          filters before it kept */
    struct orch_inventory_key keys[ORCH_INV_NKEYS];
};

/* Called for each invalid row when skip_invalid is set: line number, the
 * offending value (may be ""), and a reason ("DeviceName is shorter than 4
 * characters": the field, then the rule it breaks; the same text as
 * struct orch_inventory_problem's). Return nonzero to abort. */
typedef int (*orch_reject_fn)(void *ud, uint32_t line, const char *value,
                              const char *reason);

struct orch_inventory_opts {
    char delimiter;                  /* 0: detect ',', ';' or '\t' from header */
    bool skip_invalid;               /* else the load reads the whole file
                                        and fails if a row was invalid */
    const char *default_product_key; /* --product-key; used when there is
                                        no ProductKey column or it is empty */
    orch_reject_fn on_reject;        /* may be NULL */
    void *reject_ud;
    struct orch_inventory_problems *problems; /* without skip_invalid:
                                        every invalid row, or NULL */
    /* Rows the run takes: those every filter keeps (invfilter.h); the
     * others are counted (filtered), never rejected. Borrowed. */
    const struct orch_where *where;
    size_t nwhere;               /* <= ORCH_WHERE_MAX */
    /* Named columns to keep per device (NULL: none), and the option
     * that names each, for messages ("--wave-column"). Every kept row
     * needs a value there. */
    const char *key_column[ORCH_INV_NKEYS];
    const char *key_option[ORCH_INV_NKEYS];
};

/* An empty inventory (delimiter ','), ready to load. */
void orch_inventory_init(struct orch_inventory *inv);
/* Reads `path` into inv (fresh from orch_inventory_init). On error returns ORCH_EIO, ORCH_ECSV (not a
 * CSV we accept: UTF-16, no header, no DeviceName column, a quote never
 * closed: the load stops there), ORCH_ECONFIG (no ProductKey column and
 * no usable --product-key), ORCH_ENOMEM, ORCH_ETOOBIG, the reject
 * callback's code (ORCH_EABORT for a positive one) or ORCH_EINVENTORY
 * (rows break the naming rules). Without skip_invalid an
 * invalid row does not stop the load: the whole file is read, every
 * invalid row goes into opts->problems (when given), and the load then
 * fails with ORCH_EINVENTORY and diag telling the first row as
 * orch_inventory_problem_format() does, plus "(and N more invalid rows)".
 * ORCH_ECSV too when a --where filter or a named column names a column
 * the header does not have (diag lists the columns there are), when a
 * filter keeps no row, or when a kept row's named column is empty (the
 * load stops at that row; diag gives file and line).
 * The inventory must be cleaned up either way. */
int orch_inventory_load(struct orch_inventory *inv, const char *path,
                        const struct orch_inventory_opts *opts,
                        struct orch_diag *diag);
/* Parses from memory (tests, fuzzers); `name` is used in messages. */
int orch_inventory_load_mem(struct orch_inventory *inv, const char *name,
                            const char *data, size_t len,
                            const struct orch_inventory_opts *opts,
                            struct orch_diag *diag);
/* Frees everything inv owns and leaves it as orch_inventory_init does.
 * NULL-safe. */
void orch_inventory_cleanup(struct orch_inventory *inv);

/* Device i's name (i < inv->n); lives until orch_inventory_cleanup. */
static inline const char *orch_inventory_name(const struct orch_inventory *inv,
                                              size_t i)
{
    return inv->names + inv->dev[i].name_off;
}

#endif
