/* cliprofile.c - an aliyun CLI config.json profile as a credential source.
 *
 * DESIGN: the file is read into a wiped buffer and parsed by jansson with
 * its wiping free (credentials.h), so no copy of a secret outlives the
 * resolution except the ones kept in the source's orch_secret. A
 * ChainableRamRoleArn profile resolves its source_profile recursively; the
 * names on the way are kept on a small stack, and a name met twice is a
 * cycle.
 */
#include "orch/cloud/cliprofile.h"

#include "orch/base/err.h"
#include "orch/cloud/credbuild.h"
#include "orch/cloud/credentials.h"
#include "orch/cloud/credprocess.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CHAIN_MAX 8

struct walk {
    json_t *profiles;
    const char *path;
    char **warning;
    const char *stack[CHAIN_MAX];
    size_t depth;
};

/* One profile being resolved. */
struct prof {
    json_t *p;
    const char *name;
    const char *mode; /* canonical spelling */
    char where[400];  /* `profile "NAME" (FILE)` */
    char label[300];
    char provider[64];
};

static const char *jstr(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    return json_is_string(v) && *json_string_value(v)
               ? json_string_value(v)
               : NULL;
}

static json_t *find_profile(json_t *profiles, const char *name)
{
    size_t i = 0;

    for (i = 0; i < json_array_size(profiles); i++) {
        json_t *p = json_array_get(profiles, i);
        const char *pn = jstr(p, "name");

        if (pn && strcmp(pn, name) == 0)
            return p;
    }
    return NULL;
}

/* The value of a required field, or NULL with diag set (ORCH_ECRED). */
static const char *need(const struct walk *w, const struct prof *pr,
                        const char *field, int *rc, struct orch_diag *diag)
{
    const char *v = jstr(pr->p, field);

    if (v == NULL && *rc == 0)
        *rc = orch_diag_set(diag, ORCH_ECRED,
                            "profile %s in %s (mode %s) has no %s", pr->name,
                            w->path, pr->mode, field);
    return v;
}

/* expired_seconds: absent or 0 means the default. */
static int expired_seconds(const struct prof *pr, long *out,
                           struct orch_diag *diag)
{
    json_t *v = json_object_get(pr->p, "expired_seconds");

    *out = 0;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v))
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "%s: expired_seconds is not a number",
                             pr->where);
    *out = (long)json_integer_value(v);
    if (*out == 0)
        return 0;
    if (*out < ORCH_CRED_DURATION_MIN || *out > ORCH_CRED_DURATION_MAX)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "%s: expired_seconds %ld is outside %d..%d",
                             pr->where, *out, ORCH_CRED_DURATION_MIN,
                             ORCH_CRED_DURATION_MAX);
    return 0;
}

static int resolve_named(struct walk *w, const char *name,
                         struct orch_credsource **out,
                         struct orch_diag *diag);

static int mode_static(struct walk *w, struct prof *pr,
                       struct orch_credsource **out, struct orch_diag *diag)
{
    bool sts = strcmp(pr->mode, "StsToken") == 0;
    char label[600];
    int rc = 0;
    const char *id = need(w, pr, "access_key_id", &rc, diag);
    const char *secret = need(w, pr, "access_key_secret", &rc, diag);
    const char *token = sts ? need(w, pr, "sts_token", &rc, diag) : NULL;

    if (rc)
        return rc;
    /* The label keeps the form the problem advice recognises. */
    snprintf(label, sizeof(label), "profile %s (%s)", pr->name, w->path);
    *out = orch_credbuild_static(label, pr->provider, id, secret, token);
    return *out ? 0 : ORCH_ENOMEM;
}

/* The role fields shared by RamRoleArn, ChainableRamRoleArn and OIDC,
 * into *r; ram_role_arn is required. As with need(), the first error
 * wins: nothing is done when *rc is already set, and an error goes into
 * *rc and diag. Returns *rc. */
static int role_fields(const struct walk *w, struct prof *pr,
                       struct orch_credbuild_role *r, int *rc,
                       struct orch_diag *diag)
{
    need(w, pr, "ram_role_arn", rc, diag);
    if (*rc)
        return *rc;
    memset(r, 0, sizeof(*r));
    r->role_arn = jstr(pr->p, "ram_role_arn");
    r->session_name = jstr(pr->p, "ram_session_name");
    r->external_id = jstr(pr->p, "external_id");
    r->sts_endpoint = jstr(pr->p, "sts_endpoint");
    r->sts_region = jstr(pr->p, "sts_region");
    r->where = pr->where;
    *rc = expired_seconds(pr, &r->duration_s, diag);
    return *rc;
}

static int mode_ram_role_arn(struct walk *w, struct prof *pr,
                             struct orch_credsource **out,
                             struct orch_diag *diag)
{
    struct orch_credbuild_role r;
    struct orch_credsource *signer = NULL;
    char label[600];
    int rc = 0;
    const char *id = need(w, pr, "access_key_id", &rc, diag);
    const char *secret = need(w, pr, "access_key_secret", &rc, diag);

    if (role_fields(w, pr, &r, &rc, diag))
        return rc;
    snprintf(label, sizeof(label), "profile %s (%s)", pr->name, w->path);
    signer = orch_credbuild_static(label, pr->provider, id, secret,
                                   jstr(pr->p, "sts_token"));
    if (signer == NULL)
        return ORCH_ENOMEM;
    return orch_credbuild_role(out, ORCH_CRED_ASSUME_ROLE, pr->label,
                               pr->provider, &r, signer, w->warning, diag);
}

static int mode_chainable(struct walk *w, struct prof *pr,
                          struct orch_credsource **out,
                          struct orch_diag *diag)
{
    struct orch_credbuild_role r;
    struct orch_credsource *signer = NULL;
    int rc = 0;
    const char *source = need(w, pr, "source_profile", &rc, diag);

    role_fields(w, pr, &r, &rc, diag);
    if (rc == 0)
        rc = resolve_named(w, source, &signer, diag);
    if (rc == ORCH_ENOTFOUND)
        rc = orch_diag_set(diag, ORCH_ECRED,
                           "profile %s in %s: its source_profile %s does not "
                           "exist",
                           pr->name, w->path, source);
    if (rc)
        return rc;
    return orch_credbuild_role(out, ORCH_CRED_ASSUME_ROLE, pr->label,
                               pr->provider, &r, signer, w->warning, diag);
}

static int mode_ecs(struct walk *w, struct prof *pr,
                    struct orch_credsource **out, struct orch_diag *diag)
{
    char what[450];

    (void)w;
    snprintf(what, sizeof(what), "%s uses mode EcsRamRole", pr->where);
    return orch_credbuild_ecs_named(out, pr->label, pr->provider,
                                    jstr(pr->p, "ram_role_name"), what, diag);
}

static int mode_uri(struct walk *w, struct prof *pr,
                    struct orch_credsource **out, struct orch_diag *diag)
{
    char what[450];
    int rc = 0;
    const char *uri = need(w, pr, "credentials_uri", &rc, diag);

    if (rc)
        return rc;
    snprintf(what, sizeof(what), "%s: credentials_uri", pr->where);
    rc = orch_credbuild_check_url(uri, what, diag);
    if (rc)
        return rc;
    *out = orch_credbuild_new(ORCH_CRED_URI, pr->label, pr->provider);
    if (*out == NULL || orch_credbuild_str(&(*out)->uri, uri) != 0) {
        orch_credbuild_free(*out);
        *out = NULL;
        return ORCH_ENOMEM;
    }
    return 0;
}

static int mode_oidc(struct walk *w, struct prof *pr,
                     struct orch_credsource **out, struct orch_diag *diag)
{
    struct orch_credbuild_role r;
    int rc = 0;
    const char *provider_arn = need(w, pr, "oidc_provider_arn", &rc, diag);
    const char *token_file = need(w, pr, "oidc_token_file", &rc, diag);

    if (role_fields(w, pr, &r, &rc, diag))
        return rc;
    r.oidc_provider_arn = provider_arn;
    r.oidc_token_file = token_file;
    return orch_credbuild_role(out, ORCH_CRED_OIDC, pr->label, pr->provider,
                               &r, NULL, w->warning, diag);
}

static int mode_external(struct walk *w, struct prof *pr,
                         struct orch_credsource **out,
                         struct orch_diag *diag)
{
    char what[450];
    char **argv = NULL;
    int rc = 0;
    const char *cmd = need(w, pr, "process_command", &rc, diag);

    if (rc)
        return rc;
    snprintf(what, sizeof(what), "%s: process_command", pr->where);
    rc = orch_credprocess_split(cmd, &argv, what, diag);
    if (rc)
        return rc;
    *out = orch_credbuild_new(ORCH_CRED_PROCESS, pr->label, pr->provider);
    if (*out == NULL) {
        orch_credprocess_argv_free(argv);
        return ORCH_ENOMEM;
    }
    (*out)->argv = argv;
    return 0;
}

typedef int (*mode_fn)(struct walk *, struct prof *,
                       struct orch_credsource **, struct orch_diag *);

/* A mode; fn NULL: refused, with why and what to use instead. */
static const struct {
    const char *name;
    mode_fn fn;
    const char *refusal;
} modes[] = {
    {"AK", mode_static, NULL},
    {"StsToken", mode_static, NULL},
    {"RamRoleArn", mode_ram_role_arn, NULL},
    {"ChainableRamRoleArn", mode_chainable, NULL},
    {"EcsRamRole", mode_ecs, NULL},
    {"CredentialsURI", mode_uri, NULL},
    {"OIDC", mode_oidc, NULL},
    {"External", mode_external, NULL},
    {"CloudSSO", NULL,
     "its sign-in is interactive, which an unattended rollout cannot do; "
     "use a RamRoleArn, EcsRamRole, OIDC or External profile"},
    {"OAuth", NULL,
     "its sign-in is interactive, which an unattended rollout cannot do; "
     "use a RamRoleArn, EcsRamRole, OIDC or External profile"},
    {"RsaKeyPair", NULL,
     "it is deprecated by Alibaba Cloud; use a RamRoleArn profile"},
    {"BearerToken", NULL,
     "a bearer token cannot sign IoT API calls; use an AK, RamRoleArn or "
     "External profile"},
    {"RamRoleArnWithRoleName", NULL,
     "it is deprecated by the aliyun CLI; use ChainableRamRoleArn with an "
     "EcsRamRole source_profile"},
    {"Anonymous", NULL,
     "creating jobs needs credentials; use an AK or RamRoleArn profile"},
};

static int resolve_profile(struct walk *w, json_t *p, const char *name,
                           struct orch_credsource **out,
                           struct orch_diag *diag)
{
    struct prof pr;
    const char *mode = jstr(p, "mode");
    size_t i = 0;

    memset(&pr, 0, sizeof(pr));
    pr.p = p;
    pr.name = name;
    if (mode == NULL)
        mode = "AK"; /* the aliyun CLI's default mode */
    for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (strcasecmp(mode, modes[i].name) == 0)
            break;
    if (i == sizeof(modes) / sizeof(modes[0]))
        return orch_diag_set(diag, ORCH_ECRED,
                             "profile %s in %s has an unknown mode \"%.40s\"; "
                             "use AK, StsToken, RamRoleArn, "
                             "ChainableRamRoleArn, EcsRamRole, "
                             "CredentialsURI, OIDC or External",
                             name, w->path, mode);
    pr.mode = modes[i].name;
    if (modes[i].fn == NULL)
        return orch_diag_set(diag, ORCH_ECRED,
                             "profile %s uses mode %s, which ota-rollout "
                             "does not support: %s",
                             name, pr.mode, modes[i].refusal);
    snprintf(pr.where, sizeof(pr.where), "profile \"%s\" (%s)", name,
             w->path);
    snprintf(pr.label, sizeof(pr.label), "%s profile \"%s\"", pr.mode, name);
    snprintf(pr.provider, sizeof(pr.provider), "profile:%s", pr.mode);
    return modes[i].fn(w, &pr, out, diag);
}

/* Resolves a profile by name, refusing a source_profile cycle. */
static int resolve_named(struct walk *w, const char *name,
                         struct orch_credsource **out,
                         struct orch_diag *diag)
{
    json_t *p = find_profile(w->profiles, name);
    char cycle[300] = "";
    size_t i = 0;
    int rc = 0;

    *out = NULL;
    if (p == NULL)
        return ORCH_ENOTFOUND;
    for (i = 0; i < w->depth; i++) {
        if (strcmp(w->stack[i], name) == 0) {
            for (; i < w->depth; i++) {
                strncat(cycle, w->stack[i],
                        sizeof(cycle) - strlen(cycle) - 1);
                strncat(cycle, " -> ", sizeof(cycle) - strlen(cycle) - 1);
            }
            strncat(cycle, name, sizeof(cycle) - strlen(cycle) - 1);
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "%s: source_profile goes round in a cycle "
                                 "(%s)",
                                 w->path, cycle);
        }
    }
    if (w->depth == CHAIN_MAX)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "%s: more than %d profiles chained by "
                             "source_profile",
                             w->path, CHAIN_MAX);
    w->stack[w->depth++] = name;
    rc = resolve_profile(w, p, name, out, diag);
    w->depth--;
    return rc;
}

static int resolve_in(json_t *root, const char *path, const char *want,
                      char **warning, struct orch_credsource **out,
                      struct orch_diag *diag)
{
    struct walk w;
    const char *current = jstr(root, "current");
    const char *name = want ? want : current ? current : "default";
    int rc = 0;

    memset(&w, 0, sizeof(w));
    w.profiles = json_object_get(root, "profiles");
    w.path = path;
    w.warning = warning;
    if (!json_is_array(w.profiles))
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "%s has no \"profiles\" list", path);
    rc = resolve_named(&w, name, out, diag);
    if (rc == ORCH_ENOTFOUND && want == NULL && current)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "%s: its \"current\" profile %s does not exist",
                             path, current);
    if (rc == ORCH_ENOTFOUND)
        orch_diag_set(diag, ORCH_ENOTFOUND, "profile %s not found in %s",
                      name, path);
    return rc;
}

int orch_cliprofile_resolve(struct orch_credsource **out, const char *path,
                            const char *name, bool *file_exists,
                            char **warning, struct orch_diag *diag)
{
    json_t *root = NULL;
    char *text = NULL;
    size_t len = 0;
    unsigned mode = 0;
    int rc = 0;

    *out = NULL;
    *file_exists = false;
    rc = orch_secret_file_read(path, &text, &len, &mode, diag);
    if (rc)
        return rc;
    *file_exists = true;
    rc = orch_credbuild_warn_mode(warning, path, mode);
    if (rc == 0)
        rc = orch_secret_json_parse(text, len, path, &root, diag);
    if (rc == 0)
        rc = resolve_in(root, path, name, warning, out, diag);
    json_decref(root);
    orch_secret_text_free(text, len);
    return rc;
}
