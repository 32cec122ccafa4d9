/* runwaves.c - the run as the waves runner's host (runwaves.h). */
#include "orch/commands/runwaves.h"

#include "orch/base/clock.h"
#include "orch/base/err.h"
#include "orch/base/exitcode.h"
#include "orch/base/msgs.h"
#include "orch/commands/runctx.h"
#include "orch/commands/rundispatch.h"
#include "orch/commands/runwindows.h"
#include "orch/commands/runoutput.h"
#include "orch/commands/waverun.h"
#include "orch/rollout/outcome.h"
#include "orch/rollout/planrows.h"
#include "orch/rollout/wavemap.h"

#include <string.h>

int orch_runwaves_setup(struct orch_run *ctx)
{
    const struct orch_config *cfg = ctx->cfg;
    struct orch_wave_spec spec;
    struct orch_diag diag = {{0}};
    int64_t base = 0;
    int rc = 0;
    int code = orch_runwindows_setup(ctx);

    if (code)
        return code;
    if (!orch_config_waved(cfg) || !ctx->specific)
        return ORCH_EXIT_OK;
    if (cfg->wave_cut == NULL && cfg->waves) {
        /* A journal of waves rounded to whole chunks (waves.h). */
        rc = orch_waves_parse(cfg->waves, &spec, &diag);
        if (rc == 0)
            rc = orch_waves_split(&spec, ctx->plan.chunks, ctx->plan.nchunks,
                                  &ctx->wp, &diag);
    } else {
        rc = orch_waves_from_plan(ctx->plan.chunks, ctx->plan.nchunks,
                                  ctx->plan.nwaves, &ctx->wp, &diag);
    }
    if (rc) {
        orch_reason_diag(&ctx->why, rc, &diag);
        return ORCH_EXIT_USAGE;
    }
    /* The schedule as it will be (the runner recomputes it from the
     * journal's base when it creates the waves). */
    base = ctx->rs.wave_base_ms > 0 ? ctx->rs.wave_base_ms : orch_wall_ms();
    if (cfg->wave_interval_ms > 0) {
        orch_waves_schedule(&ctx->wp, cfg->schedule_time_ms,
                            cfg->schedule_finish_time_ms,
                            cfg->wave_interval_ms, base);
        orch_runwindows_reschedule(ctx, &ctx->wp);
    }
    ctx->waved = true;
    ctx->unsent_code = orch_planrows_code(ctx->resuming ? ctx->rs.last_wave
                                                        : NULL);
    return ORCH_EXIT_OK;
}

/* ---- the host's callbacks (waverun.h) ---------------------------------- */

static int wave_create(void *ud, size_t first, size_t end, int64_t schedule_ms,
                       int64_t finish_ms)
{
    struct orch_run *ctx = ud;
    size_t k = orch_waves_of_chunk(&ctx->wp, first);
    int64_t latest = 0;
    int code = 0;

    /* With windows each zone group's chunks get their own schedule
     * (build_item); the wave's watch waits for the last one to start. */
    latest = orch_runwindows_for_wave(ctx, k, first, end, schedule_ms,
                                      orch_wall_ms());
    if (latest >= 0 && k < ctx->wp.n) {
        ctx->wp.w[k].schedule_ms = latest;
        schedule_ms = finish_ms = -1;
    }
    ctx->wave_cfg = *ctx->cfg;
    ctx->wave_cfg.schedule_time_ms = schedule_ms;
    ctx->wave_cfg.schedule_finish_time_ms = finish_ms;
    ctx->wave_lo = first;
    ctx->wave_hi = end;
    ctx->in_wave = true;
    code = orch_rundispatch_run(ctx, ctx->wave_cred);
    ctx->in_wave = false;
    /* The report covers the whole plan while the next wave waits. */
    if (orch_runoutput_checkpoint(ctx) && code == ORCH_EXIT_OK)
        code = ORCH_EXIT_USAGE;
    return code;
}

static size_t wave_unfinished(void *ud, size_t first, size_t end)
{
    struct orch_run *ctx = ud;
    size_t i = 0, n = 0;

    for (i = first; i < end && i < ctx->nitems; i++) {
        const char *st = ctx->log.rows[i]
                             ? orch_outcome_str(ctx->log.rows[i], "status")
                             : NULL;

        if (st == NULL || strcmp(st, "not_sent") == 0)
            n++;
    }
    return n;
}

static const char *wave_job_id(void *ud, size_t chunk)
{
    struct orch_run *ctx = ud;

    if (chunk >= ctx->nitems)
        return NULL;
    return orch_outcome_job_id(ctx->log.rows[chunk]);
}

static uint32_t wave_devices(void *ud, size_t chunk)
{
    struct orch_run *ctx = ud;

    return ctx->specific && chunk < ctx->plan.nchunks
               ? ctx->plan.chunks[chunk].count
               : 0;
}

static int wave_journal(void *ud, json_t *rec)
{
    struct orch_run *ctx = ud;

    ctx->unsent_code = orch_planrows_code(rec);
    if (ctx->wave_log == NULL)
        ctx->wave_log = json_array();
    if (ctx->wave_log)
        json_array_append(ctx->wave_log, rec);
    orch_runlog_add(&ctx->log, rec);
    if (ctx->log.err)
        return ctx->log.err;
    return orch_runlog_sync(&ctx->log);
}

static void wave_reschedule(void *ud, struct orch_wave_plan *plan)
{
    orch_runwindows_reschedule(ud, plan);
}

static void set_host(struct orch_run *ctx, const struct orch_credentials *cred,
                     struct orch_waverun_host *h)
{
    memset(h, 0, sizeof(*h));
    h->cfg = ctx->cfg;
    h->cred = cred;
    h->plan = ctx->waved ? &ctx->wp : NULL;
    h->nitems = ctx->nitems;
    h->rs = ctx->resuming ? &ctx->rs : NULL;
    h->out = ctx->hout;
    h->why = &ctx->why;
    h->ud = ctx;
    h->create = wave_create;
    h->unfinished = wave_unfinished;
    h->job_id = wave_job_id;
    h->devices = wave_devices;
    h->journal = wave_journal;
    h->reschedule = wave_reschedule;
}

int orch_runwaves_run(struct orch_run *ctx,
                      const struct orch_credentials *cred)
{
    struct orch_waverun_host h;
    struct orch_diag diag = {{0}};
    int code = ORCH_EXIT_OK;

    if (ctx->waved &&
        orch_wavemap_write(ctx->cfg->report_path, &ctx->wp, &diag) != 0)
        orch_warnf("%s (status will not show per-wave counts)",
                   diag.msg[0] ? diag.msg : "cannot write the waves file");
    set_host(ctx, cred, &h);
    ctx->wave_cred = cred;
    /* The earlier runs' wave records, for the end's account. */
    if (ctx->waved && ctx->wave_log == NULL && ctx->resuming && ctx->rs.waves)
        ctx->wave_log = json_copy(ctx->rs.waves);
    if (!ctx->waved && ctx->todo.to_send + ctx->todo.to_reconcile > 0)
        code = orch_rundispatch_run(ctx, cred);
    if (code == ORCH_EXIT_OK)
        code = orch_waverun(&h);
    return code;
}
