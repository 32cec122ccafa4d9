/* emu_request.c - decoding an API request's parameters (query and form
 * body) into one arena, and the verdict helpers the gateway's checks
 * share.
 */
#include "gateway/emu_request.h"

#include "orch/base/codec.h"
#include "orch/base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

const char *emu_header_get(const struct emu_http_request *req,
                           const char *name)
{
    size_t i = 0;

    for (i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value ? req->headers[i].value : "";
    return NULL;
}

int emu_auth_fail(struct emu_auth *a, int status, const char *code,
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

const char *emu_authz_v3_fields(const char *authz)
{
    if (authz == NULL || strncmp(authz, EMU_V3_PREFIX,
                                 strlen(EMU_V3_PREFIX)) != 0)
        return NULL;
    return authz + strlen(EMU_V3_PREFIX);
}

int emu_authz_field(const char *fields, const char *name, char *out,
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

static int is_form(const struct emu_http_request *req)
{
    const char *ct = emu_header_get(req, "content-type");

    return ct != NULL
        && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
}

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
 * nquery) with one arena for every name and value. Returns 0 (a bad
 * escape sets the InvalidParameter verdict) or ORCH_ENOMEM. */
static int decode_params(const struct emu_http_request *req,
                         struct emu_auth *out)
{
    size_t qlen = req->query ? strlen(req->query) : 0;
    size_t blen = req->body_len > 0 && is_form(req) ? req->body_len : 0;
    size_t nparts = count_parts(req->query, qlen)
                  + count_parts(req->body, blen);
    size_t used = 0;
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
        return emu_auth_fail(out, 400, "InvalidParameter",
                             "The query string has a malformed escape.");
    out->nquery = out->params.n;
    rc = parse_part(out, req->body, blen, &used);
    if (rc)
        return emu_auth_fail(out, 400, "InvalidParameter",
                             "The form body has a malformed escape.");
    return 0;
}

/* Fills sigver, action and key_id as sent: V3 from the Authorization
 * header and x-acs-action, else V2 from the parameters. */
static void identify(const struct emu_http_request *req, struct emu_auth *out)
{
    const char *fields =
        emu_authz_v3_fields(emu_header_get(req, "authorization"));
    const char *s = NULL;

    if (fields) {
        out->sigver = 3;
        s = emu_header_get(req, "x-acs-action");
        snprintf(out->action, sizeof(out->action), "%s", s ? s : "");
        if (emu_authz_field(fields, "Credential", out->key_id,
                            sizeof(out->key_id)) != 0)
            out->key_id[0] = '\0';
    } else {
        out->sigver = 2;
        s = orch_params_get(&out->params, "Action");
        snprintf(out->action, sizeof(out->action), "%s", s ? s : "");
        s = orch_params_get(&out->params, "AccessKeyId");
        snprintf(out->key_id, sizeof(out->key_id), "%s", s ? s : "");
    }
}

int emu_verify_parse(const struct emu_http_request *req, struct emu_auth *out)
{
    int rc = 0;

    out->sig_ok = false;
    out->http_status = 0;
    out->code[0] = '\0';
    orch_buf_reset(&out->message);
    rc = decode_params(req, out);
    if (rc == 0 && out->code[0] == '\0')
        identify(req, out);
    return rc;
}
