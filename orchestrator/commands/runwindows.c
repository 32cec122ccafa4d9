/* runwindows.c - maintenance windows of a run (runwindows.h). */
#include "orch/commands/runwindows.h"

#include "orch/base/err.h"
#include "orch/base/exitcode.h"
#include "orch/commands/runctx.h"
#include "orch/model/tzwindow.h"
#include "orch/model/waves.h"
#include "orch/rollout/winplan.h"

#include <stdlib.h>
#include <string.h>

static int out_of_memory(struct orch_run *ctx)
{
    orch_reason_errorf(&ctx->why, "out of memory");
    return ORCH_EXIT_USAGE;
}

int orch_runwindows_setup(struct orch_run *ctx)
{
    const struct orch_config *cfg = ctx->cfg;
    struct orch_runwin *rw = &ctx->win;
    struct orch_diag diag = {{0}};
    size_t n = 0;
    int rc = 0;

    if (cfg->window == NULL || !ctx->specific || rw->zones.tz != NULL)
        return ORCH_EXIT_OK;
    if (orch_window_parse(cfg->window, &rw->window, &diag) != 0) {
        orch_reason_diag(&ctx->why, ORCH_ECONFIG, &diag);
        return ORCH_EXIT_USAGE;
    }
    for (rc = 0; rc < ORCH_WAVES_MAX; rc++)
        rw->nominal_ms[rc] = -1;
    rc = orch_tzzones_load(&rw->zones, cfg, &ctx->inv, NULL, &diag);
    if (rc == ORCH_ENOMEM)
        return out_of_memory(ctx);
    if (rc) {
        orch_tzzones_cleanup(&rw->zones);
        orch_reason_diag(&ctx->why, rc, &diag);
        return rc == ORCH_ECONFIG ? ORCH_EXIT_USAGE : ORCH_EXIT_INVENTORY;
    }
    n = rw->zones.n ? rw->zones.n : 1;
    rw->start_ms = calloc(n, sizeof(*rw->start_ms));
    rw->end_ms = calloc(n, sizeof(*rw->end_ms));
    if (rw->start_ms == NULL || rw->end_ms == NULL)
        return out_of_memory(ctx);
    return ORCH_EXIT_OK;
}

void orch_runwindows_schedule(struct orch_run *ctx, size_t first, size_t end,
                              int64_t after_ms, int64_t *latest_ms)
{
    struct orch_runwin *rw = &ctx->win;
    int64_t latest = -1;
    size_t i = 0;

    for (i = first; rw->zones.tz && i < end && i < ctx->plan.nchunks; i++) {
        uint32_t z = ctx->plan.chunks[i].zone;

        if (z >= rw->zones.n)
            continue;
        orch_window_next(rw->zones.tz[z], &rw->window, after_ms,
                         &rw->start_ms[z], &rw->end_ms[z]);
        if (rw->start_ms[z] > latest)
            latest = rw->start_ms[z];
    }
    if (latest_ms)
        *latest_ms = latest;
}

/* The latest end among the zone groups of chunks [first, end). */
static int64_t latest_end(const struct orch_run *ctx, size_t first,
                          size_t end)
{
    const struct orch_runwin *rw = &ctx->win;
    int64_t latest = -1;
    size_t i = 0;

    for (i = first; i < end && i < ctx->plan.nchunks; i++) {
        uint32_t z = ctx->plan.chunks[i].zone;

        if (z < rw->zones.n && rw->end_ms[z] > latest)
            latest = rw->end_ms[z];
    }
    return latest;
}

void orch_runwindows_reschedule(struct orch_run *ctx,
                                struct orch_wave_plan *plan)
{
    struct orch_runwin *rw = &ctx->win;
    size_t k = 0;

    for (k = 0; rw->zones.tz && k < plan->n; k++) {
        struct orch_wave *w = &plan->w[k];
        int64_t latest = -1;

        rw->nominal_ms[k] = w->schedule_ms;
        if (w->schedule_ms < 0)
            continue;
        orch_runwindows_schedule(ctx, w->first, w->end,
                                 w->schedule_ms - ORCH_WINDOW_LEAD_MS,
                                 &latest);
        w->schedule_ms = latest;
        w->finish_ms = latest_end(ctx, w->first, w->end);
    }
}

int64_t orch_runwindows_for_wave(struct orch_run *ctx, size_t k, size_t first,
                                 size_t end, int64_t schedule_ms,
                                 int64_t now_ms)
{
    struct orch_runwin *rw = &ctx->win;
    int64_t after = now_ms, latest = -1;

    if (rw->zones.tz == NULL)
        return -1;
    if (schedule_ms >= 0 && k < ORCH_WAVES_MAX)
        after = orch_winplan_after(rw->nominal_ms[k], now_ms);
    orch_runwindows_schedule(ctx, first, end, after, &latest);
    return latest;
}

const struct orch_config *orch_runwindows_config(const struct orch_run *ctx,
                                                 const struct orch_config *cfg,
                                                 size_t chunk,
                                                 struct orch_config *out)
{
    const struct orch_runwin *rw = &ctx->win;
    uint32_t z = 0;

    if (rw->zones.tz == NULL || chunk >= ctx->plan.nchunks)
        return cfg;
    z = ctx->plan.chunks[chunk].zone;
    if (z >= rw->zones.n)
        return cfg;
    *out = *cfg;
    out->schedule_time_ms = rw->start_ms[z];
    out->schedule_finish_time_ms = rw->end_ms[z];
    return out;
}

void orch_runwindows_plan(const struct orch_run *ctx, int64_t now_ms,
                          struct orch_winplan *out)
{
    const struct orch_runwin *rw = &ctx->win;

    memset(out, 0, sizeof(*out));
    if (rw->zones.tz == NULL || !ctx->specific)
        return;
    out->plan = &ctx->plan;
    out->waves = ctx->waved ? &ctx->wp : NULL;
    out->gated = ctx->cfg->wave_interval_ms <= 0;
    out->tz = rw->zones.tz;
    out->nzones = rw->zones.n < ctx->plan.nzones ? rw->zones.n
                                                 : ctx->plan.nzones;
    out->window = rw->window;
    out->nominal_ms = rw->nominal_ms;
    out->now_ms = now_ms;
}
