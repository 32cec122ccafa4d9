/* countplan.c - the cheapest calls that count one job's tasks
 * (countplan.h).
 *
 * DESIGN: a plan is a short list of question groups asked one round at a
 * time; between rounds the Totals learnt so far are added up, and the
 * plan stops as soon as they account for every task (the report's device
 * count, or the unfiltered Total once asked).
 */
#include "orch/rollout/countplan.h"

#include <string.h>

#define ASK ORCH_COUNTPLAN_ASK
#define ASK_PENDING                                                            \
    (ASK(ORCH_TASK_QUEUED) | ASK(ORCH_TASK_NOTIFIED) |                         \
     ASK(ORCH_TASK_IN_PROGRESS) | ASK(ORCH_TASK_CONFIRM))

/* The calls of the STATES plan when the FAILED tasks fit one page: six
 * Totals, the unfiltered Total and the FAILED listing's first page. */
#define STATES_CALLS 8u

/* ENDED, the job COMPLETED: failures are the likely rest. */
static const unsigned completed_steps[] = {
    ASK(ORCH_TASK_SUCCEEDED), ASK(ORCH_TASK_FAILED), ORCH_COUNTPLAN_ASK_ALL,
    ASK(ORCH_TASK_CANCELED), ASK_PENDING};
/* ENDED, the job CANCELED: cancelled tasks are the likely rest. */
static const unsigned canceled_steps[] = {
    ASK(ORCH_TASK_SUCCEEDED), ASK(ORCH_TASK_CANCELED), ASK(ORCH_TASK_FAILED),
    ORCH_COUNTPLAN_ASK_ALL, ASK_PENDING};
static const unsigned states_steps[] = {
    ASK_PENDING | ASK(ORCH_TASK_SUCCEEDED) | ASK(ORCH_TASK_CANCELED) |
    ASK(ORCH_TASK_FAILED) | ORCH_COUNTPLAN_ASK_ALL};

#define NSTEPS(a) ((unsigned)(sizeof(a) / sizeof((a)[0])))

unsigned orch_countplan_full_calls(uint64_t n)
{
    uint64_t pages = (n + ORCH_API_TASK_PAGE_SIZE - 1) / ORCH_API_TASK_PAGE_SIZE;

    if (pages == 0)
        return 1;
    return pages > ORCH_API_TASK_MAX_PAGES ? ORCH_API_TASK_MAX_PAGES
                                           : (unsigned)pages;
}

static bool ended(const struct orch_rollout_job *j)
{
    return strcmp(j->seen_status, "COMPLETED") == 0 ||
           strcmp(j->seen_status, "CANCELED") == 0;
}

enum orch_countplan_mode orch_countplan_choose(const struct orch_rollout_job *j,
                                               enum orch_countplan_force force)
{
    unsigned full = orch_countplan_full_calls(j->device_count);

    if (force == ORCH_COUNTPLAN_FORCE_FULL || j->device_count == 0)
        return ORCH_COUNTPLAN_FULL;
    if (force == ORCH_COUNTPLAN_FORCE_TOTALS)
        return ended(j) ? ORCH_COUNTPLAN_ENDED : ORCH_COUNTPLAN_STATES;
    if (ended(j))
        return full > 1 ? ORCH_COUNTPLAN_ENDED : ORCH_COUNTPLAN_FULL;
    return full > STATES_CALLS ? ORCH_COUNTPLAN_STATES : ORCH_COUNTPLAN_FULL;
}

/* Pops the next question group into p->asks. */
static void pop_step(struct orch_countplan *p)
{
    p->asks = 0;
    if (p->nsteps == 0)
        return;
    p->asks = p->steps[0];
    p->steps++;
    p->nsteps--;
}

void orch_countplan_start(struct orch_countplan *p,
                          const struct orch_rollout_job *j,
                          enum orch_countplan_mode m)
{
    memset(p, 0, sizeof(*p));
    p->mode = m;
    if (m == ORCH_COUNTPLAN_ENDED &&
        strcmp(j->seen_status, "CANCELED") == 0) {
        p->steps = canceled_steps;
        p->nsteps = NSTEPS(canceled_steps);
    } else if (m == ORCH_COUNTPLAN_ENDED) {
        p->steps = completed_steps;
        p->nsteps = NSTEPS(completed_steps);
    } else if (m == ORCH_COUNTPLAN_STATES) {
        p->steps = states_steps;
        p->nsteps = NSTEPS(states_steps);
    }
    pop_step(p);
}

void orch_countplan_learn(struct orch_countplan *p, unsigned ask,
                          uint64_t total)
{
    int s = 0;

    p->known |= ask;
    if (ask == ORCH_COUNTPLAN_ASK_ALL) {
        p->all = total;
        return;
    }
    for (s = 0; s < ORCH_TASK_NSTATES; s++) {
        if (ask == ASK(s))
            p->totals[s] = total;
    }
    if (ask == ASK(ORCH_TASK_FAILED)) {
        p->failed_pages = orch_countplan_full_calls(total);
        p->failed_next = p->failed_pages >= 2 ? 2 : 0;
    }
}

/* The tasks the Totals learnt so far account for. */
static uint64_t known_sum(const struct orch_countplan *p)
{
    uint64_t sum = 0;
    int s = 0;

    for (s = 0; s < ORCH_TASK_NSTATES; s++)
        sum += (p->known & ASK(s)) ? p->totals[s] : 0;
    return sum;
}

/* Whether the Totals learnt add up to every task of job j. */
static bool whole(const struct orch_countplan *p,
                  const struct orch_rollout_job *j)
{
    uint64_t sum = known_sum(p);

    if (p->known & ORCH_COUNTPLAN_ASK_ALL)
        return sum == p->all;
    return j->device_count > 0 && sum == j->device_count;
}

/* The least the next question group can cost: the FAILED listing of every
 * task not SUCCEEDED yet (its pages), or one Total. */
static unsigned next_best_case(const struct orch_countplan *p,
                               const struct orch_rollout_job *j)
{
    uint64_t rest = j->device_count - p->totals[ORCH_TASK_SUCCEEDED];

    if (p->nsteps > 0 && p->steps[0] == ASK(ORCH_TASK_FAILED))
        return orch_countplan_full_calls(rest);
    return 1;
}

void orch_countplan_next(struct orch_countplan *p,
                         const struct orch_rollout_job *j)
{
    p->asks = 0;
    if (p->mode == ORCH_COUNTPLAN_FULL || p->done)
        return;
    if (p->mode == ORCH_COUNTPLAN_ENDED && !p->probed) {
        p->probed = true;
        if (!whole(p, j) && (p->totals[ORCH_TASK_SUCCEEDED] > j->device_count ||
                             next_best_case(p, j) >=
                                 orch_countplan_full_calls(j->device_count))) {
            p->mode = ORCH_COUNTPLAN_FULL;
            return;
        }
    }
    if (!whole(p, j))
        pop_step(p);
    p->done = p->asks == 0 && p->failed_next == 0;
}

void orch_countplan_finish(const struct orch_countplan *p,
                           struct orch_rollout_job *j)
{
    uint64_t listed = 0, total = 0;
    int s = 0;

    for (s = 0; s < ORCH_TASK_NSTATES; s++) {
        if (s != ORCH_TASK_FAILED && (p->known & ASK(s)))
            j->counts[s] = p->totals[s];
        listed += j->counts[s];
    }
    if (p->known & ORCH_COUNTPLAN_ASK_ALL)
        total = p->all;
    else
        total = known_sum(p);
    if (total > listed) {
        j->counts[ORCH_TASK_OTHER] += total - listed;
        listed = total;
    }
    j->listed = listed;
    j->total = listed > total ? listed : total;
    j->pages = orch_countplan_full_calls(j->total);
}
