/*
 * dict.c - open-addressing hash table with dense ids (see dict.h): the
 * out-of-line part, inserting. Grows by doubling; the index is rebuilt
 * from the dense records.
 */
#include "dict.h"

#include <stdlib.h>
#include <string.h>

#define RS_SLOT_ID_MASK 0xFFFFFFFFull

void rs_dict_init(rs_dict_t *d, size_t vsize)
{
    memset(d, 0, sizeof *d);
    d->vsize = vsize ? vsize : 1;
    d->stride = sizeof(rs_dict_rec_t) + ((d->vsize + 7) & ~(size_t)7);
}

void rs_dict_free(rs_dict_t *d)
{
    free(d->rec);
    free(d->index);
    free(d->arena);
    const size_t vsize = d->vsize;
    rs_dict_init(d, vsize);
}

void rs_dict_clear(rs_dict_t *d, size_t keep_slots)
{
    if (!d->index || d->mask + 1 > keep_slots) {
        rs_dict_free(d);
        return;
    }
    memset(d->index, 0, (d->mask + 1) * sizeof *d->index);
    d->n = 0;
    d->arena_len = 0;
}

static uint64_t rs_slot_of(uint64_t hash, size_t id)
{
    return (hash & ~RS_SLOT_ID_MASK) | (uint64_t)(id + 1);
}

void *rs_dict_zalloc(size_t n, size_t sz)
{
    if (sz && n > SIZE_MAX / sz)
        return NULL;
    const size_t bytes = n * sz;
    void *p = malloc(bytes > 0 ? bytes : 1);
    if (p)
        memset(p, 0, bytes);
    return p;
}

static int rs_dict_reindex(rs_dict_t *d, size_t slots)
{
    uint64_t *index = rs_dict_zalloc(slots, sizeof *index);
    if (!index)
        return -1;
    const size_t mask = slots - 1;
    for (size_t id = 0; id < d->n; id++) {
        const uint64_t h = rs_dict_rec(d, id)->hash;
        size_t s = h & mask;
        while (index[s])
            s = (s + 1) & mask;
        index[s] = rs_slot_of(h, id);
    }
    free(d->index);
    d->index = index;
    d->mask = mask;
    return 0;
}

static int rs_dict_grow(rs_dict_t *d, size_t key_len)
{
    if (d->n == d->cap) {
        const size_t cap = d->cap ? d->cap * 2 : 64;
        if (cap >= UINT32_MAX)
            return -1;
        /* 64-byte aligned (C11 has no aligned realloc: copied) */
        const size_t bytes = (cap * d->stride + 63) & ~(size_t)63;
        uint8_t *rec = aligned_alloc(64, bytes);
        if (!rec)
            return -1;
        if (d->n)
            memcpy(rec, d->rec, d->n * d->stride);
        free(d->rec);
        d->rec = rec;
        d->cap = cap;
    }
    if (d->arena_len + key_len + 1 > d->arena_cap) {
        size_t cap = d->arena_cap ? d->arena_cap : 1024;
        while (cap < d->arena_len + key_len + 1)
            cap *= 2;
        char *arena = realloc(d->arena, cap);
        if (!arena)
            return -1;
        d->arena = arena;
        d->arena_cap = cap;
    }
    /* keep the index at most half full */
    if (!d->index || (d->n + 1) * 2 > d->mask + 1) {
        const size_t slots = d->index ? (d->mask + 1) * 2 : 128;
        if (rs_dict_reindex(d, slots) != 0)
            return -1;
    }
    return 0;
}

int64_t rs_dict_insert(rs_dict_t *d, const void *key, size_t len, uint64_t hash, int *created)
{
    if (created)
        *created = 1;
    if (len > UINT32_MAX || rs_dict_grow(d, len) != 0)
        return -1;
    size_t s = hash & d->mask;
    while (d->index[s])
        s = (s + 1) & d->mask;
    const size_t id = d->n++;
    rs_dict_rec_t *r = rs_dict_rec(d, id);
    r->hash = hash;
    r->key_off = d->arena_len;
    r->key_len = (uint32_t)len;
    r->pad_ = 0;
    r->head = rs_dict_head(key, len);
    r->tail = rs_dict_tail(key, len);
    if (len)
        memcpy(d->arena + d->arena_len, key, len);
    d->arena[d->arena_len + len] = '\0';
    d->arena_len += len + 1;
    memset(rs_dict_val(d, id), 0, d->vsize);
    d->index[s] = rs_slot_of(hash, id);
    return (int64_t)id;
}
