/* credbuild.h - the pieces every link of the credential chain builds its
 * source from (credchain.c, cliprofile.c, credini.c): a new source, its
 * static credentials, the STS and ECS metadata addresses, the rule for
 * plain-http URLs (loopback only), and the warning for a secrets file that
 * group or others can read.
 *
 * Environment variables read here: ALIBABA_CLOUD_STS_ENDPOINT,
 * ALIBABA_CLOUD_STS_REGION, ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED,
 * ALIBABA_CLOUD_ECS_METADATA, ALIBABA_CLOUD_ECS_METADATA_DISABLED,
 * ALIBABA_CLOUD_IMDSV1_DISABLED, ALIBABA_CLOUD_ROLE_SESSION_NAME and
 * OTA_ROLLOUT_ECS_METADATA_URL (tests point the metadata service at the
 * emulator with it). Not thread-safe (getenv); resolution runs once, on
 * the main thread.
 */
#ifndef ORCH_CREDBUILD_H
#define ORCH_CREDBUILD_H

#include <stdbool.h>

#include "orch/cloud/credsource.h"

struct orch_diag;

#define ORCH_CRED_SESSION_DEFAULT "ota-rollout"
#define ORCH_CRED_DURATION_DEFAULT 3600
#define ORCH_CRED_DURATION_MIN 900
#define ORCH_CRED_DURATION_MAX 43200
#define ORCH_ECS_METADATA_DEFAULT "http://100.100.100.200"

/* getenv(name) when set and not empty, else NULL. */
const char *orch_credbuild_env(const char *name);
/* True when the variable is "true" (any case), as the official libraries
 * test it. */
bool orch_credbuild_env_true(const char *name);

/* A new zeroed source of this kind with copies of label and provider; NULL
 * when out of memory. Free it with orch_credsource_cleanup() + free(), or
 * orch_credbuild_free(). */
struct orch_credsource *orch_credbuild_new(enum orch_cred_kind kind,
                                           const char *label,
                                           const char *provider);
/* orch_credsource_cleanup(src) then free(src); NULL-safe. */
void orch_credbuild_free(struct orch_credsource *src);
/* Copies *s into *dst (NULL or "" leaves *dst NULL). 0 or ORCH_ENOMEM. */
int orch_credbuild_str(char **dst, const char *s);

/* A new ORCH_CRED_STATIC source holding id/secret/token (token NULL or ""
 * = none); its static_cred.source is label. NULL when out of memory. */
struct orch_credsource *orch_credbuild_static(const char *label,
                                              const char *provider,
                                              const char *id,
                                              const char *secret,
                                              const char *token);

/* The STS address for an AssumeRole / AssumeRoleWithOIDC source, into
 * *url (malloced, no trailing slash). In order: endpoint (a profile's
 * sts_endpoint, may be NULL), ALIBABA_CLOUD_STS_ENDPOINT, then
 * https://sts.<region>.aliyuncs.com from region (a profile's sts_region,
 * may be NULL) or ALIBABA_CLOUD_STS_REGION (sts-vpc.<region> with
 * ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true), else https://sts.aliyuncs.com.
 * A profile's own setting comes first, as in credentials-go. An endpoint
 * is a host name (-> https://HOST) or a full URL: https, or http only to a
 * loopback address. where names the setting's origin for diag (e.g.
 * `profile "ops" (/h/.aliyun/config.json)`). Returns 0, ORCH_ECONFIG (diag
 * names where and the field or variable) or ORCH_ENOMEM. */
int orch_credbuild_sts_url(char **url, const char *endpoint,
                           const char *region, const char *where,
                           struct orch_diag *diag);

/* True when url is http:// or https:// to 127.0.0.0/8, [::1] or
 * localhost. *https tells which scheme it was. */
bool orch_credbuild_url_is_loopback(const char *url, bool *https);
/* Checks a URL that credentials are fetched from: https, or plain http to
 * a loopback address only. Returns 0 or ORCH_ECONFIG naming `what` (the
 * variable or field; the URL itself is not quoted: it may carry a
 * token). */
int orch_credbuild_check_url(const char *url, const char *what,
                             struct orch_diag *diag);

/* A new ORCH_CRED_ECS source: role (NULL or "" = discovered), the metadata
 * address (OTA_ROLLOUT_ECS_METADATA_URL, http to a loopback address only,
 * else http://100.100.100.200) and ALIBABA_CLOUD_IMDSV1_DISABLED. Returns
 * 0, ORCH_ECONFIG or ORCH_ENOMEM. */
int orch_credbuild_ecs(struct orch_credsource **out, const char *label,
                       const char *provider, const char *role,
                       struct orch_diag *diag);
/* The same for a source that names the metadata service (a profile's
 * EcsRamRole, an ini section's ecs_ram_role): refused with ORCH_ECRED
 * when ALIBABA_CLOUD_ECS_METADATA_DISABLED=true turns it off; `what`
 * says which source that is in the message ("<where> uses mode
 * EcsRamRole"). */
int orch_credbuild_ecs_named(struct orch_credsource **out, const char *label,
                             const char *provider, const char *role,
                             const char *what, struct orch_diag *diag);

/* What an AssumeRole or AssumeRoleWithOIDC source is built from. Strings
 * may be NULL or "" (absent). */
struct orch_credbuild_role {
    const char *role_arn;
    const char *session_name; /* else ALIBABA_CLOUD_ROLE_SESSION_NAME, else
                               * "ota-rollout" */
    const char *external_id;
    const char *policy;
    long duration_s;          /* 0: 3600; else 900..43200 */
    const char *sts_endpoint; /* a profile's, see orch_credbuild_sts_url */
    const char *sts_region;
    const char *oidc_provider_arn; /* ORCH_CRED_OIDC only */
    const char *oidc_token_file;
    const char *where;        /* names the origin in diag, e.g.
                               * `profile "ops" (FILE)` or `environment` */
};

/* A new ORCH_CRED_ASSUME_ROLE (signed by signer, which it takes over, also
 * on failure) or ORCH_CRED_OIDC (signer NULL) source from r. For OIDC the
 * token file must exist (else ORCH_ECRED naming it) and a loose mode on it
 * is appended to *warning. Returns 0, ORCH_ECONFIG (duration outside
 * 900..43200: "<where>: expired_seconds N ..."; a bad STS endpoint or
 * region), ORCH_ECRED or ORCH_ENOMEM. */
int orch_credbuild_role(struct orch_credsource **out,
                        enum orch_cred_kind kind, const char *label,
                        const char *provider,
                        const struct orch_credbuild_role *r,
                        struct orch_credsource *signer, char **warning,
                        struct orch_diag *diag);

/* When mode (permission bits) lets group or others read, appends to
 * *warning (malloced, "; "-separated) "<path> is readable by group or
 * others (mode 0644): chmod 600 <path>", as ssh warns for keys. Returns 0
 * or ORCH_ENOMEM. */
int orch_credbuild_warn_mode(char **warning, const char *path,
                             unsigned mode);
/* stat()s path and warns as orch_credbuild_warn_mode() does; a file that
 * cannot be stat()ed gives no warning. */
int orch_credbuild_warn_path(char **warning, const char *path);

#endif
