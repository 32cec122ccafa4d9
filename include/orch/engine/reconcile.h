/* reconcile.h - what to ask the API about an item whose Create outcome is
 * unknown, and what each answer means.
 *
 * DESIGN: the decisions of reconciliation (dispatch.h says when it runs),
 * as pure functions over a small per-item state (struct orch_reconcile)
 * and the item's Create parameters `cp` (as built for the call whose
 * outcome is unknown: FirmwareId, ProductKey, IotInstanceId, the devices
 * TargetDeviceName.1..N and the job tag Tag.1.Key/Tag.1.Value). No I/O,
 * no clock, no libcurl: the caller (dispatch.c) sends the query the state
 * names, under the query limiter, decodes its answer, hands it here, and
 * acts on the verdict: the next query, the same one after a backoff, the
 * item created by a found job, the item sent again, or failed Ambiguous.
 *
 * Steps, each one query:
 *   JOBS_BY_DEVICE   ListOTAJobByDevice (FirmwareId, ProductKey, probe
 *                    device `probe`, page `page`). Probe devices are the
 *                    first, the middle and the last of the item's (an
 *                    earlier one's duplicates skipped): a device already on
 *                    the destination version gets no task, so one device
 *                    can show nothing. At most ORCH_RECONCILE_MAX_PAGES
 *                    pages (of the answer's PageCount) per probe device.
 *   TASKS_BY_JOB     ListOTATaskByJob (JobId `job_id`, DeviceNames.N: up
 *                    to ORCH_RECONCILE_TASKS_MAX_NAMES of the item's
 *                    devices, spread evenly over them).
 *   JOBS_BY_FIRMWARE ListOTAJobByFirmware (FirmwareId, page `page`), for a
 *                    whole-product call (--target ALL/GRAY) that names no
 *                    devices; at most ORCH_RECONCILE_FIRMWARE_MAX_PAGES.
 * A candidate is a job created at or after the item's first attempt
 * (`since_ms`) less ORCH_RECONCILE_SINCE_MARGIN_MS of clock skew; a job
 * whose creation time cannot be read, or any job when since_ms <= 0, is
 * a candidate too (the tag or the task check still has to match).
 *
 * Verdicts of a JOBS_BY_DEVICE answer: with a tag, the candidate carrying
 * it is ours (FOUND); none: the next page, else the next probe device,
 * else NOT_FOUND. Without a tag, each candidate in turn goes to
 * TASKS_BY_JOB, which confirms it (FOUND) when the job has at least one
 * task, every one of them for one of the devices asked about and none
 * naming another job; otherwise the next candidate, and after the last
 * the next page or probe as above. A JOBS_BY_FIRMWARE answer: the
 * candidate carrying the tag is FOUND; every page seen without it:
 * NOT_FOUND (without a PageCount, a full page may have a next one); more
 * pages than asked for: UNDECIDABLE, never NOT_FOUND. A call naming no
 * devices and carrying no tag cannot be told from the firmware's other
 * jobs: UNDECIDABLE at once. A query that fails transiently is asked
 * again (ASK_AGAIN), until ORCH_RECONCILE_MAX_FAILS fail in a row:
 * UNDECIDABLE. A query refused for good (FAILED, FATAL) is UNDECIDABLE,
 * except ListOTAJobByDevice's iot.device.NotExistedDevice: that device
 * holds no job, the next probe.
 *
 * A call that can return UNDECIDABLE writes the reason, for messages,
 * into the caller's `detail` buffer (detail_cap bytes, truncated to fit);
 * with any other verdict it leaves the buffer alone.
 *
 * Ownership: the state holds a reference to the last job list (`jobs`,
 * while candidates are confirmed one by one) and nothing else; a final
 * verdict (FOUND, NOT_FOUND, UNDECIDABLE) drops it, and
 * orch_reconcile_cleanup() does at any time. The state borrows nothing:
 * `cp` and the answers are passed to each call. Not thread-safe (one
 * state per item, one thread).
 */
#ifndef ORCH_RECONCILE_H
#define ORCH_RECONCILE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "orch/engine/retry.h"

struct orch_params;
struct orch_response;

#define ORCH_RECONCILE_SINCE_MARGIN_MS (5 * 60 * 1000) /* clock skew */
#define ORCH_RECONCILE_MAX_FAILS 8 /* query failures in a row */
#define ORCH_RECONCILE_PROBES 3    /* devices asked: first, middle, last */
#define ORCH_RECONCILE_MAX_PAGES 5 /* ListOTAJobByDevice pages per device */
#define ORCH_RECONCILE_JOBS_PAGE_SIZE 100 /* ListOTAJobByDevice's maximum */
#define ORCH_RECONCILE_TASKS_MAX_NAMES 50 /* ListOTATaskByJob DeviceNames.N */
#define ORCH_RECONCILE_FIRMWARE_PAGE_SIZE 200 /* ListOTAJobByFirmware max */
/* ListOTAJobByFirmware pages asked for one whole-product call: 10,000
 * jobs. Far more than ORCH_RECONCILE_MAX_PAGES, because the list holds
 * every job of the firmware, not one device's: a chunked rollout of 10^6
 * devices leaves 5,000 of them. There is one such call per run, and 50
 * pages take 5 s at the query quota. */
#define ORCH_RECONCILE_FIRMWARE_MAX_PAGES 50

/* The query a state asks next. */
enum orch_reconcile_step {
    ORCH_RECONCILE_JOBS_BY_DEVICE = 0,
    ORCH_RECONCILE_TASKS_BY_JOB,
    ORCH_RECONCILE_JOBS_BY_FIRMWARE
};

enum orch_reconcile_verdict {
    ORCH_RECONCILE_ASK = 0,    /* ask the query the state now names, at
                                  once */
    ORCH_RECONCILE_ASK_AGAIN,  /* the query failed (`fails` in a row): ask
                                  it again after a backoff */
    ORCH_RECONCILE_FOUND,      /* job_id/utc_create: the item's job */
    ORCH_RECONCILE_NOT_FOUND,  /* no job of the item's: safe to resend */
    ORCH_RECONCILE_UNDECIDABLE /* cannot tell (detail says why): never
                                  resend */
};

/* Reconciliation state of one item. Caller-owned; the fields are for
 * reading (messages, tests); only the calls below change them. */
struct orch_reconcile {
    enum orch_reconcile_step step;
    unsigned probe;   /* index into the probe devices, from 0 */
    unsigned page;    /* ListOTAJobBy* page, from 1 */
    unsigned fails;   /* query failures in a row */
    int64_t since_ms; /* wall time of the item's first attempt, or <= 0 */
    json_t *jobs;     /* the last job list (a reference), for candidates */
    size_t cand;      /* next candidate index in `jobs` */
    char job_id[128]; /* candidate being confirmed, or the found job */
    char utc_create[64];
};

/* An empty state (no reference held). */
void orch_reconcile_init(struct orch_reconcile *rc);
/* Drops the job list reference; the state stays usable. NULL-safe. */
void orch_reconcile_cleanup(struct orch_reconcile *rc);

/* Starts reconciling the item whose Create parameters are cp, first
 * attempted at wall time since_ms (<= 0: unknown). Resets *rc (dropping
 * any earlier reference). Returns ORCH_RECONCILE_ASK (its first query:
 * ListOTAJobByDevice, or ListOTAJobByFirmware when cp names no devices)
 * or ORCH_RECONCILE_UNDECIDABLE with the reason in detail (cp names no
 * devices and carries no job tag). */
enum orch_reconcile_verdict orch_reconcile_begin(struct orch_reconcile *rc,
                                                 const struct orch_params *cp,
                                                 int64_t since_ms, char *detail,
                                                 size_t detail_cap);

/* The API action of the query the state names (static string). */
const char *orch_reconcile_action(const struct orch_reconcile *rc);

/* Appends the action parameters of the query the state names to out (an
 * initialised list; request.c adds the common ones). Returns 0,
 * ORCH_EINVAL (no probe device left: a state no verdict leaves), or
 * ORCH_ENOMEM. */
int orch_reconcile_query(const struct orch_reconcile *rc,
                         const struct orch_params *cp, struct orch_params *out);

/* A successful answer to the query the state names (resp decoded by
 * orch_api_decode; borrowed: the state keeps its own reference to the
 * JSON it needs). Resets the failure counter and returns ASK (the state
 * names the next query), FOUND, NOT_FOUND, or UNDECIDABLE with the reason
 * in detail. */
enum orch_reconcile_verdict
orch_reconcile_answer(struct orch_reconcile *rc, const struct orch_params *cp,
                      const struct orch_response *resp, char *detail,
                      size_t detail_cap);

/* The query failed: v is its orch_retry_classify() verdict (anything but
 * ORCH_VERDICT_CREATED), code its error code, why a description of the
 * failure for messages. Returns ASK_AGAIN (transient: RETRY, AMBIGUOUS,
 * RESEND_FORM), ASK or NOT_FOUND (ListOTAJobByDevice said the probe
 * device does not exist: the next probe), or UNDECIDABLE with the reason
 * in detail (refused for good, or the failures in a row reached
 * ORCH_RECONCILE_MAX_FAILS). A FATAL verdict is UNDECIDABLE here; stopping
 * the run is the caller's. */
enum orch_reconcile_verdict
orch_reconcile_failed(struct orch_reconcile *rc, const struct orch_params *cp,
                      enum orch_verdict v, const char *code, const char *why,
                      char *detail, size_t detail_cap);

#endif
