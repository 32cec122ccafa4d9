/* request.c - turns an action and its parameters into a signed HTTP request
 * (URL, headers, body) for http.c.
 *
 * DESIGN: pure; nonce and time come from the caller. The parameters are
 * encoded in sorted (canonical) order, which is what both signers hash, so
 * the bytes on the wire are the bytes that were signed. The request's
 * buffers are reset, not freed, between builds so that a retried transfer
 * reuses its storage. The secret is handed to sign.c and never written to
 * the request.
 */
#include "orch/cloud/request.h"

#include "orch/base/buf.h"
#include "orch/base/codec.h"
#include "orch/cloud/credentials.h"
#include "orch/cloud/credlive.h"
#include "orch/base/err.h"
#include "orch/cloud/params.h"
#include "orch/cloud/sign.h"

#include <openssl/crypto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FORM_CONTENT_TYPE "application/x-www-form-urlencoded"

void orch_request_init(struct orch_request *req)
{
    size_t i = 0;

    orch_buf_init(&req->url);
    orch_buf_init(&req->body);
    for (i = 0; i < ORCH_REQ_MAX_HEADERS; i++)
        orch_buf_init(&req->headers[i]);
    req->nheaders = 0;
    req->key_id[0] = '\0';
}

void orch_request_cleanup(struct orch_request *req)
{
    size_t i = 0;

    if (req == NULL)
        return;
    orch_buf_cleanup(&req->url);
    orch_buf_cleanup(&req->body);
    for (i = 0; i < ORCH_REQ_MAX_HEADERS; i++)
        orch_buf_cleanup(&req->headers[i]);
    req->nheaders = 0;
}

void orch_format_iso8601(char out[21], int64_t epoch_ms)
{
    /* Floor division, so that times before 1970 round down too. */
    int64_t secs = epoch_ms / 1000 - (epoch_ms % 1000 < 0 ? 1 : 0);
    time_t t = (time_t)secs;
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL ||
        strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) != 20)
        memcpy(out, "1970-01-01T00:00:00Z", 21);
}

/* 1 if s holds a byte that would break a header line (CR, LF, NUL is
 * impossible in a C string) or the URL. */
static int has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* Splits "scheme://authority[/]" into base (scheme://authority, without a
 * trailing slash) and authority (host[:port]). Anything else is
 * ORCH_EINVAL: a path, query, userinfo or whitespace has no place in an
 * RPC endpoint. */
static int parse_endpoint(const char *endpoint, struct orch_buf *base,
                          struct orch_buf *authority)
{
    const char *auth = NULL;
    size_t alen = 0;
    size_t i = 0;
    int rc = 0;

    if (strncmp(endpoint, "https://", 8) == 0)
        auth = endpoint + 8;
    else if (strncmp(endpoint, "http://", 7) == 0)
        auth = endpoint + 7;
    else
        return ORCH_EINVAL;
    alen = strcspn(auth, "/");
    if (alen == 0 || auth[0] == ':')
        return ORCH_EINVAL;
    if (auth[alen] == '/' && auth[alen + 1] != '\0')
        return ORCH_EINVAL;
    for (i = 0; i < alen; i++) {
        unsigned char c = (unsigned char)auth[i];

        if (c <= 0x20 || c >= 0x7f || c == '@' || c == '?' || c == '#')
            return ORCH_EINVAL;
    }
    rc = orch_buf_append(authority, auth, alen);
    if (rc)
        return rc;
    return orch_buf_append(base, endpoint, (size_t)(auth - endpoint) + alen);
}

/* Appends a "name: value" line as the next header of req. */
static int add_header(struct orch_request *req, const char *name,
                      const char *value)
{
    struct orch_buf *h = NULL;
    int rc = 0;

    if (req->nheaders >= ORCH_REQ_MAX_HEADERS)
        return ORCH_EINVAL;
    h = &req->headers[req->nheaders];
    orch_buf_reset(h);
    rc = orch_buf_puts(h, name);
    if (!rc)
        rc = orch_buf_puts(h, ": ");
    if (!rc)
        rc = orch_buf_puts(h, value);
    if (rc)
        return rc;
    req->nheaders++;
    return 0;
}

static int build_v3(struct orch_request *req,
                    const struct orch_request_input *in, const char *authority,
                    const char *date)
{
    const struct orch_credentials *cred = in->cred;
    struct orch_header hdr[10];
    struct orch_v3_input v3;
    struct orch_params view;
    struct orch_buf auth;
    char payload_hash[65];
    size_t nh = 0;
    size_t i = 0;
    size_t qoff = 0;
    int rc = 0;

    orch_buf_init(&auth);
    memset(&v3, 0, sizeof(v3));
    rc = orch_params_sorted_view(in->params, NULL, &view);
    if (rc)
        goto out;
    if (in->form_body) {
        rc = orch_params_encode(&view, &req->body);
        if (!rc)
            rc = orch_buf_putc(&req->url, '/');
    } else {
        rc = orch_buf_puts(&req->url, view.n ? "/?" : "/");
        qoff = req->url.len;
        if (!rc)
            rc = orch_params_encode(&view, &req->url);
    }
    if (rc)
        goto out;
    rc = orch_sha256_hex(payload_hash, orch_buf_str(&req->body), req->body.len);
    if (rc)
        goto out;

    hdr[nh++] = (struct orch_header){"host", authority};
    hdr[nh++] = (struct orch_header){"x-acs-action", in->action};
    hdr[nh++] = (struct orch_header){"x-acs-version", ORCH_API_VERSION};
    hdr[nh++] = (struct orch_header){"x-acs-date", date};
    hdr[nh++] = (struct orch_header){"x-acs-signature-nonce", in->nonce};
    hdr[nh++] = (struct orch_header){"x-acs-content-sha256", payload_hash};
    if (cred->token.s) {
        hdr[nh++] = (struct orch_header){"x-acs-security-token", cred->token.s};
        /* The official Node SDK adds this next to the token; it is signed
         * like every x-acs-* header. */
        hdr[nh++] =
            (struct orch_header){"x-acs-accesskey-id", cred->access_key_id};
    }
    if (in->form_body)
        hdr[nh++] = (struct orch_header){"content-type", FORM_CONTENT_TYPE};

    v3.method = "POST";
    v3.path = "/";
    v3.query = in->form_body ? NULL : &view;
    /* The URL's query is the canonical query: sorted, encoded once. */
    if (!in->form_body) {
        v3.canonical_query = orch_buf_str(&req->url) + qoff;
        v3.canonical_query_len = req->url.len - qoff;
    }
    v3.headers = hdr;
    v3.nheaders = nh;
    v3.hashed_payload = payload_hash;
    rc = orch_sign_v3(&v3, cred->access_key_id, cred->secret.s, &auth, NULL,
                      NULL);
    if (rc)
        goto out;

    for (i = 0; !rc && i < nh; i++)
        rc = add_header(req, hdr[i].name, hdr[i].value);
    if (!rc)
        rc = add_header(req, "accept", "application/json");
    if (!rc)
        rc = add_header(req, "Authorization", orch_buf_str(&auth));
out:
    orch_buf_cleanup(&auth);
    free(view.v);
    return rc;
}

/* Appends a borrowed name/value to a view made by build_v2 (room for it
 * was reserved; the strings are not copied and not freed). */
static void view_add(struct orch_params *view, const char *name,
                     const char *value)
{
    /* The casts drop const only for the struct's sake: a view's strings are
     * never written or freed. */
    view->v[view->n].name = (char *)name;
    view->v[view->n].value = (char *)value;
    view->n++;
}

/* The common parameters of a V2 call into `all` (room reserved by the
 * caller), borrowed from `in` and date. */
static void v2_common(struct orch_params *all,
                      const struct orch_request_input *in, const char *date)
{
    const struct orch_credentials *cred = in->cred;

    view_add(all, "Action", in->action);
    view_add(all, "Version", in->version ? in->version : ORCH_API_VERSION);
    view_add(all, "Format", "JSON");
    view_add(all, "AccessKeyId", cred->access_key_id);
    view_add(all, "SignatureMethod", "HMAC-SHA1");
    view_add(all, "SignatureVersion", "1.0");
    view_add(all, "SignatureNonce", in->nonce);
    view_add(all, "Timestamp", date);
    if (cred->token.s)
        view_add(all, "SecurityToken", cred->token.s);
}

/* Appends the canonical pairs of `p` (sorted), then "&Signature=<sig>",
 * to out: Signature goes last, as pop-core does. */
static int put_signed(struct orch_buf *out, const struct orch_params *p,
                      const char *sig)
{
    int rc = orch_params_encode(p, out);

    if (!rc)
        rc = orch_buf_puts(out, "&Signature=");
    if (!rc)
        rc = orch_percent_encode(out, sig, strlen(sig));
    return rc;
}

static int build_v2(struct orch_request *req,
                    const struct orch_request_input *in, const char *authority,
                    const char *date)
{
    size_t nparams = in->params ? in->params->n : 0;
    struct orch_params all;
    struct orch_params common;
    struct orch_params action;
    char sig[ORCH_SIGN_V2_LEN];
    size_t i = 0;
    int rc = 0;

    /* Borrowed views (no string copies): the common parameters, then the
     * action's. Only the arrays are freed. */
    orch_params_init(&all);
    orch_params_init(&common);
    orch_params_init(&action);
    all.v = malloc((nparams + 9) * sizeof(*all.v));
    common.v = malloc(9 * sizeof(*common.v));
    if (all.v == NULL || common.v == NULL) {
        rc = ORCH_ENOMEM;
        goto out;
    }
    all.cap = nparams + 9;
    common.cap = 9;
    v2_common(&common, in, date);
    for (i = 0; i < common.n; i++)
        all.v[all.n++] = common.v[i];
    for (i = 0; i < nparams; i++)
        all.v[all.n++] = in->params->v[i];
    orch_params_sort(&all);
    rc = orch_sign_v2(&all, "POST", in->cred->secret.s, sig, NULL);
    if (rc)
        goto out;
    if (in->v2_query) {
        orch_params_sort(&common);
        rc = orch_buf_puts(&req->url, "/?");
        if (!rc)
            rc = put_signed(&req->url, &common, sig);
        if (!rc)
            rc = orch_params_sorted_view(in->params, NULL, &action);
        if (!rc)
            rc = orch_params_encode(&action, &req->body);
    } else {
        rc = put_signed(&req->body, &all, sig);
        if (!rc)
            rc = orch_buf_putc(&req->url, '/');
    }
    if (!rc)
        rc = add_header(req, "host", authority);
    if (!rc)
        rc = add_header(req, "content-type", FORM_CONTENT_TYPE);
    /* Unsigned in V2; the official clients send them and they help logs. */
    if (!rc)
        rc = add_header(req, "x-acs-action", in->action);
    if (!rc)
        rc = add_header(req, "x-acs-version",
                        in->version ? in->version : ORCH_API_VERSION);
    if (!rc)
        rc = add_header(req, "accept", "application/json");
out:
    OPENSSL_cleanse(sig, sizeof(sig));
    free(all.v);
    free(common.v);
    free(action.v);
    return rc;
}

/* 1 when a signed request's inputs are complete and hold nothing that
 * would break a header line or the URL. */
static int signed_input_ok(const struct orch_request_input *in)
{
    const struct orch_credentials *cred = in->cred;

    if (in->signature_version != 2 && in->signature_version != 3)
        return 0;
    if (in->nonce == NULL || in->nonce[0] == '\0' || cred == NULL ||
        cred->access_key_id == NULL || cred->secret.s == NULL)
        return 0;
    return !has_ctl(in->nonce) && !has_ctl(cred->access_key_id) &&
           !(cred->token.s && has_ctl(cred->token.s));
}

/* Unsigned (STS AssumeRoleWithOIDC): Action, Version, Format and
 * Timestamp in the query, the action's parameters in the form body. */
static int build_unsigned(struct orch_request *req,
                          const struct orch_request_input *in,
                          const char *authority, const char *date)
{
    struct orch_params common;
    struct orch_params action;
    struct orch_param cv[4];
    int rc = 0;

    orch_params_init(&common);
    orch_params_init(&action);
    common.v = cv;
    common.cap = 4;
    view_add(&common, "Action", in->action);
    view_add(&common, "Version", in->version ? in->version : ORCH_API_VERSION);
    view_add(&common, "Format", "JSON");
    view_add(&common, "Timestamp", date);
    orch_params_sort(&common);
    rc = orch_buf_puts(&req->url, "/?");
    if (!rc)
        rc = orch_params_encode(&common, &req->url);
    if (!rc)
        rc = orch_params_sorted_view(in->params, NULL, &action);
    if (!rc)
        rc = orch_params_encode(&action, &req->body);
    if (!rc)
        rc = add_header(req, "host", authority);
    if (!rc)
        rc = add_header(req, "content-type", FORM_CONTENT_TYPE);
    if (!rc)
        rc = add_header(req, "accept", "application/json");
    free(action.v);
    return rc;
}

/* Builds with the credentials of in, which hold no live holder. */
static int build_signed(struct orch_request *req,
                        const struct orch_request_input *in);

/* Builds with the live holder's current set, borrowed under its lock for
 * as long as the signature takes (request.h). */
static int build_live(struct orch_request *req,
                      const struct orch_request_input *in)
{
    struct orch_credlive *live = in->cred->live;
    struct orch_request_input now_in = *in;
    struct orch_credentials view;
    int rc = orch_credlive_acquire(live, in->now_ms, &view, NULL);

    if (rc)
        return rc;
    now_in.cred = &view;
    rc = build_signed(req, &now_in);
    orch_credlive_release(live);
    return rc;
}

int orch_request_build(struct orch_request *req,
                       const struct orch_request_input *in)
{
    if (in != NULL && in->signature_version != 0 && in->cred != NULL &&
        in->cred->live != NULL)
        return build_live(req, in);
    return build_signed(req, in);
}

/* Empties req (keeping its buffers' memory) for a build, or after a
 * build that failed: no URL, body, header or key id is left. */
static void clear_request(struct orch_request *req)
{
    size_t i = 0;

    orch_buf_reset(&req->url);
    orch_buf_reset(&req->body);
    for (i = 0; i < req->nheaders; i++)
        orch_buf_reset(&req->headers[i]);
    req->nheaders = 0;
    req->key_id[0] = '\0';
}

static int build_signed(struct orch_request *req,
                        const struct orch_request_input *in)
{
    struct orch_buf authority;
    char date[21];
    int rc = 0;

    orch_buf_init(&authority);
    clear_request(req);

    if (in == NULL || in->endpoint == NULL || in->action == NULL ||
        in->action[0] == '\0' || has_ctl(in->action) ||
        (in->version && has_ctl(in->version)) ||
        (in->signature_version != 0 && !signed_input_ok(in))) {
        rc = ORCH_EINVAL;
        goto out;
    }
    rc = parse_endpoint(in->endpoint, &req->url, &authority);
    if (rc)
        goto out;
    orch_format_iso8601(date, in->now_ms);
    if (in->signature_version != 0)
        snprintf(req->key_id, sizeof(req->key_id), "%s",
                 in->cred->access_key_id);
    if (in->signature_version == 0)
        rc = build_unsigned(req, in, orch_buf_str(&authority), date);
    else if (in->signature_version == 2)
        rc = build_v2(req, in, orch_buf_str(&authority), date);
    else
        rc = build_v3(req, in, orch_buf_str(&authority), date);
out:
    if (rc)
        clear_request(req);
    orch_buf_cleanup(&authority);
    return rc;
}
