/* test_emu_faults.c - seeded fault plans: replayable, with the configured
 * rates, latency distributions and throttling bursts; option parsers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "server/emu_faults.h"
#include "orch/base/err.h"
#include "torture.h"

#define N 20000

static int cmp_u(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

    return (x > y) - (x < y);
}

static void same_seed_same_plan(void **state)
{
    struct emu_fault_opts o, o2;
    struct emu_fault_plan a, b;
    unsigned diff = 0;
    uint64_t i = 0;

    (void)state;
    emu_fault_opts_init(&o);
    o.seed = 42;
    o.p_5xx = 0.2;
    o.p_lose = 0.2;
    o.lat_min_ms = 1;
    o.lat_max_ms = 100;
    o2 = o;
    o2.seed = 43;
    for (i = 0; i < 1000; i++) {
        emu_faults_plan(&o, i, 0, &a);
        emu_faults_plan(&o, i, 0, &b);
        assert_memory_equal(&a, &b, sizeof(a));
        emu_faults_plan(&o2, i, 0, &b);
        if (a.kind != b.kind || a.latency_ms != b.latency_ms)
            diff++;
    }
    assert_true(diff > 500);
}

static void rates_match_probabilities(void **state)
{
    struct emu_fault_opts o;
    struct emu_fault_plan p;
    unsigned count[EMU_FAULT_COUNT_] = {0};
    unsigned s500 = 0, s503 = 0, html = 0;
    uint64_t i = 0;

    (void)state;
    emu_fault_opts_init(&o);
    o.seed = 7;
    o.p_5xx = 0.10;
    o.p_reset = 0.05;
    o.p_lose = 0.15;
    o.p_malformed = 0.05;
    o.p_slow = 0.05;
    for (i = 0; i < N; i++) {
        emu_faults_plan(&o, i, 0, &p);
        count[p.kind]++;
        if (p.kind == EMU_FAULT_5XX) {
            assert_true(p.status == 500 || p.status == 503);
            s500 += p.status == 500;
            s503 += p.status == 503;
        }
        if (p.kind == EMU_FAULT_MALFORMED)
            html += p.variant == 1;
        assert_int_equal(p.latency_ms, 0);
    }
    assert_in_range(count[EMU_FAULT_5XX], N * 0.08, N * 0.12);
    assert_in_range(count[EMU_FAULT_RESET], N * 0.04, N * 0.06);
    assert_in_range(count[EMU_FAULT_LOSE], N * 0.13, N * 0.17);
    assert_in_range(count[EMU_FAULT_MALFORMED], N * 0.04, N * 0.06);
    assert_in_range(count[EMU_FAULT_SLOW], N * 0.04, N * 0.06);
    assert_int_equal(count[EMU_FAULT_THROTTLE], 0);
    assert_true(s500 > 0 && s503 > 0);
    assert_true(html > 0 && html < count[EMU_FAULT_MALFORMED]);

    /* No fault configured: never a fault. */
    emu_fault_opts_init(&o);
    for (i = 0; i < 1000; i++) {
        emu_faults_plan(&o, i, (int64_t)i, &p);
        assert_int_equal(p.kind, EMU_FAULT_NONE);
    }
}

static void latency_distributions(void **state)
{
    struct emu_fault_opts o;
    struct emu_fault_plan p;
    struct orch_diag d;
    unsigned *v = calloc(N, sizeof(*v));
    uint64_t i = 0;

    (void)state;
    assert_non_null(v);
    emu_fault_opts_init(&o);
    assert_int_equal(emu_faults_parse_latency(&o, "10-50", &d), 0);
    for (i = 0; i < N; i++) {
        emu_faults_plan(&o, i, 0, &p);
        assert_in_range(p.latency_ms, 10, 50);
        v[i] = p.latency_ms;
    }
    qsort(v, N, sizeof(*v), cmp_u);
    assert_int_equal(v[0], 10);
    assert_int_equal(v[N - 1], 50);
    assert_in_range(v[N / 2], 27, 33);

    assert_int_equal(emu_faults_parse_dist(&o, "lognormal", &d), 0);
    assert_int_equal(emu_faults_parse_latency(&o, "4-400", &d), 0);
    for (i = 0; i < N; i++) {
        emu_faults_plan(&o, i, 0, &p);
        assert_in_range(p.latency_ms, 4, 400);
        v[i] = p.latency_ms;
    }
    qsort(v, N, sizeof(*v), cmp_u);
    assert_in_range(v[N / 2], 36, 44); /* sqrt(4 * 400) = 40 */
    assert_in_range(v[N * 99 / 100], 300, 400);

    assert_int_equal(emu_faults_parse_dist(&o, "mix:50=5,90=20,99=200,100=1000",
                                           &d),
                     0);
    assert_int_equal(emu_faults_parse_latency(&o, "0", &d), 0);
    for (i = 0; i < N; i++) {
        emu_faults_plan(&o, i, 0, &p);
        v[i] = p.latency_ms;
    }
    qsort(v, N, sizeof(*v), cmp_u);
    assert_true(v[N / 2 - 100] <= 5);
    assert_in_range(v[N * 90 / 100 - 50], 15, 20);
    assert_in_range(v[N * 98 / 100], 150, 200); /* 20 + 8/9 * 180 = 180 */
    assert_in_range(v[N * 985 / 1000], 150, 200);
    assert_true(v[N * 995 / 1000] > 200);
    assert_true(v[N - 1] <= 1000);
    assert_true(v[N - 1] > 200);
    free(v);
}

/* A mix table is a whole distribution: --latency-ms given as well (in
 * either order) must not bend it (its MIN used to be the mix's 0th
 * percentile, so "300" + "mix:100=10" drew 10..300 ms). The last
 * --latency-dist wins, and the combinations that cannot mean anything
 * are refused by emu_faults_check. */
static void latency_dist_and_range(void **state)
{
    struct emu_fault_opts o;
    struct emu_fault_plan p;
    struct orch_diag d;
    unsigned mx = 0;
    uint64_t i = 0;

    (void)state;
    emu_fault_opts_init(&o);
    assert_int_equal(emu_faults_parse_latency(&o, "300", &d), 0);
    assert_int_equal(emu_faults_parse_dist(&o, "mix:50=5,100=10", &d), 0);
    for (i = 0; i < N; i++) {
        emu_faults_plan(&o, i, 0, &p);
        if (p.latency_ms > mx)
            mx = p.latency_ms;
    }
    assert_in_range(mx, 9, 10);
    assert_int_equal(emu_faults_check(&o, &d), ORCH_EINVAL);
    assert_non_null(strstr(d.msg, "--latency-ms"));

    /* A mix alone adds latency: 99% of the requests wait 40 ms. */
    emu_fault_opts_init(&o);
    assert_int_equal(emu_faults_parse_dist(&o, "mix:1=40,100=40", &d), 0);
    assert_int_equal(emu_faults_check(&o, &d), 0);
    mx = 0; /* now: how many waited 40 ms */
    for (i = 0; i < 1000; i++) {
        emu_faults_plan(&o, i, 0, &p);
        assert_in_range(p.latency_ms, 0, 40);
        mx += p.latency_ms == 40;
    }
    assert_in_range(mx, 970, 1000);

    /* The last --latency-dist wins: uniform after a mix is uniform. */
    assert_int_equal(emu_faults_parse_dist(&o, "uniform", &d), 0);
    assert_int_equal(emu_faults_parse_latency(&o, "20-30", &d), 0);
    assert_int_equal(emu_faults_check(&o, &d), 0);
    for (i = 0; i < 1000; i++) {
        emu_faults_plan(&o, i, 0, &p);
        assert_in_range(p.latency_ms, 20, 30);
    }

    /* lognormal without a range would silently add nothing. */
    emu_fault_opts_init(&o);
    assert_int_equal(emu_faults_parse_dist(&o, "lognormal", &d), 0);
    assert_int_equal(emu_faults_check(&o, &d), ORCH_EINVAL);
    assert_non_null(strstr(d.msg, "lognormal"));
    assert_int_equal(emu_faults_parse_latency(&o, "4-400", &d), 0);
    assert_int_equal(emu_faults_check(&o, &d), 0);

    /* Probabilities over 1 in all. */
    o.p_5xx = 0.6;
    o.p_lose = 0.5;
    assert_int_equal(emu_faults_check(&o, &d), ORCH_EINVAL);
}

static void throttle_bursts(void **state)
{
    struct emu_fault_opts o;
    struct emu_fault_plan p;
    struct orch_diag d;
    unsigned hits = 0;
    int64_t t = 0;

    (void)state;
    emu_fault_opts_init(&o);
    assert_int_equal(emu_faults_parse_burst(&o, "1000:500", &d), 0);
    assert_int_equal(emu_faults_parse_burst(&o, "5000:1", &d), 0);
    emu_faults_plan(&o, 1, 999, &p);
    assert_int_equal(p.kind, EMU_FAULT_NONE);
    emu_faults_plan(&o, 2, 1000, &p);
    assert_int_equal(p.kind, EMU_FAULT_THROTTLE);
    emu_faults_plan(&o, 3, 1499, &p);
    assert_int_equal(p.kind, EMU_FAULT_THROTTLE);
    emu_faults_plan(&o, 4, 1500, &p);
    assert_int_equal(p.kind, EMU_FAULT_NONE);
    emu_faults_plan(&o, 5, 5000, &p);
    assert_int_equal(p.kind, EMU_FAULT_THROTTLE);

    emu_fault_opts_init(&o);
    o.seed = 3;
    assert_int_equal(emu_faults_parse_burst(&o, "random:0.25:100", &d), 0);
    for (t = 0; t < 100 * 4000; t += 100) {
        struct emu_fault_plan q;

        emu_faults_plan(&o, (uint64_t)t, t, &p);
        emu_faults_plan(&o, (uint64_t)t + 7, t + 99, &q);
        assert_int_equal(p.kind, q.kind); /* one verdict per slot */
        hits += p.kind == EMU_FAULT_THROTTLE;
    }
    assert_in_range(hits, 800, 1200);
    emu_fault_opts_init(&o);
    assert_string_equal(emu_fault_name(EMU_FAULT_THROTTLE), "throttle_burst");
    assert_string_equal(emu_fault_name(EMU_FAULT_LOSE), "lose");
    assert_null(emu_fault_name(EMU_FAULT_NONE));
}

/* --fault-actions: the faults (latency and bursts included) hit only the
 * actions listed; --fail-queries: a 503 to query actions, whatever the
 * scope, at its own rate, without moving the other faults' draws. */
static void scope_and_failing_queries(void **state)
{
    struct emu_fault_opts o;
    struct orch_diag d;
    struct emu_fault_plan p, q;
    unsigned failed = 0;
    uint64_t i = 0;

    (void)state;
    emu_fault_opts_init(&o);
    o.seed = 7;
    o.p_lose = 1;
    o.lat_min_ms = 5;
    o.lat_max_ms = 9;
    o.nbursts = 1;
    o.burst_start_ms[0] = 1000;
    o.burst_dur_ms[0] = 1000;
    assert_int_equal(emu_faults_parse_actions(
                         &o, "CreateOTAStaticUpgradeJob,QueryOTAJob", &d),
                     0);
    assert_int_equal(o.nactions, 2);
    assert_true(emu_faults_in_scope(&o, "CreateOTAStaticUpgradeJob"));
    assert_true(emu_faults_in_scope(&o, "QueryOTAJob"));
    assert_false(emu_faults_in_scope(&o, "ListOTATaskByJob"));
    assert_false(emu_faults_in_scope(&o, NULL));
    for (i = 0; i < 100; i++) {
        emu_faults_plan_action(&o, i, 0, "CreateOTAStaticUpgradeJob", 0, &p);
        assert_int_equal(p.kind, EMU_FAULT_LOSE);
        assert_true(p.latency_ms >= 5 && p.latency_ms <= 9);
        emu_faults_plan_action(&o, i, 1500, "ListOTATaskByJob", 1, &p);
        assert_int_equal(p.kind, EMU_FAULT_NONE); /* no burst either */
        assert_int_equal(p.latency_ms, 0);
        emu_faults_plan_action(&o, i, 1500, "QueryOTAJob", 1, &p);
        assert_int_equal(p.kind, EMU_FAULT_THROTTLE);
    }
    /* Every query fails; Create keeps its own fault. */
    o.p_fail_query = 1;
    for (i = 0; i < 100; i++) {
        emu_faults_plan_action(&o, i, 0, "ListOTATaskByJob", 1, &p);
        assert_int_equal(p.kind, EMU_FAULT_5XX);
        assert_int_equal(p.status, 503);
        emu_faults_plan_action(&o, i, 0, "CreateOTAStaticUpgradeJob", 0, &p);
        assert_int_equal(p.kind, EMU_FAULT_LOSE);
    }
    /* At a rate, seeded; the in-scope plan underneath is unchanged. */
    o.p_fail_query = 0.25;
    assert_int_equal(emu_faults_parse_actions(&o, "all", &d), 0);
    assert_int_equal(o.nactions, 0);
    o.p_lose = 0.5;
    for (i = 0; i < N; i++) {
        emu_faults_plan_action(&o, i, 0, "QueryOTAJob", 1, &p);
        emu_faults_plan_action(&o, i, 0, "QueryOTAJob", 1, &q);
        assert_memory_equal(&p, &q, sizeof(p));
        if (p.kind == EMU_FAULT_5XX)
            failed++;
        emu_faults_plan_action(&o, i, 0, "QueryOTAJob", 0, &p);
        emu_faults_plan(&o, i, 0, &q);
        assert_memory_equal(&p, &q, sizeof(p));
    }
    assert_true(fabs((double)failed / N - 0.25) < 0.02);
    /* Garbage. */
    assert_int_equal(emu_faults_parse_actions(&o, "Query OTAJob", &d),
                     ORCH_EINVAL);
    assert_int_equal(emu_faults_parse_actions(&o, "A,,B", &d), ORCH_EINVAL);
    assert_int_equal(emu_faults_parse_actions(&o, ",", &d), ORCH_EINVAL);
    assert_int_equal(
        emu_faults_parse_actions(&o, "A,B,C,D,E,F,G,H,I,J,K,L,M,N,O,P,Q", &d),
        ORCH_EINVAL);
    assert_int_equal(o.nactions, 0); /* a refused list changes nothing */
}

static void parsers_reject_garbage(void **state)
{
    struct emu_fault_opts o;
    struct orch_diag d;
    double p = 0;
    int i = 0;

    (void)state;
    emu_fault_opts_init(&o);
    assert_int_equal(emu_faults_parse_latency(&o, "5", &d), 0);
    assert_int_equal(o.lat_min_ms, 5);
    assert_int_equal(o.lat_max_ms, 5);
    assert_int_equal(emu_faults_parse_latency(&o, "50-10", &d), ORCH_EINVAL);
    assert_int_equal(emu_faults_parse_latency(&o, "-1", &d), ORCH_EINVAL);
    assert_int_equal(emu_faults_parse_latency(&o, "1-x", &d), ORCH_EINVAL);
    assert_int_equal(emu_faults_parse_latency(&o, "", &d), ORCH_EINVAL);
    assert_int_equal(emu_faults_parse_dist(&o, "gauss", &d), ORCH_EINVAL);
    assert_int_equal(emu_faults_parse_dist(&o, "mix:", &d), ORCH_EINVAL);
    assert_int_equal(emu_faults_parse_dist(&o, "mix:90=5,50=20", &d),
                     ORCH_EINVAL);
    assert_int_equal(emu_faults_parse_dist(&o, "mix:101=5", &d), ORCH_EINVAL);
    assert_int_equal(emu_faults_parse_dist(&o, "mix:50=5;", &d), ORCH_EINVAL);
    assert_int_equal(emu_faults_parse_burst(&o, "10", &d), ORCH_EINVAL);
    assert_int_equal(emu_faults_parse_burst(&o, "10:x", &d), ORCH_EINVAL);
    assert_int_equal(emu_faults_parse_burst(&o, "random:2:10", &d),
                     ORCH_EINVAL);
    assert_int_equal(emu_faults_parse_burst(&o, "random:0.5:0", &d),
                     ORCH_EINVAL);
    for (i = 0; i < EMU_FAULTS_MAX_BURSTS; i++)
        assert_int_equal(emu_faults_parse_burst(&o, "1:1", &d), 0);
    assert_int_equal(emu_faults_parse_burst(&o, "1:1", &d), ORCH_EINVAL);
    assert_int_equal(emu_faults_parse_prob(&p, "0.25", &d), 0);
    assert_true(fabs(p - 0.25) < 1e-12);
    assert_int_equal(emu_faults_parse_prob(&p, "1.5", &d), ORCH_EINVAL);
    assert_int_equal(emu_faults_parse_prob(&p, "-0.1", &d), ORCH_EINVAL);
    assert_int_equal(emu_faults_parse_prob(&p, "nan", &d), ORCH_EINVAL);
    assert_int_equal(emu_faults_parse_prob(&p, "0.1x", &d), ORCH_EINVAL);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(same_seed_same_plan),
    cmocka_unit_test(rates_match_probabilities),
    cmocka_unit_test(latency_distributions),
    cmocka_unit_test(latency_dist_and_range),
    cmocka_unit_test(throttle_bursts),
    cmocka_unit_test(scope_and_failing_queries),
    cmocka_unit_test(parsers_reject_garbage))
