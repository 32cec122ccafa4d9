/* credcmd.h - the credentials of a command (run, plan, status, cancel):
 * loaded once through the chain (cloud/credopen.h), the chain's warning
 * printed, and the line that says where they came from.
 */
#ifndef ORCH_CREDCMD_H
#define ORCH_CREDCMD_H

#include <stdio.h>

struct orch_credentials;
struct orch_reason;

/* Loads cred (caller-owned; orch_credentials_cleanup) for --profile
 * `profile` (NULL: none) from $HOME, prints the chain's warning (a
 * credentials file readable by others) with orch_warnf, and, when hout is
 * not NULL, the line "credentials: <label>, AccessKeyId <id>[ (STS)]" for
 * keys that do not expire, "credentials: <label> (temporary, refreshed
 * before they expire)" for a live set (its key rotates: no id). Returns 0,
 * or the load's error with the reason in why. */
int orch_credcmd_open(struct orch_credentials *cred, const char *profile,
                      FILE *hout, struct orch_reason *why);

/* The summary's words for cred: `<label> (STS, refreshed N times)` for a
 * live set, `<label>` for keys that do not expire; into out (cap). */
void orch_credcmd_describe(const struct orch_credentials *cred, char *out,
                           size_t cap);

#endif
