/* test_emu_verify_sts.c - the gateway and temporary keys: a minted key is
 * accepted with its token and counted against its account (quota_key),
 * refused without it, refused as InvalidSecurityToken.Expired after its
 * lifetime; AssumeRole (and only it) is verified under Version
 * 2015-04-01, with the common parameters in the query. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "gateway/emu_verify.h"
#include "world/emu_mint.h"

#include "orch/base/buf.h"
#include "orch/cloud/credentials.h"
#include "orch/cloud/params.h"
#include "orch/cloud/request.h"

#include "../emu_test.h"

#include <stdbool.h>
#include <string.h>

/* The client's request for action/version (V2; common parameters in the
 * query when query is set) signed with id/secret/token at now, verified
 * by v into a (the caller cleans it). */
static void verify_call(struct emu_verifier *v, const char *action,
                        const char *version, bool query, const char *id,
                        const char *secret, const char *token, int64_t now,
                        int64_t clock, struct emu_auth *a)
{
    static unsigned n;
    struct orch_credentials c;
    struct orch_request_input in = {0};
    struct orch_request req;
    struct orch_params p;
    struct emu_http_request hr;
    struct orch_header h = {"content-type",
                            "application/x-www-form-urlencoded"};
    char nonce[32];
    const char *q = NULL;

    memset(&c, 0, sizeof(c));
    c.access_key_id = (char *)id;
    c.secret.s = (char *)secret;
    c.token.s = (char *)token;
    orch_params_init(&p);
    orch_params_add(&p, "JobId", "job-1");
    orch_request_init(&req);
    snprintf(nonce, sizeof(nonce), "nonce-%u", ++n);
    in.endpoint = "http://127.0.0.1:1";
    in.action = action;
    in.params = &p;
    in.cred = &c;
    in.signature_version = 2;
    in.now_ms = now;
    in.nonce = nonce;
    in.version = version;
    in.v2_query = query;
    assert_int_equal(orch_request_build(&req, &in), 0);
    q = strchr(orch_buf_str(&req.url), '?');
    memset(&hr, 0, sizeof(hr));
    hr.method = "POST";
    hr.path = "/";
    hr.query = q ? q + 1 : NULL;
    hr.headers = &h;
    hr.nheaders = 1;
    hr.body = orch_buf_str(&req.body);
    hr.body_len = req.body.len;
    emu_auth_init(a);
    assert_int_equal(emu_verify_request(v, &hr, clock, a), 0);
    orch_request_cleanup(&req);
    orch_params_cleanup(&p);
}

struct fix {
    struct emu_verifier *v;
    struct emu_mint *m;
    struct emu_minted k;
};

static int setup(void **state)
{
    static struct fix f;

    f.v = emu_verifier_new();
    f.m = emu_mint_new();
    emu_verifier_add_key(f.v, "LTAIroot:rootsecret", NULL);
    emu_verifier_set_minted(f.v, f.m);
    emu_mint_issue(f.m, "LTAIroot", "AssumeRole", NOW, 2000, &f.k);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;

    emu_verifier_free(f->v);
    emu_mint_free(f->m);
    return 0;
}

static void minted_key_accepted_on_account_quota(void **state)
{
    struct fix *f = *state;
    struct emu_auth a;
    json_t *st = NULL;

    verify_call(f->v, "QueryOTAJob", NULL, false, f->k.id, f->k.secret,
                f->k.token, NOW, NOW + 1000, &a);
    assert_string_equal(a.code, "");
    assert_true(a.sig_ok);
    assert_true(a.temporary);
    assert_string_equal(a.key_id, f->k.id);
    assert_string_equal(a.quota_key, "LTAIroot");
    emu_auth_cleanup(&a);
    st = emu_mint_stats(f->m);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(
                         json_object_get(st, "keys"), f->k.id), "calls")),
                     1);
    json_decref(st);
    /* A permanent key is its own account. */
    verify_call(f->v, "QueryOTAJob", NULL, false, "LTAIroot", "rootsecret",
                NULL, NOW, NOW, &a);
    assert_string_equal(a.code, "");
    assert_false(a.temporary);
    assert_string_equal(a.quota_key, "LTAIroot");
    emu_auth_cleanup(&a);
}

static void minted_key_refusals(void **state)
{
    struct fix *f = *state;
    struct emu_auth a;

    verify_call(f->v, "QueryOTAJob", NULL, false, f->k.id, f->k.secret, NULL,
                NOW, NOW, &a);
    assert_string_equal(a.code, "MissingSecurityToken");
    emu_auth_cleanup(&a);
    verify_call(f->v, "QueryOTAJob", NULL, false, f->k.id, "wrong",
                f->k.token, NOW, NOW, &a);
    assert_string_equal(a.code, "SignatureDoesNotMatch");
    emu_auth_cleanup(&a);
    /* Its lifetime is 2 s on the emulator's clock. */
    verify_call(f->v, "QueryOTAJob", NULL, false, f->k.id, f->k.secret,
                f->k.token, NOW + 2000, NOW + 2000, &a);
    assert_string_equal(a.code, "InvalidSecurityToken.Expired");
    assert_int_equal(a.http_status, 400);
    emu_auth_cleanup(&a);
    /* Without the registry the key is unknown. */
    emu_verifier_set_minted(f->v, NULL);
    verify_call(f->v, "QueryOTAJob", NULL, false, f->k.id, f->k.secret,
                f->k.token, NOW, NOW, &a);
    assert_string_equal(a.code, "InvalidAccessKeyId.NotFound");
    emu_auth_cleanup(&a);
    emu_verifier_set_minted(f->v, f->m);
}

static void sts_version_only_for_assume_role(void **state)
{
    struct fix *f = *state;
    struct emu_auth a;

    verify_call(f->v, "AssumeRole", "2015-04-01", true, "LTAIroot",
                "rootsecret", NULL, NOW, NOW, &a);
    assert_string_equal(a.code, "");
    assert_true(a.sig_ok);
    assert_true(a.nquery > 0);
    emu_auth_cleanup(&a);
    verify_call(f->v, "QueryOTAJob", "2015-04-01", false, "LTAIroot",
                "rootsecret", NULL, NOW, NOW, &a);
    assert_string_equal(a.code, "InvalidVersion");
    emu_auth_cleanup(&a);
    verify_call(f->v, "AssumeRole", "2018-01-20", true, "LTAIroot",
                "rootsecret", NULL, NOW, NOW, &a);
    assert_string_equal(a.code, "");
    emu_auth_cleanup(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(minted_key_accepted_on_account_quota),
        cmocka_unit_test(minted_key_refusals),
        cmocka_unit_test(sts_version_only_for_assume_role),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
