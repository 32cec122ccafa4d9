/* statuscache.h - the status cache: what `status` (and the wave gates)
 * already know for good about a rollout's jobs, so that a refresh reads
 * again only the jobs that are still running or changed.
 *
 * It lives beside the report, "<report>.status-cache" (mode 0600), and
 * keeps every job whose tasks had all ended when it was read: its
 * JobStatus and UtcModified as the API gave them just before its tasks
 * were listed, its task counts and Total, why it holds fewer tasks than
 * devices, the failure reasons of its FAILED tasks and, when that read
 * wrote --devices files, its lines of those files. A job whose state or
 * UtcModified differs at a later refresh (re-upgraded or cancelled from
 * the console) is read again.
 *
 * A job read without its state first (a first refresh reads some jobs
 * that way: status.c) is kept with the state its tasks or QueryOTAJob
 * told, no UtcModified, and instead a time its read is known to reflect
 * ("read"): the latest UtcModified of the tasks it listed, or a second
 * before the server's Date of the first answer that listed them (Date
 * has whole seconds), whichever is later. It stands for the job at a
 * later refresh while the job's state is the same and its UtcModified is
 * no later than that time.
 *
 * File format: the journal's framing (engine/journal.h: one record a
 * line, "J1 <len> <crc32c> <json>"), written whole to "<cache>.tmp.<pid>" and
 * renamed into place:
 *   {"t":"cache","v":ORCH_STATUSCACHE_VERSION,"rollout":IDENTITY}
 *   {"t":"job","id":..,"state":..,"modified":..,["read":MS,]"total":N,
 *    "counts":[8 numbers, in enum orch_task_state order],"no_task":R,
 *    "reasons":[[TEXT,N],..],"rows":CSV?,"failed_rows":CSV?}   per job
 *   {"t":"end","jobs":N}
 * A file that is damaged anywhere (a checksum, a cut, a missing end), of
 * another format version or of another rollout (IDENTITY: rollout.h's
 * orch_rollout.identity) is ignored as a whole with a one-line note:
 * the cache only ever saves calls, so deleting it is always safe.
 */
#ifndef ORCH_STATUSCACHE_H
#define ORCH_STATUSCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "orch/cloud/api.h"
#include "orch/rollout/rollout.h"
#include "orch/rollout/taskagg.h"

struct orch_diag;

#define ORCH_STATUSCACHE_VERSION 1
#define ORCH_STATUSCACHE_SUFFIX ".status-cache"

struct orch_statuscache_reason {
    char *text; /* malloced */
    uint64_t count;
};

/* One ended job. Every pointer is owned by the entry. */
struct orch_statuscache_job {
    char *job_id;
    char *state;    /* JobStatus: COMPLETED or CANCELED */
    char *modified; /* UtcModified; "" when read_ms stands for it */
    int64_t read_ms; /* when modified is "": the time the read reflects
                        (epoch ms, > 0, see above); else 0 */
    uint64_t total; /* Total of its task listing */
    uint64_t counts[ORCH_TASK_NSTATES];
    int no_task_reason; /* enum orch_no_task (taskagg.h) */
    struct orch_statuscache_reason *reasons;
    size_t nreasons;
    bool has_rows;     /* rows/failed_rows hold its --devices lines */
    char *rows;        /* lines of the devices file, each "...\n" */
    char *failed_rows; /* lines of the failed-devices file */
};

/* The jobs, by job id. Caller-owned: init / cleanup. */
struct orch_statuscache {
    char *identity; /* the rollout's (malloced) */
    struct orch_statuscache_job *jobs;
    size_t n, cap;
    bool sorted; /* jobs ordered by job_id (find can bisect) */
};

/* An empty cache of the rollout `identity`. 0 or ORCH_ENOMEM. */
int orch_statuscache_init(struct orch_statuscache *c, const char *identity);
/* Frees everything; NULL-safe, idempotent. */
void orch_statuscache_cleanup(struct orch_statuscache *c);
/* Frees one entry's members; NULL-safe. */
void orch_statuscache_job_cleanup(struct orch_statuscache_job *j);

/* Adds job (taking its members; *job is zeroed), replacing an entry of
 * the same job_id. 0 or ORCH_ENOMEM (job then still owns its members). */
int orch_statuscache_put(struct orch_statuscache *c,
                         struct orch_statuscache_job *job);
/* The entry of job_id, or NULL. Borrowed: valid until the next put or
 * cleanup. */
const struct orch_statuscache_job *
orch_statuscache_find(struct orch_statuscache *c, const char *job_id);

/* Moves the entry of job_id out of c into *out (0), or returns
 * ORCH_ENOTFOUND. */
int orch_statuscache_take(struct orch_statuscache *c, const char *job_id,
                          struct orch_statuscache_job *out);

/* Decodes a cache image (name for the note). When it is usable, its
 * entries are added to c (init'ed with the expected identity) and *note
 * is ""; when it is damaged, of another version or of another rollout, c
 * is left empty and note says so in one line ("NAME: ignored (...)").
 * Returns 0 (either way) or ORCH_ENOMEM. Pure. */
int orch_statuscache_decode(struct orch_statuscache *c, const char *data,
                            size_t len, const char *name, char *note,
                            size_t notesz);
/* The same from the file at path; a missing file is an empty cache with
 * no note, an unreadable one is noted. */
int orch_statuscache_load(struct orch_statuscache *c, const char *path,
                          char *note, size_t notesz);

/* Encodes c as the file's image (records as above) into *out (malloced,
 * *outlen bytes). 0 or ORCH_ENOMEM. Pure. */
int orch_statuscache_encode(const struct orch_statuscache *c, char **out,
                            size_t *outlen);
/* Writes c to "<path>.tmp.<pid>" (0600: this process's own, so that two
 * processes saving at once never mix their bytes), fsyncs and renames it
 * to path (the last rename wins, whole).
 * Returns 0 or ORCH_EIO / ORCH_ENOMEM with diag. */
int orch_statuscache_save(const struct orch_statuscache *c, const char *path,
                          struct orch_diag *diag);

/* ---- entries and the rollout's jobs (pure) ---- */

/* Whether entry e stands for job j at this refresh: the JobStatus the
 * refresh learnt (j->seen_status; jobstate.h) is the cached one, its
 * UtcModified (j->modified) is the cached one or, for an entry kept with
 * a read time, no later than it; and e holds the --devices
 * lines when need_rows. */
bool orch_statuscache_fresh(const struct orch_statuscache_job *e,
                            const struct orch_rollout_job *j, bool need_rows);
/* Puts e into j (counts, total, listed, pages, job_status,
 * no_task_reason; j->cached set) and e's reasons into agg. 0 or
 * ORCH_ENOMEM. */
int orch_statuscache_apply(const struct orch_statuscache_job *e,
                           struct orch_rollout_job *j,
                           struct orch_taskagg *agg);
/* Whether job j, just read, may be kept: every task the Total announced
 * was listed (or counted) without a failure, none is pending, and either
 * the state the refresh learnt before listing its tasks had ended
 * (COMPLETED or CANCELED, with a UtcModified) or, read without its state,
 * its state as the refresh settled it (j->job_status) has ended and the
 * read has a time (a Date, or dated tasks). */
bool orch_statuscache_keepable(const struct orch_rollout_job *j);
/* Fills *out (zeroed first; the caller puts or cleans it) with job j (its
 * learnt state and UtcModified, or its settled state and read time):
 * reasons holds the FAILED tasks' reasons of j alone; rows and
 * failed_rows (NULL: none kept) its --devices lines. 0 or ORCH_ENOMEM. */
int orch_statuscache_entry(struct orch_statuscache_job *out,
                           const struct orch_rollout_job *j,
                           const struct orch_taskagg *reasons,
                           const char *rows, const char *failed_rows);

/* "<report>.status-cache", malloced (NULL on ENOMEM). */
char *orch_statuscache_path(const char *report);

#endif
