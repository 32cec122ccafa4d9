/* credentials.c - the AccessKey from the environment or an aliyun CLI
 * profile, kept in wiped-on-free secrets.
 *
 * DESIGN: the order is the one of credentials.h: the environment
 * (ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, optional ALIBABA_CLOUD_SECURITY_TOKEN),
 * else ~/.aliyun/config.json. One refinement: a profile named explicitly
 * with --profile (the `profile` argument) is used even when the environment
 * holds a key, because naming a profile on the command line is the more
 * specific wish and picking the other account would create jobs there.
 * ALIBABA_CLOUD_PROFILE does not do that: it only chooses which profile is
 * read when the environment holds no key.
 *
 * The config file is read into a buffer that is wiped afterwards, and while
 * jansson parses it, its free function wipes every block it frees, so no
 * copy of the secret stays behind in freed heap memory.
 */
#include "orch/cloud/credentials.h"

#include "orch/base/err.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_MAX (4 * 1024 * 1024)

int orch_secret_set(struct orch_secret *sec, const char *s)
{
    size_t n = strlen(s);
    char *copy = malloc(n + 1);

    if (copy == NULL)
        return ORCH_ENOMEM;
    memcpy(copy, s, n + 1);
    orch_secret_wipe(sec);
    sec->s = copy;
    sec->len = n;
    return 0;
}

void orch_secret_wipe(struct orch_secret *sec)
{
    if (sec == NULL)
        return;
    if (sec->s) {
        OPENSSL_cleanse(sec->s, sec->len);
        free(sec->s);
    }
    sec->s = NULL;
    sec->len = 0;
}

void orch_credentials_cleanup(struct orch_credentials *cred)
{
    if (cred == NULL)
        return;
    /* First: the refresher may still be fetching. */
    if (cred->live != NULL && cred->live_free != NULL)
        cred->live_free(cred->live);
    free(cred->provider);
    free(cred->access_key_id);
    orch_secret_wipe(&cred->secret);
    orch_secret_wipe(&cred->token);
    free(cred->source);
    memset(cred, 0, sizeof(*cred));
}

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? v : NULL;
}

static int fill(struct orch_credentials *cred, const char *id,
                const char *secret, const char *token, const char *source)
{
    int rc = 0;

    cred->access_key_id = strdup(id);
    cred->source = strdup(source);
    if (cred->access_key_id == NULL || cred->source == NULL)
        rc = ORCH_ENOMEM;
    if (rc == 0)
        rc = orch_secret_set(&cred->secret, secret);
    if (rc == 0 && token)
        rc = orch_secret_set(&cred->token, token);
    return rc;
}

static int from_env(struct orch_credentials *cred, struct orch_diag *diag)
{
    const char *id = env_nonempty("ALIBABA_CLOUD_ACCESS_KEY_ID");
    const char *secret = env_nonempty("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
    const char *token = env_nonempty("ALIBABA_CLOUD_SECURITY_TOKEN");

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
    return fill(cred, id, secret, token, "environment");
}

/* jansson's free while the config file is parsed: wipe, then free.
 * malloc_usable_size() gives the block's size, so the blocks jansson
 * allocated with plain malloc before or after are freed correctly too. */
static void wiping_free(void *p)
{
    if (p) {
        OPENSSL_cleanse(p, malloc_usable_size(p));
        free(p);
    }
}

/* Reads the whole file into a malloced, NUL-terminated buffer. Returns 0,
 * ORCH_ENOTFOUND (no such file) or ORCH_EIO. */
static int read_file(const char *path, char **out, size_t *out_len,
                     struct orch_diag *diag)
{
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    ssize_t n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = 0;

    if (fd < 0 && errno == ENOENT)
        return ORCH_ENOTFOUND;
    if (fd < 0)
        return orch_diag_set(diag, ORCH_ECRED, "cannot open %s: %s", path,
                             strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size > CONFIG_MAX) {
        rc = orch_diag_set(diag, ORCH_ECRED,
                           "%s is not a regular file of at most 4 MiB", path);
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        rc = ORCH_ENOMEM;
        goto out;
    }
    while (len < (size_t)st.st_size) {
        n = read(fd, buf + len, (size_t)st.st_size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    if (n < 0) {
        rc = orch_diag_set(diag, ORCH_ECRED, "cannot read %s: %s", path,
                           strerror(errno));
        goto out;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    buf = NULL;
out:
    if (buf) {
        OPENSSL_cleanse(buf, (size_t)st.st_size + 1);
        free(buf);
    }
    close(fd);
    return rc;
}

static const char *jstr(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int from_profile_json(struct orch_credentials *cred, json_t *root,
                             const char *want, const char *path,
                             struct orch_diag *diag)
{
    json_t *profiles = json_object_get(root, "profiles");
    json_t *p = NULL;
    const char *name = want ? want : jstr(root, "current");
    const char *mode = NULL, *id = NULL, *secret = NULL, *token = NULL;
    char source[512];
    size_t i = 0;

    if (name == NULL || *name == '\0')
        name = "default";
    if (!json_is_array(profiles))
        return orch_diag_set(diag, ORCH_ECRED, "%s has no \"profiles\" list",
                             path);
    for (i = 0; i < json_array_size(profiles); i++) {
        const char *pn = jstr(json_array_get(profiles, i), "name");

        if (pn && strcmp(pn, name) == 0) {
            p = json_array_get(profiles, i);
            break;
        }
    }
    if (p == NULL)
        return orch_diag_set(diag, ORCH_ECRED, "profile %s not found in %s",
                             name, path);
    mode = jstr(p, "mode");
    if (mode == NULL || *mode == '\0')
        mode = "AK"; /* the aliyun CLI's default mode */
    if (strcmp(mode, "AK") != 0 && strcmp(mode, "StsToken") != 0)
        return orch_diag_set(diag, ORCH_ECRED,
                             "profile %s uses mode %s, which ota-rollout "
                             "does not support; use an AK or StsToken "
                             "profile or set ALIBABA_CLOUD_ACCESS_KEY_ID/"
                             "SECRET",
                             name, mode);
    id = jstr(p, "access_key_id");
    secret = jstr(p, "access_key_secret");
    token = jstr(p, "sts_token");
    if (id == NULL || *id == '\0')
        return orch_diag_set(diag, ORCH_ECRED,
                             "profile %s in %s has no access_key_id", name,
                             path);
    if (secret == NULL || *secret == '\0')
        return orch_diag_set(diag, ORCH_ECRED,
                             "profile %s in %s has no access_key_secret", name,
                             path);
    if (strcmp(mode, "StsToken") == 0 && (token == NULL || *token == '\0'))
        return orch_diag_set(diag, ORCH_ECRED,
                             "profile %s in %s (mode StsToken) has no "
                             "sts_token",
                             name, path);
    if (strcmp(mode, "AK") == 0)
        token = NULL;
    snprintf(source, sizeof(source), "profile %s (%s)", name, path);
    return fill(cred, id, secret, token, source);
}

static int from_profile(struct orch_credentials *cred, const char *profile,
                        const char *home, struct orch_diag *diag)
{
    json_malloc_t old_malloc = NULL;
    json_free_t old_free = NULL;
    json_error_t jerr;
    json_t *root = NULL;
    char *path = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc = 0;

    if (home == NULL || *home == '\0')
        return ORCH_ENOTFOUND;
    if (asprintf(&path, "%s/.aliyun/config.json", home) < 0)
        return ORCH_ENOMEM;
    rc = read_file(path, &text, &len, diag);
    if (rc == ORCH_ENOTFOUND && profile)
        rc = orch_diag_set(diag, ORCH_ECRED, "profile %s: %s does not exist",
                           profile, path);
    if (rc)
        goto out;
    json_get_alloc_funcs(&old_malloc, &old_free);
    json_set_alloc_funcs(malloc, wiping_free);
    root = json_loadb(text, len, 0, &jerr);
    if (root == NULL)
        /* Not jerr.text: it may quote the input near the error, and the
         * input holds secrets. */
        rc = orch_diag_set(diag, ORCH_ECRED,
                           "%s: not valid JSON (line %d, column %d)", path,
                           jerr.line, jerr.column);
    else if (!json_is_object(root))
        rc = orch_diag_set(diag, ORCH_ECRED, "%s is not a JSON object", path);
    else
        rc = from_profile_json(cred, root, profile, path, diag);
    json_decref(root);
    json_set_alloc_funcs(old_malloc, old_free);
out:
    if (text) {
        OPENSSL_cleanse(text, len);
        free(text);
    }
    free(path);
    return rc;
}

int orch_credentials_load(struct orch_credentials *cred, const char *profile,
                          const char *home, struct orch_diag *diag)
{
    const char *env_profile = env_nonempty("ALIBABA_CLOUD_PROFILE");
    int rc = 0;

    memset(cred, 0, sizeof(*cred));
    if (profile == NULL) {
        rc = from_env(cred, diag);
        if (rc != ORCH_ENOTFOUND)
            goto out;
        profile = env_profile;
    }
    rc = from_profile(cred, profile, home, diag);
    if (rc == ORCH_ENOTFOUND)
        rc = orch_diag_set(diag, ORCH_ECRED,
                           "no credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID "
                           "and ALIBABA_CLOUD_ACCESS_KEY_SECRET (plus "
                           "ALIBABA_CLOUD_SECURITY_TOKEN for STS), or create "
                           "an AK profile with `aliyun configure` "
                           "(%s/.aliyun/config.json)",
                           home && *home ? home : "~");
out:
    if (rc == ORCH_ENOMEM)
        orch_diag_set(diag, rc, "out of memory");
    if (rc)
        orch_credentials_cleanup(cred);
    return rc;
}
