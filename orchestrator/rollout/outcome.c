/* outcome.c - a chunk's final outcome as its done record (outcome.h). */
#include "orch/rollout/outcome.h"

#include "orch/cloud/api.h"
#include "orch/engine/dispatch.h"
#include "orch/engine/problem.h"

#include <string.h>

json_t *orch_outcome_record(size_t item, const struct orch_item_result *res,
                            unsigned attempts, int64_t now_ms)
{
    const struct orch_response *r = res->resp;
    const char *job = res->job_id;
    const char *utc = res->utc_create;
    json_t *rec = NULL;

    if ((job == NULL || *job == '\0') && r)
        job = r->job_id;
    if ((utc == NULL || *utc == '\0') && r)
        utc = r->utc_create;
    if (res->status != ORCH_ITEM_CREATED)
        job = utc = NULL; /* a job id on a failure would be misleading */
    if (res->attempts > attempts)
        attempts = res->attempts;
    rec = json_pack("{s:s, s:I, s:s, s:i, s:b}", "t", "done", "c",
                    (json_int_t)item, "status",
                    orch_item_status_name(res->status), "attempts",
                    (int)attempts, "recovered", res->recovered ? 1 : 0);
    if (rec == NULL)
        return NULL;
    if (job && *job)
        json_object_set_new(rec, "job_id", json_string(job));
    if (utc && *utc)
        json_object_set_new(rec, "utc_create", json_string(utc));
    if (r && r->request_id[0])
        json_object_set_new(rec, "request_id", json_string(r->request_id));
    if (res->status != ORCH_ITEM_CREATED) {
        if (res->error_code && *res->error_code)
            json_object_set_new(rec, "code", json_string(res->error_code));
        /* One line: a server's message may span lines (a
         * SignatureDoesNotMatch quotes the canonical request), and the
         * report, the journal and the JSON events keep it on one. */
        if (res->error_message && *res->error_message) {
            char one[1024];

            orch_problem_one_line(res->error_message, one, sizeof(one));
            json_object_set_new(rec, "message", json_string(one));
        }
    }
    json_object_set_new(rec, "time", json_integer(now_ms));
    return rec;
}

const char *orch_outcome_str(const json_t *rec, const char *key)
{
    return json_string_value(json_object_get(rec, key));
}

bool orch_outcome_created(const json_t *done)
{
    const char *s = orch_outcome_str(done, "status");

    return s && strcmp(s, "created") == 0;
}

const char *orch_outcome_code(const json_t *done)
{
    const char *code = orch_outcome_str(done, "code");

    if (code == NULL || *code == '\0')
        code = orch_outcome_str(done, "status");
    return code ? code : "unknown";
}

bool orch_outcome_unknown(const json_t *done, bool sent)
{
    const char *s = orch_outcome_str(done, "status");
    const char *code = orch_outcome_str(done, "code");

    if (s == NULL)
        return false;
    if (strcmp(s, "failed") == 0)
        return code != NULL && strcmp(code, "Ambiguous") == 0;
    return sent && strcmp(s, "not_sent") == 0;
}

const char *orch_outcome_job_id(const json_t *done)
{
    if (done == NULL || !orch_outcome_created(done))
        return NULL;
    return orch_outcome_str(done, "job_id");
}

void orch_outcome_count(json_t *const *rows, size_t n,
                        struct orch_outcome_counts *out)
{
    size_t i = 0;

    out->created = out->failed = out->other = 0;
    for (i = 0; i < n; i++) {
        const char *s = rows[i] ? orch_outcome_str(rows[i], "status") : NULL;

        if (s && strcmp(s, "created") == 0)
            out->created++;
        else if (s && strcmp(s, "failed") == 0)
            out->failed++;
        else
            out->other++;
    }
}
