/* test_cmddoc.c - a command's closing --json document. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "orch/base/cmddoc.h"
#include "orch/base/exitcode.h"
#include "orch/base/msgs.h"
#include "torture.h"

static void delivers_the_document_and_the_event(void **state)
{
    struct torture_capture out, ev;
    json_t *doc = json_pack("{s:s, s:i}", "command", "status", "jobs", 3);
    char *text = NULL;
    char *events = NULL;

    (void)state;
    assert_non_null(doc);
    assert_int_equal(orch_cmddoc_deliver(doc, "status", ORCH_EXIT_OK, "",
                                         torture_capture_open(&out),
                                         torture_capture_open(&ev)),
                     ORCH_EXIT_OK);
    text = torture_capture_close(&out);
    events = torture_capture_close(&ev);
    assert_non_null(strstr(text, "\"jobs\": 3"));
    assert_non_null(strstr(events, "\"event\":\"summary\""));
    free(text);
    free(events);
}

static void no_document_sends_the_minimal_one(void **state)
{
    struct torture_capture out;
    char *text = NULL;
    json_t *doc = NULL;

    (void)state;
    assert_int_equal(orch_cmddoc_deliver(NULL, "cancel", ORCH_EXIT_ABORTED,
                                         "out of memory",
                                         torture_capture_open(&out), NULL),
                     ORCH_EXIT_ABORTED);
    text = torture_capture_close(&out);
    doc = json_loads(text, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(
        json_string_value(json_object_get(doc, "command")), "cancel");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(doc, "exit"), "reason")),
                        "out of memory");
    json_decref(doc);
    free(text);
}

static void a_failed_write_is_told_and_ok_becomes_usage(void **state)
{
    struct torture_capture msgs;
    FILE *ro = fopen("/dev/null", "r");
    FILE *old = NULL;
    char *text = NULL;

    (void)state;
    assert_non_null(ro);
    old = orch_msgs_set_stream(torture_capture_open(&msgs));
    assert_int_equal(orch_cmddoc_deliver(NULL, "status", ORCH_EXIT_OK, "",
                                         ro, NULL),
                     ORCH_EXIT_USAGE);
    assert_int_equal(orch_cmddoc_deliver(NULL, "status", ORCH_EXIT_PARTIAL,
                                         "", ro, NULL),
                     ORCH_EXIT_PARTIAL);
    orch_msgs_set_stream(old);
    text = torture_capture_close(&msgs);
    assert_non_null(strstr(text, "writing the JSON document failed"));
    free(text);
    fclose(ro);
}

static void nothing_asked_writes_nothing(void **state)
{
    json_t *doc = json_object();

    (void)state;
    assert_int_equal(orch_cmddoc_deliver(doc, "status", ORCH_EXIT_PARTIAL,
                                         "", NULL, NULL),
                     ORCH_EXIT_PARTIAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delivers_the_document_and_the_event),
        cmocka_unit_test(no_document_sends_the_minimal_one),
        cmocka_unit_test(a_failed_write_is_told_and_ok_becomes_usage),
        cmocka_unit_test(nothing_asked_writes_nothing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
