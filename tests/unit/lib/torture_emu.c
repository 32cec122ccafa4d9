/* torture_emu.c - the unit tests' emulator world (see torture.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "torture.h"

#include "world/emu_fixture.h"
#include "world/emu_world.h"
#include "orch/base/err.h"

#include <string.h>

struct emu_world *torture_emu_world(bool auto_create, double speed,
                                    double ratio, uint64_t seed,
                                    const char *instance_id)
{
    struct emu_world_opts o = {
        .auto_create = auto_create,
        .seed = seed,
        .sim_speed = speed,
        .success_ratio = ratio,
        .instance_id = instance_id,
    };
    struct orch_diag d;
    struct emu_world *w = emu_world_new(&o);

    assert_non_null(w);
    if (!auto_create)
        assert_int_equal(
            emu_world_load_fixture(w, ORCH_FIXTURES "/emu-world.json", &d), 0);
    return w;
}
