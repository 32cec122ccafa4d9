/* emu_store.h - the storage under ota-emulator's world: a string-keyed
 * open-addressing hash map, a bump allocator (slab) for the entities
 * that live as long as the world, and a growable pointer vector.
 *
 * None of them locks: the world's mutex guards them (see emu_model.h).
 * Big tables and slab chunks come from mmap: a benchmark world auto-
 * creates a million devices, and one calloc and a few page faults each
 * were a fifth of the emulator's CPU.
 */
#ifndef EMU_STORE_H
#define EMU_STORE_H

#include <stddef.h>
#include <stdint.h>

/* String-keyed open-addressing hash map (linear probing, load factor at
 * most 1/2). Keys are borrowed: they must live as long as their entry
 * (they usually live in the value). Zero-initialized is empty. */
struct emu_map_ent {
    uint64_t hash;
    const char *key; /* NULL: empty slot */
    void *val;
};

struct emu_map {
    struct emu_map_ent *v;
    size_t cap; /* power of two, or 0 */
    size_t n;
};

/* The value stored under key, or NULL. */
void *emu_map_get(const struct emu_map *m, const char *key);
/* The same with the key's emu_hash() already computed. */
void *emu_map_get_h(const struct emu_map *m, const char *key, uint64_t h);
/* Adds key -> val (the key must not be there yet). 0 or ORCH_ENOMEM. */
int emu_map_put(struct emu_map *m, const char *key, void *val);
int emu_map_put_h(struct emu_map *m, const char *key, uint64_t h, void *val);
/* Makes room for n entries without rehashing. 0 or ORCH_ENOMEM. */
int emu_map_reserve(struct emu_map *m, size_t n);
/* Prefetches the slot where a lookup of hash h starts. */
void emu_map_prefetch(const struct emu_map *m, uint64_t h);
/* Frees the table (not the keys or values) and empties m. */
void emu_map_cleanup(struct emu_map *m);

/* One chunk of the slab; the memory handed out follows the header. */
struct emu_slab_chunk {
    struct emu_slab_chunk *next;
    size_t bytes; /* the whole chunk, header included */
};

/* A bump allocator of big zeroed chunks. Zero-initialized is empty. */
struct emu_slab {
    struct emu_slab_chunk *chunks;
    char *cur;        /* next free byte of chunks (the newest) */
    size_t left;      /* bytes free there */
    size_t next_size; /* size of the next chunk (doubles up to a cap) */
};

/* `bytes` of zeroed memory, 16-byte aligned, that lives until
 * emu_slab_cleanup() (there is no way to free it sooner). NULL on
 * ENOMEM. */
void *emu_slab_alloc(struct emu_slab *sl, size_t bytes);
/* Frees every chunk and empties sl. */
void emu_slab_cleanup(struct emu_slab *sl);

/* Appends p to the pointer vector (*v, *n, *cap), growing it. 0 or
 * ORCH_ENOMEM (the vector unchanged). */
int emu_vec_push(void ***v, size_t *n, size_t *cap, void *p);

#endif
