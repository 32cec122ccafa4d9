/* quotashare.h - one account's per-action quotas shared by the processes of
 * one machine: a small state file that every ota-rollout using the same
 * quota key reads and writes under flock, so that together they stay
 * within each action's quota and share it fairly.
 *
 * The file: <dir>/ota-rollout-quota-<first 32 hex of SHA-256(key)>, mode
 * 0600, owned by the user (a file of another owner, or with group or other
 * permissions, is refused); <dir> is $XDG_RUNTIME_DIR, else
 * /tmp/ota-rollout-<uid> (created 0700, refused when it is not a
 * directory of ours with no group or other permissions). The key itself
 * is never written anywhere.
 *
 * Per action (a lane) it holds the state of one orch_ratelimit for all
 * the processes together: the recent start times (and the pid that
 * started each), the even spacing's next slot, the effective rate and
 * the recent throttling answers (so one process's throttling slows every
 * process down), and the processes waiting for a start. A process hands
 * in its own orch_ratelimit (configured: max_rate, spacing, margins) as
 * the working copy: each operation locks the file, loads the lane's state
 * into it, runs the limiter there, writes the state back and unlocks.
 *
 * Fairness: a process refused a start is listed as waiting (pid, process
 * start time, since when, when it was told to come back). When a start is
 * free, the process that has waited longest gets it: another one asking
 * first is told to wait a few ms. So processes with work take turns.
 * A crashed process's share is freed: a waiting entry is dropped when its
 * pid is gone (or is another process by now: the start time differs) or
 * when it has not come back within WAITER_GRACE_MS of its time. The
 * starts it made stay counted (the server counts them too).
 *
 * Clocks: CLOCK_MONOTONIC (orch_mono_ms) is the machine's, the same in
 * every process; state from before a reboot (times far in the future) is
 * dropped.
 *
 * Threads: a handle is used by one thread at a time. Each handle is its
 * own open file description, so two handles on one file in one process
 * exclude each other like two processes (the unit tests use this); a
 * forked child must open its own handle.
 */
#ifndef ORCH_QUOTASHARE_H
#define ORCH_QUOTASHARE_H

#include <stddef.h>
#include <stdint.h>

#include "orch/base/err.h"

struct orch_diag;
struct orch_ratelimit;
struct orch_quotashare;

/* Lanes of the file (actions), start times kept per lane, and processes
 * listed as waiting per lane. A limiter of more than
 * ORCH_QUOTASHARE_SLOTS starts per window (a rate far above any
 * documented quota) is not shared. */
#define ORCH_QUOTASHARE_LANES 16
#define ORCH_QUOTASHARE_SLOTS 256
#define ORCH_QUOTASHARE_WAITERS 16

/* The default directory (see above) into out. Returns 0, or ORCH_EINVAL
 * when it does not fit. Creates nothing. */
int orch_quotashare_default_dir(char *out, size_t cap);

/* Opens (creating when missing) the state file of `key` in `dir` (NULL:
 * the default directory, created when missing). Returns 0 with *out set,
 * or ORCH_EIO / ORCH_ENOMEM / ORCH_EINVAL with diag (then *out is NULL
 * and the caller paces alone). Close with orch_quotashare_close. */
int orch_quotashare_open(struct orch_quotashare **out, const char *dir,
                         const char *key, struct orch_diag *diag);
/* NULL-safe. */
void orch_quotashare_close(struct orch_quotashare *s);

/* orch_ratelimit_take over the lane of `action`, for this process (with
 * the waiting order above). rl is the working copy (see above). Returns
 * 0 (a start recorded at now_ms) or the ms to wait before asking again.
 * When the file cannot be used (lock failure, every lane taken by other
 * actions) it falls back to rl alone. */
uint64_t orch_quotashare_take(struct orch_quotashare *s, const char *action,
                              struct orch_ratelimit *rl, uint64_t now_ms);
/* orch_ratelimit_throttled_at over the lane of `action`. */
void orch_quotashare_throttled(struct orch_quotashare *s, const char *action,
                               struct orch_ratelimit *rl, uint64_t now_ms,
                               uint64_t sent_ms);
/* orch_ratelimit_retime over the lane of `action`, for this process's k
 * most recent starts only. */
void orch_quotashare_retime(struct orch_quotashare *s, const char *action,
                            size_t k, uint64_t t);
/* Processes listed as waiting in the lane of `action` at now_ms, after
 * dropping those that are gone (for tests and diagnostics); 0 when the
 * lane does not exist. */
unsigned orch_quotashare_waiters(struct orch_quotashare *s,
                                 const char *action, uint64_t now_ms);

/* ---- handles by key, each opened once --------------------------------- */

/* One key's handle in a caller's list (the pacer's registry, each STS
 * lane set's). */
struct orch_quotashare_ref {
    struct orch_quotashare_ref *next;
    char id[65];               /* SHA-256 of key NUL dir: the key is kept
                                  nowhere */
    struct orch_quotashare *s; /* NULL: it could not be opened */
    char note[ORCH_DIAG_LEN + 64]; /* then why, in one line ("pacing
                                      alone: ..."); else "" */
};

/* The handle of (dir, key) in the list *refs: found, or opened
 * (orch_quotashare_open) and added, with s NULL and a note when it cannot
 * be opened. NULL when key is NULL or "", or out of memory. Entries live
 * until orch_quotashare_refs_free. Not thread-safe: a list shared by
 * threads is the caller's to lock. */
struct orch_quotashare_ref *orch_quotashare_ref(
    struct orch_quotashare_ref **refs, const char *dir, const char *key);
/* Closes every handle of the list and frees it; *refs is then NULL. */
void orch_quotashare_refs_free(struct orch_quotashare_ref **refs);

#endif
