/* waves.c - waves of a rollout: spec, split, gates, schedules, and the
 * queries a gate needs.
 *
 * DESIGN: the first half is pure (the spec parser, the split into whole
 * chunks, the gate's decision, the schedule and its 7-day horizon): unit
 * tests drive it with numbers. The second half sends paced query batches
 * through orch_query_run (ListOTATaskByJob pages folded by
 * orch_status_add_page, CancelOTATaskByJob with cancel.c's flags) and the
 * "<report>.waves.csv" sibling that lets `status` show per-wave counts
 * without a column in the report (whose header is fixed). Nothing here
 * prints or journals: run.c does, around each call.
 */
#include "orch/model/waves.h"

#include "orch/cloud/api.h"
#include "orch/commands/cancel.h"
#include "orch/model/config.h"
#include "orch/engine/dispatch.h"
#include "orch/base/err.h"
#include "orch/cloud/params.h"
#include "orch/model/plan.h"
#include "orch/engine/query.h"
#include "orch/rollout/report.h"
#include "orch/commands/status.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- spec -------------------------------------------------------------- */

/* A decimal number: digits with at most one '.', nothing else. */
static bool parse_decimal(const char *s, size_t n, double *out, bool *dot)
{
    char buf[32];
    size_t i = 0, digits = 0, dots = 0;
    char *end = NULL;

    if (n == 0 || n >= sizeof(buf))
        return false;
    for (i = 0; i < n; i++) {
        if (isdigit((unsigned char)s[i]))
            digits++;
        else if (s[i] == '.')
            dots++;
        else
            return false;
    }
    if (digits == 0 || dots > 1)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    *out = strtod(buf, &end);
    *dot = dots > 0;
    return errno == 0 && end == buf + n && isfinite(*out);
}

int orch_share_parse(const char *opt, const char *s, double *out,
                     struct orch_diag *diag)
{
    size_t n = strlen(s);
    bool pct = n > 0 && s[n - 1] == '%';
    bool dot = false;
    double v = 0;

    if (!parse_decimal(s, pct ? n - 1 : n, &v, &dot))
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "%s: \"%s\" is not a share such as 95%% or "
                             "0.95",
                             opt, s);
    if (pct)
        v /= 100.0;
    else if (v > 1.0)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "%s: %s is above 1; write a percentage with "
                             "%% (e.g. %s%%)",
                             opt, s, s);
    if (!(v > 0.0) || v > 1.0)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "%s: %s is not more than 0%% and at most 100%%",
                             opt, s);
    *out = v;
    return 0;
}

/* Element [s, s+n) trimmed of spaces. */
static void trim(const char **s, size_t *n)
{
    while (*n > 0 && isspace((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

static bool spec_has_fraction(const char *spec)
{
    const char *p = spec;

    /* A '.' in an element without '%' marks fractions ("0.01,0.1,1"). */
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);

        if (memchr(p, '.', n) && !memchr(p, '%', n))
            return true;
        p += n;
        if (*p == ',')
            p++;
    }
    return false;
}

static int parse_element(const char *s, size_t n, bool fractions,
                         struct orch_wave_target *t, struct orch_diag *diag)
{
    bool dot = false;
    double v = 0;

    snprintf(t->text, sizeof(t->text), "%.*s", (int)n, s);
    if (n == 3 && strncasecmp(s, "all", 3) == 0) {
        t->unit = ORCH_WAVE_ALL;
        return 0;
    }
    if (n > 0 && s[n - 1] == '%') {
        if (!parse_decimal(s, n - 1, &v, &dot) || !(v > 0) || v > 100)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--waves: \"%s\" is not a percentage more "
                                 "than 0%% and at most 100%%",
                                 t->text);
        t->unit = v >= 100 ? ORCH_WAVE_ALL : ORCH_WAVE_SHARE;
        t->share = v / 100.0;
        return 0;
    }
    if (!parse_decimal(s, n, &v, &dot))
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--waves: \"%s\" is not a share (10%%, 0.1), "
                             "a device count (200) or \"all\"",
                             t->text);
    if (fractions) {
        if (!(v > 0) || v > 1)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--waves: %s is not a share more than 0 "
                                 "and at most 1 (this spec writes shares as "
                                 "fractions; write device counts in a spec "
                                 "of their own, or shares as 10%%)",
                                 t->text);
        t->unit = v >= 1 ? ORCH_WAVE_ALL : ORCH_WAVE_SHARE;
        t->share = v;
        return 0;
    }
    if (v < 1 || v > 1e12)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--waves: %s is not a device count of at least "
                             "1",
                             t->text);
    t->unit = ORCH_WAVE_DEVICES;
    t->devices = (uint64_t)v;
    return 0;
}

int orch_waves_parse(const char *spec, struct orch_wave_spec *out,
                     struct orch_diag *diag)
{
    bool fractions = spec_has_fraction(spec);
    const char *p = spec;
    double last_share = 0;
    uint64_t last_devices = 0;
    size_t i = 0;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    for (;;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        const char *s = p;
        struct orch_wave_target *t = NULL;

        trim(&s, &n);
        if (n == 0)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--waves: \"%s\" has an empty wave (e.g. "
                                 "1%%,10%%,100%% or 200,5000,all)",
                                 spec);
        if (out->n == ORCH_WAVES_MAX)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--waves: more than %d waves", ORCH_WAVES_MAX);
        t = &out->t[out->n];
        rc = parse_element(s, n, fractions, t, diag);
        if (rc)
            return rc;
        if (out->n > 0 && out->t[out->n - 1].unit == ORCH_WAVE_ALL)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--waves: \"%s\" follows %s, which is "
                                 "already the whole rollout",
                                 t->text, out->t[out->n - 1].text);
        /* Targets are cumulative: each larger than the last of its kind
         * (counts against shares are compared once the plan is known). */
        if (t->unit == ORCH_WAVE_SHARE && t->share <= last_share)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--waves: %s is not more than an earlier "
                                 "wave (sizes are cumulative: 1%%,10%%,100%%)",
                                 t->text);
        if (t->unit == ORCH_WAVE_DEVICES && t->devices <= last_devices)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--waves: %s is not more than an earlier "
                                 "wave (sizes are cumulative: 200,5000,all)",
                                 t->text);
        if (t->unit == ORCH_WAVE_SHARE)
            last_share = t->share;
        if (t->unit == ORCH_WAVE_DEVICES)
            last_devices = t->devices;
        out->n++;
        if (e == NULL)
            break;
        p = e + 1;
    }
    /* The last wave must reach every device: a rollout that stops at 10%
     * would leave the rest of the inventory silently undone. */
    i = out->n - 1;
    if (out->t[i].unit == ORCH_WAVE_SHARE)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--waves: the last wave is %s; it must be the "
                             "whole rollout (100%%, 1 or all). To upgrade "
                             "fewer devices, give a smaller inventory",
                             out->t[i].text);
    return 0;
}

/* ---- split ------------------------------------------------------------- */

int orch_waves_split(const struct orch_wave_spec *spec,
                     const struct orch_chunk *chunks, size_t nchunks,
                     struct orch_wave_plan *out, struct orch_diag *diag)
{
    uint64_t total = 0, prev_target = 0, cum = 0;
    size_t i = 0, end = 0;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < nchunks; i++)
        total += chunks[i].count;
    if (nchunks == 0 || total == 0)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--waves: the plan has no devices");
    for (i = 0; i < spec->n; i++) {
        const struct orch_wave_target *t = &spec->t[i];
        uint64_t target = total;
        struct orch_wave *w = NULL;
        size_t first = end;

        if (t->unit == ORCH_WAVE_SHARE)
            target = (uint64_t)ceil((double)total * t->share - 1e-9);
        else if (t->unit == ORCH_WAVE_DEVICES)
            target = t->devices < total ? t->devices : total;
        if (target == 0)
            target = 1;
        if (target < prev_target)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--waves: %s is %llu devices, fewer than "
                                 "the wave before it (%llu): sizes are "
                                 "cumulative",
                                 t->text, (unsigned long long)target,
                                 (unsigned long long)prev_target);
        prev_target = target;
        while (end < nchunks && cum < target)
            cum += chunks[end++].count;
        if (end == first) {
            out->merged++;
            continue;
        }
        w = &out->w[out->n++];
        w->first = first;
        w->end = end;
        w->cumulative = cum;
        w->devices = cum - (out->n > 1 ? out->w[out->n - 2].cumulative : 0);
        w->schedule_ms = -1;
        w->finish_ms = -1;
    }
    if (end < nchunks)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--waves: the last wave (%s) covers %llu of the "
                             "plan's %llu devices; end the spec with all",
                             spec->t[spec->n - 1].text,
                             (unsigned long long)cum,
                             (unsigned long long)total);
    return 0;
}

size_t orch_waves_of_chunk(const struct orch_wave_plan *plan, size_t chunk)
{
    size_t k = 0;

    for (k = 0; k < plan->n; k++) {
        if (chunk >= plan->w[k].first && chunk < plan->w[k].end)
            return k;
    }
    return plan->n;
}

/* ---- schedule ---------------------------------------------------------- */

void orch_waves_schedule(struct orch_wave_plan *plan, int64_t first_ms,
                         int64_t finish_ms, int64_t interval_ms,
                         int64_t start_ms)
{
    int64_t base = first_ms >= 0 ? first_ms : start_ms;
    size_t k = 0;

    for (k = 0; k < plan->n; k++) {
        struct orch_wave *w = &plan->w[k];

        /* Without an interval (gated waves) only wave 1 is scheduled: a
         * later wave is created when the gate before it passes, and starts
         * then. */
        if (k == 0)
            w->schedule_ms = first_ms;
        else if (interval_ms > 0)
            w->schedule_ms = base + (int64_t)k * interval_ms;
        else
            w->schedule_ms = -1;
        w->finish_ms = -1;
        if (finish_ms >= 0 && w->schedule_ms >= 0 && first_ms >= 0)
            w->finish_ms = finish_ms + (w->schedule_ms - first_ms);
    }
}

enum orch_wave_when orch_waves_when(const struct orch_wave *w, int64_t now_ms,
                                    int64_t *creatable_ms)
{
    int64_t latest = now_ms + ORCH_SCHEDULE_MAX_MS - ORCH_SCHEDULE_MARGIN_MS;

    if (creatable_ms)
        *creatable_ms = now_ms;
    if (w->schedule_ms < 0)
        return ORCH_WAVE_NOW;
    if (w->schedule_ms < now_ms + ORCH_SCHEDULE_MIN_MS)
        return ORCH_WAVE_OVERDUE;
    if (w->schedule_ms > latest) {
        if (creatable_ms)
            *creatable_ms = w->schedule_ms - ORCH_SCHEDULE_MAX_MS +
                            ORCH_SCHEDULE_MARGIN_MS;
        return ORCH_WAVE_LATER;
    }
    return ORCH_WAVE_NOW;
}

/* ---- gates ------------------------------------------------------------- */

const char *orch_gate_decision_name(enum orch_gate_decision d)
{
    switch (d) {
    case ORCH_GATE_PASS:
        return "pass";
    case ORCH_GATE_FAIL:
        return "fail";
    case ORCH_GATE_TIMEOUT:
        return "timeout";
    case ORCH_GATE_WAIT:
    default:
        return "wait";
    }
}

int64_t orch_gate_elapsed(int64_t watched_ms, int64_t wall_at_start_ms,
                          int64_t schedule_ms)
{
    int64_t before = 0;

    if (schedule_ms >= 0 && schedule_ms > wall_at_start_ms)
        before = schedule_ms - wall_at_start_ms;
    return watched_ms - before;
}

static double pct(uint64_t n, uint64_t of)
{
    return of ? 100.0 * (double)n / (double)of : 0.0;
}

enum orch_gate_decision orch_gate_decide(const struct orch_gate *g,
                                         const struct orch_gate_counts *c,
                                         int64_t elapsed_ms, char *why,
                                         size_t whysz)
{
    uint64_t total = c->tasks > c->expected ? c->tasks : c->expected;
    uint64_t ended = c->succeeded + c->failed + c->canceled;
    uint64_t open = total > ended ? total - ended : 0;
    uint64_t need = g->min_decided < total ? g->min_decided : total;
    /* 1e-9: 0.95 * 20 must be 19, not 19.000000000000004. */
    double to_pass = g->success * (double)total - 1e-9;
    char dummy[8];

    if (why == NULL) {
        why = dummy;
        whysz = sizeof(dummy);
    }
    if (total == 0) {
        snprintf(why, whysz, "no task to watch");
        return ORCH_GATE_PASS;
    }
    if (g->failure > 0 && ended > 0 && ended >= need &&
        (double)c->failed >= g->failure * (double)ended - 1e-9) {
        snprintf(why, whysz,
                 "%llu of %llu ended tasks FAILED (%.1f%%, failure threshold "
                 "%g%%)",
                 (unsigned long long)c->failed, (unsigned long long)ended,
                 pct(c->failed, ended), g->failure * 100.0);
        return ORCH_GATE_FAIL;
    }
    if ((double)c->succeeded >= to_pass) {
        snprintf(why, whysz,
                 "%llu of %llu tasks SUCCEEDED (%.1f%%, success threshold "
                 "%g%%)",
                 (unsigned long long)c->succeeded, (unsigned long long)total,
                 pct(c->succeeded, total), g->success * 100.0);
        return ORCH_GATE_PASS;
    }
    if ((double)(c->succeeded + open) < to_pass) {
        snprintf(why, whysz,
                 "%llu of %llu tasks ended unsuccessfully (%llu FAILED, %llu "
                 "CANCELED): the success threshold of %g%% can no longer be "
                 "reached",
                 (unsigned long long)(c->failed + c->canceled),
                 (unsigned long long)total, (unsigned long long)c->failed,
                 (unsigned long long)c->canceled, g->success * 100.0);
        return ORCH_GATE_FAIL;
    }
    if (elapsed_ms >= g->timeout_ms) {
        snprintf(why, whysz,
                 "after %lld s: %llu of %llu SUCCEEDED (%.1f%%, threshold "
                 "%g%%), %llu FAILED, %llu still pending",
                 (long long)(elapsed_ms / 1000),
                 (unsigned long long)c->succeeded, (unsigned long long)total,
                 pct(c->succeeded, total), g->success * 100.0,
                 (unsigned long long)c->failed, (unsigned long long)open);
        return ORCH_GATE_TIMEOUT;
    }
    snprintf(why, whysz, "%llu of %llu SUCCEEDED, %llu FAILED, %llu pending",
             (unsigned long long)c->succeeded, (unsigned long long)total,
             (unsigned long long)c->failed, (unsigned long long)open);
    return ORCH_GATE_WAIT;
}

/* ---- queries ----------------------------------------------------------- */

struct poll_item {
    size_t job;
    unsigned page;
};

struct poll_ctx {
    const struct orch_config *cfg;
    struct orch_rollout_job *jobs;
    struct orch_status_agg agg;
    struct poll_item *items;
    size_t nitems;
};

static int build_page(void *ud, size_t item, struct orch_params *out)
{
    struct poll_ctx *p = ud;
    const struct poll_item *it = &p->items[item];

    return orch_query_task_page_params(out, p->cfg, p->jobs[it->job].job_id,
                                       ORCH_STATUS_PAGE_SIZE, it->page);
}

static void page_done(void *ud, size_t item, const struct orch_item_result *res)
{
    struct poll_ctx *p = ud;
    struct orch_rollout_job *j = &p->jobs[p->items[item].job];

    if (res->status != ORCH_ITEM_CREATED || res->resp == NULL ||
        res->resp->root == NULL ||
        orch_status_add_page(&p->agg, j, res->resp->root, NULL, NULL) != 0)
        j->query_failed = true;
}

static int run_pages(struct poll_ctx *p, const struct orch_credentials *cred,
                     volatile sig_atomic_t *interrupt, struct orch_diag *diag)
{
    struct orch_query_batch b;
    struct orch_dispatch_stats st;
    int rc = 0;

    if (p->nitems == 0)
        return 0;
    memset(&b, 0, sizeof(b));
    memset(&st, 0, sizeof(st));
    b.action = "ListOTATaskByJob";
    b.qps = p->cfg->query_qps;
    b.nitems = p->nitems;
    b.build = build_page;
    b.done = page_done;
    b.ud = p;
    rc = orch_query_run(p->cfg, cred, &b, interrupt, &st, diag);
    if (rc)
        return rc;
    if (st.aborted || (interrupt && *interrupt))
        return orch_diag_set(diag, ORCH_EABORT, "%s",
                             st.abort_reason[0] ? st.abort_reason
                                                : "interrupted");
    return 0;
}

int orch_waves_poll(const struct orch_config *cfg,
                    const struct orch_credentials *cred,
                    const char *const *job_ids, size_t n,
                    struct orch_gate_counts *c, size_t *failed_jobs,
                    volatile sig_atomic_t *interrupt, struct orch_diag *diag)
{
    struct poll_ctx p;
    size_t i = 0, cap = n ? n : 1;
    unsigned pg = 0;
    int rc = 0;

    memset(&p, 0, sizeof(p));
    memset(c, 0, sizeof(*c));
    *failed_jobs = 0;
    p.cfg = cfg;
    orch_status_agg_init(&p.agg);
    p.jobs = calloc(cap, sizeof(*p.jobs));
    p.items = calloc(cap, sizeof(*p.items));
    if (p.jobs == NULL || p.items == NULL) {
        rc = orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < n; i++) {
        /* Borrowed: these jobs are never passed to orch_rollout_cleanup. */
        p.jobs[i].job_id = (char *)job_ids[i];
        p.items[i].job = i;
        p.items[i].page = 1;
    }
    p.nitems = n;
    rc = run_pages(&p, cred, interrupt, diag);
    if (rc)
        goto out;
    /* Every further page of every job, in one more batch. */
    p.nitems = 0;
    for (i = 0; i < n; i++) {
        unsigned pages = p.jobs[i].query_failed ? 0 : p.jobs[i].pages;

        if (pages > ORCH_STATUS_MAX_PAGES)
            pages = ORCH_STATUS_MAX_PAGES;
        for (pg = 2; pg <= pages; pg++) {
            if (p.nitems == cap) {
                struct poll_item *grown =
                    realloc(p.items, cap * 2 * sizeof(*grown));

                if (grown == NULL) {
                    rc = orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
                    goto out;
                }
                p.items = grown;
                cap *= 2;
            }
            p.items[p.nitems].job = i;
            p.items[p.nitems].page = pg;
            p.nitems++;
        }
    }
    rc = run_pages(&p, cred, interrupt, diag);
    if (rc)
        goto out;
    for (i = 0; i < n; i++) {
        const uint64_t *k = p.jobs[i].counts;

        if (p.jobs[i].query_failed)
            (*failed_jobs)++;
        c->tasks += p.jobs[i].listed;
        c->succeeded += k[ORCH_TASK_SUCCEEDED];
        c->failed += k[ORCH_TASK_FAILED];
        c->canceled += k[ORCH_TASK_CANCELED];
        c->pending += k[ORCH_TASK_QUEUED] + k[ORCH_TASK_NOTIFIED] +
                      k[ORCH_TASK_IN_PROGRESS] + k[ORCH_TASK_CONFIRM];
    }
out:
    orch_status_agg_cleanup(&p.agg);
    free(p.items);
    free(p.jobs);
    return rc;
}

struct cancel_ctx {
    const struct orch_config *cfg;
    const char *const *job_ids;
    size_t cancelled, failed;
};

static int build_cancel(void *ud, size_t item, struct orch_params *out)
{
    struct cancel_ctx *c = ud;
    int rc = orch_query_job_params(out, c->cfg, c->job_ids[item]);

    if (rc == 0)
        rc = orch_cancel_flags_params(out, false);
    return rc;
}

static void cancel_done(void *ud, size_t item,
                        const struct orch_item_result *res)
{
    struct cancel_ctx *c = ud;

    (void)item;
    if (res->status == ORCH_ITEM_CREATED ||
        orch_cancel_code_is_done(res->error_code))
        c->cancelled++;
    else
        c->failed++;
}

int orch_waves_cancel(const struct orch_config *cfg,
                      const struct orch_credentials *cred,
                      const char *const *job_ids, size_t n, size_t *cancelled,
                      size_t *failed, volatile sig_atomic_t *interrupt,
                      struct orch_diag *diag)
{
    struct cancel_ctx c;
    struct orch_query_batch b;
    struct orch_dispatch_stats st;
    int rc = 0;

    memset(&c, 0, sizeof(c));
    memset(&b, 0, sizeof(b));
    memset(&st, 0, sizeof(st));
    c.cfg = cfg;
    c.job_ids = job_ids;
    *cancelled = *failed = 0;
    if (n == 0)
        return 0;
    b.action = "CancelOTATaskByJob";
    b.qps = ORCH_CANCEL_QPS;
    b.nitems = n;
    b.build = build_cancel;
    b.done = cancel_done;
    b.ud = &c;
    b.label = "jobs cancelled";
    rc = orch_query_run(cfg, cred, &b, interrupt, &st, diag);
    *cancelled = c.cancelled;
    *failed = c.failed + (n - c.cancelled - c.failed);
    if (rc == 0 && st.aborted)
        rc = orch_diag_set(diag, ORCH_EABORT, "%s",
                           st.abort_reason[0] ? st.abort_reason : "aborted");
    return rc;
}

/* ---- the waves file ---------------------------------------------------- */

int orch_waves_write_map(const char *report_path,
                         const struct orch_wave_plan *plan,
                         struct orch_diag *diag)
{
    char *path = orch_report_sibling(report_path, ORCH_WAVES_FILE_SUFFIX);
    struct orch_csv_out o;
    char chunk[24], wave[24];
    const char *cells[2] = {chunk, wave};
    size_t k = 0, i = 0;
    int rc = 0;

    memset(&o, 0, sizeof(o));
    if (path == NULL)
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    rc = orch_csv_out_open(&o, path, ORCH_WAVES_FILE_HEADER, diag);
    for (k = 0; rc == 0 && k < plan->n; k++) {
        for (i = plan->w[k].first; rc == 0 && i < plan->w[k].end; i++) {
            snprintf(chunk, sizeof(chunk), "%zu", i + 1);
            snprintf(wave, sizeof(wave), "%zu", k + 1);
            rc = orch_csv_out_row(&o, cells, 2);
        }
    }
    if (orch_csv_out_close(&o) != 0 && rc == 0)
        rc = ORCH_EIO;
    if (rc && diag->msg[0] == '\0')
        orch_diag_set(diag, rc, "%s: write failed", path);
    free(path);
    return rc;
}

int orch_waves_read_map(const char *report_path, unsigned **waves_of,
                        size_t *n, struct orch_diag *diag)
{
    char *path = orch_report_sibling(report_path, ORCH_WAVES_FILE_SUFFIX);
    FILE *fp = NULL;
    char line[128];
    unsigned *map = NULL;
    size_t cap = 0, lineno = 0;
    int rc = 0;

    *waves_of = NULL;
    *n = 0;
    if (path == NULL)
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    fp = fopen(path, "r");
    if (fp == NULL) {
        free(path);
        return 0;
    }
    while (fgets(line, sizeof(line), fp)) {
        unsigned long chunk = 0, wave = 0;
        char extra = 0;

        lineno++;
        if (lineno == 1) {
            if (strncmp(line, ORCH_WAVES_FILE_HEADER,
                        strlen(ORCH_WAVES_FILE_HEADER)) != 0) {
                rc = orch_diag_set(diag, ORCH_ECSV,
                                   "%s:1: header is not \"%s\"", path,
                                   ORCH_WAVES_FILE_HEADER);
                break;
            }
            continue;
        }
        if (sscanf(line, "%lu,%lu%c", &chunk, &wave, &extra) < 2 ||
            (extra && extra != '\n' && extra != '\r') || chunk == 0 ||
            chunk > 100000000UL || wave == 0 || wave > ORCH_WAVES_MAX) {
            rc = orch_diag_set(diag, ORCH_ECSV, "%s:%zu: not \"chunk,wave\"",
                               path, lineno);
            break;
        }
        if (chunk > cap) {
            size_t ncap = cap ? cap : 64;
            unsigned *grown = NULL;

            while (ncap < chunk)
                ncap *= 2;
            grown = realloc(map, ncap * sizeof(*grown));
            if (grown == NULL) {
                rc = orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
                break;
            }
            memset(grown + cap, 0, (ncap - cap) * sizeof(*grown));
            map = grown;
            cap = ncap;
        }
        map[chunk - 1] = (unsigned)wave;
        if (chunk > *n)
            *n = chunk;
    }
    fclose(fp);
    free(path);
    if (rc) {
        free(map);
        *n = 0;
        return rc;
    }
    *waves_of = map;
    return 0;
}
