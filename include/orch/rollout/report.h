/* report.h - the run's CSV outputs, written with csvout.h's writer.
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

#include "orch/base/csvout.h" /* struct orch_csv_out, its writer */

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

/* Writes one report row (see the header) into o. */
int orch_report_write_row(struct orch_csv_out *o,
                          const struct orch_report_row *row);

/* Derived file names: "<report>.failed.csv", "<report>.rejects.csv";
 * malloced, caller frees. */
char *orch_report_sibling(const char *report_path, const char *suffix);

#endif
