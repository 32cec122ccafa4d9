/* emu_verify.c - gateway authentication for ota-emulator: the AccessKey
 * registry and RAM policies, V2 and V3 signatures, skew, nonce replay,
 * STS tokens.
 *
 * DESIGN: verification is one straight pass over a parsed request
 * (emu_request.c decoded it): tell V2 from V3, check presence and shape
 * of every common part, look the key up, check the clock, recompute the
 * signature with orch_sign_v2()/orch_sign_v3() and compare in constant
 * time, and only then record the nonce (emu_nonce.c) and ask the RAM
 * policy. The first failure fills the verdict and stops. The only shared
 * mutable state is the nonce cache, which locks itself.
 */
#include "gateway/emu_verify.h"

#include "gateway/emu_nonce.h"
#include "world/emu_mint.h"

#include "orch/base/codec.h"
#include "orch/base/err.h"

#include <openssl/crypto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define EMPTY_SHA256                                                       \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct emu_key {
    char *id;
    char *secret; /* wiped on free */
    char *token;  /* STS token, NULL for a permanent key; wiped on free */
};

/* A RAM policy that does not allow some actions to one key. */
struct emu_deny {
    char *id;
    char *actions; /* ",A,B," (commas around each), or ",*," for all */
};

struct emu_verifier {
    struct emu_mint *mint; /* borrowed, may be NULL: minted keys */
    struct emu_key *keys;
    size_t nkeys;
    struct emu_deny *denies;
    size_t ndenies;
    struct emu_nonce_cache nonces;
};

/* ---- the key registry ---- */

struct emu_verifier *emu_verifier_new(void)
{
    struct emu_verifier *v = calloc(1, sizeof(*v));

    if (v == NULL)
        return NULL;
    if (emu_nonce_init(&v->nonces, EMU_VERIFY_WINDOW_MS) != 0) {
        free(v);
        return NULL;
    }
    return v;
}

static void free_wiped(char *s)
{
    if (s == NULL)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

void emu_verifier_free(struct emu_verifier *v)
{
    size_t i = 0;

    if (v == NULL)
        return;
    for (i = 0; i < v->nkeys; i++) {
        free(v->keys[i].id);
        free_wiped(v->keys[i].secret);
        free_wiped(v->keys[i].token);
    }
    free(v->keys);
    for (i = 0; i < v->ndenies; i++) {
        free(v->denies[i].id);
        free(v->denies[i].actions);
    }
    free(v->denies);
    emu_nonce_cleanup(&v->nonces);
    free(v);
}

size_t emu_verifier_key_count(const struct emu_verifier *v)
{
    return v ? v->nkeys : 0;
}

const char *emu_verifier_first_key(const struct emu_verifier *v)
{
    return v && v->nkeys ? v->keys[0].id : NULL;
}

void emu_verifier_set_minted(struct emu_verifier *v, struct emu_mint *m)
{
    v->mint = m;
}

/* A minted key looked up for one request: a copy, wiped afterwards. */
struct minted_key {
    struct emu_minted m;
    struct emu_key k; /* points into m */
    bool found;
};

/* The registered key `id`, else the minted one (copied into mk), else
 * NULL. */
static const struct emu_key *find_any_key(const struct emu_verifier *v,
                                          const char *id,
                                          struct minted_key *mk)
{
    const struct emu_key *k = NULL;

    for (size_t i = 0; i < v->nkeys; i++)
        if (strcmp(v->keys[i].id, id) == 0)
            k = &v->keys[i];
    if (k || v->mint == NULL || !emu_mint_lookup(v->mint, id, &mk->m))
        return k;
    mk->found = true;
    mk->k.id = mk->m.id;
    mk->k.secret = mk->m.secret;
    mk->k.token = mk->m.token;
    return &mk->k;
}

static struct emu_key *find_key(const struct emu_verifier *v, const char *id)
{
    size_t i = 0;

    for (i = 0; i < v->nkeys; i++)
        if (strcmp(v->keys[i].id, id) == 0)
            return &v->keys[i];
    return NULL;
}

int emu_verifier_add_key(struct emu_verifier *v, const char *spec,
                         struct orch_diag *diag)
{
    const char *c1 = strchr(spec, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    struct emu_key k = {NULL, NULL, NULL};
    struct emu_key *old = NULL;
    struct emu_key *grown = NULL;

    if (c1 == NULL || c1 == spec || c1[1] == '\0' || c1[1] == ':'
        || (c2 && c2[1] == '\0'))
        return orch_diag_set(diag, ORCH_EINVAL,
                             "access key must be ID:SECRET or "
                             "ID:SECRET:STS_TOKEN");
    k.id = strndup(spec, (size_t)(c1 - spec));
    k.secret = c2 ? strndup(c1 + 1, (size_t)(c2 - c1 - 1))
                  : strdup(c1 + 1);
    k.token = c2 ? strdup(c2 + 1) : NULL;
    if (k.id == NULL || k.secret == NULL || (c2 && k.token == NULL))
        goto nomem;
    old = find_key(v, k.id);
    if (old) {
        free(old->id);
        free_wiped(old->secret);
        free_wiped(old->token);
        *old = k;
        return 0;
    }
    grown = realloc(v->keys, (v->nkeys + 1) * sizeof(*v->keys));
    if (grown == NULL)
        goto nomem;
    v->keys = grown;
    v->keys[v->nkeys++] = k;
    return 0;
nomem:
    free(k.id);
    free_wiped(k.secret);
    free_wiped(k.token);
    return ORCH_ENOMEM;
}

int emu_verifier_deny(struct emu_verifier *v, const char *spec,
                      struct orch_diag *diag)
{
    const char *colon = strchr(spec, ':');
    struct emu_deny d = {NULL, NULL};
    struct emu_deny *grown = NULL;
    size_t len = 0;

    if (colon == NULL || colon == spec || colon[1] == '\0')
        return orch_diag_set(diag, ORCH_EINVAL,
                             "must be ID:ACTION[,ACTION...] or ID:*");
    d.id = strndup(spec, (size_t)(colon - spec));
    len = strlen(colon + 1) + 3;
    d.actions = malloc(len);
    if (d.id == NULL || d.actions == NULL)
        goto nomem;
    snprintf(d.actions, len, ",%s,", colon + 1);
    grown = realloc(v->denies, (v->ndenies + 1) * sizeof(*v->denies));
    if (grown == NULL)
        goto nomem;
    v->denies = grown;
    v->denies[v->ndenies++] = d;
    return 0;
nomem:
    free(d.id);
    free(d.actions);
    return ORCH_ENOMEM;
}

/* True when a RAM policy given with emu_verifier_deny() does not allow
 * `action` to key `id`. */
static bool ram_denies(const struct emu_verifier *v, const char *id,
                       const char *action)
{
    char needle[160];
    size_t i = 0;

    snprintf(needle, sizeof(needle), ",%s,", action);
    for (i = 0; i < v->ndenies; i++) {
        if (strcmp(v->denies[i].id, id) == 0 &&
            (strstr(v->denies[i].actions, ",*,") ||
             strstr(v->denies[i].actions, needle)))
            return true;
    }
    return false;
}

/* ---- the checks ---- */

static int fail_missing(struct emu_auth *a, const char *param)
{
    char code[64];

    snprintf(code, sizeof(code), "Missing%s", param);
    return emu_auth_fail(a, 400, code, "%s is mandatory for this action.",
                         param);
}

static int fail_incomplete(struct emu_auth *a, const char *why)
{
    return emu_auth_fail(a, 400, "IncompleteSignature",
                         "The request signature does not conform to Aliyun "
                         "standards. %s",
                         why);
}

/* Parses the gateway's timestamp shape, yyyy-MM-ddTHH:mm:ssZ, strictly.
 * orch_time_parse() is deliberately not used: it accepts operator-friendly
 * forms (offsets, epoch ms) that the gateway refuses. */
static int parse_acs_time(const char *s, int64_t *out_ms)
{
    struct tm tm;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0, n = 0;
    time_t t = 0;

    if (s == NULL || strlen(s) != 20)
        return -1;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &se,
               &n) != 6
        || n != 20)
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    t = timegm(&tm);
    *out_ms = (int64_t)t * 1000;
    return 0;
}

/* The result of a check that set the verdict: 1, or ORCH_ENOMEM when
 * the verdict's message could not be stored. */
static int rejected(int rc)
{
    return rc ? rc : 1;
}

/* Checks a Timestamp / x-acs-date value against the clock. Returns 1 when
 * the verdict was set (rejected), 0 when fine, or ORCH_ENOMEM. */
static int check_time(struct emu_auth *a, const char *name, const char *val,
                      int64_t now_ms)
{
    int64_t t = 0;
    int64_t skew = 0;

    if (val == NULL || val[0] == '\0')
        return rejected(emu_auth_fail(
            a, 400, "IllegalTimestamp",
            "The input parameter \"%s\" that is mandatory for processing "
            "this request is not supplied.",
            name));
    if (parse_acs_time(val, &t) != 0)
        return rejected(emu_auth_fail(a, 400, "IllegalTimestamp",
                                      "Specified parameter %s is not valid.",
                                      name));
    skew = t > now_ms ? t - now_ms : now_ms - t;
    if (skew > EMU_VERIFY_WINDOW_MS)
        return rejected(emu_auth_fail(
            a, 400, "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired."));
    return 0;
}

/* Version: present and one of the API's (STS's for AssumeRole, the one
 * signed STS call). Returns 1 when rejected. */
static int check_version(struct emu_auth *a, const char *version)
{
    if (version == NULL || version[0] == '\0')
        return rejected(fail_missing(a, "Version"));
    if (strcmp(a->action, "AssumeRole") == 0
        && strcmp(version, EMU_STS_VERSION) == 0)
        return 0;
    if (strcmp(version, "2018-01-20") != 0
        && strcmp(version, "2022-01-01") != 0)
        return rejected(emu_auth_fail(
            a, 400, "InvalidVersion",
            "Specified parameter Version is not valid."));
    return 0;
}

/* The STS rule shared by V2 and V3. Returns 1 when rejected. */
static int check_token(struct emu_auth *a, const struct emu_key *k,
                       const char *token)
{
    if (k->token == NULL && token == NULL)
        return 0;
    if (k->token != NULL && (token == NULL || token[0] == '\0'))
        return rejected(fail_missing(a, "SecurityToken"));
    if (k->token == NULL || !orch_str_equal_ct(k->token, token))
        return rejected(emu_auth_fail(
            a, 400, "InvalidSecurityToken.MismatchWithAccessKey",
            "Specified SecurityToken mismatch with the AccessKey."));
    return 0;
}

/* The checks V2 and V3 share once the request's shape is right, in this
 * order: a registered (or minted) key, the date against the clock
 * (date_name is the parameter or header that carried it), a nonce, the
 * STS token, a minted key's expiry. Returns the key, or NULL with *rc 0
 * (the verdict is set) or ORCH_ENOMEM. */
static const struct emu_key *check_caller(const struct emu_verifier *v,
                                          struct emu_auth *a,
                                          const char *key_id,
                                          const char *date_name,
                                          const char *date, const char *nonce,
                                          const char *token, int64_t now_ms,
                                          struct minted_key *mk, int *rc)
{
    const struct emu_key *k = find_any_key(v, key_id, mk);

    *rc = 0;
    if (k == NULL) {
        *rc = emu_auth_fail(a, 404, "InvalidAccessKeyId.NotFound",
                            "Specified access key is not found.");
        return NULL;
    }
    *rc = check_time(a, date_name, date, now_ms);
    if (*rc)
        goto refused;
    if (nonce == NULL || nonce[0] == '\0') {
        *rc = fail_missing(a, "SignatureNonce");
        return NULL;
    }
    *rc = check_token(a, k, token);
    if (*rc)
        goto refused;
    if (mk->found && now_ms >= mk->m.expires_ms) {
        emu_mint_count_expired(v->mint, key_id);
        *rc = rejected(emu_auth_fail(a, 400, "InvalidSecurityToken.Expired",
                                     "Specified SecurityToken is expired."));
        goto refused;
    }
    snprintf(a->quota_key, sizeof(a->quota_key), "%s",
             mk->found ? mk->m.root : key_id);
    a->temporary = mk->found;
    return k;
refused:
    *rc = *rc < 0 ? *rc : 0; /* 1: rejected, the verdict says why */
    return NULL;
}

/* The signature matched: the nonce must be new. Returns 0 (the verdict
 * SignatureNonceUsed set if it was not) or ORCH_ENOMEM. */
static int record_nonce(struct emu_verifier *v, struct emu_auth *a,
                        const char *key_id, const char *nonce, int64_t now_ms)
{
    int rc = emu_nonce_check_and_record(&v->nonces, key_id, nonce, now_ms);

    if (rc == 1)
        rc = emu_auth_fail(a, 400, "SignatureNonceUsed",
                           "Specified signature nonce was used already.");
    return rc;
}

/* Sets the SignatureDoesNotMatch verdict, quoting what the server signed. */
static int fail_mismatch(struct emu_auth *a, const struct orch_buf *sts,
                         const struct orch_buf *creq)
{
    int rc = 0;

    a->http_status = 400;
    snprintf(a->code, sizeof(a->code), "SignatureDoesNotMatch");
    orch_buf_reset(&a->message);
    rc = orch_buf_puts(&a->message,
                       "Specified signature is not matched with our "
                       "calculation. server string to sign is:");
    if (!rc)
        rc = orch_buf_puts(&a->message, orch_buf_str(sts));
    if (!rc && creq) {
        rc = orch_buf_puts(&a->message, " server canonical request is:");
        if (!rc)
            rc = orch_buf_puts(&a->message, orch_buf_str(creq));
    }
    return rc;
}

/* ---- V2 ---- */

static int verify_v2(struct emu_verifier *v,
                     const struct emu_http_request *req, int64_t now_ms,
                     struct minted_key *mk, struct emu_auth *a)
{
    const struct orch_params *p = &a->params;
    const char *action = orch_params_get(p, "Action");
    const char *key_id = orch_params_get(p, "AccessKeyId");
    const char *sig = orch_params_get(p, "Signature");
    const char *method = orch_params_get(p, "SignatureMethod");
    const char *sver = orch_params_get(p, "SignatureVersion");
    const char *nonce = orch_params_get(p, "SignatureNonce");
    const struct emu_key *k = NULL;
    char mine[ORCH_SIGN_V2_LEN];
    struct orch_buf sts;
    int rc = 0;

    orch_buf_init(&sts);
    a->sigver = 2;
    snprintf(a->action, sizeof(a->action), "%s", action ? action : "");
    snprintf(a->key_id, sizeof(a->key_id), "%s", key_id ? key_id : "");
    if (action == NULL || action[0] == '\0')
        return fail_missing(a, "Action");
    rc = check_version(a, orch_params_get(p, "Version"));
    if (rc)
        return rc < 0 ? rc : 0;
    if (sig == NULL || sig[0] == '\0')
        return fail_missing(a, "Signature");
    if (key_id == NULL || key_id[0] == '\0')
        return fail_missing(a, "AccessKeyId");
    if (method == NULL || strcmp(method, "HMAC-SHA1") != 0)
        return fail_incomplete(a, "SignatureMethod must be HMAC-SHA1.");
    if (sver == NULL || strcmp(sver, "1.0") != 0)
        return fail_incomplete(a, "SignatureVersion must be 1.0.");
    k = check_caller(v, a, key_id, "Timestamp",
                     orch_params_get(p, "Timestamp"), nonce,
                     orch_params_get(p, "SecurityToken"), now_ms, mk, &rc);
    if (k == NULL)
        return rc;
    rc = orch_sign_v2(p, req->method, k->secret, mine, &sts);
    if (rc)
        goto out;
    if (!orch_str_equal_ct(mine, sig)) {
        rc = fail_mismatch(a, &sts, NULL);
        goto out;
    }
    OPENSSL_cleanse(mine, sizeof(mine));
    a->sig_ok = true;
    rc = record_nonce(v, a, key_id, nonce, now_ms);
out:
    orch_buf_cleanup(&sts);
    return rc;
}

/* ---- V3 ---- */

struct v3_auth {
    char credential[128];
    char signed_headers[1024];
    char signature[128];
};

/* 1 when `name` (lower-case) is one of the ';'-separated signed names. */
static int in_signed(const char *list, const char *name)
{
    size_t nlen = strlen(name);
    const char *p = list;

    while (*p) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        if (len == nlen && strncasecmp(p, name, nlen) == 0)
            return 1;
        if (end == NULL)
            break;
        p = end + 1;
    }
    return 0;
}

static int must_be_signed(const char *name)
{
    return strncasecmp(name, "x-acs-", 6) == 0
        || strcasecmp(name, "host") == 0
        || strcasecmp(name, "content-type") == 0;
}

/* The three fields of the Authorization value. 0, or -1 when one is
 * missing, empty or too long. */
static int v3_read_authz(const char *fields, struct v3_auth *au)
{
    memset(au, 0, sizeof(*au));
    if (emu_authz_field(fields, "Credential", au->credential,
                        sizeof(au->credential)) != 0
        || emu_authz_field(fields, "SignedHeaders", au->signed_headers,
                           sizeof(au->signed_headers)) != 0
        || emu_authz_field(fields, "Signature", au->signature,
                           sizeof(au->signature)) != 0)
        return -1;
    return 0;
}

/* Every host, content-type and x-acs-* header present must be signed.
 * Returns 0, 1 when rejected, or ORCH_ENOMEM. */
static int v3_check_unsigned(const struct emu_http_request *req,
                             const struct v3_auth *au, struct emu_auth *a)
{
    char why[256];
    size_t i = 0;

    for (i = 0; i < req->nheaders; i++) {
        if (must_be_signed(req->headers[i].name)
            && !in_signed(au->signed_headers, req->headers[i].name)) {
            snprintf(why, sizeof(why),
                     "Header %s is present but not in SignedHeaders.",
                     req->headers[i].name);
            return rejected(fail_incomplete(a, why));
        }
    }
    return 0;
}

/* The signed headers, with the values received, into hdrs (room for
 * req->nheaders) and *nh; names point into the request. Returns 0, 1
 * when rejected (every signed header must be present), or ORCH_ENOMEM. */
static int v3_signed_headers(const struct emu_http_request *req,
                             const struct v3_auth *au, struct emu_auth *a,
                             struct orch_header *hdrs, size_t *nh)
{
    const char *p = au->signed_headers;
    char why[256];
    size_t i = 0;

    while (*p) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char name[128];
        const char *val = NULL;

        if (len == 0 || len >= sizeof(name) || *nh >= req->nheaders)
            return rejected(fail_incomplete(a, "SignedHeaders is "
                                               "malformed."));
        memcpy(name, p, len);
        name[len] = '\0';
        val = emu_header_get(req, name);
        if (val == NULL) {
            snprintf(why, sizeof(why),
                     "Signed header %s is not in the request.", name);
            return rejected(fail_incomplete(a, why));
        }
        /* Point at the request's own name so the list outlives `name`. */
        for (i = 0; i < req->nheaders; i++)
            if (strcasecmp(req->headers[i].name, name) == 0)
                break;
        hdrs[*nh].name = req->headers[i].name;
        hdrs[*nh].value = val;
        (*nh)++;
        if (end == NULL)
            break;
        p = end + 1;
    }
    return 0;
}

/* Recomputes the V3 signature over the signed headers and the body the
 * server received, and compares. Returns 0 (a mismatch or a malformed
 * SignedHeaders sets the verdict) or ORCH_ENOMEM. */
static int v3_compare(const struct emu_http_request *req,
                      const struct orch_params *query,
                      const struct orch_header *hdrs, size_t nh,
                      const struct v3_auth *au, const struct emu_key *k,
                      const char *sha, struct emu_auth *a)
{
    char body_sha[65];
    struct orch_v3_input in;
    struct orch_buf mine;
    struct orch_buf creq;
    struct orch_buf sts;
    const char *mysig = NULL;
    int rc = 0;

    orch_buf_init(&mine);
    orch_buf_init(&creq);
    orch_buf_init(&sts);
    /* The payload hash is the server's own: a body changed in transit
     * shows up as a signature mismatch quoting the real hash. */
    if (req->body_len == 0)
        memcpy(body_sha, EMPTY_SHA256, sizeof(body_sha));
    else {
        rc = orch_sha256_hex(body_sha, req->body, req->body_len);
        if (rc)
            goto out;
    }
    memset(&in, 0, sizeof(in));
    in.method = req->method;
    in.path = req->path;
    in.query = query;
    in.headers = hdrs;
    in.nheaders = nh;
    in.hashed_payload = body_sha;
    rc = orch_sign_v3(&in, au->credential, k->secret, &mine, &creq, &sts);
    if (rc == ORCH_EINVAL) {
        rc = fail_incomplete(a, "SignedHeaders is malformed.");
        goto out;
    }
    if (rc)
        goto out;
    mysig = strstr(orch_buf_str(&mine), ",Signature=");
    if (mysig == NULL || strcmp(sha, body_sha) != 0
        || !orch_str_equal_ct(mysig + 11, au->signature)) {
        rc = fail_mismatch(a, &sts, &creq);
        goto out;
    }
    a->sig_ok = true;
out:
    if (mine.data)
        OPENSSL_cleanse(mine.data, mine.len);
    orch_buf_cleanup(&mine);
    orch_buf_cleanup(&creq);
    orch_buf_cleanup(&sts);
    return rc;
}

static int verify_v3(struct emu_verifier *v,
                     const struct emu_http_request *req, const char *fields,
                     const struct orch_params *query, int64_t now_ms,
                     struct minted_key *mk, struct emu_auth *a)
{
    const char *action = emu_header_get(req, "x-acs-action");
    const char *sha = emu_header_get(req, "x-acs-content-sha256");
    const char *nonce = emu_header_get(req, "x-acs-signature-nonce");
    const struct emu_key *k = NULL;
    struct v3_auth au;
    struct orch_header *hdrs = NULL;
    size_t nh = 0;
    int rc = 0;

    a->sigver = 3;
    snprintf(a->action, sizeof(a->action), "%s", action ? action : "");
    if (v3_read_authz(fields, &au) != 0)
        return fail_incomplete(a, "Authorization needs Credential, "
                                  "SignedHeaders and Signature.");
    snprintf(a->key_id, sizeof(a->key_id), "%s", au.credential);
    if (action == NULL || action[0] == '\0')
        return fail_missing(a, "Action");
    rc = check_version(a, emu_header_get(req, "x-acs-version"));
    if (rc)
        return rc < 0 ? rc : 0;
    rc = v3_check_unsigned(req, &au, a);
    if (rc)
        return rc < 0 ? rc : 0;
    if (sha == NULL)
        return fail_incomplete(a, "Header x-acs-content-sha256 is "
                                  "required.");
    k = check_caller(v, a, au.credential, "x-acs-date",
                     emu_header_get(req, "x-acs-date"), nonce,
                     emu_header_get(req, "x-acs-security-token"), now_ms,
                     mk, &rc);
    if (k == NULL)
        return rc;
    hdrs = calloc(req->nheaders + 1, sizeof(*hdrs));
    if (hdrs == NULL)
        return ORCH_ENOMEM;
    rc = v3_signed_headers(req, &au, a, hdrs, &nh);
    if (rc == 0)
        rc = v3_compare(req, query, hdrs, nh, &au, k, sha, a);
    if (rc == 0 && a->sig_ok)
        rc = record_nonce(v, a, au.credential, nonce, now_ms);
    free(hdrs);
    return rc < 0 ? rc : 0;
}

int emu_verify_parsed(struct emu_verifier *v,
                      const struct emu_http_request *req, int64_t now_ms,
                      struct emu_auth *out)
{
    const char *authz = emu_header_get(req, "authorization");
    /* V3 signs the query only: a view of its first nquery parameters. */
    struct orch_params query = {out->params.v, out->nquery, out->nquery,
                                NULL};

    struct minted_key mk;
    int rc = 0;

    if (out->code[0])
        return 0;
    memset(&mk, 0, sizeof(mk));
    if (emu_authz_v3_fields(authz) != NULL)
        rc = verify_v3(v, req, emu_authz_v3_fields(authz), &query, now_ms,
                       &mk, out);
    else if (authz && authz[0] && !orch_params_get(&out->params, "Signature"))
        return fail_incomplete(out, "Unsupported Authorization algorithm.");
    else
        rc = verify_v2(v, req, now_ms, &mk, out);
    OPENSSL_cleanse(&mk, sizeof(mk));
    /* Authenticated, then authorized: the RAM policy is asked last (of
     * the account key for a temporary one). */
    if (rc == 0 && out->code[0] == '\0' &&
        ram_denies(v, out->quota_key, out->action))
        rc = emu_auth_fail(out, 400, "Forbidden.RAM",
                           "User not authorized to operate on the specified "
                           "resource, or this API doesn't support RAM.");
    if (rc == 0 && out->code[0] == '\0' && out->temporary)
        emu_mint_count_call(v->mint, out->key_id);
    return rc;
}

int emu_verify_request(struct emu_verifier *v,
                       const struct emu_http_request *req, int64_t now_ms,
                       struct emu_auth *out)
{
    int rc = emu_verify_parse(req, out);

    if (rc)
        return rc;
    return emu_verify_parsed(v, req, now_ms, out);
}
