/* preflight.h - checks made before the first Create: the firmware of the
 * plan (QueryOTAFirmware) and, opt-in, the devices (BatchQueryDeviceDetail).
 *
 * Firmware: each distinct firmware is queried once (20 calls/s, the
 * operation's quota); each (product, firmware) pair of the plan is then
 * judged: the firmware must exist, belong to that product, and be verified
 * (Status 1) or need no verification (Status -1). A failing pair has a
 * message that names the firmware, its state, and what to do.
 *
 * Devices (--check-devices): BatchQueryDeviceDetail, 100 devices of one
 * product per call, 5 calls/s. A device missing from the answer does not
 * exist; a device whose FirmwareVersion equals its firmware's DestVersion
 * is already upgraded. Both are marked in a caller's byte map and handed to
 * a reject callback; orch_plan_build_filtered() then leaves them out.
 *
 * The run functions call the API through orch_dispatch_run (idempotent
 * queries: unknown outcomes are simply retried). They print nothing.
 * Not thread-safe.
 */
#ifndef ORCH_PREFLIGHT_H
#define ORCH_PREFLIGHT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "orch/engine/problem.h"   /* enum orch_problem */
#include "orch/model/inventory.h" /* orch_reject_fn */

struct orch_config;
struct orch_credentials;
struct orch_diag;
struct orch_item_result;
struct orch_plan;

#define ORCH_PREFLIGHT_FW_QPS 20.0   /* QueryOTAFirmware quota */
#define ORCH_PREFLIGHT_DEV_QPS 5.0   /* BatchQueryDeviceDetail quota */
#define ORCH_PREFLIGHT_DEV_BATCH 100 /* DeviceName.N per call */

enum orch_fw_verdict {
    ORCH_FW_OK = 0,        /* verified (1) or no verification needed (-1) */
    ORCH_FW_MISSING,       /* does not exist (or not in this account) */
    ORCH_FW_WRONG_PRODUCT, /* FirmwareInfo.ProductKey is another product */
    ORCH_FW_UNVERIFIED,    /* Status 0: never verified */
    ORCH_FW_VERIFYING,     /* Status 2: a verification job is running */
    ORCH_FW_VERIFY_FAILED, /* Status 3: the verification failed */
    ORCH_FW_BAD_STATE,     /* a Status we do not know */
    ORCH_FW_QUERY_FAILED   /* no usable answer (error, transport, denied) */
};

/* "ok", "missing", "wrong_product", "unverified", "verifying",
 * "verify_failed", "bad_state", "query_failed". */
const char *orch_fw_verdict_name(enum orch_fw_verdict v);

/* One (product, firmware) pair of the plan and what the check found. */
struct orch_fw_check {
    const char *product_key;  /* borrowed (inventory or config) */
    const char *firmware_id;  /* borrowed (config) */
    enum orch_fw_verdict verdict;
    int status;               /* FirmwareInfo.Status; -2 when unknown */
    char fw_product[128];     /* FirmwareInfo.ProductKey ("" unknown) */
    char dest_version[80];    /* FirmwareInfo.DestVersion ("" unknown) */
    char fw_name[96];         /* FirmwareInfo.FirmwareName */
    char code[128];           /* API error code when the query failed */
    char message[512];        /* one sentence: which firmware, which state,
                                 what to do ("" when ok); never the
                                 server's own text */
    /* When the query failed: */
    enum orch_problem problem; /* its class (problem.h) */
    char request_id[128];      /* of the last answer ("" none) */
    char server_message[512];  /* the server's text on one line, for
                                  --log-format json (never printed) */
    bool told;                 /* the message repeats an earlier check's,
                                  or the result's diag already says it:
                                  the edge does not print it again */
};

struct orch_preflight_result {
    struct orch_fw_check *checks; /* malloced, [nchecks] */
    size_t nchecks;
    size_t failed;                /* checks whose verdict is not OK */
    uint64_t calls;               /* HTTP requests made */
    bool aborted;                 /* credentials rejected or denied */
    char abort_reason[256];
    /* The problem of the account or the endpoint that stopped the check
     * (credentials, key, clock, endpoint, RAM), told once in diag for all
     * the firmware: ORCH_PROBLEM_OTHER when there was none. */
    enum orch_problem problem;
};

/* Zeroes r. */
void orch_preflight_result_init(struct orch_preflight_result *r);
/* Frees r->checks; NULL-safe. */
void orch_preflight_result_cleanup(struct orch_preflight_result *r);

/* Runs the firmware check. plan is the SPECIFIC plan, or NULL for ALL/GRAY
 * (then the pair is cfg->product_key, cfg->firmware_id). cfg->qps is not
 * used: QueryOTAFirmware goes at ORCH_PREFLIGHT_FW_QPS.
 * Returns 0 when every pair passed; ORCH_EAPI when some failed;
 * ORCH_EABORT when the credentials were rejected, the clock is off or the
 * RAM policy denies the query (out->abort_reason); ORCH_ENOMEM/
 * ORCH_EINVAL/ORCH_EHTTP for a setup failure.
 * Each distinct problem is told once: a problem of the account or the
 * endpoint (out->problem) is one sentence in diag, "<title> (<code>,
 * request id <id>): <advice>; nothing sent", whatever the number of
 * firmware; otherwise diag is the one failed check's message, or "N of M
 * firmware checks failed" when there are more distinct messages, which
 * the checks not marked `told` carry. Only a RAM denial suggests
 * --skip-preflight. out must be initialised; it is filled in every case
 * but a setup failure. Borrows everything; out's strings point into cfg
 * and plan->inv. */
int orch_preflight_run(const struct orch_config *cfg,
                       const struct orch_credentials *cred,
                       const struct orch_plan *plan,
                       struct orch_preflight_result *out,
                       struct orch_diag *diag);

/* The pure judgement of one pair from the final result of its
 * QueryOTAFirmware (exposed for unit tests): fills chk->verdict, status,
 * fw_product, dest_version, fw_name, code and message. chk->product_key
 * and chk->firmware_id must be set. res may be NULL (nothing answered). */
void orch_preflight_judge_firmware(struct orch_fw_check *chk,
                                   const struct orch_item_result *res);

/* After every pair was judged: a firmware belongs to exactly one product
 * (QueryOTAFirmware answers one ProductKey; a Create for another product is
 * iot.ota.FirmwareAndProductKeyMismatch), so when one FirmwareId is given
 * to several products and its answer named no ProductKey, the pairs of
 * every product but the first (in check order) that still passed become
 * ORCH_FW_WRONG_PRODUCT with a message naming both products. Pure. */
void orch_preflight_judge_shared(struct orch_fw_check *checks, size_t n);

/* The pure end of orch_preflight_run (exposed for unit tests): from the
 * judged checks, out->failed and out->aborted (and abort_reason), sets
 * out->problem and each check's `told`, and returns rc with diag as
 * orch_preflight_run describes. cred may be NULL (the advice then names
 * no key). */
int orch_preflight_conclude(const struct orch_config *cfg,
                            const struct orch_credentials *cred,
                            struct orch_preflight_result *out,
                            struct orch_diag *diag);

/* The DestVersion the firmware check found for firmware_id, or NULL. */
const char *orch_preflight_dest_version(const struct orch_preflight_result *r,
                                        const char *firmware_id);

/* ---- devices (--check-devices) ---------------------------------------- */

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
