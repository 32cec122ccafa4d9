/* wavecut.c - exact wave sizes, cut per product (wavecut.h).
 *
 * DESIGN: one wave at a time. Each product has a least count: what it had
 * in the wave before (counts are cumulative), and at least one device
 * when the target has room for one of every product with devices. It
 * starts at its floor of the proportional share, raised to that least
 * count and capped at its devices. What is left to reach the
 * target goes one device at a time, first to products still at zero, then
 * by largest remainder; a surplus (the raise above can overshoot) is
 * taken back from the products furthest above their share. Both loops
 * move one device per step and pick the product by a fixed order, so the
 * result depends on the inputs only.
 */
#include "orch/model/wavecut.h"

#include "orch/base/err.h"
#include "orch/model/wavespec.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

int orch_wavecut_targets(const struct orch_wave_spec *spec, uint64_t total,
                         uint64_t *targets, struct orch_diag *diag)
{
    uint64_t prev = 0;
    size_t k = 0;

    if (total == 0)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--waves: the plan has no devices");
    for (k = 0; k < spec->n; k++) {
        if (orch_wave_target_devices(&spec->t[k], total, prev, &targets[k],
                                     diag) != 0)
            return ORCH_ECONFIG;
        prev = targets[k];
    }
    if (spec->n == 0 || prev < total)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--waves: the last wave (%s) covers %llu of the "
                             "plan's %llu devices; end the spec with all",
                             spec->n ? spec->t[spec->n - 1].text : "",
                             (unsigned long long)prev,
                             (unsigned long long)total);
    return 0;
}

/* Product p's exact share of target: target * devices[p] / total. */
static double ideal(uint64_t target, uint64_t devices, uint64_t total)
{
    return total ? (double)target * (double)devices / (double)total : 0;
}

/* The product to give one more device: below its devices, zero counts
 * first, then the largest remainder, then the first seen. nproducts when
 * none can take one. */
static size_t pick_raise(const uint64_t *c, const uint64_t *devices,
                         const double *x, size_t nproducts)
{
    size_t p = 0, best = nproducts;

    for (p = 0; p < nproducts; p++) {
        if (c[p] >= devices[p])
            continue;
        if (best == nproducts)
            best = p;
        else if ((c[p] == 0) != (c[best] == 0))
            best = c[p] == 0 ? p : best;
        else if (x[p] - (double)c[p] > x[best] - (double)c[best])
            best = p;
    }
    return best;
}

/* The product to take one device back from: above its least count, the
 * furthest above its share, then the last seen. */
static size_t pick_lower(const uint64_t *c, const uint64_t *least,
                         const double *x, size_t nproducts)
{
    size_t p = 0, best = nproducts;

    for (p = 0; p < nproducts; p++) {
        if (c[p] <= least[p])
            continue;
        if (best == nproducts ||
            (double)c[p] - x[p] >= (double)c[best] - x[best])
            best = p;
    }
    return best;
}

/* Each product's least count in a wave of target devices, given what it
 * had before (prev): prev, raised to one device for every product with
 * devices when the target has room for all of those raises. */
static void least_counts(uint64_t *least, const uint64_t *prev,
                         const uint64_t *devices, size_t nproducts,
                         uint64_t target)
{
    uint64_t need = 0;
    size_t p = 0;

    for (p = 0; p < nproducts; p++)
        need += prev[p] > 0 || devices[p] == 0 ? prev[p] : 1;
    for (p = 0; p < nproducts; p++) {
        least[p] = prev[p];
        if (need <= target && prev[p] == 0 && devices[p] > 0)
            least[p] = 1;
    }
}

int orch_wavecut_share(const uint64_t *targets, size_t nwaves,
                       const uint64_t *devices, size_t nproducts,
                       uint64_t *cum)
{
    uint64_t total = 0, sum = 0;
    uint64_t *prev = NULL, *least = NULL;
    double *x = NULL;
    size_t k = 0, p = 0;
    size_t np = nproducts ? nproducts : 1;

    prev = calloc(np, sizeof(*prev));
    least = calloc(np, sizeof(*least));
    x = calloc(np, sizeof(*x));
    if (prev == NULL || least == NULL || x == NULL) {
        free(prev);
        free(least);
        free(x);
        return ORCH_ENOMEM;
    }
    for (p = 0; p < nproducts; p++)
        total += devices[p];
    for (k = 0; k < nwaves; k++) {
        uint64_t *c = cum + k * nproducts;
        uint64_t target = targets[k] < total ? targets[k] : total;

        sum = 0;
        least_counts(least, prev, devices, nproducts, target);
        for (p = 0; p < nproducts; p++) {
            x[p] = ideal(target, devices[p], total);
            c[p] = (uint64_t)floor(x[p]);
            if (c[p] < least[p])
                c[p] = least[p];
            if (c[p] > devices[p])
                c[p] = devices[p];
            sum += c[p];
        }
        while (sum < target) {
            size_t q = pick_raise(c, devices, x, nproducts);

            if (q == nproducts)
                break;
            c[q]++;
            sum++;
        }
        while (sum > target) {
            size_t q = pick_lower(c, least, x, nproducts);

            if (q == nproducts)
                break;
            c[q]--;
            sum--;
        }
        for (p = 0; p < nproducts; p++)
            prev[p] = c[p];
    }
    free(prev);
    free(least);
    free(x);
    return 0;
}
