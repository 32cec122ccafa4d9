/* runsummary.c - the facts `run` and `plan` tell, filled from the run's
 * state (runsummary.h). */
#include "orch/commands/runsummary.h"

#include "orch/base/clock.h"
#include "orch/base/jsonout.h"
#include "orch/cloud/credentials.h"
#include "orch/cloud/credopen.h"
#include "orch/commands/runctx.h"
#include "orch/commands/runwaveacct.h"
#include "orch/commands/runwindows.h"
#include "orch/rollout/outcome.h"
#include "orch/rollout/planrows.h"
#include "orch/rollout/report.h"

#include <stdlib.h>
#include <string.h>

/* The file names the summary document borrows (malloced, NULL when those
 * files were not written). */
struct doc_names {
    char *failed, *rejects, *ambiguous, *next;
};

static void plan_facts(const struct orch_run *ctx,
                       struct orch_summary_plan *sp)
{
    const struct orch_config *cfg = ctx->cfg;

    memset(sp, 0, sizeof(*sp));
    sp->cfg = cfg;
    sp->inv = ctx->specific ? &ctx->inv : NULL;
    sp->plan = ctx->specific ? &ctx->plan : NULL;
    sp->nitems = ctx->nitems;
    sp->calls = ctx->resuming ? ctx->todo.to_send + ctx->todo.to_reconcile
                              : ctx->nitems;
    sp->rejected = &ctx->shown;
    sp->rejects_path = orch_runctx_rejects_path(ctx);
    sp->device_cost = ctx->specific && cfg->check_devices &&
                      !ctx->resuming && !ctx->devcheck_ran;
    sp->waves = ctx->waved ? &ctx->wp : NULL;
    orch_runwindows_plan(ctx, orch_wall_ms(), &sp->windows);
}

void orch_runsummary_print_plan(const struct orch_run *ctx, FILE *fp)
{
    struct orch_summary_plan sp;

    plan_facts(ctx, &sp);
    orch_summary_print_plan(fp, &sp);
}

void orch_runsummary_print_resume(const struct orch_run *ctx)
{
    if (ctx->resuming)
        orch_summary_print_resume(ctx->hout, ctx->cfg->run_id, ctx->nitems,
                                  &ctx->todo);
}

void orch_runsummary_next(const struct orch_run *ctx,
                          struct orch_summary_next *nx)
{
    json_t **filled = NULL;

    memset(nx, 0, sizeof(*nx));
    /* A waved run: the rows of chunks without an outcome say why
     * (planrows.h), as the report does. */
    if (ctx->log.rows && ctx->unsent_code)
        filled = orch_planrows_fill(ctx->log.rows, ctx->nitems,
                                    ctx->unsent_code);
    if (ctx->log.rows)
        orch_summary_count_next(filled ? filled : ctx->log.rows,
                                ctx->log.attempts, ctx->nitems, nx);
    orch_planrows_free(filled, ctx->nitems);
    nx->specific = ctx->specific;
}

/* The inventory, the chunks and their outcomes. */
static void count_facts(const struct orch_run *ctx, bool is_run,
                        struct orch_run_summary *s)
{
    struct orch_outcome_counts n;

    memset(&n, 0, sizeof(n));
    if (is_run && ctx->log.rows)
        orch_outcome_count(ctx->log.rows, ctx->nitems, &n);
    else if (is_run)
        n.other = ctx->nitems;
    if (ctx->specific) {
        s->devices = ctx->inv.n;
        s->duplicates = ctx->inv.duplicates;
        s->rejected = ctx->inv.rejected;
    }
    s->dropped_missing = ctx->devst.missing;
    s->dropped_up_to_date = ctx->devst.up_to_date;
    s->unchecked = ctx->devst.unchecked;
    s->chunks = ctx->nitems;
    s->created = n.created;
    s->failed = n.failed;
    s->not_sent = n.other;
    s->already_done = ctx->todo.already_done;
}

/* This process's calls, the pre-flight and the timings. */
static void call_facts(const struct orch_run *ctx, struct orch_run_summary *s)
{
    const struct orch_dispatch_stats *d = &ctx->dst;

    s->calls = d->calls;
    s->retries = d->retries;
    s->throttled = d->throttled;
    s->form_fallbacks = d->form_fallbacks;
    s->queries = d->queries;
    s->reconciled = d->reconciled;
    s->recovered = d->recovered;
    s->codes = &ctx->codes;
    s->pf_state = ctx->pf_state;
    s->pf = &ctx->pf;
    s->devcheck = orch_runctx_devcheck(ctx);
    s->wall_s = (double)(orch_mono_ms() - ctx->t0_ms) / 1000.0;
    s->calls_per_s = ctx->calls_per_s;
    s->send_s = (double)ctx->send_ms / 1000.0;
    if (ctx->cred != NULL) {
        s->cred_source = ctx->cred->source;
        s->cred_provider = ctx->cred->provider;
        s->cred_refreshes = orch_credentials_refreshes(ctx->cred);
    }
    s->chunks_per_s =
        ctx->send_ms > 0
            ? (double)(d->created + d->failed + d->not_sent) * 1000.0 /
                  (double)ctx->send_ms
            : 0.0;
}

/* The files written and the one next step (the same as the text
 * summary's). */
static void file_facts(const struct orch_run *ctx, struct orch_run_summary *s,
                       struct doc_names *nm)
{
    const char *report = ctx->cfg->report_path;
    struct orch_summary_next nx;
    enum orch_next_step step = ORCH_NEXT_NONE;

    memset(nm, 0, sizeof(*nm));
    if (ctx->files.outputs_written) {
        nm->failed = orch_report_sibling(report, ".failed.csv");
        nm->ambiguous = orch_report_sibling(report, ".ambiguous.csv");
        s->report = report;
        s->failed_file = nm->failed;
        s->ambiguous_file = nm->ambiguous;
        orch_runsummary_next(ctx, &nx);
        step = orch_summary_next_step(&nx);
        nm->next = orch_summary_next_command(step, report);
    }
    s->next_step = orch_next_step_name(step);
    s->next_command = nm->next;
    if (ctx->files.rejects_written) {
        nm->rejects = orch_report_sibling(report, ".rejects.csv");
        s->rejects = nm->rejects;
    }
    if (ctx->log.open)
        s->journal = ctx->journal_path;
}

static void free_names(struct doc_names *nm)
{
    free(nm->failed);
    free(nm->rejects);
    free(nm->ambiguous);
    free(nm->next);
}

void orch_runsummary_emit(struct orch_run *ctx, int code, bool is_run,
                          const struct orch_params *first)
{
    const struct orch_config *cfg = ctx->cfg;
    struct orch_run_summary s;
    struct orch_summary_plan sp;
    struct doc_names nm;
    json_t *doc = NULL, *waves = NULL;

    if (!cfg->json && !ctx->json_log)
        return;
    memset(&s, 0, sizeof(s));
    s.command = is_run ? "run" : "plan";
    s.run_id = is_run ? cfg->run_id : NULL;
    s.resumed = ctx->resuming;
    s.exit_code = code;
    count_facts(ctx, is_run, &s);
    call_facts(ctx, &s);
    file_facts(ctx, &s, &nm);
    plan_facts(ctx, &sp);
    if (is_run && ctx->waved && ctx->log.rows)
        waves = orch_runwaveacct_json(ctx);
    s.waves = waves;
    doc = orch_summary_doc(&s, is_run ? NULL : &sp, first, ctx->why.text);
    if (doc == NULL)
        orch_reason_errorf(&ctx->why, "out of memory");
    else if (orch_jsonout_deliver(doc, cfg->json ? stdout : NULL,
                                  ctx->json_log ? stderr : NULL,
                                  orch_wall_ms()) != 0)
        orch_reason_errorf(&ctx->why, "writing the JSON summary failed");
    json_decref(doc);
    json_decref(waves);
    free_names(&nm);
}
