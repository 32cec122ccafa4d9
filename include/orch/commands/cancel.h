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
 *    "code":""|"iot.ota.JobHasFinished"...}
 * Exit codes: 0 every job cancelled (or already finished), 1 some failed,
 * 2 usage (no terminal without --yes, unreadable report or journal),
 * 4 aborted (credentials rejected, interrupted, or the user said no).
 * `--json`: one document on stdout (orch_cancel_json_doc), also on errors.
 */
#ifndef ORCH_CANCEL_H
#define ORCH_CANCEL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct orch_config;
struct orch_params;
struct orch_tally;

/* The quota of CancelOTATaskByJob (alibaba-api.md e). */
#define ORCH_CANCEL_QPS 5.0

/* The request parameters of one job's cancel (without JobId and the
 * instance: orch_query_job_params adds those). 0 or ORCH_ENOMEM. */
int orch_cancel_flags_params(struct orch_params *out, bool in_progress);

/* True when a failed cancel's code means there was nothing left to
 * cancel (the job had already finished or been cancelled). */
bool orch_cancel_code_is_done(const char *code);

/* Journal replay: true when rec is a "cancelled" record for a job that
 * covers a cancel with in_progress (*job_id set, borrowed from rec). */
bool orch_cancel_record_covers(const json_t *rec, bool in_progress,
                               const char **job_id);

/* What one `cancel` did, in jobs. */
struct orch_cancel_counts {
    size_t jobs;      /* created jobs in the report */
    size_t skipped;   /* cancelled by an earlier run (the journal) */
    size_t cancelled; /* cancelled by this run */
    size_t finished;  /* nothing left to cancel (the API said finished) */
    size_t failed;    /* the API refused, or retries ran out */
    size_t not_sent;  /* not sent (aborted or interrupted first) */
};

/* The `cancel --json` document (new reference, NULL on ENOMEM; pure):
 *   {"schema":1, "command":"cancel", "exit":{code, name, reason}
 *    (jsonout.h's orch_jsonout_doc), "report":S, "in_progress":B,
 *    "counts":{"jobs","skipped","cancelled","already_finished","failed",
 *              "not_sent"} | null (n NULL: an error before any count),
 *    "errors":{CODE: jobs, ...}, "files":{"journal":S|null}}
 * codes (may be NULL) counts jobs per error code. */
json_t *orch_cancel_json_doc(const char *report, bool in_progress,
                             const struct orch_cancel_counts *n,
                             const struct orch_tally *codes,
                             const char *journal, int code,
                             const char *reason);

/* Runs `cancel` with a config orch_query_config_validate() accepted.
 * Returns the exit code (see above). Prints; with --json exactly one
 * document on stdout whatever the exit code; with --log-format json the
 * same document as a "summary" event, and no other line, on stderr.
 * Not reentrant. */
int orch_cancel_main(struct orch_config *cfg);

/* For an error found before orch_cancel_main could run (main.c): the
 * document with null counts, exit code `code` and the last error message
 * as its reason. Returns code (ORCH_EXIT_USAGE if the document could not
 * be written). */
int orch_cancel_emit_error(const struct orch_config *cfg, int code);

#endif
