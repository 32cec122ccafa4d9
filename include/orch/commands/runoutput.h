/* runoutput.h - `run`'s files (runfiles.h): the rejects file, the live
 * report and failed-devices files, their rewrite from the journal, and
 * the end of a run that opened its journal (final report, end record, the
 * one next step).
 *
 * Errors are printed through ctx->why (reason.h).
 */
#ifndef ORCH_RUNOUTPUT_H
#define ORCH_RUNOUTPUT_H

struct orch_run;

/* Opens <report>.rejects.csv. 0 or an ORCH_E* code. */
int orch_runoutput_open_rejects(struct orch_run *ctx);

/* Opens the live report and failed files: a new run truncates them; a
 * resumed one first rewrites them from the journal, then appends. 0 or an
 * ORCH_E* code. */
int orch_runoutput_open(struct orch_run *ctx);

/* A waved run between two waves: the live report and device files
 * closed, rewritten whole (every chunk of the plan has its row: a wave
 * not created yet has WaveNotStarted rows, planrows.h) and opened again
 * for appending. Does nothing when the report is not open. 0 or an
 * ORCH_E* code (told; a failed rewrite is kept for the end). */
int orch_runoutput_checkpoint(struct orch_run *ctx);

/* End of a run that opened its journal, whose sending ended with exit
 * code `code`: the report and device files rewritten whole in chunk
 * order, a resumed run's whole-run line, the device files and the one
 * next step, the end record. Returns the run's exit code (1 when a chunk
 * failed or was not sent, or the end record could not be written). */
int orch_runoutput_finish(struct orch_run *ctx, int code);

/* Closes whatever is open. 0, or the first write error (told). */
int orch_runoutput_close(struct orch_run *ctx);

#endif
