/* test_dispatch.c - the dispatcher against a scripted libmicrohttpd server
 * on a free loopback port, started inside the test (curl's sws idea). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <pthread.h>

#include "orch/cloud/api.h"
#include "orch/base/buf.h"
#include "orch/model/config.h"
#include "orch/cloud/credentials.h"
#include "orch/cloud/credlive.h"
#include "orch/cloud/credsource.h"
#include "orch/engine/dispatch.h"
#include "orch/engine/pacer.h"
#include "orch/engine/engine_opts.h"
#include "orch/base/err.h"
#include "orch/cloud/params.h"
#include "torture.h"

#define MAX_ITEMS 64

enum script {
    SCRIPT_OK,        /* every call succeeds */
    SCRIPT_503_TWICE, /* item 0: two 503 ServiceUnavailable, then OK */
    SCRIPT_THROTTLE,  /* item 1: one Throttling.User (400), then OK */
    SCRIPT_BAD_KEY,   /* every call: 404 InvalidAccessKeyId.NotFound */
    SCRIPT_BUSINESS,  /* item 2: 200 Success:false, a device error */
    SCRIPT_414,       /* parameters in the query: 414 */
    SCRIPT_HANG_UP,   /* item 3: connection closed without an answer */
    SCRIPT_STREAK,    /* even items: iot.ota.FirmwareNotVerified */
    SCRIPT_INTERNAL,  /* item 0: 500 InternalError */
    SCRIPT_GARBAGE,   /* item 0: HTTP 200 with a truncated body */
    SCRIPT_LOSE,      /* item 0, first Create: job made, answer lost */
    SCRIPT_500_ONCE,  /* item 0, first Create: 500, nothing made */
    SCRIPT_QUERY_503, /* item 0, first Create: 500; every query: 503 */
    SCRIPT_HOLD,      /* every Create: job made, answer held until the
                         server stops; the hold_at-th arrival raises
                         *hold_irq to 2 (a second Ctrl-C) */
    SCRIPT_THROTTLE_HINT, /* item 1: one Throttling.User with
                            x-ratelimit-user-api TimeLeft:300, then OK */
    SCRIPT_STALE_TOKEN /* a key id "STS.stale*": 400
                          InvalidSecurityToken.Expired; others OK */
};

struct server {
    struct MHD_Daemon *mhd;
    unsigned port;
    pthread_mutex_t lock;
    enum script script;
    unsigned hits[MAX_ITEMS];     /* requests per item */
    int64_t arrival_ms[MAX_ITEMS][4]; /* monotonic, of the first 4 hits */
    unsigned in_query[MAX_ITEMS]; /* ... with parameters in the query */
    unsigned total;
    unsigned bad_signature_headers; /* V3 requests lacking Authorization */
    /* Jobs the server holds, one per item at most. */
    bool job[MAX_ITEMS];
    char job_tag[MAX_ITEMS][64];
    int64_t job_ms[MAX_ITEMS];
    bool skip_first_device; /* ListOTAJobByDevice: first device has none */
    /* ListOTAJobByFirmware (whole-product calls): jobs of other runs
     * listed before the items' jobs, and the queries that came */
    unsigned fw_decoys;
    unsigned fw_queries;
    unsigned first_fw_query_seq, last_fw_query_seq; /* 0 = none */
    /* Reconciliation queries */
    unsigned job_queries, task_queries;
    unsigned queries_of[MAX_ITEMS];
    unsigned seq;                        /* arrivals, all kinds */
    unsigned first_query_seq[MAX_ITEMS]; /* 0 = none */
    unsigned first_create_seq[MAX_ITEMS];
    /* Journal order: attempts announced by before_send and committed by
     * sync (written by the dispatcher's thread under `lock`). */
    unsigned announced[MAX_ITEMS];
    unsigned synced[MAX_ITEMS];
    unsigned unsynced_arrivals; /* Creates that arrived before their sync */
    /* SCRIPT_HOLD */
    unsigned hold_at;
    volatile sig_atomic_t *hold_irq;
    volatile bool release;
};

struct result {
    bool done;
    unsigned calls; /* done() calls for this item */
    enum orch_item_status status;
    unsigned attempts;
    char code[128];
    char message[512];
    char job_id[128];
    char utc_create[64];
    char resp_job_id[128];
    char request_id[128]; /* of the answer delivered, "" none */
    bool form_fallback;
    bool recovered;
};

struct fixture {
    struct server srv;
    struct orch_config cfg;
    struct orch_credentials cred;
    struct result res[MAX_ITEMS];
    size_t nitems;
    volatile sig_atomic_t interrupt;
    int interrupt_after; /* set *interrupt = 1 after this many done() */
    unsigned ndone;
    unsigned progress_calls;
    struct orch_dispatch_stats st;
    /* exactly-once knobs and records */
    bool idempotent;
    bool tag;             /* Create carries Tag.1.* */
    unsigned ndev;        /* devices per item (default 1) */
    bool whole;           /* Create names no devices (TargetSelection
                             ALL): the server knows the item by its tag */
    uint64_t interrupted; /* bit i: item i left by an earlier run */
    int64_t since_ms;     /* its first attempt's wall time */
    int sync_fails;       /* sync() returns nonzero */
    unsigned syncs, before_sends, notes, note_failures;
};

/* --- the scripted server ------------------------------------------------ */

struct req_ctx {
    struct orch_buf body;
};

static int item_of(const char *dev)
{
    int n = -1;

    if (dev == NULL || sscanf(dev, "dev-%d", &n) != 1 || n < 0 ||
        n >= MAX_ITEMS)
        return -1;
    return n;
}

/* The item of a Create that names no devices: its tag "run1.<item+1>",
 * item 0 when untagged. */
static int item_of_tag(const char *tag)
{
    int n = 0;

    if (tag == NULL)
        return 0;
    if (sscanf(tag, "run1.%d", &n) != 1 || n < 1 || n > MAX_ITEMS)
        return -1;
    return n - 1;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status,
                             const char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    MHD_add_response_header(r, "Content-Type", "application/json");
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* reply() with one more header. */
static enum MHD_Result reply_with(struct MHD_Connection *conn,
                                  unsigned status, const char *body,
                                  const char *hname, const char *hvalue)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, hname, hvalue);
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void iso_utc(int64_t ms, char out[32])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;

    char tmp[96];

    gmtime_r(&secs, &tm);
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    snprintf(out, 32, "%.31s", tmp);
}

static int64_t now_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void make_job(struct server *s, int item, const char *tag)
{
    pthread_mutex_lock(&s->lock);
    s->job[item] = true;
    s->job_ms[item] = now_wall_ms();
    snprintf(s->job_tag[item], sizeof(s->job_tag[item]), "%s", tag);
    pthread_mutex_unlock(&s->lock);
}

/* Appends one SimpleOTAJobInfo to buf. */
static void job_entry(struct orch_buf *b, bool comma, const char *id,
                      int64_t ms, const char *tag)
{
    char utc[32];
    char e[512];

    iso_utc(ms, utc);
    snprintf(e, sizeof(e),
             "%s{\"JobId\":\"%s\",\"JobStatus\":\"IN_PROGRESS\","
             "\"UtcCreate\":\"%s\",\"Tags\":{\"OtaTagDTO\":["
             "{\"Key\":\"" ORCH_JOB_TAG_KEY "\",\"Value\":\"%s\"}]}}",
             comma ? "," : "", id, utc, tag);
    orch_buf_append(b, e, strlen(e));
}

/* ListOTAJobByDevice and ListOTATaskByJob, as the API answers them. Every
 * device holds two decoys: a job from 2020 and a recent job of another
 * run (whose tasks are not the item's). */
static enum MHD_Result query(struct server *s, struct MHD_Connection *conn,
                             const char *action)
{
    bool jobs = strcmp(action, "ListOTAJobByDevice") == 0;
    const char *dev = MHD_lookup_connection_value(
        conn, MHD_GET_ARGUMENT_KIND, jobs ? "DeviceName" : "DeviceNames.1");
    const char *job_id = MHD_lookup_connection_value(
        conn, MHD_GET_ARGUMENT_KIND, "JobId");
    int item = item_of(dev);
    struct orch_buf b;
    char own[32];
    char tag[64];
    bool has = false;
    int64_t ms = 0;
    enum MHD_Result ret;

    pthread_mutex_lock(&s->lock);
    s->seq++;
    if (jobs)
        s->job_queries++;
    else
        s->task_queries++;
    if (item >= 0) {
        s->queries_of[item]++;
        if (s->first_query_seq[item] == 0)
            s->first_query_seq[item] = s->seq;
        has = s->job[item];
        ms = s->job_ms[item];
        snprintf(tag, sizeof(tag), "%s", s->job_tag[item]);
    }
    pthread_mutex_unlock(&s->lock);
    if (item < 0)
        return reply(conn, 400, "{\"Code\":\"MissingDevice\"}");
    if (s->script == SCRIPT_QUERY_503)
        return reply(conn, 503,
                     "{\"RequestId\":\"q\",\"Code\":\"ServiceUnavailable\","
                     "\"Message\":\"try later\"}");
    snprintf(own, sizeof(own), "job-%d", item);
    orch_buf_init(&b);
    if (jobs) {
        /* A first device already on the version has no task. */
        if (s->skip_first_device && strchr(dev + 4, '-') == NULL)
            has = false;
        orch_buf_puts(&b, "{\"RequestId\":\"q\",\"Success\":true,"
                                "\"PageCount\":1,\"Data\":"
                                "{\"SimpleOTAJobInfo\":[");
        job_entry(&b, false, "job-old", 1577836800000LL, "run0.9");
        job_entry(&b, true, "job-other", now_wall_ms(), "other.1");
        if (has)
            job_entry(&b, true, own, ms, tag);
        orch_buf_puts(&b, "]}}");
    } else {
        orch_buf_puts(&b, "{\"RequestId\":\"q\",\"Success\":true,"
                                "\"Data\":{\"SimpleOTATaskInfo\":[");
        if (has && job_id != NULL && strcmp(job_id, own) == 0) {
            char e[256];

            snprintf(e, sizeof(e),
                     "{\"TaskId\":\"t-%d\",\"DeviceName\":\"%s\","
                     "\"JobId\":\"%s\",\"TaskStatus\":\"QUEUED\"}",
                     item, dev, own);
            orch_buf_puts(&b, e);
        }
        orch_buf_puts(&b, "]}}");
    }
    ret = reply(conn, 200, orch_buf_str(&b));
    orch_buf_cleanup(&b);
    return ret;
}

/* A query parameter as an unsigned number (0 when absent or bad). */
static unsigned arg_num(struct MHD_Connection *conn, const char *name)
{
    const char *v =
        MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
    unsigned n = 0;

    return v != NULL && sscanf(v, "%u", &n) == 1 ? n : 0;
}

/* ListOTAJobByFirmware, oldest first, in pages of PageSize: fw_decoys
 * jobs of other runs from 2020, a recent job of another run, then the
 * items' jobs. */
static enum MHD_Result firmware_jobs(struct server *s,
                                     struct MHD_Connection *conn)
{
    unsigned size = arg_num(conn, "PageSize");
    unsigned page = arg_num(conn, "CurrentPage");
    int own[MAX_ITEMS];
    int64_t own_ms[MAX_ITEMS];
    char own_tag[MAX_ITEMS][64];
    size_t nown = 0, total = 0, decoys = 0;
    struct orch_buf b;
    char head[160];
    enum MHD_Result ret;

    pthread_mutex_lock(&s->lock);
    s->seq++;
    s->fw_queries++;
    if (s->first_fw_query_seq == 0)
        s->first_fw_query_seq = s->seq;
    s->last_fw_query_seq = s->seq;
    decoys = s->fw_decoys;
    for (int i = 0; i < MAX_ITEMS; i++) {
        if (!s->job[i])
            continue;
        own[nown] = i;
        own_ms[nown] = s->job_ms[i];
        snprintf(own_tag[nown], sizeof(own_tag[nown]), "%s", s->job_tag[i]);
        nown++;
    }
    pthread_mutex_unlock(&s->lock);
    if (s->script == SCRIPT_QUERY_503)
        return reply(conn, 503,
                     "{\"RequestId\":\"q\",\"Code\":\"ServiceUnavailable\","
                     "\"Message\":\"try later\"}");
    if (size == 0 || size > 200 || page == 0)
        return reply(conn, 400, "{\"Code\":\"InvalidPageParams\"}");
    total = decoys + 1 + nown;
    orch_buf_init(&b);
    snprintf(head, sizeof(head),
             "{\"RequestId\":\"q\",\"Success\":true,\"PageCount\":%zu,"
             "\"Data\":{\"SimpleOTAJobInfo\":[",
             (total + size - 1) / size);
    orch_buf_puts(&b, head);
    for (size_t i = (size_t)(page - 1) * size;
         i < total && i < (size_t)page * size; i++) {
        bool comma = i > (size_t)(page - 1) * size;
        char id[48], tag[64];

        if (i < decoys) {
            snprintf(id, sizeof(id), "job-old-%zu", i);
            snprintf(tag, sizeof(tag), "run0.%zu", i + 1);
            job_entry(&b, comma, id, 1577836800000LL, tag);
        } else if (i == decoys) {
            job_entry(&b, comma, "job-other", now_wall_ms(), "other.1");
        } else {
            size_t k = i - decoys - 1;

            snprintf(id, sizeof(id), "job-%d", own[k]);
            job_entry(&b, comma, id, own_ms[k], own_tag[k]);
        }
    }
    orch_buf_puts(&b, "]}}");
    ret = reply(conn, 200, orch_buf_str(&b));
    orch_buf_cleanup(&b);
    return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn,
                               const char *url, const char *method,
                               const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    struct server *s = cls;
    struct req_ctx *rc = *con_cls;
    const char *dev = NULL;
    const char *action = NULL;
    const char *tag = NULL;
    struct orch_params form;
    int item = -1;
    unsigned hit = 0;
    bool query_style = false;
    bool whole = false;
    char ok[256];
    char tagbuf[64];

    (void)url;
    (void)method;
    (void)version;
    if (rc == NULL) {
        rc = calloc(1, sizeof(*rc));
        if (rc == NULL)
            return MHD_NO;
        orch_buf_init(&rc->body);
        *con_cls = rc;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        orch_buf_append(&rc->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    action = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                         "x-acs-action");
    if (action != NULL && strcmp(action, "ListOTAJobByFirmware") == 0)
        return firmware_jobs(s, conn);
    if (action != NULL && strncmp(action, "List", 4) == 0)
        return query(s, conn, action);
    orch_params_init(&form);
    dev = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
                                      "TargetDeviceName.1");
    tag = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
                                      "Tag.1.Value");
    query_style = dev != NULL;
    if (dev == NULL && rc->body.len > 0 &&
        orch_params_parse(&form, rc->body.data, rc->body.len) == 0) {
        dev = orch_params_get(&form, "TargetDeviceName.1");
        tag = orch_params_get(&form, "Tag.1.Value");
    }
    /* A whole-product Create (no devices; always query style here). */
    whole = dev == NULL &&
            MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
                                        "SrcVersion.1") != NULL;
    item = whole ? item_of_tag(tag) : item_of(dev);

    pthread_mutex_lock(&s->lock);
    s->total++;
    s->seq++;
    if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization") ==
        NULL)
        s->bad_signature_headers++;
    if (item >= 0) {
        hit = ++s->hits[item];
        if (hit <= 4)
            s->arrival_ms[item][hit - 1] = mono_ms();
        s->in_query[item] += query_style;
        if (s->first_create_seq[item] == 0)
            s->first_create_seq[item] = s->seq;
        if (s->synced[item] < hit)
            s->unsynced_arrivals++;
    }
    pthread_mutex_unlock(&s->lock);
    if (item < 0) {
        orch_params_cleanup(&form);
        return reply(conn, 400, "{\"Code\":\"MissingDevice\"}");
    }

    /* Refusals that happen before anything is made. */
    if ((s->script == SCRIPT_500_ONCE || s->script == SCRIPT_QUERY_503) &&
        item == 0 && hit == 1) {
        orch_params_cleanup(&form);
        return reply(conn, 500,
                     "{\"RequestId\":\"x\",\"Code\":\"InternalError\","
                     "\"Message\":\"internal\"}");
    }
    snprintf(tagbuf, sizeof(tagbuf), "%s", tag != NULL ? tag : "");
    orch_params_cleanup(&form);
    if (s->script == SCRIPT_HOLD) {
        unsigned arrived = 0;

        /* Processed at once (as the real API may), answered never: the
         * client must give up on it by itself. */
        make_job(s, item, tagbuf);
        pthread_mutex_lock(&s->lock);
        arrived = s->total;
        pthread_mutex_unlock(&s->lock);
        if (arrived == s->hold_at && s->hold_irq != NULL)
            *s->hold_irq = 2;
        for (int waited = 0; !s->release && waited < 10000; waited += 2) {
            struct timespec ts = {0, 2000000L};

            nanosleep(&ts, NULL);
        }
        return MHD_NO;
    }
    if (s->script == SCRIPT_LOSE && item == 0 && hit == 1) {
        make_job(s, item, tagbuf);
        return MHD_NO; /* made, then the answer is lost */
    }

    snprintf(ok, sizeof(ok),
             "{\"RequestId\":\"RQ-%d-%u\",\"Success\":true,\"Data\":"
             "{\"JobId\":\"job-%d\",\"UtcCreate\":\"2025-01-02T03:04:05.000Z"
             "\"}}",
             item, hit, item);
    switch (s->script) {
    case SCRIPT_503_TWICE:
        if (item == 0 && hit <= 2)
            return reply(conn, 503,
                         "{\"RequestId\":\"x\",\"Code\":\"ServiceUnavailable\","
                         "\"Message\":\"The request has failed due to a "
                         "temporary failure of the server.\"}");
        break;
    case SCRIPT_THROTTLE:
        if (item == 1 && hit == 1)
            return reply(conn, 400,
                         "{\"RequestId\":\"x\",\"Code\":\"Throttling.User\","
                         "\"Message\":\"Request was denied due to user flow "
                         "control.\"}");
        break;
    case SCRIPT_THROTTLE_HINT:
        if (item == 1 && hit == 1)
            return reply_with(conn, 400,
                              "{\"RequestId\":\"x\",\"Code\":"
                              "\"Throttling.User\",\"Message\":\"Request "
                              "was denied due to user flow control.\"}",
                              "x-ratelimit-user-api",
                              "Limit:20,Remain:0,TimeLeft:300,Reset:0");
        break;
    case SCRIPT_STALE_TOKEN: {
        const char *kid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                      "x-acs-accesskey-id");

        if (kid == NULL || strncmp(kid, "STS.stale", 9) == 0)
            return reply(conn, 400,
                         "{\"RequestId\":\"x\",\"Code\":"
                         "\"InvalidSecurityToken.Expired\",\"Message\":"
                         "\"Specified SecurityToken is expired.\"}");
        break;
    }
    case SCRIPT_BAD_KEY:
        return reply(conn, 404,
                     "{\"RequestId\":\"x\",\"Code\":"
                     "\"InvalidAccessKeyId.NotFound\",\"Message\":"
                     "\"Specified access key is not found.\"}");
    case SCRIPT_BUSINESS:
        if (item == 2)
            return reply(conn, 200,
                         "{\"RequestId\":\"x\",\"Success\":false,\"Code\":"
                         "\"iot.device.NotExistedDevice\",\"ErrorMessage\":"
                         "\"The device does not exist.\"}");
        break;
    case SCRIPT_414:
        if (query_style)
            return reply(conn, 414, "<html>URI Too Long</html>");
        break;
    case SCRIPT_HANG_UP:
        if (item == 3)
            return MHD_NO; /* close without an answer */
        break;
    case SCRIPT_STREAK:
        if (item % 2 == 0)
            return reply(conn, 200,
                         "{\"RequestId\":\"x\",\"Success\":false,\"Code\":"
                         "\"iot.ota.FirmwareNotVerified\",\"ErrorMessage\":"
                         "\"not verified\"}");
        break;
    case SCRIPT_INTERNAL:
        if (item == 0)
            return reply(conn, 500,
                         "{\"RequestId\":\"x\",\"Code\":\"InternalError\","
                         "\"Message\":\"internal\"}");
        break;
    case SCRIPT_GARBAGE:
        if (item == 0)
            return reply(conn, 200, "{\"RequestId\":\"x\",\"Succ");
        break;
    case SCRIPT_OK:
    default:
        break;
    }
    make_job(s, item, tagbuf); /* processed: the job exists from here on */
    return reply(conn, 200, ok);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct req_ctx *rc = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (rc != NULL) {
        orch_buf_cleanup(&rc->body);
        free(rc);
        *con_cls = NULL;
    }
}

static int server_start(struct server *s, enum script script)
{
    const union MHD_DaemonInfo *info = NULL;

    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    s->script = script;
    s->mhd = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
        NULL, NULL, handler, s, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
        MHD_OPTION_SOCK_ADDR, NULL, MHD_OPTION_END);
    if (s->mhd == NULL)
        return -1;
    info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL)
        return -1;
    s->port = info->port;
    return 0;
}

static void server_stop(struct server *s)
{
    s->release = true; /* held requests end (MHD joins their threads) */
    if (s->mhd != NULL)
        MHD_stop_daemon(s->mhd);
    pthread_mutex_destroy(&s->lock);
}

/* --- dispatcher callbacks ------------------------------------------------ */

static int build(void *ud, size_t item, struct orch_params *out)
{
    struct fixture *f = ud;
    char dev[32];
    char name[32];
    int rc = 0;
    unsigned ndev = f->ndev > 0 ? f->ndev : 1;

    snprintf(dev, sizeof(dev), "dev-%04zu", item);
    rc = orch_params_add(out, "FirmwareId", "fw-1");
    if (rc == 0)
        rc = orch_params_add(out, "ProductKey", "pk-1");
    if (rc == 0)
        rc = orch_params_add(out, "TargetSelection",
                             f->whole ? "ALL" : "SPECIFIC");
    if (rc == 0 && f->whole)
        rc = orch_params_add(out, "SrcVersion.1", "1.0.0");
    if (rc == 0 && f->tag) {
        rc = orch_params_add(out, "Tag.1.Key", ORCH_JOB_TAG_KEY);
        if (rc == 0)
            rc = orch_params_addf(out, "Tag.1.Value", "run1.%zu", item + 1);
    }
    if (rc == 0 && f->whole)
        return rc; /* the whole product: no device names */
    if (rc == 0)
        rc = orch_params_add(out, "TargetDeviceName.1", dev);
    for (unsigned k = 2; rc == 0 && k <= ndev; k++) {
        snprintf(name, sizeof(name), "TargetDeviceName.%u", k);
        rc = orch_params_addf(out, name, "dev-%04zu-%u", item, k);
    }
    return rc;
}

static void before_send(void *ud, size_t item, unsigned attempt,
                        int64_t wall)
{
    struct fixture *f = ud;

    assert_true(wall > 0);
    pthread_mutex_lock(&f->srv.lock);
    f->before_sends++;
    /* Attempts are announced in order, one at a time. */
    assert_int_equal(attempt, f->srv.announced[item] + 1);
    f->srv.announced[item] = attempt;
    pthread_mutex_unlock(&f->srv.lock);
}

static int sync_journal(void *ud)
{
    struct fixture *f = ud;

    f->syncs++;
    if (f->sync_fails)
        return -1;
    pthread_mutex_lock(&f->srv.lock);
    for (size_t i = 0; i < MAX_ITEMS; i++)
        f->srv.synced[i] = f->srv.announced[i];
    pthread_mutex_unlock(&f->srv.lock);
    return 0;
}

static bool interrupted(void *ud, size_t item, int64_t *since_ms)
{
    struct fixture *f = ud;

    if (item >= 64 || !(f->interrupted & (1ULL << item)))
        return false;
    *since_ms = f->since_ms;
    return true;
}

static void reconcile_note(void *ud, size_t item, const char *action,
                           const char *code)
{
    struct fixture *f = ud;

    (void)item;
    if (f->whole)
        assert_string_equal(action, "ListOTAJobByFirmware");
    else
        assert_true(strcmp(action, "ListOTAJobByDevice") == 0 ||
                    strcmp(action, "ListOTATaskByJob") == 0);
    f->notes++;
    if (code[0] != '\0')
        f->note_failures++;
}

static uint32_t group_by_parity(void *ud, size_t item)
{
    (void)ud;
    return (uint32_t)(item % 2);
}

static void done(void *ud, size_t item, const struct orch_item_result *res)
{
    struct fixture *f = ud;
    struct result *r = &f->res[item];

    r->done = true;
    r->calls++;
    r->status = res->status;
    r->attempts = res->attempts;
    r->form_fallback = res->form_fallback;
    snprintf(r->code, sizeof(r->code), "%s",
             res->error_code != NULL ? res->error_code : "");
    snprintf(r->message, sizeof(r->message), "%s",
             res->error_message != NULL ? res->error_message : "");
    r->recovered = res->recovered;
    snprintf(r->request_id, sizeof(r->request_id), "%s",
             res->resp ? res->resp->request_id : "");
    if (res->status == ORCH_ITEM_CREATED) {
        assert_null(res->error_code);
        assert_non_null(res->resp);
        assert_non_null(res->job_id);
        assert_non_null(res->utc_create);
        snprintf(r->job_id, sizeof(r->job_id), "%s", res->job_id);
        snprintf(r->utc_create, sizeof(r->utc_create), "%s",
                 res->utc_create);
        snprintf(r->resp_job_id, sizeof(r->resp_job_id), "%s",
                 res->resp->job_id);
    } else {
        assert_null(res->job_id);
        assert_false(res->recovered);
    }
    f->ndone++;
    if (f->interrupt_after > 0 && f->ndone == (unsigned)f->interrupt_after)
        f->interrupt = 1;
}

static void progress(void *ud, size_t finished, size_t total)
{
    struct fixture *f = ud;

    assert_true(finished <= total);
    f->progress_calls++;
}

/* --- fixture ------------------------------------------------------------- */

static struct fixture *fixture_new(enum script script, size_t nitems)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char url[64];

    assert_non_null(f);
    assert_int_equal(server_start(&f->srv, script), 0);
    orch_config_init(&f->cfg);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", f->srv.port);
    f->cfg.endpoint = strdup(url);
    f->cfg.region = strdup("cn-shanghai");
    /* Fast: well above any pacing, in-flight cap from max_in_flight. */
    f->cfg.qps = 5000;
    f->cfg.force_qps = true;
    f->cfg.max_in_flight = 8;
    f->cfg.max_attempts = 4;
    f->cfg.request_timeout_ms = 10000;
    f->cfg.signature_version = 3;
    f->cfg.fatal_streak = 3;
    f->cfg.query_qps = 1000;
    f->cfg.backoff_base_ms = 2; /* retries without real waiting */
    /* credentials.c is another module: fill the struct by hand. */
    f->cred.access_key_id = strdup("LTAI-test-key");
    f->cred.secret.s = strdup("test-secret-never-printed");
    f->cred.secret.len = strlen(f->cred.secret.s);
    f->nitems = nitems;
    return f;
}

static void fixture_free(struct fixture *f)
{
    /* Each test starts with fresh pacing lanes (they are the process's):
     * one test's throttling must not pace the next. */
    orch_pacer_reset();
    server_stop(&f->srv);
    orch_config_cleanup(&f->cfg);
    free(f->cred.access_key_id);
    free(f->cred.secret.s);
    free(f);
}

static int run(struct fixture *f, bool groups)
{
    struct orch_dispatch_ops ops;
    struct orch_engine_opts eo;
    struct orch_diag diag = {{0}};
    int rc = 0;

    memset(&ops, 0, sizeof(ops));
    ops.action = "CreateOTAStaticUpgradeJob";
    ops.nitems = f->nitems;
    ops.build = build;
    ops.group = groups ? group_by_parity : NULL;
    ops.done = done;
    ops.progress = progress;
    ops.before_send = before_send;
    ops.sync = sync_journal;
    ops.interrupted = interrupted;
    ops.reconcile_note = reconcile_note;
    ops.idempotent = f->idempotent;
    ops.ud = f;
    orch_engine_opts_from_config(&eo, &f->cfg);
    rc = orch_dispatch_run(&eo, &f->cred, &ops, &f->interrupt, &f->st, &diag);
    /* done() exactly once per item. */
    for (size_t i = 0; i < f->nitems; i++)
        assert_int_equal(f->res[i].calls, 1);
    assert_int_equal(f->st.created + f->st.failed + f->st.not_sent, f->nitems);
    /* No Create ever reached the server before its attempt was synced. */
    assert_int_equal(f->srv.unsynced_arrivals, 0);
    /* Every Create attempt the server saw was announced first. */
    for (size_t i = 0; i < f->nitems; i++)
        assert_true(f->srv.hits[i] <= f->srv.announced[i]);
    return rc;
}

/* --- tests --------------------------------------------------------------- */

static void test_all_created_once(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_OK, 40);
    char want[32];

    (void)state;
    assert_int_equal(run(f, false), 0);
    for (size_t i = 0; i < f->nitems; i++) {
        assert_int_equal(f->res[i].status, ORCH_ITEM_CREATED);
        assert_int_equal(f->res[i].attempts, 1);
        assert_int_equal(f->srv.hits[i], 1);
        snprintf(want, sizeof(want), "job-%zu", i);
        assert_string_equal(f->res[i].job_id, want);
    }
    assert_int_equal(f->srv.total, 40);
    assert_int_equal(f->srv.bad_signature_headers, 0);
    assert_int_equal(f->st.calls, 40);
    assert_int_equal(f->st.created, 40);
    assert_int_equal(f->st.retries, 0);
    assert_false(f->st.aborted);
    assert_true(f->st.last_end_ms >= f->st.first_start_ms);
    assert_true(f->progress_calls >= 1);
    fixture_free(f);
}

static void test_503_is_retried(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_503_TWICE, 4);

    (void)state;
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->res[0].status, ORCH_ITEM_CREATED);
    assert_int_equal(f->res[0].attempts, 3);
    assert_int_equal(f->srv.hits[0], 3);
    assert_int_equal(f->st.retries, 2);
    assert_int_equal(f->st.calls, 6);
    assert_int_equal(f->st.created, 4);
    fixture_free(f);
}

static void test_503_until_attempts_run_out(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_503_TWICE, 2);

    (void)state;
    f->cfg.max_attempts = 2;
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->res[0].status, ORCH_ITEM_FAILED);
    assert_string_equal(f->res[0].code, "ServiceUnavailable");
    assert_int_equal(f->res[0].attempts, 2);
    assert_int_equal(f->srv.hits[0], 2);
    assert_int_equal(f->res[1].status, ORCH_ITEM_CREATED);
    fixture_free(f);
}

static void test_throttling_is_retried_and_counted(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_THROTTLE, 4);

    (void)state;
    assert_int_equal(run(f, false), 0);
    for (size_t i = 0; i < f->nitems; i++)
        assert_int_equal(f->res[i].status, ORCH_ITEM_CREATED);
    assert_int_equal(f->res[1].attempts, 2);
    assert_int_equal(f->st.throttled, 1);
    assert_int_equal(f->st.retries, 1);
    assert_int_equal(f->srv.hits[1], 2);
    fixture_free(f);
}

/* A throttled answer's retry-after hint (x-ratelimit-user-api
 * TimeLeft:300, in ms) holds the retry back at least that long, although
 * the backoff alone (2 ms base here) would resend at once; the other items
 * are not held. Arrival times are the server's. */
static void test_throttle_hint_delays_the_retry(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_THROTTLE_HINT, 4);
    int64_t waited = 0;

    (void)state;
    assert_int_equal(run(f, false), 0);
    for (size_t i = 0; i < f->nitems; i++)
        assert_int_equal(f->res[i].status, ORCH_ITEM_CREATED);
    assert_int_equal(f->srv.hits[1], 2);
    assert_int_equal(f->st.throttled, 1);
    waited = f->srv.arrival_ms[1][1] - f->srv.arrival_ms[1][0];
    if (waited < 299) /* 1 ms: the two clocks' rounding */
        fail_msg("retry %lld ms after the throttled call, hint 300 ms",
                 (long long)waited);
    assert_true(waited < 5000);
    assert_true(f->srv.arrival_ms[2][0] - f->srv.arrival_ms[1][0] < 299);
    fixture_free(f);
}

static void test_bad_key_stops_the_run(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_BAD_KEY, 50);

    (void)state;
    f->cfg.max_in_flight = 2;
    assert_int_equal(run(f, false), 0);
    assert_true(f->st.aborted);
    assert_non_null(strstr(f->st.abort_reason, "InvalidAccessKeyId.NotFound"));
    assert_string_equal(f->st.abort_code, "InvalidAccessKeyId.NotFound");
    assert_string_equal(f->st.abort_request_id, "x");
    /* The stop reason is one line, without the server's text. */
    assert_null(strstr(f->st.abort_reason, "Specified access key"));
    assert_int_equal(f->st.created, 0);
    /* Each call the server refused was sent: failed, with its code and
     * request id; the others were never sent. */
    assert_true(f->st.failed >= 1);
    assert_int_equal(f->st.failed, f->srv.total);
    assert_int_equal(f->st.failed + f->st.not_sent, 50);
    for (size_t i = 0; i < f->nitems; i++) {
        assert_string_equal(f->res[i].code, "InvalidAccessKeyId.NotFound");
        if (f->srv.hits[i] > 0) {
            assert_int_equal(f->res[i].status, ORCH_ITEM_FAILED);
            assert_string_equal(f->res[i].request_id, "x");
            assert_string_equal(f->res[i].message,
                                "Specified access key is not found.");
        } else {
            assert_int_equal(f->res[i].status, ORCH_ITEM_NOT_SENT);
        }
    }
    /* Stopped at once: only what was in flight went out. */
    assert_true(f->srv.total <= 2);
    assert_true(f->st.calls <= 2);
    fixture_free(f);
}

/* --- credentials that expire (credlive.h) ------------------------------ */

/* The fake STS: every fetch mints "<prefix><n>", valid for `life_ms` from
 * now, or fails while `fail`. */
struct fake_sts {
    const char *prefix;
    int64_t life_ms;
    bool fail;
    int fetches; /* atomically: the refresher thread writes it */
};

static int sts_fetch(void *ud, struct orch_credset *out,
                     struct orch_diag *diag)
{
    struct fake_sts *s = ud;
    int n = __atomic_add_fetch(&s->fetches, 1, __ATOMIC_SEQ_CST);
    char id[64];

    if (s->fail)
        return orch_diag_set(diag, ORCH_EHTTP, "STS unreachable");
    snprintf(id, sizeof(id), "%s%d", s->prefix, n);
    memset(out, 0, sizeof(*out));
    out->cred.access_key_id = strdup(id);
    out->cred.source = strdup("fake STS");
    orch_secret_set(&out->cred.secret, "sts-secret-never-printed");
    orch_secret_set(&out->cred.token, "sts-token-never-printed");
    out->fetched_ms = now_wall_ms();
    out->expires_ms = out->fetched_ms + s->life_ms;
    return 0;
}

/* Gives f's credentials a live holder whose first set is `first_id`,
 * fetched `age_ms` ago and valid for `life_ms` in all. */
static void go_live(struct fixture *f, struct fake_sts *sts,
                    const char *first_id, int64_t age_ms, int64_t life_ms)
{
    struct orch_credlive_opts o;
    struct orch_credset first;

    memset(&first, 0, sizeof(first));
    first.cred.access_key_id = strdup(first_id);
    orch_secret_set(&first.cred.secret, "sts-secret-never-printed");
    orch_secret_set(&first.cred.token, "sts-token-never-printed");
    first.fetched_ms = now_wall_ms() - age_ms;
    first.expires_ms = first.fetched_ms + life_ms;
    memset(&o, 0, sizeof(o));
    o.fetch = sts_fetch;
    o.fetch_ud = sts;
    o.label = "fake STS";
    assert_int_equal(orch_credlive_new(&f->cred.live, &o, &first, NULL), 0);
}

/* Answers that refuse the token as expired: refreshed, sent again,
 * created; not ambiguous, not a failure. */
static void test_refused_token_refreshed_and_resent(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_STALE_TOKEN, 20);
    struct fake_sts sts = {"STS.fresh", 3600000, false, 0};

    (void)state;
    go_live(f, &sts, "STS.stale", 0, 3600000);
    assert_int_equal(run(f, false), 0);
    assert_false(f->st.aborted);
    assert_int_equal(f->st.created, 20);
    assert_int_equal(f->st.reconciled, 0);
    assert_true(f->st.token_resends >= 1);
    assert_true(__atomic_load_n(&sts.fetches, __ATOMIC_SEQ_CST) >= 1);
    for (size_t i = 0; i < f->nitems; i++) {
        assert_int_equal(f->res[i].status, ORCH_ITEM_CREATED);
        assert_true(f->srv.hits[i] <= 1 + 2);
    }
    orch_credlive_free(f->cred.live);
    fixture_free(f);
}

/* A token refused after every refresh: bounded, then the run stops like
 * any FATAL refusal. */
static void test_token_refused_for_good_stops(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_STALE_TOKEN, 10);
    struct fake_sts sts = {"STS.stale-again-", 3600000, false, 0};

    (void)state;
    f->cfg.max_in_flight = 2;
    go_live(f, &sts, "STS.stale", 0, 3600000);
    assert_int_equal(run(f, false), 0);
    assert_true(f->st.aborted);
    assert_string_equal(f->st.abort_code, "InvalidSecurityToken.Expired");
    assert_int_equal(f->st.created, 0);
    for (size_t i = 0; i < f->nitems; i++)
        assert_true(f->srv.hits[i] <= 1 + 2);
    orch_credlive_free(f->cred.live);
    fixture_free(f);
}

/* Credentials inside their margin that cannot be refreshed: nothing is
 * signed with them; the run stops, every item not sent. */
static void test_unusable_credentials_stop_before_sending(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_OK, 6);
    struct fake_sts sts = {"STS.never", 6000, true, 0};

    (void)state;
    /* 6 s credentials fetched 5 s ago: margin 2 s, usable until -1 s. */
    go_live(f, &sts, "STS.old", 5000, 6000);
    assert_int_equal(run(f, false), 0);
    assert_true(f->st.aborted);
    assert_string_equal(f->st.abort_code, "CredentialsExpired");
    assert_non_null(strstr(f->st.abort_reason, "fake STS"));
    assert_non_null(strstr(f->st.abort_reason, "could not be refreshed"));
    assert_null(strstr(f->st.abort_reason, "never-printed"));
    assert_int_equal(f->srv.total, 0);
    assert_int_equal(f->st.not_sent, 6);
    for (size_t i = 0; i < f->nitems; i++) {
        assert_int_equal(f->res[i].status, ORCH_ITEM_NOT_SENT);
        assert_string_equal(f->res[i].code, "CredentialsExpired");
    }
    orch_credlive_free(f->cred.live);
    fixture_free(f);
}

static void test_business_error_not_retried(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_BUSINESS, 5);

    (void)state;
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->res[2].status, ORCH_ITEM_FAILED);
    assert_string_equal(f->res[2].code, "iot.device.NotExistedDevice");
    assert_string_equal(f->res[2].message, "The device does not exist.");
    assert_int_equal(f->res[2].attempts, 1);
    assert_int_equal(f->srv.hits[2], 1);
    assert_int_equal(f->st.failed, 1);
    assert_int_equal(f->st.created, 4);
    assert_false(f->st.aborted);
    fixture_free(f);
}

static void test_414_resends_as_form(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_414, 6);

    (void)state;
    assert_int_equal(run(f, false), 0);
    for (size_t i = 0; i < f->nitems; i++) {
        assert_int_equal(f->res[i].status, ORCH_ITEM_CREATED);
        assert_true(f->res[i].form_fallback);
        assert_int_equal(f->res[i].attempts, 2);
        assert_int_equal(f->srv.hits[i], 2);
        assert_int_equal(f->srv.in_query[i], 1); /* the second in the body */
    }
    assert_int_equal(f->st.form_fallbacks, 6);
    fixture_free(f);
}

/* Item 3's connection always closes without an answer (nothing made):
 * each time reconciliation finds no job, so it is resent, until the
 * attempts run out: failed Ambiguous. libcurl's own silent resend on a
 * reused connection never adds a request: hits == attempts. */
static void test_hang_up_is_reconciled_then_resent(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_HANG_UP, 6);

    (void)state;
    /* Serial on one kept-alive connection: item 3 goes out on a reused
     * connection, where libcurl would silently resend a request that got
     * no answer (its stale-connection retry) unless we stop it. */
    f->cfg.max_in_flight = 1;
    f->cfg.max_attempts = 3;
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->res[3].status, ORCH_ITEM_FAILED);
    assert_string_equal(f->res[3].code, "Ambiguous");
    assert_int_equal(f->res[3].attempts, 3);
    assert_int_equal(f->srv.hits[3], 3);
    assert_int_equal(f->st.reconciled, 3);
    assert_non_null(strstr(f->res[3].message, "no job"));
    for (size_t i = 0; i < f->nitems; i++)
        if (i != 3)
            assert_int_equal(f->res[i].status, ORCH_ITEM_CREATED);
    fixture_free(f);
}

static void test_internal_error_is_reconciled(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_INTERNAL, 2);

    (void)state;
    f->cfg.max_attempts = 2;
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->res[0].status, ORCH_ITEM_FAILED);
    assert_string_equal(f->res[0].code, "Ambiguous");
    assert_non_null(strstr(f->res[0].message, "InternalError"));
    assert_int_equal(f->srv.hits[0], 2);
    assert_int_equal(f->st.reconciled, 2);
    assert_int_equal(f->st.recovered, 0);
    fixture_free(f);
}

static void test_garbled_200_is_reconciled(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_GARBAGE, 2);

    (void)state;
    f->cfg.max_attempts = 1;
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->res[0].status, ORCH_ITEM_FAILED);
    assert_string_equal(f->res[0].code, "Ambiguous");
    assert_int_equal(f->srv.hits[0], 1);
    assert_int_equal(f->st.reconciled, 1);
    assert_true(f->srv.queries_of[0] >= 1);
    assert_int_equal(f->res[1].status, ORCH_ITEM_CREATED);
    fixture_free(f);
}

/* The answer to item 0's Create is lost after the job was made; its tag
 * finds it: created, recovered, one Create only. */
static void test_lost_answer_found_by_tag(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_LOSE, 3);

    (void)state;
    f->tag = true;
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->res[0].status, ORCH_ITEM_CREATED);
    assert_true(f->res[0].recovered);
    assert_string_equal(f->res[0].job_id, "job-0");
    assert_string_equal(f->res[0].resp_job_id, "job-0");
    assert_true(f->res[0].utc_create[0] != '\0');
    assert_int_equal(f->res[0].attempts, 1);
    assert_int_equal(f->srv.hits[0], 1);
    /* The tag decides: no task check. */
    assert_int_equal(f->srv.task_queries, 0);
    assert_int_equal(f->srv.job_queries, 1);
    assert_int_equal(f->st.reconciled, 1);
    assert_int_equal(f->st.recovered, 1);
    assert_int_equal(f->st.queries, 1);
    assert_int_equal(f->notes, 1);
    assert_int_equal(f->note_failures, 0);
    for (size_t i = 1; i < f->nitems; i++) {
        assert_int_equal(f->res[i].status, ORCH_ITEM_CREATED);
        assert_false(f->res[i].recovered);
        assert_string_equal(f->res[i].utc_create,
                            "2025-01-02T03:04:05.000Z");
    }
    fixture_free(f);
}

/* Without a tag: the recent foreign job is checked and refused by
 * ListOTATaskByJob, the 2020 one never asked about, ours confirmed. */
static void test_lost_answer_confirmed_by_tasks(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_LOSE, 2);

    (void)state;
    f->ndev = 120; /* the task check asks about 50 spread devices */
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->res[0].status, ORCH_ITEM_CREATED);
    assert_true(f->res[0].recovered);
    assert_string_equal(f->res[0].job_id, "job-0");
    assert_int_equal(f->srv.hits[0], 1);
    assert_int_equal(f->srv.job_queries, 1);
    assert_int_equal(f->srv.task_queries, 2); /* job-other, then job-0 */
    assert_int_equal(f->st.recovered, 1);
    assert_int_equal(f->res[1].status, ORCH_ITEM_CREATED);
    fixture_free(f);
}

/* The first device is already up to date (no task, no job): the middle
 * device shows the job. */
static void test_reconcile_tries_the_next_device(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_LOSE, 1);

    (void)state;
    f->tag = true;
    f->ndev = 5;
    f->srv.skip_first_device = true;
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->res[0].status, ORCH_ITEM_CREATED);
    assert_true(f->res[0].recovered);
    assert_int_equal(f->srv.hits[0], 1);
    assert_int_equal(f->srv.job_queries, 2);
    fixture_free(f);
}

/* A 500 before anything was made: no job found, resent once, created
 * from the answer. */
static void test_no_job_found_is_resent_once(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_500_ONCE, 2);

    (void)state;
    f->tag = true;
    f->ndev = 3;
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->res[0].status, ORCH_ITEM_CREATED);
    assert_false(f->res[0].recovered);
    assert_string_equal(f->res[0].job_id, "job-0");
    assert_int_equal(f->res[0].attempts, 2);
    assert_int_equal(f->srv.hits[0], 2);
    /* All three probe devices asked before the resend. */
    assert_int_equal(f->srv.job_queries, 3);
    assert_true(f->srv.first_query_seq[0] < f->srv.seq);
    assert_int_equal(f->st.reconciled, 1);
    assert_int_equal(f->st.recovered, 0);
    assert_int_equal(f->st.retries, 1);
    fixture_free(f);
}

/* The query API keeps failing: undecidable, failed Ambiguous, the Create
 * is never sent again. */
static void test_query_failures_end_ambiguous(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_QUERY_503, 2);

    (void)state;
    f->tag = true;
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->res[0].status, ORCH_ITEM_FAILED);
    assert_string_equal(f->res[0].code, "Ambiguous");
    assert_non_null(strstr(f->res[0].message, "ServiceUnavailable"));
    assert_int_equal(f->srv.hits[0], 1);
    assert_true(f->srv.job_queries >= 3);
    assert_int_equal(f->notes, f->srv.job_queries);
    assert_int_equal(f->note_failures, f->notes);
    assert_int_equal(f->res[1].status, ORCH_ITEM_CREATED);
    fixture_free(f);
}

/* Items an earlier run left without an outcome are reconciled before any
 * Create: item 0's job exists (adopted, never sent), item 1's does not
 * (sent once, after its query). */
static void test_interrupted_items_reconciled_first(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_OK, 3);

    (void)state;
    f->tag = true;
    f->interrupted = 0x3;
    f->since_ms = now_wall_ms() - 60000;
    f->srv.job[0] = true;
    f->srv.job_ms[0] = f->since_ms + 10;
    snprintf(f->srv.job_tag[0], sizeof(f->srv.job_tag[0]), "run1.1");
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->res[0].status, ORCH_ITEM_CREATED);
    assert_true(f->res[0].recovered);
    assert_int_equal(f->res[0].attempts, 0);
    assert_int_equal(f->srv.hits[0], 0);
    assert_int_equal(f->res[1].status, ORCH_ITEM_CREATED);
    assert_false(f->res[1].recovered);
    assert_int_equal(f->srv.hits[1], 1);
    assert_true(f->srv.first_query_seq[1] > 0);
    assert_true(f->srv.first_query_seq[1] < f->srv.first_create_seq[1]);
    assert_int_equal(f->srv.queries_of[2], 0);
    assert_int_equal(f->srv.hits[2], 1);
    assert_int_equal(f->st.reconciled, 2);
    assert_int_equal(f->st.recovered, 1);
    fixture_free(f);
}

/* A job made long before the interrupted attempt is not ours even with
 * our tag value (a clock far off is not a 5-minute skew). */
static void test_interrupted_ignores_older_jobs(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_OK, 1);

    (void)state;
    f->tag = true;
    f->interrupted = 0x1;
    f->since_ms = now_wall_ms();
    f->srv.job[0] = true;
    f->srv.job_ms[0] = f->since_ms - 3600 * 1000;
    snprintf(f->srv.job_tag[0], sizeof(f->srv.job_tag[0]), "run1.1");
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->res[0].status, ORCH_ITEM_CREATED);
    assert_false(f->res[0].recovered);
    assert_int_equal(f->srv.hits[0], 1);
    fixture_free(f);
}

/* --- whole-product calls (TargetSelection ALL/GRAY: no device names) --- */

/* A fixture whose items are whole-product calls, tagged when `tag`. */
static struct fixture *whole_fixture(enum script script, size_t nitems,
                                     bool tag)
{
    struct fixture *f = fixture_new(script, nitems);

    f->whole = true;
    f->tag = tag;
    return f;
}

/* Item 0 ended failed, Ambiguous, for a reason its message names, and its
 * Create went out once: never resent. */
static void assert_ambiguous_once(const struct fixture *f, const char *why)
{
    assert_int_equal(f->res[0].status, ORCH_ITEM_FAILED);
    assert_string_equal(f->res[0].code, "Ambiguous");
    if (strstr(f->res[0].message, why) == NULL)
        fail_msg("\"%s\" not in the message: %s", why, f->res[0].message);
    assert_int_equal(f->srv.hits[0], 1);
}

/* The lost answer of a whole-product Create: the firmware's job list is
 * paged through until the job with our tag turns up (page 3 of 3): created,
 * recovered, one Create, no device queries. */
static void test_whole_lost_answer_found_by_firmware_list(void **state)
{
    struct fixture *f = whole_fixture(SCRIPT_LOSE, 1, true);

    (void)state;
    f->srv.fw_decoys = 450; /* 452 jobs: ours is on page 3 */
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->res[0].status, ORCH_ITEM_CREATED);
    assert_true(f->res[0].recovered);
    assert_string_equal(f->res[0].job_id, "job-0");
    assert_string_equal(f->res[0].resp_job_id, "job-0");
    assert_true(f->res[0].utc_create[0] != '\0');
    assert_int_equal(f->res[0].attempts, 1);
    assert_int_equal(f->srv.hits[0], 1);
    assert_int_equal(f->srv.fw_queries, 3);
    assert_int_equal(f->srv.job_queries + f->srv.task_queries, 0);
    assert_int_equal(f->st.reconciled, 1);
    assert_int_equal(f->st.recovered, 1);
    assert_int_equal(f->st.queries, 3);
    assert_int_equal(f->notes, 3);
    assert_int_equal(f->note_failures, 0);
    fixture_free(f);
}

/* A 500 before anything was made: every page of the firmware's jobs shows
 * none with our tag (another run's recent job is not ours), so the call
 * is sent again, once, after the last page. */
static void test_whole_no_job_found_is_resent_once(void **state)
{
    struct fixture *f = whole_fixture(SCRIPT_500_ONCE, 1, true);

    (void)state;
    f->srv.fw_decoys = 250; /* two pages */
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->res[0].status, ORCH_ITEM_CREATED);
    assert_false(f->res[0].recovered);
    assert_string_equal(f->res[0].job_id, "job-0");
    assert_int_equal(f->res[0].attempts, 2);
    assert_int_equal(f->srv.hits[0], 2);
    assert_int_equal(f->srv.fw_queries, 2);
    /* Both pages were asked between the two Creates. */
    assert_true(f->srv.first_create_seq[0] < f->srv.first_fw_query_seq);
    assert_int_equal(f->srv.last_fw_query_seq + 1, f->srv.seq);
    assert_int_equal(f->st.reconciled, 1);
    assert_int_equal(f->st.recovered, 0);
    fixture_free(f);
}

/* Without a tag nothing tells the call's job from the firmware's others:
 * Ambiguous at once, no query, never resent, and the message says why. */
static void test_whole_without_tag_is_ambiguous(void **state)
{
    struct fixture *f = whole_fixture(SCRIPT_LOSE, 1, false);

    (void)state;
    assert_int_equal(run(f, false), 0);
    assert_ambiguous_once(f, "names no devices");
    assert_non_null(strstr(f->res[0].message, "no job tag"));
    assert_int_equal(f->st.queries, 0);
    assert_int_equal(f->srv.fw_queries, 0);
    assert_int_equal(f->st.reconciled, 1);
    fixture_free(f);
}

/* A job list longer than the pages the dispatcher asks for (51 pages of
 * 200): the unread pages could hold the job, so undecidable, never "not
 * found" and never resent. */
static void test_whole_long_job_list_is_ambiguous(void **state)
{
    struct fixture *f = whole_fixture(SCRIPT_500_ONCE, 1, true);

    (void)state;
    f->srv.fw_decoys = 10050;
    assert_int_equal(run(f, false), 0);
    assert_ambiguous_once(f, "not searched");
    assert_int_equal(f->srv.fw_queries, 50);
    fixture_free(f);
}

/* The firmware list keeps failing: RECONCILE_MAX_FAILS (8) queries, then
 * failed Ambiguous; the Create is never sent again. */
static void test_whole_query_failures_end_ambiguous(void **state)
{
    struct fixture *f = whole_fixture(SCRIPT_QUERY_503, 1, true);

    (void)state;
    assert_int_equal(run(f, false), 0);
    assert_ambiguous_once(f, "ListOTAJobByFirmware");
    assert_non_null(strstr(f->res[0].message, "ServiceUnavailable"));
    assert_int_equal(f->srv.fw_queries, 8);
    assert_int_equal(f->notes, 8);
    assert_int_equal(f->note_failures, 8);
    fixture_free(f);
}

/* Whole-product items an earlier run left without an outcome: item 0's
 * tagged job was made after its first attempt (adopted, never sent);
 * item 1's tag is on a job an hour older than its first attempt (not
 * ours: sent once, after its query). */
static void test_whole_interrupted_items(void **state)
{
    struct fixture *f = whole_fixture(SCRIPT_OK, 2, true);

    (void)state;
    f->interrupted = 0x3;
    f->since_ms = now_wall_ms() - 60000;
    f->srv.job[0] = true;
    f->srv.job_ms[0] = f->since_ms + 10;
    snprintf(f->srv.job_tag[0], sizeof(f->srv.job_tag[0]), "run1.1");
    f->srv.job[1] = true;
    f->srv.job_ms[1] = f->since_ms - 3600 * 1000;
    snprintf(f->srv.job_tag[1], sizeof(f->srv.job_tag[1]), "run1.2");
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->res[0].status, ORCH_ITEM_CREATED);
    assert_true(f->res[0].recovered);
    assert_string_equal(f->res[0].job_id, "job-0");
    assert_int_equal(f->res[0].attempts, 0);
    assert_int_equal(f->srv.hits[0], 0);
    assert_int_equal(f->res[1].status, ORCH_ITEM_CREATED);
    assert_false(f->res[1].recovered);
    assert_int_equal(f->srv.hits[1], 1);
    assert_true(f->srv.first_fw_query_seq > 0);
    assert_true(f->srv.first_fw_query_seq < f->srv.first_create_seq[1]);
    assert_int_equal(f->st.reconciled, 2);
    assert_int_equal(f->st.recovered, 1);
    fixture_free(f);
}

/* Group commit: at a high rate many Creates start per iteration, and
 * there is one sync per iteration, not per request (run() checks that no
 * Create arrived before its sync). */
static void test_sync_once_per_batch(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_OK, 60);

    (void)state;
    f->cfg.max_in_flight = 32;
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->st.created, 60);
    assert_int_equal(f->before_sends, 60);
    assert_true(f->syncs >= 2);
    assert_true(f->syncs < 60);
    fixture_free(f);
}

/* A failed sync: nothing goes out, every item not_sent JournalFailed. */
static void test_sync_failure_sends_nothing(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_OK, 10);

    (void)state;
    f->sync_fails = 1;
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->srv.total, 0);
    assert_int_equal(f->st.calls, 0);
    assert_int_equal(f->st.not_sent, 10);
    assert_true(f->st.aborted);
    assert_int_equal(f->syncs, 1);
    for (size_t i = 0; i < f->nitems; i++) {
        assert_int_equal(f->res[i].status, ORCH_ITEM_NOT_SENT);
        assert_string_equal(f->res[i].code, "JournalFailed");
        assert_int_equal(f->res[i].attempts, 0);
    }
    fixture_free(f);
}

/* A query action: a 500 is simply asked again, no reconciliation. */
static void test_idempotent_retries_500(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_500_ONCE, 2);

    (void)state;
    f->idempotent = true;
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->res[0].status, ORCH_ITEM_CREATED);
    assert_int_equal(f->res[0].attempts, 2);
    assert_int_equal(f->srv.hits[0], 2);
    assert_int_equal(f->st.reconciled, 0);
    assert_int_equal(f->srv.job_queries + f->srv.task_queries, 0);
    fixture_free(f);
}

/* Even items (group 0) fail with the same code: after the first three,
 * the rest of group 0 is not sent; group 1 is untouched. */
static void test_fatal_streak_stops_group(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_STREAK, 20);

    (void)state;
    f->cfg.max_in_flight = 1; /* serial: a deterministic order */
    assert_int_equal(run(f, true), 0);
    for (size_t i = 0; i < f->nitems; i++) {
        if (i % 2 == 1) {
            assert_int_equal(f->res[i].status, ORCH_ITEM_CREATED);
        } else if (i < 6) {
            assert_int_equal(f->res[i].status, ORCH_ITEM_FAILED);
            assert_string_equal(f->res[i].code, "iot.ota.FirmwareNotVerified");
            assert_int_equal(f->srv.hits[i], 1);
        } else {
            assert_int_equal(f->res[i].status, ORCH_ITEM_NOT_SENT);
            assert_string_equal(f->res[i].code, "iot.ota.FirmwareNotVerified");
            assert_int_equal(f->res[i].attempts, 0);
            assert_int_equal(f->srv.hits[i], 0);
        }
    }
    assert_int_equal(f->st.failed, 3);
    assert_int_equal(f->st.not_sent, 7);
    assert_int_equal(f->st.created, 10);
    fixture_free(f);
}

/* A created chunk in between breaks the streak: nothing is stopped. */
static void test_fatal_streak_needs_the_first_items(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_STREAK, 12);

    (void)state;
    f->cfg.max_in_flight = 1;
    assert_int_equal(run(f, false), 0); /* no groups: the rule is off */
    assert_int_equal(f->st.failed, 6);
    assert_int_equal(f->st.not_sent, 0);
    assert_int_equal(f->st.created, 6);
    fixture_free(f);
}

static void test_interrupt_before_start(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_OK, 10);

    (void)state;
    f->interrupt = 1;
    assert_int_equal(run(f, false), 0);
    assert_true(f->st.aborted);
    assert_int_equal(f->st.not_sent, 10);
    assert_int_equal(f->srv.total, 0);
    assert_string_equal(f->res[0].code, "Interrupted");
    fixture_free(f);
}

static void test_interrupt_lets_in_flight_finish(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_OK, 10);

    (void)state;
    f->cfg.max_in_flight = 1;
    f->interrupt_after = 2;
    assert_int_equal(run(f, false), 0);
    assert_true(f->st.aborted);
    assert_int_equal(f->res[0].status, ORCH_ITEM_CREATED);
    assert_int_equal(f->res[1].status, ORCH_ITEM_CREATED);
    /* At most one more was already in flight; the rest never went out. */
    assert_true(f->st.created <= 3);
    assert_int_equal(f->st.created + f->st.not_sent, 10);
    assert_int_equal(f->srv.total, f->st.created);
    assert_string_equal(f->res[9].code, "Interrupted");
    fixture_free(f);
}

/* A second interrupt aborts the calls in flight without waiting for their
 * answers: a call the server had received (its job may exist) is failed /
 * Ambiguous, never not_sent (which a resume or a rerun could resend
 * blindly) and never reconciled now; calls never started are not_sent /
 * Interrupted. Here the server holds every answer and raises the second
 * interrupt when the 4th call (the in-flight cap) has arrived. */
static void test_second_interrupt_aborts_in_flight(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_HOLD, 10);
    struct timespec t0, t1;
    double secs = 0;

    (void)state;
    f->cfg.max_in_flight = 4;
    f->srv.hold_at = 4;
    f->srv.hold_irq = &f->interrupt;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(run(f, false), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) +
           (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(f->st.aborted);
    assert_int_equal(f->srv.total, 4);
    assert_int_equal(f->st.calls, 4);
    assert_int_equal(f->st.created, 0);
    assert_int_equal(f->st.failed, 4);
    assert_int_equal(f->st.not_sent, 6);
    for (size_t i = 0; i < f->nitems; i++) {
        if (f->srv.hits[i] > 0) {
            assert_int_equal(f->res[i].status, ORCH_ITEM_FAILED);
            assert_string_equal(f->res[i].code, "Ambiguous");
            assert_non_null(strstr(f->res[i].message, "second interrupt"));
            assert_int_equal(f->res[i].attempts, 1);
        } else {
            assert_int_equal(f->res[i].status, ORCH_ITEM_NOT_SENT);
            assert_string_equal(f->res[i].code, "Interrupted");
        }
    }
    /* Aborted, not timed out and reconciled: no query, and well before
     * the 10 s request timeout (the loop sees the flag within its 1 s
     * poll). */
    assert_int_equal(f->srv.job_queries + f->srv.task_queries, 0);
    assert_int_equal(f->st.queries, 0);
    assert_true(secs < 5.0);
    fixture_free(f);
}

static void test_connection_refused_is_retried_then_fails(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_OK, 1);
    unsigned port = f->srv.port;
    char url[64];

    (void)state;
    /* Stop the server: its port now refuses connections. */
    MHD_stop_daemon(f->srv.mhd);
    f->srv.mhd = NULL;
    free(f->cfg.endpoint);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);
    f->cfg.endpoint = strdup(url);
    f->cfg.max_attempts = 2;
    assert_int_equal(run(f, false), 0);
    assert_int_equal(f->res[0].status, ORCH_ITEM_FAILED);
    assert_string_equal(f->res[0].code, "NetworkError");
    assert_int_equal(f->res[0].attempts, 2);
    assert_int_equal(f->st.retries, 1);
    fixture_free(f);
}

static void test_bad_setup(void **state)
{
    struct fixture *f = fixture_new(SCRIPT_OK, 1);
    struct orch_dispatch_ops ops;
    struct orch_engine_opts eo;
    struct orch_diag diag = {{0}};

    (void)state;
    memset(&ops, 0, sizeof(ops));
    ops.action = "CreateOTAStaticUpgradeJob";
    ops.nitems = 1;
    ops.build = build;
    ops.ud = f;
    /* No done callback. */
    orch_engine_opts_from_config(&eo, &f->cfg);
    assert_int_equal(
        orch_dispatch_run(&eo, &f->cred, &ops, NULL, &f->st, &diag),
        ORCH_EINVAL);
    ops.done = done;
    f->cfg.qps = 0;
    orch_engine_opts_from_config(&eo, &f->cfg);
    assert_int_equal(
        orch_dispatch_run(&eo, &f->cred, &ops, NULL, &f->st, &diag),
        ORCH_EINVAL);
    assert_int_equal(f->srv.total, 0);
    assert_string_equal(orch_item_status_name(ORCH_ITEM_NOT_SENT), "not_sent");
    fixture_free(f);
}

TORTURE_MAIN(torture_curl_setup, torture_curl_teardown,
    cmocka_unit_test(test_all_created_once),
    cmocka_unit_test(test_503_is_retried),
    cmocka_unit_test(test_503_until_attempts_run_out),
    cmocka_unit_test(test_throttling_is_retried_and_counted),
    cmocka_unit_test(test_throttle_hint_delays_the_retry),
    cmocka_unit_test(test_bad_key_stops_the_run),
    cmocka_unit_test(test_refused_token_refreshed_and_resent),
    cmocka_unit_test(test_token_refused_for_good_stops),
    cmocka_unit_test(test_unusable_credentials_stop_before_sending),
    cmocka_unit_test(test_business_error_not_retried),
    cmocka_unit_test(test_414_resends_as_form),
    cmocka_unit_test(test_hang_up_is_reconciled_then_resent),
    cmocka_unit_test(test_internal_error_is_reconciled),
    cmocka_unit_test(test_garbled_200_is_reconciled),
    cmocka_unit_test(test_lost_answer_found_by_tag),
    cmocka_unit_test(test_lost_answer_confirmed_by_tasks),
    cmocka_unit_test(test_reconcile_tries_the_next_device),
    cmocka_unit_test(test_no_job_found_is_resent_once),
    cmocka_unit_test(test_query_failures_end_ambiguous),
    cmocka_unit_test(test_interrupted_items_reconciled_first),
    cmocka_unit_test(test_interrupted_ignores_older_jobs),
    cmocka_unit_test(test_whole_lost_answer_found_by_firmware_list),
    cmocka_unit_test(test_whole_no_job_found_is_resent_once),
    cmocka_unit_test(test_whole_without_tag_is_ambiguous),
    cmocka_unit_test(test_whole_long_job_list_is_ambiguous),
    cmocka_unit_test(test_whole_query_failures_end_ambiguous),
    cmocka_unit_test(test_whole_interrupted_items),
    cmocka_unit_test(test_sync_once_per_batch),
    cmocka_unit_test(test_sync_failure_sends_nothing),
    cmocka_unit_test(test_idempotent_retries_500),
    cmocka_unit_test(test_fatal_streak_stops_group),
    cmocka_unit_test(test_fatal_streak_needs_the_first_items),
    cmocka_unit_test(test_interrupt_before_start),
    cmocka_unit_test(test_interrupt_lets_in_flight_finish),
    cmocka_unit_test(test_second_interrupt_aborts_in_flight),
    cmocka_unit_test(test_connection_refused_is_retried_then_fails),
    cmocka_unit_test(test_bad_setup))
