/* test_statuscache.c - the status cache: round trip, checksum, format
 * version, the rollout's identity, and the file on disk (0600, atomic). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/base/timeparse.h"
#include "orch/engine/journal.h"
#include "orch/rollout/statuscache.h"
#include "torture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ID "run-0001/J0000000000000000000000001"

static void put_job(struct orch_statuscache *c, const char *id,
                    const char *state, uint64_t ok, uint64_t failed,
                    bool rows)
{
    struct orch_statuscache_job j;

    memset(&j, 0, sizeof(j));
    j.job_id = strdup(id);
    j.state = strdup(state);
    j.modified = strdup("2025-01-02T03:04:05.678Z");
    j.counts[ORCH_TASK_SUCCEEDED] = ok;
    j.counts[ORCH_TASK_FAILED] = failed;
    j.total = ok + failed;
    j.no_task_reason = 1;
    if (failed) {
        j.reasons = calloc(1, sizeof(*j.reasons));
        j.reasons[0].text = strdup("upgrade failed, \"quoted\"\nnewline");
        j.reasons[0].count = failed;
        j.nreasons = 1;
    }
    if (rows) {
        j.has_rows = true;
        j.rows = strdup("pk,dev-1,J,T,SUCCEEDED,100,\npk,dev-2,J,T2,FAILED,"
                        "50,\"x, y\"\n");
        j.failed_rows = strdup("pk,dev-2,\"x, y\"\n");
    }
    assert_int_equal(orch_statuscache_put(c, &j), 0);
    assert_null(j.job_id); /* taken */
}

/* Not inlined: gcc 12 takes the returned pointer for one to a local. */
__attribute__((noinline)) static char *encode(const struct orch_statuscache *c,
                                               size_t *len)
{
    char *out = NULL;
    int rc = orch_statuscache_encode(c, &out, len);

    assert_int_equal(rc, 0);
    return out;
}

static void round_trip_keeps_every_field(void **state)
{
    struct orch_statuscache a, b;
    const struct orch_statuscache_job *j = NULL;
    char note[256];
    size_t len = 0;
    char *img = NULL;

    (void)state;
    assert_int_equal(orch_statuscache_init(&a, ID), 0);
    put_job(&a, "JOB-B", "COMPLETED", 198, 2, true);
    put_job(&a, "JOB-A", "CANCELED", 5, 0, false);
    img = encode(&a, &len);

    assert_int_equal(orch_statuscache_init(&b, ID), 0);
    assert_int_equal(orch_statuscache_decode(&b, img, len, "c", note,
                                             sizeof(note)),
                     0);
    assert_string_equal(note, "");
    assert_int_equal(b.n, 2);
    j = orch_statuscache_find(&b, "JOB-B");
    assert_non_null(j);
    assert_string_equal(j->state, "COMPLETED");
    assert_string_equal(j->modified, "2025-01-02T03:04:05.678Z");
    assert_int_equal(j->counts[ORCH_TASK_SUCCEEDED], 198);
    assert_int_equal(j->counts[ORCH_TASK_FAILED], 2);
    assert_int_equal(j->total, 200);
    assert_int_equal(j->no_task_reason, 1);
    assert_int_equal(j->nreasons, 1);
    assert_string_equal(j->reasons[0].text,
                        "upgrade failed, \"quoted\"\nnewline");
    assert_int_equal(j->reasons[0].count, 2);
    assert_true(j->has_rows);
    assert_string_equal(j->failed_rows, "pk,dev-2,\"x, y\"\n");
    assert_non_null(strstr(j->rows, "dev-1"));
    j = orch_statuscache_find(&b, "JOB-A");
    assert_non_null(j);
    assert_false(j->has_rows);
    assert_null(j->rows);
    assert_null(orch_statuscache_find(&b, "JOB-C"));
    free(img);
    orch_statuscache_cleanup(&a);
    orch_statuscache_cleanup(&b);
}

static void put_replaces_the_same_job(void **state)
{
    struct orch_statuscache c;

    (void)state;
    assert_int_equal(orch_statuscache_init(&c, ID), 0);
    put_job(&c, "JOB-A", "COMPLETED", 1, 0, false);
    put_job(&c, "JOB-B", "COMPLETED", 1, 0, false);
    put_job(&c, "JOB-A", "CANCELED", 3, 0, false);
    assert_int_equal(c.n, 2);
    assert_string_equal(orch_statuscache_find(&c, "JOB-A")->state,
                        "CANCELED");
    orch_statuscache_cleanup(&c);
}

/* Decodes img into a cache of identity `who`: returns the note (static)
 * and the number of entries in *n. */
static const char *decode_note(const char *who, const char *img, size_t len,
                               size_t *n)
{
    static char note[256];
    struct orch_statuscache c;

    assert_int_equal(orch_statuscache_init(&c, who), 0);
    assert_int_equal(
        orch_statuscache_decode(&c, img, len, "x.status-cache", note,
                                sizeof(note)),
        0);
    *n = c.n;
    orch_statuscache_cleanup(&c);
    return note;
}

static void a_flipped_byte_anywhere_discards_the_cache(void **state)
{
    struct orch_statuscache a;
    size_t len = 0, n = 0, at = 0;
    char *img = NULL;
    const char *note = NULL;

    (void)state;
    assert_int_equal(orch_statuscache_init(&a, ID), 0);
    put_job(&a, "JOB-A", "COMPLETED", 200, 0, false);
    put_job(&a, "JOB-B", "COMPLETED", 200, 0, false);
    img = encode(&a, &len);
    /* A byte in the first job's payload, then one in the last record
     * (which the journal would tolerate as a torn write). */
    at = (size_t)(strstr(img, "JOB-A") - img);
    img[at] = 'X';
    note = decode_note(ID, img, len, &n);
    assert_int_equal(n, 0);
    assert_non_null(strstr(note, "x.status-cache: ignored (damaged"));
    assert_non_null(strstr(note, "checksum"));
    img[at] = 'J';
    assert_string_equal(decode_note(ID, img, len, &n), "");
    assert_int_equal(n, 2);
    img[len - 3] ^= 1;
    note = decode_note(ID, img, len, &n);
    assert_int_equal(n, 0);
    assert_non_null(strstr(note, "damaged"));
    img[len - 3] ^= 1;
    /* Cut short: the end record missing. */
    note = decode_note(ID, img, (size_t)(strstr(img, "\"end\"") - img) - 20,
                       &n);
    assert_int_equal(n, 0);
    assert_non_null(strstr(note, "damaged"));
    free(img);
    orch_statuscache_cleanup(&a);
}

static void another_rollout_or_version_is_ignored(void **state)
{
    struct orch_statuscache a;
    json_t *hdr = NULL;
    char *line = NULL, *img = NULL, *old = NULL;
    size_t len = 0, n = 0, llen = 0;
    const char *note = NULL;

    (void)state;
    assert_int_equal(orch_statuscache_init(&a, ID), 0);
    put_job(&a, "JOB-A", "COMPLETED", 200, 0, false);
    img = encode(&a, &len);
    note = decode_note("run-0002/J0000000000000000000000009", img, len, &n);
    assert_int_equal(n, 0);
    assert_non_null(strstr(note, "another rollout"));

    /* The same file with a header of format version 0. */
    hdr = json_pack("{s:s, s:i, s:s}", "t", "cache", "v", 0, "rollout", ID);
    assert_int_equal(orch_journal_frame(hdr, &line, &llen), 0);
    old = malloc(llen + len);
    memcpy(old, line, llen);
    memcpy(old + llen, strchr(img, '\n') + 1,
           len - (size_t)(strchr(img, '\n') + 1 - img));
    note = decode_note(ID, old,
                       llen + len - (size_t)(strchr(img, '\n') + 1 - img), &n);
    assert_int_equal(n, 0);
    assert_non_null(strstr(note, "another version"));
    json_decref(hdr);
    free(line);
    free(old);
    free(img);
    orch_statuscache_cleanup(&a);
}

static void save_writes_0600_and_load_reads_it_back(void **state)
{
    struct orch_statuscache a, b;
    char *path = torture_tmp_name("statuscache");
    char *tmp = NULL;
    char note[256];
    struct orch_diag diag = {{0}};
    struct stat st;

    (void)state;
    assert_int_equal(orch_statuscache_init(&a, ID), 0);
    assert_int_equal(orch_statuscache_init(&b, ID), 0);
    /* No file: an empty cache, no note. */
    assert_int_equal(orch_statuscache_load(&b, path, note, sizeof(note)), 0);
    assert_string_equal(note, "");
    assert_int_equal(b.n, 0);
    put_job(&a, "JOB-A", "COMPLETED", 7, 1, true);
    assert_int_equal(orch_statuscache_save(&a, path, &diag), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    tmp = malloc(strlen(path) + 32);
    /* Its own temporary file, renamed into place: none is left. */
    sprintf(tmp, "%s.tmp.%ld", path, (long)getpid());
    assert_int_not_equal(access(tmp, F_OK), 0);
    /* Another process's temporary file, half written, is not touched. */
    sprintf(tmp, "%s.tmp.%ld", path, (long)getpid() + 1);
    {
        FILE *f = fopen(tmp, "w");

        assert_non_null(f);
        fputs("J1 99 partial", f);
        fclose(f);
    }
    assert_int_equal(orch_statuscache_save(&a, path, &diag), 0);
    assert_int_equal(access(tmp, F_OK), 0);
    unlink(tmp);
    assert_int_equal(orch_statuscache_load(&b, path, note, sizeof(note)), 0);
    assert_string_equal(note, "");
    assert_int_equal(b.n, 1);
    assert_int_equal(orch_statuscache_find(&b, "JOB-A")->counts[ORCH_TASK_FAILED],
                     1);
    unlink(path);
    free(tmp);
    free(path);
    orch_statuscache_cleanup(&a);
    orch_statuscache_cleanup(&b);
}

/* An entry stands for a job only with the same state and UtcModified
 * (and the --devices lines when they are wanted); a job read whole is
 * kept only when its state had ended and nothing is pending. */
static void fresh_and_keepable(void **state)
{
    struct orch_statuscache c;
    struct orch_rollout_job j;
    struct orch_taskagg agg;
    const struct orch_statuscache_job *e = NULL;

    (void)state;
    assert_int_equal(orch_statuscache_init(&c, ID), 0);
    put_job(&c, "JOB-A", "COMPLETED", 190, 10, false);
    e = orch_statuscache_find(&c, "JOB-A");
    memset(&j, 0, sizeof(j));
    j.job_id = "JOB-A";
    snprintf(j.seen_status, sizeof(j.seen_status), "COMPLETED");
    snprintf(j.modified, sizeof(j.modified), "2025-01-02T03:04:05.678Z");
    assert_true(orch_statuscache_fresh(e, &j, false));
    assert_false(orch_statuscache_fresh(e, &j, true)); /* no lines */
    snprintf(j.modified, sizeof(j.modified), "2025-01-02T03:09:00.000Z");
    assert_false(orch_statuscache_fresh(e, &j, false));
    snprintf(j.modified, sizeof(j.modified), "2025-01-02T03:04:05.678Z");
    snprintf(j.seen_status, sizeof(j.seen_status), "IN_PROGRESS");
    assert_false(orch_statuscache_fresh(e, &j, false));

    orch_taskagg_init(&agg);
    assert_int_equal(orch_statuscache_apply(e, &j, &agg), 0);
    assert_true(j.cached);
    assert_int_equal(j.listed, 200);
    assert_string_equal(j.job_status, "COMPLETED");
    assert_int_equal(agg.n, 1);
    assert_int_equal(agg.reasons[0].count, 10);
    orch_taskagg_cleanup(&agg);

    snprintf(j.seen_status, sizeof(j.seen_status), "COMPLETED");
    assert_true(orch_statuscache_keepable(&j));
    j.counts[ORCH_TASK_QUEUED] = 1;
    j.listed++;
    j.total++;
    assert_false(orch_statuscache_keepable(&j)); /* a task pending */
    j.counts[ORCH_TASK_QUEUED] = 0;
    j.listed--;
    assert_false(orch_statuscache_keepable(&j)); /* not all listed */
    j.total--;
    snprintf(j.seen_status, sizeof(j.seen_status), "IN_PROGRESS");
    assert_false(orch_statuscache_keepable(&j)); /* read while running */
    orch_statuscache_cleanup(&c);
}

/* A job read without its state first: kept with its settled state and
 * the time its read reflects (the latest task UtcModified, or a second
 * before the answer's Date); later it stands for the job while the
 * state is the same and UtcModified no later than that time. */
static void kept_by_read_time(void **state)
{
    struct orch_statuscache c, d;
    struct orch_statuscache_job e;
    const struct orch_statuscache_job *got = NULL;
    struct orch_rollout_job j;
    char note[256];
    char *img = NULL;
    size_t len = 0;
    int64_t tasks_ms = 0;

    (void)state;
    memset(&j, 0, sizeof(j));
    j.job_id = "JOB-R";
    j.counts[ORCH_TASK_SUCCEEDED] = 200;
    j.listed = j.total = 200;
    /* Read without a state: not keepable until the state is settled and
     * the read has a time. */
    assert_false(orch_statuscache_keepable(&j));
    snprintf(j.job_status, sizeof(j.job_status), "COMPLETED");
    assert_false(orch_statuscache_keepable(&j)); /* no time */
    assert_int_equal(orch_time_parse("2025-01-02T03:04:05.000Z", &tasks_ms,
                                     NULL),
                     0);
    j.read_date_ms = tasks_ms + 7000; /* read 7 s after the last task */
    j.tasks_modified_ms = tasks_ms;
    assert_true(orch_statuscache_keepable(&j));
    snprintf(j.job_status, sizeof(j.job_status), "IN_PROGRESS");
    assert_false(orch_statuscache_keepable(&j));
    snprintf(j.job_status, sizeof(j.job_status), "COMPLETED");

    assert_int_equal(orch_statuscache_entry(&e, &j, NULL, NULL, NULL), 0);
    assert_string_equal(e.state, "COMPLETED");
    assert_string_equal(e.modified, "");
    assert_int_equal(e.read_ms, j.read_date_ms - 1000); /* Date wins */
    assert_int_equal(orch_statuscache_init(&c, ID), 0);
    assert_int_equal(orch_statuscache_put(&c, &e), 0);
    img = encode(&c, &len);
    assert_non_null(strstr(img, "\"read\":"));
    assert_int_equal(orch_statuscache_init(&d, ID), 0);
    assert_int_equal(orch_statuscache_decode(&d, img, len, "c", note,
                                             sizeof(note)),
                     0);
    assert_string_equal(note, "");
    got = orch_statuscache_find(&d, "JOB-R");
    assert_non_null(got);
    assert_int_equal(got->read_ms, j.read_date_ms - 1000);

    /* A later refresh: the job's state and UtcModified from the list. */
    snprintf(j.seen_status, sizeof(j.seen_status), "COMPLETED");
    snprintf(j.modified, sizeof(j.modified), "2025-01-02T03:04:05.000Z");
    assert_true(orch_statuscache_fresh(got, &j, false));
    snprintf(j.modified, sizeof(j.modified), "2025-01-02T03:04:11.000Z");
    assert_true(orch_statuscache_fresh(got, &j, false)); /* = read time */
    snprintf(j.modified, sizeof(j.modified), "2025-01-02T03:04:11.001Z");
    assert_false(orch_statuscache_fresh(got, &j, false)); /* changed */
    snprintf(j.modified, sizeof(j.modified), "not a time");
    assert_false(orch_statuscache_fresh(got, &j, false));
    snprintf(j.modified, sizeof(j.modified), "2025-01-02T03:04:05.000Z");
    snprintf(j.seen_status, sizeof(j.seen_status), "IN_PROGRESS");
    assert_false(orch_statuscache_fresh(got, &j, false)); /* re-upgraded */

    /* Without a Date, the tasks' latest UtcModified is the time. */
    j.seen_status[0] = '\0';
    j.read_date_ms = 0;
    assert_int_equal(orch_statuscache_entry(&e, &j, NULL, NULL, NULL), 0);
    assert_int_equal(e.read_ms, tasks_ms);
    orch_statuscache_job_cleanup(&e);
    free(img);
    orch_statuscache_cleanup(&c);
    orch_statuscache_cleanup(&d);
}

/* A record with no UtcModified needs a read time. */
static void no_modified_and_no_read_time_is_damage(void **state)
{
    struct orch_statuscache a, b;
    struct orch_statuscache_job e;
    char note[256];
    char *img = NULL, *at = NULL;
    size_t len = 0;

    (void)state;
    /* A cache of one job kept by its read time. */
    assert_int_equal(orch_statuscache_init(&a, ID), 0);
    memset(&e, 0, sizeof(e));
    e.job_id = strdup("J");
    e.state = strdup("COMPLETED");
    e.modified = strdup("");
    e.read_ms = 1;
    e.total = 1;
    e.counts[ORCH_TASK_SUCCEEDED] = 1;
    assert_int_equal(orch_statuscache_put(&a, &e), 0);
    img = encode(&a, &len);
    at = strstr(img, ",\"read\":1");
    assert_non_null(at);
    assert_int_equal(orch_statuscache_init(&b, ID), 0);
    assert_int_equal(orch_statuscache_decode(&b, img, len, "c", note,
                                             sizeof(note)),
                     0);
    assert_int_equal(b.n, 1);
    orch_statuscache_cleanup(&b);
    /* The same record without its read time: the cache is ignored. */
    memmove(at, at + strlen(",\"read\":1"), strlen(at + strlen(",\"read\":1")) + 1);
    len = strlen(img);
    assert_int_equal(orch_statuscache_init(&b, ID), 0);
    assert_int_equal(orch_statuscache_decode(&b, img, len, "c", note,
                                             sizeof(note)),
                     0);
    assert_int_equal(b.n, 0);
    assert_non_null(strstr(note, "ignored"));
    free(img);
    orch_statuscache_cleanup(&a);
    orch_statuscache_cleanup(&b);
}

static void path_is_beside_the_report(void **state)
{
    char *p = orch_statuscache_path("/x/fleet.report.csv");

    (void)state;
    assert_string_equal(p, "/x/fleet.report.csv.status-cache");
    free(p);
}

TORTURE_MAIN(NULL, NULL, cmocka_unit_test(round_trip_keeps_every_field),
             cmocka_unit_test(put_replaces_the_same_job),
             cmocka_unit_test(a_flipped_byte_anywhere_discards_the_cache),
             cmocka_unit_test(another_rollout_or_version_is_ignored),
             cmocka_unit_test(save_writes_0600_and_load_reads_it_back),
             cmocka_unit_test(fresh_and_keepable),
             cmocka_unit_test(kept_by_read_time),
             cmocka_unit_test(no_modified_and_no_read_time_is_damage),
             cmocka_unit_test(path_is_beside_the_report))
