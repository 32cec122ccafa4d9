/* progress.h - `run`'s progress while it sends, for people: the numbers
 * and text of the progress line, when a line is due where there is no
 * terminal (a CI log), and when a repeated status line (a wave's gate)
 * is worth printing again.
 *
 * Without a terminal a progress line is due every 10 % of the chunks, but
 * never sooner than 10 s after the previous one: "every 10 s or 10 %,
 * whichever is rarer", so a fast run prints none before its final line
 * and a slow one at most one per 10 s and about ten in all. A run that
 * makes no progress (throttled, backing off, waiting for answers) still
 * prints one ORCH_PROGRESS_HEARTBEAT_MS after the previous, so a log
 * never stays silent for long. The caller prints a final line itself.
 *
 * Every rate says what it measures: chunks finished per second since
 * sending began, the same figure the final summary shows beside the same
 * seconds. Pure: the caller passes the clock and prints; nothing here
 * keeps state beyond the struct it is given.
 */
#ifndef ORCH_PROGRESS_H
#define ORCH_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ORCH_PROGRESS_EVERY_MS 10000              /* lines >= 10 s apart */
#define ORCH_PROGRESS_STEPS 10                    /* and >= 1/10 further */
#define ORCH_PROGRESS_HEARTBEAT_MS (5 * 60 * 1000) /* unless this silent */

/* Where one sending pass stands. */
struct orch_progress {
    size_t total;     /* chunks this pass sends (skipped ones not counted) */
    size_t done;      /* of them finished: created + failed + not sent */
    size_t created, failed, not_sent;
    uint64_t elapsed_ms; /* since sending began */
};

/* Chunks finished per second of elapsed time (0 before any time passed). */
double orch_progress_rate(const struct orch_progress *p);

/* The progress line, without "\r" or a newline:
 *   "chunks 40/100 (38 created, 2 failed), 4.00 chunks/s over 10.00 s,
 *    ETA 15.0 s"
 * (", N not sent" after failed when there are some; "ETA ?" while no
 * chunk finished). The rate is done / elapsed as printed. */
void orch_progress_format(char *out, size_t outsz,
                          const struct orch_progress *p);

/* When the previous line was printed (zero it before sending begins). */
struct orch_progress_pace {
    uint64_t last_ms;  /* elapsed_ms of the previous line (0: none) */
    size_t last_done;  /* its done */
};

/* Whether a line is due without a terminal (see above): at least
 * ORCH_PROGRESS_EVERY_MS after the previous one (or the start) and at
 * least total / ORCH_PROGRESS_STEPS (1 at least) more chunks finished
 * since, or ORCH_PROGRESS_HEARTBEAT_MS after the previous one whatever
 * finished. Never for a finished pass (done == total: the caller's final
 * line says it). When due, records the line in *pace. */
bool orch_progress_due(struct orch_progress_pace *pace,
                       const struct orch_progress *p);

/* Whether a status line repeated at every poll (a wave's gate) is printed
 * again: when its text `now` differs from the `last` one printed (NULL:
 * none yet), or since_last_ms >= ORCH_PROGRESS_HEARTBEAT_MS. */
bool orch_progress_repeat_due(const char *last, const char *now,
                              uint64_t since_last_ms);

#endif
