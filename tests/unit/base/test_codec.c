/* test_codec.c - percent-encoding, hex, Base64, SHA-256, HMAC, nonces. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "orch/base/buf.h"
#include "orch/base/codec.h"
#include "orch/base/err.h"
#include "torture.h"

#include <string.h>

static void check_encode(const char *in, const char *want)
{
    struct orch_buf b;

    orch_buf_init(&b);
    assert_int_equal(orch_percent_encode(&b, in, strlen(in)), 0);
    assert_string_equal(orch_buf_str(&b), want);
    assert_int_equal(b.len, strlen(want));
    orch_buf_cleanup(&b);
}

static void test_encode_rfc3986(void **state)
{
    (void)state;
    check_encode("", "");
    check_encode("with space", "with%20space");
    check_encode("star*x", "star%2Ax");
    check_encode("tilde~x", "tilde~x");
    check_encode("plus+x", "plus%2Bx");
    check_encode("slash/x", "slash%2Fx");
    check_encode("a:b@c", "a%3Ab%40c");
    check_encode("bang!q'p(x)", "bang%21q%27p%28x%29");
    check_encode("=&?#%", "%3D%26%3F%23%25");
    check_encode("设备-001", "%E8%AE%BE%E5%A4%87-001");
    check_encode("Gerät", "Ger%C3%A4t");
    check_encode("2025-01-02T03:04:05Z", "2025-01-02T03%3A04%3A05Z");
    check_encode("ABCXYZabcxyz0189-_.~", "ABCXYZabcxyz0189-_.~");
    check_encode("\x7f\x80\xff\n", "%7F%80%FF%0A");
}

/* Every byte, one at a time and all together, with NUL included. */
static void test_every_byte_round_trip(void **state)
{
    unsigned char all[256];
    struct orch_buf enc;
    struct orch_buf dec;
    int c = 0;

    (void)state;
    orch_buf_init(&enc);
    orch_buf_init(&dec);
    for (c = 0; c < 256; c++) {
        unsigned char ch = (unsigned char)c;
        int keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                   (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
                   c == '~';
        char want[4];

        all[c] = ch;
        orch_buf_reset(&enc);
        assert_int_equal(orch_percent_encode(&enc, (char *)&ch, 1), 0);
        if (keep) {
            want[0] = (char)c;
            want[1] = '\0';
        } else {
            want[0] = '%';
            want[1] = "0123456789ABCDEF"[c >> 4];
            want[2] = "0123456789ABCDEF"[c & 15];
            want[3] = '\0';
        }
        assert_string_equal(orch_buf_str(&enc), want);
        orch_buf_reset(&dec);
        assert_int_equal(orch_percent_decode(&dec, enc.data, enc.len, 0), 0);
        assert_int_equal(dec.len, 1);
        assert_int_equal((unsigned char)dec.data[0], ch);
    }
    orch_buf_reset(&enc);
    orch_buf_reset(&dec);
    assert_int_equal(orch_percent_encode(&enc, (char *)all, sizeof(all)), 0);
    assert_int_equal(orch_percent_decode(&dec, enc.data, enc.len, 1), 0);
    assert_int_equal(dec.len, sizeof(all));
    assert_memory_equal(dec.data, all, sizeof(all));
    orch_buf_cleanup(&enc);
    orch_buf_cleanup(&dec);
}

static void test_encode_appends(void **state)
{
    struct orch_buf b;

    (void)state;
    orch_buf_init(&b);
    assert_int_equal(orch_buf_puts(&b, "k="), 0);
    assert_int_equal(orch_percent_encode(&b, "a b", 3), 0);
    /* Only len bytes are read, not up to the NUL. */
    assert_int_equal(orch_percent_encode(&b, "/xyz", 1), 0);
    assert_string_equal(orch_buf_str(&b), "k=a%20b%2F");
    orch_buf_cleanup(&b);
}

static void check_decode(const char *in, int plus, const char *want)
{
    struct orch_buf b;

    orch_buf_init(&b);
    assert_int_equal(orch_percent_decode(&b, in, strlen(in), plus), 0);
    assert_string_equal(orch_buf_str(&b), want);
    orch_buf_cleanup(&b);
}

static void test_decode(void **state)
{
    (void)state;
    check_decode("", 0, "");
    check_decode("a%20b", 0, "a b");
    check_decode("a+b", 1, "a b");
    check_decode("a+b", 0, "a+b");
    check_decode("a%2Bb", 1, "a+b");
    check_decode("%2a%2A%7e~", 0, "**~~");
    check_decode("%E8%AE%BE%e5%a4%87", 0, "设备");
    check_decode("plain.text-_~", 0, "plain.text-_~");
}

static void test_decode_errors(void **state)
{
    static const char *const bad[] = {
        "%", "%2", "abc%", "abc%4", "%G1", "%1G", "%zz", "a%%20", "%-1", "% 1",
    };
    struct orch_buf b;
    size_t i = 0;

    (void)state;
    orch_buf_init(&b);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(orch_buf_puts(&b, "keep"), 0);
        assert_int_equal(orch_percent_decode(&b, bad[i], strlen(bad[i]), 1),
                         ORCH_EINVAL);
        /* The buffer is left as it was. */
        assert_string_equal(orch_buf_str(&b), "keep");
        assert_int_equal(b.len, 4);
        orch_buf_reset(&b);
    }
    /* A '%' escape cut by len is an error even if the string goes on. */
    assert_int_equal(orch_percent_decode(&b, "%41", 2, 0), ORCH_EINVAL);
    orch_buf_cleanup(&b);
}

static void test_hex_and_base64(void **state)
{
    static const struct {
        const char *in;
        const char *b64;
    } rfc4648[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    const unsigned char bytes[] = {0x00, 0x0f, 0xa5, 0xff};
    const unsigned char hi[] = {0xfb, 0xff, 0xbf};
    char out[64];
    size_t i = 0;

    (void)state;
    assert_int_equal(orch_hex_digit('0'), 0);
    assert_int_equal(orch_hex_digit('9'), 9);
    assert_int_equal(orch_hex_digit('a'), 10);
    assert_int_equal(orch_hex_digit('F'), 15);
    assert_int_equal(orch_hex_digit('g'), -1);
    assert_int_equal(orch_hex_digit('/'), -1);
    assert_int_equal(orch_hex_digit(0xC3), -1);
    orch_hex_encode(out, bytes, sizeof(bytes));
    assert_string_equal(out, "000fa5ff");
    orch_hex_encode(out, bytes, 0);
    assert_string_equal(out, "");
    for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        orch_base64_encode(out, (const unsigned char *)rfc4648[i].in,
                           strlen(rfc4648[i].in));
        assert_string_equal(out, rfc4648[i].b64);
    }
    /* The '+' and '/' of the standard alphabet. */
    orch_base64_encode(out, hi, sizeof(hi));
    assert_string_equal(out, "+/+/");
}

static void test_digests(void **state)
{
    unsigned char mac1[20];
    unsigned char mac256[32];
    char hex[65];

    (void)state;
    assert_int_equal(orch_sha256_hex(hex, "", 0), 0);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934"
                             "ca495991b7852b855");
    assert_int_equal(orch_sha256_hex(hex, "abc", 3), 0);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9"
                             "cb410ff61f20015ad");
    /* RFC 2202 test case 2 and RFC 4231 test case 2. */
    assert_int_equal(
        orch_hmac_sha1(mac1, "Jefe", 4, "what do ya want for nothing?", 28), 0);
    orch_hex_encode(hex, mac1, sizeof(mac1));
    assert_string_equal(hex, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    assert_int_equal(
        orch_hmac_sha256(mac256, "Jefe", 4, "what do ya want for nothing?", 28),
        0);
    orch_hex_encode(hex, mac256, sizeof(mac256));
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d27398"
                             "39dec58b964ec3843");
    /* Empty key and message are valid HMAC inputs. */
    assert_int_equal(orch_hmac_sha256(mac256, "", 0, "", 0), 0);
    orch_hex_encode(hex, mac256, sizeof(mac256));
    assert_string_equal(hex, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653"
                             "c6c712144292c5ad");
}

static void test_random_nonce(void **state)
{
    char a[33];
    char b[33];
    size_t i = 0;

    (void)state;
    assert_int_equal(orch_random_nonce(a), 0);
    assert_int_equal(orch_random_nonce(b), 0);
    assert_int_equal(strlen(a), 32);
    for (i = 0; i < 32; i++)
        assert_non_null(strchr("0123456789abcdef", a[i]));
    assert_string_not_equal(a, b);
}

static void test_str_equal_ct(void **state)
{
    (void)state;
    assert_true(orch_str_equal_ct("", ""));
    assert_true(orch_str_equal_ct("abc", "abc"));
    assert_false(orch_str_equal_ct("abc", "abd"));
    assert_false(orch_str_equal_ct("abc", "ab"));
    assert_false(orch_str_equal_ct("", "a"));
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(test_encode_rfc3986),
    cmocka_unit_test(test_every_byte_round_trip),
    cmocka_unit_test(test_encode_appends),
    cmocka_unit_test(test_decode),
    cmocka_unit_test(test_decode_errors),
    cmocka_unit_test(test_hex_and_base64),
    cmocka_unit_test(test_digests),
    cmocka_unit_test(test_random_nonce),
    cmocka_unit_test(test_str_equal_ct))
