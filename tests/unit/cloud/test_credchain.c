/* test_credchain.c - the credential chain in a scratch HOME: every
 * environment variable, every config.json mode and ini type, the order
 * (environment > OIDC > config.json > ini > ECS > credentials URI, an
 * explicit --profile over the environment), the STS address rules, plain
 * http to loopback only, the loose-mode warning, a ChainableRamRoleArn
 * cycle; no message, label or warning ever holds a secret. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/cloud/credchain.h"
#include "torture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET "zz-CHAIN-SECRET-1"
#define TOKEN "zz-CHAIN-TOKEN-2"

static const char *const env_vars[] = {
    "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN", "ALIBABA_CLOUD_ROLE_ARN",
    "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
    "ALIBABA_CLOUD_ROLE_SESSION_NAME", "ALIBABA_CLOUD_CONFIG_FILE",
    "ALIBABA_CLOUD_PROFILE", "ALIBABA_CLOUD_CLI_PROFILE_DISABLED",
    "ALIBABA_CLOUD_CREDENTIALS_FILE", "ALIBABA_CLOUD_ECS_METADATA",
    "ALIBABA_CLOUD_ECS_METADATA_DISABLED", "ALIBABA_CLOUD_IMDSV1_DISABLED",
    "ALIBABA_CLOUD_CREDENTIALS_URI", "ALIBABA_CLOUD_STS_ENDPOINT",
    "ALIBABA_CLOUD_STS_REGION", "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED",
    "OTA_ROLLOUT_ECS_METADATA_URL",
};

struct fx {
    char home[64];
    char cfg[128];   /* HOME/.aliyun/config.json */
    char ini[128];   /* HOME/.alibabacloud/credentials */
    char token[128]; /* HOME/token (an OIDC token file) */
};

static void clear_env(void)
{
    size_t i = 0;

    for (i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
        unsetenv(env_vars[i]);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    char dir[128];

    torture_mkdtemp(f->home, sizeof(f->home), "test_credchain");
    snprintf(f->cfg, sizeof(f->cfg), "%s/.aliyun/config.json", f->home);
    snprintf(f->ini, sizeof(f->ini), "%s/.alibabacloud/credentials",
             f->home);
    snprintf(f->token, sizeof(f->token), "%s/token", f->home);
    snprintf(dir, sizeof(dir), "%s/.aliyun", f->home);
    mkdir(dir, 0700);
    snprintf(dir, sizeof(dir), "%s/.alibabacloud", f->home);
    mkdir(dir, 0700);
    torture_write_text(f->token, "oidc-" TOKEN);
    chmod(f->token, 0600);
    clear_env();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    torture_rmtree(f->home);
    free(f);
    clear_env();
    return 0;
}

static void write_mode(const char *path, const char *text, mode_t mode)
{
    torture_write_text(path, text);
    assert_int_equal(chmod(path, mode), 0);
}

/* config.json holding the given profiles (a JSON list's members). */
static void write_cfg(const struct fx *f, const char *current,
                      const char *profiles)
{
    char *text = NULL;

    assert_true(asprintf(&text,
                         "{\"current\": \"%s\", \"profiles\": [%s], "
                         "\"meta_path\": \"\"}",
                         current, profiles) > 0);
    write_mode(f->cfg, text, 0600);
    free(text);
}

static void check_no_secret(const char *s)
{
    if (s == NULL)
        return;
    assert_null(strstr(s, SECRET));
    assert_null(strstr(s, TOKEN));
}

static void check_source(const struct orch_credsource *src)
{
    if (src == NULL)
        return;
    check_no_secret(src->label);
    check_no_secret(src->provider);
    check_no_secret(src->static_cred.source);
    check_source(src->signer);
}

/* Resolves; no secret in diag, warning, labels or providers. */
static int resolve(const struct fx *f, const char *profile,
                   struct orch_credchain *c, struct orch_diag *d)
{
    int rc = 0;
    size_t i = 0;

    memset(d, 0, sizeof(*d));
    rc = orch_credchain_resolve(c, profile, f->home, d);
    check_no_secret(d->msg);
    if (rc == 0) {
        check_no_secret(c->warning);
        assert_true(c->n >= 1 && c->n <= ORCH_CREDCHAIN_MAX);
        for (i = 0; i < c->n; i++)
            check_source(c->cand[i]);
    } else {
        assert_int_equal(c->n, 0);
    }
    return rc;
}

/* Resolves expecting rc and (rc != 0) msg in diag. */
static void expect_err(const struct fx *f, const char *profile, int rc,
                       const char *msg)
{
    struct orch_credchain c;
    struct orch_diag d;
    int got = resolve(f, profile, &c, &d);

    if (got != rc || strstr(d.msg, msg) == NULL)
        fail_msg("profile %s: rc %d (want %d), diag \"%s\" (want \"%s\")",
                 profile ? profile : "-", got, rc, d.msg, msg);
}

static void env_keys(void)
{
    setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv", 1);
    setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET, 1);
}

static void oidc_env(const struct fx *f)
{
    setenv("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/pod", 1);
    setenv("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "acs:ram::1:oidc-provider/k", 1);
    setenv("ALIBABA_CLOUD_OIDC_TOKEN_FILE", f->token, 1);
}

#define AK_PROFILE(name, id)                                                 \
    "{\"name\": \"" name "\", \"mode\": \"AK\", \"access_key_id\": \"" id   \
    "\", \"access_key_secret\": \"" SECRET "\"}"

static void env_static_with_token(void **state)
{
    struct fx *f = *state;
    struct orch_credchain c;
    struct orch_diag d;

    env_keys();
    setenv("ALIBABA_CLOUD_SECURITY_TOKEN", TOKEN, 1);
    assert_int_equal(resolve(f, NULL, &c, &d), 0);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.cand[0]->kind, ORCH_CRED_STATIC);
    assert_string_equal(c.cand[0]->label, "environment");
    assert_string_equal(c.cand[0]->provider, "env");
    assert_string_equal(c.cand[0]->static_cred.access_key_id, "LTAIenv");
    assert_string_equal(c.cand[0]->static_cred.secret.s, SECRET);
    assert_string_equal(c.cand[0]->static_cred.token.s, TOKEN);
    assert_string_equal(c.cand[0]->static_cred.source, "environment");
    assert_null(c.warning);
    orch_credchain_cleanup(&c);
    orch_credchain_cleanup(&c); /* twice is fine */
    orch_credchain_cleanup(NULL);

    unsetenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
    expect_err(f, NULL, ORCH_ECRED, "ALIBABA_CLOUD_ACCESS_KEY_SECRET is not");
}

/* Each source in turn, taking the earlier ones away. */
static void the_order(void **state)
{
    struct fx *f = *state;
    struct orch_credchain c;
    struct orch_diag d;

    env_keys();
    oidc_env(f);
    write_cfg(f, "default", AK_PROFILE("default", "LTAIcfg"));
    write_mode(f->ini, "[default]\ntype = access_key\naccess_key_id = "
                       "LTAIini\naccess_key_secret = " SECRET "\n",
               0600);
    setenv("ALIBABA_CLOUD_CREDENTIALS_URI", "https://creds.example/c", 1);

    assert_int_equal(resolve(f, NULL, &c, &d), 0);
    assert_string_equal(c.cand[0]->provider, "env");
    orch_credchain_cleanup(&c);

    /* An explicit --profile wins over the environment and OIDC. */
    assert_int_equal(resolve(f, "default", &c, &d), 0);
    assert_string_equal(c.cand[0]->static_cred.access_key_id, "LTAIcfg");
    orch_credchain_cleanup(&c);

    unsetenv("ALIBABA_CLOUD_ACCESS_KEY_ID");
    unsetenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
    assert_int_equal(resolve(f, NULL, &c, &d), 0);
    assert_string_equal(c.cand[0]->provider, "oidc");
    orch_credchain_cleanup(&c);

    unsetenv("ALIBABA_CLOUD_OIDC_PROVIDER_ARN");
    unsetenv("ALIBABA_CLOUD_OIDC_TOKEN_FILE");
    /* ALIBABA_CLOUD_ROLE_ARN alone is not an OIDC setup. */
    assert_int_equal(resolve(f, NULL, &c, &d), 0);
    assert_string_equal(c.cand[0]->provider, "profile:AK");
    orch_credchain_cleanup(&c);

    unlink(f->cfg);
    assert_int_equal(resolve(f, NULL, &c, &d), 0);
    assert_string_equal(c.cand[0]->provider, "ini:access_key");
    assert_string_equal(c.cand[0]->static_cred.access_key_id, "LTAIini");
    orch_credchain_cleanup(&c);

    unlink(f->ini);
    assert_int_equal(resolve(f, NULL, &c, &d), 0);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.cand[0]->kind, ORCH_CRED_ECS);
    assert_string_equal(c.cand[0]->provider, "ecs_ram_role");
    assert_string_equal(c.cand[0]->label, "ECS RAM role (metadata)");
    assert_string_equal(c.cand[0]->metadata_url, "http://100.100.100.200");
    assert_null(c.cand[0]->ecs_role_name);
    assert_false(c.cand[0]->imdsv1_disabled);
    assert_int_equal(c.cand[1]->kind, ORCH_CRED_URI);
    assert_string_equal(c.cand[1]->provider, "credentials_uri");
    assert_string_equal(c.cand[1]->label, "credentials URI");
    assert_string_equal(c.cand[1]->uri, "https://creds.example/c");
    orch_credchain_cleanup(&c);

    setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true", 1);
    assert_int_equal(resolve(f, NULL, &c, &d), 0);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.cand[0]->kind, ORCH_CRED_URI);
    orch_credchain_cleanup(&c);

    unsetenv("ALIBABA_CLOUD_CREDENTIALS_URI");
    expect_err(f, NULL, ORCH_ECRED, "no credentials: set "
                                    "ALIBABA_CLOUD_ACCESS_KEY_ID");
}

static void oidc_from_the_environment(void **state)
{
    static const char *const need[] = {"ALIBABA_CLOUD_ROLE_ARN",
                                       "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
                                       "ALIBABA_CLOUD_OIDC_TOKEN_FILE"};
    struct fx *f = *state;
    struct orch_credchain c;
    struct orch_diag d;
    struct orch_credsource *s = NULL;
    size_t i = 0;

    oidc_env(f);
    assert_int_equal(resolve(f, NULL, &c, &d), 0);
    s = c.cand[0];
    assert_int_equal(s->kind, ORCH_CRED_OIDC);
    assert_string_equal(s->label, "OIDC (environment)");
    assert_string_equal(s->role_arn, "acs:ram::1:role/pod");
    assert_string_equal(s->oidc_provider_arn, "acs:ram::1:oidc-provider/k");
    assert_string_equal(s->oidc_token_file, f->token);
    assert_string_equal(s->session_name, "ota-rollout");
    assert_int_equal(s->duration_s, 3600);
    assert_string_equal(s->sts_url, "https://sts.aliyuncs.com");
    assert_null(s->signer);
    orch_credchain_cleanup(&c);

    setenv("ALIBABA_CLOUD_ROLE_SESSION_NAME", "pod-7", 1);
    assert_int_equal(resolve(f, NULL, &c, &d), 0);
    assert_string_equal(c.cand[0]->session_name, "pod-7");
    orch_credchain_cleanup(&c);

    for (i = 0; i < 3; i++) {
        oidc_env(f);
        unsetenv(need[i]);
        if (i > 0) /* the ARN alone is no OIDC setup; the others are */
            expect_err(f, NULL, ORCH_ECRED, need[i]);
    }
    oidc_env(f);
    unlink(f->token);
    expect_err(f, NULL, ORCH_ECRED, "the OIDC token file");
}

static void config_json_modes(void **state)
{
    struct fx *f = *state;
    struct orch_credchain c;
    struct orch_diag d;
    struct orch_credsource *s = NULL;
    char *profiles = NULL;
    char want[256];

    assert_true(asprintf(&profiles,
        AK_PROFILE("ak", "LTAIak") ","
        "{\"name\": \"sts\", \"mode\": \"StsToken\", \"access_key_id\": "
        "\"STS.x\", \"access_key_secret\": \"" SECRET "\", \"sts_token\": \""
        TOKEN "\"},"
        "{\"name\": \"ops\", \"mode\": \"RamRoleArn\", \"access_key_id\": "
        "\"LTAIops\", \"access_key_secret\": \"" SECRET "\", "
        "\"ram_role_arn\": \"acs:ram::1:role/ota\", \"ram_session_name\": "
        "\"night\", \"expired_seconds\": 900, \"external_id\": \"ext-1\", "
        "\"sts_region\": \"cn-shanghai\"},"
        "{\"name\": \"opssts\", \"mode\": \"ramrolearn\", \"access_key_id\": "
        "\"STS.y\", \"access_key_secret\": \"" SECRET "\", \"sts_token\": \""
        TOKEN "\", \"ram_role_arn\": \"acs:ram::1:role/ota\", "
        "\"sts_endpoint\": \"http://127.0.0.1:8080/\"},"
        "{\"name\": \"chain\", \"mode\": \"ChainableRamRoleArn\", "
        "\"source_profile\": \"ops\", \"ram_role_arn\": "
        "\"acs:ram::2:role/far\", \"expired_seconds\": 43200},"
        "{\"name\": \"ecs\", \"mode\": \"EcsRamRole\", \"ram_role_name\": "
        "\"fleet\"},"
        "{\"name\": \"uri\", \"mode\": \"CredentialsURI\", "
        "\"credentials_uri\": \"http://localhost:9/creds\"},"
        "{\"name\": \"oidc\", \"mode\": \"OIDC\", \"oidc_provider_arn\": "
        "\"acs:ram::1:oidc-provider/k\", \"oidc_token_file\": \"%s\", "
        "\"ram_role_arn\": \"acs:ram::1:role/pod\", \"ram_session_name\": "
        "\"p\"},"
        "{\"name\": \"ext\", \"mode\": \"External\", \"process_command\": "
        "\"/opt/get-creds 'a b' c\"}",
        f->token) > 0);
    write_cfg(f, "ak", profiles);
    free(profiles);

    assert_int_equal(resolve(f, NULL, &c, &d), 0); /* "current" */
    snprintf(want, sizeof(want), "profile ak (%s)", f->cfg);
    assert_string_equal(c.cand[0]->label, want);
    assert_string_equal(c.cand[0]->static_cred.source, want);
    assert_string_equal(c.cand[0]->provider, "profile:AK");
    assert_null(c.cand[0]->static_cred.token.s);
    orch_credchain_cleanup(&c);

    setenv("ALIBABA_CLOUD_PROFILE", "sts", 1);
    assert_int_equal(resolve(f, NULL, &c, &d), 0);
    assert_string_equal(c.cand[0]->static_cred.token.s, TOKEN);
    assert_string_equal(c.cand[0]->provider, "profile:StsToken");
    orch_credchain_cleanup(&c);
    unsetenv("ALIBABA_CLOUD_PROFILE");

    assert_int_equal(resolve(f, "ops", &c, &d), 0);
    s = c.cand[0];
    assert_int_equal(s->kind, ORCH_CRED_ASSUME_ROLE);
    assert_string_equal(s->label, "RamRoleArn profile \"ops\"");
    assert_string_equal(s->provider, "profile:RamRoleArn");
    assert_string_equal(s->role_arn, "acs:ram::1:role/ota");
    assert_string_equal(s->session_name, "night");
    assert_int_equal(s->duration_s, 900);
    assert_string_equal(s->external_id, "ext-1");
    assert_null(s->policy);
    assert_string_equal(s->sts_url, "https://sts.cn-shanghai.aliyuncs.com");
    assert_int_equal(s->signer->kind, ORCH_CRED_STATIC);
    assert_string_equal(s->signer->static_cred.access_key_id, "LTAIops");
    assert_string_equal(s->signer->static_cred.secret.s, SECRET);
    assert_null(s->signer->static_cred.token.s);
    orch_credchain_cleanup(&c);

    /* Mode names in any case; an STS signer keeps its token; a loopback
     * http endpoint loses its trailing slash. */
    assert_int_equal(resolve(f, "opssts", &c, &d), 0);
    s = c.cand[0];
    assert_string_equal(s->label, "RamRoleArn profile \"opssts\"");
    assert_string_equal(s->signer->static_cred.token.s, TOKEN);
    assert_string_equal(s->session_name, "ota-rollout");
    assert_int_equal(s->duration_s, 3600);
    assert_null(s->external_id);
    assert_string_equal(s->sts_url, "http://127.0.0.1:8080");
    orch_credchain_cleanup(&c);

    assert_int_equal(resolve(f, "chain", &c, &d), 0);
    s = c.cand[0];
    assert_string_equal(s->label, "ChainableRamRoleArn profile \"chain\"");
    assert_string_equal(s->role_arn, "acs:ram::2:role/far");
    assert_int_equal(s->duration_s, 43200);
    assert_int_equal(s->signer->kind, ORCH_CRED_ASSUME_ROLE);
    assert_string_equal(s->signer->label, "RamRoleArn profile \"ops\"");
    assert_string_equal(s->signer->signer->static_cred.access_key_id,
                        "LTAIops");
    orch_credchain_cleanup(&c);

    assert_int_equal(resolve(f, "ecs", &c, &d), 0);
    s = c.cand[0];
    assert_int_equal(c.n, 1); /* a profile is final: no URI after it */
    assert_int_equal(s->kind, ORCH_CRED_ECS);
    assert_string_equal(s->label, "EcsRamRole profile \"ecs\"");
    assert_string_equal(s->ecs_role_name, "fleet");
    assert_string_equal(s->metadata_url, "http://100.100.100.200");
    orch_credchain_cleanup(&c);
    setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "TRUE", 1);
    expect_err(f, "ecs", ORCH_ECRED,
               "uses mode EcsRamRole, but "
               "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true turns the metadata "
               "service off");
    unsetenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED");

    assert_int_equal(resolve(f, "uri", &c, &d), 0);
    assert_int_equal(c.cand[0]->kind, ORCH_CRED_URI);
    assert_string_equal(c.cand[0]->uri, "http://localhost:9/creds");
    assert_string_equal(c.cand[0]->provider, "profile:CredentialsURI");
    orch_credchain_cleanup(&c);

    assert_int_equal(resolve(f, "oidc", &c, &d), 0);
    s = c.cand[0];
    assert_int_equal(s->kind, ORCH_CRED_OIDC);
    assert_string_equal(s->label, "OIDC profile \"oidc\"");
    assert_string_equal(s->oidc_token_file, f->token);
    assert_string_equal(s->session_name, "p");
    orch_credchain_cleanup(&c);

    assert_int_equal(resolve(f, "ext", &c, &d), 0);
    s = c.cand[0];
    assert_int_equal(s->kind, ORCH_CRED_PROCESS);
    assert_string_equal(s->label, "External profile \"ext\"");
    assert_string_equal(s->argv[0], "/opt/get-creds");
    assert_string_equal(s->argv[1], "a b");
    assert_string_equal(s->argv[2], "c");
    assert_null(s->argv[3]);
    orch_credchain_cleanup(&c);
}

static void refused_modes_and_missing_fields(void **state)
{
    static const struct {
        const char *profile;
        int rc;
        const char *msg;
    } cases[] = {
        {"sso", ORCH_ECRED, "profile sso uses mode CloudSSO, which "
                            "ota-rollout does not support: its sign-in is "
                            "interactive"},
        {"oauth", ORCH_ECRED, "uses mode OAuth"},
        {"rsa", ORCH_ECRED, "uses mode RsaKeyPair, which ota-rollout does "
                            "not support: it is deprecated"},
        {"bearer", ORCH_ECRED, "uses mode BearerToken"},
        {"weird", ORCH_ECRED, "has an unknown mode \"Magic\"; use AK"},
        {"nosecret", ORCH_ECRED, "profile nosecret in"},
        {"norole", ORCH_ECRED, "(mode RamRoleArn) has no ram_role_arn"},
        {"nosrc", ORCH_ECRED, "(mode ChainableRamRoleArn) has no "
                              "source_profile"},
        {"lostsrc", ORCH_ECRED, "its source_profile gone does not exist"},
        {"nouri", ORCH_ECRED, "(mode CredentialsURI) has no credentials_uri"},
        {"nocmd", ORCH_ECRED, "(mode External) has no process_command"},
        {"badcmd", ORCH_ECONFIG, "process_command has an unclosed quote"},
        {"nooidc", ORCH_ECRED, "(mode OIDC) has no oidc_token_file"},
        {"short", ORCH_ECONFIG, "expired_seconds 899 is outside 900..43200"},
        {"long", ORCH_ECONFIG, "expired_seconds 43201 is outside"},
        {"strdur", ORCH_ECONFIG, "expired_seconds is not a number"},
        {"plainuri", ORCH_ECONFIG, "credentials_uri: plain http is "
                                   "accepted only to a loopback address"},
        {"ftpuri", ORCH_ECONFIG, "not an https:// (or loopback http://)"},
        {"cycle-a", ORCH_ECONFIG, "source_profile goes round in a cycle "
                                  "(cycle-a -> cycle-b -> cycle-a)"},
        {"self", ORCH_ECONFIG, "cycle (self -> self)"},
        {"missing", ORCH_ECRED, "profile missing not found in"},
    };
    struct fx *f = *state;
    size_t i = 0;

#define ROLE "\"ram_role_arn\": \"acs:ram::1:role/x\""
#define KEYS "\"access_key_id\": \"LTAIx\", \"access_key_secret\": \"" SECRET "\""
    write_cfg(f, "sso",
        "{\"name\": \"sso\", \"mode\": \"CloudSSO\"},"
        "{\"name\": \"oauth\", \"mode\": \"OAuth\"},"
        "{\"name\": \"rsa\", \"mode\": \"RsaKeyPair\"},"
        "{\"name\": \"bearer\", \"mode\": \"BearerToken\"},"
        "{\"name\": \"weird\", \"mode\": \"Magic\"},"
        "{\"name\": \"nosecret\", \"mode\": \"AK\", \"access_key_id\": \"x\"},"
        "{\"name\": \"norole\", \"mode\": \"RamRoleArn\", " KEYS "},"
        "{\"name\": \"nosrc\", \"mode\": \"ChainableRamRoleArn\", " ROLE "},"
        "{\"name\": \"lostsrc\", \"mode\": \"ChainableRamRoleArn\", " ROLE
        ", \"source_profile\": \"gone\"},"
        "{\"name\": \"nouri\", \"mode\": \"CredentialsURI\"},"
        "{\"name\": \"nocmd\", \"mode\": \"External\"},"
        "{\"name\": \"badcmd\", \"mode\": \"External\", \"process_command\": "
        "\"x 'y\"},"
        "{\"name\": \"nooidc\", \"mode\": \"OIDC\", " ROLE
        ", \"oidc_provider_arn\": \"p\"},"
        "{\"name\": \"short\", \"mode\": \"RamRoleArn\", " KEYS ", " ROLE
        ", \"expired_seconds\": 899},"
        "{\"name\": \"long\", \"mode\": \"RamRoleArn\", " KEYS ", " ROLE
        ", \"expired_seconds\": 43201},"
        "{\"name\": \"strdur\", \"mode\": \"RamRoleArn\", " KEYS ", " ROLE
        ", \"expired_seconds\": \"3600\"},"
        "{\"name\": \"plainuri\", \"mode\": \"CredentialsURI\", "
        "\"credentials_uri\": \"http://10.0.0.1/c\"},"
        "{\"name\": \"ftpuri\", \"mode\": \"CredentialsURI\", "
        "\"credentials_uri\": \"ftp://127.0.0.1/c\"},"
        "{\"name\": \"cycle-a\", \"mode\": \"ChainableRamRoleArn\", " ROLE
        ", \"source_profile\": \"cycle-b\"},"
        "{\"name\": \"cycle-b\", \"mode\": \"ChainableRamRoleArn\", " ROLE
        ", \"source_profile\": \"cycle-a\"},"
        "{\"name\": \"self\", \"mode\": \"ChainableRamRoleArn\", " ROLE
        ", \"source_profile\": \"self\"}");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_err(f, cases[i].profile, cases[i].rc, cases[i].msg);
    /* Errors about a value name the file and the profile. */
    expect_err(f, "short", ORCH_ECONFIG, f->cfg);
    expect_err(f, "short", ORCH_ECONFIG, "profile \"short\"");
    /* "current" naming no profile is a broken file. */
    write_cfg(f, "gone", AK_PROFILE("a", "LTAIa"));
    expect_err(f, NULL, ORCH_ECONFIG, "its \"current\" profile gone does not "
                                      "exist");
    write_mode(f->cfg, "{\"profiles\": [{\"name\": \"x\", "
                       "\"access_key_secret\": \"" SECRET "\" oops}]}",
               0600);
    expect_err(f, NULL, ORCH_ECONFIG, "not valid JSON (line 1");
}

/* The STS address: the profile's sts_endpoint, ALIBABA_CLOUD_STS_ENDPOINT,
 * the profile's sts_region, ALIBABA_CLOUD_STS_REGION, else the central
 * endpoint; plain http only to loopback. */
static void sts_url_rules(void **state)
{
    static const struct {
        const char *field;    /* profile member, or NULL */
        const char *env;      /* "NAME=value" or NULL */
        const char *env2;
        const char *url;      /* NULL: ORCH_ECONFIG with msg */
        const char *msg;
    } cases[] = {
        {NULL, NULL, NULL, "https://sts.aliyuncs.com", NULL},
        {"\"sts_endpoint\": \"sts.cn-beijing.aliyuncs.com\"", NULL, NULL,
         "https://sts.cn-beijing.aliyuncs.com", NULL},
        {"\"sts_endpoint\": \"https://sts.example:8443/\"", NULL, NULL,
         "https://sts.example:8443", NULL},
        {"\"sts_endpoint\": \"http://127.0.0.9:81\"", NULL, NULL,
         "http://127.0.0.9:81", NULL},
        {"\"sts_endpoint\": \"http://[::1]:81\"", NULL, NULL,
         "http://[::1]:81", NULL},
        {"\"sts_endpoint\": \"http://localhost:81\"", NULL, NULL,
         "http://localhost:81", NULL},
        {"\"sts_endpoint\": \"http://sts.aliyuncs.com\"", NULL, NULL, NULL,
         "sts_endpoint: plain http is accepted only to a loopback"},
        {"\"sts_endpoint\": \"http://127.0.0.1.evil.example\"", NULL, NULL,
         NULL, "plain http is accepted only to a loopback"},
        {"\"sts_endpoint\": \"http://127.0.0.1@evil.example\"", NULL, NULL,
         NULL, "plain http is accepted only to a loopback"},
        {"\"sts_endpoint\": \"sts host\"", NULL, NULL, NULL,
         "not a host name"},
        {NULL, "ALIBABA_CLOUD_STS_ENDPOINT=sts.env.example", NULL,
         "https://sts.env.example", NULL},
        {NULL, "ALIBABA_CLOUD_STS_ENDPOINT=http://10.1.1.1", NULL, NULL,
         "ALIBABA_CLOUD_STS_ENDPOINT: plain http"},
        {"\"sts_endpoint\": \"http://127.0.0.1:5\"",
         "ALIBABA_CLOUD_STS_ENDPOINT=sts.env.example", NULL,
         "http://127.0.0.1:5", NULL},
        {NULL, "ALIBABA_CLOUD_STS_REGION=cn-hangzhou", NULL,
         "https://sts.cn-hangzhou.aliyuncs.com", NULL},
        {NULL, "ALIBABA_CLOUD_STS_REGION=cn-hangzhou",
         "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true",
         "https://sts-vpc.cn-hangzhou.aliyuncs.com", NULL},
        {"\"sts_region\": \"ap-southeast-1\"",
         "ALIBABA_CLOUD_STS_REGION=cn-hangzhou", NULL,
         "https://sts.ap-southeast-1.aliyuncs.com", NULL},
        {"\"sts_region\": \"cn-x\"", "ALIBABA_CLOUD_STS_ENDPOINT=sts.e.x",
         NULL, "https://sts.e.x", NULL},
        {"\"sts_region\": \"cn/x\"", NULL, NULL, NULL,
         "sts_region \"cn/x\" is not a region id"},
        {NULL, "ALIBABA_CLOUD_STS_REGION=CN..", NULL, NULL,
         "ALIBABA_CLOUD_STS_REGION \"CN..\" is not a region id"},
    };
    struct fx *f = *state;
    size_t i = 0;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct orch_credchain c;
        struct orch_diag d;
        char profile[512];
        int rc = 0;

        clear_env();
        snprintf(profile, sizeof(profile),
                 "{\"name\": \"r\", \"mode\": \"RamRoleArn\", " KEYS ", " ROLE
                 "%s%s}",
                 cases[i].field ? ", " : "",
                 cases[i].field ? cases[i].field : "");
        write_cfg(f, "r", profile);
        if (cases[i].env)
            putenv((char *)cases[i].env);
        if (cases[i].env2)
            putenv((char *)cases[i].env2);
        rc = resolve(f, NULL, &c, &d);
        if (cases[i].url &&
            (rc != 0 || strcmp(c.cand[0]->sts_url, cases[i].url) != 0))
            fail_msg("case %zu: rc %d, url %s, diag \"%s\"", i, rc,
                     rc ? "-" : c.cand[0]->sts_url, d.msg);
        if (cases[i].url == NULL &&
            (rc != ORCH_ECONFIG || strstr(d.msg, cases[i].msg) == NULL))
            fail_msg("case %zu: rc %d, diag \"%s\"", i, rc, d.msg);
        orch_credchain_cleanup(&c);
    }
    clear_env();
}

static void ecs_and_uri_tail(void **state)
{
    struct fx *f = *state;
    struct orch_credchain c;
    struct orch_diag d;

    setenv("ALIBABA_CLOUD_ECS_METADATA", "fleet", 1);
    setenv("ALIBABA_CLOUD_IMDSV1_DISABLED", "true", 1);
    setenv("OTA_ROLLOUT_ECS_METADATA_URL", "http://127.0.0.1:4567/", 1);
    assert_int_equal(resolve(f, NULL, &c, &d), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.cand[0]->label, "ECS RAM role \"fleet\" "
                                          "(metadata)");
    assert_string_equal(c.cand[0]->ecs_role_name, "fleet");
    assert_string_equal(c.cand[0]->metadata_url, "http://127.0.0.1:4567");
    assert_true(c.cand[0]->imdsv1_disabled);
    orch_credchain_cleanup(&c);

    setenv("OTA_ROLLOUT_ECS_METADATA_URL", "http://100.100.100.201", 1);
    expect_err(f, NULL, ORCH_ECONFIG, "OTA_ROLLOUT_ECS_METADATA_URL: only an "
                                      "http:// URL to a loopback address");
    setenv("OTA_ROLLOUT_ECS_METADATA_URL", "https://127.0.0.1", 1);
    expect_err(f, NULL, ORCH_ECONFIG, "OTA_ROLLOUT_ECS_METADATA_URL");

    setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true", 1);
    setenv("ALIBABA_CLOUD_CREDENTIALS_URI", "http://[::1]:80/credentials", 1);
    assert_int_equal(resolve(f, NULL, &c, &d), 0);
    assert_string_equal(c.cand[0]->uri, "http://[::1]:80/credentials");
    orch_credchain_cleanup(&c);
    setenv("ALIBABA_CLOUD_CREDENTIALS_URI", "http://192.168.1.1/c?t=" TOKEN,
           1);
    expect_err(f, NULL, ORCH_ECONFIG, "ALIBABA_CLOUD_CREDENTIALS_URI: plain "
                                      "http is accepted only");
}

static void ini_types(void **state)
{
    struct fx *f = *state;
    struct orch_credchain c;
    struct orch_diag d;
    struct orch_credsource *s = NULL;
    char want[256];

    write_mode(f->ini,
        "# comment\n"
        "stray = before any section\n"
        "[default]\n"
        "type = access_key   # the plain key\n"
        "access_key_id = LTAIini\n"
        "access_key_secret = " SECRET "\n"
        "\n"
        "[role]\n"
        "type = ram_role_arn\n"
        "access_key_id = LTAIrole\n"
        "access_key_secret = " SECRET "\n"
        "role_arn = acs:ram::1:role/ini\n"
        "role_session_name = ini-session\n"
        "policy = {\"Statement\":[]}\n"
        "\n"
        "[pod]\n"
        "type = oidc_role_arn\n"
        "role_arn = acs:ram::1:role/pod\n"
        "oidc_provider_arn = acs:ram::1:oidc-provider/k\n"
        "oidc_token_file_path = TOKENFILE\n"
        "[ecs]\n"
        "type = ecs_ram_role\n"
        "role_name = fleet\n"
        "[rsa]\n"
        "type = rsa_key_pair\n"
        "[notype]\n"
        "access_key_id = x\n"
        "[half]\n"
        "type = ram_role_arn\n"
        "access_key_id = LTAIx\n"
        "access_key_secret = " SECRET "\n",
        0600);
    {   /* the token file's path into [pod] */
        char *text = torture_read_file(f->ini, NULL);
        char *at = strstr(text, "TOKENFILE");
        char *fixed = NULL;

        *at = '\0';
        assert_true(asprintf(&fixed, "%s%s%s", text, f->token,
                             at + strlen("TOKENFILE")) > 0);
        write_mode(f->ini, fixed, 0600);
        free(text);
        free(fixed);
    }

    assert_int_equal(resolve(f, NULL, &c, &d), 0);
    s = c.cand[0];
    snprintf(want, sizeof(want), "profile default (%s)", f->ini);
    assert_string_equal(s->label, want);
    assert_string_equal(s->provider, "ini:access_key");
    assert_string_equal(s->static_cred.access_key_id, "LTAIini");
    assert_string_equal(s->static_cred.secret.s, SECRET);
    orch_credchain_cleanup(&c);

    setenv("ALIBABA_CLOUD_PROFILE", "role", 1);
    assert_int_equal(resolve(f, NULL, &c, &d), 0);
    s = c.cand[0];
    assert_int_equal(s->kind, ORCH_CRED_ASSUME_ROLE);
    assert_string_equal(s->label, "ram_role_arn ini profile \"role\"");
    assert_string_equal(s->provider, "ini:ram_role_arn");
    assert_string_equal(s->role_arn, "acs:ram::1:role/ini");
    assert_string_equal(s->session_name, "ini-session");
    assert_string_equal(s->policy, "{\"Statement\":[]}");
    assert_string_equal(s->signer->static_cred.access_key_id, "LTAIrole");
    orch_credchain_cleanup(&c);

    /* --profile names an ini section too when config.json lacks it. */
    assert_int_equal(resolve(f, "pod", &c, &d), 0);
    s = c.cand[0];
    assert_int_equal(s->kind, ORCH_CRED_OIDC);
    assert_string_equal(s->oidc_token_file, f->token);
    assert_string_equal(s->oidc_provider_arn, "acs:ram::1:oidc-provider/k");
    orch_credchain_cleanup(&c);

    assert_int_equal(resolve(f, "ecs", &c, &d), 0);
    assert_int_equal(c.cand[0]->kind, ORCH_CRED_ECS);
    assert_string_equal(c.cand[0]->ecs_role_name, "fleet");
    orch_credchain_cleanup(&c);
    setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true", 1);
    expect_err(f, "ecs", ORCH_ECRED,
               "is of type ecs_ram_role, but "
               "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true turns the metadata "
               "service off");
    unsetenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED");

    expect_err(f, "rsa", ORCH_ECRED, "has type \"rsa_key_pair\", which "
                                     "ota-rollout does not support");
    expect_err(f, "notype", ORCH_ECRED, "section [notype] of");
    expect_err(f, "half", ORCH_ECRED, "(type ram_role_arn) has no role_arn");
    expect_err(f, "nowhere", ORCH_ECRED, "profile nowhere:");

    write_mode(f->ini, "[default]\ntype = access_key\n" SECRET "\n", 0600);
    unsetenv("ALIBABA_CLOUD_PROFILE");
    expect_err(f, NULL, ORCH_ECONFIG, "credentials:3: not a `key = value` "
                                      "line");
}

static void file_overrides_and_switches(void **state)
{
    struct fx *f = *state;
    struct orch_credchain c;
    struct orch_diag d;
    char other[160], oini[160];

    snprintf(other, sizeof(other), "%s/other.json", f->home);
    snprintf(oini, sizeof(oini), "%s/other.ini", f->home);
    write_cfg(f, "default", AK_PROFILE("default", "LTAIhome"));
    write_mode(other, "{\"profiles\": [" AK_PROFILE("default", "LTAIother")
                      "]}",
               0600);
    write_mode(oini, "[default]\ntype = access_key\naccess_key_id = "
                     "LTAIoini\naccess_key_secret = " SECRET "\n",
               0600);

    setenv("ALIBABA_CLOUD_CONFIG_FILE", other, 1);
    assert_int_equal(resolve(f, NULL, &c, &d), 0);
    assert_string_equal(c.cand[0]->static_cred.access_key_id, "LTAIother");
    orch_credchain_cleanup(&c);

    setenv("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true", 1);
    setenv("ALIBABA_CLOUD_CREDENTIALS_FILE", oini, 1);
    assert_int_equal(resolve(f, NULL, &c, &d), 0);
    assert_string_equal(c.cand[0]->static_cred.access_key_id, "LTAIoini");
    orch_credchain_cleanup(&c);
    expect_err(f, "prod", ORCH_ECRED, "ALIBABA_CLOUD_CLI_PROFILE_DISABLED="
                                      "true skips");

    unsetenv("ALIBABA_CLOUD_CLI_PROFILE_DISABLED");
    setenv("ALIBABA_CLOUD_CONFIG_FILE", "/nonexistent/config.json", 1);
    expect_err(f, NULL, ORCH_ECRED, "ALIBABA_CLOUD_CONFIG_FILE names "
                                    "/nonexistent/config.json, which does "
                                    "not exist");
    unsetenv("ALIBABA_CLOUD_CONFIG_FILE");
    unlink(f->cfg);
    setenv("ALIBABA_CLOUD_CREDENTIALS_FILE", "/nonexistent/creds", 1);
    expect_err(f, NULL, ORCH_ECRED, "ALIBABA_CLOUD_CREDENTIALS_FILE names");

    /* An implicit "default" missing from config.json is no error: the
     * chain goes on (here to the ini file). */
    unsetenv("ALIBABA_CLOUD_CREDENTIALS_FILE");
    write_cfg(f, "", AK_PROFILE("other", "LTAIo"));
    write_mode(f->ini, "[default]\ntype = access_key\naccess_key_id = "
                       "LTAIini\naccess_key_secret = " SECRET "\n",
               0600);
    assert_int_equal(resolve(f, NULL, &c, &d), 0);
    assert_string_equal(c.cand[0]->provider, "ini:access_key");
    orch_credchain_cleanup(&c);
    /* A name given explicitly must exist. */
    setenv("ALIBABA_CLOUD_PROFILE", "prod", 1);
    expect_err(f, NULL, ORCH_ECRED, "profile prod not found in");
}

static void loose_modes_warn(void **state)
{
    struct fx *f = *state;
    struct orch_credchain c;
    struct orch_diag d;
    char want[400];

    write_cfg(f, "a", AK_PROFILE("a", "LTAIa"));
    assert_int_equal(resolve(f, NULL, &c, &d), 0);
    assert_null(c.warning);
    orch_credchain_cleanup(&c);

    chmod(f->cfg, 0644);
    assert_int_equal(resolve(f, NULL, &c, &d), 0);
    snprintf(want, sizeof(want), "%s is readable by group or others (mode "
                                 "0644): chmod 600 %s",
             f->cfg, f->cfg);
    assert_non_null(c.warning);
    assert_string_equal(c.warning, want);
    orch_credchain_cleanup(&c);

    unlink(f->cfg);
    write_mode(f->ini, "[default]\ntype = access_key\naccess_key_id = "
                       "LTAIini\naccess_key_secret = " SECRET "\n",
               0640);
    assert_int_equal(resolve(f, NULL, &c, &d), 0);
    assert_non_null(c.warning);
    assert_non_null(strstr(c.warning, "(mode 0640): chmod 600"));
    assert_non_null(strstr(c.warning, f->ini));
    orch_credchain_cleanup(&c);

    unlink(f->ini);
    oidc_env(f);
    chmod(f->token, 0604);
    assert_int_equal(resolve(f, NULL, &c, &d), 0);
    assert_non_null(c.warning);
    assert_non_null(strstr(c.warning, f->token));
    assert_non_null(strstr(c.warning, "(mode 0604)"));
    orch_credchain_cleanup(&c);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test_setup_teardown(env_static_with_token, setup, teardown),
    cmocka_unit_test_setup_teardown(the_order, setup, teardown),
    cmocka_unit_test_setup_teardown(oidc_from_the_environment, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(config_json_modes, setup, teardown),
    cmocka_unit_test_setup_teardown(refused_modes_and_missing_fields, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(sts_url_rules, setup, teardown),
    cmocka_unit_test_setup_teardown(ecs_and_uri_tail, setup, teardown),
    cmocka_unit_test_setup_teardown(ini_types, setup, teardown),
    cmocka_unit_test_setup_teardown(file_overrides_and_switches, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(loose_modes_warn, setup, teardown))
