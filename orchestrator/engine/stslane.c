/* stslane.c - thread-safe pacing lanes for the credentials' STS calls
 * (stslane.h states the contract).
 *
 * DESIGN: one mutex guards the whole object: the list of lanes (key
 * digest, action, limiter) and the list of shared-state handles (one per
 * key digest). A take holds it for one limiter decision (and the state
 * file's flock, quotashare.h), never while sleeping, so two threads
 * asking at once get their starts one after the other, each decided on
 * the starts the other recorded. Keys are kept as their SHA-256 only.
 */
#include "orch/engine/stslane.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "orch/base/clock.h"
#include "orch/base/err.h"
#include "orch/engine/engine_opts.h"
#include "orch/engine/pacer.h"
#include "orch/engine/quotashare.h"
#include "orch/engine/ratelimit.h"

#define ACTION_LEN 64
#define NAP_MS 100

struct sts_lane {
    struct sts_lane *next;
    struct orch_quotashare_ref *share; /* NULL: no key */
    char action[ACTION_LEN];
    struct orch_ratelimit rl;
};

struct orch_stslane {
    pthread_mutex_t mu;
    struct orch_engine_opts margins; /* quota_dir points at dir */
    char *dir;
    double qps;
    struct sts_lane *lanes;
    struct orch_quotashare_ref *shares;
};

int orch_stslane_new(struct orch_stslane **out,
                     const struct orch_engine_opts *o, double qps)
{
    struct orch_stslane *s = NULL;

    *out = NULL;
    if (!(qps > 0) || qps > 1e6)
        return ORCH_EINVAL;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return ORCH_ENOMEM;
    if (o->quota_dir != NULL && (s->dir = strdup(o->quota_dir)) == NULL) {
        free(s);
        return ORCH_ENOMEM;
    }
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s->dir);
        free(s);
        return ORCH_ENOMEM;
    }
    s->margins = *o;
    s->margins.quota_key = NULL;
    s->margins.quota_dir = s->dir;
    s->margins.endpoint = NULL;
    s->margins.ca_bundle = NULL;
    s->qps = qps;
    *out = s;
    return 0;
}

void orch_stslane_free(struct orch_stslane *s)
{
    if (s == NULL)
        return;
    while (s->lanes != NULL) {
        struct sts_lane *l = s->lanes;

        s->lanes = l->next;
        orch_ratelimit_cleanup(&l->rl);
        free(l);
    }
    orch_quotashare_refs_free(&s->shares);
    pthread_mutex_destroy(&s->mu);
    free(s->dir);
    free(s);
}

/* The handle for key (opened on first use; s NULL when it cannot be:
 * this process then paces alone), NULL without a key or out of memory.
 * Locked. */
static struct orch_quotashare_ref *share_for(struct orch_stslane *s,
                                             const char *key)
{
    return orch_quotashare_ref(&s->shares, s->dir, key);
}

/* The lane of (key, action), made on first use; NULL when it cannot be.
 * Locked. */
static struct sts_lane *lane_for(struct orch_stslane *s, const char *key,
                                 const char *action, bool create)
{
    struct orch_quotashare_ref *share = share_for(s, key);
    struct sts_lane *l = NULL;

    if (strlen(action) >= ACTION_LEN)
        return NULL;
    for (l = s->lanes; l != NULL; l = l->next) {
        if (l->share == share && strcmp(l->action, action) == 0)
            return l;
    }
    if (!create || (l = calloc(1, sizeof(*l))) == NULL)
        return NULL;
    if (orch_pacer_limiter_init(&l->rl, &s->margins, s->qps,
                                orch_mono_ms()) != 0) {
        free(l);
        return NULL;
    }
    l->share = share;
    snprintf(l->action, sizeof(l->action), "%s", action);
    l->next = s->lanes;
    s->lanes = l;
    return l;
}

/* Whether the lane's state is in the shared file (pacer.c's rule). */
static bool lane_shared(const struct sts_lane *l)
{
    return l->share != NULL && l->share->s != NULL &&
           l->rl.cap <= ORCH_QUOTASHARE_SLOTS;
}

uint64_t orch_stslane_take(struct orch_stslane *s, const char *key,
                           const char *action, uint64_t now_ms)
{
    struct sts_lane *l = NULL;
    uint64_t wait = UINT64_MAX;

    pthread_mutex_lock(&s->mu);
    l = lane_for(s, key, action, true);
    if (l != NULL && lane_shared(l))
        wait = orch_quotashare_take(l->share->s, l->action, &l->rl, now_ms);
    else if (l != NULL)
        wait = orch_ratelimit_take(&l->rl, now_ms);
    pthread_mutex_unlock(&s->mu);
    return wait;
}

int orch_stslane_wait(struct orch_stslane *s, const char *key,
                      const char *action, volatile sig_atomic_t *stop,
                      uint64_t *start_ms)
{
    uint64_t now = orch_mono_ms();
    uint64_t wait = 0;

    while ((wait = orch_stslane_take(s, key, action, now)) > 0) {
        struct timespec ts = {0, 0};

        if (wait == UINT64_MAX)
            return ORCH_ENOMEM;
        if (stop != NULL && *stop)
            return ORCH_EABORT;
        if (wait > NAP_MS)
            wait = NAP_MS;
        ts.tv_nsec = (long)wait * 1000000L;
        nanosleep(&ts, NULL);
        now = orch_mono_ms();
    }
    if (start_ms != NULL)
        *start_ms = now;
    return 0;
}

void orch_stslane_throttled(struct orch_stslane *s, const char *key,
                            const char *action, uint64_t now_ms,
                            uint64_t sent_ms)
{
    struct sts_lane *l = NULL;

    if (sent_ms > now_ms)
        sent_ms = now_ms;
    pthread_mutex_lock(&s->mu);
    l = lane_for(s, key, action, true);
    if (l != NULL && lane_shared(l))
        orch_quotashare_throttled(l->share->s, l->action, &l->rl, now_ms,
                                  sent_ms);
    else if (l != NULL)
        orch_ratelimit_throttled_at(&l->rl, now_ms, sent_ms);
    pthread_mutex_unlock(&s->mu);
}

double orch_stslane_rate(struct orch_stslane *s, const char *key,
                         const char *action)
{
    struct sts_lane *l = NULL;
    double rate = 0;

    pthread_mutex_lock(&s->mu);
    l = lane_for(s, key, action, false);
    if (l != NULL)
        rate = l->rl.rate;
    pthread_mutex_unlock(&s->mu);
    return rate;
}
