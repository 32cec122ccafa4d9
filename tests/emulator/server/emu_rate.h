/* emu_rate.h - counting arrivals over time: the sliding one-second
 * windows of the stats, and the per-AccessKey, per-action quotas.
 *
 * Neither locks: the server's mutex guards them. Arrival times are the
 * emulator's clock in ms; arrivals recorded by different threads may come
 * a little out of order, and both keep their times sorted.
 */
#ifndef EMU_RATE_H
#define EMU_RATE_H

#include <stddef.h>
#include <stdint.h>

/* Arrival times, ascending, trimmed to the last 1000 ms; `max` is the
 * most ever held at once (the most calls in any second). Zero-initialized
 * is empty. */
struct emu_window {
    int64_t *t;
    size_t head, count, cap;
    size_t max;
};

/* Adds arrival t and updates max. Without memory the arrival is not
 * counted (the stats lose one; the server goes on). */
void emu_window_add(struct emu_window *w, int64_t t);
/* Frees the times; w is then empty. */
void emu_window_cleanup(struct emu_window *w);

struct emu_quota;

/* Every quota in use, one per AccessKey and action, made on first use.
 * Zero-initialized is empty. */
struct emu_quotas {
    struct emu_quota *list;
};

/* Whether one more call of key_id and action arriving at t keeps within
 * per_sec calls per second (at most ceil(per_sec) accepted arrivals in
 * any span of ceil(1000 ceil(per_sec) / per_sec) ms, as orch_ratelimit
 * counts it, whatever order the arrivals were decided in). Returns 0
 * (accepted and recorded), 1 (over quota, not recorded) or ORCH_ENOMEM.
 * per_sec <= 0: no quota, always 0. */
int emu_quotas_take(struct emu_quotas *qs, const char *key_id,
                    const char *action, double per_sec, int64_t t);
/* Frees every quota. */
void emu_quotas_cleanup(struct emu_quotas *qs);

#endif
