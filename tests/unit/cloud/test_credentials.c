/* test_credentials.c - static credentials as the chain resolves them
 * (orch_credchain_resolve: its first candidate) from the environment and
 * from an aliyun CLI profile in a scratch HOME: AK, StsToken, temporary
 * modes left to their fetch, missing pieces; no message ever holds a
 * secret; the secret helpers. The whole chain: test_credchain.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/cloud/credchain.h"
#include "orch/cloud/credentials.h"
#include "orch/base/err.h"
#include "torture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET "zz-SECRET-value-1"
#define TOKEN "zz-TOKEN-value-2"

static const char config_json[] =
    "{\n"
    "  \"current\": \"default\",\n"
    "  \"profiles\": [\n"
    "    {\"name\": \"default\", \"mode\": \"AK\", \"access_key_id\": "
    "\"LTAIdefault\", \"access_key_secret\": \"" SECRET "\","
    " \"sts_token\": \"ignored-for-AK\", \"region_id\": \"cn-shanghai\"},\n"
    "    {\"name\": \"sts\", \"mode\": \"StsToken\", \"access_key_id\": "
    "\"STS.abc\", \"access_key_secret\": \"" SECRET
    "\", \"sts_token\": \"" TOKEN "\"},\n"
    "    {\"name\": \"nomode\", \"access_key_id\": \"LTAInomode\", "
    "\"access_key_secret\": \"" SECRET "\"},\n"
    "    {\"name\": \"role\", \"mode\": \"RamRoleArn\", \"access_key_id\": "
    "\"LTAIrole\", \"access_key_secret\": \"" SECRET "\", \"ram_role_arn\": "
    "\"acs:ram::1:role/x\"},\n"
    "    {\"name\": \"ecs\", \"mode\": \"EcsRamRole\", \"ram_role_name\": "
    "\"r\"},\n"
    "    {\"name\": \"nosecret\", \"mode\": \"AK\", \"access_key_id\": "
    "\"LTAIx\"},\n"
    "    {\"name\": \"notoken\", \"mode\": \"StsToken\", \"access_key_id\": "
    "\"STS.x\", \"access_key_secret\": \"" SECRET "\"}\n"
    "  ],\n"
    "  \"meta_path\": \"\"\n"
    "}\n";

struct fx {
    char home[64];
    char path[128];
};

static void clear_env(void)
{
    unsetenv("ALIBABA_CLOUD_ACCESS_KEY_ID");
    unsetenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
    unsetenv("ALIBABA_CLOUD_SECURITY_TOKEN");
    unsetenv("ALIBABA_CLOUD_PROFILE");
    /* CTest switches the metadata service off for every test; these load
     * (resolve) only, never fetch, and expect the default chain. */
    unsetenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED");
}

static void write_config(struct fx *f, const char *text)
{
    char dir[128];

    snprintf(dir, sizeof(dir), "%s/.aliyun", f->home);
    mkdir(dir, 0700);
    torture_write_text(f->path, text);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    torture_mkdtemp(f->home, sizeof(f->home), "test_credentials");
    snprintf(f->path, sizeof(f->path), "%s/.aliyun/config.json", f->home);
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

/* The chain resolved in f's HOME (clean it with orch_credchain_cleanup
 * after a success); checks that a failure message never holds a
 * secret. */
static int resolve(struct orch_credchain *chain, const char *profile,
                   const struct fx *f, struct orch_diag *d)
{
    int rc = 0;

    memset(d, 0, sizeof(*d));
    rc = orch_credchain_resolve(chain, profile, f->home, d);
    assert_null(strstr(d->msg, SECRET));
    assert_null(strstr(d->msg, TOKEN));
    return rc;
}

/* The chain's first candidate, which must be static keys: its
 * credentials (borrowed from chain). */
static const struct orch_credentials *
first_static(const struct orch_credchain *chain)
{
    assert_true(chain->n >= 1);
    assert_int_equal(chain->cand[0]->kind, ORCH_CRED_STATIC);
    return &chain->cand[0]->static_cred;
}

/* The environment's access key: id and SECRET. */
static void env_keys(const char *id)
{
    setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", id, 1);
    setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET, 1);
}

static void env_ak(void **state)
{
    struct fx *f = *state;
    struct orch_credchain chain;
    const struct orch_credentials *c = NULL;
    struct orch_diag d;

    env_keys("LTAIenv");
    write_config(f, config_json); /* the environment comes first */
    assert_int_equal(resolve(&chain, NULL, f, &d), 0);
    c = first_static(&chain);
    assert_string_equal(c->access_key_id, "LTAIenv");
    assert_string_equal(c->secret.s, SECRET);
    assert_int_equal(c->secret.len, strlen(SECRET));
    assert_null(c->token.s);
    assert_string_equal(c->source, "environment");
    assert_string_equal(chain.cand[0]->provider, "env");
    orch_credchain_cleanup(&chain);
}

static void env_sts(void **state)
{
    struct fx *f = *state;
    struct orch_credchain chain;
    const struct orch_credentials *c = NULL;
    struct orch_diag d;

    env_keys("STS.env");
    setenv("ALIBABA_CLOUD_SECURITY_TOKEN", TOKEN, 1);
    assert_int_equal(resolve(&chain, NULL, f, &d), 0);
    c = first_static(&chain);
    assert_string_equal(c->token.s, TOKEN);
    assert_int_equal(c->token.len, strlen(TOKEN));
    orch_credchain_cleanup(&chain);
}

static void env_half_set(void **state)
{
    struct fx *f = *state;
    struct orch_credchain chain;
    struct orch_diag d;

    setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv", 1);
    assert_int_equal(resolve(&chain, NULL, f, &d), ORCH_ECRED);
    assert_non_null(strstr(d.msg, "ALIBABA_CLOUD_ACCESS_KEY_SECRET is not"));
    unsetenv("ALIBABA_CLOUD_ACCESS_KEY_ID");
    setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET, 1);
    assert_int_equal(resolve(&chain, NULL, f, &d), ORCH_ECRED);
    assert_non_null(strstr(d.msg, "ALIBABA_CLOUD_ACCESS_KEY_ID is not"));
    assert_int_equal(chain.n, 0); /* nothing left behind on failure */
}

static void nothing_anywhere(void **state)
{
    struct fx *f = *state;
    struct orch_credchain chain;
    struct orch_diag d;

    /* With the metadata service on, it is what is left: resolved, not
     * fetched. */
    assert_int_equal(resolve(&chain, NULL, f, &d), 0);
    assert_string_equal(chain.cand[0]->provider, "ecs_ram_role");
    orch_credchain_cleanup(&chain);
    setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true", 1);
    assert_int_equal(resolve(&chain, NULL, f, &d), ORCH_ECRED);
    assert_non_null(strstr(d.msg, "no credentials"));
    assert_non_null(strstr(d.msg, "ALIBABA_CLOUD_ACCESS_KEY_ID"));
    /* An explicit profile without the file says so. */
    assert_int_equal(resolve(&chain, "prod", f, &d), ORCH_ECRED);
    assert_non_null(strstr(d.msg, "profile prod:"));
    assert_non_null(strstr(d.msg, "does not exist"));
}

static void profile_current_ak(void **state)
{
    struct fx *f = *state;
    struct orch_credchain chain;
    const struct orch_credentials *c = NULL;
    struct orch_diag d;
    char want[256];

    write_config(f, config_json);
    assert_int_equal(resolve(&chain, NULL, f, &d), 0);
    c = first_static(&chain);
    assert_string_equal(c->access_key_id, "LTAIdefault");
    assert_string_equal(c->secret.s, SECRET);
    assert_null(c->token.s); /* mode AK ignores a stray sts_token */
    snprintf(want, sizeof(want), "profile default (%s)", f->path);
    assert_string_equal(c->source, want);
    orch_credchain_cleanup(&chain);

    /* No "mode": the aliyun CLI's default, AK. */
    assert_int_equal(resolve(&chain, "nomode", f, &d), 0);
    assert_string_equal(first_static(&chain)->access_key_id, "LTAInomode");
    orch_credchain_cleanup(&chain);
}

static void profile_sts_by_env_and_flag(void **state)
{
    struct fx *f = *state;
    struct orch_credchain chain;
    struct orch_diag d;

    write_config(f, config_json);
    setenv("ALIBABA_CLOUD_PROFILE", "sts", 1);
    assert_int_equal(resolve(&chain, NULL, f, &d), 0);
    assert_string_equal(first_static(&chain)->access_key_id, "STS.abc");
    assert_string_equal(first_static(&chain)->token.s, TOKEN);
    orch_credchain_cleanup(&chain);
    unsetenv("ALIBABA_CLOUD_PROFILE");

    /* --profile names the profile even when the environment has a key. */
    env_keys("LTAIenv");
    assert_int_equal(resolve(&chain, "sts", f, &d), 0);
    assert_string_equal(first_static(&chain)->access_key_id, "STS.abc");
    orch_credchain_cleanup(&chain);
}

/* Temporary modes resolve to their fetch (test_credchain.c has each
 * one's details): not static keys. */
static void temporary_profiles_resolve_to_a_fetch(void **state)
{
    struct fx *f = *state;
    struct orch_credchain chain;
    struct orch_diag d;

    write_config(f, config_json);
    assert_int_equal(resolve(&chain, "role", f, &d), 0);
    assert_int_equal(chain.cand[0]->kind, ORCH_CRED_ASSUME_ROLE);
    assert_string_equal(chain.cand[0]->label, "RamRoleArn profile \"role\"");
    orch_credchain_cleanup(&chain);
    assert_int_equal(resolve(&chain, "ecs", f, &d), 0);
    assert_int_equal(chain.cand[0]->kind, ORCH_CRED_ECS);
    orch_credchain_cleanup(&chain);
}

static void unsupported_and_broken_profiles(void **state)
{
    static const struct {
        const char *profile;
        const char *msg;
    } cases[] = {
        {"nosecret", "profile nosecret in"},
        {"notoken", "(mode StsToken) has no sts_token"},
        {"missing", "profile missing not found in"},
    };
    struct fx *f = *state;
    struct orch_credchain chain;
    struct orch_diag d;
    size_t i = 0;

    write_config(f, config_json);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = resolve(&chain, cases[i].profile, f, &d);

        if (rc != ORCH_ECRED || strstr(d.msg, cases[i].msg) == NULL)
            fail_msg("profile %s: rc %d, diag \"%s\"", cases[i].profile, rc,
                     d.msg);
    }
    assert_non_null(strstr(d.msg, f->path));
}

static void broken_file(void **state)
{
    struct fx *f = *state;
    struct orch_credchain chain;
    struct orch_diag d;

    /* Invalid JSON right after the secret: the message must not quote it. */
    write_config(f, "{\"current\":\"default\",\"profiles\":[{\"name\":"
                    "\"default\",\"access_key_secret\":\"" SECRET "\" x]}");
    assert_int_equal(resolve(&chain, NULL, f, &d), ORCH_ECONFIG);
    assert_non_null(strstr(d.msg, "not valid JSON"));
    write_config(f, "[1,2]");
    assert_int_equal(resolve(&chain, NULL, f, &d), ORCH_ECONFIG);
    assert_non_null(strstr(d.msg, "is not a JSON object"));
    write_config(f, "{\"current\":\"default\"}");
    assert_int_equal(resolve(&chain, NULL, f, &d), ORCH_ECONFIG);
    assert_non_null(strstr(d.msg, "has no \"profiles\" list"));
}

static void secret_set_and_wipe(void **state)
{
    struct orch_secret s = {NULL, 0};

    (void)state;
    assert_int_equal(orch_secret_set(&s, "first"), 0);
    assert_int_equal(orch_secret_set(&s, "second-one"), 0);
    assert_string_equal(s.s, "second-one");
    assert_int_equal(s.len, 10);
    orch_secret_wipe(&s);
    assert_null(s.s);
    assert_int_equal(s.len, 0);
    orch_secret_wipe(&s);   /* twice is fine */
    orch_secret_wipe(NULL); /* NULL-safe */
    orch_credentials_cleanup(NULL);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test_setup_teardown(env_ak, setup, teardown),
    cmocka_unit_test_setup_teardown(env_sts, setup, teardown),
    cmocka_unit_test_setup_teardown(env_half_set, setup, teardown),
    cmocka_unit_test_setup_teardown(nothing_anywhere, setup, teardown),
    cmocka_unit_test_setup_teardown(profile_current_ak, setup, teardown),
    cmocka_unit_test_setup_teardown(profile_sts_by_env_and_flag, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(temporary_profiles_resolve_to_a_fetch,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(unsupported_and_broken_profiles, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(broken_file, setup, teardown),
    cmocka_unit_test(secret_set_and_wipe))
