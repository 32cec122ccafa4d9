/* api.h - the OTA operations' request parameters and response decoding.
 *
 * Builders fill an orch_params with an action's parameters (no common
 * parameters: request.c adds those). The decoder understands every answer
 * shape of alibaba-api.md: gateway errors (HTTP 4xx/5xx with Code/Message),
 * IoT business errors (HTTP 200, Success:false, Code, ErrorMessage), success
 * (Success:true, Data), and bodies that are not JSON at all. Pure functions.
 */
#ifndef ORCH_API_H
#define ORCH_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct orch_config;
struct orch_params;
struct orch_plan;
struct orch_chunk;

/* CreateOTAStaticUpgradeJob for one chunk (TargetSelection=SPECIFIC,
 * TargetDeviceName.1..N) or, with chunk == NULL, the single ALL/GRAY call
 * (SrcVersion.N, GrayPercent). Every optional API value the config holds
 * is added. Unless cfg->no_job_tag or cfg->run_id is NULL, the job is
 * tagged Tag.1.Key=ORCH_JOB_TAG_KEY, Tag.1.Value=<run_id>.<chunk index+1>
 * (".1" for the single call), which reconciliation looks for. Returns 0
 * or ORCH_ENOMEM. */
int orch_api_create_params(struct orch_params *out,
                           const struct orch_config *cfg,
                           const struct orch_plan *plan,
                           const struct orch_chunk *chunk);

struct orch_response {
    long http_status;
    bool is_json;          /* the body parsed as a JSON object */
    bool success;          /* HTTP 2xx and Success:true (or no Success field
                              and no Code on a 2xx) */
    char code[128];        /* Code, or "HTTP<status>" / "BadResponse" */
    char message[512];     /* Message or ErrorMessage, or the first bytes of
                              a body that is not JSON */
    char request_id[128];
    char job_id[128];      /* Data.JobId */
    char utc_create[64];   /* Data.UtcCreate */
    json_t *root;          /* the parsed body (owned), NULL if not JSON */
    int64_t date_ms;       /* the answer's Date header (the server's clock,
                              whole seconds) as epoch ms; 0 when absent.
                              Set by the transfer, not by orch_api_decode */
};

void orch_response_init(struct orch_response *r);
void orch_response_cleanup(struct orch_response *r);
/* ---- reconciliation queries ----
 *
 * Builders: the action parameters of one query (request.c adds the common
 * ones). iot_instance_id may be NULL. Return 0 or ORCH_ENOMEM. */

/* ListOTAJobByDevice: FirmwareId, ProductKey, DeviceName, PageSize (max
 * 100), CurrentPage (from 1). */
int orch_api_list_jobs_by_device_params(struct orch_params *out,
                                        const char *iot_instance_id,
                                        const char *firmware_id,
                                        const char *product_key,
                                        const char *device_name,
                                        unsigned page_size, unsigned page);
/* ListOTAJobByFirmware: FirmwareId, PageSize (max 200), CurrentPage (from
 * 1). Every job of the firmware, whatever its target: how a whole-product
 * call (--target ALL/GRAY), which names no device, is looked up. */
int orch_api_list_jobs_by_firmware_params(struct orch_params *out,
                                          const char *iot_instance_id,
                                          const char *firmware_id,
                                          unsigned page_size, unsigned page);
/* ListOTATaskByJob: JobId and DeviceNames.1..n (n <= 50; with device
 * names the API ignores paging). Returns ORCH_EINVAL when n > 50. */
int orch_api_list_tasks_by_job_params(struct orch_params *out,
                                      const char *iot_instance_id,
                                      const char *job_id,
                                      const char *const *device_names,
                                      size_t n);

/* One entry of Data.SimpleOTAJobInfo[]. Strings are borrowed from the
 * response's JSON (valid until orch_response_cleanup) and are "" when the
 * field is missing. */
struct orch_job_info {
    const char *job_id;
    const char *job_status;
    const char *utc_create;
    int64_t utc_create_ms; /* -1 when missing or unparsable */
    const char *utc_modified; /* UtcModified as the API spelled it: what
                                 changes whenever the job does */
    const json_t *tags;    /* Tags.OtaTagDTO[] (borrowed), or NULL */
};

/* One entry of Data.SimpleOTATaskInfo[] (borrowed strings, "" if absent). */
struct orch_task_info {
    const char *task_id;
    const char *device_name;
    const char *job_id;
    const char *task_status;
};

/* Number of entries in Data.SimpleOTAJobInfo / Data.SimpleOTATaskInfo of
 * a decoded successful answer (0 if absent; a lone object counts as 1). */
size_t orch_api_job_count(const struct orch_response *r);
size_t orch_api_task_count(const struct orch_response *r);
/* Fills *out with entry i (i < count). Returns 0 or ORCH_EINVAL (out of
 * range or not an object). */
int orch_api_job_at(const struct orch_response *r, size_t i,
                    struct orch_job_info *out);
int orch_api_task_at(const struct orch_response *r, size_t i,
                     struct orch_task_info *out);
/* The Value of the job's tag called key, or NULL. */
const char *orch_api_job_tag(const struct orch_job_info *job,
                             const char *key);
/* PageCount of a paged answer, or 0 when absent. */
unsigned orch_api_page_count(const struct orch_response *r);

/* Decodes one HTTP answer. Never fails on bad input: a body that is not JSON
 * sets code "BadResponse" with the status and the first bytes (printable,
 * at most 200) in message. Returns 0 or ORCH_ENOMEM. */
int orch_api_decode(struct orch_response *r, long http_status,
                    const char *body, size_t len);

/* ---- the queries of `status`, `cancel` and the wave gates ----
 *
 * Builders add an action's own parameters (request.c adds the common ones);
 * iot_instance_id may be NULL. They return 0 or ORCH_ENOMEM. */

/* Task states of ListOTATaskByJob, in display order. CONFIRM (waiting for
 * the device's confirmation) and OTHER (a value this tool does not know)
 * are counted too. */
enum orch_task_state {
    ORCH_TASK_QUEUED = 0,
    ORCH_TASK_NOTIFIED,
    ORCH_TASK_IN_PROGRESS,
    ORCH_TASK_SUCCEEDED,
    ORCH_TASK_FAILED,
    ORCH_TASK_CANCELED,
    ORCH_TASK_CONFIRM,
    ORCH_TASK_OTHER,
    ORCH_TASK_NSTATES
};

/* "QUEUED", ...; "OTHER" for out-of-range values. */
const char *orch_task_state_name(int s);
/* The state named s (exact, upper case); ORCH_TASK_OTHER if unknown. */
enum orch_task_state orch_task_state_parse(const char *s);
/* True for the states that are still waiting to be decided: QUEUED,
 * NOTIFIED, IN_PROGRESS and CONFIRM. OTHER is not (an unknown value must
 * not keep `status --watch` waiting forever). */
bool orch_task_state_pending(int s);

/* ListOTATaskByJob pages: 100 tasks a page, and CurrentPage x PageSize
 * must not exceed 100,000 (alibaba-api.md e). */
#define ORCH_API_TASK_PAGE_SIZE 100
#define ORCH_API_TASK_MAX_PAGES 1000

/* The parameters every query of a job carries: JobId and, when given,
 * IotInstanceId (QueryOTAJob, and the start of the others). */
int orch_api_job_params(struct orch_params *out, const char *iot_instance_id,
                        const char *job_id);
/* orch_api_job_params() plus PageSize and CurrentPage: page `page` (from
 * 1) of a job's tasks, page_size a page (ListOTATaskByJob). */
int orch_api_task_page_params(struct orch_params *out,
                              const char *iot_instance_id, const char *job_id,
                              unsigned page_size, unsigned page);
/* The same, filtered by TaskStatus `status` ("SUCCEEDED", ...): the
 * answer lists, and its Total counts, the tasks in that state only. */
int orch_api_task_status_params(struct orch_params *out,
                                const char *iot_instance_id,
                                const char *job_id, const char *status,
                                unsigned page_size, unsigned page);
/* QueryOTAFirmware: FirmwareId and, when given, IotInstanceId. */
int orch_api_firmware_params(struct orch_params *out,
                             const char *iot_instance_id,
                             const char *firmware_id);

/* The quota of CancelOTATaskByJob (alibaba-api.md e). */
#define ORCH_CANCEL_QPS 5.0

/* The flags of one job's CancelOTATaskByJob (JobId and the instance come
 * from orch_api_job_params): CancelQueuedTask, CancelNotifiedTask,
 * CancelScheduledTask, CancelUnconfirmedTask, and CancelInProgressTask
 * with in_progress. */
int orch_api_cancel_flags_params(struct orch_params *out, bool in_progress);

/* True when a failed cancel's code means there was nothing left to
 * cancel (the job had already finished or been cancelled). */
bool orch_api_cancel_code_is_done(const char *code);

#endif
