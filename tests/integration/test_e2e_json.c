/* test_e2e_json.c - output for machines end to end: `run --json`
 * parsed with jansson and every field checked against the report, the
 * journal and the emulator's request log; `plan --json` (offline, no
 * credentials); `--log-format json` (every stderr line a JSON object, one
 * created event per chunk, sent + retried = the calls the emulator saw, no
 * secret); and the document of a run the pre-flight aborted. stdout holds
 * the one document and nothing else. Each test has its own emulator. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PK "a1JsonPk001"
#define FW "FwJson0000000000000000001"

/* The run id of the journal's run record. */
static char *journal_run_id(const char *journal)
{
    char *data = h_slurp(journal, NULL);
    char *p = data ? strstr(data, "\"run_id\":\"") : NULL;
    char *id = NULL;

    assert_non_null(p);
    p += strlen("\"run_id\":\"");
    id = strndup(p, strcspn(p, "\""));
    free(data);
    return id;
}

/* run --json under 5xx faults (so retries happen): every field. */
static void run_json_every_field(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    const char *emu[] = {"--auto-create", "--fail-5xx", "0.2", "--seed", "11",
                         NULL};
    json_t *doc = NULL, *rows = NULL, *log = NULL, *jobs = NULL, *pf = NULL;
    json_t *chk = NULL;
    char *run_id = NULL;
    size_t calls = 0;

    (void)state;
    e2e_fleet_start(&c, 1000, PK, emu);
    const char *argv[] = {"run", c.inv, "--firmware-id", FW, "--product-key",
                          PK, "--endpoint", c.emu.endpoint, "--yes",
                          "--report", c.report, "--chunk-size", "100",
                          "--max-attempts", "10", "--json", NULL};
    e2e_run_expect(&r, argv, NULL, 0, 120, 0);
    doc = e2e_parse_document(r.out);
    rows = h_read_csv(c.report);
    log = h_read_jsonl(c.emu.log_path);
    jobs = h_emu_get(&c.emu, "/__emu/jobs");
    calls = e2e_count(log, "CreateOTAStaticUpgradeJob", 0);

    assert_int_equal(torture_json_num(doc, NULL, "schema"), 1);
    assert_string_equal(torture_json_str(doc, NULL, "command"), "run");
    run_id = journal_run_id(c.journal);
    assert_string_equal(torture_json_str(doc, NULL, "run_id"), run_id);
    assert_true(json_is_false(torture_json_at(doc, NULL, "resumed")));
    assert_int_equal(torture_json_num(doc, "exit", "code"), 0);
    assert_string_equal(torture_json_str(doc, "exit", "name"), "ok");
    assert_string_equal(torture_json_str(doc, "exit", "reason"), "every chunk created");

    e2e_assert_ints(doc, "counts",
                    (const struct e2e_int[]){{"devices", 1000},
                                             {"duplicates", 0},
                                             {"rejected", 0},
                                             {"dropped_missing", 0},
                                             {"dropped_up_to_date", 0},
                                             {"unchecked", 0},
                                             {"chunks", 10},
                                             {NULL, 0}});
    assert_int_equal(torture_json_num(doc, "counts", "chunks"), json_array_size(rows));
    assert_int_equal(torture_json_num(doc, "counts", "created"),
                     e2e_count_where(rows, "status", "created"));
    assert_int_equal(torture_json_num(doc, "counts", "created"), json_array_size(jobs));
    e2e_assert_ints(
        doc, "counts",
        (const struct e2e_int[]){
            {"failed", 0}, {"not_sent", 0}, {"already_done", 0}, {NULL, 0}});
    /* Every Create the emulator saw is a call; the ones past the first
     * of each chunk are retries (the 5xx answers). */
    assert_int_equal(torture_json_num(doc, "counts", "calls"), calls);
    assert_true(calls > 10);
    /* The dispatcher counts a retry per launch of a later attempt (its
     * definition, dispatch.h); at least every resend is one. */
    assert_true(torture_json_num(doc, "counts", "retries") +
                    torture_json_num(doc, "counts", "reconciled") >=
                (json_int_t)calls - 10);
    assert_true(torture_json_num(doc, "counts", "retries") < (json_int_t)calls);
    assert_int_equal(torture_json_num(doc, "counts", "throttled"), 0);
    assert_int_equal(torture_json_num(doc, "counts", "form_fallbacks"), 0);
    assert_true(torture_json_num(doc, "counts", "recovered") <=
                torture_json_num(doc, "counts", "reconciled"));
    assert_int_equal(json_object_size(torture_json_at(doc, NULL, "errors")), 0);

    pf = torture_json_at(doc, NULL, "preflight");
    assert_string_equal(torture_json_str(pf, NULL, "firmware"), "passed");
    assert_int_equal(json_array_size(torture_json_at(pf, NULL, "checks")), 1);
    chk = json_array_get(torture_json_at(pf, NULL, "checks"), 0);
    assert_string_equal(torture_json_str(chk, NULL, "firmware_id"), FW);
    assert_string_equal(torture_json_str(chk, NULL, "product_key"), PK);
    assert_string_equal(torture_json_str(chk, NULL, "verdict"), "ok");
    assert_true(torture_json_num(pf, NULL, "calls") >= 1);
    assert_int_equal(torture_json_num(pf, NULL, "calls"),
                     e2e_count(log, "QueryOTAFirmware", 0));
    assert_true(json_is_null(torture_json_at(pf, NULL, "devices")));

    assert_true(json_number_value(torture_json_at(doc, "timings", "wall_s")) > 0);
    assert_true(json_number_value(torture_json_at(doc, "timings", "calls_per_s")) >
                0);
    assert_true(json_number_value(torture_json_at(doc, "timings", "calls_per_s")) <=
                21);
    /* The summary's wall time and the chunks finished per second of it. */
    assert_true(json_number_value(torture_json_at(doc, "timings", "send_s")) > 0);
    assert_true(json_number_value(torture_json_at(doc, "timings", "send_s")) <=
                json_number_value(torture_json_at(doc, "timings", "wall_s")));
    assert_true(fabs(json_number_value(torture_json_at(doc, "timings",
                                                "chunks_per_s")) *
                         json_number_value(torture_json_at(doc, "timings",
                                                    "send_s")) -
                     (double)(torture_json_num(doc, "counts", "created") +
                              torture_json_num(doc, "counts", "failed") +
                              torture_json_num(doc, "counts", "not_sent"))) < 0.01);

    assert_string_equal(torture_json_str(doc, "files", "report"), c.report);
    assert_string_equal(torture_json_str(doc, "files", "failed"), c.failed);
    assert_string_equal(torture_json_str(doc, "files", "journal"), c.journal);
    assert_true(json_is_null(torture_json_at(doc, "files", "rejects")));
    assert_true(json_is_null(torture_json_at(doc, NULL, "plan")));

    /* Human messages stay on stderr. */
    assert_non_null(strstr(r.err, "summary:"));
    e2e_assert_run_no_secret(c.dir, H_SECRET, &r);

    free(run_id);
    json_decref(jobs);
    json_decref(log);
    json_decref(rows);
    json_decref(doc);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

/* plan --json: offline (no credentials), the first request as an object,
 * nothing but the document on stdout. */
static void plan_json_offline(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    json_t *doc = NULL, *plan = NULL, *req = NULL, *params = NULL, *p = NULL;

    (void)state;
    e2e_fleet_start(&c, 450, PK, (const char *[]){"--auto-create", NULL});
    const char *argv[] = {"plan", c.inv, "--firmware-id", FW, "--product-key",
                          PK, "--endpoint", c.emu.endpoint, "--json", NULL};
    e2e_run_expect(&r, argv, NULL, 1, 30, 0);
    doc = e2e_parse_document(r.out);
    assert_string_equal(torture_json_str(doc, NULL, "command"), "plan");
    assert_true(json_is_null(torture_json_at(doc, NULL, "run_id")));
    assert_int_equal(torture_json_num(doc, "exit", "code"), 0);
    assert_string_equal(torture_json_str(doc, "exit", "reason"), "plan printed");
    e2e_assert_ints(
        doc, "counts",
        (const struct e2e_int[]){
            {"devices", 450}, {"chunks", 3}, {"calls", 0}, {NULL, 0}});
    assert_string_equal(torture_json_str(doc, "preflight", "firmware"), "not_run");
    assert_true(json_is_null(torture_json_at(doc, "files", "report")));
    assert_true(json_is_null(torture_json_at(doc, "files", "journal")));

    plan = torture_json_at(doc, NULL, "plan");
    assert_string_equal(torture_json_str(plan, NULL, "endpoint"), c.emu.endpoint);
    assert_int_equal(torture_json_num(plan, NULL, "calls_needed"), 3);
    assert_int_equal(torture_json_num(plan, NULL, "chunk_size"), 200);
    assert_int_equal(torture_json_num(plan, NULL, "signature_version"), 3);
    assert_true(json_is_null(torture_json_at(plan, NULL, "device_check")));
    p = json_array_get(torture_json_at(plan, NULL, "products"), 0);
    assert_string_equal(torture_json_str(p, NULL, "product_key"), PK);
    assert_int_equal(torture_json_num(p, NULL, "devices"), 450);
    assert_int_equal(torture_json_num(p, NULL, "chunks"), 3);
    assert_string_equal(torture_json_str(p, NULL, "firmware_id"), FW);
    req = torture_json_at(plan, NULL, "first_request");
    assert_string_equal(torture_json_str(req, NULL, "action"),
                        "CreateOTAStaticUpgradeJob");
    params = torture_json_at(req, NULL, "parameters");
    assert_string_equal(torture_json_str(params, NULL, "FirmwareId"), FW);
    assert_string_equal(torture_json_str(params, NULL, "ProductKey"), PK);
    assert_string_equal(torture_json_str(params, NULL, "TargetSelection"), "SPECIFIC");
    assert_string_equal(torture_json_str(params, NULL, "TargetDeviceName.1"),
                        "dev-000000");
    assert_string_equal(torture_json_str(params, NULL, "TargetDeviceName.200"),
                        "dev-000199");
    assert_null(json_object_get(params, "TargetDeviceName.201"));
    assert_null(json_object_get(params, "Signature"));
    assert_null(json_object_get(params, "AccessKeyId"));
    /* The plan text went to stderr. */
    assert_non_null(strstr(r.err, "chunks: 3"));
    /* Offline: the emulator saw nothing. */
    assert_int_equal(e2e_log_count(&c.emu, NULL, 0), 0);

    json_decref(doc);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

/* --log-format json: every stderr line is a JSON object; one created
 * event per chunk; sent + retried = answered = the Creates the emulator
 * saw; no secret; stdout empty without --json. */
static void log_format_json_events(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    const char *emu[] = {"--auto-create", "--fail-5xx", "0.2", "--seed", "5",
                         NULL};
    json_t *evs = json_array();
    json_t *log = NULL, *e = NULL, *sum = NULL, *prog = NULL;
    char *line = NULL, *save = NULL;
    size_t calls = 0, i = 0;

    (void)state;
    e2e_fleet_start(&c, 600, PK, emu);
    const char *argv[] = {"run", c.inv, "--firmware-id", FW, "--product-key",
                          PK, "--endpoint", c.emu.endpoint, "--yes",
                          "--report", c.report, "--chunk-size", "50",
                          "--max-attempts", "10", "--log-format", "json",
                          NULL};
    e2e_run_expect(&r, argv, NULL, 0, 120, 0);
    assert_string_equal(r.out, "");
    for (line = strtok_r(r.err, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        json_error_t err;
        json_t *ev = json_loads(line, 0, &err);

        if (ev == NULL || !json_is_object(ev))
            fail_msg("stderr line is not a JSON object: %.200s", line);
        assert_non_null(json_object_get(ev, "event"));
        assert_non_null(json_object_get(ev, "time"));
        json_array_append_new(evs, ev);
    }
    log = h_read_jsonl(c.emu.log_path);
    calls = e2e_count(log, "CreateOTAStaticUpgradeJob", 0);
    assert_int_equal(e2e_count_where(evs, "event", "created"), 12);
    assert_int_equal(e2e_count_where(evs, "event", "failed"), 0);
    assert_int_equal(e2e_count_where(evs, "event", "sent"), 12);
    assert_int_equal(e2e_count_where(evs, "event", "sent") +
                         e2e_count_where(evs, "event", "retried"),
                     calls);
    assert_int_equal(e2e_count_where(evs, "event", "answered"), calls);
    assert_true(e2e_count_where(evs, "event", "retried") > 0);
    assert_int_equal(e2e_count_where(evs, "event", "summary"), 1);
    json_array_foreach(evs, i, e) {
        const char *name = json_string_value(json_object_get(e, "event"));
        json_int_t chunk = json_integer_value(json_object_get(e, "chunk"));

        if (strcmp(name, "answered") == 0) {
            assert_true(json_is_integer(json_object_get(e, "http_status")) ||
                        json_is_null(json_object_get(e, "http_status")));
            assert_true(json_is_integer(json_object_get(e, "attempt")));
            assert_true(json_is_integer(json_object_get(e, "ms")));
        }
        if (strcmp(name, "created") == 0) {
            assert_true(chunk >= 1 && chunk <= 12);
            assert_non_null(json_object_get(e, "job_id"));
            assert_non_null(json_object_get(e, "request_id"));
        }
        if (strcmp(name, "summary") == 0)
            sum = json_object_get(e, "summary");
        if (strcmp(name, "progress") == 0)
            prog = e;
    }
    /* A run this short logs one progress event, its final one: the
     * summary's seconds and chunks per second. */
    assert_int_equal(e2e_count_where(evs, "event", "progress"), 1);
    assert_non_null(prog);
    assert_int_equal(torture_json_num(prog, NULL, "done"), 12);
    assert_int_equal(torture_json_num(prog, NULL, "total"), 12);
    assert_int_equal(torture_json_num(prog, NULL, "created"), 12);
    assert_true(json_number_value(torture_json_at(prog, NULL, "elapsed_s")) ==
                json_number_value(torture_json_at(sum, "timings", "send_s")));
    assert_true(json_number_value(torture_json_at(prog, NULL, "chunks_per_s")) ==
                json_number_value(torture_json_at(sum, "timings", "chunks_per_s")));
    assert_non_null(sum);
    assert_int_equal(torture_json_num(sum, "counts", "created"), 12);
    assert_int_equal(torture_json_num(sum, "counts", "calls"), calls);
    e2e_assert_run_no_secret(c.dir, H_SECRET, &r);

    json_decref(log);
    json_decref(evs);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

/* Rejected credentials: the pre-flight aborts, exit 4, and the document
 * still comes, saying why; nothing created; no secret. */
static void run_json_preflight_aborted(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    json_t *doc = NULL;
    const char *env[] = {"ALIBABA_CLOUD_ACCESS_KEY_ID=" H_KEY_ID,
                         "ALIBABA_CLOUD_ACCESS_KEY_SECRET=wrong-secret-123",
                         NULL};

    (void)state;
    e2e_fleet_start(&c, 100, PK, (const char *[]){"--auto-create", NULL});
    const char *argv[] = {"run", c.inv, "--firmware-id", FW, "--product-key",
                          PK, "--endpoint", c.emu.endpoint, "--yes",
                          "--report", c.report, "--json", NULL};
    e2e_run_expect(&r, argv, env, 1, 60, 4);
    doc = e2e_parse_document(r.out);
    assert_int_equal(torture_json_num(doc, "exit", "code"), 4);
    assert_string_equal(torture_json_str(doc, "exit", "name"), "aborted");
    assert_non_null(strstr(torture_json_str(doc, "exit", "reason"), "nothing sent"));
    assert_string_equal(torture_json_str(doc, "preflight", "firmware"), "aborted");
    e2e_assert_ints(
        doc, "counts",
        (const struct e2e_int[]){
            {"created", 0}, {"not_sent", 1}, {"calls", 0}, {NULL, 0}});
    assert_true(json_is_null(torture_json_at(doc, "files", "journal")));
    assert_int_equal(e2e_log_count(&c.emu, "CreateOTAStaticUpgradeJob", 0),
                     0);
    assert_null(strstr(r.out, "wrong-secret-123"));
    assert_null(strstr(r.err, "wrong-secret-123"));

    json_decref(doc);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

E2E_MAIN(cmocka_unit_test(run_json_every_field),
         cmocka_unit_test(plan_json_offline),
         cmocka_unit_test(log_format_json_events),
         cmocka_unit_test(run_json_preflight_aborted))
