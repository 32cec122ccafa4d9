/* ratelimit.h - never more than `per_sec` starts in any sliding 1000 ms
 * window, with an adaptive slow-down after throttling.
 *
 * DESIGN: a ring of the last start times (a few windows' worth). A start is allowed at
 * `now` when the oldest of them is at least 1000 ms old (a token bucket
 * with a burst would allow 2x the rate across a window boundary). With
 * even_spacing, starts are also spaced 1000/rate ms apart, so that arrival
 * jitter cannot put more than `per_sec` arrivals into one of the server's
 * seconds. After
 * a throttling answer, orch_ratelimit_throttled() lowers the effective rate
 * to just under what the server accepted and it climbs back slowly while
 * no further throttling is seen, so a run settles just under the real
 * quota.
 * Time is an argument: pure, caller-owned, not thread-safe.
 */
#ifndef ORCH_RATELIMIT_H
#define ORCH_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct orch_ratelimit {
    double max_rate;      /* configured calls per second */
    double rate;          /* current effective rate (<= max_rate) */
    uint64_t *ring;       /* start times (ms), capacity a few windows'
                             (ratelimit.c: RING_WINDOWS x ceil(max_rate)) */
    unsigned cap, head, count;
    uint64_t last_throttle_ms;
    uint64_t last_raise_ms;
    uint64_t throttles;   /* throttling answers seen */
    bool even_spacing;    /* also space starts 1000/rate ms apart (a client
                             pacing its calls sets this after init; a
                             server counting arrivals leaves it false) */
    double next_ms;       /* earliest next start (even spacing) */
    uint64_t *thr_ring;   /* starts of the last throttled calls (or the
                             answers' times, when unknown) */
    double measured_rate; /* the last cut to a measured quota ... */
    uint64_t measured_until_ms; /* ... caps the raise until then */
    unsigned thr_head, thr_count;
    double spacing_slack_ms; /* even spacing: a window's n starts are
                                spread over W + this (set after init):
                                room for arrival jitter that the window
                                check, on the recorded starts, need not
                                also take out of every window */
    double catchup_ms;       /* even spacing: a start at most this late
                                (or half a gap, if that is more) keeps
                                the schedule, so the next one may follow
                                closer; a later one restarts it (set
                                after init; 0 = half a gap) */
};

/* Returns 0 or ORCH_ENOMEM/ORCH_EINVAL (per_sec <= 0). */
int orch_ratelimit_init(struct orch_ratelimit *rl, double per_sec,
                        uint64_t now_ms);
void orch_ratelimit_cleanup(struct orch_ratelimit *rl);
/* Asks to start one call at now_ms. Returns 0 and records the start, or the
 * number of ms to wait before asking again (>= 1). */
uint64_t orch_ratelimit_take(struct orch_ratelimit *rl, uint64_t now_ms);
/* The two halves of orch_ratelimit_take, for a caller that decides
 * between them (a quota shared with other processes, pacer.h): _wait
 * returns what take would (0: a start is allowed now) and records
 * nothing but the rate's recovery; _record records a start at now_ms
 * (call it only after _wait returned 0 at that time). */
uint64_t orch_ratelimit_wait(struct orch_ratelimit *rl, uint64_t now_ms);
void orch_ratelimit_record(struct orch_ratelimit *rl, uint64_t now_ms);
/* Reports a throttling answer seen at now_ms (its call's start unknown). */
void orch_ratelimit_throttled(struct orch_ratelimit *rl, uint64_t now_ms);
/* Reports a throttling answer seen at now_ms to the call started at
 * sent_ms (<= now_ms; equal: unknown, as orch_ratelimit_throttled). */
void orch_ratelimit_throttled_at(struct orch_ratelimit *rl, uint64_t now_ms,
                                 uint64_t sent_ms);
/* Moves the k most recent recorded starts that are earlier than t to t
 * (a caller that took its tokens before work that delayed the real starts,
 * e.g. a journal fsync). The ring stays ordered since t is later than
 * each moved start. k is capped at the number recorded. */
void orch_ratelimit_retime(struct orch_ratelimit *rl, size_t k, uint64_t t);
/* Forgets the recorded starts and restores the full rate. */
void orch_ratelimit_reset(struct orch_ratelimit *rl);

#endif
