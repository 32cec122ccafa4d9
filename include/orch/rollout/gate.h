/* gate.h - the health gate between waves: whether a wave's task counts
 * let the next wave start (pass), stop the rollout (fail), or say nothing
 * yet (wait) until --wave-timeout (timeout). Pure functions over counts;
 * the counts come from wavequery.h, the decisions are acted on by the
 * waves runner (commands/waverun.h).
 */
#ifndef ORCH_GATE_H
#define ORCH_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "orch/rollout/rollout.h"

struct orch_gate {
    double success;       /* share SUCCEEDED that passes (0..1] */
    double failure;       /* share FAILED among ended that fails; <= 0:
                             no failure gate */
    uint64_t min_decided; /* ended tasks before `failure` applies */
    int64_t timeout_ms;   /* no decision after this long: TIMEOUT */
};

/* Task counts of one wave (sums over its jobs). */
struct orch_gate_counts {
    uint64_t tasks; /* every task listed */
    uint64_t succeeded;
    uint64_t failed;
    uint64_t canceled;
    uint64_t pending;  /* QUEUED, NOTIFIED, IN_PROGRESS, CONFIRM */
    uint64_t expected; /* devices of the wave's created jobs (tasks may
                          be listed late: the larger of the two counts) */
    uint64_t no_task;  /* devices of jobs the API has finished that hold
                          no task for them (already on the target version,
                          or not eligible for the firmware): decided, and
                          left out of the share the gate judges */
};

enum orch_gate_decision {
    ORCH_GATE_WAIT = 0,
    ORCH_GATE_PASS,
    ORCH_GATE_FAIL, /* failure share reached, or success unreachable */
    ORCH_GATE_TIMEOUT
};

const char *orch_gate_decision_name(enum orch_gate_decision d);

/* The gate's clock, for orch_gate_decide's elapsed_ms: --wave-timeout
 * counts from when the wave's tasks can start, not from when its jobs
 * were created (a canary scheduled for 03:00 must not time out at 01:00).
 * watched_ms: how long the watch has run (monotonic); wall_at_start_ms:
 * the wall clock when it started; schedule_ms: the wave's ScheduleTime
 * (-1: none). Returns watched_ms minus the part of the watch spent before
 * the ScheduleTime: negative before it (the gate cannot time out then),
 * watched_ms without a ScheduleTime or with one already past when the
 * watch started (a resumed watch restarts its timeout). Pure. */
int64_t orch_gate_elapsed(int64_t watched_ms, int64_t wall_at_start_ms,
                          int64_t schedule_ms);

/* The gate's decision for counts after elapsed_ms of watching (it
 * judges the wave's tasks: total is max(tasks, expected - no_task), so
 * devices the API made no task for are decided, never pending):
 *   FAIL when the failure gate applies (at least min(min_decided, total)
 *   tasks ended) and failed / ended >= failure, or when even every
 *   pending task succeeding could not reach `success` (the wave can no
 *   longer pass: waiting would only delay the abort);
 *   else PASS when succeeded / total >= success;
 *   else TIMEOUT when elapsed_ms >= timeout_ms; else WAIT.
 * with total 0 (no task to judge: every device of the wave had none, or
 * nothing was created) the gate passes, and says why. Every explanation
 * names the devices without a task when there are some. Writes a
 * one-line explanation to why (may be NULL). Pure. */
enum orch_gate_decision orch_gate_decide(const struct orch_gate *g,
                                         const struct orch_gate_counts *c,
                                         int64_t elapsed_ms, char *why,
                                         size_t whysz);

/* Whether the API is done with job j: it was listed without a failure,
 * and QueryOTAJob called it COMPLETED or CANCELED (j->job_status), or
 * it has tasks and every one of them has ended (SUCCEEDED, FAILED,
 * CANCELED; as many listed as its Total). A static job never gets a task
 * later: the devices it holds no task for will never have one. Pure. */
bool orch_gate_job_over(const struct orch_rollout_job *j);

/* Adds job j's listed tasks to c (tasks, SUCCEEDED, FAILED, CANCELED and
 * the pending states) and, when the job is over (orch_gate_job_over),
 * the devices it holds no task for (j->device_count minus the tasks) to
 * c->no_task; c->expected is left alone. Pure. */
void orch_gate_add_job(struct orch_gate_counts *c,
                       const struct orch_rollout_job *j);

#endif
