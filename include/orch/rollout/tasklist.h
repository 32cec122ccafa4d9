/* tasklist.h - every task of some of a rollout's jobs, as `status`,
 * `cancel` and the wave gates list them.
 *
 * ListOTATaskByJob page 1 of each job in one paced batch (query.h, at the
 * query quota), then every further page its Total asks for (at most
 * ORCH_API_TASK_MAX_PAGES) in a second batch. Each answer is folded into
 * its job as it arrives (orch_taskagg_add_page, taskagg.h), so memory does
 * not grow with the fleet; a page that fails marks its job failed
 * (orch_taskagg_job_failed) and its further pages are not asked for.
 * Prints nothing.
 */
#ifndef ORCH_TASKLIST_H
#define ORCH_TASKLIST_H

#include <signal.h>
#include <stddef.h>

#include "orch/rollout/taskagg.h"

struct orch_config;
struct orch_credentials;
struct orch_diag;
struct orch_dispatch_stats;

struct orch_tasklist {
    const struct orch_config *cfg; /* the query quota, the instance */
    const struct orch_credentials *cred;
    struct orch_rollout_job *jobs; /* the jobs (borrowed) */
    const size_t *which;           /* indexes into jobs of the n jobs to list;
                                      NULL: jobs[0..n) */
    size_t n;
    struct orch_taskagg *agg;  /* the FAILED tasks' reasons go here */
    orch_taskagg_task_fn each; /* sees every task; may be NULL */
    void *each_ud;
    /* Called, before the second batch, for each job with more tasks than
     * the API lists (may be NULL). */
    void (*capped)(void *ud, const struct orch_rollout_job *job);
    void *capped_ud;
    const char *label[2]; /* the batches' progress labels (NULL: none) */
};

/* Lists the tasks (see above). Borrows tl and everything it points to.
 * Returns 0 with *stats those of the last batch sent: the second batch is
 * not sent when the first was aborted (stats->aborted: credentials
 * rejected) or interrupted (*interrupt nonzero); or the dispatcher's setup
 * error, or ORCH_ENOMEM, with diag. Not reentrant. */
int orch_tasklist_run(const struct orch_tasklist *tl,
                      volatile sig_atomic_t *interrupt,
                      struct orch_dispatch_stats *stats,
                      struct orch_diag *diag);

#endif
