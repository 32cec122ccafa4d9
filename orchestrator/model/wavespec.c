/* wavespec.c - the --waves spec and the gate thresholds' shares
 * (wavespec.h). Pure.
 */
#include "orch/model/wavespec.h"

#include "orch/base/err.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A decimal number: digits with at most one '.', nothing else. */
static bool parse_decimal(const char *s, size_t n, double *out, bool *dot)
{
    char buf[32];
    size_t i = 0, digits = 0, dots = 0;
    char *end = NULL;

    if (n == 0 || n >= sizeof(buf))
        return false;
    for (i = 0; i < n; i++) {
        if (isdigit((unsigned char)s[i]))
            digits++;
        else if (s[i] == '.')
            dots++;
        else
            return false;
    }
    if (digits == 0 || dots > 1)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    *out = strtod(buf, &end);
    *dot = dots > 0;
    return errno == 0 && end == buf + n && isfinite(*out);
}

int orch_share_parse(const char *opt, const char *s, double *out,
                     struct orch_diag *diag)
{
    size_t n = strlen(s);
    bool pct = n > 0 && s[n - 1] == '%';
    bool dot = false;
    double v = 0;

    if (!parse_decimal(s, pct ? n - 1 : n, &v, &dot))
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "%s: \"%s\" is not a share such as 95%% or "
                             "0.95",
                             opt, s);
    if (pct)
        v /= 100.0;
    else if (v > 1.0)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "%s: %s is above 1; write a percentage with "
                             "%% (e.g. %s%%)",
                             opt, s, s);
    if (!(v > 0.0) || v > 1.0)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "%s: %s is not more than 0%% and at most 100%%",
                             opt, s);
    *out = v;
    return 0;
}

/* Element [s, s+n) trimmed of spaces. */
static void trim(const char **s, size_t *n)
{
    while (*n > 0 && isspace((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

static bool spec_has_fraction(const char *spec)
{
    const char *p = spec;

    /* A '.' in an element without '%' marks fractions ("0.01,0.1,1"). */
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);

        if (memchr(p, '.', n) && !memchr(p, '%', n))
            return true;
        p += n;
        if (*p == ',')
            p++;
    }
    return false;
}

static int parse_element(const char *s, size_t n, bool fractions,
                         struct orch_wave_target *t, struct orch_diag *diag)
{
    bool dot = false;
    double v = 0;

    snprintf(t->text, sizeof(t->text), "%.*s", (int)n, s);
    if (n == 3 && strncasecmp(s, "all", 3) == 0) {
        t->unit = ORCH_WAVE_ALL;
        return 0;
    }
    if (n > 0 && s[n - 1] == '%') {
        if (!parse_decimal(s, n - 1, &v, &dot) || !(v > 0) || v > 100)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--waves: \"%s\" is not a percentage more "
                                 "than 0%% and at most 100%%",
                                 t->text);
        t->unit = v >= 100 ? ORCH_WAVE_ALL : ORCH_WAVE_SHARE;
        t->share = v / 100.0;
        return 0;
    }
    if (!parse_decimal(s, n, &v, &dot))
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--waves: \"%s\" is not a share (10%%, 0.1), "
                             "a device count (200) or \"all\"",
                             t->text);
    if (fractions) {
        if (!(v > 0) || v > 1)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--waves: %s is not a share more than 0 "
                                 "and at most 1 (this spec writes shares as "
                                 "fractions; write device counts in a spec "
                                 "of their own, or shares as 10%%)",
                                 t->text);
        t->unit = v >= 1 ? ORCH_WAVE_ALL : ORCH_WAVE_SHARE;
        t->share = v;
        return 0;
    }
    if (v < 1 || v > 1e12)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--waves: %s is not a device count of at least "
                             "1",
                             t->text);
    t->unit = ORCH_WAVE_DEVICES;
    t->devices = (uint64_t)v;
    return 0;
}

int orch_waves_parse(const char *spec, struct orch_wave_spec *out,
                     struct orch_diag *diag)
{
    bool fractions = spec_has_fraction(spec);
    const char *p = spec;
    double last_share = 0;
    uint64_t last_devices = 0;
    size_t i = 0;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    for (;;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        const char *s = p;
        struct orch_wave_target *t = NULL;

        trim(&s, &n);
        if (n == 0)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--waves: \"%s\" has an empty wave (e.g. "
                                 "1%%,10%%,100%% or 200,5000,all)",
                                 spec);
        if (out->n == ORCH_WAVES_MAX)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--waves: more than %d waves", ORCH_WAVES_MAX);
        t = &out->t[out->n];
        rc = parse_element(s, n, fractions, t, diag);
        if (rc)
            return rc;
        if (out->n > 0 && out->t[out->n - 1].unit == ORCH_WAVE_ALL)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--waves: \"%s\" follows %s, which is "
                                 "already the whole rollout",
                                 t->text, out->t[out->n - 1].text);
        /* Targets are cumulative: each larger than the last of its kind
         * (counts against shares are compared once the plan is known). */
        if (t->unit == ORCH_WAVE_SHARE && t->share <= last_share)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--waves: %s is not more than an earlier "
                                 "wave (sizes are cumulative: 1%%,10%%,100%%)",
                                 t->text);
        if (t->unit == ORCH_WAVE_DEVICES && t->devices <= last_devices)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--waves: %s is not more than an earlier "
                                 "wave (sizes are cumulative: 200,5000,all)",
                                 t->text);
        if (t->unit == ORCH_WAVE_SHARE)
            last_share = t->share;
        if (t->unit == ORCH_WAVE_DEVICES)
            last_devices = t->devices;
        out->n++;
        if (e == NULL)
            break;
        p = e + 1;
    }
    /* The last wave must reach every device: a rollout that stops at 10%
     * would leave the rest of the inventory silently undone. */
    i = out->n - 1;
    if (out->t[i].unit == ORCH_WAVE_SHARE)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--waves: the last wave is %s; it must be the "
                             "whole rollout (100%%, 1 or all). To upgrade "
                             "fewer devices, give a smaller inventory",
                             out->t[i].text);
    return 0;
}

int orch_wave_target_devices(const struct orch_wave_target *t, uint64_t total,
                             uint64_t prev, uint64_t *out,
                             struct orch_diag *diag)
{
    uint64_t target = total;

    if (t->unit == ORCH_WAVE_SHARE)
        target = (uint64_t)ceil((double)total * t->share - 1e-9);
    else if (t->unit == ORCH_WAVE_DEVICES)
        target = t->devices < total ? t->devices : total;
    if (target == 0)
        target = 1;
    if (target < prev)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--waves: %s is %llu devices, fewer than the "
                             "wave before it (%llu): sizes are cumulative",
                             t->text, (unsigned long long)target,
                             (unsigned long long)prev);
    *out = target;
    return 0;
}
