/* cancel.h - the `cancel` command: stop every job of a rollout.
 *
 * For every created job of the report, CancelOTATaskByJob with
 * CancelQueuedTask, CancelNotifiedTask, CancelScheduledTask and
 * CancelUnconfirmedTask (and CancelInProgressTask with --in-progress), at
 * the action's own quota of 5 calls per second, retried like `run`.
 *
 * Journaled and resumable: each job cancelled appends a record to
 * "<report>.cancel.journal" (journal.h framing), so a rerun skips the jobs
 * already cancelled (with at least the same flags: a job cancelled without
 * --in-progress is cancelled again by a rerun with it). Records:
 *   {"t":"cancel_run","v":1,"time":MS,"report":PATH,"in_progress":BOOL}
 *   {"t":"cancelled","job_id":ID,"in_progress":BOOL,"time":MS,
 *    "code":""|"iot.ota.JobHasFinished"..., "outcome":NAME,
 *    "tasks_cancellable":N|null}
 * Before cancelling, every job's tasks are listed (ListOTATaskByJob, 100
 * a page, at the query quota: one or two calls for a job of up to 200
 * devices) so that each job's line, the summary and --json say what the
 * cancel did: requested with N tasks still cancellable, nothing left to
 * cancel, or already finished. A job is cancelled even when its listing
 * shows nothing (a scheduled job may list no task yet).
 * Exit codes: 0 every job cancelled (or already finished), 1 some failed,
 * 2 usage (no terminal without --yes, unreadable report or journal),
 * 4 aborted (credentials rejected, interrupted, or the user said no).
 * `--json`: one document on stdout (orch_cancel_json_doc), also on errors.
 */
#ifndef ORCH_CANCEL_H
#define ORCH_CANCEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct orch_config;
struct orch_tally;

/* Journal replay: true when rec is a "cancelled" record for a job that
 * covers a cancel with in_progress (*job_id set, borrowed from rec). */
bool orch_cancel_record_covers(const json_t *rec, bool in_progress,
                               const char **job_id);

/* What the cancel of one job did. CancelOTATaskByJob answers only
 * Success (no count of the tasks it cancelled: the SDK's
 * CancelOTATaskByJobResponseBody is Code, ErrorMessage, RequestId,
 * Success), so `cancel` lists each job's tasks first (ListOTATaskByJob,
 * paced at the query quota) and counts those the flags cancel. */
enum orch_cancel_outcome {
    ORCH_CANCEL_REQUESTED = 0, /* accepted; N tasks were still cancellable,
                                  or they could not be counted */
    ORCH_CANCEL_NOTHING,       /* accepted, but the listing showed no task
                                  the flags cancel */
    ORCH_CANCEL_FINISHED,      /* the API said the job had finished or was
                                  cancelled (iot.ota.JobHasFinished ...) */
    ORCH_CANCEL_FAILED,        /* refused, or retries ran out */
    ORCH_CANCEL_NOT_SENT       /* not sent (aborted or interrupted first) */
};

/* "cancelled", "nothing_to_cancel", "already_finished", "failed",
 * "not_sent". */
const char *orch_cancel_outcome_name(enum orch_cancel_outcome o);

/* Tasks of a job (counts per enum orch_task_state, cloud/api.h) that the
 * cancel flags cancel: CONFIRM, QUEUED, NOTIFIED, and IN_PROGRESS with
 * in_progress. */
uint64_t orch_cancel_cancellable(const uint64_t *counts, bool in_progress);

/* The outcome of one job's cancel: its call's status and error code
 * (ORCH_ITEM_*, engine/dispatch.h), whether its tasks were counted (listed > 0
 * and no listing failed) and how many of them were cancellable. Pure. */
enum orch_cancel_outcome orch_cancel_classify(int item_status, const char *code,
                                              bool counted,
                                              uint64_t cancellable);

/* One human line for a job, without a newline, e.g. "cancel requested; 12
 * tasks were still cancellable", "nothing left to cancel (all 200 tasks
 * had ended)", "nothing left to cancel (5 tasks in progress: --in-progress
 * cancels them)", "already finished (iot.ota.JobHasFinished)", "failed:
 * CODE". counts may be NULL when not counted. Pure. */
void orch_cancel_describe(char *buf, size_t bufsz, enum orch_cancel_outcome o,
                          const char *code, const uint64_t *counts,
                          bool in_progress);

/* What one `cancel` did, in jobs. */
struct orch_cancel_counts {
    size_t jobs;      /* created jobs in the report */
    size_t skipped;   /* cancelled by an earlier run (the journal) */
    size_t cancelled; /* cancel requested with tasks still cancellable (or
                         not counted) */
    size_t finished;  /* the API said finished (JobHasFinished ...) */
    size_t failed;    /* the API refused, or retries ran out */
    size_t not_sent;  /* not sent (aborted or interrupted first) */
    size_t nothing;   /* accepted, no task left that the flags cancel */
    uint64_t tasks;   /* tasks still cancellable in the `cancelled` jobs */
    size_t uncounted; /* `cancelled` jobs whose tasks were not counted */
};

/* The `cancel --json` document (new reference, NULL on ENOMEM; pure):
 *   {"schema":1, "command":"cancel", "exit":{code, name, reason}
 *    (jsonout.h's orch_jsonout_doc), "report":S, "in_progress":B,
 *    "counts":{"jobs","skipped","cancelled","nothing_to_cancel",
 *              "already_finished","failed","not_sent",
 *              "tasks_cancellable","not_counted"}
 *             | null (n NULL: an error before any count),
 *    "errors":{CODE: jobs, ...}, "files":{"journal":S|null}}
 * codes (may be NULL) counts jobs per error code. orch_cancel_main adds
 * "jobs_cancelled":[{"job_id","outcome" (orch_cancel_outcome_name),
 * "tasks_cancellable":N|null,"code":S}] for the jobs this run sent or
 * meant to send. */
json_t *orch_cancel_json_doc(const char *report, bool in_progress,
                             const struct orch_cancel_counts *n,
                             const struct orch_tally *codes,
                             const char *journal, int code, const char *reason);

/* Runs `cancel` with a config orch_query_config_validate() accepted.
 * Returns the exit code (see above). Prints; with --json exactly one
 * document on stdout whatever the exit code; with --log-format json the
 * same document as a "summary" event, and no other line, on stderr.
 * Not reentrant. */
int orch_cancel_main(struct orch_config *cfg);

/* For an error found before orch_cancel_main could run (main.c), or as
 * it starts: prints `reason` as an error (msgs.h), then the document with
 * null counts, exit code `code` and `reason` (the error's
 * text; NULL: "") as its reason. Returns code (ORCH_EXIT_USAGE if the
 * document could not be written). */
int orch_cancel_emit_error(const struct orch_config *cfg, int code,
                           const char *reason);

#endif
