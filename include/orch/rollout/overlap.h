/* overlap.h - before a `run` sends anything: which devices of its
 * inventory an unfinished run still holds, i.e. may already have put into
 * a job, or would put into one when it is resumed.
 *
 * A chunk of an unfinished run's journal holds its devices when a resume
 * of that run would not skip it (orch_resume_action is not SKIP):
 *   undecided  RECONCILE: failed Ambiguous, not_sent after a send, or
 *              sent without any recorded outcome. A job may exist that
 *              the tool never heard of;
 *   waiting    a chunk of a waved run with no outcome (planrows.h): its
 *              wave is not created yet (WaveNotStarted, WavePaused,
 *              Deferred); a resume creates it;
 *   unsent     any other chunk never sent (not_sent before its call, or
 *              no record in a run without waves); a resume sends it;
 *   aborted    a waiting chunk after a gate abort (WaveAborted): only
 *              `resume --force` creates it. It holds its devices when the
 *              new run sends them the same firmware as that run did
 *              (what the gate stopped); with another firmware it is the
 *              legitimate way on, counted apart (other_fw) for a warning.
 * Sending a held device again in another run gives it a second job. A
 * finished run (every chunk created or failed) holds nothing.
 *
 * Journals looked at (each once, the run's own journal excluded: read_journal
 * in run.c refuses an unfinished one already):
 *   - "X.journal" when the inventory is X.failed.csv or X.ambiguous.csv
 *     (a report's device files run as an inventory);
 *   - every "*.journal" in the inventory's folder;
 *   - every "*.journal" in the report's folder.
 * A journal that cannot be read, or has no chunk a resume would not skip,
 * is skipped. The chunks' devices are rebuilt as the run built them: its
 * inventory (when its SHA-256 still matches the run record), its shape
 * and its drop map (resume.h). When that inventory is gone or changed,
 * only the undecided chunks hold devices (those listed in
 * "X.ambiguous.csv" stand for them): a resume of that run is refused
 * (its inventory changed), so it creates nothing more.
 *
 * Nothing here prints; run.c says what was found. Not thread-safe.
 */
#ifndef ORCH_OVERLAP_H
#define ORCH_OVERLAP_H

#include <stddef.h>

struct orch_config;
struct orch_diag;
struct orch_inventory;

/* One unfinished run whose chunks hold devices of the inventory; each
 * pair counts the chunks of one kind (above) and the devices of the
 * inventory in them. */
struct orch_overlap {
    char *journal;  /* its journal (malloced) */
    char *report;   /* its report: the journal's name without ".journal"
                       (malloced) */
    size_t chunks;  /* undecided */
    size_t devices;
    size_t waiting_chunks; /* waves not created yet */
    size_t waiting;
    size_t unsent_chunks; /* never sent */
    size_t unsent;
    size_t aborted_chunks; /* WaveAborted, the same firmware */
    size_t aborted;
    size_t other_fw_chunks; /* WaveAborted, another firmware: no refusal */
    size_t other_fw;
    const char *code; /* the waiting chunks' code (planrows.h: WaveNotStarted,
                         WavePaused or Deferred; static), NULL: none */
    long wave;        /* the run's last wave record's wave (1-based), 0:
                         none */
};

/* True when o holds devices a new run must not send without --force
 * (undecided, waiting, unsent or aborted ones; other_fw alone does not). */
int orch_overlap_refuses(const struct orch_overlap *o);

/* The journals to look at (see above), without duplicates (by real path)
 * and without own_journal (may be NULL). *paths gets a malloced array of
 * *n malloced paths (free with orch_overlap_paths_free). 0 or
 * ORCH_ENOMEM. */
int orch_overlap_journals(const char *inventory_path, const char *report_path,
                          const char *own_journal, char ***paths, size_t *n);
void orch_overlap_paths_free(char **paths, size_t n);

/* Checks one journal against the new run: its inventory inv and its
 * config cfg (the firmware it sends each product; NULL: counted as the
 * same firmware). *found gets whether the journal's chunks hold devices
 * of inv (any count above is not 0), and *o (zeroed first; free with
 * orch_overlap_free) the facts. 0, or ORCH_ENOMEM. A journal that cannot
 * be read is not an error: *found is 0. */
int orch_overlap_check(const char *journal, const struct orch_inventory *inv,
                       const struct orch_config *cfg, struct orch_overlap *o,
                       int *found);

/* Every run found for the inventory: *out gets a malloced array of *n
 * (free with orch_overlap_free_all). 0 or ORCH_ENOMEM. */
int orch_overlap_find(const struct orch_inventory *inv,
                      const struct orch_config *cfg,
                      const char *inventory_path, const char *report_path,
                      const char *own_journal, struct orch_overlap **out,
                      size_t *n);

void orch_overlap_free(struct orch_overlap *o);
void orch_overlap_free_all(struct orch_overlap *o, size_t n);

#endif
