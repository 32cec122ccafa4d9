/* query.c - the status/cancel configuration check, and paced, retried
 * batches of query calls.
 *
 * DESIGN: orch_query_run() is orch_dispatch_run() with the run's engine
 * options at the query action's quota, and ops.idempotent set: an answer
 * lost in transit is simply asked again. What status and cancel read
 * around it (the rollout from its report, the task states, the page
 * parameters) lives in rollout/rollout.h and cloud/api.h. It still takes
 * the whole config for its engine options and cfg->progress: it could take
 * a struct orch_engine_opts and a progress flag once its callers do.
 * Pacing is the dispatcher's lanes (pacer.h): a batch right after another
 * of the same action, in this process or another one with the same
 * AccessKeyId, continues its spacing.
 */
#include "orch/engine/query.h"

#include "orch/model/config.h"
#include "orch/engine/dispatch.h"
#include "orch/engine/engine_opts.h"
#include "orch/base/err.h"
#include "orch/base/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------ configuration */

int orch_query_config_validate(struct orch_config *cfg, struct orch_diag *diag)
{
    bool status = cfg->command == ORCH_CMD_STATUS;
    const char *cmd = status ? "status" : "cancel";
    int rc = 0;

    if (cfg->command != ORCH_CMD_STATUS && cfg->command != ORCH_CMD_CANCEL)
        return orch_diag_set(diag, ORCH_ECONFIG, "not status or cancel");
    if (cfg->inventory_path == NULL)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "%s: no REPORT.csv given (the report `run` "
                             "wrote)",
                             cmd);
    if (!status && (cfg->watch || cfg->devices_path || cfg->interval_ms))
        return orch_diag_set(diag, ORCH_ECONFIG, "%s: only with status",
                             cfg->watch          ? "--watch"
                             : cfg->devices_path ? "--devices"
                                                 : "--interval");
    if (status && cfg->cancel_in_progress)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--in-progress: only with cancel");
    if (status && cfg->interval_ms && !cfg->watch)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--interval: only with --watch");
    if (status && cfg->interval_ms == 0)
        cfg->interval_ms = 10000;
    if (status && cfg->interval_ms < 1000)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--interval: must be at least 1 s (got %g s)",
                             cfg->interval_ms / 1000.0);
    if (status && cfg->interval_ms > 86400000L)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--interval: must be at most 86400 s (got %g s)",
                             cfg->interval_ms / 1000.0);
    if (cfg->devices_path && cfg->devices_path[0] == '\0')
        return orch_diag_set(diag, ORCH_ECONFIG, "--devices: empty file name");
    if (cfg->resume)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--resume: not for %s (%s is resumable by "
                             "itself)",
                             cmd, cmd);
    rc = orch_config_check_api(cfg, diag);
    if (rc == ORCH_ENOMEM)
        orch_diag_set(diag, rc, "out of memory");
    return rc;
}

/* ------------------------------------------------------- query batches */

struct batch_ctx {
    const struct orch_query_batch *b;
    bool progress;
    size_t progress_len;
};

static void batch_progress(void *ud, size_t finished, size_t total)
{
    struct batch_ctx *bc = ud;
    int n = 0;

    if (!bc->progress)
        return;
    n = fprintf(stderr, "\r%s %zu/%zu", bc->b->label, finished, total);
    if (n > 0 && (size_t)n < bc->progress_len)
        fprintf(stderr, "%*s", (int)(bc->progress_len - (size_t)n), "");
    if (n > 0)
        bc->progress_len = (size_t)n;
    fflush(stderr);
}

static int batch_build(void *ud, size_t item, struct orch_params *out)
{
    struct batch_ctx *bc = ud;

    return bc->b->build(bc->b->ud, item, out);
}

static void batch_done(void *ud, size_t item,
                       const struct orch_item_result *res)
{
    struct batch_ctx *bc = ud;

    bc->b->done(bc->b->ud, item, res);
}

struct orch_query_batch orch_query_batch_at_quota(
    const struct orch_config *cfg, const char *action, size_t nitems,
    int (*build)(void *ud, size_t item, struct orch_params *out),
    void (*done)(void *ud, size_t item, const struct orch_item_result *res),
    void *ud, const char *label)
{
    struct orch_query_batch b;

    memset(&b, 0, sizeof(b));
    b.action = action;
    b.qps = cfg->query_qps;
    b.nitems = nitems;
    b.build = build;
    b.done = done;
    b.ud = ud;
    b.label = label;
    return b;
}

int orch_query_run(const struct orch_config *cfg,
                   const struct orch_credentials *cred,
                   const struct orch_query_batch *batch,
                   volatile sig_atomic_t *interrupt,
                   struct orch_dispatch_stats *stats, struct orch_diag *diag)
{
    struct orch_engine_opts eo;
    struct orch_dispatch_ops ops;
    struct batch_ctx bc;
    int rc = 0;

    memset(stats, 0, sizeof(*stats));
    if (batch->nitems == 0)
        return 0;
    orch_engine_opts_from_config(&eo, cfg);
    eo.qps = batch->qps;
    orch_engine_opts_set_quota_key(&eo, cred);
    memset(&bc, 0, sizeof(bc));
    bc.b = batch;
    bc.progress = batch->label && cfg->progress && isatty(STDERR_FILENO);
    memset(&ops, 0, sizeof(ops));
    ops.action = batch->action;
    ops.nitems = batch->nitems;
    ops.build = batch_build;
    ops.done = batch_done;
    ops.progress = batch_progress;
    ops.ud = &bc;
    ops.idempotent = true;
    rc = orch_dispatch_run(&eo, cred, &ops, interrupt, stats, diag);
    if (bc.progress && bc.progress_len)
        fprintf(stderr, "\r%*s\r", (int)bc.progress_len, "");
    return rc;
}
