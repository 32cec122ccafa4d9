/* emu_create.c - CreateOTAStaticUpgradeJob against the world.
 *
 * DESIGN: the request is read and checked first (emu_create_check.c);
 * then the product and firmware are found (or, in an auto_create world,
 * made), the devices selected, and only then is the job built: a
 * request refused at any step changes nothing. A device already in an
 * unfinished task gets a FAILED task ("device already in an upgrade
 * task"), unless OverwriteMode 2 may replace a task that has not started.
 */
#include "ops/emu_create.h"

#include "ops/emu_args.h"
#include "ops/emu_create_check.h"
#include "ops/emu_json.h"
#include "world/emu_reply.h"
#include "world/emu_sim.h"

#include "orch/base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char desc_busy[] = "device already in an upgrade task";
static const char desc_overwritten[] = "overwritten by a newer upgrade job";

/* What Create works on once its request is checked. */
struct create {
    struct emu_create_req *q;
    struct emu_create_checked k;
    struct emu_product *prod;
    struct emu_firmware *fw;
    struct emu_device **devs; /* the selected devices */
    size_t ndevs;
};

/* The product and the firmware, and whether that firmware may go to that
 * product. Returns 0, or 1 with *rc set (a refusal in r, or ORCH_ENOMEM
 * when an auto_create world could not make one). */
static int find_targets(struct emu_world *w, const struct emu_call *c,
                        struct emu_result *r, int *rc, struct create *cr)
{
    const struct emu_create_req *q = cr->q;
    const int autoc = w->opts.auto_create;
    struct emu_firmware *fw = NULL;

    cr->prod = emu_product_find(w, q->product_key, autoc);
    if (cr->prod == NULL) {
        *rc = autoc ? ORCH_ENOMEM
                    : emu_fail_unknown_product(r, c, q->product_key);
        return 1;
    }
    fw = cr->fw = emu_firmware_find(w, q->firmware_id, autoc);
    if (fw == NULL) {
        *rc = autoc ? ORCH_ENOMEM
                    : emu_fail_unknown_firmware(r, c, q->firmware_id);
        return 1;
    }
    if (fw->prod == NULL && autoc)
        fw->prod = cr->prod;
    if (fw->prod != cr->prod)
        return emu_reject(r, c, rc, "iot.ota.FirmwareAndProductKeyMismatch",
                          "Firmware %.80s does not belong to product %.80s.",
                          fw->id, cr->prod->key);
    if (fw->status != 1 && fw->status != -1)
        return emu_reject(r, c, rc, "iot.ota.FirmwareNotVerified",
                          "Firmware %.80s has not passed verification.",
                          fw->id);
    if (cr->k.sel != EMU_SEL_SPECIFIC && fw->type == 1 &&
        (q->nsrc != 1 || fw->src_version == NULL ||
         strcmp(q->src[0], fw->src_version) != 0))
        return emu_reject(r, c, rc, "iot.ota.InvalidSrcVersionList",
                          "SrcVersion must be the differential package's "
                          "SrcVersion %.64s.",
                          fw->src_version ? fw->src_version : "");
    return 0;
}

/* Whether device d (up to date) gets a task at all: devices on the
 * destination version are skipped, and a diff package only applies to
 * devices on its SrcVersion. */
static int device_eligible(const struct emu_firmware *fw,
                           const struct emu_device *d)
{
    if (strcmp(d->version, fw->dest_version) == 0)
        return 0;
    if (fw->type == 1 && fw->src_version &&
        strcmp(d->version, fw->src_version) != 0)
        return 0;
    return 1;
}

static int version_in(const char *v, const char *const *list, size_t n)
{
    size_t i = 0;

    for (i = 0; i < n; i++) {
        if (strcmp(v, list[i]) == 0)
            return 1;
    }
    return 0;
}

/* SPECIFIC: every named device must exist; the eligible ones are
 * selected. Returns 0, or 1 with *rc set. */
static int select_named(struct emu_world *w, const struct emu_call *c,
                        struct emu_result *r, int *rc, struct create *cr)
{
    const struct emu_create_req *q = cr->q;
    const int autoc = w->opts.auto_create;
    size_t i = 0;

    cr->devs = malloc(q->nnames * sizeof(*cr->devs));
    if (cr->devs == NULL) {
        *rc = ORCH_ENOMEM;
        return 1;
    }
    /* Three passes, each issuing its 200 independent memory accesses
     * together (hash and prefetch the slots; look up and prefetch
     * the active tasks; then use them): a world of a million devices
     * does not fit in cache, and this hides most of the latency. */
    for (i = 0; i < q->nnames; i++) /* keys: emu_create_check */
        emu_map_prefetch(&w->devices, q->hashes[i]);
    for (i = 0; i < q->nnames; i++) {
        struct emu_device *d = NULL;
        if (q->hashes[i])
            d = emu_device_find_key(w, cr->prod, q->keys[i], q->names[i],
                                    q->hashes[i], autoc);
        cr->devs[i] = d;
        if (d && d->active)
            __builtin_prefetch(d->active);
    }
    for (i = 0; i < q->nnames; i++) {
        struct emu_device *d = cr->devs[i];
        if (d == NULL) {
            *rc = autoc ? ORCH_ENOMEM
                        : emu_fail_unknown_device(r, c, q->names[i],
                                                  cr->prod->key);
            return 1;
        }
        emu_sim_device_update(w, d, c->now_ms);
        if (device_eligible(cr->fw, d))
            cr->devs[cr->ndevs++] = d;
    }
    return 0;
}

/* ALL and GRAY: the product's eligible devices on one of the source
 * versions; GRAY keeps the first GrayPercent of them. Returns 0, or 1
 * with *rc set. */
static int select_by_version(struct emu_world *w, const struct emu_call *c,
                             struct emu_result *r, int *rc,
                             struct create *cr)
{
    const struct emu_create_req *q = cr->q;
    const struct emu_product *prod = cr->prod;
    size_t i = 0;

    cr->devs = malloc((prod->ndevs ? prod->ndevs : 1) * sizeof(*cr->devs));
    if (cr->devs == NULL) {
        *rc = ORCH_ENOMEM;
        return 1;
    }
    for (i = 0; i < prod->ndevs; i++) {
        struct emu_device *d = prod->devs[i];
        emu_sim_device_update(w, d, c->now_ms);
        if (device_eligible(cr->fw, d) &&
            version_in(d->version, q->src, q->nsrc))
            cr->devs[cr->ndevs++] = d;
    }
    if (cr->k.sel != EMU_SEL_GRAY)
        return 0;
    /* Rounded down; at least one device. */
    cr->ndevs = (size_t)((uint64_t)cr->ndevs * (uint64_t)cr->k.gray_milli /
                         100000u);
    if (cr->ndevs == 0)
        return emu_reject(r, c, rc, "iot.ota.NoDeviceToUpgrade",
                          "GrayPercent %.20s selects no device.", q->gray);
    return 0;
}

/* The job's own copies of the source versions and tags. 0 or
 * ORCH_ENOMEM. */
static int copy_lists(struct emu_world *w, struct emu_job *job,
                      const struct create *cr)
{
    size_t i = 0;

    for (i = 0; i < cr->q->nsrc; i++) {
        job->src_versions[i] = emu_intern(w, cr->q->src[i]);
        if (job->src_versions[i] == NULL)
            return ORCH_ENOMEM;
        job->nsrc++;
    }
    for (i = 0; i < cr->k.ntags; i++) {
        job->tags[i].key = strdup(cr->q->tagkey[i]);
        job->tags[i].value = strdup(cr->q->tagval[i]);
        job->ntags++;
        if (job->tags[i].key == NULL || job->tags[i].value == NULL)
            return ORCH_ENOMEM;
    }
    return 0;
}

/* A new job (not registered, no tasks yet, room for ndevs) with its id
 * and settings, or NULL on ENOMEM. */
static struct emu_job *build_job(struct emu_world *w, const struct create *cr,
                                 int64_t now)
{
    const struct emu_create_checked *k = &cr->k;
    struct emu_job *job = calloc(1, sizeof(*job));

    if (job == NULL)
        return NULL;
    job->tasks = emu_slab_alloc(&w->slab, (cr->ndevs ? cr->ndevs : 1) *
                                              sizeof(*job->tasks));
    job->src_versions = calloc(cr->q->nsrc ? cr->q->nsrc : 1, sizeof(char *));
    job->tags = calloc(k->ntags ? k->ntags : 1, sizeof(*job->tags));
    if (job->tasks == NULL || job->src_versions == NULL ||
        job->tags == NULL || copy_lists(w, job, cr) != 0) {
        emu_job_free(job);
        return NULL;
    }
    job->seq = ++w->job_seq;
    emu_make_id(job->id, w->opts.seed ^ 0x4A4F42ULL, job->seq);
    job->prod = cr->prod;
    job->fw = cr->fw;
    job->selection = k->sel;
    if (cr->q->gray)
        snprintf(job->gray, sizeof(job->gray), "%s", cr->q->gray);
    job->created_ms = now;
    job->modified_ms = now;
    job->schedule_ms = k->schedule;
    job->start_ms = k->schedule ? k->schedule : now;
    job->finish_ms = k->finish;
    job->end_ms = now;
    job->retry_interval = (int)k->retry_interval;
    job->retry_count = (int)k->retry_count;
    job->timeout_min = (int)k->timeout;
    job->max_per_minute = (int)k->max_per_min;
    job->overwrite_mode = (int)k->overwrite;
    return job;
}

/* Builds the job's next task, for device d (up to date). 0 or
 * ORCH_ENOMEM. */
static int add_task(struct emu_world *w, struct emu_job *job,
                    struct emu_device *d, int64_t now)
{
    struct emu_task *t = &job->tasks[job->ntasks];
    struct emu_task *old = d->active;

    t->job = job;
    t->dev = d;
    t->index = (uint32_t)job->ntasks;
    t->src_version = d->version;
    t->modified_ms = now;
    t->dev_prev = d->last;
    d->last = t;
    job->ntasks++;
    w->tasks_total++;
    if (old && old->live) {
        /* OverwriteMode 2 replaces a pending task, never one in progress. */
        if (job->overwrite_mode == 2 && (old->status == EMU_TASK_QUEUED ||
                                         old->status == EMU_TASK_NOTIFIED)) {
            emu_sim_task_end(w, old, EMU_TASK_CANCELED, desc_overwritten,
                             now);
        } else {
            t->status = EMU_TASK_FAILED;
            t->desc = desc_busy;
            return 0;
        }
    }
    t->status = EMU_TASK_QUEUED;
    t->live = 1;
    emu_sim_task_init(w, t);
    d->active = t;
    job->nlive++;
    return emu_device_add_unfinished(w, d);
}

/* Gives a registered job its tasks and the bound of when they end. 0 or
 * ORCH_ENOMEM. */
static int start_tasks(struct emu_world *w, struct emu_job *job,
                       const struct create *cr, int64_t now)
{
    size_t i = 0;
    int rc = 0;

    for (i = 0; i < cr->ndevs; i++) {
        rc = add_task(w, job, cr->devs[i], now);
        if (rc)
            return rc;
    }
    job->done_ms = now;
    for (i = 0; i < job->ntasks; i++) {
        if (job->tasks[i].live) {
            int64_t end = emu_sim_task_end_ms(w, &job->tasks[i]);
            if (end > job->done_ms)
                job->done_ms = end;
        }
    }
    return 0;
}

/* {Data: {JobId, UtcCreate}}. */
static int answer_created(struct emu_result *r, const struct emu_call *c,
                          const struct emu_job *job)
{
    char utc[32];

    snprintf(r->job_id, sizeof(r->job_id), "%s", job->id);
    emu_utc(c->now_ms, utc);
    return emu_ok_with(r, c, json_pack("{s:{s:s, s:s}}", "Data", "JobId",
                                       job->id, "UtcCreate", utc));
}

int emu_op_create(struct emu_world *w, const struct emu_call *c,
                  struct emu_result *r, struct emu_job **created)
{
    struct create cr;
    struct emu_job *job = NULL;
    int rc = 0;

    *created = NULL;
    memset(&cr, 0, sizeof(cr));
    cr.q = malloc(sizeof(*cr.q));
    if (cr.q == NULL)
        return ORCH_ENOMEM;
    emu_create_scan(c, cr.q);
    if (emu_create_check(w, c, r, &rc, cr.q, &cr.k))
        goto out;
    if (find_targets(w, c, r, &rc, &cr))
        goto out;
    if (cr.k.sel == EMU_SEL_SPECIFIC ? select_named(w, c, r, &rc, &cr)
                                     : select_by_version(w, c, r, &rc, &cr))
        goto out;
    /* Nothing below refuses the request. */
    job = build_job(w, &cr, c->now_ms);
    if (job == NULL) {
        rc = ORCH_ENOMEM;
        goto out;
    }
    rc = emu_job_register(w, job);
    if (rc) {
        emu_job_free(job);
        rc = ORCH_ENOMEM;
        goto out;
    }
    /* Registered: from here the job belongs to the world. */
    rc = start_tasks(w, job, &cr, c->now_ms);
    if (rc == 0)
        rc = answer_created(r, c, job);
    if (rc == 0)
        *created = job;
out:
    free(cr.devs);
    free(cr.q);
    return rc;
}
