/* plan.c - split an inventory into chunks of at most cfg->chunk_size
 * devices, grouped by wave, product and zone (plan.h).
 *
 * DESIGN: each kept device gets a group number, (wave * nproducts +
 * product) * nzones + zone; one stable counting sort over the group
 * numbers orders the device indices (inventory order holds within a
 * group), and chunks are consecutive runs of at most chunk_size inside a
 * group. The waves of the devices come first (waves_of_devices): from
 * the wave column, or from the --waves targets cut per product
 * (wavecut.h: the k-th kept device of a product is in the first wave
 * whose cumulative count for that product is above k). Everything only
 * depends on the inventory and the options: the same inputs always give
 * the same chunks (resume relies on this).
 */
#include "orch/model/plan.h"

#include "orch/model/config.h"
#include "orch/base/err.h"
#include "orch/model/inventory.h"
#include "orch/model/wavecol.h"
#include "orch/model/wavecut.h"
#include "orch/model/wavespec.h"

#include <stdlib.h>
#include <string.h>

/* The per-device facts the groups are made of. */
struct placing {
    uint32_t *wave;   /* [inv->n] or NULL: every device in wave 0 */
    uint32_t nwaves;
    const char **wave_names; /* [nwaves] or NULL (moves to the plan) */
    const uint32_t *zone; /* [inv->n] borrowed from the inventory, or
                             NULL: every device in zone 0 */
    uint32_t nzones;
};

static bool kept(const uint8_t *drop, size_t i)
{
    return drop == NULL || drop[i] == 0;
}

/* --waves cut per product: the wave of each kept device. */
static int waves_from_spec(struct placing *pl,
                           const struct orch_inventory *inv,
                           const struct orch_config *cfg, const uint8_t *drop,
                           struct orch_diag *diag)
{
    struct orch_wave_spec spec;
    uint64_t targets[ORCH_WAVES_MAX];
    uint64_t *devices = NULL, *cum = NULL, *seen = NULL;
    uint64_t total = 0;
    size_t np = inv->nproducts ? inv->nproducts : 1;
    size_t i = 0;
    int rc = 0;

    rc = orch_waves_parse(cfg->waves, &spec, diag);
    if (rc)
        return rc;
    devices = calloc(np, sizeof(*devices));
    seen = calloc(np, sizeof(*seen));
    cum = calloc(spec.n * np, sizeof(*cum));
    pl->wave = malloc((inv->n ? inv->n : 1) * sizeof(*pl->wave));
    if (devices == NULL || seen == NULL || cum == NULL || pl->wave == NULL) {
        rc = orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < inv->n; i++) {
        if (kept(drop, i)) {
            devices[inv->dev[i].product]++;
            total++;
        }
    }
    /* No device left (the device check dropped them all): one wave, and
     * the run tells there is nothing to do. */
    pl->nwaves = 1;
    if (total == 0) {
        memset(pl->wave, 0, (inv->n ? inv->n : 1) * sizeof(*pl->wave));
        goto out;
    }
    rc = orch_wavecut_targets(&spec, total, targets, diag);
    if (rc == 0)
        rc = orch_wavecut_share(targets, spec.n, devices, inv->nproducts, cum);
    if (rc) {
        if (rc == ORCH_ENOMEM)
            orch_diag_set(diag, rc, "out of memory");
        goto out;
    }
    for (i = 0; i < inv->n; i++) {
        uint32_t p = inv->dev[i].product;
        uint32_t k = 0;

        pl->wave[i] = 0;
        if (!kept(drop, i))
            continue;
        while (k + 1 < spec.n && seen[p] >= cum[k * inv->nproducts + p])
            k++;
        pl->wave[i] = k;
        seen[p]++;
    }
    pl->nwaves = (uint32_t)spec.n;
out:
    free(devices);
    free(seen);
    free(cum);
    return rc;
}

/* --wave-column: the wave of each device from its value's rank. */
static int waves_from_column(struct placing *pl,
                             const struct orch_inventory *inv,
                             const struct orch_config *cfg,
                             struct orch_diag *diag)
{
    const struct orch_inventory_key *key = &inv->keys[ORCH_INV_KEY_WAVE];
    uint32_t *rank = NULL;
    size_t i = 0;
    int rc = 0;

    if (key->of == NULL)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--wave-column %s: the inventory was read "
                             "without it",
                             cfg->wave_column);
    rank = calloc(key->nvalues ? key->nvalues : 1, sizeof(*rank));
    pl->wave = malloc((inv->n ? inv->n : 1) * sizeof(*pl->wave));
    pl->wave_names = calloc(key->nvalues ? key->nvalues : 1,
                            sizeof(*pl->wave_names));
    if (rank == NULL || pl->wave == NULL || pl->wave_names == NULL) {
        free(rank);
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    }
    rc = orch_wavecol_rank(key, cfg->wave_order,
                           inv->path ? inv->path : "inventory", rank, diag);
    for (i = 0; rc == 0 && i < inv->n; i++)
        pl->wave[i] = rank[key->of[i]];
    for (i = 0; rc == 0 && i < key->nvalues; i++)
        pl->wave_names[rank[i]] = key->values[i];
    pl->nwaves = (uint32_t)(key->nvalues ? key->nvalues : 1);
    free(rank);
    return rc;
}

/* The wave of each device (pl->wave NULL: all in wave 0). */
static int waves_of_devices(struct placing *pl,
                            const struct orch_inventory *inv,
                            const struct orch_config *cfg, const uint8_t *drop,
                            struct orch_diag *diag)
{
    pl->nwaves = 1;
    if (cfg->wave_column)
        return waves_from_column(pl, inv, cfg, diag);
    if (cfg->waves && cfg->wave_cut &&
        strcmp(cfg->wave_cut, ORCH_WAVE_CUT_EXACT) == 0)
        return waves_from_spec(pl, inv, cfg, drop, diag);
    return 0;
}

/* The zone group of each device: with --time-zone-column the index of
 * its cell's value (the distinct values in order of first appearance),
 * else one zone (pl->zone NULL). */
static int zones_of_devices(struct placing *pl,
                            const struct orch_inventory *inv,
                            const struct orch_config *cfg,
                            struct orch_diag *diag)
{
    const struct orch_inventory_key *key = &inv->keys[ORCH_INV_KEY_ZONE];

    pl->nzones = 1;
    if (cfg->time_zone_column == NULL || inv->n == 0)
        return 0;
    if (key->of == NULL)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--time-zone-column %s: the inventory was read "
                             "without it",
                             cfg->time_zone_column);
    pl->zone = key->of;
    pl->nzones = (uint32_t)(key->nvalues ? key->nvalues : 1);
    return 0;
}

static size_t group_of(const struct placing *pl,
                       const struct orch_inventory *inv, size_t i)
{
    size_t w = pl->wave ? pl->wave[i] : 0;
    size_t z = pl->zone ? pl->zone[i] : 0;

    return (w * inv->nproducts + inv->dev[i].product) * pl->nzones + z;
}

/* The firmware check: every product needs one before anything else. */
static int check_firmware(const struct orch_inventory *inv,
                          const struct orch_config *cfg,
                          struct orch_diag *diag)
{
    size_t p = 0;

    for (p = 0; p < inv->nproducts; p++) {
        if (orch_config_firmware_for(cfg, inv->products[p]) == NULL)
            return orch_diag_set(
                diag, ORCH_ECONFIG,
                "%s: no firmware for ProductKey \"%s\"; pass --firmware "
                "%s=FIRMWARE_ID (or --firmware-id when the inventory has one "
                "product)",
                inv->path ? inv->path : "inventory", inv->products[p],
                inv->products[p]);
    }
    return 0;
}

/* Orders the kept devices by group (stable) into plan->order; next[g]
 * ends as the end of group g's run. */
static void sort_by_group(struct orch_plan *plan, const struct placing *pl,
                          const struct orch_inventory *inv,
                          const uint8_t *drop, size_t *next, size_t ngroups)
{
    size_t i = 0, g = 0, start = 0;

    for (i = 0; i < inv->n; i++) {
        if (kept(drop, i))
            next[group_of(pl, inv, i)]++;
    }
    for (g = 0; g < ngroups; g++) {
        size_t count = next[g];

        next[g] = start;
        start += count;
    }
    for (i = 0; i < inv->n; i++) {
        if (kept(drop, i))
            plan->order[next[group_of(pl, inv, i)]++] = (uint32_t)i;
    }
}

/* Chunks of at most chunk devices over each group's run. With chunks
 * NULL only counts them. */
static size_t cut_chunks(struct orch_plan *plan, const struct placing *pl,
                         const struct orch_config *cfg, const size_t *end,
                         size_t ngroups, size_t chunk)
{
    const struct orch_inventory *inv = plan->inv;
    size_t g = 0, start = 0, c = 0;

    for (g = 0; g < ngroups; g++) {
        uint32_t p = (uint32_t)((g / pl->nzones) % inv->nproducts);
        uint32_t w = (uint32_t)(g / pl->nzones / inv->nproducts);
        uint32_t z = (uint32_t)(g % pl->nzones);
        const char *fw = orch_config_firmware_for(cfg, inv->products[p]);

        while (start < end[g]) {
            size_t count = end[g] - start < chunk ? end[g] - start : chunk;

            if (plan->chunks) {
                struct orch_chunk *ch = &plan->chunks[c];

                ch->index = (uint32_t)c;
                ch->product = p;
                ch->count = (uint32_t)count;
                ch->first = start;
                ch->firmware_id = fw;
                ch->wave = w;
                ch->zone = z;
            } else {
                plan->chunks_per_product[p]++;
            }
            start += count;
            c++;
        }
    }
    return c;
}

/* Builds the plan of the devices i with drop == NULL or drop[i] == 0. */
static int build(struct orch_plan *plan, const struct orch_inventory *inv,
                 const struct orch_config *cfg, const uint8_t *drop,
                 struct orch_diag *diag)
{
    struct placing pl;
    size_t *next = NULL;
    size_t ngroups = 0, chunk = 0;
    int rc = 0;

    memset(plan, 0, sizeof(*plan));
    memset(&pl, 0, sizeof(pl));
    plan->inv = inv;
    if (cfg->chunk_size < 1 || cfg->chunk_size > ORCH_MAX_CHUNK)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--chunk-size %d is outside 1..%d",
                             cfg->chunk_size, ORCH_MAX_CHUNK);
    chunk = (size_t)cfg->chunk_size;
    rc = check_firmware(inv, cfg, diag);
    if (rc == 0 && inv->n > 0)
        rc = waves_of_devices(&pl, inv, cfg, drop, diag);
    if (rc == 0)
        rc = zones_of_devices(&pl, inv, cfg, diag);
    if (rc)
        goto out;
    if (pl.nwaves == 0)
        pl.nwaves = 1;
    ngroups = (size_t)pl.nwaves * inv->nproducts * pl.nzones;
    plan->nwaves = pl.nwaves;
    plan->nzones = pl.nzones;
    plan->wave_names = pl.wave_names;
    pl.wave_names = NULL;
    plan->chunks_per_product = calloc(inv->nproducts ? inv->nproducts : 1,
                                      sizeof(*plan->chunks_per_product));
    next = calloc(ngroups ? ngroups : 1, sizeof(*next));
    plan->order = malloc((inv->n ? inv->n : 1) * sizeof(*plan->order));
    if (plan->chunks_per_product == NULL || next == NULL ||
        plan->order == NULL) {
        rc = orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
        goto out;
    }
    sort_by_group(plan, &pl, inv, drop, next, ngroups);
    plan->nchunks = cut_chunks(plan, &pl, cfg, next, ngroups, chunk);
    plan->chunks = calloc(plan->nchunks ? plan->nchunks : 1,
                          sizeof(*plan->chunks));
    if (plan->chunks == NULL) {
        rc = orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
        goto out;
    }
    cut_chunks(plan, &pl, cfg, next, ngroups, chunk);
out:
    free(next);
    free(pl.wave);
    free(pl.wave_names);
    if (rc)
        orch_plan_cleanup(plan);
    return rc;
}

int orch_plan_build(struct orch_plan *plan, const struct orch_inventory *inv,
                    const struct orch_config *cfg, struct orch_diag *diag)
{
    return build(plan, inv, cfg, NULL, diag);
}

int orch_plan_build_filtered(struct orch_plan *plan,
                             const struct orch_inventory *inv,
                             const struct orch_config *cfg,
                             const uint8_t *drop, struct orch_diag *diag)
{
    return build(plan, inv, cfg, drop, diag);
}

void orch_plan_cleanup(struct orch_plan *plan)
{
    if (plan == NULL)
        return;
    free(plan->order);
    free(plan->chunks);
    free(plan->chunks_per_product);
    free(plan->wave_names);
    memset(plan, 0, sizeof(*plan));
}

const char *orch_plan_device(const struct orch_plan *plan,
                             const struct orch_chunk *c, uint32_t j)
{
    return orch_inventory_name(plan->inv, plan->order[c->first + j]);
}

const char *orch_plan_product(const struct orch_plan *plan,
                              const struct orch_chunk *c)
{
    return plan->inv->products[c->product];
}
