/* emu_opts.c - the server's options: defaults, quotas by action,
 * threading, checks. */
#include "server/emu_opts.h"

#include "ops/emu_ops.h"

#include "orch/base/err.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

void emu_server_opts_init(struct emu_server_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->bind = "127.0.0.1";
    o->qps_create = 20;
    o->qps_query = 10;
    o->qps_firmware = 20;
    o->qps_device_detail = 50;
    o->qps_cancel = 5;
    o->qps_batch = 5;
    o->qps_sts = 100;
    o->qps_scale = 1;
    o->slow_ms = 1000;
    emu_fault_opts_init(&o->faults);
}

const char *emu_action_class(const char *action)
{
    return emu_action_class_name(emu_action_class_of(action));
}

double emu_action_quota(const struct emu_server_opts *o, const char *action)
{
    /* STS's documented quota: 100/s per account for each of its calls
     * (help.aliyun.com, api-sts-2015-04-01-quota). */
    if (strcmp(action, "AssumeRole") == 0 ||
        strcmp(action, "AssumeRoleWithOIDC") == 0)
        return o->qps_sts * o->qps_scale;
    switch (emu_action_class_of(action)) {
    case EMU_ACTION_CREATE:
        return o->qps_create * o->qps_scale;
    case EMU_ACTION_QUERY:
        /* Each query operation's own documented quota (alibaba-api.md,
         * e): QueryOTAFirmware 20/s, QueryDeviceDetail 50/s, the others
         * 10/s. */
        if (strcmp(action, "QueryOTAFirmware") == 0)
            return o->qps_firmware * o->qps_scale;
        if (strcmp(action, "QueryDeviceDetail") == 0)
            return o->qps_device_detail * o->qps_scale;
        return o->qps_query * o->qps_scale;
    case EMU_ACTION_CANCEL:
        return o->qps_cancel * o->qps_scale;
    case EMU_ACTION_BATCH:
        return o->qps_batch * o->qps_scale;
    default:
        return 0; /* no quota: the world answers InvalidAction.NotFound */
    }
}

int emu_server_check_faults(const struct emu_fault_opts *f,
                            struct orch_diag *diag)
{
    unsigned i = 0;

    for (i = 0; i < f->nactions; i++)
        if (strcmp(emu_action_class(f->actions[i]), "other") == 0)
            return orch_diag_set(diag, ORCH_EINVAL,
                                 "--fault-actions: \"%s\" is not an action "
                                 "the emulator answers",
                                 f->actions[i]);
    return emu_faults_check(f, diag);
}

static bool faults_sleep(const struct emu_server_opts *o)
{
    return o->faults.lat_max_ms > 0 || o->faults.nmix > 0
        || o->faults.p_slow > 0;
}

unsigned emu_server_threads(const struct emu_server_opts *o)
{
    long n = 0;

    if (faults_sleep(o))
        return 0;
    if (o->threads > 0)
        return o->threads;
    /* A request log means a test, which checks arrival times (20 Creates
     * in any second): in an event loop a request's arrival is stamped
     * only once the thread has finished the requests before it, which
     * can bunch arrivals the client spaced out. */
    if (o->request_log)
        return 0;
    n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 8 ? 8 : (unsigned)n;
}

int emu_server_opts_check(const struct emu_server_opts *o,
                          struct orch_diag *diag)
{
    bool tls = o->tls_cert_pem && o->tls_key_pem;
    int rc = 0;

    if (o->world == NULL || o->verifier == NULL)
        return orch_diag_set(diag, ORCH_EINVAL, "no world or verifier");
    if (!(o->qps_scale > 0) || o->qps_create <= 0 || o->qps_query <= 0
        || o->qps_firmware <= 0 || o->qps_device_detail <= 0
        || o->qps_cancel <= 0 || o->qps_batch <= 0 || o->qps_sts <= 0)
        return orch_diag_set(diag, ORCH_EINVAL,
                             "quotas and --qps-scale must be positive");
    rc = emu_server_check_faults(&o->faults, diag);
    if (rc)
        return rc;
    if (o->threads > 0 && faults_sleep(o))
        return orch_diag_set(diag, ORCH_EINVAL,
                             "a thread pool cannot serve latency or slow-body "
                             "faults (they sleep): leave the thread count "
                             "automatic");
    if ((o->tls_cert_pem != NULL) != (o->tls_key_pem != NULL))
        return orch_diag_set(diag, ORCH_EINVAL,
                             "--tls-cert and --tls-key go together");
    if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return orch_diag_set(diag, ORCH_EINVAL,
                             "this libmicrohttpd has no TLS support");
    return 0;
}
