/* wavemap.h - "<report>.waves.csv": the wave of each chunk of a waved run.
 *
 * The report's header is fixed, so a waved run writes each chunk's wave to
 * this sibling file instead of a column; `status` reads it back to show
 * per-wave counts (rollout.h).
 */
#ifndef ORCH_WAVEMAP_H
#define ORCH_WAVEMAP_H

#include <stddef.h>

struct orch_diag;
struct orch_wave_plan;

#define ORCH_WAVES_FILE_SUFFIX ".waves.csv"
#define ORCH_WAVES_FILE_HEADER "chunk,wave"

/* Writes "<report>.waves.csv": one row "chunk,wave" (both 1-based) per
 * chunk of the plan. 0 or ORCH_EIO / ORCH_ENOMEM with diag. */
int orch_wavemap_write(const char *report_path,
                       const struct orch_wave_plan *plan,
                       struct orch_diag *diag);

/* Reads "<report>.waves.csv" if it exists: *waves_of gets a malloced
 * array [*n] with the 1-based wave of chunk i+1 (0 if not listed); the
 * caller frees it. Returns 0 (with *waves_of NULL and *n 0 when there is
 * no file), ORCH_ECSV for a malformed file, ORCH_ENOMEM. */
int orch_wavemap_read(const char *report_path, unsigned **waves_of, size_t *n,
                      struct orch_diag *diag);

#endif
