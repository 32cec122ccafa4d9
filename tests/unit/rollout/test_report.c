/* test_report.c - the report's row format and its sibling file names (the
 * CSV writer itself: test_csvout.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/rollout/report.h"
#include "torture.h"

static char *tmp_path(void)
{
    return torture_tmp_name("test_report");
}

static void test_report_row(void **state)
{
    char *path = tmp_path();
    struct orch_csv_out o;
    struct orch_diag diag;
    struct orch_report_row row;
    char *text = NULL;

    (void)state;
    memset(&row, 0, sizeof(row));
    row.chunk = 3;
    row.product_key = "a1BwAGVabcd";
    row.firmware_id = "FW1";
    row.device_count = 200;
    row.first_device = "-dev-0001";
    row.last_device = "dev-0200";
    row.status = "failed";
    row.job_id = NULL;
    row.utc_create = "";
    row.request_id = "REQ-1";
    row.attempts = 2;
    row.error_code = "iot.ota.FirmwareNotVerified";
    row.error_message = "firmware not verified, \"try\" again";
    assert_int_equal(orch_csv_out_open(&o, path, ORCH_REPORT_HEADER, &diag), 0);
    assert_int_equal(orch_report_write_row(&o, &row), 0);
    assert_int_equal(orch_csv_out_close(&o), 0);
    text = torture_read_file(path, NULL);
    assert_string_equal(text, ORCH_REPORT_HEADER
                        "\n"
                        "3,a1BwAGVabcd,FW1,200,'-dev-0001,dev-0200,failed,,,"
                        "REQ-1,2,iot.ota.FirmwareNotVerified,"
                        "\"firmware not verified, \"\"try\"\" again\"\n");
    free(text);
    unlink(path);
    free(path);
}

static void test_sibling(void **state)
{
    char *s = NULL;

    (void)state;
    s = orch_report_sibling("out/fleet.report.csv", ".failed.csv");
    assert_string_equal(s, "out/fleet.report.csv.failed.csv");
    free(s);
    s = orch_report_sibling("r.csv", "rejects");
    assert_string_equal(s, "r.csv.rejects.csv");
    free(s);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(test_report_row),
    cmocka_unit_test(test_sibling))
