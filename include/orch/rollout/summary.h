/* summary.h - what `run` and `plan` tell people and machines about a plan
 * and a run: the plan summary before any call, the pre-flight's and the
 * device check's results, the resume state, the final summary after the
 * calls, and the --json summary document.
 *
 * The human summaries are written to the FILE the caller gives (stderr,
 * stdout for `plan`, /dev/null with --log-format json, a memory stream in
 * tests) and nothing else: no messages, no exit codes. Every input is
 * borrowed and read only; the caller fills the small structs below from
 * its own state just before the call. Not thread-safe.
 */
#ifndef ORCH_SUMMARY_H
#define ORCH_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "orch/rollout/runjson.h" /* orch_run_summary, orch_pf_state */
#include "orch/rollout/winplan.h" /* struct orch_winplan */

struct orch_config;
struct orch_device_check_stats;
struct orch_dispatch_stats;
struct orch_inventory;
struct orch_outcome_counts;
struct orch_params;
struct orch_plan;
struct orch_preflight_result;
struct orch_tally;

#define ORCH_SUMMARY_SHOWN 10 /* rows a summary lists before "..." */

/* The first ORCH_SUMMARY_SHOWN rows of a kind (inventory rows rejected,
 * devices left out), to list in a summary. Fixed size: zero it and add. */
struct orch_summary_rows {
    char line[ORCH_SUMMARY_SHOWN][160];
    size_t n;
};

/* Keeps `line L: "VALUE": REASON` (VALUE cut to 60 bytes, the whole line
 * to 159) while fewer than ORCH_SUMMARY_SHOWN are kept; NULL value or
 * reason read as "". */
void orch_summary_rows_add(struct orch_summary_rows *r, uint32_t line,
                           const char *value, const char *reason);

/* Formats a duration in seconds for people: "0.8 s", "4 min 10 s",
 * "2 h 05 min" (negative: 0). */
void orch_summary_format_secs(char *out, size_t outsz, double secs);

/* Formats a measured span for rates beside it: "2.55 s" below a minute
 * (two decimals, so a rate over it can be checked), then as
 * orch_summary_format_secs. */
void orch_summary_format_span(char *out, size_t outsz, uint64_t ms);

/* The final summary's wall-time line, whose rates are its counts over
 * its seconds (the progress line's chunks/s at its end is the same
 * figure): "wall time: 2.55 s; over it 3 chunks finished (1.18
 * chunks/s) and 4 calls were made (1.57 calls/s)". Chunks are st's
 * created + failed + not sent. */
void orch_summary_format_wall(char *out, size_t outsz,
                              const struct orch_dispatch_stats *st,
                              uint64_t wall_ms);

/* The pace calls were started at (orch_summary_calls_rate, the rate
 * limiter's spacing, not counting the wait for the last answers):
 * "sending pace: 19.80 calls/s (calls started 50.5 ms apart on
 * average)". false (out untouched) when it cannot be measured: fewer
 * than 2 calls, or all started within one ms. */
bool orch_summary_format_pace(char *out, size_t outsz,
                              const struct orch_dispatch_stats *st);

/* Create calls started per second while calls were made: n starts span
 * n - 1 intervals, so (calls - 1) / (last start - first start); a single
 * call, or calls started within one ms, count per second of activity (at
 * least 1 s). 0 without calls. */
double orch_summary_calls_rate(const struct orch_dispatch_stats *st);

/* What the plan summary shows (human, and the "plan" object of
 * `plan --json`). */
struct orch_summary_plan {
    const struct orch_config *cfg;
    const struct orch_inventory *inv; /* NULL: ALL/GRAY target */
    const struct orch_plan *plan;     /* NULL: ALL/GRAY target */
    size_t nitems;                    /* chunks (1 for ALL/GRAY) */
    size_t calls;                     /* Create calls still to make */
    const struct orch_summary_rows *rejected; /* first rows rejected */
    const char *rejects_path; /* the rejects file being written, or NULL:
                                 then "run writes them all to ..." */
    bool device_cost;         /* tell what --check-devices will cost */
    const struct orch_wave_plan *waves; /* the plan's waves, NULL: none */
    struct orch_winplan windows; /* --window's schedule (windows.tz
                                    NULL: none) */
};

/* The rows each --where filter kept (nothing without filters). */
void orch_summary_print_where(FILE *fp, const struct orch_config *cfg,
                              const struct orch_inventory *inv);

/* The plan summary: inventory (rows, devices, duplicates, rejected rows,
 * products and their chunks) or the ALL/GRAY target, the calls needed and
 * how long they take at the configured rate, the endpoint, the report. */
void orch_summary_print_plan(FILE *fp, const struct orch_summary_plan *sp);

/* The firmware pre-flight's verdict and each pair's result (nothing when
 * it was not run and checked nothing). */
void orch_summary_print_preflight(FILE *fp, enum orch_pf_state state,
                                  const struct orch_preflight_result *pf);

/* The device check's result: counts, the first devices left out, where
 * all of them went (rejects_path, NULL: nowhere), the chunks left. */
void orch_summary_print_dropped(FILE *fp,
                                const struct orch_device_check_stats *st,
                                const struct orch_summary_rows *shown,
                                const char *rejects_path, size_t nitems);

/* What a resumed run finds in its journal. */
struct orch_summary_todo {
    size_t already_done; /* chunks with a final result: skipped */
    size_t to_reconcile; /* interrupted: asked about before any resend */
    size_t to_send;
};

/* "resuming run ID: ..." (run_id NULL: "?"). */
void orch_summary_print_resume(FILE *fp, const char *run_id, size_t nitems,
                               const struct orch_summary_todo *todo);

/* What the final summary shows, after the Create calls. */
struct orch_summary_final {
    const struct orch_dispatch_stats *st; /* this process's Create calls */
    uint64_t wall_ms;                     /* their wall time */
    size_t nitems;                        /* chunks of the plan */
    const struct orch_inventory *inv;     /* NULL: ALL/GRAY target */
    const struct orch_device_check_stats *devcheck; /* NULL: none */
    const struct orch_tally *codes;       /* error codes of the chunks */
    const char *report_path;
    const char *stopped;                  /* NULL: not stopped early */
    /* Where the credentials came from and how often they were refreshed
     * (`RamRoleArn profile "ops" (STS, refreshed 14 times)`), NULL: not
     * told. */
    const char *credentials;
};

/* "summary:" and its lines: devices, devices left out, chunks, calls,
 * wall time with the rates over it, the sending pace, error codes, the
 * report, the credentials (when set), and `stopped` (why the calls stopped early, e.g. "interrupted")
 * when set. The device files and the next step come once, at the end of
 * the run, from the whole run (orch_summary_print_next). */
void orch_summary_print_final(FILE *fp, const struct orch_summary_final *sf);

/* What the operator should do next, from the whole run's outcomes (every
 * run of the journal). One hint only, and never one that could put a
 * device into a second job:
 *   RESUME  something is undecided: a chunk's outcome is unknown (a job
 *           may hold its devices) or a chunk is not sent yet (not_sent,
 *           no outcome, a later wave); only `ota-rollout resume REPORT`
 *           may decide them, and the failed file must not be run before
 *           (its not-sent devices are the resume's to send);
 *   RERUN   every chunk is decided and some failed: the failed file
 *           holds exactly their devices, safe to run as an inventory;
 *   REVIEW_ABORT  a wave's health gate aborted the rollout (chunks
 *           WaveAborted, planrows.h): neither a blind resume (it refuses
 *           without --force, which goes on with the firmware that failed
 *           the gate) nor a rerun (their devices are in no device file):
 *           look at `ota-rollout status REPORT` first, then decide;
 *   NONE    every chunk created, or an ALL/GRAY target (no device
 *           files). */
enum orch_next_step {
    ORCH_NEXT_NONE = 0,
    ORCH_NEXT_RESUME,
    ORCH_NEXT_RERUN,
    ORCH_NEXT_REVIEW_ABORT
};

/* The whole run's outcomes the next step depends on. */
struct orch_summary_next {
    size_t failed;   /* failed chunks, outcome known */
    size_t unknown;  /* chunks whose outcome is unknown (orch_outcome_unknown) */
    size_t not_sent; /* never sent, or no outcome yet */
    size_t waiting;  /* of not_sent: a wave not created (planrows.h);
                        their devices are in no device file */
    size_t aborted;  /* of waiting: WaveAborted */
    bool specific;   /* device files exist (SPECIFIC target) */
};

/* Counts rows[0..n) (the done records, NULL: no outcome yet) with each
 * chunk's sends attempts[0..n) (NULL: none known) into *nx (specific is
 * left alone). */
void orch_summary_count_next(json_t *const *rows, const unsigned *attempts,
                             size_t n, struct orch_summary_next *nx);

enum orch_next_step orch_summary_next_step(const struct orch_summary_next *nx);

/* "resume", "rerun_failed", "review_abort" or "none" (the --json
 * "next_step"). */
const char *orch_next_step_name(enum orch_next_step step);

/* The next step's command for the report (malloced; NULL for NONE or on
 * ENOMEM): "ota-rollout resume REPORT",
 * "ota-rollout run REPORT.failed.csv ..." or "ota-rollout status REPORT"
 * (REVIEW_ABORT). */
char *orch_summary_next_command(enum orch_next_step step,
                                const char *report_path);

/* The device files and the one next step: "  failed devices: ..." (and
 * "  rerun: ..." when that is the step), "  devices with unknown outcome:
 * ...", or "  next step: ota-rollout resume ..." and why. */
void orch_summary_print_next(FILE *fp, const struct orch_summary_next *nx,
                             const char *report_path);

/* A resumed run's "whole run:" line (every run's results). */
void orch_summary_print_whole(FILE *fp, const struct orch_outcome_counts *c,
                              size_t nitems);

/* The --json summary document (runjson.h) of s, whose exit_reason is
 * ignored: the reason is derived from the exit code and counts ("every
 * chunk created", "N chunks failed, M not sent", ...) or, for the other
 * codes, `told` (the error line the command ended with; "" or NULL: none).
 * sp: `plan` (adds the "plan" object with the first request's parameters `first`, may be
 * NULL), NULL: `run`. Returns a new reference, or NULL on ENOMEM. */
json_t *orch_summary_doc(const struct orch_run_summary *s,
                         const struct orch_summary_plan *sp,
                         const struct orch_params *first,
                         const char *told);

#endif
