/* winplan.h - the maintenance-window schedule of a plan (--window): for
 * each wave and zone, its devices and jobs and the window its jobs will
 * get (ScheduleTime / ScheduleFinishTime, in the zone's local time and in
 * UTC), for `plan` to tell (text) and `plan --json` ("schedule").
 *
 * The window of a wave in a zone is the one runwindows.h gives its
 * chunks: the first window starting at least 5 minutes after the plan's
 * time (no waves, the first wave, a wave whose --wave-interval time has
 * passed) or after the wave's nominal time (--wave-interval). A gated
 * wave after the first is created when the gate before it passes: its
 * window is the next one after that, not known yet, and is told so.
 * A wave whose window is beyond the API's 7-day horizon is deferred, as
 * `run` defers it (waves.h: orch_waves_when on the latest window start
 * of the wave's zones; the waves after it wait with it), and is told so.
 *
 * struct orch_winplan is a caller-owned value of borrowed pointers (no
 * allocation); everything here is pure. Not thread-safe only in that fp
 * is the caller's.
 */
#ifndef ORCH_WINPLAN_H
#define ORCH_WINPLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "orch/model/tzwindow.h"

struct orch_plan;
struct orch_tz;
struct orch_wave_plan;

struct orch_winplan {
    const struct orch_plan *plan;      /* borrowed */
    const struct orch_wave_plan *waves; /* borrowed; NULL: no waves */
    bool gated;                 /* waves after the first wait for a gate
                                   (no --wave-interval) */
    struct orch_tz *const *tz;  /* [nzones] zone group z's zone; NULL: no
                                   windows */
    size_t nzones;
    struct orch_window window;
    const int64_t *nominal_ms;  /* [waves->n] a scheduled wave's time
                                   before its windows (-1: none), or NULL */
    int64_t now_ms;             /* the plan's time */
};

/* One wave in one zone. */
struct orch_winplan_row {
    size_t wave;        /* 0-based (0 without waves) */
    uint32_t zone;
    uint64_t devices;
    size_t jobs;
    bool after_gate;    /* its window follows the gate: no times */
    int64_t start_ms;   /* ScheduleTime, -1 after the gate */
    int64_t end_ms;     /* ScheduleFinishTime, -1 after the gate */
    bool deferred;      /* its wave is not created by `run`: the wave's
                           latest window start (its ScheduleTime), or an
                           earlier wave's, is beyond the API's 7-day
                           horizon (waves.h: orch_waves_when LATER); a
                           later `resume` creates it */
};

/* The time a wave's windows are looked for after: its nominal time less
 * the 5 minutes' lead while that is still ahead of now_ms (so that the
 * window starts at or after the nominal time), else now_ms. nominal_ms
 * < 0: now_ms. */
int64_t orch_winplan_after(int64_t nominal_ms, int64_t now_ms);

/* The rows, wave by wave and zone by zone, of the zones that have jobs
 * in that wave: up to cap into rows. Returns how many there are (may be
 * more than cap). */
size_t orch_winplan_rows(const struct orch_winplan *wpl,
                         struct orch_winplan_row *rows, size_t cap);

/* "schedule (window 02:00-05:00, local time of each zone):" and one line
 * per row: "  wave 1 "canary", Europe/Berlin: 3 devices in 1 job:
 * 2027-03-28 02:00 +01:00 to 2027-03-28 05:00 +01:00 (UTC
 * 2027-03-28T01:00:00Z to 2027-03-28T04:00:00Z)", or "...: the next
 * window after the gate passes"; a deferred row ends in " - deferred:
 * beyond the API's 7-day horizon, `resume` creates it". Nothing without
 * windows. */
void orch_winplan_print(FILE *fp, const struct orch_winplan *wpl);

/* [{"wave":1|null,"name":"canary"|null,"time_zone":"Europe/Berlin",
 *   "devices":3,"jobs":1,"after":"plan"|"wave_interval"|"gate",
 *   "start":"2027-03-28T01:00:00Z"|null,"end":...|null,
 *   "start_local":"2027-03-28T02:00:00+01:00"|null,"end_local":...|null,
 *   "deferred":false|true},
 *  ...] ("wave" null without waves). New reference; NULL on ENOMEM or
 * without windows. */
json_t *orch_winplan_json(const struct orch_winplan *wpl);

#endif
