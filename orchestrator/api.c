/* api.c - CreateOTAStaticUpgradeJob parameters and response decoding.
 *
 * Pure functions. The decoder must survive anything a gateway, a proxy or
 * a broken connection can produce (HTML pages, truncated JSON, NUL bytes,
 * megabytes of garbage): whatever is not a JSON object becomes code
 * "BadResponse" with the status and the first printable bytes.
 */
#include "orch/api.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "orch/config.h"
#include "orch/err.h"
#include "orch/params.h"
#include "orch/plan.h"

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

static const char *target_name(enum orch_target t)
{
    switch (t) {
    case ORCH_TARGET_ALL:
        return "ALL";
    case ORCH_TARGET_GRAY:
        return "GRAY";
    case ORCH_TARGET_SPECIFIC:
    default:
        return "SPECIFIC";
    }
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
                                 target_name(cfg->target));
        for (size_t i = 0; rc == 0 && i < cfg->n_src_versions; i++) {
            snprintf(name, sizeof(name), "SrcVersion.%zu", i + 1);
            rc = orch_params_add(out, name, cfg->src_versions[i]);
        }
        if (rc == 0 && cfg->target == ORCH_TARGET_GRAY)
            rc = add_str_if(out, "GrayPercent", cfg->gray_percent);
    }
    if (rc == 0)
        rc = add_options(out, cfg);
    for (uint32_t j = 0; rc == 0 && chunk != NULL && j < chunk->count; j++) {
        snprintf(name, sizeof(name), "TargetDeviceName.%" PRIu32, j + 1);
        rc = orch_params_add(out, name, orch_plan_device(plan, chunk, j));
    }
    return rc;
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
