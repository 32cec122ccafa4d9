/* runlog.h - each chunk's result in a run, and the journal that makes it
 * durable before the report shows it (journal.h has the file format and
 * the records, outcome.h the done record).
 *
 * Order of durability: a send's intent/attempt record is appended by
 * orch_runlog_sent() and synced by the dispatcher's sync hook
 * (orch_runlog_sync) before the call leaves (group commit). A chunk's
 * done record (orch_runlog_done) is appended and its report row is
 * written only after the journal sync that carries it: from the sync
 * hook, from the caller's progress tick, every ORCH_RUNLOG_PENDING_MAX
 * results, and at the end. So the report never shows a row the journal
 * could lose.
 *
 * The first journal failure is kept in `err` and the run goes on without
 * more records; the caller stops the calls (its sync hook returns the
 * failure to the dispatcher) and tells the user. Nothing here prints.
 *
 * Test-only hook: with abort_after N (> 0), the process kills itself
 * (SIGKILL, as kill -9 would) right after the journal sync that took it
 * to N or more records appended by this process, before the report rows
 * of that batch are written. The crash tests use it; it has no other use.
 *
 * Caller-owned: orch_runlog_init(), orch_runlog_cleanup(). Not
 * thread-safe; the dispatcher calls back on the caller's thread.
 */
#ifndef ORCH_RUNLOG_H
#define ORCH_RUNLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "orch/engine/journal.h"

struct orch_diag;
struct orch_runfiles;

/* Results buffered before orch_runlog_done() forces a journal sync. */
#define ORCH_RUNLOG_PENDING_MAX 256

struct orch_runlog {
    size_t n;              /* chunks the tables hold */
    json_t **rows;         /* [n] each chunk's final done record (owned),
                              NULL: no result yet; NULL table: none yet */
    unsigned *attempts;    /* [n] sends over the whole run (all runs) */
    size_t *pending;       /* [n] chunks whose rows wait for a sync */
    size_t npending;

    struct orch_journal journal;
    bool open;             /* the journal is open */
    int err;               /* first journal failure, 0 if none */
    uint64_t abort_after;  /* test hook (above), 0 = off */
    struct orch_runfiles *files; /* borrowed: where rows go once durable */
};

/* Zeroes log; rows become report rows in `files` (borrowed, must outlive
 * log). */
void orch_runlog_init(struct orch_runlog *log, struct orch_runfiles *files,
                      uint64_t abort_after);

/* (Re)allocates the tables for n chunks, all empty (what they held is
 * released: the plan changed). 0 or ORCH_ENOMEM (then no tables). */
int orch_runlog_alloc(struct orch_runlog *log, size_t n);

/* Opens the journal at path for appending (valid_len: see
 * orch_journal_open). 0 or ORCH_EIO with diag. */
int orch_runlog_open(struct orch_runlog *log, const char *path,
                     size_t valid_len, struct orch_diag *diag);

/* Appends rec (taking the reference) when the journal is open; a NULL rec
 * (out of memory building it) or a failed append is kept in err. */
void orch_runlog_add(struct orch_runlog *log, json_t *rec);

/* Send `attempt` (1: the chunk's first) of chunk `item` starts at wall_ms:
 * counts it and appends its intent (first) or attempt record. */
void orch_runlog_sent(struct orch_runlog *log, size_t item, unsigned attempt,
                      int64_t wall_ms);

/* A reconciliation step of chunk `item`: the query action and its outcome
 * code (NULL read as ""), at now_ms. */
void orch_runlog_reconciled(struct orch_runlog *log, size_t item,
                            const char *action, const char *code,
                            int64_t now_ms);

/* Chunk `item`'s final result: keeps done (taking the reference) as its
 * row, appends it, and queues its report row for the next sync (syncing
 * at once when ORCH_RUNLOG_PENDING_MAX are queued). */
void orch_runlog_done(struct orch_runlog *log, size_t item, json_t *done);

/* Syncs the journal, then writes the queued results' report rows.
 * Returns 0, ORCH_EIO when the journal is not open (err unchanged), or
 * the sync's failure (kept in err; the rows stay queued). */
int orch_runlog_sync(struct orch_runlog *log);

/* The run's end: unless a failure came first, appends the end record
 * (exit code `code`, at now_ms) and syncs. Returns err: 0 when every
 * record of the run reached the disk. */
int orch_runlog_end(struct orch_runlog *log, int code, int64_t now_ms);

/* Releases the tables and closes the journal. NULL-safe. */
void orch_runlog_cleanup(struct orch_runlog *log);

#endif
