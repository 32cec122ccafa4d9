/* credbuild.c - building credential sources: allocation and release, the
 * STS and ECS metadata addresses, the loopback rule for plain http, the
 * loose-file-mode warning.
 */
#include "orch/cloud/credbuild.h"

#include "orch/base/err.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

const char *orch_credbuild_env(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? v : NULL;
}

bool orch_credbuild_env_true(const char *name)
{
    const char *v = getenv(name);

    return v && strcasecmp(v, "true") == 0;
}

int orch_credbuild_str(char **dst, const char *s)
{
    *dst = NULL;
    if (s == NULL || *s == '\0')
        return 0;
    *dst = strdup(s);
    return *dst ? 0 : ORCH_ENOMEM;
}

struct orch_credsource *orch_credbuild_new(enum orch_cred_kind kind,
                                           const char *label,
                                           const char *provider)
{
    struct orch_credsource *src = calloc(1, sizeof(*src));

    if (src == NULL)
        return NULL;
    src->kind = kind;
    src->label = strdup(label);
    src->provider = strdup(provider);
    src->duration_s = ORCH_CRED_DURATION_DEFAULT;
    if (src->label == NULL || src->provider == NULL) {
        orch_credbuild_free(src);
        return NULL;
    }
    return src;
}

void orch_credsource_cleanup(struct orch_credsource *src)
{
    size_t i = 0;

    if (src == NULL)
        return;
    free(src->label);
    free(src->provider);
    orch_credentials_cleanup(&src->static_cred);
    orch_credbuild_free(src->signer);
    free(src->role_arn);
    free(src->session_name);
    free(src->external_id);
    free(src->policy);
    free(src->sts_url);
    free(src->oidc_provider_arn);
    free(src->oidc_token_file);
    free(src->ecs_role_name);
    free(src->metadata_url);
    free(src->uri);
    for (i = 0; src->argv && src->argv[i]; i++)
        free(src->argv[i]);
    free(src->argv);
    memset(src, 0, sizeof(*src));
}

void orch_credbuild_free(struct orch_credsource *src)
{
    orch_credsource_cleanup(src);
    free(src);
}

struct orch_credsource *orch_credbuild_static(const char *label,
                                              const char *provider,
                                              const char *id,
                                              const char *secret,
                                              const char *token)
{
    struct orch_credsource *src =
        orch_credbuild_new(ORCH_CRED_STATIC, label, provider);

    if (src && orch_credentials_fill(&src->static_cred, id, secret, token,
                                     label) != 0) {
        orch_credbuild_free(src);
        return NULL;
    }
    return src;
}

/* The host of an http(s) URL's authority, into host (cap bytes): the
 * part between "://" and the first '/', '?' or '#', without a port and
 * without the brackets of an IPv6 literal. False when there is no host or
 * it carries user info. */
static bool url_host(const char *url, char *host, size_t cap)
{
    const char *p = strstr(url, "://");
    const char *end = NULL;
    size_t n = 0;

    if (p == NULL)
        return false;
    p += 3;
    end = p + strcspn(p, "/?#");
    if (memchr(p, '@', (size_t)(end - p)))
        return false;
    if (*p == '[') {
        const char *close = memchr(p, ']', (size_t)(end - p));

        if (close == NULL)
            return false;
        p++;
        end = close;
    } else {
        const char *colon = memchr(p, ':', (size_t)(end - p));

        if (colon)
            end = colon;
    }
    n = (size_t)(end - p);
    if (n == 0 || n >= cap)
        return false;
    memcpy(host, p, n);
    host[n] = '\0';
    return true;
}

static bool host_is_loopback(const char *host)
{
    struct in_addr v4;
    struct in6_addr v6;

    if (strcasecmp(host, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, host, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &v6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&v6);
    return false;
}

bool orch_credbuild_url_is_loopback(const char *url, bool *https)
{
    char host[256];
    bool is_https = strncasecmp(url, "https://", 8) == 0;

    if (https)
        *https = is_https;
    if (!is_https && strncasecmp(url, "http://", 7) != 0)
        return false;
    return url_host(url, host, sizeof(host)) && host_is_loopback(host);
}

int orch_credbuild_check_url(const char *url, const char *what,
                             struct orch_diag *diag)
{
    char host[256];

    if (strncasecmp(url, "https://", 8) == 0 &&
        url_host(url, host, sizeof(host)))
        return 0;
    if (strncasecmp(url, "http://", 7) == 0) {
        if (orch_credbuild_url_is_loopback(url, NULL))
            return 0;
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "%s: plain http is accepted only to a loopback "
                             "address (127.0.0.0/8, [::1], localhost); use "
                             "https",
                             what);
    }
    return orch_diag_set(diag, ORCH_ECONFIG,
                         "%s: not an https:// (or loopback http://) URL",
                         what);
}

/* A copy of url without its trailing slashes, into *out. */
static int url_trimmed(char **out, const char *url)
{
    size_t n = strlen(url);

    while (n > 0 && url[n - 1] == '/')
        n--;
    *out = strndup(url, n);
    return *out ? 0 : ORCH_ENOMEM;
}

static bool host_name_ok(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr(".-:[]", *s))
            return false;
    return true;
}

static bool region_ok(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) &&
            *s != '-')
            return false;
    return true;
}

/* An sts_endpoint (host name or URL) as a URL. what names it for diag. */
static int endpoint_url(char **url, const char *endpoint, const char *what,
                        struct orch_diag *diag)
{
    char *full = NULL;
    int rc = 0;

    if (strstr(endpoint, "://")) {
        rc = orch_credbuild_check_url(endpoint, what, diag);
        return rc ? rc : url_trimmed(url, endpoint);
    }
    if (!host_name_ok(endpoint))
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "%s: not a host name or an https:// URL", what);
    if (asprintf(&full, "https://%s", endpoint) < 0)
        return ORCH_ENOMEM;
    *url = full;
    return 0;
}

int orch_credbuild_sts_url(char **url, const char *endpoint,
                           const char *region, const char *where,
                           struct orch_diag *diag)
{
    const char *env_endpoint = orch_credbuild_env("ALIBABA_CLOUD_STS_ENDPOINT");
    const char *env_region = orch_credbuild_env("ALIBABA_CLOUD_STS_REGION");
    const char *prefix = orch_credbuild_env_true(
                             "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED")
                             ? "sts-vpc"
                             : "sts";
    char what[400];

    *url = NULL;
    if (endpoint && *endpoint) {
        snprintf(what, sizeof(what), "%s: sts_endpoint", where);
        return endpoint_url(url, endpoint, what, diag);
    }
    if (env_endpoint)
        return endpoint_url(url, env_endpoint, "ALIBABA_CLOUD_STS_ENDPOINT",
                            diag);
    if (region && *region) {
        if (!region_ok(region))
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "%s: sts_region \"%.64s\" is not a region "
                                 "id",
                                 where, region);
    } else if (env_region) {
        if (!region_ok(env_region))
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "ALIBABA_CLOUD_STS_REGION \"%.64s\" is not "
                                 "a region id",
                                 env_region);
        region = env_region;
    } else {
        *url = strdup("https://sts.aliyuncs.com");
        return *url ? 0 : ORCH_ENOMEM;
    }
    if (asprintf(url, "https://%s.%s.aliyuncs.com", prefix, region) < 0) {
        *url = NULL;
        return ORCH_ENOMEM;
    }
    return 0;
}

int orch_credbuild_ecs(struct orch_credsource **out, const char *label,
                       const char *provider, const char *role,
                       struct orch_diag *diag)
{
    const char *md = orch_credbuild_env("OTA_ROLLOUT_ECS_METADATA_URL");
    struct orch_credsource *src = NULL;
    bool https = false;
    int rc = 0;

    *out = NULL;
    if (md && !(orch_credbuild_url_is_loopback(md, &https) && !https))
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "OTA_ROLLOUT_ECS_METADATA_URL: only an http:// "
                             "URL to a loopback address is accepted (it is "
                             "meant for tests)");
    src = orch_credbuild_new(ORCH_CRED_ECS, label, provider);
    if (src == NULL)
        return ORCH_ENOMEM;
    src->imdsv1_disabled =
        orch_credbuild_env_true("ALIBABA_CLOUD_IMDSV1_DISABLED");
    rc = orch_credbuild_str(&src->ecs_role_name, role);
    if (rc == 0)
        rc = url_trimmed(&src->metadata_url,
                         md ? md : ORCH_ECS_METADATA_DEFAULT);
    if (rc) {
        orch_credbuild_free(src);
        return rc;
    }
    *out = src;
    return 0;
}

int orch_credbuild_ecs_named(struct orch_credsource **out, const char *label,
                             const char *provider, const char *role,
                             const char *what, struct orch_diag *diag)
{
    if (orch_credbuild_env_true("ALIBABA_CLOUD_ECS_METADATA_DISABLED"))
        return orch_diag_set(diag, ORCH_ECRED,
                             "%s, but ALIBABA_CLOUD_ECS_METADATA_DISABLED=true "
                             "turns the metadata service off",
                             what);
    return orch_credbuild_ecs(out, label, provider, role, diag);
}

int orch_credbuild_warn_mode(char **warning, const char *path,
                             unsigned mode)
{
    char *next = NULL;
    int n = 0;

    if ((mode & 044) == 0)
        return 0;
    if (*warning)
        n = asprintf(&next,
                     "%s; %s is readable by group or others (mode %04o): "
                     "chmod 600 %s",
                     *warning, path, mode & 07777, path);
    else
        n = asprintf(&next,
                     "%s is readable by group or others (mode %04o): "
                     "chmod 600 %s",
                     path, mode & 07777, path);
    if (n < 0)
        return ORCH_ENOMEM;
    free(*warning);
    *warning = next;
    return 0;
}

int orch_credbuild_warn_path(char **warning, const char *path)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return 0;
    return orch_credbuild_warn_mode(warning, path, (unsigned)st.st_mode);
}

static int token_file_check(const char *path, const char *where,
                            char **warning, struct orch_diag *diag)
{
    struct stat st;

    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return orch_diag_set(diag, ORCH_ECRED,
                             "%s: the OIDC token file %s does not exist or "
                             "is not a regular file",
                             where, path);
    return orch_credbuild_warn_mode(warning, path, (unsigned)st.st_mode);
}

int orch_credbuild_role(struct orch_credsource **out,
                        enum orch_cred_kind kind, const char *label,
                        const char *provider,
                        const struct orch_credbuild_role *r,
                        struct orch_credsource *signer, char **warning,
                        struct orch_diag *diag)
{
    const char *session = r->session_name && *r->session_name
                              ? r->session_name
                              : orch_credbuild_env(
                                    "ALIBABA_CLOUD_ROLE_SESSION_NAME");
    struct orch_credsource *src = NULL;
    int rc = 0;

    *out = NULL;
    if (r->duration_s != 0 && (r->duration_s < ORCH_CRED_DURATION_MIN ||
                               r->duration_s > ORCH_CRED_DURATION_MAX)) {
        orch_credbuild_free(signer);
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "%s: expired_seconds %ld is outside %d..%d",
                             r->where, r->duration_s, ORCH_CRED_DURATION_MIN,
                             ORCH_CRED_DURATION_MAX);
    }
    src = orch_credbuild_new(kind, label, provider);
    if (src == NULL) {
        orch_credbuild_free(signer);
        return ORCH_ENOMEM;
    }
    src->signer = signer;
    if (r->duration_s)
        src->duration_s = r->duration_s;
    rc = orch_credbuild_str(&src->role_arn, r->role_arn);
    if (rc == 0)
        rc = orch_credbuild_str(&src->session_name,
                                session ? session
                                        : ORCH_CRED_SESSION_DEFAULT);
    if (rc == 0)
        rc = orch_credbuild_str(&src->external_id, r->external_id);
    if (rc == 0)
        rc = orch_credbuild_str(&src->policy, r->policy);
    if (rc == 0)
        rc = orch_credbuild_sts_url(&src->sts_url, r->sts_endpoint,
                                    r->sts_region, r->where, diag);
    if (rc == 0 && kind == ORCH_CRED_OIDC) {
        rc = orch_credbuild_str(&src->oidc_provider_arn,
                                r->oidc_provider_arn);
        if (rc == 0)
            rc = orch_credbuild_str(&src->oidc_token_file,
                                    r->oidc_token_file);
        if (rc == 0)
            rc = token_file_check(r->oidc_token_file, r->where, warning,
                                  diag);
    }
    if (rc) {
        orch_credbuild_free(src);
        return rc;
    }
    *out = src;
    return 0;
}
