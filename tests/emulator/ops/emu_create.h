/* emu_create.h - CreateOTAStaticUpgradeJob: checks the request
 * (emu_create_check.h), then the world (product, firmware, devices),
 * and creates the job and a task per selected device.
 */
#ifndef EMU_CREATE_H
#define EMU_CREATE_H

#include "world/emu_model.h"

/* Runs Create with the world's lock held. Returns 0 with r filled (the
 * new JobId, or the refusal) or ORCH_ENOMEM. On success *job is the new
 * job (else NULL), so that the caller can list its devices after
 * unlocking: a job's tasks never change device. */
int emu_op_create(struct emu_world *w, const struct emu_call *c,
                  struct emu_result *r, struct emu_job **job);

#endif
