/* interrupt.c - one SIGINT counter for every command (interrupt.h). */
#include "orch/base/interrupt.h"

#include <string.h>

static volatile sig_atomic_t level;
static struct sigaction previous;
static int depth;

static void on_sigint(int sig)
{
    (void)sig;
    if (level < 2)
        level++;
}

void orch_interrupt_install(int reset)
{
    struct sigaction sa;

    if (reset)
        level = 0;
    if (depth++ > 0)
        return;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: a poll or a nap wakes up early and sees the level. */
    sa.sa_flags = 0;
    sigaction(SIGINT, &sa, &previous);
}

void orch_interrupt_uninstall(void)
{
    if (depth == 0)
        return;
    if (--depth == 0)
        sigaction(SIGINT, &previous, NULL);
}

int orch_interrupt_level(void)
{
    return (int)level;
}

volatile sig_atomic_t *orch_interrupt_counter(void)
{
    return &level;
}

void orch_interrupt_raise(void)
{
    on_sigint(SIGINT);
}
