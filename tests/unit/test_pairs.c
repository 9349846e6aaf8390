/*
 * test_pairs.c - rs_pairs_t (host/pairs.h) against a plain reference: a
 * sorted array of (key, count), on seeded random keys (the seed is printed;
 * RS_TEST_SEED repeats it) that make every part grow many times.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pairs.h"

static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t test_seed(void)
{
    const char *e = getenv("RS_TEST_SEED");
    const uint64_t seed = e ? strtoull(e, NULL, 10) : (uint64_t)time(NULL);
    fprintf(stderr, "test_pairs: seed %llu (RS_TEST_SEED=%llu repeats it)\n", (unsigned long long)seed,
            (unsigned long long)seed);
    return seed;
}

static int cmp_key(const void *a, const void *b)
{
    const uint64_t x = ((const rs_pair_t *)a)->key, y = ((const rs_pair_t *)b)->key;
    return x < y ? -1 : x > y;
}

Test(pairs, counts_equal_a_sorted_reference)
{
    uint64_t s = test_seed();
    enum { DISTINCT = 200000, ADDS = 600000 };
    uint64_t *keys = malloc(DISTINCT * sizeof *keys);
    rs_pair_t *ref = calloc(DISTINCT, sizeof *ref);
    cr_assert(keys && ref);
    for (size_t i = 0; i < DISTINCT; i++)
        keys[i] = i < 4 ? i : next_rand(&s); /* 0 is a key like any other */
    rs_pairs_t p;
    rs_pairs_init(&p);
    for (size_t i = 0; i < ADDS; i++) {
        /* skewed: low indices are added far more often */
        const uint64_t r = next_rand(&s);
        const size_t k = (size_t)((r % DISTINCT) * ((r >> 40) % DISTINCT) / DISTINCT);
        const uint64_t n = 1 + (r >> 60);
        cr_assert_eq(rs_pairs_add(&p, keys[k], rs_pairs_hash(keys[k]), n), 0);
        ref[k].key = keys[k];
        ref[k].count += n;
    }
    cr_assert_eq(rs_pairs_add(&p, 12345, rs_pairs_hash(12345), 0), 0, "adding 0 does nothing");
    size_t nref = 0;
    for (size_t i = 0; i < DISTINCT; i++)
        if (ref[i].count)
            ref[nref++] = ref[i];
    qsort(ref, nref, sizeof *ref, cmp_key);
    for (size_t i = 1; i < nref; i++)
        cr_assert_neq(ref[i].key, ref[i - 1].key, "random keys collided: pick another seed");
    cr_assert_eq(p.n, nref);
    for (size_t i = 0; i < nref; i++)
        cr_assert_eq(rs_pairs_get(&p, ref[i].key, rs_pairs_hash(ref[i].key)), ref[i].count, "key %zu", i);
    cr_expect_eq(rs_pairs_get(&p, 12345, rs_pairs_hash(12345)), 0);

    /* the walk visits every key once, and no empty slot */
    rs_pair_t *seen = malloc((nref ? nref : 1) * sizeof *seen);
    size_t ns = 0;
    uint64_t pos = 0;
    for (rs_pair_t e; rs_pairs_next(&p, &pos, &e);) {
        cr_assert_lt(ns, nref);
        cr_assert_gt(e.count, 0);
        seen[ns++] = e;
    }
    cr_assert_eq(ns, nref);
    qsort(seen, ns, sizeof *seen, cmp_key);
    cr_assert_eq(memcmp(seen, ref, nref * sizeof *ref), 0);

    /* no part is more than 85% full, and the table is not sparse */
    size_t slots = 0;
    for (size_t i = 0; i < RS_PAIRS_PARTS; i++) {
        cr_assert_leq((uint64_t)p.part[i].n * 20, (uint64_t)p.part[i].cap * 17);
        slots += p.part[i].cap;
    }
    cr_expect_geq(nref * 2, slots, "%zu keys in %zu slots", nref, slots);
    cr_expect_eq(sizeof(rs_pairs_slot_t), 12);

    /* cleared, with and without keeping the memory, it counts again from nothing */
    for (int keep = 0; keep < 2; keep++) {
        rs_pairs_clear(&p, keep ? (size_t)-1 : 0);
        cr_assert_eq(p.n, 0);
        pos = 0;
        rs_pair_t e;
        cr_assert_eq(rs_pairs_next(&p, &pos, &e), 0);
        cr_assert_eq(rs_pairs_get(&p, ref[0].key, rs_pairs_hash(ref[0].key)), 0);
        cr_assert_eq(rs_pairs_add(&p, ref[0].key, rs_pairs_hash(ref[0].key), 3), 0);
        cr_assert_eq(rs_pairs_get(&p, ref[0].key, rs_pairs_hash(ref[0].key)), 3);
    }
    rs_pairs_free(&p);
    free(seen);
    free(ref);
    free(keys);
}

/* Mean distance of a table's keys from their home slots. */
static double mean_displacement(const rs_pairs_t *p)
{
    double sum = 0;
    for (size_t i = 0; i < RS_PAIRS_PARTS; i++) {
        const rs_pairs_part_t *q = &p->part[i];
        for (size_t s = 0; s < q->cap; s++) {
            if (!q->slot[s].count)
                continue;
            const uint64_t key = (uint64_t)q->slot[s].lo | (uint64_t)q->slot[s].hi << 32;
            const size_t home = rs_pairs_slot_of(q, rs_pairs_hash(key));
            sum += (double)(s >= home ? s - home : s + q->cap - home);
        }
    }
    return p->n ? sum / (double)p->n : 0;
}

/* A table walked in slot order and added to a new one (a state read back,
 * a merge) must not fill the new one in order, in long runs of probes
 * (it did: decoding a state took 8 s instead of 0.4 s). */
Test(pairs, copying_in_walk_order_keeps_probes_short)
{
    uint64_t s = test_seed();
    rs_pairs_t a, b;
    rs_pairs_init(&a);
    rs_pairs_init(&b);
    for (size_t i = 0; i < 400000; i++) {
        const uint64_t k = next_rand(&s);
        cr_assert_eq(rs_pairs_add(&a, k, rs_pairs_hash(k), 1), 0);
    }
    /* the layout is looked at every 4999 adds, not only at the end: a growth
     * puts the keys back in place, so the end hides what the adds cost */
    uint64_t pos = 0;
    double db = 0;
    for (rs_pair_t e; rs_pairs_next(&a, &pos, &e);) {
        cr_assert_eq(rs_pairs_add(&b, e.key, rs_pairs_hash(e.key), e.count), 0);
        if (b.n % 4999 == 0) {
            const double d = mean_displacement(&b);
            db = d > db ? d : db;
        }
    }
    cr_assert_eq(b.n, a.n);
    const double da = mean_displacement(&a);
    fprintf(stderr, "test_pairs: mean displacement %.2f, at most %.2f in the copy as it fills\n", da, db);
    cr_expect_lt(da, 3.0);
    cr_expect_lt(db, 3.0, "the copy's keys sit %.1f slots from home on average", db);
    rs_pairs_free(&a);
    rs_pairs_free(&b);
}

/* Counts past 32 bits move to the side table and stay exact. */
Test(pairs, counts_past_32_bits)
{
    rs_pairs_t p;
    rs_pairs_init(&p);
    const uint64_t k1 = rs_pair_key(1, 2), k2 = rs_pair_key(3, 4), k3 = rs_pair_key(5, 6);
    const uint64_t h1 = rs_pairs_hash(k1), h2 = rs_pairs_hash(k2), h3 = rs_pairs_hash(k3);
    cr_assert_eq(rs_pairs_add(&p, k1, h1, 0xFFFFFFFEull), 0);
    cr_expect_eq(rs_pairs_get(&p, k1, h1), 0xFFFFFFFEull);
    cr_expect_eq(rs_pairs_big_count(&p), 0, "UINT32_MAX - 1 still fits in the slot");
    cr_assert_eq(rs_pairs_add(&p, k1, h1, 1), 0);
    cr_expect_eq(rs_pairs_get(&p, k1, h1), 0xFFFFFFFFull);
    cr_assert_eq(rs_pairs_add(&p, k1, h1, 5), 0);
    cr_expect_eq(rs_pairs_get(&p, k1, h1), 0x100000004ull);
    cr_assert_eq(rs_pairs_add(&p, k2, h2, 1ull << 40), 0, "a new key with a big count");
    cr_expect_eq(rs_pairs_get(&p, k2, h2), 1ull << 40);
    cr_assert_eq(rs_pairs_add(&p, k3, h3, 7), 0);
    cr_expect_eq(p.n, 3);
    cr_expect_eq(rs_pairs_big_count(&p), 2);
    uint64_t pos = 0, sum = 0;
    for (rs_pair_t e; rs_pairs_next(&p, &pos, &e);)
        sum += e.count;
    cr_expect_eq(sum, 0x100000004ull + (1ull << 40) + 7);
    rs_pairs_clear(&p, (size_t)-1);
    cr_expect_eq(rs_pairs_get(&p, k1, h1), 0);
    cr_expect_eq(rs_pairs_big_count(&p), 0);
    rs_pairs_free(&p);
}

Test(pairs, key_halves)
{
    uint32_t a, b;
    rs_pair_split(rs_pair_key(7, 0xFFFFFFFFu), &a, &b);
    cr_expect_eq(a, 7);
    cr_expect_eq(b, 0xFFFFFFFFu);
    const uint32_t mem[2] = {7, 9};
    uint64_t k;
    memcpy(&k, mem, sizeof k);
    cr_expect_eq(rs_pair_key(7, 9), k, "the key is the two ids in memory order");
}

/* Bigrams of dense term ids (how a scan numbers its terms: 0, 1, 2, ...),
 * with Zipf-like skew, must sit near their home slots too: rs_pairs_hash is
 * one multiply, so this is its test on the keys it really gets. */
Test(pairs, dense_term_ids_keep_probes_short)
{
    uint64_t s = test_seed();
    rs_pairs_t p;
    rs_pairs_init(&p);
    for (size_t i = 0; i < 2200000; i++) {
        const uint64_t r = next_rand(&s);
        const uint32_t a = (uint32_t)((r & 0xFFFF) * ((r >> 16) & 0xFFFF) >> 16) % 50000;
        const uint32_t b = (uint32_t)(((r >> 32) & 0xFFFF) * (r >> 48) >> 16) % 50000;
        const uint64_t k = rs_pair_key(a, b);
        cr_assert_eq(rs_pairs_add(&p, k, rs_pairs_hash(k), 1), 0);
    }
    const double d = mean_displacement(&p);
    fprintf(stderr, "test_pairs: %zu dense keys, mean displacement %.2f\n", p.n, d);
    cr_expect_gt(p.n, 2000000);
    cr_expect_lt(d, 3.0, "dense keys sit %.1f slots from home on average", d);
    rs_pairs_free(&p);
}

/* rs_pairs_merge against adding key by key: two tables number the same
 * terms differently (as two workers do), each keeps its bigrams under
 * rs_pairs_bigram_hash of its own ids; merging one into the other part by
 * part, part alone and all at once, must give the counts of a reference, with
 * every key found under its hash afterwards, a count past 32 bits
 * included. */
Test(pairs, merge_part_by_part_renames_terms)
{
    uint64_t s = test_seed();
    enum { TERMS = 2000, ADDS = 300000 };
    uint64_t *th = malloc(TERMS * sizeof *th);             /* a term's hash, by the first table's id */
    uint32_t *to_b = malloc(TERMS * sizeof *to_b);         /* first table's id -> second's */
    uint32_t *to_a = malloc(TERMS * sizeof *to_a);         /* second's -> first's */
    uint64_t *ref = calloc((size_t)TERMS * TERMS, sizeof *ref); /* by first-table key a * TERMS + b */
    cr_assert(th && to_b && to_a && ref);
    for (uint32_t i = 0; i < TERMS; i++) {
        th[i] = next_rand(&s);
        to_b[i] = i;
    }
    for (uint32_t i = TERMS - 1; i > 0; i--) {
        const uint32_t j = (uint32_t)(next_rand(&s) % (i + 1));
        const uint32_t t = to_b[i];
        to_b[i] = to_b[j];
        to_b[j] = t;
    }
    for (uint32_t i = 0; i < TERMS; i++)
        to_a[to_b[i]] = i;
    rs_pairs_t a, b;
    rs_pairs_init(&a);
    rs_pairs_init(&b);
    for (size_t i = 0; i < ADDS; i++) {
        const uint64_t r = next_rand(&s);
        const uint32_t x = (uint32_t)(r % TERMS), y = (uint32_t)((r >> 20) % TERMS);
        const uint64_t n = (r >> 62) + 1;
        ref[(size_t)x * TERMS + y] += n;
        if (r >> 61 & 1) {
            const uint64_t k = rs_pair_key(x, y);
            cr_assert_eq(rs_pairs_add(&a, k, rs_pairs_bigram_hash(k, th[x], th[y]), n), 0);
        } else {
            const uint64_t k = rs_pair_key(to_b[x], to_b[y]);
            cr_assert_eq(rs_pairs_add(&b, k, rs_pairs_bigram_hash(k, th[x], th[y]), n), 0);
        }
    }
    /* a count past 32 bits in the second table, on a key the first has too */
    const uint64_t kb = rs_pair_key(to_b[1], to_b[2]), ka = rs_pair_key(1, 2);
    cr_assert_eq(rs_pairs_add(&b, kb, rs_pairs_bigram_hash(kb, th[1], th[2]), 1ull << 33), 0);
    cr_assert_eq(rs_pairs_add(&a, ka, rs_pairs_bigram_hash(ka, th[1], th[2]), 5), 0);
    ref[1 * TERMS + 2] += (1ull << 33) + 5;
    /* the first parts one at a time (as workers merge at once), the rest in
     * one call */
    const size_t before = a.n;
    size_t added = 0;
    for (unsigned part = 0; part < 100; part++) {
        size_t n;
        cr_assert_eq(rs_pairs_merge_part(&a, &b, to_a, part, &n), 0);
        cr_assert_eq(a.n, before, "rs_pairs_merge_part leaves n to its caller");
        added += n;
    }
    a.n += added;
    rs_pairs_t rest = b; /* b without its first 100 parts, as a view */
    for (unsigned part = 0; part < 100; part++)
        rest.part[part] = (rs_pairs_part_t){0};
    cr_assert_eq(rs_pairs_merge(&a, &rest, to_a), 0);
    size_t distinct = 0;
    for (uint32_t x = 0; x < TERMS; x++) {
        for (uint32_t y = 0; y < TERMS; y++) {
            const uint64_t k = rs_pair_key(x, y);
            const uint64_t got = rs_pairs_get(&a, k, rs_pairs_bigram_hash(k, th[x], th[y]));
            cr_assert_eq(got, ref[(size_t)x * TERMS + y], "bigram (%u, %u): %llu, the reference %llu", x, y,
                         (unsigned long long)got, (unsigned long long)ref[(size_t)x * TERMS + y]);
            distinct += ref[(size_t)x * TERMS + y] != 0;
        }
    }
    cr_expect_eq(a.n, distinct);
    rs_pairs_free(&a);
    rs_pairs_free(&b);
    free(ref);
    free(to_a);
    free(to_b);
    free(th);
}

/* Whether a and b hold the same keys in the same slots of the same parts. */
static void expect_same_slots(const rs_pairs_t *a, const rs_pairs_t *b)
{
    cr_expect_eq(a->n, b->n, "keys: %zu against %zu", a->n, b->n);
    for (size_t q = 0; q < RS_PAIRS_PARTS; q++) {
        const rs_pairs_part_t *x = &a->part[q], *y = &b->part[q];
        cr_assert_eq(x->cap, y->cap, "part %zu: %u slots against %u", q, x->cap, y->cap);
        cr_assert_eq(x->n, y->n, "part %zu", q);
        cr_assert(x->cap == 0 || memcmp(x->slot, y->slot, x->cap * sizeof *x->slot) == 0, "part %zu: slots differ", q);
    }
}

Test(pairs, a_batch_leaves_every_part_as_direct_adds_do)
{
    uint64_t s = test_seed();
    /* bigram-like keys (two term ids) under their bigram hashes, skewed so
     * that some parts fill their bucket many times over and others never;
     * two tables taken in turns, so that a key for the other table flushes
     * what waits for this one */
    enum { TERMS = 3000, ADDS = 3 * RS_PAIRS_PARTS * RS_PAIRS_BATCH / 2 };
    uint64_t *th = malloc(TERMS * sizeof *th);
    cr_assert(th);
    for (size_t i = 0; i < TERMS; i++)
        th[i] = next_rand(&s);
    rs_pairs_t direct[2], batched[2];
    rs_pairs_batch_t b;
    rs_pairs_batch_init(&b);
    b.from = 1000; /* small tables at once, then in batches */
    for (int t = 0; t < 2; t++) {
        rs_pairs_init(&direct[t]);
        rs_pairs_init(&batched[t]);
    }
    size_t waited = 0;
    for (size_t i = 0; i < ADDS; i++) {
        const uint64_t r = next_rand(&s);
        const uint32_t x = (uint32_t)((r % TERMS) * ((r >> 20) % TERMS) / TERMS), y = (uint32_t)((r >> 40) % TERMS);
        const uint64_t key = rs_pair_key(x, y), h = rs_pairs_bigram_hash(key, th[x], th[y]);
        const int t = (i / 100000) % 2;
        cr_assert_eq(rs_pairs_add(&direct[t], key, h, 1), 0);
        cr_assert_eq(rs_pairs_batch_add(&b, &batched[t], key, h), 0);
        if (b.n > waited)
            waited = b.n;
    }
    cr_expect_gt(waited, RS_PAIRS_BATCH, "keys waited together (%zu at most)", waited);
    cr_expect_gt(b.n, 0, "keys wait until the flush");
    cr_assert_eq(rs_pairs_batch_flush(&b), 0);
    cr_expect_eq(b.n, 0);
    cr_assert_eq(rs_pairs_batch_flush(&b), 0, "a flush with nothing waiting");
    for (int t = 0; t < 2; t++) {
        expect_same_slots(&direct[t], &batched[t]);
        rs_pairs_free(&direct[t]);
        rs_pairs_free(&batched[t]);
    }
    rs_pairs_batch_free(&b);
    free(th);
}

Test(pairs, a_small_table_takes_a_batch_key_at_once)
{
    rs_pairs_t p;
    rs_pairs_batch_t b;
    rs_pairs_init(&p);
    rs_pairs_batch_init(&b);
    cr_assert_eq(b.from, RS_PAIRS_BATCH_FROM);
    for (uint64_t k = 0; k < 5000; k++)
        cr_assert_eq(rs_pairs_batch_add(&b, &p, k, rs_pairs_hash(k)), 0);
    cr_expect_eq(b.n, 0, "nothing waits for a table of fewer than %u keys", RS_PAIRS_BATCH_FROM);
    cr_expect_null(b.key, "no buckets allocated");
    cr_expect_eq(p.n, 5000);
    cr_expect_eq(rs_pairs_get(&p, 4999, rs_pairs_hash(4999)), 1);
    rs_pairs_batch_free(&b);
    rs_pairs_free(&p);
}
