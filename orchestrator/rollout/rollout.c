/* rollout.c - a rollout read from its report (rollout.h).
 *
 * DESIGN: the report is parsed with libcsv one record at a time; the first
 * record is the header and fixes which column holds what (by name). Rows
 * that are not "created" or have no job_id are counted, not kept; a
 * job_id seen twice (a report appended to by a resumed run) is kept once.
 * Every row is also remembered briefly (chunk, status, code, devices):
 * after the parse the last row of each chunk decides whether it created
 * a job, and the others are summed per (status, code) into r->left.
 */
#include "orch/rollout/rollout.h"

#include "orch/base/buf.h"
#include "orch/base/err.h"
#include "orch/base/grow.h"
#include "orch/engine/journal.h"
#include "orch/rollout/resume.h"
#include "orch/rollout/wavemap.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum col {
    COL_CHUNK,
    COL_PRODUCT,
    COL_FIRMWARE,
    COL_COUNT,
    COL_STATUS,
    COL_JOB,
    COL_WAVE,
    COL_CODE,
    NCOLS
};

static const char *const col_names[NCOLS] = {
    [COL_CHUNK] = "chunk",
    [COL_PRODUCT] = "product_key",
    [COL_FIRMWARE] = "firmware_id",
    [COL_COUNT] = "device_count",
    [COL_STATUS] = "status",
    [COL_JOB] = "job_id",
    [COL_WAVE] = "wave",
    [COL_CODE] = "error_code",
};

/* One data row as the accounting needs it (see the DESIGN note). */
struct row_seen {
    unsigned chunk;
    unsigned count;
    bool created;
    char *status; /* malloced; NULL for a created row */
    char *code;   /* malloced; NULL for a created row */
};

struct reader {
    struct orch_rollout *r;
    const char *name;
    struct orch_diag *diag;
    int rc;
    size_t line;       /* record number, 1 = header */
    size_t field;      /* index of the next field in the record */
    int col_at[NCOLS]; /* field index of each column, -1 absent */
    char *cell[NCOLS]; /* this record's cells (malloced) */
    size_t cap;        /* jobs allocated */
    struct row_seen *seen;
    size_t nseen, seen_cap;
};

/* The report writer puts "'" before a cell a spreadsheet would take as a
 * formula; the value is what follows. */
static const char *unneutralise(const char *s)
{
    if (s[0] == '\'' && s[1] && strchr("=+-@\t\r", s[1]))
        return s + 1;
    return s;
}

static void on_field(void *data, size_t len, void *ud)
{
    struct reader *rd = ud;
    const char *s = data ? data : "";
    size_t f = rd->field++;
    int c = 0;

    (void)len;
    if (rd->rc)
        return;
    if (rd->line == 0) {
        /* The header: a BOM before the first name is not part of it. */
        if (f == 0 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
            s += 3;
        for (c = 0; c < NCOLS; c++) {
            if (strcmp(s, col_names[c]) == 0 && rd->col_at[c] < 0)
                rd->col_at[c] = (int)f;
        }
        return;
    }
    for (c = 0; c < NCOLS; c++) {
        if (rd->col_at[c] == (int)f) {
            free(rd->cell[c]);
            rd->cell[c] = strdup(unneutralise(s));
            if (rd->cell[c] == NULL)
                rd->rc = ORCH_ENOMEM;
        }
    }
}

static bool is_dup(const struct orch_rollout *r, const char *job_id)
{
    size_t i = 0;

    /* Reports hold at most a few thousand jobs; a linear scan per row is
     * a few million comparisons at worst, well under a second. */
    for (i = 0; i < r->njobs; i++) {
        if (strcmp(r->jobs[i].job_id, job_id) == 0)
            return true;
    }
    return false;
}

static int parse_unsigned(const char *s, unsigned *out)
{
    char *end = NULL;
    unsigned long v = 0;

    if (s == NULL || s[0] == '\0') {
        *out = 0;
        return 0;
    }
    if (!isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end != '\0' || v > 0xFFFFFFFFUL)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

/* Remembers the row for the accounting of the chunks without a job. */
static int see_row(struct reader *rd, unsigned chunk, unsigned count,
                   bool created)
{
    struct row_seen *s =
        orch_grow(rd->seen, &rd->seen_cap, rd->nseen + 1, sizeof(*s), 64);

    if (s == NULL)
        return ORCH_ENOMEM;
    rd->seen = s;
    s = &rd->seen[rd->nseen++];
    memset(s, 0, sizeof(*s));
    s->chunk = chunk;
    s->count = count;
    s->created = created;
    if (created)
        return 0;
    s->status = dup_or_empty(rd->cell[COL_STATUS]);
    s->code = dup_or_empty(rd->cell[COL_CODE]);
    return s->status && s->code ? 0 : ORCH_ENOMEM;
}

static int keep_row(struct reader *rd)
{
    struct orch_rollout *r = rd->r;
    struct orch_rollout_job *j = NULL;
    const char *status = rd->cell[COL_STATUS];
    const char *job = rd->cell[COL_JOB];
    unsigned chunk = 0, count = 0;
    bool created =
        status && strcmp(status, "created") == 0 && job && job[0] != '\0';
    int rc = 0;

    r->rows++;
    if (parse_unsigned(rd->cell[COL_CHUNK], &chunk) ||
        parse_unsigned(rd->cell[COL_COUNT], &count))
        return orch_diag_set(rd->diag, ORCH_ECSV,
                             "%s:%zu: chunk or device_count is not a whole "
                             "number",
                             rd->name, rd->line + 1);
    rc = see_row(rd, chunk, count, created);
    if (rc)
        return rc;
    if (!created) {
        r->not_created++;
        return 0;
    }
    if (is_dup(r, job)) {
        r->duplicates++;
        return 0;
    }
    j = orch_grow(r->jobs, &rd->cap, r->njobs + 1, sizeof(*j), 64);
    if (j == NULL)
        return ORCH_ENOMEM;
    r->jobs = j;
    j = &r->jobs[r->njobs];
    memset(j, 0, sizeof(*j));
    j->chunk = chunk;
    j->device_count = count;
    j->job_id = strdup(job);
    j->product_key = dup_or_empty(rd->cell[COL_PRODUCT]);
    j->firmware_id = dup_or_empty(rd->cell[COL_FIRMWARE]);
    if (r->has_wave) {
        j->wave = dup_or_empty(rd->cell[COL_WAVE]);
        if (j->wave && parse_unsigned(j->wave, &j->wave_no))
            j->wave_no = 0;
    }
    r->njobs++;
    if (j->job_id == NULL || j->product_key == NULL || j->firmware_id == NULL ||
        (r->has_wave && j->wave == NULL))
        return ORCH_ENOMEM;
    return 0;
}

static void on_row(int ch, void *ud)
{
    struct reader *rd = ud;
    int c = 0;

    (void)ch;
    if (rd->rc == 0 && rd->line == 0) {
        if (rd->col_at[COL_JOB] < 0 || rd->col_at[COL_STATUS] < 0)
            rd->rc = orch_diag_set(rd->diag, ORCH_ECSV,
                                   "%s:1: not an ota-rollout report (no "
                                   "\"status\" and \"job_id\" columns)",
                                   rd->name);
        rd->r->has_wave = rd->col_at[COL_WAVE] >= 0;
    } else if (rd->rc == 0 && rd->field > 0) {
        rd->rc = keep_row(rd);
    }
    for (c = 0; c < NCOLS; c++) {
        free(rd->cell[c]);
        rd->cell[c] = NULL;
    }
    rd->field = 0;
    rd->line++;
}

/* Orders rows by chunk, then by position in the report. */
static int by_chunk_then_row(const void *a, const void *b)
{
    const struct row_seen *const *x = a;
    const struct row_seen *const *y = b;

    if ((*x)->chunk != (*y)->chunk)
        return (*x)->chunk < (*y)->chunk ? -1 : 1;
    return *x < *y ? -1 : *x > *y ? 1 : 0;
}

static int add_left(struct orch_rollout *r, const struct row_seen *s)
{
    struct orch_rollout_left *l = NULL;
    size_t i = 0;

    for (i = 0; i < r->nleft; i++) {
        if (strcmp(r->left[i].status, s->status) == 0 &&
            strcmp(r->left[i].code, s->code) == 0) {
            l = &r->left[i];
            break;
        }
    }
    if (l == NULL) {
        /* (status, code) pairs are few: grow one by one. */
        struct orch_rollout_left *grown =
            realloc(r->left, (r->nleft + 1) * sizeof(*grown));

        if (grown == NULL)
            return ORCH_ENOMEM;
        r->left = grown;
        l = &grown[r->nleft];
        memset(l, 0, sizeof(*l));
        l->status = strdup(s->status);
        l->code = strdup(s->code);
        r->nleft++;
        if (l->status == NULL || l->code == NULL)
            return ORCH_ENOMEM;
    }
    l->chunks++;
    l->devices += s->count;
    return 0;
}

/* The last row of each numbered chunk (every row when unnumbered) decides;
 * those that created no job go to r->left. */
static int account_rows(struct orch_rollout *r, struct row_seen *seen, size_t n)
{
    const struct row_seen **order = NULL;
    size_t i = 0;
    int rc = 0;

    if (n == 0)
        return 0;
    order = malloc(n * sizeof(*order));
    if (order == NULL)
        return ORCH_ENOMEM;
    for (i = 0; i < n; i++)
        order[i] = &seen[i];
    qsort(order, n, sizeof(*order), by_chunk_then_row);
    for (i = 0; i < n && rc == 0; i++) {
        const struct row_seen *s = order[i];
        bool last =
            s->chunk == 0 || i + 1 == n || order[i + 1]->chunk != s->chunk;

        if (!last)
            continue;
        if (s->chunk != 0)
            r->chunk_rows++;
        if (!s->created)
            rc = add_left(r, s);
    }
    free(order);
    return rc;
}

size_t orch_rollout_unsent_chunks(const struct orch_rollout *r)
{
    return r->planned_chunks > r->chunk_rows ? r->planned_chunks - r->chunk_rows
                                             : 0;
}

int orch_rollout_parse(struct orch_rollout *r, const char *data, size_t len,
                       const char *name, struct orch_diag *diag)
{
    struct csv_parser p;
    struct reader rd;
    size_t i = 0;
    int c = 0;

    memset(r, 0, sizeof(*r));
    memset(&rd, 0, sizeof(rd));
    rd.r = r;
    rd.name = name;
    rd.diag = diag;
    for (c = 0; c < NCOLS; c++)
        rd.col_at[c] = -1;
    r->path = strdup(name);
    if (r->path == NULL)
        return ORCH_ENOMEM;
    if (csv_init(&p, CSV_APPEND_NULL) != 0)
        return ORCH_ENOMEM;
    if (csv_parse(&p, data, len, on_field, on_row, &rd) != len && rd.rc == 0)
        rd.rc = orch_diag_set(diag, ORCH_ECSV, "%s:%zu: %s", name, rd.line + 1,
                              csv_strerror(csv_error(&p)));
    if (rd.rc == 0 && csv_fini(&p, on_field, on_row, &rd) != 0 && rd.rc == 0)
        rd.rc = orch_diag_set(diag, ORCH_ECSV, "%s:%zu: %s", name, rd.line + 1,
                              csv_strerror(csv_error(&p)));
    csv_free(&p);
    for (c = 0; c < NCOLS; c++)
        free(rd.cell[c]);
    if (rd.rc == 0)
        rd.rc = account_rows(r, rd.seen, rd.nseen);
    for (i = 0; i < rd.nseen; i++) {
        free(rd.seen[i].status);
        free(rd.seen[i].code);
    }
    free(rd.seen);
    if (rd.rc == 0 && rd.line == 0)
        rd.rc = orch_diag_set(diag, ORCH_ECSV, "%s: empty report", name);
    if (rd.rc == ORCH_ENOMEM)
        orch_diag_set(diag, rd.rc, "out of memory");
    return rd.rc;
}

/* A waved run writes each chunk's wave to "<report>.waves.csv" (the
 * report's header is fixed): the jobs get their wave from there. */
static int waves_from_file(struct orch_rollout *r, const char *path,
                           struct orch_diag *diag)
{
    unsigned *map = NULL;
    size_t n = 0, i = 0;
    char num[16];
    int rc = orch_wavemap_read(path, &map, &n, diag);

    if (rc || map == NULL)
        return rc;
    for (i = 0; i < r->njobs && rc == 0; i++) {
        struct orch_rollout_job *j = &r->jobs[i];

        j->wave_no = 0;
        if (j->chunk == 0 || j->chunk > n || map[j->chunk - 1] == 0)
            snprintf(num, sizeof(num), "?");
        else
            snprintf(num, sizeof(num), "%u", j->wave_no = map[j->chunk - 1]);
        j->wave = strdup(num);
        if (j->wave == NULL)
            rc = orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    }
    r->has_wave = true;
    free(map);
    return rc;
}

/* The journal's first record is the run record; its nchunks is the size
 * of the plan, and its checksum names the run (the identity's first
 * half). Reading stops there. */
static int run_record(void *ud, const json_t *rec, size_t line)
{
    struct orch_rollout *r = ud;
    const char *t = json_string_value(json_object_get(rec, "t"));
    json_t *n = json_object_get(rec, "nchunks");
    char *dump = NULL;

    (void)line;
    if (t && strcmp(t, "run") == 0 && json_is_integer(n) &&
        json_integer_value(n) > 0)
        r->planned_chunks = (size_t)json_integer_value(n);
    if (t && strcmp(t, "run") == 0)
        dump = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
    if (dump)
        snprintf(r->identity, sizeof(r->identity), "%08x/",
                 (unsigned)orch_crc32c(dump, strlen(dump)));
    free(dump);
    return 1;
}

/* The identity (rollout.h): job ids are unique on an account, so the
 * first created job names the rollout; the run record tells a report
 * rewritten by another run. */
static void set_identity(struct orch_rollout *r)
{
    size_t n = 0;

    if (r->identity[0] == '\0')
        snprintf(r->identity, sizeof(r->identity), "00000000/");
    n = strlen(r->identity);
    snprintf(r->identity + n, sizeof(r->identity) - n, "%s",
             r->njobs ? r->jobs[0].job_id : "");
}

/* "<report>.journal", when it exists and can be read (a journal that
 * cannot is `resume`'s business: status then only lacks the plan's size). */
static int plan_size_from_journal(struct orch_rollout *r, const char *path)
{
    struct orch_diag ignored = {{0}};
    size_t valid = 0;
    char *jpath = orch_resume_journal_path(path);

    if (jpath == NULL)
        return ORCH_ENOMEM;
    (void)orch_journal_read(jpath, run_record, r, &valid, &ignored);
    free(jpath);
    return 0;
}

int orch_rollout_load(struct orch_rollout *r, const char *path,
                      struct orch_diag *diag)
{
    FILE *fp = NULL;
    struct orch_buf data;
    int rc = 0;

    memset(r, 0, sizeof(*r));
    orch_buf_init(&data);
    fp = fopen(path, "rb");
    if (fp == NULL)
        return orch_diag_set(diag, errno == ENOENT ? ORCH_ENOTFOUND : ORCH_EIO,
                             "%s: %s", path, strerror(errno));
    rc = orch_buf_read_stream(&data, fp);
    if (rc == ORCH_ENOMEM) {
        rc = orch_diag_set(diag, rc, "out of memory");
        goto out;
    }
    if (rc) {
        rc = orch_diag_set(diag, rc, "%s: read error", path);
        goto out;
    }
    rc = orch_rollout_parse(r, orch_buf_str(&data), data.len, path, diag);
    if (rc == 0 && !r->has_wave)
        rc = waves_from_file(r, path, diag);
    if (rc == 0 && plan_size_from_journal(r, path))
        rc = orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    if (rc == 0)
        set_identity(r);
out:
    orch_buf_cleanup(&data);
    fclose(fp);
    return rc;
}

void orch_rollout_cleanup(struct orch_rollout *r)
{
    size_t i = 0;

    if (r == NULL)
        return;
    for (i = 0; i < r->njobs; i++) {
        free(r->jobs[i].job_id);
        free(r->jobs[i].product_key);
        free(r->jobs[i].firmware_id);
        free(r->jobs[i].wave);
    }
    for (i = 0; i < r->nleft; i++) {
        free(r->left[i].status);
        free(r->left[i].code);
    }
    free(r->left);
    free(r->jobs);
    free(r->path);
    memset(r, 0, sizeof(*r));
}

void orch_rollout_job_reset_listing(struct orch_rollout_job *j)
{
    memset(j->counts, 0, sizeof(j->counts));
    j->total = j->listed = 0;
    j->pages = 0;
    j->query_failed = false;
    j->error[0] = '\0';
    j->job_status[0] = '\0';
}

void orch_rollout_reset_counts(struct orch_rollout *r)
{
    size_t i = 0;

    for (i = 0; i < r->njobs; i++) {
        struct orch_rollout_job *j = &r->jobs[i];

        orch_rollout_job_reset_listing(j);
        j->no_task_reason = 0;
        j->modified[0] = '\0';
        j->seen_status[0] = '\0';
        j->cached = false;
        j->read_date_ms = 0;
        j->tasks_modified_ms = 0;
    }
}
