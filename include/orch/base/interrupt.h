/* interrupt.h - Ctrl-C (SIGINT) for every command, one meaning everywhere:
 * the first asks the command to finish cleanly (start nothing new, let what
 * is in flight end, write down where it stopped), the second to stop now
 * (abort what is in flight). A third and later change nothing.
 *
 * One process-wide counter, raised only by the handler (which does nothing
 * else: STYLE's "the handler sets a flag"). Commands install the handler
 * around the part of their work that Ctrl-C should stop, and poll the
 * level; the dispatcher polls the counter itself (orch_interrupt_counter).
 * Installs nest: the handler is installed by the outermost
 * orch_interrupt_install() and the previous one restored by the matching
 * orch_interrupt_uninstall(); the level is kept across nesting so that a
 * Ctrl-C seen by an inner step is seen by the command around it. Not
 * thread-safe: call these from the main thread.
 */
#ifndef ORCH_INTERRUPT_H
#define ORCH_INTERRUPT_H

#include <signal.h>

/* Installs the SIGINT handler (outermost call only) and, when `reset`,
 * sets the level back to 0. */
void orch_interrupt_install(int reset);
/* Undoes the matching orch_interrupt_install(); the outermost one restores
 * the handler that was there before. The level is kept. */
void orch_interrupt_uninstall(void);
/* 0: not interrupted; 1: finish cleanly; 2: stop now. */
int orch_interrupt_level(void);
/* The counter itself, for loops that poll it between steps (dispatch.h). */
volatile sig_atomic_t *orch_interrupt_counter(void);
/* Raises the level as the handler does (tests, and an abort requested by
 * the program itself). */
void orch_interrupt_raise(void);

#endif
