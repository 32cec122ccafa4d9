/* query.h - what `status` and `cancel` share below the rollout: the
 * commands' configuration check, and paced, retried batches of query calls
 * over orch_dispatch_run(). (The rollout's jobs as its report lists them
 * are rollout/rollout.h; the queries' parameters and task states are
 * cloud/api.h.)
 */
#ifndef ORCH_QUERY_H
#define ORCH_QUERY_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct orch_config;
struct orch_credentials;
struct orch_diag;
struct orch_dispatch_stats;
struct orch_item_result;
struct orch_params;

/* Checks the configuration of `status` and `cancel` (the report path is
 * cfg->inventory_path, the positional argument): a report given, options
 * that belong to the other command refused, the region and endpoint
 * defaults filled as for `run`, the query quota and --interval in range.
 * Returns 0 or ORCH_ECONFIG with diag naming the option. */
int orch_query_config_validate(struct orch_config *cfg, struct orch_diag *diag);

/* A paced, retried batch of one query action: nitems calls of `action`
 * at most `qps` per second (the action's own quota), each retried like
 * `run`'s calls (throttling, 5xx, transport errors: the dispatcher, with
 * ops.idempotent set). done() is called once per item on this thread;
 * res->resp (and res->resp->root, the parsed answer) is valid only during
 * the call. A success is res->status == ORCH_ITEM_CREATED.
 * With `label` and a terminal, a progress line "LABEL n/N" is drawn on
 * stderr. Returns 0 (stats says how many failed, and whether the batch
 * was aborted: credentials rejected or interrupted), or the dispatcher's
 * setup error with diag. Borrows everything. The calls are paced by the
 * action's lane (pacer.h), keyed by cred's AccessKeyId: back-to-back
 * batches, and other processes with the same key, never put more than
 * the quota into one second together. Not reentrant. */
struct orch_query_batch {
    const char *action;
    double qps;
    size_t nitems;
    int (*build)(void *ud, size_t item, struct orch_params *out);
    void (*done)(void *ud, size_t item, const struct orch_item_result *res);
    void *ud;
    const char *label; /* NULL: no progress line */
};

/* The batch of nitems calls of `action` at the query quota
 * (cfg->query_qps), the one `status`, its wave gates' listings and the
 * job-state queries share; build, done, ud and label as above. Pure. */
struct orch_query_batch orch_query_batch_at_quota(
    const struct orch_config *cfg, const char *action, size_t nitems,
    int (*build)(void *ud, size_t item, struct orch_params *out),
    void (*done)(void *ud, size_t item, const struct orch_item_result *res),
    void *ud, const char *label);

int orch_query_run(const struct orch_config *cfg,
                   const struct orch_credentials *cred,
                   const struct orch_query_batch *batch,
                   volatile sig_atomic_t *interrupt,
                   struct orch_dispatch_stats *stats, struct orch_diag *diag);

#endif
