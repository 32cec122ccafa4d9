/* wavequery.h - the calls the waves runner makes about one wave's jobs:
 * their task counts for the gate (gate.h), and their cancel when a gate
 * fails. Paced query batches (query.h); they print nothing.
 */
#ifndef ORCH_WAVEQUERY_H
#define ORCH_WAVEQUERY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct orch_config;
struct orch_credentials;
struct orch_diag;
struct orch_gate_counts;

/* Task counts of the jobs job_ids[0..n) (ListOTATaskByJob, every page,
 * at cfg->query_qps; tasklist.h), and QueryOTAJob for the jobs that
 * listed no task at all (their state says whether the API is done with
 * them). devices[i] (may be NULL: unknown) is job i's device count: the
 * devices a finished job holds no task for go to c->no_task
 * (orch_gate_add_job). Returns 0 (c filled, c->expected 0;
 * *failed_jobs: jobs that could not be fully listed), ORCH_EABORT with
 * diag (credentials rejected, or interrupted), or a setup error. Borrows
 * job_ids. */
int orch_wavequery_counts(const struct orch_config *cfg,
                          const struct orch_credentials *cred,
                          const char *const *job_ids,
                          const uint32_t *devices, size_t n,
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
