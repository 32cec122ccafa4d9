/* emu_mint.h - the temporary credentials ota-emulator hands out: what its
 * STS (AssumeRole, AssumeRoleWithOIDC), its credentials URI and its ECS
 * metadata service mint, and the IMDSv2 session tokens.
 *
 * A minted key is "STS." + 24 characters, with a secret and a
 * SecurityToken, an expiry on the emulator's clock, the kind that minted
 * it, and the account key it belongs to (`root`: the permanent
 * --access-key whose quota its calls count against; a key minted by
 * AssumeRole signed with a temporary key has that key's root). It counts
 * the API calls made with it. Keys are never forgotten (a run mints a few
 * dozen). Thread-safe: one mutex.
 */
#ifndef EMU_MINT_H
#define EMU_MINT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct emu_mint;

/* A minted key as handed out and as looked up (copies). */
struct emu_minted {
    char id[32];
    char secret[48];
    char token[160];
    char root[128];      /* the account key its calls count against */
    char kind[32];       /* "AssumeRole", "AssumeRoleWithOIDC",
                            "CredentialsURI", "EcsMetadata" */
    int64_t expires_ms;  /* emulator clock */
    int64_t minted_ms;
};

/* Returns an empty registry, or NULL. */
struct emu_mint *emu_mint_new(void);
/* Wipes and frees; NULL-safe. */
void emu_mint_free(struct emu_mint *m);

/* Mints a key of `kind` for the account of `minter` (a permanent key id,
 * or a minted one: its root is taken) that expires ttl_ms after now_ms.
 * Returns 0 with *out, or ORCH_ENOMEM / ORCH_ESIGN (no randomness). */
int emu_mint_issue(struct emu_mint *m, const char *minter, const char *kind,
                   int64_t now_ms, int64_t ttl_ms, struct emu_minted *out);
/* Copies the minted key `id` into *out: true when found. */
bool emu_mint_lookup(struct emu_mint *m, const char *id,
                     struct emu_minted *out);
/* Counts an authenticated API call signed with minted key `id`. */
void emu_mint_count_call(struct emu_mint *m, const char *id);
/* Counts a call refused because key `id` had expired. */
void emu_mint_count_expired(struct emu_mint *m, const char *id);

/* A new IMDSv2 session token valid for ttl_s seconds from now_ms, into
 * out[48]. Returns 0 or ORCH_ESIGN / ORCH_ENOMEM. */
int emu_mint_session_token(struct emu_mint *m, int64_t now_ms, long ttl_s,
                           char out[48]);
/* True when `token` is a session token still valid at now_ms. */
bool emu_mint_session_valid(struct emu_mint *m, const char *token,
                            int64_t now_ms);

/* {"minted":N, "by_kind":{"AssumeRole":N,..}, "expired_refused":N,
 *  "keys":{"STS.x":{"kind","root","calls","expires_ms"},..}}
 * (new reference, NULL on ENOMEM). No secret in it. */
json_t *emu_mint_stats(struct emu_mint *m);

/* Every secret the registry handed out, for tests that search a tool's
 * outputs for them: {"keys":[{"id","secret","token","kind"},..],
 * "sessions":[IMDSv2 session token,..]} (new reference, NULL on ENOMEM).
 * Served only as GET /__emu/minted: the emulator is a test tool. */
json_t *emu_mint_reveal(struct emu_mint *m);

#endif
