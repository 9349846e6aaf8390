/*
 * pairs.c - the compact counting table of pairs.h: RS_PAIRS_PARTS parts,
 * each open addressing with linear probing, slots found by scaling the low
 * 32 bits of the hash to the part's size (any size, not only powers of
 * two), parts chosen by the top 8 bits. Counts that outgrow 32 bits move to
 * a side rs_dict_t of their part. Single-threaded per table, but for
 * rs_pairs_merge_part, which touches one part and nothing else. Also the
 * batches of keys counted a part's bucket at a time (rs_pairs_batch_t).
 */
#include "pairs.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h" /* rs_hash64, for the side table */

#define RS_PAIRS_FIRST_CAP 16
/* A part doubles until it has this many slots (96 KiB), then grows by a
 * third: small parts are rehashed half as often, for at most 96 KiB a part
 * held empty. */
#define RS_PAIRS_DOUBLE_CAP 8192

void rs_pairs_init(rs_pairs_t *p)
{
    memset(p, 0, sizeof *p);
}

static void rs_big_free(rs_pairs_part_t *q)
{
    if (q->big) {
        rs_dict_free(q->big);
        free(q->big);
        q->big = NULL;
    }
}

void rs_pairs_free(rs_pairs_t *p)
{
    for (size_t i = 0; i < RS_PAIRS_PARTS; i++) {
        free(p->part[i].slot);
        rs_big_free(&p->part[i]);
    }
    rs_pairs_init(p);
}

size_t rs_pairs_big_count(const rs_pairs_t *p)
{
    size_t n = 0;
    for (size_t i = 0; i < RS_PAIRS_PARTS; i++)
        n += p->part[i].big ? p->part[i].big->n : 0;
    return n;
}

void rs_pairs_clear(rs_pairs_t *p, size_t keep_slots)
{
    const size_t keep = keep_slots / RS_PAIRS_PARTS;
    for (size_t i = 0; i < RS_PAIRS_PARTS; i++) {
        rs_pairs_part_t *q = &p->part[i];
        rs_big_free(q);
        if (q->cap > keep) {
            free(q->slot);
            memset(q, 0, sizeof *q);
        } else if (q->n) {
            memset(q->slot, 0, q->cap * sizeof *q->slot);
            q->n = 0;
        }
    }
    p->n = 0;
}

static uint64_t rs_slot_key(const rs_pairs_slot_t *e)
{
    return (uint64_t)e->lo | (uint64_t)e->hi << 32;
}

/* Rebuilds part q with cap slots. Returns -1 when out of memory (q is
 * unchanged). */
static int rs_part_resize(rs_pairs_part_t *q, uint32_t cap)
{
    rs_pairs_slot_t *slot = rs_dict_zalloc(cap, sizeof *slot);
    if (!slot)
        return -1;
    const rs_pairs_part_t nq = {slot, cap, q->n, (uint64_t)cap * RS_PAIRS_SALT, q->big};
    for (uint32_t i = 0; i < q->cap; i++) {
        const rs_pairs_slot_t e = q->slot[i];
        if (!e.count)
            continue;
        size_t s = rs_pairs_slot_of(&nq, rs_pairs_hash(rs_slot_key(&e)));
        while (slot[s].count)
            s = s + 1 == cap ? 0 : s + 1;
        slot[s] = e;
    }
    free(q->slot);
    *q = nq;
    return 0;
}

/* Sets e's count to c, through q's side table when it needs 64 bits.
 * Returns -1 when out of memory (e unchanged). */
static int rs_slot_set(rs_pairs_part_t *q, rs_pairs_slot_t *e, uint64_t key, uint64_t c)
{
    if (c < RS_PAIRS_BIG) {
        e->count = (uint32_t)c;
        return 0;
    }
    if (!q->big) {
        q->big = malloc(sizeof *q->big);
        if (!q->big)
            return -1;
        rs_dict_init(q->big, sizeof(uint64_t));
    }
    const int64_t id = rs_dict_put(q->big, &key, sizeof key, rs_hash64(&key, sizeof key), NULL);
    if (id < 0)
        return -1;
    *(uint64_t *)rs_dict_val(q->big, (size_t)id) = c;
    e->count = RS_PAIRS_BIG;
    return 0;
}

static uint64_t rs_slot_count(const rs_pairs_part_t *q, const rs_pairs_slot_t *e, uint64_t key)
{
    if (e->count != RS_PAIRS_BIG)
        return e->count;
    const int64_t id = q->big ? rs_dict_get(q->big, &key, sizeof key, rs_hash64(&key, sizeof key)) : -1;
    return id >= 0 ? *(const uint64_t *)rs_dict_val(q->big, (size_t)id) : 0;
}

/* rs_pairs_add_slow within part q: 1 when key was new, 0 when it was
 * there, -1 when out of memory. */
static int rs_part_add(rs_pairs_part_t *q, uint64_t key, uint64_t hash, uint64_t n)
{
    if (!n)
        return 0;
    if (q->cap) {
        rs_pairs_slot_t *e = rs_pairs_probe(q, key, hash);
        if (e->count)
            return rs_slot_set(q, e, key, rs_slot_count(q, e, key) + n);
    }
    /* absent: grow when the part would pass 85% full, then insert */
    if (!rs_pairs_room(q)) {
        const uint64_t cap = !q->cap                          ? RS_PAIRS_FIRST_CAP
                             : q->cap < RS_PAIRS_DOUBLE_CAP ? (uint64_t)q->cap * 2
                                                            : (uint64_t)q->cap + q->cap / 3;
        if (cap > UINT32_MAX || rs_part_resize(q, (uint32_t)cap) != 0)
            return -1;
    }
    rs_pairs_slot_t *e = rs_pairs_probe(q, key, hash);
    e->lo = (uint32_t)key;
    e->hi = (uint32_t)(key >> 32);
    if (rs_slot_set(q, e, key, n) != 0)
        return -1; /* e->count is still 0: the slot stays empty */
    q->n++;
    return 1;
}

int rs_pairs_add_slow(rs_pairs_t *p, uint64_t key, uint64_t hash, uint64_t n)
{
    const int r = rs_part_add(rs_pairs_part_of(p, hash), key, hash, n);
    if (r < 0)
        return -1;
    p->n += (size_t)r;
    return 0;
}

/* How many keys of a part rs_pairs_merge_part prepares at a time, and how
 * far ahead of an add it prefetches the slot of a later one. */
#define RS_MERGE_BATCH 512
#define RS_MERGE_AHEAD 16

int rs_pairs_merge_part(rs_pairs_t *dst, const rs_pairs_t *src, const uint32_t *map, unsigned part, size_t *added)
{
    uint64_t key[RS_MERGE_BATCH], hash[RS_MERGE_BATCH], add[RS_MERGE_BATCH];
    *added = 0;
    if (part >= RS_PAIRS_PARTS)
        return 0;
    const rs_pairs_part_t *q = &src->part[part];
    rs_pairs_part_t *d = &dst->part[part];
    for (uint32_t s = 0; s < q->cap;) {
        size_t n = 0;
        for (; s < q->cap && n < RS_MERGE_BATCH; s++) {
            const rs_pairs_slot_t *e = &q->slot[s];
            if (!e->count)
                continue;
            const uint64_t k = rs_slot_key(e);
            uint32_t a, b;
            rs_pair_split(k, &a, &b);
            key[n] = rs_pair_key(map[a], map[b]);
            hash[n] = (rs_pairs_hash(key[n]) & 0x00FFFFFFFFFFFFFFull) | (uint64_t)part << 56;
            add[n] = rs_slot_count(q, e, k);
            n++;
        }
        for (size_t i = 0; i < n; i++) {
            if (i + RS_MERGE_AHEAD < n && d->cap)
                __builtin_prefetch(&d->slot[rs_pairs_slot_of(d, hash[i + RS_MERGE_AHEAD])]);
            int r = rs_pairs_part_add_fast(d, key[i], hash[i], add[i]);
            if (r == 2)
                r = rs_part_add(d, key[i], hash[i], add[i]);
            if (r < 0)
                return -1;
            *added += (size_t)r;
        }
    }
    return 0;
}

int rs_pairs_merge(rs_pairs_t *dst, const rs_pairs_t *src, const uint32_t *map)
{
    for (unsigned part = 0; part < RS_PAIRS_PARTS; part++) {
        size_t added;
        const int r = rs_pairs_merge_part(dst, src, map, part, &added);
        dst->n += added;
        if (r != 0)
            return -1;
    }
    return 0;
}

uint64_t rs_pairs_get(const rs_pairs_t *p, uint64_t key, uint64_t hash)
{
    const rs_pairs_part_t *q = rs_pairs_part_of(p, hash);
    if (!q->cap)
        return 0;
    const rs_pairs_slot_t *e = rs_pairs_probe(q, key, hash);
    return e->count ? rs_slot_count(q, e, key) : 0;
}

int rs_pairs_next(const rs_pairs_t *p, uint64_t *pos, rs_pair_t *out)
{
    for (uint64_t part = *pos >> 32; part < RS_PAIRS_PARTS; part++) {
        const rs_pairs_part_t *q = &p->part[part];
        for (uint64_t s = part == *pos >> 32 ? (*pos & 0xFFFFFFFFu) : 0; s < q->cap; s++) {
            const rs_pairs_slot_t *e = &q->slot[s];
            if (!e->count)
                continue;
            *pos = (part << 32) | (s + 1);
            out->key = rs_slot_key(e);
            out->count = rs_slot_count(q, e, out->key);
            return 1;
        }
        *pos = (part + 1) << 32;
    }
    return 0;
}

void rs_pairs_batch_init(rs_pairs_batch_t *b)
{
    memset(b, 0, sizeof *b);
    b->from = RS_PAIRS_BATCH_FROM;
}

void rs_pairs_batch_free(rs_pairs_batch_t *b)
{
    const size_t from = b->from;
    free(b->key);
    rs_pairs_batch_init(b);
    b->from = from;
}

/* The hash a key was appended under, from the key and its part. */
static inline uint64_t rs_batch_hash(uint64_t key, unsigned part)
{
    return (rs_pairs_hash(key) & 0x00FFFFFFFFFFFFFFull) | (uint64_t)part << 56;
}

/* How far ahead a flush prefetches the slot of a key. */
#define RS_BATCH_AHEAD 16

/* The first slots of k[from..n) in q at its size now, into s. */
static void rs_batch_slots(const rs_pairs_part_t *q, const uint64_t *k, uint32_t *s, size_t from, size_t n)
{
    for (size_t i = from; i < n; i++)
        s[i] = (uint32_t)rs_pairs_slot_of(q, rs_pairs_hash(k[i]));
}

/* A bucket holds the keys of one part: its slots are found once for all
 * of them (the part's size, and so the slots, change only when the part
 * grows, in rs_part_add), and each key is counted by
 * rs_pairs_part_add_at from its slot, in the bucket's order, so that the
 * table ends slot for slot as rs_pairs_add would leave it. */
int rs_pairs_batch_flush_part(rs_pairs_batch_t *b, unsigned part)
{
    const uint64_t *const k = b->key + (size_t)part * RS_PAIRS_BATCH;
    const size_t n = b->fill[part];
    rs_pairs_t *const p = b->to;
    rs_pairs_part_t *const q = &p->part[part];
    uint32_t s[RS_PAIRS_BATCH];
    b->fill[part] = 0;
    b->n -= n;
    if (q->cap)
        rs_batch_slots(q, k, s, 0, n);
    for (size_t i = 0; i < n; i++) {
        if (q->cap) {
            if (i + RS_BATCH_AHEAD < n)
                __builtin_prefetch(&q->slot[s[i + RS_BATCH_AHEAD]]);
            const int r = rs_pairs_part_add_at(q, k[i], s[i], 1);
            if (r < 2) {
                p->n += (size_t)r;
                continue;
            }
        }
        const uint32_t cap = q->cap;
        const int r = rs_part_add(q, k[i], rs_batch_hash(k[i], part), 1);
        if (r < 0)
            return -1;
        p->n += (size_t)r;
        if (q->cap != cap) /* grown: the slots of the keys left move */
            rs_batch_slots(q, k, s, i + 1, n);
    }
    return 0;
}

int rs_pairs_batch_flush(rs_pairs_batch_t *b)
{
    int r = 0;
    for (unsigned q = 0; q < RS_PAIRS_PARTS && b->n; q++)
        if (b->fill[q] && rs_pairs_batch_flush_part(b, q) != 0)
            r = -1;
    if (r != 0) { /* the keys not added are dropped */
        memset(b->fill, 0, sizeof b->fill);
        b->n = 0;
    }
    return r;
}

int rs_pairs_batch_add_slow(rs_pairs_batch_t *b, rs_pairs_t *p, uint64_t key, uint64_t hash)
{
    if (b->to != p) {
        if (rs_pairs_batch_flush(b) != 0)
            return -1;
        b->to = p;
    }
    if (b->n == 0 && p->n < b->from) /* a small table: at once (nothing waits for it) */
        return rs_pairs_add(p, key, hash, 1);
    if (!b->key && !b->direct) {
        b->key = malloc((size_t)RS_PAIRS_PARTS * RS_PAIRS_BATCH * sizeof *b->key);
        b->direct = b->key == NULL; /* no room for buckets: count at once, as before */
    }
    if (b->direct)
        return rs_pairs_add(p, key, hash, 1);
    return rs_pairs_batch_add(b, p, key, hash);
}

int rs_pairs_batch_add_all(rs_pairs_batch_t *b, rs_pairs_t *p, const uint64_t *key, const uint64_t *hash, size_t n)
{
    size_t i = 0;
    if (b->to != p && rs_pairs_batch_flush(b) != 0)
        return -1;
    b->to = p;
    if (b->n == 0) /* nothing waits: at once while the table is small (it may pass from here: still in order) */
        for (; i < n && p->n < b->from; i++) {
            if (i + RS_BATCH_AHEAD < n)
                rs_pairs_prefetch(p, hash[i + RS_BATCH_AHEAD]);
            if (rs_pairs_add(p, key[i], hash[i], 1) != 0)
                return -1;
        }
    for (; i < n; i++)
        if (rs_pairs_batch_add(b, p, key[i], hash[i]) != 0)
            return -1;
    return 0;
}
