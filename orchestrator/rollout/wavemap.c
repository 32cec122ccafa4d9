/* wavemap.c - "<report>.waves.csv", the wave of each chunk (wavemap.h). */
#include "orch/rollout/wavemap.h"

#include "orch/base/err.h"
#include "orch/model/waves.h"
#include "orch/rollout/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int orch_wavemap_write(const char *report_path,
                       const struct orch_wave_plan *plan,
                       struct orch_diag *diag)
{
    char *path = orch_report_sibling(report_path, ORCH_WAVES_FILE_SUFFIX);
    struct orch_csv_out o;
    char chunk[24], wave[24];
    const char *cells[2] = {chunk, wave};
    size_t k = 0, i = 0;
    int rc = 0;

    memset(&o, 0, sizeof(o));
    if (path == NULL)
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    rc = orch_csv_out_open(&o, path, ORCH_WAVES_FILE_HEADER, diag);
    for (k = 0; rc == 0 && k < plan->n; k++) {
        for (i = plan->w[k].first; rc == 0 && i < plan->w[k].end; i++) {
            snprintf(chunk, sizeof(chunk), "%zu", i + 1);
            snprintf(wave, sizeof(wave), "%zu", k + 1);
            rc = orch_csv_out_row(&o, cells, 2);
        }
    }
    if (orch_csv_out_close(&o) != 0 && rc == 0)
        rc = ORCH_EIO;
    if (rc && diag->msg[0] == '\0')
        orch_diag_set(diag, rc, "%s: write failed", path);
    free(path);
    return rc;
}

int orch_wavemap_read(const char *report_path, unsigned **waves_of, size_t *n,
                      struct orch_diag *diag)
{
    char *path = orch_report_sibling(report_path, ORCH_WAVES_FILE_SUFFIX);
    FILE *fp = NULL;
    char line[128];
    unsigned *map = NULL;
    size_t cap = 0, lineno = 0;
    int rc = 0;

    *waves_of = NULL;
    *n = 0;
    if (path == NULL)
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    fp = fopen(path, "r");
    if (fp == NULL) {
        free(path);
        return 0;
    }
    while (fgets(line, sizeof(line), fp)) {
        unsigned long chunk = 0, wave = 0;
        char extra = 0;

        lineno++;
        if (lineno == 1) {
            if (strncmp(line, ORCH_WAVES_FILE_HEADER,
                        strlen(ORCH_WAVES_FILE_HEADER)) != 0) {
                rc =
                    orch_diag_set(diag, ORCH_ECSV, "%s:1: header is not \"%s\"",
                                  path, ORCH_WAVES_FILE_HEADER);
                break;
            }
            continue;
        }
        if (sscanf(line, "%lu,%lu%c", &chunk, &wave, &extra) < 2 ||
            (extra && extra != '\n' && extra != '\r') || chunk == 0 ||
            chunk > 100000000UL || wave == 0 || wave > ORCH_WAVES_MAX) {
            rc = orch_diag_set(diag, ORCH_ECSV, "%s:%zu: not \"chunk,wave\"",
                               path, lineno);
            break;
        }
        if (chunk > cap) {
            size_t ncap = cap ? cap : 64;
            unsigned *grown = NULL;

            while (ncap < chunk)
                ncap *= 2;
            grown = realloc(map, ncap * sizeof(*grown));
            if (grown == NULL) {
                rc = orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
                break;
            }
            memset(grown + cap, 0, (ncap - cap) * sizeof(*grown));
            map = grown;
            cap = ncap;
        }
        map[chunk - 1] = (unsigned)wave;
        if (chunk > *n)
            *n = chunk;
    }
    fclose(fp);
    free(path);
    if (rc) {
        free(map);
        *n = 0;
        return rc;
    }
    *waves_of = map;
    return 0;
}
