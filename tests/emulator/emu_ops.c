/* emu_ops.c - the OTA operations of ota-emulator: CreateOTAStaticUpgradeJob
 * with every rule of its specification, and the query/cancel operations an
 * orchestrator uses to reconcile. Called by emu_world_call() with the
 * world's lock held.
 *
 * DESIGN: Create reads its parameters in one pass over the request
 * (no per-name lookups in a 200-name list), checks them in a fixed order
 * (below), and only then touches the world; so a rejected request changes
 * nothing. Responses use the field names and nesting of the real API
 * (Data.SimpleOTAJobInfo[], Data.SimpleOTATaskInfo[], FirmwareInfo, ...).
 *
 * Create's checks, in order, and their codes (HTTP 200, Success:false).
 * The spec page names only MissingFirmwareId; the others are the iot.*
 * codes alibaba-api.md lists for sibling operations, chosen as noted:
 *   FirmwareId missing                      MissingFirmwareId
 *   ProductKey missing                      iot.prod.NullProductKey
 *   TargetSelection missing                 iot.check.NullParameter
 *   IotInstanceId missing/wrong when the world has an instance id, or
 *     given when it has none                iot.ota.InstanceIdMisMatch
 *   ProductKey not alphanumeric             iot.prod.InvalidFormattedProductkey
 *   TargetSelection not ALL/SPECIFIC/GRAY (GROUP is not emulated),
 *     DnListFileUrl (not emulated), a number that is not a number,
 *     ScheduleTime/ScheduleFinishTime not 13 digits or out of range,
 *     RetryInterval/RetryCount/OverwriteMode outside their sets,
 *     GrayPercent malformed or out of (0,100], index gaps in a .N list,
 *     TargetDeviceName with ALL/GRAY, GrayPercent without GRAY
 *                                           iot.common.InvalidFormattedParameter
 *   RetryInterval without RetryCount, or RetryCount without RetryInterval
 *     (the spec only says the first; we refuse both halves of a pair),
 *     SPECIFIC without TargetDeviceName, GRAY without GrayPercent
 *                                           iot.check.NullParameter
 *   TimeoutInMinutes not 1..1440            iot.ota.InvalidTimeout
 *   MaximumPerMinute not 0..1000 (the spec page; the newer metadata in
 *     alibaba-api.md says 10..10000, default 10000)
 *                                           iot.ota.InvalidMaximumPerMinute
 *   more than 200 TargetDeviceName          iot.device.TooManyDeviceNamesPerRequest
 *   a name breaking the naming rule, or a duplicate name
 *                                           iot.device.InvalidFormattedDeviceNameInNameArray
 *   SrcVersion: more than 10, duplicates, bad characters, given with
 *     SPECIFIC, or not the diff package's SrcVersion
 *                                           iot.ota.InvalidSrcVersionList
 *   SrcVersion missing with ALL/GRAY        iot.ota.EmptySrcVersionList
 *   unknown product                         iot.prod.NotExistedProduct
 *   unknown firmware                        iot.ota.FirmwareNotFound
 *   firmware of another product             iot.ota.FirmwareAndProductKeyMismatch
 *   firmware status not 1 or -1             iot.ota.FirmwareNotVerified
 *   a device not in the product             iot.device.NotExistedDevice
 *   GRAY selecting no device                iot.ota.NoDeviceToUpgrade (ours)
 * ScheduleFinishTime without ScheduleTime is measured from now (1 h..30 d).
 */
#include "emu_world_internal.h"

#include "orch/base/err.h"
#include "orch/cloud/params.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TARGETS 200
#define MAX_SRC 10
#define MAX_TAGS 10
#define MAX_QUERY_NAMES 100

#define C_INVALID "iot.common.InvalidFormattedParameter"
#define C_NULL "iot.check.NullParameter"
#define C_PAGE "iot.common.InvalidPageParams"

static const char desc_busy[] = "device already in an upgrade task";
static const char desc_overwritten[] = "overwritten by a newer upgrade job";
static const char desc_canceled[] = "canceled by CancelOTATaskByJob";

/* ---------------------------------------------------------------- helpers */

static const char *param(const struct emu_call *c, const char *name)
{
    const char *v = orch_params_get(c->params, name);

    return (v && v[0]) ? v : NULL;
}

/* Strict decimal (optional leading '-'), fits in int64. */
static int parse_i64(const char *s, int64_t *out)
{
    char *end = NULL;
    long long v = 0;

    if (s == NULL || s[0] == '\0' || s[0] == '+' || s[0] == ' ')
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

/* "N" of "Prefix.N" as a positive index without leading zeros; 0 if the
 * suffix is not one. */
static size_t list_index(const char *suffix)
{
    size_t v = 0;
    const char *p = suffix;

    if (*p < '1' || *p > '9')
        return 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > 100000000)
            return 0;
        v = v * 10 + (size_t)(*p - '0');
    }
    return v;
}

static int valid_version(const char *s)
{
    size_t n = strlen(s);
    size_t i = 0;

    if (n == 0 || n > 64)
        return 0;
    for (i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
              ch == '_'))
            return 0;
    }
    return 1;
}

/* Fails the call unless IotInstanceId matches the world's instance.
 * Returns 1 when r was filled with the error, 0 to go on. */
static int instance_mismatch(struct emu_world *w, const struct emu_call *c,
                             struct emu_result *r, int *rc)
{
    const char *inst = param(c, "IotInstanceId");

    if (w->instance_id == NULL && inst == NULL)
        return 0;
    if (w->instance_id && inst && strcmp(w->instance_id, inst) == 0)
        return 0;
    if (w->instance_id && inst == NULL)
        *rc = emu_fail(r, c, "iot.ota.InstanceIdMisMatch",
                       "IotInstanceId is required for this instance.");
    else
        *rc = emu_fail(r, c, "iot.ota.InstanceIdMisMatch",
                       "IotInstanceId %.80s does not match the instance.",
                       inst);
    return 1;
}

/* Parses PageSize/CurrentPage. Missing values take the defaults given
 * (0 = required). Returns 1 with r filled on error. */
static int paging(const struct emu_call *c, struct emu_result *r, int *rc,
                  int64_t max_size, int64_t def_size, int64_t def_page,
                  int64_t *size, int64_t *page)
{
    const char *ps = param(c, "PageSize");
    const char *cp = param(c, "CurrentPage");

    *size = def_size;
    *page = def_page;
    if ((ps && parse_i64(ps, size)) || (cp && parse_i64(cp, page)) ||
        (ps == NULL && def_size == 0) || (cp == NULL && def_page == 0) ||
        *size < 1 || *size > max_size || *page < 1) {
        *rc = emu_fail(r, c, C_PAGE,
                       "PageSize must be 1..%lld and CurrentPage >= 1.",
                       (long long)max_size);
        return 1;
    }
    return 0;
}

/* emu_ok() for an answer built by the caller: NULL means ENOMEM. */
static int ok_with(struct emu_result *r, const struct emu_call *c,
                   json_t *extra)
{
    if (extra == NULL)
        return ORCH_ENOMEM;
    return emu_ok(r, c, extra);
}

/* Adds CurrentPage, PageSize, PageCount, Total and Data.{listname}. */
static int paged_answer(struct emu_result *r, const struct emu_call *c,
                        const char *listname, json_t *list, int64_t page,
                        int64_t size, int64_t total)
{
    json_t *extra = json_pack("{s:I, s:I, s:I, s:I, s:{s:o}}", "CurrentPage",
                              (json_int_t)page, "PageSize", (json_int_t)size,
                              "PageCount",
                              (json_int_t)((total + size - 1) / size),
                              "Total", (json_int_t)total, "Data", listname,
                              list);

    return ok_with(r, c, extra);
}

static int set_utc(json_t *o, const char *key, int64_t ms)
{
    return json_object_set_new(o, key, emu_utc_json(ms));
}

/* SimpleOTAJobInfo, or with full the whole QueryOTAJob Data. */
static json_t *job_json(struct emu_world *w, struct emu_job *job,
                        int64_t now_ms, int full)
{
    enum emu_job_status st = emu_sim_job_status(w, job, now_ms);
    json_t *o = NULL;
    json_t *tags = json_array();
    json_t *src = NULL;
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
    bad |= set_utc(o, "UtcCreate", job->created_ms);
    bad |= set_utc(o, "UtcModified", job->modified_ms);
    if (st != EMU_JOB_PLANNED && now_ms >= job->start_ms)
        bad |= set_utc(o, "UtcStartTime", job->start_ms);
    if (st == EMU_JOB_COMPLETED || st == EMU_JOB_CANCELED)
        bad |= set_utc(o, "UtcEndTime", job->end_ms);
    if (!full)
        return bad ? (json_decref(o), NULL) : o;
    src = json_array();
    for (i = 0; src && i < job->nsrc; i++)
        bad |= json_array_append_new(src, json_string(job->src_versions[i]));
    bad |= json_object_set_new(o, "SrcVersions",
                               json_pack("{s:o}", "SrcVersion", src));
    bad |= json_object_set_new(o, "DestVersion",
                               json_string(job->fw->dest_version));
    bad |= json_object_set_new(o, "Name", json_string(job->fw->name));
    if (job->schedule_ms)
        bad |= set_utc(o, "UtcScheduleTime", job->schedule_ms);
    if (job->finish_ms)
        bad |= set_utc(o, "UtcScheduleFinishTime", job->finish_ms);
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
    if (!bad)
        return o;
fail:
    json_decref(o);
    return NULL;
}

static json_t *task_json(struct emu_task *t)
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

/* ------------------------------------------------------------- Create */

struct create_req {
    const char *firmware_id;
    const char *product_key;
    const char *selection;
    const char *schedule;
    const char *finish;
    const char *retry_interval;
    const char *retry_count;
    const char *timeout;
    const char *max_per_min;
    const char *gray;
    const char *overwrite;
    const char *dn_list_url;
    const char *group_id;
    size_t nnames;        /* TargetDeviceName.* seen */
    size_t nsrc;          /* SrcVersion.* seen */
    size_t ntagparams;    /* Tag.* seen */
    const char *names[MAX_TARGETS];
    const char *src[MAX_SRC];
    const char *tagkey[MAX_TAGS];
    const char *tagval[MAX_TAGS];
    uint64_t hashes[MAX_TARGETS]; /* of keys, from create_check_params */
    char keys[MAX_TARGETS][EMU_KEY_MAX]; /* "ProductKey/DeviceName" */
    int bad_index;        /* a .N with a gap, a repeat or a bad N */
    const char *bad_name; /* its parameter name */
};

/* Puts value into slots[idx-1] when the index is valid and free. */
static void list_put(struct create_req *q, const char **slots, size_t cap,
                     const char *name, const char *suffix, const char *value)
{
    size_t idx = list_index(suffix);

    if (idx == 0 || idx > cap || slots[idx - 1]) {
        if (!q->bad_index) {
            q->bad_index = 1;
            q->bad_name = name;
        }
        return;
    }
    slots[idx - 1] = value;
}

/* One pass over the request. Lists longer than their cap are only counted
 * (the count is the error). */
static void create_scan(const struct emu_call *c, struct create_req *q)
{
    static const struct {
        const char *name;
        size_t off;
    } scalars[] = {
        {"FirmwareId", offsetof(struct create_req, firmware_id)},
        {"ProductKey", offsetof(struct create_req, product_key)},
        {"TargetSelection", offsetof(struct create_req, selection)},
        {"ScheduleTime", offsetof(struct create_req, schedule)},
        {"ScheduleFinishTime", offsetof(struct create_req, finish)},
        {"RetryInterval", offsetof(struct create_req, retry_interval)},
        {"RetryCount", offsetof(struct create_req, retry_count)},
        {"TimeoutInMinutes", offsetof(struct create_req, timeout)},
        {"MaximumPerMinute", offsetof(struct create_req, max_per_min)},
        {"GrayPercent", offsetof(struct create_req, gray)},
        {"OverwriteMode", offsetof(struct create_req, overwrite)},
        {"DnListFileUrl", offsetof(struct create_req, dn_list_url)},
        {"GroupId", offsetof(struct create_req, group_id)},
    };
    const struct orch_params *p = c->params;
    size_t i = 0;
    size_t k = 0;

    memset(q, 0, sizeof(*q));
    for (i = 0; i < p->n; i++) {
        const char *n = p->v[i].name;
        const char *v = p->v[i].value;

        if (strncmp(n, "TargetDeviceName.", 17) == 0) {
            q->nnames++;
            list_put(q, q->names, MAX_TARGETS, n, n + 17, v);
            continue;
        }
        if (strncmp(n, "SrcVersion.", 11) == 0) {
            q->nsrc++;
            list_put(q, q->src, MAX_SRC, n, n + 11, v);
            continue;
        }
        if (strncmp(n, "Tag.", 4) == 0) {
            const char *dot = strchr(n + 4, '.');
            char num[16];
            size_t len = dot ? (size_t)(dot - (n + 4)) : 0;
            q->ntagparams++;
            if (dot == NULL || len == 0 || len >= sizeof(num) ||
                (strcmp(dot, ".Key") && strcmp(dot, ".Value"))) {
                q->bad_index = q->bad_index ? q->bad_index : 1;
                q->bad_name = q->bad_name ? q->bad_name : n;
                continue;
            }
            memcpy(num, n + 4, len);
            num[len] = '\0';
            list_put(q, strcmp(dot, ".Key") == 0 ? q->tagkey : q->tagval,
                     MAX_TAGS, n, num, v);
            continue;
        }
        for (k = 0; k < sizeof(scalars) / sizeof(scalars[0]); k++) {
            if (strcmp(n, scalars[k].name) == 0) {
                const char **slot =
                    (const char **)((char *)q + scalars[k].off);
                if (*slot == NULL && v[0])
                    *slot = v;
                break;
            }
        }
    }
}

/* Checks that slots[0..n) are all filled (indices 1..n, no gap). */
static int list_contiguous(const char *const *slots, size_t n)
{
    size_t i = 0;

    for (i = 0; i < n; i++) {
        if (slots[i] == NULL)
            return 0;
    }
    return 1;
}

/* Small open-addressing set of strings for duplicate checks. */
static int seen_before(const char **set, size_t cap, const char *s)
{
    size_t i = emu_hash(s, strlen(s)) & (cap - 1);

    while (set[i]) {
        if (strcmp(set[i], s) == 0)
            return 1;
        i = (i + 1) & (cap - 1);
    }
    set[i] = s;
    return 0;
}

/* The duplicate check of the device names, on their device keys (one
 * product, so equal keys are equal names) with the hashes the device map
 * needs anyway: set holds indices + 1 into q's names, cap a power of two
 * above MAX_TARGETS. Returns 1 when name i repeats an earlier one. */
static int name_seen_before(uint16_t *set, size_t cap,
                            const struct create_req *q, size_t i)
{
    size_t k = q->hashes[i] & (cap - 1);

    while (set[k]) {
        size_t j = set[k] - 1u;

        if (q->hashes[j] == q->hashes[i] && strcmp(q->keys[j], q->keys[i]) == 0)
            return 1;
        k = (k + 1) & (cap - 1);
    }
    set[k] = (uint16_t)(i + 1);
    return 0;
}

/* GrayPercent: up to 3 decimals, 0 < p <= 100, in thousandths. */
static int parse_gray(const char *s, int64_t *milli)
{
    int64_t whole = 0;
    int64_t frac = 0;
    int nfrac = 0;
    int nwhole = 0;
    const char *p = s;

    for (; *p >= '0' && *p <= '9'; p++, nwhole++) {
        if (nwhole >= 3)
            return -1;
        whole = whole * 10 + (*p - '0');
    }
    if (nwhole == 0)
        return -1;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, nfrac++) {
            if (nfrac >= 3)
                return -1;
            frac = frac * 10 + (*p - '0');
        }
        if (nfrac == 0)
            return -1;
    }
    if (*p != '\0')
        return -1;
    for (; nfrac < 3; nfrac++)
        frac *= 10;
    *milli = whole * 1000 + frac;
    if (*milli <= 0 || *milli > 100000)
        return -1;
    return 0;
}

/* Parses an optional integer parameter that must be in a set or range. */
static int int_param(const char *v, int64_t *out, int64_t def)
{
    if (v == NULL) {
        *out = def;
        return 0;
    }
    return parse_i64(v, out);
}

static int version_in(const char *v, const char *const *list, size_t n)
{
    size_t i = 0;

    for (i = 0; i < n; i++) {
        if (strcmp(v, list[i]) == 0)
            return 1;
    }
    return 0;
}

struct create_checked {
    enum emu_selection sel;
    int64_t schedule;
    int64_t finish;
    int64_t retry_interval;
    int64_t retry_count;
    int64_t timeout;
    int64_t max_per_min;
    int64_t overwrite;
    int64_t gray_milli;
    size_t ntags;
};

/* The checks that need no world state. Returns 1 with r filled. */
static int create_check_params(struct emu_world *w, const struct emu_call *c,
                               struct emu_result *r, int *rc,
                               struct create_req *q, struct create_checked *k)
{
    const int64_t now = c->now_ms;
    const int64_t min5 = 5 * 60 * 1000LL;
    const int64_t hour = 60 * 60 * 1000LL;
    const int64_t day = 24 * hour;
    const char *seen[512];
    uint16_t seen_idx[512];
    size_t i = 0;

#define FAIL(code, ...)                                                    \
    do {                                                                   \
        *rc = emu_fail(r, c, code, __VA_ARGS__);                           \
        return 1;                                                          \
    } while (0)

    if (q->firmware_id == NULL)
        FAIL("MissingFirmwareId", "FirmwareId is mandatory for this action.");
    if (q->product_key == NULL)
        FAIL("iot.prod.NullProductKey",
             "ProductKey is mandatory for this action.");
    if (q->selection == NULL)
        FAIL(C_NULL, "TargetSelection is mandatory for this action.");
    if (instance_mismatch(w, c, r, rc))
        return 1;
    if (!emu_valid_alnum(q->product_key, EMU_MAX_PK))
        FAIL("iot.prod.InvalidFormattedProductkey",
             "ProductKey %.80s is not valid.", q->product_key);
    if (!emu_valid_alnum(q->firmware_id, 64))
        FAIL("iot.ota.FirmwareNotFound", "Firmware %.80s does not exist.",
             q->firmware_id);
    if (strcmp(q->selection, "ALL") == 0)
        k->sel = EMU_SEL_ALL;
    else if (strcmp(q->selection, "SPECIFIC") == 0)
        k->sel = EMU_SEL_SPECIFIC;
    else if (strcmp(q->selection, "GRAY") == 0)
        k->sel = EMU_SEL_GRAY;
    else if (strcmp(q->selection, "GROUP") == 0)
        FAIL(C_INVALID, "TargetSelection GROUP is not supported by "
                        "ota-emulator.");
    else
        FAIL(C_INVALID, "TargetSelection %.40s is not valid (ALL, SPECIFIC, "
                        "GRAY, GROUP).", q->selection);
    if (q->dn_list_url)
        FAIL(C_INVALID, "DnListFileUrl is not supported by ota-emulator.");

    /* ScheduleTime: 13-digit epoch ms, 5 minutes to 7 days ahead. */
    k->schedule = 0;
    if (q->schedule) {
        if (strlen(q->schedule) != 13 || parse_i64(q->schedule, &k->schedule))
            FAIL(C_INVALID, "ScheduleTime must be a 13-digit timestamp in "
                            "milliseconds.");
        if (k->schedule < now + min5 || k->schedule > now + 7 * day)
            FAIL(C_INVALID, "ScheduleTime must be 5 minutes to 7 days after "
                            "the current time.");
    }
    k->finish = 0;
    if (q->finish) {
        int64_t base = k->schedule ? k->schedule : now;
        if (strlen(q->finish) != 13 || parse_i64(q->finish, &k->finish))
            FAIL(C_INVALID, "ScheduleFinishTime must be a 13-digit "
                            "timestamp in milliseconds.");
        if (k->finish < base + hour || k->finish > base + 30 * day)
            FAIL(C_INVALID, "ScheduleFinishTime must be 1 hour to 30 days "
                            "after ScheduleTime.");
    }
    if (int_param(q->retry_interval, &k->retry_interval, -1) ||
        int_param(q->retry_count, &k->retry_count, -1) ||
        int_param(q->timeout, &k->timeout, -1) ||
        int_param(q->max_per_min, &k->max_per_min, 1000) ||
        int_param(q->overwrite, &k->overwrite, 1))
        FAIL(C_INVALID, "RetryInterval, RetryCount, TimeoutInMinutes, "
                        "MaximumPerMinute and OverwriteMode must be "
                        "integers.");
    if (q->retry_interval && k->retry_interval != 0 &&
        k->retry_interval != 10 && k->retry_interval != 30 &&
        k->retry_interval != 60 && k->retry_interval != 1440)
        FAIL(C_INVALID, "RetryInterval must be 0, 10, 30, 60 or 1440.");
    if (q->retry_count && k->retry_count != 1 && k->retry_count != 2 &&
        k->retry_count != 5)
        FAIL(C_INVALID, "RetryCount must be 1, 2 or 5.");
    if (q->retry_interval && q->retry_count == NULL)
        FAIL(C_NULL, "RetryCount is mandatory when RetryInterval is set.");
    if (q->retry_count && q->retry_interval == NULL)
        FAIL(C_NULL, "RetryInterval is mandatory when RetryCount is set.");
    if (q->timeout && (k->timeout < 1 || k->timeout > 1440))
        FAIL("iot.ota.InvalidTimeout", "TimeoutInMinutes must be 1 to 1440.");
    if (k->max_per_min < 0 || k->max_per_min > 1000)
        FAIL("iot.ota.InvalidMaximumPerMinute",
             "MaximumPerMinute must be 0 to 1000.");
    if (k->overwrite != 1 && k->overwrite != 2)
        FAIL(C_INVALID, "OverwriteMode must be 1 or 2.");
    k->gray_milli = 0;
    if (q->gray && k->sel != EMU_SEL_GRAY)
        FAIL(C_INVALID, "GrayPercent is only allowed with TargetSelection "
                        "GRAY.");
    if (k->sel == EMU_SEL_GRAY && q->gray == NULL)
        FAIL(C_NULL, "GrayPercent is mandatory when TargetSelection is "
                     "GRAY.");
    if (q->gray && parse_gray(q->gray, &k->gray_milli))
        FAIL(C_INVALID, "GrayPercent %.20s must be a percentage above 0 and "
                        "up to 100 with at most 3 decimals.", q->gray);

    /* Lists. */
    if (q->nnames > MAX_TARGETS)
        FAIL("iot.device.TooManyDeviceNamesPerRequest",
             "At most %d TargetDeviceName values are allowed, got %zu.",
             MAX_TARGETS, q->nnames);
    if (q->nsrc > MAX_SRC)
        FAIL("iot.ota.InvalidSrcVersionList",
             "At most %d SrcVersion values are allowed, got %zu.", MAX_SRC,
             q->nsrc);
    if (q->bad_index || !list_contiguous(q->names, q->nnames) ||
        !list_contiguous(q->src, q->nsrc))
        FAIL(C_INVALID, "List parameters must be numbered 1..N without gaps "
                        "(%.60s).", q->bad_name ? q->bad_name : "gap");
    for (k->ntags = 0; k->ntags < MAX_TAGS; k->ntags++) {
        if (q->tagkey[k->ntags] == NULL && q->tagval[k->ntags] == NULL)
            break;
    }
    for (i = 0; i < MAX_TAGS; i++) {
        const char *key = q->tagkey[i];
        const char *val = q->tagval[i];
        if (i >= k->ntags) {
            if (key || val)
                FAIL(C_INVALID, "Tag.N must be numbered 1..N without gaps.");
            continue;
        }
        if (key == NULL || val == NULL || !key[0] || strlen(key) > 30 ||
            strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789.") != strlen(key) ||
            !val[0] || strlen(val) > 1024)
            FAIL(C_INVALID, "Tag.%zu needs a Key (1-30 of letters, digits, "
                            "'.') and a Value (1-1024 characters).", i + 1);
    }
    if (k->sel == EMU_SEL_SPECIFIC) {
        if (q->nnames == 0)
            FAIL(C_NULL, "TargetDeviceName is mandatory when TargetSelection "
                         "is SPECIFIC.");
        if (q->nsrc > 0)
            FAIL("iot.ota.InvalidSrcVersionList",
                 "SrcVersion is not allowed when TargetSelection is "
                 "SPECIFIC.");
    } else {
        if (q->nsrc == 0)
            FAIL("iot.ota.EmptySrcVersionList",
                 "SrcVersion is mandatory when TargetSelection is %s.",
                 q->selection);
        if (q->nnames > 0)
            FAIL(C_INVALID, "TargetDeviceName is not allowed when "
                            "TargetSelection is %s.", q->selection);
    }
    memset(seen_idx, 0, sizeof(seen_idx));
    for (i = 0; i < q->nnames; i++) {
        if (!emu_valid_device_name(q->names[i]))
            FAIL("iot.device.InvalidFormattedDeviceNameInNameArray",
                 "TargetDeviceName.%zu %.40s is not a valid device name.",
                 i + 1, q->names[i]);
        /* Both lengths were checked: the key fits, the hash is not 0. */
        q->hashes[i] = emu_device_key_pk(q->product_key, q->names[i],
                                         q->keys[i]);
        if (name_seen_before(seen_idx, 512, q, i))
            FAIL("iot.device.InvalidFormattedDeviceNameInNameArray",
                 "TargetDeviceName.%zu %.40s is a duplicate.", i + 1,
                 q->names[i]);
    }
    memset(seen, 0, sizeof(seen));
    for (i = 0; i < q->nsrc; i++) {
        if (!valid_version(q->src[i]) || seen_before(seen, 32, q->src[i]))
            FAIL("iot.ota.InvalidSrcVersionList",
                 "SrcVersion.%zu %.64s is invalid or a duplicate.", i + 1,
                 q->src[i]);
    }
#undef FAIL
    return 0;
}

/* Builds the job's task for device d at index i (d is up to date). */
static int add_task(struct emu_world *w, struct emu_job *job,
                    struct emu_device *d, int64_t now)
{
    struct emu_task *t = &job->tasks[job->ntasks];
    struct emu_task *old = d->active;

    t->job = job;
    t->dev = d;
    t->index = (uint32_t)job->ntasks;
    t->src_version = d->version;
    t->modified_ms = now;
    t->dev_prev = d->last;
    d->last = t;
    job->ntasks++;
    w->tasks_total++;
    if (old && old->live) {
        /* OverwriteMode 2 replaces a pending task, never one in progress. */
        if (job->overwrite_mode == 2 && (old->status == EMU_TASK_QUEUED ||
                                         old->status == EMU_TASK_NOTIFIED)) {
            emu_sim_task_end(w, old, EMU_TASK_CANCELED, desc_overwritten,
                             now);
        } else {
            t->status = EMU_TASK_FAILED;
            t->desc = desc_busy;
            return 0;
        }
    }
    t->status = EMU_TASK_QUEUED;
    t->live = 1;
    emu_sim_task_init(w, t);
    d->active = t;
    job->nlive++;
    return emu_device_add_unfinished(w, d);
}

/* Whether device d (up to date) gets a task at all: devices on the
 * destination version are skipped, and a diff package only applies to
 * devices on its SrcVersion. */
static int device_eligible(const struct emu_firmware *fw,
                           const struct emu_device *d)
{
    if (strcmp(d->version, fw->dest_version) == 0)
        return 0;
    if (fw->type == 1 && fw->src_version &&
        strcmp(d->version, fw->src_version) != 0)
        return 0;
    return 1;
}

int emu_op_create(struct emu_world *w, const struct emu_call *c,
                  struct emu_result *r, struct emu_job **created)
{
    struct create_req *q = NULL;
    struct create_checked k;
    struct emu_product *prod = NULL;
    struct emu_firmware *fw = NULL;
    struct emu_device **devs = NULL;
    struct emu_job *job = NULL;
    const int64_t now = c->now_ms;
    const int autoc = w->opts.auto_create;
    size_t ndevs = 0;
    size_t i = 0;
    int rc = 0;

    *created = NULL;
    q = malloc(sizeof(*q));
    if (q == NULL)
        return ORCH_ENOMEM;
    memset(&k, 0, sizeof(k));
    create_scan(c, q);
    if (create_check_params(w, c, r, &rc, q, &k))
        goto out;

    prod = emu_product_find(w, q->product_key, autoc);
    if (prod == NULL) {
        rc = autoc ? ORCH_ENOMEM
                   : emu_fail(r, c, "iot.prod.NotExistedProduct",
                              "Product %.80s does not exist.",
                              q->product_key);
        goto out;
    }
    fw = emu_firmware_find(w, q->firmware_id, autoc);
    if (fw == NULL) {
        rc = autoc ? ORCH_ENOMEM
                   : emu_fail(r, c, "iot.ota.FirmwareNotFound",
                              "Firmware %.80s does not exist.",
                              q->firmware_id);
        goto out;
    }
    if (fw->prod == NULL && autoc)
        fw->prod = prod;
    if (fw->prod != prod) {
        rc = emu_fail(r, c, "iot.ota.FirmwareAndProductKeyMismatch",
                      "Firmware %.80s does not belong to product %.80s.",
                      fw->id, prod->key);
        goto out;
    }
    if (fw->status != 1 && fw->status != -1) {
        rc = emu_fail(r, c, "iot.ota.FirmwareNotVerified",
                      "Firmware %.80s has not passed verification.", fw->id);
        goto out;
    }
    if (k.sel != EMU_SEL_SPECIFIC && fw->type == 1 &&
        (q->nsrc != 1 || fw->src_version == NULL ||
         strcmp(q->src[0], fw->src_version) != 0)) {
        rc = emu_fail(r, c, "iot.ota.InvalidSrcVersionList",
                      "SrcVersion must be the differential package's "
                      "SrcVersion %.64s.",
                      fw->src_version ? fw->src_version : "");
        goto out;
    }

    /* Select the devices. */
    if (k.sel == EMU_SEL_SPECIFIC) {
        devs = malloc(q->nnames * sizeof(*devs));
        if (devs == NULL) {
            rc = ORCH_ENOMEM;
            goto out;
        }
        /* Three passes, each issuing its 200 independent memory accesses
         * together (hash and prefetch the slots; look up and prefetch
         * the active tasks; then use them): a world of a million devices
         * does not fit in cache, and this hides most of the latency. */
        for (i = 0; i < q->nnames; i++) /* keys: create_check_params */
            emu_map_prefetch(&w->devices, q->hashes[i]);
        for (i = 0; i < q->nnames; i++) {
            struct emu_device *d = NULL;
            if (q->hashes[i])
                d = emu_device_find_key(w, prod, q->keys[i], q->names[i],
                                        q->hashes[i], autoc);
            devs[i] = d;
            if (d && d->active)
                __builtin_prefetch(d->active);
        }
        for (i = 0; i < q->nnames; i++) {
            struct emu_device *d = devs[i];
            if (d == NULL) {
                rc = autoc ? ORCH_ENOMEM
                           : emu_fail(r, c, "iot.device.NotExistedDevice",
                                      "Device %.40s does not exist in "
                                      "product %.80s.",
                                      q->names[i], prod->key);
                goto out;
            }
            emu_sim_device_update(w, d, now);
            if (device_eligible(fw, d))
                devs[ndevs++] = d;
        }
    } else {
        devs = malloc((prod->ndevs ? prod->ndevs : 1) * sizeof(*devs));
        if (devs == NULL) {
            rc = ORCH_ENOMEM;
            goto out;
        }
        for (i = 0; i < prod->ndevs; i++) {
            struct emu_device *d = prod->devs[i];
            emu_sim_device_update(w, d, now);
            if (device_eligible(fw, d) &&
                version_in(d->version, q->src, q->nsrc))
                devs[ndevs++] = d;
        }
        if (k.sel == EMU_SEL_GRAY) {
            /* Rounded down; at least one device. */
            ndevs = (size_t)((uint64_t)ndevs * (uint64_t)k.gray_milli /
                             100000u);
            if (ndevs == 0) {
                rc = emu_fail(r, c, "iot.ota.NoDeviceToUpgrade",
                              "GrayPercent %.20s selects no device.",
                              q->gray);
                goto out;
            }
        }
    }

    /* Build the job. Nothing below rejects the request. */
    job = calloc(1, sizeof(*job));
    if (job == NULL) {
        rc = ORCH_ENOMEM;
        goto out;
    }
    job->tasks = emu_slab_alloc(w, (ndevs ? ndevs : 1) * sizeof(*job->tasks));
    job->src_versions = calloc(q->nsrc ? q->nsrc : 1, sizeof(char *));
    job->tags = calloc(k.ntags ? k.ntags : 1, sizeof(*job->tags));
    if (job->tasks == NULL || job->src_versions == NULL || job->tags == NULL)
        goto nomem;
    for (i = 0; i < q->nsrc; i++) {
        job->src_versions[i] = emu_intern(w, q->src[i]);
        if (job->src_versions[i] == NULL)
            goto nomem;
        job->nsrc++;
    }
    for (i = 0; i < k.ntags; i++) {
        job->tags[i].key = strdup(q->tagkey[i]);
        job->tags[i].value = strdup(q->tagval[i]);
        job->ntags++;
        if (job->tags[i].key == NULL || job->tags[i].value == NULL)
            goto nomem;
    }
    job->seq = ++w->job_seq;
    emu_make_id(job->id, w->opts.seed ^ 0x4A4F42ULL, job->seq);
    job->prod = prod;
    job->fw = fw;
    job->selection = k.sel;
    if (q->gray)
        snprintf(job->gray, sizeof(job->gray), "%s", q->gray);
    job->created_ms = now;
    job->modified_ms = now;
    job->schedule_ms = k.schedule;
    job->start_ms = k.schedule ? k.schedule : now;
    job->finish_ms = k.finish;
    job->end_ms = now;
    job->retry_interval = (int)k.retry_interval;
    job->retry_count = (int)k.retry_count;
    job->timeout_min = (int)k.timeout;
    job->max_per_minute = (int)k.max_per_min;
    job->overwrite_mode = (int)k.overwrite;
    rc = emu_job_register(w, job);
    if (rc)
        goto nomem;
    /* Registered: from here the job belongs to the world. */
    for (i = 0; i < ndevs; i++) {
        rc = add_task(w, job, devs[i], now);
        if (rc)
            goto out;
    }
    job->done_ms = now;
    for (i = 0; i < job->ntasks; i++) {
        if (job->tasks[i].live) {
            int64_t end = emu_sim_task_end_ms(w, &job->tasks[i]);
            if (end > job->done_ms)
                job->done_ms = end;
        }
    }
    snprintf(r->job_id, sizeof(r->job_id), "%s", job->id);
    {
        char utc[32];

        emu_utc(now, utc);
        rc = ok_with(r, c, json_pack("{s:{s:s, s:s}}", "Data", "JobId",
                                     job->id, "UtcCreate", utc));
    }
    if (rc == 0)
        *created = job;
    job = NULL;
    goto out;
nomem:
    emu_job_free(job);
    job = NULL;
    rc = ORCH_ENOMEM;
out:
    free(devs);
    free(q);
    return rc;
}

/* ------------------------------------------------------------ job queries */

/* Finds the JobId's job or fills r. Returns NULL with *rc set then. */
static struct emu_job *job_param(struct emu_world *w, const struct emu_call *c,
                                 struct emu_result *r, int *rc)
{
    const char *id = param(c, "JobId");
    struct emu_job *job = NULL;

    if (id == NULL) {
        *rc = emu_fail(r, c, C_NULL, "JobId is mandatory for this action.");
        return NULL;
    }
    if (instance_mismatch(w, c, r, rc))
        return NULL;
    job = emu_job_find(w, id);
    if (job == NULL)
        *rc = emu_fail(r, c, "iot.ota.InvalidJobId",
                       "Job %.80s does not exist.", id);
    return job;
}

int emu_op_query_job(struct emu_world *w, const struct emu_call *c,
                     struct emu_result *r)
{
    int rc = 0;
    struct emu_job *job = job_param(w, c, r, &rc);
    json_t *data = NULL;

    if (job == NULL)
        return rc;
    data = job_json(w, job, c->now_ms, 1);
    if (data == NULL)
        return ORCH_ENOMEM;
    return ok_with(r, c, json_pack("{s:o}", "Data", data));
}

/* Finds FirmwareId's firmware or fills r. */
static struct emu_firmware *firmware_param(struct emu_world *w,
                                           const struct emu_call *c,
                                           struct emu_result *r, int *rc)
{
    const char *id = param(c, "FirmwareId");
    struct emu_firmware *fw = NULL;

    if (id == NULL) {
        *rc = emu_fail(r, c, C_NULL,
                       "FirmwareId is mandatory for this action.");
        return NULL;
    }
    if (instance_mismatch(w, c, r, rc))
        return NULL;
    if (emu_valid_alnum(id, 64))
        fw = emu_firmware_find(w, id, w->opts.auto_create);
    if (fw == NULL)
        *rc = emu_fail(r, c, "iot.ota.FirmwareNotFound",
                       "Firmware %.80s does not exist.", id);
    return fw;
}

int emu_op_list_job_by_firmware(struct emu_world *w, const struct emu_call *c,
                                struct emu_result *r)
{
    int rc = 0;
    struct emu_firmware *fw = firmware_param(w, c, r, &rc);
    int64_t size = 0;
    int64_t page = 0;
    int64_t i = 0;
    json_t *list = NULL;

    if (fw == NULL)
        return rc;
    if (paging(c, r, &rc, 200, 0, 0, &size, &page))
        return rc;
    list = json_array();
    if (list == NULL)
        return ORCH_ENOMEM;
    /* Newest first, as the console lists them. */
    for (i = (page - 1) * size; i < page * size && i < (int64_t)fw->njobs;
         i++) {
        struct emu_job *job = fw->jobs[fw->njobs - 1 - (size_t)i];
        if (json_array_append_new(list, job_json(w, job, c->now_ms, 0))) {
            json_decref(list);
            return ORCH_ENOMEM;
        }
    }
    return paged_answer(r, c, "SimpleOTAJobInfo", list, page, size,
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

int emu_op_list_task_by_job(struct emu_world *w, const struct emu_call *c,
                            struct emu_result *r)
{
    int rc = 0;
    struct emu_job *job = job_param(w, c, r, &rc);
    const char *fs = param(c, "TaskStatus");
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
        if (strncmp(n, "DeviceNames.", 12) || !list_index(n + 12))
            continue;
        if (nnames == 50)
            return emu_fail(r, c, "iot.device.TooManyDeviceNamesPerRequest",
                            "At most 50 DeviceNames are allowed.");
        names[nnames++] = c->params->v[i].value;
    }
    if (paging(c, r, &rc, 100, 10, 1, &size, &page))
        return rc;
    if (page * size > 100000)
        return emu_fail(r, c, C_PAGE,
                        "CurrentPage x PageSize must not exceed 100000.");
    list = json_array();
    if (list == NULL)
        return ORCH_ENOMEM;
    if (nnames > 0) {
        /* Paging is ignored; each device's chain leads to its task. */
        for (i = 0; i < nnames; i++) {
            struct emu_device *d = emu_device_find(w, job->prod, names[i], 0);
            struct emu_task *t = d ? d->last : NULL;
            for (; t && t->job != job; t = t->dev_prev)
                ;
            if (t == NULL)
                continue;
            emu_sim_task_update(w, t, c->now_ms);
            if (filter >= 0 && t->status != filter)
                continue;
            total++;
            if (json_array_append_new(list, task_json(t)))
                goto nomem;
        }
        return paged_answer(r, c, "SimpleOTATaskInfo", list, page, size,
                            total);
    }
    emu_sim_job_update(w, job, c->now_ms);
    for (i = 0; i < job->ntasks; i++) {
        struct emu_task *t = &job->tasks[i];
        if (filter >= 0 && t->status != filter)
            continue;
        total++;
        if (total <= (page - 1) * size || total > page * size)
            continue;
        if (json_array_append_new(list, task_json(t)))
            goto nomem;
    }
    return paged_answer(r, c, "SimpleOTATaskInfo", list, page, size, total);
nomem:
    json_decref(list);
    return ORCH_ENOMEM;
}

int emu_op_list_job_by_device(struct emu_world *w, const struct emu_call *c,
                              struct emu_result *r)
{
    int rc = 0;
    struct emu_firmware *fw = NULL;
    struct emu_product *prod = NULL;
    struct emu_device *d = NULL;
    const char *pk = param(c, "ProductKey");
    const char *dn = param(c, "DeviceName");
    struct emu_task *t = NULL;
    int64_t size = 0;
    int64_t page = 0;
    int64_t total = 0;
    json_t *list = NULL;

    if (pk == NULL)
        return emu_fail(r, c, "iot.prod.NullProductKey",
                        "ProductKey is mandatory for this action.");
    if (dn == NULL)
        return emu_fail(r, c, "iot.device.NullDeviceName",
                        "DeviceName is mandatory for this action.");
    fw = firmware_param(w, c, r, &rc);
    if (fw == NULL)
        return rc;
    if (paging(c, r, &rc, 100, 0, 0, &size, &page))
        return rc;
    if (emu_valid_alnum(pk, EMU_MAX_PK))
        prod = emu_product_find(w, pk, 0);
    if (prod && emu_valid_device_name(dn))
        d = emu_device_find(w, prod, dn, w->opts.auto_create);
    if (d == NULL)
        return emu_fail(r, c, "iot.device.NotExistedDevice",
                        "Device %.40s does not exist in product %.80s.", dn,
                        pk);
    list = json_array();
    if (list == NULL)
        return ORCH_ENOMEM;
    /* The device's task chain, newest first, one entry per job. */
    for (t = d->last; t; t = t->dev_prev) {
        if (t->job->fw != fw)
            continue;
        total++;
        if (total <= (page - 1) * size || total > page * size)
            continue;
        if (json_array_append_new(list, job_json(w, t->job, c->now_ms, 0))) {
            json_decref(list);
            return ORCH_ENOMEM;
        }
    }
    return paged_answer(r, c, "SimpleOTAJobInfo", list, page, size, total);
}

/* "true"/"false" (any case); absent is false. Returns -1 if malformed. */
static int bool_param(const struct emu_call *c, const char *name)
{
    const char *v = param(c, name);

    if (v == NULL || strcasecmp(v, "false") == 0)
        return 0;
    if (strcasecmp(v, "true") == 0)
        return 1;
    return -1;
}

int emu_op_cancel_task_by_job(struct emu_world *w, const struct emu_call *c,
                              struct emu_result *r)
{
    int rc = 0;
    struct emu_job *job = job_param(w, c, r, &rc);
    int queued = bool_param(c, "CancelQueuedTask");
    int notified = bool_param(c, "CancelNotifiedTask");
    int inprog = bool_param(c, "CancelInProgressTask");
    int unconfirmed = bool_param(c, "CancelUnconfirmedTask");
    int scheduled = bool_param(c, "CancelScheduledTask");
    int planned = 0;
    size_t n = 0;
    size_t i = 0;

    if (job == NULL)
        return rc;
    if (queued < 0 || notified < 0 || inprog < 0 || unconfirmed < 0 ||
        scheduled < 0)
        return emu_fail(r, c, C_INVALID,
                        "The Cancel*Task parameters must be true or false.");
    if (!queued && !notified && !inprog && !unconfirmed && !scheduled)
        return emu_fail(r, c, C_NULL,
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

/* ------------------------------------------------- firmware and devices */

int emu_op_query_firmware(struct emu_world *w, const struct emu_call *c,
                          struct emu_result *r)
{
    int rc = 0;
    struct emu_firmware *fw = firmware_param(w, c, r, &rc);
    json_t *info = NULL;

    if (fw == NULL)
        return rc;
    info = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:s, s:s}",
                     "FirmwareId", fw->id, "FirmwareName",
                     fw->name ? fw->name : fw->id, "ProductKey",
                     fw->prod ? fw->prod->key : "", "DestVersion",
                     fw->dest_version, "Status", fw->status, "Type", fw->type,
                     "VerifyProgress", fw->status == 1 ? 100 : 0,
                     "ModuleName", "default", "SignMethod", "MD5");
    if (info == NULL)
        return ORCH_ENOMEM;
    if (fw->src_version &&
        json_object_set_new(info, "SrcVersion", json_string(fw->src_version)))
        goto nomem;
    if (set_utc(info, "UtcCreate", fw->created_ms))
        goto nomem;
    /* The real API names the struct FirmwareInfo; Data carries the same
     * object for clients written against the generic IoT shape. */
    return ok_with(r, c, json_pack("{s:O, s:o}", "Data", info, "FirmwareInfo",
                                  info));
nomem:
    json_decref(info);
    return ORCH_ENOMEM;
}

static json_t *device_json(struct emu_world *w, struct emu_device *d,
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

int emu_op_batch_query_device(struct emu_world *w, const struct emu_call *c,
                              struct emu_result *r)
{
    const char *pk = param(c, "ProductKey");
    struct emu_product *prod = NULL;
    json_t *list = NULL;
    size_t n = 0;
    size_t i = 0;
    int rc = 0;

    if (pk == NULL)
        return emu_fail(r, c, "iot.prod.NullProductKey",
                        "ProductKey is mandatory for this action.");
    if (instance_mismatch(w, c, r, &rc))
        return rc;
    for (i = 0; i < c->params->n; i++) {
        if (strncmp(c->params->v[i].name, "DeviceName.", 11) == 0)
            n++;
    }
    if (n == 0)
        return emu_fail(r, c, "iot.device.NullDeviceName",
                        "DeviceName.N is mandatory for this action.");
    if (n > MAX_QUERY_NAMES)
        return emu_fail(r, c, "iot.device.TooManyDeviceNamesPerRequest",
                        "At most %d DeviceName values are allowed.",
                        MAX_QUERY_NAMES);
    if (emu_valid_alnum(pk, EMU_MAX_PK))
        prod = emu_product_find(w, pk, w->opts.auto_create);
    if (prod == NULL)
        return emu_fail(r, c, "iot.prod.NotExistedProduct",
                        "Product %.80s does not exist.", pk);
    list = json_array();
    if (list == NULL)
        return ORCH_ENOMEM;
    for (i = 0; i < c->params->n; i++) {
        struct emu_device *d = NULL;
        if (strncmp(c->params->v[i].name, "DeviceName.", 11))
            continue;
        /* Devices that do not exist are silently omitted. */
        if (emu_valid_device_name(c->params->v[i].value))
            d = emu_device_find(w, prod, c->params->v[i].value, 0);
        if (d && json_array_append_new(list, device_json(w, d, c->now_ms))) {
            json_decref(list);
            return ORCH_ENOMEM;
        }
    }
    return ok_with(r, c, json_pack("{s:{s:o}}", "Data", "Data", list));
}

int emu_op_query_device(struct emu_world *w, const struct emu_call *c,
                        struct emu_result *r)
{
    const char *pk = param(c, "ProductKey");
    const char *dn = param(c, "DeviceName");
    struct emu_product *prod = NULL;
    struct emu_device *d = NULL;
    json_t *data = NULL;
    int rc = 0;

    if (param(c, "IotId") && (pk == NULL || dn == NULL))
        return emu_fail(r, c, C_INVALID,
                        "ota-emulator looks devices up by ProductKey and "
                        "DeviceName only.");
    if (pk == NULL)
        return emu_fail(r, c, "iot.prod.NullProductKey",
                        "ProductKey is mandatory for this action.");
    if (dn == NULL)
        return emu_fail(r, c, "iot.device.NullDeviceName",
                        "DeviceName is mandatory for this action.");
    if (instance_mismatch(w, c, r, &rc))
        return rc;
    if (emu_valid_alnum(pk, EMU_MAX_PK))
        prod = emu_product_find(w, pk, w->opts.auto_create);
    if (prod && emu_valid_device_name(dn))
        d = emu_device_find(w, prod, dn, w->opts.auto_create);
    if (d == NULL)
        return emu_fail(r, c, "iot.device.NotExistedDevice",
                        "Device %.40s does not exist in product %.80s.", dn,
                        pk);
    data = device_json(w, d, c->now_ms);
    if (data == NULL)
        return ORCH_ENOMEM;
    return ok_with(r, c, json_pack("{s:o}", "Data", data));
}
