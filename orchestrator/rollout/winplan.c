/* winplan.c - the maintenance-window schedule of a plan, per wave and
 * zone (winplan.h). */
#include "orch/rollout/winplan.h"

#include "orch/base/jsonout.h"
#include "orch/model/plan.h"
#include "orch/model/tzdb.h"
#include "orch/model/waves.h"
#include "orch/rollout/waveplan.h"

#include <inttypes.h>
#include <string.h>

int64_t orch_winplan_after(int64_t nominal_ms, int64_t now_ms)
{
    if (nominal_ms >= 0 && nominal_ms - ORCH_WINDOW_LEAD_MS > now_ms)
        return nominal_ms - ORCH_WINDOW_LEAD_MS;
    return now_ms;
}

static size_t nwaves(const struct orch_winplan *wpl)
{
    return wpl->waves ? wpl->waves->n : 1;
}

/* Chunks [*first, *end) of wave k. */
static void wave_range(const struct orch_winplan *wpl, size_t k,
                       size_t *first, size_t *end)
{
    *first = wpl->waves ? wpl->waves->w[k].first : 0;
    *end = wpl->waves ? wpl->waves->w[k].end : wpl->plan->nchunks;
}

static int64_t nominal(const struct orch_winplan *wpl, size_t k)
{
    return wpl->nominal_ms && wpl->waves ? wpl->nominal_ms[k] : -1;
}

/* Wave k's devices and jobs in zone z into *r, and their window. False
 * when the wave has no job in that zone. */
static bool row_of(const struct orch_winplan *wpl, size_t k, uint32_t z,
                   struct orch_winplan_row *r)
{
    const struct orch_plan *plan = wpl->plan;
    size_t first = 0, end = 0, i = 0;

    memset(r, 0, sizeof(*r));
    r->wave = k;
    r->zone = z;
    wave_range(wpl, k, &first, &end);
    for (i = first; i < end && i < plan->nchunks; i++) {
        if (plan->chunks[i].zone == z) {
            r->devices += plan->chunks[i].count;
            r->jobs++;
        }
    }
    if (r->jobs == 0)
        return false;
    r->start_ms = r->end_ms = -1;
    r->after_gate = wpl->waves && wpl->gated && k > 0;
    if (!r->after_gate)
        orch_window_next(wpl->tz[z], &wpl->window,
                         orch_winplan_after(nominal(wpl, k), wpl->now_ms),
                         &r->start_ms, &r->end_ms);
    return true;
}

/* Wave k as `run` judges its horizon: its ScheduleTime is the latest
 * window start among its zones (runwindows.h), -1 after the gate. */
static void wave_as_run(const struct orch_winplan *wpl, size_t k,
                        struct orch_wave *w)
{
    struct orch_winplan_row r;
    uint32_t z = 0;

    memset(w, 0, sizeof(*w));
    w->schedule_ms = w->finish_ms = -1;
    for (z = 0; z < wpl->nzones; z++) {
        if (row_of(wpl, k, z, &r) && r.start_ms > w->schedule_ms)
            w->schedule_ms = r.start_ms;
    }
}

/* Whether wave k is deferred: it or a wave before it is beyond the
 * horizon at the plan's time (run stops at the first such wave). */
static bool wave_deferred(const struct orch_winplan *wpl, size_t k)
{
    struct orch_wave w;
    size_t j = 0;

    for (j = 0; j <= k; j++) {
        wave_as_run(wpl, j, &w);
        if (orch_waves_when(&w, wpl->now_ms, NULL) == ORCH_WAVE_LATER)
            return true;
    }
    return false;
}

/* row_of() and whether its wave is deferred. */
static bool full_row_of(const struct orch_winplan *wpl, size_t k, uint32_t z,
                        struct orch_winplan_row *r)
{
    if (!row_of(wpl, k, z, r))
        return false;
    r->deferred = wave_deferred(wpl, k);
    return true;
}

size_t orch_winplan_rows(const struct orch_winplan *wpl,
                         struct orch_winplan_row *rows, size_t cap)
{
    struct orch_winplan_row r;
    size_t k = 0, n = 0;
    uint32_t z = 0;

    if (wpl->tz == NULL || wpl->plan == NULL)
        return 0;
    for (k = 0; k < nwaves(wpl); k++) {
        for (z = 0; z < wpl->nzones; z++) {
            if (!full_row_of(wpl, k, z, &r))
                continue;
            if (n < cap)
                rows[n] = r;
            n++;
        }
    }
    return n;
}

/* "2027-03-28T01:00:00Z" into out (at least 32 bytes). */
static void format_utc(int64_t ms, char *out, size_t outsz)
{
    int64_t t = ms / 1000, days = 0, y = 0, sod = 0;
    unsigned m = 0, d = 0;

    days = (t >= 0 ? t : t - 86399) / 86400;
    sod = t - days * 86400;
    orch_tz_civil_from_days(days, &y, &m, &d);
    snprintf(out, outsz, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02dZ", y, m, d,
             (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
}

/* "2027-03-28T02:00:00+01:00" into out (at least 32 bytes): the local
 * time of tzwindow.h's "2027-03-28 02:00 +01:00" as ISO 8601. */
static void format_local_iso(const struct orch_tz *tz, int64_t ms, char *out,
                             size_t outsz)
{
    char l[40];

    orch_window_format_local(tz, ms, l, sizeof(l));
    if (strlen(l) != 23) {
        snprintf(out, outsz, "%s", l);
        return;
    }
    snprintf(out, outsz, "%.10sT%.5s:00%.6s", l, l + 11, l + 17);
}

/* "wave 2 "rest", " (nothing without waves). */
static void print_wave(FILE *fp, const struct orch_winplan *wpl, size_t k)
{
    const char *name = NULL;

    if (wpl->waves == NULL)
        return;
    name = orch_waveplan_name(wpl->plan, &wpl->waves->w[k]);
    fprintf(fp, "wave %zu", k + 1);
    if (name)
        fprintf(fp, " \"%s\"", name);
    fprintf(fp, ", ");
}

static void print_row(FILE *fp, const struct orch_winplan *wpl,
                      const struct orch_winplan_row *r)
{
    const struct orch_tz *tz = wpl->tz[r->zone];
    char ls[40], le[40], us[40], ue[40];

    fprintf(fp, "  ");
    print_wave(fp, wpl, r->wave);
    fprintf(fp, "%s: %" PRIu64 " device%s in %zu job%s: ", orch_tz_name(tz),
            r->devices, r->devices == 1 ? "" : "s", r->jobs,
            r->jobs == 1 ? "" : "s");
    if (r->after_gate) {
        fprintf(fp, "the next window after the gate passes\n");
        return;
    }
    orch_window_format_local(tz, r->start_ms, ls, sizeof(ls));
    orch_window_format_local(tz, r->end_ms, le, sizeof(le));
    format_utc(r->start_ms, us, sizeof(us));
    format_utc(r->end_ms, ue, sizeof(ue));
    fprintf(fp, "%s to %s (UTC %s to %s)", ls, le, us, ue);
    if (r->deferred)
        fprintf(fp, " - deferred: beyond the API's 7-day horizon, `resume` "
                    "creates it");
    fprintf(fp, "\n");
}

void orch_winplan_print(FILE *fp, const struct orch_winplan *wpl)
{
    struct orch_winplan_row r;
    char w[16];
    size_t k = 0;
    uint32_t z = 0;

    if (wpl->tz == NULL || wpl->plan == NULL)
        return;
    orch_window_format(&wpl->window, w, sizeof(w));
    fprintf(fp, "schedule (window %s, local time of each zone):\n", w);
    for (k = 0; k < nwaves(wpl); k++) {
        for (z = 0; z < wpl->nzones; z++) {
            if (full_row_of(wpl, k, z, &r))
                print_row(fp, wpl, &r);
        }
    }
}

/* "start", "end", "start_local", "end_local" of r into o (null after the
 * gate). Nonzero on ENOMEM. */
static int put_times(json_t *o, const struct orch_winplan *wpl,
                     const struct orch_winplan_row *r)
{
    const struct orch_tz *tz = wpl->tz[r->zone];
    char buf[4][40];
    int bad = 0;

    if (!r->after_gate) {
        format_utc(r->start_ms, buf[0], sizeof(buf[0]));
        format_utc(r->end_ms, buf[1], sizeof(buf[1]));
        format_local_iso(tz, r->start_ms, buf[2], sizeof(buf[2]));
        format_local_iso(tz, r->end_ms, buf[3], sizeof(buf[3]));
    }
    bad |= orch_jsonout_put(o, "start", r->after_gate ? json_null()
                                                      : json_string(buf[0]));
    bad |= orch_jsonout_put(o, "end", r->after_gate ? json_null()
                                                    : json_string(buf[1]));
    bad |= orch_jsonout_put(o, "start_local", r->after_gate
                                                  ? json_null()
                                                  : json_string(buf[2]));
    bad |= orch_jsonout_put(o, "end_local", r->after_gate
                                                ? json_null()
                                                : json_string(buf[3]));
    return bad;
}

static const char *after_of(const struct orch_winplan *wpl,
                            const struct orch_winplan_row *r)
{
    if (r->after_gate)
        return "gate";
    if (orch_winplan_after(nominal(wpl, r->wave), wpl->now_ms) !=
        wpl->now_ms)
        return "wave_interval";
    return "plan";
}

static json_t *row_json(const struct orch_winplan *wpl,
                        const struct orch_winplan_row *r)
{
    json_t *o = json_object();
    const char *name = wpl->waves ? orch_waveplan_name(
                                        wpl->plan, &wpl->waves->w[r->wave])
                                  : NULL;
    int bad = 0;

    bad |= orch_jsonout_put(o, "wave", wpl->waves
                                           ? orch_jsonout_count(r->wave + 1)
                                           : json_null());
    bad |= orch_jsonout_put(o, "name", orch_jsonout_str_or_null(name));
    bad |= orch_jsonout_put(o, "time_zone",
                            json_string(orch_tz_name(wpl->tz[r->zone])));
    bad |= orch_jsonout_put(o, "devices", orch_jsonout_count(r->devices));
    bad |= orch_jsonout_put(o, "jobs", orch_jsonout_count(r->jobs));
    bad |= orch_jsonout_put(o, "after", json_string(after_of(wpl, r)));
    bad |= put_times(o, wpl, r);
    bad |= orch_jsonout_put(o, "deferred", json_boolean(r->deferred));
    return orch_jsonout_built(o, bad);
}

json_t *orch_winplan_json(const struct orch_winplan *wpl)
{
    struct orch_winplan_row r;
    json_t *a = NULL;
    size_t k = 0;
    uint32_t z = 0;

    if (wpl->tz == NULL || wpl->plan == NULL)
        return NULL;
    a = json_array();
    for (k = 0; a && k < nwaves(wpl); k++) {
        for (z = 0; a && z < wpl->nzones; z++) {
            json_t *o = NULL;

            if (!full_row_of(wpl, k, z, &r))
                continue;
            o = row_json(wpl, &r);
            if (o == NULL || json_array_append_new(a, o)) {
                json_decref(a);
                a = NULL;
            }
        }
    }
    return a;
}
