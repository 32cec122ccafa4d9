/* test_interrupt.c - Ctrl-C: first finish cleanly, second stop now; nested
 * installs; the previous handler comes back. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "orch/base/interrupt.h"
#include "torture.h"

static volatile sig_atomic_t theirs;

static void their_handler(int sig)
{
    (void)sig;
    theirs++;
}

static void set_their_handler(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = their_handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

static void first_finishes_second_stops_third_changes_nothing(void **state)
{
    (void)state;
    orch_interrupt_install(1);
    assert_int_equal(orch_interrupt_level(), 0);
    raise(SIGINT);
    assert_int_equal(orch_interrupt_level(), 1);
    raise(SIGINT);
    assert_int_equal(orch_interrupt_level(), 2);
    raise(SIGINT);
    assert_int_equal(orch_interrupt_level(), 2);
    assert_int_equal(*orch_interrupt_counter(), 2);
    orch_interrupt_uninstall();
}

static void nested_installs_keep_the_level_and_the_outer_handler(void **state)
{
    (void)state;
    set_their_handler();
    theirs = 0;
    orch_interrupt_install(1);
    raise(SIGINT);
    orch_interrupt_install(0); /* an inner step: the level is kept */
    assert_int_equal(orch_interrupt_level(), 1);
    orch_interrupt_uninstall();
    raise(SIGINT); /* still ours: the outer install is in force */
    assert_int_equal(orch_interrupt_level(), 2);
    assert_int_equal(theirs, 0);
    orch_interrupt_uninstall();
    raise(SIGINT); /* the handler from before is back */
    assert_int_equal(theirs, 1);
    assert_int_equal(orch_interrupt_level(), 2);
}

static void reset_starts_again_and_raise_counts(void **state)
{
    (void)state;
    orch_interrupt_install(1);
    assert_int_equal(orch_interrupt_level(), 0);
    orch_interrupt_raise();
    assert_int_equal(orch_interrupt_level(), 1);
    orch_interrupt_uninstall();
    orch_interrupt_uninstall(); /* unbalanced: ignored */
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(first_finishes_second_stops_third_changes_nothing),
    cmocka_unit_test(nested_installs_keep_the_level_and_the_outer_handler),
    cmocka_unit_test(reset_starts_again_and_raise_counts))
