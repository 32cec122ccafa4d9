/* wavequery.c - a wave's task counts and its cancel (wavequery.h). */
#include "orch/rollout/wavequery.h"

#include "orch/base/err.h"
#include "orch/cloud/api.h"
#include "orch/engine/dispatch.h"
#include "orch/engine/query.h"
#include "orch/model/config.h"
#include "orch/rollout/gate.h"
#include "orch/rollout/jobstate.h"
#include "orch/rollout/tasklist.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The state of the jobs that listed no task at all: only it tells whether
 * the API is done with such a job (its devices then will never get a
 * task: orch_gate_job_over). jobstate.h learns it at the lowest cost; a
 * failed query leaves the state unknown (the devices stay pending). */
static int ask_states(const struct orch_config *cfg,
                      const struct orch_credentials *cred,
                      struct orch_rollout_job *jobs, const size_t *polled,
                      size_t n, volatile sig_atomic_t *interrupt,
                      struct orch_diag *diag)
{
    struct orch_dispatch_stats st;
    size_t *which = NULL;
    size_t i = 0, k = 0;
    int rc = 0;

    which = calloc(n ? n : 1, sizeof(*which));
    if (which == NULL)
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    for (i = 0; i < n; i++) {
        struct orch_rollout_job *j = &jobs[polled[i]];

        if (!j->query_failed && j->listed == 0 && j->device_count > 0) {
            j->seen_status[0] = '\0';
            j->modified[0] = '\0';
            which[k++] = polled[i];
        }
    }
    if (k > 0)
        rc = orch_jobstate_run(cfg, cred, jobs, which, k, interrupt, &st,
                               diag);
    for (i = 0; i < k; i++) {
        struct orch_rollout_job *j = &jobs[which[i]];

        snprintf(j->job_status, sizeof(j->job_status), "%s", j->seen_status);
    }
    free(which);
    return rc;
}

int orch_wavequery_memo_init(struct orch_wavequery_memo *m,
                             const char *const *job_ids,
                             const uint32_t *devices, size_t n)
{
    size_t i = 0;

    memset(m, 0, sizeof(*m));
    m->jobs = calloc(n ? n : 1, sizeof(*m->jobs));
    if (m->jobs == NULL)
        return ORCH_ENOMEM;
    /* Borrowed: these jobs are never passed to orch_rollout_cleanup. */
    for (i = 0; i < n; i++) {
        m->jobs[i].job_id = (char *)job_ids[i];
        m->jobs[i].device_count = devices ? devices[i] : 0;
    }
    m->n = n;
    return 0;
}

void orch_wavequery_memo_cleanup(struct orch_wavequery_memo *m)
{
    if (m == NULL)
        return;
    free(m->jobs);
    memset(m, 0, sizeof(*m));
}

/* The jobs to poll (not decided), their counts zeroed. */
static size_t undecided(struct orch_wavequery_memo *m, size_t *which)
{
    size_t i = 0, n = 0;

    for (i = 0; i < m->n; i++) {
        struct orch_rollout_job *j = &m->jobs[i];

        if (orch_gate_job_over(j))
            continue;
        orch_rollout_job_reset_listing(j);
        which[n++] = i;
    }
    return n;
}

int orch_wavequery_counts(const struct orch_config *cfg,
                          const struct orch_credentials *cred,
                          struct orch_wavequery_memo *m,
                          struct orch_gate_counts *c, size_t *failed_jobs,
                          volatile sig_atomic_t *interrupt,
                          struct orch_diag *diag)
{
    struct orch_taskagg agg;
    struct orch_tasklist tl;
    struct orch_dispatch_stats st;
    size_t *which = NULL;
    size_t i = 0;
    int rc = 0;

    memset(c, 0, sizeof(*c));
    memset(&tl, 0, sizeof(tl));
    *failed_jobs = 0;
    orch_taskagg_init(&agg);
    which = calloc(m->n ? m->n : 1, sizeof(*which));
    if (which == NULL)
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    tl.cfg = cfg;
    tl.cred = cred;
    tl.jobs = m->jobs;
    tl.which = which;
    tl.n = m->polled = undecided(m, which);
    tl.agg = &agg;
    rc = orch_tasklist_run(&tl, interrupt, &st, diag);
    if (rc == 0)
        rc = ask_states(cfg, cred, m->jobs, which, tl.n, interrupt, diag);
    if (rc == 0 && tl.n > 0 && (st.aborted || (interrupt && *interrupt)))
        rc =
            orch_diag_set(diag, ORCH_EABORT, "%s",
                          st.abort_reason[0] ? st.abort_reason : "interrupted");
    for (i = 0; rc == 0 && i < m->n; i++) {
        if (m->jobs[i].query_failed)
            (*failed_jobs)++;
        orch_gate_add_job(c, &m->jobs[i]);
    }
    orch_taskagg_cleanup(&agg);
    free(which);
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
