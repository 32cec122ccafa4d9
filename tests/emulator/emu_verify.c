/* emu_verify.c - gateway authentication for ota-emulator: V2 and V3
 * signatures, skew, nonce replay, STS tokens.
 *
 * DESIGN: emu_verify_request() is one straight pass over the request:
 * decode parameters, tell V2 from V3, check presence and shape of every
 * common part, look the key up, check the clock, recompute the signature
 * with orch_sign_v2()/orch_sign_v3() and compare in constant time, and only
 * then record the nonce. The first failure fills the verdict and stops.
 * The only shared mutable state is the nonce cache: a chained hash table of
 * "key\001nonce" plus a FIFO of the same entries in arrival order, so
 * expiring the oldest is O(1) per entry; one mutex guards both.
 */
#include "emu_verify.h"

#include "orch/base/codec.h"
#include "orch/base/err.h"

#include <openssl/crypto.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define V3_PREFIX "ACS3-HMAC-SHA256 "
#define EMPTY_SHA256                                                       \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct emu_key {
    char *id;
    char *secret; /* wiped on free */
    char *token;  /* STS token, NULL for a permanent key; wiped on free */
};

struct nonce_entry {
    struct nonce_entry *chain; /* next in the hash bucket */
    struct nonce_entry *fifo;  /* next younger entry */
    int64_t seen_ms;
    size_t hash;
    char key[]; /* "key_id\001nonce" */
};

/* A RAM policy that does not allow some actions to one key. */
struct emu_deny {
    char *id;
    char *actions; /* ",A,B," (commas around each), or ",*," for all */
};

struct emu_verifier {
    struct emu_key *keys;
    size_t nkeys;
    struct emu_deny *denies;
    size_t ndenies;
    pthread_mutex_t lock; /* guards the nonce cache below */
    struct nonce_entry **buckets;
    size_t nbuckets;
    size_t nentries;
    struct nonce_entry *oldest;
    struct nonce_entry *youngest;
};

void emu_auth_init(struct emu_auth *a)
{
    memset(a, 0, sizeof(*a));
    orch_params_init(&a->params);
    orch_buf_init(&a->message);
}

/* Frees the parameters (their array and the arena; see emu_verify.h). */
static void auth_params_free(struct emu_auth *a)
{
    free(a->params.v);
    free(a->arena);
    orch_params_init(&a->params);
    a->arena = NULL;
    a->nquery = 0;
}

void emu_auth_cleanup(struct emu_auth *a)
{
    if (a == NULL)
        return;
    auth_params_free(a);
    orch_buf_cleanup(&a->message);
}

struct emu_verifier *emu_verifier_new(void)
{
    struct emu_verifier *v = calloc(1, sizeof(*v));

    if (v == NULL)
        return NULL;
    v->nbuckets = 1024;
    v->buckets = calloc(v->nbuckets, sizeof(*v->buckets));
    if (v->buckets == NULL) {
        free(v);
        return NULL;
    }
    pthread_mutex_init(&v->lock, NULL);
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
    struct nonce_entry *e = NULL;
    struct nonce_entry *next = NULL;
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
    for (e = v->oldest; e != NULL; e = next) {
        next = e->fifo;
        free(e);
    }
    free(v->buckets);
    pthread_mutex_destroy(&v->lock);
    free(v);
}

size_t emu_verifier_key_count(const struct emu_verifier *v)
{
    return v ? v->nkeys : 0;
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

const char *emu_header_get(const struct emu_http_request *req,
                           const char *name)
{
    size_t i = 0;

    for (i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value ? req->headers[i].value : "";
    return NULL;
}

/* ---- the nonce cache ---- */

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603ULL; /* FNV-1a */

    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

static void nonce_expire(struct emu_verifier *v, int64_t now_ms)
{
    while (v->oldest && v->oldest->seen_ms + EMU_VERIFY_WINDOW_MS <= now_ms) {
        struct nonce_entry *e = v->oldest;
        struct nonce_entry **pp = &v->buckets[e->hash % v->nbuckets];

        while (*pp != e)
            pp = &(*pp)->chain;
        *pp = e->chain;
        v->oldest = e->fifo;
        if (v->oldest == NULL)
            v->youngest = NULL;
        v->nentries--;
        free(e);
    }
}

static void nonce_grow(struct emu_verifier *v)
{
    size_t n = v->nbuckets * 4;
    struct nonce_entry **b = calloc(n, sizeof(*b));
    struct nonce_entry *e = NULL;

    /* Without memory we simply keep the longer chains. */
    if (b == NULL)
        return;
    for (e = v->oldest; e != NULL; e = e->fifo) {
        e->chain = b[e->hash % n];
        b[e->hash % n] = e;
    }
    free(v->buckets);
    v->buckets = b;
    v->nbuckets = n;
}

/* Records key_id/nonce at now_ms. Returns 0, 1 when it was already seen
 * within the window, or ORCH_ENOMEM. */
static int nonce_check_and_record(struct emu_verifier *v, const char *key_id,
                                  const char *nonce, int64_t now_ms)
{
    size_t klen = strlen(key_id);
    size_t nlen = strlen(nonce);
    struct nonce_entry *e = malloc(sizeof(*e) + klen + nlen + 2);
    struct nonce_entry *p = NULL;
    int rc = 0;

    if (e == NULL)
        return ORCH_ENOMEM;
    memcpy(e->key, key_id, klen);
    e->key[klen] = '\001';
    memcpy(e->key + klen + 1, nonce, nlen + 1);
    e->hash = hash_str(e->key);
    e->seen_ms = now_ms;
    e->fifo = NULL;
    pthread_mutex_lock(&v->lock);
    nonce_expire(v, now_ms);
    for (p = v->buckets[e->hash % v->nbuckets]; p != NULL; p = p->chain)
        if (p->hash == e->hash && strcmp(p->key, e->key) == 0)
            break;
    if (p != NULL) {
        rc = 1;
        free(e);
    } else {
        e->chain = v->buckets[e->hash % v->nbuckets];
        v->buckets[e->hash % v->nbuckets] = e;
        if (v->youngest)
            v->youngest->fifo = e;
        else
            v->oldest = e;
        v->youngest = e;
        if (++v->nentries > 2 * v->nbuckets)
            nonce_grow(v);
    }
    pthread_mutex_unlock(&v->lock);
    return rc;
}

/* ---- verdict helpers ---- */

/* Sets the error verdict. Returns 0 or ORCH_ENOMEM (from the message). */
static int fail(struct emu_auth *a, int status, const char *code,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct emu_auth *a, int status, const char *code,
                const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    a->http_status = status;
    snprintf(a->code, sizeof(a->code), "%s", code);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    orch_buf_reset(&a->message);
    return orch_buf_puts(&a->message, msg);
}

static int fail_missing(struct emu_auth *a, const char *param)
{
    char code[64];

    snprintf(code, sizeof(code), "Missing%s", param);
    return fail(a, 400, code, "%s is mandatory for this action.", param);
}

static int fail_incomplete(struct emu_auth *a, const char *why)
{
    return fail(a, 400, "IncompleteSignature",
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

/* Checks a Timestamp / x-acs-date value against the clock. Returns 1 when
 * the verdict was set (rejected), 0 when fine, or ORCH_ENOMEM. */
static int check_time(struct emu_auth *a, const char *name, const char *val,
                      int64_t now_ms)
{
    int64_t t = 0;
    int64_t skew = 0;
    int rc = 0;

    if (val == NULL || val[0] == '\0') {
        rc = fail(a, 400, "IllegalTimestamp",
                  "The input parameter \"%s\" that is mandatory for "
                  "processing this request is not supplied.",
                  name);
        return rc ? rc : 1;
    }
    if (parse_acs_time(val, &t) != 0) {
        rc = fail(a, 400, "IllegalTimestamp",
                  "Specified parameter %s is not valid.", name);
        return rc ? rc : 1;
    }
    skew = t > now_ms ? t - now_ms : now_ms - t;
    if (skew > EMU_VERIFY_WINDOW_MS) {
        rc = fail(a, 400, "InvalidTimeStamp.Expired",
                  "Specified time stamp or date value is expired.");
        return rc ? rc : 1;
    }
    return 0;
}

static int check_version(struct emu_auth *a, const char *version)
{
    int rc = 0;

    if (version == NULL || version[0] == '\0') {
        rc = fail_missing(a, "Version");
        return rc ? rc : 1;
    }
    if (strcmp(version, "2018-01-20") != 0
        && strcmp(version, "2022-01-01") != 0) {
        rc = fail(a, 400, "InvalidVersion",
                  "Specified parameter Version is not valid.");
        return rc ? rc : 1;
    }
    return 0;
}

/* The STS rule shared by V2 and V3. Returns 1 when rejected. */
static int check_token(struct emu_auth *a, const struct emu_key *k,
                       const char *token)
{
    int rc = 0;

    if (k->token == NULL && token == NULL)
        return 0;
    if (k->token != NULL && (token == NULL || token[0] == '\0')) {
        rc = fail_missing(a, "SecurityToken");
        return rc ? rc : 1;
    }
    if (k->token == NULL || !orch_str_equal_ct(k->token, token)) {
        rc = fail(a, 400, "InvalidSecurityToken.MismatchWithAccessKey",
                  "Specified SecurityToken mismatch with the AccessKey.");
        return rc ? rc : 1;
    }
    return 0;
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

static int is_form(const struct emu_http_request *req)
{
    const char *ct = emu_header_get(req, "content-type");

    return ct != NULL
        && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
}

/* ---- V2 ---- */

static int verify_v2(struct emu_verifier *v,
                     const struct emu_http_request *req, int64_t now_ms,
                     struct emu_auth *a)
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
    k = find_key(v, key_id);
    if (k == NULL)
        return fail(a, 404, "InvalidAccessKeyId.NotFound",
                    "Specified access key is not found.");
    rc = check_time(a, "Timestamp", orch_params_get(p, "Timestamp"), now_ms);
    if (rc)
        return rc < 0 ? rc : 0;
    if (nonce == NULL || nonce[0] == '\0')
        return fail_missing(a, "SignatureNonce");
    rc = check_token(a, k, orch_params_get(p, "SecurityToken"));
    if (rc)
        return rc < 0 ? rc : 0;
    rc = orch_sign_v2(p, req->method, k->secret, mine, &sts);
    if (rc)
        goto out;
    if (!orch_str_equal_ct(mine, sig)) {
        rc = fail_mismatch(a, &sts, NULL);
        goto out;
    }
    OPENSSL_cleanse(mine, sizeof(mine));
    a->sig_ok = true;
    rc = nonce_check_and_record(v, key_id, nonce, now_ms);
    if (rc == 1)
        rc = fail(a, 400, "SignatureNonceUsed",
                  "Specified signature nonce was used already.");
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

/* Copies the value of "name=" from the comma-separated Authorization
 * fields into out. Returns 0, or -1 when absent, empty or too long. */
static int auth_field(const char *fields, const char *name, char *out,
                      size_t outlen)
{
    size_t nlen = strlen(name);
    const char *p = fields;

    while (*p) {
        const char *end = strchr(p, ',');
        size_t flen = end ? (size_t)(end - p) : strlen(p);

        while (*p == ' ' && flen > 0) {
            p++;
            flen--;
        }
        if (flen > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            size_t vlen = flen - nlen - 1;

            if (vlen == 0 || vlen >= outlen)
                return -1;
            memcpy(out, p + nlen + 1, vlen);
            out[vlen] = '\0';
            return 0;
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    return -1;
}

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

static int verify_v3(struct emu_verifier *v,
                     const struct emu_http_request *req, const char *authz,
                     const struct orch_params *query, int64_t now_ms,
                     struct emu_auth *a)
{
    const char *fields = authz + strlen(V3_PREFIX);
    const char *action = emu_header_get(req, "x-acs-action");
    const char *sha = emu_header_get(req, "x-acs-content-sha256");
    const char *nonce = emu_header_get(req, "x-acs-signature-nonce");
    const struct emu_key *k = NULL;
    struct v3_auth au;
    struct orch_header *hdrs = NULL;
    size_t nh = 0;
    size_t i = 0;
    char body_sha[65];
    struct orch_v3_input in;
    struct orch_buf mine;
    struct orch_buf creq;
    struct orch_buf sts;
    const char *mysig = NULL;
    char why[256];
    int rc = 0;

    orch_buf_init(&mine);
    orch_buf_init(&creq);
    orch_buf_init(&sts);
    a->sigver = 3;
    memset(&au, 0, sizeof(au));
    snprintf(a->action, sizeof(a->action), "%s", action ? action : "");
    if (auth_field(fields, "Credential", au.credential,
                   sizeof(au.credential))
            != 0
        || auth_field(fields, "SignedHeaders", au.signed_headers,
                      sizeof(au.signed_headers))
               != 0
        || auth_field(fields, "Signature", au.signature,
                      sizeof(au.signature))
               != 0)
        return fail_incomplete(a, "Authorization needs Credential, "
                                  "SignedHeaders and Signature.");
    snprintf(a->key_id, sizeof(a->key_id), "%s", au.credential);
    if (action == NULL || action[0] == '\0')
        return fail_missing(a, "Action");
    rc = check_version(a, emu_header_get(req, "x-acs-version"));
    if (rc)
        return rc < 0 ? rc : 0;
    /* Every host, content-type and x-acs-* header present must be signed,
     * and every signed header must be present. */
    for (i = 0; i < req->nheaders; i++) {
        if (must_be_signed(req->headers[i].name)
            && !in_signed(au.signed_headers, req->headers[i].name)) {
            snprintf(why, sizeof(why),
                     "Header %s is present but not in SignedHeaders.",
                     req->headers[i].name);
            return fail_incomplete(a, why);
        }
    }
    if (sha == NULL)
        return fail_incomplete(a, "Header x-acs-content-sha256 is "
                                  "required.");
    k = find_key(v, au.credential);
    if (k == NULL)
        return fail(a, 404, "InvalidAccessKeyId.NotFound",
                    "Specified access key is not found.");
    rc = check_time(a, "x-acs-date", emu_header_get(req, "x-acs-date"),
                    now_ms);
    if (rc)
        return rc < 0 ? rc : 0;
    if (nonce == NULL || nonce[0] == '\0')
        return fail_missing(a, "SignatureNonce");
    rc = check_token(a, k, emu_header_get(req, "x-acs-security-token"));
    if (rc)
        return rc < 0 ? rc : 0;

    /* The signed headers, with the values received. */
    hdrs = calloc(req->nheaders + 1, sizeof(*hdrs));
    if (hdrs == NULL)
        return ORCH_ENOMEM;
    {
        const char *p = au.signed_headers;

        while (*p) {
            const char *end = strchr(p, ';');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            char name[128];
            const char *val = NULL;

            if (len == 0 || len >= sizeof(name) || nh >= req->nheaders) {
                rc = fail_incomplete(a, "SignedHeaders is malformed.");
                goto out;
            }
            memcpy(name, p, len);
            name[len] = '\0';
            val = emu_header_get(req, name);
            if (val == NULL) {
                snprintf(why, sizeof(why),
                         "Signed header %s is not in the request.", name);
                rc = fail_incomplete(a, why);
                goto out;
            }
            /* Point at the request's own name so the list outlives `name`. */
            for (i = 0; i < req->nheaders; i++)
                if (strcasecmp(req->headers[i].name, name) == 0)
                    break;
            hdrs[nh].name = req->headers[i].name;
            hdrs[nh].value = val;
            nh++;
            if (end == NULL)
                break;
            p = end + 1;
        }
    }
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
    rc = orch_sign_v3(&in, au.credential, k->secret, &mine, &creq, &sts);
    if (rc == ORCH_EINVAL) {
        rc = fail_incomplete(a, "SignedHeaders is malformed.");
        goto out;
    }
    if (rc)
        goto out;
    mysig = strstr(orch_buf_str(&mine), ",Signature=");
    if (mysig == NULL || strcmp(sha, body_sha) != 0
        || !orch_str_equal_ct(mysig + 11, au.signature)) {
        rc = fail_mismatch(a, &sts, &creq);
        goto out;
    }
    a->sig_ok = true;
    rc = nonce_check_and_record(v, au.credential, nonce, now_ms);
    if (rc == 1)
        rc = fail(a, 400, "SignatureNonceUsed",
                  "Specified signature nonce was used already.");
out:
    if (mine.data)
        OPENSSL_cleanse(mine.data, mine.len);
    orch_buf_cleanup(&mine);
    orch_buf_cleanup(&creq);
    orch_buf_cleanup(&sts);
    free(hdrs);
    return rc;
}

/* ---- parsing ---- */

/* Decodes the form-encoded s[0..len) into w ('+' is a space) and
 * NUL-terminates it. Returns the decoded length, or -1 for a bad %XX
 * escape or a decoded NUL (names and values are C strings: truncating
 * silently would let signer and verifier see different values), the
 * rules of orch_params_parse(). */
static long decode_into(char *w, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    char *start = w;
    size_t i = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = p[i];

        if (c == '%') {
            int hi = i + 2 < len ? orch_hex_digit(p[i + 1]) : -1;
            int lo = hi >= 0 ? orch_hex_digit(p[i + 2]) : -1;

            if (lo < 0 || (hi | lo) == 0)
                return -1;
            *w++ = (char)((hi << 4) | lo);
            i += 2;
        } else {
            *w++ = c == '+' ? ' ' : (char)c;
        }
    }
    *w = '\0';
    return (long)(w - start);
}

/* How many parameters s[0..len) may hold: one per '&'-separated part. */
static size_t count_parts(const char *s, size_t len)
{
    const char *end = s + len;
    size_t n = 0;

    if (len == 0)
        return 0;
    for (n = 1; (s = memchr(s, '&', (size_t)(end - s))) != NULL; s++)
        n++;
    return n;
}

/* Appends the parameters of the form-encoded s[0..len) to a->params,
 * decoding into a->arena at *used. Empty parts ("a=1&&b=2") carry none; a
 * part without '=' has the empty value. Returns 0 or ORCH_EINVAL (bad
 * escape; a->params then holds the parameters before it). */
static int parse_part(struct emu_auth *a, const char *s, size_t len,
                      size_t *used)
{
    size_t i = 0;

    while (i < len) {
        const char *seg = s + i;
        const char *amp = memchr(seg, '&', len - i);
        size_t seglen = amp ? (size_t)(amp - seg) : len - i;
        const char *eq = memchr(seg, '=', seglen);
        size_t nlen = eq ? (size_t)(eq - seg) : seglen;
        char *name = a->arena + *used;
        char *value = NULL;
        long n = 0;

        i += seglen + 1;
        if (seglen == 0)
            continue;
        n = decode_into(name, seg, nlen);
        if (n < 0)
            return ORCH_EINVAL;
        value = name + n + 1;
        n = eq ? decode_into(value, eq + 1, seglen - nlen - 1) : 0;
        if (n < 0)
            return ORCH_EINVAL;
        if (!eq)
            value[0] = '\0';
        *used = (size_t)(value + n + 1 - a->arena);
        a->params.v[a->params.n].name = name;
        a->params.v[a->params.n].value = value;
        a->params.n++;
    }
    return 0;
}

/* Decodes the query and a form body into out->params (query first; see
 * nquery) with one arena for every name and value, and fills sigver,
 * action and key_id as sent. Returns 0 (a bad escape sets the
 * InvalidParameter verdict) or ORCH_ENOMEM. */
static int parse_request(const struct emu_http_request *req,
                         struct emu_auth *out)
{
    const char *authz = emu_header_get(req, "authorization");
    size_t qlen = req->query ? strlen(req->query) : 0;
    size_t blen = req->body_len > 0 && is_form(req) ? req->body_len : 0;
    size_t nparts = count_parts(req->query, qlen)
                  + count_parts(req->body, blen);
    size_t used = 0;
    const char *s = NULL;
    int rc = 0;

    auth_params_free(out);
    /* A part of L bytes decodes to at most L + 2 (two NULs, no '='). */
    out->arena = malloc(qlen + blen + 2 * nparts + 1);
    out->params.v = malloc((nparts ? nparts : 1) * sizeof(*out->params.v));
    if (out->arena == NULL || out->params.v == NULL) {
        auth_params_free(out);
        return ORCH_ENOMEM;
    }
    out->params.cap = nparts;
    rc = parse_part(out, req->query, qlen, &used);
    if (rc)
        return fail(out, 400, "InvalidParameter",
                    "The query string has a malformed escape.");
    out->nquery = out->params.n;
    rc = parse_part(out, req->body, blen, &used);
    if (rc)
        return fail(out, 400, "InvalidParameter",
                    "The form body has a malformed escape.");
    if (authz && strncmp(authz, V3_PREFIX, strlen(V3_PREFIX)) == 0) {
        out->sigver = 3;
        s = emu_header_get(req, "x-acs-action");
        snprintf(out->action, sizeof(out->action), "%s", s ? s : "");
        if (auth_field(authz + strlen(V3_PREFIX), "Credential", out->key_id,
                       sizeof(out->key_id))
            != 0)
            out->key_id[0] = '\0';
    } else {
        out->sigver = 2;
        s = orch_params_get(&out->params, "Action");
        snprintf(out->action, sizeof(out->action), "%s", s ? s : "");
        s = orch_params_get(&out->params, "AccessKeyId");
        snprintf(out->key_id, sizeof(out->key_id), "%s", s ? s : "");
    }
    return 0;
}

int emu_verify_parse(const struct emu_http_request *req, struct emu_auth *out)
{
    out->sig_ok = false;
    out->http_status = 0;
    out->code[0] = '\0';
    orch_buf_reset(&out->message);
    return parse_request(req, out);
}

int emu_verify_parsed(struct emu_verifier *v,
                      const struct emu_http_request *req, int64_t now_ms,
                      struct emu_auth *out)
{
    const char *authz = emu_header_get(req, "authorization");
    /* V3 signs the query only: a view of its first nquery parameters. */
    struct orch_params query = {out->params.v, out->nquery, out->nquery,
                                NULL};

    int rc = 0;

    if (out->code[0])
        return 0;
    if (authz && strncmp(authz, V3_PREFIX, strlen(V3_PREFIX)) == 0)
        rc = verify_v3(v, req, authz, &query, now_ms, out);
    else if (authz && authz[0] && !orch_params_get(&out->params, "Signature"))
        return fail_incomplete(out, "Unsupported Authorization algorithm.");
    else
        rc = verify_v2(v, req, now_ms, out);
    /* Authenticated, then authorized: the RAM policy is asked last. */
    if (rc == 0 && out->code[0] == '\0' &&
        ram_denies(v, out->key_id, out->action))
        rc = fail(out, 400, "Forbidden.RAM",
                  "User not authorized to operate on the specified "
                  "resource, or this API doesn't support RAM.");
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
