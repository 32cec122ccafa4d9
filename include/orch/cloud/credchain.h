/* credchain.h - the credential chain: which source the credentials come
 * from, in the order of Alibaba's official credential libraries and the
 * aliyun CLI (environment, OIDC environment, ~/.aliyun/config.json profile,
 * ~/.alibabacloud/credentials ini, ECS metadata, credentials URI).
 * Resolution reads environment variables and files only; it never touches
 * the network (fetching is credsource.h's orch_credsource_fetch).
 */
#ifndef ORCH_CREDCHAIN_H
#define ORCH_CREDCHAIN_H

#include <stddef.h>

#include "orch/cloud/credsource.h"

struct orch_diag;

#define ORCH_CREDCHAIN_MAX 2

/* The candidates, in order. There are two only at the tail of the chain:
 * the ECS metadata service, then ALIBABA_CLOUD_CREDENTIALS_URI; the caller
 * tries the next one only when the previous one was unreachable
 * (orch_credsource_fetch returned ORCH_EHTTP). Every other source is final:
 * a configured source that fails is an error, never a silent fall-through
 * to another account. */
struct orch_credchain {
    struct orch_credsource *cand[ORCH_CREDCHAIN_MAX]; /* owned */
    size_t n;
    /* A warning for the command to print (e.g. a credentials file readable
     * by group or others), or NULL; malloced, never a secret. */
    char *warning;
};

/* Resolves the chain. profile is --profile (NULL when not given); home is
 * $HOME (tests pass a scratch dir); environment via getenv(). Returns 0
 * with chain->n >= 1; ORCH_ECRED with diag when no source is configured,
 * a profile/section is missing or incomplete, or its mode is not supported
 * (naming the mode and what to use instead); ORCH_ECONFIG for a malformed
 * file (naming the file). Never puts a secret in diag. */
int orch_credchain_resolve(struct orch_credchain *chain, const char *profile,
                           const char *home, struct orch_diag *diag);
void orch_credchain_cleanup(struct orch_credchain *chain);

#endif
