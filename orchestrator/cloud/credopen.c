/* credopen.c - the chain resolved, the first set fetched, kept fresh when
 * it expires (credopen.h).
 *
 * DESIGN: the source that gave the first set is moved out of the chain
 * and handed to the live holder as its fetch argument (owned: the holder
 * frees it after its thread stopped), so the chain itself is freed before
 * the command runs. Only the chain's tail has two candidates (the ECS
 * metadata service, then ALIBABA_CLOUD_CREDENTIALS_URI): an unreachable
 * metadata service (ORCH_EHTTP) falls through to the URI; any other
 * failure is final, never a silent switch to another account.
 *
 * A first fetch that fails in a way a retry may cure (ORCH_EHTTP: the
 * service unreachable, a 5xx, Throttling) is tried FIRST_FETCH_TRIES
 * times in all, with the refresher's jittered backoff in between
 * (credlive.h orch_credlive_retry_ms: 125-250 ms, 250-500 ms, 0.5-1 s),
 * as a refresh would be: a cron job started while the STS endpoint or
 * the credentials URI blinks does not fail for it. Except the metadata
 * service the chain only probes (no source named it): unreachable there
 * means "not an ECS instance", said at once.
 *
 * Pacing: the caller's hooks (credpace.h), when given, are copied next to
 * the source in the holder's fetch argument (struct live_fetch), so every
 * refresh's STS requests wait for them as the first fetch's did.
 */
#include "orch/cloud/credopen.h"

#include "orch/base/clock.h"
#include "orch/base/err.h"
#include "orch/base/interrupt.h"
#include "orch/cloud/credchain.h"
#include "orch/cloud/credentials.h"
#include "orch/cloud/credlive.h"
#include "orch/cloud/credpace.h"
#include "orch/cloud/credsource.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FIRST_FETCH_TRIES 4

/* The live holder's fetch argument: the source (owned) and the hooks. */
struct live_fetch {
    struct orch_credsource *src;
    struct orch_credpace pace;
    bool paced;
};

static int fetch_source(void *ud, struct orch_credset *out,
                        struct orch_diag *diag)
{
    const struct live_fetch *lf = ud;

    return orch_credsource_fetch_paced(lf->src, lf->paced ? &lf->pace : NULL,
                                       out, diag);
}

static void free_source(void *ud)
{
    struct live_fetch *lf = ud;

    orch_credsource_cleanup(lf->src);
    free(lf->src);
    free(lf);
}

/* The chain's probe of the metadata service, not a source that names it
 * (a profile's EcsRamRole, an ini's ecs_ram_role). */
static bool probed_only(const struct orch_credsource *src)
{
    return src->kind == ORCH_CRED_ECS &&
           strcmp(src->provider, "ecs_ram_role") == 0;
}

static void sleep_ms(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && !orch_interrupt_level())
        ;
}

/* One candidate's first set, with the retries above. */
static int fetch_retrying(struct orch_credsource *src,
                          const struct orch_credpace *pace,
                          struct orch_credset *set, struct orch_diag *diag)
{
    unsigned tries = probed_only(src) ? 1 : FIRST_FETCH_TRIES;
    uint64_t rnd = orch_mono_ms() ^ ((uint64_t)getpid() << 20);
    int rc = 0;

    for (unsigned t = 1;; t++) {
        memset(set, 0, sizeof(*set));
        rc = orch_credsource_fetch_paced(src, pace, set, diag);
        if (rc != ORCH_EHTTP || t >= tries || orch_interrupt_level())
            return rc;
        orch_credset_cleanup(set);
        rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
        sleep_ms(orch_credlive_retry_ms(t, rnd >> 33));
    }
}

/* Fetches from the chain's candidates in order; *used is the index of
 * the one that answered. */
static int fetch_first(const struct orch_credchain *chain,
                       const struct orch_credpace *pace,
                       struct orch_credset *set, size_t *used,
                       struct orch_diag *diag)
{
    int rc = ORCH_ECRED;

    for (size_t i = 0; i < chain->n; i++) {
        rc = fetch_retrying(chain->cand[i], pace, set, diag);
        if (rc == 0) {
            *used = i;
            return 0;
        }
        orch_credset_cleanup(set);
        if (rc != ORCH_EHTTP)
            return rc;
    }
    return rc;
}

/* Moves the set into cred: its credentials, the label, the provider. */
static int take_set(struct orch_credentials *cred, struct orch_credset *set,
                    const struct orch_credsource *src)
{
    *cred = set->cred;
    memset(&set->cred, 0, sizeof(set->cred));
    free(cred->source);
    cred->source = strdup(src->label ? src->label : "credentials");
    cred->provider = strdup(src->provider ? src->provider : "unknown");
    return cred->source && cred->provider ? 0 : ORCH_ENOMEM;
}

/* Attaches a holder for set (moved in) that refreshes from src (moved
 * in when this succeeds). */
static int go_live(struct orch_credentials *cred, struct orch_credset *set,
                   struct orch_credsource *src,
                   const struct orch_credpace *pace, struct orch_diag *diag)
{
    struct orch_credlive_opts o;
    struct live_fetch *lf = calloc(1, sizeof(*lf));
    int rc = 0;

    if (lf == NULL)
        return ORCH_ENOMEM;
    lf->src = src;
    lf->paced = pace != NULL;
    if (pace != NULL)
        lf->pace = *pace;
    memset(&o, 0, sizeof(o));
    o.fetch = fetch_source;
    o.fetch_ud = lf;
    o.fetch_ud_free = free_source;
    o.label = cred->source;
    cred->live_free = orch_credlive_free;
    rc = orch_credlive_new(&cred->live, &o, set, diag);
    if (rc)
        free(lf); /* the caller keeps src */
    return rc;
}

/* The holder's own copy of a set that expires (it wipes its sets when it
 * replaces them; cred keeps the first set's fields). */
static int copy_set(struct orch_credset *to, const struct orch_credset *from)
{
    memset(to, 0, sizeof(*to));
    to->expires_ms = from->expires_ms;
    to->fetched_ms = from->fetched_ms;
    return orch_credentials_fill(&to->cred, from->cred.access_key_id,
                                 from->cred.secret.s, from->cred.token.s,
                                 from->cred.source ? from->cred.source : "");
}

int orch_credentials_open(struct orch_credentials *cred, const char *profile,
                          const char *home, char **warning,
                          struct orch_diag *diag)
{
    return orch_credentials_open_paced(cred, profile, home, NULL, warning,
                                       diag);
}

int orch_credentials_open_paced(struct orch_credentials *cred,
                                const char *profile, const char *home,
                                const struct orch_credpace *pace,
                                char **warning, struct orch_diag *diag)
{
    struct orch_credchain chain;
    struct orch_credset set, live_set;
    size_t used = 0;
    bool expires = false;
    int rc = 0;

    memset(cred, 0, sizeof(*cred));
    memset(&set, 0, sizeof(set));
    memset(&live_set, 0, sizeof(live_set));
    *warning = NULL;
    rc = orch_credchain_resolve(&chain, profile, home, diag);
    if (rc)
        return rc;
    *warning = chain.warning;
    chain.warning = NULL;
    rc = fetch_first(&chain, pace, &set, &used, diag);
    expires = rc == 0 && set.expires_ms >= 0;
    if (expires)
        rc = copy_set(&live_set, &set);
    if (rc == 0)
        rc = take_set(cred, &set, chain.cand[used]);
    if (rc == 0 && expires) {
        rc = go_live(cred, &live_set, chain.cand[used], pace, diag);
        if (rc == 0)
            chain.cand[used] = NULL; /* the holder's now */
    }
    if (rc == ORCH_ENOMEM)
        orch_diag_set(diag, rc, "out of memory");
    if (rc)
        orch_credentials_cleanup(cred);
    orch_credset_cleanup(&live_set);
    orch_credset_cleanup(&set);
    orch_credchain_cleanup(&chain);
    return rc;
}

long orch_credentials_refreshes(const struct orch_credentials *cred)
{
    if (cred == NULL || cred->live == NULL)
        return -1;
    return (long)orch_credlive_refreshes(cred->live);
}
