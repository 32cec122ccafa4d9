/* taskagg.c - task aggregation over the query answers (taskagg.h). */
#include "orch/rollout/taskagg.h"

#include "orch/base/err.h"
#include "orch/base/grow.h"
#include "orch/base/timeparse.h"
#include "orch/engine/dispatch_ops.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- reasons */

void orch_taskagg_init(struct orch_taskagg *a)
{
    memset(a, 0, sizeof(*a));
}

void orch_taskagg_cleanup(struct orch_taskagg *a)
{
    size_t i = 0;

    if (a == NULL)
        return;
    for (i = 0; i < a->n; i++)
        free(a->reasons[i].text);
    free(a->reasons);
    memset(a, 0, sizeof(*a));
}

int orch_taskagg_add_reason(struct orch_taskagg *a, const char *reason)
{
    return orch_taskagg_add_reason_n(a, reason, 1);
}

int orch_taskagg_add_reason_n(struct orch_taskagg *a, const char *reason,
                              uint64_t n)
{
    struct orch_taskagg_reason *grown = NULL;
    size_t i = 0;

    if (n == 0)
        return 0;
    if (reason == NULL || reason[0] == '\0')
        reason = "(none)";
    /* Distinct reasons are few (a handful of TaskDesc texts): a linear
     * scan beats a hash table here. */
    for (i = 0; i < a->n; i++) {
        if (strcmp(a->reasons[i].text, reason) == 0) {
            a->reasons[i].count += n;
            return 0;
        }
    }
    grown = orch_grow(a->reasons, &a->cap, a->n + 1, sizeof(*grown), 16);
    if (grown == NULL)
        return ORCH_ENOMEM;
    a->reasons = grown;
    a->reasons[a->n].text = strdup(reason);
    if (a->reasons[a->n].text == NULL)
        return ORCH_ENOMEM;
    a->reasons[a->n].count = n;
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

/* Keeps the latest task UtcModified in job->tasks_modified_ms. */
static void note_task_modified(struct orch_rollout_job *job, const char *utc)
{
    int64_t ms = 0;

    if (utc[0] && orch_time_parse(utc, &ms, NULL) == 0 &&
        ms > job->tasks_modified_ms)
        job->tasks_modified_ms = ms;
}

/* Folds every task of list into job (counts, listed, the FAILED tasks'
 * reasons into agg) and shows each to fn. */
static int fold_tasks(struct orch_taskagg *agg, struct orch_rollout_job *job,
                      const json_t *list, orch_taskagg_task_fn fn, void *ud)
{
    const json_t *t = NULL;
    size_t i = 0;
    int rc = 0;

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
        note_task_modified(job, str_field(t, "UtcModified"));
        job->counts[v.state]++;
        job->listed++;
        if (v.state == ORCH_TASK_FAILED) {
            rc = orch_taskagg_add_reason(agg, v.reason);
            if (rc)
                return rc;
        }
        if (fn) {
            rc = fn(ud, job, &v);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int orch_taskagg_add_page(struct orch_taskagg *agg,
                          struct orch_rollout_job *job, const json_t *root,
                          orch_taskagg_task_fn fn, void *ud)
{
    const json_t *list = task_list(root);
    long long total = int_field(root, "Total");
    int rc = 0;

    if (list == NULL)
        return ORCH_EDECODE;
    if (total >= 0 && (uint64_t)total > job->total) {
        job->total = (uint64_t)total;
        job->pages = (unsigned)((job->total + ORCH_API_TASK_PAGE_SIZE - 1) /
                                ORCH_API_TASK_PAGE_SIZE);
    }
    rc = fold_tasks(agg, job, list, fn, ud);
    if (rc)
        return rc;
    if (total < 0 && job->listed > job->total) {
        /* No Total in the answer: what was listed is all we know. */
        job->total = job->listed;
        job->pages = 1;
    }
    return 0;
}

int orch_taskagg_add_filtered_page(struct orch_taskagg *agg,
                                   struct orch_rollout_job *job,
                                   const json_t *root, orch_taskagg_task_fn fn,
                                   void *ud)
{
    const json_t *list = task_list(root);

    if (list == NULL)
        return ORCH_EDECODE;
    return fold_tasks(agg, job, list, fn, ud);
}

int orch_taskagg_page_total(const json_t *root, uint64_t *total)
{
    long long n = int_field(root, "Total");

    if (n < 0 || task_list(root) == NULL)
        return ORCH_EDECODE;
    *total = (uint64_t)n;
    return 0;
}

const char *orch_taskagg_derive_job(const struct orch_rollout_job *job)
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

/* ------------------------------------------------------------ no task */

static const char *const no_task_names[ORCH_NO_TASK_NREASONS] = {
    [ORCH_NO_TASK_UNKNOWN] = "unknown",
    [ORCH_NO_TASK_ON_VERSION] = "on_version",
    [ORCH_NO_TASK_NOT_ELIGIBLE] = "not_eligible",
};

const char *orch_no_task_name(int reason)
{
    if (reason < 0 || reason >= ORCH_NO_TASK_NREASONS)
        return "unknown";
    return no_task_names[reason];
}

uint64_t orch_taskagg_no_task(const struct orch_rollout_job *j)
{
    if (j->query_failed || j->device_count <= j->total)
        return 0;
    return j->device_count - j->total;
}

enum orch_no_task orch_taskagg_firmware_reason(const json_t *root)
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
static int group_add(struct orch_taskagg_group **groups, size_t *n,
                     const char *key, const struct orch_rollout_job *j)
{
    struct orch_taskagg_group *g = NULL;
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
        struct orch_taskagg_group *grown =
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
    const struct orch_taskagg_reason *x =
        *(const struct orch_taskagg_reason *const *)a;
    const struct orch_taskagg_reason *y =
        *(const struct orch_taskagg_reason *const *)b;

    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->text, y->text);
}

/* Job j's devices: with a task, without one (by reason), or unknown (the
 * job could not be queried). A job without device_count (ALL/GRAY) holds
 * the devices its tasks name. */
static void account_job(struct orch_taskagg_summary *s,
                        const struct orch_rollout_job *j)
{
    uint64_t none = orch_taskagg_no_task(j);
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
static void account_rest(struct orch_taskagg_summary *s,
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
    s->plan_devices =
        s->with_task + s->failed_devices + s->not_sent_devices + s->unqueried;
    for (k = 0; k < ORCH_NO_TASK_NREASONS; k++)
        s->plan_devices += s->no_task[k];
    s->complete =
        s->plan_devices > 0 && s->jobs_failed == 0 && s->failed_chunks == 0 &&
        s->not_sent_chunks == 0 && s->unsent_chunks == 0 && s->pending == 0 &&
        s->counts[ORCH_TASK_FAILED] == 0 &&
        s->counts[ORCH_TASK_CANCELED] == 0 && s->counts[ORCH_TASK_OTHER] == 0 &&
        s->no_task[ORCH_NO_TASK_UNKNOWN] == 0 &&
        s->no_task[ORCH_NO_TASK_NOT_ELIGIBLE] == 0;
}

int orch_taskagg_summarize(const struct orch_rollout *r,
                           const struct orch_taskagg *agg,
                           struct orch_taskagg_summary *s)
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
        orch_taskagg_summary_cleanup(s);
    return rc;
}

void orch_taskagg_incomplete(const struct orch_taskagg_summary *s, char *buf,
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

void orch_taskagg_summary_cleanup(struct orch_taskagg_summary *s)
{
    if (s == NULL)
        return;
    free(s->products);
    free(s->waves);
    free(s->reasons);
    memset(s, 0, sizeof(*s));
}

void orch_taskagg_job_failed(struct orch_rollout_job *j, const char *code,
                             const char *message, const char *why)
{
    if (j->query_failed)
        return;
    j->query_failed = true;
    if (why)
        snprintf(j->error, sizeof(j->error), "%s", why);
    else
        snprintf(j->error, sizeof(j->error), "%s: %s", code ? code : "failed",
                 message ? message : "");
}

void orch_taskagg_note_read(struct orch_rollout_job *j, int64_t date_ms)
{
    if (date_ms > 0 && (j->read_date_ms == 0 || date_ms < j->read_date_ms))
        j->read_date_ms = date_ms;
}

const json_t *orch_taskagg_answer_root(struct orch_rollout_job *j,
                                       const struct orch_item_result *res)
{
    if (res->status != ORCH_ITEM_CREATED || res->resp == NULL ||
        res->resp->root == NULL) {
        orch_taskagg_job_failed(j, res->error_code, res->error_message, NULL);
        return NULL;
    }
    orch_taskagg_note_read(j, res->resp->date_ms);
    return res->resp->root;
}

void orch_taskagg_fold_failed(struct orch_rollout_job *j, int rc,
                              const char *bad)
{
    if (rc == ORCH_ENOMEM)
        orch_taskagg_job_failed(j, NULL, NULL, "out of memory");
    else if (rc)
        orch_taskagg_job_failed(j, NULL, NULL, bad);
}
