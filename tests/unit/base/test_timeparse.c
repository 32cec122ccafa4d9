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

/* A string and the value it parses to. */
struct ok_row {
    const char *s;
    int64_t want;
};

/* A string and a part of the message it fails with. */
struct bad_row {
    const char *s;
    const char *msg_part;
};

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

static void ok_rows(parse_fn *parse, const struct ok_row *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ok_parse(parse, r[i].s, r[i].want);
}

static void bad_rows(parse_fn *parse, const struct bad_row *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        bad_parse(parse, r[i].s, r[i].msg_part);
}

static void test_iso_zones(void **state)
{
    static const struct ok_row ok[] = {
        {"2026-12-01T03:00:00Z", T0},
        {"2026-12-01t03:00:00z", T0},
        {"2026-12-01 03:00:00Z", T0},
        {"2026-12-01T11:00:00+08:00", T0},
        {"2026-12-01T11:00:00+0800", T0},
        {"2026-12-01T11:00:00+08", T0},
        {"2026-11-30T22:30:00-04:30", T0},
        {"2026-12-01T03:00Z", T0},
        {"1970-01-01T00:00:00Z", 0},
        {"2024-02-29T00:00:00Z", 1709164800000LL},
    };

    (void)state;
    ok_rows(orch_time_parse, ok, sizeof(ok) / sizeof(ok[0]));
}

static void test_fractions(void **state)
{
    static const struct ok_row ok[] = {
        {"2026-12-01T03:00:00.5Z", T0 + 500},
        {"2026-12-01T03:00:00.123Z", T0 + 123},
        {"2026-12-01T03:00:00.123456789Z", T0 + 123},
        {"2026-12-01T11:00:00,250+08:00", T0 + 250},
    };
    static const struct bad_row bad[] = {
        {"2026-12-01T03:00:00.Z", "fractional"},
        {"2026-12-01T03:00:00.1234567890Z", "9 fractional"},
    };

    (void)state;
    ok_rows(orch_time_parse, ok, sizeof(ok) / sizeof(ok[0]));
    bad_rows(orch_time_parse, bad, sizeof(bad) / sizeof(bad[0]));
}

static void test_epoch_ms(void **state)
{
    static const struct ok_row ok[] = {
        {"1796094000000", T0},
    };
    static const struct bad_row bad[] = {
        {"1796094000", "epoch seconds"},
        {"17960940000000", "13-digit"},
    };

    (void)state;
    ok_rows(orch_time_parse, ok, sizeof(ok) / sizeof(ok[0]));
    bad_rows(orch_time_parse, bad, sizeof(bad) / sizeof(bad[0]));
}

static void test_rejected(void **state)
{
    static const struct bad_row bad[] = {
        {"2026-12-01T03:00:00", "add Z (UTC) or an offset"},
        {"2026-12-01", "no time of day"},
        {"", "empty"},
        {"tomorrow", "ISO-8601"},
        {"2026-13-01T00:00:00Z", "no such date"},
        {"2026-02-29T00:00:00Z", "no such date"},
        {"2026-12-01T24:00:00Z", "no such time"},
        {"2026-12-01T03:00:00+15:00", "14:00"},
        {"2026-12-01T03:00:00Zjunk", "trailing"},
        {"2026-12-01T03:00:00 UTC", "time zone"},
        {"2026-12-01X03:00:00Z", "'T'"},
    };

    (void)state;
    bad_rows(orch_time_parse, bad, sizeof(bad) / sizeof(bad[0]));
    assert_int_equal(orch_time_parse(NULL, &(int64_t){0}, NULL), ORCH_ETIME);
}

static void test_durations(void **state)
{
    static const struct ok_row ok[] = {
        {"90s", 90000},
        {"15m", 900000},
        {"2h", 7200000},
        {"1d", 86400000},
        {"250ms", 250},
        {"1h30m", 5400000},
        {"0s", 0},
    };
    static const struct bad_row bad[] = {
        {"90", "missing unit"},
        {"5w", "unknown unit"},
        {"", "empty"},
        {"-5s", "number and a unit"},
        {"99999999999999999999s", "too large"},
        {"9999999999999999d", "too large"},
    };

    (void)state;
    ok_rows(orch_duration_parse, ok, sizeof(ok) / sizeof(ok[0]));
    bad_rows(orch_duration_parse, bad, sizeof(bad) / sizeof(bad[0]));
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
