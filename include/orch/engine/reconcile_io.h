/* reconcile_io.h - the I/O around reconciliation: the dispatcher asks the
 * API whether an item whose outcome is unknown created a job, and acts on
 * the answer.
 *
 * Internal to the dispatcher (dispatcher.h); all on its thread.
 * reconcile.h owns the decisions (which query to ask next, what an answer
 * or a failure means) as pure functions over x->rc and the item's Create
 * parameters (x->cparams). This module owns the rest: entering an item,
 * the `queries` heap and the query lanes (pacer.h, one per query action at
 * opts->query_qps; queries never take the action's tokens), building, signing and launching each query,
 * noting each step through ops->reconcile_note, stopping the run on a
 * FATAL answer, and carrying out each verdict: the next query (after a
 * backoff when the same one is asked again), created and recovered
 * (found), a new attempt through the `sends` heap (not found; not_sent
 * when stopping, failed "Ambiguous" when the attempts are used up), or
 * failed "Ambiguous", never resent (undecidable).
 *
 * An xfer handed to these functions is the module's until its item ends
 * (deliver.h) or it is pushed to the `sends` heap for a new attempt.
 */
#ifndef ORCH_RECONCILE_IO_H
#define ORCH_RECONCILE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

struct dispatcher;
struct orch_xfer;

/* Enters x's item into reconciliation; `why` (copied) says what made its
 * outcome unknown. Uses the last attempt's parameters, or builds them when
 * the item was never sent in this run. */
void orch_rcio_begin(struct dispatcher *d, struct orch_xfer *x, uint64_t now,
                     const char *why);

/* Takes an unstarted item an earlier run left without an outcome (first
 * attempt at wall time `since`) into reconciliation, and moves the
 * cursor past it. Returns false, cursor unmoved, when it must wait:
 * reconciling items hold an xfer each and count against the in-flight
 * cap. */
bool orch_rcio_admit_interrupted(struct dispatcher *d, size_t item,
                                 int64_t since, uint64_t now);

/* Sets up d->qlanes: one pacing lane per step of the reconciliation
 * (the query action it asks; pacer.h), at opts->query_qps (default 10, each
 * action's documented quota). Returns 0, or ORCH_EINVAL / ORCH_ENOMEM. */
int orch_rcio_lanes(struct dispatcher *d);

/* Starts due queries while the in-flight cap and the query's lane allow;
 * sets d->next_qtoken_ms when the lane makes them wait. */
void orch_rcio_admit(struct dispatcher *d, uint64_t now);

/* Handles x's finished query (already out of the multi handle). */
void orch_rcio_complete(struct dispatcher *d, struct orch_xfer *x,
                        CURLcode res, uint64_t now);

#endif
