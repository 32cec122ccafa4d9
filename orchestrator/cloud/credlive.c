/* credlive.c - a fetched credential set kept fresh by its own thread
 * (credlive.h).
 *
 * DESIGN
 * Threads: the refresher thread is the only one that fetches; any thread
 * may sign (orch_credlive_acquire). One mutex guards everything in the
 * holder. The refresher holds it only to read the schedule and to swap in
 * a fresh set, never during a fetch, so a signer waits at most for a
 * pointer swap; a signer holds it while it signs (a few microseconds), so
 * the set it borrowed cannot be wiped under it.
 *
 * The refresher's loop: sleep until the set's refresh time (in slices of
 * at most SLICE_MS on the monotonic clock, re-reading the wall clock each
 * time, so a wall clock that jumps - a suspended laptop, a test's clock -
 * is noticed within a slice; acquire and reject wake it early), fetch
 * without the lock, then swap the fresh set in (the old one is wiped) or
 * schedule a retry. A fresh set that is already inside its own margin is
 * a failure like any other: swapping it in would only make signing fail.
 */
#include "orch/cloud/credlive.h"

#include "orch/base/clock.h"
#include "orch/base/err.h"
#include "orch/cloud/credentials.h"
#include "orch/cloud/credsource.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MARGIN_MAX_MS 300000
#define RETRY_BASE_MS 250
#define RETRY_CAP_MS 30000
#define RETRY_MIN_MS 50
#define SLICE_MS 1000

struct orch_credlive {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* on CLOCK_MONOTONIC */
    pthread_t thread;
    bool stop;
    struct orch_credset cur;
    int64_t due_ms;          /* when to fetch next (wall ms) */
    unsigned failures;       /* failed fetches since the last success */
    bool rejected;           /* an answer refused the current set */
    unsigned long refreshes;
    char last_error[256];
    char *label;
    orch_credlive_fetch_fn fetch;
    void *fetch_ud;
    void (*fetch_ud_free)(void *ud);
    orch_credlive_clock_fn now;
    void *now_ud;
    uint64_t rng;
};

/* --- the timing rules ----------------------------------------------------- */

int64_t orch_credlive_margin_ms(int64_t lifetime_ms)
{
    if (lifetime_ms <= 0)
        return 0;
    return lifetime_ms / 3 < MARGIN_MAX_MS ? lifetime_ms / 3 : MARGIN_MAX_MS;
}

int64_t orch_credlive_refresh_due_ms(int64_t fetched_ms, int64_t expires_ms)
{
    int64_t life = expires_ms - fetched_ms;
    int64_t usable = life - orch_credlive_margin_ms(life);

    if (expires_ms < 0)
        return INT64_MAX;
    if (usable <= 0)
        return fetched_ms;
    return fetched_ms + usable * 2 / 3;
}

uint64_t orch_credlive_retry_ms(unsigned failures, uint64_t rnd)
{
    uint64_t b = RETRY_BASE_MS;
    unsigned i = 1;

    for (i = 1; i < failures && b < RETRY_CAP_MS; i++)
        b *= 2;
    if (b > RETRY_CAP_MS)
        b = RETRY_CAP_MS;
    return b / 2 + rnd % (b / 2 + 1);
}

bool orch_credlive_usable(int64_t fetched_ms, int64_t expires_ms,
                          int64_t now_ms)
{
    if (expires_ms < 0)
        return true;
    return now_ms < expires_ms - orch_credlive_margin_ms(expires_ms -
                                                         fetched_ms);
}

/* --- the holder ----------------------------------------------------------- */

static int64_t clock_now(const struct orch_credlive *l)
{
    return l->now != NULL ? l->now(l->now_ud) : orch_wall_ms();
}

static uint64_t next_random(struct orch_credlive *l)
{
    /* xorshift64: jitter only, no secret depends on it. */
    l->rng ^= l->rng << 13;
    l->rng ^= l->rng >> 7;
    l->rng ^= l->rng << 17;
    return l->rng;
}

static void set_wipe(struct orch_credset *set)
{
    orch_credentials_cleanup(&set->cred);
    memset(set, 0, sizeof(*set));
}

/* The end of set's usable time (its margin's start), or INT64_MAX. */
static int64_t usable_until(const struct orch_credset *set)
{
    if (set->expires_ms < 0)
        return INT64_MAX;
    return set->expires_ms -
           orch_credlive_margin_ms(set->expires_ms - set->fetched_ms);
}

/* Waits on the condition variable for at most ms (locked on entry and
 * on return). */
static void wait_ms(struct orch_credlive *l, int64_t ms)
{
    struct timespec ts;

    if (ms > SLICE_MS)
        ms = SLICE_MS;
    if (ms < 1)
        ms = 1;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    (void)pthread_cond_timedwait(&l->cv, &l->mu, &ts);
}

/* After a fetch (locked): the fresh set in, or a retry scheduled. */
static void take_result(struct orch_credlive *l, int rc,
                        struct orch_credset *fresh,
                        const struct orch_diag *diag)
{
    int64_t now = clock_now(l);
    int64_t left = 0;
    uint64_t wait = 0;

    if (rc == 0 && fresh->fetched_ms <= 0)
        fresh->fetched_ms = now;
    if (rc == 0 && orch_credlive_usable(fresh->fetched_ms, fresh->expires_ms,
                                        now)) {
        set_wipe(&l->cur);
        l->cur = *fresh;
        memset(fresh, 0, sizeof(*fresh));
        l->refreshes++;
        l->failures = 0;
        l->rejected = false;
        l->last_error[0] = '\0';
        l->due_ms = orch_credlive_refresh_due_ms(l->cur.fetched_ms,
                                                 l->cur.expires_ms);
        return;
    }
    if (rc == 0)
        snprintf(l->last_error, sizeof(l->last_error),
                 "the fresh credentials expire within their safety margin");
    else
        snprintf(l->last_error, sizeof(l->last_error), "%s",
                 orch_diag_text(rc, diag));
    set_wipe(fresh);
    l->failures++;
    wait = orch_credlive_retry_ms(l->failures, next_random(l));
    left = usable_until(&l->cur) - now;
    /* Closer tries as the margin nears: at most half the time left. */
    if (left > 0 && (uint64_t)(left / 2) < wait)
        wait = (uint64_t)(left / 2);
    if (wait < RETRY_MIN_MS)
        wait = RETRY_MIN_MS;
    l->due_ms = now + (int64_t)wait;
}

static void *refresher(void *arg)
{
    struct orch_credlive *l = arg;
    struct orch_credset fresh;
    struct orch_diag diag;
    int64_t now = 0;
    int rc = 0;

    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        now = clock_now(l);
        if (now < l->due_ms) {
            wait_ms(l, l->due_ms - now);
            continue;
        }
        pthread_mutex_unlock(&l->mu);
        memset(&fresh, 0, sizeof(fresh));
        diag.msg[0] = '\0';
        rc = l->fetch(l->fetch_ud, &fresh, &diag);
        pthread_mutex_lock(&l->mu);
        if (l->stop) {
            set_wipe(&fresh);
            break;
        }
        take_result(l, rc, &fresh, &diag);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

static int init_sync(struct orch_credlive *l)
{
    pthread_condattr_t ca;
    int rc = 0;

    if (pthread_mutex_init(&l->mu, NULL) != 0)
        return ORCH_ENOMEM;
    rc = pthread_condattr_init(&ca);
    if (rc == 0)
        rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&l->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0) {
        pthread_mutex_destroy(&l->mu);
        return ORCH_ENOMEM;
    }
    return 0;
}

int orch_credlive_new(struct orch_credlive **out,
                      const struct orch_credlive_opts *opts,
                      struct orch_credset *first, struct orch_diag *diag)
{
    struct orch_credlive *l = NULL;
    int rc = 0;

    *out = NULL;
    if (opts == NULL || opts->fetch == NULL || first == NULL ||
        first->expires_ms < 0 || first->cred.access_key_id == NULL)
        return orch_diag_set(diag, ORCH_EINVAL,
                             "credlive: no fetch, or a set that never "
                             "expires");
    l = calloc(1, sizeof(*l));
    if (l == NULL || (l->label = strdup(opts->label ? opts->label
                                                    : "credentials")) ==
                         NULL) {
        free(l);
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    }
    l->fetch = opts->fetch;
    l->fetch_ud = opts->fetch_ud;
    l->fetch_ud_free = opts->fetch_ud_free;
    l->now = opts->now;
    l->now_ud = opts->now_ud;
    l->rng = (uint64_t)orch_wall_ms() * 0x9E3779B97F4A7C15ULL ^
             (uintptr_t)l;
    if (l->rng == 0)
        l->rng = 1;
    rc = init_sync(l);
    if (rc) {
        free(l->label);
        free(l);
        return orch_diag_set(diag, rc, "credlive: cannot create a mutex");
    }
    l->cur = *first;
    memset(first, 0, sizeof(*first));
    if (l->cur.fetched_ms <= 0)
        l->cur.fetched_ms = clock_now(l);
    l->due_ms = orch_credlive_refresh_due_ms(l->cur.fetched_ms,
                                             l->cur.expires_ms);
    if (pthread_create(&l->thread, NULL, refresher, l) != 0) {
        /* Give the set back: the caller still owns what it passed. */
        *first = l->cur;
        pthread_cond_destroy(&l->cv);
        pthread_mutex_destroy(&l->mu);
        free(l->label);
        free(l);
        return orch_diag_set(diag, ORCH_ENOMEM,
                             "credlive: cannot start the refresh thread");
    }
    *out = l;
    return 0;
}

void orch_credlive_free(struct orch_credlive *l)
{
    if (l == NULL)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    set_wipe(&l->cur);
    if (l->fetch_ud_free != NULL)
        l->fetch_ud_free(l->fetch_ud);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l->label);
    free(l);
}

int orch_credlive_acquire(struct orch_credlive *l, int64_t now_ms,
                          struct orch_credentials *view,
                          struct orch_diag *diag)
{
    pthread_mutex_lock(&l->mu);
    /* A clock that jumped past the refresh time: do not wait a slice. */
    if (now_ms >= l->due_ms)
        pthread_cond_signal(&l->cv);
    if (!orch_credlive_usable(l->cur.fetched_ms, l->cur.expires_ms, now_ms)) {
        pthread_mutex_unlock(&l->mu);
        return orch_diag_set(diag, ORCH_ECRED,
                             "the credentials from %s are within their "
                             "safety margin and could not be refreshed",
                             l->label);
    }
    memset(view, 0, sizeof(*view));
    view->access_key_id = l->cur.cred.access_key_id;
    view->secret = l->cur.cred.secret;
    view->token = l->cur.cred.token;
    view->source = l->cur.cred.source;
    return 0;
}

void orch_credlive_release(struct orch_credlive *l)
{
    pthread_mutex_unlock(&l->mu);
}

void orch_credlive_reject(struct orch_credlive *l, const char *key_id)
{
    pthread_mutex_lock(&l->mu);
    if (!l->rejected &&
        (key_id == NULL || (l->cur.cred.access_key_id != NULL &&
                            strcmp(key_id, l->cur.cred.access_key_id) == 0))) {
        l->rejected = true;
        l->due_ms = clock_now(l);
        pthread_cond_signal(&l->cv);
    }
    pthread_mutex_unlock(&l->mu);
}

unsigned long orch_credlive_refreshes(struct orch_credlive *l)
{
    unsigned long n = 0;

    pthread_mutex_lock(&l->mu);
    n = l->refreshes;
    pthread_mutex_unlock(&l->mu);
    return n;
}

int64_t orch_credlive_due_ms(struct orch_credlive *l, unsigned *failures)
{
    int64_t due = 0;

    pthread_mutex_lock(&l->mu);
    due = l->due_ms;
    if (failures != NULL)
        *failures = l->failures;
    pthread_mutex_unlock(&l->mu);
    return due;
}

void orch_credlive_explain(struct orch_credlive *l, int64_t now_ms,
                           char *out, size_t cap)
{
    int64_t left = 0;

    pthread_mutex_lock(&l->mu);
    left = l->cur.expires_ms - now_ms;
    snprintf(out, cap,
             "the credentials from %s %s %lld s%s, within their safety "
             "margin, and could not be refreshed (%s); nothing is signed "
             "with them",
             l->label, left > 0 ? "expire in" : "expired",
             (long long)((left > 0 ? left : -left) / 1000),
             left > 0 ? "" : " ago",
             l->last_error[0] ? l->last_error : "no fresh set yet");
    pthread_mutex_unlock(&l->mu);
}
