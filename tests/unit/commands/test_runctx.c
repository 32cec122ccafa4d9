/* test_runctx.c - the run state's shared steps: where a left-out row goes
 * (the rejects file of a run, the rows shown by plan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/commands/runctx.h"
#include "orch/model/config.h"
#include "orch/rollout/runfiles.h"
#include "torture.h"

static void left_out_rows_are_shown_without_a_rejects_file(void **state)
{
    struct orch_config cfg;
    struct orch_run *ctx = NULL;
    struct orch_summary_rows shown;

    (void)state;
    orch_config_init(&cfg);
    memset(&shown, 0, sizeof(shown));
    ctx = orch_runctx_new(&cfg);
    assert_non_null(ctx);
    assert_false(ctx->files.rejects_open);
    assert_int_equal(orch_runctx_left_out(ctx, &shown, 7, "=bad", "invalid"),
                     0);
    assert_int_equal(shown.n, 1);
    assert_non_null(strstr(shown.line[0], "line 7"));
    assert_non_null(strstr(shown.line[0], "invalid"));
    orch_runctx_free(ctx);
    orch_config_cleanup(&cfg);
}

static void left_out_rows_go_to_the_open_rejects_file(void **state)
{
    struct orch_config cfg;
    struct orch_run *ctx = NULL;
    struct orch_summary_rows shown;
    struct orch_diag diag = {{0}};
    char dir[256];
    char report[512];
    char rejects[600];
    char *text = NULL;

    (void)state;
    orch_config_init(&cfg);
    memset(&shown, 0, sizeof(shown));
    torture_mkdtemp(dir, sizeof(dir), "runctx");
    snprintf(report, sizeof(report), "%s/report.csv", dir);
    snprintf(rejects, sizeof(rejects), "%s.rejects.csv", report);
    ctx = orch_runctx_new(&cfg);
    assert_non_null(ctx);
    orch_runfiles_init(&ctx->files, report, NULL, NULL, NULL);
    assert_int_equal(orch_runfiles_open_rejects(&ctx->files, &diag), 0);
    assert_int_equal(orch_runctx_left_out(ctx, &shown, 9, "x1", "too short"),
                     0);
    assert_int_equal(shown.n, 0);
    assert_int_equal(orch_runfiles_close(&ctx->files), 0);
    text = torture_read_file(rejects, NULL);
    assert_non_null(strstr(text, "9,x1,too short\n"));
    free(text);
    orch_runctx_free(ctx);
    orch_config_cleanup(&cfg);
    torture_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(left_out_rows_are_shown_without_a_rejects_file),
        cmocka_unit_test(left_out_rows_go_to_the_open_rejects_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
