/* test_winplan.c - the schedule of a plan with --window per wave and
 * zone: each zone's next window after the plan's time, a scheduled
 * wave's after its nominal time, a gated wave's "after the gate" without
 * a time; text and JSON (winplan.h). Reads the system's tz database. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/model/config.h"
#include "orch/model/inventory.h"
#include "orch/model/invopts.h"
#include "orch/model/plan.h"
#include "orch/model/tzzones.h"
#include "orch/model/waves.h"
#include "orch/rollout/winplan.h"
#include "torture.h"

#include <stdlib.h>
#include <string.h>

/* 2027-01-15T12:00:00Z, a Friday in winter (CET +1, EST -5, CST +8). */
#define NOW_MS INT64_C(1800014400000)
#define HOUR_MS INT64_C(3600000)
#define DAY_MS (24 * HOUR_MS)
/* The 02:00-05:00 windows after NOW_MS: Shanghai's the same day at
 * 18:00Z, Berlin's the next at 01:00Z, New York's at 07:00Z. */
#define SHANGHAI_MS (NOW_MS + 6 * HOUR_MS)
#define BERLIN_MS (NOW_MS + 13 * HOUR_MS)
#define NEW_YORK_MS (NOW_MS + 19 * HOUR_MS)

/* Wave 1 (site canary): one device per zone; wave 2 the rest. */
static const char fleet[] = "DeviceName,ProductKey,site,tz\n"
                            "dev-0001,pkA,canary,Europe/Berlin\n"
                            "dev-0002,pkA,canary,America/New_York\n"
                            "dev-0003,pkA,canary,Asia/Shanghai\n"
                            "dev-0004,pkA,rest,Europe/Berlin\n"
                            "dev-0005,pkA,rest,Europe/Berlin\n"
                            "dev-0006,pkA,rest,Asia/Shanghai\n"
                            "dev-0007,pkA,rest,Europe/Berlin\n";

struct fixture {
    struct orch_config cfg;
    struct orch_inventory inv;
    struct orch_plan plan;
    struct orch_wave_plan wp;
    struct orch_tzzones zones;
    int64_t nominal[ORCH_WAVES_MAX];
    struct orch_winplan wpl;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct orch_invopts io;
    struct orch_diag d = {{0}};
    size_t k = 0;

    assert_non_null(f);
    orch_config_init(&f->cfg);
    f->cfg.chunk_size = 2;
    torture_config_add_firmware(&f->cfg, "pkA", "FW-A");
    f->cfg.wave_column = strdup("site");
    f->cfg.time_zone_column = strdup("tz");
    assert_int_equal(orch_invopts_init(&io, &f->cfg, &d), 0);
    orch_inventory_init(&f->inv);
    assert_int_equal(orch_inventory_load_mem(&f->inv, "fleet.csv", fleet,
                                             strlen(fleet), &io.opts, &d),
                     0);
    orch_invopts_cleanup(&io);
    assert_int_equal(orch_plan_build(&f->plan, &f->inv, &f->cfg, &d), 0);
    assert_int_equal(orch_waves_from_plan(f->plan.chunks, f->plan.nchunks,
                                          f->plan.nwaves, &f->wp, &d),
                     0);
    assert_int_equal(orch_tzzones_load(&f->zones, &f->cfg, &f->inv,
                                       "/usr/share/zoneinfo", &d),
                     0);
    for (k = 0; k < ORCH_WAVES_MAX; k++)
        f->nominal[k] = -1;
    f->wpl.plan = &f->plan;
    f->wpl.waves = &f->wp;
    f->wpl.gated = true;
    f->wpl.tz = f->zones.tz;
    f->wpl.nzones = f->zones.n;
    assert_int_equal(orch_window_parse("02:00-05:00", &f->wpl.window, &d), 0);
    f->wpl.nominal_ms = f->nominal;
    f->wpl.now_ms = NOW_MS;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    orch_tzzones_cleanup(&f->zones);
    orch_plan_cleanup(&f->plan);
    orch_inventory_cleanup(&f->inv);
    orch_config_cleanup(&f->cfg);
    free(f);
    return 0;
}

static void gated_waves(void **state)
{
    struct fixture *f = *state;
    struct orch_winplan_row r[8];

    assert_int_equal(orch_winplan_rows(&f->wpl, r, 8), 5);
    /* Wave 1: each zone's own night, zones in order of first row. */
    assert_int_equal(r[0].wave, 0);
    assert_int_equal(r[0].zone, 0);
    assert_int_equal(r[0].start_ms, BERLIN_MS);
    assert_int_equal(r[0].end_ms, BERLIN_MS + 3 * HOUR_MS);
    assert_int_equal(r[1].start_ms, NEW_YORK_MS);
    assert_int_equal(r[2].start_ms, SHANGHAI_MS);
    assert_int_equal(r[2].devices, 1);
    assert_false(r[2].after_gate);
    /* Wave 2: Berlin 3 devices in 2 jobs, Shanghai 1 in 1; New York has
     * none there: no row. Their window follows the gate. */
    assert_int_equal(r[3].wave, 1);
    assert_int_equal(r[3].devices, 3);
    assert_int_equal(r[3].jobs, 2);
    assert_true(r[3].after_gate);
    assert_int_equal(r[3].start_ms, -1);
    assert_int_equal(r[4].zone, 2);
}

static void scheduled_wave_after_its_time(void **state)
{
    struct fixture *f = *state;
    struct orch_winplan_row r[8];

    f->wpl.gated = false;
    f->nominal[1] = NOW_MS + 2 * DAY_MS;
    assert_int_equal(orch_winplan_rows(&f->wpl, r, 8), 5);
    assert_false(r[3].after_gate);
    assert_int_equal(r[3].start_ms, BERLIN_MS + 2 * DAY_MS);
    assert_int_equal(r[4].start_ms, SHANGHAI_MS + 2 * DAY_MS);
    /* A nominal time already past: the next window after now. */
    f->nominal[1] = NOW_MS - DAY_MS;
    assert_int_equal(orch_winplan_rows(&f->wpl, r, 8), 5);
    assert_int_equal(r[3].start_ms, BERLIN_MS);
    assert_int_equal(orch_winplan_after(NOW_MS + 4 * 60000, NOW_MS),
                     NOW_MS);
    assert_int_equal(orch_winplan_after(NOW_MS + DAY_MS, NOW_MS),
                     NOW_MS + DAY_MS - ORCH_WINDOW_LEAD_MS);
}

/* The horizon as `run` judges it (orch_waves_when on the wave's latest
 * window start): wave 2 eight days on is deferred in every zone, text
 * and JSON; two days on it is not. */
static void wave_beyond_the_horizon_is_deferred(void **state)
{
    struct fixture *f = *state;
    struct orch_winplan_row r[8];
    struct torture_capture c;
    char *text = NULL;
    json_t *a = NULL;

    f->wpl.gated = false;
    f->nominal[1] = NOW_MS + 2 * DAY_MS;
    assert_int_equal(orch_winplan_rows(&f->wpl, r, 8), 5);
    assert_false(r[3].deferred);
    assert_false(r[4].deferred);
    f->nominal[1] = NOW_MS + 8 * DAY_MS;
    assert_int_equal(orch_winplan_rows(&f->wpl, r, 8), 5);
    assert_false(r[0].deferred);
    assert_false(r[2].deferred);
    assert_int_equal(r[3].start_ms, BERLIN_MS + 8 * DAY_MS);
    assert_true(r[3].deferred);
    assert_true(r[4].deferred);
    /* Planned 12 hours earlier with wave 2 six days on: Shanghai's start
     * is inside the horizon, but the wave's latest start (Berlin's, 7
     * hours later) is not: the whole wave waits, as `run` defers it. */
    f->wpl.now_ms = NOW_MS - 12 * HOUR_MS;
    f->nominal[1] = NOW_MS + 6 * DAY_MS;
    assert_int_equal(orch_winplan_rows(&f->wpl, r, 8), 5);
    assert_int_equal(r[4].start_ms, SHANGHAI_MS + 6 * DAY_MS);
    assert_true(r[4].start_ms < f->wpl.now_ms + ORCH_SCHEDULE_MAX_MS -
                                    ORCH_SCHEDULE_MARGIN_MS);
    assert_int_equal(r[3].start_ms, BERLIN_MS + 6 * DAY_MS);
    assert_true(r[3].deferred);
    assert_true(r[4].deferred);
    orch_winplan_print(torture_capture_open(&c), &f->wpl);
    text = torture_capture_close(&c);
    assert_non_null(strstr(text, "  wave 2 \"rest\", Asia/Shanghai: 1 "
                                 "device in 1 job: 2027-01-22 02:00 +08:00"));
    assert_non_null(strstr(text, "(UTC 2027-01-21T18:00:00Z to "
                                 "2027-01-21T21:00:00Z) - deferred: beyond "
                                 "the API's 7-day horizon, `resume` creates "
                                 "it\n"));
    assert_null(strstr(text, "Asia/Shanghai: 1 device in 1 job: 2027-01-16 "
                             "02:00 +08:00 to 2027-01-16 05:00 +08:00 (UTC "
                             "2027-01-15T18:00:00Z to 2027-01-15T21:00:00Z) "
                             "- deferred"));
    free(text);
    a = orch_winplan_json(&f->wpl);
    assert_false(json_is_true(json_object_get(json_array_get(a, 2),
                                              "deferred")));
    assert_true(json_is_false(json_object_get(json_array_get(a, 2),
                                              "deferred")));
    assert_true(json_is_true(json_object_get(json_array_get(a, 3),
                                             "deferred")));
    assert_true(json_is_true(json_object_get(json_array_get(a, 4),
                                             "deferred")));
    json_decref(a);
}

static void text_and_json(void **state)
{
    struct fixture *f = *state;
    struct torture_capture c;
    char *text = NULL;
    json_t *a = NULL, *o = NULL;

    orch_winplan_print(torture_capture_open(&c), &f->wpl);
    text = torture_capture_close(&c);
    assert_non_null(strstr(text, "schedule (window 02:00-05:00"));
    assert_non_null(strstr(
        text, "  wave 1 \"canary\", Europe/Berlin: 1 device in 1 job: "
              "2027-01-16 02:00 +01:00 to 2027-01-16 05:00 +01:00 (UTC "
              "2027-01-16T01:00:00Z to 2027-01-16T04:00:00Z)\n"));
    assert_non_null(strstr(text, "  wave 1 \"canary\", Asia/Shanghai: 1 "
                                 "device in 1 job: 2027-01-16 02:00 +08:00"));
    assert_non_null(strstr(text, "  wave 2 \"rest\", Europe/Berlin: 3 "
                                 "devices in 2 jobs: the next window after "
                                 "the gate passes\n"));
    free(text);
    a = orch_winplan_json(&f->wpl);
    assert_int_equal(json_array_size(a), 5);
    o = json_array_get(a, 1);
    assert_string_equal(json_string_value(json_object_get(o, "time_zone")),
                        "America/New_York");
    assert_string_equal(json_string_value(json_object_get(o, "start")),
                        "2027-01-16T07:00:00Z");
    assert_string_equal(json_string_value(json_object_get(o, "end_local")),
                        "2027-01-16T05:00:00-05:00");
    assert_string_equal(json_string_value(json_object_get(o, "after")),
                        "plan");
    assert_int_equal(json_integer_value(json_object_get(o, "wave")), 1);
    o = json_array_get(a, 3);
    assert_string_equal(json_string_value(json_object_get(o, "after")),
                        "gate");
    assert_true(json_is_null(json_object_get(o, "start")));
    assert_int_equal(json_integer_value(json_object_get(o, "jobs")), 2);
    json_decref(a);
    /* Without waves: one row per zone, "wave" null. */
    f->wpl.waves = NULL;
    a = orch_winplan_json(&f->wpl);
    assert_int_equal(json_array_size(a), 3);
    o = json_array_get(a, 0);
    assert_true(json_is_null(json_object_get(o, "wave")));
    assert_int_equal(json_integer_value(json_object_get(o, "devices")), 4);
    json_decref(a);
    /* Without windows: nothing. */
    f->wpl.tz = NULL;
    assert_null(orch_winplan_json(&f->wpl));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(gated_waves, setup, teardown),
        cmocka_unit_test_setup_teardown(scheduled_wave_after_its_time, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(wave_beyond_the_horizon_is_deferred,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(text_and_json, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
