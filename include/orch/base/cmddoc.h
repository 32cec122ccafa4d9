/* cmddoc.h - the last step of a command that ends with a --json document
 * (status, cancel): deliver it, or a minimal one, and tell a failed write.
 *
 * Writes and prints (an error line through msgs.h); call it only at the
 * command's edge. Not thread-safe (the command's thread).
 */
#ifndef ORCH_CMDDOC_H
#define ORCH_CMDDOC_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

/* Delivers doc as orch_jsonout_deliver() does: to doc_fp (NULL: --json is
 * off) and as the "summary" event to event_fp (NULL: --log-format json is
 * off), stamped with the wall clock. A NULL doc (building it ran out of
 * memory) is replaced by orch_jsonout_doc(command, code, reason): still
 * one document. Consumes doc (released here, also on failure).
 *
 * When the document does not reach doc_fp, prints "writing the JSON
 * document failed" and turns ORCH_EXIT_OK into ORCH_EXIT_USAGE. Returns
 * the exit code: `code`, or ORCH_EXIT_USAGE as just said. */
int orch_cmddoc_deliver(json_t *doc, const char *command, int code,
                        const char *reason, FILE *doc_fp, FILE *event_fp);

/* Whether the command's document is wanted at all: `json` (--json is on)
 * or --log-format json (orch_msgs_json()). Building it can be skipped
 * otherwise. */
bool orch_cmddoc_wanted(bool json);

/* orch_cmddoc_deliver() to the command's destinations: stdout when `json`
 * (--json is on), stderr as the "summary" event when orch_msgs_json().
 * Consumes doc; returns the exit code as orch_cmddoc_deliver() does. */
int orch_cmddoc_emit(json_t *doc, const char *command, int code,
                     const char *reason, bool json);

#endif
