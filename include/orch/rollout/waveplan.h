/* waveplan.h - what each wave of a plan holds: its products, devices and
 * jobs (one job per chunk), for `plan` and `run` to tell (text) and for
 * `plan --json` ("waves").
 *
 * Pure over a borrowed plan (plan.h) and its waves (waves.h). Not
 * thread-safe only in that fp is the caller's.
 */
#ifndef ORCH_WAVEPLAN_H
#define ORCH_WAVEPLAN_H

#include <stdio.h>

#include <jansson.h>

struct orch_plan;
struct orch_wave;
struct orch_wave_plan;

/* The --wave-column value wave w stands for (borrowed from the plan's
 * inventory), or NULL. */
const char *orch_waveplan_name(const struct orch_plan *plan,
                               const struct orch_wave *w);

/* One line per wave: "  wave 1 "canary": 100 devices in 2 jobs: pkA 85
 * devices (1 job), pkB 15 devices (1 job)". */
void orch_waveplan_print(FILE *fp, const struct orch_plan *plan,
                         const struct orch_wave_plan *wp);

/* [{"wave":1,"name":"canary"|null,"first_chunk":1,"last_chunk":2,
 *   "devices":100,"cumulative":100,"jobs":2,"products":[{"product_key":
 *   "pkA","firmware_id":"FW","devices":85,"jobs":1},...]},...]
 * New reference; NULL on ENOMEM. */
json_t *orch_waveplan_json(const struct orch_plan *plan,
                           const struct orch_wave_plan *wp);

#endif
