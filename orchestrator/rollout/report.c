/* report.c - the run's CSV outputs (report.h): the report's row format and
 * the names of its sibling files; the files are written by csvout.h. */
#include "orch/rollout/report.h"

#include <stdlib.h>
#include <string.h>

int orch_report_write_row(struct orch_csv_out *o,
                          const struct orch_report_row *row)
{
    char chunk[24], count[24], attempts[24];
    const char *cells[13];

    snprintf(chunk, sizeof(chunk), "%u", row->chunk);
    snprintf(count, sizeof(count), "%u", row->device_count);
    snprintf(attempts, sizeof(attempts), "%u", row->attempts);
    cells[0] = chunk;
    cells[1] = row->product_key;
    cells[2] = row->firmware_id;
    cells[3] = count;
    cells[4] = row->first_device;
    cells[5] = row->last_device;
    cells[6] = row->status;
    cells[7] = row->job_id;
    cells[8] = row->utc_create;
    cells[9] = row->request_id;
    cells[10] = attempts;
    cells[11] = row->error_code;
    cells[12] = row->error_message;
    return orch_csv_out_row(o, cells, 13);
}

/* suffix ".failed.csv" is appended as it is; a bare word ("failed")
 * becomes ".failed.csv". */
char *orch_report_sibling(const char *report_path, const char *suffix)
{
    size_t a = strlen(report_path), b = strlen(suffix);
    bool bare = suffix[0] != '.';
    char *out = malloc(a + b + (bare ? 6 : 1));

    if (out == NULL)
        return NULL;
    memcpy(out, report_path, a);
    if (bare) {
        out[a] = '.';
        memcpy(out + a + 1, suffix, b);
        memcpy(out + a + 1 + b, ".csv", 5);
    } else {
        memcpy(out + a, suffix, b + 1);
    }
    return out;
}
