/* run.c - the `run` and `plan` commands wired end to end.
 *
 * DESIGN: one straight pipeline; each step is one function of this file
 * over one part of the run's state (runctx.h), and each part lives in its
 * own file:
 *   journal gate (run: runjournal) -> inventory and plan (runinventory)
 *   -> for `plan`: plancmd, done; for `run`: the resume gate
 *   (runjournal) -> per-chunk tables and waves (runwaves) -> the plan
 *   summary (runsummary) -> pre-flight and confirmation (runpreflight,
 *   runprompt) -> credentials to watch -> the journal and the report
 *   files (runjournal, runoutput) -> the Create calls (rundispatch) or
 *   the waves runner (runwaves, waverun) -> the final report and next
 *   step (runoutput) -> the --json summary (runsummary).
 * Each step returns ORCH_EXIT_OK to go on or the exit code to stop with;
 * a step that fails has printed why through ctx->why (reason.h), and the
 * --json document gives that text as the exit reason.
 *
 * JOURNAL: <report>.journal records the run (resume.h, journal.h). Order
 * of durability: the run record is synced before any output file is
 * opened; then runlog.h keeps each chunk's result and holds its report
 * row back until the journal sync that carries it (from the dispatcher's
 * sync hook, the progress tick, and the end), so the report never shows
 * a row the journal could lose. At the end the report and failed-devices
 * file are rewritten whole, ordered by chunk, from the journal's done
 * records plus this run's (runfiles.h: temp file + fsync + rename, a
 * crash mid-rewrite loses nothing), then the end record is written.
 * Test-only hook: OTA_ROLLOUT_TEST_ABORT_AFTER_RECORDS=N is runlog.h's
 * abort_after (SIGKILL right after the sync that took this process to N
 * records). The crash tests use it; it has no other use.
 */
#include "orch/commands/run.h"

#include "orch/base/exitcode.h"
#include "orch/base/msgs.h"
#include "orch/cloud/credentials.h"
#include "orch/cloud/params.h"
#include "orch/commands/plancmd.h"
#include "orch/commands/runctx.h"
#include "orch/commands/rundispatch.h"
#include "orch/commands/runinventory.h"
#include "orch/commands/runjournal.h"
#include "orch/commands/runoutput.h"
#include "orch/commands/runpreflight.h"
#include "orch/commands/runprompt.h"
#include "orch/commands/runsummary.h"
#include "orch/commands/runwaves.h"
#include "orch/commands/waverun.h"
#include "orch/rollout/waveplan.h"

#include <signal.h>
#include <string.h>

/* `run` only, before the inventory is read: the journal next to the
 * report (new run, resume or refusal), the inventory's identity, and the
 * rejects file for --skip-invalid. */
static int gate_journal(struct orch_run *ctx)
{
    int code = orch_runjournal_read(ctx);

    if (code)
        return code;
    if (orch_runinventory_hash(ctx))
        return ORCH_EXIT_USAGE;
    if (ctx->specific && ctx->cfg->skip_invalid &&
        orch_runoutput_open_rejects(ctx))
        return ORCH_EXIT_USAGE;
    return ORCH_EXIT_OK;
}

/* The inventory and its plan; a new run refuses devices an unfinished
 * run may have put into a job. */
static int load_plan(struct orch_run *ctx, bool is_run)
{
    int code = ORCH_EXIT_OK;

    if (!ctx->specific)
        return orch_runinventory_plan(ctx);
    code = orch_runinventory_load(ctx);
    if (code == ORCH_EXIT_OK)
        code = orch_runinventory_plan(ctx);
    if (code == ORCH_EXIT_OK && is_run && !ctx->resuming)
        code = orch_runinventory_overlap(ctx);
    return code;
}

/* The per-chunk tables (a resumed run's results copied in), the run id
 * and the waves. */
static int prepare_run(struct orch_run *ctx)
{
    if (orch_runinventory_tables(ctx) || orch_runjournal_run_id(ctx)) {
        orch_reason_errorf(&ctx->why, "out of memory");
        return ORCH_EXIT_USAGE;
    }
    return orch_runwaves_setup(ctx);
}

/* What the run is about to do: the plan, its waves, a resume's state. */
static int tell_plan(struct orch_run *ctx)
{
    orch_runsummary_print_plan(ctx, ctx->hout);
    if (ctx->waved) {
        orch_waverun_print_plan(ctx->hout, ctx->cfg, &ctx->wp);
        orch_waveplan_print(ctx->hout, &ctx->plan, &ctx->wp);
    }
    orch_runsummary_print_resume(ctx);
    if (ctx->nitems == 0)
        return orch_runinventory_none(ctx);
    return ORCH_EXIT_OK;
}

/* When there is something to send: credentials, the firmware check every
 * time (cheap), the confirmation, and the device check only for a new run
 * (a resume keeps the journal's drop map). */
static int check_and_confirm(struct orch_run *ctx,
                             struct orch_credentials *cred)
{
    int code = ORCH_EXIT_OK;

    if (ctx->todo.to_send + ctx->todo.to_reconcile == 0)
        return ORCH_EXIT_OK;
    code = orch_runprompt_possible(ctx);
    if (code == ORCH_EXIT_OK)
        code = orch_runpreflight_credentials(ctx, cred);
    if (code == ORCH_EXIT_OK)
        code = orch_runpreflight_firmware(ctx, cred);
    if (code == ORCH_EXIT_OK)
        code = orch_runprompt_confirm(ctx);
    if (code == ORCH_EXIT_OK && ctx->specific && ctx->cfg->check_devices &&
        !ctx->resuming)
        code = orch_runpreflight_devices(ctx, cred);
    return code;
}

/* Watching needs credentials even when nothing is left to create (a
 * paused wave). */
static int credentials_to_watch(struct orch_run *ctx,
                                struct orch_credentials *cred)
{
    int code = ORCH_EXIT_OK;

    if (!(ctx->waved || ctx->cfg->wait) || cred->access_key_id != NULL)
        return ORCH_EXIT_OK;
    code = orch_runpreflight_credentials(ctx, cred);
    if (code == ORCH_EXIT_OK && ctx->resuming)
        code = orch_runprompt_confirm(ctx);
    return code;
}

/* The journal and the files, then the Creates (or the waves runner), then
 * the end of the run. */
static int send(struct orch_run *ctx, const struct orch_credentials *cred)
{
    int code = ORCH_EXIT_OK;

    if (orch_runjournal_open(ctx))
        return ORCH_EXIT_USAGE;
    if (orch_runoutput_open(ctx))
        code = ORCH_EXIT_USAGE;
    else if (ctx->waved || ctx->cfg->wait)
        code = orch_runwaves_run(ctx, cred);
    else if (ctx->todo.to_send + ctx->todo.to_reconcile > 0)
        code = orch_rundispatch_run(ctx, cred);
    else
        orch_notef("every chunk of this run already has its result; "
                   "nothing to send");
    return orch_runoutput_finish(ctx, code);
}

/* `run` after the plan is built. */
static int run_command(struct orch_run *ctx, struct orch_credentials *cred)
{
    int code = orch_runjournal_gate(ctx);

    if (code == ORCH_EXIT_OK)
        code = prepare_run(ctx);
    if (code == ORCH_EXIT_OK)
        code = tell_plan(ctx);
    if (code == ORCH_EXIT_OK)
        code = check_and_confirm(ctx, cred);
    if (code)
        return code;
    if (ctx->nitems == 0) /* the device check left nothing */
        return orch_runpreflight_nothing_left(ctx);
    code = credentials_to_watch(ctx, cred);
    /* The device check may have changed the plan: the waves again. */
    if (code == ORCH_EXIT_OK)
        code = orch_runwaves_setup(ctx);
    if (code == ORCH_EXIT_OK)
        code = send(ctx, cred);
    return code;
}

int orch_run_main(struct orch_config *cfg)
{
    struct orch_run *ctx = NULL;
    struct orch_credentials cred;
    struct orch_params first;
    bool have_first = false;
    bool is_run = cfg->command == ORCH_CMD_RUN;
    int code = ORCH_EXIT_OK;

    ctx = orch_runctx_new(cfg);
    if (ctx == NULL) {
        orch_errorf("out of memory");
        return ORCH_EXIT_USAGE;
    }
    memset(&cred, 0, sizeof(cred));
    orch_params_init(&first);
    signal(SIGPIPE, SIG_IGN);

    if (is_run)
        code = gate_journal(ctx);
    if (code == ORCH_EXIT_OK)
        code = load_plan(ctx, is_run);
    if (code == ORCH_EXIT_OK && !is_run)
        code = orch_plancmd_main(ctx, &cred, &first, &have_first);
    else if (code == ORCH_EXIT_OK)
        code = run_command(ctx, &cred);

    if (orch_runoutput_close(ctx) && code == ORCH_EXIT_OK)
        code = ORCH_EXIT_PARTIAL;
    orch_runsummary_emit(ctx, code, is_run, have_first ? &first : NULL);
    orch_params_cleanup(&first);
    orch_credentials_cleanup(&cred);
    orch_runctx_free(ctx);
    return code;
}
