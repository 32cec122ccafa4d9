/* runoverlap.c - what a new run says about the devices an unfinished
 * run holds (runoverlap.h). */
#include "orch/commands/runoverlap.h"

#include "orch/base/msgs.h"
#include "orch/commands/reason.h"
#include "orch/model/config.h"
#include "orch/rollout/overlap.h"
#include "orch/rollout/planrows.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Told as an error (refused) or, with --force, a warning. */
static void tell_refusal(struct orch_reason *why, const struct orch_config *cfg,
                         const char *text)
{
    if (cfg->force)
        orch_warnf("%s", text);
    else
        orch_reason_errorf(why, "%s", text);
}

/* Devices whose outcome is unknown: a job may already hold them. */
static void tell_undecided(struct orch_reason *why,
                           const struct orch_config *cfg,
                           const struct orch_overlap *o)
{
    char text[ORCH_REASON_LEN];

    snprintf(text, sizeof(text),
             "%zu device%s of %s %s in %zu chunk%s of the unfinished run "
             "%s whose outcome is unknown: a job may already hold them, and "
             "this run would give them a second one. Resolve that run "
             "first with `ota-rollout resume %s` (it looks the jobs up)%s",
             o->devices, o->devices == 1 ? "" : "s", cfg->inventory_path,
             o->devices == 1 ? "is" : "are", o->chunks,
             o->chunks == 1 ? "" : "s", o->journal, o->report,
             cfg->force ? "; sending them anyway (--force)"
                        : "; nothing sent (--force sends them anyway)");
    tell_refusal(why, cfg, text);
}

/* Why the waves of o's waiting chunks are not created yet. */
static void waiting_why(const struct orch_overlap *o, char *out, size_t n)
{
    const char *code = o->code ? o->code : ORCH_CODE_WAVE_NOT_STARTED;

    if (strcmp(code, ORCH_CODE_WAVE_PAUSED) == 0)
        snprintf(out, n,
                 "%s: the rollout is paused, wave %ld's gate was "
                 "not decided within --wave-timeout",
                 code, o->wave);
    else if (strcmp(code, ORCH_CODE_DEFERRED) == 0)
        snprintf(out, n,
                 "%s: their wave starts beyond the API's 7-day "
                 "schedule horizon",
                 code);
    else if (o->wave > 0)
        snprintf(out, n,
                 "%s: the rollout waits for (or stopped at) wave "
                 "%ld's gate",
                 code, o->wave);
    else
        snprintf(out, n, "%s: the rollout stopped before its waves", code);
}

/* Devices a resume of o would still send: never-created waves, chunks
 * never sent. */
static void tell_pending(struct orch_reason *why, const struct orch_config *cfg,
                         const struct orch_overlap *o, size_t devices,
                         size_t chunks, const char *state)
{
    char text[ORCH_REASON_LEN];

    snprintf(text, sizeof(text),
             "%zu device%s of %s belong%s to %zu chunk%s of the unfinished "
             "run %s that %s %s: `ota-rollout resume %s` would send them, "
             "and this run would give them a second job. Resume that run "
             "instead%s",
             devices, devices == 1 ? "" : "s", cfg->inventory_path,
             devices == 1 ? "s" : "", chunks, chunks == 1 ? "" : "s", o->report,
             chunks == 1 ? "is" : "are", state, o->report,
             cfg->force ? "; sending them anyway (--force): never resume "
                          "that run afterwards"
                        : "; nothing sent (--force sends them anyway, "
                          "after which that run must never be resumed)");
    tell_refusal(why, cfg, text);
}

/* Devices a gate abort kept from their wave: refused with the same
 * firmware, a warning with another one. */
static void tell_aborted(struct orch_reason *why, const struct orch_config *cfg,
                         const struct orch_overlap *o, size_t devices,
                         size_t chunks, bool same)
{
    char text[ORCH_REASON_LEN];
    int len = snprintf(text, sizeof(text),
                       "%zu device%s of %s %s in %zu chunk%s of the rollout "
                       "%s that wave %ld's health gate kept from being "
                       "created (WaveAborted); ",
                       devices, devices == 1 ? "" : "s", cfg->inventory_path,
                       devices == 1 ? "is" : "are", chunks,
                       chunks == 1 ? "" : "s", o->report, o->wave);
    size_t at = len < 0                      ? 0
                : (size_t)len < sizeof(text) ? (size_t)len
                                             : sizeof(text) - 1;

    if (!same) {
        snprintf(text + at, sizeof(text) - at,
                 "this run sends them another firmware. Never run "
                 "`ota-rollout resume %s --force` afterwards: it would give "
                 "them a second job",
                 o->report);
        orch_warnf("%s", text);
        return;
    }
    snprintf(text + at, sizeof(text) - at,
             "this run sends them the same firmware, which is what the gate "
             "stopped. Look at `ota-rollout status %s` first; to go on with "
             "this firmware deliberately, `ota-rollout resume %s --force`%s",
             o->report, o->report,
             cfg->force ? "; sending them anyway (--force)"
                        : "; nothing sent (--force sends them anyway)");
    tell_refusal(why, cfg, text);
}

/* Each kind of device o holds, in its words. */
void orch_runoverlap_tell(struct orch_reason *why,
                          const struct orch_config *cfg,
                          const struct orch_overlap *o)
{
    char because[256];

    if (o->devices)
        tell_undecided(why, cfg, o);
    if (o->waiting) {
        char state[320];

        waiting_why(o, because, sizeof(because));
        snprintf(state, sizeof(state), "not created yet (%s)", because);
        tell_pending(why, cfg, o, o->waiting, o->waiting_chunks, state);
    }
    if (o->unsent)
        tell_pending(why, cfg, o, o->unsent, o->unsent_chunks,
                     "not sent yet (the run stopped before sending them)");
    if (o->aborted)
        tell_aborted(why, cfg, o, o->aborted, o->aborted_chunks, true);
    if (o->other_fw)
        tell_aborted(why, cfg, o, o->other_fw, o->other_fw_chunks, false);
}
