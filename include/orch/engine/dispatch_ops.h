/* dispatch_ops.h - what a caller of the dispatcher (dispatch.h) gives it
 * and gets back: the callbacks that say what to send and receive each
 * item's final outcome, the outcome itself, and the run's figures.
 *
 * A header of its own so that the dispatcher's internal files can use
 * these types without including dispatch.h (whose module includes them).
 * Callers include dispatch.h, which includes this.
 */
#ifndef ORCH_DISPATCH_OPS_H
#define ORCH_DISPATCH_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct orch_params;
struct orch_response;

enum orch_item_status {
    ORCH_ITEM_CREATED = 0,
    ORCH_ITEM_FAILED,
    ORCH_ITEM_NOT_SENT
};

/* "created", "failed", "not_sent" ("unknown" for anything else): a static
 * string. */
const char *orch_item_status_name(enum orch_item_status s);

/* One item's final outcome, given to ops->done.
 *
 * Lifetime: every pointer below is borrowed and valid only during that
 * done() call. They point into the transfer's buffers (resp, job_id,
 * utc_create, a composed error_message), into the dispatcher's stop
 * record, or at static strings; the transfer is reused for another item
 * as soon as done() returns. Copy what you keep. */
struct orch_item_result {
    enum orch_item_status status;
    unsigned attempts;                 /* sends of the action in this run
                                          (reconciliation queries not
                                          counted) */
    const struct orch_response *resp;  /* last decoded answer, or NULL */
    const char *error_code;            /* NULL when created */
    const char *error_message;         /* NULL when created */
    bool form_fallback;                /* resent with a form body after
                                          414/431 */
    bool recovered;                    /* created: the job was found by
                                          reconciliation, not by an answer */
    const char *job_id;                /* created: Data.JobId (or the
                                          recovered job's id); else NULL */
    const char *utc_create;            /* created: when the job was created;
                                          else NULL */
};

/* The callbacks run on the dispatcher's (the caller's) thread, from inside
 * orch_dispatch_run(); none may call back into the dispatcher. */
struct orch_dispatch_ops {
    const char *action;   /* e.g. "CreateOTAStaticUpgradeJob" */
    size_t nitems;
    /* Fill the action parameters of item i (called on every attempt; the
     * common parameters and signature are added by request.c). Nonzero:
     * the item is failed with code "RequestBuildFailed". */
    int (*build)(void *ud, size_t item, struct orch_params *out);
    /* Optional: items of the same group (firmware) share the fatal-streak
     * rule (stop.h): the same final business code on the first
     * opts->fatal_streak final results of a group stops the rest of that
     * group as not_sent, with that code. */
    uint32_t (*group)(void *ud, size_t item);
    /* Optional: skip item i (already done in a resumed run); a skipped
     * item gets no done() call. */
    bool (*skip)(void *ud, size_t item);
    /* Final result of item i; called exactly once per non-skipped item. */
    void (*done)(void *ud, size_t item, const struct orch_item_result *res);
    /* Optional progress tick (about once a second, and once at the end). */
    void (*progress)(void *ud, size_t finished, size_t total);
    void *ud;

    /* ---- exactly-once ---- */

    /* Queries are idempotent: an unknown outcome (AMBIGUOUS) is simply
     * retried, and no reconciliation is attempted. */
    bool idempotent;
    /* Optional journaling hook: attempt `attempt` (1 = the item's first
     * send) of item i is about to start at wall time wall_ms. Called for
     * every request an iteration admits, before ops->sync. */
    void (*before_send)(void *ud, size_t item, unsigned attempt,
                        int64_t wall_ms);
    /* Optional: called once per loop iteration after the before_send calls
     * of the requests it admitted and before any of them starts (group
     * commit: a request is never on the wire before its record is on
     * disk). Nonzero stops the run: the admitted requests are not sent
     * (not_sent, code "JournalFailed") and nothing more is admitted. */
    int (*sync)(void *ud);
    /* Optional (resume): true when item i was attempted in an earlier run
     * and has no recorded outcome; *since_ms is the wall time of its first
     * attempt. Such an item is reconciled before any send. */
    bool (*interrupted)(void *ud, size_t item, int64_t *since_ms);
    /* Optional: a reconciliation step's progress (for the journal and
     * logs): item i, the query action, its outcome code ("" = success). */
    void (*reconcile_note)(void *ud, size_t item, const char *action,
                           const char *code);

    /* ---- output for machines ---- */

    /* Optional: attempt `attempt` of item i got its answer (or its
     * transport error) after ms milliseconds: resp is the decoded answer
     * (NULL when nothing was answered), code its error code ("" on
     * success; "NetworkError" without an answer). Called for the action's
     * calls only (not the reconciliation queries), before the verdict is
     * acted on. For logs; resp and code live during the call only. */
    void (*answered)(void *ud, size_t item, unsigned attempt,
                     const struct orch_response *resp, const char *code,
                     uint64_t ms);
};

/* The run's figures, filled by orch_dispatch_run() (zeroed at its start).
 * Fields are only ever added at the end, so earlier ones do not move. */
struct orch_dispatch_stats {
    uint64_t calls;        /* HTTP requests of the action started */
    uint64_t retries;
    uint64_t throttled;    /* throttling answers */
    uint64_t created, failed, not_sent;
    uint64_t form_fallbacks;
    uint64_t first_start_ms, last_end_ms; /* monotonic */
    bool aborted;          /* stopped: FATAL, journal, interrupt, libcurl */
    char abort_reason[256];
    uint64_t queries;      /* reconciliation requests started (not in
                              `calls`, which counts the action's calls) */
    uint64_t reconciled;   /* reconciliations begun (an item may need more
                              than one if a resend is ambiguous again) */
    uint64_t recovered;    /* items created by a job found by one */
    uint64_t last_start_ms; /* monotonic start of the last call
                               (calls/s = (calls - 1) / (last - first
                               start)) */
    /* Why the run stopped: the stop's code (an API Code, "NetworkError",
     * "Interrupted", "JournalFailed", "LibcurlError"; "" when it did not
     * stop) and the request id of the FATAL answer ("" none). */
    char abort_code[128];
    char abort_request_id[128];
    /* Calls sent again after an answer refused the STS token and the
     * credentials were refreshed (credlive.h); not in `retries`. */
    uint64_t token_resends;
};

#endif
