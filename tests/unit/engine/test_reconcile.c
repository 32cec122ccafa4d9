/* test_reconcile.c - the reconciliation decisions: each step's query, each
 * answer's verdict, probe order, paging limits, tag match and task
 * confirmation, the candidate time window, the ALL/GRAY path through
 * ListOTAJobByFirmware and the failure counter. No network, no clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "orch/cloud/api.h"
#include "orch/base/buf.h"
#include "orch/model/config.h"
#include "orch/base/err.h"
#include "orch/cloud/params.h"
#include "orch/engine/reconcile.h"
#include "orch/engine/retry.h"
#include "orch/base/timeparse.h"

#define FIRST_ATTEMPT "2025-01-02T03:04:05.000Z"
#define RECENT "2025-01-02T03:10:00.000Z"
#define EDGE "2025-01-02T02:59:05.000Z"        /* first attempt - margin */
#define JUST_BEFORE "2025-01-02T02:59:04.999Z" /* 1 ms before EDGE */
#define OLD "2020-01-01T00:00:00.000Z"
#define TAG "run7.3"

/* One SimpleOTAJobInfo of an answer; utc or tag NULL leaves it out. */
struct job {
    const char *id;
    const char *utc;
    const char *tag;
};

struct fixture {
    struct orch_params cp;  /* the item's Create parameters */
    struct orch_params q;   /* the last query's parameters */
    struct orch_response r; /* the last answer */
    struct orch_reconcile rc;
    int64_t since; /* the first attempt's wall time */
    char detail[800];
};

static int64_t ms_of(const char *iso)
{
    struct orch_diag diag;
    int64_t ms = 0;

    assert_int_equal(orch_time_parse(iso, &ms, &diag), 0);
    return ms;
}

static int setup(void **state)
{
    static struct fixture f;

    memset(&f, 0, sizeof(f));
    orch_params_init(&f.cp);
    orch_params_init(&f.q);
    orch_response_init(&f.r);
    orch_reconcile_init(&f.rc);
    f.since = ms_of(FIRST_ATTEMPT);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    orch_params_cleanup(&f->cp);
    orch_params_cleanup(&f->q);
    orch_response_cleanup(&f->r);
    orch_reconcile_cleanup(&f->rc);
    return 0;
}

/* A test's second fixture: the first one cleaned up, a new one set up. */
static struct fixture *fresh(void **state)
{
    teardown(state);
    setup(state);
    return *state;
}

/* The item: Create parameters naming ndev devices dev-000.. (none: a
 * whole-product call), tagged with `tag` unless it is NULL. */
static void item(struct fixture *f, size_t ndev, const char *tag)
{
    assert_int_equal(orch_params_add(&f->cp, "IotInstanceId", "iot-1"), 0);
    assert_int_equal(orch_params_add(&f->cp, "FirmwareId", "fw-1"), 0);
    assert_int_equal(orch_params_add(&f->cp, "ProductKey", "pk-1"), 0);
    assert_int_equal(orch_params_add(&f->cp, "TargetSelection",
                                     ndev > 0 ? "SPECIFIC" : "ALL"),
                     0);
    for (size_t i = 0; i < ndev; i++) {
        char name[48];
        char dev[32];

        snprintf(name, sizeof(name), "TargetDeviceName.%zu", i + 1);
        snprintf(dev, sizeof(dev), "dev-%03zu", i);
        assert_int_equal(orch_params_add(&f->cp, name, dev), 0);
    }
    if (tag != NULL) {
        assert_int_equal(orch_params_add(&f->cp, "Tag.1.Key", ORCH_JOB_TAG_KEY),
                         0);
        assert_int_equal(orch_params_add(&f->cp, "Tag.1.Value", tag), 0);
    }
}

static enum orch_reconcile_verdict begin(struct fixture *f)
{
    return orch_reconcile_begin(&f->rc, &f->cp, f->since, f->detail,
                                sizeof(f->detail));
}

/* Builds the query the state names; returns its parameter `name`. */
static const char *ask(struct fixture *f, const char *name)
{
    orch_params_cleanup(&f->q);
    orch_params_init(&f->q);
    assert_int_equal(orch_reconcile_query(&f->rc, &f->cp, &f->q), 0);
    return orch_params_get(&f->q, name);
}

/* Builds the query the state names and checks that it is `action` with
 * exactly the parameters `want` ("Name=value" each, in order). */
static void expect_query(struct fixture *f, const char *action,
                         const char *const *want, size_t n)
{
    char got[256];

    assert_string_equal(orch_reconcile_action(&f->rc), action);
    (void)ask(f, "");
    assert_int_equal(f->q.n, n);
    for (size_t i = 0; i < n; i++) {
        snprintf(got, sizeof(got), "%s=%s", f->q.v[i].name, f->q.v[i].value);
        assert_string_equal(got, want[i]);
    }
}

static void decode(struct fixture *f, const char *json)
{
    assert_int_equal(orch_api_decode(&f->r, 200, json, strlen(json)), 0);
    assert_true(f->r.success);
}

/* A ListOTAJobByDevice / ListOTAJobByFirmware answer (PageCount left out
 * when 0). */
static void jobs_answer(struct fixture *f, unsigned page_count,
                        const struct job *jobs, size_t n)
{
    struct orch_buf b;

    orch_buf_init(&b);
    orch_buf_puts(&b, "{\"RequestId\":\"q\",\"Success\":true,");
    if (page_count > 0)
        orch_buf_printf(&b, "\"PageCount\":%u,", page_count);
    orch_buf_puts(&b, "\"Data\":{\"SimpleOTAJobInfo\":[");
    for (size_t i = 0; i < n; i++) {
        orch_buf_printf(&b, "%s{\"JobId\":\"%s\"", i ? "," : "", jobs[i].id);
        if (jobs[i].utc != NULL)
            orch_buf_printf(&b, ",\"UtcCreate\":\"%s\"", jobs[i].utc);
        if (jobs[i].tag != NULL)
            orch_buf_printf(&b,
                            ",\"Tags\":{\"OtaTagDTO\":[{\"Key\":\"%s\","
                            "\"Value\":\"%s\"}]}",
                            ORCH_JOB_TAG_KEY, jobs[i].tag);
        orch_buf_puts(&b, "}");
    }
    orch_buf_puts(&b, "]}}");
    decode(f, orch_buf_str(&b));
    orch_buf_cleanup(&b);
}

/* A ListOTATaskByJob answer: n tasks, device devs[i] of job jobs[i]. */
static void tasks_answer(struct fixture *f, const char *const *devs,
                         const char *const *jobs, size_t n)
{
    struct orch_buf b;

    orch_buf_init(&b);
    orch_buf_puts(&b, "{\"RequestId\":\"q\",\"Success\":true,"
                      "\"Data\":{\"SimpleOTATaskInfo\":[");
    for (size_t i = 0; i < n; i++)
        orch_buf_printf(&b,
                        "%s{\"TaskId\":\"t%zu\",\"DeviceName\":\"%s\","
                        "\"JobId\":\"%s\",\"TaskStatus\":\"QUEUED\"}",
                        i ? "," : "", i, devs[i], jobs[i]);
    orch_buf_puts(&b, "]}}");
    decode(f, orch_buf_str(&b));
    orch_buf_cleanup(&b);
}

static enum orch_reconcile_verdict answer(struct fixture *f)
{
    return orch_reconcile_answer(&f->rc, &f->cp, &f->r, f->detail,
                                 sizeof(f->detail));
}

static enum orch_reconcile_verdict
query_failed(struct fixture *f, enum orch_verdict v, const char *code)
{
    return orch_reconcile_failed(&f->rc, &f->cp, v, code,
                                 "ListOTAJobByDevice: X: went wrong", f->detail,
                                 sizeof(f->detail));
}

static enum orch_reconcile_verdict empty_jobs(struct fixture *f,
                                              unsigned page_count)
{
    jobs_answer(f, page_count, NULL, 0);
    return answer(f);
}

/* ---- begin and the first query ------------------------------------- */

static void test_begin_resets_and_asks_jobs_by_device(void **state)
{
    struct fixture *f = *state;
    json_t *stale = json_object();

    item(f, 3, TAG);
    /* A state left over from an earlier reconciliation of the item. */
    f->rc.step = ORCH_RECONCILE_TASKS_BY_JOB;
    f->rc.probe = 2;
    f->rc.page = 4;
    f->rc.fails = 5;
    f->rc.jobs = stale;
    f->rc.cand = 7;
    snprintf(f->rc.job_id, sizeof(f->rc.job_id), "job-stale");
    assert_int_equal(begin(f), ORCH_RECONCILE_ASK);
    assert_int_equal(f->rc.step, ORCH_RECONCILE_JOBS_BY_DEVICE);
    assert_int_equal(f->rc.probe, 0);
    assert_int_equal(f->rc.page, 1);
    assert_int_equal(f->rc.fails, 0);
    assert_null(f->rc.jobs);
    assert_int_equal(f->rc.cand, 0);
    assert_string_equal(f->rc.job_id, "");
    assert_true(f->rc.since_ms == f->since);
    assert_string_equal(orch_reconcile_action(&f->rc), "ListOTAJobByDevice");
}

static void test_jobs_by_device_query(void **state)
{
    struct fixture *f = *state;

    static const char *const want[] = {
        "IotInstanceId=iot-1", "FirmwareId=fw-1", "ProductKey=pk-1",
        "DeviceName=dev-000",  "PageSize=100",    "CurrentPage=1"};

    item(f, 3, TAG);
    assert_int_equal(begin(f), ORCH_RECONCILE_ASK);
    expect_query(f, "ListOTAJobByDevice", want, 6);
}

static void test_whole_product_asks_jobs_by_firmware(void **state)
{
    struct fixture *f = *state;

    static const char *const want[] = {"IotInstanceId=iot-1", "FirmwareId=fw-1",
                                       "PageSize=200", "CurrentPage=1"};

    item(f, 0, TAG);
    assert_int_equal(begin(f), ORCH_RECONCILE_ASK);
    assert_int_equal(f->rc.step, ORCH_RECONCILE_JOBS_BY_FIRMWARE);
    expect_query(f, "ListOTAJobByFirmware", want, 4);
}

/* No devices and no tag: nothing can tell its job from the others. */
static void test_whole_product_without_tag_is_undecidable(void **state)
{
    struct fixture *f = *state;

    item(f, 0, NULL);
    assert_int_equal(begin(f), ORCH_RECONCILE_UNDECIDABLE);
    assert_non_null(strstr(f->detail, "names no devices"));
    assert_non_null(strstr(f->detail, "no job tag"));
}

/* A Tag.1 under another key is not our tag. */
static void test_foreign_tag_key_is_no_tag(void **state)
{
    struct fixture *f = *state;

    item(f, 0, NULL);
    assert_int_equal(orch_params_add(&f->cp, "Tag.1.Key", "team"), 0);
    assert_int_equal(orch_params_add(&f->cp, "Tag.1.Value", TAG), 0);
    assert_int_equal(begin(f), ORCH_RECONCILE_UNDECIDABLE);
}

/* ---- probe order and paging ---------------------------------------- */

/* Asks every probe device with empty answers; returns the devices asked
 * in order, joined by spaces, and expects NOT_FOUND at the end. */
static void probes(struct fixture *f, size_t ndev, const char *want)
{
    char got[256] = "";
    enum orch_reconcile_verdict v;

    item(f, ndev, TAG);
    assert_int_equal(begin(f), ORCH_RECONCILE_ASK);
    do {
        const char *dev = ask(f, "DeviceName");

        assert_non_null(dev);
        assert_string_equal(orch_params_get(&f->q, "CurrentPage"), "1");
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
                 got[0] ? " " : "", dev);
        v = empty_jobs(f, 1);
    } while (v == ORCH_RECONCILE_ASK);
    assert_int_equal(v, ORCH_RECONCILE_NOT_FOUND);
    assert_string_equal(got, want);
    assert_null(f->rc.jobs);
    /* No probe left: a state no verdict leaves, refused. */
    orch_params_cleanup(&f->q);
    orch_params_init(&f->q);
    assert_int_equal(orch_reconcile_query(&f->rc, &f->cp, &f->q), ORCH_EINVAL);
}

static void test_probe_order(void **state)
{
    struct fixture *f = *state;
    static const struct {
        size_t n;
        const char *want;
    } cases[] = {
        {1, "dev-000"},
        {2, "dev-000 dev-001"},
        {3, "dev-000 dev-001 dev-002"},
        {5, "dev-000 dev-002 dev-004"},
        {200, "dev-000 dev-100 dev-199"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        f = fresh(state);
        probes(f, cases[i].n, cases[i].want);
    }
}

/* At most ORCH_RECONCILE_MAX_PAGES pages of one device, then the next. */
static void test_paging_limit_per_probe(void **state)
{
    struct fixture *f = *state;
    char want[16];

    item(f, 2, TAG);
    assert_int_equal(begin(f), ORCH_RECONCILE_ASK);
    for (unsigned p = 1; p <= ORCH_RECONCILE_MAX_PAGES; p++) {
        snprintf(want, sizeof(want), "%u", p);
        assert_string_equal(ask(f, "DeviceName"), "dev-000");
        assert_string_equal(orch_params_get(&f->q, "CurrentPage"), want);
        assert_int_equal(empty_jobs(f, 9), ORCH_RECONCILE_ASK);
    }
    assert_int_equal(f->rc.probe, 1);
    assert_string_equal(ask(f, "DeviceName"), "dev-001");
    assert_string_equal(orch_params_get(&f->q, "CurrentPage"), "1");
    /* The PageCount bounds it too: two pages, then not found. */
    assert_int_equal(empty_jobs(f, 2), ORCH_RECONCILE_ASK);
    assert_string_equal(ask(f, "CurrentPage"), "2");
    assert_int_equal(empty_jobs(f, 2), ORCH_RECONCILE_NOT_FOUND);
}

/* Without a PageCount, one page per device. */
static void test_no_page_count_is_one_page(void **state)
{
    struct fixture *f = *state;

    item(f, 2, TAG);
    assert_int_equal(begin(f), ORCH_RECONCILE_ASK);
    assert_int_equal(empty_jobs(f, 0), ORCH_RECONCILE_ASK);
    assert_int_equal(f->rc.probe, 1);
    assert_int_equal(f->rc.page, 1);
    assert_int_equal(empty_jobs(f, 0), ORCH_RECONCILE_NOT_FOUND);
}

/* ---- tag match -------------------------------------------------------- */

static void test_tag_match_found(void **state)
{
    struct fixture *f = *state;
    static const struct job jobs[] = {
        {"job-old", OLD, TAG},           /* ours by tag, but too old */
        {"job-other", RECENT, "run9.1"}, /* another run's */
        {"", RECENT, TAG},               /* no JobId */
        {"job-untagged", RECENT, NULL},
        {"job-mine", RECENT, TAG},
    };

    item(f, 3, TAG);
    assert_int_equal(begin(f), ORCH_RECONCILE_ASK);
    jobs_answer(f, 1, jobs, 5);
    assert_int_equal(answer(f), ORCH_RECONCILE_FOUND);
    assert_string_equal(f->rc.job_id, "job-mine");
    assert_string_equal(f->rc.utc_create, RECENT);
    assert_null(f->rc.jobs); /* a final verdict holds nothing */
}

/* Tagged: no task check, other jobs on the device do not matter, and a
 * list without our tag moves on to the next probe. */
static void test_tag_missing_moves_on(void **state)
{
    struct fixture *f = *state;
    static const struct job jobs[] = {
        {"job-other", RECENT, "run9.1"},
        {"job-untagged", RECENT, NULL},
    };

    item(f, 3, TAG);
    assert_int_equal(begin(f), ORCH_RECONCILE_ASK);
    jobs_answer(f, 1, jobs, 2);
    assert_int_equal(answer(f), ORCH_RECONCILE_ASK);
    assert_int_equal(f->rc.step, ORCH_RECONCILE_JOBS_BY_DEVICE);
    assert_int_equal(f->rc.probe, 1);
    assert_string_equal(f->rc.job_id, "");
}

/* ---- candidate time window -------------------------------------------- */

static enum orch_reconcile_verdict tagged_job_at(void **state, const char *utc,
                                                 int64_t since)
{
    struct fixture *f = NULL;
    struct job j = {"job-mine", utc, TAG};

    f = fresh(state);
    f->since = since;
    item(f, 1, TAG);
    assert_int_equal(begin(f), ORCH_RECONCILE_ASK);
    jobs_answer(f, 1, &j, 1);
    return answer(f);
}

static void test_candidate_time_window(void **state)
{
    int64_t since = ms_of(FIRST_ATTEMPT);

    assert_int_equal(since - ms_of(EDGE), ORCH_RECONCILE_SINCE_MARGIN_MS);
    assert_int_equal(tagged_job_at(state, RECENT, since), ORCH_RECONCILE_FOUND);
    assert_int_equal(tagged_job_at(state, EDGE, since), ORCH_RECONCILE_FOUND);
    /* One device, one page: not ours, nothing else to ask. */
    assert_int_equal(tagged_job_at(state, JUST_BEFORE, since),
                     ORCH_RECONCILE_NOT_FOUND);
    assert_int_equal(tagged_job_at(state, OLD, since),
                     ORCH_RECONCILE_NOT_FOUND);
    /* A creation time that cannot be read does not exclude the job. */
    assert_int_equal(tagged_job_at(state, "yesterday-ish", since),
                     ORCH_RECONCILE_FOUND);
    assert_int_equal(tagged_job_at(state, NULL, since), ORCH_RECONCILE_FOUND);
    /* First attempt unknown: every job is a candidate. */
    assert_int_equal(tagged_job_at(state, OLD, 0), ORCH_RECONCILE_FOUND);
    assert_int_equal(tagged_job_at(state, OLD, -1), ORCH_RECONCILE_FOUND);
}

/* ---- untagged: task confirmation --------------------------------------- */

static const struct job untagged_jobs[] = {
    {"job-old", OLD, NULL},                           /* not a candidate */
    {"job-a", RECENT, NULL},      {"", RECENT, NULL}, /* no JobId: skipped */
    {"job-b", JUST_BEFORE, NULL},                     /* not a candidate */
    {"job-c", EDGE, "run9.1"}, /* a tag of another run is no proof */
};

/* Begins an untagged 3-device item and answers its first query with
 * untagged_jobs: the first candidate goes to ListOTATaskByJob. */
static void untagged_first_candidate(struct fixture *f)
{
    static const char *const want[] = {
        "IotInstanceId=iot-1", "JobId=job-a", "DeviceNames.1=dev-000",
        "DeviceNames.2=dev-001", "DeviceNames.3=dev-002"};

    item(f, 3, NULL);
    assert_int_equal(begin(f), ORCH_RECONCILE_ASK);
    jobs_answer(f, 1, untagged_jobs, 5);
    assert_int_equal(answer(f), ORCH_RECONCILE_ASK);
    assert_int_equal(f->rc.step, ORCH_RECONCILE_TASKS_BY_JOB);
    assert_string_equal(f->rc.job_id, "job-a");
    assert_non_null(f->rc.jobs); /* kept for the next candidates */
    expect_query(f, "ListOTATaskByJob", want, 5);
}

static void test_tasks_confirm_candidate(void **state)
{
    struct fixture *f = *state;
    static const char *const devs[] = {"dev-001", "dev-002"};
    static const char *const jobs[] = {"job-a", ""}; /* "": not named */

    untagged_first_candidate(f);
    tasks_answer(f, devs, jobs, 2);
    assert_int_equal(answer(f), ORCH_RECONCILE_FOUND);
    assert_string_equal(f->rc.job_id, "job-a");
    assert_string_equal(f->rc.utc_create, RECENT);
    assert_null(f->rc.jobs);
}

/* A job with a task for a device not asked about, a task of another job,
 * or no task at all is not ours: the next candidate, then the next probe
 * device with the candidate forgotten. */
static void test_tasks_reject_candidate(void **state)
{
    struct fixture *f = *state;
    static const char *const mixed_devs[] = {"dev-000", "dev-777"};
    static const char *const mixed_jobs[] = {"job-a", "job-a"};
    static const char *const other_devs[] = {"dev-000"};
    static const char *const other_jobs[] = {"job-zzz"};

    untagged_first_candidate(f);
    tasks_answer(f, mixed_devs, mixed_jobs, 2);
    assert_int_equal(answer(f), ORCH_RECONCILE_ASK);
    assert_int_equal(f->rc.step, ORCH_RECONCILE_TASKS_BY_JOB);
    assert_string_equal(f->rc.job_id, "job-c");
    assert_string_equal(ask(f, "JobId"), "job-c");
    tasks_answer(f, other_devs, other_jobs, 1);
    assert_int_equal(answer(f), ORCH_RECONCILE_ASK);
    assert_int_equal(f->rc.step, ORCH_RECONCILE_JOBS_BY_DEVICE);
    assert_int_equal(f->rc.probe, 1);
    assert_int_equal(f->rc.page, 1);
    assert_string_equal(f->rc.job_id, "");
    assert_string_equal(f->rc.utc_create, "");
    assert_string_equal(ask(f, "DeviceName"), "dev-001");
}

static void test_tasks_empty_is_not_ours(void **state)
{
    struct fixture *f = *state;

    untagged_first_candidate(f);
    tasks_answer(f, NULL, NULL, 0);
    assert_int_equal(answer(f), ORCH_RECONCILE_ASK);
    assert_string_equal(f->rc.job_id, "job-c");
}

/* The candidates of a job list's page are all tried before its next page
 * (the kept list's PageCount), then the next probe. */
static void test_candidates_then_next_page(void **state)
{
    struct fixture *f = *state;
    struct job j = {"job-a", RECENT, NULL};

    item(f, 1, NULL);
    assert_int_equal(begin(f), ORCH_RECONCILE_ASK);
    jobs_answer(f, 2, &j, 1);
    assert_int_equal(answer(f), ORCH_RECONCILE_ASK);
    assert_int_equal(f->rc.step, ORCH_RECONCILE_TASKS_BY_JOB);
    tasks_answer(f, NULL, NULL, 0);
    assert_int_equal(answer(f), ORCH_RECONCILE_ASK);
    assert_int_equal(f->rc.step, ORCH_RECONCILE_JOBS_BY_DEVICE);
    assert_string_equal(ask(f, "CurrentPage"), "2");
    /* No candidate on page 2 of 2, one device: not found. */
    assert_int_equal(empty_jobs(f, 2), ORCH_RECONCILE_NOT_FOUND);
    assert_null(f->rc.jobs);
}

/* At most ORCH_RECONCILE_TASKS_MAX_NAMES devices, spread over the item. */
static void test_task_sample(void **state)
{
    struct fixture *f = *state;
    struct job j = {"job-a", RECENT, NULL};
    char name[32];
    char want[16];

    item(f, 200, NULL);
    assert_int_equal(begin(f), ORCH_RECONCILE_ASK);
    jobs_answer(f, 1, &j, 1);
    assert_int_equal(answer(f), ORCH_RECONCILE_ASK);
    assert_string_equal(ask(f, "JobId"), "job-a");
    for (size_t i = 0; i < ORCH_RECONCILE_TASKS_MAX_NAMES; i++) {
        snprintf(name, sizeof(name), "DeviceNames.%zu", i + 1);
        snprintf(want, sizeof(want), "dev-%03zu", i * 4);
        assert_string_equal(orch_params_get(&f->q, name), want);
    }
    assert_null(orch_params_get(&f->q, "DeviceNames.51"));
}

/* ---- ALL/GRAY: ListOTAJobByFirmware ----------------------------------- */

static void test_firmware_found_by_tag(void **state)
{
    struct fixture *f = *state;
    static const struct job p1[] = {{"job-x", RECENT, "run9.1"}};
    static const struct job p2[] = {{"job-old", OLD, TAG},
                                    {"job-mine", RECENT, TAG}};

    item(f, 0, TAG);
    assert_int_equal(begin(f), ORCH_RECONCILE_ASK);
    jobs_answer(f, 3, p1, 1);
    assert_int_equal(answer(f), ORCH_RECONCILE_ASK);
    assert_int_equal(f->rc.step, ORCH_RECONCILE_JOBS_BY_FIRMWARE);
    assert_string_equal(ask(f, "CurrentPage"), "2");
    jobs_answer(f, 3, p2, 2);
    assert_int_equal(answer(f), ORCH_RECONCILE_FOUND);
    assert_string_equal(f->rc.job_id, "job-mine");
    assert_string_equal(f->rc.utc_create, RECENT);
}

/* Every page seen without the tag: not found. */
static void test_firmware_every_page_not_found(void **state)
{
    struct fixture *f = *state;

    item(f, 0, TAG);
    assert_int_equal(begin(f), ORCH_RECONCILE_ASK);
    assert_int_equal(empty_jobs(f, 3), ORCH_RECONCILE_ASK);
    assert_int_equal(empty_jobs(f, 3), ORCH_RECONCILE_ASK);
    assert_string_equal(ask(f, "CurrentPage"), "3");
    assert_int_equal(empty_jobs(f, 3), ORCH_RECONCILE_NOT_FOUND);
    assert_int_equal(f->rc.step, ORCH_RECONCILE_JOBS_BY_FIRMWARE);
}

/* Without a PageCount a full page may have a next one; a short one is
 * the last. */
static void test_firmware_without_page_count(void **state)
{
    struct fixture *f = *state;
    struct job full[ORCH_RECONCILE_FIRMWARE_PAGE_SIZE];
    char ids[ORCH_RECONCILE_FIRMWARE_PAGE_SIZE][16];

    for (size_t i = 0; i < ORCH_RECONCILE_FIRMWARE_PAGE_SIZE; i++) {
        snprintf(ids[i], sizeof(ids[i]), "job-%zu", i);
        full[i].id = ids[i];
        full[i].utc = RECENT;
        full[i].tag = "run9.1";
    }
    item(f, 0, TAG);
    assert_int_equal(begin(f), ORCH_RECONCILE_ASK);
    jobs_answer(f, 0, full, ORCH_RECONCILE_FIRMWARE_PAGE_SIZE);
    assert_int_equal(answer(f), ORCH_RECONCILE_ASK);
    assert_string_equal(ask(f, "CurrentPage"), "2");
    jobs_answer(f, 0, full, ORCH_RECONCILE_FIRMWARE_PAGE_SIZE - 1);
    assert_int_equal(answer(f), ORCH_RECONCILE_NOT_FOUND);
}

/* More pages than asked for: the rest could hold it, so undecidable,
 * never not found. Exactly as many: not found. */
static void test_firmware_page_limit(void **state)
{
    struct fixture *f = *state;
    const unsigned max = ORCH_RECONCILE_FIRMWARE_MAX_PAGES;
    char want[16];

    item(f, 0, TAG);
    assert_int_equal(begin(f), ORCH_RECONCILE_ASK);
    for (unsigned p = 1; p < max; p++)
        assert_int_equal(empty_jobs(f, max + 10), ORCH_RECONCILE_ASK);
    snprintf(want, sizeof(want), "%u", max);
    assert_string_equal(ask(f, "CurrentPage"), want);
    assert_int_equal(empty_jobs(f, max + 10), ORCH_RECONCILE_UNDECIDABLE);
    assert_non_null(strstr(f->detail, "more than 50 pages"));
    assert_non_null(strstr(f->detail, "tagged " TAG));
    assert_null(f->rc.jobs);

    f = fresh(state);
    item(f, 0, TAG);
    assert_int_equal(begin(f), ORCH_RECONCILE_ASK);
    for (unsigned p = 1; p < max; p++)
        assert_int_equal(empty_jobs(f, max), ORCH_RECONCILE_ASK);
    assert_int_equal(empty_jobs(f, max), ORCH_RECONCILE_NOT_FOUND);
}

/* ---- failures ----------------------------------------------------------- */

/* Transient failures are asked again until ORCH_RECONCILE_MAX_FAILS in a
 * row; a success in between starts the count again. */
static void test_failure_counter(void **state)
{
    struct fixture *f = *state;
    static const enum orch_verdict transient[] = {
        ORCH_VERDICT_RETRY, ORCH_VERDICT_AMBIGUOUS, ORCH_VERDICT_RESEND_FORM};

    item(f, 3, TAG);
    assert_int_equal(begin(f), ORCH_RECONCILE_ASK);
    for (unsigned i = 1; i < ORCH_RECONCILE_MAX_FAILS; i++) {
        assert_int_equal(
            query_failed(f, transient[i % 3], "ServiceUnavailable"),
            ORCH_RECONCILE_ASK_AGAIN);
        assert_int_equal(f->rc.fails, i);
    }
    /* The same query is asked again: the state did not move. */
    assert_int_equal(f->rc.step, ORCH_RECONCILE_JOBS_BY_DEVICE);
    assert_int_equal(f->rc.probe, 0);
    assert_int_equal(empty_jobs(f, 1), ORCH_RECONCILE_ASK);
    assert_int_equal(f->rc.fails, 0);
    for (unsigned i = 1; i < ORCH_RECONCILE_MAX_FAILS; i++)
        assert_int_equal(query_failed(f, ORCH_VERDICT_RETRY, "Throttling"),
                         ORCH_RECONCILE_ASK_AGAIN);
    assert_int_equal(query_failed(f, ORCH_VERDICT_RETRY, "Throttling"),
                     ORCH_RECONCILE_UNDECIDABLE);
    assert_string_equal(f->detail, "8 queries in a row failed, last "
                                   "ListOTAJobByDevice: X: went wrong");
}

/* A query refused for good, or a FATAL answer: undecidable, the failure
 * as the reason. */
static void test_refused_query_is_undecidable(void **state)
{
    struct fixture *f = *state;

    item(f, 3, TAG);
    assert_int_equal(begin(f), ORCH_RECONCILE_ASK);
    assert_int_equal(query_failed(f, ORCH_VERDICT_FAILED, "Forbidden.RAM"),
                     ORCH_RECONCILE_UNDECIDABLE);
    assert_string_equal(f->detail, "ListOTAJobByDevice: X: went wrong");

    assert_int_equal(begin(f), ORCH_RECONCILE_ASK);
    f->detail[0] = '\0';
    assert_int_equal(query_failed(f, ORCH_VERDICT_FATAL, "InvalidAccessKeyId"),
                     ORCH_RECONCILE_UNDECIDABLE);
    assert_string_equal(f->detail, "ListOTAJobByDevice: X: went wrong");
}

/* ListOTAJobByDevice: a device that does not exist holds no job: the
 * next probe (from any page), and after the last one not found. The same
 * code from another query is a refusal. */
static void test_not_existed_device_is_next_probe(void **state)
{
    struct fixture *f = *state;
    static const char nx[] = "iot.device.NotExistedDevice";

    item(f, 2, NULL);
    assert_int_equal(begin(f), ORCH_RECONCILE_ASK);
    assert_int_equal(empty_jobs(f, 4), ORCH_RECONCILE_ASK);
    assert_int_equal(f->rc.page, 2);
    assert_int_equal(query_failed(f, ORCH_VERDICT_FAILED, nx),
                     ORCH_RECONCILE_ASK);
    assert_int_equal(f->rc.probe, 1);
    assert_int_equal(f->rc.page, 1);
    assert_null(f->rc.jobs);
    assert_int_equal(query_failed(f, ORCH_VERDICT_FAILED, nx),
                     ORCH_RECONCILE_NOT_FOUND);

    /* During a task check. */
    assert_int_equal(begin(f), ORCH_RECONCILE_ASK);
    {
        struct job j = {"job-a", RECENT, NULL};

        jobs_answer(f, 1, &j, 1);
    }
    assert_int_equal(answer(f), ORCH_RECONCILE_ASK);
    assert_int_equal(f->rc.step, ORCH_RECONCILE_TASKS_BY_JOB);
    assert_int_equal(query_failed(f, ORCH_VERDICT_FAILED, nx),
                     ORCH_RECONCILE_UNDECIDABLE);
    assert_null(f->rc.jobs);

    /* For a whole-product call. */
    f = fresh(state);
    item(f, 0, TAG);
    assert_int_equal(begin(f), ORCH_RECONCILE_ASK);
    assert_int_equal(query_failed(f, ORCH_VERDICT_FAILED, nx),
                     ORCH_RECONCILE_UNDECIDABLE);
}

static void test_cleanup_is_null_safe(void **state)
{
    struct orch_reconcile rc;

    (void)state;
    orch_reconcile_cleanup(NULL);
    orch_reconcile_init(&rc);
    assert_null(rc.jobs);
    assert_int_equal(rc.step, ORCH_RECONCILE_JOBS_BY_DEVICE);
    orch_reconcile_cleanup(&rc);
    orch_reconcile_cleanup(&rc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_begin_resets_and_asks_jobs_by_device),
        T(test_jobs_by_device_query),
        T(test_whole_product_asks_jobs_by_firmware),
        T(test_whole_product_without_tag_is_undecidable),
        T(test_foreign_tag_key_is_no_tag),
        T(test_probe_order),
        T(test_paging_limit_per_probe),
        T(test_no_page_count_is_one_page),
        T(test_tag_match_found),
        T(test_tag_missing_moves_on),
        T(test_candidate_time_window),
        T(test_tasks_confirm_candidate),
        T(test_tasks_reject_candidate),
        T(test_tasks_empty_is_not_ours),
        T(test_candidates_then_next_page),
        T(test_task_sample),
        T(test_firmware_found_by_tag),
        T(test_firmware_every_page_not_found),
        T(test_firmware_without_page_count),
        T(test_firmware_page_limit),
        T(test_failure_counter),
        T(test_refused_query_is_undecidable),
        T(test_not_existed_device_is_next_probe),
        T(test_cleanup_is_null_safe),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
