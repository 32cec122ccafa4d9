/* status.c - the `status` command: task counts, reasons and job states of
 * a whole rollout, once or until every task is decided.
 *
 * DESIGN: one refresh is three paced batches (orch_query_run, at the query
 * quota): (1) ListOTATaskByJob page 1 of every job, whose Total tells how
 * many pages each job has; (2) every remaining page of every job; (3)
 * QueryOTAJob for the jobs whose state the tasks do not tell. Each answer
 * is folded into its job's counts as it arrives (orch_status_add_page,
 * pure), and each task goes to the --devices files as it is seen, so
 * memory does not grow with the fleet. Then orch_status_summarize() and
 * the screen (or JSON). --watch sleeps --interval and starts again until
 * the summary is decided. SIGINT only sets a flag; the batches and the
 * sleep poll it.
 */
#include "orch/commands/status.h"

#include "orch/cloud/api.h"
#include "orch/model/config.h"
#include "orch/cloud/credentials.h"
#include "orch/engine/dispatch.h"
#include "orch/base/err.h"
#include "orch/base/exitcode.h"
#include "orch/base/jsonout.h"
#include "orch/base/msgs.h"
#include "orch/cloud/params.h"
#include "orch/base/clock.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------- reasons */

void orch_status_agg_init(struct orch_status_agg *a)
{
    memset(a, 0, sizeof(*a));
}

void orch_status_agg_cleanup(struct orch_status_agg *a)
{
    size_t i = 0;

    if (a == NULL)
        return;
    for (i = 0; i < a->n; i++)
        free(a->reasons[i].text);
    free(a->reasons);
    memset(a, 0, sizeof(*a));
}

int orch_status_agg_reason(struct orch_status_agg *a, const char *reason)
{
    size_t i = 0;

    if (reason == NULL || reason[0] == '\0')
        reason = "(none)";
    /* Distinct reasons are few (a handful of TaskDesc texts): a linear
     * scan beats a hash table here. */
    for (i = 0; i < a->n; i++) {
        if (strcmp(a->reasons[i].text, reason) == 0) {
            a->reasons[i].count++;
            return 0;
        }
    }
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        struct orch_status_reason *grown =
            realloc(a->reasons, cap * sizeof(*grown));

        if (grown == NULL)
            return ORCH_ENOMEM;
        a->reasons = grown;
        a->cap = cap;
    }
    a->reasons[a->n].text = strdup(reason);
    if (a->reasons[a->n].text == NULL)
        return ORCH_ENOMEM;
    a->reasons[a->n].count = 1;
    a->n++;
    return 0;
}

/* --------------------------------------------------------------- pages */

static const char *str_field(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

static long long int_field(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    if (json_is_integer(v))
        return (long long)json_integer_value(v);
    if (json_is_string(v)) {
        char *end = NULL;
        long long n = strtoll(json_string_value(v), &end, 10);

        if (end != json_string_value(v) && *end == '\0')
            return n;
    }
    return -1;
}

/* Data.SimpleOTATaskInfo: an array, or (some SDK shapes) an object
 * holding the array under the same name. */
static const json_t *task_list(const json_t *root)
{
    const json_t *data = json_object_get(root, "Data");
    const json_t *list = json_object_get(data, "SimpleOTATaskInfo");

    if (json_is_object(list))
        list = json_object_get(list, "SimpleOTATaskInfo");
    return json_is_array(list) ? list : NULL;
}

int orch_status_add_page(struct orch_status_agg *agg,
                         struct orch_rollout_job *job, const json_t *root,
                         orch_status_task_fn fn, void *ud)
{
    const json_t *list = task_list(root);
    const json_t *t = NULL;
    long long total = int_field(root, "Total");
    size_t i = 0;
    int rc = 0;

    if (list == NULL)
        return ORCH_EDECODE;
    if (total >= 0 && (uint64_t)total > job->total) {
        job->total = (uint64_t)total;
        job->pages = (unsigned)((job->total + ORCH_STATUS_PAGE_SIZE - 1) /
                                ORCH_STATUS_PAGE_SIZE);
    }
    json_array_foreach(list, i, t)
    {
        struct orch_task_view v;
        const char *pk = str_field(t, "ProductKey");

        memset(&v, 0, sizeof(v));
        v.product_key = pk[0] ? pk : job->product_key;
        v.device_name = str_field(t, "DeviceName");
        v.job_id = job->job_id;
        v.task_id = str_field(t, "TaskId");
        v.status = str_field(t, "TaskStatus");
        v.state = orch_task_state_parse(v.status);
        v.progress = int_field(t, "Progress");
        v.reason = str_field(t, "TaskDesc");
        job->counts[v.state]++;
        job->listed++;
        if (v.state == ORCH_TASK_FAILED) {
            rc = orch_status_agg_reason(agg, v.reason);
            if (rc)
                return rc;
        }
        if (fn) {
            rc = fn(ud, job, &v);
            if (rc)
                return rc;
        }
    }
    if (total < 0 && job->listed > job->total) {
        /* No Total in the answer: what was listed is all we know. */
        job->total = job->listed;
        job->pages = 1;
    }
    return 0;
}

const char *orch_status_derive_job(const struct orch_rollout_job *job)
{
    const uint64_t *c = job->counts;
    uint64_t pending = c[ORCH_TASK_QUEUED] + c[ORCH_TASK_NOTIFIED] +
                       c[ORCH_TASK_IN_PROGRESS] + c[ORCH_TASK_CONFIRM];
    uint64_t started = job->listed - c[ORCH_TASK_QUEUED] -
                       c[ORCH_TASK_CONFIRM] - c[ORCH_TASK_CANCELED];

    if (job->listed == 0 || c[ORCH_TASK_CANCELED] > 0)
        return NULL;
    if (pending > 0)
        return started > 0 ? "IN_PROGRESS" : NULL;
    return "COMPLETED";
}

int orch_status_set_job_status(struct orch_rollout_job *job, const json_t *root)
{
    const json_t *data = json_object_get(root, "Data");
    const char *st = json_string_value(json_object_get(data, "JobStatus"));

    if (st == NULL || st[0] == '\0')
        return ORCH_EDECODE;
    snprintf(job->job_status, sizeof(job->job_status), "%s", st);
    return 0;
}

/* ------------------------------------------------------------ no task */

static const char *const no_task_names[ORCH_NO_TASK_NREASONS] = {
    [ORCH_NO_TASK_UNKNOWN] = "unknown",
    [ORCH_NO_TASK_ON_VERSION] = "on_version",
    [ORCH_NO_TASK_NOT_ELIGIBLE] = "not_eligible",
};

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

const char *orch_no_task_name(int reason)
{
    if (reason < 0 || reason >= ORCH_NO_TASK_NREASONS)
        return "unknown";
    return no_task_names[reason];
}

uint64_t orch_status_no_task(const struct orch_rollout_job *j)
{
    if (j->query_failed || j->device_count <= j->total)
        return 0;
    return j->device_count - j->total;
}

enum orch_no_task orch_status_firmware_reason(const json_t *root)
{
    const json_t *info = json_object_get(root, "FirmwareInfo");
    long long type = 0;

    if (!json_is_object(info))
        info = json_object_get(root, "Data");
    type = int_field(info, "Type");
    if (type == 0)
        return ORCH_NO_TASK_ON_VERSION;
    if (type == 1)
        return ORCH_NO_TASK_NOT_ELIGIBLE;
    return ORCH_NO_TASK_UNKNOWN;
}

/* ------------------------------------------------------------- summary */

static const char *const job_state_names[ORCH_JOB_NSTATES] = {
    [ORCH_JOB_PLANNED] = "PLANNED",     [ORCH_JOB_IN_PROGRESS] = "IN_PROGRESS",
    [ORCH_JOB_COMPLETED] = "COMPLETED", [ORCH_JOB_CANCELED] = "CANCELED",
    [ORCH_JOB_UNKNOWN] = "UNKNOWN",
};

const char *orch_job_state_name(int s)
{
    if (s < 0 || s >= ORCH_JOB_NSTATES)
        return "UNKNOWN";
    return job_state_names[s];
}

static enum orch_job_state job_state(const struct orch_rollout_job *j)
{
    int i = 0;

    for (i = 0; i < ORCH_JOB_UNKNOWN; i++) {
        if (strcmp(j->job_status, job_state_names[i]) == 0)
            return (enum orch_job_state)i;
    }
    return ORCH_JOB_UNKNOWN;
}

/* Adds job j to the group keyed `key` of *groups (found or appended). */
static int group_add(struct orch_status_group **groups, size_t *n,
                     const char *key, const struct orch_rollout_job *j)
{
    struct orch_status_group *g = NULL;
    size_t i = 0;
    int s = 0;

    for (i = 0; i < *n; i++) {
        if (strcmp((*groups)[i].key, key) == 0) {
            g = &(*groups)[i];
            break;
        }
    }
    if (g == NULL) {
        /* Groups are products or waves: few. Growing one by one is fine. */
        struct orch_status_group *grown =
            realloc(*groups, (*n + 1) * sizeof(*grown));

        if (grown == NULL)
            return ORCH_ENOMEM;
        *groups = grown;
        g = &grown[(*n)++];
        memset(g, 0, sizeof(*g));
        g->key = key;
    }
    g->jobs++;
    g->devices += j->device_count;
    for (s = 0; s < ORCH_TASK_NSTATES; s++) {
        g->counts[s] += j->counts[s];
        g->tasks += j->counts[s];
    }
    return 0;
}

static int by_count_desc(const void *a, const void *b)
{
    const struct orch_status_reason *x =
        *(const struct orch_status_reason *const *)a;
    const struct orch_status_reason *y =
        *(const struct orch_status_reason *const *)b;

    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->text, y->text);
}

/* Job j's devices: with a task, without one (by reason), or unknown (the
 * job could not be queried). A job without device_count (ALL/GRAY) holds
 * the devices its tasks name. */
static void account_job(struct orch_status_summary *s,
                        const struct orch_rollout_job *j)
{
    uint64_t none = orch_status_no_task(j);
    int why = j->no_task_reason;

    if (j->query_failed) {
        s->unqueried += j->device_count;
        return;
    }
    if (why < 0 || why >= ORCH_NO_TASK_NREASONS)
        why = ORCH_NO_TASK_UNKNOWN;
    s->no_task[why] += none;
    s->with_task += j->device_count ? j->device_count - none : j->total;
}

/* The chunks without a job, the plan's total and whether it is done. */
static void account_rest(struct orch_status_summary *s,
                         const struct orch_rollout *r)
{
    size_t i = 0;
    int k = 0;

    for (i = 0; i < r->nleft; i++) {
        const struct orch_rollout_left *l = &r->left[i];

        if (strcmp(l->status, "failed") == 0) {
            s->failed_chunks += l->chunks;
            s->failed_devices += l->devices;
        } else {
            s->not_sent_chunks += l->chunks;
            s->not_sent_devices += l->devices;
        }
    }
    s->unsent_chunks = orch_rollout_unsent_chunks(r);
    s->plan_devices = s->with_task + s->failed_devices + s->not_sent_devices +
                      s->unqueried;
    for (k = 0; k < ORCH_NO_TASK_NREASONS; k++)
        s->plan_devices += s->no_task[k];
    s->complete =
        s->plan_devices > 0 && s->jobs_failed == 0 && s->failed_chunks == 0 &&
        s->not_sent_chunks == 0 && s->unsent_chunks == 0 && s->pending == 0 &&
        s->counts[ORCH_TASK_FAILED] == 0 && s->counts[ORCH_TASK_CANCELED] == 0 &&
        s->counts[ORCH_TASK_OTHER] == 0 &&
        s->no_task[ORCH_NO_TASK_UNKNOWN] == 0 &&
        s->no_task[ORCH_NO_TASK_NOT_ELIGIBLE] == 0;
}

int orch_status_summarize(const struct orch_rollout *r,
                          const struct orch_status_agg *agg,
                          struct orch_status_summary *s)
{
    size_t i = 0;
    int st = 0;
    int rc = 0;

    memset(s, 0, sizeof(*s));
    s->jobs = r->njobs;
    for (i = 0; i < r->njobs && rc == 0; i++) {
        const struct orch_rollout_job *j = &r->jobs[i];

        if (j->query_failed) {
            s->jobs_failed++;
            s->job_states[ORCH_JOB_UNKNOWN]++;
        } else {
            s->job_states[job_state(j)]++;
        }
        s->devices += j->device_count;
        account_job(s, j);
        for (st = 0; st < ORCH_TASK_NSTATES; st++) {
            s->counts[st] += j->counts[st];
            s->tasks += j->counts[st];
            if (orch_task_state_pending(st))
                s->pending += j->counts[st];
        }
        rc = group_add(&s->products, &s->nproducts, j->product_key, j);
        if (rc == 0 && r->has_wave)
            rc = group_add(&s->waves, &s->nwaves, j->wave ? j->wave : "", j);
    }
    if (rc == 0 && agg->n > 0) {
        s->reasons = malloc(agg->n * sizeof(*s->reasons));
        if (s->reasons == NULL)
            rc = ORCH_ENOMEM;
    }
    if (rc == 0) {
        for (i = 0; i < agg->n; i++)
            s->reasons[i] = &agg->reasons[i];
        s->nreasons = agg->n;
        if (s->nreasons > 1)
            qsort(s->reasons, s->nreasons, sizeof(*s->reasons), by_count_desc);
    }
    s->decided = s->pending == 0 && s->jobs_failed == 0;
    account_rest(s, r);
    if (rc)
        orch_status_summary_cleanup(s);
    return rc;
}

void orch_status_incomplete(const struct orch_status_summary *s, char *buf,
                            size_t bufsz)
{
    size_t n = 0;

    buf[0] = '\0';
    if (s->complete)
        return;
#define SAY(cond, ...)                                                         \
    do {                                                                       \
        if ((cond) && n + 2 < bufsz) {                                         \
            int w = snprintf(buf + n, bufsz - n, "%s", n ? ", " : "");         \
            if (w > 0)                                                         \
                n += (size_t)w;                                                \
            w = snprintf(buf + n, n < bufsz ? bufsz - n : 0, __VA_ARGS__);     \
            if (w > 0)                                                         \
                n += (size_t)w;                                                \
            if (n >= bufsz)                                                    \
                n = bufsz - 1;                                                 \
        }                                                                      \
    } while (0)
    SAY(s->plan_devices == 0 && s->unsent_chunks == 0, "no device in the "
                                                       "report");
    SAY(s->failed_chunks, "%" PRIu64 " devices in failed chunks",
        s->failed_devices);
    SAY(s->not_sent_chunks, "%" PRIu64 " devices in chunks not sent",
        s->not_sent_devices);
    SAY(s->unsent_chunks, "%zu chunks not sent yet", s->unsent_chunks);
    SAY(s->counts[ORCH_TASK_FAILED], "%" PRIu64 " tasks FAILED",
        s->counts[ORCH_TASK_FAILED]);
    SAY(s->counts[ORCH_TASK_CANCELED], "%" PRIu64 " tasks CANCELED",
        s->counts[ORCH_TASK_CANCELED]);
    SAY(s->counts[ORCH_TASK_OTHER], "%" PRIu64 " tasks in an unknown state",
        s->counts[ORCH_TASK_OTHER]);
    SAY(s->pending, "%" PRIu64 " tasks pending", s->pending);
    SAY(s->no_task[ORCH_NO_TASK_NOT_ELIGIBLE],
        "%" PRIu64 " devices refused by the API",
        s->no_task[ORCH_NO_TASK_NOT_ELIGIBLE]);
    SAY(s->no_task[ORCH_NO_TASK_UNKNOWN],
        "%" PRIu64 " devices without a task for an unknown reason",
        s->no_task[ORCH_NO_TASK_UNKNOWN]);
    SAY(s->jobs_failed, "%zu jobs could not be queried", s->jobs_failed);
#undef SAY
}

void orch_status_summary_cleanup(struct orch_status_summary *s)
{
    if (s == NULL)
        return;
    free(s->products);
    free(s->waves);
    free(s->reasons);
    memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------------------- output */

static double pct(uint64_t n, uint64_t of)
{
    return of ? 100.0 * (double)n / (double)of : 0.0;
}

static void print_group(FILE *fp, const struct orch_status_group *g)
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
                       const struct orch_status_summary *s)
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
    fprintf(fp, "  %-28s %10" PRIu64 "  (%zu chunk%s)\n",
            "in chunks not sent", s->not_sent_devices, s->not_sent_chunks,
            s->not_sent_chunks == 1 ? "" : "s");
    for (i = 0; i < r->nleft; i++)
        fprintf(fp, "    %-8s %-40s %10" PRIu64 " devices, %zu chunk%s\n",
                strcmp(r->left[i].status, "failed") == 0 ? "failed"
                                                          : "not sent",
                r->left[i].code[0] ? r->left[i].code : "(no code)",
                r->left[i].devices, r->left[i].chunks,
                r->left[i].chunks == 1 ? "" : "s");
    if (s->unsent_chunks)
        fprintf(fp,
                "chunks not sent yet: %zu (a later wave, or a run that "
                "stopped; their devices are not in the report): "
                "`ota-rollout resume %s` sends them\n",
                s->unsent_chunks, r->path);
}

void orch_status_print(FILE *fp, const struct orch_rollout *r,
                       const struct orch_status_summary *s, size_t max_reasons)
{
    size_t i = 0, shown = 0;
    int st = 0;

    fprintf(fp, "rollout: %s\n", r->path);
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
    print_plan(fp, r, s);
    fprintf(fp, "%s\n",
            s->decided ? "every task is decided"
                       : "still pending: some tasks are not decided yet");
    if (s->complete) {
        fprintf(fp, "rollout complete: every device of the plan is "
                    "upgraded or already on the target version\n");
    } else {
        char why[512];

        orch_status_incomplete(s, why, sizeof(why));
        fprintf(fp, "rollout not complete: %s\n", why);
    }
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
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
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

static json_t *groups_json(const struct orch_status_group *g, size_t n,
                           const char *keyname)
{
    json_t *arr = json_array();
    size_t i = 0;
    bool waves = strcmp(keyname, "wave") == 0;

    for (i = 0; arr && i < n; i++) {
        json_t *key = waves ? wave_json(g[i].key) : json_string(g[i].key);
        json_t *o = json_pack("{s:o*, s:I, s:I, s:o*}", keyname, key,
                              "jobs", (json_int_t)g[i].jobs, "devices",
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
        if (o && orch_status_no_task(j))
            bad |= json_object_set_new(
                o, "no_task",
                json_pack("{s:I, s:s}", "devices",
                          (json_int_t)orch_status_no_task(j), "reason",
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
                         const struct orch_status_summary *s)
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

        if (json_array_append_new(
                codes, json_pack("{s:s, s:s, s:I, s:I}", "status", l->status,
                                 "code", l->code, "chunks",
                                 (json_int_t)l->chunks, "devices",
                                 (json_int_t)l->devices))) {
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
                         const struct orch_status_summary *s)
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
                             const struct orch_status_summary *s,
                             const char *report, int code, const char *reason)
{
    static const char *const counted[] = {"devices", "plan",     "jobs",
                                          "tasks",   "products", "reasons",
                                          "job_list"};
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
            bad |= json_object_set_new(doc, "report",
                                       report ? json_string(report)
                                              : json_null());
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
    if (bad) {
        json_decref(doc);
        return NULL;
    }
    return doc;
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
    d->open = true;
    return 0;
}

int orch_status_devices_row(void *ud, const struct orch_rollout_job *job,
                            const struct orch_task_view *t)
{
    struct orch_status_devices *d = ud;
    const char *cells[7];
    char progress[24] = "";
    int rc = 0;

    (void)job;
    if (!d->open)
        return 0;
    if (t->progress >= 0)
        snprintf(progress, sizeof(progress), "%lld", t->progress);
    cells[0] = t->product_key;
    cells[1] = t->device_name;
    cells[2] = t->job_id;
    cells[3] = t->task_id;
    cells[4] = t->status;
    cells[5] = progress;
    cells[6] = t->reason;
    rc = orch_csv_out_row(&d->all, cells, 7);
    if (rc == 0 && t->state == ORCH_TASK_FAILED) {
        cells[2] = t->reason[0] ? t->reason : "FAILED";
        rc = orch_csv_out_row(&d->failed, cells, 3);
    }
    if (rc && d->err == 0)
        d->err = rc;
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

/* ------------------------------------------------------------ command */

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    if (interrupted < 2)
        interrupted++;
}

/* One query item: a page of a job, or a job's QueryOTAJob. */
struct page_item {
    size_t job;
    unsigned page; /* 1-based; 0 for QueryOTAJob */
};

struct status_ctx {
    struct orch_config *cfg;
    const struct orch_credentials *cred;
    struct orch_rollout r;
    struct orch_status_agg agg;
    struct orch_status_devices dev;
    bool devices;
    struct page_item *items;
    size_t nitems;
    bool fatal; /* credentials rejected */
    char fatal_reason[256];
    bool capped_warned;
    bool counted; /* the last refresh completed: the counts are whole */
};

static void job_failed(struct orch_rollout_job *j,
                       const struct orch_item_result *res, const char *why)
{
    if (j->query_failed)
        return;
    j->query_failed = true;
    if (why)
        snprintf(j->error, sizeof(j->error), "%s", why);
    else
        snprintf(j->error, sizeof(j->error), "%s: %s",
                 res->error_code ? res->error_code : "failed",
                 res->error_message ? res->error_message : "");
}

static int build_page(void *ud, size_t item, struct orch_params *out)
{
    struct status_ctx *c = ud;
    const struct page_item *it = &c->items[item];

    return orch_query_task_page_params(out, c->cfg, c->r.jobs[it->job].job_id,
                                       ORCH_STATUS_PAGE_SIZE, it->page);
}

static void page_done(void *ud, size_t item, const struct orch_item_result *res)
{
    struct status_ctx *c = ud;
    struct orch_rollout_job *j = &c->r.jobs[c->items[item].job];
    int rc = 0;

    if (res->status != ORCH_ITEM_CREATED || res->resp == NULL ||
        res->resp->root == NULL) {
        job_failed(j, res, NULL);
        return;
    }
    rc = orch_status_add_page(&c->agg, j, res->resp->root,
                              c->devices ? orch_status_devices_row : NULL,
                              &c->dev);
    if (rc == ORCH_ENOMEM)
        job_failed(j, res, "out of memory");
    else if (rc)
        job_failed(j, res, "BadResponse: no Data.SimpleOTATaskInfo list");
}

static int build_job(void *ud, size_t item, struct orch_params *out)
{
    struct status_ctx *c = ud;

    return orch_query_job_params(out, c->cfg,
                                 c->r.jobs[c->items[item].job].job_id);
}

static void job_done(void *ud, size_t item, const struct orch_item_result *res)
{
    struct status_ctx *c = ud;
    struct orch_rollout_job *j = &c->r.jobs[c->items[item].job];

    if (res->status != ORCH_ITEM_CREATED || res->resp == NULL ||
        res->resp->root == NULL) {
        job_failed(j, res, NULL);
        return;
    }
    if (orch_status_set_job_status(j, res->resp->root))
        job_failed(j, res, "BadResponse: no Data.JobStatus");
}

static int build_firmware(void *ud, size_t item, struct orch_params *out)
{
    struct status_ctx *c = ud;
    int rc = orch_params_add(out, "FirmwareId",
                             c->r.jobs[c->items[item].job].firmware_id);

    if (rc == 0 && c->cfg->iot_instance_id)
        rc = orch_params_add(out, "IotInstanceId", c->cfg->iot_instance_id);
    return rc;
}

/* The firmware's answer tells why each of its jobs lacks tasks. A failed
 * query leaves the reason unknown (the job itself was queried). */
static void firmware_done(void *ud, size_t item,
                          const struct orch_item_result *res)
{
    struct status_ctx *c = ud;
    const char *fw = c->r.jobs[c->items[item].job].firmware_id;
    enum orch_no_task why = ORCH_NO_TASK_UNKNOWN;
    size_t i = 0;

    if (res->status == ORCH_ITEM_CREATED && res->resp && res->resp->root)
        why = orch_status_firmware_reason(res->resp->root);
    for (i = 0; i < c->r.njobs; i++) {
        struct orch_rollout_job *j = &c->r.jobs[i];

        if (orch_status_no_task(j) && strcmp(j->firmware_id, fw) == 0)
            j->no_task_reason = (int)why;
    }
}

/* True when an earlier job than `job` has the same firmware and also
 * lacks tasks (its firmware is queried once). */
static bool firmware_asked(const struct status_ctx *c, size_t job)
{
    size_t i = 0;

    for (i = 0; i < job; i++) {
        if (orch_status_no_task(&c->r.jobs[i]) &&
            strcmp(c->r.jobs[i].firmware_id, c->r.jobs[job].firmware_id) == 0)
            return true;
    }
    return false;
}

static int add_item(struct status_ctx *c, size_t *cap, size_t job,
                    unsigned page)
{
    if (c->nitems == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        struct page_item *grown = realloc(c->items, ncap * sizeof(*grown));

        if (grown == NULL)
            return ORCH_ENOMEM;
        c->items = grown;
        *cap = ncap;
    }
    c->items[c->nitems].job = job;
    c->items[c->nitems].page = page;
    c->nitems++;
    return 0;
}

/* Runs one batch; returns 0, or an exit code. */
static int run_batch(struct status_ctx *c, const char *action,
                     int (*build)(void *, size_t, struct orch_params *),
                     void (*done)(void *, size_t,
                                  const struct orch_item_result *),
                     const char *label)
{
    struct orch_query_batch b;
    struct orch_dispatch_stats st;
    struct orch_diag diag = {{0}};
    int rc = 0;

    memset(&b, 0, sizeof(b));
    b.action = action;
    b.qps = c->cfg->query_qps;
    b.nitems = c->nitems;
    b.build = build;
    b.done = done;
    b.ud = c;
    b.label = label;
    rc = orch_query_run(c->cfg, c->cred, &b, &interrupted, &st, &diag);
    if (rc) {
        orch_error_diag(rc, &diag);
        return ORCH_EXIT_USAGE;
    }
    if (interrupted)
        return ORCH_EXIT_ABORTED;
    if (st.aborted) {
        c->fatal = true;
        snprintf(c->fatal_reason, sizeof(c->fatal_reason), "%s",
                 st.abort_reason[0] ? st.abort_reason : "aborted");
        return ORCH_EXIT_ABORTED;
    }
    return 0;
}

/* One refresh: the three batches. Returns 0 or an exit code. */
static int refresh(struct status_ctx *c)
{
    size_t cap = 0, i = 0;
    unsigned p = 0;
    int code = 0;

    c->counted = false;
    orch_rollout_reset_counts(&c->r);
    orch_status_agg_cleanup(&c->agg);
    orch_status_agg_init(&c->agg);

    c->nitems = 0;
    for (i = 0; i < c->r.njobs; i++) {
        if (add_item(c, &cap, i, 1))
            return ORCH_EXIT_USAGE;
    }
    code = run_batch(c, "ListOTATaskByJob", build_page, page_done, "tasks");
    if (code)
        return code;

    c->nitems = 0;
    for (i = 0; i < c->r.njobs; i++) {
        struct orch_rollout_job *j = &c->r.jobs[i];
        unsigned pages = j->pages;

        if (j->query_failed)
            continue;
        if (pages > ORCH_STATUS_MAX_PAGES) {
            if (!c->capped_warned)
                orch_warnf("job %s has %" PRIu64 " tasks; the API lists "
                           "only the first %d",
                           j->job_id, j->total,
                           ORCH_STATUS_MAX_PAGES * ORCH_STATUS_PAGE_SIZE);
            c->capped_warned = true;
            pages = ORCH_STATUS_MAX_PAGES;
        }
        for (p = 2; p <= pages; p++) {
            if (add_item(c, &cap, i, p))
                return ORCH_EXIT_USAGE;
        }
    }
    code =
        run_batch(c, "ListOTATaskByJob", build_page, page_done, "more tasks");
    if (code)
        return code;

    c->nitems = 0;
    for (i = 0; i < c->r.njobs; i++) {
        struct orch_rollout_job *j = &c->r.jobs[i];
        const char *derived = NULL;

        if (j->query_failed)
            continue;
        derived = orch_status_derive_job(j);
        if (derived)
            snprintf(j->job_status, sizeof(j->job_status), "%s", derived);
        else if (add_item(c, &cap, i, 0))
            return ORCH_EXIT_USAGE;
    }
    code = run_batch(c, "QueryOTAJob", build_job, job_done, "jobs");
    if (code)
        return code;

    /* Jobs with fewer tasks than devices: one QueryOTAFirmware per
     * firmware says why (its Type). */
    c->nitems = 0;
    for (i = 0; i < c->r.njobs; i++) {
        if (orch_status_no_task(&c->r.jobs[i]) &&
            c->r.jobs[i].firmware_id[0] && !firmware_asked(c, i) &&
            add_item(c, &cap, i, 0))
            return ORCH_EXIT_USAGE;
    }
    return run_batch(c, "QueryOTAFirmware", build_firmware, firmware_done,
                     "firmware");
}

/* Sleeps ms, waking every 100 ms to look at the interrupt flag. */
static void nap(long ms)
{
    while (ms > 0 && !interrupted) {
        struct timespec ts = {0, 100 * 1000000L};

        if (ms < 100)
            ts.tv_nsec = ms * 1000000L;
        nanosleep(&ts, NULL);
        ms -= 100;
    }
}

void orch_status_utc(int64_t ms, char *buf, size_t bufsz)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL ||
        strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, bufsz, "?");
}

/* The text screen (--json: nothing, the document comes at the end). With
 * --watch it starts with the time of the refresh, for logs. */
static int show(struct status_ctx *c, bool clear)
{
    struct orch_status_summary s;
    int rc = 0;

    if (c->cfg->json)
        return 0;
    rc = orch_status_summarize(&c->r, &c->agg, &s);
    if (rc) {
        orch_errorf("out of memory");
        return rc;
    }
    if (clear)
        fputs("\033[H\033[2J", stdout);
    if (c->cfg->watch) {
        char when[32];

        orch_status_utc(orch_wall_ms(), when, sizeof(when));
        fprintf(stdout, "as of %s\n", when);
    }
    orch_status_print(stdout, &c->r, &s, 10);
    fflush(stdout);
    orch_status_summary_cleanup(&s);
    return rc;
}

/* --json: the one document on stdout, whatever the exit code (counts
 * null unless the last refresh completed); --log-format json: the same as
 * a "summary" event on stderr. c may be NULL (no memory for it). Returns
 * code, or ORCH_EXIT_USAGE when the document could not be written. */
static int emit_doc(const struct orch_config *cfg, struct status_ctx *c,
                    int code, const char *reason)
{
    struct orch_status_summary s;
    bool have = false;
    json_t *doc = NULL;

    if (!cfg->json && !orch_msgs_json())
        return code;
    memset(&s, 0, sizeof(s));
    if (c && c->counted)
        have = orch_status_summarize(&c->r, &c->agg, &s) == 0;
    doc = orch_status_json_doc(have ? &c->r : NULL, have ? &s : NULL,
                               cfg->inventory_path, code, reason);
    if (have)
        orch_status_summary_cleanup(&s);
    if (doc == NULL) {
        /* Still one document: the shared part needs almost no memory. */
        doc = orch_jsonout_doc("status", code, reason);
    }
    if (orch_jsonout_deliver(doc, cfg->json ? stdout : NULL,
                             orch_msgs_json() ? stderr : NULL,
                             orch_wall_ms()) != 0) {
        orch_errorf("writing the JSON document failed");
        if (code == ORCH_EXIT_OK)
            code = ORCH_EXIT_USAGE;
    }
    json_decref(doc);
    return code;
}

int orch_status_emit_error(const struct orch_config *cfg, int code)
{
    return emit_doc(cfg, NULL, code, orch_msgs_last_error());
}

static bool all_decided(const struct status_ctx *c)
{
    size_t i = 0;
    int st = 0;

    for (i = 0; i < c->r.njobs; i++) {
        if (c->r.jobs[i].query_failed)
            return false;
        for (st = 0; st < ORCH_TASK_NSTATES; st++) {
            if (orch_task_state_pending(st) && c->r.jobs[i].counts[st])
                return false;
        }
    }
    return true;
}

static bool any_failed(const struct status_ctx *c)
{
    size_t i = 0;

    for (i = 0; i < c->r.njobs; i++) {
        if (c->r.jobs[i].query_failed)
            return true;
    }
    return false;
}

/* Whether the last refresh found the rollout complete (status.h). */
static bool complete(const struct status_ctx *c)
{
    struct orch_status_summary s;
    bool done = false;

    if (!c->counted || orch_status_summarize(&c->r, &c->agg, &s) != 0)
        return false;
    done = s.complete;
    orch_status_summary_cleanup(&s);
    return done;
}

/* The exit reason of the document: what the messages said, the count of
 * jobs that could not be queried, or why the rollout is not complete. */
static const char *exit_reason(const struct status_ctx *c, int code,
                               char *buf, size_t bufsz)
{
    struct orch_status_summary s;
    size_t i = 0, n = 0;
    int len = 0;

    if (code == ORCH_EXIT_OK)
        return "rollout complete: every job queried, every device upgraded "
               "or already on the target version";
    for (i = 0; i < c->r.njobs; i++)
        n += c->r.jobs[i].query_failed ? 1 : 0;
    if (code == ORCH_EXIT_PARTIAL && n > 0) {
        snprintf(buf, bufsz, "%zu job%s could not be queried", n,
                 n == 1 ? "" : "s");
        return buf;
    }
    if (code == ORCH_EXIT_PARTIAL && c->counted &&
        orch_status_summarize(&c->r, &c->agg, &s) == 0) {
        len = snprintf(buf, bufsz, "rollout not complete: ");
        if (len > 0 && (size_t)len < bufsz)
            orch_status_incomplete(&s, buf + len, bufsz - (size_t)len);
        orch_status_summary_cleanup(&s);
        return buf;
    }
    return orch_msgs_last_error();
}

int orch_status_main(struct orch_config *cfg)
{
    struct status_ctx *c = NULL;
    struct orch_credentials cred;
    struct orch_diag diag = {{0}};
    struct sigaction sa, old_int;
    bool tty_out = isatty(STDOUT_FILENO);
    bool sig_set = false;
    char reason[512];
    int code = ORCH_EXIT_OK;
    int rc = 0;

    memset(&cred, 0, sizeof(cred));
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        orch_errorf("out of memory");
        return emit_doc(cfg, NULL, ORCH_EXIT_USAGE, "out of memory");
    }
    c->cfg = cfg;
    c->cred = &cred;
    orch_status_agg_init(&c->agg);
    signal(SIGPIPE, SIG_IGN);

    rc = orch_rollout_load(&c->r, cfg->inventory_path, &diag);
    if (rc) {
        orch_error_diag(rc, &diag);
        code = ORCH_EXIT_USAGE;
        goto out;
    }
    if (c->r.njobs == 0)
        orch_warnf("%s: no created job in the report (%zu rows)",
                   cfg->inventory_path, c->r.rows);
    rc = orch_credentials_load(&cred, cfg->profile, getenv("HOME"), &diag);
    if (rc) {
        orch_error_diag(rc, &diag);
        code = ORCH_EXIT_USAGE;
        goto out;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    interrupted = 0;
    sigaction(SIGINT, &sa, &old_int);
    sig_set = true;

    for (;;) {
        bool decided = false;

        if (cfg->devices_path) {
            rc = orch_status_devices_open(&c->dev, cfg->devices_path, &diag);
            if (rc) {
                orch_errorf("%s", diag.msg);
                code = ORCH_EXIT_USAGE;
                goto out;
            }
            c->devices = true;
        }
        code = refresh(c);
        if (code)
            break;
        c->counted = true;
        if (c->devices) {
            rc = orch_status_devices_commit(&c->dev, &diag);
            orch_status_devices_cleanup(&c->dev);
            c->devices = false;
            if (rc) {
                orch_errorf("%s", diag.msg);
                code = ORCH_EXIT_PARTIAL;
                break;
            }
        }
        decided = all_decided(c);
        if (show(c, cfg->watch && tty_out)) {
            code = ORCH_EXIT_USAGE;
            break;
        }
        if (!cfg->watch || decided)
            break;
        if (!cfg->json && !tty_out)
            fputc('\n', stdout);
        nap(cfg->interval_ms);
        if (interrupted) {
            code = ORCH_EXIT_ABORTED;
            break;
        }
    }
    if (code == ORCH_EXIT_ABORTED) {
        if (c->fatal)
            orch_errorf("status aborted: %s", c->fatal_reason);
        else
            orch_errorf("status interrupted");
    } else if (code == ORCH_EXIT_OK && (any_failed(c) || !complete(c))) {
        code = ORCH_EXIT_PARTIAL;
    }
    if (code == ORCH_EXIT_OK && cfg->devices_path)
        orch_notef("devices: %s, failed devices: %s.failed.csv",
                   cfg->devices_path, cfg->devices_path);

out:
    code = emit_doc(cfg, c, code, exit_reason(c, code, reason,
                                              sizeof(reason)));
    if (sig_set)
        sigaction(SIGINT, &old_int, NULL);
    orch_status_devices_cleanup(&c->dev);
    orch_status_agg_cleanup(&c->agg);
    orch_rollout_cleanup(&c->r);
    orch_credentials_cleanup(&cred);
    free(c->items);
    free(c);
    return code;
}
