/* stop.c - the run's stop and the per-group fatal-streak rule (stop.h). */
#include "orch/engine/stop.h"

#include "orch/base/grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void orch_stop_init(struct orch_stop *s)
{
    memset(s, 0, sizeof(*s));
}

bool orch_stop_set(struct orch_stop *s, const char *code, const char *message)
{
    if (s->stopping)
        return false;
    s->stopping = true;
    snprintf(s->code, sizeof(s->code), "%.127s", code);
    snprintf(s->message, sizeof(s->message), "%.255s", message);
    return true;
}

void orch_streak_init(struct orch_streak *s, int threshold)
{
    memset(s, 0, sizeof(*s));
    s->threshold = threshold;
}

void orch_streak_cleanup(struct orch_streak *s)
{
    free(s->groups);
    orch_streak_init(s, s->threshold);
}

bool orch_streak_on(const struct orch_streak *s)
{
    return s->threshold > 0;
}

static struct orch_streak_group *find(const struct orch_streak *s,
                                      uint32_t group)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->groups[i].group == group)
            return &s->groups[i];
    return NULL;
}

/* The group's state, added when new; NULL when out of memory. */
static struct orch_streak_group *find_or_add(struct orch_streak *s,
                                             uint32_t group)
{
    struct orch_streak_group *g = find(s, group);

    if (g != NULL)
        return g;
    g = orch_grow(s->groups, &s->cap, s->n + 1, sizeof(*g), 8);
    if (g == NULL)
        return NULL;
    s->groups = g;
    g = &s->groups[s->n++];
    memset(g, 0, sizeof(*g));
    g->group = group;
    return g;
}

void orch_streak_note(struct orch_streak *s, uint32_t group, bool failed,
                      const char *code)
{
    struct orch_streak_group *g = NULL;

    if (!orch_streak_on(s))
        return;
    g = find_or_add(s, group);
    if (g == NULL || g->broken || g->stopped)
        return;
    if (!failed || (g->streak > 0 && strcmp(g->code, code) != 0)) {
        g->broken = true;
        return;
    }
    if (g->streak == 0)
        snprintf(g->code, sizeof(g->code), "%s", code);
    if (++g->streak >= (unsigned)s->threshold)
        g->stopped = true;
}

const char *orch_streak_stopped(const struct orch_streak *s, uint32_t group)
{
    const struct orch_streak_group *g = find(s, group);

    return g != NULL && g->stopped ? g->code : NULL;
}
