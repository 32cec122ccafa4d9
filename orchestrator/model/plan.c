/* plan.c - split an inventory into per-product chunks of at most
 * cfg->chunk_size devices.
 *
 * DESIGN: one counting sort groups the device indices by product (stable,
 * so inventory order holds within a product); chunks are then consecutive
 * runs of that order. Chunk i is the i-th run in product order, which only
 * depends on the inventory and chunk_size: the same inputs always give the
 * same chunks (resume relies on this).
 */
#include "orch/model/plan.h"

#include "orch/model/config.h"
#include "orch/base/err.h"
#include "orch/model/inventory.h"

#include <stdlib.h>
#include <string.h>

/* Builds the plan of the devices i with drop == NULL or drop[i] == 0. */
static int build(struct orch_plan *plan, const struct orch_inventory *inv,
                 const struct orch_config *cfg, const uint8_t *drop,
                 struct orch_diag *diag)
{
    size_t *next = NULL;
    size_t i = 0, p = 0, c = 0, nchunks = 0;
    size_t chunk = 0;
    int rc = 0;

    memset(plan, 0, sizeof(*plan));
    plan->inv = inv;
    if (cfg->chunk_size < 1 || cfg->chunk_size > ORCH_MAX_CHUNK)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--chunk-size %d is outside 1..%d",
                             cfg->chunk_size, ORCH_MAX_CHUNK);
    chunk = (size_t)cfg->chunk_size;

    /* Every product needs firmware before anything else is computed. */
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

    plan->chunks_per_product = calloc(inv->nproducts ? inv->nproducts : 1,
                                      sizeof(*plan->chunks_per_product));
    next = calloc(inv->nproducts ? inv->nproducts : 1, sizeof(*next));
    plan->order = malloc((inv->n ? inv->n : 1) * sizeof(*plan->order));
    if (plan->chunks_per_product == NULL || next == NULL ||
        plan->order == NULL) {
        rc = orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
        goto out;
    }

    /* Counting sort by product: count, prefix sums, place. */
    for (i = 0; i < inv->n; i++) {
        if (drop == NULL || drop[i] == 0)
            next[inv->dev[i].product]++;
    }
    for (p = 0; p < inv->nproducts; p++) {
        size_t count = next[p];
        plan->chunks_per_product[p] = (count + chunk - 1) / chunk;
        nchunks += plan->chunks_per_product[p];
    }
    {
        size_t start = 0;
        for (p = 0; p < inv->nproducts; p++) {
            size_t count = next[p];
            next[p] = start;
            start += count;
        }
    }
    for (i = 0; i < inv->n; i++) {
        if (drop == NULL || drop[i] == 0)
            plan->order[next[inv->dev[i].product]++] = (uint32_t)i;
    }

    plan->chunks = calloc(nchunks ? nchunks : 1, sizeof(*plan->chunks));
    if (plan->chunks == NULL) {
        rc = orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
        goto out;
    }
    {
        size_t start = 0;
        for (p = 0; p < inv->nproducts; p++) {
            /* next[p] is now the end of product p's run. */
            size_t end = next[p];
            const char *fw = orch_config_firmware_for(cfg, inv->products[p]);
            while (start < end) {
                struct orch_chunk *ch = &plan->chunks[c];
                size_t count = end - start < chunk ? end - start : chunk;
                ch->index = (uint32_t)c;
                ch->product = (uint32_t)p;
                ch->count = (uint32_t)count;
                ch->first = start;
                ch->firmware_id = fw;
                start += count;
                c++;
            }
        }
    }
    plan->nchunks = nchunks;
out:
    free(next);
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
