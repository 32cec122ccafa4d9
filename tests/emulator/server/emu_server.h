/* emu_server.h - ota-emulator's HTTP side: libmicrohttpd server, gateway
 * checks (signature, quota), faults, request log and the stats endpoints.
 *
 * Paths: "/" is the API (GET or POST, query and x-www-form-urlencoded
 * body; bodies over max_body get 413). GET /__emu/stats returns counters
 * (see emu_server_stats), GET /__emu/jobs returns emu_world_dump_jobs(),
 * GET /__emu/faults the fault settings and POST /__emu/faults changes them
 * (emu_server_faults, emu_server_set_faults). GET /__emu/clock returns
 * {"now_ms", "advanced_ms"}; POST /__emu/clock?advance=MS moves the clock
 * forward (emu_server_advance_clock).
 *
 * Per API request, in order: arrival time and number recorded; fault plan
 * drawn; latency slept; a burst throttle, 5xx, reset or malformed fault
 * answers without processing; the verifier's verdict (gateway error on
 * failure); the per-AccessKey quota (Throttling.User); emu_world_call();
 * a lost-response fault closes without answering, a slow one trickles the
 * answer; one request-log line.
 *
 * Quotas are counted per AccessKey and per action over any sliding 1000 ms
 * (orch_ratelimit), at the rates alibaba-api.md (e) documents by default:
 * Create 20/s, QueryOTAFirmware 20/s, QueryDeviceDetail 50/s,
 * BatchQueryDeviceDetail 5/s, CancelOTATaskByJob 5/s, every other query
 * action 10/s (see emu_action_quota), for authenticated calls only: a call with a bad
 * signature cannot be attributed to an account, and the real gateway
 * authenticates before it applies flow control. The arrival time is the
 * time counted. Throttled calls are not counted against the window.
 *
 * Threads: when a request may sleep (added latency, slow bodies) or a
 * request log is kept, MHD runs one thread per connection, so a sleeping
 * request delays nobody else; otherwise a small pool of event-loop
 * threads (epoll) serves every connection, which saves a context switch
 * or two per request (see emu_server_threads). The server's own state is behind one mutex, the
 * world and the verifier lock themselves.
 */
#ifndef EMU_SERVER_H
#define EMU_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "server/emu_faults.h"

struct orch_diag;
struct emu_world;
struct emu_verifier;
struct emu_server;

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
};

/* Defaults as documented above. */
void emu_server_opts_init(struct emu_server_opts *o);

/* Starts listening; on return the socket accepts connections. Returns 0
 * and *out (stop it with emu_server_stop), or ORCH_EINVAL / ORCH_EIO /
 * ORCH_ENOMEM with diag. Borrows world and verifier, which must outlive
 * the server; copies everything else. */
int emu_server_start(const struct emu_server_opts *o, struct emu_server **out,
                     struct orch_diag *diag);
/* The threading the options ask for: 0 = one thread per connection
 * (any latency or slow-body fault configured: those sleep in the
 * connection's thread), else the size of the event-loop pool: o->threads
 * if set; otherwise 0 with a request log (tests check arrival times, which
 * an event loop stamps late when it is busy), else the number of online
 * CPUs (at least 1, at most 8). o->threads with sleeping faults is
 * refused by emu_server_start. */
unsigned emu_server_threads(const struct emu_server_opts *o);
/* The bound port. */
uint16_t emu_server_port(const struct emu_server *s);
/* Counters as JSON (new reference):
 * {"requests":N,"by_action":{"QueryOTAJob":N,..},"throttled":N,
 *  "auth_failed":N,"faults":{"5xx":N,"reset":N,"lose":N,"malformed":N,
 *  "slow":N,"throttle_burst":N},
 *  "max_calls_in_any_second":{"create":N,"query":N,"cancel":N,"batch":N,
 *  "other":N},"max_calls_in_any_second_by_action":{..},
 *  + every field of emu_world_stats(): "jobs","devices_assigned","tasks",
 *  "double_assigned"}.
 * The maxima are over any sliding 1000 ms window of arrival times, every
 * arriving API request counted (throttled and rejected ones included). */
json_t *emu_server_stats(struct emu_server *s);
/* Stops accepting, waits for the connection threads, frees; NULL-safe. */
void emu_server_stop(struct emu_server *s);

/* The fault settings as JSON (new reference): {"seed":N,"fail-5xx":P,
 * "reset":P,"lose-response":P,"malformed":P,"slow-body":P,
 * "fail-queries":P,"fault-actions":["CreateOTAStaticUpgradeJob",..]}
 * (an empty list: every action). GET /__emu/faults answers it. */
json_t *emu_server_faults(struct emu_server *s);
/* Changes fault settings while the server runs (POST /__emu/faults, its
 * form in the query or an x-www-form-urlencoded body): "name=value" pairs
 * joined by '&', names as the options: fail-5xx, reset, lose-response,
 * malformed, fail-queries (probabilities), fault-actions (a list, "" or
 * "all" for every action). Fields not named keep their value; latency,
 * slow bodies, bursts and the seed cannot change (they decide the
 * threading, or the replay). All or nothing: returns 0, or ORCH_EINVAL
 * with diag and nothing changed. Requests arriving afterwards use the new
 * settings. Thread-safe. */
int emu_server_set_faults(struct emu_server *s, const char *form,
                          struct orch_diag *diag);
/* Moves the emulator's clock forward by the form's advance=MS (1 ms to
 * 366 days; a form as POST /__emu/clock takes it): jobs scheduled before
 * the new time start, tasks progress by the time skipped. Never backward:
 * the quota windows count arrivals in time order. Returns 0, or
 * ORCH_EINVAL with diag and the clock unchanged. Thread-safe. */
int emu_server_advance_clock(struct emu_server *s, const char *form,
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
