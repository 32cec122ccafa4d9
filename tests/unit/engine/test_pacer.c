/* test_pacer.c - the process's pacing lanes: one per (key, action), kept
 * across batches, shared through the state file when there is a key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>

#include "orch/base/clock.h"
#include "orch/base/err.h"
#include "orch/engine/engine_opts.h"
#include "orch/engine/pacer.h"
#include "torture.h"

static int files_in(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de = NULL;
    int n = 0;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

/* A second batch of an action continues the first one's spacing: asking
 * for the lane again gives the same one, whose window is still full. */
static void test_lane_kept_across_batches(void **state)
{
    struct orch_engine_opts o;
    struct orch_pace_lane *a = NULL, *b = NULL;
    const uint64_t t0 = 5000000;
    unsigned n = 0;

    (void)state;
    orch_engine_opts_init(&o);
    assert_int_equal(orch_pacer_lane(&o, "QueryOTAJob", 10, &a), 0);
    for (uint64_t t = t0; t < t0 + 1000; t++)
        while (orch_pace_take(a, t) == 0)
            n++;
    assert_true(n >= 9 && n <= 10);
    assert_int_equal(orch_pacer_lane(&o, "QueryOTAJob", 10, &b), 0);
    assert_ptr_equal(a, b);
    /* Right after the first batch: not a fresh burst. */
    assert_true(orch_pace_take(b, t0 + 1000) > 0);
    /* Another action has its own quota. */
    assert_int_equal(orch_pacer_lane(&o, "CancelOTATaskByJob", 5, &b), 0);
    assert_ptr_not_equal(a, b);
    assert_int_equal(orch_pace_take(b, t0 + 1000), 0);
    orch_pacer_reset();
}

/* Evenly spaced, for queries too: 10/s never gives two starts closer
 * than a gap (a burst put 15 arrivals into one server second). */
static void test_starts_spaced_evenly(void **state)
{
    struct orch_engine_opts o;
    struct orch_pace_lane *l = NULL;
    uint64_t last = 0;
    const uint64_t t0 = 7000000;

    (void)state;
    orch_engine_opts_init(&o);
    assert_int_equal(orch_pacer_lane(&o, "ListOTATaskByJob", 10, &l), 0);
    for (uint64_t t = t0; t < t0 + 3000; t++) {
        if (orch_pace_take(l, t) != 0)
            continue;
        if (last != 0)
            assert_true(t - last >= 99);
        last = t;
    }
    orch_pacer_reset();
}

/* With a quota key the lane lives in the state file in quota_dir; without
 * one nothing is written. */
static void test_key_shares_through_file(void **state)
{
    char dir[64];
    struct orch_engine_opts o;
    struct orch_pace_lane *l = NULL;

    (void)state;
    torture_mkdtemp(dir, sizeof(dir), "pacer");
    orch_engine_opts_init(&o);
    o.quota_dir = dir;
    assert_int_equal(orch_pacer_lane(&o, "QueryOTAJob", 10, &l), 0);
    assert_int_equal(orch_pace_take(l, orch_mono_ms()), 0);
    assert_int_equal(files_in(dir), 0);
    o.quota_key = "LTAIpacer-test";
    assert_int_equal(orch_pacer_lane(&o, "QueryOTAJob", 10, &l), 0);
    assert_int_equal(orch_pace_take(l, orch_mono_ms()), 0);
    assert_int_equal(files_in(dir), 1);
    assert_string_equal(orch_pacer_share_note(&o), "");
    orch_pacer_reset();
    torture_rmtree(dir);
}

/* The entry point for calls outside the dispatcher blocks until the slot:
 * three calls at 10/s span at least two gaps. */
static void test_wait_blocks_for_the_slot(void **state)
{
    struct orch_engine_opts o;
    uint64_t t0 = 0;

    (void)state;
    orch_engine_opts_init(&o);
    t0 = orch_mono_ms();
    for (int i = 0; i < 3; i++)
        assert_int_equal(orch_pacer_wait(&o, "AssumeRole", 10, NULL), 0);
    assert_true(orch_mono_ms() - t0 >= 190);
    orch_pacer_reset();
}

/* An unusable directory: the lane paces alone, with a note. */
static void test_unusable_dir_paces_alone(void **state)
{
    struct orch_engine_opts o;
    struct orch_pace_lane *l = NULL;

    (void)state;
    orch_engine_opts_init(&o);
    o.quota_key = "LTAIpacer-test";
    o.quota_dir = "/nonexistent/ota-rollout-test";
    assert_int_equal(orch_pacer_lane(&o, "QueryOTAJob", 10, &l), 0);
    assert_int_equal(orch_pace_take(l, orch_mono_ms()), 0);
    assert_non_null(strstr(orch_pacer_share_note(&o), "pacing alone"));
    orch_pacer_reset();
}

TORTURE_MAIN(NULL, NULL, cmocka_unit_test(test_lane_kept_across_batches),
             cmocka_unit_test(test_starts_spaced_evenly),
             cmocka_unit_test(test_key_shares_through_file),
             cmocka_unit_test(test_wait_blocks_for_the_slot),
             cmocka_unit_test(test_unusable_dir_paces_alone))
