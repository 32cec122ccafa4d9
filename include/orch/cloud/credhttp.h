/* credhttp.h - one blocking HTTP exchange for fetching credentials (STS,
 * the ECS metadata service, a credentials URI), on its own libcurl easy
 * handle: never the dispatcher's multi handle, so a fetch may run on any
 * thread while calls keep flowing. curl_global_init must have been done
 * (main.c does it once).
 *
 * Only http and https, no redirects, no proxy from the environment for
 * loopback addresses (libcurl's default NO_PROXY handling applies), an
 * answer larger than ORCH_CREDHTTP_MAX_BODY is a transport error. The
 * answer body usually holds secrets: the caller wipes it
 * (orch_credhttp_wipe). Thread-safe.
 */
#ifndef ORCH_CREDHTTP_H
#define ORCH_CREDHTTP_H

#include <stddef.h>

#include "orch/base/buf.h"

struct orch_diag;

#define ORCH_CREDHTTP_MAX_BODY (256 * 1024)

struct orch_credhttp_req {
    const char *method;         /* "GET", "PUT" or "POST" */
    const char *url;
    const char *const *headers; /* "Name: value" lines, NULL-terminated;
                                   may be NULL */
    const char *body;           /* POST/PUT body, NULL = none */
    size_t body_len;
    long timeout_ms;            /* the whole exchange, connect included */
};

/* Sends rq and waits for the answer: *status gets the HTTP status and
 * `answer` (appended to; the caller's) the body. Returns 0 for any HTTP
 * status, or ORCH_EHTTP with diag naming what failed (libcurl's error
 * text: never a header or body), or ORCH_ENOMEM. */
int orch_credhttp_send(const struct orch_credhttp_req *rq, long *status,
                       struct orch_buf *answer, struct orch_diag *diag);

/* Wipes (OPENSSL_cleanse) and frees b; NULL-safe. */
void orch_credhttp_wipe(struct orch_buf *b);

#endif
