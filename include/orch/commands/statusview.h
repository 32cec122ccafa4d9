/* statusview.h - what `status` shows: the text screen, the --json
 * document and the --devices CSV files, from a rollout (rollout.h) and its
 * summary (taskagg.h). The text and JSON are pure; the CSV writer writes
 * only its own files.
 */
#ifndef ORCH_STATUSVIEW_H
#define ORCH_STATUSVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "orch/rollout/report.h"
#include "orch/rollout/rollout.h"
#include "orch/rollout/taskagg.h"

struct orch_diag;

#define ORCH_STATUS_DEVICES_HEADER                                             \
    "ProductKey,DeviceName,JobId,TaskId,status,progress,reason"
#define ORCH_STATUS_FAILED_HEADER "ProductKey,DeviceName,error_code"

/* ms (wall, epoch) as "2025-01-02T03:04:05Z" into buf ("?" if it does
 * not fit): the time each --watch screen starts with. */
void orch_status_utc(int64_t ms, char *buf, size_t bufsz);

/* The text screen (max_reasons: how many reasons to list). */
void orch_status_print(FILE *fp, const struct orch_rollout *r,
                       const struct orch_taskagg_summary *s,
                       size_t max_reasons);
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
                         const struct orch_taskagg_summary *s);

/* The whole `status --json` document: orch_status_json(r, s) plus the
 * keys every --json document has (jsonout.h's orch_jsonout_doc: schema,
 * "command":"status", "exit":{code, name, reason}). With r or s NULL (no
 * complete count: an error before or during the queries) the counted
 * keys (devices, jobs, tasks, products, reasons, job_list) are null,
 * "report" is report and "decided" false. New reference, NULL on ENOMEM.
 * Pure. */
json_t *orch_status_json_doc(const struct orch_rollout *r,
                             const struct orch_taskagg_summary *s,
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
/* An orch_taskagg_task_fn: ud is the struct orch_status_devices. */
int orch_status_devices_row(void *ud, const struct orch_rollout_job *job,
                            const struct orch_task_view *t);
/* Appends task t's line of FILE to all and, for a FAILED task, its line
 * of FILE.failed.csv to failed: what orch_status_devices_row writes (the
 * status cache keeps them). 0 or ORCH_ENOMEM. Pure. */
struct orch_buf;
int orch_status_devices_lines(const struct orch_task_view *t,
                              struct orch_buf *all, struct orch_buf *failed);
/* Writes lines made by orch_status_devices_lines (either may be NULL).
 * Errors are kept for commit, as the row writer's. */
void orch_status_devices_raw(struct orch_status_devices *d, const char *all,
                             const char *failed);
/* Closes and renames into place. 0 or ORCH_EIO with diag. */
int orch_status_devices_commit(struct orch_status_devices *d,
                               struct orch_diag *diag);
/* Closes, removes the temporary files and frees; NULL-safe, idempotent. */
void orch_status_devices_cleanup(struct orch_status_devices *d);

#endif
