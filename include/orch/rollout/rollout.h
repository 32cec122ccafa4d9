/* rollout.h - a rollout as its report lists it: the jobs a `run` created
 * (the report's rows with status "created" and a job_id), what the queries
 * of `status`, `cancel` and the wave gates find out about each, and the
 * rest of the plan.
 *
 * Columns are found by name, so a report with extra columns (a later
 * `wave` column) reads the same; the wave of a job is kept when the column
 * exists, or taken from "<report>.waves.csv" (wavemap.h) when it does not.
 *
 * The rest of the plan is kept too, so that `status` can account for every
 * device: the chunks that created no job (the report's "failed" and
 * "not_sent" rows), summed per status and error_code, and the chunks that
 * have no row yet (the journal's run record says how many chunks the plan
 * has; a later wave, or a run that stopped, has not sent them). A chunk
 * with several rows (a resumed run appends to the report) counts by its
 * last row.
 */
#ifndef ORCH_ROLLOUT_H
#define ORCH_ROLLOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "orch/cloud/api.h"

struct orch_diag;

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
    int no_task_reason;  /* enum orch_no_task (taskagg.h), set by `status`
                            when the job holds fewer tasks than devices */
    char modified[40];   /* UtcModified as the job-state query of this
                            refresh gave it, "" when unknown */
    char seen_status[24]; /* JobStatus that query gave (before the tasks
                             were listed), "" when unknown */
    bool cached;         /* this refresh took the job's counts from the
                            status cache (statuscache.h) */
    int64_t read_date_ms; /* the server's Date of the first answer that
                             listed or counted its tasks this refresh
                             (epoch ms, whole seconds), 0 when unknown */
    int64_t tasks_modified_ms; /* the latest UtcModified of the tasks
                                  listed this refresh (epoch ms), 0: none */
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
    char identity[80]; /* which rollout this is, for the status cache:
                          "<crc32c of the journal's run record, or
                          00000000>/<first created job_id>" */
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
/* Zeroes the per-job query results (before a new `status` round),
 * modified, seen_status and cached included. */
void orch_rollout_reset_counts(struct orch_rollout *r);
/* Zeroes what listing j's tasks learns (before a new listing, as a wave
 * gate's poll does): counts, total, listed, pages, query_failed, error
 * and job_status; the rest of j is left as it is. Pure. */
void orch_rollout_job_reset_listing(struct orch_rollout_job *j);

#endif
