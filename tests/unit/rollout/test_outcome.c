/* test_outcome.c - a chunk's done record: built from the dispatcher's
 * result, read back by the report, summaries and waves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "orch/cloud/api.h"
#include "orch/engine/dispatch.h"
#include "orch/rollout/outcome.h"
#include "torture.h"

static const char *str(const json_t *rec, const char *key)
{
    return orch_outcome_str(rec, key);
}

/* An item result of status whose answer (resp, job J1) is attached, all
 * else zero. */
static void answered(struct orch_response *resp, struct orch_item_result *res,
                     enum orch_item_status status)
{
    memset(resp, 0, sizeof(*resp));
    memset(res, 0, sizeof(*res));
    snprintf(resp->job_id, sizeof(resp->job_id), "J1");
    res->resp = resp;
    res->status = status;
}

static void created_takes_the_answers_job(void **state)
{
    struct orch_response resp;
    struct orch_item_result res;
    json_t *rec = NULL;

    (void)state;
    answered(&resp, &res, ORCH_ITEM_CREATED);
    snprintf(resp.utc_create, sizeof(resp.utc_create), "2026-01-02");
    snprintf(resp.request_id, sizeof(resp.request_id), "RQ");
    res.attempts = 1;
    res.error_code = "ignored";
    rec = orch_outcome_record(4, &res, 3, 1234);
    assert_non_null(rec);
    assert_string_equal(str(rec, "t"), "done");
    assert_int_equal(json_integer_value(json_object_get(rec, "c")), 4);
    assert_string_equal(str(rec, "status"), "created");
    /* The whole run's count wins over this process's. */
    assert_int_equal(json_integer_value(json_object_get(rec, "attempts")), 3);
    assert_true(json_is_false(json_object_get(rec, "recovered")));
    assert_string_equal(str(rec, "job_id"), "J1");
    assert_string_equal(str(rec, "utc_create"), "2026-01-02");
    assert_string_equal(str(rec, "request_id"), "RQ");
    assert_null(json_object_get(rec, "code"));
    assert_int_equal(json_integer_value(json_object_get(rec, "time")), 1234);
    assert_true(orch_outcome_created(rec));
    assert_string_equal(orch_outcome_job_id(rec), "J1");
    json_decref(rec);

    /* A recovered job: its id from the result, not the (lost) answer. */
    res.job_id = "J2";
    res.recovered = true;
    res.resp = NULL;
    res.attempts = 5;
    rec = orch_outcome_record(0, &res, 3, 1);
    assert_string_equal(str(rec, "job_id"), "J2");
    assert_null(json_object_get(rec, "utc_create"));
    assert_null(json_object_get(rec, "request_id"));
    assert_int_equal(json_integer_value(json_object_get(rec, "attempts")), 5);
    assert_true(json_is_true(json_object_get(rec, "recovered")));
    json_decref(rec);
}

static void failed_has_no_job(void **state)
{
    json_t *rec = NULL;
    struct orch_response resp;
    struct orch_item_result res;

    (void)state;
    answered(&resp, &res, ORCH_ITEM_FAILED);
    res.job_id = "J9";
    res.error_code = "iot.ota.X";
    res.error_message = "bad";
    rec = orch_outcome_record(1, &res, 0, 1);
    assert_string_equal(str(rec, "status"), "failed");
    assert_null(json_object_get(rec, "job_id"));
    assert_null(json_object_get(rec, "request_id"));
    assert_string_equal(str(rec, "code"), "iot.ota.X");
    assert_string_equal(str(rec, "message"), "bad");
    assert_string_equal(orch_outcome_code(rec), "iot.ota.X");
    assert_false(orch_outcome_created(rec));
    assert_null(orch_outcome_job_id(rec));
    json_decref(rec);

    /* A server message over several lines is kept on one. */
    res.error_message = "server string to sign is:POST\n/\nFirmwareId=F";
    rec = orch_outcome_record(1, &res, 0, 1);
    assert_string_equal(str(rec, "message"),
                        "server string to sign is:POST / FirmwareId=F");
    json_decref(rec);

    /* Without a code the status stands in. */
    res.status = ORCH_ITEM_NOT_SENT;
    res.error_code = "";
    res.error_message = NULL;
    rec = orch_outcome_record(1, &res, 0, 1);
    assert_null(json_object_get(rec, "code"));
    assert_null(json_object_get(rec, "message"));
    assert_string_equal(orch_outcome_code(rec), "not_sent");
    json_decref(rec);
    assert_string_equal(orch_outcome_code(NULL), "unknown");
    assert_null(orch_outcome_job_id(NULL));
}

static void counts(void **state)
{
    json_t *rows[5];
    struct orch_outcome_counts n;
    size_t i = 0;

    (void)state;
    rows[0] = json_pack("{s:s}", "status", "created");
    rows[1] = json_pack("{s:s}", "status", "failed");
    rows[2] = json_pack("{s:s}", "status", "not_sent");
    rows[3] = NULL;
    rows[4] = json_pack("{s:s}", "status", "created");
    orch_outcome_count(rows, 5, &n);
    assert_int_equal(n.created, 2);
    assert_int_equal(n.failed, 1);
    assert_int_equal(n.other, 2);
    for (i = 0; i < 5; i++)
        json_decref(rows[i]);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(created_takes_the_answers_job),
    cmocka_unit_test(failed_has_no_job),
    cmocka_unit_test(counts))
