/* runpreflight.c - credentials and the pre-flight of `run` and `plan`
 * (runpreflight.h). */
#include "orch/commands/runpreflight.h"

#include "orch/base/err.h"
#include "orch/base/exitcode.h"
#include "orch/base/interrupt.h"
#include "orch/base/msgs.h"
#include "orch/commands/credcmd.h"
#include "orch/cloud/credentials.h"
#include "orch/commands/runctx.h"
#include "orch/commands/runinventory.h"
#include "orch/commands/runoutput.h"
#include "orch/commands/runprogress.h"

#include <stdlib.h>
#include <string.h>

int orch_runpreflight_credentials(struct orch_run *ctx,
                                  struct orch_credentials *cred)
{
    if (orch_credcmd_open(cred, ctx->cfg->profile, ctx->hout, &ctx->why))
        return ORCH_EXIT_USAGE;
    ctx->cred = cred;
    return ORCH_EXIT_OK;
}

/* --verbose: the server's own text of each refused check, on one line,
 * each distinct text once (a problem of the account is the same text for
 * every firmware). */
static void tell_server_texts(const struct orch_preflight_result *pf)
{
    size_t i = 0, j = 0;

    for (i = 0; i < pf->nchecks; i++) {
        const struct orch_fw_check *c = &pf->checks[i];

        if (c->verdict == ORCH_FW_OK || c->server_message[0] == '\0')
            continue;
        for (j = 0; j < i; j++) {
            if (strcmp(pf->checks[j].server_message, c->server_message) == 0)
                break;
        }
        if (j == i)
            orch_notef("pre-flight: the server said (request id %s): %s",
                       c->request_id[0] ? c->request_id : "none",
                       c->server_message);
    }
}

/* A failed firmware check: each failed pair not told yet (preflight.h:
 * each problem once), then the verdict; with --verbose, the server's own
 * text before it. */
static int firmware_failed(struct orch_run *ctx, int rc,
                           const struct orch_diag *diag)
{
    size_t i = 0;

    if (ctx->cfg->verbose)
        tell_server_texts(&ctx->pf);

    for (i = 0; i < ctx->pf.nchecks; i++) {
        if (ctx->pf.checks[i].verdict != ORCH_FW_OK &&
            !ctx->pf.checks[i].told && ctx->pf.checks[i].message[0])
            orch_reason_errorf(&ctx->why, "pre-flight: %s",
                               ctx->pf.checks[i].message);
    }
    orch_reason_diag(&ctx->why, rc, diag);
    if (rc == ORCH_EABORT) {
        ctx->pf_state = ORCH_PF_ABORTED;
        return ORCH_EXIT_ABORTED;
    }
    ctx->pf_state = rc == ORCH_EAPI ? ORCH_PF_FAILED : ORCH_PF_NOT_RUN;
    return ORCH_EXIT_USAGE;
}

int orch_runpreflight_firmware(struct orch_run *ctx,
                               const struct orch_credentials *cred)
{
    struct orch_diag diag = {{0}};
    int rc = 0;

    if (ctx->cfg->skip_preflight) {
        ctx->pf_state = ORCH_PF_SKIPPED;
        orch_warnf("pre-flight skipped (--skip-preflight): the firmware was "
                   "not checked; a missing, unverified or wrong firmware "
                   "fails every chunk");
        return ORCH_EXIT_OK;
    }
    rc = orch_preflight_run(ctx->cfg, cred, ctx->specific ? &ctx->plan : NULL,
                            &ctx->pf, &diag);
    if (rc)
        return firmware_failed(ctx, rc, &diag);
    ctx->pf_state = ORCH_PF_PASSED;
    fprintf(ctx->hout, "pre-flight: %zu firmware check%s passed\n",
            ctx->pf.nchecks, ctx->pf.nchecks == 1 ? "" : "s");
    return ORCH_EXIT_OK;
}

/* A device the device check left out: a row of the rejects file (run),
 * or one of the first few shown (plan --preflight). */
static int on_drop(void *ud, uint32_t line, const char *value,
                   const char *reason)
{
    struct orch_run *ctx = ud;

    return orch_runctx_left_out(ctx, &ctx->dshown, line, value, reason);
}

/* The device check itself, under the interrupt handler. */
static int check_devices(struct orch_run *ctx,
                         const struct orch_credentials *cred,
                         struct orch_diag *diag)
{
    struct orch_device_check_opts opts;
    int rc = 0;

    memset(&opts, 0, sizeof(opts));
    opts.on_drop = on_drop;
    opts.ud = ctx;
    opts.progress = orch_runprogress_devcheck;
    opts.interrupt = orch_interrupt_counter();
    orch_interrupt_install(1);
    rc = orch_preflight_devices(ctx->cfg, cred, &ctx->plan, &ctx->pf, &opts,
                                ctx->drop, &ctx->devst, diag);
    orch_interrupt_uninstall();
    orch_runprogress_end_line(ctx);
    return rc;
}

int orch_runpreflight_devices(struct orch_run *ctx,
                              const struct orch_credentials *cred)
{
    struct orch_diag diag = {{0}};
    int rc = 0;

    if (ctx->cfg->command == ORCH_CMD_RUN && !ctx->files.rejects_open &&
        orch_runoutput_open_rejects(ctx))
        return ORCH_EXIT_USAGE;
    free(ctx->drop);
    ctx->drop = calloc(ctx->inv.n ? ctx->inv.n : 1, 1);
    if (ctx->drop == NULL) {
        orch_reason_errorf(&ctx->why, "out of memory");
        return ORCH_EXIT_USAGE;
    }
    rc = check_devices(ctx, cred, &diag);
    ctx->devcheck_ran = rc == 0;
    if (rc) {
        orch_reason_errorf(&ctx->why, "%s; nothing sent",
                           orch_diag_text(rc, &diag));
        return rc == ORCH_EABORT ? ORCH_EXIT_ABORTED : ORCH_EXIT_USAGE;
    }
    if (ctx->devst.unchecked > 0)
        orch_warnf("device check: %zu device%s could not be checked (%s); "
                   "they stay in the plan",
                   ctx->devst.unchecked, ctx->devst.unchecked == 1 ? "" : "s",
                   ctx->devst.first_error[0] ? ctx->devst.first_error
                                             : "no answer");
    rc = orch_runinventory_replan(ctx);
    if (rc == ORCH_EXIT_OK)
        orch_runpreflight_print_dropped(ctx, ctx->hout);
    return rc;
}

int orch_runpreflight_nothing_left(struct orch_run *ctx)
{
    if (ctx->devst.missing == 0 && ctx->devst.unchecked == 0) {
        orch_notef("every device already runs the firmware's version; "
                   "nothing to send");
        return ORCH_EXIT_OK;
    }
    orch_reason_errorf(&ctx->why,
                       "no device left to upgrade after the device check "
                       "(%zu missing, %zu already upgraded); nothing sent",
                       ctx->devst.missing, ctx->devst.up_to_date);
    return ORCH_EXIT_INVENTORY;
}

void orch_runpreflight_print_dropped(const struct orch_run *ctx, FILE *fp)
{
    orch_summary_print_dropped(fp, &ctx->devst, &ctx->dshown,
                               orch_runctx_rejects_path(ctx), ctx->nitems);
}
