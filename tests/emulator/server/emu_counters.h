/* emu_counters.h - what the server counts for GET /__emu/stats: requests
 * by action, throttled and refused ones, faults by kind, and the most
 * arrivals in any second by action and by quota class.
 *
 * Does not lock: the server's mutex guards it.
 */
#ifndef EMU_COUNTERS_H
#define EMU_COUNTERS_H

#include "ops/emu_ops.h"
#include "server/emu_faults.h"
#include "server/emu_rate.h"

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Distinct action names counted; the rest count as "(other)". */
#define EMU_COUNTERS_MAX_ACTIONS 64

struct emu_action_stat {
    char name[128];
    uint64_t count;
    struct emu_window win;
};

/* Zero-initialized is empty. */
struct emu_counters {
    uint64_t requests, throttled, auth_failed, uri_too_long;
    uint64_t faults[EMU_FAULT_COUNT_];
    struct emu_action_stat actions[EMU_COUNTERS_MAX_ACTIONS];
    size_t nactions;
    struct emu_window cls_win[EMU_ACTION_NCLASSES];
};

/* Counts an API request of `action` (NULL or "": "(none)") arriving at
 * t, in its class's window too. */
void emu_counters_arrival(struct emu_counters *n, const char *action,
                          enum emu_action_class cls, int64_t t);
/* Counts a fault answered (a throttling burst also counts as
 * throttled). */
void emu_counters_fault(struct emu_counters *n, enum emu_fault_kind k);
/* {"requests","by_action","throttled","auth_failed","uri_too_long",
 *  "faults","max_calls_in_any_second","max_calls_in_any_second_by_action"}
 * (see emu_server_stats). New reference, NULL on ENOMEM. */
json_t *emu_counters_json(const struct emu_counters *n);
/* Frees the windows. */
void emu_counters_cleanup(struct emu_counters *n);

#endif
