/* emu_world.c - ota-emulator's world: lifecycle, entity lookups and
 * creation, ids and times, name rules, stats and dumps.
 *
 * DESIGN: one mutex guards the whole world; emu_world_call() (ops/) takes
 * it for the duration of one operation. Entities are found through hash maps
 * (devices by "ProductKey/DeviceName", firmware and jobs by id), each
 * device points at its one unfinished task, and each firmware keeps its
 * jobs in a list, so a Create of 200 devices costs a few hundred hash
 * lookups whatever the size of the world. Device progress is simulated
 * lazily (emu_sim.c): a task's state is a function of time, materialized
 * only when something looks at it.
 */
#include "world/emu_world.h"

#include "world/emu_model.h"
#include "world/emu_sim.h"

#include "orch/base/err.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- storage */

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

struct emu_device *emu_device_new(struct emu_world *w,
                                     struct emu_product *p, const char *name,
                                     const char *version, uint64_t hash)
{
    size_t pklen = strlen(p->key);
    size_t nlen = strlen(name);
    struct emu_device *d = NULL;

    /* From the slab: the benchmark auto-creates millions. A device that
     * fails below stays there, unused, until the world is freed. */
    d = emu_slab_alloc(&w->slab, sizeof(*d) + pklen + 1 + nlen + 1);
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
    if (emu_vec_push((void ***)&p->devs, &p->ndevs, &p->capdevs, d))
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
    return emu_device_new(w, p, name, "1.0.0", h);
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

struct emu_firmware *emu_firmware_new(struct emu_world *w, const char *id)
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
    f = emu_firmware_new(w, id);
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

    rc = emu_vec_push((void ***)&w->jobs, &w->njobs, &w->capjobs, job);
    if (rc)
        return rc;
    rc = emu_vec_push((void ***)&job->fw->jobs, &job->fw->njobs,
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
        if (emu_vec_push((void ***)&w->doubles, &w->ndoubles, &w->capdoubles,
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

/* ------------------------------------------------------------------ names */

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
    emu_map_cleanup(&w->products);
    emu_map_cleanup(&w->devices);
    emu_map_cleanup(&w->firmware);
    emu_map_cleanup(&w->jobs_by_id);
    emu_map_cleanup(&w->versions);
    free(w->doubles);
    free(w->instance_id);
    emu_slab_cleanup(&w->slab);
    pthread_mutex_destroy(&w->lock);
    free(w);
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
    if (o && json_object_set_new(o, "ScheduleFinishTime",
                                 job->finish_ms ? json_integer(job->finish_ms)
                                                : json_null())) {
        json_decref(o);
        o = NULL;
    }
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
