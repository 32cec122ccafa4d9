/* buf.h - a growable byte buffer, always NUL-terminated.
 *
 * Caller-owned struct: orch_buf_init() before use, orch_buf_cleanup() after.
 * Appends return 0 or ORCH_ENOMEM. Not thread-safe. The pointer `data` may
 * move on every append.
 */
#ifndef ORCH_BUF_H
#define ORCH_BUF_H

#include <stddef.h>
#include <stdio.h>

struct orch_buf {
    char *data; /* NULL until the first append, then malloced */
    size_t len;
    size_t cap;
};

void orch_buf_init(struct orch_buf *b);
/* Frees the storage; the struct may be reused after orch_buf_init(). */
void orch_buf_cleanup(struct orch_buf *b);
/* Sets len to 0, keeping the storage. */
void orch_buf_reset(struct orch_buf *b);
/* Makes room for `extra` more bytes (plus the NUL). */
int orch_buf_reserve(struct orch_buf *b, size_t extra);
int orch_buf_append(struct orch_buf *b, const void *p, size_t n);
int orch_buf_puts(struct orch_buf *b, const char *s);
int orch_buf_putc(struct orch_buf *b, char c);
int orch_buf_printf(struct orch_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends what is left of fp, up to its end. Returns 0, ORCH_ENOMEM, or
 * ORCH_EIO when reading fp failed (ferror); on an error b holds what was
 * read before it. Does not close fp. */
int orch_buf_read_stream(struct orch_buf *b, FILE *fp);
/* Returns the string (never NULL: "" when empty); still owned by b. */
const char *orch_buf_str(const struct orch_buf *b);
/* Hands the malloced string to the caller (who frees it) and re-inits b.
 * Returns NULL only on ORCH_ENOMEM for an empty buffer. */
char *orch_buf_detach(struct orch_buf *b);

#endif
