/* runjournal.h - `run`: the journal next to the report, before anything
 * is sent and when this run's own journal opens. The decisions are
 * resumegate.h's; this prints them and acts (keeps the earlier run's
 * files aside with --force, refuses, or resumes).
 *
 * Each returns ORCH_EXIT_OK to go on, or the exit code to stop with
 * (exitcode.h), its errors printed through ctx->why (reason.h), unless
 * said otherwise.
 */
#ifndef ORCH_RUNJOURNAL_H
#define ORCH_RUNJOURNAL_H

#include <stdbool.h>

struct orch_run;

/* Reads the journal next to the report and decides: a new run (the
 * report must be free, or --force keeps it aside), a resume (--resume),
 * or a refusal. */
int orch_runjournal_read(struct orch_run *ctx);

/* A resumed run against its journal: the device check's drop map from
 * the run record (never asked again), then the run's identity; a changed
 * run is refused, or with --force started anew (old files kept, a new
 * plan). */
int orch_runjournal_gate(struct orch_run *ctx);

/* The run id: kept from the journal on resume (reconciliation finds this
 * run's jobs by their tag), else new and random. 0 or an ORCH_E* code
 * (nothing printed). */
int orch_runjournal_run_id(struct orch_run *ctx);

/* Opens this run's journal and makes its first record durable: the run
 * record (a new run) or a resume record. 0 or an ORCH_E* code. */
int orch_runjournal_open(struct orch_run *ctx);

/* A resumed run must not look up a chunk whose last call the server may
 * still be processing (resumegate.h): waits for the rest of that time.
 * A Ctrl-C (interrupt.h) ends the wait; returns false then. */
bool orch_runjournal_settle(const struct orch_run *ctx);

#endif
