/* test_e2e_advice.c - a pre-flight failure gets the one
 * advice that fits its class, once, through the real binary against
 * ota-emulator: a wrong secret (SignatureDoesNotMatch), an unknown key
 * (InvalidAccessKeyId.NotFound), a clock an hour off (the emulator's
 * --clock-offset: InvalidTimeStamp.Expired), a port nothing listens on
 * (connection refused), a RAM policy without iot:QueryOTAFirmware
 * (--ram-deny: Forbidden.RAM), and a missing firmware. Each inventory has
 * two products on the same firmware, so a message told "per firmware and
 * again at the end" would show two or three times. The server's multi-line
 * text never reaches stderr in text mode, and is on one line in
 * --log-format json; with --skip-preflight the chunk refused for its
 * credentials is failed with its request id, the others not_sent. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PKA "a1PreA00001"
#define PKB "a1PreB00001"
#define FW_OK "FwPreNoVerify0000000000001" /* no product: fits both */
#define FW_MISSING "FwPreMissing00000000000001"
#define DENIED_KEY "LTAIramdenied01"
#define DENIED_SECRET "ram-denied-secret-5e4d"

static struct emu_proc emu;   /* the fixture world, a denied key too */
static struct emu_proc skewed; /* the same, its clock an hour ahead */
static char *scratch;

static int group_setup(void **state)
{
    const char *extra[] = {"--fixture", ORCH_FIXTURES "/preflight-world.json",
                           "--access-key", DENIED_KEY ":" DENIED_SECRET,
                           "--ram-deny", DENIED_KEY ":QueryOTAFirmware",
                           NULL};
    const char *skew[] = {"--fixture", ORCH_FIXTURES "/preflight-world.json",
                          "--clock-offset", "3600000", NULL};

    (void)state;
    scratch = h_tmpdir();
    h_emu_start(&emu, extra);
    h_emu_start(&skewed, skew);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    h_emu_stop(&emu);
    h_emu_stop(&skewed);
    free(scratch);
    return 0;
}

/* Two products, a few devices each (no job is ever created here). */
static void write_inventory(const char *path)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    fprintf(fp, "ProductKey,DeviceName\n" PKA ",pf-0001\n" PKA ",pf-0002\n"
                PKB ",pb-0001\n" PKB ",pb-0002\n");
    assert_int_equal(fclose(fp), 0);
}

/* A loopback port nothing listens on (bound, then closed). */
static int dead_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port = 0;

    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* No raw server text on stderr: a SignatureDoesNotMatch message quotes
 * the canonical request over several lines ("POST", "/", ...). Every
 * line is one of ours. */
static void assert_no_raw_text(const char *err)
{
    const char *line = err;

    assert_null(strstr(err, "string to sign"));
    assert_null(strstr(err, "canonical request"));
    assert_null(strstr(err, "x-acs-"));
    while (line && *line) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);

        if (n == 1 && line[0] == '/')
            fail_msg("a raw canonical-request line on stderr:\n%s", err);
        if (n == 4 && strncmp(line, "POST", 4) == 0)
            fail_msg("a raw canonical-request line on stderr:\n%s", err);
        line = nl ? nl + 1 : NULL;
    }
}

/* Where a case's run sends its requests. */
enum advice_endpoint {
    AT_EMU,     /* the fixture emulator */
    AT_SKEWED,  /* the emulator whose clock is an hour ahead */
    AT_NOTHING, /* a loopback port nothing listens on */
};

struct advice_case {
    const char *name; /* the test's name */
    const char *file; /* its inventory is <scratch>/<file>.csv */
    enum advice_endpoint endpoint;
    const char *key_id;     /* NULL: H_KEY_ID */
    const char *secret;     /* NULL: H_SECRET */
    const char *fw;         /* NULL: FW_OK */
    int exit_code;
    const char *class_text; /* the class and code, told once */
    const char *advice;     /* the advice, told once */
    bool skip_helps;        /* --skip-preflight offered */
};

static const struct advice_case cases[] = {
    {"credentials_rejected", "wrong-secret", AT_EMU, NULL, "not-the-secret",
     NULL, 4,
     "pre-flight: credentials rejected (SignatureDoesNotMatch, request id ",
     "does not match AccessKeyId " H_KEY_ID
     ": check ALIBABA_CLOUD_ACCESS_KEY_SECRET",
     false},
    {"key_unknown", "unknown-key", AT_EMU, "LTAInosuchkey99", NULL, NULL, 4,
     "pre-flight: AccessKeyId unknown (InvalidAccessKeyId.NotFound, "
     "request id ",
     "AccessKeyId LTAInosuchkey99 (from ALIBABA_CLOUD_ACCESS_KEY_ID) does "
     "not exist or is disabled",
     false},
    {"clock_skew", "clock-skew", AT_SKEWED, NULL, NULL, NULL, 4,
     "pre-flight: clock skew (InvalidTimeStamp.Expired, request id ",
     "fix the clock (NTP)", false},
    {"endpoint_unreachable", "refused", AT_NOTHING, NULL, NULL, NULL, 2,
     "pre-flight: endpoint unreachable (NetworkError: ",
     "check --region / --endpoint and the network", false},
    {"permission_denied", "ram-denied", AT_EMU, DENIED_KEY, DENIED_SECRET, NULL,
     4,
     "pre-flight: permission denied by the RAM policy (Forbidden.RAM, "
     "request id ",
     "does not allow iot:QueryOTAFirmware: grant it, or pass "
     "--skip-preflight",
     true},
    /* FirmwareNotFound was told three times (per product, then at the
     * end). */
    {"firmware_missing", "fw-missing", AT_EMU, NULL, NULL, FW_MISSING, 2,
     "firmware " FW_MISSING " does not exist in this account "
     "(iot.ota.FirmwareNotFound, request id ",
     "check the FirmwareId " FW_MISSING " in the IoT console", false},
};

/* The case of `state` (an advice_case): the exit, the class and the
 * advice told once each, nothing sent, no server text, no secret. */
static void run_case(void **state)
{
    const struct advice_case *c = *state;
    struct h_run r;
    char inv[512], report[512], key_env[128], secret_env[128];
    char fwa[128], fwb[128], endpoint[64];
    const char *fw = c->fw ? c->fw : FW_OK;

    e2e_scratch_paths(scratch, c->file, inv, report, sizeof(inv));
    write_inventory(inv);
    snprintf(key_env, sizeof(key_env), "ALIBABA_CLOUD_ACCESS_KEY_ID=%s",
             c->key_id ? c->key_id : H_KEY_ID);
    snprintf(secret_env, sizeof(secret_env),
             "ALIBABA_CLOUD_ACCESS_KEY_SECRET=%s",
             c->secret ? c->secret : H_SECRET);
    snprintf(fwa, sizeof(fwa), PKA "=%s", fw);
    snprintf(fwb, sizeof(fwb), PKB "=%s", fw);
    if (c->endpoint == AT_NOTHING)
        snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d",
                 dead_port());
    else
        snprintf(endpoint, sizeof(endpoint), "%s",
                 c->endpoint == AT_SKEWED ? skewed.endpoint : emu.endpoint);
    const char *argv[] = {"run",        inv,          "--firmware",
                          fwa,          "--firmware", fwb,
                          "--endpoint", endpoint,     "--yes",
                          "--report",   report,       "--max-attempts",
                          "2",          NULL};
    const char *env[] = {key_env, secret_env, NULL};

    h_run(&r, argv, env, 0, 60);
    if (e2e_count_substr(r.err, c->class_text) != 1 ||
        e2e_count_substr(r.err, c->advice) != 1 ||
        r.exit_code != c->exit_code)
        fail_msg("%s: exit %d (want %d); want \"%s\" and \"%s\" once "
                 "each in:\n%s",
                 c->file, r.exit_code, c->exit_code, c->class_text, c->advice,
                 r.err);
    if (c->skip_helps)
        assert_int_equal(e2e_count_substr(r.err, "--skip-preflight"), 1);
    else
        assert_null(strstr(r.err, "or pass --skip-preflight"));
    assert_null(strstr(r.err, "try again, or pass --skip-preflight"));
    assert_non_null(strstr(r.err, "nothing sent"));
    assert_no_raw_text(r.err);
    e2e_assert_run_no_secret(scratch, H_SECRET, &r);
    e2e_assert_run_no_secret(scratch, DENIED_SECRET, &r);
    h_run_free(&r);
}

/* Runs the two-product inventory <scratch>/<file>.csv against the fixture
 * emulator with a wrong secret and the options `a` and `b` (b may be
 * NULL); the run must end with exit 4 (credentials rejected). */
static void run_wrong_secret(struct h_run *r, const char *file, const char *a,
                             const char *b)
{
    char inv[512], report[512];

    e2e_scratch_paths(scratch, file, inv, report, sizeof(inv));
    write_inventory(inv);
    const char *argv[] = {"run", inv, "--firmware", PKA "=" FW_OK,
                          "--firmware", PKB "=" FW_OK, "--endpoint",
                          emu.endpoint, "--yes", "--report", report,
                          a, b, NULL};
    const char *env[] = {"ALIBABA_CLOUD_ACCESS_KEY_SECRET=not-the-secret",
                         NULL};

    e2e_run_expect(r, argv, env, 0, 60, 4);
}

/* --log-format json: every stderr line is one JSON event; the server's
 * text is in the summary's pre-flight check, on one line. */
static void json_log_keeps_server_text_on_one_line(void **state)
{
    struct h_run r;
    const char *line = NULL;
    json_t *summary = NULL;
    size_t events = 0;

    (void)state;
    run_wrong_secret(&r, "json", "--log-format", "json");
    for (line = r.err; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        json_error_t jerr;
        json_t *ev = json_loadb(line, n, 0, &jerr);

        if (ev == NULL)
            fail_msg("not a JSON event: %.*s", (int)n, line);
        events++;
        if (strcmp(json_string_value(json_object_get(ev, "event")),
                   "summary") == 0) {
            json_decref(summary);
            summary = json_incref(json_object_get(ev, "summary"));
        }
        json_decref(ev);
        line = nl ? nl + 1 : NULL;
    }
    assert_true(events >= 2);
    assert_non_null(summary);
    {
        json_t *checks = json_object_get(json_object_get(summary,
                                                         "preflight"),
                                         "checks");
        json_t *c = json_array_get(checks, 0);
        const char *raw = json_string_value(json_object_get(c,
                                                            "server_message"));

        assert_int_equal(json_array_size(checks), 2);
        assert_string_equal(json_string_value(json_object_get(c, "problem")),
                            "credentials_rejected");
        assert_non_null(json_string_value(json_object_get(c, "request_id")));
        assert_non_null(raw);
        assert_non_null(strstr(raw, "server string to sign is:"));
        assert_non_null(strstr(raw, "canonical request is:POST / "));
        assert_null(strchr(raw, '\n'));
    }
    /* The error is one "message" event (the summary's exit reason
     * quotes it), once for both firmware, without the server's text. */
    assert_int_equal(e2e_count_substr(r.err, "\"message\":\"pre-flight: "
                                             "credentials rejected"),
                     1);
    json_decref(summary);
    e2e_assert_run_no_secret(scratch, H_SECRET, &r);
    h_run_free(&r);
}

/* --verbose: the server's own text of the refused check is told once
 * (the same text for both firmware), on one line, beside the advice. */
static void verbose_tells_server_text_once_on_one_line(void **state)
{
    struct h_run r;
    const char *at = NULL, *eol = NULL;

    (void)state;
    run_wrong_secret(&r, "verbose", "--verbose", NULL);
    assert_int_equal(e2e_count_substr(r.err, "pre-flight: the server said "
                                             "(request id "),
                     1);
    assert_int_equal(e2e_count_substr(r.err, "server string to sign is:"), 1);
    at = strstr(r.err, "pre-flight: the server said");
    eol = strchr(at, '\n');
    assert_non_null(eol);
    /* The whole text, canonical request included, is on that one line. */
    at = strstr(at, "canonical request is:POST / ");
    assert_non_null(at);
    assert_true(at < eol);
    assert_int_equal(e2e_count_substr(r.err, "pre-flight: credentials "
                                             "rejected (SignatureDoesNotMatch"),
                     1);
    e2e_assert_run_no_secret(scratch, H_SECRET, &r);
    h_run_free(&r);
}

/* --skip-preflight with a wrong secret: the chunk whose Create was
 * answered SignatureDoesNotMatch was sent and refused: failed, with the
 * code and the request id; the chunks never sent stay not_sent. */
static void skip_preflight_refused_chunk_is_failed(void **state)
{
    struct h_run r;
    char inv[512], report[512];
    size_t c0 = e2e_log_count(&emu, "CreateOTAStaticUpgradeJob", 0);
    size_t sent = 0, failed = 0, not_sent = 0, i = 0;
    json_t *rows = NULL, *row = NULL;

    (void)state;
    run_wrong_secret(&r, "skip", "--skip-preflight", NULL);
    e2e_scratch_paths(scratch, "skip", inv, report, sizeof(inv));
    sent = e2e_log_count(&emu, "CreateOTAStaticUpgradeJob", 0) - c0;
    assert_true(sent >= 1);
    rows = h_read_csv(report);
    assert_int_equal(json_array_size(rows), 2);
    json_array_foreach(rows, i, row) {
        const char *status = json_string_value(json_object_get(row,
                                                               "status"));
        const char *rid = json_string_value(json_object_get(row,
                                                            "request_id"));
        const char *msg = json_string_value(json_object_get(row,
                                                            "error_message"));

        assert_string_equal(json_string_value(json_object_get(row,
                                                              "error_code")),
                            "SignatureDoesNotMatch");
        if (strcmp(status, "failed") == 0) {
            failed++;
            assert_non_null(rid);
            assert_true(strlen(rid) > 0);
            assert_null(strchr(msg, '\n'));
        } else {
            assert_string_equal(status, "not_sent");
            not_sent++;
            assert_true(rid == NULL || *rid == '\0');
        }
    }
    /* Each Create the emulator answered is a failed chunk; none more. */
    assert_int_equal(failed, sent);
    assert_int_equal(failed + not_sent, 2);
    /* Told once, with the class and the advice; no server text. */
    assert_int_equal(e2e_count_substr(r.err, "run aborted: credentials "
                                             "rejected (SignatureDoesNotMatch"),
                     1);
    assert_non_null(strstr(r.err, "check ALIBABA_CLOUD_ACCESS_KEY_SECRET"));
    assert_no_raw_text(r.err);
    e2e_assert_run_no_secret(scratch, H_SECRET, &r);
    json_decref(rows);
    h_run_free(&r);
}

E2E_MAIN_GROUP(group_setup, group_teardown, E2E_CASE(run_case, cases[0]),
               E2E_CASE(run_case, cases[1]), E2E_CASE(run_case, cases[2]),
               E2E_CASE(run_case, cases[3]), E2E_CASE(run_case, cases[4]),
               E2E_CASE(run_case, cases[5]),
               cmocka_unit_test(verbose_tells_server_text_once_on_one_line),
               cmocka_unit_test(json_log_keeps_server_text_on_one_line),
               cmocka_unit_test(skip_preflight_refused_chunk_is_failed))
