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
 * ALL/GRAY targets have no inventory: one item, built with chunk == NULL.
 * The SIGINT handler only counts (1: stop starting calls, 2: abort the
 * in-flight ones); the dispatcher polls the counter.
 * Everything the dispatcher calls back runs on this thread.
 */
#include "orch/run.h"

#include "orch/api.h"
#include "orch/config.h"
#include "orch/credentials.h"
#include "orch/dispatch.h"
#include "orch/err.h"
#include "orch/exitcode.h"
#include "orch/inventory.h"
#include "orch/msgs.h"
#include "orch/params.h"
#include "orch/plan.h"
#include "orch/report.h"
#include "orch/timeparse.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define FAILED_HEADER "ProductKey,DeviceName,error_code"
#define REJECTS_HEADER "line,value,reason"
#define MAX_SHOWN_REJECTS 10
#define MAX_CODES 8

static volatile sig_atomic_t interrupted;

/* Only counts (STYLE: the handler sets a flag and nothing else); the
 * progress tick, about once a second, tells the user what happens next. */
static void on_sigint(int sig)
{
    (void)sig;
    if (interrupted < 2)
        interrupted++;
}

struct code_count {
    char code[128];
    size_t chunks;
};

struct run_ctx {
    const struct orch_config *cfg;
    struct orch_inventory inv;
    struct orch_plan plan;
    bool specific; /* inventory and plan in use */
    size_t nitems;

    struct orch_csv_out report, failed, rejects;
    bool report_open, failed_open, rejects_open;
    int write_err; /* first failed write, 0 if none */

    /* `plan`: the first rejected rows, to show */
    char shown[MAX_SHOWN_REJECTS][160];
    size_t nshown;

    /* final error codes of failed / not_sent chunks */
    struct code_count codes[MAX_CODES];
    size_t ncodes;

    bool progress; /* a progress line on stderr */
    uint64_t start_ms;
    size_t progress_len; /* width of the last progress line */
    int interrupts_told; /* interrupts already explained */
};

void orch_run_format_secs(char *out, size_t outsz, double secs)
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

/* --- inventory rejects ------------------------------------------------- */

static int on_reject(void *ud, uint32_t line, const char *value,
                     const char *reason)
{
    struct run_ctx *ctx = ud;
    char num[16];
    const char *cells[3];
    int rc = 0;

    if (ctx->rejects_open) {
        snprintf(num, sizeof(num), "%" PRIu32, line);
        cells[0] = num;
        cells[1] = value;
        cells[2] = reason;
        rc = orch_csv_out_row(&ctx->rejects, cells, 3);
        if (rc && ctx->write_err == 0)
            ctx->write_err = rc;
        return rc ? 1 : 0;
    }
    if (ctx->nshown < MAX_SHOWN_REJECTS) {
        snprintf(ctx->shown[ctx->nshown], sizeof(ctx->shown[0]),
                 "line %" PRIu32 ": \"%.60s\": %s", line, value ? value : "",
                 reason ? reason : "");
        ctx->nshown++;
    }
    return 0;
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
    rc = orch_inventory_load(&ctx->inv, cfg->inventory_path, &opts, &diag);
    if (rc == 0 && ctx->write_err)
        rc = ORCH_EIO;
    if (rc == 0)
        return ORCH_EXIT_OK;
    orch_errorf("%s", diag.msg[0] ? diag.msg : orch_strerror(rc));
    if (rc == ORCH_ECSV || rc == ORCH_EINVENTORY)
        return ORCH_EXIT_INVENTORY;
    return ORCH_EXIT_USAGE;
}

/* --- summaries ---------------------------------------------------------- */

static void print_products(const struct run_ctx *ctx, FILE *fp)
{
    const struct orch_inventory *inv = &ctx->inv;
    size_t p = 0, c = 0;

    for (p = 0; p < inv->nproducts; p++) {
        size_t devices = 0;
        const char *fw = NULL;

        for (c = 0; c < ctx->plan.nchunks; c++) {
            if (ctx->plan.chunks[c].product == p) {
                devices += ctx->plan.chunks[c].count;
                fw = ctx->plan.chunks[c].firmware_id;
            }
        }
        size_t chunks =
            ctx->plan.chunks_per_product ? ctx->plan.chunks_per_product[p] : 0;

        fprintf(fp, "  product %s: %zu device%s, %zu chunk%s, firmware %s\n",
                inv->products[p], devices, devices == 1 ? "" : "s", chunks,
                chunks == 1 ? "" : "s", fw ? fw : "(none)");
    }
}

static void print_summary(const struct run_ctx *ctx, FILE *fp)
{
    const struct orch_config *cfg = ctx->cfg;
    char dur[32];
    size_t i = 0;

    if (ctx->specific) {
        const struct orch_inventory *inv = &ctx->inv;
        char d[8];

        if (inv->delimiter == '\t')
            snprintf(d, sizeof(d), "tab");
        else
            snprintf(d, sizeof(d), "'%c'", inv->delimiter);
        fprintf(fp, "inventory: %s (%zu rows, delimiter %s)\n",
                cfg->inventory_path, inv->rows, d);
        fprintf(fp, "devices: %zu\n", inv->n);
        fprintf(fp, "duplicates dropped: %zu\n", inv->duplicates);
        fprintf(fp, "rows rejected: %zu\n", inv->rejected);
        for (i = 0; i < ctx->nshown; i++)
            fprintf(fp, "  %s\n", ctx->shown[i]);
        if (ctx->rejects_open && inv->rejected > 0)
            fprintf(fp, "  (written to %s)\n", ctx->rejects.path);
        if (inv->rejected > ctx->nshown && ctx->nshown > 0 &&
            !ctx->rejects_open)
            fprintf(fp, "  ... (run writes them all to %s.rejects.csv)\n",
                    cfg->report_path);
        fprintf(fp, "products: %zu\n", inv->nproducts);
        print_products(ctx, fp);
        fprintf(fp, "chunks: %zu (up to %d devices each)\n", ctx->plan.nchunks,
                cfg->chunk_size);
    } else {
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
    /* The limiter allows `qps` starts in any one second, so n calls need
     * about n / qps seconds. */
    orch_run_format_secs(dur, sizeof(dur), (double)ctx->nitems / cfg->qps);
    fprintf(fp, "calls needed: %zu, about %s at %g calls/s\n", ctx->nitems, dur,
            cfg->qps);
    fprintf(fp, "endpoint: %s (signature V%d)\n", cfg->endpoint,
            cfg->signature_version);
    fprintf(fp, "report: %s\n", cfg->report_path);
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
            fprintf(fp, "%s=%s\n", p.v[i].name, p.v[i].value);
    }
    orch_params_cleanup(&p);
    return rc;
}

/* --- dispatcher callbacks ---------------------------------------------- */

static int build_item(void *ud, size_t item, struct orch_params *out)
{
    struct run_ctx *ctx = ud;

    if (!ctx->specific)
        return orch_api_create_params(out, ctx->cfg, NULL, NULL);
    return orch_api_create_params(out, ctx->cfg, &ctx->plan,
                                  &ctx->plan.chunks[item]);
}

static uint32_t group_item(void *ud, size_t item)
{
    struct run_ctx *ctx = ud;

    return ctx->specific ? ctx->plan.chunks[item].product : 0;
}

static void count_code(struct run_ctx *ctx, const char *code)
{
    size_t i = 0;

    for (i = 0; i < ctx->ncodes; i++) {
        if (strcmp(ctx->codes[i].code, code) == 0) {
            ctx->codes[i].chunks++;
            return;
        }
    }
    if (ctx->ncodes < MAX_CODES) {
        snprintf(ctx->codes[ctx->ncodes].code, sizeof(ctx->codes[0].code), "%s",
                 code);
        ctx->codes[ctx->ncodes].chunks = 1;
        ctx->ncodes++;
    }
}

static void note_write(struct run_ctx *ctx, int rc)
{
    if (rc && ctx->write_err == 0)
        ctx->write_err = rc;
}

static void write_failed_devices(struct run_ctx *ctx,
                                 const struct orch_chunk *c, const char *code)
{
    const char *cells[3];
    uint32_t j = 0;

    cells[0] = orch_plan_product(&ctx->plan, c);
    cells[2] = code;
    for (j = 0; j < c->count; j++) {
        cells[1] = orch_plan_device(&ctx->plan, c, j);
        note_write(ctx, orch_csv_out_row(&ctx->failed, cells, 3));
    }
}

static void item_done(void *ud, size_t item, const struct orch_item_result *res)
{
    struct run_ctx *ctx = ud;
    const struct orch_config *cfg = ctx->cfg;
    const struct orch_response *r = res->resp;
    const struct orch_chunk *c = NULL;
    struct orch_report_row row;
    const char *code = res->error_code;

    memset(&row, 0, sizeof(row));
    row.chunk = (unsigned)item + 1;
    row.status = orch_item_status_name(res->status);
    row.attempts = res->attempts;
    if (ctx->specific) {
        c = &ctx->plan.chunks[item];
        row.product_key = orch_plan_product(&ctx->plan, c);
        row.firmware_id = c->firmware_id;
        row.device_count = c->count;
        row.first_device = orch_plan_device(&ctx->plan, c, 0);
        row.last_device = orch_plan_device(&ctx->plan, c, c->count - 1);
    } else {
        row.product_key = cfg->product_key;
        row.firmware_id = cfg->firmware_id;
    }
    if (r) {
        row.job_id = r->job_id;
        row.utc_create = r->utc_create;
        row.request_id = r->request_id;
    }
    if (res->status != ORCH_ITEM_CREATED) {
        if (code == NULL || *code == '\0')
            code = row.status;
        row.error_code = code;
        row.error_message = res->error_message;
        count_code(ctx, code);
    }
    note_write(ctx, orch_report_write_row(&ctx->report, &row));
    if (res->status != ORCH_ITEM_CREATED && c != NULL)
        write_failed_devices(ctx, c, code);
}

static void progress_tick(void *ud, size_t finished, size_t total)
{
    struct run_ctx *ctx = ud;
    double secs = (double)(orch_mono_ms() - ctx->start_ms) / 1000.0;
    double rate = secs > 0 ? (double)finished / secs : 0;
    char eta[32] = "?";
    int irq = (int)interrupted;
    int n = 0;

    if (irq > ctx->interrupts_told) {
        if (ctx->progress_len)
            fputc('\n', stderr);
        ctx->progress_len = 0;
        if (irq == 1)
            orch_notef("interrupted: no new calls are started; waiting for "
                       "the calls in flight (Ctrl-C again to abort them)");
        else
            orch_notef("interrupted again: aborting the calls in flight");
        ctx->interrupts_told = irq;
    }
    if (!ctx->progress)
        return;
    if (rate > 0)
        orch_run_format_secs(eta, sizeof(eta),
                             (double)(total - finished) / rate);
    n = fprintf(stderr, "\rchunks %zu/%zu, %.1f/s, ETA %s", finished, total,
                rate, eta);
    /* Blank out the rest of a longer previous line. */
    if (n > 0 && (size_t)n < ctx->progress_len)
        fprintf(stderr, "%*s", (int)(ctx->progress_len - (size_t)n), "");
    if (n > 0)
        ctx->progress_len = (size_t)n;
    fflush(stderr);
}

/* --- run steps ---------------------------------------------------------- */

/* An existing report may be the only record of jobs already created, so it
 * is not overwritten without --force. */
static int check_report_free(const struct orch_config *cfg)
{
    struct stat st;

    if (cfg->force || stat(cfg->report_path, &st) != 0)
        return ORCH_EXIT_OK;
    orch_errorf("report %s already exists (a previous run's record of the "
                "jobs it created?); pass --force to overwrite it or "
                "--report to write another file",
                cfg->report_path);
    return ORCH_EXIT_USAGE;
}

/* Returns 0 to go on, or an exit code. */
static int confirm(const struct run_ctx *ctx)
{
    char line[64];

    if (ctx->cfg->yes)
        return ORCH_EXIT_OK;
    if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO)) {
        orch_errorf("not asking for confirmation without a terminal; pass "
                    "--yes to create the jobs");
        return ORCH_EXIT_USAGE;
    }
    fprintf(stderr, "Create %zu upgrade job%s? Proceed? [y/N] ", ctx->nitems,
            ctx->nitems == 1 ? "" : "s");
    fflush(stderr);
    if (fgets(line, sizeof(line), stdin) == NULL ||
        (strcmp(line, "y\n") != 0 && strcmp(line, "Y\n") != 0 &&
         strcasecmp(line, "yes\n") != 0)) {
        orch_errorf("not confirmed; nothing sent");
        return ORCH_EXIT_ABORTED;
    }
    return ORCH_EXIT_OK;
}

static int open_outputs(struct run_ctx *ctx)
{
    const char *report = ctx->cfg->report_path;
    struct orch_diag diag = {{0}};
    char *failed = orch_report_sibling(report, ".failed.csv");
    int rc = 0;

    if (failed == NULL)
        return ORCH_ENOMEM;
    rc = orch_csv_out_open(&ctx->report, report, ORCH_REPORT_HEADER, &diag);
    if (rc == 0) {
        ctx->report_open = true;
        rc = orch_csv_out_open(&ctx->failed, failed, FAILED_HEADER, &diag);
    }
    if (rc == 0)
        ctx->failed_open = true;
    else
        orch_errorf("%s", diag.msg[0] ? diag.msg : orch_strerror(rc));
    free(failed);
    return rc;
}

static int open_rejects(struct run_ctx *ctx)
{
    struct orch_diag diag = {{0}};
    char *path = orch_report_sibling(ctx->cfg->report_path, ".rejects.csv");
    int rc = 0;

    if (path == NULL)
        return ORCH_ENOMEM;
    rc = orch_csv_out_open(&ctx->rejects, path, REJECTS_HEADER, &diag);
    if (rc == 0)
        ctx->rejects_open = true;
    else
        orch_errorf("%s", diag.msg[0] ? diag.msg : orch_strerror(rc));
    free(path);
    return rc;
}

static void print_final(const struct run_ctx *ctx,
                        const struct orch_dispatch_stats *st, uint64_t wall_ms)
{
    double secs = (double)wall_ms / 1000.0;
    double active = 0;
    char dur[32];
    size_t i = 0;

    if (st->last_end_ms > st->first_start_ms)
        active = (double)(st->last_end_ms - st->first_start_ms) / 1000.0;
    /* A run shorter than a second did not sustain more than its calls per
     * second; dividing by a fraction of a second would claim it did. */
    if (st->calls > 0 && active < 1.0)
        active = 1.0;
    orch_run_format_secs(dur, sizeof(dur), secs);
    fprintf(stderr, "\nsummary:\n");
    if (ctx->specific)
        fprintf(stderr, "  devices: %zu\n", ctx->inv.n);
    fprintf(stderr,
            "  chunks: %" PRIu64 " created, %" PRIu64 " failed, %" PRIu64
            " not sent (of %zu)\n",
            st->created, st->failed, st->not_sent, ctx->nitems);
    fprintf(stderr,
            "  calls: %" PRIu64 ", retries: %" PRIu64
            ", throttled answers: %" PRIu64 ", form-body fallbacks: %" PRIu64
            "\n",
            st->calls, st->retries, st->throttled, st->form_fallbacks);
    fprintf(stderr, "  wall time: %s, %.2f calls/s\n", dur,
            active > 0 ? (double)st->calls / active : 0.0);
    for (i = 0; i < ctx->ncodes; i++)
        fprintf(stderr, "  error %s: %zu chunk%s\n", ctx->codes[i].code,
                ctx->codes[i].chunks, ctx->codes[i].chunks == 1 ? "" : "s");
    fprintf(stderr, "  report: %s\n", ctx->cfg->report_path);
    if (ctx->specific && st->failed + st->not_sent > 0)
        fprintf(stderr,
                "  failed devices: %s.failed.csv (rerun: "
                "ota-rollout run %s.failed.csv ...)\n",
                ctx->cfg->report_path, ctx->cfg->report_path);
}

static int dispatch(struct run_ctx *ctx, const struct orch_credentials *cred)
{
    struct orch_dispatch_ops ops;
    struct orch_dispatch_stats st;
    struct orch_diag diag = {{0}};
    struct sigaction sa, old_int;
    uint64_t t0 = orch_mono_ms();
    int rc = 0;

    memset(&ops, 0, sizeof(ops));
    memset(&st, 0, sizeof(st));
    ops.action = "CreateOTAStaticUpgradeJob";
    ops.nitems = ctx->nitems;
    ops.build = build_item;
    ops.group = group_item;
    ops.done = item_done;
    ops.progress = progress_tick;
    ops.ud = ctx;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    interrupted = 0;
    sigaction(SIGINT, &sa, &old_int);
    ctx->start_ms = t0;
    rc = orch_dispatch_run(ctx->cfg, cred, &ops, &interrupted, &st, &diag);
    sigaction(SIGINT, &old_int, NULL);
    if (ctx->progress && ctx->progress_len)
        fputc('\n', stderr);
    if (rc) {
        orch_errorf("%s", diag.msg[0] ? diag.msg : orch_strerror(rc));
        return ORCH_EXIT_USAGE;
    }
    print_final(ctx, &st, orch_mono_ms() - t0);
    if (st.aborted || interrupted) {
        orch_errorf("run aborted: %s", st.abort_reason[0] ? st.abort_reason
                                       : interrupted      ? "interrupted"
                                                          : "stopped");
        return ORCH_EXIT_ABORTED;
    }
    if (st.failed + st.not_sent > 0)
        return ORCH_EXIT_PARTIAL;
    return ORCH_EXIT_OK;
}

static int close_outputs(struct run_ctx *ctx)
{
    int rc = 0;

    if (ctx->report_open)
        note_write(ctx, orch_csv_out_close(&ctx->report));
    if (ctx->failed_open)
        note_write(ctx, orch_csv_out_close(&ctx->failed));
    if (ctx->rejects_open)
        note_write(ctx, orch_csv_out_close(&ctx->rejects));
    ctx->report_open = ctx->failed_open = ctx->rejects_open = false;
    rc = ctx->write_err;
    if (rc)
        orch_errorf("writing the report files failed (%s): the report may "
                    "be incomplete",
                    orch_strerror(rc));
    return rc;
}

int orch_run_main(struct orch_config *cfg)
{
    struct run_ctx *ctx = NULL;
    struct orch_credentials cred;
    struct orch_diag diag = {{0}};
    bool is_run = cfg->command == ORCH_CMD_RUN;
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
    ctx->progress = cfg->progress && isatty(STDERR_FILENO);
    orch_inventory_init(&ctx->inv);
    signal(SIGPIPE, SIG_IGN);

    if (is_run) {
        code = check_report_free(cfg);
        if (code)
            goto out;
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
            orch_errorf("%s", diag.msg[0] ? diag.msg : orch_strerror(rc));
            code = ORCH_EXIT_USAGE;
            goto out;
        }
        ctx->nitems = ctx->plan.nchunks;
    } else {
        ctx->nitems = 1;
    }

    if (!is_run) {
        print_summary(ctx, stdout);
        if (print_first_request(ctx, stdout)) {
            orch_errorf("out of memory");
            code = ORCH_EXIT_USAGE;
        }
        goto out;
    }

    print_summary(ctx, stderr);
    if (ctx->nitems == 0) {
        orch_errorf("%s: no valid devices to upgrade; nothing sent",
                    cfg->inventory_path);
        code = ORCH_EXIT_INVENTORY;
        goto out;
    }
    rc = orch_credentials_load(&cred, cfg->profile, getenv("HOME"), &diag);
    if (rc) {
        orch_errorf("%s", diag.msg[0] ? diag.msg : orch_strerror(rc));
        code = ORCH_EXIT_USAGE;
        goto out;
    }
    fprintf(stderr, "credentials: %s, AccessKeyId %s%s\n", cred.source,
            cred.access_key_id, cred.token.s ? " (STS)" : "");
    code = confirm(ctx);
    if (code)
        goto out;
    if (open_outputs(ctx)) {
        code = ORCH_EXIT_USAGE;
        goto out;
    }
    code = dispatch(ctx, &cred);

out:
    if (close_outputs(ctx) && code == ORCH_EXIT_OK)
        code = ORCH_EXIT_PARTIAL;
    orch_credentials_cleanup(&cred);
    if (ctx->specific)
        orch_plan_cleanup(&ctx->plan);
    orch_inventory_cleanup(&ctx->inv);
    free(ctx);
    return code;
}
