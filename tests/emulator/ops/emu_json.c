/* emu_json.c - the API's JSON shapes of jobs, tasks, devices and pages. */
#include "ops/emu_json.h"

#include "world/emu_reply.h"
#include "world/emu_sim.h"

#include "orch/base/err.h"

int emu_ok_with(struct emu_result *r, const struct emu_call *c, json_t *extra)
{
    if (extra == NULL)
        return ORCH_ENOMEM;
    return emu_ok(r, c, extra);
}

int emu_paged_answer(struct emu_result *r, const struct emu_call *c,
                     const char *listname, json_t *list, int64_t page,
                     int64_t size, int64_t total)
{
    json_t *extra = json_pack("{s:I, s:I, s:I, s:I, s:{s:o}}", "CurrentPage",
                              (json_int_t)page, "PageSize", (json_int_t)size,
                              "PageCount",
                              (json_int_t)((total + size - 1) / size),
                              "Total", (json_int_t)total, "Data", listname,
                              list);

    return emu_ok_with(r, c, extra);
}

int emu_set_utc(json_t *o, const char *key, int64_t ms)
{
    return json_object_set_new(o, key, emu_utc_json(ms));
}

/* Adds the members only QueryOTAJob shows to the job's object o.
 * Returns nonzero on ENOMEM. */
static int add_job_details(json_t *o, const struct emu_job *job)
{
    json_t *src = json_array();
    size_t i = 0;
    int bad = 0;

    for (i = 0; src && i < job->nsrc; i++)
        bad |= json_array_append_new(src, json_string(job->src_versions[i]));
    bad |= json_object_set_new(o, "SrcVersions",
                               json_pack("{s:o}", "SrcVersion", src));
    bad |= json_object_set_new(o, "DestVersion",
                               json_string(job->fw->dest_version));
    bad |= json_object_set_new(o, "Name", json_string(job->fw->name));
    if (job->schedule_ms)
        bad |= emu_set_utc(o, "UtcScheduleTime", job->schedule_ms);
    if (job->finish_ms)
        bad |= emu_set_utc(o, "UtcScheduleFinishTime", job->finish_ms);
    if (job->timeout_min >= 0)
        bad |= json_object_set_new(o, "TimeoutInMinutes",
                                   json_integer(job->timeout_min));
    if (job->retry_interval >= 0)
        bad |= json_object_set_new(o, "RetryInterval",
                                   json_integer(job->retry_interval));
    if (job->retry_count >= 0)
        bad |= json_object_set_new(o, "RetryCount",
                                   json_integer(job->retry_count));
    if (job->gray[0])
        bad |= json_object_set_new(o, "GrayPercent", json_string(job->gray));
    bad |= json_object_set_new(o, "MaximumPerMinute",
                               json_integer(job->max_per_minute));
    bad |= json_object_set_new(o, "OverwriteMode",
                               json_integer(job->overwrite_mode));
    bad |= json_object_set_new(o, "NeedPush", json_true());
    bad |= json_object_set_new(o, "NeedConfirm", json_false());
    bad |= json_object_set_new(o, "MultiModuleMode", json_false());
    bad |= json_object_set_new(o, "DownloadProtocol", json_string("HTTPS"));
    return bad;
}

json_t *emu_job_json(struct emu_world *w, struct emu_job *job, int64_t now_ms,
                     int full)
{
    enum emu_job_status st = emu_sim_job_status(w, job, now_ms);
    json_t *o = NULL;
    json_t *tags = json_array();
    size_t i = 0;
    int bad = 0;

    if (tags == NULL)
        return NULL;
    for (i = 0; i < job->ntags; i++)
        bad |= json_array_append_new(tags,
                                     json_pack("{s:s, s:s}", "Key",
                                               job->tags[i].key, "Value",
                                               job->tags[i].value));
    o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:o}}", "JobId",
                  job->id, "JobStatus", emu_job_status_name(st), "JobType",
                  "UPGRADE_FIRMWARE", "SelectionType", "STATIC",
                  "TargetSelection", emu_selection_name(job->selection),
                  "FirmwareId", job->fw->id, "ProductKey", job->prod->key,
                  "Tags", "OtaTagDTO", tags);
    if (o == NULL || bad)
        goto fail;
    bad |= emu_set_utc(o, "UtcCreate", job->created_ms);
    bad |= emu_set_utc(o, "UtcModified", job->modified_ms);
    if (st != EMU_JOB_PLANNED && now_ms >= job->start_ms)
        bad |= emu_set_utc(o, "UtcStartTime", job->start_ms);
    if (st == EMU_JOB_COMPLETED || st == EMU_JOB_CANCELED)
        bad |= emu_set_utc(o, "UtcEndTime", job->end_ms);
    if (full && !bad)
        bad |= add_job_details(o, job);
    if (!bad)
        return o;
fail:
    json_decref(o);
    return NULL;
}

json_t *emu_task_json(const struct emu_task *t)
{
    char tid[EMU_ID_LEN + 1];
    char iot[EMU_ID_LEN + 1];
    char created[32];
    char modified[32];

    emu_task_id(t, tid);
    emu_iot_id(t->dev, iot);
    emu_utc(t->job->created_ms, created);
    emu_utc(t->modified_ms, modified);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s, "
                     "s:s, s:s, s:s, s:s}",
                     "TaskId", tid, "DeviceName", t->dev->name, "IotId", iot,
                     "ProductKey", t->dev->prod->key, "ProductName",
                     t->dev->prod->key, "TaskStatus",
                     emu_task_status_name(t->status), "Progress",
                     (int)t->progress, "SrcVersion",
                     t->src_version ? t->src_version : "", "DestVersion",
                     t->job->fw->dest_version, "FirmwareId", t->job->fw->id,
                     "JobId", t->job->id, "TaskDesc", t->desc ? t->desc : "",
                     "UtcCreate", created, "UtcModified", modified);
}

json_t *emu_device_json(struct emu_world *w, struct emu_device *d,
                        int64_t now)
{
    char iot[EMU_ID_LEN + 1];

    emu_sim_device_update(w, d, now);
    emu_iot_id(d, iot);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "IotId", iot,
                     "ProductKey", d->prod->key, "ProductName", d->prod->key,
                     "DeviceName", d->name, "FirmwareVersion", d->version,
                     "Status", "ONLINE");
}
