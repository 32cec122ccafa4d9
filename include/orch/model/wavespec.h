/* wavespec.h - the --waves spec: cumulative wave targets, parsed and
 * checked before any plan exists; and the shares of the gate thresholds.
 * Pure functions. The split of a plan by a spec is waves.h.
 *
 * Spec forms (cumulative targets, increasing, the last covers everything):
 *   "1%,10%,100%"    shares with a percent sign
 *   "0.01,0.1,1"     shares as fractions (a spec with a decimal point in
 *                    any element reads every bare number as a share)
 *   "200,5000,all"   device counts; "all" (or 100%) is the whole plan
 *   "200,10%,all"    counts and percentages may be mixed
 */
#ifndef ORCH_WAVESPEC_H
#define ORCH_WAVESPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct orch_diag;

#define ORCH_WAVES_MAX 32

enum orch_wave_unit { ORCH_WAVE_SHARE = 0, ORCH_WAVE_DEVICES, ORCH_WAVE_ALL };

struct orch_wave_target {
    enum orch_wave_unit unit;
    double share;     /* ORCH_WAVE_SHARE: 0 < share <= 1 */
    uint64_t devices; /* ORCH_WAVE_DEVICES: >= 1 */
    char text[24];    /* as typed, for messages */
};

struct orch_wave_spec {
    struct orch_wave_target t[ORCH_WAVES_MAX];
    size_t n;
};

/* Parses a --waves spec (see above). Returns 0, or ORCH_ECONFIG with diag
 * "--waves: ..." (empty element, not a number, share above 100%, targets
 * not increasing, more than ORCH_WAVES_MAX waves, a last target that is
 * not the whole plan when it is a share). Pure. */
int orch_waves_parse(const char *spec, struct orch_wave_spec *out,
                     struct orch_diag *diag);

/* The cumulative device count of target t over a plan of total devices:
 * a share rounds up (at least 1 device), a count is capped at total, "all"
 * is total. prev is the previous target's count: a smaller one is
 * ORCH_ECONFIG with diag ("sizes are cumulative"). Pure. */
int orch_wave_target_devices(const struct orch_wave_target *t, uint64_t total,
                             uint64_t prev, uint64_t *out,
                             struct orch_diag *diag);

/* Parses a share: "95%" or "0.95" (0 < share <= 1; "0%"/"0" refused).
 * opt names the option in diag. 0 or ORCH_ECONFIG. Pure. */
int orch_share_parse(const char *opt, const char *s, double *out,
                     struct orch_diag *diag);

#endif
