/* harness.h - end-to-end test fixture: start ota-emulator on a free loopback
 * port, run the real ota-rollout binary against it, read what both wrote.
 *
 * In the spirit of curl's sws and Redis's start_server: the real binaries,
 * port 0 with the bound port read back, a request log to assert on.
 * Every function aborts the test (cmocka fail) on a setup failure.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct emu_proc {
    pid_t pid;
    int port;
    char dir[256];        /* scratch directory of this emulator */
    char log_path[320];   /* its --request-log */
    char endpoint[64];    /* "http://127.0.0.1:PORT" */
};

/* The secret every test uses; tests grep outputs for it. */
#define H_KEY_ID "LTAItestkey01"
#define H_SECRET "S3cr3t-never-print-me-9f8e7d"

/* A new scratch directory under $TMPDIR (malloced path). */
char *h_tmpdir(void);

/* Starts ota-emulator with --port 0 --bind 127.0.0.1 --access-key
 * H_KEY_ID:H_SECRET --request-log <dir>/requests.jsonl and the extra args
 * (NULL-terminated list, may be NULL). Waits for the port line. */
void h_emu_start(struct emu_proc *e, const char *const *extra);
/* SIGTERM, wait. */
void h_emu_stop(struct emu_proc *e);
/* GET http://127.0.0.1:PORT<path>, parsed as JSON (new reference). Fails
 * the test if the request fails or the answer is not JSON. */
json_t *h_emu_get(const struct emu_proc *e, const char *path);
/* GET http://127.0.0.1:PORT<path>, or a POST of the urlencoded `form` when
 * form is not NULL; drops the body. Returns the HTTP status; fails the test
 * if the request cannot be made. */
long h_emu_send(const struct emu_proc *e, const char *path, const char *form);

/* Fetches `url` with libcurl (30 s timeout): a GET, or a POST of the
 * urlencoded `form` when form is not NULL; an https server is verified
 * against the CA file `ca` when ca is not NULL. Returns the body (malloced,
 * NUL-terminated, the caller frees it); *status gets the HTTP status and
 * *len the body's length when not NULL. Fails the test if the transfer
 * fails; an HTTP error status is not a failure. */
char *h_http(const char *url, const char *form, const char *ca, long *status,
             size_t *len);

/* Result of one ota-rollout run. */
struct h_run {
    int exit_code;   /* -1 if killed by a signal */
    char *out;       /* stdout, malloced */
    char *err;       /* stderr, malloced */
};

/* Runs ORCH_BIN with argv (NULL-terminated, without argv[0]) and the
 * environment: none of the caller's ALIBABA_CLOUD_* credentials, profile
 * or token; the test credentials (key id, secret) set unless no_creds,
 * plus `env` entries "NAME=VALUE" (NULL-terminated, may be NULL, applied
 * last); HOME a fresh scratch directory. stdin is /dev/null, no
 * controlling terminal. Waits up to timeout_s seconds, then kills it. */
void h_run(struct h_run *r, const char *const *argv, const char *const *env,
           int no_creds, int timeout_s);
void h_run_free(struct h_run *r);

/* Starts ORCH_BIN with argv in the background, in the environment h_run
 * gives it but with HOME=home: stdin /dev/null, a new session (no
 * controlling terminal), killed if the test process dies. Its stdout is
 * appended to the file `out` and its stderr to `err` (created 0600 when
 * missing); err NULL: stderr goes to the same file as stdout. Returns its
 * pid, to be reaped with h_wait(). */
pid_t h_spawn(const char *const *argv, const char *const *env, int no_creds,
              const char *home, const char *out, const char *err);
/* Waits for the child pid, sending it SIGKILL once kill_ms milliseconds
 * have passed (kill_ms < 0: never) or, at the latest, after limit_ms.
 * Returns its exit code, or -1 when it died of a signal (killed here or
 * not). */
int h_wait(pid_t pid, long kill_ms, long limit_ms);
/* For a forked child that has set up its own stdio (a pseudo-terminal,
 * say): execs ORCH_BIN with argv (NULL-terminated, without argv[0]) in the
 * environment h_spawn describes. Never returns (exit 127 if exec fails). */
_Noreturn void h_exec_tool(const char *const *argv, const char *const *env,
                           int no_creds, const char *home);

/* Seconds on the monotonic clock (for measuring how long something took). */
double h_now_s(void);
/* Milliseconds since the epoch on the wall clock (the clock ScheduleTime
 * and the journal's times are on). */
int64_t h_wall_ms(void);
/* Sleeps ms milliseconds, the whole time even if a signal interrupts. */
void h_sleep_ms(long ms);

/* Reads a whole file (malloced, NUL-terminated); NULL if missing. */
char *h_slurp(const char *path, size_t *len);
/* Writes an inventory of n devices "dev-%06zu" (header DeviceName) for
 * ProductKey pk (NULL: no ProductKey column). */
void h_write_inventory(const char *path, size_t n, const char *pk);
/* Reads a JSON-lines file into an array (new reference). */
json_t *h_read_jsonl(const char *path);
/* Parses a CSV file written by ota-rollout: a JSON array of objects keyed
 * by the header cells (new reference). */
json_t *h_read_csv(const char *path);
/* Asserts that `secret` appears nowhere in the files below dir, nor in the
 * strings given (NULL-terminated). */
void h_assert_no_secret(const char *dir, const char *secret,
                        const char *const *texts);

#endif
