/* test_jsonout.c - the pure parts of the output for machines: the exit
 * object and base document every --json document shares, exit names, the
 * event shape, and the delivery of a final document. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/base/jsonout.h"
#include "torture.h"

#include <stdlib.h>
#include <string.h>

static void exit_names(void **state)
{
    (void)state;
    assert_string_equal(orch_exit_name(0), "ok");
    assert_string_equal(orch_exit_name(1), "partial");
    assert_string_equal(orch_exit_name(2), "usage");
    assert_string_equal(orch_exit_name(3), "inventory");
    assert_string_equal(orch_exit_name(4), "aborted");
    assert_string_equal(orch_exit_name(5), "gate");
    assert_string_equal(orch_exit_name(6), "paused");
    assert_string_equal(orch_exit_name(77), "unknown");
}

/* The exit object and the base document every --json document shares. */
static void exit_object_and_base_document(void **state)
{
    json_t *ex = NULL, *doc = NULL;

    (void)state;
    ex = orch_jsonout_exit(1, "3 jobs failed");
    assert_non_null(ex);
    assert_int_equal(json_object_size(ex), 3);
    assert_int_equal(torture_json_num(ex, NULL, "code"), 1);
    assert_string_equal(torture_json_str(ex, NULL, "name"), "partial");
    assert_string_equal(torture_json_str(ex, NULL, "reason"), "3 jobs failed");
    json_decref(ex);
    /* No reason (NULL or ""): the code's default text. */
    ex = orch_jsonout_exit(6, "");
    assert_string_equal(torture_json_str(ex, NULL, "name"), "paused");
    assert_non_null(strstr(torture_json_str(ex, NULL, "reason"), "resume"));
    json_decref(ex);
    ex = orch_jsonout_exit(5, NULL);
    assert_string_equal(torture_json_str(ex, NULL, "name"), "gate");
    assert_non_null(strstr(torture_json_str(ex, NULL, "reason"), "gate"));
    json_decref(ex);

    doc = orch_jsonout_doc("status", 2, "no such report");
    assert_non_null(doc);
    assert_int_equal(json_object_size(doc), 3);
    assert_int_equal(torture_json_num(doc, NULL, "schema"),
                     ORCH_JSONOUT_SCHEMA);
    assert_string_equal(torture_json_str(doc, NULL, "command"), "status");
    assert_int_equal(torture_json_num(doc, "exit", "code"), 2);
    assert_string_equal(torture_json_str(doc, "exit", "name"), "usage");
    assert_string_equal(torture_json_str(doc, "exit", "reason"),
                        "no such report");
    json_decref(doc);
}

static void built_keeps_or_drops_the_object(void **state)
{
    json_t *o = json_object();
    json_t *kept = NULL;
    int bad = 0;

    (void)state;
    assert_non_null(o);
    bad |= orch_jsonout_put(o, "n", orch_jsonout_count(3));
    kept = orch_jsonout_built(o, bad);
    assert_ptr_equal(kept, o);
    assert_int_equal(json_integer_value(json_object_get(kept, "n")), 3);
    bad |= orch_jsonout_put(kept, "lost", NULL);
    assert_int_not_equal(bad, 0);
    assert_null(orch_jsonout_built(kept, bad));
    assert_null(orch_jsonout_built(NULL, 1));
}

static void event_shape(void **state)
{
    json_t *ev = orch_event_new("sent", 1700000000123LL);

    (void)state;
    assert_non_null(ev);
    assert_string_equal(torture_json_str(ev, NULL, "event"), "sent");
    assert_int_equal(torture_json_num(ev, NULL, "ts"), 1700000000123LL);
    assert_string_equal(torture_json_str(ev, NULL, "time"),
                        "2023-11-14T22:13:20.123Z");
    json_decref(ev);
}

static void event_emit_one_line(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    json_t *ev = orch_event_new("created", 0);

    (void)state;
    json_object_set_new(ev, "chunk", json_integer(3));
    orch_event_emit(fp, ev);
    orch_event_emit(fp, NULL);
    fclose(fp);
    assert_string_equal(buf, "{\"chunk\":3,\"event\":\"created\","
                             "\"time\":\"1970-01-01T00:00:00.000Z\","
                             "\"ts\":0}\n");
    free(buf);
}

/* The final document: on the --json stream, as a "summary" event on the
 * log stream, either or both; a stream that fails is an error. */
static void deliver_document(void **state)
{
    json_t *doc = json_pack("{s:s}", "command", "cancel");
    char *out = NULL, *log = NULL;
    size_t outn = 0, logn = 0;
    FILE *ofp = open_memstream(&out, &outn);
    FILE *lfp = open_memstream(&log, &logn);
    FILE *full = fopen("/dev/full", "w");

    (void)state;
    assert_non_null(doc);
    assert_non_null(ofp);
    assert_non_null(lfp);
    assert_int_equal(orch_jsonout_deliver(doc, ofp, lfp, 1000), 0);
    fclose(ofp);
    fclose(lfp);
    assert_non_null(strstr(out, "\"command\": \"cancel\""));
    assert_non_null(strstr(log, "\"event\":\"summary\""));
    assert_non_null(strstr(log, "\"summary\":{\"command\":\"cancel\"}"));
    assert_int_equal(doc->refcount, 1); /* borrowed */
    /* Neither stream: nothing to do. */
    assert_int_equal(orch_jsonout_deliver(doc, NULL, NULL, 1000), 0);
    /* No document (out of memory) is an error only where one was due. */
    assert_int_equal(orch_jsonout_deliver(NULL, NULL, stderr, 1000), 0);
    assert_int_equal(orch_jsonout_deliver(NULL, stdout, NULL, 1000),
                     ORCH_EIO);
    if (full != NULL) {
        assert_int_equal(orch_jsonout_deliver(doc, full, NULL, 1000),
                         ORCH_EIO);
        fclose(full);
    }
    free(out);
    free(log);
    json_decref(doc);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(exit_names),
    cmocka_unit_test(exit_object_and_base_document),
    cmocka_unit_test(built_keeps_or_drops_the_object),
    cmocka_unit_test(event_shape),
    cmocka_unit_test(event_emit_one_line),
    cmocka_unit_test(deliver_document))
