/* test_timeparse.c - ISO-8601 and epoch-ms times, durations, clocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/base/clock.h"
#include "orch/base/timeparse.h"
#include "torture.h"

/* 2026-12-01T03:00:00Z */
#define T0 1796094000000LL

typedef int parse_fn(const char *s, int64_t *out_ms, struct orch_diag *diag);

/* parse(s) succeeds with want. */
static void ok_parse(parse_fn *parse, const char *s, int64_t want)
{
    struct orch_diag diag;
    int64_t got = -1;

    memset(&diag, 0, sizeof(diag));
    assert_int_equal(parse(s, &got, &diag), 0);
    assert_int_equal(got, want);
}

/* parse(s) fails with ORCH_ETIME, leaves the output alone and says
 * msg_part. */
static void bad_parse(parse_fn *parse, const char *s, const char *msg_part)
{
    struct orch_diag diag;
    int64_t got = 42;

    memset(&diag, 0, sizeof(diag));
    assert_int_equal(parse(s, &got, &diag), ORCH_ETIME);
    assert_int_equal(got, 42);
    assert_non_null(strstr(diag.msg, msg_part));
}

static void ok_time(const char *s, int64_t want)
{
    ok_parse(orch_time_parse, s, want);
}

static void bad_time(const char *s, const char *msg_part)
{
    bad_parse(orch_time_parse, s, msg_part);
}

static void test_iso_zones(void **state)
{
    (void)state;
    ok_time("2026-12-01T03:00:00Z", T0);
    ok_time("2026-12-01t03:00:00z", T0);
    ok_time("2026-12-01 03:00:00Z", T0);
    ok_time("2026-12-01T11:00:00+08:00", T0);
    ok_time("2026-12-01T11:00:00+0800", T0);
    ok_time("2026-12-01T11:00:00+08", T0);
    ok_time("2026-11-30T22:30:00-04:30", T0);
    ok_time("2026-12-01T03:00Z", T0);
    ok_time("1970-01-01T00:00:00Z", 0);
    ok_time("2024-02-29T00:00:00Z", 1709164800000LL);
}

static void test_fractions(void **state)
{
    (void)state;
    ok_time("2026-12-01T03:00:00.5Z", T0 + 500);
    ok_time("2026-12-01T03:00:00.123Z", T0 + 123);
    ok_time("2026-12-01T03:00:00.123456789Z", T0 + 123);
    ok_time("2026-12-01T11:00:00,250+08:00", T0 + 250);
    bad_time("2026-12-01T03:00:00.Z", "fractional");
    bad_time("2026-12-01T03:00:00.1234567890Z", "9 fractional");
}

static void test_epoch_ms(void **state)
{
    (void)state;
    ok_time("1796094000000", T0);
    bad_time("1796094000", "epoch seconds");
    bad_time("17960940000000", "13-digit");
}

static void test_rejected(void **state)
{
    (void)state;
    bad_time("2026-12-01T03:00:00", "add Z (UTC) or an offset");
    bad_time("2026-12-01", "no time of day");
    bad_time("", "empty");
    bad_time("tomorrow", "ISO-8601");
    bad_time("2026-13-01T00:00:00Z", "no such date");
    bad_time("2026-02-29T00:00:00Z", "no such date");
    bad_time("2026-12-01T24:00:00Z", "no such time");
    bad_time("2026-12-01T03:00:00+15:00", "14:00");
    bad_time("2026-12-01T03:00:00Zjunk", "trailing");
    bad_time("2026-12-01T03:00:00 UTC", "time zone");
    bad_time("2026-12-01X03:00:00Z", "'T'");
    assert_int_equal(orch_time_parse(NULL, &(int64_t){0}, NULL), ORCH_ETIME);
}

static void ok_dur(const char *s, int64_t want)
{
    ok_parse(orch_duration_parse, s, want);
}

static void bad_dur(const char *s, const char *msg_part)
{
    bad_parse(orch_duration_parse, s, msg_part);
}

static void test_durations(void **state)
{
    (void)state;
    ok_dur("90s", 90000);
    ok_dur("15m", 900000);
    ok_dur("2h", 7200000);
    ok_dur("1d", 86400000);
    ok_dur("250ms", 250);
    ok_dur("1h30m", 5400000);
    ok_dur("0s", 0);
    bad_dur("90", "missing unit");
    bad_dur("5w", "unknown unit");
    bad_dur("", "empty");
    bad_dur("-5s", "number and a unit");
    bad_dur("99999999999999999999s", "too large");
    bad_dur("9999999999999999d", "too large");
}

static void test_clocks(void **state)
{
    int64_t w = orch_wall_ms();
    uint64_t a = orch_mono_ms(), b = orch_mono_ms();

    (void)state;
    /* After 2020-01-01 and before 2200: a sane wall clock in ms. */
    assert_true(w > 1577836800000LL && w < 7258118400000LL);
    assert_true(b >= a);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(test_iso_zones),
    cmocka_unit_test(test_fractions),
    cmocka_unit_test(test_epoch_ms),
    cmocka_unit_test(test_rejected),
    cmocka_unit_test(test_durations),
    cmocka_unit_test(test_clocks))
