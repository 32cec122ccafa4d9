/* waves_fixture.h - helpers of the tests that need a plan split into
 * waves (test_wavespec.c, test_waves.c, rollout/test_wavemap.c). Header-only: static
 * inline, so that a test that uses only some of them builds warning-free.
 * Include after cmocka.h and orch/model/waves.h. */
#ifndef ORCH_TEST_WAVES_FIXTURE_H
#define ORCH_TEST_WAVES_FIXTURE_H

#include "orch/base/err.h"
#include "orch/model/plan.h"
#include "orch/model/waves.h"

#include <stdlib.h>

static inline void parse_ok(const char *spec, struct orch_wave_spec *s)
{
    struct orch_diag d = {{0}};

    if (orch_waves_parse(spec, s, &d) != 0)
        fail_msg("%s: %s", spec, d.msg);
}

static inline struct orch_chunk *chunks_of(size_t n, uint32_t size,
                                           uint32_t last)
{
    struct orch_chunk *c = calloc(n, sizeof(*c));
    size_t i = 0;

    assert_non_null(c);
    for (i = 0; i < n; i++) {
        c[i].index = (uint32_t)i;
        c[i].count = i + 1 == n ? last : size;
    }
    return c;
}

static inline void split(const char *spec, const struct orch_chunk *c,
                         size_t n, struct orch_wave_plan *p)
{
    struct orch_wave_spec s;
    struct orch_diag d = {{0}};

    parse_ok(spec, &s);
    if (orch_waves_split(&s, c, n, p, &d) != 0)
        fail_msg("%s: %s", spec, d.msg);
}

#endif
