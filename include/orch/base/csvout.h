/* csvout.h - CSV output files, written with libcsv's quoting.
 *
 * A file is created (or appended to) with mode 0600; a pre-existing
 * regular file is tightened to 0600. Each record is one line ending in
 * "\n" (no CR). A cell a spreadsheet would take as a formula (first char
 * = + - @ TAB CR) is neutralised with a leading single quote. Rows are
 * flushed one by one unless the output is buffered, so that a crash loses
 * at most the row in flight. Not thread-safe; one writer per file.
 */
#ifndef ORCH_CSVOUT_H
#define ORCH_CSVOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct orch_diag;

/* An open CSV output file. Owns fp and path until orch_csv_out_close. */
struct orch_csv_out {
    FILE *fp;
    char *path;    /* malloced */
    bool buffered; /* rows are not flushed one by one (a file written
                      whole, then closed and checked); set after open */
};

/* Creates (truncates) path with mode 0600 and writes `header` (a line
 * without newline; NULL: none). Returns 0 or ORCH_EIO (ORCH_ENOMEM) with
 * diag naming the file; on failure o holds nothing to close. */
int orch_csv_out_open(struct orch_csv_out *o, const char *path,
                      const char *header, struct orch_diag *diag);
/* Opens path for appending, creating it with the header if missing or
 * empty; a last row cut short (no final newline) is ended first so that
 * the next row starts on its own line. Returns as orch_csv_out_open. */
int orch_csv_out_append(struct orch_csv_out *o, const char *path,
                        const char *header, struct orch_diag *diag);
/* Writes one record of n cells (NULL cells are empty), neutralising
 * formula-like cells, then a CRLF-free "\n", and flushes unless
 * o->buffered (a live report is readable row by row while a run goes
 * on). 0, ORCH_EINVAL (o not open), ORCH_ENOMEM or ORCH_EIO (a buffered
 * write error may surface only at close). */
int orch_csv_out_row(struct orch_csv_out *o, const char *const *cells,
                     size_t n);
/* Flushes, closes and frees; returns ORCH_EIO if the final flush/close
 * failed. NULL-safe; o may be closed again. */
int orch_csv_out_close(struct orch_csv_out *o);

/* Writes `cell` (NULL: "") as a CSV field to buf (quoted when needed,
 * neutralised when formula-like). Returns the formatted length, as
 * snprintf: buf holds the whole field, NUL-terminated, only when the
 * return value is < bufsz (buf may be NULL when bufsz is 0). Pure;
 * exposed for unit tests. */
size_t orch_csv_format_cell(char *buf, size_t bufsz, const char *cell);

struct orch_buf;
/* Appends to b the record of n cells exactly as orch_csv_out_row writes
 * it, its "\n" included. 0 or ORCH_ENOMEM. Pure. */
int orch_csv_format_row(struct orch_buf *b, const char *const *cells,
                        size_t n);

#endif
