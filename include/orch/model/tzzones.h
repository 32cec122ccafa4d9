/* tzzones.h - the time zone of each zone group of a plan (plan.h) for
 * --window: the zone of --time-zone for the one group, or with
 * --time-zone-column the zone each distinct value of the column names
 * (group z is the column's value z), each loaded once from the tz
 * database (tzdb.h) however many rows name it.
 *
 * struct orch_tzzones is caller-owned: orch_tzzones_load fills it,
 * orch_tzzones_cleanup frees the zones. Not thread-safe while loading; the
 * loaded zones are immutable (tzdb.h).
 */
#ifndef ORCH_TZZONES_H
#define ORCH_TZZONES_H

#include <stddef.h>

struct orch_config;
struct orch_diag;
struct orch_inventory;
struct orch_tz;

struct orch_tzzones {
    struct orch_tz **tz; /* [n] owned, tz[z] the zone of zone group z */
    size_t n;            /* 1 with --time-zone; the column's distinct
                            values with --time-zone-column (0 when the
                            inventory has no row) */
};

/* Loads the zones cfg names (cfg->time_zone, or the values of
 * cfg->time_zone_column kept in inv->keys[ORCH_INV_KEY_ZONE]) from
 * directory dir (NULL: orch_tz_default_dir()) into z (zeroed first).
 * Returns 0, or ORCH_ENOTFOUND / ORCH_EIO with diag: "--time-zone:
 * unknown time zone ...", or "FILE:LINE: --time-zone-column COL: unknown
 * time zone ..." at the first row of the first value that is not a zone;
 * ORCH_ECONFIG when cfg names no zone or inv was read without the column;
 * ORCH_ENOMEM. z must be cleaned up either way. */
int orch_tzzones_load(struct orch_tzzones *z, const struct orch_config *cfg,
                      const struct orch_inventory *inv, const char *dir,
                      struct orch_diag *diag);

/* Frees the zones and zeroes z; NULL-safe. */
void orch_tzzones_cleanup(struct orch_tzzones *z);

#endif
