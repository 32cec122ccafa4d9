/* emu_jobs.c - the operations on upgrade jobs after Create: QueryOTAJob,
 * ListOTAJobByFirmware, ListOTATaskByJob, ListOTAJobByDevice and
 * CancelOTATaskByJob. Called with the world's lock held.
 */
#include "ops/emu_jobs.h"

#include "ops/emu_args.h"
#include "ops/emu_json.h"
#include "world/emu_reply.h"
#include "world/emu_sim.h"

#include "orch/base/err.h"
#include "orch/cloud/params.h"

#include <string.h>

static const char desc_canceled[] = "canceled by CancelOTATaskByJob";

int emu_op_query_job(struct emu_world *w, const struct emu_call *c,
                     struct emu_result *r)
{
    int rc = 0;
    struct emu_job *job = emu_job_param(w, c, r, &rc);
    json_t *data = NULL;

    if (job == NULL)
        return rc;
    data = emu_job_json(w, job, c->now_ms, 1);
    if (data == NULL)
        return ORCH_ENOMEM;
    return emu_ok_with(r, c, json_pack("{s:o}", "Data", data));
}

int emu_op_list_job_by_firmware(struct emu_world *w, const struct emu_call *c,
                                struct emu_result *r)
{
    int rc = 0;
    struct emu_firmware *fw = emu_firmware_param(w, c, r, &rc);
    int64_t size = 0;
    int64_t page = 0;
    int64_t i = 0;
    json_t *list = NULL;

    if (fw == NULL)
        return rc;
    if (emu_check_paging(c, r, &rc, 200, 0, 0, &size, &page))
        return rc;
    list = json_array();
    if (list == NULL)
        return ORCH_ENOMEM;
    /* Newest first, as the console lists them. */
    for (i = (page - 1) * size; i < page * size && i < (int64_t)fw->njobs;
         i++) {
        struct emu_job *job = fw->jobs[fw->njobs - 1 - (size_t)i];
        if (json_array_append_new(list, emu_job_json(w, job, c->now_ms, 0))) {
            json_decref(list);
            return ORCH_ENOMEM;
        }
    }
    return emu_paged_answer(r, c, "SimpleOTAJobInfo", list, page, size,
                            (int64_t)fw->njobs);
}

static int task_status_from_name(const char *s)
{
    int i = 0;

    for (i = 0; i < EMU_TASK_NSTATUS; i++) {
        if (strcmp(s, emu_task_status_name(i)) == 0)
            return i;
    }
    if (strcmp(s, "CONFIRM") == 0)
        return EMU_TASK_NSTATUS; /* valid, but no task is ever CONFIRM */
    return -1;
}

/* The job's tasks of the devices named (paging is ignored: at most 50),
 * with status `filter` (-1: any), appended to list. Returns the count,
 * or -1 on ENOMEM. */
static int64_t named_tasks(struct emu_world *w, struct emu_job *job,
                           const char *const *names, size_t nnames,
                           int filter, int64_t now_ms, json_t *list)
{
    int64_t total = 0;
    size_t i = 0;

    /* Each device's chain leads to its task. */
    for (i = 0; i < nnames; i++) {
        struct emu_device *d = emu_device_find(w, job->prod, names[i], 0);
        struct emu_task *t = d ? d->last : NULL;
        for (; t && t->job != job; t = t->dev_prev)
            ;
        if (t == NULL)
            continue;
        emu_sim_task_update(w, t, now_ms);
        if (filter >= 0 && t->status != filter)
            continue;
        total++;
        if (json_array_append_new(list, emu_task_json(t)))
            return -1;
    }
    return total;
}

/* The job's tasks with status `filter` (-1: any); those on the page are
 * appended to list. Returns the count of all, or -1 on ENOMEM. */
static int64_t paged_tasks(struct emu_world *w, struct emu_job *job,
                           int filter, int64_t page, int64_t size,
                           int64_t now_ms, json_t *list)
{
    int64_t total = 0;
    size_t i = 0;

    emu_sim_job_update(w, job, now_ms);
    for (i = 0; i < job->ntasks; i++) {
        struct emu_task *t = &job->tasks[i];
        if (filter >= 0 && t->status != filter)
            continue;
        total++;
        if (!emu_on_page(total, page, size))
            continue;
        if (json_array_append_new(list, emu_task_json(t)))
            return -1;
    }
    return total;
}

int emu_op_list_task_by_job(struct emu_world *w, const struct emu_call *c,
                            struct emu_result *r)
{
    int rc = 0;
    struct emu_job *job = emu_job_param(w, c, r, &rc);
    const char *fs = emu_param(c, "TaskStatus");
    const char *names[51];
    size_t nnames = 0;
    int filter = -1;
    int64_t size = 0;
    int64_t page = 0;
    int64_t total = 0;
    json_t *list = NULL;
    size_t i = 0;

    if (job == NULL)
        return rc;
    if (fs && (filter = task_status_from_name(fs)) < 0)
        return emu_fail(r, c, "iot.firmware.InvalidTaskStatus",
                        "TaskStatus %.40s is not valid.", fs);
    for (i = 0; i < c->params->n; i++) {
        const char *n = c->params->v[i].name;
        if (strncmp(n, "DeviceNames.", 12) || !emu_list_index(n + 12))
            continue;
        if (nnames == 50)
            return emu_fail(r, c, "iot.device.TooManyDeviceNamesPerRequest",
                            "At most 50 DeviceNames are allowed.");
        names[nnames++] = c->params->v[i].value;
    }
    if (emu_check_paging(c, r, &rc, 100, 10, 1, &size, &page))
        return rc;
    if (page * size > 100000)
        return emu_fail(r, c, EMU_CODE_PAGE,
                        "CurrentPage x PageSize must not exceed 100000.");
    list = json_array();
    if (list == NULL)
        return ORCH_ENOMEM;
    total = nnames > 0
                ? named_tasks(w, job, names, nnames, filter, c->now_ms, list)
                : paged_tasks(w, job, filter, page, size, c->now_ms, list);
    if (total < 0) {
        json_decref(list);
        return ORCH_ENOMEM;
    }
    return emu_paged_answer(r, c, "SimpleOTATaskInfo", list, page, size,
                            total);
}

int emu_op_list_job_by_device(struct emu_world *w, const struct emu_call *c,
                              struct emu_result *r)
{
    int rc = 0;
    struct emu_firmware *fw = NULL;
    struct emu_product *prod = NULL;
    struct emu_device *d = NULL;
    const char *pk = emu_param(c, "ProductKey");
    const char *dn = emu_param(c, "DeviceName");
    struct emu_task *t = NULL;
    int64_t size = 0;
    int64_t page = 0;
    int64_t total = 0;
    json_t *list = NULL;

    if (pk == NULL)
        return emu_fail_no_product_key(r, c);
    if (dn == NULL)
        return emu_fail_no_device_name(r, c, "DeviceName");
    fw = emu_firmware_param(w, c, r, &rc);
    if (fw == NULL)
        return rc;
    if (emu_check_paging(c, r, &rc, 100, 0, 0, &size, &page))
        return rc;
    if (emu_valid_alnum(pk, EMU_MAX_PK))
        prod = emu_product_find(w, pk, 0);
    if (prod && emu_valid_device_name(dn))
        d = emu_device_find(w, prod, dn, w->opts.auto_create);
    if (d == NULL)
        return emu_fail_unknown_device(r, c, dn, pk);
    list = json_array();
    if (list == NULL)
        return ORCH_ENOMEM;
    /* The device's task chain, newest first, one entry per job. */
    for (t = d->last; t; t = t->dev_prev) {
        if (t->job->fw != fw)
            continue;
        total++;
        if (!emu_on_page(total, page, size))
            continue;
        if (json_array_append_new(list,
                                  emu_job_json(w, t->job, c->now_ms, 0))) {
            json_decref(list);
            return ORCH_ENOMEM;
        }
    }
    return emu_paged_answer(r, c, "SimpleOTAJobInfo", list, page, size, total);
}

int emu_op_cancel_task_by_job(struct emu_world *w, const struct emu_call *c,
                              struct emu_result *r)
{
    int rc = 0;
    struct emu_job *job = emu_job_param(w, c, r, &rc);
    int queued = emu_bool_param(c, "CancelQueuedTask");
    int notified = emu_bool_param(c, "CancelNotifiedTask");
    int inprog = emu_bool_param(c, "CancelInProgressTask");
    int unconfirmed = emu_bool_param(c, "CancelUnconfirmedTask");
    int scheduled = emu_bool_param(c, "CancelScheduledTask");
    int planned = 0;
    size_t n = 0;
    size_t i = 0;

    if (job == NULL)
        return rc;
    if (queued < 0 || notified < 0 || inprog < 0 || unconfirmed < 0 ||
        scheduled < 0)
        return emu_fail(r, c, EMU_CODE_INVALID,
                        "The Cancel*Task parameters must be true or false.");
    if (!queued && !notified && !inprog && !unconfirmed && !scheduled)
        return emu_fail(r, c, EMU_CODE_NULL,
                        "At least one of CancelQueuedTask, "
                        "CancelNotifiedTask, CancelInProgressTask, "
                        "CancelUnconfirmedTask and CancelScheduledTask must "
                        "be true.");
    emu_sim_job_update(w, job, c->now_ms);
    /* Tasks of a job that has not reached its ScheduleTime are
     * "scheduled": only CancelScheduledTask cancels them. */
    planned = c->now_ms < job->start_ms;
    for (i = 0; i < job->ntasks; i++) {
        struct emu_task *t = &job->tasks[i];
        int hit = 0;
        if (!t->live)
            continue;
        if (t->status == EMU_TASK_QUEUED)
            hit = planned ? scheduled : queued;
        else if (t->status == EMU_TASK_NOTIFIED)
            hit = notified;
        else if (t->status == EMU_TASK_IN_PROGRESS)
            hit = inprog;
        if (hit) {
            emu_sim_task_end(w, t, EMU_TASK_CANCELED, desc_canceled,
                             c->now_ms);
            n++;
        }
    }
    if (n > 0) {
        job->cancel_requested = 1;
        job->modified_ms = c->now_ms;
    }
    return emu_ok(r, c, NULL);
}
