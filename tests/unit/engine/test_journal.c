/* test_journal.c - journal framing, tolerant reading, durability plumbing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "orch/base/err.h"
#include "torture.h"
#include "orch/engine/journal.h"

/* ---- helpers ----------------------------------------------------------- */

/* What a reader saw: copies of the records and their line numbers. */
struct seen {
    json_t *recs; /* array */
    size_t lines[4096];
    size_t n;
    int stop_at; /* return 7 at this 1-based record, 0 = never */
};

static void seen_init(struct seen *s)
{
    memset(s, 0, sizeof(*s));
    s->recs = json_array();
    assert_non_null(s->recs);
}

static void seen_cleanup(struct seen *s)
{
    json_decref(s->recs);
    s->recs = NULL;
}

static int collect(void *ud, const json_t *rec, size_t line)
{
    struct seen *s = ud;

    assert_true(s->n < sizeof(s->lines) / sizeof(s->lines[0]));
    /* rec is borrowed: keep a deep copy. */
    assert_int_equal(json_array_append_new(s->recs, json_deep_copy(rec)), 0);
    s->lines[s->n++] = line;
    if (s->stop_at != 0 && (int)s->n == s->stop_at)
        return 7;
    return 0;
}

struct tmpdir {
    char dir[64];
    char path[128];
};

static int setup_tmp(void **state)
{
    struct tmpdir *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return -1;
    torture_mkdtemp(t->dir, sizeof(t->dir), "test_journal");
    snprintf(t->path, sizeof(t->path), "%s/run.journal", t->dir);
    *state = t;
    return 0;
}

static int teardown_tmp(void **state)
{
    struct tmpdir *t = *state;

    torture_rmtree(t->dir);
    free(t);
    return 0;
}

static json_t *make_record(size_t i)
{
    json_t *rec = NULL;

    switch (i % 4) {
    case 0:
        rec = json_pack("{s:s, s:I, s:I}", "t", "intent", "c", (json_int_t)i,
                        "time", (json_int_t)(1700000000000LL + (long long)i));
        break;
    case 1:
        rec = json_pack("{s:s, s:I, s:i, s:I}", "t", "attempt", "c",
                        (json_int_t)i, "n", 1, "time",
                        (json_int_t)(1700000000000LL + (long long)i));
        break;
    case 2:
        /* Strings a report may carry: newlines, quotes, UTF-8. */
        rec = json_pack("{s:s, s:I, s:s, s:s, s:s, s:b}", "t", "done", "c",
                        (json_int_t)i, "status", "failed", "code",
                        "iot.ota.Quirky", "message",
                        "line one\nline two\r\t\"quoted\" \xc3\xa9\xe2\x82\xac",
                        "recovered", 0);
        break;
    default:
        rec = json_pack("{s:s, s:I, s:s, s:s}", "t", "done", "c", (json_int_t)i,
                        "status", "created", "job_id",
                        "XUbmsMHmkqv0PiAG****000101");
        break;
    }
    assert_non_null(rec);
    return rec;
}

/* Writes records 0..n-1 through the real writer, syncing every `every`. */
static void write_records(const char *path, size_t n, size_t every)
{
    struct orch_journal j;
    struct orch_diag d = {{0}};

    assert_int_equal(orch_journal_open(&j, path, (size_t)-1, &d), 0);
    for (size_t i = 0; i < n; i++) {
        json_t *rec = make_record(i);

        assert_int_equal(orch_journal_append(&j, rec), 0);
        json_decref(rec);
        if (every != 0 && (i + 1) % every == 0)
            assert_int_equal(orch_journal_sync(&j), 0);
    }
    assert_int_equal(j.records, n);
    assert_int_equal(orch_journal_close(&j), 0);
}

/* Offset of the start of 1-based line `line` in data. */
static size_t line_start(const char *data, size_t len, size_t line)
{
    size_t off = 0;

    for (size_t l = 1; l < line; l++) {
        const char *nl = memchr(data + off, '\n', len - off);

        assert_non_null(nl);
        off = (size_t)(nl - data) + 1;
    }
    return off;
}

/* A record framed by hand, for payloads the writer refuses to produce. */
static size_t frame(char *out, size_t cap, const char *payload)
{
    int n = snprintf(out, cap, "J1 %zu %08x %s\n", strlen(payload),
                     (unsigned)orch_crc32c(payload, strlen(payload)), payload);

    assert_true(n > 0 && (size_t)n < cap);
    return (size_t)n;
}

static int decode(const char *data, size_t len, struct seen *s, size_t *valid,
                  struct orch_diag *d)
{
    return orch_journal_decode(data, len, "run.journal", collect, s, valid, d);
}

/* ---- CRC-32C ----------------------------------------------------------- */

static uint32_t crc32c_bitwise(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;

    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

static void test_crc32c_vectors(void **state)
{
    unsigned char buf[300];

    (void)state;
    /* The check value of the Castagnoli CRC, and RFC 3720 B.4. */
    assert_int_equal(orch_crc32c("123456789", 9), 0xE3069283u);
    assert_int_equal(orch_crc32c("", 0), 0);
    memset(buf, 0, 32);
    assert_int_equal(orch_crc32c(buf, 32), 0x8A9136AAu);
    memset(buf, 0xFF, 32);
    assert_int_equal(orch_crc32c(buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (unsigned char)i;
    assert_int_equal(orch_crc32c(buf, 32), 0x46DD794Eu);
    /* Slice-by-8 equals the bitwise definition at every length and
     * alignment. */
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)(i * 131 + 7);
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; n + off <= sizeof(buf); n += 7)
            assert_int_equal(orch_crc32c(buf + off, n),
                             crc32c_bitwise(buf + off, n));
}

/* ---- reading and writing ----------------------------------------------- */

static void test_round_trip(void **state)
{
    struct tmpdir *t = *state;
    struct seen s;
    struct orch_diag d = {{0}};
    size_t valid = 0;
    size_t len = 0;
    char *data = NULL;
    const size_t n = 1000;

    write_records(t->path, n, 37);
    data = torture_read_file(t->path, &len);
    seen_init(&s);
    assert_int_equal(orch_journal_read(t->path, collect, &s, &valid, &d), 0);
    assert_int_equal(valid, len);
    assert_int_equal(s.n, n);
    for (size_t i = 0; i < n; i++) {
        json_t *want = make_record(i);

        assert_int_equal(s.lines[i], i + 1);
        assert_true(json_equal(json_array_get(s.recs, i), want));
        json_decref(want);
    }
    /* One record per line, each in the documented frame. */
    assert_int_equal(data[len - 1], '\n');
    for (size_t line = 1; line <= n; line++) {
        size_t off = line_start(data, len, line);

        assert_memory_equal(data + off, "J1 ", 3);
    }
    free(data);
    seen_cleanup(&s);
}

static void test_empty_and_missing(void **state)
{
    struct tmpdir *t = *state;
    struct seen s;
    struct orch_diag d = {{0}};
    size_t valid = 99;

    seen_init(&s);
    assert_int_equal(decode("", 0, &s, &valid, &d), 0);
    assert_int_equal(valid, 0);
    assert_int_equal(s.n, 0);
    valid = 99;
    assert_int_equal(orch_journal_read(t->path, collect, &s, &valid, &d),
                     ORCH_ENOTFOUND);
    assert_non_null(strstr(d.msg, "run.journal"));
    /* An empty file (created, nothing appended yet) is a valid journal. */
    torture_write_file(t->path, "", 0);
    assert_int_equal(orch_journal_read(t->path, collect, &s, &valid, &d), 0);
    assert_int_equal(valid, 0);
    assert_int_equal(s.n, 0);
    seen_cleanup(&s);
}

/* Cutting the file anywhere inside the last record loses only that record:
 * every earlier record is returned and valid_len is its first byte. */
static void test_torn_last_record_every_offset(void **state)
{
    struct tmpdir *t = *state;
    struct orch_diag d = {{0}};
    size_t len = 0;
    size_t last = 0;
    char *data = NULL;
    const size_t n = 6;

    write_records(t->path, n, 0);
    data = torture_read_file(t->path, &len);
    last = line_start(data, len, n);
    for (size_t cut = last; cut <= len; cut++) {
        struct seen s;
        size_t valid = 12345;

        seen_init(&s);
        assert_int_equal(decode(data, cut, &s, &valid, &d), 0);
        if (cut == len) {
            assert_int_equal(s.n, n);
            assert_int_equal(valid, len);
        } else {
            assert_int_equal(s.n, n - 1);
            assert_int_equal(valid, last);
        }
        seen_cleanup(&s);
    }
    /* A cut inside an earlier record leaves that one as the torn tail. */
    for (size_t cut = 1; cut < last; cut++) {
        struct seen s;
        size_t valid = 0;
        size_t want_valid = 0;
        size_t want_n = 0;

        seen_init(&s);
        assert_int_equal(decode(data, cut, &s, &valid, &d), 0);

        /* Everything up to the last newline before the cut survives. */
        for (size_t i = 0; i < cut; i++) {
            if (data[i] == '\n') {
                want_valid = i + 1;
                want_n++;
            }
        }
        assert_int_equal(valid, want_valid);
        assert_int_equal(s.n, want_n);
        seen_cleanup(&s);
    }
    free(data);
}

/* Any single flipped byte in a record that is followed by others is
 * refused, and the message names that record's line. */
static void test_flip_in_middle_record_refused(void **state)
{
    struct tmpdir *t = *state;
    size_t len = 0;
    size_t from = 0;
    size_t to = 0;
    char *data = NULL;
    const unsigned char masks[] = {0x01, 0x80, 0x10};

    write_records(t->path, 5, 0);
    data = torture_read_file(t->path, &len);
    from = line_start(data, len, 3);
    to = line_start(data, len, 4);
    for (size_t off = from; off < to; off++) {
        for (size_t m = 0; m < sizeof(masks); m++) {
            struct seen s;
            struct orch_diag d = {{0}};
            size_t valid = 0;
            char save = data[off];

            data[off] = (char)(data[off] ^ masks[m]);
            seen_init(&s);
            assert_int_equal(decode(data, len, &s, &valid, &d), ORCH_EJOURNAL);
            assert_non_null(strstr(d.msg, "run.journal:3: "));
            assert_int_equal(s.n, 2);
            assert_int_equal(valid, from);
            seen_cleanup(&s);
            data[off] = save;
        }
    }
    free(data);
}

/* The same flip in the last record looks exactly like a write that did not
 * reach the disk whole: it is tolerated as a torn tail and dropped. */
static void test_flip_in_last_record_is_torn(void **state)
{
    struct tmpdir *t = *state;
    size_t len = 0;
    size_t last = 0;
    char *data = NULL;

    write_records(t->path, 5, 0);
    data = torture_read_file(t->path, &len);
    last = line_start(data, len, 5);
    for (size_t off = last; off < len; off++) {
        struct seen s;
        struct orch_diag d = {{0}};
        size_t valid = 0;
        char save = data[off];

        data[off] = (char)(data[off] ^ 0x01);
        seen_init(&s);
        assert_int_equal(decode(data, len, &s, &valid, &d), 0);
        assert_int_equal(s.n, 4);
        assert_int_equal(valid, last);
        seen_cleanup(&s);
        data[off] = save;
    }
    free(data);
}

/* Each kind of damage gets its own message. */
static void test_damage_messages(void **state)
{
    static const struct {
        const char *line2;
        const char *want;
    } cases[] = {
        {"J2 2 00000000 {}\n", "run.journal:2: bad record prefix"},
        {"\n", "run.journal:2: bad record prefix"},
        {"J1 x 00000000 {}\n", "run.journal:2: bad length field"},
        {"J1 1234567890 00000000 {}\n", "run.journal:2: bad length field"},
        {"J1 3 00000000 {}\n", "run.journal:2: bad length: the header says 3"},
        {"J1 2 0000zz00 {}\n", "run.journal:2: bad checksum field"},
        {"J1 2 00000000 {}\n", "run.journal:2: checksum mismatch"},
    };
    char good[128];
    char buf[512];
    size_t glen = frame(good, sizeof(good), "{\"t\":\"run\",\"v\":1}");

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct seen s;
        struct orch_diag d = {{0}};
        size_t valid = 0;
        size_t n = 0;

        /* good, damaged, good: the damage is not the last line. */
        n = (size_t)snprintf(buf, sizeof(buf), "%s%s%s", good, cases[i].line2,
                             good);
        seen_init(&s);
        assert_int_equal(decode(buf, n, &s, &valid, &d), ORCH_EJOURNAL);
        assert_non_null(strstr(d.msg, cases[i].want));
        assert_int_equal(s.n, 1);
        assert_int_equal(valid, glen);
        seen_cleanup(&s);
    }
}

/* A payload with a matching checksum that is not a JSON object was written
 * that way (a tear cannot forge the CRC): refused even on the last line. */
static void test_payload_not_object(void **state)
{
    static const char *const payloads[] = {"[1,2]", "nope", "\"s\"",
                                           "{\"a\":1,\"a\":2}", "{\"a\":"};
    char good[128];
    char bad[128];
    char buf[512];

    (void)state;
    frame(good, sizeof(good), "{\"t\":\"intent\",\"c\":0}");
    for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
        for (int at_end = 0; at_end < 2; at_end++) {
            struct seen s;
            struct orch_diag d = {{0}};
            size_t n = 0;

            frame(bad, sizeof(bad), payloads[i]);
            n = (size_t)snprintf(buf, sizeof(buf), "%s%s%s", good, bad,
                                 at_end ? "" : good);
            seen_init(&s);
            assert_int_equal(decode(buf, n, &s, NULL, &d), ORCH_EJOURNAL);
            assert_non_null(
                strstr(d.msg, "run.journal:2: payload is not a JSON object"));
            assert_int_equal(s.n, 1);
            seen_cleanup(&s);
        }
    }
}

static void test_unknown_types_passed_through(void **state)
{
    char buf[512];
    size_t n = 0;
    struct seen s;
    struct orch_diag d = {{0}};
    size_t valid = 0;

    (void)state;
    n += frame(buf + n, sizeof(buf) - n, "{\"t\":\"run\",\"v\":1}");
    n += frame(buf + n, sizeof(buf) - n,
               "{\"t\":\"reconcile\",\"c\":3,\"via\":\"ListOTAJobByDevice\"}");
    n += frame(buf + n, sizeof(buf) - n, "{\"no_type\":true}");
    n += frame(buf + n, sizeof(buf) - n, "{\"t\":\"end\",\"exit\":0}");
    seen_init(&s);
    assert_int_equal(decode(buf, n, &s, &valid, &d), 0);
    assert_int_equal(valid, n);
    assert_int_equal(s.n, 4);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(s.recs, 1), "via")),
        "ListOTAJobByDevice");
    assert_true(
        json_is_true(json_object_get(json_array_get(s.recs, 2), "no_type")));
    assert_int_equal(s.lines[3], 4);
    seen_cleanup(&s);
}

static void test_callback_stops(void **state)
{
    struct tmpdir *t = *state;
    struct seen s;
    struct orch_diag d = {{0}};
    size_t valid = 0;
    size_t len = 0;
    char *data = NULL;

    write_records(t->path, 10, 0);
    data = torture_read_file(t->path, &len);
    seen_init(&s);
    s.stop_at = 4;
    assert_int_equal(decode(data, len, &s, &valid, &d), 7);
    assert_int_equal(s.n, 4);
    /* valid_len covers the records delivered, including the stopping one. */
    assert_int_equal(valid, line_start(data, len, 5));
    seen_cleanup(&s);
    /* A NULL callback only validates. */
    assert_int_equal(
        orch_journal_decode(data, len, NULL, NULL, NULL, &valid, NULL), 0);
    assert_int_equal(valid, len);
    free(data);
}

/* The resume path: read, reopen cutting the torn tail, append: the file is
 * clean again and holds old and new records in order. */
static void test_reopen_truncates_then_appends(void **state)
{
    struct tmpdir *t = *state;
    static const char torn[] = "J1 40 1234abcd {\"t\":\"attempt\",\"c\":";
    struct orch_journal j;
    struct seen s;
    struct orch_diag d = {{0}};
    size_t valid = 0;
    size_t len = 0;
    size_t good_len = 0;
    char *data = NULL;
    FILE *f = NULL;

    write_records(t->path, 3, 0);
    data = torture_read_file(t->path, &good_len);
    free(data);
    f = fopen(t->path, "ab");
    assert_non_null(f);
    fputs(torn, f);
    fclose(f);

    seen_init(&s);
    assert_int_equal(orch_journal_read(t->path, collect, &s, &valid, &d), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(valid, good_len);
    seen_cleanup(&s);

    assert_int_equal(orch_journal_open(&j, t->path, valid, &d), 0);
    for (size_t i = 3; i < 5; i++) {
        json_t *rec = make_record(i);

        assert_int_equal(orch_journal_append(&j, rec), 0);
        json_decref(rec);
    }
    assert_int_equal(orch_journal_close(&j), 0);

    data = torture_read_file(t->path, &len);
    assert_null(strstr(data, "1234abcd"));
    seen_init(&s);
    assert_int_equal(decode(data, len, &s, &valid, &d), 0);
    assert_int_equal(valid, len);
    assert_int_equal(s.n, 5);
    for (size_t i = 0; i < 5; i++) {
        json_t *want = make_record(i);

        assert_true(json_equal(json_array_get(s.recs, i), want));
        json_decref(want);
    }
    seen_cleanup(&s);
    free(data);

    /* valid_len larger than the file: it changed under us. */
    assert_int_equal(orch_journal_open(&j, t->path, len + 1, &d), ORCH_EIO);
    assert_int_equal(j.fd, -1);
    /* (size_t)-1 keeps the file as it is. */
    assert_int_equal(orch_journal_open(&j, t->path, (size_t)-1, &d), 0);
    assert_int_equal(orch_journal_close(&j), 0);
    free(torture_read_file(t->path, &valid));
    assert_int_equal(valid, len);
}

static void test_mode_0600(void **state)
{
    struct tmpdir *t = *state;
    struct orch_journal j;
    struct orch_diag d = {{0}};
    struct stat st;
    mode_t old = umask(0);

    /* Created 0600 even with a permissive umask. */
    assert_int_equal(orch_journal_open(&j, t->path, (size_t)-1, &d), 0);
    assert_int_equal(orch_journal_close(&j), 0);
    assert_int_equal(stat(t->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    /* An existing file with a wider mode is narrowed. */
    assert_int_equal(chmod(t->path, 0644), 0);
    assert_int_equal(orch_journal_open(&j, t->path, (size_t)-1, &d), 0);
    assert_int_equal(stat(t->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(orch_journal_close(&j), 0);
    umask(old);
}

static void test_second_writer_refused(void **state)
{
    struct tmpdir *t = *state;
    struct orch_journal a;
    struct orch_journal b;
    struct orch_diag d = {{0}};

    assert_int_equal(orch_journal_open(&a, t->path, (size_t)-1, &d), 0);
    assert_int_equal(orch_journal_open(&b, t->path, (size_t)-1, &d), ORCH_EIO);
    assert_non_null(strstr(d.msg, "in use"));
    assert_int_equal(orch_journal_close(&b), 0); /* harmless after failure */
    assert_int_equal(orch_journal_close(&a), 0);
    assert_int_equal(orch_journal_open(&b, t->path, (size_t)-1, &d), 0);
    assert_int_equal(orch_journal_close(&b), 0);
}

static void test_append_contract(void **state)
{
    struct tmpdir *t = *state;
    struct orch_journal j;
    struct orch_diag d = {{0}};
    json_t *arr = json_array();
    json_t *rec = json_pack("{s:s}", "t", "end");
    size_t len = 0;
    char *data = NULL;

    assert_int_equal(orch_journal_open(&j, t->path, (size_t)-1, &d), 0);
    assert_int_equal(orch_journal_append(&j, arr), ORCH_EINVAL);
    assert_int_equal(orch_journal_append(&j, NULL), ORCH_EINVAL);
    assert_int_equal(j.records, 0);
    /* Buffered only: nothing reaches the file before sync. */
    assert_int_equal(orch_journal_append(&j, rec), 0);
    data = torture_read_file(t->path, &len);
    assert_int_equal(len, 0);
    free(data);
    assert_int_equal(orch_journal_sync(&j), 0);
    assert_int_equal(j.len, 0);
    assert_int_equal(orch_journal_sync(&j), 0); /* nothing new: no-op */
    data = torture_read_file(t->path, &len);
    /* {"t":"end"} is 11 bytes; the header is "J1 11 " + 8 hex + ' '. */
    assert_int_equal(len, 6 + 9 + 11 + 1);
    assert_memory_equal(data, "J1 11 ", 6);
    assert_memory_equal(data + 15, "{\"t\":\"end\"}\n", 12);
    free(data);
    assert_int_equal(orch_journal_close(&j), 0);
    assert_int_equal(orch_journal_close(NULL), 0);
    assert_int_equal(orch_journal_sync(NULL), ORCH_EIO);
    json_decref(arr);
    json_decref(rec);
}

/* ---- SHA-256 ----------------------------------------------------------- */

static void test_sha256(void **state)
{
    struct tmpdir *t = *state;
    struct orch_diag d = {{0}};
    char hex[65];
    char want[65];
    unsigned char md[32];
    unsigned int mdlen = 0;
    /* Larger than two 1 MiB blocks, not a multiple of one. */
    size_t big = 2 * 1024 * 1024 + 12345;
    char *data = malloc(big);

    (void)state;
    assert_non_null(data);
    torture_write_file(t->path, "abc", 3);
    assert_int_equal(orch_file_sha256(t->path, hex, &d), 0);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
                             "b00361a396177a9cb410ff61f20015ad");
    torture_write_file(t->path, "", 0);
    assert_int_equal(orch_file_sha256(t->path, hex, &d), 0);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
                             "27ae41e4649b934ca495991b7852b855");
    for (size_t i = 0; i < big; i++)
        data[i] = (char)(i * 2654435761u >> 13);
    torture_write_file(t->path, data, big);
    assert_int_equal(EVP_Digest(data, big, md, &mdlen, EVP_sha256(), NULL), 1);
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(want + 2 * i, 3, "%02x", md[i]);
    assert_int_equal(orch_file_sha256(t->path, hex, &d), 0);
    assert_string_equal(hex, want);
    free(data);
    unlink(t->path);
    assert_int_equal(orch_file_sha256(t->path, hex, &d), ORCH_EIO);
    assert_non_null(strstr(d.msg, "run.journal"));
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(test_crc32c_vectors),
    cmocka_unit_test_setup_teardown(test_round_trip, setup_tmp, teardown_tmp),
    cmocka_unit_test_setup_teardown(test_empty_and_missing, setup_tmp,
                                    teardown_tmp),
    cmocka_unit_test_setup_teardown(test_torn_last_record_every_offset,
                                    setup_tmp, teardown_tmp),
    cmocka_unit_test_setup_teardown(test_flip_in_middle_record_refused,
                                    setup_tmp, teardown_tmp),
    cmocka_unit_test_setup_teardown(test_flip_in_last_record_is_torn, setup_tmp,
                                    teardown_tmp),
    cmocka_unit_test(test_damage_messages),
    cmocka_unit_test(test_payload_not_object),
    cmocka_unit_test(test_unknown_types_passed_through),
    cmocka_unit_test_setup_teardown(test_callback_stops, setup_tmp,
                                    teardown_tmp),
    cmocka_unit_test_setup_teardown(test_reopen_truncates_then_appends,
                                    setup_tmp, teardown_tmp),
    cmocka_unit_test_setup_teardown(test_mode_0600, setup_tmp, teardown_tmp),
    cmocka_unit_test_setup_teardown(test_second_writer_refused, setup_tmp,
                                    teardown_tmp),
    cmocka_unit_test_setup_teardown(test_append_contract, setup_tmp,
                                    teardown_tmp),
    cmocka_unit_test_setup_teardown(test_sha256, setup_tmp, teardown_tmp))
