/* resume.c - journal replay into per-chunk state, the run's identity and
 * its comparison, and rebuilding a config from a run record.
 *
 * DESIGN: pure functions over jansson values; orch_resume_load is the only
 * one that touches a file (through orch_journal_read). The run record
 * carries two objects keyed by command-line option names: "shape" (what
 * decides the chunks and every Create call: a change there means the
 * journal's chunk numbers no longer name the same devices or the same job
 * settings) and "options" (endpoint, pacing, ...: free to change between
 * a run and its resume). Keying both by option names lets the comparison
 * tell the operator exactly which option changed, in the words they typed.
 * Which option goes where, and how each value is written and read back,
 * is the option table's (model/options.h); this file only places the two
 * objects in the run record and merges a `resume REPORT` command line.
 */
#include "orch/rollout/resume.h"

#include "orch/base/jsonout.h"
#include "orch/model/config.h"
#include "orch/model/options.h"
#include "orch/base/err.h"
#include "orch/engine/journal.h"
#include "orch/rollout/outcome.h"
#include "orch/rollout/report.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A journal claiming more chunks than this is damaged (200 devices each:
 * two billion devices). */
#define MAX_CHUNKS 10000000u

void orch_resume_init(struct orch_resume *rs)
{
    memset(rs, 0, sizeof(*rs));
}

void orch_resume_cleanup(struct orch_resume *rs)
{
    size_t i = 0;

    if (rs == NULL)
        return;
    for (i = 0; i < rs->nchunks; i++)
        json_decref(rs->chunks[i].done);
    free(rs->chunks);
    json_decref(rs->run);
    json_decref(rs->last_wave);
    json_decref(rs->waves);
    memset(rs, 0, sizeof(*rs));
}

static int chunk_of(const struct orch_resume *rs, const json_t *rec,
                    const char *name, size_t line, size_t *out,
                    struct orch_diag *diag)
{
    json_t *c = json_object_get(rec, "c");
    json_int_t v = 0;

    if (!json_is_integer(c))
        return orch_diag_set(diag, ORCH_EJOURNAL,
                             "%s:%zu: record without a chunk number", name,
                             line);
    v = json_integer_value(c);
    if (v < 0 || (uint64_t)v >= rs->nchunks)
        return orch_diag_set(diag, ORCH_EJOURNAL,
                             "%s:%zu: chunk %" JSON_INTEGER_FORMAT
                             " is outside the run's %zu chunks",
                             name, line, v, rs->nchunks);
    *out = (size_t)v;
    return 0;
}

static int feed_run(struct orch_resume *rs, const json_t *rec,
                    const char *name, size_t line, struct orch_diag *diag)
{
    json_t *n = json_object_get(rec, "nchunks");
    json_t *v = json_object_get(rec, "v");
    size_t i = 0;

    if (rs->run != NULL)
        return orch_diag_set(diag, ORCH_EJOURNAL,
                             "%s:%zu: a second run record (two runs "
                             "written into one journal)",
                             name, line);
    if (!json_is_integer(v) || json_integer_value(v) != ORCH_RESUME_VERSION)
        return orch_diag_set(diag, ORCH_EJOURNAL,
                             "%s:%zu: journal version not %d (written by "
                             "another ota-rollout version?)",
                             name, line, ORCH_RESUME_VERSION);
    if (!json_is_integer(n) || json_integer_value(n) < 0 ||
        json_integer_value(n) > (json_int_t)MAX_CHUNKS)
        return orch_diag_set(diag, ORCH_EJOURNAL,
                             "%s:%zu: run record without a valid chunk count",
                             name, line);
    rs->nchunks = (size_t)json_integer_value(n);
    rs->chunks = calloc(rs->nchunks ? rs->nchunks : 1, sizeof(*rs->chunks));
    if (rs->chunks == NULL) {
        rs->nchunks = 0;
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    }
    for (i = 0; i < rs->nchunks; i++) {
        rs->chunks[i].first_ms = -1;
        rs->chunks[i].last_ms = -1;
    }
    rs->run = json_incref((json_t *)rec);
    return 0;
}

/* A wave record: remembered as the last one; a passed (or overridden)
 * gate sets its bit. */
static int feed_wave(struct orch_resume *rs, const json_t *rec,
                     const char *name, size_t line, struct orch_diag *diag)
{
    json_t *k = json_object_get(rec, "wave");
    const char *ev = json_string_value(json_object_get(rec, "event"));
    const char *dec = json_string_value(json_object_get(rec, "decision"));
    json_int_t wave = json_is_integer(k) ? json_integer_value(k) : 0;

    if (wave < 1 || wave > 64 || ev == NULL)
        return orch_diag_set(diag, ORCH_EJOURNAL,
                             "%s:%zu: wave record without a wave number "
                             "(1..64) or event",
                             name, line);
    if ((strcmp(ev, "gate") == 0 && dec && strcmp(dec, "pass") == 0) ||
        strcmp(ev, "override") == 0)
        rs->waves_passed |= UINT64_C(1) << (wave - 1);
    if (rs->wave_base_ms == 0 &&
        json_is_integer(json_object_get(rec, "base")))
        rs->wave_base_ms = json_integer_value(json_object_get(rec, "base"));
    json_decref(rs->last_wave);
    rs->last_wave = json_incref((json_t *)rec);
    if (rs->waves == NULL)
        rs->waves = json_array();
    if (rs->waves == NULL || json_array_append(rs->waves, (json_t *)rec))
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    return 0;
}

int orch_resume_feed(struct orch_resume *rs, const json_t *rec,
                     const char *name, size_t line, struct orch_diag *diag)
{
    const char *t = json_string_value(json_object_get(rec, "t"));
    struct orch_resume_chunk *ch = NULL;
    size_t c = 0;
    int rc = 0;

    if (t == NULL)
        return orch_diag_set(diag, ORCH_EJOURNAL,
                             "%s:%zu: record without a type", name, line);
    if (strcmp(t, "run") == 0) {
        rc = feed_run(rs, rec, name, line, diag);
        goto out;
    }
    if (rs->run == NULL)
        return orch_diag_set(diag, ORCH_EJOURNAL,
                             "%s:%zu: \"%s\" record before the run record",
                             name, line, t);
    if (strcmp(t, "intent") == 0 || strcmp(t, "attempt") == 0) {
        rc = chunk_of(rs, rec, name, line, &c, diag);
        if (rc)
            return rc;
        ch = &rs->chunks[c];
        {
            json_t *tm = json_object_get(rec, "time");
            int64_t when = json_is_integer(tm) ? json_integer_value(tm) : 0;

            if (ch->first_ms < 0)
                ch->first_ms = when;
            if (when > ch->last_ms)
                ch->last_ms = when;
        }
        ch->attempts++;
        if (ch->state == ORCH_CHUNK_NEW)
            ch->state = ORCH_CHUNK_STARTED;
    } else if (strcmp(t, "done") == 0) {
        rc = chunk_of(rs, rec, name, line, &c, diag);
        if (rc)
            return rc;
        if (!json_is_string(json_object_get(rec, "status")))
            return orch_diag_set(diag, ORCH_EJOURNAL,
                                 "%s:%zu: done record without a status", name,
                                 line);
        ch = &rs->chunks[c];
        json_decref(ch->done);
        ch->done = json_incref((json_t *)rec);
        ch->state = ORCH_CHUNK_DONE;
    } else if (strcmp(t, "wave") == 0) {
        rc = feed_wave(rs, rec, name, line, diag);
        if (rc)
            return rc;
    } else if (strcmp(t, "resume") == 0) {
        rs->ended = false;
    } else if (strcmp(t, "end") == 0) {
        rs->ended = true;
    }
out:
    if (rc == 0)
        rs->records++;
    return rc;
}

struct load_ctx {
    struct orch_resume *rs;
    const char *name;
    struct orch_diag *diag;
    int rc;
};

static int on_record(void *ud, const json_t *rec, size_t line)
{
    struct load_ctx *lc = ud;

    lc->rc = orch_resume_feed(lc->rs, rec, lc->name, line, lc->diag);
    return lc->rc ? 1 : 0;
}

int orch_resume_load_mem(struct orch_resume *rs, const char *data, size_t len,
                         const char *name, struct orch_diag *diag)
{
    struct load_ctx lc = {rs, name, diag, 0};
    int rc = 0;

    rc = orch_journal_decode(data, len, name, on_record, &lc, &rs->valid_len,
                             diag);
    return rc == 1 ? lc.rc : rc;
}

int orch_resume_load(struct orch_resume *rs, const char *path,
                     struct orch_diag *diag)
{
    struct load_ctx lc = {rs, path, diag, 0};
    int rc = 0;

    rc = orch_journal_read(path, on_record, &lc, &rs->valid_len, diag);
    return rc == 1 ? lc.rc : rc;
}

enum orch_resume_action orch_resume_action(const struct orch_resume *rs,
                                           size_t i, int64_t *since_ms)
{
    const struct orch_resume_chunk *ch = NULL;
    const char *status = NULL;

    if (i >= rs->nchunks)
        return ORCH_RESUME_SEND;
    ch = &rs->chunks[i];
    *since_ms = ch->first_ms;
    if (ch->state == ORCH_CHUNK_NEW)
        return ORCH_RESUME_SEND;
    if (ch->state == ORCH_CHUNK_STARTED)
        return ORCH_RESUME_RECONCILE;
    status = json_string_value(json_object_get(ch->done, "status"));
    /* A chunk whose outcome was never decided (failed Ambiguous:
     * reconciliation could not tell, or was cut short by Ctrl-C or a fatal
     * error; not_sent with an intent on disk: an aborted in-flight call) is
     * asked about: never resent blindly, never given up for good. */
    if (ch->first_ms >= 0 && orch_outcome_unknown(ch->done, true))
        return ORCH_RESUME_RECONCILE;
    if (status && (strcmp(status, "created") == 0 ||
                   strcmp(status, "failed") == 0))
        return ORCH_RESUME_SKIP;
    /* Anything else after a send may have gone out too: ask first. */
    return ch->first_ms >= 0 ? ORCH_RESUME_RECONCILE : ORCH_RESUME_SEND;
}

int64_t orch_resume_last_unsettled_ms(const struct orch_resume *rs)
{
    int64_t since = 0, last = -1;
    size_t i = 0;

    for (i = 0; i < rs->nchunks; i++) {
        if (orch_resume_action(rs, i, &since) == ORCH_RESUME_RECONCILE &&
            rs->chunks[i].last_ms > last)
            last = rs->chunks[i].last_ms;
    }
    return last;
}

bool orch_resume_all_final(const struct orch_resume *rs)
{
    int64_t since = 0;
    size_t i = 0;

    if (rs->run == NULL)
        return false;
    for (i = 0; i < rs->nchunks; i++) {
        if (orch_resume_action(rs, i, &since) != ORCH_RESUME_SKIP)
            return false;
    }
    return true;
}

/* ---- identity ---------------------------------------------------------- */

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* json_object_set_new on a NULL value fails; count it as ENOMEM. */
static int put(json_t *o, const char *key, json_t *v)
{
    if (v == NULL)
        return -1;
    return json_object_set_new(o, key, v);
}

json_t *orch_resume_shape(const struct orch_config *cfg)
{
    return orch_options_journal(cfg, ORCH_OPT_SHAPE);
}

json_t *orch_resume_run_record(const struct orch_config *cfg,
                               const char *inventory_abs,
                               const char *inventory_sha256, size_t nchunks,
                               int64_t now_ms)
{
    json_t *o = json_object();
    int bad = 0;

    if (o == NULL)
        return NULL;
    bad |= put(o, "t", json_string("run"));
    bad |= put(o, "v", json_integer(ORCH_RESUME_VERSION));
    bad |= put(o, "time", json_integer(now_ms));
    bad |= put(o, "run_id", str_or_null(cfg->run_id));
    bad |= put(o, "inventory", str_or_null(inventory_abs));
    bad |= put(o, "inventory_sha256", str_or_null(inventory_sha256));
    bad |= put(o, "shape", orch_resume_shape(cfg));
    bad |= put(o, "options", orch_options_journal(cfg, ORCH_OPT_RUN));
    bad |= put(o, "nchunks", json_integer((json_int_t)nchunks));
    return orch_jsonout_built(o, bad);
}

/* Appends "; " + text to what, truncating with "..." when full. */
static void say(char *what, size_t whatsz, const char *text)
{
    size_t n = strlen(what);

    if (n + 1 >= whatsz)
        return;
    snprintf(what + n, whatsz - n, "%s%s", n ? "; " : "", text);
    if (strlen(what) + 1 >= whatsz && whatsz > 4)
        memcpy(what + whatsz - 4, "...", 4);
}

static void value_text(char *out, size_t outsz, const json_t *v)
{
    char *s = NULL;

    if (v == NULL || json_is_null(v)) {
        snprintf(out, outsz, "(not set)");
        return;
    }
    if (json_is_string(v)) {
        snprintf(out, outsz, "\"%s\"", json_string_value(v));
        return;
    }
    s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
    snprintf(out, outsz, "%s", s ? s : "?");
    free(s);
}

size_t orch_resume_compare(const json_t *run, const char *inventory_sha256,
                           const json_t *shape, size_t nchunks, char *what,
                           size_t whatsz)
{
    const char *old_sha = json_string_value(json_object_get(run, "inventory_sha256"));
    const json_t *old_shape = json_object_get(run, "shape");
    json_t *oldn = json_object_get(run, "nchunks");
    const char *key = NULL;
    json_t *v = NULL;
    char line[400], a[120], b[120];
    size_t diffs = 0;

    what[0] = '\0';
    if ((old_sha == NULL) != (inventory_sha256 == NULL) ||
        (old_sha && strcmp(old_sha, inventory_sha256) != 0)) {
        snprintf(line, sizeof(line),
                 "the inventory's content changed (SHA-256 %.12s... now "
                 "%.12s...)",
                 old_sha ? old_sha : "none",
                 inventory_sha256 ? inventory_sha256 : "none");
        say(what, whatsz, line);
        diffs++;
    }
    /* Keys of both objects: a key only one side has is a change too. */
    json_object_foreach((json_t *)shape, key, v) {
        json_t *old = json_object_get(old_shape, key);

        if (old == NULL || !json_equal(old, v)) {
            value_text(a, sizeof(a), old);
            value_text(b, sizeof(b), v);
            snprintf(line, sizeof(line), "--%s was %s, now %s", key, a, b);
            say(what, whatsz, line);
            diffs++;
        }
    }
    /* A key only the journal has: an option the shape names only when it
     * is set (--waves, --wave-interval) is not set now. */
    json_object_foreach((json_t *)old_shape, key, v) {
        if (json_object_get(shape, key) == NULL) {
            value_text(a, sizeof(a), v);
            snprintf(line, sizeof(line), "--%s was %s, now (not set)", key,
                     a);
            say(what, whatsz, line);
            diffs++;
        }
    }
    if (diffs == 0 && (!json_is_integer(oldn) ||
                       (size_t)json_integer_value(oldn) != nchunks)) {
        snprintf(line, sizeof(line), "the plan has %zu chunks, the run had %"
                 JSON_INTEGER_FORMAT, nchunks,
                 json_is_integer(oldn) ? json_integer_value(oldn) : -1);
        say(what, whatsz, line);
        diffs++;
    }
    return diffs;
}

/* ---- config from a run record ----------------------------------------- */

static int take_str(char **dst, const json_t *v)
{
    const char *s = json_string_value(v);

    if (s == NULL)
        return 0;
    free(*dst);
    *dst = strdup(s);
    return *dst ? 0 : ORCH_ENOMEM;
}

/* The run record's inventory and run id, and every journaled option. */
static int config_from_json(struct orch_config *c, const json_t *run)
{
    int rc = take_str(&c->inventory_path, json_object_get(run, "inventory"));

    if (rc == 0)
        rc = orch_options_restore(c, json_object_get(run, "shape"),
                                  json_object_get(run, "options"));
    if (rc == 0)
        rc = take_str(&c->run_id, json_object_get(run, "run_id"));
    return rc;
}

int orch_resume_config_from_run(struct orch_config *cfg, const json_t *run,
                                struct orch_diag *diag)
{
    struct orch_config c;
    char *report = NULL;
    int rc = 0;

    orch_config_init(&c);
    if (!json_is_object(run) || !json_is_object(json_object_get(run, "shape")))
        return orch_diag_set(diag, ORCH_EJOURNAL,
                             "the journal has no usable run record");
    rc = config_from_json(&c, run);
    if (rc) {
        orch_config_cleanup(&c);
        return orch_diag_set(diag, rc, "out of memory");
    }
    /* The report was the positional argument of `resume REPORT`. */
    report = cfg->inventory_path;
    cfg->inventory_path = NULL;
    orch_options_overlay(&c, cfg);
    free(c.report_path);
    c.report_path = report;
    c.command = ORCH_CMD_RUN;
    c.resume = true;
    orch_config_cleanup(cfg);
    *cfg = c;
    return 0;
}

char *orch_resume_journal_path(const char *report_path)
{
    return orch_report_sibling(report_path, ".journal");
}

int orch_resume_prepare_config(struct orch_config *cfg, struct orch_diag *diag)
{
    struct orch_resume rs;
    char *path = NULL;
    int rc = 0;

    orch_resume_init(&rs);
    if (cfg->inventory_path == NULL)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "resume: which run? give its report: "
                             "ota-rollout resume REPORT.csv");
    path = orch_resume_journal_path(cfg->inventory_path);
    if (path == NULL)
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    rc = orch_resume_load(&rs, path, diag);
    if (rc == ORCH_ENOTFOUND || (rc == 0 && rs.run == NULL))
        rc = orch_diag_set(diag, ORCH_ECONFIG,
                           "resume: no journal %s for the report %s, so "
                           "nothing to resume (start the run with `run`)",
                           path, cfg->inventory_path);
    if (rc == 0)
        rc = orch_resume_config_from_run(cfg, rs.run, diag);
    orch_resume_cleanup(&rs);
    free(path);
    return rc;
}

/* ---- --check-devices: the drop map in the run record ------------------ */

json_t *orch_resume_dropped_json(const uint8_t *drop, size_t n)
{
    json_t *a = json_array();
    size_t i = 0;

    if (a == NULL)
        return NULL;
    for (i = 0; drop != NULL && i < n; i++) {
        if (drop[i] && json_array_append_new(a, json_integer((json_int_t)i))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

int orch_resume_drop_map(const json_t *run, uint8_t *drop, size_t n,
                         bool *has, struct orch_diag *diag)
{
    const json_t *a = json_object_get(run, "dropped");
    const json_t *v = NULL;
    size_t k = 0;

    *has = false;
    if (n > 0)
        memset(drop, 0, n);
    if (a == NULL || json_is_null(a))
        return 0;
    if (!json_is_array(a))
        return orch_diag_set(diag, ORCH_EJOURNAL,
                             "the run record's \"dropped\" is not a list");
    json_array_foreach(a, k, v) {
        json_int_t i = json_is_integer(v) ? json_integer_value(v) : -1;

        if (i < 0 || (uint64_t)i >= n) {
            if (n > 0)
                memset(drop, 0, n);
            return orch_diag_set(diag, ORCH_EJOURNAL,
                                 "the run record's \"dropped\" entry %zu is "
                                 "not a device of this inventory (%zu "
                                 "devices)",
                                 k, n);
        }
        drop[i] = 1;
    }
    *has = true;
    return 0;
}
