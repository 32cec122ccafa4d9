/* test_credprocess.c - the External credential source: process_command
 * split into argv (quoting rules), small helper scripts run without a
 * shell from a scratch dir: success, expiration forms, non-zero exit,
 * garbage, timeout, huge output; no message ever holds what the command
 * printed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/cloud/credbuild.h"
#include "orch/cloud/credprocess.h"
#include "torture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET "zz-PROC-SECRET-1"
#define TOKEN "zz-PROC-TOKEN-2"

struct fx {
    char dir[64];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    torture_mkdtemp(f->dir, sizeof(f->dir), "test_credprocess");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    torture_rmtree(f->dir);
    free(f);
    return 0;
}

/* Writes an executable sh script `name` with body; returns its path
 * (static buffer). */
static const char *script(const struct fx *f, const char *name,
                          const char *body)
{
    static char path[160];
    char *text = NULL;

    snprintf(path, sizeof(path), "%s/%s", f->dir, name);
    assert_true(asprintf(&text, "#!/bin/sh\n%s\n", body) > 0);
    torture_write_text(path, text);
    free(text);
    assert_int_equal(chmod(path, 0700), 0);
    return path;
}

/* A PROCESS source for cmd (split as config.json's process_command). */
static struct orch_credsource *source(const char *cmd)
{
    struct orch_credsource *src =
        orch_credbuild_new(ORCH_CRED_PROCESS, "External profile \"ci\"",
                           "profile:External");
    struct orch_diag d = {""};

    assert_non_null(src);
    assert_int_equal(orch_credprocess_split(cmd, &src->argv, "t", &d), 0);
    return src;
}

/* Runs cmd with a short timeout; checks diag never holds what the
 * command printed. */
static int run(const char *cmd, int timeout_ms, size_t max_out,
               struct orch_credset *set, struct orch_diag *d)
{
    struct orch_credsource *src = source(cmd);
    int rc = 0;

    memset(d, 0, sizeof(*d));
    rc = orch_credprocess_fetch_limits(src, timeout_ms, max_out, set, d);
    assert_null(strstr(d->msg, SECRET));
    assert_null(strstr(d->msg, TOKEN));
    assert_null(strstr(d->msg, "ARGSECRET"));
    orch_credbuild_free(src);
    return rc;
}

static void split_quoting(void **state)
{
    static const struct {
        const char *cmd;
        int n;
        const char *args[4];
    } ok[] = {
        {"prog 'a b' c", 3, {"prog", "a b", "c"}},
        {"  prog\t x  ", 2, {"prog", "x"}},
        {"prog \"x \\\"y\\\" \\$z \\n\"", 2, {"prog", "x \"y\" $z \\n"}},
        {"prog a\\ b '' \"\"", 4, {"prog", "a b", "", ""}},
        {"prog 'it''s' $HOME;ls|x", 3, {"prog", "its", "$HOME;ls|x"}},
        {"/usr/bin/env a'b c'd", 2, {"/usr/bin/env", "ab cd"}},
    };
    static const char *const bad[] = {"", "   ", "prog 'a", "prog \"a",
                                      "prog a\\", "'' x"};
    struct orch_diag d;
    char **argv = NULL;
    size_t i = 0;
    int j = 0;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(orch_credprocess_split(ok[i].cmd, &argv, "t", &d),
                         0);
        for (j = 0; j < ok[i].n; j++)
            assert_string_equal(argv[j], ok[i].args[j]);
        assert_null(argv[ok[i].n]);
        orch_credprocess_argv_free(argv);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&d, 0, sizeof(d));
        argv = NULL;
        assert_int_equal(orch_credprocess_split(bad[i], &argv,
                                                "profile \"ci\": "
                                                "process_command",
                                                &d),
                         ORCH_ECONFIG);
        assert_null(argv);
        assert_non_null(strstr(d.msg, "profile \"ci\": process_command"));
    }
}

static void success_ak_and_sts(void **state)
{
    struct fx *f = *state;
    struct orch_credset set;
    struct orch_diag d;
    char cmd[256];

    snprintf(cmd, sizeof(cmd), "%s",
             script(f, "ak.sh",
                    "echo '{\"mode\":\"AK\",\"access_key_id\":\"LTAIp\","
                    "\"access_key_secret\":\"" SECRET "\"}'"));
    /* The default limits. */
    {
        struct orch_credsource *src = source(cmd);

        assert_int_equal(orch_credprocess_fetch(src, &set, &d), 0);
        orch_credbuild_free(src);
    }
    assert_string_equal(set.cred.access_key_id, "LTAIp");
    assert_string_equal(set.cred.secret.s, SECRET);
    assert_null(set.cred.token.s);
    assert_string_equal(set.cred.source, "External profile \"ci\"");
    assert_int_equal(set.expires_ms, -1);
    assert_true(set.fetched_ms > 0);
    orch_credentials_cleanup(&set.cred);

    snprintf(cmd, sizeof(cmd), "%s",
             script(f, "sts.sh",
                    "echo '{\"mode\":\"StsToken\",\"access_key_id\":\"STS.p\","
                    "\"access_key_secret\":\"" SECRET "\",\"sts_token\":\""
                    TOKEN "\",\"expiration\":\"2099-01-01T00:00:00Z\"}'"));
    assert_int_equal(run(cmd, 5000, 65536, &set, &d), 0);
    assert_string_equal(set.cred.token.s, TOKEN);
    assert_int_equal(set.expires_ms, 4070908800000LL);
    orch_credentials_cleanup(&set.cred);
}

static void expiration_forms(void **state)
{
    static const struct {
        const char *value;
        int rc;
        long long ms;
        const char *msg;
    } cases[] = {
        {"4070908800", 0, 4070908800000LL, NULL},
        {"\"4070908800\"", 0, 4070908800000LL, NULL},
        {"\"2099-01-01T08:00:00+08:00\"", 0, 4070908800000LL, NULL},
        {"\"2099-01-01T00:00:00.500Z\"", 0, 4070908800500LL, NULL},
        {"null", 0, -1, NULL},
        {"\"\"", 0, -1, NULL},
        {"\"2001-01-01T00:00:00Z\"", ORCH_ECRED, 0, "already expired"},
        {"978307200", ORCH_ECRED, 0, "already expired"},
        {"\"tomorrow\"", ORCH_ECRED, 0, "neither an RFC 3339"},
        {"\"2099-01-01T00:00:00\"", ORCH_ECRED, 0, "neither an RFC 3339"},
        {"-5", ORCH_ECRED, 0, "neither an RFC 3339"},
        {"true", ORCH_ECRED, 0, "neither an RFC 3339"},
    };
    struct fx *f = *state;
    struct orch_credset set;
    struct orch_diag d;
    size_t i = 0;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char body[400];
        char name[32];
        int rc = 0;

        snprintf(body, sizeof(body),
                 "echo '{\"access_key_id\":\"LTAIp\",\"access_key_secret\":"
                 "\"" SECRET "\",\"expiration\":%s}'",
                 cases[i].value);
        snprintf(name, sizeof(name), "exp%zu.sh", i);
        rc = run(script(f, name, body), 5000, 65536, &set, &d);
        if (rc != cases[i].rc ||
            (rc == 0 && set.expires_ms != cases[i].ms) ||
            (rc && strstr(d.msg, cases[i].msg) == NULL))
            fail_msg("expiration %s: rc %d, expires %lld, diag \"%s\"",
                     cases[i].value, rc, (long long)set.expires_ms, d.msg);
        orch_credentials_cleanup(&set.cred);
    }
}

static void nonzero_exit_names_the_program_only(void **state)
{
    struct fx *f = *state;
    struct orch_credset set;
    struct orch_diag d;
    char cmd[256], errpath[160];
    char *err = NULL;
    int saved = -1, fd = -1;

    snprintf(cmd, sizeof(cmd), "%s ARGSECRET",
             script(f, "fail.sh",
                    "echo '" SECRET "' >&2\n"
                    "echo '{\"access_key_id\":\"x\",\"access_key_secret\":\""
                    SECRET "\"}'\nexit 3"));
    /* Our stderr goes to a file meanwhile: the command's must not reach
     * it. */
    snprintf(errpath, sizeof(errpath), "%s/stderr.txt", f->dir);
    fflush(stderr);
    saved = dup(2);
    fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    assert_int_equal(run(cmd, 5000, 65536, &set, &d), ORCH_ECRED);
    dup2(saved, 2);
    close(saved);
    err = torture_read_file(errpath, NULL);
    assert_string_equal(err, "");
    free(err);
    assert_non_null(strstr(d.msg, "External command \"fail.sh\" exited "
                                  "with status 3"));
    assert_null(strstr(d.msg, f->dir)); /* the base name only */
    assert_null(set.cred.access_key_id);

    snprintf(cmd, sizeof(cmd), "%s", script(f, "kill.sh", "kill -9 $$"));
    assert_int_equal(run(cmd, 5000, 65536, &set, &d), ORCH_ECRED);
    assert_non_null(strstr(d.msg, "\"kill.sh\" was killed by signal 9"));

    snprintf(cmd, sizeof(cmd), "%s/no-such-helper", f->dir);
    assert_int_equal(run(cmd, 5000, 65536, &set, &d), ORCH_ECRED);
    assert_non_null(strstr(d.msg, "\"no-such-helper\" could not be started"));
}

static void garbage_and_incomplete_answers(void **state)
{
    static const struct {
        const char *out;
        const char *msg;
    } cases[] = {
        {"not json " SECRET, "its output: not valid JSON"},
        {"{\"access_key_secret\": \"" SECRET "\" x}", "not valid JSON"},
        {"[\"" SECRET "\"]", "is not a JSON object"},
        {"", "not valid JSON"},
        {"{\"access_key_id\":\"x\"}", "no access_key_id or no "
                                      "access_key_secret"},
        {"{\"mode\":\"StsToken\",\"access_key_id\":\"x\","
         "\"access_key_secret\":\"" SECRET "\"}",
         "(mode StsToken) has no sts_token"},
        {"{\"mode\":\"RamRoleArn\",\"access_key_id\":\"x\","
         "\"access_key_secret\":\"" SECRET "\"}",
         "answered mode \"RamRoleArn\"; only AK or StsToken"},
    };
    struct fx *f = *state;
    struct orch_credset set;
    struct orch_diag d;
    size_t i = 0;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char path[160], cmd[200];
        int rc = 0;

        snprintf(path, sizeof(path), "%s/out%zu.txt", f->dir, i);
        torture_write_text(path, cases[i].out);
        snprintf(cmd, sizeof(cmd), "/bin/cat %s", path);
        rc = run(cmd, 5000, 65536, &set, &d);
        if (rc != ORCH_ECRED || strstr(d.msg, cases[i].msg) == NULL ||
            strstr(d.msg, "\"cat\"") == NULL)
            fail_msg("output %zu: rc %d, diag \"%s\"", i, rc, d.msg);
        assert_null(set.cred.access_key_id);
    }
}

static void timeout_kills_the_command(void **state)
{
    struct fx *f = *state;
    struct orch_credset set;
    struct orch_diag d;

    assert_int_equal(run(script(f, "slow.sh", "sleep 30"), 200, 65536, &set,
                         &d),
                     ORCH_ECRED);
    assert_non_null(strstr(d.msg, "\"slow.sh\" did not finish within 200 "
                                  "ms; killed"));
    /* Closing stdout early does not escape the timeout either. */
    assert_int_equal(run(script(f, "closer.sh", "exec >&-\nsleep 30"), 200,
                         65536, &set, &d),
                     ORCH_ECRED);
    assert_non_null(strstr(d.msg, "did not finish"));
}

static void huge_output_is_cut(void **state)
{
    struct fx *f = *state;
    struct orch_credset set;
    struct orch_diag d;

    assert_int_equal(run(script(f, "huge.sh",
                                "while :; do echo " SECRET "; done"),
                         5000, 4096, &set, &d),
                     ORCH_ECRED);
    assert_non_null(strstr(d.msg, "\"huge.sh\" wrote more than 4096 bytes"));
}

/* The arguments reach the command as they are: no shell expands them. */
static void arguments_reach_the_command_verbatim(void **state)
{
    struct fx *f = *state;
    struct orch_credset set;
    struct orch_diag d;
    char cmd[400];

    snprintf(cmd, sizeof(cmd), "%s 'a b' '$HOME;x' \"*\"",
             script(f, "args.sh",
                    "printf '{\"access_key_id\":\"%s|%s|%s|%s\","
                    "\"access_key_secret\":\"s\"}' \"$#\" \"$1\" \"$2\" "
                    "\"$3\"\n"
                    "read line && exit 9\nexit 0"));
    assert_int_equal(run(cmd, 5000, 65536, &set, &d), 0);
    /* stdin is /dev/null: `read` fails, the script exits 0. */
    assert_string_equal(set.cred.access_key_id, "3|a b|$HOME;x|*");
    orch_credentials_cleanup(&set.cred);
}

static void not_a_process_source(void **state)
{
    struct orch_credsource *src =
        orch_credbuild_new(ORCH_CRED_URI, "credentials URI",
                           "credentials_uri");
    struct orch_credset set;
    struct orch_diag d;

    (void)state;
    assert_int_equal(orch_credprocess_fetch(src, &set, &d), ORCH_EINVAL);
    orch_credbuild_free(src);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(split_quoting),
    cmocka_unit_test_setup_teardown(success_ak_and_sts, setup, teardown),
    cmocka_unit_test_setup_teardown(expiration_forms, setup, teardown),
    cmocka_unit_test_setup_teardown(nonzero_exit_names_the_program_only,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(garbage_and_incomplete_answers, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(timeout_kills_the_command, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(huge_output_is_cut, setup, teardown),
    cmocka_unit_test_setup_teardown(arguments_reach_the_command_verbatim,
                                    setup, teardown),
    cmocka_unit_test(not_a_process_source))
