/* credpace.h - the hooks an STS credential fetch calls around each of its
 * requests, so that a layer above (commands wires them to engine/stslane.h)
 * paces them like every other API call without the cloud layer knowing
 * the pacing engine.
 *
 * Only the STS requests (AssumeRole, AssumeRoleWithOIDC) call them: they
 * count against the account's quota. The ECS metadata service, a
 * credentials URI and an External process are local, not account quotas.
 *
 * The hooks are called on the fetching thread: the command's own at
 * orch_credentials_open_paced, the refresher thread (credlive.h) after.
 * They must be thread-safe, may sleep, and must outlive the credentials
 * they were given to (a live holder calls them until
 * orch_credentials_cleanup has stopped its thread).
 */
#ifndef ORCH_CREDPACE_H
#define ORCH_CREDPACE_H

#include <stdint.h>

struct orch_credpace {
    /* Before the request of `action` ("AssumeRole", "AssumeRoleWithOIDC")
     * leaves, for the source labelled `key` (the label of the source
     * being fetched: the quota key of its calls, engine_opts.h). Blocks
     * until the request may start and sets *start_ms (the start it
     * recorded, any monotonic ms, handed back to `throttled`). Returns 0
     * to send, nonzero when the run is stopping: the request is then not
     * sent and the fetch fails with ORCH_EABORT. NULL: not paced. */
    int (*before)(void *ud, const char *key, const char *action,
                  uint64_t *start_ms);
    /* The request started at start_ms was answered Throttling*: slow the
     * lane (the refresher retries with its own backoff). May be NULL. */
    void (*throttled)(void *ud, const char *key, const char *action,
                      uint64_t start_ms);
    void *ud; /* borrowed */
};

#endif
