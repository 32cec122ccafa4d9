/* err.h - the one error table of ota-rollout.
 *
 * Every function that can fail returns int: 0, or one of the negative
 * ORCH_E* codes generated from ORCH_ERR_MAP below (libuv's UV_ERRNO_MAP).
 * Human detail goes into the caller's struct orch_diag; only cli.c and
 * main.c print.
 */
#ifndef ORCH_ERR_H
#define ORCH_ERR_H

#include <stddef.h>

#define ORCH_ERR_MAP(XX)                                                   \
    XX(EINVAL, "invalid argument")                                         \
    XX(ENOMEM, "out of memory")                                            \
    XX(EIO, "input/output error")                                          \
    XX(ECSV, "malformed inventory")                                        \
    XX(EINVENTORY, "invalid inventory row")                                \
    XX(ECONFIG, "invalid configuration")                                   \
    XX(ECRED, "credentials missing or unusable")                           \
    XX(EHTTP, "HTTP transport error")                                      \
    XX(EDECODE, "response could not be decoded")                           \
    XX(EAPI, "API returned an error")                                      \
    XX(ESIGN, "signature computation failed")                              \
    XX(ETIME, "invalid time value")                                        \
    XX(EJOURNAL, "journal damaged or inconsistent")                        \
    XX(EABORT, "run aborted")                                              \
    XX(ENOTFOUND, "not found")                                             \
    XX(ETOOBIG, "value too large")

enum orch_err {
    ORCH_OK = 0,
#define XX(name, msg) ORCH_##name,
    ORCH_ERR_PLACEHOLDER_ = -1000, /* codes start at -999 */
    ORCH_ERR_MAP(XX)
#undef XX
    ORCH_ERR_END_
};

/* Caller-owned detail buffer: one human sentence, e.g.
 * "inventory.csv:17: column \"DeviceName\": value \"ab\" is shorter than 4". */
#define ORCH_DIAG_LEN 512
struct orch_diag {
    char msg[ORCH_DIAG_LEN];
};

/* Short text for an ORCH_E* code ("invalid argument"); never NULL. */
const char *orch_strerror(int err);
/* Symbolic name for an ORCH_E* code ("EINVAL"); never NULL. */
const char *orch_errname(int err);

/* printf into diag->msg (truncating). diag may be NULL. Returns err, so that
 * callers can write `return orch_diag_set(d, ORCH_EINVAL, "...", ...);`. */
int orch_diag_set(struct orch_diag *diag, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* What to tell about a failure: the diag's text, or orch_strerror(err)
 * when the diag is NULL or empty. The pointer is the diag's buffer or a
 * static string: valid while the diag is. */
const char *orch_diag_text(int err, const struct orch_diag *diag);

#endif
