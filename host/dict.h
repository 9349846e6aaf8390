/*
 * dict.h - rs_dict_t, the one hash table of the host: byte-string keys to
 * fixed-size values, with dense ids.
 *
 * Entries get ids 0, 1, 2, ... in insertion order and never move id, so an
 * id can stand for its key elsewhere (a bigram is a pair of term ids). Keys
 * are copied into an arena the dict owns (NUL-terminated, for reports).
 * Each entry is one record: a header (hash, key offset and length, the
 * first 16 key bytes) followed by its vsize-byte value, zeroed on
 * insertion; records are 64-byte aligned, so a term's (40 + 24 bytes) is
 * one cache line, and a lookup that hits touches one index slot and one
 * record (plus the arena only for keys longer than 16 bytes). The index is
 * open addressing with linear probing; each slot keeps 32 bits of the hash
 * beside the id, so probing past other keys reads no record. A key is
 * compared by its length and its first 16 bytes (two words), and only
 * longer keys with memcmp. Lookups are inline (a hit,
 * the common case of counting, makes no call); inserting is not. Not
 * thread-safe: each worker owns its dicts, and merging is done by one
 * thread (stats.c).
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
    uint64_t tail; /* the next 8 (bytes 8 to 15), zero-padded; 0 up to 8 */
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
/* n zeroed elements of sz bytes, for a table's slots; NULL when out of
 * memory. Unlike calloc, which leaves fresh pages unwritten, it writes
 * every byte: an unwritten page is first mapped to the kernel's zero page
 * when read, and a rehash reads a slot before writing it, so each page
 * then faults twice, and the second fault (replacing the zero page) makes
 * the kernel flush the page from every CPU the process runs on, an
 * interrupt to each (costly in a VM: 15% of the samples of a -j 2 scan on
 * the podcast corpus, bench/RESULTS.md). Written first, a page faults once
 * and nothing is flushed. */
void *rs_dict_zalloc(size_t n, size_t sz);

void rs_dict_init(rs_dict_t *d, size_t vsize);
void rs_dict_free(rs_dict_t *d);

/* Empties d for reuse: its memory is kept when the index has at most
 * keep_slots slots, else freed. Can't fail. */
void rs_dict_clear(rs_dict_t *d, size_t keep_slots);

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

/* The rest of this header up to rs_dict_put is its inline part: a lookup
 * that hits makes no call. */

static inline uint64_t rs_dict_le64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

static inline uint32_t rs_dict_le32(const uint8_t *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap32(w);
#endif
    return w;
}

static inline uint16_t rs_dict_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* The first min(len, 8) key bytes as a little-endian word, zero above
 * them: whole-word loads that stay inside the key (two overlapping ones
 * below 8 bytes), no byte loop. */
static inline uint64_t rs_dict_head(const void *key, size_t len)
{
    const uint8_t *p = (const uint8_t *)key;
    if (len >= 8)
        return rs_dict_le64(p);
    if (len >= 4)
        return rs_dict_le32(p) | (uint64_t)rs_dict_le32(p + len - 4) << (8 * (len - 4));
    if (len >= 2)
        return rs_dict_le16(p) | (uint64_t)p[len - 1] << (8 * (len - 1));
    return len ? p[0] : 0;
}

/* Key bytes 8 to 15 as a little-endian word, zero above them; 0 when len
 * <= 8. */
static inline uint64_t rs_dict_tail(const void *key, size_t len)
{
    return len > 8 ? rs_dict_head((const uint8_t *)key + 8, len < 16 ? len - 8 : 8) : 0;
}

/* rs_dict_head of a key followed by at least 8 - len readable bytes (key +
 * 8 <= end), as in a token buffer with slack after its last token: one
 * load, masked, with no branch on the length (token lengths are random,
 * and rs_dict_head's branches on them were mispredicted about every other
 * token). Otherwise rs_dict_head. */
static inline uint64_t rs_dict_head_in(const void *key, size_t len, const void *end)
{
    const uint8_t *p = (const uint8_t *)key;
    if ((const uint8_t *)end - p < 8) /* signed: end may lie before p */
        return rs_dict_head(key, len);
    const uint64_t keep = len >= 8 ? ~0ULL : ~(~0ULL << (8 * (len & 7)));
    return rs_dict_le64(p) & keep;
}

/* rs_dict_tail the same way, for a key with 16 bytes readable (key + 16 <=
 * end). Otherwise rs_dict_tail. */
static inline uint64_t rs_dict_tail_in(const void *key, size_t len, const void *end)
{
    const uint8_t *p = (const uint8_t *)key;
    if ((const uint8_t *)end - p < 16) /* signed: end may lie before p */
        return rs_dict_tail(key, len);
    const uint64_t part = len > 8 ? ~(~0ULL << (8 * (len & 7))) : 0;
    const uint64_t keep = len >= 16 ? ~0ULL : part;
    return rs_dict_le64(p + 8) & keep;
}

/* rs_dict_get with the key's first 16 bytes given (rs_dict_head and
 * rs_dict_tail, or their _in forms). */
static inline int64_t rs_dict_find(const rs_dict_t *d, const void *key, size_t len, uint64_t hash, uint64_t head,
                                   uint64_t tail)
{
    if (!d->index)
        return -1;
    for (size_t s = hash & d->mask;; s = (s + 1) & d->mask) {
        const uint64_t slot = d->index[s];
        if (!slot)
            return -1;
        if ((slot ^ hash) > 0xFFFFFFFFull) /* another tag */
            continue;
        const size_t id = (size_t)(slot & 0xFFFFFFFFull) - 1;
        const rs_dict_rec_t *r = rs_dict_rec(d, id);
        /* the hash need not be compared: equal keys have equal hashes */
        if (((r->head ^ head) | (r->tail ^ tail) | (r->key_len ^ len)) == 0
            && (len <= 16 || memcmp(d->arena + r->key_off + 16, (const uint8_t *)key + 16, len - 16) == 0))
            return (int64_t)id;
    }
}

/* Id of key, or -1 when absent. */
static inline int64_t rs_dict_get(const rs_dict_t *d, const void *key, size_t len, uint64_t hash)
{
    return rs_dict_find(d, key, len, hash, rs_dict_head(key, len), rs_dict_tail(key, len));
}

/* The same for a key with readable bytes up to end (rs_dict_head_in). */
static inline int64_t rs_dict_get_in(const rs_dict_t *d, const void *key, size_t len, uint64_t hash, const void *end)
{
    return rs_dict_find(d, key, len, hash, rs_dict_head_in(key, len, end), rs_dict_tail_in(key, len, end));
}

/* rs_dict_put for a key that is absent: its out-of-line part. */
int64_t rs_dict_insert(rs_dict_t *d, const void *key, size_t len, uint64_t hash, int *created);

/* Id of key, inserting it (value zeroed) when absent; *created tells which
 * when not NULL. hash must be rs_hash64(key, len). Returns -1 when out of
 * memory (the dict is unchanged). */
static inline int64_t rs_dict_put(rs_dict_t *d, const void *key, size_t len, uint64_t hash, int *created)
{
    const int64_t found = rs_dict_get(d, key, len, hash);
    if (found >= 0) {
        if (created)
            *created = 0;
        return found;
    }
    return rs_dict_insert(d, key, len, hash, created);
}

/* rs_dict_put for a key with readable bytes up to end (rs_dict_head_in):
 * for tokens in a buffer of known capacity, the counting loops. */
static inline int64_t rs_dict_put_in(rs_dict_t *d, const void *key, size_t len, uint64_t hash, const void *end,
                                     int *created)
{
    const int64_t found = rs_dict_get_in(d, key, len, hash, end);
    if (found >= 0) {
        if (created)
            *created = 0;
        return found;
    }
    return rs_dict_insert(d, key, len, hash, created);
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
