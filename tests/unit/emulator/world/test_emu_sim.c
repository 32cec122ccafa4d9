/* test_emu_sim.c - ota-emulator's simulated devices: task states over
 * (injected) time, success ratio and seeded draws, the fixture's failure
 * override, scheduled jobs, timeouts, job status, stats, dumps and the
 * fixture loader's errors. Nothing sleeps: now_ms is driven.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ops/emu_ops.h"
#include "world/emu_fixture.h"
#include "world/emu_world.h"
#include "orch/base/err.h"
#include "orch/cloud/params.h"
#include "torture.h"

#include "../emu_test.h"

/* Runs action with NULL-terminated name/value pairs at now; returns the
 * body (caller decrefs); fails the test on a business error. */
static json_t *call(struct emu_world *w, int64_t now, const char *action,
                    ...)
{
    struct orch_params p;
    struct emu_call c;
    struct emu_result r;
    const char *n = NULL;
    json_t *body = NULL;
    va_list ap;

    orch_params_init(&p);
    va_start(ap, action);
    while ((n = va_arg(ap, const char *)) != NULL)
        assert_int_equal(orch_params_add(&p, n, va_arg(ap, const char *)), 0);
    va_end(ap);
    memset(&c, 0, sizeof(c));
    c.action = action;
    c.params = &p;
    c.request_id = "REQ";
    c.now_ms = now;
    assert_int_equal(emu_world_call(w, &c, &r), 0);
    if (r.code[0])
        fail_msg("%s failed: %s", action, r.code);
    body = json_incref(r.body);
    emu_result_cleanup(&r);
    orch_params_cleanup(&p);
    return body;
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Creates a SPECIFIC job for up to 3 devices (NULLs end the list). */
static void create(struct emu_world *w, int64_t now, char id[64],
                   const char *fw, const char *extra_n, const char *extra_v,
                   const char *d1, const char *d2)
{
    json_t *b = NULL;

    if (d2)
        b = call(w, now, "CreateOTAStaticUpgradeJob", "FirmwareId", fw,
                 "ProductKey", PK, "TargetSelection", "SPECIFIC",
                 "TargetDeviceName.1", d1, "TargetDeviceName.2", d2,
                 extra_n, extra_v, NULL);
    else
        b = call(w, now, "CreateOTAStaticUpgradeJob", "FirmwareId", fw,
                 "ProductKey", PK, "TargetSelection", "SPECIFIC",
                 "TargetDeviceName.1", d1, extra_n, extra_v, NULL);
    snprintf(id, 64, "%s", jstr(json_object_get(b, "Data"), "JobId"));
    json_decref(b);
}

/* The task of dev in job id at now: status, progress and desc. */
struct task_view {
    char status[32];
    int progress;
    char desc[128];
};

static void task_of(struct emu_world *w, int64_t now, const char *id,
                    const char *dev, struct task_view *v)
{
    json_t *b = call(w, now, "ListOTATaskByJob", "JobId", id,
                     "DeviceNames.1", dev, NULL);
    json_t *t = json_array_get(json_object_get(json_object_get(b, "Data"),
                                               "SimpleOTATaskInfo"),
                               0);

    assert_non_null(t);
    snprintf(v->status, sizeof(v->status), "%s", jstr(t, "TaskStatus"));
    v->progress = (int)json_integer_value(json_object_get(t, "Progress"));
    snprintf(v->desc, sizeof(v->desc), "%s", jstr(t, "TaskDesc"));
    json_decref(b);
}

static void job_status(struct emu_world *w, int64_t now, const char *id,
                       char out[32])
{
    json_t *b = call(w, now, "QueryOTAJob", "JobId", id, NULL);

    snprintf(out, 32, "%s", jstr(json_object_get(b, "Data"), "JobStatus"));
    json_decref(b);
}

static void device_version(struct emu_world *w, int64_t now, const char *dev,
                           char out[32])
{
    json_t *b = call(w, now, "QueryDeviceDetail", "ProductKey", PK,
                     "DeviceName", dev, NULL);

    snprintf(out, 32, "%s", jstr(json_object_get(b, "Data"),
                                 "FirmwareVersion"));
    json_decref(b);
}

static void test_timeline_success(void **state)
{
    struct emu_world *w = torture_emu_world(false, 2.0, 1.0, 7, NULL);
    struct task_view v;
    char id[64];
    char buf[32];
    int seen_notified = 0;
    int seen_progress = 0;
    int last_progress = -1;
    int64_t t = 0;

    (void)state;
    create(w, NOW, id, FW, NULL, NULL, "dev-0001", NULL);
    task_of(w, NOW, id, "dev-0001", &v);
    assert_string_equal(v.status, "QUEUED");
    job_status(w, NOW, id, buf);
    assert_string_equal(buf, "IN_PROGRESS");
    device_version(w, NOW, "dev-0001", buf);
    assert_string_equal(buf, "1.0.0");
    for (t = NOW; t <= NOW + 10000; t += 100) {
        task_of(w, t, id, "dev-0001", &v);
        if (strcmp(v.status, "NOTIFIED") == 0)
            seen_notified = 1;
        if (strcmp(v.status, "IN_PROGRESS") == 0) {
            seen_progress = 1;
            assert_true(v.progress >= last_progress);
            last_progress = v.progress;
        }
        if (strcmp(v.status, "SUCCEEDED") == 0)
            break;
    }
    assert_true(seen_notified);
    assert_true(seen_progress);
    assert_true(last_progress > 0);
    assert_string_equal(v.status, "SUCCEEDED");
    assert_int_equal(v.progress, 100);
    /* 6..8 steps of 500 ms. */
    assert_true(t >= NOW + 3000 && t <= NOW + 4000);
    device_version(w, t, "dev-0001", buf);
    assert_string_equal(buf, "2.0.0");
    job_status(w, t, id, buf);
    assert_string_equal(buf, "COMPLETED");
    emu_world_free(w);
}

static void test_fixture_fail_and_ratio(void **state)
{
    struct emu_world *w = torture_emu_world(false, 2.0, 1.0, 7, NULL);
    struct task_view v;
    char id[64];
    char buf[32];

    (void)state;
    create(w, NOW, id, FW, NULL, NULL, "dev-0009", "dev-0002");
    task_of(w, NOW + 60000, id, "dev-0009", &v);
    assert_string_equal(v.status, "FAILED");
    assert_true(v.desc[0] != '\0');
    device_version(w, NOW + 60000, "dev-0009", buf);
    assert_string_equal(buf, "1.0.0");
    task_of(w, NOW + 60000, id, "dev-0002", &v);
    assert_string_equal(v.status, "SUCCEEDED");
    emu_world_free(w);

    /* success_ratio 0: everything fails. */
    w = torture_emu_world(false, 2.0, 0.0, 7, NULL);
    create(w, NOW, id, FW, NULL, NULL, "dev-0001", "dev-0002");
    task_of(w, NOW + 60000, id, "dev-0001", &v);
    assert_string_equal(v.status, "FAILED");
    task_of(w, NOW + 60000, id, "dev-0002", &v);
    assert_string_equal(v.status, "FAILED");
    emu_world_free(w);
}

/* Outcome string of 200 auto-created devices at ratio 0.5 for a seed. */
static void outcomes(uint64_t seed, char out[201])
{
    struct emu_world *w = torture_emu_world(true, 2.0, 0.5, seed, NULL);
    struct orch_params p;
    struct emu_call c;
    struct emu_result r;
    json_t *b = NULL;
    json_t *list = NULL;
    int i = 0;
    int nfail = 0;

    orch_params_init(&p);
    orch_params_add(&p, "FirmwareId", "FwSeed0001");
    orch_params_add(&p, "ProductKey", "a1Seed00001");
    orch_params_add(&p, "TargetSelection", "SPECIFIC");
    for (i = 1; i <= 200; i++) {
        char n[32];
        char v[32];
        snprintf(n, sizeof(n), "TargetDeviceName.%d", i);
        snprintf(v, sizeof(v), "s-%04d", i);
        assert_int_equal(orch_params_add(&p, n, v), 0);
    }
    memset(&c, 0, sizeof(c));
    c.action = "CreateOTAStaticUpgradeJob";
    c.params = &p;
    c.request_id = "R";
    c.now_ms = NOW;
    assert_int_equal(emu_world_call(w, &c, &r), 0);
    assert_string_equal(r.code, "");
    b = call(w, NOW + 60000, "ListOTATaskByJob", "JobId", r.job_id,
             "PageSize", "100", "CurrentPage", "1", NULL);
    list = json_object_get(json_object_get(b, "Data"), "SimpleOTATaskInfo");
    for (i = 0; i < 100; i++)
        out[i] = strcmp(jstr(json_array_get(list, (size_t)i), "TaskStatus"),
                        "SUCCEEDED") == 0 ? 'S' : 'F';
    json_decref(b);
    b = call(w, NOW + 60000, "ListOTATaskByJob", "JobId", r.job_id,
             "PageSize", "100", "CurrentPage", "2", NULL);
    list = json_object_get(json_object_get(b, "Data"), "SimpleOTATaskInfo");
    for (i = 0; i < 100; i++)
        out[100 + i] =
            strcmp(jstr(json_array_get(list, (size_t)i), "TaskStatus"),
                   "SUCCEEDED") == 0 ? 'S' : 'F';
    out[200] = '\0';
    for (i = 0; i < 200; i++)
        nfail += out[i] == 'F';
    /* About half (binomial 200, 0.5: 60..140 is far beyond 5 sigma). */
    assert_true(nfail > 60 && nfail < 140);
    json_decref(b);
    emu_result_cleanup(&r);
    orch_params_cleanup(&p);
    emu_world_free(w);
}

static void test_seeded_draws(void **state)
{
    char a[201];
    char b[201];
    char c[201];

    (void)state;
    outcomes(1234, a);
    outcomes(1234, b);
    outcomes(999, c);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
}

static void test_speed_zero(void **state)
{
    struct emu_world *w = torture_emu_world(false, 0.0, 1.0, 7, NULL);
    struct task_view v;
    char id[64];
    char buf[32];

    (void)state;
    create(w, NOW, id, FW, NULL, NULL, "dev-0001", NULL);
    task_of(w, NOW + 7 * DAY, id, "dev-0001", &v);
    assert_string_equal(v.status, "QUEUED");
    job_status(w, NOW + 7 * DAY, id, buf);
    assert_string_equal(buf, "IN_PROGRESS");
    emu_world_free(w);
}

static void test_scheduled_job(void **state)
{
    struct emu_world *w = torture_emu_world(false, 2.0, 1.0, 7, NULL);
    struct task_view v;
    char id[64];
    char id2[64];
    char at[32];
    char buf[32];
    json_t *b = NULL;

    (void)state;
    snprintf(at, sizeof(at), "%lld", NOW + HOUR);
    create(w, NOW, id, FW, "ScheduleTime", at, "dev-0001", "dev-0002");
    job_status(w, NOW + HOUR - 1, id, buf);
    assert_string_equal(buf, "PLANNED");
    task_of(w, NOW + HOUR - 1, id, "dev-0001", &v);
    assert_string_equal(v.status, "QUEUED");
    b = call(w, NOW, "QueryOTAJob", "JobId", id, NULL);
    assert_string_equal(jstr(json_object_get(b, "Data"), "UtcScheduleTime"),
                        "2023-11-14T23:13:20.000Z");
    json_decref(b);
    /* After ScheduleTime it runs. */
    task_of(w, NOW + HOUR + 60000, id, "dev-0001", &v);
    assert_string_equal(v.status, "SUCCEEDED");
    job_status(w, NOW + HOUR + 60000, id, buf);
    assert_string_equal(buf, "COMPLETED");

    /* A scheduled job's tasks: CancelQueuedTask leaves them, only
     * CancelScheduledTask cancels them. */
    snprintf(at, sizeof(at), "%lld", NOW + 2 * DAY);
    create(w, NOW + DAY, id2, "FwThree00000000000000001", "ScheduleTime", at,
           "dev-0003", NULL);
    json_decref(call(w, NOW + DAY, "CancelOTATaskByJob", "JobId", id2,
                     "CancelQueuedTask", "true", NULL));
    task_of(w, NOW + DAY, id2, "dev-0003", &v);
    assert_string_equal(v.status, "QUEUED");
    json_decref(call(w, NOW + DAY, "CancelOTATaskByJob", "JobId", id2,
                     "CancelScheduledTask", "true", NULL));
    task_of(w, NOW + DAY, id2, "dev-0003", &v);
    assert_string_equal(v.status, "CANCELED");
    job_status(w, NOW + DAY, id2, buf);
    assert_string_equal(buf, "CANCELED");
    emu_world_free(w);
}

static void test_cancel_in_progress(void **state)
{
    struct emu_world *w = torture_emu_world(false, 2.0, 1.0, 7, NULL);
    struct task_view v;
    char id[64];
    int64_t t = 0;

    (void)state;
    create(w, NOW, id, FW, NULL, NULL, "dev-0001", NULL);
    for (t = NOW; t < NOW + 10000; t += 100) {
        task_of(w, t, id, "dev-0001", &v);
        if (strcmp(v.status, "IN_PROGRESS") == 0)
            break;
    }
    assert_string_equal(v.status, "IN_PROGRESS");
    json_decref(call(w, t, "CancelOTATaskByJob", "JobId", id,
                     "CancelQueuedTask", "true", "CancelNotifiedTask", "true",
                     NULL));
    task_of(w, t, id, "dev-0001", &v);
    assert_string_equal(v.status, "IN_PROGRESS");
    json_decref(call(w, t, "CancelOTATaskByJob", "JobId", id,
                     "CancelInProgressTask", "true", NULL));
    task_of(w, t + 60000, id, "dev-0001", &v);
    assert_string_equal(v.status, "CANCELED");
    emu_world_free(w);
}

static void test_timeout_and_finish(void **state)
{
    /* 0.01 steps/s: 100 s a step, IN_PROGRESS lasts 400 s > 1 minute. */
    struct emu_world *w = torture_emu_world(false, 0.01, 1.0, 7, NULL);
    struct task_view v;
    char id[64];
    char fin[32];

    (void)state;
    create(w, NOW, id, FW, "TimeoutInMinutes", "1", "dev-0001", NULL);
    task_of(w, NOW + HOUR, id, "dev-0001", &v);
    assert_string_equal(v.status, "FAILED");
    assert_non_null(strstr(v.desc, "timed out"));
    emu_world_free(w);

    /* 0.0001 steps/s: 10000 s a step; ScheduleFinishTime after 1 h. */
    w = torture_emu_world(false, 0.0001, 1.0, 7, NULL);
    snprintf(fin, sizeof(fin), "%lld", NOW + HOUR);
    create(w, NOW, id, FW, "ScheduleFinishTime", fin, "dev-0001", NULL);
    task_of(w, NOW + HOUR - 1, id, "dev-0001", &v);
    assert_string_equal(v.status, "QUEUED");
    task_of(w, NOW + HOUR, id, "dev-0001", &v);
    assert_string_equal(v.status, "FAILED");
    assert_non_null(strstr(v.desc, "ScheduleFinishTime"));
    emu_world_free(w);
}

static void test_device_free_after_finish(void **state)
{
    struct emu_world *w = torture_emu_world(false, 2.0, 1.0, 7, NULL);
    struct task_view v;
    char id[64];
    char id2[64];

    (void)state;
    create(w, NOW, id, FW, NULL, NULL, "dev-0001", NULL);
    /* Busy now... */
    create(w, NOW + 100, id2, "FwThree00000000000000001", NULL, NULL,
           "dev-0001", NULL);
    task_of(w, NOW + 100, id2, "dev-0001", &v);
    assert_string_equal(v.status, "FAILED");
    /* ...free once its task ended: the 3.0.0 job takes it. */
    create(w, NOW + 60000, id2, "FwThree00000000000000001", NULL, NULL,
           "dev-0001", NULL);
    task_of(w, NOW + 60000, id2, "dev-0001", &v);
    assert_string_equal(v.status, "QUEUED");
    /* SrcVersion of the new task is the version reached by the first. */
    {
        json_t *b = call(w, NOW + 60000, "ListOTATaskByJob", "JobId", id2,
                         NULL);
        json_t *t = json_array_get(
            json_object_get(json_object_get(b, "Data"), "SimpleOTATaskInfo"),
            0);
        assert_string_equal(jstr(t, "SrcVersion"), "2.0.0");
        assert_string_equal(jstr(t, "DestVersion"), "3.0.0");
        json_decref(b);
    }
    emu_world_free(w);
}

static void test_stats_and_dump(void **state)
{
    struct emu_world *w = torture_emu_world(false, 2.0, 1.0, 7, NULL);
    char id[64];
    char id2[64];
    json_t *st = NULL;
    json_t *dump = NULL;
    json_t *j = NULL;

    (void)state;
    create(w, NOW, id, FW, NULL, NULL, "dev-0001", "dev-0002");
    create(w, NOW, id2, FW, NULL, NULL, "dev-0002", "dev-0003");
    st = emu_world_stats(w, NOW);
    assert_int_equal(json_integer_value(json_object_get(st, "jobs")), 2);
    assert_int_equal(
        json_integer_value(json_object_get(st, "devices_assigned")), 4);
    assert_int_equal(torture_json_int(st, "tasks/QUEUED"), 3);
    assert_int_equal(torture_json_int(st, "tasks/FAILED"), 1);
    assert_int_equal(json_array_size(json_object_get(st, "double_assigned")),
                     0);
    json_decref(st);
    st = emu_world_stats(w, NOW + 60000);
    assert_int_equal(torture_json_int(st, "tasks/SUCCEEDED"), 3);
    json_decref(st);

    dump = emu_world_dump_jobs(w, NOW + 60000);
    assert_int_equal(json_array_size(dump), 2);
    j = json_array_get(dump, 1);
    assert_string_equal(jstr(j, "JobId"), id2);
    assert_string_equal(jstr(j, "ProductKey"), PK);
    assert_string_equal(jstr(j, "FirmwareId"), FW);
    assert_true(json_is_null(json_object_get(j, "ScheduleTime")));
    assert_int_equal(json_array_size(json_object_get(j, "Devices")), 2);
    assert_string_equal(jstr(json_object_get(j, "Tasks"), "dev-0002"),
                        "FAILED");
    assert_string_equal(jstr(json_object_get(j, "Tasks"), "dev-0003"),
                        "SUCCEEDED");
    json_decref(dump);
    emu_world_free(w);
}

static void test_fixture_errors(void **state)
{
    struct emu_world *w = NULL;
    struct orch_diag d;
    char path[] = "/tmp/emu-fixture-XXXXXX";
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    w = torture_emu_world(true, 2.0, 1.0, 1, NULL);
    assert_int_equal(emu_world_load_fixture(w, "/nonexistent/x.json", &d),
                     ORCH_EIO);
    torture_write_text(path, "{\"products\": [");
    assert_int_equal(emu_world_load_fixture(w, path, &d), ORCH_EINVAL);
    assert_non_null(strstr(d.msg, path));
    torture_write_text(path,
                       "{\"products\": [{\"product_key\": \"a1X\", \"devices\":"
                       " [{\"name\": \"d1\"}]}]}");
    assert_int_equal(emu_world_load_fixture(w, path, &d), ORCH_EINVAL);
    torture_write_text(path,
                       "{\"products\": [{\"product_key\": \"a1Y\", \"devices\":"
                       " [{\"name\": \"dev-0001\"}, {\"name\": \"dev-0001\"}]}"
                       "]}");
    assert_int_equal(emu_world_load_fixture(w, path, &d), ORCH_EINVAL);
    assert_non_null(strstr(d.msg, "twice"));
    torture_write_text(path,
                       "{\"firmware\": [{\"id\": \"F1\", \"product_key\": "
                       "\"a1Z\", \"dest_version\": \"2\", \"status\": 9}]}");
    assert_int_equal(emu_world_load_fixture(w, path, &d), ORCH_EINVAL);
    torture_write_text(path, "{\"instance_id\": \"iot-x\", \"products\": [], "
                             "\"firmware\": []}");
    assert_int_equal(emu_world_load_fixture(w, path, &d), 0);
    emu_world_free(w);
    unlink(path);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(test_timeline_success),
    cmocka_unit_test(test_fixture_fail_and_ratio),
    cmocka_unit_test(test_seeded_draws),
    cmocka_unit_test(test_speed_zero),
    cmocka_unit_test(test_scheduled_job),
    cmocka_unit_test(test_cancel_in_progress),
    cmocka_unit_test(test_timeout_and_finish),
    cmocka_unit_test(test_device_free_after_finish),
    cmocka_unit_test(test_stats_and_dump),
    cmocka_unit_test(test_fixture_errors))
