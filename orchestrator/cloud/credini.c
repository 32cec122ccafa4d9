/* credini.c - a section of ~/.alibabacloud/credentials as a credential
 * source. The file is parsed in place in a wiped buffer: keys and values
 * are pointers into it, so no other copy of a secret is made.
 */
#include "orch/cloud/credini.h"

#include "orch/base/err.h"
#include "orch/cloud/credbuild.h"
#include "orch/cloud/credentials.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INI_KEYS 32

struct section {
    const char *key[INI_KEYS];
    const char *val[INI_KEYS];
    size_t n;
    bool found;
    const char *name;
    const char *path;
    char where[400];
};

static char *trim(char *s)
{
    char *end = NULL;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* Cuts a value's trailing comment: # or ; after a blank. */
static char *value_of(char *v)
{
    char *p = NULL;

    for (p = v; *p; p++)
        if ((*p == '#' || *p == ';') && p > v && isspace((unsigned char)p[-1]))
            *p = '\0';
    return trim(v);
}

static int section_add(struct section *s, char *line, int lineno,
                       struct orch_diag *diag)
{
    char *eq = strchr(line, '=');

    if (eq == NULL)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "%s:%d: not a `key = value` line", s->path,
                             lineno);
    *eq = '\0';
    if (s->n == INI_KEYS)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "%s: section [%s] has more than %d keys",
                             s->path, s->name, INI_KEYS);
    s->key[s->n] = trim(line);
    s->val[s->n] = value_of(eq + 1);
    s->n++;
    return 0;
}

/* Collects the keys of section s->name from text (modified in place). */
static int parse(char *text, struct section *s, struct orch_diag *diag)
{
    bool inside = false;
    int lineno = 0;
    char *next = text;
    int rc = 0;

    while (next && rc == 0) {
        char *line = next;
        char *nl = strchr(line, '\n');

        next = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        lineno++;
        line = trim(line);
        if (*line == '\0' || *line == '#' || *line == ';')
            continue;
        if (*line == '[') {
            char *close = strchr(line, ']');

            if (close == NULL)
                return orch_diag_set(diag, ORCH_ECONFIG,
                                     "%s:%d: a section header without ']'",
                                     s->path, lineno);
            *close = '\0';
            inside = strcmp(trim(line + 1), s->name) == 0;
            s->found |= inside;
            continue;
        }
        if (inside)
            rc = section_add(s, line, lineno, diag);
    }
    return rc;
}

/* The last value of key, or NULL when absent or empty. */
static const char *get(const struct section *s, const char *key)
{
    const char *v = NULL;
    size_t i = 0;

    for (i = 0; i < s->n; i++)
        if (strcmp(s->key[i], key) == 0)
            v = s->val[i];
    return v && *v ? v : NULL;
}

static const char *need(const struct section *s, const char *type,
                        const char *key, int *rc, struct orch_diag *diag)
{
    const char *v = get(s, key);

    if (v == NULL && *rc == 0)
        *rc = orch_diag_set(diag, ORCH_ECRED,
                            "section [%s] of %s (type %s) has no %s",
                            s->name, s->path, type, key);
    return v;
}

static int build(const struct section *s, char **warning,
                 struct orch_credsource **out, struct orch_diag *diag)
{
    struct orch_credbuild_role r;
    struct orch_credsource *signer = NULL;
    const char *type = get(s, "type");
    char label[600], provider[64];
    int rc = 0;

    if (type == NULL)
        return orch_diag_set(diag, ORCH_ECRED,
                             "section [%s] of %s has no type", s->name,
                             s->path);
    snprintf(provider, sizeof(provider), "ini:%.32s", type);
    snprintf(label, sizeof(label), "%s ini profile \"%s\"", type, s->name);
    memset(&r, 0, sizeof(r));
    r.role_arn = get(s, "role_arn");
    r.session_name = get(s, "role_session_name");
    r.policy = get(s, "policy");
    r.external_id = get(s, "external_id");
    r.where = s->where;
    if (strcmp(type, "access_key") == 0 || strcmp(type, "ram_role_arn") == 0) {
        const char *id = need(s, type, "access_key_id", &rc, diag);
        const char *secret = need(s, type, "access_key_secret", &rc, diag);
        char static_label[600];

        if (strcmp(type, "ram_role_arn") == 0)
            need(s, type, "role_arn", &rc, diag);
        if (rc)
            return rc;
        snprintf(static_label, sizeof(static_label), "profile %s (%s)",
                 s->name, s->path);
        signer = orch_credbuild_static(static_label, provider, id, secret,
                                       NULL);
        if (signer == NULL)
            return ORCH_ENOMEM;
        if (strcmp(type, "access_key") == 0) {
            *out = signer;
            return 0;
        }
        return orch_credbuild_role(out, ORCH_CRED_ASSUME_ROLE, label,
                                   provider, &r, signer, warning, diag);
    }
    if (strcmp(type, "oidc_role_arn") == 0) {
        need(s, type, "role_arn", &rc, diag);
        r.oidc_provider_arn = need(s, type, "oidc_provider_arn", &rc, diag);
        r.oidc_token_file = need(s, type, "oidc_token_file_path", &rc, diag);
        if (rc)
            return rc;
        return orch_credbuild_role(out, ORCH_CRED_OIDC, label, provider, &r,
                                   NULL, warning, diag);
    }
    if (strcmp(type, "ecs_ram_role") == 0) {
        char what[450];

        snprintf(what, sizeof(what), "%s is of type ecs_ram_role", s->where);
        return orch_credbuild_ecs_named(out, label, provider,
                                        get(s, "role_name"), what, diag);
    }
    return orch_diag_set(diag, ORCH_ECRED,
                         "section [%s] of %s has type \"%.32s\", which "
                         "ota-rollout does not support; use access_key, "
                         "ram_role_arn, oidc_role_arn or ecs_ram_role",
                         s->name, s->path, type);
}

int orch_credini_resolve(struct orch_credsource **out, const char *path,
                         const char *name, bool *file_exists,
                         char **warning, struct orch_diag *diag)
{
    struct section s;
    char *text = NULL;
    size_t len = 0;
    unsigned mode = 0;
    int rc = 0;

    *out = NULL;
    *file_exists = false;
    memset(&s, 0, sizeof(s));
    s.name = name;
    s.path = path;
    snprintf(s.where, sizeof(s.where), "section [%s] of %s", name, path);
    rc = orch_secret_file_read(path, &text, &len, &mode, diag);
    if (rc)
        return rc;
    *file_exists = true;
    rc = orch_credbuild_warn_mode(warning, path, mode);
    if (rc == 0)
        rc = parse(text, &s, diag);
    if (rc == 0 && !s.found)
        rc = ORCH_ENOTFOUND;
    if (rc == 0)
        rc = build(&s, warning, out, diag);
    orch_secret_text_free(text, len);
    return rc;
}
