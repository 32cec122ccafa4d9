/* sign.c - Alibaba Cloud RPC V2 (HMAC-SHA1) and V3 (ACS3-HMAC-SHA256)
 * request signatures.
 *
 * DESIGN: both signers sort a shallow copy of the parameter list (pointers
 * only, no string copies), encode it once into a local buffer and hash that.
 * Everything is linear in the size of the request except the O(n log n)
 * sort, so a 200-device call costs a few microseconds. Nothing here keeps
 * state; the secret is only passed to HMAC and never copied.
 */
#include "orch/cloud/sign.h"

#include "orch/base/buf.h"
#include "orch/base/codec.h"
#include "orch/base/err.h"
#include "orch/cloud/params.h"

#include <openssl/crypto.h>

#include <stdlib.h>
#include <string.h>

#define V3_ALGORITHM "ACS3-HMAC-SHA256"

int orch_sign_v2(const struct orch_params *params, const char *method,
                 const char *secret, char out[ORCH_SIGN_V2_LEN],
                 struct orch_buf *string_to_sign)
{
    struct orch_params sorted;
    struct orch_buf query;
    struct orch_buf sts;
    struct orch_buf key;
    unsigned char mac[20];
    int rc = 0;

    orch_buf_init(&query);
    orch_buf_init(&sts);
    orch_buf_init(&key);
    out[0] = '\0';
    rc = orch_params_sorted_view(params, "Signature", &sorted);
    if (rc)
        goto out;
    rc = orch_params_encode(&sorted, &query);
    if (rc)
        goto out;
    /* method & percent("/") & percent(canonical query) */
    rc = orch_buf_reserve(&sts, strlen(method) + 5 + 3 * query.len);
    if (rc)
        goto out;
    rc = orch_buf_puts(&sts, method);
    if (rc)
        goto out;
    rc = orch_buf_puts(&sts, "&%2F&");
    if (rc)
        goto out;
    rc = orch_percent_encode(&sts, orch_buf_str(&query), query.len);
    if (rc)
        goto out;
    /* The V2 key is the secret followed by '&'. */
    rc = orch_buf_puts(&key, secret);
    if (rc)
        goto out;
    rc = orch_buf_putc(&key, '&');
    if (rc)
        goto out;
    rc = orch_hmac_sha1(mac, key.data, key.len, sts.data, sts.len);
    if (rc)
        goto out;
    orch_base64_encode(out, mac, sizeof(mac));
    if (string_to_sign) {
        rc = orch_buf_append(string_to_sign, sts.data, sts.len);
        if (rc)
            goto out;
    }
out:
    OPENSSL_cleanse(mac, sizeof(mac));
    if (key.data)
        OPENSSL_cleanse(key.data, key.cap);
    orch_buf_cleanup(&key);
    orch_buf_cleanup(&sts);
    orch_buf_cleanup(&query);
    free(sorted.v);
    if (rc)
        out[0] = '\0';
    return rc;
}

/* One header prepared for V3: name and trimmed value, both borrowed. The
 * name is lower-cased when it is written out. */
struct canon_header {
    const char *name;
    size_t nlen;
    const char *value;
    size_t vlen;
};

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Byte order of the lower-cased names (ASCII only, whatever the locale). */
static int canon_header_cmp(const void *a, const void *b)
{
    const struct canon_header *x = a;
    const struct canon_header *y = b;
    size_t n = x->nlen < y->nlen ? x->nlen : y->nlen;
    size_t i = 0;

    for (i = 0; i < n; i++) {
        unsigned char cx = lower((unsigned char)x->name[i]);
        unsigned char cy = lower((unsigned char)y->name[i]);

        if (cx != cy)
            return cx < cy ? -1 : 1;
    }
    return x->nlen < y->nlen ? -1 : x->nlen > y->nlen;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trims h's value into c. ORCH_EINVAL for an empty name. */
static int canon_header_make(struct canon_header *c,
                             const struct orch_header *h)
{
    const char *v = h->value ? h->value : "";
    size_t vlen = 0;

    if (h->name == NULL || h->name[0] == '\0')
        return ORCH_EINVAL;
    c->name = h->name;
    c->nlen = strlen(h->name);
    while (is_blank(*v))
        v++;
    vlen = strlen(v);
    while (vlen > 0 && is_blank(v[vlen - 1]))
        vlen--;
    c->value = v;
    c->vlen = vlen;
    return 0;
}

/* Appends the lower-cased name of c to b. */
static int put_lower_name(struct orch_buf *b, const struct canon_header *c)
{
    size_t start = b->len;
    size_t i = 0;
    int rc = orch_buf_append(b, c->name, c->nlen);

    if (rc)
        return rc;
    for (i = start; i < b->len; i++)
        b->data[i] = (char)lower((unsigned char)b->data[i]);
    return 0;
}

int orch_sign_v3(const struct orch_v3_input *in, const char *key_id,
                 const char *secret, struct orch_buf *authorization,
                 struct orch_buf *canonical_request,
                 struct orch_buf *string_to_sign)
{
    struct canon_header stackhdr[16];
    struct canon_header *hdr = stackhdr;
    struct orch_params sorted;
    struct orch_buf creq;
    struct orch_buf signed_headers;
    char creq_hash[65];
    char sts[sizeof(V3_ALGORITHM) + 65];
    unsigned char mac[32];
    char sig[65];
    size_t i = 0;
    int rc = 0;

    orch_buf_init(&creq);
    orch_buf_init(&signed_headers);
    orch_params_init(&sorted);
    if (in == NULL || in->method == NULL || in->path == NULL ||
        in->hashed_payload == NULL || key_id == NULL || secret == NULL ||
        (in->nheaders > 0 && in->headers == NULL)) {
        rc = ORCH_EINVAL;
        goto out;
    }
    if (in->nheaders > sizeof(stackhdr) / sizeof(stackhdr[0])) {
        hdr = malloc(in->nheaders * sizeof(*hdr));
        if (hdr == NULL) {
            rc = ORCH_ENOMEM;
            goto out;
        }
    }
    for (i = 0; i < in->nheaders; i++) {
        rc = canon_header_make(&hdr[i], &in->headers[i]);
        if (rc)
            goto out;
    }
    /* Header names are unique in practice; qsort's instability does not
     * matter for distinct keys. */
    qsort(hdr, in->nheaders, sizeof(*hdr), canon_header_cmp);

    if (in->canonical_query == NULL) {
        rc = orch_params_sorted_view(in->query, NULL, &sorted);
        if (rc)
            goto out;
    }

    /* METHOD \n URI \n QUERY \n HEADERS \n SIGNEDHEADERS \n PAYLOADHASH */
    rc = orch_buf_puts(&creq, in->method);
    if (!rc)
        rc = orch_buf_putc(&creq, '\n');
    if (!rc)
        rc = orch_buf_puts(&creq, in->path);
    if (!rc)
        rc = orch_buf_putc(&creq, '\n');
    if (!rc && in->canonical_query != NULL)
        rc = orch_buf_append(&creq, in->canonical_query,
                             in->canonical_query_len);
    else if (!rc)
        rc = orch_params_encode(&sorted, &creq);
    if (!rc)
        rc = orch_buf_putc(&creq, '\n');
    for (i = 0; !rc && i < in->nheaders; i++) {
        rc = put_lower_name(&creq, &hdr[i]);
        if (!rc)
            rc = orch_buf_putc(&creq, ':');
        if (!rc)
            rc = orch_buf_append(&creq, hdr[i].value, hdr[i].vlen);
        if (!rc)
            rc = orch_buf_putc(&creq, '\n');
        if (!rc && i > 0)
            rc = orch_buf_putc(&signed_headers, ';');
        if (!rc)
            rc = put_lower_name(&signed_headers, &hdr[i]);
    }
    if (!rc)
        rc = orch_buf_putc(&creq, '\n');
    if (!rc)
        rc = orch_buf_append(&creq, orch_buf_str(&signed_headers),
                             signed_headers.len);
    if (!rc)
        rc = orch_buf_putc(&creq, '\n');
    if (!rc)
        rc = orch_buf_puts(&creq, in->hashed_payload);
    if (rc)
        goto out;

    rc = orch_sha256_hex(creq_hash, creq.data, creq.len);
    if (rc)
        goto out;
    memcpy(sts, V3_ALGORITHM "\n", sizeof(V3_ALGORITHM));
    memcpy(sts + sizeof(V3_ALGORITHM), creq_hash, 65);
    /* The V3 key is the raw secret, with no '&'. */
    rc = orch_hmac_sha256(mac, secret, strlen(secret), sts, strlen(sts));
    if (rc)
        goto out;
    orch_hex_encode(sig, mac, sizeof(mac));

    rc = orch_buf_printf(authorization,
                         V3_ALGORITHM " Credential=%s,SignedHeaders=%s,"
                                      "Signature=%s",
                         key_id, orch_buf_str(&signed_headers), sig);
    if (!rc && canonical_request)
        rc = orch_buf_append(canonical_request, creq.data, creq.len);
    if (!rc && string_to_sign)
        rc = orch_buf_puts(string_to_sign, sts);
out:
    OPENSSL_cleanse(mac, sizeof(mac));
    if (hdr != stackhdr)
        free(hdr);
    free(sorted.v);
    orch_buf_cleanup(&signed_headers);
    orch_buf_cleanup(&creq);
    return rc;
}
