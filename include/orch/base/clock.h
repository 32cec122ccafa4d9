/* clock.h - the program's two clocks, in milliseconds.
 *
 * orch_wall_ms: the wall clock (CLOCK_REALTIME), epoch ms, for what is
 * written down or compared with the API's times (journal records, events,
 * ScheduleTime). orch_mono_ms: the monotonic clock (CLOCK_MONOTONIC), for
 * durations, pacing and timeouts: it never jumps when the wall clock is
 * set. Pure modules take the time as an argument instead of calling these;
 * only the edges and the engine's loops read the clocks. Thread-safe.
 */
#ifndef ORCH_CLOCK_H
#define ORCH_CLOCK_H

#include <stdint.h>

/* Wall clock, epoch ms. */
int64_t orch_wall_ms(void);
/* Monotonic clock, ms since an arbitrary start. */
uint64_t orch_mono_ms(void);

#endif
