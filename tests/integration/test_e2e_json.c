/* test_e2e_json.c - output for machines (issue 7) end to end: `run --json`
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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PK "a1JsonPk001"
#define FW "FwJson0000000000000000001"

struct ctx {
    struct emu_proc emu;
    char *dir;
    char inv[512];
    char report[512];
};

static void ctx_start(struct ctx *c, size_t devices, const char *const *emu)
{
    memset(c, 0, sizeof(*c));
    c->dir = h_tmpdir();
    snprintf(c->inv, sizeof(c->inv), "%s/fleet.csv", c->dir);
    snprintf(c->report, sizeof(c->report), "%s/fleet.report.csv", c->dir);
    h_write_inventory(c->inv, devices, PK);
    h_emu_start(&c->emu, emu);
}

static void ctx_stop(struct ctx *c)
{
    h_emu_stop(&c->emu);
    free(c->dir);
}

static json_t *get(json_t *doc, const char *obj, const char *key)
{
    json_t *o = obj ? json_object_get(doc, obj) : doc;
    json_t *v = json_object_get(o, key);

    if (v == NULL)
        fail_msg("JSON field %s.%s missing", obj ? obj : "", key);
    return v;
}

static json_int_t jint(json_t *doc, const char *obj, const char *key)
{
    json_t *v = get(doc, obj, key);

    if (!json_is_integer(v))
        fail_msg("JSON field %s.%s is not an integer", obj ? obj : "", key);
    return json_integer_value(v);
}

static const char *jstr(json_t *doc, const char *obj, const char *key)
{
    json_t *v = get(doc, obj, key);

    if (!json_is_string(v))
        fail_msg("JSON field %s.%s is not a string", obj ? obj : "", key);
    return json_string_value(v);
}

/* stdout must be exactly one JSON document (and its newline). */
static json_t *parse_stdout(const char *out)
{
    json_error_t err;
    json_t *doc = json_loads(out, 0, &err);

    if (doc == NULL)
        fail_msg("stdout is not one JSON document: %s (line %d): %.200s",
                 err.text, err.line, out);
    assert_true(json_is_object(doc));
    return doc;
}

static size_t count_rows(json_t *rows, const char *status)
{
    size_t i = 0, n = 0;
    json_t *r = NULL;

    json_array_foreach(rows, i, r) {
        const char *s = json_string_value(json_object_get(r, "status"));

        if (s && strcmp(s, status) == 0)
            n++;
    }
    return n;
}

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
    struct ctx c;
    struct h_run r;
    const char *emu[] = {"--auto-create", "--fail-5xx", "0.2", "--seed", "11",
                         NULL};
    json_t *doc = NULL, *rows = NULL, *log = NULL, *jobs = NULL, *pf = NULL;
    json_t *chk = NULL;
    char failed[600], journal[600];
    char *run_id = NULL;
    size_t calls = 0;

    (void)state;
    ctx_start(&c, 1000, emu);
    const char *argv[] = {"run", c.inv, "--firmware-id", FW, "--product-key",
                          PK, "--endpoint", c.emu.endpoint, "--yes",
                          "--report", c.report, "--chunk-size", "100",
                          "--max-attempts", "10", "--json", NULL};
    h_run(&r, argv, NULL, 0, 120);
    if (r.exit_code != 0)
        fail_msg("exit %d: %s", r.exit_code, r.err);
    doc = parse_stdout(r.out);
    rows = h_read_csv(c.report);
    log = h_read_jsonl(c.emu.log_path);
    jobs = h_emu_get(&c.emu, "/__emu/jobs");
    snprintf(failed, sizeof(failed), "%s.failed.csv", c.report);
    snprintf(journal, sizeof(journal), "%s.journal", c.report);
    calls = e2e_count(log, "CreateOTAStaticUpgradeJob", 0);

    assert_int_equal(jint(doc, NULL, "schema"), 1);
    assert_string_equal(jstr(doc, NULL, "command"), "run");
    run_id = journal_run_id(journal);
    assert_string_equal(jstr(doc, NULL, "run_id"), run_id);
    assert_true(json_is_false(get(doc, NULL, "resumed")));
    assert_int_equal(jint(doc, "exit", "code"), 0);
    assert_string_equal(jstr(doc, "exit", "name"), "ok");
    assert_string_equal(jstr(doc, "exit", "reason"), "every chunk created");

    assert_int_equal(jint(doc, "counts", "devices"), 1000);
    assert_int_equal(jint(doc, "counts", "duplicates"), 0);
    assert_int_equal(jint(doc, "counts", "rejected"), 0);
    assert_int_equal(jint(doc, "counts", "dropped_missing"), 0);
    assert_int_equal(jint(doc, "counts", "dropped_up_to_date"), 0);
    assert_int_equal(jint(doc, "counts", "unchecked"), 0);
    assert_int_equal(jint(doc, "counts", "chunks"), 10);
    assert_int_equal(jint(doc, "counts", "chunks"), json_array_size(rows));
    assert_int_equal(jint(doc, "counts", "created"),
                     count_rows(rows, "created"));
    assert_int_equal(jint(doc, "counts", "created"), json_array_size(jobs));
    assert_int_equal(jint(doc, "counts", "failed"), 0);
    assert_int_equal(jint(doc, "counts", "not_sent"), 0);
    assert_int_equal(jint(doc, "counts", "already_done"), 0);
    /* Every Create the emulator saw is a call; the ones past the first
     * of each chunk are retries (the 5xx answers). */
    assert_int_equal(jint(doc, "counts", "calls"), calls);
    assert_true(calls > 10);
    /* The dispatcher counts a retry per launch of a later attempt (its
     * definition, dispatch.h); at least every resend is one. */
    assert_true(jint(doc, "counts", "retries") +
                    jint(doc, "counts", "reconciled") >=
                (json_int_t)calls - 10);
    assert_true(jint(doc, "counts", "retries") < (json_int_t)calls);
    assert_int_equal(jint(doc, "counts", "throttled"), 0);
    assert_int_equal(jint(doc, "counts", "form_fallbacks"), 0);
    assert_true(jint(doc, "counts", "recovered") <=
                jint(doc, "counts", "reconciled"));
    assert_int_equal(json_object_size(get(doc, NULL, "errors")), 0);

    pf = get(doc, NULL, "preflight");
    assert_string_equal(jstr(pf, NULL, "firmware"), "passed");
    assert_int_equal(json_array_size(get(pf, NULL, "checks")), 1);
    chk = json_array_get(get(pf, NULL, "checks"), 0);
    assert_string_equal(jstr(chk, NULL, "firmware_id"), FW);
    assert_string_equal(jstr(chk, NULL, "product_key"), PK);
    assert_string_equal(jstr(chk, NULL, "verdict"), "ok");
    assert_true(jint(pf, NULL, "calls") >= 1);
    assert_int_equal(jint(pf, NULL, "calls"),
                     e2e_count(log, "QueryOTAFirmware", 0));
    assert_true(json_is_null(get(pf, NULL, "devices")));

    assert_true(json_number_value(get(doc, "timings", "wall_s")) > 0);
    assert_true(json_number_value(get(doc, "timings", "calls_per_s")) > 0);
    assert_true(json_number_value(get(doc, "timings", "calls_per_s")) <= 21);

    assert_string_equal(jstr(doc, "files", "report"), c.report);
    assert_string_equal(jstr(doc, "files", "failed"), failed);
    assert_string_equal(jstr(doc, "files", "journal"), journal);
    assert_true(json_is_null(get(doc, "files", "rejects")));
    assert_true(json_is_null(get(doc, NULL, "plan")));

    /* Human messages stay on stderr. */
    assert_non_null(strstr(r.err, "summary:"));
    h_assert_no_secret(c.dir, H_SECRET, (const char *[]){r.out, r.err, NULL});

    free(run_id);
    json_decref(jobs);
    json_decref(log);
    json_decref(rows);
    json_decref(doc);
    h_run_free(&r);
    ctx_stop(&c);
}

/* plan --json: offline (no credentials), the first request as an object,
 * nothing but the document on stdout. */
static void plan_json_offline(void **state)
{
    struct ctx c;
    struct h_run r;
    json_t *doc = NULL, *plan = NULL, *req = NULL, *params = NULL, *p = NULL;
    size_t before = 0;
    json_t *log = NULL;

    (void)state;
    ctx_start(&c, 450, (const char *[]){"--auto-create", NULL});
    const char *argv[] = {"plan", c.inv, "--firmware-id", FW, "--product-key",
                          PK, "--endpoint", c.emu.endpoint, "--json", NULL};
    h_run(&r, argv, NULL, 1, 30);
    if (r.exit_code != 0)
        fail_msg("exit %d: %s", r.exit_code, r.err);
    doc = parse_stdout(r.out);
    assert_string_equal(jstr(doc, NULL, "command"), "plan");
    assert_true(json_is_null(get(doc, NULL, "run_id")));
    assert_int_equal(jint(doc, "exit", "code"), 0);
    assert_string_equal(jstr(doc, "exit", "reason"), "plan printed");
    assert_int_equal(jint(doc, "counts", "devices"), 450);
    assert_int_equal(jint(doc, "counts", "chunks"), 3);
    assert_int_equal(jint(doc, "counts", "calls"), 0);
    assert_string_equal(jstr(doc, "preflight", "firmware"), "not_run");
    assert_true(json_is_null(get(doc, "files", "report")));
    assert_true(json_is_null(get(doc, "files", "journal")));

    plan = get(doc, NULL, "plan");
    assert_string_equal(jstr(plan, NULL, "endpoint"), c.emu.endpoint);
    assert_int_equal(jint(plan, NULL, "calls_needed"), 3);
    assert_int_equal(jint(plan, NULL, "chunk_size"), 200);
    assert_int_equal(jint(plan, NULL, "signature_version"), 3);
    assert_true(json_is_null(get(plan, NULL, "device_check")));
    p = json_array_get(get(plan, NULL, "products"), 0);
    assert_string_equal(jstr(p, NULL, "product_key"), PK);
    assert_int_equal(jint(p, NULL, "devices"), 450);
    assert_int_equal(jint(p, NULL, "chunks"), 3);
    assert_string_equal(jstr(p, NULL, "firmware_id"), FW);
    req = get(plan, NULL, "first_request");
    assert_string_equal(jstr(req, NULL, "action"),
                        "CreateOTAStaticUpgradeJob");
    params = get(req, NULL, "parameters");
    assert_string_equal(jstr(params, NULL, "FirmwareId"), FW);
    assert_string_equal(jstr(params, NULL, "ProductKey"), PK);
    assert_string_equal(jstr(params, NULL, "TargetSelection"), "SPECIFIC");
    assert_string_equal(jstr(params, NULL, "TargetDeviceName.1"),
                        "dev-000000");
    assert_string_equal(jstr(params, NULL, "TargetDeviceName.200"),
                        "dev-000199");
    assert_null(json_object_get(params, "TargetDeviceName.201"));
    assert_null(json_object_get(params, "Signature"));
    assert_null(json_object_get(params, "AccessKeyId"));
    /* The plan text went to stderr. */
    assert_non_null(strstr(r.err, "chunks: 3"));
    /* Offline: the emulator saw nothing. */
    log = h_read_jsonl(c.emu.log_path);
    before = json_array_size(log);
    assert_int_equal(before, 0);

    json_decref(log);
    json_decref(doc);
    h_run_free(&r);
    ctx_stop(&c);
}

static size_t count_events(json_t *evs, const char *name)
{
    size_t i = 0, n = 0;
    json_t *e = NULL;

    json_array_foreach(evs, i, e) {
        const char *s = json_string_value(json_object_get(e, "event"));

        if (s && strcmp(s, name) == 0)
            n++;
    }
    return n;
}

/* --log-format json: every stderr line is a JSON object; one created
 * event per chunk; sent + retried = answered = the Creates the emulator
 * saw; no secret; stdout empty without --json. */
static void log_format_json_events(void **state)
{
    struct ctx c;
    struct h_run r;
    const char *emu[] = {"--auto-create", "--fail-5xx", "0.2", "--seed", "5",
                         NULL};
    json_t *evs = json_array();
    json_t *log = NULL, *e = NULL, *sum = NULL;
    char *line = NULL, *save = NULL;
    size_t calls = 0, i = 0;

    (void)state;
    ctx_start(&c, 600, emu);
    const char *argv[] = {"run", c.inv, "--firmware-id", FW, "--product-key",
                          PK, "--endpoint", c.emu.endpoint, "--yes",
                          "--report", c.report, "--chunk-size", "50",
                          "--max-attempts", "10", "--log-format", "json",
                          NULL};
    h_run(&r, argv, NULL, 0, 120);
    if (r.exit_code != 0)
        fail_msg("exit %d: %s", r.exit_code, r.err);
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
    assert_int_equal(count_events(evs, "created"), 12);
    assert_int_equal(count_events(evs, "failed"), 0);
    assert_int_equal(count_events(evs, "sent"), 12);
    assert_int_equal(count_events(evs, "sent") + count_events(evs, "retried"),
                     calls);
    assert_int_equal(count_events(evs, "answered"), calls);
    assert_true(count_events(evs, "retried") > 0);
    assert_int_equal(count_events(evs, "summary"), 1);
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
    }
    assert_non_null(sum);
    assert_int_equal(jint(sum, "counts", "created"), 12);
    assert_int_equal(jint(sum, "counts", "calls"), calls);
    h_assert_no_secret(c.dir, H_SECRET, (const char *[]){r.out, r.err, NULL});

    json_decref(log);
    json_decref(evs);
    h_run_free(&r);
    ctx_stop(&c);
}

/* Rejected credentials: the pre-flight aborts, exit 4, and the document
 * still comes, saying why; nothing created; no secret. */
static void run_json_preflight_aborted(void **state)
{
    struct ctx c;
    struct h_run r;
    json_t *doc = NULL, *log = NULL;
    const char *env[] = {"ALIBABA_CLOUD_ACCESS_KEY_ID=" H_KEY_ID,
                         "ALIBABA_CLOUD_ACCESS_KEY_SECRET=wrong-secret-123",
                         NULL};

    (void)state;
    ctx_start(&c, 100, (const char *[]){"--auto-create", NULL});
    const char *argv[] = {"run", c.inv, "--firmware-id", FW, "--product-key",
                          PK, "--endpoint", c.emu.endpoint, "--yes",
                          "--report", c.report, "--json", NULL};
    h_run(&r, argv, env, 1, 60);
    assert_int_equal(r.exit_code, 4);
    doc = parse_stdout(r.out);
    assert_int_equal(jint(doc, "exit", "code"), 4);
    assert_string_equal(jstr(doc, "exit", "name"), "aborted");
    assert_non_null(strstr(jstr(doc, "exit", "reason"), "nothing sent"));
    assert_string_equal(jstr(doc, "preflight", "firmware"), "aborted");
    assert_int_equal(jint(doc, "counts", "created"), 0);
    assert_int_equal(jint(doc, "counts", "not_sent"), 1);
    assert_int_equal(jint(doc, "counts", "calls"), 0);
    assert_true(json_is_null(get(doc, "files", "journal")));
    log = h_read_jsonl(c.emu.log_path);
    assert_int_equal(e2e_count(log, "CreateOTAStaticUpgradeJob", 0), 0);
    assert_null(strstr(r.out, "wrong-secret-123"));
    assert_null(strstr(r.err, "wrong-secret-123"));

    json_decref(log);
    json_decref(doc);
    h_run_free(&r);
    ctx_stop(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(run_json_every_field),
        cmocka_unit_test(plan_json_offline),
        cmocka_unit_test(log_format_json_events),
        cmocka_unit_test(run_json_preflight_aborted),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
