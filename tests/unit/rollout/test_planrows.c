/* test_planrows.c - the report's rows for the chunks of a waved plan
 * without an outcome: their code from the last wave record, their
 * message, and the fill that gives every chunk its row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "orch/rollout/outcome.h"
#include "orch/rollout/planrows.h"
#include "torture.h"

static json_t *wave(const char *event, const char *reason)
{
    return json_pack("{s:s, s:i, s:s, s:s?}", "t", "wave", "wave", 1,
                     "event", event, "reason", reason);
}

static void code_from_last_wave_record(void **state)
{
    static const struct {
        const char *event, *reason, *code;
    } cases[] = {
        {"start", NULL, "WaveNotStarted"},
        {"gate", NULL, "WaveNotStarted"},
        {"override", NULL, "WaveNotStarted"},
        {"paused", "interrupted", "WaveNotStarted"},
        {"paused", "timeout", "WavePaused"},
        {"paused", "horizon", "Deferred"},
        {"aborted", NULL, "WaveAborted"},
    };
    size_t i = 0;

    (void)state;
    assert_string_equal(orch_planrows_code(NULL), "WaveNotStarted");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *w = wave(cases[i].event, cases[i].reason);

        assert_string_equal(orch_planrows_code(w), cases[i].code);
        assert_true(strlen(orch_planrows_message(cases[i].code)) > 0);
        json_decref(w);
    }
    assert_string_equal(orch_planrows_message("iot.ota.X"), "");
    assert_non_null(
        strstr(orch_planrows_message("WaveAborted"), "never rerun"));
}

/* Every NULL entry becomes a not_sent row of the code; rows with an
 * outcome are kept as they are (same object). */
static void fill_gives_every_chunk_a_row(void **state)
{
    json_t *rows[3];
    json_t **out = NULL;

    (void)state;
    rows[0] = json_pack("{s:s, s:s, s:s}", "t", "done", "status", "created",
                        "job_id", "J1");
    rows[1] = NULL;
    rows[2] = NULL;
    out = orch_planrows_fill(rows, 3, "WaveAborted");
    assert_non_null(out);
    assert_ptr_equal(out[0], rows[0]);
    assert_false(orch_planrows_waiting(out[0]));
    assert_string_equal(orch_outcome_str(out[1], "status"), "not_sent");
    assert_string_equal(orch_outcome_code(out[1]), "WaveAborted");
    assert_int_equal(json_integer_value(json_object_get(out[2], "c")), 2);
    assert_int_equal(json_integer_value(json_object_get(out[2], "attempts")),
                     0);
    assert_true(orch_planrows_waiting(out[1]));
    /* Never sent: the outcome is known (no ambiguous file). */
    assert_false(orch_outcome_unknown(out[1], false));
    orch_planrows_free(out, 3);
    orch_planrows_free(NULL, 3);
    json_decref(rows[0]);
}

/* Only not_sent rows of the four wave codes are waiting ones. */
static void waiting_rows(void **state)
{
    const char *const wave_codes[] = {"WaveNotStarted", "WaveAborted",
                                      "WavePaused", "Deferred"};
    size_t i = 0;
    json_t *r = NULL;

    (void)state;
    for (i = 0; i < 4; i++) {
        r = json_pack("{s:s, s:s}", "status", "not_sent", "code",
                      wave_codes[i]);
        assert_true(orch_planrows_waiting(r));
        json_decref(r);
        r = json_pack("{s:s, s:s}", "status", "failed", "code",
                      wave_codes[i]);
        assert_false(orch_planrows_waiting(r));
        json_decref(r);
    }
    r = json_pack("{s:s, s:s}", "status", "not_sent", "code", "Interrupted");
    assert_false(orch_planrows_waiting(r));
    json_decref(r);
    assert_false(orch_planrows_waiting(NULL));
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(code_from_last_wave_record),
    cmocka_unit_test(fill_gives_every_chunk_a_row),
    cmocka_unit_test(waiting_rows))
