/* run.c - the `run` and `plan` commands wired end to end.
 *
 * DESIGN: one straight pipeline, each step one module's API:
 *   inventory (orch_inventory_load; rejects to <report>.rejects.csv with
 *   --skip-invalid) -> plan (orch_plan_build) -> summary -> for `plan`:
 *   the first request's parameters on stdout, done; for `run`: the
 *   report must not exist yet (unless --force), credentials, confirmation
 *   (prompt on a terminal, else --yes), report + failed files, SIGINT
 *   handler, orch_dispatch_run() whose done() callback writes one report
 *   row per chunk (and the devices of failed / not_sent chunks to
 *   <report>.failed.csv) -> final summary and exit code.
 * The files are runfiles.h's, each chunk's result is an outcome.h done
 * record, and what is told about the plan and the run is summary.h's:
 * this file fills their inputs from its state (struct run_ctx, private to
 * it), decides when they run, and prints their errors (it is the command's
 * edge).
 * ALL/GRAY targets have no inventory: one item, built with chunk == NULL.
 * The SIGINT handler only counts (1: stop starting calls, 2: abort the
 * in-flight ones); the dispatcher polls the counter.
 * Everything the dispatcher calls back runs on this thread.
 *
 * JOURNAL (issue 4): <report>.journal records the run (resume.h, journal.h).
 * Order of durability: the run record is synced before any output file
 * is opened; then runlog.h keeps each chunk's result and holds its report
 * row back until the journal sync that carries it (from the dispatcher's
 * sync hook, the progress tick, and the end), so the report never shows a
 * row the journal could lose. At the end the report and failed-devices
 * file are rewritten whole, ordered by chunk, from the journal's done
 * records plus this run's (runfiles.h: temp file + fsync + rename, a
 * crash mid-rewrite loses nothing), then the end record is written.
 * Test-only hook: OTA_ROLLOUT_TEST_ABORT_AFTER_RECORDS=N is runlog.h's
 * abort_after (SIGKILL right after the sync that took this process to N
 * records). The crash tests use it; it has no other use.
 */
#include "orch/commands/run.h"

#include "orch/cloud/api.h"
#include "orch/model/config.h"
#include "orch/cloud/credentials.h"
#include "orch/engine/dispatch.h"
#include "orch/base/err.h"
#include "orch/base/exitcode.h"
#include "orch/model/inventory.h"
#include "orch/base/msgs.h"
#include "orch/rollout/outcome.h"
#include "orch/rollout/progress.h"
#include "orch/cloud/params.h"
#include "orch/base/jsonout.h"
#include "orch/rollout/preflight.h"
#include "orch/engine/problem.h"
#include "orch/model/plan.h"
#include "orch/rollout/overlap.h"
#include "orch/rollout/resume.h"
#include "orch/rollout/runfiles.h"
#include "orch/rollout/runlog.h"
#include "orch/rollout/summary.h"
#include "orch/base/tally.h"
#include "orch/engine/journal.h"
#include "orch/base/codec.h"
#include "orch/base/clock.h"
#include "orch/commands/waverun.h"
#include "orch/model/waves.h"
#include "orch/rollout/wavemap.h"

#include <time.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define ABORT_ENV "OTA_ROLLOUT_TEST_ABORT_AFTER_RECORDS"

static volatile sig_atomic_t interrupted;

/* Only counts (STYLE: the handler sets a flag and nothing else); the
 * progress tick, about once a second, tells the user what happens next. */
static void on_sigint(int sig)
{
    (void)sig;
    if (interrupted < 2)
        interrupted++;
}

struct run_ctx {
    const struct orch_config *cfg;
    struct orch_inventory inv;
    struct orch_plan plan;
    bool specific; /* inventory and plan in use */
    size_t nitems;

    struct orch_runfiles files; /* report, failed devices, rejects */

    /* `plan`: the first rejected rows, to show */
    struct orch_summary_rows shown;
    /* without --skip-invalid: the invalid rows, to list */
    struct orch_inventory_problems problems;

    /* final error codes of failed / not_sent chunks */
    struct orch_tally codes;

    bool progress; /* a progress line on stderr */
    uint64_t start_ms;
    size_t progress_len; /* width of the last progress line */
    bool progress_plain;  /* no terminal: plain lines, progress.h's pace */
    struct orch_progress prog;       /* this sending pass */
    struct orch_progress_pace pace;  /* its last plain line / event */
    int interrupts_told; /* interrupts already explained */

    /* journal and resume */
    char *journal_path;
    struct orch_runlog log;  /* each chunk's result, the journal */
    struct orch_resume rs;   /* the earlier run's journal, replayed */
    bool resuming;
    char inv_sha[65];
    char *inv_abs;           /* absolute inventory path (NULL: ALL/GRAY) */
    struct orch_summary_todo todo; /* what is left of the run's chunks */

    /* pre-flight (issue 7) */
    struct orch_preflight_result pf;
    enum orch_pf_state pf_state;
    struct orch_device_check_stats devst;
    bool devcheck_ran;       /* this process ran the device check */
    bool drop_from_journal;  /* the resumed run's drop map */
    uint8_t *drop;           /* [inv.n] devices left out, NULL: none */
    struct orch_summary_rows dshown; /* plan: the first left out */

    /* output for machines (issue 7) */
    bool json_log;           /* --log-format json */
    FILE *hout;              /* human summaries: stderr, or /dev/null
                                with --log-format json */
    struct orch_dispatch_stats dst; /* this process's Create calls */
    double calls_per_s;
    uint64_t send_ms;        /* the last sending pass, start to end */
    uint64_t t0_ms;          /* command start (monotonic) */

    /* waves (issue 6, waverun.h) */
    bool waved;                /* --waves */
    struct orch_wave_plan wp;
    bool in_wave;              /* dispatching one wave: chunks outside
                                  [wave_lo, wave_hi) are skipped */
    size_t wave_lo, wave_hi;
    struct orch_config wave_cfg; /* shallow copy of *cfg with the wave's
                                    schedule (never cleaned up) */
    const struct orch_credentials *wave_cred;
};

/* --- inventory rejects ------------------------------------------------- */

/* A rejected inventory row: a row of the rejects file (--skip-invalid),
 * or one of the first few shown (plan). */
static int on_reject(void *ud, uint32_t line, const char *value,
                     const char *reason)
{
    struct run_ctx *ctx = ud;

    if (ctx->files.rejects_open)
        return orch_runfiles_reject(&ctx->files, line, value, reason) ? 1
                                                                      : 0;
    orch_summary_rows_add(&ctx->shown, line, value, reason);
    return 0;
}

/* A device the pre-flight device check left out: a row of the rejects
 * file (run), or one of the first few shown (plan --preflight). */
static int on_drop(void *ud, uint32_t line, const char *value,
                   const char *reason)
{
    struct run_ctx *ctx = ud;

    if (ctx->files.rejects_open)
        return on_reject(ud, line, value, reason);
    orch_summary_rows_add(&ctx->dshown, line, value, reason);
    return 0;
}

/* Every invalid row (the first ORCH_INVENTORY_PROBLEMS_MAX, then a
 * count), in the rejects file's words, and the way past them. */
static void tell_problems(const struct run_ctx *ctx)
{
    const struct orch_inventory_problems *ps = &ctx->problems;
    char *rejects = orch_report_sibling(ctx->cfg->report_path, ".rejects.csv");
    char line[512];
    size_t i = 0;

    for (i = 0; i < ps->n; i++) {
        orch_inventory_problem_format(line, sizeof(line),
                                      ctx->cfg->inventory_path, &ps->first[i]);
        orch_errorf("%s", line);
    }
    if (ps->total > ps->n)
        orch_errorf("... and %zu more invalid row%s", ps->total - ps->n,
                    ps->total - ps->n == 1 ? "" : "s");
    orch_errorf("%s: %zu invalid row%s; nothing sent",
                ctx->cfg->inventory_path, ps->total,
                ps->total == 1 ? "" : "s");
    orch_notef("--skip-invalid writes them to %s and goes on with the "
               "other rows",
               rejects ? rejects : "<report>.rejects.csv");
    free(rejects);
}

static int load_inventory(struct run_ctx *ctx)
{
    const struct orch_config *cfg = ctx->cfg;
    struct orch_inventory_opts opts;
    struct orch_diag diag = {{0}};
    int rc = 0;

    memset(&opts, 0, sizeof(opts));
    opts.delimiter = cfg->delimiter;
    opts.skip_invalid = cfg->skip_invalid;
    opts.default_product_key = cfg->product_key;
    opts.on_reject = on_reject;
    opts.reject_ud = ctx;
    opts.problems = &ctx->problems;
    rc = orch_inventory_load(&ctx->inv, cfg->inventory_path, &opts, &diag);
    if (rc == 0 && ctx->files.write_err)
        rc = ORCH_EIO;
    if (rc == 0)
        return ORCH_EXIT_OK;
    if (rc == ORCH_EINVENTORY && ctx->problems.total > 0)
        tell_problems(ctx);
    else
        orch_error_diag(rc, &diag);
    if (rc == ORCH_ECSV || rc == ORCH_EINVENTORY)
        return ORCH_EXIT_INVENTORY;
    return ORCH_EXIT_USAGE;
}

/* --- summaries ---------------------------------------------------------- */

/* The rejects file when this run writes one, else NULL. */
static const char *rejects_path(const struct run_ctx *ctx)
{
    return ctx->files.rejects_open ? ctx->files.rejects.path : NULL;
}

/* The device check's counts when there are some to tell (this process
 * ran it, or the resumed run's journal has them), else NULL. */
static const struct orch_device_check_stats *
devcheck_stats(const struct run_ctx *ctx)
{
    return ctx->devcheck_ran || ctx->drop_from_journal ? &ctx->devst : NULL;
}

static void plan_facts(const struct run_ctx *ctx, struct orch_summary_plan *sp)
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
    sp->rejects_path = rejects_path(ctx);
    sp->device_cost = ctx->specific && cfg->check_devices &&
                      !ctx->resuming && !ctx->devcheck_ran;
}

static void print_summary(const struct run_ctx *ctx, FILE *fp)
{
    struct orch_summary_plan sp;

    plan_facts(ctx, &sp);
    orch_summary_print_plan(fp, &sp);
}

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

static int print_first_request(const struct run_ctx *ctx, FILE *fp)
{
    const struct orch_chunk *c = NULL;
    struct orch_params p;
    size_t i = 0;
    int rc = 0;

    if (ctx->specific && ctx->plan.nchunks == 0)
        return 0;
    if (ctx->specific)
        c = &ctx->plan.chunks[0];
    orch_params_init(&p);
    rc = orch_api_create_params(&p, ctx->cfg, ctx->specific ? &ctx->plan : NULL,
                                c);
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

/* --- dispatcher callbacks ---------------------------------------------- */

static int build_item(void *ud, size_t item, struct orch_params *out)
{
    struct run_ctx *ctx = ud;
    const struct orch_config *cfg = ctx->in_wave ? &ctx->wave_cfg : ctx->cfg;

    if (!ctx->specific)
        return orch_api_create_params(out, cfg, NULL, NULL);
    return orch_api_create_params(out, cfg, &ctx->plan,
                                  &ctx->plan.chunks[item]);
}

static uint32_t group_item(void *ud, size_t item)
{
    struct run_ctx *ctx = ud;

    return ctx->specific ? ctx->plan.chunks[item].product : 0;
}

/* --- dispatcher callbacks ---------------------------------------------- */

static bool skip_item(void *ud, size_t item)
{
    struct run_ctx *ctx = ud;
    int64_t since = 0;

    if (ctx->in_wave && (item < ctx->wave_lo || item >= ctx->wave_hi))
        return true;
    return ctx->resuming &&
           orch_resume_action(&ctx->rs, item, &since) == ORCH_RESUME_SKIP;
}

static bool interrupted_item(void *ud, size_t item, int64_t *since_ms)
{
    struct run_ctx *ctx = ud;

    return ctx->resuming && orch_resume_action(&ctx->rs, item, since_ms) ==
                                ORCH_RESUME_RECONCILE;
}

/* --log-format json: a new event about chunk `item` (NULL when off). */
static json_t *chunk_event(const struct run_ctx *ctx, const char *name,
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
    struct run_ctx *ctx = ud;
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

static void before_send(void *ud, size_t item, unsigned attempt,
                        int64_t wall_ms)
{
    struct run_ctx *ctx = ud;
    json_t *ev = chunk_event(ctx, attempt <= 1 ? "sent" : "retried", item);

    ev_int(ev, "attempt", (json_int_t)attempt);
    orch_event_emit(stderr, ev);

    orch_runlog_sent(&ctx->log, item, attempt, wall_ms);
}

static int sync_hook(void *ud)
{
    struct run_ctx *ctx = ud;

    return orch_runlog_sync(&ctx->log);
}

static void reconcile_note(void *ud, size_t item, const char *action,
                           const char *code)
{
    struct run_ctx *ctx = ud;
    json_t *ev = chunk_event(ctx, "reconciled", item);

    ev_str(ev, "action", action);
    ev_str(ev, "code", code);
    orch_event_emit(stderr, ev);
    orch_runlog_reconciled(&ctx->log, item, action, code, orch_wall_ms());
}

static void item_done(void *ud, size_t item, const struct orch_item_result *res)
{
    struct run_ctx *ctx = ud;
    json_t *rec = orch_outcome_record(item, res, ctx->log.attempts[item],
                                      orch_wall_ms());

    ctx->prog.done++;
    if (res->status == ORCH_ITEM_CREATED)
        ctx->prog.created++;
    else if (res->status == ORCH_ITEM_FAILED)
        ctx->prog.failed++;
    else
        ctx->prog.not_sent++;
    if (rec == NULL) {
        orch_runlog_add(&ctx->log, NULL); /* kept as its ENOMEM failure */
        return;
    }
    if (res->status != ORCH_ITEM_CREATED)
        orch_tally_add(&ctx->codes, orch_outcome_code(rec));
    if (ctx->json_log) {
        json_t *ev = chunk_event(ctx, orch_item_status_name(res->status),
                                 item);

        ev_int(ev, "attempts", json_integer_value(
                                   json_object_get(rec, "attempts")));
        ev_str(ev, "job_id", orch_outcome_str(rec, "job_id"));
        ev_str(ev, "request_id", orch_outcome_str(rec, "request_id"));
        ev_str(ev, "code", orch_outcome_str(rec, "code"));
        ev_str(ev, "message", orch_outcome_str(rec, "message"));
        if (ev && res->recovered)
            json_object_set_new(ev, "recovered", json_true());
        orch_event_emit(stderr, ev);
    }
    orch_runlog_done(&ctx->log, item, rec);
}

/* --log-format json: the progress as an event (progress.h's numbers). */
static void progress_event(const struct run_ctx *ctx)
{
    const struct orch_progress *p = &ctx->prog;
    double rate = orch_progress_rate(p);
    json_t *ev = orch_event_new("progress", orch_wall_ms());

    if (ev == NULL)
        return;
    json_object_set_new(ev, "done", json_integer((json_int_t)p->done));
    json_object_set_new(ev, "total", json_integer((json_int_t)p->total));
    json_object_set_new(ev, "created", json_integer((json_int_t)p->created));
    json_object_set_new(ev, "failed", json_integer((json_int_t)p->failed));
    json_object_set_new(ev, "not_sent",
                        json_integer((json_int_t)p->not_sent));
    json_object_set_new(ev, "elapsed_s",
                        json_real((double)p->elapsed_ms / 1000.0));
    json_object_set_new(ev, "chunks_per_s", json_real(rate));
    json_object_set_new(ev, "eta_s",
                        rate > 0 ? json_real((double)(p->total - p->done) /
                                             rate)
                                 : json_null());
    orch_event_emit(stderr, ev);
}

/* The progress line: redrawn in place on a terminal; without one (or as
 * --log-format json events) only when progress.h's pace says so, or
 * `final`. */
static void draw_progress(struct run_ctx *ctx, bool final)
{
    char line[256];
    int n = 0;

    if (ctx->json_log) {
        if (ctx->cfg->progress && ctx->prog.total > 0 &&
            (final || orch_progress_due(&ctx->pace, &ctx->prog)))
            progress_event(ctx);
        return;
    }
    if (ctx->progress_plain) {
        if (ctx->prog.total > 0 &&
            (final || orch_progress_due(&ctx->pace, &ctx->prog))) {
            orch_progress_format(line, sizeof(line), &ctx->prog);
            fprintf(stderr, "%s\n", line);
            fflush(stderr);
        }
        return;
    }
    if (!ctx->progress)
        return;
    orch_progress_format(line, sizeof(line), &ctx->prog);
    n = fprintf(stderr, "\r%s", line);
    /* Blank out the rest of a longer previous line. */
    if (n > 0 && (size_t)n < ctx->progress_len)
        fprintf(stderr, "%*s", (int)(ctx->progress_len - (size_t)n), "");
    if (n > 0)
        ctx->progress_len = (size_t)n;
    if (final && ctx->progress_len) {
        fputc('\n', stderr);
        ctx->progress_len = 0;
    }
    fflush(stderr);
}

static void progress_tick(void *ud, size_t finished, size_t total)
{
    struct run_ctx *ctx = ud;
    int irq = (int)interrupted;

    (void)finished; /* skipped chunks too: ctx->prog counts this pass */
    (void)total;

    /* Results that finished since the last sync reach the journal, then
     * the report, at least once a second even when no call is started. */
    if (ctx->log.npending > 0)
        orch_runlog_sync(&ctx->log);

    if (irq > ctx->interrupts_told) {
        if (ctx->progress_len)
            fputc('\n', stderr);
        ctx->progress_len = 0;
        /* Two Ctrl-Cs between two ticks: both notes, the first first. */
        if (ctx->interrupts_told < 1)
            orch_notef("interrupted: no new calls are started; waiting for "
                       "the calls in flight (Ctrl-C again to abort them)");
        if (irq >= 2)
            orch_notef("interrupted again: aborting the calls in flight");
        ctx->interrupts_told = irq;
    }
    ctx->prog.elapsed_ms = orch_mono_ms() - ctx->start_ms;
    draw_progress(ctx, false);
}

/* --- run steps ---------------------------------------------------------- */

/* "20,000": v with a comma between groups of three digits. */
static void group_digits(char *out, size_t outsz, size_t v)
{
    char digits[32];
    int n = snprintf(digits, sizeof(digits), "%zu", v);
    size_t o = 0;
    int i = 0;

    for (i = 0; i < n && o + 2 < outsz; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

/* Appends to buf (NUL-terminated, bufsz bytes) what printf would write. */
static void append(char *buf, size_t bufsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t bufsz, const char *fmt, ...)
{
    size_t used = strlen(buf);
    va_list ap;

    va_start(ap, fmt);
    if (used < bufsz)
        vsnprintf(buf + used, bufsz - used, fmt, ap);
    va_end(ap);
}

/* Appends "a", "a and b", "a, b and c" (the n names), or "N <what>s"
 * when there are more than three. */
static void append_names(char *buf, size_t bufsz, const char *const *names,
                         size_t n, const char *what)
{
    size_t i = 0;

    if (n > 3) {
        append(buf, bufsz, "%zu %ss", n, what);
        return;
    }
    for (i = 0; i < n; i++)
        append(buf, bufsz, "%s%s", i == 0 ? "" : i + 1 == n ? " and " : ", ",
               names[i]);
}

/* Whether chunk i is still to be sent (or looked up) by this run. */
static bool chunk_to_do(const struct run_ctx *ctx, size_t i)
{
    int64_t since = 0;

    return !ctx->resuming ||
           orch_resume_action(&ctx->rs, i, &since) != ORCH_RESUME_SKIP;
}

/* The question, naming what will happen: "Create 100 upgrade jobs for
 * 20,000 devices of a1B... to firmware FW1?" (several products or
 * firmwares: up to three named, else counted). */
static void prompt_text(const struct run_ctx *ctx, char *buf, size_t bufsz)
{
    const struct orch_config *cfg = ctx->cfg;
    const char *pks[4] = {NULL}, *fws[4] = {NULL};
    const char **fw_of = NULL; /* [product]: its firmware, NULL: not sent */
    size_t jobs = 0, devices = 0, npk = 0, nfw = 0, i = 0, p = 0, k = 0;
    char num[32];

    buf[0] = '\0';
    if (!ctx->specific) {
        append(buf, bufsz, "Create 1 upgrade job (target %s) for the devices "
               "of %s on version", orch_target_name(cfg->target),
               cfg->product_key);
        for (i = 0; i < cfg->n_src_versions; i++)
            append(buf, bufsz, "%s %s", i ? "," : "", cfg->src_versions[i]);
        append(buf, bufsz, " to firmware %s?", cfg->firmware_id);
        return;
    }
    fw_of = calloc(ctx->inv.nproducts ? ctx->inv.nproducts : 1,
                   sizeof(*fw_of));
    if (fw_of == NULL) {
        append(buf, bufsz, "Create %zu upgrade jobs?", ctx->nitems);
        return;
    }
    for (p = 0; p < ctx->inv.nproducts; p++) {
        const char *fw = NULL;
        bool used = false;

        for (i = 0; i < ctx->nitems; i++) {
            const struct orch_chunk *c = &ctx->plan.chunks[i];

            if (c->product != p || !chunk_to_do(ctx, i))
                continue;
            jobs++;
            devices += c->count;
            fw = c->firmware_id;
            used = true;
        }
        if (!used)
            continue;
        if (npk < 4)
            pks[npk] = ctx->inv.products[p];
        npk++;
        fw_of[p] = fw;
        for (k = 0; k < p && !(fw_of[k] && strcmp(fw_of[k], fw) == 0); k++)
            ;
        if (k == p) {
            if (nfw < 4)
                fws[nfw] = fw;
            nfw++;
        }
    }
    free(fw_of);
    group_digits(num, sizeof(num), jobs);
    append(buf, bufsz, "Create %s%s upgrade job%s", ctx->todo.to_reconcile ?
           "up to " : "", num, jobs == 1 ? "" : "s");
    group_digits(num, sizeof(num), devices);
    append(buf, bufsz, " for %s device%s of ", num, devices == 1 ? "" : "s");
    append_names(buf, bufsz, pks, npk, "product");
    append(buf, bufsz, " to %s", nfw > 3 ? "" : nfw > 1 ? "firmwares "
                                                         : "firmware ");
    append_names(buf, bufsz, fws, nfw, "firmware");
    append(buf, bufsz, "?");
}

/* Returns 0 to go on, or an exit code. */
static int confirm(const struct run_ctx *ctx)
{
    char line[64];
    char question[512];

    if (ctx->cfg->yes)
        return ORCH_EXIT_OK;
    if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO)) {
        orch_errorf("not asking for confirmation without a terminal; pass "
                    "--yes to create the jobs");
        return ORCH_EXIT_USAGE;
    }
    prompt_text(ctx, question, sizeof(question));
    fprintf(stderr, "%s [y/N] ", question);
    fflush(stderr);
    if (fgets(line, sizeof(line), stdin) == NULL ||
        (strcmp(line, "y\n") != 0 && strcmp(line, "Y\n") != 0 &&
         strcasecmp(line, "yes\n") != 0)) {
        orch_errorf("not confirmed; nothing sent");
        return ORCH_EXIT_ABORTED;
    }
    return ORCH_EXIT_OK;
}

static int open_rejects(struct run_ctx *ctx)
{
    struct orch_diag diag = {{0}};
    int rc = orch_runfiles_open_rejects(&ctx->files, &diag);

    if (rc)
        orch_error_diag(rc, &diag);
    return rc;
}

/* Why the calls stopped early, NULL when they did not. An interrupt is
 * named as such whatever came after it (a second Ctrl-C, the calls it
 * aborted). */
static const char *stopped_reason(const struct orch_dispatch_stats *st)
{
    if (interrupted >= 2)
        return "interrupted (Ctrl-C twice: the calls in flight were "
               "aborted)";
    if (interrupted)
        return "interrupted";
    if (st->aborted)
        return st->abort_reason[0] ? st->abort_reason : "stopped";
    return NULL;
}

static void print_final(const struct run_ctx *ctx,
                        const struct orch_dispatch_stats *st, uint64_t wall_ms)
{
    struct orch_summary_final sf;

    memset(&sf, 0, sizeof(sf));
    sf.st = st;
    sf.wall_ms = wall_ms;
    sf.nitems = ctx->nitems;
    sf.inv = ctx->specific ? &ctx->inv : NULL;
    sf.devcheck = devcheck_stats(ctx);
    sf.codes = &ctx->codes;
    sf.report_path = ctx->cfg->report_path;
    sf.stopped = stopped_reason(st);
    orch_summary_print_final(ctx->hout, &sf);
}

/* --- files -------------------------------------------------------------- */

static void tell_kept(void *ud, const char *from, const char *to, int errnum)
{
    (void)ud;
    if (errnum)
        orch_errorf("cannot rename %s to %s: %s", from, to, strerror(errnum));
    else
        orch_notef("--force: kept the earlier run's %s as %s", from, to);
}

/* --force over an earlier run: its report, journal, failed, waves and
 * rejects files are kept as "<name>.<UTC timestamp>", never deleted
 * (rejects only when with_rejects: this run may have opened its own). */
static int keep_old_files(const struct run_ctx *ctx, bool with_rejects)
{
    return orch_runfiles_keep_old(ctx->cfg->report_path, with_rejects,
                                  time(NULL), tell_kept, NULL);
}

/* Rewrites the report and the failed-devices file whole, from every chunk
 * that has a result (earlier runs' and this one's), in chunk order. */
static int rewrite_outputs(struct run_ctx *ctx)
{
    struct orch_diag diag = {{0}};
    int rc = orch_runfiles_rewrite(&ctx->files, ctx->log.rows, ctx->nitems,
                                   &diag);

    if (rc)
        orch_errorf("rewriting %s failed: %s", ctx->cfg->report_path,
                    orch_diag_text(rc, &diag));
    return rc;
}

/* Opens the live report and failed files: a new run truncates them; a
 * resumed one first rewrites them from the journal, then appends. */
static int open_outputs(struct run_ctx *ctx)
{
    struct orch_diag diag = {{0}};
    int rc = 0;

    /* A not_sent chunk that was sent is one whose outcome is unknown. */
    ctx->files.attempts = ctx->log.attempts;
    if (ctx->resuming)
        rc = rewrite_outputs(ctx);
    if (rc)
        return rc;
    rc = orch_runfiles_open(&ctx->files, ctx->resuming, &diag);
    if (rc && diag.msg[0])
        orch_errorf("%s", diag.msg);
    return rc;
}

/* --- journal: reading the earlier run, opening this one --------------- */

/* An existing report may be the only record of jobs already created, so it
 * is never overwritten: without --force the run is refused; with --force
 * the old files are kept under a new name, as over a journal (a report
 * without its journal, e.g. from a tool that kept none, is no less
 * precious). Returns 0 to go on, or an exit code. */
static int check_report_free(struct run_ctx *ctx)
{
    const struct orch_config *cfg = ctx->cfg;

    if (!orch_runfiles_exists(cfg->report_path))
        return ORCH_EXIT_OK;
    if (cfg->force)
        return keep_old_files(ctx, true) ? ORCH_EXIT_USAGE : ORCH_EXIT_OK;
    orch_errorf("report %s already exists (a previous run's record of the "
                "jobs it created?); pass --force to start anew (the old "
                "files are kept under a new name) or --report to write "
                "another file",
                cfg->report_path);
    return ORCH_EXIT_USAGE;
}

/* Reads the journal next to the report and decides: a new run, a resume,
 * or a refusal. Returns 0 to go on, or an exit code. */
static int read_journal(struct run_ctx *ctx)
{
    const struct orch_config *cfg = ctx->cfg;
    struct orch_diag diag = {{0}};
    int rc = 0;

    rc = orch_resume_load(&ctx->rs, ctx->journal_path, &diag);
    if (rc == ORCH_ENOTFOUND || (rc == 0 && ctx->rs.run == NULL)) {
        if (cfg->resume)
            orch_notef("no journal %s (the run never got as far as its "
                       "first call): starting the run afresh",
                       ctx->journal_path);
        if (!orch_runfiles_exists(ctx->journal_path))
            ctx->rs.valid_len = (size_t)-1;
        return check_report_free(ctx);
    }
    if (rc) {
        if (cfg->force && !cfg->resume) {
            orch_warnf("%s", orch_diag_text(rc, &diag));
            orch_resume_cleanup(&ctx->rs);
            return keep_old_files(ctx, true) ? ORCH_EXIT_USAGE : ORCH_EXIT_OK;
        }
        orch_error_diag(rc, &diag);
        orch_errorf("the journal %s cannot be trusted to resume from; "
                    "check the jobs in the console, then start anew with "
                    "`run --force` (the old files are kept)",
                    ctx->journal_path);
        return ORCH_EXIT_USAGE;
    }
    if (cfg->resume) {
        ctx->resuming = true;
        return ORCH_EXIT_OK;
    }
    if (!cfg->force) {
        if (ctx->rs.ended && orch_resume_all_final(&ctx->rs))
            orch_errorf("%s: this report's run already finished; running "
                        "it again would create a second job for every "
                        "device. Pass --force to start a new rollout anyway "
                        "(the old files are kept), or --report another "
                        "file",
                        ctx->journal_path);
        else
            orch_errorf("%s: an earlier run with this report did not "
                        "finish; continue it with --resume (or "
                        "`ota-rollout resume %s`). --force would start anew "
                        "(the old files are kept) and send every device "
                        "again, those the earlier run put or may have put "
                        "into a job included",
                        ctx->journal_path, cfg->report_path);
        return ORCH_EXIT_USAGE;
    }
    orch_resume_cleanup(&ctx->rs);
    return keep_old_files(ctx, true) ? ORCH_EXIT_USAGE : ORCH_EXIT_OK;
}

/* The run's identity against the journal's (resume only). Returns 0 to go
 * on, or an exit code. */
static int check_identity(struct run_ctx *ctx)
{
    json_t *shape = orch_resume_shape(ctx->cfg);
    char what[1024];
    size_t diffs = 0;

    if (shape == NULL) {
        orch_errorf("out of memory");
        return ORCH_EXIT_USAGE;
    }
    diffs = orch_resume_compare(ctx->rs.run, ctx->inv_abs ? ctx->inv_sha : NULL,
                                shape, ctx->nitems, what, sizeof(what));
    json_decref(shape);
    if (diffs == 0)
        return ORCH_EXIT_OK;
    if (!ctx->cfg->force) {
        orch_errorf("resume refused: the run in %s was started differently: "
                    "%s. Chunk numbers would no longer name the same "
                    "devices. Undo the change, or pass --force to start a "
                    "new run (the old files are kept)",
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
    return keep_old_files(ctx, false) ? ORCH_EXIT_USAGE : ORCH_EXIT_OK;
}

/* Per-chunk plan of a resumed run: copies the earlier results and counts
 * what is left. */
static void plan_resume(struct run_ctx *ctx)
{
    int64_t since = 0;
    size_t i = 0;

    for (i = 0; i < ctx->nitems; i++) {
        enum orch_resume_action a = ORCH_RESUME_SEND;

        if (ctx->resuming) {
            a = orch_resume_action(&ctx->rs, i, &since);
            ctx->log.attempts[i] = ctx->rs.chunks[i].attempts;
            if (a == ORCH_RESUME_SKIP)
                ctx->log.rows[i] = json_incref(ctx->rs.chunks[i].done);
        }
        if (a == ORCH_RESUME_SKIP)
            ctx->todo.already_done++;
        else if (a == ORCH_RESUME_RECONCILE)
            ctx->todo.to_reconcile++;
        else
            ctx->todo.to_send++;
    }
}

static int open_journal(struct run_ctx *ctx)
{
    struct orch_config *cfg = (struct orch_config *)ctx->cfg;
    struct orch_diag diag = {{0}};
    json_t *rec = NULL;
    int rc = 0;

    rc = orch_runlog_open(&ctx->log, ctx->journal_path, ctx->rs.valid_len,
                          &diag);
    if (rc) {
        orch_error_diag(rc, &diag);
        return rc;
    }
    if (ctx->resuming) {
        rec = json_pack("{s:s, s:I, s:I}", "t", "resume", "time",
                        (json_int_t)orch_wall_ms(), "pid", (json_int_t)getpid());
    } else {
        rec = orch_resume_run_record(cfg, ctx->inv_abs,
                                     ctx->inv_abs ? ctx->inv_sha : NULL,
                                     ctx->nitems, orch_wall_ms());
        /* --check-devices renumbered the chunks: a resume must rebuild
         * the same plan from this map, without asking again. */
        if (rec && ctx->devcheck_ran &&
            (json_object_set_new(
                 rec, "dropped",
                 orch_resume_dropped_json(ctx->drop, ctx->inv.n)) ||
             json_object_set_new(
                 rec, "devcheck",
                 json_pack("{s:I, s:I, s:I, s:I}", "checked",
                           (json_int_t)ctx->devst.checked, "missing",
                           (json_int_t)ctx->devst.missing, "up_to_date",
                           (json_int_t)ctx->devst.up_to_date, "unchecked",
                           (json_int_t)ctx->devst.unchecked)))) {
            json_decref(rec);
            rec = NULL;
        }
    }
    orch_runlog_add(&ctx->log, rec);
    rc = ctx->log.err ? ctx->log.err : orch_runlog_sync(&ctx->log);
    if (rc)
        orch_errorf("%s: cannot write the journal: %s", ctx->journal_path,
                    orch_strerror(rc));
    return rc;
}

/* The run id: kept from the journal on resume (reconciliation finds this
 * run's jobs by their tag), else new and random. */
static int set_run_id(struct run_ctx *ctx)
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

/* Inventory identity: absolute path (for `resume REPORT` from anywhere)
 * and SHA-256 of its bytes. */
static int hash_inventory(struct run_ctx *ctx)
{
    struct orch_diag diag = {{0}};
    int rc = 0;

    if (!ctx->specific)
        return 0;
    ctx->inv_abs = realpath(ctx->cfg->inventory_path, NULL);
    if (ctx->inv_abs == NULL)
        ctx->inv_abs = strdup(ctx->cfg->inventory_path);
    if (ctx->inv_abs == NULL)
        return ORCH_ENOMEM;
    rc = orch_file_sha256(ctx->cfg->inventory_path, ctx->inv_sha, &diag);
    if (rc)
        orch_error_diag(rc, &diag);
    return rc;
}

/* A resumed run must not look up a chunk whose last call the server may
 * still be processing: a lookup that finds nothing would resend it, and a
 * job created a moment later would hold its devices twice. The earlier
 * run sent its last call at `last`; the server is done with it once a
 * request timeout has passed. Waits for the rest of that time (a Ctrl-C
 * ends the wait and the run). Returns false when interrupted. */
static bool settle_earlier_calls(const struct run_ctx *ctx)
{
    int64_t last = ctx->resuming ? orch_resume_last_unsettled_ms(&ctx->rs)
                                 : -1;
    int64_t until = last + ctx->cfg->request_timeout_ms;
    int64_t now = orch_wall_ms();

    if (last < 0 || until <= now)
        return true;
    orch_notef("waiting %.1f s for the calls the earlier run had in flight "
               "to settle before looking them up (--request-timeout)",
               (double)(until - now) / 1000.0);
    while (now < until && !interrupted) {
        int64_t step = until - now < 200 ? until - now : 200;
        struct timespec ts = { 0, (long)step * 1000000L };

        nanosleep(&ts, NULL);
        now = orch_wall_ms();
    }
    return !interrupted;
}

/* Why the Creates were refused, as problem.h tells it ("" when the stop
 * was no refusal of a known class: interrupt, journal, other). */
static void abort_sentence(const struct run_ctx *ctx,
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
    pc.endpoint = ctx->cfg->endpoint;
    pc.action = "CreateOTAStaticUpgradeJob";
    orch_problem_sentence(p, st->abort_code, st->abort_request_id, &pc, out,
                          cap);
}

static int dispatch(struct run_ctx *ctx, const struct orch_credentials *cred)
{
    struct orch_dispatch_ops ops;
    struct orch_dispatch_stats st;
    struct orch_diag diag = {{0}};
    struct sigaction sa, old_int;
    uint64_t t0 = orch_mono_ms(), wall_ms = 0;
    size_t i = 0;
    int rc = 0;

    memset(&ops, 0, sizeof(ops));
    memset(&st, 0, sizeof(st));
    ops.action = "CreateOTAStaticUpgradeJob";
    ops.nitems = ctx->nitems;
    ops.build = build_item;
    ops.group = group_item;
    ops.skip = skip_item;
    ops.done = item_done;
    ops.progress = progress_tick;
    ops.ud = ctx;
    ops.idempotent = false;
    ops.before_send = before_send;
    ops.sync = sync_hook;
    ops.interrupted = interrupted_item;
    ops.reconcile_note = reconcile_note;
    ops.answered = answered;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    interrupted = 0;
    sigaction(SIGINT, &sa, &old_int);
    ctx->start_ms = t0;
    memset(&ctx->prog, 0, sizeof(ctx->prog));
    memset(&ctx->pace, 0, sizeof(ctx->pace));
    for (i = 0; i < ctx->nitems; i++)
        ctx->prog.total += !skip_item(ctx, i);
    if (!settle_earlier_calls(ctx))
        interrupted = 1; /* the dispatcher then starts nothing */
    rc = orch_dispatch_run(ctx->cfg, cred, &ops, &interrupted, &st, &diag);
    sigaction(SIGINT, &old_int, NULL);
    ctx->dst = st;
    ctx->calls_per_s = orch_summary_calls_rate(&st);
    /* The final progress line and the summary share one span: their
     * chunks/s are the same figure. */
    wall_ms = orch_mono_ms() - t0;
    ctx->prog.elapsed_ms = wall_ms;
    ctx->send_ms = wall_ms;
    draw_progress(ctx, true);
    orch_runlog_sync(&ctx->log);
    if (rc) {
        orch_error_diag(rc, &diag);
        return ORCH_EXIT_USAGE;
    }
    print_final(ctx, &st, wall_ms);
    if (ctx->log.err)
        orch_errorf("writing the journal %s failed (%s): calls were stopped; "
                    "check the jobs before resuming",
                    ctx->journal_path, orch_strerror(ctx->log.err));
    if (st.aborted || interrupted) {
        char why[700];

        abort_sentence(ctx, cred, &st, why, sizeof(why));
        orch_errorf("run aborted: %s%s", why[0] ? why : stopped_reason(&st),
                    ctx->specific ? "; continue it later with --resume" : "");
        return ORCH_EXIT_ABORTED;
    }
    return ORCH_EXIT_OK;
}

/* --- waves (issue 6) ----------------------------------------------------- */

/* Splits the (final) plan into waves; 0 or an exit code. */
static int setup_waves(struct run_ctx *ctx)
{
    const struct orch_config *cfg = ctx->cfg;
    struct orch_wave_spec spec;
    struct orch_diag diag = {{0}};
    int64_t base = 0;
    int rc = 0;

    if (cfg->waves == NULL || !ctx->specific)
        return ORCH_EXIT_OK;
    rc = orch_waves_parse(cfg->waves, &spec, &diag);
    if (rc == 0)
        rc = orch_waves_split(&spec, ctx->plan.chunks, ctx->plan.nchunks,
                              &ctx->wp, &diag);
    if (rc) {
        orch_error_diag(rc, &diag);
        return ORCH_EXIT_USAGE;
    }
    /* The schedule as it will be (the runner recomputes it from the
     * journal's base when it creates the waves). */
    base = ctx->rs.wave_base_ms > 0 ? ctx->rs.wave_base_ms : orch_wall_ms();
    if (cfg->wave_interval_ms > 0)
        orch_waves_schedule(&ctx->wp, cfg->schedule_time_ms,
                            cfg->schedule_finish_time_ms,
                            cfg->wave_interval_ms, base);
    ctx->waved = true;
    return ORCH_EXIT_OK;
}

static int wave_create(void *ud, size_t first, size_t end, int64_t schedule_ms,
                       int64_t finish_ms)
{
    struct run_ctx *ctx = ud;
    int code = 0;

    ctx->wave_cfg = *ctx->cfg;
    ctx->wave_cfg.schedule_time_ms = schedule_ms;
    ctx->wave_cfg.schedule_finish_time_ms = finish_ms;
    ctx->wave_lo = first;
    ctx->wave_hi = end;
    ctx->in_wave = true;
    code = dispatch(ctx, ctx->wave_cred);
    ctx->in_wave = false;
    return code;
}

static size_t wave_unfinished(void *ud, size_t first, size_t end)
{
    struct run_ctx *ctx = ud;
    size_t i = 0, n = 0;

    for (i = first; i < end && i < ctx->nitems; i++) {
        const char *st = ctx->log.rows[i]
                             ? orch_outcome_str(ctx->log.rows[i], "status")
                             : NULL;

        if (st == NULL || strcmp(st, "not_sent") == 0)
            n++;
    }
    return n;
}

static const char *wave_job_id(void *ud, size_t chunk)
{
    struct run_ctx *ctx = ud;

    if (chunk >= ctx->nitems)
        return NULL;
    return orch_outcome_job_id(ctx->log.rows[chunk]);
}

static uint32_t wave_devices(void *ud, size_t chunk)
{
    struct run_ctx *ctx = ud;

    return ctx->specific && chunk < ctx->plan.nchunks
               ? ctx->plan.chunks[chunk].count
               : 0;
}

static int wave_journal(void *ud, json_t *rec)
{
    struct run_ctx *ctx = ud;

    orch_runlog_add(&ctx->log, rec);
    if (ctx->log.err)
        return ctx->log.err;
    return orch_runlog_sync(&ctx->log);
}

/* --waves and/or --wait: the waves file, then the runner. */
static int run_waves(struct run_ctx *ctx, const struct orch_credentials *cred)
{
    struct orch_waverun_host h;
    struct orch_diag diag = {{0}};
    int code = ORCH_EXIT_OK;

    if (ctx->waved &&
        orch_wavemap_write(ctx->cfg->report_path, &ctx->wp, &diag) != 0)
        orch_warnf("%s (status will not show per-wave counts)",
                   diag.msg[0] ? diag.msg : "cannot write the waves file");
    memset(&h, 0, sizeof(h));
    h.cfg = ctx->cfg;
    h.cred = cred;
    h.plan = ctx->waved ? &ctx->wp : NULL;
    h.nitems = ctx->nitems;
    h.rs = ctx->resuming ? &ctx->rs : NULL;
    h.out = ctx->hout;
    h.ud = ctx;
    h.create = wave_create;
    h.unfinished = wave_unfinished;
    h.job_id = wave_job_id;
    h.devices = wave_devices;
    h.journal = wave_journal;
    ctx->wave_cred = cred;
    if (!ctx->waved && ctx->todo.to_send + ctx->todo.to_reconcile > 0)
        code = dispatch(ctx, cred);
    if (code == ORCH_EXIT_OK)
        code = orch_waverun(&h);
    return code;
}

static int close_outputs(struct run_ctx *ctx)
{
    int rc = orch_runfiles_close(&ctx->files);

    if (rc)
        orch_errorf("writing the report files failed (%s): the report may "
                    "be incomplete",
                    orch_strerror(rc));
    return rc;
}

/* The whole run's outcomes the next step depends on. */
static void next_facts(const struct run_ctx *ctx, struct orch_summary_next *nx)
{
    memset(nx, 0, sizeof(*nx));
    if (ctx->log.rows)
        orch_summary_count_next(ctx->log.rows, ctx->log.attempts,
                                ctx->nitems, nx);
    nx->specific = ctx->specific;
}

/* End of a run that opened its journal: final report, end record, the
 * device files and the one next step. */
static int finish_run(struct run_ctx *ctx, int code)
{
    struct orch_outcome_counts n;
    struct orch_summary_next nx;

    orch_runlog_sync(&ctx->log);
    orch_runfiles_close_results(&ctx->files);
    if (rewrite_outputs(ctx))
        orch_runfiles_note(&ctx->files, ORCH_EIO);
    orch_outcome_count(ctx->log.rows, ctx->nitems, &n);
    if (ctx->resuming)
        orch_summary_print_whole(ctx->hout, &n, ctx->nitems);
    next_facts(ctx, &nx);
    orch_summary_print_next(ctx->hout, &nx, ctx->cfg->report_path);
    if (code == ORCH_EXIT_OK && (n.failed > 0 || n.other > 0))
        code = ORCH_EXIT_PARTIAL;
    if (orch_runlog_end(&ctx->log, code, orch_wall_ms()) &&
        code == ORCH_EXIT_OK)
        code = ORCH_EXIT_PARTIAL;
    return code;
}

static void free_ctx(struct run_ctx *ctx)
{
    orch_runlog_cleanup(&ctx->log);
    orch_resume_cleanup(&ctx->rs);
    free(ctx->journal_path);
    free(ctx->inv_abs);
    orch_preflight_result_cleanup(&ctx->pf);
    free(ctx->drop);
    if (ctx->hout && ctx->hout != stderr)
        fclose(ctx->hout);
    if (ctx->specific)
        orch_plan_cleanup(&ctx->plan);
    orch_inventory_cleanup(&ctx->inv);
    free(ctx);
}

static void print_resume_state(const struct run_ctx *ctx)
{
    if (ctx->resuming)
        orch_summary_print_resume(ctx->hout, ctx->cfg->run_id, ctx->nitems,
                                  &ctx->todo);
}

/* --- pre-flight (issue 7) ---------------------------------------------- */

/* A confirmation that cannot be asked is refused before any call (the
 * pre-flight included): a usage error needs no network. */
static int confirm_possible(const struct run_ctx *ctx)
{
    if (ctx->cfg->yes || (isatty(STDIN_FILENO) && isatty(STDERR_FILENO)))
        return ORCH_EXIT_OK;
    orch_errorf("not asking for confirmation without a terminal; pass "
                "--yes to create the jobs");
    return ORCH_EXIT_USAGE;
}

static int load_credentials(struct run_ctx *ctx, struct orch_credentials *cred)
{
    struct orch_diag diag = {{0}};
    int rc = orch_credentials_load(cred, ctx->cfg->profile, getenv("HOME"),
                                   &diag);

    if (rc) {
        orch_error_diag(rc, &diag);
        return ORCH_EXIT_USAGE;
    }
    fprintf(ctx->hout, "credentials: %s, AccessKeyId %s%s\n", cred->source,
            cred->access_key_id, cred->token.s ? " (STS)" : "");
    return ORCH_EXIT_OK;
}

/* The firmware check (unless --skip-preflight). Returns 0 to go on, or an
 * exit code: 2 when a firmware is refused, 4 when the check was aborted
 * (credentials rejected, query denied). */
static int preflight_firmware(struct run_ctx *ctx,
                              const struct orch_credentials *cred)
{
    struct orch_diag diag = {{0}};
    size_t i = 0;
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
    if (rc == 0) {
        ctx->pf_state = ORCH_PF_PASSED;
        fprintf(ctx->hout, "pre-flight: %zu firmware check%s passed\n",
                ctx->pf.nchecks, ctx->pf.nchecks == 1 ? "" : "s");
        return ORCH_EXIT_OK;
    }
    /* Each failed pair not told yet (preflight.h: each problem once),
     * then the verdict. */
    for (i = 0; i < ctx->pf.nchecks; i++) {
        if (ctx->pf.checks[i].verdict != ORCH_FW_OK &&
            !ctx->pf.checks[i].told && ctx->pf.checks[i].message[0])
            orch_errorf("pre-flight: %s", ctx->pf.checks[i].message);
    }
    orch_error_diag(rc, &diag);
    if (rc == ORCH_EABORT) {
        ctx->pf_state = ORCH_PF_ABORTED;
        return ORCH_EXIT_ABORTED;
    }
    ctx->pf_state = rc == ORCH_EAPI ? ORCH_PF_FAILED : ORCH_PF_NOT_RUN;
    return ORCH_EXIT_USAGE;
}

static void devcheck_progress(void *ud, size_t finished, size_t total)
{
    struct run_ctx *ctx = ud;
    int n = 0;

    if (!ctx->progress)
        return;
    n = fprintf(stderr, "\rdevice check: %zu/%zu calls", finished, total);
    if (n > 0)
        ctx->progress_len = (size_t)n;
    fflush(stderr);
}

/* (Re)allocates the per-chunk tables for ctx->nitems and counts what is
 * left to do. */
static int reset_tables(struct run_ctx *ctx)
{
    memset(&ctx->todo, 0, sizeof(ctx->todo));
    if (orch_runlog_alloc(&ctx->log, ctx->nitems))
        return ORCH_ENOMEM;
    plan_resume(ctx);
    return 0;
}

/* Rebuilds the plan without the devices of ctx->drop (NULL: all of them)
 * and, when the tables exist, the tables. Returns 0 or an exit code. */
static int rebuild_plan(struct run_ctx *ctx)
{
    struct orch_diag diag = {{0}};
    int rc = 0;

    orch_plan_cleanup(&ctx->plan);
    if (ctx->drop)
        rc = orch_plan_build_filtered(&ctx->plan, &ctx->inv, ctx->cfg,
                                      ctx->drop, &diag);
    else
        rc = orch_plan_build(&ctx->plan, &ctx->inv, ctx->cfg, &diag);
    if (rc) {
        orch_error_diag(rc, &diag);
        return ORCH_EXIT_USAGE;
    }
    ctx->nitems = ctx->plan.nchunks;
    if (ctx->log.rows && reset_tables(ctx)) {
        orch_errorf("out of memory");
        return ORCH_EXIT_USAGE;
    }
    return ORCH_EXIT_OK;
}

static void print_dropped(const struct run_ctx *ctx, FILE *fp)
{
    orch_summary_print_dropped(fp, &ctx->devst, &ctx->dshown,
                               rejects_path(ctx), ctx->nitems);
}

/* --check-devices (SPECIFIC, new runs only): BatchQueryDeviceDetail, the
 * devices left out into the rejects file, the plan rebuilt without them.
 * Returns 0 or an exit code. */
static int preflight_devices(struct run_ctx *ctx,
                             const struct orch_credentials *cred)
{
    struct orch_device_check_opts opts;
    struct orch_diag diag = {{0}};
    struct sigaction sa, old_int;
    int rc = 0;

    if (ctx->cfg->command == ORCH_CMD_RUN && !ctx->files.rejects_open &&
        open_rejects(ctx))
        return ORCH_EXIT_USAGE;
    free(ctx->drop);
    ctx->drop = calloc(ctx->inv.n ? ctx->inv.n : 1, 1);
    if (ctx->drop == NULL) {
        orch_errorf("out of memory");
        return ORCH_EXIT_USAGE;
    }
    memset(&opts, 0, sizeof(opts));
    opts.on_drop = on_drop;
    opts.ud = ctx;
    opts.progress = devcheck_progress;
    opts.interrupt = &interrupted;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    interrupted = 0;
    sigaction(SIGINT, &sa, &old_int);
    rc = orch_preflight_devices(ctx->cfg, cred, &ctx->plan, &ctx->pf, &opts,
                                ctx->drop, &ctx->devst, &diag);
    sigaction(SIGINT, &old_int, NULL);
    if (ctx->progress && ctx->progress_len) {
        fputc('\n', stderr);
        ctx->progress_len = 0;
    }
    ctx->devcheck_ran = rc == 0;
    if (rc) {
        orch_errorf("%s; nothing sent",
                    orch_diag_text(rc, &diag));
        return rc == ORCH_EABORT ? ORCH_EXIT_ABORTED : ORCH_EXIT_USAGE;
    }
    if (ctx->devst.unchecked > 0)
        orch_warnf("device check: %zu device%s could not be checked (%s); "
                   "they stay in the plan",
                   ctx->devst.unchecked, ctx->devst.unchecked == 1 ? "" : "s",
                   ctx->devst.first_error[0] ? ctx->devst.first_error
                                             : "no answer");
    rc = rebuild_plan(ctx);
    if (rc == ORCH_EXIT_OK)
        print_dropped(ctx, ctx->hout);
    return rc;
}

/* Nothing left after the device check. */
static int nothing_left(const struct run_ctx *ctx)
{
    if (ctx->devst.missing == 0 && ctx->devst.unchecked == 0) {
        orch_notef("every device already runs the firmware's version; "
                   "nothing to send");
        return ORCH_EXIT_OK;
    }
    orch_errorf("no device left to upgrade after the device check (%zu "
                "missing, %zu already upgraded); nothing sent",
                ctx->devst.missing, ctx->devst.up_to_date);
    return ORCH_EXIT_INVENTORY;
}

/* Resume: the drop map the run's device check made, from its run record
 * (never asked again: devices upgrade meanwhile, and a new answer would
 * renumber the chunks). Returns 0 or an exit code. */
static int resume_drops(struct run_ctx *ctx)
{
    const json_t *dc = json_object_get(ctx->rs.run, "devcheck");
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
        orch_errorf("out of memory");
        return ORCH_EXIT_USAGE;
    }
    rc = orch_resume_drop_map(ctx->rs.run, ctx->drop, ctx->inv.n, &has,
                              &diag);
    if (rc) {
        orch_errorf("%s: %s; check the jobs in the console, then start anew "
                    "with `run --force` (the old files are kept)",
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
    ctx->devst.missing = (size_t)json_integer_value(json_object_get(dc, "missing"));
    ctx->devst.up_to_date =
        (size_t)json_integer_value(json_object_get(dc, "up_to_date"));
    ctx->devst.unchecked =
        (size_t)json_integer_value(json_object_get(dc, "unchecked"));
    ctx->devst.checked =
        (size_t)json_integer_value(json_object_get(dc, "checked"));
    fprintf(ctx->hout,
            "device check (from the journal, not asked again): %zu missing "
            "and %zu already upgraded devices stay left out\n",
            ctx->devst.missing, ctx->devst.up_to_date);
    return rebuild_plan(ctx);
}

/* --- devices an unfinished run may have put into a job (issue 11) ----- */

/* A new run whose inventory holds devices of an unfinished run's chunks
 * whose outcome is unknown (overlap.h) would give them a second job:
 * refused before anything is sent, unless --force. Returns 0 to go on, or
 * an exit code. */
static int check_overlap(struct run_ctx *ctx)
{
    const struct orch_config *cfg = ctx->cfg;
    struct orch_overlap *o = NULL;
    size_t n = 0, i = 0;
    int rc = 0;

    rc = orch_overlap_find(&ctx->inv, cfg->inventory_path, cfg->report_path,
                           ctx->journal_path, &o, &n);
    if (rc) {
        orch_errorf("out of memory");
        return ORCH_EXIT_USAGE;
    }
    for (i = 0; i < n; i++) {
        void (*say)(const char *, ...) = cfg->force ? orch_warnf
                                                    : orch_errorf;

        say("%zu device%s of %s %s in %zu chunk%s of the unfinished run "
            "%s whose outcome is unknown: a job may already hold them, and "
            "this run would give them a second one. Resolve that run "
            "first with `ota-rollout resume %s` (it looks the jobs up)%s",
            o[i].devices, o[i].devices == 1 ? "" : "s", cfg->inventory_path,
            o[i].devices == 1 ? "is" : "are", o[i].chunks,
            o[i].chunks == 1 ? "" : "s", o[i].journal, o[i].report,
            cfg->force ? "; sending them anyway (--force)"
                       : "; nothing sent (--force sends them anyway)");
    }
    orch_overlap_free_all(o, n);
    return n > 0 && !cfg->force ? ORCH_EXIT_USAGE : ORCH_EXIT_OK;
}

/* --- output for machines (issue 7) ------------------------------------- */

/* The summary document's facts, from the run's state. *failed and
 * *rejects get the file names it borrows (malloced, NULL when those files
 * were not written; the caller frees them). */
static void summary_facts(const struct run_ctx *ctx, int code, bool is_run,
                          struct orch_run_summary *s, char **failed,
                          char **rejects, char **ambiguous, char **next)
{
    const struct orch_config *cfg = ctx->cfg;
    struct orch_outcome_counts n;
    struct orch_summary_next nx;
    enum orch_next_step step = ORCH_NEXT_NONE;

    memset(s, 0, sizeof(*s));
    memset(&n, 0, sizeof(n));
    if (is_run && ctx->log.rows)
        orch_outcome_count(ctx->log.rows, ctx->nitems, &n);
    else if (is_run)
        n.other = ctx->nitems;
    s->command = is_run ? "run" : "plan";
    s->run_id = is_run ? cfg->run_id : NULL;
    s->resumed = ctx->resuming;
    s->exit_code = code;
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
    s->calls = ctx->dst.calls;
    s->retries = ctx->dst.retries;
    s->throttled = ctx->dst.throttled;
    s->form_fallbacks = ctx->dst.form_fallbacks;
    s->queries = ctx->dst.queries;
    s->reconciled = ctx->dst.reconciled;
    s->recovered = ctx->dst.recovered;
    s->codes = &ctx->codes;
    s->pf_state = ctx->pf_state;
    s->pf = &ctx->pf;
    s->devcheck = devcheck_stats(ctx);
    s->wall_s = (double)(orch_mono_ms() - ctx->t0_ms) / 1000.0;
    s->calls_per_s = ctx->calls_per_s;
    s->send_s = (double)ctx->send_ms / 1000.0;
    s->chunks_per_s =
        ctx->send_ms > 0
            ? (double)(ctx->dst.created + ctx->dst.failed +
                       ctx->dst.not_sent) * 1000.0 / (double)ctx->send_ms
            : 0.0;
    *failed = *rejects = *ambiguous = *next = NULL;
    if (ctx->files.outputs_written) {
        *failed = orch_report_sibling(cfg->report_path, ".failed.csv");
        *ambiguous = orch_report_sibling(cfg->report_path, ".ambiguous.csv");
        s->report = cfg->report_path;
        s->failed_file = *failed;
        s->ambiguous_file = *ambiguous;
        /* The same one next step as the text summary. */
        next_facts(ctx, &nx);
        step = orch_summary_next_step(&nx);
        *next = orch_summary_next_command(step, cfg->report_path);
    }
    s->next_step = orch_next_step_name(step);
    s->next_command = *next;
    if (ctx->files.rejects_written) {
        *rejects = orch_report_sibling(cfg->report_path, ".rejects.csv");
        s->rejects = *rejects;
    }
    if (ctx->log.open)
        s->journal = ctx->journal_path;
}

/* `--json`: the summary document on stdout; `--log-format json`: the same
 * as a "summary" event on stderr. */
static void emit_summary(struct run_ctx *ctx, int code, bool is_run,
                         const struct orch_params *first)
{
    const struct orch_config *cfg = ctx->cfg;
    struct orch_run_summary s;
    struct orch_summary_plan sp;
    char *failed = NULL, *rejects = NULL, *ambiguous = NULL, *next = NULL;
    json_t *doc = NULL;

    if (!cfg->json && !ctx->json_log)
        return;
    summary_facts(ctx, code, is_run, &s, &failed, &rejects, &ambiguous,
                  &next);
    plan_facts(ctx, &sp);
    doc = orch_summary_doc(&s, is_run ? NULL : &sp, first,
                           orch_msgs_last_error());
    if (doc == NULL)
        orch_errorf("out of memory");
    else if (orch_jsonout_deliver(doc, cfg->json ? stdout : NULL,
                                  ctx->json_log ? stderr : NULL,
                                  orch_wall_ms()) != 0)
        orch_errorf("writing the JSON summary failed");
    json_decref(doc);
    free(failed);
    free(rejects);
    free(ambiguous);
    free(next);
}

/* An inventory without a device to upgrade (a header only, or every row
 * skipped): exit 3, the same for `plan` and `run`. */
static int no_devices(const struct run_ctx *ctx)
{
    if (ctx->inv.rows == 0)
        orch_errorf("%s: no devices (the inventory has a header and no "
                    "rows); nothing to do",
                    ctx->cfg->inventory_path);
    else
        orch_errorf("%s: no valid devices to upgrade; nothing sent",
                    ctx->cfg->inventory_path);
    return ORCH_EXIT_INVENTORY;
}

/* `plan`: offline, or with --preflight the checks too. Returns the exit
 * code; *first gets the first request's parameters (for --json). */
static int plan_command(struct run_ctx *ctx, struct orch_credentials *cred,
                        struct orch_params *first, bool *have_first)
{
    const struct orch_config *cfg = ctx->cfg;
    FILE *fp = cfg->json ? ctx->hout : stdout;
    int code = ORCH_EXIT_OK;

    if (ctx->specific && ctx->plan.nchunks == 0) {
        print_summary(ctx, fp);
        return no_devices(ctx);
    }
    if (cfg->preflight) {
        code = load_credentials(ctx, cred);
        /* With --skip-preflight this only warns that it skipped. */
        if (code == ORCH_EXIT_OK)
            code = preflight_firmware(ctx, cred);
        if (code == ORCH_EXIT_OK && ctx->specific && cfg->check_devices)
            code = preflight_devices(ctx, cred);
    }
    print_summary(ctx, fp);
    orch_summary_print_preflight(fp, ctx->pf_state, &ctx->pf);
    if (ctx->devcheck_ran)
        print_dropped(ctx, fp);
    if (!cfg->json) {
        if (print_first_request(ctx, fp)) {
            orch_errorf("out of memory");
            code = ORCH_EXIT_USAGE;
        }
    } else if (!ctx->specific || ctx->plan.nchunks > 0) {
        if (orch_api_create_params(first, cfg,
                                   ctx->specific ? &ctx->plan : NULL,
                                   ctx->specific ? &ctx->plan.chunks[0]
                                                 : NULL) == 0)
            *have_first = true;
    }
    return code;
}

int orch_run_main(struct orch_config *cfg)
{
    struct run_ctx *ctx = NULL;
    struct orch_credentials cred;
    struct orch_diag diag = {{0}};
    struct orch_params first;
    bool have_first = false;
    bool is_run = cfg->command == ORCH_CMD_RUN;
    const char *abort_env = getenv(ABORT_ENV);
    int code = ORCH_EXIT_OK;
    int rc = 0;

    memset(&cred, 0, sizeof(cred));
    ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        orch_errorf("out of memory");
        return ORCH_EXIT_USAGE;
    }
    ctx->cfg = cfg;
    ctx->specific = cfg->target == ORCH_TARGET_SPECIFIC;
    orch_runfiles_init(&ctx->files, cfg->report_path,
                       ctx->specific ? &ctx->plan : NULL, cfg->product_key,
                       cfg->firmware_id);
    orch_runlog_init(&ctx->log, &ctx->files,
                     abort_env && *abort_env ? strtoull(abort_env, NULL, 10)
                                             : 0);
    ctx->t0_ms = orch_mono_ms();
    orch_params_init(&first);
    orch_preflight_result_init(&ctx->pf);
    /* --log-format json: stderr carries JSON lines only (the messages:
     * main.c sets orch_msgs_set_json for every command); the human
     * summaries go nowhere. */
    ctx->json_log = cfg->log_format == ORCH_LOG_FORMAT_JSON;
    ctx->hout = ctx->json_log ? fopen("/dev/null", "w") : stderr;
    if (ctx->hout == NULL)
        ctx->hout = stderr;
    ctx->progress =
        cfg->progress && !ctx->json_log && isatty(STDERR_FILENO);
    ctx->progress_plain =
        cfg->progress && !ctx->json_log && !isatty(STDERR_FILENO);
    ctx->rs.valid_len = (size_t)-1;
    orch_inventory_init(&ctx->inv);
    signal(SIGPIPE, SIG_IGN);

    if (is_run) {
        ctx->journal_path = orch_resume_journal_path(cfg->report_path);
        if (ctx->journal_path == NULL) {
            orch_errorf("out of memory");
            code = ORCH_EXIT_USAGE;
            goto out;
        }
        code = read_journal(ctx);
        if (code)
            goto out;
        if (hash_inventory(ctx)) {
            code = ORCH_EXIT_USAGE;
            goto out;
        }
        if (ctx->specific && cfg->skip_invalid && open_rejects(ctx)) {
            code = ORCH_EXIT_USAGE;
            goto out;
        }
    }
    if (ctx->specific) {
        code = load_inventory(ctx);
        if (code)
            goto out;
        rc = orch_plan_build(&ctx->plan, &ctx->inv, cfg, &diag);
        if (rc) {
            orch_error_diag(rc, &diag);
            code = ORCH_EXIT_USAGE;
            goto out;
        }
        ctx->nitems = ctx->plan.nchunks;
        if (is_run && !ctx->resuming) {
            code = check_overlap(ctx);
            if (code)
                goto out;
        }
    } else {
        ctx->nitems = 1;
    }

    if (!is_run) {
        code = setup_waves(ctx);
        if (code == ORCH_EXIT_OK)
            code = plan_command(ctx, &cred, &first, &have_first);
        if (code == ORCH_EXIT_OK && ctx->waved)
            orch_waverun_print_plan(stdout, cfg, &ctx->wp);
        goto out;
    }

    if (ctx->resuming) {
        code = resume_drops(ctx);
        if (code == ORCH_EXIT_OK)
            code = check_identity(ctx);
        if (code)
            goto out;
        /* --force over a changed run: a new plan, checked anew. */
        if (!ctx->resuming && ctx->drop) {
            free(ctx->drop);
            ctx->drop = NULL;
            ctx->drop_from_journal = false;
            memset(&ctx->devst, 0, sizeof(ctx->devst));
            code = rebuild_plan(ctx);
            if (code)
                goto out;
        }
    }
    if (orch_runlog_alloc(&ctx->log, ctx->nitems) || set_run_id(ctx)) {
        orch_errorf("out of memory");
        code = ORCH_EXIT_USAGE;
        goto out;
    }
    plan_resume(ctx);
    code = setup_waves(ctx);
    if (code)
        goto out;
    print_summary(ctx, ctx->hout);
    if (ctx->waved)
        orch_waverun_print_plan(ctx->hout, cfg, &ctx->wp);
    print_resume_state(ctx);
    if (ctx->nitems == 0) {
        code = no_devices(ctx);
        goto out;
    }
    if (ctx->todo.to_send + ctx->todo.to_reconcile > 0) {
        /* Pre-flight: the firmware every time (cheap), the devices only
         * for a new run (a resume keeps the journal's drop map). */
        code = confirm_possible(ctx);
        if (code == ORCH_EXIT_OK)
            code = load_credentials(ctx, &cred);
        if (code == ORCH_EXIT_OK)
            code = preflight_firmware(ctx, &cred);
        if (code == ORCH_EXIT_OK)
            code = confirm(ctx);
        if (code == ORCH_EXIT_OK && ctx->specific && cfg->check_devices &&
            !ctx->resuming)
            code = preflight_devices(ctx, &cred);
        if (code)
            goto out;
        if (ctx->nitems == 0) {
            code = nothing_left(ctx);
            goto out;
        }
    }
    /* Watching needs credentials even when nothing is left to create (a
     * paused wave); the device check may have changed the plan. */
    if ((ctx->waved || cfg->wait) && cred.access_key_id == NULL) {
        code = load_credentials(ctx, &cred);
        if (code == ORCH_EXIT_OK && ctx->resuming)
            code = confirm(ctx);
        if (code)
            goto out;
    }
    code = setup_waves(ctx);
    if (code)
        goto out;
    if (open_journal(ctx)) {
        code = ORCH_EXIT_USAGE;
        goto out;
    }
    if (open_outputs(ctx)) {
        code = ORCH_EXIT_USAGE;
    } else if (ctx->waved || cfg->wait) {
        code = run_waves(ctx, &cred);
    } else if (ctx->todo.to_send + ctx->todo.to_reconcile > 0) {
        code = dispatch(ctx, &cred);
    } else {
        orch_notef("every chunk of this run already has its result; "
                   "nothing to send");
    }
    code = finish_run(ctx, code);

out:
    if (close_outputs(ctx) && code == ORCH_EXIT_OK)
        code = ORCH_EXIT_PARTIAL;
    emit_summary(ctx, code, is_run, have_first ? &first : NULL);
    orch_params_cleanup(&first);
    orch_credentials_cleanup(&cred);
    free_ctx(ctx);
    return code;
}
