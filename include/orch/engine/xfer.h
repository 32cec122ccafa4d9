/* xfer.h - one transfer of the dispatcher: its easy handle and callbacks,
 * how a signed request is put on it and handed to the multi handle, and
 * how its finished outcome is read and classified.
 *
 * Internal to the dispatcher (dispatcher.h has the structs; dispatch.c
 * and its files call these). All on the dispatcher's thread.
 *
 * Ownership: xfers belong to the dispatcher (d->xfers), which frees them
 * with orch_xfer_free() at the end of the run; orch_xfer_get() binds one to
 * an item, orch_xfer_put() returns it to the free list (its buffers and
 * easy handle are kept for the next item).
 */
#ifndef ORCH_XFER_H
#define ORCH_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "orch/engine/retry.h"

struct dispatcher;
struct orch_xfer;

/* Creates one xfer and puts it on the free list: the run's set-up check
 * that libcurl takes every option the transfers use (TLS files, protocols,
 * timeouts). 0, or ORCH_ENOMEM / ORCH_EHTTP with *what saying what failed
 * (a static string or libcurl's). */
int orch_xfer_preload(struct dispatcher *d, const char **what);

/* Binds a free (or new) xfer to `item`, reset for its first attempt.
 * 0 or ORCH_ENOMEM (no xfer: the caller retries later or reports). */
int orch_xfer_get(struct dispatcher *d, size_t item, struct orch_xfer **out);
/* Returns x to the free list (after the item's final result). */
void orch_xfer_put(struct dispatcher *d, struct orch_xfer *x);
/* Frees x and its easy handle (not in the multi handle any more);
 * NULL-safe. */
void orch_xfer_free(struct orch_xfer *x);

/* Signs x->params as `action` and sets the easy handle up for it, with a
 * fresh nonce and timestamp; the request is not yet handed to libcurl.
 * 0, or an ORCH_E* code with *what saying which step failed. */
int orch_xfer_prepare(struct dispatcher *d, struct orch_xfer *x,
                      const char *action, const char **what);
/* Hands a prepared request to the multi handle and counts it (stats).
 * Returns false, with *what, if the multi handle refused it (nothing was
 * sent). */
bool orch_xfer_launch(struct dispatcher *d, struct orch_xfer *x,
                      uint64_t now, const char **what);

/* True when any byte of x's current request went out, or libcurl cannot
 * tell (counted as sent: erring this way can only cost a reconciliation,
 * never a duplicate job). */
bool orch_xfer_request_sent(const struct orch_xfer *x);

/* Decodes x's finished transfer (already out of the multi handle) and
 * classifies it; *code (borrowed from x or static) and msg describe a
 * failure. Counts a throttling answer and slows the limiter that paced
 * the request. */
enum orch_verdict orch_xfer_outcome(struct dispatcher *d,
                                    struct orch_xfer *x, CURLcode res,
                                    uint64_t now, const char **code,
                                    char *msg, size_t msg_cap);

/* After x's answer refused the STS token (orch_retry_is_token_refusal):
 * true when the credentials can be refreshed (a live holder) and x has
 * token resends left; then the holder is asked to refresh the set that
 * signed x (by its key id) and the resend is counted. False: the refusal
 * stands (FATAL). */
bool orch_xfer_refresh_token(struct dispatcher *d, struct orch_xfer *x);

/* The wait before asking again after `n` tries: full-jitter backoff, or
 * the server's retry-after hint of the last answer when longer (capped). */
uint64_t orch_xfer_retry_delay(struct dispatcher *d,
                               const struct orch_xfer *x, unsigned n);

#endif
