/* e2e_util.c - the fleet fixture, counts and rollout assertions of the
 * end-to-end tests. */
#include "e2e_util.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void e2e_fleet_init(struct e2e_fleet *f, size_t devices, const char *pk)
{
    memset(f, 0, sizeof(*f));
    f->dir = h_tmpdir();
    snprintf(f->inv, sizeof(f->inv), "%s/fleet.csv", f->dir);
    snprintf(f->report, sizeof(f->report), "%s/fleet.report.csv", f->dir);
    snprintf(f->journal, sizeof(f->journal), "%s.journal", f->report);
    snprintf(f->failed, sizeof(f->failed), "%s.failed.csv", f->report);
    snprintf(f->ambiguous, sizeof(f->ambiguous), "%s.ambiguous.csv", f->report);
    snprintf(f->output, sizeof(f->output), "%s/tool-output.txt", f->dir);
    h_write_inventory(f->inv, devices, pk);
}

void e2e_fleet_start(struct e2e_fleet *f, size_t devices, const char *pk,
                     const char *const *emu)
{
    e2e_fleet_init(f, devices, pk);
    h_emu_start(&f->emu, emu);
}

void e2e_scratch_paths(const char *dir, const char *name, char *inv,
                       char *report, size_t size)
{
    if ((size_t)snprintf(inv, size, "%s/%s.csv", dir, name) >= size ||
        (size_t)snprintf(report, size, "%s/%s.report.csv", dir, name) >= size)
        fail_msg("%s/%s: path too long", dir, name);
}

void e2e_fleet_stop(struct e2e_fleet *f)
{
    h_emu_stop(&f->emu);
    free(f->dir);
    f->dir = NULL;
}

const char *const *e2e_fleet_argv(const char **argv, const struct e2e_fleet *f,
                                  const char *fw, const char *const *extra)
{
    const char *common[] = {"run",   f->inv,       "--firmware-id",
                            fw,      "--endpoint", f->emu.endpoint,
                            "--yes", "--report",   f->report};
    size_t n = 0, i = 0;

    for (n = 0; n < sizeof(common) / sizeof(common[0]); n++)
        argv[n] = common[n];
    for (i = 0; extra && extra[i]; i++) {
        if (n + 1 >= E2E_MAX_ARGS)
            fail_msg("more than %d arguments", E2E_MAX_ARGS - 1);
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    return argv;
}

void e2e_expect_exit(const struct h_run *r, const char *what, int want_exit)
{
    if (r->exit_code != want_exit)
        fail_msg("%s: exit %d (want %d): %s", what, r->exit_code, want_exit,
                 r->err);
}

void e2e_run_expect(struct h_run *r, const char *const *argv,
                    const char *const *env, int no_creds, int timeout_s,
                    int want_exit)
{
    h_run(r, argv, env, no_creds, timeout_s);
    e2e_expect_exit(r, argv[0], want_exit);
}

void e2e_fleet_run(struct h_run *r, const struct e2e_fleet *f, const char *fw,
                   const char *const *extra, int want_exit)
{
    const char *argv[E2E_MAX_ARGS];

    e2e_run_expect(r, e2e_fleet_argv(argv, f, fw, extra), NULL, 0, 120,
                   want_exit);
}

void e2e_report_run(struct h_run *r, const struct e2e_fleet *f, const char *cmd,
                    const char *const *extra, int want_exit)
{
    const char *argv[E2E_MAX_ARGS] = {cmd, f->report, "--endpoint",
                                      f->emu.endpoint};
    size_t n = 4, i = 0;

    for (i = 0; extra && extra[i]; i++) {
        if (n + 1 >= E2E_MAX_ARGS)
            fail_msg("more than %d arguments", E2E_MAX_ARGS - 1);
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    e2e_run_expect(r, argv, NULL, 0, 60, want_exit);
}

char *e2e_await_text(const char *path, const char *needle, pid_t pid,
                     int timeout_s)
{
    time_t deadline = time(NULL) + timeout_s;
    char *text = NULL;

    for (;;) {
        free(text);
        text = h_slurp(path, NULL);
        if (text && strstr(text, needle))
            break;
        if (waitpid(pid, NULL, WNOHANG) != 0 || time(NULL) > deadline)
            break;
        usleep(50 * 1000);
    }
    return text ? text : strdup("");
}

size_t e2e_count_intents(const char *journal)
{
    char *data = h_slurp(journal, NULL);
    size_t n = e2e_count_substr(data, "\"t\":\"intent\"");

    free(data);
    return n;
}

void e2e_await_intents(const struct e2e_fleet *f, pid_t pid, size_t n)
{
    long waited = 0;

    while (e2e_count_intents(f->journal) < n) {
        if (waited >= 30000 || waitpid(pid, NULL, WNOHANG) == pid) {
            char *out = h_slurp(f->output, NULL);

            fail_msg("no %zu calls in flight after %ld ms: %s", n, waited,
                     out ? out : "");
        }
        h_sleep_ms(2);
        waited += 2;
    }
}

int e2e_interrupt(pid_t pid, int times)
{
    int i = 0;

    for (i = 0; i < times; i++) {
        if (i > 0)
            h_sleep_ms(50);
        assert_int_equal(kill(pid, SIGINT), 0);
    }
    return h_wait(pid, -1, 30000);
}

static int cmp_i64(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;

    return (x > y) - (x < y);
}

size_t e2e_max_per_window_where(json_t *log,
                                 bool (*keep)(json_t *entry, void *ud),
                                 void *ud)
{
    size_t n = 0, best = 0, lo = 0;
    long long *t = calloc(json_array_size(log) + 1, sizeof(*t));
    size_t i = 0;
    json_t *e = NULL;

    assert_non_null(t);
    json_array_foreach(log, i, e) {
        if (keep(e, ud))
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

static bool of_action(json_t *entry, void *action)
{
    const char *a = json_string_value(json_object_get(entry, "action"));

    return a != NULL && strcmp(a, action) == 0;
}

json_int_t e2e_emu_pending(const struct e2e_fleet *f)
{
    json_t *stats = h_emu_get(&f->emu, "/__emu/stats");
    json_t *t = json_object_get(stats, "tasks");
    json_int_t n = json_integer_value(json_object_get(t, "QUEUED")) +
                   json_integer_value(json_object_get(t, "NOTIFIED")) +
                   json_integer_value(json_object_get(t, "IN_PROGRESS"));

    json_decref(stats);
    return n;
}

size_t e2e_max_per_window(json_t *log, const char *action)
{
    return e2e_max_per_window_where(log, of_action, (void *)action);
}

size_t e2e_count(json_t *log, const char *action, int only_ok)
{
    size_t i = 0, n = 0;
    json_t *e = NULL;

    json_array_foreach(log, i, e) {
        const char *a = json_string_value(json_object_get(e, "action"));
        const char *code = json_string_value(json_object_get(e, "code"));

        if (action && (a == NULL || strcmp(a, action) != 0))
            continue;
        if (only_ok && code && code[0])
            continue;
        n++;
    }
    return n;
}

size_t e2e_log_count(const struct emu_proc *e, const char *action, int only_ok)
{
    json_t *log = h_read_jsonl(e->log_path);
    size_t n = e2e_count(log, action, only_ok);

    json_decref(log);
    return n;
}

size_t e2e_job_count(const struct emu_proc *e)
{
    json_t *jobs = h_emu_get(e, "/__emu/jobs");
    size_t n = json_array_size(jobs);

    json_decref(jobs);
    return n;
}

size_t e2e_count_where(json_t *arr, const char *key, const char *value)
{
    size_t i = 0, n = 0;
    json_t *o = NULL;

    json_array_foreach(arr, i, o) {
        const char *s = json_string_value(json_object_get(o, key));

        if (s && strcmp(s, value) == 0)
            n++;
    }
    return n;
}

json_t *e2e_find_where(json_t *arr, const char *key, const char *value)
{
    size_t i = 0;
    json_t *o = NULL;

    json_array_foreach(arr, i, o) {
        const char *s = json_string_value(json_object_get(o, key));

        if (s && strcmp(s, value) == 0)
            return o;
    }
    return NULL;
}

size_t e2e_count_substr(const char *hay, const char *needle)
{
    size_t n = 0;
    const char *p = hay;

    while (p && (p = strstr(p, needle)) != NULL) {
        n++;
        p += strlen(needle);
    }
    return n;
}

json_t *e2e_wave_records(const char *report, const char *event)
{
    char path[600];
    char *data = NULL, *p = NULL, *line = NULL;
    json_t *out = json_array();

    snprintf(path, sizeof(path), "%s.journal", report);
    data = h_slurp(path, NULL);
    assert_non_null(data);
    for (line = strtok_r(data, "\n", &p); line;
         line = strtok_r(NULL, "\n", &p)) {
        const char *brace = strchr(line, '{');
        json_t *rec = brace ? json_loads(brace, 0, NULL) : NULL;
        const char *t = json_string_value(json_object_get(rec, "t"));
        const char *ev = json_string_value(json_object_get(rec, "event"));

        if (t && strcmp(t, "wave") == 0 && ev && strcmp(ev, event) == 0)
            json_array_append(out, rec);
        json_decref(rec);
    }
    free(data);
    return out;
}

const char *e2e_str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

void e2e_assert_ints(json_t *doc, const char *obj, const struct e2e_int *want)
{
    for (; want->key; want++) {
        json_int_t got = torture_json_num(doc, obj, want->key);

        if (got != want->want)
            fail_msg("%s.%s: %lld, want %lld", obj ? obj : "", want->key,
                     (long long)got, (long long)want->want);
    }
}

json_t *e2e_parse_document(const char *out)
{
    json_error_t err;
    json_t *doc = json_loads(out, 0, &err);

    if (doc == NULL)
        fail_msg("stdout is not one JSON document: %s (line %d): %.200s",
                 err.text, err.line, out);
    if (!json_is_object(doc))
        fail_msg("stdout is a JSON document but not an object: %.200s", out);
    return doc;
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

void e2e_assert_complete(const struct e2e_fleet *f, size_t devices,
                         size_t chunks)
{
    json_t *jobs = h_emu_get(&f->emu, "/__emu/jobs");
    json_t *stats = h_emu_get(&f->emu, "/__emu/stats");
    json_t *rows = h_read_csv(f->report);
    json_t *failed = h_read_csv(f->failed);
    json_t *job = NULL, *st = NULL, *amb = NULL;
    const char *dev = NULL;
    char amb_path[700];
    size_t i = 0;

    /* Nothing left undecided: the ambiguous file is empty. */
    snprintf(amb_path, sizeof(amb_path), "%s.ambiguous.csv", f->report);
    amb = h_read_csv(amb_path);
    assert_int_equal(json_array_size(amb), 0);
    json_decref(amb);
    assert_int_equal(json_array_size(jobs), chunks);
    e2e_assert_each_device_once(jobs, devices);
    assert_int_equal(json_array_size(rows), chunks);
    assert_int_equal(e2e_count_where(rows, "status", "created"), chunks);
    e2e_assert_report_matches_jobs(rows, jobs);
    assert_int_equal(json_array_size(failed), 0);
    assert_int_equal(json_array_size(json_object_get(stats, "double_assigned")),
                     0);
    json_array_foreach(jobs, i, job) {
        json_object_foreach(json_object_get(job, "Tasks"), dev, st) {
            const char *s = json_string_value(st);

            if (s && strcmp(s, "FAILED") == 0)
                fail_msg("job %s: task of %s FAILED",
                         json_string_value(json_object_get(job, "JobId")),
                         dev);
        }
    }
    json_decref(jobs);
    json_decref(stats);
    json_decref(rows);
    json_decref(failed);
}

void e2e_assert_run_no_secret(const char *dir, const char *secret,
                              const struct h_run *r)
{
    h_assert_no_secret(dir, secret, (const char *[]){r->out, r->err, NULL});
}

void e2e_assert_mode_0600(const char *path)
{
    struct stat st;

    if (stat(path, &st) != 0)
        fail_msg("%s: missing", path);
    if ((st.st_mode & 0777) != 0600)
        fail_msg("%s: mode %o, not 0600", path, st.st_mode & 0777);
}

size_t e2e_assert_schedules(json_t *jobs, json_t *rows, long lo, long hi,
                            const struct e2e_schedule *s)
{
    size_t i = 0;
    json_t *j = NULL;

    json_array_foreach(jobs, i, j) {
        const char *id = json_string_value(json_object_get(j, "JobId"));
        json_t *row = id ? e2e_find_where(rows, "job_id", id) : NULL;
        long chunk = 0;

        if (row == NULL)
            fail_msg("job %s is not in the report", id ? id : "?");
        chunk = strtol(json_string_value(json_object_get(row, "chunk")), NULL,
                       10);
        if (chunk < lo || chunk > hi)
            fail_msg("job %s is chunk %ld, not in %ld-%ld", id, chunk, lo, hi);
        assert_int_equal(
            json_integer_value(json_object_get(j, "ScheduleTime")),
            s->t0 + s->wave_of(chunk) * s->interval);
    }
    return json_array_size(jobs);
}

long e2e_refreshes_told(const char *text)
{
    const char *p = NULL, *last = NULL;
    long n = -1;

    for (p = text ? strstr(text, "(STS, refreshed ") : NULL; p != NULL;
         p = strstr(p + 1, "(STS, refreshed "))
        last = p;
    if (last == NULL || sscanf(last, "(STS, refreshed %ld", &n) != 1)
        return -1;
    return n;
}

void e2e_fake_env_init(struct e2e_fake_env *f, const char *lib,
                       const char *spec, int fake_monotonic)
{
    const char *asan = getenv("ASAN_OPTIONS");

    snprintf(f->preload, sizeof(f->preload), "LD_PRELOAD=%s", lib);
    snprintf(f->faketime, sizeof(f->faketime), "FAKETIME=%s", spec);
    snprintf(f->asan, sizeof(f->asan),
             "ASAN_OPTIONS=%s%sverify_asan_link_order=0", asan ? asan : "",
             asan && *asan ? ":" : "");
    f->v[0] = f->preload;
    f->v[1] = f->faketime;
    f->v[2] = f->asan;
    f->v[3] = fake_monotonic ? NULL : "FAKETIME_DONT_FAKE_MONOTONIC=1";
    f->v[4] = NULL;
}

/* The installed libfaketimeMT.so.1 (Debian: /usr/lib/<triplet>/faketime),
 * or a test failure that says what to install. Malloced. */
char *e2e_faketime_lib(void)
{
    static const char *const pats[] = {
        "/usr/lib/*/faketime/libfaketimeMT.so.1",
        "/usr/lib/faketime/libfaketimeMT.so.1",
        "/usr/local/lib/faketime/libfaketimeMT.so.1"};
    char *found = NULL;
    size_t i = 0;

    for (i = 0; found == NULL && i < sizeof(pats) / sizeof(pats[0]); i++) {
        glob_t g;

        memset(&g, 0, sizeof(g));
        if (glob(pats[i], 0, NULL, &g) == 0 && g.gl_pathc > 0)
            found = strdup(g.gl_pathv[0]);
        globfree(&g);
    }
    if (found == NULL)
        fail_msg("libfaketime not found: install Debian's faketime package "
                 "(tests/install-deps.sh does)");
    return found;
}

int e2e_run_group(const struct CMUnitTest *tests, size_t n,
                  int (*setup)(void **), int (*teardown)(void **))
{
    signal(SIGPIPE, SIG_IGN);
    if (getenv("E2E_FILTER"))
        cmocka_set_test_filter(getenv("E2E_FILTER"));
    /* "tests": the group name cmocka_run_group_tests(tests, ...) gave. */
    return _cmocka_run_group_tests("tests", tests, n, setup, teardown);
}

/* c as the log shows it: itself, or its escape ("\r", "\x1b"). */
static void print_visible(char c)
{
    unsigned char u = (unsigned char)c;

    if (c == '\n' || (u >= 0x20 && u != 0x7f))
        print_message("%c", c);
    else if (c == '\r')
        print_message("\\r");
    else if (c == '\t')
        print_message("\\t");
    else
        print_message("\\x%02x", u);
}

void e2e_print_tail(const char *label, const char *text, size_t max)
{
    size_t len = 0, from = 0;

    if (text == NULL) {
        print_message("%s: (none)\n", label);
        return;
    }
    len = strlen(text);
    if (len == 0) {
        print_message("%s: (empty)\n", label);
        return;
    }
    from = len > max ? len - max : 0;
    print_message("%s (%zu bytes%s):\n", label, len,
                  from ? ", the end of it" : "");
    for (size_t i = from; i < len; i++)
        print_visible(text[i]);
    print_message("%s<end of %s>\n", text[len - 1] == '\n' ? "" : "\n",
                  label);
}
