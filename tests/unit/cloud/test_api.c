/* test_api.c - CreateOTAStaticUpgradeJob parameters and every answer shape
 * of alibaba-api.md section d. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "orch/cloud/api.h"
#include "orch/model/config.h"
#include "orch/base/err.h"
#include "orch/model/inventory.h"
#include "orch/cloud/params.h"
#include "orch/model/plan.h"
#include "torture.h"

static const char *get(const struct orch_params *p, const char *name)
{
    return orch_params_get(p, name);
}

static int decode(struct orch_response *r, long status, const char *body)
{
    return orch_api_decode(r, status, body, strlen(body));
}

/* --- parameters ---------------------------------------------------------- */

static void test_specific_chunk_params(void **state)
{
    static const char csv[] =
        "ProductKey,DeviceName\n"
        "pkA,dev-0001\npkA,dev-0002\npkB,other-01\npkA,dev-0003\n";
    struct orch_config cfg;
    struct orch_inventory inv;
    struct orch_inventory_opts opts;
    struct orch_plan plan;
    struct orch_params p;
    const struct orch_chunk *c = NULL;

    (void)state;
    orch_config_init(&cfg);
    cfg.firmware_id = strdup("fw-1");
    cfg.chunk_size = 2;
    memset(&opts, 0, sizeof(opts));
    torture_plan(&plan, &inv, &cfg, csv, &opts);
    assert_int_equal(plan.nchunks, 3);

    /* Chunk 0: pkA, dev-0001 and dev-0002; no optional value set. */
    c = &plan.chunks[0];
    orch_params_init(&p);
    assert_int_equal(orch_api_create_params(&p, &cfg, &plan, c), 0);
    assert_string_equal(get(&p, "FirmwareId"), "fw-1");
    assert_string_equal(get(&p, "ProductKey"), "pkA");
    assert_string_equal(get(&p, "TargetSelection"), "SPECIFIC");
    assert_string_equal(get(&p, "TargetDeviceName.1"), "dev-0001");
    assert_string_equal(get(&p, "TargetDeviceName.2"), "dev-0002");
    assert_null(get(&p, "TargetDeviceName.3"));
    assert_null(get(&p, "TargetDeviceName.0"));
    assert_null(get(&p, "IotInstanceId"));
    assert_null(get(&p, "ScheduleTime"));
    assert_null(get(&p, "RetryInterval"));
    assert_null(get(&p, "OverwriteMode"));
    assert_null(get(&p, "SrcVersion.1"));
    assert_null(get(&p, "GrayPercent"));
    assert_int_equal(p.n, 5);
    orch_params_cleanup(&p);

    /* Every optional value, including zeros (RetryInterval 0 is valid). */
    cfg.iot_instance_id = strdup("iot-cn-abc");
    cfg.schedule_time_ms = 1767225600000LL;
    cfg.schedule_finish_time_ms = 1767229200000LL;
    cfg.retry_interval = 0;
    cfg.retry_count = 2;
    cfg.timeout_minutes = 1440;
    cfg.max_per_minute = 10000;
    cfg.overwrite_mode = 2;
    c = &plan.chunks[1];
    orch_params_init(&p);
    assert_int_equal(orch_api_create_params(&p, &cfg, &plan, c), 0);
    assert_string_equal(get(&p, "IotInstanceId"), "iot-cn-abc");
    assert_string_equal(get(&p, "ScheduleTime"), "1767225600000");
    assert_string_equal(get(&p, "ScheduleFinishTime"), "1767229200000");
    assert_string_equal(get(&p, "RetryInterval"), "0");
    assert_string_equal(get(&p, "RetryCount"), "2");
    assert_string_equal(get(&p, "TimeoutInMinutes"), "1440");
    assert_string_equal(get(&p, "MaximumPerMinute"), "10000");
    assert_string_equal(get(&p, "OverwriteMode"), "2");
    assert_string_equal(get(&p, "TargetSelection"), "SPECIFIC");
    orch_params_cleanup(&p);

    torture_plan_cleanup(&plan, &inv, &cfg);
}

/* 200 devices: TargetDeviceName.1 .. .200 in order. */
static void test_full_chunk_numbering(void **state)
{
    struct orch_config cfg;
    struct orch_inventory inv;
    struct orch_inventory_opts opts;
    struct orch_plan plan;
    struct orch_params p;
    char *csv = malloc(200 * 32 + 32);
    size_t len = 0;
    char name[32], want[32];

    (void)state;
    assert_non_null(csv);
    len += (size_t)sprintf(csv + len, "DeviceName\n");
    for (int i = 0; i < 200; i++)
        len += (size_t)sprintf(csv + len, "device-%04d\n", i);
    orch_config_init(&cfg);
    cfg.firmware_id = strdup("fw-2");
    cfg.product_key = strdup("pkZ");
    memset(&opts, 0, sizeof(opts));
    opts.default_product_key = "pkZ";
    torture_plan(&plan, &inv, &cfg, csv, &opts);
    assert_int_equal(plan.nchunks, 1);
    orch_params_init(&p);
    assert_int_equal(orch_api_create_params(&p, &cfg, &plan, &plan.chunks[0]),
                     0);
    assert_string_equal(get(&p, "ProductKey"), "pkZ");
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof(name), "TargetDeviceName.%d", i + 1);
        snprintf(want, sizeof(want), "device-%04d", i);
        assert_string_equal(get(&p, name), want);
    }
    assert_null(get(&p, "TargetDeviceName.201"));
    orch_params_cleanup(&p);
    torture_plan_cleanup(&plan, &inv, &cfg);
    free(csv);
}

static void test_all_and_gray_params(void **state)
{
    struct orch_config cfg;
    struct orch_params p;

    (void)state;
    orch_config_init(&cfg);
    cfg.firmware_id = strdup("fw-3");
    cfg.product_key = strdup("pkQ");
    cfg.target = ORCH_TARGET_ALL;
    cfg.src_versions[0] = strdup("1.0.0");
    cfg.src_versions[1] = strdup("1.0.1");
    cfg.n_src_versions = 2;
    cfg.gray_percent = strdup("33.33");

    orch_params_init(&p);
    assert_int_equal(orch_api_create_params(&p, &cfg, NULL, NULL), 0);
    assert_string_equal(get(&p, "TargetSelection"), "ALL");
    assert_string_equal(get(&p, "FirmwareId"), "fw-3");
    assert_string_equal(get(&p, "ProductKey"), "pkQ");
    assert_string_equal(get(&p, "SrcVersion.1"), "1.0.0");
    assert_string_equal(get(&p, "SrcVersion.2"), "1.0.1");
    assert_null(get(&p, "SrcVersion.3"));
    assert_null(get(&p, "GrayPercent")); /* only for GRAY */
    assert_null(get(&p, "TargetDeviceName.1"));
    orch_params_cleanup(&p);

    cfg.target = ORCH_TARGET_GRAY;
    cfg.max_per_minute = 500;
    orch_params_init(&p);
    assert_int_equal(orch_api_create_params(&p, &cfg, NULL, NULL), 0);
    assert_string_equal(get(&p, "TargetSelection"), "GRAY");
    assert_string_equal(get(&p, "GrayPercent"), "33.33");
    assert_string_equal(get(&p, "MaximumPerMinute"), "500");
    orch_params_cleanup(&p);
    orch_config_cleanup(&cfg);
}

/* Jobs are tagged with the run id and the 1-based chunk number, unless
 * --no-job-tag or no run id; the key is one the API accepts. */
static void test_job_tag(void **state)
{
    static const char csv[] = "DeviceName\ndev-0001\ndev-0002\ndev-0003\n";
    struct orch_config cfg;
    struct orch_inventory inv;
    struct orch_inventory_opts opts;
    struct orch_plan plan;
    struct orch_params p;
    const char *key = ORCH_JOB_TAG_KEY;

    (void)state;
    /* alibaba-api.md f: 1-30 letters, digits and '.'. */
    assert_true(strlen(key) >= 1 && strlen(key) <= 30);
    assert_int_equal(strspn(key, "abcdefghijklmnopqrstuvwxyz"
                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789."),
                     strlen(key));
    orch_config_init(&cfg);
    cfg.firmware_id = strdup("fw-1");
    cfg.product_key = strdup("pkA");
    cfg.chunk_size = 2;
    memset(&opts, 0, sizeof(opts));
    opts.default_product_key = "pkA";
    torture_plan(&plan, &inv, &cfg, csv, &opts);
    assert_int_equal(plan.nchunks, 2);

    /* No run id: no tag. */
    orch_params_init(&p);
    assert_int_equal(orch_api_create_params(&p, &cfg, &plan, &plan.chunks[1]),
                     0);
    assert_null(get(&p, "Tag.1.Key"));
    assert_null(get(&p, "Tag.1.Value"));
    orch_params_cleanup(&p);

    cfg.run_id = strdup("r20260101T000000Z.ab12");
    orch_params_init(&p);
    assert_int_equal(orch_api_create_params(&p, &cfg, &plan, &plan.chunks[1]),
                     0);
    assert_string_equal(get(&p, "Tag.1.Key"), ORCH_JOB_TAG_KEY);
    assert_string_equal(get(&p, "Tag.1.Value"), "r20260101T000000Z.ab12.2");
    assert_null(get(&p, "Tag.2.Key"));
    assert_string_equal(get(&p, "TargetDeviceName.1"), "dev-0003");
    orch_params_cleanup(&p);

    /* The single ALL call is "chunk" 1. */
    cfg.target = ORCH_TARGET_ALL;
    cfg.src_versions[0] = strdup("1.0.0");
    cfg.n_src_versions = 1;
    orch_params_init(&p);
    assert_int_equal(orch_api_create_params(&p, &cfg, NULL, NULL), 0);
    assert_string_equal(get(&p, "Tag.1.Value"), "r20260101T000000Z.ab12.1");
    orch_params_cleanup(&p);

    cfg.no_job_tag = true;
    orch_params_init(&p);
    assert_int_equal(orch_api_create_params(&p, &cfg, NULL, NULL), 0);
    assert_null(get(&p, "Tag.1.Key"));
    orch_params_cleanup(&p);

    torture_plan_cleanup(&plan, &inv, &cfg);
}

static void test_query_params(void **state)
{
    struct orch_params p;
    const char *names[51];
    char buf[51][16];

    (void)state;
    orch_params_init(&p);
    assert_int_equal(orch_api_list_jobs_by_device_params(
                         &p, NULL, "fw-1", "pkA", "user@site", 100, 2),
                     0);
    assert_int_equal(p.n, 5);
    assert_string_equal(get(&p, "FirmwareId"), "fw-1");
    assert_string_equal(get(&p, "ProductKey"), "pkA");
    assert_string_equal(get(&p, "DeviceName"), "user@site");
    assert_string_equal(get(&p, "PageSize"), "100");
    assert_string_equal(get(&p, "CurrentPage"), "2");
    assert_null(get(&p, "IotInstanceId"));
    orch_params_cleanup(&p);

    /* A whole-product call is looked up among the firmware's jobs. */
    orch_params_init(&p);
    assert_int_equal(orch_api_list_jobs_by_firmware_params(&p, "iot-1",
                                                           "fw-1", 200, 3),
                     0);
    assert_int_equal(p.n, 4);
    assert_string_equal(get(&p, "IotInstanceId"), "iot-1");
    assert_string_equal(get(&p, "FirmwareId"), "fw-1");
    assert_string_equal(get(&p, "PageSize"), "200");
    assert_string_equal(get(&p, "CurrentPage"), "3");
    assert_null(get(&p, "ProductKey"));
    assert_null(get(&p, "DeviceName"));
    orch_params_cleanup(&p);
    orch_params_init(&p);
    assert_int_equal(
        orch_api_list_jobs_by_firmware_params(&p, NULL, "fw-2", 200, 1), 0);
    assert_int_equal(p.n, 3);
    assert_null(get(&p, "IotInstanceId"));
    assert_string_equal(get(&p, "CurrentPage"), "1");
    orch_params_cleanup(&p);

    for (int i = 0; i < 51; i++) {
        snprintf(buf[i], sizeof(buf[i]), "d-%02d", i);
        names[i] = buf[i];
    }
    orch_params_init(&p);
    assert_int_equal(
        orch_api_list_tasks_by_job_params(&p, "iot-1", "JOB1", names, 50), 0);
    assert_string_equal(get(&p, "IotInstanceId"), "iot-1");
    assert_string_equal(get(&p, "JobId"), "JOB1");
    assert_string_equal(get(&p, "DeviceNames.1"), "d-00");
    assert_string_equal(get(&p, "DeviceNames.50"), "d-49");
    assert_null(get(&p, "DeviceNames.51"));
    assert_null(get(&p, "PageSize")); /* ignored with names */
    orch_params_cleanup(&p);
    orch_params_init(&p);
    assert_int_equal(
        orch_api_list_tasks_by_job_params(&p, NULL, "JOB1", names, 51),
        ORCH_EINVAL);
    orch_params_cleanup(&p);
}

/* Data.SimpleOTAJobInfo[] as ListOTAJobByDevice answers (the emulator's
 * shape): tags, ISO times, a missing field, a numeric time. */
static void test_decode_job_list(void **state)
{
    struct orch_response r;
    struct orch_job_info j;

    (void)state;
    orch_response_init(&r);
    assert_int_equal(
        decode(&r, 200,
               "{\"RequestId\":\"Q\",\"Success\":true,\"CurrentPage\":1,"
               "\"PageSize\":100,\"PageCount\":3,\"Total\":201,\"Data\":{"
               "\"SimpleOTAJobInfo\":["
               "{\"JobId\":\"J1\",\"JobStatus\":\"IN_PROGRESS\","
               "\"UtcCreate\":\"2025-01-02T03:04:05.678Z\","
               "\"Tags\":{\"OtaTagDTO\":[{\"Key\":\"other\",\"Value\":\"x\"},"
               "{\"Key\":\"" ORCH_JOB_TAG_KEY "\",\"Value\":\"run.7\"}]}},"
               "{\"JobId\":\"J2\",\"UtcCreate\":1735787045678},"
               "{\"JobId\":\"J3\",\"UtcCreate\":\"yesterday\","
               "\"Tags\":{\"OtaTagDTO\":[]}},"
               "7]}}"),
        0);
    assert_true(r.success);
    assert_int_equal(orch_api_page_count(&r), 3);
    assert_int_equal(orch_api_job_count(&r), 4);
    assert_int_equal(orch_api_job_at(&r, 0, &j), 0);
    assert_string_equal(j.job_id, "J1");
    assert_string_equal(j.job_status, "IN_PROGRESS");
    assert_string_equal(j.utc_create, "2025-01-02T03:04:05.678Z");
    assert_true(j.utc_create_ms == 1735787045678LL);
    assert_string_equal(orch_api_job_tag(&j, ORCH_JOB_TAG_KEY), "run.7");
    assert_string_equal(orch_api_job_tag(&j, "other"), "x");
    assert_null(orch_api_job_tag(&j, "none"));
    assert_int_equal(orch_api_job_at(&r, 1, &j), 0);
    assert_string_equal(j.job_status, "");
    assert_true(j.utc_create_ms == 1735787045678LL);
    assert_null(j.tags);
    assert_null(orch_api_job_tag(&j, ORCH_JOB_TAG_KEY));
    assert_int_equal(orch_api_job_at(&r, 2, &j), 0);
    assert_true(j.utc_create_ms == -1);
    assert_null(orch_api_job_tag(&j, ORCH_JOB_TAG_KEY));
    assert_int_equal(orch_api_job_at(&r, 3, &j), ORCH_EINVAL); /* not {} */
    assert_int_equal(orch_api_job_at(&r, 4, &j), ORCH_EINVAL);
    assert_int_equal(orch_api_task_count(&r), 0);

    /* A lone object instead of a list, and a lone tag object. */
    assert_int_equal(
        decode(&r, 200,
               "{\"Success\":true,\"Data\":{\"SimpleOTAJobInfo\":"
               "{\"JobId\":\"J9\",\"Tags\":{\"OtaTagDTO\":{\"Key\":\""
               ORCH_JOB_TAG_KEY "\",\"Value\":\"v\"}}}}}"),
        0);
    assert_int_equal(orch_api_job_count(&r), 1);
    assert_int_equal(orch_api_job_at(&r, 0, &j), 0);
    assert_string_equal(j.job_id, "J9");
    assert_string_equal(orch_api_job_tag(&j, ORCH_JOB_TAG_KEY), "v");
    assert_int_equal(orch_api_page_count(&r), 0);

    /* Errors and odd bodies have no entries. */
    assert_int_equal(decode(&r, 503, "<html>busy</html>"), 0);
    assert_int_equal(orch_api_job_count(&r), 0);
    assert_int_equal(orch_api_job_at(&r, 0, &j), ORCH_EINVAL);
    assert_int_equal(decode(&r, 200, "{\"Success\":true,\"Data\":[1]}"), 0);
    assert_int_equal(orch_api_job_count(&r), 0);
    orch_response_cleanup(&r);
}

static void test_decode_task_list(void **state)
{
    struct orch_response r;
    struct orch_task_info t;

    (void)state;
    orch_response_init(&r);
    assert_int_equal(
        decode(&r, 200,
               "{\"RequestId\":\"Q\",\"Success\":true,\"Data\":{"
               "\"SimpleOTATaskInfo\":[{\"TaskId\":\"T1\",\"DeviceName\":"
               "\"dev-1\",\"JobId\":\"J1\",\"TaskStatus\":\"QUEUED\","
               "\"Progress\":0},{\"DeviceName\":\"dev-2\"}]}}"),
        0);
    assert_int_equal(orch_api_task_count(&r), 2);
    assert_int_equal(orch_api_task_at(&r, 0, &t), 0);
    assert_string_equal(t.task_id, "T1");
    assert_string_equal(t.device_name, "dev-1");
    assert_string_equal(t.job_id, "J1");
    assert_string_equal(t.task_status, "QUEUED");
    assert_int_equal(orch_api_task_at(&r, 1, &t), 0);
    assert_string_equal(t.job_id, "");
    assert_int_equal(orch_api_task_at(&r, 2, &t), ORCH_EINVAL);
    assert_int_equal(orch_api_job_count(&r), 0);
    orch_response_cleanup(&r);
}

/* --- decoding ------------------------------------------------------------ */

static void test_decode_success(void **state)
{
    struct orch_response r;

    (void)state;
    orch_response_init(&r);
    assert_int_equal(
        decode(&r, 200,
               "{\"RequestId\":\"RQ-1\",\"Success\":true,\"Data\":{\"JobId\":"
               "\"wahVIzGkCMuAUE2gDERM02****\",\"UtcCreate\":"
               "\"2019-11-04T06:22:19.566Z\"}}"),
        0);
    assert_true(r.is_json);
    assert_true(r.success);
    assert_string_equal(r.code, "");
    assert_string_equal(r.request_id, "RQ-1");
    assert_string_equal(r.job_id, "wahVIzGkCMuAUE2gDERM02****");
    assert_string_equal(r.utc_create, "2019-11-04T06:22:19.566Z");
    assert_non_null(r.root);
    assert_int_equal(r.http_status, 200);
    orch_response_cleanup(&r);
    assert_null(r.root);
}

/* One body decoded into a reused response, and what it must give: a NULL
 * string, ANY flag or 0 status is not checked. */
#define ANY (-1)
struct decode_case {
    long status;
    const char *body;
    int is_json;
    int success;
    const char *code;
    const char *message;
    const char *request_id;
    const char *job_id;
    long http_status;
    bool root_null; /* checked when true: no parsed document kept */
};

/* Fails naming the case and the field, so that a table row is found. */
static void check_flag(size_t i, const char *what, int want, bool got)
{
    if (want != ANY && (int)got != want)
        fail_msg("case %zu: %s is %d, want %d", i, what, (int)got, want);
}

static void check_str(size_t i, const char *what, const char *want,
                      const char *got)
{
    if (want && strcmp(got, want) != 0)
        fail_msg("case %zu: %s is \"%s\", want \"%s\"", i, what, got, want);
}

/* Decodes the cases in order into one response (as a caller reuses it). */
static void check_decodes(const struct decode_case *c, size_t n)
{
    struct orch_response r;
    size_t i = 0;

    orch_response_init(&r);
    for (i = 0; i < n; i++, c++) {
        decode(&r, c->status, c->body);
        check_flag(i, "is_json", c->is_json, r.is_json);
        check_flag(i, "success", c->success, r.success);
        check_str(i, "code", c->code, r.code);
        check_str(i, "message", c->message, r.message);
        check_str(i, "request_id", c->request_id, r.request_id);
        check_str(i, "job_id", c->job_id, r.job_id);
        if (c->http_status)
            assert_int_equal(r.http_status, c->http_status);
        if (c->root_null)
            assert_null(r.root);
    }
    orch_response_cleanup(&r);
}

#define CHECK_DECODES(cases)                                                   \
    check_decodes(cases, sizeof(cases) / sizeof(cases[0]))

static void test_decode_business_error(void **state)
{
    static const struct decode_case cases[] = {
        {200,
         "{\"RequestId\":\"RQ-2\",\"Success\":false,\"Code\":"
         "\"MissingFirmwareId\",\"ErrorMessage\":\"FirmwareId is mandatory "
         "for this action.\"}",
         1, 0, "MissingFirmwareId", "FirmwareId is mandatory for this action.",
         "RQ-2", "", 0, false},
        /* Success as a string, as some gateways render it. */
        {200, "{\"Success\":\"false\",\"Code\":\"iot.ota.X\"}", ANY, 0,
         "iot.ota.X", NULL, NULL, NULL, 0, false},
    };

    (void)state;
    CHECK_DECODES(cases);
}

static void test_decode_gateway_errors(void **state)
{
    static const struct decode_case cases[] = {
        {400,
         "{\"RequestId\":\"3C85E634\",\"HostId\":\"iot.cn-shanghai."
         "aliyuncs.com\",\"Code\":\"InvalidTimeStamp.Expired\",\"Message\":"
         "\"Specified time stamp or date value is expired.\",\"Recommend\":"
         "\"https://api.aliyun.com/troubleshoot?q=x\"}",
         1, 0, "InvalidTimeStamp.Expired",
         "Specified time stamp or date value is expired.", "3C85E634", NULL, 0,
         false},
        {503, "{\"Code\":\"ServiceUnavailable\",\"Message\":\"busy\"}", ANY,
         ANY, "ServiceUnavailable", NULL, NULL, NULL, 503, false},
        /* An iot.* code on a 400 with ErrorMessage (the other convention). */
        {400,
         "{\"Code\":\"iot.prod.NotExistedProduct\","
         "\"ErrorMessage\":\"no such product\"}",
         ANY, ANY, "iot.prod.NotExistedProduct", "no such product", NULL, NULL,
         0, false},
        /* Success:true on a 4xx is still an error. */
        {404, "{\"Success\":true}", ANY, 0, "HTTP404", "HTTP 404", NULL, NULL,
         0, false},
    };

    (void)state;
    CHECK_DECODES(cases);
}

static void test_decode_json_without_success_field(void **state)
{
    static const struct decode_case cases[] = {
        {200, "{\"RequestId\":\"RQ\",\"Data\":{\"JobId\":\"J\"}}", ANY, 1, NULL,
         NULL, NULL, "J", 0, false},
        /* A Code with no Success on a 200 is an error. */
        {200, "{\"Code\":\"Oops\"}", ANY, 0, "Oops", NULL, NULL, NULL, 0,
         false},
        /* Numeric Code is kept as text; a non-object Data is ignored. */
        {200, "{\"Success\":false,\"Code\":1234,\"Data\":[1]}", ANY, ANY,
         "1234", NULL, NULL, "", 0, false},
        /* Success:false without a Code. */
        {200, "{\"Success\":false}", ANY, 0, "HTTP200", NULL, NULL, NULL, 0,
         false},
    };

    (void)state;
    CHECK_DECODES(cases);
}

static void test_decode_html_page(void **state)
{
    static const struct decode_case cases[] = {
        {502,
         "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n"
         "<body>\n\t<center><h1>502 Bad Gateway</h1></center>\n</body>"
         "</html>\n",
         0, 0, "BadResponse",
         "HTTP 502: <html> <head><title>502 Bad Gateway</title>"
         "</head> <body> <center><h1>502 Bad Gateway</h1>"
         "</center> </body></html>",
         NULL, NULL, 0, true},
    };

    (void)state;
    CHECK_DECODES(cases);
}

static void test_decode_truncated_and_odd_json(void **state)
{
    static const struct decode_case cases[] = {
        {200, "{\"RequestId\":\"RQ\",\"Success\":tr", 0, 0, "BadResponse",
         "HTTP 200: {\"RequestId\":\"RQ\",\"Success\":tr", NULL, NULL, 0,
         false},
        {200, "[1,2,3]", 0, ANY, "BadResponse", NULL, NULL, NULL, 0, false},
        {200, "42", ANY, ANY, "BadResponse", NULL, NULL, NULL, 0, false},
        {200, "\"Success\"", ANY, ANY, "BadResponse", NULL, NULL, NULL, 0,
         false},
        {200, "null", ANY, ANY, "BadResponse", NULL, NULL, NULL, 0, false},
        /* Trailing garbage after an object. */
        {200, "{\"Success\":true} x", ANY, 0, "BadResponse", NULL, NULL, NULL,
         0, false},
    };

    (void)state;
    CHECK_DECODES(cases);
}

static void test_decode_empty_body(void **state)
{
    struct orch_response r;

    (void)state;
    orch_response_init(&r);
    assert_int_equal(orch_api_decode(&r, 500, "", 0), 0);
    assert_string_equal(r.code, "BadResponse");
    assert_string_equal(r.message, "HTTP 500: (empty body)");
    assert_int_equal(orch_api_decode(&r, 204, NULL, 0), 0);
    assert_false(r.success);
    assert_string_equal(r.message, "HTTP 204: (empty body)");
    assert_int_equal(orch_api_decode(&r, 200, " \r\n\t ", 5), 0);
    assert_string_equal(r.message, "HTTP 200: (empty body)");
    orch_response_cleanup(&r);
}

static void test_decode_nul_and_binary_bytes(void **state)
{
    static const char body[] = "{\"Code\":\"A\0B\"}\x01\xff\xfe";
    static const char body2[] = "\0\0\0garbage\x7f\x80";
    struct orch_response r;

    (void)state;
    orch_response_init(&r);
    assert_int_equal(orch_api_decode(&r, 400, body, sizeof(body) - 1), 0);
    assert_false(r.is_json);
    assert_string_equal(r.code, "BadResponse");
    assert_string_equal(r.message, "HTTP 400: {\"Code\":\"A?B\"}???");
    assert_int_equal(orch_api_decode(&r, 200, body2, sizeof(body2) - 1), 0);
    assert_string_equal(r.message, "HTTP 200: ???garbage??");
    /* A JSON string carrying \u0000 is refused by the parser. */
    decode(&r, 200, "{\"Code\":\"a\\u0000b\"}");
    assert_string_equal(r.code, "BadResponse");
    orch_response_cleanup(&r);
}

static void test_decode_huge_bodies(void **state)
{
    struct orch_response r;
    size_t n = 20u * 1024 * 1024;
    char *big = malloc(n);
    const char *prefix = "{\"Code\":\"";

    (void)state;
    assert_non_null(big);
    /* 20 MB of 'x': not parsed, quoted as 200 bytes and "...". */
    memset(big, 'x', n);
    orch_response_init(&r);
    assert_int_equal(orch_api_decode(&r, 500, big, n), 0);
    assert_string_equal(r.code, "BadResponse");
    assert_int_equal(strlen(r.message), strlen("HTTP 500: ") + 200 + 3);
    assert_memory_equal(r.message + strlen(r.message) - 3, "...", 3);

    /* A 1 MB Code string: parsed, truncated into the fixed field. */
    n = 1024 * 1024;
    memcpy(big, prefix, strlen(prefix));
    memset(big + strlen(prefix), 'C', n);
    memcpy(big + strlen(prefix) + n, "\"}", 2);
    assert_int_equal(orch_api_decode(&r, 400, big, strlen(prefix) + n + 2), 0);
    assert_true(r.is_json);
    assert_int_equal(strlen(r.code), sizeof(r.code) - 1);

    /* Deep nesting is refused by the parser, not a stack overflow. */
    n = 100000;
    memset(big, '[', n);
    assert_int_equal(orch_api_decode(&r, 200, big, n), 0);
    assert_string_equal(r.code, "BadResponse");
    orch_response_cleanup(&r);
    free(big);
}

static void test_decode_reuse_resets_fields(void **state)
{
    struct orch_response r;

    (void)state;
    orch_response_init(&r);
    decode(&r, 200,
           "{\"RequestId\":\"R1\",\"Success\":true,\"Data\":"
           "{\"JobId\":\"J1\"}}");
    assert_string_equal(r.job_id, "J1");
    decode(&r, 503, "busy");
    assert_string_equal(r.job_id, "");
    assert_string_equal(r.request_id, "");
    assert_false(r.success);
    assert_null(r.root);
    orch_response_cleanup(&r);
    orch_response_cleanup(NULL);
}

/* The queries of status, cancel and the wave gates. */

static void flags_without_in_progress(void **state)
{
    struct orch_params p;

    (void)state;
    orch_params_init(&p);
    assert_int_equal(orch_api_cancel_flags_params(&p, false), 0);
    assert_string_equal(orch_params_get(&p, "CancelQueuedTask"), "true");
    assert_string_equal(orch_params_get(&p, "CancelNotifiedTask"), "true");
    assert_string_equal(orch_params_get(&p, "CancelScheduledTask"), "true");
    assert_string_equal(orch_params_get(&p, "CancelUnconfirmedTask"), "true");
    assert_null(orch_params_get(&p, "CancelInProgressTask"));
    assert_int_equal(p.n, 4);
    orch_params_cleanup(&p);
}

static void flags_with_in_progress_and_job(void **state)
{
    struct orch_params p;
    struct orch_config cfg;

    (void)state;
    orch_config_init(&cfg);
    orch_params_init(&p);
    assert_int_equal(orch_api_job_params(&p, cfg.iot_instance_id, "JOB1"), 0);
    assert_int_equal(orch_api_cancel_flags_params(&p, true), 0);
    assert_string_equal(orch_params_get(&p, "JobId"), "JOB1");
    assert_null(orch_params_get(&p, "IotInstanceId"));
    assert_string_equal(orch_params_get(&p, "CancelInProgressTask"), "true");
    assert_int_equal(p.n, 6);
    orch_params_cleanup(&p);

    cfg.iot_instance_id = strdup("iot-06z00");
    orch_params_init(&p);
    assert_int_equal(orch_api_job_params(&p, cfg.iot_instance_id, "JOB2"), 0);
    assert_string_equal(orch_params_get(&p, "IotInstanceId"), "iot-06z00");
    orch_params_cleanup(&p);

    /* A page of a job's tasks (status and the wave gates). */
    orch_params_init(&p);
    assert_int_equal(
        orch_api_task_page_params(&p, cfg.iot_instance_id, "JOB3", 100, 7), 0);
    assert_string_equal(orch_params_get(&p, "JobId"), "JOB3");
    assert_string_equal(orch_params_get(&p, "IotInstanceId"), "iot-06z00");
    assert_string_equal(orch_params_get(&p, "PageSize"), "100");
    assert_string_equal(orch_params_get(&p, "CurrentPage"), "7");
    assert_int_equal(p.n, 4);
    orch_params_cleanup(&p);
    orch_config_cleanup(&cfg);
}

static void finished_codes(void **state)
{
    (void)state;
    assert_true(orch_api_cancel_code_is_done("iot.ota.JobHasFinished"));
    assert_true(orch_api_cancel_code_is_done("iot.ota.JobHasCanceled"));
    assert_false(orch_api_cancel_code_is_done("iot.ota.InvalidJobId"));
    assert_false(orch_api_cancel_code_is_done("Throttling.User"));
    assert_false(orch_api_cancel_code_is_done(NULL));
}

static void task_states(void **state)
{
    (void)state;
    assert_int_equal(orch_task_state_parse("QUEUED"), ORCH_TASK_QUEUED);
    assert_int_equal(orch_task_state_parse("CANCELED"), ORCH_TASK_CANCELED);
    assert_int_equal(orch_task_state_parse("CONFIRM"), ORCH_TASK_CONFIRM);
    assert_int_equal(orch_task_state_parse("queued"), ORCH_TASK_OTHER);
    assert_int_equal(orch_task_state_parse("OTHER"), ORCH_TASK_OTHER);
    assert_int_equal(orch_task_state_parse(NULL), ORCH_TASK_OTHER);
    assert_string_equal(orch_task_state_name(ORCH_TASK_IN_PROGRESS),
                        "IN_PROGRESS");
    assert_string_equal(orch_task_state_name(99), "OTHER");
    assert_true(orch_task_state_pending(ORCH_TASK_NOTIFIED));
    assert_true(orch_task_state_pending(ORCH_TASK_CONFIRM));
    assert_false(orch_task_state_pending(ORCH_TASK_FAILED));
    assert_false(orch_task_state_pending(ORCH_TASK_OTHER));
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(test_specific_chunk_params),
    cmocka_unit_test(test_full_chunk_numbering),
    cmocka_unit_test(test_all_and_gray_params),
    cmocka_unit_test(test_job_tag),
    cmocka_unit_test(test_query_params),
    cmocka_unit_test(test_decode_job_list),
    cmocka_unit_test(test_decode_task_list),
    cmocka_unit_test(test_decode_success),
    cmocka_unit_test(test_decode_business_error),
    cmocka_unit_test(test_decode_gateway_errors),
    cmocka_unit_test(test_decode_json_without_success_field),
    cmocka_unit_test(test_decode_html_page),
    cmocka_unit_test(test_decode_truncated_and_odd_json),
    cmocka_unit_test(test_decode_empty_body),
    cmocka_unit_test(test_decode_nul_and_binary_bytes),
    cmocka_unit_test(test_decode_huge_bodies),
    cmocka_unit_test(test_decode_reuse_resets_fields),
    cmocka_unit_test(flags_without_in_progress),
    cmocka_unit_test(flags_with_in_progress_and_job),
    cmocka_unit_test(finished_codes),
    cmocka_unit_test(task_states))
