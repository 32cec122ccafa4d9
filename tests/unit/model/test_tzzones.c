/* test_tzzones.c - the zones of a plan's zone groups: --time-zone, each
 * distinct value of --time-zone-column loaded once, an unknown or
 * malformed zone named with its file and line (tzzones.h). Reads the
 * system's tz database (tzdata). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/model/config.h"
#include "orch/model/inventory.h"
#include "orch/model/invopts.h"
#include "orch/model/tzdb.h"
#include "orch/model/tzzones.h"

#include <stdlib.h>
#include <string.h>

#define ZONEINFO "/usr/share/zoneinfo"

static int load(struct orch_inventory *inv, const char *csv,
                const struct orch_config *cfg, struct orch_diag *d)
{
    struct orch_invopts io;
    int rc = orch_invopts_init(&io, cfg, d);

    orch_inventory_init(inv);
    if (rc == 0)
        rc = orch_inventory_load_mem(inv, "fleet.csv", csv, strlen(csv),
                                     &io.opts, d);
    orch_invopts_cleanup(&io);
    return rc;
}

static void column_zones_loaded_once(void **state)
{
    struct orch_config cfg;
    struct orch_inventory inv;
    struct orch_tzzones z;
    struct orch_diag d = {{0}};
    static const char csv[] = "DeviceName,ProductKey,tz\n"
                              "dev-0001,pkA,Europe/Berlin\n"
                              "dev-0002,pkA,Asia/Shanghai\n"
                              "dev-0003,pkA,Europe/Berlin\n"
                              "dev-0004,pkA,America/New_York\n"
                              "dev-0005,pkA,Asia/Shanghai\n";

    (void)state;
    orch_config_init(&cfg);
    cfg.time_zone_column = strdup("TZ");
    assert_int_equal(load(&inv, csv, &cfg, &d), 0);
    assert_int_equal(orch_tzzones_load(&z, &cfg, &inv, ZONEINFO, &d), 0);
    assert_int_equal(z.n, 3);
    assert_string_equal(orch_tz_name(z.tz[0]), "Europe/Berlin");
    assert_string_equal(orch_tz_name(z.tz[1]), "Asia/Shanghai");
    assert_string_equal(orch_tz_name(z.tz[2]), "America/New_York");
    /* 2027-01-15T12:00:00Z: CET +1, CST +8, EST -5. */
    assert_int_equal(orch_tz_offset(z.tz[0], 1800014400), 3600);
    assert_int_equal(orch_tz_offset(z.tz[1], 1800014400), 8 * 3600);
    assert_int_equal(orch_tz_offset(z.tz[2], 1800014400), -5 * 3600);
    orch_tzzones_cleanup(&z);
    assert_null(z.tz);
    orch_inventory_cleanup(&inv);
    orch_config_cleanup(&cfg);
}

static void unknown_zone_names_its_line(void **state)
{
    struct orch_config cfg;
    struct orch_inventory inv;
    struct orch_tzzones z;
    struct orch_diag d = {{0}};
    static const char typo[] = "DeviceName,ProductKey,tz\n"
                               "dev-0001,pkA,Europe/Berlin\n"
                               "dev-0002,pkA,Europe/Berlin\n"
                               "dev-0003,pkA,Asia/Shangai\n"
                               "dev-0004,pkA,Asia/Shangai\n";
    static const char escape[] = "DeviceName,ProductKey,tz\n"
                                 "dev-0001,pkA,../../etc/passwd\n";

    (void)state;
    orch_config_init(&cfg);
    cfg.time_zone_column = strdup("tz");
    assert_int_equal(load(&inv, typo, &cfg, &d), 0);
    assert_int_equal(orch_tzzones_load(&z, &cfg, &inv, ZONEINFO, &d),
                     ORCH_ENOTFOUND);
    assert_non_null(strstr(d.msg, "fleet.csv:4: --time-zone-column tz: "
                                  "unknown time zone \"Asia/Shangai\""));
    orch_tzzones_cleanup(&z);
    orch_inventory_cleanup(&inv);
    assert_int_equal(load(&inv, escape, &cfg, &d), 0);
    assert_int_equal(orch_tzzones_load(&z, &cfg, &inv, ZONEINFO, &d),
                     ORCH_ENOTFOUND);
    assert_non_null(strstr(d.msg, "fleet.csv:2: --time-zone-column tz: "));
    assert_non_null(strstr(d.msg, "is not a time zone name"));
    orch_tzzones_cleanup(&z);
    orch_inventory_cleanup(&inv);
    orch_config_cleanup(&cfg);
}

static void one_zone_for_every_row(void **state)
{
    struct orch_config cfg;
    struct orch_inventory inv;
    struct orch_tzzones z;
    struct orch_diag d = {{0}};

    (void)state;
    orch_config_init(&cfg);
    orch_inventory_init(&inv);
    cfg.time_zone = strdup("Asia/Kathmandu");
    assert_int_equal(orch_tzzones_load(&z, &cfg, &inv, ZONEINFO, &d), 0);
    assert_int_equal(z.n, 1);
    assert_string_equal(orch_tz_name(z.tz[0]), "Asia/Kathmandu");
    orch_tzzones_cleanup(&z);
    free(cfg.time_zone);
    cfg.time_zone = strdup("Europe/Atlantis");
    assert_int_equal(orch_tzzones_load(&z, &cfg, &inv, ZONEINFO, &d),
                     ORCH_ENOTFOUND);
    assert_non_null(strstr(d.msg, "--time-zone: unknown time zone "
                                  "\"Europe/Atlantis\""));
    orch_tzzones_cleanup(&z);
    orch_tzzones_cleanup(NULL);
    orch_inventory_cleanup(&inv);
    orch_config_cleanup(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(column_zones_loaded_once),
        cmocka_unit_test(unknown_zone_names_its_line),
        cmocka_unit_test(one_zone_for_every_row),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
