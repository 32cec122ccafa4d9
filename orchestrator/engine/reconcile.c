/* reconcile.c - the decisions of reconciliation: the next query for an
 * item whose Create outcome is unknown, and what each answer means.
 *
 * DESIGN
 * Owns the decision logic only (reconcile.h states the steps and the
 * verdicts); dispatch.c owns everything around it: the xfer, the query
 * limiter and heap, signing and sending, the journal notes, finishing the
 * item. Every function here is pure over struct orch_reconcile, the
 * item's Create parameters and a decoded answer: no clock (the first
 * attempt's wall time is given to orch_reconcile_begin), no I/O, no
 * allocation but the query's parameters and a reference to the job list
 * that TASKS_BY_JOB confirms candidates from, one at a time.
 *
 * The state moves JOBS_BY_DEVICE -> (TASKS_BY_JOB -> ...) -> next page
 * or probe device, or JOBS_BY_FIRMWARE -> next page, until a final
 * verdict. A final verdict drops the job list reference, so a state that
 * reached one holds nothing.
 */
#include "orch/engine/reconcile.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "orch/cloud/api.h"
#include "orch/model/config.h"
#include "orch/base/err.h"
#include "orch/cloud/params.h"

#define ACTION_JOBS_BY_DEVICE "ListOTAJobByDevice"
#define ACTION_JOBS_BY_FIRMWARE "ListOTAJobByFirmware"
#define ACTION_TASKS_BY_JOB "ListOTATaskByJob"
#define DEVICE_PARAM "TargetDeviceName."
#define NOT_EXISTED_DEVICE "iot.device.NotExistedDevice"

void orch_reconcile_init(struct orch_reconcile *rc)
{
    memset(rc, 0, sizeof(*rc));
    rc->page = 1;
}

void orch_reconcile_cleanup(struct orch_reconcile *rc)
{
    if (rc == NULL)
        return;
    json_decref(rc->jobs);
    rc->jobs = NULL;
}

static size_t device_count(const struct orch_params *p)
{
    size_t n = 0;

    for (size_t i = 0; i < p->n; i++)
        if (strncmp(p->v[i].name, DEVICE_PARAM, sizeof(DEVICE_PARAM) - 1) == 0)
            n++;
    return n;
}

/* Device k (0-based) of the action's parameters, or NULL. */
static const char *device_at(const struct orch_params *p, size_t k)
{
    char name[48];

    snprintf(name, sizeof(name), DEVICE_PARAM "%zu", k + 1);
    return orch_params_get(p, name);
}

/* The index of probe device j (first, middle, last; duplicates of an
 * earlier probe skipped) among n devices; false when there is none. */
static bool probe_index(size_t n, unsigned j, size_t *out)
{
    size_t idx[ORCH_RECONCILE_PROBES];
    size_t m = 0;

    if (n == 0)
        return false;
    idx[m++] = 0;
    if (n / 2 != 0)
        idx[m++] = n / 2;
    if (n - 1 != n / 2 && n - 1 != 0)
        idx[m++] = n - 1;
    if (j >= m)
        return false;
    *out = idx[j];
    return true;
}

/* Up to ORCH_RECONCILE_TASKS_MAX_NAMES of the item's devices, spread
 * evenly over the chunk (a run of devices already up to date gets no
 * tasks). */
static size_t task_sample(const struct orch_params *cp,
                          const char *names[ORCH_RECONCILE_TASKS_MAX_NAMES])
{
    size_t n = device_count(cp);
    size_t max = ORCH_RECONCILE_TASKS_MAX_NAMES;
    size_t k = n < max ? n : max;
    size_t got = 0;

    for (size_t i = 0; i < k; i++) {
        const char *dev = device_at(cp, n <= max ? i : i * n / k);

        if (dev != NULL)
            names[got++] = dev;
    }
    return got;
}

/* The job tag the action's parameters carry, or NULL. */
static const char *job_tag(const struct orch_params *cp)
{
    const char *key = orch_params_get(cp, "Tag.1.Key");

    if (key == NULL || strcmp(key, ORCH_JOB_TAG_KEY) != 0)
        return NULL;
    return orch_params_get(cp, "Tag.1.Value");
}

/* Drops the job list: the verdict v is final. */
static enum orch_reconcile_verdict decided(struct orch_reconcile *rc,
                                           enum orch_reconcile_verdict v)
{
    orch_reconcile_cleanup(rc);
    return v;
}

enum orch_reconcile_verdict orch_reconcile_begin(struct orch_reconcile *rc,
                                                 const struct orch_params *cp,
                                                 int64_t since_ms, char *detail,
                                                 size_t detail_cap)
{
    orch_reconcile_cleanup(rc);
    orch_reconcile_init(rc);
    rc->since_ms = since_ms;
    if (device_count(cp) > 0)
        return ORCH_RECONCILE_ASK;
    /* A whole-product call (--target ALL/GRAY): only its tag can tell its
     * job from the firmware's other jobs. */
    if (job_tag(cp) == NULL) {
        snprintf(detail, detail_cap,
                 "the call names no devices to look up and carries no job "
                 "tag to recognise its job by");
        return ORCH_RECONCILE_UNDECIDABLE;
    }
    rc->step = ORCH_RECONCILE_JOBS_BY_FIRMWARE;
    return ORCH_RECONCILE_ASK;
}

const char *orch_reconcile_action(const struct orch_reconcile *rc)
{
    switch (rc->step) {
    case ORCH_RECONCILE_TASKS_BY_JOB:
        return ACTION_TASKS_BY_JOB;
    case ORCH_RECONCILE_JOBS_BY_FIRMWARE:
        return ACTION_JOBS_BY_FIRMWARE;
    case ORCH_RECONCILE_JOBS_BY_DEVICE:
    default:
        return ACTION_JOBS_BY_DEVICE;
    }
}

int orch_reconcile_query(const struct orch_reconcile *rc,
                         const struct orch_params *cp, struct orch_params *out)
{
    const char *iot = orch_params_get(cp, "IotInstanceId");
    const char *firmware = orch_params_get(cp, "FirmwareId");
    const char *names[ORCH_RECONCILE_TASKS_MAX_NAMES];
    size_t idx = 0;
    size_t n = 0;

    switch (rc->step) {
    case ORCH_RECONCILE_JOBS_BY_FIRMWARE:
        return orch_api_list_jobs_by_firmware_params(
            out, iot, firmware, ORCH_RECONCILE_FIRMWARE_PAGE_SIZE, rc->page);
    case ORCH_RECONCILE_TASKS_BY_JOB:
        n = task_sample(cp, names);
        return orch_api_list_tasks_by_job_params(out, iot, rc->job_id, names,
                                                 n);
    case ORCH_RECONCILE_JOBS_BY_DEVICE:
    default:
        if (!probe_index(device_count(cp), rc->probe, &idx))
            return ORCH_EINVAL;
        return orch_api_list_jobs_by_device_params(
            out, iot, firmware, orch_params_get(cp, "ProductKey"),
            device_at(cp, idx), ORCH_RECONCILE_JOBS_PAGE_SIZE, rc->page);
    }
}

static bool candidate_time_ok(const struct orch_reconcile *rc,
                              const struct orch_job_info *j)
{
    /* A job whose creation time we cannot read is not excluded: the tag
     * or the task check still has to match. */
    return j->utc_create_ms < 0 || rc->since_ms <= 0 ||
           j->utc_create_ms >= rc->since_ms - ORCH_RECONCILE_SINCE_MARGIN_MS;
}

static void adopt(struct orch_reconcile *rc, const struct orch_job_info *j)
{
    snprintf(rc->job_id, sizeof(rc->job_id), "%s", j->job_id);
    snprintf(rc->utc_create, sizeof(rc->utc_create), "%s", j->utc_create);
}

/* The current probe device (or page) showed nothing of ours: the next
 * page (of `pages`), else the next probe device, else not found. */
static enum orch_reconcile_verdict
next_page_or_probe(struct orch_reconcile *rc, const struct orch_params *cp,
                   unsigned pages)
{
    size_t idx = 0;

    rc->step = ORCH_RECONCILE_JOBS_BY_DEVICE;
    if (rc->page < pages && rc->page < ORCH_RECONCILE_MAX_PAGES) {
        rc->page++;
        return ORCH_RECONCILE_ASK;
    }
    rc->page = 1;
    rc->probe++;
    if (probe_index(device_count(cp), rc->probe, &idx))
        return ORCH_RECONCILE_ASK;
    return decided(rc, ORCH_RECONCILE_NOT_FOUND);
}

/* Looks for the next candidate in the kept job list from rc->cand on;
 * asks ListOTATaskByJob about it, or moves on. */
static enum orch_reconcile_verdict next_candidate(struct orch_reconcile *rc,
                                                  const struct orch_params *cp)
{
    struct orch_response list;
    struct orch_job_info j;
    size_t n = 0;
    unsigned pages = 0;

    orch_response_init(&list);
    list.root = rc->jobs; /* borrowed: not cleaned up here */
    n = orch_api_job_count(&list);
    pages = orch_api_page_count(&list);
    for (; rc->cand < n; rc->cand++) {
        if (orch_api_job_at(&list, rc->cand, &j) != 0 || j.job_id[0] == '\0' ||
            !candidate_time_ok(rc, &j))
            continue;
        adopt(rc, &j);
        rc->cand++;
        rc->step = ORCH_RECONCILE_TASKS_BY_JOB;
        return ORCH_RECONCILE_ASK;
    }
    return next_page_or_probe(rc, cp, pages);
}

/* Adopts the job of the answer's list that carries our tag value and is
 * a candidate; false if none does. */
static bool adopt_tagged(struct orch_reconcile *rc,
                         const struct orch_response *resp, const char *tag)
{
    struct orch_job_info j;
    size_t n = orch_api_job_count(resp);

    for (size_t i = 0; i < n; i++) {
        const char *v = NULL;

        if (orch_api_job_at(resp, i, &j) != 0 || !candidate_time_ok(rc, &j))
            continue;
        v = orch_api_job_tag(&j, ORCH_JOB_TAG_KEY);
        if (v != NULL && strcmp(v, tag) == 0 && j.job_id[0] != '\0') {
            adopt(rc, &j);
            return true;
        }
    }
    return false;
}

/* A ListOTAJobByDevice answer. */
static enum orch_reconcile_verdict on_jobs(struct orch_reconcile *rc,
                                           const struct orch_params *cp,
                                           const struct orch_response *resp)
{
    const char *tag = job_tag(cp);

    json_decref(rc->jobs);
    rc->jobs = json_incref(resp->root);
    rc->cand = 0;
    if (tag == NULL)
        return next_candidate(rc, cp);
    /* Tagged: the job carrying our tag is ours, whatever else holds the
     * device. */
    if (adopt_tagged(rc, resp, tag))
        return decided(rc, ORCH_RECONCILE_FOUND);
    return next_page_or_probe(rc, cp, orch_api_page_count(resp));
}

/* A ListOTAJobByFirmware answer, for a call that names no devices (it
 * always carries a tag: see orch_reconcile_begin). Ours: found. Every
 * page seen without it: not found. More pages than
 * ORCH_RECONCILE_FIRMWARE_MAX_PAGES: the rest could hold it, so
 * undecidable, never "not found". */
static enum orch_reconcile_verdict
on_firmware_jobs(struct orch_reconcile *rc, const struct orch_params *cp,
                 const struct orch_response *resp, char *detail,
                 size_t detail_cap)
{
    const char *tag = job_tag(cp);
    unsigned pages = orch_api_page_count(resp);
    bool more = false;

    if (tag != NULL && adopt_tagged(rc, resp, tag))
        return decided(rc, ORCH_RECONCILE_FOUND);
    /* Without a PageCount, a full page may have a next one. */
    more = pages > 0
               ? rc->page < pages
               : orch_api_job_count(resp) >= ORCH_RECONCILE_FIRMWARE_PAGE_SIZE;
    if (!more)
        return decided(rc, ORCH_RECONCILE_NOT_FOUND);
    if (rc->page >= ORCH_RECONCILE_FIRMWARE_MAX_PAGES) {
        snprintf(detail, detail_cap,
                 "the firmware's job list has more than %u pages; none of "
                 "the first %u holds a job tagged %.100s, the rest were not "
                 "searched",
                 (unsigned)ORCH_RECONCILE_FIRMWARE_MAX_PAGES,
                 (unsigned)ORCH_RECONCILE_FIRMWARE_MAX_PAGES,
                 tag != NULL ? tag : "");
        return decided(rc, ORCH_RECONCILE_UNDECIDABLE);
    }
    rc->page++;
    return ORCH_RECONCILE_ASK;
}

/* A ListOTATaskByJob answer for candidate rc->job_id: ours when it holds
 * at least one of the devices asked about and nothing else. */
static enum orch_reconcile_verdict on_tasks(struct orch_reconcile *rc,
                                            const struct orch_params *cp,
                                            const struct orch_response *resp)
{
    const char *names[ORCH_RECONCILE_TASKS_MAX_NAMES];
    size_t nnames = task_sample(cp, names);
    size_t n = orch_api_task_count(resp);
    size_t found = 0;
    bool foreign = false;

    for (size_t i = 0; i < n; i++) {
        struct orch_task_info t;
        bool ours = false;

        if (orch_api_task_at(resp, i, &t) != 0) {
            foreign = true;
            continue;
        }
        if (t.job_id[0] != '\0' && strcmp(t.job_id, rc->job_id) != 0)
            foreign = true;
        for (size_t k = 0; k < nnames && !ours; k++)
            ours = strcmp(t.device_name, names[k]) == 0;
        if (ours)
            found++;
        else
            foreign = true;
    }
    if (found > 0 && !foreign)
        return decided(rc, ORCH_RECONCILE_FOUND);
    rc->job_id[0] = '\0';
    rc->utc_create[0] = '\0';
    return next_candidate(rc, cp);
}

enum orch_reconcile_verdict
orch_reconcile_answer(struct orch_reconcile *rc, const struct orch_params *cp,
                      const struct orch_response *resp, char *detail,
                      size_t detail_cap)
{
    rc->fails = 0;
    switch (rc->step) {
    case ORCH_RECONCILE_JOBS_BY_FIRMWARE:
        return on_firmware_jobs(rc, cp, resp, detail, detail_cap);
    case ORCH_RECONCILE_TASKS_BY_JOB:
        return on_tasks(rc, cp, resp);
    case ORCH_RECONCILE_JOBS_BY_DEVICE:
    default:
        return on_jobs(rc, cp, resp);
    }
}

enum orch_reconcile_verdict
orch_reconcile_failed(struct orch_reconcile *rc, const struct orch_params *cp,
                      enum orch_verdict v, const char *code, const char *why,
                      char *detail, size_t detail_cap)
{
    switch (v) {
    case ORCH_VERDICT_FATAL:
        snprintf(detail, detail_cap, "%s", why);
        return decided(rc, ORCH_RECONCILE_UNDECIDABLE);
    case ORCH_VERDICT_FAILED:
        if (rc->step == ORCH_RECONCILE_JOBS_BY_DEVICE &&
            strcmp(code, NOT_EXISTED_DEVICE) == 0) {
            /* No such device: it holds no job. */
            orch_reconcile_cleanup(rc);
            return next_page_or_probe(rc, cp, 0);
        }
        /* Refused for good: asking again gives the same answer. */
        snprintf(detail, detail_cap, "%s", why);
        return decided(rc, ORCH_RECONCILE_UNDECIDABLE);
    case ORCH_VERDICT_CREATED: /* not a failure: a caller's mistake */
    case ORCH_VERDICT_RETRY:
    case ORCH_VERDICT_AMBIGUOUS: /* a query is safe to repeat */
    case ORCH_VERDICT_RESEND_FORM:
    default:
        if (++rc->fails >= ORCH_RECONCILE_MAX_FAILS) {
            snprintf(detail, detail_cap, "%u queries in a row failed, last %s",
                     rc->fails, why);
            return decided(rc, ORCH_RECONCILE_UNDECIDABLE);
        }
        return ORCH_RECONCILE_ASK_AGAIN;
    }
}
