/* taskagg.h - task aggregation: what the answers of ListOTATaskByJob,
 * QueryOTAJob and QueryOTAFirmware say about a rollout's jobs, folded into
 * per-job counts (struct orch_rollout_job, rollout.h) and failure reasons
 * (struct orch_taskagg), and summed per product, per wave and for the
 * whole plan (struct orch_taskagg_summary). Pure functions, shared by
 * `status`, `cancel` (its task count) and the wave gates.
 *
 * Every device of the plan is accounted for (orch_taskagg_summarize): in a
 * job with a task (by task state); in a job with no task for it (the
 * report's device_count minus the job's Total; why, from the firmware's
 * QueryOTAFirmware Type: a full package skips only the devices already on
 * its version, a differential one also refuses those not on its source
 * version); in a chunk that created no job (the report's failed and
 * not_sent rows, per error_code); or in a chunk with no row yet (the
 * journal's plan size minus the report's chunks: a later wave, or a run
 * that stopped, has not sent it; its devices are not in the report).
 * The rollout is complete when every device of the plan is in a job whose
 * task SUCCEEDED, or already on the target version, and every job was
 * queried.
 */
#ifndef ORCH_TASKAGG_H
#define ORCH_TASKAGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "orch/cloud/api.h"
#include "orch/rollout/rollout.h"

struct orch_item_result;

/* A failure reason (TaskDesc of FAILED tasks) and how often it occurs. */
struct orch_taskagg_reason {
    char *text; /* malloced; "(none)" for an empty TaskDesc */
    uint64_t count;
};

/* Reasons across all jobs. Caller-owned: init / cleanup. */
struct orch_taskagg {
    struct orch_taskagg_reason *reasons;
    size_t n, cap;
};

void orch_taskagg_init(struct orch_taskagg *a);
void orch_taskagg_cleanup(struct orch_taskagg *a);
/* Counts one more occurrence of reason. 0 or ORCH_ENOMEM. */
int orch_taskagg_add_reason(struct orch_taskagg *a, const char *reason);
/* Counts n more occurrences of reason (n 0: nothing). 0 or ORCH_ENOMEM. */
int orch_taskagg_add_reason_n(struct orch_taskagg *a, const char *reason,
                              uint64_t n);

/* One task of a page, borrowed from the answer (valid during the call). */
struct orch_task_view {
    const char *product_key; /* the task's, else the job's */
    const char *device_name;
    const char *job_id;
    const char *task_id;
    const char *status; /* as the API spelled it */
    enum orch_task_state state;
    long long progress; /* -1 if absent */
    const char *reason; /* TaskDesc, "" if absent */
};

/* Called for each task of a page; nonzero stops and is returned. */
typedef int (*orch_taskagg_task_fn)(void *ud,
                                    const struct orch_rollout_job *job,
                                    const struct orch_task_view *t);

/* Folds one successful ListOTATaskByJob answer (root: the parsed body)
 * into job: job->total from Total (and job->pages from it), each
 * Data.SimpleOTATaskInfo[] entry into job->counts and job->listed, the
 * TaskDesc of FAILED tasks into agg; fn (may be NULL) sees each task.
 * Returns 0, ORCH_EDECODE (no task list in the answer), ORCH_ENOMEM, or
 * fn's value. Pure. */
int orch_taskagg_add_page(struct orch_taskagg *agg,
                          struct orch_rollout_job *job, const json_t *root,
                          orch_taskagg_task_fn fn, void *ud);

/* The same for a page of a listing filtered by TaskStatus: its tasks
 * only (its Total counts that state alone, so job->total and job->pages
 * are left as they are). Returns 0, ORCH_EDECODE, ORCH_ENOMEM or fn's
 * value. Pure. */
int orch_taskagg_add_filtered_page(struct orch_taskagg *agg,
                                   struct orch_rollout_job *job,
                                   const json_t *root, orch_taskagg_task_fn fn,
                                   void *ud);
/* The Total of a ListOTATaskByJob answer (filtered: of that state) into
 * *total. 0, or ORCH_EDECODE when the answer has no Total or no task
 * list. Pure. */
int orch_taskagg_page_total(const json_t *root, uint64_t *total);

/* The job's state as its tasks tell it: "IN_PROGRESS" (some task started
 * and some still pending) or "COMPLETED" (every task decided, none
 * cancelled); NULL when only QueryOTAJob can tell (no task listed, no task
 * started yet: PLANNED or waiting, or some cancelled). Pure. */
const char *orch_taskagg_derive_job(const struct orch_rollout_job *job);

/* Why a job holds fewer tasks than devices (its no_task_reason). */
enum orch_no_task {
    ORCH_NO_TASK_UNKNOWN = 0,  /* the firmware could not be queried */
    ORCH_NO_TASK_ON_VERSION,   /* full package: already on its version */
    ORCH_NO_TASK_NOT_ELIGIBLE, /* differential package: refused by the
                                  API (not on its source version) or
                                  already on its version */
    ORCH_NO_TASK_NREASONS
};
/* "unknown", "on_version", "not_eligible" (the --json keys). */
const char *orch_no_task_name(int reason);
/* Devices of job j the API made no task for: the report's device_count
 * minus the job's Total, 0 when the job could not be queried. Pure. */
uint64_t orch_taskagg_no_task(const struct orch_rollout_job *j);
/* The reason from a successful QueryOTAFirmware answer: FirmwareInfo (or
 * Data) .Type 0 -> ON_VERSION, 1 -> NOT_ELIGIBLE, else UNKNOWN. Pure. */
enum orch_no_task orch_taskagg_firmware_reason(const json_t *root);

/* Job states of the summary. */
enum orch_job_state {
    ORCH_JOB_PLANNED = 0,
    ORCH_JOB_IN_PROGRESS,
    ORCH_JOB_COMPLETED,
    ORCH_JOB_CANCELED,
    ORCH_JOB_UNKNOWN, /* not queried, or a value this tool does not know */
    ORCH_JOB_NSTATES
};
const char *orch_job_state_name(int s);

/* Task counts of a product or a wave. */
struct orch_taskagg_group {
    const char *key; /* borrowed from the rollout */
    size_t jobs;
    uint64_t devices; /* device_count of the report */
    uint64_t counts[ORCH_TASK_NSTATES];
    uint64_t tasks;
};

struct orch_taskagg_summary {
    size_t jobs;
    size_t jobs_failed; /* could not be (fully) queried */
    size_t job_states[ORCH_JOB_NSTATES];
    uint64_t devices; /* sum of the report's device_count */
    uint64_t counts[ORCH_TASK_NSTATES];
    uint64_t tasks;
    uint64_t pending; /* QUEUED+NOTIFIED+IN_PROGRESS+CONFIRM */
    bool decided;     /* no task pending and every job queried */
    struct orch_taskagg_group *products; /* malloced, in report order */
    size_t nproducts;
    struct orch_taskagg_group *waves; /* malloced; NULL without a wave
                                        column */
    size_t nwaves;
    const struct orch_taskagg_reason **reasons; /* malloced, by count desc */
    size_t nreasons;

    /* Every device of the plan (see the top of this file). */
    uint64_t plan_devices; /* the sum of the counts below (unsent
                              chunks' devices are not known) */
    uint64_t with_task;    /* devices in a job with a task: tasks listed */
    uint64_t no_task[ORCH_NO_TASK_NREASONS];   /* in a job, no task */
    uint64_t failed_devices, not_sent_devices; /* in chunks without a job */
    size_t failed_chunks, not_sent_chunks;
    uint64_t unqueried;   /* devices of jobs that could not be queried */
    size_t unsent_chunks; /* chunks of the plan with no row yet */
    bool complete;        /* the exit status 0 condition (above) */
};

/* Sums the rollout's per-job results. The summary borrows r and agg,
 * which must outlive it; free it with orch_taskagg_summary_cleanup().
 * 0 or ORCH_ENOMEM. Pure. */
int orch_taskagg_summarize(const struct orch_rollout *r,
                           const struct orch_taskagg *agg,
                           struct orch_taskagg_summary *s);
void orch_taskagg_summary_cleanup(struct orch_taskagg_summary *s);
/* Why the rollout is not complete, in one line ("600 devices in failed
 * chunks, 2 tasks FAILED, ..."), into buf; "" when it is. Pure. */
void orch_taskagg_incomplete(const struct orch_taskagg_summary *s, char *buf,
                             size_t bufsz);

/* Marks job j as not (fully) queried, once: the first failure's text is
 * kept in j->error, `why` when given, else "CODE: MESSAGE" (code NULL:
 * "failed"; message NULL: ""). Pure. */
void orch_taskagg_job_failed(struct orch_rollout_job *j, const char *code,
                             const char *message, const char *why);

/* Notes that an answer dated date_ms (orch_response.date_ms; 0: no Date)
 * listed or counted j's tasks: j->read_date_ms keeps the earliest. Pure. */
void orch_taskagg_note_read(struct orch_rollout_job *j, int64_t date_ms);

/* The body to fold from the answer res of a call about job j (a listing
 * or a count of its tasks): res->resp->root, with j's read date noted
 * (orch_taskagg_note_read); NULL when the call failed or has no parsed
 * answer, and then j is marked failed with the call's error code and
 * message. The body is borrowed from res. Pure. */
const json_t *orch_taskagg_answer_root(struct orch_rollout_job *j,
                                       const struct orch_item_result *res);

/* Marks j failed for rc, what folding its answer returned: nothing for
 * 0, "out of memory" for ORCH_ENOMEM, else `bad` (the answer lacked what
 * the fold needs, e.g. "BadResponse: no Data.SimpleOTATaskInfo list").
 * Pure. */
void orch_taskagg_fold_failed(struct orch_rollout_job *j, int rc,
                              const char *bad);

#endif
