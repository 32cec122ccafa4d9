/* emu_sim.c - simulated devices: how OTA tasks move over time.
 *
 * DESIGN: a live task's state is a pure function of the time elapsed since
 * its job started (created, or its ScheduleTime), the world's sim_speed
 * (steps per second) and two seeded draws made when the task was created
 * (will it fail, how many extra steps it waits in QUEUED). Nothing runs in
 * the background: whoever looks at a task first brings it up to date
 * (emu_sim_task_update), and when that finds it ended, the side effects
 * happen then: the device takes the destination version on SUCCEEDED and
 * its unfinished-task count drops.
 *
 * Timeline, in steps of 1000/sim_speed ms from the job's start S:
 *   QUEUED until S + (1 + jitter), NOTIFIED for one step, IN_PROGRESS for
 *   SIM_PROGRESS_STEPS steps with Progress 0, 25, 50, 75, then SUCCEEDED
 *   (Progress 100) or FAILED. A TimeoutInMinutes shorter than the
 *   IN_PROGRESS phase ends it FAILED at the timeout; a ScheduleFinishTime
 *   before the end ends it FAILED then. sim_speed 0: tasks stay QUEUED.
 * Not simulated: MaximumPerMinute pacing, RetryInterval/RetryCount
 * (a FAILED task stays FAILED), NeedConfirm.
 */
#include "world/emu_sim.h"

#include <math.h>
#include <string.h>

#define SIM_PROGRESS_STEPS 4

static const char desc_failed[] = "upgrade failed on the device (simulated)";
static const char desc_timeout[] = "upgrade timed out (TimeoutInMinutes)";
static const char desc_finish[] = "upgrade not finished before "
                                  "ScheduleFinishTime";

void emu_sim_task_init(struct emu_world *w, struct emu_task *t)
{
    struct emu_device *d = t->dev;
    uint64_t h = 0;
    double u = 0;

    /* Deterministic per (seed, device, attempt number): the same seed
     * replays the same outcomes, and a retried device draws anew. */
    h = emu_mix64(w->opts.seed ^ d->hash ^ emu_mix64(d->attempts));
    u = emu_unit(h);
    t->will_fail = d->fail || u >= w->opts.success_ratio;
    t->jitter = (uint8_t)((h >> 3) % 3);
    d->attempts++;
}

struct timeline {
    int64_t notify_at;
    int64_t progress_at;
    int64_t end_at;
    double step;
    int end_status;
    const char *end_desc;
};

static void timeline_of(const struct emu_world *w, const struct emu_task *t,
                        struct timeline *tl)
{
    const struct emu_job *job = t->job;
    double step = 1000.0 / w->opts.sim_speed;
    int64_t s = job->start_ms;
    int64_t limit = 0;

    tl->step = step;
    tl->notify_at = s + llround((1 + t->jitter) * step);
    tl->progress_at = s + llround((2 + t->jitter) * step);
    tl->end_at = s + llround((2 + t->jitter + SIM_PROGRESS_STEPS) * step);
    tl->end_status = t->will_fail ? EMU_TASK_FAILED : EMU_TASK_SUCCEEDED;
    tl->end_desc = t->will_fail ? desc_failed : NULL;
    if (job->timeout_min > 0) {
        limit = tl->progress_at + (int64_t)job->timeout_min * 60000;
        if (limit < tl->end_at) {
            tl->end_at = limit;
            tl->end_status = EMU_TASK_FAILED;
            tl->end_desc = desc_timeout;
        }
    }
    if (job->finish_ms > 0 && job->finish_ms < tl->end_at) {
        tl->end_at = job->finish_ms;
        tl->end_status = EMU_TASK_FAILED;
        tl->end_desc = desc_finish;
    }
}

int64_t emu_sim_task_end_ms(const struct emu_world *w,
                            const struct emu_task *t)
{
    struct timeline tl;

    if (!(w->opts.sim_speed > 0))
        return INT64_MAX;
    timeline_of(w, t, &tl);
    return tl.end_at;
}

/* The bookkeeping of a task that leaves the unfinished states. */
static void task_finish(struct emu_world *w, struct emu_task *t, int status,
                        const char *desc, int64_t at_ms)
{
    struct emu_device *d = t->dev;
    struct emu_job *job = t->job;

    (void)w;
    t->live = 0;
    t->status = (uint8_t)status;
    t->desc = desc;
    t->modified_ms = at_ms;
    if (status == EMU_TASK_SUCCEEDED) {
        t->progress = 100;
        d->version = job->fw->dest_version;
    }
    if (d->unfinished > 0)
        d->unfinished--;
    if (d->active == t)
        d->active = NULL;
    if (job->nlive > 0)
        job->nlive--;
    if (at_ms > job->end_ms)
        job->end_ms = at_ms;
    if (at_ms > job->modified_ms)
        job->modified_ms = at_ms;
}

void emu_sim_task_update(struct emu_world *w, struct emu_task *t,
                         int64_t now_ms)
{
    struct timeline tl;
    int64_t k = 0;

    if (!t->live || !(w->opts.sim_speed > 0))
        return;
    timeline_of(w, t, &tl);
    if (now_ms >= tl.end_at) {
        if (tl.end_at >= tl.progress_at && tl.end_status == EMU_TASK_FAILED) {
            k = (int64_t)floor((double)(tl.end_at - tl.progress_at) /
                               tl.step);
            if (k >= SIM_PROGRESS_STEPS)
                k = SIM_PROGRESS_STEPS - 1;
            t->progress = (uint8_t)(100 * k / SIM_PROGRESS_STEPS);
        }
        task_finish(w, t, tl.end_status, tl.end_desc, tl.end_at);
    } else if (now_ms >= tl.progress_at) {
        k = (int64_t)floor((double)(now_ms - tl.progress_at) / tl.step);
        if (k >= SIM_PROGRESS_STEPS)
            k = SIM_PROGRESS_STEPS - 1;
        t->status = EMU_TASK_IN_PROGRESS;
        t->progress = (uint8_t)(100 * k / SIM_PROGRESS_STEPS);
        t->modified_ms = tl.progress_at + llround((double)k * tl.step);
    } else if (now_ms >= tl.notify_at) {
        t->status = EMU_TASK_NOTIFIED;
        t->modified_ms = tl.notify_at;
    }
}

void emu_sim_task_end(struct emu_world *w, struct emu_task *t, int status,
                      const char *desc, int64_t now_ms)
{
    if (!t->live)
        return;
    task_finish(w, t, status, desc, now_ms);
    /* The job's done_ms may have been this task's end: recompute lazily. */
    t->job->done_dirty = 1;
}

void emu_sim_device_update(struct emu_world *w, struct emu_device *d,
                           int64_t now_ms)
{
    if (d->active)
        emu_sim_task_update(w, d->active, now_ms);
}

void emu_sim_job_update(struct emu_world *w, struct emu_job *job,
                        int64_t now_ms)
{
    int64_t done = job->end_ms;
    int64_t end = 0;
    size_t i = 0;

    for (i = 0; i < job->ntasks; i++) {
        struct emu_task *t = &job->tasks[i];
        if (!t->live)
            continue;
        emu_sim_task_update(w, t, now_ms);
        if (t->live) {
            end = emu_sim_task_end_ms(w, t);
            if (end > done)
                done = end;
        }
    }
    job->done_ms = done;
    job->done_dirty = 0;
}

enum emu_job_status emu_sim_job_status(struct emu_world *w,
                                       struct emu_job *job, int64_t now_ms)
{
    /* done_ms bounds when the last live task ends, so a job is looked at
     * task by task only when that bound has passed or a cancel moved it. */
    if (job->nlive > 0 && (job->done_dirty || now_ms >= job->done_ms))
        emu_sim_job_update(w, job, now_ms);
    if (job->nlive == 0)
        return job->cancel_requested ? EMU_JOB_CANCELED : EMU_JOB_COMPLETED;
    if (now_ms < job->start_ms)
        return EMU_JOB_PLANNED;
    return EMU_JOB_IN_PROGRESS;
}
