/* runjournal.c - `run`: reading the earlier run's journal, opening this
 * one (runjournal.h). */
#include "orch/commands/runjournal.h"

#include "orch/base/clock.h"
#include "orch/base/codec.h"
#include "orch/base/err.h"
#include "orch/base/exitcode.h"
#include "orch/base/interrupt.h"
#include "orch/base/msgs.h"
#include "orch/commands/runctx.h"
#include "orch/commands/runinventory.h"
#include "orch/rollout/resumegate.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Told about each earlier file moved aside (ud: the run). */
static void tell_kept(void *ud, const char *from, const char *to, int errnum)
{
    struct orch_run *ctx = ud;

    if (errnum)
        orch_reason_errorf(&ctx->why, "cannot rename %s to %s: %s", from, to,
                           strerror(errnum));
    else
        orch_notef("--force: kept the earlier run's %s as %s", from, to);
}

/* --force over an earlier run: its report, journal, failed, waves and
 * rejects files are kept as "<name>.<UTC timestamp>", never deleted
 * (rejects only when with_rejects: this run may have opened its own).
 * Returns 0 to go on, or an exit code. */
static int keep_old_files(struct orch_run *ctx, bool with_rejects)
{
    return orch_runfiles_keep_old(ctx->cfg->report_path, with_rejects,
                                  time(NULL), tell_kept, ctx)
               ? ORCH_EXIT_USAGE
               : ORCH_EXIT_OK;
}

/* An existing report may be the only record of jobs already created, so it
 * is never overwritten: without --force the run is refused; with --force
 * the old files are kept under a new name, as over a journal (a report
 * without its journal, e.g. from a tool that kept none, is no less
 * precious). */
static int check_report_free(struct orch_run *ctx)
{
    const struct orch_config *cfg = ctx->cfg;

    if (!orch_runfiles_exists(cfg->report_path))
        return ORCH_EXIT_OK;
    if (cfg->force)
        return keep_old_files(ctx, true);
    orch_reason_errorf(&ctx->why,
                       "report %s already exists (a previous run's record "
                       "of the jobs it created?); pass --force to start "
                       "anew (the old files are kept under a new name) or "
                       "--report to write another file",
                       cfg->report_path);
    return ORCH_EXIT_USAGE;
}

/* No journal (or no run in it): a new run. */
static int no_journal(struct orch_run *ctx)
{
    if (ctx->cfg->resume)
        orch_notef("no journal %s (the run never got as far as its "
                   "first call): starting the run afresh",
                   ctx->journal_path);
    if (!orch_runfiles_exists(ctx->journal_path))
        ctx->rs.valid_len = (size_t)-1;
    return check_report_free(ctx);
}

/* An earlier run that did not finish, or did: refused without --force. */
static int refuse_earlier(struct orch_run *ctx, enum orch_resumegate g)
{
    if (g == ORCH_RESUMEGATE_FINISHED)
        orch_reason_errorf(&ctx->why,
                           "%s: this report's run already finished; "
                           "running it again would create a second job "
                           "for every device. Pass --force to start a new "
                           "rollout anyway (the old files are kept), or "
                           "--report another file",
                           ctx->journal_path);
    else
        orch_reason_errorf(&ctx->why,
                           "%s: an earlier run with this report did not "
                           "finish; continue it with --resume (or "
                           "`ota-rollout resume %s`). --force would start "
                           "anew (the old files are kept) and send every "
                           "device again, those the earlier run put or may "
                           "have put into a job included",
                           ctx->journal_path, ctx->cfg->report_path);
    return ORCH_EXIT_USAGE;
}

int orch_runjournal_read(struct orch_run *ctx)
{
    struct orch_diag diag = {{0}};
    enum orch_resumegate g = ORCH_RESUMEGATE_NONE;
    int rc = 0;

    ctx->journal_path = orch_resume_journal_path(ctx->cfg->report_path);
    if (ctx->journal_path == NULL) {
        orch_reason_errorf(&ctx->why, "out of memory");
        return ORCH_EXIT_USAGE;
    }
    rc = orch_resume_load(&ctx->rs, ctx->journal_path, &diag);
    g = orch_resumegate_decide(rc, &ctx->rs, ctx->cfg->resume,
                               ctx->cfg->force);
    switch (g) {
    case ORCH_RESUMEGATE_NONE:
        return no_journal(ctx);
    case ORCH_RESUMEGATE_RESUME:
        ctx->resuming = true;
        return ORCH_EXIT_OK;
    case ORCH_RESUMEGATE_ANEW_DAMAGED:
        orch_warnf("%s", orch_diag_text(rc, &diag));
        /* fall through */
    case ORCH_RESUMEGATE_ANEW:
        orch_resume_cleanup(&ctx->rs);
        return keep_old_files(ctx, true);
    case ORCH_RESUMEGATE_DAMAGED:
        orch_reason_diag(&ctx->why, rc, &diag);
        orch_reason_errorf(&ctx->why,
                           "the journal %s cannot be trusted to resume "
                           "from; check the jobs in the console, then "
                           "start anew with `run --force` (the old files "
                           "are kept)",
                           ctx->journal_path);
        return ORCH_EXIT_USAGE;
    case ORCH_RESUMEGATE_FINISHED:
    case ORCH_RESUMEGATE_UNFINISHED:
        break;
    }
    return refuse_earlier(ctx, g);
}

/* The run's identity against the journal's (resume only). */
static int check_identity(struct orch_run *ctx)
{
    json_t *shape = orch_resume_shape(ctx->cfg);
    char what[1024];
    size_t diffs = 0;

    if (shape == NULL) {
        orch_reason_errorf(&ctx->why, "out of memory");
        return ORCH_EXIT_USAGE;
    }
    diffs = orch_resume_compare(ctx->rs.run, ctx->inv_abs ? ctx->inv_sha : NULL,
                                shape, ctx->nitems, what, sizeof(what));
    json_decref(shape);
    if (diffs == 0)
        return ORCH_EXIT_OK;
    if (!ctx->cfg->force) {
        orch_reason_errorf(&ctx->why,
                           "resume refused: the run in %s was started "
                           "differently: %s. Chunk numbers would no longer "
                           "name the same devices. Undo the change, or pass "
                           "--force to start a new run (the old files are "
                           "kept)",
                           ctx->journal_path, what);
        return ORCH_EXIT_USAGE;
    }
    orch_warnf("--force: %s; not resuming: starting a new run. Devices the "
               "earlier run put into jobs will get failed tasks (already in "
               "an upgrade job)",
               what);
    orch_resume_cleanup(&ctx->rs);
    ctx->rs.valid_len = (size_t)-1;
    ctx->resuming = false;
    return keep_old_files(ctx, false);
}

/* The drop map the run's device check made, from its run record (never
 * asked again: devices upgrade meanwhile, and a new answer would renumber
 * the chunks). */
static int resume_drops(struct orch_run *ctx)
{
    const char *sha = json_string_value(json_object_get(ctx->rs.run,
                                                        "inventory_sha256"));
    struct orch_diag diag = {{0}};
    bool has = false;
    int rc = 0;

    /* Another inventory: check_identity refuses (or --force starts anew),
     * and the old indices would mean other devices. */
    if (!ctx->specific || sha == NULL || strcmp(sha, ctx->inv_sha) != 0)
        return ORCH_EXIT_OK;
    ctx->drop = calloc(ctx->inv.n ? ctx->inv.n : 1, 1);
    if (ctx->drop == NULL) {
        orch_reason_errorf(&ctx->why, "out of memory");
        return ORCH_EXIT_USAGE;
    }
    rc = orch_resume_drop_map(ctx->rs.run, ctx->drop, ctx->inv.n, &has,
                              &diag);
    if (rc) {
        orch_reason_errorf(&ctx->why,
                           "%s: %s; check the jobs in the console, then "
                           "start anew with `run --force` (the old files "
                           "are kept)",
                           ctx->journal_path, diag.msg);
        return ORCH_EXIT_USAGE;
    }
    if (!has) {
        free(ctx->drop);
        ctx->drop = NULL;
        if (ctx->cfg->check_devices)
            orch_notef("--check-devices: the run being resumed did not check "
                       "its devices; not checking them now (its chunks must "
                       "stay the same)");
        return ORCH_EXIT_OK;
    }
    ctx->drop_from_journal = true;
    orch_resumegate_devcheck(ctx->rs.run, &ctx->devst);
    fprintf(ctx->hout,
            "device check (from the journal, not asked again): %zu missing "
            "and %zu already upgraded devices stay left out\n",
            ctx->devst.missing, ctx->devst.up_to_date);
    return orch_runinventory_replan(ctx);
}

/* --force over a changed run: a new plan, checked anew. */
static int forget_drops(struct orch_run *ctx)
{
    free(ctx->drop);
    ctx->drop = NULL;
    ctx->drop_from_journal = false;
    memset(&ctx->devst, 0, sizeof(ctx->devst));
    return orch_runinventory_replan(ctx);
}

int orch_runjournal_gate(struct orch_run *ctx)
{
    int code = ORCH_EXIT_OK;

    if (!ctx->resuming)
        return ORCH_EXIT_OK;
    code = resume_drops(ctx);
    if (code == ORCH_EXIT_OK)
        code = check_identity(ctx);
    if (code == ORCH_EXIT_OK && !ctx->resuming && ctx->drop)
        code = forget_drops(ctx);
    return code;
}

int orch_runjournal_run_id(struct orch_run *ctx)
{
    struct orch_config *cfg = (struct orch_config *)ctx->cfg;
    const char *old = json_string_value(json_object_get(ctx->rs.run,
                                                        "run_id"));
    char nonce[33];

    free(cfg->run_id);
    cfg->run_id = NULL;
    if (ctx->resuming && old) {
        cfg->run_id = strdup(old);
    } else {
        if (orch_random_nonce(nonce) != 0)
            return ORCH_ESIGN;
        nonce[12] = '\0';
        cfg->run_id = strdup(nonce);
    }
    return cfg->run_id ? 0 : ORCH_ENOMEM;
}

int orch_runjournal_open(struct orch_run *ctx)
{
    struct orch_diag diag = {{0}};
    json_t *rec = NULL;
    int rc = 0;

    rc = orch_runlog_open(&ctx->log, ctx->journal_path, ctx->rs.valid_len,
                          &diag);
    if (rc) {
        orch_reason_diag(&ctx->why, rc, &diag);
        return rc;
    }
    if (ctx->resuming)
        rec = orch_resumegate_resume_record(orch_wall_ms(), (long)getpid());
    else
        rec = orch_resumegate_run_record(
            ctx->cfg, ctx->inv_abs, ctx->inv_abs ? ctx->inv_sha : NULL,
            ctx->nitems, orch_wall_ms(), ctx->devcheck_ran ? ctx->drop : NULL,
            ctx->inv.n, &ctx->devst);
    orch_runlog_add(&ctx->log, rec);
    rc = ctx->log.err ? ctx->log.err : orch_runlog_sync(&ctx->log);
    if (rc)
        orch_reason_errorf(&ctx->why, "%s: cannot write the journal: %s",
                           ctx->journal_path, orch_strerror(rc));
    return rc;
}

bool orch_runjournal_settle(const struct orch_run *ctx)
{
    int64_t until = orch_resumegate_settled_ms(
        ctx->resuming ? &ctx->rs : NULL, ctx->cfg->request_timeout_ms);
    int64_t now = orch_wall_ms();

    if (until < 0 || until <= now)
        return true;
    orch_notef("waiting %.1f s for the calls the earlier run had in flight "
               "to settle before looking them up (--request-timeout)",
               (double)(until - now) / 1000.0);
    while (now < until && !orch_interrupt_level()) {
        int64_t step = until - now < 200 ? until - now : 200;
        struct timespec ts = { 0, (long)step * 1000000L };

        nanosleep(&ts, NULL);
        now = orch_wall_ms();
    }
    return !orch_interrupt_level();
}
