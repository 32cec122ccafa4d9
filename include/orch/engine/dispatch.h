/* dispatch.h - send many signed calls on libcurl's multi interface, paced by
 * the rate limiter, with retries and reconciliation of unknown outcomes,
 * and report each item's final outcome exactly once.
 *
 * The callbacks, the result (and how long its pointers live) and the
 * figures are in dispatch_ops.h, included here; the options in
 * engine_opts.h.
 *
 * Threads: one, the caller's. It owns the multi handle and every transfer;
 * the only state shared with anything else is *interrupt, which a signal
 * handler may raise (base/interrupt.h's orch_interrupt_counter()).
 *
 * libcurl: the process must have called curl_global_init() before, once
 * (ota-rollout's main.c does; a test program that runs the dispatcher
 * does in its main or group setup). The dispatcher never calls it.
 *
 * Loop: (1) admit new or due-for-retry items while in-flight < cap and the
 * rate limiter allows, built, signed, announced (ops->before_send) and
 * committed by one ops->sync before any goes out; (2) curl_multi_poll
 * with a timeout = min(next token, next retry, next progress tick);
 * (3) curl_multi_perform; (4) drain curl_multi_info_read: decode,
 * orch_retry_classify, then requeue (with backoff, new nonce and
 * timestamp), reconcile, or report the final result via ops->done.
 *
 * Reconciliation (non-idempotent ops only): an item whose attempt ended
 * AMBIGUOUS, or that ops->interrupted() reports, is not resent blindly.
 * The dispatcher asks the API, at the query operations' own quota
 * (opts->query_qps, default 10/s, a separate rate limiter), whether a job
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
 * (every page asked): it is sent again (a new attempt), or failed
 * "Ambiguous" when the attempts are used up. Undecidable (the queries
 * keep failing, or the firmware's job list is longer than the pages the
 * dispatcher asks for): failed with code "Ambiguous", never resent.
 * ops->reconcile_note names the query action of each step. reconcile.h
 * states these decisions in full (probe devices, page limits, the
 * candidate time window, the failure counter).
 *
 * Ending. A stop ends admissions: a FATAL verdict (credentials, clock or
 * RAM policy refused; TLS set-up broken), a failed ops->sync, *interrupt
 * becoming 1, or a libcurl multi call failing. stats->aborted is set,
 * abort_code and abort_reason name the first stop, abort_request_id the
 * FATAL answer's request id. Then:
 *  - the item whose answer was FATAL is `failed` with the answer's code,
 *    message and request id (it was sent and refused, and a refusal at the
 *    door creates nothing); a FATAL with no answer (TLS verification, bad
 *    URL: nothing left) is `not_sent`;
 *  - every item not yet started, and every one waiting for a resend, is
 *    `not_sent` with the stop's code and message (earlier attempts, if
 *    any, were refused unprocessed or reconciled as not created); an
 *    unstarted item an earlier run left without an outcome is failed
 *    "Ambiguous" (it was sent once and cannot be reconciled now);
 *  - an item waiting for its next reconciliation query is failed
 *    "Ambiguous"; one whose query is in flight gets that answer first
 *    (a job found: created; none found: not_sent, not resent);
 *  - in-flight requests finish and are judged as usual, except that what
 *    would be resent is `not_sent` and what is ambiguous is failed
 *    "Ambiguous" (not reconciled);
 *  - when *interrupt reaches 2, or the multi handle fails, the in-flight
 *    requests are removed instead: one whose request had gone out (or a
 *    reconciliation query) is failed "Ambiguous", the others `not_sent`.
 * The fatal-streak rule (dispatch_ops.h, stop.h) stops one group only:
 * its remaining items are `not_sent` with the streak's code, and the run
 * goes on (stats->aborted is not set by it).
 */
#ifndef ORCH_DISPATCH_H
#define ORCH_DISPATCH_H

#include <signal.h>

#include "orch/engine/dispatch_ops.h"

struct orch_credentials;
struct orch_diag;
struct orch_engine_opts;

/* Runs until every item is finished (done() called once for each item
 * not skipped). Returns 0, even when items failed or the run stopped (see
 * stats); ORCH_EINVAL / ORCH_ENOMEM / ORCH_EHTTP with diag for a set-up
 * failure, before any item was started (no done() call); or ORCH_EHTTP
 * with diag when a libcurl multi call failed mid-run: then too every item
 * has had its done() call (see Ending), stats->aborted is set and, unless
 * an earlier stop came first, stats->abort_code is "LibcurlError".
 * interrupt may be NULL (never interrupted). Borrows everything for the
 * call only; not reentrant. */
int orch_dispatch_run(const struct orch_engine_opts *opts,
                      const struct orch_credentials *cred,
                      const struct orch_dispatch_ops *ops,
                      volatile sig_atomic_t *interrupt,
                      struct orch_dispatch_stats *stats,
                      struct orch_diag *diag);

#endif
