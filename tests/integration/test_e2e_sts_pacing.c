/* test_e2e_sts_pacing.c - the credentials' STS calls go through the
 * pacing engine: two rollouts at once on one RamRoleArn profile, on
 * 6-second credentials (a refresh every ~2.7 s each), with the STS quota
 * lowered to 1/s on both sides (the emulator's --qps-sts, the tool's
 * OTA_ROLLOUT_TEST_STS_QPS): their AssumeRole arrivals together stay
 * within 1 in every sliding second and none is throttled. Unpaced, the
 * two first fetches arrive in the same few ms. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"
#include "torture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NPROC 2
#define DEVICES 200 /* 20 Creates at --qps 5: about 4 s each */
#define ROLE "acs:ram::1234567890123456:role/ota-rollout"

static void write_profile(const char *path, const char *endpoint)
{
    char *json = NULL;

    assert_true(asprintf(&json,
                         "{\"current\":\"default\",\"profiles\":[{\"name\":"
                         "\"ops\",\"mode\":\"RamRoleArn\",\"access_key_id\":"
                         "\"%s\",\"access_key_secret\":\"%s\","
                         "\"ram_role_arn\":\"" ROLE "\","
                         "\"ram_session_name\":\"ota\",\"sts_endpoint\":"
                         "\"%s\",\"region_id\":\"cn-shanghai\"}]}",
                         H_KEY_ID, H_SECRET, endpoint) > 0);
    torture_write_text(path, json);
    free(json);
    chmod(path, 0600);
}

static void two_rollouts_share_the_sts_quota(void **state)
{
    static const char *const pks[NPROC] = {"a1StsPaceA1", "a1StsPaceB2"};
    static const char *const fws[NPROC] = {"UkOZxXXnVaLfqvvv8YzC000301",
                                           "UkOZxXXnVaLfqvvv8YzC000302"};
    struct e2e_fleet c;
    char inv[NPROC][512], rep[NPROC][512], out[NPROC][600];
    char cfg[700], env_cfg[760];
    pid_t pid[NPROC];
    json_t *log = NULL, *e = NULL;
    size_t i = 0, throttled = 0, most = 0;

    (void)state;
    e2e_fleet_start(&c, 1, pks[0],
                    E2E_ARGS("--auto-create", "--sts-ttl-s", "6",
                             "--qps-sts", "1"));
    snprintf(cfg, sizeof(cfg), "%s-aliyun-config.json", c.dir);
    write_profile(cfg, c.emu.endpoint);
    snprintf(env_cfg, sizeof(env_cfg), "ALIBABA_CLOUD_CONFIG_FILE=%s", cfg);
    for (int p = 0; p < NPROC; p++) {
        char name[16];

        snprintf(name, sizeof(name), "p%d", p);
        e2e_scratch_paths(c.dir, name, inv[p], rep[p], sizeof(inv[p]));
        snprintf(out[p], sizeof(out[p]), "%s/p%d.out", c.dir, p);
        h_write_inventory(inv[p], DEVICES, pks[p]);
    }
    for (int p = 0; p < NPROC; p++) {
        const char *argv[] = {"run",        inv[p],         "--firmware-id",
                              fws[p],       "--endpoint",   c.emu.endpoint,
                              "--report",   rep[p],         "--chunk-size",
                              "10",         "--qps",        "5",
                              "--profile",  "ops",          "--yes",
                              "--no-progress", NULL};
        const char *env[] = {env_cfg, "OTA_ROLLOUT_TEST_STS_QPS=1", NULL};

        pid[p] = h_spawn(argv, env, 1, c.dir, out[p], NULL);
    }
    for (int p = 0; p < NPROC; p++) {
        int code = h_wait(pid[p], -1, 120000);

        if (code != 0)
            fail_msg("rollout %d exited %d: %s", p, code,
                     h_slurp(out[p], NULL));
    }
    log = h_read_jsonl(c.emu.log_path);
    most = e2e_max_per_window(log, "AssumeRole");
    json_array_foreach(log, i, e) {
        const char *code = json_string_value(json_object_get(e, "code"));

        throttled += code != NULL && strncmp(code, "Throttling", 10) == 0;
    }
    /* Both refreshed at least once after their first fetch. */
    assert_true(e2e_count(log, "AssumeRole", 1) >= 4);
    json_decref(log);
    if (most > 1)
        fail_msg("%zu AssumeRole arrivals in one second (quota 1)", most);
    assert_int_equal(throttled, 0);
    e2e_fleet_stop(&c);
}

E2E_MAIN(cmocka_unit_test(two_rollouts_share_the_sts_quota))
