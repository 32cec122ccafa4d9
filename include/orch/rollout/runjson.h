/* runjson.h - the summary document of `run --json` and `plan --json`.
 *
 * Built by pure functions on jsonout.h's shared base (schema, command,
 * exit); the caller delivers it (orch_jsonout_deliver). Nothing here ever
 * holds a secret: the fields are counts, file names, chunk numbers, API
 * codes and request ids, and the first request's action parameters
 * (request.c adds the AccessKeyId, signature and token later, and they
 * are never passed here).
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
 *    "credentials":null|{"provider":S, "source":S, "refreshes":N|null}
 *            (null: not loaded; refreshes null: keys that do not expire),
 *    "next_step":{"action":"resume|rerun_failed|review_abort|none",
 *            "command":S|null}
 *            (the one next step the text summary names: "resume" while a
 *            chunk's outcome is unknown or a chunk is not sent, then the
 *            failed file is NOT to be run; "rerun_failed" only when every
 *            chunk is decided; summary.h, orch_summary_next_step),
 *    "waves":null|[{...}] (a waved run: each wave's chunks, devices,
 *            jobs, outcomes, start and gate verdict with its counts and
 *            thresholds; orch_waveaccount_json),
 *    "plan":null|{...}   (`plan` only: see orch_runjson_set_plan)}
 */
#ifndef ORCH_RUNJSON_H
#define ORCH_RUNJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct orch_device_check_stats;
struct orch_params;
struct orch_preflight_result;
struct orch_tally;

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
    const json_t *waves;          /* `run --waves`: the account of every
                                     wave (waveaccount.h; borrowed);
                                     NULL: "waves": null */

    /* The credentials, once loaded (cred_source NULL: not loaded, the
     * document says null): the chain's provider ("env", "profile:AK",
     * "credentials_uri", ...), the source's label, and the refreshes of a
     * set that expires (-1: keys that do not expire, null). */
    const char *cred_provider, *cred_source;
    long cred_refreshes;
};

/* The summary document of s, with "plan":null (new reference; it copies
 * what it needs, s stays borrowed), or NULL on ENOMEM. */
json_t *orch_runjson_summary(const struct orch_run_summary *s);

/* Adds the "plan" object of `plan --json` to doc: endpoint, signature
 * version, chunk size, calls needed and their time at qps, the products
 * (array of {"product_key","devices","chunks","firmware_id"}: pass it,
 * stolen), the device check's cost (calls, seconds; calls 0 = not asked)
 * and the first request as {"action", "chunk", "parameters":{NAME:VALUE}}
 * (first may be NULL: no chunk; borrowed). Returns 0 or ORCH_ENOMEM. */
int orch_runjson_set_plan(json_t *doc, const char *endpoint,
                          int signature_version, int chunk_size,
                          size_t calls, double qps, json_t *products,
                          size_t dev_calls, double dev_secs,
                          const char *action, const struct orch_params *first);

#endif
