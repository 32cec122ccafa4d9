/* test_emu_sts.c - the emulator's STS: the parameter checks in the order
 * and with the codes STS documents, the answer's shape, the minted key's
 * lifetime (DurationSeconds, or --sts-ttl-s) and account, the OIDC token
 * requirement; the flat answers of the credentials URI and metadata. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ops/emu_sts.h"
#include "world/emu_mint.h"

#include "orch/cloud/params.h"

#include "../emu_test.h"

#include <stdlib.h>
#include <string.h>

#define ROLE "acs:ram::1234567890123456:role/fleet-ops"
#define PROVIDER "acs:ram::1234567890123456:oidc-provider/ack"

/* Runs action with the "k=v" pairs of kv (NULL-terminated) signed by
 * "LTAIsigner"; the caller cleans r. */
static void run(struct emu_mint *m, const struct emu_sts_opts *o,
                const char *action, const char *const *kv,
                struct emu_result *r)
{
    struct orch_params p;
    struct emu_call c;

    orch_params_init(&p);
    for (size_t i = 0; kv[i]; i += 2)
        assert_int_equal(orch_params_add(&p, kv[i], kv[i + 1]), 0);
    memset(&c, 0, sizeof(c));
    c.action = action;
    c.params = &p;
    c.access_key_id = "LTAIsigner";
    c.request_id = "REQ-1";
    c.now_ms = NOW;
    assert_int_equal(emu_sts_call(m, o, &c, r), 0);
    orch_params_cleanup(&p);
}

static const char *code_of(const struct emu_result *r)
{
    return json_string_value(json_object_get(r->body, "Code"));
}

static void refusals_in_order(void **state)
{
    static const struct {
        const char *kv[8];
        const char *code;
    } rows[] = {
        {{"RoleSessionName", "s1", NULL}, "MissingRoleArn"},
        {{"RoleArn", "acs:ram::12a:role/x", "RoleSessionName", "s1", NULL},
         "InvalidParameter.RoleArn"},
        {{"RoleArn", "acs:ram::123:user/x", "RoleSessionName", "s1", NULL},
         "InvalidParameter.RoleArn"},
        {{"RoleArn", "acs:ram::123:role/", "RoleSessionName", "s1", NULL},
         "InvalidParameter.RoleArn"},
        {{"RoleArn", ROLE, NULL}, "MissingRoleSessionName"},
        {{"RoleArn", ROLE, "RoleSessionName", "a", NULL},
         "InvalidParameter.RoleSessionName"},
        {{"RoleArn", ROLE, "RoleSessionName", "a b", NULL},
         "InvalidParameter.RoleSessionName"},
        {{"RoleArn", ROLE, "RoleSessionName", "s1", "DurationSeconds", "899",
          NULL},
         "InvalidParameter.DurationSeconds"},
        {{"RoleArn", ROLE, "RoleSessionName", "s1", "DurationSeconds",
          "43201", NULL},
         "InvalidParameter.DurationSeconds"},
        {{"RoleArn", ROLE, "RoleSessionName", "s1", "DurationSeconds", "1h",
          NULL},
         "InvalidParameter.DurationSeconds"},
    };
    struct emu_mint *m = emu_mint_new();
    struct emu_sts_opts o = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct emu_result r;

        run(m, &o, "AssumeRole", rows[i].kv, &r);
        assert_int_equal(r.http_status, 400);
        assert_string_equal(code_of(&r), rows[i].code);
        assert_string_equal(r.code, rows[i].code);
        assert_non_null(json_object_get(r.body, "Message"));
        assert_string_equal(
            json_string_value(json_object_get(r.body, "RequestId")), "REQ-1");
        emu_result_cleanup(&r);
    }
    emu_mint_free(m);
}

static void assume_role_answer(void **state)
{
    const char *const kv[] = {"RoleArn", ROLE, "RoleSessionName", "nightly",
                              "DurationSeconds", "900", NULL};
    struct emu_mint *m = emu_mint_new();
    struct emu_sts_opts o = {0};
    struct emu_minted k;
    struct emu_result r;
    json_t *cred = NULL, *user = NULL;
    const char *id = NULL;

    (void)state;
    run(m, &o, "AssumeRole", kv, &r);
    assert_int_equal(r.http_status, 200);
    cred = json_object_get(r.body, "Credentials");
    user = json_object_get(r.body, "AssumedRoleUser");
    id = json_string_value(json_object_get(cred, "AccessKeyId"));
    assert_int_equal(strncmp(id, "STS.", 4), 0);
    assert_non_null(json_object_get(cred, "AccessKeySecret"));
    assert_non_null(json_object_get(cred, "SecurityToken"));
    /* NOW + 900 s */
    assert_string_equal(
        json_string_value(json_object_get(cred, "Expiration")),
        "2023-11-14T22:28:20Z");
    assert_string_equal(
        json_string_value(json_object_get(user, "Arn")),
        "acs:ram::1234567890123456:assumed-role/fleet-ops/nightly");
    assert_non_null(json_object_get(user, "AssumedRoleId"));
    assert_true(emu_mint_lookup(m, id, &k));
    assert_string_equal(k.root, "LTAIsigner");
    assert_string_equal(k.kind, "AssumeRole");
    assert_int_equal(k.expires_ms, NOW + 900 * 1000LL);
    emu_result_cleanup(&r);
    /* --sts-ttl-s wins over DurationSeconds. */
    o.ttl_ms = 2000;
    run(m, &o, "AssumeRole", kv, &r);
    id = json_string_value(json_object_get(
        json_object_get(r.body, "Credentials"), "AccessKeyId"));
    assert_true(emu_mint_lookup(m, id, &k));
    assert_int_equal(k.expires_ms, NOW + 2000);
    emu_result_cleanup(&r);
    emu_mint_free(m);
}

static void oidc_token_required(void **state)
{
    const char *const missing[] = {"RoleArn", ROLE, "RoleSessionName", "s1",
                                   "OIDCProviderArn", PROVIDER, NULL};
    const char *const wrong[] = {"RoleArn", ROLE, "RoleSessionName", "s1",
                                 "OIDCProviderArn", PROVIDER, "OIDCToken",
                                 "old", NULL};
    const char *const good[] = {"RoleArn", ROLE, "RoleSessionName", "s1",
                                "OIDCProviderArn", PROVIDER, "OIDCToken",
                                "jwt", NULL};
    const char *const badprov[] = {"RoleArn", ROLE, "RoleSessionName", "s1",
                                   "OIDCProviderArn", ROLE, "OIDCToken",
                                   "jwt", NULL};
    struct emu_mint *m = emu_mint_new();
    struct emu_sts_opts o = {0};
    struct emu_minted k;
    struct emu_result r;

    (void)state;
    o.oidc_token = "jwt";
    o.account_key = "LTAIaccount";
    run(m, &o, "AssumeRoleWithOIDC", missing, &r);
    assert_string_equal(code_of(&r), "MissingOIDCToken");
    emu_result_cleanup(&r);
    run(m, &o, "AssumeRoleWithOIDC", wrong, &r);
    assert_string_equal(code_of(&r), "InvalidParameter.OIDCToken");
    emu_result_cleanup(&r);
    run(m, &o, "AssumeRoleWithOIDC", badprov, &r);
    assert_string_equal(code_of(&r), "InvalidParameter.OIDCProviderArn");
    emu_result_cleanup(&r);
    run(m, &o, "AssumeRoleWithOIDC", good, &r);
    assert_int_equal(r.http_status, 200);
    assert_true(emu_mint_lookup(
        m,
        json_string_value(json_object_get(
            json_object_get(r.body, "Credentials"), "AccessKeyId")),
        &k));
    assert_string_equal(k.root, "LTAIaccount");
    assert_int_equal(k.expires_ms, NOW + 3600 * 1000LL);
    emu_result_cleanup(&r);
    emu_mint_free(m);
}

static void flat_answers(void **state)
{
    struct emu_mint *m = emu_mint_new();
    struct emu_sts_opts o = {0};
    struct emu_minted k;
    char id[32];
    json_t *j = NULL;

    (void)state;
    o.account_key = "LTAIaccount";
    j = emu_sts_flat_answer(m, &o, false, NOW, id);
    assert_string_equal(json_string_value(json_object_get(j, "Code")),
                        "Success");
    assert_string_equal(
        json_string_value(json_object_get(j, "AccessKeyId")), id);
    assert_null(json_object_get(j, "LastUpdated"));
    assert_true(emu_mint_lookup(m, id, &k));
    assert_string_equal(k.kind, "CredentialsURI");
    assert_int_equal(k.expires_ms, NOW + 3600 * 1000LL);
    json_decref(j);
    o.ttl_ms = 6000;
    j = emu_sts_flat_answer(m, &o, true, NOW, id);
    assert_non_null(json_object_get(j, "LastUpdated"));
    assert_true(emu_mint_lookup(m, id, &k));
    assert_string_equal(k.kind, "EcsMetadata");
    assert_int_equal(k.expires_ms, NOW + 6000);
    json_decref(j);
    assert_true(emu_sts_is_call("AssumeRole", "2015-04-01"));
    assert_false(emu_sts_is_call("AssumeRole", "2018-01-20"));
    assert_false(emu_sts_is_call("QueryOTAJob", "2015-04-01"));
    emu_mint_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refusals_in_order),
        cmocka_unit_test(assume_role_answer),
        cmocka_unit_test(oidc_token_required),
        cmocka_unit_test(flat_answers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
