/* test_overlap.c - which devices of a new run's inventory an unfinished
 * run holds (overlap.h): its undecided chunks, the chunks of its waves
 * not created yet (WaveNotStarted, WavePaused, Deferred), the chunks it
 * never sent, and the chunks a gate abort kept back (held for the same
 * firmware only); a finished run holds nothing; with its inventory
 * changed, only the undecided chunks (its ambiguous file) count. Each
 * case writes a real inventory and journal in a scratch folder. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "torture.h"

#include "orch/base/err.h"
#include "orch/engine/journal.h"
#include "orch/model/config.h"
#include "orch/model/inventory.h"
#include "orch/model/plan.h"
#include "orch/rollout/overlap.h"
#include "orch/rollout/resume.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PK "a1BwAGVabcd"
#define FW "FW1"
#define NDEV 10 /* 5 chunks of 2 */

struct scratch {
    char dir[256];
    char inv[320];
    char report[320];
    char journal[340];
};

static void scratch_init(struct scratch *s)
{
    char csv[1024];
    size_t i = 0, at = 0;

    assert_non_null(torture_mkdtemp(s->dir, sizeof(s->dir), "overlap"));
    snprintf(s->inv, sizeof(s->inv), "%s/fleet.csv", s->dir);
    snprintf(s->report, sizeof(s->report), "%s/fleet.report.csv", s->dir);
    snprintf(s->journal, sizeof(s->journal), "%s.journal", s->report);
    at = (size_t)snprintf(csv, sizeof(csv), "ProductKey,DeviceName\n");
    for (i = 0; i < NDEV; i++)
        at += (size_t)snprintf(csv + at, sizeof(csv) - at, PK ",dev-%02zu\n",
                               i);
    torture_write_text(s->inv, csv);
}

/* The config of the earlier run: chunks of 2, waves "2,all" when waved. */
static void old_config(struct orch_config *cfg, const struct scratch *s,
                       bool waved)
{
    orch_config_init(cfg);
    cfg->command = ORCH_CMD_RUN;
    cfg->inventory_path = strdup(s->inv);
    cfg->report_path = strdup(s->report);
    cfg->firmware_id = strdup(FW);
    cfg->endpoint = strdup("http://127.0.0.1:1");
    cfg->region = strdup("cn-shanghai");
    cfg->run_id = strdup("0123456789ab");
    cfg->chunk_size = 2;
    if (waved) {
        cfg->waves = strdup("2,all");
        cfg->wave_cut = strdup(ORCH_WAVE_CUT_EXACT);
    }
}

static void load_inventory(struct orch_inventory *inv, const char *path)
{
    struct orch_inventory_opts opts;
    struct orch_diag diag = {{0}};

    memset(&opts, 0, sizeof(opts));
    orch_inventory_init(inv);
    if (orch_inventory_load(inv, path, &opts, &diag) != 0)
        fail_msg("%s: %s", path, diag.msg);
}

/* Writes the earlier run's journal: its run record, then `records`
 * (NULL-terminated JSON texts). */
static void write_journal(const struct scratch *s, bool waved,
                          const char *const *records)
{
    struct orch_config cfg;
    struct orch_inventory inv;
    struct orch_plan plan;
    struct orch_journal j;
    struct orch_diag diag = {{0}};
    char sha[65];
    json_t *run = NULL;
    size_t i = 0;

    unlink(s->journal);
    old_config(&cfg, s, waved);
    load_inventory(&inv, s->inv);
    assert_int_equal(orch_plan_build(&plan, &inv, &cfg, &diag), 0);
    assert_int_equal(plan.nchunks, 5);
    assert_int_equal(orch_file_sha256(s->inv, sha, &diag), 0);
    run = orch_resume_run_record(&cfg, s->inv, sha, plan.nchunks, 1000);
    assert_non_null(run);
    assert_int_equal(orch_journal_open(&j, s->journal, (size_t)-1, &diag), 0);
    assert_int_equal(orch_journal_append(&j, run), 0);
    for (i = 0; records && records[i]; i++) {
        json_error_t err;
        json_t *rec = json_loads(records[i], 0, &err);

        if (rec == NULL)
            fail_msg("bad record %s: %s", records[i], err.text);
        assert_int_equal(orch_journal_append(&j, rec), 0);
        json_decref(rec);
    }
    assert_int_equal(orch_journal_close(&j), 0);
    json_decref(run);
    orch_plan_cleanup(&plan);
    orch_inventory_cleanup(&inv);
    orch_config_cleanup(&cfg);
}

/* Checks s's journal against a new run of the whole inventory with
 * firmware fw. Returns found; *o is the caller's to free. */
static int check(const struct scratch *s, const char *fw,
                 struct orch_overlap *o)
{
    struct orch_config cfg;
    struct orch_inventory inv;
    int found = -1;

    orch_config_init(&cfg);
    cfg.firmware_id = strdup(fw);
    load_inventory(&inv, s->inv);
    assert_int_equal(orch_overlap_check(s->journal, &inv, &cfg, o, &found), 0);
    orch_inventory_cleanup(&inv);
    orch_config_cleanup(&cfg);
    return found;
}

#define CREATED(c)                                                             \
    "{\"t\":\"intent\",\"c\":" #c ",\"n\":1,\"time\":2000}",                   \
        "{\"t\":\"done\",\"c\":" #c ",\"status\":\"created\",\"job_id\":"      \
        "\"J" #c "\"}"

/* Wave 1 (chunk 0) created, its gate timed out: chunks 1-4 wait. */
static void paused_wave_holds_its_devices(void **state)
{
    struct scratch s;
    struct orch_overlap o;

    (void)state;
    scratch_init(&s);
    write_journal(&s, true,
                  (const char *const[]){
                      "{\"t\":\"wave\",\"wave\":1,\"event\":\"start\","
                      "\"time\":1500}",
                      CREATED(0),
                      "{\"t\":\"wave\",\"wave\":1,\"event\":\"gate\","
                      "\"decision\":\"timeout\",\"time\":3000}",
                      "{\"t\":\"wave\",\"wave\":1,\"event\":\"paused\","
                      "\"reason\":\"timeout\",\"time\":3000}",
                      "{\"t\":\"end\",\"time\":3001,\"exit\":6}", NULL});
    assert_int_equal(check(&s, FW, &o), 1);
    assert_true(orch_overlap_refuses(&o));
    assert_int_equal(o.waiting_chunks, 4);
    assert_int_equal(o.waiting, 8);
    assert_string_equal(o.code, "WavePaused");
    assert_int_equal(o.wave, 1);
    assert_int_equal(o.devices + o.unsent + o.aborted + o.other_fw, 0);
    assert_string_equal(o.report, s.report);
    /* Another firmware changes nothing: a resume would still send them. */
    orch_overlap_free(&o);
    assert_int_equal(check(&s, "FW2", &o), 1);
    assert_int_equal(o.waiting, 8);
    orch_overlap_free(&o);
    torture_rmtree(s.dir);
}

/* Waves beyond the horizon (Deferred), and a wave waiting for the gate
 * before it (WaveNotStarted: no gate decided yet). */
static void deferred_and_not_started_waves_hold_their_devices(void **state)
{
    struct scratch s;
    struct orch_overlap o;

    (void)state;
    scratch_init(&s);
    write_journal(&s, true,
                  (const char *const[]){
                      "{\"t\":\"wave\",\"wave\":1,\"event\":\"start\","
                      "\"time\":1500}",
                      CREATED(0),
                      "{\"t\":\"wave\",\"wave\":2,\"event\":\"paused\","
                      "\"reason\":\"horizon\",\"time\":3000,\"creatable\":"
                      "9000}",
                      NULL});
    assert_int_equal(check(&s, FW, &o), 1);
    assert_int_equal(o.waiting, 8);
    assert_string_equal(o.code, "Deferred");
    orch_overlap_free(&o);

    write_journal(&s, true,
                  (const char *const[]){
                      "{\"t\":\"wave\",\"wave\":1,\"event\":\"start\","
                      "\"time\":1500}",
                      CREATED(0), NULL});
    assert_int_equal(check(&s, FW, &o), 1);
    assert_int_equal(o.waiting, 8);
    assert_string_equal(o.code, "WaveNotStarted");
    assert_int_equal(o.wave, 1);
    orch_overlap_free(&o);
    torture_rmtree(s.dir);
}

/* A gate abort: the same firmware is held, another one only counted. */
static void aborted_wave_held_for_the_same_firmware_only(void **state)
{
    struct scratch s;
    struct orch_overlap o;

    (void)state;
    scratch_init(&s);
    write_journal(&s, true,
                  (const char *const[]){
                      "{\"t\":\"wave\",\"wave\":1,\"event\":\"start\","
                      "\"time\":1500}",
                      CREATED(0),
                      "{\"t\":\"wave\",\"wave\":1,\"event\":\"gate\","
                      "\"decision\":\"fail\",\"time\":3000}",
                      "{\"t\":\"wave\",\"wave\":1,\"event\":\"aborted\","
                      "\"cancelled\":2,\"cancel_failed\":0,\"time\":3000}",
                      "{\"t\":\"end\",\"time\":3001,\"exit\":5}", NULL});
    assert_int_equal(check(&s, FW, &o), 1);
    assert_true(orch_overlap_refuses(&o));
    assert_int_equal(o.aborted_chunks, 4);
    assert_int_equal(o.aborted, 8);
    assert_int_equal(o.waiting + o.other_fw, 0);
    orch_overlap_free(&o);

    assert_int_equal(check(&s, "FW2", &o), 1);
    assert_false(orch_overlap_refuses(&o));
    assert_int_equal(o.other_fw_chunks, 4);
    assert_int_equal(o.other_fw, 8);
    assert_int_equal(o.aborted, 0);
    orch_overlap_free(&o);
    torture_rmtree(s.dir);
}

/* A plain run stopped with chunks never sent (not_sent before any call,
 * or no record at all) next to an undecided one. */
static void unsent_chunks_of_a_plain_run_are_held(void **state)
{
    struct scratch s;
    struct orch_overlap o;

    (void)state;
    scratch_init(&s);
    write_journal(&s, false,
                  (const char *const[]){
                      CREATED(0),
                      "{\"t\":\"intent\",\"c\":1,\"n\":1,\"time\":2000}",
                      "{\"t\":\"done\",\"c\":1,\"status\":\"failed\","
                      "\"code\":\"Ambiguous\"}",
                      "{\"t\":\"done\",\"c\":2,\"status\":\"not_sent\","
                      "\"code\":\"Interrupted\"}",
                      "{\"t\":\"end\",\"time\":3001,\"exit\":4}", NULL});
    assert_int_equal(check(&s, FW, &o), 1);
    assert_true(orch_overlap_refuses(&o));
    assert_int_equal(o.chunks, 1);
    assert_int_equal(o.devices, 2);
    assert_int_equal(o.unsent_chunks, 3); /* chunk 2, and 3-4 never tried */
    assert_int_equal(o.unsent, 6);
    assert_int_equal(o.waiting + o.aborted + o.other_fw, 0);
    assert_null(o.code);
    orch_overlap_free(&o);
    torture_rmtree(s.dir);
}

/* Every chunk created or failed: nothing held. */
static void finished_run_holds_nothing(void **state)
{
    struct scratch s;
    struct orch_overlap o;

    (void)state;
    scratch_init(&s);
    write_journal(&s, true,
                  (const char *const[]){
                      CREATED(0), CREATED(1), CREATED(2), CREATED(3),
                      "{\"t\":\"intent\",\"c\":4,\"n\":1,\"time\":2000}",
                      "{\"t\":\"done\",\"c\":4,\"status\":\"failed\","
                      "\"code\":\"iot.x.Bad\"}",
                      "{\"t\":\"end\",\"time\":3001,\"exit\":1}", NULL});
    assert_int_equal(check(&s, FW, &o), 0);
    assert_null(o.journal);
    torture_rmtree(s.dir);
}

/* The earlier run's inventory changed: its resume is refused, so only
 * its undecided chunks count, as its ambiguous file lists them. */
static void changed_inventory_only_undecided_count(void **state)
{
    struct scratch s;
    struct orch_overlap o;
    char amb[400];

    (void)state;
    scratch_init(&s);
    write_journal(&s, false,
                  (const char *const[]){
                      CREATED(0),
                      "{\"t\":\"intent\",\"c\":1,\"n\":1,\"time\":2000}",
                      "{\"t\":\"done\",\"c\":1,\"status\":\"failed\","
                      "\"code\":\"Ambiguous\"}",
                      NULL});
    snprintf(amb, sizeof(amb), "%s.ambiguous.csv", s.report);
    torture_write_text(amb, "ProductKey,DeviceName,reason\n" PK
                            ",dev-02,x\n" PK ",dev-03,x\n");
    /* Same devices, another order: another SHA-256. */
    torture_write_text(s.inv, "DeviceName,ProductKey\n"
                              "dev-00," PK "\ndev-01," PK "\ndev-02," PK
                              "\ndev-03," PK "\ndev-04," PK "\ndev-05," PK
                              "\ndev-06," PK "\ndev-07," PK "\ndev-08," PK
                              "\ndev-09," PK "\n");
    assert_int_equal(check(&s, FW, &o), 1);
    assert_int_equal(o.chunks, 1);
    assert_int_equal(o.devices, 2);
    assert_int_equal(o.unsent, 0);
    orch_overlap_free(&o);
    torture_rmtree(s.dir);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(paused_wave_holds_its_devices),
    cmocka_unit_test(deferred_and_not_started_waves_hold_their_devices),
    cmocka_unit_test(aborted_wave_held_for_the_same_firmware_only),
    cmocka_unit_test(unsent_chunks_of_a_plain_run_are_held),
    cmocka_unit_test(finished_run_holds_nothing),
    cmocka_unit_test(changed_inventory_only_undecided_count))
