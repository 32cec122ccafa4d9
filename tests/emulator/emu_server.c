/* emu_server.c - ota-emulator's libmicrohttpd server: request assembly,
 * gateway checks, faults, quotas, request log, stats.
 *
 * DESIGN: when latency or slow-body faults are on, MHD runs one thread
 * per connection, so per-request latency and slow bodies are plain sleeps
 * and keep-alive connections cost one idle thread each; so it does with a
 * request log (tests: arrival times stamped without waiting for other
 * requests). Otherwise (benchmarks) nothing sleeps, and a pool of epoll
 * threads (one per CPU) serves the connections: at thousands of requests a second, thread-per-connection
 * spent about a quarter of the emulator's CPU in context switches (two
 * per request: poll wakes the connection's thread, which then sleeps
 * again). Nothing else differs between the two modes. A request's state
 * (struct req) is created in the URI-log callback, which MHD calls first
 * with the raw request target (MHD's own argument parsing decodes '+' and
 * escapes its own way; the verifier must see the bytes the client signed),
 * collects the body across access-handler calls, is processed in the final
 * call and freed in the completion callback. Shared state: `lock` guards
 * the counters, the arrival windows and the quota limiters; the world and
 * the verifier have their own locks. A fault that must drop the
 * connection returns MHD_NO (with SO_LINGER 0 first for a reset, so the
 * peer sees RST instead of FIN).
 */
#include "emu_server.h"

#include "emu_faults.h"
#include "emu_log.h"
#include "emu_verify.h"
#include "emu_world.h"

#include "orch/base/buf.h"
#include "orch/base/codec.h"
#include "orch/base/err.h"
#include "orch/cloud/params.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_BODY (1024 * 1024)
#define MAX_TRACKED_ACTIONS 64
#define JSON_CT "application/json;charset=utf-8"

/* Arrival times of one action (or class), ascending, trimmed to the last
 * 1000 ms; `max` is the most ever held at once. */
struct window {
    int64_t *t;
    size_t head, count, cap;
    size_t max;
};

struct action_stat {
    char name[128];
    uint64_t count;
    struct window win;
};

/* One quota: an AccessKey and an action. At most `n` accepted arrivals
 * in any `span_ms` (n = 20, span 1000 ms for 20/s; a fractional rate r is
 * ceil(r) per ceil(1000 ceil(r) / r) ms, as orch_ratelimit counts it).
 * The accepted arrival times are kept sorted in t[lo, hi): requests are
 * decided in the order their threads get there, which is not quite the
 * order they arrived in. */
struct quota {
    struct quota *next;
    char key_id[128];
    char action[128];
    unsigned n;
    int64_t span_ms;
    int64_t *t;
    size_t lo, hi, cap;
};

enum cls { CLS_CREATE, CLS_QUERY, CLS_CANCEL, CLS_BATCH, CLS_OTHER, CLS_N };
static const char *const cls_names[CLS_N] = {"create", "query", "cancel",
                                             "batch", "other"};

struct emu_server {
    struct MHD_Daemon *d;
    struct emu_server_opts o;
    char *bind;
    char *cert;
    char *key;
    char *host_id;
    struct emu_log *log;
    int64_t start_ms;
    uint16_t port;
    _Atomic int64_t advanced_ms; /* POST /__emu/clock: added to the clock */

    pthread_mutex_t lock; /* everything below */
    uint64_t seq;
    uint64_t requests, throttled, auth_failed, uri_too_long;
    uint64_t faults[EMU_FAULT_COUNT_];
    struct action_stat actions[MAX_TRACKED_ACTIONS];
    size_t nactions;
    struct window cls_win[CLS_N];
    struct quota *quotas;
};

struct req {
    struct emu_server *srv;
    char *target;       /* raw request target, "/?a=b" */
    struct orch_buf body;
    bool started;
    bool too_big;
    int64_t t;          /* arrival, emulator clock */
};

static int64_t real_wall_ms(void *ctx)
{
    struct timespec ts;

    (void)ctx;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_ms(const struct emu_server *s)
{
    return s->o.clock.now_ms(s->o.clock.ctx) + atomic_load(&s->advanced_ms);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

    while (ms > 0 && nanosleep(&ts, &ts) != 0)
        ;
}

void emu_server_opts_init(struct emu_server_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->bind = "127.0.0.1";
    o->qps_create = 20;
    o->qps_query = 10;
    o->qps_firmware = 20;
    o->qps_device_detail = 50;
    o->qps_cancel = 5;
    o->qps_batch = 5;
    o->qps_scale = 1;
    o->slow_ms = 1000;
    emu_fault_opts_init(&o->faults);
}

const char *emu_action_class(const char *action)
{
    static const char *const query[] = {
        "QueryOTAJob",      "ListOTAJobByFirmware", "ListOTATaskByJob",
        "ListOTAJobByDevice", "QueryOTAFirmware",   "QueryDeviceDetail",
    };
    size_t i = 0;

    if (action == NULL)
        return "other";
    if (strcmp(action, "CreateOTAStaticUpgradeJob") == 0)
        return "create";
    if (strcmp(action, "CancelOTATaskByJob") == 0)
        return "cancel";
    if (strcmp(action, "BatchQueryDeviceDetail") == 0)
        return "batch";
    for (i = 0; i < sizeof(query) / sizeof(query[0]); i++)
        if (strcmp(action, query[i]) == 0)
            return "query";
    return "other";
}

static enum cls class_of(const char *action)
{
    const char *c = emu_action_class(action);
    int i = 0;

    for (i = 0; i < CLS_N; i++)
        if (strcmp(c, cls_names[i]) == 0)
            return (enum cls)i;
    return CLS_OTHER;
}

double emu_action_quota(const struct emu_server_opts *o, const char *action)
{
    switch (class_of(action)) {
    case CLS_CREATE:
        return o->qps_create * o->qps_scale;
    case CLS_QUERY:
        /* Each query operation's own documented quota (alibaba-api.md,
         * e): QueryOTAFirmware 20/s, QueryDeviceDetail 50/s, the others
         * 10/s. */
        if (strcmp(action, "QueryOTAFirmware") == 0)
            return o->qps_firmware * o->qps_scale;
        if (strcmp(action, "QueryDeviceDetail") == 0)
            return o->qps_device_detail * o->qps_scale;
        return o->qps_query * o->qps_scale;
    case CLS_CANCEL:
        return o->qps_cancel * o->qps_scale;
    case CLS_BATCH:
        return o->qps_batch * o->qps_scale;
    default:
        return 0; /* no quota: the world answers InvalidAction.NotFound */
    }
}

/* ---- sliding windows ---- */

/* Adds t (kept sorted: arrivals recorded by different threads may be a
 * millisecond out of order) and drops what is 1000 ms older than the
 * newest. Updates max. */
static void window_add(struct window *w, int64_t t)
{
    size_t i = 0;

    if (w->count == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 64;
        int64_t *nt = malloc(ncap * sizeof(*nt));

        if (nt == NULL)
            return; /* the stats lose one arrival; the server goes on */
        for (i = 0; i < w->count; i++)
            nt[i] = w->t[(w->head + i) % w->cap];
        free(w->t);
        w->t = nt;
        w->cap = ncap;
        w->head = 0;
    }
    /* Insert from the back. */
    i = w->count;
    while (i > 0 && w->t[(w->head + i - 1) % w->cap] > t) {
        w->t[(w->head + i) % w->cap] = w->t[(w->head + i - 1) % w->cap];
        i--;
    }
    w->t[(w->head + i) % w->cap] = t;
    w->count++;
    {
        int64_t newest = w->t[(w->head + w->count - 1) % w->cap];

        while (w->count > 0 && w->t[w->head] <= newest - 1000) {
            w->head = (w->head + 1) % w->cap;
            w->count--;
        }
    }
    if (w->count > w->max)
        w->max = w->count;
}

/* ---- gateway answers ---- */

/* Waits the request's planned latency, once. */
static void answer_delay(struct emu_fault_plan *plan)
{
    if (plan->latency_ms)
        sleep_ms(plan->latency_ms);
    plan->latency_ms = 0;
}

static void make_request_id(const struct emu_server *s, uint64_t seq,
                            char out[37])
{
    uint64_t x = s->o.faults.seed ^ 0x5EED5EEDULL ^ (seq * 0x9E3779B97F4A7C15ULL);
    uint64_t a = 0, b = 0;

    /* splitmix64 twice */
    x += 0x9E3779B97F4A7C15ULL;
    a = x;
    a = (a ^ (a >> 30)) * 0xBF58476D1CE4E5B9ULL;
    a = (a ^ (a >> 27)) * 0x94D049BB133111EBULL;
    a ^= a >> 31;
    x += 0x9E3779B97F4A7C15ULL;
    b = x;
    b = (b ^ (b >> 30)) * 0xBF58476D1CE4E5B9ULL;
    b = (b ^ (b >> 27)) * 0x94D049BB133111EBULL;
    b ^= b >> 31;
    snprintf(out, 37, "%08X-%04X-4%03X-%04X-%012llX",
             (unsigned)(a >> 32), (unsigned)((a >> 16) & 0xFFFF),
             (unsigned)(a & 0xFFF), (unsigned)((b >> 48) & 0x3FFF) | 0x8000,
             (unsigned long long)(b & 0xFFFFFFFFFFFFULL));
}

static json_t *gateway_error(const char *request_id, const char *host_id,
                             const char *code, const char *message)
{
    char rec[512];

    snprintf(rec, sizeof(rec),
             "https://api.aliyun.com/troubleshoot?q=%s&product=Iot"
             "&requestId=%s",
             code, request_id);
    return json_pack("{s:s,s:s,s:s,s:s,s:s}", "RequestId", request_id,
                     "HostId", host_id, "Code", code, "Message", message,
                     "Recommend", rec);
}

static enum MHD_Result send_buf(struct MHD_Connection *con, int status,
                                const char *ctype, const char *data,
                                size_t len, const char *request_id)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, (void *)data, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret = MHD_NO;

    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", ctype);
    if (request_id)
        MHD_add_response_header(r, "x-acs-request-id", request_id);
    ret = MHD_queue_response(con, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *con, int status,
                                 json_t *body, const char *request_id)
{
    char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
    enum MHD_Result ret = MHD_NO;

    if (s == NULL)
        return send_buf(con, 500, "text/plain", "out of memory", 13, NULL);
    ret = send_buf(con, status, JSON_CT, s, strlen(s), request_id);
    free(s);
    return ret;
}

/* A slow answer: a few bytes at a time, spread over slow_ms. */
struct trickle {
    char *data;
    size_t len;
    unsigned delay_ms;
};

#define TRICKLE_CHUNK 8

static ssize_t trickle_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct trickle *t = cls;
    size_t n = 0;

    if (pos >= t->len)
        return MHD_CONTENT_READER_END_OF_STREAM;
    sleep_ms(t->delay_ms);
    n = t->len - (size_t)pos;
    if (n > TRICKLE_CHUNK)
        n = TRICKLE_CHUNK;
    if (n > max)
        n = max;
    memcpy(buf, t->data + pos, n);
    return (ssize_t)n;
}

static void trickle_free(void *cls)
{
    struct trickle *t = cls;

    free(t->data);
    free(t);
}

static enum MHD_Result send_slow(struct emu_server *s,
                                 struct MHD_Connection *con, int status,
                                 json_t *body, const char *request_id)
{
    struct trickle *t = calloc(1, sizeof(*t));
    struct MHD_Response *r = NULL;
    enum MHD_Result ret = MHD_NO;
    size_t chunks = 0;

    if (t == NULL)
        return MHD_NO;
    t->data = json_dumps(body, JSON_COMPACT);
    if (t->data == NULL) {
        free(t);
        return MHD_NO;
    }
    t->len = strlen(t->data);
    chunks = (t->len + TRICKLE_CHUNK - 1) / TRICKLE_CHUNK;
    t->delay_ms = chunks ? (unsigned)(s->o.slow_ms / chunks) : 0;
    r = MHD_create_response_from_callback(t->len, TRICKLE_CHUNK,
                                          trickle_read, t, trickle_free);
    if (r == NULL) {
        trickle_free(t);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", JSON_CT);
    MHD_add_response_header(r, "x-acs-request-id", request_id);
    ret = MHD_queue_response(con, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static void set_rst(struct MHD_Connection *con)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct linger lg = {1, 0};

    if (ci)
        setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

/* ---- request assembly ---- */

struct hdr_vec {
    struct orch_header *v;
    size_t n, cap;
};

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind,
                                      const char *key, const char *value)
{
    struct hdr_vec *h = cls;

    (void)kind;
    if (h->n == h->cap) {
        size_t ncap = h->cap ? h->cap * 2 : 16;
        struct orch_header *nv = realloc(h->v, ncap * sizeof(*nv));

        if (nv == NULL)
            return MHD_NO;
        h->v = nv;
        h->cap = ncap;
    }
    h->v[h->n].name = key;
    h->v[h->n].value = value ? value : "";
    h->n++;
    return MHD_YES;
}

static void *uri_log_cb(void *cls, const char *uri, struct MHD_Connection *con)
{
    struct emu_server *s = cls;
    struct req *r = calloc(1, sizeof(*r));

    (void)con;
    if (r == NULL)
        return NULL;
    r->srv = s;
    r->target = strdup(uri ? uri : "/");
    orch_buf_init(&r->body);
    r->t = now_ms(s);
    return r;
}

/* MHD splits the query into its own argument list and unescapes every
 * name and value, none of which the emulator reads (the verifier decodes
 * the raw target itself): leaving them escaped saved 7% of the CPU of a
 * 200-device Create. The path is left escaped too; "/" and "/__emu/..."
 * contain nothing to unescape. */
static size_t no_unescape(void *cls, struct MHD_Connection *con, char *s)
{
    (void)cls;
    (void)con;
    return strlen(s);
}

static void completed_cb(void *cls, struct MHD_Connection *con,
                         void **req_cls, enum MHD_RequestTerminationCode toe)
{
    struct req *r = *req_cls;

    (void)cls;
    (void)con;
    (void)toe;
    if (r == NULL)
        return;
    free(r->target);
    orch_buf_cleanup(&r->body);
    free(r);
    *req_cls = NULL;
}

/* ---- stats ---- */

static struct action_stat *action_stat_for(struct emu_server *s,
                                           const char *action)
{
    size_t i = 0;
    const char *name = action && action[0] ? action : "(none)";

    for (i = 0; i < s->nactions; i++)
        if (strcmp(s->actions[i].name, name) == 0)
            return &s->actions[i];
    /* Random action names must not grow the table without bound. */
    if (s->nactions == MAX_TRACKED_ACTIONS - 1)
        name = "(other)";
    for (i = 0; i < s->nactions; i++)
        if (strcmp(s->actions[i].name, name) == 0)
            return &s->actions[i];
    snprintf(s->actions[s->nactions].name, sizeof(s->actions[0].name), "%s",
             name);
    return &s->actions[s->nactions++];
}

/* Counts the arrival and draws the request's fault plan, under the lock
 * that guards the fault options (POST /__emu/faults changes them). */
static void record_arrival(struct emu_server *s, const char *action,
                           int64_t t, uint64_t seq, struct emu_fault_plan *plan)
{
    struct action_stat *a = NULL;
    enum cls c = class_of(action);

    pthread_mutex_lock(&s->lock);
    s->requests++;
    a = action_stat_for(s, action);
    a->count++;
    window_add(&a->win, t);
    window_add(&s->cls_win[c], t);
    emu_faults_plan_action(&s->o.faults, seq, t - s->start_ms, action,
                           c == CLS_QUERY || c == CLS_BATCH, plan);
    pthread_mutex_unlock(&s->lock);
}

static void count_fault(struct emu_server *s, enum emu_fault_kind k)
{
    pthread_mutex_lock(&s->lock);
    s->faults[k]++;
    if (k == EMU_FAULT_THROTTLE)
        s->throttled++;
    pthread_mutex_unlock(&s->lock);
}

/* Accepted arrivals older than this before the newest are forgotten: a
 * request is decided at most this late after it arrived (it is decided
 * before its latency is added; a slow upload or a busy thread delays it
 * by milliseconds). */
#define QUOTA_KEEP_MS 10000

static void quota_params(struct quota *q, double per_sec)
{
    double nd = ceil(per_sec - 1e-9);

    if (nd < 1)
        nd = 1;
    q->n = (unsigned)nd;
    q->span_ms = (int64_t)ceil(1000.0 * nd / per_sec - 1e-6);
    if (q->span_ms < 1000)
        q->span_ms = 1000;
}

/* First index in [q->lo, q->hi) whose time is >= t. */
static size_t quota_lower(const struct quota *q, int64_t t)
{
    size_t a = q->lo, b = q->hi;

    while (a < b) {
        size_t m = a + (b - a) / 2;

        if (q->t[m] < t)
            a = m + 1;
        else
            b = m;
    }
    return a;
}

/* Whether one more arrival at t0 keeps every span_ms window at or below n
 * accepted arrivals, whatever order arrivals were decided in. A window
 * holding t0 can be moved right to start at its first element (an
 * accepted arrival <= t0, or t0 itself) without losing any: so only those
 * starts need counting. */
static bool quota_fits(const struct quota *q, int64_t t0)
{
    size_t first = quota_lower(q, t0 - q->span_ms + 1);
    size_t end = quota_lower(q, t0 + q->span_ms);
    size_t at = quota_lower(q, t0);
    size_t i = 0, j = first, most = 0;

    if (end - first < q->n)
        return true; /* the common case: fewer in 2 spans than 1 allows */
    for (i = first; i < at; i++) {
        while (j < end && q->t[j] < q->t[i] + q->span_ms)
            j++;
        if (j - i > most)
            most = j - i;
    }
    if (end - at > most) /* the window starting at t0 */
        most = end - at;
    return most + 1 <= q->n;
}

/* Records an accepted arrival (sorted insert from the back) and forgets
 * those QUOTA_KEEP_MS older than the newest. Returns 0 or ORCH_ENOMEM. */
static int quota_add(struct quota *q, int64_t t0)
{
    size_t i = 0;

    if (q->lo > 0 && q->hi == q->cap) {
        memmove(q->t, q->t + q->lo, (q->hi - q->lo) * sizeof(*q->t));
        q->hi -= q->lo;
        q->lo = 0;
    }
    if (q->hi == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 64;
        int64_t *nt = realloc(q->t, ncap * sizeof(*nt));

        if (nt == NULL)
            return ORCH_ENOMEM;
        q->t = nt;
        q->cap = ncap;
    }
    i = q->hi;
    while (i > q->lo && q->t[i - 1] > t0) {
        q->t[i] = q->t[i - 1];
        i--;
    }
    q->t[i] = t0;
    q->hi++;
    while (q->lo < q->hi && q->t[q->lo] < q->t[q->hi - 1] - QUOTA_KEEP_MS)
        q->lo++;
    return 0;
}

/* Returns 0 when the call may proceed (and records it), 1 when over
 * quota, ORCH_ENOMEM. */
static int quota_take(struct emu_server *s, const char *key_id,
                      const char *action, int64_t t)
{
    double per_sec = emu_action_quota(&s->o, action);
    struct quota *q = NULL;
    int rc = 0;

    if (per_sec <= 0)
        return 0;
    pthread_mutex_lock(&s->lock);
    for (q = s->quotas; q; q = q->next)
        if (strcmp(q->key_id, key_id) == 0 && strcmp(q->action, action) == 0)
            break;
    if (q == NULL) {
        q = calloc(1, sizeof(*q));
        if (q == NULL) {
            rc = ORCH_ENOMEM;
            goto out;
        }
        quota_params(q, per_sec);
        snprintf(q->key_id, sizeof(q->key_id), "%s", key_id);
        snprintf(q->action, sizeof(q->action), "%s", action);
        q->next = s->quotas;
        s->quotas = q;
    }
    if (!quota_fits(q, t)) {
        s->throttled++;
        rc = 1;
    } else {
        rc = quota_add(q, t);
    }
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

json_t *emu_server_stats(struct emu_server *s)
{
    json_t *o = NULL;
    json_t *by = json_object();
    json_t *byw = json_object();
    json_t *f = json_object();
    json_t *mx = json_object();
    json_t *world = NULL;
    const char *k = NULL;
    json_t *v = NULL;
    size_t i = 0;

    pthread_mutex_lock(&s->lock);
    for (i = 0; i < s->nactions; i++) {
        json_object_set_new(by, s->actions[i].name,
                            json_integer((json_int_t)s->actions[i].count));
        json_object_set_new(byw, s->actions[i].name,
                            json_integer((json_int_t)s->actions[i].win.max));
    }
    for (i = 1; i < EMU_FAULT_COUNT_; i++)
        json_object_set_new(f, emu_fault_name((enum emu_fault_kind)i),
                            json_integer((json_int_t)s->faults[i]));
    for (i = 0; i < CLS_N; i++)
        json_object_set_new(mx, cls_names[i],
                            json_integer((json_int_t)s->cls_win[i].max));
    o = json_pack("{s:I,s:o,s:I,s:I,s:I,s:o,s:o,s:o}", "requests",
                  (json_int_t)s->requests, "by_action", by, "throttled",
                  (json_int_t)s->throttled, "auth_failed",
                  (json_int_t)s->auth_failed, "uri_too_long",
                  (json_int_t)s->uri_too_long, "faults", f,
                  "max_calls_in_any_second", mx,
                  "max_calls_in_any_second_by_action", byw);
    pthread_mutex_unlock(&s->lock);
    if (o == NULL)
        return NULL;
    world = emu_world_stats(s->o.world, now_ms(s));
    json_object_foreach(world, k, v)
        json_object_set(o, k, v);
    json_decref(world);
    return o;
}

/* ---- the API request ---- */

static const char *host_id_of(const struct emu_server *s,
                              const struct emu_http_request *hr)
{
    const char *h = emu_header_get(hr, "host");

    if (s->host_id)
        return s->host_id;
    return h ? h : "iot.cn-shanghai.aliyuncs.com";
}

static enum MHD_Result handle_api(struct emu_server *s,
                                  struct MHD_Connection *con,
                                  struct req *r, const char *method)
{
    struct hdr_vec hv = {NULL, 0, 0};
    struct emu_http_request hr;
    struct emu_auth auth;
    struct emu_fault_plan plan;
    struct emu_call call;
    struct emu_result res;
    struct emu_log_entry le;
    const char *q = strchr(r->target, '?');
    char request_id[37];
    json_t *body = NULL;
    enum MHD_Result ret = MHD_NO;
    const char *fault = NULL;
    const char *code = NULL; /* the world's code, else auth.code */
    int status = 0;
    uint64_t seq = 0;
    bool have_res = false;

    memset(&res, 0, sizeof(res));
    memset(&le, 0, sizeof(le));
    emu_auth_init(&auth);
    MHD_get_connection_values(con, MHD_HEADER_KIND, collect_header, &hv);
    memset(&hr, 0, sizeof(hr));
    hr.method = method;
    hr.path = "/";
    hr.query = q ? q + 1 : NULL;
    hr.headers = hv.v;
    hr.nheaders = hv.n;
    hr.body = r->body.data;
    hr.body_len = r->body.len;

    pthread_mutex_lock(&s->lock);
    seq = s->seq++;
    pthread_mutex_unlock(&s->lock);
    make_request_id(s, seq, request_id);
    if (emu_verify_parse(&hr, &auth) != 0)
        goto out;
    record_arrival(s, auth.action, r->t, seq, &plan);
    fault = emu_fault_name(plan.kind);
    /* A fault that answers before processing waits its latency here; any
     * other request is authenticated and counted against its quota at
     * arrival, as a gateway does, and waits before it is answered. (Taken
     * after the wait, quota decisions came in the order the random
     * latencies ended, not the order of arrival.) */
    if (plan.kind != EMU_FAULT_NONE && plan.kind != EMU_FAULT_LOSE &&
        plan.kind != EMU_FAULT_SLOW)
        answer_delay(&plan);
    switch (plan.kind) {
    case EMU_FAULT_THROTTLE:
        count_fault(s, plan.kind);
        status = 400;
        body = gateway_error(request_id, host_id_of(s, &hr),
                             "Throttling.User",
                             "Request was denied due to user flow control.");
        snprintf(auth.code, sizeof(auth.code), "Throttling.User");
        ret = send_json(con, status, body, request_id);
        goto log;
    case EMU_FAULT_5XX:
        count_fault(s, plan.kind);
        status = plan.status;
        body = gateway_error(
            request_id, host_id_of(s, &hr),
            status == 500 ? "InternalError" : "ServiceUnavailable",
            status == 500
                ? "The request processing has failed due to some unknown "
                  "error, exception or failure."
                : "The request has failed due to a temporary failure of "
                  "the server.");
        snprintf(auth.code, sizeof(auth.code), "%s",
                 status == 500 ? "InternalError" : "ServiceUnavailable");
        ret = send_json(con, status, body, request_id);
        goto log;
    case EMU_FAULT_RESET:
        count_fault(s, plan.kind);
        set_rst(con);
        ret = MHD_NO;
        goto log;
    case EMU_FAULT_MALFORMED:
        count_fault(s, plan.kind);
        status = 200;
        if (plan.variant == 0) {
            char trunc[128];

            snprintf(trunc, sizeof(trunc),
                     "{\"RequestId\":\"%s\",\"Success\":tr", request_id);
            ret = send_buf(con, 200, JSON_CT, trunc, strlen(trunc),
                           request_id);
        } else {
            static const char html[] =
                "<html><head><title>502 Bad Gateway</title></head><body>"
                "<center><h1>502 Bad Gateway</h1></center></body></html>";

            ret = send_buf(con, 200, "text/html", html, sizeof(html) - 1,
                           request_id);
        }
        goto log;
    default:
        break;
    }

    /* Authentication, then the quota, then the world. */
    if (auth.code[0] == '\0'
        && emu_verify_parsed(s->o.verifier, &hr, r->t, &auth) != 0)
        goto out;
    if (auth.code[0]) {
        pthread_mutex_lock(&s->lock);
        s->auth_failed++;
        pthread_mutex_unlock(&s->lock);
        answer_delay(&plan);
        status = auth.http_status;
        body = gateway_error(request_id, host_id_of(s, &hr), auth.code,
                             orch_buf_str(&auth.message));
        ret = send_json(con, status, body, request_id);
        fault = NULL;
        goto log;
    }
    {
        int qrc = quota_take(s, auth.key_id, auth.action, r->t);

        if (qrc < 0)
            goto out;
        answer_delay(&plan);
        if (qrc == 1) {
            status = 400;
            body = gateway_error(
                request_id, host_id_of(s, &hr), "Throttling.User",
                "Request was denied due to user flow control.");
            snprintf(auth.code, sizeof(auth.code), "Throttling.User");
            ret = send_json(con, status, body, request_id);
            fault = NULL;
            goto log;
        }
    }
    memset(&call, 0, sizeof(call));
    call.action = auth.action;
    call.params = &auth.params;
    call.access_key_id = auth.key_id;
    call.request_id = request_id;
    call.now_ms = now_ms(s);
    call.skip_devices = s->log == NULL; /* the list is for the log only */
    if (emu_world_call(s->o.world, &call, &res) != 0)
        goto out;
    have_res = true;
    status = res.http_status;
    code = res.code;
    if (plan.kind == EMU_FAULT_LOSE) {
        /* Processed (the job exists), then the answer is lost. */
        count_fault(s, plan.kind);
        ret = MHD_NO;
    } else if (plan.kind == EMU_FAULT_SLOW) {
        count_fault(s, plan.kind);
        ret = send_slow(s, con, status, res.body, request_id);
    } else {
        fault = NULL;
        ret = send_json(con, status, res.body, request_id);
    }

log:
    le.t = r->t;
    le.request_id = request_id;
    le.method = method;
    le.action = auth.action;
    le.key_id = auth.key_id;
    le.sigver = auth.sigver;
    le.sig_ok = auth.sig_ok;
    le.params = &auth.params;
    le.code = code ? code : auth.code;
    le.http = status;
    le.job_id = have_res ? res.job_id : "";
    le.devices = have_res ? res.devices : NULL;
    le.fault = fault;
    emu_log_write(s->log, &le);
out:
    if (have_res)
        emu_result_cleanup(&res);
    json_decref(body);
    emu_auth_cleanup(&auth);
    free(hv.v);
    return ret;
}

/* ---- fault settings at run time ---- */

int emu_server_check_faults(const struct emu_fault_opts *f,
                            struct orch_diag *diag)
{
    unsigned i = 0;

    for (i = 0; i < f->nactions; i++)
        if (strcmp(emu_action_class(f->actions[i]), "other") == 0)
            return orch_diag_set(diag, ORCH_EINVAL,
                                 "--fault-actions: \"%s\" is not an action "
                                 "the emulator answers",
                                 f->actions[i]);
    return emu_faults_check(f, diag);
}

static json_t *faults_json(const struct emu_fault_opts *f)
{
    json_t *acts = json_array();
    unsigned i = 0;

    for (i = 0; i < f->nactions; i++)
        json_array_append_new(acts, json_string(f->actions[i]));
    return json_pack("{s:I,s:f,s:f,s:f,s:f,s:f,s:f,s:o}", "seed",
                     (json_int_t)f->seed, "fail-5xx", f->p_5xx, "reset",
                     f->p_reset, "lose-response", f->p_lose, "malformed",
                     f->p_malformed, "slow-body", f->p_slow, "fail-queries",
                     f->p_fail_query, "fault-actions", acts);
}

json_t *emu_server_faults(struct emu_server *s)
{
    json_t *j = NULL;

    pthread_mutex_lock(&s->lock);
    j = faults_json(&s->o.faults);
    pthread_mutex_unlock(&s->lock);
    return j;
}

/* Decodes [p, p+n) of a form ('+' is a space, %XX a byte) into out. */
static void form_decode(const char *p, size_t n, char *out, size_t cap)
{
    size_t i = 0, o = 0;

    for (i = 0; i < n && o + 1 < cap; i++) {
        const unsigned char *u = (const unsigned char *)p + i;
        int hi = *u == '%' && i + 2 < n ? orch_hex_digit(u[1]) : -1;
        int lo = hi >= 0 ? orch_hex_digit(u[2]) : -1;

        if (lo >= 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = p[i] == '+' ? ' ' : p[i];
        }
    }
    out[o] = '\0';
}

/* Calls pair(ctx, name, value, diag) for each decoded "name=value" pair
 * of an x-www-form-urlencoded form (NULL: none), stopping at the first
 * nonzero return. 0, that return, or ORCH_EINVAL for a pair without '='. */
static int for_each_form_pair(const char *form,
                              int (*pair)(void *ctx, const char *name,
                                          const char *value,
                                          struct orch_diag *diag),
                              void *ctx, struct orch_diag *diag)
{
    const char *p = form ? form : "";
    int rc = 0;

    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        char name[64], value[1024];

        if (len > 0) {
            if (eq == NULL)
                return orch_diag_set(diag, ORCH_EINVAL,
                                     "expected name=value pairs");
            form_decode(p, (size_t)(eq - p), name, sizeof(name));
            form_decode(eq + 1, len - (size_t)(eq - p) - 1, value,
                        sizeof(value));
            rc = pair(ctx, name, value, diag);
            if (rc)
                return rc;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return 0;
}

/* Applies one "name=value" pair of POST /__emu/faults to the
 * struct emu_fault_opts ctx. */
static int set_fault_field(void *ctx, const char *name, const char *value,
                           struct orch_diag *diag)
{
    struct emu_fault_opts *f = ctx;
    double *p = NULL;

    if (strcmp(name, "fault-actions") == 0)
        return emu_faults_parse_actions(f, value, diag);
    p = strcmp(name, "fail-5xx") == 0        ? &f->p_5xx
      : strcmp(name, "reset") == 0           ? &f->p_reset
      : strcmp(name, "lose-response") == 0   ? &f->p_lose
      : strcmp(name, "malformed") == 0       ? &f->p_malformed
      : strcmp(name, "fail-queries") == 0    ? &f->p_fail_query
                                             : NULL;
    if (p == NULL)
        return orch_diag_set(diag, ORCH_EINVAL,
                             "\"%s\" cannot be set at run time (fail-5xx, "
                             "reset, lose-response, malformed, fail-queries, "
                             "fault-actions can)",
                             name);
    if (emu_faults_parse_prob(p, value, diag) != 0) {
        char why[sizeof(diag->msg)];

        snprintf(why, sizeof(why), "%s", diag->msg);
        return orch_diag_set(diag, ORCH_EINVAL, "%s: %s", name, why);
    }
    return 0;
}

int emu_server_set_faults(struct emu_server *s, const char *form,
                          struct orch_diag *diag)
{
    struct emu_fault_opts f;
    int rc = 0;

    pthread_mutex_lock(&s->lock);
    f = s->o.faults;
    pthread_mutex_unlock(&s->lock);
    rc = for_each_form_pair(form, set_fault_field, &f, diag);
    if (rc == 0)
        rc = emu_server_check_faults(&f, diag);
    if (rc)
        return rc;
    /* Only the fields a form can set: a request drawing its plan at the
     * same time sees either the old settings or the new ones. */
    pthread_mutex_lock(&s->lock);
    s->o.faults.p_5xx = f.p_5xx;
    s->o.faults.p_reset = f.p_reset;
    s->o.faults.p_lose = f.p_lose;
    s->o.faults.p_malformed = f.p_malformed;
    s->o.faults.p_fail_query = f.p_fail_query;
    memcpy(s->o.faults.actions, f.actions, sizeof(f.actions));
    s->o.faults.nactions = f.nactions;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

/* {"now_ms": the emulator's clock, "advanced_ms": the jumps so far}. */
static json_t *clock_json(struct emu_server *s)
{
    return json_pack("{s:I, s:I}", "now_ms", (json_int_t)now_ms(s),
                     "advanced_ms",
                     (json_int_t)atomic_load(&s->advanced_ms));
}

/* The "advance=MS" pair of POST /__emu/clock into the long long ctx. */
static int clock_field(void *ctx, const char *name, const char *value,
                       struct orch_diag *diag)
{
    long long *ms = ctx;
    char *end = NULL;

    if (strcmp(name, "advance") != 0)
        return orch_diag_set(diag, ORCH_EINVAL,
                             "expected advance=MS (milliseconds, > 0)");
    errno = 0;
    *ms = strtoll(value, &end, 10);
    if (errno || end == value || *end != '\0' || *ms <= 0 ||
        *ms > 366LL * 24 * 3600 * 1000)
        return orch_diag_set(diag, ORCH_EINVAL,
                             "advance must be 1 ms to 366 days (the clock "
                             "never goes back: quotas count in order)");
    return 0;
}

int emu_server_advance_clock(struct emu_server *s, const char *form,
                             struct orch_diag *diag)
{
    long long ms = 0;
    int rc = for_each_form_pair(form, clock_field, &ms, diag);

    if (rc == 0 && ms == 0)
        rc = orch_diag_set(diag, ORCH_EINVAL,
                           "expected advance=MS (milliseconds, > 0)");
    if (rc == 0)
        atomic_fetch_add(&s->advanced_ms, (int64_t)ms);
    return rc;
}

/* The answer to a POST /__emu/ form: HTTP 400 {"Code": code, "Message"}
 * when rc says it was refused, else 200 with what show(s) returns. */
static enum MHD_Result answer_form(struct emu_server *s,
                                   struct MHD_Connection *con, int rc,
                                   const char *code,
                                   const struct orch_diag *d,
                                   json_t *(*show)(struct emu_server *))
{
    json_t *j = rc ? json_pack("{s:s,s:s}", "Code", code, "Message", d->msg)
                   : show(s);
    enum MHD_Result ret = send_json(con, rc ? 400 : 200, j, NULL);

    json_decref(j);
    return ret;
}

/* POST /__emu/clock: advance=MS in the query or the body. */
static enum MHD_Result handle_advance_clock(struct emu_server *s,
                                            struct MHD_Connection *con,
                                            struct req *r)
{
    const char *q = strchr(r->target, '?');
    struct orch_diag d;

    memset(&d, 0, sizeof(d));
    return answer_form(
        s, con,
        emu_server_advance_clock(
            s, q != NULL ? q + 1 : orch_buf_str(&r->body), &d),
        "InvalidClock", &d, clock_json);
}

/* POST /__emu/faults: the form in the query and/or the body. */
static enum MHD_Result handle_set_faults(struct emu_server *s,
                                         struct MHD_Connection *con,
                                         struct req *r)
{
    const char *q = strchr(r->target, '?');
    struct orch_diag d;
    int rc = 0;

    memset(&d, 0, sizeof(d));
    if (q)
        rc = emu_server_set_faults(s, q + 1, &d);
    if (rc == 0 && r->body.len > 0)
        rc = emu_server_set_faults(s, orch_buf_str(&r->body), &d);
    return answer_form(s, con, rc, "InvalidFaults", &d, emu_server_faults);
}

static enum MHD_Result handle_internal(struct emu_server *s,
                                       struct MHD_Connection *con,
                                       const char *url)
{
    json_t *j = NULL;
    enum MHD_Result ret = MHD_NO;

    if (strcmp(url, "/__emu/stats") == 0)
        j = emu_server_stats(s);
    else if (strcmp(url, "/__emu/jobs") == 0)
        j = emu_world_dump_jobs(s->o.world, now_ms(s));
    else if (strcmp(url, "/__emu/faults") == 0)
        j = emu_server_faults(s);
    else if (strcmp(url, "/__emu/clock") == 0)
        j = clock_json(s);
    else
        return send_buf(con, 404, JSON_CT, "{\"Code\":\"NotFound\"}", 19,
                        NULL);
    ret = send_json(con, 200, j, NULL);
    json_decref(j);
    return ret;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *con,
                                 const char *url, const char *method,
                                 const char *version,
                                 const char *upload_data,
                                 size_t *upload_data_size, void **req_cls)
{
    struct emu_server *s = cls;
    struct req *r = *req_cls;
    size_t max_body = s->o.max_body ? s->o.max_body : DEFAULT_MAX_BODY;

    (void)version;
    if (r == NULL)
        return MHD_NO; /* the URI callback ran out of memory */
    if (!r->started) {
        const char *cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
                                                     "Content-Length");

        r->started = true;
        if (cl && strtoull(cl, NULL, 10) > max_body)
            r->too_big = true;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!r->too_big && r->body.len + *upload_data_size > max_body)
            r->too_big = true;
        if (!r->too_big
            && orch_buf_append(&r->body, upload_data, *upload_data_size)
                   != 0)
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->too_big) {
        static const char msg[] =
            "{\"Code\":\"RequestEntityTooLarge\",\"Message\":\"The request "
            "body is larger than the emulator accepts.\"}";

        return send_buf(con, 413, JSON_CT, msg, sizeof(msg) - 1, NULL);
    }
    if (s->o.max_uri && strlen(r->target) > s->o.max_uri) {
        static const char msg[] =
            "<html><head><title>414 Request-URI Too Large</title></head>"
            "<body>414 Request-URI Too Large</body></html>";

        pthread_mutex_lock(&s->lock);
        s->uri_too_long++;
        pthread_mutex_unlock(&s->lock);
        return send_buf(con, 414, "text/html", msg, sizeof(msg) - 1, NULL);
    }
    if (strncmp(url, "/__emu/", 7) == 0 && strcmp(method, "GET") == 0)
        return handle_internal(s, con, url);
    if (strcmp(url, "/__emu/faults") == 0 && strcmp(method, "POST") == 0)
        return handle_set_faults(s, con, r);
    if (strcmp(url, "/__emu/clock") == 0 && strcmp(method, "POST") == 0)
        return handle_advance_clock(s, con, r);
    if (strcmp(url, "/") != 0) {
        static const char msg[] = "{\"Code\":\"InvalidURI\",\"Message\":"
                                  "\"RPC requests go to /.\"}";

        return send_buf(con, 404, JSON_CT, msg, sizeof(msg) - 1, NULL);
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0) {
        static const char msg[] =
            "{\"Code\":\"UnsupportedHTTPMethod\",\"Message\":"
            "\"Use GET or POST.\"}";

        return send_buf(con, 405, JSON_CT, msg, sizeof(msg) - 1, NULL);
    }
    return handle_api(s, con, r, method);
}

/* ---- lifecycle ---- */

static void free_server(struct emu_server *s)
{
    struct quota *q = NULL;
    size_t i = 0;

    if (s == NULL)
        return;
    while ((q = s->quotas) != NULL) {
        s->quotas = q->next;
        free(q->t);
        free(q);
    }
    for (i = 0; i < s->nactions; i++)
        free(s->actions[i].win.t);
    for (i = 0; i < CLS_N; i++)
        free(s->cls_win[i].t);
    emu_log_close(s->log);
    free(s->bind);
    free(s->cert);
    free(s->key);
    free(s->host_id);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static bool faults_sleep(const struct emu_server_opts *o)
{
    return o->faults.lat_max_ms > 0 || o->faults.nmix > 0
        || o->faults.p_slow > 0;
}

unsigned emu_server_threads(const struct emu_server_opts *o)
{
    long n = 0;

    if (faults_sleep(o))
        return 0;
    if (o->threads > 0)
        return o->threads;
    /* A request log means a test, which checks arrival times (20 Creates
     * in any second): in an event loop a request's arrival is stamped
     * only once the thread has finished the requests before it, which
     * can bunch arrivals the client spaced out. */
    if (o->request_log)
        return 0;
    n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 8 ? 8 : (unsigned)n;
}

int emu_server_start(const struct emu_server_opts *o, struct emu_server **out,
                     struct orch_diag *diag)
{
    struct emu_server *s = NULL;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    struct sockaddr *sa = NULL;
    unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD;
    unsigned pool = emu_server_threads(o);
    const union MHD_DaemonInfo *di = NULL;
    bool tls = o->tls_cert_pem && o->tls_key_pem;
    int rc = 0;

    *out = NULL;
    if (o->world == NULL || o->verifier == NULL)
        return orch_diag_set(diag, ORCH_EINVAL, "no world or verifier");
    if (!(o->qps_scale > 0) || o->qps_create <= 0 || o->qps_query <= 0
        || o->qps_firmware <= 0 || o->qps_device_detail <= 0
        || o->qps_cancel <= 0 || o->qps_batch <= 0)
        return orch_diag_set(diag, ORCH_EINVAL,
                             "quotas and --qps-scale must be positive");
    rc = emu_server_check_faults(&o->faults, diag);
    if (rc)
        return rc;
    if (o->threads > 0 && faults_sleep(o))
        return orch_diag_set(diag, ORCH_EINVAL,
                             "a thread pool cannot serve latency or slow-body "
                             "faults (they sleep): leave the thread count "
                             "automatic");
    if ((o->tls_cert_pem != NULL) != (o->tls_key_pem != NULL))
        return orch_diag_set(diag, ORCH_EINVAL,
                             "--tls-cert and --tls-key go together");
    if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return orch_diag_set(diag, ORCH_EINVAL,
                             "this libmicrohttpd has no TLS support");
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return ORCH_ENOMEM;
    pthread_mutex_init(&s->lock, NULL);
    s->o = *o;
    if (s->o.clock.now_ms == NULL)
        s->o.clock.now_ms = real_wall_ms;
    s->bind = strdup(o->bind ? o->bind : "127.0.0.1");
    s->cert = tls ? strdup(o->tls_cert_pem) : NULL;
    s->key = tls ? strdup(o->tls_key_pem) : NULL;
    s->host_id = o->host_id ? strdup(o->host_id) : NULL;
    if (s->bind == NULL || (tls && (s->cert == NULL || s->key == NULL))
        || (o->host_id && s->host_id == NULL)) {
        rc = ORCH_ENOMEM;
        goto fail;
    }
    s->o.bind = s->bind;
    s->o.tls_cert_pem = s->cert;
    s->o.tls_key_pem = s->key;
    s->o.host_id = s->host_id;
    s->o.request_log = NULL;
    if (o->request_log) {
        rc = emu_log_open(&s->log, o->request_log, diag);
        if (rc)
            goto fail;
    }
    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));
    if (inet_pton(AF_INET, s->bind, &sin.sin_addr) == 1) {
        sin.sin_family = AF_INET;
        sin.sin_port = htons(o->port);
        sa = (struct sockaddr *)&sin;
    } else if (inet_pton(AF_INET6, s->bind, &sin6.sin6_addr) == 1) {
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(o->port);
        sa = (struct sockaddr *)&sin6;
        flags |= MHD_USE_IPv6;
    } else {
        rc = orch_diag_set(diag, ORCH_EINVAL,
                           "--bind: \"%s\" is not an IPv4 or IPv6 address",
                           s->bind);
        goto fail;
    }
    if (tls)
        flags |= MHD_USE_TLS;
    if (pool == 0)
        flags |= MHD_USE_THREAD_PER_CONNECTION;
    s->start_ms = now_ms(s);
    /* MHD_OPTION_THREAD_POOL_SIZE 0 and 1 both mean "no pool": the
     * internal polling thread alone serves everything. */
    if (tls)
        s->d = MHD_start_daemon(
            flags, o->port, NULL, NULL, access_cb, s, MHD_OPTION_SOCK_ADDR,
            sa, MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb, s,
            MHD_OPTION_NOTIFY_COMPLETED, completed_cb, s,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
            MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
            MHD_OPTION_THREAD_POOL_SIZE, pool, MHD_OPTION_UNESCAPE_CALLBACK,
            no_unescape, s, MHD_OPTION_HTTPS_MEM_CERT,
            s->cert, MHD_OPTION_HTTPS_MEM_KEY, s->key, MHD_OPTION_END);
    else
        s->d = MHD_start_daemon(
            flags, o->port, NULL, NULL, access_cb, s, MHD_OPTION_SOCK_ADDR,
            sa, MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb, s,
            MHD_OPTION_NOTIFY_COMPLETED, completed_cb, s,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
            MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
            MHD_OPTION_THREAD_POOL_SIZE, pool, MHD_OPTION_UNESCAPE_CALLBACK,
            no_unescape, s, MHD_OPTION_END);
    if (s->d == NULL) {
        rc = orch_diag_set(diag, ORCH_EIO,
                           "cannot listen on %s port %u (in use, or a bad "
                           "TLS certificate/key)",
                           s->bind, (unsigned)o->port);
        goto fail;
    }
    di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : o->port;
    *out = s;
    return 0;
fail:
    free_server(s);
    return rc;
}

uint16_t emu_server_port(const struct emu_server *s)
{
    return s->port;
}

void emu_server_stop(struct emu_server *s)
{
    if (s == NULL)
        return;
    if (s->d)
        MHD_stop_daemon(s->d);
    free_server(s);
}
