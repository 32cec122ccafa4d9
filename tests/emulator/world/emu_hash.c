/* emu_hash.c - FNV-1a string hashing and the splitmix64 generator. */
#include "world/emu_hash.h"

#define GOLDEN 0x9E3779B97F4A7C15ULL

uint64_t emu_hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    size_t i = 0;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return emu_mix64(h);
}

uint64_t emu_mix64(uint64_t x)
{
    x += GOLDEN;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

uint64_t emu_splitmix64(uint64_t *state)
{
    uint64_t z = emu_mix64(*state);

    *state += GOLDEN;
    return z;
}

double emu_unit(uint64_t draw)
{
    return (double)(draw >> 11) * (1.0 / 9007199254740992.0);
}

double emu_next_unit(uint64_t *state)
{
    return emu_unit(emu_splitmix64(state));
}
