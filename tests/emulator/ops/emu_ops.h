/* emu_ops.h - the operations of ota-emulator's API: the one table of the
 * actions the emulator answers (name, quota class, operation), and the
 * entry that runs one call against the world.
 *
 * The operations themselves live by family: emu_create.c (Create),
 * emu_jobs.c (job queries and cancel), emu_catalog.c (firmware and
 * device lookups). Responses use the field names and nesting of the real
 * API (Data.SimpleOTAJobInfo[], Data.SimpleOTATaskInfo[], FirmwareInfo).
 */
#ifndef EMU_OPS_H
#define EMU_OPS_H

#include "world/emu_call.h"

struct emu_world;

/* The quota class of an action (see emu_server.h for the quotas). */
enum emu_action_class {
    EMU_ACTION_CREATE = 0, /* CreateOTAStaticUpgradeJob */
    EMU_ACTION_QUERY,      /* QueryOTAJob, ListOTA*, QueryOTAFirmware,
                              QueryDeviceDetail */
    EMU_ACTION_CANCEL,     /* CancelOTATaskByJob */
    EMU_ACTION_BATCH,      /* BatchQueryDeviceDetail */
    EMU_ACTION_OTHER,      /* not an action the emulator answers */
    EMU_ACTION_NCLASSES
};

/* The class of `action` (NULL: EMU_ACTION_OTHER). */
enum emu_action_class emu_action_class_of(const char *action);
/* "create", "query", "cancel", "batch", "other". */
const char *emu_action_class_name(enum emu_action_class cls);

/* Executes one call: CreateOTAStaticUpgradeJob, QueryOTAJob,
 * ListOTAJobByFirmware, ListOTATaskByJob, ListOTAJobByDevice,
 * CancelOTATaskByJob, QueryOTAFirmware, BatchQueryDeviceDetail,
 * QueryDeviceDetail. Unknown action: 404 InvalidAction.NotFound.
 * Takes the world's lock for the operation. Returns 0 (r filled; the
 * caller cleans it with emu_result_cleanup) or ORCH_ENOMEM (r empty). */
int emu_world_call(struct emu_world *w, const struct emu_call *c,
                   struct emu_result *r);

#endif
