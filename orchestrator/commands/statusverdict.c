/* statusverdict.c - what a `status` refresh concludes (statusverdict.h). */
#include "orch/commands/statusverdict.h"

#include <stdio.h>

#include "orch/base/exitcode.h"
#include "orch/cloud/api.h"
#include "orch/rollout/rollout.h"
#include "orch/rollout/taskagg.h"

bool orch_statusverdict_all_decided(const struct orch_rollout *r)
{
    size_t i = 0;
    int st = 0;

    for (i = 0; i < r->njobs; i++) {
        if (r->jobs[i].query_failed)
            return false;
        for (st = 0; st < ORCH_TASK_NSTATES; st++) {
            if (orch_task_state_pending(st) && r->jobs[i].counts[st])
                return false;
        }
    }
    return true;
}

size_t orch_statusverdict_jobs_failed(const struct orch_rollout *r)
{
    size_t i = 0, n = 0;

    for (i = 0; i < r->njobs; i++)
        n += r->jobs[i].query_failed ? 1 : 0;
    return n;
}

bool orch_statusverdict_complete(const struct orch_rollout *r,
                                 const struct orch_taskagg *agg)
{
    struct orch_taskagg_summary s;
    bool done = false;

    if (orch_taskagg_summarize(r, agg, &s) != 0)
        return false;
    done = s.complete;
    orch_taskagg_summary_cleanup(&s);
    return done;
}

const char *orch_statusverdict_reason(const struct orch_rollout *r,
                                      const struct orch_taskagg *agg,
                                      bool counted, int code,
                                      const char *fallback, char *buf,
                                      size_t bufsz)
{
    struct orch_taskagg_summary s;
    size_t n = orch_statusverdict_jobs_failed(r);
    int len = 0;

    if (code == ORCH_EXIT_OK)
        return "rollout complete: every job queried, every device upgraded "
               "or already on the target version";
    if (code == ORCH_EXIT_PARTIAL && n > 0) {
        snprintf(buf, bufsz, "%zu job%s could not be queried", n,
                 n == 1 ? "" : "s");
        return buf;
    }
    if (code == ORCH_EXIT_PARTIAL && counted &&
        orch_taskagg_summarize(r, agg, &s) == 0) {
        len = snprintf(buf, bufsz, "rollout not complete: ");
        if (len > 0 && (size_t)len < bufsz)
            orch_taskagg_incomplete(&s, buf + len, bufsz - (size_t)len);
        orch_taskagg_summary_cleanup(&s);
        return buf;
    }
    return fallback;
}
