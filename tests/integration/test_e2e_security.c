/* test_e2e_security.c - TLS peer verification on by default, --ca-bundle,
 * --insecure only with a loud warning; secrets (AccessKeySecret, STS token,
 * the aliyun profile's secret) in no output, report, journal or emulator
 * log; output files 0600. The real binaries over loopback HTTPS. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"
#include "torture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PK "a1BwAGVabcd"
#define FW "UkOZxXXnVaLfqvvv8YzC000100"
#define STS_KEY_ID "STS.testkey02"
#define STS_SECRET "StsS3cret-never-print-4b3c2a"
#define STS_TOKEN "CAIS-token-never-print-7e6d5c4b3a"
#define PROFILE_SECRET "Pr0file-secret-never-print-1a2b"

/* A throwaway self-signed certificate for 127.0.0.1, written as PEM
 * files. */
static void make_cert(const char *cert_path, const char *key_path)
{
    char *cert = NULL, *key = NULL;

    torture_make_cert(&cert, &key);
    torture_write_text(cert_path, cert);
    torture_write_text(key_path, key);
    free(cert);
    free(key);
}

/* The emulator's job count over HTTPS (h_emu_get speaks plain HTTP),
 * verifying the server with its own certificate. */
static size_t emu_jobs(const struct emu_proc *e, const char *cert)
{
    char url[128];
    char *body = NULL;
    size_t len = 0, n = 0;
    json_t *jobs = NULL;

    snprintf(url, sizeof(url), "https://127.0.0.1:%d/__emu/jobs", e->port);
    body = h_http(url, NULL, cert, NULL, &len);
    jobs = json_loadb(body, len, 0, NULL);
    assert_true(json_is_array(jobs));
    n = json_array_size(jobs);
    json_decref(jobs);
    free(body);
    return n;
}

/* Without --ca-bundle the self-signed server is refused (nothing created);
 * with it, or with --insecure (and its warning), the run succeeds. */
/* Runs `run` of f's inventory against `endpoint` (the https one) to the
 * report `report`, with `extra`; r is the caller's to free. */
static void run_tls(struct h_run *r, const struct e2e_fleet *f,
                    const char *endpoint, const char *report,
                    const char *const *extra)
{
    struct e2e_fleet g = *f; /* the same fleet, over https, another report */
    const char *argv[E2E_MAX_ARGS];

    snprintf(g.emu.endpoint, sizeof(g.emu.endpoint), "%s", endpoint);
    snprintf(g.report, sizeof(g.report), "%s", report);
    h_run(r, e2e_fleet_argv(argv, &g, FW, extra), NULL, 0, 60);
}

static void tls_verification_ca_bundle_insecure(void **state)
{
    struct e2e_fleet f;
    struct h_run r;
    char cert[600], key[600], rep1[600], rep2[600], rep3[600];
    char endpoint[64];

    (void)state;
    e2e_fleet_init(&f, 400, PK);
    snprintf(cert, sizeof(cert), "%s/cert.pem", f.dir);
    snprintf(key, sizeof(key), "%s/key.pem", f.dir);
    snprintf(rep1, sizeof(rep1), "%s/r1.csv", f.dir);
    snprintf(rep2, sizeof(rep2), "%s/r2.csv", f.dir);
    snprintf(rep3, sizeof(rep3), "%s/r3.csv", f.dir);
    make_cert(cert, key);
    const char *extra[] = {"--auto-create", "--tls-cert", cert, "--tls-key",
                           key, NULL};
    h_emu_start(&f.emu, extra);
    snprintf(endpoint, sizeof(endpoint), "https://127.0.0.1:%d", f.emu.port);

    /* Default: peer verification on; the certificate is not trusted. */
    run_tls(&r, &f, endpoint, rep1, NULL);
    e2e_expect_exit(&r, "run", 4);
    assert_non_null(strcasestr(r.err, "certificate"));
    assert_int_equal(emu_jobs(&f.emu, cert), 0);
    h_run_free(&r);

    /* --ca-bundle with the server's certificate: verified, created. */
    run_tls(&r, &f, endpoint, rep2, E2E_ARGS("--ca-bundle", cert));
    e2e_expect_exit(&r, "run --ca-bundle", 0);
    assert_null(strstr(r.err, "insecure"));
    assert_int_equal(emu_jobs(&f.emu, cert), 2);
    h_run_free(&r);

    /* --insecure: works, and says so loudly. */
    run_tls(&r, &f, endpoint, rep3, E2E_ARGS("--insecure", "--force"));
    assert_non_null(strstr(r.err, "warning: --insecure"));
    assert_non_null(strstr(r.err, "NOT verified"));
    assert_int_not_equal(r.exit_code, 2);
    h_run_free(&r);

    h_assert_no_secret(f.dir, H_SECRET, NULL);
    h_assert_no_secret(f.emu.dir, H_SECRET, NULL);
    e2e_fleet_stop(&f);
}

/* STS credentials from the environment and an AK from an aliyun CLI
 * profile: neither secret nor the token appears in any output, report,
 * journal, failed file or the emulator's log; the files are 0600; the
 * profile's secret is copied nowhere outside its own config file. */
static void secrets_never_written_files_0600(void **state)
{
    struct e2e_fleet f;
    struct h_run r;
    char path[700], home[600], cfgdir[700], cfgfile[800];
    char akopt[160];
    char env_id[80], env_secret[80], env_token[80];
    char *profile_json = NULL;

    (void)state;
    snprintf(akopt, sizeof(akopt), "%s:%s:%s", STS_KEY_ID, STS_SECRET,
             STS_TOKEN);
    const char *extra[] = {"--auto-create", "--access-key", akopt,
                           "--access-key", "LTAIprofile01:" PROFILE_SECRET,
                           NULL};
    e2e_fleet_start(&f, 500, PK, extra);
    /* An invalid row so that the rejects file exists too. */
    {
        FILE *fp = fopen(f.inv, "a");

        fputs("x,bad pk!\n", fp);
        fclose(fp);
    }

    /* STS from the environment; verbose nothing to hide behind. */
    snprintf(env_id, sizeof(env_id), "ALIBABA_CLOUD_ACCESS_KEY_ID=%s",
             STS_KEY_ID);
    snprintf(env_secret, sizeof(env_secret),
             "ALIBABA_CLOUD_ACCESS_KEY_SECRET=%s", STS_SECRET);
    snprintf(env_token, sizeof(env_token), "ALIBABA_CLOUD_SECURITY_TOKEN=%s",
             STS_TOKEN);
    const char *env[] = {env_id, env_secret, env_token, NULL};
    const char *a1[] = {"run", f.inv, "--firmware-id", FW, "--endpoint",
                        f.emu.endpoint, "--yes", "--report", f.report,
                        "--skip-invalid", "--chunk-size", "100", NULL};
    e2e_run_expect(&r, a1, env, 1, 60, 0);
    e2e_assert_run_no_secret(f.dir, STS_SECRET, &r);
    e2e_assert_run_no_secret(f.dir, STS_TOKEN, &r);
    h_assert_no_secret(f.emu.dir, STS_SECRET, NULL);
    h_assert_no_secret(f.emu.dir, STS_TOKEN, NULL);
    e2e_assert_mode_0600(f.report);
    e2e_assert_mode_0600(f.journal);
    e2e_assert_mode_0600(f.failed);
    snprintf(path, sizeof(path), "%s.rejects.csv", f.report);
    e2e_assert_mode_0600(path);
    h_run_free(&r);

    /* An aliyun CLI profile in a scratch HOME: the tool reads it, but its
     * secret is copied into no file the run writes (the profile lives
     * outside `dir`, which h_assert_no_secret scans), no output, no log.
     * h_run sets HOME to its own scratch dir, so the profile is given
     * through HOME in env (applied after). */
    snprintf(home, sizeof(home), "%s-home", f.dir);
    snprintf(cfgdir, sizeof(cfgdir), "%s/.aliyun", home);
    snprintf(cfgfile, sizeof(cfgfile), "%s/config.json", cfgdir);
    assert_int_equal(mkdir(home, 0700), 0);
    assert_int_equal(mkdir(cfgdir, 0700), 0);
    profile_json = NULL;
    assert_true(asprintf(&profile_json,
                         "{\"current\":\"p1\",\"profiles\":[{\"name\":\"p1\","
                         "\"mode\":\"AK\",\"access_key_id\":"
                         "\"LTAIprofile01\",\"access_key_secret\":\"%s\","
                         "\"region_id\":\"cn-shanghai\"}]}",
                         PROFILE_SECRET) > 0);
    torture_write_text(cfgfile, profile_json);
    free(profile_json);
    {
        char env_home[700];
        char rep2[600];

        snprintf(env_home, sizeof(env_home), "HOME=%s", home);
        snprintf(rep2, sizeof(rep2), "%s/profile.report.csv", f.dir);
        const char *env2[] = {env_home, NULL};
        const char *a2[] = {"run", f.inv, "--firmware-id", FW, "--endpoint",
                            f.emu.endpoint, "--yes", "--report", rep2,
                            "--skip-invalid", NULL};
        e2e_run_expect(&r, a2, env2, 1, 60, 0);
        assert_non_null(strstr(r.err, "profile"));
        e2e_assert_run_no_secret(f.dir, PROFILE_SECRET, &r);
        h_assert_no_secret(f.emu.dir, PROFILE_SECRET, NULL);
        h_run_free(&r);
    }
    e2e_fleet_stop(&f);
}

E2E_MAIN(cmocka_unit_test(tls_verification_ca_bundle_insecure),
         cmocka_unit_test(secrets_never_written_files_0600))
