/* summary.c - the human summaries and the --json document of `run` and
 * `plan` (summary.h). */
#include "orch/rollout/summary.h"

#include "orch/model/config.h"
#include "orch/engine/dispatch.h"
#include "orch/base/exitcode.h"
#include "orch/model/inventory.h"
#include "orch/rollout/outcome.h"
#include "orch/rollout/planrows.h"
#include "orch/model/plan.h"
#include "orch/rollout/devcheck.h"
#include "orch/rollout/preflight.h"
#include "orch/base/tally.h"
#include "orch/base/err.h"
#include "orch/base/jsonout.h"
#include "orch/rollout/waveplan.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void orch_summary_rows_add(struct orch_summary_rows *r, uint32_t line,
                           const char *value, const char *reason)
{
    if (r->n >= ORCH_SUMMARY_SHOWN)
        return;
    snprintf(r->line[r->n], sizeof(r->line[0]),
             "line %" PRIu32 ": \"%.60s\": %s", line, value ? value : "",
             reason ? reason : "");
    r->n++;
}

void orch_summary_format_secs(char *out, size_t outsz, double secs)
{
    unsigned long s = 0;

    if (secs < 0)
        secs = 0;
    if (secs < 60) {
        snprintf(out, outsz, "%.1f s", secs);
        return;
    }
    s = (unsigned long)(secs + 0.5);
    if (s < 3600)
        snprintf(out, outsz, "%lu min %02lu s", s / 60, s % 60);
    else
        snprintf(out, outsz, "%lu h %02lu min", s / 3600, (s % 3600) / 60);
}

void orch_summary_format_span(char *out, size_t outsz, uint64_t ms)
{
    if (ms < 60000)
        snprintf(out, outsz, "%.2f s", (double)ms / 1000.0);
    else
        orch_summary_format_secs(out, outsz, (double)ms / 1000.0);
}

void orch_summary_format_wall(char *out, size_t outsz,
                              const struct orch_dispatch_stats *st,
                              uint64_t wall_ms)
{
    uint64_t chunks = st->created + st->failed + st->not_sent;
    double secs = (double)wall_ms / 1000.0;
    char span[32];

    orch_summary_format_span(span, sizeof(span), wall_ms);
    snprintf(out, outsz,
             "wall time: %s; over it %" PRIu64 " chunk%s finished (%.2f "
             "chunks/s) and %" PRIu64 " call%s %s made (%.2f calls/s)",
             span, chunks, chunks == 1 ? "" : "s",
             secs > 0 ? (double)chunks / secs : 0.0, st->calls,
             st->calls == 1 ? "" : "s", st->calls == 1 ? "was" : "were",
             secs > 0 ? (double)st->calls / secs : 0.0);
}

bool orch_summary_format_pace(char *out, size_t outsz,
                              const struct orch_dispatch_stats *st)
{
    double rate = 0, gap_ms = 0;

    if (st->calls < 2 || st->last_start_ms <= st->first_start_ms)
        return false;
    rate = orch_summary_calls_rate(st);
    gap_ms = 1000.0 / rate;
    if (gap_ms < 1000)
        snprintf(out, outsz,
                 "sending pace: %.2f calls/s (calls started %.1f ms apart "
                 "on average)",
                 rate, gap_ms);
    else
        snprintf(out, outsz,
                 "sending pace: %.2f calls/s (calls started %.2f s apart on "
                 "average)",
                 rate, gap_ms / 1000.0);
    return true;
}

/* Calls started per second while calls were made: n starts span n - 1
 * intervals, so (calls - 1) / (last start - first start). That is exactly
 * the pacing rate of evenly spaced starts whatever the run's length (calls
 * / (last answer - first start) overstates short paced runs, whose span
 * holds one latency instead of one interval, and the former clamp of the
 * span to 1 s capped a fast sub-second run at its call count). A single
 * call, or calls started within one ms, has no measurable rate beyond its
 * count per second of activity (at least 1 s). */
double orch_summary_calls_rate(const struct orch_dispatch_stats *st)
{
    double active = 0;

    if (st->calls >= 2 && st->last_start_ms > st->first_start_ms)
        return (double)(st->calls - 1) * 1000.0 /
               (double)(st->last_start_ms - st->first_start_ms);
    if (st->last_end_ms > st->first_start_ms)
        active = (double)(st->last_end_ms - st->first_start_ms) / 1000.0;
    if (st->calls > 0 && active < 1.0)
        active = 1.0;
    return active > 0 ? (double)st->calls / active : 0.0;
}

/* --- the plan summary --------------------------------------------------- */

static void print_products(FILE *fp, const struct orch_inventory *inv,
                           const struct orch_plan *plan)
{
    size_t p = 0, c = 0;

    for (p = 0; p < inv->nproducts; p++) {
        size_t devices = 0;
        const char *fw = NULL;

        for (c = 0; c < plan->nchunks; c++) {
            if (plan->chunks[c].product == p) {
                devices += plan->chunks[c].count;
                fw = plan->chunks[c].firmware_id;
            }
        }
        size_t chunks =
            plan->chunks_per_product ? plan->chunks_per_product[p] : 0;

        fprintf(fp, "  product %s: %zu device%s, %zu chunk%s, firmware %s\n",
                inv->products[p], devices, devices == 1 ? "" : "s", chunks,
                chunks == 1 ? "" : "s", fw ? fw : "(none)");
    }
}

static void print_inventory(FILE *fp, const struct orch_summary_plan *sp)
{
    const struct orch_config *cfg = sp->cfg;
    const struct orch_inventory *inv = sp->inv;
    const struct orch_summary_rows *shown = sp->rejected;
    char d[8];
    size_t i = 0;

    if (inv->delimiter == '\t')
        snprintf(d, sizeof(d), "tab");
    else
        snprintf(d, sizeof(d), "'%c'", inv->delimiter);
    fprintf(fp, "inventory: %s (%zu rows, delimiter %s)\n",
            cfg->inventory_path, inv->rows, d);
    fprintf(fp, "devices: %zu\n", inv->n);
    fprintf(fp, "duplicates dropped: %zu\n", inv->duplicates);
    fprintf(fp, "rows rejected: %zu\n", inv->rejected);
    for (i = 0; i < shown->n; i++)
        fprintf(fp, "  %s\n", shown->line[i]);
    if (sp->rejects_path && inv->rejected > 0)
        fprintf(fp, "  (written to %s)\n", sp->rejects_path);
    if (inv->rejected > shown->n && shown->n > 0 && !sp->rejects_path)
        fprintf(fp, "  ... (run writes them all to %s.rejects.csv)\n",
                cfg->report_path);
    fprintf(fp, "products: %zu\n", inv->nproducts);
    print_products(fp, inv, sp->plan);
    fprintf(fp, "chunks: %zu (up to %d devices each)\n", sp->plan->nchunks,
            cfg->chunk_size);
}

static void print_target(FILE *fp, const struct orch_config *cfg)
{
    size_t i = 0;

    fprintf(fp, "target: %s, product %s, firmware %s\n",
            cfg->target == ORCH_TARGET_GRAY ? "GRAY" : "ALL",
            cfg->product_key, cfg->firmware_id);
    fprintf(fp, "src versions:");
    for (i = 0; i < cfg->n_src_versions; i++)
        fprintf(fp, " %s", cfg->src_versions[i]);
    fputc('\n', fp);
    if (cfg->gray_percent)
        fprintf(fp, "gray percent: %s\n", cfg->gray_percent);
}

void orch_summary_print_plan(FILE *fp, const struct orch_summary_plan *sp)
{
    const struct orch_config *cfg = sp->cfg;
    char dur[32];

    if (sp->inv)
        print_inventory(fp, sp);
    else
        print_target(fp, cfg);
    orch_summary_print_where(fp, cfg, sp->inv);
    /* The limiter allows `qps` starts in any one second, so n calls need
     * about n / qps seconds. */
    orch_summary_format_secs(dur, sizeof(dur), (double)sp->calls / cfg->qps);
    fprintf(fp, "calls needed: %zu, about %s at %g calls/s\n", sp->calls, dur,
            cfg->qps);
    if (sp->device_cost) {
        size_t dcalls = 0;
        double dsecs = 0;

        orch_preflight_device_cost(sp->plan, &dcalls, &dsecs);
        orch_summary_format_secs(dur, sizeof(dur), dsecs);
        fprintf(fp, "device check: %zu calls, about %s at %g calls/s\n",
                dcalls, dur, ORCH_PREFLIGHT_DEV_QPS);
    }
    fprintf(fp, "endpoint: %s (signature V%d)\n", cfg->endpoint,
            cfg->signature_version);
    fprintf(fp, "report: %s\n", cfg->report_path);
}

/* --- pre-flight, device check, resume ----------------------------------- */

void orch_summary_print_preflight(FILE *fp, enum orch_pf_state state,
                                  const struct orch_preflight_result *pf)
{
    size_t i = 0;

    if (state == ORCH_PF_NOT_RUN && pf->nchecks == 0)
        return;
    fprintf(fp, "pre-flight: %s\n",
            state == ORCH_PF_PASSED    ? "passed"
            : state == ORCH_PF_FAILED  ? "FAILED"
            : state == ORCH_PF_ABORTED ? "aborted"
            : state == ORCH_PF_SKIPPED ? "skipped"
                                       : "not run");
    for (i = 0; i < pf->nchecks; i++) {
        const struct orch_fw_check *c = &pf->checks[i];

        if (c->verdict == ORCH_FW_OK)
            fprintf(fp, "  firmware %s for product %s: ok (version %s)\n",
                    c->firmware_id, c->product_key,
                    c->dest_version[0] ? c->dest_version : "?");
        else /* its message is an error line of its own: told once */
            fprintf(fp, "  firmware %s for product %s: %s%s%s%s\n",
                    c->firmware_id, c->product_key,
                    orch_fw_verdict_name(c->verdict), c->code[0] ? " (" : "",
                    c->code, c->code[0] ? ")" : "");
    }
}

void orch_summary_print_dropped(FILE *fp,
                                const struct orch_device_check_stats *st,
                                const struct orch_summary_rows *shown,
                                const char *rejects_path, size_t nitems)
{
    size_t i = 0;

    fprintf(fp,
            "devices left out: missing %zu, already on the firmware's "
            "version %zu, unchecked (kept) %zu\n",
            st->missing, st->up_to_date, st->unchecked);
    for (i = 0; i < shown->n; i++)
        fprintf(fp, "  %s\n", shown->line[i]);
    if (rejects_path && st->missing + st->up_to_date > 0)
        fprintf(fp, "  (written to %s)\n", rejects_path);
    fprintf(fp, "chunks after the device check: %zu\n", nitems);
}

void orch_summary_print_resume(FILE *fp, const char *run_id, size_t nitems,
                               const struct orch_summary_todo *todo)
{
    fprintf(fp,
            "resuming run %s: %zu of %zu chunks already done, %zu "
            "interrupted (asked about before any resend), %zu to send\n",
            run_id ? run_id : "?", todo->already_done, nitems,
            todo->to_reconcile, todo->to_send);
}

/* --- after the calls ------------------------------------------------------ */

void orch_summary_print_final(FILE *fp, const struct orch_summary_final *sf)
{
    const struct orch_dispatch_stats *st = sf->st;
    const struct orch_tally *codes = sf->codes;
    char rates[256];
    size_t i = 0;

    fprintf(fp, "\nsummary:\n");
    if (sf->inv)
        fprintf(fp, "  devices: %zu\n", sf->inv->n);
    if (sf->devcheck)
        fprintf(fp,
                "  left out by the device check: %zu missing, %zu already "
                "upgraded (in %s.rejects.csv)\n",
                sf->devcheck->missing, sf->devcheck->up_to_date,
                sf->report_path);
    fprintf(fp,
            "  chunks: %" PRIu64 " created, %" PRIu64 " failed, %" PRIu64
            " not sent (of %zu)\n",
            st->created, st->failed, st->not_sent, sf->nitems);
    fprintf(fp,
            "  calls: %" PRIu64 ", retries: %" PRIu64
            ", throttled answers: %" PRIu64 ", form-body fallbacks: %" PRIu64
            "\n",
            st->calls, st->retries, st->throttled, st->form_fallbacks);
    orch_summary_format_wall(rates, sizeof(rates), st, sf->wall_ms);
    fprintf(fp, "  %s\n", rates);
    if (orch_summary_format_pace(rates, sizeof(rates), st))
        fprintf(fp, "  %s\n", rates);
    for (i = 0; i < codes->count; i++)
        fprintf(fp, "  error %s: %zu chunk%s\n", codes->e[i].code,
                codes->e[i].n, codes->e[i].n == 1 ? "" : "s");
    fprintf(fp, "  report: %s\n", sf->report_path);
    if (sf->credentials && *sf->credentials)
        fprintf(fp, "  credentials: %s\n", sf->credentials);
    if (sf->stopped && *sf->stopped)
        fprintf(fp, "  stopped: %s\n", sf->stopped);
}

void orch_summary_count_next(json_t *const *rows, const unsigned *attempts,
                             size_t n, struct orch_summary_next *nx)
{
    size_t i = 0;

    nx->failed = nx->unknown = nx->not_sent = 0;
    nx->waiting = nx->aborted = 0;
    for (i = 0; i < n; i++) {
        const char *s = rows[i] ? orch_outcome_str(rows[i], "status") : NULL;

        if (s && strcmp(s, "created") == 0)
            continue;
        if (rows[i] && orch_planrows_waiting(rows[i])) {
            nx->waiting++;
            if (strcmp(orch_outcome_code(rows[i]),
                       ORCH_CODE_WAVE_ABORTED) == 0)
                nx->aborted++;
        }
        if (orch_outcome_unknown(rows[i], attempts && attempts[i] > 0))
            nx->unknown++;
        else if (s && strcmp(s, "failed") == 0)
            nx->failed++;
        else
            nx->not_sent++;
    }
}

enum orch_next_step orch_summary_next_step(const struct orch_summary_next *nx)
{
    if (!nx->specific)
        return ORCH_NEXT_NONE;
    if (nx->aborted > 0)
        return ORCH_NEXT_REVIEW_ABORT;
    if (nx->unknown > 0 || nx->not_sent > 0)
        return ORCH_NEXT_RESUME;
    return nx->failed > 0 ? ORCH_NEXT_RERUN : ORCH_NEXT_NONE;
}

const char *orch_next_step_name(enum orch_next_step step)
{
    return step == ORCH_NEXT_RESUME         ? "resume"
           : step == ORCH_NEXT_RERUN        ? "rerun_failed"
           : step == ORCH_NEXT_REVIEW_ABORT ? "review_abort"
                                            : "none";
}

char *orch_summary_next_command(enum orch_next_step step,
                                const char *report_path)
{
    const char *fmt = step == ORCH_NEXT_RESUME ? "ota-rollout resume %s"
                      : step == ORCH_NEXT_REVIEW_ABORT
                          ? "ota-rollout status %s"
                          : "ota-rollout run %s.failed.csv ...";
    size_t n = strlen(fmt) + strlen(report_path) + 1;
    char *cmd = NULL;

    if (step == ORCH_NEXT_NONE || (cmd = malloc(n)) == NULL)
        return NULL;
    snprintf(cmd, n, fmt, report_path);
    return cmd;
}

void orch_summary_print_next(FILE *fp, const struct orch_summary_next *nx,
                             const char *report_path)
{
    enum orch_next_step step = orch_summary_next_step(nx);

    if (!nx->specific)
        return;
    if (step == ORCH_NEXT_RERUN)
        fprintf(fp,
                "  failed devices: %s.failed.csv (rerun: "
                "ota-rollout run %s.failed.csv ...)\n",
                report_path, report_path);
    else if (nx->failed + nx->not_sent - nx->waiting > 0)
        fprintf(fp, "  failed devices: %s.failed.csv\n", report_path);
    if (nx->unknown > 0)
        fprintf(fp,
                "  devices with unknown outcome: %s.ambiguous.csv (%zu "
                "chunk%s: a job may hold them)\n",
                report_path, nx->unknown, nx->unknown == 1 ? "" : "s");
    if (step == ORCH_NEXT_REVIEW_ABORT)
        fprintf(fp,
                "  next step: a wave's health gate aborted the rollout; %zu "
                "chunk%s were not created (WaveAborted in the report, in no "
                "device file: never rerun them with the firmware that "
                "failed its gate). Look at `ota-rollout status %s` first; "
                "`ota-rollout resume %s --force` goes on with the same "
                "firmware, another firmware is a new rollout of those "
                "devices\n",
                nx->aborted, nx->aborted == 1 ? "" : "s", report_path,
                report_path);
    if (step != ORCH_NEXT_RESUME)
        return;
    fprintf(fp,
            "  next step: ota-rollout resume %s (looks up the %zu chunk%s "
            "whose outcome is unknown before resending anything, sends the "
            "%zu not sent); never run %s.failed.csv%s as an inventory "
            "before that: its devices could get a second job\n",
            report_path, nx->unknown, nx->unknown == 1 ? "" : "s",
            nx->not_sent, report_path,
            nx->unknown > 0 ? " or .ambiguous.csv" : "");
}

void orch_summary_print_whole(FILE *fp, const struct orch_outcome_counts *c,
                              size_t nitems)
{
    fprintf(fp,
            "  whole run: %zu created, %zu failed, %zu not sent (of "
            "%zu chunks)\n",
            c->created, c->failed, c->other, nitems);
}

/* --- output for machines ------------------------------------------------ */

static json_t *products_json(const struct orch_summary_plan *sp)
{
    const struct orch_inventory *inv = sp->inv;
    json_t *arr = json_array();
    size_t p = 0, c = 0;

    for (p = 0; arr && inv && p < inv->nproducts; p++) {
        size_t devices = 0, chunks = 0;
        const char *fw = orch_config_firmware_for(sp->cfg, inv->products[p]);

        for (c = 0; c < sp->plan->nchunks; c++) {
            if (sp->plan->chunks[c].product == p) {
                devices += sp->plan->chunks[c].count;
                chunks++;
            }
        }
        if (json_array_append_new(
                arr, json_pack("{s:s, s:I, s:I, s:s?}", "product_key",
                               inv->products[p], "devices",
                               (json_int_t)devices, "chunks",
                               (json_int_t)chunks, "firmware_id", fw))) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static void exit_reason(const struct orch_run_summary *s, bool is_run,
                        const char *told, char *out, size_t outsz)
{
    if (s->exit_code == ORCH_EXIT_OK)
        snprintf(out, outsz, "%s",
                 !is_run            ? "plan printed"
                 : s->chunks == 0   ? "nothing to send"
                                    : "every chunk created");
    else if (s->exit_code == ORCH_EXIT_PARTIAL && (s->failed || s->not_sent))
        snprintf(out, outsz, "%zu chunk%s failed, %zu not sent", s->failed,
                 s->failed == 1 ? "" : "s", s->not_sent);
    else
        snprintf(out, outsz, "%s", told ? told : "");
}

void orch_summary_print_where(FILE *fp, const struct orch_config *cfg,
                              const struct orch_inventory *inv)
{
    size_t f = 0;

    for (f = 0; inv && f < cfg->n_where; f++)
        fprintf(fp, "  --where %s: kept %zu of %zu rows\n", cfg->where[f],
                inv->where_kept[f], f ? inv->where_kept[f - 1] : inv->rows);
    if (inv && cfg->n_where)
        fprintf(fp, "  %zu row%s left out by --where (not rejected)\n",
                inv->filtered, inv->filtered == 1 ? "" : "s");
}

/* `plan --json`'s "where": [{"filter":..., "kept":N, "of":N}]. */
static json_t *where_json(const struct orch_summary_plan *sp)
{
    json_t *a = json_array();
    size_t f = 0;

    for (f = 0; a && sp->inv && f < sp->cfg->n_where; f++) {
        json_t *o = json_pack(
            "{s:s, s:o, s:o}", "filter", sp->cfg->where[f], "kept",
            orch_jsonout_count(sp->inv->where_kept[f]), "of",
            orch_jsonout_count(f ? sp->inv->where_kept[f - 1]
                                 : sp->inv->rows));

        if (o == NULL || json_array_append_new(a, o)) {
            json_decref(a);
            a = NULL;
        }
    }
    return a;
}

/* `plan --json`'s "window" and "schedule" (winplan.h). 0 or
 * ORCH_ENOMEM. */
static int add_schedule(json_t *plan, const struct orch_summary_plan *sp)
{
    char w[16];

    orch_window_format(&sp->windows.window, w, sizeof(w));
    if (orch_jsonout_put(plan, "window", json_string(w)) ||
        orch_jsonout_put(plan, "schedule", orch_winplan_json(&sp->windows)))
        return ORCH_ENOMEM;
    return 0;
}

/* Adds `plan --json`'s "plan" object to doc. 0 or ORCH_ENOMEM. */
static int add_plan(json_t *doc, const struct orch_summary_plan *sp,
                    const struct orch_params *first)
{
    const struct orch_config *cfg = sp->cfg;
    size_t dcalls = 0;
    double dsecs = 0;
    json_t *plan = NULL;
    int rc = 0;

    if (sp->device_cost)
        orch_preflight_device_cost(sp->plan, &dcalls, &dsecs);
    rc = orch_runjson_set_plan(doc, cfg->endpoint, cfg->signature_version,
                               cfg->chunk_size, sp->nitems, cfg->qps,
                               products_json(sp), dcalls, dsecs,
                               "CreateOTAStaticUpgradeJob", first);
    plan = json_object_get(doc, "plan");
    if (rc == 0 && sp->plan && sp->waves)
        rc = orch_jsonout_put(plan, "waves",
                              orch_waveplan_json(sp->plan, sp->waves))
                 ? ORCH_ENOMEM
                 : 0;
    if (rc == 0 && sp->inv && cfg->n_where)
        rc = orch_jsonout_put(plan, "where", where_json(sp)) ? ORCH_ENOMEM
                                                              : 0;
    if (rc == 0 && sp->windows.tz)
        rc = add_schedule(plan, sp);
    return rc;
}

json_t *orch_summary_doc(const struct orch_run_summary *s,
                         const struct orch_summary_plan *sp,
                         const struct orch_params *first,
                         const char *told)
{
    struct orch_run_summary with_reason = *s;
    char reason[2048];
    json_t *doc = NULL;

    exit_reason(s, sp == NULL, told, reason, sizeof(reason));
    with_reason.exit_reason = reason;
    doc = orch_runjson_summary(&with_reason);
    if (doc && sp && add_plan(doc, sp, first)) {
        json_decref(doc);
        doc = NULL;
    }
    return doc;
}
