/* test_query.c - the query batch at the query quota: every field as
 * given, the pace from the config's query quota. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "orch/engine/query.h"
#include "orch/model/config.h"
#include "torture.h"

static int build_none(void *ud, size_t item, struct orch_params *out)
{
    (void)ud;
    (void)item;
    (void)out;
    return 0;
}

static void done_none(void *ud, size_t item,
                      const struct orch_item_result *res)
{
    (void)ud;
    (void)item;
    (void)res;
}

static void test_batch_at_quota(void **state)
{
    struct orch_config cfg;
    struct orch_query_batch b;
    int ud = 0;

    (void)state;
    orch_config_init(&cfg);
    cfg.query_qps = 7.5;
    b = orch_query_batch_at_quota(&cfg, "ListOTATaskByJob", 42, build_none,
                                  done_none, &ud, "task counts");
    assert_string_equal(b.action, "ListOTATaskByJob");
    assert_true(b.qps == 7.5);
    assert_int_equal(b.nitems, 42);
    assert_ptr_equal(b.build, build_none);
    assert_ptr_equal(b.done, done_none);
    assert_ptr_equal(b.ud, &ud);
    assert_string_equal(b.label, "task counts");
    b = orch_query_batch_at_quota(&cfg, "QueryOTAJob", 0, build_none,
                                  done_none, NULL, NULL);
    assert_null(b.label);
    assert_int_equal(b.nitems, 0);
    orch_config_cleanup(&cfg);
}

TORTURE_MAIN(NULL, NULL, cmocka_unit_test(test_batch_at_quota))
