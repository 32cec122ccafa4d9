/* deliver.c - each item's final result, counted and delivered once; the
 * run's stop and what it leaves (deliver.h). */
#include "orch/engine/deliver.h"

#include <stdio.h>
#include <string.h>

#include "orch/base/clock.h"
#include "orch/cloud/credentials.h"
#include "orch/cloud/credlive.h"
#include "orch/engine/dispatcher.h"
#include "orch/engine/xfer.h"

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

void orch_deliver_progress(struct dispatcher *d, uint64_t now, bool force)
{
    if (d->ops->progress == NULL)
        return;
    if (!force && now < d->last_progress_ms + ORCH_DISPATCH_PROGRESS_EVERY_MS)
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

void orch_deliver_report(struct dispatcher *d, size_t item, unsigned attempts,
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

void orch_deliver_finish(struct dispatcher *d, struct orch_xfer *x,
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
    orch_xfer_put(d, x);
}

void orch_deliver_recovered(struct dispatcher *d, struct orch_xfer *x)
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
    orch_xfer_put(d, x);
}

void orch_deliver_ambiguous(struct dispatcher *d, struct orch_xfer *x,
                            const char *why)
{
    char msg[1024];

    snprintf(msg, sizeof(msg),
             "outcome unknown (%.400s); a job may have been created and "
             "reconciliation could not tell: %.400s; check before resending",
             x->why[0] ? x->why : "interrupted run", why);
    x->query = false;
    orch_deliver_finish(d, x, ORCH_ITEM_FAILED, "Ambiguous", msg);
}

/* --- the stop ------------------------------------------------------------ */

void orch_deliver_stop(struct dispatcher *d, const char *code,
                       const char *message)
{
    if (!orch_stop_set(&d->stop, code, message))
        return;
    d->st->aborted = true;
    snprintf(d->st->abort_reason, sizeof(d->st->abort_reason), "%s",
             d->stop.message);
    snprintf(d->st->abort_code, sizeof(d->st->abort_code), "%s", code);
}

void orch_deliver_stop_credentials(struct dispatcher *d)
{
    char why[sizeof(d->stop.message)] = "the credentials expired and could "
                                        "not be refreshed";

    if (d->cred != NULL && d->cred->live != NULL)
        orch_credlive_explain(d->cred->live, orch_wall_ms(), why,
                              sizeof(why));
    orch_deliver_stop(d, "CredentialsExpired", why);
}

bool orch_deliver_was_interrupted(struct dispatcher *d, size_t item,
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

/* An unstarted item after the stop: skipped, Ambiguous (an earlier run
 * sent it and recorded no outcome), or not sent. */
static void drain_item(struct dispatcher *d, size_t i)
{
    char msg[sizeof(d->stop.message) + 160];

    if (d->ops->skip != NULL && d->ops->skip(d->ops->ud, i)) {
        d->finished++;
        return;
    }
    if (orch_deliver_was_interrupted(d, i, NULL)) {
        snprintf(msg, sizeof(msg),
                 "outcome unknown (interrupted run) and not reconciled "
                 "(%s); a job may have been created: check before "
                 "resending",
                 d->stop.message);
        orch_deliver_report(d, i, 0, ORCH_ITEM_FAILED, "Ambiguous", msg);
        return;
    }
    orch_deliver_report(d, i, 0, ORCH_ITEM_NOT_SENT, d->stop.code,
                        d->stop.message);
}

void orch_deliver_unsent(struct dispatcher *d)
{
    struct orch_dueheap_node *n = NULL;

    while ((n = orch_dueheap_pop(&d->sends)) != NULL)
        orch_deliver_finish(d, orch_xfer_of(n), ORCH_ITEM_NOT_SENT,
                            d->stop.code, d->stop.message);
    while ((n = orch_dueheap_pop(&d->queries)) != NULL)
        orch_deliver_ambiguous(d, orch_xfer_of(n), d->stop.message);
    for (; d->cursor < d->ops->nitems; d->cursor++)
        drain_item(d, d->cursor);
}

/* --- the fatal-streak rule ------------------------------------------------ */

void orch_deliver_group_note(struct dispatcher *d, size_t item, bool failed,
                             const char *code)
{
    if (d->ops->group == NULL || !orch_streak_on(&d->streak))
        return;
    orch_streak_note(&d->streak, d->ops->group(d->ops->ud, item), failed,
                     code);
}

bool orch_deliver_group_stopped(struct dispatcher *d, size_t item,
                                unsigned attempts)
{
    const char *code = NULL;
    char msg[256];

    /* No group noted yet: nothing can be stopped (and no callback). */
    if (d->streak.n == 0 || d->ops->group == NULL)
        return false;
    code = orch_streak_stopped(&d->streak, d->ops->group(d->ops->ud, item));
    if (code == NULL)
        return false;
    snprintf(msg, sizeof(msg),
             "not sent: the first %d chunks of this firmware failed with %s",
             d->streak.threshold, code);
    orch_deliver_report(d, item, attempts, ORCH_ITEM_NOT_SENT, code, msg);
    return true;
}
