/* invopts.c - the inventory load a config asks for (invopts.h). */
#include "orch/model/invopts.h"

#include "orch/base/err.h"
#include "orch/model/config.h"

#include <string.h>

int orch_invopts_init(struct orch_invopts *io, const struct orch_config *cfg,
                      struct orch_diag *diag)
{
    size_t f = 0;
    int rc = 0;

    memset(io, 0, sizeof(*io));
    io->opts.delimiter = cfg->delimiter;
    io->opts.skip_invalid = cfg->skip_invalid;
    io->opts.default_product_key = cfg->product_key;
    io->opts.key_column[ORCH_INV_KEY_WAVE] = cfg->wave_column;
    io->opts.key_option[ORCH_INV_KEY_WAVE] = "--wave-column";
    io->opts.key_column[ORCH_INV_KEY_ZONE] = cfg->time_zone_column;
    io->opts.key_option[ORCH_INV_KEY_ZONE] = "--time-zone-column";
    io->opts.where = io->where;
    for (f = 0; f < cfg->n_where && f < ORCH_WHERE_MAX && rc == 0; f++) {
        rc = orch_where_parse(cfg->where[f], &io->where[f], diag);
        io->opts.nwhere = f + 1;
    }
    return rc;
}

void orch_invopts_cleanup(struct orch_invopts *io)
{
    size_t f = 0;

    if (io == NULL)
        return;
    for (f = 0; f < ORCH_WHERE_MAX; f++)
        orch_where_cleanup(&io->where[f]);
    memset(io, 0, sizeof(*io));
}
