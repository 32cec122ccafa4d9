/* report.h - the run's CSV outputs, written with libcsv's writer.
 *
 *  <report>              one row per chunk, header ORCH_REPORT_HEADER
 *  <report>.failed.csv   every device of a failed / not_sent chunk, as an
 *                        inventory `ota-rollout run` accepts
 *                        (ProductKey,DeviceName,error_code)
 *  <report>.rejects.csv  invalid inventory rows (line,value,reason)
 *
 * Rows are appended and flushed as chunks finish. A cell a spreadsheet would
 * take as a formula (first char = + - @ TAB CR) is neutralised with a
 * leading single quote. Files are created with mode 0600. Not thread-safe.
 */
#ifndef ORCH_REPORT_H
#define ORCH_REPORT_H

#include <stdbool.h>
#include <stdio.h>

struct orch_diag;

#define ORCH_REPORT_HEADER                                                 \
    "chunk,product_key,firmware_id,device_count,first_device,last_device," \
    "status,job_id,utc_create,request_id,attempts,error_code,error_message"

struct orch_report_row {
    unsigned chunk;            /* 1-based */
    const char *product_key;
    const char *firmware_id;
    unsigned device_count;
    const char *first_device;
    const char *last_device;
    const char *status;        /* "created", "failed", "not_sent" */
    const char *job_id;        /* may be NULL or "" */
    const char *utc_create;
    const char *request_id;
    unsigned attempts;
    const char *error_code;
    const char *error_message;
};

/* An open CSV output file. */
struct orch_csv_out {
    FILE *fp;
    char *path;    /* malloced */
    bool buffered; /* rows are not flushed one by one (a file written
                      whole, then closed and checked); set after open */
};

/* Creates (truncates) path with mode 0600 and writes `header` (a line
 * without newline). Returns 0 or ORCH_EIO with diag naming the file. */
int orch_csv_out_open(struct orch_csv_out *o, const char *path,
                      const char *header, struct orch_diag *diag);
/* Opens path for appending (creating it with the header if missing). */
int orch_csv_out_append(struct orch_csv_out *o, const char *path,
                        const char *header, struct orch_diag *diag);
/* Writes one record of n cells (NULL cells are empty), neutralising
 * formula-like cells, then a CRLF-free "\n", and flushes unless
 * o->buffered (a live report is readable row by row while a run goes
 * on). 0 or ORCH_EIO (a buffered write error may surface only at close). */
int orch_csv_out_row(struct orch_csv_out *o, const char *const *cells,
                     size_t n);
/* Closes; returns ORCH_EIO if the final flush/close failed. NULL-safe. */
int orch_csv_out_close(struct orch_csv_out *o);

/* Writes one report row (see the header) into o. */
int orch_report_write_row(struct orch_csv_out *o,
                          const struct orch_report_row *row);

/* Derived file names: "<report>.failed.csv", "<report>.rejects.csv";
 * malloced, caller frees. */
char *orch_report_sibling(const char *report_path, const char *suffix);

/* Writes `cell` as a CSV field to buf (quoted when needed, neutralised
 * when formula-like). Exposed for unit tests. Returns bytes written,
 * or the size needed when bufsz is too small. */
size_t orch_csv_format_cell(char *buf, size_t bufsz, const char *cell);

#endif
