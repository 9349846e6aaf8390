/*
 * dict.c - open-addressing hash table with dense ids (see dict.h).
 * Grows by doubling; the index is rebuilt from the dense entries.
 */
#include "dict.h"

#include <stdlib.h>
#include <string.h>

void rs_dict_init(rs_dict_t *d, size_t vsize)
{
    memset(d, 0, sizeof *d);
    d->vsize = vsize ? vsize : 1;
}

void rs_dict_free(rs_dict_t *d)
{
    free(d->ent);
    free(d->val);
    free(d->index);
    free(d->arena);
    const size_t vsize = d->vsize;
    memset(d, 0, sizeof *d);
    d->vsize = vsize;
}

static int rs_dict_reindex(rs_dict_t *d, size_t slots)
{
    uint32_t *index = calloc(slots, sizeof *index);
    if (!index)
        return -1;
    const size_t mask = slots - 1;
    for (size_t id = 0; id < d->n; id++) {
        size_t s = d->ent[id].hash & mask;
        while (index[s])
            s = (s + 1) & mask;
        index[s] = (uint32_t)(id + 1);
    }
    free(d->index);
    d->index = index;
    d->mask = mask;
    return 0;
}

int64_t rs_dict_get(const rs_dict_t *d, const void *key, size_t len, uint64_t hash)
{
    if (!d->index)
        return -1;
    for (size_t s = hash & d->mask;; s = (s + 1) & d->mask) {
        const uint32_t slot = d->index[s];
        if (!slot)
            return -1;
        const rs_dict_entry_t *e = &d->ent[slot - 1];
        if (e->hash == hash && e->key_len == len && memcmp(d->arena + e->key_off, key, len) == 0)
            return (int64_t)slot - 1;
    }
}

static int rs_dict_grow(rs_dict_t *d, size_t key_len)
{
    if (d->n == d->cap) {
        const size_t cap = d->cap ? d->cap * 2 : 64;
        if (cap >= UINT32_MAX)
            return -1;
        rs_dict_entry_t *ent = realloc(d->ent, cap * sizeof *ent);
        if (!ent)
            return -1;
        d->ent = ent;
        uint8_t *val = realloc(d->val, cap * d->vsize);
        if (!val)
            return -1;
        d->val = val;
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

int64_t rs_dict_put(rs_dict_t *d, const void *key, size_t len, uint64_t hash, int *created)
{
    const int64_t found = rs_dict_get(d, key, len, hash);
    if (created)
        *created = found < 0;
    if (found >= 0)
        return found;
    if (len > UINT32_MAX || rs_dict_grow(d, len) != 0)
        return -1;
    const size_t id = d->n++;
    rs_dict_entry_t *e = &d->ent[id];
    e->hash = hash;
    e->key_off = d->arena_len;
    e->key_len = (uint32_t)len;
    e->pad_ = 0;
    if (len)
        memcpy(d->arena + d->arena_len, key, len);
    d->arena[d->arena_len + len] = '\0';
    d->arena_len += len + 1;
    memset(rs_dict_val(d, id), 0, d->vsize);
    size_t s = hash & d->mask;
    while (d->index[s])
        s = (s + 1) & d->mask;
    d->index[s] = (uint32_t)(id + 1);
    return (int64_t)id;
}
