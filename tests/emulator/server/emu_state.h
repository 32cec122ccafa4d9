/* emu_state.h - the state of a running server, shared by emu_server.c
 * (lifecycle, routing, the /__emu/ endpoints) and emu_api.c (the API
 * request). Not part of the server's contract (that is emu_server.h).
 *
 * Locking: `lock` guards the fields marked below; the world, the
 * verifier and the request log lock themselves; the rest is set before
 * the daemon starts and read-only afterwards, except advanced_ms
 * (atomic).
 */
#ifndef EMU_STATE_H
#define EMU_STATE_H

#include "server/emu_counters.h"
#include "server/emu_log.h"
#include "server/emu_rate.h"
#include "server/emu_opts.h"
#include "ops/emu_sts.h"

#include "orch/base/buf.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct emu_server {
    struct MHD_Daemon *d;
    struct emu_server_opts o;   /* o.faults: guarded by lock */
    char *bind;
    char *cert;
    char *key;
    char *host_id;
    char *oidc_token;           /* copies of the options' strings */
    char *ecs_role;
    char *cred_account;
    struct emu_log *log;
    struct emu_mint *mint;      /* minted keys (locks itself) */
    int64_t start_ms;
    uint16_t port;
    _Atomic int64_t advanced_ms; /* POST /__emu/clock: added to the clock */

    pthread_mutex_t lock; /* o.faults and everything below */
    uint64_t seq;
    struct emu_counters stats;
    struct emu_quotas quotas;
};

/* One HTTP request: made by the URI-log callback (MHD calls it first,
 * with the raw request target), its body collected across calls of the
 * access handler, freed by the completion callback. */
struct emu_req {
    struct emu_server *srv;
    char *target;       /* raw request target, "/?a=b" */
    struct orch_buf body;
    bool started;
    bool too_big;
    int64_t t;          /* arrival, emulator clock */
};

/* Answers GET /credentials and the ECS metadata paths (/latest/...):
 * emu_creds.c. Returns MHD's verdict. */
enum MHD_Result emu_creds_handle(struct emu_server *s,
                                 struct MHD_Connection *con,
                                 struct emu_req *r, const char *url,
                                 const char *method);
/* True when url is one emu_creds_handle answers. */
bool emu_creds_route(const char *url);
/* The options of the credential services (borrowed from s). */
struct emu_sts_opts emu_server_sts_opts(const struct emu_server *s);

/* The emulator's clock: the configured clock plus the advances. */
int64_t emu_server_now(const struct emu_server *s);

/* Answers an API request (path "/", GET or POST) in the steps
 * emu_server.h lists. Returns MHD's verdict (MHD_NO drops the
 * connection: a reset or lost-response fault, or ENOMEM). */
enum MHD_Result emu_api_handle(struct emu_server *s,
                               struct MHD_Connection *con,
                               struct emu_req *r, const char *method);

#endif
