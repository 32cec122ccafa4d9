/* test_credpace.c - every STS request of a credential fetch waits for the
 * caller's pacing hook first (credpace.h), keyed by the fetched source's
 * label; a refusal from the hook sends nothing; a throttling answer is
 * told to the hook. Against an in-process emulator on loopback. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "gateway/emu_verify.h"
#include "server/emu_server.h"
#include "world/emu_world.h"

#include "orch/base/err.h"
#include "orch/cloud/credentials.h"
#include "orch/cloud/credpace.h"
#include "orch/cloud/credsource.h"
#include "torture.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROLE "acs:ram::1234567890123456:role/ota-rollout"

struct fixture {
    struct emu_world *world;
    struct emu_verifier *verifier;
    struct emu_server *srv;
    char log_path[256];
    char base[128];
};

/* The fake hook: what it was asked, and what it answers. */
struct fake {
    unsigned before, throttled;
    char keys[4][128];
    char actions[4][32];
    uint64_t next_start, throttled_start;
    int refuse;
};

static int fake_before(void *ud, const char *key, const char *action,
                       uint64_t *start_ms)
{
    struct fake *f = ud;

    if (f->before < 4) {
        snprintf(f->keys[f->before], sizeof(f->keys[0]), "%s", key);
        snprintf(f->actions[f->before], sizeof(f->actions[0]), "%s",
                 action);
    }
    f->before++;
    *start_ms = ++f->next_start;
    return f->refuse;
}

static void fake_throttled(void *ud, const char *key, const char *action,
                           uint64_t start_ms)
{
    struct fake *f = ud;

    (void)key;
    (void)action;
    f->throttled++;
    f->throttled_start = start_ms;
}

static void start(struct fixture *f, double qps_sts)
{
    struct emu_world_opts wo;
    struct emu_server_opts so;
    struct orch_diag d;
    int fd = -1;

    memset(&wo, 0, sizeof(wo));
    wo.auto_create = true;
    wo.success_ratio = 1;
    f->world = emu_world_new(&wo);
    f->verifier = emu_verifier_new();
    assert_int_equal(
        emu_verifier_add_key(f->verifier, "LTAIacct:acctsecret", NULL), 0);
    snprintf(f->log_path, sizeof(f->log_path), "/tmp/credpace-XXXXXX");
    fd = mkstemp(f->log_path);
    assert_true(fd >= 0);
    close(fd);
    emu_server_opts_init(&so);
    so.world = f->world;
    so.verifier = f->verifier;
    so.request_log = f->log_path;
    so.qps_sts = qps_sts;
    if (emu_server_start(&so, &f->srv, &d) != 0)
        fail_msg("start: %s", d.msg);
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u",
             (unsigned)emu_server_port(f->srv));
}

static int setup(void **state)
{
    *state = calloc(1, sizeof(struct fixture));
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    emu_server_stop(f->srv);
    emu_world_free(f->world);
    emu_verifier_free(f->verifier);
    unlink(f->log_path);
    free(f);
    return 0;
}

/* An AssumeRole source labelled `label` signed by `signer` (moved in). */
static struct orch_credsource *assume_role(const char *label,
                                           struct orch_credsource *signer,
                                           const char *sts_url)
{
    struct orch_credsource *s = calloc(1, sizeof(*s));

    assert_non_null(s);
    s->kind = ORCH_CRED_ASSUME_ROLE;
    s->label = strdup(label);
    s->provider = strdup("profile:RamRoleArn");
    s->role_arn = strdup(ROLE);
    s->sts_url = strdup(sts_url);
    s->duration_s = 900;
    s->signer = signer;
    return s;
}

static struct orch_credsource *static_key(void)
{
    struct orch_credsource *s = calloc(1, sizeof(*s));

    assert_non_null(s);
    s->kind = ORCH_CRED_STATIC;
    s->label = strdup("environment");
    assert_int_equal(orch_credentials_fill(&s->static_cred, "LTAIacct",
                                           "acctsecret", NULL, "environment"),
                     0);
    return s;
}

static void free_source(struct orch_credsource *s)
{
    orch_credsource_cleanup(s);
    free(s);
}

/* STS arrivals in the emulator's request log. */
static size_t sts_arrivals(const struct fixture *f)
{
    json_t *log = NULL;
    json_t *e = NULL;
    size_t i = 0, n = 0;
    FILE *fp = fopen(f->log_path, "r");
    char line[8192];

    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp) != NULL) {
        const char *a = NULL;

        log = json_loads(line, 0, NULL);
        e = json_object_get(log, "action");
        a = json_is_string(e) ? json_string_value(e) : "";
        n += strncmp(a, "AssumeRole", 10) == 0;
        json_decref(log);
        i++;
    }
    fclose(fp);
    return n;
}

/* One AssumeRole: the hook asked once, before it was sent, with the
 * action and the source's label. */
static void test_hook_before_assume_role(void **state)
{
    struct fixture *f = *state;
    struct fake fk;
    struct orch_credpace pace = {fake_before, fake_throttled, &fk};
    struct orch_credsource *src = NULL;
    struct orch_credset set;
    struct orch_diag d = {{0}};

    memset(&fk, 0, sizeof(fk));
    start(f, 100);
    src = assume_role("RamRoleArn profile \"ops\"", static_key(), f->base);
    assert_int_equal(orch_credsource_fetch_paced(src, &pace, &set, &d), 0);
    assert_int_equal(fk.before, 1);
    assert_string_equal(fk.actions[0], "AssumeRole");
    assert_string_equal(fk.keys[0], "RamRoleArn profile \"ops\"");
    assert_int_equal(fk.throttled, 0);
    assert_int_equal(sts_arrivals(f), 1);
    orch_credset_cleanup(&set);
    free_source(src);
}

/* A chain of two AssumeRoles (ChainableRamRoleArn): both requests wait
 * for the hook, under the label of the source asked for. */
static void test_hook_before_every_request_of_a_chain(void **state)
{
    struct fixture *f = *state;
    struct fake fk;
    struct orch_credpace pace = {fake_before, fake_throttled, &fk};
    struct orch_credsource *src = NULL;
    struct orch_credset set;
    struct orch_diag d = {{0}};

    memset(&fk, 0, sizeof(fk));
    start(f, 100);
    src = assume_role("ChainableRamRoleArn profile \"top\"",
                      assume_role("RamRoleArn profile \"base\"",
                                  static_key(), f->base),
                      f->base);
    assert_int_equal(orch_credsource_fetch_paced(src, &pace, &set, &d), 0);
    assert_int_equal(fk.before, 2);
    assert_string_equal(fk.actions[0], "AssumeRole");
    assert_string_equal(fk.actions[1], "AssumeRole");
    assert_string_equal(fk.keys[0], "ChainableRamRoleArn profile \"top\"");
    assert_string_equal(fk.keys[1], "ChainableRamRoleArn profile \"top\"");
    assert_int_equal(sts_arrivals(f), 2);
    orch_credset_cleanup(&set);
    free_source(src);
}

/* A hook that says the run is stopping: nothing is sent. */
static void test_refusing_hook_sends_nothing(void **state)
{
    struct fixture *f = *state;
    struct fake fk;
    struct orch_credpace pace = {fake_before, fake_throttled, &fk};
    struct orch_credsource *src = NULL;
    struct orch_credset set;
    struct orch_diag d = {{0}};

    memset(&fk, 0, sizeof(fk));
    fk.refuse = 1;
    start(f, 100);
    src = assume_role("RamRoleArn profile \"ops\"", static_key(), f->base);
    assert_int_equal(orch_credsource_fetch_paced(src, &pace, &set, &d),
                     ORCH_EABORT);
    assert_int_equal(fk.before, 1);
    assert_int_equal(sts_arrivals(f), 0);
    free_source(src);
}

/* Over the STS quota (1/s here), the throttling answer goes to the hook
 * with the start the hook gave its request; the fetch is worth a retry
 * (ORCH_EHTTP). */
static void test_throttled_answer_told(void **state)
{
    struct fixture *f = *state;
    struct fake fk;
    struct orch_credpace pace = {fake_before, fake_throttled, &fk};
    struct orch_credsource *src = NULL;
    struct orch_credset set;
    struct orch_diag d = {{0}};

    memset(&fk, 0, sizeof(fk));
    start(f, 1);
    src = assume_role("RamRoleArn profile \"ops\"", static_key(), f->base);
    assert_int_equal(orch_credsource_fetch_paced(src, &pace, &set, &d), 0);
    orch_credset_cleanup(&set);
    assert_int_equal(fk.throttled, 0);
    assert_int_equal(orch_credsource_fetch_paced(src, &pace, &set, &d),
                     ORCH_EHTTP);
    assert_non_null(strstr(d.msg, "Throttling"));
    assert_int_equal(fk.before, 2);
    assert_int_equal(fk.throttled, 1);
    assert_int_equal(fk.throttled_start, 2);
    free_source(src);
}

/* Sources that are no account quota never call the hook. */
static void test_static_source_not_paced(void **state)
{
    struct fake fk;
    struct orch_credpace pace = {fake_before, fake_throttled, &fk};
    struct orch_credsource *src = static_key();
    struct orch_credset set;
    struct orch_diag d = {{0}};

    (void)state;
    memset(&fk, 0, sizeof(fk));
    assert_int_equal(orch_credsource_fetch_paced(src, &pace, &set, &d), 0);
    assert_int_equal(fk.before, 0);
    orch_credset_cleanup(&set);
    free_source(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hook_before_assume_role, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_hook_before_every_request_of_a_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusing_hook_sends_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_throttled_answer_told, setup,
                                        teardown),
        cmocka_unit_test(test_static_source_not_paced),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
