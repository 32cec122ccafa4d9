/* test_invfilter.c - the plan from the spreadsheet: --where parsing and
 * matching, filters while loading, the wave column and its order
 * (invfilter.h, inventory.h's named columns, wavecol.h, invopts.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/model/config.h"
#include "orch/model/invfilter.h"
#include "orch/model/inventory.h"
#include "orch/model/invopts.h"
#include "orch/model/plan.h"
#include "orch/model/wavecol.h"
#include "orch/model/waves.h"
#include "torture.h"

#include <stdlib.h>
#include <string.h>

/* A spreadsheet with extra columns, in the header's own spelling. */
static const char sheet[] =
    "Device Name,product_key,Site,Region,Model,Wave\n"
    "dev-0001,pkA,Berlin,eu,m1,2\n"
    "dev-0002,pkA,Hamburg,eu,m2,10\n"
    "dev-0003,pkB,Shanghai,cn,m1,1\n"
    "dev-0004,pkA,berlin,eu,m1,2\n"
    "dev-0005,pkB,Berlin,eu,m2,1\n"
    "dev-0006,pkA,Austin,us,m1,10\n";

static void where_parse(void **state)
{
    struct orch_where w;
    struct orch_diag d = {{0}};

    (void)state;
    assert_int_equal(orch_where_parse(" site = Berlin , Hamburg", &w, &d), 0);
    assert_string_equal(w.column, "site");
    assert_int_equal(w.nvalues, 2);
    assert_string_equal(w.values[0], "Berlin");
    assert_string_equal(w.values[1], "Hamburg");
    assert_true(orch_where_match(&w, "Hamburg", 7));
    /* Case-sensitive, whole value. */
    assert_false(orch_where_match(&w, "berlin", 6));
    assert_false(orch_where_match(&w, "Berli", 5));
    orch_where_cleanup(&w);
    assert_int_equal(orch_where_parse("site", &w, &d), ORCH_ECONFIG);
    assert_non_null(strstr(d.msg, "COLUMN=VALUE"));
    orch_where_cleanup(&w);
    assert_int_equal(orch_where_parse("=x", &w, &d), ORCH_ECONFIG);
    orch_where_cleanup(&w);
    assert_int_equal(orch_where_parse("site=a,,b", &w, &d), ORCH_ECONFIG);
    assert_non_null(strstr(d.msg, "empty value"));
    orch_where_cleanup(&w);
}

/* Loads sheet through a config's --where and --wave-column. */
static int load(struct orch_inventory *inv, const char *csv,
                struct orch_config *cfg, struct orch_diag *d)
{
    struct orch_invopts io;
    int rc = orch_invopts_init(&io, cfg, d);

    orch_inventory_init(inv);
    if (rc == 0)
        rc = orch_inventory_load_mem(inv, "sheet.csv", csv, strlen(csv),
                                     &io.opts, d);
    orch_invopts_cleanup(&io);
    return rc;
}

static void add_where(struct orch_config *cfg, const char *w)
{
    cfg->where[cfg->n_where++] = strdup(w);
}

static void where_filters_rows(void **state)
{
    struct orch_config cfg;
    struct orch_inventory inv;
    struct orch_diag d = {{0}};

    (void)state;
    orch_config_init(&cfg);
    /* Values of one filter are alternatives; filters must all hold;
     * column names match as the other columns do. */
    add_where(&cfg, "SITE=Berlin,Hamburg");
    add_where(&cfg, "model=m1");
    assert_int_equal(load(&inv, sheet, &cfg, &d), 0);
    assert_int_equal(inv.rows, 6);
    assert_int_equal(inv.n, 1);
    assert_string_equal(orch_inventory_name(&inv, 0), "dev-0001");
    assert_int_equal(inv.where_kept[0], 3);
    assert_int_equal(inv.where_kept[1], 1);
    assert_int_equal(inv.filtered, 5);
    /* Left out rows are not rejected. */
    assert_int_equal(inv.rejected, 0);
    orch_inventory_cleanup(&inv);

    /* A filter that keeps nothing. */
    free(cfg.where[1]);
    cfg.where[1] = strdup("region=cn");
    assert_int_equal(load(&inv, sheet, &cfg, &d), ORCH_ECSV);
    assert_non_null(strstr(d.msg, "--where region=cn keeps no row (of 3"));
    orch_inventory_cleanup(&inv);

    /* A column the file does not have: the columns there are. */
    free(cfg.where[1]);
    cfg.where[1] = strdup("country=de");
    assert_int_equal(load(&inv, sheet, &cfg, &d), ORCH_ECSV);
    assert_non_null(strstr(d.msg, "sheet.csv:1: --where country=de"));
    assert_non_null(strstr(d.msg, "\"Site\", \"Region\""));
    orch_inventory_cleanup(&inv);
    orch_config_cleanup(&cfg);
}

/* Invalid rows the filter leaves out are not looked at. */
static void where_before_rules(void **state)
{
    struct orch_config cfg;
    struct orch_inventory inv;
    struct orch_diag d = {{0}};
    static const char csv[] = "DeviceName,ProductKey,site\n"
                              "x,pkA,other\n"
                              "dev-0001,pkA,here\n";

    (void)state;
    orch_config_init(&cfg);
    add_where(&cfg, "site=here");
    assert_int_equal(load(&inv, csv, &cfg, &d), 0);
    assert_int_equal(inv.n, 1);
    assert_int_equal(inv.filtered, 1);
    orch_inventory_cleanup(&inv);
    orch_config_cleanup(&cfg);
}

static void wave_column_values(void **state)
{
    struct orch_config cfg;
    struct orch_inventory inv;
    struct orch_diag d = {{0}};
    const struct orch_inventory_key *k = NULL;
    static const char dup[] = "DeviceName,ProductKey,wave\n"
                              "dev-0001,pkA,b\n"
                              "dev-0002,pkA,a\n"
                              "dev-0001,pkA,c\n"
                              "dev-0003,pkA,c\n";

    (void)state;
    orch_config_init(&cfg);
    cfg.wave_column = strdup("wave");
    assert_int_equal(load(&inv, sheet, &cfg, &d), 0);
    k = &inv.keys[ORCH_INV_KEY_WAVE];
    assert_int_equal(k->nvalues, 3);
    assert_string_equal(k->values[0], "2");
    assert_string_equal(k->values[1], "10");
    assert_string_equal(k->values[2], "1");
    assert_int_equal(k->line[2], 4);
    assert_int_equal(k->of[5], 1);
    orch_inventory_cleanup(&inv);

    /* A duplicate row's value goes with the row that is dropped. */
    assert_int_equal(load(&inv, dup, &cfg, &d), 0);
    k = &inv.keys[ORCH_INV_KEY_WAVE];
    assert_int_equal(inv.n, 3);
    assert_string_equal(k->values[k->of[2]], "c");
    assert_string_equal(k->values[k->of[0]], "b");
    orch_inventory_cleanup(&inv);

    /* An empty cell stops the load at its line. */
    assert_int_equal(load(&inv,
                          "DeviceName,ProductKey,wave\n"
                          "dev-0001,pkA,1\n"
                          "dev-0002,pkA,\n",
                          &cfg, &d),
                     ORCH_ECSV);
    assert_non_null(strstr(d.msg, "sheet.csv:3: column \"wave\" is empty"));
    orch_inventory_cleanup(&inv);
    /* A column the file does not have. */
    free(cfg.wave_column);
    cfg.wave_column = strdup("stage");
    assert_int_equal(load(&inv, sheet, &cfg, &d), ORCH_ECSV);
    assert_non_null(strstr(d.msg, "--wave-column stage"));
    assert_non_null(strstr(d.msg, "\"Wave\""));
    orch_inventory_cleanup(&inv);
    orch_config_cleanup(&cfg);
}

static void wave_order(void **state)
{
    struct orch_inventory_key k;
    char *vals[] = {"rest", "10", "canary", "2", "early"};
    uint32_t lines[] = {2, 3, 4, 5, 6};
    uint32_t w[5];
    struct orch_diag d = {{0}};

    (void)state;
    memset(&k, 0, sizeof(k));
    k.values = vals;
    k.line = lines;
    k.nvalues = 5;
    /* Numbers numerically first, then the others as they came. */
    assert_int_equal(orch_wavecol_rank(&k, NULL, "f.csv", w, &d), 0);
    assert_int_equal(w[3], 0); /* 2 */
    assert_int_equal(w[1], 1); /* 10 */
    assert_int_equal(w[0], 2); /* rest */
    assert_int_equal(w[2], 3); /* canary */
    assert_int_equal(w[4], 4); /* early */
    /* --wave-order; a listed value no row has makes no wave. */
    k.nvalues = 3;
    vals[1] = "early";
    assert_int_equal(
        orch_wavecol_rank(&k, "canary, early,late,rest", "f.csv", w, &d), 0);
    assert_int_equal(w[2], 0);
    assert_int_equal(w[1], 1);
    assert_int_equal(w[0], 2);
    /* A value missing from the list: file and line of its first row. */
    assert_int_equal(orch_wavecol_rank(&k, "canary,rest", "f.csv", w, &d),
                     ORCH_ECSV);
    assert_non_null(strstr(d.msg, "f.csv:3: wave \"early\" is not in "
                                  "--wave-order canary,rest"));
}

static void plan_from_wave_column(void **state)
{
    struct orch_config cfg;
    struct orch_inventory inv;
    struct orch_plan plan;
    struct orch_wave_plan wp;
    struct orch_diag d = {{0}};

    (void)state;
    orch_config_init(&cfg);
    torture_config_add_firmware(&cfg, "pkA", "FW-A");
    torture_config_add_firmware(&cfg, "pkB", "FW-B");
    cfg.wave_column = strdup("wave");
    assert_int_equal(load(&inv, sheet, &cfg, &d), 0);
    assert_int_equal(orch_plan_build(&plan, &inv, &cfg, &d), 0);
    /* Wave 1 (value 1): dev-0003 (pkB) and dev-0005 (pkB); wave 2
     * (value 2): dev-0001, dev-0004 (pkA); wave 3 (10): dev-0002,
     * dev-0006 (pkA). */
    assert_int_equal(plan.nwaves, 3);
    assert_string_equal(plan.wave_names[0], "1");
    assert_string_equal(plan.wave_names[2], "10");
    assert_int_equal(plan.nchunks, 3);
    assert_int_equal(plan.chunks[0].wave, 0);
    assert_string_equal(orch_plan_product(&plan, &plan.chunks[0]), "pkB");
    assert_string_equal(orch_plan_device(&plan, &plan.chunks[0], 1),
                        "dev-0005");
    assert_string_equal(orch_plan_device(&plan, &plan.chunks[2], 1),
                        "dev-0006");
    assert_int_equal(orch_waves_from_plan(plan.chunks, plan.nchunks,
                                          plan.nwaves, &wp, &d),
                     0);
    assert_int_equal(wp.n, 3);
    assert_int_equal(wp.w[1].devices, 2);
    orch_plan_cleanup(&plan);
    /* --wave-order missing a value: ORCH_ECSV at the plan. */
    cfg.wave_order = strdup("1,2");
    assert_int_equal(orch_plan_build(&plan, &inv, &cfg, &d), ORCH_ECSV);
    assert_non_null(strstr(d.msg, "sheet.csv:3: wave \"10\""));
    orch_inventory_cleanup(&inv);
    orch_config_cleanup(&cfg);
}

/* --time-zone-column: each device's zone group is its zone's index in
 * the column (order of first appearance); chunks never mix zones and are
 * ordered wave, product, zone; an empty cell stops the load at its line. */
static void plan_from_time_zone_column(void **state)
{
    struct orch_config cfg;
    struct orch_inventory inv;
    struct orch_plan plan;
    struct orch_diag d = {{0}};
    static const char zoned[] =
        "DeviceName,ProductKey,Time Zone\n"
        "dev-0001,pkA,Europe/Berlin\n"
        "dev-0002,pkA,Asia/Shanghai\n"
        "dev-0003,pkA,Europe/Berlin\n"
        "dev-0004,pkA,America/New_York\n"
        "dev-0005,pkA,Asia/Shanghai\n"
        "dev-0006,pkA,Europe/Berlin\n";
    size_t i = 0;
    uint32_t j = 0;

    (void)state;
    orch_config_init(&cfg);
    cfg.chunk_size = 2;
    torture_config_add_firmware(&cfg, "pkA", "FW-A");
    cfg.time_zone_column = strdup("time_zone");
    assert_int_equal(load(&inv, zoned, &cfg, &d), 0);
    assert_int_equal(orch_plan_build(&plan, &inv, &cfg, &d), 0);
    assert_int_equal(plan.nzones, 3);
    /* Berlin (3 devices: 2 chunks), Shanghai (2: 1), New York (1: 1). */
    assert_int_equal(plan.nchunks, 4);
    for (i = 0; i < plan.nchunks; i++) {
        const struct orch_chunk *c = &plan.chunks[i];

        for (j = 0; j < c->count; j++)
            assert_int_equal(
                inv.keys[ORCH_INV_KEY_ZONE].of[plan.order[c->first + j]],
                c->zone);
    }
    assert_int_equal(plan.chunks[0].zone, 0);
    assert_int_equal(plan.chunks[1].zone, 0);
    assert_string_equal(orch_plan_device(&plan, &plan.chunks[1], 0),
                        "dev-0006");
    assert_int_equal(plan.chunks[2].zone, 1);
    assert_int_equal(plan.chunks[3].zone, 2);
    assert_string_equal(inv.keys[ORCH_INV_KEY_ZONE].values[2],
                        "America/New_York");
    orch_plan_cleanup(&plan);
    orch_inventory_cleanup(&inv);
    assert_int_equal(load(&inv,
                          "DeviceName,ProductKey,tz\n"
                          "dev-0001,pkA,Europe/Berlin\n"
                          "dev-0002,pkA,\n",
                          &cfg, &d),
                     ORCH_ECSV);
    assert_non_null(strstr(d.msg, "sheet.csv:1: --time-zone-column "
                                  "time_zone: the header has no such "
                                  "column"));
    orch_inventory_cleanup(&inv);
    free(cfg.time_zone_column);
    cfg.time_zone_column = strdup("tz");
    assert_int_equal(load(&inv,
                          "DeviceName,ProductKey,tz\n"
                          "dev-0001,pkA,Europe/Berlin\n"
                          "dev-0002,pkA,\n",
                          &cfg, &d),
                     ORCH_ECSV);
    assert_non_null(strstr(d.msg, "sheet.csv:3: column \"tz\" is empty; "
                                  "--time-zone-column needs"));
    orch_inventory_cleanup(&inv);
    orch_config_cleanup(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(where_parse),
        cmocka_unit_test(where_filters_rows),
        cmocka_unit_test(where_before_rules),
        cmocka_unit_test(wave_column_values),
        cmocka_unit_test(wave_order),
        cmocka_unit_test(plan_from_wave_column),
        cmocka_unit_test(plan_from_time_zone_column),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
