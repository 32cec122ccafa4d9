/* test_credlive.c - the live credential holder with a fake fetch and a
 * fake clock: the margin and refresh rules, a refresh ahead of the margin
 * while the current set keeps signing, backoff after failures, a failing
 * refresh reaching the margin (ORCH_ECRED, never a secret in the
 * explanation), an immediate refresh after a rejection, and consistent
 * snapshots while signers race the refresher. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/cloud/credentials.h"
#include "orch/cloud/credlive.h"
#include "orch/cloud/credsource.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define T0 1700000000000LL
#define WAIT_LIMIT_MS 20000

/* The fake source: sets "K<n>" with secret "secret-of-K<n>", lifetime
 * `life_ms` from the fake clock's now; fails while `failing`. */
struct fake {
    pthread_mutex_t mu;
    _Atomic int64_t now;
    int64_t life_ms;
    bool failing;
    bool real_clock; /* the fake clock follows CLOCK_REALTIME */
    atomic_int fetches;
    int minted;
};

static int64_t real_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t fake_now(void *ud)
{
    struct fake *f = ud;

    return f->real_clock ? real_ms() : atomic_load(&f->now);
}

static void mint(struct fake *f, int n, int64_t now, struct orch_credset *out)
{
    char id[32], secret[64], token[64];

    snprintf(id, sizeof(id), "K%d", n);
    snprintf(secret, sizeof(secret), "secret-of-K%d", n);
    snprintf(token, sizeof(token), "token-of-K%d", n);
    memset(out, 0, sizeof(*out));
    out->cred.access_key_id = strdup(id);
    out->cred.source = strdup("fake source");
    assert_int_equal(orch_secret_set(&out->cred.secret, secret), 0);
    assert_int_equal(orch_secret_set(&out->cred.token, token), 0);
    out->fetched_ms = now;
    out->expires_ms = now + f->life_ms;
}

static int fake_fetch(void *ud, struct orch_credset *out,
                      struct orch_diag *diag)
{
    struct fake *f = ud;
    int n = 0;
    bool failing = false;

    pthread_mutex_lock(&f->mu);
    failing = f->failing;
    if (!failing)
        n = ++f->minted;
    pthread_mutex_unlock(&f->mu);
    atomic_fetch_add(&f->fetches, 1);
    if (failing)
        return orch_diag_set(diag, ORCH_EHTTP,
                             "STS answered 503 (ServiceUnavailable)");
    mint(f, n, fake_now(f), out);
    return 0;
}

static void set_failing(struct fake *f, bool failing)
{
    pthread_mutex_lock(&f->mu);
    f->failing = failing;
    pthread_mutex_unlock(&f->mu);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};

    nanosleep(&ts, NULL);
}

/* Waits (polling, bounded) until the holder has made `n` fetches and
 * digested the last one (its schedule moved off `old_due`). */
static void wait_fetches(struct fake *f, struct orch_credlive *l, int n,
                         int64_t old_due)
{
    for (int i = 0; i < WAIT_LIMIT_MS; i++) {
        if (atomic_load(&f->fetches) >= n &&
            orch_credlive_due_ms(l, NULL) != old_due)
            return;
        sleep_ms(1);
    }
    fail_msg("the refresher did not fetch (%d of %d)",
             atomic_load(&f->fetches), n);
}

static struct orch_credlive *start(struct fake *f, int64_t life_ms)
{
    struct orch_credlive_opts o;
    struct orch_credset first;
    struct orch_credlive *l = NULL;
    struct orch_diag d = {{0}};

    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->mu, NULL);
    atomic_store(&f->now, T0);
    f->life_ms = life_ms;
    f->minted = 0;
    mint(f, 0, T0, &first);
    memset(&o, 0, sizeof(o));
    o.fetch = fake_fetch;
    o.fetch_ud = f;
    o.now = fake_now;
    o.now_ud = f;
    o.label = "RamRoleArn profile \"ops\"";
    assert_int_equal(orch_credlive_new(&l, &o, &first, &d), 0);
    assert_null(first.cred.access_key_id); /* moved in */
    return l;
}

static void stop(struct fake *f, struct orch_credlive *l)
{
    orch_credlive_free(l);
    pthread_mutex_destroy(&f->mu);
}

/* The key id signing at now (or NULL with ORCH_ECRED). */
static int sign_with(struct orch_credlive *l, int64_t now, char *id,
                     size_t cap)
{
    struct orch_credentials v;
    int rc = orch_credlive_acquire(l, now, &v, NULL);

    if (rc)
        return rc;
    snprintf(id, cap, "%s", v.access_key_id);
    orch_credlive_release(l);
    return 0;
}

static void margin_rule(void **state)
{
    (void)state;
    assert_int_equal(orch_credlive_margin_ms(6000), 2000);
    assert_int_equal(orch_credlive_margin_ms(900000), 300000);
    assert_int_equal(orch_credlive_margin_ms(3600000), 300000);
    assert_int_equal(orch_credlive_margin_ms(600000), 200000);
    assert_int_equal(orch_credlive_margin_ms(0), 0);
    assert_int_equal(orch_credlive_margin_ms(-5), 0);
    /* Two thirds of the usable time (lifetime minus margin). */
    assert_int_equal(orch_credlive_refresh_due_ms(1000, 7000), 1000 + 2666);
    assert_int_equal(orch_credlive_refresh_due_ms(0, 900000), 400000);
    assert_int_equal(orch_credlive_refresh_due_ms(0, 3600000), 2200000);
    assert_true(orch_credlive_refresh_due_ms(0, -1) == INT64_MAX);
    /* Usable strictly before the margin; a set without expiry always. */
    assert_true(orch_credlive_usable(0, 6000, 3999));
    assert_false(orch_credlive_usable(0, 6000, 4000));
    assert_false(orch_credlive_usable(0, 6000, 7000));
    assert_true(orch_credlive_usable(0, -1, INT64_MAX - 1));
}

static void backoff_rule(void **state)
{
    (void)state;
    for (uint64_t r = 0; r < 2000; r += 7) {
        uint64_t a = orch_credlive_retry_ms(1, r);
        uint64_t b = orch_credlive_retry_ms(3, r);
        uint64_t c = orch_credlive_retry_ms(40, r * 0x9E3779B97F4A7C15ULL);

        assert_true(a >= 125 && a <= 250);
        assert_true(b >= 500 && b <= 1000);
        assert_true(c >= 15000 && c <= 30000);
    }
    /* Jittered: not one fixed value. */
    assert_int_not_equal(orch_credlive_retry_ms(5, 1),
                         orch_credlive_retry_ms(5, 777));
}

/* Before its time nothing is fetched; at it, a fresh set arrives while
 * the current one still signs, well before the current one's margin. */
static void refresh_ahead_of_margin(void **state)
{
    struct fake f;
    struct orch_credlive *l = NULL;
    char id[32];
    int64_t due = 0;

    (void)state;
    l = start(&f, 60000); /* margin 20 s, refresh at +26.666 s */
    due = orch_credlive_due_ms(l, NULL);
    assert_int_equal(due, T0 + 26666);
    atomic_store(&f.now, T0 + 26000);
    assert_int_equal(sign_with(l, T0 + 26000, id, sizeof(id)), 0);
    assert_string_equal(id, "K0");
    assert_int_equal(atomic_load(&f.fetches), 0);
    atomic_store(&f.now, T0 + 26666);
    /* Signing at the refresh time does not wait for the fetch. */
    assert_int_equal(sign_with(l, T0 + 26666, id, sizeof(id)), 0);
    wait_fetches(&f, l, 1, due);
    assert_int_equal(orch_credlive_refreshes(l), 1);
    assert_int_equal(sign_with(l, T0 + 26666, id, sizeof(id)), 0);
    assert_string_equal(id, "K1");
    assert_int_equal(orch_credlive_due_ms(l, NULL), T0 + 26666 + 26666);
    stop(&f, l);
}

/* Failures are retried with growing, jittered waits, each within the
 * backoff rule; the first success resets the count. */
static void failed_refresh_backs_off(void **state)
{
    struct fake f;
    struct orch_credlive *l = NULL;
    unsigned failures = 0;
    int64_t due = 0, now = T0 + 400000;
    char id[32];

    (void)state;
    l = start(&f, 3600000); /* refresh at +2200 s, margin 300 s */
    set_failing(&f, true);
    atomic_store(&f.now, now);
    due = orch_credlive_due_ms(l, NULL);
    (void)sign_with(l, now, id, sizeof(id)); /* wakes it */
    atomic_store(&f.now, T0 + 2200000);
    now = T0 + 2200000;
    for (int n = 1; n <= 4; n++) {
        int64_t wait = 0;
        int64_t lo = (int64_t)orch_credlive_retry_ms(n, 0);
        int64_t hi = 2 * lo;

        (void)sign_with(l, now, id, sizeof(id));
        wait_fetches(&f, l, n, due);
        due = orch_credlive_due_ms(l, &failures);
        assert_int_equal(failures, (unsigned)n);
        wait = due - now;
        assert_true(wait >= lo && wait <= hi);
        /* Still the old set, still usable. */
        assert_int_equal(sign_with(l, now, id, sizeof(id)), 0);
        assert_string_equal(id, "K0");
        now = due;
        atomic_store(&f.now, now);
    }
    set_failing(&f, false);
    (void)sign_with(l, now, id, sizeof(id));
    wait_fetches(&f, l, 5, due);
    (void)orch_credlive_due_ms(l, &failures);
    assert_int_equal(failures, 0);
    assert_int_equal(orch_credlive_refreshes(l), 1);
    assert_int_equal(sign_with(l, now, id, sizeof(id)), 0);
    assert_string_equal(id, "K1");
    stop(&f, l);
}

/* A refresh that keeps failing: usable until the margin, then ORCH_ECRED
 * with an explanation naming the source and the failure, no secret. */
static void failing_refresh_reaches_margin(void **state)
{
    struct fake f;
    struct orch_credlive *l = NULL;
    struct orch_diag d = {{0}};
    struct orch_credentials v;
    char why[512];
    char id[32];

    (void)state;
    l = start(&f, 6000); /* margin 2 s: usable until +4 s */
    set_failing(&f, true);
    atomic_store(&f.now, T0 + 3000);
    (void)sign_with(l, T0 + 3000, id, sizeof(id));
    wait_fetches(&f, l, 1, T0 + 2666);
    assert_int_equal(sign_with(l, T0 + 3999, id, sizeof(id)), 0);
    assert_int_equal(orch_credlive_acquire(l, T0 + 4000, &v, &d),
                     ORCH_ECRED);
    assert_int_equal(orch_credlive_acquire(l, T0 + 9000, &v, &d),
                     ORCH_ECRED);
    assert_non_null(strstr(d.msg, "RamRoleArn profile \"ops\""));
    orch_credlive_explain(l, T0 + 4000, why, sizeof(why));
    assert_non_null(strstr(why, "RamRoleArn profile \"ops\""));
    assert_non_null(strstr(why, "expire in 2 s"));
    assert_non_null(strstr(why, "ServiceUnavailable"));
    assert_null(strstr(why, "secret-of"));
    assert_null(strstr(why, "token-of"));
    /* Never a hold left behind by a refused acquire: the holder still
     * answers (a locked mutex would hang here). */
    assert_int_equal(orch_credlive_refreshes(l), 0);
    stop(&f, l);
}

/* A refused token asks for a fetch now, long before the refresh time;
 * a rejection of an older key id does not. */
static void reject_refreshes_now(void **state)
{
    struct fake f;
    struct orch_credlive *l = NULL;
    char id[32];
    int64_t due = 0;

    (void)state;
    l = start(&f, 3600000);
    atomic_store(&f.now, T0 + 1000);
    due = orch_credlive_due_ms(l, NULL);
    orch_credlive_reject(l, "not-the-current-key");
    assert_int_equal(orch_credlive_due_ms(l, NULL), due);
    orch_credlive_reject(l, "K0");
    wait_fetches(&f, l, 1, due);
    assert_int_equal(sign_with(l, T0 + 1000, id, sizeof(id)), 0);
    assert_string_equal(id, "K1");
    /* A late refusal of the replaced key changes nothing. */
    due = orch_credlive_due_ms(l, NULL);
    orch_credlive_reject(l, "K0");
    assert_int_equal(orch_credlive_due_ms(l, NULL), due);
    stop(&f, l);
}

struct signer {
    struct orch_credlive *l;
    atomic_bool *done;
    int signed_ok;
    int mismatches;
};

static void *sign_loop(void *arg)
{
    struct signer *s = arg;
    char want[64];

    while (!atomic_load(s->done)) {
        struct orch_credentials v;

        if (orch_credlive_acquire(s->l, real_ms(), &v, NULL) != 0)
            continue; /* a slow refresher under load: not our question */
        snprintf(want, sizeof(want), "secret-of-%s", v.access_key_id);
        if (strcmp(v.secret.s, want) != 0 || v.secret.len != strlen(want))
            s->mismatches++;
        snprintf(want, sizeof(want), "token-of-%s", v.access_key_id);
        if (strcmp(v.token.s, want) != 0)
            s->mismatches++;
        s->signed_ok++;
        orch_credlive_release(s->l);
    }
    return NULL;
}

/* Four signers race a refresher that swaps sets every ~70 ms: every
 * snapshot is one set (id, secret and token of the same set). */
static void snapshots_consistent_under_threads(void **state)
{
    struct fake f;
    struct orch_credlive_opts o;
    struct orch_credset first;
    struct orch_credlive *l = NULL;
    struct signer s[4];
    pthread_t t[4];
    atomic_bool done = false;

    (void)state;
    memset(&f, 0, sizeof(f));
    pthread_mutex_init(&f.mu, NULL);
    f.real_clock = true;
    f.life_ms = 150;
    mint(&f, 0, real_ms(), &first);
    memset(&o, 0, sizeof(o));
    o.fetch = fake_fetch;
    o.fetch_ud = &f;
    o.now = fake_now;
    o.now_ud = &f;
    assert_int_equal(orch_credlive_new(&l, &o, &first, NULL), 0);
    for (int i = 0; i < 4; i++) {
        memset(&s[i], 0, sizeof(s[i]));
        s[i].l = l;
        s[i].done = &done;
        assert_int_equal(pthread_create(&t[i], NULL, sign_loop, &s[i]), 0);
    }
    for (int i = 0; i < WAIT_LIMIT_MS && orch_credlive_refreshes(l) < 15; i++)
        sleep_ms(1);
    atomic_store(&done, true);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(s[i].mismatches, 0);
    }
    assert_true(orch_credlive_refreshes(l) >= 15);
    stop(&f, l);
}

static void rejects_a_set_that_never_expires(void **state)
{
    struct orch_credlive_opts o;
    struct orch_credset set;
    struct orch_credlive *l = NULL;
    struct fake f;

    (void)state;
    memset(&f, 0, sizeof(f));
    f.life_ms = 1000;
    mint(&f, 0, T0, &set);
    set.expires_ms = -1;
    memset(&o, 0, sizeof(o));
    o.fetch = fake_fetch;
    o.fetch_ud = &f;
    assert_int_equal(orch_credlive_new(&l, &o, &set, NULL), ORCH_EINVAL);
    assert_null(l);
    orch_credentials_cleanup(&set.cred);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(margin_rule),
        cmocka_unit_test(backoff_rule),
        cmocka_unit_test(refresh_ahead_of_margin),
        cmocka_unit_test(failed_refresh_backs_off),
        cmocka_unit_test(failing_refresh_reaches_margin),
        cmocka_unit_test(reject_refreshes_now),
        cmocka_unit_test(snapshots_consistent_under_threads),
        cmocka_unit_test(rejects_a_set_that_never_expires),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
