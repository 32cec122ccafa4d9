/* test_e2e_terminal.c - what `run` does on a terminal: without
 * --yes it shows the plan summary and asks (no: nothing sent, exit 4; yes:
 * the run goes on); while it runs, a progress line (chunks done of total,
 * rate, ETA) on stderr, unless --no-progress; without a terminal plain
 * lines instead (test_e2e_progress.c), here only the final one. The tool's stdin and stderr are a pseudo-terminal, its stdout
 * a file, so the test also sees that the prompt and the progress line go
 * to stderr only. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PK "a1BwAGVabcd"
#define FW "UkOZxXXnVaLfqvvv8YzC000100"
#define PROMPT "[y/N] "

static const char *const auto_create[] = {"--auto-create", NULL};

struct pty_run {
    int exit_code; /* -1: killed */
    char *tty;     /* all the terminal showed (the tool's stderr + echo) */
    size_t len;
    char *out;     /* its stdout */
};

static void pty_run_free(struct pty_run *r)
{
    free(r->tty);
    free(r->out);
}

/* Runs ota-rollout with argv (without argv[0]) with stdin and stderr on a
 * new pseudo-terminal and stdout to c->output. When the terminal shows
 * the confirmation prompt, types `answer` (NULL: never expected). Reads
 * until the tool exits (at most 60 s). */
static void pty_run(const struct e2e_fleet *c, const char *const *argv,
                    const char *answer, struct pty_run *r)
{
    struct winsize ws = {.ws_row = 24, .ws_col = 100};
    size_t cap = 65536;
    int master = -1, slave = -1, st = 0;
    int answered = 0;
    double t0 = h_now_s();
    pid_t pid = 0;

    memset(r, 0, sizeof(*r));
    assert_int_equal(openpty(&master, &slave, NULL, NULL, &ws), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int out = open(c->output, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        close(master);
        setsid();
        dup2(slave, 0);
        dup2(out, 1);
        dup2(slave, 2);
        close(slave);
        close(out);
        setenv("TERM", "xterm", 1);
        unsetenv("NO_COLOR");
        h_exec_tool(argv, NULL, 0, c->dir);
    }
    close(slave);
    r->tty = malloc(cap);
    assert_non_null(r->tty);
    for (;;) {
        struct pollfd p = {.fd = master, .events = POLLIN};
        ssize_t got = 0;

        if (h_now_s() - t0 > 60) {
            kill(pid, SIGKILL);
            break;
        }
        if (poll(&p, 1, 100) <= 0)
            continue;
        if (r->len + 4096 > cap) {
            cap *= 2;
            r->tty = realloc(r->tty, cap);
            assert_non_null(r->tty);
        }
        got = read(master, r->tty + r->len, cap - r->len - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break; /* EIO: the tool closed its end (it exited) */
        r->len += (size_t)got;
        r->tty[r->len] = '\0';
        if (answer && !answered && strstr(r->tty, PROMPT)) {
            assert_int_equal(write(master, answer, strlen(answer)),
                             (ssize_t)strlen(answer));
            answered = 1;
        }
    }
    r->tty[r->len] = '\0';
    close(master);
    waitpid(pid, &st, 0);
    r->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r->out = h_slurp(c->output, NULL);
    assert_non_null(r->out);
    print_message("exit %d; terminal:\n%s\n", r->exit_code, r->tty);
}

static size_t creates(const struct e2e_fleet *c)
{
    return e2e_log_count(&c->emu, "CreateOTAStaticUpgradeJob", 0);
}

/* The plan summary is on the terminal before the question. */
static void assert_asked_after_summary(const struct pty_run *r,
                                       const char *question)
{
    const char *q = strstr(r->tty, question);
    const char *sum = strstr(r->tty, "calls needed: 3");

    assert_non_null(q);
    assert_non_null(strstr(r->tty, "devices: 500"));
    assert_non_null(strstr(r->tty, "chunks: 3 (up to 200 devices each)"));
    assert_non_null(sum);
    assert_true(sum < q);
    /* The prompt is not on stdout. */
    assert_null(strstr(r->out, PROMPT));
}

/* Answering "n": no Create is sent, no report is written, exit 4. */
static void prompt_answered_no_sends_nothing(void **state)
{
    struct e2e_fleet c;
    struct pty_run r;
    struct stat st;

    (void)state;
    e2e_fleet_start(&c, 500, PK, auto_create);
    const char *argv[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                          c.emu.endpoint, "--report", c.report, NULL};
    pty_run(&c, argv, "n\n", &r);
    assert_int_equal(r.exit_code, 4);
    assert_asked_after_summary(&r, "Create 3 upgrade jobs for 500 devices of " PK
                                       " to firmware " FW "? " PROMPT);
    assert_non_null(strstr(r.tty, "not confirmed; nothing sent"));
    assert_int_equal(creates(&c), 0);
    assert_int_not_equal(stat(c.report, &st), 0);
    pty_run_free(&r);
    e2e_fleet_stop(&c);
}

/* The question names what will happen, with the numbers as
 * people read them (thousands grouped). */
static void prompt_names_jobs_devices_product_firmware(void **state)
{
    struct e2e_fleet c;
    struct pty_run r;

    (void)state;
    e2e_fleet_start(&c, 20000, PK, auto_create);
    const char *argv[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                          c.emu.endpoint, "--report", c.report, NULL};
    pty_run(&c, argv, "n\n", &r);
    assert_int_equal(r.exit_code, 4);
    assert_non_null(strstr(r.tty, "Create 100 upgrade jobs for 20,000 "
                                  "devices of " PK " to firmware " FW "? "
                                  PROMPT));
    assert_int_equal(creates(&c), 0);
    pty_run_free(&r);
    e2e_fleet_stop(&c);
}

/* Answering "y": the run goes on and creates every chunk. */
static void prompt_answered_yes_runs(void **state)
{
    struct e2e_fleet c;
    struct pty_run r;
    json_t *rows = NULL, *jobs = NULL;

    (void)state;
    e2e_fleet_start(&c, 500, PK, auto_create);
    const char *argv[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                          c.emu.endpoint, "--report", c.report, NULL};
    pty_run(&c, argv, "y\n", &r);
    if (r.exit_code != 0)
        fail_msg("exit %d: %s", r.exit_code, r.tty);
    assert_asked_after_summary(&r, "Create 3 upgrade jobs for 500 devices of " PK
                                       " to firmware " FW "? " PROMPT);
    assert_int_equal(creates(&c), 3);
    rows = h_read_csv(c.report);
    jobs = h_emu_get(&c.emu, "/__emu/jobs");
    assert_int_equal(json_array_size(rows), 3);
    e2e_assert_each_device_once(jobs, 500);
    e2e_assert_report_matches_jobs(rows, jobs);
    json_decref(rows);
    json_decref(jobs);
    pty_run_free(&r);
    e2e_fleet_stop(&c);
}

/* The last progress line the terminal showed: "chunks D/T (C created, F
 * failed), R chunks/s over S s, ETA E". Returns how many there were. */
static size_t progress_lines(const char *text, unsigned long *done,
                             unsigned long *total, double *rate)
{
    const char *p = text;
    size_t n = 0;

    while ((p = strstr(p, "\rchunks ")) != NULL) {
        if (sscanf(p, "\rchunks %lu/%lu (%*u created, %*u failed), %lf "
                      "chunks/s over ",
                   done, total, rate) == 3)
            n++;
        p++;
    }
    return n;
}

/* 50 chunks at 20 calls/s take about 2.5 s: the progress line (drawn
 * about once a second) shows on the terminal, on stderr, never on
 * stdout. */
static void progress_line_on_terminal(void **state)
{
    struct e2e_fleet c;
    struct pty_run r;
    unsigned long done = 0, total = 0;
    double rate = 0;
    size_t lines = 0;

    (void)state;
    e2e_fleet_start(&c, 10000, PK, auto_create);
    const char *argv[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                          c.emu.endpoint, "--report", c.report, "--yes",
                          NULL};
    pty_run(&c, argv, NULL, &r);
    if (r.exit_code != 0)
        fail_msg("exit %d: %s", r.exit_code, r.tty);
    lines = progress_lines(r.tty, &done, &total, &rate);
    assert_true(lines >= 1);
    assert_int_equal(total, 50);
    assert_true(done <= 50);
    /* Chunks finished per second: about the 20 calls/s pace. */
    assert_true(rate > 0 && rate <= 40);
    assert_non_null(strstr(r.tty, "ETA "));
    assert_null(strstr(r.out, "chunks "));
    assert_non_null(strstr(r.tty, "summary:"));
    pty_run_free(&r);
    e2e_fleet_stop(&c);
}

/* What stderr showed (the terminal, or a pipe) of a run of 50 chunks that
 * drew no progress line: no "\rchunks " line, no ETA, the summary; and
 * all 50 Creates were sent. */
static void assert_no_progress_line(const struct e2e_fleet *c,
                                    const char *text)
{
    assert_null(strstr(text, "\rchunks "));
    assert_null(strstr(text, "ETA "));
    assert_non_null(strstr(text, "summary:"));
    assert_int_equal(creates(c), 50);
}

/* --no-progress: the same run on a terminal draws no progress line. */
static void no_progress_flag_on_terminal(void **state)
{
    struct e2e_fleet c;
    struct pty_run r;
    unsigned long done = 0, total = 0;
    double rate = 0;

    (void)state;
    e2e_fleet_start(&c, 10000, PK, auto_create);
    const char *argv[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                          c.emu.endpoint, "--report", c.report, "--yes",
                          "--no-progress", NULL};
    pty_run(&c, argv, NULL, &r);
    if (r.exit_code != 0)
        fail_msg("exit %d: %s", r.exit_code, r.tty);
    assert_int_equal(progress_lines(r.tty, &done, &total, &rate), 0);
    assert_no_progress_line(&c, r.tty);
    pty_run_free(&r);
    e2e_fleet_stop(&c);
}

/* Without a terminal (stderr a pipe), no line redrawn in place: a run this
 * short (about 2.5 s, under the 10 s between plain lines) prints only its
 * final plain line; with --no-progress not even that. */
static void no_progress_without_terminal(void **state)
{
    struct e2e_fleet c;
    struct h_run r;

    (void)state;
    e2e_fleet_start(&c, 10000, PK, auto_create);
    const char *argv[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                          c.emu.endpoint, "--report", c.report, "--yes",
                          NULL};
    e2e_run_expect(&r, argv, NULL, 0, 60, 0);
    assert_null(strchr(r.err, '\r'));
    assert_int_equal(e2e_count_substr(r.err, "\nchunks "), 1);
    assert_non_null(strstr(r.err, "\nchunks 50/50 (50 created, 0 failed), "));
    assert_non_null(strstr(r.err, "summary:"));
    h_run_free(&r);
    e2e_fleet_stop(&c);

    e2e_fleet_start(&c, 10000, PK, auto_create);
    const char *quiet[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                           c.emu.endpoint, "--report", c.report, "--yes",
                           "--no-progress", NULL};
    e2e_run_expect(&r, quiet, NULL, 0, 60, 0);
    assert_no_progress_line(&c, r.err);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

E2E_MAIN(cmocka_unit_test(prompt_answered_no_sends_nothing),
         cmocka_unit_test(prompt_answered_yes_runs),
         cmocka_unit_test(prompt_names_jobs_devices_product_firmware),
         cmocka_unit_test(progress_line_on_terminal),
         cmocka_unit_test(no_progress_flag_on_terminal),
         cmocka_unit_test(no_progress_without_terminal))
