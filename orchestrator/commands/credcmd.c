/* credcmd.c - a command's credentials: loaded, warned about, told
 * (credcmd.h).
 *
 * DESIGN (pacing): the STS calls of the credentials (the first fetch on
 * the command's thread, the refreshes on the refresher thread) wait for
 * a start in the process's STS lanes (engine/stslane.h), which live for
 * the process like the pacer's lanes: credentials opened again (a test,
 * a second command) keep pacing on the same lanes. The hooks never stop a
 * wait early: a Ctrl-C asks the run to finish cleanly, which may still
 * need a refresh, and a wait lasts a gap of the lane (20 ms at 50/s)
 * unless other processes of the machine take their turns first.
 */
#include "orch/commands/credcmd.h"

#include "orch/base/clock.h"
#include "orch/base/err.h"
#include "orch/base/msgs.h"
#include "orch/cloud/credentials.h"
#include "orch/cloud/credopen.h"
#include "orch/cloud/credpace.h"
#include "orch/commands/reason.h"
#include "orch/engine/engine_opts.h"
#include "orch/engine/stslane.h"

#include <pthread.h>
#include <stdlib.h>

/* A test-only override of the STS lanes' rate (calls per second), so that
 * an end-to-end test can see the pacing at a rate a few processes reach
 * in seconds (the emulator's --qps-sts set to the same). */
#define STS_QPS_ENV "OTA_ROLLOUT_TEST_STS_QPS"

static struct orch_stslane *sts_lanes;
static pthread_once_t sts_once = PTHREAD_ONCE_INIT;

static void sts_lanes_make(void)
{
    struct orch_engine_opts o;
    const char *env = getenv(STS_QPS_ENV);
    double qps = env != NULL ? strtod(env, NULL) : 0;

    orch_engine_opts_init(&o);
    if (!(qps > 0))
        qps = ORCH_STS_PACE_QPS;
    /* Out of memory: the calls go unpaced, as without a hook. */
    (void)orch_stslane_new(&sts_lanes, &o, qps);
}

static int sts_before(void *ud, const char *key, const char *action,
                      uint64_t *start_ms)
{
    (void)ud;
    return orch_stslane_wait(sts_lanes, key, action, NULL, start_ms) ==
                   ORCH_EABORT
               ? 1
               : 0;
}

static void sts_throttled(void *ud, const char *key, const char *action,
                          uint64_t start_ms)
{
    (void)ud;
    orch_stslane_throttled(sts_lanes, key, action, orch_mono_ms(), start_ms);
}

int orch_credcmd_open(struct orch_credentials *cred, const char *profile,
                      FILE *hout, struct orch_reason *why)
{
    struct orch_credpace pace = {sts_before, sts_throttled, NULL};
    struct orch_diag diag = {{0}};
    char *warning = NULL;
    int rc = 0;

    pthread_once(&sts_once, sts_lanes_make);
    rc = orch_credentials_open_paced(cred, profile, getenv("HOME"),
                                     sts_lanes != NULL ? &pace : NULL,
                                     &warning, &diag);

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
