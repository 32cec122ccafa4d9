/* taskcount.c - task counts at the lowest cost (taskcount.h).
 *
 * DESIGN: the items of a round are (job, question, page) triples built
 * from each plan's asks and its FAILED pages still to list; after the
 * round every plan decides its next step (orch_countplan_next). The
 * jobs whose plan is, or became, the full listing are handed to
 * orch_tasklist_run at the end.
 */
#include "orch/rollout/taskcount.h"

#include "orch/base/err.h"
#include "orch/base/grow.h"
#include "orch/cloud/api.h"
#include "orch/engine/dispatch.h"
#include "orch/engine/query.h"
#include "orch/model/config.h"
#include "orch/rollout/tasklist.h"

#include <stdlib.h>
#include <string.h>

struct count_item {
    size_t k;     /* index into tc->which / the plans */
    unsigned ask; /* one ORCH_COUNTPLAN_ASK bit */
    unsigned page;
};

struct count_ctx {
    const struct orch_taskcount *tc;
    struct orch_countplan *plans; /* one per job of tc */
    struct count_item *items;
    size_t nitems, cap;
};

static size_t job_at(const struct orch_taskcount *tc, size_t k)
{
    return tc->which ? tc->which[k] : k;
}

static struct orch_rollout_job *job_of(const struct count_ctx *cc, size_t k)
{
    return &cc->tc->jobs[job_at(cc->tc, k)];
}

static int build_item(void *ud, size_t item, struct orch_params *out)
{
    struct count_ctx *cc = ud;
    const struct count_item *it = &cc->items[item];
    const char *inst = cc->tc->cfg->iot_instance_id;
    const char *id = job_of(cc, it->k)->job_id;
    int s = 0;

    if (it->ask == ORCH_COUNTPLAN_ASK_ALL)
        return orch_api_task_page_params(out, inst, id, 1, 1);
    for (s = 0; s < ORCH_TASK_NSTATES; s++) {
        if (it->ask == ORCH_COUNTPLAN_ASK(s))
            break;
    }
    return orch_api_task_status_params(
        out, inst, id, orch_task_state_name(s),
        s == ORCH_TASK_FAILED ? ORCH_API_TASK_PAGE_SIZE : 1, it->page);
}

/* Folds one answer into its job and plan; 0 or an error for the job. */
static int fold_answer(struct count_ctx *cc, const struct count_item *it,
                       const json_t *root)
{
    const struct orch_taskcount *tc = cc->tc;
    struct orch_rollout_job *j = job_of(cc, it->k);
    struct orch_countplan *p = &cc->plans[it->k];
    uint64_t total = 0;
    int rc = orch_taskagg_page_total(root, &total);

    if (rc)
        return rc;
    if (it->ask != ORCH_COUNTPLAN_ASK(ORCH_TASK_FAILED)) {
        orch_countplan_learn(p, it->ask, total);
        return 0;
    }
    if (it->page == 1)
        orch_countplan_learn(p, it->ask, total);
    return orch_taskagg_add_filtered_page(tc->agg, j, root, tc->each,
                                          tc->each_ud);
}

static void item_done(void *ud, size_t item, const struct orch_item_result *res)
{
    struct count_ctx *cc = ud;
    const struct count_item *it = &cc->items[item];
    struct orch_rollout_job *j = job_of(cc, it->k);
    const json_t *root = orch_taskagg_answer_root(j, res);

    if (root == NULL)
        return;
    orch_taskagg_fold_failed(j, fold_answer(cc, it, root),
                             "BadResponse: no Total or no "
                             "Data.SimpleOTATaskInfo list");
}

static int add_item(struct count_ctx *cc, size_t k, unsigned ask,
                    unsigned page)
{
    struct count_item *grown =
        orch_grow(cc->items, &cc->cap, cc->nitems + 1, sizeof(*grown), 64);

    if (grown == NULL)
        return ORCH_ENOMEM;
    cc->items = grown;
    cc->items[cc->nitems].k = k;
    cc->items[cc->nitems].ask = ask;
    cc->items[cc->nitems].page = page;
    cc->nitems++;
    return 0;
}

static bool counting(const struct count_ctx *cc, size_t k)
{
    const struct orch_countplan *p = &cc->plans[k];

    return p->mode != ORCH_COUNTPLAN_FULL && !p->done &&
           !job_of(cc, k)->query_failed;
}

/* The next round: every counting plan's asks and FAILED pages to come. */
static int next_round(struct count_ctx *cc)
{
    size_t k = 0;
    unsigned bit = 0, page = 0;
    int rc = 0;

    cc->nitems = 0;
    for (k = 0; k < cc->tc->n && rc == 0; k++) {
        struct orch_countplan *p = &cc->plans[k];

        if (!counting(cc, k))
            continue;
        for (bit = 0; bit <= ORCH_TASK_NSTATES && rc == 0; bit++) {
            if (p->asks & (1u << bit))
                rc = add_item(cc, k, 1u << bit, 1);
        }
        for (page = p->failed_next; page && page <= p->failed_pages && rc == 0;
             page++)
            rc = add_item(cc, k, ORCH_COUNTPLAN_ASK(ORCH_TASK_FAILED), page);
        p->failed_next = 0;
    }
    return rc;
}

static int run_round(struct count_ctx *cc, volatile sig_atomic_t *interrupt,
                     struct orch_dispatch_stats *stats, struct orch_diag *diag)
{
    const struct orch_query_batch b =
        orch_query_batch_at_quota(cc->tc->cfg, "ListOTATaskByJob", cc->nitems,
                                  build_item, item_done, cc, "task counts");

    return orch_query_run(cc->tc->cfg, cc->tc->cred, &b, interrupt, stats,
                          diag);
}

/* Every plan's next step after a round. */
static void advance(struct count_ctx *cc)
{
    size_t k = 0;

    for (k = 0; k < cc->tc->n; k++) {
        if (counting(cc, k))
            orch_countplan_next(&cc->plans[k], job_of(cc, k));
    }
}

/* The counted jobs' counts, and the jobs to list in full into *which. */
static size_t settle(struct count_ctx *cc, size_t *which)
{
    size_t k = 0, n = 0;

    for (k = 0; k < cc->tc->n; k++) {
        struct orch_rollout_job *j = job_of(cc, k);

        if (cc->plans[k].mode == ORCH_COUNTPLAN_FULL && !j->query_failed)
            which[n++] = job_at(cc->tc, k);
        else if (cc->plans[k].done && !j->query_failed)
            orch_countplan_finish(&cc->plans[k], j);
    }
    return n;
}

static int list_full(const struct orch_taskcount *tc, const size_t *which,
                     size_t n, volatile sig_atomic_t *interrupt,
                     struct orch_dispatch_stats *stats, struct orch_diag *diag)
{
    struct orch_tasklist tl;

    memset(&tl, 0, sizeof(tl));
    tl.cfg = tc->cfg;
    tl.cred = tc->cred;
    tl.jobs = tc->jobs;
    tl.which = which;
    tl.n = n;
    tl.agg = tc->agg;
    tl.each = tc->each;
    tl.each_ud = tc->each_ud;
    tl.capped = tc->capped;
    tl.capped_ud = tc->capped_ud;
    tl.label[0] = "tasks";
    tl.label[1] = "more tasks";
    return orch_tasklist_run(&tl, interrupt, stats, diag);
}

int orch_taskcount_run(const struct orch_taskcount *tc,
                       volatile sig_atomic_t *interrupt,
                       struct orch_dispatch_stats *stats,
                       struct orch_diag *diag)
{
    struct count_ctx cc;
    size_t *which = NULL;
    size_t k = 0, nfull = 0;
    int rc = 0;

    memset(&cc, 0, sizeof(cc));
    memset(stats, 0, sizeof(*stats));
    cc.tc = tc;
    cc.plans = calloc(tc->n ? tc->n : 1, sizeof(*cc.plans));
    which = calloc(tc->n ? tc->n : 1, sizeof(*which));
    if (cc.plans == NULL || which == NULL) {
        rc = ORCH_ENOMEM;
        goto out;
    }
    for (k = 0; k < tc->n; k++) {
        struct orch_rollout_job *j = job_of(&cc, k);

        orch_countplan_start(&cc.plans[k], j,
                             orch_countplan_choose(j, tc->force));
    }
    for (;;) {
        rc = next_round(&cc);
        if (rc || cc.nitems == 0)
            break;
        rc = run_round(&cc, interrupt, stats, diag);
        if (rc || stats->aborted || (interrupt && *interrupt))
            goto out;
        advance(&cc);
    }
    if (rc == 0)
        nfull = settle(&cc, which);
    if (rc == 0 && nfull > 0)
        rc = list_full(tc, which, nfull, interrupt, stats, diag);
out:
    if (rc == ORCH_ENOMEM)
        orch_diag_set(diag, rc, "out of memory");
    free(which);
    free(cc.items);
    free(cc.plans);
    return rc;
}
