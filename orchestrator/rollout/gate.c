/* gate.c - the health gate between waves (gate.h). Pure. */
#include "orch/rollout/gate.h"

#include <stdio.h>
#include <string.h>

const char *orch_gate_decision_name(enum orch_gate_decision d)
{
    switch (d) {
    case ORCH_GATE_PASS:
        return "pass";
    case ORCH_GATE_FAIL:
        return "fail";
    case ORCH_GATE_TIMEOUT:
        return "timeout";
    case ORCH_GATE_WAIT:
    default:
        return "wait";
    }
}

int64_t orch_gate_elapsed(int64_t watched_ms, int64_t wall_at_start_ms,
                          int64_t schedule_ms)
{
    int64_t before = 0;

    if (schedule_ms >= 0 && schedule_ms > wall_at_start_ms)
        before = schedule_ms - wall_at_start_ms;
    return watched_ms - before;
}

static double pct(uint64_t n, uint64_t of)
{
    return of ? 100.0 * (double)n / (double)of : 0.0;
}

/* Why a threshold was reached: "N of OF WHAT (P%, KIND threshold T%)". */
static void say_share(char *why, size_t whysz, uint64_t n, uint64_t of,
                      const char *what, const char *kind, double share)
{
    snprintf(why, whysz, "%llu of %llu %s (%.1f%%, %s threshold %g%%)",
             (unsigned long long)n, (unsigned long long)of, what, pct(n, of),
             kind, share * 100.0);
}

/* The devices the API made no task for, after the explanation in why. */
static void say_no_task(char *why, size_t whysz, uint64_t no_task)
{
    size_t n = strlen(why);

    if (no_task == 0 || n + 1 >= whysz)
        return;
    snprintf(why + n, whysz - n,
             "; %llu device%s without a task (decided: the API made none)",
             (unsigned long long)no_task, no_task == 1 ? "" : "s");
}

static enum orch_gate_decision decide(const struct orch_gate *g,
                                      const struct orch_gate_counts *c,
                                      int64_t elapsed_ms, char *why,
                                      size_t whysz);

enum orch_gate_decision orch_gate_decide(const struct orch_gate *g,
                                         const struct orch_gate_counts *c,
                                         int64_t elapsed_ms, char *why,
                                         size_t whysz)
{
    char dummy[8];
    enum orch_gate_decision d = ORCH_GATE_WAIT;

    if (why == NULL) {
        why = dummy;
        whysz = sizeof(dummy);
    }
    d = decide(g, c, elapsed_ms, why, whysz);
    if (c->tasks > 0 || c->expected > c->no_task)
        say_no_task(why, whysz, c->no_task);
    return d;
}

static enum orch_gate_decision decide(const struct orch_gate *g,
                                      const struct orch_gate_counts *c,
                                      int64_t elapsed_ms, char *why,
                                      size_t whysz)
{
    uint64_t judged = c->expected > c->no_task ? c->expected - c->no_task : 0;
    uint64_t total = c->tasks > judged ? c->tasks : judged;
    uint64_t ended = c->succeeded + c->failed + c->canceled;
    uint64_t open = total > ended ? total - ended : 0;
    uint64_t need = g->min_decided < total ? g->min_decided : total;
    /* 1e-9: 0.95 * 20 must be 19, not 19.000000000000004. */
    double to_pass = g->success * (double)total - 1e-9;

    if (total == 0 && c->no_task > 0) {
        snprintf(why, whysz,
                 "no task to judge: the API made no task for any of the "
                 "wave's %llu device%s (already on the target version, or "
                 "not eligible for the firmware), and its jobs are over",
                 (unsigned long long)c->no_task, c->no_task == 1 ? "" : "s");
        return ORCH_GATE_PASS;
    }
    if (total == 0) {
        snprintf(why, whysz, "no task to watch");
        return ORCH_GATE_PASS;
    }
    if (g->failure > 0 && ended > 0 && ended >= need &&
        (double)c->failed >= g->failure * (double)ended - 1e-9) {
        say_share(why, whysz, c->failed, ended, "ended tasks FAILED",
                  "failure", g->failure);
        return ORCH_GATE_FAIL;
    }
    if ((double)c->succeeded >= to_pass) {
        say_share(why, whysz, c->succeeded, total, "tasks SUCCEEDED",
                  "success", g->success);
        return ORCH_GATE_PASS;
    }
    if ((double)(c->succeeded + open) < to_pass) {
        snprintf(why, whysz,
                 "%llu of %llu tasks ended unsuccessfully (%llu FAILED, %llu "
                 "CANCELED): the success threshold of %g%% can no longer be "
                 "reached",
                 (unsigned long long)(c->failed + c->canceled),
                 (unsigned long long)total, (unsigned long long)c->failed,
                 (unsigned long long)c->canceled, g->success * 100.0);
        return ORCH_GATE_FAIL;
    }
    if (elapsed_ms >= g->timeout_ms) {
        snprintf(why, whysz,
                 "after %lld s: %llu of %llu SUCCEEDED (%.1f%%, threshold "
                 "%g%%), %llu FAILED, %llu still pending",
                 (long long)(elapsed_ms / 1000),
                 (unsigned long long)c->succeeded, (unsigned long long)total,
                 pct(c->succeeded, total), g->success * 100.0,
                 (unsigned long long)c->failed, (unsigned long long)open);
        return ORCH_GATE_TIMEOUT;
    }
    snprintf(why, whysz, "%llu of %llu SUCCEEDED, %llu FAILED, %llu pending",
             (unsigned long long)c->succeeded, (unsigned long long)total,
             (unsigned long long)c->failed, (unsigned long long)open);
    return ORCH_GATE_WAIT;
}

bool orch_gate_job_over(const struct orch_rollout_job *j)
{
    const uint64_t *k = j->counts;
    uint64_t ended = k[ORCH_TASK_SUCCEEDED] + k[ORCH_TASK_FAILED] +
                     k[ORCH_TASK_CANCELED];

    if (j->query_failed)
        return false;
    if (strcmp(j->job_status, "COMPLETED") == 0 ||
        strcmp(j->job_status, "CANCELED") == 0)
        return true;
    return j->listed > 0 && ended == j->listed && j->listed >= j->total;
}

void orch_gate_add_job(struct orch_gate_counts *c,
                       const struct orch_rollout_job *j)
{
    const uint64_t *k = j->counts;
    uint64_t tasks = j->listed > j->total ? j->listed : j->total;

    if (orch_gate_job_over(j) && j->device_count > tasks)
        c->no_task += j->device_count - tasks;

    c->tasks += j->listed;
    c->succeeded += k[ORCH_TASK_SUCCEEDED];
    c->failed += k[ORCH_TASK_FAILED];
    c->canceled += k[ORCH_TASK_CANCELED];
    c->pending += k[ORCH_TASK_QUEUED] + k[ORCH_TASK_NOTIFIED] +
                  k[ORCH_TASK_IN_PROGRESS] + k[ORCH_TASK_CONFIRM];
}
