/* runwaveacct.c - the end of a waved run: every wave's account
 * (runwaveacct.h). */
#include "orch/commands/runwaveacct.h"

#include "orch/base/err.h"
#include "orch/commands/credcmd.h"
#include "orch/commands/runctx.h"
#include "orch/rollout/gate.h"
#include "orch/rollout/planrows.h"
#include "orch/rollout/waveaccount.h"

/* The account of every wave (out[ctx->wp.n]) from the whole run's rows.
 * Returns 0 or ORCH_ENOMEM. */
static int account(const struct orch_run *ctx, struct orch_wave_account *out)
{
    json_t **filled = NULL;
    const json_t *records = ctx->wave_log;

    if (records == NULL && ctx->resuming)
        records = ctx->rs.waves;
    if (ctx->log.rows == NULL)
        return ORCH_ENOMEM;
    filled = orch_planrows_fill(ctx->log.rows, ctx->nitems,
                                ctx->unsent_code ? ctx->unsent_code
                                                 : ORCH_CODE_WAVE_NOT_STARTED);
    if (filled == NULL)
        return ORCH_ENOMEM;
    orch_waveaccount_build(&ctx->wp, filled, ctx->nitems, records, out);
    orch_planrows_free(filled, ctx->nitems);
    return 0;
}

void orch_runwaveacct_print(const struct orch_run *ctx, FILE *fp)
{
    struct orch_wave_account a[ORCH_WAVES_MAX];

    if (!ctx->waved || account(ctx, a))
        return;
    fputc('\n', fp);
    orch_waveaccount_print(fp, a, ctx->wp.n);
    if (ctx->cred != NULL) {
        char where[512];

        /* The refreshes over the whole run, gates' waits included (each
         * wave's summary told them as of its own end). */
        orch_credcmd_describe(ctx->cred, where, sizeof(where));
        fprintf(fp, "credentials: %s\n", where);
    }
}

json_t *orch_runwaveacct_json(const struct orch_run *ctx)
{
    struct orch_wave_account a[ORCH_WAVES_MAX];
    struct orch_gate now;

    if (!ctx->waved)
        return json_null();
    if (account(ctx, a))
        return NULL;
    now.success = ctx->cfg->success_threshold;
    now.failure = ctx->cfg->failure_threshold;
    now.min_decided = (uint64_t)ctx->cfg->min_decided;
    now.timeout_ms = ctx->cfg->wave_timeout_ms;
    return orch_waveaccount_json(a, ctx->wp.n,
                                 ctx->cfg->wave_interval_ms > 0 ? NULL : &now);
}
