/* engine_opts.h - the dispatcher's own options, as libuv's loop has its
 * own: what orch_dispatch_run() reads, and nothing else of the run's
 * configuration.
 *
 * A caller fills one from the run's config with
 * orch_engine_opts_from_config() and changes the numbers its calls need
 * (a batch of queries at its own quota, no fatal streak) on its own copy:
 * the config is never copied to change one number.
 *
 * Lifetime: the strings (endpoint, ca_bundle) are borrowed from where they
 * were set (the config); they must outlive every orch_dispatch_run() that
 * is given these options. Nothing here is freed; there is no cleanup.
 */
#ifndef ORCH_ENGINE_OPTS_H
#define ORCH_ENGINE_OPTS_H

#include <stdbool.h>

struct orch_config;
struct orch_credentials;

/* Pacing margins (dispatch.c's DESIGN explains them): evenly spaced
 * starts run at qps x 1000 / (1000 + pace margin), and the limiter's
 * window at qps x 1000 / (1000 + window margin).
 * Measured: a 1 ms window margin (4 ms more in the spacing) gave 198.8/s
 * instead of 198.4 at --qps 200, but 1 and 3 throttled answers in the
 * 20/s runs: a start up to half a gap late keeps its schedule, so the
 * window check binds with only its own margin left for arrival jitter
 * (and both clocks are truncated to the ms). So the whole margin is in
 * the window too, and the spacing's slack (pace - window) stays 0. */
#define ORCH_ENGINE_PACE_MARGIN_MS 5
#define ORCH_ENGINE_WINDOW_MARGIN_MS 5

struct orch_engine_opts {
    /* Where and how to call */
    const char *endpoint;   /* "scheme://host[:port]", borrowed; required */
    int signature_version;  /* 3 (ACS3-HMAC-SHA256) or 2 */
    const char *ca_bundle;  /* CA file for TLS, borrowed; NULL: libcurl's */
    bool insecure;          /* no TLS peer or host verification */
    long request_timeout_ms; /* per request; <= 0: 30000 */

    /* Pacing */
    double qps;             /* the action's calls per second; must be > 0 */
    double query_qps;       /* reconciliation queries per second (their own
                               quota and limiter); <= 0: 10 */
    int max_in_flight;      /* connection cap floor (dispatch.c DESIGN);
                               <= 0: 1 */
    int pace_margin_ms;     /* see above; >= 0 */
    int window_margin_ms;   /* see above; >= 0, <= pace_margin_ms */
    const char *quota_key;  /* whose quotas these calls count against
                               (pacer.h): processes of this machine with
                               the same key share them (see
                               orch_engine_opts_set_quota_key). Borrowed;
                               NULL or "": this process paces alone */
    const char *quota_dir;  /* where the shared state lives; NULL: the
                               default (quotashare.h). Borrowed */

    /* Retries and stops */
    int max_attempts;       /* sends of one item; <= 0: 1 */
    int backoff_base_ms;    /* base of the retry backoff; <= 0: 200 */
    int fatal_streak;       /* the fatal-streak rule's threshold (stop.h);
                               <= 0: off */
};

/* Zero everything but the defaults that are not zero: signature V3 and
 * the pacing margins. The caller sets endpoint and qps at least. */
void orch_engine_opts_init(struct orch_engine_opts *o);

/* The options a run's config asks for (after orch_config_validate or
 * orch_config_check_api): every field above from the option of the same
 * meaning. Borrows cfg's strings (see Lifetime). */
void orch_engine_opts_from_config(struct orch_engine_opts *o,
                                  const struct orch_config *cfg);

/* Sets o->quota_key from the credentials: their AccessKeyId for keys that
 * do not rotate; for refreshed temporary credentials (cred->live) their
 * source's label (e.g. `RamRoleArn profile "ops"`), since each process
 * and each refresh gets another temporary AccessKeyId of the same
 * account. Borrowed from cred, which must outlive the options' use. */
void orch_engine_opts_set_quota_key(struct orch_engine_opts *o,
                                    const struct orch_credentials *cred);

#endif
