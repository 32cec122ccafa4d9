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

enum orch_gate_decision orch_gate_decide(const struct orch_gate *g,
                                         const struct orch_gate_counts *c,
                                         int64_t elapsed_ms, char *why,
                                         size_t whysz)
{
    uint64_t total = c->tasks > c->expected ? c->tasks : c->expected;
    uint64_t ended = c->succeeded + c->failed + c->canceled;
    uint64_t open = total > ended ? total - ended : 0;
    uint64_t need = g->min_decided < total ? g->min_decided : total;
    /* 1e-9: 0.95 * 20 must be 19, not 19.000000000000004. */
    double to_pass = g->success * (double)total - 1e-9;
    char dummy[8];

    if (why == NULL) {
        why = dummy;
        whysz = sizeof(dummy);
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

void orch_gate_add_job(struct orch_gate_counts *c,
                       const struct orch_rollout_job *j)
{
    const uint64_t *k = j->counts;

    c->tasks += j->listed;
    c->succeeded += k[ORCH_TASK_SUCCEEDED];
    c->failed += k[ORCH_TASK_FAILED];
    c->canceled += k[ORCH_TASK_CANCELED];
    c->pending += k[ORCH_TASK_QUEUED] + k[ORCH_TASK_NOTIFIED] +
                  k[ORCH_TASK_IN_PROGRESS] + k[ORCH_TASK_CONFIRM];
}
