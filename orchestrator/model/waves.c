/* waves.c - waves of a rollout: the split of the plan's chunks into
 * waves, and their schedule (waves.h).
 *
 * DESIGN: pure functions, driven by unit tests with numbers. What happens
 * between waves (the gate, its queries, a wave's cancel, the per-wave
 * sibling of the report) lives in rollout/ (gate.h, wavequery.h,
 * wavemap.h); the waves runner is commands/waverun.c.
 */
#include "orch/model/waves.h"

#include "orch/base/err.h"
#include "orch/model/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- split ------------------------------------------------------------- */

int orch_waves_split(const struct orch_wave_spec *spec,
                     const struct orch_chunk *chunks, size_t nchunks,
                     struct orch_wave_plan *out, struct orch_diag *diag)
{
    uint64_t total = 0, prev_target = 0, cum = 0;
    size_t i = 0, end = 0;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < nchunks; i++)
        total += chunks[i].count;
    if (nchunks == 0 || total == 0)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--waves: the plan has no devices");
    for (i = 0; i < spec->n; i++) {
        uint64_t target = 0;
        struct orch_wave *w = NULL;
        size_t first = end;

        if (orch_wave_target_devices(&spec->t[i], total, prev_target, &target,
                                     diag) != 0)
            return ORCH_ECONFIG;
        prev_target = target;
        while (end < nchunks && cum < target)
            cum += chunks[end++].count;
        if (end == first) {
            out->merged++;
            continue;
        }
        w = &out->w[out->n++];
        w->first = first;
        w->end = end;
        w->cumulative = cum;
        w->devices = cum - (out->n > 1 ? out->w[out->n - 2].cumulative : 0);
        w->schedule_ms = -1;
        w->finish_ms = -1;
    }
    if (end < nchunks)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--waves: the last wave (%s) covers %llu of the "
                             "plan's %llu devices; end the spec with all",
                             spec->t[spec->n - 1].text, (unsigned long long)cum,
                             (unsigned long long)total);
    return 0;
}

int orch_waves_from_plan(const struct orch_chunk *chunks, size_t nchunks,
                         size_t nwaves, struct orch_wave_plan *out,
                         struct orch_diag *diag)
{
    uint64_t cum = 0;
    size_t i = 0;

    memset(out, 0, sizeof(*out));
    if (nchunks == 0)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--waves: the plan has no devices");
    for (i = 0; i < nchunks; i++) {
        struct orch_wave *w = out->n ? &out->w[out->n - 1] : NULL;

        if (w == NULL || chunks[i].wave != chunks[w->first].wave) {
            if (out->n == ORCH_WAVES_MAX)
                return orch_diag_set(diag, ORCH_ECONFIG,
                                     "waves: more than %d waves",
                                     ORCH_WAVES_MAX);
            w = &out->w[out->n++];
            w->first = i;
            w->schedule_ms = -1;
            w->finish_ms = -1;
        }
        w->end = i + 1;
        w->devices += chunks[i].count;
        cum += chunks[i].count;
        w->cumulative = cum;
    }
    out->merged = nwaves > out->n ? nwaves - out->n : 0;
    return 0;
}

size_t orch_waves_of_chunk(const struct orch_wave_plan *plan, size_t chunk)
{
    size_t k = 0;

    for (k = 0; k < plan->n; k++) {
        if (chunk >= plan->w[k].first && chunk < plan->w[k].end)
            return k;
    }
    return plan->n;
}

/* ---- schedule ---------------------------------------------------------- */

void orch_waves_schedule(struct orch_wave_plan *plan, int64_t first_ms,
                         int64_t finish_ms, int64_t interval_ms,
                         int64_t start_ms)
{
    int64_t base = first_ms >= 0 ? first_ms : start_ms;
    size_t k = 0;

    for (k = 0; k < plan->n; k++) {
        struct orch_wave *w = &plan->w[k];

        /* Without an interval (gated waves) only wave 1 is scheduled: a
         * later wave is created when the gate before it passes, and starts
         * then. */
        if (k == 0)
            w->schedule_ms = first_ms;
        else if (interval_ms > 0)
            w->schedule_ms = base + (int64_t)k * interval_ms;
        else
            w->schedule_ms = -1;
        w->finish_ms = -1;
        if (finish_ms >= 0 && w->schedule_ms >= 0 && first_ms >= 0)
            w->finish_ms = finish_ms + (w->schedule_ms - first_ms);
    }
}

enum orch_wave_when orch_waves_when(const struct orch_wave *w, int64_t now_ms,
                                    int64_t *creatable_ms)
{
    int64_t latest = now_ms + ORCH_SCHEDULE_MAX_MS - ORCH_SCHEDULE_MARGIN_MS;

    if (creatable_ms)
        *creatable_ms = now_ms;
    if (w->schedule_ms < 0)
        return ORCH_WAVE_NOW;
    if (w->schedule_ms < now_ms + ORCH_SCHEDULE_MIN_MS)
        return ORCH_WAVE_OVERDUE;
    if (w->schedule_ms > latest) {
        if (creatable_ms)
            *creatable_ms =
                w->schedule_ms - ORCH_SCHEDULE_MAX_MS + ORCH_SCHEDULE_MARGIN_MS;
        return ORCH_WAVE_LATER;
    }
    return ORCH_WAVE_NOW;
}
