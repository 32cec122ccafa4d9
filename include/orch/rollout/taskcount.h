/* taskcount.h - the task counts of some of a rollout's jobs at the lowest
 * cost the API allows: each job by its plan (countplan.h: the Totals of
 * ListOTATaskByJob filtered by TaskStatus, PageSize 1, and the FAILED
 * tasks listed for their reasons), the others listed in full
 * (tasklist.h). What `status` uses when it does not write --devices.
 *
 * The plans' questions go in paced rounds at the query quota (query.h),
 * one round per step of the plans; then the jobs whose plan is the full
 * listing are listed. Each answer is folded into its job as it arrives
 * (taskagg.h); a call that fails marks its job failed
 * (orch_taskagg_job_failed) and its plan stops. The tasks each job's
 * answers hold go to `each` (the FAILED tasks only, for a counted job).
 * Prints nothing.
 */
#ifndef ORCH_TASKCOUNT_H
#define ORCH_TASKCOUNT_H

#include <signal.h>
#include <stddef.h>

#include "orch/rollout/countplan.h"
#include "orch/rollout/taskagg.h"

struct orch_config;
struct orch_credentials;
struct orch_diag;
struct orch_dispatch_stats;

struct orch_taskcount {
    const struct orch_config *cfg; /* the query quota, the instance */
    const struct orch_credentials *cred;
    struct orch_rollout_job *jobs; /* the jobs (borrowed; their
                                      seen_status and device_count choose
                                      the plan) */
    const size_t *which;           /* indexes of the n jobs; NULL: 0..n */
    size_t n;
    struct orch_taskagg *agg;  /* the FAILED tasks' reasons go here */
    orch_taskagg_task_fn each; /* sees every task listed; may be NULL */
    void *each_ud;
    /* As tasklist.h's, for the jobs listed in full (may be NULL). */
    void (*capped)(void *ud, const struct orch_rollout_job *job);
    void *capped_ud;
    enum orch_countplan_force force;
};

/* Counts the tasks (see above). Borrows tc and everything it points to.
 * Returns 0 with *stats those of the last batch sent (no further batch
 * after one that was aborted or interrupted), or the dispatcher's setup
 * error, or ORCH_ENOMEM, with diag. Not reentrant. */
int orch_taskcount_run(const struct orch_taskcount *tc,
                       volatile sig_atomic_t *interrupt,
                       struct orch_dispatch_stats *stats,
                       struct orch_diag *diag);

#endif
