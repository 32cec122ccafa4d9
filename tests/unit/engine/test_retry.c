/* test_retry.c - outcome classification, backoff bounds, retry-after hints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "orch/cloud/api.h"
#include "orch/engine/retry.h"
#include "torture.h"

/* A decoded answer built by hand (the decoder has its own tests). */
static struct orch_response answer(long status, bool is_json, bool success,
                                   const char *code)
{
    struct orch_response r;

    memset(&r, 0, sizeof(r));
    r.http_status = status;
    r.is_json = is_json;
    r.success = success;
    snprintf(r.code, sizeof(r.code), "%s", code);
    return r;
}

static enum orch_verdict classify_answer(long status, const char *code)
{
    struct orch_response r = answer(status, true, false, code);
    struct orch_outcome o = {0, true, &r};

    return orch_retry_classify(&o);
}

static enum orch_verdict classify_transport(int err, bool sent)
{
    struct orch_outcome o = {err, sent, NULL};

    return orch_retry_classify(&o);
}

static void test_success_is_created(void **state)
{
    struct orch_response r = answer(200, true, true, "");
    struct orch_outcome o = {0, true, &r};

    (void)state;
    assert_int_equal(orch_retry_classify(&o), ORCH_VERDICT_CREATED);
}

static void test_transport_before_sending_is_retried(void **state)
{
    (void)state;
    assert_int_equal(classify_transport(CURLE_COULDNT_CONNECT, false),
                     ORCH_VERDICT_RETRY);
    assert_int_equal(classify_transport(CURLE_COULDNT_RESOLVE_HOST, false),
                     ORCH_VERDICT_RETRY);
    /* A connect failure cannot have sent anything, whatever the flag. */
    assert_int_equal(classify_transport(CURLE_COULDNT_CONNECT, true),
                     ORCH_VERDICT_RETRY);
    assert_int_equal(classify_transport(CURLE_SSL_CONNECT_ERROR, true),
                     ORCH_VERDICT_RETRY);
    /* A timeout while connecting (nothing sent) is safe to resend. */
    assert_int_equal(classify_transport(CURLE_OPERATION_TIMEDOUT, false),
                     ORCH_VERDICT_RETRY);
    assert_int_equal(classify_transport(CURLE_SEND_ERROR, false),
                     ORCH_VERDICT_RETRY);
}

static void test_transport_after_sending_is_ambiguous(void **state)
{
    (void)state;
    assert_int_equal(classify_transport(CURLE_OPERATION_TIMEDOUT, true),
                     ORCH_VERDICT_AMBIGUOUS);
    assert_int_equal(classify_transport(CURLE_GOT_NOTHING, true),
                     ORCH_VERDICT_AMBIGUOUS);
    assert_int_equal(classify_transport(CURLE_RECV_ERROR, true),
                     ORCH_VERDICT_AMBIGUOUS);
    assert_int_equal(classify_transport(CURLE_PARTIAL_FILE, true),
                     ORCH_VERDICT_AMBIGUOUS);
}

static void test_transport_config_errors_are_fatal(void **state)
{
    (void)state;
    assert_int_equal(classify_transport(CURLE_PEER_FAILED_VERIFICATION, false),
                     ORCH_VERDICT_FATAL);
    assert_int_equal(classify_transport(CURLE_SSL_CACERT_BADFILE, false),
                     ORCH_VERDICT_FATAL);
    assert_int_equal(classify_transport(CURLE_UNSUPPORTED_PROTOCOL, false),
                     ORCH_VERDICT_FATAL);
}

static void test_not_processed_codes_are_retried(void **state)
{
    (void)state;
    assert_int_equal(classify_answer(400, "Throttling.User"),
                     ORCH_VERDICT_RETRY);
    assert_int_equal(classify_answer(503, "Throttling.User"),
                     ORCH_VERDICT_RETRY);
    assert_int_equal(classify_answer(400, "Throttling"), ORCH_VERDICT_RETRY);
    assert_int_equal(classify_answer(400, "Throttling.Api"),
                     ORCH_VERDICT_RETRY);
    assert_int_equal(classify_answer(503, "ServiceUnavailable"),
                     ORCH_VERDICT_RETRY);
    assert_int_equal(classify_answer(503, "ServiceUnavailableTemporary"),
                     ORCH_VERDICT_RETRY);
    assert_int_equal(classify_answer(400, "SignatureNonceUsed"),
                     ORCH_VERDICT_RETRY);
    assert_int_equal(classify_answer(200, "iot.common.TooManyRequest"),
                     ORCH_VERDICT_RETRY);
    /* A bare 503 / 429 page from a proxy: refused at the door. */
    assert_int_equal(classify_answer(503, "BadResponse"), ORCH_VERDICT_RETRY);
    assert_int_equal(classify_answer(429, "HTTP429"), ORCH_VERDICT_RETRY);
}

static void test_processed_5xx_is_ambiguous(void **state)
{
    (void)state;
    assert_int_equal(classify_answer(500, "InternalError"),
                     ORCH_VERDICT_AMBIGUOUS);
    assert_int_equal(classify_answer(500, "InternalFailure"),
                     ORCH_VERDICT_AMBIGUOUS);
    assert_int_equal(classify_answer(502, "BadResponse"),
                     ORCH_VERDICT_AMBIGUOUS);
    assert_int_equal(classify_answer(504, "HTTP504"), ORCH_VERDICT_AMBIGUOUS);
    assert_int_equal(classify_answer(200, "iot.system.SystemException"),
                     ORCH_VERDICT_AMBIGUOUS);
}

static void test_unreadable_2xx_is_ambiguous(void **state)
{
    struct orch_response r = answer(200, false, false, "BadResponse");
    struct orch_outcome o = {0, true, &r};

    (void)state;
    assert_int_equal(orch_retry_classify(&o), ORCH_VERDICT_AMBIGUOUS);
    /* The same garbage on a 4xx is a plain failure. */
    r = answer(400, false, false, "BadResponse");
    assert_int_equal(orch_retry_classify(&o), ORCH_VERDICT_FAILED);
}

static void test_credentials_rejected_is_fatal(void **state)
{
    static const char *const codes[] = {
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId.Inactive",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "InvalidSecurityToken.Expired",
        "InvalidSecurityToken.Malformed",
        "InvalidSecurityToken.MismatchWithAccessKey",
        "MissingSecurityToken",
        "Forbidden.RAM",
        "iot.common.RamActionPermissionDeny",
        "iot.common.AuthActionPermissionDeny",
        "InvalidTimeStamp.Expired",
        "IllegalTimestamp",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        assert_int_equal(classify_answer(400, codes[i]), ORCH_VERDICT_FATAL);
        /* Also when IoT wraps it in a 200 Success:false. */
        assert_int_equal(classify_answer(200, codes[i]), ORCH_VERDICT_FATAL);
    }
    assert_int_equal(classify_answer(404, "InvalidAccessKeyId.NotFound"),
                     ORCH_VERDICT_FATAL);
}

static void test_uri_too_long_resends_as_form(void **state)
{
    (void)state;
    assert_int_equal(classify_answer(414, "BadResponse"),
                     ORCH_VERDICT_RESEND_FORM);
    assert_int_equal(classify_answer(431, "HTTP431"), ORCH_VERDICT_RESEND_FORM);
}

static void test_business_errors_fail(void **state)
{
    static const char *const codes[] = {
        "MissingFirmwareId",          "iot.ota.FirmwareNotVerified",
        "iot.ota.FirmwareNotFound",   "iot.device.NotExistedDevice",
        "iot.prod.NotExistedProduct", "iot.check.InvalidFormattedParameter",
        "InvalidParameter",           "HTTP200",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        assert_int_equal(classify_answer(200, codes[i]), ORCH_VERDICT_FAILED);
        assert_int_equal(classify_answer(400, codes[i]), ORCH_VERDICT_FAILED);
    }
    assert_int_equal(classify_answer(404, "InvalidAction.Missing"),
                     ORCH_VERDICT_FAILED);
}

static void test_is_throttle(void **state)
{
    struct orch_response r;

    (void)state;
    r = answer(400, true, false, "Throttling.User");
    assert_true(orch_retry_is_throttle(&r));
    r = answer(503, true, false, "Throttling");
    assert_true(orch_retry_is_throttle(&r));
    r = answer(400, true, false, "Throttling.Api");
    assert_true(orch_retry_is_throttle(&r));
    r = answer(503, true, false, "ServiceUnavailable");
    assert_false(orch_retry_is_throttle(&r));
    r = answer(200, true, true, "");
    assert_false(orch_retry_is_throttle(&r));
    assert_false(orch_retry_is_throttle(NULL));
}

static void test_backoff_bounds(void **state)
{
    (void)state;
    /* attempt 1: [0, 200]; attempt 2: [0, 400]; ... capped at 20000. */
    assert_int_equal(orch_retry_backoff_ms(1, 200, 20000, 0), 0);
    assert_int_equal(orch_retry_backoff_ms(1, 200, 20000, 200), 200);
    assert_int_equal(orch_retry_backoff_ms(1, 200, 20000, 201), 0);
    assert_int_equal(orch_retry_backoff_ms(2, 200, 20000, 400), 400);
    assert_int_equal(orch_retry_backoff_ms(2, 200, 20000, 401), 0);
    assert_int_equal(orch_retry_backoff_ms(8, 200, 20000, 20000), 20000);
    assert_int_equal(orch_retry_backoff_ms(8, 200, 20000, 20001), 0);
    /* attempt 0 counts as 1; huge attempts do not overflow. */
    assert_int_equal(orch_retry_backoff_ms(0, 200, 20000, 200), 200);
    for (unsigned a = 1; a < 200; a++) {
        uint64_t ceiling = a < 8 ? 200ULL << (a - 1) : 20000;

        if (ceiling > 20000)
            ceiling = 20000;
        for (uint64_t rnd = 0; rnd < 64; rnd++) {
            uint64_t r = rnd * 0x9E3779B97F4A7C15ULL;
            uint64_t d = orch_retry_backoff_ms(a, 200, 20000, r);

            assert_true(d <= ceiling);
            assert_int_equal(d, r % (ceiling + 1));
        }
    }
    assert_true(orch_retry_backoff_ms(64, 1, UINT64_MAX, UINT64_MAX) <=
                UINT64_MAX);
}

static void test_parse_hint(void **state)
{
    (void)state;
    assert_int_equal(
        orch_retry_parse_hint("x-ratelimit-user-api",
                              "Limit:20,Remain:0,TimeLeft:1234,Reset:5"),
        1234);
    assert_int_equal(orch_retry_parse_hint("X-RateLimit-User", "TimeLeft:800"),
                     800);
    assert_int_equal(orch_retry_parse_hint("x-ratelimit-user",
                                           " Limit : 20 , timeleft : 77 "),
                     77);
    assert_int_equal(orch_retry_parse_hint("x-ratelimit-user", "Limit:20"), 0);
    assert_int_equal(orch_retry_parse_hint("x-ratelimit-user", "TimeLeft:"), 0);
    assert_int_equal(orch_retry_parse_hint("x-ratelimit-user", ""), 0);
    assert_int_equal(orch_retry_parse_hint("Retry-After", "3"), 3000);
    assert_int_equal(orch_retry_parse_hint("retry-after", " 0"), 0);
    assert_int_equal(
        orch_retry_parse_hint("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"),
        0);
    /* Absurd values are clamped to an hour, never wrap. */
    assert_int_equal(
        orch_retry_parse_hint("Retry-After", "99999999999999999999999"),
        3600000);
    assert_int_equal(orch_retry_parse_hint("x-ratelimit-user",
                                           "TimeLeft:99999999999999999999"),
                     3600000);
    assert_int_equal(orch_retry_parse_hint("Content-Type", "TimeLeft:5"), 0);
    assert_int_equal(orch_retry_parse_hint(NULL, "1"), 0);
    assert_int_equal(orch_retry_parse_hint("Retry-After", NULL), 0);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(test_success_is_created),
    cmocka_unit_test(test_transport_before_sending_is_retried),
    cmocka_unit_test(test_transport_after_sending_is_ambiguous),
    cmocka_unit_test(test_transport_config_errors_are_fatal),
    cmocka_unit_test(test_not_processed_codes_are_retried),
    cmocka_unit_test(test_processed_5xx_is_ambiguous),
    cmocka_unit_test(test_unreadable_2xx_is_ambiguous),
    cmocka_unit_test(test_credentials_rejected_is_fatal),
    cmocka_unit_test(test_uri_too_long_resends_as_form),
    cmocka_unit_test(test_business_errors_fail),
    cmocka_unit_test(test_is_throttle),
    cmocka_unit_test(test_backoff_bounds),
    cmocka_unit_test(test_parse_hint))
