/* emu_rate.c - sliding arrival windows and per-key quotas. */
#include "server/emu_rate.h"

#include "orch/base/err.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One quota: an AccessKey and an action. At most `n` accepted arrivals
 * in any `span_ms` (n = 20, span 1000 ms for 20/s; a fractional rate r is
 * ceil(r) per ceil(1000 ceil(r) / r) ms, as orch_ratelimit counts it).
 * The accepted arrival times are kept sorted in t[lo, hi): requests are
 * decided in the order their threads get there, which is not quite the
 * order they arrived in. */
struct emu_quota {
    struct emu_quota *next;
    char key_id[128];
    char action[128];
    unsigned n;
    int64_t span_ms;
    int64_t *t;
    size_t lo, hi, cap;
};

/* ---- sliding windows ---- */

/* Adds t (kept sorted: arrivals recorded by different threads may be a
 * millisecond out of order) and drops what is 1000 ms older than the
 * newest. Updates max. */
void emu_window_add(struct emu_window *w, int64_t t)
{
    size_t i = 0;

    if (w->count == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 64;
        int64_t *nt = malloc(ncap * sizeof(*nt));

        if (nt == NULL)
            return; /* the stats lose one arrival; the server goes on */
        for (i = 0; i < w->count; i++)
            nt[i] = w->t[(w->head + i) % w->cap];
        free(w->t);
        w->t = nt;
        w->cap = ncap;
        w->head = 0;
    }
    /* Insert from the back. */
    i = w->count;
    while (i > 0 && w->t[(w->head + i - 1) % w->cap] > t) {
        w->t[(w->head + i) % w->cap] = w->t[(w->head + i - 1) % w->cap];
        i--;
    }
    w->t[(w->head + i) % w->cap] = t;
    w->count++;
    {
        int64_t newest = w->t[(w->head + w->count - 1) % w->cap];

        while (w->count > 0 && w->t[w->head] <= newest - 1000) {
            w->head = (w->head + 1) % w->cap;
            w->count--;
        }
    }
    if (w->count > w->max)
        w->max = w->count;
}

void emu_window_cleanup(struct emu_window *w)
{
    free(w->t);
    memset(w, 0, sizeof(*w));
}

/* ---- quotas ---- */

/* Accepted arrivals older than this before the newest are forgotten: a
 * request is decided at most this late after it arrived (it is decided
 * before its latency is added; a slow upload or a busy thread delays it
 * by milliseconds). */
#define QUOTA_KEEP_MS 10000

static void quota_params(struct emu_quota *q, double per_sec)
{
    double nd = ceil(per_sec - 1e-9);

    if (nd < 1)
        nd = 1;
    q->n = (unsigned)nd;
    q->span_ms = (int64_t)ceil(1000.0 * nd / per_sec - 1e-6);
    if (q->span_ms < 1000)
        q->span_ms = 1000;
}

/* First index in [q->lo, q->hi) whose time is >= t. */
static size_t quota_lower(const struct emu_quota *q, int64_t t)
{
    size_t a = q->lo, b = q->hi;

    while (a < b) {
        size_t m = a + (b - a) / 2;

        if (q->t[m] < t)
            a = m + 1;
        else
            b = m;
    }
    return a;
}

/* Whether one more arrival at t0 keeps every span_ms window at or below n
 * accepted arrivals, whatever order arrivals were decided in. A window
 * holding t0 can be moved right to start at its first element (an
 * accepted arrival <= t0, or t0 itself) without losing any: so only those
 * starts need counting. */
static bool quota_fits(const struct emu_quota *q, int64_t t0)
{
    size_t first = quota_lower(q, t0 - q->span_ms + 1);
    size_t end = quota_lower(q, t0 + q->span_ms);
    size_t at = quota_lower(q, t0);
    size_t i = 0, j = first, most = 0;

    if (end - first < q->n)
        return true; /* the common case: fewer in 2 spans than 1 allows */
    for (i = first; i < at; i++) {
        while (j < end && q->t[j] < q->t[i] + q->span_ms)
            j++;
        if (j - i > most)
            most = j - i;
    }
    if (end - at > most) /* the window starting at t0 */
        most = end - at;
    return most + 1 <= q->n;
}

/* Records an accepted arrival (sorted insert from the back) and forgets
 * those QUOTA_KEEP_MS older than the newest. Returns 0 or ORCH_ENOMEM. */
static int quota_add(struct emu_quota *q, int64_t t0)
{
    size_t i = 0;

    if (q->lo > 0 && q->hi == q->cap) {
        memmove(q->t, q->t + q->lo, (q->hi - q->lo) * sizeof(*q->t));
        q->hi -= q->lo;
        q->lo = 0;
    }
    if (q->hi == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 64;
        int64_t *nt = realloc(q->t, ncap * sizeof(*nt));

        if (nt == NULL)
            return ORCH_ENOMEM;
        q->t = nt;
        q->cap = ncap;
    }
    i = q->hi;
    while (i > q->lo && q->t[i - 1] > t0) {
        q->t[i] = q->t[i - 1];
        i--;
    }
    q->t[i] = t0;
    q->hi++;
    while (q->lo < q->hi && q->t[q->lo] < q->t[q->hi - 1] - QUOTA_KEEP_MS)
        q->lo++;
    return 0;
}

int emu_quotas_take(struct emu_quotas *qs, const char *key_id,
                    const char *action, double per_sec, int64_t t)
{
    struct emu_quota *q = NULL;

    if (per_sec <= 0)
        return 0;
    for (q = qs->list; q; q = q->next)
        if (strcmp(q->key_id, key_id) == 0 && strcmp(q->action, action) == 0)
            break;
    if (q == NULL) {
        q = calloc(1, sizeof(*q));
        if (q == NULL)
            return ORCH_ENOMEM;
        quota_params(q, per_sec);
        snprintf(q->key_id, sizeof(q->key_id), "%s", key_id);
        snprintf(q->action, sizeof(q->action), "%s", action);
        q->next = qs->list;
        qs->list = q;
    }
    if (!quota_fits(q, t))
        return 1;
    return quota_add(q, t);
}

void emu_quotas_cleanup(struct emu_quotas *qs)
{
    struct emu_quota *q = NULL;

    while ((q = qs->list) != NULL) {
        qs->list = q->next;
        free(q->t);
        free(q);
    }
}
