/* test_err.c - the error table's texts and the one error line of a
 * command's edge (orch_diag_text, orch_error_diag). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/base/msgs.h"
#include "torture.h"

static void diag_text_prefers_the_diag(void **state)
{
    struct orch_diag d = {{0}};

    (void)state;
    assert_string_equal(orch_diag_text(ORCH_EINVAL, NULL),
                        orch_strerror(ORCH_EINVAL));
    assert_string_equal(orch_diag_text(ORCH_EINVAL, &d),
                        orch_strerror(ORCH_EINVAL));
    assert_int_equal(orch_diag_set(&d, ORCH_EINVAL, "inv.csv:%d: bad", 7),
                     ORCH_EINVAL);
    assert_string_equal(orch_diag_text(ORCH_EINVAL, &d), "inv.csv:7: bad");
}

static void error_line_is_prefixed_and_one_line(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    struct orch_diag d = {{0}};

    (void)state;
    assert_non_null(mem);
    orch_msgs_set_stream(mem);
    orch_error_diag(ORCH_ENOMEM, NULL);
    orch_diag_set(&d, ORCH_EIO, "report.csv: disk full");
    orch_error_diag(ORCH_EIO, &d);
    orch_msgs_set_stream(NULL);
    fclose(mem);
    char want[256];
    snprintf(want, sizeof want, "ota-rollout: %s\nota-rollout: report.csv: disk full\n",
             orch_strerror(ORCH_ENOMEM));
    assert_string_equal(buf, want);
    free(buf);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(diag_text_prefers_the_diag),
    cmocka_unit_test(error_line_is_prefixed_and_one_line))
