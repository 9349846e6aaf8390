/*
 * pairs.c - the compact counting table of pairs.h: RS_PAIRS_PARTS parts,
 * each open addressing with linear probing, slots found by scaling the low
 * 32 bits of the hash to the part's size (any size, not only powers of
 * two), parts chosen by the top 8 bits. Single-threaded per table.
 */
#include "pairs.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h" /* rs_hash64 */

#define RS_PAIRS_FIRST_CAP 16

void rs_pairs_init(rs_pairs_t *p)
{
    memset(p, 0, sizeof *p);
}

void rs_pairs_free(rs_pairs_t *p)
{
    for (size_t i = 0; i < RS_PAIRS_PARTS; i++)
        free(p->part[i].slot);
    rs_pairs_init(p);
}

void rs_pairs_clear(rs_pairs_t *p, size_t keep_slots)
{
    const size_t keep = keep_slots / RS_PAIRS_PARTS;
    for (size_t i = 0; i < RS_PAIRS_PARTS; i++) {
        rs_pairs_part_t *q = &p->part[i];
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

uint64_t rs_pairs_hash(uint64_t key)
{
    return rs_hash64(&key, sizeof key);
}

/* Rebuilds part q with cap slots. Returns -1 when out of memory (q is
 * unchanged). */
static int rs_part_resize(rs_pairs_part_t *q, uint32_t cap)
{
    rs_pair_t *slot = calloc(cap, sizeof *slot);
    if (!slot)
        return -1;
    const rs_pairs_part_t nq = {slot, cap, q->n};
    for (uint32_t i = 0; i < q->cap; i++) {
        const rs_pair_t e = q->slot[i];
        if (!e.count)
            continue;
        size_t s = rs_pairs_slot_of(&nq, rs_pairs_hash(e.key));
        while (slot[s].count)
            s = s + 1 == cap ? 0 : s + 1;
        slot[s] = e;
    }
    free(q->slot);
    *q = nq;
    return 0;
}

int rs_pairs_add(rs_pairs_t *p, uint64_t key, uint64_t hash, uint64_t n)
{
    if (!n)
        return 0;
    rs_pairs_part_t *q = rs_pairs_part_of(p, hash);
    if (q->cap) {
        for (size_t s = rs_pairs_slot_of(q, hash);; s = s + 1 == q->cap ? 0 : s + 1) {
            rs_pair_t *e = &q->slot[s];
            if (!e->count)
                break;
            if (e->key == key) {
                e->count += n;
                return 0;
            }
        }
    }
    /* absent: grow when the part would pass 80% full, then insert */
    if ((uint64_t)(q->n + 1) * 5 > (uint64_t)q->cap * 4) {
        const uint64_t cap = q->cap ? (uint64_t)q->cap + q->cap / 2 : RS_PAIRS_FIRST_CAP;
        if (cap > UINT32_MAX || rs_part_resize(q, (uint32_t)cap) != 0)
            return -1;
    }
    size_t s = rs_pairs_slot_of(q, hash);
    while (q->slot[s].count)
        s = s + 1 == q->cap ? 0 : s + 1;
    q->slot[s] = (rs_pair_t){key, n};
    q->n++;
    p->n++;
    return 0;
}

uint64_t rs_pairs_get(const rs_pairs_t *p, uint64_t key, uint64_t hash)
{
    const rs_pairs_part_t *q = rs_pairs_part_of(p, hash);
    if (!q->cap)
        return 0;
    for (size_t s = rs_pairs_slot_of(q, hash);; s = s + 1 == q->cap ? 0 : s + 1) {
        const rs_pair_t *e = &q->slot[s];
        if (!e->count)
            return 0;
        if (e->key == key)
            return e->count;
    }
}

const rs_pair_t *rs_pairs_next(const rs_pairs_t *p, uint64_t *pos)
{
    for (uint64_t part = *pos >> 32; part < RS_PAIRS_PARTS; part++) {
        const rs_pairs_part_t *q = &p->part[part];
        for (uint64_t s = part == *pos >> 32 ? (*pos & 0xFFFFFFFFu) : 0; s < q->cap; s++)
            if (q->slot[s].count) {
                *pos = (part << 32) | (s + 1);
                return &q->slot[s];
            }
        *pos = (part + 1) << 32;
    }
    return NULL;
}
