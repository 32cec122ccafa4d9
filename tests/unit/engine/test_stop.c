/* test_stop.c - the run's stop (first reason wins) and the per-group
 * fatal-streak rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "orch/engine/stop.h"
#include "torture.h"

static void test_first_stop_wins(void **state)
{
    struct orch_stop s;
    char long_code[300];

    (void)state;
    orch_stop_init(&s);
    assert_false(s.stopping);
    assert_string_equal(s.code, "");
    assert_true(orch_stop_set(&s, "InvalidAccessKeyId.NotFound",
                              "run stopped: InvalidAccessKeyId.NotFound"));
    assert_true(s.stopping);
    assert_false(orch_stop_set(&s, "Interrupted", "interrupted"));
    assert_string_equal(s.code, "InvalidAccessKeyId.NotFound");
    assert_string_equal(s.message, "run stopped: InvalidAccessKeyId.NotFound");

    memset(long_code, 'x', sizeof(long_code) - 1);
    long_code[sizeof(long_code) - 1] = '\0';
    orch_stop_init(&s);
    assert_true(orch_stop_set(&s, long_code, long_code));
    assert_int_equal(strlen(s.code), sizeof(s.code) - 1);
    assert_int_equal(strlen(s.message), sizeof(s.message) - 1);
}

/* One table row: results fed to one group, and whether it stops. */
struct streak_case {
    const char *name;
    int threshold;
    const char *results[6]; /* "" success, else a failure's code; NULL end */
    const char *stopped;    /* expected code, NULL: not stopped */
};

static const struct streak_case cases[] = {
    {"three same failures stop", 3,
     {"iot.ota.FirmwareNotVerified", "iot.ota.FirmwareNotVerified",
      "iot.ota.FirmwareNotVerified", NULL},
     "iot.ota.FirmwareNotVerified"},
    {"two are not enough", 3, {"E", "E", NULL}, NULL},
    {"a success first turns the rule off", 3,
     {"", "E", "E", "E", "E", NULL}, NULL},
    {"a success inside the streak turns it off", 3,
     {"E", "E", "", "E", "E", NULL}, NULL},
    {"a different code turns it off", 3, {"E", "F", "F", "F", NULL}, NULL},
    {"later results do not undo a stop", 2, {"E", "E", "", "F", NULL}, "E"},
    {"threshold 1", 1, {"E", NULL}, "E"},
    {"threshold 0: off", 0, {"E", "E", "E", "E", NULL}, NULL},
    {"negative threshold: off", -1, {"E", "E", NULL}, NULL},
};

static void test_streak_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct streak_case *c = &cases[i];
        struct orch_streak s;
        const char *got = NULL;

        orch_streak_init(&s, c->threshold);
        assert_int_equal(orch_streak_on(&s), c->threshold > 0);
        for (size_t k = 0; c->results[k] != NULL; k++)
            orch_streak_note(&s, 7, c->results[k][0] != '\0',
                             c->results[k]);
        got = orch_streak_stopped(&s, 7);
        if (c->stopped == NULL) {
            if (got != NULL)
                fail_msg("%s: stopped with %s", c->name, got);
        } else {
            if (got == NULL)
                fail_msg("%s: not stopped", c->name);
            assert_string_equal(got, c->stopped);
        }
        orch_streak_cleanup(&s);
    }
}

static void test_groups_are_independent(void **state)
{
    struct orch_streak s;

    (void)state;
    orch_streak_init(&s, 2);
    assert_null(orch_streak_stopped(&s, 1)); /* never seen */
    /* Many groups: the array grows past its first size. */
    for (uint32_t g = 0; g < 40; g++) {
        orch_streak_note(&s, g, g % 2 == 0, "E");
        orch_streak_note(&s, g, true, "E");
    }
    for (uint32_t g = 0; g < 40; g++) {
        if (g % 2 == 0)
            assert_string_equal(orch_streak_stopped(&s, g), "E");
        else
            assert_null(orch_streak_stopped(&s, g));
    }
    assert_int_equal(s.n, 40);
    orch_streak_cleanup(&s);
    orch_streak_cleanup(&s); /* twice is fine */
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(test_first_stop_wins),
    cmocka_unit_test(test_streak_table),
    cmocka_unit_test(test_groups_are_independent))
