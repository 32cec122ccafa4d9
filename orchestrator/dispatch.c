/* dispatch.c - many signed calls on one libcurl multi handle, paced by the
 * rate limiter, retried when safe, each item's final outcome reported once.
 *
 * DESIGN
 * Threads: everything runs on the caller's thread. It owns the multi
 * handle, every struct orch_xfer and the retry heap; the only shared
 * state is *interrupt, which a signal handler may raise.
 *
 * State of an item: unstarted (at or after `cursor`), in flight (its xfer
 * is in the multi handle), waiting for a retry (its xfer is in the retry
 * heap, keyed by due time), or finished (ops->done called). An xfer is
 * bound to one item from its first attempt to its final result, then goes
 * back to a free list with its easy handle and buffers, so the steady
 * state allocates nothing per call but the parameters and the request
 * that request.c builds.
 *
 * Loop: (1) admit: a due retry first, else the next unstarted item, while
 * in-flight < cap and orch_ratelimit_take() allows; (2) curl_multi_poll
 * with timeout = min(next token, next due retry, next progress tick);
 * (3) curl_multi_perform; (4) drain curl_multi_info_read: decode,
 * orch_retry_classify, then requeue (new nonce and timestamp on the next
 * attempt) or report.
 *
 * In-flight cap: pacing is the rate limiter's job; the cap only bounds
 * connections. Holding the quota needs qps x latency calls in flight (20/s
 * at 3 s latency: 60), so the cap is max(cfg->max_in_flight,
 * ceil(qps x LATENCY_BUDGET_MS)). Above AUTO_CAP_MAX that product means
 * the rate is not a quota but "unlimited" (a benchmark), where latency
 * grows with concurrency; then cfg->max_in_flight alone is the cap.
 *
 * Pacing margin: the limiter runs at qps x 1000 / (1000 + PACE_MARGIN_MS)
 * (20/s: 20 starts per 1005 ms), so a few ms of jitter between our start
 * and the server's arrival time cannot put 21 arrivals in its second.
 *
 * Ending: a FATAL verdict or *interrupt == 1 stops admissions: unstarted
 * and waiting items are reported not_sent (their earlier attempts, if
 * any, were refused unprocessed: only RETRY and RESEND_FORM requeue) and
 * in-flight ones finish. *interrupt >= 2 also removes the in-flight
 * transfers: one whose request had gone out is reported failed with code
 * Ambiguous, the others not_sent.
 */
#include "orch/dispatch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "orch/api.h"
#include "orch/buf.h"
#include "orch/codec.h"
#include "orch/config.h"
#include "orch/credentials.h"
#include "orch/err.h"
#include "orch/params.h"
#include "orch/ratelimit.h"
#include "orch/request.h"
#include "orch/retry.h"

#define BACKOFF_BASE_MS 200
#define BACKOFF_CAP_MS 20000
#define HINT_CAP_MS 60000
#define PACE_MARGIN_MS 5
#define LATENCY_BUDGET_MS 4000
#define AUTO_CAP_MAX 4096
#define PROGRESS_EVERY_MS 1000
#define POLL_MAX_MS 1000
#define BODY_MAX (16u * 1024 * 1024)

struct dispatcher;

/* Per-item request state (curl's per_transfer). */
struct orch_xfer {
    struct dispatcher *d;
    CURL *easy;
    size_t item;
    unsigned attempts;
    bool form_body;     /* the next attempts use a form body */
    bool form_fallback; /* a 414/431 made us switch */
    bool in_flight;
    uint64_t due_ms;     /* retry heap key */
    size_t heap_idx;     /* position in the retry heap */
    uint64_t hint_ms;    /* server retry-after hint of the last answer */
    unsigned prereqs;    /* times libcurl was about to send this attempt */
    bool resend_blocked; /* we stopped libcurl's own silent resend */
    uint64_t start_ms;
    struct orch_params params;
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

struct dispatcher {
    const struct orch_config *cfg;
    const struct orch_credentials *cred;
    const struct orch_dispatch_ops *ops;
    volatile sig_atomic_t *interrupt;
    struct orch_dispatch_stats *st;

    CURLM *multi;
    struct orch_ratelimit rl;
    size_t cap; /* in-flight cap */
    size_t in_flight;
    size_t cursor;   /* next unstarted item */
    size_t finished; /* done() calls + skipped items */

    struct orch_xfer **xfers; /* every xfer allocated (for cleanup) */
    size_t nxfers;
    struct orch_xfer *free_list;
    struct orch_xfer **heap; /* retry min-heap, capacity nxfers */
    size_t heap_len;

    struct group_state *groups;
    size_t ngroups, groups_cap;

    bool stopping;         /* no more admissions */
    const char *stop_code; /* code for items not sent because of it */
    char stop_code_buf[128];
    char stop_message[256];
    bool aborted_in_flight;
    uint64_t rng;
    uint64_t next_token_ms; /* when the limiter may allow again */
    uint64_t last_progress_ms;
    struct curl_slist expect_hdr;
    struct curl_slist no_ctype_hdr; /* "Content-Type:", then expect_hdr */
};

static uint64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

/* --- retry heap (min-heap on due_ms, index kept in the xfer) ----------- */

static bool heap_less(const struct orch_xfer *a, const struct orch_xfer *b)
{
    return a->due_ms < b->due_ms;
}

static void heap_swap(struct dispatcher *d, size_t i, size_t j)
{
    struct orch_xfer *t = d->heap[i];

    d->heap[i] = d->heap[j];
    d->heap[j] = t;
    d->heap[i]->heap_idx = i;
    d->heap[j]->heap_idx = j;
}

/* Never allocates: the heap array has room for every xfer. */
static void heap_push(struct dispatcher *d, struct orch_xfer *x)
{
    size_t i = d->heap_len++;

    d->heap[i] = x;
    x->heap_idx = i;
    while (i > 0 && heap_less(d->heap[i], d->heap[(i - 1) / 2])) {
        heap_swap(d, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static struct orch_xfer *heap_pop(struct dispatcher *d)
{
    struct orch_xfer *top = d->heap[0];
    size_t i = 0;

    d->heap_len--;
    if (d->heap_len > 0) {
        d->heap[0] = d->heap[d->heap_len];
        d->heap[0]->heap_idx = 0;
        for (;;) {
            size_t l = 2 * i + 1, r = l + 1, m = i;

            if (l < d->heap_len && heap_less(d->heap[l], d->heap[m]))
                m = l;
            if (r < d->heap_len && heap_less(d->heap[r], d->heap[m]))
                m = r;
            if (m == i)
                break;
            heap_swap(d, i, m);
            i = m;
        }
    }
    return top;
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
    heap = realloc(d->heap, (d->nxfers + 1) * sizeof(*heap));
    if (heap == NULL)
        return ORCH_ENOMEM;
    d->heap = heap;
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
    x->have_resp = false;
    x->next_free = NULL;
    *out = x;
    return 0;
}

static void xfer_put(struct dispatcher *d, struct orch_xfer *x)
{
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

static void report(struct dispatcher *d, size_t item, unsigned attempts,
                   enum orch_item_status status,
                   const struct orch_response *resp, const char *code,
                   const char *message, bool form_fallback)
{
    struct orch_item_result res;

    memset(&res, 0, sizeof(res));
    res.status = status;
    res.attempts = attempts;
    res.resp = resp;
    res.error_code = status == ORCH_ITEM_CREATED ? NULL : code;
    res.error_message = status == ORCH_ITEM_CREATED ? NULL : message;
    res.form_fallback = form_fallback;
    switch (status) {
    case ORCH_ITEM_CREATED:
        d->st->created++;
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
    d->ops->done(d->ops->ud, item, &res);
}

/* Reports the xfer's item and recycles the xfer. */
static void finish(struct dispatcher *d, struct orch_xfer *x,
                   enum orch_item_status status, const char *code,
                   const char *message)
{
    report(d, x->item, x->attempts, status, x->have_resp ? &x->resp : NULL,
           code, message, x->form_fallback);
    xfer_put(d, x);
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
    report(d, item, attempts, ORCH_ITEM_NOT_SENT, NULL, gs->code, msg, false);
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
}

/* After stop(): every unstarted and waiting item is not_sent. */
static void drain_unsent(struct dispatcher *d)
{
    while (d->heap_len > 0) {
        struct orch_xfer *x = heap_pop(d);

        finish(d, x, ORCH_ITEM_NOT_SENT, d->stop_code, d->stop_message);
    }
    for (; d->cursor < d->ops->nitems; d->cursor++) {
        size_t i = d->cursor;

        if (d->ops->skip != NULL && d->ops->skip(d->ops->ud, i)) {
            d->finished++;
            continue;
        }
        report(d, i, 0, ORCH_ITEM_NOT_SENT, NULL, d->stop_code, d->stop_message,
               false);
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

/* Builds and signs the next attempt of x and adds it to the multi handle.
 * On failure the item is reported failed and x recycled (returns false). */
static bool start_attempt(struct dispatcher *d, struct orch_xfer *x,
                          uint64_t now)
{
    struct orch_request_input in;
    char nonce[33];
    struct curl_slist *tail = NULL;
    int rc = 0;
    CURLMcode mrc = CURLM_OK;

    x->attempts++;
    orch_params_cleanup(&x->params);
    orch_params_init(&x->params);
    rc = d->ops->build(d->ops->ud, x->item, &x->params);
    if (rc == 0)
        rc = orch_random_nonce(nonce);
    if (rc == 0) {
        memset(&in, 0, sizeof(in));
        in.endpoint = d->cfg->endpoint;
        in.action = d->ops->action;
        in.params = &x->params;
        in.cred = d->cred;
        in.signature_version = d->cfg->signature_version;
        in.form_body = x->form_body;
        in.now_ms = wall_ms();
        in.nonce = nonce;
        rc = orch_request_build(&x->req, &in);
    }
    if (rc) {
        x->attempts--;
        finish(d, x, ORCH_ITEM_FAILED, "RequestBuildFailed", orch_strerror(rc));
        return false;
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
        finish(d, x, ORCH_ITEM_FAILED, "RequestBuildFailed",
               "the endpoint URL has no scheme");
        return false;
    }
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER,
                     tail != NULL ? &x->hdr[0] : &d->expect_hdr);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)x->req.body.len);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, orch_buf_str(&x->req.body));
    mrc = curl_multi_add_handle(d->multi, x->easy);
    if (mrc != CURLM_OK) {
        finish(d, x, ORCH_ITEM_FAILED, "RequestBuildFailed",
               curl_multi_strerror(mrc));
        return false;
    }
    x->in_flight = true;
    x->start_ms = now;
    d->in_flight++;
    d->st->calls++;
    if (x->attempts > 1)
        d->st->retries++;
    if (d->st->first_start_ms == 0)
        d->st->first_start_ms = now;
    return true;
}

/* Admits due retries and new items while the cap and the limiter allow. */
static void admit(struct dispatcher *d, uint64_t now)
{
    d->next_token_ms = 0;
    while (!d->stopping && d->in_flight < d->cap) {
        struct orch_xfer *x = NULL;
        bool retry = d->heap_len > 0 && d->heap[0]->due_ms <= now;
        const struct group_state *gs = NULL;
        uint64_t wait = 0;
        size_t item = 0;

        if (retry) {
            item = d->heap[0]->item;
        } else {
            if (d->cursor >= d->ops->nitems)
                break;
            item = d->cursor;
            if (d->ops->skip != NULL && d->ops->skip(d->ops->ud, item)) {
                d->cursor++;
                d->finished++;
                continue;
            }
        }
        gs = group_stopped(d, item);
        if (gs != NULL) {
            if (retry) {
                x = heap_pop(d);
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
        if (retry) {
            x = heap_pop(d);
        } else {
            if (xfer_get(d, item, &x) != 0) {
                /* Out of memory for a new xfer: try again next round,
                 * once in-flight transfers have freed some. */
                if (d->in_flight > 0)
                    break;
                d->cursor++;
                report(d, item, 0, ORCH_ITEM_NOT_SENT, NULL, "OutOfMemory",
                       "out of memory", false);
                continue;
            }
            d->cursor++;
        }
        (void)start_attempt(d, x, now);
    }
}

/* Puts x back in the retry heap, due after backoff or the server's hint. */
static void requeue(struct dispatcher *d, struct orch_xfer *x, uint64_t now,
                    bool immediate)
{
    uint64_t delay = 0;

    if (!immediate) {
        delay = orch_retry_backoff_ms(x->attempts, BACKOFF_BASE_MS,
                                      BACKOFF_CAP_MS, next_rand(d));
        if (x->hint_ms > delay)
            delay = x->hint_ms > HINT_CAP_MS ? HINT_CAP_MS : x->hint_ms;
    }
    x->due_ms = now + delay;
    heap_push(d, x);
}

static void describe_transport(char *out, size_t cap, const struct orch_xfer *x,
                               CURLcode res)
{
    snprintf(out, cap, "%s",
             x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
}

/* Handles one finished transfer. */
static void complete(struct dispatcher *d, struct orch_xfer *x, CURLcode res,
                     uint64_t now)
{
    struct orch_outcome o;
    enum orch_verdict v;
    long status = 0;
    curl_off_t req_size = 0;
    char msg[640];
    const char *code = NULL;

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
        orch_ratelimit_throttled(&d->rl, now);
    }
    if (x->have_resp) {
        code = x->resp.code;
        snprintf(msg, sizeof(msg), "%s", x->resp.message);
    } else {
        code = "NetworkError";
        if (x->resend_blocked)
            snprintf(msg, sizeof(msg),
                     "connection closed after the request "
                     "was sent, before any answer");
        else
            describe_transport(msg, sizeof(msg), x, res);
    }

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
        if (x->attempts <
            (unsigned)(d->cfg->max_attempts > 0 ? d->cfg->max_attempts : 1)) {
            requeue(d, x, now, false);
            return;
        }
        break;
    case ORCH_VERDICT_AMBIGUOUS: {
        /* Issue 4 reconciles here (ListOTAJobByDevice etc.) before any
         * resend; until then the chunk is failed, never resent. */
        char amb[sizeof(msg) + 160];

        snprintf(
            amb, sizeof(amb),
            "outcome unknown (%.127s%s%.511s); a job may have been created: "
            "check before resending",
            x->have_resp ? code : "", x->have_resp ? ": " : "", msg);
        finish(d, x, ORCH_ITEM_FAILED, "Ambiguous", amb);
        return;
    }
    case ORCH_VERDICT_FATAL: {
        /* Refused before processing (credentials, TLS, clock): this item
         * and every one not yet finished are not sent. */
        char why[sizeof(msg) + 160];

        snprintf(why, sizeof(why), "run stopped: %.127s: %.511s", code, msg);
        stop(d, code, why);
        finish(d, x, ORCH_ITEM_NOT_SENT, d->stop_code, msg);
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
        if (req_size > 0)
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

static int poll_timeout(const struct dispatcher *d, uint64_t now)
{
    uint64_t t = POLL_MAX_MS;

    if (d->next_token_ms > now && d->in_flight < d->cap &&
        d->next_token_ms - now < t)
        t = d->next_token_ms - now;
    if (d->heap_len > 0) {
        uint64_t due = d->heap[0]->due_ms;

        t = due <= now ? 0 : (due - now < t ? due - now : t);
    }
    if (d->ops->progress != NULL) {
        uint64_t tick = d->last_progress_ms + PROGRESS_EVERY_MS;

        t = tick <= now ? 0 : (tick - now < t ? tick - now : t);
    }
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
    free(d->heap);
    free(d->groups);
    if (d->multi != NULL)
        curl_multi_cleanup(d->multi);
    orch_ratelimit_cleanup(&d->rl);
}

int orch_dispatch_run(const struct orch_config *cfg,
                      const struct orch_credentials *cred,
                      const struct orch_dispatch_ops *ops,
                      volatile sig_atomic_t *interrupt,
                      struct orch_dispatch_stats *stats, struct orch_diag *diag)
{
    struct dispatcher d;
    int rc = 0;
    uint64_t now = mono_ms();
    bool curl_inited = false;

    memset(&d, 0, sizeof(d));
    memset(stats, 0, sizeof(*stats));
    if (cfg == NULL || cred == NULL || ops == NULL || ops->build == NULL ||
        ops->done == NULL || ops->action == NULL || cfg->endpoint == NULL)
        return orch_diag_set(diag, ORCH_EINVAL,
                             "dispatch: missing endpoint, action or callback");
    if (!(cfg->qps > 0))
        return orch_diag_set(diag, ORCH_EINVAL, "dispatch: --qps must be > 0");
    d.cfg = cfg;
    d.cred = cred;
    d.ops = ops;
    d.interrupt = interrupt;
    d.st = stats;
    d.cap = in_flight_cap(cfg);
    d.expect_hdr.data = (char *)"Expect:";
    d.no_ctype_hdr.data = (char *)"Content-Type:";
    d.no_ctype_hdr.next = &d.expect_hdr;
    d.last_progress_ms = now;
    d.rng = (uint64_t)wall_ms() * 0x9E3779B97F4A7C15ULL ^ (uintptr_t)&d;
    if (d.rng == 0)
        d.rng = 1;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return orch_diag_set(diag, ORCH_EHTTP, "curl_global_init failed");
    curl_inited = true;
    rc = orch_ratelimit_init(
        &d.rl, cfg->qps * 1000.0 / (1000.0 + PACE_MARGIN_MS), now);
    if (rc) {
        orch_diag_set(diag, rc, "dispatch: bad rate %g", cfg->qps);
        goto out;
    }
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

        now = mono_ms();
        if (irq >= 1 && !d.stopping) {
            stop(&d, "Interrupted", "interrupted before this call was sent");
            snprintf(stats->abort_reason, sizeof(stats->abort_reason),
                     "interrupted");
        }
        if (irq >= 2 && !d.aborted_in_flight) {
            d.aborted_in_flight = true;
            abort_in_flight(&d);
        }
        if (d.stopping)
            drain_unsent(&d);
        else
            admit(&d, now);
        if (d.finished >= ops->nitems)
            break;
        curl_multi_poll(d.multi, NULL, 0, poll_timeout(&d, now), NULL);
        curl_multi_perform(d.multi, &running);
        now = mono_ms();
        drain_messages(&d, now);
        progress(&d, now, false);
    }
    progress(&d, mono_ms(), true);
out:
    dispatcher_cleanup(&d);
    if (curl_inited)
        curl_global_cleanup();
    return rc;
}
