/* test_stslane.c - the STS lanes are thread-safe and shared: two threads
 * asking at once, or two lane sets on one key (two processes), together
 * start within the quota in every sliding second; a throttling answer
 * slows the lane. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pthread.h>

#include "orch/base/clock.h"
#include "orch/base/err.h"
#include "orch/engine/engine_opts.h"
#include "orch/engine/stslane.h"
#include "torture.h"

#define QPS 20.0
#define PER_THREAD 15 /* 30 starts together: 1.5 s at 20/s */

struct starts {
    pthread_mutex_t mu;
    uint64_t t[2 * PER_THREAD];
    size_t n;
};

struct asker {
    struct orch_stslane *lanes;
    const char *key;
    struct starts *starts;
    int rc;
};

static void *ask(void *arg)
{
    struct asker *a = arg;

    for (int i = 0; i < PER_THREAD && a->rc == 0; i++) {
        uint64_t t = 0;

        a->rc = orch_stslane_wait(a->lanes, a->key, "AssumeRole", NULL, &t);
        pthread_mutex_lock(&a->starts->mu);
        a->starts->t[a->starts->n++] = t;
        pthread_mutex_unlock(&a->starts->mu);
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* The most starts in any sliding 1000 ms window. */
static size_t most_per_second(struct starts *s)
{
    size_t most = 0;

    qsort(s->t, s->n, sizeof(s->t[0]), cmp_u64);
    for (size_t i = 0, j = 0; i < s->n; i++) {
        while (s->t[i] - s->t[j] >= 1000)
            j++;
        if (i - j + 1 > most)
            most = i - j + 1;
    }
    return most;
}

/* Two threads, each on lanes a / b (the same set, or two sets on one key:
 * two processes), PER_THREAD starts each. */
static void run_two(struct orch_stslane *a, struct orch_stslane *b,
                    const char *key, struct starts *s)
{
    struct asker x = {a, key, s, 0}, y = {b, key, s, 0};
    pthread_t tx, ty;

    memset(s->t, 0, sizeof(s->t));
    s->n = 0;
    pthread_mutex_init(&s->mu, NULL);
    assert_int_equal(pthread_create(&tx, NULL, ask, &x), 0);
    assert_int_equal(pthread_create(&ty, NULL, ask, &y), 0);
    pthread_join(tx, NULL);
    pthread_join(ty, NULL);
    pthread_mutex_destroy(&s->mu);
    assert_int_equal(x.rc, 0);
    assert_int_equal(y.rc, 0);
    assert_int_equal(s->n, 2 * PER_THREAD);
}

/* One set, two threads (the refresher of one source and another one):
 * their starts together stay within the quota per sliding second. */
static void test_two_threads_within_quota(void **state)
{
    struct orch_engine_opts o;
    struct orch_stslane *lanes = NULL;
    struct starts s;
    size_t most = 0;

    (void)state;
    orch_engine_opts_init(&o);
    assert_int_equal(orch_stslane_new(&lanes, &o, QPS), 0);
    run_two(lanes, lanes, NULL, &s);
    most = most_per_second(&s);
    if (most > (size_t)QPS)
        fail_msg("%zu starts in one second (quota %.0f)", most, QPS);
    orch_stslane_free(lanes);
}

/* Two sets on one key (two processes' refreshers): the quota is shared
 * through the state file, not paced twice. */
static void test_two_sets_on_one_key_share_the_quota(void **state)
{
    struct orch_engine_opts o;
    struct orch_stslane *a = NULL, *b = NULL;
    struct starts s;
    char dir[256];
    size_t most = 0;

    (void)state;
    torture_mkdtemp(dir, sizeof(dir), "stslane");
    orch_engine_opts_init(&o);
    o.quota_dir = dir;
    assert_int_equal(orch_stslane_new(&a, &o, QPS), 0);
    assert_int_equal(orch_stslane_new(&b, &o, QPS), 0);
    run_two(a, b, "RamRoleArn profile \"ops\"", &s);
    most = most_per_second(&s);
    if (most > (size_t)QPS)
        fail_msg("%zu starts in one second (quota %.0f)", most, QPS);
    orch_stslane_free(a);
    orch_stslane_free(b);
    torture_rmtree(dir);
}

/* A throttling answer lowers the lane's rate; another action's lane is
 * not touched. */
static void test_throttled_slows_the_lane(void **state)
{
    struct orch_engine_opts o;
    struct orch_stslane *lanes = NULL;
    const uint64_t t0 = 9000000;
    double before = 0;

    (void)state;
    orch_engine_opts_init(&o);
    assert_int_equal(orch_stslane_new(&lanes, &o, QPS), 0);
    assert_int_equal(orch_stslane_take(lanes, NULL, "AssumeRole", t0), 0);
    assert_int_equal(
        orch_stslane_take(lanes, NULL, "AssumeRoleWithOIDC", t0), 0);
    before = orch_stslane_rate(lanes, NULL, "AssumeRole");
    assert_true(before > 0);
    orch_stslane_throttled(lanes, NULL, "AssumeRole", t0 + 30, t0);
    assert_true(orch_stslane_rate(lanes, NULL, "AssumeRole") < before);
    assert_true(orch_stslane_rate(lanes, NULL, "AssumeRoleWithOIDC") ==
                before);
    orch_stslane_free(lanes);
}

static void test_bad_rate_refused(void **state)
{
    struct orch_engine_opts o;
    struct orch_stslane *lanes = NULL;

    (void)state;
    orch_engine_opts_init(&o);
    assert_int_equal(orch_stslane_new(&lanes, &o, 0), ORCH_EINVAL);
    assert_null(lanes);
    orch_stslane_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_threads_within_quota),
        cmocka_unit_test(test_two_sets_on_one_key_share_the_quota),
        cmocka_unit_test(test_throttled_slows_the_lane),
        cmocka_unit_test(test_bad_rate_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
