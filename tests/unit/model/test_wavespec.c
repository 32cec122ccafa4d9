/* test_wavespec.c - the --waves spec: its forms, its errors, and the
 * gate thresholds' shares. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/model/wavespec.h"
#include "waves_fixture.h"
#include "torture.h"

#include <string.h>

static void parse_bad(const char *spec, const char *needle)
{
    struct orch_wave_spec s;
    struct orch_diag d = {{0}};

    assert_int_equal(orch_waves_parse(spec, &s, &d), ORCH_ECONFIG);
    if (strstr(d.msg, needle) == NULL)
        fail_msg("%s: \"%s\" lacks \"%s\"", spec, d.msg, needle);
}

static void spec_forms(void **state)
{
    struct orch_wave_spec s;

    (void)state;
    parse_ok("1%,10%,100%", &s);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.t[0].unit, ORCH_WAVE_SHARE);
    assert_true(s.t[0].share > 0.0099 && s.t[0].share < 0.0101);
    assert_int_equal(s.t[2].unit, ORCH_WAVE_ALL);

    parse_ok("200,5000,all", &s);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.t[0].unit, ORCH_WAVE_DEVICES);
    assert_int_equal(s.t[0].devices, 200);
    assert_int_equal(s.t[1].devices, 5000);
    assert_int_equal(s.t[2].unit, ORCH_WAVE_ALL);

    /* A decimal point anywhere makes bare numbers shares: the final 1 is
     * 100%, not one device. */
    parse_ok("0.01, 0.1, 1", &s);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.t[0].unit, ORCH_WAVE_SHARE);
    assert_int_equal(s.t[1].unit, ORCH_WAVE_SHARE);
    assert_int_equal(s.t[2].unit, ORCH_WAVE_ALL);

    parse_ok("200,10%,ALL", &s);
    assert_int_equal(s.t[0].unit, ORCH_WAVE_DEVICES);
    assert_int_equal(s.t[1].unit, ORCH_WAVE_SHARE);

    parse_ok("all", &s);
    assert_int_equal(s.n, 1);
    parse_ok("12.5%,100%", &s);
    assert_true(s.t[0].share > 0.1249 && s.t[0].share < 0.1251);
    /* A device count may end the spec: checked against the plan later. */
    parse_ok("200,5000", &s);
    assert_int_equal(s.n, 2);
}

static void spec_errors(void **state)
{
    (void)state;
    parse_bad("", "empty wave");
    parse_bad("1%,,100%", "empty wave");
    parse_bad("1%,10%,", "empty wave");
    parse_bad("abc", "not a share");
    parse_bad("-5,all", "not a share");
    parse_bad("0%,100%", "more than 0%");
    parse_bad("150%", "at most 100%");
    parse_bad("10%,5%,100%", "not more than an earlier");
    parse_bad("200,200,all", "not more than an earlier");
    parse_bad("0.1,200", "not a share more than 0 and at most 1");
    parse_bad("1%,10%", "must be the whole rollout");
    parse_bad("0.5", "must be the whole rollout");
    parse_bad("all,100%", "already the whole rollout");
    parse_bad("0,all", "device count of at least 1");
    parse_bad("1e3,all", "not a share");
    parse_bad("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,"
              "24,25,26,27,28,29,30,31,32,33",
              "more than 32 waves");
}

static void share_parse(void **state)
{
    struct orch_diag d = {{0}};
    double v = 0;

    (void)state;
    assert_int_equal(orch_share_parse("--x", "95%", &v, &d), 0);
    assert_true(v > 0.9499 && v < 0.9501);
    assert_int_equal(orch_share_parse("--x", "0.95", &v, &d), 0);
    assert_true(v > 0.9499 && v < 0.9501);
    assert_int_equal(orch_share_parse("--x", "1", &v, &d), 0);
    assert_true(v > 0.9999);
    assert_int_equal(orch_share_parse("--x", "100%", &v, &d), 0);
    assert_int_equal(orch_share_parse("--x", "95", &v, &d), ORCH_ECONFIG);
    assert_non_null(strstr(d.msg, "95%"));
    assert_int_equal(orch_share_parse("--x", "0", &v, &d), ORCH_ECONFIG);
    assert_int_equal(orch_share_parse("--x", "0%", &v, &d), ORCH_ECONFIG);
    assert_int_equal(orch_share_parse("--x", "101%", &v, &d), ORCH_ECONFIG);
    assert_int_equal(orch_share_parse("--x", "x%", &v, &d), ORCH_ECONFIG);
    assert_int_equal(orch_share_parse("--x", "", &v, &d), ORCH_ECONFIG);
}

/* n chunks of `size` devices, the last one holding `last` devices. */
TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(spec_forms),
    cmocka_unit_test(spec_errors),
    cmocka_unit_test(share_parse))
