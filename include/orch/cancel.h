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
 */
#ifndef ORCH_CANCEL_H
#define ORCH_CANCEL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct orch_config;
struct orch_params;

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

/* Runs `cancel` with a config orch_query_config_validate() accepted.
 * Returns the exit code (see above). Prints. Not reentrant. */
int orch_cancel_main(struct orch_config *cfg);

#endif
