/* torture_plan.c - an inventory loaded from a string, and its plan. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/model/config.h"
#include "orch/model/inventory.h"
#include "orch/model/plan.h"
#include "torture.h"

#include <string.h>

void torture_load_inventory(struct orch_inventory *inv, const char *csv,
                            const struct orch_inventory_opts *opts)
{
    static const struct orch_inventory_opts none;
    struct orch_diag diag = {{0}};

    orch_inventory_init(inv);
    assert_int_equal(orch_inventory_load_mem(inv, "t.csv", csv, strlen(csv),
                                             opts ? opts : &none, &diag),
                     0);
}

void torture_plan(struct orch_plan *plan, struct orch_inventory *inv,
                  const struct orch_config *cfg, const char *csv,
                  const struct orch_inventory_opts *opts)
{
    struct orch_diag diag = {{0}};

    torture_load_inventory(inv, csv, opts);
    memset(plan, 0, sizeof(*plan));
    assert_int_equal(orch_plan_build(plan, inv, cfg, &diag), 0);
}

void torture_plan_cleanup(struct orch_plan *plan, struct orch_inventory *inv,
                          struct orch_config *cfg)
{
    orch_plan_cleanup(plan);
    orch_inventory_cleanup(inv);
    orch_config_cleanup(cfg);
}
