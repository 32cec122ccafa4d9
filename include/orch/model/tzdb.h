/* tzdb.h - IANA time zones (Europe/Berlin, Asia/Kathmandu) read from the
 * system's tz database: UTC offsets at an instant, and the instant of a
 * local wall-clock time.
 *
 * DESIGN: a zone is read once from its TZif file (RFC 8536; version 2+
 * 64-bit transitions, or the version 1 block of an old file) and the POSIX
 * TZ rule of the file's footer, which gives the offsets past the last
 * transition. Nothing here touches TZ, tzset() or localtime(): those read
 * and write process-wide state, and the tool has threads (libcurl's
 * resolver, the credential refresh); a loaded zone is an immutable value,
 * so any number of threads may read one zone at once.
 *
 * Times are epoch seconds. A "local time" is the wall clock of the zone
 * counted as if it were UTC (days_from_civil * 86400 + seconds of day).
 */
#ifndef ORCH_TZDB_H
#define ORCH_TZDB_H

#include <stddef.h>
#include <stdint.h>

struct orch_diag;
struct orch_tz;

/* The zone directory: $TZDIR when set and not empty, else
 * /usr/share/zoneinfo. The pointer is the environment's or a literal:
 * copy it before the environment changes. */
const char *orch_tz_default_dir(void);

/* Whether name looks like an IANA zone name: 1-255 bytes of letters,
 * digits, '/', '_', '-', '+' and '.', no leading '/', no empty, "." or
 * ".." component (so that it cannot name a file outside the directory). */
int orch_tz_name_ok(const char *name);

/* Loads zone `name` from directory dir (NULL: orch_tz_default_dir()).
 * Returns 0 and *out (owned by the caller, orch_tz_free), or
 * ORCH_ENOTFOUND (not a zone name, no such file, or a file of the
 * directory that is not a zone: diag says which), ORCH_EIO (unreadable),
 * ORCH_ENOMEM. */
int orch_tz_load(const char *name, const char *dir, struct orch_tz **out,
                 struct orch_diag *diag);

/* The same from a TZif image in memory (tests, fuzzers). */
int orch_tz_parse(const char *name, const unsigned char *data, size_t len,
                  struct orch_tz **out, struct orch_diag *diag);

/* NULL-safe. */
void orch_tz_free(struct orch_tz *tz);

/* The name it was loaded as (lives as long as tz). */
const char *orch_tz_name(const struct orch_tz *tz);

/* The zone's UTC offset in seconds (east positive) at instant t. */
int32_t orch_tz_offset(const struct orch_tz *tz, int64_t t);

/* The local time of instant t. */
int64_t orch_tz_local(const struct orch_tz *tz, int64_t t);

/* The first instant whose local time is `local`. A local time that
 * happens twice (the hour repeated when the clocks go back) gives its
 * first occurrence; one that does not exist (skipped when the clocks go
 * forward) gives the first instant after the gap (the transition: 02:30
 * on a day that jumps from 02:00 to 03:00 gives 03:00). */
int64_t orch_tz_resolve(const struct orch_tz *tz, int64_t local);

/* Calendar helpers (proleptic Gregorian, any year): days since
 * 1970-01-01 of y-m-d (m 1..12), and back. */
int64_t orch_tz_days_from_civil(int64_t y, unsigned m, unsigned d);
void orch_tz_civil_from_days(int64_t days, int64_t *y, unsigned *m,
                             unsigned *d);

#endif
