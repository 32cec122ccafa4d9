/* inventory.c - read a device inventory CSV (libcsv) into a compact,
 * de-duplicated device list.
 *
 * DESIGN: the input is read in 1 MiB blocks and fed to csv_parse(); the
 * field callback copies only the DeviceName and ProductKey cells of the row
 * into small fixed row buffers, and the row callback validates the row and
 * appends the name to one growing arena (inv->names) plus one 16-byte
 * record (inv->dev). Nothing is allocated per row.
 *
 * Physical line numbers: libcsv does not report positions, so we count line
 * breaks as they pass. CSV_REPALL_NL makes libcsv report every CR and LF it
 * sees outside a field (so blank lines and the LF of a CRLF are seen), and
 * quoted line breaks are counted inside the field text. A row's line is the
 * line counter at its first field.
 *
 * Duplicates: an open-addressing (linear probing) hash set of uint32 slots.
 * The low bits of a slot hold device index + 1 (0 = empty) and the spare
 * high bits a tag taken from the hash, so that a probe only touches the
 * device record and its name when the tags match: the set is then about one
 * cache miss per row even at 10^7 devices. The split moves with the
 * capacity (index bits = log2(capacity)). That one miss is hidden too: a
 * device is appended at once, its slot prefetched, and it is checked
 * PIPELINE rows later; a duplicate is then marked and squeezed out of
 * inv->dev when the load ends, and the set is freed (it only serves the
 * load). Measured on this machine (1 MiB reads, 2 products, RelWithDebInfo):
 * 10^6 rows in 0.20 s, 10^7 in 2.4 s, peak RSS 22-26 bytes per device beyond
 * the names.
 */
#include "orch/model/inventory.h"

#include "orch/base/err.h"

#include <csv.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define READ_BLOCK (1u << 20)
#define NAME_MAX_LEN 32
#define NAME_MIN_LEN 4
#define PK_MAX_LEN 64
/* Row buffers keep this much of a cell: enough to validate and to show. */
#define CELL_KEEP 128
#define HSET_MIN_CAP 1024u
#define HSET_MAX_BITS 31u
#define HEADER_SHOW 160
#define PIPELINE 8
/* Room for a reason, the same in the rejects file and the problem list. */
#define REASON_LEN sizeof(((struct orch_inventory_problem *)0)->reason)
/* dev[i].product of a duplicate until settle() removes it. */
#define DEV_DROPPED UINT32_MAX

struct cell {
    char s[CELL_KEEP + 1];
    size_t len; /* full (trimmed) length, may exceed CELL_KEEP */
};

/* A device appended but not yet checked against the set. */
struct pending {
    uint32_t index;
    uint64_t hash;
};

struct loader {
    struct orch_inventory *inv;
    const struct orch_inventory_opts *opts;
    struct orch_diag *diag;
    const char *name;
    struct csv_parser parser;
    int rc; /* first error; callbacks do nothing once set */

    uint32_t line;     /* physical line of the parser's position */
    bool prev_cr;      /* the last thing seen was a row-ending CR */
    bool in_row;       /* a field of the current row has been seen */
    uint32_t row_line; /* line where the current row started */
    size_t col;        /* column index of the next field */
    bool nonempty;     /* the current row has a non-empty cell */

    bool have_header;
    long dn_col, pk_col; /* -1: absent */
    char header_seen[HEADER_SHOW];
    size_t header_seen_len;

    struct cell dn, pk;
    struct pending pending[PIPELINE]; /* devices not yet checked for dups */
    size_t pend_head, npending;
    size_t in_set;         /* devices in the hash set */
    size_t expect;         /* estimated device count, or 0 */
    uint32_t last_product; /* cache for the product lookup */
    bool have_last_product;
    size_t nproblems; /* invalid rows seen without skip_invalid */
};

/* ------------------------------------------------------------------ */
/* Names and values                                                     */

/* Letters, digits and - _ @ . : (the platform's DeviceName alphabet). */
static const char *const NAME_EXTRA = "-_@.:";

static bool is_name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c && strchr(NAME_EXTRA, c) != NULL);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* True for what a spreadsheet makes of a long number: 8.6E+14, 1E+15,
 * 8.61234E14. A sign or a decimal point is required, so that a plain name
 * such as "1E10" is not taken for one. */
static bool looks_scientific(const char *s)
{
    const char *p = s;
    bool point = false, sign = false;

    if (!is_digit(*p))
        return false;
    p++;
    if (*p == '.') {
        point = true;
        p++;
        if (!is_digit(*p))
            return false;
        while (is_digit(*p))
            p++;
    }
    if (*p != 'E' && *p != 'e')
        return false;
    p++;
    if (*p == '+' || *p == '-') {
        sign = true;
        p++;
    }
    if (!is_digit(*p))
        return false;
    while (is_digit(*p))
        p++;
    return *p == '\0' && (point || sign);
}

const char *orch_device_name_problem(const char *name)
{
    static bool table_ready;
    static bool ok[256];
    const unsigned char *p = NULL;
    size_t len = 0;
    unsigned c = 0;

    if (!table_ready) {
        /* Idempotent, so a race between threads only repeats the work. */
        for (c = 0; c < 256; c++)
            ok[c] = is_name_char((unsigned char)c);
        table_ready = true;
    }
    if (name == NULL || name[0] == '\0')
        return "is empty";
    for (p = (const unsigned char *)name; ok[*p]; p++)
        ;
    len = (size_t)(p - (const unsigned char *)name);
    if (*p != '\0') {
        if (looks_scientific(name))
            return "looks like a number a spreadsheet turned into "
                   "scientific notation; format the column as Text and "
                   "export again";
        return "contains a character other than letters, digits and "
               "- _ @ . :";
    }
    if (len < NAME_MIN_LEN)
        return "is shorter than 4 characters";
    if (len > NAME_MAX_LEN)
        return "is longer than 32 characters";
    if (looks_scientific(name))
        return "looks like a number a spreadsheet turned into scientific "
               "notation; format the column as Text and export again";
    return NULL;
}

static const char *product_key_problem(const char *pk, size_t len)
{
    size_t i = 0;

    if (len == 0)
        return "is empty";
    if (len > PK_MAX_LEN)
        return "is longer than 64 characters";
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)pk[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9')))
            return "is not letters and digits only";
    }
    return NULL;
}

/* Writes a printable, quoted-safe rendering of s (first `len` bytes) into
 * out: \" \\ and \xNN for anything outside printable ASCII, cut with "..."
 * when long. */
static void show_value(char *out, size_t outsz, const char *s, size_t len,
                       bool truncated_source)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, i = 0;
    const size_t limit = outsz > 8 ? outsz - 8 : 0; /* room for "..." */

    for (i = 0; i < len && o < limit; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20 || c >= 0x7f) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    if (i < len || truncated_source) {
        out[o++] = '.';
        out[o++] = '.';
        out[o++] = '.';
    }
    out[o] = '\0';
}

/* ------------------------------------------------------------------ */
/* Growth helpers                                                       */

static int grow(void **p, size_t *cap, size_t need, size_t elem, size_t min_cap)
{
    size_t ncap = *cap ? *cap : min_cap;
    void *np = NULL;

    if (need <= *cap)
        return 0;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / elem)
            return ORCH_ENOMEM;
        ncap *= 2;
    }
    np = realloc(*p, ncap * elem);
    if (np == NULL)
        return ORCH_ENOMEM;
    *p = np;
    *cap = ncap;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Dedup hash set                                                       */

static uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

/* Hash of (product index, name): eight bytes at a time (names are short),
 * then a final mix so that both the low bits (slot) and the high bits
 * (tag) are usable. */
static uint64_t hash_name(uint32_t product, const char *s, size_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15ull * ((uint64_t)product + 1) ^ len;
    uint64_t w = 0;

    while (len >= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
        s += 8;
        len -= 8;
    }
    w = 0;
    memcpy(&w, s, len);
    h = (h ^ w) * 0x100000001b3ull;
    return mix64(h);
}

/* Capacities are powers of two. */
static unsigned log2_cap(size_t cap)
{
    return (unsigned)__builtin_ctzll((unsigned long long)cap);
}

/* Puts device i (known absent) into set hs of capacity cap. */
static void hset_put(uint32_t *hs, size_t cap, uint64_t h, uint32_t i)
{
    unsigned bits = log2_cap(cap);
    uint32_t tagmask = bits >= 32 ? 0 : (uint32_t)(~0u << bits);
    uint32_t entry = ((uint32_t)(h >> 32) & tagmask) | (i + 1);
    size_t mask = cap - 1;
    size_t slot = (size_t)h & mask;

    while (hs[slot] != 0)
        slot = (slot + 1) & mask;
    hs[slot] = entry;
}

static uint64_t device_hash(const struct orch_inventory *inv, size_t i)
{
    const struct orch_device *d = &inv->dev[i];
    const char *name = inv->names + d->name_off;

    return hash_name(d->product, name, strlen(name));
}

/* Doubles the set and re-inserts devices [0, limit) that are kept. The
 * inserts land all over a table far bigger than the caches, so each slot
 * is prefetched PIPELINE devices ahead (names are read in order). */
static int hset_grow(struct orch_inventory *inv, size_t limit, size_t expect)
{
    size_t ncap = inv->hcap ? inv->hcap * 2 : HSET_MIN_CAP;

    /* The first table is sized for the expected device count, which saves
     * the rehashes (and the zeroing of the tables in between). */
    while (inv->hcap == 0 && expect * 10 > ncap * 7 &&
           log2_cap(ncap) < HSET_MAX_BITS)
        ncap *= 2;
    uint32_t *nhs = NULL;
    uint64_t ring[PIPELINE];
    size_t i = 0, ahead = 0;

    if (log2_cap(ncap) > HSET_MAX_BITS)
        return ORCH_ETOOBIG;
    nhs = calloc(ncap, sizeof(*nhs));
    if (nhs == NULL)
        return ORCH_ENOMEM;
    for (i = 0; i < limit; i++) {
        while (ahead < limit && ahead < i + PIPELINE) {
            if (inv->dev[ahead].product != DEV_DROPPED) {
                ring[ahead % PIPELINE] = device_hash(inv, ahead);
                __builtin_prefetch(&nhs[ring[ahead % PIPELINE] & (ncap - 1)],
                                   1);
            }
            ahead++;
        }
        if (inv->dev[i].product == DEV_DROPPED)
            continue;
        hset_put(nhs, ncap, ring[i % PIPELINE], (uint32_t)i);
    }
    free(inv->hset);
    inv->hset = nhs;
    inv->hcap = ncap;
    return 0;
}

/* Returns true if (product, name) is already in the set. */
static bool hset_contains(const struct orch_inventory *inv, uint64_t h,
                          uint32_t product, const char *name)
{
    unsigned bits = log2_cap(inv->hcap);
    uint32_t tagmask = bits >= 32 ? 0 : (uint32_t)(~0u << bits);
    uint32_t tag = (uint32_t)(h >> 32) & tagmask;
    size_t mask = inv->hcap - 1;
    size_t slot = (size_t)h & mask;

    while (inv->hset[slot] != 0) {
        uint32_t e = inv->hset[slot];
        if ((e & tagmask) == tag) {
            const struct orch_device *d = &inv->dev[(e & ~tagmask) - 1];
            if (d->product == product &&
                strcmp(inv->names + d->name_off, name) == 0)
                return true;
        }
        slot = (slot + 1) & mask;
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* Rows                                                                 */

static void cell_set(struct cell *c, const char *s, size_t len)
{
    size_t keep = len < CELL_KEEP ? len : CELL_KEEP;

    memcpy(c->s, s, keep);
    c->s[keep] = '\0';
    c->len = len;
}

static void cell_clear(struct cell *c)
{
    c->s[0] = '\0';
    c->len = 0;
}

/* Trims spaces, tabs, CR/LF and UTF-8 no-break spaces (Excel's &nbsp;). */
static void trim(const char **s, size_t *len)
{
    const char *p = *s;
    size_t n = *len;

    for (;;) {
        if (n && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
            p++;
            n--;
        } else if (n >= 2 && (unsigned char)p[0] == 0xc2 &&
                   (unsigned char)p[1] == 0xa0) {
            p += 2;
            n -= 2;
        } else {
            break;
        }
    }
    for (;;) {
        if (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' ||
                  p[n - 1] == '\n')) {
            n--;
        } else if (n >= 2 && (unsigned char)p[n - 2] == 0xc2 &&
                   (unsigned char)p[n - 1] == 0xa0) {
            n -= 2;
        } else {
            break;
        }
    }
    *s = p;
    *len = n;
}

/* Our own report writer neutralises formula-like cells with a leading
 * quote ('-dev1); undo that so that <report>.failed.csv reads back as it
 * is. A quote is never valid in a name, so nothing else is affected. */
static void unneutralise(const char **s, size_t *len)
{
    if (*len >= 2 && (*s)[0] == '\'' && strchr("=+-@", (*s)[1]) != NULL) {
        (*s)++;
        (*len)--;
    }
}

static uint32_t count_breaks(const char *s, size_t len)
{
    uint32_t n = 0;
    size_t i = 0;

    for (i = 0; i < len; i++) {
        if ((unsigned char)s[i] > '\r')
            continue;
        if (s[i] == '\n')
            n++;
        else if (s[i] == '\r' && (i + 1 == len || s[i + 1] != '\n'))
            n++;
    }
    return n;
}

/* Lower-cases and drops ' ', '_', '-' for header
 * matching. */
static void header_key(char *out, size_t outsz, const char *s, size_t len)
{
    size_t o = 0, i = 0;

    for (i = 0; i < len && o + 1 < outsz; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '_' || c == '-')
            continue;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        out[o++] = (char)c;
    }
    out[o] = '\0';
}

static void header_field(struct loader *L, const char *s, size_t len)
{
    char key[64];
    size_t room = sizeof(L->header_seen) - L->header_seen_len;
    int w = 0;

    header_key(key, sizeof(key), s, len);
    if (L->dn_col < 0 &&
        (strcmp(key, "devicename") == 0 || strcmp(key, "dn") == 0))
        L->dn_col = (long)L->col;
    else if (L->pk_col < 0 && strcmp(key, "productkey") == 0)
        L->pk_col = (long)L->col;
    if (len && room > 1) {
        char shown[48];
        show_value(shown, sizeof(shown), s, len, false);
        w = snprintf(L->header_seen + L->header_seen_len, room, "%s\"%s\"",
                     L->header_seen_len ? ", " : "", shown);
        if (w > 0)
            L->header_seen_len += (size_t)w < room ? (size_t)w : room - 1;
    }
}

static void on_field(void *data, size_t len, void *ud)
{
    struct loader *L = ud;
    const char *s = data ? data : "";
    uint32_t breaks = 0;

    if (L->rc)
        return;
    if (!L->in_row) {
        L->in_row = true;
        L->row_line = L->line;
        L->col = 0;
        L->nonempty = false;
        cell_clear(&L->dn);
        cell_clear(&L->pk);
    }
    L->prev_cr = false;
    /* Quoted line breaks move the physical line on. */
    breaks = count_breaks(s, len);
    trim(&s, &len);
    if (len)
        L->nonempty = true;
    if (!L->have_header) {
        header_field(L, s, len);
    } else if ((long)L->col == L->dn_col) {
        unneutralise(&s, &len);
        cell_set(&L->dn, s, len);
    } else if ((long)L->col == L->pk_col) {
        unneutralise(&s, &len);
        cell_set(&L->pk, s, len);
    }
    L->col++;
    L->line += breaks;
}

/* The one wording of an invalid row's reason, for the rejects file and
 * for the list of problems alike: the field, then the rule it breaks. */
static void reason_text(char *out, size_t outsz, const char *field,
                        const char *problem)
{
    snprintf(out, outsz, "%s %s", field, problem);
}

void orch_inventory_problem_format(char *out, size_t outsz, const char *file,
                                   const struct orch_inventory_problem *p)
{
    snprintf(out, outsz, "%s:%" PRIu32 ": \"%s\": %s", file, p->line,
             p->value, p->reason);
}

/* Without skip_invalid: keeps the row in the caller's list (the first
 * ORCH_INVENTORY_PROBLEMS_MAX), counts it, and puts the first one into
 * the diag; the load goes on so that every invalid row is found. */
static void note_problem(struct loader *L, const struct cell *v,
                         const char why[REASON_LEN])
{
    struct orch_inventory_problems *ps = L->opts->problems;
    struct orch_inventory_problem p;

    L->nproblems++;
    if (ps)
        ps->total++;
    if (L->nproblems > 1 && (ps == NULL || ps->n >= ORCH_INVENTORY_PROBLEMS_MAX))
        return;
    p.line = L->row_line;
    show_value(p.value, sizeof(p.value), v->s,
               v->len < CELL_KEEP ? v->len : CELL_KEEP, v->len > CELL_KEEP);
    memcpy(p.reason, why, sizeof(p.reason));
    if (L->nproblems == 1 && L->diag)
        orch_inventory_problem_format(L->diag->msg, sizeof(L->diag->msg),
                                      L->name, &p);
    if (ps && ps->n < ORCH_INVENTORY_PROBLEMS_MAX)
        ps->first[ps->n++] = p;
}

/* An invalid row: note it and go on (the load fails at the end), or with
 * skip_invalid report it and go on. `field` names the cell. */
static int reject(struct loader *L, const char *field, const struct cell *v,
                  const char *problem)
{
    char why[REASON_LEN];
    int urc = 0;

    reason_text(why, sizeof(why), field, problem);
    if (!L->opts->skip_invalid) {
        note_problem(L, v, why);
        return 0;
    }
    L->inv->rejected++;
    if (L->opts->on_reject == NULL)
        return 0;
    urc = L->opts->on_reject(L->opts->reject_ud, L->row_line, v->s, why);
    if (urc == 0)
        return 0;
    orch_diag_set(L->diag, urc < 0 ? urc : ORCH_EABORT,
                  "%s:%u: stopped while recording a rejected row", L->name,
                  L->row_line);
    return urc < 0 ? urc : ORCH_EABORT;
}

static int product_index(struct loader *L, const char *pk, uint32_t *out)
{
    struct orch_inventory *inv = L->inv;
    size_t i = 0;
    size_t cap = inv->nproducts;
    char **np = NULL;
    char *copy = NULL;

    if (L->have_last_product &&
        strcmp(inv->products[L->last_product], pk) == 0) {
        *out = L->last_product;
        return 0;
    }
    /* Inventories hold a handful of products; a linear scan behind the
     * one-entry cache is enough. */
    for (i = 0; i < inv->nproducts; i++) {
        if (strcmp(inv->products[i], pk) == 0)
            goto found;
    }
    if (inv->nproducts >= DEV_DROPPED - 1)
        return ORCH_ETOOBIG;
    copy = strdup(pk);
    if (copy == NULL)
        return ORCH_ENOMEM;
    np = realloc(inv->products, (cap + 1) * sizeof(*np));
    if (np == NULL) {
        free(copy);
        return ORCH_ENOMEM;
    }
    inv->products = np;
    inv->products[inv->nproducts++] = copy;
found:
    L->last_product = (uint32_t)i;
    L->have_last_product = true;
    *out = (uint32_t)i;
    return 0;
}

/* Decides whether pending device i (hash h) is new: a duplicate is marked
 * DEV_DROPPED (removed by compact()), a new one goes into the set. */
static int confirm(struct loader *L, uint32_t i, uint64_t h)
{
    struct orch_inventory *inv = L->inv;
    const struct orch_device *d = &inv->dev[i];
    int rc = 0;

    if (inv->hset &&
        hset_contains(inv, h, d->product, inv->names + d->name_off)) {
        inv->dev[i].product = DEV_DROPPED;
        inv->duplicates++;
        return 0;
    }
    /* Keep the load factor under 0.7: 6-11 bytes per device. */
    if (inv->hset == NULL || (L->in_set + 1) * 10 > inv->hcap * 7) {
        rc = hset_grow(inv, i, L->expect);
        if (rc)
            return rc;
    }
    hset_put(inv->hset, inv->hcap, h, i);
    L->in_set++;
    return 0;
}

/* Appends a device, then settles the oldest pending one. The duplicate
 * check runs PIPELINE rows late: the set is far bigger than the caches, so
 * its slot is prefetched now and probed when it has arrived. */
static int add_device(struct loader *L, const char *name, size_t len,
                      uint32_t product)
{
    struct orch_inventory *inv = L->inv;
    uint64_t h = hash_name(product, name, len);
    struct pending *pe = NULL;
    int rc = 0;

    if (inv->n >= UINT32_MAX - 1)
        return ORCH_ETOOBIG;
    rc = grow((void **)&inv->dev, &inv->cap, inv->n + 1, sizeof(*inv->dev),
              4096);
    if (rc)
        return rc;
    rc = grow((void **)&inv->names, &inv->names_cap, inv->names_len + len + 1,
              1, 65536);
    if (rc)
        return rc;
    memcpy(inv->names + inv->names_len, name, len + 1);
    inv->dev[inv->n].name_off = inv->names_len;
    inv->dev[inv->n].product = product;
    inv->dev[inv->n].line = L->row_line;
    inv->names_len += len + 1;
    if (inv->hset)
        __builtin_prefetch(&inv->hset[h & (inv->hcap - 1)]);
    if (L->npending == PIPELINE) {
        pe = &L->pending[L->pend_head];
        rc = confirm(L, pe->index, pe->hash);
        if (rc)
            return rc;
        L->pend_head = (L->pend_head + 1) % PIPELINE;
        L->npending--;
    }
    pe = &L->pending[(L->pend_head + L->npending) % PIPELINE];
    pe->index = (uint32_t)inv->n;
    pe->hash = h;
    L->npending++;
    inv->n++;
    return 0;
}

/* Settles every pending device, squeezes out the duplicates and frees the
 * set (it is only needed while loading; the names of dropped duplicates
 * stay unused in the arena). */
static int settle(struct loader *L)
{
    struct orch_inventory *inv = L->inv;
    size_t r = 0, w = 0;
    int rc = 0;

    while (L->npending) {
        struct pending *pe = &L->pending[L->pend_head];
        rc = confirm(L, pe->index, pe->hash);
        if (rc)
            return rc;
        L->pend_head = (L->pend_head + 1) % PIPELINE;
        L->npending--;
    }
    if (inv->duplicates) {
        for (r = 0; r < inv->n; r++) {
            if (inv->dev[r].product != DEV_DROPPED)
                inv->dev[w++] = inv->dev[r];
        }
        inv->n = w;
    }
    free(inv->hset);
    inv->hset = NULL;
    inv->hcap = 0;
    return 0;
}

static int finish_header(struct loader *L)
{
    const char *dpk = L->opts->default_product_key;

    if (L->dn_col < 0)
        return orch_diag_set(L->diag, ORCH_ECSV,
                             "%s:%u: the header row has no DeviceName column "
                             "(found %s); the first row must name the "
                             "columns, e.g. DeviceName,ProductKey",
                             L->name, L->row_line,
                             L->header_seen_len ? L->header_seen : "nothing");
    L->inv->has_product_column = L->pk_col >= 0;
    if (dpk && product_key_problem(dpk, strlen(dpk)))
        return orch_diag_set(L->diag, ORCH_ECONFIG, "--product-key \"%s\" %s",
                             dpk, product_key_problem(dpk, strlen(dpk)));
    if (L->pk_col < 0 && (dpk == NULL || dpk[0] == '\0'))
        return orch_diag_set(L->diag, ORCH_ECONFIG,
                             "%s: no ProductKey column; pass --product-key PK "
                             "or add a ProductKey column",
                             L->name);
    L->have_header = true;
    return 0;
}

static int finish_row(struct loader *L)
{
    const char *problem = NULL;
    const char *pk = NULL;
    size_t pklen = 0;
    uint32_t product = 0;
    int rc = 0;

    if (!L->have_header)
        return finish_header(L);
    L->inv->rows++;
    problem = orch_device_name_problem(L->dn.s);
    if (problem == NULL && L->dn.len > CELL_KEEP)
        problem = "is longer than 32 characters";
    if (problem)
        return reject(L, "DeviceName", &L->dn, problem);
    pk = L->pk.s;
    pklen = L->pk.len;
    if (pklen == 0 && L->opts->default_product_key) {
        pk = L->opts->default_product_key;
        pklen = strlen(pk);
    }
    if (pklen == 0)
        return reject(L, "ProductKey", &L->pk,
                      "is empty and no --product-key was given");
    problem = product_key_problem(pk, pklen);
    if (problem)
        return reject(L, "ProductKey", &L->pk, problem);
    rc = product_index(L, pk, &product);
    if (rc == 0)
        rc = add_device(L, L->dn.s, L->dn.len, product);
    if (rc)
        return orch_diag_set(L->diag, rc, "%s:%u: %s", L->name, L->row_line,
                             orch_strerror(rc));
    return 0;
}

static void on_row(int c, void *ud)
{
    struct loader *L = ud;
    bool crlf_tail = false;

    if (L->rc)
        return;
    /* The LF of a CRLF arrives as an empty row right after the CR. */
    crlf_tail = c == '\n' && L->prev_cr && !L->in_row;
    L->prev_cr = false;
    if (L->in_row) {
        L->in_row = false;
        if (L->nonempty)
            L->rc = finish_row(L);
        /* else: an all-empty row (",,,"), which spreadsheets write for
         * blank lines. */
    }
    if (c == '\r') {
        L->prev_cr = true;
        L->line++;
    } else if (c == '\n' && !crlf_tail) {
        L->line++;
    }
}

/* ------------------------------------------------------------------ */
/* Input                                                                */

/* ',' unless the first line (outside quotes) has more ';' or tabs. */
static char detect_delimiter(const char *s, size_t len)
{
    size_t i = 0, commas = 0, semis = 0, tabs = 0;
    bool q = false;

    for (i = 0; i < len; i++) {
        char c = s[i];
        if (c == '"')
            q = !q;
        else if (q)
            continue;
        else if (c == '\n' || c == '\r') {
            if (commas + semis + tabs)
                break;
        } else if (c == ',')
            commas++;
        else if (c == ';')
            semis++;
        else if (c == '\t')
            tabs++;
    }
    if (semis > commas && semis >= tabs)
        return ';';
    if (tabs > commas && tabs > semis)
        return '\t';
    return ',';
}

static int utf16_error(struct loader *L, uint32_t line)
{
    return orch_diag_set(L->diag, ORCH_ECSV,
                         "%s:%u: the file is UTF-16 (Excel's \"Unicode "
                         "text\") or binary, not a CSV; save it as \"CSV "
                         "UTF-8 (comma delimited)\"",
                         L->name, line);
}

/* Checks the start of the input; sets *skip past a UTF-8 BOM. */
static int check_start(struct loader *L, const char *s, size_t len,
                       size_t *skip)
{
    const unsigned char *u = (const unsigned char *)s;

    *skip = 0;
    if (len >= 2 &&
        ((u[0] == 0xff && u[1] == 0xfe) || (u[0] == 0xfe && u[1] == 0xff)))
        return utf16_error(L, 1);
    if (len >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf)
        *skip = 3;
    if (L->opts->delimiter)
        L->inv->delimiter = L->opts->delimiter;
    else
        L->inv->delimiter = detect_delimiter(s + *skip, len - *skip);
    csv_set_delim(&L->parser, (unsigned char)L->inv->delimiter);
    return 0;
}

/* Feeds one block to libcsv; NUL bytes (UTF-16 without a BOM) stop it. */
static int feed(struct loader *L, const char *s, size_t len)
{
    const char *nul = memchr(s, '\0', len);
    size_t n = nul ? (size_t)(nul - s) : len;

    if (csv_parse(&L->parser, s, n, on_field, on_row, L) != n && !L->rc)
        L->rc = orch_diag_set(L->diag, ORCH_ENOMEM, "%s: %s", L->name,
                              csv_strerror(csv_error(&L->parser)));
    if (L->rc)
        return L->rc;
    if (nul)
        return utf16_error(L, L->in_row ? L->row_line : L->line);
    return 0;
}

/* libcsv's state inside a field (libcsv.c's FIELD_BEGUN; csv.h exposes
 * the state but not the names). */
#define LIBCSV_FIELD_BEGUN 2

static int finish(struct loader *L)
{
    /* A quote still open at the end swallowed every line after it into
     * one value: nothing after it can be trusted, so stop there. */
    if (L->rc == 0 && L->parser.quoted &&
        L->parser.pstate == LIBCSV_FIELD_BEGUN)
        return L->rc = orch_diag_set(L->diag, ORCH_ECSV,
                                     "%s:%u: a quote opened in this row is "
                                     "never closed; every line after it "
                                     "would be read as one value (fix the "
                                     "quoting and export again)",
                                     L->name, L->in_row ? L->row_line
                                                        : L->line);
    csv_fini(&L->parser, on_field, on_row, L);
    if (L->rc)
        return L->rc;
    L->rc = settle(L);
    if (L->rc)
        return orch_diag_set(L->diag, L->rc, "%s: %s", L->name,
                             orch_strerror(L->rc));
    if (!L->have_header)
        return orch_diag_set(L->diag, ORCH_ECSV,
                             "%s: empty inventory; the first row must be a "
                             "header with a DeviceName column",
                             L->name);
    /* The diag already tells the first invalid row. */
    if (L->nproblems > 1 && L->diag) {
        size_t used = strlen(L->diag->msg);

        snprintf(L->diag->msg + used, sizeof(L->diag->msg) - used,
                 " (and %zu more invalid row%s)", L->nproblems - 1,
                 L->nproblems == 2 ? "" : "s");
    }
    return L->nproblems ? ORCH_EINVENTORY : 0;
}

static int loader_init(struct loader *L, struct orch_inventory *inv,
                       const char *name, const struct orch_inventory_opts *opts,
                       struct orch_diag *diag)
{
    static const struct orch_inventory_opts defaults;

    memset(L, 0, sizeof(*L));
    L->inv = inv;
    L->opts = opts ? opts : &defaults;
    L->diag = diag;
    L->line = 1;
    L->dn_col = -1;
    L->pk_col = -1;
    free(inv->path);
    inv->path = strdup(name ? name : "-");
    if (inv->path == NULL)
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    L->name = inv->path;
    if (csv_init(&L->parser, CSV_APPEND_NULL | CSV_REPALL_NL) != 0)
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    /* Fewer reallocs for long quoted notes than the default 128. */
    csv_set_blk_size(&L->parser, 4096);
    return 0;
}

void orch_inventory_init(struct orch_inventory *inv)
{
    memset(inv, 0, sizeof(*inv));
    inv->delimiter = ',';
}

void orch_inventory_cleanup(struct orch_inventory *inv)
{
    size_t i = 0;

    if (inv == NULL)
        return;
    for (i = 0; i < inv->nproducts; i++)
        free(inv->products[i]);
    free(inv->products);
    free(inv->path);
    free(inv->names);
    free(inv->dev);
    free(inv->hset);
    orch_inventory_init(inv);
}

int orch_inventory_load_mem(struct orch_inventory *inv, const char *name,
                            const char *data, size_t len,
                            const struct orch_inventory_opts *opts,
                            struct orch_diag *diag)
{
    struct loader L;
    size_t skip = 0, off = 0;
    int rc = 0;

    rc = loader_init(&L, inv, name ? name : "<memory>", opts, diag);
    if (rc)
        goto out;
    rc = check_start(&L, data, len, &skip);
    off = skip;
    /* Blocks, so that an error stops the parse early as for files. */
    while (rc == 0 && off < len) {
        size_t n = len - off < READ_BLOCK ? len - off : READ_BLOCK;
        rc = feed(&L, data + off, n);
        off += n;
    }
    if (rc == 0)
        rc = finish(&L);
out:
    csv_free(&L.parser);
    return rc;
}

/* Rows in the whole file, from the file size and the line density of the
 * first block; 0 if unknown. Only a sizing hint. */
static size_t estimate_rows(FILE *fp, const char *block, size_t n)
{
    struct stat st;
    size_t lines = 0;
    const char *p = block, *end = block + n;
    double est = 0;

    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode) || n == 0)
        return 0;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        lines++;
        p++;
    }
    if (lines == 0)
        return 0;
    est = (double)st.st_size * (double)lines / (double)n * 1.02;
    return est > 2e9 ? 0 : (size_t)est;
}

int orch_inventory_load(struct orch_inventory *inv, const char *path,
                        const struct orch_inventory_opts *opts,
                        struct orch_diag *diag)
{
    struct loader L;
    FILE *fp = NULL;
    char *block = NULL;
    size_t n = 0, skip = 0;
    bool first = true;
    int rc = 0;

    rc = loader_init(&L, inv, path, opts, diag);
    if (rc)
        goto out;
    fp = fopen(path, "rb");
    if (fp == NULL) {
        rc = orch_diag_set(diag, ORCH_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    block = malloc(READ_BLOCK);
    if (block == NULL) {
        rc = orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
        goto out;
    }
    while ((n = fread(block, 1, READ_BLOCK, fp)) > 0) {
        skip = 0;
        if (first) {
            rc = check_start(&L, block, n, &skip);
            if (rc)
                goto out;
            L.expect = estimate_rows(fp, block, n);
            first = false;
        }
        rc = feed(&L, block + skip, n - skip);
        if (rc)
            goto out;
    }
    if (ferror(fp)) {
        rc = orch_diag_set(diag, ORCH_EIO, "%s: read error: %s", path,
                           strerror(errno));
        goto out;
    }
    if (first) {
        /* An empty file: still choose a delimiter for the record. */
        rc = check_start(&L, "", 0, &skip);
        if (rc)
            goto out;
    }
    rc = finish(&L);
out:
    free(block);
    if (fp)
        fclose(fp);
    csv_free(&L.parser);
    return rc;
}
