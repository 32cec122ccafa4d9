/* xfer.c - a transfer's easy handle: options, callbacks, the signed
 * request put on it, its launch, and the reading of its outcome.
 *
 * Every curl_easy_setopt() result is checked. The options every transfer
 * shares are set once per easy handle; orch_xfer_preload() sets them on
 * the first one before the run starts, so an option libcurl refuses
 * (a protocol it was built without, a TLS option its backend lacks) is a
 * set-up failure with a message, not a failure of every item. The
 * per-request options (URL, headers, body) are checked in
 * orch_xfer_prepare(): a failure there fails that request before it is
 * sent.
 */
#include "orch/engine/xfer.h"

#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "orch/base/clock.h"
#include "orch/base/codec.h"
#include "orch/base/err.h"
#include "orch/cloud/credentials.h"
#include "orch/cloud/credlive.h"
#include "orch/engine/dispatch_ops.h"
#include "orch/engine/dispatcher.h"
#include "orch/engine/engine_opts.h"

#define BODY_MAX (16u * 1024 * 1024)
#define DEFAULT_TIMEOUT_MS 30000L
#define CONNECT_TIMEOUT_MS 10000L

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
    /* The request goes out now, after its connection was made (a new one
     * takes ms, more under load): its start is recorded no earlier, so
     * the window check counts it where the server will. */
    orch_pace_retime(orch_xfer_lane(x), 1, orch_mono_ms());
    return CURL_PREREQFUNC_OK;
}

/* --- the easy handle's shared options ---------------------------------- */

/* Our state and callbacks. */
static CURLcode set_callbacks(struct orch_xfer *x)
{
    CURL *e = x->easy;
    CURLcode r = curl_easy_setopt(e, CURLOPT_PRIVATE, x);

    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_PREREQDATA, x);
    return r;
}

/* HTTP/1.1 POST over TCP with keep-alive, within the timeouts. */
static CURLcode set_transport(CURL *e, const struct orch_engine_opts *o)
{
    long timeout = o->request_timeout_ms > 0 ? o->request_timeout_ms
                                             : DEFAULT_TIMEOUT_MS;
    CURLcode r = curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);

    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_POST, 1L);
    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    return r;
}

static CURLcode set_tls(CURL *e, const struct orch_engine_opts *o)
{
    CURLcode r = CURLE_OK;

    if (o->ca_bundle != NULL)
        r = curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_bundle);
    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, o->insecure ? 0L : 1L);
    if (r == CURLE_OK)
        r = curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, o->insecure ? 0L : 2L);
    return r;
}

/* Sets every shared option; on failure *what names the group and libcurl's
 * reason. */
static int set_shared_options(struct dispatcher *d, struct orch_xfer *x,
                              const char **what)
{
    static char why[160];
    const char *stage = "its callbacks";
    CURLcode r = set_callbacks(x);

    if (r == CURLE_OK) {
        stage = "the transport options";
        r = set_transport(x->easy, d->opts);
    }
    if (r == CURLE_OK) {
        stage = "the TLS options";
        r = set_tls(x->easy, d->opts);
    }
    if (r == CURLE_OK)
        return 0;
    /* One thread and one message at a time: a static buffer will do. */
    snprintf(why, sizeof(why), "libcurl refused %s: %s", stage,
             curl_easy_strerror(r));
    *what = why;
    return r == CURLE_OUT_OF_MEMORY ? ORCH_ENOMEM : ORCH_EHTTP;
}

/* --- lifecycle ---------------------------------------------------------- */

/* A new xfer, registered in d->xfers with room in both heaps. */
static int xfer_new(struct dispatcher *d, struct orch_xfer **out,
                    const char **what)
{
    struct orch_xfer *x = NULL;
    struct orch_xfer **xs = NULL;
    int rc = 0;

    *what = "out of memory";
    xs = realloc(d->xfers, (d->nxfers + 1) * sizeof(*xs));
    if (xs == NULL)
        return ORCH_ENOMEM;
    d->xfers = xs;
    if (orch_dueheap_reserve(&d->sends, d->nxfers + 1) != 0 ||
        orch_dueheap_reserve(&d->queries, d->nxfers + 1) != 0)
        return ORCH_ENOMEM;
    x = calloc(1, sizeof(*x));
    if (x == NULL)
        return ORCH_ENOMEM;
    x->easy = curl_easy_init();
    if (x->easy == NULL) {
        free(x);
        *what = "curl_easy_init failed";
        return ORCH_ENOMEM;
    }
    x->d = d;
    orch_params_init(&x->params);
    orch_params_init(&x->cparams);
    orch_reconcile_init(&x->rc);
    orch_request_init(&x->req);
    orch_response_init(&x->resp);
    orch_buf_init(&x->body);
    rc = set_shared_options(d, x, what);
    if (rc) {
        orch_xfer_free(x);
        return rc;
    }
    d->xfers[d->nxfers++] = x;
    *out = x;
    return 0;
}

void orch_xfer_free(struct orch_xfer *x)
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

int orch_xfer_preload(struct dispatcher *d, const char **what)
{
    struct orch_xfer *x = NULL;
    int rc = xfer_new(d, &x, what);

    if (rc == 0)
        orch_xfer_put(d, x);
    return rc;
}

int orch_xfer_get(struct dispatcher *d, size_t item, struct orch_xfer **out)
{
    struct orch_xfer *x = d->free_list;
    const char *what = NULL;
    int rc = 0;

    if (x != NULL) {
        d->free_list = x->next_free;
    } else {
        /* The options were proven at set-up: only memory can fail here. */
        rc = xfer_new(d, &x, &what);
        if (rc)
            return ORCH_ENOMEM;
    }
    x->item = item;
    x->attempts = 0;
    x->token_resends = 0;
    x->form_body = false;
    x->form_fallback = false;
    x->query = false;
    x->since_ms = 0;
    x->have_resp = false;
    x->next_free = NULL;
    *out = x;
    return 0;
}

void orch_xfer_put(struct dispatcher *d, struct orch_xfer *x)
{
    /* The reconciliation's JSON is the only thing not reused as is. */
    orch_reconcile_cleanup(&x->rc);
    x->next_free = d->free_list;
    d->free_list = x;
}

/* --- one request -------------------------------------------------------- */

/* Gives libcurl the URL in two parts: "scheme://host[:port]" as the URL
 * and "/path?query" as CURLOPT_REQUEST_TARGET, which it copies into the
 * request line verbatim. libcurl 7.88 formats a URL's query into the
 * request line through its own printf, one byte at a time: for a V3
 * query of 200 device names (~8 KB) that alone cost ~150 us of CPU per
 * call, more than building and signing the request. */
static CURLcode set_url(struct orch_xfer *x, const char **what)
{
    char *url = x->req.url.data;
    char *sep = url != NULL ? strstr(url, "://") : NULL;
    char *path = NULL;
    CURLcode r = CURLE_OK;

    if (sep == NULL) {
        *what = "the endpoint URL has no scheme";
        return CURLE_URL_MALFORMAT;
    }
    path = strchr(sep + 3, '/');
    if (path == NULL) {
        r = curl_easy_setopt(x->easy, CURLOPT_URL, url);
        if (r == CURLE_OK)
            r = curl_easy_setopt(x->easy, CURLOPT_REQUEST_TARGET, NULL);
        return r;
    }
    /* libcurl copies both strings: cut the buffer for a moment. */
    *path = '\0';
    r = curl_easy_setopt(x->easy, CURLOPT_URL, url);
    *path = '/';
    if (r == CURLE_OK)
        r = curl_easy_setopt(x->easy, CURLOPT_REQUEST_TARGET, path);
    return r;
}

/* Builds the signed request of x->params in x->req. */
static int build_request(struct dispatcher *d, struct orch_xfer *x,
                         const char *action)
{
    struct orch_request_input in;
    char nonce[33];
    int rc = orch_random_nonce(nonce);

    if (rc)
        return rc;
    memset(&in, 0, sizeof(in));
    in.endpoint = d->opts->endpoint;
    in.action = action;
    in.params = &x->params;
    in.cred = d->cred;
    in.signature_version = d->opts->signature_version;
    in.form_body = x->form_body;
    in.now_ms = orch_wall_ms();
    in.nonce = nonce;
    return orch_request_build(&x->req, &in);
}

/* Links x->hdr over req.headers (nothing to free later), ending with the
 * dispatcher's fixed headers; returns the list's head. No
 * "Expect: 100-continue" round trip for large bodies. With an empty body
 * (V3 query style) libcurl would add an unsigned "Content-Type:
 * application/x-www-form-urlencoded", which the gateway rejects (every
 * content-type present must be signed): remove it. */
static struct curl_slist *link_headers(struct dispatcher *d,
                                       struct orch_xfer *x)
{
    struct curl_slist *tail = NULL;

    for (size_t i = 0; i < x->req.nheaders; i++) {
        x->hdr[i].data = x->req.headers[i].data;
        x->hdr[i].next = NULL;
        if (tail != NULL)
            tail->next = &x->hdr[i];
        tail = &x->hdr[i];
    }
    if (tail == NULL)
        return &d->expect_hdr;
    tail->next = x->req.body.len == 0 ? &d->no_ctype_hdr : &d->expect_hdr;
    return &x->hdr[0];
}

/* Forgets the last answer before a new request. */
static void reset_answer(struct orch_xfer *x)
{
    orch_buf_reset(&x->body);
    orch_response_cleanup(&x->resp);
    x->have_resp = false;
    x->hint_ms = 0;
    x->prereqs = 0;
    x->resend_blocked = false;
    x->errbuf[0] = '\0';
}

int orch_xfer_prepare(struct dispatcher *d, struct orch_xfer *x,
                      const char *action, const char **what)
{
    struct curl_slist *headers = NULL;
    CURLcode r = CURLE_OK;
    int rc = build_request(d, x, action);

    if (rc) {
        *what = orch_strerror(rc);
        return rc;
    }
    headers = link_headers(d, x);
    reset_answer(x);
    *what = NULL;
    r = set_url(x, what);
    if (r == CURLE_OK)
        r = curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, headers);
    if (r == CURLE_OK)
        r = curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t)x->req.body.len);
    if (r == CURLE_OK)
        r = curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS,
                             orch_buf_str(&x->req.body));
    if (r == CURLE_OK)
        return 0;
    if (*what == NULL)
        *what = curl_easy_strerror(r);
    return r == CURLE_OUT_OF_MEMORY ? ORCH_ENOMEM : ORCH_EINVAL;
}

bool orch_xfer_launch(struct dispatcher *d, struct orch_xfer *x,
                      uint64_t now, const char **what)
{
    struct orch_dispatch_stats *st = d->st;
    CURLMcode mrc = curl_multi_add_handle(d->multi, x->easy);

    if (mrc != CURLM_OK) {
        *what = curl_multi_strerror(mrc);
        return false;
    }
    x->in_flight = true;
    x->start_ms = now;
    d->in_flight++;
    if (x->query) {
        st->queries++;
    } else {
        st->calls++;
        if (x->attempts > 1)
            st->retries++;
        st->last_start_ms = now;
    }
    if (st->first_start_ms == 0)
        st->first_start_ms = now;
    return true;
}

/* --- its outcome -------------------------------------------------------- */

bool orch_xfer_request_sent(const struct orch_xfer *x)
{
    curl_off_t req_size = 0;

    if (curl_easy_getinfo(x->easy, CURLINFO_REQUEST_SIZE, &req_size) !=
        CURLE_OK)
        return true;
    return req_size > 0;
}

/* What a transfer that got no answer says: our reason, else libcurl's. */
static void describe_transport(char *out, size_t cap, const struct orch_xfer *x,
                               CURLcode res)
{
    if (x->resend_blocked)
        snprintf(out, cap, "connection closed after the request was sent, "
                 "before any answer");
    else
        snprintf(out, cap, "%s",
                 x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
}

/* The Date header of the answer on e as epoch ms, 0 when it has none. */
static int64_t answer_date_ms(CURL *e)
{
    struct curl_header *h = NULL;
    time_t t = 0;

    if (curl_easy_header(e, "Date", 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
        return 0;
    t = curl_getdate(h->value, NULL);
    return t > 0 ? (int64_t)t * 1000 : 0;
}

enum orch_verdict orch_xfer_outcome(struct dispatcher *d,
                                    struct orch_xfer *x, CURLcode res,
                                    uint64_t now, const char **code,
                                    char *msg, size_t msg_cap)
{
    struct orch_outcome o;
    enum orch_verdict v;
    long status = 0;

    memset(&o, 0, sizeof(o));
    /* A status libcurl cannot report makes the answer unreadable: a
     * transport error after the request went out (Ambiguous). */
    if (res == CURLE_OK)
        res = curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    if (res == CURLE_OK) {
        (void)orch_api_decode(&x->resp, status, x->body.data, x->body.len);
        x->resp.date_ms = answer_date_ms(x->easy);
        x->have_resp = true;
        o.request_sent = true;
        o.resp = &x->resp;
    } else {
        o.transport_error = (int)res;
        /* Any request byte on the wire counts as sent: a partial request
         * is not processed, but erring this way can only cost a
         * reconciliation, never a duplicate job. */
        o.request_sent = orch_xfer_request_sent(x) || x->resend_blocked;
    }
    v = orch_retry_classify(&o);
    if (x->have_resp && orch_retry_is_throttle(&x->resp)) {
        d->st->throttled++;
        orch_pace_throttled(orch_xfer_lane(x), now, x->start_ms);
    }
    if (x->have_resp) {
        *code = x->resp.code;
        snprintf(msg, msg_cap, "%s", x->resp.message);
    } else {
        *code = "NetworkError";
        describe_transport(msg, msg_cap, x, res);
    }
    return v;
}

/* xorshift64*: the jitter needs no cryptographic quality. */
static uint64_t next_rand(struct dispatcher *d)
{
    d->rng ^= d->rng >> 12;
    d->rng ^= d->rng << 25;
    d->rng ^= d->rng >> 27;
    return d->rng * 0x2545F4914F6CDD1DULL;
}

uint64_t orch_xfer_retry_delay(struct dispatcher *d,
                               const struct orch_xfer *x, unsigned n)
{
    uint64_t delay = orch_retry_backoff_ms(n, d->backoff_base_ms,
                                           ORCH_DISPATCH_BACKOFF_CAP_MS,
                                           next_rand(d));

    if (x->hint_ms > delay)
        delay = x->hint_ms > ORCH_DISPATCH_HINT_CAP_MS
                    ? ORCH_DISPATCH_HINT_CAP_MS
                    : x->hint_ms;
    return delay;
}

bool orch_xfer_refresh_token(struct dispatcher *d, struct orch_xfer *x)
{
    struct orch_credlive *live = d->cred != NULL ? d->cred->live : NULL;

    if (live == NULL || !x->have_resp ||
        !orch_retry_is_token_refusal(&x->resp) ||
        x->token_resends >= ORCH_DISPATCH_TOKEN_RESENDS)
        return false;
    orch_credlive_reject(live, x->req.key_id[0] ? x->req.key_id : NULL);
    x->token_resends++;
    d->st->token_resends++;
    return true;
}
