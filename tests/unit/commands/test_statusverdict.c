/* test_statusverdict.c - what a status refresh concludes: decided,
 * failed jobs, complete, and the exit document's reason. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/base/exitcode.h"
#include "orch/commands/statusverdict.h"
#include "orch/rollout/rollout.h"
#include "orch/rollout/taskagg.h"
#include "torture.h"

#include <string.h>

static void decided_failed_and_reasons(void **state)
{
    struct orch_rollout_job jobs[2];
    struct orch_rollout r;
    struct orch_taskagg agg;
    char buf[200];

    (void)state;
    memset(jobs, 0, sizeof(jobs));
    memset(&r, 0, sizeof(r));
    r.jobs = jobs;
    r.njobs = 2;
    orch_taskagg_init(&agg);
    jobs[0].counts[ORCH_TASK_SUCCEEDED] = 3;
    jobs[1].counts[ORCH_TASK_IN_PROGRESS] = 1;
    assert_false(orch_statusverdict_all_decided(&r)); /* one pending */
    jobs[1].counts[ORCH_TASK_IN_PROGRESS] = 0;
    jobs[1].counts[ORCH_TASK_FAILED] = 1;
    assert_true(orch_statusverdict_all_decided(&r));
    assert_int_equal(orch_statusverdict_jobs_failed(&r), 0);
    assert_string_equal(orch_statusverdict_reason(&r, &agg, true,
                                                  ORCH_EXIT_OK, "x", buf,
                                                  sizeof(buf)),
                        "rollout complete: every job queried, every device "
                        "upgraded or already on the target version");
    jobs[1].query_failed = true;
    assert_false(orch_statusverdict_all_decided(&r));
    assert_int_equal(orch_statusverdict_jobs_failed(&r), 1);
    assert_string_equal(orch_statusverdict_reason(&r, &agg, true,
                                                  ORCH_EXIT_PARTIAL, "x", buf,
                                                  sizeof(buf)),
                        "1 job could not be queried");
    /* Not counted, another code: the last error printed. */
    jobs[1].query_failed = false;
    assert_string_equal(orch_statusverdict_reason(&r, &agg, false,
                                                  ORCH_EXIT_PARTIAL,
                                                  "the last error", buf,
                                                  sizeof(buf)),
                        "the last error");
    assert_string_equal(orch_statusverdict_reason(&r, &agg, true,
                                                  ORCH_EXIT_USAGE,
                                                  "the last error", buf,
                                                  sizeof(buf)),
                        "the last error");
    orch_taskagg_cleanup(&agg);
}

TORTURE_MAIN(NULL, NULL, cmocka_unit_test(decided_failed_and_reasons))
