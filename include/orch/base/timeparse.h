/* timeparse.h - times and durations as operators type them.
 *
 * Times: ISO-8601 with an explicit zone ("2026-12-01T03:00:00Z",
 * "2026-12-01T11:00:00+08:00", fractional seconds allowed) or a 13-digit
 * epoch-ms number. A time without a zone is refused (its meaning would
 * depend on the machine). Durations: "90s", "15m", "2h", "1d". Pure.
 */
#ifndef ORCH_TIMEPARSE_H
#define ORCH_TIMEPARSE_H

#include <stdint.h>

struct orch_diag;

/* Returns 0 and *out_ms, or ORCH_ETIME with diag explaining. */
int orch_time_parse(const char *s, int64_t *out_ms, struct orch_diag *diag);
/* Returns 0 and *out_ms, or ORCH_ETIME. */
int orch_duration_parse(const char *s, int64_t *out_ms,
                        struct orch_diag *diag);

#endif
