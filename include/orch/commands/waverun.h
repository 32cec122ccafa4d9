/* waverun.h - drives a waved rollout (and `run --wait`) on top of run.c:
 * creates each wave through the host's dispatch, watches its gate, aborts
 * (cancelling what has not started), pauses, and journals every step.
 *
 * This is an edge of the program, like run.c: it prints to the host's
 * human stream, its warnings through msgs.h and its errors through the
 * host's reason (reason.h), and installs the interrupt handler
 * (interrupt.h) while it runs: a Ctrl-C while it watches stops watching
 * and leaves the run paused, resumable; one while a wave's Creates are
 * sent is the host's dispatch's to handle (the installs nest).
 *
 * Gated waves (no --wave-interval): wave k is created, then watched until
 * its gate decides: pass -> wave k+1; fail -> every job created so far
 * gets CancelOTATaskByJob (queued, notified, scheduled, unconfirmed
 * tasks), exit ORCH_EXIT_GATE; timeout -> journaled pause, exit
 * ORCH_EXIT_PAUSED. The last wave's gate is watched only with --wait.
 * --schedule-time (and --schedule-finish-time) apply to wave 1 only: its
 * jobs carry that ScheduleTime, its watch sleeps until then and its
 * --wave-timeout counts from then (orch_gate_elapsed); later waves start
 * when they are created, after their gates.
 * Scheduled waves (--wave-interval): every wave is created now with its
 * ScheduleTime, no gates; a wave beyond the 7-day horizon is journaled as
 * deferred (with the time it becomes creatable) and the run exits
 * ORCH_EXIT_PAUSED; `--resume` from then on creates it.
 * Resume: waves whose gate passed are skipped; a paused wave is watched
 * again (its timeout restarts); after a gate abort, --resume refuses
 * unless --force, which overrides the failed gate (journaled) and goes on
 * with the next wave.
 */
#ifndef ORCH_WAVERUN_H
#define ORCH_WAVERUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

struct orch_config;
struct orch_credentials;
struct orch_reason;
struct orch_resume;
struct orch_wave_plan;

struct orch_waverun_host {
    const struct orch_config *cfg;
    const struct orch_credentials *cred;
    struct orch_wave_plan *plan;   /* NULL: --wait without waves */
    size_t nitems;                 /* chunks of the plan */
    const struct orch_resume *rs;  /* the earlier run's journal, NULL on a
                                      fresh run */
    FILE *out;                     /* human messages (progress, summaries) */
    struct orch_reason *why;       /* the error lines; the last one is the
                                      run's exit reason (borrowed) */
    void *ud;
    /* Creates the chunks [first, end) not created yet, with that
     * ScheduleTime / ScheduleFinishTime (-1: none). Returns an exit code:
     * ORCH_EXIT_OK, or ORCH_EXIT_ABORTED / ORCH_EXIT_USAGE to stop. */
    int (*create)(void *ud, size_t first, size_t end, int64_t schedule_ms,
                  int64_t finish_ms);
    /* Chunks of [first, end) without a final result (to create). */
    size_t (*unfinished)(void *ud, size_t first, size_t end);
    /* JobId of chunk i when it was created, else NULL. */
    const char *(*job_id)(void *ud, size_t chunk);
    /* Devices of chunk i. */
    uint32_t (*devices)(void *ud, size_t chunk);
    /* Appends one record (the callee takes the reference) and syncs.
     * 0 or an ORCH_E* code. */
    int (*journal)(void *ud, json_t *rec);
    /* May be NULL. Called once scheduled waves have their times
     * (--wave-interval): the host may move each wave's schedule_ms and
     * finish_ms later (maintenance windows), before the 7-day horizon is
     * judged on them. */
    void (*reschedule)(void *ud, struct orch_wave_plan *plan);
};

/* Runs the waves (or the --wait watch). Returns the exit code. */
int orch_waverun(const struct orch_waverun_host *h);

/* Prints the waves (chunks, devices, ScheduleTime in UTC and local time)
 * for the plan summary; start_ms is the base of an immediate first wave. */
void orch_waverun_print_plan(FILE *fp, const struct orch_config *cfg,
                             const struct orch_wave_plan *plan);

/* "2026-12-01 03:00:00 UTC (2026-12-01 11:00:00 +0800 local)". */
void orch_waverun_format_time(char *out, size_t outsz, int64_t ms);

#endif
