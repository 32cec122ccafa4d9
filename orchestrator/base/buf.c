/* buf.c - growable NUL-terminated byte buffer. */
#include "orch/base/buf.h"

#include "orch/base/err.h"
#include "orch/base/grow.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void orch_buf_init(struct orch_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void orch_buf_cleanup(struct orch_buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    orch_buf_init(b);
}

void orch_buf_reset(struct orch_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int orch_buf_reserve(struct orch_buf *b, size_t extra)
{
    char *p = NULL;

    if (extra >= SIZE_MAX - b->len)
        return ORCH_ENOMEM;
    p = orch_grow(b->data, &b->cap, b->len + extra + 1, 1, 64);
    if (p == NULL)
        return ORCH_ENOMEM;
    b->data = p;
    return 0;
}

int orch_buf_append(struct orch_buf *b, const void *p, size_t n)
{
    int rc = orch_buf_reserve(b, n);

    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

#define READ_BLOCK 65536

int orch_buf_read_stream(struct orch_buf *b, FILE *fp)
{
    size_t got = 0;
    int rc = 0;

    do {
        rc = orch_buf_reserve(b, READ_BLOCK);
        if (rc)
            return rc;
        got = fread(b->data + b->len, 1, READ_BLOCK, fp);
        b->len += got;
        b->data[b->len] = '\0';
    } while (got > 0);
    return ferror(fp) ? ORCH_EIO : 0;
}

int orch_buf_puts(struct orch_buf *b, const char *s)
{
    return orch_buf_append(b, s, strlen(s));
}

int orch_buf_putc(struct orch_buf *b, char c)
{
    return orch_buf_append(b, &c, 1);
}

int orch_buf_printf(struct orch_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n = 0;
    int rc = 0;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return ORCH_EINVAL;
    rc = orch_buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

const char *orch_buf_str(const struct orch_buf *b)
{
    return b->data ? b->data : "";
}

char *orch_buf_detach(struct orch_buf *b)
{
    char *s = b->data;

    if (s == NULL)
        s = calloc(1, 1);
    orch_buf_init(b);
    return s;
}
