/* statusview.c - the text screen, the --json document and the --devices
 * files of `status` (statusview.h).
 */
#include "orch/commands/statusview.h"

#include "orch/rollout/planrows.h"

#include "orch/base/buf.h"
#include "orch/base/err.h"
#include "orch/base/jsonout.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- text */

/* The text of each reason a job holds fewer tasks than devices. */
static const char *const no_task_texts[ORCH_NO_TASK_NREASONS] = {
    [ORCH_NO_TASK_UNKNOWN] = "reason unknown (the firmware could not be "
                             "queried)",
    [ORCH_NO_TASK_ON_VERSION] = "already on the target version (a full "
                                "package skips them)",
    [ORCH_NO_TASK_NOT_ELIGIBLE] = "refused by the API: a differential "
                                  "package takes only devices on its source "
                                  "version (or they are already on the "
                                  "target)",
};

void orch_status_utc(int64_t ms, char *buf, size_t bufsz)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL ||
        strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, bufsz, "?");
}

static double pct(uint64_t n, uint64_t of)
{
    return of ? 100.0 * (double)n / (double)of : 0.0;
}

static void print_group(FILE *fp, const struct orch_taskagg_group *g)
{
    uint64_t pending = 0;
    int st = 0;

    for (st = 0; st < ORCH_TASK_NSTATES; st++) {
        if (orch_task_state_pending(st))
            pending += g->counts[st];
    }
    fprintf(
        fp,
        "  %-24s %zu job%s, %" PRIu64 " tasks: %" PRIu64 " succeeded, %" PRIu64
        " failed, %" PRIu64 " canceled, %" PRIu64 " pending\n",
        g->key[0] ? g->key : "(none)", g->jobs, g->jobs == 1 ? "" : "s",
        g->tasks, g->counts[ORCH_TASK_SUCCEEDED], g->counts[ORCH_TASK_FAILED],
        g->counts[ORCH_TASK_CANCELED], pending);
}

/* Where every device of the plan is. */
static void print_plan(FILE *fp, const struct orch_rollout *r,
                       const struct orch_taskagg_summary *s)
{
    size_t i = 0;
    int k = 0;

    if (s->unsent_chunks)
        fprintf(fp,
                "devices of the plan: %" PRIu64 " in the report, and those "
                "of %zu chunk%s not sent yet\n",
                s->plan_devices, s->unsent_chunks,
                s->unsent_chunks == 1 ? "" : "s");
    else
        fprintf(fp, "devices of the plan: %" PRIu64 "\n", s->plan_devices);
    fprintf(fp, "  %-28s %10" PRIu64 "\n", "in a job, with a task",
            s->with_task);
    for (k = 0; k < ORCH_NO_TASK_NREASONS; k++) {
        if (s->no_task[k])
            fprintf(fp, "  %-28s %10" PRIu64 "  %s\n", "in a job, no task",
                    s->no_task[k], no_task_texts[k]);
    }
    if (s->unqueried)
        fprintf(fp, "  %-28s %10" PRIu64 "\n", "in jobs not queried",
                s->unqueried);
    fprintf(fp, "  %-28s %10" PRIu64 "  (%zu chunk%s)\n", "in failed chunks",
            s->failed_devices, s->failed_chunks,
            s->failed_chunks == 1 ? "" : "s");
    fprintf(fp, "  %-28s %10" PRIu64 "  (%zu chunk%s)\n", "in chunks not sent",
            s->not_sent_devices, s->not_sent_chunks,
            s->not_sent_chunks == 1 ? "" : "s");
    for (i = 0; i < r->nleft; i++) {
        bool not_sent = strcmp(r->left[i].status, "failed") != 0;
        const char *brief =
            not_sent ? orch_planrows_brief(r->left[i].code) : NULL;

        fprintf(fp, "    %-8s %-40s %10" PRIu64 " devices, %zu chunk%s",
                not_sent ? "not sent" : "failed",
                r->left[i].code[0] ? r->left[i].code : "(no code)",
                r->left[i].devices, r->left[i].chunks,
                r->left[i].chunks == 1 ? "" : "s");
        if (brief)
            fprintf(fp, " (%s)", brief);
        fputc('\n', fp);
    }
    if (s->unsent_chunks)
        fprintf(fp,
                "chunks not sent yet: %zu (a later wave, or a run that "
                "stopped; their devices are not in the report): "
                "`ota-rollout resume %s` sends them\n",
                s->unsent_chunks, r->path);
}

/* Jobs by state, then tasks by state. */
static void print_counts(FILE *fp, const struct orch_taskagg_summary *s)
{
    int st = 0;

    fprintf(fp, "jobs: %zu (", s->jobs);
    fprintf(
        fp,
        "planned %zu, running %zu, done %zu: completed %zu, "
        "canceled %zu",
        s->job_states[ORCH_JOB_PLANNED], s->job_states[ORCH_JOB_IN_PROGRESS],
        s->job_states[ORCH_JOB_COMPLETED] + s->job_states[ORCH_JOB_CANCELED],
        s->job_states[ORCH_JOB_COMPLETED], s->job_states[ORCH_JOB_CANCELED]);
    if (s->job_states[ORCH_JOB_UNKNOWN])
        fprintf(fp, "; unknown %zu", s->job_states[ORCH_JOB_UNKNOWN]);
    fprintf(fp, ")\n");
    fprintf(fp, "tasks: %" PRIu64 " (devices in the report: %" PRIu64 ")\n",
            s->tasks, s->devices);
    for (st = 0; st < ORCH_TASK_NSTATES; st++) {
        /* The six states always; CONFIRM and OTHER when they occur. */
        if (st >= ORCH_TASK_CONFIRM && s->counts[st] == 0)
            continue;
        fprintf(fp, "  %-12s %10" PRIu64 "  %5.1f%%\n",
                orch_task_state_name(st), s->counts[st],
                pct(s->counts[st], s->tasks));
    }
}

/* Per product, per wave, the failure reasons and the jobs not queried. */
static void print_details(FILE *fp, const struct orch_rollout *r,
                          const struct orch_taskagg_summary *s,
                          size_t max_reasons)
{
    size_t i = 0, shown = 0;

    fprintf(fp, "per product:\n");
    for (i = 0; i < s->nproducts; i++)
        print_group(fp, &s->products[i]);
    if (s->waves) {
        fprintf(fp, "per wave:\n");
        for (i = 0; i < s->nwaves; i++)
            print_group(fp, &s->waves[i]);
    }
    if (s->nreasons > 0) {
        fprintf(fp, "failure reasons:\n");
        for (i = 0; i < s->nreasons && i < max_reasons; i++)
            fprintf(fp, "  %10" PRIu64 "  %s\n", s->reasons[i]->count,
                    s->reasons[i]->text);
        if (s->nreasons > max_reasons)
            fprintf(fp, "  ... and %zu other reasons\n",
                    s->nreasons - max_reasons);
    }
    if (s->jobs_failed > 0) {
        fprintf(fp, "jobs that could not be queried: %zu\n", s->jobs_failed);
        for (i = 0; i < r->njobs && shown < 10; i++) {
            if (r->jobs[i].query_failed) {
                fprintf(fp, "  %s: %s\n", r->jobs[i].job_id, r->jobs[i].error);
                shown++;
            }
        }
    }
}

/* Whether every task is decided and whether the rollout is complete. */
static void print_verdict(FILE *fp, const struct orch_taskagg_summary *s)
{
    char why[512];

    fprintf(fp, "%s\n",
            s->decided ? "every task is decided"
                       : "still pending: some tasks are not decided yet");
    if (s->complete) {
        fprintf(fp, "rollout complete: every device of the plan is "
                    "upgraded or already on the target version\n");
        return;
    }
    orch_taskagg_incomplete(s, why, sizeof(why));
    fprintf(fp, "rollout not complete: %s\n", why);
}

void orch_status_print(FILE *fp, const struct orch_rollout *r,
                       const struct orch_taskagg_summary *s, size_t max_reasons)
{
    fprintf(fp, "rollout: %s\n", r->path);
    print_counts(fp, s);
    print_details(fp, r, s, max_reasons);
    print_plan(fp, r, s);
    print_verdict(fp, s);
}

static json_t *counts_json(const uint64_t *counts, uint64_t total)
{
    json_t *o = json_object();
    int st = 0;
    int bad = 0;

    if (o == NULL)
        return NULL;
    bad |= json_object_set_new(o, "total", json_integer((json_int_t)total));
    for (st = 0; st < ORCH_TASK_NSTATES; st++)
        bad |= json_object_set_new(o, orch_task_state_name(st),
                                   json_integer((json_int_t)counts[st]));
    return orch_jsonout_built(o, bad);
}

/* A wave as JSON: its number, null when unknown ("?", "", not a number). */
static json_t *wave_json(const char *w)
{
    char *end = NULL;
    unsigned long n = 0;

    if (w == NULL || w[0] < '0' || w[0] > '9')
        return json_null();
    n = strtoul(w, &end, 10);
    if (*end != '\0' || n == 0)
        return json_null();
    return json_integer((json_int_t)n);
}

static json_t *groups_json(const struct orch_taskagg_group *g, size_t n,
                           const char *keyname)
{
    json_t *arr = json_array();
    size_t i = 0;
    bool waves = strcmp(keyname, "wave") == 0;

    for (i = 0; arr && i < n; i++) {
        json_t *key = waves ? wave_json(g[i].key) : json_string(g[i].key);
        json_t *o = json_pack("{s:o*, s:I, s:I, s:o*}", keyname, key, "jobs",
                              (json_int_t)g[i].jobs, "devices",
                              (json_int_t)g[i].devices, "tasks",
                              counts_json(g[i].counts, g[i].tasks));

        if (o == NULL || json_array_append_new(arr, o)) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *job_list_json(const struct orch_rollout *r)
{
    json_t *arr = json_array();
    size_t i = 0;

    for (i = 0; arr && i < r->njobs; i++) {
        const struct orch_rollout_job *j = &r->jobs[i];
        uint64_t total = 0;
        int st = 0;
        json_t *o = NULL;
        int bad = 0;

        for (st = 0; st < ORCH_TASK_NSTATES; st++)
            total += j->counts[st];
        o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:o*}", "job_id", j->job_id,
                      "product_key", j->product_key, "firmware_id",
                      j->firmware_id, "devices", (json_int_t)j->device_count,
                      "status",
                      j->query_failed    ? "UNKNOWN"
                      : j->job_status[0] ? j->job_status
                                         : "UNKNOWN",
                      "tasks", counts_json(j->counts, total));
        if (o && j->wave)
            bad |= json_object_set_new(
                o, "wave",
                j->wave_no ? json_integer((json_int_t)j->wave_no)
                           : json_null());
        if (o && orch_taskagg_no_task(j))
            bad |= json_object_set_new(
                o, "no_task",
                json_pack("{s:I, s:s}", "devices",
                          (json_int_t)orch_taskagg_no_task(j), "reason",
                          orch_no_task_name(j->no_task_reason)));
        if (o && j->query_failed)
            bad |= json_object_set_new(o, "error", json_string(j->error));
        if (o == NULL || bad || json_array_append_new(arr, o)) {
            json_decref(o);
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* "plan": where every device of the plan is. */
static json_t *plan_json(const struct orch_rollout *r,
                         const struct orch_taskagg_summary *s)
{
    json_t *codes = json_array();
    json_t *o = NULL;
    uint64_t none = 0;
    size_t i = 0;
    int k = 0;

    for (k = 0; k < ORCH_NO_TASK_NREASONS; k++)
        none += s->no_task[k];
    for (i = 0; codes && i < r->nleft; i++) {
        const struct orch_rollout_left *l = &r->left[i];
        const char *brief = strcmp(l->status, "failed") != 0
                                ? orch_planrows_brief(l->code)
                                : NULL;
        json_t *c = json_pack("{s:s, s:s, s:I, s:I}", "status", l->status,
                              "code", l->code, "chunks", (json_int_t)l->chunks,
                              "devices", (json_int_t)l->devices);

        /* The screen's words for a waiting plan row (planrows.h). */
        if (c && brief &&
            json_object_set_new(c, "explanation", json_string(brief))) {
            json_decref(c);
            c = NULL;
        }
        if (c == NULL || json_array_append_new(codes, c)) {
            json_decref(codes);
            return NULL;
        }
    }
    if (codes == NULL)
        return NULL;
    o = json_pack(
        "{s:I, s:I, s:{s:I, s:I, s:I, s:I}, s:I, s:{s:I, s:I}, s:{s:I, s:I}, "
        "s:I, s:o}",
        "devices", (json_int_t)s->plan_devices, "with_task",
        (json_int_t)s->with_task, "no_task", "total", (json_int_t)none,
        "on_version", (json_int_t)s->no_task[ORCH_NO_TASK_ON_VERSION],
        "not_eligible", (json_int_t)s->no_task[ORCH_NO_TASK_NOT_ELIGIBLE],
        "unknown", (json_int_t)s->no_task[ORCH_NO_TASK_UNKNOWN], "unqueried",
        (json_int_t)s->unqueried, "failed", "chunks",
        (json_int_t)s->failed_chunks, "devices", (json_int_t)s->failed_devices,
        "not_sent", "chunks", (json_int_t)s->not_sent_chunks, "devices",
        (json_int_t)s->not_sent_devices, "unsent_chunks",
        (json_int_t)s->unsent_chunks, "codes", codes);
    return o;
}

json_t *orch_status_json(const struct orch_rollout *r,
                         const struct orch_taskagg_summary *s)
{
    json_t *doc = NULL;
    json_t *jobs = json_object();
    json_t *reasons = json_array();
    size_t i = 0;
    int st = 0;
    int bad = jobs == NULL || reasons == NULL;

    for (st = 0; !bad && st < ORCH_JOB_NSTATES; st++)
        bad |= json_object_set_new(jobs, orch_job_state_name(st),
                                   json_integer((json_int_t)s->job_states[st]));
    if (!bad) {
        bad |= json_object_set_new(jobs, "total",
                                   json_integer((json_int_t)s->jobs));
        bad |= json_object_set_new(jobs, "query_failed",
                                   json_integer((json_int_t)s->jobs_failed));
    }
    for (i = 0; !bad && i < s->nreasons; i++)
        bad |= json_array_append_new(
            reasons, json_pack("{s:s, s:I}", "reason", s->reasons[i]->text,
                               "count", (json_int_t)s->reasons[i]->count));
    if (bad) {
        json_decref(jobs);
        json_decref(reasons);
        return NULL;
    }
    doc = json_pack("{s:s, s:b, s:b, s:I, s:o*, s:o, s:o*, s:o*, s:o, s:o*}",
                    "report", r->path, "decided", s->decided, "complete",
                    s->complete, "devices", (json_int_t)s->devices, "plan",
                    plan_json(r, s), "jobs", jobs, "tasks",
                    counts_json(s->counts, s->tasks), "products",
                    groups_json(s->products, s->nproducts, "product_key"),
                    "reasons", reasons, "job_list", job_list_json(r));
    if (doc && r->has_wave &&
        json_object_set_new(doc, "waves",
                            groups_json(s->waves, s->nwaves, "wave"))) {
        json_decref(doc);
        return NULL;
    }
    /* json_pack's "o*" drops a NULL (failed) member silently: check. */
    if (doc && (json_object_get(doc, "tasks") == NULL ||
                json_object_get(doc, "plan") == NULL ||
                json_object_get(doc, "products") == NULL ||
                json_object_get(doc, "job_list") == NULL)) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

json_t *orch_status_json_doc(const struct orch_rollout *r,
                             const struct orch_taskagg_summary *s,
                             const char *report, int code, const char *reason)
{
    static const char *const counted[] = {
        "devices", "plan", "jobs", "tasks", "products", "reasons", "job_list"};
    json_t *doc = NULL;
    json_t *base = orch_jsonout_doc("status", code, reason);
    size_t i = 0;
    int bad = base == NULL;

    if (!bad && r != NULL && s != NULL) {
        doc = orch_status_json(r, s);
        bad = doc == NULL || json_object_update(doc, base);
    } else if (!bad) {
        /* No complete count: the same keys, null, so that a script reads
         * one shape whatever happened. */
        doc = json_object();
        bad = doc == NULL;
        if (!bad)
            bad |= json_object_set_new(
                doc, "report", report ? json_string(report) : json_null());
        if (!bad)
            bad |= json_object_set_new(doc, "decided", json_false());
        if (!bad)
            bad |= json_object_set_new(doc, "complete", json_false());
        for (i = 0; !bad && i < sizeof(counted) / sizeof(counted[0]); i++)
            bad |= json_object_set_new(doc, counted[i], json_null());
        if (!bad)
            bad |= json_object_update(doc, base);
    }
    json_decref(base);
    return orch_jsonout_built(doc, bad);
}

/* ------------------------------------------------------ devices files */

static char *with_suffix(const char *path, const char *suffix)
{
    size_t a = strlen(path), b = strlen(suffix);
    char *out = malloc(a + b + 1);

    if (out == NULL)
        return NULL;
    memcpy(out, path, a);
    memcpy(out + a, suffix, b + 1);
    return out;
}

int orch_status_devices_open(struct orch_status_devices *d, const char *path,
                             struct orch_diag *diag)
{
    int rc = 0;

    memset(d, 0, sizeof(*d));
    d->path = strdup(path);
    d->failed_path = orch_report_sibling(path, ".failed.csv");
    if (d->path && d->failed_path) {
        d->tmp = with_suffix(d->path, ".tmp");
        d->failed_tmp = with_suffix(d->failed_path, ".tmp");
    }
    if (d->tmp == NULL || d->failed_tmp == NULL) {
        orch_status_devices_cleanup(d);
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    }
    rc = orch_csv_out_open(&d->all, d->tmp, ORCH_STATUS_DEVICES_HEADER, diag);
    if (rc == 0) {
        rc = orch_csv_out_open(&d->failed, d->failed_tmp,
                               ORCH_STATUS_FAILED_HEADER, diag);
        if (rc)
            orch_csv_out_close(&d->all);
    }
    if (rc) {
        unlink(d->tmp);
        orch_status_devices_cleanup(d);
        return rc;
    }
    /* The files are whole only once renamed by commit, which checks the
     * close: no need to flush row by row. */
    d->all.buffered = true;
    d->failed.buffered = true;
    d->open = true;
    return 0;
}

int orch_status_devices_lines(const struct orch_task_view *t,
                              struct orch_buf *all, struct orch_buf *failed)
{
    const char *cells[7];
    char progress[24] = "";
    int rc = 0;

    if (t->progress >= 0)
        snprintf(progress, sizeof(progress), "%lld", t->progress);
    cells[0] = t->product_key;
    cells[1] = t->device_name;
    cells[2] = t->job_id;
    cells[3] = t->task_id;
    cells[4] = t->status;
    cells[5] = progress;
    cells[6] = t->reason;
    rc = orch_csv_format_row(all, cells, 7);
    if (rc == 0 && t->state == ORCH_TASK_FAILED) {
        cells[2] = t->reason[0] ? t->reason : "FAILED";
        rc = orch_csv_format_row(failed, cells, 3);
    }
    return rc;
}

static void put_text(struct orch_status_devices *d, FILE *fp, const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n && fwrite(s, 1, n, fp) != n && d->err == 0)
        d->err = ORCH_EIO;
}

void orch_status_devices_raw(struct orch_status_devices *d, const char *all,
                             const char *failed)
{
    if (!d->open)
        return;
    put_text(d, d->all.fp, all);
    put_text(d, d->failed.fp, failed);
}

int orch_status_devices_row(void *ud, const struct orch_rollout_job *job,
                            const struct orch_task_view *t)
{
    struct orch_status_devices *d = ud;
    struct orch_buf all, failed;
    int rc = 0;

    (void)job;
    if (!d->open)
        return 0;
    orch_buf_init(&all);
    orch_buf_init(&failed);
    rc = orch_status_devices_lines(t, &all, &failed);
    if (rc == 0)
        orch_status_devices_raw(d, orch_buf_str(&all), orch_buf_str(&failed));
    else if (d->err == 0)
        d->err = rc;
    orch_buf_cleanup(&all);
    orch_buf_cleanup(&failed);
    /* A full disk must not stop the queries: the error is reported at
     * commit. */
    return 0;
}

int orch_status_devices_commit(struct orch_status_devices *d,
                               struct orch_diag *diag)
{
    int rc = d->err;
    int rc2 = 0;

    if (!d->open)
        return 0;
    rc2 = orch_csv_out_close(&d->all);
    if (rc == 0)
        rc = rc2;
    rc2 = orch_csv_out_close(&d->failed);
    if (rc == 0)
        rc = rc2;
    d->open = false;
    if (rc == 0 && (rename(d->tmp, d->path) != 0 ||
                    rename(d->failed_tmp, d->failed_path) != 0))
        rc = ORCH_EIO;
    if (rc) {
        unlink(d->tmp);
        unlink(d->failed_tmp);
        return orch_diag_set(diag, ORCH_EIO, "writing %s failed: %s", d->path,
                             strerror(errno));
    }
    return 0;
}

void orch_status_devices_cleanup(struct orch_status_devices *d)
{
    if (d == NULL)
        return;
    if (d->open) {
        orch_csv_out_close(&d->all);
        orch_csv_out_close(&d->failed);
        unlink(d->tmp);
        unlink(d->failed_tmp);
        d->open = false;
    }
    free(d->path);
    free(d->failed_path);
    free(d->tmp);
    free(d->failed_tmp);
    d->path = d->failed_path = d->tmp = d->failed_tmp = NULL;
}
