/* emu_hash.h - ota-emulator's hashing and seeded draws: one FNV-1a string
 * hash and one splitmix64 generator for the whole emulator (hash maps,
 * the nonce cache, ids, simulated outcomes, fault plans, request ids).
 *
 * Pure functions, thread-safe. Every draw is a function of its inputs,
 * so the same seed replays the same ids, outcomes and faults.
 */
#ifndef EMU_HASH_H
#define EMU_HASH_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a of s[0..len), finished with emu_mix64 (so the low bits, which
 * pick a hash table's slot, depend on every byte). */
uint64_t emu_hash(const char *s, size_t len);

/* The splitmix64 finalizer of x + 0x9E3779B97F4A7C15: a bijective mix,
 * the output of one splitmix64 step from state x. */
uint64_t emu_mix64(uint64_t x);

/* One splitmix64 step: returns the next draw and advances *state. */
uint64_t emu_splitmix64(uint64_t *state);

/* A draw's top 53 bits as a double, uniform in [0, 1). */
double emu_unit(uint64_t draw);

/* emu_unit(emu_splitmix64(state)). */
double emu_next_unit(uint64_t *state);

#endif
