/* waveplan.c - each wave's products, devices and jobs (waveplan.h). */
#include "orch/rollout/waveplan.h"

#include "orch/base/jsonout.h"
#include "orch/model/inventory.h"
#include "orch/model/plan.h"
#include "orch/model/waves.h"

#include <inttypes.h>

/* Devices and chunks of product p in wave w. */
static void product_in_wave(const struct orch_plan *plan,
                            const struct orch_wave *w, uint32_t p,
                            uint64_t *devices, size_t *jobs)
{
    size_t i = 0;

    *devices = 0;
    *jobs = 0;
    for (i = w->first; i < w->end && i < plan->nchunks; i++) {
        if (plan->chunks[i].product == p) {
            *devices += plan->chunks[i].count;
            (*jobs)++;
        }
    }
}

const char *orch_waveplan_name(const struct orch_plan *plan,
                               const struct orch_wave *w)
{
    uint32_t k = 0;

    if (plan->wave_names == NULL || w->first >= plan->nchunks)
        return NULL;
    k = plan->chunks[w->first].wave;
    return k < plan->nwaves ? plan->wave_names[k] : NULL;
}

void orch_waveplan_print(FILE *fp, const struct orch_plan *plan,
                         const struct orch_wave_plan *wp)
{
    size_t k = 0;
    uint32_t p = 0;

    fprintf(fp, "waves by product:\n");
    for (k = 0; k < wp->n; k++) {
        const struct orch_wave *w = &wp->w[k];
        const char *name = orch_waveplan_name(plan, w);
        const char *sep = ": ";
        size_t njobs = w->end - w->first;

        fprintf(fp, "  wave %zu", k + 1);
        if (name)
            fprintf(fp, " \"%s\"", name);
        fprintf(fp, ": %" PRIu64 " device%s in %zu job%s", w->devices,
                w->devices == 1 ? "" : "s", njobs, njobs == 1 ? "" : "s");
        for (p = 0; p < plan->inv->nproducts; p++) {
            uint64_t devices = 0;
            size_t jobs = 0;

            product_in_wave(plan, w, p, &devices, &jobs);
            if (devices == 0)
                continue;
            fprintf(fp, "%s%s %" PRIu64 " device%s (%zu job%s)", sep,
                    plan->inv->products[p], devices, devices == 1 ? "" : "s",
                    jobs, jobs == 1 ? "" : "s");
            sep = ", ";
        }
        fputc('\n', fp);
    }
}

static json_t *products_json(const struct orch_plan *plan,
                             const struct orch_wave *w)
{
    json_t *a = json_array();
    uint32_t p = 0;
    size_t i = 0;

    for (p = 0; a && p < plan->inv->nproducts; p++) {
        const char *fw = NULL;
        uint64_t devices = 0;
        size_t jobs = 0;
        int bad = 0;
        json_t *o = NULL;

        product_in_wave(plan, w, p, &devices, &jobs);
        if (devices == 0)
            continue;
        for (i = w->first; i < w->end && fw == NULL; i++)
            fw = plan->chunks[i].product == p ? plan->chunks[i].firmware_id
                                              : NULL;
        o = json_object();
        bad |= orch_jsonout_put(o, "product_key",
                                json_string(plan->inv->products[p]));
        bad |= orch_jsonout_put(o, "firmware_id",
                                orch_jsonout_str_or_null(fw));
        bad |= orch_jsonout_put(o, "devices", orch_jsonout_count(devices));
        bad |= orch_jsonout_put(o, "jobs", orch_jsonout_count(jobs));
        o = orch_jsonout_built(o, bad);
        if (o == NULL || json_array_append_new(a, o)) {
            json_decref(a);
            a = NULL;
        }
    }
    return a;
}

json_t *orch_waveplan_json(const struct orch_plan *plan,
                           const struct orch_wave_plan *wp)
{
    json_t *a = json_array();
    size_t k = 0;

    for (k = 0; a && k < wp->n; k++) {
        const struct orch_wave *w = &wp->w[k];
        json_t *o = json_object();
        int bad = 0;

        bad |= orch_jsonout_put(o, "wave", orch_jsonout_count(k + 1));
        bad |= orch_jsonout_put(
            o, "name", orch_jsonout_str_or_null(orch_waveplan_name(plan, w)));
        bad |= orch_jsonout_put(o, "first_chunk",
                                orch_jsonout_count(w->first + 1));
        bad |= orch_jsonout_put(o, "last_chunk", orch_jsonout_count(w->end));
        bad |= orch_jsonout_put(o, "devices", orch_jsonout_count(w->devices));
        bad |= orch_jsonout_put(o, "cumulative",
                                orch_jsonout_count(w->cumulative));
        bad |= orch_jsonout_put(o, "jobs",
                                orch_jsonout_count(w->end - w->first));
        bad |= orch_jsonout_put(o, "products", products_json(plan, w));
        o = orch_jsonout_built(o, bad);
        if (o == NULL || json_array_append_new(a, o)) {
            json_decref(a);
            a = NULL;
        }
    }
    return a;
}
