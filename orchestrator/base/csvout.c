/* csvout.c - CSV output files (csvout.h): libcsv's quoting, formula
 * neutralisation, mode 0600, a flush per row unless buffered. */
#include "orch/base/csvout.h"

#include "orch/base/buf.h"

#include "orch/base/err.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A cell a spreadsheet would evaluate: = + - @ or a leading TAB/CR. */
static bool formula_like(const char *cell)
{
    return cell[0] != '\0' && strchr("=+-@\t\r", cell[0]) != NULL;
}

/* Quoting is needed for the delimiter, quotes, line breaks, and leading
 * or trailing blanks (readers trim unquoted ones). */
static bool needs_quotes(const char *cell, size_t len)
{
    if (len == 0)
        return false;
    if (cell[0] == ' ' || cell[0] == '\t' || cell[len - 1] == ' ' ||
        cell[len - 1] == '\t')
        return true;
    return strpbrk(cell, ",\"\r\n") != NULL;
}

/* Returns the formatted length (as snprintf: the output is complete and
 * NUL-terminated only when the return value is < bufsz). A neutralised
 * cell is "'" + cell, quoted as a whole when needed: csv_write() quotes the
 * cell one byte further on and its opening quote becomes the "'". */
size_t orch_csv_format_cell(char *buf, size_t bufsz, const char *cell)
{
    size_t len = 0, out = 0, lead = 0;
    bool quote = false;

    if (cell == NULL)
        cell = "";
    len = strlen(cell);
    lead = formula_like(cell) ? 1 : 0;
    /* After a leading "'" only the rest of the cell can need quotes. */
    if (lead)
        quote = strpbrk(cell, ",\"\r\n") != NULL || cell[len - 1] == ' ' ||
                cell[len - 1] == '\t';
    else
        quote = needs_quotes(cell, len);
    if (quote) {
        out = csv_write(bufsz > lead ? buf + lead : NULL,
                        bufsz > lead ? bufsz - lead : 0, cell, len) +
              lead;
        if (lead && bufsz > 1) {
            buf[0] = '"';
            buf[1] = '\'';
        }
    } else {
        out = len + lead;
        if (lead && bufsz)
            buf[0] = '\'';
        if (bufsz > lead)
            memcpy(buf + lead, cell, len < bufsz - lead ? len : bufsz - lead);
    }
    if (bufsz)
        buf[out < bufsz ? out : bufsz - 1] = '\0';
    return out;
}

int orch_csv_format_row(struct orch_buf *b, const char *const *cells,
                        size_t n)
{
    size_t i = 0, len = 0;
    int rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        if (i)
            rc = orch_buf_putc(b, ',');
        len = orch_csv_format_cell(NULL, 0, cells[i]);
        if (rc == 0)
            rc = orch_buf_reserve(b, len);
        if (rc == 0) {
            orch_csv_format_cell(b->data + b->len, len + 1, cells[i]);
            b->len += len;
        }
    }
    if (rc == 0)
        rc = orch_buf_putc(b, '\n');
    return rc;
}

static int write_cell(FILE *fp, const char *cell)
{
    char small[512];
    char *big = NULL;
    char *p = small;
    size_t n = 0;
    int rc = 0;

    if (cell == NULL || cell[0] == '\0')
        return 0;
    n = orch_csv_format_cell(small, sizeof(small), cell);
    if (n >= sizeof(small)) {
        big = malloc(n + 1);
        if (big == NULL)
            return ORCH_ENOMEM;
        orch_csv_format_cell(big, n + 1, cell);
        p = big;
    }
    rc = fwrite(p, 1, n, fp) == n ? 0 : ORCH_EIO;
    free(big);
    return rc;
}

int orch_csv_out_row(struct orch_csv_out *o, const char *const *cells, size_t n)
{
    size_t i = 0;
    int rc = 0;

    if (o == NULL || o->fp == NULL)
        return ORCH_EINVAL;
    for (i = 0; i < n && rc == 0; i++) {
        if (i && fputc(',', o->fp) == EOF)
            rc = ORCH_EIO;
        if (rc == 0)
            rc = write_cell(o->fp, cells[i]);
    }
    if (rc == 0 && fputc('\n', o->fp) == EOF)
        rc = ORCH_EIO;
    if (rc == 0 && !o->buffered && fflush(o->fp) != 0)
        rc = ORCH_EIO;
    return rc;
}

/* Opens path with the given flags, mode 0600 for a new file; wraps it in a
 * FILE. A pre-existing regular file is tightened to 0600 as well. */
static int open_out(struct orch_csv_out *o, const char *path, int flags,
                    struct orch_diag *diag)
{
    struct stat st;
    int fd = -1;

    memset(o, 0, sizeof(*o));
    o->path = strdup(path);
    if (o->path == NULL)
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    /* Appending reads the last byte back (see orch_csv_out_append). */
    fd = open(path,
              flags | ((flags & O_APPEND) ? O_RDWR : O_WRONLY) | O_CREAT |
                  O_CLOEXEC,
              0600);
    if (fd < 0)
        goto fail;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0)
        (void)fchmod(fd, 0600);
    o->fp = fdopen(fd, (flags & O_APPEND) ? "a" : "w");
    if (o->fp == NULL)
        goto fail;
    return 0;
fail:
    orch_diag_set(diag, ORCH_EIO, "%s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    free(o->path);
    o->path = NULL;
    return ORCH_EIO;
}

static int write_header(struct orch_csv_out *o, const char *header,
                        struct orch_diag *diag)
{
    if (header == NULL)
        return 0;
    if (fputs(header, o->fp) == EOF || fputc('\n', o->fp) == EOF ||
        fflush(o->fp) != 0)
        return orch_diag_set(diag, ORCH_EIO, "%s: %s", o->path,
                             strerror(errno));
    return 0;
}

int orch_csv_out_open(struct orch_csv_out *o, const char *path,
                      const char *header, struct orch_diag *diag)
{
    int rc = open_out(o, path, O_TRUNC, diag);

    if (rc == 0)
        rc = write_header(o, header, diag);
    if (rc)
        orch_csv_out_close(o);
    return rc;
}

int orch_csv_out_append(struct orch_csv_out *o, const char *path,
                        const char *header, struct orch_diag *diag)
{
    struct stat st;
    char last = '\n';
    int rc = open_out(o, path, O_APPEND, diag);

    if (rc)
        return rc;
    if (fstat(fileno(o->fp), &st) != 0) {
        rc = orch_diag_set(diag, ORCH_EIO, "%s: %s", path, strerror(errno));
    } else if (st.st_size == 0) {
        rc = write_header(o, header, diag);
    } else if (pread(fileno(o->fp), &last, 1, st.st_size - 1) == 1 &&
               last != '\n') {
        /* A crash cut the last row short: end it so the next row starts
         * on its own line. */
        if (fputc('\n', o->fp) == EOF || fflush(o->fp) != 0)
            rc = orch_diag_set(diag, ORCH_EIO, "%s: %s", path, strerror(errno));
    }
    if (rc)
        orch_csv_out_close(o);
    return rc;
}

int orch_csv_out_close(struct orch_csv_out *o)
{
    int rc = 0;

    if (o == NULL)
        return 0;
    if (o->fp) {
        if (fflush(o->fp) != 0)
            rc = ORCH_EIO;
        if (fclose(o->fp) != 0)
            rc = ORCH_EIO;
    }
    free(o->path);
    o->fp = NULL;
    o->path = NULL;
    return rc;
}
