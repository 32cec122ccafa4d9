/* status.h - the `status` command: one screen for a whole rollout.
 *
 * For every job of the report, ListOTATaskByJob (PageSize 100, every page,
 * no TaskStatus filter: one pass gives every count) at the query quota;
 * QueryOTAJob only for the jobs whose state the tasks do not tell (no task
 * listed, none started yet, or some cancelled). The answers are folded
 * into per-job counts (struct orch_rollout_job) and the failure reasons
 * (struct orch_status_agg) by pure functions; a summary groups them per
 * product and, when the report has a `wave` column, per wave.
 *
 * Every device of the plan is accounted for (orch_status_summarize): in a
 * job with a task (by task state); in a job with no task for it (the
 * report's device_count minus the job's Total; why, from the firmware's
 * QueryOTAFirmware Type: a full package skips only the devices already on
 * its version, a differential one also refuses those not on its source
 * version); in a chunk that created no job (the report's failed and
 * not_sent rows, per error_code); or in a chunk with no row yet (the
 * journal's plan size minus the report's chunks: a later wave, or a run
 * that stopped, has not sent it; its devices are not in the report).
 *
 * Output: text on stdout (or one JSON document with --json, also on
 * errors: orch_status_json_doc), the
 * per-device CSV with --devices. With --watch each screen starts with
 * "as of <UTC ISO-8601 time>". Exit codes: 0 the rollout is complete
 * (every device of the plan in a job whose task SUCCEEDED, or already on
 * the target version, and every job queried), 1 it is not (devices in
 * failed / not-sent / unsent chunks, tasks failed, canceled or still
 * pending, devices refused, or a job could not be queried), 2 usage,
 * 4 aborted (credentials rejected, or interrupted).
 */
#ifndef ORCH_STATUS_H
#define ORCH_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "orch/engine/query.h"
#include "orch/rollout/report.h"

struct orch_config;
struct orch_diag;

#define ORCH_STATUS_PAGE_SIZE 100
/* CurrentPage x PageSize must not exceed 100,000 (alibaba-api.md e). */
#define ORCH_STATUS_MAX_PAGES 1000
#define ORCH_STATUS_DEVICES_HEADER                                             \
    "ProductKey,DeviceName,JobId,TaskId,status,progress,reason"
#define ORCH_STATUS_FAILED_HEADER "ProductKey,DeviceName,error_code"

/* A failure reason (TaskDesc of FAILED tasks) and how often it occurs. */
struct orch_status_reason {
    char *text; /* malloced; "(none)" for an empty TaskDesc */
    uint64_t count;
};

/* Reasons across all jobs. Caller-owned: init / cleanup. */
struct orch_status_agg {
    struct orch_status_reason *reasons;
    size_t n, cap;
};

void orch_status_agg_init(struct orch_status_agg *a);
void orch_status_agg_cleanup(struct orch_status_agg *a);
/* Counts one more occurrence of reason. 0 or ORCH_ENOMEM. */
int orch_status_agg_reason(struct orch_status_agg *a, const char *reason);

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
typedef int (*orch_status_task_fn)(void *ud, const struct orch_rollout_job *job,
                                   const struct orch_task_view *t);

/* Folds one successful ListOTATaskByJob answer (root: the parsed body)
 * into job: job->total from Total (and job->pages from it), each
 * Data.SimpleOTATaskInfo[] entry into job->counts and job->listed, the
 * TaskDesc of FAILED tasks into agg; fn (may be NULL) sees each task.
 * Returns 0, ORCH_EDECODE (no task list in the answer), ORCH_ENOMEM, or
 * fn's value. Pure. */
int orch_status_add_page(struct orch_status_agg *agg,
                         struct orch_rollout_job *job, const json_t *root,
                         orch_status_task_fn fn, void *ud);

/* The job's state as its tasks tell it: "IN_PROGRESS" (some task started
 * and some still pending) or "COMPLETED" (every task decided, none
 * cancelled); NULL when only QueryOTAJob can tell (no task listed, no task
 * started yet: PLANNED or waiting, or some cancelled). Pure. */
const char *orch_status_derive_job(const struct orch_rollout_job *job);
/* Sets job->job_status from a successful QueryOTAJob answer
 * (Data.JobStatus). 0 or ORCH_EDECODE. */
int orch_status_set_job_status(struct orch_rollout_job *job,
                               const json_t *root);

/* Why a job holds fewer tasks than devices (its no_task_reason). */
enum orch_no_task {
    ORCH_NO_TASK_UNKNOWN = 0,    /* the firmware could not be queried */
    ORCH_NO_TASK_ON_VERSION,     /* full package: already on its version */
    ORCH_NO_TASK_NOT_ELIGIBLE,   /* differential package: refused by the
                                    API (not on its source version) or
                                    already on its version */
    ORCH_NO_TASK_NREASONS
};
/* "unknown", "on_version", "not_eligible" (the --json keys). */
const char *orch_no_task_name(int reason);
/* Devices of job j the API made no task for: the report's device_count
 * minus the job's Total, 0 when the job could not be queried. Pure. */
uint64_t orch_status_no_task(const struct orch_rollout_job *j);
/* The reason from a successful QueryOTAFirmware answer: FirmwareInfo (or
 * Data) .Type 0 -> ON_VERSION, 1 -> NOT_ELIGIBLE, else UNKNOWN. Pure. */
enum orch_no_task orch_status_firmware_reason(const json_t *root);

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
struct orch_status_group {
    const char *key; /* borrowed from the rollout */
    size_t jobs;
    uint64_t devices; /* device_count of the report */
    uint64_t counts[ORCH_TASK_NSTATES];
    uint64_t tasks;
};

struct orch_status_summary {
    size_t jobs;
    size_t jobs_failed; /* could not be (fully) queried */
    size_t job_states[ORCH_JOB_NSTATES];
    uint64_t devices; /* sum of the report's device_count */
    uint64_t counts[ORCH_TASK_NSTATES];
    uint64_t tasks;
    uint64_t pending; /* QUEUED+NOTIFIED+IN_PROGRESS+CONFIRM */
    bool decided;     /* no task pending and every job queried */
    struct orch_status_group *products; /* malloced, in report order */
    size_t nproducts;
    struct orch_status_group *waves; /* malloced; NULL without a wave
                                        column */
    size_t nwaves;
    const struct orch_status_reason **reasons; /* malloced, by count desc */
    size_t nreasons;

    /* Every device of the plan (see the top of this file). */
    uint64_t plan_devices;  /* the sum of the counts below (unsent
                               chunks' devices are not known) */
    uint64_t with_task;     /* devices in a job with a task: tasks listed */
    uint64_t no_task[ORCH_NO_TASK_NREASONS]; /* in a job, no task */
    uint64_t failed_devices, not_sent_devices; /* in chunks without a job */
    size_t failed_chunks, not_sent_chunks;
    uint64_t unqueried;     /* devices of jobs that could not be queried */
    size_t unsent_chunks;   /* chunks of the plan with no row yet */
    bool complete;          /* the exit status 0 condition (above) */
};

/* Sums the rollout's per-job results. The summary borrows r and agg,
 * which must outlive it; free it with orch_status_summary_cleanup().
 * 0 or ORCH_ENOMEM. Pure. */
int orch_status_summarize(const struct orch_rollout *r,
                          const struct orch_status_agg *agg,
                          struct orch_status_summary *s);
void orch_status_summary_cleanup(struct orch_status_summary *s);
/* Why the rollout is not complete, in one line ("600 devices in failed
 * chunks, 2 tasks FAILED, ..."), into buf; "" when it is. Pure. */
void orch_status_incomplete(const struct orch_status_summary *s, char *buf,
                            size_t bufsz);

/* ms (wall, epoch) as "2025-01-02T03:04:05Z" into buf ("?" if it does
 * not fit): the time each --watch screen starts with. */
void orch_status_utc(int64_t ms, char *buf, size_t bufsz);

/* The text screen (max_reasons: how many reasons to list). */
void orch_status_print(FILE *fp, const struct orch_rollout *r,
                       const struct orch_status_summary *s, size_t max_reasons);
/* The --json document (new reference, NULL on ENOMEM): report, decided,
 * complete, jobs {total, PLANNED.., UNKNOWN, query_failed}, tasks {total,
 * QUEUED..}, devices, plan {devices, with_task, no_task {total,
 * on_version, not_eligible, unknown}, failed {chunks, devices}, not_sent
 * {chunks, devices}, unsent_chunks, codes[] {status, code, chunks,
 * devices}}, products[], waves[] (with a wave column; "wave" a number),
 * reasons[], job_list[] {job_id, product_key, firmware_id, wave? (a
 * number, null when unknown), status, tasks{}, no_task {devices,
 * reason}?, error?}. */
json_t *orch_status_json(const struct orch_rollout *r,
                         const struct orch_status_summary *s);

/* The whole `status --json` document: orch_status_json(r, s) plus the
 * keys every --json document has (jsonout.h's orch_jsonout_doc: schema,
 * "command":"status", "exit":{code, name, reason}). With r or s NULL (no
 * complete count: an error before or during the queries) the counted
 * keys (devices, jobs, tasks, products, reasons, job_list) are null,
 * "report" is report and "decided" false. New reference, NULL on ENOMEM.
 * Pure. */
json_t *orch_status_json_doc(const struct orch_rollout *r,
                             const struct orch_status_summary *s,
                             const char *report, int code, const char *reason);

/* The --devices output: FILE (ORCH_STATUS_DEVICES_HEADER) and
 * FILE.failed.csv (ORCH_STATUS_FAILED_HEADER, the FAILED devices, with
 * TaskDesc as error_code). Written to FILE.tmp and FILE.failed.csv.tmp
 * and renamed by commit, so a refresh never leaves half a file. */
struct orch_status_devices {
    struct orch_csv_out all, failed;
    char *path, *failed_path; /* final names, malloced */
    char *tmp, *failed_tmp;   /* malloced */
    bool open;
    int err; /* first write error */
};

int orch_status_devices_open(struct orch_status_devices *d, const char *path,
                             struct orch_diag *diag);
/* An orch_status_task_fn: ud is the struct orch_status_devices. */
int orch_status_devices_row(void *ud, const struct orch_rollout_job *job,
                            const struct orch_task_view *t);
/* Closes and renames into place. 0 or ORCH_EIO with diag. */
int orch_status_devices_commit(struct orch_status_devices *d,
                               struct orch_diag *diag);
/* Closes, removes the temporary files and frees; NULL-safe, idempotent. */
void orch_status_devices_cleanup(struct orch_status_devices *d);

/* Runs `status` with a config orch_query_config_validate() accepted.
 * Returns the exit code (see above). Prints; with --json exactly one
 * document on stdout whatever the exit code, and with --log-format json
 * the same document as a "summary" event on stderr. Not reentrant. */
int orch_status_main(struct orch_config *cfg);

/* For an error found before orch_status_main could run (main.c): the
 * document of --json (and the --log-format json summary event) with null
 * counts, exit code `code` and the last error message as its reason.
 * Returns code (ORCH_EXIT_USAGE if the document could not be written). */
int orch_status_emit_error(const struct orch_config *cfg, int code);

#endif
