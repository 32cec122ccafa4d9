/* wavequery.h - the calls the waves runner makes about one wave's jobs:
 * their task counts for the gate (gate.h), polling only the jobs not
 * decided yet, and their cancel when a gate fails. Paced query batches (query.h); they print nothing.
 */
#ifndef ORCH_WAVEQUERY_H
#define ORCH_WAVEQUERY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "orch/rollout/rollout.h"

struct orch_config;
struct orch_credentials;
struct orch_diag;
struct orch_gate_counts;

/* What the polls of one wave's gate know: each job's counts from its last
 * listing. A job the API is done with (orch_gate_job_over: every listed
 * task ended, or QueryOTAJob says COMPLETED/CANCELED for a job that
 * listed no task) is decided: its counts are kept and it is not polled again
 * (the gate judges the wave as its tasks end; a later change from the
 * console is `status`'s business). Caller-owned: init / cleanup. */
struct orch_wavequery_memo {
    struct orch_rollout_job *jobs; /* job_id borrowed from the caller */
    size_t n;
    size_t polled; /* jobs the last poll listed */
};

/* Borrows job_ids[0..n), which must outlive the memo. devices[i] (may
 * be NULL: unknown) is job i's device count: the devices a finished job
 * holds no task for go to c->no_task (orch_gate_add_job). 0 or
 * ORCH_ENOMEM. */
int orch_wavequery_memo_init(struct orch_wavequery_memo *m,
                             const char *const *job_ids,
                             const uint32_t *devices, size_t n);
void orch_wavequery_memo_cleanup(struct orch_wavequery_memo *m);

/* Task counts of the memo's jobs: every page of the jobs not decided yet
 * (ListOTATaskByJob at cfg->query_qps; tasklist.h) and QueryOTAJob for
 * those that listed no task at all, the others as the memo keeps them. Returns 0 (c filled, c->expected 0; *failed_jobs:
 * jobs that could not be fully listed), ORCH_EABORT with diag
 * (credentials rejected, or interrupted), or a setup error. */
int orch_wavequery_counts(const struct orch_config *cfg,
                          const struct orch_credentials *cred,
                          struct orch_wavequery_memo *m,
                          struct orch_gate_counts *c, size_t *failed_jobs,
                          volatile sig_atomic_t *interrupt,
                          struct orch_diag *diag);

/* CancelOTATaskByJob for each job (queued, notified, scheduled and
 * unconfirmed tasks; not in-progress ones) at ORCH_CANCEL_QPS. *cancelled
 * counts the jobs cancelled or already finished, *failed the others.
 * Returns 0, or a setup error or ORCH_EABORT (aborted) with diag. */
int orch_wavequery_cancel(const struct orch_config *cfg,
                          const struct orch_credentials *cred,
                          const char *const *job_ids, size_t n,
                          size_t *cancelled, size_t *failed,
                          volatile sig_atomic_t *interrupt,
                          struct orch_diag *diag);

#endif
