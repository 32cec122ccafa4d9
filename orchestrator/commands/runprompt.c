/* runprompt.c - `run`'s confirmation question (runprompt.h). */
#include "orch/commands/runprompt.h"

#include "orch/base/exitcode.h"
#include "orch/commands/runctx.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Up to three names of a kind, and how many there are in all. */
struct names {
    const char *v[4];
    size_t n;
};

static void names_add(struct names *nm, const char *name)
{
    if (nm->n < 4)
        nm->v[nm->n] = name;
    nm->n++;
}

/* What the run still sends: jobs, devices, products and firmwares. */
struct todo_counts {
    size_t jobs, devices;
    struct names pks, fws;
};

/* "20,000": v with a comma between groups of three digits. */
static void group_digits(char *out, size_t outsz, size_t v)
{
    char digits[32];
    int n = snprintf(digits, sizeof(digits), "%zu", v);
    size_t o = 0;
    int i = 0;

    for (i = 0; i < n && o + 2 < outsz; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

/* Appends to buf (NUL-terminated, bufsz bytes) what printf would write. */
static void append(char *buf, size_t bufsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t bufsz, const char *fmt, ...)
{
    size_t used = strlen(buf);
    va_list ap;

    va_start(ap, fmt);
    if (used < bufsz)
        vsnprintf(buf + used, bufsz - used, fmt, ap);
    va_end(ap);
}

/* Appends "a", "a and b", "a, b and c" (the n names), or "N <what>s"
 * when there are more than three. */
static void append_names(char *buf, size_t bufsz, const struct names *nm,
                         const char *what)
{
    size_t i = 0;

    if (nm->n > 3) {
        append(buf, bufsz, "%zu %ss", nm->n, what);
        return;
    }
    for (i = 0; i < nm->n; i++)
        append(buf, bufsz, "%s%s",
               i == 0 ? "" : i + 1 == nm->n ? " and " : ", ", nm->v[i]);
}

/* An ALL/GRAY target: one job for the devices on the source versions. */
static void question_all(const struct orch_config *cfg, char *buf,
                         size_t bufsz)
{
    size_t i = 0;

    append(buf, bufsz, "Create 1 upgrade job (target %s) for the devices "
           "of %s on version", orch_target_name(cfg->target),
           cfg->product_key);
    for (i = 0; i < cfg->n_src_versions; i++)
        append(buf, bufsz, "%s %s", i ? "," : "", cfg->src_versions[i]);
    append(buf, bufsz, " to firmware %s?", cfg->firmware_id);
}

/* Adds product p's chunks still to send; returns its firmware, NULL when
 * none of them is. */
static const char *count_product(const struct orch_run *ctx, size_t p,
                                 struct todo_counts *tc)
{
    const char *fw = NULL;
    size_t i = 0;

    for (i = 0; i < ctx->nitems; i++) {
        const struct orch_chunk *c = &ctx->plan.chunks[i];

        if (c->product != p || !orch_runctx_to_do(ctx, i))
            continue;
        tc->jobs++;
        tc->devices += c->count;
        fw = c->firmware_id;
    }
    return fw;
}

/* Counts what is still to send, per product; each firmware named once.
 * fw_of has one entry per product. */
static void count_todo(const struct orch_run *ctx, const char **fw_of,
                       struct todo_counts *tc)
{
    size_t p = 0, k = 0;

    for (p = 0; p < ctx->inv.nproducts; p++) {
        const char *fw = count_product(ctx, p, tc);

        if (fw == NULL)
            continue;
        names_add(&tc->pks, ctx->inv.products[p]);
        fw_of[p] = fw;
        for (k = 0; k < p && !(fw_of[k] && strcmp(fw_of[k], fw) == 0); k++)
            ;
        if (k == p)
            names_add(&tc->fws, fw);
    }
}

void orch_runprompt_question(const struct orch_run *ctx, char *buf,
                             size_t bufsz)
{
    const char **fw_of = NULL; /* [product]: its firmware, NULL: not sent */
    struct todo_counts tc;
    char num[32];

    buf[0] = '\0';
    if (!ctx->specific) {
        question_all(ctx->cfg, buf, bufsz);
        return;
    }
    fw_of = calloc(ctx->inv.nproducts ? ctx->inv.nproducts : 1,
                   sizeof(*fw_of));
    if (fw_of == NULL) {
        append(buf, bufsz, "Create %zu upgrade jobs?", ctx->nitems);
        return;
    }
    memset(&tc, 0, sizeof(tc));
    count_todo(ctx, fw_of, &tc);
    free(fw_of);
    group_digits(num, sizeof(num), tc.jobs);
    append(buf, bufsz, "Create %s%s upgrade job%s", ctx->todo.to_reconcile ?
           "up to " : "", num, tc.jobs == 1 ? "" : "s");
    group_digits(num, sizeof(num), tc.devices);
    append(buf, bufsz, " for %s device%s of ", num,
           tc.devices == 1 ? "" : "s");
    append_names(buf, bufsz, &tc.pks, "product");
    append(buf, bufsz, " to %s", tc.fws.n > 3   ? ""
                                 : tc.fws.n > 1 ? "firmwares "
                                                : "firmware ");
    append_names(buf, bufsz, &tc.fws, "firmware");
    append(buf, bufsz, "?");
}

static bool on_terminal(void)
{
    return isatty(STDIN_FILENO) && isatty(STDERR_FILENO);
}

static int no_terminal(struct orch_run *ctx)
{
    orch_reason_errorf(&ctx->why,
                       "not asking for confirmation without a terminal; "
                       "pass --yes to create the jobs");
    return ORCH_EXIT_USAGE;
}

int orch_runprompt_possible(struct orch_run *ctx)
{
    if (ctx->cfg->yes || on_terminal())
        return ORCH_EXIT_OK;
    return no_terminal(ctx);
}

static bool is_yes(const char *line)
{
    return strcmp(line, "y\n") == 0 || strcmp(line, "Y\n") == 0 ||
           strcasecmp(line, "yes\n") == 0;
}

int orch_runprompt_confirm(struct orch_run *ctx)
{
    char line[64];
    char question[512];

    if (ctx->cfg->yes)
        return ORCH_EXIT_OK;
    if (!on_terminal())
        return no_terminal(ctx);
    orch_runprompt_question(ctx, question, sizeof(question));
    fprintf(stderr, "%s [y/N] ", question);
    fflush(stderr);
    if (fgets(line, sizeof(line), stdin) == NULL || !is_yes(line)) {
        orch_reason_errorf(&ctx->why, "not confirmed; nothing sent");
        return ORCH_EXIT_ABORTED;
    }
    return ORCH_EXIT_OK;
}
