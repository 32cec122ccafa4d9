/* runinventory.c - `run` and `plan`: inventory, plan and the refusals
 * about them (runinventory.h). */
#include "orch/commands/runinventory.h"

#include "orch/base/err.h"
#include "orch/base/exitcode.h"
#include "orch/base/msgs.h"
#include "orch/commands/runctx.h"
#include "orch/commands/runoverlap.h"
#include "orch/engine/journal.h"
#include "orch/model/invopts.h"
#include "orch/rollout/overlap.h"
#include "orch/rollout/report.h"
#include "orch/rollout/resumegate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A rejected inventory row: a row of the rejects file (--skip-invalid),
 * or one of the first few shown (plan). */
static int on_reject(void *ud, uint32_t line, const char *value,
                     const char *reason)
{
    struct orch_run *ctx = ud;

    return orch_runctx_left_out(ctx, &ctx->shown, line, value, reason);
}

/* Every invalid row (the first ORCH_INVENTORY_PROBLEMS_MAX, then a
 * count), in the rejects file's words, and the way past them. */
static void tell_problems(struct orch_run *ctx)
{
    const struct orch_inventory_problems *ps = &ctx->problems;
    char *rejects = orch_report_sibling(ctx->cfg->report_path, ".rejects.csv");
    char line[512];
    size_t i = 0;

    for (i = 0; i < ps->n; i++) {
        orch_inventory_problem_format(line, sizeof(line),
                                      ctx->cfg->inventory_path, &ps->first[i]);
        orch_reason_errorf(&ctx->why, "%s", line);
    }
    if (ps->total > ps->n)
        orch_reason_errorf(&ctx->why, "... and %zu more invalid row%s",
                           ps->total - ps->n,
                           ps->total - ps->n == 1 ? "" : "s");
    orch_reason_errorf(&ctx->why, "%s: %zu invalid row%s; nothing sent",
                       ctx->cfg->inventory_path, ps->total,
                       ps->total == 1 ? "" : "s");
    orch_notef("--skip-invalid writes them to %s and goes on with the "
               "other rows",
               rejects ? rejects : "<report>.rejects.csv");
    free(rejects);
}

int orch_runinventory_load(struct orch_run *ctx)
{
    const struct orch_config *cfg = ctx->cfg;
    struct orch_invopts io;
    struct orch_diag diag = {{0}};
    int rc = 0;

    rc = orch_invopts_init(&io, cfg, &diag);
    io.opts.on_reject = on_reject;
    io.opts.reject_ud = ctx;
    io.opts.problems = &ctx->problems;
    if (rc == 0)
        rc = orch_inventory_load(&ctx->inv, cfg->inventory_path, &io.opts,
                                 &diag);
    orch_invopts_cleanup(&io);
    if (rc == 0 && ctx->files.write_err)
        rc = ORCH_EIO;
    if (rc == 0)
        return ORCH_EXIT_OK;
    if (rc == ORCH_EINVENTORY && ctx->problems.total > 0)
        tell_problems(ctx);
    else
        orch_reason_diag(&ctx->why, rc, &diag);
    if (rc == ORCH_ECSV || rc == ORCH_EINVENTORY)
        return ORCH_EXIT_INVENTORY;
    return ORCH_EXIT_USAGE;
}

/* How --waves cuts the plan: a new run cuts each wave to its exact size,
 * per product; a resumed run cuts as its journal says (a journal without
 * the key was written when waves were rounded to whole chunks). */
static int choose_wave_cut(struct orch_run *ctx)
{
    struct orch_config *cfg = (struct orch_config *)ctx->cfg;
    const char *cut = NULL;
    char *copy = NULL;

    if (ctx->resuming)
        cut = json_string_value(json_object_get(
            json_object_get(ctx->rs.run, "shape"), "wave-cut"));
    else if (cfg->waves)
        cut = ORCH_WAVE_CUT_EXACT;
    if (cut && (copy = strdup(cut)) == NULL)
        return ORCH_ENOMEM;
    free(cfg->wave_cut);
    cfg->wave_cut = copy;
    return 0;
}

int orch_runinventory_plan(struct orch_run *ctx)
{
    struct orch_diag diag = {{0}};
    int rc = 0;

    if (!ctx->specific) {
        ctx->nitems = 1;
        return ORCH_EXIT_OK;
    }
    if (choose_wave_cut(ctx)) {
        orch_reason_errorf(&ctx->why, "out of memory");
        return ORCH_EXIT_USAGE;
    }
    rc = orch_plan_build(&ctx->plan, &ctx->inv, ctx->cfg, &diag);
    if (rc) {
        orch_reason_diag(&ctx->why, rc, &diag);
        /* The inventory's wave column does not fit --wave-order. */
        return rc == ORCH_ECSV ? ORCH_EXIT_INVENTORY : ORCH_EXIT_USAGE;
    }
    ctx->nitems = ctx->plan.nchunks;
    return ORCH_EXIT_OK;
}

int orch_runinventory_tables(struct orch_run *ctx)
{
    memset(&ctx->todo, 0, sizeof(ctx->todo));
    if (orch_runlog_alloc(&ctx->log, ctx->nitems))
        return ORCH_ENOMEM;
    orch_resumegate_count(ctx->resuming ? &ctx->rs : NULL, ctx->nitems,
                          ctx->log.attempts, ctx->log.rows, &ctx->todo);
    return 0;
}

int orch_runinventory_replan(struct orch_run *ctx)
{
    struct orch_diag diag = {{0}};
    int rc = 0;

    orch_plan_cleanup(&ctx->plan);
    if (choose_wave_cut(ctx)) {
        orch_reason_errorf(&ctx->why, "out of memory");
        return ORCH_EXIT_USAGE;
    }
    if (ctx->drop)
        rc = orch_plan_build_filtered(&ctx->plan, &ctx->inv, ctx->cfg,
                                      ctx->drop, &diag);
    else
        rc = orch_plan_build(&ctx->plan, &ctx->inv, ctx->cfg, &diag);
    if (rc) {
        orch_reason_diag(&ctx->why, rc, &diag);
        return ORCH_EXIT_USAGE;
    }
    ctx->nitems = ctx->plan.nchunks;
    if (ctx->log.rows && orch_runinventory_tables(ctx)) {
        orch_reason_errorf(&ctx->why, "out of memory");
        return ORCH_EXIT_USAGE;
    }
    return ORCH_EXIT_OK;
}

int orch_runinventory_hash(struct orch_run *ctx)
{
    struct orch_diag diag = {{0}};
    int rc = 0;

    if (!ctx->specific)
        return 0;
    ctx->inv_abs = realpath(ctx->cfg->inventory_path, NULL);
    if (ctx->inv_abs == NULL)
        ctx->inv_abs = strdup(ctx->cfg->inventory_path);
    if (ctx->inv_abs == NULL)
        return ORCH_ENOMEM;
    rc = orch_file_sha256(ctx->cfg->inventory_path, ctx->inv_sha, &diag);
    if (rc)
        orch_reason_diag(&ctx->why, rc, &diag);
    return rc;
}

int orch_runinventory_overlap(struct orch_run *ctx)
{
    const struct orch_config *cfg = ctx->cfg;
    struct orch_overlap *o = NULL;
    size_t n = 0, i = 0;
    bool refused = false;
    int rc = 0;

    rc = orch_overlap_find(&ctx->inv, cfg, cfg->inventory_path,
                           cfg->report_path, ctx->journal_path, &o, &n);
    if (rc) {
        orch_reason_errorf(&ctx->why, "out of memory");
        return ORCH_EXIT_USAGE;
    }
    for (i = 0; i < n; i++) {
        orch_runoverlap_tell(&ctx->why, cfg, &o[i]);
        refused = refused || orch_overlap_refuses(&o[i]);
    }
    orch_overlap_free_all(o, n);
    return refused && !cfg->force ? ORCH_EXIT_USAGE : ORCH_EXIT_OK;
}

int orch_runinventory_none(struct orch_run *ctx)
{
    if (ctx->inv.rows == 0)
        orch_reason_errorf(&ctx->why,
                           "%s: no devices (the inventory has a header and "
                           "no rows); nothing to do",
                           ctx->cfg->inventory_path);
    else
        orch_reason_errorf(&ctx->why,
                           "%s: no valid devices to upgrade; nothing sent",
                           ctx->cfg->inventory_path);
    return ORCH_EXIT_INVENTORY;
}
