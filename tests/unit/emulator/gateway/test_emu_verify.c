/* test_emu_verify.c - the emulator's verifier against the official SDK
 * vectors: every request accepted, each one-byte change of a signed part
 * rejected, plus replay, skew, unknown key, STS and SignedHeaders rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/emu_verify.h"
#include "orch/base/buf.h"
#include "orch/base/err.h"
#include "orch/cloud/params.h"
#include "torture.h"

#define KEY_PLAIN "testid:testsecret"
#define KEY_STS "testid:testsecret:CAIS-test-token+/="

/* A raw HTTP request split into the verifier's parts (all owned). */
struct raw {
    char method[16];
    char *query; /* NULL when none */
    struct orch_header hdr[40];
    size_t nhdr;
    char *body;
    size_t body_len;
    char *text; /* the whole request, for mutation */
};

static void raw_free(struct raw *r)
{
    size_t i = 0;

    free(r->query);
    for (i = 0; i < r->nhdr; i++) {
        free((char *)r->hdr[i].name);
        free((char *)r->hdr[i].value);
    }
    free(r->body);
    free(r->text);
    memset(r, 0, sizeof(*r));
}

/* Parses "METHOD TARGET HTTP/1.1\r\nName: value\r\n...\r\n\r\nbody". */
static void raw_parse(struct raw *r, const char *text)
{
    const char *p = text;
    const char *eol = strstr(p, "\r\n");
    const char *sp1 = strchr(p, ' ');
    const char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    const char *q = NULL;

    memset(r, 0, sizeof(*r));
    r->text = strdup(text);
    assert_non_null(eol);
    assert_non_null(sp2);
    assert_true(sp2 < eol);
    memcpy(r->method, p, (size_t)(sp1 - p));
    q = memchr(sp1 + 1, '?', (size_t)(sp2 - sp1 - 1));
    if (q)
        r->query = strndup(q + 1, (size_t)(sp2 - q - 1));
    p = eol + 2;
    while (strncmp(p, "\r\n", 2) != 0) {
        const char *colon = strchr(p, ':');
        const char *v = colon + 1;

        eol = strstr(p, "\r\n");
        assert_non_null(eol);
        assert_non_null(colon);
        while (*v == ' ')
            v++;
        assert_true(r->nhdr < 40);
        r->hdr[r->nhdr].name = strndup(p, (size_t)(colon - p));
        r->hdr[r->nhdr].value = strndup(v, (size_t)(eol - v));
        r->nhdr++;
        p = eol + 2;
    }
    p += 2;
    r->body_len = strlen(p);
    r->body = strdup(p);
}

static void raw_to_req(struct raw *r, struct emu_http_request *req)
{
    memset(req, 0, sizeof(*req));
    req->method = r->method;
    req->path = "/";
    req->query = r->query;
    req->headers = r->hdr;
    req->nheaders = r->nhdr;
    req->body = r->body;
    req->body_len = r->body_len;
}

static int64_t ms_of(const char *iso)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    assert_int_equal(sscanf(iso, "%d-%d-%dT%d:%d:%dZ", &tm.tm_year,
                            &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                            &tm.tm_min, &tm.tm_sec),
                     6);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000;
}

/* Verifies a raw request with a fresh verifier (the vectors share one
 * nonce). Returns the code ("" when accepted) in code. */
static void verify_raw(const char *text, const char *keyspec, int64_t now,
                       char *code, size_t codelen, int *sigver)
{
    struct emu_verifier *v = emu_verifier_new();
    struct emu_http_request req;
    struct emu_auth a;
    struct raw r;

    assert_non_null(v);
    assert_int_equal(emu_verifier_add_key(v, keyspec, NULL), 0);
    raw_parse(&r, text);
    raw_to_req(&r, &req);
    emu_auth_init(&a);
    assert_int_equal(emu_verify_request(v, &req, now, &a), 0);
    snprintf(code, codelen, "%s", a.code);
    if (sigver)
        *sigver = a.sigver;
    if (a.code[0] == '\0') {
        assert_true(a.sig_ok);
        assert_int_equal(a.http_status, 0);
    }
    emu_auth_cleanup(&a);
    raw_free(&r);
    emu_verifier_free(v);
}

static const char *keyspec_for(const char *text)
{
    return strstr(text, "ecurity-token") || strstr(text, "SecurityToken")
               ? KEY_STS
               : KEY_PLAIN;
}

/* Offsets of the signed parts of a raw request: the query, the signed
 * header values (V3: SignedHeaders; V2: none), the Signature inside
 * Authorization, and a form body. mask[i] = 1 for a byte to mutate. */
static void signed_mask(const char *text, unsigned char *mask)
{
    size_t len = strlen(text);
    const char *eol = strstr(text, "\r\n");
    const char *q = strchr(text, '?');
    const char *sp2 = NULL;
    const char *hdr_end = strstr(text, "\r\n\r\n");
    const char *authz = strstr(text, "Authorization: ");
    const char *p = NULL;
    char signed_list[1024] = "";
    int form = strstr(text, "application/x-www-form-urlencoded") != NULL;

    memset(mask, 0, len);
    sp2 = strstr(text, " HTTP/1.1");
    if (q && q < eol)
        for (p = q + 1; p < sp2; p++)
            mask[p - text] = 1;
    if (authz && authz < hdr_end) {
        const char *sh = strstr(authz, "SignedHeaders=");
        const char *sig = strstr(authz, "Signature=");
        const char *aend = strstr(authz, "\r\n");

        if (sh) {
            const char *c = strchr(sh, ',');

            snprintf(signed_list, sizeof(signed_list), "%.*s",
                     (int)(c - sh - 14), sh + 14);
        }
        for (p = sig + 10; sig && p < aend; p++)
            mask[p - text] = 1;
    }
    /* Signed header values (V3). */
    for (p = eol + 2; p < hdr_end;) {
        const char *colon = strchr(p, ':');
        const char *e = strstr(p, "\r\n");
        char name[64];
        const char *s = signed_list;
        size_t nlen = (size_t)(colon - p);

        snprintf(name, sizeof(name), "%.*s", (int)nlen, p);
        while (*s) {
            const char *semi = strchr(s, ';');
            size_t l = semi ? (size_t)(semi - s) : strlen(s);

            if (l == nlen && strncasecmp(s, name, l) == 0) {
                const char *v = colon + 1;

                while (*v == ' ')
                    v++;
                for (; v < e; v++)
                    mask[v - text] = 1;
            }
            if (!semi)
                break;
            s = semi + 1;
        }
        p = e + 2;
    }
    if (form)
        for (p = hdr_end + 4; p < text + len; p++)
            mask[p - text] = 1;
}

/* Accepted as is; rejected for every one-byte change of a signed part;
 * accepted when an unsigned header (user-agent) changes. */
static void check_request(const char *label, const char *text, int64_t now,
                          int want_sigver)
{
    const char *spec = keyspec_for(text);
    size_t len = strlen(text);
    unsigned char *mask = malloc(len + 1);
    char *mut = strdup(text);
    char code[64];
    int sigver = 0;
    size_t i = 0, mutated = 0;
    char *ua = NULL;

    assert_non_null(mask);
    verify_raw(text, spec, now, code, sizeof(code), &sigver);
    if (code[0])
        fail_msg("%s: rejected with %s", label, code);
    assert_int_equal(sigver, want_sigver);
    signed_mask(text, mask);
    for (i = 0; i < len; i++) {
        if (!mask[i])
            continue;
        mut[i] = text[i] == 'x' ? 'y' : 'x';
        verify_raw(mut, spec, now, code, sizeof(code), NULL);
        if (code[0] == '\0')
            fail_msg("%s: byte %zu ('%c') changed, still accepted", label,
                     i, text[i]);
        mut[i] = text[i];
        mutated++;
    }
    assert_true(mutated > 20);
    ua = strstr(mut, "user-agent: ");
    if (ua) {
        ua[12] = ua[12] == 'x' ? 'y' : 'x';
        verify_raw(mut, spec, now, code, sizeof(code), NULL);
        if (code[0])
            fail_msg("%s: unsigned user-agent changed, rejected %s", label,
                     code);
    }
    free(mut);
    free(mask);
}

static json_t *load_vectors(const char *name)
{
    char path[1024];
    json_error_t err;
    json_t *j = NULL;

    snprintf(path, sizeof(path), "%s/%s", ORCH_FIXTURES, name);
    j = json_load_file(path, 0, &err);
    if (j == NULL)
        fail_msg("%s: %s", path, err.text);
    return j;
}

/* Builds a raw request from a V3 canonical request (its header lines are
 * the signed headers) and the Authorization value. */
static char *raw_from_v3(const char *target, const char *creq,
                         const char *authz, const char *body)
{
    struct orch_buf b;
    const char *p = strchr(creq, '\n');

    orch_buf_init(&b);
    orch_buf_printf(&b, "POST %s HTTP/1.1\r\n", target);
    p = strchr(p + 1, '\n'); /* skip the URI line */
    p = strchr(p + 1, '\n'); /* skip the query line */
    p++;
    while (*p != '\n') {
        const char *e = strchr(p, '\n');
        const char *c = strchr(p, ':');

        orch_buf_printf(&b, "%.*s: %.*s\r\n", (int)(c - p), p,
                        (int)(e - c - 1), c + 1);
        p = e + 1;
    }
    orch_buf_printf(&b,
                    "user-agent: test\r\nAuthorization: %s\r\n"
                    "Content-Length: %zu\r\n\r\n%s",
                    authz, strlen(body), body);
    return orch_buf_detach(&b);
}

/* V2 with everything in the query (GET) or in a form body (POST). */
static char *raw_v2(json_t *params, const char *method, const char *sig)
{
    struct orch_params p;
    struct orch_buf enc;
    struct orch_buf b;
    const char *k = NULL;
    json_t *val = NULL;

    orch_params_init(&p);
    orch_buf_init(&enc);
    orch_buf_init(&b);
    json_object_foreach(params, k, val)
        orch_params_add(&p, k, json_string_value(val));
    orch_params_add(&p, "Signature", sig);
    orch_params_encode(&p, &enc);
    if (strcmp(method, "GET") == 0)
        orch_buf_printf(&b,
                        "GET /?%s HTTP/1.1\r\nhost: "
                        "iot.cn-shanghai.aliyuncs.com\r\nuser-agent: "
                        "test\r\n\r\n",
                        orch_buf_str(&enc));
    else
        orch_buf_printf(&b,
                        "POST / HTTP/1.1\r\nhost: "
                        "iot.cn-shanghai.aliyuncs.com\r\ncontent-type: "
                        "application/x-www-form-urlencoded\r\nuser-agent: "
                        "test\r\nContent-Length: %zu\r\n\r\n%s",
                        enc.len, orch_buf_str(&enc));
    orch_params_cleanup(&p);
    orch_buf_cleanup(&enc);
    return orch_buf_detach(&b);
}

static void every_vector_accepted_and_tamper_rejected(void **state)
{
    json_t *root = load_vectors("signature-vectors.json");
    json_t *vectors = json_object_get(root, "vectors");
    int64_t now = ms_of(json_string_value(
        json_object_get(json_object_get(root, "fixed_inputs"), "timestamp")));
    size_t i = 0;
    json_t *vec = NULL;
    size_t checked = 0;

    (void)state;
    json_array_foreach(vectors, i, vec) {
        const char *id = json_string_value(json_object_get(vec, "id"));
        json_t *raws = json_object_get(vec, "raw_requests");
        json_t *params = json_object_get(vec, "v2_params_signed");
        json_t *v2 = json_object_get(vec, "v2");
        json_t *sdk3 = json_object_get(vec, "iot_sdk_v3_query");
        json_t *min3 = json_object_get(vec, "v3_query_minimal");
        json_t *form3 = json_object_get(vec, "v3_form_body");
        json_t *sdk2 = json_object_get(vec, "iot_sdk_v2");
        const char *target = json_string_value(
            json_object_get(sdk3, "request_target"));
        const char *k = NULL;
        json_t *r = NULL;
        char label[128];
        char *text = NULL;

        json_object_foreach(raws, k, r) {
            const char *t = json_string_value(r);

            snprintf(label, sizeof(label), "%s raw %s", id, k);
            check_request(label, t, now,
                          strstr(t, "ACS3-HMAC-SHA256") ? 3 : 2);
            checked++;
        }
        snprintf(label, sizeof(label), "%s v2 GET", id);
        text = raw_v2(params, "GET",
                      json_string_value(json_object_get(
                          json_object_get(v2, "GET"), "signature")));
        check_request(label, text, now, 2);
        free(text);
        snprintf(label, sizeof(label), "%s v2 POST", id);
        text = raw_v2(params, "POST",
                      json_string_value(json_object_get(
                          json_object_get(v2, "POST"), "signature")));
        check_request(label, text, now, 2);
        free(text);
        snprintf(label, sizeof(label), "%s iot_sdk_v2", id);
        text = NULL;
        {
            struct orch_buf b;

            orch_buf_init(&b);
            orch_buf_printf(
                &b,
                "POST %s HTTP/1.1\r\nhost: iot.cn-shanghai.aliyuncs.com\r\n"
                "x-acs-action: CreateOTAStaticUpgradeJob\r\nuser-agent: "
                "test\r\nContent-Length: 0\r\n\r\n",
                json_string_value(json_object_get(sdk2, "request_target")));
            text = orch_buf_detach(&b);
        }
        check_request(label, text, now, 2);
        free(text);
        snprintf(label, sizeof(label), "%s iot_sdk_v3_query", id);
        text = raw_from_v3(
            target, json_string_value(json_object_get(sdk3, "canonicalRequest")),
            json_string_value(json_object_get(sdk3, "authorization")), "");
        check_request(label, text, now, 3);
        free(text);
        snprintf(label, sizeof(label), "%s v3_query_minimal", id);
        text = raw_from_v3(
            target, json_string_value(json_object_get(min3, "canonicalRequest")),
            json_string_value(json_object_get(min3, "authorization")), "");
        check_request(label, text, now, 3);
        free(text);
        snprintf(label, sizeof(label), "%s v3_form_body", id);
        text = raw_from_v3(
            "/", json_string_value(json_object_get(form3, "canonicalRequest")),
            json_string_value(json_object_get(form3, "authorization")),
            json_string_value(json_object_get(form3, "body")));
        check_request(label, text, now, 3);
        free(text);
        checked += 6;
    }
    assert_true(checked >= 7 * 6 + 12);
    json_decref(root);
}

static void sdk_raw_requests_accepted(void **state)
{
    json_t *root = load_vectors("sdk-raw-requests.json");
    const char *k = NULL;
    json_t *e = NULL;
    size_t n = 0;

    (void)state;
    json_object_foreach(root, k, e) {
        const char *t = json_string_value(json_object_get(e, "raw_request"));

        check_request(k, t, ms_of("2026-11-26T02:45:00Z"),
                      strstr(t, "ACS3-HMAC-SHA256") ? 3 : 2);
        n++;
    }
    assert_int_equal(n, 2);
    json_decref(root);
}

/* The v1-single SDK V3 request, for the rule tests below. */
static char *v1_text(const char *which)
{
    json_t *root = load_vectors("signature-vectors.json");
    json_t *v1 = json_array_get(json_object_get(root, "vectors"), 0);
    char *t = strdup(json_string_value(
        json_object_get(json_object_get(v1, "raw_requests"), which)));

    json_decref(root);
    return t;
}

static int64_t v1_now(void)
{
    return ms_of("2025-01-02T03:04:05Z");
}

static void replayed_nonce_rejected(void **state)
{
    const char *kinds[] = {"iot_sdk_default_v3", "pop_core_GET"};
    size_t k = 0;

    (void)state;
    for (k = 0; k < 2; k++) {
        char *t = v1_text(kinds[k]);
        struct emu_verifier *v = emu_verifier_new();
        struct emu_http_request req;
        struct emu_auth a;
        struct raw r;

        assert_int_equal(emu_verifier_add_key(v, KEY_PLAIN, NULL), 0);
        raw_parse(&r, t);
        raw_to_req(&r, &req);
        emu_auth_init(&a);
        assert_int_equal(emu_verify_request(v, &req, v1_now(), &a), 0);
        assert_string_equal(a.code, "");
        assert_int_equal(emu_verify_request(v, &req, v1_now() + 1000, &a), 0);
        assert_string_equal(a.code, "SignatureNonceUsed");
        assert_int_equal(a.http_status, 400);
        /* After the 15-minute window the nonce is forgotten, but then the
         * timestamp is out of the window too. */
        assert_int_equal(emu_verify_request(
                             v, &req, v1_now() + EMU_VERIFY_WINDOW_MS + 1, &a),
                         0);
        assert_string_equal(a.code, "InvalidTimeStamp.Expired");
        emu_auth_cleanup(&a);
        raw_free(&r);
        emu_verifier_free(v);
        free(t);
    }
}

static void skew_rejected(void **state)
{
    char *t = v1_text("iot_sdk_default_v3");
    char *t2 = v1_text("pop_core_POST");
    char code[64];

    (void)state;
    verify_raw(t, KEY_PLAIN, v1_now() + EMU_VERIFY_WINDOW_MS, code,
               sizeof(code), NULL);
    assert_string_equal(code, "");
    verify_raw(t, KEY_PLAIN, v1_now() + EMU_VERIFY_WINDOW_MS + 1000, code,
               sizeof(code), NULL);
    assert_string_equal(code, "InvalidTimeStamp.Expired");
    verify_raw(t, KEY_PLAIN, v1_now() - EMU_VERIFY_WINDOW_MS - 1000, code,
               sizeof(code), NULL);
    assert_string_equal(code, "InvalidTimeStamp.Expired");
    verify_raw(t2, KEY_PLAIN, v1_now() + 16 * 60 * 1000, code, sizeof(code),
               NULL);
    assert_string_equal(code, "InvalidTimeStamp.Expired");
    free(t);
    free(t2);
}

/* Authentic, then authorized: a key whose RAM policy does not allow the
 * action gets Forbidden.RAM; other actions and keys are not affected. */
static void ram_policy_denies(void **state)
{
    static const struct {
        const char *deny; /* NULL: none */
        const char *code; /* "" accepted */
    } cases[] = {
        {NULL, ""},
        {"testid:QueryOTAFirmware", ""},
        {"otherid:*", ""},
        {"testid:QueryOTAFirmware,CreateOTAStaticUpgradeJob",
         "Forbidden.RAM"},
        {"testid:*", "Forbidden.RAM"},
    };
    char *t = v1_text("iot_sdk_default_v3");
    struct emu_http_request req;
    struct emu_auth a;
    struct orch_diag diag = {{0}};
    struct raw r;
    size_t i = 0;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct emu_verifier *v = emu_verifier_new();

        if (cases[i].deny)
            assert_int_equal(emu_verifier_deny(v, cases[i].deny, &diag), 0);
        assert_int_equal(emu_verifier_add_key(v, "testid:testsecret", NULL),
                         0);
        raw_parse(&r, t);
        raw_to_req(&r, &req);
        emu_auth_init(&a);
        assert_int_equal(emu_verify_request(v, &req, v1_now(), &a), 0);
        assert_string_equal(a.code, cases[i].code);
        if (cases[i].code[0]) {
            assert_int_equal(a.http_status, 400);
            assert_non_null(strstr(orch_buf_str(&a.message),
                                   "User not authorized"));
        }
        emu_auth_cleanup(&a);
        raw_free(&r);
        emu_verifier_free(v);
    }
    {
        struct emu_verifier *v = emu_verifier_new();

        assert_int_equal(emu_verifier_deny(v, "nocolon", &diag), ORCH_EINVAL);
        assert_int_equal(emu_verifier_deny(v, ":A", &diag), ORCH_EINVAL);
        assert_int_equal(emu_verifier_deny(v, "id:", &diag), ORCH_EINVAL);
        emu_verifier_free(v);
    }
    free(t);
}

static void unknown_key_and_wrong_secret(void **state)
{
    char *t = v1_text("iot_sdk_default_v3");
    char *t2 = v1_text("pop_core_GET");
    struct emu_verifier *v = emu_verifier_new();
    struct emu_http_request req;
    struct emu_auth a;
    struct raw r;

    (void)state;
    verify_raw(t, "otherid:testsecret", v1_now(), (char[64]){0}, 64, NULL);
    assert_int_equal(emu_verifier_add_key(v, "otherid:testsecret", NULL), 0);
    raw_parse(&r, t);
    raw_to_req(&r, &req);
    emu_auth_init(&a);
    assert_int_equal(emu_verify_request(v, &req, v1_now(), &a), 0);
    assert_string_equal(a.code, "InvalidAccessKeyId.NotFound");
    assert_int_equal(a.http_status, 404);
    assert_string_equal(a.key_id, "testid");
    raw_free(&r);
    /* A wrong secret: the message quotes the server's string to sign and,
     * for V3, the canonical request; never the secret. */
    assert_int_equal(emu_verifier_add_key(v, "testid:wrongsecret", NULL), 0);
    raw_parse(&r, t);
    raw_to_req(&r, &req);
    assert_int_equal(emu_verify_request(v, &req, v1_now(), &a), 0);
    assert_string_equal(a.code, "SignatureDoesNotMatch");
    assert_int_equal(a.http_status, 400);
    assert_non_null(strstr(orch_buf_str(&a.message),
                           "server string to sign is:ACS3-HMAC-SHA256\n"));
    assert_non_null(strstr(orch_buf_str(&a.message),
                           "x-acs-action:CreateOTAStaticUpgradeJob\n"));
    assert_null(strstr(orch_buf_str(&a.message), "wrongsecret"));
    raw_free(&r);
    raw_parse(&r, t2);
    raw_to_req(&r, &req);
    assert_int_equal(emu_verify_request(v, &req, v1_now(), &a), 0);
    assert_string_equal(a.code, "SignatureDoesNotMatch");
    assert_non_null(strstr(orch_buf_str(&a.message),
                           "server string to sign is:GET&%2F&AccessKeyId"));
    emu_auth_cleanup(&a);
    raw_free(&r);
    emu_verifier_free(v);
    free(t);
    free(t2);
}

/* Replaces the first `from` in s by `to` (in a new string). */
static char *replace(const char *s, const char *from, const char *to)
{
    const char *p = strstr(s, from);
    struct orch_buf b;

    assert_non_null(p);
    orch_buf_init(&b);
    orch_buf_append(&b, s, (size_t)(p - s));
    orch_buf_puts(&b, to);
    orch_buf_puts(&b, p + strlen(from));
    return orch_buf_detach(&b);
}

static void incomplete_signed_headers(void **state)
{
    char *t = v1_text("iot_sdk_default_v3");
    char *t2 = NULL;
    char code[64];

    (void)state;
    /* x-acs-credentials-provider present but no longer signed. */
    t2 = replace(t, "x-acs-content-sha256;x-acs-credentials-provider;",
                 "x-acs-content-sha256;");
    verify_raw(t2, KEY_PLAIN, v1_now(), code, sizeof(code), NULL);
    assert_string_equal(code, "IncompleteSignature");
    free(t2);
    /* host not signed. */
    t2 = replace(t, "SignedHeaders=host;", "SignedHeaders=");
    verify_raw(t2, KEY_PLAIN, v1_now(), code, sizeof(code), NULL);
    assert_string_equal(code, "IncompleteSignature");
    free(t2);
    /* A signed header that is not there. */
    t2 = replace(t, "x-acs-credentials-provider: static_ak\r\n", "");
    verify_raw(t2, KEY_PLAIN, v1_now(), code, sizeof(code), NULL);
    assert_string_equal(code, "IncompleteSignature");
    free(t2);
    /* No Signature field. */
    t2 = replace(t, ",Signature=", ",Sig=");
    verify_raw(t2, KEY_PLAIN, v1_now(), code, sizeof(code), NULL);
    assert_string_equal(code, "IncompleteSignature");
    free(t2);
    free(t);
}

static void sts_token_rules(void **state)
{
    json_t *root = load_vectors("signature-vectors.json");
    json_t *v5 = json_array_get(json_object_get(root, "vectors"), 4);
    json_t *raws = json_object_get(v5, "raw_requests");
    const char *v3 =
        json_string_value(json_object_get(raws, "iot_sdk_default_v3"));
    const char *v2 = json_string_value(json_object_get(raws, "pop_core_GET"));
    char *plain = v1_text("iot_sdk_default_v3");
    char code[64];

    (void)state;
    assert_string_equal(json_string_value(json_object_get(v5, "id")),
                        "v5-sts");
    verify_raw(v3, KEY_STS, v1_now(), code, sizeof(code), NULL);
    assert_string_equal(code, "");
    verify_raw(v3, "testid:testsecret:other-token", v1_now(), code,
               sizeof(code), NULL);
    assert_string_equal(code, "InvalidSecurityToken.MismatchWithAccessKey");
    verify_raw(v2, "testid:testsecret:other-token", v1_now(), code,
               sizeof(code), NULL);
    assert_string_equal(code, "InvalidSecurityToken.MismatchWithAccessKey");
    verify_raw(v3, KEY_PLAIN, v1_now(), code, sizeof(code), NULL);
    assert_string_equal(code, "InvalidSecurityToken.MismatchWithAccessKey");
    verify_raw(plain, KEY_STS, v1_now(), code, sizeof(code), NULL);
    assert_string_equal(code, "MissingSecurityToken");
    free(plain);
    json_decref(root);
}

static void missing_parts(void **state)
{
    /* pop-core's GET with one part spoiled, and the code that names it. */
    static const struct {
        const char *from, *to, *code;
    } cases[] = {
        {"&Signature=", "&Sxgnature=", "MissingSignature"},
        {"?AccessKeyId=", "?AxcessKeyId=", "MissingAccessKeyId"},
        {"&Timestamp=", "&Tixestamp=", "IllegalTimestamp"},
        {"&SignatureNonce=", "&SignatureNoxce=", "MissingSignatureNonce"},
        {"&SignatureMethod=HMAC-SHA1", "&SignatureMethod=HMAC-SHA2",
         "IncompleteSignature"},
        {"&Version=2018-01-20", "&Version=2014-05-26", "InvalidVersion"},
        {"&Action=", "&Axtion=", "MissingAction"},
        {"FirmwareId=Uk", "FirmwareId=%zz", "InvalidParameter"},
    };
    char *t = v1_text("pop_core_GET");
    char *t2 = NULL;
    char code[64];
    size_t i = 0;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        t2 = replace(t, cases[i].from, cases[i].to);
        verify_raw(t2, KEY_PLAIN, v1_now(), code, sizeof(code), NULL);
        if (strcmp(code, cases[i].code) != 0)
            fail_msg("case %zu (%s): code %s, want %s", i, cases[i].to, code,
                     cases[i].code);
        free(t2);
    }
    free(t);
    t = v1_text("iot_sdk_default_v3");
    t2 = replace(t, "x-acs-date: 2025-01-02T03:04:05Z",
                 "x-acs-date: 2025-01-02 03:04:05");
    verify_raw(t2, KEY_PLAIN, v1_now(), code, sizeof(code), NULL);
    assert_string_equal(code, "IllegalTimestamp");
    free(t2);
    free(t);
}

static void key_spec_parsing(void **state)
{
    struct emu_verifier *v = emu_verifier_new();
    struct orch_diag d;

    (void)state;
    assert_int_equal(emu_verifier_add_key(v, "nocolon", &d), ORCH_EINVAL);
    assert_int_equal(emu_verifier_add_key(v, ":secret", &d), ORCH_EINVAL);
    assert_int_equal(emu_verifier_add_key(v, "id:", &d), ORCH_EINVAL);
    assert_int_equal(emu_verifier_add_key(v, "id:s:", &d), ORCH_EINVAL);
    assert_null(strstr(d.msg, "s:"));
    assert_int_equal(emu_verifier_add_key(v, "id:s", &d), 0);
    assert_int_equal(emu_verifier_add_key(v, "STS.x:s:tok:en", &d), 0);
    assert_int_equal(emu_verifier_add_key(v, "id:s2", &d), 0);
    assert_int_equal(emu_verifier_key_count(v), 2);
    emu_verifier_free(v);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(every_vector_accepted_and_tamper_rejected),
    cmocka_unit_test(sdk_raw_requests_accepted),
    cmocka_unit_test(replayed_nonce_rejected),
    cmocka_unit_test(skew_rejected),
    cmocka_unit_test(unknown_key_and_wrong_secret),
    cmocka_unit_test(ram_policy_denies),
    cmocka_unit_test(incomplete_signed_headers),
    cmocka_unit_test(sts_token_rules),
    cmocka_unit_test(missing_parts),
    cmocka_unit_test(key_spec_parsing))
