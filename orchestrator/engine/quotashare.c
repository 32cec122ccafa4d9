/* quotashare.c - per-action quotas shared through a state file under flock
 * (quotashare.h states the contract).
 *
 * DESIGN: the file is a fixed-size array of lane records after a header,
 * mapped MAP_SHARED; every operation holds flock(LOCK_EX) from the load of
 * a lane to the write-back of its state. A lane keeps its start times
 * sorted, oldest first, with the pid of each start; the limiter gets the
 * newest ceil(max_rate) of them in its ring (the window check needs no
 * more), the scalars of its state (rate, next slot, throttle and raise
 * times) and the recent throttling answers, runs, and its scalars are
 * written back; a start or a throttling answer is appended to the lane.
 * Retiming moves this process's own starts only, then re-sorts.
 */
#include "orch/engine/quotashare.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "orch/base/codec.h"
#include "orch/base/err.h"
#include "orch/engine/ratelimit.h"

#define MAGIC "OTAQSHR"
#define VERSION 2u
#define ACTION_LEN 64
/* A waiting process that has not come back this long after the time it
 * was told has stopped asking (done, at its in-flight cap, or stuck). */
#define WAITER_GRACE_MS 200
/* When the longest-waiting process is due this soon, a start that is
 * free now is kept for it. */
#define WAITER_DUE_MS 2
/* While other processes of the key make calls too, a lane runs at
 * rate x 1000 / (1000 + this): each process's own delays between its
 * start and the server's arrival (building, the journal's fsync, being
 * scheduled) are independent, so a late arrival of one and an on-time
 * one of another bunch up. Measured on a loaded 2-core VM with three
 * rollouts and the emulator: start-to-arrival 1-46 ms, and 21 arrivals
 * in one second with the single process's 5 ms margin; with a gated run,
 * a status --watch and a cancel at once (only the run creating jobs):
 * start-to-arrival 0-19 ms, 21 Create arrivals in one second. */
#define CONTENDED_MARGIN_MS 50
/* Another process's start this recent makes the lane contended. */
#define CONTENDED_SPAN_MS 2000
/* Times this far ahead of now are from before a reboot. */
#define FUTURE_MS 60000

struct waiter {
    int32_t pid; /* 0: free */
    uint32_t pad;
    uint64_t pstart; /* the process's start time (/proc), 0 unknown */
    uint64_t since_ms;
    uint64_t due_ms;
};

struct lane_rec {
    char action[ACTION_LEN]; /* "" = free */
    double rate;             /* 0: not set yet */
    double next_ms;
    uint64_t last_throttle_ms, last_raise_ms, throttles;
    double measured_rate;
    uint64_t measured_until_ms;
    uint32_t count, thr_count;
    uint64_t t[ORCH_QUOTASHARE_SLOTS];
    int32_t pid[ORCH_QUOTASHARE_SLOTS];
    uint64_t thr[ORCH_QUOTASHARE_SLOTS];
    struct waiter w[ORCH_QUOTASHARE_WAITERS];
};

struct share_file {
    char magic[8];
    uint32_t version;
    uint32_t size;
    struct lane_rec lanes[ORCH_QUOTASHARE_LANES];
};

struct orch_quotashare {
    int fd;
    struct share_file *f;
    int32_t pid;     /* whose pstart is cached */
    uint64_t pstart;
};

/* ---- the file --------------------------------------------------------- */

int orch_quotashare_default_dir(char *out, size_t cap)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int n = 0;

    if (xdg != NULL && xdg[0] == '/')
        n = snprintf(out, cap, "%s", xdg);
    else
        n = snprintf(out, cap, "/tmp/ota-rollout-%lu",
                     (unsigned long)getuid());
    return n > 0 && (size_t)n < cap ? 0 : ORCH_EINVAL;
}

/* A directory of ours with no group or other permissions. */
static bool private_dir(const struct stat *st)
{
    return S_ISDIR(st->st_mode) && st->st_uid == getuid() &&
           (st->st_mode & 077) == 0;
}

/* The default directory, created 0700 when it is /tmp/ota-rollout-UID;
 * $XDG_RUNTIME_DIR is the system's (0700 by the spec) and only checked to
 * be a directory of ours. */
static int ensure_dir(const char *dir, bool create, struct orch_diag *diag)
{
    struct stat st;

    if (create && mkdir(dir, 0700) != 0 && errno != EEXIST)
        return orch_diag_set(diag, ORCH_EIO, "cannot create %s: %s", dir,
                             strerror(errno));
    if (lstat(dir, &st) != 0)
        return orch_diag_set(diag, ORCH_EIO, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
        (create && !private_dir(&st)))
        return orch_diag_set(diag, ORCH_EIO,
                             "%s is not a private directory of this user",
                             dir);
    return 0;
}

static int file_path(char *out, size_t cap, const char *dir, const char *key,
                     struct orch_diag *diag)
{
    char hex[65];
    int n = 0;

    if (orch_sha256_hex(hex, key, strlen(key)) != 0)
        return orch_diag_set(diag, ORCH_EINVAL, "cannot hash the quota key");
    hex[32] = '\0';
    n = snprintf(out, cap, "%s/ota-rollout-quota-%s", dir, hex);
    if (n <= 0 || (size_t)n >= cap)
        return orch_diag_set(diag, ORCH_EINVAL, "quota state path too long");
    return 0;
}

/* Opens the file 0600 (no symlink followed) and checks its owner and
 * mode. */
static int open_file(const char *path, struct orch_diag *diag)
{
    struct stat st;
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

    if (fd < 0) {
        orch_diag_set(diag, ORCH_EIO, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_uid != getuid() || (st.st_mode & 077) != 0) {
        orch_diag_set(diag, ORCH_EIO,
                      "%s: not a regular 0600 file of this user", path);
        close(fd);
        return -1;
    }
    return fd;
}

static int lock(int fd)
{
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR)
            return -1;
    }
    return 0;
}

static void unlock(int fd)
{
    (void)flock(fd, LOCK_UN);
}

/* Sizes a new (or foreign-format) file and writes its header, under the
 * lock. */
static int init_file(int fd, struct orch_diag *diag)
{
    struct share_file hdr;
    struct stat st;

    if (fstat(fd, &st) != 0)
        return orch_diag_set(diag, ORCH_EIO, "quota state: %s",
                             strerror(errno));
    if ((size_t)st.st_size == sizeof(struct share_file)) {
        if (pread(fd, &hdr, offsetof(struct share_file, lanes), 0) ==
                (ssize_t)offsetof(struct share_file, lanes) &&
            memcmp(hdr.magic, MAGIC, sizeof(MAGIC)) == 0 &&
            hdr.version == VERSION &&
            hdr.size == (uint32_t)sizeof(struct share_file))
            return 0;
    }
    /* New, or another format: start afresh (the state lives seconds). */
    if (ftruncate(fd, 0) != 0 ||
        ftruncate(fd, (off_t)sizeof(struct share_file)) != 0)
        return orch_diag_set(diag, ORCH_EIO, "quota state: %s",
                             strerror(errno));
    memset(&hdr, 0, offsetof(struct share_file, lanes));
    memcpy(hdr.magic, MAGIC, sizeof(MAGIC));
    hdr.version = VERSION;
    hdr.size = (uint32_t)sizeof(struct share_file);
    if (pwrite(fd, &hdr, offsetof(struct share_file, lanes), 0) !=
        (ssize_t)offsetof(struct share_file, lanes))
        return orch_diag_set(diag, ORCH_EIO, "quota state: %s",
                             strerror(errno));
    return 0;
}

int orch_quotashare_open(struct orch_quotashare **out, const char *dir,
                         const char *key, struct orch_diag *diag)
{
    char ddir[512], path[640];
    struct orch_quotashare *s = NULL;
    int rc = 0, fd = -1;
    void *map = NULL;

    *out = NULL;
    if (key == NULL || key[0] == '\0')
        return orch_diag_set(diag, ORCH_EINVAL, "no quota key");
    if (dir == NULL) {
        if (orch_quotashare_default_dir(ddir, sizeof(ddir)) != 0)
            return orch_diag_set(diag, ORCH_EINVAL, "quota dir too long");
        dir = ddir;
        rc = ensure_dir(dir, getenv("XDG_RUNTIME_DIR") == NULL ||
                                 getenv("XDG_RUNTIME_DIR")[0] != '/',
                        diag);
    } else {
        rc = ensure_dir(dir, false, diag);
    }
    if (rc == 0)
        rc = file_path(path, sizeof(path), dir, key, diag);
    if (rc)
        return rc;
    fd = open_file(path, diag);
    if (fd < 0)
        return ORCH_EIO;
    if (lock(fd) != 0) {
        close(fd);
        return orch_diag_set(diag, ORCH_EIO, "quota state: cannot lock");
    }
    rc = init_file(fd, diag);
    unlock(fd);
    if (rc == 0) {
        map = mmap(NULL, sizeof(struct share_file), PROT_READ | PROT_WRITE,
                   MAP_SHARED, fd, 0);
        if (map == MAP_FAILED)
            rc = orch_diag_set(diag, ORCH_EIO, "quota state: mmap: %s",
                               strerror(errno));
    }
    if (rc == 0 && (s = calloc(1, sizeof(*s))) == NULL)
        rc = orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    if (rc) {
        if (map != NULL && map != MAP_FAILED)
            munmap(map, sizeof(struct share_file));
        close(fd);
        return rc;
    }
    s->fd = fd;
    s->f = map;
    *out = s;
    return 0;
}

void orch_quotashare_close(struct orch_quotashare *s)
{
    if (s == NULL)
        return;
    munmap(s->f, sizeof(struct share_file));
    close(s->fd);
    free(s);
}

/* ---- processes -------------------------------------------------------- */

/* Field 22 of /proc/PID/stat (start time in clock ticks after boot); 0
 * when unreadable. */
static uint64_t proc_start(int32_t pid)
{
    char path[64], buf[1024];
    const char *p = NULL;
    unsigned long long v = 0;
    FILE *fp = NULL;
    size_t n = 0;
    int field = 2;

    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    fp = fopen(path, "re");
    if (fp == NULL)
        return 0;
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (p == NULL)
        return 0;
    while (*p && field < 22) {
        if (*p++ == ' ')
            field++;
    }
    if (sscanf(p, "%llu", &v) != 1)
        return 0;
    return (uint64_t)v;
}

/* This process's pid and start time (cached per pid: a forked child
 * asks again). */
static int32_t self(struct orch_quotashare *s, uint64_t *pstart)
{
    int32_t pid = (int32_t)getpid();

    if (s->pid != pid) {
        s->pid = pid;
        s->pstart = proc_start(pid);
    }
    *pstart = s->pstart;
    return pid;
}

/* Whether the process that made a waiter entry still runs. */
static bool alive(int32_t pid, uint64_t pstart)
{
    uint64_t now_start = 0;

    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
        return false;
    now_start = proc_start(pid);
    return pstart == 0 || now_start == 0 || now_start == pstart;
}

/* ---- lanes ------------------------------------------------------------ */

/* The lane of action, claimed when missing; NULL when every lane is
 * another action's. */
static struct lane_rec *lane_of(struct share_file *f, const char *action)
{
    struct lane_rec *free_rec = NULL;

    for (size_t i = 0; i < ORCH_QUOTASHARE_LANES; i++) {
        struct lane_rec *r = &f->lanes[i];

        if (strncmp(r->action, action, ACTION_LEN) == 0 &&
            r->action[0] != '\0')
            return r;
        if (r->action[0] == '\0' && free_rec == NULL)
            free_rec = r;
    }
    if (free_rec == NULL || strlen(action) >= ACTION_LEN)
        return NULL;
    memset(free_rec, 0, sizeof(*free_rec));
    snprintf(free_rec->action, ACTION_LEN, "%s", action);
    return free_rec;
}

/* Forgets a lane whose times are from before a reboot. */
static void drop_stale(struct lane_rec *r, uint64_t now)
{
    bool stale = r->next_ms > (double)(now + FUTURE_MS) ||
                 r->last_raise_ms > now + FUTURE_MS ||
                 (r->count > 0 && r->t[r->count - 1] > now + FUTURE_MS);

    if (stale) {
        char action[ACTION_LEN];

        memcpy(action, r->action, ACTION_LEN);
        memset(r, 0, sizeof(*r));
        memcpy(r->action, action, ACTION_LEN);
    }
}

static void drop_gone_waiters(struct lane_rec *r, uint64_t now)
{
    for (size_t i = 0; i < ORCH_QUOTASHARE_WAITERS; i++) {
        struct waiter *w = &r->w[i];

        if (w->pid != 0 && (now > w->due_ms + WAITER_GRACE_MS ||
                            !alive(w->pid, w->pstart)))
            memset(w, 0, sizeof(*w));
    }
}

static struct waiter *waiter_of(struct lane_rec *r, int32_t pid)
{
    for (size_t i = 0; i < ORCH_QUOTASHARE_WAITERS; i++) {
        if (r->w[i].pid == pid)
            return &r->w[i];
    }
    return NULL;
}

/* Lists (or refreshes) this process as waiting until due. A full table
 * leaves it unlisted: it then competes without a turn. */
static void wait_listed(struct lane_rec *r, int32_t pid, uint64_t pstart,
                        uint64_t now, uint64_t due)
{
    struct waiter *w = waiter_of(r, pid);

    if (w == NULL) {
        w = waiter_of(r, 0);
        if (w == NULL)
            return;
        w->pid = pid;
        w->pstart = pstart;
        w->since_ms = now;
    }
    w->due_ms = due;
}

/* The process waiting longest, other than pid, whose turn comes before
 * pid's; NULL when pid goes first. */
static const struct waiter *ahead_of(const struct lane_rec *r, int32_t pid)
{
    const struct waiter *me = NULL, *first = NULL;

    for (size_t i = 0; i < ORCH_QUOTASHARE_WAITERS; i++) {
        const struct waiter *w = &r->w[i];

        if (w->pid == pid)
            me = w;
        else if (w->pid != 0 && (first == NULL || w->since_ms < first->since_ms))
            first = w;
    }
    if (first == NULL || (me != NULL && me->since_ms <= first->since_ms))
        return NULL;
    return first;
}

/* Copies the newest min(n, cap) of times[0, n) into a limiter ring. */
static void load_ring(uint64_t *ring, unsigned cap, unsigned *head,
                      unsigned *count, const uint64_t *times, uint32_t n)
{
    unsigned k = n < cap ? n : cap;

    for (unsigned i = 0; i < k; i++)
        ring[i] = times[n - k + i];
    *count = k;
    *head = k % cap;
}

/* The lane's state into the working limiter. */
static void load(const struct lane_rec *r, struct orch_ratelimit *rl,
                 uint64_t now)
{
    load_ring(rl->ring, rl->cap, &rl->head, &rl->count, r->t, r->count);
    load_ring(rl->thr_ring, rl->cap, &rl->thr_head, &rl->thr_count, r->thr,
              r->thr_count);
    rl->rate = r->rate > 0 && r->rate < rl->max_rate ? r->rate : rl->max_rate;
    rl->next_ms = r->next_ms;
    rl->last_throttle_ms = r->last_throttle_ms;
    rl->last_raise_ms = r->last_raise_ms ? r->last_raise_ms : now;
    rl->throttles = r->throttles;
    rl->measured_rate = r->measured_rate;
    rl->measured_until_ms = r->measured_until_ms;
}

static void store(struct lane_rec *r, const struct orch_ratelimit *rl)
{
    r->rate = rl->rate;
    r->next_ms = rl->next_ms;
    r->last_throttle_ms = rl->last_throttle_ms;
    r->last_raise_ms = rl->last_raise_ms;
    r->throttles = rl->throttles;
    r->measured_rate = rl->measured_rate;
    r->measured_until_ms = rl->measured_until_ms;
}

/* Appends t (the newest) to a time list of at most SLOTS, dropping the
 * oldest when full; pids may be NULL. */
static void append(uint64_t *times, int32_t *pids, uint32_t *n, uint64_t t,
                   int32_t pid)
{
    if (*n == ORCH_QUOTASHARE_SLOTS) {
        memmove(times, times + 1, (*n - 1) * sizeof(*times));
        if (pids != NULL)
            memmove(pids, pids + 1, (*n - 1) * sizeof(*pids));
        (*n)--;
    }
    times[*n] = t;
    if (pids != NULL)
        pids[*n] = pid;
    (*n)++;
}

/* Insertion sort of the starts by time (almost sorted: only retimed
 * entries move). */
static void sort_starts(struct lane_rec *r)
{
    for (uint32_t i = 1; i < r->count; i++) {
        uint64_t t = r->t[i];
        int32_t p = r->pid[i];
        uint32_t j = i;

        while (j > 0 && r->t[j - 1] > t) {
            r->t[j] = r->t[j - 1];
            r->pid[j] = r->pid[j - 1];
            j--;
        }
        r->t[j] = t;
        r->pid[j] = p;
    }
}

/* Insertion sort of a time list (the throttled calls' starts come in
 * the order of their answers). */
static void sort_times(uint64_t *t, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++) {
        uint64_t v = t[i];
        uint32_t j = i;

        while (j > 0 && t[j - 1] > v) {
            t[j] = t[j - 1];
            j--;
        }
        t[j] = v;
    }
}

/* Locks and finds the lane (NULL: unlocked, use the limiter alone). */
static struct lane_rec *enter(struct orch_quotashare *s, const char *action,
                              uint64_t now)
{
    struct lane_rec *r = NULL;

    if (lock(s->fd) != 0)
        return NULL;
    r = lane_of(s->f, action);
    if (r == NULL) {
        unlock(s->fd);
        return NULL;
    }
    drop_stale(r, now);
    return r;
}

/* Whether another process started a call lately, of any action: its
 * work delays ours (and the server's) as much as a share of our lane. */
static bool contended(const struct share_file *f, int32_t pid, uint64_t now)
{
    for (size_t l = 0; l < ORCH_QUOTASHARE_LANES; l++) {
        const struct lane_rec *r = &f->lanes[l];

        for (uint32_t i = r->count; i > 0; i--) {
            if (r->t[i - 1] + CONTENDED_SPAN_MS < now)
                break;
            if (r->pid[i - 1] != pid)
                return true;
        }
    }
    return false;
}

/* ---- operations ------------------------------------------------------- */

uint64_t orch_quotashare_take(struct orch_quotashare *s, const char *action,
                              struct orch_ratelimit *rl, uint64_t now_ms)
{
    struct lane_rec *r = enter(s, action, now_ms);
    const struct waiter *first = NULL;
    uint64_t pstart = 0, wait = 0;
    int32_t pid = self(s, &pstart);
    bool shared = false;

    if (r == NULL)
        return orch_ratelimit_take(rl, now_ms);
    drop_gone_waiters(r, now_ms);
    load(r, rl, now_ms);
    shared = contended(s->f, pid, now_ms);
    if (shared)
        rl->rate *= 1000.0 / (1000.0 + CONTENDED_MARGIN_MS);
    wait = orch_ratelimit_wait(rl, now_ms);
    if (wait == 0 && (first = ahead_of(r, pid)) != NULL &&
        first->due_ms <= now_ms + WAITER_DUE_MS)
        wait = WAITER_DUE_MS; /* its turn: it is about to ask */
    if (wait == 0) {
        struct waiter *me = waiter_of(r, pid);

        orch_ratelimit_record(rl, now_ms);
        append(r->t, r->pid, &r->count, now_ms, pid);
        if (me != NULL)
            memset(me, 0, sizeof(*me));
    } else {
        wait_listed(r, pid, pstart, now_ms, now_ms + wait);
    }
    if (shared) { /* the lane's own rate is the unscaled one */
        rl->rate *= (1000.0 + CONTENDED_MARGIN_MS) / 1000.0;
        if (rl->rate > rl->max_rate)
            rl->rate = rl->max_rate;
    }
    store(r, rl);
    unlock(s->fd);
    return wait;
}

void orch_quotashare_throttled(struct orch_quotashare *s, const char *action,
                               struct orch_ratelimit *rl, uint64_t now_ms,
                               uint64_t sent_ms)
{
    struct lane_rec *r = enter(s, action, now_ms);

    if (r == NULL) {
        orch_ratelimit_throttled_at(rl, now_ms, sent_ms);
        return;
    }
    load(r, rl, now_ms);
    orch_ratelimit_throttled_at(rl, now_ms, sent_ms);
    append(r->thr, NULL, &r->thr_count, sent_ms, 0);
    sort_times(r->thr, r->thr_count);
    store(r, rl);
    unlock(s->fd);
}

void orch_quotashare_retime(struct orch_quotashare *s, const char *action,
                            size_t k, uint64_t t)
{
    uint64_t pstart = 0;
    int32_t pid = self(s, &pstart);
    struct lane_rec *r = enter(s, action, t);
    bool moved = false;

    if (r == NULL)
        return;
    for (uint32_t i = r->count; i > 0 && k > 0; i--) {
        if (r->pid[i - 1] != pid)
            continue;
        k--;
        if (r->t[i - 1] < t) {
            r->t[i - 1] = t;
            moved = true;
        }
    }
    if (moved)
        sort_starts(r);
    unlock(s->fd);
}

unsigned orch_quotashare_waiters(struct orch_quotashare *s,
                                 const char *action, uint64_t now_ms)
{
    struct lane_rec *r = NULL;
    unsigned n = 0;

    if (lock(s->fd) != 0)
        return 0;
    for (size_t i = 0; i < ORCH_QUOTASHARE_LANES; i++) {
        if (strncmp(s->f->lanes[i].action, action, ACTION_LEN) == 0)
            r = &s->f->lanes[i];
    }
    if (r != NULL)
        drop_gone_waiters(r, now_ms);
    for (size_t i = 0; r != NULL && i < ORCH_QUOTASHARE_WAITERS; i++)
        n += r->w[i].pid != 0;
    unlock(s->fd);
    return n;
}

/* ---- handles by key ------------------------------------------------------ */

static int ref_id(char out[65], const char *key, const char *dir)
{
    size_t kl = strlen(key), dl = dir != NULL ? strlen(dir) : 0;
    char *buf = malloc(kl + dl + 2);
    int rc = 0;

    if (buf == NULL)
        return ORCH_ENOMEM;
    memcpy(buf, key, kl + 1);
    if (dl)
        memcpy(buf + kl + 1, dir, dl);
    buf[kl + 1 + dl] = '\0';
    rc = orch_sha256_hex(out, buf, kl + dl + 1);
    free(buf);
    return rc ? ORCH_EINVAL : 0;
}

struct orch_quotashare_ref *orch_quotashare_ref(
    struct orch_quotashare_ref **refs, const char *dir, const char *key)
{
    struct orch_quotashare_ref *e = NULL;
    struct orch_diag diag = {{0}};
    char id[65];
    int rc = 0;

    if (key == NULL || key[0] == '\0' || ref_id(id, key, dir) != 0)
        return NULL;
    for (e = *refs; e != NULL; e = e->next) {
        if (strcmp(e->id, id) == 0)
            return e;
    }
    e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    memcpy(e->id, id, sizeof(id));
    rc = orch_quotashare_open(&e->s, dir, key, &diag);
    if (rc)
        snprintf(e->note, sizeof(e->note),
                 "pacing alone: the quota shared with other ota-rollout "
                 "processes is unavailable (%s)",
                 orch_diag_text(rc, &diag));
    e->next = *refs;
    *refs = e;
    return e;
}

void orch_quotashare_refs_free(struct orch_quotashare_ref **refs)
{
    while (*refs != NULL) {
        struct orch_quotashare_ref *e = *refs;

        *refs = e->next;
        orch_quotashare_close(e->s);
        free(e);
    }
}
