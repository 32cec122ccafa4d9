/* jobstate.c - job states and UtcModified at the lowest cost (jobstate.h).
 *
 * DESIGN: the jobs are grouped by firmware; up to three paced batches
 * follow: page 1 of each firmware's list (ListOTAJobByFirmware, for the
 * firmware with two jobs or more to learn), the further pages where they
 * are the cheaper way, then QueryOTAJob for every job still unknown. A
 * list entry is matched to the rollout's jobs by JobId through an index
 * sorted by job id (a firmware may list many jobs of other rollouts).
 */
#include "orch/rollout/jobstate.h"

#include "orch/base/err.h"
#include "orch/base/grow.h"
#include "orch/cloud/api.h"
#include "orch/engine/dispatch.h"
#include "orch/engine/query.h"
#include "orch/model/config.h"
#include "orch/rollout/countplan.h"
#include "orch/rollout/taskagg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_PAGE_SIZE 200 /* ListOTAJobByFirmware's largest page */

struct by_id {
    const char *id;
    size_t job; /* index into jobs */
};

struct fw_group {
    const char *firmware_id; /* borrowed from the first job */
    size_t njobs;
    unsigned pages; /* PageCount of page 1, 0: not listed */
};

struct item {
    size_t group; /* ListOTAJobByFirmware: the firmware; QueryOTAJob: the
                     job's index into jobs */
    unsigned page;
};

struct ctx {
    const struct orch_config *cfg;
    struct orch_rollout_job *jobs;
    struct by_id *index;
    size_t n;
    struct fw_group *groups;
    size_t ngroups;
    struct item *items;
    size_t nitems, cap;
};

int orch_jobstate_pages_cheaper(unsigned pages, size_t unknown)
{
    return pages > 0 && (size_t)(pages - 1) <= unknown;
}

bool orch_jobstate_worth_learning(size_t sampled, size_t saved, size_t rest)
{
    size_t pages = (rest + LIST_PAGE_SIZE - 1) / LIST_PAGE_SIZE;

    if (sampled == 0 || rest == 0)
        return false;
    /* saved / sampled * rest > pages, without the division. */
    return (double)saved * (double)rest > (double)sampled * (double)pages;
}

size_t orch_jobstate_sample_savings(const struct orch_rollout_job *jobs,
                                    size_t n, bool by_totals)
{
    size_t i = 0, saved = 0;

    for (i = 0; i < n; i++) {
        const struct orch_rollout_job *j = &jobs[i];
        unsigned full = orch_countplan_full_calls(j->device_count);

        if (j->query_failed)
            continue;
        if (by_totals && j->device_count > 0 &&
            j->listed == j->device_count &&
            j->counts[ORCH_TASK_SUCCEEDED] == j->device_count && full > 1)
            saved += full - 1;
        if (orch_taskagg_derive_job(j) == NULL)
            saved++;
    }
    return saved;
}

static int by_id_cmp(const void *a, const void *b)
{
    return strcmp(((const struct by_id *)a)->id, ((const struct by_id *)b)->id);
}

static struct orch_rollout_job *find_job(struct ctx *c, const char *id)
{
    struct by_id key = {id, 0};
    struct by_id *hit =
        bsearch(&key, c->index, c->n, sizeof(*c->index), by_id_cmp);

    return hit ? &c->jobs[hit->job] : NULL;
}

/* Sets what one answer says about job j (a list entry or Data). */
static void learn(struct orch_rollout_job *j, const char *status,
                  const char *modified)
{
    if (status == NULL || status[0] == '\0' || modified == NULL ||
        modified[0] == '\0')
        return;
    snprintf(j->seen_status, sizeof(j->seen_status), "%s", status);
    snprintf(j->modified, sizeof(j->modified), "%s", modified);
}

static int add_item(struct ctx *c, size_t group, unsigned page)
{
    struct item *grown =
        orch_grow(c->items, &c->cap, c->nitems + 1, sizeof(*grown), 64);

    if (grown == NULL)
        return ORCH_ENOMEM;
    c->items = grown;
    c->items[c->nitems].group = group;
    c->items[c->nitems].page = page;
    c->nitems++;
    return 0;
}

/* The index and the firmware groups (firmware "" is no group). */
static int build_groups(struct ctx *c, const size_t *which)
{
    size_t k = 0, g = 0;

    c->index = calloc(c->n ? c->n : 1, sizeof(*c->index));
    c->groups = calloc(c->n ? c->n : 1, sizeof(*c->groups));
    if (c->index == NULL || c->groups == NULL)
        return ORCH_ENOMEM;
    for (k = 0; k < c->n; k++) {
        size_t job = which ? which[k] : k;
        const char *fw = c->jobs[job].firmware_id;

        c->index[k].id = c->jobs[job].job_id;
        c->index[k].job = job;
        if (fw == NULL || fw[0] == '\0')
            continue;
        /* Firmware per rollout are few (one per product, usually): a
         * linear scan over the groups is enough. */
        for (g = 0; g < c->ngroups; g++) {
            if (strcmp(c->groups[g].firmware_id, fw) == 0)
                break;
        }
        if (g == c->ngroups)
            c->groups[c->ngroups++].firmware_id = fw;
        c->groups[g].njobs++;
    }
    return 0;
}

static void sort_index(struct ctx *c)
{
    qsort(c->index, c->n, sizeof(*c->index), by_id_cmp);
}

/* ---------------------------------------------------------- the lists */

static int build_list(void *ud, size_t item, struct orch_params *out)
{
    struct ctx *c = ud;
    const struct item *it = &c->items[item];

    return orch_api_list_jobs_by_firmware_params(
        out, c->cfg->iot_instance_id, c->groups[it->group].firmware_id,
        LIST_PAGE_SIZE, it->page);
}

static void list_done(void *ud, size_t item, const struct orch_item_result *res)
{
    struct ctx *c = ud;
    const struct item *it = &c->items[item];
    size_t i = 0, count = 0;

    if (res->status != ORCH_ITEM_CREATED || res->resp == NULL)
        return;
    if (it->page == 1)
        c->groups[it->group].pages = orch_api_page_count(res->resp);
    count = orch_api_job_count(res->resp);
    for (i = 0; i < count; i++) {
        struct orch_job_info info;
        struct orch_rollout_job *j = NULL;

        if (orch_api_job_at(res->resp, i, &info) != 0)
            continue;
        j = find_job(c, info.job_id);
        if (j)
            learn(j, info.job_status, info.utc_modified);
    }
}

/* Jobs of group g still unknown. */
static size_t unknown_in(const struct ctx *c, size_t g)
{
    size_t k = 0, n = 0;

    for (k = 0; k < c->n; k++) {
        const struct orch_rollout_job *j = &c->jobs[c->index[k].job];

        if (j->modified[0] == '\0' &&
            strcmp(j->firmware_id, c->groups[g].firmware_id) == 0)
            n++;
    }
    return n;
}

/* One batch over c->items; an empty one is not sent and leaves *stats,
 * which so keeps those of the last batch sent. */
static int run_batch(struct ctx *c, const char *action,
                     int (*build)(void *, size_t, struct orch_params *),
                     void (*done)(void *, size_t,
                                  const struct orch_item_result *),
                     const struct orch_credentials *cred,
                     volatile sig_atomic_t *interrupt,
                     struct orch_dispatch_stats *stats, struct orch_diag *diag)
{
    const struct orch_query_batch b = orch_query_batch_at_quota(
        c->cfg, action, c->nitems, build, done, c, "job states");

    if (c->nitems == 0)
        return 0;
    return orch_query_run(c->cfg, cred, &b, interrupt, stats, diag);
}

/* ------------------------------------------------------ single jobs */

static int build_query(void *ud, size_t item, struct orch_params *out)
{
    struct ctx *c = ud;

    return orch_api_job_params(out, c->cfg->iot_instance_id,
                               c->jobs[c->items[item].group].job_id);
}

static void query_done(void *ud, size_t item,
                       const struct orch_item_result *res)
{
    struct ctx *c = ud;
    struct orch_rollout_job *j = &c->jobs[c->items[item].group];
    const json_t *data = NULL;

    if (res->status != ORCH_ITEM_CREATED || res->resp == NULL ||
        res->resp->root == NULL) {
        if (!j->query_failed)
            snprintf(j->error, sizeof(j->error), "%s: %s",
                     res->error_code ? res->error_code : "failed",
                     res->error_message ? res->error_message : "");
        return;
    }
    data = json_object_get(res->resp->root, "Data");
    learn(j,
          json_string_value(json_object_get(data, "JobStatus")),
          json_string_value(json_object_get(data, "UtcModified")));
}

static bool stopped(const struct orch_dispatch_stats *st,
                    volatile sig_atomic_t *interrupt)
{
    return st->aborted || (interrupt && *interrupt);
}

/* ------------------------------------------------------------- stages */

/* Batch 1: page 1 of the list of each firmware with two jobs or more. */
static int add_first_pages(struct ctx *c)
{
    size_t g = 0;
    int rc = 0;

    for (g = 0; g < c->ngroups && rc == 0; g++) {
        if (c->groups[g].njobs > 1)
            rc = add_item(c, g, 1);
    }
    sort_index(c);
    return rc;
}

/* Batch 2: the further pages, where they are cheaper than a query a job. */
static int add_more_pages(struct ctx *c)
{
    size_t g = 0;
    unsigned p = 0;
    int rc = 0;

    for (g = 0; g < c->ngroups && rc == 0; g++) {
        if (!orch_jobstate_pages_cheaper(c->groups[g].pages, unknown_in(c, g)))
            continue;
        for (p = 2; p <= c->groups[g].pages && rc == 0; p++)
            rc = add_item(c, g, p);
    }
    return rc;
}

/* Batch 3: QueryOTAJob for every job still unknown. */
static int add_unknown_jobs(struct ctx *c)
{
    size_t k = 0;
    int rc = 0;

    for (k = 0; k < c->n && rc == 0; k++) {
        if (c->jobs[c->index[k].job].modified[0] == '\0')
            rc = add_item(c, c->index[k].job, 0);
    }
    return rc;
}

struct stage {
    int (*add_items)(struct ctx *c);
    const char *action;
    int (*build)(void *, size_t, struct orch_params *);
    void (*done)(void *, size_t, const struct orch_item_result *);
};

static const struct stage stages[] = {
    {add_first_pages, "ListOTAJobByFirmware", build_list, list_done},
    {add_more_pages, "ListOTAJobByFirmware", build_list, list_done},
    {add_unknown_jobs, "QueryOTAJob", build_query, query_done},
};

int orch_jobstate_run(const struct orch_config *cfg,
                      const struct orch_credentials *cred,
                      struct orch_rollout_job *jobs, const size_t *which,
                      size_t n, volatile sig_atomic_t *interrupt,
                      struct orch_dispatch_stats *stats, struct orch_diag *diag)
{
    struct ctx c;
    size_t s = 0;
    int rc = 0;

    memset(&c, 0, sizeof(c));
    memset(stats, 0, sizeof(*stats));
    c.cfg = cfg;
    c.jobs = jobs;
    c.n = n;
    rc = build_groups(&c, which);
    /* Each stage starts from an empty list; a batch aborted or
     * interrupted ends the run. */
    for (s = 0; s < sizeof(stages) / sizeof(stages[0]) && rc == 0; s++) {
        if (s > 0 && stopped(stats, interrupt))
            break;
        c.nitems = 0;
        rc = stages[s].add_items(&c);
        if (rc == 0)
            rc = run_batch(&c, stages[s].action, stages[s].build,
                           stages[s].done, cred, interrupt, stats, diag);
    }
    if (rc == ORCH_ENOMEM)
        orch_diag_set(diag, rc, "out of memory");
    free(c.index);
    free(c.groups);
    free(c.items);
    return rc;
}
