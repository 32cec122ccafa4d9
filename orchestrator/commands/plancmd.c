/* plancmd.c - the `plan` command (plancmd.h). */
#include "orch/commands/plancmd.h"

#include "orch/base/exitcode.h"
#include "orch/cloud/api.h"
#include "orch/cloud/params.h"
#include "orch/commands/runctx.h"
#include "orch/commands/runinventory.h"
#include "orch/commands/runpreflight.h"
#include "orch/commands/runsummary.h"
#include "orch/commands/runwaves.h"
#include "orch/commands/runwindows.h"
#include "orch/commands/waverun.h"
#include "orch/base/clock.h"
#include "orch/rollout/waveplan.h"
#include "orch/rollout/winplan.h"

#include <stdio.h>
#include <string.h>

/* Prints parameter i of the first request. A run of TargetDeviceName.N
 * parameters is one line, "TargetDeviceName.1..200 = first .. last",
 * unless verbose. Returns how many parameters after i it printed too. */
static size_t print_param(FILE *fp, const struct orch_params *p, size_t i,
                          bool verbose)
{
    static const char dev[] = "TargetDeviceName.";
    size_t n = 1;

    if (!verbose && strncmp(p->v[i].name, dev, sizeof(dev) - 1) == 0) {
        while (i + n < p->n &&
               strncmp(p->v[i + n].name, dev, sizeof(dev) - 1) == 0)
            n++;
    }
    if (n == 1) {
        fprintf(fp, "%s=%s\n", p->v[i].name, p->v[i].value);
        return 0;
    }
    fprintf(fp, "%s..%s = %s .. %s\n", p->v[i].name,
            p->v[i + n - 1].name + sizeof(dev) - 1, p->v[i].value,
            p->v[i + n - 1].value);
    return n - 1;
}

/* The first request's parameters into *p (none: a plan without chunks).
 * 0 or an ORCH_E* code. */
static int first_params(const struct orch_run *ctx, struct orch_params *p)
{
    const struct orch_chunk *c = NULL;

    if (ctx->specific)
        c = &ctx->plan.chunks[0];
    return orch_api_create_params(p, ctx->cfg,
                                  ctx->specific ? &ctx->plan : NULL, c);
}

static int print_first_request(const struct orch_run *ctx, FILE *fp)
{
    struct orch_params p;
    size_t i = 0;
    int rc = 0;

    if (ctx->specific && ctx->plan.nchunks == 0)
        return 0;
    orch_params_init(&p);
    rc = first_params(ctx, &p);
    if (rc == 0) {
        fprintf(fp,
                "first request: CreateOTAStaticUpgradeJob (chunk 1 of "
                "%zu)\n",
                ctx->nitems);
        for (i = 0; i < p.n; i++)
            i += print_param(fp, &p, i, ctx->cfg->verbose);
    }
    orch_params_cleanup(&p);
    return rc;
}

/* --preflight: credentials, the firmware check (with --skip-preflight
 * this only warns that it skipped) and the device check. */
static int preflight(struct orch_run *ctx, struct orch_credentials *cred)
{
    int code = orch_runpreflight_credentials(ctx, cred);

    if (code == ORCH_EXIT_OK)
        code = orch_runpreflight_firmware(ctx, cred);
    if (code == ORCH_EXIT_OK && ctx->specific && ctx->cfg->check_devices)
        code = orch_runpreflight_devices(ctx, cred);
    return code;
}

/* The plan and the checks' results; the first request as text, or (for
 * --json) into *first. */
static int print_plan(struct orch_run *ctx, int code,
                      struct orch_params *first, bool *have_first)
{
    const struct orch_config *cfg = ctx->cfg;
    FILE *fp = cfg->json ? ctx->hout : stdout;

    orch_runsummary_print_plan(ctx, fp);
    orch_summary_print_preflight(fp, ctx->pf_state, &ctx->pf);
    if (ctx->devcheck_ran)
        orch_runpreflight_print_dropped(ctx, fp);
    if (!cfg->json) {
        if (print_first_request(ctx, fp)) {
            orch_reason_errorf(&ctx->why, "out of memory");
            code = ORCH_EXIT_USAGE;
        }
    } else if (!ctx->specific || ctx->plan.nchunks > 0) {
        if (first_params(ctx, first) == 0)
            *have_first = true;
    }
    return code;
}

/* --window: each wave's window in each zone. */
static void print_schedule(const struct orch_run *ctx, FILE *fp)
{
    struct orch_winplan wpl;

    orch_runwindows_plan(ctx, orch_wall_ms(), &wpl);
    orch_winplan_print(fp, &wpl);
}

int orch_plancmd_main(struct orch_run *ctx, struct orch_credentials *cred,
                      struct orch_params *first, bool *have_first)
{
    const struct orch_config *cfg = ctx->cfg;
    int code = orch_runwaves_setup(ctx);

    if (code)
        return code;
    if (ctx->specific && ctx->plan.nchunks == 0) {
        orch_runsummary_print_plan(ctx, cfg->json ? ctx->hout : stdout);
        return orch_runinventory_none(ctx);
    }
    if (cfg->preflight)
        code = preflight(ctx, cred);
    code = print_plan(ctx, code, first, have_first);
    /* With --json, stdout holds the document only. */
    if (code == ORCH_EXIT_OK && ctx->waved) {
        FILE *fp = cfg->json ? ctx->hout : stdout;

        orch_waverun_print_plan(fp, cfg, &ctx->wp);
        orch_waveplan_print(fp, &ctx->plan, &ctx->wp);
    }
    if (code == ORCH_EXIT_OK)
        print_schedule(ctx, cfg->json ? ctx->hout : stdout);
    return code;
}
