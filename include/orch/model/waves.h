/* waves.h - a rollout in waves: the split of the plan's chunks into waves
 * (by a --waves spec, wavespec.h) and the schedule of scheduled waves.
 * Pure functions (time is passed in). The gate between waves is
 * rollout/gate.h, its queries rollout/wavequery.h, the per-wave file
 * rollout/wavemap.h; the waves runner (commands/waverun.h) drives them and
 * journals each step.
 *
 * A wave is a contiguous range of the plan's chunks: the plan places
 * each device in its wave and orders chunks wave first (plan.h), so the
 * waves are the runs of chunks of one wave (orch_waves_from_plan). A wave
 * without devices (a target that adds none) adds no wave (the split says
 * how many were merged).
 *
 * Journals written before waves were cut per product used
 * orch_waves_split(): each target rounded UP to whole chunks, in plan
 * order (chunks grouped by product, in inventory order): wave k is chunks
 * [end(k-1), end(k)).
 */
#ifndef ORCH_WAVES_H
#define ORCH_WAVES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "orch/model/wavespec.h"

struct orch_chunk;
struct orch_diag;

/* ScheduleTime must be 5 minutes to 7 days after the call. */
#define ORCH_SCHEDULE_MIN_MS (5 * 60 * 1000LL)
#define ORCH_SCHEDULE_MAX_MS (7 * 24 * 3600 * 1000LL)
/* A wave is created only when its ScheduleTime is at least this much
 * inside the horizon, so that the calls (which take time) still land
 * inside it. */
#define ORCH_SCHEDULE_MARGIN_MS (10 * 60 * 1000LL)

struct orch_wave {
    size_t first, end;   /* chunks [first, end) */
    uint64_t devices;    /* devices of those chunks */
    uint64_t cumulative; /* devices of waves 1..this one */
    int64_t schedule_ms; /* ScheduleTime of its jobs, -1: immediate */
    int64_t finish_ms;   /* ScheduleFinishTime, -1: none */
};

struct orch_wave_plan {
    struct orch_wave w[ORCH_WAVES_MAX];
    size_t n;
    size_t merged; /* targets that rounded into the previous wave */
};

/* The waves of a plan whose chunks carry their wave (plan.h): one wave
 * per run of chunks of the same wave; nwaves is the plan's (the targets
 * or column values: those without chunks are counted as merged).
 * Returns 0, or ORCH_ECONFIG with diag when there are no chunks or more
 * than ORCH_WAVES_MAX waves. Schedules are left at -1. Pure. */
int orch_waves_from_plan(const struct orch_chunk *chunks, size_t nchunks,
                         size_t nwaves, struct orch_wave_plan *out,
                         struct orch_diag *diag);

/* Old journals: splits nchunks chunks into waves by spec (targets rounded up to whole
 * chunks). Returns 0, or ORCH_ECONFIG with diag when a device count of
 * the last target is below the plan's devices (the rollout would stop
 * short) or there are no chunks. Schedules are left at -1. Pure. */
int orch_waves_split(const struct orch_wave_spec *spec,
                     const struct orch_chunk *chunks, size_t nchunks,
                     struct orch_wave_plan *out, struct orch_diag *diag);

/* The wave chunk i belongs to (0-based), or plan->n when outside. */
size_t orch_waves_of_chunk(const struct orch_wave_plan *plan, size_t chunk);

/* Sets each wave's ScheduleTime and ScheduleFinishTime: wave 1 at
 * first_ms (-1: immediate, no ScheduleTime), wave k at
 * base_ms + (k-1) * interval_ms where base_ms is first_ms, or start_ms
 * when wave 1 is immediate; the finish (finish_ms, -1: none) shifts with
 * each wave by the same amount as its start. interval_ms <= 0 (gated
 * waves, each created when the gate before it passes): wave 1 at first_ms
 * with finish_ms, every later wave immediate (-1, -1). Pure. */
void orch_waves_schedule(struct orch_wave_plan *plan, int64_t first_ms,
                         int64_t finish_ms, int64_t interval_ms,
                         int64_t start_ms);

/* When a wave can be created at now_ms: */
enum orch_wave_when {
    ORCH_WAVE_NOW = 0, /* immediate, or ScheduleTime inside the horizon */
    ORCH_WAVE_LATER,   /* ScheduleTime beyond the 7-day horizon */
    ORCH_WAVE_OVERDUE  /* ScheduleTime less than 5 minutes away, or past */
};
/* *creatable_ms (may be NULL) gets the first time it can be created
 * (ScheduleTime - 7 days + margin) for LATER. Pure. */
enum orch_wave_when orch_waves_when(const struct orch_wave *w, int64_t now_ms,
                                    int64_t *creatable_ms);

#endif
