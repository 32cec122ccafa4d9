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
 * answer; one request-log line. The options, the quotas and the
 * threading: emu_opts.h.
 *
 * Threads: when a request may sleep (added latency, slow bodies) or a
 * request log is kept, MHD runs one thread per connection, so a sleeping
 * request delays nobody else; otherwise a small pool of event-loop
 * threads (epoll) serves every connection, which saves a context switch
 * or two per request (see emu_server_threads). The server's own state
 * is behind one mutex; the world and the verifier lock themselves.
 */
#ifndef EMU_SERVER_H
#define EMU_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "server/emu_opts.h"

struct orch_diag;
struct emu_world;
struct emu_verifier;
struct emu_server;

/* Starts listening; on return the socket accepts connections. Returns 0
 * and *out (stop it with emu_server_stop), or ORCH_EINVAL / ORCH_EIO /
 * ORCH_ENOMEM with diag. Borrows world and verifier, which must outlive
 * the server; copies everything else. */
int emu_server_start(const struct emu_server_opts *o, struct emu_server **out,
                     struct orch_diag *diag);
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
#endif
