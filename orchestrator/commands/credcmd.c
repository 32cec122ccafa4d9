/* credcmd.c - a command's credentials: loaded, warned about, told
 * (credcmd.h). */
#include "orch/commands/credcmd.h"

#include "orch/base/err.h"
#include "orch/base/msgs.h"
#include "orch/cloud/credentials.h"
#include "orch/cloud/credopen.h"
#include "orch/commands/reason.h"

#include <stdlib.h>

int orch_credcmd_open(struct orch_credentials *cred, const char *profile,
                      FILE *hout, struct orch_reason *why)
{
    struct orch_diag diag = {{0}};
    char *warning = NULL;
    int rc = orch_credentials_open(cred, profile, getenv("HOME"), &warning,
                                   &diag);

    if (warning != NULL)
        orch_warnf("%s", warning);
    free(warning);
    if (rc) {
        orch_reason_diag(why, rc, &diag);
        return rc;
    }
    if (hout == NULL)
        return 0;
    if (cred->live != NULL)
        fprintf(hout, "credentials: %s (temporary, refreshed before they "
                      "expire)\n",
                cred->source);
    else
        fprintf(hout, "credentials: %s, AccessKeyId %s%s\n", cred->source,
                cred->access_key_id, cred->token.s ? " (STS)" : "");
    return 0;
}

void orch_credcmd_describe(const struct orch_credentials *cred, char *out,
                           size_t cap)
{
    long n = orch_credentials_refreshes(cred);

    if (n < 0)
        snprintf(out, cap, "%s", cred->source ? cred->source : "?");
    else
        snprintf(out, cap, "%s (STS, refreshed %ld time%s)", cred->source,
                 n, n == 1 ? "" : "s");
}
