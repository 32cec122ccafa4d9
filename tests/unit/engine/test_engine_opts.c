/* test_engine_opts.c - the engine's options from a run's config: every
 * field the dispatcher reads, strings borrowed, defaults of init. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "orch/cloud/credentials.h"
#include "orch/engine/engine_opts.h"
#include "orch/model/config.h"
#include "torture.h"

static void test_init_defaults(void **state)
{
    struct orch_engine_opts o;

    (void)state;
    memset(&o, 0xff, sizeof(o));
    orch_engine_opts_init(&o);
    assert_null(o.endpoint);
    assert_null(o.ca_bundle);
    assert_false(o.insecure);
    assert_int_equal(o.signature_version, 3);
    assert_int_equal(o.pace_margin_ms, ORCH_ENGINE_PACE_MARGIN_MS);
    assert_int_equal(o.window_margin_ms, ORCH_ENGINE_WINDOW_MARGIN_MS);
    assert_true(o.window_margin_ms <= o.pace_margin_ms);
    assert_true(o.qps == 0);
    assert_int_equal(o.fatal_streak, 0);
}

static void test_from_config(void **state)
{
    struct orch_config cfg;
    struct orch_engine_opts o;

    (void)state;
    orch_config_init(&cfg);
    cfg.endpoint = strdup("https://iot.cn-shanghai.aliyuncs.com");
    cfg.ca_bundle = strdup("/etc/ssl/ca.pem");
    cfg.insecure = true;
    cfg.signature_version = 2;
    cfg.request_timeout_ms = 12000;
    cfg.qps = 17.5;
    cfg.query_qps = 4;
    cfg.max_in_flight = 9;
    cfg.max_attempts = 5;
    cfg.backoff_base_ms = 7;
    cfg.fatal_streak = 2;
    orch_engine_opts_from_config(&o, &cfg);
    assert_ptr_equal(o.endpoint, cfg.endpoint); /* borrowed */
    assert_ptr_equal(o.ca_bundle, cfg.ca_bundle);
    assert_true(o.insecure);
    assert_int_equal(o.signature_version, 2);
    assert_int_equal(o.request_timeout_ms, 12000);
    assert_true(o.qps == 17.5);
    assert_true(o.query_qps == 4);
    assert_int_equal(o.max_in_flight, 9);
    assert_int_equal(o.max_attempts, 5);
    assert_int_equal(o.backoff_base_ms, 7);
    assert_int_equal(o.fatal_streak, 2);
    assert_int_equal(o.pace_margin_ms, ORCH_ENGINE_PACE_MARGIN_MS);
    assert_int_equal(o.window_margin_ms, ORCH_ENGINE_WINDOW_MARGIN_MS);
    orch_config_cleanup(&cfg);
}

/* Static keys share their quota by AccessKeyId; refreshed temporary
 * credentials by their source, since every process and every refresh
 * gets another temporary AccessKeyId of the same account. */
static void test_quota_key(void **state)
{
    struct orch_credentials cred;
    struct orch_engine_opts o;

    (void)state;
    memset(&cred, 0, sizeof(cred));
    cred.access_key_id = "STS.first";
    cred.source = "RamRoleArn profile \"ops\"";
    orch_engine_opts_set_quota_key(&o, NULL);
    assert_null(o.quota_key);
    orch_engine_opts_set_quota_key(&o, &cred);
    assert_string_equal(o.quota_key, "STS.first");
    cred.live = (struct orch_credlive *)&cred; /* any non-NULL holder */
    orch_engine_opts_set_quota_key(&o, &cred);
    assert_string_equal(o.quota_key, "RamRoleArn profile \"ops\"");
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(test_quota_key),
    cmocka_unit_test(test_init_defaults),
    cmocka_unit_test(test_from_config))
