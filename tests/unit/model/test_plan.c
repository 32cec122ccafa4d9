/* test_plan.c - chunking: sizes, product separation, order, determinism. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "orch/model/config.h"
#include "orch/base/err.h"
#include "orch/model/inventory.h"
#include "orch/model/plan.h"
#include "orch/model/waves.h"
#include "torture.h"

/* An inventory of n devices; product of device i is products[pattern(i)].
 * pattern: 0 = all pkA, 1 = alternate pkA/pkB in runs of 3. */
static void make_inventory(struct orch_inventory *inv, size_t n, int pattern)
{
    char *csv = malloc(n * 32 + 64);
    size_t off = 0, i = 0;

    assert_non_null(csv);
    off += (size_t)sprintf(csv + off, "DeviceName,ProductKey\n");
    for (i = 0; i < n; i++) {
        const char *pk = pattern == 1 && (i / 3) % 2 ? "pkB" : "pkA";
        off += (size_t)sprintf(csv + off, "dev-%06zu,%s\n", i, pk);
    }
    torture_load_inventory(inv, csv, NULL);
    free(csv);
}

static void config_with(struct orch_config *cfg, int chunk, const char *fw)
{
    orch_config_init(cfg);
    cfg->chunk_size = chunk;
    if (fw)
        cfg->firmware_id = strdup(fw);
}

/* Every device exactly once, each chunk within bounds and single-product,
 * indices 0..n-1 in order. */
static void check_plan(const struct orch_plan *plan,
                       const struct orch_inventory *inv, int chunk)
{
    size_t i = 0, total = 0;
    uint32_t j = 0;
    char *seen = calloc(inv->n ? inv->n : 1, 1);

    assert_non_null(seen);
    for (i = 0; i < plan->nchunks; i++) {
        const struct orch_chunk *c = &plan->chunks[i];
        assert_int_equal(c->index, i);
        assert_true(c->count >= 1 && c->count <= (uint32_t)chunk);
        for (j = 0; j < c->count; j++) {
            uint32_t d = plan->order[c->first + j];
            assert_int_equal(inv->dev[d].product, c->product);
            assert_false(seen[d]);
            seen[d] = 1;
            assert_string_equal(orch_plan_device(plan, c, j),
                                orch_inventory_name(inv, d));
        }
        total += c->count;
    }
    assert_int_equal(total, inv->n);
    free(seen);
}

static void test_boundaries(void **state)
{
    static const size_t sizes[] = {1, 199, 200, 201, 399, 400, 401};
    static const size_t want[] = {1, 1, 1, 2, 2, 2, 3};
    size_t k = 0;

    (void)state;
    for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        struct orch_inventory inv;
        struct orch_config cfg;
        struct orch_plan plan;
        struct orch_diag diag;

        make_inventory(&inv, sizes[k], 0);
        config_with(&cfg, 200, "FW1");
        assert_int_equal(orch_plan_build(&plan, &inv, &cfg, &diag), 0);
        assert_int_equal(plan.nchunks, want[k]);
        assert_int_equal(plan.chunks_per_product[0], want[k]);
        check_plan(&plan, &inv, 200);
        /* Full chunks first, the remainder last. */
        if (sizes[k] == 201) {
            assert_int_equal(plan.chunks[0].count, 200);
            assert_int_equal(plan.chunks[1].count, 1);
            assert_string_equal(orch_plan_device(&plan, &plan.chunks[1], 0),
                                "dev-000200");
        }
        assert_string_equal(plan.chunks[0].firmware_id, "FW1");
        assert_string_equal(orch_plan_product(&plan, &plan.chunks[0]), "pkA");
        torture_plan_cleanup(&plan, &inv, &cfg);
    }
}

static void test_products_never_mixed(void **state)
{
    struct orch_inventory inv;
    struct orch_config cfg;
    struct orch_plan plan;
    struct orch_diag diag;
    size_t i = 0;

    (void)state;
    /* 1000 devices alternating in runs of 3: 501 pkA (first seen), 499
     * pkB. */
    make_inventory(&inv, 1000, 1);
    config_with(&cfg, 200, NULL);
    torture_config_add_firmware(&cfg, "pkA", "FW-A");
    torture_config_add_firmware(&cfg, "pkB", "FW-B");
    assert_int_equal(orch_plan_build(&plan, &inv, &cfg, &diag), 0);
    assert_int_equal(inv.nproducts, 2);
    assert_int_equal(plan.chunks_per_product[0], 3);
    assert_int_equal(plan.chunks_per_product[1], 3);
    assert_int_equal(plan.nchunks, 6);
    check_plan(&plan, &inv, 200);
    for (i = 0; i < 3; i++) {
        assert_int_equal(plan.chunks[i].product, 0);
        assert_string_equal(plan.chunks[i].firmware_id, "FW-A");
        assert_int_equal(plan.chunks[i + 3].product, 1);
        assert_string_equal(plan.chunks[i + 3].firmware_id, "FW-B");
    }
    assert_int_equal(plan.chunks[2].count, 101);
    assert_int_equal(plan.chunks[5].count, 99);
    /* Inventory order within a product. */
    assert_string_equal(orch_plan_device(&plan, &plan.chunks[0], 0),
                        "dev-000000");
    assert_string_equal(orch_plan_device(&plan, &plan.chunks[0], 3),
                        "dev-000006");
    assert_string_equal(orch_plan_device(&plan, &plan.chunks[3], 0),
                        "dev-000003");
    torture_plan_cleanup(&plan, &inv, &cfg);
}

static void test_chunk_size_one(void **state)
{
    struct orch_inventory inv;
    struct orch_config cfg;
    struct orch_plan plan;
    struct orch_diag diag;
    size_t i = 0;

    (void)state;
    make_inventory(&inv, 25, 1);
    config_with(&cfg, 1, "FW");
    assert_int_equal(orch_plan_build(&plan, &inv, &cfg, &diag), 0);
    assert_int_equal(plan.nchunks, 25);
    for (i = 0; i < plan.nchunks; i++)
        assert_int_equal(plan.chunks[i].count, 1);
    check_plan(&plan, &inv, 1);
    torture_plan_cleanup(&plan, &inv, &cfg);
}

static void test_deterministic(void **state)
{
    struct orch_inventory inv1, inv2;
    struct orch_config cfg;
    struct orch_plan a, b;
    struct orch_diag diag;
    size_t i = 0;
    uint32_t j = 0;

    (void)state;
    make_inventory(&inv1, 777, 1);
    make_inventory(&inv2, 777, 1);
    config_with(&cfg, 50, "FW");
    assert_int_equal(orch_plan_build(&a, &inv1, &cfg, &diag), 0);
    assert_int_equal(orch_plan_build(&b, &inv2, &cfg, &diag), 0);
    assert_int_equal(a.nchunks, b.nchunks);
    for (i = 0; i < a.nchunks; i++) {
        assert_int_equal(a.chunks[i].product, b.chunks[i].product);
        assert_int_equal(a.chunks[i].count, b.chunks[i].count);
        for (j = 0; j < a.chunks[i].count; j++)
            assert_string_equal(orch_plan_device(&a, &a.chunks[i], j),
                                orch_plan_device(&b, &b.chunks[i], j));
    }
    orch_plan_cleanup(&a);
    orch_plan_cleanup(&b);
    orch_config_cleanup(&cfg);
    orch_inventory_cleanup(&inv1);
    orch_inventory_cleanup(&inv2);
}

/* The waves of a plan, checked against its chunks: each chunk in one wave,
 * a wave a contiguous range. */
static void waves_of(const struct orch_plan *plan, struct orch_wave_plan *wp)
{
    struct orch_diag diag = {{0}};

    assert_int_equal(orch_waves_from_plan(plan->chunks, plan->nchunks,
                                          plan->nwaves, wp, &diag),
                     0);
}

/* Devices of product p in chunks [first, end). */
static uint64_t product_devices(const struct orch_plan *plan, size_t first,
                                size_t end, uint32_t p)
{
    uint64_t n = 0;
    size_t i = 0;

    for (i = first; i < end; i++)
        n += plan->chunks[i].product == p ? plan->chunks[i].count : 0;
    return n;
}

static void test_waves_exact_size(void **state)
{
    struct orch_inventory inv;
    struct orch_config cfg;
    struct orch_plan plan;
    struct orch_wave_plan wp;
    struct orch_diag diag;

    (void)state;
    /* 10,000 devices, --waves 1%,100%: a canary of exactly 100 devices in
     * one chunk, then 9,900 in 50 chunks. */
    make_inventory(&inv, 10000, 0);
    config_with(&cfg, 200, "FW");
    cfg.waves = strdup("1%,100%");
    cfg.wave_cut = strdup(ORCH_WAVE_CUT_EXACT);
    assert_int_equal(orch_plan_build(&plan, &inv, &cfg, &diag), 0);
    check_plan(&plan, &inv, 200);
    assert_int_equal(plan.nwaves, 2);
    assert_int_equal(plan.nchunks, 51);
    assert_int_equal(plan.chunks[0].count, 100);
    assert_int_equal(plan.chunks[0].wave, 0);
    assert_int_equal(plan.chunks[1].wave, 1);
    /* Inventory order: the canary is the first 100 devices. */
    assert_string_equal(orch_plan_device(&plan, &plan.chunks[0], 99),
                        "dev-000099");
    assert_string_equal(orch_plan_device(&plan, &plan.chunks[1], 0),
                        "dev-000100");
    waves_of(&plan, &wp);
    assert_int_equal(wp.n, 2);
    assert_int_equal(wp.merged, 0);
    assert_int_equal(wp.w[0].first, 0);
    assert_int_equal(wp.w[0].end, 1);
    assert_int_equal(wp.w[0].devices, 100);
    assert_int_equal(wp.w[1].first, 1);
    assert_int_equal(wp.w[1].end, 51);
    assert_int_equal(wp.w[1].devices, 9900);
    assert_int_equal(wp.w[1].cumulative, 10000);
    orch_plan_cleanup(&plan);

    /* Counts: 250,5000,all -> 250 (two chunks), 4,750, 5,000. */
    free(cfg.waves);
    cfg.waves = strdup("250,5000,all");
    assert_int_equal(orch_plan_build(&plan, &inv, &cfg, &diag), 0);
    waves_of(&plan, &wp);
    assert_int_equal(wp.n, 3);
    assert_int_equal(wp.w[0].devices, 250);
    assert_int_equal(wp.w[0].end, 2);
    assert_int_equal(wp.w[1].devices, 4750);
    assert_int_equal(wp.w[2].cumulative, 10000);
    orch_plan_cleanup(&plan);

    /* A spec that stops short is refused at the plan. */
    free(cfg.waves);
    cfg.waves = strdup("200,5000");
    assert_int_equal(orch_plan_build(&plan, &inv, &cfg, &diag), ORCH_ECONFIG);
    assert_non_null(strstr(diag.msg, "end the spec with all"));

    /* Without the exact cut (an old journal) the plan has no waves. */
    free(cfg.waves);
    cfg.waves = strdup("1%,100%");
    free(cfg.wave_cut);
    cfg.wave_cut = NULL;
    assert_int_equal(orch_plan_build(&plan, &inv, &cfg, &diag), 0);
    assert_int_equal(plan.nwaves, 1);
    assert_int_equal(plan.nchunks, 50);
    assert_int_equal(plan.chunks[0].count, 200);
    torture_plan_cleanup(&plan, &inv, &cfg);
}

static void test_waves_cut_per_product(void **state)
{
    struct orch_inventory inv;
    struct orch_config cfg;
    struct orch_plan plan, again;
    struct orch_wave_plan wp;
    struct orch_diag diag;
    size_t i = 0, k = 0;
    uint32_t j = 0;

    (void)state;
    /* 1000 devices in runs of 3: 501 pkA, 499 pkB; 1%,10%,100%. */
    make_inventory(&inv, 1000, 1);
    config_with(&cfg, 200, NULL);
    torture_config_add_firmware(&cfg, "pkA", "FW-A");
    torture_config_add_firmware(&cfg, "pkB", "FW-B");
    cfg.waves = strdup("1%,10%,100%");
    cfg.wave_cut = strdup(ORCH_WAVE_CUT_EXACT);
    assert_int_equal(orch_plan_build(&plan, &inv, &cfg, &diag), 0);
    check_plan(&plan, &inv, 200);
    waves_of(&plan, &wp);
    assert_int_equal(wp.n, 3);
    /* 10 devices: 5 + 5 (5.01 / 4.99); 100: 50 + 50; then the rest. */
    assert_int_equal(wp.w[0].devices, 10);
    assert_int_equal(product_devices(&plan, wp.w[0].first, wp.w[0].end, 0), 5);
    assert_int_equal(product_devices(&plan, wp.w[0].first, wp.w[0].end, 1), 5);
    assert_int_equal(wp.w[1].devices, 90);
    assert_int_equal(product_devices(&plan, wp.w[1].first, wp.w[1].end, 0),
                     45);
    assert_int_equal(product_devices(&plan, wp.w[1].first, wp.w[1].end, 1),
                     45);
    assert_int_equal(wp.w[2].cumulative, 1000);
    /* Each wave: products in order of first appearance, one firmware a
     * chunk, chunks within bounds. */
    for (k = 0; k < wp.n; k++) {
        for (i = wp.w[k].first; i + 1 < wp.w[k].end; i++)
            assert_true(plan.chunks[i].product <= plan.chunks[i + 1].product);
        for (i = wp.w[k].first; i < wp.w[k].end; i++)
            assert_int_equal(plan.chunks[i].wave, k);
    }
    /* Deterministic. */
    assert_int_equal(orch_plan_build(&again, &inv, &cfg, &diag), 0);
    assert_int_equal(again.nchunks, plan.nchunks);
    for (i = 0; i < plan.nchunks; i++) {
        assert_int_equal(again.chunks[i].count, plan.chunks[i].count);
        for (j = 0; j < plan.chunks[i].count; j++)
            assert_string_equal(orch_plan_device(&plan, &plan.chunks[i], j),
                                orch_plan_device(&again, &again.chunks[i], j));
    }
    orch_plan_cleanup(&again);
    torture_plan_cleanup(&plan, &inv, &cfg);
}

static void test_missing_firmware(void **state)
{
    struct orch_inventory inv;
    struct orch_config cfg;
    struct orch_plan plan;
    struct orch_diag diag;

    (void)state;
    make_inventory(&inv, 10, 1);
    config_with(&cfg, 200, NULL);
    torture_config_add_firmware(&cfg, "pkA", "FW-A");
    assert_int_equal(orch_plan_build(&plan, &inv, &cfg, &diag), ORCH_ECONFIG);
    assert_non_null(strstr(diag.msg, "\"pkB\""));
    assert_non_null(strstr(diag.msg, "--firmware pkB=FIRMWARE_ID"));
    orch_plan_cleanup(&plan); /* harmless after a failure */
    orch_config_cleanup(&cfg);

    /* --firmware-id covers every product without a --firmware entry. */
    config_with(&cfg, 200, "FW-ALL");
    torture_config_add_firmware(&cfg, "pkA", "FW-A");
    assert_int_equal(orch_plan_build(&plan, &inv, &cfg, &diag), 0);
    assert_string_equal(plan.chunks[0].firmware_id, "FW-A");
    assert_string_equal(plan.chunks[1].firmware_id, "FW-ALL");
    torture_plan_cleanup(&plan, &inv, &cfg);
}

static void test_bad_chunk_size_and_empty(void **state)
{
    struct orch_inventory inv;
    struct orch_config cfg;
    struct orch_plan plan;
    struct orch_diag diag;

    (void)state;
    make_inventory(&inv, 0, 0);
    config_with(&cfg, 0, "FW");
    assert_int_equal(orch_plan_build(&plan, &inv, &cfg, &diag), ORCH_ECONFIG);
    cfg.chunk_size = 201;
    assert_int_equal(orch_plan_build(&plan, &inv, &cfg, &diag), ORCH_ECONFIG);
    cfg.chunk_size = 200;
    assert_int_equal(orch_plan_build(&plan, &inv, &cfg, &diag), 0);
    assert_int_equal(plan.nchunks, 0);
    orch_plan_cleanup(&plan);
    orch_plan_cleanup(NULL);
    orch_config_cleanup(&cfg);
    orch_inventory_cleanup(&inv);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(test_boundaries),
    cmocka_unit_test(test_products_never_mixed),
    cmocka_unit_test(test_chunk_size_one),
    cmocka_unit_test(test_deterministic),
    cmocka_unit_test(test_waves_exact_size),
    cmocka_unit_test(test_waves_cut_per_product),
    cmocka_unit_test(test_missing_firmware),
    cmocka_unit_test(test_bad_chunk_size_and_empty))
