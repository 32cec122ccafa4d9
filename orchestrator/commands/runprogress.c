/* runprogress.c - `run`'s progress line and interrupt notes
 * (runprogress.h). */
#include "orch/commands/runprogress.h"

#include "orch/base/clock.h"
#include "orch/base/interrupt.h"
#include "orch/base/jsonout.h"
#include "orch/base/msgs.h"
#include "orch/commands/runctx.h"

#include <stdio.h>
#include <string.h>

/* --log-format json: the progress as an event (progress.h's numbers). */
static void progress_event(const struct orch_run *ctx)
{
    const struct orch_progress *p = &ctx->prog;
    double rate = orch_progress_rate(p);
    json_t *ev = orch_event_new("progress", orch_wall_ms());

    if (ev == NULL)
        return;
    json_object_set_new(ev, "done", json_integer((json_int_t)p->done));
    json_object_set_new(ev, "total", json_integer((json_int_t)p->total));
    json_object_set_new(ev, "created", json_integer((json_int_t)p->created));
    json_object_set_new(ev, "failed", json_integer((json_int_t)p->failed));
    json_object_set_new(ev, "not_sent",
                        json_integer((json_int_t)p->not_sent));
    json_object_set_new(ev, "elapsed_s",
                        json_real((double)p->elapsed_ms / 1000.0));
    json_object_set_new(ev, "chunks_per_s", json_real(rate));
    json_object_set_new(ev, "eta_s",
                        rate > 0 ? json_real((double)(p->total - p->done) /
                                             rate)
                                 : json_null());
    orch_event_emit(stderr, ev);
}

/* Whether a line (or event) is due where none is redrawn in place. */
static bool line_due(struct orch_run *ctx, bool final)
{
    return ctx->prog.total > 0 &&
           (final || orch_progress_due(&ctx->pace, &ctx->prog));
}

/* The line redrawn in place on a terminal. */
static void draw_in_place(struct orch_run *ctx, bool final)
{
    char line[256];
    int n = 0;

    orch_progress_format(line, sizeof(line), &ctx->prog);
    n = fprintf(stderr, "\r%s", line);
    /* Blank out the rest of a longer previous line. */
    if (n > 0 && (size_t)n < ctx->progress_len)
        fprintf(stderr, "%*s", (int)(ctx->progress_len - (size_t)n), "");
    if (n > 0)
        ctx->progress_len = (size_t)n;
    if (final && ctx->progress_len) {
        fputc('\n', stderr);
        ctx->progress_len = 0;
    }
    fflush(stderr);
}

/* The progress line: redrawn in place on a terminal; without one (or as
 * --log-format json events) only when progress.h's pace says so, or
 * `final`. */
static void draw_progress(struct orch_run *ctx, bool final)
{
    char line[256];

    if (ctx->json_log) {
        if (ctx->cfg->progress && line_due(ctx, final))
            progress_event(ctx);
        return;
    }
    if (ctx->progress_plain) {
        if (line_due(ctx, final)) {
            orch_progress_format(line, sizeof(line), &ctx->prog);
            fprintf(stderr, "%s\n", line);
            fflush(stderr);
        }
        return;
    }
    if (ctx->progress)
        draw_in_place(ctx, final);
}

/* What the Ctrl-Cs since the last tick mean (both notes, the first
 * first, when two came between two ticks). */
static void tell_interrupts(struct orch_run *ctx)
{
    int irq = orch_interrupt_level();

    if (irq <= ctx->interrupts_told)
        return;
    if (ctx->progress_len)
        fputc('\n', stderr);
    ctx->progress_len = 0;
    if (ctx->interrupts_told < 1)
        orch_notef("interrupted: no new calls are started; waiting for "
                   "the calls in flight (Ctrl-C again to abort them)");
    if (irq >= 2)
        orch_notef("interrupted again: aborting the calls in flight");
    ctx->interrupts_told = irq;
}

void orch_runprogress_start(struct orch_run *ctx, size_t total)
{
    ctx->start_ms = orch_mono_ms();
    memset(&ctx->prog, 0, sizeof(ctx->prog));
    memset(&ctx->pace, 0, sizeof(ctx->pace));
    ctx->prog.total = total;
}

void orch_runprogress_update(struct orch_run *ctx)
{
    tell_interrupts(ctx);
    ctx->prog.elapsed_ms = orch_mono_ms() - ctx->start_ms;
    draw_progress(ctx, false);
}

void orch_runprogress_final(struct orch_run *ctx, uint64_t elapsed_ms)
{
    ctx->prog.elapsed_ms = elapsed_ms;
    draw_progress(ctx, true);
}

void orch_runprogress_devcheck(void *ud, size_t finished, size_t total)
{
    struct orch_run *ctx = ud;
    int n = 0;

    if (!ctx->progress)
        return;
    n = fprintf(stderr, "\rdevice check: %zu/%zu calls", finished, total);
    if (n > 0)
        ctx->progress_len = (size_t)n;
    fflush(stderr);
}

void orch_runprogress_end_line(struct orch_run *ctx)
{
    if (ctx->progress && ctx->progress_len) {
        fputc('\n', stderr);
        ctx->progress_len = 0;
    }
}
