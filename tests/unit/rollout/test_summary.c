/* test_summary.c - the human summaries of `run` and `plan`, written into
 * a memory stream, and the --json document's exit reason and plan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "orch/model/config.h"
#include "orch/engine/dispatch.h"
#include "orch/base/err.h"
#include "orch/base/exitcode.h"
#include "orch/model/inventory.h"
#include "orch/rollout/outcome.h"
#include "orch/model/plan.h"
#include "orch/rollout/devcheck.h"
#include "orch/rollout/preflight.h"
#include "orch/rollout/summary.h"
#include "orch/base/tally.h"
#include "torture.h"

/* Closes the captured stream and checks its whole text. */
static void check_text(struct torture_capture *m, const char *want)
{
    char *got = torture_capture_close(m);

    assert_string_equal(got, want);
    free(got);
}

struct fixture {
    struct orch_config cfg;
    struct orch_inventory inv;
    struct orch_plan plan;
    struct orch_summary_rows shown;
};

/* 3 devices of pkA and 2 of pkB (a third row of pkB is invalid and
 * skipped, one pkA row a duplicate) in chunks of 2. */
static int setup(void **state)
{
    static const char csv[] = "DeviceName,ProductKey\n"
                              "dev-a1,pkA\ndev-b1,pkB\ndev-a2,pkA\n"
                              "x,pkB\ndev-a3,pkA\ndev-b2,pkB\ndev-a1,pkA\n";
    struct orch_inventory_opts opts;
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    memset(&opts, 0, sizeof(opts));
    opts.skip_invalid = true;
    orch_config_init(&f->cfg);
    f->cfg.chunk_size = 2;
    f->cfg.qps = 20;
    f->cfg.signature_version = 3;
    f->cfg.firmware_id = strdup("FW1");
    f->cfg.inventory_path = strdup("fleet.csv");
    f->cfg.report_path = strdup("fleet.csv.report.csv");
    free(f->cfg.endpoint);
    f->cfg.endpoint = strdup("http://127.0.0.1:1");
    torture_plan(&f->plan, &f->inv, &f->cfg, csv, &opts);
    orch_summary_rows_add(&f->shown, 5, "x", "too short");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    torture_plan_cleanup(&f->plan, &f->inv, &f->cfg);
    free(f);
    return 0;
}

static void plan_facts(struct fixture *f, struct orch_summary_plan *sp)
{
    memset(sp, 0, sizeof(*sp));
    sp->cfg = &f->cfg;
    sp->inv = &f->inv;
    sp->plan = &f->plan;
    sp->nitems = f->plan.nchunks;
    sp->calls = f->plan.nchunks;
    sp->rejected = &f->shown;
}

static void durations(void **state)
{
    char out[32];

    (void)state;
    orch_summary_format_secs(out, sizeof(out), 0.8);
    assert_string_equal(out, "0.8 s");
    orch_summary_format_secs(out, sizeof(out), -3);
    assert_string_equal(out, "0.0 s");
    orch_summary_format_secs(out, sizeof(out), 250);
    assert_string_equal(out, "4 min 10 s");
    orch_summary_format_secs(out, sizeof(out), 7500);
    assert_string_equal(out, "2 h 05 min");
}

static void calls_rate(void **state)
{
    struct orch_dispatch_stats st;

    (void)state;
    memset(&st, 0, sizeof(st));
    assert_true(orch_summary_calls_rate(&st) == 0.0);
    /* 21 evenly spaced starts over 1 s: 20 intervals. */
    st.calls = 21;
    st.first_start_ms = 1000;
    st.last_start_ms = 2000;
    st.last_end_ms = 2300;
    assert_true(orch_summary_calls_rate(&st) == 20.0);
    /* One call: per second of activity, at least one second. */
    st.calls = 1;
    st.last_start_ms = 1000;
    st.last_end_ms = 1300;
    assert_true(orch_summary_calls_rate(&st) == 1.0);
    st.calls = 4;
    st.last_end_ms = 3000;
    assert_true(orch_summary_calls_rate(&st) == 2.0);
}

static void rows_kept_up_to_the_limit(void **state)
{
    struct orch_summary_rows r;
    char big[100];
    int i = 0;

    (void)state;
    memset(&r, 0, sizeof(r));
    memset(big, 'v', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    orch_summary_rows_add(&r, 3, big, "bad");
    orch_summary_rows_add(&r, 4, NULL, NULL);
    for (i = 0; i < 20; i++)
        orch_summary_rows_add(&r, 10 + (uint32_t)i, "v", "r");
    assert_int_equal(r.n, ORCH_SUMMARY_SHOWN);
    assert_int_equal(strlen(r.line[0]), strlen("line 3: \"\": bad") + 60);
    assert_string_equal(r.line[1], "line 4: \"\": ");
    assert_string_equal(r.line[9], "line 17: \"v\": r");
}

static void plan_summary_of_an_inventory(void **state)
{
    struct fixture *f = *state;
    struct orch_summary_plan sp;
    struct torture_capture m;

    plan_facts(f, &sp);
    orch_summary_print_plan(torture_capture_open(&m), &sp);
    check_text(&m, "inventory: fleet.csv (7 rows, delimiter ',')\n"
                   "devices: 5\n"
                   "duplicates dropped: 1\n"
                   "rows rejected: 1\n"
                   "  line 5: \"x\": too short\n"
                   "products: 2\n"
                   "  product pkA: 3 devices, 2 chunks, firmware FW1\n"
                   "  product pkB: 2 devices, 1 chunk, firmware FW1\n"
                   "chunks: 3 (up to 2 devices each)\n"
                   "calls needed: 3, about 0.1 s at 20 calls/s\n"
                   "endpoint: http://127.0.0.1:1 (signature V3)\n"
                   "report: fleet.csv.report.csv\n");
}

/* What orch_summary_print_plan() prints for sp, malloced. */
static char *plan_text(const struct orch_summary_plan *sp)
{
    struct torture_capture m;

    orch_summary_print_plan(torture_capture_open(&m), sp);
    return torture_capture_close(&m);
}

static void plan_summary_rejects_and_device_cost(void **state)
{
    struct fixture *f = *state;
    struct orch_summary_plan sp;
    char *got = NULL;

    plan_facts(f, &sp);
    sp.rejects_path = "fleet.csv.report.csv.rejects.csv";
    sp.device_cost = true;
    got = plan_text(&sp);
    assert_non_null(strstr(got, "  line 5: \"x\": too short\n"
                                "  (written to "
                                "fleet.csv.report.csv.rejects.csv)\n"
                                "products: 2\n"));
    /* One call per product (up to 100 devices each) at 5 calls/s. */
    assert_non_null(strstr(got, "calls needed: 3, about 0.1 s at 20 "
                                "calls/s\ndevice check: 2 calls, about "
                                "0.4 s at 5 calls/s\nendpoint: "));
    free(got);

    /* More rejected than shown, and no rejects file: say where run puts
     * them all. */
    f->inv.rejected = 12;
    sp.rejects_path = NULL;
    sp.device_cost = false;
    got = plan_text(&sp);
    assert_non_null(strstr(got, "rows rejected: 12\n"
                                "  line 5: \"x\": too short\n"
                                "  ... (run writes them all to "
                                "fleet.csv.report.csv.rejects.csv)\n"));
    assert_null(strstr(got, "device check"));
    free(got);
}

static void plan_summary_of_a_target(void **state)
{
    struct fixture *f = *state;
    struct orch_summary_plan sp;
    struct torture_capture m;

    f->cfg.target = ORCH_TARGET_GRAY;
    f->cfg.product_key = strdup("pkG");
    f->cfg.src_versions[0] = strdup("1.0");
    f->cfg.src_versions[1] = strdup("1.1");
    f->cfg.n_src_versions = 2;
    f->cfg.gray_percent = strdup("33.3");
    memset(&sp, 0, sizeof(sp));
    sp.cfg = &f->cfg;
    sp.nitems = 1;
    sp.calls = 1;
    sp.rejected = &f->shown;
    orch_summary_print_plan(torture_capture_open(&m), &sp);
    check_text(&m, "target: GRAY, product pkG, firmware FW1\n"
                   "src versions: 1.0 1.1\n"
                   "gray percent: 33.3\n"
                   "calls needed: 1, about 0.1 s at 20 calls/s\n"
                   "endpoint: http://127.0.0.1:1 (signature V3)\n"
                   "report: fleet.csv.report.csv\n");
}

static void preflight_result(void **state)
{
    struct orch_preflight_result pf;
    struct orch_fw_check checks[3];
    struct torture_capture m;

    (void)state;
    orch_preflight_result_init(&pf);
    orch_summary_print_preflight(torture_capture_open(&m), ORCH_PF_NOT_RUN,
                                 &pf);
    check_text(&m, "");

    memset(checks, 0, sizeof(checks));
    checks[0].product_key = "pkA";
    checks[0].firmware_id = "FW1";
    checks[0].verdict = ORCH_FW_OK;
    snprintf(checks[0].dest_version, sizeof(checks[0].dest_version), "2.0");
    checks[1].product_key = "pkB";
    checks[1].firmware_id = "FW2";
    checks[1].verdict = ORCH_FW_UNVERIFIED;
    snprintf(checks[1].message, sizeof(checks[1].message), "verify it");
    checks[2].product_key = "pkC";
    checks[2].firmware_id = "FW3";
    checks[2].verdict = ORCH_FW_MISSING;
    snprintf(checks[2].code, sizeof(checks[2].code),
             "iot.ota.FirmwareNotFound");
    snprintf(checks[2].message, sizeof(checks[2].message), "FW3 is missing");
    pf.checks = checks;
    pf.nchecks = 3;
    orch_summary_print_preflight(torture_capture_open(&m), ORCH_PF_FAILED, &pf);
    /* A failed check's message is an error line of its own (each
     * problem told once): the summary gives verdict and code. */
    check_text(&m, "pre-flight: FAILED\n"
                   "  firmware FW1 for product pkA: ok (version 2.0)\n"
                   "  firmware FW2 for product pkB: unverified\n"
                   "  firmware FW3 for product pkC: missing "
                   "(iot.ota.FirmwareNotFound)\n");
    pf.nchecks = 0;
    orch_summary_print_preflight(torture_capture_open(&m), ORCH_PF_SKIPPED,
                                 &pf);
    check_text(&m, "pre-flight: skipped\n");
}

static void dropped_devices(void **state)
{
    struct orch_device_check_stats st;
    struct orch_summary_rows shown;
    struct torture_capture m;

    (void)state;
    memset(&st, 0, sizeof(st));
    memset(&shown, 0, sizeof(shown));
    st.missing = 1;
    st.up_to_date = 2;
    st.unchecked = 3;
    orch_summary_rows_add(&shown, 4, "dev-x", "device does not exist");
    orch_summary_print_dropped(torture_capture_open(&m), &st, &shown,
                               "r.rejects.csv", 7);
    check_text(&m, "devices left out: missing 1, already on the firmware's "
                   "version 2, unchecked (kept) 3\n"
                   "  line 4: \"dev-x\": device does not exist\n"
                   "  (written to r.rejects.csv)\n"
                   "chunks after the device check: 7\n");
    st.missing = st.up_to_date = 0;
    orch_summary_print_dropped(torture_capture_open(&m), &st, &shown, NULL, 7);
    check_text(&m, "devices left out: missing 0, already on the firmware's "
                   "version 0, unchecked (kept) 3\n"
                   "  line 4: \"dev-x\": device does not exist\n"
                   "chunks after the device check: 7\n");
}

static void resume_and_whole_run(void **state)
{
    struct orch_summary_todo todo = {4, 1, 2};
    struct orch_outcome_counts c = {5, 1, 1};
    struct torture_capture m;

    (void)state;
    orch_summary_print_resume(torture_capture_open(&m), "abc123", 7, &todo);
    check_text(&m, "resuming run abc123: 4 of 7 chunks already done, 1 "
                   "interrupted (asked about before any resend), 2 to "
                   "send\n");
    orch_summary_print_resume(torture_capture_open(&m), NULL, 7, &todo);
    check_text(&m, "resuming run ?: 4 of 7 chunks already done, 1 "
                   "interrupted (asked about before any resend), 2 to "
                   "send\n");
    orch_summary_print_whole(torture_capture_open(&m), &c, 7);
    check_text(&m, "  whole run: 5 created, 1 failed, 1 not sent (of 7 "
                   "chunks)\n");
}

static void final_summary(void **state)
{
    struct fixture *f = *state;
    struct orch_dispatch_stats st;
    struct orch_device_check_stats dev;
    struct orch_tally codes;
    struct orch_summary_final sf;
    struct torture_capture m;

    st = (struct orch_dispatch_stats){.calls = 4, .retries = 1,
                                      .throttled = 1, .created = 2,
                                      .failed = 1, .first_start_ms = 0,
                                      .last_start_ms = 1500};
    dev = (struct orch_device_check_stats){.missing = 1, .up_to_date = 2};
    memset(&codes, 0, sizeof(codes));
    orch_tally_add(&codes, "iot.ota.X");
    memset(&sf, 0, sizeof(sf));
    sf.st = &st;
    sf.wall_ms = 2500;
    sf.nitems = 3;
    sf.inv = &f->inv;
    sf.devcheck = &dev;
    sf.codes = &codes;
    sf.report_path = "r.csv";
    orch_summary_print_final(torture_capture_open(&m), &sf);
    check_text(&m, "\nsummary:\n"
                   "  devices: 5\n"
                   "  left out by the device check: 1 missing, 2 already "
                   "upgraded (in r.csv.rejects.csv)\n"
                   "  chunks: 2 created, 1 failed, 0 not sent (of 3)\n"
                   "  calls: 4, retries: 1, throttled answers: 1, form-body "
                   "fallbacks: 0\n"
                   "  wall time: 2.50 s; over it 3 chunks finished (1.20 "
                   "chunks/s) and 4 calls were made (1.60 calls/s)\n"
                   "  sending pace: 2.00 calls/s (calls started 500.0 ms "
                   "apart on average)\n"
                   "  error iot.ota.X: 1 chunk\n"
                   "  report: r.csv\n");

    /* Stopped early: says why (the device files and the next step come
     * once, from the whole run: orch_summary_print_next). */
    sf.stopped = "interrupted";
    orch_summary_print_final(torture_capture_open(&m), &sf);
    torture_capture_close(&m);
    assert_non_null(strstr(m.buf, "  report: r.csv\n  stopped: "
                                  "interrupted\n"));
    assert_null(strstr(m.buf, "rerun"));
    free(m.buf);
    sf.stopped = NULL;

    /* ALL/GRAY: no device count, no failed-devices file. */
    sf.inv = NULL;
    sf.devcheck = NULL;
    memset(&codes, 0, sizeof(codes));
    st.created = 3;
    st.failed = 0;
    orch_summary_print_final(torture_capture_open(&m), &sf);
    check_text(&m, "\nsummary:\n"
                   "  chunks: 3 created, 0 failed, 0 not sent (of 3)\n"
                   "  calls: 4, retries: 1, throttled answers: 1, form-body "
                   "fallbacks: 0\n"
                   "  wall time: 2.50 s; over it 3 chunks finished (1.20 "
                   "chunks/s) and 4 calls were made (1.60 calls/s)\n"
                   "  sending pace: 2.00 calls/s (calls started 500.0 ms "
                   "apart on average)\n"
                   "  report: r.csv\n");
}

/* The final summary's line starting with prefix (after its indent). */
static const char *line_of(const char *text, const char *prefix)
{
    const char *p = strstr(text, prefix);

    assert_non_null(p);
    return p;
}

/* Every rate of the final summary is what its counts and seconds say
 * (within the printed rounding), and says what it measures: the reported
 * "calls: 3 ... 2.5 s, 19.80 calls/s" (3 calls started 50 ms apart, then
 * 2.4 s waiting for answers) reads 3 calls over 2.50 s, 1.20 calls/s, and
 * the pace apart. */
static void final_rates_agree_with_their_counts(void **state)
{
    static const struct {
        uint64_t calls, chunks, first, last, wall;
    } cases[] = {
        {3, 3, 1000, 1101, 2500},   /* the reported run */
        {50, 50, 0, 2450, 2710},    /* a paced run */
        {120, 100, 10, 9000, 30549}, /* retries, an odd span */
        {1, 1, 5, 5, 900},          /* one call: no pace */
    };
    size_t i = 0;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct orch_dispatch_stats st;
        struct orch_summary_final sf;
        struct orch_tally codes;
        struct torture_capture m;
        unsigned long chunks = 0, calls = 0, sumcalls = 0;
        double secs = 0, crate = 0, rate = 0, pace = 0, gap = 0;
        char *text = NULL;
        const char *pl = NULL;

        memset(&st, 0, sizeof(st));
        memset(&codes, 0, sizeof(codes));
        st.calls = cases[i].calls;
        st.retries = cases[i].calls - cases[i].chunks;
        st.created = cases[i].chunks;
        st.first_start_ms = cases[i].first;
        st.last_start_ms = cases[i].last;
        st.last_end_ms = cases[i].first + cases[i].wall;
        memset(&sf, 0, sizeof(sf));
        sf.st = &st;
        sf.wall_ms = cases[i].wall;
        sf.nitems = (size_t)cases[i].chunks;
        sf.codes = &codes;
        sf.report_path = "r.csv";
        orch_summary_print_final(torture_capture_open(&m), &sf);
        text = torture_capture_close(&m);
        assert_int_equal(sscanf(line_of(text, "calls: "), "calls: %lu,",
                                &sumcalls),
                         1);
        assert_int_equal(
            sscanf(line_of(text, "wall time: "),
                   cases[i].calls == 1
                       ? "wall time: %lf s; over it %lu chunk finished (%lf "
                         "chunks/s) and %lu call was made (%lf calls/s)"
                       : "wall time: %lf s; over it %lu chunks finished (%lf "
                         "chunks/s) and %lu calls were made (%lf calls/s)",
                   &secs, &chunks, &crate, &calls, &rate),
            5);
        assert_int_equal(calls, sumcalls);
        assert_int_equal(chunks, cases[i].chunks);
        assert_true(secs > 0);
        assert_true(rate >= (double)calls / (secs + 0.005) - 0.005);
        assert_true(rate <= (double)calls / (secs - 0.005) + 0.005);
        assert_true(crate >= (double)chunks / (secs + 0.005) - 0.005);
        assert_true(crate <= (double)chunks / (secs - 0.005) + 0.005);
        pl = strstr(text, "sending pace: ");
        if (cases[i].calls < 2) {
            assert_null(pl);
        } else {
            assert_non_null(pl);
            assert_int_equal(sscanf(pl,
                                    "sending pace: %lf calls/s (calls "
                                    "started %lf ms apart on average)",
                                    &pace, &gap),
                             2);
            /* The pace is its gap's inverse, and n starts span n - 1
             * gaps. */
            assert_true(pace * gap >= 1000.0 * 0.99 &&
                        pace * gap <= 1000.0 * 1.01);
            assert_true(fabs(gap * (double)(calls - 1) -
                             (double)(cases[i].last - cases[i].first)) <=
                        0.05 * (double)(calls - 1) + 1);
        }
        free(text);
    }
}

static const char *doc_reason(json_t *doc)
{
    return torture_json_str(doc, "exit", "reason");
}

static void json_exit_reasons(void **state)
{
    struct orch_run_summary s;
    json_t *doc = NULL;

    (void)state;
    memset(&s, 0, sizeof(s));
    s.command = "run";
    s.exit_code = ORCH_EXIT_OK;
    s.chunks = 0;
    s.exit_reason = "ignored";
    doc = orch_summary_doc(&s, NULL, NULL, "last");
    assert_non_null(doc);
    assert_string_equal(doc_reason(doc), "nothing to send");
    assert_true(json_is_null(json_object_get(doc, "plan")));
    json_decref(doc);

    s.chunks = 3;
    doc = orch_summary_doc(&s, NULL, NULL, "last");
    assert_string_equal(doc_reason(doc), "every chunk created");
    json_decref(doc);

    s.exit_code = ORCH_EXIT_PARTIAL;
    s.failed = 1;
    s.not_sent = 2;
    doc = orch_summary_doc(&s, NULL, NULL, "last");
    assert_string_equal(doc_reason(doc), "1 chunk failed, 2 not sent");
    json_decref(doc);

    s.failed = 2;
    doc = orch_summary_doc(&s, NULL, NULL, "last");
    assert_string_equal(doc_reason(doc), "2 chunks failed, 2 not sent");
    json_decref(doc);

    /* Partial without failed chunks (a report write failed): the error. */
    s.failed = s.not_sent = 0;
    doc = orch_summary_doc(&s, NULL, NULL, "writing the report failed");
    assert_string_equal(doc_reason(doc), "writing the report failed");
    json_decref(doc);

    s.exit_code = ORCH_EXIT_ABORTED;
    doc = orch_summary_doc(&s, NULL, NULL, "run aborted: interrupted");
    assert_string_equal(doc_reason(doc), "run aborted: interrupted");
    json_decref(doc);
}

static json_t *rec(const char *status, const char *code)
{
    return json_pack("{s:s, s:s, s:s?}", "t", "done", "status", status,
                     "code", code);
}

/* the one next step. While any chunk's outcome is unknown or
 * any chunk is not sent, it is resume, and the failed file is never
 * offered for a rerun; only when everything is decided is it. */
static void next_step_never_offers_a_rerun_while_undecided(void **state)
{
    json_t *rows[5];
    unsigned attempts[5] = {1, 3, 1, 1, 0};
    struct orch_summary_next nx;
    struct torture_capture m;
    char *cmd = NULL;

    (void)state;
    rows[0] = rec("created", NULL);
    rows[1] = rec("failed", "iot.ota.X");
    rows[2] = rec("failed", "Ambiguous");
    rows[3] = rec("not_sent", "Interrupted"); /* sent: aborted in flight */
    rows[4] = NULL;                           /* a later wave */
    memset(&nx, 0, sizeof(nx));
    nx.specific = true;
    orch_summary_count_next(rows, attempts, 5, &nx);
    assert_int_equal(nx.failed, 1);
    assert_int_equal(nx.unknown, 2);
    assert_int_equal(nx.not_sent, 1);
    assert_true(nx.specific);
    assert_int_equal(orch_summary_next_step(&nx), ORCH_NEXT_RESUME);
    assert_string_equal(orch_next_step_name(ORCH_NEXT_RESUME), "resume");
    cmd = orch_summary_next_command(ORCH_NEXT_RESUME, "r.csv");
    assert_string_equal(cmd, "ota-rollout resume r.csv");
    free(cmd);
    orch_summary_print_next(torture_capture_open(&m), &nx, "r.csv");
    check_text(&m, "  failed devices: r.csv.failed.csv\n"
                   "  devices with unknown outcome: r.csv.ambiguous.csv (2 "
                   "chunks: a job may hold them)\n"
                   "  next step: ota-rollout resume r.csv (looks up the 2 "
                   "chunks whose outcome is unknown before resending "
                   "anything, sends the 1 not sent); never run "
                   "r.csv.failed.csv or .ambiguous.csv as an inventory "
                   "before that: its devices could get a second job\n");

    /* Only a chunk not sent yet (nothing unknown): resume all the same. */
    nx.unknown = 0;
    assert_int_equal(orch_summary_next_step(&nx), ORCH_NEXT_RESUME);
    orch_summary_print_next(torture_capture_open(&m), &nx, "r.csv");
    torture_capture_close(&m);
    assert_null(strstr(m.buf, "rerun"));
    assert_null(strstr(m.buf, "ambiguous"));
    assert_non_null(strstr(m.buf, "next step: ota-rollout resume r.csv"));
    free(m.buf);

    /* Everything decided, failures left: now, and only now, the rerun. */
    json_decref(rows[2]);
    json_decref(rows[3]);
    rows[2] = rec("created", NULL);
    rows[3] = rec("failed", "iot.ota.Y");
    rows[4] = rec("created", NULL);
    orch_summary_count_next(rows, attempts, 5, &nx);
    assert_int_equal(nx.failed, 2);
    assert_int_equal(nx.unknown + nx.not_sent, 0);
    assert_int_equal(orch_summary_next_step(&nx), ORCH_NEXT_RERUN);
    assert_string_equal(orch_next_step_name(ORCH_NEXT_RERUN),
                        "rerun_failed");
    cmd = orch_summary_next_command(ORCH_NEXT_RERUN, "r.csv");
    assert_string_equal(cmd, "ota-rollout run r.csv.failed.csv ...");
    free(cmd);
    orch_summary_print_next(torture_capture_open(&m), &nx, "r.csv");
    check_text(&m, "  failed devices: r.csv.failed.csv (rerun: ota-rollout "
                   "run r.csv.failed.csv ...)\n");

    /* Every chunk created; an ALL/GRAY target has no device files. */
    nx.failed = 0;
    assert_int_equal(orch_summary_next_step(&nx), ORCH_NEXT_NONE);
    assert_null(orch_summary_next_command(ORCH_NEXT_NONE, "r.csv"));
    orch_summary_print_next(torture_capture_open(&m), &nx, "r.csv");
    check_text(&m, "");
    nx.specific = false;
    nx.unknown = 1;
    assert_int_equal(orch_summary_next_step(&nx), ORCH_NEXT_NONE);
    for (size_t i = 0; i < 5; i++)
        json_decref(rows[i]);
}

/* The --json document names the same one next step and the ambiguous
 * file. */
static void json_next_step(void **state)
{
    struct orch_run_summary s;
    json_t *doc = NULL, *next = NULL;

    (void)state;
    memset(&s, 0, sizeof(s));
    s.command = "run";
    s.exit_code = ORCH_EXIT_ABORTED;
    s.failed_file = "r.csv.failed.csv";
    s.ambiguous_file = "r.csv.ambiguous.csv";
    s.next_step = "resume";
    s.next_command = "ota-rollout resume r.csv";
    doc = orch_summary_doc(&s, NULL, NULL, "run aborted: interrupted");
    assert_non_null(doc);
    next = json_object_get(doc, "next_step");
    assert_string_equal(torture_json_str(next, NULL, "action"), "resume");
    assert_string_equal(torture_json_str(next, NULL, "command"),
                        "ota-rollout resume r.csv");
    assert_string_equal(torture_json_str(doc, "files", "ambiguous"),
                        "r.csv.ambiguous.csv");
    json_decref(doc);

    s.next_step = NULL;
    s.next_command = NULL;
    doc = orch_summary_doc(&s, NULL, NULL, "x");
    next = json_object_get(doc, "next_step");
    assert_string_equal(torture_json_str(next, NULL, "action"), "none");
    assert_true(json_is_null(json_object_get(next, "command")));
    json_decref(doc);
}

static void json_plan_object(void **state)
{
    struct fixture *f = *state;
    struct orch_run_summary s;
    struct orch_summary_plan sp;
    json_t *doc = NULL, *plan = NULL, *products = NULL;

    memset(&s, 0, sizeof(s));
    s.command = "plan";
    s.exit_code = ORCH_EXIT_OK;
    s.chunks = f->plan.nchunks;
    plan_facts(f, &sp);
    sp.device_cost = true;
    doc = orch_summary_doc(&s, &sp, NULL, "");
    assert_non_null(doc);
    assert_string_equal(doc_reason(doc), "plan printed");
    plan = json_object_get(doc, "plan");
    assert_non_null(plan);
    products = json_object_get(plan, "products");
    assert_int_equal(json_array_size(products), 2);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(products, 1),
                                          "product_key")),
        "pkB");
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(products, 0), "devices")),
                     3);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(products, 0), "chunks")),
                     2);
    json_decref(doc);
}

/* After a gate abort (WaveAborted rows) the next step is neither a
 * resume nor a rerun: review, with the command that shows the rollout;
 * the failed file is not named for those chunks. */
static void next_step_after_a_gate_abort(void **state)
{
    json_t *rows[3];
    struct orch_summary_next nx;
    struct torture_capture m;
    char *cmd = NULL;
    size_t i = 0;

    (void)state;
    rows[0] = rec("created", NULL);
    rows[1] = rec("not_sent", "WaveAborted");
    rows[2] = rec("not_sent", "WaveAborted");
    memset(&nx, 0, sizeof(nx));
    nx.specific = true;
    orch_summary_count_next(rows, NULL, 3, &nx);
    assert_int_equal(nx.not_sent, 2);
    assert_int_equal(nx.waiting, 2);
    assert_int_equal(nx.aborted, 2);
    assert_int_equal(orch_summary_next_step(&nx), ORCH_NEXT_REVIEW_ABORT);
    assert_string_equal(orch_next_step_name(ORCH_NEXT_REVIEW_ABORT),
                        "review_abort");
    cmd = orch_summary_next_command(ORCH_NEXT_REVIEW_ABORT, "r.csv");
    assert_string_equal(cmd, "ota-rollout status r.csv");
    free(cmd);
    orch_summary_print_next(torture_capture_open(&m), &nx, "r.csv");
    torture_capture_close(&m);
    assert_null(strstr(m.buf, "failed devices"));
    assert_null(strstr(m.buf, "rerun:"));
    assert_non_null(strstr(m.buf, "next step: a wave's health gate aborted "
                                  "the rollout; 2 chunks were not created"));
    assert_non_null(strstr(m.buf, "ota-rollout resume r.csv --force"));
    free(m.buf);
    /* A later wave still to come (WaveNotStarted): resume, and no failed
     * file named for it. */
    json_decref(rows[1]);
    json_decref(rows[2]);
    rows[1] = rec("not_sent", "WaveNotStarted");
    rows[2] = rec("not_sent", "Deferred");
    orch_summary_count_next(rows, NULL, 3, &nx);
    assert_int_equal(nx.waiting, 2);
    assert_int_equal(nx.aborted, 0);
    assert_int_equal(orch_summary_next_step(&nx), ORCH_NEXT_RESUME);
    orch_summary_print_next(torture_capture_open(&m), &nx, "r.csv");
    torture_capture_close(&m);
    assert_null(strstr(m.buf, "failed devices"));
    assert_non_null(strstr(m.buf, "next step: ota-rollout resume r.csv"));
    free(m.buf);
    for (i = 0; i < 3; i++)
        json_decref(rows[i]);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(durations),
    cmocka_unit_test(next_step_after_a_gate_abort),
    cmocka_unit_test(calls_rate),
    cmocka_unit_test(rows_kept_up_to_the_limit),
    cmocka_unit_test_setup_teardown(plan_summary_of_an_inventory, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(plan_summary_rejects_and_device_cost, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(plan_summary_of_a_target, setup, teardown),
    cmocka_unit_test(preflight_result),
    cmocka_unit_test(dropped_devices),
    cmocka_unit_test(resume_and_whole_run),
    cmocka_unit_test_setup_teardown(final_summary, setup, teardown),
    cmocka_unit_test(final_rates_agree_with_their_counts),
    cmocka_unit_test(json_exit_reasons),
    cmocka_unit_test(next_step_never_offers_a_rerun_while_undecided),
    cmocka_unit_test(json_next_step),
    cmocka_unit_test_setup_teardown(json_plan_object, setup, teardown))
