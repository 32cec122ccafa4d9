/* deliver.h - the dispatcher's result bookkeeping: each item's final
 * result counted and given to ops->done exactly once, the run's stop, the
 * fatal-streak rule's hooks, and the draining of what a stop leaves.
 *
 * Internal to the dispatcher (dispatcher.h); all on its thread.
 *
 * Every function that takes an xfer ends its item: ops->done is called
 * and the xfer goes back to the free list (it must be in no heap and not
 * in flight). The result given to done() points into the xfer and into
 * the stop record (dispatch_ops.h: valid during the call only). Codes and
 * messages passed in are borrowed for the done() call only.
 */
#ifndef ORCH_DELIVER_H
#define ORCH_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "orch/engine/dispatch_ops.h"

struct dispatcher;
struct orch_xfer;

/* Calls ops->progress when a second has passed since the last call, or
 * always with force. */
void orch_deliver_progress(struct dispatcher *d, uint64_t now, bool force);

/* A result for an item that holds no xfer (never started, or its xfer
 * already recycled). */
void orch_deliver_report(struct dispatcher *d, size_t item, unsigned attempts,
                         enum orch_item_status status, const char *code,
                         const char *message);
/* Ends x's item with `status`; a created result takes its JobId and
 * UtcCreate from the last answer. */
void orch_deliver_finish(struct dispatcher *d, struct orch_xfer *x,
                         enum orch_item_status status, const char *code,
                         const char *message);
/* Ends x's item as created by the job its reconciliation found
 * (x->rc.job_id). The last query's answer stands in as res->resp, with
 * the job's id and creation time and no request id (the Create's is
 * unknown), so a reader of resp alone sees the right job. */
void orch_deliver_recovered(struct dispatcher *d, struct orch_xfer *x);
/* Ends x's item failed "Ambiguous": its outcome is unknown (x->why) and
 * reconciliation could not tell (`why`); it is never resent. */
void orch_deliver_ambiguous(struct dispatcher *d, struct orch_xfer *x,
                            const char *why);

/* Stops admissions (stop.h: the first stop's code and message are kept)
 * and records it in the stats (aborted, abort_code, abort_reason). */
void orch_deliver_stop(struct dispatcher *d, const char *code,
                       const char *message);
/* Stops because the credentials cannot sign any more (a live set inside
 * its safety margin that could not be refreshed: orch_request_build
 * returned ORCH_ECRED), code "CredentialsExpired", the holder's
 * explanation as the message. */
void orch_deliver_stop_credentials(struct dispatcher *d);
/* After a stop: every waiting resend and unstarted item is not_sent with
 * the stop's code, every item waiting for a reconciliation query, and
 * every unstarted one an earlier run left without an outcome, failed
 * "Ambiguous". Skipped items are counted finished. */
void orch_deliver_unsent(struct dispatcher *d);

/* True when an earlier run sent item i and recorded no outcome, and the
 * action is one that needs reconciling; *since_ms (may be NULL) gets the
 * wall time of its first attempt. */
bool orch_deliver_was_interrupted(struct dispatcher *d, size_t item,
                                  int64_t *since_ms);

/* Feeds one final result of the item's group into the fatal-streak rule
 * (no-op without ops->group or with the rule off). */
void orch_deliver_group_note(struct dispatcher *d, size_t item, bool failed,
                             const char *code);
/* When the item's group was stopped by the rule: reports the item
 * not_sent with the group's code and returns true (the caller recycles
 * any xfer it held); false otherwise. */
bool orch_deliver_group_stopped(struct dispatcher *d, size_t item,
                                unsigned attempts);

#endif
