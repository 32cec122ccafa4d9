/* countplan.h - which ListOTATaskByJob calls count one job's tasks at the
 * lowest cost, decided per job and step by step. Pure.
 *
 * A full listing (no TaskStatus filter, PageSize 100) costs
 * ceil(T / 100) calls for a job of T tasks and gives everything: every
 * state, the failure reasons, the per-device rows. A listing filtered by
 * TaskStatus gives, in its Total, the count of that state alone; with
 * PageSize 1 that is one call whatever the count; unfiltered with
 * PageSize 1, the job's task count T (alibaba-api.md e: TaskStatus filter,
 * Total). A job's tasks are made for the devices it names, so T is at
 * most the report's device_count D: Totals that add up to D tell T = D
 * without asking it.
 *
 * The plans (orch_countplan_choose):
 * - FULL: the full listing. Always when the per-device rows are wanted
 *   (the caller does not use a plan then), when D is unknown (0: an
 *   ALL/GRAY job), and when the listing is one page (D <= 100): nothing
 *   is cheaper than one call that tells everything.
 * - ENDED, for a job the state pages say ended (COMPLETED or CANCELED)
 *   and D > 100: first the SUCCEEDED Total (PageSize 1). S = D: every
 *   task succeeded, 1 call instead of ceil(D / 100). Otherwise the rest
 *   is asked state by state in the order the job's state makes likely
 *   (COMPLETED: the FAILED tasks listed, PageSize 100, for their reasons;
 *   then T; then the CANCELED Total. CANCELED: the CANCELED Total, the
 *   FAILED listing, then T), stopping as soon as the counts add up to D,
 *   or to T once known; then the four pending states' Totals together;
 *   what is still missing is counted in no state the tool knows (OTHER).
 *   Whether to go on after the first answer is decided once: the next
 *   question's best case (COMPLETED: ceil((D - S) / 100) FAILED pages;
 *   CANCELED: 1) must cost fewer calls than the full listing
 *   (ceil(D / 100)), else the job is listed in full. Once the FAILED
 *   tasks are listed the plan never falls back, so no reason is counted
 *   twice.
 * - STATES, for a running job: every Total at once (the six states other
 *   than FAILED, and T) plus the FAILED listing: 8 + ceil(F / 100) - 1
 *   calls; taken only when cheaper than the full listing, D > 800. The
 *   jobs `run` creates hold at most 200 devices, so their running jobs are
 *   always listed in full (2 calls).
 */
#ifndef ORCH_COUNTPLAN_H
#define ORCH_COUNTPLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "orch/cloud/api.h"
#include "orch/rollout/rollout.h"

enum orch_countplan_mode {
    ORCH_COUNTPLAN_FULL = 0,
    ORCH_COUNTPLAN_ENDED,
    ORCH_COUNTPLAN_STATES
};

/* What a caller may force (tests compare a plan with the full listing). */
enum orch_countplan_force {
    ORCH_COUNTPLAN_AUTO = 0,
    ORCH_COUNTPLAN_FORCE_FULL,  /* every job listed in full */
    ORCH_COUNTPLAN_FORCE_TOTALS /* ENDED or STATES whatever the size (D >
                                   0) */
};

/* The questions of one round, as bits: ORCH_COUNTPLAN_ASK(state) is the
 * Total of that state (PageSize 1), except ORCH_TASK_FAILED, which is its
 * listing (PageSize 100, page 1; further pages follow by themselves);
 * ORCH_COUNTPLAN_ASK_ALL is the unfiltered Total (PageSize 1). */
#define ORCH_COUNTPLAN_ASK(state) (1u << (state))
#define ORCH_COUNTPLAN_ASK_ALL (1u << ORCH_TASK_NSTATES)

/* One job's plan, caller-owned; plain data (no cleanup). */
struct orch_countplan {
    enum orch_countplan_mode mode;
    const unsigned *steps; /* the questions still to come, in order */
    unsigned nsteps;
    unsigned asks;  /* the questions of the coming round */
    unsigned known; /* the questions answered (ASK bits) */
    uint64_t totals[ORCH_TASK_NSTATES]; /* Totals learnt (FAILED: of its
                                           listing) */
    uint64_t all;                       /* the unfiltered Total, when known */
    unsigned failed_pages; /* pages of the FAILED listing (its Total) */
    unsigned failed_next;  /* the next FAILED page to ask, 0: none */
    bool done;
    bool probed; /* ENDED: the decision after the first answer is made */
};

/* The plan for job j (device_count D, seen_status as the state pages gave
 * it): see the top of this file. */
enum orch_countplan_mode orch_countplan_choose(const struct orch_rollout_job *j,
                                               enum orch_countplan_force force);

/* Starts p for job j in mode m: p->asks is the first round's questions
 * (none for FULL). */
void orch_countplan_start(struct orch_countplan *p,
                          const struct orch_rollout_job *j,
                          enum orch_countplan_mode m);

/* An answer: the Total of question `ask` (one ASK bit; for the FAILED
 * listing, its page 1's Total, which also sets the pages to come). */
void orch_countplan_learn(struct orch_countplan *p, unsigned ask,
                          uint64_t total);

/* After a round: decides the next one (p->asks; 0 and p->done when the
 * counts are whole), or turns the plan into FULL (p->mode; the job is then
 * to be listed in full). The FAILED pages still to ask are p->failed_next
 * .. p->failed_pages (at most ORCH_API_TASK_MAX_PAGES); the caller asks
 * them in the next round and advances failed_next. */
void orch_countplan_next(struct orch_countplan *p,
                         const struct orch_rollout_job *j);

/* Writes a done plan's counts into j: the learnt Totals into j->counts
 * (FAILED: the tasks its listing folded in stay), the task count into
 * j->total (D when the counts add up to it, else the unfiltered Total),
 * what no state accounts for into OTHER, j->listed and j->pages. */
void orch_countplan_finish(const struct orch_countplan *p,
                           struct orch_rollout_job *j);

/* The calls of the full listing of a job of n tasks (at least 1). */
unsigned orch_countplan_full_calls(uint64_t n);

#endif
