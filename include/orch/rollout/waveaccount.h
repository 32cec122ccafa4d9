/* waveaccount.h - the account of a waved run at its end: each wave's
 * chunks, devices, jobs and outcomes, its start and its gate's verdict
 * (with the counts and thresholds it was decided with), and the total
 * over every wave. The text's last lines and `run --json`'s "waves"
 * array.
 *
 * Built from the whole run: the chunks' rows (every run's outcomes, the
 * chunks of waves not created with their planrows.h rows) and every wave
 * record of the journal (waverun.c's format: start, gate, paused,
 * aborted, override), so a resumed run accounts for the earlier runs too.
 * Pure (printing goes to the caller's stream); borrows its inputs, which
 * must outlive the account. Not thread-safe.
 */
#ifndef ORCH_WAVEACCOUNT_H
#define ORCH_WAVEACCOUNT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

struct orch_gate;
struct orch_wave_plan;

struct orch_wave_account {
    size_t first, end;         /* chunks [first, end) */
    uint64_t devices;
    size_t created, failed, not_sent; /* its chunks' outcomes; created
                                         chunks are its jobs */
    char not_sent_code[64];    /* the error_code of its first not_sent
                                  chunk, "": none */
    int64_t start_ms;          /* its last "start" record, -1: none */
    int64_t schedule_ms;       /* that start's ScheduleTime, -1: none */
    const json_t *gate;        /* its last "gate" record, NULL: none */
    const char *last_event;    /* its last record's event ("start",
                                  "gate", "paused", "aborted",
                                  "override"), NULL: none */
    const char *reason;        /* a "paused" record's reason, else NULL */
    int64_t last_ms;           /* that record's time, -1: none */
};

/* Fills out[0..plan->n) from the plan's waves, rows[0..nrows) (done
 * records; NULL entries: no outcome, counted as not sent; read only
 * during the call) and records (a JSON array of wave records, may be
 * NULL; its gate records are borrowed by the account). Pure. */
void orch_waveaccount_build(const struct orch_wave_plan *plan,
                            json_t *const *rows, size_t nrows,
                            const json_t *records,
                            struct orch_wave_account *out);

/* The text: "waves:" then one line per wave ("  wave K/N: chunks A-B,
 * D devices, J jobs: C created, F failed, S not sent (CODE); gate
 * DECISION: WHY"), then "total: ..." over every wave. */
void orch_waveaccount_print(FILE *fp, const struct orch_wave_account *a,
                            size_t n);

/* The "waves" array of `run --json` (new reference, NULL on ENOMEM):
 * per wave {"wave", "first_chunk", "last_chunk", "chunks", "devices",
 * "jobs", "created", "failed", "not_sent", "not_sent_code",
 * "started_ms", "schedule_ms", "last_event", "reason", "last_event_ms",
 * "gate"}; "gate" is null or {"decision", "tasks", "succeeded",
 * "failed", "canceled", "pending", "no_task", "why", "time_ms",
 * "success_threshold", "failure_threshold", "min_decided",
 * "timeout_s"}: the thresholds the record was decided with, else those
 * of `now` (a record of an older version has none; may be NULL: null). */
json_t *orch_waveaccount_json(const struct orch_wave_account *a, size_t n,
                              const struct orch_gate *now);

#endif
