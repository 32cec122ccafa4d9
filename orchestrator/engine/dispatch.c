/* dispatch.c - many signed calls on one libcurl multi handle, paced by the
 * rate limiter, retried when safe, unknown outcomes reconciled, each
 * item's final outcome reported once.
 *
 * DESIGN
 * Threads: everything runs on the caller's thread. It owns the multi
 * handle, every struct orch_xfer and both retry heaps; the only shared
 * state is *interrupt, which a signal handler may raise.
 *
 * State of an item: unstarted (at or after `cursor`), in flight (its xfer
 * is in the multi handle), waiting for a resend (its xfer is in the
 * `sends` heap, keyed by due time), reconciling (its xfer is in the
 * `queries` heap or in flight with a query), or finished (ops->done
 * called). An xfer is bound to one item from its first request to its
 * final result, then goes back to a free list with its easy handle and
 * buffers, so the steady state allocates nothing per call but the
 * parameters and the request that request.c builds.
 *
 * Loop: (1) admit: due reconciliation queries under the query limiter;
 * then a due resend first, else the next unstarted item, under the action's
 * limiter, while in-flight < cap. Each admitted send is built, signed and
 * announced through ops->before_send, and the whole batch is committed by
 * ONE ops->sync before any of it is handed to libcurl (group commit: a
 * request is never on the wire before its journal record is on disk, and
 * at thousands of calls per second the journal fsyncs once per iteration,
 * not once per call); (2) curl_multi_poll with timeout = min(next token,
 * next due request, next progress tick); (3) curl_multi_perform;
 * (4) drain curl_multi_info_read: decode, orch_retry_classify, then
 * requeue (new nonce and timestamp on the next attempt), reconcile, or
 * report.
 *
 * Reconciliation (see dispatch.h): an AMBIGUOUS send of a non-idempotent
 * action, or an item ops->interrupted() reports, is never resent blindly.
 * reconcile.c owns the decisions (reconcile.h: which query to ask next,
 * ListOTAJobByDevice per probe device and page, ListOTATaskByJob per
 * untagged candidate, ListOTAJobByFirmware per page for a whole-product
 * call, and what each answer or failure means), as pure functions over
 * the xfer's `rc` state and the item's Create parameters, kept in
 * `cparams` (the last attempt's, swapped in without a rebuild). This file
 * owns the I/O around them: reconcile_begin() enters an item, start_query()
 * builds, signs and launches the query the state names under the query
 * limiter (cfg->query_qps; the queries never take the action's tokens),
 * complete_query() notes each step through ops->reconcile_note, stops the
 * run on a FATAL answer and hands the answer to reconcile.c, and
 * reconcile_act() carries out the verdict: the next query (queued in the
 * `queries` heap, after a backoff when the same one is asked again),
 * created and recovered (found), a new attempt through the `sends` heap
 * (not found; not_sent when stopping, failed Ambiguous when the attempts
 * are used up), or failed "Ambiguous", never resent (undecidable).
 *
 * In-flight cap: pacing is the rate limiter's job; the cap only bounds
 * connections. Holding the quota needs qps x latency calls in flight (20/s
 * at 3 s latency: 60), so the cap is max(cfg->max_in_flight,
 * ceil(qps x LATENCY_BUDGET_MS)). Above AUTO_CAP_MAX that product means
 * the rate is not a quota but "unlimited" (a benchmark), where latency
 * grows with concurrency; then cfg->max_in_flight alone is the cap.
 *
 * Pacing margin: evenly spaced starts run at qps x 1000 / (1000 +
 * PACE_MARGIN_MS) (20/s: 20 starts per 1005 ms, one per 50.25 ms), so
 * jitter between our start and the server's arrival time cannot put 21
 * arrivals in its second. The window check runs at qps x 1000 / (1000 +
 * WINDOW_MARGIN_MS) on the recorded (moved, see below) starts; it binds
 * when a start was late, and each late record pushes the next window's
 * start later (at --qps 200 the chain of windows drifts to 198.4/s instead
 * of 199). A smaller window margin recovers that but leaves late starts
 * no room for jitter (see WINDOW_MARGIN_MS). The starts a batch recorded are
 * moved to when its requests really went out (after ops->sync and after
 * the perform that wrote them): a slow fsync must not let the next
 * batch follow too closely.
 *
 * Ending: a FATAL verdict, a failed ops->sync or *interrupt == 1 stops
 * admissions (the item whose answer was FATAL is failed: sent and
 * refused; not_sent when nothing answered): unstarted items and waiting
 * resends are reported not_sent
 * (their earlier attempts, if any, were refused unprocessed or reconciled
 * as not created), items still reconciling failed/Ambiguous, and in-flight
 * ones finish. *interrupt >= 2 also removes the in-flight transfers: one
 * whose request had gone out (or that was reconciling) is reported failed
 * with code Ambiguous, the others not_sent.
 */
#include "orch/engine/dispatch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "orch/cloud/api.h"
#include "orch/base/buf.h"
#include "orch/base/clock.h"
#include "orch/base/codec.h"
#include "orch/model/config.h"
#include "orch/cloud/credentials.h"
#include "orch/base/err.h"
#include "orch/cloud/params.h"
#include "orch/engine/ratelimit.h"
#include "orch/engine/reconcile.h"
#include "orch/cloud/request.h"
#include "orch/engine/retry.h"

#define BACKOFF_BASE_MS 200
#define BACKOFF_CAP_MS 20000
#define HINT_CAP_MS 60000
#define PACE_MARGIN_MS 5
/* Measured: a 1 ms window margin (4 ms more in the spacing) gave 198.8/s
 * instead of 198.4 at --qps 200, but 1 and 3 throttled answers in the
 * 20/s runs: a start up to half a gap late keeps its schedule, so the
 * window check binds with only its own margin left for arrival jitter
 * (and both clocks are truncated to the ms). So the whole margin is in
 * the window too; spacing_slack_ms stays 0. */
#define WINDOW_MARGIN_MS 5
/* A start this late (or half a gap, when that is more) keeps the even
 * spacing's schedule. The lateness is the loop's own (poll wake-ups at ms
 * resolution, the journal's fsync, answers parsed in between): a few ms,
 * whatever the rate. At 20/s half a gap (25 ms) covers it; at 200/s half
 * a gap is 2.5 ms and each restart of the schedule lost its lateness for
 * good (bench/RESULTS.md: 196.9-198.6/s before, 198.7-198.9 with 10 ms).
 * The window check on the real send times still caps every window. */
#define CATCHUP_MS 10.0
#define LATENCY_BUDGET_MS 4000
#define AUTO_CAP_MAX 4096
#define PROGRESS_EVERY_MS 1000
#define POLL_MAX_MS 1000
#define BODY_MAX (16u * 1024 * 1024)
#define DEFAULT_QUERY_QPS 10.0

struct dispatcher;

/* Per-item request state (curl's per_transfer). */
struct orch_xfer {
    struct dispatcher *d;
    CURL *easy;
    size_t item;
    unsigned attempts;  /* sends of the action in this run */
    bool form_body;     /* the next attempts use a form body */
    bool form_fallback; /* a 414/431 made us switch */
    bool in_flight;
    bool query;          /* the request (in flight or next) is a query */
    uint64_t due_ms;     /* retry heap key */
    size_t heap_idx;     /* position in its heap */
    uint64_t hint_ms;    /* server retry-after hint of the last answer */
    unsigned prereqs;    /* times libcurl was about to send this attempt */
    bool resend_blocked; /* we stopped libcurl's own silent resend */
    uint64_t start_ms;
    int64_t since_ms;    /* wall time of the item's first attempt; 0 unset */
    struct orch_params params;  /* of the request in flight / being built */
    struct orch_params cparams; /* the action's, while reconciling */
    struct orch_reconcile rc;   /* what to ask next (reconcile.h) */
    char why[640];       /* what made the outcome unknown (for messages) */
    struct orch_request req;
    struct orch_response resp;
    bool have_resp;
    struct orch_buf body;
    /* CURLOPT_HTTPHEADER list built over req.headers: no allocation. */
    struct curl_slist hdr[ORCH_REQ_MAX_HEADERS + 1];
    char errbuf[CURL_ERROR_SIZE];
    struct orch_xfer *next_free;
};

/* Fatal-streak bookkeeping of one group (firmware / product). */
struct group_state {
    uint32_t group;
    unsigned streak; /* first final results, all FAILED with `code` */
    bool broken;     /* a different result came first: rule is off */
    bool stopped;    /* the streak reached cfg->fatal_streak */
    char code[128];
};

/* A min-heap of xfers on due_ms; its array has room for every xfer. */
struct xheap {
    struct orch_xfer **v;
    size_t len;
};

struct dispatcher {
    const struct orch_config *cfg;
    const struct orch_credentials *cred;
    const struct orch_dispatch_ops *ops;
    volatile sig_atomic_t *interrupt;
    struct orch_dispatch_stats *st;

    CURLM *multi;
    struct orch_ratelimit rl;  /* the action's quota */
    struct orch_ratelimit qrl; /* the reconciliation queries' quota */
    size_t cap; /* in-flight cap */
    size_t in_flight;
    size_t cursor;   /* next unstarted item */
    size_t finished; /* done() calls + skipped items */
    uint64_t backoff_base_ms;
    unsigned max_attempts;

    struct orch_xfer **xfers; /* every xfer allocated (for cleanup) */
    size_t nxfers;
    struct orch_xfer *free_list;
    struct xheap sends;   /* resends waiting for their due time */
    struct xheap queries; /* reconciliation queries waiting */
    struct orch_xfer **batch; /* sends admitted this iteration, capacity cap */
    size_t nbatch;
    size_t ntaken; /* the action's tokens taken this iteration */
    size_t unsent_starts; /* of them, launched but maybe not yet written */

    struct group_state *groups;
    size_t ngroups, groups_cap;

    bool stopping;         /* no more admissions */
    const char *stop_code; /* code for items not sent because of it */
    char stop_code_buf[128];
    char stop_message[256];
    bool aborted_in_flight;
    uint64_t rng;
    uint64_t next_token_ms;  /* when the action's limiter may allow again */
    uint64_t next_qtoken_ms; /* when the query limiter may allow again */
    uint64_t last_progress_ms;
    struct curl_slist expect_hdr;
    struct curl_slist no_ctype_hdr; /* "Content-Type:", then expect_hdr */
};

/* xorshift64*: the jitter needs no cryptographic quality. */
static uint64_t next_rand(struct dispatcher *d)
{
    d->rng ^= d->rng >> 12;
    d->rng ^= d->rng << 25;
    d->rng ^= d->rng >> 27;
    return d->rng * 0x2545F4914F6CDD1DULL;
}

const char *orch_item_status_name(enum orch_item_status s)
{
    switch (s) {
    case ORCH_ITEM_CREATED:
        return "created";
    case ORCH_ITEM_FAILED:
        return "failed";
    case ORCH_ITEM_NOT_SENT:
        return "not_sent";
    default:
        return "unknown";
    }
}

/* --- retry heaps (min-heap on due_ms, index kept in the xfer) ---------- */

static bool heap_less(const struct orch_xfer *a, const struct orch_xfer *b)
{
    return a->due_ms < b->due_ms;
}

static void heap_swap(struct xheap *h, size_t i, size_t j)
{
    struct orch_xfer *t = h->v[i];

    h->v[i] = h->v[j];
    h->v[j] = t;
    h->v[i]->heap_idx = i;
    h->v[j]->heap_idx = j;
}

/* Never allocates: the heap array has room for every xfer. */
static void heap_push(struct xheap *h, struct orch_xfer *x)
{
    size_t i = h->len++;

    h->v[i] = x;
    x->heap_idx = i;
    while (i > 0 && heap_less(h->v[i], h->v[(i - 1) / 2])) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static struct orch_xfer *heap_pop(struct xheap *h)
{
    struct orch_xfer *top = h->v[0];
    size_t i = 0;

    h->len--;
    if (h->len > 0) {
        h->v[0] = h->v[h->len];
        h->v[0]->heap_idx = 0;
        for (;;) {
            size_t l = 2 * i + 1, r = l + 1, m = i;

            if (l < h->len && heap_less(h->v[l], h->v[m]))
                m = l;
            if (r < h->len && heap_less(h->v[r], h->v[m]))
                m = r;
            if (m == i)
                break;
            heap_swap(h, i, m);
            i = m;
        }
    }
    return top;
}

static bool heap_due(const struct xheap *h, uint64_t now)
{
    return h->len > 0 && h->v[0]->due_ms <= now;
}
/* --- curl callbacks ---------------------------------------------------- */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct orch_xfer *x = ud;
    size_t n = size * nmemb;

    /* A body this large is no API answer; failing the transfer makes it a
     * transport error after sending, i.e. Ambiguous, which is right. */
    if (x->body.len + n > BODY_MAX || orch_buf_append(&x->body, ptr, n))
        return 0;
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct orch_xfer *x = ud;
    size_t n = size * nmemb;
    char name[32];
    char value[256];
    const char *colon = memchr(ptr, ':', n);
    size_t nlen = 0, vlen = 0;
    const char *v = NULL;
    uint64_t hint = 0;

    if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
        x->hint_ms = 0; /* a new response (after a 100, a redirect) */
        return n;
    }
    if (colon == NULL)
        return n;
    nlen = (size_t)(colon - ptr);
    if (nlen == 0 || nlen >= sizeof(name))
        return n;
    /* Only three headers matter; skip the rest cheaply. */
    if (ptr[0] != 'x' && ptr[0] != 'X' && ptr[0] != 'r' && ptr[0] != 'R')
        return n;
    memcpy(name, ptr, nlen);
    name[nlen] = '\0';
    v = colon + 1;
    vlen = n - nlen - 1;
    while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
        vlen--;
    if (vlen >= sizeof(value))
        vlen = sizeof(value) - 1;
    memcpy(value, v, vlen);
    value[vlen] = '\0';
    hint = orch_retry_parse_hint(name, value);
    if (hint > x->hint_ms)
        x->hint_ms = hint;
    return n;
}

/* Called by libcurl right before it sends the request on a new or reused
 * connection. When a reused connection closes without a byte of answer,
 * libcurl silently sends the same request again on a fresh one (its
 * stale keep-alive retry). For us that second send could create a second
 * job, so it is refused here: the transfer ends with
 * CURLE_ABORTED_BY_CALLBACK and the attempt counts as sent (Ambiguous). */
static int on_prereq(void *ud, char *conn_primary_ip, char *conn_local_ip,
                     int conn_primary_port, int conn_local_port)
{
    struct orch_xfer *x = ud;

    (void)conn_primary_ip;
    (void)conn_local_ip;
    (void)conn_primary_port;
    (void)conn_local_port;
    if (++x->prereqs > 1) {
        x->resend_blocked = true;
        return CURL_PREREQFUNC_ABORT;
    }
    return CURL_PREREQFUNC_OK;
}

/* --- xfer lifecycle ---------------------------------------------------- */

static int xfer_new(struct dispatcher *d, struct orch_xfer **out)
{
    const struct orch_config *cfg = d->cfg;
    struct orch_xfer *x = NULL;
    struct orch_xfer **xs = NULL;
    struct orch_xfer **heap = NULL;

    xs = realloc(d->xfers, (d->nxfers + 1) * sizeof(*xs));
    if (xs == NULL)
        return ORCH_ENOMEM;
    d->xfers = xs;
    heap = realloc(d->sends.v, (d->nxfers + 1) * sizeof(*heap));
    if (heap == NULL)
        return ORCH_ENOMEM;
    d->sends.v = heap;
    heap = realloc(d->queries.v, (d->nxfers + 1) * sizeof(*heap));
    if (heap == NULL)
        return ORCH_ENOMEM;
    d->queries.v = heap;
    x = calloc(1, sizeof(*x));
    if (x == NULL)
        return ORCH_ENOMEM;
    x->easy = curl_easy_init();
    if (x->easy == NULL) {
        free(x);
        return ORCH_ENOMEM;
    }
    x->d = d;
    orch_params_init(&x->params);
    orch_params_init(&x->cparams);
    orch_reconcile_init(&x->rc);
    orch_request_init(&x->req);
    orch_response_init(&x->resp);
    orch_buf_init(&x->body);
    d->xfers[d->nxfers++] = x;

    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
    curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS,
                     cfg->request_timeout_ms > 0 ? cfg->request_timeout_ms
                                                 : 30000L);
    curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(x->easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(x->easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(x->easy, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(x->easy, CURLOPT_PREREQDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    if (cfg->ca_bundle != NULL)
        curl_easy_setopt(x->easy, CURLOPT_CAINFO, cfg->ca_bundle);
    if (cfg->insecure) {
        curl_easy_setopt(x->easy, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(x->easy, CURLOPT_SSL_VERIFYHOST, 0L);
    } else {
        curl_easy_setopt(x->easy, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(x->easy, CURLOPT_SSL_VERIFYHOST, 2L);
    }
    *out = x;
    return 0;
}

static void xfer_free(struct orch_xfer *x)
{
    if (x == NULL)
        return;
    curl_easy_cleanup(x->easy);
    orch_params_cleanup(&x->params);
    orch_params_cleanup(&x->cparams);
    orch_reconcile_cleanup(&x->rc);
    orch_request_cleanup(&x->req);
    orch_response_cleanup(&x->resp);
    orch_buf_cleanup(&x->body);
    free(x);
}

static int xfer_get(struct dispatcher *d, size_t item, struct orch_xfer **out)
{
    struct orch_xfer *x = d->free_list;
    int rc = 0;

    if (x != NULL) {
        d->free_list = x->next_free;
    } else {
        rc = xfer_new(d, &x);
        if (rc)
            return rc;
    }
    x->item = item;
    x->attempts = 0;
    x->form_body = false;
    x->form_fallback = false;
    x->query = false;
    x->since_ms = 0;
    x->have_resp = false;
    x->next_free = NULL;
    *out = x;
    return 0;
}

static void xfer_put(struct dispatcher *d, struct orch_xfer *x)
{
    /* The reconciliation's JSON is the only thing not reused as is. */
    orch_reconcile_cleanup(&x->rc);
    x->next_free = d->free_list;
    d->free_list = x;
}

/* --- results ----------------------------------------------------------- */

static void progress(struct dispatcher *d, uint64_t now, bool force)
{
    if (d->ops->progress == NULL)
        return;
    if (!force && now < d->last_progress_ms + PROGRESS_EVERY_MS)
        return;
    d->last_progress_ms = now;
    d->ops->progress(d->ops->ud, d->finished, d->ops->nitems);
}

/* Counts and delivers one final result (res->status etc. filled). */
static void deliver(struct dispatcher *d, size_t item,
                    struct orch_item_result *res)
{
    if (res->status == ORCH_ITEM_CREATED) {
        res->error_code = NULL;
        res->error_message = NULL;
    } else {
        res->job_id = NULL;
        res->utc_create = NULL;
        res->recovered = false;
    }
    switch (res->status) {
    case ORCH_ITEM_CREATED:
        d->st->created++;
        if (res->recovered)
            d->st->recovered++;
        break;
    case ORCH_ITEM_FAILED:
        d->st->failed++;
        break;
    case ORCH_ITEM_NOT_SENT:
    default:
        d->st->not_sent++;
        break;
    }
    d->finished++;
    d->ops->done(d->ops->ud, item, res);
}

/* A result for an item that has no xfer (never started). */
static void report(struct dispatcher *d, size_t item, unsigned attempts,
                   enum orch_item_status status, const char *code,
                   const char *message)
{
    struct orch_item_result res;

    memset(&res, 0, sizeof(res));
    res.status = status;
    res.attempts = attempts;
    res.error_code = code;
    res.error_message = message;
    deliver(d, item, &res);
}

/* Reports the xfer's item and recycles the xfer. A created result takes
 * its JobId and UtcCreate from the answer. */
static void finish(struct dispatcher *d, struct orch_xfer *x,
                   enum orch_item_status status, const char *code,
                   const char *message)
{
    struct orch_item_result res;

    memset(&res, 0, sizeof(res));
    res.status = status;
    res.attempts = x->attempts;
    res.resp = x->have_resp ? &x->resp : NULL;
    res.error_code = code;
    res.error_message = message;
    res.form_fallback = x->form_fallback;
    if (x->have_resp) {
        res.job_id = x->resp.job_id;
        res.utc_create = x->resp.utc_create;
    }
    deliver(d, x->item, &res);
    xfer_put(d, x);
}

/* Reports the item created by the job reconciliation found (rc.job_id).
 * The last query's answer stands in as res->resp, with the job's id and
 * creation time in its job_id/utc_create fields and no request id (the
 * Create's is unknown), so a reader of resp alone sees the right job. */
static void finish_recovered(struct dispatcher *d, struct orch_xfer *x)
{
    struct orch_item_result res;

    memset(&res, 0, sizeof(res));
    res.status = ORCH_ITEM_CREATED;
    res.attempts = x->attempts;
    res.form_fallback = x->form_fallback;
    res.recovered = true;
    res.job_id = x->rc.job_id;
    res.utc_create = x->rc.utc_create;
    if (x->have_resp) {
        snprintf(x->resp.job_id, sizeof(x->resp.job_id), "%s", x->rc.job_id);
        snprintf(x->resp.utc_create, sizeof(x->resp.utc_create), "%s",
                 x->rc.utc_create);
        x->resp.request_id[0] = '\0';
        res.resp = &x->resp;
    }
    deliver(d, x->item, &res);
    xfer_put(d, x);
}

/* The reconciliation could not decide: failed, Ambiguous, never resent. */
static void finish_ambiguous(struct dispatcher *d, struct orch_xfer *x,
                             const char *why)
{
    char msg[1024];

    snprintf(msg, sizeof(msg),
             "outcome unknown (%.400s); a job may have been created and "
             "reconciliation could not tell: %.400s; check before resending",
             x->why[0] ? x->why : "interrupted run", why);
    x->query = false;
    finish(d, x, ORCH_ITEM_FAILED, "Ambiguous", msg);
}

static struct group_state *group_of(struct dispatcher *d, size_t item)
{
    uint32_t g = 0;
    struct group_state *gs = NULL;

    if (d->ops->group == NULL || d->cfg->fatal_streak <= 0)
        return NULL;
    g = d->ops->group(d->ops->ud, item);
    /* Few groups (one per firmware): a linear search is the simple and
     * fast choice; it is not a scan over items. */
    for (size_t i = 0; i < d->ngroups; i++)
        if (d->groups[i].group == g)
            return &d->groups[i];
    if (d->ngroups == d->groups_cap) {
        size_t cap = d->groups_cap ? d->groups_cap * 2 : 8;

        gs = realloc(d->groups, cap * sizeof(*gs));
        if (gs == NULL)
            return NULL; /* the rule is a safeguard; skip it on ENOMEM */
        d->groups = gs;
        d->groups_cap = cap;
    }
    gs = &d->groups[d->ngroups++];
    memset(gs, 0, sizeof(*gs));
    gs->group = g;
    return gs;
}

/* Feeds one final result into the group's fatal-streak rule. */
static void group_note(struct dispatcher *d, size_t item, bool failed,
                       const char *code)
{
    struct group_state *gs = group_of(d, item);

    if (gs == NULL || gs->broken || gs->stopped)
        return;
    if (!failed || (gs->streak > 0 && strcmp(gs->code, code) != 0)) {
        gs->broken = true;
        return;
    }
    if (gs->streak == 0)
        snprintf(gs->code, sizeof(gs->code), "%s", code);
    if (++gs->streak >= (unsigned)d->cfg->fatal_streak)
        gs->stopped = true;
}

/* Non-NULL when the item's group was stopped by the fatal-streak rule. */
static const struct group_state *group_stopped(struct dispatcher *d,
                                               size_t item)
{
    struct group_state *gs = NULL;

    if (d->ngroups == 0)
        return NULL;
    gs = group_of(d, item);
    return gs != NULL && gs->stopped ? gs : NULL;
}

static void report_group_stopped(struct dispatcher *d, size_t item,
                                 unsigned attempts,
                                 const struct group_state *gs)
{
    char msg[256];

    snprintf(msg, sizeof(msg),
             "not sent: the first %d chunks of this firmware failed with %s",
             d->cfg->fatal_streak, gs->code);
    report(d, item, attempts, ORCH_ITEM_NOT_SENT, gs->code, msg);
}

/* Stops admissions; `code` and `message` are copied. */
static void stop(struct dispatcher *d, const char *code, const char *message)
{
    if (d->stopping)
        return;
    d->stopping = true;
    snprintf(d->stop_code_buf, sizeof(d->stop_code_buf), "%.127s", code);
    d->stop_code = d->stop_code_buf;
    snprintf(d->stop_message, sizeof(d->stop_message), "%.255s", message);
    d->st->aborted = true;
    snprintf(d->st->abort_reason, sizeof(d->st->abort_reason), "%s",
             d->stop_message);
    snprintf(d->st->abort_code, sizeof(d->st->abort_code), "%s", code);
}

/* True when an earlier run sent item i and recorded no outcome (and the
 * action is one that needs reconciling). */
static bool was_interrupted(struct dispatcher *d, size_t item,
                            int64_t *since_ms)
{
    int64_t since = 0;

    if (d->ops->idempotent || d->ops->interrupted == NULL)
        return false;
    if (!d->ops->interrupted(d->ops->ud, item, &since))
        return false;
    if (since_ms != NULL)
        *since_ms = since;
    return true;
}

/* After stop(): every unstarted item and waiting resend is not_sent; an
 * item still reconciling is Ambiguous (it was sent, its fate unknown). */
static void drain_unsent(struct dispatcher *d)
{
    while (d->sends.len > 0) {
        struct orch_xfer *x = heap_pop(&d->sends);

        finish(d, x, ORCH_ITEM_NOT_SENT, d->stop_code, d->stop_message);
    }
    while (d->queries.len > 0) {
        struct orch_xfer *x = heap_pop(&d->queries);

        finish_ambiguous(d, x, d->stop_message);
    }
    for (; d->cursor < d->ops->nitems; d->cursor++) {
        size_t i = d->cursor;

        if (d->ops->skip != NULL && d->ops->skip(d->ops->ud, i)) {
            d->finished++;
            continue;
        }
        if (was_interrupted(d, i, NULL)) {
            char msg[sizeof(d->stop_message) + 160];

            /* Sent by an earlier run with no recorded outcome. */
            snprintf(msg, sizeof(msg),
                     "outcome unknown (interrupted run) and not reconciled "
                     "(%s); a job may have been created: check before "
                     "resending",
                     d->stop_message);
            report(d, i, 0, ORCH_ITEM_FAILED, "Ambiguous", msg);
            continue;
        }
        report(d, i, 0, ORCH_ITEM_NOT_SENT, d->stop_code, d->stop_message);
    }
}
/* --- sending ----------------------------------------------------------- */

/* Gives libcurl the URL in two parts: "scheme://host[:port]" as the URL
 * and "/path?query" as CURLOPT_REQUEST_TARGET, which it copies into the
 * request line verbatim. libcurl 7.88 formats a URL's query into the
 * request line through its own printf, one byte at a time: for a V3
 * query of 200 device names (~8 KB) that alone cost ~150 us of CPU per
 * call, more than building and signing the request. */
static int set_url(struct orch_xfer *x)
{
    char *url = x->req.url.data;
    char *sep = url != NULL ? strstr(url, "://") : NULL;
    char *path = NULL;

    if (sep == NULL)
        return -1;
    path = strchr(sep + 3, '/');
    if (path == NULL) {
        curl_easy_setopt(x->easy, CURLOPT_URL, url);
        curl_easy_setopt(x->easy, CURLOPT_REQUEST_TARGET, NULL);
        return 0;
    }
    /* libcurl copies both strings: cut the buffer for a moment. */
    *path = '\0';
    curl_easy_setopt(x->easy, CURLOPT_URL, url);
    *path = '/';
    curl_easy_setopt(x->easy, CURLOPT_REQUEST_TARGET, path);
    return 0;
}

/* Signs x->params as `action` and sets the easy handle up for it; the
 * request is not yet handed to libcurl. Returns 0, or an ORCH_E* code
 * with *what saying which step failed. */
static int prepare_request(struct dispatcher *d, struct orch_xfer *x,
                           const char *action, const char **what)
{
    struct orch_request_input in;
    char nonce[33];
    struct curl_slist *tail = NULL;
    int rc = 0;

    rc = orch_random_nonce(nonce);
    if (rc == 0) {
        memset(&in, 0, sizeof(in));
        in.endpoint = d->cfg->endpoint;
        in.action = action;
        in.params = &x->params;
        in.cred = d->cred;
        in.signature_version = d->cfg->signature_version;
        in.form_body = x->form_body;
        in.now_ms = orch_wall_ms();
        in.nonce = nonce;
        rc = orch_request_build(&x->req, &in);
    }
    if (rc) {
        *what = orch_strerror(rc);
        return rc;
    }

    /* The header list points into req.headers: nothing to free later. */
    for (size_t i = 0; i < x->req.nheaders; i++) {
        x->hdr[i].data = x->req.headers[i].data;
        x->hdr[i].next = NULL;
        if (tail != NULL)
            tail->next = &x->hdr[i];
        tail = &x->hdr[i];
    }
    /* No "Expect: 100-continue" round trip for large bodies. With an empty
     * body (V3 query style) libcurl would add an unsigned
     * "Content-Type: application/x-www-form-urlencoded", which the gateway
     * rejects (every content-type present must be signed): remove it. */
    if (tail != NULL)
        tail->next = x->req.body.len == 0 ? &d->no_ctype_hdr : &d->expect_hdr;
    orch_buf_reset(&x->body);
    orch_response_cleanup(&x->resp);
    x->have_resp = false;
    x->hint_ms = 0;
    x->prereqs = 0;
    x->resend_blocked = false;
    x->errbuf[0] = '\0';
    if (set_url(x) != 0) {
        *what = "the endpoint URL has no scheme";
        return ORCH_EINVAL;
    }
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER,
                     tail != NULL ? &x->hdr[0] : &d->expect_hdr);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)x->req.body.len);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, orch_buf_str(&x->req.body));
    return 0;
}

/* Hands a prepared request to libcurl. Returns false (with *what) if the
 * multi handle refused it. */
static bool launch(struct dispatcher *d, struct orch_xfer *x, uint64_t now,
                   const char **what)
{
    CURLMcode mrc = curl_multi_add_handle(d->multi, x->easy);

    if (mrc != CURLM_OK) {
        *what = curl_multi_strerror(mrc);
        return false;
    }
    x->in_flight = true;
    x->start_ms = now;
    d->in_flight++;
    if (x->query) {
        d->st->queries++;
    } else {
        d->st->calls++;
        if (x->attempts > 1)
            d->st->retries++;
    }
    if (d->st->first_start_ms == 0)
        d->st->first_start_ms = now;
    if (!x->query)
        d->st->last_start_ms = now;
    return true;
}

/* Builds and signs the next attempt of x's item and announces it through
 * ops->before_send; commit_batch() sends it after ops->sync. On failure
 * the item is reported failed and x recycled (returns false). */
static bool prepare_send(struct dispatcher *d, struct orch_xfer *x)
{
    const char *what = NULL;
    int64_t now_wall = orch_wall_ms();
    int rc = 0;

    x->attempts++;
    x->query = false;
    orch_params_cleanup(&x->params);
    orch_params_init(&x->params);
    rc = d->ops->build(d->ops->ud, x->item, &x->params);
    if (rc)
        what = orch_strerror(rc);
    else
        rc = prepare_request(d, x, d->ops->action, &what);
    if (rc) {
        x->attempts--;
        finish(d, x, ORCH_ITEM_FAILED, "RequestBuildFailed", what);
        return false;
    }
    if (x->since_ms == 0)
        x->since_ms = now_wall;
    if (d->ops->before_send != NULL)
        d->ops->before_send(d->ops->ud, x->item, x->attempts, now_wall);
    return true;
}

/* The limiter recorded the batch's starts at the admission time, but they
 * start only after the requests were built and ops->sync returned (an
 * fsync: milliseconds, sometimes tens). Requests of a later batch whose
 * sync was quick would then reach the server less than a window after
 * these: 21 in one second. So commit_batch() moves the batch's starts to
 * the real launch time with orch_ratelimit_retime(). */
/* Group commit: one ops->sync for every send admitted this iteration,
 * then they go to libcurl. A failed sync sends none of them and stops. */
static void commit_batch(struct dispatcher *d, uint64_t now)
{
    static const char journal_msg[] =
        "not sent: the journal could not be written, so the run stopped "
        "before sending anything it could not record";
    size_t n = d->nbatch;

    d->nbatch = 0;
    if (n == 0)
        return;
    if (d->ops->sync != NULL && d->ops->sync(d->ops->ud) != 0) {
        stop(d, "JournalFailed", journal_msg);
        for (size_t i = 0; i < n; i++) {
            struct orch_xfer *x = d->batch[i];

            x->attempts--; /* announced, never sent */
            finish(d, x, ORCH_ITEM_NOT_SENT, "JournalFailed", journal_msg);
        }
        return;
    }
    now = orch_mono_ms();
    orch_ratelimit_retime(&d->rl, d->ntaken, now);
    d->unsent_starts = d->ntaken;
    for (size_t i = 0; i < n; i++) {
        struct orch_xfer *x = d->batch[i];
        const char *what = NULL;

        if (!launch(d, x, now, &what))
            finish(d, x, ORCH_ITEM_FAILED, "RequestBuildFailed", what);
    }
}

/* --- reconciliation -------------------------------------------------- */

/* reconcile.c decides what to ask and what an answer means; here is the
 * I/O around it: the query heap and limiter, sending, finishing. */

static void note(struct dispatcher *d, struct orch_xfer *x,
                 const char *action, const char *code)
{
    if (d->ops->reconcile_note != NULL)
        d->ops->reconcile_note(d->ops->ud, x->item, action, code);
}

/* Puts x in the query heap, due after `delay`; when stopping, the item
 * is Ambiguous instead. */
static void queue_query(struct dispatcher *d, struct orch_xfer *x,
                        uint64_t now, uint64_t delay)
{
    if (d->stopping) {
        finish_ambiguous(d, x, d->stop_message);
        return;
    }
    x->query = true;
    x->due_ms = now + delay;
    heap_push(&d->queries, x);
}

/* Nothing found for this item: send it again, a new attempt. */
static void not_found(struct dispatcher *d, struct orch_xfer *x,
                      uint64_t now)
{
    char msg[sizeof(x->why) + 200];
    const char *whose = x->rc.step == ORCH_RECONCILE_JOBS_BY_FIRMWARE
                            ? "with this call's tag"
                            : "for these devices";

    x->query = false;
    if (d->stopping) {
        snprintf(msg, sizeof(msg),
                 "no job was found %s after an unknown outcome (%.300s); "
                 "not resent: %.255s",
                 whose, x->why, d->stop_message);
        finish(d, x, ORCH_ITEM_NOT_SENT, d->stop_code, msg);
        return;
    }
    if (x->attempts >= d->max_attempts) {
        snprintf(msg, sizeof(msg),
                 "outcome unknown (%s); reconciliation found no job %s but "
                 "the attempts are used up; check before resending",
                 x->why, whose);
        finish(d, x, ORCH_ITEM_FAILED, "Ambiguous", msg);
        return;
    }
    x->due_ms = now;
    heap_push(&d->sends, x);
}

/* Acts on a reconciliation verdict for x; detail is an UNDECIDABLE
 * verdict's reason. */
static void reconcile_act(struct dispatcher *d, struct orch_xfer *x,
                          enum orch_reconcile_verdict v, uint64_t now,
                          const char *detail)
{
    uint64_t delay = 0;

    switch (v) {
    case ORCH_RECONCILE_ASK:
        queue_query(d, x, now, 0);
        return;
    case ORCH_RECONCILE_ASK_AGAIN:
        delay = orch_retry_backoff_ms(x->rc.fails, d->backoff_base_ms,
                                      BACKOFF_CAP_MS, next_rand(d));
        if (x->hint_ms > delay)
            delay = x->hint_ms > HINT_CAP_MS ? HINT_CAP_MS : x->hint_ms;
        queue_query(d, x, now, delay);
        return;
    case ORCH_RECONCILE_FOUND:
        finish_recovered(d, x);
        return;
    case ORCH_RECONCILE_NOT_FOUND:
        not_found(d, x, now);
        return;
    case ORCH_RECONCILE_UNDECIDABLE:
    default:
        finish_ambiguous(d, x, detail);
        return;
    }
}

/* Enters reconciliation (see DESIGN). `why` says what made the outcome
 * unknown. */
static void reconcile_begin(struct dispatcher *d, struct orch_xfer *x,
                            uint64_t now, const char *why)
{
    struct orch_params tmp;
    char detail[256] = "";
    enum orch_reconcile_verdict v;
    int rc = 0;

    d->st->reconciled++;
    snprintf(x->why, sizeof(x->why), "%.500s", why);
    if (x->attempts > 0) {
        /* The last attempt's parameters: no rebuild, no allocation. */
        tmp = x->cparams;
        x->cparams = x->params;
        x->params = tmp;
    } else {
        orch_params_cleanup(&x->cparams);
        orch_params_init(&x->cparams);
        rc = d->ops->build(d->ops->ud, x->item, &x->cparams);
    }
    if (rc) {
        orch_reconcile_cleanup(&x->rc);
        finish_ambiguous(d, x, "its parameters could not be built");
        return;
    }
    v = orch_reconcile_begin(&x->rc, &x->cparams, x->since_ms, detail,
                             sizeof(detail));
    reconcile_act(d, x, v, now, detail);
}

/* Builds and starts the query the reconciliation state names. */
static void start_query(struct dispatcher *d, struct orch_xfer *x,
                        uint64_t now)
{
    const char *action = orch_reconcile_action(&x->rc);
    const char *what = NULL;
    int rc = 0;

    orch_params_cleanup(&x->params);
    orch_params_init(&x->params);
    /* Queries are short: always query-string style. */
    x->form_body = false;
    rc = orch_reconcile_query(&x->rc, &x->cparams, &x->params);
    if (rc)
        what = orch_strerror(rc);
    else
        rc = prepare_request(d, x, action, &what);
    if (rc == 0 && launch(d, x, now, &what))
        return;
    finish_ambiguous(d, x, what != NULL ? what : "a query failed to start");
}

/* --- admission ---------------------------------------------------------- */

/* Starts due reconciliation queries while the cap and the query limiter
 * allow. They never take the action's tokens. */
static void admit_queries(struct dispatcher *d, uint64_t now)
{
    while (!d->stopping && d->in_flight + d->nbatch < d->cap &&
           heap_due(&d->queries, now)) {
        uint64_t wait = orch_ratelimit_take(&d->qrl, now);

        if (wait > 0) {
            d->next_qtoken_ms = now + wait;
            break;
        }
        start_query(d, heap_pop(&d->queries), now);
    }
}

/* Takes an unstarted item that an earlier run left without an outcome
 * into reconciliation. Returns false when it must wait (no room). */
static bool admit_interrupted(struct dispatcher *d, size_t item,
                              int64_t since, uint64_t now)
{
    struct orch_xfer *x = NULL;

    /* Reconciling items hold an xfer each: bound them by the cap too. */
    if (d->in_flight + d->nbatch + d->queries.len >= d->cap)
        return false;
    if (xfer_get(d, item, &x) != 0) {
        if (d->in_flight > 0)
            return false;
        d->cursor++;
        report(d, item, 0, ORCH_ITEM_FAILED, "Ambiguous",
               "outcome of an earlier run unknown and out of memory to "
               "reconcile it; check before resending");
        return true;
    }
    d->cursor++;
    x->since_ms = since;
    reconcile_begin(d, x, now,
                    "sent by an earlier run that ended before its answer "
                    "was recorded");
    return true;
}

/* Admits due queries, then due resends and new items while the cap and
 * the limiters allow, and commits the admitted sends with one sync. */
static void admit(struct dispatcher *d, uint64_t now)
{
    d->next_token_ms = 0;
    d->next_qtoken_ms = 0;
    d->nbatch = 0;
    d->ntaken = 0;
    admit_queries(d, now);
    while (!d->stopping && d->in_flight + d->nbatch < d->cap) {
        struct orch_xfer *x = NULL;
        bool retry = heap_due(&d->sends, now);
        const struct group_state *gs = NULL;
        uint64_t wait = 0;
        size_t item = 0;
        int64_t since = 0;

        if (retry) {
            item = d->sends.v[0]->item;
        } else {
            if (d->cursor >= d->ops->nitems)
                break;
            item = d->cursor;
            if (d->ops->skip != NULL && d->ops->skip(d->ops->ud, item)) {
                d->cursor++;
                d->finished++;
                continue;
            }
            if (was_interrupted(d, item, &since)) {
                if (!admit_interrupted(d, item, since, now))
                    break;
                continue;
            }
        }
        gs = group_stopped(d, item);
        if (gs != NULL) {
            if (retry) {
                x = heap_pop(&d->sends);
                report_group_stopped(d, item, x->attempts, gs);
                xfer_put(d, x);
            } else {
                d->cursor++;
                report_group_stopped(d, item, 0, gs);
            }
            continue;
        }
        wait = orch_ratelimit_take(&d->rl, now);
        if (wait > 0) {
            d->next_token_ms = now + wait;
            break;
        }
        d->ntaken++;
        if (retry) {
            x = heap_pop(&d->sends);
        } else {
            if (xfer_get(d, item, &x) != 0) {
                /* Out of memory for a new xfer: try again next round,
                 * once in-flight transfers have freed some. */
                if (d->in_flight + d->nbatch > 0)
                    break;
                d->cursor++;
                report(d, item, 0, ORCH_ITEM_NOT_SENT, "OutOfMemory",
                       "out of memory");
                continue;
            }
            d->cursor++;
        }
        if (prepare_send(d, x))
            d->batch[d->nbatch++] = x;
    }
    commit_batch(d, now);
    /* Items that entered reconciliation just now need not wait a turn. */
    admit_queries(d, now);
}

/* Puts x back in the resend heap, due after backoff or the server's
 * hint. */
static void requeue(struct dispatcher *d, struct orch_xfer *x, uint64_t now,
                    bool immediate)
{
    uint64_t delay = 0;

    if (!immediate) {
        delay = orch_retry_backoff_ms(x->attempts, d->backoff_base_ms,
                                      BACKOFF_CAP_MS, next_rand(d));
        if (x->hint_ms > delay)
            delay = x->hint_ms > HINT_CAP_MS ? HINT_CAP_MS : x->hint_ms;
    }
    x->due_ms = now + delay;
    heap_push(&d->sends, x);
}

static void describe_transport(char *out, size_t cap, const struct orch_xfer *x,
                               CURLcode res)
{
    snprintf(out, cap, "%s",
             x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
}

/* --- completion ---------------------------------------------------------- */

/* Decodes a finished transfer and classifies it; *code and msg describe
 * a failure. Counts throttling answers and slows the limiter that paced
 * the request. */
static enum orch_verdict read_outcome(struct dispatcher *d,
                                      struct orch_xfer *x, CURLcode res,
                                      uint64_t now, const char **code,
                                      char *msg, size_t msg_cap)
{
    struct orch_outcome o;
    enum orch_verdict v;
    long status = 0;
    curl_off_t req_size = 0;

    curl_multi_remove_handle(d->multi, x->easy);
    x->in_flight = false;
    d->in_flight--;
    d->st->last_end_ms = now;
    memset(&o, 0, sizeof(o));
    if (res == CURLE_OK) {
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
        (void)orch_api_decode(&x->resp, status, x->body.data, x->body.len);
        x->have_resp = true;
        o.request_sent = true;
        o.resp = &x->resp;
    } else {
        curl_easy_getinfo(x->easy, CURLINFO_REQUEST_SIZE, &req_size);
        o.transport_error = (int)res;
        /* Any request byte on the wire counts as sent: a partial request
         * is not processed, but erring this way can only cost a
         * reconciliation, never a duplicate job. */
        o.request_sent = req_size > 0 || x->resend_blocked;
    }
    v = orch_retry_classify(&o);
    if (x->have_resp && orch_retry_is_throttle(&x->resp)) {
        d->st->throttled++;
        orch_ratelimit_throttled(x->query ? &d->qrl : &d->rl, now);
    }
    if (x->have_resp) {
        *code = x->resp.code;
        snprintf(msg, msg_cap, "%s", x->resp.message);
    } else {
        *code = "NetworkError";
        if (x->resend_blocked)
            snprintf(msg, msg_cap,
                     "connection closed after the request "
                     "was sent, before any answer");
        else
            describe_transport(msg, msg_cap, x, res);
    }
    return v;
}

/* Handles a finished reconciliation query. */
static void complete_query(struct dispatcher *d, struct orch_xfer *x,
                           CURLcode res, uint64_t now)
{
    const char *action = orch_reconcile_action(&x->rc);
    const char *code = NULL;
    char msg[512];
    char why[700];
    char detail[800] = "";
    enum orch_verdict v = read_outcome(d, x, res, now, &code, msg,
                                       sizeof(msg));
    enum orch_reconcile_verdict rv;

    note(d, x, action, v == ORCH_VERDICT_CREATED ? "" : code);
    snprintf(why, sizeof(why), "%s: %.127s: %.511s", action, code, msg);
    if (v == ORCH_VERDICT_CREATED) { /* i.e. the query succeeded */
        rv = orch_reconcile_answer(&x->rc, &x->cparams, &x->resp, detail,
                                   sizeof(detail));
    } else {
        if (v == ORCH_VERDICT_FATAL)
            stop(d, code, why);
        rv = orch_reconcile_failed(&x->rc, &x->cparams, v, code, why, detail,
                                   sizeof(detail));
    }
    reconcile_act(d, x, rv, now, detail);
}

/* Handles one finished transfer. */
static void complete(struct dispatcher *d, struct orch_xfer *x, CURLcode res,
                     uint64_t now)
{
    enum orch_verdict v;
    char msg[640];
    const char *code = NULL;

    if (x->query) {
        complete_query(d, x, res, now);
        return;
    }
    v = read_outcome(d, x, res, now, &code, msg, sizeof(msg));
    if (d->ops->answered != NULL)
        d->ops->answered(d->ops->ud, x->item, x->attempts,
                         x->have_resp ? &x->resp : NULL,
                         v == ORCH_VERDICT_CREATED ? "" : code,
                         now >= x->start_ms ? now - x->start_ms : 0);
    /* A query action's unknown outcome is harmless: ask again. */
    if (v == ORCH_VERDICT_AMBIGUOUS && d->ops->idempotent)
        v = ORCH_VERDICT_RETRY;

    switch (v) {
    case ORCH_VERDICT_CREATED:
        group_note(d, x->item, false, "");
        finish(d, x, ORCH_ITEM_CREATED, NULL, NULL);
        return;
    case ORCH_VERDICT_RESEND_FORM:
        if (d->stopping) {
            finish(d, x, ORCH_ITEM_NOT_SENT, d->stop_code, d->stop_message);
            return;
        }
        if (!x->form_body) {
            x->form_body = true;
            x->form_fallback = true;
            d->st->form_fallbacks++;
            requeue(d, x, now, true);
            return;
        }
        break; /* a second 414: fail below */
    case ORCH_VERDICT_RETRY:
        if (d->stopping) {
            /* Refused unprocessed, and we are stopping: not sent. */
            finish(d, x, ORCH_ITEM_NOT_SENT, d->stop_code, d->stop_message);
            return;
        }
        if (x->attempts < d->max_attempts) {
            requeue(d, x, now, false);
            return;
        }
        break;
    case ORCH_VERDICT_AMBIGUOUS: {
        char amb[sizeof(msg) + 160];

        snprintf(amb, sizeof(amb), "%.127s%s%.511s", x->have_resp ? code : "",
                 x->have_resp ? ": " : "", msg);
        if (!d->stopping) {
            /* Ask the API before any resend. */
            reconcile_begin(d, x, now, amb);
            return;
        }
        snprintf(x->why, sizeof(x->why), "%.500s", amb);
        finish_ambiguous(d, x, d->stop_message);
        return;
    }
    case ORCH_VERDICT_FATAL: {
        /* Refused before processing (credentials, clock, RAM policy, TLS
         * set-up): nothing was created, and every call would be refused
         * the same way, so the run stops. A call the server answered was
         * sent and refused: failed, with its code, message and request
         * id (rerunning its devices cannot duplicate a job). One nothing
         * answered (TLS verification, bad URL) never left: not_sent. The
         * stop reason is one line without the server's text (which may
         * span lines): it becomes every unsent item's message. */
        char why[400];

        if (x->have_resp && x->resp.request_id[0])
            snprintf(why, sizeof(why), "run stopped: %.127s (request id "
                     "%.127s)", code, x->resp.request_id);
        else
            snprintf(why, sizeof(why), "run stopped: %.127s", code);
        stop(d, code, why);
        if (x->have_resp && d->st->abort_request_id[0] == '\0')
            snprintf(d->st->abort_request_id,
                     sizeof(d->st->abort_request_id), "%s",
                     x->resp.request_id);
        finish(d, x, x->have_resp ? ORCH_ITEM_FAILED : ORCH_ITEM_NOT_SENT,
               code, msg);
        return;
    }
    case ORCH_VERDICT_FAILED:
    default:
        group_note(d, x->item, true, code);
        break;
    }
    finish(d, x, ORCH_ITEM_FAILED, code, msg);
}

/* Second interrupt: remove every in-flight transfer. */
static void abort_in_flight(struct dispatcher *d)
{
    for (size_t i = 0; i < d->nxfers; i++) {
        struct orch_xfer *x = d->xfers[i];
        curl_off_t req_size = 0;

        if (!x->in_flight)
            continue;
        curl_easy_getinfo(x->easy, CURLINFO_REQUEST_SIZE, &req_size);
        curl_multi_remove_handle(d->multi, x->easy);
        x->in_flight = false;
        d->in_flight--;
        if (x->query)
            finish_ambiguous(d, x, "aborted by a second interrupt");
        else if (req_size > 0)
            finish(d, x, ORCH_ITEM_FAILED, "Ambiguous",
                   "aborted by a second interrupt after the request was "
                   "sent; a job may have been created: check before "
                   "resending");
        else
            finish(d, x, ORCH_ITEM_NOT_SENT, "Interrupted",
                   "aborted by a second interrupt before sending");
    }
}

static void drain_messages(struct dispatcher *d, uint64_t now)
{
    CURLMsg *m = NULL;
    int left = 0;

    while ((m = curl_multi_info_read(d->multi, &left)) != NULL) {
        struct orch_xfer *x = NULL;

        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        complete(d, x, m->data.result, now);
    }
}

static uint64_t min_wait(uint64_t t, uint64_t at, uint64_t now)
{
    if (at <= now)
        return 0;
    return at - now < t ? at - now : t;
}

static int poll_timeout(const struct dispatcher *d, uint64_t now)
{
    uint64_t t = POLL_MAX_MS;

    /* With the cap reached only a completion can let anything start, and
     * a completion wakes the poll by itself. */
    if (d->in_flight < d->cap) {
        if (d->next_token_ms > now)
            t = min_wait(t, d->next_token_ms, now);
        else if (d->sends.len > 0)
            t = min_wait(t, d->sends.v[0]->due_ms, now);
        if (d->next_qtoken_ms > now)
            t = min_wait(t, d->next_qtoken_ms, now);
        else if (d->queries.len > 0)
            t = min_wait(t, d->queries.v[0]->due_ms, now);
    }
    if (d->ops->progress != NULL)
        t = min_wait(t, d->last_progress_ms + PROGRESS_EVERY_MS, now);
    return (int)t;
}

static size_t in_flight_cap(const struct orch_config *cfg)
{
    size_t floor_cap = cfg->max_in_flight > 0 ? (size_t)cfg->max_in_flight : 1;
    double need = ceil(cfg->qps * LATENCY_BUDGET_MS / 1000.0);

    if (need > AUTO_CAP_MAX || need <= (double)floor_cap)
        return floor_cap;
    return (size_t)need;
}

static void dispatcher_cleanup(struct dispatcher *d)
{
    for (size_t i = 0; i < d->nxfers; i++) {
        if (d->xfers[i]->in_flight)
            curl_multi_remove_handle(d->multi, d->xfers[i]->easy);
        xfer_free(d->xfers[i]);
    }
    free(d->xfers);
    free(d->sends.v);
    free(d->queries.v);
    free(d->batch);
    free(d->groups);
    if (d->multi != NULL)
        curl_multi_cleanup(d->multi);
    orch_ratelimit_cleanup(&d->rl);
    orch_ratelimit_cleanup(&d->qrl);
}

int orch_dispatch_run(const struct orch_config *cfg,
                      const struct orch_credentials *cred,
                      const struct orch_dispatch_ops *ops,
                      volatile sig_atomic_t *interrupt,
                      struct orch_dispatch_stats *stats, struct orch_diag *diag)
{
    struct dispatcher d;
    int rc = 0;
    uint64_t now = orch_mono_ms();
    bool curl_inited = false;
    double qqps = 0;

    memset(&d, 0, sizeof(d));
    memset(stats, 0, sizeof(*stats));
    if (cfg == NULL || cred == NULL || ops == NULL || ops->build == NULL ||
        ops->done == NULL || ops->action == NULL || cfg->endpoint == NULL)
        return orch_diag_set(diag, ORCH_EINVAL,
                             "dispatch: missing endpoint, action or callback");
    if (!(cfg->qps > 0))
        return orch_diag_set(diag, ORCH_EINVAL, "dispatch: --qps must be > 0");
    qqps = cfg->query_qps > 0 ? cfg->query_qps : DEFAULT_QUERY_QPS;
    d.cfg = cfg;
    d.cred = cred;
    d.ops = ops;
    d.interrupt = interrupt;
    d.st = stats;
    d.cap = in_flight_cap(cfg);
    d.backoff_base_ms = cfg->backoff_base_ms > 0
                            ? (uint64_t)cfg->backoff_base_ms
                            : BACKOFF_BASE_MS;
    d.max_attempts = cfg->max_attempts > 0 ? (unsigned)cfg->max_attempts : 1;
    d.expect_hdr.data = (char *)"Expect:";
    d.no_ctype_hdr.data = (char *)"Content-Type:";
    d.no_ctype_hdr.next = &d.expect_hdr;
    d.last_progress_ms = now;
    d.rng = (uint64_t)orch_wall_ms() * 0x9E3779B97F4A7C15ULL ^ (uintptr_t)&d;
    if (d.rng == 0)
        d.rng = 1;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return orch_diag_set(diag, ORCH_EHTTP, "curl_global_init failed");
    curl_inited = true;
    d.batch = calloc(d.cap, sizeof(*d.batch));
    if (d.batch == NULL) {
        rc = orch_diag_set(diag, ORCH_ENOMEM, "dispatch: out of memory");
        goto out;
    }
    rc = orch_ratelimit_init(
        &d.rl,
        cfg->qps * 1000.0 /
            (1000.0 + (ops->idempotent ? PACE_MARGIN_MS : WINDOW_MARGIN_MS)),
        now);
    if (rc) {
        orch_diag_set(diag, rc, "dispatch: bad rate %g", cfg->qps);
        goto out;
    }
    rc = orch_ratelimit_init(
        &d.qrl, qqps * 1000.0 / (1000.0 + WINDOW_MARGIN_MS), now);
    if (rc) {
        orch_diag_set(diag, rc, "dispatch: bad query rate %g", qqps);
        goto out;
    }
    /* Client side: spread the starts over the second (ratelimit.h), so
     * arrival jitter at the server cannot bunch a window's worth into one
     * of its seconds. Only for the action that must not be throttled
     * (a refused Create costs a retry at the quota): idempotent queries
     * (status, cancel) keep their bursts, where latency matters more. */
    d.rl.even_spacing = !ops->idempotent;
    d.qrl.even_spacing = true;
    if (d.rl.even_spacing)
        d.rl.spacing_slack_ms = PACE_MARGIN_MS - WINDOW_MARGIN_MS;
    d.qrl.spacing_slack_ms = PACE_MARGIN_MS - WINDOW_MARGIN_MS;
    d.rl.catchup_ms = CATCHUP_MS;
    d.multi = curl_multi_init();
    if (d.multi == NULL) {
        rc = orch_diag_set(diag, ORCH_EHTTP, "curl_multi_init failed");
        goto out;
    }
    curl_multi_setopt(d.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)d.cap);
    curl_multi_setopt(d.multi, CURLMOPT_MAXCONNECTS, (long)d.cap);
    curl_multi_setopt(d.multi, CURLMOPT_PIPELINING, CURLPIPE_NOTHING);

    while (d.finished < ops->nitems) {
        int running = 0;
        int irq = interrupt != NULL ? (int)*interrupt : 0;

        now = orch_mono_ms();
        if (irq >= 1 && !d.stopping) {
            stop(&d, "Interrupted", "interrupted before this call was sent");
            snprintf(stats->abort_reason, sizeof(stats->abort_reason),
                     "interrupted");
        }
        if (irq >= 2 && !d.aborted_in_flight) {
            d.aborted_in_flight = true;
            abort_in_flight(&d);
        }
        if (!d.stopping)
            admit(&d, now);
        /* Also after admit: a failed sync stops the run there. */
        if (d.stopping)
            drain_unsent(&d);
        if (d.finished >= ops->nitems)
            break;
        /* The timeout from the time now, not from the iteration's start:
         * admit's builds and the journal's fsync took some of it, and a
         * wake-up that late makes the next start late (and the limiter
         * then either catches up inside the window's margin or loses
         * rate). */
        curl_multi_poll(d.multi, NULL, 0, poll_timeout(&d, orch_mono_ms()), NULL);
        curl_multi_perform(d.multi, &running);
        now = orch_mono_ms();
        /* The batch's requests were written during this perform (a burst
         * of 20 takes milliseconds, more on new connections): the later
         * time is the safer record of when they reached the server. */
        if (d.unsent_starts > 0) {
            orch_ratelimit_retime(&d.rl, d.unsent_starts, now);
            d.unsent_starts = 0;
        }
        drain_messages(&d, now);
        progress(&d, now, false);
    }
    progress(&d, orch_mono_ms(), true);
out:
    dispatcher_cleanup(&d);
    if (curl_inited)
        curl_global_cleanup();
    return rc;
}
