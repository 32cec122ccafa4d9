/* runfiles.h - the files a `run` writes next to its report (report.h has
 * their formats):
 *
 *  <report>              one row per chunk, from the chunk's done record
 *  <report>.failed.csv   the devices of every chunk that created no job
 *                        and whose outcome is known (safe to send again
 *                        once the run is over: see orch_outcome_unknown),
 *                        except a chunk whose wave was not created
 *                        (WaveNotStarted, WaveAborted, WavePaused,
 *                        Deferred: planrows.h), which is in no device
 *                        file
 *  <report>.ambiguous.csv the devices of every chunk whose outcome is
 *                        unknown (a job may hold them: only a resume may
 *                        decide them), with the reason
 *  <report>.rejects.csv  rejected inventory rows, devices left out by the
 *                        device check
 *
 * While a run goes on, rows are appended to the live files as results
 * become durable (run.c decides when: after the journal sync that carries
 * them). At the end, and before a resumed run appends, the report and the
 * device files are rewritten whole, in chunk order, from every
 * chunk's outcome: each into "<name>.tmp", fsynced, then renamed over the
 * old one, the device files first (a crash leaves either the old file or
 * the new one, and a report that still matches the journal).
 * orch_runfiles_keep_old() moves an earlier run's files aside as
 * "<name>.<UTC timestamp>" (--force): they are never deleted.
 *
 * Nothing here prints: failures return ORCH_E* with detail in the caller's
 * diag, and a failed row write is remembered in write_err (the first one)
 * so that the run goes on and reports it at the end. Not thread-safe.
 */
#ifndef ORCH_RUNFILES_H
#define ORCH_RUNFILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "orch/rollout/report.h"

struct orch_diag;
struct orch_plan;

#define ORCH_FAILED_HEADER "ProductKey,DeviceName,error_code"
#define ORCH_AMBIGUOUS_HEADER "ProductKey,DeviceName,error_code,reason"
#define ORCH_REJECTS_HEADER "line,value,reason"

/* The run's output files. Caller-owned: orch_runfiles_init(), then
 * orch_runfiles_close() (which every path must reach once files may be
 * open). */
struct orch_runfiles {
    const char *report_path;      /* borrowed (the config's) */
    const struct orch_plan *plan; /* borrowed; NULL: ALL/GRAY target, whose
                                     one row names product_key and
                                     firmware_id and lists no devices */
    const char *product_key;      /* borrowed; ALL/GRAY rows only */
    const char *firmware_id;      /* borrowed; ALL/GRAY rows only */
    const unsigned *attempts;     /* borrowed [plan chunks]: sends of each
                                     chunk over the whole run (runlog.h),
                                     read at each write; NULL: none known
                                     (a not_sent chunk then counts as
                                     never sent) */

    struct orch_csv_out report, failed, ambiguous, rejects;
    bool report_open, failed_open, ambiguous_open, rejects_open;
    bool outputs_written;         /* the report files were opened */
    bool rejects_written;         /* the rejects file was opened */
    int write_err;                /* first failed write, 0 if none */
};

/* Zeroes f and records what its rows describe (all borrowed; the plan
 * may be rebuilt in place later, it is read at each write). */
void orch_runfiles_init(struct orch_runfiles *f, const char *report_path,
                        const struct orch_plan *plan, const char *product_key,
                        const char *firmware_id);

/* Creates "<report>.rejects.csv" (truncating) with its header. 0, or
 * ORCH_ENOMEM / ORCH_EIO with diag (diag may stay empty on ENOMEM). */
int orch_runfiles_open_rejects(struct orch_runfiles *f,
                               struct orch_diag *diag);

/* One row "line,value,reason" of the rejects file (open). 0, or ORCH_EIO
 * (also kept in write_err). */
int orch_runfiles_reject(struct orch_runfiles *f, uint32_t line,
                         const char *value, const char *reason);

/* Opens the live report, failed- and ambiguous-devices files: created
 * anew, or with
 * `append` (a resumed run, after orch_runfiles_rewrite) opened for
 * appending. 0, or ORCH_ENOMEM / ORCH_EIO with diag (diag may stay empty;
 * on failure the report may be open, and orch_runfiles_close() closes
 * it). */
int orch_runfiles_open(struct orch_runfiles *f, bool append,
                       struct orch_diag *diag);

/* Appends chunk `item`'s row (0-based) from its done record to the live
 * report, and, when it created no job, its devices to the ambiguous file
 * when its outcome is unknown (orch_outcome_unknown with attempts), else
 * to the failed-devices file; does nothing when the report is not open.
 * Write errors go to write_err. */
void orch_runfiles_write(struct orch_runfiles *f, size_t item,
                         const json_t *done);

/* Rewrites the report and the two device files whole from rows[0..n)
 * (NULL entries: no outcome, no row), through temp files (see above).
 * The live files must be closed. Leaves write_err alone. 0, or
 * ORCH_ENOMEM / ORCH_EIO with diag (may stay empty); on failure the old
 * files are left as they were and the temp files removed. */
int orch_runfiles_rewrite(struct orch_runfiles *f, json_t *const *rows,
                          size_t n, struct orch_diag *diag);

/* Remembers rc (a failure of the run's files found by the caller, e.g. a
 * failed orch_runfiles_rewrite) in write_err unless rc is 0 or an earlier
 * failure is there. */
void orch_runfiles_note(struct orch_runfiles *f, int rc);

/* Closes the live report and device files (the rejects file stays
 * open); close errors go to write_err. */
void orch_runfiles_close_results(struct orch_runfiles *f);

/* Closes whatever is open. Returns write_err: 0 when every write and
 * close of the run's files succeeded. */
int orch_runfiles_close(struct orch_runfiles *f);

/* Told about each earlier file found by orch_runfiles_keep_old(): renamed
 * `from` to `to` (errnum 0), or failed to (errnum is the errno). */
typedef void (*orch_runfiles_kept_fn)(void *ud, const char *from,
                                      const char *to, int errnum);

/* --force over an earlier run: renames the report, its journal, failed,
 * ambiguous, waves and (with_rejects: this run may have opened its own) rejects
 * files that exist to "<name>.<UTC timestamp of now>" (with "-K" added
 * when that name exists already, so two runs in one second keep both).
 * Stops at the first rename that fails. 0, ORCH_ENOMEM, or ORCH_EIO after
 * a failed rename (kept() was told). */
int orch_runfiles_keep_old(const char *report_path, bool with_rejects,
                           time_t now, orch_runfiles_kept_fn kept, void *ud);

/* True when something exists at path. */
bool orch_runfiles_exists(const char *path);

#endif
