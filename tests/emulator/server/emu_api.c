/* emu_api.c - one API request through the emulated gateway: faults,
 * authentication, quota, the world, the answer and the request log.
 *
 * DESIGN: emu_api_handle() runs the steps emu_server.h lists, each a
 * function below that either answers (and the request goes to the log)
 * or lets the next one run. The request's state is one struct api on the
 * connection thread's stack; only the counters, the quotas and the fault
 * settings are shared (under the server's lock).
 */
#include "server/emu_state.h"

#include "gateway/emu_verify.h"
#include "ops/emu_ops.h"
#include "ops/emu_sts.h"
#include "server/emu_answer.h"
#include "world/emu_reply.h"

#include "orch/base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THROTTLED_MSG "Request was denied due to user flow control."

/* The headers of a request, as MHD gives them. */
struct hdr_vec {
    struct orch_header *v;
    size_t n, cap;
};

/* One API request in flight. */
struct api {
    struct emu_server *s;
    struct MHD_Connection *con;
    struct emu_req *r;
    const char *method;
    struct hdr_vec hv;
    struct emu_http_request hr;
    struct emu_auth auth;
    bool sts;            /* an STS call (AssumeRole, AssumeRoleWithOIDC) */
    uint64_t seq;        /* arrival number */
    char request_id[37];
    struct emu_fault_plan plan;
    const char *fault;   /* the fault's name for the log, NULL: none */
    struct emu_result res;
    bool have_res;       /* the world answered: res is set */
    json_t *body;        /* a gateway answer built here */
    int status;          /* HTTP status sent (0: none) */
    enum MHD_Result ret;
};

/* Step results: the request was answered (log it), go on, or stop
 * without logging (ENOMEM: the connection is dropped). */
enum step { ANSWERED, NEXT, FAILED };

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

static const char *host_id_of(const struct emu_server *s,
                              const struct emu_http_request *hr)
{
    const char *h = emu_header_get(hr, "host");

    if (s->host_id)
        return s->host_id;
    return h ? h : EMU_HOST_ID;
}

/* Waits the request's planned latency, once. */
static void answer_delay(struct emu_fault_plan *plan)
{
    if (plan->latency_ms)
        emu_sleep_ms(plan->latency_ms);
    plan->latency_ms = 0;
}

/* Answers a gateway error of `status`; code also goes to the log. */
static enum step answer_gateway(struct api *a, int status, const char *code,
                                const char *message)
{
    a->status = status;
    a->body = emu_gateway_error_json(a->request_id,
                                     host_id_of(a->s, &a->hr), code,
                                     message);
    snprintf(a->auth.code, sizeof(a->auth.code), "%s", code);
    a->ret = emu_send_json(a->con, status, a->body, a->request_id);
    return ANSWERED;
}

/* The request as the gateway sees it, its number and id, its parameters
 * decoded. */
static enum step api_begin(struct api *a)
{
    const char *q = strchr(a->r->target, '?');

    MHD_get_connection_values(a->con, MHD_HEADER_KIND, collect_header,
                              &a->hv);
    a->hr.method = a->method;
    a->hr.path = "/";
    a->hr.query = q ? q + 1 : NULL;
    a->hr.headers = a->hv.v;
    a->hr.nheaders = a->hv.n;
    a->hr.body = a->r->body.data;
    a->hr.body_len = a->r->body.len;
    pthread_mutex_lock(&a->s->lock);
    a->seq = a->s->seq++;
    pthread_mutex_unlock(&a->s->lock);
    emu_make_request_id(a->s->o.faults.seed, a->seq, a->request_id);
    if (emu_verify_parse(&a->hr, &a->auth) != 0)
        return FAILED;
    a->sts = emu_sts_is_call(a->auth.action,
                             orch_params_get(&a->auth.params, "Version"));
    return NEXT;
}

/* Counts the arrival and draws the request's fault plan, under the lock
 * that guards the fault options (POST /__emu/faults changes them). */
static void api_arrive(struct api *a)
{
    struct emu_server *s = a->s;
    enum emu_action_class cls = emu_action_class_of(a->auth.action);

    pthread_mutex_lock(&s->lock);
    emu_counters_arrival(&s->stats, a->auth.action, cls, a->r->t);
    emu_faults_plan_action(&s->o.faults, a->seq, a->r->t - s->start_ms,
                           a->auth.action,
                           cls == EMU_ACTION_QUERY || cls == EMU_ACTION_BATCH,
                           &a->plan);
    pthread_mutex_unlock(&s->lock);
    a->fault = emu_fault_name(a->plan.kind);
}

static void count_fault(struct emu_server *s, enum emu_fault_kind k)
{
    pthread_mutex_lock(&s->lock);
    emu_counters_fault(&s->stats, k);
    pthread_mutex_unlock(&s->lock);
}

/* A malformed 200: a truncated JSON or an HTML page. */
static enum MHD_Result send_malformed(struct api *a)
{
    static const char html[] =
        "<html><head><title>502 Bad Gateway</title></head><body>"
        "<center><h1>502 Bad Gateway</h1></center></body></html>";
    char trunc[128];

    if (a->plan.variant != 0)
        return emu_send_buf(a->con, 200, "text/html", html, sizeof(html) - 1,
                            a->request_id);
    snprintf(trunc, sizeof(trunc), "{\"RequestId\":\"%s\",\"Success\":tr",
             a->request_id);
    return emu_send_buf(a->con, 200, EMU_JSON_CT, trunc, strlen(trunc),
                        a->request_id);
}

/* The faults that answer before processing (after their latency): a
 * throttling burst, a 5xx, a reset, a malformed body. */
static enum step api_early_fault(struct api *a)
{
    enum emu_fault_kind k = a->plan.kind;

    /* Any other request is authenticated and counted against its quota
     * at arrival, as a gateway does, and waits before it is answered.
     * (Taken after the wait, quota decisions came in the order the
     * random latencies ended, not the order of arrival.) */
    if (k == EMU_FAULT_NONE || k == EMU_FAULT_LOSE || k == EMU_FAULT_SLOW)
        return NEXT;
    answer_delay(&a->plan);
    count_fault(a->s, k);
    switch (k) {
    case EMU_FAULT_THROTTLE:
        return answer_gateway(a, 400, "Throttling.User", THROTTLED_MSG);
    case EMU_FAULT_5XX:
        if (a->plan.status == 500)
            return answer_gateway(a, 500, "InternalError",
                                  "The request processing has failed due "
                                  "to some unknown error, exception or "
                                  "failure.");
        return answer_gateway(a, a->plan.status, "ServiceUnavailable",
                              "The request has failed due to a temporary "
                              "failure of the server.");
    case EMU_FAULT_RESET:
        emu_set_rst(a->con);
        a->ret = MHD_NO;
        return ANSWERED;
    default: /* EMU_FAULT_MALFORMED */
        a->status = 200;
        a->ret = send_malformed(a);
        return ANSWERED;
    }
}

/* The verifier's verdict; a refusal is a gateway error. AssumeRoleWithOIDC
 * is the one call that is not signed (the OIDC token is the proof). */
static enum step api_authenticate(struct api *a)
{
    struct emu_server *s = a->s;

    if (a->sts && a->auth.code[0] == '\0'
        && strcmp(a->auth.action, "AssumeRoleWithOIDC") == 0)
        return NEXT;
    if (a->auth.code[0] == '\0'
        && emu_verify_parsed(s->o.verifier, &a->hr, a->r->t, &a->auth) != 0)
        return FAILED;
    if (a->auth.code[0] == '\0')
        return NEXT;
    pthread_mutex_lock(&s->lock);
    s->stats.auth_failed++;
    pthread_mutex_unlock(&s->lock);
    answer_delay(&a->plan);
    a->fault = NULL;
    a->status = a->auth.http_status;
    a->body = emu_gateway_error_json(a->request_id, host_id_of(s, &a->hr),
                                     a->auth.code,
                                     orch_buf_str(&a->auth.message));
    a->ret = emu_send_json(a->con, a->status, a->body, a->request_id);
    return ANSWERED;
}

/* Whose quota an STS call counts against: the signing account's for
 * AssumeRole (as any call), the role's for the unsigned
 * AssumeRoleWithOIDC (its RoleArn names the account). */
static const char *quota_key_of(const struct api *a)
{
    const char *arn = NULL;

    if (a->auth.quota_key[0] != '\0')
        return a->auth.quota_key;
    arn = orch_params_get(&a->auth.params, "RoleArn");
    return arn != NULL ? arn : "";
}

/* The per-account quota at arrival (a temporary key's calls count
 * against the account key that minted it); over it: Throttling.User.
 * STS calls too (--qps-sts). */
static enum step api_quota(struct api *a)
{
    struct emu_server *s = a->s;
    double per_sec = emu_action_quota(&s->o, a->auth.action);
    int rc = 0;

    pthread_mutex_lock(&s->lock);
    rc = emu_quotas_take(&s->quotas, quota_key_of(a), a->auth.action,
                         per_sec, a->r->t);
    if (rc == 1)
        s->stats.throttled++;
    pthread_mutex_unlock(&s->lock);
    if (rc < 0)
        return FAILED;
    answer_delay(&a->plan);
    if (rc == 0)
        return NEXT;
    a->fault = NULL;
    return answer_gateway(a, 400, "Throttling.User", THROTTLED_MSG);
}

/* The world's answer, lost or slow when the plan says so. */
static enum step api_process(struct api *a)
{
    struct emu_server *s = a->s;
    struct emu_call call;

    memset(&call, 0, sizeof(call));
    call.action = a->auth.action;
    call.params = &a->auth.params;
    call.access_key_id = a->auth.key_id;
    call.request_id = a->request_id;
    call.now_ms = emu_server_now(s);
    call.skip_devices = s->log == NULL; /* the list is for the log only */
    if (a->sts) {
        struct emu_sts_opts so = emu_server_sts_opts(s);

        if (emu_sts_call(s->mint, &so, &call, &a->res) != 0)
            return FAILED;
    } else if (emu_world_call(s->o.world, &call, &a->res) != 0)
        return FAILED;
    a->have_res = true;
    a->status = a->res.http_status;
    if (a->plan.kind == EMU_FAULT_LOSE) {
        /* Processed (the job exists), then the answer is lost. */
        count_fault(s, a->plan.kind);
        a->ret = MHD_NO;
    } else if (a->plan.kind == EMU_FAULT_SLOW) {
        count_fault(s, a->plan.kind);
        a->ret = emu_send_slow(a->con, a->status, a->res.body, a->request_id,
                               s->o.slow_ms);
    } else {
        a->fault = NULL;
        a->ret = emu_send_json(a->con, a->status, a->res.body,
                               a->request_id);
    }
    return ANSWERED;
}

/* One line of the request log. */
static void api_log(struct api *a)
{
    struct emu_log_entry le;

    memset(&le, 0, sizeof(le));
    le.t = a->r->t;
    le.request_id = a->request_id;
    le.method = a->method;
    le.action = a->auth.action;
    le.key_id = a->auth.key_id;
    le.sigver = a->auth.sigver;
    le.sig_ok = a->auth.sig_ok;
    le.params = &a->auth.params;
    le.code = a->have_res ? a->res.code : a->auth.code;
    le.http = a->status;
    le.job_id = a->have_res ? a->res.job_id : "";
    le.devices = a->have_res ? a->res.devices : NULL;
    le.fault = a->fault;
    emu_log_write(a->s->log, &le);
}

enum MHD_Result emu_api_handle(struct emu_server *s,
                               struct MHD_Connection *con,
                               struct emu_req *r, const char *method)
{
    struct api a;
    enum step st = NEXT;

    memset(&a, 0, sizeof(a));
    a.s = s;
    a.con = con;
    a.r = r;
    a.method = method;
    a.ret = MHD_NO;
    emu_auth_init(&a.auth);
    st = api_begin(&a);
    if (st == NEXT) {
        api_arrive(&a);
        st = api_early_fault(&a);
    }
    if (st == NEXT)
        st = api_authenticate(&a);
    if (st == NEXT)
        st = api_quota(&a);
    if (st == NEXT)
        st = api_process(&a);
    if (st == ANSWERED)
        api_log(&a);
    if (a.have_res)
        emu_result_cleanup(&a.res);
    json_decref(a.body);
    emu_auth_cleanup(&a.auth);
    free(a.hv.v);
    return a.ret;
}
