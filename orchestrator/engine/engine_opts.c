/* engine_opts.c - the dispatcher's options, filled from a run's config. */
#include "orch/engine/engine_opts.h"

#include <string.h>

#include "orch/cloud/credentials.h"
#include "orch/model/config.h"

void orch_engine_opts_init(struct orch_engine_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->signature_version = 3;
    o->pace_margin_ms = ORCH_ENGINE_PACE_MARGIN_MS;
    o->window_margin_ms = ORCH_ENGINE_WINDOW_MARGIN_MS;
}

void orch_engine_opts_from_config(struct orch_engine_opts *o,
                                  const struct orch_config *cfg)
{
    orch_engine_opts_init(o);
    o->endpoint = cfg->endpoint;
    o->signature_version = cfg->signature_version;
    o->ca_bundle = cfg->ca_bundle;
    o->insecure = cfg->insecure;
    o->request_timeout_ms = cfg->request_timeout_ms;
    o->qps = cfg->qps;
    o->query_qps = cfg->query_qps;
    o->max_in_flight = cfg->max_in_flight;
    o->max_attempts = cfg->max_attempts;
    o->backoff_base_ms = cfg->backoff_base_ms;
    o->fatal_streak = cfg->fatal_streak;
}

void orch_engine_opts_set_quota_key(struct orch_engine_opts *o,
                                    const struct orch_credentials *cred)
{
    if (cred == NULL)
        o->quota_key = NULL;
    else if (cred->live != NULL && cred->source != NULL)
        o->quota_key = cred->source;
    else
        o->quota_key = cred->access_key_id;
}
