/* emu_opts.h - the options of ota-emulator's server: what it listens
 * on, what it serves, the quotas, the faults, the clock and the
 * threading; their defaults and checks.
 *
 * Quotas are counted per AccessKey and per action over any sliding 1000 ms
 * (orch_ratelimit), at the rates alibaba-api.md (e) documents by default:
 * Create 20/s, QueryOTAFirmware 20/s, QueryDeviceDetail 50/s,
 * BatchQueryDeviceDetail 5/s, CancelOTATaskByJob 5/s, every other query
 * action 10/s (see emu_action_quota), for authenticated calls only: a
 * call with a bad signature cannot be attributed to an account, and the real gateway
 * authenticates before it applies flow control. The arrival time is the
 * time counted. Throttled calls are not counted against the window.
 *
 */
#ifndef EMU_OPTS_H
#define EMU_OPTS_H

#include "server/emu_faults.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct orch_diag;
struct emu_world;
struct emu_verifier;

/* The emulator's wall clock (epoch ms). Tests replace it. */
struct emu_clock {
    int64_t (*now_ms)(void *ctx);
    void *ctx;
};

struct emu_server_opts {
    uint16_t port;              /* 0 = any free port */
    const char *bind;           /* "127.0.0.1" (default), "::1", ... */
    const char *tls_cert_pem;   /* PEM contents; both set = HTTPS */
    const char *tls_key_pem;
    struct emu_world *world;    /* borrowed, required */
    struct emu_verifier *verifier; /* borrowed, required */
    const char *request_log;    /* path, or NULL for none */
    double qps_create;          /* CreateOTAStaticUpgradeJob (20) */
    double qps_query;           /* QueryOTAJob, ListOTAJobByFirmware,
                                   ListOTATaskByJob, ListOTAJobByDevice
                                   (10, each action its own) */
    double qps_firmware;        /* QueryOTAFirmware (20) */
    double qps_device_detail;   /* QueryDeviceDetail (50) */
    double qps_cancel;          /* CancelOTATaskByJob (5) */
    double qps_batch;           /* BatchQueryDeviceDetail (5) */
    double qps_sts;             /* STS AssumeRole, AssumeRoleWithOIDC
                                   (100, each action its own; per
                                   account, an OIDC call per RoleArn) */
    double qps_scale;           /* multiplies all of them (1) */
    struct emu_fault_opts faults;
    struct emu_clock clock;     /* now_ms NULL = the real wall clock */
    size_t max_body;            /* 0 = 1 MiB */
    size_t max_uri;             /* 0 = no limit; a longer request target
                                   gets 414 before processing, as a proxy
                                   in front of the gateway might answer */
    unsigned slow_ms;           /* total time a slow answer takes (1000) */
    const char *host_id;        /* HostId in gateway errors; NULL = the
                                   request's Host header */
    unsigned threads;           /* 0 = auto (see emu_server_threads) */
    /* Credential services (emu_creds.c, ops/emu_sts.h): */
    long sts_ttl_s;             /* lifetime of minted keys; 0 = STS: the
                                   DurationSeconds asked, others 3600 */
    const char *oidc_token;     /* AssumeRoleWithOIDC requires exactly this
                                   token; NULL: any non-empty one */
    const char *ecs_role;       /* serve the ECS metadata paths with this
                                   RAM role; NULL: they are 404 */
    bool imdsv2_only;           /* metadata: the session token is required */
    bool imdsv1_only;           /* metadata: no IMDSv2 (PUT /latest/api/token
                                   is 404), as an old metadata service */
    const char *cred_account;   /* the account key the credentials URI,
                                   the metadata service and OIDC mint
                                   for; NULL: the first --access-key */
};

/* Defaults as documented above. */
void emu_server_opts_init(struct emu_server_opts *o);

/* The threading the options ask for: 0 = one thread per connection
 * (any latency or slow-body fault configured: those sleep in the
 * connection's thread), else the size of the event-loop pool: o->threads
 * if set; otherwise 0 with a request log (tests check arrival times, which
 * an event loop stamps late when it is busy), else the number of online
 * CPUs (at least 1, at most 8). o->threads with sleeping faults is
 * refused by emu_server_start. */
unsigned emu_server_threads(const struct emu_server_opts *o);
/* The checks emu_server_start makes before it takes any resource: a
 * world and a verifier, positive quotas, the faults
 * (emu_server_check_faults), no thread pool with sleeping faults, TLS
 * certificate and key together (and supported). Returns 0 or
 * ORCH_EINVAL with diag. */
int emu_server_opts_check(const struct emu_server_opts *o,
                          struct orch_diag *diag);
/* emu_faults_check, plus: every --fault-actions name is an action the
 * emulator answers. Returns 0 or ORCH_EINVAL with diag. */
int emu_server_check_faults(const struct emu_fault_opts *f,
                            struct orch_diag *diag);

/* The class of an action: "create", "query", "cancel", "batch", "other". */
const char *emu_action_class(const char *action);
/* The quota of `action` per AccessKey, calls per second, --qps-scale
 * applied; 0 for an action the emulator does not know (no quota: the
 * world answers InvalidAction.NotFound). */
double emu_action_quota(const struct emu_server_opts *o, const char *action);

#endif
