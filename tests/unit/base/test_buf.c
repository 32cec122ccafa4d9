/* test_buf.c - the growable byte buffer: reading a whole stream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "orch/base/buf.h"
#include "orch/base/err.h"

/* A stream holding n bytes of a repeating pattern, rewound. */
static FILE *stream_of(size_t n)
{
    FILE *fp = tmpfile();
    size_t i = 0;

    assert_non_null(fp);
    for (i = 0; i < n; i++)
        assert_int_not_equal(fputc('a' + (int)(i % 26), fp), EOF);
    rewind(fp);
    return fp;
}

/* Reads a stream of n bytes from offset `from` after "head:", and checks
 * the buffer holds "head:" and the bytes from there, NUL-terminated. */
static void check_read(size_t n, long from)
{
    FILE *fp = stream_of(n);
    struct orch_buf b;
    size_t i = 0;

    orch_buf_init(&b);
    assert_int_equal(orch_buf_puts(&b, "head:"), 0);
    assert_int_equal(fseek(fp, from, SEEK_SET), 0);
    assert_int_equal(orch_buf_read_stream(&b, fp), 0);
    assert_int_equal(b.len, 5 + n - (size_t)from);
    assert_memory_equal(b.data, "head:", 5);
    for (i = (size_t)from; i < n; i++)
        assert_int_equal(b.data[5 + i - (size_t)from], 'a' + (int)(i % 26));
    assert_int_equal(b.data[b.len], '\0');
    orch_buf_cleanup(&b);
    fclose(fp);
}

static void a_read_error_is_eio(void **state)
{
    /* Reading a stream opened only for writing fails. */
    FILE *fp = fopen("/dev/null", "w");
    struct orch_buf b;

    (void)state;
    assert_non_null(fp);
    orch_buf_init(&b);
    assert_int_equal(orch_buf_read_stream(&b, fp), ORCH_EIO);
    assert_int_equal(b.len, 0);
    orch_buf_cleanup(&b);
    fclose(fp);
}

static void reads_the_rest_of_a_stream_whole(void **state)
{
    (void)state;
    check_read(200000, 0); /* more than one read block */
    check_read(0, 0);      /* an empty stream adds nothing */
    check_read(30, 26);    /* from where the stream stands */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_the_rest_of_a_stream_whole),
        cmocka_unit_test(a_read_error_is_eio),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
