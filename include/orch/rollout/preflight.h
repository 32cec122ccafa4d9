/* preflight.h - the firmware check made before the first Create
 * (QueryOTAFirmware); the opt-in device check that may follow is
 * devcheck.h's.
 *
 * Each distinct firmware is queried once (20 calls/s, the operation's
 * quota); each (product, firmware) pair of the plan is then judged: the
 * firmware must exist, belong to that product, and be verified (Status 1)
 * or need no verification (Status -1). A failing pair has a message that
 * names the firmware, its state, and what to do.
 *
 * The run function calls the API through orch_dispatch_run (idempotent
 * queries: unknown outcomes are simply retried). Nothing here prints.
 * Not thread-safe.
 */
#ifndef ORCH_PREFLIGHT_H
#define ORCH_PREFLIGHT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "orch/engine/problem.h" /* enum orch_problem */

struct orch_config;
struct orch_credentials;
struct orch_diag;
struct orch_dispatch_ops;
struct orch_dispatch_stats;
struct orch_engine_opts;
struct orch_item_result;
struct orch_plan;

#define ORCH_PREFLIGHT_FW_QPS 20.0 /* QueryOTAFirmware quota */

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

/* The engine options of a check's queries (the firmware check's here,
 * the device check's in devcheck.c): the run's own
 * (orch_engine_opts_from_config) at the operation's quota `qps`, without
 * the fatal-streak rule (a check asks about every item: its failures are
 * findings, not a reason to stop). Pure; borrows cfg's strings. */
void orch_preflight_engine_opts(struct orch_engine_opts *eo,
                                const struct orch_config *cfg, double qps);

/* Runs a check's queries: sets ops->idempotent (an unknown outcome is
 * simply asked again) and calls orch_dispatch_run under
 * orch_preflight_engine_opts(cfg, qps). Returns what that returns; st and
 * diag as it fills them. Borrows everything. */
int orch_preflight_dispatch(const struct orch_config *cfg,
                            const struct orch_credentials *cred, double qps,
                            struct orch_dispatch_ops *ops,
                            volatile sig_atomic_t *interrupt,
                            struct orch_dispatch_stats *st,
                            struct orch_diag *diag);

/* The DestVersion the firmware check found for firmware_id, or NULL. */
const char *orch_preflight_dest_version(const struct orch_preflight_result *r,
                                        const char *firmware_id);

#endif
