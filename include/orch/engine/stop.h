/* stop.h - when the dispatcher stops sending: the run's stop (first
 * reason wins) and the fatal-streak rule of a group of items.
 *
 * Internal to the dispatcher (dispatch.c and its files); pure state, no
 * I/O and no clock, so it is tested on its own.
 *
 * The run's stop: a FATAL answer, a failed journal sync, an interrupt or a
 * broken libcurl multi handle stops admissions. The first stop's code and
 * message are kept (copied, truncated to the buffers); later ones are
 * ignored, so every item not sent because of it names the same cause.
 *
 * The fatal-streak rule: items of one group (one firmware) that fail
 * with the same final business code on the group's first `threshold`
 * final results stop that group: the rest of it would fail the same way.
 * Any other first result (a success, a different code) turns the rule
 * off for the group for good. A threshold <= 0 turns it off everywhere.
 * Groups are few (one per firmware): kept in a small array searched
 * linearly. Out of memory for a new group only skips the rule for it (it
 * is a safeguard, not a correctness condition). Not thread-safe.
 */
#ifndef ORCH_STOP_H
#define ORCH_STOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct orch_stop {
    bool stopping;     /* no more admissions */
    char code[128];    /* the stop's code, "" until stopping */
    char message[256]; /* one line: every unsent item's message */
};

/* Not stopping. */
void orch_stop_init(struct orch_stop *s);
/* Stops with `code` and `message` (copied). Returns true when this call
 * stopped the run, false when it was already stopping (nothing changes). */
bool orch_stop_set(struct orch_stop *s, const char *code, const char *message);

struct orch_streak_group {
    uint32_t group;
    unsigned streak; /* first final results, all failed with `code` */
    bool broken;     /* a different result came first: the rule is off */
    bool stopped;    /* the streak reached the threshold */
    char code[128];
};

struct orch_streak {
    int threshold;                    /* <= 0: the rule is off */
    struct orch_streak_group *groups; /* owned */
    size_t n, cap;
};

/* An empty rule for `threshold` first results; cleanup frees the groups
 * (accepts an initialised rule in any state). */
void orch_streak_init(struct orch_streak *s, int threshold);
void orch_streak_cleanup(struct orch_streak *s);
/* True when the rule can stop anything (threshold > 0). */
bool orch_streak_on(const struct orch_streak *s);
/* Feeds one final result of an item of `group`: failed with `code`
 * (copied), or not failed (code ignored). */
void orch_streak_note(struct orch_streak *s, uint32_t group, bool failed,
                      const char *code);
/* The code that stopped `group`, or NULL when the group was not stopped.
 * The pointer lives as long as the rule (until cleanup). */
const char *orch_streak_stopped(const struct orch_streak *s, uint32_t group);

#endif
