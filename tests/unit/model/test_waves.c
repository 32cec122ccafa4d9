/* test_waves.c - waves: split into whole chunks, schedules and the 7-day
 * horizon. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/cli/cli.h"
#include "orch/model/config.h"
#include "orch/base/err.h"
#include "orch/model/plan.h"
#include "orch/model/waves.h"
#include "waves_fixture.h"
#include "torture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIN_MS (60 * 1000LL)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)

static void split_rounds_up_to_whole_chunks(void **state)
{
    /* 10,000 devices in 50 chunks of 200. */
    struct orch_chunk *c = chunks_of(50, 200, 200);
    struct orch_wave_plan p;
    struct orch_wave_spec s;
    struct orch_diag d = {{0}};
    size_t i = 0, covered = 0;

    (void)state;
    /* 1% = 100 devices -> 1 chunk; 10% = 1000 -> 5; all -> 50. */
    split("1%,10%,100%", c, 50, &p);
    assert_int_equal(p.n, 3);
    assert_int_equal(p.merged, 0);
    assert_int_equal(p.w[0].first, 0);
    assert_int_equal(p.w[0].end, 1);
    assert_int_equal(p.w[0].devices, 200);
    assert_int_equal(p.w[1].first, 1);
    assert_int_equal(p.w[1].end, 5);
    assert_int_equal(p.w[1].devices, 800);
    assert_int_equal(p.w[1].cumulative, 1000);
    assert_int_equal(p.w[2].end, 50);
    assert_int_equal(p.w[2].schedule_ms, -1);
    /* Every chunk in exactly one wave. */
    for (i = 0; i < 50; i++) {
        size_t k = orch_waves_of_chunk(&p, i);

        assert_true(k < p.n);
        covered++;
    }
    assert_int_equal(covered, 50);
    assert_int_equal(orch_waves_of_chunk(&p, 50), p.n);

    /* 201 devices need two chunks. */
    split("201,all", c, 50, &p);
    assert_int_equal(p.w[0].end, 2);
    /* 10.5% of 10,000 = 1050 -> 6 chunks. */
    split("0.105,1", c, 50, &p);
    assert_int_equal(p.w[0].end, 6);
    assert_int_equal(p.n, 2);

    /* A count beyond the plan is the whole plan. */
    split("200,50000", c, 50, &p);
    assert_int_equal(p.n, 2);
    assert_int_equal(p.w[1].end, 50);

    /* A count that stops short is refused. */
    parse_ok("200,5000", &s);
    assert_int_equal(orch_waves_split(&s, c, 50, &p, &d), ORCH_ECONFIG);
    assert_non_null(strstr(d.msg, "covers 5000 of the plan's 10000"));
    /* Mixed targets must still increase once converted. */
    parse_ok("5000,10%,all", &s);
    assert_int_equal(orch_waves_split(&s, c, 50, &p, &d), ORCH_ECONFIG);
    assert_non_null(strstr(d.msg, "cumulative"));
    /* No devices. */
    assert_int_equal(orch_waves_split(&s, c, 0, &p, &d), ORCH_ECONFIG);
    free(c);
}

static void split_merges_waves_that_round_together(void **state)
{
    /* 1,000 devices: 4 chunks of 200 + one of 200. 1% and 10% both fit
     * in the first chunk. */
    struct orch_chunk *c = chunks_of(5, 200, 200);
    struct orch_wave_plan p;

    (void)state;
    split("1%,10%,50%,all", c, 5, &p);
    assert_int_equal(p.n, 3);
    assert_int_equal(p.merged, 1);
    assert_int_equal(p.w[0].end, 1);
    assert_int_equal(p.w[1].first, 1);
    assert_int_equal(p.w[1].end, 3);
    assert_int_equal(p.w[2].end, 5);
    free(c);

    /* A small last chunk. */
    c = chunks_of(3, 200, 7);
    split("1,all", c, 3, &p);
    assert_int_equal(p.n, 2);
    assert_int_equal(p.w[0].devices, 200);
    assert_int_equal(p.w[1].devices, 207);
    free(c);
}

static void schedule_and_horizon(void **state)
{
    struct orch_chunk *c = chunks_of(30, 200, 200);
    struct orch_wave_plan p;
    int64_t now = 1800000000000LL;
    int64_t t0 = now + HOUR_MS;
    int64_t when = 0;

    (void)state;
    split("10%,50%,all", c, 30, &p);
    assert_int_equal(p.n, 3);

    /* --schedule-time T0 --wave-interval 1h --schedule-finish-time T0+2h */
    orch_waves_schedule(&p, t0, t0 + 2 * HOUR_MS, HOUR_MS, now);
    assert_int_equal(p.w[0].schedule_ms, t0);
    assert_int_equal(p.w[1].schedule_ms, t0 + HOUR_MS);
    assert_int_equal(p.w[2].schedule_ms, t0 + 2 * HOUR_MS);
    assert_int_equal(p.w[0].finish_ms, t0 + 2 * HOUR_MS);
    assert_int_equal(p.w[2].finish_ms, t0 + 4 * HOUR_MS);
    assert_int_equal(orch_waves_when(&p.w[2], now, &when), ORCH_WAVE_NOW);

    /* Wave 1 immediate: later waves count from the start. */
    orch_waves_schedule(&p, -1, -1, HOUR_MS, now);
    assert_int_equal(p.w[0].schedule_ms, -1);
    assert_int_equal(p.w[1].schedule_ms, now + HOUR_MS);
    assert_int_equal(p.w[2].schedule_ms, now + 2 * HOUR_MS);
    assert_int_equal(p.w[1].finish_ms, -1);
    assert_int_equal(orch_waves_when(&p.w[0], now, NULL), ORCH_WAVE_NOW);

    /* 4-day interval: wave 3 at T0 + 8 d is beyond the horizon. */
    orch_waves_schedule(&p, t0, -1, 4 * DAY_MS, now);
    assert_int_equal(orch_waves_when(&p.w[1], now, &when), ORCH_WAVE_NOW);
    assert_int_equal(orch_waves_when(&p.w[2], now, &when), ORCH_WAVE_LATER);
    assert_int_equal(when, t0 + 8 * DAY_MS - 7 * DAY_MS + 10 * MIN_MS);
    /* ... and creatable from then on, not a minute before. */
    assert_int_equal(orch_waves_when(&p.w[2], when, NULL), ORCH_WAVE_NOW);
    assert_int_equal(orch_waves_when(&p.w[2], when - MIN_MS, NULL),
                     ORCH_WAVE_LATER);
    /* Resumed too late: less than 5 minutes ahead, or past. */
    assert_int_equal(orch_waves_when(&p.w[1], p.w[1].schedule_ms - MIN_MS,
                                     NULL),
                     ORCH_WAVE_OVERDUE);
    assert_int_equal(orch_waves_when(&p.w[1], p.w[1].schedule_ms + DAY_MS,
                                     NULL),
                     ORCH_WAVE_OVERDUE);
    free(c);
}

/* Gated waves (no --wave-interval): --schedule-time is wave 1's start and
 * --schedule-finish-time its finish; later waves start when created. */
static void schedule_gated_first_wave_only(void **state)
{
    struct orch_chunk *c = chunks_of(30, 200, 200);
    struct orch_wave_plan p;
    int64_t now = 1800000000000LL;
    int64_t t0 = now + 3 * HOUR_MS;

    (void)state;
    split("10%,50%,all", c, 30, &p);
    orch_waves_schedule(&p, t0, t0 + 2 * HOUR_MS, 0, now);
    assert_int_equal(p.w[0].schedule_ms, t0);
    assert_int_equal(p.w[0].finish_ms, t0 + 2 * HOUR_MS);
    assert_int_equal(p.w[1].schedule_ms, -1);
    assert_int_equal(p.w[1].finish_ms, -1);
    assert_int_equal(p.w[2].schedule_ms, -1);
    assert_int_equal(p.w[2].finish_ms, -1);
    assert_int_equal(orch_waves_when(&p.w[0], now, NULL), ORCH_WAVE_NOW);
    assert_int_equal(orch_waves_when(&p.w[1], now, NULL), ORCH_WAVE_NOW);
    /* A resume after the start creates the rest of wave 1 at once. */
    assert_int_equal(orch_waves_when(&p.w[0], t0 - MIN_MS, NULL),
                     ORCH_WAVE_OVERDUE);
    /* Without --schedule-time every gated wave is immediate. */
    orch_waves_schedule(&p, -1, -1, 0, now);
    assert_int_equal(p.w[0].schedule_ms, -1);
    assert_int_equal(p.w[1].schedule_ms, -1);
    assert_int_equal(p.w[2].finish_ms, -1);
    free(c);
}

static void config_schedule_time_with_gated_waves(void **state)
{
    static const char *const gated[] = {
        "ota-rollout", "run", "inv.csv", "--firmware-id", "FW",
        "--waves", "200,all", "--wave-timeout", "2s",
        "--schedule-time", "2027-01-15T08:06:00Z", NULL};
    static const char *const interval[] = {
        "ota-rollout", "run", "inv.csv", "--firmware-id", "FW",
        "--waves", "200,all", "--wave-interval", "1h",
        "--schedule-time", "2027-01-15T08:06:00Z", NULL};
    const int64_t now = 1800000000000LL; /* 2027-01-15T08:00:00Z */
    struct orch_config cfg;
    struct orch_diag d;
    char *argv[12];
    size_t i = 0;

    (void)state;
    for (i = 0; i < 12; i++)
        argv[i] = (char *)gated[i];
    orch_config_init(&cfg);
    memset(&d, 0, sizeof(d));
    assert_int_equal(orch_cli_parse(&cfg, 11, argv, &d), 0);
    if (orch_config_validate_at(&cfg, now, &d) != 0)
        fail_msg("refused: %s", d.msg);
    assert_int_equal(cfg.schedule_time_ms, now + 6 * MIN_MS);
    assert_int_equal(cfg.wave_interval_ms, 0);
    orch_config_cleanup(&cfg);

    for (i = 0; i < 12; i++)
        argv[i] = (char *)interval[i];
    orch_config_init(&cfg);
    memset(&d, 0, sizeof(d));
    assert_int_equal(orch_cli_parse(&cfg, 11, argv, &d), 0);
    if (orch_config_validate_at(&cfg, now, &d) != 0)
        fail_msg("refused: %s", d.msg);
    orch_config_cleanup(&cfg);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(split_rounds_up_to_whole_chunks),
    cmocka_unit_test(split_merges_waves_that_round_together),
    cmocka_unit_test(schedule_and_horizon),
    cmocka_unit_test(schedule_gated_first_wave_only),
    cmocka_unit_test(config_schedule_time_with_gated_waves))
