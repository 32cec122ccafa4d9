/* test_waves.c - waves: spec parsing, split into whole chunks, gates,
 * schedules and the 7-day horizon, the waves file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/cli/cli.h"
#include "orch/model/config.h"
#include "orch/base/err.h"
#include "orch/model/plan.h"
#include "orch/model/waves.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIN_MS (60 * 1000LL)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)

static void parse_ok(const char *spec, struct orch_wave_spec *s)
{
    struct orch_diag d = {{0}};

    if (orch_waves_parse(spec, s, &d) != 0)
        fail_msg("%s: %s", spec, d.msg);
}

static void parse_bad(const char *spec, const char *needle)
{
    struct orch_wave_spec s;
    struct orch_diag d = {{0}};

    assert_int_equal(orch_waves_parse(spec, &s, &d), ORCH_ECONFIG);
    if (strstr(d.msg, needle) == NULL)
        fail_msg("%s: \"%s\" lacks \"%s\"", spec, d.msg, needle);
}

static void spec_forms(void **state)
{
    struct orch_wave_spec s;

    (void)state;
    parse_ok("1%,10%,100%", &s);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.t[0].unit, ORCH_WAVE_SHARE);
    assert_true(s.t[0].share > 0.0099 && s.t[0].share < 0.0101);
    assert_int_equal(s.t[2].unit, ORCH_WAVE_ALL);

    parse_ok("200,5000,all", &s);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.t[0].unit, ORCH_WAVE_DEVICES);
    assert_int_equal(s.t[0].devices, 200);
    assert_int_equal(s.t[1].devices, 5000);
    assert_int_equal(s.t[2].unit, ORCH_WAVE_ALL);

    /* A decimal point anywhere makes bare numbers shares: the final 1 is
     * 100%, not one device. */
    parse_ok("0.01, 0.1, 1", &s);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.t[0].unit, ORCH_WAVE_SHARE);
    assert_int_equal(s.t[1].unit, ORCH_WAVE_SHARE);
    assert_int_equal(s.t[2].unit, ORCH_WAVE_ALL);

    parse_ok("200,10%,ALL", &s);
    assert_int_equal(s.t[0].unit, ORCH_WAVE_DEVICES);
    assert_int_equal(s.t[1].unit, ORCH_WAVE_SHARE);

    parse_ok("all", &s);
    assert_int_equal(s.n, 1);
    parse_ok("12.5%,100%", &s);
    assert_true(s.t[0].share > 0.1249 && s.t[0].share < 0.1251);
    /* A device count may end the spec: checked against the plan later. */
    parse_ok("200,5000", &s);
    assert_int_equal(s.n, 2);
}

static void spec_errors(void **state)
{
    (void)state;
    parse_bad("", "empty wave");
    parse_bad("1%,,100%", "empty wave");
    parse_bad("1%,10%,", "empty wave");
    parse_bad("abc", "not a share");
    parse_bad("-5,all", "not a share");
    parse_bad("0%,100%", "more than 0%");
    parse_bad("150%", "at most 100%");
    parse_bad("10%,5%,100%", "not more than an earlier");
    parse_bad("200,200,all", "not more than an earlier");
    parse_bad("0.1,200", "not a share more than 0 and at most 1");
    parse_bad("1%,10%", "must be the whole rollout");
    parse_bad("0.5", "must be the whole rollout");
    parse_bad("all,100%", "already the whole rollout");
    parse_bad("0,all", "device count of at least 1");
    parse_bad("1e3,all", "not a share");
    parse_bad("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,"
              "24,25,26,27,28,29,30,31,32,33",
              "more than 32 waves");
}

static void share_parse(void **state)
{
    struct orch_diag d = {{0}};
    double v = 0;

    (void)state;
    assert_int_equal(orch_share_parse("--x", "95%", &v, &d), 0);
    assert_true(v > 0.9499 && v < 0.9501);
    assert_int_equal(orch_share_parse("--x", "0.95", &v, &d), 0);
    assert_true(v > 0.9499 && v < 0.9501);
    assert_int_equal(orch_share_parse("--x", "1", &v, &d), 0);
    assert_true(v > 0.9999);
    assert_int_equal(orch_share_parse("--x", "100%", &v, &d), 0);
    assert_int_equal(orch_share_parse("--x", "95", &v, &d), ORCH_ECONFIG);
    assert_non_null(strstr(d.msg, "95%"));
    assert_int_equal(orch_share_parse("--x", "0", &v, &d), ORCH_ECONFIG);
    assert_int_equal(orch_share_parse("--x", "0%", &v, &d), ORCH_ECONFIG);
    assert_int_equal(orch_share_parse("--x", "101%", &v, &d), ORCH_ECONFIG);
    assert_int_equal(orch_share_parse("--x", "x%", &v, &d), ORCH_ECONFIG);
    assert_int_equal(orch_share_parse("--x", "", &v, &d), ORCH_ECONFIG);
}

/* n chunks of `size` devices, the last one holding `last` devices. */
static struct orch_chunk *chunks_of(size_t n, uint32_t size, uint32_t last)
{
    struct orch_chunk *c = calloc(n, sizeof(*c));
    size_t i = 0;

    assert_non_null(c);
    for (i = 0; i < n; i++) {
        c[i].index = (uint32_t)i;
        c[i].count = i + 1 == n ? last : size;
    }
    return c;
}

static void split(const char *spec, const struct orch_chunk *c, size_t n,
                  struct orch_wave_plan *p)
{
    struct orch_wave_spec s;
    struct orch_diag d = {{0}};

    parse_ok(spec, &s);
    if (orch_waves_split(&s, c, n, p, &d) != 0)
        fail_msg("%s: %s", spec, d.msg);
}

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

/* --wave-timeout counts from the wave's ScheduleTime, not from creation. */
static void gate_timeout_counts_from_schedule(void **state)
{
    struct orch_gate g = {1.0, 0, 10, 2000};
    struct orch_gate_counts c;
    int64_t wall0 = 1800000000000LL;
    int64_t sched = wall0 + 6 * MIN_MS;
    int64_t e = 0;

    (void)state;
    memset(&c, 0, sizeof(c));
    c.expected = 200;
    c.tasks = 200;
    c.pending = 200;
    /* Watched 2 s, 1 h, 5:59 before a start 6 minutes away: negative
     * (before the start), never a timeout. */
    e = orch_gate_elapsed(2000, wall0, sched);
    assert_int_equal(e, 2000 - 6 * MIN_MS);
    assert_int_equal(orch_gate_decide(&g, &c, e, NULL, 0), ORCH_GATE_WAIT);
    e = orch_gate_elapsed(6 * MIN_MS - 1000, wall0, sched);
    assert_int_equal(e, -1000);
    assert_int_equal(orch_gate_decide(&g, &c, e, NULL, 0), ORCH_GATE_WAIT);
    /* From the start on it is the time since the start. */
    assert_int_equal(orch_gate_elapsed(6 * MIN_MS, wall0, sched), 0);
    e = orch_gate_elapsed(6 * MIN_MS + 1999, wall0, sched);
    assert_int_equal(orch_gate_decide(&g, &c, e, NULL, 0), ORCH_GATE_WAIT);
    e = orch_gate_elapsed(6 * MIN_MS + 2000, wall0, sched);
    assert_int_equal(e, 2000);
    assert_int_equal(orch_gate_decide(&g, &c, e, NULL, 0), ORCH_GATE_TIMEOUT);
    /* The canary at 03:00 watched from 01:00 (2 h before) with a 1 h
     * timeout: no timeout at 02:00 nor 03:59, one at 04:00. */
    g.timeout_ms = HOUR_MS;
    sched = wall0 + 2 * HOUR_MS;
    e = orch_gate_elapsed(HOUR_MS, wall0, sched);
    assert_int_equal(orch_gate_decide(&g, &c, e, NULL, 0), ORCH_GATE_WAIT);
    e = orch_gate_elapsed(3 * HOUR_MS - 1000, wall0, sched);
    assert_int_equal(orch_gate_decide(&g, &c, e, NULL, 0), ORCH_GATE_WAIT);
    e = orch_gate_elapsed(3 * HOUR_MS, wall0, sched);
    assert_int_equal(orch_gate_decide(&g, &c, e, NULL, 0), ORCH_GATE_TIMEOUT);
    /* No ScheduleTime, or one already past when the watch started (a
     * resumed watch): the timeout counts from the start of the watch. */
    assert_int_equal(orch_gate_elapsed(1234, wall0, -1), 1234);
    assert_int_equal(orch_gate_elapsed(1234, wall0, wall0 - HOUR_MS), 1234);
    assert_int_equal(orch_gate_elapsed(1234, wall0, wall0), 1234);
}

/* --schedule-time with gated waves is accepted (wave 1's start); with
 * --wave-interval it stays the scheduled waves' base. */
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

static enum orch_gate_decision decide(const struct orch_gate *g,
                                      uint64_t expected, uint64_t ok,
                                      uint64_t failed, uint64_t canceled,
                                      int64_t elapsed)
{
    struct orch_gate_counts c;
    char why[256];

    memset(&c, 0, sizeof(c));
    c.expected = expected;
    c.tasks = expected;
    c.succeeded = ok;
    c.failed = failed;
    c.canceled = canceled;
    c.pending = expected - ok - failed - canceled;
    return orch_gate_decide(g, &c, elapsed, why, sizeof(why));
}

static void gate_decisions(void **state)
{
    struct orch_gate g = {0.95, 0.20, 20, 60000};
    struct orch_gate_counts c;
    char why[256];

    (void)state;
    /* Nothing decided yet. */
    assert_int_equal(decide(&g, 200, 0, 0, 0, 0), ORCH_GATE_WAIT);
    /* 190 of 200 = 95%: pass (exactly at the threshold). */
    assert_int_equal(decide(&g, 200, 190, 0, 0, 0), ORCH_GATE_PASS);
    assert_int_equal(decide(&g, 200, 189, 0, 0, 0), ORCH_GATE_WAIT);
    /* 4 of 19 ended failed (21%) but fewer than 20 ended: no verdict. */
    assert_int_equal(decide(&g, 200, 15, 4, 0, 0), ORCH_GATE_WAIT);
    /* 4 of 20 = 20%: fail. */
    assert_int_equal(decide(&g, 200, 16, 4, 0, 0), ORCH_GATE_FAIL);
    /* 3 of 20 = 15%: go on. */
    assert_int_equal(decide(&g, 200, 17, 3, 0, 0), ORCH_GATE_WAIT);
    /* 11 failed: 95% can no longer be reached -> fail at once. */
    g.failure = 0;
    assert_int_equal(decide(&g, 200, 100, 11, 0, 0), ORCH_GATE_FAIL);
    assert_int_equal(decide(&g, 200, 100, 10, 0, 0), ORCH_GATE_WAIT);
    /* Cancelled tasks do not succeed either. */
    assert_int_equal(decide(&g, 200, 100, 0, 11, 0), ORCH_GATE_FAIL);
    /* Timeout. */
    assert_int_equal(decide(&g, 200, 100, 0, 0, 59999), ORCH_GATE_WAIT);
    assert_int_equal(decide(&g, 200, 100, 0, 0, 60000), ORCH_GATE_TIMEOUT);
    /* A decision wins over the timeout. */
    assert_int_equal(decide(&g, 200, 200, 0, 0, 600000), ORCH_GATE_PASS);
    /* min-decided larger than the wave: the whole wave is enough. */
    g.failure = 0.5;
    g.min_decided = 1000;
    g.success = 0.1;
    assert_int_equal(decide(&g, 10, 1, 9, 0, 0), ORCH_GATE_FAIL);
    /* Tasks not listed yet count as pending, not as absent. */
    memset(&c, 0, sizeof(c));
    c.expected = 200;
    c.tasks = 100;
    c.succeeded = 100;
    g.success = 0.95;
    g.failure = 0.2;
    g.min_decided = 20;
    assert_int_equal(orch_gate_decide(&g, &c, 0, why, sizeof(why)),
                     ORCH_GATE_WAIT);
    assert_non_null(strstr(why, "100 of 200"));
    /* Nothing to watch passes. */
    memset(&c, 0, sizeof(c));
    assert_int_equal(orch_gate_decide(&g, &c, 0, NULL, 0), ORCH_GATE_PASS);
    /* Messages say why. */
    assert_int_equal(decide(&g, 200, 16, 4, 0, 0), ORCH_GATE_FAIL);
    c.expected = c.tasks = 200;
    c.succeeded = 16;
    c.failed = 4;
    orch_gate_decide(&g, &c, 0, why, sizeof(why));
    assert_non_null(strstr(why, "4 of 20 ended tasks FAILED"));
    assert_string_equal(orch_gate_decision_name(ORCH_GATE_TIMEOUT), "timeout");
}

static void waves_file_roundtrip(void **state)
{
    struct orch_chunk *c = chunks_of(6, 200, 50);
    struct orch_wave_plan p;
    struct orch_diag d = {{0}};
    char dir[] = "/tmp/test_waves_XXXXXX";
    char report[128], file[160];
    unsigned *map = NULL;
    size_t n = 0;
    FILE *fp = NULL;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(report, sizeof(report), "%s/r.csv", dir);
    snprintf(file, sizeof(file), "%s.waves.csv", report);
    /* No file: no map. */
    assert_int_equal(orch_waves_read_map(report, &map, &n, &d), 0);
    assert_null(map);
    assert_int_equal(n, 0);

    split("200,600,all", c, 6, &p);
    assert_int_equal(orch_waves_write_map(report, &p, &d), 0);
    assert_int_equal(orch_waves_read_map(report, &map, &n, &d), 0);
    assert_int_equal(n, 6);
    assert_int_equal(map[0], 1);
    assert_int_equal(map[1], 2);
    assert_int_equal(map[2], 2);
    assert_int_equal(map[3], 3);
    assert_int_equal(map[5], 3);
    free(map);
    map = NULL;

    fp = fopen(file, "w");
    assert_non_null(fp);
    fputs("chunk,wave\n1,x\n", fp);
    fclose(fp);
    assert_int_equal(orch_waves_read_map(report, &map, &n, &d), ORCH_ECSV);
    assert_non_null(strstr(d.msg, ":2:"));
    assert_null(map);
    unlink(file);
    rmdir(dir);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spec_forms),
        cmocka_unit_test(spec_errors),
        cmocka_unit_test(share_parse),
        cmocka_unit_test(split_rounds_up_to_whole_chunks),
        cmocka_unit_test(split_merges_waves_that_round_together),
        cmocka_unit_test(schedule_and_horizon),
        cmocka_unit_test(schedule_gated_first_wave_only),
        cmocka_unit_test(gate_timeout_counts_from_schedule),
        cmocka_unit_test(config_schedule_time_with_gated_waves),
        cmocka_unit_test(gate_decisions),
        cmocka_unit_test(waves_file_roundtrip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
