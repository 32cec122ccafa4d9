/* e2e_util.h - what the end-to-end tests share above the harness: a fleet
 * fixture (scratch directory, inventory, report paths, emulator), counts
 * over the emulator's request log, the report and the journal, and the
 * assertions about a finished rollout.
 *
 * Every function fails the test (cmocka fail) on a setup failure or a
 * missing file unless it says otherwise; none is thread-safe. */
#ifndef E2E_UTIL_H
#define E2E_UTIL_H

#include "harness.h"
#include "torture.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct CMUnitTest;

/* One test's rollout: a scratch directory holding the inventory and the
 * tool's files, and the emulator it runs against. Caller-owned: fill it
 * with e2e_fleet_init() or e2e_fleet_start(), release it with
 * e2e_fleet_stop(). */
struct e2e_fleet {
    struct emu_proc emu; /* not started by e2e_fleet_init() */
    char *dir;           /* scratch directory (malloced) */
    char inv[512];       /* <dir>/fleet.csv */
    char report[512];    /* <dir>/fleet.report.csv */
    char journal[600];   /* <report>.journal */
    char failed[600];    /* <report>.failed.csv */
    char ambiguous[600]; /* <report>.ambiguous.csv */
    char output[600];    /* <dir>/tool-output.txt, for a tool run by hand */
};

/* Makes a new scratch directory and the paths above in it, and writes
 * the inventory: `devices` devices "dev-%06zu" of product pk (see
 * h_write_inventory). Starts no emulator: f->emu is zeroed, for the
 * caller to start with h_emu_start() or to leave alone. */
void e2e_fleet_init(struct e2e_fleet *f, size_t devices, const char *pk);
/* e2e_fleet_init(), then starts the emulator with the extra arguments
 * `emu` (NULL-terminated, may be NULL; see h_emu_start). */
void e2e_fleet_start(struct e2e_fleet *f, size_t devices, const char *pk,
                     const char *const *emu);
/* The paths of a rollout called `name` in the scratch directory dir:
 * "<dir>/<name>.csv" into inv and "<dir>/<name>.report.csv" into report
 * (each `size` bytes); fails the test if one does not fit. For tests
 * whose rollouts share one directory and one emulator. */
void e2e_scratch_paths(const char *dir, const char *name, char *inv,
                       char *report, size_t size);
/* Stops the emulator if it runs and frees the directory's name (the
 * directory itself is left for a post-mortem). */
void e2e_fleet_stop(struct e2e_fleet *f);

/* ---- Running the tool ---- */

/* A NULL-terminated argument list written in place, for the `extra` and
 * `emu` parameters: E2E_ARGS("--qps", "5"). */
#define E2E_ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
/* Emulator arguments: every Create's answer is lost after the job is made
 * and every query fails, so no chunk's outcome can be decided: each ends
 * failed/Ambiguous. E2E_ARGS(E2E_EMU_LOST_CREATES). */
#define E2E_EMU_LOST_CREATES                                                   \
    "--auto-create", "--fault-actions", "CreateOTAStaticUpgradeJob",           \
        "--lose-response", "1", "--fail-queries", "1", "--seed", "11"
/* Room for an argv built by e2e_fleet_argv(), its NULL included. */
#define E2E_MAX_ARGS 48

/* Writes into argv (E2E_MAX_ARGS entries) the arguments of a rollout of
 * f, `run <f->inv> --firmware-id fw --endpoint <f's emulator> --yes
 * --report <f->report>`, then `extra` (NULL-terminated, may be NULL) and
 * the NULL; fails the test if they do not fit. The strings are borrowed
 * from f, fw and extra. Returns argv. */
const char *const *e2e_fleet_argv(const char **argv, const struct e2e_fleet *f,
                                  const char *fw, const char *const *extra);
/* Fails unless the run r of `what` exited want_exit (-1: killed by a
 * signal), showing its stderr. */
void e2e_expect_exit(const struct h_run *r, const char *what, int want_exit);
/* h_run(r, argv, env, no_creds, timeout_s), then e2e_expect_exit() with
 * the command (argv[0]) as `what`. r is the caller's to free. */
void e2e_run_expect(struct h_run *r, const char *const *argv,
                    const char *const *env, int no_creds, int timeout_s,
                    int want_exit);
/* The rollout of e2e_fleet_argv(f, fw, extra) with the test credentials,
 * no other environment and a 120 s limit; fails unless it exits
 * want_exit. r is the caller's to free. */
void e2e_fleet_run(struct h_run *r, const struct e2e_fleet *f, const char *fw,
                   const char *const *extra, int want_exit);

/* `cmd <f->report> --endpoint <f's emulator>` and `extra` (NULL-terminated,
 * may be NULL): status, cancel or resume of f's rollout, with the test
 * credentials and a 60 s limit; fails unless it exits want_exit. r is the
 * caller's to free. */
void e2e_report_run(struct h_run *r, const struct e2e_fleet *f, const char *cmd,
                    const char *const *extra, int want_exit);

/* ---- A run in the background (h_spawn) ---- */

/* Waits (up to timeout_s) until the file at path contains needle, or the
 * process pid has exited; returns the file's text then (malloced; "" when
 * the file is missing). Does not reap pid. */
char *e2e_await_text(const char *path, const char *needle, pid_t pid,
                     int timeout_s);
/* Number of intent records (calls about to go out) in the journal file;
 * 0 when it is missing. */
size_t e2e_count_intents(const char *journal);
/* Waits until f's journal announces at least n calls; fails the test,
 * showing f->output, when pid exits first or after 30 s. */
void e2e_await_intents(const struct e2e_fleet *f, pid_t pid, size_t n);
/* Sends pid `times` SIGINTs, 50 ms apart, then reaps it (h_wait, at most
 * 30 s). Returns its exit code (-1: it died of a signal). */
int e2e_interrupt(pid_t pid, int times);

/* ---- Counts and fields ---- */

/* The largest number of `action` requests that arrived in any sliding
 * 1000 ms window of the request log. */
size_t e2e_max_per_window(json_t *log, const char *action);
/* Tasks QUEUED, NOTIFIED or IN_PROGRESS in f's emulator now. */
json_int_t e2e_emu_pending(const struct e2e_fleet *f);
/* The same over the log entries `keep` says yes to. */
size_t e2e_max_per_window_where(json_t *log,
                                 bool (*keep)(json_t *entry, void *ud),
                                 void *ud);
/* Number of log entries for `action` (NULL: every entry); successful ones
 * only (code "") when only_ok. */
size_t e2e_count(json_t *log, const char *action, int only_ok);
/* e2e_count() over the emulator's request log as it is now. */
size_t e2e_log_count(const struct emu_proc *e, const char *action, int only_ok);
/* Number of jobs the emulator holds now (its /__emu/jobs dump). */
size_t e2e_job_count(const struct emu_proc *e);

/* Number of objects of the array `arr` whose string member `key` equals
 * `value` (report rows by "status", log events by "event"). */
size_t e2e_count_where(json_t *arr, const char *key, const char *value);
/* The first object of `arr` whose string member `key` equals `value`
 * (borrowed from arr), or NULL. */
json_t *e2e_find_where(json_t *arr, const char *key, const char *value);
/* Occurrences of needle in hay, not overlapping; 0 when hay is NULL. */
size_t e2e_count_substr(const char *hay, const char *needle);

/* The journal (<report>.journal) records of type "wave" with this event
 * ("start", "gate", "paused", ...), in order, as a new array; each line is
 * framed, the record starting at its first brace. Fails if the journal is
 * missing. */
json_t *e2e_wave_records(const char *report, const char *event);

/* The string member key of o, or "" when it is missing or not a string
 * (borrowed from o). */
const char *e2e_str(json_t *o, const char *key);
/* One expected integer of a document: obj.key == want (see torture_json_num). */
struct e2e_int {
    const char *key;
    json_int_t want;
};
/* Asserts torture_json_num(doc, obj, w->key) == w->want for each row of `want`,
 * up to a row whose key is NULL; a failure names the field. */
void e2e_assert_ints(json_t *doc, const char *obj, const struct e2e_int *want);
/* A command's stdout with --json: fails unless it is exactly one JSON
 * object (and white space); returns it (new reference). */
json_t *e2e_parse_document(const char *out);

/* Asserts that each of the n devices "dev-%06zu" is in exactly one job of
 * the emulator's /__emu/jobs dump, and that no other device is. */
void e2e_assert_each_device_once(json_t *jobs, size_t n);
/* Asserts that the report's created rows' job_ids are exactly the
 * emulator's JobIds, and the device counts add up. */
void e2e_assert_report_matches_jobs(json_t *report, json_t *jobs);
/* The whole exactly-once property of a finished rollout of f: the
 * emulator holds `chunks` jobs with each of the `devices` devices in
 * exactly one; the report has one created row per chunk naming those
 * jobs; the failed-devices and ambiguous-devices files are there and
 * empty; the emulator saw no
 * device assigned twice and no task of any job FAILED (it fails a task
 * whose device already has a job). */
void e2e_assert_complete(const struct e2e_fleet *f, size_t devices,
                         size_t chunks);
/* h_assert_no_secret(): `secret` is in no file below dir, nor in the
 * run r's stdout and stderr. */
void e2e_assert_run_no_secret(const char *dir, const char *secret,
                              const struct h_run *r);
/* Asserts that the file exists with permissions exactly 0600. */
void e2e_assert_mode_0600(const char *path);

/* When the jobs of a scheduled rollout start: the job of chunk c at
 * t0 + wave_of(c) x interval (ms since the epoch; wave_of counts from 0). */
struct e2e_schedule {
    int64_t t0;
    int64_t interval;
    int (*wave_of)(long chunk);
};
/* Asserts that each job of `jobs` (a /__emu/jobs dump) is named by a row
 * of `rows` (the report, h_read_csv) whose chunk is in [lo, hi], and that
 * its ScheduleTime is the one `s` gives that chunk. Returns the number of
 * jobs. */
size_t e2e_assert_schedules(json_t *jobs, json_t *rows, long lo, long hi,
                            const struct e2e_schedule *s);

/* The path of Debian's libfaketimeMT.so.1 (the faketime package; the MT
 * variant is the one for threaded programs), malloced; fails the test,
 * saying what to install, when it is missing. */
char *e2e_faketime_lib(void);

/* The environment entries ("NAME=VALUE", NULL-terminated in v) that run a
 * tool under the libfaketime at `lib` with the FAKETIME spec `spec` (e.g.
 * "+3600": an hour ahead; "+0 x20": 20 times the speed). With
 * fake_monotonic false, CLOCK_MONOTONIC stays real. ASAN_OPTIONS gets
 * verify_asan_link_order=0: the preloaded library comes before libasan. */
struct e2e_fake_env {
    char preload[512];
    char faketime[64];
    char asan[1024];
    const char *v[5];
};
void e2e_fake_env_init(struct e2e_fake_env *f, const char *lib,
                       const char *spec, int fake_monotonic);

/* The count N of the last "(STS, refreshed N time(s))" in a run's
 * stderr (each summary says it; a waved run has one per wave), or -1
 * when there is none. */
long e2e_refreshes_told(const char *text);

/* ---- Post-mortems ---- */

/* Prints (cmocka print_message) "label (N bytes):" and then the
 * last `max` bytes of text with each control character but the newline
 * written visibly (\r, \x1b, ...), so a redrawn terminal line
 * reads in a CI log; "label: (none)" when text is NULL, "label: (empty)"
 * when it is "". */
void e2e_print_tail(const char *label, const char *text, size_t max);

/* ---- main() ---- */

/* Runs the group `tests` (n of them) with cmocka, between the group's
 * setup and teardown (may be NULL). E2E_FILTER=NAME in the environment
 * runs only the tests whose names match (cmocka's pattern: * and ?).
 * SIGPIPE is ignored: a child that exits early must not kill the test
 * (the tools ignore it themselves, so their runs are not changed).
 * Returns cmocka's result, the exit status of main(). */
int e2e_run_group(const struct CMUnitTest *tests, size_t n,
                  int (*setup)(void **), int (*teardown)(void **));

/* The main() of an end-to-end test file: the tests, as
 * cmocka_unit_test(name) entries, in the order they run.
 * E2E_MAIN_GROUP(setup, teardown, ...) gives the group a setup and a
 * teardown (cmocka_run_group_tests). */
#define E2E_MAIN_GROUP(setup, teardown, ...)                                   \
    int main(void)                                                             \
    {                                                                          \
        const struct CMUnitTest e2e_tests[] = {__VA_ARGS__};                   \
                                                                               \
        return e2e_run_group(e2e_tests,                                        \
                             sizeof(e2e_tests) / sizeof(e2e_tests[0]), setup,  \
                             teardown);                                        \
    }
#define E2E_MAIN(...) E2E_MAIN_GROUP(NULL, NULL, __VA_ARGS__)
/* An entry of that list for one row of a table of cases: the test named
 * row.name (the row's first member, a string) runs fn with *state ==
 * &row. */
#define E2E_CASE(fn, row)                                                      \
    {                                                                          \
        (row).name, fn, NULL, NULL, (void *)&(row)                             \
    }

#endif
