/* dispatch.c - many signed calls on one libcurl multi handle, paced by the
 * rate limiter, retried when safe, unknown outcomes reconciled, each
 * item's final outcome reported once. dispatch.h states the contract.
 *
 * DESIGN
 * Files: this one holds the set-up and the multi loop (admission, poll,
 * perform, completion); xfer.c a transfer's easy handle and request;
 * deliver.c the final results and the stop; reconcile_io.c the
 * reconciliation queries; dueheap.c and stop.c the heap and the stop
 * rules. dispatcher.h has the state they share.
 *
 * Threads: everything runs on the caller's thread. It owns the multi
 * handle, every struct orch_xfer and both heaps; the only shared state is
 * *interrupt, which a signal handler may raise.
 *
 * State of an item: unstarted (at or after `cursor`), in flight (its xfer
 * is in the multi handle), waiting for a resend (its xfer is in the
 * `sends` heap, keyed by due time), reconciling (its xfer is in the
 * `queries` heap or in flight with a query), or finished (ops->done
 * called).
 *
 * Loop, one turn(): follow the interrupt; (1) admit: due reconciliation
 * queries under the query limiter; then a due resend first, else the next
 * unstarted item, under the action's limiter, while in-flight < cap. Each
 * admitted send is built, signed and announced through ops->before_send,
 * and the whole batch is committed by ONE ops->sync before any of it is
 * handed to libcurl (group commit: a request is never on the wire before
 * its journal record is on disk, and at thousands of calls per second the
 * journal fsyncs once per iteration, not once per call); (2)
 * curl_multi_poll with timeout = min(next token, next due request, next
 * progress tick); (3) curl_multi_perform; (4) drain curl_multi_info_read:
 * decode, orch_retry_classify, then requeue (new nonce and timestamp on
 * the next attempt), reconcile, or report.
 *
 * In-flight cap: pacing is the rate limiter's job; the cap only bounds
 * connections. Holding the quota needs qps x latency calls in flight (20/s
 * at 3 s latency: 60), so the cap is max(opts->max_in_flight,
 * ceil(qps x LATENCY_BUDGET_MS)). Above AUTO_CAP_MAX that product means
 * the rate is not a quota but "unlimited" (a benchmark), where latency
 * grows with concurrency; then opts->max_in_flight alone is the cap.
 *
 * Pacing (pacer.h): the action's calls take their starts from its lane,
 * and each reconciliation query from its action's lane; the lanes are the
 * process's (and, with a quota key, shared with the other processes of
 * the machine), so a batch continues where the previous one of its
 * action left off. Margin (engine_opts.h): the window runs at qps x 1000
 * / (1000 + window margin), the even spacing spreads a window's starts
 * over the window plus the spacing slack (20/s: 20 starts per 1005 ms,
 * one per 50.25 ms), so jitter between our start and the server's
 * arrival time cannot put 21 arrivals in its second. The window check on
 * the recorded (moved, see below) starts binds when a start was late. The
 * starts a batch recorded are moved to when its requests really went out
 * (after ops->sync and after the perform that wrote them): a slow fsync
 * must not let the next batch follow too closely.
 *
 * libcurl failures: every curl_multi_* result is checked. A failing
 * add_handle fails that one request before it is sent. A failing poll,
 * perform or remove_handle means the multi handle cannot be trusted to
 * finish what it holds: the run stops ("LibcurlError"), the next turn
 * removes the in-flight transfers as a second interrupt would (sent:
 * failed Ambiguous; not sent: not_sent), so every item still gets exactly
 * one result and nothing is resent blindly, and orch_dispatch_run()
 * returns ORCH_EHTTP with the failing call in diag.
 *
 * Ending: see dispatch.h.
 */
#include "orch/engine/dispatch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "orch/base/clock.h"
#include "orch/base/err.h"
#include "orch/engine/deliver.h"
#include "orch/engine/dispatcher.h"
#include "orch/engine/engine_opts.h"
#include "orch/engine/reconcile_io.h"
#include "orch/engine/xfer.h"

#define LATENCY_BUDGET_MS 4000
#define AUTO_CAP_MAX 4096
#define POLL_MAX_MS 1000

/* --- a broken multi handle ------------------------------------------------ */

/* Records that a multi call failed (the first failure is kept) and stops
 * admissions; the next turn removes what is in flight. */
static void broken(struct dispatcher *d, const char *call, CURLMcode mrc)
{
    if (d->broken_rc != 0)
        return;
    d->broken_rc = ORCH_EHTTP;
    snprintf(d->broken_msg, sizeof(d->broken_msg),
             "libcurl failed during the run (%s: %s)", call,
             curl_multi_strerror(mrc));
    orch_deliver_stop(d, "LibcurlError", d->broken_msg);
}

/* Takes x out of the multi handle after its transfer ended. */
static void detach(struct dispatcher *d, struct orch_xfer *x, uint64_t now)
{
    CURLMcode mrc = curl_multi_remove_handle(d->multi, x->easy);

    /* The transfer itself ended and its outcome stands; a multi handle
     * that cannot let go of it is not one to start more on. */
    if (mrc != CURLM_OK)
        broken(d, "curl_multi_remove_handle", mrc);
    x->in_flight = false;
    d->in_flight--;
    d->st->last_end_ms = now;
}

/* Removes every in-flight transfer (a second interrupt, or a broken multi
 * handle, said by `cause`); items never sent are not_sent with `code`.
 * Once per run. */
static void abort_in_flight(struct dispatcher *d, const char *cause,
                            const char *code)
{
    char sent_msg[256], unsent_msg[128], query_msg[128];

    if (d->aborted_in_flight)
        return;
    d->aborted_in_flight = true;
    snprintf(sent_msg, sizeof(sent_msg),
             "aborted by %s after the request was sent; a job may have "
             "been created: check before resending", cause);
    snprintf(unsent_msg, sizeof(unsent_msg), "aborted by %s before sending",
             cause);
    snprintf(query_msg, sizeof(query_msg), "aborted by %s", cause);
    for (size_t i = 0; i < d->nxfers; i++) {
        struct orch_xfer *x = d->xfers[i];
        bool sent = false;

        if (!x->in_flight)
            continue;
        sent = orch_xfer_request_sent(x);
        /* Abandoned either way: a handle the multi handle keeps is
         * detached by curl_easy_cleanup() at the end of the run. */
        (void)curl_multi_remove_handle(d->multi, x->easy);
        x->in_flight = false;
        d->in_flight--;
        if (x->query)
            orch_deliver_ambiguous(d, x, query_msg);
        else if (sent)
            orch_deliver_finish(d, x, ORCH_ITEM_FAILED, "Ambiguous", sent_msg);
        else
            orch_deliver_finish(d, x, ORCH_ITEM_NOT_SENT, code, unsent_msg);
    }
}

/* --- admission ------------------------------------------------------------ */

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
        rc = orch_xfer_prepare(d, x, d->ops->action, &what);
    if (rc == ORCH_ECRED) {
        /* Nothing left to sign with: the run stops, this item unsent. */
        x->attempts--;
        orch_deliver_stop_credentials(d);
        orch_deliver_finish(d, x, ORCH_ITEM_NOT_SENT, d->stop.code,
                            d->stop.message);
        return false;
    }
    if (rc) {
        x->attempts--;
        orch_deliver_finish(d, x, ORCH_ITEM_FAILED, "RequestBuildFailed",
                            what);
        return false;
    }
    if (x->since_ms == 0)
        x->since_ms = now_wall;
    if (d->ops->before_send != NULL)
        d->ops->before_send(d->ops->ud, x->item, x->attempts, now_wall);
    return true;
}

/* Group commit: one ops->sync for every send admitted this iteration,
 * then they go to libcurl. A failed sync sends none of them and stops.
 * The limiter recorded the batch's starts at the admission time, but they
 * start only after the requests were built and ops->sync returned (an
 * fsync: milliseconds, sometimes tens). Requests of a later batch whose
 * sync was quick would then reach the server less than a window after
 * these: 21 in one second. So the batch's starts are moved to the real
 * launch time with orch_ratelimit_retime(). */
static void commit_batch(struct dispatcher *d)
{
    static const char journal_msg[] =
        "not sent: the journal could not be written, so the run stopped "
        "before sending anything it could not record";
    size_t n = d->nbatch;
    uint64_t now = 0;

    d->nbatch = 0;
    if (n == 0)
        return;
    if (d->ops->sync != NULL && d->ops->sync(d->ops->ud) != 0) {
        orch_deliver_stop(d, "JournalFailed", journal_msg);
        for (size_t i = 0; i < n; i++) {
            struct orch_xfer *x = d->batch[i];

            x->attempts--; /* announced, never sent */
            orch_deliver_finish(d, x, ORCH_ITEM_NOT_SENT, "JournalFailed",
                                journal_msg);
        }
        return;
    }
    now = orch_mono_ms();
    orch_pace_retime(d->lane, d->ntaken, now);
    d->unsent_starts = d->ntaken;
    for (size_t i = 0; i < n; i++) {
        struct orch_xfer *x = d->batch[i];
        const char *what = NULL;

        if (!orch_xfer_launch(d, x, now, &what))
            orch_deliver_finish(d, x, ORCH_ITEM_FAILED, "RequestBuildFailed",
                                what);
    }
}

/* Prepares x's next attempt and adds it to this iteration's batch. */
static void add_send(struct dispatcher *d, struct orch_xfer *x)
{
    if (prepare_send(d, x))
        d->batch[d->nbatch++] = x;
}

/* Starts the next unstarted item (a token is taken). Returns false when
 * admission must wait for in-flight transfers to free memory. */
static bool start_item(struct dispatcher *d, size_t item)
{
    struct orch_xfer *x = NULL;

    if (orch_xfer_get(d, item, &x) != 0) {
        /* Out of memory for a new xfer: try again next round, once
         * in-flight transfers have freed some. */
        if (d->in_flight + d->nbatch > 0)
            return false;
        d->cursor++;
        orch_deliver_report(d, item, 0, ORCH_ITEM_NOT_SENT, "OutOfMemory",
                            "out of memory");
        return true;
    }
    d->cursor++;
    add_send(d, x);
    return true;
}

/* Takes one of the action's tokens; false (and when to try again) when
 * the limiter makes admission wait. */
static bool take_token(struct dispatcher *d, uint64_t now)
{
    uint64_t wait = orch_pace_take(d->lane, now);

    if (wait > 0) {
        d->next_token_ms = now + wait;
        return false;
    }
    d->ntaken++;
    return true;
}

/* Admits one candidate: a due resend first, else the next unstarted item
 * (skipped, reconciled first when an earlier run left it without an
 * outcome, or not sent when its group stopped). Returns false when
 * admission must stop for this iteration. */
static bool admit_one(struct dispatcher *d, uint64_t now)
{
    struct orch_xfer *top = orch_xfer_of(orch_dueheap_top(&d->sends));
    bool retry = orch_dueheap_due(&d->sends, now);
    size_t item = retry ? top->item : d->cursor;
    int64_t since = 0;

    if (!retry) {
        if (d->cursor >= d->ops->nitems)
            return false;
        if (d->ops->skip != NULL && d->ops->skip(d->ops->ud, item)) {
            d->cursor++;
            d->finished++;
            return true;
        }
        if (orch_deliver_was_interrupted(d, item, &since))
            return orch_rcio_admit_interrupted(d, item, since, now);
    }
    if (orch_deliver_group_stopped(d, item, retry ? top->attempts : 0)) {
        if (retry)
            orch_xfer_put(d, orch_xfer_of(orch_dueheap_pop(&d->sends)));
        else
            d->cursor++;
        return true;
    }
    if (!take_token(d, now))
        return false;
    if (!retry)
        return start_item(d, item);
    add_send(d, orch_xfer_of(orch_dueheap_pop(&d->sends)));
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
    orch_rcio_admit(d, now);
    while (!d->stop.stopping && d->in_flight + d->nbatch < d->cap &&
           admit_one(d, now))
        ;
    commit_batch(d);
    /* Items that entered reconciliation just now need not wait a turn. */
    orch_rcio_admit(d, now);
}

/* --- completion ----------------------------------------------------------- */

/* Puts x back in the resend heap, due after backoff or the server's
 * hint. */
static void requeue(struct dispatcher *d, struct orch_xfer *x, uint64_t now,
                    bool immediate)
{
    uint64_t delay = immediate ? 0 : orch_xfer_retry_delay(d, x, x->attempts);

    x->hnode.due_ms = now + delay;
    orch_dueheap_push(&d->sends, &x->hnode);
}

/* An unknown outcome: ask the API before any resend, unless stopping. */
static void on_ambiguous(struct dispatcher *d, struct orch_xfer *x,
                         uint64_t now, const char *code, const char *msg)
{
    char amb[640 + 160];

    snprintf(amb, sizeof(amb), "%.127s%s%.511s", x->have_resp ? code : "",
             x->have_resp ? ": " : "", msg);
    if (!d->stop.stopping) {
        orch_rcio_begin(d, x, now, amb);
        return;
    }
    snprintf(x->why, sizeof(x->why), "%.500s", amb);
    orch_deliver_ambiguous(d, x, d->stop.message);
}

/* Refused before processing (credentials, clock, RAM policy, TLS set-up):
 * nothing was created, and every call would be refused the same way, so
 * the run stops. A call the server answered was sent and refused: failed,
 * with its code, message and request id (rerunning its devices cannot
 * duplicate a job). One nothing answered (TLS verification, bad URL)
 * never left: not_sent. The stop reason is one line without the server's
 * text (which may span lines): it becomes every unsent item's message. */
static void on_fatal(struct dispatcher *d, struct orch_xfer *x,
                     const char *code, const char *msg)
{
    char why[400];

    if (x->have_resp && x->resp.request_id[0])
        snprintf(why, sizeof(why), "run stopped: %.127s (request id "
                 "%.127s)", code, x->resp.request_id);
    else
        snprintf(why, sizeof(why), "run stopped: %.127s", code);
    orch_deliver_stop(d, code, why);
    if (x->have_resp && d->st->abort_request_id[0] == '\0')
        snprintf(d->st->abort_request_id, sizeof(d->st->abort_request_id),
                 "%s", x->resp.request_id);
    orch_deliver_finish(d, x,
                        x->have_resp ? ORCH_ITEM_FAILED : ORCH_ITEM_NOT_SENT,
                        code, msg);
}

/* Acts on a verdict that may send x's item again: RETRY or RESEND_FORM.
 * Returns false when the item has failed (the caller reports it). */
static bool on_resend(struct dispatcher *d, struct orch_xfer *x,
                      enum orch_verdict v, uint64_t now)
{
    if (d->stop.stopping) {
        /* Refused unprocessed, and we are stopping: not sent. */
        orch_deliver_finish(d, x, ORCH_ITEM_NOT_SENT, d->stop.code,
                            d->stop.message);
        return true;
    }
    if (v == ORCH_VERDICT_RESEND_FORM) {
        if (x->form_body)
            return false; /* a second 414 */
        x->form_body = true;
        x->form_fallback = true;
        d->st->form_fallbacks++;
        requeue(d, x, now, true);
        return true;
    }
    if (x->attempts >= d->max_attempts)
        return false;
    requeue(d, x, now, false);
    return true;
}

/* Handles one finished transfer of the action. */
static void complete_send(struct dispatcher *d, struct orch_xfer *x,
                          CURLcode res, uint64_t now)
{
    char msg[640];
    const char *code = NULL;
    enum orch_verdict v = orch_xfer_outcome(d, x, res, now, &code, msg,
                                            sizeof(msg));

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
        orch_deliver_group_note(d, x->item, false, "");
        orch_deliver_finish(d, x, ORCH_ITEM_CREATED, NULL, NULL);
        return;
    case ORCH_VERDICT_RESEND_FORM:
    case ORCH_VERDICT_RETRY:
        if (on_resend(d, x, v, now))
            return;
        break;
    case ORCH_VERDICT_AMBIGUOUS:
        on_ambiguous(d, x, now, code, msg);
        return;
    case ORCH_VERDICT_FATAL:
        if (!d->stop.stopping && orch_xfer_refresh_token(d, x)) {
            /* Refused at the door, nothing created: again once the
             * refreshed set is in (not an ambiguous outcome). */
            x->hnode.due_ms = now + ORCH_DISPATCH_TOKEN_WAIT_MS *
                                        x->token_resends;
            orch_dueheap_push(&d->sends, &x->hnode);
            return;
        }
        on_fatal(d, x, code, msg);
        return;
    case ORCH_VERDICT_FAILED:
    default:
        orch_deliver_group_note(d, x->item, true, code);
        break;
    }
    orch_deliver_finish(d, x, ORCH_ITEM_FAILED, code, msg);
}

/* The xfer of a finished easy handle: its CURLOPT_PRIVATE, else found by
 * its handle (libcurl cannot lose it: every xfer is ours). */
static struct orch_xfer *xfer_of_easy(struct dispatcher *d, CURL *easy)
{
    struct orch_xfer *x = NULL;

    if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x) == CURLE_OK &&
        x != NULL)
        return x;
    for (size_t i = 0; i < d->nxfers; i++)
        if (d->xfers[i]->easy == easy)
            return d->xfers[i];
    return NULL;
}

static void drain_messages(struct dispatcher *d, uint64_t now)
{
    CURLMsg *m = NULL;
    int left = 0;

    while ((m = curl_multi_info_read(d->multi, &left)) != NULL) {
        struct orch_xfer *x = NULL;

        if (m->msg != CURLMSG_DONE)
            continue;
        x = xfer_of_easy(d, m->easy_handle);
        if (x == NULL || !x->in_flight)
            continue; /* not ours, or already aborted */
        detach(d, x, now);
        if (x->query)
            orch_rcio_complete(d, x, m->data.result, now);
        else
            complete_send(d, x, m->data.result, now);
    }
}

/* --- the loop ------------------------------------------------------------- */

static uint64_t min_wait(uint64_t t, uint64_t at, uint64_t now)
{
    if (at <= now)
        return 0;
    return at - now < t ? at - now : t;
}

static int poll_timeout(const struct dispatcher *d, uint64_t now)
{
    const struct orch_dueheap_node *send = orch_dueheap_top(&d->sends);
    const struct orch_dueheap_node *query = orch_dueheap_top(&d->queries);
    uint64_t t = POLL_MAX_MS;

    /* With the cap reached only a completion can let anything start, and
     * a completion wakes the poll by itself. */
    if (d->in_flight < d->cap) {
        if (d->next_token_ms > now)
            t = min_wait(t, d->next_token_ms, now);
        else if (send != NULL)
            t = min_wait(t, send->due_ms, now);
        if (d->next_qtoken_ms > now)
            t = min_wait(t, d->next_qtoken_ms, now);
        else if (query != NULL)
            t = min_wait(t, query->due_ms, now);
    }
    if (d->ops->progress != NULL)
        t = min_wait(t, d->last_progress_ms + ORCH_DISPATCH_PROGRESS_EVERY_MS,
                     now);
    return (int)t;
}

/* Stops at a first interrupt, removes the in-flight transfers at a
 * second. */
static void follow_interrupt(struct dispatcher *d)
{
    int irq = d->interrupt != NULL ? (int)*d->interrupt : 0;

    if (irq >= 1 && !d->stop.stopping) {
        orch_deliver_stop(d, "Interrupted",
                          "interrupted before this call was sent");
        snprintf(d->st->abort_reason, sizeof(d->st->abort_reason),
                 "interrupted");
    }
    if (irq >= 2)
        abort_in_flight(d, "a second interrupt", "Interrupted");
}

/* Waits for activity and lets libcurl work. The timeout counts from now,
 * not from the turn's start: admit's builds and the journal's fsync took
 * some of it, and a wake-up that late makes the next start late (and the
 * limiter then either catches up inside the window's margin or loses
 * rate). */
static void wait_and_perform(struct dispatcher *d)
{
    int running = 0;
    CURLMcode mrc = curl_multi_poll(d->multi, NULL, 0,
                                    poll_timeout(d, orch_mono_ms()), NULL);

    if (mrc != CURLM_OK) {
        broken(d, "curl_multi_poll", mrc);
        return;
    }
    mrc = curl_multi_perform(d->multi, &running);
    if (mrc != CURLM_OK)
        broken(d, "curl_multi_perform", mrc);
}

/* One turn of the loop (see DESIGN). */
static void turn(struct dispatcher *d)
{
    uint64_t now = orch_mono_ms();

    follow_interrupt(d);
    if (d->broken_rc != 0)
        abort_in_flight(d, "a libcurl failure", "LibcurlError");
    if (!d->stop.stopping)
        admit(d, now);
    /* Also after admit: a failed sync stops the run there. */
    if (d->stop.stopping)
        orch_deliver_unsent(d);
    if (d->finished >= d->ops->nitems)
        return;
    wait_and_perform(d);
    now = orch_mono_ms();
    /* The batch's requests were written during this perform (a burst of
     * 20 takes milliseconds, more on new connections): the later time is
     * the safer record of when they reached the server. */
    if (d->unsent_starts > 0) {
        orch_pace_retime(d->lane, d->unsent_starts, now);
        d->unsent_starts = 0;
    }
    /* Also after a failed perform: what finished before it stands. */
    drain_messages(d, now);
    orch_deliver_progress(d, now, false);
}

/* --- set-up and clean-up -------------------------------------------------- */

static size_t in_flight_cap(const struct orch_engine_opts *o)
{
    size_t floor_cap = o->max_in_flight > 0 ? (size_t)o->max_in_flight : 1;
    double need = ceil(o->qps * LATENCY_BUDGET_MS / 1000.0);

    if (need > AUTO_CAP_MAX || need <= (double)floor_cap)
        return floor_cap;
    return (size_t)need;
}

static int check_args(const struct orch_engine_opts *opts,
                      const struct orch_credentials *cred,
                      const struct orch_dispatch_ops *ops,
                      struct orch_diag *diag)
{
    if (opts == NULL || cred == NULL || ops == NULL || ops->build == NULL ||
        ops->done == NULL || ops->action == NULL || opts->endpoint == NULL)
        return orch_diag_set(diag, ORCH_EINVAL,
                             "dispatch: missing endpoint, action or callback");
    if (!(opts->qps > 0))
        return orch_diag_set(diag, ORCH_EINVAL, "dispatch: --qps must be > 0");
    return 0;
}

/* Everything that cannot fail. */
static void dispatcher_init(struct dispatcher *d,
                            const struct orch_engine_opts *opts,
                            const struct orch_credentials *cred,
                            const struct orch_dispatch_ops *ops,
                            volatile sig_atomic_t *interrupt,
                            struct orch_dispatch_stats *stats, uint64_t now)
{
    memset(d, 0, sizeof(*d));
    d->opts = opts;
    d->cred = cred;
    d->ops = ops;
    d->interrupt = interrupt;
    d->st = stats;
    d->cap = in_flight_cap(opts);
    d->backoff_base_ms = opts->backoff_base_ms > 0
                             ? (uint64_t)opts->backoff_base_ms
                             : ORCH_DISPATCH_BACKOFF_BASE_MS;
    d->max_attempts = opts->max_attempts > 0 ? (unsigned)opts->max_attempts
                                             : 1;
    orch_dueheap_init(&d->sends);
    orch_dueheap_init(&d->queries);
    orch_streak_init(&d->streak, opts->fatal_streak);
    orch_stop_init(&d->stop);
    d->expect_hdr.data = (char *)"Expect:";
    d->no_ctype_hdr.data = (char *)"Content-Type:";
    d->no_ctype_hdr.next = &d->expect_hdr;
    d->last_progress_ms = now;
    d->rng = (uint64_t)orch_wall_ms() * 0x9E3779B97F4A7C15ULL ^ (uintptr_t)d;
    if (d->rng == 0)
        d->rng = 1;
}

/* The pacing lanes (pacer.h): the action's at opts->qps, and, for an
 * action that may need reconciling, one per query action. Every lane
 * spaces its starts evenly: a query batch in bursts put 15 arrivals into
 * one of the server's seconds (quota 10). */
static int setup_limiters(struct dispatcher *d)
{
    int rc = orch_pacer_lane(d->opts, d->ops->action, d->opts->qps,
                             &d->lane);

    if (rc == 0 && !d->ops->idempotent)
        rc = orch_rcio_lanes(d);
    return rc;
}

/* The multi handle, one connection per request in flight, no pipelining. */
static int setup_multi(struct dispatcher *d, struct orch_diag *diag)
{
    CURLMcode mrc = CURLM_OK;

    d->multi = curl_multi_init();
    if (d->multi == NULL)
        return orch_diag_set(diag, ORCH_EHTTP, "curl_multi_init failed");
    mrc = curl_multi_setopt(d->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                            (long)d->cap);
    if (mrc == CURLM_OK)
        mrc = curl_multi_setopt(d->multi, CURLMOPT_MAXCONNECTS, (long)d->cap);
    if (mrc == CURLM_OK)
        mrc = curl_multi_setopt(d->multi, CURLMOPT_PIPELINING,
                                CURLPIPE_NOTHING);
    if (mrc != CURLM_OK)
        return orch_diag_set(diag, ORCH_EHTTP,
                             "dispatch: libcurl refused a multi option: %s",
                             curl_multi_strerror(mrc));
    return 0;
}

static int setup(struct dispatcher *d, struct orch_diag *diag)
{
    const char *what = NULL;
    int rc = 0;

    d->batch = calloc(d->cap, sizeof(*d->batch));
    if (d->batch == NULL)
        return orch_diag_set(diag, ORCH_ENOMEM, "dispatch: out of memory");
    rc = setup_limiters(d);
    if (rc)
        return orch_diag_set(diag, rc, "dispatch: bad rate %g (%s)",
                             d->opts->qps, orch_strerror(rc));
    rc = setup_multi(d, diag);
    if (rc)
        return rc;
    rc = orch_xfer_preload(d, &what);
    if (rc)
        return orch_diag_set(diag, rc, "dispatch: %s", what);
    return 0;
}

static void dispatcher_cleanup(struct dispatcher *d)
{
    for (size_t i = 0; i < d->nxfers; i++) {
        /* Only at an early return: nothing to do if it fails, and
         * curl_easy_cleanup() detaches the handle anyway. */
        if (d->xfers[i]->in_flight)
            (void)curl_multi_remove_handle(d->multi, d->xfers[i]->easy);
        orch_xfer_free(d->xfers[i]);
    }
    free(d->xfers);
    orch_dueheap_cleanup(&d->sends);
    orch_dueheap_cleanup(&d->queries);
    free(d->batch);
    orch_streak_cleanup(&d->streak);
    /* Every easy handle is gone: a failure here leaks at most the multi
     * handle's own memory, and nothing is left to act on. */
    if (d->multi != NULL)
        (void)curl_multi_cleanup(d->multi);
}

int orch_dispatch_run(const struct orch_engine_opts *opts,
                      const struct orch_credentials *cred,
                      const struct orch_dispatch_ops *ops,
                      volatile sig_atomic_t *interrupt,
                      struct orch_dispatch_stats *stats, struct orch_diag *diag)
{
    struct dispatcher d;
    uint64_t now = orch_mono_ms();
    int rc = 0;

    memset(stats, 0, sizeof(*stats));
    rc = check_args(opts, cred, ops, diag);
    if (rc)
        return rc;
    dispatcher_init(&d, opts, cred, ops, interrupt, stats, now);
    rc = setup(&d, diag);
    if (rc)
        goto out;
    while (d.finished < ops->nitems)
        turn(&d);
    orch_deliver_progress(&d, orch_mono_ms(), true);
    if (d.broken_rc != 0)
        rc = orch_diag_set(diag, d.broken_rc, "%s", d.broken_msg);
out:
    dispatcher_cleanup(&d);
    return rc;
}
