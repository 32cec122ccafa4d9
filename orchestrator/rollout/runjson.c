/* runjson.c - the summary document of `run --json` and `plan --json`
 * (runjson.h). Pure builders on jsonout.h's base document. */
#include "orch/rollout/runjson.h"

#include "orch/base/err.h"
#include "orch/base/jsonout.h"
#include "orch/base/tally.h"
#include "orch/cloud/params.h"
#include "orch/engine/problem.h"
#include "orch/rollout/devcheck.h"
#include "orch/rollout/preflight.h"

static const char *pf_state_name(enum orch_pf_state s)
{
    switch (s) {
    case ORCH_PF_PASSED:
        return "passed";
    case ORCH_PF_FAILED:
        return "failed";
    case ORCH_PF_ABORTED:
        return "aborted";
    case ORCH_PF_SKIPPED:
        return "skipped";
    case ORCH_PF_NOT_RUN:
    default:
        return "not_run";
    }
}

/* A fixed-size text field: null when empty. */
static json_t *text_or_null(const char *s)
{
    return orch_jsonout_str_or_null(s[0] ? s : NULL);
}

/* One "counts" entry. */
struct count_field {
    const char *key;
    uint64_t value;
};

static json_t *counts_json(const struct orch_run_summary *s)
{
    const struct count_field f[] = {
        {"devices", s->devices},
        {"duplicates", s->duplicates},
        {"rejected", s->rejected},
        {"dropped_missing", s->dropped_missing},
        {"dropped_up_to_date", s->dropped_up_to_date},
        {"unchecked", s->unchecked},
        {"chunks", s->chunks},
        {"created", s->created},
        {"failed", s->failed},
        {"not_sent", s->not_sent},
        {"already_done", s->already_done},
        {"calls", s->calls},
        {"retries", s->retries},
        {"throttled", s->throttled},
        {"form_fallbacks", s->form_fallbacks},
        {"queries", s->queries},
        {"reconciled", s->reconciled},
        {"recovered", s->recovered},
    };
    json_t *o = json_object();
    size_t i = 0;
    int bad = 0;

    if (o == NULL)
        return NULL;
    for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        bad |= orch_jsonout_put(o, f[i].key, orch_jsonout_count(f[i].value));
    return orch_jsonout_built(o, bad);
}

static json_t *errors_json(const struct orch_run_summary *s)
{
    json_t *o = json_object();
    size_t i = 0;
    int bad = 0;

    if (o == NULL)
        return NULL;
    for (i = 0; s->codes != NULL && i < s->codes->count; i++)
        bad |= orch_jsonout_put(o, s->codes->e[i].code,
                                orch_jsonout_count(s->codes->e[i].n));
    return orch_jsonout_built(o, bad);
}

static json_t *check_json(const struct orch_fw_check *c)
{
    json_t *o = json_object();
    const char *verdict = orch_fw_verdict_name(c->verdict);
    int bad = 0;

    if (o == NULL)
        return NULL;
    bad |= orch_jsonout_put(o, "product_key",
                            orch_jsonout_str_or_null(c->product_key));
    bad |= orch_jsonout_put(o, "firmware_id",
                            orch_jsonout_str_or_null(c->firmware_id));
    bad |= orch_jsonout_put(o, "verdict", json_string(verdict));
    bad |= orch_jsonout_put(
        o, "status", c->status == -2 ? json_null() : json_integer(c->status));
    bad |= orch_jsonout_put(o, "dest_version", text_or_null(c->dest_version));
    bad |= orch_jsonout_put(o, "code", text_or_null(c->code));
    bad |= orch_jsonout_put(o, "message", text_or_null(c->message));
    /* A failed query: its class, request id, and the server's own text
     * on one line (never in the human output). */
    if (c->verdict == ORCH_FW_QUERY_FAILED || c->verdict == ORCH_FW_MISSING) {
        bad |= orch_jsonout_put(o, "problem",
                                json_string(orch_problem_name(c->problem)));
        bad |= orch_jsonout_put(o, "request_id", text_or_null(c->request_id));
        bad |= orch_jsonout_put(o, "server_message",
                                text_or_null(c->server_message));
    }
    return orch_jsonout_built(o, bad);
}

static json_t *devcheck_json(const struct orch_device_check_stats *d)
{
    if (d == NULL)
        return json_null();
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "checked",
                     orch_jsonout_count(d->checked), "missing",
                     orch_jsonout_count(d->missing), "up_to_date",
                     orch_jsonout_count(d->up_to_date), "unchecked",
                     orch_jsonout_count(d->unchecked), "calls",
                     orch_jsonout_count(d->calls), "first_error",
                     text_or_null(d->first_error));
}

static json_t *preflight_json(const struct orch_run_summary *s)
{
    json_t *o = json_object();
    json_t *checks = json_array();
    size_t i = 0;
    int bad = 0;

    if (o == NULL || checks == NULL) {
        json_decref(o);
        json_decref(checks);
        return NULL;
    }
    for (i = 0; s->pf && i < s->pf->nchecks; i++) {
        json_t *c = check_json(&s->pf->checks[i]);

        if (c == NULL || json_array_append_new(checks, c))
            bad = -1;
    }
    bad |= orch_jsonout_put(o, "firmware",
                            json_string(pf_state_name(s->pf_state)));
    bad |= orch_jsonout_put(o, "checks", checks);
    bad |= orch_jsonout_put(o, "calls",
                            orch_jsonout_count(s->pf ? s->pf->calls : 0));
    bad |= orch_jsonout_put(o, "devices", devcheck_json(s->devcheck));
    return orch_jsonout_built(o, bad);
}

static json_t *credentials_json(const struct orch_run_summary *s)
{
    if (s->cred_source == NULL)
        return json_null();
    return json_pack("{s:o, s:s, s:o}", "provider",
                     orch_jsonout_str_or_null(s->cred_provider), "source",
                     s->cred_source,
                     "refreshes",
                     s->cred_refreshes < 0
                         ? json_null()
                         : json_integer((json_int_t)s->cred_refreshes));
}

json_t *orch_runjson_summary(const struct orch_run_summary *s)
{
    json_t *doc = orch_jsonout_doc(s->command, s->exit_code, s->exit_reason);
    int bad = 0;

    if (doc == NULL)
        return NULL;
    bad |= orch_jsonout_put(doc, "run_id", orch_jsonout_str_or_null(s->run_id));
    bad |= orch_jsonout_put(doc, "resumed", json_boolean(s->resumed));
    bad |= orch_jsonout_put(doc, "counts", counts_json(s));
    bad |= orch_jsonout_put(doc, "errors", errors_json(s));
    bad |= orch_jsonout_put(doc, "preflight", preflight_json(s));
    bad |=
        orch_jsonout_put(doc, "timings",
                         json_pack("{s:f, s:f, s:f, s:f}", "wall_s", s->wall_s,
                                   "calls_per_s", s->calls_per_s, "send_s",
                                   s->send_s, "chunks_per_s", s->chunks_per_s));
    bad |= orch_jsonout_put(
        doc, "files",
        json_pack("{s:o, s:o, s:o, s:o, s:o}", "report",
                  orch_jsonout_str_or_null(s->report), "failed",
                  orch_jsonout_str_or_null(s->failed_file), "ambiguous",
                  orch_jsonout_str_or_null(s->ambiguous_file), "rejects",
                  orch_jsonout_str_or_null(s->rejects), "journal",
                  orch_jsonout_str_or_null(s->journal)));
    bad |= orch_jsonout_put(doc, "credentials", credentials_json(s));
    bad |= orch_jsonout_put(
        doc, "next_step",
        json_pack("{s:s, s:o}", "action", s->next_step ? s->next_step : "none",
                  "command", orch_jsonout_str_or_null(s->next_command)));
    bad |= orch_jsonout_put(doc, "waves",
                            s->waves ? json_deep_copy(s->waves) : json_null());
    bad |= orch_jsonout_put(doc, "plan", json_null());
    return orch_jsonout_built(doc, bad);
}

int orch_runjson_set_plan(json_t *doc, const char *endpoint,
                          int signature_version, int chunk_size, size_t calls,
                          double qps, json_t *products, size_t dev_calls,
                          double dev_secs, const char *action,
                          const struct orch_params *first)
{
    json_t *plan = NULL;
    json_t *req = json_null();
    int bad = 0;
    size_t i = 0;

    if (first != NULL) {
        json_t *params = json_object();

        req = json_object();
        if (req == NULL || params == NULL) {
            json_decref(params);
            bad = -1;
        } else {
            for (i = 0; i < first->n; i++)
                bad |= orch_jsonout_put(params, first->v[i].name,
                                        json_string(first->v[i].value));
            bad |= orch_jsonout_put(req, "action", json_string(action));
            bad |= orch_jsonout_put(req, "chunk", json_integer(1));
            bad |= orch_jsonout_put(req, "parameters", params);
        }
    }
    plan = json_pack(
        "{s:o, s:i, s:i, s:o, s:f, s:o, s:o, s:o, s:o}", "endpoint",
        orch_jsonout_str_or_null(endpoint), "signature_version",
        signature_version, "chunk_size", chunk_size, "calls_needed",
        orch_jsonout_count(calls), "seconds_needed",
        qps > 0 ? (double)calls / qps : 0.0, "products",
        products ? products : json_array(), "device_check",
        dev_calls
            ? json_pack("{s:o, s:f}", "calls", orch_jsonout_count(dev_calls),
                        "seconds", dev_secs)
            : json_null(),
        "first_request", req ? req : json_null(), "qps", json_real(qps));
    if (plan == NULL || bad) {
        json_decref(plan);
        return ORCH_ENOMEM;
    }
    return orch_jsonout_put(doc, "plan", plan) ? ORCH_ENOMEM : 0;
}
