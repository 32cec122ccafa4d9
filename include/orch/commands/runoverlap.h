/* runoverlap.h - the words of a new `run` about the devices of its
 * inventory that an unfinished run holds (rollout/overlap.h): one line
 * per kind of chunk, saying which run holds them, why, and what resolves
 * it. Devices that run would still send or may have sent are an error
 * line (kept in the reason: the run is refused) or, with --force, a
 * warning; devices a gate abort kept back and that this run sends
 * another firmware are a warning only. Prints (msgs.h); not thread-safe.
 */
#ifndef ORCH_RUNOVERLAP_H
#define ORCH_RUNOVERLAP_H

struct orch_config;
struct orch_overlap;
struct orch_reason;

/* Tells what o holds for the new run of cfg; errors go through why. */
void orch_runoverlap_tell(struct orch_reason *why,
                          const struct orch_config *cfg,
                          const struct orch_overlap *o);

#endif
