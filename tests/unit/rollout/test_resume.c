/* test_resume.c - journal replay into chunk states, resume actions, the
 * run's identity and its comparison, config rebuilt from a run record. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/model/config.h"
#include "orch/base/err.h"
#include "orch/engine/journal.h"
#include "orch/rollout/resume.h"
#include "torture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A journal image built record by record, framed as journal.c does. */
struct image {
    char buf[16384];
    size_t len;
};

static void add(struct image *im, const char *json)
{
    size_t n = strlen(json);
    int w = snprintf(im->buf + im->len, sizeof(im->buf) - im->len,
                     "J1 %zu %08x %s\n", n, (unsigned)orch_crc32c(json, n),
                     json);

    assert_true(w > 0 && (size_t)w < sizeof(im->buf) - im->len);
    im->len += (size_t)w;
}

static void base_config(struct orch_config *cfg)
{
    orch_config_init(cfg);
    cfg->command = ORCH_CMD_RUN;
    cfg->inventory_path = strdup("/data/fleet.csv");
    cfg->firmware_id = strdup("FW1");
    cfg->endpoint = strdup("https://iot.cn-shanghai.aliyuncs.com");
    cfg->region = strdup("cn-shanghai");
    cfg->run_id = strdup("0123456789ab");
    cfg->chunk_size = 100;
    cfg->retry_count = 2;
    cfg->qps = 15;
}

static char *run_json(const struct orch_config *cfg, size_t nchunks)
{
    json_t *run = orch_resume_run_record(cfg, "/data/fleet.csv", "aa11", nchunks,
                                         1000);
    char *s = NULL;

    assert_non_null(run);
    s = json_dumps(run, JSON_COMPACT);
    json_decref(run);
    assert_non_null(s);
    return s;
}

static void replay_states_and_actions(void **state)
{
    struct orch_config cfg;
    struct orch_resume rs;
    struct orch_diag diag = {{0}};
    struct image im = {{0}, 0};
    char *run = NULL;
    int64_t since = 0;

    (void)state;
    base_config(&cfg);
    run = run_json(&cfg, 7);
    add(&im, run);
    /* 0 created, 1 failed, 2 started (no done), 3 never started,
     * 4 not_sent after an intent, 5 not_sent never tried, 6 failed
     * Ambiguous (undecided) */
    add(&im, "{\"t\":\"intent\",\"c\":0,\"n\":1,\"time\":2000}");
    add(&im, "{\"t\":\"done\",\"c\":0,\"status\":\"created\",\"job_id\":\"J0\"}");
    add(&im, "{\"t\":\"intent\",\"c\":1,\"n\":1,\"time\":2001}");
    add(&im, "{\"t\":\"attempt\",\"c\":1,\"n\":2,\"time\":2500}");
    add(&im, "{\"t\":\"done\",\"c\":1,\"status\":\"failed\",\"code\":\"X\"}");
    add(&im, "{\"t\":\"intent\",\"c\":2,\"n\":1,\"time\":3000}");
    add(&im, "{\"t\":\"attempt\",\"c\":2,\"n\":2,\"time\":3100}");
    add(&im, "{\"t\":\"reconcile\",\"c\":2,\"action\":\"ListOTAJobByDevice\"}");
    add(&im, "{\"t\":\"intent\",\"c\":4,\"n\":1,\"time\":4000}");
    add(&im, "{\"t\":\"done\",\"c\":4,\"status\":\"not_sent\",\"code\":"
             "\"Ambiguous\"}");
    add(&im, "{\"t\":\"done\",\"c\":5,\"status\":\"not_sent\"}");
    add(&im, "{\"t\":\"intent\",\"c\":6,\"n\":1,\"time\":4500}");
    add(&im, "{\"t\":\"done\",\"c\":6,\"status\":\"failed\",\"code\":"
             "\"Ambiguous\"}");
    add(&im, "{\"t\":\"end\",\"time\":5000,\"exit\":4}");
    add(&im, "{\"t\":\"future-type\",\"x\":1}");

    orch_resume_init(&rs);
    assert_int_equal(orch_resume_load_mem(&rs, im.buf, im.len, "j", &diag), 0);
    assert_non_null(rs.run);
    assert_int_equal(rs.nchunks, 7);
    assert_true(rs.ended);
    assert_int_equal(rs.valid_len, im.len);
    assert_int_equal(rs.chunks[1].attempts, 2);

    assert_int_equal(orch_resume_action(&rs, 0, &since), ORCH_RESUME_SKIP);
    assert_int_equal(orch_resume_action(&rs, 1, &since), ORCH_RESUME_SKIP);
    assert_int_equal(orch_resume_action(&rs, 2, &since), ORCH_RESUME_RECONCILE);
    assert_int_equal(since, 3000); /* the FIRST attempt's time */
    assert_int_equal(orch_resume_action(&rs, 3, &since), ORCH_RESUME_SEND);
    assert_int_equal(orch_resume_action(&rs, 4, &since), ORCH_RESUME_RECONCILE);
    assert_int_equal(since, 4000);
    assert_int_equal(orch_resume_action(&rs, 5, &since), ORCH_RESUME_SEND);
    assert_int_equal(orch_resume_action(&rs, 6, &since), ORCH_RESUME_RECONCILE);
    assert_int_equal(since, 4500);
    /* The latest send among the chunks to reconcile (2: 3100, 4: 4000,
     * 6: 4500): their lookups wait for the server to be done with it. */
    assert_int_equal(rs.chunks[2].last_ms, 3100);
    assert_int_equal(orch_resume_last_unsettled_ms(&rs), 4500);
    assert_false(orch_resume_all_final(&rs));
    orch_resume_cleanup(&rs);

    /* A resume record after the end makes the run unfinished again. */
    add(&im, "{\"t\":\"resume\",\"time\":6000}");
    orch_resume_init(&rs);
    assert_int_equal(orch_resume_load_mem(&rs, im.buf, im.len, "j", &diag), 0);
    assert_false(rs.ended);
    orch_resume_cleanup(&rs);
    free(run);
    orch_config_cleanup(&cfg);
}

static void torn_tail_is_cut_damage_refused(void **state)
{
    struct orch_config cfg;
    struct orch_resume rs;
    struct orch_diag diag = {{0}};
    struct image im = {{0}, 0};
    char *run = NULL;
    size_t good = 0;
    int64_t since = 0;

    (void)state;
    base_config(&cfg);
    run = run_json(&cfg, 2);
    add(&im, run);
    add(&im, "{\"t\":\"intent\",\"c\":0,\"n\":1,\"time\":2000}");
    good = im.len;
    add(&im, "{\"t\":\"done\",\"c\":0,\"status\":\"created\",\"job_id\":\"J0\"}");
    /* Torn: the done record lost its last bytes. */
    orch_resume_init(&rs);
    assert_int_equal(orch_resume_load_mem(&rs, im.buf, im.len - 5, "j", &diag),
                     0);
    assert_int_equal(rs.valid_len, good);
    assert_int_equal(orch_resume_action(&rs, 0, &since), ORCH_RESUME_RECONCILE);
    orch_resume_cleanup(&rs);

    /* The same flip in an earlier record is damage. */
    im.buf[good - 10] ^= 0x01;
    orch_resume_init(&rs);
    assert_int_equal(orch_resume_load_mem(&rs, im.buf, im.len, "j", &diag),
                     ORCH_EJOURNAL);
    assert_non_null(strstr(diag.msg, "j:2"));
    orch_resume_cleanup(&rs);
    free(run);
    orch_config_cleanup(&cfg);
}

static void bad_records_refused(void **state)
{
    struct orch_config cfg;
    struct orch_resume rs;
    struct orch_diag diag = {{0}};
    struct image a = {{0}, 0}, b = {{0}, 0}, c = {{0}, 0};
    char *run = NULL;

    (void)state;
    base_config(&cfg);
    run = run_json(&cfg, 2);

    add(&a, "{\"t\":\"intent\",\"c\":0,\"time\":1}");
    add(&a, run);
    orch_resume_init(&rs);
    assert_int_equal(orch_resume_load_mem(&rs, a.buf, a.len, "j", &diag),
                     ORCH_EJOURNAL);
    assert_non_null(strstr(diag.msg, "before the run record"));
    orch_resume_cleanup(&rs);

    add(&b, run);
    add(&b, "{\"t\":\"done\",\"c\":2,\"status\":\"created\"}");
    add(&b, "{\"t\":\"end\"}");
    orch_resume_init(&rs);
    assert_int_equal(orch_resume_load_mem(&rs, b.buf, b.len, "j", &diag),
                     ORCH_EJOURNAL);
    assert_non_null(strstr(diag.msg, "outside"));
    orch_resume_cleanup(&rs);

    add(&c, run);
    add(&c, run);
    add(&c, "{\"t\":\"end\"}");
    orch_resume_init(&rs);
    assert_int_equal(orch_resume_load_mem(&rs, c.buf, c.len, "j", &diag),
                     ORCH_EJOURNAL);
    assert_non_null(strstr(diag.msg, "second run record"));
    orch_resume_cleanup(&rs);
    free(run);
    orch_config_cleanup(&cfg);
}

static void compare_names_each_change(void **state)
{
    struct orch_config cfg;
    json_t *run = NULL, *shape = NULL;
    char what[1024];

    (void)state;
    base_config(&cfg);
    run = orch_resume_run_record(&cfg, "/data/fleet.csv", "aa11", 7, 1);
    shape = orch_resume_shape(&cfg);
    assert_int_equal(orch_resume_compare(run, "aa11", shape, 7, what,
                                         sizeof(what)),
                     0);
    assert_string_equal(what, "");
    /* Pacing is not identity. */
    cfg.qps = 5;
    json_decref(shape);
    shape = orch_resume_shape(&cfg);
    assert_int_equal(orch_resume_compare(run, "aa11", shape, 7, what,
                                         sizeof(what)),
                     0);

    cfg.chunk_size = 50;
    json_decref(shape);
    shape = orch_resume_shape(&cfg);
    assert_int_equal(orch_resume_compare(run, "bb22", shape, 14, what,
                                         sizeof(what)),
                     2);
    assert_non_null(strstr(what, "inventory's content changed"));
    assert_non_null(strstr(what, "--chunk-size was 100, now 50"));

    cfg.chunk_size = 100;
    free(cfg.firmware_id);
    cfg.firmware_id = strdup("FW2");
    cfg.retry_count = 5;
    json_decref(shape);
    shape = orch_resume_shape(&cfg);
    assert_int_equal(orch_resume_compare(run, "aa11", shape, 7, what,
                                         sizeof(what)),
                     2);
    assert_non_null(strstr(what, "--firmware-id was \"FW1\", now \"FW2\""));
    assert_non_null(strstr(what, "--retry-count was 2, now 5"));

    /* Same options, another chunk count (cannot happen unless the planner
     * changed): still a difference. */
    free(cfg.firmware_id);
    cfg.firmware_id = strdup("FW1");
    cfg.retry_count = 2;
    json_decref(shape);
    shape = orch_resume_shape(&cfg);
    assert_int_equal(orch_resume_compare(run, "aa11", shape, 8, what,
                                         sizeof(what)),
                     1);
    assert_non_null(strstr(what, "8 chunks"));
    json_decref(shape);
    json_decref(run);
    orch_config_cleanup(&cfg);
}

static void config_rebuilt_from_run_record(void **state)
{
    struct orch_config cfg, cmd;
    struct orch_diag diag = {{0}};
    json_t *run = NULL;

    (void)state;
    base_config(&cfg);
    cfg.fw_map = calloc(1, sizeof(*cfg.fw_map));
    cfg.fw_map[0].product_key = strdup("PKB");
    cfg.fw_map[0].firmware_id = strdup("FWB");
    cfg.n_fw_map = 1;
    cfg.insecure = true;
    cfg.max_attempts = 9;
    run = orch_resume_run_record(&cfg, "/data/fleet.csv", "aa11", 3, 1);
    assert_non_null(run);

    /* `resume REPORT --endpoint X --yes`: the report is the positional. */
    orch_config_init(&cmd);
    cmd.command = ORCH_CMD_RESUME;
    cmd.inventory_path = strdup("/data/fleet.report.csv");
    cmd.endpoint = strdup("http://127.0.0.1:1");
    cmd.yes = true;
    assert_int_equal(orch_resume_config_from_run(&cmd, run, &diag), 0);
    assert_int_equal(cmd.command, ORCH_CMD_RUN);
    assert_true(cmd.resume);
    assert_true(cmd.yes);
    assert_string_equal(cmd.report_path, "/data/fleet.report.csv");
    assert_string_equal(cmd.inventory_path, "/data/fleet.csv");
    assert_string_equal(cmd.firmware_id, "FW1");
    assert_string_equal(cmd.endpoint, "http://127.0.0.1:1");
    assert_string_equal(cmd.run_id, "0123456789ab");
    assert_int_equal(cmd.n_fw_map, 1);
    assert_string_equal(cmd.fw_map[0].product_key, "PKB");
    assert_int_equal(cmd.chunk_size, 100);
    assert_int_equal(cmd.retry_count, 2);
    assert_int_equal(cmd.max_attempts, 9);
    assert_true(cmd.qps == 15);
    /* --insecure is never carried over from the journal. */
    assert_false(cmd.insecure);

    /* The rebuilt config has the same identity as the original. */
    {
        json_t *shape = orch_resume_shape(&cmd);
        char what[512];

        assert_int_equal(orch_resume_compare(run, "aa11", shape, 3, what,
                                             sizeof(what)),
                         0);
        json_decref(shape);
    }
    orch_config_cleanup(&cmd);

    /* A shape option on the command line overrides (and will then be
     * reported as a change). */
    orch_config_init(&cmd);
    cmd.command = ORCH_CMD_RESUME;
    cmd.inventory_path = strdup("r.csv");
    cmd.chunk_size = 10;
    assert_int_equal(orch_resume_config_from_run(&cmd, run, &diag), 0);
    assert_int_equal(cmd.chunk_size, 10);
    orch_config_cleanup(&cmd);

    assert_int_equal(orch_resume_config_from_run(&cmd, json_null(), &diag),
                     ORCH_EJOURNAL);
    orch_config_cleanup(&cmd);
    json_decref(run);
    orch_config_cleanup(&cfg);
}

/* `resume REPORT` with switches about this invocation: they are used as
 * `run ... --resume` would use them (--skip-preflight for an account whose
 * RAM policy denies the firmware check, --log-format json for a log
 * collector, --check-devices to be told the resumed run cannot check). */
static void resume_keeps_the_invocations_switches(void **state)
{
    struct orch_config cfg, cmd;
    struct orch_diag diag = {{0}};
    json_t *run = NULL;

    (void)state;
    base_config(&cfg);
    run = orch_resume_run_record(&cfg, "/data/fleet.csv", "aa11", 3, 1);
    assert_non_null(run);
    orch_config_init(&cmd);
    cmd.command = ORCH_CMD_RESUME;
    cmd.inventory_path = strdup("/data/fleet.report.csv");
    cmd.skip_preflight = true;
    cmd.check_devices = true;
    cmd.log_format = ORCH_LOG_FORMAT_JSON;
    assert_int_equal(orch_resume_config_from_run(&cmd, run, &diag), 0);
    assert_true(cmd.skip_preflight);
    assert_true(cmd.check_devices);
    assert_int_equal(cmd.log_format, ORCH_LOG_FORMAT_JSON);
    assert_string_equal(cmd.report_path, "/data/fleet.report.csv");
    orch_config_cleanup(&cmd);
    json_decref(run);
    orch_config_cleanup(&cfg);
}

static void journal_path_derived(void **state)
{
    char *p = orch_resume_journal_path("out/fleet.report.csv");

    (void)state;
    assert_string_equal(p, "out/fleet.report.csv.journal");
    free(p);
}

static void drop_map_round_trip(void **state)
{
    uint8_t drop[6] = {0, 1, 0, 0, 1, 1};
    uint8_t back[6];
    json_t *run = json_object();
    struct orch_diag diag = {{0}};
    bool has = true;

    (void)state;
    /* No "dropped": the check did not run. */
    memset(back, 7, sizeof(back));
    assert_int_equal(orch_resume_drop_map(run, back, 6, &has, &diag), 0);
    assert_false(has);
    assert_memory_equal(back, (uint8_t[6]){0}, 6);

    json_object_set_new(run, "dropped", orch_resume_dropped_json(drop, 6));
    assert_int_equal(json_array_size(json_object_get(run, "dropped")), 3);
    assert_int_equal(orch_resume_drop_map(run, back, 6, &has, &diag), 0);
    assert_true(has);
    assert_memory_equal(back, drop, 6);

    /* An index outside the inventory is damage, and nothing is kept. */
    assert_int_equal(orch_resume_drop_map(run, back, 5, &has, &diag),
                     ORCH_EJOURNAL);
    assert_false(has);
    assert_non_null(strstr(diag.msg, "not a device of this inventory"));
    json_object_set_new(run, "dropped", json_pack("[i, s]", 1, "x"));
    assert_int_equal(orch_resume_drop_map(run, back, 6, &has, &diag),
                     ORCH_EJOURNAL);
    json_object_set_new(run, "dropped", json_string("no"));
    assert_int_equal(orch_resume_drop_map(run, back, 6, &has, &diag),
                     ORCH_EJOURNAL);
    json_decref(run);
}

/* Every wave record is kept, in order, besides the last one and the
 * passed gates. */
static void wave_records_kept(void **state)
{
    struct orch_config cfg;
    struct orch_resume rs;
    struct orch_diag diag = {{0}};
    struct image im = {{0}, 0};
    char *run = NULL;

    (void)state;
    base_config(&cfg);
    run = run_json(&cfg, 2);
    add(&im, run);
    add(&im, "{\"t\":\"wave\",\"wave\":1,\"event\":\"start\",\"time\":1}");
    add(&im, "{\"t\":\"wave\",\"wave\":1,\"event\":\"gate\","
             "\"decision\":\"pass\",\"time\":2}");
    add(&im, "{\"t\":\"wave\",\"wave\":2,\"event\":\"start\",\"time\":3}");
    orch_resume_init(&rs);
    assert_int_equal(orch_resume_load_mem(&rs, im.buf, im.len, "j", &diag), 0);
    assert_int_equal(json_array_size(rs.waves), 3);
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(rs.waves, 1),
                                           "time")),
        2);
    assert_ptr_equal(json_array_get(rs.waves, 2), rs.last_wave);
    assert_int_equal(rs.waves_passed, 1);
    orch_resume_cleanup(&rs);
    free(run);
    orch_config_cleanup(&cfg);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(wave_records_kept),
    cmocka_unit_test(replay_states_and_actions),
    cmocka_unit_test(torn_tail_is_cut_damage_refused),
    cmocka_unit_test(bad_records_refused),
    cmocka_unit_test(compare_names_each_change),
    cmocka_unit_test(config_rebuilt_from_run_record),
    cmocka_unit_test(resume_keeps_the_invocations_switches),
    cmocka_unit_test(journal_path_derived),
    cmocka_unit_test(drop_map_round_trip))
