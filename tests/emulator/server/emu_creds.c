/* emu_creds.c - ota-emulator's credential endpoints next to the API: a
 * credentials URI (GET /credentials) and the ECS instance metadata
 * service's RAM role paths (served only with --ecs-role):
 *
 *   PUT /latest/api/token         IMDSv2 session token; needs
 *                                 X-aliyun-ecs-metadata-token-ttl-seconds
 *                                 in 1..21600 (else 400)
 *   GET /latest/meta-data/ram/security-credentials/         the role name
 *   GET /latest/meta-data/ram/security-credentials/<role>   its keys
 *
 * The GETs take the session token in X-aliyun-ecs-metadata-token: a
 * token that is not valid is 401; none at all is IMDSv1, 401 with
 * --imdsv2-only. Every answer goes to the request log (action
 * CredentialsURI, EcsMetadataToken, EcsMetadataRoles or EcsMetadata;
 * key_id the temporary key handed out) and to the counters.
 */
#include "server/emu_state.h"

#include "gateway/emu_verify.h"
#include "server/emu_answer.h"
#include "world/emu_mint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CRED_PATH "/latest/meta-data/ram/security-credentials/"
#define TTL_HEADER "X-aliyun-ecs-metadata-token-ttl-seconds"
#define TOKEN_HEADER "X-aliyun-ecs-metadata-token"
#define TEXT_CT "text/plain"

/* One request to these endpoints. */
struct cred_req {
    struct emu_server *s;
    struct MHD_Connection *con;
    struct emu_req *r;
    const char *method;
    const char *action;  /* for the log and the counters */
    char request_id[37];
    char key_id[32];     /* the key handed out, "" when none */
    const char *code;    /* "" on success */
    int status;
};

bool emu_creds_route(const char *url)
{
    return strcmp(url, "/credentials") == 0 ||
           strncmp(url, "/latest/", 8) == 0;
}

struct emu_sts_opts emu_server_sts_opts(const struct emu_server *s)
{
    struct emu_sts_opts so;

    memset(&so, 0, sizeof(so));
    so.ttl_ms = (int64_t)s->o.sts_ttl_s * 1000;
    so.oidc_token = s->o.oidc_token;
    so.account_key = s->o.cred_account
                         ? s->o.cred_account
                         : emu_verifier_first_key(s->o.verifier);
    return so;
}

static void cred_log(struct cred_req *c)
{
    struct emu_log_entry le;

    pthread_mutex_lock(&c->s->lock);
    emu_counters_arrival(&c->s->stats, c->action, EMU_ACTION_OTHER, c->r->t);
    pthread_mutex_unlock(&c->s->lock);
    memset(&le, 0, sizeof(le));
    le.t = c->r->t;
    le.request_id = c->request_id;
    le.method = c->method;
    le.action = c->action;
    le.key_id = c->key_id;
    le.code = c->code;
    le.http = c->status;
    le.job_id = "";
    emu_log_write(c->s->log, &le);
}

static enum MHD_Result answer_text(struct cred_req *c, int status,
                                   const char *code, const char *text)
{
    c->status = status;
    c->code = code;
    cred_log(c);
    return emu_send_buf(c->con, status, TEXT_CT, text, strlen(text),
                        c->request_id);
}

/* The minted keys as JSON (credentials URI or metadata). */
static enum MHD_Result answer_keys(struct cred_req *c, bool ecs)
{
    struct emu_sts_opts so = emu_server_sts_opts(c->s);
    json_t *j = emu_sts_flat_answer(c->s->mint, &so, ecs,
                                    emu_server_now(c->s), c->key_id);
    enum MHD_Result ret = MHD_NO;

    c->status = j ? 200 : 500;
    c->code = j ? "" : "InternalError";
    cred_log(c);
    ret = emu_send_json(c->con, c->status, j, c->request_id);
    json_decref(j);
    return ret;
}

static const char *header(struct cred_req *c, const char *name)
{
    return MHD_lookup_connection_value(c->con, MHD_HEADER_KIND, name);
}

static enum MHD_Result session_token(struct cred_req *c)
{
    const char *ttl = header(c, TTL_HEADER);
    char *end = NULL;
    long n = ttl ? strtol(ttl, &end, 10) : 0;
    char tok[48];

    c->action = "EcsMetadataToken";
    if (c->s->o.imdsv1_only)
        return answer_text(c, 404, "NotFound", "Not Found");
    if (ttl == NULL || end == ttl || *end || n < 1 || n > 21600)
        return answer_text(c, 400, "InvalidTTL",
                           "X-aliyun-ecs-metadata-token-ttl-seconds must be "
                           "1..21600");
    if (emu_mint_session_token(c->s->mint, emu_server_now(c->s), n, tok))
        return answer_text(c, 500, "InternalError", "no randomness");
    return answer_text(c, 200, "", tok);
}

/* IMDSv2 session check for the GETs: false when fine, else true with
 * the refusal already answered (*ret). */
static bool session_refused(struct cred_req *c, enum MHD_Result *ret)
{
    const char *tok = header(c, TOKEN_HEADER);

    if (tok == NULL && !c->s->o.imdsv2_only)
        return false; /* IMDSv1 */
    if (tok && emu_mint_session_valid(c->s->mint, tok, emu_server_now(c->s)))
        return false;
    *ret = answer_text(c, 401, "Unauthorized",
                       tok ? "the metadata session token is not valid"
                           : "a metadata session token is required");
    return true;
}

static enum MHD_Result metadata(struct cred_req *c, const char *url)
{
    const char *role = url + strlen(CRED_PATH);
    enum MHD_Result ret = MHD_NO;

    if (strcmp(url, "/latest/api/token") == 0 &&
        strcmp(c->method, "PUT") == 0)
        return session_token(c);
    c->action = *role ? "EcsMetadata" : "EcsMetadataRoles";
    if (strncmp(url, CRED_PATH, strlen(CRED_PATH)) != 0 ||
        strcmp(c->method, "GET") != 0)
        return answer_text(c, 404, "NotFound", "Not Found");
    if (session_refused(c, &ret))
        return ret;
    if (*role == '\0')
        return answer_text(c, 200, "", c->s->o.ecs_role);
    if (strcmp(role, c->s->o.ecs_role) != 0)
        return answer_text(c, 404, "NotFound", "Not Found");
    return answer_keys(c, true);
}

enum MHD_Result emu_creds_handle(struct emu_server *s,
                                 struct MHD_Connection *con,
                                 struct emu_req *r, const char *url,
                                 const char *method)
{
    struct cred_req c;
    uint64_t seq = 0;

    memset(&c, 0, sizeof(c));
    c.s = s;
    c.con = con;
    c.r = r;
    c.method = method;
    c.action = "CredentialsURI";
    pthread_mutex_lock(&s->lock);
    seq = s->seq++;
    pthread_mutex_unlock(&s->lock);
    emu_make_request_id(s->o.faults.seed, seq, c.request_id);
    if (strcmp(url, "/credentials") == 0) {
        if (strcmp(method, "GET") != 0)
            return answer_text(&c, 405, "UnsupportedHTTPMethod", "Use GET.");
        return answer_keys(&c, false);
    }
    c.action = "EcsMetadata";
    if (s->o.ecs_role == NULL)
        return answer_text(&c, 404, "NotFound", "Not Found");
    return metadata(&c, url);
}
