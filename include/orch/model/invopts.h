/* invopts.h - the inventory load a config asks for: delimiter, invalid
 * rows, the default ProductKey, the --where filters and the named
 * columns (--wave-column, --time-zone-column). Every command that reads an inventory for a
 * run (run, plan, the overlap check's rebuild of another run) loads it
 * through this, so that a run and its resume read the same rows.
 *
 * struct orch_invopts is caller-owned: orch_invopts_init, then
 * orch_invopts_cleanup; opts points into it (the filters) and into cfg
 * (column names), both of which must outlive the load. Not thread-safe.
 */
#ifndef ORCH_INVOPTS_H
#define ORCH_INVOPTS_H

#include "orch/model/invfilter.h"
#include "orch/model/inventory.h"

struct orch_config;
struct orch_diag;

struct orch_invopts {
    struct orch_inventory_opts opts; /* for orch_inventory_load */
    struct orch_where where[ORCH_WHERE_MAX];
};

/* Fills io from cfg (the reject callback and problem list are the
 * caller's to add). Returns 0, ORCH_ECONFIG with diag (a --where that
 * does not parse) or ORCH_ENOMEM; io must be cleaned up either way. */
int orch_invopts_init(struct orch_invopts *io, const struct orch_config *cfg,
                      struct orch_diag *diag);
void orch_invopts_cleanup(struct orch_invopts *io);

#endif
