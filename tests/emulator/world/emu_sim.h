/* emu_sim.h - simulated devices: how OTA tasks move over time (see the
 * DESIGN note of emu_sim.c for the timeline).
 *
 * Every function expects the world's mutex to be held. Nothing runs in
 * the background: a task is brought up to date by whoever looks at it.
 */
#ifndef EMU_SIM_H
#define EMU_SIM_H

#include "world/emu_model.h"

#include <stdint.h>

/* Draws the task's fate (will_fail, jitter) from the seed and the device. */
void emu_sim_task_init(struct emu_world *w, struct emu_task *t);
/* When the task's timeline ends (INT64_MAX: never, e.g. sim_speed 0). */
int64_t emu_sim_task_end_ms(const struct emu_world *w,
                            const struct emu_task *t);
/* Brings a live task to its state at now_ms, applying the side effects of
 * ending (device version, unfinished counts). */
void emu_sim_task_update(struct emu_world *w, struct emu_task *t,
                         int64_t now_ms);
/* Ends a task now with status (CANCELED/FAILED) and desc (static text). */
void emu_sim_task_end(struct emu_world *w, struct emu_task *t, int status,
                      const char *desc, int64_t now_ms);
/* Brings the device's unfinished task (and so its version) up to date. */
void emu_sim_device_update(struct emu_world *w, struct emu_device *d,
                           int64_t now_ms);
/* Current job status (updating its tasks when it must). */
enum emu_job_status emu_sim_job_status(struct emu_world *w,
                                       struct emu_job *job, int64_t now_ms);
/* Updates every task of the job. */
void emu_sim_job_update(struct emu_world *w, struct emu_job *job,
                        int64_t now_ms);

#endif
