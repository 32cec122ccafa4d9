/* test_request.c - the signed wire request, compared with the official
 * SDKs' bytes from tests/fixtures/signature-vectors.json. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "orch/base/buf.h"
#include "orch/base/codec.h"
#include "orch/cloud/credentials.h"
#include "orch/base/err.h"
#include "orch/cloud/params.h"
#include "orch/cloud/request.h"
#include "orch/cloud/sign.h"
#include "torture.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VECTORS ORCH_FIXTURES "/signature-vectors.json"
#define ENDPOINT "https://iot.cn-shanghai.aliyuncs.com"
#define ACTION "CreateOTAStaticUpgradeJob"
#define NONCE "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"
/* 2025-01-02T03:04:05Z, plus some milliseconds that must not show. */
#define NOW_MS (1735787045LL * 1000 + 789)
#define EMPTY_SHA256                                                           \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define FORM "application/x-www-form-urlencoded"

static json_t *g_vectors;
static char g_secret[] = "testsecret";
static char g_token[] = "CAIS-test-token+/=";
static char g_key_id[] = "testid";

static json_t *vector_by_id(const char *id)
{
    json_t *a = json_object_get(g_vectors, "vectors");
    json_t *v = NULL;
    size_t i = 0;

    json_array_foreach(a, i, v)
    {
        if (strcmp(json_string_value(json_object_get(v, "id")), id) == 0)
            return v;
    }
    fail_msg("no vector %s", id);
    return NULL;
}

static const char *jpath(json_t *o, const char *a, const char *b, const char *c)
{
    o = json_object_get(o, a);
    if (o && b)
        o = json_object_get(o, b);
    if (o && c)
        o = json_object_get(o, c);
    if (!json_is_string(o))
        fail_msg("fixture lacks %s/%s/%s", a, b ? b : "", c ? c : "");
    return json_string_value(o);
}

static void cred_make(struct orch_credentials *c, int sts)
{
    memset(c, 0, sizeof(*c));
    c->access_key_id = g_key_id;
    c->secret.s = g_secret;
    c->secret.len = strlen(g_secret);
    if (sts) {
        c->token.s = g_token;
        c->token.len = strlen(g_token);
    }
}

static struct orch_request_input input_make(const struct orch_params *p,
                                            const struct orch_credentials *c,
                                            int version, bool form)
{
    struct orch_request_input in = {
        .endpoint = ENDPOINT,
        .action = ACTION,
        .params = p,
        .cred = c,
        .signature_version = version,
        .form_body = form,
        .now_ms = NOW_MS,
        .nonce = NONCE,
    };

    return in;
}

/* The value of header `name` (exact, case-sensitive name), or NULL. */
static const char *header(const struct orch_request *req, const char *name)
{
    size_t n = strlen(name);
    size_t i = 0;

    for (i = 0; i < req->nheaders; i++) {
        const char *h = orch_buf_str(&req->headers[i]);

        if (strncmp(h, name, n) == 0 && h[n] == ':' && h[n + 1] == ' ')
            return h + n + 2;
    }
    return NULL;
}

static int header_count(const struct orch_request *req, const char *name)
{
    size_t n = strlen(name);
    size_t i = 0;
    int count = 0;

    for (i = 0; i < req->nheaders; i++)
        if (strncasecmp(orch_buf_str(&req->headers[i]), name, n) == 0 &&
            orch_buf_str(&req->headers[i])[n] == ':')
            count++;
    return count;
}

/* Re-verifies a V3 request the way a server does: sign host, content-type
 * and x-acs-* headers as sent, over the query sent and the body sent. */
static void verify_v3(const struct orch_request *req)
{
    struct orch_header h[ORCH_REQ_MAX_HEADERS];
    char names[ORCH_REQ_MAX_HEADERS][64];
    struct orch_v3_input in = {0};
    struct orch_params q;
    struct orch_buf auth;
    const char *url = orch_buf_str(&req->url);
    const char *qs = strchr(url, '?');
    char payload[65];
    size_t n = 0;
    size_t i = 0;

    orch_params_init(&q);
    orch_buf_init(&auth);
    if (qs)
        assert_int_equal(orch_params_parse(&q, qs + 1, strlen(qs + 1)), 0);
    for (i = 0; i < req->nheaders; i++) {
        const char *line = orch_buf_str(&req->headers[i]);
        size_t nl = strcspn(line, ":");

        assert_true(nl < 64);
        if (!(strncmp(line, "host:", 5) == 0 ||
              strncmp(line, "content-type:", 13) == 0 ||
              strncmp(line, "x-acs-", 6) == 0))
            continue;
        memcpy(names[n], line, nl);
        names[n][nl] = '\0';
        h[n].name = names[n];
        h[n].value = line + nl + 1;
        n++;
    }
    assert_int_equal(
        orch_sha256_hex(payload, orch_buf_str(&req->body), req->body.len), 0);
    assert_string_equal(header(req, "x-acs-content-sha256"), payload);
    in.method = "POST";
    in.path = "/";
    in.query = &q;
    in.headers = h;
    in.nheaders = n;
    in.hashed_payload = payload;
    assert_int_equal(orch_sign_v3(&in, g_key_id, g_secret, &auth, NULL, NULL),
                     0);
    assert_string_equal(header(req, "Authorization"), orch_buf_str(&auth));
    orch_buf_cleanup(&auth);
    orch_params_cleanup(&q);
}

static void assert_no_secret(const struct orch_request *req)
{
    size_t i = 0;

    assert_null(strstr(orch_buf_str(&req->url), g_secret));
    assert_null(strstr(orch_buf_str(&req->body), g_secret));
    for (i = 0; i < req->nheaders; i++)
        assert_null(strstr(orch_buf_str(&req->headers[i]), g_secret));
}

/* A request built from a signature vector's action parameters. in points
 * into the struct, which must not move while it is used. */
struct built {
    struct orch_credentials cred;
    struct orch_request_input in;
    struct orch_request req;
    struct orch_params p;
};

/* Builds b from vec with STS credentials when sts, signature version
 * `version` and the parameters in a form body when form; asserts it
 * builds. */
static void build_vector(struct built *b, json_t *vec, int sts, int version,
                         bool form)
{
    orch_params_init(&b->p);
    orch_request_init(&b->req);
    cred_make(&b->cred, sts);
    torture_action_params(&b->p, vec);
    b->in = input_make(&b->p, &b->cred, version, form);
    assert_int_equal(orch_request_build(&b->req, &b->in), 0);
}

static void built_cleanup(struct built *b)
{
    orch_request_cleanup(&b->req);
    orch_params_cleanup(&b->p);
}

/* v1-single, V3 default: the Authorization is the vector's minimal one and
 * the request carries exactly the documented header set. */
static void test_v3_v1_single(void **state)
{
    struct built b;
    json_t *vec = vector_by_id("v1-single");

    (void)state;
    build_vector(&b, vec, 0, 3, false);

    assert_string_equal(header(&b.req, "Authorization"),
                        jpath(vec, "v3_query_minimal", "authorization", NULL));
    assert_string_equal(orch_buf_str(&b.req.url), ENDPOINT
                        "/?FirmwareId=UkOZxXXnVaLfqvvv8YzC000100"
                        "&ProductKey=a1BwAGVabcd&TargetDeviceName.1=device001"
                        "&TargetSelection=SPECIFIC");
    assert_int_equal(b.req.body.len, 0);
    assert_string_equal(header(&b.req, "host"), "iot.cn-shanghai.aliyuncs.com");
    assert_string_equal(header(&b.req, "x-acs-action"), ACTION);
    assert_string_equal(header(&b.req, "x-acs-version"), "2018-01-20");
    assert_string_equal(header(&b.req, "x-acs-date"), "2025-01-02T03:04:05Z");
    assert_string_equal(header(&b.req, "x-acs-signature-nonce"), NONCE);
    assert_string_equal(header(&b.req, "x-acs-content-sha256"), EMPTY_SHA256);
    assert_string_equal(header(&b.req, "accept"), "application/json");
    assert_null(header(&b.req, "content-type"));
    assert_null(header(&b.req, "x-acs-credentials-provider"));
    assert_null(header(&b.req, "x-acs-security-token"));
    assert_null(header(&b.req, "x-acs-accesskey-id"));
    assert_int_equal(b.req.nheaders, 8);
    verify_v3(&b.req);
    assert_no_secret(&b.req);

    built_cleanup(&b);
}

/* Every vector: the V3 minimal Authorization and the V2 POST signature,
 * with STS credentials where the vector has a token. */
static void test_every_vector(void **state)
{
    json_t *a = json_object_get(g_vectors, "vectors");
    json_t *vec = NULL;
    size_t i = 0;

    (void)state;
    assert_true(json_array_size(a) >= 7);
    json_array_foreach(a, i, vec)
    {
        json_t *extra = json_object_get(
            json_object_get(vec, "v3_query_minimal"), "extra_signed_headers");
        int sts = extra != NULL &&
                  json_object_get(extra, "x-acs-security-token") != NULL;
        struct orch_credentials cred;
        struct orch_request_input in;
        struct orch_request req;
        struct orch_params p;
        struct orch_params body;

        orch_params_init(&p);
        orch_params_init(&body);
        orch_request_init(&req);
        cred_make(&cred, sts);
        if (sts)
            assert_string_equal(json_string_value(json_object_get(
                                    extra, "x-acs-security-token")),
                                g_token);
        torture_action_params(&p, vec);

        in = input_make(&p, &cred, 3, false);
        assert_int_equal(orch_request_build(&req, &in), 0);
        assert_string_equal(
            header(&req, "Authorization"),
            jpath(vec, "v3_query_minimal", "authorization", NULL));
        assert_no_secret(&req);

        /* Reuse the same request for V2: it is reset first. */
        in = input_make(&p, &cred, 2, false);
        assert_int_equal(orch_request_build(&req, &in), 0);
        assert_int_equal(orch_params_parse(&body, req.body.data, req.body.len),
                         0);
        assert_string_equal(orch_params_get(&body, "Signature"),
                            jpath(vec, "v2", "POST", "signature"));
        assert_no_secret(&req);

        orch_request_cleanup(&req);
        orch_params_cleanup(&body);
        orch_params_cleanup(&p);
    }
}

/* V2: every parameter in the form body, in pop-core's byte order, which
 * makes the body identical to the one pop-core sent for v1-single. */
static void test_v2_form_body(void **state)
{
    struct built b;
    json_t *vec = vector_by_id("v1-single");
    const char *raw = jpath(vec, "raw_requests", "pop_core_POST", NULL);
    const char *raw_body = strstr(raw, "\r\n\r\n");
    struct orch_params body;
    char sig[ORCH_SIGN_V2_LEN];

    (void)state;
    orch_params_init(&body);
    build_vector(&b, vec, 0, 2, false);

    assert_string_equal(orch_buf_str(&b.req.url), ENDPOINT "/");
    assert_non_null(raw_body);
    assert_string_equal(orch_buf_str(&b.req.body), raw_body + 4);
    assert_string_equal(header(&b.req, "content-type"), FORM);
    assert_string_equal(header(&b.req, "x-acs-action"), ACTION);
    assert_string_equal(header(&b.req, "x-acs-version"), "2018-01-20");
    assert_null(header(&b.req, "Authorization"));
    assert_int_equal(orch_params_parse(&body, b.req.body.data, b.req.body.len),
                     0);
    assert_string_equal(orch_params_get(&body, "Format"), "JSON");
    assert_string_equal(orch_params_get(&body, "SignatureMethod"), "HMAC-SHA1");
    assert_string_equal(orch_params_get(&body, "SignatureVersion"), "1.0");
    assert_string_equal(orch_params_get(&body, "Timestamp"),
                        "2025-01-02T03:04:05Z");
    assert_null(orch_params_get(&body, "SecurityToken"));
    /* The body verifies as the emulator would check it. */
    assert_int_equal(orch_sign_v2(&body, "POST", g_secret, sig, NULL), 0);
    assert_string_equal(sig, orch_params_get(&body, "Signature"));
    assert_string_equal(sig, jpath(vec, "v2", "POST", "signature"));

    /* STS: the token is a signed parameter. */
    orch_params_cleanup(&body);
    cred_make(&b.cred, 1);
    assert_int_equal(orch_request_build(&b.req, &b.in), 0);
    assert_int_equal(orch_params_parse(&body, b.req.body.data, b.req.body.len),
                     0);
    assert_string_equal(orch_params_get(&body, "SecurityToken"), g_token);
    assert_int_equal(orch_sign_v2(&body, "POST", g_secret, sig, NULL), 0);
    assert_string_equal(sig, orch_params_get(&body, "Signature"));
    assert_string_equal(
        sig, jpath(vector_by_id("v5-sts"), "v2", "POST", "signature"));
    assert_no_secret(&b.req);

    orch_params_cleanup(&body);
    built_cleanup(&b);
}

/* STS adds the token and the key id as signed headers. */
static void test_v3_sts_headers(void **state)
{
    struct built b;
    json_t *vec = vector_by_id("v5-sts");

    (void)state;
    build_vector(&b, vec, 1, 3, false);
    assert_string_equal(header(&b.req, "x-acs-security-token"), g_token);
    assert_string_equal(header(&b.req, "x-acs-accesskey-id"), g_key_id);
    assert_non_null(strstr(header(&b.req, "Authorization"),
                           "SignedHeaders=host;x-acs-accesskey-id;"
                           "x-acs-action;x-acs-content-sha256;x-acs-date;"
                           "x-acs-security-token;x-acs-signature-nonce;"
                           "x-acs-version,"));
    assert_string_equal(header(&b.req, "Authorization"),
                        jpath(vec, "v3_query_minimal", "authorization", NULL));
    verify_v3(&b.req);
    assert_no_secret(&b.req);
    built_cleanup(&b);
}

/* form_body moves the parameters from the query into a signed form body. */
static void test_v3_form_body(void **state)
{
    struct built b;
    json_t *vec = vector_by_id("v3-encoding");
    struct orch_params body;
    struct orch_buf want;
    char hash[65];

    (void)state;
    orch_params_init(&body);
    orch_buf_init(&want);
    build_vector(&b, vec, 1, 3, true);

    assert_string_equal(orch_buf_str(&b.req.url), ENDPOINT "/");
    orch_params_sort(&b.p);
    assert_int_equal(orch_params_encode(&b.p, &want), 0);
    assert_string_equal(orch_buf_str(&b.req.body), orch_buf_str(&want));
    assert_int_equal(orch_params_parse(&body, b.req.body.data, b.req.body.len),
                     0);
    assert_int_equal(body.n, b.p.n);
    assert_string_equal(orch_params_get(&body, "TargetDeviceName.6"),
                        "设备-001");
    assert_string_equal(header(&b.req, "content-type"), FORM);
    assert_int_equal(orch_sha256_hex(hash, b.req.body.data, b.req.body.len), 0);
    assert_string_equal(header(&b.req, "x-acs-content-sha256"), hash);
    assert_non_null(strstr(header(&b.req, "Authorization"),
                           "SignedHeaders=content-type;host;"));
    assert_string_not_equal(
        header(&b.req, "Authorization"),
        jpath(vec, "v3_query_minimal", "authorization", NULL));
    verify_v3(&b.req);
    assert_no_secret(&b.req);

    orch_buf_cleanup(&want);
    orch_params_cleanup(&body);
    built_cleanup(&b);
}

/* Starts p (ProductKey a1BwAGVabcd), req, cred (no STS token) and in
 * (their V3 GET request); the caller cleans up req and p. */
static void v3_product_request(struct orch_params *p, struct orch_request *req,
                               struct orch_credentials *cred,
                               struct orch_request_input *in)
{
    orch_params_init(p);
    orch_request_init(req);
    cred_make(cred, 0);
    assert_int_equal(orch_params_add(p, "ProductKey", "a1BwAGVabcd"), 0);
    *in = input_make(p, cred, 3, false);
}

static void test_endpoint_with_port(void **state)
{
    struct orch_credentials cred;
    struct orch_request_input in;
    struct orch_request req;
    struct orch_params p;

    (void)state;
    v3_product_request(&p, &req, &cred, &in);
    in.endpoint = "http://127.0.0.1:47123";
    assert_int_equal(orch_request_build(&req, &in), 0);
    assert_string_equal(header(&req, "host"), "127.0.0.1:47123");
    assert_string_equal(orch_buf_str(&req.url),
                        "http://127.0.0.1:47123/?ProductKey=a1BwAGVabcd");
    verify_v3(&req);
    /* A trailing slash is the same endpoint. */
    in.endpoint = "http://127.0.0.1:47123/";
    assert_int_equal(orch_request_build(&req, &in), 0);
    assert_string_equal(orch_buf_str(&req.url),
                        "http://127.0.0.1:47123/?ProductKey=a1BwAGVabcd");
    in.endpoint = "http://[::1]:47123";
    assert_int_equal(orch_request_build(&req, &in), 0);
    assert_string_equal(header(&req, "host"), "[::1]:47123");
    in.signature_version = 2;
    in.endpoint = "http://127.0.0.1:47123";
    assert_int_equal(orch_request_build(&req, &in), 0);
    assert_string_equal(orch_buf_str(&req.url), "http://127.0.0.1:47123/");
    assert_string_equal(header(&req, "host"), "127.0.0.1:47123");
    orch_request_cleanup(&req);
    orch_params_cleanup(&p);
}

static void test_bad_input(void **state)
{
    static const char *const bad_endpoints[] = {
        "iot.cn-shanghai.aliyuncs.com",
        "ftp://host",
        "http://",
        "https:///",
        "http://host/path",
        "http://host?x=1",
        "http://user@host",
        "http://ho st",
        "http://host\r\nX-Evil: 1",
        "http://:80",
    };
    struct orch_credentials cred;
    struct orch_request_input in;
    struct orch_request req;
    struct orch_params p;
    size_t i = 0;

    (void)state;
    v3_product_request(&p, &req, &cred, &in);
    for (i = 0; i < sizeof(bad_endpoints) / sizeof(bad_endpoints[0]); i++) {
        /* A good build first, so that a failure must also clear req. */
        in.endpoint = ENDPOINT;
        assert_int_equal(orch_request_build(&req, &in), 0);
        in.endpoint = bad_endpoints[i];
        assert_int_equal(orch_request_build(&req, &in), ORCH_EINVAL);
        assert_int_equal(req.nheaders, 0);
        assert_int_equal(req.url.len, 0);
    }
    in.endpoint = ENDPOINT;
    in.nonce = NULL;
    assert_int_equal(orch_request_build(&req, &in), ORCH_EINVAL);
    in.nonce = "";
    assert_int_equal(orch_request_build(&req, &in), ORCH_EINVAL);
    in.nonce = "abc\r\nx-evil: 1";
    assert_int_equal(orch_request_build(&req, &in), ORCH_EINVAL);
    in.nonce = NONCE;
    in.signature_version = 4;
    assert_int_equal(orch_request_build(&req, &in), ORCH_EINVAL);
    in.signature_version = 3;
    in.action = "Create\nX";
    assert_int_equal(orch_request_build(&req, &in), ORCH_EINVAL);
    in.action = ACTION;
    cred.secret.s = NULL;
    assert_int_equal(orch_request_build(&req, &in), ORCH_EINVAL);
    cred.secret.s = g_secret;
    in.cred = NULL;
    assert_int_equal(orch_request_build(&req, &in), ORCH_EINVAL);
    orch_request_cleanup(&req);
    orch_request_cleanup(NULL);
    orch_params_cleanup(&p);
}

/* Each attempt gets a fresh nonce and date, and they are signed. */
static void test_nonce_and_date_are_signed(void **state)
{
    struct orch_credentials cred;
    struct orch_request_input in;
    struct orch_request req;
    struct orch_params p;
    char *first = NULL;

    (void)state;
    v3_product_request(&p, &req, &cred, &in);
    assert_int_equal(orch_request_build(&req, &in), 0);
    first = strdup(header(&req, "Authorization"));
    assert_non_null(first);
    in.nonce = "another-nonce";
    assert_int_equal(orch_request_build(&req, &in), 0);
    assert_string_not_equal(header(&req, "Authorization"), first);
    in.nonce = NONCE;
    in.now_ms += 1000;
    assert_int_equal(orch_request_build(&req, &in), 0);
    assert_string_equal(header(&req, "x-acs-date"), "2025-01-02T03:04:06Z");
    assert_string_not_equal(header(&req, "Authorization"), first);
    in.now_ms -= 1000;
    assert_int_equal(orch_request_build(&req, &in), 0);
    assert_string_equal(header(&req, "Authorization"), first);
    assert_int_equal(header_count(&req, "Authorization"), 1);
    free(first);
    orch_request_cleanup(&req);
    orch_params_cleanup(&p);
}

static void test_format_iso8601(void **state)
{
    char out[21];

    (void)state;
    orch_format_iso8601(out, 0);
    assert_string_equal(out, "1970-01-01T00:00:00Z");
    orch_format_iso8601(out, NOW_MS);
    assert_string_equal(out, "2025-01-02T03:04:05Z");
    orch_format_iso8601(out, 1735787045999LL);
    assert_string_equal(out, "2025-01-02T03:04:05Z");
    orch_format_iso8601(out, -1);
    assert_string_equal(out, "1969-12-31T23:59:59Z");
    orch_format_iso8601(out, 951782400000LL); /* leap day 2000 */
    assert_string_equal(out, "2000-02-29T00:00:00Z");
}

static int group_setup(void **state)
{
    json_error_t err;

    (void)state;
    g_vectors = json_load_file(VECTORS, 0, &err);
    if (g_vectors == NULL) {
        fprintf(stderr, "cannot load %s: %s\n", VECTORS, err.text);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    json_decref(g_vectors);
    return 0;
}

TORTURE_MAIN(group_setup, group_teardown,
    cmocka_unit_test(test_v3_v1_single),
    cmocka_unit_test(test_every_vector),
    cmocka_unit_test(test_v2_form_body),
    cmocka_unit_test(test_v3_sts_headers),
    cmocka_unit_test(test_v3_form_body),
    cmocka_unit_test(test_endpoint_with_port),
    cmocka_unit_test(test_bad_input),
    cmocka_unit_test(test_nonce_and_date_are_signed),
    cmocka_unit_test(test_format_iso8601))
