/* emu_json.h - the JSON shapes of the API's answers: a job
 * (SimpleOTAJobInfo, or QueryOTAJob's whole Data), a task
 * (SimpleOTATaskInfo), a device (QueryDeviceDetail's Data), a page of a
 * list, and the success envelope around them.
 *
 * Builders that take the world bring what they show up to date first
 * (so they expect the world's lock held). Every json_t returned is a new
 * reference, NULL on ENOMEM.
 */
#ifndef EMU_JSON_H
#define EMU_JSON_H

#include "world/emu_model.h"

#include <jansson.h>

/* emu_ok() for an answer the caller built: extra NULL means ENOMEM.
 * extra is stolen. Returns 0 or ORCH_ENOMEM. */
int emu_ok_with(struct emu_result *r, const struct emu_call *c,
                json_t *extra);

/* emu_ok() with CurrentPage, PageSize, PageCount, Total and
 * Data.{listname} (list stolen). Returns 0 or ORCH_ENOMEM. */
int emu_paged_answer(struct emu_result *r, const struct emu_call *c,
                     const char *listname, json_t *list, int64_t page,
                     int64_t size, int64_t total);

/* o[key] = the UTC time string of ms. 0, or -1 on ENOMEM. */
int emu_set_utc(json_t *o, const char *key, int64_t ms);

/* SimpleOTAJobInfo of job at now_ms, or with full the whole Data of
 * QueryOTAJob. */
json_t *emu_job_json(struct emu_world *w, struct emu_job *job, int64_t now_ms,
                     int full);
/* SimpleOTATaskInfo of a task (as last brought up to date). */
json_t *emu_task_json(const struct emu_task *t);
/* QueryDeviceDetail's Data of device d at now_ms. */
json_t *emu_device_json(struct emu_world *w, struct emu_device *d,
                        int64_t now_ms);

#endif
