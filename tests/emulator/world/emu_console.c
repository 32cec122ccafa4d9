/* emu_console.c - what an operator does to a job from the console, behind
 * the tool's back (emu_world.h: emu_world_console). */
#include "world/emu_world.h"

#include "world/emu_model.h"
#include "world/emu_sim.h"

#include "orch/base/err.h"

#include <string.h>

static const char desc_console[] = "canceled from the console";

/* ReupgradeOTATask for every FAILED and CANCELED task: each starts again
 * (QUEUED, a new draw of its outcome) on a timeline that starts now. */
static int reupgrade(struct emu_world *w, struct emu_job *job, int64_t now_ms,
                     size_t *n)
{
    size_t i = 0;

    emu_sim_job_update(w, job, now_ms);
    for (i = 0; i < job->ntasks; i++) {
        struct emu_task *t = &job->tasks[i];

        if (t->live || (t->status != EMU_TASK_FAILED &&
                        t->status != EMU_TASK_CANCELED))
            continue;
        if (emu_device_add_unfinished(w, t->dev))
            return ORCH_ENOMEM;
        emu_sim_task_init(w, t);
        t->live = 1;
        t->status = EMU_TASK_QUEUED;
        t->progress = 0;
        t->desc = NULL;
        t->modified_ms = now_ms;
        t->dev->active = t;
        job->nlive++;
        (*n)++;
    }
    if (*n > 0) {
        job->start_ms = now_ms;
        job->cancel_requested = 0;
        job->done_dirty = 1;
        job->modified_ms = now_ms;
    }
    return 0;
}

/* CancelOTATaskByJob with every flag: each unfinished task ends CANCELED. */
static void cancel(struct emu_world *w, struct emu_job *job, int64_t now_ms,
                   size_t *n)
{
    size_t i = 0;

    emu_sim_job_update(w, job, now_ms);
    for (i = 0; i < job->ntasks; i++) {
        if (job->tasks[i].live) {
            emu_sim_task_end(w, &job->tasks[i], EMU_TASK_CANCELED,
                             desc_console, now_ms);
            (*n)++;
        }
    }
    if (*n > 0) {
        job->cancel_requested = 1;
        job->modified_ms = now_ms;
    }
}

int emu_world_console(struct emu_world *w, const char *job_id,
                      const char *action, int64_t now_ms, size_t *tasks)
{
    struct emu_job *job = NULL;
    int rc = 0;

    *tasks = 0;
    pthread_mutex_lock(&w->lock);
    job = emu_job_find(w, job_id);
    if (job == NULL)
        rc = ORCH_ENOTFOUND;
    else if (strcmp(action, "reupgrade") == 0)
        rc = reupgrade(w, job, now_ms, tasks);
    else if (strcmp(action, "cancel") == 0)
        cancel(w, job, now_ms, tasks);
    else
        rc = ORCH_EINVAL;
    pthread_mutex_unlock(&w->lock);
    return rc;
}
