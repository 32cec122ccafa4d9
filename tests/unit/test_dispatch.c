/* test_dispatch.c - the dispatcher against a scripted libmicrohttpd server
 * on a free loopback port, started inside the test (curl's sws idea). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <microhttpd.h>
#include <pthread.h>

#include "orch/api.h"
#include "orch/buf.h"
#include "orch/config.h"
#include "orch/credentials.h"
#include "orch/dispatch.h"
#include "orch/err.h"
#include "orch/params.h"

#define MAX_ITEMS 64

enum script {
    SCRIPT_OK,        /* every call succeeds */
    SCRIPT_503_TWICE, /* item 0: two 503 ServiceUnavailable, then OK */
    SCRIPT_THROTTLE,  /* item 1: one Throttling.User (400), then OK */
    SCRIPT_BAD_KEY,   /* every call: 404 InvalidAccessKeyId.NotFound */
    SCRIPT_BUSINESS,  /* item 2: 200 Success:false, a device error */
    SCRIPT_414,       /* parameters in the query: 414 */
    SCRIPT_HANG_UP,   /* item 3: connection closed without an answer */
    SCRIPT_STREAK,    /* even items: iot.ota.FirmwareNotVerified */
    SCRIPT_INTERNAL,  /* item 0: 500 InternalError */
    SCRIPT_GARBAGE    /* item 0: HTTP 200 with a truncated body */
};

struct server {
    struct MHD_Daemon *mhd;
    unsigned port;
    pthread_mutex_t lock;
    enum script script;
    unsigned hits[MAX_ITEMS];     /* requests per item */
    unsigned in_query[MAX_ITEMS]; /* ... with parameters in the query */
    unsigned total;
    unsigned bad_signature_headers; /* V3 requests lacking Authorization */
};

struct result {
    bool done;
    unsigned calls; /* done() calls for this item */
    enum orch_item_status status;
    unsigned attempts;
    char code[128];
    char message[512];
    char job_id[128];
    bool form_fallback;
};

struct fixture {
    struct server srv;
    struct orch_config cfg;
    struct orch_credentials cred;
    struct result res[MAX_ITEMS];
    size_t nitems;
    volatile sig_atomic_t interrupt;
    int interrupt_after; /* set *interrupt = 1 after this many done() */
    unsigned ndone;
    unsigned progress_calls;
    struct orch_dispatch_stats st;
};

/* --- the scripted server ------------------------------------------------ */

struct req_ctx {
    struct orch_buf body;
};

static int item_of(const char *dev)
{
    int n = -1;

    if (dev == NULL || sscanf(dev, "dev-%d", &n) != 1 || n < 0 ||
        n >= MAX_ITEMS)
        return -1;
    return n;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status,
                             const char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    MHD_add_response_header(r, "Content-Type", "application/json");
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn,
                               const char *url, const char *method,
                               const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    struct server *s = cls;
    struct req_ctx *rc = *con_cls;
    const char *dev = NULL;
    struct orch_params form;
    int item = -1;
    unsigned hit = 0;
    bool query = false;
    char ok[256];

    (void)url;
    (void)method;
    (void)version;
    if (rc == NULL) {
        rc = calloc(1, sizeof(*rc));
        if (rc == NULL)
            return MHD_NO;
        orch_buf_init(&rc->body);
        *con_cls = rc;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        orch_buf_append(&rc->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    orch_params_init(&form);
    dev = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
                                      "TargetDeviceName.1");
    query = dev != NULL;
    if (dev == NULL && rc->body.len > 0 &&
        orch_params_parse(&form, rc->body.data, rc->body.len) == 0)
        dev = orch_params_get(&form, "TargetDeviceName.1");
    item = item_of(dev);

    pthread_mutex_lock(&s->lock);
    s->total++;
    if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization") ==
        NULL)
        s->bad_signature_headers++;
    if (item >= 0) {
        hit = ++s->hits[item];
        s->in_query[item] += query;
    }
    pthread_mutex_unlock(&s->lock);
    orch_params_cleanup(&form);
    if (item < 0)
        return reply(conn, 400, "{\"Code\":\"MissingDevice\"}");

    snprintf(ok, sizeof(ok),
             "{\"RequestId\":\"RQ-%d-%u\",\"Success\":true,\"Data\":"
             "{\"JobId\":\"job-%d\",\"UtcCreate\":\"2025-01-02T03:04:05.000Z"
             "\"}}",
             item, hit, item);
    switch (s->script) {
    case SCRIPT_503_TWICE:
        if (item == 0 && hit <= 2)
            return reply(conn, 503,
                         "{\"RequestId\":\"x\",\"Code\":\"ServiceUnavailable\","
                         "\"Message\":\"The request has failed due to a "
                         "temporary failure of the server.\"}");
        break;
    case SCRIPT_THROTTLE:
        if (item == 1 && hit == 1)
            return reply(conn, 400,
                         "{\"RequestId\":\"x\",\"Code\":\"Throttling.User\","
                         "\"Message\":\"Request was denied due to user flow "
                         "control.\"}");
        break;
    case SCRIPT_BAD_KEY:
        return reply(conn, 404,
                     "{\"RequestId\":\"x\",\"Code\":"
                     "\"InvalidAccessKeyId.NotFound\",\"Message\":"
                     "\"Specified access key is not found.\"}");
    case SCRIPT_BUSINESS:
        if (item == 2)
            return reply(conn, 200,
                         "{\"RequestId\":\"x\",\"Success\":false,\"Code\":"
                         "\"iot.device.NotExistedDevice\",\"ErrorMessage\":"
                         "\"The device does not exist.\"}");
        break;
    case SCRIPT_414:
        if (query)
            return reply(conn, 414, "<html>URI Too Long</html>");
        break;
    case SCRIPT_HANG_UP:
        if (item == 3)
            return MHD_NO; /* close without an answer */
        break;
    case SCRIPT_STREAK:
        if (item % 2 == 0)
            return reply(conn, 200,
                         "{\"RequestId\":\"x\",\"Success\":false,\"Code\":"
                         "\"iot.ota.FirmwareNotVerified\",\"ErrorMessage\":"
                         "\"not verified\"}");
        break;
    case SCRIPT_INTERNAL:
        if (item == 0)
            return reply(conn, 500,
                         "{\"RequestId\":\"x\",\"Code\":\"InternalError\","
                         "\"Message\":\"internal\"}");
        break;
    case SCRIPT_GARBAGE:
        if (item == 0)
            return reply(conn, 200, "{\"RequestId\":\"x\",\"Succ");
        break;
    case SCRIPT_OK:
    default:
        break;
    }
    return reply(conn, 200, ok);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct req_ctx *rc = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (rc != NULL) {
        orch_buf_cleanup(&rc->body);
        free(rc);
        *con_cls = NULL;
    }
}

static int server_start(struct server *s, enum script script)
{
    const union MHD_DaemonInfo *info = NULL;

    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    s->script = script;
    s->mhd = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
        NULL, NULL, handler, s, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
        MHD_OPTION_SOCK_ADDR, NULL, MHD_OPTION_END);
    if (s->mhd == NULL)
        return -1;
    info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL)
        return -1;
    s->port = info->port;
    return 0;
}

static void server_stop(struct server *s)
{
    if (s->mhd != NULL)
        MHD_stop_daemon(s->mhd);
    pthread_mutex_destroy(&s->lock);
}

/* --- dispatcher callbacks ------------------------------------------------ */

static int build(void *ud, size_t item, struct orch_params *out)
{
    char dev[32];
    int rc = 0;

    (void)ud;
    snprintf(dev, sizeof(dev), "dev-%04zu", item);
    rc = orch_params_add(out, "FirmwareId", "fw-1");
    if (rc == 0)
        rc = orch_params_add(out, "ProductKey", "pk-1");
    if (rc == 0)
        rc = orch_params_add(out, "TargetSelection", "SPECIFIC");
    if (rc == 0)
        rc = orch_params_add(out, "TargetDeviceName.1", dev);
    return rc;
}

static uint32_t group_by_parity(void *ud, size_t item)
{
    (void)ud;
    return (uint32_t)(item % 2);
}

static void done(void *ud, size_t item, const struct orch_item_result *res)
{
    struct fixture *f = ud;
    struct result *r = &f->res[item];

    r->done = true;
    r->calls++;
    r->status = res->status;
    r->attempts = res->attempts;
    r->form_fallback = res->form_fallback;
    snprintf(r->code, sizeof(r->code), "%s",
             res->error_code != NULL ? res->error_code : "");
    snprintf(r->message, sizeof(r->message), "%s",
             res->error_message != NULL ? res->error_message : "");
    if (res->status == ORCH_ITEM_CREATED) {
        assert_null(res->error_code);
        assert_non_null(res->resp);
        snprintf(r->job_id, sizeof(r->job_id), "%s", res->resp->job_id);
    }
    f->ndone++;
    if (f->interrupt_after > 0 && f->ndone == (unsigned)f->interrupt_after)
        f->interrupt = 1;
}

static void progress(void *ud, size_t finished, size_t total)
{
    struct fixture *f = ud;

    assert_true(finished <= total);
    f->progress_calls++;
}

/* --- fixture ------------------------------------------------------------- */

static struct fixture *fixture_new(enum script script, size_t nitems)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char url[64];

    assert_non_null(f);
    assert_int_equal(server_start(&f->srv, script), 0);
    orch_config_init(&f->cfg);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", f->srv.port);
    f->cfg.endpoint = strdup(url);
    f->cfg.region = strdup("cn-shanghai");
    /* Fast: well above any pacing, in-flight cap from max_in_flight. */
    f->cfg.qps = 5000;
    f->cfg.force_qps = true;
    f->cfg.max_in_flight = 8;
    f->cfg.max_attempts = 4;
    f->cfg.request_timeout_ms = 10000;
    f->cfg.signature_version = 3;
    f->cfg.fatal_streak = 3;
    /* credentials.c is another module: fill the struct by hand. */
    f->cred.access_key_id = strdup("LTAI-test-key");
    f->cred.secret.s = strdup("test-secret-never-printed");
    f->cred.secret.len = strlen(f->cred.secret.s);
    f->nitems = nitems;
    return f;
}

static void fixture_free(struct fixture *f)
{
    server_stop(&f->srv);
    orch_config_cleanup(&f->cfg);
    free(f->cred.access_key_id);
    free(f->cred.secret.s);
    free(f);
}

static int run(struct fixture *f, bool groups)
{
    struct orch_dispatch_ops ops;
    struct orch_diag diag = {{0}};
    int rc = 0;

    memset(&ops, 0, sizeof(ops));
    ops.action = "CreateOTAStaticUpgradeJob";
    ops.nitems = f->nitems;
    ops.build = build;
    ops.group = groups ? group_by_parity : NULL;
    ops.done = done;
    ops.progress = progress;
    ops.ud = f;
    rc = orch_dispatch_run(&f->cfg, &f->cred, &ops, &f->interrupt, &f->st,
                           &diag);
    /* done() exactly once per item. */
    for (size_t i = 0; i < f->nitems; i++)
        assert_int_equal(f->res[i].calls, 1);
    assert_int_equal(f->st.created + f->st.failed + f->st.not_sent, f->nitems);
    return rc;
}

/* --- tests --------------------------------------------------------------- */

static void test_all_created_once(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_OK, 40);
    char want[32];

    (void)state;
    assert_int_equal(run(f, false), 0);
    for (size_t i = 0; i < f->nitems; i++) {
        assert_int_equal(f->res[i].status, ORCH_ITEM_CREATED);
        assert_int_equal(f->res[i].attempts, 1);
        assert_int_equal(f->srv.hits[i], 1);
        snprintf(want, sizeof(want), "job-%zu", i);
        assert_string_equal(f->res[i].job_id, want);
    }
    assert_int_equal(f->srv.total, 40);
    assert_int_equal(f->srv.bad_signature_headers, 0);
    assert_int_equal(f->st.calls, 40);
    assert_int_equal(f->st.created, 40);
    assert_int_equal(f->st.retries, 0);
    assert_false(f->st.aborted);
    assert_true(f->st.last_end_ms >= f->st.first_start_ms);
    assert_true(f->progress_calls >= 1);
    fixture_free(f);
}

static void test_503_is_retried(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_503_TWICE, 4);

    (void)state;
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->res[0].status, ORCH_ITEM_CREATED);
    assert_int_equal(f->res[0].attempts, 3);
    assert_int_equal(f->srv.hits[0], 3);
    assert_int_equal(f->st.retries, 2);
    assert_int_equal(f->st.calls, 6);
    assert_int_equal(f->st.created, 4);
    fixture_free(f);
}

static void test_503_until_attempts_run_out(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_503_TWICE, 2);

    (void)state;
    f->cfg.max_attempts = 2;
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->res[0].status, ORCH_ITEM_FAILED);
    assert_string_equal(f->res[0].code, "ServiceUnavailable");
    assert_int_equal(f->res[0].attempts, 2);
    assert_int_equal(f->srv.hits[0], 2);
    assert_int_equal(f->res[1].status, ORCH_ITEM_CREATED);
    fixture_free(f);
}

static void test_throttling_is_retried_and_counted(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_THROTTLE, 4);

    (void)state;
    assert_int_equal(run(f, false), 0);
    for (size_t i = 0; i < f->nitems; i++)
        assert_int_equal(f->res[i].status, ORCH_ITEM_CREATED);
    assert_int_equal(f->res[1].attempts, 2);
    assert_int_equal(f->st.throttled, 1);
    assert_int_equal(f->st.retries, 1);
    assert_int_equal(f->srv.hits[1], 2);
    fixture_free(f);
}

static void test_bad_key_stops_the_run(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_BAD_KEY, 50);

    (void)state;
    f->cfg.max_in_flight = 2;
    assert_int_equal(run(f, false), 0);
    assert_true(f->st.aborted);
    assert_non_null(strstr(f->st.abort_reason, "InvalidAccessKeyId.NotFound"));
    assert_int_equal(f->st.not_sent, 50);
    assert_int_equal(f->st.created, 0);
    for (size_t i = 0; i < f->nitems; i++) {
        assert_int_equal(f->res[i].status, ORCH_ITEM_NOT_SENT);
        assert_string_equal(f->res[i].code, "InvalidAccessKeyId.NotFound");
    }
    /* Stopped at once: only what was in flight went out. */
    assert_true(f->srv.total <= 2);
    assert_true(f->st.calls <= 2);
    fixture_free(f);
}

static void test_business_error_not_retried(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_BUSINESS, 5);

    (void)state;
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->res[2].status, ORCH_ITEM_FAILED);
    assert_string_equal(f->res[2].code, "iot.device.NotExistedDevice");
    assert_string_equal(f->res[2].message, "The device does not exist.");
    assert_int_equal(f->res[2].attempts, 1);
    assert_int_equal(f->srv.hits[2], 1);
    assert_int_equal(f->st.failed, 1);
    assert_int_equal(f->st.created, 4);
    assert_false(f->st.aborted);
    fixture_free(f);
}

static void test_414_resends_as_form(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_414, 6);

    (void)state;
    assert_int_equal(run(f, false), 0);
    for (size_t i = 0; i < f->nitems; i++) {
        assert_int_equal(f->res[i].status, ORCH_ITEM_CREATED);
        assert_true(f->res[i].form_fallback);
        assert_int_equal(f->res[i].attempts, 2);
        assert_int_equal(f->srv.hits[i], 2);
        assert_int_equal(f->srv.in_query[i], 1); /* the second in the body */
    }
    assert_int_equal(f->st.form_fallbacks, 6);
    fixture_free(f);
}

static void test_hang_up_is_ambiguous_not_resent(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_HANG_UP, 6);

    (void)state;
    /* Serial on one kept-alive connection: item 3 goes out on a reused
     * connection, where libcurl would silently resend a request that got
     * no answer (its stale-connection retry) unless we stop it. */
    f->cfg.max_in_flight = 1;
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->res[3].status, ORCH_ITEM_FAILED);
    assert_string_equal(f->res[3].code, "Ambiguous");
    assert_int_equal(f->res[3].attempts, 1);
    assert_int_equal(f->srv.hits[3], 1);
    for (size_t i = 0; i < f->nitems; i++)
        if (i != 3)
            assert_int_equal(f->res[i].status, ORCH_ITEM_CREATED);
    fixture_free(f);
}

static void test_internal_error_is_ambiguous(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_INTERNAL, 2);

    (void)state;
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->res[0].status, ORCH_ITEM_FAILED);
    assert_string_equal(f->res[0].code, "Ambiguous");
    assert_non_null(strstr(f->res[0].message, "InternalError"));
    assert_int_equal(f->srv.hits[0], 1);
    fixture_free(f);
}

static void test_garbled_200_is_ambiguous(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_GARBAGE, 2);

    (void)state;
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->res[0].status, ORCH_ITEM_FAILED);
    assert_string_equal(f->res[0].code, "Ambiguous");
    assert_int_equal(f->srv.hits[0], 1);
    assert_int_equal(f->res[1].status, ORCH_ITEM_CREATED);
    fixture_free(f);
}

/* Even items (group 0) fail with the same code: after the first three,
 * the rest of group 0 is not sent; group 1 is untouched. */
static void test_fatal_streak_stops_group(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_STREAK, 20);

    (void)state;
    f->cfg.max_in_flight = 1; /* serial: a deterministic order */
    assert_int_equal(run(f, true), 0);
    for (size_t i = 0; i < f->nitems; i++) {
        if (i % 2 == 1) {
            assert_int_equal(f->res[i].status, ORCH_ITEM_CREATED);
        } else if (i < 6) {
            assert_int_equal(f->res[i].status, ORCH_ITEM_FAILED);
            assert_string_equal(f->res[i].code, "iot.ota.FirmwareNotVerified");
            assert_int_equal(f->srv.hits[i], 1);
        } else {
            assert_int_equal(f->res[i].status, ORCH_ITEM_NOT_SENT);
            assert_string_equal(f->res[i].code, "iot.ota.FirmwareNotVerified");
            assert_int_equal(f->res[i].attempts, 0);
            assert_int_equal(f->srv.hits[i], 0);
        }
    }
    assert_int_equal(f->st.failed, 3);
    assert_int_equal(f->st.not_sent, 7);
    assert_int_equal(f->st.created, 10);
    fixture_free(f);
}

/* A created chunk in between breaks the streak: nothing is stopped. */
static void test_fatal_streak_needs_the_first_items(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_STREAK, 12);

    (void)state;
    f->cfg.max_in_flight = 1;
    assert_int_equal(run(f, false), 0); /* no groups: the rule is off */
    assert_int_equal(f->st.failed, 6);
    assert_int_equal(f->st.not_sent, 0);
    assert_int_equal(f->st.created, 6);
    fixture_free(f);
}

static void test_interrupt_before_start(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_OK, 10);

    (void)state;
    f->interrupt = 1;
    assert_int_equal(run(f, false), 0);
    assert_true(f->st.aborted);
    assert_int_equal(f->st.not_sent, 10);
    assert_int_equal(f->srv.total, 0);
    assert_string_equal(f->res[0].code, "Interrupted");
    fixture_free(f);
}

static void test_interrupt_lets_in_flight_finish(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_OK, 10);

    (void)state;
    f->cfg.max_in_flight = 1;
    f->interrupt_after = 2;
    assert_int_equal(run(f, false), 0);
    assert_true(f->st.aborted);
    assert_int_equal(f->res[0].status, ORCH_ITEM_CREATED);
    assert_int_equal(f->res[1].status, ORCH_ITEM_CREATED);
    /* At most one more was already in flight; the rest never went out. */
    assert_true(f->st.created <= 3);
    assert_int_equal(f->st.created + f->st.not_sent, 10);
    assert_int_equal(f->srv.total, f->st.created);
    assert_string_equal(f->res[9].code, "Interrupted");
    fixture_free(f);
}

static void test_connection_refused_is_retried_then_fails(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_OK, 1);
    unsigned port = f->srv.port;
    char url[64];

    (void)state;
    /* Stop the server: its port now refuses connections. */
    MHD_stop_daemon(f->srv.mhd);
    f->srv.mhd = NULL;
    free(f->cfg.endpoint);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);
    f->cfg.endpoint = strdup(url);
    f->cfg.max_attempts = 2;
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->res[0].status, ORCH_ITEM_FAILED);
    assert_string_equal(f->res[0].code, "NetworkError");
    assert_int_equal(f->res[0].attempts, 2);
    assert_int_equal(f->st.retries, 1);
    fixture_free(f);
}

static void test_bad_setup(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_OK, 1);
    struct orch_dispatch_ops ops;
    struct orch_diag diag = {{0}};

    (void)state;
    memset(&ops, 0, sizeof(ops));
    ops.action = "CreateOTAStaticUpgradeJob";
    ops.nitems = 1;
    ops.build = build;
    ops.ud = f;
    /* No done callback. */
    assert_int_equal(
        orch_dispatch_run(&f->cfg, &f->cred, &ops, NULL, &f->st, &diag),
        ORCH_EINVAL);
    ops.done = done;
    f->cfg.qps = 0;
    assert_int_equal(
        orch_dispatch_run(&f->cfg, &f->cred, &ops, NULL, &f->st, &diag),
        ORCH_EINVAL);
    assert_int_equal(f->srv.total, 0);
    assert_string_equal(orch_item_status_name(ORCH_ITEM_NOT_SENT), "not_sent");
    fixture_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_created_once),
        cmocka_unit_test(test_503_is_retried),
        cmocka_unit_test(test_503_until_attempts_run_out),
        cmocka_unit_test(test_throttling_is_retried_and_counted),
        cmocka_unit_test(test_bad_key_stops_the_run),
        cmocka_unit_test(test_business_error_not_retried),
        cmocka_unit_test(test_414_resends_as_form),
        cmocka_unit_test(test_hang_up_is_ambiguous_not_resent),
        cmocka_unit_test(test_internal_error_is_ambiguous),
        cmocka_unit_test(test_garbled_200_is_ambiguous),
        cmocka_unit_test(test_fatal_streak_stops_group),
        cmocka_unit_test(test_fatal_streak_needs_the_first_items),
        cmocka_unit_test(test_interrupt_before_start),
        cmocka_unit_test(test_interrupt_lets_in_flight_finish),
        cmocka_unit_test(test_connection_refused_is_retried_then_fails),
        cmocka_unit_test(test_bad_setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
