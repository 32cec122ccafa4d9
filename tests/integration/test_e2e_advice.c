/* test_e2e_advice.c - issue 11 item 2: a pre-flight failure gets the one
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

struct advice_case {
    const char *name;
    const char *endpoint;   /* NULL: emu's */
    const char *key_id;     /* NULL: H_KEY_ID */
    const char *secret;     /* NULL: H_SECRET */
    const char *fw;         /* NULL: FW_OK */
    int exit_code;
    const char *class_text; /* the class and code, told once */
    const char *advice;     /* the advice, told once */
    bool skip_helps;        /* --skip-preflight offered */
};

static void run_case(const struct advice_case *c)
{
    struct h_run r;
    char inv[512], report[512], key_env[128], secret_env[128];
    char fwa[128], fwb[128];
    const char *fw = c->fw ? c->fw : FW_OK;

    snprintf(inv, sizeof(inv), "%s/%s.csv", scratch, c->name);
    snprintf(report, sizeof(report), "%s/%s.report.csv", scratch, c->name);
    write_inventory(inv);
    snprintf(key_env, sizeof(key_env), "ALIBABA_CLOUD_ACCESS_KEY_ID=%s",
             c->key_id ? c->key_id : H_KEY_ID);
    snprintf(secret_env, sizeof(secret_env),
             "ALIBABA_CLOUD_ACCESS_KEY_SECRET=%s",
             c->secret ? c->secret : H_SECRET);
    snprintf(fwa, sizeof(fwa), PKA "=%s", fw);
    snprintf(fwb, sizeof(fwb), PKB "=%s", fw);
    const char *argv[] = {"run", inv, "--firmware", fwa, "--firmware", fwb,
                          "--endpoint",
                          c->endpoint ? c->endpoint : emu.endpoint, "--yes",
                          "--report", report, "--max-attempts", "2", NULL};
    const char *env[] = {key_env, secret_env, NULL};

    h_run(&r, argv, env, 0, 60);
    if (e2e_count_substr(r.err, c->class_text) != 1 ||
        e2e_count_substr(r.err, c->advice) != 1 ||
        r.exit_code != c->exit_code)
        fail_msg("%s: exit %d (want %d); want \"%s\" and \"%s\" once "
                 "each in:\n%s",
                 c->name, r.exit_code, c->exit_code, c->class_text,
                 c->advice, r.err);
    if (c->skip_helps)
        assert_int_equal(e2e_count_substr(r.err, "--skip-preflight"), 1);
    else
        assert_null(strstr(r.err, "or pass --skip-preflight"));
    assert_null(strstr(r.err, "try again, or pass --skip-preflight"));
    assert_non_null(strstr(r.err, "nothing sent"));
    assert_no_raw_text(r.err);
    h_assert_no_secret(scratch, H_SECRET,
                       (const char *[]){r.out, r.err, NULL});
    h_assert_no_secret(scratch, DENIED_SECRET,
                       (const char *[]){r.out, r.err, NULL});
    h_run_free(&r);
}

static void credentials_rejected(void **state)
{
    struct advice_case c = {
        "wrong-secret", NULL, NULL, "not-the-secret", NULL, 4,
        "pre-flight: credentials rejected (SignatureDoesNotMatch, request id ",
        "does not match AccessKeyId " H_KEY_ID
        ": check ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        false};

    (void)state;
    run_case(&c);
}

static void key_unknown(void **state)
{
    struct advice_case c = {
        "unknown-key", NULL, "LTAInosuchkey99", NULL, NULL, 4,
        "pre-flight: AccessKeyId unknown (InvalidAccessKeyId.NotFound, "
        "request id ",
        "AccessKeyId LTAInosuchkey99 (from ALIBABA_CLOUD_ACCESS_KEY_ID) does "
        "not exist or is disabled",
        false};

    (void)state;
    run_case(&c);
}

static void clock_skew(void **state)
{
    struct advice_case c = {
        "clock-skew", skewed.endpoint, NULL, NULL, NULL, 4,
        "pre-flight: clock skew (InvalidTimeStamp.Expired, request id ",
        "fix the clock (NTP)", false};

    (void)state;
    run_case(&c);
}

static void endpoint_unreachable(void **state)
{
    char endpoint[64];
    struct advice_case c = {
        "refused", endpoint, NULL, NULL, NULL, 2,
        "pre-flight: endpoint unreachable (NetworkError: ",
        "check --region / --endpoint and the network", false};

    (void)state;
    snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", dead_port());
    run_case(&c);
}

static void permission_denied(void **state)
{
    struct advice_case c = {
        "ram-denied", NULL, DENIED_KEY, DENIED_SECRET, NULL, 4,
        "pre-flight: permission denied by the RAM policy (Forbidden.RAM, "
        "request id ",
        "does not allow iot:QueryOTAFirmware: grant it, or pass "
        "--skip-preflight",
        true};

    (void)state;
    run_case(&c);
}

/* FirmwareNotFound was told three times (per product, then at the end). */
static void firmware_missing(void **state)
{
    struct advice_case c = {
        "fw-missing", NULL, NULL, NULL, FW_MISSING, 2,
        "firmware " FW_MISSING " does not exist in this account "
        "(iot.ota.FirmwareNotFound, request id ",
        "check the FirmwareId " FW_MISSING " in the IoT console", false};

    (void)state;
    run_case(&c);
}

/* --log-format json: every stderr line is one JSON event; the server's
 * text is in the summary's pre-flight check, on one line. */
static void json_log_keeps_server_text_on_one_line(void **state)
{
    struct h_run r;
    char inv[512], report[512];
    const char *line = NULL;
    json_t *summary = NULL;
    size_t events = 0;

    (void)state;
    snprintf(inv, sizeof(inv), "%s/json.csv", scratch);
    snprintf(report, sizeof(report), "%s/json.report.csv", scratch);
    write_inventory(inv);
    const char *argv[] = {"run", inv, "--firmware", PKA "=" FW_OK,
                          "--firmware", PKB "=" FW_OK, "--endpoint",
                          emu.endpoint, "--yes", "--report", report,
                          "--log-format", "json", NULL};
    const char *env[] = {"ALIBABA_CLOUD_ACCESS_KEY_SECRET=not-the-secret",
                         NULL};

    e2e_run_expect(&r, argv, env, 0, 60, 4);
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
    h_assert_no_secret(scratch, H_SECRET,
                       (const char *[]){r.out, r.err, NULL});
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
    snprintf(inv, sizeof(inv), "%s/skip.csv", scratch);
    snprintf(report, sizeof(report), "%s/skip.report.csv", scratch);
    write_inventory(inv);
    const char *argv[] = {"run", inv, "--firmware", PKA "=" FW_OK,
                          "--firmware", PKB "=" FW_OK, "--endpoint",
                          emu.endpoint, "--yes", "--report", report,
                          "--skip-preflight", NULL};
    const char *env[] = {"ALIBABA_CLOUD_ACCESS_KEY_SECRET=not-the-secret",
                         NULL};

    e2e_run_expect(&r, argv, env, 0, 60, 4);
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
    h_assert_no_secret(scratch, H_SECRET,
                       (const char *[]){r.out, r.err, NULL});
    json_decref(rows);
    h_run_free(&r);
}

E2E_MAIN_GROUP(group_setup, group_teardown,
               cmocka_unit_test(credentials_rejected),
               cmocka_unit_test(key_unknown), cmocka_unit_test(clock_skew),
               cmocka_unit_test(endpoint_unreachable),
               cmocka_unit_test(permission_denied),
               cmocka_unit_test(firmware_missing),
               cmocka_unit_test(json_log_keeps_server_text_on_one_line),
               cmocka_unit_test(skip_preflight_refused_chunk_is_failed))
