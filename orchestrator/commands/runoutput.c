/* runoutput.c - `run`'s report, failed, ambiguous and rejects files
 * (runoutput.h). */
#include "orch/commands/runoutput.h"

#include "orch/base/clock.h"
#include "orch/base/err.h"
#include "orch/base/exitcode.h"
#include "orch/commands/runctx.h"
#include "orch/commands/runsummary.h"
#include "orch/commands/runwaveacct.h"
#include "orch/rollout/outcome.h"
#include "orch/rollout/planrows.h"

int orch_runoutput_open_rejects(struct orch_run *ctx)
{
    struct orch_diag diag = {{0}};
    int rc = orch_runfiles_open_rejects(&ctx->files, &diag);

    if (rc)
        orch_reason_diag(&ctx->why, rc, &diag);
    return rc;
}

/* Rewrites the report and the failed-devices file whole, from every chunk
 * that has a result (earlier runs' and this one's), in chunk order; in a
 * waved run every other chunk of the plan gets its row too (planrows.h). */
static int rewrite_outputs(struct orch_run *ctx)
{
    struct orch_diag diag = {{0}};
    json_t **filled = NULL;
    int rc = 0;

    if (ctx->unsent_code != NULL) {
        filled = orch_planrows_fill(ctx->log.rows, ctx->nitems,
                                    ctx->unsent_code);
        if (filled == NULL) {
            orch_reason_errorf(&ctx->why, "out of memory");
            return ORCH_ENOMEM;
        }
    }
    rc = orch_runfiles_rewrite(&ctx->files, filled ? filled : ctx->log.rows,
                               ctx->nitems, &diag);
    orch_planrows_free(filled, ctx->nitems);

    if (rc)
        orch_reason_errorf(&ctx->why, "rewriting %s failed: %s",
                           ctx->cfg->report_path, orch_diag_text(rc, &diag));
    return rc;
}

int orch_runoutput_open(struct orch_run *ctx)
{
    struct orch_diag diag = {{0}};
    int rc = 0;

    /* A not_sent chunk that was sent is one whose outcome is unknown. */
    ctx->files.attempts = ctx->log.attempts;
    if (ctx->resuming)
        rc = rewrite_outputs(ctx);
    if (rc)
        return rc;
    rc = orch_runfiles_open(&ctx->files, ctx->resuming, &diag);
    if (rc && diag.msg[0])
        orch_reason_errorf(&ctx->why, "%s", diag.msg);
    return rc;
}

int orch_runoutput_checkpoint(struct orch_run *ctx)
{
    struct orch_diag diag = {{0}};
    int rc = 0;

    if (!ctx->files.report_open)
        return 0;
    orch_runlog_sync(&ctx->log);
    orch_runfiles_close_results(&ctx->files);
    rc = rewrite_outputs(ctx);
    if (rc)
        orch_runfiles_note(&ctx->files, rc);
    rc = orch_runfiles_open(&ctx->files, true, &diag);
    if (rc && diag.msg[0])
        orch_reason_errorf(&ctx->why, "%s", diag.msg);
    return rc;
}

int orch_runoutput_finish(struct orch_run *ctx, int code)
{
    struct orch_outcome_counts n;
    struct orch_summary_next nx;

    orch_runlog_sync(&ctx->log);
    orch_runfiles_close_results(&ctx->files);
    if (rewrite_outputs(ctx))
        orch_runfiles_note(&ctx->files, ORCH_EIO);
    orch_outcome_count(ctx->log.rows, ctx->nitems, &n);
    if (ctx->resuming)
        orch_summary_print_whole(ctx->hout, &n, ctx->nitems);
    orch_runwaveacct_print(ctx, ctx->hout);
    orch_runsummary_next(ctx, &nx);
    orch_summary_print_next(ctx->hout, &nx, ctx->cfg->report_path);
    if (code == ORCH_EXIT_OK && (n.failed > 0 || n.other > 0))
        code = ORCH_EXIT_PARTIAL;
    if (orch_runlog_end(&ctx->log, code, orch_wall_ms()) &&
        code == ORCH_EXIT_OK)
        code = ORCH_EXIT_PARTIAL;
    return code;
}

int orch_runoutput_close(struct orch_run *ctx)
{
    int rc = orch_runfiles_close(&ctx->files);

    if (rc)
        orch_reason_errorf(&ctx->why,
                           "writing the report files failed (%s): the "
                           "report may be incomplete",
                           orch_strerror(rc));
    return rc;
}
