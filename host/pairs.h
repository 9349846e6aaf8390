/*
 * pairs.h - rs_pairs_t, exact counts of 64-bit keys in a compact hash table:
 * the bigrams of rs_stats_t (a key is two uint32 term ids in memory order),
 * which outnumber every other table of a scan by far (tens of millions of
 * distinct pairs in a few GB of text).
 *
 * Each slot is the key and a 32-bit count, 12 bytes, with no id, hash or
 * key arena beside it (rs_dict_t spends about 70 bytes an entry); a count
 * of 0 marks an empty slot, and RS_PAIRS_BIG one whose count has outgrown
 * 32 bits and lives in a side table (rare: a pair seen 4 billion times).
 * The table is cut into RS_PAIRS_PARTS parts by the top 8 bits of the
 * hash, each an open-addressing table with linear probing that grows when
 * 85% full, so one part at a time is rehashed (a growth never needs twice
 * the table's memory). A part doubles up to 8192 slots and grows by a third
 * past that, so in a large table the slots in use stay between 64% and 85%
 * of those allocated: 14 to 19 bytes a key. Bigrams are put in parts by
 * their terms' hashes (rs_pairs_bigram_hash), not their ids, so two tables
 * merge part by part.
 *
 * Adding is inline for the two common cases, a key already there and a
 * key that a part has room for (one probe run, no call); a part that must
 * grow, and a count past 32 bits, take rs_pairs_add_slow. A probe step is
 * one 64-bit compare of the key and a test of the count.
 *
 * Slot order depends on the order keys were added: callers that need an
 * order (reports) sort. Not thread-safe: one thread at a time per table.
 */
#ifndef RS_PAIRS_H
#define RS_PAIRS_H

#include <stddef.h>
#include <stdint.h>

#include "dict.h" /* rs_dict_t */

#define RS_PAIRS_PARTS 256

#define RS_PAIRS_BIG UINT32_MAX

/* A key and its count, as the table hands them out. */
typedef struct rs_pair {
    uint64_t key;
    uint64_t count;
} rs_pair_t;

typedef struct rs_pairs_slot {
    uint32_t lo, hi; /* the key's low and high 32 bits */
    uint32_t count;  /* 0: empty; RS_PAIRS_BIG: in the part's big */
} rs_pairs_slot_t;

typedef struct rs_pairs_part {
    rs_pairs_slot_t *slot;
    uint32_t cap, n;
    uint64_t salt; /* cap * RS_PAIRS_SALT, for rs_pairs_slot_of */
    rs_dict_t *big; /* key -> uint64 count for the slots marked RS_PAIRS_BIG; NULL until one is */
} rs_pairs_part_t;

#define RS_PAIRS_SALT 0x9E3779B97F4A7C15ull

typedef struct rs_pairs {
    rs_pairs_part_t part[RS_PAIRS_PARTS];
    size_t n; /* keys held */
} rs_pairs_t;

/* An empty table (allocates nothing). Can't fail. */
void rs_pairs_init(rs_pairs_t *p);
void rs_pairs_free(rs_pairs_t *p);

/* Empties p for reuse, keeping the memory of parts of at most
 * keep_slots / RS_PAIRS_PARTS slots. Can't fail. */
void rs_pairs_clear(rs_pairs_t *p, size_t keep_slots);

/* A hash of key for the calls below (inline: it is computed once per
 * token, and again per key when a part grows): one multiply, and its high
 * half folded into its low half, so that the low 32 bits (a slot, which
 * rs_pairs_slot_of mixes once more) depend on both of the key's terms. Any
 * hash does, as long as its low 32 bits are this one's: a part that grows
 * recomputes them from the key. It need not match anything outside this
 * table (the tokenizer's rs_hash64 must, on every backend). */
static inline uint64_t rs_pairs_hash(uint64_t key)
{
    const uint64_t h = key * 0x9E3779B97F4A7C15ull;
    return h ^ h >> 32;
}

/* The hash under which the bigram key of two terms is counted, given the
 * terms' own hashes ha and hb (rs_dict_hash of each). Its low 32 bits, a
 * key's slot in its part, are rs_pairs_hash(key)'s, which a part that grows
 * recomputes from the key alone; its top 8 bits, the part, come from the
 * terms' hashes, which are the same in every table. So a bigram lands in
 * the same part of every table whatever ids its terms have there, and
 * tables merge part by part (rs_pairs_merge). */
static inline uint64_t rs_pairs_bigram_hash(uint64_t key, uint64_t ha, uint64_t hb)
{
    const uint64_t part = ((ha ^ hb * 0x9E3779B97F4A7C15ull) * 0xD6E8FEB86659FD93ull) >> 56;
    return (rs_pairs_hash(key) & 0x00FFFFFFFFFFFFFFull) | part << 56;
}

/* rs_pairs_add for what its inline part does not do: a key to insert into
 * a part that must grow first, a count that passes 32 bits. */
int rs_pairs_add_slow(rs_pairs_t *p, uint64_t key, uint64_t hash, uint64_t n);

/* key's count, 0 when absent. */
uint64_t rs_pairs_get(const rs_pairs_t *p, uint64_t key, uint64_t hash);

static inline rs_pairs_part_t *rs_pairs_part_of(const rs_pairs_t *p, uint64_t hash)
{
    return (rs_pairs_part_t *)&p->part[hash >> 56];
}

/* A key's home slot: the low 32 bits of the hash, mixed with the part's
 * size, scaled to it. The mixing keeps a key's place in a part of one size
 * unrelated to its place in a part of another: a table walked in slot order
 * and added to a smaller one (a state read back, a merge, a growth) would
 * otherwise fill it in order, in ever longer runs of probes. */
static inline size_t rs_pairs_slot_of(const rs_pairs_part_t *q, uint64_t hash)
{
    const uint64_t h = ((hash & 0xFFFFFFFFull) ^ q->salt) * 0xD6E8FEB86659FD93ull;
    return (size_t)(((h >> 32) * q->cap) >> 32);
}

/* The slot of part q (q->cap > 0) that holds key, or else the empty slot
 * where a linear probe from its home ends (there always is one: a part is
 * at most 85% full). _at: from slot, the home (rs_pairs_slot_of). */
static inline rs_pairs_slot_t *rs_pairs_probe_at(const rs_pairs_part_t *q, uint64_t key, size_t slot)
{
    rs_pairs_slot_t *e = &q->slot[slot], *const end = q->slot + q->cap;
    for (;;) {
        uint64_t k; /* lo and hi in one compare */
        __builtin_memcpy(&k, e, sizeof k);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        k = k << 32 | k >> 32;
#endif
        if (!e->count || k == key)
            return e;
        if (++e == end)
            e = q->slot;
    }
}

static inline rs_pairs_slot_t *rs_pairs_probe(const rs_pairs_part_t *q, uint64_t key, uint64_t hash)
{
    return rs_pairs_probe_at(q, key, rs_pairs_slot_of(q, hash));
}

/* Whether part q may take one more key without passing 85% full. */
static inline int rs_pairs_room(const rs_pairs_part_t *q)
{
    return (uint64_t)(q->n + 1) * 20 <= (uint64_t)q->cap * 17;
}

/* The inline cases of an add within part q, a key already there and a key
 * to insert where there is room (one probe run, no call): 0 when n was
 * added to key's count, 1 when key was inserted with count n, 2 when
 * neither applies and rs_pairs_add_slow must (a part to grow, a count past
 * 32 bits, n = 0). _at: from slot, key's first slot in q (q->cap > 0). */
static inline int rs_pairs_part_add_at(rs_pairs_part_t *q, uint64_t key, size_t slot, uint64_t n)
{
    if (n && n < RS_PAIRS_BIG) {
        rs_pairs_slot_t *e = rs_pairs_probe_at(q, key, slot);
        if (e->count) {
            if (e->count < RS_PAIRS_BIG && n < RS_PAIRS_BIG - e->count) {
                e->count += (uint32_t)n;
                return 0;
            }
        } else if (rs_pairs_room(q)) {
            e->lo = (uint32_t)key;
            e->hi = (uint32_t)(key >> 32);
            e->count = (uint32_t)n;
            q->n++;
            return 1;
        }
    }
    return 2;
}

static inline int rs_pairs_part_add_fast(rs_pairs_part_t *q, uint64_t key, uint64_t hash, uint64_t n)
{
    return q->cap ? rs_pairs_part_add_at(q, key, rs_pairs_slot_of(q, hash), n) : 2;
}

/* Adds n (> 0; 0 does nothing) to key's count, inserting it when absent.
 * Returns -1 when out of memory (p is unchanged). Inline for the common
 * cases (rs_pairs_part_add_fast). */
static inline int rs_pairs_add(rs_pairs_t *p, uint64_t key, uint64_t hash, uint64_t n)
{
    const int r = rs_pairs_part_add_fast(rs_pairs_part_of(p, hash), key, hash, n);
    if (r < 2) {
        p->n += (size_t)r;
        return 0;
    }
    return rs_pairs_add_slow(p, key, hash, n);
}

/* A hint that hash will be added soon. Can't fail. */
static inline void rs_pairs_prefetch(const rs_pairs_t *p, uint64_t hash)
{
    const rs_pairs_part_t *q = rs_pairs_part_of(p, hash);
    if (q->cap)
        __builtin_prefetch(&q->slot[rs_pairs_slot_of(q, hash)]);
}

/* Keys waiting to be counted once each, one bucket per part: a scan
 * appends each bigram to its part's bucket (a store into one of 256 open
 * cache lines) and adds a bucket to its table when it is full, or when
 * rs_pairs_batch_flush is called. So each part takes its keys
 * RS_PAIRS_BATCH at a time, while its slots (a few hundred KB) are in the
 * caches and its pages in the TLB, instead of one key at a time all over a
 * table of tens of MB. Each part gets its keys in the order they were
 * appended, and a part's slots depend on nothing but the keys added to it
 * and their order (growth is per part), so the table ends up exactly as
 * direct adds leave it, slot for slot. A batch goes to one table at a time:
 * a key for another table first flushes the keys waiting for the last one.
 * The keys' hashes must have rs_pairs_hash(key)'s low 56 bits
 * (rs_pairs_bigram_hash has): a bucket keeps the key alone and recomputes
 * the hash from it and its part. The caller flushes before the table is
 * read, merged, cleared or freed; a table's n does not count waiting keys.
 * A table of fewer than `from` keys (RS_PAIRS_BATCH_FROM, a few MB: within the
 * caches, or soon flushed elsewhere, as the pool's workers' tables are at
 * -j 2 and more) takes its keys at once while none wait, so that it costs
 * nothing; a batch starts when the table passes that size and goes on until
 * it is flushed (starting and stopping only with nothing waiting keeps each
 * part's order). The buckets (RS_PAIRS_PARTS * RS_PAIRS_BATCH keys, 16 MB)
 * are allocated then and touched as they fill. Not thread-safe. */
#define RS_PAIRS_BATCH 8192
#define RS_PAIRS_BATCH_FROM (1u << 18)

typedef struct rs_pairs_batch {
    rs_pairs_t *to; /* the table the waiting keys go to */
    uint64_t *key;  /* RS_PAIRS_PARTS buckets of RS_PAIRS_BATCH keys; NULL until the first add */
    uint32_t fill[RS_PAIRS_PARTS];
    size_t n;       /* keys waiting */
    int direct;     /* the buckets could not be allocated: keys go to the table at once */
    size_t from;    /* keys a table has before its keys wait (RS_PAIRS_BATCH_FROM; tests set 0) */
} rs_pairs_batch_t;

/* An empty batch (allocates nothing), from RS_PAIRS_BATCH_FROM. Can't fail. */
void rs_pairs_batch_init(rs_pairs_batch_t *b);

/* Frees b; keys still waiting are dropped. */
void rs_pairs_batch_free(rs_pairs_batch_t *b);

/* Adds the keys of part's bucket to b->to. -1 when out of memory (the
 * bucket's keys not yet added are dropped). */
int rs_pairs_batch_flush_part(rs_pairs_batch_t *b, unsigned part);

/* Adds every waiting key to b->to, part by part. -1 when out of memory (the
 * keys not yet added are dropped). Can be called with none waiting. */
int rs_pairs_batch_flush(rs_pairs_batch_t *b);

/* rs_pairs_batch_add for a key to another table than the last, and for the
 * first key to wait (buckets to allocate). */
int rs_pairs_batch_add_slow(rs_pairs_batch_t *b, rs_pairs_t *p, uint64_t key, uint64_t hash);

/* Counts key once in p, now or at a flush (see above). -1 when out of
 * memory. */
static inline int rs_pairs_batch_add(rs_pairs_batch_t *b, rs_pairs_t *p, uint64_t key, uint64_t hash)
{
    if (b->to == p && b->n == 0 && p->n < b->from) /* a small table: at once */
        return rs_pairs_add(p, key, hash, 1);
    if (b->to != p || !b->key)
        return rs_pairs_batch_add_slow(b, p, key, hash);
    const unsigned q = (unsigned)(hash >> 56);
    b->key[(size_t)q * RS_PAIRS_BATCH + b->fill[q]] = key;
    b->n++;
    return ++b->fill[q] == RS_PAIRS_BATCH ? rs_pairs_batch_flush_part(b, q) : 0;
}

/* rs_pairs_batch_add of key[i] under hash[i], i = 0..n-1, in order: while
 * the table is small and nothing waits, at once, each slot prefetched a few
 * keys ahead. -1 when out of memory. */
int rs_pairs_batch_add_all(rs_pairs_batch_t *b, rs_pairs_t *p, const uint64_t *key, const uint64_t *hash, size_t n);

/* Adds src's keys to dst, each key (a, b) as (map[a], map[b]) with its
 * count, part by part: src's part i into dst's part i. The keys of both
 * tables must have been added under hashes whose part does not change
 * under map (rs_pairs_bigram_hash: map renames terms, which keep their
 * hashes). A part of src and its part of dst are a few hundred KB at most,
 * so the adds stay within the caches (a merge key by key in src's order
 * would miss them on nearly every add). Returns -1 when out of memory (dst
 * then holds part of src). */
int rs_pairs_merge(rs_pairs_t *dst, const rs_pairs_t *src, const uint32_t *map);

/* rs_pairs_merge of src's part `part` alone, which touches dst's part
 * `part` and nothing else, dst->n included: calls for different parts of
 * one dst may run at the same time, and the caller adds *added (the keys
 * new to dst) to dst->n after them. Returns -1 when out of memory. */
int rs_pairs_merge_part(rs_pairs_t *dst, const rs_pairs_t *src, const uint32_t *map, unsigned part, size_t *added);

/* Keys whose count has outgrown 32 bits (for tests). */
size_t rs_pairs_big_count(const rs_pairs_t *p);

/* Walks the keys: start with *pos = 0; fills *out with the next key and
 * its count and returns 1, or returns 0 at the end. */
int rs_pairs_next(const rs_pairs_t *p, uint64_t *pos, rs_pair_t *out);

/* The two uint32 of a key, and the key of two uint32. */
static inline void rs_pair_split(uint64_t key, uint32_t *a, uint32_t *b)
{
    uint32_t v[2];
    __builtin_memcpy(v, &key, sizeof v);
    *a = v[0];
    *b = v[1];
}

static inline uint64_t rs_pair_key(uint32_t a, uint32_t b)
{
    const uint32_t v[2] = {a, b};
    uint64_t k;
    __builtin_memcpy(&k, v, sizeof k);
    return k;
}

#endif
