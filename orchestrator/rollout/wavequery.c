/* wavequery.c - a wave's task counts and its cancel (wavequery.h). */
#include "orch/rollout/wavequery.h"

#include "orch/base/err.h"
#include "orch/cloud/api.h"
#include "orch/engine/dispatch.h"
#include "orch/engine/query.h"
#include "orch/model/config.h"
#include "orch/rollout/gate.h"
#include "orch/rollout/tasklist.h"

#include <stdlib.h>
#include <string.h>

int orch_wavequery_counts(const struct orch_config *cfg,
                          const struct orch_credentials *cred,
                          const char *const *job_ids, size_t n,
                          struct orch_gate_counts *c, size_t *failed_jobs,
                          volatile sig_atomic_t *interrupt,
                          struct orch_diag *diag)
{
    struct orch_rollout_job *jobs = NULL;
    struct orch_taskagg agg;
    struct orch_tasklist tl;
    struct orch_dispatch_stats st;
    size_t i = 0;
    int rc = 0;

    memset(c, 0, sizeof(*c));
    memset(&tl, 0, sizeof(tl));
    *failed_jobs = 0;
    orch_taskagg_init(&agg);
    jobs = calloc(n ? n : 1, sizeof(*jobs));
    if (jobs == NULL)
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    /* Borrowed: these jobs are never passed to orch_rollout_cleanup. */
    for (i = 0; i < n; i++)
        jobs[i].job_id = (char *)job_ids[i];
    tl.cfg = cfg;
    tl.cred = cred;
    tl.jobs = jobs;
    tl.n = n;
    tl.agg = &agg;
    rc = orch_tasklist_run(&tl, interrupt, &st, diag);
    if (rc == 0 && n > 0 && (st.aborted || (interrupt && *interrupt)))
        rc =
            orch_diag_set(diag, ORCH_EABORT, "%s",
                          st.abort_reason[0] ? st.abort_reason : "interrupted");
    for (i = 0; rc == 0 && i < n; i++) {
        if (jobs[i].query_failed)
            (*failed_jobs)++;
        orch_gate_add_job(c, &jobs[i]);
    }
    orch_taskagg_cleanup(&agg);
    free(jobs);
    return rc;
}

struct cancel_ctx {
    const struct orch_config *cfg;
    const char *const *job_ids;
    size_t cancelled, failed;
};

static int build_cancel(void *ud, size_t item, struct orch_params *out)
{
    struct cancel_ctx *c = ud;
    int rc =
        orch_api_job_params(out, c->cfg->iot_instance_id, c->job_ids[item]);

    if (rc == 0)
        rc = orch_api_cancel_flags_params(out, false);
    return rc;
}

static void cancel_done(void *ud, size_t item,
                        const struct orch_item_result *res)
{
    struct cancel_ctx *c = ud;

    (void)item;
    if (res->status == ORCH_ITEM_CREATED ||
        orch_api_cancel_code_is_done(res->error_code))
        c->cancelled++;
    else
        c->failed++;
}

int orch_wavequery_cancel(const struct orch_config *cfg,
                          const struct orch_credentials *cred,
                          const char *const *job_ids, size_t n,
                          size_t *cancelled, size_t *failed,
                          volatile sig_atomic_t *interrupt,
                          struct orch_diag *diag)
{
    struct cancel_ctx c;
    struct orch_query_batch b;
    struct orch_dispatch_stats st;
    int rc = 0;

    memset(&c, 0, sizeof(c));
    memset(&b, 0, sizeof(b));
    memset(&st, 0, sizeof(st));
    c.cfg = cfg;
    c.job_ids = job_ids;
    *cancelled = *failed = 0;
    if (n == 0)
        return 0;
    b.action = "CancelOTATaskByJob";
    b.qps = ORCH_CANCEL_QPS;
    b.nitems = n;
    b.build = build_cancel;
    b.done = cancel_done;
    b.ud = &c;
    b.label = "jobs cancelled";
    rc = orch_query_run(cfg, cred, &b, interrupt, &st, diag);
    *cancelled = c.cancelled;
    *failed = c.failed + (n - c.cancelled - c.failed);
    if (rc == 0 && st.aborted)
        rc = orch_diag_set(diag, ORCH_EABORT, "%s",
                           st.abort_reason[0] ? st.abort_reason : "aborted");
    return rc;
}
