/* preflight.c - the firmware check before the first Create
 * (QueryOTAFirmware; preflight.h).
 *
 * DESIGN: the check is a list of idempotent query items, one per distinct
 * firmware, handed to orch_dispatch_run (same signing, pacing, retries and
 * interrupt handling as the rollout), with the run's engine options
 * at the operation's own quota. The dispatcher's done() callback
 * runs on this thread and hands the decoded answer to the pure judge
 * (orch_preflight_judge_firmware), which the unit tests drive with canned
 * JSON; orch_preflight_conclude then words the result. Nothing here
 * prints; messages are sentences in the result for the edge (run.c) to
 * show. devcheck.c does the same for the devices.
 */
#include "orch/rollout/preflight.h"

#include "orch/cloud/api.h"
#include "orch/model/config.h"
#include "orch/cloud/credentials.h"
#include "orch/engine/dispatch.h"
#include "orch/engine/engine_opts.h"
#include "orch/base/err.h"
#include "orch/model/inventory.h"
#include "orch/cloud/params.h"
#include "orch/model/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *orch_fw_verdict_name(enum orch_fw_verdict v)
{
    switch (v) {
    case ORCH_FW_OK:
        return "ok";
    case ORCH_FW_MISSING:
        return "missing";
    case ORCH_FW_WRONG_PRODUCT:
        return "wrong_product";
    case ORCH_FW_UNVERIFIED:
        return "unverified";
    case ORCH_FW_VERIFYING:
        return "verifying";
    case ORCH_FW_VERIFY_FAILED:
        return "verify_failed";
    case ORCH_FW_BAD_STATE:
        return "bad_state";
    case ORCH_FW_QUERY_FAILED:
        return "query_failed";
    }
    return "unknown";
}

void orch_preflight_result_init(struct orch_preflight_result *r)
{
    memset(r, 0, sizeof(*r));
}

void orch_preflight_result_cleanup(struct orch_preflight_result *r)
{
    if (r == NULL)
        return;
    free(r->checks);
    memset(r, 0, sizeof(*r));
}

/* --- firmware judgement ------------------------------------------------- */

/* A problem of the account or the endpoint, not of one firmware: told
 * once for the whole check. */
static bool account_problem(enum orch_problem p)
{
    return p == ORCH_PROBLEM_CREDENTIALS || p == ORCH_PROBLEM_KEY_UNKNOWN ||
           p == ORCH_PROBLEM_CLOCK || p == ORCH_PROBLEM_ENDPOINT ||
           p == ORCH_PROBLEM_DENIED;
}

/* "CODE" or "CODE, request id ID". */
static void code_and_id(char *out, size_t cap, const struct orch_fw_check *c)
{
    if (c->request_id[0])
        snprintf(out, cap, "%.100s, request id %.100s", c->code,
                 c->request_id);
    else
        snprintf(out, cap, "%.100s", c->code);
}

static void copy_str(char *dst, size_t dstsz, json_t *v)
{
    const char *s = json_string_value(v);

    snprintf(dst, dstsz, "%s", s ? s : "");
}

/* FirmwareInfo.Status as an int: a JSON integer or a numeric string. */
static bool get_status(json_t *v, int *out)
{
    const char *s = NULL;
    char *end = NULL;
    long l = 0;

    if (json_is_integer(v)) {
        *out = (int)json_integer_value(v);
        return true;
    }
    s = json_string_value(v);
    if (s == NULL || *s == '\0')
        return false;
    l = strtol(s, &end, 10);
    if (*end != '\0')
        return false;
    *out = (int)l;
    return true;
}

/* The answer's firmware object: the real API answers FirmwareInfo; accept
 * Data for the generic IoT shape. NULL: neither. */
static json_t *firmware_info(json_t *root)
{
    json_t *info = json_object_get(root, "FirmwareInfo");

    if (!json_is_object(info))
        info = json_object_get(root, "Data");
    return json_is_object(info) ? info : NULL;
}

/* Copies what the answer says of the firmware into chk. */
static void read_info(struct orch_fw_check *chk, json_t *info)
{
    copy_str(chk->fw_product, sizeof(chk->fw_product),
             json_object_get(info, "ProductKey"));
    copy_str(chk->dest_version, sizeof(chk->dest_version),
             json_object_get(info, "DestVersion"));
    copy_str(chk->fw_name, sizeof(chk->fw_name),
             json_object_get(info, "FirmwareName"));
    if (!get_status(json_object_get(info, "Status"), &chk->status))
        chk->status = -2;
}

/* How the messages name the firmware: "firmware ID ("NAME", version V)". */
static void describe(char *what, size_t cap, const struct orch_fw_check *chk)
{
    const char *version = chk->dest_version[0] ? chk->dest_version : "?";

    if (chk->fw_name[0])
        snprintf(what, cap, "firmware %.64s (\"%.40s\", version %.64s)",
                 chk->firmware_id, chk->fw_name, version);
    else
        snprintf(what, cap, "firmware %.64s (version %.64s)",
                 chk->firmware_id, version);
}

/* The verdict of a firmware of the right product, from its Status. */
static void judge_status(struct orch_fw_check *chk, json_t *info,
                         const char *what)
{
    json_t *progress = NULL;

    switch (chk->status) {
    case 1:
    case -1:
        chk->verdict = ORCH_FW_OK;
        chk->message[0] = '\0';
        return;
    case 0:
        chk->verdict = ORCH_FW_UNVERIFIED;
        snprintf(chk->message, sizeof(chk->message),
                 "%s is not verified (Status 0): verify it on a few devices "
                 "first (CreateOTAVerifyJob, or \"Verify\" in the IoT "
                 "console) and run again once it has passed",
                 what);
        return;
    case 2:
        chk->verdict = ORCH_FW_VERIFYING;
        progress = json_object_get(info, "VerifyProgress");
        snprintf(chk->message, sizeof(chk->message),
                 "%s is being verified (Status 2, %lld%% done): wait until "
                 "its verification job has finished and passed, then run "
                 "again",
                 what,
                 json_is_integer(progress) ? json_integer_value(progress)
                                           : 0LL);
        return;
    case 3:
        chk->verdict = ORCH_FW_VERIFY_FAILED;
        snprintf(chk->message, sizeof(chk->message),
                 "%s failed its verification (Status 3): look at the "
                 "verification job's failed devices, then verify it again "
                 "(CreateOTAVerifyJob) or upload a fixed package",
                 what);
        return;
    default:
        chk->verdict = ORCH_FW_BAD_STATE;
        if (chk->status == -2)
            snprintf(chk->message, sizeof(chk->message),
                     "%s: QueryOTAFirmware gave no Status; cannot tell "
                     "whether it is verified (pass --skip-preflight to send "
                     "anyway)",
                     what);
        else
            snprintf(chk->message, sizeof(chk->message),
                     "%s is in an unknown state (Status %d); expected 1 "
                     "(verified) or -1 (no verification needed)",
                     what, chk->status);
        return;
    }
}

/* Judges an answered query: the firmware, its product, its state. */
static void judge_answer(struct orch_fw_check *chk, json_t *root)
{
    json_t *info = firmware_info(root);
    char what[200];

    if (info == NULL) {
        chk->verdict = ORCH_FW_QUERY_FAILED;
        snprintf(chk->code, sizeof(chk->code), "BadResponse");
        snprintf(chk->message, sizeof(chk->message),
                 "firmware %s: QueryOTAFirmware answered without "
                 "FirmwareInfo; check the endpoint, or pass "
                 "--skip-preflight",
                 chk->firmware_id);
        return;
    }
    read_info(chk, info);
    describe(what, sizeof(what), chk);
    if (chk->fw_product[0] &&
        strcmp(chk->fw_product, chk->product_key) != 0) {
        chk->verdict = ORCH_FW_WRONG_PRODUCT;
        snprintf(chk->message, sizeof(chk->message),
                 "%.180s belongs to product %.40s, not to product %.40s of "
                 "the devices it was chosen for: give product %.40s a "
                 "firmware of its own (--firmware %.40s=FIRMWARE_ID)",
                 what, chk->fw_product, chk->product_key, chk->product_key,
                 chk->product_key);
        return;
    }
    judge_status(chk, info, what);
}

/* Forgets what an earlier judgement of chk found. */
static void reset_check(struct orch_fw_check *chk)
{
    chk->status = -2;
    chk->fw_product[0] = chk->dest_version[0] = chk->fw_name[0] = '\0';
    chk->code[0] = chk->message[0] = '\0';
    chk->request_id[0] = chk->server_message[0] = '\0';
    chk->problem = ORCH_PROBLEM_OTHER;
    chk->told = false;
}

/* The code of a failed query (the result's, the answer's, or the item's
 * status name; "not_sent" with no result) and its server text. */
static void failure_of(const struct orch_item_result *res, const char **code,
                       const char **msg)
{
    *code = NULL;
    *msg = NULL;
    if (res) {
        *code = res->error_code;
        *msg = res->error_message;
        if ((*code == NULL || **code == '\0') && res->resp)
            *code = res->resp->code;
        if ((*msg == NULL || **msg == '\0') && res->resp)
            *msg = res->resp->message;
    }
    if (*code == NULL || **code == '\0')
        *code = res ? orch_item_status_name(res->status) : "not_sent";
    if (*msg == NULL)
        *msg = "";
}

/* The message of a failed query, by its class (chk->problem). */
static void word_failure(struct orch_fw_check *chk, const char *code)
{
    const char *fw = chk->firmware_id;
    char what[240];
    char advice[300];

    code_and_id(what, sizeof(what), chk);
    if (chk->problem == ORCH_PROBLEM_FIRMWARE_MISSING) {
        struct orch_problem_ctx pc = {0};

        chk->verdict = ORCH_FW_MISSING;
        pc.firmware_id = fw;
        pc.preflight = true;
        orch_problem_advice(chk->problem, &pc, advice, sizeof(advice));
        snprintf(chk->message, sizeof(chk->message),
                 "firmware %.64s does not exist in this account (%.140s): "
                 "%.250s",
                 fw, what, advice);
    } else if (account_problem(chk->problem)) {
        /* orch_preflight_run tells it, with the advice, once. */
        snprintf(chk->message, sizeof(chk->message),
                 "firmware %.64s not checked: %s (%s)", fw,
                 orch_problem_title(chk->problem), what);
    } else if (strstr(code, "InstanceIdMisMatch")) {
        snprintf(chk->message, sizeof(chk->message),
                 "firmware %.64s: the IoT instance does not match (%s): "
                 "check --iot-instance-id",
                 fw, what);
    } else {
        orch_problem_advice(chk->problem, NULL, advice, sizeof(advice));
        snprintf(chk->message, sizeof(chk->message),
                 "firmware %.64s could not be checked (%.140s): %.250s", fw,
                 what, advice);
    }
}

void orch_preflight_judge_firmware(struct orch_fw_check *chk,
                                   const struct orch_item_result *res)
{
    const char *code = NULL;
    const char *msg = NULL;

    reset_check(chk);
    if (res && res->status == ORCH_ITEM_CREATED && res->resp &&
        res->resp->root) {
        judge_answer(chk, res->resp->root);
        return;
    }
    chk->verdict = ORCH_FW_QUERY_FAILED;
    failure_of(res, &code, &msg);
    snprintf(chk->code, sizeof(chk->code), "%s", code);
    if (res && res->resp)
        snprintf(chk->request_id, sizeof(chk->request_id), "%s",
                 res->resp->request_id);
    orch_problem_one_line(msg, chk->server_message,
                          sizeof(chk->server_message));
    chk->problem = orch_problem_classify(code, 0);
    word_failure(chk, code);
}

const char *orch_preflight_dest_version(const struct orch_preflight_result *r,
                                        const char *firmware_id)
{
    size_t i = 0;

    if (r == NULL || firmware_id == NULL)
        return NULL;
    for (i = 0; i < r->nchecks; i++) {
        const struct orch_fw_check *c = &r->checks[i];

        if (strcmp(c->firmware_id, firmware_id) == 0 && c->dest_version[0])
            return c->dest_version;
    }
    return NULL;
}

/* --- firmware check ----------------------------------------------------- */

struct fw_ctx {
    const struct orch_config *cfg;
    struct orch_preflight_result *out;
    const char **fws; /* distinct firmware ids: the dispatch items */
    size_t nfws;
};

static int add_instance(struct orch_params *p, const struct orch_config *cfg)
{
    if (cfg->iot_instance_id == NULL)
        return 0;
    return orch_params_add(p, "IotInstanceId", cfg->iot_instance_id);
}

static int fw_build(void *ud, size_t item, struct orch_params *p)
{
    struct fw_ctx *ctx = ud;
    int rc = orch_params_add(p, "FirmwareId", ctx->fws[item]);

    if (rc == 0)
        rc = add_instance(p, ctx->cfg);
    return rc;
}

static void fw_done(void *ud, size_t item, const struct orch_item_result *res)
{
    struct fw_ctx *ctx = ud;
    size_t i = 0;

    for (i = 0; i < ctx->out->nchecks; i++) {
        struct orch_fw_check *c = &ctx->out->checks[i];

        if (strcmp(c->firmware_id, ctx->fws[item]) == 0)
            orch_preflight_judge_firmware(c, res);
    }
}

void orch_preflight_judge_shared(struct orch_fw_check *checks, size_t n)
{
    size_t i = 0, j = 0;

    for (i = 0; i < n; i++) {
        struct orch_fw_check *c = &checks[i];

        if (c->verdict != ORCH_FW_OK || c->fw_product[0])
            continue;
        for (j = 0; j < i; j++) {
            if (strcmp(checks[j].firmware_id, c->firmware_id) == 0 &&
                strcmp(checks[j].product_key, c->product_key) != 0)
                break;
        }
        if (j == i)
            continue;
        c->verdict = ORCH_FW_WRONG_PRODUCT;
        snprintf(c->message, sizeof(c->message),
                 "firmware %.64s is given to product %.40s and to product "
                 "%.40s, but a firmware belongs to one product only: give "
                 "product %.40s a firmware of its own (--firmware "
                 "%.40s=FIRMWARE_ID)",
                 c->firmware_id, checks[j].product_key, c->product_key,
                 c->product_key, c->product_key);
    }
}

/* Appends the pair (pk, fw) unless present; and fw to the distinct list. */
static void add_pair(struct fw_ctx *ctx, const char *pk, const char *fw)
{
    struct orch_preflight_result *out = ctx->out;
    size_t i = 0;

    for (i = 0; i < out->nchecks; i++) {
        if (strcmp(out->checks[i].product_key, pk) == 0 &&
            strcmp(out->checks[i].firmware_id, fw) == 0)
            return;
    }
    out->checks[out->nchecks].product_key = pk;
    out->checks[out->nchecks].firmware_id = fw;
    out->checks[out->nchecks].verdict = ORCH_FW_QUERY_FAILED;
    out->checks[out->nchecks].status = -2;
    snprintf(out->checks[out->nchecks].message,
             sizeof(out->checks[0].message), "firmware %s: not checked", fw);
    out->nchecks++;
    for (i = 0; i < ctx->nfws; i++) {
        if (strcmp(ctx->fws[i], fw) == 0)
            return;
    }
    ctx->fws[ctx->nfws++] = fw;
}

/* The (product, firmware) pairs of the plan, in product order. */
static int collect_pairs(struct fw_ctx *ctx, const struct orch_config *cfg,
                         const struct orch_plan *plan, struct orch_diag *diag)
{
    size_t max = plan ? plan->inv->nproducts : 1;
    size_t p = 0;

    ctx->out->checks = calloc(max ? max : 1, sizeof(*ctx->out->checks));
    ctx->fws = calloc(max ? max : 1, sizeof(*ctx->fws));
    if (ctx->out->checks == NULL || ctx->fws == NULL)
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    if (plan == NULL) {
        if (cfg->product_key == NULL || cfg->firmware_id == NULL)
            return orch_diag_set(diag, ORCH_EINVAL,
                                 "pre-flight: --product-key and "
                                 "--firmware-id are needed");
        add_pair(ctx, cfg->product_key, cfg->firmware_id);
        return 0;
    }
    for (p = 0; p < plan->inv->nproducts; p++) {
        const char *pk = plan->inv->products[p];
        const char *fw = orch_config_firmware_for(cfg, pk);

        if (plan->chunks_per_product && plan->chunks_per_product[p] == 0)
            continue;
        if (fw == NULL)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "pre-flight: no firmware for ProductKey "
                                 "\"%s\"",
                                 pk);
        add_pair(ctx, pk, fw);
    }
    return 0;
}

/* Marks each failed check whose message an earlier one already gave;
 * returns the number of distinct messages left (account problems are
 * marked too: verdict() tells them once). *first gets the first one. */
static size_t mark_repeats(struct orch_preflight_result *out,
                           const struct orch_fw_check **first)
{
    size_t i = 0, j = 0, distinct = 0;

    *first = NULL;
    for (i = 0; i < out->nchecks; i++) {
        struct orch_fw_check *c = &out->checks[i];

        if (c->verdict == ORCH_FW_OK)
            continue;
        c->told = account_problem(c->problem);
        for (j = 0; j < i && !c->told; j++) {
            if (out->checks[j].verdict != ORCH_FW_OK &&
                strcmp(out->checks[j].message, c->message) == 0)
                c->told = true;
        }
        if (c->told)
            continue;
        distinct++;
        if (*first == NULL)
            *first = c;
    }
    return distinct;
}

/* The one sentence for a problem of the account or the endpoint. */
static int tell_account_problem(const struct orch_config *cfg,
                                const struct orch_credentials *cred,
                                const struct orch_fw_check *c, bool aborted,
                                struct orch_diag *diag)
{
    struct orch_problem_ctx pc = {0};
    char code[256];
    char sentence[900];

    pc.code = c->code;
    pc.key_id = cred ? cred->access_key_id : NULL;
    pc.cred_source = cred ? cred->source : NULL;
    pc.provider = cred ? cred->provider : NULL;
    pc.refreshed = cred != NULL && cred->live != NULL;
    pc.endpoint = cfg->endpoint;
    pc.action = "QueryOTAFirmware";
    pc.preflight = true;
    /* Nothing answered: libcurl's own one-line reason (refused, resolve,
     * TLS) is ours, not the server's, and tells which. */
    if (c->problem == ORCH_PROBLEM_ENDPOINT && c->server_message[0])
        snprintf(code, sizeof(code), "%.100s: %.150s", c->code,
                 c->server_message);
    else
        snprintf(code, sizeof(code), "%s", c->code);
    orch_problem_sentence(c->problem, code, c->request_id, &pc, sentence,
                          sizeof(sentence));
    return orch_diag_set(diag, aborted ? ORCH_EABORT : ORCH_EAPI,
                         "pre-flight: %s; nothing sent", sentence);
}

int orch_preflight_conclude(const struct orch_config *cfg,
                            const struct orch_credentials *cred,
                            struct orch_preflight_result *out,
                            struct orch_diag *diag)
{
    const struct orch_fw_check *first = NULL;
    const struct orch_fw_check *acct = NULL;
    size_t distinct = mark_repeats(out, &first);
    size_t i = 0;

    for (i = 0; i < out->nchecks && acct == NULL; i++) {
        if (out->checks[i].verdict != ORCH_FW_OK &&
            account_problem(out->checks[i].problem))
            acct = &out->checks[i];
    }
    if (acct) {
        out->problem = acct->problem;
        return tell_account_problem(cfg, cred, acct, out->aborted, diag);
    }
    if (out->aborted)
        return orch_diag_set(diag, ORCH_EABORT,
                             "pre-flight stopped: %s; nothing sent",
                             out->abort_reason);
    if (first == NULL)
        return 0;
    if (distinct == 1) {
        /* diag says it: no check repeats it. */
        for (i = 0; i < out->nchecks; i++) {
            if (out->checks[i].verdict != ORCH_FW_OK)
                out->checks[i].told = true;
        }
        return orch_diag_set(diag, ORCH_EAPI, "%s; nothing sent",
                             first->message);
    }
    return orch_diag_set(diag, ORCH_EAPI,
                         "%zu of %zu firmware checks failed; nothing sent",
                         out->failed, out->nchecks);
}

/* Queries every distinct firmware of ctx at the operation's quota;
 * fw_done judges the pairs as the answers come. */
static int query_firmware(const struct orch_config *cfg,
                          const struct orch_credentials *cred,
                          struct fw_ctx *ctx, struct orch_dispatch_stats *st,
                          struct orch_diag *diag)
{
    struct orch_dispatch_ops ops;
    volatile sig_atomic_t no_interrupt = 0;

    memset(&ops, 0, sizeof(ops));
    ops.action = "QueryOTAFirmware";
    ops.nitems = ctx->nfws;
    ops.build = fw_build;
    ops.done = fw_done;
    ops.ud = ctx;
    return orch_preflight_dispatch(cfg, cred, ORCH_PREFLIGHT_FW_QPS, &ops,
                                   &no_interrupt, st, diag);
}

void orch_preflight_engine_opts(struct orch_engine_opts *eo,
                                const struct orch_config *cfg, double qps)
{
    orch_engine_opts_from_config(eo, cfg);
    eo->qps = qps;
    eo->fatal_streak = 0;
}

int orch_preflight_dispatch(const struct orch_config *cfg,
                            const struct orch_credentials *cred, double qps,
                            struct orch_dispatch_ops *ops,
                            volatile sig_atomic_t *interrupt,
                            struct orch_dispatch_stats *st,
                            struct orch_diag *diag)
{
    struct orch_engine_opts eo;

    orch_preflight_engine_opts(&eo, cfg, qps);
    orch_engine_opts_set_quota_key(&eo, cred);
    ops->idempotent = true;
    return orch_dispatch_run(&eo, cred, ops, interrupt, st, diag);
}

/* Counts the failed checks and takes the dispatcher's stop, if any. */
static void tally_checks(struct orch_preflight_result *out,
                         const struct orch_dispatch_stats *st)
{
    size_t i = 0;

    out->calls = st->calls;
    for (i = 0; i < out->nchecks; i++) {
        if (out->checks[i].verdict != ORCH_FW_OK)
            out->failed++;
    }
    if (st->aborted) {
        out->aborted = true;
        snprintf(out->abort_reason, sizeof(out->abort_reason), "%s",
                 st->abort_reason[0] ? st->abort_reason : "stopped");
    }
}

int orch_preflight_run(const struct orch_config *cfg,
                       const struct orch_credentials *cred,
                       const struct orch_plan *plan,
                       struct orch_preflight_result *out,
                       struct orch_diag *diag)
{
    struct orch_dispatch_stats st;
    struct fw_ctx ctx;
    int rc = 0;

    memset(&ctx, 0, sizeof(ctx));
    memset(&st, 0, sizeof(st));
    orch_preflight_result_cleanup(out);
    ctx.cfg = cfg;
    ctx.out = out;
    rc = collect_pairs(&ctx, cfg, plan, diag);
    if (rc || ctx.nfws == 0)
        goto out;
    rc = query_firmware(cfg, cred, &ctx, &st, diag);
    if (rc)
        goto out;
    orch_preflight_judge_shared(out->checks, out->nchecks);
    tally_checks(out, &st);
    rc = orch_preflight_conclude(cfg, cred, out, diag);
out:
    free(ctx.fws);
    return rc;
}
