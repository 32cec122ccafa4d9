/* test_tzwindow.c - maintenance windows: the --window text, and the next
 * window in a zone, across midnight and across daylight-saving changes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/model/tzdb.h"
#include "orch/model/tzwindow.h"

#include <stdio.h>
#include <string.h>

#define DAY_S 86400
#define MIN_MS (60 * 1000LL)
#define HOUR_MS (60 * MIN_MS)

static struct orch_tz *zone(const char *name)
{
    struct orch_tz *tz = NULL;
    struct orch_diag d = {{0}};

    if (orch_tz_load(name, "/usr/share/zoneinfo", &tz, &d))
        fail_msg("%s: %s", name, d.msg);
    return tz;
}

/* Epoch ms of UTC y-m-d hh:mm. */
static int64_t utc_ms(int64_t y, unsigned m, unsigned d, int hh, int mm)
{
    return (orch_tz_days_from_civil(y, m, d) * DAY_S + hh * 3600 + mm * 60) *
           1000;
}

static struct orch_window window(const char *s)
{
    struct orch_window w;
    struct orch_diag d = {{0}};

    if (orch_window_parse(s, &w, &d))
        fail_msg("%s: %s", s, d.msg);
    return w;
}

static void parse_and_format(void **state)
{
    struct orch_window w = window("02:00-05:00");
    char text[16];

    (void)state;
    assert_int_equal(w.start_min, 120);
    assert_int_equal(w.end_min, 300);
    assert_int_equal(orch_window_minutes(&w), 180);
    w = window("22:30-04:00");
    assert_int_equal(orch_window_minutes(&w), 330);
    orch_window_format(&w, text, sizeof(text));
    assert_string_equal(text, "22:30-04:00");
    w = window("23:00-00:00");
    assert_int_equal(orch_window_minutes(&w), 60);
}

static void parse_refuses(void **state)
{
    static const char *bad[] = {"2:00-05:00", "02:00",      "02:00-5:00",
                                "24:00-05:00", "02:60-05:00", "02:00-05:00x",
                                "02:00 - 05:00", "", "abc"};
    struct orch_window w;
    struct orch_diag d = {{0}};
    size_t i = 0;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(orch_window_parse(bad[i], &w, &d), ORCH_ECONFIG);
        assert_non_null(strstr(d.msg, "--window"));
    }
    /* Shorter than the API's hour, or empty. */
    assert_int_equal(orch_window_parse("02:00-02:59", &w, &d), ORCH_ECONFIG);
    assert_non_null(strstr(d.msg, "1 hour"));
    assert_int_equal(orch_window_parse("23:30-00:15", &w, &d), ORCH_ECONFIG);
    assert_int_equal(orch_window_parse("02:00-02:00", &w, &d), ORCH_ECONFIG);
}

static void next_window_in_shanghai(void **state)
{
    struct orch_tz *tz = zone("Asia/Shanghai");
    struct orch_window w = window("02:00-05:00");
    int64_t s = 0, e = 0;

    (void)state;
    /* 2026-06-01 12:00Z is 20:00 in Shanghai: tonight's 02:00 = 18:00Z. */
    orch_window_next(tz, &w, utc_ms(2026, 6, 1, 12, 0), &s, &e);
    assert_int_equal(s, utc_ms(2026, 6, 1, 18, 0));
    assert_int_equal(e, utc_ms(2026, 6, 1, 21, 0));
    /* At 17:56Z the window is 4 minutes away: too soon, the next day's. */
    orch_window_next(tz, &w, utc_ms(2026, 6, 1, 17, 56), &s, &e);
    assert_int_equal(s, utc_ms(2026, 6, 2, 18, 0));
    /* Exactly 5 minutes ahead is enough. */
    orch_window_next(tz, &w, utc_ms(2026, 6, 1, 17, 55), &s, &e);
    assert_int_equal(s, utc_ms(2026, 6, 1, 18, 0));
    /* Inside the window: the next one. */
    orch_window_next(tz, &w, utc_ms(2026, 6, 1, 19, 0), &s, &e);
    assert_int_equal(s, utc_ms(2026, 6, 2, 18, 0));
    orch_tz_free(tz);
}

static void next_window_crossing_midnight(void **state)
{
    struct orch_tz *tz = zone("America/New_York");
    struct orch_window w = window("22:00-04:00");
    int64_t s = 0, e = 0;

    (void)state;
    /* 2026-06-01 12:00Z = 08:00 EDT: 22:00 EDT = 02:00Z on the 2nd,
     * ending 04:00 EDT on the 2nd = 08:00Z. */
    orch_window_next(tz, &w, utc_ms(2026, 6, 1, 12, 0), &s, &e);
    assert_int_equal(s, utc_ms(2026, 6, 2, 2, 0));
    assert_int_equal(e, utc_ms(2026, 6, 2, 8, 0));
    orch_tz_free(tz);
}

static void next_window_in_kathmandu(void **state)
{
    struct orch_tz *tz = zone("Asia/Kathmandu");
    struct orch_window w = window("01:00-03:30");
    int64_t s = 0, e = 0;
    char text[40];

    (void)state;
    /* +05:45: 01:00 local on 2026-06-02 = 19:15Z on the 1st. */
    orch_window_next(tz, &w, utc_ms(2026, 6, 1, 12, 0), &s, &e);
    assert_int_equal(s, utc_ms(2026, 6, 1, 19, 15));
    assert_int_equal(e, utc_ms(2026, 6, 1, 21, 45));
    orch_window_format_local(tz, s, text, sizeof(text));
    assert_string_equal(text, "2026-06-02 01:00 +05:45");
    orch_tz_free(tz);
}

static void window_on_berlin_spring_day(void **state)
{
    struct orch_tz *tz = zone("Europe/Berlin");
    struct orch_window w = window("02:30-05:00");
    struct orch_window hour = window("02:00-03:00");
    int64_t s = 0, e = 0;
    char text[40];

    (void)state;
    /* 02:30 does not exist on 2026-03-29: 03:00 CEST = 01:00Z; 05:00
     * CEST = 03:00Z. */
    orch_window_next(tz, &w, utc_ms(2026, 3, 28, 12, 0), &s, &e);
    assert_int_equal(s, utc_ms(2026, 3, 29, 1, 0));
    assert_int_equal(e, utc_ms(2026, 3, 29, 3, 0));
    orch_window_format_local(tz, s, text, sizeof(text));
    assert_string_equal(text, "2026-03-29 03:00 +02:00");
    /* 02:00-03:00 that day is no time at all: the API's hour is kept. */
    orch_window_next(tz, &hour, utc_ms(2026, 3, 28, 12, 0), &s, &e);
    assert_int_equal(s, utc_ms(2026, 3, 29, 1, 0));
    assert_int_equal(e - s, HOUR_MS);
    /* The day after, back to normal: 02:30 CEST = 00:30Z. */
    orch_window_next(tz, &w, utc_ms(2026, 3, 29, 12, 0), &s, &e);
    assert_int_equal(s, utc_ms(2026, 3, 30, 0, 30));
    orch_tz_free(tz);
}

static void window_on_berlin_fall_day(void **state)
{
    struct orch_tz *tz = zone("Europe/Berlin");
    struct orch_window w = window("02:30-04:00");
    struct orch_window night = window("23:00-04:00");
    int64_t s = 0, e = 0;

    (void)state;
    /* 02:30 twice on 2026-10-25: the first (CEST, 00:30Z); 04:00 CET =
     * 03:00Z: a window of 2.5 hours that day. */
    orch_window_next(tz, &w, utc_ms(2026, 10, 24, 12, 0), &s, &e);
    assert_int_equal(s, utc_ms(2026, 10, 25, 0, 30));
    assert_int_equal(e, utc_ms(2026, 10, 25, 3, 0));
    /* Across midnight and the change: 23:00 CEST = 21:00Z, 04:00 CET =
     * 03:00Z: six hours. */
    orch_window_next(tz, &night, utc_ms(2026, 10, 24, 12, 0), &s, &e);
    assert_int_equal(s, utc_ms(2026, 10, 24, 21, 0));
    assert_int_equal(e, utc_ms(2026, 10, 25, 3, 0));
    orch_tz_free(tz);
}

static void window_on_sydney_spring_day(void **state)
{
    struct orch_tz *tz = zone("Australia/Sydney");
    struct orch_window w = window("02:00-05:00");
    int64_t s = 0, e = 0;

    (void)state;
    /* 2026-10-04: 02:00 AEST jumps to 03:00 AEDT (16:00Z on the 3rd);
     * 05:00 AEDT = 18:00Z. */
    orch_window_next(tz, &w, utc_ms(2026, 10, 3, 0, 0), &s, &e);
    assert_int_equal(s, utc_ms(2026, 10, 3, 16, 0));
    assert_int_equal(e, utc_ms(2026, 10, 3, 18, 0));
    orch_tz_free(tz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_and_format),
        cmocka_unit_test(parse_refuses),
        cmocka_unit_test(next_window_in_shanghai),
        cmocka_unit_test(next_window_crossing_midnight),
        cmocka_unit_test(next_window_in_kathmandu),
        cmocka_unit_test(window_on_berlin_spring_day),
        cmocka_unit_test(window_on_berlin_fall_day),
        cmocka_unit_test(window_on_sydney_spring_day),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
