/* wavemap.c - "<report>.waves.csv", the wave of each chunk (wavemap.h). */
#include "orch/rollout/wavemap.h"

#include "orch/base/err.h"
#include "orch/base/grow.h"
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

/* The map being read: wave of chunk i+1 at at[i], 0 when not listed. */
struct map {
    unsigned *at;
    size_t cap, n;
};

/* Room for chunk numbers up to `chunk`. 0 or ORCH_ENOMEM. */
static int grow_map(struct map *m, unsigned long chunk)
{
    size_t old = m->cap;
    unsigned *grown = NULL;

    if (chunk <= old)
        return 0;
    grown = orch_grow(m->at, &m->cap, chunk, sizeof(*grown), 64);
    if (grown == NULL)
        return ORCH_ENOMEM;
    memset(grown + old, 0, (m->cap - old) * sizeof(*grown));
    m->at = grown;
    return 0;
}

/* One line of the file (lineno from 1: the header). 0, ORCH_ECSV or
 * ORCH_ENOMEM with diag. */
static int read_line(struct map *m, const char *line, size_t lineno,
                     const char *path, struct orch_diag *diag)
{
    unsigned long chunk = 0, wave = 0;
    char extra = 0;

    if (lineno == 1) {
        if (strncmp(line, ORCH_WAVES_FILE_HEADER,
                    strlen(ORCH_WAVES_FILE_HEADER)) != 0)
            return orch_diag_set(diag, ORCH_ECSV, "%s:1: header is not \"%s\"",
                                 path, ORCH_WAVES_FILE_HEADER);
        return 0;
    }
    if (sscanf(line, "%lu,%lu%c", &chunk, &wave, &extra) < 2 ||
        (extra && extra != '\n' && extra != '\r') || chunk == 0 ||
        chunk > 100000000UL || wave == 0 || wave > ORCH_WAVES_MAX)
        return orch_diag_set(diag, ORCH_ECSV, "%s:%zu: not \"chunk,wave\"",
                             path, lineno);
    if (grow_map(m, chunk))
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    m->at[chunk - 1] = (unsigned)wave;
    if (chunk > m->n)
        m->n = chunk;
    return 0;
}

int orch_wavemap_read(const char *report_path, unsigned **waves_of, size_t *n,
                      struct orch_diag *diag)
{
    char *path = orch_report_sibling(report_path, ORCH_WAVES_FILE_SUFFIX);
    FILE *fp = NULL;
    char line[128];
    struct map m;
    size_t lineno = 0;
    int rc = 0;

    memset(&m, 0, sizeof(m));
    *waves_of = NULL;
    *n = 0;
    if (path == NULL)
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    fp = fopen(path, "r");
    if (fp == NULL) {
        free(path);
        return 0;
    }
    while (rc == 0 && fgets(line, sizeof(line), fp))
        rc = read_line(&m, line, ++lineno, path, diag);
    fclose(fp);
    free(path);
    if (rc) {
        free(m.at);
        return rc;
    }
    *waves_of = m.at;
    *n = m.n;
    return 0;
}
