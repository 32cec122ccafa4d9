/* tzdb.c - IANA time zones from TZif files (tzdb.h).
 *
 * DESIGN: a zone is its transitions (instant -> UTC offset) and the POSIX
 * TZ rule of the file's footer for the instants after the last one. A
 * lookup is a binary search, or the rule's two transitions of that year.
 * Resolving a local time tries the offsets in force a day before and a
 * day after: a local time is valid under an offset o when the instant
 * local - o has offset o; both valid is a repeated hour (the earlier
 * wins), neither is a gap (the transition in between, found by bisection,
 * is the first instant after it). Pure arithmetic, no libc time zone
 * state: thread-safe.
 */
#include "orch/model/tzdb.h"

#include "orch/base/err.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_S 86400
/* No zone file is near this size (the largest are a few kB). */
#define TZIF_MAX (1024 * 1024)

/* A date of a POSIX rule: Jn (1..365, February 29 never counted), n
 * (0..365) or Mm.w.d (day d of week w of month m; w 5 = the last). */
struct rule_date {
    char kind; /* 'J', 'N' or 'M' */
    int n, m, w, d;
    int32_t time; /* seconds after local midnight (may be < 0 or > 24 h) */
};

struct rule {
    int32_t std_off, dst_off; /* UTC offsets, east positive */
    bool has_dst;
    struct rule_date start, end;
};

struct orch_tz {
    char *name;
    int64_t *trans;   /* transition instants, ascending */
    uint8_t *type_of; /* [ntrans] index into utoff */
    size_t ntrans;
    int32_t *utoff;   /* [ntypes] */
    size_t ntypes;
    bool has_rule;
    struct rule rule;
};

/* ---- calendar ----------------------------------------------------------- */

/* Howard Hinnant's days_from_civil / civil_from_days. */
int64_t orch_tz_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era = 0;
    unsigned yoe = 0, doy = 0, doe = 0;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void orch_tz_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era = 0;
    unsigned doe = 0, yoe = 0, doy = 0, mp = 0;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(int64_t y, unsigned m)
{
    static const unsigned days[] = {31, 28, 31, 30, 31, 30,
                                    31, 31, 30, 31, 30, 31};

    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* ---- the POSIX TZ rule -------------------------------------------------- */

/* A zone abbreviation: <...> or at least 3 letters. */
static const char *parse_abbr(const char *s)
{
    const char *p = s;

    if (*p == '<') {
        p = strchr(p, '>');
        return p ? p + 1 : NULL;
    }
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
        p++;
    return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] into *secs (hours up to 167). */
static const char *parse_hms(const char *s, int32_t *secs)
{
    int sign = 1;
    long h = 0, mi = 0, se = 0;
    char *end = NULL;

    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    if (*s < '0' || *s > '9')
        return NULL;
    h = strtol(s, &end, 10);
    if (h > 167)
        return NULL;
    s = end;
    if (*s == ':') {
        mi = strtol(s + 1, &end, 10);
        if (end == s + 1 || mi > 59)
            return NULL;
        s = end;
        if (*s == ':') {
            se = strtol(s + 1, &end, 10);
            if (end == s + 1 || se > 59)
                return NULL;
            s = end;
        }
    }
    *secs = (int32_t)(sign * (h * 3600 + mi * 60 + se));
    return s;
}

static const char *parse_num(const char *s, int lo, int hi, int *out)
{
    char *end = NULL;
    long v = 0;

    if (*s < '0' || *s > '9')
        return NULL;
    v = strtol(s, &end, 10);
    if (v < lo || v > hi)
        return NULL;
    *out = (int)v;
    return end;
}

static const char *parse_date(const char *s, struct rule_date *rd)
{
    memset(rd, 0, sizeof(*rd));
    rd->time = 2 * 3600;
    if (*s == 'J') {
        rd->kind = 'J';
        s = parse_num(s + 1, 1, 365, &rd->n);
    } else if (*s == 'M') {
        rd->kind = 'M';
        s = parse_num(s + 1, 1, 12, &rd->m);
        if (s && *s == '.')
            s = parse_num(s + 1, 1, 5, &rd->w);
        else
            s = NULL;
        if (s && *s == '.')
            s = parse_num(s + 1, 0, 6, &rd->d);
        else
            s = NULL;
    } else {
        rd->kind = 'N';
        s = parse_num(s, 0, 365, &rd->n);
    }
    if (s && *s == '/')
        s = parse_hms(s + 1, &rd->time);
    return s;
}

/* "CET-1CEST,M3.5.0,M10.5.0/3" into r. Returns 0, or -1 when the text
 * is not such a rule. */
static int parse_rule(const char *s, struct rule *r)
{
    int32_t v = 0;

    memset(r, 0, sizeof(*r));
    s = parse_abbr(s);
    if (s)
        s = parse_hms(s, &v);
    if (s == NULL)
        return -1;
    r->std_off = -v;
    if (*s == '\0')
        return 0;
    s = parse_abbr(s);
    if (s == NULL)
        return -1;
    r->has_dst = true;
    r->dst_off = r->std_off + 3600;
    if (*s && *s != ',') {
        s = parse_hms(s, &v);
        if (s == NULL)
            return -1;
        r->dst_off = -v;
    }
    if (*s == '\0') {
        /* No dates: POSIX leaves them to the implementation; glibc's
         * (the US rule) is taken. */
        (void)parse_date("M3.2.0", &r->start);
        (void)parse_date("M11.1.0", &r->end);
        return 0;
    }
    if (*s != ',' || (s = parse_date(s + 1, &r->start)) == NULL)
        return -1;
    if (*s != ',' || (s = parse_date(s + 1, &r->end)) == NULL)
        return -1;
    return *s == '\0' ? 0 : -1;
}

/* Day of year (0-based) of rd in year y. */
static int64_t rule_yday(const struct rule_date *rd, int64_t y)
{
    int64_t first = 0;
    unsigned wd1 = 0, day = 0;

    if (rd->kind == 'J')
        return rd->n - 1 + (is_leap(y) && rd->n >= 60);
    if (rd->kind == 'N')
        return rd->n;
    first = orch_tz_days_from_civil(y, (unsigned)rd->m, 1);
    /* 1970-01-01 was a Thursday (4). */
    wd1 = (unsigned)(((first % 7) + 11) % 7);
    day = 1 + ((unsigned)rd->d + 7 - wd1) % 7 + (unsigned)(rd->w - 1) * 7;
    while (day > month_days(y, (unsigned)rd->m))
        day -= 7;
    return first + day - 1 - orch_tz_days_from_civil(y, 1, 1);
}

/* The instant of rd in year y, its time counted in offset off. */
static int64_t rule_instant(const struct rule_date *rd, int64_t y, int32_t off)
{
    int64_t day = orch_tz_days_from_civil(y, 1, 1) + rule_yday(rd, y);

    return day * DAY_S + rd->time - off;
}

static int32_t rule_offset(const struct rule *r, int64_t t)
{
    int64_t y = 0, s = 0, e = 0;
    unsigned m = 0, d = 0;

    if (!r->has_dst)
        return r->std_off;
    orch_tz_civil_from_days(floor_div(t + r->std_off, DAY_S), &y, &m, &d);
    /* The start is told in standard time, the end in daylight time. */
    s = rule_instant(&r->start, y, r->std_off);
    e = rule_instant(&r->end, y, r->dst_off);
    if (s < e)
        return t >= s && t < e ? r->dst_off : r->std_off;
    /* Southern hemisphere: daylight time over the new year. */
    return t >= e && t < s ? r->std_off : r->dst_off;
}

/* ---- TZif --------------------------------------------------------------- */

struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chars;
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int read_header(const unsigned char *p, size_t len,
                       struct tzif_counts *c, char *version)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0)
        return -1;
    *version = (char)p[4];
    c->isut = be32(p + 20);
    c->isstd = be32(p + 24);
    c->leap = be32(p + 28);
    c->time = be32(p + 32);
    c->type = be32(p + 36);
    c->chars = be32(p + 40);
    if (c->type == 0 || c->type > 256 || c->time > 100000 ||
        c->leap > 10000 || c->chars > 10000)
        return -1;
    return 0;
}

/* Bytes of the data block after a header with counts c and times of tsz
 * bytes. */
static size_t block_size(const struct tzif_counts *c, size_t tsz)
{
    return (size_t)c->time * (tsz + 1) + (size_t)c->type * 6 + c->chars +
           (size_t)c->leap * (tsz + 4) + c->isstd + c->isut;
}

/* Fills tz's transitions and types from the block at p (times of tsz
 * bytes). */
static int read_block(struct orch_tz *tz, const unsigned char *p,
                      const struct tzif_counts *c, size_t tsz)
{
    const unsigned char *types = p + (size_t)c->time * tsz + c->time;
    size_t i = 0;

    tz->trans = malloc((c->time ? c->time : 1) * sizeof(*tz->trans));
    tz->type_of = malloc(c->time ? c->time : 1);
    tz->utoff = malloc(c->type * sizeof(*tz->utoff));
    if (tz->trans == NULL || tz->type_of == NULL || tz->utoff == NULL)
        return ORCH_ENOMEM;
    tz->ntrans = c->time;
    tz->ntypes = c->type;
    for (i = 0; i < c->time; i++) {
        tz->trans[i] = tsz == 8 ? be64(p + i * 8) : (int32_t)be32(p + i * 4);
        tz->type_of[i] = p[(size_t)c->time * tsz + i];
        if (tz->type_of[i] >= c->type ||
            (i > 0 && tz->trans[i] <= tz->trans[i - 1]))
            return ORCH_ECONFIG;
    }
    for (i = 0; i < c->type; i++)
        tz->utoff[i] = (int32_t)be32(types + i * 6);
    return 0;
}

/* The footer "\nTZ\n" after the version 2+ block, when there is one. */
static int read_footer(struct orch_tz *tz, const unsigned char *p, size_t len)
{
    const unsigned char *nl = NULL;
    char text[128];
    size_t n = 0;

    if (len < 2 || p[0] != '\n')
        return 0;
    nl = memchr(p + 1, '\n', len - 1);
    if (nl == NULL)
        return ORCH_ECONFIG;
    n = (size_t)(nl - p - 1);
    if (n == 0)
        return 0; /* no rule: the last transition's offset holds */
    if (n >= sizeof(text))
        return ORCH_ECONFIG;
    memcpy(text, p + 1, n);
    text[n] = '\0';
    if (parse_rule(text, &tz->rule) != 0)
        return ORCH_ECONFIG;
    tz->has_rule = true;
    return 0;
}

static int parse_tzif(struct orch_tz *tz, const unsigned char *p, size_t len)
{
    struct tzif_counts c;
    char version = 0;
    size_t skip = 0;

    if (read_header(p, len, &c, &version) != 0)
        return ORCH_ECONFIG;
    skip = 44 + block_size(&c, 4);
    if (skip > len)
        return ORCH_ECONFIG;
    if (version == '\0')
        return read_block(tz, p + 44, &c, 4);
    p += skip;
    len -= skip;
    if (read_header(p, len, &c, &version) != 0)
        return ORCH_ECONFIG;
    skip = 44 + block_size(&c, 8);
    if (skip > len)
        return ORCH_ECONFIG;
    if (read_block(tz, p + 44, &c, 8) != 0)
        return ORCH_ECONFIG;
    return read_footer(tz, p + skip, len - skip);
}

/* ---- loading ------------------------------------------------------------ */

const char *orch_tz_default_dir(void)
{
    const char *dir = getenv("TZDIR");

    return dir && *dir ? dir : "/usr/share/zoneinfo";
}

int orch_tz_name_ok(const char *name)
{
    const char *p = name;
    size_t comp = 0;

    if (name == NULL || *name == '\0' || *name == '/' || strlen(name) > 255)
        return 0;
    for (p = name;; p++) {
        if (*p == '/' || *p == '\0') {
            /* "." and ".." (and an empty component) name no zone. */
            if (comp == 0 || (comp <= 2 && p[-1] == '.' &&
                              (comp == 1 || p[-2] == '.')))
                return 0;
            if (*p == '\0')
                return 1;
            comp = 0;
            continue;
        }
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
              (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
              *p == '+' || *p == '.'))
            return 0;
        comp++;
    }
}

int orch_tz_parse(const char *name, const unsigned char *data, size_t len,
                  struct orch_tz **out, struct orch_diag *diag)
{
    struct orch_tz *tz = calloc(1, sizeof(*tz));
    int rc = 0;

    *out = NULL;
    if (tz == NULL || (tz->name = strdup(name)) == NULL) {
        orch_tz_free(tz);
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    }
    rc = parse_tzif(tz, data, len);
    if (rc) {
        orch_tz_free(tz);
        if (rc == ORCH_ENOMEM)
            return orch_diag_set(diag, rc, "out of memory");
        return orch_diag_set(diag, rc,
                             "time zone \"%s\": not a time zone file "
                             "(TZif) of the tz database",
                             name);
    }
    *out = tz;
    return 0;
}

static int read_file(const char *path, unsigned char **data, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    size_t n = 0;

    *data = NULL;
    if (fp == NULL)
        return errno == ENOENT || errno == ENOTDIR || errno == EISDIR
                   ? ORCH_ENOTFOUND
                   : ORCH_EIO;
    *data = malloc(TZIF_MAX);
    if (*data == NULL) {
        fclose(fp);
        return ORCH_ENOMEM;
    }
    n = fread(*data, 1, TZIF_MAX, fp);
    /* A directory opens on Linux and fails to read with EISDIR. */
    if (ferror(fp)) {
        int err = errno == EISDIR ? ORCH_ENOTFOUND : ORCH_EIO;

        fclose(fp);
        free(*data);
        *data = NULL;
        return err;
    }
    fclose(fp);
    *len = n;
    return 0;
}

int orch_tz_load(const char *name, const char *dir, struct orch_tz **out,
                 struct orch_diag *diag)
{
    unsigned char *data = NULL;
    size_t len = 0;
    char path[4096];
    int rc = 0;

    *out = NULL;
    if (dir == NULL)
        dir = orch_tz_default_dir();
    if (!orch_tz_name_ok(name))
        return orch_diag_set(diag, ORCH_ENOTFOUND,
                             "\"%s\" is not a time zone name such as "
                             "Europe/Berlin",
                             name ? name : "");
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
        sizeof(path))
        return orch_diag_set(diag, ORCH_ENOTFOUND,
                             "\"%s\": the path is too long", name);
    rc = read_file(path, &data, &len);
    if (rc == ORCH_ENOTFOUND)
        return orch_diag_set(diag, rc,
                             "unknown time zone \"%s\" (not in %s; names "
                             "such as Europe/Berlin or Asia/Shanghai)",
                             name, dir);
    if (rc == ORCH_ENOMEM)
        return orch_diag_set(diag, rc, "out of memory");
    if (rc)
        return orch_diag_set(diag, rc, "time zone \"%s\": cannot read %s",
                             name, path);
    rc = orch_tz_parse(name, data, len, out, diag);
    free(data);
    /* zone.tab, tzdata.zi and the like live there too. */
    if (rc == ORCH_ECONFIG)
        rc = orch_diag_set(diag, ORCH_ENOTFOUND,
                           "unknown time zone \"%s\" (%s is not a zone "
                           "file of the tz database)",
                           name, path);
    return rc;
}

void orch_tz_free(struct orch_tz *tz)
{
    if (tz == NULL)
        return;
    free(tz->name);
    free(tz->trans);
    free(tz->type_of);
    free(tz->utoff);
    free(tz);
}

const char *orch_tz_name(const struct orch_tz *tz)
{
    return tz->name;
}

/* ---- lookups ------------------------------------------------------------ */

int32_t orch_tz_offset(const struct orch_tz *tz, int64_t t)
{
    size_t lo = 0, hi = tz->ntrans;

    if (tz->ntrans == 0)
        return tz->has_rule ? rule_offset(&tz->rule, t) : tz->utoff[0];
    if (t < tz->trans[0])
        return tz->utoff[0];
    if (t >= tz->trans[tz->ntrans - 1] && tz->has_rule)
        return rule_offset(&tz->rule, t);
    /* The last transition at or before t. */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;

        if (tz->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return tz->utoff[tz->type_of[lo]];
}

int64_t orch_tz_local(const struct orch_tz *tz, int64_t t)
{
    return t + orch_tz_offset(tz, t);
}

/* The first instant in (lo, hi] whose offset differs from lo's. */
static int64_t bisect_change(const struct orch_tz *tz, int64_t lo, int64_t hi)
{
    int32_t before = orch_tz_offset(tz, lo);

    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;

        if (orch_tz_offset(tz, mid) == before)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

int64_t orch_tz_resolve(const struct orch_tz *tz, int64_t local)
{
    int32_t oa = orch_tz_offset(tz, local - DAY_S);
    int32_t ob = orch_tz_offset(tz, local + DAY_S);
    int64_t ta = local - oa, tb = local - ob;
    bool va = orch_tz_offset(tz, ta) == oa;
    bool vb = orch_tz_offset(tz, tb) == ob;

    if (va && vb)
        return ta < tb ? ta : tb;
    if (va)
        return ta;
    if (vb)
        return tb;
    /* In the gap: the clocks jumped over it at the transition between
     * the two candidates. */
    return ta < tb ? bisect_change(tz, ta, tb) : bisect_change(tz, tb, ta);
}
