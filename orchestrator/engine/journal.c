/* journal.c - the run's append-only journal: record framing, CRC-32C,
 * tolerant reading, buffered appends with group-commit fsync.
 *
 * DESIGN (after Redis's AOF). Each record is one line,
 *     "J1 <len> <crc32c-hex8> <payload>\n",
 * where the payload is compact JSON. jansson escapes every control
 * character inside strings and compact output has no whitespace, so a
 * payload never holds a raw '\n' and a record is exactly one line.
 *
 * Reading splits the image into lines and checks each one: the "J1 "
 * prefix, the decimal length (which must equal the bytes on the line), the
 * checksum, and that the payload is one JSON object. Only the LAST line may
 * fail those checks without an error: it is what a crash in the middle of
 * a write leaves behind (a partial line with no newline, or a line whose
 * bytes did not all reach the disk), and it is excluded from valid_len so
 * that orch_journal_open() cuts it off. A last line whose frame and
 * checksum are intact but whose payload is not a JSON object is NOT a tear
 * (a tear cannot forge a matching CRC-32C): it is refused like damage
 * elsewhere. A flipped byte inside the last record is indistinguishable
 * from a torn write and is therefore tolerated (the record is dropped);
 * the same flip in any earlier record is refused with ORCH_EJOURNAL and
 * "FILE:LINE: ...", since the process that wrote the following records
 * saw that one complete.
 *
 * Limits of that rule: appends are only ever made at the end and every
 * sync writes a whole buffer of complete records, so a kill -9 can only
 * leave a partial tail. A power cut on a file system that persists the
 * pages of one unsynced write out of order could in theory damage an
 * earlier line of the unsynced tail; that is reported as damage (the
 * operator decides, e.g. with --force), never silently repaired.
 *
 * Writing: orch_journal_append() serialises into a memory buffer;
 * orch_journal_sync() writes it with O_APPEND and fsyncs. If a write fails
 * half way (disk full), the bytes not yet written stay at the front of the
 * buffer so that a later sync completes the partial record: the file is
 * always a prefix of the intended record stream. A failed fsync is sticky
 * (the descriptor is closed): after it the kernel may have dropped the
 * dirty pages, so nothing written later could be trusted.
 *
 * The file is created with mode 0600 (an existing file with a wider mode is
 * narrowed), and an exclusive advisory lock (flock) held while it is open
 * stops a second process from appending to the same journal.
 */
#include "orch/engine/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "orch/base/codec.h"
#include "orch/base/err.h"
#include "orch/base/grow.h"

#define RECORD_MAGIC "J1 "
#define RECORD_MAGIC_LEN 3
/* The length field has at most this many digits: 999,999,999 bytes is far
 * beyond any record we write and keeps the arithmetic free of overflow. */
#define LEN_DIGITS_MAX 9
#define CRC_HEX_LEN 8
/* "J1 " + len + ' ' + crc + ' ' */
#define HEADER_MAX (RECORD_MAGIC_LEN + LEN_DIGITS_MAX + 1 + CRC_HEX_LEN + 1)
#define SHA256_BLOCK (1024 * 1024)

/* ---- CRC-32C (Castagnoli), slice-by-8 ---------------------------------- */

#define CRC32C_POLY 0x82F63B78u /* reflected 0x1EDC6F41 */

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_tables_build(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;

        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        for (int t = 1; t < 8; t++) {
            uint32_t prev = crc_table[t - 1][i];

            crc_table[t][i] = (prev >> 8) ^ crc_table[0][prev & 0xFF];
        }
    }
}

uint32_t orch_crc32c(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint32_t c = 0xFFFFFFFFu;

    pthread_once(&crc_once, crc_tables_build);
    /* Eight bytes at a time, assembled little-endian byte by byte so that
     * neither alignment nor host byte order matters. */
    while (len >= 8) {
        uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                           (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 |
                      (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;

        c = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^
            crc_table[5][(lo >> 16) & 0xFF] ^ crc_table[4][lo >> 24] ^
            crc_table[3][hi & 0xFF] ^ crc_table[2][(hi >> 8) & 0xFF] ^
            crc_table[1][(hi >> 16) & 0xFF] ^ crc_table[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--)
        c = (c >> 8) ^ crc_table[0][(c ^ *p++) & 0xFF];
    return c ^ 0xFFFFFFFFu;
}

/* ---- decoding ---------------------------------------------------------- */

/* Why a line failed; FRAME_OK when it is a good record. */
enum frame_check {
    FRAME_OK,
    FRAME_PREFIX,
    FRAME_LENGTH,
    FRAME_SIZE,
    FRAME_CHECKSUM,
};

struct frame {
    const char *payload;
    size_t len;  /* from the length field */
    size_t have; /* payload bytes actually on the line */
    uint32_t stored;
    uint32_t computed;
};

/* Checks the frame of one line (without its '\n'). */
static enum frame_check frame_parse(const char *line, size_t n, struct frame *f)
{
    size_t i = RECORD_MAGIC_LEN;
    size_t digits = 0;
    size_t len = 0;
    uint32_t crc = 0;

    memset(f, 0, sizeof(*f));
    if (n < RECORD_MAGIC_LEN || memcmp(line, RECORD_MAGIC, RECORD_MAGIC_LEN))
        return FRAME_PREFIX;
    while (i < n && line[i] >= '0' && line[i] <= '9') {
        if (++digits > LEN_DIGITS_MAX)
            return FRAME_LENGTH;
        len = len * 10 + (size_t)(line[i] - '0');
        i++;
    }
    if (digits == 0 || i >= n || line[i] != ' ')
        return FRAME_LENGTH;
    i++;
    for (int k = 0; k < CRC_HEX_LEN; k++, i++) {
        int v = i < n ? orch_hex_digit((unsigned char)line[i]) : -1;

        if (v < 0)
            return FRAME_CHECKSUM;
        crc = crc << 4 | (uint32_t)v;
    }
    if (i >= n || line[i] != ' ')
        return FRAME_CHECKSUM;
    i++;
    f->payload = line + i;
    f->len = len;
    f->have = n - i;
    f->stored = crc;
    if (f->have != len)
        return FRAME_SIZE;
    f->computed = orch_crc32c(f->payload, len);
    if (f->computed != crc)
        return FRAME_CHECKSUM;
    return FRAME_OK;
}

static int frame_error(struct orch_diag *diag, const char *name, size_t line,
                       enum frame_check why, const struct frame *f)
{
    switch (why) {
    case FRAME_PREFIX:
        return orch_diag_set(diag, ORCH_EJOURNAL,
                             "%s:%zu: bad record prefix (expected \"J1 \")",
                             name, line);
    case FRAME_LENGTH:
        return orch_diag_set(diag, ORCH_EJOURNAL, "%s:%zu: bad length field",
                             name, line);
    case FRAME_SIZE:
        return orch_diag_set(diag, ORCH_EJOURNAL,
                             "%s:%zu: bad length: the header says %zu "
                             "payload bytes, the line holds %zu",
                             name, line, f->len, f->have);
    case FRAME_CHECKSUM:
        if (f->payload == NULL)
            return orch_diag_set(diag, ORCH_EJOURNAL,
                                 "%s:%zu: bad checksum field", name, line);
        return orch_diag_set(diag, ORCH_EJOURNAL,
                             "%s:%zu: checksum mismatch (stored %08x, "
                             "computed %08x)",
                             name, line, (unsigned)f->stored,
                             (unsigned)f->computed);
    case FRAME_OK:
        break;
    }
    return orch_diag_set(diag, ORCH_EJOURNAL, "%s:%zu: damaged record", name,
                         line);
}

/* When the callback stops the walk, *valid_len covers the records delivered
 * so far, the stopping one included. */
int orch_journal_decode(const char *data, size_t len, const char *name,
                        orch_journal_record_fn fn, void *ud, size_t *valid_len,
                        struct orch_diag *diag)
{
    int rc = 0;
    size_t off = 0;
    size_t line = 0;
    json_t *rec = NULL;

    if (name == NULL)
        name = "journal";
    if (data == NULL && len > 0)
        return orch_diag_set(diag, ORCH_EINVAL, "%s: no data", name);
    while (off < len) {
        const char *start = data + off;
        const char *nl = memchr(start, '\n', len - off);
        size_t n = 0;
        bool last = false;
        struct frame f;
        enum frame_check why = FRAME_OK;
        json_error_t jerr;

        line++;
        /* A line without its newline is a torn write by definition. */
        if (nl == NULL)
            break;
        n = (size_t)(nl - start);
        last = (size_t)(nl - data) + 1 == len;
        why = frame_parse(start, n, &f);
        if (why != FRAME_OK) {
            if (last)
                break;
            rc = frame_error(diag, name, line, why, &f);
            goto out;
        }
        rec = json_loadb(f.payload, f.len, JSON_REJECT_DUPLICATES, &jerr);
        if (rec == NULL || !json_is_object(rec)) {
            rc = orch_diag_set(diag, ORCH_EJOURNAL,
                               "%s:%zu: payload is not a JSON object%s%s", name,
                               line, rec ? "" : ": ", rec ? "" : jerr.text);
            goto out;
        }
        off += n + 1;
        if (fn != NULL)
            rc = fn(ud, rec, line);
        json_decref(rec);
        rec = NULL;
        if (rc)
            goto out;
    }
out:
    json_decref(rec);
    if (valid_len != NULL)
        *valid_len = off;
    return rc;
}

/* ---- reading a file ---------------------------------------------------- */

static int read_all(int fd, const char *path, char **out, size_t *out_len,
                    struct orch_diag *diag)
{
    struct stat st;
    char *data = NULL;
    size_t cap = 0;
    size_t len = 0;

    *out = NULL;
    *out_len = 0;
    if (fstat(fd, &st) != 0)
        return orch_diag_set(diag, ORCH_EIO, "%s: %s", path, strerror(errno));
    /* The size is only a hint: read until end of file either way. */
    cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
    data = malloc(cap);
    if (data == NULL)
        return orch_diag_set(diag, ORCH_ENOMEM, "%s: out of memory", path);
    for (;;) {
        ssize_t got = 0;

        if (len == cap) {
            char *p = realloc(data, cap * 2);

            if (p == NULL) {
                free(data);
                return orch_diag_set(diag, ORCH_ENOMEM, "%s: out of memory",
                                     path);
            }
            data = p;
            cap *= 2;
        }
        got = read(fd, data + len, cap - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;

            free(data);
            return orch_diag_set(diag, ORCH_EIO, "%s: %s", path, strerror(e));
        }
        if (got == 0)
            break;
        len += (size_t)got;
    }
    *out = data;
    *out_len = len;
    return 0;
}

int orch_journal_read(const char *path, orch_journal_record_fn fn, void *ud,
                      size_t *valid_len, struct orch_diag *diag)
{
    int rc = 0;
    int fd = -1;
    char *data = NULL;
    size_t len = 0;

    if (valid_len != NULL)
        *valid_len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = orch_diag_set(diag, errno == ENOENT ? ORCH_ENOTFOUND : ORCH_EIO,
                           "%s: %s", path, strerror(errno));
        goto out;
    }
    rc = read_all(fd, path, &data, &len, diag);
    if (rc)
        goto out;
    rc = orch_journal_decode(data, len, path, fn, ud, valid_len, diag);
out:
    free(data);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* ---- writing ----------------------------------------------------------- */

/* Makes the creation of `path` itself durable: fsync its directory. */
static int sync_parent_dir(const char *path, struct orch_diag *diag)
{
    int rc = 0;
    int dfd = -1;
    char *copy = strdup(path);
    const char *dir = NULL;

    if (copy == NULL)
        return orch_diag_set(diag, ORCH_EIO, "%s: out of memory", path);
    dir = dirname(copy);
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0)
        rc = orch_diag_set(diag, ORCH_EIO, "%s: cannot sync directory: %s", dir,
                           strerror(errno));
    if (dfd >= 0)
        close(dfd);
    free(copy);
    return rc;
}

int orch_journal_open(struct orch_journal *j, const char *path,
                      size_t valid_len, struct orch_diag *diag)
{
    int rc = 0;
    bool created = false;
    struct stat st;

    memset(j, 0, sizeof(*j));
    j->fd = -1;
    j->path = strdup(path);
    if (j->path == NULL) {
        rc = orch_diag_set(diag, ORCH_EIO, "%s: out of memory", path);
        goto out;
    }
    /* Try to create first, to know whether the directory entry is new. */
    j->fd =
        open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (j->fd >= 0)
        created = true;
    else if (errno == EEXIST)
        j->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (j->fd < 0) {
        rc = orch_diag_set(diag, ORCH_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    /* Two processes appending to one journal would break exactly-once. */
    if (flock(j->fd, LOCK_EX | LOCK_NB) != 0) {
        rc = orch_diag_set(diag, ORCH_EIO, "%s: %s", path,
                           errno == EWOULDBLOCK
                               ? "in use by another ota-rollout process"
                               : strerror(errno));
        goto out;
    }
    if (fstat(j->fd, &st) != 0) {
        rc = orch_diag_set(diag, ORCH_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = orch_diag_set(diag, ORCH_EIO, "%s: not a regular file", path);
        goto out;
    }
    if ((st.st_mode & 07777) != 0600 && fchmod(j->fd, 0600) != 0) {
        rc = orch_diag_set(diag, ORCH_EIO, "%s: cannot set mode 0600: %s", path,
                           strerror(errno));
        goto out;
    }
    if (valid_len != (size_t)-1 && (uint64_t)st.st_size != valid_len) {
        if ((uint64_t)st.st_size < valid_len) {
            rc = orch_diag_set(diag, ORCH_EIO,
                               "%s: shorter (%lld bytes) than when it was "
                               "read (%zu): changed by another process?",
                               path, (long long)st.st_size, valid_len);
            goto out;
        }
        /* Cut the torn tail off, durably, before anything is appended
         * after it. */
        if (ftruncate(j->fd, (off_t)valid_len) != 0 || fsync(j->fd) != 0) {
            rc = orch_diag_set(diag, ORCH_EIO, "%s: cannot truncate: %s", path,
                               strerror(errno));
            goto out;
        }
    }
    if (created)
        rc = sync_parent_dir(path, diag);
out:
    if (rc) {
        if (j->fd >= 0)
            close(j->fd);
        if (created)
            unlink(path);
        free(j->path);
        memset(j, 0, sizeof(*j));
        j->fd = -1;
    }
    return rc;
}

static int buf_reserve(struct orch_journal *j, size_t extra)
{
    size_t need = j->len + extra;
    char *p = NULL;

    if (need < j->len)
        return ORCH_ENOMEM;
    if (need <= j->cap)
        return 0;
    p = orch_grow(j->buf, &j->cap, need, 1, 4096);
    if (p == NULL)
        return ORCH_ENOMEM;
    j->buf = p;
    return 0;
}

int orch_journal_frame(const json_t *rec, char **out, size_t *outlen)
{
    int rc = 0;
    char *payload = NULL;
    char *line = NULL;
    size_t n = 0;
    char header[HEADER_MAX + 1];
    int hlen = 0;

    *out = NULL;
    *outlen = 0;
    if (rec == NULL || !json_is_object(rec))
        return ORCH_EINVAL;
    payload = json_dumps(rec, JSON_COMPACT);
    if (payload == NULL)
        return ORCH_ENOMEM;
    n = strlen(payload);
    /* jansson escapes control characters, so this cannot happen; a raw
     * newline would split the record, so check rather than trust. */
    if (memchr(payload, '\n', n) != NULL || n > 999999999u) {
        rc = ORCH_EINVAL;
        goto out;
    }
    hlen = snprintf(header, sizeof(header), "J1 %zu %08x ", n,
                    (unsigned)orch_crc32c(payload, n));
    line = malloc((size_t)hlen + n + 2);
    if (line == NULL) {
        rc = ORCH_ENOMEM;
        goto out;
    }
    memcpy(line, header, (size_t)hlen);
    memcpy(line + hlen, payload, n);
    line[(size_t)hlen + n] = '\n';
    line[(size_t)hlen + n + 1] = '\0';
    *out = line;
    *outlen = (size_t)hlen + n + 1;
out:
    free(payload);
    return rc;
}

int orch_journal_append(struct orch_journal *j, const json_t *rec)
{
    char *line = NULL;
    size_t n = 0;
    int rc = 0;

    if (j == NULL)
        return ORCH_EINVAL;
    rc = orch_journal_frame(rec, &line, &n);
    if (rc == 0)
        rc = buf_reserve(j, n);
    if (rc == 0) {
        memcpy(j->buf + j->len, line, n);
        j->len += n;
        j->records++;
    }
    free(line);
    return rc;
}

int orch_journal_sync(struct orch_journal *j)
{
    size_t done = 0;

    if (j == NULL || j->fd < 0)
        return ORCH_EIO;
    /* The dispatcher syncs every loop iteration; most have nothing new. */
    if (j->len == 0)
        return 0;
    while (done < j->len) {
        ssize_t w = write(j->fd, j->buf + done, j->len - done);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            /* Keep the unwritten bytes (maybe half a record) first in
             * line, so that a later sync completes what is on disk. */
            memmove(j->buf, j->buf + done, j->len - done);
            j->len -= done;
            return ORCH_EIO;
        }
        done += (size_t)w;
    }
    j->len = 0;
    /* fdatasync also flushes the file size, which is all the metadata an
     * append needs to be readable after a crash. */
    if (fdatasync(j->fd) != 0) {
        /* The kernel may have dropped the dirty pages: nothing written
         * later through this descriptor could be trusted. */
        close(j->fd);
        j->fd = -1;
        return ORCH_EIO;
    }
    return 0;
}

int orch_journal_close(struct orch_journal *j)
{
    int rc = 0;

    if (j == NULL)
        return 0;
    if (j->fd >= 0) {
        rc = orch_journal_sync(j);
        /* sync may have closed it already after a failed fsync. */
        if (j->fd >= 0)
            close(j->fd);
    } else if (j->len > 0) {
        rc = ORCH_EIO; /* records that never reached the file */
    }
    free(j->buf);
    free(j->path);
    memset(j, 0, sizeof(*j));
    j->fd = -1;
    return rc;
}

/* ---- file digest ------------------------------------------------------- */

int orch_file_sha256(const char *path, char out[65], struct orch_diag *diag)
{
    static const char hex[] = "0123456789abcdef";
    int rc = 0;
    int fd = -1;
    unsigned char *block = NULL;
    EVP_MD_CTX *ctx = NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    out[0] = '\0';
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = orch_diag_set(diag, ORCH_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    block = malloc(SHA256_BLOCK);
    ctx = EVP_MD_CTX_new();
    if (block == NULL || ctx == NULL ||
        EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        rc = orch_diag_set(diag, ORCH_EIO, "%s: cannot start SHA-256", path);
        goto out;
    }
    for (;;) {
        ssize_t got = read(fd, block, SHA256_BLOCK);

        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = orch_diag_set(diag, ORCH_EIO, "%s: %s", path, strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        if (EVP_DigestUpdate(ctx, block, (size_t)got) != 1) {
            rc = orch_diag_set(diag, ORCH_EIO, "%s: SHA-256 failed", path);
            goto out;
        }
    }
    if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
        rc = orch_diag_set(diag, ORCH_EIO, "%s: SHA-256 failed", path);
        goto out;
    }
    for (unsigned int i = 0; i < mdlen; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0x0F];
    }
    out[64] = '\0';
out:
    EVP_MD_CTX_free(ctx);
    free(block);
    if (fd >= 0)
        close(fd);
    return rc;
}
