/* test_emu_mint.c - the emulator's minted keys: shape, lookup, the
 * account root through a chain, expiry times, IMDSv2 session tokens, the
 * stats (no secret in them), the test-only list of every secret. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "world/emu_mint.h"

#include "../emu_test.h"

#include <stdlib.h>
#include <string.h>

static void issue_and_lookup(void **state)
{
    struct emu_mint *m = emu_mint_new();
    struct emu_minted a, b, got;

    (void)state;
    assert_non_null(m);
    assert_int_equal(emu_mint_issue(m, "LTAIroot", "AssumeRole", NOW, HOUR,
                                    &a),
                     0);
    assert_int_equal(strncmp(a.id, "STS.", 4), 0);
    assert_int_equal(strlen(a.id), 28);
    assert_true(strlen(a.secret) >= 20);
    assert_int_equal(strncmp(a.token, "CAIS", 4), 0);
    assert_int_equal(a.expires_ms, NOW + HOUR);
    assert_string_equal(a.root, "LTAIroot");
    /* Minted by a minted key: the same account. */
    assert_int_equal(emu_mint_issue(m, a.id, "AssumeRole", NOW, 2000, &b), 0);
    assert_string_equal(b.root, "LTAIroot");
    assert_string_not_equal(a.id, b.id);
    assert_string_not_equal(a.secret, b.secret);
    assert_true(emu_mint_lookup(m, b.id, &got));
    assert_string_equal(got.secret, b.secret);
    assert_string_equal(got.token, b.token);
    assert_int_equal(got.expires_ms, NOW + 2000);
    assert_false(emu_mint_lookup(m, "STS.nosuchkey", &got));
    assert_false(emu_mint_lookup(m, "LTAIroot", &got));
    emu_mint_free(m);
}

static void session_tokens(void **state)
{
    struct emu_mint *m = emu_mint_new();
    char tok[48];

    (void)state;
    assert_int_equal(emu_mint_session_token(m, NOW, 60, tok), 0);
    assert_true(emu_mint_session_valid(m, tok, NOW + 59999));
    assert_false(emu_mint_session_valid(m, tok, NOW + 60000));
    assert_false(emu_mint_session_valid(m, "forged", NOW));
    emu_mint_free(m);
}

static void stats_count_without_secrets(void **state)
{
    struct emu_mint *m = emu_mint_new();
    struct emu_minted a, b;
    json_t *st = NULL, *ka = NULL;
    char *text = NULL;

    (void)state;
    emu_mint_issue(m, "LTAIroot", "CredentialsURI", NOW, HOUR, &a);
    emu_mint_issue(m, "LTAIroot", "EcsMetadata", NOW, HOUR, &b);
    emu_mint_count_call(m, a.id);
    emu_mint_count_call(m, a.id);
    emu_mint_count_expired(m, b.id);
    st = emu_mint_stats(m);
    assert_int_equal(json_integer_value(json_object_get(st, "minted")), 2);
    assert_int_equal(
        json_integer_value(json_object_get(st, "expired_refused")), 1);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(st, "by_kind"), "EcsMetadata")),
                     1);
    ka = json_object_get(json_object_get(st, "keys"), a.id);
    assert_int_equal(json_integer_value(json_object_get(ka, "calls")), 2);
    assert_string_equal(json_string_value(json_object_get(ka, "root")),
                        "LTAIroot");
    text = json_dumps(st, 0);
    assert_null(strstr(text, a.secret));
    assert_null(strstr(text, a.token));
    free(text);
    json_decref(st);
    emu_mint_free(m);
}

/* What tests read from GET /__emu/minted: every key with its secret and
 * token, in minting order, and the session tokens. */
static void reveal_lists_every_secret(void **state)
{
    struct emu_mint *m = emu_mint_new();
    struct emu_minted a, b;
    char tok[48];
    json_t *all = NULL, *keys = NULL, *k = NULL, *sessions = NULL;

    (void)state;
    all = emu_mint_reveal(m);
    assert_int_equal(json_array_size(json_object_get(all, "keys")), 0);
    assert_int_equal(json_array_size(json_object_get(all, "sessions")), 0);
    json_decref(all);
    emu_mint_issue(m, "LTAIroot", "AssumeRole", NOW, HOUR, &a);
    emu_mint_issue(m, "LTAIroot", "CredentialsURI", NOW, HOUR, &b);
    emu_mint_session_token(m, NOW, 60, tok);
    all = emu_mint_reveal(m);
    keys = json_object_get(all, "keys");
    assert_int_equal(json_array_size(keys), 2);
    k = json_array_get(keys, 1);
    assert_string_equal(json_string_value(json_object_get(k, "id")), b.id);
    assert_string_equal(json_string_value(json_object_get(k, "secret")),
                        b.secret);
    assert_string_equal(json_string_value(json_object_get(k, "token")),
                        b.token);
    assert_string_equal(json_string_value(json_object_get(k, "kind")),
                        "CredentialsURI");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(keys, 0), "secret")),
                        a.secret);
    sessions = json_object_get(all, "sessions");
    assert_int_equal(json_array_size(sessions), 1);
    assert_string_equal(json_string_value(json_array_get(sessions, 0)), tok);
    json_decref(all);
    emu_mint_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(issue_and_lookup),
        cmocka_unit_test(session_tokens),
        cmocka_unit_test(stats_count_without_secrets),
        cmocka_unit_test(reveal_lists_every_secret),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
