/* resume.h - what a run's journal says: the run's identity, each chunk's
 * state, and what a resumed run must do with each chunk. Pure (apart from
 * orch_resume_load, which reads the file): run.c does the I/O.
 *
 * Replay rules (journal.h lists the records):
 *   - the first record must be the run record; a second one is damage;
 *   - intent/attempt make a chunk STARTED and count its attempts; the
 *     first one's time is kept (reconciliation looks for jobs created at
 *     or after it);
 *   - done makes it DONE (the last done record wins);
 *   - "resume" (a later process continued the run) clears `ended`, "end"
 *     sets it; "reconcile" and unknown types are ignored.
 * A record naming a chunk outside 0..nchunks-1 is damage (ORCH_EJOURNAL).
 *
 * Per chunk on resume (orch_resume_action):
 *   DONE created / failed       -> SKIP (never sent again, failures kept)
 *   DONE not_sent, never tried  -> SEND
 *   DONE not_sent after an intent, or STARTED without done
 *                               -> RECONCILE (a job may exist: ask first)
 *   NEW                         -> SEND
 */
#ifndef ORCH_RESUME_H
#define ORCH_RESUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct orch_config;
struct orch_diag;

/* The journal's record format version written in the run record. */
#define ORCH_RESUME_VERSION 1

enum orch_chunk_state {
    ORCH_CHUNK_NEW = 0,
    ORCH_CHUNK_STARTED,
    ORCH_CHUNK_DONE
};

enum orch_resume_action {
    ORCH_RESUME_SEND = 0,
    ORCH_RESUME_SKIP,
    ORCH_RESUME_RECONCILE
};

struct orch_resume_chunk {
    enum orch_chunk_state state;
    int64_t first_ms; /* wall time of the first intent/attempt, -1: none */
    int64_t last_ms;  /* wall time of the last intent/attempt, -1: none */
    unsigned attempts; /* intent + attempt records seen */
    json_t *done;     /* the last done record (owned reference), or NULL */
};

struct orch_resume {
    json_t *run;      /* the run record (owned reference), NULL: none yet */
    size_t nchunks;
    struct orch_resume_chunk *chunks; /* [nchunks] */
    bool ended;       /* an end record follows the last run/resume record */
    size_t records;   /* valid records replayed */
    size_t valid_len; /* intact prefix of the file (torn tail excluded) */

    /* Waves: "wave" records,
     *   {"t":"wave","wave":K,"event":"start|gate|paused|aborted|deferred|
     *    override","time":MS,...}  (K 1-based; gate: "decision":
     *    "pass|fail|timeout" and the counts; deferred: "creatable":MS)
     * waves_passed has bit K-1 set once wave K's gate passed (or was
     * overridden by `--resume --force` after an abort). */
    json_t *last_wave;     /* the last wave record (owned), or NULL */
    json_t *waves;         /* every wave record, in order (an owned
                              array), or NULL: none */
    uint64_t waves_passed;
    int64_t wave_base_ms;  /* "base" of the first wave record that has one
                              (the time scheduled waves count from), 0 */
};

void orch_resume_init(struct orch_resume *rs);
/* Frees everything; NULL-safe. */
void orch_resume_cleanup(struct orch_resume *rs);

/* Replays one record (the journal reader's callback body). Returns 0 or
 * ORCH_EJOURNAL / ORCH_ENOMEM with diag "NAME:LINE: ...". */
int orch_resume_feed(struct orch_resume *rs, const json_t *rec,
                     const char *name, size_t line, struct orch_diag *diag);
/* Replays a journal image in memory (tests, fuzzers). rs must be fresh
 * (orch_resume_init). */
int orch_resume_load_mem(struct orch_resume *rs, const char *data, size_t len,
                         const char *name, struct orch_diag *diag);
/* Replays the journal file: 0, ORCH_ENOTFOUND (no file), ORCH_EJOURNAL,
 * ORCH_EIO or ORCH_ENOMEM with diag. */
int orch_resume_load(struct orch_resume *rs, const char *path,
                     struct orch_diag *diag);

/* What to do with chunk i in a resumed run; *since_ms gets the first
 * attempt's wall time for RECONCILE. */
enum orch_resume_action orch_resume_action(const struct orch_resume *rs,
                                           size_t i, int64_t *since_ms);
/* The wall time of the latest send (intent or attempt record) among the
 * chunks a resume must reconcile, or -1 when there is none. A call sent
 * then may still be processed by the server: its lookup must wait until
 * the server is done with it (see run.c). */
int64_t orch_resume_last_unsettled_ms(const struct orch_resume *rs);
/* True when every chunk is DONE as created or failed. */
bool orch_resume_all_final(const struct orch_resume *rs);

/* The options that shape the chunks and every Create call, keyed by their
 * command-line names ("chunk-size", "firmware", ...). New reference, NULL
 * on ENOMEM. */
json_t *orch_resume_shape(const struct orch_config *cfg);
/* The run record: identity (inventory path and SHA-256, may be NULL for
 * ALL/GRAY), shape, the other options needed to rebuild the config
 * (`resume REPORT`), run_id and nchunks. New reference or NULL. */
json_t *orch_resume_run_record(const struct orch_config *cfg,
                               const char *inventory_abs,
                               const char *inventory_sha256, size_t nchunks,
                               int64_t now_ms);
/* Compares the journal's run record with this run's identity. Returns the
 * number of differences (0 = same run) and describes them in `what`
 * ("inventory content (SHA-256 ab12.. -> cd34..); --chunk-size 200 -> 100").
 */
size_t orch_resume_compare(const json_t *run, const char *inventory_sha256,
                           const json_t *shape, size_t nchunks, char *what,
                           size_t whatsz);

/* `ota-rollout resume REPORT`: rebuilds *cfg from the journal's run record
 * `run`; every option given on the command line (cfg as cli.c filled it,
 * with the report in cfg->inventory_path) overrides the journal's value.
 * On return cfg->command is ORCH_CMD_RUN, cfg->resume is set and
 * cfg->report_path is the report. 0 or ORCH_EJOURNAL / ORCH_ENOMEM with
 * diag. cfg stays a valid config (to clean up) either way. */
int orch_resume_config_from_run(struct orch_config *cfg, const json_t *run,
                                struct orch_diag *diag);

/* The whole of `ota-rollout resume REPORT` before validation: reads
 * REPORT's journal (cfg->inventory_path holds REPORT, as cli.c parsed it)
 * and calls orch_resume_config_from_run. 0, or ORCH_ECONFIG (no REPORT,
 * no journal, no run record) / ORCH_EJOURNAL / ORCH_ENOMEM with diag. */
int orch_resume_prepare_config(struct orch_config *cfg,
                               struct orch_diag *diag);

/* ---- --check-devices ----
 * The device check leaves devices out of the plan, which renumbers the
 * chunks; a resumed run must rebuild the same plan without asking the API
 * again (devices upgrade meanwhile: a second check would leave out more).
 * The run record carries the drop map as "dropped": the ascending
 * inventory indices of the devices left out (present, maybe empty, only
 * when the check ran). */

/* The "dropped" array of drop[0..n) (new reference; NULL on ENOMEM). */
json_t *orch_resume_dropped_json(const uint8_t *drop, size_t n);
/* Reads the run record's "dropped" into drop[0..n) (zeroed first). *has
 * tells whether the record has one (false: the check did not run; drop
 * stays zero). 0, or ORCH_EJOURNAL (an entry that is not an index below
 * n) with diag. */
int orch_resume_drop_map(const json_t *run, uint8_t *drop, size_t n,
                         bool *has, struct orch_diag *diag);

/* "<report>.journal" (malloced; caller frees). */
char *orch_resume_journal_path(const char *report_path);

#endif
