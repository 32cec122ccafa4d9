/* test_quotashare.c - the quota shared through a state file: several
 * handles (one per "process") on one file stay within the quota together,
 * take turns, share the adaptation, and a dead process's turn is freed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "orch/base/clock.h"
#include "orch/base/err.h"
#include "orch/engine/quotashare.h"
#include "orch/engine/ratelimit.h"
#include "torture.h"

#define KEY "LTAIquotashare-test-key"
#define ACTION "ListOTATaskByJob"

/* A limiter as the pacer configures one: rate less a 5 ms window margin,
 * starts spaced evenly. */
static void limiter(struct orch_ratelimit *rl, double qps, uint64_t now)
{
    assert_int_equal(orch_ratelimit_init(rl, qps * 1000.0 / 1005.0, now), 0);
    rl->even_spacing = true;
    rl->catchup_ms = 10;
}

static struct orch_quotashare *open_share(const char *dir)
{
    struct orch_quotashare *s = NULL;
    struct orch_diag diag = {{0}};

    assert_int_equal(orch_quotashare_open(&s, dir, KEY, &diag), 0);
    assert_non_null(s);
    return s;
}

static size_t max_in_window(const uint64_t *t, size_t n, uint64_t w)
{
    size_t best = 0, j = 0;

    for (size_t i = 0; i < n; i++) {
        while (t[i] - t[j] >= w)
            j++;
        if (i - j + 1 > best)
            best = i - j + 1;
    }
    return best;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Two handles on one file, each asking greedily at every ms of 5 s of
 * injected time: together never more than 10 starts in any 1000 ms, and
 * together about 10/s (two limiters alone would make 20/s). */
static void test_two_handles_share_one_quota(void **state)
{
    char dir[64];
    struct orch_quotashare *a = NULL, *b = NULL;
    struct orch_ratelimit ra, rb;
    const uint64_t t0 = 1000000;
    uint64_t starts[400];
    size_t n = 0, na = 0, nb = 0;

    (void)state;
    torture_mkdtemp(dir, sizeof(dir), "qshare");
    a = open_share(dir);
    b = open_share(dir);
    limiter(&ra, 10, t0);
    limiter(&rb, 10, t0);
    for (uint64_t t = t0; t < t0 + 5000; t++) {
        while (n < 400 && orch_quotashare_take(a, ACTION, &ra, t) == 0) {
            starts[n++] = t;
            na++;
        }
        while (n < 400 && orch_quotashare_take(b, ACTION, &rb, t) == 0) {
            starts[n++] = t;
            nb++;
        }
    }
    qsort(starts, n, sizeof(*starts), cmp_u64);
    assert_true(max_in_window(starts, n, 1000) <= 10);
    assert_true(n >= 45 && n <= 51);
    /* Who gets each start is the waiting order between processes
     * (test_processes_take_turns); both handles here are one process. */
    assert_true(na + nb == n);
    orch_ratelimit_cleanup(&ra);
    orch_ratelimit_cleanup(&rb);
    orch_quotashare_close(a);
    orch_quotashare_close(b);
    torture_rmtree(dir);
}

/* A throttling answer one process saw slows the others down: the rate is
 * the lane's. */
static void test_throttling_is_shared(void **state)
{
    char dir[64];
    struct orch_quotashare *a = NULL, *b = NULL;
    struct orch_ratelimit ra, rb;
    const uint64_t t0 = 2000000;

    (void)state;
    torture_mkdtemp(dir, sizeof(dir), "qshare");
    a = open_share(dir);
    b = open_share(dir);
    limiter(&ra, 20, t0);
    limiter(&rb, 20, t0);
    assert_int_equal(orch_quotashare_take(a, ACTION, &ra, t0), 0);
    orch_quotashare_throttled(a, ACTION, &ra, t0 + 10, t0);
    assert_true(ra.rate < ra.max_rate);
    (void)orch_quotashare_take(b, ACTION, &rb, t0 + 20);
    assert_true(rb.rate < rb.max_rate);
    assert_true(rb.rate == ra.rate);
    orch_ratelimit_cleanup(&ra);
    orch_ratelimit_cleanup(&rb);
    orch_quotashare_close(a);
    orch_quotashare_close(b);
    torture_rmtree(dir);
}

/* A forked child: opens its own handle, takes starts greedily on the real
 * clock until `end_ms`, and writes their times to fd. */
static _Noreturn void greedy_child(const char *dir, uint64_t end_ms, int fd)
{
    struct orch_quotashare *s = NULL;
    struct orch_ratelimit rl;
    struct orch_diag diag = {{0}};
    uint64_t now = 0;

    if (orch_quotashare_open(&s, dir, KEY, &diag) != 0 ||
        orch_ratelimit_init(&rl, 20.0 * 1000.0 / 1005.0, orch_mono_ms()))
        _exit(2);
    rl.even_spacing = true;
    rl.catchup_ms = 10;
    while ((now = orch_mono_ms()) < end_ms) {
        uint64_t w = orch_quotashare_take(s, ACTION, &rl, now);
        struct timespec ts = {0, 0};

        if (w == 0) {
            if (write(fd, &now, sizeof(now)) != (ssize_t)sizeof(now))
                _exit(3);
            continue;
        }
        ts.tv_nsec = (long)(w > 20 ? 20 : w) * 1000000L;
        nanosleep(&ts, NULL);
    }
    _exit(0);
}

static size_t read_times(int fd, uint64_t *t, size_t cap)
{
    size_t n = 0;

    while (n < cap && read(fd, &t[n], sizeof(*t)) == (ssize_t)sizeof(*t))
        n++;
    return n;
}

/* Two processes asking as fast as they may for 2 s at 20/s: together
 * within the quota in every sliding second, and each gets a fair share
 * (they take turns). */
static void test_processes_take_turns(void **state)
{
    char dir[64];
    int pa[2], pb[2], st = 0;
    uint64_t ta[200], tb[200], all[400];
    size_t na = 0, nb = 0;
    uint64_t end = 0;
    pid_t ca = 0, cb = 0;

    (void)state;
    torture_mkdtemp(dir, sizeof(dir), "qshare");
    assert_int_equal(pipe(pa), 0);
    assert_int_equal(pipe(pb), 0);
    end = orch_mono_ms() + 2000;
    ca = fork();
    if (ca == 0)
        greedy_child(dir, end, pa[1]);
    cb = fork();
    if (cb == 0)
        greedy_child(dir, end, pb[1]);
    close(pa[1]);
    close(pb[1]);
    na = read_times(pa[0], ta, 200);
    nb = read_times(pb[0], tb, 200);
    assert_int_equal(waitpid(ca, &st, 0), ca);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(waitpid(cb, &st, 0), cb);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    memcpy(all, ta, na * sizeof(*ta));
    memcpy(all + na, tb, nb * sizeof(*tb));
    qsort(all, na + nb, sizeof(*all), cmp_u64);
    assert_true(max_in_window(all, na + nb, 1000) <= 20);
    /* Taking turns: neither is starved (each about half). */
    assert_true(na + nb >= 20);
    assert_true(na * 3 >= nb && nb * 3 >= na);
    close(pa[0]);
    close(pb[0]);
    torture_rmtree(dir);
}

/* A child that takes a start, is refused the next (listed as waiting),
 * tells the parent, and then blocks until killed. */
static pid_t waiting_child(const char *dir, uint64_t *due)
{
    int p[2];
    pid_t pid = 0;

    assert_int_equal(pipe(p), 0);
    pid = fork();
    if (pid == 0) {
        struct orch_quotashare *s = NULL;
        struct orch_ratelimit rl;
        struct orch_diag diag = {{0}};
        uint64_t now = orch_mono_ms(), w = 0;

        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed test must not leave it */
        close(p[0]);
        if (orch_quotashare_open(&s, dir, KEY, &diag) != 0 ||
            orch_ratelimit_init(&rl, 2.0 * 1000.0 / 1005.0, now))
            _exit(2);
        rl.even_spacing = true;
        if (orch_quotashare_take(s, ACTION, &rl, now) != 0)
            _exit(3);
        w = orch_quotashare_take(s, ACTION, &rl, now);
        now += w; /* when it was told to come back */
        if (w == 0 || write(p[1], &now, sizeof(now)) != (ssize_t)sizeof(now))
            _exit(4);
        for (;;)
            pause();
    }
    close(p[1]);
    assert_int_equal(read(p[0], due, sizeof(*due)), (ssize_t)sizeof(*due));
    close(p[0]);
    return pid;
}

/* A live process waiting for its turn keeps it: another asking first at
 * that time is told to wait a moment. Once it is killed (-9) its entry is
 * dropped, and the start is free at once. */
static void test_dead_waiter_is_freed(void **state)
{
    char dir[64];
    struct orch_quotashare *s = NULL;
    struct orch_ratelimit rl;
    uint64_t due = 0;
    pid_t child = 0;
    int st = 0;

    (void)state;
    torture_mkdtemp(dir, sizeof(dir), "qshare");
    child = waiting_child(dir, &due);
    s = open_share(dir);
    assert_int_equal(orch_quotashare_waiters(s, ACTION, due), 1);
    assert_int_equal(orch_ratelimit_init(&rl, 2.0 * 1000.0 / 1005.0, due), 0);
    rl.even_spacing = true;
    /* The child's turn: it is alive and due now. */
    assert_true(orch_quotashare_take(s, ACTION, &rl, due) > 0);
    kill(child, SIGKILL);
    assert_int_equal(waitpid(child, &st, 0), child);
    assert_int_equal(orch_quotashare_waiters(s, ACTION, due), 1); /* us */
    assert_int_equal(orch_quotashare_take(s, ACTION, &rl, due + 1), 0);
    assert_int_equal(orch_quotashare_waiters(s, ACTION, due + 1), 0);
    orch_ratelimit_cleanup(&rl);
    orch_quotashare_close(s);
    torture_rmtree(dir);
}

/* The file: named by a hash (never the key), 0600, and one of another
 * format is started afresh. */
static void test_state_file(void **state)
{
    char dir[64], path[320];
    struct orch_quotashare *s = NULL;
    struct dirent *de = NULL;
    struct stat st;
    char *text = NULL;
    size_t len = 0;
    DIR *d = NULL;
    int files = 0;

    (void)state;
    torture_mkdtemp(dir, sizeof(dir), "qshare");
    s = open_share(dir);
    orch_quotashare_close(s);
    d = opendir(dir);
    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        files++;
        assert_int_equal(strncmp(de->d_name, "ota-rollout-quota-", 18), 0);
        assert_int_equal(strlen(de->d_name), 18 + 32);
        assert_null(strstr(de->d_name, KEY));
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
    }
    closedir(d);
    assert_int_equal(files, 1);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    text = torture_read_file(path, &len);
    assert_null(memmem(text, len, KEY, strlen(KEY)));
    free(text);
    /* Another format: replaced, and usable. */
    torture_write_text(path, "not a quota state file");
    chmod(path, 0600);
    s = open_share(dir);
    orch_quotashare_close(s);
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size > 1000);
    /* A file others may read is refused. */
    chmod(path, 0644);
    {
        struct orch_diag diag = {{0}};

        assert_int_equal(orch_quotashare_open(&s, dir, KEY, &diag), ORCH_EIO);
        assert_null(s);
    }
    torture_rmtree(dir);
}

/* A list of handles by key: one handle per (dir, key), opened once; no
 * key, no handle; a directory that cannot hold the state gives an entry
 * without a handle and a note saying why. */
static void test_refs_by_key(void **state)
{
    char dir[64], bad[80];
    struct orch_quotashare_ref *refs = NULL, *a = NULL, *b = NULL;

    (void)state;
    torture_mkdtemp(dir, sizeof(dir), "qshref");
    assert_null(orch_quotashare_ref(&refs, dir, NULL));
    assert_null(orch_quotashare_ref(&refs, dir, ""));
    assert_null(refs);
    a = orch_quotashare_ref(&refs, dir, KEY);
    assert_non_null(a);
    assert_non_null(a->s);
    assert_string_equal(a->note, "");
    assert_null(strstr(a->id, KEY));
    assert_ptr_equal(orch_quotashare_ref(&refs, dir, KEY), a);
    b = orch_quotashare_ref(&refs, dir, KEY "-other");
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    /* A file where the directory should be: no handle, a note. */
    snprintf(bad, sizeof(bad), "%s/file", dir);
    torture_write_text(bad, "x");
    b = orch_quotashare_ref(&refs, bad, KEY);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    assert_null(b->s);
    assert_non_null(strstr(b->note, "pacing alone"));
    orch_quotashare_refs_free(&refs);
    assert_null(refs);
    torture_rmtree(dir);
}

TORTURE_MAIN(NULL, NULL, cmocka_unit_test(test_two_handles_share_one_quota),
             cmocka_unit_test(test_refs_by_key),
             cmocka_unit_test(test_throttling_is_shared),
             cmocka_unit_test(test_processes_take_turns),
             cmocka_unit_test(test_dead_waiter_is_freed),
             cmocka_unit_test(test_state_file))
