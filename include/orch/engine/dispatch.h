/* dispatch.h - send many signed calls on libcurl's multi interface, paced by
 * the rate limiter, with retries, and report each item's final outcome.
 *
 * DESIGN: one thread (the caller's) owns the curl multi handle and every
 * orch_xfer. Loop: (1) admit new or due-for-retry items while in-flight <
 * max_in_flight and the rate limiter allows; (2) curl_multi_poll with a
 * timeout = min(next token, next retry, 1000 ms); (3) curl_multi_perform;
 * (4) drain curl_multi_info_read: decode, orch_retry_classify, then requeue
 * (with backoff, new nonce and timestamp) or report the final result via
 * ops->done. When *interrupt becomes 1, no new item is started and
 * in-flight ones finish; at 2 they are aborted (reported not_sent/Ambiguous).
 * A FATAL verdict (credentials, clock or RAM policy refused; TLS set-up
 * broken) stops admissions. The item whose answer was FATAL, and any
 * in-flight item answered the same way, is `failed` with the answer's
 * code, message and request id: it was sent and refused, and a refusal
 * at the door creates nothing. A FATAL with no answer (TLS verification,
 * bad URL: nothing left) is `not_sent`. Every item not yet started, or
 * waiting for a resend, is `not_sent` with the stop's code; one still
 * reconciling is failed/Ambiguous. stats->abort_code and
 * abort_request_id name the refusal.
 */
#ifndef ORCH_DISPATCH_H
#define ORCH_DISPATCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct orch_config;
struct orch_credentials;
struct orch_diag;
struct orch_params;
struct orch_response;

enum orch_item_status {
    ORCH_ITEM_CREATED = 0,
    ORCH_ITEM_FAILED,
    ORCH_ITEM_NOT_SENT
};

const char *orch_item_status_name(enum orch_item_status s); /* "created"... */

struct orch_item_result {
    enum orch_item_status status;
    unsigned attempts;                 /* HTTP attempts made */
    const struct orch_response *resp;  /* last decoded answer, or NULL */
    const char *error_code;            /* NULL when created */
    const char *error_message;
    bool form_fallback;                /* resent with a form body after 414/431 */
    bool recovered;                    /* created: the job was found by
                                          reconciliation, not by an answer */
    const char *job_id;                /* created: Data.JobId (or the
                                          recovered job's id) */
    const char *utc_create;            /* created: when the job was created */
};

struct orch_dispatch_ops {
    const char *action;   /* e.g. "CreateOTAStaticUpgradeJob" */
    size_t nitems;
    /* Fill the action parameters of item i (called on every attempt; the
     * common parameters and signature are added by request.c). */
    int (*build)(void *ud, size_t item, struct orch_params *out);
    /* Optional: items of the same group (firmware) share the fatal-streak
     * rule: the same final business code on the first cfg->fatal_streak
     * items of a group stops the rest of that group as not_sent. */
    uint32_t (*group)(void *ud, size_t item);
    /* Optional: skip item i (already done in a resumed run). */
    bool (*skip)(void *ud, size_t item);
    /* Final result of item i; called exactly once per non-skipped item. */
    void (*done)(void *ud, size_t item, const struct orch_item_result *res);
    /* Optional progress tick (about once a second). */
    void (*progress)(void *ud, size_t finished, size_t total);
    void *ud;

    /* ---- exactly-once (issue 4) ---- */

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

    /* ---- output for machines (issue 7) ---- */

    /* Optional: attempt `attempt` of item i got its answer (or its
     * transport error) after ms milliseconds: resp is the decoded answer
     * (NULL when nothing was answered), code its error code ("" on
     * success; "NetworkError" without an answer). Called for the action's
     * calls only (not the reconciliation queries), before the verdict is
     * acted on. For logs: must not call back into the dispatcher. */
    void (*answered)(void *ud, size_t item, unsigned attempt,
                     const struct orch_response *resp, const char *code,
                     uint64_t ms);
};

/* Reconciliation (non-idempotent ops only): an item whose attempt ended
 * AMBIGUOUS, or that ops->interrupted() reports, is not resent blindly.
 * The dispatcher asks the API, at the query operations' own quota
 * (cfg->query_qps, default 10/s, a separate rate limiter), whether a job
 * for the item's devices already exists: ListOTAJobByDevice (FirmwareId,
 * ProductKey and a device taken from the item's built parameters) and,
 * for each candidate job created at or after the first attempt (less a
 * clock-skew margin), the job tag (Tag.1.Value in the built parameters)
 * or, without a tag, ListOTATaskByJob with DeviceNames.N to confirm that
 * the job holds the item's devices. An item whose parameters name no
 * devices (a whole-product call, TargetSelection ALL or GRAY) is looked
 * up by its tag alone: ListOTAJobByFirmware (FirmwareId), page by page,
 * for a job created at or after the first attempt (less the margin) that
 * carries the tag; without a tag it is Ambiguous at once. Found: the item
 * is done() as created with recovered = true and that JobId. Not found
 * (every page asked): it is sent again (a new attempt). Undecidable (the
 * queries keep failing, or the firmware's job list is longer than the
 * pages the dispatcher asks for): failed with code "Ambiguous", never
 * resent. ops->reconcile_note names the query action of each step.
 * reconcile.h states these decisions in full (probe devices, page limits,
 * the candidate time window, the failure counter). */

struct orch_dispatch_stats {
    uint64_t calls;        /* HTTP requests started */
    uint64_t retries;
    uint64_t throttled;    /* throttling answers */
    uint64_t created, failed, not_sent;
    uint64_t form_fallbacks;
    uint64_t first_start_ms, last_end_ms; /* monotonic */
    bool aborted;          /* FATAL or interrupt */
    char abort_reason[256];
    /* Exactly-once (added at the end so earlier fields do not move) */
    uint64_t queries;      /* reconciliation requests started (not in
                              `calls`, which counts the action's calls) */
    uint64_t reconciled;   /* reconciliations begun (an item may need more
                              than one if a resend is ambiguous again) */
    uint64_t recovered;    /* items created by a job found by one */
    uint64_t last_start_ms; /* monotonic start of the last call (added at
                               the end; calls/s = (calls - 1) / (last -
                               first start)) */
    /* Why the run stopped (added at the end): the stop's code (an API
     * Code, "NetworkError", "Interrupted", "JournalFailed"; "" when it
     * did not stop) and the request id of the FATAL answer ("" none). */
    char abort_code[128];
    char abort_request_id[128];
};

/* Runs until every item is finished. Returns 0 (even if items failed:
 * see stats), or ORCH_EINVAL/ORCH_ENOMEM/ORCH_EHTTP for a setup failure
 * with diag. Borrows everything; not reentrant. */
int orch_dispatch_run(const struct orch_config *cfg,
                      const struct orch_credentials *cred,
                      const struct orch_dispatch_ops *ops,
                      volatile sig_atomic_t *interrupt,
                      struct orch_dispatch_stats *stats,
                      struct orch_diag *diag);

#endif
