/* fuzz_journal.c - libFuzzer target for the journal reader.
 *
 * Two passes per input:
 *   1. The input as a journal image. Besides "never crashes", it checks
 *      the reader's promises: valid_len lies within the input and ends on
 *      a record boundary, and decoding the valid prefix alone gives the
 *      same records and no error (what resume does after cutting the torn
 *      tail).
 *   2. Each input line as a payload, framed with a correct length and
 *      CRC-32C, so that random bytes get past the checksum and reach the
 *      JSON layer. The reader must then accept exactly the lines that are
 *      JSON objects, and refuse at the first one that is not, naming it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orch/base/err.h"
#include "orch/engine/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct count {
    size_t records;
    size_t last_line;
};

static int on_record(void *ud, const json_t *rec, size_t line)
{
    struct count *c = ud;

    /* Records arrive in order, one per line, always objects. */
    if (!json_is_object(rec) || line != c->last_line + 1)
        abort();
    c->records++;
    c->last_line = line;
    return 0;
}

static void raw_pass(const char *p, size_t size)
{
    struct count first = {0, 0};
    struct count again = {0, 0};
    struct orch_diag diag;
    size_t valid = 0;
    size_t valid2 = 0;
    int rc = 0;

    rc = orch_journal_decode(p, size, "fuzz", on_record, &first, &valid, &diag);
    if (rc != 0 && rc != ORCH_EJOURNAL)
        abort();
    if (valid > size || (valid > 0 && p[valid - 1] != '\n'))
        abort();
    if (orch_journal_decode(p, valid, "fuzz", on_record, &again, &valid2,
                            &diag) != 0)
        abort();
    if (valid2 != valid || again.records != first.records)
        abort();
}

static void framed_pass(const char *p, size_t size)
{
    char *img = NULL;
    size_t cap = size * 2 + 64;
    size_t len = 0;
    size_t lines = 0;
    size_t first_bad = 0; /* 1-based line of the first non-object */
    size_t off = 0;
    struct count seen = {0, 0};
    struct orch_diag diag;
    char want[32];
    int rc = 0;

    /* Each line adds at most a 22-byte header and a newline. */
    img = malloc(cap + size * 24);
    if (img == NULL)
        return;
    while (off < size) {
        const char *nl = memchr(p + off, '\n', size - off);
        size_t n = nl ? (size_t)(nl - (p + off)) : size - off;
        json_t *v = json_loadb(p + off, n, JSON_REJECT_DUPLICATES, NULL);

        lines++;
        if (first_bad == 0 && !json_is_object(v))
            first_bad = lines;
        json_decref(v);
        len += (size_t)sprintf(img + len, "J1 %zu %08x ", n,
                               (unsigned)orch_crc32c(p + off, n));
        memcpy(img + len, p + off, n);
        len += n;
        img[len++] = '\n';
        off += n + 1;
    }
    rc = orch_journal_decode(img, len, "fuzz", on_record, &seen, NULL, &diag);
    if (first_bad == 0) {
        if (rc != 0 || seen.records != lines)
            abort();
    } else {
        snprintf(want, sizeof(want), "fuzz:%zu: ", first_bad);
        if (rc != ORCH_EJOURNAL || seen.records != first_bad - 1 ||
            strncmp(diag.msg, want, strlen(want)) != 0)
            abort();
    }
    free(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    raw_pass((const char *)data, size);
    framed_pass((const char *)data, size);
    return 0;
}
