/* jsonout.h - output for machines: the base every --json document shares
 * (run, plan, status, cancel), the helpers their builders use, and the
 * one-line events of `--log-format json`.
 *
 * Builders are pure functions (unit tests check every field);
 * orch_jsonout_print, orch_jsonout_deliver and orch_event_emit are the
 * only ones that write. Each command's own document is built above this
 * layer (runjson.h for run and plan, status.h, cancel.h); the base knows
 * nothing of them.
 */
#ifndef ORCH_JSONOUT_H
#define ORCH_JSONOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#define ORCH_JSONOUT_SCHEMA 1

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

/* ---- helpers for the documents' builders ---------------------------- */

/* Sets o[key] to v, stealing v (released on failure). A NULL v, a failed
 * constructor, counts as out of memory: builders OR the results and
 * check once. Returns 0 or -1. */
int orch_jsonout_put(json_t *o, const char *key, json_t *v);
/* The end of a builder that ORed the results of its puts into `bad`:
 * returns o when bad is 0, else releases o and returns NULL (out of
 * memory). Steals o. */
json_t *orch_jsonout_built(json_t *o, int bad);
/* s as a JSON string, or null when s is NULL. New reference, NULL on
 * ENOMEM. */
json_t *orch_jsonout_str_or_null(const char *s);
/* A count as a JSON integer. New reference, NULL on ENOMEM. */
json_t *orch_jsonout_count(uint64_t v);

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
