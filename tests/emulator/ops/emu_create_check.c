/* emu_create_check.c - reading and checking CreateOTAStaticUpgradeJob's
 * parameters (the order and the codes are in emu_create_check.h).
 */
#include "ops/emu_create_check.h"

#include "ops/emu_args.h"

#include "orch/cloud/params.h"

#include <stddef.h>
#include <string.h>

#define C_INVALID EMU_CODE_INVALID
#define C_NULL EMU_CODE_NULL

/* ------------------------------------------------------------ reading */

/* Notes the first list parameter whose index is wrong. */
static void mark_bad(struct emu_create_req *q, const char *name)
{
    if (!q->bad_index) {
        q->bad_index = 1;
        q->bad_name = name;
    }
}

/* Puts value into slots[idx-1] when the index is valid and free. */
static void list_put(struct emu_create_req *q, const char **slots,
                     size_t cap, const char *name, const char *suffix,
                     const char *value)
{
    size_t idx = emu_list_index(suffix);

    if (idx == 0 || idx > cap || slots[idx - 1]) {
        mark_bad(q, name);
        return;
    }
    slots[idx - 1] = value;
}

/* Tag.N.Key or Tag.N.Value (n is the whole name). */
static void scan_tag(struct emu_create_req *q, const char *n, const char *v)
{
    const char *dot = strchr(n + 4, '.');
    char num[16];
    size_t len = dot ? (size_t)(dot - (n + 4)) : 0;

    q->ntagparams++;
    if (dot == NULL || len == 0 || len >= sizeof(num) ||
        (strcmp(dot, ".Key") && strcmp(dot, ".Value"))) {
        mark_bad(q, n);
        return;
    }
    memcpy(num, n + 4, len);
    num[len] = '\0';
    list_put(q, strcmp(dot, ".Key") == 0 ? q->tagkey : q->tagval,
             EMU_CREATE_MAX_TAGS, n, num, v);
}

/* A scalar parameter: its first non-empty value. */
static void scan_scalar(struct emu_create_req *q, const char *n,
                        const char *v)
{
    static const struct {
        const char *name;
        size_t off;
    } scalars[] = {
        {"FirmwareId", offsetof(struct emu_create_req, firmware_id)},
        {"ProductKey", offsetof(struct emu_create_req, product_key)},
        {"TargetSelection", offsetof(struct emu_create_req, selection)},
        {"ScheduleTime", offsetof(struct emu_create_req, schedule)},
        {"ScheduleFinishTime", offsetof(struct emu_create_req, finish)},
        {"RetryInterval", offsetof(struct emu_create_req, retry_interval)},
        {"RetryCount", offsetof(struct emu_create_req, retry_count)},
        {"TimeoutInMinutes", offsetof(struct emu_create_req, timeout)},
        {"MaximumPerMinute", offsetof(struct emu_create_req, max_per_min)},
        {"GrayPercent", offsetof(struct emu_create_req, gray)},
        {"OverwriteMode", offsetof(struct emu_create_req, overwrite)},
        {"DnListFileUrl", offsetof(struct emu_create_req, dn_list_url)},
        {"GroupId", offsetof(struct emu_create_req, group_id)},
    };
    size_t k = 0;

    for (k = 0; k < sizeof(scalars) / sizeof(scalars[0]); k++) {
        if (strcmp(n, scalars[k].name) == 0) {
            const char **slot = (const char **)((char *)q + scalars[k].off);
            if (*slot == NULL && v[0])
                *slot = v;
            return;
        }
    }
}

void emu_create_scan(const struct emu_call *c, struct emu_create_req *q)
{
    const struct orch_params *p = c->params;
    size_t i = 0;

    memset(q, 0, sizeof(*q));
    for (i = 0; i < p->n; i++) {
        const char *n = p->v[i].name;
        const char *v = p->v[i].value;

        if (strncmp(n, "TargetDeviceName.", 17) == 0) {
            q->nnames++;
            list_put(q, q->names, EMU_CREATE_MAX_TARGETS, n, n + 17, v);
        } else if (strncmp(n, "SrcVersion.", 11) == 0) {
            q->nsrc++;
            list_put(q, q->src, EMU_CREATE_MAX_SRC, n, n + 11, v);
        } else if (strncmp(n, "Tag.", 4) == 0) {
            scan_tag(q, n, v);
        } else {
            scan_scalar(q, n, v);
        }
    }
}

/* ------------------------------------------------------------ helpers */

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
 * above EMU_CREATE_MAX_TARGETS. Returns 1 when name i repeats an earlier
 * one. */
static int name_seen_before(uint16_t *set, size_t cap,
                            const struct emu_create_req *q, size_t i)
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
    return emu_parse_i64(v, out);
}

/* ------------------------------------------------------------- checks */

/* Presence of the mandatory parameters, the instance, the shape of the
 * ids, the selection. */
static int check_required(struct emu_world *w, const struct emu_call *c,
                          struct emu_result *r, int *rc,
                          const struct emu_create_req *q,
                          struct emu_create_checked *k)
{
    if (q->firmware_id == NULL)
        return emu_reject(r, c, rc, "MissingFirmwareId",
                          "FirmwareId is mandatory for this action.");
    if (q->product_key == NULL) {
        *rc = emu_fail_no_product_key(r, c);
        return 1;
    }
    if (q->selection == NULL)
        return emu_reject(r, c, rc, C_NULL,
                          "TargetSelection is mandatory for this action.");
    if (emu_check_instance(w, c, r, rc))
        return 1;
    if (!emu_valid_alnum(q->product_key, EMU_MAX_PK))
        return emu_reject(r, c, rc, "iot.prod.InvalidFormattedProductkey",
                          "ProductKey %.80s is not valid.", q->product_key);
    if (!emu_valid_alnum(q->firmware_id, 64)) {
        *rc = emu_fail_unknown_firmware(r, c, q->firmware_id);
        return 1;
    }
    if (strcmp(q->selection, "ALL") == 0)
        k->sel = EMU_SEL_ALL;
    else if (strcmp(q->selection, "SPECIFIC") == 0)
        k->sel = EMU_SEL_SPECIFIC;
    else if (strcmp(q->selection, "GRAY") == 0)
        k->sel = EMU_SEL_GRAY;
    else if (strcmp(q->selection, "GROUP") == 0)
        return emu_reject(r, c, rc, C_INVALID,
                          "TargetSelection GROUP is not supported by "
                          "ota-emulator.");
    else
        return emu_reject(r, c, rc, C_INVALID,
                          "TargetSelection %.40s is not valid (ALL, "
                          "SPECIFIC, GRAY, GROUP).", q->selection);
    if (q->dn_list_url)
        return emu_reject(r, c, rc, C_INVALID,
                          "DnListFileUrl is not supported by ota-emulator.");
    return 0;
}

/* ScheduleTime: 13-digit epoch ms, 5 minutes to 7 days ahead;
 * ScheduleFinishTime: 1 hour to 30 days after it (or after now). */
static int check_schedule(const struct emu_call *c, struct emu_result *r,
                          int *rc, const struct emu_create_req *q,
                          struct emu_create_checked *k)
{
    const int64_t now = c->now_ms;
    const int64_t min5 = 5 * 60 * 1000LL;
    const int64_t hour = 60 * 60 * 1000LL;
    const int64_t day = 24 * hour;
    int64_t base = 0;

    k->schedule = 0;
    if (q->schedule) {
        if (strlen(q->schedule) != 13 ||
            emu_parse_i64(q->schedule, &k->schedule))
            return emu_reject(r, c, rc, C_INVALID,
                              "ScheduleTime must be a 13-digit timestamp in "
                              "milliseconds.");
        if (k->schedule < now + min5 || k->schedule > now + 7 * day)
            return emu_reject(r, c, rc, C_INVALID,
                              "ScheduleTime must be 5 minutes to 7 days "
                              "after the current time.");
    }
    k->finish = 0;
    if (q->finish == NULL)
        return 0;
    base = k->schedule ? k->schedule : now;
    if (strlen(q->finish) != 13 || emu_parse_i64(q->finish, &k->finish))
        return emu_reject(r, c, rc, C_INVALID,
                          "ScheduleFinishTime must be a 13-digit timestamp "
                          "in milliseconds.");
    if (k->finish < base + hour || k->finish > base + 30 * day)
        return emu_reject(r, c, rc, C_INVALID,
                          "ScheduleFinishTime must be 1 hour to 30 days "
                          "after ScheduleTime.");
    return 0;
}

/* RetryInterval/RetryCount (a pair), TimeoutInMinutes, MaximumPerMinute,
 * OverwriteMode. */
static int check_numbers(const struct emu_call *c, struct emu_result *r,
                         int *rc, const struct emu_create_req *q,
                         struct emu_create_checked *k)
{
    if (int_param(q->retry_interval, &k->retry_interval, -1) ||
        int_param(q->retry_count, &k->retry_count, -1) ||
        int_param(q->timeout, &k->timeout, -1) ||
        int_param(q->max_per_min, &k->max_per_min, 1000) ||
        int_param(q->overwrite, &k->overwrite, 1))
        return emu_reject(r, c, rc, C_INVALID,
                          "RetryInterval, RetryCount, TimeoutInMinutes, "
                          "MaximumPerMinute and OverwriteMode must be "
                          "integers.");
    if (q->retry_interval && k->retry_interval != 0 &&
        k->retry_interval != 10 && k->retry_interval != 30 &&
        k->retry_interval != 60 && k->retry_interval != 1440)
        return emu_reject(r, c, rc, C_INVALID,
                          "RetryInterval must be 0, 10, 30, 60 or 1440.");
    if (q->retry_count && k->retry_count != 1 && k->retry_count != 2 &&
        k->retry_count != 5)
        return emu_reject(r, c, rc, C_INVALID,
                          "RetryCount must be 1, 2 or 5.");
    if (q->retry_interval && q->retry_count == NULL)
        return emu_reject(r, c, rc, C_NULL,
                          "RetryCount is mandatory when RetryInterval is "
                          "set.");
    if (q->retry_count && q->retry_interval == NULL)
        return emu_reject(r, c, rc, C_NULL,
                          "RetryInterval is mandatory when RetryCount is "
                          "set.");
    if (q->timeout && (k->timeout < 1 || k->timeout > 1440))
        return emu_reject(r, c, rc, "iot.ota.InvalidTimeout",
                          "TimeoutInMinutes must be 1 to 1440.");
    if (k->max_per_min < 0 || k->max_per_min > 1000)
        return emu_reject(r, c, rc, "iot.ota.InvalidMaximumPerMinute",
                          "MaximumPerMinute must be 0 to 1000.");
    if (k->overwrite != 1 && k->overwrite != 2)
        return emu_reject(r, c, rc, C_INVALID,
                          "OverwriteMode must be 1 or 2.");
    return 0;
}

/* GrayPercent: with GRAY only, and then required. */
static int check_gray(const struct emu_call *c, struct emu_result *r,
                      int *rc, const struct emu_create_req *q,
                      struct emu_create_checked *k)
{
    k->gray_milli = 0;
    if (q->gray && k->sel != EMU_SEL_GRAY)
        return emu_reject(r, c, rc, C_INVALID,
                          "GrayPercent is only allowed with TargetSelection "
                          "GRAY.");
    if (k->sel == EMU_SEL_GRAY && q->gray == NULL)
        return emu_reject(r, c, rc, C_NULL,
                          "GrayPercent is mandatory when TargetSelection is "
                          "GRAY.");
    if (q->gray && parse_gray(q->gray, &k->gray_milli))
        return emu_reject(r, c, rc, C_INVALID,
                          "GrayPercent %.20s must be a percentage above 0 "
                          "and up to 100 with at most 3 decimals.", q->gray);
    return 0;
}

/* The lists' sizes and numbering, and the tags. */
static int check_lists(const struct emu_call *c, struct emu_result *r,
                       int *rc, const struct emu_create_req *q,
                       struct emu_create_checked *k)
{
    size_t i = 0;

    if (q->nnames > EMU_CREATE_MAX_TARGETS)
        return emu_reject(r, c, rc, "iot.device.TooManyDeviceNamesPerRequest",
                          "At most %d TargetDeviceName values are allowed, "
                          "got %zu.", EMU_CREATE_MAX_TARGETS, q->nnames);
    if (q->nsrc > EMU_CREATE_MAX_SRC)
        return emu_reject(r, c, rc, "iot.ota.InvalidSrcVersionList",
                          "At most %d SrcVersion values are allowed, got "
                          "%zu.", EMU_CREATE_MAX_SRC, q->nsrc);
    if (q->bad_index || !list_contiguous(q->names, q->nnames) ||
        !list_contiguous(q->src, q->nsrc))
        return emu_reject(r, c, rc, C_INVALID,
                          "List parameters must be numbered 1..N without "
                          "gaps (%.60s).", q->bad_name ? q->bad_name : "gap");
    for (k->ntags = 0; k->ntags < EMU_CREATE_MAX_TAGS; k->ntags++) {
        if (q->tagkey[k->ntags] == NULL && q->tagval[k->ntags] == NULL)
            break;
    }
    for (i = 0; i < EMU_CREATE_MAX_TAGS; i++) {
        const char *key = q->tagkey[i];
        const char *val = q->tagval[i];

        if (i >= k->ntags) {
            if (key || val)
                return emu_reject(r, c, rc, C_INVALID,
                                  "Tag.N must be numbered 1..N without "
                                  "gaps.");
            continue;
        }
        if (key == NULL || val == NULL || !key[0] || strlen(key) > 30 ||
            strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789.") != strlen(key) ||
            !val[0] || strlen(val) > 1024)
            return emu_reject(r, c, rc, C_INVALID,
                              "Tag.%zu needs a Key (1-30 of letters, digits, "
                              "'.') and a Value (1-1024 characters).", i + 1);
    }
    return 0;
}

/* Which lists the selection takes: SPECIFIC names devices, ALL and GRAY
 * name source versions. */
static int check_targets(const struct emu_call *c, struct emu_result *r,
                         int *rc, const struct emu_create_req *q,
                         const struct emu_create_checked *k)
{
    if (k->sel == EMU_SEL_SPECIFIC) {
        if (q->nnames == 0)
            return emu_reject(r, c, rc, C_NULL,
                              "TargetDeviceName is mandatory when "
                              "TargetSelection is SPECIFIC.");
        if (q->nsrc > 0)
            return emu_reject(r, c, rc, "iot.ota.InvalidSrcVersionList",
                              "SrcVersion is not allowed when "
                              "TargetSelection is SPECIFIC.");
        return 0;
    }
    if (q->nsrc == 0)
        return emu_reject(r, c, rc, "iot.ota.EmptySrcVersionList",
                          "SrcVersion is mandatory when TargetSelection is "
                          "%s.", q->selection);
    if (q->nnames > 0)
        return emu_reject(r, c, rc, C_INVALID,
                          "TargetDeviceName is not allowed when "
                          "TargetSelection is %s.", q->selection);
    return 0;
}

/* Each device name valid and named once; each source version valid and
 * given once. Fills q->keys and q->hashes. */
static int check_names(const struct emu_call *c, struct emu_result *r,
                       int *rc, struct emu_create_req *q)
{
    static const char bad_name[] =
        "iot.device.InvalidFormattedDeviceNameInNameArray";
    const char *seen[512];
    uint16_t seen_idx[512];
    size_t i = 0;

    memset(seen_idx, 0, sizeof(seen_idx));
    for (i = 0; i < q->nnames; i++) {
        if (!emu_valid_device_name(q->names[i]))
            return emu_reject(r, c, rc, bad_name,
                              "TargetDeviceName.%zu %.40s is not a valid "
                              "device name.", i + 1, q->names[i]);
        /* Both lengths were checked: the key fits, the hash is not 0. */
        q->hashes[i] = emu_device_key_pk(q->product_key, q->names[i],
                                         q->keys[i]);
        if (name_seen_before(seen_idx, 512, q, i))
            return emu_reject(r, c, rc, bad_name,
                              "TargetDeviceName.%zu %.40s is a duplicate.",
                              i + 1, q->names[i]);
    }
    memset(seen, 0, sizeof(seen));
    for (i = 0; i < q->nsrc; i++) {
        if (!valid_version(q->src[i]) || seen_before(seen, 32, q->src[i]))
            return emu_reject(r, c, rc, "iot.ota.InvalidSrcVersionList",
                              "SrcVersion.%zu %.64s is invalid or a "
                              "duplicate.", i + 1, q->src[i]);
    }
    return 0;
}

int emu_create_check(struct emu_world *w, const struct emu_call *c,
                     struct emu_result *r, int *rc, struct emu_create_req *q,
                     struct emu_create_checked *k)
{
    if (check_required(w, c, r, rc, q, k))
        return 1;
    if (check_schedule(c, r, rc, q, k))
        return 1;
    if (check_numbers(c, r, rc, q, k))
        return 1;
    if (check_gray(c, r, rc, q, k))
        return 1;
    if (check_lists(c, r, rc, q, k))
        return 1;
    if (check_targets(c, r, rc, q, k))
        return 1;
    return check_names(c, r, rc, q);
}
