/* planrows.h - the report's rows for the chunks of a waved plan that have
 * no outcome (no done record) yet: every chunk of the plan has exactly
 * one row whenever the report is written.
 *
 * Such a chunk belongs to a wave that has not been created; its row says
 * `not_sent`, with an error_code saying why, taken from the last wave
 * record of the run's journal (waverun.c writes them, resume.h replays
 * them):
 *   WaveNotStarted  a wave before it waits for (or is watched by) its
 *                   gate, or the run stopped before its wave;
 *   WaveAborted     a gate failed and aborted the rollout;
 *   WavePaused      a gate was not decided within --wave-timeout;
 *   Deferred        its wave starts beyond the API's 7-day horizon.
 * The rows are not journaled (they are no outcome): a resume that creates
 * the chunks rewrites them. Their devices go to no device file
 * (runfiles.h): the waves still to come belong to this run (`resume`
 * creates them, a rerun of the failed file would give them a second
 * job), and an aborted wave's firmware failed its gate.
 *
 * Pure; not thread-safe (jansson's reference counts).
 */
#ifndef ORCH_PLANROWS_H
#define ORCH_PLANROWS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define ORCH_CODE_WAVE_NOT_STARTED "WaveNotStarted"
#define ORCH_CODE_WAVE_ABORTED "WaveAborted"
#define ORCH_CODE_WAVE_PAUSED "WavePaused"
#define ORCH_CODE_DEFERRED "Deferred"

/* The code of the chunks without an outcome after the wave record rec
 * ({"t":"wave","event":...}; NULL: none yet): "aborted" -> WaveAborted,
 * "paused" with reason "timeout" -> WavePaused, with "horizon" ->
 * Deferred, any other -> WaveNotStarted. A static string. */
const char *orch_planrows_code(const json_t *wave_record);

/* The report's error_message for one of the codes above (a static
 * string; "" for another code). */
const char *orch_planrows_message(const char *code);

/* A few words for `status` after a row count of one of the codes above
 * ("a later wave: `ota-rollout resume` creates it", ...; a static
 * string, NULL for another code). */
const char *orch_planrows_brief(const char *code);

/* True when done is such a row: not_sent with one of the codes above.
 * Its devices belong in no device file. */
bool orch_planrows_waiting(const json_t *done);

/* rows[0..n) with each NULL entry (no outcome) replaced by a row of
 * `code` ({"t":"done","c":i,"status":"not_sent","attempts":0,"code",
 * "message"}): a malloced array of new references, or NULL on ENOMEM.
 * Free it with orch_planrows_free(). */
json_t **orch_planrows_fill(json_t *const *rows, size_t n, const char *code);

/* Releases what orch_planrows_fill() returned (NULL is fine). */
void orch_planrows_free(json_t **rows, size_t n);

#endif
