/* credlive.h - credentials kept fresh for as long as a run lives.
 *
 * A live holder owns the current fetched set (credsource.h's struct
 * orch_credset) and a refresher thread that fetches the next one before
 * the current one reaches its safety margin. Signing never waits for a
 * fetch: request.c takes the CURRENT set under the holder's mutex at
 * signing time (orch_credlive_acquire / orch_credlive_release), so calls
 * keep flowing on the current set while a refresh runs.
 *
 * Timing (all wall-clock epoch ms, the clock the Expiration is in):
 *   lifetime L = expires - fetched
 *   margin   M = min(5 min, L / 3)        never signed inside it
 *   refresh  at fetched + 2/3 x (L - M)   two thirds of the usable time:
 *            the last third of it (>= 5 min for a 1 h set, 1.3 s for a
 *            6 s one) is left for retries
 *   a failed fetch is retried with jittered exponential backoff (250 ms
 *   doubling, at most 30 s, and at most half the usable time left, so the
 *   tries get closer as the margin nears); a set inside its margin with no
 *   fresh one makes orch_credlive_acquire fail with ORCH_ECRED: the caller
 *   stops the run; nothing is ever signed with such a set.
 *
 * An answer that refuses the token (orch_credlive_reject) asks for an
 * immediate refresh of the set that signed it.
 *
 * Secrets: the sets' secrets and tokens are wiped when replaced or freed;
 * no diag or explanation ever holds one.
 */
#ifndef ORCH_CREDLIVE_H
#define ORCH_CREDLIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct orch_credentials;
struct orch_credset;
struct orch_diag;
struct orch_credlive;

/* One blocking fetch of a fresh set into out (0, or ORCH_E* with diag):
 * orch_credsource_fetch on the chain's source, or a test's fake. Called on
 * the refresher thread only. */
typedef int (*orch_credlive_fetch_fn)(void *ud, struct orch_credset *out,
                                      struct orch_diag *diag);
/* The wall clock, epoch ms (NULL: orch_wall_ms). Thread-safe. */
typedef int64_t (*orch_credlive_clock_fn)(void *ud);

struct orch_credlive_opts {
    orch_credlive_fetch_fn fetch;
    void *fetch_ud;            /* borrowed (must outlive the holder), or
                                  owned when fetch_ud_free is set */
    void (*fetch_ud_free)(void *ud); /* called by orch_credlive_free after
                                        the thread stopped; NULL: none */
    orch_credlive_clock_fn now;
    void *now_ud;
    const char *label;         /* the source's label for explanations */
};

/* A holder for `first` (its contents are moved in; *first is left empty)
 * with its refresher thread started. first->expires_ms must be >= 0 (a set
 * that never expires needs no holder). Returns 0 with *out (free it with
 * orch_credlive_free), ORCH_EINVAL or ORCH_ENOMEM (diag). */
int orch_credlive_new(struct orch_credlive **out,
                      const struct orch_credlive_opts *opts,
                      struct orch_credset *first, struct orch_diag *diag);
/* Stops and joins the refresher, wipes the sets, frees fetch_ud when it
 * is owned; NULL-safe. A failing orch_credlive_new frees nothing of opts:
 * the caller keeps fetch_ud. */
void orch_credlive_free(struct orch_credlive *l);

/* The current set for signing at now_ms: fills *view with borrowed
 * pointers (access_key_id, secret, token, source) and returns 0 with the
 * holder LOCKED: call orch_credlive_release as soon as the signature is
 * made (the pointers are valid until then). ORCH_ECRED (unlocked, diag may
 * be NULL) when the current set is inside its margin at now_ms: it must
 * not be used. Thread-safe. */
int orch_credlive_acquire(struct orch_credlive *l, int64_t now_ms,
                          struct orch_credentials *view,
                          struct orch_diag *diag);
void orch_credlive_release(struct orch_credlive *l);

/* An answer refused the token of the set with AccessKeyId key_id (NULL:
 * the current one): when that set is still the current one, the refresher
 * fetches a new one now. Thread-safe. */
void orch_credlive_reject(struct orch_credlive *l, const char *key_id);

/* Successful refreshes so far (the first fetch not counted). */
unsigned long orch_credlive_refreshes(struct orch_credlive *l);
/* When the refresher fetches next (wall ms; INT64_MAX: never) and how
 * many fetches failed since the last success. */
int64_t orch_credlive_due_ms(struct orch_credlive *l, unsigned *failures);

/* One sentence on why the credentials cannot be used at now_ms (the
 * source's label, when the set expired, the last refresh failure), for
 * the stop's message; never a secret. */
void orch_credlive_explain(struct orch_credlive *l, int64_t now_ms,
                           char *out, size_t cap);

/* The pure timing rules above (ms). margin(L) = min(300000, L / 3), 0 for
 * L <= 0; refresh_due(fetched, expires) = fetched + 2/3 (L - M);
 * retry_ms(failures >= 1, rnd) = equal-jitter backoff in
 * [b/2, b], b = min(30000, 250 x 2^(failures-1)). */
int64_t orch_credlive_margin_ms(int64_t lifetime_ms);
int64_t orch_credlive_refresh_due_ms(int64_t fetched_ms, int64_t expires_ms);
uint64_t orch_credlive_retry_ms(unsigned failures, uint64_t rnd);
/* True when a set fetched at fetched_ms expiring at expires_ms (-1: never)
 * may sign at now_ms: now < expires - margin. */
bool orch_credlive_usable(int64_t fetched_ms, int64_t expires_ms,
                          int64_t now_ms);

#endif
