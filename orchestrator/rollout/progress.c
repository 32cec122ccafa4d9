/* progress.c - the progress line's numbers, text and pacing
 * (progress.h). */
#include "orch/rollout/progress.h"

#include "orch/rollout/summary.h"

#include <stdio.h>
#include <string.h>

double orch_progress_rate(const struct orch_progress *p)
{
    if (p->elapsed_ms == 0)
        return 0.0;
    return (double)p->done * 1000.0 / (double)p->elapsed_ms;
}

void orch_progress_format(char *out, size_t outsz,
                          const struct orch_progress *p)
{
    double rate = orch_progress_rate(p);
    char over[32], eta[32] = "?", notsent[48] = "";

    orch_summary_format_span(over, sizeof(over), p->elapsed_ms);
    if (rate > 0)
        orch_summary_format_secs(eta, sizeof(eta),
                                 (double)(p->total - p->done) / rate);
    if (p->not_sent > 0)
        snprintf(notsent, sizeof(notsent), ", %zu not sent", p->not_sent);
    snprintf(out, outsz,
             "chunks %zu/%zu (%zu created, %zu failed%s), %.2f chunks/s "
             "over %s, ETA %s",
             p->done, p->total, p->created, p->failed, notsent, rate, over,
             eta);
}

bool orch_progress_due(struct orch_progress_pace *pace,
                       const struct orch_progress *p)
{
    size_t step = p->total / ORCH_PROGRESS_STEPS;
    uint64_t since = p->elapsed_ms > pace->last_ms
                         ? p->elapsed_ms - pace->last_ms
                         : 0;
    bool due = false;

    if (step == 0)
        step = 1;
    if (p->done >= p->total)
        return false;
    due = since >= ORCH_PROGRESS_HEARTBEAT_MS ||
          (since >= ORCH_PROGRESS_EVERY_MS &&
           p->done >= pace->last_done + step);
    if (due) {
        pace->last_ms = p->elapsed_ms;
        pace->last_done = p->done;
    }
    return due;
}

bool orch_progress_repeat_due(const char *last, const char *now,
                              uint64_t since_last_ms)
{
    if (last == NULL || now == NULL || strcmp(last, now) != 0)
        return true;
    return since_last_ms >= ORCH_PROGRESS_HEARTBEAT_MS;
}
