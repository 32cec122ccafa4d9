/* test_emu_ops.c - ota-emulator's API rules: for each rule of
 * CreateOTAStaticUpgradeJob and of the query/cancel operations, a valid
 * request accepted and the violating one rejected with the right code.
 * Time is injected (now_ms); nothing sleeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ctype.h>

#include <cmocka.h>

#include "ops/emu_ops.h"
#include "world/emu_fixture.h"
#include "world/emu_world.h"
#include "orch/base/err.h"
#include "orch/cloud/params.h"
#include "torture.h"

#include "../emu_test.h"

struct fx {
    struct emu_world *w;
    struct emu_result r;
    struct orch_params p;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    f->w = torture_emu_world(false, 2.0, 1.0, 42, NULL);
    orch_params_init(&f->p);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    emu_result_cleanup(&f->r);
    orch_params_cleanup(&f->p);
    emu_world_free(f->w);
    free(f);
    return 0;
}

/* Runs f->p as `action` at now_ms; the result is in f->r. Clears f->p. */
static void run_at(struct fx *f, const char *action, int64_t now_ms)
{
    struct emu_call c;

    emu_result_cleanup(&f->r);
    memset(&c, 0, sizeof(c));
    c.action = action;
    c.params = &f->p;
    c.access_key_id = "testid";
    c.request_id = "REQ-1";
    c.now_ms = now_ms;
    assert_int_equal(emu_world_call(f->w, &c, &f->r), 0);
    assert_non_null(f->r.body);
    orch_params_cleanup(&f->p);
}

/* Adds name/value pairs (NULL-terminated) to f->p. */
static void add(struct fx *f, ...)
{
    va_list ap;
    const char *n = NULL;

    va_start(ap, f);
    while ((n = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        assert_int_equal(orch_params_add(&f->p, n, v), 0);
    }
    va_end(ap);
}

/* Adds prefix.1..prefix.N (N = to - from + 1) with values fmt % i. */
static void add_list(struct fx *f, const char *prefix, const char *fmt,
                     int from, int to)
{
    char name[64];
    char value[64];
    int i = 0;

    for (i = from; i <= to; i++) {
        snprintf(name, sizeof(name), "%s.%d", prefix, i - from + 1);
        snprintf(value, sizeof(value), fmt, i);
        assert_int_equal(orch_params_add(&f->p, name, value), 0);
    }
}

static void base_specific(struct fx *f)
{
    add(f, "Action", "CreateOTAStaticUpgradeJob", "FirmwareId", FW,
        "ProductKey", PK, "TargetSelection", "SPECIFIC",
        "TargetDeviceName.1", "dev-0001", "TargetDeviceName.2", "dev-0002",
        NULL);
}

static const char *str_at(json_t *o, const char *path)
{
    char buf[128];
    char *tok = NULL;
    char *save = NULL;
    json_t *cur = o;

    snprintf(buf, sizeof(buf), "%s", path);
    for (tok = strtok_r(buf, ".", &save); tok && cur;
         tok = strtok_r(NULL, ".", &save))
        cur = json_object_get(cur, tok);
    return json_string_value(cur);
}

static void expect_ok(struct fx *f, const char *action)
{
    run_at(f, action, NOW);
    if (f->r.code[0])
        fail_msg("expected success, got %s: %s", f->r.code,
                 str_at(f->r.body, "ErrorMessage"));
    assert_int_equal(f->r.http_status, 200);
    assert_true(json_is_true(json_object_get(f->r.body, "Success")));
}

static void expect_code(struct fx *f, const char *action, const char *want)
{
    run_at(f, action, NOW);
    if (strcmp(f->r.code, want) != 0)
        fail_msg("expected %s, got \"%s\" (%s)", want, f->r.code,
                 str_at(f->r.body, "ErrorMessage"));
    assert_int_equal(f->r.http_status, 200);
    assert_true(json_is_false(json_object_get(f->r.body, "Success")));
    assert_string_equal(str_at(f->r.body, "Code"), want);
    assert_non_null(str_at(f->r.body, "ErrorMessage"));
    assert_string_equal(str_at(f->r.body, "RequestId"), "REQ-1");
}

#define CREATE "CreateOTAStaticUpgradeJob"

/* Creates base_specific plus extra "name", "value" pairs. */
static void create_with(struct fx *f, const char *n, const char *v)
{
    base_specific(f);
    if (n)
        add(f, n, v, NULL);
}

/* ------------------------------------------------------------ the tests */

static void test_create_ok_shape(void **state)
{
    struct fx *f = *state;
    const char *id = NULL;
    const char *utc = NULL;
    size_t i = 0;

    base_specific(f);
    expect_ok(f, CREATE);
    id = str_at(f->r.body, "Data.JobId");
    utc = str_at(f->r.body, "Data.UtcCreate");
    assert_non_null(id);
    assert_int_equal(strlen(id), 26);
    for (i = 0; i < 26; i++)
        assert_true(isalnum((unsigned char)id[i]));
    assert_string_equal(utc, "2023-11-14T22:13:20.000Z");
    assert_string_equal(f->r.job_id, id);
    assert_int_equal(json_array_size(f->r.devices), 2);
    assert_string_equal(json_string_value(json_array_get(f->r.devices, 0)),
                        "dev-0001");
    assert_string_equal(str_at(f->r.body, "RequestId"), "REQ-1");
}

static void test_create_required(void **state)
{
    struct fx *f = *state;

    add(f, "ProductKey", PK, "TargetSelection", "SPECIFIC",
        "TargetDeviceName.1", "dev-0001", NULL);
    expect_code(f, CREATE, "MissingFirmwareId");
    assert_string_equal(str_at(f->r.body, "ErrorMessage"),
                        "FirmwareId is mandatory for this action.");
    add(f, "FirmwareId", FW, "TargetSelection", "SPECIFIC",
        "TargetDeviceName.1", "dev-0001", NULL);
    expect_code(f, CREATE, "iot.prod.NullProductKey");
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetDeviceName.1",
        "dev-0001", NULL);
    expect_code(f, CREATE, "iot.check.NullParameter");
    /* Empty counts as missing. */
    add(f, "FirmwareId", "", "ProductKey", PK, "TargetSelection", "SPECIFIC",
        "TargetDeviceName.1", "dev-0001", NULL);
    expect_code(f, CREATE, "MissingFirmwareId");
    add(f, "FirmwareId", FW, "ProductKey", "a1-bad!", "TargetSelection",
        "SPECIFIC", "TargetDeviceName.1", "dev-0001", NULL);
    expect_code(f, CREATE, "iot.prod.InvalidFormattedProductkey");
}

static void test_create_target_selection(void **state)
{
    struct fx *f = *state;

    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "SOME",
        "TargetDeviceName.1", "dev-0001", NULL);
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "GROUP",
        "GroupId", "g1", NULL);
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
    /* SPECIFIC needs names and forbids SrcVersion. */
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "SPECIFIC",
        NULL);
    expect_code(f, CREATE, "iot.check.NullParameter");
    create_with(f, "SrcVersion.1", "1.0.0");
    expect_code(f, CREATE, "iot.ota.InvalidSrcVersionList");
    /* ALL needs SrcVersion and forbids names. */
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "ALL",
        NULL);
    expect_code(f, CREATE, "iot.ota.EmptySrcVersionList");
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "ALL",
        "SrcVersion.1", "1.0.0", "TargetDeviceName.1", "dev-0001", NULL);
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "ALL",
        "SrcVersion.1", "0.9.0", NULL);
    expect_ok(f, CREATE);
    /* dev-0007 and dev-0008 are on 0.9.0. */
    assert_int_equal(json_array_size(f->r.devices), 2);
    /* DnListFileUrl is not emulated. */
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "SPECIFIC",
        "DnListFileUrl", "https://x/y.csv", NULL);
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
}

static void test_create_gray(void **state)
{
    struct fx *f = *state;

    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "GRAY",
        "SrcVersion.1", "1.0.0", NULL);
    expect_code(f, CREATE, "iot.check.NullParameter");
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "GRAY",
        "SrcVersion.1", "1.0.0", "GrayPercent", "33.3333", NULL);
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "GRAY",
        "SrcVersion.1", "1.0.0", "GrayPercent", "0", NULL);
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "GRAY",
        "SrcVersion.1", "1.0.0", "GrayPercent", "100.001", NULL);
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "GRAY",
        "SrcVersion.1", "1.0.0", "GrayPercent", "abc", NULL);
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
    /* 7 devices on 1.0.0 (dev-0001..6, 9, and dev@site:a.1 = 8):
     * 8 * 12.5% = 1; 8 * 12.4% = 0.992 -> no device. */
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "GRAY",
        "SrcVersion.1", "1.0.0", "GrayPercent", "12.4", NULL);
    expect_code(f, CREATE, "iot.ota.NoDeviceToUpgrade");
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "GRAY",
        "SrcVersion.1", "1.0.0", "GrayPercent", "33.333", NULL);
    expect_ok(f, CREATE);
    assert_int_equal(json_array_size(f->r.devices), 2); /* floor(2.67) */
    /* GrayPercent only with GRAY. */
    create_with(f, "GrayPercent", "50");
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
}

static void test_create_device_names(void **state)
{
    struct fx *f = *state;
    struct emu_world *aw = torture_emu_world(true, 2.0, 1.0, 42, NULL);
    struct emu_world *keep = f->w;
    char big[64];

    /* 200 accepted, 201 refused (auto_create world: names need not
     * exist). */
    f->w = aw;
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "SPECIFIC",
        NULL);
    add_list(f, "TargetDeviceName", "n-%04d", 1, 200);
    expect_ok(f, CREATE);
    assert_int_equal(json_array_size(f->r.devices), 200);
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "SPECIFIC",
        NULL);
    add_list(f, "TargetDeviceName", "m-%04d", 1, 201);
    expect_code(f, CREATE, "iot.device.TooManyDeviceNamesPerRequest");
    f->w = keep;
    emu_world_free(aw);

    /* Duplicates, bad names, gaps. */
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "SPECIFIC",
        "TargetDeviceName.1", "dev-0001", "TargetDeviceName.2", "dev-0001",
        NULL);
    expect_code(f, CREATE, "iot.device.InvalidFormattedDeviceNameInNameArray");
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "SPECIFIC",
        "TargetDeviceName.1", "abc", NULL);
    expect_code(f, CREATE, "iot.device.InvalidFormattedDeviceNameInNameArray");
    memset(big, 'x', 33);
    big[33] = '\0';
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "SPECIFIC",
        "TargetDeviceName.1", big, NULL);
    expect_code(f, CREATE, "iot.device.InvalidFormattedDeviceNameInNameArray");
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "SPECIFIC",
        "TargetDeviceName.1", "dev 0001", NULL);
    expect_code(f, CREATE, "iot.device.InvalidFormattedDeviceNameInNameArray");
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "SPECIFIC",
        "TargetDeviceName.1", "dev-0001", "TargetDeviceName.3", "dev-0002",
        NULL);
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "SPECIFIC",
        "TargetDeviceName.0", "dev-0001", NULL);
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
    /* Existence in the firmware's product. */
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "SPECIFIC",
        "TargetDeviceName.1", "dev-0001", "TargetDeviceName.2", "oth-0001",
        NULL);
    expect_code(f, CREATE, "iot.device.NotExistedDevice");
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "SPECIFIC",
        "TargetDeviceName.1", "nope-0001", NULL);
    expect_code(f, CREATE, "iot.device.NotExistedDevice");
    /* '@', ':' and '.' are legal. */
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "SPECIFIC",
        "TargetDeviceName.1", "dev@site:a.1", NULL);
    expect_ok(f, CREATE);
}

static void test_create_src_versions(void **state)
{
    struct fx *f = *state;

    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "ALL",
        NULL);
    add_list(f, "SrcVersion", "0.%d.0", 1, 11);
    expect_code(f, CREATE, "iot.ota.InvalidSrcVersionList");
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "ALL",
        "SrcVersion.1", "1.0.0", "SrcVersion.2", "1.0.0", NULL);
    expect_code(f, CREATE, "iot.ota.InvalidSrcVersionList");
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "ALL",
        "SrcVersion.1", "1.0.0", "SrcVersion.2", "0.9.0", NULL);
    expect_ok(f, CREATE);
    /* 10 devices on 1.0.0 or 0.9.0 (dev-0010 is on 2.0.0). */
    assert_int_equal(json_array_size(f->r.devices), 10);
}

static void test_create_schedule(void **state)
{
    struct fx *f = *state;
    char v[32];
    char fin[32];

    create_with(f, "ScheduleTime", "tomorrow");
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
    create_with(f, "ScheduleTime", "170000060000"); /* 12 digits */
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
    snprintf(v, sizeof(v), "%lld", NOW + 5 * MIN - 1);
    create_with(f, "ScheduleTime", v);
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
    snprintf(v, sizeof(v), "%lld", NOW + 7 * DAY + 1);
    create_with(f, "ScheduleTime", v);
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
    snprintf(v, sizeof(v), "%lld", NOW + 5 * MIN);
    create_with(f, "ScheduleTime", v);
    expect_ok(f, CREATE);
    /* ScheduleFinishTime: 1 h .. 30 d after ScheduleTime. */
    snprintf(v, sizeof(v), "%lld", NOW + DAY);
    snprintf(fin, sizeof(fin), "%lld", NOW + DAY + HOUR - 1);
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "SPECIFIC",
        "TargetDeviceName.1", "dev-0003", "ScheduleTime", v,
        "ScheduleFinishTime", fin, NULL);
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
    snprintf(fin, sizeof(fin), "%lld", NOW + 31 * DAY + 1);
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "SPECIFIC",
        "TargetDeviceName.1", "dev-0003", "ScheduleTime", v,
        "ScheduleFinishTime", fin, NULL);
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "SPECIFIC",
        "TargetDeviceName.1", "dev-0003", "ScheduleFinishTime", "12345",
        NULL);
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
    snprintf(fin, sizeof(fin), "%lld", NOW + DAY + HOUR);
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "SPECIFIC",
        "TargetDeviceName.1", "dev-0003", "ScheduleTime", v,
        "ScheduleFinishTime", fin, NULL);
    expect_ok(f, CREATE);
    /* Without ScheduleTime the finish is measured from now. */
    snprintf(fin, sizeof(fin), "%lld", NOW + 30 * MIN);
    create_with(f, "ScheduleFinishTime", fin);
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
    snprintf(fin, sizeof(fin), "%lld", NOW + 2 * HOUR);
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "SPECIFIC",
        "TargetDeviceName.1", "dev-0004", "ScheduleFinishTime", fin, NULL);
    expect_ok(f, CREATE);
}

static void test_create_retry(void **state)
{
    struct fx *f = *state;

    base_specific(f);
    add(f, "RetryInterval", "15", "RetryCount", "1", NULL);
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
    base_specific(f);
    add(f, "RetryInterval", "10", "RetryCount", "3", NULL);
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
    create_with(f, "RetryInterval", "60");
    expect_code(f, CREATE, "iot.check.NullParameter");
    create_with(f, "RetryCount", "2");
    expect_code(f, CREATE, "iot.check.NullParameter");
    base_specific(f);
    add(f, "RetryInterval", "x1", "RetryCount", "1", NULL);
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
    base_specific(f);
    add(f, "RetryInterval", "1440", "RetryCount", "5", NULL);
    expect_ok(f, CREATE);
}

static void test_create_timeout_rate_overwrite(void **state)
{
    struct fx *f = *state;

    create_with(f, "TimeoutInMinutes", "0");
    expect_code(f, CREATE, "iot.ota.InvalidTimeout");
    create_with(f, "TimeoutInMinutes", "1441");
    expect_code(f, CREATE, "iot.ota.InvalidTimeout");
    create_with(f, "MaximumPerMinute", "1001");
    expect_code(f, CREATE, "iot.ota.InvalidMaximumPerMinute");
    create_with(f, "MaximumPerMinute", "-1");
    expect_code(f, CREATE, "iot.ota.InvalidMaximumPerMinute");
    create_with(f, "OverwriteMode", "3");
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
    create_with(f, "TimeoutInMinutes", "10m");
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
    base_specific(f);
    add(f, "TimeoutInMinutes", "1440", "MaximumPerMinute", "1000",
        "OverwriteMode", "2", NULL);
    expect_ok(f, CREATE);
}

static void test_create_firmware(void **state)
{
    struct fx *f = *state;

    add(f, "FirmwareId", "FwNope", "ProductKey", PK, "TargetSelection",
        "SPECIFIC", "TargetDeviceName.1", "dev-0001", NULL);
    expect_code(f, CREATE, "iot.ota.FirmwareNotFound");
    add(f, "FirmwareId", "FwOther00000000000000001", "ProductKey", PK,
        "TargetSelection", "SPECIFIC", "TargetDeviceName.1", "dev-0001",
        NULL);
    expect_code(f, CREATE, "iot.ota.FirmwareAndProductKeyMismatch");
    add(f, "FirmwareId", "FwUnverified000000000001", "ProductKey", PK,
        "TargetSelection", "SPECIFIC", "TargetDeviceName.1", "dev-0001",
        NULL);
    expect_code(f, CREATE, "iot.ota.FirmwareNotVerified");
    add(f, "FirmwareId", FW, "ProductKey", "a1Missing01", "TargetSelection",
        "SPECIFIC", "TargetDeviceName.1", "dev-0001", NULL);
    expect_code(f, CREATE, "iot.prod.NotExistedProduct");
    add(f, "FirmwareId", "FwNoVerify00000000000001", "ProductKey", PK,
        "TargetSelection", "SPECIFIC", "TargetDeviceName.1", "dev-0001",
        NULL);
    expect_ok(f, CREATE);
    /* Differential package: ALL must name its SrcVersion; only devices on
     * that version get a task. */
    add(f, "FirmwareId", "FwDiff000000000000000001", "ProductKey", PK,
        "TargetSelection", "ALL", "SrcVersion.1", "0.9.0", NULL);
    expect_code(f, CREATE, "iot.ota.InvalidSrcVersionList");
    add(f, "FirmwareId", "FwDiff000000000000000001", "ProductKey", PK,
        "TargetSelection", "SPECIFIC", "TargetDeviceName.1", "dev-0007",
        "TargetDeviceName.2", "dev-0005", NULL);
    expect_ok(f, CREATE);
    assert_int_equal(json_array_size(f->r.devices), 1);
    assert_string_equal(json_string_value(json_array_get(f->r.devices, 0)),
                        "dev-0005");
}

static void test_create_instance(void **state)
{
    struct fx *f = *state;
    struct emu_world *keep = f->w;

    base_specific(f);
    add(f, "IotInstanceId", "iot-cn-0pp1n8t0001", NULL);
    expect_code(f, CREATE, "iot.ota.InstanceIdMisMatch");
    f->w = torture_emu_world(false, 2.0, 1.0, 42, "iot-cn-0pp1n8t0001");
    base_specific(f);
    expect_code(f, CREATE, "iot.ota.InstanceIdMisMatch");
    base_specific(f);
    add(f, "IotInstanceId", "iot-cn-other", NULL);
    expect_code(f, CREATE, "iot.ota.InstanceIdMisMatch");
    base_specific(f);
    add(f, "IotInstanceId", "iot-cn-0pp1n8t0001", NULL);
    expect_ok(f, CREATE);
    add(f, "JobId", f->r.job_id, NULL);
    expect_code(f, "QueryOTAJob", "iot.ota.InstanceIdMisMatch");
    emu_world_free(f->w);
    f->w = keep;
}

static void test_create_tags(void **state)
{
    struct fx *f = *state;
    char id[64];
    json_t *tags = NULL;

    create_with(f, "Tag.1.Key", "orch.run");
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
    base_specific(f);
    add(f, "Tag.1.Key", "bad key!", "Tag.1.Value", "v", NULL);
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
    base_specific(f);
    add(f, "Tag.1.Key", "orch.run", "Tag.1.Value", "r1/c7", "Tag.3.Key", "x",
        "Tag.3.Value", "y", NULL);
    expect_code(f, CREATE, "iot.common.InvalidFormattedParameter");
    base_specific(f);
    add(f, "Tag.1.Key", "orch.run", "Tag.1.Value", "r1/c7", NULL);
    expect_ok(f, CREATE);
    snprintf(id, sizeof(id), "%s", f->r.job_id);
    add(f, "JobId", id, NULL);
    expect_ok(f, "QueryOTAJob");
    tags = json_object_get(json_object_get(json_object_get(f->r.body, "Data"),
                                           "Tags"),
                           "OtaTagDTO");
    assert_int_equal(json_array_size(tags), 1);
    assert_string_equal(str_at(json_array_get(tags, 0), "Key"), "orch.run");
    assert_string_equal(str_at(json_array_get(tags, 0), "Value"), "r1/c7");
}

/* Task of `dev` in job `id` via ListOTATaskByJob DeviceNames. */
static const char *task_status(struct fx *f, const char *id, const char *dev,
                               int64_t now)
{
    json_t *list = NULL;

    add(f, "JobId", id, "DeviceNames.1", dev, NULL);
    run_at(f, "ListOTATaskByJob", now);
    assert_string_equal(f->r.code, "");
    list = json_object_get(json_object_get(f->r.body, "Data"),
                           "SimpleOTATaskInfo");
    if (json_array_size(list) != 1)
        return NULL;
    return str_at(json_array_get(list, 0), "TaskStatus");
}

static void test_busy_and_overwrite(void **state)
{
    struct fx *f = *state;
    char j1[64];
    char j2[64];
    char j3[64];
    char v[32];

    /* Job 1 scheduled a day ahead: dev-0001 queued there. */
    snprintf(v, sizeof(v), "%lld", NOW + DAY);
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "SPECIFIC",
        "TargetDeviceName.1", "dev-0001", "ScheduleTime", v, NULL);
    expect_ok(f, CREATE);
    snprintf(j1, sizeof(j1), "%s", f->r.job_id);
    /* Job 2, OverwriteMode 1: the device's new task FAILED. */
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "SPECIFIC",
        "TargetDeviceName.1", "dev-0001", NULL);
    expect_ok(f, CREATE);
    snprintf(j2, sizeof(j2), "%s", f->r.job_id);
    assert_string_equal(task_status(f, j2, "dev-0001", NOW), "FAILED");
    assert_string_equal(task_status(f, j1, "dev-0001", NOW), "QUEUED");
    add(f, "JobId", j2, "DeviceNames.1", "dev-0001", NULL);
    run_at(f, "ListOTATaskByJob", NOW);
    assert_string_equal(
        str_at(json_array_get(json_object_get(json_object_get(f->r.body,
                                                              "Data"),
                                              "SimpleOTATaskInfo"),
                              0),
               "TaskDesc"),
        "device already in an upgrade task");
    /* Job 3, OverwriteMode 2: job 1's queued task is CANCELED. */
    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "SPECIFIC",
        "TargetDeviceName.1", "dev-0001", "OverwriteMode", "2", NULL);
    expect_ok(f, CREATE);
    snprintf(j3, sizeof(j3), "%s", f->r.job_id);
    assert_string_equal(task_status(f, j1, "dev-0001", NOW), "CANCELED");
    assert_string_equal(task_status(f, j3, "dev-0001", NOW), "QUEUED");
    /* In progress (NOW + 1.5 s at 2 steps/s, jitter <= 2 steps... wait
     * until IN_PROGRESS): never overwritten. */
    {
        int64_t t = NOW;
        const char *st = NULL;
        for (t = NOW; t < NOW + 10000; t += 100) {
            st = task_status(f, j3, "dev-0001", t);
            if (strcmp(st, "IN_PROGRESS") == 0)
                break;
        }
        assert_string_equal(st, "IN_PROGRESS");
        add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection",
            "SPECIFIC", "TargetDeviceName.1", "dev-0001", "OverwriteMode",
            "2", NULL);
        run_at(f, CREATE, t);
        assert_string_equal(f->r.code, "");
        snprintf(j2, sizeof(j2), "%s", f->r.job_id);
        assert_string_equal(task_status(f, j2, "dev-0001", t), "FAILED");
        assert_string_equal(task_status(f, j3, "dev-0001", t),
                            "IN_PROGRESS");
    }
    /* No device is ever in two unfinished tasks. */
    {
        json_t *st = emu_world_stats(f->w, NOW + 20000);
        assert_non_null(st);
        assert_int_equal(json_array_size(json_object_get(st,
                                                         "double_assigned")),
                         0);
        assert_int_equal(json_integer_value(json_object_get(st, "jobs")), 4);
        json_decref(st);
    }
}

static void test_skip_dest_version(void **state)
{
    struct fx *f = *state;

    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "SPECIFIC",
        "TargetDeviceName.1", "dev-0010", "TargetDeviceName.2", "dev-0001",
        NULL);
    expect_ok(f, CREATE);
    assert_int_equal(json_array_size(f->r.devices), 1);
    assert_string_equal(json_string_value(json_array_get(f->r.devices, 0)),
                        "dev-0001");
}

static void test_unknown_action(void **state)
{
    struct fx *f = *state;

    run_at(f, "DescribeEverything", NOW);
    assert_int_equal(f->r.http_status, 404);
    assert_string_equal(f->r.code, "InvalidAction.NotFound");
    assert_string_equal(str_at(f->r.body, "Code"), "InvalidAction.NotFound");
    assert_non_null(str_at(f->r.body, "Message"));
    assert_non_null(str_at(f->r.body, "HostId"));
    assert_non_null(str_at(f->r.body, "Recommend"));
    assert_string_equal(str_at(f->r.body, "RequestId"), "REQ-1");
    assert_null(json_object_get(f->r.body, "Success"));
}

static void test_query_job(void **state)
{
    struct fx *f = *state;
    char id[64];
    json_t *data = NULL;

    add(f, "JobId", "NoSuchJob", NULL);
    expect_code(f, "QueryOTAJob", "iot.ota.InvalidJobId");
    expect_code(f, "QueryOTAJob", "iot.check.NullParameter");
    base_specific(f);
    add(f, "TimeoutInMinutes", "60", NULL);
    expect_ok(f, CREATE);
    snprintf(id, sizeof(id), "%s", f->r.job_id);
    add(f, "JobId", id, NULL);
    expect_ok(f, "QueryOTAJob");
    data = json_object_get(f->r.body, "Data");
    assert_string_equal(str_at(data, "JobId"), id);
    assert_string_equal(str_at(data, "JobStatus"), "IN_PROGRESS");
    assert_string_equal(str_at(data, "JobType"), "UPGRADE_FIRMWARE");
    assert_string_equal(str_at(data, "SelectionType"), "STATIC");
    assert_string_equal(str_at(data, "TargetSelection"), "SPECIFIC");
    assert_string_equal(str_at(data, "FirmwareId"), FW);
    assert_string_equal(str_at(data, "ProductKey"), PK);
    assert_string_equal(str_at(data, "DestVersion"), "2.0.0");
    assert_string_equal(str_at(data, "UtcCreate"),
                        "2023-11-14T22:13:20.000Z");
    assert_int_equal(json_integer_value(json_object_get(data,
                                                        "TimeoutInMinutes")),
                     60);
    assert_int_equal(json_integer_value(json_object_get(data,
                                                        "MaximumPerMinute")),
                     1000);
    assert_true(json_is_array(json_object_get(
        json_object_get(data, "SrcVersions"), "SrcVersion")));
}

static void test_list_job_by_firmware(void **state)
{
    struct fx *f = *state;
    char first[64];
    int i = 0;
    json_t *list = NULL;

    for (i = 0; i < 5; i++) {
        char n[32];
        snprintf(n, sizeof(n), "dev-%04d", i + 1);
        add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection",
            "SPECIFIC", "TargetDeviceName.1", n, NULL);
        expect_ok(f, CREATE);
        if (i == 0)
            snprintf(first, sizeof(first), "%s", f->r.job_id);
    }
    add(f, "FirmwareId", FW, "PageSize", "201", "CurrentPage", "1", NULL);
    expect_code(f, "ListOTAJobByFirmware", "iot.common.InvalidPageParams");
    add(f, "FirmwareId", FW, "PageSize", "2", "CurrentPage", "0", NULL);
    expect_code(f, "ListOTAJobByFirmware", "iot.common.InvalidPageParams");
    add(f, "FirmwareId", FW, NULL);
    expect_code(f, "ListOTAJobByFirmware", "iot.common.InvalidPageParams");
    add(f, "FirmwareId", "FwNope", "PageSize", "2", "CurrentPage", "1",
        NULL);
    expect_code(f, "ListOTAJobByFirmware", "iot.ota.FirmwareNotFound");
    add(f, "FirmwareId", FW, "PageSize", "2", "CurrentPage", "3", NULL);
    expect_ok(f, "ListOTAJobByFirmware");
    assert_int_equal(json_integer_value(json_object_get(f->r.body, "Total")),
                     5);
    assert_int_equal(
        json_integer_value(json_object_get(f->r.body, "PageCount")), 3);
    assert_int_equal(
        json_integer_value(json_object_get(f->r.body, "CurrentPage")), 3);
    list = json_object_get(json_object_get(f->r.body, "Data"),
                           "SimpleOTAJobInfo");
    assert_int_equal(json_array_size(list), 1);
    /* Newest first: the last page holds the first job. */
    assert_string_equal(str_at(json_array_get(list, 0), "JobId"), first);
    assert_string_equal(str_at(json_array_get(list, 0), "JobStatus"),
                        "IN_PROGRESS");
    add(f, "FirmwareId", FW, "PageSize", "200", "CurrentPage", "1", NULL);
    expect_ok(f, "ListOTAJobByFirmware");
    assert_int_equal(json_array_size(json_object_get(
                         json_object_get(f->r.body, "Data"),
                         "SimpleOTAJobInfo")),
                     5);
}

/* Entry i of an OtaTagDTO array is key=value. */
static void assert_tag_at(json_t *tags, size_t i, const char *key,
                          const char *value)
{
    assert_string_equal(str_at(json_array_get(tags, i), "Key"), key);
    assert_string_equal(str_at(json_array_get(tags, i), "Value"), value);
}

/* ListOTAJobByFirmware gives each job its own tags, as QueryOTAJob does:
 * the tool finds a whole-product job (which names no devices) by them. */
static void test_list_job_by_firmware_tags(void **state)
{
    struct fx *f = *state;
    char all[64];
    char plain[64];
    json_t *list = NULL;
    json_t *tags = NULL;
    json_t *job = NULL;
    size_t i = 0;

    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "ALL",
        "SrcVersion.1", "1.0.0", "Tag.1.Key", "ota.rollout", "Tag.1.Value",
        "r7Kq2.1", "Tag.2.Key", "team", "Tag.2.Value", "fleet ops", NULL);
    expect_ok(f, CREATE);
    snprintf(all, sizeof(all), "%s", f->r.job_id);
    base_specific(f);
    expect_ok(f, CREATE);
    snprintf(plain, sizeof(plain), "%s", f->r.job_id);
    add(f, "FirmwareId", FW, "PageSize", "200", "CurrentPage", "1", NULL);
    expect_ok(f, "ListOTAJobByFirmware");
    list = json_object_get(json_object_get(f->r.body, "Data"),
                           "SimpleOTAJobInfo");
    assert_int_equal(json_array_size(list), 2);
    json_array_foreach(list, i, job) {
        const char *id = str_at(job, "JobId");

        tags = json_object_get(json_object_get(job, "Tags"), "OtaTagDTO");
        assert_true(json_is_array(tags));
        assert_non_null(str_at(job, "UtcCreate"));
        if (strcmp(id, all) == 0) {
            assert_string_equal(str_at(job, "TargetSelection"), "ALL");
            assert_int_equal(json_array_size(tags), 2);
            assert_tag_at(tags, 0, "ota.rollout", "r7Kq2.1");
            assert_tag_at(tags, 1, "team", "fleet ops");
        } else {
            assert_string_equal(id, plain);
            assert_string_equal(str_at(job, "TargetSelection"), "SPECIFIC");
            assert_int_equal(json_array_size(tags), 0);
        }
    }
}

static void test_list_task_by_job(void **state)
{
    struct fx *f = *state;
    char id[64];
    json_t *list = NULL;
    json_t *t = NULL;

    add(f, "FirmwareId", FW, "ProductKey", PK, "TargetSelection", "ALL",
        "SrcVersion.1", "1.0.0", "SrcVersion.2", "0.9.0", NULL);
    expect_ok(f, CREATE);
    snprintf(id, sizeof(id), "%s", f->r.job_id);
    add(f, "JobId", id, "PageSize", "101", NULL);
    expect_code(f, "ListOTATaskByJob", "iot.common.InvalidPageParams");
    add(f, "JobId", id, "PageSize", "100", "CurrentPage", "1001", NULL);
    expect_code(f, "ListOTATaskByJob", "iot.common.InvalidPageParams");
    add(f, "JobId", id, "PageSize", "100", "CurrentPage", "1000", NULL);
    expect_ok(f, "ListOTATaskByJob");
    add(f, "JobId", id, "TaskStatus", "DONE", NULL);
    expect_code(f, "ListOTATaskByJob", "iot.firmware.InvalidTaskStatus");
    add(f, "JobId", id, NULL);
    add_list(f, "DeviceNames", "d-%04d", 1, 51);
    expect_code(f, "ListOTATaskByJob", "iot.device.TooManyDeviceNamesPerRequest");
    /* Paging: 10 tasks, 4 per page. */
    add(f, "JobId", id, "PageSize", "4", "CurrentPage", "3", NULL);
    expect_ok(f, "ListOTATaskByJob");
    assert_int_equal(json_integer_value(json_object_get(f->r.body, "Total")),
                     10);
    assert_int_equal(
        json_integer_value(json_object_get(f->r.body, "PageCount")), 3);
    list = json_object_get(json_object_get(f->r.body, "Data"),
                           "SimpleOTATaskInfo");
    assert_int_equal(json_array_size(list), 2);
    t = json_array_get(list, 0);
    assert_int_equal(strlen(str_at(t, "TaskId")), 26);
    assert_int_equal(strlen(str_at(t, "IotId")), 26);
    assert_string_equal(str_at(t, "ProductKey"), PK);
    assert_string_equal(str_at(t, "TaskStatus"), "QUEUED");
    assert_string_equal(str_at(t, "DestVersion"), "2.0.0");
    assert_string_equal(str_at(t, "FirmwareId"), FW);
    assert_string_equal(str_at(t, "JobId"), id);
    assert_non_null(str_at(t, "SrcVersion"));
    assert_non_null(str_at(t, "UtcCreate"));
    assert_non_null(str_at(t, "UtcModified"));
    assert_non_null(str_at(t, "TaskDesc"));
    assert_true(json_is_integer(json_object_get(t, "Progress")));
    /* Status filter: dev-0009 fails (fixture), the rest succeed. */
    add(f, "JobId", id, "TaskStatus", "FAILED", "PageSize", "100", NULL);
    run_at(f, "ListOTATaskByJob", NOW + 60000);
    list = json_object_get(json_object_get(f->r.body, "Data"),
                           "SimpleOTATaskInfo");
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(str_at(json_array_get(list, 0), "DeviceName"),
                        "dev-0009");
    add(f, "JobId", id, "TaskStatus", "SUCCEEDED", "PageSize", "100", NULL);
    run_at(f, "ListOTATaskByJob", NOW + 60000);
    assert_int_equal(json_integer_value(json_object_get(f->r.body, "Total")),
                     9);
    /* DeviceNames: paging ignored, unknown names skipped. */
    add(f, "JobId", id, "PageSize", "1", "CurrentPage", "1", "DeviceNames.1",
        "dev-0002", "DeviceNames.2", "dev-0003", "DeviceNames.3",
        "zzz-0001", NULL);
    expect_ok(f, "ListOTATaskByJob");
    list = json_object_get(json_object_get(f->r.body, "Data"),
                           "SimpleOTATaskInfo");
    assert_int_equal(json_array_size(list), 2);
}

static void test_list_job_by_device(void **state)
{
    struct fx *f = *state;
    json_t *list = NULL;

    base_specific(f);
    expect_ok(f, CREATE);
    base_specific(f); /* second job: FAILED tasks, still listed */
    expect_ok(f, CREATE);
    add(f, "FirmwareId", FW, "ProductKey", PK, "DeviceName", "dev-0001",
        "PageSize", "101", "CurrentPage", "1", NULL);
    expect_code(f, "ListOTAJobByDevice", "iot.common.InvalidPageParams");
    add(f, "FirmwareId", FW, "ProductKey", PK, "DeviceName", "dev-9999",
        "PageSize", "10", "CurrentPage", "1", NULL);
    expect_code(f, "ListOTAJobByDevice", "iot.device.NotExistedDevice");
    add(f, "FirmwareId", FW, "ProductKey", PK, "PageSize", "10",
        "CurrentPage", "1", NULL);
    expect_code(f, "ListOTAJobByDevice", "iot.device.NullDeviceName");
    add(f, "FirmwareId", FW, "ProductKey", PK, "DeviceName", "dev-0001",
        "PageSize", "10", "CurrentPage", "1", NULL);
    expect_ok(f, "ListOTAJobByDevice");
    list = json_object_get(json_object_get(f->r.body, "Data"),
                           "SimpleOTAJobInfo");
    assert_int_equal(json_array_size(list), 2);
    assert_int_equal(json_integer_value(json_object_get(f->r.body, "Total")),
                     2);
    add(f, "FirmwareId", FW, "ProductKey", PK, "DeviceName", "dev-0005",
        "PageSize", "10", "CurrentPage", "1", NULL);
    expect_ok(f, "ListOTAJobByDevice");
    assert_int_equal(json_integer_value(json_object_get(f->r.body, "Total")),
                     0);
}

static void test_cancel(void **state)
{
    struct fx *f = *state;
    char id[64];

    base_specific(f);
    expect_ok(f, CREATE);
    snprintf(id, sizeof(id), "%s", f->r.job_id);
    add(f, "JobId", id, NULL);
    expect_code(f, "CancelOTATaskByJob", "iot.check.NullParameter");
    add(f, "JobId", id, "CancelQueuedTask", "false", NULL);
    expect_code(f, "CancelOTATaskByJob", "iot.check.NullParameter");
    add(f, "JobId", id, "CancelQueuedTask", "yes", NULL);
    expect_code(f, "CancelOTATaskByJob",
                "iot.common.InvalidFormattedParameter");
    add(f, "JobId", "NoSuchJob", "CancelQueuedTask", "true", NULL);
    expect_code(f, "CancelOTATaskByJob", "iot.ota.InvalidJobId");
    /* Only NOTIFIED: the QUEUED tasks (at NOW) stay. */
    add(f, "JobId", id, "CancelNotifiedTask", "true", NULL);
    expect_ok(f, "CancelOTATaskByJob");
    assert_string_equal(task_status(f, id, "dev-0001", NOW), "QUEUED");
    add(f, "JobId", id, "CancelQueuedTask", "true", NULL);
    expect_ok(f, "CancelOTATaskByJob");
    assert_string_equal(task_status(f, id, "dev-0001", NOW), "CANCELED");
    assert_string_equal(task_status(f, id, "dev-0002", NOW), "CANCELED");
    add(f, "JobId", id, NULL);
    expect_ok(f, "QueryOTAJob");
    assert_string_equal(str_at(f->r.body, "Data.JobStatus"), "CANCELED");
    /* A cancel of a finished job: Success, as the documented API answers
     * (RequestId and Success only, no count), and nothing changes. */
    add(f, "JobId", id, "CancelQueuedTask", "true", NULL);
    expect_ok(f, "CancelOTATaskByJob");
    assert_null(json_object_get(f->r.body, "Code"));
    assert_true(json_is_true(json_object_get(f->r.body, "Success")));
    assert_string_equal(task_status(f, id, "dev-0001", NOW), "CANCELED");
    /* The device is free again. */
    base_specific(f);
    expect_ok(f, CREATE);
    assert_string_equal(task_status(f, f->r.job_id, "dev-0001", NOW),
                        "QUEUED");
}

static void test_query_firmware(void **state)
{
    struct fx *f = *state;
    json_t *info = NULL;

    expect_code(f, "QueryOTAFirmware", "iot.check.NullParameter");
    add(f, "FirmwareId", "FwNope", NULL);
    expect_code(f, "QueryOTAFirmware", "iot.ota.FirmwareNotFound");
    add(f, "FirmwareId", "FwUnverified000000000001", NULL);
    expect_ok(f, "QueryOTAFirmware");
    info = json_object_get(f->r.body, "FirmwareInfo");
    assert_int_equal(json_integer_value(json_object_get(info, "Status")), 0);
    assert_string_equal(str_at(info, "DestVersion"), "2.0.0");
    assert_string_equal(str_at(info, "ProductKey"), PK);
    assert_string_equal(str_at(info, "FirmwareName"), "fw-unverified");
    assert_int_equal(json_integer_value(json_object_get(info, "Type")), 0);
    assert_true(json_equal(info, json_object_get(f->r.body, "Data")));
    add(f, "FirmwareId", "FwDiff000000000000000001", NULL);
    expect_ok(f, "QueryOTAFirmware");
    assert_string_equal(str_at(f->r.body, "FirmwareInfo.SrcVersion"),
                        "1.0.0");
}

static void test_device_queries(void **state)
{
    struct fx *f = *state;
    json_t *list = NULL;

    add(f, "ProductKey", PK, "DeviceName.1", "dev-0001", "DeviceName.2",
        "ghost-001", "DeviceName.3", "dev-0010", NULL);
    expect_ok(f, "BatchQueryDeviceDetail");
    list = json_object_get(json_object_get(f->r.body, "Data"), "Data");
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(str_at(json_array_get(list, 0), "DeviceName"),
                        "dev-0001");
    assert_string_equal(str_at(json_array_get(list, 0), "FirmwareVersion"),
                        "1.0.0");
    assert_string_equal(str_at(json_array_get(list, 1), "FirmwareVersion"),
                        "2.0.0");
    assert_string_equal(str_at(json_array_get(list, 1), "ProductKey"), PK);
    assert_non_null(str_at(json_array_get(list, 1), "Status"));
    add(f, "ProductKey", PK, NULL);
    add_list(f, "DeviceName", "d-%04d", 1, 101);
    expect_code(f, "BatchQueryDeviceDetail",
                "iot.device.TooManyDeviceNamesPerRequest");
    add(f, "DeviceName.1", "dev-0001", NULL);
    expect_code(f, "BatchQueryDeviceDetail", "iot.prod.NullProductKey");
    add(f, "ProductKey", PK, "DeviceName", "dev-0007", NULL);
    expect_ok(f, "QueryDeviceDetail");
    assert_string_equal(str_at(f->r.body, "Data.FirmwareVersion"), "0.9.0");
    assert_string_equal(str_at(f->r.body, "Data.DeviceName"), "dev-0007");
    assert_int_equal(strlen(str_at(f->r.body, "Data.IotId")), 26);
    assert_null(json_object_get(json_object_get(f->r.body, "Data"),
                                "DeviceSecret"));
    add(f, "ProductKey", PK, "DeviceName", "dev-0404", NULL);
    expect_code(f, "QueryDeviceDetail", "iot.device.NotExistedDevice");
}

static void test_auto_create(void **state)
{
    struct fx *f = *state;
    struct emu_world *keep = f->w;

    f->w = torture_emu_world(true, 2.0, 1.0, 42, NULL);
    /* Before any Create names it, a new firmware has no product yet
     * (documented in ota-emulator(1); the pre-flight refuses one
     * firmware for several products on its own). */
    add(f, "FirmwareId", "FwAnything01", NULL);
    expect_ok(f, "QueryOTAFirmware");
    assert_string_equal(str_at(f->r.body, "FirmwareInfo.ProductKey"), "");
    add(f, "FirmwareId", "FwAnything01", "ProductKey", "a1Any000001",
        "TargetSelection", "SPECIFIC", "TargetDeviceName.1", "new-0001",
        NULL);
    expect_ok(f, CREATE);
    add(f, "ProductKey", "a1Any000001", "DeviceName", "new-0001", NULL);
    expect_ok(f, "QueryDeviceDetail");
    assert_string_equal(str_at(f->r.body, "Data.FirmwareVersion"), "1.0.0");
    add(f, "FirmwareId", "FwAnything01", NULL);
    expect_ok(f, "QueryOTAFirmware");
    assert_int_equal(
        json_integer_value(json_object_get(
            json_object_get(f->r.body, "FirmwareInfo"), "Status")),
        1);
    assert_string_equal(str_at(f->r.body, "FirmwareInfo.ProductKey"),
                        "a1Any000001");
    /* The firmware is now bound to its product. */
    add(f, "FirmwareId", "FwAnything01", "ProductKey", "a1Any000002",
        "TargetSelection", "SPECIFIC", "TargetDeviceName.1", "new-0001",
        NULL);
    expect_code(f, CREATE, "iot.ota.FirmwareAndProductKeyMismatch");
    emu_world_free(f->w);
    f->w = keep;
}

/* Thread CPU time: other processes on a busy 2-core machine must not make
 * the bound below flaky. */
static double mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Runs one Create of devices d-(from..from+199) at now; returns its us. */
static double timed_create(struct fx *f, int from, int64_t now,
                           const char *mode)
{
    struct emu_call c;
    struct emu_result r;
    double t0 = 0;
    double dt = 0;

    add(f, "FirmwareId", "FwBench0001", "ProductKey", "a1Bench0001",
        "TargetSelection", "SPECIFIC", "OverwriteMode", mode, NULL);
    add_list(f, "TargetDeviceName", "d-%07d", from, from + 199);
    memset(&c, 0, sizeof(c));
    c.action = CREATE;
    c.params = &f->p;
    c.request_id = "R";
    c.now_ms = now;
    t0 = mono_us();
    assert_int_equal(emu_world_call(f->w, &c, &r), 0);
    dt = mono_us() - t0;
    assert_string_equal(r.code, "");
    assert_int_equal(json_array_size(r.devices), 200);
    emu_result_cleanup(&r);
    orch_params_cleanup(&f->p);
    return dt;
}

/* 1,000,000 auto-created devices through 5000 Creates of 200, then the
 * same chunks again (every device busy: FAILED tasks), with the world
 * holding a million devices. Reports the mean cost of one call (params
 * prepared outside the timing). sim_speed 0 keeps every task QUEUED. */
static void test_perf_million(void **state)
{
    struct fx *f = *state;
    struct emu_world *keep = f->w;
    struct emu_world_opts o;
    double fresh = 0;
    double again = 0;
    double worst = 0;
    double dt = 0;
    int job = 0;
    json_t *st = NULL;

    memset(&o, 0, sizeof(o));
    o.auto_create = 1;
    o.sim_speed = 0;
    o.success_ratio = 1;
    f->w = emu_world_new(&o);
    assert_non_null(f->w);
    for (job = 0; job < 5000; job++) {
        dt = timed_create(f, job * 200 + 1, NOW + job, "1");
        fresh += dt;
        worst = dt > worst ? dt : worst;
    }
    for (job = 0; job < 5000; job++) {
        dt = timed_create(f, job * 200 + 1, NOW + 5000 + job, "1");
        again += dt;
        worst = dt > worst ? dt : worst;
    }
    print_message("emu perf (CPU time): Create of 200 new devices (auto-created) mean "
                  "%.1f us; of 200 existing busy devices in a world of "
                  "1e6 mean %.1f us; worst %.1f us\n",
                  fresh / 5000, again / 5000, worst);
#if !defined(__SANITIZE_ADDRESS__)
    /* Whole calls, the JSON answer and device list included. */
    assert_true(fresh / 5000 < 1000.0);
    assert_true(again / 5000 < 1000.0);
#endif
    st = emu_world_stats(f->w, NOW + 3600 * 1000);
    assert_int_equal(json_integer_value(json_object_get(st,
                                                        "devices_assigned")),
                     2000000);
    assert_int_equal(torture_json_int(st, "tasks/FAILED"), 1000000);
    assert_int_equal(json_array_size(json_object_get(st, "double_assigned")),
                     0);
    json_decref(st);
    emu_world_free(f->w);
    f->w = keep;
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test_setup_teardown(test_create_ok_shape, setup, teardown),
    cmocka_unit_test_setup_teardown(test_create_required, setup, teardown),
    cmocka_unit_test_setup_teardown(test_create_target_selection, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_create_gray, setup, teardown),
    cmocka_unit_test_setup_teardown(test_create_device_names, setup, teardown),
    cmocka_unit_test_setup_teardown(test_create_src_versions, setup, teardown),
    cmocka_unit_test_setup_teardown(test_create_schedule, setup, teardown),
    cmocka_unit_test_setup_teardown(test_create_retry, setup, teardown),
    cmocka_unit_test_setup_teardown(test_create_timeout_rate_overwrite, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_create_firmware, setup, teardown),
    cmocka_unit_test_setup_teardown(test_create_instance, setup, teardown),
    cmocka_unit_test_setup_teardown(test_create_tags, setup, teardown),
    cmocka_unit_test_setup_teardown(test_busy_and_overwrite, setup, teardown),
    cmocka_unit_test_setup_teardown(test_skip_dest_version, setup, teardown),
    cmocka_unit_test_setup_teardown(test_unknown_action, setup, teardown),
    cmocka_unit_test_setup_teardown(test_query_job, setup, teardown),
    cmocka_unit_test_setup_teardown(test_list_job_by_firmware, setup, teardown),
    cmocka_unit_test_setup_teardown(test_list_job_by_firmware_tags, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_list_task_by_job, setup, teardown),
    cmocka_unit_test_setup_teardown(test_list_job_by_device, setup, teardown),
    cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
    cmocka_unit_test_setup_teardown(test_query_firmware, setup, teardown),
    cmocka_unit_test_setup_teardown(test_device_queries, setup, teardown),
    cmocka_unit_test_setup_teardown(test_auto_create, setup, teardown),
    cmocka_unit_test_setup_teardown(test_perf_million, setup, teardown))
