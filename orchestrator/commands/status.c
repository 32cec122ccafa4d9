/* status.c - the `status` command: task counts, reasons and job states of
 * a whole rollout, once or until every task is decided.
 *
 * DESIGN: one refresh reads only what changed. First the jobs' states and
 * UtcModified (rollout/jobstate.h: ListOTAJobByFirmware, 200 jobs a
 * call); a job the status cache (rollout/statuscache.h) kept with that
 * same state and UtcModified is taken from the cache. Then paced batches
 * at the query quota for the others: the task counts of each at the
 * lowest cost (rollout/taskcount.h: per job, the Totals of
 * ListOTATaskByJob filtered by TaskStatus, or every page; every page with
 * --devices),
 * QueryOTAJob for the jobs whose state neither the tasks nor the first
 * step tell, and QueryOTAFirmware for the firmware of the jobs with fewer
 * tasks than devices (unless the cache knows why). Last, the jobs read
 * whole whose tasks have all ended go into the cache. Each answer is folded into its job as it arrives
 * (rollout/taskagg.h, pure), and each task goes to the --devices files as
 * it is seen, so memory does not grow with the fleet. Then the screen
 * (or, at the end, the JSON document; statusview.h). --watch sleeps
 * --interval and starts again until every task is decided. Ctrl-C only
 * raises the interrupt level (base/interrupt.h); the batches and the
 * sleep poll it. The reason of the exit is carried in the context, never
 * read back from the messages.
 */
#include "orch/commands/status.h"

#include "orch/base/clock.h"
#include "orch/base/cmddoc.h"
#include "orch/base/err.h"
#include "orch/base/exitcode.h"
#include "orch/base/grow.h"
#include "orch/base/interrupt.h"
#include "orch/base/msgs.h"
#include "orch/commands/reason.h"
#include "orch/cloud/api.h"
#include "orch/commands/credcmd.h"
#include "orch/cloud/credentials.h"
#include "orch/commands/statusverdict.h"
#include "orch/commands/statusview.h"
#include "orch/engine/dispatch.h"
#include "orch/engine/query.h"
#include "orch/model/config.h"
#include "orch/base/buf.h"
#include "orch/rollout/jobstate.h"
#include "orch/rollout/rollout.h"
#include "orch/rollout/statuscache.h"
#include "orch/rollout/taskagg.h"
#include "orch/rollout/taskcount.h"

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define COUNT_PLAN_ENV "OTA_ROLLOUT_TEST_COUNT_PLAN"
/* Jobs a first refresh reads before it decides whether learning the
 * others' states pays (read_first). */
#define SAMPLE_JOBS 20

struct status_ctx {
    struct orch_config *cfg;
    const struct orch_credentials *cred;
    struct orch_rollout r;
    struct orch_taskagg agg;
    struct orch_status_devices dev;
    bool devices;  /* dev is open for this refresh */
    size_t *items; /* the jobs of a QueryOTAJob / QueryOTAFirmware batch */
    size_t nitems, cap;
    bool fatal; /* credentials rejected */
    char fatal_reason[256];
    bool capped_warned;
    bool counted; /* the last refresh completed: the counts are whole */
    struct orch_reason why; /* the last error told: the exit reason when
                              nothing more specific says why */

    /* The status cache, and what this refresh gathers for it. */
    struct orch_statuscache cache;
    char *cache_path;
    bool cache_warned;  /* a failed save was told once */
    size_t *to_list;    /* the jobs this refresh lists */
    size_t nto_list;
    struct job_capture *capture; /* per job (njobs) */
};

/* What the cache will keep of a job being listed whose state had ended:
 * its own failure reasons and (with --devices) its lines. */
struct job_capture {
    bool on;
    struct orch_taskagg reasons;
    struct orch_buf rows, failed_rows;
};

/* ------------------------------------------------------------- errors */

/* What a finished batch means for the command: 0 to go on, or an exit
 * code (a setup error, interrupted, or aborted: credentials rejected). */
static int batch_outcome(struct status_ctx *c, int rc,
                         const struct orch_dispatch_stats *st,
                         const struct orch_diag *diag)
{
    if (rc) {
        orch_reason_diag(&c->why, rc, diag);
        return ORCH_EXIT_USAGE;
    }
    if (orch_interrupt_level())
        return ORCH_EXIT_ABORTED;
    if (st->aborted) {
        c->fatal = true;
        snprintf(c->fatal_reason, sizeof(c->fatal_reason), "%s",
                 st->abort_reason[0] ? st->abort_reason : "aborted");
        return ORCH_EXIT_ABORTED;
    }
    return 0;
}

/* ----------------------------------------------------------- the tasks */

static void warn_capped(void *ud, const struct orch_rollout_job *j)
{
    struct status_ctx *c = ud;

    if (!c->capped_warned)
        orch_warnf("job %s has %" PRIu64 " tasks; the API lists only the "
                   "first %d",
                   j->job_id, j->total,
                   ORCH_API_TASK_MAX_PAGES * ORCH_API_TASK_PAGE_SIZE);
    c->capped_warned = true;
}

/* Each task listed: to the --devices files, and to the capture of its job
 * when the cache may keep it. */
static int on_task(void *ud, const struct orch_rollout_job *job,
                   const struct orch_task_view *t)
{
    struct status_ctx *c = ud;
    struct job_capture *k = &c->capture[job - c->r.jobs];
    int rc = 0;

    if (c->devices)
        orch_status_devices_row(&c->dev, job, t);
    if (!k->on)
        return 0;
    if (t->state == ORCH_TASK_FAILED)
        rc = orch_taskagg_add_reason(&k->reasons, t->reason);
    if (rc == 0 && c->devices)
        rc = orch_status_devices_lines(t, &k->rows, &k->failed_rows);
    if (rc)
        k->on = false; /* out of memory: the job is simply not kept */
    return 0;
}

/* How the jobs' tasks are counted: in full with --devices (every row is
 * wanted), else each job by its cheapest plan (rollout/countplan.h).
 * OTA_ROLLOUT_TEST_COUNT_PLAN=full (or =totals) forces the full listing
 * (or the Totals) for the tests that compare them; not a user setting. */
static enum orch_countplan_force count_force(const struct status_ctx *c)
{
    const char *env = getenv(COUNT_PLAN_ENV);

    if (c->devices || (env && strcmp(env, "full") == 0))
        return ORCH_COUNTPLAN_FORCE_FULL;
    if (env && strcmp(env, "totals") == 0)
        return ORCH_COUNTPLAN_FORCE_TOTALS;
    return ORCH_COUNTPLAN_AUTO;
}

/* The task counts of the jobs to read; each task listed goes to the
 * --devices files too. */
static int list_tasks(struct status_ctx *c)
{
    struct orch_taskcount tc;
    struct orch_dispatch_stats st;
    struct orch_diag diag = {{0}};
    int rc = 0;

    memset(&tc, 0, sizeof(tc));
    tc.cfg = c->cfg;
    tc.cred = c->cred;
    tc.jobs = c->r.jobs;
    tc.which = c->to_list;
    tc.n = c->nto_list;
    tc.agg = &c->agg;
    tc.each = on_task;
    tc.each_ud = c;
    tc.capped = warn_capped;
    tc.capped_ud = c;
    tc.force = count_force(c);
    rc = orch_taskcount_run(&tc, orch_interrupt_counter(), &st, &diag);
    return batch_outcome(c, rc, &st, &diag);
}

/* -------------------------------------------- job states and firmware */

static int add_item(struct status_ctx *c, size_t job)
{
    size_t *grown =
        orch_grow(c->items, &c->cap, c->nitems + 1, sizeof(*grown), 64);

    if (grown == NULL)
        return ORCH_ENOMEM;
    c->items = grown;
    c->items[c->nitems++] = job;
    return 0;
}

/* Runs one batch over c->items; returns 0, or an exit code. */
static int run_batch(struct status_ctx *c, const char *action,
                     int (*build)(void *, size_t, struct orch_params *),
                     void (*done)(void *, size_t,
                                  const struct orch_item_result *),
                     const char *label)
{
    const struct orch_query_batch b = orch_query_batch_at_quota(
        c->cfg, action, c->nitems, build, done, c, label);
    struct orch_dispatch_stats st;
    struct orch_diag diag = {{0}};
    int rc = 0;

    rc = orch_query_run(c->cfg, c->cred, &b, orch_interrupt_counter(), &st,
                        &diag);
    return batch_outcome(c, rc, &st, &diag);
}

/* The jobs whose state neither their tasks nor the first step of the
 * refresh tell: learnt at the lowest cost (jobstate.h: list pages, or a
 * QueryOTAJob each). What is learnt here, after the tasks were listed, is
 * the job's state to show, not a baseline for the cache (statuscache.h:
 * seen_status is what was known before the listing), so it moves to
 * job_status. A job whose state could not be learnt has failed. */
static int ask_job_states(struct status_ctx *c)
{
    struct orch_dispatch_stats st;
    struct orch_diag diag = {{0}};
    size_t i = 0;
    int rc = 0;

    c->nitems = 0;
    for (i = 0; i < c->r.njobs; i++) {
        struct orch_rollout_job *j = &c->r.jobs[i];
        const char *derived = NULL;

        if (j->query_failed || j->cached)
            continue;
        derived = orch_taskagg_derive_job(j);
        if (derived == NULL && j->seen_status[0])
            derived = j->seen_status;
        if (derived) {
            snprintf(j->job_status, sizeof(j->job_status), "%s", derived);
        } else if (add_item(c, i)) {
            orch_reason_errorf(&c->why, "out of memory");
            return ORCH_EXIT_USAGE;
        }
    }
    memset(&st, 0, sizeof(st));
    if (c->nitems > 0)
        rc = orch_jobstate_run(c->cfg, c->cred, c->r.jobs, c->items,
                               c->nitems, orch_interrupt_counter(), &st,
                               &diag);
    for (i = 0; i < c->nitems; i++) {
        struct orch_rollout_job *j = &c->r.jobs[c->items[i]];

        if (j->seen_status[0] == '\0')
            orch_taskagg_job_failed(j, NULL, NULL,
                                    j->error[0] ? j->error
                                                : "QueryOTAJob: not asked");
        else
            snprintf(j->job_status, sizeof(j->job_status), "%s",
                     j->seen_status);
        j->seen_status[0] = '\0';
        j->modified[0] = '\0';
    }
    return batch_outcome(c, rc, &st, &diag);
}

static int build_firmware(void *ud, size_t item, struct orch_params *out)
{
    struct status_ctx *c = ud;

    return orch_api_firmware_params(out, c->cfg->iot_instance_id,
                                    c->r.jobs[c->items[item]].firmware_id);
}

/* The firmware's answer tells why each of its jobs lacks tasks. A failed
 * query leaves the reason unknown (the job itself was queried). */
static void firmware_done(void *ud, size_t item,
                          const struct orch_item_result *res)
{
    struct status_ctx *c = ud;
    const char *fw = c->r.jobs[c->items[item]].firmware_id;
    enum orch_no_task why = ORCH_NO_TASK_UNKNOWN;
    size_t i = 0;

    if (res->status == ORCH_ITEM_CREATED && res->resp && res->resp->root)
        why = orch_taskagg_firmware_reason(res->resp->root);
    for (i = 0; i < c->r.njobs; i++) {
        struct orch_rollout_job *j = &c->r.jobs[i];

        if (orch_taskagg_no_task(j) && strcmp(j->firmware_id, fw) == 0)
            j->no_task_reason = (int)why;
    }
}

/* True when an earlier job than `job` has the same firmware and also
 * lacks tasks for a reason still to ask (its firmware is queried once). */
static bool firmware_asked(const struct status_ctx *c, size_t job)
{
    size_t i = 0;

    for (i = 0; i < job; i++) {
        if (c->r.jobs[i].cached &&
            c->r.jobs[i].no_task_reason != ORCH_NO_TASK_UNKNOWN)
            continue;
        if (orch_taskagg_no_task(&c->r.jobs[i]) &&
            strcmp(c->r.jobs[i].firmware_id, c->r.jobs[job].firmware_id) == 0)
            return true;
    }
    return false;
}

/* Jobs with fewer tasks than devices: one QueryOTAFirmware per firmware
 * says why (its Type). */
static int ask_firmware(struct status_ctx *c)
{
    size_t i = 0;

    c->nitems = 0;
    for (i = 0; i < c->r.njobs; i++) {
        const struct orch_rollout_job *j = &c->r.jobs[i];

        if (j->cached && j->no_task_reason != ORCH_NO_TASK_UNKNOWN)
            continue;
        if (orch_taskagg_no_task(j) && j->firmware_id[0] &&
            !firmware_asked(c, i) && add_item(c, i)) {
            orch_reason_errorf(&c->why, "out of memory");
            return ORCH_EXIT_USAGE;
        }
    }
    return run_batch(c, "QueryOTAFirmware", build_firmware, firmware_done,
                     "firmware");
}

/* ----------------------------------------------------- the cache */

/* The states and UtcModified of the jobs from `from` on, at the lowest
 * cost. */
static int learn_states(struct status_ctx *c, size_t from)
{
    struct orch_dispatch_stats st;
    struct orch_diag diag = {{0}};
    int rc = orch_jobstate_run(c->cfg, c->cred, c->r.jobs + from, NULL,
                               c->r.njobs - from, orch_interrupt_counter(),
                               &st, &diag);

    return batch_outcome(c, rc, &st, &diag);
}

static void capture_reset(struct job_capture *k)
{
    orch_taskagg_cleanup(&k->reasons);
    orch_buf_cleanup(&k->rows);
    orch_buf_cleanup(&k->failed_rows);
    memset(k, 0, sizeof(*k));
}

static void captures_free(struct status_ctx *c)
{
    size_t i = 0;

    for (i = 0; c->capture && i < c->r.njobs; i++)
        capture_reset(&c->capture[i]);
    free(c->capture);
    c->capture = NULL;
}

/* Takes from the cache every job from `from` on that it holds unchanged
 * (its --devices lines written now); the others are to be listed, and
 * those whose state had ended, or is not known before their tasks tell
 * it, are captured for the cache. Returns 0 or an exit code. */
static int use_cache(struct status_ctx *c, size_t from)
{
    size_t i = 0;
    int rc = 0;

    c->nto_list = 0;
    for (i = from; i < c->r.njobs && rc == 0; i++) {
        struct orch_rollout_job *j = &c->r.jobs[i];
        const struct orch_statuscache_job *e =
            orch_statuscache_find(&c->cache, j->job_id);

        capture_reset(&c->capture[i]);
        if (orch_statuscache_fresh(e, j, c->devices)) {
            rc = orch_statuscache_apply(e, j, &c->agg);
            if (rc == 0 && c->devices)
                orch_status_devices_raw(&c->dev, e->rows, e->failed_rows);
            continue;
        }
        c->to_list[c->nto_list++] = i;
        c->capture[i].on = strcmp(j->seen_status, "COMPLETED") == 0 ||
                           strcmp(j->seen_status, "CANCELED") == 0 ||
                           j->seen_status[0] == '\0';
    }
    if (rc) {
        orch_reason_errorf(&c->why, "out of memory");
        return ORCH_EXIT_USAGE;
    }
    return 0;
}

/* Entry i of the next cache: the old one if the job came from it, a new
 * one if the job was read and has ended (*changed then set), none
 * otherwise. 0 or ORCH_ENOMEM. */
static int next_entry(struct status_ctx *c, struct orch_statuscache *next,
                      size_t i, bool *changed)
{
    struct orch_rollout_job *j = &c->r.jobs[i];
    struct job_capture *k = &c->capture[i];
    struct orch_statuscache_job e;
    int rc = 0;

    memset(&e, 0, sizeof(e));
    if (j->cached) {
        rc = orch_statuscache_take(&c->cache, j->job_id, &e);
    } else if (k->on && orch_statuscache_keepable(j)) {
        rc = orch_statuscache_entry(
            &e, j, &k->reasons, c->devices ? orch_buf_str(&k->rows) : NULL,
            c->devices ? orch_buf_str(&k->failed_rows) : NULL);
        *changed = true;
    } else {
        return 0;
    }
    if (rc == 0)
        rc = orch_statuscache_put(next, &e);
    orch_statuscache_job_cleanup(&e);
    return rc;
}

/* Keeps what has ended, and writes the cache when it changed. A cache
 * that cannot be written costs only calls: told once, not an error. */
static void keep_ended(struct status_ctx *c)
{
    struct orch_statuscache next;
    struct orch_diag diag = {{0}};
    bool changed = false;
    size_t i = 0;
    int rc = orch_statuscache_init(&next, c->r.identity);

    for (i = 0; i < c->r.njobs && rc == 0; i++)
        rc = next_entry(c, &next, i, &changed);
    if (rc == 0 && (changed || c->cache.n > 0)) {
        rc = orch_statuscache_save(&next, c->cache_path, &diag);
        if (rc && !c->cache_warned)
            orch_warnf("status cache not saved (the next refresh reads "
                       "every job again): %s",
                       orch_diag_text(rc, &diag));
        c->cache_warned = c->cache_warned || rc;
    }
    orch_statuscache_cleanup(&c->cache);
    c->cache = next;
    for (i = 0; i < c->r.njobs; i++)
        capture_reset(&c->capture[i]);
}

/* The first refresh of a rollout of more than SAMPLE_JOBS jobs, with
 * nothing cached: a job's state and UtcModified serve to count an ended
 * job cheaply and to recognise it unchanged later, but the list pages
 * that tell them (one per 200 jobs) buy nothing when every job has to be
 * listed anyway (a failed task in each, or still running). So the first
 * SAMPLE_JOBS jobs are read without them, and the states of the others
 * are learnt only when that sample says they save more calls than they
 * cost. Jobs read without their state are kept in the cache by the
 * server's time of the read (statuscache.h). Returns 0 or an exit code. */
static int read_first(struct status_ctx *c)
{
    int code = 0;
    size_t i = 0;

    c->nto_list = 0;
    for (i = 0; i < SAMPLE_JOBS; i++) {
        capture_reset(&c->capture[i]);
        c->capture[i].on = true;
        c->to_list[c->nto_list++] = i;
    }
    code = list_tasks(c);
    if (code == 0 &&
        orch_jobstate_worth_learning(
            SAMPLE_JOBS,
            orch_jobstate_sample_savings(
                c->r.jobs, SAMPLE_JOBS,
                count_force(c) != ORCH_COUNTPLAN_FORCE_FULL),
            c->r.njobs - SAMPLE_JOBS))
        code = learn_states(c, SAMPLE_JOBS);
    if (code == 0)
        code = use_cache(c, SAMPLE_JOBS);
    if (code == 0)
        code = list_tasks(c);
    return code;
}

/* One refresh: what changed, the tasks of those jobs, the job states, the
 * firmware, then what ended goes to the cache. Returns 0 or an exit
 * code. */
static int refresh(struct status_ctx *c)
{
    int code = 0;

    c->counted = false;
    orch_rollout_reset_counts(&c->r);
    orch_taskagg_cleanup(&c->agg);
    orch_taskagg_init(&c->agg);
    if (c->cache.n == 0 && c->r.njobs > SAMPLE_JOBS) {
        code = read_first(c);
    } else {
        code = learn_states(c, 0);
        if (code == 0)
            code = use_cache(c, 0);
        if (code == 0)
            code = list_tasks(c);
    }
    if (code == 0)
        code = ask_job_states(c);
    if (code == 0)
        code = ask_firmware(c);
    if (code == 0)
        keep_ended(c);
    return code;
}

/* ------------------------------------------------------------- output */

/* The text screen (--json: nothing, the document comes at the end). With
 * --watch it starts with the time of the refresh, for logs. */
static int show(struct status_ctx *c, bool clear)
{
    struct orch_taskagg_summary s;
    int rc = 0;

    if (c->cfg->json)
        return 0;
    rc = orch_taskagg_summarize(&c->r, &c->agg, &s);
    if (rc) {
        orch_reason_errorf(&c->why, "out of memory");
        return rc;
    }
    if (clear)
        fputs("\033[H\033[2J", stdout);
    if (c->cfg->watch) {
        char when[32];

        orch_status_utc(orch_wall_ms(), when, sizeof(when));
        fprintf(stdout, "as of %s\n", when);
    }
    orch_status_print(stdout, &c->r, &s, 10);
    fflush(stdout);
    orch_taskagg_summary_cleanup(&s);
    return rc;
}

/* --json: the one document on stdout, whatever the exit code (counts
 * null unless the last refresh completed); --log-format json: the same as
 * a "summary" event on stderr. c may be NULL (no memory for it). Returns
 * code, or ORCH_EXIT_USAGE when the document could not be written. */
static int emit_doc(const struct orch_config *cfg, struct status_ctx *c,
                    int code, const char *reason)
{
    struct orch_taskagg_summary s;
    bool have = false;
    json_t *doc = NULL;

    if (!orch_cmddoc_wanted(cfg->json))
        return code;
    memset(&s, 0, sizeof(s));
    if (c && c->counted)
        have = orch_taskagg_summarize(&c->r, &c->agg, &s) == 0;
    doc = orch_status_json_doc(have ? &c->r : NULL, have ? &s : NULL,
                               cfg->inventory_path, code, reason);
    if (have)
        orch_taskagg_summary_cleanup(&s);
    return orch_cmddoc_emit(doc, "status", code, reason, cfg->json);
}

int orch_status_emit_error(const struct orch_config *cfg, int code,
                           const char *reason)
{
    orch_errorf("%s", reason ? reason : "");
    return emit_doc(cfg, NULL, code, reason ? reason : "");
}

/* ------------------------------------------------------------ command */

/* Sleeps ms, waking every 100 ms to look at the interrupt level. */
static void nap(long ms)
{
    while (ms > 0 && !orch_interrupt_level()) {
        struct timespec ts = {0, 100 * 1000000L};

        if (ms < 100)
            ts.tv_nsec = ms * 1000000L;
        nanosleep(&ts, NULL);
        ms -= 100;
    }
}

/* The status cache of the rollout, and the refresh's per-job room. A
 * cache that cannot be used is told in one line and ignored. 0 or
 * ORCH_ENOMEM. */
static int open_cache(struct status_ctx *c)
{
    char note[512];
    size_t n = c->r.njobs ? c->r.njobs : 1;
    int rc = orch_statuscache_init(&c->cache, c->r.identity);

    c->cache_path = orch_statuscache_path(c->cfg->inventory_path);
    c->to_list = calloc(n, sizeof(*c->to_list));
    c->capture = calloc(n, sizeof(*c->capture));
    if (rc || c->cache_path == NULL || c->to_list == NULL ||
        c->capture == NULL)
        return ORCH_ENOMEM;
    rc = orch_statuscache_load(&c->cache, c->cache_path, note, sizeof(note));
    if (rc == 0 && note[0])
        orch_notef("%s", note);
    return rc;
}

/* The report and the credentials. 0 or ORCH_EXIT_USAGE. */
static int start(struct status_ctx *c, struct orch_credentials *cred)
{
    struct orch_diag diag = {{0}};
    int rc = 0;

    rc = orch_rollout_load(&c->r, c->cfg->inventory_path, &diag);
    if (rc) {
        orch_reason_diag(&c->why, rc, &diag);
        return ORCH_EXIT_USAGE;
    }
    if (c->r.njobs == 0)
        orch_warnf("%s: no created job in the report (%zu rows)",
                   c->cfg->inventory_path, c->r.rows);
    rc = open_cache(c);
    if (rc) {
        orch_reason_errorf(&c->why, "out of memory");
        return ORCH_EXIT_USAGE;
    }
    if (orch_credcmd_open(cred, c->cfg->profile, NULL, &c->why))
        return ORCH_EXIT_USAGE;
    return 0;
}

/* One refresh with --devices: its files are opened before and committed
 * after, so that every refresh writes them whole. Returns 0 or an exit
 * code. */
static int refresh_with_devices(struct status_ctx *c)
{
    struct orch_diag diag = {{0}};
    int code = 0;
    int rc = 0;

    if (c->cfg->devices_path) {
        rc = orch_status_devices_open(&c->dev, c->cfg->devices_path, &diag);
        if (rc) {
            orch_reason_diag(&c->why, rc, &diag);
            return ORCH_EXIT_USAGE;
        }
        c->devices = true;
    }
    code = refresh(c);
    if (code)
        return code;
    c->counted = true;
    if (c->devices) {
        rc = orch_status_devices_commit(&c->dev, &diag);
        orch_status_devices_cleanup(&c->dev);
        c->devices = false;
        if (rc) {
            orch_reason_diag(&c->why, rc, &diag);
            return ORCH_EXIT_PARTIAL;
        }
    }
    return 0;
}

/* Refreshes and shows, once or (--watch) until every task is decided.
 * Returns the exit code so far. */
static int watch(struct status_ctx *c)
{
    const struct orch_config *cfg = c->cfg;
    bool tty_out = isatty(STDOUT_FILENO);

    for (;;) {
        bool decided = false;
        int code = refresh_with_devices(c);

        if (code)
            return code;
        decided = orch_statusverdict_all_decided(&c->r);
        if (show(c, cfg->watch && tty_out))
            return ORCH_EXIT_USAGE;
        if (!cfg->watch || decided)
            return ORCH_EXIT_OK;
        if (!cfg->json && !tty_out)
            fputc('\n', stdout);
        nap(cfg->interval_ms);
        if (orch_interrupt_level())
            return ORCH_EXIT_ABORTED;
    }
}

/* The exit code after the watch: why it stopped, or whether the rollout
 * is complete. */
static int verdict(struct status_ctx *c, int code)
{
    if (code == ORCH_EXIT_ABORTED) {
        if (c->fatal)
            orch_reason_errorf(&c->why, "status aborted: %s", c->fatal_reason);
        else
            orch_reason_errorf(&c->why, "status interrupted");
    } else if (code == ORCH_EXIT_OK &&
               (orch_statusverdict_jobs_failed(&c->r) > 0 || !c->counted ||
                !orch_statusverdict_complete(&c->r, &c->agg))) {
        code = ORCH_EXIT_PARTIAL;
    }
    if (code == ORCH_EXIT_OK && c->cfg->devices_path)
        orch_notef("devices: %s, failed devices: %s.failed.csv",
                   c->cfg->devices_path, c->cfg->devices_path);
    return code;
}

/* The context of one run, before anything is read; it borrows cred.
 * NULL: out of memory. */
static struct status_ctx *status_ctx_new(struct orch_config *cfg,
                                         struct orch_credentials *cred)
{
    struct status_ctx *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->cfg = cfg;
    c->cred = cred;
    orch_taskagg_init(&c->agg);
    return c;
}

int orch_status_main(struct orch_config *cfg)
{
    struct status_ctx *c = NULL;
    struct orch_credentials cred;
    bool interrupt_set = false;
    char reason[512];
    int code = ORCH_EXIT_OK;

    memset(&cred, 0, sizeof(cred));
    c = status_ctx_new(cfg, &cred);
    if (c == NULL)
        return orch_status_emit_error(cfg, ORCH_EXIT_USAGE, "out of memory");
    signal(SIGPIPE, SIG_IGN);
    code = start(c, &cred);
    if (code)
        goto out;
    orch_interrupt_install(1);
    interrupt_set = true;
    code = verdict(c, watch(c));
out:
    code = emit_doc(cfg, c, code,
                    orch_statusverdict_reason(&c->r, &c->agg, c->counted, code,
                                              c->why.text, reason,
                                              sizeof(reason)));
    if (interrupt_set)
        orch_interrupt_uninstall();
    orch_status_devices_cleanup(&c->dev);
    orch_taskagg_cleanup(&c->agg);
    captures_free(c);
    orch_statuscache_cleanup(&c->cache);
    free(c->cache_path);
    free(c->to_list);
    orch_rollout_cleanup(&c->r);
    orch_credentials_cleanup(&cred);
    free(c->items);
    free(c);
    return code;
}
