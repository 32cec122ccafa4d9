/* test_sign.c - the V2 and V3 signers against every vector of
 * tests/fixtures/signature-vectors.json (made by the official SDKs) and the
 * raw SDK requests of tests/fixtures/sdk-raw-requests.json.
 *
 * Every test iterates the file, so a vector added to it is checked without
 * touching this code; a vector lacking a field the tests expect fails.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "orch/base/buf.h"
#include "orch/base/codec.h"
#include "orch/base/err.h"
#include "orch/cloud/params.h"
#include "orch/cloud/sign.h"
#include "torture.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VECTORS ORCH_FIXTURES "/signature-vectors.json"
#define RAW ORCH_FIXTURES "/sdk-raw-requests.json"
#define EMPTY_SHA256                                                           \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static json_t *g_vectors;
static json_t *g_raw;

/* Looks up a '/'-separated path of object keys; fails the test if absent. */
static json_t *jget(json_t *o, const char *path)
{
    json_t *v = torture_json_path(o, path);

    if (v == NULL)
        fail_msg("fixture lacks \"%s\"", path);
    return v;
}

static const char *jstr(json_t *o, const char *path)
{
    json_t *v = jget(o, path);

    if (!json_is_string(v))
        fail_msg("fixture field \"%s\" is not a string", path);
    return json_string_value(v);
}

static const char *fixed(const char *key)
{
    char path[64];

    snprintf(path, sizeof(path), "fixed_inputs/%s", key);
    return jstr(g_vectors, path);
}

/* Appends every string member of obj to p, in the file's order. */
static void params_from_object(struct orch_params *p, json_t *obj)
{
    const char *k = NULL;
    json_t *v = NULL;

    assert_true(json_is_object(obj));
    json_object_foreach(obj, k, v)
    {
        assert_true(json_is_string(v));
        assert_int_equal(orch_params_add(p, k, json_string_value(v)), 0);
    }
}

static void check_v2(const struct orch_params *p, const char *method,
                     const char *want_sts, const char *want_sig)
{
    char sig[ORCH_SIGN_V2_LEN];
    struct orch_buf sts;

    orch_buf_init(&sts);
    assert_int_equal(
        orch_sign_v2(p, method, fixed("accessKeySecret"), sig, &sts), 0);
    if (want_sts)
        assert_string_equal(orch_buf_str(&sts), want_sts);
    assert_string_equal(sig, want_sig);
    orch_buf_cleanup(&sts);
}

/* Canonicalized query = sorted, encoded parameters. */
static void check_canonical_query(const struct orch_params *src,
                                  const char *want)
{
    struct orch_params p;
    struct orch_buf q;
    size_t i = 0;

    orch_params_init(&p);
    orch_buf_init(&q);
    for (i = 0; i < src->n; i++)
        assert_int_equal(orch_params_add(&p, src->v[i].name, src->v[i].value),
                         0);
    orch_params_sort(&p);
    assert_int_equal(orch_params_encode(&p, &q), 0);
    assert_string_equal(orch_buf_str(&q), want);
    orch_buf_cleanup(&q);
    orch_params_cleanup(&p);
}

static size_t nvectors(void)
{
    json_t *a = jget(g_vectors, "vectors");

    assert_true(json_is_array(a));
    assert_true(json_array_size(a) >= 7);
    return json_array_size(a);
}

static json_t *vector(size_t i)
{
    return json_array_get(jget(g_vectors, "vectors"), i);
}

static void test_v2_vectors(void **state)
{
    size_t i = 0;

    (void)state;
    assert_string_equal(fixed("hmacKeyV2"), "testsecret&");
    for (i = 0; i < nvectors(); i++) {
        json_t *vec = vector(i);
        struct orch_params p;

        orch_params_init(&p);
        params_from_object(&p, jget(vec, "v2_params_signed"));
        assert_string_equal(jstr(vec, "v2/hmacKey"), fixed("hmacKeyV2"));
        check_canonical_query(&p, jstr(vec, "v2/canonicalizedQuery"));
        /* The signer sorts by itself: feed it the file's order. */
        check_v2(&p, "GET", jstr(vec, "v2/GET/stringToSign"),
                 jstr(vec, "v2/GET/signature"));
        check_v2(&p, "POST", jstr(vec, "v2/POST/stringToSign"),
                 jstr(vec, "v2/POST/signature"));
        /* pop-core, an independent implementation, agrees. */
        check_v2(&p, "GET", NULL, jstr(vec, "pop_core/GET/signature"));
        check_v2(&p, "POST", NULL, jstr(vec, "pop_core/POST/signature"));
        /* A Signature parameter already present is not signed. */
        assert_int_equal(orch_params_add(&p, "Signature", "bogus"), 0);
        check_v2(&p, "POST", jstr(vec, "v2/POST/stringToSign"),
                 jstr(vec, "v2/POST/signature"));
        orch_params_cleanup(&p);
    }
}

/* The IoT SDK's V2 mode sends Format=json in lower case. */
static void test_iot_sdk_v2_vectors(void **state)
{
    size_t i = 0;

    (void)state;
    for (i = 0; i < nvectors(); i++) {
        json_t *vec = vector(i);
        const char *target = jstr(vec, "iot_sdk_v2/request_target");
        const char *want_sig = jstr(vec, "iot_sdk_v2/signature");
        struct orch_params p;
        struct orch_params wire;

        orch_params_init(&p);
        orch_params_init(&wire);
        assert_string_equal(jstr(vec, "iot_sdk_v2/method"), "POST");
        params_from_object(&p, jget(vec, "v2_params_signed"));
        assert_int_equal(orch_params_remove(&p, "Format"), 1);
        assert_int_equal(orch_params_add(&p, "Format", "json"), 0);
        check_v2(&p, "POST", jstr(vec, "iot_sdk_v2/stringToSign"), want_sig);

        /* The SDK's own query, parsed back, verifies too (what the
         * emulator does with such a request). */
        assert_true(strncmp(target, "/?", 2) == 0);
        assert_int_equal(
            orch_params_parse(&wire, target + 2, strlen(target + 2)), 0);
        assert_string_equal(orch_params_get(&wire, "Signature"), want_sig);
        check_v2(&wire, "POST", jstr(vec, "iot_sdk_v2/stringToSign"), want_sig);
        orch_params_cleanup(&wire);
        orch_params_cleanup(&p);
    }
}

/* Builds the V3 header set of a vector: host, x-acs-* (+ extra signed
 * headers, + content-type for a body), as the SDK's doRequest does. */
struct v3_headers {
    struct orch_header h[16];
    size_t n;
    char payload[65];
};

static void v3_headers_make(struct v3_headers *hs, json_t *vec, json_t *extra,
                            const char *provider, const char *body)
{
    json_t *params = jget(vec, "v2_params_signed");
    const char *k = NULL;
    json_t *v = NULL;

    hs->n = 0;
    assert_int_equal(orch_sha256_hex(hs->payload, body, strlen(body)), 0);
    hs->h[hs->n++] = (struct orch_header){"host", fixed("host")};
    hs->h[hs->n++] = (struct orch_header){
        "x-acs-action", json_string_value(json_object_get(params, "Action"))};
    hs->h[hs->n++] = (struct orch_header){
        "x-acs-version", json_string_value(json_object_get(params, "Version"))};
    hs->h[hs->n++] = (struct orch_header){"x-acs-date", fixed("timestamp")};
    hs->h[hs->n++] =
        (struct orch_header){"x-acs-signature-nonce", fixed("signatureNonce")};
    hs->h[hs->n++] = (struct orch_header){"x-acs-content-sha256", hs->payload};
    if (body[0])
        hs->h[hs->n++] = (struct orch_header){
            "content-type", "application/x-www-form-urlencoded"};
    if (provider)
        hs->h[hs->n++] =
            (struct orch_header){"x-acs-credentials-provider", provider};
    if (extra) {
        json_object_foreach(extra, k, v)
        {
            assert_true(hs->n < 16);
            hs->h[hs->n++] = (struct orch_header){k, json_string_value(v)};
        }
    }
}

struct v3_out {
    struct orch_buf auth;
    struct orch_buf creq;
    struct orch_buf sts;
};

static void v3_sign(struct v3_out *o, const struct orch_params *query,
                    const struct v3_headers *hs, const char *key_id)
{
    struct orch_v3_input in = {
        .method = "POST",
        .path = "/",
        .query = query,
        .headers = hs->h,
        .nheaders = hs->n,
        .hashed_payload = hs->payload,
    };

    orch_buf_init(&o->auth);
    orch_buf_init(&o->creq);
    orch_buf_init(&o->sts);
    assert_int_equal(orch_sign_v3(&in, key_id, fixed("accessKeySecret"),
                                  &o->auth, &o->creq, &o->sts),
                     0);
}

static void v3_out_cleanup(struct v3_out *o)
{
    orch_buf_cleanup(&o->auth);
    orch_buf_cleanup(&o->creq);
    orch_buf_cleanup(&o->sts);
}

/* The caller's canonical query (request.c passes its URL's) signs the
 * same bytes as the parameters it was encoded from. */
static void v3_same_with_canonical_query(struct orch_params *query,
                                         const struct v3_headers *hs,
                                         const char *want)
{
    struct orch_buf cq, auth;
    struct orch_v3_input in = {
        .method = "POST",
        .path = "/",
        .headers = hs->h,
        .nheaders = hs->n,
        .hashed_payload = hs->payload,
    };

    orch_buf_init(&cq);
    orch_buf_init(&auth);
    orch_params_sort(query);
    assert_int_equal(orch_params_encode(query, &cq), 0);
    in.canonical_query = orch_buf_str(&cq);
    in.canonical_query_len = cq.len;
    assert_int_equal(orch_sign_v3(&in, fixed("accessKeyId"),
                                  fixed("accessKeySecret"), &auth, NULL,
                                  NULL),
                     0);
    assert_string_equal(orch_buf_str(&auth), want);
    orch_buf_cleanup(&auth);
    orch_buf_cleanup(&cq);
}

static void test_v3_query_minimal_vectors(void **state)
{
    size_t i = 0;

    (void)state;
    for (i = 0; i < nvectors(); i++) {
        json_t *vec = vector(i);
        json_t *min = jget(vec, "v3_query_minimal");
        struct orch_params q;
        struct v3_headers hs;
        struct v3_out o;

        orch_params_init(&q);
        torture_action_params(&q, vec);
        assert_string_equal(jstr(min, "method"), "POST");
        assert_string_equal(jstr(min, "hashedPayload"), EMPTY_SHA256);
        v3_headers_make(&hs, vec, json_object_get(min, "extra_signed_headers"),
                        NULL, "");
        assert_string_equal(hs.payload, EMPTY_SHA256);
        v3_sign(&o, &q, &hs, fixed("accessKeyId"));
        assert_string_equal(orch_buf_str(&o.creq),
                            jstr(min, "canonicalRequest"));
        assert_string_equal(orch_buf_str(&o.sts), jstr(min, "stringToSign"));
        assert_string_equal(orch_buf_str(&o.auth), jstr(min, "authorization"));
        v3_same_with_canonical_query(&q, &hs, orch_buf_str(&o.auth));
        v3_out_cleanup(&o);
        orch_params_cleanup(&q);
    }
}

/* The real IoT SDK signs its extra x-acs-credentials-provider header too;
 * with it added back, every byte matches the SDK's. */
static void test_iot_sdk_v3_query_vectors(void **state)
{
    size_t i = 0;

    (void)state;
    for (i = 0; i < nvectors(); i++) {
        json_t *vec = vector(i);
        json_t *sdk = jget(vec, "iot_sdk_v3_query");
        json_t *extra = json_object_get(jget(vec, "v3_query_minimal"),
                                        "extra_signed_headers");
        const char *target = jstr(sdk, "request_target");
        const char *provider =
            extra && json_object_get(extra, "x-acs-security-token")
                ? "static_sts"
                : "static_ak";
        struct orch_params q;
        struct orch_params wire;
        struct orch_buf a;
        struct orch_buf b;
        struct v3_headers hs;
        struct v3_out o;
        char hash[65];
        char want_sig[80];

        orch_params_init(&q);
        orch_params_init(&wire);
        orch_buf_init(&a);
        orch_buf_init(&b);
        torture_action_params(&q, vec);
        assert_string_equal(jstr(sdk, "method"), "POST");
        v3_headers_make(&hs, vec, extra, provider, "");
        v3_sign(&o, &q, &hs, fixed("accessKeyId"));
        assert_string_equal(orch_buf_str(&o.creq),
                            jstr(sdk, "canonicalRequest"));
        assert_int_equal(orch_sha256_hex(hash, o.creq.data, o.creq.len), 0);
        assert_string_equal(hash, jstr(sdk, "hashedCanonicalRequest"));
        assert_string_equal(orch_buf_str(&o.sts), jstr(sdk, "stringToSign"));
        assert_string_equal(orch_buf_str(&o.auth), jstr(sdk, "authorization"));
        snprintf(want_sig, sizeof(want_sig), ",Signature=%s",
                 jstr(sdk, "signatureHex"));
        assert_non_null(strstr(orch_buf_str(&o.auth), want_sig));

        /* The SDK's wire query holds exactly the action parameters. */
        assert_true(strncmp(target, "/?", 2) == 0);
        assert_int_equal(
            orch_params_parse(&wire, target + 2, strlen(target + 2)), 0);
        orch_params_sort(&wire);
        orch_params_sort(&q);
        assert_int_equal(orch_params_encode(&wire, &a), 0);
        assert_int_equal(orch_params_encode(&q, &b), 0);
        assert_string_equal(orch_buf_str(&a), orch_buf_str(&b));

        v3_out_cleanup(&o);
        orch_buf_cleanup(&a);
        orch_buf_cleanup(&b);
        orch_params_cleanup(&wire);
        orch_params_cleanup(&q);
    }
}

static void test_v3_form_body_vectors(void **state)
{
    size_t i = 0;

    (void)state;
    for (i = 0; i < nvectors(); i++) {
        json_t *vec = vector(i);
        json_t *form = jget(vec, "v3_form_body");
        const char *body = jstr(form, "body");
        struct orch_params want;
        struct orch_params got;
        struct orch_buf a;
        struct orch_buf b;
        struct v3_headers hs;
        struct v3_out o;

        orch_params_init(&want);
        orch_params_init(&got);
        orch_buf_init(&a);
        orch_buf_init(&b);
        assert_string_equal(jstr(form, "method"), "POST");
        assert_string_equal(jstr(form, "request_target"), "/");
        v3_headers_make(&hs, vec, json_object_get(form, "extra_signed_headers"),
                        NULL, body);
        assert_string_equal(hs.payload, jstr(form, "hashedPayload"));
        /* No query: an empty CanonicalQueryString line. */
        v3_sign(&o, NULL, &hs, fixed("accessKeyId"));
        assert_string_equal(orch_buf_str(&o.creq),
                            jstr(form, "canonicalRequest"));
        assert_string_equal(orch_buf_str(&o.sts), jstr(form, "stringToSign"));
        assert_string_equal(orch_buf_str(&o.auth), jstr(form, "authorization"));

        /* The body carries exactly the action parameters. */
        torture_action_params(&want, vec);
        assert_int_equal(orch_params_parse(&got, body, strlen(body)), 0);
        orch_params_sort(&want);
        orch_params_sort(&got);
        assert_int_equal(orch_params_encode(&want, &a), 0);
        assert_int_equal(orch_params_encode(&got, &b), 0);
        assert_string_equal(orch_buf_str(&a), orch_buf_str(&b));

        v3_out_cleanup(&o);
        orch_buf_cleanup(&a);
        orch_buf_cleanup(&b);
        orch_params_cleanup(&got);
        orch_params_cleanup(&want);
    }
}

/* Alibaba's own V2 example, and the old doc's TimeStamp misspelling that
 * explains the other value printed in many pages. */
static void test_documented_example_check(void **state)
{
    json_t *doc = jget(g_vectors, "documented_example_check");
    json_t *variant = jget(doc, "variant_with_TimeStamp_capital_S");
    struct orch_params p;
    const char *ts = NULL;

    (void)state;
    orch_params_init(&p);
    params_from_object(&p, jget(doc, "params"));
    assert_string_equal(jstr(doc, "expected_signature"),
                        "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
    check_canonical_query(&p, jstr(doc, "openapi_util/canonicalizedQuery"));
    check_v2(&p, "GET", jstr(doc, "openapi_util/stringToSign"),
             "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
    check_v2(&p, "GET", NULL, jstr(doc, "openapi_util/signature"));

    ts = orch_params_get(&p, "Timestamp");
    assert_non_null(ts);
    assert_int_equal(orch_params_add(&p, "TimeStamp", ts), 0);
    assert_int_equal(orch_params_remove(&p, "Timestamp"), 1);
    assert_string_equal(jstr(variant, "older_doc_value"),
                        "CT9X0VtwR86fNWSnsc6v8YGOjuE=");
    check_v2(&p, "GET", jstr(variant, "stringToSign"),
             "CT9X0VtwR86fNWSnsc6v8YGOjuE=");
    check_v2(&p, "GET", NULL, jstr(variant, "signature"));
    orch_params_cleanup(&p);
}

/* Alibaba's V3 worked example (ECS RunInstances). The inputs are the doc's;
 * the expected texts come from the fixture. */
static void test_documented_v3_example_check(void **state)
{
    json_t *doc = jget(g_vectors, "documented_v3_example_check");
    /* Names in mixed case and values with blanks: the signer lower-cases
     * and trims, as the doc requires. */
    struct orch_header h[] = {
        {"x-acs-version", "2014-05-26"},
        {"Host", " ecs.cn-shanghai.aliyuncs.com"},
        {"X-Acs-Action", "RunInstances "},
        {"x-acs-date", "2023-10-26T10:22:32Z"},
        {"x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"},
        {"x-acs-content-sha256", EMPTY_SHA256},
    };
    struct orch_v3_input in = {
        .method = "POST",
        .path = "/",
        .headers = h,
        .nheaders = sizeof(h) / sizeof(h[0]),
        .hashed_payload = EMPTY_SHA256,
    };
    struct orch_params q;
    struct orch_buf auth;
    struct orch_buf creq;
    struct orch_buf sts;
    char hash[65];
    char want_sig[80];

    (void)state;
    orch_params_init(&q);
    orch_buf_init(&auth);
    orch_buf_init(&creq);
    orch_buf_init(&sts);
    assert_int_equal(orch_params_add(&q, "RegionId", "cn-shanghai"), 0);
    assert_int_equal(
        orch_params_add(&q, "ImageId",
                        "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"),
        0);
    in.query = &q;
    assert_int_equal(orch_sign_v3(&in, "YourAccessKeyId", "YourAccessKeySecret",
                                  &auth, &creq, &sts),
                     0);
    assert_string_equal(orch_buf_str(&creq), jstr(doc, "canonicalRequest"));
    assert_int_equal(orch_sha256_hex(hash, creq.data, creq.len), 0);
    assert_string_equal(hash, jstr(doc, "expected_hashedCanonicalRequest"));
    assert_string_equal(hash, "7ea06492da5221eba5297e897ce16e55f964061054b76"
                              "95beedaac1145b1e259");
    assert_string_equal(orch_buf_str(&sts), jstr(doc, "stringToSign"));
    assert_string_equal(orch_buf_str(&auth), jstr(doc, "authorization"));
    snprintf(want_sig, sizeof(want_sig), ",Signature=%s",
             jstr(doc, "expected_signature"));
    assert_non_null(strstr(orch_buf_str(&auth), want_sig));
    assert_non_null(strstr(orch_buf_str(&auth),
                           "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee"
                           "15083a6f0f3283c0"));
    orch_buf_cleanup(&sts);
    orch_buf_cleanup(&creq);
    orch_buf_cleanup(&auth);
    orch_params_cleanup(&q);
}

/* A raw HTTP/1.1 request split into its parts (pointers into a copy). */
struct raw_req {
    char *copy;
    char *method;
    char *target;
    struct orch_header h[32];
    size_t nh;
    const char *body;
};

static void raw_parse(struct raw_req *r, const char *text)
{
    char *line = NULL;
    char *end = NULL;
    char *sp = NULL;

    r->copy = strdup(text);
    assert_non_null(r->copy);
    r->nh = 0;
    r->body = "";
    line = r->copy;
    end = strstr(line, "\r\n");
    assert_non_null(end);
    *end = '\0';
    r->method = line;
    sp = strchr(line, ' ');
    assert_non_null(sp);
    *sp = '\0';
    r->target = sp + 1;
    sp = strchr(r->target, ' ');
    assert_non_null(sp);
    *sp = '\0';
    for (line = end + 2; (end = strstr(line, "\r\n")) != NULL; line = end + 2) {
        char *colon = NULL;

        *end = '\0';
        if (*line == '\0') {
            r->body = end + 2;
            return;
        }
        colon = strchr(line, ':');
        assert_non_null(colon);
        *colon = '\0';
        assert_true(r->nh < 32);
        r->h[r->nh++] = (struct orch_header){line, colon + 1};
    }
    fail_msg("raw request without a blank line");
}

static const char *raw_header(const struct raw_req *r, const char *name)
{
    size_t i = 0;

    for (i = 0; i < r->nh; i++)
        if (strcasecmp(r->h[i].name, name) == 0)
            return r->h[i].value + strspn(r->h[i].value, " ");
    return NULL;
}

/* Verifies a raw request as a server does: V3 if it has an ACS3
 * Authorization (sign the header set it names... here: host, content-type
 * and every x-acs-*), else V2 over query and form body. */
static void verify_raw(const char *text)
{
    struct raw_req r;
    struct orch_params p;
    const char *q = NULL;
    const char *auth = NULL;

    orch_params_init(&p);
    raw_parse(&r, text);
    q = strchr(r.target, '?');
    if (q)
        assert_int_equal(orch_params_parse(&p, q + 1, strlen(q + 1)), 0);
    auth = raw_header(&r, "Authorization");
    if (auth) {
        struct orch_header signed_h[32];
        struct orch_v3_input in = {0};
        struct orch_buf mine;
        char payload[65];
        size_t i = 0;
        size_t n = 0;

        orch_buf_init(&mine);
        for (i = 0; i < r.nh; i++) {
            if (strcasecmp(r.h[i].name, "host") == 0 ||
                strcasecmp(r.h[i].name, "content-type") == 0 ||
                strncasecmp(r.h[i].name, "x-acs-", 6) == 0)
                signed_h[n++] = r.h[i];
        }
        assert_int_equal(orch_sha256_hex(payload, r.body, strlen(r.body)), 0);
        assert_string_equal(raw_header(&r, "x-acs-content-sha256"), payload);
        in.method = r.method;
        in.path = "/";
        in.query = &p;
        in.headers = signed_h;
        in.nheaders = n;
        in.hashed_payload = payload;
        assert_int_equal(
            orch_sign_v3(&in, "testid", "testsecret", &mine, NULL, NULL), 0);
        assert_string_equal(orch_buf_str(&mine), auth);
        orch_buf_cleanup(&mine);
    } else {
        char sig[ORCH_SIGN_V2_LEN];
        const char *want = NULL;

        if (r.body[0])
            assert_int_equal(orch_params_parse(&p, r.body, strlen(r.body)), 0);
        want = orch_params_get(&p, "Signature");
        assert_non_null(want);
        assert_int_equal(orch_sign_v2(&p, r.method, "testsecret", sig, NULL),
                         0);
        assert_string_equal(sig, want);
    }
    orch_params_cleanup(&p);
    free(r.copy);
}

static void test_raw_sdk_requests_verify(void **state)
{
    const char *k = NULL;
    json_t *v = NULL;
    size_t checked = 0;
    size_t i = 0;

    (void)state;
    assert_string_equal(fixed("accessKeySecret"), "testsecret");
    json_object_foreach(g_raw, k, v)
    {
        verify_raw(jstr(v, "raw_request"));
        checked++;
    }
    for (i = 0; i < nvectors(); i++) {
        json_t *raw = json_object_get(vector(i), "raw_requests");

        if (raw == NULL)
            continue;
        json_object_foreach(raw, k, v)
        {
            assert_true(json_is_string(v));
            verify_raw(json_string_value(v));
            checked++;
        }
    }
    assert_true(checked >= 2 + 4);
}

/* Tampering with any signed input changes the signature. */
static void test_v3_detects_changes(void **state)
{
    struct orch_header h[] = {
        {"host", "iot.cn-shanghai.aliyuncs.com"},
        {"x-acs-date", "2025-01-02T03:04:05Z"},
    };
    struct orch_v3_input in = {
        .method = "POST",
        .path = "/",
        .query = NULL,
        .headers = h,
        .nheaders = 2,
        .hashed_payload = EMPTY_SHA256,
    };
    const char *prefix = "ACS3-HMAC-SHA256 Credential=id,"
                         "SignedHeaders=host;x-acs-date,Signature=";
    struct orch_buf a;
    struct orch_buf b;

    (void)state;
    orch_buf_init(&a);
    orch_buf_init(&b);
    assert_int_equal(orch_sign_v3(&in, "id", "s", &a, NULL, NULL), 0);
    h[1].value = "2025-01-02T03:04:06Z";
    assert_int_equal(orch_sign_v3(&in, "id", "s", &b, NULL, NULL), 0);
    assert_string_not_equal(orch_buf_str(&a), orch_buf_str(&b));
    orch_buf_reset(&b);
    h[1].value = "2025-01-02T03:04:05Z";
    assert_int_equal(orch_sign_v3(&in, "id", "t", &b, NULL, NULL), 0);
    assert_string_not_equal(orch_buf_str(&a), orch_buf_str(&b));
    orch_buf_reset(&b);
    assert_int_equal(orch_sign_v3(&in, "id", "s", &b, NULL, NULL), 0);
    assert_string_equal(orch_buf_str(&a), orch_buf_str(&b));
    assert_true(strncmp(orch_buf_str(&a), prefix, strlen(prefix)) == 0);
    assert_int_equal(a.len, strlen(prefix) + 64);
    /* A long header name is fine, and its case does not matter. */
    {
        static const char longname[] =
            "X-Acs-This-Header-Name-Is-Much-Longer-Than-Any-Header-The-"
            "Client-Sends-Itself";
        struct orch_header h2[] = {
            {"host", "iot.cn-shanghai.aliyuncs.com"},
            {longname, "v"},
        };
        struct orch_buf c;

        orch_buf_init(&c);
        in.headers = h2;
        orch_buf_reset(&b);
        assert_int_equal(orch_sign_v3(&in, "id", "s", &b, &c, NULL), 0);
        assert_non_null(strstr(orch_buf_str(&c),
                               "\nx-acs-this-header-name-is-much-longer-than-"
                               "any-header-the-client-sends-itself:v\n"));
        h2[1].name = "x-acs-this-header-name-is-much-longer-than-any-header-"
                     "the-client-sends-itself";
        orch_buf_reset(&a);
        assert_int_equal(orch_sign_v3(&in, "id", "s", &a, NULL, NULL), 0);
        assert_string_equal(orch_buf_str(&a), orch_buf_str(&b));
        orch_buf_cleanup(&c);
        in.headers = h;
    }
    /* Missing inputs are refused. */
    in.hashed_payload = NULL;
    assert_int_equal(orch_sign_v3(&in, "id", "s", &b, NULL, NULL), ORCH_EINVAL);
    orch_buf_cleanup(&a);
    orch_buf_cleanup(&b);
}

static int group_setup(void **state)
{
    json_error_t err;

    (void)state;
    g_vectors = json_load_file(VECTORS, 0, &err);
    g_raw = json_load_file(RAW, 0, &err);
    if (g_vectors == NULL || g_raw == NULL) {
        fprintf(stderr, "cannot load fixtures: %s:%d: %s\n", err.source,
                err.line, err.text);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    json_decref(g_vectors);
    json_decref(g_raw);
    return 0;
}

TORTURE_MAIN(group_setup, group_teardown,
    cmocka_unit_test(test_v2_vectors),
    cmocka_unit_test(test_iot_sdk_v2_vectors),
    cmocka_unit_test(test_v3_query_minimal_vectors),
    cmocka_unit_test(test_iot_sdk_v3_query_vectors),
    cmocka_unit_test(test_v3_form_body_vectors),
    cmocka_unit_test(test_documented_example_check),
    cmocka_unit_test(test_documented_v3_example_check),
    cmocka_unit_test(test_raw_sdk_requests_verify),
    cmocka_unit_test(test_v3_detects_changes))
