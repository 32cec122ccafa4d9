/* test_e2e_credfetch.c - orch_credsource_fetch() against ota-emulator over
 * real HTTP, for every kind of source: a static key, STS AssumeRole
 * (signed by a static key, by a chained AssumeRole, by an STS key),
 * AssumeRoleWithOIDC (the token file read again at every fetch), the ECS
 * metadata service (IMDSv2, role discovery, the IMDSv1 fallback and its
 * refusal, unreachable), a credentials URI; the refusals (bad RoleArn,
 * DurationSeconds out of range, a wrong secret, 5xx); a minted key refused
 * as expired on a real API call once its lifetime is over; and no secret
 * in any diag. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"
#include "torture.h"

#include "orch/base/clock.h"
#include "orch/base/codec.h"
#include "orch/base/err.h"
#include "orch/cloud/credsource.h"
#include "orch/cloud/params.h"
#include "orch/cloud/request.h"

#include <curl/curl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROLE_ARN "acs:ram::1234567890123456:role/fleet-ops"
#define OIDC_PROVIDER "acs:ram::1234567890123456:oidc-provider/ack-rrsa"
#define OIDC_GOOD "eyJhbGciOiJSUzI1NiJ9.good-token-never-print.sig"
#define OIDC_STALE "eyJhbGciOiJSUzI1NiJ9.stale-token-never-print.sig"
#define ECS_ROLE "fleet-node"

/* The emulators of the group: `main` (default lifetimes, the metadata
 * service with a role, an exact OIDC token required), `old` (a metadata
 * service without IMDSv2). */
static struct emu_proc g_main, g_old;

/* Every diag seen, to check for secrets at the end of each test. */
static char g_diags[8192];

static int group_setup(void **state)
{
    const char *const main_args[] = {"--auto-create", "--ecs-role", ECS_ROLE,
                                     "--oidc-token", OIDC_GOOD, NULL};
    const char *const old_args[] = {"--ecs-role", ECS_ROLE, "--imdsv1-only",
                                    NULL};

    (void)state;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    h_emu_start(&g_main, main_args);
    h_emu_start(&g_old, old_args);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    h_emu_stop(&g_main);
    h_emu_stop(&g_old);
    curl_global_cleanup();
    return 0;
}

/* A zeroed source of `kind` with a label; strings are set by the tests
 * (malloced, so orch_credsource_cleanup frees them). */
static struct orch_credsource *source_new(enum orch_cred_kind kind)
{
    struct orch_credsource *s = calloc(1, sizeof(*s));

    assert_non_null(s);
    s->kind = kind;
    s->label = strdup("test source");
    return s;
}

static void source_free(struct orch_credsource *s)
{
    orch_credsource_cleanup(s);
    free(s);
}

static struct orch_credsource *static_source(const char *id,
                                             const char *secret,
                                             const char *token)
{
    struct orch_credsource *s = source_new(ORCH_CRED_STATIC);

    s->static_cred.access_key_id = strdup(id);
    assert_int_equal(orch_secret_set(&s->static_cred.secret, secret), 0);
    if (token)
        assert_int_equal(orch_secret_set(&s->static_cred.token, token), 0);
    return s;
}

/* AssumeRole of ROLE_ARN at emulator e, signed by signer (owned). */
static struct orch_credsource *role_source(const struct emu_proc *e,
                                           struct orch_credsource *signer)
{
    struct orch_credsource *s = source_new(ORCH_CRED_ASSUME_ROLE);

    s->signer = signer;
    s->role_arn = strdup(ROLE_ARN);
    s->session_name = strdup("e2e-test");
    s->duration_s = 3600;
    s->sts_url = strdup(e->endpoint);
    return s;
}

static struct orch_credsource *ecs_source(const char *url, const char *role)
{
    struct orch_credsource *s = source_new(ORCH_CRED_ECS);

    s->metadata_url = strdup(url);
    s->ecs_role_name = role ? strdup(role) : NULL;
    return s;
}

static struct orch_credsource *uri_source(const struct emu_proc *e)
{
    struct orch_credsource *s = source_new(ORCH_CRED_URI);
    char url[128];

    snprintf(url, sizeof(url), "%s/credentials", e->endpoint);
    s->uri = strdup(url);
    return s;
}

/* Fetches from src; keeps the diag for the secret check. */
static int fetch(const struct orch_credsource *src, struct orch_credset *out,
                 struct orch_diag *d)
{
    int rc = 0;

    memset(d, 0, sizeof(*d));
    rc = orch_credsource_fetch(src, out, d);
    if (rc) {
        strncat(g_diags, d->msg, sizeof(g_diags) - strlen(g_diags) - 2);
        strcat(g_diags, "\n");
    }
    return rc;
}

/* A fetched temporary set: an STS key, a secret, a token, an expiry
 * about ttl_s from now, labelled with the source. */
static void assert_temporary(const struct orch_credset *c, long ttl_s)
{
    int64_t now = orch_wall_ms();

    assert_int_equal(strncmp(c->cred.access_key_id, "STS.", 4), 0);
    assert_non_null(c->cred.secret.s);
    assert_non_null(c->cred.token.s);
    assert_string_equal(c->cred.source, "test source");
    assert_true(c->expires_ms > now + (ttl_s - 60) * 1000);
    assert_true(c->expires_ms <= now + (ttl_s + 60) * 1000);
    assert_true(c->fetched_ms > 0);
}

/* The last line of e's request log with action `action` (new reference),
 * NULL when none. */
static json_t *last_log(const struct emu_proc *e, const char *action)
{
    json_t *log = h_read_jsonl(e->log_path);
    json_t *found = NULL;
    size_t i = 0;

    for (i = json_array_size(log); i-- > 0 && found == NULL;) {
        json_t *l = json_array_get(log, i);

        if (strcmp(json_string_value(json_object_get(l, "action")), action)
            == 0)
            found = json_incref(l);
    }
    json_decref(log);
    return found;
}

/* A real API call (V2 QueryOTAFirmware) signed with c: its HTTP status,
 * and its answer's Code into code[64] ("" when none). */
static long api_call(const struct emu_proc *e,
                     const struct orch_credentials *c, char code[64])
{
    struct orch_request_input in = {0};
    struct orch_request req;
    struct orch_params p;
    char nonce[33];
    char *body = NULL;
    long status = 0;
    json_t *j = NULL;

    orch_params_init(&p);
    orch_request_init(&req);
    assert_int_equal(orch_params_add(&p, "FirmwareId", "fw-e2e-0001"), 0);
    assert_int_equal(orch_random_nonce(nonce), 0);
    in.endpoint = e->endpoint;
    in.action = "QueryOTAFirmware";
    in.params = &p;
    in.cred = c;
    in.signature_version = 2;
    in.now_ms = orch_wall_ms();
    in.nonce = nonce;
    assert_int_equal(orch_request_build(&req, &in), 0);
    body = h_http(orch_buf_str(&req.url), orch_buf_str(&req.body), NULL,
                  &status, NULL);
    j = json_loads(body, 0, NULL);
    snprintf(code, 64, "%s",
             json_string_value(json_object_get(j, "Code"))
                 ? json_string_value(json_object_get(j, "Code"))
                 : "");
    json_decref(j);
    free(body);
    orch_request_cleanup(&req);
    orch_params_cleanup(&p);
    return status;
}

/* No secret of the run in any diag. */
static void assert_diags_clean(const char *const *secrets)
{
    for (size_t i = 0; secrets[i]; i++)
        if (secrets[i][0] && strstr(g_diags, secrets[i]))
            fail_msg("a secret in a diag: %s", g_diags);
    assert_null(strstr(g_diags, H_SECRET));
    assert_null(strstr(g_diags, OIDC_GOOD));
    assert_null(strstr(g_diags, OIDC_STALE));
    assert_null(strstr(g_diags, "string to sign"));
}

static void static_is_copied(void **state)
{
    struct orch_credsource *s = static_source("LTAIstatic", "sek", "tok");
    struct orch_credset c;
    struct orch_diag d;

    (void)state;
    assert_int_equal(fetch(s, &c, &d), 0);
    assert_string_equal(c.cred.access_key_id, "LTAIstatic");
    assert_string_equal(c.cred.secret.s, "sek");
    assert_string_equal(c.cred.token.s, "tok");
    assert_int_equal(c.expires_ms, -1);
    assert_string_equal(c.cred.source, "test source");
    orch_credset_cleanup(&c);
    source_free(s);
}

/* AssumeRole signed by the account key: a working STS key, the call
 * signed and logged with the account's key id. */
static void assume_role_static_signer(void **state)
{
    struct orch_credsource *s =
        role_source(&g_main, static_source(H_KEY_ID, H_SECRET, NULL));
    struct orch_credset c;
    struct orch_diag d;
    json_t *line = NULL;
    char code[64];

    (void)state;
    assert_int_equal(fetch(s, &c, &d), 0);
    assert_temporary(&c, 3600);
    line = last_log(&g_main, "AssumeRole");
    assert_non_null(line);
    assert_string_equal(json_string_value(json_object_get(line, "key_id")),
                        H_KEY_ID);
    assert_true(json_is_true(json_object_get(line, "sig_ok")));
    assert_int_equal(json_integer_value(json_object_get(line, "http")), 200);
    json_decref(line);
    /* The minted key works on the API and is logged as the signer. */
    assert_int_equal(api_call(&g_main, &c.cred, code), 200);
    line = last_log(&g_main, "QueryOTAFirmware");
    assert_string_equal(json_string_value(json_object_get(line, "key_id")),
                        c.cred.access_key_id);
    json_decref(line);
    orch_credset_cleanup(&c);
    source_free(s);
}

/* ChainableRamRoleArn: the signer is itself an AssumeRole; the outer call
 * carries the inner key's SecurityToken, and the outer key belongs to the
 * account at the root. */
static void assume_role_chained_signer(void **state)
{
    struct orch_credsource *inner =
        role_source(&g_main, static_source(H_KEY_ID, H_SECRET, NULL));
    struct orch_credsource *s = role_source(&g_main, inner);
    struct orch_credset c;
    struct orch_diag d;
    json_t *line = NULL, *stats = NULL, *key = NULL;
    const char *signer_id = NULL;

    (void)state;
    assert_int_equal(fetch(s, &c, &d), 0);
    assert_temporary(&c, 3600);
    line = last_log(&g_main, "AssumeRole");
    signer_id = json_string_value(json_object_get(line, "key_id"));
    assert_int_equal(strncmp(signer_id, "STS.", 4), 0);
    assert_string_not_equal(signer_id, c.cred.access_key_id);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(line, "params"), "SecurityToken")),
        "***");
    stats = h_emu_get(&g_main, "/__emu/stats");
    key = json_object_get(json_object_get(json_object_get(stats, "sts"),
                                          "keys"),
                          c.cred.access_key_id);
    assert_string_equal(json_string_value(json_object_get(key, "root")),
                        H_KEY_ID);
    json_decref(stats);
    json_decref(line);
    orch_credset_cleanup(&c);
    source_free(s);
}

/* A static STS key (from the credentials URI) signs AssumeRole: its
 * SecurityToken goes with it. */
static void assume_role_sts_signer(void **state)
{
    struct orch_credsource *u = uri_source(&g_main);
    struct orch_credsource *s = NULL;
    struct orch_credset tmp, c;
    struct orch_diag d;
    json_t *line = NULL;

    (void)state;
    assert_int_equal(fetch(u, &tmp, &d), 0);
    s = role_source(&g_main,
                    static_source(tmp.cred.access_key_id, tmp.cred.secret.s,
                                  tmp.cred.token.s));
    assert_int_equal(fetch(s, &c, &d), 0);
    assert_temporary(&c, 3600);
    line = last_log(&g_main, "AssumeRole");
    assert_string_equal(json_string_value(json_object_get(line, "key_id")),
                        tmp.cred.access_key_id);
    json_decref(line);
    orch_credset_cleanup(&c);
    /* Without its token the STS key is refused, naming the Code. */
    source_free(s);
    s = role_source(&g_main, static_source(tmp.cred.access_key_id,
                                           tmp.cred.secret.s, NULL));
    assert_int_equal(fetch(s, &c, &d), ORCH_ECRED);
    assert_non_null(strstr(d.msg, "MissingSecurityToken"));
    orch_credset_cleanup(&tmp);
    source_free(s);
    source_free(u);
}

/* The OIDC token file is read at every fetch: a stale token is refused,
 * the rotated one is accepted. */
static void oidc_token_file_reread(void **state)
{
    struct orch_credsource *s = source_new(ORCH_CRED_OIDC);
    char *dir = h_tmpdir();
    char path[512];
    struct orch_credset c;
    struct orch_diag d;
    json_t *line = NULL;

    (void)state;
    snprintf(path, sizeof(path), "%s/token", dir);
    s->role_arn = strdup(ROLE_ARN);
    s->oidc_provider_arn = strdup(OIDC_PROVIDER);
    s->oidc_token_file = strdup(path);
    s->duration_s = 900;
    s->sts_url = strdup(g_main.endpoint);
    torture_write_text(path, OIDC_STALE);
    assert_int_equal(fetch(s, &c, &d), ORCH_ECRED);
    assert_non_null(strstr(d.msg, "InvalidParameter.OIDCToken"));
    torture_write_text(path, OIDC_GOOD "\n");
    assert_int_equal(fetch(s, &c, &d), 0);
    assert_temporary(&c, 900);
    line = last_log(&g_main, "AssumeRoleWithOIDC");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(line, "params"), "OIDCToken")),
                        "***");
    assert_string_equal(json_string_value(json_object_get(line, "key_id")),
                        "");
    json_decref(line);
    orch_credset_cleanup(&c);
    /* A missing file is a refusal naming the file. */
    unlink(path);
    assert_int_equal(fetch(s, &c, &d), ORCH_ECRED);
    assert_non_null(strstr(d.msg, path));
    source_free(s);
    torture_rmtree(dir);
    free(dir);
}

/* IMDSv2 with the role discovered, then with the role named. */
static void ecs_imdsv2_and_discovery(void **state)
{
    struct orch_credsource *s = ecs_source(g_main.endpoint, NULL);
    struct orch_credset c;
    struct orch_diag d;
    json_t *line = NULL;

    (void)state;
    assert_int_equal(fetch(s, &c, &d), 0);
    assert_temporary(&c, 3600);
    line = last_log(&g_main, "EcsMetadataToken");
    assert_int_equal(json_integer_value(json_object_get(line, "http")), 200);
    json_decref(line);
    line = last_log(&g_main, "EcsMetadataRoles");
    assert_non_null(line);
    json_decref(line);
    line = last_log(&g_main, "EcsMetadata");
    assert_string_equal(json_string_value(json_object_get(line, "key_id")),
                        c.cred.access_key_id);
    json_decref(line);
    orch_credset_cleanup(&c);
    source_free(s);

    s = ecs_source(g_main.endpoint, ECS_ROLE);
    assert_int_equal(fetch(s, &c, &d), 0);
    orch_credset_cleanup(&c);
    source_free(s);
    s = ecs_source(g_main.endpoint, "no-such-role");
    assert_int_equal(fetch(s, &c, &d), ORCH_ECRED);
    assert_non_null(strstr(d.msg, "no-such-role"));
    source_free(s);
}

/* A metadata service without IMDSv2: IMDSv1 unless it is disabled. */
static void ecs_imdsv1_fallback(void **state)
{
    struct orch_credsource *s = ecs_source(g_old.endpoint, ECS_ROLE);
    struct orch_credset c;
    struct orch_diag d;

    (void)state;
    assert_int_equal(fetch(s, &c, &d), 0);
    assert_temporary(&c, 3600);
    orch_credset_cleanup(&c);
    s->imdsv1_disabled = true;
    assert_int_equal(fetch(s, &c, &d), ORCH_ECRED);
    assert_non_null(strstr(d.msg, "IMDSv1 is disabled"));
    source_free(s);
}

/* Nothing listens: ORCH_EHTTP, so the chain goes on. */
static void ecs_unreachable(void **state)
{
    struct orch_credsource *s = ecs_source("http://127.0.0.1:1", NULL);
    struct orch_credset c;
    struct orch_diag d;

    (void)state;
    assert_int_equal(fetch(s, &c, &d), ORCH_EHTTP);
    assert_non_null(strstr(d.msg, "unreachable"));
    source_free(s);
}

static void credentials_uri(void **state)
{
    struct orch_credsource *s = uri_source(&g_main);
    struct orch_credset c;
    struct orch_diag d;
    json_t *line = NULL;

    (void)state;
    assert_int_equal(fetch(s, &c, &d), 0);
    assert_temporary(&c, 3600);
    line = last_log(&g_main, "CredentialsURI");
    assert_string_equal(json_string_value(json_object_get(line, "key_id")),
                        c.cred.access_key_id);
    json_decref(line);
    orch_credset_cleanup(&c);
    source_free(s);
}

/* STS refusals are ORCH_ECRED naming the Code; a wrong secret is
 * SignatureDoesNotMatch without the string to sign; a 5xx is ORCH_EHTTP. */
static void sts_refusals(void **state)
{
    struct orch_credsource *s =
        role_source(&g_main, static_source(H_KEY_ID, H_SECRET, NULL));
    struct orch_credset c;
    struct orch_diag d;

    (void)state;
    free(s->role_arn);
    s->role_arn = strdup("acs:ram::12ab:role/x");
    assert_int_equal(fetch(s, &c, &d), ORCH_ECRED);
    assert_non_null(strstr(d.msg, "HTTP 400 InvalidParameter.RoleArn"));
    free(s->role_arn);
    s->role_arn = strdup(ROLE_ARN);
    s->duration_s = 600;
    assert_int_equal(fetch(s, &c, &d), ORCH_ECRED);
    assert_non_null(strstr(d.msg, "InvalidParameter.DurationSeconds"));
    s->duration_s = 43201;
    assert_int_equal(fetch(s, &c, &d), ORCH_ECRED);
    assert_non_null(strstr(d.msg, "InvalidParameter.DurationSeconds"));
    s->duration_s = 3600;
    orch_secret_set(&s->signer->static_cred.secret, "wrong-secret-x");
    assert_int_equal(fetch(s, &c, &d), ORCH_ECRED);
    assert_non_null(strstr(d.msg, "SignatureDoesNotMatch"));
    orch_secret_set(&s->signer->static_cred.secret, H_SECRET);
    assert_int_equal(h_emu_send(&g_main, "/__emu/faults", "fail-5xx=1"),
                     200);
    assert_int_equal(fetch(s, &c, &d), ORCH_EHTTP);
    assert_non_null(strstr(d.msg, "HTTP 50"));
    assert_int_equal(h_emu_send(&g_main, "/__emu/faults", "fail-5xx=0"),
                     200);
    assert_int_equal(fetch(s, &c, &d), 0);
    orch_credset_cleanup(&c);
    source_free(s);
}

/* A key minted with --sts-ttl-s 2 works, then (the emulator's clock 2.5 s
 * later) every call with it gets InvalidSecurityToken.Expired. */
static void minted_key_expires(void **state)
{
    const char *const args[] = {"--auto-create", "--sts-ttl-s", "2", NULL};
    struct emu_proc e;
    struct orch_credsource *s = NULL;
    struct orch_credset c;
    struct orch_diag d;
    json_t *stats = NULL;
    char code[64];

    (void)state;
    h_emu_start(&e, args);
    s = uri_source(&e);
    assert_int_equal(fetch(s, &c, &d), 0);
    assert_true(c.expires_ms <= orch_wall_ms() + 3000);
    assert_int_equal(api_call(&e, &c.cred, code), 200);
    assert_string_not_equal(code, "InvalidSecurityToken.Expired");
    assert_int_equal(h_emu_send(&e, "/__emu/clock", "advance=2500"), 200);
    assert_int_equal(api_call(&e, &c.cred, code), 400);
    assert_string_equal(code, "InvalidSecurityToken.Expired");
    stats = h_emu_get(&e, "/__emu/stats");
    assert_int_equal(torture_json_int(stats, "sts/expired_refused"), 1);
    json_decref(stats);
    orch_credset_cleanup(&c);
    source_free(s);
    h_emu_stop(&e);
}

static void no_secret_in_diags(void **state)
{
    const char *const none[] = {NULL};

    (void)state;
    assert_true(strlen(g_diags) > 0); /* the tests above did fail fetches */
    assert_diags_clean(none);
    assert_null(strstr(g_diags, "wrong-secret-x"));
}

E2E_MAIN_GROUP(group_setup, group_teardown,
               cmocka_unit_test(static_is_copied),
               cmocka_unit_test(assume_role_static_signer),
               cmocka_unit_test(assume_role_chained_signer),
               cmocka_unit_test(assume_role_sts_signer),
               cmocka_unit_test(oidc_token_file_reread),
               cmocka_unit_test(ecs_imdsv2_and_discovery),
               cmocka_unit_test(ecs_imdsv1_fallback),
               cmocka_unit_test(ecs_unreachable),
               cmocka_unit_test(credentials_uri),
               cmocka_unit_test(sts_refusals),
               cmocka_unit_test(minted_key_expires),
               cmocka_unit_test(no_secret_in_diags))
