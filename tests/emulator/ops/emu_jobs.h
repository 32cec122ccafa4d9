/* emu_jobs.h - the operations on upgrade jobs after Create.
 *
 * Each runs one call with the world's lock held, and returns 0 with r
 * filled (the answer, or the business error) or ORCH_ENOMEM. Every one
 * checks IotInstanceId against the world's instance.
 *   QueryOTAJob            JobId -> Data (the whole job)
 *   ListOTAJobByFirmware   FirmwareId, PageSize (1..200), CurrentPage ->
 *                          the firmware's jobs, newest first
 *   ListOTATaskByJob       JobId, TaskStatus?, DeviceNames.N? (at most 50;
 *                          then paging is ignored), PageSize (1..100, 10),
 *                          CurrentPage (1) -> the job's tasks
 *   ListOTAJobByDevice     ProductKey, DeviceName, FirmwareId, PageSize
 *                          (1..100), CurrentPage -> the device's jobs of
 *                          that firmware, newest first
 *   CancelOTATaskByJob     JobId, Cancel{Queued,Notified,InProgress,
 *                          Unconfirmed,Scheduled}Task (at least one true)
 *                          -> the matching unfinished tasks CANCELED
 */
#ifndef EMU_JOBS_H
#define EMU_JOBS_H

#include "world/emu_model.h"

int emu_op_query_job(struct emu_world *w, const struct emu_call *c,
                     struct emu_result *r);
int emu_op_list_job_by_firmware(struct emu_world *w, const struct emu_call *c,
                                struct emu_result *r);
int emu_op_list_task_by_job(struct emu_world *w, const struct emu_call *c,
                            struct emu_result *r);
int emu_op_list_job_by_device(struct emu_world *w, const struct emu_call *c,
                              struct emu_result *r);
int emu_op_cancel_task_by_job(struct emu_world *w, const struct emu_call *c,
                              struct emu_result *r);

#endif
