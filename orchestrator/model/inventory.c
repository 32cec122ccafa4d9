/* inventory.c - read a device inventory CSV (libcsv) into a compact,
 * de-duplicated device list (inventory.h).
 *
 * DESIGN: the input is read in 1 MiB blocks and fed to csv_parse(); the
 * field callback copies only the DeviceName and ProductKey cells of the row
 * into small fixed row buffers, and the row callback validates the row
 * (invrules.h), appends the name to one growing arena (inv->names) plus
 * one 16-byte record (inv->dev), and registers the record with the
 * duplicate set (devset.h), which marks duplicates for the end of the
 * load to squeeze out. Nothing is allocated per row. The header row goes
 * to invheader.h instead; the cells of the --where filters and of the
 * named columns, and the values a kept row holds there, to invcols.h.
 *
 * Physical line numbers: libcsv does not report positions, so we count line
 * breaks as they pass. CSV_REPALL_NL makes libcsv report every CR and LF it
 * sees outside a field (so blank lines and the LF of a CRLF are seen), and
 * quoted line breaks are counted inside the field text. A row's line is the
 * line counter at its first field.
 *
 * Measured on the reference machine (1 MiB reads, 2 products,
 * RelWithDebInfo): 10^6 rows in 0.20 s, 10^7 in 2.4 s, peak RSS 22-26
 * bytes per device beyond the names.
 */
#include "orch/model/inventory.h"

#include "orch/base/err.h"
#include "orch/base/grow.h"
#include "orch/model/devset.h"
#include "orch/model/invcols.h"
#include "orch/model/invheader.h"
#include "orch/model/invrules.h"

#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define READ_BLOCK (1u << 20)
/* Room for a reason, the same in the rejects file and the problem list. */
#define REASON_LEN sizeof(((struct orch_inventory_problem *)0)->reason)

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
    struct orch_invheader header;

    struct orch_invcell dn, pk;
    struct orch_invcols cols; /* --where and the named columns */
    struct orch_devset devs; /* the duplicate set */
    uint32_t last_product;   /* cache for the product lookup */
    bool have_last_product;
    size_t nproblems; /* invalid rows seen without skip_invalid */
};

/* ------------------------------------------------------------------ */
/* Cells                                                                */

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
        orch_invcell_clear(&L->dn);
        orch_invcell_clear(&L->pk);
        orch_invcols_row_start(&L->cols);
    }
    L->prev_cr = false;
    /* Quoted line breaks move the physical line on. */
    breaks = count_breaks(s, len);
    trim(&s, &len);
    if (len)
        L->nonempty = true;
    if (!L->have_header) {
        orch_invheader_field(&L->header, L->col, s, len);
        orch_invcols_header_cell(&L->cols, L->col, s, len);
    } else {
        /* A cell may be a filter's or a named column's and DeviceName's
         * or ProductKey's too. */
        orch_invcols_cell(&L->cols, L->col, s, len);
        if ((long)L->col == L->header.dn_col) {
            unneutralise(&s, &len);
            orch_invcell_set(&L->dn, s, len);
        } else if ((long)L->col == L->header.pk_col) {
            unneutralise(&s, &len);
            orch_invcell_set(&L->pk, s, len);
        }
    }
    L->col++;
    L->line += breaks;
}

/* ------------------------------------------------------------------ */
/* Rows                                                                 */

/* Without skip_invalid: keeps the row in the caller's list (the first
 * ORCH_INVENTORY_PROBLEMS_MAX), counts it, and puts the first one into
 * the diag; the load goes on so that every invalid row is found. */
static void note_problem(struct loader *L, const struct orch_invcell *v,
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
    orch_invrules_show_value(p.value, sizeof(p.value), v->s,
                             v->len < ORCH_INVCELL_KEEP ? v->len
                                                        : ORCH_INVCELL_KEEP,
                             v->len > ORCH_INVCELL_KEEP);
    memcpy(p.reason, why, sizeof(p.reason));
    if (L->nproblems == 1 && L->diag)
        orch_inventory_problem_format(L->diag->msg, sizeof(L->diag->msg),
                                      L->name, &p);
    if (ps && ps->n < ORCH_INVENTORY_PROBLEMS_MAX)
        ps->first[ps->n++] = p;
}

/* An invalid row: note it and go on (the load fails at the end), or with
 * skip_invalid report it and go on. `field` names the cell. */
static int reject(struct loader *L, const char *field,
                  const struct orch_invcell *v, const char *problem)
{
    char why[REASON_LEN];
    int urc = 0;

    orch_invrules_reason(why, sizeof(why), field, problem);
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
    if (inv->nproducts >= ORCH_DEVSET_DROPPED - 1)
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

/* Appends the device's name to the arena and its record, and registers
 * the record with the duplicate set. */
static int add_device(struct loader *L, const char *name, size_t len,
                      uint32_t product)
{
    struct orch_inventory *inv = L->inv;
    struct orch_device *d = NULL;
    char *names = NULL;
    int rc = 0;

    if (inv->n >= UINT32_MAX - 1)
        return ORCH_ETOOBIG;
    d = orch_grow(inv->dev, &inv->cap, inv->n + 1, sizeof(*d), 4096);
    if (d == NULL)
        return ORCH_ENOMEM;
    inv->dev = d;
    names = orch_grow(inv->names, &inv->names_cap, inv->names_len + len + 1,
                      1, 65536);
    if (names == NULL)
        return ORCH_ENOMEM;
    inv->names = names;
    memcpy(inv->names + inv->names_len, name, len + 1);
    d = &inv->dev[inv->n];
    d->name_off = inv->names_len;
    d->product = product;
    d->line = L->row_line;
    inv->names_len += len + 1;
    rc = orch_devset_add(&L->devs, inv->dev, inv->names, (uint32_t)inv->n,
                         len);
    if (rc)
        return rc;
    inv->n++;
    return 0;
}

static int finish_header(struct loader *L)
{
    int rc = 0;

    L->inv->has_product_column = L->header.pk_col >= 0;
    rc = orch_invheader_check(&L->header, L->name, L->row_line,
                              L->opts->default_product_key, L->diag);
    if (rc == 0)
        rc = orch_invcols_check_header(&L->cols, &L->header, L->name,
                                       L->row_line, L->diag);
    if (rc == 0)
        L->have_header = true;
    return rc;
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
    if (!orch_invcols_row_selected(&L->cols, &L->inv->filtered,
                                   L->inv->where_kept))
        return 0;
    problem = orch_device_name_problem(L->dn.s);
    if (problem == NULL && L->dn.len > ORCH_INVCELL_KEEP)
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
    problem = orch_product_key_problem(pk, pklen);
    if (problem)
        return reject(L, "ProductKey", &L->pk, problem);
    rc = product_index(L, pk, &product);
    if (rc == 0)
        rc = add_device(L, L->dn.s, L->dn.len, product);
    if (rc)
        return orch_diag_set(L->diag, rc, "%s:%u: %s", L->name, L->row_line,
                             orch_strerror(rc));
    return orch_invcols_keep_row(&L->cols, L->inv->keys, L->name,
                                 L->row_line, L->diag);
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
    *skip = 0;
    if (orch_invheader_utf16(s, len))
        return utf16_error(L, 1);
    *skip = orch_invheader_bom(s, len);
    if (L->opts->delimiter)
        L->inv->delimiter = L->opts->delimiter;
    else
        L->inv->delimiter =
            orch_invheader_sniff_delimiter(s + *skip, len - *skip);
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
    L->rc = orch_devset_settle(&L->devs, L->inv->dev, L->inv->names,
                               &L->inv->n);
    L->inv->duplicates += L->devs.duplicates;
    if (L->rc)
        return orch_diag_set(L->diag, L->rc, "%s: %s", L->name,
                             orch_strerror(L->rc));
    if (!L->have_header)
        return orch_diag_set(L->diag, ORCH_ECSV,
                             "%s: empty inventory; the first row must be a "
                             "header with a DeviceName column",
                             L->name);
    L->rc = orch_invcols_settle(&L->cols, L->inv->keys, L->inv->dev,
                                L->inv->n, L->diag);
    if (L->rc == 0 && L->inv->rows > 0)
        L->rc = orch_invcols_check_kept(&L->cols, L->inv->where_kept,
                                        L->inv->rows, L->name, L->diag);
    if (L->rc)
        return L->rc;
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
    int rc = 0;

    memset(L, 0, sizeof(*L));
    L->inv = inv;
    L->opts = opts ? opts : &defaults;
    L->diag = diag;
    L->line = 1;
    rc = orch_invcols_init(&L->cols, L->opts->where, L->opts->nwhere,
                           L->opts->key_column, L->opts->key_option, diag);
    if (rc)
        return rc;
    orch_invheader_init(&L->header);
    orch_devset_init(&L->devs, 0);
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

static void loader_cleanup(struct loader *L)
{
    orch_invcols_cleanup(&L->cols);
    orch_devset_cleanup(&L->devs);
    csv_free(&L->parser);
}

void orch_inventory_init(struct orch_inventory *inv)
{
    memset(inv, 0, sizeof(*inv));
    inv->delimiter = ',';
}

void orch_inventory_cleanup(struct orch_inventory *inv)
{
    size_t i = 0, k = 0;

    if (inv == NULL)
        return;
    for (i = 0; i < inv->nproducts; i++)
        free(inv->products[i]);
    free(inv->products);
    for (k = 0; k < ORCH_INV_NKEYS; k++) {
        struct orch_inventory_key *key = &inv->keys[k];

        for (i = 0; i < key->nvalues; i++)
            free(key->values[i]);
        free(key->values);
        free(key->line);
        free(key->of);
    }
    free(inv->path);
    free(inv->names);
    free(inv->dev);
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
    loader_cleanup(&L);
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

/* Feeds the whole file to the loader, block by block; the first block
 * decides the encoding and the delimiter and sizes the duplicate set. */
static int read_blocks(struct loader *L, FILE *fp, char *block)
{
    size_t n = 0, skip = 0;
    bool first = true;
    int rc = 0;

    while ((n = fread(block, 1, READ_BLOCK, fp)) > 0) {
        skip = 0;
        if (first) {
            rc = check_start(L, block, n, &skip);
            if (rc)
                return rc;
            L->devs.expect = estimate_rows(fp, block, n);
            first = false;
        }
        rc = feed(L, block + skip, n - skip);
        if (rc)
            return rc;
    }
    if (ferror(fp))
        return orch_diag_set(L->diag, ORCH_EIO, "%s: read error: %s",
                             L->name, strerror(errno));
    /* An empty file: still choose a delimiter for the record. */
    if (first)
        return check_start(L, "", 0, &skip);
    return 0;
}

int orch_inventory_load(struct orch_inventory *inv, const char *path,
                        const struct orch_inventory_opts *opts,
                        struct orch_diag *diag)
{
    struct loader L;
    FILE *fp = NULL;
    char *block = NULL;
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
    rc = read_blocks(&L, fp, block);
    if (rc == 0)
        rc = finish(&L);
out:
    free(block);
    if (fp)
        fclose(fp);
    loader_cleanup(&L);
    return rc;
}
