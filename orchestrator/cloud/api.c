/* api.c - CreateOTAStaticUpgradeJob and reconciliation query parameters,
 * and response decoding.
 *
 * Pure functions. The decoder must survive anything a gateway, a proxy or
 * a broken connection can produce (HTML pages, truncated JSON, NUL bytes,
 * megabytes of garbage): whatever is not a JSON object becomes code
 * "BadResponse" with the status and the first printable bytes.
 */
#include "orch/cloud/api.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "orch/model/config.h"
#include "orch/base/err.h"
#include "orch/cloud/params.h"
#include "orch/model/plan.h"
#include "orch/base/timeparse.h"

/* How much of a non-JSON body the message quotes. */
#define SNIPPET_MAX 200
/* Bodies larger than this are not parsed: no API answer is near it. */
#define BODY_PARSE_MAX (8u * 1024 * 1024)

static int add_int_if(struct orch_params *out, const char *name, int64_t v)
{
    if (v < 0)
        return 0;
    return orch_params_addf(out, name, "%" PRId64, v);
}

static int add_str_if(struct orch_params *out, const char *name, const char *v)
{
    if (v == NULL)
        return 0;
    return orch_params_add(out, name, v);
}

/* The optional API values every call of the run carries. */
static int add_options(struct orch_params *out, const struct orch_config *cfg)
{
    int rc = 0;

    rc = add_str_if(out, "IotInstanceId", cfg->iot_instance_id);
    if (rc == 0)
        rc = add_int_if(out, "ScheduleTime", cfg->schedule_time_ms);
    if (rc == 0)
        rc =
            add_int_if(out, "ScheduleFinishTime", cfg->schedule_finish_time_ms);
    if (rc == 0)
        rc = add_int_if(out, "RetryInterval", cfg->retry_interval);
    if (rc == 0)
        rc = add_int_if(out, "RetryCount", cfg->retry_count);
    if (rc == 0)
        rc = add_int_if(out, "TimeoutInMinutes", cfg->timeout_minutes);
    if (rc == 0)
        rc = add_int_if(out, "MaximumPerMinute", cfg->max_per_minute);
    if (rc == 0)
        rc = add_int_if(out, "OverwriteMode", cfg->overwrite_mode);
    return rc;
}

#define DEVICE_PARAM "TargetDeviceName."

/* Writes n in decimal, NUL-terminated, at out (room for 11 bytes). */
static void put_index(char *out, uint32_t n)
{
    char tmp[10];
    size_t k = 0;

    do {
        tmp[k++] = (char)('0' + n % 10);
        n /= 10;
    } while (n > 0);
    while (k > 0)
        *out++ = tmp[--k];
    *out = '\0';
}

int orch_api_create_params(struct orch_params *out,
                           const struct orch_config *cfg,
                           const struct orch_plan *plan,
                           const struct orch_chunk *chunk)
{
    int rc = 0;
    char name[32];

    if (chunk != NULL) {
        rc = add_str_if(out, "FirmwareId", chunk->firmware_id);
        if (rc == 0)
            rc = add_str_if(out, "ProductKey", orch_plan_product(plan, chunk));
        if (rc == 0)
            rc = orch_params_add(out, "TargetSelection", "SPECIFIC");
    } else {
        rc = add_str_if(out, "FirmwareId", cfg->firmware_id);
        if (rc == 0)
            rc = add_str_if(out, "ProductKey", cfg->product_key);
        if (rc == 0)
            rc = orch_params_add(out, "TargetSelection",
                                 orch_target_name(cfg->target));
        for (size_t i = 0; rc == 0 && i < cfg->n_src_versions; i++) {
            snprintf(name, sizeof(name), "SrcVersion.%zu", i + 1);
            rc = orch_params_add(out, name, cfg->src_versions[i]);
        }
        if (rc == 0 && cfg->target == ORCH_TARGET_GRAY)
            rc = add_str_if(out, "GrayPercent", cfg->gray_percent);
    }
    if (rc == 0)
        rc = add_options(out, cfg);
    /* The tag comes before the device names so the long list stays last
     * (the order on the wire is the signer's canonical order anyway). */
    if (rc == 0 && !cfg->no_job_tag && cfg->run_id != NULL) {
        rc = orch_params_add(out, "Tag.1.Key", ORCH_JOB_TAG_KEY);
        if (rc == 0)
            rc = orch_params_addf(out, "Tag.1.Value", "%s.%" PRIu32,
                                  cfg->run_id,
                                  chunk != NULL ? chunk->index + 1 : 1);
    }
    /* 200 names a call: the number is written by hand (snprintf's format
     * machinery was a visible share of a call's CPU). */
    if (chunk != NULL)
        memcpy(name, DEVICE_PARAM, sizeof(DEVICE_PARAM));
    for (uint32_t j = 0; rc == 0 && chunk != NULL && j < chunk->count; j++) {
        put_index(name + sizeof(DEVICE_PARAM) - 1, j + 1);
        rc = orch_params_add(out, name, orch_plan_device(plan, chunk, j));
    }
    return rc;
}

/* --- reconciliation queries ---------------------------------------------- */

/* PageSize and CurrentPage of a paged list. */
static int add_page(struct orch_params *out, unsigned page_size,
                    unsigned page)
{
    int rc = orch_params_addf(out, "PageSize", "%u", page_size);

    if (rc == 0)
        rc = orch_params_addf(out, "CurrentPage", "%u", page);
    return rc;
}

int orch_api_list_jobs_by_device_params(struct orch_params *out,
                                        const char *iot_instance_id,
                                        const char *firmware_id,
                                        const char *product_key,
                                        const char *device_name,
                                        unsigned page_size, unsigned page)
{
    int rc = 0;

    rc = add_str_if(out, "IotInstanceId", iot_instance_id);
    if (rc == 0)
        rc = add_str_if(out, "FirmwareId", firmware_id);
    if (rc == 0)
        rc = add_str_if(out, "ProductKey", product_key);
    if (rc == 0)
        rc = add_str_if(out, "DeviceName", device_name);
    if (rc == 0)
        rc = add_page(out, page_size, page);
    return rc;
}

int orch_api_list_jobs_by_firmware_params(struct orch_params *out,
                                          const char *iot_instance_id,
                                          const char *firmware_id,
                                          unsigned page_size, unsigned page)
{
    /* The device query's parameters without a product or device (added
     * only when given). */
    return orch_api_list_jobs_by_device_params(
        out, iot_instance_id, firmware_id, NULL, NULL, page_size, page);
}

int orch_api_list_tasks_by_job_params(struct orch_params *out,
                                      const char *iot_instance_id,
                                      const char *job_id,
                                      const char *const *device_names,
                                      size_t n)
{
    int rc = 0;
    char name[32];

    if (n > 50)
        return ORCH_EINVAL;
    rc = add_str_if(out, "IotInstanceId", iot_instance_id);
    if (rc == 0)
        rc = add_str_if(out, "JobId", job_id);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        snprintf(name, sizeof(name), "DeviceNames.%zu", i + 1);
        rc = orch_params_add(out, name, device_names[i]);
    }
    return rc;
}

/* Data.<listname> of an answer: an array, or a lone object the gateway
 * left unwrapped (XML-to-JSON conversions do that with one element). */
static json_t *data_list(const struct orch_response *r, const char *listname)
{
    json_t *data = NULL;

    if (r == NULL || r->root == NULL)
        return NULL;
    data = json_object_get(r->root, "Data");
    if (!json_is_object(data))
        return NULL;
    return json_object_get(data, listname);
}

static size_t list_count(json_t *list)
{
    if (json_is_array(list))
        return json_array_size(list);
    return json_is_object(list) ? 1 : 0;
}

static json_t *list_at(json_t *list, size_t i)
{
    json_t *e = NULL;

    if (json_is_array(list))
        e = json_array_get(list, i);
    else if (i == 0)
        e = list;
    return json_is_object(e) ? e : NULL;
}

static const char *str_field(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_string(v) ? json_string_value(v) : "";
}

size_t orch_api_job_count(const struct orch_response *r)
{
    return list_count(data_list(r, "SimpleOTAJobInfo"));
}

size_t orch_api_task_count(const struct orch_response *r)
{
    return list_count(data_list(r, "SimpleOTATaskInfo"));
}

int orch_api_job_at(const struct orch_response *r, size_t i,
                    struct orch_job_info *out)
{
    json_t *e = list_at(data_list(r, "SimpleOTAJobInfo"), i);
    json_t *utc = NULL;
    json_t *tags = NULL;
    struct orch_diag diag;
    int64_t ms = -1;

    memset(out, 0, sizeof(*out));
    out->utc_create_ms = -1;
    if (e == NULL)
        return ORCH_EINVAL;
    out->job_id = str_field(e, "JobId");
    out->job_status = str_field(e, "JobStatus");
    out->utc_create = str_field(e, "UtcCreate");
    out->utc_modified = str_field(e, "UtcModified");
    utc = json_object_get(e, "UtcCreate");
    /* ISO-8601 ("2025-01-02T03:04:05.000Z") as documented; an epoch-ms
     * number is accepted too, as some IoT answers carry GmtCreate so. */
    if (json_is_integer(utc))
        out->utc_create_ms = (int64_t)json_integer_value(utc);
    else if (out->utc_create[0] != '\0' &&
             orch_time_parse(out->utc_create, &ms, &diag) == 0)
        out->utc_create_ms = ms;
    tags = json_object_get(e, "Tags");
    if (json_is_object(tags))
        tags = json_object_get(tags, "OtaTagDTO");
    out->tags = (json_is_array(tags) || json_is_object(tags)) ? tags : NULL;
    return 0;
}

int orch_api_task_at(const struct orch_response *r, size_t i,
                     struct orch_task_info *out)
{
    json_t *e = list_at(data_list(r, "SimpleOTATaskInfo"), i);

    memset(out, 0, sizeof(*out));
    if (e == NULL)
        return ORCH_EINVAL;
    out->task_id = str_field(e, "TaskId");
    out->device_name = str_field(e, "DeviceName");
    out->job_id = str_field(e, "JobId");
    out->task_status = str_field(e, "TaskStatus");
    return 0;
}

const char *orch_api_job_tag(const struct orch_job_info *job, const char *key)
{
    json_t *tags = (json_t *)job->tags;
    size_t n = list_count(tags);

    for (size_t i = 0; i < n; i++) {
        json_t *t = list_at(tags, i);
        json_t *v = json_object_get(t, "Value");

        if (t != NULL && strcmp(str_field(t, "Key"), key) == 0 &&
            json_is_string(v))
            return json_string_value(v);
    }
    return NULL;
}

unsigned orch_api_page_count(const struct orch_response *r)
{
    json_t *v = r != NULL && r->root != NULL
                    ? json_object_get(r->root, "PageCount")
                    : NULL;
    json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;

    return n > 0 && n < 1000000 ? (unsigned)n : 0;
}

void orch_response_init(struct orch_response *r)
{
    memset(r, 0, sizeof(*r));
}

void orch_response_cleanup(struct orch_response *r)
{
    if (r == NULL)
        return;
    json_decref(r->root);
    orch_response_init(r);
}

/* Copies a JSON string (or a number, for a Code sent as one) into dst. */
static void copy_field(char *dst, size_t cap, json_t *v)
{
    if (json_is_string(v))
        snprintf(dst, cap, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(dst, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
}

/* message = "HTTP <status>: <first printable bytes>" with whitespace runs
 * folded to one space and any other byte outside printable ASCII shown as
 * '?', so the text is safe in a terminal and a CSV cell. */
static void set_bad_response(struct orch_response *r, const char *body,
                             size_t len)
{
    size_t n = 0;
    size_t o = 0;
    char snip[SNIPPET_MAX + 1];
    bool space = false;

    for (; n < len && o < SNIPPET_MAX; n++) {
        unsigned char c = (unsigned char)body[n];

        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            space = o > 0;
            continue;
        }
        if (space && o < SNIPPET_MAX - 1)
            snip[o++] = ' ';
        space = false;
        snip[o++] = (c > 0x20 && c < 0x7f) ? (char)c : '?';
    }
    snip[o] = '\0';
    snprintf(r->code, sizeof(r->code), "BadResponse");
    if (o == 0)
        snprintf(r->message, sizeof(r->message), "HTTP %ld: (empty body)",
                 r->http_status);
    else
        snprintf(r->message, sizeof(r->message), "HTTP %ld: %s%s",
                 r->http_status, snip, n < len ? "..." : "");
}

static bool json_truthy(json_t *v)
{
    if (json_is_boolean(v))
        return json_is_true(v);
    if (json_is_string(v))
        return strcmp(json_string_value(v), "true") == 0;
    return false;
}

int orch_api_decode(struct orch_response *r, long http_status, const char *body,
                    size_t len)
{
    json_t *root = NULL;
    json_t *success = NULL;
    json_t *code = NULL;
    json_t *data = NULL;
    json_error_t jerr;
    bool is_2xx = http_status >= 200 && http_status < 300;

    orch_response_cleanup(r);
    r->http_status = http_status;
    if (body != NULL && len > 0 && len <= BODY_PARSE_MAX)
        root = json_loadb(body, len, 0, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        set_bad_response(r, body != NULL ? body : "", body != NULL ? len : 0);
        return 0;
    }
    r->root = root;
    r->is_json = true;
    copy_field(r->request_id, sizeof(r->request_id),
               json_object_get(root, "RequestId"));
    code = json_object_get(root, "Code");
    copy_field(r->code, sizeof(r->code), code);
    copy_field(r->message, sizeof(r->message),
               json_object_get(root, "Message"));
    if (r->message[0] == '\0')
        copy_field(r->message, sizeof(r->message),
                   json_object_get(root, "ErrorMessage"));
    data = json_object_get(root, "Data");
    if (json_is_object(data)) {
        copy_field(r->job_id, sizeof(r->job_id),
                   json_object_get(data, "JobId"));
        copy_field(r->utc_create, sizeof(r->utc_create),
                   json_object_get(data, "UtcCreate"));
    }
    success = json_object_get(root, "Success");
    if (is_2xx)
        r->success =
            success != NULL ? json_truthy(success) : r->code[0] == '\0';
    if (r->success) {
        /* A success carries no error code, whatever else the body says. */
        r->code[0] = '\0';
        return 0;
    }
    if (r->code[0] == '\0')
        snprintf(r->code, sizeof(r->code), "HTTP%ld", http_status);
    if (r->message[0] == '\0')
        snprintf(r->message, sizeof(r->message), "HTTP %ld", http_status);
    return 0;
}

/* ---- the queries of status, cancel and the wave gates ---- */

static const char *const task_state_names[ORCH_TASK_NSTATES] = {
    [ORCH_TASK_QUEUED] = "QUEUED",
    [ORCH_TASK_NOTIFIED] = "NOTIFIED",
    [ORCH_TASK_IN_PROGRESS] = "IN_PROGRESS",
    [ORCH_TASK_SUCCEEDED] = "SUCCEEDED",
    [ORCH_TASK_FAILED] = "FAILED",
    [ORCH_TASK_CANCELED] = "CANCELED",
    [ORCH_TASK_CONFIRM] = "CONFIRM",
    [ORCH_TASK_OTHER] = "OTHER",
};

const char *orch_task_state_name(int s)
{
    if (s < 0 || s >= ORCH_TASK_NSTATES)
        return "OTHER";
    return task_state_names[s];
}

enum orch_task_state orch_task_state_parse(const char *s)
{
    int i = 0;

    if (s == NULL)
        return ORCH_TASK_OTHER;
    for (i = 0; i < ORCH_TASK_OTHER; i++) {
        if (strcmp(s, task_state_names[i]) == 0)
            return (enum orch_task_state)i;
    }
    return ORCH_TASK_OTHER;
}

bool orch_task_state_pending(int s)
{
    return s == ORCH_TASK_QUEUED || s == ORCH_TASK_NOTIFIED ||
           s == ORCH_TASK_IN_PROGRESS || s == ORCH_TASK_CONFIRM;
}

int orch_api_job_params(struct orch_params *out, const char *iot_instance_id,
                        const char *job_id)
{
    int rc = orch_params_add(out, "JobId", job_id);

    if (rc == 0 && iot_instance_id)
        rc = orch_params_add(out, "IotInstanceId", iot_instance_id);
    return rc;
}

int orch_api_task_page_params(struct orch_params *out,
                              const char *iot_instance_id, const char *job_id,
                              unsigned page_size, unsigned page)
{
    int rc = orch_api_job_params(out, iot_instance_id, job_id);

    if (rc == 0)
        rc = orch_params_addf(out, "PageSize", "%u", page_size);
    if (rc == 0)
        rc = orch_params_addf(out, "CurrentPage", "%u", page);
    return rc;
}

int orch_api_task_status_params(struct orch_params *out,
                                const char *iot_instance_id,
                                const char *job_id, const char *status,
                                unsigned page_size, unsigned page)
{
    int rc = orch_api_task_page_params(out, iot_instance_id, job_id,
                                       page_size, page);

    if (rc == 0)
        rc = orch_params_add(out, "TaskStatus", status);
    return rc;
}

int orch_api_firmware_params(struct orch_params *out,
                             const char *iot_instance_id,
                             const char *firmware_id)
{
    int rc = orch_params_add(out, "FirmwareId", firmware_id);

    if (rc == 0 && iot_instance_id)
        rc = orch_params_add(out, "IotInstanceId", iot_instance_id);
    return rc;
}

int orch_api_cancel_flags_params(struct orch_params *out, bool in_progress)
{
    static const char *const flags[] = {"CancelQueuedTask",
                                        "CancelNotifiedTask",
                                        "CancelScheduledTask",
                                        "CancelUnconfirmedTask"};
    size_t i = 0;
    int rc = 0;

    for (i = 0; rc == 0 && i < sizeof(flags) / sizeof(flags[0]); i++)
        rc = orch_params_add(out, flags[i], "true");
    if (rc == 0 && in_progress)
        rc = orch_params_add(out, "CancelInProgressTask", "true");
    return rc;
}

bool orch_api_cancel_code_is_done(const char *code)
{
    static const char *const done[] = {"iot.ota.JobHasFinished",
                                       "iot.ota.JobHasCanceled",
                                       "iot.ota.JobCanceled"};
    size_t i = 0;

    for (i = 0; code && i < sizeof(done) / sizeof(done[0]); i++) {
        if (strcmp(code, done[i]) == 0)
            return true;
    }
    return false;
}
