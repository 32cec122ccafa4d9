/* emu_faults.h - ota-emulator's injected faults: latency, 5xx answers,
 * connection resets, lost responses, malformed and slow bodies, throttling
 * bursts.
 *
 * Replayable: the plan of request number `seq` is a pure function of the
 * options (seed included), seq, the action and the time since the server
 * started, so a failing test run with the same seed and the same request
 * order replays. Pure and thread-safe; the options are the caller's to
 * guard (the server changes them at run time under its lock, see
 * emu_server_set_faults).
 *
 * Scope: --fault-actions limits every fault above (latency and throttling
 * bursts included) to the actions listed; --fail-queries P answers each
 * query action (QueryOTAJob, ListOTA*, QueryOTAFirmware,
 * QueryDeviceDetail, BatchQueryDeviceDetail) 503 ServiceUnavailable with
 * probability P, before processing, whatever the scope says: with both,
 * a Create's answer can be lost while the queries that would reconcile
 * it fail.
 */
#ifndef EMU_FAULTS_H
#define EMU_FAULTS_H

#include <stdint.h>

struct orch_diag;

enum emu_fault_kind {
    EMU_FAULT_NONE = 0,
    EMU_FAULT_5XX,       /* 500 InternalError / 503 ServiceUnavailable,
                            answered before processing */
    EMU_FAULT_RESET,     /* connection reset before processing */
    EMU_FAULT_LOSE,      /* processed, then closed with no answer */
    EMU_FAULT_MALFORMED, /* 200 with a truncated JSON or an HTML body,
                            without processing */
    EMU_FAULT_SLOW,      /* processed; the answer trickles out */
    EMU_FAULT_THROTTLE,  /* inside a throttling burst: Throttling.User */
    EMU_FAULT_COUNT_
};

enum emu_latency_dist {
    EMU_LAT_UNIFORM = 0, /* uniform in [min, max] */
    EMU_LAT_LOGNORMAL,   /* median sqrt(min*max), p99 ~ max, clamped */
    EMU_LAT_MIX          /* piecewise-linear percentile table */
};

#define EMU_FAULTS_MAX_MIX 16
#define EMU_FAULTS_MAX_BURSTS 16
#define EMU_FAULTS_MAX_ACTIONS 16
#define EMU_FAULTS_ACTION_LEN 64

struct emu_fault_opts {
    uint64_t seed;
    double p_5xx, p_reset, p_lose, p_malformed, p_slow; /* each 0..1 */
    unsigned lat_min_ms, lat_max_ms;
    enum emu_latency_dist dist;
    unsigned nmix;                      /* EMU_LAT_MIX: points, ascending */
    double mix_pct[EMU_FAULTS_MAX_MIX]; /* percentile 0..100 */
    unsigned mix_ms[EMU_FAULTS_MAX_MIX];
    unsigned nbursts;                   /* fixed bursts since start */
    int64_t burst_start_ms[EMU_FAULTS_MAX_BURSTS];
    int64_t burst_dur_ms[EMU_FAULTS_MAX_BURSTS];
    double p_burst_slot;                /* random bursts: each slot of */
    unsigned burst_slot_ms;             /* burst_slot_ms is one with this
                                           probability (0 = none) */
    double p_fail_query;                /* --fail-queries: 503 to a query
                                           action, outside the scope */
    unsigned nactions;                  /* --fault-actions: the scope of
                                           the faults above; 0 = every
                                           action */
    char actions[EMU_FAULTS_MAX_ACTIONS][EMU_FAULTS_ACTION_LEN];
};

struct emu_fault_plan {
    enum emu_fault_kind kind;
    unsigned latency_ms; /* added before answering (every request) */
    int status;          /* EMU_FAULT_5XX: 500 or 503 */
    int variant;         /* EMU_FAULT_MALFORMED: 0 truncated JSON, 1 HTML */
};

/* All zero: no faults, no latency. */
void emu_fault_opts_init(struct emu_fault_opts *o);

/* The plan for request `seq` arriving `since_start_ms` after the server
 * started, every action alike (the scope and --fail-queries ignored). */
void emu_faults_plan(const struct emu_fault_opts *o, uint64_t seq,
                     int64_t since_start_ms, struct emu_fault_plan *out);
/* The plan for request `seq` of `action` (NULL: none given): the plan
 * above if the action is in the scope, else no fault and no latency; then,
 * for a query action (`query`), --fail-queries' own draw turns it into a
 * 503 (keeping the latency). */
void emu_faults_plan_action(const struct emu_fault_opts *o, uint64_t seq,
                            int64_t since_start_ms, const char *action,
                            int query, struct emu_fault_plan *out);
/* Whether `action` is in the scope of the faults (always, with no
 * --fault-actions). */
int emu_faults_in_scope(const struct emu_fault_opts *o, const char *action);

/* Name for logs and stats: "5xx", "reset", "lose", "malformed", "slow",
 * "throttle_burst"; NULL for EMU_FAULT_NONE. */
const char *emu_fault_name(enum emu_fault_kind k);

/* Option parsers. Each returns 0 or ORCH_EINVAL with diag. */
/* "MIN-MAX" or "N" (milliseconds). */
int emu_faults_parse_latency(struct emu_fault_opts *o, const char *s,
                             struct orch_diag *diag);
/* "uniform", "lognormal" or "mix:P=MS,P=MS,..." (e.g.
 * "mix:50=5,90=20,99=200,100=1000": half the requests take <= 5 ms ...).
 * uniform and lognormal shape the --latency-ms MIN-MAX range; a mix is a
 * whole distribution of its own (piecewise linear from 0 ms at percentile
 * 0), used without --latency-ms. The last one given wins. */
int emu_faults_parse_dist(struct emu_fault_opts *o, const char *s,
                          struct orch_diag *diag);
/* "START_MS:DUR_MS" (since the server started), repeatable; or
 * "random:P:SLOT_MS" (each SLOT_MS slot is a burst with probability P). */
int emu_faults_parse_burst(struct emu_fault_opts *o, const char *s,
                           struct orch_diag *diag);
/* "A,B,..." action names: the scope (replaces any earlier one); "" or
 * "all": every action. Names are letters only, at most
 * EMU_FAULTS_MAX_ACTIONS; whether they are actions the emulator knows is
 * the caller's check. */
int emu_faults_parse_actions(struct emu_fault_opts *o, const char *s,
                             struct orch_diag *diag);
/* A probability "0".."1" into *p. */
int emu_faults_parse_prob(double *p, const char *s, struct orch_diag *diag);
/* The checks across options, once they are all parsed (in any order):
 * a mix table does not combine with a MIN-MAX range, lognormal needs one,
 * the fault probabilities add up to at most 1. Returns 0 or ORCH_EINVAL
 * with diag. */
int emu_faults_check(const struct emu_fault_opts *o, struct orch_diag *diag);

#endif
