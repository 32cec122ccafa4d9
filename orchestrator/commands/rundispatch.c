/* rundispatch.c - `run`'s sending pass: the dispatcher's callbacks and
 * what is told after it (rundispatch.h).
 *
 * Everything the dispatcher calls back runs on this thread. Each call's
 * start is journaled (runlog.h) before the call leaves; each chunk's
 * result becomes a done record (outcome.h) whose report row waits for the
 * journal sync that carries it.
 */
#include "orch/commands/credcmd.h"
#include "orch/commands/rundispatch.h"

#include "orch/base/clock.h"
#include "orch/base/err.h"
#include "orch/base/exitcode.h"
#include "orch/base/interrupt.h"
#include "orch/base/jsonout.h"
#include "orch/base/msgs.h"
#include "orch/cloud/api.h"
#include "orch/cloud/credentials.h"
#include "orch/cloud/params.h"
#include "orch/commands/runctx.h"
#include "orch/commands/runjournal.h"
#include "orch/commands/runprogress.h"
#include "orch/commands/runwindows.h"
#include "orch/engine/engine_opts.h"
#include "orch/engine/pacer.h"
#include "orch/engine/problem.h"
#include "orch/rollout/outcome.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char ACTION[] = "CreateOTAStaticUpgradeJob";

/* ---- what to send ------------------------------------------------------ */

static int build_item(void *ud, size_t item, struct orch_params *out)
{
    struct orch_run *ctx = ud;
    const struct orch_config *cfg = ctx->in_wave ? &ctx->wave_cfg : ctx->cfg;
    struct orch_config windowed;

    if (!ctx->specific)
        return orch_api_create_params(out, cfg, NULL, NULL);
    cfg = orch_runwindows_config(ctx, cfg, item, &windowed);
    return orch_api_create_params(out, cfg, &ctx->plan,
                                  &ctx->plan.chunks[item]);
}

static uint32_t group_item(void *ud, size_t item)
{
    struct orch_run *ctx = ud;

    return ctx->specific ? ctx->plan.chunks[item].product : 0;
}

static bool skip_item(void *ud, size_t item)
{
    struct orch_run *ctx = ud;

    if (ctx->in_wave && (item < ctx->wave_lo || item >= ctx->wave_hi))
        return true;
    return !orch_runctx_to_do(ctx, item);
}

static bool interrupted_item(void *ud, size_t item, int64_t *since_ms)
{
    struct orch_run *ctx = ud;

    return ctx->resuming && orch_resume_action(&ctx->rs, item, since_ms) ==
                                ORCH_RESUME_RECONCILE;
}

/* ---- --log-format json events ------------------------------------------ */

/* A new event about chunk `item` (NULL when --log-format json is off). */
static json_t *chunk_event(const struct orch_run *ctx, const char *name,
                           size_t item)
{
    json_t *ev = NULL;

    if (!ctx->json_log)
        return NULL;
    ev = orch_event_new(name, orch_wall_ms());
    if (ev)
        json_object_set_new(ev, "chunk", json_integer((json_int_t)item + 1));
    return ev;
}

static void ev_str(json_t *ev, const char *key, const char *v)
{
    if (ev && v && *v)
        json_object_set_new(ev, key, json_string(v));
}

static void ev_int(json_t *ev, const char *key, json_int_t v)
{
    if (ev)
        json_object_set_new(ev, key, json_integer(v));
}

static void answered(void *ud, size_t item, unsigned attempt,
                     const struct orch_response *resp, const char *code,
                     uint64_t ms)
{
    struct orch_run *ctx = ud;
    json_t *ev = chunk_event(ctx, "answered", item);

    ev_int(ev, "attempt", (json_int_t)attempt);
    if (ev)
        json_object_set_new(ev, "http_status",
                            resp ? json_integer(resp->http_status)
                                 : json_null());
    ev_str(ev, "code", code);
    ev_str(ev, "request_id", resp ? resp->request_id : NULL);
    ev_int(ev, "ms", (json_int_t)ms);
    orch_event_emit(stderr, ev);
}

/* The event of a chunk's final result (its done record's fields). */
static void result_event(const struct orch_run *ctx, size_t item,
                         const struct orch_item_result *res, const json_t *rec)
{
    json_t *ev = chunk_event(ctx, orch_item_status_name(res->status), item);

    ev_int(ev, "attempts",
           json_integer_value(json_object_get(rec, "attempts")));
    ev_str(ev, "job_id", orch_outcome_str(rec, "job_id"));
    ev_str(ev, "request_id", orch_outcome_str(rec, "request_id"));
    ev_str(ev, "code", orch_outcome_str(rec, "code"));
    ev_str(ev, "message", orch_outcome_str(rec, "message"));
    if (ev && res->recovered)
        json_object_set_new(ev, "recovered", json_true());
    orch_event_emit(stderr, ev);
}

/* ---- journal and results ----------------------------------------------- */

static void before_send(void *ud, size_t item, unsigned attempt,
                        int64_t wall_ms)
{
    struct orch_run *ctx = ud;
    json_t *ev = chunk_event(ctx, attempt <= 1 ? "sent" : "retried", item);

    ev_int(ev, "attempt", (json_int_t)attempt);
    orch_event_emit(stderr, ev);

    orch_runlog_sent(&ctx->log, item, attempt, wall_ms);
}

static int sync_hook(void *ud)
{
    struct orch_run *ctx = ud;

    return orch_runlog_sync(&ctx->log);
}

static void reconcile_note(void *ud, size_t item, const char *action,
                           const char *code)
{
    struct orch_run *ctx = ud;
    json_t *ev = chunk_event(ctx, "reconciled", item);

    ev_str(ev, "action", action);
    ev_str(ev, "code", code);
    orch_event_emit(stderr, ev);
    orch_runlog_reconciled(&ctx->log, item, action, code, orch_wall_ms());
}

static void count_result(struct orch_progress *p,
                         const struct orch_item_result *res)
{
    p->done++;
    if (res->status == ORCH_ITEM_CREATED)
        p->created++;
    else if (res->status == ORCH_ITEM_FAILED)
        p->failed++;
    else
        p->not_sent++;
}

static void item_done(void *ud, size_t item, const struct orch_item_result *res)
{
    struct orch_run *ctx = ud;
    json_t *rec = orch_outcome_record(item, res, ctx->log.attempts[item],
                                      orch_wall_ms());

    count_result(&ctx->prog, res);
    if (rec == NULL) {
        orch_runlog_add(&ctx->log, NULL); /* kept as its ENOMEM failure */
        return;
    }
    if (res->status != ORCH_ITEM_CREATED)
        orch_tally_add(&ctx->codes, orch_outcome_code(rec));
    if (ctx->json_log)
        result_event(ctx, item, res, rec);
    orch_runlog_done(&ctx->log, item, rec);
}

static void progress_tick(void *ud, size_t finished, size_t total)
{
    struct orch_run *ctx = ud;

    (void)finished; /* skipped chunks too: ctx->prog counts this pass */
    (void)total;
    /* Results that finished since the last sync reach the journal, then
     * the report, at least once a second even when no call is started. */
    if (ctx->log.npending > 0)
        orch_runlog_sync(&ctx->log);
    orch_runprogress_update(ctx);
}

static void set_ops(struct orch_run *ctx, struct orch_dispatch_ops *ops)
{
    memset(ops, 0, sizeof(*ops));
    ops->action = ACTION;
    ops->nitems = ctx->nitems;
    ops->build = build_item;
    ops->group = group_item;
    ops->skip = skip_item;
    ops->done = item_done;
    ops->progress = progress_tick;
    ops->ud = ctx;
    ops->idempotent = false;
    ops->before_send = before_send;
    ops->sync = sync_hook;
    ops->interrupted = interrupted_item;
    ops->reconcile_note = reconcile_note;
    ops->answered = answered;
}

/* ---- after the pass ----------------------------------------------------- */

/* Why the calls stopped early, NULL when they did not. An interrupt is
 * named as such whatever came after it (a second Ctrl-C, the calls it
 * aborted). */
static const char *stopped_reason(const struct orch_dispatch_stats *st)
{
    int irq = orch_interrupt_level();

    if (irq >= 2)
        return "interrupted (Ctrl-C twice: the calls in flight were "
               "aborted)";
    if (irq)
        return "interrupted";
    if (st->aborted)
        return st->abort_reason[0] ? st->abort_reason : "stopped";
    return NULL;
}

static void print_final(const struct orch_run *ctx,
                        const struct orch_dispatch_stats *st, uint64_t wall_ms)
{
    struct orch_summary_final sf;
    char creds[400];

    memset(&sf, 0, sizeof(sf));
    sf.st = st;
    sf.wall_ms = wall_ms;
    sf.nitems = ctx->nitems;
    sf.inv = ctx->specific ? &ctx->inv : NULL;
    sf.devcheck = orch_runctx_devcheck(ctx);
    sf.codes = &ctx->codes;
    sf.report_path = ctx->cfg->report_path;
    sf.stopped = stopped_reason(st);
    if (ctx->cred != NULL) {
        orch_credcmd_describe(ctx->cred, creds, sizeof(creds));
        sf.credentials = creds;
    }
    orch_summary_print_final(ctx->hout, &sf);
}

/* Why the Creates were refused, as problem.h tells it ("" when the stop
 * was no refusal of a known class: interrupt, journal, other). */
static void abort_sentence(const struct orch_run *ctx,
                           const struct orch_credentials *cred,
                           const struct orch_dispatch_stats *st, char *out,
                           size_t cap)
{
    struct orch_problem_ctx pc = {0};
    enum orch_problem p = orch_problem_classify(st->abort_code, 0);

    out[0] = '\0';
    if (p == ORCH_PROBLEM_OTHER)
        return;
    pc.code = st->abort_code;
    pc.key_id = cred->access_key_id;
    pc.cred_source = cred->source;
    pc.provider = cred->provider;
    pc.refreshed = cred->live != NULL;
    pc.endpoint = ctx->cfg->endpoint;
    pc.action = ACTION;
    orch_problem_sentence(p, st->abort_code, st->abort_request_id, &pc, out,
                          cap);
}

/* The pass is over: its summary, then what went wrong, if anything. */
static int tell_pass(struct orch_run *ctx, const struct orch_credentials *cred,
                     const struct orch_dispatch_stats *st, uint64_t wall_ms)
{
    char why[700];

    print_final(ctx, st, wall_ms);
    if (ctx->log.err)
        orch_reason_errorf(&ctx->why,
                           "writing the journal %s failed (%s): calls were "
                           "stopped; check the jobs before resuming",
                           ctx->journal_path, orch_strerror(ctx->log.err));
    if (!st->aborted && !orch_interrupt_level())
        return ORCH_EXIT_OK;
    abort_sentence(ctx, cred, st, why, sizeof(why));
    orch_reason_errorf(&ctx->why, "run aborted: %s%s",
                       why[0] ? why : stopped_reason(st),
                       ctx->specific ? "; continue it later with --resume"
                                     : "");
    return ORCH_EXIT_ABORTED;
}

/* The quota shared with the other processes of this machine could not be
 * used (pacer.h): said once per process, since a run of waves dispatches
 * once per wave. */
static void tell_pacing_alone(const struct orch_engine_opts *eo)
{
    static bool told;
    const char *note = orch_pacer_share_note(eo);

    if (!told && note[0] != '\0') {
        orch_warnf("%s", note);
        told = true;
    }
}

int orch_rundispatch_run(struct orch_run *ctx,
                         const struct orch_credentials *cred)
{
    struct orch_dispatch_ops ops;
    struct orch_engine_opts eo;
    struct orch_dispatch_stats st;
    struct orch_diag diag = {{0}};
    uint64_t wall_ms = 0;
    size_t i = 0, total = 0;
    int rc = 0;

    /* A run without waves takes each zone's next window now (a wave's
     * were set when it was created). */
    if (!ctx->in_wave)
        orch_runwindows_schedule(ctx, 0, ctx->nitems, orch_wall_ms(), NULL);
    set_ops(ctx, &ops);
    memset(&st, 0, sizeof(st));
    orch_interrupt_install(1);
    for (i = 0; i < ctx->nitems; i++)
        total += !skip_item(ctx, i);
    orch_runprogress_start(ctx, total);
    /* Interrupted while waiting: the dispatcher then starts nothing. */
    (void)orch_runjournal_settle(ctx);
    orch_engine_opts_from_config(&eo, ctx->cfg);
    orch_engine_opts_set_quota_key(&eo, cred);
    rc = orch_dispatch_run(&eo, cred, &ops, orch_interrupt_counter(), &st,
                           &diag);
    orch_interrupt_uninstall();
    tell_pacing_alone(&eo);
    ctx->dst = st;
    ctx->calls_per_s = orch_summary_calls_rate(&st);
    /* The final progress line and the summary share one span: their
     * chunks/s are the same figure. */
    wall_ms = orch_mono_ms() - ctx->start_ms;
    ctx->send_ms = wall_ms;
    orch_runprogress_final(ctx, wall_ms);
    orch_runlog_sync(&ctx->log);
    if (rc) {
        orch_reason_diag(&ctx->why, rc, &diag);
        return ORCH_EXIT_USAGE;
    }
    return tell_pass(ctx, cred, &st, wall_ms);
}
