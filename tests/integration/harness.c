/* harness.c - start ota-emulator, run ota-rollout, read their files. */
#include "harness.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <csv.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

char *h_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    char *d = NULL;

    snprintf(tmpl, sizeof(tmpl), "%s/ota-e2e-XXXXXX", base ? base : "/tmp");
    d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static int read_port_line(int fd, int timeout_ms)
{
    char line[64];
    size_t n = 0;
    struct pollfd p = { .fd = fd, .events = POLLIN };

    while (n + 1 < sizeof(line)) {
        ssize_t r = 0;

        if (poll(&p, 1, timeout_ms) <= 0)
            return -1;
        r = read(fd, line + n, 1);
        if (r <= 0)
            return -1;
        if (line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    return atoi(line);
}

void h_emu_start(struct emu_proc *e, const char *const *extra)
{
    const char *argv[64];
    char *dir = h_tmpdir();
    char akey[128];
    int pfd[2];
    size_t n = 0;
    pid_t pid = 0;

    memset(e, 0, sizeof(*e));
    snprintf(e->dir, sizeof(e->dir), "%s", dir);
    free(dir);
    snprintf(e->log_path, sizeof(e->log_path), "%s/requests.jsonl", e->dir);
    snprintf(akey, sizeof(akey), "%s:%s", H_KEY_ID, H_SECRET);
    argv[n++] = EMU_BIN;
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--bind";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--access-key";
    argv[n++] = akey;
    argv[n++] = "--request-log";
    argv[n++] = e->log_path;
    for (size_t i = 0; extra && extra[i] && n < 62; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;

    assert_int_equal(pipe(pfd), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char errpath[400];
        int efd = -1;

        /* A failing test longjmps past h_emu_stop(): the emulator must not
         * outlive the test process. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        snprintf(errpath, sizeof(errpath), "%s/emulator.stderr", e->dir);
        efd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(pfd[1], 1);
        if (efd >= 0)
            dup2(efd, 2);
        close(pfd[0]);
        execv(EMU_BIN, (char *const *)argv);
        _exit(127);
    }
    close(pfd[1]);
    e->pid = pid;
    e->port = read_port_line(pfd[0], 10000);
    close(pfd[0]);
    if (e->port <= 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("ota-emulator did not report a port (see %s)", e->dir);
    }
    snprintf(e->endpoint, sizeof(e->endpoint), "http://127.0.0.1:%d",
             e->port);
}

void h_emu_stop(struct emu_proc *e)
{
    int st = 0;

    if (e->pid <= 0)
        return;
    kill(e->pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(e->pid, &st, WNOHANG) == e->pid) {
            e->pid = 0;
            return;
        }
        usleep(20000);
    }
    kill(e->pid, SIGKILL);
    waitpid(e->pid, &st, 0);
    e->pid = 0;
}

static size_t collect(char *p, size_t sz, size_t n, void *ud)
{
    FILE *f = ud;

    return fwrite(p, sz, n, f);
}

char *h_http(const char *url, const char *form, const char *ca, long *status,
             size_t *len)
{
    CURL *c = curl_easy_init();
    char *data = NULL;
    size_t n = 0;
    FILE *mem = open_memstream(&data, &n);
    CURLcode rc = CURLE_OK;

    assert_non_null(c);
    assert_non_null(mem);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, mem);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (form)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
    if (ca)
        curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        fail_msg("%s: %s", url, curl_easy_strerror(rc));
    if (status)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(c);
    fclose(mem); /* data is NUL-terminated from here on */
    if (len)
        *len = n;
    return data;
}

json_t *h_emu_get(const struct emu_proc *e, const char *path)
{
    char url[256];
    char *data = NULL;
    size_t len = 0;
    json_t *j = NULL;
    json_error_t jerr;

    snprintf(url, sizeof(url), "%s%s", e->endpoint, path);
    data = h_http(url, NULL, NULL, NULL, &len);
    j = json_loadb(data, len, 0, &jerr);
    if (j == NULL)
        fail_msg("emulator %s: not JSON: %.200s", path, data);
    free(data);
    return j;
}

long h_emu_send(const struct emu_proc *e, const char *path, const char *form)
{
    char url[256];
    long status = 0;

    snprintf(url, sizeof(url), "%s%s", e->endpoint, path);
    free(h_http(url, form, NULL, &status, NULL));
    return status;
}

/* The tool's $XDG_RUNTIME_DIR, where processes with one AccessKeyId
 * share its quotas: one scratch directory per test program (created before
 * the first fork), so that the tests ctest runs side by side against
 * different emulators do not slow each other down, while the runs of one
 * test share it as an operator's would. */
static const char *runtime_dir(void)
{
    static char *dir;

    if (dir == NULL)
        dir = h_tmpdir();
    return dir;
}

_Noreturn void h_exec_tool(const char *const *argv, const char *const *env,
                           int no_creds, const char *home)
{
    const char *args[128];
    size_t n = 0;

    args[n++] = ORCH_BIN;
    for (size_t i = 0; argv[i] && n < 126; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    unsetenv("ALIBABA_CLOUD_ACCESS_KEY_ID");
    unsetenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
    unsetenv("ALIBABA_CLOUD_SECURITY_TOKEN");
    unsetenv("ALIBABA_CLOUD_PROFILE");
    /* No other link of the credential chain either, and never the real
     * ECS metadata service: a test that wants it points
     * OTA_ROLLOUT_ECS_METADATA_URL at the emulator and sets
     * ALIBABA_CLOUD_ECS_METADATA_DISABLED= (empty) in env. */
    unsetenv("ALIBABA_CLOUD_ROLE_ARN");
    unsetenv("ALIBABA_CLOUD_OIDC_PROVIDER_ARN");
    unsetenv("ALIBABA_CLOUD_OIDC_TOKEN_FILE");
    unsetenv("ALIBABA_CLOUD_CONFIG_FILE");
    unsetenv("ALIBABA_CLOUD_CREDENTIALS_FILE");
    unsetenv("ALIBABA_CLOUD_CREDENTIALS_URI");
    unsetenv("ALIBABA_CLOUD_ECS_METADATA");
    unsetenv("OTA_ROLLOUT_ECS_METADATA_URL");
    setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true", 1);
    setenv("HOME", home, 1); /* no stray ~/.aliyun/config.json */
    setenv("XDG_RUNTIME_DIR", runtime_dir(), 1);
    if (!no_creds) {
        setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", H_KEY_ID, 1);
        setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", H_SECRET, 1);
    }
    for (size_t i = 0; env && env[i]; i++)
        putenv((char *)env[i]);
    execv(ORCH_BIN, (char *const *)args);
    _exit(127);
}

pid_t h_spawn(const char *const *argv, const char *const *env, int no_creds,
              const char *home, const char *out, const char *err)
{
    pid_t pid = 0;

    (void)runtime_dir(); /* in this process: every child gets the same */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int o = open(out, O_WRONLY | O_CREAT | O_APPEND, 0600);
        int e = err ? open(err, O_WRONLY | O_CREAT | O_APPEND, 0600) : o;

        /* A failing test longjmps past h_wait(): the tool must not
         * outlive the test process. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        setsid(); /* no controlling terminal: the tool must not prompt */
        h_exec_tool(argv, env, no_creds, home);
    }
    return pid;
}

int h_wait(pid_t pid, long kill_ms, long limit_ms)
{
    double t0 = h_now_s();
    int st = 0;

    for (;;) {
        long waited = 0;

        if (waitpid(pid, &st, WNOHANG) == pid)
            break;
        waited = (long)((h_now_s() - t0) * 1000.0);
        if ((kill_ms >= 0 && waited >= kill_ms) || waited >= limit_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            break;
        }
        h_sleep_ms(5);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void h_run(struct h_run *r, const char *const *argv, const char *const *env,
           int no_creds, int timeout_s)
{
    char *dir = h_tmpdir();
    char outp[512], errp[512];
    pid_t pid = 0;

    memset(r, 0, sizeof(*r));
    snprintf(outp, sizeof(outp), "%s/stdout", dir);
    snprintf(errp, sizeof(errp), "%s/stderr", dir);
    pid = h_spawn(argv, env, no_creds, dir, outp, errp);
    r->exit_code = h_wait(pid, -1, (long)timeout_s * 1000);
    r->out = h_slurp(outp, NULL);
    r->err = h_slurp(errp, NULL);
    if (r->out == NULL)
        r->out = strdup("");
    if (r->err == NULL)
        r->err = strdup("");
    free(dir);
}

void h_run_free(struct h_run *r)
{
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof(*r));
}

char *h_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long sz = 0;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)sz + 1);
    assert_non_null(buf);
    if (sz > 0 && fread(buf, 1, (size_t)sz, f) != (size_t)sz)
        sz = 0;
    buf[sz] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)sz;
    return buf;
}

void h_write_inventory(const char *path, size_t n, const char *pk)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(pk ? "DeviceName,ProductKey\n" : "DeviceName\n", f);
    for (size_t i = 0; i < n; i++) {
        if (pk)
            fprintf(f, "dev-%06zu,%s\n", i, pk);
        else
            fprintf(f, "dev-%06zu\n", i);
    }
    fclose(f);
}

json_t *h_read_jsonl(const char *path)
{
    FILE *f = fopen(path, "r");
    json_t *arr = json_array();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = 0;

    assert_non_null(f);
    while ((n = getline(&line, &cap, f)) > 0) {
        json_error_t jerr;
        json_t *j = NULL;

        if (n <= 1)
            continue;
        j = json_loads(line, 0, &jerr);
        if (j == NULL)
            fail_msg("%s: line is not JSON: %.200s", path, line);
        json_array_append_new(arr, j);
    }
    free(line);
    fclose(f);
    return arr;
}

struct csv_state {
    json_t *rows;
    json_t *header;
    json_t *cur;
    size_t col;
};

static void csv_cell(void *s, size_t len, void *ud)
{
    struct csv_state *st = ud;
    json_t *v = json_stringn(s ? s : "", s ? len : 0);

    if (st->rows == NULL) { /* still in the header record */
        json_array_append_new(st->header, v);
        return;
    }
    if (st->cur == NULL)
        st->cur = json_object();
    if (st->col < json_array_size(st->header))
        json_object_set_new(
            st->cur, json_string_value(json_array_get(st->header, st->col)),
            v);
    else
        json_decref(v);
    st->col++;
}

static void csv_end(int c, void *ud)
{
    struct csv_state *st = ud;

    (void)c;
    if (st->rows == NULL) {
        st->rows = json_array(); /* header done */
    } else if (st->cur) {
        json_array_append_new(st->rows, st->cur);
    }
    st->cur = NULL;
    st->col = 0;
}

json_t *h_read_csv(const char *path)
{
    size_t len = 0;
    char *data = h_slurp(path, &len);
    struct csv_parser p;
    struct csv_state st = { 0 };

    if (data == NULL)
        fail_msg("missing CSV %s", path);
    st.header = json_array();
    csv_init(&p, CSV_APPEND_NULL);
    csv_parse(&p, data, len, csv_cell, csv_end, &st);
    csv_fini(&p, csv_cell, csv_end, &st);
    csv_free(&p);
    free(data);
    json_decref(st.header);
    return st.rows ? st.rows : json_array();
}

static void grep_tree(const char *dir, const char *secret)
{
    DIR *d = opendir(dir);
    struct dirent *de = NULL;

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        char p[1024];
        struct stat sb;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        if (lstat(p, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode)) {
            grep_tree(p, secret);
        } else if (S_ISREG(sb.st_mode)) {
            size_t len = 0;
            char *data = h_slurp(p, &len);

            if (data && memmem(data, len, secret, strlen(secret)))
                fail_msg("secret found in %s", p);
            free(data);
        }
    }
    closedir(d);
}

void h_assert_no_secret(const char *dir, const char *secret,
                        const char *const *texts)
{
    if (dir)
        grep_tree(dir, secret);
    for (size_t i = 0; texts && texts[i]; i++) {
        if (strstr(texts[i], secret))
            fail_msg("secret found in output: %.300s", texts[i]);
    }
}

double h_now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t h_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void h_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0)
        ;
}
