/* reconcile_io.c - reconciliation queries: queued, paced, sent, answered
 * and acted on (reconcile_io.h); reconcile.c decides. */
#include "orch/engine/reconcile_io.h"

#include <stdio.h>
#include <string.h>

#include "orch/base/err.h"
#include "orch/engine/deliver.h"
#include "orch/engine/dispatcher.h"
#include "orch/engine/engine_opts.h"
#include "orch/engine/xfer.h"

#define DEFAULT_QUERY_QPS 10.0

/* The query action of step i of the reconciliation. */
static const char *step_action(unsigned i)
{
    struct orch_reconcile rc;

    memset(&rc, 0, sizeof(rc));
    rc.step = (enum orch_reconcile_step)i;
    return orch_reconcile_action(&rc);
}

int orch_rcio_lanes(struct dispatcher *d)
{
    double qqps = d->opts->query_qps > 0 ? d->opts->query_qps
                                         : DEFAULT_QUERY_QPS;

    for (unsigned i = 0; i < ORCH_RCIO_NLANES; i++) {
        int rc = orch_pacer_lane(d->opts, step_action(i), qqps,
                                 &d->qlanes[i]);

        if (rc)
            return rc;
    }
    return 0;
}

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
    if (d->stop.stopping) {
        orch_deliver_ambiguous(d, x, d->stop.message);
        return;
    }
    x->query = true;
    x->hnode.due_ms = now + delay;
    orch_dueheap_push(&d->queries, &x->hnode);
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
    if (d->stop.stopping) {
        snprintf(msg, sizeof(msg),
                 "no job was found %s after an unknown outcome (%.300s); "
                 "not resent: %.255s",
                 whose, x->why, d->stop.message);
        orch_deliver_finish(d, x, ORCH_ITEM_NOT_SENT, d->stop.code, msg);
        return;
    }
    if (x->attempts >= d->max_attempts) {
        snprintf(msg, sizeof(msg),
                 "outcome unknown (%s); reconciliation found no job %s but "
                 "the attempts are used up; check before resending",
                 x->why, whose);
        orch_deliver_finish(d, x, ORCH_ITEM_FAILED, "Ambiguous", msg);
        return;
    }
    x->hnode.due_ms = now;
    orch_dueheap_push(&d->sends, &x->hnode);
}

/* Acts on a reconciliation verdict for x; detail is an UNDECIDABLE
 * verdict's reason. */
static void act(struct dispatcher *d, struct orch_xfer *x,
                enum orch_reconcile_verdict v, uint64_t now,
                const char *detail)
{
    switch (v) {
    case ORCH_RECONCILE_ASK:
        queue_query(d, x, now, 0);
        return;
    case ORCH_RECONCILE_ASK_AGAIN:
        queue_query(d, x, now, orch_xfer_retry_delay(d, x, x->rc.fails));
        return;
    case ORCH_RECONCILE_FOUND:
        orch_deliver_recovered(d, x);
        return;
    case ORCH_RECONCILE_NOT_FOUND:
        not_found(d, x, now);
        return;
    case ORCH_RECONCILE_UNDECIDABLE:
    default:
        orch_deliver_ambiguous(d, x, detail);
        return;
    }
}

void orch_rcio_begin(struct dispatcher *d, struct orch_xfer *x, uint64_t now,
                     const char *why)
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
        orch_deliver_ambiguous(d, x, "its parameters could not be built");
        return;
    }
    v = orch_reconcile_begin(&x->rc, &x->cparams, x->since_ms, detail,
                             sizeof(detail));
    act(d, x, v, now, detail);
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
        rc = orch_xfer_prepare(d, x, action, &what);
    if (rc == ORCH_ECRED)
        orch_deliver_stop_credentials(d);
    if (rc == 0 && orch_xfer_launch(d, x, now, &what))
        return;
    orch_deliver_ambiguous(d, x,
                           what != NULL ? what : "a query failed to start");
}

void orch_rcio_admit(struct dispatcher *d, uint64_t now)
{
    while (!d->stop.stopping && d->in_flight + d->nbatch < d->cap &&
           orch_dueheap_due(&d->queries, now)) {
        struct orch_xfer *top = orch_xfer_of(orch_dueheap_top(&d->queries));
        uint64_t wait = orch_pace_take(orch_xfer_lane(top), now);

        if (wait > 0) {
            d->next_qtoken_ms = now + wait;
            break;
        }
        start_query(d, orch_xfer_of(orch_dueheap_pop(&d->queries)), now);
    }
}

bool orch_rcio_admit_interrupted(struct dispatcher *d, size_t item,
                                 int64_t since, uint64_t now)
{
    struct orch_xfer *x = NULL;

    if (d->in_flight + d->nbatch + d->queries.len >= d->cap)
        return false;
    if (orch_xfer_get(d, item, &x) != 0) {
        if (d->in_flight > 0)
            return false;
        d->cursor++;
        orch_deliver_report(d, item, 0, ORCH_ITEM_FAILED, "Ambiguous",
                            "outcome of an earlier run unknown and out of "
                            "memory to reconcile it; check before resending");
        return true;
    }
    d->cursor++;
    x->since_ms = since;
    orch_rcio_begin(d, x, now,
                    "sent by an earlier run that ended before its answer "
                    "was recorded");
    return true;
}

void orch_rcio_complete(struct dispatcher *d, struct orch_xfer *x,
                        CURLcode res, uint64_t now)
{
    const char *action = orch_reconcile_action(&x->rc);
    const char *code = NULL;
    char msg[512];
    char why[700];
    char detail[800] = "";
    enum orch_verdict v = orch_xfer_outcome(d, x, res, now, &code, msg,
                                            sizeof(msg));
    enum orch_reconcile_verdict rv;

    note(d, x, action, v == ORCH_VERDICT_CREATED ? "" : code);
    snprintf(why, sizeof(why), "%s: %.127s: %.511s", action, code, msg);
    if (v == ORCH_VERDICT_CREATED) { /* i.e. the query succeeded */
        rv = orch_reconcile_answer(&x->rc, &x->cparams, &x->resp, detail,
                                   sizeof(detail));
    } else {
        /* A refused token: ask again after a refresh, like a refused
         * query (reconcile.h bounds the tries). */
        if (v == ORCH_VERDICT_FATAL && orch_xfer_refresh_token(d, x))
            v = ORCH_VERDICT_RETRY;
        if (v == ORCH_VERDICT_FATAL)
            orch_deliver_stop(d, code, why);
        rv = orch_reconcile_failed(&x->rc, &x->cparams, v, code, why, detail,
                                   sizeof(detail));
    }
    act(d, x, rv, now, detail);
}
