/* emu_faults.c - seeded fault plans for ota-emulator.
 *
 * DESIGN: no shared generator. Each request's draws come from splitmix64
 * seeded with (seed, seq), so plans do not depend on which thread asked
 * first, only on the request's arrival number; random throttling bursts
 * are drawn per time slot from (seed, slot) the same way.
 */
#include "server/emu_faults.h"

#include "world/emu_hash.h"

#include "orch/base/err.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>


void emu_fault_opts_init(struct emu_fault_opts *o)
{
    memset(o, 0, sizeof(*o));
}

const char *emu_fault_name(enum emu_fault_kind k)
{
    switch (k) {
    case EMU_FAULT_5XX:
        return "5xx";
    case EMU_FAULT_RESET:
        return "reset";
    case EMU_FAULT_LOSE:
        return "lose";
    case EMU_FAULT_MALFORMED:
        return "malformed";
    case EMU_FAULT_SLOW:
        return "slow";
    case EMU_FAULT_THROTTLE:
        return "throttle_burst";
    default:
        return NULL;
    }
}

static int in_burst(const struct emu_fault_opts *o, int64_t t)
{
    unsigned i = 0;

    for (i = 0; i < o->nbursts; i++)
        if (t >= o->burst_start_ms[i]
            && t < o->burst_start_ms[i] + o->burst_dur_ms[i])
            return 1;
    if (o->burst_slot_ms > 0 && o->p_burst_slot > 0 && t >= 0) {
        uint64_t x = o->seed ^ 0xB0B5EEDULL;
        uint64_t slot = (uint64_t)t / o->burst_slot_ms;

        x ^= slot * 0xD1B54A32D192ED03ULL;
        return emu_next_unit(&x) < o->p_burst_slot;
    }
    return 0;
}

static unsigned draw_latency(const struct emu_fault_opts *o, double u,
                             double u2)
{
    double lo = o->lat_min_ms;
    double hi = o->lat_max_ms;
    double v = 0;
    unsigned i = 0;

    switch (o->dist) {
    case EMU_LAT_LOGNORMAL: {
        /* Box-Muller from two uniforms; median sqrt(lo*hi), with hi at
         * about the 99th percentile (z = 2.326). */
        double l = lo < 1 ? 1 : lo;
        double med = sqrt(l * (hi < l ? l : hi));
        double sigma = hi > med ? log(hi / med) / 2.326 : 0;
        double z = sqrt(-2.0 * log(1.0 - u)) * cos(2 * M_PI * u2);

        v = med * exp(sigma * z);
        if (v < lo)
            v = lo;
        if (v > hi)
            v = hi;
        return (unsigned)v;
    }
    case EMU_LAT_MIX: {
        /* The table is self-contained: 0 ms at percentile 0, whatever
         * --latency-ms said (its minimum used to be the starting point,
         * so "--latency-ms 300 --latency-dist mix:100=10" drew 10..300). */
        double pct = u * 100.0;
        double p0 = 0, m0 = 0;

        for (i = 0; i < o->nmix; i++) {
            if (pct <= o->mix_pct[i]) {
                double span = o->mix_pct[i] - p0;
                double f = span > 0 ? (pct - p0) / span : 1;

                return (unsigned)(m0 + f * ((double)o->mix_ms[i] - m0));
            }
            p0 = o->mix_pct[i];
            m0 = o->mix_ms[i];
        }
        return (unsigned)m0;
    }
    default:
        if (hi <= lo)
            return (unsigned)lo;
        return (unsigned)(lo + u * (hi - lo + 1));
    }
}

void emu_faults_plan(const struct emu_fault_opts *o, uint64_t seq,
                     int64_t since_start_ms, struct emu_fault_plan *out)
{
    uint64_t x = o->seed * 0x9E3779B97F4A7C15ULL ^ (seq + 1);
    double pick = 0;
    double lat_u = 0, lat_u2 = 0, variant_u = 0;
    double acc = 0;

    /* Always draw the same number of values, so that changing one
     * probability does not shift the others' draws. */
    emu_splitmix64(&x);
    pick = emu_next_unit(&x);
    lat_u = emu_next_unit(&x);
    lat_u2 = emu_next_unit(&x);
    variant_u = emu_next_unit(&x);

    memset(out, 0, sizeof(*out));
    if (o->dist == EMU_LAT_MIX ? o->nmix > 0 : o->lat_max_ms > 0)
        out->latency_ms = draw_latency(o, lat_u, lat_u2);
    if (in_burst(o, since_start_ms)) {
        out->kind = EMU_FAULT_THROTTLE;
        return;
    }
    if (pick < (acc += o->p_5xx)) {
        out->kind = EMU_FAULT_5XX;
        out->status = variant_u < 0.5 ? 500 : 503;
    } else if (pick < (acc += o->p_reset)) {
        out->kind = EMU_FAULT_RESET;
    } else if (pick < (acc += o->p_lose)) {
        out->kind = EMU_FAULT_LOSE;
    } else if (pick < (acc += o->p_malformed)) {
        out->kind = EMU_FAULT_MALFORMED;
        out->variant = variant_u < 0.5 ? 0 : 1;
    } else if (pick < (acc += o->p_slow)) {
        out->kind = EMU_FAULT_SLOW;
    }
}

int emu_faults_in_scope(const struct emu_fault_opts *o, const char *action)
{
    unsigned i = 0;

    if (o->nactions == 0)
        return 1;
    for (i = 0; action && i < o->nactions; i++)
        if (strcmp(o->actions[i], action) == 0)
            return 1;
    return 0;
}

void emu_faults_plan_action(const struct emu_fault_opts *o, uint64_t seq,
                            int64_t since_start_ms, const char *action,
                            int query, struct emu_fault_plan *out)
{
    if (emu_faults_in_scope(o, action))
        emu_faults_plan(o, seq, since_start_ms, out);
    else
        memset(out, 0, sizeof(*out));
    if (query && o->p_fail_query > 0) {
        /* A draw of its own, so --fail-queries shifts no other fault. */
        uint64_t x = (o->seed ^ 0xFA11ED0ULL) * 0x9E3779B97F4A7C15ULL
                   ^ (seq + 1);

        emu_splitmix64(&x);
        if (emu_next_unit(&x) < o->p_fail_query) {
            out->kind = EMU_FAULT_5XX;
            out->status = 503;
            out->variant = 0;
        }
    }
}

int emu_faults_parse_actions(struct emu_fault_opts *o, const char *s,
                             struct orch_diag *diag)
{
    struct emu_fault_opts tmp;
    const char *p = s;

    memset(&tmp, 0, sizeof(tmp));
    if (strcmp(s, "") == 0 || strcmp(s, "all") == 0) {
        o->nactions = 0;
        return 0;
    }
    while (*p) {
        size_t n = 0;

        while ((p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= 'a' && p[n] <= 'z'))
            n++;
        if (n == 0 || n >= EMU_FAULTS_ACTION_LEN
            || tmp.nactions >= EMU_FAULTS_MAX_ACTIONS
            || (p[n] != ',' && p[n] != '\0'))
            return orch_diag_set(diag, ORCH_EINVAL,
                                 "--fault-actions: expected action names "
                                 "separated by commas (at most %d), or "
                                 "\"all\", got \"%s\"",
                                 EMU_FAULTS_MAX_ACTIONS, s);
        memcpy(tmp.actions[tmp.nactions], p, n);
        tmp.actions[tmp.nactions][n] = '\0';
        tmp.nactions++;
        p += n;
        if (*p == ',')
            p++;
    }
    memcpy(o->actions, tmp.actions, sizeof(o->actions));
    o->nactions = tmp.nactions;
    return 0;
}

static int parse_uint(const char *s, char **end, unsigned long *out)
{
    errno = 0;
    if (*s < '0' || *s > '9')
        return -1;
    *out = strtoul(s, end, 10);
    return errno ? -1 : 0;
}

int emu_faults_parse_latency(struct emu_fault_opts *o, const char *s,
                             struct orch_diag *diag)
{
    unsigned long a = 0, b = 0;
    char *end = NULL;

    if (parse_uint(s, &end, &a) != 0)
        goto bad;
    if (*end == '-') {
        if (parse_uint(end + 1, &end, &b) != 0)
            goto bad;
    } else {
        b = a;
    }
    if (*end != '\0' || b < a || b > 600000)
        goto bad;
    o->lat_min_ms = (unsigned)a;
    o->lat_max_ms = (unsigned)b;
    return 0;
bad:
    return orch_diag_set(diag, ORCH_EINVAL,
                         "--latency-ms: expected MIN-MAX milliseconds "
                         "(at most 600000), got \"%s\"",
                         s);
}

int emu_faults_parse_dist(struct emu_fault_opts *o, const char *s,
                          struct orch_diag *diag)
{
    const char *p = NULL;

    /* The last --latency-dist wins, mix table included. */
    if (strcmp(s, "uniform") == 0) {
        o->dist = EMU_LAT_UNIFORM;
        o->nmix = 0;
        return 0;
    }
    if (strcmp(s, "lognormal") == 0) {
        o->dist = EMU_LAT_LOGNORMAL;
        o->nmix = 0;
        return 0;
    }
    if (strncmp(s, "mix:", 4) != 0)
        goto bad;
    o->nmix = 0;
    for (p = s + 4; *p;) {
        char *end = NULL;
        double pct = strtod(p, &end);
        unsigned long ms = 0;

        if (end == p || *end != '=' || !(pct > 0) || pct > 100
            || o->nmix >= EMU_FAULTS_MAX_MIX
            || (o->nmix > 0 && pct <= o->mix_pct[o->nmix - 1]))
            goto bad;
        if (parse_uint(end + 1, &end, &ms) != 0 || ms > 600000)
            goto bad;
        o->mix_pct[o->nmix] = pct;
        o->mix_ms[o->nmix] = (unsigned)ms;
        o->nmix++;
        if (*end == ',')
            end++;
        else if (*end != '\0')
            goto bad;
        p = end;
    }
    if (o->nmix == 0)
        goto bad;
    o->dist = EMU_LAT_MIX;
    return 0;
bad:
    return orch_diag_set(diag, ORCH_EINVAL,
                         "--latency-dist: expected uniform, lognormal or "
                         "mix:P=MS,... with ascending percentiles, got "
                         "\"%s\"",
                         s);
}

int emu_faults_check(const struct emu_fault_opts *o, struct orch_diag *diag)
{
    if (o->dist == EMU_LAT_MIX && o->lat_max_ms > 0)
        return orch_diag_set(diag, ORCH_EINVAL,
                             "--latency-dist mix:... gives its own "
                             "milliseconds; it does not combine with "
                             "--latency-ms");
    if (o->dist == EMU_LAT_LOGNORMAL && o->lat_max_ms == 0)
        return orch_diag_set(diag, ORCH_EINVAL,
                             "--latency-dist lognormal needs --latency-ms "
                             "MIN-MAX (its median is sqrt(MIN*MAX), MAX "
                             "about its 99th percentile)");
    if (o->p_5xx + o->p_reset + o->p_lose + o->p_malformed + o->p_slow
        > 1.0 + 1e-9)
        return orch_diag_set(diag, ORCH_EINVAL,
                             "fault probabilities add up to more than 1");
    return 0;
}

int emu_faults_parse_burst(struct emu_fault_opts *o, const char *s,
                           struct orch_diag *diag)
{
    unsigned long a = 0, b = 0;
    char *end = NULL;

    if (strncmp(s, "random:", 7) == 0) {
        double p = strtod(s + 7, &end);

        if (end == s + 7 || *end != ':' || p < 0 || p > 1
            || parse_uint(end + 1, &end, &b) != 0 || *end || b == 0)
            goto bad;
        o->p_burst_slot = p;
        o->burst_slot_ms = (unsigned)b;
        return 0;
    }
    if (parse_uint(s, &end, &a) != 0 || *end != ':'
        || parse_uint(end + 1, &end, &b) != 0 || *end != '\0'
        || o->nbursts >= EMU_FAULTS_MAX_BURSTS)
        goto bad;
    o->burst_start_ms[o->nbursts] = (int64_t)a;
    o->burst_dur_ms[o->nbursts] = (int64_t)b;
    o->nbursts++;
    return 0;
bad:
    return orch_diag_set(diag, ORCH_EINVAL,
                         "--throttle-burst: expected START_MS:DUR_MS or "
                         "random:P:SLOT_MS (at most %d bursts), got \"%s\"",
                         EMU_FAULTS_MAX_BURSTS, s);
}

int emu_faults_parse_prob(double *p, const char *s, struct orch_diag *diag)
{
    char *end = NULL;
    double v = strtod(s, &end);

    if (end == s || *end != '\0' || !(v >= 0) || v > 1)
        return orch_diag_set(diag, ORCH_EINVAL,
                             "expected a probability between 0 and 1, got "
                             "\"%s\"",
                             s);
    *p = v;
    return 0;
}
