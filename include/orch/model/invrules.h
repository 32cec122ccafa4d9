/* invrules.h - the rules an inventory row must meet (DeviceName and
 * ProductKey), and how a row that breaks them is told: the reason's one
 * wording, the value shown printable, the list of invalid rows a load
 * keeps.
 *
 * Pure functions over borrowed strings; no allocation. The reasons are
 * static strings. inventory.h includes this header: its users see all of
 * it.
 */
#ifndef ORCH_INVRULES_H
#define ORCH_INVRULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ORCH_DEVICE_NAME_MIN 4
#define ORCH_DEVICE_NAME_MAX 32
#define ORCH_PRODUCT_KEY_MAX 64

/* Device name rule: 4-32 characters of letters, digits and - _ @ . :
 * Returns NULL if valid, else a static reason ("is shorter than 4
 * characters"; a spreadsheet's scientific notation is told as such).
 * Thread-safe (its lookup table is built idempotently). */
const char *orch_device_name_problem(const char *name);

/* ProductKey rule: 1-64 letters and digits. pk holds len bytes (need not
 * be NUL-terminated). Returns NULL if valid, else a static reason. Inline:
 * it runs once per row of an inventory. */
static inline const char *orch_product_key_problem(const char *pk, size_t len)
{
    size_t i = 0;

    if (len == 0)
        return "is empty";
    if (len > ORCH_PRODUCT_KEY_MAX)
        return "is longer than 64 characters";
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)pk[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9')))
            return "is not letters and digits only";
    }
    return NULL;
}

/* Invalid rows a load keeps to tell (the others are only counted). */
#define ORCH_INVENTORY_PROBLEMS_MAX 20

/* One invalid row, as the rejects file tells it: line, value, reason. */
struct orch_inventory_problem {
    uint32_t line;    /* 1-based physical line where the row starts */
    char value[100];  /* the value, printable (\xNN, \" ...), cut "..." */
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

/* The one wording of an invalid row's reason, for the rejects file and
 * the list of problems alike: "FIELD PROBLEM" ("DeviceName is shorter
 * than 4 characters"), cut to outsz - 1 bytes. */
void orch_invrules_reason(char *out, size_t outsz, const char *field,
                          const char *problem);

/* Writes a printable, quote-safe rendering of the first len bytes of s
 * into out: \" \\ and \xNN for anything outside printable ASCII, cut with
 * "..." when it does not fit or when cut is set (the source itself was
 * cut). outsz must be at least 4. */
void orch_invrules_show_value(char *out, size_t outsz, const char *s,
                              size_t len, bool cut);

/* Formats one invalid row for people: FILE:LINE: "VALUE": REASON. */
void orch_inventory_problem_format(char *out, size_t outsz, const char *file,
                                   const struct orch_inventory_problem *p);

#endif
