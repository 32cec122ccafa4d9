/* pacer.c - the process's pacing lanes (pacer.h states the contract).
 *
 * DESIGN: a list of lanes, each an orch_ratelimit configured from the
 * engine options, and a list of shared-state handles, one per (quota key,
 * directory), opened on first use. A shared lane's limiter is only the
 * working copy of the state in the file (quotashare.h); an unshared one
 * is the state itself. Both are kept for the process, so the next batch
 * of an action continues where the last one left off. Keys are compared
 * by their SHA-256: the registry keeps no key.
 */
#include "orch/engine/pacer.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "orch/base/clock.h"
#include "orch/base/err.h"
#include "orch/engine/engine_opts.h"
#include "orch/engine/quotashare.h"
#include "orch/engine/ratelimit.h"

#define ACTION_LEN 64
#define NAP_MS 100

struct orch_pace_lane {
    struct orch_pace_lane *next;
    struct orch_quotashare_ref *share; /* NULL: no key */
    char action[ACTION_LEN];
    double qps;
    int pace_margin_ms, window_margin_ms;
    struct orch_ratelimit rl;
};

static struct {
    struct orch_pace_lane *lanes;
    struct orch_quotashare_ref *shares;
} reg;

/* ---- shared state handles --------------------------------------------- */

/* The handle for o's key (opened on first use; an entry with s NULL and a
 * note when it cannot be), NULL without a key or out of memory. */
static struct orch_quotashare_ref *share_for(const struct orch_engine_opts *o)
{
    return orch_quotashare_ref(&reg.shares, o->quota_dir, o->quota_key);
}

/* ---- lanes ------------------------------------------------------------ */

/* The window margin of a lane at qps: o's, and at least a tenth of the
 * lane's gap (ORCH_PACER_GAP_MARGIN_DIV): 5 ms at 20/s as before, 10 ms
 * at 10/s, 20 ms at 5/s. */
static double lane_window_margin_ms(const struct orch_engine_opts *o,
                                    double qps)
{
    double by_gap = 1000.0 / qps / ORCH_PACER_GAP_MARGIN_DIV;

    return by_gap > o->window_margin_ms ? by_gap : o->window_margin_ms;
}

/* The limiter of a lane at qps under o's margins; the recent starts of
 * `from` (may be NULL) carried over. */
static int limiter_init(struct orch_ratelimit *rl,
                        const struct orch_engine_opts *o, double qps,
                        const struct orch_ratelimit *from, uint64_t now)
{
    double window = lane_window_margin_ms(o, qps);
    double pace = o->pace_margin_ms > window ? o->pace_margin_ms : window;
    int rc = orch_ratelimit_init(rl, qps * 1000.0 / (1000.0 + window), now);

    if (rc)
        return rc;
    rl->even_spacing = true;
    rl->spacing_slack_ms = pace - window;
    rl->catchup_ms = ORCH_PACER_CATCHUP_MS;
    if (from != NULL) {
        unsigned k = from->count < rl->cap ? from->count : rl->cap;

        for (unsigned i = 0; i < k; i++)
            rl->ring[i] =
                from->ring[(from->head + from->cap - k + i) % from->cap];
        rl->count = k;
        rl->head = k % rl->cap;
        rl->next_ms = from->next_ms;
    }
    return 0;
}

int orch_pacer_limiter_init(struct orch_ratelimit *rl,
                            const struct orch_engine_opts *o, double qps,
                            uint64_t now_ms)
{
    return limiter_init(rl, o, qps, NULL, now_ms);
}

/* Whether the lane's state is in the shared file. */
static bool lane_shared(const struct orch_pace_lane *l)
{
    return l->share != NULL && l->share->s != NULL &&
           l->rl.cap <= ORCH_QUOTASHARE_SLOTS;
}

static struct orch_pace_lane *find_lane(const struct orch_quotashare_ref *share,
                                        const char *action)
{
    for (struct orch_pace_lane *l = reg.lanes; l != NULL; l = l->next) {
        if (l->share == share && strcmp(l->action, action) == 0)
            return l;
    }
    return NULL;
}

/* Sets an existing lane to a new rate or margins, keeping its starts. */
static int reconfigure(struct orch_pace_lane *l,
                       const struct orch_engine_opts *o, double qps)
{
    struct orch_ratelimit rl;
    int rc = limiter_init(&rl, o, qps, &l->rl, orch_mono_ms());

    if (rc)
        return rc;
    orch_ratelimit_cleanup(&l->rl);
    l->rl = rl;
    l->qps = qps;
    l->pace_margin_ms = o->pace_margin_ms;
    l->window_margin_ms = o->window_margin_ms;
    return 0;
}

int orch_pacer_lane(const struct orch_engine_opts *o, const char *action,
                    double qps, struct orch_pace_lane **out)
{
    struct orch_quotashare_ref *share = share_for(o);
    struct orch_pace_lane *l = NULL;
    int rc = 0;

    *out = NULL;
    if (!(qps > 0) || strlen(action) >= ACTION_LEN)
        return ORCH_EINVAL;
    l = find_lane(share, action);
    if (l != NULL) {
        if (l->qps != qps || l->pace_margin_ms != o->pace_margin_ms ||
            l->window_margin_ms != o->window_margin_ms)
            rc = reconfigure(l, o, qps);
        if (rc == 0)
            *out = l;
        return rc;
    }
    l = calloc(1, sizeof(*l));
    if (l == NULL)
        return ORCH_ENOMEM;
    rc = limiter_init(&l->rl, o, qps, NULL, orch_mono_ms());
    if (rc) {
        free(l);
        return rc;
    }
    l->share = share;
    snprintf(l->action, sizeof(l->action), "%s", action);
    l->qps = qps;
    l->pace_margin_ms = o->pace_margin_ms;
    l->window_margin_ms = o->window_margin_ms;
    l->next = reg.lanes;
    reg.lanes = l;
    *out = l;
    return 0;
}

uint64_t orch_pace_take(struct orch_pace_lane *l, uint64_t now_ms)
{
    if (lane_shared(l))
        return orch_quotashare_take(l->share->s, l->action, &l->rl, now_ms);
    return orch_ratelimit_take(&l->rl, now_ms);
}

void orch_pace_throttled(struct orch_pace_lane *l, uint64_t now_ms,
                         uint64_t sent_ms)
{
    if (sent_ms > now_ms)
        sent_ms = now_ms;
    if (lane_shared(l))
        orch_quotashare_throttled(l->share->s, l->action, &l->rl, now_ms,
                                  sent_ms);
    else
        orch_ratelimit_throttled_at(&l->rl, now_ms, sent_ms);
}

void orch_pace_retime(struct orch_pace_lane *l, size_t k, uint64_t t)
{
    if (k == 0)
        return;
    if (lane_shared(l))
        orch_quotashare_retime(l->share->s, l->action, k, t);
    else
        orch_ratelimit_retime(&l->rl, k, t);
}

double orch_pace_rate(const struct orch_pace_lane *l)
{
    return l->rl.rate;
}

/* ---- calls outside the dispatcher ------------------------------------- */

int orch_pacer_wait(const struct orch_engine_opts *o, const char *action,
                    double qps, volatile sig_atomic_t *interrupt)
{
    struct orch_pace_lane *l = NULL;
    int rc = orch_pacer_lane(o, action, qps, &l);
    uint64_t wait = 0;

    if (rc)
        return rc;
    while ((wait = orch_pace_take(l, orch_mono_ms())) > 0) {
        struct timespec ts = {0, 0};

        if (interrupt != NULL && *interrupt)
            return ORCH_EABORT;
        if (wait > NAP_MS)
            wait = NAP_MS;
        ts.tv_nsec = (long)wait * 1000000L;
        nanosleep(&ts, NULL);
    }
    return 0;
}

void orch_pacer_throttled(const struct orch_engine_opts *o,
                          const char *action, double qps)
{
    struct orch_pace_lane *l = NULL;

    if (orch_pacer_lane(o, action, qps, &l) == 0)
        orch_pace_throttled(l, orch_mono_ms(), orch_mono_ms());
}

const char *orch_pacer_share_note(const struct orch_engine_opts *o)
{
    const struct orch_quotashare_ref *e = share_for(o);

    return e != NULL ? e->note : "";
}

void orch_pacer_reset(void)
{
    while (reg.lanes != NULL) {
        struct orch_pace_lane *l = reg.lanes;

        reg.lanes = l->next;
        orch_ratelimit_cleanup(&l->rl);
        free(l);
    }
    orch_quotashare_refs_free(&reg.shares);
}
