/* planrows.c - the report's rows for the chunks of a waved plan that have
 * no outcome yet (planrows.h). Pure. */
#include "orch/rollout/planrows.h"

#include "orch/rollout/outcome.h"

#include <stdlib.h>
#include <string.h>

static bool is(const char *s, const char *want)
{
    return s != NULL && strcmp(s, want) == 0;
}

const char *orch_planrows_code(const json_t *wave_record)
{
    const char *ev = orch_outcome_str(wave_record, "event");
    const char *reason = orch_outcome_str(wave_record, "reason");

    if (is(ev, "aborted"))
        return ORCH_CODE_WAVE_ABORTED;
    if (is(ev, "paused") && is(reason, "timeout"))
        return ORCH_CODE_WAVE_PAUSED;
    if (is(ev, "paused") && is(reason, "horizon"))
        return ORCH_CODE_DEFERRED;
    return ORCH_CODE_WAVE_NOT_STARTED;
}

const char *orch_planrows_message(const char *code)
{
    if (is(code, ORCH_CODE_WAVE_NOT_STARTED))
        return "not created yet: its wave starts after the gate of the "
               "wave before it passes (`ota-rollout resume` goes on)";
    if (is(code, ORCH_CODE_WAVE_ABORTED))
        return "not created: a wave's health gate aborted the rollout; "
               "never rerun these devices with the same firmware by "
               "accident (`ota-rollout resume --force` overrides the gate)";
    if (is(code, ORCH_CODE_WAVE_PAUSED))
        return "not created yet: the rollout is paused, a gate was not "
               "decided within --wave-timeout (`ota-rollout resume` goes "
               "on)";
    if (is(code, ORCH_CODE_DEFERRED))
        return "not created yet: its wave starts beyond the API's 7-day "
               "schedule horizon (`ota-rollout resume` creates it once "
               "it is inside)";
    return "";
}

const char *orch_planrows_brief(const char *code)
{
    if (is(code, ORCH_CODE_WAVE_NOT_STARTED))
        return "a later wave: `ota-rollout resume` creates it";
    if (is(code, ORCH_CODE_WAVE_ABORTED))
        return "a gate aborted the rollout: never rerun them with this "
               "firmware by accident";
    if (is(code, ORCH_CODE_WAVE_PAUSED))
        return "the rollout is paused: `ota-rollout resume` goes on";
    if (is(code, ORCH_CODE_DEFERRED))
        return "beyond the 7-day horizon: `ota-rollout resume` creates it "
               "later";
    return NULL;
}

bool orch_planrows_waiting(const json_t *done)
{
    const char *code = orch_outcome_str(done, "code");

    return is(orch_outcome_str(done, "status"), "not_sent") &&
           (is(code, ORCH_CODE_WAVE_NOT_STARTED) ||
            is(code, ORCH_CODE_WAVE_ABORTED) ||
            is(code, ORCH_CODE_WAVE_PAUSED) || is(code, ORCH_CODE_DEFERRED));
}

json_t **orch_planrows_fill(json_t *const *rows, size_t n, const char *code)
{
    json_t **out = calloc(n ? n : 1, sizeof(*out));
    size_t i = 0;

    if (out == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        if (rows[i] != NULL) {
            out[i] = json_incref(rows[i]);
            continue;
        }
        out[i] = json_pack("{s:s, s:I, s:s, s:i, s:s, s:s}", "t", "done", "c",
                           (json_int_t)i, "status", "not_sent", "attempts", 0,
                           "code", code, "message",
                           orch_planrows_message(code));
        if (out[i] == NULL) {
            orch_planrows_free(out, n);
            return NULL;
        }
    }
    return out;
}

void orch_planrows_free(json_t **rows, size_t n)
{
    size_t i = 0;

    if (rows == NULL)
        return;
    for (i = 0; i < n; i++)
        json_decref(rows[i]);
    free(rows);
}
