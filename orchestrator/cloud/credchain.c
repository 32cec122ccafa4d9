/* credchain.c - the credential chain: which source credentials come from.
 *
 * DESIGN: the order is the official libraries' (credentials-go, -python,
 * -java, -nodejs; ../shared/api/credentials.md):
 *   1. ALIBABA_CLOUD_ACCESS_KEY_ID + _SECRET (+ ALIBABA_CLOUD_SECURITY_TOKEN);
 *   2. OIDC: ALIBABA_CLOUD_ROLE_ARN + ALIBABA_CLOUD_OIDC_PROVIDER_ARN +
 *      ALIBABA_CLOUD_OIDC_TOKEN_FILE (+ ALIBABA_CLOUD_ROLE_SESSION_NAME);
 *   3. the aliyun CLI's config.json (ALIBABA_CLOUD_CONFIG_FILE, else
 *      ~/.aliyun/config.json; skipped with
 *      ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true), cliprofile.h;
 *   4. the ini file (ALIBABA_CLOUD_CREDENTIALS_FILE, else
 *      ~/.alibabacloud/credentials, else ~/.alibabacloud/credentials.ini),
 *      credini.h;
 *   5. the ECS metadata service (unless ALIBABA_CLOUD_ECS_METADATA_DISABLED
 *      =true), then 6. ALIBABA_CLOUD_CREDENTIALS_URI when set: the only
 *      two candidates tried one after the other.
 * The profile name of 3 and the section of 4 are --profile, else
 * ALIBABA_CLOUD_PROFILE; else config.json's "current" (or "default") and
 * the ini's "default". A name given that way must exist in one of the two
 * files.
 *
 * One refinement over the libraries: a profile named explicitly with
 * --profile (the `profile` argument) is used even when the environment
 * holds a key or an OIDC role, because naming a profile on the command
 * line is the more specific wish and picking the other account would
 * create jobs there. ALIBABA_CLOUD_PROFILE does not do that: it only
 * chooses which profile is read when the environment holds nothing.
 *
 * Every source found is final: one that is configured but broken is an
 * error, never a silent fall-through to another account.
 */
#include "orch/cloud/credchain.h"

#include "orch/base/err.h"
#include "orch/cloud/cliprofile.h"
#include "orch/cloud/credbuild.h"
#include "orch/cloud/credentials.h"
#include "orch/cloud/credini.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add(struct orch_credchain *chain, struct orch_credsource *src)
{
    chain->cand[chain->n++] = src;
    return 0;
}

static int from_env(struct orch_credchain *chain, struct orch_diag *diag)
{
    const char *id = orch_credbuild_env("ALIBABA_CLOUD_ACCESS_KEY_ID");
    const char *secret =
        orch_credbuild_env("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
    const char *token = orch_credbuild_env("ALIBABA_CLOUD_SECURITY_TOKEN");
    struct orch_credsource *src = NULL;

    if (id && secret == NULL)
        return orch_diag_set(diag, ORCH_ECRED,
                             "ALIBABA_CLOUD_ACCESS_KEY_ID is set but "
                             "ALIBABA_CLOUD_ACCESS_KEY_SECRET is not");
    if (secret && id == NULL)
        return orch_diag_set(diag, ORCH_ECRED,
                             "ALIBABA_CLOUD_ACCESS_KEY_SECRET is set but "
                             "ALIBABA_CLOUD_ACCESS_KEY_ID is not");
    if (id == NULL)
        return ORCH_ENOTFOUND;
    src = orch_credbuild_static("environment", "env", id, secret, token);
    return src ? add(chain, src) : ORCH_ENOMEM;
}

/* OIDC from the environment: configured as soon as the provider ARN or
 * the token file is named (ALIBABA_CLOUD_ROLE_ARN alone also serves other
 * purposes); then all three are needed. */
static int from_oidc_env(struct orch_credchain *chain,
                         struct orch_diag *diag)
{
    static const char *const vars[] = {"ALIBABA_CLOUD_ROLE_ARN",
                                       "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
                                       "ALIBABA_CLOUD_OIDC_TOKEN_FILE"};
    struct orch_credbuild_role r;
    struct orch_credsource *src = NULL;
    size_t i = 0;
    int rc = 0;

    if (orch_credbuild_env(vars[1]) == NULL &&
        orch_credbuild_env(vars[2]) == NULL)
        return ORCH_ENOTFOUND;
    for (i = 0; i < 3; i++)
        if (orch_credbuild_env(vars[i]) == NULL)
            return orch_diag_set(diag, ORCH_ECRED,
                                 "OIDC credentials need "
                                 "ALIBABA_CLOUD_ROLE_ARN, "
                                 "ALIBABA_CLOUD_OIDC_PROVIDER_ARN and "
                                 "ALIBABA_CLOUD_OIDC_TOKEN_FILE; %s is not "
                                 "set",
                                 vars[i]);
    memset(&r, 0, sizeof(r));
    r.role_arn = orch_credbuild_env(vars[0]);
    r.oidc_provider_arn = orch_credbuild_env(vars[1]);
    r.oidc_token_file = orch_credbuild_env(vars[2]);
    r.where = "ALIBABA_CLOUD_OIDC_TOKEN_FILE";
    rc = orch_credbuild_role(&src, ORCH_CRED_OIDC, "OIDC (environment)",
                             "oidc", &r, NULL, &chain->warning, diag);
    return rc ? rc : add(chain, src);
}

/* A file's path: the variable's value, else home/rel (NULL without a
 * home). */
static int file_path(char **path, const char *var, const char *home,
                     const char *rel)
{
    const char *v = orch_credbuild_env(var);

    *path = NULL;
    if (v == NULL && (home == NULL || *home == '\0'))
        return 0;
    if (v)
        *path = strdup(v);
    else if (asprintf(path, "%s/%s", home, rel) < 0)
        *path = NULL;
    return *path ? 0 : ORCH_ENOMEM;
}

/* The profile of config.json, then the section of the ini file. */
static int from_files(struct orch_credchain *chain, const char *profile,
                      const char *home, struct orch_diag *diag)
{
    const char *name = profile ? profile
                               : orch_credbuild_env("ALIBABA_CLOUD_PROFILE");
    bool cli_off = orch_credbuild_env_true(
        "ALIBABA_CLOUD_CLI_PROFILE_DISABLED");
    struct orch_credsource *src = NULL;
    char *cfg = NULL, *ini = NULL;
    bool cfg_exists = false, ini_exists = false;
    struct orch_diag cfg_diag = {""};
    int rc = ORCH_ENOTFOUND;

    rc = file_path(&cfg, "ALIBABA_CLOUD_CONFIG_FILE", home,
                   ".aliyun/config.json");
    if (rc == 0)
        rc = file_path(&ini, "ALIBABA_CLOUD_CREDENTIALS_FILE", home,
                       ".alibabacloud/credentials");
    if (rc)
        goto out;
    rc = ORCH_ENOTFOUND;
    if (cfg && !cli_off)
        rc = orch_cliprofile_resolve(&src, cfg, name, &cfg_exists,
                                     &chain->warning, &cfg_diag);
    if (rc != ORCH_ENOTFOUND) {
        if (rc)
            *diag = cfg_diag;
        goto out;
    }
    if (!cfg_exists && !cli_off &&
        orch_credbuild_env("ALIBABA_CLOUD_CONFIG_FILE")) {
        rc = orch_diag_set(diag, ORCH_ECRED,
                           "ALIBABA_CLOUD_CONFIG_FILE names %s, which does "
                           "not exist",
                           cfg);
        goto out;
    }
    if (ini)
        rc = orch_credini_resolve(&src, ini, name ? name : "default",
                                  &ini_exists, &chain->warning, diag);
    if (rc == ORCH_ENOTFOUND && !ini_exists &&
        orch_credbuild_env("ALIBABA_CLOUD_CREDENTIALS_FILE") == NULL &&
        home && *home) {
        free(ini);
        ini = NULL;
        if (asprintf(&ini, "%s/.alibabacloud/credentials.ini", home) < 0) {
            ini = NULL;
            rc = ORCH_ENOMEM;
            goto out;
        }
        rc = orch_credini_resolve(&src, ini, name ? name : "default",
                                  &ini_exists, &chain->warning, diag);
    }
    if (rc != ORCH_ENOTFOUND)
        goto out;
    if (!ini_exists && orch_credbuild_env("ALIBABA_CLOUD_CREDENTIALS_FILE")) {
        rc = orch_diag_set(diag, ORCH_ECRED,
                           "ALIBABA_CLOUD_CREDENTIALS_FILE names %s, which "
                           "does not exist",
                           ini);
        goto out;
    }
    if (name == NULL)
        goto out; /* nothing in the files: on to the tail of the chain */
    if (cli_off)
        rc = orch_diag_set(diag, ORCH_ECRED,
                           "profile %s: ALIBABA_CLOUD_CLI_PROFILE_DISABLED="
                           "true skips %s, and %s has no section [%s]",
                           name, cfg ? cfg : "config.json",
                           ini ? ini : "the ini file", name);
    else if (cfg_exists)
        rc = orch_diag_set(diag, ORCH_ECRED, "%s%s", cfg_diag.msg,
                           ini_exists ? " (nor in the ini file)" : "");
    else
        rc = orch_diag_set(diag, ORCH_ECRED,
                           "profile %s: %s does not exist%s", name,
                           cfg ? cfg : "~/.aliyun/config.json",
                           ini_exists ? " and the ini file has no such "
                                        "section"
                                      : "");
out:
    if (rc == 0)
        add(chain, src);
    free(cfg);
    free(ini);
    return rc;
}

/* The ECS metadata service, then ALIBABA_CLOUD_CREDENTIALS_URI. */
static int from_tail(struct orch_credchain *chain, struct orch_diag *diag)
{
    const char *role = orch_credbuild_env("ALIBABA_CLOUD_ECS_METADATA");
    const char *uri = orch_credbuild_env("ALIBABA_CLOUD_CREDENTIALS_URI");
    struct orch_credsource *src = NULL;
    char label[200];
    int rc = 0;

    if (!orch_credbuild_env_true("ALIBABA_CLOUD_ECS_METADATA_DISABLED")) {
        if (role)
            snprintf(label, sizeof(label), "ECS RAM role \"%.100s\" "
                                           "(metadata)",
                     role);
        else
            snprintf(label, sizeof(label), "ECS RAM role (metadata)");
        rc = orch_credbuild_ecs(&src, label, "ecs_ram_role", role, diag);
        if (rc)
            return rc;
        add(chain, src);
    }
    if (uri) {
        rc = orch_credbuild_check_url(uri, "ALIBABA_CLOUD_CREDENTIALS_URI",
                                      diag);
        if (rc)
            return rc;
        src = orch_credbuild_new(ORCH_CRED_URI, "credentials URI",
                                 "credentials_uri");
        if (src == NULL || orch_credbuild_str(&src->uri, uri) != 0) {
            orch_credbuild_free(src);
            return ORCH_ENOMEM;
        }
        add(chain, src);
    }
    if (chain->n == 0)
        return orch_diag_set(diag, ORCH_ECRED,
                             "no credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID "
                             "and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or the "
                             "OIDC variables, or create a profile with "
                             "`aliyun configure` (~/.aliyun/config.json) or "
                             "in ~/.alibabacloud/credentials, or set "
                             "ALIBABA_CLOUD_CREDENTIALS_URI "
                             "(ALIBABA_CLOUD_ECS_METADATA_DISABLED=true "
                             "turns the ECS instance role off)");
    return 0;
}

int orch_credchain_resolve(struct orch_credchain *chain, const char *profile,
                           const char *home, struct orch_diag *diag)
{
    int rc = ORCH_ENOTFOUND;

    memset(chain, 0, sizeof(*chain));
    orch_secret_json_wipe_on_free();
    if (profile == NULL) {
        rc = from_env(chain, diag);
        if (rc == ORCH_ENOTFOUND)
            rc = from_oidc_env(chain, diag);
    }
    if (rc == ORCH_ENOTFOUND)
        rc = from_files(chain, profile, home, diag);
    if (rc == ORCH_ENOTFOUND)
        rc = from_tail(chain, diag);
    if (rc == ORCH_ENOMEM)
        orch_diag_set(diag, rc, "out of memory");
    if (rc)
        orch_credchain_cleanup(chain);
    return rc;
}

void orch_credchain_cleanup(struct orch_credchain *chain)
{
    size_t i = 0;

    if (chain == NULL)
        return;
    for (i = 0; i < chain->n; i++)
        orch_credbuild_free(chain->cand[i]);
    free(chain->warning);
    memset(chain, 0, sizeof(*chain));
}
