/*
 * dict.h - rs_dict_t, the one hash table of the host: byte-string keys to
 * fixed-size values, with dense ids.
 *
 * Entries get ids 0, 1, 2, ... in insertion order and never move id, so an
 * id can stand for its key elsewhere (a bigram is a pair of term ids). Keys
 * are copied into an arena the dict owns (NUL-terminated, for reports).
 * Each entry is one record: a header (hash, key offset and length, the
 * first 8 key bytes) followed by its vsize-byte value, zeroed on insertion,
 * so a lookup that hits touches one index slot and one record (plus the
 * arena only for keys longer than 8 bytes). The index is open addressing
 * with linear probing; each slot keeps 32 bits of the hash beside the id,
 * so probing past other keys reads no record. Not thread-safe: each worker
 * owns its dicts, and merging is done by one thread (stats.c).
 */
#ifndef RS_DICT_H
#define RS_DICT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct rs_dict_rec {
    uint64_t hash;
    uint64_t key_off; /* offset of the key in the arena */
    uint32_t key_len;
    uint32_t pad_;
    uint64_t head; /* the first 8 key bytes, zero-padded */
} rs_dict_rec_t;

typedef struct rs_dict {
    uint8_t *rec; /* n records of stride bytes, by id */
    size_t n, cap;
    size_t vsize, stride;
    uint64_t *index; /* mask + 1 slots: (hash >> 32) << 32 | (id + 1), or 0 */
    size_t mask;
    char *arena;
    size_t arena_len, arena_cap;
} rs_dict_t;

/* Prepares an empty dict whose values are vsize bytes. Can't fail. */
void rs_dict_init(rs_dict_t *d, size_t vsize);
void rs_dict_free(rs_dict_t *d);

/* Empties d for reuse: its memory is kept when the index has at most
 * keep_slots slots, else freed. Can't fail. */
void rs_dict_clear(rs_dict_t *d, size_t keep_slots);

/* Id of key, inserting it (value zeroed) when absent; *created tells which
 * when not NULL. hash must be rs_hash64(key, len). Returns -1 when out of
 * memory (the dict is unchanged). */
int64_t rs_dict_put(rs_dict_t *d, const void *key, size_t len, uint64_t hash, int *created);

/* Id of key, or -1 when absent. */
int64_t rs_dict_get(const rs_dict_t *d, const void *key, size_t len, uint64_t hash);

static inline rs_dict_rec_t *rs_dict_rec(const rs_dict_t *d, size_t id)
{
    return (rs_dict_rec_t *)(void *)(d->rec + id * d->stride);
}

static inline void *rs_dict_val(const rs_dict_t *d, size_t id)
{
    return d->rec + id * d->stride + sizeof(rs_dict_rec_t);
}

static inline uint64_t rs_dict_hash(const rs_dict_t *d, size_t id)
{
    return rs_dict_rec(d, id)->hash;
}

static inline const char *rs_dict_key(const rs_dict_t *d, size_t id, size_t *len)
{
    const rs_dict_rec_t *r = rs_dict_rec(d, id);
    if (len)
        *len = r->key_len;
    return d->arena + r->key_off;
}

/* A hint that hash will be looked up soon. Can't fail. */
static inline void rs_dict_prefetch(const rs_dict_t *d, uint64_t hash)
{
    if (d->index)
        __builtin_prefetch(&d->index[hash & d->mask]);
}

/* A hint that the record of hash will be read soon: reads the index slot
 * (prefetched earlier with rs_dict_prefetch) and prefetches the record of
 * the first entry there whose tag matches. Can't fail. */
static inline void rs_dict_prefetch_rec(const rs_dict_t *d, uint64_t hash)
{
    if (!d->index)
        return;
    for (size_t s = hash & d->mask;; s = (s + 1) & d->mask) {
        const uint64_t slot = d->index[s];
        if (!slot)
            return;
        if ((slot >> 32) == (hash >> 32)) {
            __builtin_prefetch(d->rec + ((slot & 0xFFFFFFFFull) - 1) * d->stride);
            return;
        }
    }
}

#endif
