/*
 * dict.h - rs_dict_t, the one hash table of the host: byte-string keys to
 * fixed-size values, with dense ids.
 *
 * Entries get ids 0, 1, 2, ... in insertion order and never move id, so an
 * id can stand for its key elsewhere (a bigram is a pair of term ids). Keys
 * are copied into an arena the dict owns; values live in one array of
 * vsize-byte slots, zeroed on insertion. Lookup is open addressing with
 * linear probing over a power-of-two index of ids, keyed by rs_hash64.
 * Not thread-safe: each worker owns its dicts, and merging is done by one
 * thread (stats.c).
 */
#ifndef RS_DICT_H
#define RS_DICT_H

#include <stddef.h>
#include <stdint.h>

typedef struct rs_dict_entry {
    uint64_t hash;
    uint64_t key_off; /* offset of the key in the arena */
    uint32_t key_len;
    uint32_t pad_;
} rs_dict_entry_t;

typedef struct rs_dict {
    rs_dict_entry_t *ent; /* n entries, by id */
    uint8_t *val;         /* n * vsize bytes, by id */
    size_t n, cap;
    size_t vsize;
    uint32_t *index; /* mask + 1 slots: id + 1, or 0 when empty */
    size_t mask;
    char *arena;
    size_t arena_len, arena_cap;
} rs_dict_t;

/* Prepares an empty dict whose values are vsize bytes. Can't fail. */
void rs_dict_init(rs_dict_t *d, size_t vsize);
void rs_dict_free(rs_dict_t *d);

/* Id of key, inserting it (value zeroed) when absent; *created tells which
 * when not NULL. hash must be rs_hash64(key, len). Returns -1 when out of
 * memory (the dict is unchanged). */
int64_t rs_dict_put(rs_dict_t *d, const void *key, size_t len, uint64_t hash, int *created);

/* Id of key, or -1 when absent. */
int64_t rs_dict_get(const rs_dict_t *d, const void *key, size_t len, uint64_t hash);

static inline void *rs_dict_val(const rs_dict_t *d, size_t id)
{
    return d->val + id * d->vsize;
}

static inline const char *rs_dict_key(const rs_dict_t *d, size_t id, size_t *len)
{
    if (len)
        *len = d->ent[id].key_len;
    return d->arena + d->ent[id].key_off;
}

#endif
