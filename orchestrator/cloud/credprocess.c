/* credprocess.c - the External credential source: split process_command
 * into argv, run it without a shell, read its stdout as a profile JSON.
 *
 * DESIGN: posix_spawnp rather than fork + exec, because the refresh runs on
 * a thread of a multi-threaded program (posix_spawn is safe there and
 * reports a failed exec as its return value). The child gets /dev/null as
 * stdin and stderr, the write end of a pipe as stdout, default signal
 * dispositions and an empty signal mask, and a process group of its own,
 * so that a timeout can kill the command and whatever it started. The
 * output buffer holds secrets: it is wiped before it is freed, and nothing
 * of it is ever copied into diag.
 */
#include "orch/cloud/credprocess.h"

#include "orch/base/clock.h"
#include "orch/base/err.h"
#include "orch/base/timeparse.h"
#include "orch/cloud/credentials.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

void orch_credprocess_argv_free(char **argv)
{
    size_t i = 0;

    for (i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
}

/* The argv being built: words collected in tok, then copied into v. */
struct splitter {
    char **v;
    size_t n;
    char *tok;
    size_t len;
    bool started; /* a word has begun, even an empty quoted one */
};

static int flush_word(struct splitter *s)
{
    if (!s->started)
        return 0;
    s->v[s->n] = strndup(s->tok, s->len);
    if (s->v[s->n] == NULL)
        return ORCH_ENOMEM;
    s->n++;
    s->len = 0;
    s->started = false;
    return 0;
}

int orch_credprocess_split(const char *cmd, char ***argv, const char *what,
                           struct orch_diag *diag)
{
    enum { PLAIN, SINGLE, DOUBLE } state = PLAIN;
    size_t n = strlen(cmd);
    struct splitter s = {NULL, 0, NULL, 0, false};
    const char *bad = NULL;
    size_t i = 0;
    int rc = 0;

    *argv = NULL;
    /* At most one word per two characters, plus the last one. */
    s.v = calloc(n / 2 + 2, sizeof(*s.v));
    s.tok = malloc(n + 1);
    if (s.v == NULL || s.tok == NULL) {
        rc = ORCH_ENOMEM;
        goto out;
    }
    for (i = 0; i < n && rc == 0; i++) {
        char c = cmd[i];

        if (state == SINGLE) {
            if (c == '\'')
                state = PLAIN;
            else
                s.tok[s.len++] = c;
        } else if (state == DOUBLE) {
            if (c == '"')
                state = PLAIN;
            else if (c == '\\' && i + 1 < n && strchr("\"\\$`\n", cmd[i + 1]))
                s.tok[s.len++] = cmd[++i];
            else
                s.tok[s.len++] = c;
        } else if (c == '\\') {
            if (i + 1 >= n) {
                bad = "ends with a backslash";
                break;
            }
            s.started = true;
            s.tok[s.len++] = cmd[++i];
        } else if (c == '\'' || c == '"') {
            state = c == '\'' ? SINGLE : DOUBLE;
            s.started = true;
        } else if (isspace((unsigned char)c)) {
            rc = flush_word(&s);
        } else {
            s.started = true;
            s.tok[s.len++] = c;
        }
    }
    if (bad == NULL && state != PLAIN)
        bad = "has an unclosed quote";
    if (rc == 0 && bad == NULL)
        rc = flush_word(&s);
    if (rc == 0 && bad == NULL && (s.n == 0 || s.v[0][0] == '\0'))
        bad = "is empty";
    if (rc == 0 && bad)
        rc = orch_diag_set(diag, ORCH_ECONFIG, "%s %s", what, bad);
out:
    free(s.tok);
    if (rc) {
        orch_credprocess_argv_free(s.v);
        if (rc == ORCH_ENOMEM)
            orch_diag_set(diag, rc, "out of memory");
        return rc;
    }
    *argv = s.v;
    return 0;
}

static const char *program_name(const char *argv0)
{
    const char *slash = strrchr(argv0, '/');

    return slash ? slash + 1 : argv0;
}

/* What running the command gave. */
struct run {
    pid_t pid;
    int fd;         /* read end of the stdout pipe */
    char *buf;      /* stdout, max_out + 1 bytes */
    size_t len;
    int status;     /* waitpid() status */
    bool timed_out;
    bool too_big;
};

static int spawn(struct run *r, char *const argv[])
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, all;
    int pfd[2] = {-1, -1};
    int rc = 0;

    if (pipe2(pfd, O_CLOEXEC) != 0)
        return errno;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
                                      POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    rc = posix_spawnp(&r->pid, argv[0], &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(pfd[1]);
    if (rc) {
        close(pfd[0]);
        return rc;
    }
    r->fd = pfd[0];
    return 0;
}

static int remaining_ms(uint64_t deadline)
{
    uint64_t now = orch_mono_ms();

    return now >= deadline ? 0 : (int)(deadline - now);
}

/* Reads stdout until EOF, the deadline or more than max_out bytes. */
static void read_output(struct run *r, size_t max_out, uint64_t deadline)
{
    struct pollfd p = {r->fd, POLLIN, 0};

    for (;;) {
        int left = remaining_ms(deadline);
        ssize_t n = 0;

        if (left == 0 || poll(&p, 1, left) == 0) {
            r->timed_out = true;
            return;
        }
        n = read(r->fd, r->buf + r->len, max_out + 1 - r->len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return;
        r->len += (size_t)n;
        if (r->len > max_out) {
            r->too_big = true;
            return;
        }
    }
}

/* Reaps the command; kills its process group first when it overstayed
 * (it may have closed stdout and still be running). */
static void reap(struct run *r, uint64_t deadline)
{
    struct timespec tick = {0, 5 * 1000 * 1000};

    if (!r->timed_out && !r->too_big) {
        while (waitpid(r->pid, &r->status, WNOHANG) == 0) {
            if (remaining_ms(deadline) == 0) {
                r->timed_out = true;
                break;
            }
            nanosleep(&tick, NULL);
        }
        if (!r->timed_out)
            return;
    }
    kill(-r->pid, SIGKILL);
    while (waitpid(r->pid, &r->status, 0) < 0 && errno == EINTR)
        ;
}

static const char *jstr(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool all_digits(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* The answer's expiration as epoch ms, -1 when absent. */
static int parse_expiration(json_t *root, int64_t *ms, const char *name,
                            struct orch_diag *diag)
{
    json_t *e = json_object_get(root, "expiration");
    const char *s = NULL;
    long long secs = -1;

    *ms = -1;
    if (e == NULL || json_is_null(e))
        return 0;
    if (json_is_integer(e))
        secs = (long long)json_integer_value(e);
    else if (json_is_string(e)) {
        s = json_string_value(e);
        if (*s == '\0')
            return 0;
        if (all_digits(s) && strlen(s) <= 11)
            secs = atoll(s);
        else if (orch_time_parse(s, ms, NULL) == 0)
            return 0;
    }
    if (secs <= 0 || secs > 99999999999LL)
        return orch_diag_set(diag, ORCH_ECRED,
                             "External command \"%s\": its \"expiration\" "
                             "is neither an RFC 3339 time with a zone nor "
                             "epoch seconds",
                             name);
    *ms = (int64_t)secs * 1000;
    return 0;
}

static int parse_answer(const struct run *r, const char *name,
                        const char *label, struct orch_credset *out,
                        struct orch_diag *diag)
{
    char what[160];
    json_t *root = NULL;
    const char *mode = NULL, *id = NULL, *secret = NULL, *token = NULL;
    int64_t now = orch_wall_ms();
    int rc = 0;

    snprintf(what, sizeof(what), "External command \"%s\": its output",
             name);
    rc = orch_secret_json_parse(r->buf, r->len, what, &root, diag);
    if (rc) {
        if (rc == ORCH_ECONFIG)
            rc = ORCH_ECRED;
        return rc;
    }
    mode = jstr(root, "mode");
    id = jstr(root, "access_key_id");
    secret = jstr(root, "access_key_secret");
    token = jstr(root, "sts_token");
    if (mode && *mode && strcasecmp(mode, "AK") != 0 &&
        strcasecmp(mode, "StsToken") != 0)
        rc = orch_diag_set(diag, ORCH_ECRED,
                           "External command \"%s\" answered mode \"%.32s\"; "
                           "only AK or StsToken answers are supported",
                           name, mode);
    else if (id == NULL || *id == '\0' || secret == NULL || *secret == '\0')
        rc = orch_diag_set(diag, ORCH_ECRED,
                           "External command \"%s\": its output has no "
                           "access_key_id or no access_key_secret",
                           name);
    else if (mode && strcasecmp(mode, "StsToken") == 0 &&
             (token == NULL || *token == '\0'))
        rc = orch_diag_set(diag, ORCH_ECRED,
                           "External command \"%s\": its output (mode "
                           "StsToken) has no sts_token",
                           name);
    if (rc == 0)
        rc = parse_expiration(root, &out->expires_ms, name, diag);
    if (rc == 0 && out->expires_ms >= 0 && out->expires_ms <= now)
        rc = orch_diag_set(diag, ORCH_ECRED,
                           "External command \"%s\" answered credentials "
                           "that have already expired",
                           name);
    if (rc == 0)
        rc = orch_credentials_fill(&out->cred, id, secret, token, label);
    out->fetched_ms = now;
    json_decref(root);
    return rc;
}

/* diag for a command that did not end well, or 0. */
static int run_failure(const struct run *r, const char *name, int timeout_ms,
                       size_t max_out, struct orch_diag *diag)
{
    if (r->timed_out)
        return orch_diag_set(diag, ORCH_ECRED,
                             "External command \"%s\" did not finish within "
                             "%d ms; killed",
                             name, timeout_ms);
    if (r->too_big)
        return orch_diag_set(diag, ORCH_ECRED,
                             "External command \"%s\" wrote more than %zu "
                             "bytes; killed",
                             name, max_out);
    if (WIFSIGNALED(r->status))
        return orch_diag_set(diag, ORCH_ECRED,
                             "External command \"%s\" was killed by signal "
                             "%d",
                             name, WTERMSIG(r->status));
    if (WIFEXITED(r->status) && WEXITSTATUS(r->status) != 0)
        return orch_diag_set(diag, ORCH_ECRED,
                             "External command \"%s\" exited with status %d "
                             "(its messages are not shown: run it by hand "
                             "to see them)",
                             name, WEXITSTATUS(r->status));
    return 0;
}

int orch_credprocess_fetch_limits(const struct orch_credsource *src,
                                  int timeout_ms, size_t max_out,
                                  struct orch_credset *out,
                                  struct orch_diag *diag)
{
    struct run r = {0, -1, NULL, 0, 0, false, false};
    const char *name = NULL;
    uint64_t deadline = 0;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    out->expires_ms = -1;
    if (src == NULL || src->kind != ORCH_CRED_PROCESS || src->argv == NULL ||
        src->argv[0] == NULL)
        return orch_diag_set(diag, ORCH_EINVAL,
                             "not an External credential source");
    name = program_name(src->argv[0]);
    r.buf = malloc(max_out + 1);
    if (r.buf == NULL)
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    deadline = orch_mono_ms() + (uint64_t)timeout_ms;
    rc = spawn(&r, src->argv);
    if (rc) {
        rc = orch_diag_set(diag, ORCH_ECRED,
                           "External command \"%s\" could not be started: "
                           "%s",
                           name, strerror(rc));
        goto out;
    }
    read_output(&r, max_out, deadline);
    close(r.fd);
    reap(&r, deadline);
    rc = run_failure(&r, name, timeout_ms, max_out, diag);
    if (rc == 0)
        rc = parse_answer(&r, name, src->label, out, diag);
out:
    orch_secret_text_free(r.buf, max_out + 1);
    if (rc)
        orch_credentials_cleanup(&out->cred);
    if (rc == ORCH_ENOMEM)
        orch_diag_set(diag, rc, "out of memory");
    return rc;
}

int orch_credprocess_fetch(const struct orch_credsource *src,
                           struct orch_credset *out, struct orch_diag *diag)
{
    return orch_credprocess_fetch_limits(src, ORCH_CREDPROCESS_TIMEOUT_MS,
                                         ORCH_CREDPROCESS_MAX_OUT, out, diag);
}
