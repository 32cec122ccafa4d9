/* jobstate.h - the JobStatus and UtcModified of some of a rollout's jobs,
 * learnt at the lowest cost the API allows: what a refresh of `status`
 * asks first, to know which jobs changed since the status cache
 * (statuscache.h) kept them.
 *
 * ListOTAJobByFirmware lists 200 jobs of a firmware a call (every job of
 * the firmware, this rollout's or not, newest first); QueryOTAJob tells
 * one job. Per firmware: with one job to learn, QueryOTAJob; with more,
 * page 1 of the firmware's list, whose PageCount then says what the rest
 * costs: the further pages when they are no more than the jobs still
 * unknown, else QueryOTAJob for each of those. Jobs a list did not show
 * (created since, or no firmware in the report) get a QueryOTAJob. A
 * failed query leaves the job unknown ("" in job->modified): the caller
 * reads it whole, as if it had changed; a failed QueryOTAJob's "CODE:
 * message" goes into job->error (query_failed untouched: the caller
 * decides whether that fails the job). Each job's answer goes into
 * job->seen_status and job->modified. Prints nothing.
 */
#ifndef ORCH_JOBSTATE_H
#define ORCH_JOBSTATE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "orch/rollout/rollout.h"

struct orch_config;
struct orch_credentials;
struct orch_diag;
struct orch_dispatch_stats;

/* Learns the state of jobs[which[0..n)] (which NULL: jobs[0..n)). Borrows
 * everything. Returns 0 with *stats those of the last batch that was not
 * empty (aborted: credentials rejected; or interrupted: *interrupt
 * nonzero, and the next batch not sent), or a setup error / ORCH_ENOMEM
 * with diag. Not reentrant. */
int orch_jobstate_run(const struct orch_config *cfg,
                      const struct orch_credentials *cred,
                      struct orch_rollout_job *jobs, const size_t *which,
                      size_t n, volatile sig_atomic_t *interrupt,
                      struct orch_dispatch_stats *stats,
                      struct orch_diag *diag);

/* The decision above, pure: with `pages` pages of a firmware's list
 * (PageCount of page 1) and `unknown` of its jobs still unknown after
 * page 1, whether the further pages (pages - 1 calls) cost no more than
 * one QueryOTAJob each (unknown calls). */
int orch_jobstate_pages_cheaper(unsigned pages, size_t unknown);

/* Whether learning the states of `rest` jobs (about rest / 200 list
 * pages, at least one) is worth its calls, judged on `sampled` jobs read
 * without their states that would have cost `saved` calls less with them
 * (a job whose tasks all succeeded: one SUCCEEDED Total instead of its
 * full listing; a job whose tasks do not tell its state: no QueryOTAJob).
 * True when the saving the sample promises for the rest exceeds the
 * pages. Pure. */
bool orch_jobstate_worth_learning(size_t sampled, size_t saved, size_t rest);

/* The calls jobs[0..n), just read without their states, would have saved
 * with them (the `saved` above): a job whose tasks all succeeded, counted
 * by one SUCCEEDED Total instead of its ceil(D / 100) pages (only when
 * by_totals: not when every job is listed in full, --devices); a job
 * whose tasks do not tell its state (taskagg.h orch_taskagg_derive_job),
 * one QueryOTAJob. Jobs that could not be queried count nothing. Pure. */
size_t orch_jobstate_sample_savings(const struct orch_rollout_job *jobs,
                                    size_t n, bool by_totals);

#endif
