/* test_devcheck.c - the device check's decisions with canned answers:
 * devices missing or already upgraded, the cost estimate, and the
 * filtered plan. No network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/model/config.h"
#include "orch/model/inventory.h"
#include "orch/model/plan.h"
#include "orch/rollout/devcheck.h"
#include "torture.h"

struct drops {
    char lines[8][128];
    size_t n;
    int fail_at; /* 1-based call that returns nonzero; 0 never */
};

static int on_drop(void *ud, uint32_t line, const char *value,
                   const char *reason)
{
    struct drops *d = ud;

    if (d->n < 8)
        snprintf(d->lines[d->n], sizeof(d->lines[0]), "%u|%s|%s",
                 (unsigned)line, value, reason);
    d->n++;
    return d->fail_at && (int)d->n == d->fail_at;
}

static const char inv_csv[] = "DeviceName,ProductKey\n"
                              "dev-0001,pkA\n"
                              "dev-0002,pkA\n"
                              "dev-gone,pkA\n"
                              "dev-0004,pkA\n";

static json_t *answer(void)
{
    /* dev-gone is omitted (does not exist); dev-0002 is on 2.0.0. */
    json_t *root = json_loads(
        "{\"Success\":true,\"Data\":{\"Data\":["
        "{\"DeviceName\":\"dev-0001\",\"FirmwareVersion\":\"1.0.0\","
        "\"DeviceSecret\":\"x\"},"
        "{\"DeviceName\":\"dev-0002\",\"FirmwareVersion\":\"2.0.0\"},"
        "{\"DeviceName\":\"dev-0004\"}]}}",
        0, NULL);

    assert_non_null(root);
    return root;
}

/* The four devices of inv_csv judged against answer() for version dest
 * (NULL: existence only), each drop handed to j->d (which fails its
 * fail_at-th call) when writer. Returns the judge's rc; j->inv is the
 * caller's to clean up. */
struct judged {
    struct orch_inventory inv;
    struct orch_device_check_stats st;
    struct drops d;
    uint8_t drop[4];
};

static int judge(struct judged *j, const char *dest, bool writer,
                 int fail_at)
{
    struct orch_device_check_opts opts;
    uint32_t idx[4] = {0, 1, 2, 3};
    json_t *root = answer();
    int rc = 0;

    memset(j, 0, sizeof(*j));
    memset(&opts, 0, sizeof(opts));
    torture_load_inventory(&j->inv, inv_csv, NULL);
    j->d.fail_at = fail_at;
    opts.on_drop = on_drop;
    opts.ud = &j->d;
    rc = orch_preflight_judge_devices(&j->inv, idx, 4, root, dest,
                                      writer ? &opts : NULL, j->drop, &j->st);
    json_decref(root);
    return rc;
}

static void devices_missing_and_up_to_date_are_dropped(void **state)
{
    struct judged j;

    (void)state;
    assert_int_equal(judge(&j, "2.0.0", true, 0), 0);
    assert_int_equal(j.drop[0], 0);
    assert_int_equal(j.drop[1], 1);
    assert_int_equal(j.drop[2], 1);
    assert_int_equal(j.drop[3], 0); /* no FirmwareVersion: kept */
    assert_int_equal(j.st.checked, 4);
    assert_int_equal(j.st.missing, 1);
    assert_int_equal(j.st.up_to_date, 1);
    assert_int_equal(j.d.n, 2);
    /* Inventory lines: header is line 1. */
    assert_string_equal(j.d.lines[0], "3|dev-0002|already on version 2.0.0");
    assert_string_equal(j.d.lines[1], "4|dev-gone|device does not exist");
    orch_inventory_cleanup(&j.inv);
}

static void devices_without_dest_version_check_existence_only(void **state)
{
    struct judged j;
    uint32_t idx[4] = {0, 1, 2, 3};
    json_t *root = NULL;

    (void)state;
    assert_int_equal(judge(&j, NULL, false, 0), 0);
    assert_int_equal(j.drop[1], 0);
    assert_int_equal(j.drop[2], 1);
    assert_int_equal(j.st.missing, 1);
    assert_int_equal(j.st.up_to_date, 0);
    /* An answer without a list: every device is missing. */
    root = json_loads("{\"Success\":true,\"Data\":{}}", 0, NULL);
    memset(j.drop, 0, sizeof(j.drop));
    memset(&j.st, 0, sizeof(j.st));
    assert_int_equal(orch_preflight_judge_devices(&j.inv, idx, 4, root, NULL,
                                                  NULL, j.drop, &j.st),
                     0);
    assert_int_equal(j.st.missing, 4);
    json_decref(root);
    orch_inventory_cleanup(&j.inv);
}

static void devices_reject_writer_failure_stops(void **state)
{
    struct judged j;

    (void)state;
    assert_int_equal(judge(&j, "2.0.0", true, 1), ORCH_EIO);
    assert_int_equal(j.d.n, 1);
    orch_inventory_cleanup(&j.inv);
}

/* n devices of pkA then m of pkB. */
static void load_two(struct orch_inventory *inv, size_t n, size_t m)
{
    char *csv = malloc((n + m) * 32 + 64);
    size_t off = 0, i = 0;

    assert_non_null(csv);
    off += (size_t)sprintf(csv + off, "DeviceName,ProductKey\n");
    for (i = 0; i < n + m; i++)
        off += (size_t)sprintf(csv + off, "dev-%06zu,%s\n", i,
                               i < n ? "pkA" : "pkB");
    torture_load_inventory(inv, csv, NULL);
    free(csv);
}

static void device_cost_per_product(void **state)
{
    struct orch_inventory inv;
    struct orch_config cfg;
    struct orch_plan plan;
    struct orch_diag diag;
    size_t calls = 0;
    double secs = 0;

    (void)state;
    load_two(&inv, 250, 50);
    orch_config_init(&cfg);
    cfg.firmware_id = strdup("FwAny");
    assert_int_equal(orch_plan_build(&plan, &inv, &cfg, &diag), 0);
    orch_preflight_device_cost(&plan, &calls, &secs);
    /* pkA: 100+100+50, pkB: 50 -> 4 calls at 5/s. */
    assert_int_equal(calls, 4);
    assert_true(secs > 0.79 && secs < 0.81);
    orch_preflight_device_cost(NULL, &calls, &secs);
    assert_int_equal(calls, 0);
    torture_plan_cleanup(&plan, &inv, &cfg);
}

static void filtered_plan_leaves_dropped_devices_out(void **state)
{
    struct orch_inventory inv;
    struct orch_config cfg;
    struct orch_plan plan;
    struct orch_diag diag;
    uint8_t *drop = NULL;
    size_t i = 0, total = 0;

    (void)state;
    load_two(&inv, 250, 3);
    orch_config_init(&cfg);
    cfg.firmware_id = strdup("FwAny");
    cfg.chunk_size = 100;
    drop = calloc(inv.n, 1);
    assert_non_null(drop);
    for (i = 0; i < 60; i++)
        drop[i * 2] = 1;             /* 60 of pkA */
    drop[250] = drop[251] = drop[252] = 1; /* all of pkB */
    assert_int_equal(orch_plan_build_filtered(&plan, &inv, &cfg, drop, &diag),
                     0);
    assert_int_equal(plan.nchunks, 2); /* 190 devices of pkA */
    assert_int_equal(plan.chunks[0].count, 100);
    assert_int_equal(plan.chunks[1].count, 90);
    assert_int_equal(plan.chunks_per_product[1], 0);
    for (i = 0; i < plan.nchunks; i++) {
        uint32_t j = 0;

        for (j = 0; j < plan.chunks[i].count; j++) {
            uint32_t d = plan.order[plan.chunks[i].first + j];

            assert_int_equal(drop[d], 0);
            total++;
        }
    }
    assert_int_equal(total, 190);
    /* First kept device is dev-000001, in inventory order. */
    assert_string_equal(orch_plan_device(&plan, &plan.chunks[0], 0),
                        "dev-000001");
    orch_plan_cleanup(&plan);
    free(drop);
    orch_config_cleanup(&cfg);
    orch_inventory_cleanup(&inv);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(devices_missing_and_up_to_date_are_dropped),
    cmocka_unit_test(devices_without_dest_version_check_existence_only),
    cmocka_unit_test(devices_reject_writer_failure_stops),
    cmocka_unit_test(device_cost_per_product),
    cmocka_unit_test(filtered_plan_leaves_dropped_devices_out))
