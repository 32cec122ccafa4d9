/* resumegate.c - a run's decisions about its journal before it sends
 * (resumegate.h). */
#include "orch/rollout/resumegate.h"

#include "orch/base/err.h"
#include "orch/rollout/devcheck.h"
#include "orch/rollout/resume.h"
#include "orch/rollout/summary.h"

enum orch_resumegate orch_resumegate_decide(int load_rc,
                                            const struct orch_resume *rs,
                                            bool resume, bool force)
{
    if (load_rc == ORCH_ENOTFOUND || (load_rc == 0 && rs->run == NULL))
        return ORCH_RESUMEGATE_NONE;
    if (load_rc)
        return force && !resume ? ORCH_RESUMEGATE_ANEW_DAMAGED
                                : ORCH_RESUMEGATE_DAMAGED;
    if (resume)
        return ORCH_RESUMEGATE_RESUME;
    if (force)
        return ORCH_RESUMEGATE_ANEW;
    if (rs->ended && orch_resume_all_final(rs))
        return ORCH_RESUMEGATE_FINISHED;
    return ORCH_RESUMEGATE_UNFINISHED;
}

void orch_resumegate_count(const struct orch_resume *rs, size_t nitems,
                           unsigned *attempts, json_t **rows,
                           struct orch_summary_todo *todo)
{
    int64_t since = 0;
    size_t i = 0;

    for (i = 0; i < nitems; i++) {
        enum orch_resume_action a = ORCH_RESUME_SEND;

        if (rs) {
            a = orch_resume_action(rs, i, &since);
            attempts[i] = rs->chunks[i].attempts;
            if (a == ORCH_RESUME_SKIP)
                rows[i] = json_incref(rs->chunks[i].done);
        }
        if (a == ORCH_RESUME_SKIP)
            todo->already_done++;
        else if (a == ORCH_RESUME_RECONCILE)
            todo->to_reconcile++;
        else
            todo->to_send++;
    }
}

int64_t orch_resumegate_settled_ms(const struct orch_resume *rs,
                                   int64_t request_timeout_ms)
{
    int64_t last = rs ? orch_resume_last_unsettled_ms(rs) : -1;

    return last < 0 ? -1 : last + request_timeout_ms;
}

static json_t *devcheck_json(const struct orch_device_check_stats *st)
{
    return json_pack("{s:I, s:I, s:I, s:I}", "checked",
                     (json_int_t)st->checked, "missing",
                     (json_int_t)st->missing, "up_to_date",
                     (json_int_t)st->up_to_date, "unchecked",
                     (json_int_t)st->unchecked);
}

json_t *orch_resumegate_run_record(const struct orch_config *cfg,
                                   const char *inv_abs, const char *inv_sha,
                                   size_t nitems, int64_t now_ms,
                                   const uint8_t *drop, size_t ninv,
                                   const struct orch_device_check_stats *st)
{
    json_t *rec = orch_resume_run_record(cfg, inv_abs, inv_sha, nitems,
                                         now_ms);

    /* --check-devices renumbered the chunks: a resume must rebuild the
     * same plan from this map, without asking again. */
    if (rec && drop &&
        (json_object_set_new(rec, "dropped",
                             orch_resume_dropped_json(drop, ninv)) ||
         json_object_set_new(rec, "devcheck", devcheck_json(st)))) {
        json_decref(rec);
        rec = NULL;
    }
    return rec;
}

json_t *orch_resumegate_resume_record(int64_t now_ms, long pid)
{
    return json_pack("{s:s, s:I, s:I}", "t", "resume", "time",
                     (json_int_t)now_ms, "pid", (json_int_t)pid);
}

static size_t count_of(const json_t *dc, const char *key)
{
    return (size_t)json_integer_value(json_object_get(dc, key));
}

void orch_resumegate_devcheck(const json_t *run,
                              struct orch_device_check_stats *st)
{
    const json_t *dc = json_object_get(run, "devcheck");

    st->missing = count_of(dc, "missing");
    st->up_to_date = count_of(dc, "up_to_date");
    st->unchecked = count_of(dc, "unchecked");
    st->checked = count_of(dc, "checked");
}
