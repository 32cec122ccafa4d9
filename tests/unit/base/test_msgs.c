/* test_msgs.c - the program's messages: the colour rule, plain lines off
 * a terminal, JSON lines with --log-format json. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/base/msgs.h"
#include "torture.h"

#include <jansson.h>

#include <stdlib.h>
#include <string.h>

static void color_rule(void **state)
{
    (void)state;
    assert_true(orch_msgs_color_wanted(true, NULL, "xterm"));
    assert_true(orch_msgs_color_wanted(true, "", NULL));
    assert_false(orch_msgs_color_wanted(false, NULL, "xterm"));
    assert_false(orch_msgs_color_wanted(true, "1", "xterm"));
    assert_false(orch_msgs_color_wanted(true, NULL, "dumb"));
}

/* Messages: plain off a terminal, JSON lines with --log-format json, the
 * last error kept for the exit reason. */
static void messages_plain_and_json(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    FILE *old = orch_msgs_set_stream(fp);
    json_t *ev = NULL;

    (void)state;
    orch_msgs_set_color(false);
    orch_warnf("w %d", 1);
    orch_errorf("bad %s", "thing");
    fflush(fp);
    assert_string_equal(buf, "ota-rollout: warning: w 1\n"
                             "ota-rollout: bad thing\n");
    fclose(fp);
    free(buf);

    buf = NULL;
    fp = open_memstream(&buf, &len);
    orch_msgs_set_stream(fp);
    orch_msgs_set_json(true);
    orch_notef("n \"q\"");
    fflush(fp);
    orch_msgs_set_json(false);
    ev = json_loads(buf, 0, NULL);
    assert_non_null(ev);
    assert_string_equal(torture_json_str(ev, NULL, "level"), "note");
    assert_string_equal(torture_json_str(ev, NULL, "message"), "n \"q\"");
    assert_string_equal(torture_json_str(ev, NULL, "event"), "message");
    json_decref(ev);
    orch_msgs_set_stream(old);
    fclose(fp);
    free(buf);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(color_rule),
    cmocka_unit_test(messages_plain_and_json))
