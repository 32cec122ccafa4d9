/* emu_counters.c - the server's request, fault and rate counters. */
#include "server/emu_counters.h"

#include <stdio.h>
#include <string.h>

static struct emu_action_stat *action_stat_for(struct emu_counters *n,
                                               const char *action)
{
    size_t i = 0;
    const char *name = action && action[0] ? action : "(none)";

    for (i = 0; i < n->nactions; i++)
        if (strcmp(n->actions[i].name, name) == 0)
            return &n->actions[i];
    /* Random action names must not grow the table without bound. */
    if (n->nactions == EMU_COUNTERS_MAX_ACTIONS - 1)
        name = "(other)";
    for (i = 0; i < n->nactions; i++)
        if (strcmp(n->actions[i].name, name) == 0)
            return &n->actions[i];
    snprintf(n->actions[n->nactions].name, sizeof(n->actions[0].name), "%s",
             name);
    return &n->actions[n->nactions++];
}

void emu_counters_arrival(struct emu_counters *n, const char *action,
                          enum emu_action_class cls, int64_t t)
{
    struct emu_action_stat *a = action_stat_for(n, action);

    n->requests++;
    a->count++;
    emu_window_add(&a->win, t);
    emu_window_add(&n->cls_win[cls], t);
}

void emu_counters_fault(struct emu_counters *n, enum emu_fault_kind k)
{
    n->faults[k]++;
    if (k == EMU_FAULT_THROTTLE)
        n->throttled++;
}

json_t *emu_counters_json(const struct emu_counters *n)
{
    json_t *by = json_object();
    json_t *byw = json_object();
    json_t *f = json_object();
    json_t *mx = json_object();
    size_t i = 0;

    for (i = 0; i < n->nactions; i++) {
        json_object_set_new(by, n->actions[i].name,
                            json_integer((json_int_t)n->actions[i].count));
        json_object_set_new(byw, n->actions[i].name,
                            json_integer((json_int_t)n->actions[i].win.max));
    }
    for (i = 1; i < EMU_FAULT_COUNT_; i++)
        json_object_set_new(f, emu_fault_name((enum emu_fault_kind)i),
                            json_integer((json_int_t)n->faults[i]));
    for (i = 0; i < EMU_ACTION_NCLASSES; i++)
        json_object_set_new(mx,
                            emu_action_class_name((enum emu_action_class)i),
                            json_integer((json_int_t)n->cls_win[i].max));
    return json_pack("{s:I,s:o,s:I,s:I,s:I,s:o,s:o,s:o}", "requests",
                     (json_int_t)n->requests, "by_action", by, "throttled",
                     (json_int_t)n->throttled, "auth_failed",
                     (json_int_t)n->auth_failed, "uri_too_long",
                     (json_int_t)n->uri_too_long, "faults", f,
                     "max_calls_in_any_second", mx,
                     "max_calls_in_any_second_by_action", byw);
}

void emu_counters_cleanup(struct emu_counters *n)
{
    size_t i = 0;

    for (i = 0; i < n->nactions; i++)
        emu_window_cleanup(&n->actions[i].win);
    for (i = 0; i < EMU_ACTION_NCLASSES; i++)
        emu_window_cleanup(&n->cls_win[i]);
}
