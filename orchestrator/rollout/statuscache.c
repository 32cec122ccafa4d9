/* statuscache.c - the status cache (statuscache.h).
 *
 * DESIGN: the records use the journal's framing and checksum
 * (orch_journal_frame / orch_journal_decode), but the file is not a log:
 * it is rewritten whole at every save (a temporary file, fsync, rename),
 * so a reader sees the old file or the new one, never a mix. Reading is
 * therefore strict where the journal is tolerant: a torn last line, a
 * missing "end" record or a job count that does not match is damage, and
 * damage anywhere discards the whole cache (the next refresh reads those
 * jobs again; nothing is lost but calls). Entries are kept in an array,
 * sorted by job id once loaded so that a lookup bisects.
 */
#include "orch/rollout/statuscache.h"

#include "orch/base/buf.h"
#include "orch/base/err.h"
#include "orch/base/grow.h"
#include "orch/base/timeparse.h"
#include "orch/engine/journal.h"
#include "orch/rollout/report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

/* ------------------------------------------------------------ entries */

int orch_statuscache_init(struct orch_statuscache *c, const char *identity)
{
    memset(c, 0, sizeof(*c));
    c->identity = strdup(identity ? identity : "");
    c->sorted = true;
    return c->identity ? 0 : ORCH_ENOMEM;
}

void orch_statuscache_job_cleanup(struct orch_statuscache_job *j)
{
    size_t i = 0;

    if (j == NULL)
        return;
    for (i = 0; i < j->nreasons; i++)
        free(j->reasons[i].text);
    free(j->reasons);
    free(j->job_id);
    free(j->state);
    free(j->modified);
    free(j->rows);
    free(j->failed_rows);
    memset(j, 0, sizeof(*j));
}

static void drop_entries(struct orch_statuscache *c)
{
    size_t i = 0;

    for (i = 0; i < c->n; i++)
        orch_statuscache_job_cleanup(&c->jobs[i]);
    c->n = 0;
    c->sorted = true;
}

void orch_statuscache_cleanup(struct orch_statuscache *c)
{
    if (c == NULL)
        return;
    drop_entries(c);
    free(c->jobs);
    free(c->identity);
    memset(c, 0, sizeof(*c));
}

static int by_job_id(const void *a, const void *b)
{
    const struct orch_statuscache_job *x = a, *y = b;

    return strcmp(x->job_id, y->job_id);
}

static void sort_entries(struct orch_statuscache *c)
{
    if (!c->sorted && c->n > 1)
        qsort(c->jobs, c->n, sizeof(*c->jobs), by_job_id);
    c->sorted = true;
}

static struct orch_statuscache_job *lookup(struct orch_statuscache *c,
                                           const char *job_id)
{
    struct orch_statuscache_job key;
    size_t i = 0;

    if (c->n == 0)
        return NULL;
    if (c->sorted) {
        memset(&key, 0, sizeof(key));
        key.job_id = (char *)job_id;
        return bsearch(&key, c->jobs, c->n, sizeof(*c->jobs), by_job_id);
    }
    for (i = 0; i < c->n; i++) {
        if (strcmp(c->jobs[i].job_id, job_id) == 0)
            return &c->jobs[i];
    }
    return NULL;
}

int orch_statuscache_put(struct orch_statuscache *c,
                         struct orch_statuscache_job *job)
{
    struct orch_statuscache_job *slot = lookup(c, job->job_id);
    struct orch_statuscache_job *grown = NULL;

    if (slot) {
        orch_statuscache_job_cleanup(slot);
        *slot = *job;
        memset(job, 0, sizeof(*job));
        return 0;
    }
    grown = orch_grow(c->jobs, &c->cap, c->n + 1, sizeof(*grown), 64);
    if (grown == NULL)
        return ORCH_ENOMEM;
    c->jobs = grown;
    c->jobs[c->n++] = *job;
    memset(job, 0, sizeof(*job));
    c->sorted = c->n == 1;
    return 0;
}

const struct orch_statuscache_job *
orch_statuscache_find(struct orch_statuscache *c, const char *job_id)
{
    sort_entries(c);
    return lookup(c, job_id);
}

int orch_statuscache_take(struct orch_statuscache *c, const char *job_id,
                          struct orch_statuscache_job *out)
{
    struct orch_statuscache_job *e = NULL;

    sort_entries(c);
    e = lookup(c, job_id);
    if (e == NULL)
        return ORCH_ENOTFOUND;
    *out = *e;
    *e = c->jobs[--c->n];
    memset(&c->jobs[c->n], 0, sizeof(c->jobs[c->n]));
    c->sorted = c->n <= 1;
    return 0;
}

/* ----------------------------------------------------------- decoding */

struct decoder {
    struct orch_statuscache *c;
    char *note;
    size_t notesz;
    const char *name;
    size_t line;
    bool header, ended;
    long long end_jobs;
    int rc; /* ORCH_ENOMEM only */
};

/* Stops the walk with the note "NAME: ignored (WHY)". */
static int refuse(struct decoder *d, const char *why)
{
    snprintf(d->note, d->notesz, "%s: ignored (%s); every job is read again",
             d->name, why);
    return 1;
}

static char *dup_string(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? strdup(s) : NULL;
}

static int decode_reasons(struct orch_statuscache_job *j, const json_t *arr)
{
    const json_t *r = NULL;
    size_t i = 0;

    if (!json_is_array(arr))
        return ORCH_EDECODE;
    if (json_array_size(arr) == 0)
        return 0;
    j->reasons = calloc(json_array_size(arr), sizeof(*j->reasons));
    if (j->reasons == NULL)
        return ORCH_ENOMEM;
    json_array_foreach(arr, i, r)
    {
        const char *text = json_string_value(json_array_get(r, 0));
        const json_t *n = json_array_get(r, 1);

        if (text == NULL || !json_is_integer(n) || json_integer_value(n) < 0)
            return ORCH_EDECODE;
        j->reasons[i].text = strdup(text);
        if (j->reasons[i].text == NULL)
            return ORCH_ENOMEM;
        j->reasons[i].count = (uint64_t)json_integer_value(n);
        j->nreasons = i + 1;
    }
    return 0;
}

static int decode_counts(struct orch_statuscache_job *j, const json_t *arr)
{
    size_t i = 0;

    if (!json_is_array(arr) || json_array_size(arr) != ORCH_TASK_NSTATES)
        return ORCH_EDECODE;
    for (i = 0; i < ORCH_TASK_NSTATES; i++) {
        const json_t *n = json_array_get(arr, i);

        if (!json_is_integer(n) || json_integer_value(n) < 0)
            return ORCH_EDECODE;
        j->counts[i] = (uint64_t)json_integer_value(n);
    }
    return 0;
}

/* One "job" record into an entry. 0, ORCH_EDECODE or ORCH_ENOMEM. */
static int decode_job(struct orch_statuscache_job *j, const json_t *rec)
{
    const json_t *total = json_object_get(rec, "total");
    const json_t *why = json_object_get(rec, "no_task");
    const json_t *rows = json_object_get(rec, "rows");
    const json_t *frows = json_object_get(rec, "failed_rows");
    const json_t *read = json_object_get(rec, "read");
    int rc = 0;

    if (!json_is_string(json_object_get(rec, "id")) ||
        !json_is_string(json_object_get(rec, "state")) ||
        !json_is_string(json_object_get(rec, "modified")) ||
        !json_is_integer(total) || json_integer_value(total) < 0 ||
        !json_is_integer(why) || json_is_string(rows) != json_is_string(frows))
        return ORCH_EDECODE;
    /* No UtcModified: a read time stands for it. */
    if (json_string_value(json_object_get(rec, "modified"))[0] == '\0' &&
        (!json_is_integer(read) || json_integer_value(read) <= 0))
        return ORCH_EDECODE;
    if (read != NULL && !json_is_integer(read))
        return ORCH_EDECODE;
    j->read_ms = read ? (int64_t)json_integer_value(read) : 0;
    j->job_id = dup_string(rec, "id");
    j->state = dup_string(rec, "state");
    j->modified = dup_string(rec, "modified");
    if (j->job_id == NULL || j->state == NULL || j->modified == NULL)
        return ORCH_ENOMEM;
    j->total = (uint64_t)json_integer_value(total);
    j->no_task_reason = (int)json_integer_value(why);
    rc = decode_counts(j, json_object_get(rec, "counts"));
    if (rc == 0)
        rc = decode_reasons(j, json_object_get(rec, "reasons"));
    if (rc == 0 && json_is_string(rows)) {
        j->has_rows = true;
        j->rows = dup_string(rec, "rows");
        j->failed_rows = dup_string(rec, "failed_rows");
        if (j->rows == NULL || j->failed_rows == NULL)
            rc = ORCH_ENOMEM;
    }
    return rc;
}

static int on_record(void *ud, const json_t *rec, size_t line)
{
    struct decoder *d = ud;
    const char *t = json_string_value(json_object_get(rec, "t"));
    const json_t *v = json_object_get(rec, "v");
    const char *who = json_string_value(json_object_get(rec, "rollout"));
    struct orch_statuscache_job j;
    int rc = 0;

    d->line = line;
    if (t == NULL)
        return refuse(d, "damaged: a record without a type");
    if (d->ended)
        return refuse(d, "damaged: a record after the end");
    if (!d->header) {
        if (strcmp(t, "cache") != 0)
            return refuse(d, "damaged: no header");
        if (!json_is_integer(v) ||
            json_integer_value(v) != ORCH_STATUSCACHE_VERSION)
            return refuse(d, "written by another version of ota-rollout");
        if (who == NULL || strcmp(who, d->c->identity) != 0)
            return refuse(d, "it belongs to another rollout");
        d->header = true;
        return 0;
    }
    if (strcmp(t, "end") == 0) {
        d->ended = true;
        d->end_jobs = json_integer_value(json_object_get(rec, "jobs"));
        return 0;
    }
    if (strcmp(t, "job") != 0)
        return refuse(d, "damaged: an unknown record");
    memset(&j, 0, sizeof(j));
    rc = decode_job(&j, rec);
    if (rc == 0)
        rc = orch_statuscache_put(d->c, &j);
    orch_statuscache_job_cleanup(&j);
    if (rc == ORCH_ENOMEM) {
        d->rc = rc;
        return 1;
    }
    return rc ? refuse(d, "damaged: a job record is incomplete") : 0;
}

int orch_statuscache_decode(struct orch_statuscache *c, const char *data,
                            size_t len, const char *name, char *note,
                            size_t notesz)
{
    struct decoder d;
    struct orch_diag diag = {{0}};
    size_t valid = 0;
    char why[sizeof(diag.msg) + 16];
    int rc = 0;

    memset(&d, 0, sizeof(d));
    d.c = c;
    d.note = note;
    d.notesz = notesz;
    d.name = name ? name : "status cache";
    note[0] = '\0';
    drop_entries(c);
    rc = orch_journal_decode(data, len, d.name, on_record, &d, &valid, &diag);
    if (d.rc == ORCH_ENOMEM) {
        drop_entries(c);
        return ORCH_ENOMEM;
    }
    if (note[0] == '\0' && rc == ORCH_EJOURNAL) {
        snprintf(why, sizeof(why), "damaged: %s", diag.msg);
        refuse(&d, why);
    } else if (note[0] == '\0' && (valid != len || !d.header || !d.ended)) {
        refuse(&d, "damaged: cut short");
    } else if (note[0] == '\0' && d.end_jobs != (long long)c->n) {
        refuse(&d, "damaged: the job count does not match");
    }
    if (note[0] != '\0')
        drop_entries(c);
    sort_entries(c);
    return 0;
}

int orch_statuscache_load(struct orch_statuscache *c, const char *path,
                          char *note, size_t notesz)
{
    FILE *fp = fopen(path, "rb");
    struct orch_buf data;
    int rc = 0;

    orch_buf_init(&data);
    note[0] = '\0';
    drop_entries(c);
    if (fp == NULL) {
        if (errno != ENOENT)
            snprintf(note, notesz, "%s: ignored (%s); every job is read again",
                     path, strerror(errno));
        return 0;
    }
    rc = orch_buf_read_stream(&data, fp);
    if (rc == ORCH_EIO) {
        rc = 0;
        snprintf(note, notesz, "%s: ignored (read error); every job is read "
                               "again",
                 path);
    } else if (rc == 0) {
        rc = orch_statuscache_decode(c, orch_buf_str(&data), data.len, path,
                                     note, notesz);
    }
    orch_buf_cleanup(&data);
    fclose(fp);
    return rc;
}

/* ----------------------------------------------------------- encoding */

static json_t *counts_json(const uint64_t *counts)
{
    json_t *a = json_array();
    int i = 0;

    for (i = 0; a && i < ORCH_TASK_NSTATES; i++) {
        if (json_array_append_new(a, json_integer((json_int_t)counts[i]))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *reasons_json(const struct orch_statuscache_job *j)
{
    json_t *a = json_array();
    size_t i = 0;

    for (i = 0; a && i < j->nreasons; i++) {
        if (json_array_append_new(a, json_pack("[s, I]", j->reasons[i].text,
                                               (json_int_t)j->reasons[i]
                                                   .count))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *job_json(const struct orch_statuscache_job *j)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:o*, s:i, s:o*}", "t",
                          "job", "id", j->job_id, "state", j->state,
                          "modified", j->modified, "total",
                          (json_int_t)j->total, "counts",
                          counts_json(j->counts), "no_task", j->no_task_reason,
                          "reasons", reasons_json(j));

    /* "o*" drops a NULL member (no memory) silently: check. */
    if (o && (json_object_get(o, "counts") == NULL ||
              json_object_get(o, "reasons") == NULL)) {
        json_decref(o);
        return NULL;
    }
    if (o && j->read_ms > 0 &&
        json_object_set_new(o, "read", json_integer(j->read_ms)) != 0) {
        json_decref(o);
        return NULL;
    }
    if (o && j->has_rows &&
        (json_object_set_new(o, "rows", json_string(j->rows ? j->rows : "")) ||
         json_object_set_new(o, "failed_rows",
                             json_string(j->failed_rows ? j->failed_rows
                                                        : "")))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Frames rec (taking it) onto b. */
static int put_record(char **b, size_t *len, size_t *cap, json_t *rec)
{
    char *line = NULL;
    size_t n = 0;
    int rc = rec ? orch_journal_frame(rec, &line, &n) : ORCH_ENOMEM;
    char *grown = NULL;

    json_decref(rec);
    if (rc)
        return rc == ORCH_EINVAL ? ORCH_ENOMEM : rc;
    grown = orch_grow(*b, cap, *len + n + 1, 1, 65536);
    if (grown == NULL) {
        free(line);
        return ORCH_ENOMEM;
    }
    *b = grown;
    memcpy(*b + *len, line, n + 1);
    *len += n;
    free(line);
    return 0;
}

int orch_statuscache_encode(const struct orch_statuscache *c, char **out,
                            size_t *outlen)
{
    char *b = NULL;
    size_t len = 0, cap = 0, i = 0;
    int rc = 0;

    *out = NULL;
    *outlen = 0;
    rc = put_record(&b, &len, &cap,
                    json_pack("{s:s, s:i, s:s}", "t", "cache", "v",
                              ORCH_STATUSCACHE_VERSION, "rollout",
                              c->identity ? c->identity : ""));
    for (i = 0; rc == 0 && i < c->n; i++)
        rc = put_record(&b, &len, &cap, job_json(&c->jobs[i]));
    if (rc == 0)
        rc = put_record(&b, &len, &cap,
                        json_pack("{s:s, s:I}", "t", "end", "jobs",
                                  (json_int_t)c->n));
    if (rc) {
        free(b);
        return rc;
    }
    *out = b;
    *outlen = len;
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int orch_statuscache_save(const struct orch_statuscache *c, const char *path,
                          struct orch_diag *diag)
{
    char *image = NULL, *tmp = NULL;
    char suffix[32];
    size_t len = 0;
    int fd = -1;
    int rc = orch_statuscache_encode(c, &image, &len);

    if (rc)
        return orch_diag_set(diag, rc, "out of memory");
    /* This process's own temporary file: two `status` of one rollout
     * (a --watch and a one-off) never write into each other's. */
    snprintf(suffix, sizeof(suffix), ".tmp.%ld", (long)getpid());
    tmp = orch_report_sibling(path, suffix);
    if (tmp == NULL) {
        free(image);
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || fchmod(fd, 0600) != 0 || write_all(fd, image, len) != 0 ||
        fsync(fd) != 0) {
        rc = orch_diag_set(diag, ORCH_EIO, "%s: %s", tmp, strerror(errno));
    }
    if (fd >= 0 && close(fd) != 0 && rc == 0)
        rc = orch_diag_set(diag, ORCH_EIO, "%s: %s", tmp, strerror(errno));
    if (rc == 0 && rename(tmp, path) != 0)
        rc = orch_diag_set(diag, ORCH_EIO, "%s: %s", path, strerror(errno));
    if (rc)
        unlink(tmp);
    free(tmp);
    free(image);
    return rc;
}

/* ------------------------------------------------- entries and jobs */

static bool ended_state(const char *s)
{
    return strcmp(s, "COMPLETED") == 0 || strcmp(s, "CANCELED") == 0;
}

/* Whether j's UtcModified is the entry's, or (an entry kept with a read
 * time) earlier than a second before the read. */
static bool unmodified_since(const struct orch_statuscache_job *e,
                             const struct orch_rollout_job *j)
{
    int64_t ms = 0;

    if (e->modified[0] != '\0')
        return strcmp(e->modified, j->modified) == 0;
    return e->read_ms > 0 && orch_time_parse(j->modified, &ms, NULL) == 0 &&
           ms <= e->read_ms;
}

/* The time job j's read reflects (see the header), 0 when unknown. */
static int64_t read_time(const struct orch_rollout_job *j)
{
    int64_t by_date = j->read_date_ms > 1000 ? j->read_date_ms - 1000 : 0;

    return by_date > j->tasks_modified_ms ? by_date : j->tasks_modified_ms;
}

bool orch_statuscache_fresh(const struct orch_statuscache_job *e,
                            const struct orch_rollout_job *j, bool need_rows)
{
    return e != NULL && j->modified[0] != '\0' &&
           strcmp(e->state, j->seen_status) == 0 && unmodified_since(e, j) &&
           (e->has_rows || !need_rows);
}

int orch_statuscache_apply(const struct orch_statuscache_job *e,
                           struct orch_rollout_job *j,
                           struct orch_taskagg *agg)
{
    size_t i = 0;
    int rc = 0;

    memcpy(j->counts, e->counts, sizeof(j->counts));
    j->total = e->total;
    j->listed = 0;
    for (i = 0; i < ORCH_TASK_NSTATES; i++)
        j->listed += e->counts[i];
    j->pages = (unsigned)((e->total + ORCH_API_TASK_PAGE_SIZE - 1) /
                          ORCH_API_TASK_PAGE_SIZE);
    snprintf(j->job_status, sizeof(j->job_status), "%s", e->state);
    j->no_task_reason = e->no_task_reason;
    j->cached = true;
    for (i = 0; i < e->nreasons && rc == 0; i++)
        rc = orch_taskagg_add_reason_n(agg, e->reasons[i].text,
                                       e->reasons[i].count);
    return rc;
}

bool orch_statuscache_keepable(const struct orch_rollout_job *j)
{
    int st = 0;

    bool learnt = j->seen_status[0] != '\0';

    if (j->query_failed || j->listed != j->total)
        return false;
    if (learnt ? j->modified[0] == '\0' || !ended_state(j->seen_status)
               : read_time(j) <= 0 || !ended_state(j->job_status))
        return false;
    for (st = 0; st < ORCH_TASK_NSTATES; st++) {
        if (orch_task_state_pending(st) && j->counts[st] > 0)
            return false;
    }
    return true;
}

int orch_statuscache_entry(struct orch_statuscache_job *out,
                           const struct orch_rollout_job *j,
                           const struct orch_taskagg *reasons,
                           const char *rows, const char *failed_rows)
{
    size_t i = 0;

    bool learnt = j->seen_status[0] != '\0';

    memset(out, 0, sizeof(*out));
    out->job_id = strdup(j->job_id);
    out->state = strdup(learnt ? j->seen_status : j->job_status);
    out->modified = strdup(learnt ? j->modified : "");
    out->read_ms = learnt ? 0 : read_time(j);
    if (out->job_id == NULL || out->state == NULL || out->modified == NULL)
        return ORCH_ENOMEM;
    memcpy(out->counts, j->counts, sizeof(out->counts));
    out->total = j->total;
    out->no_task_reason = j->no_task_reason;
    if (reasons && reasons->n > 0) {
        out->reasons = calloc(reasons->n, sizeof(*out->reasons));
        if (out->reasons == NULL)
            return ORCH_ENOMEM;
        for (i = 0; i < reasons->n; i++) {
            out->reasons[i].text = strdup(reasons->reasons[i].text);
            if (out->reasons[i].text == NULL)
                return ORCH_ENOMEM;
            out->reasons[i].count = reasons->reasons[i].count;
            out->nreasons = i + 1;
        }
    }
    if (rows) {
        out->has_rows = true;
        out->rows = strdup(rows);
        out->failed_rows = strdup(failed_rows ? failed_rows : "");
        if (out->rows == NULL || out->failed_rows == NULL)
            return ORCH_ENOMEM;
    }
    return 0;
}

char *orch_statuscache_path(const char *report)
{
    return orch_report_sibling(report, ORCH_STATUSCACHE_SUFFIX);
}
