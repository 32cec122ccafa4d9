/* timeparse.c - times and durations as operators type them, and the two
 * clocks. Parsing is pure: no locale, no TZ, no libc time conversion. */
#include "orch/base/timeparse.h"

#include "orch/base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads exactly n digits at *p. */
static bool take_digits(const char **p, int n, int *out)
{
    int v = 0, i = 0;

    for (i = 0; i < n; i++) {
        if (!digit((*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int y, int m, int d)
{
    int64_t yy = y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}

static int bad_time(struct orch_diag *diag, const char *s, const char *why)
{
    return orch_diag_set(diag, ORCH_ETIME, "time \"%.64s\": %s", s, why);
}

int orch_time_parse(const char *s, int64_t *out_ms, struct orch_diag *diag)
{
    const char *p = s;
    size_t n = 0;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
    int oh = 0, om = 0, sign = 1;
    int64_t t = 0;

    if (s == NULL || *s == '\0')
        return bad_time(diag, "", "is empty");
    /* 13-digit epoch milliseconds. */
    n = strspn(s, "0123456789");
    if (n == strlen(s)) {
        if (n == 13) {
            t = 0;
            for (p = s; *p; p++)
                t = t * 10 + (*p - '0');
            *out_ms = t;
            return 0;
        }
        if (n == 10)
            return bad_time(diag, s,
                            "looks like epoch seconds; give epoch "
                            "milliseconds (13 digits) or ISO-8601 such as "
                            "2026-12-01T03:00:00Z");
        return bad_time(diag, s,
                        "is not a time; give ISO-8601 such as "
                        "2026-12-01T03:00:00Z or 13-digit epoch milliseconds");
    }
    if (!take_digits(&p, 4, &y) || *p++ != '-' || !take_digits(&p, 2, &mo) ||
        *p++ != '-' || !take_digits(&p, 2, &d))
        return bad_time(diag, s,
                        "is not a time; give ISO-8601 such as "
                        "2026-12-01T03:00:00Z or 13-digit epoch milliseconds");
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return bad_time(diag, s, "has no such date");
    if (*p == '\0')
        return bad_time(diag, s,
                        "has no time of day; give e.g. 2026-12-01T03:00:00Z");
    if (*p != 'T' && *p != 't' && *p != ' ')
        return bad_time(diag, s, "needs 'T' or a space between date and time");
    p++;
    if (!take_digits(&p, 2, &h) || *p++ != ':' || !take_digits(&p, 2, &mi))
        return bad_time(diag, s, "has a malformed time of day (want hh:mm:ss)");
    if (*p == ':') {
        p++;
        if (!take_digits(&p, 2, &sec))
            return bad_time(diag, s, "has malformed seconds");
        if (*p == '.' || *p == ',') {
            int k = 0;
            p++;
            if (!digit(*p))
                return bad_time(diag, s, "has malformed fractional seconds");
            for (k = 0; digit(*p); k++, p++) {
                if (k < 3)
                    ms = ms * 10 + (*p - '0');
                if (k >= 9)
                    return bad_time(diag, s,
                                    "has more than 9 fractional digits");
            }
            for (; k < 3; k++)
                ms *= 10;
        }
    }
    if (h > 23 || mi > 59 || sec > 59)
        return bad_time(diag, s, "has no such time of day");
    if (*p == '\0')
        return bad_time(diag, s,
                        "has no time zone, so its meaning would depend on "
                        "this machine; add Z (UTC) or an offset such as "
                        "+08:00");
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
        if (!take_digits(&p, 2, &oh))
            return bad_time(diag, s, "has a malformed offset (want +hh:mm)");
        if (*p == ':') {
            p++;
            if (!take_digits(&p, 2, &om))
                return bad_time(diag, s,
                                "has a malformed offset (want +hh:mm)");
        } else if (digit(*p)) {
            if (!take_digits(&p, 2, &om))
                return bad_time(diag, s,
                                "has a malformed offset (want +hh:mm)");
        }
        if (oh > 14 || om > 59 || (oh == 14 && om > 0))
            return bad_time(diag, s, "has an offset beyond +-14:00");
    } else {
        return bad_time(diag, s,
                        "has an unreadable time zone; use Z or an offset "
                        "such as +08:00");
    }
    if (*p != '\0')
        return bad_time(diag, s, "has trailing characters");
    t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    t -= sign * (oh * 3600 + om * 60);
    *out_ms = t * 1000 + ms;
    return 0;
}

/* The units of a duration, longest suffix first ("ms" before "m"). */
static const struct {
    const char *suffix;
    int64_t ms;
} duration_units[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
};

/* The unit at p: its length in *len and its ms, or 0 when none is. */
static int64_t duration_unit(const char *p, size_t *len)
{
    size_t i = 0;

    for (i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
        *len = strlen(duration_units[i].suffix);
        if (strncmp(p, duration_units[i].suffix, *len) == 0)
            return duration_units[i].ms;
    }
    *len = 0;
    return 0;
}

int orch_duration_parse(const char *s, int64_t *out_ms, struct orch_diag *diag)
{
    const char *p = s;
    int64_t total = 0;
    bool any = false;

    if (s == NULL || *s == '\0')
        return orch_diag_set(diag, ORCH_ETIME, "duration is empty");
    /* One or more NUMBER UNIT pairs: "90s", "1h30m". */
    while (*p) {
        int64_t v = 0, unit = 0;
        size_t len = 0;

        if (!digit(*p))
            return orch_diag_set(diag, ORCH_ETIME,
                                 "duration \"%.64s\": want a number and a "
                                 "unit, e.g. 90s, 15m, 2h, 1d",
                                 s);
        while (digit(*p)) {
            if (v > (INT64_MAX - 9) / 10)
                return orch_diag_set(diag, ORCH_ETIME,
                                     "duration \"%.64s\" is too large", s);
            v = v * 10 + (*p++ - '0');
        }
        unit = duration_unit(p, &len);
        if (unit == 0)
            return orch_diag_set(diag, ORCH_ETIME,
                                 "duration \"%.64s\": %s; use ms, s, m, h "
                                 "or d, e.g. 90s",
                                 s, *p ? "unknown unit" : "missing unit");
        p += len;
        if (v > (INT64_MAX - total) / unit)
            return orch_diag_set(diag, ORCH_ETIME,
                                 "duration \"%.64s\" is too large", s);
        total += v * unit;
        any = true;
    }
    if (!any)
        return orch_diag_set(diag, ORCH_ETIME, "duration is empty");
    *out_ms = total;
    return 0;
}
