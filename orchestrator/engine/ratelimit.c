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
 * Even spacing (a client's option, rl->even_spacing; a server counting
 * arrivals, like ota-emulator, wants the window alone): on top of the
 * window, starts are spaced 1000/r ms apart
 * (when that is at least 1 ms). A window alone lets all n starts go at
 * once; the server counts at *arrival*, and when the first burst's
 * requests arrive spread out (new connections) while the next second's
 * arrive together (reused connections), 21 arrivals can fall into one of
 * the server's seconds although no 1000 ms window held 21 starts. Spaced
 * starts leave a whole gap (50 ms at 20/s) of room for arrival jitter.
 * A caller that comes back less than half a gap late (or rl->catchup_ms,
 * when that is more) keeps its schedule, so poll wake-up jitter does not
 * cost rate; a later one restarts the schedule from now. Catching up
 * never breaks the window: it is checked first, on the recorded starts. rl->spacing_slack_ms spreads
 * a window's n starts over W + slack ms: the room for jitter is then in
 * the spacing, and the window (on the recorded starts) may be the quota
 * itself, binding only when a start came late.
 *
 * Adaptation: a throttling answer means the real quota (shared with every
 * other client of the account) is below our rate. When the throttled
 * call's start is known (orch_ratelimit_throttled_at), the server had
 * already accepted its quota in the second before that start: our starts
 * in that second, less those throttled, measure the quota then and
 * there, however late the answer came (counting the second before the
 * answer instead counted the calls sent at the old rate meanwhile, and
 * a 15/s quota under a 20/s rate was cut by 3% a second, 10 of 110
 * Creates throttled). Answers to calls started before the last cut were
 * sent at the old rate and cut nothing more. A rate cut to such a
 * measure stays there for MEASURED_HOLD_MS before it probes upward. The rate drops by
 * DECREASE_FACTOR (3%); when the server accepted far fewer calls in the
 * last second than the rate (starts in the last 1000 ms minus throttling
 * answers in it, below OVERLOAD_FRACTION of the rate) it drops at once to
 * 97% of that count. One second's count is only good to +-1 call, so it
 * is not used for the small cuts of a probe just above the quota. At most
 * one cut per HOLD_MS (the answers that arrive just after a
 * decrease are for calls started at the old rate), never below
 * max_rate * FLOOR_FRACTION. Each full second without a throttling answer
 * adds max_rate * RAISE_FRACTION, up to max_rate. So the rate lands just
 * under a lower real quota in one step and probes upward slowly: a
 * throttled answer every ~10 s at most.
 *
 * Pure: time is an argument; caller-owned; not thread-safe.
 */
#include "orch/engine/ratelimit.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "orch/base/err.h"

#define DECREASE_FACTOR 0.97
/* Below this share of the rate, the accepted count is a real measure of a
 * lower quota, not the +-1 noise of one second's sample. */
#define OVERLOAD_FRACTION 0.9
#define ACCEPTED_FRACTION 0.97
#define ACCEPTED_KNOWN_FRACTION 0.995
/* The rings hold this many windows of starts: an answer comes up to
 * seconds after its call, and the second before that call must still be
 * in the ring to be counted. */
#define RING_WINDOWS 3
/* ... up to this rate (above it, a lifted benchmark limit, one window). */
#define RING_WINDOWS_MAX_RATE 100000.0
#define FLOOR_FRACTION 0.05
#define RAISE_FRACTION 0.0025
#define HOLD_MS 1000
/* A rate cut to a quota measured at the throttled call's start is not
 * raised above it for this long: raising it at once crosses the next
 * whole call per second within a second or two (measured: a throttled
 * answer every 1.3 s at a hidden 15/s quota). */
#define MEASURED_HOLD_MS 10000
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
    if (capd <= RING_WINDOWS_MAX_RATE)
        capd *= RING_WINDOWS;
    rl->ring = calloc((size_t)capd, sizeof(*rl->ring));
    rl->thr_ring = calloc((size_t)capd, sizeof(*rl->thr_ring));
    if (rl->ring == NULL || rl->thr_ring == NULL) {
        free(rl->ring);
        free(rl->thr_ring);
        rl->ring = rl->thr_ring = NULL;
        return ORCH_ENOMEM;
    }
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
    free(rl->thr_ring);
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
    /* A quota measured where the server measured it holds a while. */
    if (now_ms < rl->measured_until_ms && rl->rate > rl->measured_rate)
        rl->rate = rl->measured_rate;
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
    if (nd > ceil(rl->max_rate - 1e-9))
        nd = ceil(rl->max_rate - 1e-9);
    *n = (unsigned)nd;
    *window_ms = (uint64_t)ceil(1000.0 * nd / rl->rate - 1e-6);
    if (*window_ms < 1000 && rl->rate <= nd)
        *window_ms = 1000;
}

/* The even-spacing gap at the current rate, 0 when off or below 1 ms:
 * n starts per W ms (window_for), plus the slack spread over them. */
static double gap_ms(const struct orch_ratelimit *rl)
{
    unsigned n = 0;
    uint64_t window_ms = 0;
    double gap = 0;

    window_for(rl, &n, &window_ms);
    gap = (1000.0 * n / rl->rate + rl->spacing_slack_ms) / n;

    return rl->even_spacing && gap >= 1.0 ? gap : 0.0;
}

/* How late a start may be and still keep the schedule. */
static double catchup_for(const struct orch_ratelimit *rl, double gap)
{
    return rl->catchup_ms > gap / 2 ? rl->catchup_ms : gap / 2;
}

uint64_t orch_ratelimit_wait(struct orch_ratelimit *rl, uint64_t now_ms)
{
    unsigned n = 0;
    uint64_t window_ms = 0;
    uint64_t nth = 0;
    double gap = 0, now = (double)now_ms;

    raise_rate(rl, now_ms);
    window_for(rl, &n, &window_ms);
    gap = gap_ms(rl);
    if (gap > 0 && rl->count > 0 && now < rl->next_ms)
        return (uint64_t)ceil(rl->next_ms - now);
    if (rl->count >= n) {
        nth = rl->ring[(rl->head + rl->cap - n) % rl->cap];
        if (now_ms < nth + window_ms)
            return nth + window_ms - now_ms;
    }
    return 0;
}

void orch_ratelimit_record(struct orch_ratelimit *rl, uint64_t now_ms)
{
    double gap = gap_ms(rl), now = (double)now_ms, base = 0;

    /* Keep the schedule when at most catchup_for() late, else restart. */
    base = (rl->count > 0 && rl->next_ms >= now - catchup_for(rl, gap))
               ? rl->next_ms
               : now;
    rl->next_ms = base + gap;
    rl->ring[rl->head] = now_ms;
    rl->head = (rl->head + 1) % rl->cap;
    if (rl->count < rl->cap)
        rl->count++;
}

uint64_t orch_ratelimit_take(struct orch_ratelimit *rl, uint64_t now_ms)
{
    uint64_t wait = orch_ratelimit_wait(rl, now_ms);

    if (wait == 0)
        orch_ratelimit_record(rl, now_ms);
    return wait;
}

/* Entries of a ring (newest just before head) in (now_ms - 1000, now_ms]. */
static unsigned in_last_second(const uint64_t *ring, unsigned cap,
                               unsigned head, unsigned count, uint64_t now_ms)
{
    unsigned k = 0;

    while (k < count) {
        uint64_t t = ring[(head + cap - 1 - k) % cap];

        if (t + 1000 <= now_ms)
            break;
        k++;
    }
    return k;
}

/* Entries of a ring in (sent_ms - 1000, sent_ms): what was started in
 * the second before a call. Every entry is looked at: the throttled
 * calls' starts are recorded in the order their answers came. */
static unsigned in_second_before(const uint64_t *ring, unsigned count,
                                 uint64_t sent_ms)
{
    unsigned k = 0;

    for (unsigned i = 0; i < count; i++)
        k += ring[i] + 1000 > sent_ms && ring[i] < sent_ms;
    return k;
}

void orch_ratelimit_throttled(struct orch_ratelimit *rl, uint64_t now_ms)
{
    orch_ratelimit_throttled_at(rl, now_ms, now_ms);
}

/* The quota measured at a throttled call's start: the calls started in
 * the second before it that were not throttled (as far as known). */
static double measured_at(const struct orch_ratelimit *rl, uint64_t sent_ms)
{
    return (double)in_second_before(rl->ring, rl->count, sent_ms) -
           (double)in_second_before(rl->thr_ring, rl->thr_count, sent_ms);
}

/* Sets the rate to a measured quota (less the margin) and holds it. */
static void hold_measured(struct orch_ratelimit *rl, double accepted,
                          uint64_t now_ms)
{
    rl->rate = accepted * ACCEPTED_KNOWN_FRACTION;
    rl->measured_rate = rl->rate;
    rl->measured_until_ms = now_ms + MEASURED_HOLD_MS;
}

void orch_ratelimit_throttled_at(struct orch_ratelimit *rl, uint64_t now_ms,
                                 uint64_t sent_ms)
{
    double floor_rate = rl->max_rate * FLOOR_FRACTION;
    double accepted = 0, cut = 0;
    bool known = sent_ms < now_ms;
    /* Sent at the rate before the last cut: the cut already answered it
     * (only a lower measure can still lower the rate). */
    bool old_rate = known ? sent_ms <= rl->last_throttle_ms
                          : now_ms < rl->last_throttle_ms + HOLD_MS;

    rl->throttles++;
    rl->thr_ring[rl->thr_head] = sent_ms;
    rl->thr_head = (rl->thr_head + 1) % rl->cap;
    if (rl->thr_count < rl->cap)
        rl->thr_count++;
    /* Any throttling answer restarts the quiet period recovery waits for. */
    rl->last_raise_ms = now_ms;
    accepted = known ? measured_at(rl, sent_ms)
                     : (double)in_last_second(rl->ring, rl->cap, rl->head,
                                              rl->count, now_ms) -
                           (double)in_last_second(rl->thr_ring, rl->cap,
                                                  rl->thr_head,
                                                  rl->thr_count, now_ms);
    if (rl->throttles > 1 && old_rate) {
        if (known && accepted >= 1 &&
            accepted * ACCEPTED_KNOWN_FRACTION < rl->rate)
            hold_measured(rl, accepted, now_ms);
        return;
    }
    rl->last_throttle_ms = now_ms;
    cut = rl->rate * DECREASE_FACTOR;
    if (accepted < rl->rate * OVERLOAD_FRACTION) {
        /* Measured where the server measured it, the count is the quota
         * (less a margin); after the fact, 3% less. */
        double frac = known ? ACCEPTED_KNOWN_FRACTION : ACCEPTED_FRACTION;

        if (accepted * frac < cut)
            cut = accepted * frac;
        if (known && accepted >= 1) {
            hold_measured(rl, accepted, now_ms);
            cut = rl->rate;
        }
    }
    rl->rate = cut;
    if (rl->rate < floor_rate)
        rl->rate = floor_rate;
}

void orch_ratelimit_retime(struct orch_ratelimit *rl, size_t k, uint64_t t)
{
    if (rl->cap == 0)
        return;
    if (k > rl->count)
        k = rl->count;
    for (size_t i = 1; i <= k; i++) {
        uint64_t *slot = &rl->ring[(rl->head + rl->cap - i) % rl->cap];

        if (*slot < t)
            *slot = t;
    }
}

void orch_ratelimit_reset(struct orch_ratelimit *rl)
{
    rl->head = 0;
    rl->count = 0;
    rl->rate = rl->max_rate;
    rl->last_throttle_ms = 0;
    rl->next_ms = 0;
    rl->thr_head = 0;
    rl->thr_count = 0;
    rl->measured_rate = 0;
    rl->measured_until_ms = 0;
}
