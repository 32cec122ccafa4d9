/* emu_world.c - ota-emulator's world: storage, lookups, the fixture loader,
 * the call dispatcher, stats and dumps.
 *
 * DESIGN: one mutex guards the whole world; emu_world_call() takes it for
 * the duration of one operation. Entities are found through hash maps
 * (devices by "ProductKey/DeviceName", firmware and jobs by id), each
 * device points at its one unfinished task, and each firmware keeps its
 * jobs in a list, so a Create of 200 devices costs a few hundred hash
 * lookups whatever the size of the world. Device progress is simulated
 * lazily (emu_sim.c): a task's state is a function of time, materialized
 * only when something looks at it.
 */
#include "emu_world_internal.h"

#include "orch/base/err.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

/* ---------------------------------------------------------------- hashing */

uint64_t emu_hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    size_t i = 0;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return emu_mix64(h);
}

uint64_t emu_mix64(uint64_t x)
{
    /* splitmix64 finalizer */
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

void *emu_map_get(const struct emu_map *m, const char *key)
{
    return emu_map_get_h(m, key, emu_hash(key, strlen(key)));
}

void *emu_map_get_h(const struct emu_map *m, const char *key, uint64_t h)
{
    size_t i = 0;

    if (m->cap == 0)
        return NULL;
    for (i = h & (m->cap - 1); m->v[i].key; i = (i + 1) & (m->cap - 1)) {
        if (m->v[i].hash == h && strcmp(m->v[i].key, key) == 0)
            return m->v[i].val;
    }
    return NULL;
}

static void map_insert_raw(struct emu_map_ent *v, size_t cap, uint64_t h,
                           const char *key, void *val)
{
    size_t i = h & (cap - 1);

    while (v[i].key)
        i = (i + 1) & (cap - 1);
    v[i].hash = h;
    v[i].key = key;
    v[i].val = val;
}

/* Big tables (the device map of a benchmark world: 50 MB) come from mmap
 * with transparent huge pages requested, because a lookup there is one
 * cache and TLB miss and the huge pages halve its cost. Zeroed either way. */
#define MAP_MMAP_BYTES ((size_t)4 << 20)

/* huge: ask for transparent huge pages. The device map wants them (a
 * lookup is one random access in 50 MB: measured 0.114 -> 0.105 ms per
 * 200-device Create); the slab does not (it is written in order, and 170
 * MB of huge pages made the kernel compact memory on faults: 0.10 -> 0.16
 * ms on a machine that had run for a while). */
static void *big_alloc(size_t bytes, int huge)
{
    void *p = NULL;

    if (bytes < MAP_MMAP_BYTES)
        return calloc(1, bytes);
    p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
#ifdef MADV_HUGEPAGE
    if (huge)
        (void)madvise(p, bytes, MADV_HUGEPAGE); /* a hint; failure is fine */
#endif
    return p;
}

static void *table_alloc(size_t bytes)
{
    return big_alloc(bytes, 1);
}

static void table_free(void *p, size_t bytes)
{
    if (p == NULL)
        return;
    if (bytes < MAP_MMAP_BYTES)
        free(p);
    else
        munmap(p, bytes);
}

/* Rehashes into a table of cap slots (a power of two). */
static int map_rehash(struct emu_map *m, size_t cap)
{
    struct emu_map_ent *v = table_alloc(cap * sizeof(*v));
    size_t i = 0;

    if (v == NULL)
        return ORCH_ENOMEM;
    for (i = 0; i < m->cap; i++) {
        if (m->v[i].key)
            map_insert_raw(v, cap, m->v[i].hash, m->v[i].key, m->v[i].val);
    }
    table_free(m->v, m->cap * sizeof(*v));
    m->v = v;
    m->cap = cap;
    return 0;
}

/* Load factor at most 1/2: linear probing stays short, and a miss (the
 * auto-create case) ends after a couple of slots. */
int emu_map_reserve(struct emu_map *m, size_t n)
{
    size_t cap = m->cap ? m->cap : 64;

    while (cap < 2 * n)
        cap *= 2;
    if (cap == m->cap)
        return 0;
    return map_rehash(m, cap);
}

int emu_map_put_h(struct emu_map *m, const char *key, uint64_t h, void *val)
{
    int rc = emu_map_reserve(m, m->n + 1);

    if (rc)
        return rc;
    map_insert_raw(m->v, m->cap, h, key, val);
    m->n++;
    return 0;
}

int emu_map_put(struct emu_map *m, const char *key, void *val)
{
    return emu_map_put_h(m, key, emu_hash(key, strlen(key)), val);
}

static void map_cleanup(struct emu_map *m)
{
    table_free(m->v, m->cap * sizeof(*m->v));
    memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------ slab */

#define SLAB_FIRST ((size_t)64 << 10)
#define SLAB_MAX ((size_t)32 << 20)
#define SLAB_ALIGN 16

void *emu_slab_alloc(struct emu_world *w, size_t bytes)
{
    struct emu_slab *sl = &w->slab;
    size_t hdr = (sizeof(struct emu_slab_chunk) + SLAB_ALIGN - 1)
               & ~(size_t)(SLAB_ALIGN - 1);
    size_t need = (bytes + SLAB_ALIGN - 1) & ~(size_t)(SLAB_ALIGN - 1);
    struct emu_slab_chunk *c = NULL;
    size_t size = 0;
    void *p = NULL;

    if (need < bytes || need > ((size_t)-1) / 2)
        return NULL;
    if (need > sl->left) {
        if (sl->next_size == 0)
            sl->next_size = SLAB_FIRST;
        size = sl->next_size;
        /* A big request (a task array of an ALL job over a large product)
         * gets a chunk of its own; the current chunk stays current. */
        if (need > size / 4)
            size = hdr + need;
        c = big_alloc(size, 0);
        if (c == NULL)
            return NULL;
        c->bytes = size;
        c->next = sl->chunks;
        sl->chunks = c;
        if (size == sl->next_size) {
            sl->cur = (char *)c + hdr;
            sl->left = size - hdr;
            if (sl->next_size < SLAB_MAX)
                sl->next_size *= 2;
        } else {
            return (char *)c + hdr;
        }
    }
    p = sl->cur;
    sl->cur += need;
    sl->left -= need;
    return p;
}

static void slab_cleanup(struct emu_slab *sl)
{
    struct emu_slab_chunk *c = sl->chunks;

    while (c) {
        struct emu_slab_chunk *next = c->next;

        table_free(c, c->bytes);
        c = next;
    }
    memset(sl, 0, sizeof(*sl));
}

/* Appends p to a pointer vector. */
static int vec_push(void ***v, size_t *n, size_t *cap, void *p)
{
    void **nv = NULL;
    size_t ncap = 0;

    if (*n == *cap) {
        ncap = *cap ? *cap * 2 : 8;
        nv = realloc(*v, ncap * sizeof(*nv));
        if (nv == NULL)
            return ORCH_ENOMEM;
        *v = nv;
        *cap = ncap;
    }
    (*v)[(*n)++] = p;
    return 0;
}

const char *emu_intern(struct emu_world *w, const char *s)
{
    char *copy = emu_map_get(&w->versions, s);

    if (copy)
        return copy;
    copy = strdup(s);
    if (copy == NULL)
        return NULL;
    if (emu_map_put(&w->versions, copy, copy)) {
        free(copy);
        return NULL;
    }
    return copy;
}

/* ------------------------------------------------------------- validation */

int emu_valid_device_name(const char *s)
{
    size_t n = strlen(s);
    size_t i = 0;

    if (n < 4 || n > EMU_MAX_NAME)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!isalnum(ch) && !strchr("-_@.:", ch))
            return 0;
    }
    return 1;
}

int emu_valid_alnum(const char *s, size_t max)
{
    size_t n = strlen(s);
    size_t i = 0;

    if (n == 0 || n > max)
        return 0;
    for (i = 0; i < n; i++) {
        if (!isalnum((unsigned char)s[i]))
            return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------- lookups */

struct emu_product *emu_product_find(struct emu_world *w, const char *pk,
                                     int create)
{
    struct emu_product *p = emu_map_get(&w->products, pk);

    if (p || !create)
        return p;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->key = strdup(pk);
    if (p->key == NULL || emu_map_put(&w->products, p->key, p)) {
        free(p->key);
        free(p);
        return NULL;
    }
    return p;
}

static struct emu_device *device_new(struct emu_world *w,
                                     struct emu_product *p, const char *name,
                                     const char *version, uint64_t hash)
{
    size_t pklen = strlen(p->key);
    size_t nlen = strlen(name);
    struct emu_device *d = NULL;

    /* From the slab: the benchmark auto-creates millions. A device that
     * fails below stays there, unused, until the world is freed. */
    d = emu_slab_alloc(w, sizeof(*d) + pklen + 1 + nlen + 1);
    if (d == NULL)
        return NULL;
    memcpy(d->key, p->key, pklen);
    d->key[pklen] = '/';
    memcpy(d->key + pklen + 1, name, nlen + 1);
    d->name = d->key + pklen + 1;
    /* hash 0: not computed by the caller. */
    d->hash = hash ? hash : emu_hash(d->key, pklen + 1 + nlen);
    d->prod = p;
    d->version = emu_intern(w, version);
    if (d->version == NULL)
        goto fail;
    if (vec_push((void ***)&p->devs, &p->ndevs, &p->capdevs, d))
        goto fail;
    if (emu_map_put_h(&w->devices, d->key, d->hash, d)) {
        p->ndevs--;
        goto fail;
    }
    return d;
fail:
    return NULL;
}

uint64_t emu_device_key(const struct emu_product *p, const char *name,
                        char key[EMU_KEY_MAX])
{
    return emu_device_key_pk(p->key, name, key);
}

uint64_t emu_device_key_pk(const char *pk, const char *name,
                           char key[EMU_KEY_MAX])
{
    size_t pklen = strlen(pk);
    size_t nlen = strlen(name);
    uint64_t h = 0;

    if (pklen > EMU_MAX_PK || nlen > EMU_MAX_NAME)
        return 0;
    memcpy(key, pk, pklen);
    key[pklen] = '/';
    memcpy(key + pklen + 1, name, nlen + 1);
    h = emu_hash(key, pklen + 1 + nlen);
    return h ? h : 1; /* 0 means "too long" */
}

struct emu_device *emu_device_find_key(struct emu_world *w,
                                       struct emu_product *p,
                                       const char *key, const char *name,
                                       uint64_t h, int create)
{
    struct emu_device *d = emu_map_get_h(&w->devices, key, h);

    if (d || !create)
        return d;
    return device_new(w, p, name, "1.0.0", h);
}

void emu_map_prefetch(const struct emu_map *m, uint64_t h)
{
    if (m->cap)
        __builtin_prefetch(&m->v[h & (m->cap - 1)]);
}

struct emu_device *emu_device_find(struct emu_world *w,
                                   struct emu_product *p, const char *name,
                                   int create)
{
    char key[EMU_KEY_MAX];
    uint64_t h = emu_device_key(p, name, key);

    if (h == 0)
        return NULL;
    return emu_device_find_key(w, p, key, name, h, create);
}

static struct emu_firmware *firmware_new(struct emu_world *w, const char *id)
{
    struct emu_firmware *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return NULL;
    f->id = strdup(id);
    f->status = 1;
    if (f->id == NULL || emu_map_put(&w->firmware, f->id, f)) {
        free(f->id);
        free(f);
        return NULL;
    }
    return f;
}

struct emu_firmware *emu_firmware_find(struct emu_world *w, const char *id,
                                       int create)
{
    struct emu_firmware *f = emu_map_get(&w->firmware, id);
    char name[64];

    if (f || !create)
        return f;
    f = firmware_new(w, id);
    if (f == NULL)
        return NULL;
    /* auto_create: a verified full package to 2.0.0, bound to the product
     * of the first Create that names it. */
    snprintf(name, sizeof(name), "fw-%.40s", id);
    f->name = strdup(name);
    f->dest_version = emu_intern(w, "2.0.0");
    return f;
}

struct emu_job *emu_job_find(struct emu_world *w, const char *id)
{
    return emu_map_get(&w->jobs_by_id, id);
}

int emu_job_register(struct emu_world *w, struct emu_job *job)
{
    int rc = 0;

    rc = vec_push((void ***)&w->jobs, &w->njobs, &w->capjobs, job);
    if (rc)
        return rc;
    rc = vec_push((void ***)&job->fw->jobs, &job->fw->njobs,
                  &job->fw->capjobs, job);
    if (rc) {
        w->njobs--;
        return rc;
    }
    rc = emu_map_put(&w->jobs_by_id, job->id, job);
    if (rc) {
        w->njobs--;
        job->fw->njobs--;
    }
    return rc;
}

void emu_job_free(struct emu_job *job)
{
    size_t i = 0;

    if (job == NULL)
        return;
    for (i = 0; i < job->ntags; i++) {
        free(job->tags[i].key);
        free(job->tags[i].value);
    }
    free(job->tags);
    free(job->src_versions);
    free(job); /* job->tasks is in the world's slab */
}

int emu_device_add_unfinished(struct emu_world *w, struct emu_device *dev)
{
    dev->unfinished++;
    if (dev->unfinished >= 2 && !dev->in_doubles) {
        if (vec_push((void ***)&w->doubles, &w->ndoubles, &w->capdoubles,
                     dev))
            return ORCH_ENOMEM;
        dev->in_doubles = 1;
    }
    return 0;
}

/* ------------------------------------------------------------ ids, times */

void emu_make_id(char out[EMU_ID_LEN + 1], uint64_t a, uint64_t b)
{
    static const char alnum[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    uint64_t x = emu_mix64(a ^ emu_mix64(b));
    uint64_t seqpart = b;
    int i = 0;

    /* 18 pseudo-random characters, then 8 that encode b in base 62 so
     * that ids of one world never collide. */
    for (i = 0; i < 18; i++) {
        if (i % 10 == 0)
            x = emu_mix64(x + (uint64_t)i);
        out[i] = alnum[x % 62];
        x /= 62;
    }
    for (i = EMU_ID_LEN - 1; i >= 18; i--) {
        out[i] = alnum[seqpart % 62];
        seqpart /= 62;
    }
    out[EMU_ID_LEN] = '\0';
}

void emu_task_id(const struct emu_task *t, char out[EMU_ID_LEN + 1])
{
    emu_make_id(out, t->job->seq * 0x100000001B3ULL + 7,
                (t->job->seq << 20) ^ t->index);
}

void emu_iot_id(const struct emu_device *d, char out[EMU_ID_LEN + 1])
{
    uint64_t h = emu_hash(d->key, strlen(d->key));

    emu_make_id(out, h, h >> 21);
}

void emu_utc(int64_t ms, char out[32])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char tmp[96];

    memset(&tm, 0, sizeof(tm));
    gmtime_r(&secs, &tm);
    /* tmp is large enough for any int fields; real dates need 24+1. */
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    memcpy(out, tmp, 31);
    out[31] = '\0';
}

json_t *emu_utc_json(int64_t ms)
{
    char buf[32];

    emu_utc(ms, buf);
    return json_string(buf);
}

/* ------------------------------------------------------------- responses */

static const char *const task_status_names[EMU_TASK_NSTATUS] = {
    "QUEUED", "NOTIFIED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "CANCELED"};

const char *emu_task_status_name(int st)
{
    if (st < 0 || st >= EMU_TASK_NSTATUS)
        return "UNKNOWN";
    return task_status_names[st];
}

const char *emu_job_status_name(int st)
{
    static const char *const names[] = {"PLANNED", "IN_PROGRESS",
                                        "COMPLETED", "CANCELED"};

    if (st < 0 || st > EMU_JOB_CANCELED)
        return "UNKNOWN";
    return names[st];
}

const char *emu_selection_name(enum emu_selection s)
{
    switch (s) {
    case EMU_SEL_ALL:
        return "ALL";
    case EMU_SEL_SPECIFIC:
        return "SPECIFIC";
    case EMU_SEL_GRAY:
        return "GRAY";
    }
    return "UNKNOWN";
}

int emu_fail(struct emu_result *r, const struct emu_call *c, const char *code,
             const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->http_status = 200;
    snprintf(r->code, sizeof(r->code), "%s", code);
    r->body = json_pack("{s:s, s:b, s:s, s:s}", "RequestId",
                        c->request_id ? c->request_id : "", "Success", 0,
                        "Code", code, "ErrorMessage", msg);
    return r->body ? 0 : ORCH_ENOMEM;
}

int emu_ok(struct emu_result *r, const struct emu_call *c, json_t *extra)
{
    json_t *body = json_pack("{s:s, s:b}", "RequestId",
                             c->request_id ? c->request_id : "", "Success",
                             1);

    if (body == NULL) {
        json_decref(extra);
        return ORCH_ENOMEM;
    }
    if (extra && json_object_update(body, extra)) {
        json_decref(extra);
        json_decref(body);
        return ORCH_ENOMEM;
    }
    json_decref(extra);
    r->http_status = 200;
    r->code[0] = '\0';
    r->body = body;
    return 0;
}

/* Gateway-shaped error (HTTP 4xx, Code/Message/HostId/Recommend). */
static int gateway_error(struct emu_result *r, const struct emu_call *c,
                         int status, const char *code, const char *msg)
{
    char rec[256];

    snprintf(rec, sizeof(rec),
             "https://api.aliyun.com/troubleshoot?q=%s&product=Iot"
             "&requestId=%s",
             code, c->request_id ? c->request_id : "");
    r->http_status = status;
    snprintf(r->code, sizeof(r->code), "%s", code);
    r->body = json_pack("{s:s, s:s, s:s, s:s, s:s}", "RequestId",
                        c->request_id ? c->request_id : "", "HostId",
                        EMU_HOST_ID, "Code", code, "Message", msg,
                        "Recommend", rec);
    return r->body ? 0 : ORCH_ENOMEM;
}

/* ------------------------------------------------------------- lifecycle */

struct emu_world *emu_world_new(const struct emu_world_opts *opts)
{
    struct emu_world *w = calloc(1, sizeof(*w));

    if (w == NULL)
        return NULL;
    if (opts) {
        w->opts = *opts;
    } else {
        w->opts.sim_speed = 2.0;
        w->opts.success_ratio = 1.0;
    }
    if (!(w->opts.sim_speed >= 0)) /* negative or NaN */
        w->opts.sim_speed = 2.0;
    if (!(w->opts.success_ratio >= 0 && w->opts.success_ratio <= 1))
        w->opts.success_ratio = 1.0;
    if (w->opts.instance_id && w->opts.instance_id[0]) {
        w->instance_id = strdup(w->opts.instance_id);
        if (w->instance_id == NULL) {
            free(w);
            return NULL;
        }
    }
    w->opts.instance_id = NULL; /* the world's copy is w->instance_id */
    /* A benchmark world grows to a million devices: size the device map
     * for that now, so that no Create pays for a rehash of it under the
     * lock (the pages are only touched as entries arrive). */
    if (w->opts.auto_create && emu_map_reserve(&w->devices, 1u << 20)) {
        free(w->instance_id);
        free(w);
        return NULL;
    }
    if (pthread_mutex_init(&w->lock, NULL)) {
        free(w->instance_id);
        free(w);
        return NULL;
    }
    return w;
}

void emu_world_free(struct emu_world *w)
{
    size_t i = 0;

    if (w == NULL)
        return;
    for (i = 0; i < w->njobs; i++)
        emu_job_free(w->jobs[i]);
    free(w->jobs);
    for (i = 0; i < w->products.cap; i++) {
        struct emu_product *p = w->products.v[i].val;
        if (w->products.v[i].key == NULL)
            continue;
        free(p->devs); /* the devices themselves are in the slab */
        free(p->key);
        free(p);
    }
    for (i = 0; i < w->firmware.cap; i++) {
        struct emu_firmware *f = w->firmware.v[i].val;
        if (w->firmware.v[i].key == NULL)
            continue;
        free(f->jobs);
        free(f->name);
        free(f->id);
        free(f);
    }
    for (i = 0; i < w->versions.cap; i++) {
        if (w->versions.v[i].key)
            free(w->versions.v[i].val);
    }
    map_cleanup(&w->products);
    map_cleanup(&w->devices);
    map_cleanup(&w->firmware);
    map_cleanup(&w->jobs_by_id);
    map_cleanup(&w->versions);
    free(w->doubles);
    free(w->instance_id);
    slab_cleanup(&w->slab);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

/* --------------------------------------------------------------- fixture */

static int load_products(struct emu_world *w, json_t *arr, const char *path,
                         struct orch_diag *diag)
{
    size_t i = 0;
    size_t j = 0;
    json_t *jp = NULL;
    json_t *jd = NULL;

    if (arr == NULL)
        return 0;
    if (!json_is_array(arr))
        return orch_diag_set(diag, ORCH_EINVAL, "%s: \"products\" is not an "
                             "array", path);
    json_array_foreach(arr, i, jp) {
        const char *pk = json_string_value(json_object_get(jp, "product_key"));
        json_t *devs = json_object_get(jp, "devices");
        struct emu_product *p = NULL;

        if (pk == NULL || !emu_valid_alnum(pk, EMU_MAX_PK))
            return orch_diag_set(diag, ORCH_EINVAL, "%s: products[%zu]: "
                                 "missing or invalid product_key", path, i);
        p = emu_product_find(w, pk, 1);
        if (p == NULL)
            return ORCH_ENOMEM;
        if (devs && !json_is_array(devs))
            return orch_diag_set(diag, ORCH_EINVAL, "%s: products[%zu]: "
                                 "\"devices\" is not an array", path, i);
        json_array_foreach(devs, j, jd) {
            const char *name = json_string_value(json_object_get(jd, "name"));
            const char *ver = json_string_value(json_object_get(jd,
                                                                "version"));
            struct emu_device *d = NULL;

            if (name == NULL || !emu_valid_device_name(name))
                return orch_diag_set(diag, ORCH_EINVAL, "%s: product %s: "
                                     "device %zu: missing or invalid name",
                                     path, pk, j);
            if (emu_device_find(w, p, name, 0))
                return orch_diag_set(diag, ORCH_EINVAL, "%s: product %s: "
                                     "device \"%s\" listed twice", path, pk,
                                     name);
            d = device_new(w, p, name, ver ? ver : "1.0.0", 0);
            if (d == NULL)
                return ORCH_ENOMEM;
            d->fail = json_is_true(json_object_get(jd, "fail"));
        }
    }
    return 0;
}

static int load_firmware(struct emu_world *w, json_t *arr, const char *path,
                         struct orch_diag *diag)
{
    size_t i = 0;
    json_t *jf = NULL;

    if (arr == NULL)
        return 0;
    if (!json_is_array(arr))
        return orch_diag_set(diag, ORCH_EINVAL, "%s: \"firmware\" is not an "
                             "array", path);
    json_array_foreach(arr, i, jf) {
        const char *id = json_string_value(json_object_get(jf, "id"));
        const char *pk = json_string_value(json_object_get(jf, "product_key"));
        const char *dest = json_string_value(json_object_get(jf,
                                                             "dest_version"));
        const char *src = json_string_value(json_object_get(jf,
                                                            "src_version"));
        const char *name = json_string_value(json_object_get(jf, "name"));
        json_t *st = json_object_get(jf, "status");
        json_t *ty = json_object_get(jf, "type");
        struct emu_firmware *f = NULL;

        if (id == NULL || !emu_valid_alnum(id, 64) || pk == NULL ||
            dest == NULL)
            return orch_diag_set(diag, ORCH_EINVAL, "%s: firmware[%zu]: id "
                                 "(alphanumeric), product_key and "
                                 "dest_version are required", path, i);
        if (emu_map_get(&w->firmware, id))
            return orch_diag_set(diag, ORCH_EINVAL, "%s: firmware \"%s\" "
                                 "listed twice", path, id);
        if (st && (!json_is_integer(st) || json_integer_value(st) < -1 ||
                   json_integer_value(st) > 3))
            return orch_diag_set(diag, ORCH_EINVAL, "%s: firmware \"%s\": "
                                 "status must be -1..3", path, id);
        f = firmware_new(w, id);
        if (f == NULL)
            return ORCH_ENOMEM;
        f->prod = emu_product_find(w, pk, 1);
        f->dest_version = emu_intern(w, dest);
        f->src_version = src ? emu_intern(w, src) : NULL;
        f->status = st ? (int)json_integer_value(st) : 1;
        f->type = json_is_integer(ty) ? (int)json_integer_value(ty)
                                      : (src ? 1 : 0);
        f->name = strdup(name ? name : id);
        if (f->prod == NULL || f->dest_version == NULL || f->name == NULL ||
            (src && f->src_version == NULL))
            return ORCH_ENOMEM;
    }
    return 0;
}

int emu_world_load_fixture(struct emu_world *w, const char *path,
                           struct orch_diag *diag)
{
    json_error_t jerr;
    json_t *root = NULL;
    const char *inst = NULL;
    int rc = 0;

    root = json_load_file(path, 0, &jerr);
    if (root == NULL) {
        if (jerr.line <= 0 && jerr.position == 0)
            return orch_diag_set(diag, ORCH_EIO, "%s: %s", path, jerr.text);
        return orch_diag_set(diag, ORCH_EINVAL, "%s:%d: %s", path, jerr.line,
                             jerr.text);
    }
    if (!json_is_object(root)) {
        rc = orch_diag_set(diag, ORCH_EINVAL, "%s: not a JSON object", path);
        goto out;
    }
    pthread_mutex_lock(&w->lock);
    inst = json_string_value(json_object_get(root, "instance_id"));
    /* An instance id given in the options wins over the fixture's. */
    if (inst && inst[0] && w->instance_id == NULL) {
        w->instance_id = strdup(inst);
        if (w->instance_id == NULL)
            rc = ORCH_ENOMEM;
    }
    if (rc == 0)
        rc = load_products(w, json_object_get(root, "products"), path, diag);
    if (rc == 0)
        rc = load_firmware(w, json_object_get(root, "firmware"), path, diag);
    pthread_mutex_unlock(&w->lock);
    if (rc == ORCH_ENOMEM)
        orch_diag_set(diag, rc, "%s: out of memory", path);
out:
    json_decref(root);
    return rc;
}

/* ------------------------------------------------------------ dispatching */

typedef int (*op_fn)(struct emu_world *, const struct emu_call *,
                     struct emu_result *);

static const struct {
    const char *action;
    op_fn fn;
} ops[] = {
    {"CreateOTAStaticUpgradeJob", NULL}, /* emu_op_create */
    {"QueryOTAJob", emu_op_query_job},
    {"ListOTAJobByFirmware", emu_op_list_job_by_firmware},
    {"ListOTATaskByJob", emu_op_list_task_by_job},
    {"ListOTAJobByDevice", emu_op_list_job_by_device},
    {"CancelOTATaskByJob", emu_op_cancel_task_by_job},
    {"QueryOTAFirmware", emu_op_query_firmware},
    {"BatchQueryDeviceDetail", emu_op_batch_query_device},
    {"QueryDeviceDetail", emu_op_query_device},
};

static int job_devices(const struct emu_job *job, struct emu_result *r)
{
    size_t i = 0;

    r->devices = json_array();
    if (r->devices == NULL)
        return ORCH_ENOMEM;
    for (i = 0; i < job->ntasks; i++) {
        if (json_array_append_new(r->devices,
                                  json_string(job->tasks[i].dev->name)))
            return ORCH_ENOMEM;
    }
    return 0;
}

int emu_world_call(struct emu_world *w, const struct emu_call *c,
                   struct emu_result *r)
{
    struct emu_job *job = NULL;
    char msg[256];
    size_t i = 0;
    int rc = 0;

    memset(r, 0, sizeof(*r));
    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (c->action && strcmp(c->action, ops[i].action) == 0)
            break;
    }
    if (i == sizeof(ops) / sizeof(ops[0])) {
        snprintf(msg, sizeof(msg),
                 "Specified api is not found, please check your url and "
                 "method. (Action: %.100s)", c->action ? c->action : "");
        return gateway_error(r, c, 404, "InvalidAction.NotFound", msg);
    }
    pthread_mutex_lock(&w->lock);
    if (ops[i].fn)
        rc = ops[i].fn(w, c, r);
    else
        rc = emu_op_create(w, c, r, &job);
    pthread_mutex_unlock(&w->lock);
    /* The device list of a new job is built outside the lock: its tasks
     * and their devices' names never change. */
    if (rc == 0 && job && !c->skip_devices)
        rc = job_devices(job, r);
    if (rc) {
        emu_result_cleanup(r);
        memset(r, 0, sizeof(*r));
    }
    return rc;
}

void emu_result_cleanup(struct emu_result *r)
{
    if (r == NULL)
        return;
    json_decref(r->body);
    json_decref(r->devices);
    r->body = NULL;
    r->devices = NULL;
}

/* ---------------------------------------------------------- stats, dumps */

json_t *emu_world_stats(struct emu_world *w, int64_t now_ms)
{
    uint64_t counts[EMU_TASK_NSTATUS] = {0};
    uint64_t assigned = 0;
    json_t *tasks = NULL;
    json_t *dbl = NULL;
    json_t *out = NULL;
    size_t i = 0;
    size_t j = 0;
    int s = 0;

    tasks = json_object();
    dbl = json_array();
    if (tasks == NULL || dbl == NULL)
        goto fail;
    pthread_mutex_lock(&w->lock);
    /* The per-status counts need every task's current state: O(tasks), the
     * one call that scans the world. */
    for (i = 0; i < w->njobs; i++) {
        struct emu_job *job = w->jobs[i];
        emu_sim_job_update(w, job, now_ms);
        for (j = 0; j < job->ntasks; j++)
            counts[job->tasks[j].status]++;
        assigned += job->ntasks;
    }
    /* double_assigned: only devices that ever reached two unfinished tasks
     * are candidates (w->doubles); check whether they still are. */
    for (i = 0; i < w->ndoubles; i++) {
        struct emu_device *d = w->doubles[i];
        if (d->unfinished >= 2 && json_array_append_new(dbl,
                                                        json_string(d->key)))
            goto fail_locked;
    }
    for (s = 0; s < EMU_TASK_NSTATUS; s++) {
        if (json_object_set_new(tasks, task_status_names[s],
                                json_integer((json_int_t)counts[s])))
            goto fail_locked;
    }
    out = json_pack("{s:I, s:I, s:O, s:O}", "jobs", (json_int_t)w->njobs,
                    "devices_assigned", (json_int_t)assigned, "tasks", tasks,
                    "double_assigned", dbl);
fail_locked:
    pthread_mutex_unlock(&w->lock);
fail:
    json_decref(tasks);
    json_decref(dbl);
    return out;
}

static json_t *dump_job(struct emu_world *w, struct emu_job *job,
                        int64_t now_ms)
{
    json_t *o = NULL;
    json_t *devs = json_array();
    json_t *st = json_object();
    char utc[32];
    size_t i = 0;

    if (devs == NULL || st == NULL)
        goto out;
    emu_sim_job_update(w, job, now_ms);
    for (i = 0; i < job->ntasks; i++) {
        struct emu_task *t = &job->tasks[i];
        if (json_array_append_new(devs, json_string(t->dev->name)) ||
            json_object_set_new(st, t->dev->name,
                                json_string(emu_task_status_name(t->status))))
            goto out;
    }
    emu_utc(job->created_ms, utc);
    o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:O, s:O}", "JobId",
                  job->id, "ProductKey", job->prod->key, "FirmwareId",
                  job->fw->id, "UtcCreate", utc, "ScheduleTime",
                  job->schedule_ms ? json_integer(job->schedule_ms)
                                   : json_null(),
                  "JobStatus",
                  emu_job_status_name(emu_sim_job_status(w, job, now_ms)),
                  "Devices", devs, "Tasks", st);
out:
    json_decref(devs);
    json_decref(st);
    return o;
}

json_t *emu_world_dump_jobs(struct emu_world *w, int64_t now_ms)
{
    json_t *arr = json_array();
    size_t i = 0;

    if (arr == NULL)
        return NULL;
    pthread_mutex_lock(&w->lock);
    for (i = 0; i < w->njobs; i++) {
        if (json_array_append_new(arr, dump_job(w, w->jobs[i], now_ms))) {
            json_decref(arr);
            arr = NULL;
            break;
        }
    }
    pthread_mutex_unlock(&w->lock);
    return arr;
}
