/* jsonout.c - the summary document of --json and the events of
 * --log-format json (jsonout.h). Pure builders; two small writers. */
#include "orch/base/jsonout.h"

#include "orch/base/err.h"
#include "orch/base/exitcode.h"
#include "orch/cloud/params.h"
#include "orch/rollout/preflight.h"
#include "orch/base/tally.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *orch_exit_name(int code)
{
    switch (code) {
    case ORCH_EXIT_OK:
        return "ok";
    case ORCH_EXIT_PARTIAL:
        return "partial";
    case ORCH_EXIT_USAGE:
        return "usage";
    case ORCH_EXIT_INVENTORY:
        return "inventory";
    case ORCH_EXIT_ABORTED:
        return "aborted";
    case ORCH_EXIT_GATE:
        return "gate";
    case ORCH_EXIT_PAUSED:
        return "paused";
    default:
        return "unknown";
    }
}

static const char *default_reason(int code)
{
    switch (code) {
    case ORCH_EXIT_OK:
        return "done";
    case ORCH_EXIT_PARTIAL:
        return "some chunks failed or were not sent";
    case ORCH_EXIT_USAGE:
        return "usage or configuration error";
    case ORCH_EXIT_INVENTORY:
        return "inventory invalid; nothing sent";
    case ORCH_EXIT_ABORTED:
        return "aborted";
    case ORCH_EXIT_GATE:
        return "a wave's health gate aborted the rollout";
    case ORCH_EXIT_PAUSED:
        return "paused; continue with resume";
    default:
        return "unknown";
    }
}

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

/* json_object_set_new with a NULL value fails: count it as ENOMEM. */
static int put(json_t *o, const char *key, json_t *v)
{
    if (v == NULL)
        return -1;
    return json_object_set_new(o, key, v);
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *num(uint64_t v)
{
    return json_integer((json_int_t)v);
}

static json_t *counts_json(const struct orch_run_summary *s)
{
    json_t *o = json_object();
    int bad = 0;

    if (o == NULL)
        return NULL;
    bad |= put(o, "devices", num(s->devices));
    bad |= put(o, "duplicates", num(s->duplicates));
    bad |= put(o, "rejected", num(s->rejected));
    bad |= put(o, "dropped_missing", num(s->dropped_missing));
    bad |= put(o, "dropped_up_to_date", num(s->dropped_up_to_date));
    bad |= put(o, "unchecked", num(s->unchecked));
    bad |= put(o, "chunks", num(s->chunks));
    bad |= put(o, "created", num(s->created));
    bad |= put(o, "failed", num(s->failed));
    bad |= put(o, "not_sent", num(s->not_sent));
    bad |= put(o, "already_done", num(s->already_done));
    bad |= put(o, "calls", num(s->calls));
    bad |= put(o, "retries", num(s->retries));
    bad |= put(o, "throttled", num(s->throttled));
    bad |= put(o, "form_fallbacks", num(s->form_fallbacks));
    bad |= put(o, "queries", num(s->queries));
    bad |= put(o, "reconciled", num(s->reconciled));
    bad |= put(o, "recovered", num(s->recovered));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *errors_json(const struct orch_run_summary *s)
{
    json_t *o = json_object();
    size_t i = 0;
    int bad = 0;

    if (o == NULL)
        return NULL;
    for (i = 0; s->codes != NULL && i < s->codes->count; i++)
        bad |= put(o, s->codes->e[i].code, num(s->codes->e[i].n));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *check_json(const struct orch_fw_check *c)
{
    json_t *o = json_object();
    int bad = 0;

    if (o == NULL)
        return NULL;
    bad |= put(o, "product_key", str_or_null(c->product_key));
    bad |= put(o, "firmware_id", str_or_null(c->firmware_id));
    bad |= put(o, "verdict", json_string(orch_fw_verdict_name(c->verdict)));
    bad |= put(o, "status",
               c->status == -2 ? json_null() : json_integer(c->status));
    bad |= put(o, "dest_version",
               str_or_null(c->dest_version[0] ? c->dest_version : NULL));
    bad |= put(o, "code", str_or_null(c->code[0] ? c->code : NULL));
    bad |= put(o, "message", str_or_null(c->message[0] ? c->message : NULL));
    /* A failed query (issue 11): its class, request id, and the server's
     * own text on one line (never in the human output). */
    if (c->verdict == ORCH_FW_QUERY_FAILED || c->verdict == ORCH_FW_MISSING) {
        bad |= put(o, "problem", json_string(orch_problem_name(c->problem)));
        bad |= put(o, "request_id",
                   str_or_null(c->request_id[0] ? c->request_id : NULL));
        bad |= put(o, "server_message",
                   str_or_null(c->server_message[0] ? c->server_message
                                                    : NULL));
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *devcheck_json(const struct orch_device_check_stats *d)
{
    if (d == NULL)
        return json_null();
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "checked",
                     num(d->checked), "missing", num(d->missing),
                     "up_to_date", num(d->up_to_date), "unchecked",
                     num(d->unchecked), "calls", num(d->calls), "first_error",
                     str_or_null(d->first_error[0] ? d->first_error : NULL));
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
    bad |= put(o, "firmware", json_string(pf_state_name(s->pf_state)));
    bad |= put(o, "checks", checks);
    bad |= put(o, "calls", num(s->pf ? s->pf->calls : 0));
    bad |= put(o, "devices", devcheck_json(s->devcheck));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *orch_jsonout_exit(int code, const char *reason)
{
    return json_pack("{s:i, s:s, s:s}", "code", code, "name",
                     orch_exit_name(code), "reason",
                     reason && *reason ? reason : default_reason(code));
}

json_t *orch_jsonout_doc(const char *command, int code, const char *reason)
{
    json_t *doc = json_object();
    int bad = 0;

    if (doc == NULL)
        return NULL;
    bad |= put(doc, "schema", json_integer(ORCH_JSONOUT_SCHEMA));
    bad |= put(doc, "command", str_or_null(command));
    bad |= put(doc, "exit", orch_jsonout_exit(code, reason));
    if (bad) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

json_t *orch_jsonout_summary(const struct orch_run_summary *s)
{
    json_t *doc = orch_jsonout_doc(s->command, s->exit_code, s->exit_reason);
    int bad = 0;

    if (doc == NULL)
        return NULL;
    bad |= put(doc, "run_id", str_or_null(s->run_id));
    bad |= put(doc, "resumed", json_boolean(s->resumed));
    bad |= put(doc, "counts", counts_json(s));
    bad |= put(doc, "errors", errors_json(s));
    bad |= put(doc, "preflight", preflight_json(s));
    bad |= put(doc, "timings",
               json_pack("{s:f, s:f, s:f, s:f}", "wall_s", s->wall_s,
                         "calls_per_s", s->calls_per_s, "send_s", s->send_s,
                         "chunks_per_s", s->chunks_per_s));
    bad |= put(doc, "files",
               json_pack("{s:o, s:o, s:o, s:o, s:o}", "report",
                         str_or_null(s->report), "failed",
                         str_or_null(s->failed_file), "ambiguous",
                         str_or_null(s->ambiguous_file), "rejects",
                         str_or_null(s->rejects), "journal",
                         str_or_null(s->journal)));
    bad |= put(doc, "next_step",
               json_pack("{s:s, s:o}", "action",
                         s->next_step ? s->next_step : "none", "command",
                         str_or_null(s->next_command)));
    bad |= put(doc, "plan", json_null());
    if (bad) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

int orch_jsonout_set_plan(json_t *doc, const char *endpoint,
                          int signature_version, int chunk_size,
                          size_t calls, double qps, json_t *products,
                          size_t dev_calls, double dev_secs,
                          const char *action, const struct orch_params *first)
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
                bad |= put(params, first->v[i].name,
                           json_string(first->v[i].value));
            bad |= put(req, "action", json_string(action));
            bad |= put(req, "chunk", json_integer(1));
            bad |= put(req, "parameters", params);
        }
    }
    plan = json_pack("{s:o, s:i, s:i, s:o, s:f, s:o, s:o, s:o, s:o}",
                     "endpoint", str_or_null(endpoint), "signature_version",
                     signature_version, "chunk_size", chunk_size,
                     "calls_needed", num(calls), "seconds_needed",
                     qps > 0 ? (double)calls / qps : 0.0, "products",
                     products ? products : json_array(), "device_check",
                     dev_calls ? json_pack("{s:o, s:f}", "calls",
                                           num(dev_calls), "seconds",
                                           dev_secs)
                               : json_null(),
                     "first_request", req ? req : json_null(), "qps",
                     json_real(qps));
    if (plan == NULL || bad) {
        json_decref(plan);
        return ORCH_ENOMEM;
    }
    return put(doc, "plan", plan) ? ORCH_ENOMEM : 0;
}

int orch_jsonout_print(FILE *fp, const json_t *doc)
{
    if (json_dumpf(doc, fp, JSON_INDENT(2) | JSON_SORT_KEYS |
                                JSON_REAL_PRECISION(6)) != 0)
        return ORCH_EIO;
    if (fputc('\n', fp) == EOF || fflush(fp) != 0)
        return ORCH_EIO;
    return 0;
}

int orch_jsonout_deliver(const json_t *doc, FILE *doc_fp, FILE *event_fp,
                         int64_t wall_ms)
{
    int rc = 0;

    if (doc_fp != NULL)
        rc = doc != NULL ? orch_jsonout_print(doc_fp, doc) : ORCH_EIO;
    if (doc != NULL && event_fp != NULL) {
        json_t *ev = orch_event_new("summary", wall_ms);

        /* json_object_set takes its own reference: doc stays borrowed. */
        if (ev != NULL && json_object_set(ev, "summary", (json_t *)doc) != 0) {
            json_decref(ev);
            ev = NULL;
        }
        orch_event_emit(event_fp, ev);
    }
    return rc;
}

json_t *orch_event_new(const char *name, int64_t wall_ms)
{
    time_t secs = (time_t)(wall_ms / 1000);
    struct tm tm;
    char stamp[64];

    memset(&tm, 0, sizeof(tm));
    gmtime_r(&secs, &tm);
    snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(wall_ms % 1000));
    return json_pack("{s:s, s:I, s:s}", "time", stamp, "ts",
                     (json_int_t)wall_ms, "event", name);
}

void orch_event_emit(FILE *fp, json_t *ev)
{
    char *line = NULL;
    size_t n = 0;

    if (ev == NULL)
        return;
    line = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(ev);
    if (line == NULL)
        return;
    /* One write for the line and its newline: lines from one process do
     * not interleave in a shared pipe. */
    n = strlen(line);
    line[n] = '\n';
    fwrite(line, 1, n + 1, fp);
    fflush(fp);
    free(line);
}
