/* runctx.c - the state of one `run` or `plan` command (runctx.h). */
#include "orch/commands/runctx.h"
#include "orch/model/tzdb.h"

#include "orch/base/clock.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ABORT_ENV "OTA_ROLLOUT_TEST_ABORT_AFTER_RECORDS"

/* Where the human summaries go and how progress is drawn. With
 * --log-format json stderr carries JSON lines only (the messages: main.c
 * sets orch_msgs_set_json for every command); the human summaries go
 * nowhere. */
static void choose_streams(struct orch_run *ctx)
{
    const struct orch_config *cfg = ctx->cfg;
    bool tty = isatty(STDERR_FILENO);

    ctx->json_log = cfg->log_format == ORCH_LOG_FORMAT_JSON;
    ctx->hout = ctx->json_log ? fopen("/dev/null", "w") : stderr;
    if (ctx->hout == NULL)
        ctx->hout = stderr;
    ctx->progress = cfg->progress && !ctx->json_log && tty;
    ctx->progress_plain = cfg->progress && !ctx->json_log && !tty;
}

struct orch_run *orch_runctx_new(const struct orch_config *cfg)
{
    struct orch_run *ctx = calloc(1, sizeof(*ctx));
    const char *abort_env = getenv(ABORT_ENV);

    if (ctx == NULL)
        return NULL;
    ctx->cfg = cfg;
    ctx->specific = cfg->target == ORCH_TARGET_SPECIFIC;
    orch_runfiles_init(&ctx->files, cfg->report_path,
                       ctx->specific ? &ctx->plan : NULL, cfg->product_key,
                       cfg->firmware_id);
    orch_runlog_init(&ctx->log, &ctx->files,
                     abort_env && *abort_env ? strtoull(abort_env, NULL, 10)
                                             : 0);
    ctx->t0_ms = orch_mono_ms();
    orch_preflight_result_init(&ctx->pf);
    choose_streams(ctx);
    ctx->rs.valid_len = (size_t)-1;
    orch_inventory_init(&ctx->inv);
    return ctx;
}

static void free_windows(struct orch_runwin *rw)
{
    orch_tzzones_cleanup(&rw->zones);
    free(rw->start_ms);
    free(rw->end_ms);
}

void orch_runctx_free(struct orch_run *ctx)
{
    if (ctx == NULL)
        return;
    orch_runlog_cleanup(&ctx->log);
    orch_resume_cleanup(&ctx->rs);
    json_decref(ctx->wave_log);
    free(ctx->journal_path);
    free(ctx->inv_abs);
    orch_preflight_result_cleanup(&ctx->pf);
    free(ctx->drop);
    free_windows(&ctx->win);
    if (ctx->hout && ctx->hout != stderr)
        fclose(ctx->hout);
    if (ctx->specific)
        orch_plan_cleanup(&ctx->plan);
    orch_inventory_cleanup(&ctx->inv);
    free(ctx);
}

bool orch_runctx_to_do(const struct orch_run *ctx, size_t i)
{
    int64_t since = 0;

    return !ctx->resuming ||
           orch_resume_action(&ctx->rs, i, &since) != ORCH_RESUME_SKIP;
}

const char *orch_runctx_rejects_path(const struct orch_run *ctx)
{
    return ctx->files.rejects_open ? ctx->files.rejects.path : NULL;
}

const struct orch_device_check_stats *
orch_runctx_devcheck(const struct orch_run *ctx)
{
    return ctx->devcheck_ran || ctx->drop_from_journal ? &ctx->devst : NULL;
}

int orch_runctx_left_out(struct orch_run *ctx, struct orch_summary_rows *shown,
                         uint32_t line, const char *value, const char *reason)
{
    if (ctx->files.rejects_open)
        return orch_runfiles_reject(&ctx->files, line, value, reason) ? 1
                                                                      : 0;
    orch_summary_rows_add(shown, line, value, reason);
    return 0;
}
