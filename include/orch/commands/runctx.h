/* runctx.h - the state of one `run` or `plan` command, shared by the
 * files that carry out its steps (run.c sequences them; runinventory,
 * runjournal, runpreflight, runprompt, rundispatch, runprogress,
 * runwaves, runoutput, runsummary and plancmd each do one part).
 *
 * The struct is created by orch_runctx_new() and freed by
 * orch_runctx_free(); every pointer in it is owned by it unless marked
 * borrowed. Not thread-safe: the dispatcher calls back on the command's
 * thread.
 */
#ifndef ORCH_RUNCTX_H
#define ORCH_RUNCTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "orch/base/tally.h"
#include "orch/commands/reason.h"
#include "orch/engine/dispatch.h"
#include "orch/model/config.h"
#include "orch/model/inventory.h"
#include "orch/model/plan.h"
#include "orch/model/tzwindow.h"
#include "orch/model/tzzones.h"
#include "orch/model/waves.h"
#include "orch/rollout/devcheck.h"
#include "orch/rollout/preflight.h"
#include "orch/rollout/progress.h"
#include "orch/rollout/resume.h"
#include "orch/rollout/runfiles.h"
#include "orch/rollout/runlog.h"
#include "orch/rollout/summary.h"

struct orch_credentials;

/* --window: one zone per zone group of the plan, and the window each
 * group's chunks are created with (runwindows.h). */
struct orch_runwin {
    struct orch_window window;
    struct orch_tzzones zones; /* zones.tz NULL: no windows */
    int64_t *start_ms;    /* [zones.n] ScheduleTime of the group's chunks */
    int64_t *end_ms;      /* [zones.n] ScheduleFinishTime */
    int64_t nominal_ms[ORCH_WAVES_MAX]; /* a scheduled wave's time before
                                           its windows, -1: none */
};

struct orch_run {
    const struct orch_config *cfg; /* borrowed: the command's config */
    struct orch_inventory inv;
    struct orch_plan plan;
    bool specific; /* inventory and plan in use (else ALL/GRAY: 1 item) */
    size_t nitems;

    struct orch_runfiles files; /* report, failed devices, rejects */

    /* `plan`: the first rejected rows, to show */
    struct orch_summary_rows shown;
    /* without --skip-invalid: the invalid rows, to list */
    struct orch_inventory_problems problems;

    /* final error codes of failed / not_sent chunks */
    struct orch_tally codes;

    /* why the command failed: its last error line (reason.h) */
    struct orch_reason why;

    bool progress; /* a progress line on stderr */
    uint64_t start_ms;
    size_t progress_len; /* width of the last progress line */
    bool progress_plain;  /* no terminal: plain lines, progress.h's pace */
    struct orch_progress prog;       /* this sending pass */
    struct orch_progress_pace pace;  /* its last plain line / event */
    int interrupts_told; /* interrupts already explained */

    /* journal and resume */
    char *journal_path;
    struct orch_runlog log;  /* each chunk's result, the journal */
    struct orch_resume rs;   /* the earlier run's journal, replayed */
    bool resuming;
    char inv_sha[65];
    char *inv_abs;           /* absolute inventory path (NULL: ALL/GRAY) */
    struct orch_summary_todo todo; /* what is left of the run's chunks */

    /* pre-flight */
    struct orch_preflight_result pf;
    enum orch_pf_state pf_state;
    struct orch_device_check_stats devst;
    bool devcheck_ran;       /* this process ran the device check */
    bool drop_from_journal;  /* the resumed run's drop map */
    uint8_t *drop;           /* [inv.n] devices left out, NULL: none */
    struct orch_summary_rows dshown; /* plan: the first left out */

    /* output for machines */
    bool json_log;           /* --log-format json */
    FILE *hout;              /* human summaries: stderr, or /dev/null
                                with --log-format json */
    struct orch_dispatch_stats dst; /* this process's Create calls */
    double calls_per_s;
    uint64_t send_ms;        /* the last sending pass, start to end */
    uint64_t t0_ms;          /* command start (monotonic) */

    /* waves (waverun.h) */
    bool waved;                /* --waves */
    struct orch_wave_plan wp;
    bool in_wave;              /* dispatching one wave: chunks outside
                                  [wave_lo, wave_hi) are skipped */
    size_t wave_lo, wave_hi;
    struct orch_config wave_cfg; /* shallow copy of *cfg with the wave's
                                    schedule (never cleaned up) */
    const struct orch_credentials *wave_cred; /* borrowed */

    /* maintenance windows (runwindows.h) */
    struct orch_runwin win;
    const char *unsent_code;   /* waved: the error_code of the report rows
                                  of chunks without an outcome
                                  (planrows.h), from the last wave record;
                                  NULL: not waved, no such rows */
    json_t *wave_log;          /* every wave record of the run, earlier
                                  runs' included (an owned array, NULL:
                                  none yet): the end's account */
    /* The run's credentials once loaded (borrowed; NULL before): the
     * summary tells where they came from and how often they were
     * refreshed. */
    const struct orch_credentials *cred;
};

/* A new run state for cfg (borrowed, must outlive it): nothing loaded
 * yet, the output streams chosen, the test hook
 * OTA_ROLLOUT_TEST_ABORT_AFTER_RECORDS read. NULL on ENOMEM. */
struct orch_run *orch_runctx_new(const struct orch_config *cfg);

/* Frees ctx and everything it owns (the files must be closed first:
 * orch_runoutput_close). NULL is fine. */
void orch_runctx_free(struct orch_run *ctx);

/* Whether chunk i is still to be sent (or looked up) by this run. */
bool orch_runctx_to_do(const struct orch_run *ctx, size_t i);

/* The rejects file when this run writes one, else NULL (borrowed). */
const char *orch_runctx_rejects_path(const struct orch_run *ctx);

/* A row the run leaves out (an invalid inventory row, a device the
 * device check dropped): a row "line,value,reason" of the rejects file
 * when this run writes one (run), else one of the first few kept in
 * `shown` to print (plan). Returns 0, or 1 when the rejects file could not
 * be written: as orch_reject_fn, nonzero stops the caller's pass. */
int orch_runctx_left_out(struct orch_run *ctx, struct orch_summary_rows *shown,
                         uint32_t line, const char *value, const char *reason);

/* The device check's counts when there are some to tell (this process
 * ran it, or the resumed run's journal has them), else NULL. */
const struct orch_device_check_stats *
orch_runctx_devcheck(const struct orch_run *ctx);

#endif
