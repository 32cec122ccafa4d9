/* test_sts.c - the STS AssumeRole / AssumeRoleWithOIDC requests: the
 * common parameters (and the Signature) in the query, the role's in the
 * form body, the V2 signature over both, the signer's SecurityToken, the
 * unsigned OIDC form. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "orch/base/buf.h"
#include "orch/base/err.h"
#include "orch/cloud/credentials.h"
#include "orch/cloud/credsource.h"
#include "orch/cloud/params.h"
#include "orch/cloud/request.h"
#include "orch/cloud/sign.h"
#include "orch/cloud/sts.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define STS_URL "http://127.0.0.1:8080"
#define ROLE "acs:ram::1234567890123456:role/fleet-ops"
#define NOW_MS (1735787045LL * 1000)
#define NONCE "0123456789abcdef0123456789abcdef"

static char g_secret[] = "signer-secret";
static char g_token[] = "CAIS-signer-token";

static struct orch_credsource role_source(void)
{
    struct orch_credsource s;

    memset(&s, 0, sizeof(s));
    s.kind = ORCH_CRED_ASSUME_ROLE;
    s.role_arn = (char *)ROLE;
    s.session_name = (char *)"nightly";
    s.duration_s = 900;
    s.sts_url = (char *)STS_URL;
    return s;
}

static struct orch_credentials signer(bool with_token)
{
    struct orch_credentials c;

    memset(&c, 0, sizeof(c));
    c.access_key_id = (char *)"LTAIsigner";
    c.secret.s = g_secret;
    c.secret.len = strlen(g_secret);
    if (with_token) {
        c.token.s = g_token;
        c.token.len = strlen(g_token);
    }
    return c;
}

/* The query of req's URL and its body, parsed. */
static void split(const struct orch_request *req, struct orch_params *q,
                  struct orch_params *b)
{
    const char *url = orch_buf_str(&req->url);
    const char *qs = strchr(url, '?');

    assert_non_null(qs);
    assert_int_equal(strncmp(url, STS_URL "/?", strlen(STS_URL) + 2), 0);
    orch_params_init(q);
    orch_params_init(b);
    assert_int_equal(orch_params_parse(q, qs + 1, strlen(qs + 1)), 0);
    assert_int_equal(
        orch_params_parse(b, orch_buf_str(&req->body), req->body.len), 0);
}

static void assume_role_splits_query_and_body(void **state)
{
    struct orch_credsource s = role_source();
    struct orch_credentials c = signer(false);
    struct orch_request req;
    struct orch_params q, b;

    (void)state;
    s.external_id = (char *)"ext-1";
    orch_request_init(&req);
    assert_int_equal(orch_sts_assume_role(&req, &s, &c, NOW_MS, NONCE), 0);
    split(&req, &q, &b);
    assert_string_equal(orch_params_get(&q, "Action"), "AssumeRole");
    assert_string_equal(orch_params_get(&q, "Version"), "2015-04-01");
    assert_string_equal(orch_params_get(&q, "Format"), "JSON");
    assert_string_equal(orch_params_get(&q, "AccessKeyId"), "LTAIsigner");
    assert_string_equal(orch_params_get(&q, "Timestamp"),
                        "2025-01-02T03:04:05Z");
    assert_non_null(orch_params_get(&q, "Signature"));
    assert_null(orch_params_get(&q, "SecurityToken"));
    assert_null(orch_params_get(&q, "RoleArn"));
    assert_string_equal(orch_params_get(&b, "RoleArn"), ROLE);
    assert_string_equal(orch_params_get(&b, "RoleSessionName"), "nightly");
    assert_string_equal(orch_params_get(&b, "DurationSeconds"), "900");
    assert_string_equal(orch_params_get(&b, "ExternalId"), "ext-1");
    assert_null(orch_params_get(&b, "Policy"));
    assert_null(orch_params_get(&b, "Action"));
    orch_params_cleanup(&q);
    orch_params_cleanup(&b);
    orch_request_cleanup(&req);
}

/* The signature covers the query's and the body's parameters together,
 * as the server (and the emulator's verifier) recompute it. */
static void assume_role_signature_covers_both(void **state)
{
    struct orch_credsource s = role_source();
    struct orch_credentials c = signer(true);
    struct orch_request req;
    struct orch_params q, b;
    char mine[ORCH_SIGN_V2_LEN];
    size_t i = 0;

    (void)state;
    orch_request_init(&req);
    assert_int_equal(orch_sts_assume_role(&req, &s, &c, NOW_MS, NONCE), 0);
    split(&req, &q, &b);
    assert_string_equal(orch_params_get(&q, "SecurityToken"), g_token);
    for (i = 0; i < b.n; i++)
        assert_int_equal(orch_params_add(&q, b.v[i].name, b.v[i].value), 0);
    assert_int_equal(orch_sign_v2(&q, "POST", g_secret, mine, NULL), 0);
    assert_string_equal(mine, orch_params_get(&q, "Signature"));
    /* A wrong secret gives another signature: the check can fail. */
    assert_int_equal(orch_sign_v2(&q, "POST", "other", mine, NULL), 0);
    assert_string_not_equal(mine, orch_params_get(&q, "Signature"));
    orch_params_cleanup(&q);
    orch_params_cleanup(&b);
    orch_request_cleanup(&req);
}

static void assume_role_defaults_and_refusals(void **state)
{
    struct orch_credsource s = role_source();
    struct orch_credentials c = signer(false);
    struct orch_request req;
    struct orch_params q, b;

    (void)state;
    s.session_name = NULL;
    s.duration_s = 0;
    s.policy = (char *)"{\"Statement\":[]}";
    orch_request_init(&req);
    assert_int_equal(orch_sts_assume_role(&req, &s, &c, NOW_MS, NONCE), 0);
    split(&req, &q, &b);
    assert_string_equal(orch_params_get(&b, "RoleSessionName"),
                        ORCH_STS_SESSION_DEFAULT);
    assert_string_equal(orch_params_get(&b, "DurationSeconds"), "3600");
    assert_string_equal(orch_params_get(&b, "Policy"), "{\"Statement\":[]}");
    orch_params_cleanup(&q);
    orch_params_cleanup(&b);
    s.role_arn = NULL;
    assert_int_equal(orch_sts_assume_role(&req, &s, &c, NOW_MS, NONCE),
                     ORCH_EINVAL);
    s = role_source();
    s.sts_url = (char *)"sts.aliyuncs.com/path";
    assert_int_equal(orch_sts_assume_role(&req, &s, &c, NOW_MS, NONCE),
                     ORCH_EINVAL);
    orch_request_cleanup(&req);
}

static void oidc_is_unsigned_with_token_in_body(void **state)
{
    struct orch_credsource s = role_source();
    struct orch_request req;
    struct orch_params q, b;

    (void)state;
    s.kind = ORCH_CRED_OIDC;
    s.oidc_provider_arn = (char *)"acs:ram::1234567890123456:oidc-provider/ack";
    orch_request_init(&req);
    assert_int_equal(orch_sts_assume_role_oidc(&req, &s, "jwt.token.x",
                                               NOW_MS),
                     0);
    split(&req, &q, &b);
    assert_string_equal(orch_params_get(&q, "Action"), "AssumeRoleWithOIDC");
    assert_string_equal(orch_params_get(&q, "Version"), "2015-04-01");
    assert_non_null(orch_params_get(&q, "Timestamp"));
    assert_null(orch_params_get(&q, "Signature"));
    assert_null(orch_params_get(&q, "AccessKeyId"));
    assert_null(orch_params_get(&q, "OIDCToken"));
    assert_string_equal(orch_params_get(&b, "OIDCToken"), "jwt.token.x");
    assert_string_equal(orch_params_get(&b, "OIDCProviderArn"),
                        s.oidc_provider_arn);
    assert_string_equal(orch_params_get(&b, "RoleArn"), ROLE);
    assert_null(strstr(orch_buf_str(&req.url), "jwt.token.x"));
    orch_params_cleanup(&q);
    orch_params_cleanup(&b);
    s.oidc_provider_arn = NULL;
    assert_int_equal(orch_sts_assume_role_oidc(&req, &s, "t", NOW_MS),
                     ORCH_EINVAL);
    orch_request_cleanup(&req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(assume_role_splits_query_and_body),
        cmocka_unit_test(assume_role_signature_covers_both),
        cmocka_unit_test(assume_role_defaults_and_refusals),
        cmocka_unit_test(oidc_is_unsigned_with_token_in_body),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
