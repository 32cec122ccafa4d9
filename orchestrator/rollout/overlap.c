/* overlap.c - devices of an inventory that an unfinished run still
 * holds (overlap.h).
 *
 * DESIGN: the held devices of one journal are gathered, one set per kind
 * of chunk, as sorted "ProductKey\x1fDeviceName" keys, then every device
 * of the inventory is looked up by binary search: O((m + n) log m) for m
 * held devices, no change to the inventory's private hash set.
 */
#include "orch/rollout/overlap.h"

#include "orch/base/err.h"
#include "orch/engine/journal.h"
#include "orch/model/config.h"
#include "orch/model/inventory.h"
#include "orch/model/invopts.h"
#include "orch/model/plan.h"
#include "orch/rollout/planrows.h"
#include "orch/rollout/report.h"
#include "orch/rollout/resume.h"

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- which journals ----------------------------------------------------- */

struct paths {
    char **v;
    char **real; /* realpath of each, for duplicates */
    size_t n, cap;
};

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n > k && strcmp(s + n - k, suffix) == 0;
}

/* Adds path (copied) unless it is own_real or already there; a path that
 * does not exist is left out. 0 or ORCH_ENOMEM. */
static int add_path(struct paths *p, const char *path, const char *own_real)
{
    char *real = realpath(path, NULL);
    size_t i = 0;

    if (real == NULL)
        return 0;
    if (own_real && strcmp(real, own_real) == 0) {
        free(real);
        return 0;
    }
    for (i = 0; i < p->n; i++) {
        if (strcmp(p->real[i], real) == 0) {
            free(real);
            return 0;
        }
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        char **v = realloc(p->v, cap * sizeof(*v));
        char **r = v ? realloc(p->real, cap * sizeof(*r)) : NULL;

        if (v)
            p->v = v;
        if (r == NULL) {
            free(real);
            return ORCH_ENOMEM;
        }
        p->real = r;
        p->cap = cap;
    }
    p->real[p->n] = real;
    p->v[p->n] = strdup(path);
    if (p->v[p->n] == NULL) {
        free(real);
        return ORCH_ENOMEM;
    }
    p->n++;
    return 0;
}

/* The folder of path ("." when it has none), malloced. */
static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* Every "*.journal" of the folder of `path`, in name order. */
static int add_folder(struct paths *p, const char *path, const char *own_real)
{
    char *dir = folder_of(path);
    struct dirent **ents = NULL;
    int n = 0, i = 0, rc = 0;

    if (dir == NULL)
        return ORCH_ENOMEM;
    n = scandir(dir, &ents, NULL, alphasort);
    for (i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;

        if (rc == 0 && ends_with(name, ".journal")) {
            size_t len = strlen(dir) + strlen(name) + 2;
            char *full = malloc(len);

            if (full == NULL) {
                rc = ORCH_ENOMEM;
            } else {
                snprintf(full, len, "%s/%s", dir, name);
                rc = add_path(p, full, own_real);
                free(full);
            }
        }
        free(ents[i]);
    }
    free(ents);
    free(dir);
    return rc;
}

/* "X.journal" when inventory is X.failed.csv or X.ambiguous.csv. */
static int add_report_journal(struct paths *p, const char *inventory,
                              const char *own_real)
{
    static const char *const kinds[] = {".failed.csv", ".ambiguous.csv"};
    size_t k = 0;

    for (k = 0; k < 2; k++) {
        size_t n = strlen(inventory) - strlen(kinds[k]);
        char *report = NULL, *j = NULL;
        int rc = 0;

        if (!ends_with(inventory, kinds[k]))
            continue;
        report = strndup(inventory, n);
        j = report ? orch_resume_journal_path(report) : NULL;
        free(report);
        if (j == NULL)
            return ORCH_ENOMEM;
        rc = add_path(p, j, own_real);
        free(j);
        return rc;
    }
    return 0;
}

void orch_overlap_paths_free(char **paths, size_t n)
{
    size_t i = 0;

    for (i = 0; paths && i < n; i++)
        free(paths[i]);
    free(paths);
}

int orch_overlap_journals(const char *inventory_path, const char *report_path,
                          const char *own_journal, char ***paths, size_t *n)
{
    struct paths p;
    char *own = own_journal ? realpath(own_journal, NULL) : NULL;
    size_t i = 0;
    int rc = 0;

    memset(&p, 0, sizeof(p));
    rc = add_report_journal(&p, inventory_path, own);
    if (rc == 0)
        rc = add_folder(&p, inventory_path, own);
    if (rc == 0 && report_path)
        rc = add_folder(&p, report_path, own);
    for (i = 0; i < p.n; i++)
        free(p.real[i]);
    free(p.real);
    free(own);
    if (rc) {
        orch_overlap_paths_free(p.v, p.n);
        *paths = NULL;
        *n = 0;
        return rc;
    }
    *paths = p.v;
    *n = p.n;
    return 0;
}

/* ---- the held devices of one journal ------------------------------------ */

/* What a chunk holds (overlap.h); one key set each. */
enum held {
    HELD_NONE = -1,
    HELD_UNDECIDED = 0,
    HELD_WAITING,
    HELD_UNSENT,
    HELD_ABORTED,
    HELD_OTHER_FW,
    HELD_KINDS
};

struct keys {
    char **v;
    size_t n, cap;
};

static int key_add(struct keys *k, const char *pk, const char *name)
{
    size_t len = strlen(pk) + strlen(name) + 2;
    char *s = malloc(len);

    if (s == NULL)
        return ORCH_ENOMEM;
    snprintf(s, len, "%s\x1f%s", pk, name);
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 256;
        char **v = realloc(k->v, cap * sizeof(*v));

        if (v == NULL) {
            free(s);
            return ORCH_ENOMEM;
        }
        k->v = v;
        k->cap = cap;
    }
    k->v[k->n++] = s;
    return 0;
}

static void keys_free(struct keys *k)
{
    size_t i = 0;

    for (i = 0; i < k->n; i++)
        free(k->v[i]);
    free(k->v);
    memset(k, 0, sizeof(*k));
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The run's inventory and plan, rebuilt from its run record (false: gone,
 * changed, or not a device list). */
static bool rebuild_plan(const struct orch_resume *rs, const char *report,
                         struct orch_config *c, struct orch_inventory *inv,
                         struct orch_plan *plan)
{
    const char *sha = json_string_value(json_object_get(rs->run,
                                                        "inventory_sha256"));
    struct orch_invopts io;
    struct orch_diag diag = {{0}};
    char now_sha[65];
    uint8_t *drop = NULL;
    bool has = false, ok = false;
    int rc = 0;

    c->inventory_path = strdup(report); /* `resume REPORT`'s argument */
    if (c->inventory_path == NULL ||
        orch_resume_config_from_run(c, rs->run, &diag) != 0 ||
        c->target != ORCH_TARGET_SPECIFIC || c->inventory_path == NULL ||
        sha == NULL ||
        orch_file_sha256(c->inventory_path, now_sha, &diag) != 0 ||
        strcmp(sha, now_sha) != 0)
        return false;
    rc = orch_invopts_init(&io, c, &diag);
    if (rc == 0)
        rc = orch_inventory_load(inv, c->inventory_path, &io.opts, &diag);
    orch_invopts_cleanup(&io);
    if (rc != 0)
        return false;
    drop = calloc(inv->n ? inv->n : 1, 1);
    if (drop == NULL ||
        orch_resume_drop_map(rs->run, drop, inv->n, &has, &diag) != 0)
        goto out;
    if (has)
        ok = orch_plan_build_filtered(plan, inv, c, drop, &diag) == 0;
    else
        ok = orch_plan_build(plan, inv, c, &diag) == 0;
    /* Chunk numbers name the same devices only in the same plan. */
    if (ok && plan->nchunks != rs->nchunks) {
        orch_plan_cleanup(plan);
        ok = false;
    }
out:
    free(drop);
    return ok;
}

/* Two runs' firmware for a product; one that is not known counts as the
 * same (the safe side: refused). */
static bool same_firmware(const char *a, const char *b)
{
    return a == NULL || b == NULL || strcmp(a, b) == 0;
}

/* What chunk i of the run rs (rebuilt as old, waved or not) holds for a
 * new run of cfg. */
static enum held chunk_held(const struct orch_resume *rs, size_t i,
                            const struct orch_config *old,
                            const struct orch_plan *plan,
                            const struct orch_config *cfg)
{
    const char *pk = orch_plan_product(plan, &plan->chunks[i]);
    int64_t since = 0;
    enum orch_resume_action a = orch_resume_action(rs, i, &since);

    if (a == ORCH_RESUME_SKIP)
        return HELD_NONE;
    if (a == ORCH_RESUME_RECONCILE)
        return HELD_UNDECIDED;
    if (!orch_config_waved(old) || rs->chunks[i].done != NULL)
        return HELD_UNSENT;
    if (strcmp(orch_planrows_code(rs->last_wave), ORCH_CODE_WAVE_ABORTED) != 0)
        return HELD_WAITING;
    if (cfg == NULL || same_firmware(orch_config_firmware_for(old, pk),
                                     orch_config_firmware_for(cfg, pk)))
        return HELD_ABORTED;
    return HELD_OTHER_FW;
}

/* The devices of the held chunks, from the rebuilt plan, into k[kind];
 * chunks[kind] counts the chunks. */
static int keys_from_plan(const struct orch_resume *rs,
                          const struct orch_config *old,
                          const struct orch_plan *plan,
                          const struct orch_config *cfg, struct keys *k,
                          size_t *chunks)
{
    size_t i = 0;
    uint32_t j = 0;
    int rc = 0;

    for (i = 0; i < rs->nchunks && rc == 0; i++) {
        const struct orch_chunk *c = &plan->chunks[i];
        enum held h = chunk_held(rs, i, old, plan, cfg);

        if (h == HELD_NONE)
            continue;
        chunks[h]++;
        for (j = 0; j < c->count && rc == 0; j++)
            rc = key_add(&k[h], orch_plan_product(plan, c),
                         orch_plan_device(plan, c, j));
    }
    return rc;
}

/* The devices the run's "REPORT.ambiguous.csv" lists (none when it is
 * missing or unreadable). */
static int keys_from_ambiguous_file(const char *report, struct keys *k)
{
    struct orch_inventory inv;
    struct orch_inventory_opts opts;
    struct orch_diag diag = {{0}};
    char *path = orch_report_sibling(report, ".ambiguous.csv");
    size_t i = 0;
    int rc = 0;

    if (path == NULL)
        return ORCH_ENOMEM;
    orch_inventory_init(&inv);
    memset(&opts, 0, sizeof(opts));
    opts.skip_invalid = true;
    if (orch_inventory_load(&inv, path, &opts, &diag) == 0) {
        for (i = 0; i < inv.n && rc == 0; i++)
            rc = key_add(k, inv.products[inv.dev[i].product],
                         orch_inventory_name(&inv, i));
    }
    orch_inventory_cleanup(&inv);
    free(path);
    return rc;
}

static size_t count_in(const struct keys *k, const struct orch_inventory *inv,
                       int *rc)
{
    char buf[1024];
    size_t i = 0, hits = 0;

    for (i = 0; i < inv->n; i++) {
        const char *pk = inv->products[inv->dev[i].product];
        const char *name = orch_inventory_name(inv, i);
        char *key = buf;
        size_t len = strlen(pk) + strlen(name) + 2;

        if (len > sizeof(buf) && (key = malloc(len)) == NULL) {
            *rc = ORCH_ENOMEM;
            return hits;
        }
        snprintf(key, len, "%s\x1f%s", pk, name);
        if (bsearch(&key, k->v, k->n, sizeof(*k->v), cmp_key))
            hits++;
        if (key != buf)
            free(key);
    }
    return hits;
}

void orch_overlap_free(struct orch_overlap *o)
{
    if (o == NULL)
        return;
    free(o->journal);
    free(o->report);
    memset(o, 0, sizeof(*o));
}

void orch_overlap_free_all(struct orch_overlap *o, size_t n)
{
    size_t i = 0;

    for (i = 0; o && i < n; i++)
        orch_overlap_free(&o[i]);
    free(o);
}

int orch_overlap_refuses(const struct orch_overlap *o)
{
    return o->devices + o->waiting + o->unsent + o->aborted > 0;
}

/* True when a resume of rs would not skip some chunk. */
static bool holds_any(const struct orch_resume *rs)
{
    int64_t since = 0;
    size_t i = 0;

    for (i = 0; i < rs->nchunks; i++) {
        if (orch_resume_action(rs, i, &since) != ORCH_RESUME_SKIP)
            return true;
    }
    return false;
}

/* The undecided chunks when the run's plan cannot be rebuilt: their
 * number, and the devices of its ambiguous file. */
static int keys_without_plan(const struct orch_resume *rs, const char *report,
                             struct keys *k, size_t *chunks)
{
    int64_t since = 0;
    size_t i = 0;

    for (i = 0; i < rs->nchunks; i++) {
        if (orch_resume_action(rs, i, &since) == ORCH_RESUME_RECONCILE)
            chunks[HELD_UNDECIDED]++;
    }
    return chunks[HELD_UNDECIDED]
               ? keys_from_ambiguous_file(report, &k[HELD_UNDECIDED])
               : 0;
}

/* The counts of each kind into o. */
static int count_kinds(struct keys *k, const size_t *chunks,
                       const struct orch_inventory *inv, struct orch_overlap *o)
{
    size_t *const ch[HELD_KINDS] = {&o->chunks, &o->waiting_chunks,
                                    &o->unsent_chunks, &o->aborted_chunks,
                                    &o->other_fw_chunks};
    size_t *const dev[HELD_KINDS] = {&o->devices, &o->waiting, &o->unsent,
                                     &o->aborted, &o->other_fw};
    int h = 0, rc = 0;

    for (h = 0; h < HELD_KINDS && rc == 0; h++) {
        *ch[h] = chunks[h];
        if (k[h].n == 0)
            continue;
        qsort(k[h].v, k[h].n, sizeof(*k[h].v), cmp_key);
        *dev[h] = count_in(&k[h], inv, &rc);
    }
    return rc;
}

int orch_overlap_check(const char *journal, const struct orch_inventory *inv,
                       const struct orch_config *cfg, struct orch_overlap *o,
                       int *found)
{
    struct orch_resume rs;
    struct orch_diag diag = {{0}};
    struct orch_config c;
    struct orch_inventory old;
    struct orch_plan plan;
    struct keys k[HELD_KINDS];
    size_t chunks[HELD_KINDS] = {0};
    int h = 0, rc = 0;

    memset(o, 0, sizeof(*o));
    memset(k, 0, sizeof(k));
    memset(&plan, 0, sizeof(plan));
    *found = 0;
    orch_resume_init(&rs);
    orch_config_init(&c);
    orch_inventory_init(&old);
    if (!ends_with(journal, ".journal") ||
        orch_resume_load(&rs, journal, &diag) != 0 || rs.run == NULL ||
        !holds_any(&rs))
        goto out;
    o->journal = strdup(journal);
    o->report = strndup(journal, strlen(journal) - strlen(".journal"));
    if (o->journal == NULL || o->report == NULL) {
        rc = ORCH_ENOMEM;
        goto out;
    }
    if (rebuild_plan(&rs, o->report, &c, &old, &plan)) {
        rc = keys_from_plan(&rs, &c, &plan, cfg, k, chunks);
        orch_plan_cleanup(&plan);
    } else {
        rc = keys_without_plan(&rs, o->report, k, chunks);
    }
    if (rc == 0)
        rc = count_kinds(k, chunks, inv, o);
    if (o->waiting_chunks)
        o->code = orch_planrows_code(rs.last_wave);
    o->wave = (long)json_integer_value(json_object_get(rs.last_wave, "wave"));
    *found = rc == 0 && (orch_overlap_refuses(o) || o->other_fw > 0);
out:
    if (!*found)
        orch_overlap_free(o);
    for (h = 0; h < HELD_KINDS; h++)
        keys_free(&k[h]);
    orch_inventory_cleanup(&old);
    orch_config_cleanup(&c);
    orch_resume_cleanup(&rs);
    return rc;
}

int orch_overlap_find(const struct orch_inventory *inv,
                      const struct orch_config *cfg, const char *inventory_path,
                      const char *report_path, const char *own_journal,
                      struct orch_overlap **out, size_t *n)
{
    char **paths = NULL;
    size_t npaths = 0, i = 0;
    struct orch_overlap *v = NULL;
    int rc = 0;

    *out = NULL;
    *n = 0;
    rc = orch_overlap_journals(inventory_path, report_path, own_journal,
                               &paths, &npaths);
    if (rc == 0 && npaths > 0 && (v = calloc(npaths, sizeof(*v))) == NULL)
        rc = ORCH_ENOMEM;
    for (i = 0; i < npaths && rc == 0; i++) {
        int found = 0;

        rc = orch_overlap_check(paths[i], inv, cfg, &v[*n], &found);
        if (found)
            (*n)++;
    }
    orch_overlap_paths_free(paths, npaths);
    if (rc || *n == 0) {
        orch_overlap_free_all(v, *n);
        *n = 0;
        return rc;
    }
    *out = v;
    return 0;
}
