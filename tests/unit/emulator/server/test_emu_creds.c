/* test_emu_creds.c - ota-emulator's credential endpoints over HTTP (an
 * in-process server, injected clock): GET /credentials, the metadata
 * service (TTL header, session tokens, IMDSv1 allowed or not, role list,
 * 404 without --ecs-role or for another role), a temporary key's calls
 * counted against its account's quota, STS through "/" with the OIDC
 * token redacted in the request log. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>

#include "gateway/emu_verify.h"
#include "server/emu_server.h"
#include "world/emu_world.h"

#include "orch/base/buf.h"
#include "orch/base/err.h"
#include "orch/cloud/credentials.h"
#include "orch/cloud/params.h"
#include "orch/cloud/request.h"
#include "torture.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */
/* The world's answer to QueryOTAJob of an unknown job: the call passed
 * the gateway (authenticated, not throttled). */
#define ANSWERED "iot.ota.InvalidJobId"

struct fixture {
    struct emu_world *world;
    struct emu_verifier *verifier;
    struct emu_server *srv;
    _Atomic int64_t clock;
    char log_path[256];
    char base[128];
};

static int64_t test_clock(void *ctx)
{
    struct fixture *f = ctx;

    return atomic_load(&f->clock);
}

/* Starts a server with the account key "LTAIacct:acctsecret"; the
 * options' credential fields from `tmpl`. */
static void start(struct fixture *f, const struct emu_server_opts *tmpl)
{
    struct emu_world_opts wo;
    struct emu_server_opts so;
    struct orch_diag d;
    int fd = -1;

    memset(&wo, 0, sizeof(wo));
    wo.auto_create = true;
    wo.success_ratio = 1;
    f->world = emu_world_new(&wo);
    f->verifier = emu_verifier_new();
    assert_int_equal(
        emu_verifier_add_key(f->verifier, "LTAIacct:acctsecret", NULL), 0);
    atomic_store(&f->clock, T0);
    snprintf(f->log_path, sizeof(f->log_path), "/tmp/emu-creds-XXXXXX");
    fd = mkstemp(f->log_path);
    assert_true(fd >= 0);
    close(fd);
    emu_server_opts_init(&so);
    so.world = f->world;
    so.verifier = f->verifier;
    so.request_log = f->log_path;
    so.clock.now_ms = test_clock;
    so.clock.ctx = f;
    so.qps_query = tmpl->qps_query ? tmpl->qps_query : so.qps_query;
    so.sts_ttl_s = tmpl->sts_ttl_s;
    so.oidc_token = tmpl->oidc_token;
    so.ecs_role = tmpl->ecs_role;
    so.imdsv2_only = tmpl->imdsv2_only;
    so.imdsv1_only = tmpl->imdsv1_only;
    if (emu_server_start(&so, &f->srv, &d) != 0)
        fail_msg("start: %s", d.msg);
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u",
             (unsigned)emu_server_port(f->srv));
}

static int setup(void **state)
{
    *state = calloc(1, sizeof(struct fixture));
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    emu_server_stop(f->srv);
    emu_world_free(f->world);
    emu_verifier_free(f->verifier);
    unlink(f->log_path);
    free(f);
    return 0;
}

static size_t collect(char *p, size_t sz, size_t n, void *ud)
{
    orch_buf_append(ud, p, sz * n);
    return sz * n;
}

/* method path with one optional header and body; the answer's body
 * (malloced) and status. */
static char *http(struct fixture *f, const char *method, const char *path,
                  const char *header, const char *body, long *status)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = header ? curl_slist_append(NULL, header) : NULL;
    struct orch_buf b;
    char url[512];

    orch_buf_init(&b);
    snprintf(url, sizeof(url), "%s%s", f->base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (b.data == NULL)
        orch_buf_puts(&b, "");
    return orch_buf_detach(&b);
}

/* A V2 QueryOTAJob signed with c at the fixture's clock: the Code ("" for
 * none) into code[64]. */
static void query(struct fixture *f, const struct orch_credentials *c,
                  char code[64])
{
    static unsigned n;
    struct orch_request_input in = {0};
    struct orch_request req;
    struct orch_params p;
    char nonce[32];
    long status = 0;
    char *ans = NULL;
    json_t *j = NULL;

    orch_params_init(&p);
    orch_params_add(&p, "JobId", "nosuchjob");
    orch_request_init(&req);
    snprintf(nonce, sizeof(nonce), "n-%u", ++n);
    in.endpoint = f->base;
    in.action = "QueryOTAJob";
    in.params = &p;
    in.cred = c;
    in.signature_version = 2;
    in.now_ms = atomic_load(&f->clock);
    in.nonce = nonce;
    assert_int_equal(orch_request_build(&req, &in), 0);
    ans = http(f, "POST", strchr(orch_buf_str(&req.url) + 7, '/'), NULL,
               orch_buf_str(&req.body), &status);
    j = json_loads(ans, 0, NULL);
    snprintf(code, 64, "%s",
             json_string_value(json_object_get(j, "Code"))
                 ? json_string_value(json_object_get(j, "Code"))
                 : "");
    json_decref(j);
    free(ans);
    orch_request_cleanup(&req);
    orch_params_cleanup(&p);
}

/* GET /credentials into a credentials struct (the caller cleans it). */
static void fetch_uri(struct fixture *f, struct orch_credentials *c)
{
    long status = 0;
    char *ans = http(f, "GET", "/credentials", NULL, NULL, &status);
    json_t *j = json_loads(ans, 0, NULL);

    assert_int_equal(status, 200);
    assert_string_equal(json_string_value(json_object_get(j, "Code")),
                        "Success");
    memset(c, 0, sizeof(*c));
    c->access_key_id =
        strdup(json_string_value(json_object_get(j, "AccessKeyId")));
    orch_secret_set(&c->secret,
                    json_string_value(json_object_get(j, "AccessKeySecret")));
    orch_secret_set(&c->token,
                    json_string_value(json_object_get(j, "SecurityToken")));
    json_decref(j);
    free(ans);
}

/* The account's quota (2/s here) is shared by the temporary key it
 * minted: two calls with the account key, the third (temporary) is
 * throttled. Past --sts-ttl-s the key is refused as expired. */
static void temporary_key_on_account_quota(void **state)
{
    struct fixture *f = *state;
    struct emu_server_opts t = {0};
    struct orch_credentials acct, tmp;
    json_t *st = NULL;
    char code[64];

    t.qps_query = 2;
    t.sts_ttl_s = 2;
    start(f, &t);
    memset(&acct, 0, sizeof(acct));
    acct.access_key_id = strdup("LTAIacct");
    orch_secret_set(&acct.secret, "acctsecret");
    fetch_uri(f, &tmp);
    query(f, &acct, code);
    assert_string_equal(code, ANSWERED);
    query(f, &acct, code);
    assert_string_equal(code, ANSWERED);
    query(f, &tmp, code);
    assert_string_equal(code, "Throttling.User");
    atomic_store(&f->clock, T0 + 1500);
    query(f, &tmp, code);
    assert_string_equal(code, ANSWERED);
    atomic_store(&f->clock, T0 + 2000);
    query(f, &tmp, code);
    assert_string_equal(code, "InvalidSecurityToken.Expired");
    st = emu_server_stats(f->srv);
    assert_int_equal(torture_json_int(st, "sts/minted"), 1);
    assert_int_equal(torture_json_int(st, "sts/expired_refused"), 1);
    assert_int_equal(torture_json_int(st, "by_action/CredentialsURI"), 1);
    json_decref(st);
    orch_credentials_cleanup(&acct);
    orch_credentials_cleanup(&tmp);
}

static void metadata_paths(void **state)
{
    struct fixture *f = *state;
    struct emu_server_opts t = {0};
    char hdr[128];
    char *tok = NULL, *ans = NULL;
    long st = 0;
    json_t *j = NULL;

    t.ecs_role = "fleet";
    t.imdsv2_only = true;
    start(f, &t);
    free(http(f, "PUT", "/latest/api/token", NULL, NULL, &st));
    assert_int_equal(st, 400); /* no TTL header */
    free(http(f, "PUT", "/latest/api/token",
              "X-aliyun-ecs-metadata-token-ttl-seconds: 21601", NULL, &st));
    assert_int_equal(st, 400);
    tok = http(f, "PUT", "/latest/api/token",
               "X-aliyun-ecs-metadata-token-ttl-seconds: 60", NULL, &st);
    assert_int_equal(st, 200);
    assert_true(strlen(tok) >= 20);
    snprintf(hdr, sizeof(hdr), "X-aliyun-ecs-metadata-token: %s", tok);
    free(http(f, "GET", "/latest/meta-data/ram/security-credentials/fleet",
              NULL, NULL, &st));
    assert_int_equal(st, 401); /* IMDSv1 refused */
    free(http(f, "GET", "/latest/meta-data/ram/security-credentials/fleet",
              "X-aliyun-ecs-metadata-token: forged", NULL, &st));
    assert_int_equal(st, 401);
    ans = http(f, "GET", "/latest/meta-data/ram/security-credentials/", hdr,
               NULL, &st);
    assert_int_equal(st, 200);
    assert_string_equal(ans, "fleet");
    free(ans);
    free(http(f, "GET", "/latest/meta-data/ram/security-credentials/other",
              hdr, NULL, &st));
    assert_int_equal(st, 404);
    ans = http(f, "GET", "/latest/meta-data/ram/security-credentials/fleet",
               hdr, NULL, &st);
    assert_int_equal(st, 200);
    j = json_loads(ans, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "Code")),
                        "Success");
    assert_non_null(json_object_get(j, "LastUpdated"));
    assert_non_null(json_object_get(j, "SecurityToken"));
    json_decref(j);
    free(ans);
    /* The session token expires. */
    atomic_store(&f->clock, T0 + 60000);
    free(http(f, "GET", "/latest/meta-data/ram/security-credentials/fleet",
              hdr, NULL, &st));
    assert_int_equal(st, 401);
    free(tok);
}

static void metadata_off_or_v1_only(void **state)
{
    struct fixture *f = *state;
    struct emu_server_opts t = {0};
    long st = 0;

    start(f, &t);
    free(http(f, "GET", "/latest/meta-data/ram/security-credentials/", NULL,
              NULL, &st));
    assert_int_equal(st, 404);
    emu_server_stop(f->srv);
    emu_world_free(f->world);
    emu_verifier_free(f->verifier);
    unlink(f->log_path);
    t.ecs_role = "fleet";
    t.imdsv1_only = true;
    start(f, &t);
    free(http(f, "PUT", "/latest/api/token",
              "X-aliyun-ecs-metadata-token-ttl-seconds: 60", NULL, &st));
    assert_int_equal(st, 404);
    free(http(f, "GET", "/latest/meta-data/ram/security-credentials/fleet",
              NULL, NULL, &st));
    assert_int_equal(st, 200);
}

/* AssumeRoleWithOIDC through "/": unsigned, answered, its token "***" in
 * the request log. */
static void oidc_call_logged_redacted(void **state)
{
    struct fixture *f = *state;
    struct emu_server_opts t = {0};
    char *ans = NULL, *log = NULL;
    long st = 0;

    t.oidc_token = "jwt-never-logged";
    start(f, &t);
    ans = http(f, "POST",
               "/?Action=AssumeRoleWithOIDC&Version=2015-04-01&Format=JSON"
               "&Timestamp=2026-01-01T00%3A00%3A00Z",
               NULL,
               "RoleArn=acs%3Aram%3A%3A123%3Arole%2Fr&RoleSessionName=s1"
               "&OIDCProviderArn=acs%3Aram%3A%3A123%3Aoidc-provider%2Fp"
               "&OIDCToken=jwt-never-logged",
               &st);
    assert_int_equal(st, 200);
    assert_non_null(strstr(ans, "\"Credentials\""));
    free(ans);
    log = torture_read_file(f->log_path, NULL);
    assert_non_null(strstr(log, "\"OIDCToken\":\"***\""));
    assert_null(strstr(log, "jwt-never-logged"));
    free(log);
}

/* GET /__emu/minted: the key the credentials URI handed out, with its
 * secret and token (for tests that search outputs for them). */
static void minted_listed_for_tests(void **state)
{
    struct fixture *f = *state;
    struct emu_server_opts t = {0};
    struct orch_credentials tmp;
    json_t *all = NULL, *k = NULL;
    char *ans = NULL;
    long st = 0;

    start(f, &t);
    fetch_uri(f, &tmp);
    ans = http(f, "GET", "/__emu/minted", NULL, NULL, &st);
    assert_int_equal(st, 200);
    all = json_loads(ans, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(all, "keys")), 1);
    k = json_array_get(json_object_get(all, "keys"), 0);
    assert_string_equal(json_string_value(json_object_get(k, "id")),
                        tmp.access_key_id);
    assert_string_equal(json_string_value(json_object_get(k, "secret")),
                        tmp.secret.s);
    assert_string_equal(json_string_value(json_object_get(k, "token")),
                        tmp.token.s);
    json_decref(all);
    free(ans);
    orch_credentials_cleanup(&tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(temporary_key_on_account_quota,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(metadata_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(metadata_off_or_v1_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(oidc_call_logged_redacted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(minted_listed_for_tests, setup,
                                        teardown),
    };
    int rc = 0;

    curl_global_init(CURL_GLOBAL_ALL);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
