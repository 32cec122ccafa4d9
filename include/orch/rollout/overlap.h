/* overlap.h - before a `run` sends anything: which devices of its
 * inventory an unfinished run may already have put into a job.
 *
 * A run's journal knows its chunks whose outcome is undecided: failed
 * Ambiguous, not_sent after a send, or sent without any recorded outcome
 * (orch_resume_action says RECONCILE). Their devices may be in a job the
 * tool never heard of; sending them again in another run would give them
 * a second job. Only a resume of that run (which looks the jobs up) may
 * decide them.
 *
 * Journals looked at (each once, the run's own journal excluded: read_journal
 * in run.c refuses an unfinished one already):
 *   - "X.journal" when the inventory is X.failed.csv or X.ambiguous.csv
 *     (a report's device files run as an inventory);
 *   - every "*.journal" in the inventory's folder;
 *   - every "*.journal" in the report's folder.
 * A journal that cannot be read, or has no undecided chunk, is skipped.
 * The undecided chunks' devices are rebuilt as the run built them: its
 * inventory (when its SHA-256 still matches the run record), its shape
 * and its drop map (resume.h); when that inventory is gone or changed,
 * the devices listed in "X.ambiguous.csv" stand for them.
 *
 * Nothing here prints; run.c says what was found. Not thread-safe.
 */
#ifndef ORCH_OVERLAP_H
#define ORCH_OVERLAP_H

#include <stddef.h>

struct orch_diag;
struct orch_inventory;

/* One unfinished run whose undecided chunks hold devices of the
 * inventory. */
struct orch_overlap {
    char *journal;  /* its journal (malloced) */
    char *report;   /* its report: the journal's name without ".journal"
                       (malloced) */
    size_t chunks;  /* its undecided chunks */
    size_t devices; /* devices of the inventory in them */
};

/* The journals to look at (see above), without duplicates (by real path)
 * and without own_journal (may be NULL). *paths gets a malloced array of
 * *n malloced paths (free with orch_overlap_paths_free). 0 or
 * ORCH_ENOMEM. */
int orch_overlap_journals(const char *inventory_path, const char *report_path,
                          const char *own_journal, char ***paths, size_t *n);
void orch_overlap_paths_free(char **paths, size_t n);

/* Checks one journal: *found gets whether its undecided chunks hold
 * devices of inv, and *o (zeroed first; free with orch_overlap_free) the
 * facts. 0, or ORCH_ENOMEM. A journal that cannot be read or whose
 * devices cannot be rebuilt is not an error: *found is 0. */
int orch_overlap_check(const char *journal, const struct orch_inventory *inv,
                       struct orch_overlap *o, int *found);

/* Every run found for the inventory: *out gets a malloced array of *n
 * (free with orch_overlap_free_all). 0 or ORCH_ENOMEM. */
int orch_overlap_find(const struct orch_inventory *inv,
                      const char *inventory_path, const char *report_path,
                      const char *own_journal, struct orch_overlap **out,
                      size_t *n);

void orch_overlap_free(struct orch_overlap *o);
void orch_overlap_free_all(struct orch_overlap *o, size_t n);

#endif
