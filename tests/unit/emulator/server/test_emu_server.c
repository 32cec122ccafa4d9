/* test_emu_server.c - the emulator's HTTP side in-process on a free
 * loopback port, driven with libcurl: stats, quotas at the 21st call,
 * faults (lost response, 5xx, reset, malformed), request log, 413, TLS
 * with a throwaway certificate the client verifies. The server's clock is
 * a test clock, so quota windows do not depend on the machine's speed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "server/emu_log.h"
#include "server/emu_server.h"
#include "gateway/emu_verify.h"
#include "world/emu_world.h"
#include "orch/base/buf.h"
#include "orch/base/err.h"
#include "orch/cloud/params.h"
#include "orch/cloud/sign.h"
#include "torture.h"

#define KEY_ID "testid"
#define SECRET "testsecret"
#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */

struct fixture {
    struct emu_world *world;
    struct emu_verifier *verifier;
    struct emu_server *srv;
    _Atomic int64_t clock;
    char log_path[256];
    char base[128];
    unsigned nonce;
    char *ca_pem; /* TLS only */
    bool no_log;  /* start without a request log (event-loop threads) */
};

static int64_t test_clock(void *ctx)
{
    struct fixture *f = ctx;

    return atomic_load(&f->clock);
}

static void start(struct fixture *f, const struct emu_fault_opts *faults,
                  const char *cert, const char *key)
{
    struct emu_world_opts wo;
    struct emu_server_opts so;
    struct orch_diag d;
    int fd = -1;

    memset(&wo, 0, sizeof(wo));
    wo.auto_create = true;
    wo.sim_speed = 0;
    wo.success_ratio = 1;
    wo.seed = 1;
    f->world = emu_world_new(&wo);
    assert_non_null(f->world);
    f->verifier = emu_verifier_new();
    assert_int_equal(emu_verifier_add_key(f->verifier, KEY_ID ":" SECRET,
                                          NULL),
                     0);
    atomic_store(&f->clock, T0);
    snprintf(f->log_path, sizeof(f->log_path), "/tmp/emu-log-XXXXXX");
    fd = mkstemp(f->log_path);
    assert_true(fd >= 0);
    close(fd);
    emu_server_opts_init(&so);
    so.world = f->world;
    so.verifier = f->verifier;
    so.request_log = f->no_log ? NULL : f->log_path;
    so.clock.now_ms = test_clock;
    so.clock.ctx = f;
    so.slow_ms = 200;
    so.tls_cert_pem = cert;
    so.tls_key_pem = key;
    if (faults)
        so.faults = *faults;
    if (emu_server_start(&so, &f->srv, &d) != 0)
        fail_msg("start: %s", d.msg);
    assert_true(emu_server_port(f->srv) > 0);
    snprintf(f->base, sizeof(f->base), "%s://127.0.0.1:%u/",
             cert ? "https" : "http", (unsigned)emu_server_port(f->srv));
}

static void stop(struct fixture *f)
{
    emu_server_stop(f->srv);
    emu_world_free(f->world);
    emu_verifier_free(f->verifier);
    unlink(f->log_path);
    free(f->ca_pem);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    *state = f;
    return f ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    stop(f);
    free(f);
    return 0;
}

struct resp {
    long status;
    CURLcode rc;
    char *body;
    size_t len;
};

static size_t collect(char *p, size_t sz, size_t n, void *ud)
{
    struct orch_buf *b = ud;

    orch_buf_append(b, p, sz * n);
    return sz * n;
}

static void http(struct fixture *f, const char *url, const char *post,
                 size_t post_len, struct resp *r)
{
    CURL *c = curl_easy_init();
    struct orch_buf b;
    struct curl_blob blob;

    orch_buf_init(&b);
    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    if (post) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)post_len);
    }
    if (f->ca_pem) {
        blob.data = f->ca_pem;
        blob.len = strlen(f->ca_pem);
        blob.flags = CURL_BLOB_COPY;
        curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    }
    r->rc = curl_easy_perform(c);
    r->status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    r->len = b.len;
    r->body = orch_buf_detach(&b);
    curl_easy_cleanup(c);
}

/* A V2-signed GET of `action` with extra "k=v" params (NULL-terminated),
 * timestamped by the fixture's clock. */
static void api(struct fixture *f, const char *action,
                const char *const *kv, struct resp *r)
{
    struct orch_params p;
    struct orch_buf q;
    struct orch_buf url;
    char sig[ORCH_SIGN_V2_LEN];
    char ts[32];
    time_t t = (time_t)(atomic_load(&f->clock) / 1000);
    struct tm tm;
    size_t i = 0;

    orch_params_init(&p);
    orch_buf_init(&q);
    orch_buf_init(&url);
    gmtime_r(&t, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    orch_params_add(&p, "Action", action);
    orch_params_add(&p, "Version", "2018-01-20");
    orch_params_add(&p, "Format", "JSON");
    orch_params_add(&p, "AccessKeyId", KEY_ID);
    orch_params_add(&p, "SignatureMethod", "HMAC-SHA1");
    orch_params_add(&p, "SignatureVersion", "1.0");
    orch_params_addf(&p, "SignatureNonce", "nonce-%u", ++f->nonce);
    orch_params_add(&p, "Timestamp", ts);
    for (i = 0; kv && kv[i]; i += 2)
        orch_params_add(&p, kv[i], kv[i + 1]);
    assert_int_equal(orch_sign_v2(&p, "GET", SECRET, sig, NULL), 0);
    orch_params_add(&p, "Signature", sig);
    orch_params_encode(&p, &q);
    orch_buf_printf(&url, "%s?%s", f->base, orch_buf_str(&q));
    http(f, orch_buf_str(&url), NULL, 0, r);
    orch_params_cleanup(&p);
    orch_buf_cleanup(&q);
    orch_buf_cleanup(&url);
}

static void create(struct fixture *f, unsigned dev, struct resp *r)
{
    char name[32];
    const char *kv[] = {"ProductKey", "a1BwAGVabcd", "FirmwareId",
                        "UkOZxXXnVaLfqvvv8YzC000100", "TargetSelection",
                        "SPECIFIC", "TargetDeviceName.1", name, NULL};

    snprintf(name, sizeof(name), "dev-%06u", dev);
    api(f, "CreateOTAStaticUpgradeJob", kv, r);
}

static json_t *get_json(struct fixture *f, const char *path)
{
    char url[256];
    struct resp r;
    json_t *j = NULL;
    json_error_t e;

    snprintf(url, sizeof(url), "%s%s", f->base, path + 1);
    http(f, url, NULL, 0, &r);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    j = json_loadb(r.body, r.len, 0, &e);
    if (j == NULL)
        fail_msg("%s: not JSON: %s", path, r.body);
    free(r.body);
    return j;
}

static json_t *body_json(const struct resp *r)
{
    json_error_t e;
    json_t *j = json_loadb(r->body, r->len, 0, &e);

    if (j == NULL)
        fail_msg("not JSON (%ld): %.300s", r->status, r->body);
    return j;
}

static json_t *read_log(struct fixture *f)
{
    FILE *fp = fopen(f->log_path, "r");
    json_t *all = json_array();
    char line[65536];

    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp)) {
        json_error_t e;
        json_t *j = json_loads(line, 0, &e);

        if (j == NULL)
            fail_msg("log line is not JSON: %s", line);
        json_array_append_new(all, j);
    }
    fclose(fp);
    return all;
}

static const char *code_of(json_t *j)
{
    const char *c = json_string_value(json_object_get(j, "Code"));

    return c ? c : "";
}

/* ---- tests ---- */

static void stats_and_jobs_endpoints(void **state)
{
    struct fixture *f = *state;
    json_t *st = NULL, *jobs = NULL, *j = NULL;
    struct resp r;

    start(f, NULL, NULL, NULL);
    create(f, 1, &r);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    j = body_json(&r);
    assert_true(json_is_true(json_object_get(j, "Success")));
    json_decref(j);
    free(r.body);
    st = get_json(f, "/__emu/stats");
    assert_int_equal(json_integer_value(json_object_get(st, "requests")), 1);
    assert_int_equal(
        torture_json_int(st, "by_action/CreateOTAStaticUpgradeJob"), 1);
    assert_int_equal(json_integer_value(json_object_get(st, "jobs")), 1);
    assert_int_equal(
        json_integer_value(json_object_get(st, "devices_assigned")), 1);
    assert_true(json_is_array(json_object_get(st, "double_assigned")));
    assert_int_equal(torture_json_int(st, "max_calls_in_any_second/create"), 1);
    jobs = get_json(f, "/__emu/jobs");
    assert_int_equal(json_array_size(jobs), 1);
    json_decref(st);
    json_decref(jobs);
    /* Not API paths. */
    {
        char url[256];

        snprintf(url, sizeof(url), "%snope", f->base);
        http(f, url, NULL, 0, &r);
        assert_int_equal(r.status, 404);
        free(r.body);
    }
}

static void throttled_at_21st_create_in_a_second(void **state)
{
    struct fixture *f = *state;
    json_t *st = NULL;
    struct resp r;
    unsigned i = 0, ok = 0, throttled = 0;

    start(f, NULL, NULL, NULL);
    for (i = 0; i < 25; i++) {
        json_t *j = NULL;

        atomic_store(&f->clock, T0 + i * 10); /* 25 calls in 250 ms */
        create(f, i, &r);
        assert_int_equal(r.rc, CURLE_OK);
        j = body_json(&r);
        if (i < 20) {
            assert_int_equal(r.status, 200);
            ok++;
        } else {
            assert_int_equal(r.status, 400);
            assert_string_equal(code_of(j), "Throttling.User");
            assert_string_equal(
                json_string_value(json_object_get(j, "Message")),
                "Request was denied due to user flow control.");
            assert_non_null(json_object_get(j, "RequestId"));
            assert_non_null(json_object_get(j, "HostId"));
            assert_non_null(json_object_get(j, "Recommend"));
            throttled++;
        }
        json_decref(j);
        free(r.body);
    }
    /* One second after the first call, one slot is free again. */
    atomic_store(&f->clock, T0 + 1000);
    create(f, 100, &r);
    assert_int_equal(r.status, 200);
    free(r.body);
    create(f, 101, &r);
    assert_int_equal(r.status, 400);
    free(r.body);
    /* The query quota (10) is separate from Create's. */
    for (i = 0; i < 11; i++) {
        const char *kv[] = {"JobId", "nosuchjob", NULL};
        json_t *j = NULL;

        api(f, "QueryOTAJob", kv, &r);
        j = body_json(&r);
        if (i < 10)
            assert_string_not_equal(code_of(j), "Throttling.User");
        else
            assert_string_equal(code_of(j), "Throttling.User");
        json_decref(j);
        free(r.body);
    }
    st = get_json(f, "/__emu/stats");
    assert_int_equal(json_integer_value(json_object_get(st, "throttled")),
                     throttled + 2);
    assert_int_equal(json_integer_value(json_object_get(st, "jobs")),
                     ok + 1);
    /* 27 Creates arrived within [T0, T0+1000]: any sliding 1000 ms window
     * holds at most 26 of them (T0 itself drops out at T0+1000). */
    assert_int_equal(torture_json_int(st, "max_calls_in_any_second/create"),
                     26);
    assert_int_equal(torture_json_int(st, "max_calls_in_any_second/query"), 11);
    json_decref(st);
}

/* Each action has its own quota per AccessKey, as alibaba-api.md (e)
 * documents: QueryOTAFirmware 20/s, QueryDeviceDetail 50/s,
 * BatchQueryDeviceDetail 5/s, CancelOTATaskByJob 5/s, the other queries
 * 10/s each. The call after the quota in the same second is throttled,
 * and only that one action's. */
static void quotas_per_action_as_documented(void **state)
{
    static const struct {
        const char *action;
        const char *kv[7];
        unsigned quota;
    } q[] = {
        {"CancelOTATaskByJob", {"JobId", "nosuch", "CancelQueuedTask",
                                "true", NULL}, 5},
        {"QueryOTAFirmware", {"FirmwareId", "nosuch", NULL}, 20},
        {"BatchQueryDeviceDetail", {"ProductKey", "a1BwAGVabcd",
                                    "DeviceName.1", "d1", NULL}, 5},
        {"QueryDeviceDetail", {"IotId", "nosuch", NULL}, 50},
        {"ListOTAJobByFirmware", {"FirmwareId", "nosuch", "PageSize", "10",
                                  "CurrentPage", "1", NULL}, 10},
        {"QueryOTAJob", {"JobId", "nosuch", NULL}, 10},
        {"ListOTATaskByJob", {"JobId", "nosuch", NULL}, 10},
        {"ListOTAJobByDevice", {"FirmwareId", "nosuch", "ProductKey",
                                "a1BwAGVabcd", "DeviceName", "d1", NULL},
         10},
    };
    struct fixture *f = *state;
    struct emu_server_opts o;
    struct resp r;
    json_t *st = NULL;
    size_t a = 0;
    unsigned i = 0, total = 0;

    start(f, NULL, NULL, NULL);
    for (a = 0; a < sizeof(q) / sizeof(q[0]); a++) {
        unsigned throttled = 0;

        /* quota + 2 calls within 100 ms: the first `quota` pass. */
        for (i = 0; i < q[a].quota + 2; i++) {
            json_t *j = NULL;
            bool thr = false;

            atomic_store(&f->clock, T0 + 2000 * (int64_t)a + i);
            api(f, q[a].action, q[a].kv, &r);
            assert_int_equal(r.rc, CURLE_OK);
            j = body_json(&r);
            thr = strcmp(code_of(j), "Throttling.User") == 0;
            if (thr != (i >= q[a].quota))
                fail_msg("%s call %u: %s (status %ld)", q[a].action, i + 1,
                         thr ? "throttled" : "not throttled", r.status);
            throttled += thr;
            json_decref(j);
            free(r.body);
        }
        assert_int_equal(throttled, 2);
        total += 2;
    }
    st = get_json(f, "/__emu/stats");
    assert_int_equal(json_integer_value(json_object_get(st, "throttled")),
                     total);
    json_decref(st);

    /* The options set them; --qps-scale multiplies every one. */
    emu_server_opts_init(&o);
    assert_true(emu_action_quota(&o, "QueryOTAFirmware") == 20);
    assert_true(emu_action_quota(&o, "QueryDeviceDetail") == 50);
    assert_true(emu_action_quota(&o, "CancelOTATaskByJob") == 5);
    assert_true(emu_action_quota(&o, "BatchQueryDeviceDetail") == 5);
    assert_true(emu_action_quota(&o, "ListOTATaskByJob") == 10);
    assert_true(emu_action_quota(&o, "CreateOTAStaticUpgradeJob") == 20);
    assert_true(emu_action_quota(&o, "NoSuchAction") == 0);
    o.qps_scale = 2;
    o.qps_firmware = 7;
    o.qps_device_detail = 3;
    assert_true(emu_action_quota(&o, "QueryOTAFirmware") == 14);
    assert_true(emu_action_quota(&o, "QueryDeviceDetail") == 6);
    assert_true(emu_action_quota(&o, "QueryOTAJob") == 20);
    assert_true(emu_action_quota(&o, "CancelOTATaskByJob") == 10);
}

/* The quota counts arrival times, not the order requests are decided in
 * (threads, and formerly the latency sleep, reorder them): an arrival
 * stamped before the ones already accepted is judged by the windows that
 * hold it. */
static void quota_counts_arrivals_in_any_order(void **state)
{
    struct fixture *f = *state;
    struct resp r;
    unsigned i = 0;
    static const struct {
        int64_t at;
        long status;
    } late[] = {
        {500, 200},  /* nothing else within a second of it */
        {1999, 400}, /* [1999, 2999) would hold 21 */
        {1000, 200}, /* [1000, 2000) holds 500 and 1000 */
        {1980, 400}, /* [1980, 2980) would hold 21 */
        {990, 200},  /* windows holding it: 500, 990, 1000 at most */
    };

    start(f, NULL, NULL, NULL);
    for (i = 0; i < 20; i++) {
        atomic_store(&f->clock, T0 + 2000 + i);
        create(f, i, &r);
        assert_int_equal(r.status, 200);
        free(r.body);
    }
    for (i = 0; i < sizeof(late) / sizeof(late[0]); i++) {
        atomic_store(&f->clock, T0 + late[i].at);
        create(f, 100 + i, &r);
        assert_int_equal(r.status, late[i].status);
        free(r.body);
    }
    /* A second after the first of the 20, one slot is free again. */
    atomic_store(&f->clock, T0 + 3000);
    create(f, 200, &r);
    assert_int_equal(r.status, 200);
    free(r.body);
    create(f, 201, &r);
    assert_int_equal(r.status, 400);
    free(r.body);
}

/* Which threading: a thread per connection when a request may sleep
 * (latency, slow bodies) or a request log is kept (tests: no arrival may
 * wait behind another request's processing), else event-loop threads; an
 * explicit count with sleeping faults is refused. */
static void threading_follows_the_options(void **state)
{
    struct fixture *f = *state;
    struct emu_server_opts o;
    struct emu_server *srv = NULL;
    struct orch_diag d;
    struct resp r;
    json_t *st = NULL;
    unsigned i = 0;

    emu_server_opts_init(&o);
    assert_true(emu_server_threads(&o) >= 1);
    o.request_log = "x.log";
    assert_int_equal(emu_server_threads(&o), 0);
    o.threads = 3;
    assert_int_equal(emu_server_threads(&o), 3);
    o.faults.lat_max_ms = 10;
    assert_int_equal(emu_server_threads(&o), 0);
    o.world = (struct emu_world *)1; /* refused before either is used */
    o.verifier = (struct emu_verifier *)1;
    assert_int_equal(emu_server_start(&o, &srv, &d), ORCH_EINVAL);
    assert_null(srv);
    o.faults.lat_max_ms = 0;
    o.threads = 0;
    o.request_log = NULL;
    o.faults.p_slow = 0.5;
    assert_int_equal(emu_server_threads(&o), 0);

    /* The event-loop server answers like the other one. */
    f->no_log = true;
    start(f, NULL, NULL, NULL);
    for (i = 0; i < 30; i++) {
        atomic_store(&f->clock, T0 + i * 10); /* 30 calls in 300 ms */
        create(f, i, &r);
        assert_int_equal(r.rc, CURLE_OK);
        assert_int_equal(r.status, i < 20 ? 200 : 400);
        free(r.body);
    }
    st = get_json(f, "/__emu/stats");
    assert_int_equal(json_integer_value(json_object_get(st, "jobs")), 20);
    assert_int_equal(json_integer_value(json_object_get(st, "throttled")),
                     10);
    json_decref(st);
}

static void lost_response_creates_the_job(void **state)
{
    struct fixture *f = *state;
    struct emu_fault_opts fo;
    json_t *jobs = NULL, *log = NULL, *e = NULL;
    struct resp r;

    emu_fault_opts_init(&fo);
    fo.p_lose = 1;
    start(f, &fo, NULL, NULL);
    create(f, 7, &r);
    assert_int_equal(r.rc, CURLE_GOT_NOTHING);
    free(r.body);
    jobs = get_json(f, "/__emu/jobs");
    assert_int_equal(json_array_size(jobs), 1);
    log = read_log(f);
    assert_int_equal(json_array_size(log), 1);
    e = json_array_get(log, 0);
    assert_string_equal(json_string_value(json_object_get(e, "fault")),
                        "lose");
    assert_string_equal(json_string_value(json_object_get(e, "code")), "");
    assert_string_equal(json_string_value(json_object_get(e, "job_id")),
                        json_string_value(json_object_get(
                            json_array_get(jobs, 0), "JobId")));
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(e, "devices"), 0)),
                        "dev-000007");
    json_decref(jobs);
    json_decref(log);
}

/* POSTs a form to /__emu/<what>; returns the HTTP status, *out the
 * answer (NULL: not wanted). */
static long post_emu(struct fixture *f, const char *what, const char *query,
                     const char *form, json_t **out)
{
    char url[512];
    struct resp r;
    long status = 0;

    snprintf(url, sizeof(url), "%s__emu/%s%s%s", f->base, what,
             query ? "?" : "", query ? query : "");
    http(f, url, form ? form : "", form ? strlen(form) : 0, &r);
    assert_int_equal(r.rc, CURLE_OK);
    status = r.status;
    if (out)
        *out = body_json(&r);
    free(r.body);
    return status;
}

/* POST /__emu/clock moves the clock forward only; GET shows it. */
static void clock_advances(void **state)
{
    struct fixture *f = *state;
    json_t *j = NULL;

    start(f, NULL, NULL, NULL);
    j = get_json(f, "/__emu/clock");
    assert_int_equal(json_integer_value(json_object_get(j, "now_ms")), T0);
    json_decref(j);
    assert_int_equal(post_emu(f, "clock", "advance=60000", NULL, &j), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "now_ms")),
                     T0 + 60000);
    json_decref(j);
    assert_int_equal(post_emu(f, "clock", NULL, "advance=1000", &j), 200);
    json_decref(j);
    j = get_json(f, "/__emu/clock");
    assert_int_equal(json_integer_value(json_object_get(j, "now_ms")),
                     T0 + 61000);
    assert_int_equal(json_integer_value(json_object_get(j, "advanced_ms")),
                     61000);
    json_decref(j);
    /* Never back, nothing malformed: 400 and the clock unchanged. */
    assert_int_equal(post_emu(f, "clock", "advance=-5", NULL, NULL), 400);
    assert_int_equal(post_emu(f, "clock", "advance=5x", NULL, NULL), 400);
    assert_int_equal(post_emu(f, "clock", "xadvance=5", NULL, NULL), 400);
    assert_int_equal(post_emu(f, "clock", NULL, "", NULL), 400);
    j = get_json(f, "/__emu/clock");
    assert_int_equal(json_integer_value(json_object_get(j, "now_ms")),
                     T0 + 61000);
    json_decref(j);
}

/* The status of a QueryOTAJob call and its Code. */
static long query_job(struct fixture *f, char code[64])
{
    const char *kv[] = {"JobId", "nosuchjob", NULL};
    struct resp r;
    json_t *j = NULL;
    long st = 0;

    api(f, "QueryOTAJob", kv, &r);
    assert_int_equal(r.rc, CURLE_OK);
    j = body_json(&r);
    snprintf(code, 64, "%s", code_of(j));
    st = r.status;
    json_decref(j);
    free(r.body);
    return st;
}

/* --fault-actions scopes the faults, --fail-queries fails the query
 * actions, and POST /__emu/faults switches both while the server runs:
 * a Create's answer is lost while the queries that would find its job
 * fail, then the queries work again and find it. */
static void faults_scoped_and_switched_at_run_time(void **state)
{
    struct fixture *f = *state;
    struct emu_fault_opts fo;
    struct orch_diag d;
    json_t *j = NULL, *jobs = NULL, *st = NULL;
    struct resp r;
    char code[64];
    const char *cancel[] = {"JobId", "nosuch", "CancelQueuedTask", "true",
                            NULL};

    emu_fault_opts_init(&fo);
    fo.p_lose = 1;
    fo.p_fail_query = 1;
    assert_int_equal(
        emu_faults_parse_actions(&fo, "CreateOTAStaticUpgradeJob", &d), 0);
    start(f, &fo, NULL, NULL);
    create(f, 1, &r);
    assert_int_equal(r.rc, CURLE_GOT_NOTHING); /* lost, job made */
    free(r.body);
    assert_int_equal(query_job(f, code), 503);
    assert_string_equal(code, "ServiceUnavailable");
    /* Not a query, not in the scope: answered by the world. */
    api(f, "CancelOTATaskByJob", cancel, &r);
    assert_int_equal(r.rc, CURLE_OK);
    j = body_json(&r);
    assert_string_not_equal(code_of(j), "ServiceUnavailable");
    json_decref(j);
    free(r.body);
    j = get_json(f, "/__emu/faults");
    assert_true(json_real_value(json_object_get(j, "fail-queries")) == 1.0);
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(j, "fault-actions"), 0)),
                        "CreateOTAStaticUpgradeJob");
    json_decref(j);

    /* Switched off: a form in the body. */
    assert_int_equal(post_emu(f, "faults", NULL, "fail-queries=0&lose-response=0",
                                 &j),
                     200);
    assert_true(json_real_value(json_object_get(j, "fail-queries")) == 0.0);
    assert_true(json_real_value(json_object_get(j, "lose-response")) == 0.0);
    json_decref(j);
    create(f, 2, &r);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    free(r.body);
    assert_int_not_equal(query_job(f, code), 503);
    jobs = get_json(f, "/__emu/jobs");
    assert_int_equal(json_array_size(jobs), 2);
    json_decref(jobs);

    /* Refused, all or nothing: a setting that cannot change at run time,
     * an unknown action, a bad probability, a sum over 1. */
    assert_int_equal(post_emu(f, "faults", "fail-5xx=1&slow-body=1", NULL, &j), 400);
    assert_non_null(strstr(json_string_value(json_object_get(j, "Message")),
                           "slow-body"));
    json_decref(j);
    assert_int_equal(post_emu(f, "faults", NULL, "fault-actions=NoSuchAction",
                                 NULL),
                     400);
    assert_int_equal(post_emu(f, "faults", NULL, "fail-5xx=2", NULL), 400);
    assert_int_equal(post_emu(f, "faults", NULL, "fail-5xx=0.7&reset=0.7", NULL),
                     400);
    assert_int_equal(post_emu(f, "faults", NULL, "fail-5xx", NULL), 400);
    j = get_json(f, "/__emu/faults");
    assert_true(json_real_value(json_object_get(j, "fail-5xx")) == 0.0);
    assert_true(json_real_value(json_object_get(j, "reset")) == 0.0);
    json_decref(j);

    /* The scope moved to the queries (form in the query string, escaped). */
    assert_int_equal(post_emu(f, "faults", "fault-actions=QueryOTAJob%2CListOTATask"
                                    "ByJob&fail-5xx=1",
                                 NULL, &j),
                     200);
    assert_int_equal(json_array_size(json_object_get(j, "fault-actions")), 2);
    json_decref(j);
    create(f, 3, &r);
    assert_int_equal(r.status, 200);
    free(r.body);
    assert_true(query_job(f, code) >= 500);
    st = get_json(f, "/__emu/stats");
    assert_int_equal(torture_json_int(st, "faults/5xx"), 2);
    assert_int_equal(torture_json_int(st, "faults/lose"), 1);
    json_decref(st);
}

static void fault_5xx_reset_malformed_create_nothing(void **state)
{
    struct fixture *f = *state;
    struct emu_fault_opts fo;
    json_t *jobs = NULL, *st = NULL, *j = NULL;
    struct resp r;
    unsigned i = 0;
    int s500 = 0, s503 = 0;

    emu_fault_opts_init(&fo);
    fo.seed = 5;
    fo.p_5xx = 1;
    start(f, &fo, NULL, NULL);
    for (i = 0; i < 12; i++) {
        create(f, i, &r);
        assert_int_equal(r.rc, CURLE_OK);
        assert_true(r.status == 500 || r.status == 503);
        j = body_json(&r);
        assert_string_equal(code_of(j), r.status == 500
                                            ? "InternalError"
                                            : "ServiceUnavailable");
        s500 += r.status == 500;
        s503 += r.status == 503;
        json_decref(j);
        free(r.body);
    }
    assert_true(s500 > 0 && s503 > 0);
    jobs = get_json(f, "/__emu/jobs");
    assert_int_equal(json_array_size(jobs), 0);
    json_decref(jobs);
    st = get_json(f, "/__emu/stats");
    assert_int_equal(torture_json_int(st, "faults/5xx"), 12);
    json_decref(st);
    stop(f);
    memset(f, 0, sizeof(*f));

    fo.p_5xx = 0;
    fo.p_reset = 1;
    start(f, &fo, NULL, NULL);
    create(f, 1, &r);
    assert_true(r.rc == CURLE_RECV_ERROR || r.rc == CURLE_GOT_NOTHING);
    free(r.body);
    jobs = get_json(f, "/__emu/jobs");
    assert_int_equal(json_array_size(jobs), 0);
    json_decref(jobs);
    stop(f);
    memset(f, 0, sizeof(*f));

    fo.p_reset = 0;
    fo.p_malformed = 1;
    start(f, &fo, NULL, NULL);
    for (i = 0; i < 6; i++) {
        json_error_t e;

        create(f, i, &r);
        assert_int_equal(r.rc, CURLE_OK);
        assert_int_equal(r.status, 200);
        j = json_loadb(r.body, r.len, 0, &e);
        assert_null(j);
        free(r.body);
    }
    jobs = get_json(f, "/__emu/jobs");
    assert_int_equal(json_array_size(jobs), 0);
    json_decref(jobs);
}

static void slow_body_still_complete(void **state)
{
    struct fixture *f = *state;
    struct emu_fault_opts fo;
    struct resp r;
    json_t *j = NULL;

    emu_fault_opts_init(&fo);
    fo.p_slow = 1;
    start(f, &fo, NULL, NULL);
    create(f, 3, &r);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    j = body_json(&r);
    assert_true(json_is_true(json_object_get(j, "Success")));
    json_decref(j);
    free(r.body);
}

static void request_log_redacts_signature(void **state)
{
    struct fixture *f = *state;
    json_t *log = NULL, *e = NULL;
    struct resp r;
    size_t i = 0;
    FILE *fp = NULL;
    char all[65536];
    size_t n = 0;

    start(f, NULL, NULL, NULL);
    create(f, 1, &r);
    free(r.body);
    {
        const char *kv[] = {"JobId", "x", "SecurityToken", "tok-secret",
                            NULL};

        api(f, "QueryOTAJob", kv, &r); /* a plain key with a token */
        free(r.body);
    }
    log = read_log(f);
    assert_int_equal(json_array_size(log), 2);
    json_array_foreach(log, i, e) {
        json_t *p = json_object_get(e, "params");

        assert_true(json_is_integer(json_object_get(e, "t")));
        assert_int_equal(json_integer_value(json_object_get(e, "t")), T0);
        assert_int_equal(json_integer_value(json_object_get(e, "sigver")), 2);
        assert_string_equal(json_string_value(json_object_get(e, "key_id")),
                            KEY_ID);
        assert_string_equal(json_string_value(json_object_get(p, "Signature")),
                            "***");
        assert_true(json_is_null(json_object_get(e, "fault")));
        assert_true(json_is_array(json_object_get(e, "devices")));
    }
    e = json_array_get(log, 0);
    assert_true(json_is_true(json_object_get(e, "sig_ok")));
    assert_string_equal(json_string_value(json_object_get(e, "action")),
                        "CreateOTAStaticUpgradeJob");
    assert_int_equal(json_integer_value(json_object_get(e, "http")), 200);
    assert_true(strlen(json_string_value(json_object_get(e, "job_id"))) > 0);
    e = json_array_get(log, 1);
    assert_string_equal(json_string_value(json_object_get(e, "code")),
                        "InvalidSecurityToken.MismatchWithAccessKey");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(e, "params"), "SecurityToken")),
                        "***");
    fp = fopen(f->log_path, "r");
    n = fread(all, 1, sizeof(all) - 1, fp);
    all[n] = '\0';
    fclose(fp);
    assert_null(strstr(all, "tok-secret"));
    assert_null(strstr(all, SECRET));
    json_decref(log);
}

static void body_too_large_413(void **state)
{
    struct fixture *f = *state;
    size_t len = 2 * 1024 * 1024;
    char *big = malloc(len + 1);
    struct resp r;

    start(f, NULL, NULL, NULL);
    memset(big, 'a', len);
    big[len] = '\0';
    http(f, f->base, big, len, &r);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 413);
    free(r.body);
    free(big);
}

static void tls_with_verified_self_signed_cert(void **state)
{
    struct fixture *f = *state;
    char *cert = NULL, *key = NULL;
    json_t *j = NULL;
    struct resp r;

    torture_make_cert(&cert, &key);
    start(f, NULL, cert, key);
    f->ca_pem = strdup(cert);
    create(f, 9, &r);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    j = body_json(&r);
    assert_true(json_is_true(json_object_get(j, "Success")));
    json_decref(j);
    free(r.body);
    /* Without the certificate as a CA, verification fails. */
    free(f->ca_pem);
    f->ca_pem = NULL;
    {
        CURL *c = curl_easy_init();
        char url[256];

        snprintf(url, sizeof(url), "%s__emu/stats", f->base);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_CAINFO, "/dev/null");
        curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
        assert_int_not_equal(curl_easy_perform(c), CURLE_OK);
        curl_easy_cleanup(c);
    }
    free(cert);
    free(key);
}

/* The official SDK's raw V3 and V2 requests, replayed byte for byte over
 * HTTP: the server must hand the verifier the raw request target (with
 * Node's unescaped * ! ' ( ) and %40) and the headers as sent. */
static void sdk_raw_requests_over_http(void **state)
{
    struct fixture *f = *state;
    char path[1024];
    json_error_t e;
    json_t *root = NULL, *vec = NULL, *raws = NULL, *r = NULL;
    const char *k = NULL;
    size_t n = 0;

    snprintf(path, sizeof(path), "%s/signature-vectors.json", ORCH_FIXTURES);
    root = json_load_file(path, 0, &e);
    assert_non_null(root);
    vec = json_array_get(json_object_get(root, "vectors"), 2);
    assert_string_equal(json_string_value(json_object_get(vec, "id")),
                        "v3-encoding");
    raws = json_object_get(vec, "raw_requests");
    json_object_foreach(raws, k, r) {
        const char *text = json_string_value(r);
        const char *sp1 = strchr(text, ' ');
        const char *sp2 = strchr(sp1 + 1, ' ');
        const char *line = strstr(text, "\r\n") + 2;
        const char *body = strstr(text, "\r\n\r\n") + 4;
        struct curl_slist *hl = NULL;
        struct orch_buf url, b;
        CURL *c = NULL;
        long status = 0;
        json_t *j = NULL;

        /* A fresh server each time: the vectors share one nonce. */
        if (n > 0) {
            stop(f);
            memset(f, 0, sizeof(*f));
        }
        start(f, NULL, NULL, NULL);
        atomic_store(&f->clock, 1735787045000LL); /* 2025-01-02T03:04:05Z */
        c = curl_easy_init();
        orch_buf_init(&url);
        orch_buf_init(&b);
        orch_buf_printf(&url, "http://127.0.0.1:%u%.*s",
                        (unsigned)emu_server_port(f->srv),
                        (int)(sp2 - sp1 - 1), sp1 + 1);
        while (line < body - 2) {
            const char *eol = strstr(line, "\r\n");
            char h[2048];

            snprintf(h, sizeof(h), "%.*s", (int)(eol - line), line);
            if (strncasecmp(h, "Content-Length", 14) != 0
                && strncasecmp(h, "Connection", 10) != 0)
                hl = curl_slist_append(hl, h);
            line = eol + 2;
        }
        /* No body-less Content-Type from libcurl, and no Accept. */
        hl = curl_slist_append(hl, "Accept:");
        hl = curl_slist_append(hl, "Content-Type:");
        if (strstr(text, "content-type: "))
            hl = curl_slist_append(
                hl, "content-type: application/x-www-form-urlencoded");
        curl_easy_setopt(c, CURLOPT_URL, orch_buf_str(&url));
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        if (strncmp(text, "POST", 4) == 0) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        }
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        j = json_loads(orch_buf_str(&b), 0, &e);
        assert_non_null(j);
        /* Past the gateway: the world judges the device names (some of
         * this vector's are invalid on purpose: iot.device.*). */
        if (status != 200
            || (!json_is_true(json_object_get(j, "Success"))
                && strncmp(code_of(j), "iot.", 4) != 0))
            fail_msg("%s: %ld %s", k, status, orch_buf_str(&b));
        json_decref(j);
        curl_slist_free_all(hl);
        curl_easy_cleanup(c);
        orch_buf_cleanup(&url);
        orch_buf_cleanup(&b);
        n++;
    }
    assert_int_equal(n, 4);
    json_decref(root);
}

static void bad_options_refused(void **state)
{
    struct emu_server_opts so;
    struct emu_server *s = NULL;
    struct orch_diag d;
    struct fixture *f = *state;

    start(f, NULL, NULL, NULL); /* for world and verifier */
    emu_server_opts_init(&so);
    so.world = f->world;
    so.verifier = f->verifier;
    so.bind = "not-an-address";
    assert_int_equal(emu_server_start(&so, &s, &d), ORCH_EINVAL);
    assert_null(s);
    so.bind = "127.0.0.1";
    so.qps_scale = 0;
    assert_int_equal(emu_server_start(&so, &s, &d), ORCH_EINVAL);
    so.qps_scale = 1;
    so.tls_cert_pem = "x";
    assert_int_equal(emu_server_start(&so, &s, &d), ORCH_EINVAL);
    /* The port in use. */
    so.tls_cert_pem = NULL;
    so.port = emu_server_port(f->srv);
    assert_int_equal(emu_server_start(&so, &s, &d), ORCH_EIO);
    /* IPv6 loopback works where the machine has it. */
    so.port = 0;
    so.bind = "::1";
    if (emu_server_start(&so, &s, &d) == 0) {
        assert_true(emu_server_port(s) > 0);
        emu_server_stop(s);
    }
    assert_string_equal(emu_action_class("CreateOTAStaticUpgradeJob"),
                        "create");
    assert_string_equal(emu_action_class("ListOTATaskByJob"), "query");
    assert_string_equal(emu_action_class("CancelOTATaskByJob"), "cancel");
    assert_string_equal(emu_action_class("BatchQueryDeviceDetail"), "batch");
    assert_string_equal(emu_action_class("Nope"), "other");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(stats_and_jobs_endpoints, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(throttled_at_21st_create_in_a_second,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(quotas_per_action_as_documented,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(quota_counts_arrivals_in_any_order,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(threading_follows_the_options,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(lost_response_creates_the_job, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            faults_scoped_and_switched_at_run_time, setup, teardown),
        cmocka_unit_test_setup_teardown(
            fault_5xx_reset_malformed_create_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(slow_body_still_complete, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(request_log_redacts_signature, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(body_too_large_413, setup, teardown),
        cmocka_unit_test_setup_teardown(tls_with_verified_self_signed_cert,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(sdk_raw_requests_over_http, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(bad_options_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(clock_advances, setup, teardown),
    };
    int rc = 0;

    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_ALL);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
