/* test_credanswer.c - a credential service's answer into a fetched set:
 * the STS and flat shapes, Expiration, refusals (ORCH_ECRED) versus
 * retryable answers (ORCH_EHTTP), and no secret quoted in the diag. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/cloud/credanswer.h"
#include "orch/cloud/credsource.h"

#include <string.h>

/* 2025-01-02T03:04:05Z */
#define EXP_MS (1735787045LL * 1000)

static int decode(enum orch_credanswer_shape shape, long status,
                  const char *body, const char *const *avoid,
                  struct orch_credset *out, struct orch_diag *d)
{
    memset(out, 0, sizeof(*out));
    memset(d, 0, sizeof(*d));
    return orch_credanswer_decode(shape, "STS AssumeRole for test", status,
                                  body, strlen(body), avoid, out, d);
}

static void sts_shape(void **state)
{
    struct orch_credset s;
    struct orch_diag d;

    (void)state;
    assert_int_equal(
        decode(ORCH_CREDANSWER_STS, 200,
               "{\"RequestId\":\"r\",\"AssumedRoleUser\":{},\"Credentials\":"
               "{\"AccessKeyId\":\"STS.abc\",\"AccessKeySecret\":\"sek\","
               "\"SecurityToken\":\"tok\",\"Expiration\":"
               "\"2025-01-02T03:04:05Z\"}}",
               NULL, &s, &d),
        0);
    assert_string_equal(s.cred.access_key_id, "STS.abc");
    assert_string_equal(s.cred.secret.s, "sek");
    assert_string_equal(s.cred.token.s, "tok");
    assert_int_equal(s.expires_ms, EXP_MS);
    orch_credset_cleanup(&s);
}

static void flat_shape_needs_success(void **state)
{
    struct orch_credset s;
    struct orch_diag d;

    (void)state;
    assert_int_equal(
        decode(ORCH_CREDANSWER_FLAT, 200,
               "{\"Code\":\"Success\",\"AccessKeyId\":\"STS.k\","
               "\"AccessKeySecret\":\"s\",\"SecurityToken\":\"t\","
               "\"Expiration\":\"2025-01-02T03:04:05Z\","
               "\"LastUpdated\":\"2025-01-02T02:04:05Z\"}",
               NULL, &s, &d),
        0);
    assert_string_equal(s.cred.access_key_id, "STS.k");
    assert_int_equal(s.expires_ms, EXP_MS);
    orch_credset_cleanup(&s);
    assert_int_equal(decode(ORCH_CREDANSWER_FLAT, 200,
                            "{\"Code\":\"Failed\",\"AccessKeyId\":\"a\","
                            "\"AccessKeySecret\":\"s\"}",
                            NULL, &s, &d),
                     ORCH_ECRED);
    assert_non_null(strstr(d.msg, "Failed"));
    assert_null(s.cred.access_key_id);
    /* Without Expiration: does not expire as far as we know. */
    assert_int_equal(decode(ORCH_CREDANSWER_FLAT, 200,
                            "{\"Code\":\"Success\",\"AccessKeyId\":\"a\","
                            "\"AccessKeySecret\":\"s\"}",
                            NULL, &s, &d),
                     0);
    assert_int_equal(s.expires_ms, -1);
    assert_null(s.cred.token.s);
    orch_credset_cleanup(&s);
}

static void refusal_and_retryable(void **state)
{
    struct orch_credset s;
    struct orch_diag d;

    (void)state;
    assert_int_equal(decode(ORCH_CREDANSWER_STS, 400,
                            "{\"Code\":\"InvalidParameter.RoleArn\","
                            "\"Message\":\"The parameter RoleArn is wrongly "
                            "formed.\"}",
                            NULL, &s, &d),
                     ORCH_ECRED);
    assert_non_null(strstr(d.msg, "STS AssumeRole for test"));
    assert_non_null(strstr(d.msg, "HTTP 400"));
    assert_non_null(strstr(d.msg, "InvalidParameter.RoleArn"));
    assert_non_null(strstr(d.msg, "wrongly formed"));
    assert_int_equal(decode(ORCH_CREDANSWER_STS, 503, "<html>busy</html>",
                            NULL, &s, &d),
                     ORCH_EHTTP);
    assert_int_equal(decode(ORCH_CREDANSWER_STS, 400,
                            "{\"Code\":\"Throttling.User\",\"Message\":\"x\"}",
                            NULL, &s, &d),
                     ORCH_EHTTP);
    assert_int_equal(decode(ORCH_CREDANSWER_STS, 200, "{\"RequestId\":1}",
                            NULL, &s, &d),
                     ORCH_ECRED);
    assert_int_equal(decode(ORCH_CREDANSWER_STS, 200,
                            "{\"Credentials\":{\"AccessKeyId\":\"a\","
                            "\"AccessKeySecret\":\"s\",\"Expiration\":"
                            "\"tomorrow\"}}",
                            NULL, &s, &d),
                     ORCH_ECRED);
    assert_null(s.cred.access_key_id);
}

static void secrets_never_quoted(void **state)
{
    const char *const avoid[] = {"TOPSECRET-token", NULL};
    struct orch_credset s;
    struct orch_diag d;

    (void)state;
    assert_int_equal(
        decode(ORCH_CREDANSWER_STS, 400,
               "{\"Code\":\"SignatureDoesNotMatch\",\"Message\":\"Specified "
               "signature is not matched with our calculation. server string "
               "to sign is:POST&%2F&SecurityToken%3DTOPSECRET-token\"}",
               NULL, &s, &d),
        ORCH_ECRED);
    assert_non_null(strstr(d.msg, "SignatureDoesNotMatch"));
    assert_null(strstr(d.msg, "TOPSECRET"));
    assert_int_equal(decode(ORCH_CREDANSWER_STS, 400,
                            "{\"Code\":\"InvalidParameter.OIDCToken\","
                            "\"Message\":\"OIDCToken TOPSECRET-token is "
                            "invalid\"}",
                            avoid, &s, &d),
                     ORCH_ECRED);
    assert_non_null(strstr(d.msg, "InvalidParameter.OIDCToken"));
    assert_null(strstr(d.msg, "TOPSECRET"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sts_shape),
        cmocka_unit_test(flat_shape_needs_success),
        cmocka_unit_test(refusal_and_retryable),
        cmocka_unit_test(secrets_never_quoted),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
