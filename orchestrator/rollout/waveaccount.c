/* waveaccount.c - the account of a waved run, per wave and in total
 * (waveaccount.h). Pure. */
#include "orch/rollout/waveaccount.h"

#include "orch/base/jsonout.h"
#include "orch/model/waves.h"
#include "orch/rollout/gate.h"
#include "orch/rollout/outcome.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int64_t int_or(const json_t *o, const char *key, int64_t dflt)
{
    const json_t *v = json_object_get(o, key);

    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

/* The outcomes of wave a's chunks. */
static void count_rows(struct orch_wave_account *a, json_t *const *rows,
                       size_t nrows)
{
    size_t i = 0;

    for (i = a->first; i < a->end; i++) {
        const json_t *d = i < nrows ? rows[i] : NULL;
        const char *st = orch_outcome_str(d, "status");

        if (st && strcmp(st, "created") == 0) {
            a->created++;
        } else if (st && strcmp(st, "failed") == 0) {
            a->failed++;
        } else {
            a->not_sent++;
            if (a->not_sent_code[0] == '\0' && d != NULL)
                snprintf(a->not_sent_code, sizeof(a->not_sent_code), "%s",
                         orch_outcome_code(d));
        }
    }
}

/* One wave record about wave a. */
static void see_record(struct orch_wave_account *a, const json_t *rec)
{
    const char *ev = orch_outcome_str(rec, "event");

    if (ev == NULL)
        return;
    if (strcmp(ev, "start") == 0) {
        a->start_ms = int_or(rec, "time", -1);
        a->schedule_ms = int_or(rec, "schedule", -1);
    } else if (strcmp(ev, "gate") == 0) {
        a->gate = rec;
    }
    a->last_event = ev;
    a->reason = strcmp(ev, "paused") == 0 ? orch_outcome_str(rec, "reason")
                                          : NULL;
    a->last_ms = int_or(rec, "time", -1);
}

void orch_waveaccount_build(const struct orch_wave_plan *plan,
                            json_t *const *rows, size_t nrows,
                            const json_t *records,
                            struct orch_wave_account *out)
{
    size_t k = 0, i = 0;
    const json_t *rec = NULL;

    for (k = 0; k < plan->n; k++) {
        struct orch_wave_account *a = &out[k];

        memset(a, 0, sizeof(*a));
        a->first = plan->w[k].first;
        a->end = plan->w[k].end;
        a->devices = plan->w[k].devices;
        a->start_ms = a->schedule_ms = a->last_ms = -1;
        count_rows(a, rows, nrows);
    }
    json_array_foreach(records, i, rec) {
        int64_t w = int_or(rec, "wave", 0);

        if (w >= 1 && (size_t)w <= plan->n)
            see_record(&out[w - 1], rec);
    }
}

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

void orch_waveaccount_print(FILE *fp, const struct orch_wave_account *a,
                            size_t n)
{
    size_t k = 0, chunks = 0, created = 0, failed = 0, not_sent = 0;
    uint64_t devices = 0;

    fprintf(fp, "waves:\n");
    for (k = 0; k < n; k++) {
        const char *why = orch_outcome_str(a[k].gate, "why");
        const char *dec = orch_outcome_str(a[k].gate, "decision");

        fprintf(fp,
                "  wave %zu/%zu%s: chunks %zu-%zu, %" PRIu64
                " devices, %zu job%s: %zu created, %zu failed, %zu not sent",
                k + 1, n, k == 0 ? " (canary)" : "", a[k].first + 1,
                a[k].end, a[k].devices, a[k].created, plural(a[k].created),
                a[k].created, a[k].failed, a[k].not_sent);
        if (a[k].not_sent_code[0])
            fprintf(fp, " (%s)", a[k].not_sent_code);
        if (dec)
            fprintf(fp, "; gate %s: %s", dec, why ? why : "");
        fputc('\n', fp);
        chunks += a[k].end - a[k].first;
        devices += a[k].devices;
        created += a[k].created;
        failed += a[k].failed;
        not_sent += a[k].not_sent;
    }
    fprintf(fp,
            "total over %zu wave%s: %zu chunk%s, %" PRIu64
            " devices: %zu created, %zu failed, %zu not sent\n",
            n, plural(n), chunks, plural(chunks), devices, created, failed,
            not_sent);
}

/* A threshold of the gate record, else of `now` (NULL: null). */
static json_t *threshold(const json_t *rec, const char *key, double now,
                         bool have_now)
{
    const json_t *v = json_object_get(rec, key);

    if (json_is_number(v))
        return json_real(json_number_value(v));
    return have_now ? json_real(now) : json_null();
}

static json_t *gate_json(const json_t *rec, const struct orch_gate *now)
{
    static const char *const counts[] = {"tasks",   "succeeded", "failed",
                                         "canceled", "pending",  "no_task"};
    json_t *o = NULL;
    const json_t *md = json_object_get(rec, "min_decided");
    const json_t *to = json_object_get(rec, "timeout_s");
    size_t i = 0;
    int bad = 0;

    if (rec == NULL)
        return json_null();
    o = json_object();
    if (o == NULL)
        return NULL;
    bad |= orch_jsonout_put(
        o, "decision",
        orch_jsonout_str_or_null(orch_outcome_str(rec, "decision")));
    for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
        bad |= orch_jsonout_put(
            o, counts[i],
            orch_jsonout_count((uint64_t)int_or(rec, counts[i], 0)));
    bad |= orch_jsonout_put(
        o, "why", orch_jsonout_str_or_null(orch_outcome_str(rec, "why")));
    bad |= orch_jsonout_put(o, "time_ms",
                            json_integer(int_or(rec, "time", 0)));
    bad |= orch_jsonout_put(o, "success_threshold",
                            threshold(rec, "success_threshold",
                                      now ? now->success : 0, now != NULL));
    bad |= orch_jsonout_put(o, "failure_threshold",
                            threshold(rec, "failure_threshold",
                                      now ? now->failure : 0, now != NULL));
    bad |= orch_jsonout_put(
        o, "min_decided",
        json_is_integer(md) ? json_integer(json_integer_value(md))
        : now               ? json_integer((json_int_t)now->min_decided)
                            : json_null());
    bad |= orch_jsonout_put(
        o, "timeout_s",
        json_is_integer(to) ? json_integer(json_integer_value(to))
        : now ? json_integer((json_int_t)(now->timeout_ms / 1000))
              : json_null());
    return orch_jsonout_built(o, bad);
}

static json_t *ms_or_null(int64_t ms)
{
    return ms >= 0 ? json_integer((json_int_t)ms) : json_null();
}

static json_t *wave_json(const struct orch_wave_account *a, size_t k,
                         const struct orch_gate *now)
{
    json_t *o = json_object();
    int bad = 0;

    if (o == NULL)
        return NULL;
    bad |= orch_jsonout_put(o, "wave", json_integer((json_int_t)k + 1));
    bad |= orch_jsonout_put(o, "first_chunk",
                            json_integer((json_int_t)a->first + 1));
    bad |= orch_jsonout_put(o, "last_chunk", json_integer((json_int_t)a->end));
    bad |= orch_jsonout_put(o, "chunks", orch_jsonout_count(a->end - a->first));
    bad |= orch_jsonout_put(o, "devices", orch_jsonout_count(a->devices));
    bad |= orch_jsonout_put(o, "jobs", orch_jsonout_count(a->created));
    bad |= orch_jsonout_put(o, "created", orch_jsonout_count(a->created));
    bad |= orch_jsonout_put(o, "failed", orch_jsonout_count(a->failed));
    bad |= orch_jsonout_put(o, "not_sent", orch_jsonout_count(a->not_sent));
    bad |= orch_jsonout_put(o, "not_sent_code",
                            orch_jsonout_str_or_null(
                                a->not_sent_code[0] ? a->not_sent_code
                                                    : NULL));
    bad |= orch_jsonout_put(o, "started_ms", ms_or_null(a->start_ms));
    bad |= orch_jsonout_put(o, "schedule_ms", ms_or_null(a->schedule_ms));
    bad |= orch_jsonout_put(o, "last_event",
                            orch_jsonout_str_or_null(a->last_event));
    bad |= orch_jsonout_put(o, "reason", orch_jsonout_str_or_null(a->reason));
    bad |= orch_jsonout_put(o, "last_event_ms", ms_or_null(a->last_ms));
    bad |= orch_jsonout_put(o, "gate", gate_json(a->gate, now));
    return orch_jsonout_built(o, bad);
}

json_t *orch_waveaccount_json(const struct orch_wave_account *a, size_t n,
                              const struct orch_gate *now)
{
    json_t *arr = json_array();
    size_t k = 0;

    for (k = 0; arr && k < n; k++) {
        json_t *w = wave_json(&a[k], k, now);

        if (w == NULL || json_array_append_new(arr, w)) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}
