/* tzwindow.c - daily maintenance windows in a time zone (tzwindow.h). */
#include "orch/model/tzwindow.h"

#include "orch/base/err.h"
#include "orch/model/tzdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_S 86400
#define DAY_MIN 1440

/* "HH:MM" at s into minutes of the day; returns the end, or NULL. */
static const char *parse_clock(const char *s, int *minutes)
{
    int h = 0, m = 0;

    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] != ':' ||
        s[3] < '0' || s[3] > '9' || s[4] < '0' || s[4] > '9')
        return NULL;
    h = (s[0] - '0') * 10 + (s[1] - '0');
    m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 23 || m > 59)
        return NULL;
    *minutes = h * 60 + m;
    return s + 5;
}

int orch_window_parse(const char *s, struct orch_window *w,
                      struct orch_diag *diag)
{
    const char *p = s;
    char text[16];

    memset(w, 0, sizeof(*w));
    p = parse_clock(p, &w->start_min);
    if (p && *p == '-')
        p = parse_clock(p + 1, &w->end_min);
    else
        p = NULL;
    if (p == NULL || *p != '\0')
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--window: \"%s\" is not a window such as "
                             "02:00-05:00 (HH:MM-HH:MM, local time; an end "
                             "before the start is on the next day)",
                             s);
    orch_window_format(w, text, sizeof(text));
    if (w->end_min == w->start_min)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--window: %s starts and ends at the same time",
                             text);
    if (orch_window_minutes(w) < 60)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--window: %s is %d minutes; the API wants "
                             "ScheduleFinishTime at least 1 hour after "
                             "ScheduleTime",
                             text, orch_window_minutes(w));
    return 0;
}

int orch_window_minutes(const struct orch_window *w)
{
    return ((w->end_min - w->start_min) % DAY_MIN + DAY_MIN) % DAY_MIN;
}

void orch_window_format(const struct orch_window *w, char *out, size_t outsz)
{
    unsigned s = (unsigned)w->start_min % DAY_MIN;
    unsigned e = (unsigned)w->end_min % DAY_MIN;

    snprintf(out, outsz, "%02u:%02u-%02u:%02u", s / 60, s % 60, e / 60,
             e % 60);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

void orch_window_next(const struct orch_tz *tz, const struct orch_window *w,
                      int64_t after_ms, int64_t *start_ms, int64_t *end_ms)
{
    int64_t earliest = after_ms + ORCH_WINDOW_LEAD_MS;
    int64_t day = floor_div(orch_tz_local(tz, floor_div(earliest, 1000)),
                            DAY_S);
    int64_t s = 0, e = 0;
    int next_day = w->end_min <= w->start_min;

    /* The window of the day before may still be ahead when a jump
     * moved its start; the one two days on always is. */
    for (day = day - 1;; day++) {
        s = orch_tz_resolve(tz, day * DAY_S + (int64_t)w->start_min * 60);
        if (s * 1000 >= earliest)
            break;
    }
    e = orch_tz_resolve(tz, (day + next_day) * DAY_S +
                                (int64_t)w->end_min * 60);
    if ((e - s) * 1000 < ORCH_WINDOW_MIN_MS)
        e = s + ORCH_WINDOW_MIN_MS / 1000;
    *start_ms = s * 1000;
    *end_ms = e * 1000;
}

void orch_window_format_local(const struct orch_tz *tz, int64_t ms, char *out,
                              size_t outsz)
{
    int64_t t = floor_div(ms, 1000);
    int32_t off = orch_tz_offset(tz, t);
    int64_t local = t + off, y = 0;
    int64_t sod = local - floor_div(local, DAY_S) * DAY_S;
    unsigned m = 0, d = 0;
    int32_t aoff = off < 0 ? -off : off;

    orch_tz_civil_from_days(floor_div(local, DAY_S), &y, &m, &d);
    snprintf(out, outsz, "%04lld-%02u-%02u %02d:%02d %c%02d:%02d",
             (long long)y, m, d, (int)(sod / 3600), (int)(sod / 60 % 60),
             off < 0 ? '-' : '+', (int)(aoff / 3600), (int)(aoff / 60 % 60));
}
