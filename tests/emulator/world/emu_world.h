/* emu_world.h - ota-emulator's model of the IoT Platform: products, devices,
 * firmware, upgrade jobs and their tasks.
 *
 * This is the boundary between the HTTP side (server/: parsing, quotas,
 * faults, request log; gateway/: signature verification) and the API
 * semantics: the world's state and rules (world/: emu_world.c, emu_sim.c,
 * emu_fixture.c) and the operations on it (ops/, entered through
 * emu_world_call() in ops/emu_ops.h). The server has already
 * authenticated the caller when it calls emu_world_call().
 *
 * Thread-safety: every emu_world_* function locks the world's mutex; the
 * server calls them from many connection threads.
 * Time: every call takes now_ms (the emulator's clock), so tests drive time.
 */
#ifndef EMU_WORLD_H
#define EMU_WORLD_H

#include "world/emu_call.h"

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct emu_world;

/* Returns a new, empty world or NULL (ENOMEM). opts NULL: the defaults
 * of struct emu_world_opts (emu_call.h); an out-of-range sim_speed or success_ratio takes its default.
 * The instance id is copied. Free with emu_world_free(). */
struct emu_world *emu_world_new(const struct emu_world_opts *opts);
/* Frees the world and every entity in it; NULL-safe. */
void emu_world_free(struct emu_world *w);

/* Counts for the stats endpoint: {"jobs":N,"devices_assigned":N,
 * "tasks":{"QUEUED":..,...},"double_assigned":[ "PK/dev", ...]}
 * where double_assigned lists every device that is in two unfinished
 * (QUEUED/NOTIFIED/IN_PROGRESS, non-FAILED) tasks at once. New reference. */
json_t *emu_world_stats(struct emu_world *w, int64_t now_ms);

/* Every job as JSON (for tests): [{"JobId":..,"ProductKey":..,"FirmwareId":..,
 * "UtcCreate":..,"ScheduleTime":ms|null,"Devices":[..],"Tasks":{dev:status}}].
 * New reference. */
json_t *emu_world_dump_jobs(struct emu_world *w, int64_t now_ms);

/* What an operator does to job `job_id` from the console, behind the
 * tool's back (emu_console.c): action "reupgrade" starts its FAILED and
 * CANCELED tasks again (ReupgradeOTATask: QUEUED, a new draw of each
 * outcome, on a timeline from now); "cancel" cancels its unfinished tasks
 * (CancelOTATaskByJob with every flag). Either, when it touched a task,
 * sets the job's UtcModified to now. *tasks: the tasks touched. Returns 0,
 * ORCH_ENOTFOUND (no such job), ORCH_EINVAL (another action) or
 * ORCH_ENOMEM. */
int emu_world_console(struct emu_world *w, const char *job_id,
                      const char *action, int64_t now_ms, size_t *tasks);

#endif
