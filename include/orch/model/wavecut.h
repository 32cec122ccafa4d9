/* wavecut.h - how many devices of each product each wave takes: the
 * cumulative targets of a --waves spec (wavespec.h) turned into exact
 * device counts, cut per product.
 *
 * Targets: a share s of N devices is ceil(N * s) devices (at least 1), a
 * count is that many devices (at most N), "all" is N. Each target is then
 * shared among the products in proportion to their devices (largest
 * remainder), with three rules, in this order of precedence:
 *   - the totals are exact: the products' counts of target k add up to
 *     target k;
 *   - counts never shrink from one wave to the next (waves are
 *     cumulative) and never exceed a product's devices;
 *   - a product still without a device gets one before any other product
 *     gets a remainder, so every product with devices is in the first
 *     wave whose target has at least one device per product (1% of
 *     10,000 devices over 8,517 + 1,483 is 85 + 15).
 * Ties go to the product seen first. Pure and deterministic.
 */
#ifndef ORCH_WAVECUT_H
#define ORCH_WAVECUT_H

#include <stddef.h>
#include <stdint.h>

struct orch_diag;
struct orch_wave_spec;

/* The device target of each wave of spec over total devices: targets[k]
 * for k < spec->n. Returns 0, or ORCH_ECONFIG with diag when total is 0,
 * a target is below the one before it (counts and shares mixed), or the
 * last target is below total. Pure. */
int orch_wavecut_targets(const struct orch_wave_spec *spec, uint64_t total,
                         uint64_t *targets, struct orch_diag *diag);

/* Shares the cumulative targets[0..nwaves) among nproducts products with
 * devices[p] devices each (sum = targets[nwaves-1]): cum[k * nproducts + p]
 * gets product p's devices in waves 1..k+1 (rules above). Returns 0, or
 * ORCH_ENOMEM. Pure. */
int orch_wavecut_share(const uint64_t *targets, size_t nwaves,
                       const uint64_t *devices, size_t nproducts,
                       uint64_t *cum);

#endif
