/* waves.h - a rollout in waves: the --waves spec, the split of the plan's
 * chunks into waves, the health gate between waves, the schedule of
 * scheduled waves, and the queries a gate needs (task counts, cancel).
 *
 * The spec, split, gate and schedule functions are pure (time is passed
 * in); orch_waves_poll / orch_waves_cancel send paced query batches
 * (query.h) and print nothing. run.c drives them and journals each step.
 *
 * Spec forms (cumulative targets, increasing, the last covers everything):
 *   "1%,10%,100%"    shares with a percent sign
 *   "0.01,0.1,1"     shares as fractions (a spec with a decimal point in
 *                    any element reads every bare number as a share)
 *   "200,5000,all"   device counts; "all" (or 100%) is the whole plan
 *   "200,10%,all"    counts and percentages may be mixed
 * Each target is rounded UP to whole chunks, in plan order (chunks are
 * grouped by product, in inventory order): wave k is chunks
 * [end(k-1), end(k)). A target that rounds to the chunks of the previous
 * wave adds no wave (the split says how many were merged).
 */
#ifndef ORCH_WAVES_H
#define ORCH_WAVES_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct orch_chunk;
struct orch_config;
struct orch_credentials;
struct orch_diag;

#define ORCH_WAVES_MAX 32
/* ScheduleTime must be 5 minutes to 7 days after the call. */
#define ORCH_SCHEDULE_MIN_MS (5 * 60 * 1000LL)
#define ORCH_SCHEDULE_MAX_MS (7 * 24 * 3600 * 1000LL)
/* A wave is created only when its ScheduleTime is at least this much
 * inside the horizon, so that the calls (which take time) still land
 * inside it. */
#define ORCH_SCHEDULE_MARGIN_MS (10 * 60 * 1000LL)

enum orch_wave_unit { ORCH_WAVE_SHARE = 0, ORCH_WAVE_DEVICES, ORCH_WAVE_ALL };

struct orch_wave_target {
    enum orch_wave_unit unit;
    double share;     /* ORCH_WAVE_SHARE: 0 < share <= 1 */
    uint64_t devices; /* ORCH_WAVE_DEVICES: >= 1 */
    char text[24];    /* as typed, for messages */
};

struct orch_wave_spec {
    struct orch_wave_target t[ORCH_WAVES_MAX];
    size_t n;
};

/* Parses a --waves spec (see above). Returns 0, or ORCH_ECONFIG with diag
 * "--waves: ..." (empty element, not a number, share above 100%, targets
 * not increasing, more than ORCH_WAVES_MAX waves, a last target that is
 * not the whole plan when it is a share). Pure. */
int orch_waves_parse(const char *spec, struct orch_wave_spec *out,
                     struct orch_diag *diag);

/* Parses a share: "95%" or "0.95" (0 < share <= 1; "0%"/"0" refused).
 * opt names the option in diag. 0 or ORCH_ECONFIG. Pure. */
int orch_share_parse(const char *opt, const char *s, double *out,
                     struct orch_diag *diag);

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

/* Splits nchunks chunks into waves by spec (targets rounded up to whole
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
    ORCH_WAVE_NOW = 0,   /* immediate, or ScheduleTime inside the horizon */
    ORCH_WAVE_LATER,     /* ScheduleTime beyond the 7-day horizon */
    ORCH_WAVE_OVERDUE    /* ScheduleTime less than 5 minutes away, or past */
};
/* *creatable_ms (may be NULL) gets the first time it can be created
 * (ScheduleTime - 7 days + margin) for LATER. Pure. */
enum orch_wave_when orch_waves_when(const struct orch_wave *w, int64_t now_ms,
                                    int64_t *creatable_ms);

/* ---- gates ---- */

struct orch_gate {
    double success;        /* share SUCCEEDED that passes (0..1] */
    double failure;        /* share FAILED among ended that fails; <= 0:
                              no failure gate */
    uint64_t min_decided;  /* ended tasks before `failure` applies */
    int64_t timeout_ms;    /* no decision after this long: TIMEOUT */
};

/* Task counts of one wave (sums over its jobs). */
struct orch_gate_counts {
    uint64_t tasks;     /* every task listed */
    uint64_t succeeded;
    uint64_t failed;
    uint64_t canceled;
    uint64_t pending;   /* QUEUED, NOTIFIED, IN_PROGRESS, CONFIRM */
    uint64_t expected;  /* devices of the wave's created jobs (tasks may
                           be listed late: the larger of the two counts) */
};

enum orch_gate_decision {
    ORCH_GATE_WAIT = 0,
    ORCH_GATE_PASS,
    ORCH_GATE_FAIL,      /* failure share reached, or success unreachable */
    ORCH_GATE_TIMEOUT
};

const char *orch_gate_decision_name(enum orch_gate_decision d);

/* The gate's clock, for orch_gate_decide's elapsed_ms: --wave-timeout
 * counts from when the wave's tasks can start, not from when its jobs
 * were created (a canary scheduled for 03:00 must not time out at 01:00).
 * watched_ms: how long the watch has run (monotonic); wall_at_start_ms:
 * the wall clock when it started; schedule_ms: the wave's ScheduleTime
 * (-1: none). Returns watched_ms minus the part of the watch spent before
 * the ScheduleTime: negative before it (the gate cannot time out then),
 * watched_ms without a ScheduleTime or with one already past when the
 * watch started (a resumed watch restarts its timeout). Pure. */
int64_t orch_gate_elapsed(int64_t watched_ms, int64_t wall_at_start_ms,
                          int64_t schedule_ms);

/* The gate's decision for counts after elapsed_ms of watching:
 *   FAIL when the failure gate applies (at least min(min_decided, total)
 *   tasks ended) and failed / ended >= failure, or when even every
 *   pending task succeeding could not reach `success` (the wave can no
 *   longer pass: waiting would only delay the abort);
 *   else PASS when succeeded / total >= success;
 *   else TIMEOUT when elapsed_ms >= timeout_ms; else WAIT.
 * total is max(tasks, expected); with total 0 (nothing to watch) the
 * gate passes. Writes a one-line explanation to why (may be NULL). Pure. */
enum orch_gate_decision orch_gate_decide(const struct orch_gate *g,
                                         const struct orch_gate_counts *c,
                                         int64_t elapsed_ms, char *why,
                                         size_t whysz);

/* ---- queries (I/O; print nothing) ---- */

/* Task counts of the jobs job_ids[0..n) (ListOTATaskByJob, every page,
 * at cfg->query_qps). Returns 0 (c filled; *failed_jobs: jobs that could
 * not be fully listed), ORCH_EINTR-like aborts as ORCH_EHTTP with diag
 * (credentials rejected, interrupted), or a setup error. */
int orch_waves_poll(const struct orch_config *cfg,
                    const struct orch_credentials *cred,
                    const char *const *job_ids, size_t n,
                    struct orch_gate_counts *c, size_t *failed_jobs,
                    volatile sig_atomic_t *interrupt, struct orch_diag *diag);

/* CancelOTATaskByJob for each job (queued, notified, scheduled and
 * unconfirmed tasks; not in-progress ones) at ORCH_CANCEL_QPS. *cancelled
 * counts the jobs cancelled or already finished, *failed the others.
 * Returns 0 or a setup / abort error with diag. */
int orch_waves_cancel(const struct orch_config *cfg,
                      const struct orch_credentials *cred,
                      const char *const *job_ids, size_t n, size_t *cancelled,
                      size_t *failed, volatile sig_atomic_t *interrupt,
                      struct orch_diag *diag);

/* ---- the per-wave sibling of the report ---- */

#define ORCH_WAVES_FILE_SUFFIX ".waves.csv"
#define ORCH_WAVES_FILE_HEADER "chunk,wave"

/* Writes "<report>.waves.csv": one row "chunk,wave" (both 1-based) per
 * chunk of the plan. 0 or ORCH_EIO / ORCH_ENOMEM with diag. */
int orch_waves_write_map(const char *report_path,
                         const struct orch_wave_plan *plan,
                         struct orch_diag *diag);

/* Reads "<report>.waves.csv" if it exists: *waves_of gets a malloced
 * array [*n] with the 1-based wave of chunk i+1 (0 if not listed).
 * Returns 0 (with *waves_of NULL and *n 0 when there is no file),
 * ORCH_ECSV for a malformed file, ORCH_ENOMEM. */
int orch_waves_read_map(const char *report_path, unsigned **waves_of,
                        size_t *n, struct orch_diag *diag);

#endif
