/* e2e_util.h - assertions shared by the end-to-end tests: what the
 * emulator's request log and job dump say about a finished rollout. */
#ifndef E2E_UTIL_H
#define E2E_UTIL_H

#include <jansson.h>
#include <stddef.h>

/* The largest number of `action` requests that arrived in any sliding
 * 1000 ms window of the request log. */
size_t e2e_max_per_window(json_t *log, const char *action);
/* Number of log entries for `action` (code "" = successful ones only when
 * only_ok). */
size_t e2e_count(json_t *log, const char *action, int only_ok);
/* Asserts that each of the n devices "dev-%06zu" is in exactly one job of
 * the emulator's /__emu/jobs dump, and that no other device is. */
void e2e_assert_each_device_once(json_t *jobs, size_t n);
/* Asserts that the report's created rows' job_ids are exactly the
 * emulator's JobIds, and the device counts add up. */
void e2e_assert_report_matches_jobs(json_t *report, json_t *jobs);

#endif
