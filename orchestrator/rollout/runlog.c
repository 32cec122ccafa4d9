/* runlog.c - each chunk's result and the run's journal (runlog.h). */
#include "orch/rollout/runlog.h"

#include "orch/base/err.h"
#include "orch/rollout/runfiles.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

void orch_runlog_init(struct orch_runlog *log, struct orch_runfiles *files,
                      uint64_t abort_after)
{
    memset(log, 0, sizeof(*log));
    log->files = files;
    log->abort_after = abort_after;
}

static void free_tables(struct orch_runlog *log)
{
    size_t i = 0;

    if (log->rows) {
        for (i = 0; i < log->n; i++)
            json_decref(log->rows[i]);
    }
    free(log->rows);
    free(log->attempts);
    free(log->pending);
    log->rows = NULL;
    log->attempts = NULL;
    log->pending = NULL;
    log->n = log->npending = 0;
}

int orch_runlog_alloc(struct orch_runlog *log, size_t n)
{
    size_t cap = n ? n : 1;

    free_tables(log);
    log->rows = calloc(cap, sizeof(*log->rows));
    log->attempts = calloc(cap, sizeof(*log->attempts));
    log->pending = calloc(cap, sizeof(*log->pending));
    if (log->rows == NULL || log->attempts == NULL || log->pending == NULL) {
        free_tables(log);
        return ORCH_ENOMEM;
    }
    log->n = n;
    return 0;
}

int orch_runlog_open(struct orch_runlog *log, const char *path,
                     size_t valid_len, struct orch_diag *diag)
{
    int rc = orch_journal_open(&log->journal, path, valid_len, diag);

    log->open = rc == 0;
    return rc;
}

static void note(struct orch_runlog *log, int rc)
{
    if (rc && log->err == 0)
        log->err = rc;
}

void orch_runlog_add(struct orch_runlog *log, json_t *rec)
{
    int rc = rec ? 0 : ORCH_ENOMEM;

    if (rc == 0 && log->open)
        rc = orch_journal_append(&log->journal, rec);
    note(log, rc);
    json_decref(rec);
}

void orch_runlog_sent(struct orch_runlog *log, size_t item, unsigned attempt,
                      int64_t wall_ms)
{
    log->attempts[item]++;
    orch_runlog_add(log, json_pack("{s:s, s:I, s:i, s:I}", "t",
                                   attempt <= 1 ? "intent" : "attempt", "c",
                                   (json_int_t)item, "n",
                                   (int)log->attempts[item], "time",
                                   (json_int_t)wall_ms));
}

void orch_runlog_reconciled(struct orch_runlog *log, size_t item,
                            const char *action, const char *code,
                            int64_t now_ms)
{
    orch_runlog_add(log, json_pack("{s:s, s:I, s:s, s:s, s:I}", "t",
                                   "reconcile", "c", (json_int_t)item,
                                   "action", action ? action : "", "code",
                                   code ? code : "", "time",
                                   (json_int_t)now_ms));
}

void orch_runlog_done(struct orch_runlog *log, size_t item, json_t *done)
{
    json_decref(log->rows[item]);
    log->rows[item] = json_incref(done);
    orch_runlog_add(log, done);
    log->pending[log->npending++] = item;
    if (log->npending >= ORCH_RUNLOG_PENDING_MAX)
        orch_runlog_sync(log);
}

int orch_runlog_sync(struct orch_runlog *log)
{
    int rc = 0;
    size_t i = 0;

    if (!log->open)
        return ORCH_EIO;
    rc = orch_journal_sync(&log->journal);
    note(log, rc);
    if (rc)
        return rc;
    if (log->abort_after && log->journal.records >= log->abort_after)
        raise(SIGKILL);
    for (i = 0; i < log->npending; i++)
        orch_runfiles_write(log->files, log->pending[i],
                            log->rows[log->pending[i]]);
    log->npending = 0;
    return 0;
}

int orch_runlog_end(struct orch_runlog *log, int code, int64_t now_ms)
{
    if (log->err == 0)
        orch_runlog_add(log, json_pack("{s:s, s:I, s:i}", "t", "end", "time",
                                       (json_int_t)now_ms, "exit", code));
    if (log->err == 0 && orch_journal_sync(&log->journal) != 0)
        log->err = ORCH_EIO;
    return log->err;
}

void orch_runlog_cleanup(struct orch_runlog *log)
{
    if (log == NULL)
        return;
    free_tables(log);
    if (log->open)
        orch_journal_close(&log->journal);
    log->open = false;
}
