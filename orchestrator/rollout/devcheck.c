/* devcheck.c - the device check of the pre-flight (devcheck.h).
 *
 * DESIGN: as the firmware check (preflight.c): one idempotent
 * BatchQueryDeviceDetail item per 100 devices of one product, run by
 * orch_dispatch_run at the operation's quota; done() hands each answer to
 * the pure judge (orch_preflight_judge_devices), which the unit tests
 * drive with canned JSON. The caller's interrupt flag is followed from
 * the callbacks into the dispatcher's own stop flag, which a failed
 * reject writer sets too.
 */
#include "orch/rollout/devcheck.h"

#include "orch/base/err.h"
#include "orch/cloud/api.h"
#include "orch/cloud/params.h"
#include "orch/engine/dispatch.h"
#include "orch/model/config.h"
#include "orch/model/inventory.h"
#include "orch/model/plan.h"
#include "orch/rollout/preflight.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void orch_preflight_device_cost(const struct orch_plan *plan, size_t *calls,
                                double *secs)
{
    size_t p = 0, c = 0, n = 0;

    *calls = 0;
    *secs = 0;
    if (plan == NULL || plan->inv == NULL)
        return;
    for (p = 0; p < plan->inv->nproducts; p++) {
        size_t devices = 0;

        for (c = 0; c < plan->nchunks; c++) {
            if (plan->chunks[c].product == p)
                devices += plan->chunks[c].count;
        }
        n +=
            (devices + ORCH_PREFLIGHT_DEV_BATCH - 1) / ORCH_PREFLIGHT_DEV_BATCH;
    }
    *calls = n;
    *secs = (double)n / ORCH_PREFLIGHT_DEV_QPS;
}

static json_t *device_list(json_t *root)
{
    json_t *data = json_object_get(root, "Data");
    json_t *list = NULL;

    if (json_is_array(data))
        return data;
    list = json_object_get(data, "Data");
    if (json_is_array(list))
        return list;
    /* Some IoT list answers nest one level more (Data.DeviceInfo[]). */
    list = json_object_get(data, "DeviceInfo");
    return json_is_array(list) ? list : NULL;
}

/* Looks name up in the answer's list: true if there, with *version its
 * FirmwareVersion (NULL: none given). */
static bool find_device(json_t *list, const char *name, const char **version)
{
    size_t k = 0;
    json_t *e = NULL;

    *version = NULL;
    json_array_foreach(list, k, e)
    {
        const char *dn = json_string_value(json_object_get(e, "DeviceName"));

        if (dn && strcmp(dn, name) == 0) {
            *version = json_string_value(json_object_get(e, "FirmwareVersion"));
            return true;
        }
    }
    return false;
}

int orch_preflight_judge_devices(const struct orch_inventory *inv,
                                 const uint32_t *idx, size_t n, json_t *root,
                                 const char *dest_version,
                                 const struct orch_device_check_opts *opts,
                                 uint8_t *drop,
                                 struct orch_device_check_stats *st)
{
    json_t *list = device_list(root);
    size_t i = 0;
    char reason[128];

    for (i = 0; i < n; i++) {
        uint32_t d = idx[i];
        const char *name = orch_inventory_name(inv, d);
        const char *version = NULL;
        bool found = find_device(list, name, &version);

        st->checked++;
        if (!found) {
            snprintf(reason, sizeof(reason), "device does not exist");
            st->missing++;
        } else if (dest_version && version &&
                   strcmp(version, dest_version) == 0) {
            snprintf(reason, sizeof(reason), "already on version %.80s",
                     dest_version);
            st->up_to_date++;
        } else {
            continue;
        }
        drop[d] = 1;
        if (opts && opts->on_drop &&
            opts->on_drop(opts->ud, inv->dev[d].line, name, reason))
            return ORCH_EIO;
    }
    return 0;
}

/* One BatchQueryDeviceDetail call: devices plan->order[start, start+n)
 * of one product. */
struct dev_batch {
    size_t start;
    uint32_t n;
    uint32_t product;
    const char *dest; /* DestVersion of the product's firmware, or NULL */
};

struct dev_ctx {
    const struct orch_config *cfg;
    const struct orch_plan *plan;
    const struct orch_device_check_opts *opts;
    struct dev_batch *batches;
    size_t nbatches;
    uint8_t *drop;
    struct orch_device_check_stats *st;
    volatile sig_atomic_t stop; /* our own: on_drop failed, or interrupt */
    int err;
};

static int dev_build(void *ud, size_t item, struct orch_params *p)
{
    struct dev_ctx *ctx = ud;
    const struct dev_batch *b = &ctx->batches[item];
    const struct orch_inventory *inv = ctx->plan->inv;
    uint32_t j = 0;
    int rc = 0;

    rc = orch_params_add(p, "ProductKey", inv->products[b->product]);
    for (j = 0; rc == 0 && j < b->n; j++) {
        char name[32];

        snprintf(name, sizeof(name), "DeviceName.%u", (unsigned)j + 1);
        rc = orch_params_add(
            p, name, orch_inventory_name(inv, ctx->plan->order[b->start + j]));
    }
    if (rc == 0 && ctx->cfg->iot_instance_id)
        rc = orch_params_add(p, "IotInstanceId", ctx->cfg->iot_instance_id);
    return rc;
}

static void follow_interrupt(struct dev_ctx *ctx)
{
    if (ctx->opts && ctx->opts->interrupt && *ctx->opts->interrupt &&
        ctx->stop < 1)
        ctx->stop = 1;
}

static void dev_done(void *ud, size_t item, const struct orch_item_result *res)
{
    struct dev_ctx *ctx = ud;
    const struct dev_batch *b = &ctx->batches[item];
    int rc = 0;

    follow_interrupt(ctx);
    if (ctx->err == 0 && res->status == ORCH_ITEM_CREATED && res->resp &&
        res->resp->root) {
        rc = orch_preflight_judge_devices(
            ctx->plan->inv, ctx->plan->order + b->start, b->n, res->resp->root,
            b->dest, ctx->opts, ctx->drop, ctx->st);
        if (rc) {
            ctx->err = rc;
            ctx->stop = 1;
        }
        return;
    }
    ctx->st->unchecked += b->n;
    if (ctx->st->first_error[0] == '\0') {
        const char *code = res->error_code;
        const char *msg = res->error_message;

        if ((code == NULL || *code == '\0') && res->resp)
            code = res->resp->code;
        snprintf(ctx->st->first_error, sizeof(ctx->st->first_error),
                 "%.100s: %.140s",
                 code && *code ? code : orch_item_status_name(res->status),
                 msg ? msg : "");
    }
}

static void dev_progress(void *ud, size_t finished, size_t total)
{
    struct dev_ctx *ctx = ud;

    follow_interrupt(ctx);
    if (ctx->opts && ctx->opts->progress)
        ctx->opts->progress(ctx->opts->ud, finished, total);
}

/* Splits each product's run of plan->order into calls of at most 100. */
static int make_batches(struct dev_ctx *ctx,
                        const struct orch_preflight_result *fw,
                        struct orch_diag *diag)
{
    const struct orch_plan *plan = ctx->plan;
    size_t calls = 0, c = 0;
    double secs = 0;

    orch_preflight_device_cost(plan, &calls, &secs);
    ctx->batches = calloc(calls ? calls : 1, sizeof(*ctx->batches));
    if (ctx->batches == NULL)
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    c = 0;
    while (c < plan->nchunks) {
        uint32_t p = plan->chunks[c].product;
        size_t start = plan->chunks[c].first;
        size_t end = start;
        const char *dest =
            orch_preflight_dest_version(fw, plan->chunks[c].firmware_id);

        /* A product's chunks are consecutive, as is its run of order. */
        while (c < plan->nchunks && plan->chunks[c].product == p) {
            end = plan->chunks[c].first + plan->chunks[c].count;
            c++;
        }
        while (start < end && ctx->nbatches < calls) {
            struct dev_batch *b = &ctx->batches[ctx->nbatches++];
            size_t n = end - start;

            if (n > ORCH_PREFLIGHT_DEV_BATCH)
                n = ORCH_PREFLIGHT_DEV_BATCH;
            b->start = start;
            b->n = (uint32_t)n;
            b->product = p;
            b->dest = dest;
            start += n;
        }
    }
    return 0;
}

/* Runs the calls of ctx at the operation's quota; dev_done judges the
 * answers as they come. */
static int query_devices(const struct orch_config *cfg,
                         const struct orch_credentials *cred,
                         struct dev_ctx *ctx, struct orch_dispatch_stats *ds,
                         struct orch_diag *diag)
{
    struct orch_dispatch_ops ops;

    memset(&ops, 0, sizeof(ops));
    ops.action = "BatchQueryDeviceDetail";
    ops.nitems = ctx->nbatches;
    ops.build = dev_build;
    ops.done = dev_done;
    ops.progress = dev_progress;
    ops.ud = ctx;
    follow_interrupt(ctx);
    return orch_preflight_dispatch(cfg, cred, ORCH_PREFLIGHT_DEV_QPS, &ops,
                                   &ctx->stop, ds, diag);
}

int orch_preflight_devices(const struct orch_config *cfg,
                           const struct orch_credentials *cred,
                           const struct orch_plan *plan,
                           const struct orch_preflight_result *fw,
                           const struct orch_device_check_opts *opts,
                           uint8_t *drop, struct orch_device_check_stats *st,
                           struct orch_diag *diag)
{
    struct orch_dispatch_stats ds;
    struct dev_ctx ctx;
    int rc = 0;

    memset(st, 0, sizeof(*st));
    memset(&ctx, 0, sizeof(ctx));
    memset(&ds, 0, sizeof(ds));
    if (plan == NULL || plan->inv == NULL || drop == NULL)
        return orch_diag_set(diag, ORCH_EINVAL,
                             "device check: needs an inventory plan");
    ctx.cfg = cfg;
    ctx.plan = plan;
    ctx.opts = opts;
    ctx.drop = drop;
    ctx.st = st;
    rc = make_batches(&ctx, fw, diag);
    if (rc || ctx.nbatches == 0)
        goto out;
    rc = query_devices(cfg, cred, &ctx, &ds, diag);
    st->calls = ds.calls;
    if (rc)
        goto out;
    if (ctx.err) {
        rc = orch_diag_set(diag, ctx.err,
                           "device check: writing the rejects failed");
        goto out;
    }
    if (ds.aborted || ctx.stop)
        rc =
            orch_diag_set(diag, ORCH_EABORT, "device check stopped: %s",
                          ds.abort_reason[0] ? ds.abort_reason : "interrupted");
out:
    free(ctx.batches);
    return rc;
}
