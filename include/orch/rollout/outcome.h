/* outcome.h - a chunk's final outcome, kept as the journal's "done" record
 * (journal.h): built once from the dispatcher's result, then read by the
 * report, the summaries and the waves runner. A resumed run gets the same
 * records back from the journal (resume.h), so whatever reads an outcome
 * reads it through these calls, whichever run produced it.
 *
 * Record fields: "t":"done", "c" (0-based chunk), "status"
 * ("created"|"failed"|"not_sent"), "attempts", "recovered", and when
 * present "job_id", "utc_create" (created only), "request_id", "code",
 * "message" (not created only), "time" (wall ms).
 *
 * Pure: no I/O, the time is an argument. Not thread-safe (jansson's
 * reference counts).
 */
#ifndef ORCH_OUTCOME_H
#define ORCH_OUTCOME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct orch_item_result;

/* Whole-run counts over the chunks' outcomes. */
struct orch_outcome_counts {
    size_t created;
    size_t failed;
    size_t other; /* not_sent, or no outcome yet */
};

/* The done record of chunk `item` (0-based) from the dispatcher's result
 * `res`: `attempts` is the count over the whole run (journal), raised to
 * res->attempts when that is larger; a job id or creation time appears
 * only on a created chunk (taken from res, else from its last answer); the
 * code and message only on one that was not created. `now_ms` stamps it.
 * Returns a new reference, or NULL on ENOMEM. */
json_t *orch_outcome_record(size_t item, const struct orch_item_result *res,
                            unsigned attempts, int64_t now_ms);

/* The string field `key` of a record, or NULL when absent or not a string.
 * Borrowed from rec. */
const char *orch_outcome_str(const json_t *rec, const char *key);

/* True when the record says "created". */
bool orch_outcome_created(const json_t *done);

/* The error code a failed or not_sent chunk shows: its "code", else its
 * status, else "unknown"; never NULL nor empty. Borrowed from done. */
const char *orch_outcome_code(const json_t *done);

/* True when the record leaves the chunk's outcome unknown: failed with
 * code "Ambiguous" (sent, answer lost, not reconciled), or not_sent after
 * it was sent (`sent`: an intent or attempt of the chunk is on record; an
 * aborted in-flight call is reported not_sent). A job may hold such a
 * chunk's devices: only a resume, which asks the API first, may decide
 * it; its devices must never be offered for a rerun. */
bool orch_outcome_unknown(const json_t *done, bool sent);

/* The job id of a created chunk, NULL otherwise (done may be NULL). */
const char *orch_outcome_job_id(const json_t *done);

/* Counts rows[0..n) (NULL entries: no outcome yet, counted as other). */
void orch_outcome_count(json_t *const *rows, size_t n,
                        struct orch_outcome_counts *out);

#endif
