/* query.h - what `status` and `cancel` share: the rollout's jobs as its
 * report lists them, the commands' configuration check, and paced,
 * retried batches of query calls over orch_dispatch_run().
 *
 * A rollout is the set of jobs a `run` created: the report's rows with
 * status "created" and a job_id. Columns are found by name, so a report
 * with extra columns (a later `wave` column) reads the same; the wave of a
 * job is kept when the column exists.
 *
 * The rest of the plan is kept too, so that `status` can account for every
 * device: the chunks that created no job (the report's "failed" and
 * "not_sent" rows), summed per status and error_code, and the chunks that
 * have no row yet (the journal's run record says how many chunks the plan
 * has; a later wave, or a run that stopped, has not sent them). A chunk
 * with several rows (a resumed run appends to the report) counts by its
 * last row.
 */
#ifndef ORCH_QUERY_H
#define ORCH_QUERY_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct orch_config;
struct orch_credentials;
struct orch_diag;
struct orch_dispatch_stats;
struct orch_item_result;
struct orch_params;

/* Task states of ListOTATaskByJob, in display order. CONFIRM (waiting for
 * the device's confirmation) and OTHER (a value this tool does not know)
 * are counted too. */
enum orch_task_state {
    ORCH_TASK_QUEUED = 0,
    ORCH_TASK_NOTIFIED,
    ORCH_TASK_IN_PROGRESS,
    ORCH_TASK_SUCCEEDED,
    ORCH_TASK_FAILED,
    ORCH_TASK_CANCELED,
    ORCH_TASK_CONFIRM,
    ORCH_TASK_OTHER,
    ORCH_TASK_NSTATES
};

/* "QUEUED", ...; "OTHER" for out-of-range values. */
const char *orch_task_state_name(int s);
/* The state named s (exact, upper case); ORCH_TASK_OTHER if unknown. */
enum orch_task_state orch_task_state_parse(const char *s);
/* True for the states that are still waiting to be decided: QUEUED,
 * NOTIFIED, IN_PROGRESS and CONFIRM. OTHER is not (an unknown value must
 * not keep `status --watch` waiting forever). */
bool orch_task_state_pending(int s);

/* One job of the rollout, with what the queries found out. */
struct orch_rollout_job {
    unsigned chunk;        /* report's chunk number (0 if absent) */
    char *job_id;          /* malloced */
    char *product_key;     /* malloced, "" if absent */
    char *firmware_id;     /* malloced, "" if absent */
    char *wave;            /* malloced; NULL when the report has no wave
                              column */
    unsigned wave_no;      /* the wave as a number, 0: none or unknown */
    unsigned device_count; /* devices the report says the job holds */

    /* Filled by `status` (zeroed by orch_rollout_reset_counts). */
    uint64_t counts[ORCH_TASK_NSTATES];
    uint64_t total;      /* Total as the API reported it */
    uint64_t listed;     /* tasks actually listed */
    unsigned pages;      /* pages of PageSize needed for total */
    bool query_failed;   /* some query of this job failed */
    char error[160];     /* "CODE: message" of the failed query */
    char job_status[24]; /* PLANNED/IN_PROGRESS/COMPLETED/CANCELED, or
                            "" when unknown */
    int no_task_reason;  /* enum orch_no_task (status.h), set by `status`
                            when the job holds fewer tasks than devices */
};

/* Chunks that created no job, summed per (status, error_code). */
struct orch_rollout_left {
    char *status; /* "failed" or "not_sent" (malloced) */
    char *code;   /* error_code, "" when the row has none (malloced) */
    size_t chunks;
    uint64_t devices; /* sum of their device_count */
};

struct orch_rollout {
    char *path; /* the report, malloced */
    struct orch_rollout_job *jobs;
    size_t njobs;
    size_t rows;        /* data rows read */
    size_t not_created; /* rows whose status is not "created" */
    size_t duplicates;  /* repeated job_ids (kept once) */
    bool has_wave;      /* the report has a `wave` column */

    struct orch_rollout_left *left; /* failed / not_sent chunks, in order
                                       of first appearance */
    size_t nleft;
    size_t chunk_rows;     /* distinct chunks with a row (numbered rows) */
    size_t planned_chunks; /* chunks of the plan (the journal's run
                              record), 0: unknown (no journal) */
};

/* Chunks of the plan that have no row in the report yet: planned_chunks
 * minus the chunks with a row (0 when the plan's size is unknown). */
size_t orch_rollout_unsent_chunks(const struct orch_rollout *r);

/* Reads the report at path (libcsv; header by name: job_id and status are
 * required, chunk, product_key, firmware_id, device_count, error_code and
 * wave are optional). A formula-neutralising leading "'" the report writer
 * added is removed. Then, when they exist, "<report>.waves.csv" (the
 * jobs' waves) and "<report>.journal" (its run record's nchunks: the
 * plan's size; a journal that cannot be read leaves it unknown).
 * Returns 0, ORCH_ENOTFOUND (no such file), ORCH_EIO, or
 * ORCH_ECSV (malformed, missing column) with diag "FILE:LINE: ...".
 * r is owned by the caller: orch_rollout_cleanup(). Not thread-safe. */
int orch_rollout_load(struct orch_rollout *r, const char *path,
                      struct orch_diag *diag);
/* The same from memory (tests); name is used in messages. */
int orch_rollout_parse(struct orch_rollout *r, const char *data, size_t len,
                       const char *name, struct orch_diag *diag);
/* Frees everything; NULL-safe. */
void orch_rollout_cleanup(struct orch_rollout *r);
/* Zeroes the per-job query results (before a new `status` round). */
void orch_rollout_reset_counts(struct orch_rollout *r);

/* Checks the configuration of `status` and `cancel` (the report path is
 * cfg->inventory_path, the positional argument): a report given, options
 * that belong to the other command refused, the region and endpoint
 * defaults filled as for `run`, the query quota and --interval in range.
 * Returns 0 or ORCH_ECONFIG with diag naming the option. */
int orch_query_config_validate(struct orch_config *cfg, struct orch_diag *diag);

/* A paced, retried batch of one query action: nitems calls of `action`
 * at most `qps` per second (the action's own quota), each retried like
 * `run`'s calls (throttling, 5xx, transport errors: the dispatcher, with
 * ops.idempotent set). done() is called once per item on this thread;
 * res->resp (and res->resp->root, the parsed answer) is valid only during
 * the call. A success is res->status == ORCH_ITEM_CREATED.
 * With `label` and a terminal, a progress line "LABEL n/N" is drawn on
 * stderr. Returns 0 (stats says how many failed, and whether the batch
 * was aborted: credentials rejected or interrupted), or the dispatcher's
 * setup error with diag. Borrows everything. A batch starts at least
 * 1.05 s after the previous batch of the same action (in this process)
 * ended, so that back-to-back batches never share a quota second;
 * `action` must therefore live as long as the process (a literal). Not
 * reentrant. */
struct orch_query_batch {
    const char *action;
    double qps;
    size_t nitems;
    int (*build)(void *ud, size_t item, struct orch_params *out);
    void (*done)(void *ud, size_t item, const struct orch_item_result *res);
    void *ud;
    const char *label; /* NULL: no progress line */
};

int orch_query_run(const struct orch_config *cfg,
                   const struct orch_credentials *cred,
                   const struct orch_query_batch *batch,
                   volatile sig_atomic_t *interrupt,
                   struct orch_dispatch_stats *stats, struct orch_diag *diag);

/* Adds the parameters every query of a job carries: JobId and, when
 * configured, IotInstanceId. 0 or ORCH_ENOMEM. */
int orch_query_job_params(struct orch_params *out,
                          const struct orch_config *cfg, const char *job_id);
/* orch_query_job_params() plus PageSize and CurrentPage: page `page` (from
 * 1) of a job's tasks, page_size a page (ListOTATaskByJob). 0 or
 * ORCH_ENOMEM. */
int orch_query_task_page_params(struct orch_params *out,
                                const struct orch_config *cfg,
                                const char *job_id, unsigned page_size,
                                unsigned page);

#endif
