/* jsonout.c - the base of every --json document and the events of
 * --log-format json (jsonout.h). Pure builders; three small writers. */
#include "orch/base/jsonout.h"

#include "orch/base/err.h"
#include "orch/base/exitcode.h"

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

int orch_jsonout_put(json_t *o, const char *key, json_t *v)
{
    /* json_object_set_new with a NULL value fails: count it as ENOMEM. */
    if (v == NULL)
        return -1;
    return json_object_set_new(o, key, v);
}

json_t *orch_jsonout_built(json_t *o, int bad)
{
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *orch_jsonout_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *orch_jsonout_count(uint64_t v)
{
    return json_integer((json_int_t)v);
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
    bad |= orch_jsonout_put(doc, "schema", json_integer(ORCH_JSONOUT_SCHEMA));
    bad |= orch_jsonout_put(doc, "command", orch_jsonout_str_or_null(command));
    bad |= orch_jsonout_put(doc, "exit", orch_jsonout_exit(code, reason));
    return orch_jsonout_built(doc, bad);
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
