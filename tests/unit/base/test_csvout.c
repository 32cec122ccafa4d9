/* test_csvout.c - CSV output files: quoting, formula neutralisation, file
 * mode, buffering and append/resume behaviour. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/base/csvout.h"
#include "torture.h"

static char *tmp_path(void)
{
    return torture_tmp_name("test_csvout");
}

static void check_cell(const char *in, const char *want)
{
    char buf[256];
    size_t n = orch_csv_format_cell(buf, sizeof(buf), in);

    assert_int_equal(n, strlen(want));
    assert_string_equal(buf, want);
}

static void test_cell_quoting(void **state)
{
    (void)state;
    check_cell("plain", "plain");
    check_cell("", "");
    check_cell(NULL, "");
    check_cell("a,b", "\"a,b\"");
    check_cell("say \"hi\"", "\"say \"\"hi\"\"\"");
    check_cell("line1\nline2", "\"line1\nline2\"");
    check_cell("cr\rhere", "\"cr\rhere\"");
    check_cell(" padded ", "\" padded \"");
}

static void test_cell_neutralised(void **state)
{
    (void)state;
    check_cell("=SUM(A1:A9)", "'=SUM(A1:A9)");
    check_cell("+1", "'+1");
    check_cell("-2", "'-2");
    check_cell("@cmd", "'@cmd");
    check_cell("\tx", "'\tx");
    check_cell("\rx", "\"'\rx\"");
    check_cell("=HYPERLINK(\"http://x\",\"y\")",
               "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
    check_cell("=a ", "\"'=a \"");
    /* Not at the start: left alone. */
    check_cell("a=b", "a=b");
    check_cell("a-b", "a-b");
}

static void test_cell_small_buffer(void **state)
{
    char buf[4];
    size_t n = 0;

    (void)state;
    n = orch_csv_format_cell(buf, sizeof(buf), "=abcdef");
    assert_int_equal(n, 8);
    assert_int_equal(strlen(buf), 3);
    assert_memory_equal(buf, "'=a", 3);
    n = orch_csv_format_cell(buf, sizeof(buf), "a,bcdef");
    assert_int_equal(n, 9);
    assert_int_equal(strlen(buf), 3);
    n = orch_csv_format_cell(NULL, 0, "=\"x\"");
    assert_int_equal(n, strlen("\"'=\"\"x\"\"\""));
}

static void test_open_mode_and_rows(void **state)
{
    char *path = tmp_path();
    struct orch_csv_out o;
    struct orch_diag diag;
    struct stat st;
    const char *cells[] = {"a,b", NULL, "=1+1", "ok"};
    char *text = NULL;
    mode_t old = umask(0);

    (void)state;
    assert_int_equal(orch_csv_out_open(&o, path, "h1,h2,h3,h4", &diag), 0);
    umask(old);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(orch_csv_out_row(&o, cells, 4), 0);
    /* Flushed after every row: visible before close. */
    text = torture_read_file(path, NULL);
    assert_string_equal(text, "h1,h2,h3,h4\n\"a,b\",,'=1+1,ok\n");
    free(text);
    assert_int_equal(orch_csv_out_close(&o), 0);
    assert_int_equal(orch_csv_out_close(NULL), 0);
    unlink(path);
    free(path);
}

/* A buffered output keeps rows until close (a file written whole). */
static void test_buffered_rows(void **state)
{
    char *path = tmp_path();
    struct orch_csv_out o;
    struct orch_diag diag;
    const char *cells[] = {"x", "y"};
    char *text = NULL;

    (void)state;
    assert_int_equal(orch_csv_out_open(&o, path, "h1,h2", &diag), 0);
    o.buffered = true;
    assert_int_equal(orch_csv_out_row(&o, cells, 2), 0);
    text = torture_read_file(path, NULL);
    assert_string_equal(text, "h1,h2\n");
    free(text);
    assert_int_equal(orch_csv_out_close(&o), 0);
    text = torture_read_file(path, NULL);
    assert_string_equal(text, "h1,h2\nx,y\n");
    free(text);
    unlink(path);
    free(path);
}

static void test_existing_file_tightened(void **state)
{
    char *path = tmp_path();
    struct orch_csv_out o;
    struct orch_diag diag;
    struct stat st;

    (void)state;
    torture_write_text(path, "old\n");
    chmod(path, 0644);
    assert_int_equal(orch_csv_out_open(&o, path, "h", &diag), 0);
    assert_int_equal(orch_csv_out_close(&o), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 2); /* truncated: "h\n" */
    unlink(path);
    free(path);
}

static void test_append(void **state)
{
    char *path = tmp_path();
    struct orch_csv_out o;
    struct orch_diag diag;
    const char *r1[] = {"1", "x"};
    const char *r2[] = {"2", "y"};
    char *text = NULL;
    FILE *fp = NULL;

    (void)state;
    /* Missing file: created with the header. */
    assert_int_equal(orch_csv_out_append(&o, path, "n,v", &diag), 0);
    assert_int_equal(orch_csv_out_row(&o, r1, 2), 0);
    assert_int_equal(orch_csv_out_close(&o), 0);
    /* A crash left half a row behind: the next row starts on a new line. */
    fp = fopen(path, "a");
    assert_non_null(fp);
    fputs("3,trunc", fp);
    fclose(fp);
    assert_int_equal(orch_csv_out_append(&o, path, "n,v", &diag), 0);
    assert_int_equal(orch_csv_out_row(&o, r2, 2), 0);
    assert_int_equal(orch_csv_out_close(&o), 0);
    text = torture_read_file(path, NULL);
    assert_string_equal(text, "n,v\n1,x\n3,trunc\n2,y\n");
    free(text);
    unlink(path);
    free(path);
}

static void test_open_failure(void **state)
{
    struct orch_csv_out o;
    struct orch_diag diag;

    (void)state;
    assert_int_equal(
        orch_csv_out_open(&o, "/nonexistent-dir/r.csv", "h", &diag), ORCH_EIO);
    assert_non_null(strstr(diag.msg, "/nonexistent-dir/r.csv"));
    assert_null(o.fp);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(test_cell_quoting),
    cmocka_unit_test(test_cell_neutralised),
    cmocka_unit_test(test_cell_small_buffer),
    cmocka_unit_test(test_open_mode_and_rows),
    cmocka_unit_test(test_buffered_rows),
    cmocka_unit_test(test_existing_file_tightened),
    cmocka_unit_test(test_append),
    cmocka_unit_test(test_open_failure))
