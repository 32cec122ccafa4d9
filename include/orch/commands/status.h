/* status.h - the `status` command: one screen for a whole rollout.
 *
 * For every job of the report, ListOTATaskByJob (PageSize 100, every page,
 * no TaskStatus filter: one pass gives every count; rollout/tasklist.h) at
 * the query quota; QueryOTAJob only for the jobs whose state the tasks do
 * not tell (no task listed, none started yet, or some cancelled);
 * QueryOTAFirmware once per firmware whose jobs hold fewer tasks than
 * devices. The answers are folded into per-job counts and the failure
 * reasons by pure functions (rollout/taskagg.h), whose summary accounts
 * for every device of the plan and groups the jobs per product and, when
 * the rollout has waves, per wave.
 *
 * Output (statusview.h): text on stdout (or one JSON document with
 * --json, also on errors: orch_status_json_doc), the per-device CSV with
 * --devices. With --watch each screen starts with "as of <UTC ISO-8601
 * time>", and the command refreshes every --interval until every task is
 * decided. Exit codes: 0 the rollout is complete (every device of the
 * plan in a job whose task SUCCEEDED, or already on the target version,
 * and every job queried), 1 it is not (devices in failed / not-sent /
 * unsent chunks, tasks failed, canceled or still pending, devices
 * refused, or a job could not be queried), 2 usage, 4 aborted
 * (credentials rejected, or interrupted).
 */
#ifndef ORCH_STATUS_H
#define ORCH_STATUS_H

struct orch_config;

/* Runs `status` with a config orch_query_config_validate() accepted.
 * Returns the exit code (see above). Prints; with --json exactly one
 * document on stdout whatever the exit code, and with --log-format json
 * the same document as a "summary" event on stderr. Ctrl-C (interrupt.h)
 * stops it with exit code 4. Not reentrant. */
int orch_status_main(struct orch_config *cfg);

/* For an error found before orch_status_main could run (main.c), or as
 * it starts: prints `reason` as an error (msgs.h), then the document of
 * --json (and the --log-format json summary event) with null
 * counts, exit code `code` and `reason` (the error's text; NULL: "") as
 * its reason. Returns code (ORCH_EXIT_USAGE if the document could not be
 * written). */
int orch_status_emit_error(const struct orch_config *cfg, int code,
                           const char *reason);

#endif
