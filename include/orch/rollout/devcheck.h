/* devcheck.h - the opt-in device check of the pre-flight
 * (--check-devices): BatchQueryDeviceDetail, 100 devices of one product
 * per call, 5 calls/s, after the firmware check (preflight.h).
 *
 * A device missing from the answer does not exist; a device whose
 * FirmwareVersion equals its firmware's DestVersion is already upgraded.
 * Both are marked in a caller's byte map and handed to a reject callback;
 * orch_plan_build_filtered() then leaves them out. A call that fails keeps
 * its devices.
 *
 * The run function calls the API through orch_dispatch_run (idempotent
 * queries: unknown outcomes are simply retried). Nothing here prints.
 * Not thread-safe.
 */
#ifndef ORCH_DEVCHECK_H
#define ORCH_DEVCHECK_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "orch/model/inventory.h" /* orch_reject_fn */

struct orch_config;
struct orch_credentials;
struct orch_diag;
struct orch_plan;
struct orch_preflight_result;

#define ORCH_PREFLIGHT_DEV_QPS 5.0   /* BatchQueryDeviceDetail quota */
#define ORCH_PREFLIGHT_DEV_BATCH 100 /* DeviceName.N per call */

/* Calls (ceil(devices / 100) per product) and seconds (calls / 5) the
 * device check of `plan` costs: for the plan summary. */
void orch_preflight_device_cost(const struct orch_plan *plan, size_t *calls,
                                double *secs);

struct orch_device_check_opts {
    /* Called once per device left out: its inventory line, its name, and
     * "device does not exist" or "already on version X". May be NULL.
     * Nonzero stops the check (ORCH_EIO). */
    orch_reject_fn on_drop;
    void *ud;
    /* Optional progress, about once a second: calls finished, total. */
    void (*progress)(void *ud, size_t finished, size_t total);
    /* Optional: set by a SIGINT handler; 1 stops starting calls. */
    volatile sig_atomic_t *interrupt;
};

struct orch_device_check_stats {
    size_t checked;      /* devices in answered calls */
    size_t missing;      /* left out: do not exist */
    size_t up_to_date;   /* left out: already on the DestVersion */
    size_t unchecked;    /* devices of calls that failed: kept */
    uint64_t calls;
    char first_error[256]; /* "CODE: message" of the first failed call */
};

/* Runs the device check of plan (SPECIFIC only). drop has plan->inv->n
 * bytes, zeroed by the caller; drop[i] becomes 1 for each device i left
 * out. fw is the firmware check's result (DestVersion per firmware; may be
 * NULL or lack a firmware: then only existence is checked).
 * A call that fails keeps its devices (counted in st->unchecked).
 * Returns 0; ORCH_EABORT when the credentials were rejected, the query is
 * denied, or *interrupt was set (st tells what was checked); ORCH_EIO
 * when on_drop asked to stop; setup failures as orch_dispatch_run. */
int orch_preflight_devices(const struct orch_config *cfg,
                           const struct orch_credentials *cred,
                           const struct orch_plan *plan,
                           const struct orch_preflight_result *fw,
                           const struct orch_device_check_opts *opts,
                           uint8_t *drop, struct orch_device_check_stats *st,
                           struct orch_diag *diag);

/* The pure part of one device call (exposed for unit tests): given the
 * decoded answer's root (Data.Data[] of {DeviceName, FirmwareVersion}),
 * the call's device indices idx[0..n) into inv, and dest_version (may be
 * NULL), marks drop[] and calls on_drop. Returns 0, or ORCH_EIO when
 * on_drop returned nonzero. */
int orch_preflight_judge_devices(const struct orch_inventory *inv,
                                 const uint32_t *idx, size_t n,
                                 json_t *root,
                                 const char *dest_version,
                                 const struct orch_device_check_opts *opts,
                                 uint8_t *drop,
                                 struct orch_device_check_stats *st);

#endif
