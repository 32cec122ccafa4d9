/* cancel.c - the `cancel` command: CancelOTATaskByJob for every job of a
 * rollout, paced at its quota, journaled so that a rerun resumes.
 *
 * DESIGN: read the report (orch_rollout_load), replay
 * "<report>.cancel.journal" to learn which jobs are already cancelled,
 * confirm (terminal, else --yes), list the tasks of the jobs left
 * (rollout/tasklist.h: the cancel answer carries no count), then one
 * paced batch (orch_query_run at ORCH_CANCEL_QPS) over the jobs left.
 * Each successful cancel appends a "cancelled" record and syncs it before
 * the next answer is handled, so a crash loses at most the record of a
 * call whose effect is idempotent anyway (cancelling twice is harmless).
 * Ctrl-C only raises the interrupt level (base/interrupt.h); the
 * dispatcher stops starting calls. The reason of the exit is carried in
 * the context, never read back from the messages.
 */
#include "orch/commands/cancel.h"

#include "orch/base/clock.h"
#include "orch/base/cmddoc.h"
#include "orch/base/err.h"
#include "orch/base/exitcode.h"
#include "orch/base/interrupt.h"
#include "orch/base/jsonout.h"
#include "orch/base/msgs.h"
#include "orch/commands/reason.h"
#include "orch/base/tally.h"
#include "orch/cloud/api.h"
#include "orch/commands/credcmd.h"
#include "orch/cloud/credentials.h"
#include "orch/engine/dispatch.h"
#include "orch/engine/journal.h"
#include "orch/engine/query.h"
#include "orch/model/config.h"
#include "orch/rollout/report.h"
#include "orch/rollout/rollout.h"
#include "orch/rollout/taskagg.h"
#include "orch/rollout/tasklist.h"

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

bool orch_cancel_record_covers(const json_t *rec, bool in_progress,
                               const char **job_id)
{
    const char *t = json_string_value(json_object_get(rec, "t"));
    const char *id = json_string_value(json_object_get(rec, "job_id"));
    bool ip = json_is_true(json_object_get(rec, "in_progress"));

    if (t == NULL || strcmp(t, "cancelled") != 0 || id == NULL || !id[0])
        return false;
    /* A job whose cancel reported it finished needs nothing more. */
    if (orch_api_cancel_code_is_done(
            json_string_value(json_object_get(rec, "code"))))
        ip = true;
    if (in_progress && !ip)
        return false;
    *job_id = id;
    return true;
}

const char *orch_cancel_outcome_name(enum orch_cancel_outcome o)
{
    static const char *const names[] = {"cancelled", "nothing_to_cancel",
                                        "already_finished", "failed",
                                        "not_sent"};

    if ((int)o < 0 || o > ORCH_CANCEL_NOT_SENT)
        return "failed";
    return names[o];
}

uint64_t orch_cancel_cancellable(const uint64_t *counts, bool in_progress)
{
    return counts[ORCH_TASK_QUEUED] + counts[ORCH_TASK_NOTIFIED] +
           counts[ORCH_TASK_CONFIRM] +
           (in_progress ? counts[ORCH_TASK_IN_PROGRESS] : 0);
}

enum orch_cancel_outcome orch_cancel_classify(int item_status, const char *code,
                                              bool counted,
                                              uint64_t cancellable)
{
    if (item_status == ORCH_ITEM_CREATED)
        return counted && cancellable == 0 ? ORCH_CANCEL_NOTHING
                                           : ORCH_CANCEL_REQUESTED;
    if (item_status == ORCH_ITEM_FAILED && orch_api_cancel_code_is_done(code))
        return ORCH_CANCEL_FINISHED;
    if (item_status == ORCH_ITEM_NOT_SENT)
        return ORCH_CANCEL_NOT_SENT;
    return ORCH_CANCEL_FAILED;
}

void orch_cancel_describe(char *buf, size_t bufsz, enum orch_cancel_outcome o,
                          const char *code, const uint64_t *counts,
                          bool in_progress)
{
    uint64_t n = counts ? orch_cancel_cancellable(counts, in_progress) : 0;
    uint64_t running = counts ? counts[ORCH_TASK_IN_PROGRESS] : 0;
    uint64_t all = 0;
    int i = 0;

    for (i = 0; counts && i < ORCH_TASK_NSTATES; i++)
        all += counts[i];
    code = code && code[0] ? code : NULL;
    switch (o) {
    case ORCH_CANCEL_REQUESTED:
        if (counts == NULL)
            snprintf(buf, bufsz,
                     "cancel requested; its tasks could not be "
                     "counted");
        else
            snprintf(buf, bufsz,
                     "cancel requested; %" PRIu64 " task%s %s still "
                     "cancellable",
                     n, n == 1 ? "" : "s", n == 1 ? "was" : "were");
        return;
    case ORCH_CANCEL_NOTHING:
        if (!in_progress && running > 0)
            snprintf(buf, bufsz,
                     "nothing left to cancel (%" PRIu64 " task%s in "
                     "progress: --in-progress cancels them)",
                     running, running == 1 ? "" : "s");
        else
            snprintf(buf, bufsz,
                     "nothing left to cancel (all %" PRIu64 " task%s had "
                     "ended)",
                     all, all == 1 ? "" : "s");
        return;
    case ORCH_CANCEL_FINISHED:
        snprintf(buf, bufsz, "already finished (%s)",
                 code ? code : "iot.ota.JobHasFinished");
        return;
    case ORCH_CANCEL_NOT_SENT:
        snprintf(buf, bufsz, "not sent%s%s", code ? ": " : "",
                 code ? code : "");
        return;
    case ORCH_CANCEL_FAILED:
    default:
        snprintf(buf, bufsz, "failed: %s", code ? code : "no answer");
        return;
    }
}

json_t *orch_cancel_json_doc(const char *report, bool in_progress,
                             const struct orch_cancel_counts *n,
                             const struct orch_tally *codes,
                             const char *journal, int code, const char *reason)
{
    json_t *doc = orch_jsonout_doc("cancel", code, reason);
    json_t *counts = json_null();
    json_t *errors = json_object();
    size_t i = 0;
    int bad = doc == NULL || errors == NULL;

    if (!bad && n != NULL)
        counts = json_pack(
            "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "jobs",
            (json_int_t)n->jobs, "skipped", (json_int_t)n->skipped, "cancelled",
            (json_int_t)n->cancelled, "nothing_to_cancel",
            (json_int_t)n->nothing, "already_finished", (json_int_t)n->finished,
            "failed", (json_int_t)n->failed, "not_sent",
            (json_int_t)n->not_sent, "tasks_cancellable", (json_int_t)n->tasks,
            "not_counted", (json_int_t)n->uncounted);
    for (i = 0; !bad && codes && i < codes->count; i++)
        bad |= json_object_set_new(errors, codes->e[i].code,
                                   json_integer((json_int_t)codes->e[i].n));
    bad |= counts == NULL;
    if (!bad)
        bad |= json_object_set_new(doc, "report",
                                   report ? json_string(report) : json_null());
    if (!bad)
        bad |=
            json_object_set_new(doc, "in_progress", json_boolean(in_progress));
    if (!bad) {
        bad |= json_object_set_new(doc, "counts", counts);
        counts = NULL;
    }
    if (!bad) {
        bad |= json_object_set_new(doc, "errors", errors);
        errors = NULL;
    }
    if (!bad)
        bad |= json_object_set_new(
            doc, "files",
            json_pack("{s:o}", "journal",
                      journal ? json_string(journal) : json_null()));
    json_decref(counts);
    json_decref(errors);
    return orch_jsonout_built(doc, bad);
}

/* ------------------------------------------------------------ command */

struct cancel_ctx {
    const struct orch_config *cfg;
    struct orch_rollout r;
    bool *skip;   /* per job: cancelled by an earlier run */
    size_t *todo; /* job indexes to cancel */
    size_t ntodo;
    size_t skipped;
    struct orch_journal j;
    bool journal_open;
    int journal_err;
    size_t cancelled, finished, failed, not_sent, nothing, uncounted;
    uint64_t tasks; /* still cancellable in the `cancelled` jobs */
    struct orch_tally codes;
    json_t *results;         /* "jobs_cancelled" of --json */
    struct orch_taskagg agg; /* the task listing before the cancel */
    char *journal_path;
    bool counting; /* the report was read: the counts mean something */
    FILE *hout;    /* human lines: stderr, or /dev/null for JSON logs */
    struct orch_reason why; /* the last error told: the exit reason when
                              nothing more specific says why */
};

/* ------------------------------------------------------------ journal */

static int on_record(void *ud, const json_t *rec, size_t line)
{
    struct cancel_ctx *c = ud;
    const char *id = NULL;
    size_t i = 0;

    (void)line;
    if (!orch_cancel_record_covers(rec, c->cfg->cancel_in_progress, &id))
        return 0;
    for (i = 0; i < c->r.njobs; i++) {
        if (!c->skip[i] && strcmp(c->r.jobs[i].job_id, id) == 0) {
            c->skip[i] = true;
            c->skipped++;
            break;
        }
    }
    return 0;
}

static int open_journal(struct cancel_ctx *c)
{
    struct orch_diag diag = {{0}};
    size_t valid = (size_t)-1;
    json_t *rec = NULL;
    int rc = 0;

    rc = orch_journal_read(c->journal_path, on_record, c, &valid, &diag);
    if (rc == ORCH_ENOTFOUND) {
        valid = (size_t)-1;
        rc = 0;
    }
    if (rc == 0)
        rc = orch_journal_open(&c->j, c->journal_path, valid, &diag);
    if (rc) {
        orch_reason_diag(&c->why, rc, &diag);
        return rc;
    }
    c->journal_open = true;
    rec = json_pack("{s:s, s:i, s:I, s:s, s:b}", "t", "cancel_run", "v", 1,
                    "time", (json_int_t)orch_wall_ms(), "report",
                    c->cfg->inventory_path, "in_progress",
                    c->cfg->cancel_in_progress);
    rc = rec ? orch_journal_append(&c->j, rec) : ORCH_ENOMEM;
    json_decref(rec);
    if (rc == 0)
        rc = orch_journal_sync(&c->j);
    if (rc)
        orch_reason_errorf(&c->why, "%s: writing the journal failed (%s)",
                           c->journal_path, orch_strerror(rc));
    return rc;
}

static void journal_done(struct cancel_ctx *c, const char *job,
                         const char *code, enum orch_cancel_outcome o,
                         json_t *tasks)
{
    json_t *rec = NULL;
    int rc = 0;

    if (c->journal_err)
        return;
    rec = json_pack("{s:s, s:s, s:b, s:I, s:s, s:s, s:O}", "t", "cancelled",
                    "job_id", job, "in_progress", c->cfg->cancel_in_progress,
                    "time", (json_int_t)orch_wall_ms(), "code", code, "outcome",
                    orch_cancel_outcome_name(o), "tasks_cancellable", tasks);
    rc = rec ? orch_journal_append(&c->j, rec) : ORCH_ENOMEM;
    json_decref(rec);
    if (rc == 0)
        rc = orch_journal_sync(&c->j);
    if (rc) {
        c->journal_err = rc;
        /* Without the journal a rerun would cancel again, which is
         * harmless; keep going but say so at the end. */
    }
}

/* ------------------------------------------------------- the cancels */

/* Whether job i's tasks were counted: listed, and no page failed. */
static bool job_counted(const struct cancel_ctx *c, size_t i)
{
    return !c->r.jobs[i].query_failed && c->r.jobs[i].listed > 0;
}

/* Adds outcome o of a job to the counts. */
static void count_outcome(struct cancel_ctx *c, enum orch_cancel_outcome o,
                          const char *code, bool counted, uint64_t n)
{
    switch (o) {
    case ORCH_CANCEL_REQUESTED:
        c->cancelled++;
        c->tasks += n;
        c->uncounted += !counted;
        break;
    case ORCH_CANCEL_NOTHING:
        c->nothing++;
        break;
    case ORCH_CANCEL_FINISHED:
        c->finished++;
        break;
    case ORCH_CANCEL_NOT_SENT:
        c->not_sent++;
        orch_tally_add(&c->codes, code[0] ? code : "not_sent");
        break;
    case ORCH_CANCEL_FAILED:
    default:
        c->failed++;
        orch_tally_add(&c->codes, code[0] ? code : "failed");
        break;
    }
}

/* Counts, prints, journals and records the outcome of todo[item]. */
static void job_outcome(struct cancel_ctx *c, size_t item, int status,
                        const char *code)
{
    size_t i = c->todo[item];
    const struct orch_rollout_job *j = &c->r.jobs[i];
    bool counted = job_counted(c, i);
    bool ip = c->cfg->cancel_in_progress;
    uint64_t n = counted ? orch_cancel_cancellable(j->counts, ip) : 0;
    enum orch_cancel_outcome o = orch_cancel_classify(status, code, counted, n);
    json_t *tasks = counted ? json_integer((json_int_t)n) : json_null();
    char line[256];

    count_outcome(c, o, code, counted, n);
    if (o == ORCH_CANCEL_REQUESTED || o == ORCH_CANCEL_NOTHING ||
        o == ORCH_CANCEL_FINISHED)
        journal_done(c, j->job_id, code, o, tasks);
    orch_cancel_describe(line, sizeof(line), o, code,
                         counted ? j->counts : NULL, ip);
    if (o != ORCH_CANCEL_NOT_SENT)
        fprintf(c->hout, "  job %s: %s\n", j->job_id, line);
    if (c->results)
        json_array_append_new(
            c->results, json_pack("{s:s, s:s, s:O, s:s}", "job_id", j->job_id,
                                  "outcome", orch_cancel_outcome_name(o),
                                  "tasks_cancellable", tasks, "code", code));
    json_decref(tasks);
}

static int build_cancel(void *ud, size_t item, struct orch_params *out)
{
    struct cancel_ctx *c = ud;
    const char *job = c->r.jobs[c->todo[item]].job_id;
    int rc = orch_api_job_params(out, c->cfg->iot_instance_id, job);

    if (rc == 0)
        rc = orch_api_cancel_flags_params(out, c->cfg->cancel_in_progress);
    return rc;
}

static void cancel_done(void *ud, size_t item,
                        const struct orch_item_result *res)
{
    struct cancel_ctx *c = ud;

    job_outcome(c, item, res->status, res->error_code ? res->error_code : "");
}

/* Lists the tasks of the jobs to cancel (tasklist.h). A listing that
 * fails only leaves that job uncounted. Returns 0, or an exit code (setup
 * error, aborted). */
static int count_tasks(struct cancel_ctx *c,
                       const struct orch_credentials *cred)
{
    struct orch_tasklist tl;
    struct orch_dispatch_stats st;
    struct orch_diag diag = {{0}};
    int rc = 0;

    memset(&tl, 0, sizeof(tl));
    tl.cfg = c->cfg;
    tl.cred = cred;
    tl.jobs = c->r.jobs;
    tl.which = c->todo;
    tl.n = c->ntodo;
    tl.agg = &c->agg;
    tl.label[0] = tl.label[1] = "jobs' tasks counted";
    rc = orch_tasklist_run(&tl, orch_interrupt_counter(), &st, &diag);
    if (rc) {
        orch_reason_diag(&c->why, rc, &diag);
        return ORCH_EXIT_USAGE;
    }
    if (orch_interrupt_level() || st.aborted) {
        orch_reason_errorf(&c->why, "cancel aborted: %s; nothing cancelled",
                           st.abort_reason[0] ? st.abort_reason
                                              : "interrupted");
        return ORCH_EXIT_ABORTED;
    }
    return 0;
}

/* The cancel batch, at the action's quota (or --query-qps when lower).
 * Returns 0 with *st filled, or ORCH_EXIT_USAGE (setup error). */
static int send_cancels(struct cancel_ctx *c,
                        const struct orch_credentials *cred,
                        struct orch_dispatch_stats *st)
{
    struct orch_query_batch b;
    struct orch_diag diag = {{0}};
    double qps = c->cfg->query_qps;
    int rc = 0;

    memset(&b, 0, sizeof(b));
    b.action = "CancelOTATaskByJob";
    b.qps = qps < ORCH_CANCEL_QPS ? qps : ORCH_CANCEL_QPS;
    b.nitems = c->ntodo;
    b.build = build_cancel;
    b.done = cancel_done;
    b.ud = c;
    b.label = "jobs cancelled";
    rc = orch_query_run(c->cfg, cred, &b, orch_interrupt_counter(), st, &diag);
    if (rc) {
        orch_reason_diag(&c->why, rc, &diag);
        return ORCH_EXIT_USAGE;
    }
    return 0;
}

/* ------------------------------------------------------------ the edge */

/* Returns 0 to go on, or an exit code. */
static int confirm(struct cancel_ctx *c)
{
    char line[64];

    if (c->cfg->yes)
        return ORCH_EXIT_OK;
    if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO)) {
        orch_reason_errorf(
            &c->why, "not asking for confirmation without a terminal; pass "
                     "--yes to cancel the jobs");
        return ORCH_EXIT_USAGE;
    }
    fprintf(stderr, "Cancel the %s tasks of %zu job%s? [y/N] ",
            c->cfg->cancel_in_progress
                ? "queued, notified, scheduled and IN-PROGRESS"
                : "queued, notified and scheduled",
            c->ntodo, c->ntodo == 1 ? "" : "s");
    fflush(stderr);
    if (fgets(line, sizeof(line), stdin) == NULL ||
        (strcmp(line, "y\n") != 0 && strcmp(line, "Y\n") != 0 &&
         strcasecmp(line, "yes\n") != 0)) {
        orch_reason_errorf(&c->why, "not confirmed; nothing cancelled");
        return ORCH_EXIT_ABORTED;
    }
    return ORCH_EXIT_OK;
}

static void print_final(const struct cancel_ctx *c)
{
    size_t i = 0;

    fprintf(c->hout, "\ncancel summary:\n");
    fprintf(c->hout, "  jobs in the report: %zu\n", c->r.njobs);
    fprintf(c->hout, "  skipped (cancelled by an earlier run): %zu\n",
            c->skipped);
    fprintf(c->hout,
            "  cancel requested: %zu job%s (%" PRIu64 " task%s still "
            "cancellable%s)\n",
            c->cancelled, c->cancelled == 1 ? "" : "s", c->tasks,
            c->tasks == 1 ? "" : "s",
            c->uncounted ? ", some jobs not counted" : "");
    if (c->uncounted)
        fprintf(c->hout, "    tasks not counted (listing failed): %zu job%s\n",
                c->uncounted, c->uncounted == 1 ? "" : "s");
    fprintf(c->hout,
            "  nothing left to cancel: %zu, already finished: %zu, failed: "
            "%zu, not sent: %zu\n",
            c->nothing, c->finished, c->failed, c->not_sent);
    for (i = 0; i < c->codes.count; i++)
        fprintf(c->hout, "  error %s: %zu job%s\n", c->codes.e[i].code,
                c->codes.e[i].n, c->codes.e[i].n == 1 ? "" : "s");
    fprintf(c->hout, "  journal: %s\n", c->journal_path);
    if (c->failed + c->not_sent > 0)
        fprintf(c->hout, "  rerun the same command to retry the jobs left\n");
    fflush(c->hout);
}

/* --json: the one document on stdout; --log-format json: the same as a
 * "summary" event on stderr. c may be NULL (an error before the command
 * could start). Returns code, or ORCH_EXIT_USAGE when the document could
 * not be written. */
static int emit_doc(const struct orch_config *cfg, const struct cancel_ctx *c,
                    int code, const char *reason)
{
    struct orch_cancel_counts n;
    json_t *doc = NULL;

    if (!orch_cmddoc_wanted(cfg->json))
        return code;
    memset(&n, 0, sizeof(n));
    if (c) {
        n.jobs = c->r.njobs;
        n.skipped = c->skipped;
        n.cancelled = c->cancelled;
        n.finished = c->finished;
        n.failed = c->failed;
        n.not_sent = c->not_sent;
        n.nothing = c->nothing;
        n.tasks = c->tasks;
        n.uncounted = c->uncounted;
    }
    doc = orch_cancel_json_doc(
        cfg->inventory_path, cfg->cancel_in_progress,
        c && c->counting ? &n : NULL, c ? &c->codes : NULL,
        c && c->journal_open ? c->journal_path : NULL, code, reason);
    if (doc && c && c->counting && c->results)
        json_object_set(doc, "jobs_cancelled", c->results);
    return orch_cmddoc_emit(doc, "cancel", code, reason, cfg->json);
}

int orch_cancel_emit_error(const struct orch_config *cfg, int code,
                           const char *reason)
{
    orch_errorf("%s", reason ? reason : "");
    return emit_doc(cfg, NULL, code, reason ? reason : "");
}

/* The exit reason of the document. */
static const char *exit_reason(const struct cancel_ctx *c, int code, char *buf,
                               size_t bufsz)
{
    if (code == ORCH_EXIT_OK) {
        snprintf(buf, bufsz, "%s",
                 c->ntodo == 0 ? "every job was already cancelled"
                               : "every job cancelled, with nothing left to "
                                 "cancel, or finished");
        return buf;
    }
    if (code == ORCH_EXIT_PARTIAL && c->failed + c->not_sent > 0) {
        snprintf(buf, bufsz, "%zu job%s failed, %zu not sent", c->failed,
                 c->failed == 1 ? "" : "s", c->not_sent);
        return buf;
    }
    return c->why.text;
}

/* ------------------------------------------------------- the command */

/* The report, the journal and what is left to cancel. Returns 0 or an
 * exit code. */
static int start(struct cancel_ctx *c)
{
    struct orch_diag diag = {{0}};
    const char *report = c->cfg->inventory_path;
    size_t i = 0;
    int rc = 0;

    rc = orch_rollout_load(&c->r, report, &diag);
    if (rc) {
        orch_reason_diag(&c->why, rc, &diag);
        return ORCH_EXIT_USAGE;
    }
    c->counting = true;
    c->journal_path = orch_report_sibling(report, ".cancel.journal");
    c->skip = calloc(c->r.njobs + 1, sizeof(*c->skip));
    c->todo = calloc(c->r.njobs + 1, sizeof(*c->todo));
    c->results = json_array();
    if (c->journal_path == NULL || c->skip == NULL || c->todo == NULL ||
        c->results == NULL) {
        orch_reason_errorf(&c->why, "out of memory");
        return ORCH_EXIT_USAGE;
    }
    if (open_journal(c))
        return ORCH_EXIT_USAGE;
    for (i = 0; i < c->r.njobs; i++) {
        if (!c->skip[i])
            c->todo[c->ntodo++] = i;
    }
    fprintf(c->hout,
            "report: %s: %zu job%s, %zu already cancelled (journal %s), %zu "
            "to cancel%s\n",
            report, c->r.njobs, c->r.njobs == 1 ? "" : "s", c->skipped,
            c->journal_path, c->ntodo,
            c->cfg->cancel_in_progress ? " (in-progress tasks too)" : "");
    return 0;
}

/* The credentials, then the user's yes. Returns 0 or an exit code. */
static int prepare(struct cancel_ctx *c, struct orch_credentials *cred)
{
    if (orch_credcmd_open(cred, c->cfg->profile, c->hout, &c->why))
        return ORCH_EXIT_USAGE;
    return confirm(c);
}

/* Counts the tasks, then cancels, with Ctrl-C handled. Returns the exit
 * code. */
static int cancel_jobs(struct cancel_ctx *c,
                       const struct orch_credentials *cred)
{
    struct orch_dispatch_stats st;
    int code = 0;

    memset(&st, 0, sizeof(st));
    orch_interrupt_install(1);
    code = count_tasks(c, cred);
    if (code) {
        orch_interrupt_uninstall();
        c->not_sent = c->ntodo;
        print_final(c);
        return code;
    }
    code = send_cancels(c, cred, &st);
    orch_interrupt_uninstall();
    if (code)
        return code;
    print_final(c);
    if (c->journal_err)
        orch_warnf("%s: writing the journal failed (%s); a rerun will "
                   "cancel some jobs again (harmless)",
                   c->journal_path, orch_strerror(c->journal_err));
    if (st.aborted || orch_interrupt_level()) {
        orch_reason_errorf(&c->why, "cancel aborted: %s",
                           st.abort_reason[0] ? st.abort_reason
                                              : "interrupted");
        return ORCH_EXIT_ABORTED;
    }
    return c->failed + c->not_sent > 0 ? ORCH_EXIT_PARTIAL : ORCH_EXIT_OK;
}

/* The context of one run, before anything is read. NULL: out of memory. */
static struct cancel_ctx *cancel_ctx_new(const struct orch_config *cfg)
{
    struct cancel_ctx *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->cfg = cfg;
    orch_taskagg_init(&c->agg);
    /* --log-format json: stderr carries JSON lines only. */
    c->hout = orch_msgs_json() ? fopen("/dev/null", "w") : NULL;
    if (c->hout == NULL)
        c->hout = stderr;
    return c;
}

static void cancel_ctx_free(struct cancel_ctx *c)
{
    if (c->hout != stderr)
        fclose(c->hout);
    orch_rollout_cleanup(&c->r);
    free(c->skip);
    free(c->todo);
    orch_taskagg_cleanup(&c->agg);
    json_decref(c->results);
    free(c->journal_path);
    free(c);
}

int orch_cancel_main(struct orch_config *cfg)
{
    struct cancel_ctx *c = NULL;
    struct orch_credentials cred;
    char reason[128];
    int code = ORCH_EXIT_OK;

    memset(&cred, 0, sizeof(cred));
    c = cancel_ctx_new(cfg);
    if (c == NULL)
        return orch_cancel_emit_error(cfg, ORCH_EXIT_USAGE, "out of memory");
    signal(SIGPIPE, SIG_IGN);
    code = start(c);
    if (code == 0 && c->ntodo == 0) {
        print_final(c);
        goto out;
    }
    if (code == 0)
        code = prepare(c, &cred);
    if (code == 0)
        code = cancel_jobs(c, &cred);
out:
    if (c->journal_open && orch_journal_close(&c->j) && code == ORCH_EXIT_OK) {
        orch_reason_errorf(&c->why, "%s: closing the journal failed",
                           c->journal_path);
        code = ORCH_EXIT_PARTIAL;
    }
    code = emit_doc(cfg, c, code, exit_reason(c, code, reason, sizeof(reason)));
    orch_credentials_cleanup(&cred);
    cancel_ctx_free(c);
    return code;
}
