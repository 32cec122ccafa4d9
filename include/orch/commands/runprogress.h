/* runprogress.h - `run`'s progress on stderr while it sends (progress.h
 * has the numbers, the text and the pace; this draws them): a line
 * redrawn in place on a terminal, plain lines at progress.h's pace
 * without one, or "progress" events with --log-format json. Also the
 * notes a Ctrl-C gets (interrupt.h) and the device check's counter.
 */
#ifndef ORCH_RUNPROGRESS_H
#define ORCH_RUNPROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct orch_run;

/* Starts a sending pass: the clock, the counts and the pace. */
void orch_runprogress_start(struct orch_run *ctx, size_t total);

/* About once a second while sending: the notes for the Ctrl-Cs not told
 * yet, then the progress line when due. */
void orch_runprogress_update(struct orch_run *ctx);

/* The pass's last line, elapsed_ms being its whole span (the summary
 * shows the same figure). */
void orch_runprogress_final(struct orch_run *ctx, uint64_t elapsed_ms);

/* The device check's progress (preflight.h's progress callback; ud: the
 * run): "device check: N/M calls" on a terminal. */
void orch_runprogress_devcheck(void *ud, size_t finished, size_t total);

/* Ends a line drawn in place, if one is. */
void orch_runprogress_end_line(struct orch_run *ctx);

#endif
