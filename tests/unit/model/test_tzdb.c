/* test_tzdb.c - time zones from the system's tz database: offsets, the
 * footer rule past the last transition, and local times that are skipped
 * or repeated on daylight-saving days. Expected instants are the zones'
 * published transitions (zdump -v). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/model/tzdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_S 86400

static struct orch_tz *zone(const char *name)
{
    struct orch_tz *tz = NULL;
    struct orch_diag d = {{0}};
    int rc = orch_tz_load(name, "/usr/share/zoneinfo", &tz, &d);

    if (rc)
        fail_msg("%s: %s", name, d.msg);
    return tz;
}

/* The local time y-m-d hh:mm counted as UTC. */
static int64_t local(int64_t y, unsigned m, unsigned d, int hh, int mm)
{
    return orch_tz_days_from_civil(y, m, d) * DAY_S + hh * 3600 + mm * 60;
}

static void calendar_round_trips(void **state)
{
    int64_t y = 0;
    unsigned m = 0, d = 0;

    (void)state;
    assert_int_equal(orch_tz_days_from_civil(1970, 1, 1), 0);
    /* 2026-03-29T00:00:00Z = 1774742400 */
    assert_int_equal(orch_tz_days_from_civil(2026, 3, 29) * DAY_S,
                     1774742400);
    assert_int_equal(orch_tz_days_from_civil(2024, 3, 1) -
                         orch_tz_days_from_civil(2024, 2, 28),
                     2);
    orch_tz_civil_from_days(-1, &y, &m, &d);
    assert_int_equal(y, 1969);
    assert_int_equal(m, 12);
    assert_int_equal(d, 31);
    orch_tz_civil_from_days(20541, &y, &m, &d);
    assert_int_equal(y, 2026);
    assert_int_equal(m, 3);
    assert_int_equal(d, 29);
}

static void berlin_offsets_around_its_2026_changes(void **state)
{
    struct orch_tz *tz = zone("Europe/Berlin");

    (void)state;
    assert_string_equal(orch_tz_name(tz), "Europe/Berlin");
    /* Clocks go forward at 2026-03-29T01:00:00Z (1774746000). */
    assert_int_equal(orch_tz_offset(tz, 1774746000 - 1), 3600);
    assert_int_equal(orch_tz_offset(tz, 1774746000), 7200);
    /* And back at 2026-10-25T01:00:00Z (1792890000). */
    assert_int_equal(orch_tz_offset(tz, 1792890000 - 1), 7200);
    assert_int_equal(orch_tz_offset(tz, 1792890000), 3600);
    orch_tz_free(tz);
}

static void berlin_spring_gap_takes_the_first_instant_after_it(void **state)
{
    struct orch_tz *tz = zone("Europe/Berlin");

    (void)state;
    /* 01:59 CET exists; 02:00 and 02:30 do not: 03:00 CEST. */
    assert_int_equal(orch_tz_resolve(tz, local(2026, 3, 29, 1, 59)),
                     1774745940);
    assert_int_equal(orch_tz_resolve(tz, local(2026, 3, 29, 2, 0)),
                     1774746000);
    assert_int_equal(orch_tz_resolve(tz, local(2026, 3, 29, 2, 30)),
                     1774746000);
    assert_int_equal(orch_tz_resolve(tz, local(2026, 3, 29, 3, 0)),
                     1774746000);
    assert_int_equal(orch_tz_resolve(tz, local(2026, 3, 29, 3, 30)),
                     1774746000 + 1800);
    orch_tz_free(tz);
}

static void berlin_fall_repeat_takes_the_first_occurrence(void **state)
{
    struct orch_tz *tz = zone("Europe/Berlin");

    (void)state;
    /* 02:30 happens at 00:30Z (CEST) and 01:30Z (CET): the first. */
    assert_int_equal(orch_tz_resolve(tz, local(2026, 10, 25, 2, 30)),
                     1792888200);
    /* 03:00 only once (CET). */
    assert_int_equal(orch_tz_resolve(tz, local(2026, 10, 25, 3, 0)),
                     1792893600);
    orch_tz_free(tz);
}

static void new_york_west_of_utc(void **state)
{
    struct orch_tz *tz = zone("America/New_York");

    (void)state;
    assert_int_equal(orch_tz_offset(tz, 1772953200 - 1), -18000);
    assert_int_equal(orch_tz_offset(tz, 1772953200), -14400);
    /* 02:30 on 2026-03-08 is skipped: 03:00 EDT = 07:00Z. */
    assert_int_equal(orch_tz_resolve(tz, local(2026, 3, 8, 2, 30)),
                     1772953200);
    /* 01:30 on 2026-11-01 twice: first at 05:30Z (EDT). */
    assert_int_equal(orch_tz_resolve(tz, local(2026, 11, 1, 1, 30)),
                     1793511000);
    orch_tz_free(tz);
}

static void sydney_southern_hemisphere(void **state)
{
    struct orch_tz *tz = zone("Australia/Sydney");

    (void)state;
    /* Daylight time over the new year: January is +11, July +10. */
    assert_int_equal(orch_tz_offset(tz, local(2026, 1, 15, 0, 0)), 39600);
    assert_int_equal(orch_tz_offset(tz, local(2026, 7, 15, 0, 0)), 36000);
    /* Back on 2026-04-05: 02:30 twice, first at 15:30Z (AEDT). */
    assert_int_equal(orch_tz_resolve(tz, local(2026, 4, 5, 2, 30)),
                     1775316600);
    /* Forward on 2026-10-04: 02:30 skipped -> 03:00 AEDT = 16:00Z. */
    assert_int_equal(orch_tz_resolve(tz, local(2026, 10, 4, 2, 30)),
                     1791043200);
    orch_tz_free(tz);
}

static void footer_rule_past_the_last_transition(void **state)
{
    struct orch_tz *berlin = zone("Europe/Berlin");
    struct orch_tz *sydney = zone("Australia/Sydney");

    (void)state;
    /* 2045 is past the files' transitions (2037): the TZ rule decides. */
    assert_int_equal(orch_tz_resolve(berlin, local(2045, 3, 26, 2, 30)),
                     2374102800);
    assert_int_equal(orch_tz_resolve(berlin, local(2045, 10, 29, 2, 30)),
                     2392849800);
    assert_int_equal(orch_tz_offset(berlin, local(2045, 7, 1, 0, 0)), 7200);
    assert_int_equal(orch_tz_offset(berlin, local(2045, 12, 1, 0, 0)), 3600);
    assert_int_equal(orch_tz_resolve(sydney, local(2045, 10, 1, 2, 30)),
                     2390400000);
    assert_int_equal(orch_tz_offset(sydney, local(2045, 1, 10, 0, 0)),
                     39600);
    assert_int_equal(orch_tz_offset(sydney, local(2045, 6, 10, 0, 0)),
                     36000);
    orch_tz_free(berlin);
    orch_tz_free(sydney);
}

static void zones_without_dst_and_odd_offsets(void **state)
{
    struct orch_tz *sh = zone("Asia/Shanghai");
    struct orch_tz *ktm = zone("Asia/Kathmandu");
    struct orch_tz *lh = zone("Australia/Lord_Howe");

    (void)state;
    assert_int_equal(orch_tz_resolve(sh, local(2026, 6, 1, 2, 0)),
                     1780250400);
    assert_int_equal(orch_tz_offset(sh, local(2026, 1, 1, 0, 0)), 28800);
    assert_int_equal(orch_tz_offset(sh, local(2045, 1, 1, 0, 0)), 28800);
    /* +05:45 */
    assert_int_equal(orch_tz_resolve(ktm, local(2026, 6, 1, 2, 0)),
                     1780258500);
    assert_int_equal(orch_tz_offset(ktm, local(2045, 1, 1, 0, 0)), 20700);
    /* Lord Howe's clocks go forward by 30 minutes: 02:15 -> 02:30. */
    assert_int_equal(orch_tz_resolve(lh, local(2026, 10, 4, 2, 15)),
                     1791041400);
    orch_tz_free(sh);
    orch_tz_free(ktm);
    orch_tz_free(lh);
}

static void unknown_and_unsafe_names(void **state)
{
    struct orch_tz *tz = NULL;
    struct orch_diag d = {{0}};

    (void)state;
    assert_int_equal(orch_tz_load("Europe/Atlantis", NULL, &tz, &d),
                     ORCH_ENOTFOUND);
    assert_null(tz);
    assert_non_null(strstr(d.msg, "Europe/Atlantis"));
    assert_int_equal(orch_tz_load("../../etc/passwd", NULL, &tz, &d),
                     ORCH_ENOTFOUND);
    assert_int_equal(orch_tz_load("/etc/localtime", NULL, &tz, &d),
                     ORCH_ENOTFOUND);
    assert_int_equal(orch_tz_load("Europe", NULL, &tz, &d), ORCH_ENOTFOUND);
    assert_int_equal(orch_tz_load("zone.tab", NULL, &tz, &d), ORCH_ENOTFOUND);
    assert_int_equal(orch_tz_load("", NULL, &tz, &d), ORCH_ENOTFOUND);
    assert_false(orch_tz_name_ok("Europe/../Berlin"));
    assert_false(orch_tz_name_ok("Europe//Berlin"));
    assert_false(orch_tz_name_ok("Europe/Berlin/"));
    assert_true(orch_tz_name_ok("Etc/GMT+5"));
    assert_true(orch_tz_name_ok("UTC"));
}

static void garbage_is_not_a_zone(void **state)
{
    static const unsigned char junk[] = "TZif2 but nothing else";
    unsigned char hdr[44];
    struct orch_tz *tz = NULL;
    struct orch_diag d = {{0}};

    (void)state;
    assert_int_equal(orch_tz_parse("x", junk, sizeof(junk), &tz, &d),
                     ORCH_ECONFIG);
    assert_null(tz);
    /* A header whose counts run past the end. */
    memset(hdr, 0, sizeof(hdr));
    memcpy(hdr, "TZif2", 5);
    hdr[35] = 200; /* 200 transitions */
    hdr[39] = 1;
    assert_int_equal(orch_tz_parse("x", hdr, sizeof(hdr), &tz, &d),
                     ORCH_ECONFIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(calendar_round_trips),
        cmocka_unit_test(berlin_offsets_around_its_2026_changes),
        cmocka_unit_test(berlin_spring_gap_takes_the_first_instant_after_it),
        cmocka_unit_test(berlin_fall_repeat_takes_the_first_occurrence),
        cmocka_unit_test(new_york_west_of_utc),
        cmocka_unit_test(sydney_southern_hemisphere),
        cmocka_unit_test(footer_rule_past_the_last_transition),
        cmocka_unit_test(zones_without_dst_and_odd_offsets),
        cmocka_unit_test(unknown_and_unsafe_names),
        cmocka_unit_test(garbage_is_not_a_zone),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
