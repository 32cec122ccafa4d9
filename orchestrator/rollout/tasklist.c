/* tasklist.c - every task of some of a rollout's jobs (tasklist.h).
 *
 * DESIGN: the items of a batch are (job, page) pairs; the first batch asks
 * page 1 of every job, whose Total tells how many pages each job has
 * (orch_taskagg_add_page sets job->pages); the second asks the rest.
 */
#include "orch/rollout/tasklist.h"

#include "orch/base/err.h"
#include "orch/base/grow.h"
#include "orch/cloud/api.h"
#include "orch/engine/dispatch.h"
#include "orch/engine/query.h"
#include "orch/model/config.h"

#include <stdlib.h>
#include <string.h>

struct page_item {
    size_t job; /* index into tl->jobs */
    unsigned page;
};

struct list_ctx {
    const struct orch_tasklist *tl;
    struct page_item *items;
    size_t nitems, cap;
};

static int build_page(void *ud, size_t item, struct orch_params *out)
{
    struct list_ctx *lc = ud;
    const struct page_item *it = &lc->items[item];

    return orch_api_task_page_params(out, lc->tl->cfg->iot_instance_id,
                                     lc->tl->jobs[it->job].job_id,
                                     ORCH_API_TASK_PAGE_SIZE, it->page);
}

static void page_done(void *ud, size_t item, const struct orch_item_result *res)
{
    struct list_ctx *lc = ud;
    const struct orch_tasklist *tl = lc->tl;
    struct orch_rollout_job *j = &tl->jobs[lc->items[item].job];
    const json_t *root = orch_taskagg_answer_root(j, res);

    if (root == NULL)
        return;
    orch_taskagg_fold_failed(
        j, orch_taskagg_add_page(tl->agg, j, root, tl->each, tl->each_ud),
        "BadResponse: no Data.SimpleOTATaskInfo list");
}

static int add_item(struct list_ctx *lc, size_t job, unsigned page)
{
    struct page_item *grown =
        orch_grow(lc->items, &lc->cap, lc->nitems + 1, sizeof(*grown), 64);

    if (grown == NULL)
        return ORCH_ENOMEM;
    lc->items = grown;
    lc->items[lc->nitems].job = job;
    lc->items[lc->nitems].page = page;
    lc->nitems++;
    return 0;
}

static size_t job_at(const struct orch_tasklist *tl, size_t k)
{
    return tl->which ? tl->which[k] : k;
}

/* Page 1 of every job. */
static int first_pages(struct list_ctx *lc)
{
    size_t k = 0;
    int rc = 0;

    lc->nitems = 0;
    for (k = 0; k < lc->tl->n && rc == 0; k++)
        rc = add_item(lc, job_at(lc->tl, k), 1);
    return rc;
}

/* Every further page of every job listed so far without a failure. */
static int further_pages(struct list_ctx *lc)
{
    const struct orch_tasklist *tl = lc->tl;
    size_t k = 0;
    unsigned p = 0;
    int rc = 0;

    lc->nitems = 0;
    for (k = 0; k < tl->n && rc == 0; k++) {
        const struct orch_rollout_job *j = &tl->jobs[job_at(tl, k)];
        unsigned pages = j->pages;

        if (j->query_failed)
            continue;
        if (pages > ORCH_API_TASK_MAX_PAGES) {
            if (tl->capped)
                tl->capped(tl->capped_ud, j);
            pages = ORCH_API_TASK_MAX_PAGES;
        }
        for (p = 2; p <= pages && rc == 0; p++)
            rc = add_item(lc, job_at(tl, k), p);
    }
    return rc;
}

static int run_batch(struct list_ctx *lc, const char *label,
                     volatile sig_atomic_t *interrupt,
                     struct orch_dispatch_stats *stats, struct orch_diag *diag)
{
    const struct orch_query_batch b =
        orch_query_batch_at_quota(lc->tl->cfg, "ListOTATaskByJob", lc->nitems,
                                  build_page, page_done, lc, label);

    return orch_query_run(lc->tl->cfg, lc->tl->cred, &b, interrupt, stats,
                          diag);
}

int orch_tasklist_run(const struct orch_tasklist *tl,
                      volatile sig_atomic_t *interrupt,
                      struct orch_dispatch_stats *stats, struct orch_diag *diag)
{
    struct list_ctx lc;
    int rc = 0;

    memset(&lc, 0, sizeof(lc));
    memset(stats, 0, sizeof(*stats));
    lc.tl = tl;
    rc = first_pages(&lc);
    if (rc == 0)
        rc = run_batch(&lc, tl->label[0], interrupt, stats, diag);
    if (rc || stats->aborted || (interrupt && *interrupt))
        goto out;
    rc = further_pages(&lc);
    if (rc == 0)
        rc = run_batch(&lc, tl->label[1], interrupt, stats, diag);
out:
    if (rc == ORCH_ENOMEM)
        orch_diag_set(diag, rc, "out of memory");
    free(lc.items);
    return rc;
}
