/* test_e2e_overlap.c - end to end: a new `run` is refused (exit 2,
 * nothing sent) when its inventory holds devices that a resume of an
 * unfinished rollout would still create a job for - not only the chunks
 * whose outcome is unknown (test_e2e_ambiguous) but also the waves not
 * created yet (WavePaused after a gate timeout, Deferred beyond the 7-day
 * horizon, WaveNotStarted after a Ctrl-C while a gate was watched) and
 * the chunks an interrupted run never sent. The message names the
 * rollout, the device count, why and `ota-rollout resume REPORT`;
 * --force sends anyway with the message as a warning. Devices a gate
 * abort kept from their wave (WaveAborted) are refused only for the same
 * firmware; another firmware goes on after a warning. The classes are
 * unit-tested (test_overlap). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PK "a1BwAGVabcd"
#define FW "UkOZxXXnVaLfqvvv8YzC000100"
#define FW2 "UkOZxXXnVaLfqvvv8YzC000200"
#define NDEV 1000 /* 5 chunks of 200 */

/* A second rollout of `inventory` with firmware fw to another report of
 * c's folder, --force when `force`; fails unless it exits want_exit. */
static void second_run(const struct e2e_fleet *c, const char *inventory,
                       const char *fw, int force, struct h_run *r,
                       int want_exit)
{
    char other[700];

    snprintf(other, sizeof(other), "%s/other.report.csv", c->dir);
    e2e_run_expect(r,
                   E2E_ARGS("run", inventory, "--firmware-id", fw,
                            "--endpoint", c->emu.endpoint, "--yes",
                            "--report", other, "--skip-preflight",
                            force ? "--force" : NULL),
                   NULL, 0, 120, want_exit);
}

/* The refusal names the rollout, the count, the code and the resume, and
 * no Create went out. */
static void assert_refused(const struct e2e_fleet *c, const struct h_run *r,
                           const char *count, const char *code,
                           size_t creates_before)
{
    char resume[700];

    snprintf(resume, sizeof(resume), "ota-rollout resume %s", c->report);
    if (strstr(r->err, count) == NULL || strstr(r->err, code) == NULL ||
        strstr(r->err, resume) == NULL ||
        strstr(r->err, "nothing sent") == NULL)
        fail_msg("want \"%s\", %s, `%s`, \"nothing sent\" in: %s", count,
                 code, resume, r->err);
    assert_int_equal(e2e_log_count(&c->emu, "CreateOTAStaticUpgradeJob", 0),
                     creates_before);
}

/* Wave 1's gate is not decided within 2 s: wave 2's 800 devices are
 * WavePaused. A run of the inventory elsewhere is refused; with --force
 * it sends all 1000 devices after the same words as a warning. */
static void paused_waves_hold_their_devices(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    size_t creates = 0;

    (void)state;
    e2e_fleet_start(&c, NDEV, PK,
                    E2E_ARGS("--auto-create", "--sim-speed", "1"));
    e2e_fleet_run(&r, &c, FW,
                  E2E_ARGS("--poll-interval", "1s", "--waves", "200,all",
                           "--wave-timeout", "2s"),
                  6);
    h_run_free(&r);
    creates = e2e_log_count(&c.emu, "CreateOTAStaticUpgradeJob", 0);
    assert_int_equal(creates, 1);

    second_run(&c, c.inv, FW, 0, &r, 2);
    assert_refused(&c, &r, "800 devices", "WavePaused", creates);
    assert_non_null(strstr(r.err, "not created yet"));
    h_run_free(&r);
    /* Only the waiting wave's devices count (wave 1's have their job). */
    second_run(&c, c.inv, FW, 1, &r, 0);
    assert_non_null(strstr(r.err, "800 devices"));
    assert_non_null(strstr(r.err, "--force"));
    h_run_free(&r);
    assert_int_equal(e2e_log_count(&c.emu, "CreateOTAStaticUpgradeJob", 0),
                     creates + 5);
    e2e_fleet_stop(&c);
}

/* Scheduled waves 200,400,all four days apart (cumulative: 200 devices,
 * then 200 more, then the rest): wave 3's 600 devices lie beyond the
 * 7-day horizon (Deferred); a run of them is refused. */
static void deferred_waves_hold_their_devices(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    int64_t t0 = (h_wall_ms() / 1000 + 3600) * 1000;
    char t0s[32];
    size_t creates = 0;

    (void)state;
    snprintf(t0s, sizeof(t0s), "%" PRId64, t0);
    e2e_fleet_start(&c, NDEV, PK, E2E_ARGS("--auto-create"));
    e2e_fleet_run(&r, &c, FW,
                  E2E_ARGS("--waves", "200,400,all", "--schedule-time", t0s,
                           "--wave-interval", "4d"),
                  6);
    h_run_free(&r);
    creates = e2e_log_count(&c.emu, "CreateOTAStaticUpgradeJob", 0);
    assert_int_equal(creates, 2);
    second_run(&c, c.inv, FW, 0, &r, 2);
    assert_refused(&c, &r, "600 devices", "Deferred", creates);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

/* Ctrl-C while wave 1's gate is watched: waves 2.. are WaveNotStarted,
 * the rollout is unfinished; a run of its inventory is refused. */
static void interrupted_watch_holds_later_waves(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    const char *argv[E2E_MAX_ARGS];
    char errp[600];
    char *err = NULL;
    pid_t pid = 0;

    (void)state;
    e2e_fleet_start(&c, NDEV, PK,
                    E2E_ARGS("--auto-create", "--sim-speed", "0"));
    snprintf(errp, sizeof(errp), "%s/tool.err", c.dir);
    pid = h_spawn(e2e_fleet_argv(argv, &c, FW,
                                 E2E_ARGS("--poll-interval", "1s", "--waves",
                                          "200,all")),
                  NULL, 0, c.dir, c.output, errp);
    err = e2e_await_text(errp, "wave 1/2: watching", pid, 60);
    if (strstr(err, "wave 1/2: watching") == NULL)
        fail_msg("the run did not watch wave 1: %s", err);
    free(err);
    assert_int_equal(e2e_interrupt(pid, 1), 4);
    second_run(&c, c.inv, FW, 0, &r, 2);
    assert_refused(&c, &r, "800 devices", "WaveNotStarted", 1);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

/* A gate abort: wave 2's 800 devices are WaveAborted. The same firmware
 * is refused (that is what the abort stopped); another firmware is the
 * way on: sent, after a warning never to resume the aborted rollout with
 * --force. */
static void aborted_wave_refused_only_for_the_same_firmware(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    char force[700];

    (void)state;
    e2e_fleet_start(&c, NDEV, PK,
                    E2E_ARGS("--auto-create", "--sim-speed", "4",
                             "--success-ratio", "0.3"));
    e2e_fleet_run(&r, &c, FW,
                  E2E_ARGS("--poll-interval", "1s", "--waves", "200,all",
                           "--failure-threshold", "20%", "--min-decided",
                           "20"),
                  5);
    h_run_free(&r);
    assert_int_equal(e2e_job_count(&c.emu), 1);
    snprintf(force, sizeof(force), "ota-rollout resume %s --force", c.report);

    second_run(&c, c.inv, FW, 0, &r, 2);
    assert_refused(&c, &r, "800 devices", "WaveAborted", 1);
    assert_non_null(strstr(r.err, "same firmware"));
    assert_non_null(strstr(r.err, force));
    h_run_free(&r);

    second_run(&c, c.inv, FW2, 0, &r, 0);
    assert_non_null(strstr(r.err, "800 devices"));
    assert_non_null(strstr(r.err, "WaveAborted"));
    assert_non_null(strstr(r.err, force));
    h_run_free(&r);
    assert_int_equal(e2e_job_count(&c.emu), 1 + 5);
    e2e_fleet_stop(&c);
}

/* One Ctrl-C in a plain run: the chunks never sent are not_sent /
 * Interrupted and in the failed file, but a resume would send them; a
 * run of that failed file is refused until the rollout is resumed. */
static void interrupted_run_holds_unsent_chunks(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    const char *argv[E2E_MAX_ARGS];
    const char *emu[] = {"--auto-create", "--latency-ms", "300-600",
                         "--seed", "11", NULL};
    json_t *rows = NULL;
    size_t creates = 0, unsent = 0;
    char count[64];
    pid_t pid = 0;
    int code = 0;

    (void)state;
    e2e_fleet_start(&c, 10000, PK, emu);
    pid = h_spawn(e2e_fleet_argv(argv, &c, FW,
                                 E2E_ARGS("--request-timeout", "2s")),
                  NULL, 0, c.dir, c.output, NULL);
    e2e_await_intents(&c, pid, 4);
    code = e2e_interrupt(pid, 1);
    assert_int_equal(code, 4);
    rows = h_read_csv(c.report);
    unsent = e2e_count_where(rows, "status", "not_sent");
    json_decref(rows);
    assert_true(unsent > 0);
    creates = e2e_log_count(&c.emu, "CreateOTAStaticUpgradeJob", 0);

    snprintf(count, sizeof(count), "%zu devices", unsent * 200);
    second_run(&c, c.failed, FW, 0, &r, 2);
    assert_refused(&c, &r, count, "not sent yet", creates);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

E2E_MAIN(cmocka_unit_test(paused_waves_hold_their_devices),
         cmocka_unit_test(deferred_waves_hold_their_devices),
         cmocka_unit_test(interrupted_watch_holds_later_waves),
         cmocka_unit_test(aborted_wave_refused_only_for_the_same_firmware),
         cmocka_unit_test(interrupted_run_holds_unsent_chunks))
