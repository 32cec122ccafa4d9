/* stslane.h - the pacing of the STS calls the credentials make
 * (AssumeRole, AssumeRoleWithOIDC): a lane per (quota key, action) like
 * the dispatcher's (pacer.h), but thread-safe, since the credential
 * refresher (cloud/credlive.h) fetches on a thread of its own while the
 * dispatcher's thread owns the pacer.
 *
 * Each lane is an orch_ratelimit configured as the pacer configures its
 * lanes (orch_pacer_limiter_init: the rate less the window margin, starts
 * spaced evenly, the sliding-window check, the slow-down on throttling).
 * With a quota key, the lane's state is shared with the other processes
 * of this machine that use the same key (quotashare.h), through a handle
 * of this object's OWN per key: a handle is used by one thread at a time,
 * which the object's mutex guarantees (the pacer's handles stay the
 * dispatcher's). The key is the one the dispatcher's lanes use
 * (engine_opts.h orch_engine_opts_set_quota_key: a refreshed set's source
 * label), so the file is the same one and the STS actions are lanes of
 * their own in it.
 *
 * Only the STS calls are account quotas. The ECS metadata service, a
 * credentials URI and an External process are local to the machine (or
 * to the operator's own service) and count against no API quota: they
 * are not paced here; the refresher's own schedule and backoff bound them.
 *
 * Threads: every call is thread-safe, but orch_stslane_free, which must
 * come after every other use.
 */
#ifndef ORCH_STSLANE_H
#define ORCH_STSLANE_H

#include <signal.h>
#include <stdint.h>

struct orch_engine_opts;
struct orch_diag;
struct orch_stslane;

/* The documented quota of AssumeRole and of AssumeRoleWithOIDC: 100 calls
 * per second per account (ParentUid), every region together (Alibaba
 * Cloud, "STS API quota" help.aliyun.com/zh/ram/developer-reference/
 * api-sts-2015-04-01-quota; the notice "Request Limit Upgrade of STS
 * AssumeRole API", 2022-08-29). */
#define ORCH_STS_QUOTA_QPS 100.0
/* The rate the tool's STS lanes run at: half the quota. The quota counts
 * every RAM user and role of the account in every region, other tools
 * and SDKs included, and a refresh is needed once per tens of minutes per
 * process, so half costs nothing; and a limiter at 50/s fits the shared
 * state's slots (quotashare.h ORCH_QUOTASHARE_SLOTS), so the processes of
 * the machine share it (at 100/s the lane would pace alone, pacer.h). */
#define ORCH_STS_PACE_QPS 50.0

/* A set of STS lanes at `qps` (> 0) calls per second under o's margins
 * and o->quota_dir (copied; o->quota_key is not used: each call names its
 * key). Returns 0 with *out (orch_stslane_free), ORCH_EINVAL or
 * ORCH_ENOMEM. */
int orch_stslane_new(struct orch_stslane **out,
                     const struct orch_engine_opts *o, double qps);
/* Closes the shared-state handles and frees; NULL-safe. */
void orch_stslane_free(struct orch_stslane *s);

/* Asks to start one call of `action` under `key` (NULL or "": this
 * process alone) at now_ms (orch_mono_ms). Returns 0 and records the
 * start, or the ms to wait before asking again (>= 1); UINT64_MAX when the
 * lane cannot be made (out of memory, an action name over 63 bytes). */
uint64_t orch_stslane_take(struct orch_stslane *s, const char *key,
                           const char *action, uint64_t now_ms);
/* Blocks until a call may start (orch_stslane_take in a loop, sleeping on
 * the monotonic clock, waking at least every 100 ms to look at *stop, may
 * be NULL). Returns 0 with *start_ms the recorded start, ORCH_EABORT when
 * *stop became nonzero first, ORCH_ENOMEM when the lane cannot be made. */
int orch_stslane_wait(struct orch_stslane *s, const char *key,
                      const char *action, volatile sig_atomic_t *stop,
                      uint64_t *start_ms);
/* A throttling answer seen at now_ms to the call started at sent_ms
 * (ratelimit.h orch_ratelimit_throttled_at; shared with the other
 * processes). */
void orch_stslane_throttled(struct orch_stslane *s, const char *key,
                            const char *action, uint64_t now_ms,
                            uint64_t sent_ms);
/* The lane's current effective rate (after adaptation), 0 when it does
 * not exist yet. */
double orch_stslane_rate(struct orch_stslane *s, const char *key,
                         const char *action);

#endif
