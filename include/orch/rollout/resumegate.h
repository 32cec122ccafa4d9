/* resumegate.h - the decisions a run makes about the journal next to its
 * report before it sends anything: start anew, resume, or refuse; what is
 * left of a resumed run's chunks; how long the earlier run's last calls
 * need to settle; and the run's own first record. Pure: the command
 * (commands/runjournal.c) reads the files, prints and acts.
 */
#ifndef ORCH_RESUMEGATE_H
#define ORCH_RESUMEGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct orch_config;
struct orch_device_check_stats;
struct orch_resume;
struct orch_summary_todo;

/* What to do with the journal orch_resume_load() read (or did not). */
enum orch_resumegate {
    ORCH_RESUMEGATE_NONE = 0,   /* no journal, or no run in it: a new run
                                   (if the report is free) */
    ORCH_RESUMEGATE_RESUME,     /* --resume: continue it */
    ORCH_RESUMEGATE_ANEW,       /* --force: keep the old files, start anew */
    ORCH_RESUMEGATE_ANEW_DAMAGED, /* --force over a journal that cannot be
                                     read: the same, with a warning */
    ORCH_RESUMEGATE_DAMAGED,    /* refused: the journal cannot be trusted */
    ORCH_RESUMEGATE_FINISHED,   /* refused: that run finished; a new one
                                   would send every device again */
    ORCH_RESUMEGATE_UNFINISHED  /* refused: that run should be resumed */
};

/* The decision for a journal whose orch_resume_load() returned load_rc
 * (ORCH_ENOTFOUND: no journal) into rs, under --resume and --force. */
enum orch_resumegate orch_resumegate_decide(int load_rc,
                                            const struct orch_resume *rs,
                                            bool resume, bool force);

/* Per-chunk plan of a run of nitems chunks. rs NULL: a new run, every
 * chunk to send. Else each chunk's earlier attempts go into attempts[i],
 * the done records of the chunks not sent again into rows[i] (a new
 * reference each), and todo counts what is done, to reconcile and to
 * send. attempts and rows have nitems entries; todo is added to. */
void orch_resumegate_count(const struct orch_resume *rs, size_t nitems,
                           unsigned *attempts, json_t **rows,
                           struct orch_summary_todo *todo);

/* When a resumed run may look its chunks up: the earlier run's last call
 * is done with once a request timeout has passed after it was sent (a
 * lookup before then could miss a job created a moment later). Returns
 * that wall time in ms, or -1 when there is nothing to wait for (rs NULL:
 * a new run). */
int64_t orch_resumegate_settled_ms(const struct orch_resume *rs,
                                   int64_t request_timeout_ms);

/* The run record of a new run (resume.h's orch_resume_run_record) plus,
 * when the device check ran (drop not NULL), its drop map over the ninv
 * inventory devices and its counts, so that a resume rebuilds the same
 * plan without asking again. A new reference, NULL on ENOMEM. */
json_t *orch_resumegate_run_record(const struct orch_config *cfg,
                                   const char *inv_abs, const char *inv_sha,
                                   size_t nitems, int64_t now_ms,
                                   const uint8_t *drop, size_t ninv,
                                   const struct orch_device_check_stats *st);

/* The record of a process that continues a run. A new reference, NULL on
 * ENOMEM. */
json_t *orch_resumegate_resume_record(int64_t now_ms, long pid);

/* The device check's counts from a run record's "devcheck" object (zeros
 * where missing). */
void orch_resumegate_devcheck(const json_t *run,
                              struct orch_device_check_stats *st);

#endif
