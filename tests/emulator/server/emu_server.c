/* emu_server.c - ota-emulator's libmicrohttpd server: lifecycle, request
 * assembly, routing, the /__emu/ endpoints and the stats. The API
 * request itself is emu_api.c's.
 *
 * DESIGN: when latency or slow-body faults are on, MHD runs one thread
 * per connection, so per-request latency and slow bodies are plain sleeps
 * and keep-alive connections cost one idle thread each; so it does with a
 * request log (tests: arrival times stamped without waiting for other
 * requests). Otherwise (benchmarks) nothing sleeps, and a pool of epoll
 * threads (one per CPU) serves the connections: at thousands of requests
 * a second, thread-per-connection spent about a quarter of the
 * emulator's CPU in context switches (two per request: poll wakes the
 * connection's thread, which then sleeps again). Nothing else differs
 * between the two modes. A request's state (struct emu_req) is created
 * in the URI-log callback, which MHD calls first with the raw request
 * target (MHD's own argument parsing decodes '+' and escapes its own way;
 * the verifier must see the bytes the client signed), collects the body
 * across access-handler calls, is processed in the final call and freed
 * in the completion callback. Shared state: `lock` guards the counters,
 * the arrival windows, the quotas and the fault settings; the world and
 * the verifier have their own locks. A fault that must drop the
 * connection returns MHD_NO (with SO_LINGER 0 first for a reset, so the
 * peer sees RST instead of FIN).
 */
#include "server/emu_server.h"

#include "ops/emu_ops.h"
#include "server/emu_admin.h"
#include "server/emu_answer.h"
#include "server/emu_state.h"
#include "gateway/emu_verify.h"
#include "world/emu_mint.h"
#include "world/emu_world.h"

#include "orch/base/buf.h"
#include "orch/base/err.h"

#include <arpa/inet.h>
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

static int64_t real_wall_ms(void *ctx)
{
    struct timespec ts;

    (void)ctx;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t emu_server_now(const struct emu_server *s)
{
    return s->o.clock.now_ms(s->o.clock.ctx) + atomic_load(&s->advanced_ms);
}

/* ---- request assembly ---- */

static void *uri_log_cb(void *cls, const char *uri, struct MHD_Connection *con)
{
    struct emu_server *s = cls;
    struct emu_req *r = calloc(1, sizeof(*r));

    (void)con;
    if (r == NULL)
        return NULL;
    r->srv = s;
    r->target = strdup(uri ? uri : "/");
    orch_buf_init(&r->body);
    r->t = emu_server_now(s);
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
    struct emu_req *r = *req_cls;

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

json_t *emu_server_stats(struct emu_server *s)
{
    json_t *o = NULL;
    json_t *world = NULL;
    const char *k = NULL;
    json_t *v = NULL;

    pthread_mutex_lock(&s->lock);
    o = emu_counters_json(&s->stats);
    pthread_mutex_unlock(&s->lock);
    if (o == NULL)
        return NULL;
    world = emu_world_stats(s->o.world, emu_server_now(s));
    json_object_foreach(world, k, v)
        json_object_set(o, k, v);
    json_decref(world);
    json_object_set_new(o, "sts", emu_mint_stats(s->mint));
    return o;
}

/* ---- fault settings and the clock at run time ---- */

json_t *emu_server_faults(struct emu_server *s)
{
    json_t *j = NULL;

    pthread_mutex_lock(&s->lock);
    j = emu_faults_json(&s->o.faults);
    pthread_mutex_unlock(&s->lock);
    return j;
}

int emu_server_set_faults(struct emu_server *s, const char *form,
                          struct orch_diag *diag)
{
    struct emu_fault_opts f;
    int rc = 0;

    pthread_mutex_lock(&s->lock);
    f = s->o.faults;
    pthread_mutex_unlock(&s->lock);
    rc = emu_faults_apply_form(&f, form, diag);
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
    return json_pack("{s:I, s:I}", "now_ms", (json_int_t)emu_server_now(s),
                     "advanced_ms",
                     (json_int_t)atomic_load(&s->advanced_ms));
}

int emu_server_advance_clock(struct emu_server *s, const char *form,
                             struct orch_diag *diag)
{
    long long ms = 0;
    int rc = emu_clock_parse_form(form, &ms, diag);

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
    enum MHD_Result ret = emu_send_json(con, rc ? 400 : 200, j, NULL);

    json_decref(j);
    return ret;
}

/* POST /__emu/clock: advance=MS in the query or the body. */
static enum MHD_Result handle_advance_clock(struct emu_server *s,
                                            struct MHD_Connection *con,
                                            struct emu_req *r)
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
                                         struct emu_req *r)
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

/* POST /__emu/console: job=JOBID&action=reupgrade|cancel in the query or
 * the body: the job changed as from the console (emu_world_console). */
static enum MHD_Result handle_console(struct emu_server *s,
                                      struct MHD_Connection *con,
                                      struct emu_req *r)
{
    const char *q = strchr(r->target, '?');
    struct orch_diag d;
    char job[64], action[32];
    size_t tasks = 0;
    json_t *j = NULL;
    enum MHD_Result ret = MHD_NO;
    int rc = 0;

    memset(&d, 0, sizeof(d));
    rc = emu_console_parse_form(q != NULL ? q + 1 : orch_buf_str(&r->body),
                                job, sizeof(job), action, sizeof(action), &d);
    if (rc == 0) {
        rc = emu_world_console(s->o.world, job, action, emu_server_now(s),
                               &tasks);
        if (rc)
            snprintf(d.msg, sizeof(d.msg), "%s: %s", job,
                     rc == ORCH_ENOTFOUND ? "no such job"
                                          : "action must be reupgrade or "
                                            "cancel");
    }
    j = rc ? json_pack("{s:s,s:s}", "Code", "InvalidConsole", "Message", d.msg)
           : json_pack("{s:s,s:s,s:I}", "JobId", job, "action", action,
                       "tasks", (json_int_t)tasks);
    ret = emu_send_json(con, rc ? 400 : 200, j, NULL);
    json_decref(j);
    return ret;
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
        j = emu_world_dump_jobs(s->o.world, emu_server_now(s));
    else if (strcmp(url, "/__emu/faults") == 0)
        j = emu_server_faults(s);
    else if (strcmp(url, "/__emu/clock") == 0)
        j = clock_json(s);
    else if (strcmp(url, "/__emu/minted") == 0)
        j = emu_mint_reveal(s->mint);
    else
        return emu_send_buf(con, 404, EMU_JSON_CT, "{\"Code\":\"NotFound\"}", 19,
                        NULL);
    ret = emu_send_json(con, 200, j, NULL);
    json_decref(j);
    return ret;
}

/* Collects the request's body across MHD's calls: returns MHD_YES while
 * it is still coming (*done 0), or with *done 1 once it is all there.
 * Beyond max_body it is dropped and the request marked too big. */
static enum MHD_Result collect_body(struct MHD_Connection *con,
                                    struct emu_req *r, size_t max_body,
                                    const char *upload_data,
                                    size_t *upload_data_size, int *done)
{
    *done = 0;
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
    *done = 1;
    return MHD_YES;
}

/* Answers a complete request: the size limits first, then by path and
 * method. */
static enum MHD_Result route(struct emu_server *s, struct MHD_Connection *con,
                             struct emu_req *r, const char *url,
                             const char *method)
{
    if (r->too_big) {
        static const char msg[] =
            "{\"Code\":\"RequestEntityTooLarge\",\"Message\":\"The request "
            "body is larger than the emulator accepts.\"}";

        return emu_send_buf(con, 413, EMU_JSON_CT, msg, sizeof(msg) - 1, NULL);
    }
    if (s->o.max_uri && strlen(r->target) > s->o.max_uri) {
        static const char msg[] =
            "<html><head><title>414 Request-URI Too Large</title></head>"
            "<body>414 Request-URI Too Large</body></html>";

        pthread_mutex_lock(&s->lock);
        s->stats.uri_too_long++;
        pthread_mutex_unlock(&s->lock);
        return emu_send_buf(con, 414, "text/html", msg, sizeof(msg) - 1, NULL);
    }
    if (strncmp(url, "/__emu/", 7) == 0 && strcmp(method, "GET") == 0)
        return handle_internal(s, con, url);
    if (strcmp(url, "/__emu/faults") == 0 && strcmp(method, "POST") == 0)
        return handle_set_faults(s, con, r);
    if (strcmp(url, "/__emu/clock") == 0 && strcmp(method, "POST") == 0)
        return handle_advance_clock(s, con, r);
    if (emu_creds_route(url))
        return emu_creds_handle(s, con, r, url, method);
    if (strcmp(url, "/__emu/console") == 0 && strcmp(method, "POST") == 0)
        return handle_console(s, con, r);
    if (strcmp(url, "/") != 0) {
        static const char msg[] = "{\"Code\":\"InvalidURI\",\"Message\":"
                                  "\"RPC requests go to /.\"}";

        return emu_send_buf(con, 404, EMU_JSON_CT, msg, sizeof(msg) - 1, NULL);
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0) {
        static const char msg[] =
            "{\"Code\":\"UnsupportedHTTPMethod\",\"Message\":"
            "\"Use GET or POST.\"}";

        return emu_send_buf(con, 405, EMU_JSON_CT, msg, sizeof(msg) - 1, NULL);
    }
    return emu_api_handle(s, con, r, method);
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *con,
                                 const char *url, const char *method,
                                 const char *version,
                                 const char *upload_data,
                                 size_t *upload_data_size, void **req_cls)
{
    struct emu_server *s = cls;
    struct emu_req *r = *req_cls;
    size_t max_body = s->o.max_body ? s->o.max_body : DEFAULT_MAX_BODY;
    enum MHD_Result ret = MHD_YES;
    int done = 0;

    (void)version;
    if (r == NULL)
        return MHD_NO; /* the URI callback ran out of memory */
    ret = collect_body(con, r, max_body, upload_data, upload_data_size,
                       &done);
    if (!done)
        return ret;
    return route(s, con, r, url, method);
}

/* ---- lifecycle ---- */

static void free_server(struct emu_server *s)
{
    if (s == NULL)
        return;
    emu_quotas_cleanup(&s->quotas);
    emu_counters_cleanup(&s->stats);
    emu_log_close(s->log);
    if (s->mint)
        emu_verifier_set_minted(s->o.verifier, NULL);
    emu_mint_free(s->mint);
    free(s->oidc_token);
    free(s->ecs_role);
    free(s->cred_account);
    free(s->bind);
    free(s->cert);
    free(s->key);
    free(s->host_id);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* A new server holding its own copies of the options' strings, its clock
 * set and its request log open. 0, or ORCH_ENOMEM / ORCH_EIO with diag
 * (*out NULL). */
static int server_new(const struct emu_server_opts *o,
                      struct emu_server **out, struct orch_diag *diag)
{
    struct emu_server *s = calloc(1, sizeof(*s));
    bool tls = o->tls_cert_pem && o->tls_key_pem;
    int rc = 0;

    *out = NULL;
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
    s->oidc_token = o->oidc_token ? strdup(o->oidc_token) : NULL;
    s->ecs_role = o->ecs_role ? strdup(o->ecs_role) : NULL;
    s->cred_account = o->cred_account ? strdup(o->cred_account) : NULL;
    s->mint = emu_mint_new();
    if (s->bind == NULL || (tls && (s->cert == NULL || s->key == NULL))
        || (o->host_id && s->host_id == NULL) || s->mint == NULL
        || (o->oidc_token && s->oidc_token == NULL)
        || (o->ecs_role && s->ecs_role == NULL)
        || (o->cred_account && s->cred_account == NULL)) {
        free_server(s);
        return ORCH_ENOMEM;
    }
    s->o.oidc_token = s->oidc_token;
    s->o.ecs_role = s->ecs_role;
    s->o.cred_account = s->cred_account;
    /* The verifier accepts what this server mints, while it runs. */
    emu_verifier_set_minted(o->verifier, s->mint);
    s->o.bind = s->bind;
    s->o.tls_cert_pem = s->cert;
    s->o.tls_key_pem = s->key;
    s->o.host_id = s->host_id;
    s->o.request_log = NULL;
    if (o->request_log) {
        rc = emu_log_open(&s->log, o->request_log, diag);
        if (rc) {
            free_server(s);
            return rc;
        }
    }
    *out = s;
    return 0;
}

/* The address to listen on, from s->bind and port, into *ss; adds
 * MHD_USE_IPv6 to *flags for an IPv6 one. 0 or ORCH_EINVAL with diag. */
static int bind_addr(const struct emu_server *s, uint16_t port,
                     struct sockaddr_storage *ss, unsigned *flags,
                     struct orch_diag *diag)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, s->bind, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        return 0;
    }
    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET6, s->bind, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        *flags |= MHD_USE_IPv6;
        return 0;
    }
    return orch_diag_set(diag, ORCH_EINVAL,
                         "--bind: \"%s\" is not an IPv4 or IPv6 address",
                         s->bind);
}

/* Starts MHD on ss with the threading `pool` asks for (see
 * emu_server_threads) and, when s has a certificate, TLS. */
static struct MHD_Daemon *start_daemon(struct emu_server *s, unsigned flags,
                                       const struct sockaddr_storage *ss,
                                       unsigned pool)
{
    /* The certificate's options, or none: the array ends at the first
     * MHD_OPTION_END. */
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, s->cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, s->key},
        {MHD_OPTION_END, 0, NULL},
    };

    if (s->cert)
        flags |= MHD_USE_TLS;
    else
        tls_opts[0].option = MHD_OPTION_END;
    if (pool == 0)
        flags |= MHD_USE_THREAD_PER_CONNECTION;
    /* MHD_OPTION_THREAD_POOL_SIZE 0 and 1 both mean "no pool": the
     * internal polling thread alone serves everything. */
    return MHD_start_daemon(
        flags, s->o.port, NULL, NULL, access_cb, s, MHD_OPTION_SOCK_ADDR,
        (const struct sockaddr *)ss,
        MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb, s,
        MHD_OPTION_NOTIFY_COMPLETED, completed_cb, s,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
        MHD_OPTION_THREAD_POOL_SIZE, pool, MHD_OPTION_UNESCAPE_CALLBACK,
        no_unescape, s, MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
}

int emu_server_start(const struct emu_server_opts *o, struct emu_server **out,
                     struct orch_diag *diag)
{
    struct emu_server *s = NULL;
    struct sockaddr_storage ss;
    unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD;
    const union MHD_DaemonInfo *di = NULL;
    int rc = 0;

    *out = NULL;
    rc = emu_server_opts_check(o, diag);
    if (rc)
        return rc;
    rc = server_new(o, &s, diag);
    if (rc)
        return rc;
    rc = bind_addr(s, o->port, &ss, &flags, diag);
    if (rc)
        goto fail;
    s->start_ms = emu_server_now(s);
    s->d = start_daemon(s, flags, &ss, emu_server_threads(o));
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
