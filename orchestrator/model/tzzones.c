/* tzzones.c - the time zones of a plan's zone groups (tzzones.h). */
#include "orch/model/tzzones.h"

#include "orch/base/err.h"
#include "orch/model/config.h"
#include "orch/model/inventory.h"
#include "orch/model/tzdb.h"

#include <stdlib.h>
#include <string.h>

static int alloc_zones(struct orch_tzzones *z, size_t n,
                       struct orch_diag *diag)
{
    z->tz = calloc(n ? n : 1, sizeof(*z->tz));
    if (z->tz == NULL)
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    z->n = n;
    return 0;
}

/* --time-zone: one zone for every device. */
static int load_one(struct orch_tzzones *z, const char *name, const char *dir,
                    struct orch_diag *diag)
{
    struct orch_diag why = {{0}};
    int rc = alloc_zones(z, 1, diag);

    if (rc == 0)
        rc = orch_tz_load(name, dir, &z->tz[0], &why);
    if (rc == ORCH_ENOMEM)
        return orch_diag_set(diag, rc, "out of memory");
    if (rc)
        return orch_diag_set(diag, rc, "--time-zone: %s", why.msg);
    return 0;
}

/* --time-zone-column: the zone of each distinct value, named at the
 * first row that has it. */
static int load_column(struct orch_tzzones *z, const struct orch_config *cfg,
                       const struct orch_inventory *inv, const char *dir,
                       struct orch_diag *diag)
{
    const struct orch_inventory_key *key = &inv->keys[ORCH_INV_KEY_ZONE];
    struct orch_diag why = {{0}};
    size_t v = 0;
    int rc = 0;

    if (inv->n > 0 && key->of == NULL)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--time-zone-column %s: the inventory was read "
                             "without it",
                             cfg->time_zone_column);
    rc = alloc_zones(z, key->nvalues, diag);
    for (v = 0; rc == 0 && v < key->nvalues; v++) {
        rc = orch_tz_load(key->values[v], dir, &z->tz[v], &why);
        if (rc == ORCH_ENOMEM)
            return orch_diag_set(diag, rc, "out of memory");
        if (rc)
            return orch_diag_set(diag, rc, "%s:%u: --time-zone-column %s: %s",
                                 inv->path ? inv->path : "inventory",
                                 key->line[v], cfg->time_zone_column,
                                 why.msg);
    }
    return rc;
}

int orch_tzzones_load(struct orch_tzzones *z, const struct orch_config *cfg,
                      const struct orch_inventory *inv, const char *dir,
                      struct orch_diag *diag)
{
    memset(z, 0, sizeof(*z));
    if (cfg->time_zone)
        return load_one(z, cfg->time_zone, dir, diag);
    if (cfg->time_zone_column)
        return load_column(z, cfg, inv, dir, diag);
    return orch_diag_set(diag, ORCH_ECONFIG,
                         "--window: needs --time-zone or "
                         "--time-zone-column");
}

void orch_tzzones_cleanup(struct orch_tzzones *z)
{
    size_t i = 0;

    if (z == NULL)
        return;
    for (i = 0; z->tz && i < z->n; i++)
        orch_tz_free(z->tz[i]);
    free(z->tz);
    memset(z, 0, sizeof(*z));
}
