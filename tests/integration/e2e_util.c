/* e2e_util.c - request-log and job-dump assertions for end-to-end tests. */
#include "e2e_util.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_i64(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;

    return (x > y) - (x < y);
}

size_t e2e_max_per_window(json_t *log, const char *action)
{
    size_t n = 0, best = 0, lo = 0;
    long long *t = calloc(json_array_size(log) + 1, sizeof(*t));
    size_t i = 0;
    json_t *e = NULL;

    assert_non_null(t);
    json_array_foreach(log, i, e) {
        const char *a = json_string_value(json_object_get(e, "action"));

        if (a && strcmp(a, action) == 0)
            t[n++] = json_integer_value(json_object_get(e, "t"));
    }
    qsort(t, n, sizeof(*t), cmp_i64);
    for (i = 0; i < n; i++) {
        while (t[i] - t[lo] >= 1000)
            lo++;
        if (i - lo + 1 > best)
            best = i - lo + 1;
    }
    free(t);
    return best;
}

size_t e2e_count(json_t *log, const char *action, int only_ok)
{
    size_t i = 0, n = 0;
    json_t *e = NULL;

    json_array_foreach(log, i, e) {
        const char *a = json_string_value(json_object_get(e, "action"));
        const char *code = json_string_value(json_object_get(e, "code"));

        if (a == NULL || strcmp(a, action) != 0)
            continue;
        if (only_ok && code && code[0])
            continue;
        n++;
    }
    return n;
}

void e2e_assert_each_device_once(json_t *jobs, size_t n)
{
    unsigned char *seen = calloc(n, 1);
    size_t i = 0, j = 0, total = 0;
    json_t *job = NULL, *dev = NULL;

    assert_non_null(seen);
    json_array_foreach(jobs, i, job) {
        json_array_foreach(json_object_get(job, "Devices"), j, dev) {
            const char *name = json_string_value(dev);
            unsigned long k = 0;

            assert_non_null(name);
            if (sscanf(name, "dev-%lu", &k) != 1 || k >= n)
                fail_msg("unexpected device %s in job", name);
            if (seen[k])
                fail_msg("device %s is in two jobs", name);
            seen[k] = 1;
            total++;
        }
    }
    for (i = 0; i < n; i++) {
        if (!seen[i])
            fail_msg("device dev-%06zu is in no job", i);
    }
    assert_int_equal(total, n);
    free(seen);
}

void e2e_assert_report_matches_jobs(json_t *report, json_t *jobs)
{
    size_t i = 0, j = 0, created = 0;
    json_t *row = NULL, *job = NULL;

    json_array_foreach(report, i, row) {
        const char *st = json_string_value(json_object_get(row, "status"));
        const char *id = json_string_value(json_object_get(row, "job_id"));
        const char *cnt =
            json_string_value(json_object_get(row, "device_count"));
        int found = 0;

        assert_non_null(st);
        if (strcmp(st, "created") != 0)
            continue;
        created++;
        json_array_foreach(jobs, j, job) {
            const char *jid =
                json_string_value(json_object_get(job, "JobId"));

            if (jid && id && strcmp(jid, id) == 0) {
                found = 1;
                assert_int_equal(
                    json_array_size(json_object_get(job, "Devices")),
                    strtoul(cnt, NULL, 10));
            }
        }
        if (!found)
            fail_msg("report job %s is not an emulator job", id ? id : "?");
    }
    assert_int_equal(created, json_array_size(jobs));
}
