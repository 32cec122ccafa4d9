/* test_e2e_emulator.c - the ota-emulator binary itself: its --help lists
 * every option the man page documents (and --help and --version), and
 * SIGUSR1 dumps the stats to stderr while it keeps serving. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAN_PAGE ORCH_FIXTURES "/../../orchestrator/cli/man/ota-emulator.1"

/* Runs `cmd` through the shell; returns its stdout (malloced), *status
 * its exit status. */
static char *run_capture(const char *cmd, int *status)
{
    FILE *p = popen(cmd, "r");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int st = 0;

    assert_non_null(p);
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        size_t n = fread(buf + len, 1, 4096, p);

        if (n == 0)
            break;
        len += n;
    }
    buf[len] = '\0';
    st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return buf;
}

/* Each long option ("--name") in text, as a NUL-separated set in *out
 * (newline-joined "name\n" entries); man pages write "\-\-name". */
static void long_options(const char *text, int man, char *out, size_t cap)
{
    const char *p = text;
    size_t o = 0;

    out[0] = '\0';
    while ((p = strstr(p, man ? "\\-\\-" : "--")) != NULL) {
        char name[64];
        size_t n = 0;

        p += man ? 4 : 2;
        while (n + 1 < sizeof(name)
               && ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
                   || *p == '-' || (man && *p == '\\' && p[1] == '-'))) {
            if (*p == '\\')
                p++;
            name[n++] = *p++;
        }
        name[n] = '\0';
        if (n == 0)
            continue;
        {
            char key[70];

            snprintf(key, sizeof(key), "\n%s\n", name);
            if (strstr(out, key) == NULL && o + n + 2 < cap) {
                if (o == 0)
                    out[o++] = '\n';
                memcpy(out + o, name, n);
                o += n;
                out[o++] = '\n';
                out[o] = '\0';
            }
        }
    }
}

/* Fails unless every option of the set `opts` (from long_options(), found
 * in `where`) is in the set `other` (found in `other_where`). */
static void assert_options_in(const char *opts, const char *where,
                              const char *other, const char *other_where)
{
    const char *p = NULL;

    for (p = opts + 1; *p; p = strchr(p, '\n') + 1) {
        char key[70];
        size_t n = (size_t)(strchr(p, '\n') - p);

        snprintf(key, sizeof(key), "\n%.*s\n", (int)n, p);
        if (strstr(other, key) == NULL)
            fail_msg("--%.*s is in %s, not in %s", (int)n, p, where,
                     other_where);
    }
}

/* --help names --help and --version, and documents the same long options
 * as the man page (which says it keeps every one of them). */
static void help_lists_every_option(void **state)
{
    char cmd[600];
    char help_opts[8192], man_opts[8192];
    char *help = NULL, *man = NULL, *ver = NULL;
    int st = 0;

    (void)state;
    snprintf(cmd, sizeof(cmd), "'%s' --help", EMU_BIN);
    help = run_capture(cmd, &st);
    assert_int_equal(st, 0);
    assert_non_null(strstr(help, "  -h, --help "));
    assert_non_null(strstr(help, "  --version "));
    assert_non_null(strstr(help, "SIGUSR1"));
    snprintf(cmd, sizeof(cmd), "'%s' --version", EMU_BIN);
    ver = run_capture(cmd, &st);
    assert_int_equal(st, 0);
    assert_int_equal(strncmp(ver, "ota-emulator ", 13), 0);
    snprintf(cmd, sizeof(cmd), "'%s' --no-such-option 2>/dev/null",
             EMU_BIN);
    free(run_capture(cmd, &st));
    assert_int_equal(st, 2);

    man = h_slurp(MAN_PAGE, NULL);
    assert_non_null(man);
    long_options(help, 0, help_opts, sizeof(help_opts));
    long_options(man, 1, man_opts, sizeof(man_opts));
    /* Every option of --help in the man page, and back. */
    assert_options_in(help_opts, "--help", man_opts, "the man page");
    assert_options_in(man_opts, "the man page", help_opts, "--help");
    free(help);
    free(ver);
    free(man);
}

/* An unsigned API call: counted as a request (and an authentication
 * failure). */
static void unsigned_call(const struct emu_proc *e)
{
    h_emu_send(e, "/?Action=QueryOTAJob&JobId=x", NULL);
}

/* SIGUSR1: the stats document on stderr, the same counts as GET
 * /__emu/stats, and the emulator goes on serving. */
static void sigusr1_dumps_stats(void **state)
{
    const char *extra[] = {"--auto-create", NULL};
    struct emu_proc e;
    char errpath[400];
    json_t *doc = NULL, *st = NULL;
    int i = 0;

    (void)state;
    h_emu_start(&e, extra);
    unsigned_call(&e);
    unsigned_call(&e);
    snprintf(errpath, sizeof(errpath), "%s/emulator.stderr", e.dir);
    assert_int_equal(kill(e.pid, SIGUSR1), 0);
    for (i = 0; i < 250 && doc == NULL; i++) {
        char *err = h_slurp(errpath, NULL);
        const char *brace = err ? strchr(err, '{') : NULL;

        if (brace) {
            json_error_t jerr;

            /* Complete once it parses (it may be half written). */
            doc = json_loads(brace, JSON_DISABLE_EOF_CHECK, &jerr);
        }
        free(err);
        if (doc == NULL)
            h_sleep_ms(20);
    }
    if (doc == NULL)
        fail_msg("no stats on stderr after SIGUSR1 (see %s)", errpath);
    assert_int_equal(json_integer_value(json_object_get(doc, "requests")), 2);
    assert_int_equal(json_integer_value(json_object_get(doc, "auth_failed")),
                     2);
    assert_true(json_is_object(json_object_get(doc, "by_action")));
    assert_true(json_is_integer(json_object_get(doc, "jobs")));
    assert_true(json_is_array(json_object_get(doc, "double_assigned")));
    assert_true(json_is_object(json_object_get(doc, "max_calls_in_any_second")));
    /* Still serving, still counting. */
    unsigned_call(&e);
    st = h_emu_get(&e, "/__emu/stats");
    assert_int_equal(json_integer_value(json_object_get(st, "requests")), 3);
    assert_int_equal(waitpid(e.pid, NULL, WNOHANG), 0);
    json_decref(st);
    json_decref(doc);
    h_emu_stop(&e);
}

E2E_MAIN(cmocka_unit_test(help_lists_every_option),
         cmocka_unit_test(sigusr1_dumps_stats))
