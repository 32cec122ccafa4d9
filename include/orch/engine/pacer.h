/* pacer.h - the one pacing engine for every call the tool makes: a lane
 * per (quota key, action), kept for the life of the process, that says
 * when the next call of that action may start.
 *
 * A lane is an orch_ratelimit (ratelimit.h) at the action's quota less the
 * window margin (engine_opts.h; at least a tenth of the lane's gap, see
 * ORCH_PACER_GAP_MARGIN_DIV), with its starts spaced evenly (the spacing
 * slack, pace margin - window margin, and a catch-up of
 * ORCH_PACER_CATCHUP_MS), the sliding-window check on the recorded start
 * times (moved to the real send times with orch_pace_retime) and the
 * adaptive slow-down on throttling answers. The same lane serves every
 * batch of the action in the process (a `status` page batch right after
 * another, the gates of `run --waves`, a pre-flight then a rollout), so
 * back-to-back batches never put more than the quota into one second.
 *
 * With a quota key (engine_opts.h: opts->quota_key), the lane's state is
 * shared with the other processes of this machine that use the same key
 * (quotashare.h): together they stay within each action's quota, take
 * turns, and one's throttling slows them all. Without a key, or when the
 * shared state cannot be opened (a note is kept: orch_pacer_share_note),
 * or for a limiter whose ring (ratelimit.c: 3 windows of starts) exceeds
 * ORCH_QUOTASHARE_SLOTS, i.e. above 85 calls/s (not a documented quota:
 * the benchmarks' lifted limits), the lane paces this process alone.
 *
 * A caller that makes a call outside the dispatcher (the credential
 * provider's STS calls, say) waits for its slot with orch_pacer_wait()
 * and reports a throttling answer with orch_pacer_throttled().
 *
 * Threads: one. Lanes live until orch_pacer_reset() (tests) or the end of
 * the process; a lane pointer stays valid until then.
 */
#ifndef ORCH_PACER_H
#define ORCH_PACER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct orch_engine_opts;
struct orch_pace_lane;
struct orch_ratelimit;

/* A start this late (or half a gap, when that is more) keeps the even
 * spacing's schedule: the dispatcher loop's own lateness (poll wake-ups
 * at ms resolution, the journal's fsync), a few ms whatever the rate.
 * The window check on the real send times still caps every window
 * (bench/RESULTS.md, session 2). */
#define ORCH_PACER_CATCHUP_MS 10.0

/* A lane's window margin is at least its gap (1000 / qps ms) divided by
 * this: a start-to-arrival jitter of a few ms more than the engine's
 * margin put 6 CancelOTATaskByJob arrivals into one second (quota 5) in an
 * ASan run, once in four. The low-rate lanes (cancel and batch queries at
 * 5/s, the other queries at 10/s) get 20 and 10 ms; Create at 20/s keeps
 * the engine's 5 ms (19.9/s measured). */
#define ORCH_PACER_GAP_MARGIN_DIV 10.0

/* The lane of `action` at `qps` calls per second under o's quota key and
 * margins: found, or created on first use. When an existing lane is asked
 * for at another rate it is set to that rate, keeping its recent starts.
 * Returns 0 with *out, or ORCH_EINVAL (qps <= 0 or absurd) / ORCH_ENOMEM. */
int orch_pacer_lane(const struct orch_engine_opts *o, const char *action,
                    double qps, struct orch_pace_lane **out);

/* Initialises rl as the limiter of a lane at `qps` under o's margins (the
 * rules above), for a caller that keeps a limiter of its own (stslane.h:
 * the credential refresher's thread-safe lanes). Returns what
 * orch_ratelimit_init returns; clean up with orch_ratelimit_cleanup. */
int orch_pacer_limiter_init(struct orch_ratelimit *rl,
                            const struct orch_engine_opts *o, double qps,
                            uint64_t now_ms);

/* Asks to start one call at now_ms (orch_mono_ms). Returns 0 and records
 * the start, or the ms to wait before asking again (>= 1). */
uint64_t orch_pace_take(struct orch_pace_lane *l, uint64_t now_ms);
/* A throttling answer seen at now_ms to a call started at sent_ms (now_ms
 * when unknown): ratelimit.h's orch_ratelimit_throttled_at. */
void orch_pace_throttled(struct orch_pace_lane *l, uint64_t now_ms,
                         uint64_t sent_ms);
/* The k most recent starts of this process earlier than t are moved to t
 * (they really went out at t). */
void orch_pace_retime(struct orch_pace_lane *l, size_t k, uint64_t t);
/* The lane's current effective rate (calls/s, after adaptation). */
double orch_pace_rate(const struct orch_pace_lane *l);

/* Blocks until one call of `action` may start at `qps` (the entry point
 * for calls made outside the dispatcher), sleeping on the monotonic clock
 * and waking every 100 ms to look at *interrupt (may be NULL). Returns 0
 * (the start is recorded: send now), ORCH_EABORT when *interrupt became
 * nonzero first, or what orch_pacer_lane returns. */
int orch_pacer_wait(const struct orch_engine_opts *o, const char *action,
                    double qps, volatile sig_atomic_t *interrupt);
/* A throttling answer to a call made after orch_pacer_wait(). */
void orch_pacer_throttled(const struct orch_engine_opts *o,
                          const char *action, double qps);

/* Why the shared state could not be used for o's key ("" when it is, or
 * when there is no key): a sentence for the command's edge. Static
 * storage, valid until the next call. */
const char *orch_pacer_share_note(const struct orch_engine_opts *o);

/* Forgets every lane and closes the shared state (tests; a forked child
 * that must not share its parent's file handle). */
void orch_pacer_reset(void);

#endif
