/* test_wavemap.c - "<report>.waves.csv": written from a plan, read back,
 * refused when malformed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/model/plan.h"
#include "orch/model/waves.h"
#include "orch/rollout/wavemap.h"
#include "../model/waves_fixture.h"
#include "torture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void waves_file_roundtrip(void **state)
{
    struct orch_chunk *c = chunks_of(6, 200, 50);
    struct orch_wave_plan p;
    struct orch_diag d = {{0}};
    char dir[] = "/tmp/test_waves_XXXXXX";
    char report[128], file[160];
    unsigned *map = NULL;
    size_t n = 0;
    FILE *fp = NULL;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(report, sizeof(report), "%s/r.csv", dir);
    snprintf(file, sizeof(file), "%s.waves.csv", report);
    /* No file: no map. */
    assert_int_equal(orch_wavemap_read(report, &map, &n, &d), 0);
    assert_null(map);
    assert_int_equal(n, 0);

    split("200,600,all", c, 6, &p);
    assert_int_equal(orch_wavemap_write(report, &p, &d), 0);
    assert_int_equal(orch_wavemap_read(report, &map, &n, &d), 0);
    assert_int_equal(n, 6);
    assert_int_equal(map[0], 1);
    assert_int_equal(map[1], 2);
    assert_int_equal(map[2], 2);
    assert_int_equal(map[3], 3);
    assert_int_equal(map[5], 3);
    free(map);
    map = NULL;

    fp = fopen(file, "w");
    assert_non_null(fp);
    fputs("chunk,wave\n1,x\n", fp);
    fclose(fp);
    assert_int_equal(orch_wavemap_read(report, &map, &n, &d), ORCH_ECSV);
    assert_non_null(strstr(d.msg, ":2:"));
    assert_null(map);
    unlink(file);
    rmdir(dir);
    free(c);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(waves_file_roundtrip))
