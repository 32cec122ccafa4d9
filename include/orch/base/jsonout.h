/* jsonout.h - output for machines: the summary document of `run --json`
 * and `plan --json`, and the one-line events of `--log-format json`.
 *
 * The document and the events are built by pure functions (unit tests
 * check every field); orch_jsonout_print, orch_jsonout_deliver and
 * orch_event_emit are the only ones that write. Nothing here ever holds a secret: the fields are counts,
 * file names, chunk numbers, API codes and request ids, and the first
 * request's action parameters (request.c adds the AccessKeyId, signature
 * and token later, and they are never passed here).
 *
 * Document layout (schema 1; keys are stable, new ones may be added):
 *   {"schema":1, "command":"run"|"plan", "run_id":S|null, "resumed":B,
 *    "exit":{"code":N, "name":"ok|partial|usage|inventory|aborted|gate|
 *            paused", "reason":S},
 *    "counts":{"devices","duplicates","rejected","dropped_missing",
 *              "dropped_up_to_date","unchecked","chunks","created",
 *              "failed","not_sent","already_done","calls","retries",
 *              "throttled","form_fallbacks","queries","reconciled",
 *              "recovered"},
 *    "errors":{CODE: chunks, ...},
 *    "preflight":{"firmware":"passed|failed|aborted|skipped|not_run",
 *                 "checks":[{"product_key","firmware_id","verdict",
 *                            "status","dest_version","code","message",
 *                            and for a failed query or a missing
 *                            firmware "problem" (problem.h's name),
 *                            "request_id", "server_message" (the
 *                            server's text on one line)}],
 *                 "calls":N,
 *                 "devices":null|{"checked","missing","up_to_date",
 *                                 "unchecked","calls","first_error"}},
 *    "timings":{"wall_s":X, "calls_per_s":X, "send_s":X,
 *               "chunks_per_s":X},
 *    "files":{"report","failed","ambiguous","rejects","journal"} (null:
 *            not written),
 *    "next_step":{"action":"resume|rerun_failed|none", "command":S|null}
 *            (the one next step the text summary names: "resume" while a
 *            chunk's outcome is unknown or a chunk is not sent, then the
 *            failed file is NOT to be run; "rerun_failed" only when every
 *            chunk is decided; summary.h, orch_summary_next_step),
 *    "plan":null|{...}   (`plan` only: see orch_jsonout_set_plan)}
 */
#ifndef ORCH_JSONOUT_H
#define ORCH_JSONOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

struct orch_device_check_stats;
struct orch_params;
struct orch_preflight_result;
struct orch_tally;

#define ORCH_JSONOUT_SCHEMA 1

/* What the firmware pre-flight came to. */
enum orch_pf_state {
    ORCH_PF_NOT_RUN = 0, /* not reached (or `plan` without --preflight) */
    ORCH_PF_PASSED,
    ORCH_PF_FAILED,
    ORCH_PF_ABORTED,
    ORCH_PF_SKIPPED      /* --skip-preflight */
};

/* Everything the summary document says; run.c fills it. Strings are
 * borrowed; NULL file names mean "not written". */
struct orch_run_summary {
    const char *command;  /* "run" or "plan" */
    const char *run_id;   /* NULL: none */
    bool resumed;
    int exit_code;
    const char *exit_reason; /* NULL: derived from the exit code */

    size_t devices, duplicates, rejected;
    size_t dropped_missing, dropped_up_to_date, unchecked;
    size_t chunks;
    size_t created, failed, not_sent, already_done;
    uint64_t calls, retries, throttled, form_fallbacks;
    uint64_t queries, reconciled, recovered;

    const struct orch_tally *codes; /* NULL: none */

    enum orch_pf_state pf_state;
    const struct orch_preflight_result *pf;        /* may be NULL */
    const struct orch_device_check_stats *devcheck; /* NULL: not run */

    double wall_s;      /* the whole command */
    double calls_per_s; /* the sending pace (orch_summary_calls_rate) */
    double send_s;      /* the summary's wall time: the last sending pass */
    double chunks_per_s; /* its chunks finished / send_s */

    const char *report, *failed_file, *rejects, *journal;
    const char *ambiguous_file;   /* NULL: not written */
    const char *next_step;        /* "resume", "rerun_failed"; NULL: "none" */
    const char *next_command;     /* NULL: none */
};

/* "ok", "partial", "usage", "inventory", "aborted", "gate", "paused"
 * (exitcode.h), or "unknown". */
const char *orch_exit_name(int code);

/* The "exit" object every --json document carries (run, plan, status,
 * cancel): {"code":N, "name":orch_exit_name(N), "reason":S}, S being
 * reason, or a default text for the code when reason is NULL or "".
 * New reference, NULL on ENOMEM. */
json_t *orch_jsonout_exit(int code, const char *reason);

/* The part every --json document shares:
 * {"schema":ORCH_JSONOUT_SCHEMA, "command":command, "exit":{...}}. Each
 * command adds its own keys; on an error found before a command could
 * start, this is the whole document. New reference, NULL on ENOMEM. */
json_t *orch_jsonout_doc(const char *command, int code, const char *reason);

/* The summary document (new reference), or NULL on ENOMEM. */
json_t *orch_jsonout_summary(const struct orch_run_summary *s);

/* Adds the "plan" object of `plan --json` to doc: endpoint, signature
 * version, chunk size, calls needed and their time at qps, the products
 * (array of {"product_key","devices","chunks","firmware_id"}: pass it,
 * stolen), the device check's cost (calls, seconds; calls 0 = not asked)
 * and the first request as {"action", "chunk", "parameters":{NAME:VALUE}}
 * (first may be NULL: no chunk). Returns 0 or ORCH_ENOMEM. */
int orch_jsonout_set_plan(json_t *doc, const char *endpoint,
                          int signature_version, int chunk_size,
                          size_t calls, double qps, json_t *products,
                          size_t dev_calls, double dev_secs,
                          const char *action, const struct orch_params *first);

/* Writes doc to fp as one indented document and a newline, and flushes.
 * 0 or ORCH_EIO. */
int orch_jsonout_print(FILE *fp, const json_t *doc);

/* Delivers a command's final document (run, plan, status, cancel): to
 * doc_fp as orch_jsonout_print does (NULL: --json is off), and to
 * event_fp as a "summary" event {"event":"summary","summary":doc} stamped
 * wall_ms (NULL: --log-format json is off; best effort, as every event).
 * Borrows doc; a NULL doc (out of memory) writes nothing. Returns 0, or
 * ORCH_EIO when doc_fp was given and the document is not on it. */
int orch_jsonout_deliver(const json_t *doc, FILE *doc_fp, FILE *event_fp,
                         int64_t wall_ms);

/* ---- --log-format json ------------------------------------------------ */

/* A new event {"time":"<UTC ISO-8601 with ms>","ts":wall_ms,"event":name}
 * (new reference, NULL on ENOMEM). */
json_t *orch_event_new(const char *name, int64_t wall_ms);
/* Writes ev as one compact line (one write, then a flush) and releases
 * it. NULL-safe (does nothing). */
void orch_event_emit(FILE *fp, json_t *ev);

#endif
