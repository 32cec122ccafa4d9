/* test_e2e_credentials.c - credentials from the chain against ota-emulator,
 * kept fresh for as long as a run lives: 20,000 devices paced at --qps 5
 * (about 20 s) on 6-second credentials, once from
 * ALIBABA_CLOUD_CREDENTIALS_URI and once from a config.json RamRoleArn
 * profile whose sts_endpoint is the emulator; static keys as before; the
 * default chain with nothing configured sends nothing anywhere.
 *
 * What is checked in each long run: exit 0, every device in exactly one
 * job (e2e_assert_complete), no call refused as expired (the request log
 * and the emulator's STS counters), at least three temporary keys used by
 * the Creates, fetches (keys minted) a small fraction of the calls, the
 * source and refresh count in the summary / --json, and no minted secret
 * or token in any output, report or journal.
 *
 * No secret anywhere: after each run the test asks the emulator for every
 * key it minted (GET /__emu/minted: key id, secret, SecurityToken, and
 * the IMDSv2 session tokens) and searches stdout, stderr (the --json
 * document included) and every file the run left in its directory
 * (report, journal, failed and ambiguous files) for each secret and
 * token; an OIDC run and an External profile run are searched for the
 * OIDC token and for what the process printed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"
#include "torture.h"

#include <microhttpd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define PK "a1BwAGVabcd"
#define FW "UkOZxXXnVaLfqvvv8YzC000100"
#define DEVICES 20000
#define CHUNKS 100
#define CREATE "CreateOTAStaticUpgradeJob"
/* Every SecurityToken the emulator mints starts with this (emu_mint.c);
 * the secrets are random and never leave the emulator otherwise. */
#define TOKEN_PREFIX "CAIS"

/* Asserts that no secret or token the emulator minted so far (nor an
 * IMDSv2 session token it handed out) appears in r's stdout or stderr
 * or in any file below f->dir. Returns how many secrets were searched. */
static size_t assert_no_minted_secret(const struct e2e_fleet *f,
                                      const struct h_run *r)
{
    json_t *all = h_emu_get(&f->emu, "/__emu/minted");
    const char *texts[] = {r->out, r->err, NULL};
    size_t i = 0, n = 0;
    json_t *k = NULL;

    json_array_foreach(json_object_get(all, "keys"), i, k) {
        h_assert_no_secret(f->dir, e2e_str(k, "secret"), texts);
        h_assert_no_secret(f->dir, e2e_str(k, "token"), texts);
        n += 2;
    }
    json_array_foreach(json_object_get(all, "sessions"), i, k) {
        h_assert_no_secret(f->dir, json_string_value(k), texts);
        n++;
    }
    json_decref(all);
    return n;
}

/* The Creates of the log: none refused as expired; returns how many
 * distinct temporary ("STS.") keys signed them. */
static size_t sts_keys_of_creates(json_t *log)
{
    json_t *keys = json_object();
    size_t i = 0, n = 0;
    json_t *e = NULL;

    json_array_foreach(log, i, e) {
        const char *key = e2e_str(e, "key_id");

        if (strcmp(e2e_str(e, "action"), CREATE) != 0)
            continue;
        if (strncmp(e2e_str(e, "code"), "InvalidSecurityToken", 20) == 0)
            fail_msg("a Create was refused: %s (key %s)", e2e_str(e, "code"),
                     key);
        if (strncmp(key, "STS.", 4) == 0)
            json_object_set_new(keys, key, json_true());
    }
    n = json_object_size(keys);
    json_decref(keys);
    return n;
}

/* The long run's checks (see the file's comment). */
static void assert_kept_fresh(const struct e2e_fleet *f, const struct h_run *r)
{
    json_t *log = h_read_jsonl(f->emu.log_path);
    json_t *stats = h_emu_get(&f->emu, "/__emu/stats");
    json_t *sts = json_object_get(stats, "sts");
    size_t creates = e2e_count(log, CREATE, 0);
    size_t keys = sts_keys_of_creates(log);
    json_int_t minted = json_integer_value(json_object_get(sts, "minted"));
    const char *texts[] = {r->out, r->err, NULL};

    e2e_assert_complete(f, DEVICES, CHUNKS);
    assert_int_equal(creates, CHUNKS); /* not one sent twice */
    assert_int_equal(
        json_integer_value(json_object_get(sts, "expired_refused")), 0);
    if (keys < 3)
        fail_msg("only %zu temporary keys signed the Creates", keys);
    /* About one fetch per 2.7 s against 5 calls/s: well under a quarter. */
    if (minted < 3 || (size_t)minted * 4 > creates)
        fail_msg("%lld keys minted for %zu calls", (long long)minted,
                 creates);
    h_assert_no_secret(f->dir, TOKEN_PREFIX, texts);
    if (assert_no_minted_secret(f, r) < 6) /* >= 3 keys minted */
        fail_msg("fewer minted secrets than expected to search for");
    e2e_assert_run_no_secret(f->dir, H_SECRET, r);
    json_decref(stats);
    json_decref(log);
}

static void uri_20k_on_6s_credentials(void **state)
{
    struct e2e_fleet f;
    struct h_run r;
    char uri[160];
    const char *argv[E2E_MAX_ARGS];
    json_t *doc = NULL, *cred = NULL;

    (void)state;
    e2e_fleet_start(&f, DEVICES, PK,
                    E2E_ARGS("--auto-create", "--sts-ttl-s", "6"));
    snprintf(uri, sizeof(uri),
             "ALIBABA_CLOUD_CREDENTIALS_URI=%s/credentials", f.emu.endpoint);
    e2e_fleet_argv(argv, &f, FW, E2E_ARGS("--qps", "5", "--json"));
    e2e_run_expect(&r, argv, E2E_ARGS(uri), 1, 180, 0);
    assert_kept_fresh(&f, &r);
    doc = e2e_parse_document(r.out);
    cred = json_object_get(doc, "credentials");
    assert_string_equal(e2e_str(cred, "provider"), "credentials_uri");
    assert_true(json_integer_value(json_object_get(cred, "refreshes")) >= 2);
    assert_non_null(strstr(r.err, "(temporary, refreshed before they "
                                  "expire)"));
    assert_true(e2e_refreshes_told(r.err) >= 2);
    json_decref(doc);
    h_run_free(&r);
    e2e_fleet_stop(&f);
}

static void ram_role_arn_20k_on_6s_credentials(void **state)
{
    struct e2e_fleet f;
    struct h_run r;
    char cfg[700], env_cfg[760];
    char *json = NULL;
    const char *argv[E2E_MAX_ARGS];

    (void)state;
    e2e_fleet_start(&f, DEVICES, PK,
                    E2E_ARGS("--auto-create", "--sts-ttl-s", "6"));
    /* Outside f.dir, which is searched for the secret afterwards. */
    snprintf(cfg, sizeof(cfg), "%s-aliyun-config.json", f.dir);
    assert_true(asprintf(&json,
                         "{\"current\":\"default\",\"profiles\":[{\"name\":"
                         "\"ops\",\"mode\":\"RamRoleArn\",\"access_key_id\":"
                         "\"%s\",\"access_key_secret\":\"%s\","
                         "\"ram_role_arn\":\"acs:ram::1234567890123456:role/"
                         "ota-rollout\",\"ram_session_name\":\"ota\","
                         "\"sts_endpoint\":\"%s\",\"region_id\":"
                         "\"cn-shanghai\"}]}",
                         H_KEY_ID, H_SECRET, f.emu.endpoint) > 0);
    torture_write_text(cfg, json);
    free(json);
    chmod(cfg, 0600);
    snprintf(env_cfg, sizeof(env_cfg), "ALIBABA_CLOUD_CONFIG_FILE=%s", cfg);
    e2e_fleet_argv(argv, &f, FW, E2E_ARGS("--qps", "5", "--profile", "ops"));
    e2e_run_expect(&r, argv, E2E_ARGS(env_cfg), 1, 180, 0);
    assert_kept_fresh(&f, &r);
    assert_non_null(strstr(r.err, "credentials: RamRoleArn profile \"ops\""));
    assert_true(e2e_refreshes_told(r.err) >= 2);
    /* The operator's key signed AssumeRole only, never a Create. */
    {
        json_t *log = h_read_jsonl(f.emu.log_path);
        size_t i = 0;
        json_t *e = NULL;

        json_array_foreach(log, i, e) {
            if (strcmp(e2e_str(e, "key_id"), H_KEY_ID) == 0)
                assert_string_equal(e2e_str(e, "action"), "AssumeRole");
        }
        assert_true(e2e_count(log, "AssumeRole", 1) >= 3);
        json_decref(log);
    }
    h_run_free(&r);
    e2e_fleet_stop(&f);
}

/* Keys that do not expire: the summary as before (the key id), no
 * refresher, --json "refreshes": null. */
static void static_keys_as_before(void **state)
{
    struct e2e_fleet f;
    struct h_run r;
    const char *argv[E2E_MAX_ARGS];
    json_t *doc = NULL, *cred = NULL;

    (void)state;
    e2e_fleet_start(&f, 400, PK, E2E_ARGS("--auto-create"));
    e2e_fleet_argv(argv, &f, FW, E2E_ARGS("--json"));
    e2e_run_expect(&r, argv, NULL, 0, 60, 0);
    assert_non_null(strstr(r.err, "credentials: environment, AccessKeyId "
                                  H_KEY_ID));
    assert_null(strstr(r.err, "refreshed"));
    doc = e2e_parse_document(r.out);
    cred = json_object_get(doc, "credentials");
    assert_string_equal(e2e_str(cred, "provider"), "env");
    assert_string_equal(e2e_str(cred, "source"), "environment");
    assert_true(json_is_null(json_object_get(cred, "refreshes")));
    json_decref(doc);
    e2e_assert_run_no_secret(f.dir, H_SECRET, &r);
    h_run_free(&r);
    e2e_fleet_stop(&f);
}

/* --- which source, and the order ---------------------------------------- */

/* A small run of 400 devices with `env` and no test key; returns the
 * --json document's credentials.provider (malloced). */
static char *provider_of_run(const struct e2e_fleet *f, const char *report,
                             const char *const *env, const char *profile,
                             int want_exit, struct h_run *r)
{
    const char *argv[] = {"run", f->inv, "--firmware-id", FW, "--endpoint",
                          f->emu.endpoint, "--yes", "--report", report,
                          "--json", profile ? "--profile" : NULL, profile,
                          NULL};
    json_t *doc = NULL;
    char *provider = NULL;

    e2e_run_expect(r, argv, env, 1, 60, want_exit);
    doc = e2e_parse_document(r->out);
    provider = strdup(e2e_str(json_object_get(doc, "credentials"),
                              "provider"));
    json_decref(doc);
    return provider;
}

/* An AK profile in a config file outside dir (HOME's place is the
 * harness's): its key is `id` (the emulator knows only H_KEY_ID). */
static void write_ak_profile(const char *path, const char *id)
{
    char *json = NULL;

    assert_true(asprintf(&json,
                         "{\"current\":\"p\",\"profiles\":[{\"name\":"
                         "\"p\",\"mode\":\"AK\",\"access_key_id\":\"%s\","
                         "\"access_key_secret\":\"%s\"}]}",
                         id, H_SECRET) > 0);
    torture_write_text(path, json);
    free(json);
    chmod(path, 0600);
}

static void each_source_and_the_order(void **state)
{
    struct e2e_fleet f;
    struct h_run r;
    char cfg[700], env_cfg[760], md[160], uri[160], report[700];
    char env_id[120], env_secret[120];
    char *p = NULL;
    int n = 0;

    (void)state;
    e2e_fleet_start(&f, 400, PK,
                    E2E_ARGS("--auto-create", "--ecs-role", "fleet"));
    snprintf(cfg, sizeof(cfg), "%s-config.json", f.dir);
    snprintf(env_cfg, sizeof(env_cfg), "ALIBABA_CLOUD_CONFIG_FILE=%s", cfg);
    snprintf(md, sizeof(md), "OTA_ROLLOUT_ECS_METADATA_URL=%s",
             f.emu.endpoint);
    snprintf(uri, sizeof(uri), "ALIBABA_CLOUD_CREDENTIALS_URI=%s/credentials",
             f.emu.endpoint);
    snprintf(env_id, sizeof(env_id), "ALIBABA_CLOUD_ACCESS_KEY_ID=%s",
             H_KEY_ID);
    snprintf(env_secret, sizeof(env_secret),
             "ALIBABA_CLOUD_ACCESS_KEY_SECRET=%s", H_SECRET);
#define NEXT_REPORT() \
    snprintf(report, sizeof(report), "%s/r%d.report.csv", f.dir, n++)

    /* The metadata service alone (pointed at the emulator). */
    NEXT_REPORT();
    p = provider_of_run(&f, report,
                        E2E_ARGS(md, "ALIBABA_CLOUD_ECS_METADATA_DISABLED="),
                        NULL, 0, &r);
    assert_string_equal(p, "ecs_ram_role");
    free(p);
    assert_no_minted_secret(&f, &r);
    h_run_free(&r);
    /* The credentials URI alone. */
    NEXT_REPORT();
    p = provider_of_run(&f, report, E2E_ARGS(uri), NULL, 0, &r);
    assert_string_equal(p, "credentials_uri");
    free(p);
    assert_no_minted_secret(&f, &r);
    h_run_free(&r);
    /* A profile wins over the metadata service and the URI. */
    write_ak_profile(cfg, H_KEY_ID);
    NEXT_REPORT();
    p = provider_of_run(&f, report,
                        E2E_ARGS(env_cfg, md, uri,
                                 "ALIBABA_CLOUD_ECS_METADATA_DISABLED="),
                        NULL, 0, &r);
    assert_string_equal(p, "profile:AK");
    free(p);
    assert_no_minted_secret(&f, &r);
    h_run_free(&r);
    /* The environment wins over a profile (whose key the emulator does
     * not know: it would be refused). */
    write_ak_profile(cfg, "LTAInotknown99");
    NEXT_REPORT();
    p = provider_of_run(&f, report,
                        E2E_ARGS(env_cfg, md, uri, env_id, env_secret,
                                 "ALIBABA_CLOUD_ECS_METADATA_DISABLED="),
                        NULL, 0, &r);
    assert_string_equal(p, "env");
    free(p);
    assert_no_minted_secret(&f, &r);
    h_run_free(&r);
    /* ... unless --profile names it: then that profile (refused here). */
    NEXT_REPORT();
    p = provider_of_run(&f, report, E2E_ARGS(env_cfg, env_id, env_secret),
                        "p", 4, &r);
    assert_string_equal(p, "profile:AK");
    free(p);
    assert_no_minted_secret(&f, &r);
    h_run_free(&r);
    /* A metadata service that does not answer (a closed loopback port):
     * the URI after it. */
    NEXT_REPORT();
    p = provider_of_run(&f, report,
                        E2E_ARGS("OTA_ROLLOUT_ECS_METADATA_URL="
                                 "http://127.0.0.1:1",
                                 uri, "ALIBABA_CLOUD_ECS_METADATA_DISABLED="),
                        NULL, 0, &r);
    assert_string_equal(p, "credentials_uri");
    free(p);
    assert_no_minted_secret(&f, &r);
    h_run_free(&r);
#undef NEXT_REPORT
    e2e_fleet_stop(&f);
}

/* OIDC (the environment's RRSA variables, the token file outside the
 * run's directory) and an External profile (its command prints a set the
 * emulator minted): each run works, and neither the OIDC token nor what
 * the command printed (its secret and token) appears anywhere. */
#define OIDC_TOKEN "eyJhbGciOiJSUzI1NiJ9.oidc-never-print-me.c2lnbmF0dXJl"

static void oidc_and_external_print_no_secret(void **state)
{
    struct e2e_fleet f;
    struct h_run r;
    char token_file[700], env_token[760], env_sts[160], report[700];
    char out_file[700], cfg[700], env_cfg[760];
    char *p = NULL, *body = NULL, *json = NULL;
    json_t *minted = NULL;
    const char *texts[3];
    long status = 0;

    (void)state;
    e2e_fleet_start(&f, 400, PK,
                    E2E_ARGS("--auto-create", "--oidc-token", OIDC_TOKEN));
    /* OIDC: every file outside f.dir, which is searched afterwards. */
    snprintf(token_file, sizeof(token_file), "%s-oidc-token", f.dir);
    torture_write_text(token_file, OIDC_TOKEN);
    snprintf(env_token, sizeof(env_token), "ALIBABA_CLOUD_OIDC_TOKEN_FILE=%s",
             token_file);
    snprintf(env_sts, sizeof(env_sts), "ALIBABA_CLOUD_STS_ENDPOINT=%s",
             f.emu.endpoint);
    snprintf(report, sizeof(report), "%s/oidc.report.csv", f.dir);
    p = provider_of_run(&f, report,
                        E2E_ARGS("ALIBABA_CLOUD_ROLE_ARN=acs:ram::"
                                 "1234567890123456:role/ota-rollout",
                                 "ALIBABA_CLOUD_OIDC_PROVIDER_ARN=acs:ram::"
                                 "1234567890123456:oidc-provider/ack",
                                 env_token, env_sts),
                        NULL, 0, &r);
    assert_string_equal(p, "oidc");
    free(p);
    texts[0] = r.out;
    texts[1] = r.err;
    texts[2] = NULL;
    h_assert_no_secret(f.dir, OIDC_TOKEN, texts);
    h_assert_no_secret(f.dir, "oidc-never-print-me", texts);
    assert_no_minted_secret(&f, &r);
    h_run_free(&r);

    /* External: `cat FILE` prints a StsToken set from the emulator's
     * credentials URI. */
    {
        char url[160];

        snprintf(url, sizeof(url), "%s/credentials", f.emu.endpoint);
        body = h_http(url, NULL, NULL, &status, NULL);
        assert_int_equal(status, 200);
        minted = json_loads(body, 0, NULL);
        free(body);
    }
    snprintf(out_file, sizeof(out_file), "%s-external.json", f.dir);
    assert_true(asprintf(&json,
                         "{\"mode\":\"StsToken\",\"access_key_id\":\"%s\","
                         "\"access_key_secret\":\"%s\",\"sts_token\":"
                         "\"%s\",\"expiration\":\"%s\"}",
                         e2e_str(minted, "AccessKeyId"),
                         e2e_str(minted, "AccessKeySecret"),
                         e2e_str(minted, "SecurityToken"),
                         e2e_str(minted, "Expiration")) > 0);
    torture_write_text(out_file, json);
    free(json);
    snprintf(cfg, sizeof(cfg), "%s-external-config.json", f.dir);
    assert_true(asprintf(&json,
                         "{\"current\":\"ext\",\"profiles\":[{\"name\":"
                         "\"ext\",\"mode\":\"External\","
                         "\"process_command\":\"cat %s\"}]}",
                         out_file) > 0);
    torture_write_text(cfg, json);
    free(json);
    chmod(cfg, 0600);
    snprintf(env_cfg, sizeof(env_cfg), "ALIBABA_CLOUD_CONFIG_FILE=%s", cfg);
    snprintf(report, sizeof(report), "%s/external.report.csv", f.dir);
    p = provider_of_run(&f, report, E2E_ARGS(env_cfg), NULL, 0, &r);
    assert_string_equal(p, "profile:External");
    free(p);
    texts[0] = r.out;
    texts[1] = r.err;
    h_assert_no_secret(f.dir, e2e_str(minted, "AccessKeySecret"), texts);
    h_assert_no_secret(f.dir, e2e_str(minted, "SecurityToken"), texts);
    assert_no_minted_secret(&f, &r);
    json_decref(minted);
    h_run_free(&r);
    e2e_fleet_stop(&f);
}

/* Temporary credentials whose account's RAM policy denies an action (the
 * credentials URI mints for H_KEY_ID's account): the advice names their
 * source, not the key id of the first set; in the pre-flight and in the
 * Creates. */
static void denied_temporary_credentials_advice_names_the_source(void **state)
{
    struct e2e_fleet f;
    struct h_run r;
    char uri[160];
    const char *argv[E2E_MAX_ARGS];
    json_t *all = NULL;
    const char *first = NULL;

    (void)state;
    e2e_fleet_start(&f, 400, PK,
                    E2E_ARGS("--auto-create", "--ram-deny",
                             H_KEY_ID ":QueryOTAFirmware,"
                                      "CreateOTAStaticUpgradeJob"));
    snprintf(uri, sizeof(uri), "ALIBABA_CLOUD_CREDENTIALS_URI=%s/credentials",
             f.emu.endpoint);
    e2e_fleet_argv(argv, &f, FW, NULL);
    e2e_run_expect(&r, argv, E2E_ARGS(uri), 1, 60, 4);
    assert_non_null(strstr(r.err, "the RAM policy of the temporary "
                                  "credentials from credentials URI"));
    assert_non_null(strstr(r.err, "does not allow iot:QueryOTAFirmware"));
    all = h_emu_get(&f.emu, "/__emu/minted");
    first = e2e_str(json_array_get(json_object_get(all, "keys"), 0), "id");
    assert_true(strncmp(first, "STS.", 4) == 0);
    assert_null(strstr(r.err, first));
    h_run_free(&r);

    e2e_fleet_argv(argv, &f, FW, E2E_ARGS("--skip-preflight"));
    e2e_run_expect(&r, argv, E2E_ARGS(uri), 1, 60, 4);
    assert_non_null(strstr(r.err, "the RAM policy of the temporary "
                                  "credentials from credentials URI"));
    assert_non_null(strstr(r.err, "iot:CreateOTAStaticUpgradeJob"));
    json_decref(all);
    all = h_emu_get(&f.emu, "/__emu/minted");
    first = e2e_str(json_array_get(json_object_get(all, "keys"), 1), "id");
    assert_null(strstr(r.err, first));
    json_decref(all);
    h_run_free(&r);
    e2e_fleet_stop(&f);
}

/* Nothing configured and the metadata service off (as in every test): a
 * clear error before any call, the emulator asked nothing. */
static void nothing_configured_sends_nothing(void **state)
{
    struct e2e_fleet f;
    struct h_run r;
    const char *argv[E2E_MAX_ARGS];

    (void)state;
    e2e_fleet_start(&f, 400, PK, E2E_ARGS("--auto-create"));
    e2e_fleet_argv(argv, &f, FW, NULL);
    e2e_run_expect(&r, argv, NULL, 1, 60, 2);
    assert_non_null(strstr(r.err, "no credentials"));
    assert_int_equal(e2e_log_count(&f.emu, NULL, 0), 0);
    h_run_free(&r);
    e2e_fleet_stop(&f);
}

/* --- kill -9 during a refresh --------------------------------------------- */

/* A credentials URI in front of the emulator's that holds every fetch
 * after the first for REFRESH_HOLD_MS before answering: a refresh is then
 * in progress for that long, and the test kills the tool inside it. Or
 * (fail_first) that answers the first fail_first fetches with fail_status
 * and the Code the credential services use for it, and passes the
 * others on at once. */
#define REFRESH_HOLD_MS 800

struct slow_uri {
    struct MHD_Daemon *mhd;
    unsigned port;
    char upstream[160];
    atomic_int gets;
    int fail_first;
    unsigned fail_status;
};

/* The refusal a failing fetch gets. */
static enum MHD_Result refuse(struct MHD_Connection *conn, unsigned status)
{
    static const char unavailable[] =
        "{\"Code\":\"ServiceUnavailable\",\"Message\":\"try again\"}";
    static const char forbidden[] =
        "{\"Code\":\"Forbidden\",\"Message\":\"not for you\"}";
    const char *body = status >= 500 ? unavailable : forbidden;
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;

    MHD_add_response_header(resp, "Content-Type", "application/json");
    ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result slow_answer(void *cls, struct MHD_Connection *conn,
                                   const char *url, const char *method,
                                   const char *version, const char *upload,
                                   size_t *upload_size, void **con_cls)
{
    struct slow_uri *s = cls;
    struct MHD_Response *resp = NULL;
    enum MHD_Result ret;
    char *body = NULL;
    long status = 0;
    size_t len = 0;

    (void)url;
    (void)method;
    (void)version;
    (void)upload;
    (void)upload_size;
    if (*con_cls == NULL) {
        *con_cls = s;
        return MHD_YES;
    }
    if (s->fail_first > 0) {
        if (atomic_fetch_add(&s->gets, 1) < s->fail_first)
            return refuse(conn, s->fail_status);
    } else if (atomic_fetch_add(&s->gets, 1) >= 1) {
        h_sleep_ms(REFRESH_HOLD_MS);
    }
    body = h_http(s->upstream, NULL, NULL, &status, &len);
    resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    ret = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void slow_uri_start(struct slow_uri *s, const struct emu_proc *emu)
{
    const union MHD_DaemonInfo *info = NULL;

    memset(s, 0, sizeof(*s));
    snprintf(s->upstream, sizeof(s->upstream), "%s/credentials",
             emu->endpoint);
    s->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
                                  MHD_USE_THREAD_PER_CONNECTION,
                              0, NULL, NULL, slow_answer, s,
                              MHD_OPTION_END);
    assert_non_null(s->mhd);
    info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(info);
    s->port = info->port;
}

/* The first fetch fails twice with a 503 (the URI blinks while a cron
 * job starts): tried again with a backoff, the run goes on and completes.
 * A refusal no retry cures (403) is told at once, after one fetch. */
static void first_fetch_retried_when_a_retry_may_cure(void **state)
{
    struct e2e_fleet f;
    struct slow_uri blink;
    struct h_run r;
    char env[160];
    const char *argv[E2E_MAX_ARGS];

    (void)state;
    e2e_fleet_start(&f, 400, PK, E2E_ARGS("--auto-create"));
    slow_uri_start(&blink, &f.emu);
    blink.fail_first = 2;
    blink.fail_status = 503;
    snprintf(env, sizeof(env),
             "ALIBABA_CLOUD_CREDENTIALS_URI=http://127.0.0.1:%u/credentials",
             blink.port);
    e2e_fleet_argv(argv, &f, FW, NULL);
    e2e_run_expect(&r, argv, E2E_ARGS(env), 1, 60, 0);
    assert_int_equal(atomic_load(&blink.gets), 3);
    e2e_assert_complete(&f, 400, 2);
    assert_no_minted_secret(&f, &r);
    h_run_free(&r);

    atomic_store(&blink.gets, 0);
    blink.fail_first = 1000;
    blink.fail_status = 403;
    e2e_run_expect(&r,
                   E2E_ARGS("status", f.report, "--endpoint", f.emu.endpoint),
                   E2E_ARGS(env), 1, 60, 2);
    assert_int_equal(atomic_load(&blink.gets), 1);
    assert_non_null(strstr(r.err, "Forbidden"));
    h_run_free(&r);
    MHD_stop_daemon(blink.mhd);
    e2e_fleet_stop(&f);
}

/* 4,000 devices at --qps 2 on 6-second credentials from a slow URI:
 * killed (SIGKILL) while its first refresh is held, then resumed from the
 * emulator's own URI: every device in exactly one job, no call refused as
 * expired. */
static void kill9_during_refresh_then_resume(void **state)
{
    struct e2e_fleet f;
    struct slow_uri slow;
    struct h_run r;
    char slow_env[160], uri[160];
    const char *argv[E2E_MAX_ARGS];
    pid_t pid = 0;
    int waited = 0;

    (void)state;
    e2e_fleet_start(&f, 4000, PK,
                    E2E_ARGS("--auto-create", "--sts-ttl-s", "6"));
    slow_uri_start(&slow, &f.emu);
    snprintf(slow_env, sizeof(slow_env),
             "ALIBABA_CLOUD_CREDENTIALS_URI=http://127.0.0.1:%u/credentials",
             slow.port);
    snprintf(uri, sizeof(uri), "ALIBABA_CLOUD_CREDENTIALS_URI=%s/credentials",
             f.emu.endpoint);
    e2e_fleet_argv(argv, &f, FW, E2E_ARGS("--qps", "2"));
    pid = h_spawn(argv, E2E_ARGS(slow_env), 1, f.dir, f.output, NULL);
    /* The second fetch is the first refresh: kill inside its hold. */
    while (atomic_load(&slow.gets) < 2 && waited < 30000) {
        h_sleep_ms(10);
        waited += 10;
    }
    assert_true(atomic_load(&slow.gets) >= 2);
    h_sleep_ms(REFRESH_HOLD_MS / 4);
    kill(pid, SIGKILL);
    assert_int_equal(h_wait(pid, -1, 30000), -1);
    assert_true(e2e_count_intents(f.journal) >= 1);
    assert_true(e2e_count_intents(f.journal) < 20); /* killed midway */

    e2e_fleet_argv(argv, &f, FW, E2E_ARGS("--qps", "2", "--resume"));
    e2e_run_expect(&r, argv, E2E_ARGS(uri), 1, 120, 0);
    e2e_assert_complete(&f, 4000, 20);
    {
        json_t *log = h_read_jsonl(f.emu.log_path);

        (void)sts_keys_of_creates(log); /* none refused as expired */
        json_decref(log);
    }
    assert_no_minted_secret(&f, &r);
    h_run_free(&r);
    MHD_stop_daemon(slow.mhd);
    e2e_fleet_stop(&f);
}

E2E_MAIN(cmocka_unit_test(static_keys_as_before),
         cmocka_unit_test(kill9_during_refresh_then_resume),
         cmocka_unit_test(first_fetch_retried_when_a_retry_may_cure),
         cmocka_unit_test(each_source_and_the_order),
         cmocka_unit_test(oidc_and_external_print_no_secret),
         cmocka_unit_test(denied_temporary_credentials_advice_names_the_source),
         cmocka_unit_test(nothing_configured_sends_nothing),
         cmocka_unit_test(uri_20k_on_6s_credentials),
         cmocka_unit_test(ram_role_arn_20k_on_6s_credentials))
