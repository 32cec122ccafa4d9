/* runinventory.h - `run` and `plan`: the inventory and the plan built
 * from it, the refusals about them, and the inventory's identity for the
 * journal. Each prints its errors through ctx->why (reason.h) and returns
 * ORCH_EXIT_OK to go on or the exit code to stop with (exitcode.h).
 */
#ifndef ORCH_RUNINVENTORY_H
#define ORCH_RUNINVENTORY_H

struct orch_run;

/* Loads cfg->inventory_path (SPECIFIC targets); invalid rows go to the
 * rejects file with --skip-invalid, else every one is listed and the
 * command stops (3). */
int orch_runinventory_load(struct orch_run *ctx);

/* Builds the plan from the inventory (SPECIFIC), or the one item of an
 * ALL/GRAY target. */
int orch_runinventory_plan(struct orch_run *ctx);

/* Rebuilds the plan without the devices of ctx->drop (NULL: all of them)
 * and, when the per-chunk tables exist, the tables. */
int orch_runinventory_replan(struct orch_run *ctx);

/* (Re)allocates the per-chunk tables for ctx->nitems and counts what is
 * left to do (resumegate.h). 0 or ORCH_ENOMEM (nothing printed). */
int orch_runinventory_tables(struct orch_run *ctx);

/* The inventory's identity for the journal: its absolute path (for
 * `resume REPORT` from anywhere) and the SHA-256 of its bytes. 0 or an
 * ORCH_E* code (the SHA's error printed). */
int orch_runinventory_hash(struct orch_run *ctx);

/* A new run whose inventory holds devices of an unfinished run's chunks
 * whose outcome is unknown (overlap.h) would give them a second job:
 * refused (2) unless --force, which only warns. */
int orch_runinventory_overlap(struct orch_run *ctx);

/* An inventory without a device to upgrade (a header only, or every row
 * skipped): says so and returns 3, the same for `plan` and `run`. */
int orch_runinventory_none(struct orch_run *ctx);

#endif
