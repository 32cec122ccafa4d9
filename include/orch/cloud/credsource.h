/* credsource.h - where credentials come from (a resolved link of the
 * credential chain) and the one call that fetches a fresh set from it.
 *
 * Three modules share this contract:
 *   cloud/credchain.c  resolves the chain (environment, OIDC environment,
 *                      ~/.aliyun/config.json profile modes, the
 *                      ~/.alibabacloud/credentials ini file, ECS metadata,
 *                      ALIBABA_CLOUD_CREDENTIALS_URI) into one source;
 *   cloud/credfetch.c  orch_credsource_fetch(): one blocking fetch per
 *                      kind (STS AssumeRole / AssumeRoleWithOIDC, ECS
 *                      IMDSv2/v1, credentials URI, external process);
 *   cloud/credlive.c   keeps a set fresh for as long as a run lives,
 *                      calling orch_credsource_fetch off the dispatcher.
 * No field of a source is a secret except the static credentials it may
 * hold (kept in struct orch_secret, wiped on free). label never carries a
 * secret, token, OIDC token or command output.
 */
#ifndef ORCH_CREDSOURCE_H
#define ORCH_CREDSOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "orch/cloud/credentials.h"

struct orch_credpace;
struct orch_diag;

enum orch_cred_kind {
    ORCH_CRED_STATIC = 0, /* a fixed AccessKey (+ optional STS token) */
    ORCH_CRED_ASSUME_ROLE, /* STS AssumeRole signed by `source` */
    ORCH_CRED_OIDC,        /* STS AssumeRoleWithOIDC (unsigned) */
    ORCH_CRED_ECS,         /* ECS instance RAM role, metadata service */
    ORCH_CRED_URI,         /* GET a credentials URI */
    ORCH_CRED_PROCESS      /* run a command, read a profile JSON */
};

struct orch_credsource {
    enum orch_cred_kind kind;
    /* For the summary, e.g. `environment`, `RamRoleArn profile "ops"`,
     * `ECS RAM role "fleet" (metadata)`, `credentials URI`; malloced. */
    char *label;
    /* Short provider name for --json: "env", "oidc", "profile:<Mode>",
     * "ini:<type>", "ecs_ram_role", "credentials_uri"; malloced. */
    char *provider;

    /* ORCH_CRED_STATIC: the credentials themselves (static_cred.source
     * is the label). */
    struct orch_credentials static_cred;

    /* ORCH_CRED_ASSUME_ROLE: who signs the AssumeRole call (owned; any
     * kind, e.g. ChainableRamRoleArn's source_profile). */
    struct orch_credsource *signer;
    /* ASSUME_ROLE and OIDC: */
    char *role_arn;
    char *session_name;   /* default "ota-rollout" */
    char *external_id;    /* NULL when absent */
    char *policy;         /* NULL when absent */
    long duration_s;      /* DurationSeconds, 900..43200, default 3600 */
    char *sts_url;        /* "https://sts.aliyuncs.com", or a loopback
                           * "http://127.0.0.1:PORT"; no trailing slash */
    char *oidc_provider_arn;
    char *oidc_token_file; /* re-read at every fetch */

    /* ORCH_CRED_ECS: */
    char *ecs_role_name;  /* NULL: discovered from the metadata service */
    char *metadata_url;   /* "http://100.100.100.200" unless overridden */
    bool imdsv1_disabled;

    /* ORCH_CRED_URI: */
    char *uri;

    /* ORCH_CRED_PROCESS: argv (NULL-terminated, owned), run without a
     * shell. */
    char **argv;
};

/* A fetched set. expires_ms = -1 when the credentials do not expire
 * (static keys, a process answer without `expiration`). */
struct orch_credset {
    struct orch_credentials cred; /* cred.source is the source's label */
    int64_t expires_ms;           /* wall-clock epoch ms, or -1 */
    int64_t fetched_ms;           /* when the answer arrived */
};

/* One blocking fetch from src (timeouts: 1 s connect+answer for the
 * metadata service, a few seconds for the others). Fills out (which the
 * caller frees with orch_credset_cleanup). Returns 0; ORCH_ECRED with
 * diag saying what failed (HTTP status, the answer's Code and Message,
 * never a secret) for a refusal that retrying will not fix; ORCH_EHTTP for
 * a transport failure or a 5xx/throttled answer (worth a retry).
 * Thread-safe for distinct out. */
int orch_credsource_fetch(const struct orch_credsource *src,
                          struct orch_credset *out, struct orch_diag *diag);
/* orch_credsource_fetch with every STS request it makes (a signer's too,
 * in a ChainableRamRoleArn chain) waiting for pace->before first, keyed
 * by src's label, and a throttling answer told to pace->throttled
 * (credpace.h; pace may be NULL: not paced). Also ORCH_EABORT when
 * pace->before said the run is stopping (nothing was sent). */
int orch_credsource_fetch_paced(const struct orch_credsource *src,
                                const struct orch_credpace *pace,
                                struct orch_credset *out,
                                struct orch_diag *diag);

void orch_credset_cleanup(struct orch_credset *set);
/* Frees every field (wiping secrets); NULL-safe. */
void orch_credsource_cleanup(struct orch_credsource *src);

#endif
