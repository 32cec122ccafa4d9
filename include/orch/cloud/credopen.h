/* credopen.h - the one loader of credentials every command uses: the
 * chain resolved (credchain.h), its first set fetched (credsource.h), and
 * a live holder (credlive.h) attached when that set expires.
 */
#ifndef ORCH_CREDOPEN_H
#define ORCH_CREDOPEN_H

struct orch_credentials;
struct orch_credpace;
struct orch_diag;

/* Resolves the chain (profile is --profile or NULL, home is $HOME),
 * fetches from its first candidate (from the next one only when the
 * previous one was unreachable, ORCH_EHTTP; a failure a retry may cure is
 * tried 4 times with a jittered backoff, except on the metadata service
 * the chain only probes: credopen.c) and, when the set expires,
 * attaches a live holder to cred (cred->live: every signature takes its
 * current set; orch_credentials_cleanup stops its thread). cred->source is
 * the source's label, cred->provider its --json name; cred->access_key_id
 * is the FIRST set's id (a live set rotates: print the label). *warning
 * gets the chain's warning for the command to print (malloced, free it)
 * or NULL. Returns 0, or ORCH_ECRED / ORCH_ECONFIG / ORCH_EHTTP with diag
 * (never a secret); cred is then empty. */
int orch_credentials_open(struct orch_credentials *cred, const char *profile,
                          const char *home, char **warning,
                          struct orch_diag *diag);

/* orch_credentials_open with every STS request (the first fetch's and
 * every refresh's) paced by `pace` (credpace.h; copied; its ud is
 * borrowed and must outlive cred; NULL: not paced). */
int orch_credentials_open_paced(struct orch_credentials *cred,
                                const char *profile, const char *home,
                                const struct orch_credpace *pace,
                                char **warning, struct orch_diag *diag);

/* Successful refreshes of cred's live holder, or -1 when it has none
 * (credentials that do not expire). */
long orch_credentials_refreshes(const struct orch_credentials *cred);

#endif
