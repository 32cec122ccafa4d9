/* waverun.c - a waved rollout: create, watch, decide, abort or pause.
 *
 * DESIGN: one loop over the waves (waverun.h says what each mode does).
 * Everything the decision needs is pure (waves.c); this file adds the
 * clock, the sleeping between polls, the journal records and the words
 * the operator reads. Records (journal.h framing, resume.h reads them):
 *   {"t":"wave","wave":K,"event":"start","time":MS[,"base":MS]
 *    [,"schedule":MS]}
 *   {"t":"wave","wave":K,"event":"gate","decision":"pass|fail|timeout",
 *    "tasks":N,"succeeded":N,"failed":N,"canceled":N,"pending":N,
 *    "no_task":N,"why":TEXT,"success_threshold":X,"failure_threshold":X,
 *    "min_decided":N,"timeout_s":N,"time":MS}
 *   {"t":"wave","wave":K,"event":"paused","reason":"timeout|interrupted|
 *    horizon","time":MS[,"creatable":MS]}
 *   {"t":"wave","wave":K,"event":"aborted","cancelled":N,
 *    "cancel_failed":N,"time":MS}
 *   {"t":"wave","wave":K,"event":"override","time":MS}
 * Ctrl-C (interrupt.h) while watching ends the watch and leaves the run
 * paused; the nap between polls wakes every 100 ms to look at the level.
 * Error lines go through the host's reason (reason.h): the last one is
 * the run's exit reason.
 */
#include "orch/commands/waverun.h"

#include "orch/model/config.h"
#include "orch/base/err.h"
#include "orch/base/exitcode.h"
#include "orch/base/interrupt.h"
#include "orch/base/msgs.h"
#include "orch/commands/reason.h"
#include "orch/rollout/progress.h"
#include "orch/rollout/resume.h"
#include "orch/base/clock.h"
#include "orch/model/waves.h"
#include "orch/rollout/gate.h"
#include "orch/rollout/wavequery.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void orch_waverun_format_time(char *out, size_t outsz, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm u, l;
    char a[32], b[48];

    if (gmtime_r(&t, &u) == NULL || localtime_r(&t, &l) == NULL) {
        snprintf(out, outsz, "%" PRId64, ms);
        return;
    }
    strftime(a, sizeof(a), "%Y-%m-%d %H:%M:%S", &u);
    strftime(b, sizeof(b), "%Y-%m-%d %H:%M:%S %z", &l);
    snprintf(out, outsz, "%s UTC (%s local)", a, b);
}

/* One wave of the plan: its chunks, devices and ScheduleTime. */
static void print_wave(FILE *fp, const struct orch_config *cfg,
                       const struct orch_wave *w, size_t k)
{
    int64_t sched = w->schedule_ms, fin = w->finish_ms;
    char when[128];

    /* Gated waves: the plan's schedule is set when the waves run; only
     * wave 1 has one (--schedule-time). */
    if (cfg->wave_interval_ms <= 0) {
        sched = k == 0 ? cfg->schedule_time_ms : -1;
        fin = k == 0 ? cfg->schedule_finish_time_ms : -1;
    }
    fprintf(fp, "  wave %zu%s: chunks %zu-%zu, %" PRIu64
                " devices (%" PRIu64 " in all so far)",
            k + 1, k == 0 ? " (canary)" : "", w->first + 1, w->end,
            w->devices, w->cumulative);
    if (sched >= 0) {
        orch_waverun_format_time(when, sizeof(when), sched);
        fprintf(fp, ", starts %s", when);
    } else if (cfg->wave_interval_ms > 0) {
        fprintf(fp, ", starts when created");
    }
    fputc('\n', fp);
    if (fin >= 0) {
        orch_waverun_format_time(when, sizeof(when), fin);
        fprintf(fp, "      finishes by %s\n", when);
    }
}

/* The gate of gated waves. */
static void print_gate(FILE *fp, const struct orch_config *cfg)
{
    fprintf(fp,
            "gate: next wave at %g%% SUCCEEDED; abort %s; pause "
            "after %ld s without a decision%s%s\n",
            cfg->success_threshold * 100.0,
            cfg->failure_threshold > 0
                ? "at the failure threshold or when success is out "
                  "of reach"
                : "when success is out of reach",
            cfg->wave_timeout_ms / 1000,
            cfg->schedule_time_ms >= 0
                ? " (wave 1's counted from its ScheduleTime)"
                : "",
            cfg->wait ? "; the last wave's gate is watched too" : "");
    if (cfg->failure_threshold > 0)
        fprintf(fp, "  failure threshold: %g%% FAILED of at least %d "
                    "ended tasks\n",
                cfg->failure_threshold * 100.0, cfg->min_decided);
}

void orch_waverun_print_plan(FILE *fp, const struct orch_config *cfg,
                             const struct orch_wave_plan *plan)
{
    size_t k = 0;

    fprintf(fp, "waves: %zu (%s%s%s)\n", plan->n,
            cfg->waves ? "" : "--wave-column ",
            cfg->waves ? cfg->waves : cfg->wave_column,
            cfg->wave_interval_ms > 0 ? ", scheduled, no gates"
                                      : ", each after its gate");
    if (plan->merged)
        fprintf(fp,
                "  (%zu wave%s of the spec rounded to the chunks of the "
                "wave before and %s merged into it)\n",
                plan->merged, plan->merged == 1 ? "" : "s",
                plan->merged == 1 ? "was" : "were");
    for (k = 0; k < plan->n; k++)
        print_wave(fp, cfg, &plan->w[k], k);
    if (cfg->wave_interval_ms <= 0)
        print_gate(fp, cfg);
}

/* ---- journal ------------------------------------------------------------ */

static int record(const struct orch_waverun_host *h, size_t k,
                  const char *event, json_t *extra)
{
    json_t *rec = json_pack("{s:s, s:I, s:s, s:I}", "t", "wave", "wave",
                            (json_int_t)(k + 1), "event", event, "time",
                            (json_int_t)orch_wall_ms());
    int rc = 0;

    if (rec && extra)
        json_object_update(rec, extra);
    json_decref(extra);
    if (rec == NULL)
        return ORCH_ENOMEM;
    rc = h->journal(h->ud, rec);
    if (rc)
        orch_reason_errorf(h->why, "cannot write the journal: %s",
                           orch_strerror(rc));
    return rc;
}

/* ---- watching ----------------------------------------------------------- */

/* Sleeps ms (on the monotonic clock, so that a nap of hours until a
 * ScheduleTime does not drift), waking every 100 ms to look at the
 * interrupt level. */
static void nap(int64_t ms)
{
    uint64_t end = orch_mono_ms() + (uint64_t)(ms > 0 ? ms : 0);

    while (!orch_interrupt_level()) {
        uint64_t now = orch_mono_ms();
        struct timespec ts = {0, 100 * 1000000L};

        if (now >= end)
            break;
        if (end - now < 100)
            ts.tv_nsec = (long)(end - now) * 1000000L;
        nanosleep(&ts, NULL);
    }
}

/* The created jobs of chunks [first, end) (borrowed ids), the devices
 * of each (*devs, may be NULL: not wanted) and their sum. *ids and *devs
 * are malloced. */
static int created_jobs(const struct orch_waverun_host *h, size_t first,
                        size_t end, const char ***ids, uint32_t **devs,
                        size_t *n, uint64_t *devices)
{
    size_t i = 0, cap = end > first ? end - first : 1;

    *n = 0;
    *devices = 0;
    *ids = calloc(cap, sizeof(**ids));
    if (devs)
        *devs = calloc(cap, sizeof(**devs));
    if (*ids == NULL || (devs && *devs == NULL)) {
        free(*ids);
        *ids = NULL;
        if (devs) {
            free(*devs);
            *devs = NULL;
        }
        return ORCH_ENOMEM;
    }
    for (i = first; i < end; i++) {
        const char *id = h->job_id(h->ud, i);

        if (id && *id) {
            uint32_t d = h->devices(h->ud, i);

            if (devs)
                (*devs)[*n] = d;
            (*ids)[(*n)++] = id;
            *devices += d;
        }
    }
    return 0;
}

/* One watch: the jobs, what it decides with, and what it has shown. */
struct watch {
    const struct orch_waverun_host *h;
    const char *label;
    const struct orch_gate *gate;  /* NULL: every task ended */
    const char **ids;              /* the jobs (malloced, borrowed ids) */
    uint32_t *devs;                /* their devices (malloced) */
    size_t n;
    uint64_t expected;             /* devices of those jobs */
    uint64_t t0;                   /* monotonic start */
    int64_t wall0, schedule_ms;
    struct orch_wavequery_memo memo; /* what the polls know */
    char shown[512];               /* the last line shown */
    bool any_shown;
    uint64_t shown_ms;
};

/* Nothing can happen to tasks that have not started, and hours of polls
 * would only spend the query quota: sleeps until the ScheduleTime.
 * Returns false when interrupted. */
static bool wait_for_schedule(const struct watch *wt)
{
    char when[128];

    if (wt->schedule_ms <= wt->wall0)
        return true;
    orch_waverun_format_time(when, sizeof(when), wt->schedule_ms);
    fprintf(wt->h->out, "%s: its tasks start at %s; watching (and "
                        "--wave-timeout) from then\n",
            wt->label, when);
    fflush(wt->h->out);
    nap(wt->schedule_ms - wt->wall0);
    return !orch_interrupt_level();
}

/* The tasks a watch judges: the larger of the tasks listed and the
 * devices of its jobs less those the API made no task for (gate.h). */
static uint64_t judged_total(const struct orch_gate_counts *c)
{
    uint64_t judged = c->expected > c->no_task ? c->expected - c->no_task : 0;

    return c->tasks > judged ? c->tasks : judged;
}

/* Without a gate: passed once every task ended and every job was
 * listed; devices without a task (the API is done with their job) are
 * decided. */
static enum orch_gate_decision all_ended(const struct orch_gate_counts *c,
                                         size_t failed_jobs, char *why,
                                         size_t whysz)
{
    uint64_t total = judged_total(c);
    uint64_t ended = c->succeeded + c->failed + c->canceled;
    int n = snprintf(why, whysz,
                     "%" PRIu64 " of %" PRIu64 " SUCCEEDED, %" PRIu64
                     " FAILED, %" PRIu64 " CANCELED, %" PRIu64 " pending",
                     c->succeeded, total, c->failed, c->canceled,
                     total > ended ? total - ended : 0);

    if (c->no_task > 0 && n > 0 && (size_t)n < whysz)
        snprintf(why + n, whysz - (size_t)n,
                 "; %" PRIu64 " device%s without a task (decided: the API "
                 "made none)",
                 c->no_task, c->no_task == 1 ? "" : "s");
    return ended >= total && failed_jobs == 0 ? ORCH_GATE_PASS
                                              : ORCH_GATE_WAIT;
}

/* Shows the gate's line when it decided, when it changed, or as a
 * heartbeat: a log of a long gate is not the same line at every poll. */
static void show(struct watch *wt, enum orch_gate_decision d,
                 const char *why, int64_t elapsed)
{
    if (d == ORCH_GATE_WAIT &&
        !orch_progress_repeat_due(wt->any_shown ? wt->shown : NULL, why,
                                  orch_mono_ms() - wt->shown_ms))
        return;
    fprintf(wt->h->out, "%s: %s (%" PRId64 " s)\n", wt->label, why,
            elapsed > 0 ? elapsed / 1000 : 0);
    fflush(wt->h->out);
    snprintf(wt->shown, sizeof(wt->shown), "%s", why);
    wt->shown_ms = orch_mono_ms();
    wt->any_shown = true;
}

/* One poll of the jobs and the decision on it. Returns 0, or an exit code
 * when the watch stops (interrupted, or the poll failed). */
static int poll_once(struct watch *wt, enum orch_gate_decision *d,
                     struct orch_gate_counts *c, char *why, size_t whysz)
{
    const struct orch_waverun_host *h = wt->h;
    struct orch_diag diag = {{0}};
    size_t failed_jobs = 0;
    int64_t elapsed = orch_gate_elapsed((int64_t)(orch_mono_ms() - wt->t0),
                                        wt->wall0, wt->schedule_ms);
    int rc = orch_wavequery_counts(h->cfg, h->cred, &wt->memo, c,
                             &failed_jobs, orch_interrupt_counter(), &diag);

    if (rc && orch_interrupt_level())
        return ORCH_EXIT_ABORTED;
    if (rc) {
        orch_reason_errorf(h->why, "%s: watching stopped: %s", wt->label,
                           orch_diag_text(rc, &diag));
        return ORCH_EXIT_ABORTED;
    }
    if (failed_jobs)
        orch_warnf("%s: %zu job%s could not be listed this time; "
                   "their tasks count as pending",
                   wt->label, failed_jobs, failed_jobs == 1 ? "" : "s");
    c->expected = wt->expected;
    if (wt->gate)
        *d = orch_gate_decide(wt->gate, c, elapsed, why, whysz);
    else
        *d = all_ended(c, failed_jobs, why, whysz);
    show(wt, *d, why, elapsed);
    return 0;
}

/* Watches the jobs of chunks [first, end) until the gate (NULL: every task
 * ended) decides. schedule_ms is the wave's ScheduleTime (-1: none): the
 * watch sleeps until then and the gate's timeout counts from it
 * (orch_gate_elapsed). Returns 0 with *d and *c set, or an exit code. */
static int watch(const struct orch_waverun_host *h, const char *label,
                 size_t first, size_t end, int64_t schedule_ms,
                 const struct orch_gate *gate, enum orch_gate_decision *d,
                 struct orch_gate_counts *c, char *why, size_t whysz)
{
    struct watch wt;
    int code = 0;

    memset(&wt, 0, sizeof(wt));
    wt.h = h;
    wt.label = label;
    wt.gate = gate;
    wt.t0 = orch_mono_ms();
    wt.wall0 = orch_wall_ms();
    wt.schedule_ms = schedule_ms;
    *d = ORCH_GATE_WAIT;
    if (created_jobs(h, first, end, &wt.ids, &wt.devs, &wt.n,
                     &wt.expected) ||
        orch_wavequery_memo_init(&wt.memo, wt.ids, wt.devs, wt.n)) {
        free(wt.ids);
        free(wt.devs);
        orch_reason_errorf(h->why, "out of memory");
        return ORCH_EXIT_USAGE;
    }
    if (!wait_for_schedule(&wt)) {
        orch_wavequery_memo_cleanup(&wt.memo);
        free(wt.ids);
        free(wt.devs);
        return ORCH_EXIT_ABORTED;
    }
    fprintf(h->out, "%s: watching %zu job%s (%" PRIu64 " devices), every "
                    "%ld s\n",
            label, wt.n, wt.n == 1 ? "" : "s", wt.expected,
            h->cfg->poll_interval_ms / 1000);
    for (;;) {
        code = poll_once(&wt, d, c, why, whysz);
        if (code || *d != ORCH_GATE_WAIT)
            break;
        nap(h->cfg->poll_interval_ms);
        if (orch_interrupt_level()) {
            code = ORCH_EXIT_ABORTED;
            break;
        }
    }
    orch_wavequery_memo_cleanup(&wt.memo);
    free(wt.ids);
    free(wt.devs);
    return code;
}

/* A watch of its own: the level starts again at 0 (the calls before it
 * ended uninterrupted), and the handler is installed around it (nested
 * in orch_waverun's). */
static int watch_fresh(const struct orch_waverun_host *h, const char *label,
                       size_t first, size_t end, int64_t schedule_ms,
                       const struct orch_gate *gate,
                       enum orch_gate_decision *d, struct orch_gate_counts *c,
                       char *why, size_t whysz)
{
    int code = 0;

    memset(c, 0, sizeof(*c));
    why[0] = '\0';
    orch_interrupt_install(1);
    code = watch(h, label, first, end, schedule_ms, gate, d, c, why, whysz);
    orch_interrupt_uninstall();
    return code;
}

/* The gate failed: cancel what has not started in every job created so
 * far (chunks [0, end)). Returns ORCH_EXIT_GATE. */
static int abort_rollout(const struct orch_waverun_host *h, size_t k,
                         size_t end, const char *why)
{
    const char **ids = NULL;
    size_t n = 0, cancelled = 0, failed = 0;
    uint64_t devices = 0;
    struct orch_diag diag = {{0}};
    int rc = 0;

    orch_reason_errorf(h->why, "wave %zu's health gate failed: %s", k + 1,
                       why);
    if (created_jobs(h, 0, end, &ids, NULL, &n, &devices)) {
        orch_reason_errorf(h->why, "out of memory");
        return ORCH_EXIT_GATE;
    }
    fprintf(h->out,
            "aborting the rollout: cancelling the tasks that have not "
            "started (queued, notified, scheduled) in %zu job%s, at most "
            "5 calls/s; tasks already in progress finish\n",
            n, n == 1 ? "" : "s");
    rc = orch_wavequery_cancel(h->cfg, h->cred, ids, n, &cancelled, &failed,
                           orch_interrupt_counter(), &diag);
    if (rc)
        orch_reason_errorf(h->why, "cancelling stopped: %s",
                           orch_diag_text(rc, &diag));
    fprintf(h->out, "cancelled: %zu job%s", cancelled,
            cancelled == 1 ? "" : "s");
    if (failed)
        fprintf(h->out, ", %zu could not be cancelled (run `ota-rollout "
                        "cancel %s`)",
                failed, h->cfg->report_path);
    fputc('\n', h->out);
    record(h, k, "aborted",
           json_pack("{s:I, s:I, s:s}", "cancelled", (json_int_t)cancelled,
                     "cancel_failed", (json_int_t)failed, "why", why));
    orch_reason_errorf(h->why,
                       "rollout aborted by wave %zu's health gate; later "
                       "waves were not created. See `ota-rollout status "
                       "%s`. To go on anyway, `ota-rollout resume %s "
                       "--force` overrides the gate",
                       k + 1, h->cfg->report_path, h->cfg->report_path);
    free(ids);
    return ORCH_EXIT_GATE;
}

/* The gate record's fields: the decision, its counts (tasks judged,
 * devices without a task) and the thresholds it was decided with. */
static json_t *gate_record(const struct orch_gate *g,
                           enum orch_gate_decision d,
                           const struct orch_gate_counts *c, const char *why)
{
    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:f, s:f, "
                     "s:I, s:I}",
                     "decision", orch_gate_decision_name(d), "tasks",
                     (json_int_t)judged_total(c), "succeeded",
                     (json_int_t)c->succeeded, "failed", (json_int_t)c->failed,
                     "canceled", (json_int_t)c->canceled, "pending",
                     (json_int_t)c->pending, "no_task", (json_int_t)c->no_task,
                     "why", why, "success_threshold", g->success,
                     "failure_threshold", g->failure, "min_decided",
                     (json_int_t)g->min_decided, "timeout_s",
                     (json_int_t)(g->timeout_ms / 1000));
}

static void say_paused(const struct orch_waverun_host *h, const char *what)
{
    orch_reason_errorf(h->why,
                       "%s; the rollout is paused. Look at it with "
                       "`ota-rollout status %s`, then continue with "
                       "`ota-rollout resume %s` (it asks; --yes for "
                       "scripts); a longer --wave-timeout may be given then",
                       what, h->cfg->report_path, h->cfg->report_path);
}

/* ---- gated waves -------------------------------------------------------- */

static void gate_from_config(const struct orch_config *cfg,
                             struct orch_gate *gate)
{
    gate->success = cfg->success_threshold;
    gate->failure = cfg->failure_threshold;
    gate->min_decided = (uint64_t)cfg->min_decided;
    gate->timeout_ms = cfg->wave_timeout_ms;
}

/* A resume after a gate abort: refused without --force; with it, the
 * failed gate is overridden (journaled) and counts as passed. Returns 0
 * to go on, or an exit code. */
static int after_abort(const struct orch_waverun_host *h, uint64_t *passed)
{
    const json_t *last = h->rs ? h->rs->last_wave : NULL;
    const char *ev = json_string_value(json_object_get(last, "event"));
    const char *why = json_string_value(json_object_get(last, "why"));
    json_int_t w = json_integer_value(json_object_get(last, "wave"));

    if (ev == NULL || strcmp(ev, "aborted") != 0)
        return 0;
    if (!h->cfg->force) {
        orch_reason_errorf(h->why,
                           "this rollout was aborted by wave %"
                           JSON_INTEGER_FORMAT "'s health gate (%s). "
                           "Resuming would go on with the next wave "
                           "regardless; if that is what you want, pass "
                           "--force as well",
                           w, why ? why : "failures");
        return ORCH_EXIT_GATE;
    }
    orch_warnf("--force: overriding wave %" JSON_INTEGER_FORMAT
               "'s failed health gate; going on with the next wave",
               w);
    if (record(h, (size_t)w - 1, "override", NULL))
        return ORCH_EXIT_ABORTED;
    *passed |= UINT64_C(1) << (w - 1);
    return 0;
}

/* Creates the chunks of wave k not created yet. A resume may come after
 * wave 1's ScheduleTime (the config check is skipped for a resumed waved
 * run): an overdue wave starts now. Returns 0 or an exit code. */
static int create_gated_wave(const struct orch_waverun_host *h, size_t k,
                             const char *label)
{
    const struct orch_wave *w = &h->plan->w[k];
    int64_t sched = w->schedule_ms, fin = w->finish_ms;
    char when[128];

    if (h->unfinished(h->ud, w->first, w->end) == 0)
        return 0;
    if (orch_waves_when(w, orch_wall_ms(), NULL) == ORCH_WAVE_OVERDUE) {
        orch_waverun_format_time(when, sizeof(when), sched);
        orch_warnf("wave %zu was to start at %s, less than 5 minutes "
                   "from now or past: the rest of its jobs are "
                   "created to start now, without ScheduleTime (or "
                   "ScheduleFinishTime)",
                   k + 1, when);
        sched = fin = -1;
    }
    fprintf(h->out, "\n%s%s: creating chunks %zu-%zu (%" PRIu64
                    " devices)",
            label, k == 0 ? " (canary)" : "", w->first + 1, w->end,
            w->devices);
    if (sched >= 0) {
        orch_waverun_format_time(when, sizeof(when), sched);
        fprintf(h->out, ", scheduled for %s", when);
    }
    fputc('\n', h->out);
    if (record(h, k, "start",
               sched >= 0 ? json_pack("{s:I}", "schedule", (json_int_t)sched)
                          : NULL))
        return ORCH_EXIT_ABORTED;
    return h->create(h->ud, w->first, w->end, sched, fin);
}

/* Watches wave k's gate and acts on its decision: pass goes on (0), fail
 * aborts the rollout, a timeout or a Ctrl-C leaves it paused. */
static int gate_wave(const struct orch_waverun_host *h, size_t k,
                     const char *label, const struct orch_gate *gate)
{
    const struct orch_wave *w = &h->plan->w[k];
    enum orch_gate_decision d = ORCH_GATE_WAIT;
    struct orch_gate_counts c;
    char why[512], what[640];
    int code = 0;

    code = watch_fresh(h, label, w->first, w->end, w->schedule_ms, gate, &d,
                       &c, why, sizeof(why));
    if (code) {
        record(h, k, "paused", json_pack("{s:s}", "reason", "interrupted"));
        say_paused(h, "watching was interrupted");
        return code;
    }
    if (record(h, k, "gate", gate_record(gate, d, &c, why)))
        return ORCH_EXIT_ABORTED;
    if (d == ORCH_GATE_FAIL)
        return abort_rollout(h, k, w->end, why);
    if (d == ORCH_GATE_TIMEOUT) {
        record(h, k, "paused", json_pack("{s:s}", "reason", "timeout"));
        snprintf(what, sizeof(what),
                 "wave %zu's gate was not decided within --wave-timeout "
                 "(%s)",
                 k + 1, why);
        say_paused(h, what);
        return ORCH_EXIT_PAUSED;
    }
    fprintf(h->out, "%s: gate passed\n", label);
    return 0;
}

static int run_gated(const struct orch_waverun_host *h)
{
    const struct orch_config *cfg = h->cfg;
    struct orch_wave_plan *p = h->plan;
    struct orch_gate gate;
    uint64_t passed = h->rs ? h->rs->waves_passed : 0;
    char label[64];
    size_t k = 0;
    int code = 0;

    gate_from_config(cfg, &gate);
    /* --schedule-time (and --schedule-finish-time) apply to wave 1; the
     * later waves start when they are created, after their gates. */
    orch_waves_schedule(p, cfg->schedule_time_ms, cfg->schedule_finish_time_ms,
                        0, 0);
    code = after_abort(h, &passed);
    if (code)
        return code;
    for (k = 0; k < p->n; k++) {
        if (passed & (UINT64_C(1) << k))
            continue;
        snprintf(label, sizeof(label), "wave %zu/%zu", k + 1, p->n);
        code = create_gated_wave(h, k, label);
        if (code)
            return code;
        if (k + 1 == p->n && !cfg->wait) {
            fprintf(h->out, "%s: the last wave is created (its tasks are "
                            "not watched: `ota-rollout status %s --watch`, "
                            "or --wait)\n",
                    label, cfg->report_path);
            return ORCH_EXIT_OK;
        }
        code = gate_wave(h, k, label, &gate);
        if (code)
            return code;
    }
    return ORCH_EXIT_OK;
}

/* ---- scheduled waves ---------------------------------------------------- */

/* Waves k.. are beyond the API's 7-day horizon: journaled, told, paused.
 * Returns ORCH_EXIT_PAUSED. */
static int defer_waves(const struct orch_waverun_host *h, size_t k,
                       int64_t creatable)
{
    const struct orch_wave_plan *p = h->plan;
    char when[128], at[128];
    size_t j = 0;

    orch_waverun_format_time(at, sizeof(at), creatable);
    record(h, k, "paused",
           json_pack("{s:s, s:I, s:I}", "reason", "horizon", "creatable",
                     (json_int_t)creatable, "schedule",
                     (json_int_t)p->w[k].schedule_ms));
    orch_reason_errorf(h->why, "the API schedules a job at most 7 days "
                               "ahead: these waves cannot be created yet:");
    for (j = k; j < p->n; j++) {
        orch_waverun_format_time(when, sizeof(when), p->w[j].schedule_ms);
        fprintf(h->out, "  wave %zu: chunks %zu-%zu, starts %s\n", j + 1,
                p->w[j].first + 1, p->w[j].end, when);
    }
    orch_reason_errorf(h->why,
                       "the rollout is paused: create the rest with "
                       "`ota-rollout resume %s` on or after %s (the "
                       "journal remembers the schedule)",
                       h->cfg->report_path, at);
    return ORCH_EXIT_PAUSED;
}

/* Creates scheduled wave k now, with its ScheduleTime (none when overdue:
 * it starts now). Returns 0 or an exit code. */
static int create_scheduled_wave(const struct orch_waverun_host *h, size_t k,
                                 bool overdue, int64_t base)
{
    const struct orch_wave *w = &h->plan->w[k];
    int64_t sched = w->schedule_ms, fin = w->finish_ms;
    char when[128];

    if (overdue) {
        orch_waverun_format_time(when, sizeof(when), w->schedule_ms);
        orch_warnf("wave %zu was to start at %s, less than 5 minutes "
                   "from now or past: its jobs are created to start "
                   "now, without ScheduleTime (or ScheduleFinishTime)",
                   k + 1, when);
        sched = fin = -1;
    }
    if (sched >= 0) {
        orch_waverun_format_time(when, sizeof(when), sched);
        fprintf(h->out, "\nwave %zu/%zu: creating chunks %zu-%zu, "
                        "scheduled for %s\n",
                k + 1, h->plan->n, w->first + 1, w->end, when);
    } else {
        fprintf(h->out, "\nwave %zu/%zu: creating chunks %zu-%zu, "
                        "starting now\n",
                k + 1, h->plan->n, w->first + 1, w->end);
    }
    if (record(h, k, "start",
               json_pack("{s:I, s:I}", "base", (json_int_t)base, "schedule",
                         (json_int_t)sched)))
        return ORCH_EXIT_ABORTED;
    return h->create(h->ud, w->first, w->end, sched, fin);
}

static int run_scheduled(const struct orch_waverun_host *h)
{
    const struct orch_config *cfg = h->cfg;
    struct orch_wave_plan *p = h->plan;
    int64_t now = orch_wall_ms();
    int64_t base = h->rs && h->rs->wave_base_ms > 0 ? h->rs->wave_base_ms
                                                    : orch_wall_ms();
    size_t k = 0;
    int code = 0;

    orch_waves_schedule(p, cfg->schedule_time_ms, cfg->schedule_finish_time_ms,
                        cfg->wave_interval_ms, base);
    if (h->reschedule)
        h->reschedule(h->ud, p);
    for (k = 0; k < p->n; k++) {
        struct orch_wave *w = &p->w[k];
        int64_t creatable = 0;
        enum orch_wave_when wh = orch_waves_when(w, now, &creatable);

        if (h->unfinished(h->ud, w->first, w->end) == 0)
            continue;
        if (wh == ORCH_WAVE_LATER)
            return defer_waves(h, k, creatable);
        code = create_scheduled_wave(h, k, wh == ORCH_WAVE_OVERDUE, base);
        if (code)
            return code;
    }
    return ORCH_EXIT_OK;
}

/* ---- --wait without waves ----------------------------------------------- */

static int run_wait(const struct orch_waverun_host *h)
{
    struct orch_gate_counts c;
    enum orch_gate_decision d = ORCH_GATE_WAIT;
    char why[512];
    int code = 0;

    /* Jobs scheduled with --schedule-time: nothing to see before then. */
    code = watch_fresh(h, "tasks", 0, h->nitems, h->cfg->schedule_time_ms,
                       NULL, &d, &c, why, sizeof(why));
    if (code) {
        orch_reason_errorf(h->why,
                           "stopped watching; the jobs go on (`ota-rollout "
                           "status %s --watch`)",
                           h->cfg->report_path);
        return code;
    }
    fprintf(h->out, "every task has ended: %s\n", why);
    return c.failed > 0 || c.canceled > 0 ? ORCH_EXIT_PARTIAL : ORCH_EXIT_OK;
}

int orch_waverun(const struct orch_waverun_host *h)
{
    int code = 0;

    orch_interrupt_install(1);
    if (h->plan == NULL)
        code = run_wait(h);
    else if (h->cfg->wave_interval_ms > 0)
        code = run_scheduled(h);
    else
        code = run_gated(h);
    orch_interrupt_uninstall();
    return code;
}
