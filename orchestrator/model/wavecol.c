/* wavecol.c - the waves of a --wave-column (wavecol.h). */
#include "orch/model/wavecol.h"

#include "orch/base/err.h"
#include "orch/model/inventory.h"
#include "orch/model/wavespec.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* A value that is a number, as a number. */
static bool numeric(const char *s, double *out)
{
    char *end = NULL;

    if (s[0] == '\0')
        return false;
    errno = 0;
    *out = strtod(s, &end);
    return errno == 0 && *end == '\0' && isfinite(*out);
}

struct ranked {
    size_t v;      /* value index (first-appearance order) */
    bool number;
    double num;
};

/* Numbers first, in numeric order; then first appearance. */
static int cmp_ranked(const void *pa, const void *pb)
{
    const struct ranked *a = pa, *b = pb;

    if (a->number != b->number)
        return a->number ? -1 : 1;
    if (a->number && a->num != b->num)
        return a->num < b->num ? -1 : 1;
    return a->v < b->v ? -1 : a->v > b->v;
}

/* The place of value s in the --wave-order list, or -1. */
static long place_in(const char *order, const char *s)
{
    const char *p = order;
    size_t len = strlen(s);
    long i = 0;

    for (;; i++) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);

        while (n > 0 && *p == ' ') {
            p++;
            n--;
        }
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (n == len && memcmp(p, s, n) == 0)
            return i;
        if (e == NULL)
            return -1;
        p = e + 1;
    }
}

int orch_wavecol_rank(const struct orch_inventory_key *key, const char *order,
                      const char *file, uint32_t *wave,
                      struct orch_diag *diag)
{
    struct ranked *r = NULL;
    size_t i = 0;

    if (key->nvalues > ORCH_WAVES_MAX)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--wave-column: %zu different values; at most "
                             "%d waves",
                             key->nvalues, ORCH_WAVES_MAX);
    r = calloc(key->nvalues ? key->nvalues : 1, sizeof(*r));
    if (r == NULL)
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    for (i = 0; i < key->nvalues; i++) {
        r[i].v = i;
        if (order) {
            long place = place_in(order, key->values[i]);

            if (place < 0) {
                int rc = orch_diag_set(
                    diag, ORCH_ECSV,
                    "%s:%u: wave \"%s\" is not in --wave-order %s; nothing "
                    "sent",
                    file, key->line[i], key->values[i], order);

                free(r);
                return rc;
            }
            r[i].number = true;
            r[i].num = (double)place;
        } else {
            r[i].number = numeric(key->values[i], &r[i].num);
        }
    }
    qsort(r, key->nvalues, sizeof(*r), cmp_ranked);
    for (i = 0; i < key->nvalues; i++)
        wave[r[i].v] = (uint32_t)i;
    free(r);
    return 0;
}
