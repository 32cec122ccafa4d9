/* test_e2e_terminal.c - what `run` does on a terminal: without
 * --yes it shows the plan summary and asks (no: nothing sent, exit 4; yes:
 * the run goes on); while it runs, a progress line (chunks done of total,
 * rate, ETA) on stderr, unless --no-progress; without a terminal plain
 * lines instead (test_e2e_progress.c), here only the final one. The tool's stdin and stderr are a pseudo-terminal, its stdout
 * a file, so the test also sees that the prompt and the progress line go
 * to stderr only. A failing test prints what its last run showed (the
 * end of the terminal's text, stdout, exit code, timing, the load), so a
 * CI log says why. */
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
/* How long a run may take: generous, for a loaded CI machine and an ASan
 * build (the runs here take a few seconds). */
#define RUN_LIMIT_S 120

static const char *const auto_create[] = {"--auto-create", NULL};

struct pty_run {
    int exit_code; /* -1: killed */
    char *tty;     /* all the terminal showed (the tool's stderr + echo) */
    size_t len;
    char *out;     /* its stdout */
};

/* What the current test's last run of the tool showed, for the
 * post-mortem a failing test prints (seen_teardown). The texts belong
 * to the run; a test frees its run (pty_run_free, pipe_run_free: `seen`
 * forgets it) only after its last assertion, so a failing test leaves
 * them here for the teardown to print and free. */
static struct {
    struct emu_proc emu; /* a copy of the fleet's (pid 0: none) */
    const char *how;  /* "terminal" or "pipe" */
    char *err;        /* the terminal's text, or stderr (a pipe) */
    char *out;        /* stdout */
    int exit_code;
    const char *ended; /* why the reading stopped */
    double prompt_s, answer_s, end_s; /* since the start; < 0: never */
} seen;

#define SEEN_TAIL 4096

static void seen_forget(void)
{
    memset(&seen, 0, sizeof(seen));
}

static void pty_run_free(struct pty_run *r)
{
    free(r->tty);
    free(r->out);
    seen_forget();
}

static void pipe_run_free(struct h_run *r)
{
    h_run_free(r);
    seen_forget();
}

/* Runs ota-rollout with argv (without argv[0]) with stdout and stderr
 * to files, h_run's way (killed after RUN_LIMIT_S); keeps the run, that
 * took its time against fleet c, as the one `seen`. */
static void pipe_run(const struct e2e_fleet *c, const char *const *argv,
                     struct h_run *r)
{
    double t0 = h_now_s();

    h_run(r, argv, NULL, 0, RUN_LIMIT_S);
    seen_forget();
    seen.emu = c->emu;
    seen.how = "pipe";
    seen.err = r->err;
    seen.out = r->out;
    seen.exit_code = r->exit_code;
    seen.ended = r->exit_code == -1 ? "killed (the limit, or a signal)"
                                    : "it exited";
    seen.prompt_s = seen.answer_s = -1;
    seen.end_s = h_now_s() - t0;
}

static int seen_setup(void **state)
{
    (void)state;
    seen_forget();
    return 0;
}

/* The machine's load, which a timing failure needs beside it. */
static void print_load(void)
{
    char load[128] = "?\n";
    FILE *f = fopen("/proc/loadavg", "r");

    if (f != NULL) {
        if (fgets(load, sizeof(load), f) == NULL)
            snprintf(load, sizeof(load), "?\n");
        fclose(f);
    }
    print_message("load average (1, 5, 15 min, ...): %s", load);
}

static void print_seen_times(void)
{
    print_message("timing: prompt shown at %.2f s, answer typed at %.2f s, "
                  "run over at %.2f s (-1: never)\n",
                  seen.prompt_s, seen.answer_s, seen.end_s);
}

/* A test that fails before it released its run leaves `seen` set: shows
 * what the run showed, then frees it and stops the emulator the test
 * left running. */
static int seen_teardown(void **state)
{
    (void)state;
    if (seen.how == NULL)
        return 0;
    print_message("---- what the failed test's last run showed (%s) ----\n",
                  seen.how);
    print_message("exit code: %d (-1: killed); %s\n", seen.exit_code,
                  seen.ended ? seen.ended : "the run did not end");
    print_seen_times();
    print_load();
    if (seen.emu.pid > 0)
        print_message("emulator: %zu Create requests, %zu of them "
                      "answered OK (its files: %s)\n",
                      e2e_log_count(&seen.emu, "CreateOTAStaticUpgradeJob",
                                    0),
                      e2e_log_count(&seen.emu, "CreateOTAStaticUpgradeJob",
                                    1),
                      seen.emu.dir);
    e2e_print_tail(strcmp(seen.how, "terminal") == 0 ? "terminal"
                                                      : "stderr",
                   seen.err, SEEN_TAIL);
    e2e_print_tail("stdout", seen.out, SEEN_TAIL / 4);
    print_message("---- end of what it showed ----\n");
    h_emu_stop(&seen.emu);
    free(seen.err);
    free(seen.out);
    seen_forget();
    return 0;
}

/* Reads what the terminal has into r's text (cap bytes, grown as it
 * fills); returns 0 when the reading is over (the tool closed its end:
 * EIO), saying why in `seen`. */
static int take_read(struct pty_run *r, size_t *cap, int master)
{
    ssize_t got = 0;

    if (r->len + 4096 > *cap) {
        *cap *= 2;
        r->tty = realloc(r->tty, *cap);
        assert_non_null(r->tty);
        seen.err = r->tty;
    }
    got = read(master, r->tty + r->len, *cap - r->len - 1);
    if (got < 0 && errno == EINTR)
        return 1;
    if (got < 0) {
        seen.ended = errno == EIO ? "the tool closed the terminal (EIO)"
                                  : "reading the terminal failed";
        return 0;
    }
    if (got == 0) {
        seen.ended = "the terminal reached its end";
        return 0;
    }
    r->len += (size_t)got;
    r->tty[r->len] = '\0';
    return 1;
}

/* Runs ota-rollout with argv (without argv[0]) with stdin and stderr on a
 * new pseudo-terminal and stdout to c->output. When the terminal shows
 * the confirmation prompt, types `answer` (NULL: never expected). Reads
 * until the tool exits (killed after RUN_LIMIT_S). Keeps the run as the
 * one `seen`, with its timing. */
static void pty_run(const struct e2e_fleet *c, const char *const *argv,
                    const char *answer, struct pty_run *r)
{
    struct winsize ws = {.ws_row = 24, .ws_col = 100};
    size_t cap = 65536;
    int master = -1, slave = -1, st = 0;
    double t0 = h_now_s();
    pid_t pid = 0;

    memset(r, 0, sizeof(*r));
    seen_forget();
    seen.emu = c->emu;
    seen.how = "terminal";
    seen.exit_code = -1;
    seen.prompt_s = seen.answer_s = seen.end_s = -1;
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
    r->tty[0] = '\0';
    seen.err = r->tty;
    for (;;) {
        struct pollfd p = {.fd = master, .events = POLLIN};

        if (h_now_s() - t0 > RUN_LIMIT_S) {
            kill(pid, SIGKILL);
            seen.ended = "killed: still running after the limit";
            break;
        }
        if (poll(&p, 1, 100) <= 0)
            continue;
        if (!take_read(r, &cap, master))
            break;
        if (seen.prompt_s < 0 && strstr(r->tty, PROMPT))
            seen.prompt_s = h_now_s() - t0;
        if (answer && seen.prompt_s >= 0 && seen.answer_s < 0) {
            assert_int_equal(write(master, answer, strlen(answer)),
                             (ssize_t)strlen(answer));
            seen.answer_s = h_now_s() - t0;
        }
    }
    seen.end_s = h_now_s() - t0;
    close(master);
    waitpid(pid, &st, 0);
    r->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    seen.exit_code = r->exit_code;
    r->out = h_slurp(c->output, NULL);
    seen.out = r->out;
    assert_non_null(r->out);
}

/* Create requests the emulator got, whatever it answered. */
static size_t creates(const struct e2e_fleet *c)
{
    return e2e_log_count(&c->emu, "CreateOTAStaticUpgradeJob", 0);
}

/* Create requests it answered with a job. Not every request: on a loaded
 * machine the tool's 20 calls/s and the emulator's quota of 20 per second
 * drift apart, a Create may be answered Throttling and is then sent
 * again, as it should be. */
static size_t jobs_created(const struct e2e_fleet *c)
{
    return e2e_log_count(&c->emu, "CreateOTAStaticUpgradeJob", 1);
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
    assert_int_equal(r.exit_code, 0);
    assert_asked_after_summary(&r, "Create 3 upgrade jobs for 500 devices of " PK
                                       " to firmware " FW "? " PROMPT);
    assert_int_equal(jobs_created(&c), 3);
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
    assert_int_equal(r.exit_code, 0);
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
    assert_int_equal(jobs_created(c), 50);
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
    assert_int_equal(r.exit_code, 0);
    assert_int_equal(progress_lines(r.tty, &done, &total, &rate), 0);
    assert_no_progress_line(&c, r.tty);
    pty_run_free(&r);
    e2e_fleet_stop(&c);
}

/* The seconds of the summary's "wall time: S s" (-1: none). */
static double wall_time_told(const char *text)
{
    const char *p = strstr(text, "wall time: ");
    double s = -1;

    if (p == NULL || sscanf(p, "wall time: %lf s", &s) != 1)
        return -1;
    return s;
}

/* Without a terminal (stderr a pipe), no line redrawn in place: a run this
 * short (about 2.5 s, under the 10 s between plain lines) prints only its
 * final plain line; with --no-progress not even that. A loaded machine
 * may stretch the run: a plain line more for each 10 s it lasted. */
static void no_progress_without_terminal(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    size_t lines = 0;

    (void)state;
    e2e_fleet_start(&c, 10000, PK, auto_create);
    const char *argv[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                          c.emu.endpoint, "--report", c.report, "--yes",
                          NULL};
    pipe_run(&c, argv, &r);
    assert_int_equal(r.exit_code, 0);
    assert_null(strchr(r.err, '\r'));
    lines = e2e_count_substr(r.err, "\nchunks ");
    assert_true(lines >= 1);
    assert_true(wall_time_told(r.err) >= 10.0 * (double)(lines - 1));
    assert_non_null(strstr(r.err, "\nchunks 50/50 (50 created, 0 failed), "));
    assert_non_null(strstr(r.err, "summary:"));
    pipe_run_free(&r);
    e2e_fleet_stop(&c);

    e2e_fleet_start(&c, 10000, PK, auto_create);
    const char *quiet[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                           c.emu.endpoint, "--report", c.report, "--yes",
                           "--no-progress", NULL};
    pipe_run(&c, quiet, &r);
    assert_int_equal(r.exit_code, 0);
    assert_no_progress_line(&c, r.err);
    pipe_run_free(&r);
    e2e_fleet_stop(&c);
}

/* Every test prints, when it fails, what its last run showed. */
#define SEEN_TEST(f) cmocka_unit_test_setup_teardown(f, seen_setup, seen_teardown)

E2E_MAIN(SEEN_TEST(prompt_answered_no_sends_nothing),
         SEEN_TEST(prompt_answered_yes_runs),
         SEEN_TEST(prompt_names_jobs_devices_product_firmware),
         SEEN_TEST(progress_line_on_terminal),
         SEEN_TEST(no_progress_flag_on_terminal),
         SEEN_TEST(no_progress_without_terminal))
