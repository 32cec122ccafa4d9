/* credentials.h - where the AccessKey comes from, and how the secret is
 * kept.
 *
 * Order: ALIBABA_CLOUD_ACCESS_KEY_ID + ALIBABA_CLOUD_ACCESS_KEY_SECRET
 * (+ optional ALIBABA_CLOUD_SECURITY_TOKEN), else the aliyun CLI's
 * ~/.aliyun/config.json profile (--profile, ALIBABA_CLOUD_PROFILE, else its
 * "current"; modes AK and StsToken only). Secrets are never accepted from
 * argv, never printed, and wiped with OPENSSL_cleanse when freed.
 */
#ifndef ORCH_CREDENTIALS_H
#define ORCH_CREDENTIALS_H

#include <stddef.h>

struct orch_diag;
struct orch_credlive;

/* A secret string: malloced, wiped on free. */
struct orch_secret {
    char *s;
    size_t len;
};

struct orch_credentials {
    char *access_key_id;            /* malloced; not secret, may be logged */
    struct orch_secret secret;      /* AccessKeySecret */
    struct orch_secret token;       /* STS token, s == NULL when absent */
    char *source;                   /* "environment" or "profile NAME (FILE)" */
    /* Where a chain's set came from for --json ("env", "profile:AK", ...;
     * credsource.h), malloced, or NULL. */
    char *provider;
    /* A refresh-capable holder (credlive.h), or NULL: when set, request.c
     * signs with its CURRENT set, not with the fields above (the first
     * set's). Owned: orch_credentials_cleanup calls live_free on it. */
    struct orch_credlive *live;
    void (*live_free)(struct orch_credlive *live);
};

/* Loads credentials. `profile` may be NULL; `home` is $HOME (tests pass a
 * scratch dir). env lookups go through getenv(). Returns 0, ORCH_ECRED with
 * diag saying what is missing, or what mode is "not supported" (never the
 * secret). */
int orch_credentials_load(struct orch_credentials *cred, const char *profile,
                          const char *home, struct orch_diag *diag);
/* Wipes and frees; NULL-safe. */
void orch_credentials_cleanup(struct orch_credentials *cred);

int orch_secret_set(struct orch_secret *sec, const char *s);
void orch_secret_wipe(struct orch_secret *sec);

#endif
