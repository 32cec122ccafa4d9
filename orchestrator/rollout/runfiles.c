/* runfiles.c - the run's report, failed-devices, ambiguous-devices and
 * rejects files
 * (runfiles.h).
 *
 * DESIGN: one row writer, write_result(), serves both the live files
 * (appended as results become durable) and the end-of-run rewrite (into
 * temp files, renamed over the live ones). It takes the error accumulator
 * as an argument: the live files keep the run's first failure in
 * write_err, the rewrite keeps its own and returns it.
 */
#include "orch/rollout/runfiles.h"

#include "orch/base/err.h"
#include "orch/rollout/outcome.h"
#include "orch/rollout/planrows.h"
#include "orch/model/plan.h"
#include "orch/rollout/wavemap.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void orch_runfiles_init(struct orch_runfiles *f, const char *report_path,
                        const struct orch_plan *plan, const char *product_key,
                        const char *firmware_id)
{
    memset(f, 0, sizeof(*f));
    f->report_path = report_path;
    f->plan = plan;
    f->product_key = product_key;
    f->firmware_id = firmware_id;
}

static void note(int *err, int rc)
{
    if (rc && *err == 0)
        *err = rc;
}

void orch_runfiles_note(struct orch_runfiles *f, int rc)
{
    note(&f->write_err, rc);
}

int orch_runfiles_open_rejects(struct orch_runfiles *f,
                               struct orch_diag *diag)
{
    char *path = orch_report_sibling(f->report_path, ".rejects.csv");
    int rc = 0;

    if (path == NULL)
        return ORCH_ENOMEM;
    rc = orch_csv_out_open(&f->rejects, path, ORCH_REJECTS_HEADER, diag);
    if (rc == 0)
        f->rejects_open = f->rejects_written = true;
    free(path);
    return rc;
}

int orch_runfiles_reject(struct orch_runfiles *f, uint32_t line,
                         const char *value, const char *reason)
{
    char num[16];
    const char *cells[3];
    int rc = 0;

    snprintf(num, sizeof(num), "%" PRIu32, line);
    cells[0] = num;
    cells[1] = value;
    cells[2] = reason;
    rc = orch_csv_out_row(&f->rejects, cells, 3);
    note(&f->write_err, rc);
    return rc;
}

/* The chunk's devices, one row each: ProductKey, DeviceName, code and,
 * when reason is not NULL, the reason (the ambiguous file's fourth
 * column). */
static void write_devices(const struct orch_plan *plan,
                          struct orch_csv_out *o, const struct orch_chunk *c,
                          const char *code, const char *reason, int *err)
{
    const char *cells[4];
    uint32_t j = 0;

    cells[0] = orch_plan_product(plan, c);
    cells[2] = code;
    cells[3] = reason;
    for (j = 0; j < c->count; j++) {
        cells[1] = orch_plan_device(plan, c, j);
        note(err, orch_csv_out_row(o, cells, reason ? 4 : 3));
    }
}

/* True when chunk `item` was sent in this run or an earlier one. */
static bool chunk_sent(const struct orch_runfiles *f, size_t item)
{
    return f->attempts != NULL && f->attempts[item] > 0;
}

/* The devices of a chunk that created no job: to `ambiguous` when its
 * outcome is unknown (a job may hold them), else to `failed` (NULL
 * outputs: not written). */
static void write_devices_of(const struct orch_runfiles *f, size_t item,
                             const json_t *d, const char *code,
                             struct orch_csv_out *failed,
                             struct orch_csv_out *ambiguous, int *err)
{
    const struct orch_chunk *c = &f->plan->chunks[item];
    char reason[700];

    if (!orch_outcome_unknown(d, chunk_sent(f, item))) {
        if (failed != NULL)
            write_devices(f->plan, failed, c, code, NULL, err);
        return;
    }
    if (ambiguous == NULL)
        return;
    snprintf(reason, sizeof(reason),
             "outcome unknown: a job may hold these devices; never rerun "
             "them: `ota-rollout resume %.500s` looks the job up",
             f->report_path);
    write_devices(f->plan, ambiguous, c, code, reason, err);
}

/* Writes chunk `item`'s report row (from its done record d) to `report`
 * and, when it did not create a job, its devices to `failed` or
 * `ambiguous` (NULL: not written). */
static void write_result(const struct orch_runfiles *f, size_t item,
                         const json_t *d, struct orch_csv_out *report,
                         struct orch_csv_out *failed,
                         struct orch_csv_out *ambiguous, int *err)
{
    const struct orch_chunk *c = NULL;
    struct orch_report_row row;
    json_t *att = json_object_get(d, "attempts");
    bool created = orch_outcome_created(d);

    memset(&row, 0, sizeof(row));
    row.chunk = (unsigned)item + 1;
    row.status = orch_outcome_str(d, "status");
    row.attempts = json_is_integer(att) ? (unsigned)json_integer_value(att) : 0;
    if (f->plan) {
        c = &f->plan->chunks[item];
        row.product_key = orch_plan_product(f->plan, c);
        row.firmware_id = c->firmware_id;
        row.device_count = c->count;
        row.first_device = orch_plan_device(f->plan, c, 0);
        row.last_device = orch_plan_device(f->plan, c, c->count - 1);
    } else {
        row.product_key = f->product_key;
        row.firmware_id = f->firmware_id;
    }
    row.job_id = orch_outcome_str(d, "job_id");
    row.utc_create = orch_outcome_str(d, "utc_create");
    row.request_id = orch_outcome_str(d, "request_id");
    if (!created) {
        row.error_code = orch_outcome_code(d);
        row.error_message = orch_outcome_str(d, "message");
    } else if (json_is_true(json_object_get(d, "recovered"))) {
        row.error_message = "recovered: the answer was lost; the job was "
                            "found by its tag/devices";
    }
    note(err, orch_report_write_row(report, &row));
    /* A chunk whose wave was not created (planrows.h) is in no device
     * file: a rerun of the failed file must not send it. */
    if (!created && c != NULL && !orch_planrows_waiting(d))
        write_devices_of(f, item, d, row.error_code, failed, ambiguous, err);
}

void orch_runfiles_write(struct orch_runfiles *f, size_t item,
                         const json_t *done)
{
    if (f->report_open)
        write_result(f, item, done, &f->report,
                     f->failed_open ? &f->failed : NULL,
                     f->ambiguous_open ? &f->ambiguous : NULL,
                     &f->write_err);
}

int orch_runfiles_open(struct orch_runfiles *f, bool append,
                       struct orch_diag *diag)
{
    int (*open_fn)(struct orch_csv_out *, const char *, const char *,
                   struct orch_diag *) =
        append ? orch_csv_out_append : orch_csv_out_open;
    char *failed = orch_report_sibling(f->report_path, ".failed.csv");
    char *ambiguous = orch_report_sibling(f->report_path, ".ambiguous.csv");
    int rc = 0;

    if (failed == NULL || ambiguous == NULL) {
        free(failed);
        free(ambiguous);
        return ORCH_ENOMEM;
    }
    rc = open_fn(&f->report, f->report_path, ORCH_REPORT_HEADER, diag);
    if (rc == 0) {
        f->report_open = true;
        rc = open_fn(&f->failed, failed, ORCH_FAILED_HEADER, diag);
    }
    if (rc == 0) {
        f->failed_open = f->outputs_written = true;
        rc = open_fn(&f->ambiguous, ambiguous, ORCH_AMBIGUOUS_HEADER, diag);
    }
    if (rc == 0)
        f->ambiguous_open = true;
    free(ambiguous);
    free(failed);
    return rc;
}

/* Makes tmp durable and renames it over path: a crash leaves either the
 * old file or the new one. Removes tmp on failure. */
static int finish_tmp(const char *tmp, const char *path)
{
    int fd = open(tmp, O_RDONLY | O_CLOEXEC);
    int rc = 0;

    if (fd < 0 || fsync(fd) != 0)
        rc = ORCH_EIO;
    if (fd >= 0)
        close(fd);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = ORCH_EIO;
    if (rc)
        unlink(tmp);
    return rc;
}

int orch_runfiles_rewrite(struct orch_runfiles *f, json_t *const *rows,
                          size_t n, struct orch_diag *diag)
{
    const char *report = f->report_path;
    struct orch_csv_out r, fo, ao;
    char *failed = orch_report_sibling(report, ".failed.csv");
    char *ambiguous = orch_report_sibling(report, ".ambiguous.csv");
    char *rtmp = orch_report_sibling(report, ".tmp");
    char *ftmp = failed ? orch_report_sibling(failed, ".tmp") : NULL;
    char *atmp = ambiguous ? orch_report_sibling(ambiguous, ".tmp") : NULL;
    bool r_open = false, f_open = false, a_open = false;
    size_t i = 0;
    int rc = 0;

    memset(&r, 0, sizeof(r));
    memset(&fo, 0, sizeof(fo));
    memset(&ao, 0, sizeof(ao));
    if (failed == NULL || ambiguous == NULL || rtmp == NULL ||
        ftmp == NULL || atmp == NULL) {
        rc = ORCH_ENOMEM;
        goto out;
    }
    rc = orch_csv_out_open(&r, rtmp, ORCH_REPORT_HEADER, diag);
    r_open = rc == 0;
    if (rc == 0)
        rc = orch_csv_out_open(&fo, ftmp, ORCH_FAILED_HEADER, diag);
    f_open = r_open && rc == 0;
    if (rc == 0)
        rc = orch_csv_out_open(&ao, atmp, ORCH_AMBIGUOUS_HEADER, diag);
    a_open = f_open && rc == 0;
    if (rc)
        goto out;
    /* Written whole, then closed and checked: no flush per row (a 10^6-row
     * run wrote 5,001 single-row write()s here). */
    r.buffered = fo.buffered = ao.buffered = true;
    for (i = 0; i < n; i++) {
        if (rows[i])
            write_result(f, i, rows[i], &r, &fo, &ao, &rc);
    }
    r_open = f_open = a_open = false;
    if (orch_csv_out_close(&r) != 0 && rc == 0)
        rc = ORCH_EIO;
    if (orch_csv_out_close(&fo) != 0 && rc == 0)
        rc = ORCH_EIO;
    if (orch_csv_out_close(&ao) != 0 && rc == 0)
        rc = ORCH_EIO;
    /* The device files first: a crash between the renames leaves a report
     * that still matches the journal, which is rewritten on resume. */
    if (rc == 0)
        rc = finish_tmp(ftmp, failed);
    if (rc == 0)
        rc = finish_tmp(atmp, ambiguous);
    if (rc == 0)
        rc = finish_tmp(rtmp, report);
out:
    if (r_open)
        orch_csv_out_close(&r);
    if (f_open)
        orch_csv_out_close(&fo);
    if (a_open)
        orch_csv_out_close(&ao);
    if (rc) {
        if (rtmp)
            unlink(rtmp);
        if (ftmp)
            unlink(ftmp);
        if (atmp)
            unlink(atmp);
    }
    free(atmp);
    free(ftmp);
    free(rtmp);
    free(ambiguous);
    free(failed);
    return rc;
}

void orch_runfiles_close_results(struct orch_runfiles *f)
{
    if (f->report_open)
        note(&f->write_err, orch_csv_out_close(&f->report));
    if (f->failed_open)
        note(&f->write_err, orch_csv_out_close(&f->failed));
    if (f->ambiguous_open)
        note(&f->write_err, orch_csv_out_close(&f->ambiguous));
    f->report_open = f->failed_open = f->ambiguous_open = false;
}

int orch_runfiles_close(struct orch_runfiles *f)
{
    orch_runfiles_close_results(f);
    if (f->rejects_open)
        note(&f->write_err, orch_csv_out_close(&f->rejects));
    f->rejects_open = false;
    return f->write_err;
}

bool orch_runfiles_exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

/* Renames `from` to the first free "<from>.<stamp>[-K]". 0, or ORCH_ENOMEM,
 * or ORCH_EIO after telling kept(). */
static int keep_one(const char *from, const char *stamp,
                    orch_runfiles_kept_fn kept, void *ud)
{
    char *to = malloc(strlen(from) + strlen(stamp) + 16);
    unsigned k = 1;
    int rc = 0;

    if (to == NULL)
        return ORCH_ENOMEM;
    /* Two --force runs in one second must not overwrite the first one's
     * kept files. */
    sprintf(to, "%s.%s", from, stamp);
    while (orch_runfiles_exists(to) && k < 1000)
        sprintf(to, "%s.%s-%u", from, stamp, k++);
    if (rename(from, to) != 0) {
        kept(ud, from, to, errno);
        rc = ORCH_EIO;
    } else {
        kept(ud, from, to, 0);
    }
    free(to);
    return rc;
}

int orch_runfiles_keep_old(const char *report_path, bool with_rejects,
                           time_t now, orch_runfiles_kept_fn kept, void *ud)
{
    static const char *const suffixes[] = {"", ".journal", ".failed.csv",
                                           ".ambiguous.csv",
                                           ORCH_WAVES_FILE_SUFFIX,
                                           ".rejects.csv"};
    size_t nsuffixes = sizeof(suffixes) / sizeof(suffixes[0]);
    char stamp[32];
    struct tm tm;
    size_t i = 0;
    int rc = 0;

    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    if (!with_rejects)
        nsuffixes--;
    for (i = 0; i < nsuffixes && rc == 0; i++) {
        char *from = i == 0 ? strdup(report_path)
                            : orch_report_sibling(report_path, suffixes[i]);

        if (from == NULL)
            rc = ORCH_ENOMEM;
        else if (orch_runfiles_exists(from))
            rc = keep_one(from, stamp, kept, ud);
        free(from);
    }
    return rc;
}
