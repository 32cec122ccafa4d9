/* test_e2e_netguard.c - where the credential chain connects: with the
 * ECS metadata service switched off, the default chain sends nothing
 * outside loopback; switched on, it would reach 100.100.100.200, and the
 * test sees it (which proves it would see a stray connection at all).
 *
 * DESIGN: the real ota-rollout runs with netguard preloaded (netguard.c:
 * every connect/sendto/sendmsg to an internet address is written to a
 * file, and refused unless it is 127.0.0.0/8 or ::1, so nothing leaves
 * the machine even in the case that tries to). Before the case that
 * switches the metadata service on, the same environment is shown to load
 * netguard (its "loaded" line from a harmless run), so that case cannot
 * reach the real address even if the preload broke. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PK "a1BwAGVabcd"
#define FW "UkOZxXXnVaLfqvvv8YzC000100"

/* The environment of a guarded run: netguard preloaded, writing to log,
 * then `extra` (NULL-terminated, at most 4). */
struct guard_env {
    char preload[600];
    char log[700];
    char asan[1024];
    const char *v[8];
};

static void guard_env_init(struct guard_env *g, const char *log,
                           const char *const *extra)
{
    const char *asan = getenv("ASAN_OPTIONS");
    size_t n = 0, i = 0;

    snprintf(g->preload, sizeof(g->preload), "LD_PRELOAD=%s", NETGUARD_LIB);
    snprintf(g->log, sizeof(g->log), "NETGUARD_LOG=%s", log);
    /* netguard comes before the ASan runtime in the ASan build. */
    snprintf(g->asan, sizeof(g->asan),
             "ASAN_OPTIONS=%s%sverify_asan_link_order=0", asan ? asan : "",
             asan && *asan ? ":" : "");
    g->v[n++] = g->preload;
    g->v[n++] = g->log;
    g->v[n++] = g->asan;
    for (i = 0; extra && extra[i] && n < 7; i++)
        g->v[n++] = extra[i];
    g->v[n] = NULL;
}

/* The lines of netguard's log starting with `verdict` ("allow",
 * "block"), as one string (malloced; "" when none). Fails unless the
 * library was loaded. */
static char *guard_lines(const char *log, const char *verdict)
{
    char *text = h_slurp(log, NULL);
    char *out = calloc(1, text ? strlen(text) + 1 : 1);
    char *line = NULL, *save = NULL;

    assert_non_null(out);
    if (text == NULL || strstr(text, "loaded ") == NULL)
        fail_msg("netguard was not loaded (%s)", log);
    for (line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, verdict, strlen(verdict)) == 0) {
            strcat(out, line);
            strcat(out, "\n");
        }
    }
    free(text);
    return out;
}

/* A run of f's rollout under netguard writing to <dir>/<name>, with the
 * environment `extra`; must exit want_exit. Its log's "allow" and
 * "block" lines into *allowed and *blocked (malloced). r is the
 * caller's to free. */
static void guarded_run(struct h_run *r, const struct e2e_fleet *f,
                        const char *name, const char *const *extra,
                        int want_exit, char **allowed, char **blocked)
{
    struct guard_env g;
    char log[600];
    const char *argv[E2E_MAX_ARGS];

    snprintf(log, sizeof(log), "%s/%s", f->dir, name);
    guard_env_init(&g, log, extra);
    e2e_fleet_argv(argv, f, FW, NULL);
    e2e_run_expect(r, argv, g.v, 1, 60, want_exit);
    *allowed = guard_lines(log, "allow");
    *blocked = guard_lines(log, "block");
}

/* The whole default chain, walked to its end (nothing in the
 * environment, no profile, no ini file, the metadata service off) to the
 * credentials URI on the emulator: a run connects to the emulator and
 * nowhere else. */
static void the_default_chain_connects_only_to_loopback(void **state)
{
    struct e2e_fleet f;
    struct h_run r;
    char uri[160], want[64];
    char *allowed = NULL, *blocked = NULL;

    (void)state;
    e2e_fleet_start(&f, 400, PK, E2E_ARGS("--auto-create"));
    snprintf(uri, sizeof(uri), "ALIBABA_CLOUD_CREDENTIALS_URI=%s/credentials",
             f.emu.endpoint);
    guarded_run(&r, &f, "netguard.log",
                E2E_ARGS(uri, "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true"), 0,
                &allowed, &blocked);
    snprintf(want, sizeof(want), "allow 127.0.0.1 %d\n", f.emu.port);
    assert_non_null(strstr(allowed, want));
    assert_string_equal(blocked, "");
    assert_true(e2e_log_count(&f.emu, "CreateOTAStaticUpgradeJob", 1) == 2);
    free(allowed);
    free(blocked);
    h_run_free(&r);
    e2e_fleet_stop(&f);
}

/* Nothing configured and the metadata service off: no connection at all
 * (the run stops before any call: exit 2). */
static void nothing_configured_connects_nowhere(void **state)
{
    struct e2e_fleet f;
    struct h_run r;
    char *allowed = NULL, *blocked = NULL;

    (void)state;
    e2e_fleet_start(&f, 400, PK, E2E_ARGS("--auto-create"));
    guarded_run(&r, &f, "netguard.log",
                E2E_ARGS("ALIBABA_CLOUD_ECS_METADATA_DISABLED=true"), 2,
                &allowed, &blocked);
    assert_non_null(strstr(r.err, "no credentials"));
    assert_string_equal(allowed, "");
    assert_string_equal(blocked, "");
    assert_int_equal(e2e_log_count(&f.emu, NULL, 0), 0);
    free(allowed);
    free(blocked);
    h_run_free(&r);
    e2e_fleet_stop(&f);
}

/* The same with the metadata service left on and no address override:
 * the chain tries 100.100.100.200 (port 80), which netguard refuses and
 * records. The harmless run first proves netguard loads in exactly this
 * environment. */
static void metadata_on_would_reach_the_metadata_service(void **state)
{
    struct e2e_fleet f;
    struct guard_env g;
    struct h_run r;
    char probe_log[600];
    char *allowed = NULL, *blocked = NULL;

    (void)state;
    e2e_fleet_start(&f, 400, PK, E2E_ARGS("--auto-create"));
    snprintf(probe_log, sizeof(probe_log), "%s/netguard-probe.log", f.dir);
    guard_env_init(&g, probe_log,
                   E2E_ARGS("ALIBABA_CLOUD_ECS_METADATA_DISABLED="));
    e2e_run_expect(&r, E2E_ARGS("--version"), g.v, 1, 30, 0);
    h_run_free(&r);
    free(guard_lines(probe_log, "allow")); /* fails unless loaded */

    guarded_run(&r, &f, "netguard.log",
                E2E_ARGS("ALIBABA_CLOUD_ECS_METADATA_DISABLED="), 2, &allowed,
                &blocked);
    assert_non_null(strstr(r.err, "100.100.100.200"));
    assert_string_equal(allowed, "");
    assert_non_null(strstr(blocked, "block 100.100.100.200 80\n"));
    assert_int_equal(e2e_log_count(&f.emu, NULL, 0), 0);
    free(allowed);
    free(blocked);
    h_run_free(&r);
    e2e_fleet_stop(&f);
}

E2E_MAIN(cmocka_unit_test(the_default_chain_connects_only_to_loopback),
         cmocka_unit_test(nothing_configured_connects_nowhere),
         cmocka_unit_test(metadata_on_would_reach_the_metadata_service))
