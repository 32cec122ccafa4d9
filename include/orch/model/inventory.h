/* inventory.h - read a device inventory CSV (libcsv) into a compact,
 * de-duplicated device list.
 *
 * DESIGN: device names are copied once into one arena; each device is a
 * 16-byte record (name offset, product index, source line). A hash set of
 * device indices drops duplicate (ProductKey, DeviceName) pairs. Nothing
 * else is kept per row, so memory grows with the device count only.
 */
#ifndef ORCH_INVENTORY_H
#define ORCH_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct orch_diag;

struct orch_device {
    uint64_t name_off; /* offset of the NUL-terminated name in inv->names */
    uint32_t product;  /* index into inv->products */
    uint32_t line;     /* 1-based physical line where the row starts */
};

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
    /* private: dedup hash set */
    uint32_t *hset;
    size_t hcap;
};

/* Called for each invalid row when skip_invalid is set: line number, the
 * offending value (may be ""), and a reason ("DeviceName is shorter than 4
 * characters": the field, then the rule it breaks; the same text as
 * struct orch_inventory_problem's). Return nonzero to abort. */
typedef int (*orch_reject_fn)(void *ud, uint32_t line, const char *value,
                              const char *reason);

/* Invalid rows a load keeps to tell (the others are only counted). */
#define ORCH_INVENTORY_PROBLEMS_MAX 20

/* One invalid row, as the rejects file tells it: line, value, reason. */
struct orch_inventory_problem {
    uint32_t line;   /* 1-based physical line where the row starts */
    char value[100]; /* the value, printable (\xNN, \" ...), cut "..." */
    char reason[160]; /* the same text orch_reject_fn gets */
};

/* The invalid rows of a load without skip_invalid. Caller-owned and of
 * fixed size (the load never allocates for it): zero it, or reuse it for
 * another load after zeroing, and point opts->problems at it. The load
 * keeps the first ORCH_INVENTORY_PROBLEMS_MAX rows in `first` and counts
 * every one in `total`. */
struct orch_inventory_problems {
    struct orch_inventory_problem first[ORCH_INVENTORY_PROBLEMS_MAX];
    size_t n;     /* rows kept in first[] */
    size_t total; /* invalid rows in the whole file */
};

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
};

void orch_inventory_init(struct orch_inventory *inv);
/* Reads `path`. On error returns ORCH_EIO, ORCH_ECSV (not a CSV we accept:
 * UTF-16, no header, no DeviceName column: the load stops there) or
 * ORCH_EINVENTORY (rows break the naming rules). Without skip_invalid an
 * invalid row does not stop the load: the whole file is read, every
 * invalid row goes into opts->problems (when given), and the load then
 * fails with ORCH_EINVENTORY and diag telling the first row as
 * orch_inventory_problem_format() does, plus "(and N more invalid rows)".
 * The inventory must be cleaned up either way. */
int orch_inventory_load(struct orch_inventory *inv, const char *path,
                        const struct orch_inventory_opts *opts,
                        struct orch_diag *diag);
/* Parses from memory (tests, fuzzers); `name` is used in messages. */
int orch_inventory_load_mem(struct orch_inventory *inv, const char *name,
                            const char *data, size_t len,
                            const struct orch_inventory_opts *opts,
                            struct orch_diag *diag);
void orch_inventory_cleanup(struct orch_inventory *inv);

static inline const char *orch_inventory_name(const struct orch_inventory *inv,
                                              size_t i)
{
    return inv->names + inv->dev[i].name_off;
}

/* Formats one invalid row for people: FILE:LINE: "VALUE": REASON. */
void orch_inventory_problem_format(char *out, size_t outsz, const char *file,
                                   const struct orch_inventory_problem *p);

/* Device name rule: 4-32 characters of letters, digits and - _ @ . :
 * Returns NULL if valid, else a static reason. */
const char *orch_device_name_problem(const char *name);

#endif
