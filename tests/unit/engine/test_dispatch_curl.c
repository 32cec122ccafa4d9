/* test_dispatch_curl.c - the dispatcher when libcurl itself fails: a
 * multi call that fails mid-run ends the run cleanly (every item one
 * result, nothing sent resent blindly, ORCH_EHTTP with the call named),
 * a refused add_handle fails that request before it is sent, and a failed
 * easy handle at set-up is a set-up error.
 *
 * libcurl's calls are wrapped at link time (-Wl,--wrap, CMakeLists.txt):
 * they cannot be made to fail any other way. The peer is a socket that
 * listens and never accepts: the kernel completes the connection and
 * takes the request, and no answer ever comes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "orch/base/err.h"
#include "orch/cloud/credentials.h"
#include "orch/cloud/params.h"
#include "orch/engine/dispatch.h"
#include "orch/engine/engine_opts.h"
#include "torture.h"

#define NITEMS 3

/* --- the wrapped libcurl calls -------------------------------------------- */

CURLMcode __real_curl_multi_poll(CURLM *m, struct curl_waitfd *extra,
                                 unsigned n, int timeout_ms, int *ret);
CURLMcode __real_curl_multi_perform(CURLM *m, int *running);
CURLMcode __real_curl_multi_add_handle(CURLM *m, CURL *e);
CURL *__real_curl_easy_init(void);
CURLMcode __wrap_curl_multi_poll(CURLM *m, struct curl_waitfd *extra,
                                 unsigned n, int timeout_ms, int *ret);
CURLMcode __wrap_curl_multi_perform(CURLM *m, int *running);
CURLMcode __wrap_curl_multi_add_handle(CURLM *m, CURL *e);
CURL *__wrap_curl_easy_init(void);

/* Which call fails, at its n-th use (0: never). */
static struct {
    unsigned poll_at, perform_at, add_at, easy_init_at;
    unsigned polls, performs, adds, easy_inits;
} fault;

CURLMcode __wrap_curl_multi_poll(CURLM *m, struct curl_waitfd *extra,
                                 unsigned n, int timeout_ms, int *ret)
{
    if (fault.poll_at && ++fault.polls >= fault.poll_at)
        return CURLM_OUT_OF_MEMORY;
    /* Short waits: the peer never answers. */
    return __real_curl_multi_poll(m, extra, n,
                                  timeout_ms > 20 ? 20 : timeout_ms, ret);
}

CURLMcode __wrap_curl_multi_perform(CURLM *m, int *running)
{
    if (fault.perform_at && ++fault.performs >= fault.perform_at)
        return CURLM_INTERNAL_ERROR;
    return __real_curl_multi_perform(m, running);
}

CURLMcode __wrap_curl_multi_add_handle(CURLM *m, CURL *e)
{
    if (fault.add_at && ++fault.adds >= fault.add_at)
        return CURLM_OUT_OF_MEMORY;
    return __real_curl_multi_add_handle(m, e);
}

CURL *__wrap_curl_easy_init(void)
{
    if (fault.easy_init_at && ++fault.easy_inits >= fault.easy_init_at)
        return NULL;
    return __real_curl_easy_init();
}

/* --- a run against the silent peer ---------------------------------------- */

struct result {
    unsigned calls;
    enum orch_item_status status;
    char code[64];
};

struct fixture {
    int lfd;
    char url[64];
    struct orch_credentials cred;
    struct result res[NITEMS];
    unsigned announced;
    struct orch_dispatch_stats st;
    struct orch_diag diag;
};

static int build(void *ud, size_t item, struct orch_params *out)
{
    (void)ud;
    return orch_params_addf(out, "TargetDeviceName.1", "dev-%zu", item);
}

static void done(void *ud, size_t item, const struct orch_item_result *res)
{
    struct fixture *f = ud;

    assert_true(item < NITEMS);
    f->res[item].calls++;
    f->res[item].status = res->status;
    snprintf(f->res[item].code, sizeof(f->res[item].code), "%s",
             res->error_code ? res->error_code : "");
}

static void before_send(void *ud, size_t item, unsigned attempt,
                        int64_t wall_ms)
{
    struct fixture *f = ud;

    (void)item;
    (void)attempt;
    (void)wall_ms;
    f->announced++;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);

    assert_non_null(f);
    memset(&fault, 0, sizeof(fault));
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->lfd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(f->lfd, 16), 0);
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sa, &len), 0);
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u",
             (unsigned)ntohs(sa.sin_port));
    f->cred.access_key_id = strdup("LTAI-test-key");
    f->cred.secret.s = strdup("test-secret-never-printed");
    f->cred.secret.len = strlen(f->cred.secret.s);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    close(f->lfd);
    free(f->cred.access_key_id);
    free(f->cred.secret.s);
    free(f);
    return 0;
}

/* One item in flight at a time, the others waiting. */
static int run(struct fixture *f)
{
    struct orch_engine_opts eo;
    struct orch_dispatch_ops ops;
    int rc = 0;

    orch_engine_opts_init(&eo);
    eo.endpoint = f->url;
    eo.qps = 5000; /* far above pacing; the cap is max_in_flight */
    eo.max_in_flight = 1;
    eo.max_attempts = 2;
    eo.request_timeout_ms = 30000;
    memset(&ops, 0, sizeof(ops));
    ops.action = "CreateOTAStaticUpgradeJob";
    ops.nitems = NITEMS;
    ops.build = build;
    ops.done = done;
    ops.before_send = before_send;
    ops.ud = f;
    rc = orch_dispatch_run(&eo, &f->cred, &ops, NULL, &f->st, &f->diag);
    return rc;
}

static void assert_each_once(const struct fixture *f)
{
    for (size_t i = 0; i < NITEMS; i++)
        assert_int_equal(f->res[i].calls, 1);
    assert_int_equal(f->st.created + f->st.failed + f->st.not_sent, NITEMS);
}

/* --- tests ------------------------------------------------------------------ */

/* The request of item 0 is on the wire when polling fails: it may have
 * made a job, so it is Ambiguous; the others were never sent. */
static void test_poll_failure_after_send(void **state)
{
    struct fixture *f = *state;

    fault.poll_at = 50; /* ~1 s of 20 ms polls: connected and written */
    assert_int_equal(run(f), ORCH_EHTTP);
    assert_non_null(strstr(f->diag.msg, "curl_multi_poll"));
    assert_each_once(f);
    assert_int_equal(f->res[0].status, ORCH_ITEM_FAILED);
    assert_string_equal(f->res[0].code, "Ambiguous");
    for (size_t i = 1; i < NITEMS; i++) {
        assert_int_equal(f->res[i].status, ORCH_ITEM_NOT_SENT);
        assert_string_equal(f->res[i].code, "LibcurlError");
    }
    assert_true(f->st.aborted);
    assert_string_equal(f->st.abort_code, "LibcurlError");
    assert_int_equal(f->st.calls, 1);
    assert_int_equal(f->announced, 1);
}

/* Perform fails before it wrote anything: nothing was sent. */
static void test_perform_failure_before_send(void **state)
{
    struct fixture *f = *state;

    fault.perform_at = 1;
    assert_int_equal(run(f), ORCH_EHTTP);
    assert_non_null(strstr(f->diag.msg, "curl_multi_perform"));
    assert_each_once(f);
    for (size_t i = 0; i < NITEMS; i++) {
        assert_int_equal(f->res[i].status, ORCH_ITEM_NOT_SENT);
        assert_string_equal(f->res[i].code, "LibcurlError");
    }
    assert_int_equal(f->st.not_sent, NITEMS);
}

/* add_handle refuses every request: each fails before it is sent, and
 * the run ends normally. */
static void test_add_handle_refused(void **state)
{
    struct fixture *f = *state;

    fault.add_at = 1;
    assert_int_equal(run(f), 0);
    assert_each_once(f);
    for (size_t i = 0; i < NITEMS; i++) {
        assert_int_equal(f->res[i].status, ORCH_ITEM_FAILED);
        assert_string_equal(f->res[i].code, "RequestBuildFailed");
    }
    assert_false(f->st.aborted);
    assert_int_equal(f->st.calls, 0);
}

/* No easy handle at all: a set-up failure, no item touched. */
static void test_easy_init_failure_is_setup(void **state)
{
    struct fixture *f = *state;

    fault.easy_init_at = 1;
    assert_int_equal(run(f), ORCH_ENOMEM);
    assert_non_null(strstr(f->diag.msg, "curl_easy_init"));
    for (size_t i = 0; i < NITEMS; i++)
        assert_int_equal(f->res[i].calls, 0);
    assert_int_equal(f->announced, 0);
}

TORTURE_MAIN(torture_curl_setup, torture_curl_teardown,
    cmocka_unit_test_setup_teardown(test_poll_failure_after_send, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_perform_failure_before_send, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_add_handle_refused, setup, teardown),
    cmocka_unit_test_setup_teardown(test_easy_init_failure_is_setup, setup,
                                    teardown))
