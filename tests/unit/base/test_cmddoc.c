/* test_cmddoc.c - a command's closing --json document. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static void wanted_with_json_or_log_format_json(void **state)
{
    (void)state;
    orch_msgs_set_json(false);
    assert_false(orch_cmddoc_wanted(false));
    assert_true(orch_cmddoc_wanted(true));
    orch_msgs_set_json(true);
    assert_true(orch_cmddoc_wanted(false));
    assert_true(orch_cmddoc_wanted(true));
    orch_msgs_set_json(false);
}

/* Runs orch_cmddoc_emit() on {"command":"status","jobs":3} with exit
 * code 3, --json as `json` and --log-format json as `log_json`, with the
 * file descriptor fd (1 or 2) sent to a scratch file; checks the code
 * comes back and returns what reached fd (free it). */
static char *emit_into_fd(int fd, bool json, bool log_json)
{
    json_t *doc = json_pack("{s:s, s:i}", "command", "status", "jobs", 3);
    FILE *fp = fd == STDOUT_FILENO ? stdout : stderr;
    FILE *tmp = tmpfile();
    int saved = -1;
    long len = 0;
    char *text = NULL;

    assert_non_null(doc);
    assert_non_null(tmp);
    orch_msgs_set_json(log_json);
    fflush(fp);
    saved = dup(fd);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), fd) >= 0);
    assert_int_equal(orch_cmddoc_emit(doc, "status", 3, "", json), 3);
    fflush(fp);
    assert_true(dup2(saved, fd) >= 0);
    close(saved);
    orch_msgs_set_json(false);
    len = ftell(tmp);
    text = calloc(1, (size_t)len + 1);
    assert_non_null(text);
    rewind(tmp);
    assert_int_equal(fread(text, 1, (size_t)len, tmp), (size_t)len);
    fclose(tmp);
    return text;
}

static void emit_sends_the_document_to_stdout_with_json(void **state)
{
    char *text = NULL;

    (void)state;
    text = emit_into_fd(STDOUT_FILENO, true, false);
    assert_non_null(strstr(text, "\"jobs\": 3"));
    assert_null(strstr(text, "\"event\""));
    free(text);
}

static void emit_sends_the_event_to_stderr_with_log_format_json(void **state)
{
    char *out = NULL;
    char *err = NULL;

    (void)state;
    err = emit_into_fd(STDERR_FILENO, false, true);
    assert_non_null(strstr(err, "\"event\":\"summary\""));
    /* --json is off: nothing on stdout. */
    out = emit_into_fd(STDOUT_FILENO, false, true);
    assert_string_equal(out, "");
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delivers_the_document_and_the_event),
        cmocka_unit_test(no_document_sends_the_minimal_one),
        cmocka_unit_test(a_failed_write_is_told_and_ok_becomes_usage),
        cmocka_unit_test(nothing_asked_writes_nothing),
        cmocka_unit_test(wanted_with_json_or_log_format_json),
        cmocka_unit_test(emit_sends_the_document_to_stdout_with_json),
        cmocka_unit_test(emit_sends_the_event_to_stderr_with_log_format_json),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
