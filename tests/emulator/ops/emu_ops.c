/* emu_ops.c - the action table and the call dispatcher of ota-emulator.
 *
 * DESIGN: one mutex guards the whole world; emu_world_call() takes it for
 * the duration of one operation. The device list of a new job (for the
 * request log) is built after unlocking: its tasks and their devices'
 * names never change.
 */
#include "ops/emu_ops.h"

#include "ops/emu_catalog.h"
#include "ops/emu_create.h"
#include "ops/emu_jobs.h"
#include "world/emu_model.h"
#include "world/emu_reply.h"

#include "orch/base/err.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef int (*op_fn)(struct emu_world *, const struct emu_call *,
                     struct emu_result *);

static const struct {
    const char *action;
    enum emu_action_class cls;
    op_fn fn; /* NULL: emu_op_create, which also returns the job */
} ops[] = {
    {"CreateOTAStaticUpgradeJob", EMU_ACTION_CREATE, NULL},
    {"QueryOTAJob", EMU_ACTION_QUERY, emu_op_query_job},
    {"ListOTAJobByFirmware", EMU_ACTION_QUERY, emu_op_list_job_by_firmware},
    {"ListOTATaskByJob", EMU_ACTION_QUERY, emu_op_list_task_by_job},
    {"ListOTAJobByDevice", EMU_ACTION_QUERY, emu_op_list_job_by_device},
    {"CancelOTATaskByJob", EMU_ACTION_CANCEL, emu_op_cancel_task_by_job},
    {"QueryOTAFirmware", EMU_ACTION_QUERY, emu_op_query_firmware},
    {"BatchQueryDeviceDetail", EMU_ACTION_BATCH, emu_op_batch_query_device},
    {"QueryDeviceDetail", EMU_ACTION_QUERY, emu_op_query_device},
};

#define NOPS (sizeof(ops) / sizeof(ops[0]))

/* The index of action in ops[], or NOPS. */
static size_t op_index(const char *action)
{
    size_t i = 0;

    for (i = 0; action && i < NOPS; i++) {
        if (strcmp(action, ops[i].action) == 0)
            return i;
    }
    return NOPS;
}

enum emu_action_class emu_action_class_of(const char *action)
{
    size_t i = op_index(action);

    return i < NOPS ? ops[i].cls : EMU_ACTION_OTHER;
}

const char *emu_action_class_name(enum emu_action_class cls)
{
    static const char *const names[EMU_ACTION_NCLASSES] = {
        "create", "query", "cancel", "batch", "other"};

    if ((int)cls < 0 || cls >= EMU_ACTION_NCLASSES)
        return "other";
    return names[cls];
}

static int job_devices(const struct emu_job *job, struct emu_result *r)
{
    size_t i = 0;

    r->devices = json_array();
    if (r->devices == NULL)
        return ORCH_ENOMEM;
    for (i = 0; i < job->ntasks; i++) {
        if (json_array_append_new(r->devices,
                                  json_string(job->tasks[i].dev->name)))
            return ORCH_ENOMEM;
    }
    return 0;
}

int emu_world_call(struct emu_world *w, const struct emu_call *c,
                   struct emu_result *r)
{
    struct emu_job *job = NULL;
    char msg[256];
    size_t i = op_index(c->action);
    int rc = 0;

    memset(r, 0, sizeof(*r));
    if (i == NOPS) {
        snprintf(msg, sizeof(msg),
                 "Specified api is not found, please check your url and "
                 "method. (Action: %.100s)", c->action ? c->action : "");
        return emu_gateway_fail(r, c, 404, "InvalidAction.NotFound", msg);
    }
    pthread_mutex_lock(&w->lock);
    if (ops[i].fn)
        rc = ops[i].fn(w, c, r);
    else
        rc = emu_op_create(w, c, r, &job);
    pthread_mutex_unlock(&w->lock);
    if (rc == 0 && job && !c->skip_devices)
        rc = job_devices(job, r);
    if (rc) {
        emu_result_cleanup(r);
        memset(r, 0, sizeof(*r));
    }
    return rc;
}
