/* ratelimit.c - sliding-window start limiter with adaptive slow-down.
 *
 * DESIGN: the ring holds the times of the last `cap` = ceil(max_rate)
 * starts. With an effective rate r, let n = ceil(r) and
 * W = ceil(1000 * n / r) ms. A start is allowed at `now` when fewer than n
 * starts were recorded, or when the n-th most recent one is at least W ms
 * old. So no window of W ms ever holds more than n starts:
 *   - an integer rate N gives n = N and W = 1000: never more than N starts
 *     in any sliding second, and exactly N per second in steady state;
 *   - a non-integer rate (configured, or lowered after throttling) keeps
 *     its exact average: 2.5/s is 3 starts per 1200 ms, 0.5/s one start
 *     per 2000 ms, 19.9/s 20 starts per 1006 ms. Since n <= ceil(max_rate)
 *     and W >= 1000 whenever r <= n, no sliding second holds more than
 *     ceil(max_rate) starts, and never more than max_rate for an integer
 *     max_rate (the quota case).
 *
 * Adaptation (AIMD): a throttling answer multiplies the rate by
 * DECREASE_FACTOR, at most once per HOLD_MS (the answers that arrive just
 * after a decrease are for calls started at the old rate and say nothing
 * new), never below max_rate * FLOOR_FRACTION. Each full second without a
 * throttling answer adds max_rate * RAISE_FRACTION, up to max_rate. The
 * gentle constants (-5%, then +0.5% of max_rate a second) make the rate
 * saw-tooth between ~0.95 and ~1.01 of a lower real quota: in simulation
 * (20/s believed, 15/s real) ~14.5/s achieved with ~1% throttled calls;
 * a harsher decrease loses more rate than it saves in throttled calls.
 *
 * Pure: time is an argument; caller-owned; not thread-safe.
 */
#include "orch/ratelimit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "orch/err.h"

#define DECREASE_FACTOR 0.95
#define FLOOR_FRACTION 0.05
#define RAISE_FRACTION 0.005
#define HOLD_MS 1000
#define RAISE_PERIOD_MS 1000
/* A ring beyond this many slots is a configuration mistake, not a quota. */
#define MAX_RATE_LIMIT 10000000.0

int orch_ratelimit_init(struct orch_ratelimit *rl, double per_sec,
                        uint64_t now_ms)
{
    double capd = 0;

    memset(rl, 0, sizeof(*rl));
    if (!(per_sec > 0) || !isfinite(per_sec) || per_sec > MAX_RATE_LIMIT)
        return ORCH_EINVAL;
    capd = ceil(per_sec);
    rl->ring = calloc((size_t)capd, sizeof(*rl->ring));
    if (rl->ring == NULL)
        return ORCH_ENOMEM;
    rl->cap = (unsigned)capd;
    rl->max_rate = per_sec;
    rl->rate = per_sec;
    rl->last_raise_ms = now_ms;
    return 0;
}

void orch_ratelimit_cleanup(struct orch_ratelimit *rl)
{
    if (rl == NULL)
        return;
    free(rl->ring);
    memset(rl, 0, sizeof(*rl));
}

/* Applies the additive increase owed for the full seconds without a
 * throttling answer since the last raise (or throttle). */
static void raise_rate(struct orch_ratelimit *rl, uint64_t now_ms)
{
    uint64_t steps = 0;

    if (rl->rate >= rl->max_rate) {
        rl->last_raise_ms = now_ms;
        return;
    }
    if (now_ms < rl->last_raise_ms + RAISE_PERIOD_MS)
        return;
    steps = (now_ms - rl->last_raise_ms) / RAISE_PERIOD_MS;
    rl->rate += (double)steps * rl->max_rate * RAISE_FRACTION;
    if (rl->rate > rl->max_rate)
        rl->rate = rl->max_rate;
    rl->last_raise_ms += steps * RAISE_PERIOD_MS;
}

/* n and W of the DESIGN note for the current rate. */
static void window_for(const struct orch_ratelimit *rl, unsigned *n,
                       uint64_t *window_ms)
{
    /* The epsilons keep 20.000000001 from becoming 21 slots and
     * 1000.0000001 ms from becoming 1001. */
    double nd = ceil(rl->rate - 1e-9);

    if (nd < 1)
        nd = 1;
    if (nd > rl->cap)
        nd = rl->cap;
    *n = (unsigned)nd;
    *window_ms = (uint64_t)ceil(1000.0 * nd / rl->rate - 1e-6);
    if (*window_ms < 1000 && rl->rate <= nd)
        *window_ms = 1000;
}

uint64_t orch_ratelimit_take(struct orch_ratelimit *rl, uint64_t now_ms)
{
    unsigned n = 0;
    uint64_t window_ms = 0;
    uint64_t nth = 0;

    raise_rate(rl, now_ms);
    window_for(rl, &n, &window_ms);
    if (rl->count >= n) {
        nth = rl->ring[(rl->head + rl->cap - n) % rl->cap];
        if (now_ms < nth + window_ms)
            return nth + window_ms - now_ms;
    }
    rl->ring[rl->head] = now_ms;
    rl->head = (rl->head + 1) % rl->cap;
    if (rl->count < rl->cap)
        rl->count++;
    return 0;
}

void orch_ratelimit_throttled(struct orch_ratelimit *rl, uint64_t now_ms)
{
    double floor_rate = rl->max_rate * FLOOR_FRACTION;

    rl->throttles++;
    /* Any throttling answer restarts the quiet period recovery waits for. */
    rl->last_raise_ms = now_ms;
    if (rl->throttles > 1 && now_ms < rl->last_throttle_ms + HOLD_MS)
        return;
    rl->last_throttle_ms = now_ms;
    rl->rate *= DECREASE_FACTOR;
    if (rl->rate < floor_rate)
        rl->rate = floor_rate;
}

void orch_ratelimit_reset(struct orch_ratelimit *rl)
{
    rl->head = 0;
    rl->count = 0;
    rl->rate = rl->max_rate;
    rl->last_throttle_ms = 0;
}
