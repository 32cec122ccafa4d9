/* plan.h - split an inventory into chunks of at most chunk_size devices,
 * never mixing waves, products or zones, numbered deterministically.
 *
 * Each device gets a wave (waves.h: from --waves, cut per product
 * (wavecut.h), or from --wave-column (wavecol.h); 0 without waves) and a
 * zone group: with --time-zone-column the index of its zone among the
 * column's distinct values (in order of first appearance, as the
 * inventory keeps them: inv->keys[ORCH_INV_KEY_ZONE]), else 0. Chunks are ordered wave first, then product
 * (in order of first appearance), then zone; within such a group devices
 * keep inventory order and are cut into chunks of at most chunk_size. A
 * wave is therefore a contiguous range of chunks. The same inventory and
 * options always give the same chunks (chunk i has index i).
 *
 * Journals written before waves were cut per product (config wave_cut
 * NULL) keep their plan: every device in wave 0, chunks by product, and
 * the waves rounded to whole chunks by orch_waves_split().
 */
#ifndef ORCH_PLAN_H
#define ORCH_PLAN_H

#include <stddef.h>
#include <stdint.h>

struct orch_config;
struct orch_diag;
struct orch_inventory;

struct orch_chunk {
    uint32_t index;          /* 0-based, reported 1-based as "chunk" */
    uint32_t product;        /* index into inv->products */
    uint32_t count;          /* devices in this chunk (1..chunk_size) */
    size_t first;            /* index into plan->order of the first device */
    const char *firmware_id; /* borrowed from the config */
    uint32_t wave;           /* 0-based wave of its devices (0: no waves) */
    uint32_t zone;           /* 0-based zone group of its devices */
};

struct orch_plan {
    const struct orch_inventory *inv; /* borrowed; must outlive the plan */
    uint32_t *order;         /* device indices grouped by product */
    struct orch_chunk *chunks;
    size_t nchunks;
    size_t *chunks_per_product; /* [inv->nproducts] */
    uint32_t nwaves;         /* waves the devices were placed in (1
                                without per-device waves); a wave may
                                have no chunk (a target that adds none) */
    uint32_t nzones;         /* zone groups (1: one zone; with
                                --time-zone-column the column's distinct
                                values, some of which may have no chunk
                                when devices are left out) */
    const char **wave_names; /* [nwaves] with --wave-column: each wave's
                                value (the array owned, the strings
                                borrowed from inv); else NULL */
};

/* Builds the plan. Borrows inv and cfg (firmware ids point into cfg).
 * Per-device waves come from cfg->wave_column (the inventory's values,
 * wavecol.h) or, when cfg->wave_cut is ORCH_WAVE_CUT_EXACT, from
 * cfg->waves cut per product (wavecut.h). Returns 0, ORCH_ENOMEM, or
 * ORCH_ECONFIG when a product has no firmware (diag names the
 * ProductKey) or the waves cannot be cut (diag says why). Not
 * thread-safe. */
int orch_plan_build(struct orch_plan *plan, const struct orch_inventory *inv,
                    const struct orch_config *cfg, struct orch_diag *diag);
/* The same, leaving out every device i with drop[i] != 0 (drop has inv->n
 * bytes; the pre-flight device check fills it). A product whose devices
 * are all left out gets no chunk (chunks_per_product 0). Chunk numbers
 * differ from the unfiltered plan's: a resumed run must apply the same
 * drop map. */
int orch_plan_build_filtered(struct orch_plan *plan,
                             const struct orch_inventory *inv,
                             const struct orch_config *cfg,
                             const uint8_t *drop, struct orch_diag *diag);
void orch_plan_cleanup(struct orch_plan *plan);

/* The j-th device name of chunk c (0 <= j < c->count). */
const char *orch_plan_device(const struct orch_plan *plan,
                             const struct orch_chunk *c, uint32_t j);
/* The ProductKey of chunk c. */
const char *orch_plan_product(const struct orch_plan *plan,
                              const struct orch_chunk *c);

#endif
