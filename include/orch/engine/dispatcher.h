/* dispatcher.h - the dispatcher's state: struct dispatcher (one run of
 * orch_dispatch_run) and struct orch_xfer (one item's requests).
 *
 * Internal: only the dispatcher's files include it (dispatch.c: the multi
 * loop and admission; xfer.c: a transfer's easy handle and request;
 * deliver.c: final results and the stop; reconcile_io.c: the
 * reconciliation queries). Nothing outside orchestrator/engine/ may.
 *
 * Ownership: the dispatcher, on the caller's stack for the duration of
 * orch_dispatch_run(), owns the multi handle, every xfer (in `xfers`,
 * freed at the end of the run), both heaps and the batch. An xfer is
 * bound to one item from its first request to its final result, then goes
 * back to the free list with its easy handle and buffers, so the steady
 * state allocates nothing per call but what request.c builds. At any time
 * an xfer is in exactly one place: the free list, the multi handle
 * (in_flight), the batch (admitted, not yet launched), the `sends` heap
 * (waiting for a resend) or the `queries` heap (waiting for a
 * reconciliation query).
 */
#ifndef ORCH_DISPATCHER_H
#define ORCH_DISPATCHER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "orch/base/buf.h"
#include "orch/cloud/api.h"
#include "orch/cloud/params.h"
#include "orch/cloud/request.h"
#include "orch/engine/dueheap.h"
#include "orch/engine/pacer.h"
#include "orch/engine/reconcile.h"
#include "orch/engine/stop.h"

struct orch_credentials;
struct orch_dispatch_ops;
struct orch_dispatch_stats;
struct orch_engine_opts;

#define ORCH_DISPATCH_BACKOFF_BASE_MS 200
#define ORCH_DISPATCH_BACKOFF_CAP_MS 20000
#define ORCH_DISPATCH_HINT_CAP_MS 60000
#define ORCH_DISPATCH_PROGRESS_EVERY_MS 1000
/* Sends of one item after a refused token (each after a refresh): a
 * token that stays refused then stops the run like any FATAL answer. */
#define ORCH_DISPATCH_TOKEN_RESENDS 2
#define ORCH_DISPATCH_TOKEN_WAIT_MS 500
#define ORCH_RCIO_NLANES 3 /* the reconciliation's query actions */

/* Per-item request state (curl's per_transfer). */
struct orch_xfer {
    struct dispatcher *d;
    CURL *easy;
    size_t item;
    unsigned attempts;  /* sends of the action in this run */
    unsigned token_resends; /* of them, after a refused STS token */
    bool form_body;     /* the next attempts use a form body */
    bool form_fallback; /* a 414/431 made us switch */
    bool in_flight;
    bool query;          /* the request (in flight or next) is a query */
    struct orch_dueheap_node hnode; /* in `sends` or `queries`, by due_ms */
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

/* The xfer a heap node is embedded in; NULL for NULL. */
static inline struct orch_xfer *orch_xfer_of(struct orch_dueheap_node *n)
{
    return n == NULL ? NULL
                     : (struct orch_xfer *)(void *)((char *)n -
                                                    offsetof(struct orch_xfer,
                                                             hnode));
}

struct dispatcher {
    const struct orch_engine_opts *opts;
    const struct orch_credentials *cred;
    const struct orch_dispatch_ops *ops;
    volatile sig_atomic_t *interrupt;
    struct orch_dispatch_stats *st;

    CURLM *multi;
    struct orch_pace_lane *lane; /* the action's quota (pacer.h) */
    /* The reconciliation queries' quotas, one lane per query action,
     * indexed by the step that asks it (reconcile.h's enum
     * orch_reconcile_step; reconcile_io.c: orch_rcio_lanes); NULL for an
     * idempotent action, which never reconciles. */
    struct orch_pace_lane *qlanes[ORCH_RCIO_NLANES];
    size_t cap; /* in-flight cap */
    size_t in_flight;
    size_t cursor;   /* next unstarted item */
    size_t finished; /* done() calls + skipped items */
    uint64_t backoff_base_ms;
    unsigned max_attempts;

    struct orch_xfer **xfers; /* every xfer allocated (for cleanup) */
    size_t nxfers;
    struct orch_xfer *free_list;
    struct orch_dueheap sends;   /* resends waiting for their due time */
    struct orch_dueheap queries; /* reconciliation queries waiting */
    struct orch_xfer **batch; /* sends admitted this iteration, capacity cap */
    size_t nbatch;
    size_t ntaken; /* the action's tokens taken this iteration */
    size_t unsent_starts; /* of them, launched but maybe not yet written */

    struct orch_streak streak; /* the fatal-streak rule per group */
    struct orch_stop stop;     /* the run's stop (first reason wins) */
    bool aborted_in_flight;    /* in-flight transfers were removed */
    int broken_rc;             /* a libcurl multi call failed: ORCH_EHTTP */
    char broken_msg[256];      /* ... which one and how */
    uint64_t rng;
    uint64_t next_token_ms;  /* when the action's limiter may allow again */
    uint64_t next_qtoken_ms; /* when the query limiter may allow again */
    uint64_t last_progress_ms;
    struct curl_slist expect_hdr;
    struct curl_slist no_ctype_hdr; /* "Content-Type:", then expect_hdr */
};

/* The pacing lane of x's request: a query's step's, or the action's. */
static inline struct orch_pace_lane *orch_xfer_lane(const struct orch_xfer *x)
{
    if (!x->query)
        return x->d->lane;
    return x->d->qlanes[(unsigned)x->rc.step < ORCH_RCIO_NLANES
                            ? (unsigned)x->rc.step
                            : 0];
}

#endif
