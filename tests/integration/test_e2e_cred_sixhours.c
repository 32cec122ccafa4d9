/* test_e2e_cred_sixhours.c - a three-wave gated rollout over six simulated
 * hours on 15-minute credentials, end to end: no call refused as expired,
 * no stop, every wave created.
 *
 * DESIGN: simulated time, no code hooks. Both programs run 150 times
 * faster than real time, so six simulated hours take about two and a half
 * real minutes:
 *  - ota-rollout runs under libfaketime with FAKETIME="+0 x150": its wall
 *    and monotonic clocks, its sleeps, poll and condition-variable
 *    timeouts (the credential refresher's pthread_cond_timedwait on
 *    CLOCK_MONOTONIC included) all run at 150x from its start. Its gate
 *    polls every 2 simulated minutes (0.8 real seconds), its request
 *    timeout is 10 simulated minutes (4 real seconds); the 10-second
 *    timeout of a credential fetch is 67 real ms, plenty on loopback (a
 *    refresh that misses it is retried as any failed refresh; the first
 *    fetch, before anything is sent, is not, so a machine stalled for
 *    that long at that moment fails the test: rerun it alone);
 *  - ota-emulator runs with --clock-rate 150: its clock (request times,
 *    the signature-time check, quotas, task steps, key lifetimes) runs at
 *    150x from its start. --sim-speed 1/900 makes a task step last 15
 *    simulated minutes, so a wave's 200 tasks end 6 to 8 steps after its
 *    job starts: each gate really waits about two simulated hours.
 * The credentials come from a config.json RamRoleArn profile whose
 * sts_endpoint is the emulator and whose expired_seconds is 900 (the
 * shortest lifetime STS grants): a fresh set every 6.7 simulated minutes,
 * about 54 over the rollout.
 *
 * The two clocks start at about the same real instant (the tool is
 * started right after the emulator's port line), so they differ by 149 x
 * that gap (a few seconds), and by nothing more as the run goes on (both
 * scale the same real clock). The test measures the difference on every
 * request signed with a Timestamp (AssumeRole, V2: the emulator's arrival
 * time minus the Timestamp; the IoT calls are V3, whose date the log does
 * not keep) and requires it to stay under DRIFT_MAX_MS, far below the
 * 5-minute safety margin of 15-minute credentials and the API's 15
 * minutes of allowed skew.
 *
 * Under the ASan build the preloaded library comes before libasan:
 * e2e_fake_env_init() adds verify_asan_link_order=0 to ASAN_OPTIONS. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"
#include "torture.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define PK "a1BwAGVabcd"
#define FW "UkOZxXXnVaLfqvvv8YzC000100"
#define NDEV 600 /* 3 chunks of 200; waves "200,400,all": one chunk each */
#define RATE "150" /* simulated seconds per real second, both programs */
#define HOUR_MS ((int64_t)3600 * 1000)
/* The clocks' difference allowed: 149 x a 0.4-second gap between the
 * two starts, far below the 5-minute margin (measured: about 3.5 s). */
#define DRIFT_MAX_MS ((int64_t)60 * 1000)

/* The RamRoleArn profile "ops" (15-minute sets from the emulator's STS),
 * written outside f's directory (searched for secrets elsewhere). */
static void write_profile(const char *path, const char *endpoint)
{
    char *json = NULL;

    assert_true(asprintf(&json,
                         "{\"current\":\"ops\",\"profiles\":[{\"name\":"
                         "\"ops\",\"mode\":\"RamRoleArn\",\"access_key_id\":"
                         "\"%s\",\"access_key_secret\":\"%s\","
                         "\"ram_role_arn\":\"acs:ram::1234567890123456:role/"
                         "ota-rollout\",\"ram_session_name\":\"ota\","
                         "\"expired_seconds\":900,\"sts_endpoint\":\"%s\","
                         "\"region_id\":\"cn-shanghai\"}]}",
                         H_KEY_ID, H_SECRET, endpoint) > 0);
    torture_write_text(path, json);
    free(json);
    chmod(path, 0600);
}

/* A request's Timestamp ("2027-01-01T00:00:00Z", the tool's clock when
 * it signed), epoch ms; -1 when it has none. */
static int64_t timestamp_ms(json_t *entry)
{
    const char *ts = e2e_str(json_object_get(entry, "params"), "Timestamp");
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (*ts == '\0' || strptime(ts, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL)
        return -1;
    return (int64_t)timegm(&tm) * 1000;
}

/* Over the whole request log: nothing refused for its token, the two
 * clocks within DRIFT_MAX_MS on every signed request, the simulated time
 * it spans; returns the number of distinct temporary keys that signed
 * the IoT calls. */
static size_t check_log(json_t *log, int64_t *span_ms)
{
    json_t *keys = json_object();
    json_t *e = NULL;
    size_t i = 0, n = 0, timed = 0;
    int64_t drift_max = 0, first = -1, last = -1;

    json_array_foreach(log, i, e) {
        const char *key = e2e_str(e, "key_id");
        int64_t t = json_integer_value(json_object_get(e, "t"));
        int64_t ts = timestamp_ms(e);

        if (strncmp(e2e_str(e, "code"), "InvalidSecurityToken", 20) == 0)
            fail_msg("%s was refused: %s (key %s)", e2e_str(e, "action"),
                     e2e_str(e, "code"), key);
        if (ts >= 0) {
            /* Timestamp has whole seconds: up to 1 s below the truth. */
            int64_t d = t > ts ? t - ts : ts - t;

            if (d > drift_max)
                drift_max = d;
            timed++;
        }
        if (first < 0)
            first = t;
        last = t;
        if (strncmp(key, "STS.", 4) == 0 &&
            strcmp(e2e_str(e, "action"), "AssumeRole") != 0)
            json_object_set_new(keys, key, json_true());
    }
    print_message("clocks: largest difference %" PRId64 " ms over %zu "
                  "signed requests\n",
                  drift_max, timed);
    assert_true(timed >= 20);
    if (drift_max > DRIFT_MAX_MS)
        fail_msg("the tool's and the emulator's clocks differ by %" PRId64
                 " ms", drift_max);
    *span_ms = last - first;
    n = json_object_size(keys);
    json_decref(keys);
    return n;
}

static void three_gated_waves_over_six_hours(void **state)
{
    struct e2e_fleet f;
    struct e2e_fake_env fast;
    struct h_run r;
    char *lib = e2e_faketime_lib();
    char cfg[700], env_cfg[760];
    const char *argv[E2E_MAX_ARGS];
    const char *env[8];
    json_t *log = NULL, *stats = NULL, *gates = NULL, *doc = NULL;
    json_t *cred = NULL;
    json_int_t refreshes = 0;
    size_t keys = 0, i = 0;
    int64_t span = 0;
    long told = 0;
    double t0 = 0;

    (void)state;
    e2e_fleet_init(&f, NDEV, PK);
    snprintf(cfg, sizeof(cfg), "%s-aliyun-config.json", f.dir);
    snprintf(env_cfg, sizeof(env_cfg), "ALIBABA_CLOUD_CONFIG_FILE=%s", cfg);
    e2e_fake_env_init(&fast, lib, "+0 x" RATE, 1);
    for (i = 0; fast.v[i] != NULL; i++)
        env[i] = fast.v[i];
    env[i++] = env_cfg;
    env[i] = NULL;
    e2e_fleet_argv(argv, &f, FW,
                   E2E_ARGS("--profile", "ops", "--waves", "200,400,all",
                            "--poll-interval", "2m", "--wave-timeout", "3h",
                            "--request-timeout", "10m", "--wait", "--json"));
    /* The emulator, then at once the tool: their clocks start together. */
    h_emu_start(&f.emu, E2E_ARGS("--auto-create", "--clock-rate", RATE,
                                 "--sim-speed", "0.00111111"));
    write_profile(cfg, f.emu.endpoint);
    t0 = h_now_s();
    h_run(&r, argv, env, 1, 600);
    print_message("six simulated hours took %.0f real seconds\n",
                  h_now_s() - t0);
    e2e_expect_exit(&r, "run", 0);

    /* Every wave created, every device in exactly one job, no stop. */
    e2e_assert_complete(&f, NDEV, 3);
    assert_null(strstr(r.err, "CredentialsExpired"));
    gates = e2e_wave_records(f.report, "gate");
    assert_int_equal(json_array_size(gates), 3);
    json_decref(gates);
    assert_non_null(strstr(r.err, "credentials: RamRoleArn profile \"ops\""));
    /* the run's account (after every wave's gate) says how often */
    assert_non_null(strstr(strstr(r.err, "total over 3 waves"),
                           "credentials: RamRoleArn profile \"ops\" (STS, "
                           "refreshed "));
    told = e2e_refreshes_told(r.err);
    if (told <= 20)
        fail_msg("the last wave's summary says %ld refreshes", told);
    /* The whole run's count (--json): a set every 6.7 simulated minutes
     * for six hours is about 54. */
    doc = e2e_parse_document(r.out);
    cred = json_object_get(doc, "credentials");
    assert_string_equal(e2e_str(cred, "provider"), "profile:RamRoleArn");
    refreshes = json_integer_value(json_object_get(cred, "refreshes"));
    print_message("%lld refreshes\n", (long long)refreshes);
    if (refreshes <= 40 || refreshes < told)
        fail_msg("refreshed %lld times in six hours of 15-minute sets",
                 (long long)refreshes);

    /* The emulator's view: nothing refused as expired, many keys, six
     * hours of its time between the first call and the last. */
    log = h_read_jsonl(f.emu.log_path);
    keys = check_log(log, &span);
    if (keys <= 20)
        fail_msg("only %zu temporary keys signed the calls", keys);
    if (span < 6 * HOUR_MS)
        fail_msg("the rollout spanned %.2f simulated hours",
                 (double)span / HOUR_MS);
    stats = h_emu_get(&f.emu, "/__emu/stats");
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(stats, "sts"), "expired_refused")),
                     0);
    e2e_assert_run_no_secret(f.dir, H_SECRET, &r);

    json_decref(doc);
    json_decref(stats);
    json_decref(log);
    h_run_free(&r);
    free(lib);
    e2e_fleet_stop(&f);
}

E2E_MAIN(cmocka_unit_test(three_gated_waves_over_six_hours))
