/* statusverdict.h - what a `status` refresh concludes: whether every
 * job's tasks are decided (a --watch stops), how many jobs could not be
 * queried, whether the rollout is complete, and the reason the exit
 * document gives for an exit code. Pure: reads the refresh's counts in
 * the rollout (rollout.h) and its failure reasons (taskagg.h); borrows
 * both.
 */
#ifndef ORCH_STATUSVERDICT_H
#define ORCH_STATUSVERDICT_H

#include <stdbool.h>
#include <stddef.h>

struct orch_rollout;
struct orch_taskagg;

/* Every job was queried and none has a task still pending. */
bool orch_statusverdict_all_decided(const struct orch_rollout *r);
/* Jobs that could not be queried. */
size_t orch_statusverdict_jobs_failed(const struct orch_rollout *r);
/* The rollout is complete (taskagg.h's summary; false when it cannot be
 * summarised). */
bool orch_statusverdict_complete(const struct orch_rollout *r,
                                 const struct orch_taskagg *agg);
/* The exit document's reason for `code`: the rollout complete; for a
 * partial exit, how many jobs could not be queried or (counted: the last
 * refresh completed) why the rollout is not complete, written into buf;
 * else `fallback` (the last error printed). */
const char *orch_statusverdict_reason(const struct orch_rollout *r,
                                      const struct orch_taskagg *agg,
                                      bool counted, int code,
                                      const char *fallback, char *buf,
                                      size_t bufsz);

#endif
