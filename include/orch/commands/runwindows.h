/* runwindows.h - `run --window`: the time zones of the plan's zone groups
 * and each chunk's ScheduleTime / ScheduleFinishTime in them.
 *
 * A zone group's window is computed when its chunks are created: the
 * first window of its zone that starts at least 5 minutes after `after`
 * (tzwindow.h): now for a run without waves and for a gated wave (after
 * its gate passed), the wave's nominal time for a scheduled wave
 * (--wave-interval). Nothing about a window is journaled: the next window
 * after a time is a function of the zone, the window and that time, so a
 * resume before the window started computes the same night again, and a
 * scheduled wave's nominal time comes from the journaled base.
 *
 * The state lives in struct orch_run (runctx.h: struct orch_runwin) and
 * is freed with it. Not thread-safe.
 */
#ifndef ORCH_RUNWINDOWS_H
#define ORCH_RUNWINDOWS_H

#include <stddef.h>
#include <stdint.h>

struct orch_config;
struct orch_run;
struct orch_wave_plan;
struct orch_winplan;

/* Loads the zones of the plan's zone groups when --window is given (once:
 * a second call does nothing). Returns ORCH_EXIT_OK, or
 * ORCH_EXIT_INVENTORY for an unknown zone (the reason names the option,
 * or the file and line), ORCH_EXIT_USAGE when out of memory. */
int orch_runwindows_setup(struct orch_run *ctx);

/* Sets the window of every zone group among chunks [first, end): the
 * first window starting at least 5 minutes after after_ms. *latest_ms
 * (may be NULL) gets the latest start among them (-1: no chunk). */
void orch_runwindows_schedule(struct orch_run *ctx, size_t first, size_t end,
                              int64_t after_ms, int64_t *latest_ms);

/* Scheduled waves (--wave-interval, their times set by
 * orch_waves_schedule): keeps each wave's time as its nominal time and
 * replaces it by the latest window start of its zone groups after it (and
 * the finish by the latest window end), so that the 7-day horizon is
 * judged on the real ScheduleTimes. Does nothing without windows. */
void orch_runwindows_reschedule(struct orch_run *ctx,
                                struct orch_wave_plan *plan);

/* Before wave k's chunks [first, end) are created at now_ms: the windows
 * of their zone groups, after the wave's nominal time (a scheduled wave
 * that is not overdue: overdue is schedule_ms < 0) or after now. Returns
 * the latest start (-1: no windows), which the gate's watch waits for. */
int64_t orch_runwindows_for_wave(struct orch_run *ctx, size_t k, size_t first,
                                 size_t end, int64_t schedule_ms,
                                 int64_t now_ms);

/* cfg with chunk i's ScheduleTime / ScheduleFinishTime, into *out (a
 * shallow copy of *cfg: its strings stay cfg's). Returns out, or cfg when
 * there are no windows. */
const struct orch_config *orch_runwindows_config(const struct orch_run *ctx,
                                                 const struct orch_config *cfg,
                                                 size_t chunk,
                                                 struct orch_config *out);

/* The schedule `plan` tells (winplan.h) as of now_ms: the plan's zone
 * groups, their zones and the waves; out->tz NULL without windows. */
void orch_runwindows_plan(const struct orch_run *ctx, int64_t now_ms,
                          struct orch_winplan *out);

#endif
