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

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

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
/* Stops the emulator if it runs and frees the directory's name (the
 * directory itself is left for a post-mortem). */
void e2e_fleet_stop(struct e2e_fleet *f);

/* The largest number of `action` requests that arrived in any sliding
 * 1000 ms window of the request log. */
size_t e2e_max_per_window(json_t *log, const char *action);
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

/* The member obj.key of doc (doc.key when obj is NULL), borrowed; fails the
 * test when it is missing. e2e_jint and e2e_jstr also fail unless it is an
 * integer, a string (borrowed from doc). */
json_t *e2e_jget(json_t *doc, const char *obj, const char *key);
json_int_t e2e_jint(json_t *doc, const char *obj, const char *key);
const char *e2e_jstr(json_t *doc, const char *obj, const char *key);
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

#endif
