/*
 * test_dict.c - rs_dict_t (host/dict.h): keys of every length from 0 to 40
 * bytes at every alignment, keys that differ in one byte only (at each
 * position: the head, the word at the end of keys up to 16 bytes, the
 * memcmp of longer ones), dense ids across growth, and clearing; the
 * readable-end forms (rs_dict_head_in, rs_dict_get_in, rs_dict_put_in)
 * against the plain ones, with other bytes after the key and every end.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "hash.h"

/* Key number i of length len, written at p: all the same bytes but one
 * (position i % len holds i / len + 1), so keys of one length differ in one
 * byte only. */
static void make_key(uint8_t *p, size_t len, size_t i)
{
    memset(p, 'k', len);
    if (len)
        p[i % len] = (uint8_t)('k' + 1 + i / len);
}

Test(dict, keys_that_differ_in_one_byte_at_every_length_and_alignment)
{
    enum { MAXLEN = 40, PER = 80 };
    rs_dict_t d;
    rs_dict_init(&d, sizeof(uint64_t));
    uint8_t buf[MAXLEN + 16];
    size_t n = 0;
    for (size_t len = 0; len <= MAXLEN; len++)
        for (size_t i = 0; i < (len ? PER : 1); i++) {
            uint8_t *k = buf + (i % 8); /* every alignment */
            make_key(k, len, i);
            int created = -1;
            const int64_t id = rs_dict_put(&d, k, len, rs_hash64(k, len), &created);
            cr_assert_eq(id, (int64_t)n, "length %zu key %zu: id %lld", len, i, (long long)id);
            cr_assert_eq(created, 1);
            *(uint64_t *)rs_dict_val(&d, (size_t)id) = len * 1000 + i;
            n++;
        }
    cr_assert_eq(d.n, n);
    /* all found again, at other alignments, with their values and keys */
    for (size_t len = 0, id = 0; len <= MAXLEN; len++)
        for (size_t i = 0; i < (len ? PER : 1); i++, id++) {
            uint8_t *k = buf + 8 + (i % 7);
            make_key(k, len, i);
            const uint64_t h = rs_hash64(k, len);
            cr_assert_eq(rs_dict_get(&d, k, len, h), (int64_t)id, "length %zu key %zu", len, i);
            int created = -1;
            cr_assert_eq(rs_dict_put(&d, k, len, h, &created), (int64_t)id);
            cr_assert_eq(created, 0);
            cr_assert_eq(*(const uint64_t *)rs_dict_val(&d, id), len * 1000 + i);
            size_t kl;
            const char *s = rs_dict_key(&d, id, &kl);
            cr_assert_eq(kl, len);
            cr_assert_eq(memcmp(s, k, len), 0);
            cr_assert_eq(s[len], '\0');
            cr_assert_eq(rs_dict_hash(&d, id), h);
        }
    /* absent: one byte more, one byte changed ('j' is in no key) */
    for (size_t len = 1; len <= MAXLEN; len++) {
        uint8_t *k = buf + 3;
        make_key(k, len, 0);
        k[len] = 'j';
        cr_expect_eq(rs_dict_get(&d, k, len + 1, rs_hash64(k, len + 1)), -1, "length %zu + 1", len);
        for (size_t pos = 0; pos < len; pos++) {
            make_key(k, len, PER - 1);
            k[pos] = 'j';
            cr_expect_eq(rs_dict_get(&d, k, len, rs_hash64(k, len)), -1, "length %zu, byte %zu changed", len, pos);
        }
    }
    rs_dict_free(&d);
}

/* The _in forms read up to 16 bytes from the key whatever its length when
 * that many are readable: they must give what the plain forms give, with
 * any bytes after the key, and fall back when the end is near (or before
 * the key: a token view with no capacity). Records are 64-byte aligned. */
Test(dict, readable_end_forms_equal_the_plain_ones)
{
    enum { MAXLEN = 40, PER = 12 };
    rs_dict_t d;
    rs_dict_init(&d, 24); /* a term's value: 40 + 24 bytes a record */
    uint8_t buf[MAXLEN + 64];
    size_t n = 0;
    for (size_t len = 0; len <= MAXLEN; len++)
        for (size_t i = 0; i < (len ? PER : 1); i++, n++) {
            uint8_t *k = buf + (i % 8);
            memset(buf, (int)(0x80 + i), sizeof buf); /* other bytes after the key */
            make_key(k, len, i);
            const uint8_t *end = k + len + (i % 20); /* 0 to 19 bytes readable after */
            cr_assert_eq(rs_dict_head_in(k, len, end), rs_dict_head(k, len), "length %zu, %zu after", len, i % 20);
            cr_assert_eq(rs_dict_tail_in(k, len, end), rs_dict_tail(k, len), "length %zu, %zu after", len, i % 20);
            cr_assert_eq(rs_dict_put_in(&d, k, len, rs_hash64(k, len), i % 3 ? end : buf, NULL), (int64_t)n,
                         "length %zu key %zu", len, i);
        }
    cr_assert_eq((uintptr_t)d.rec % 64, 0);
    cr_assert_eq(d.stride, 64);
    for (size_t len = 0, id = 0; len <= MAXLEN; len++)
        for (size_t i = 0; i < (len ? PER : 1); i++, id++) {
            uint8_t *k = buf + 8 + (i % 7);
            memset(buf, (int)('k' + 1 + i), sizeof buf); /* after the key: bytes of other keys */
            make_key(k, len, i);
            const uint64_t h = rs_hash64(k, len);
            cr_assert_eq(rs_dict_get_in(&d, k, len, h, buf + sizeof buf), (int64_t)id, "length %zu key %zu", len, i);
            int created = -1;
            cr_assert_eq(rs_dict_put_in(&d, k, len, h, k + len, &created), (int64_t)id);
            cr_assert_eq(created, 0);
            if (len) { /* one byte changed, or one byte shorter: absent */
                k[len - 1] ^= 0x40;
                cr_expect_eq(rs_dict_get_in(&d, k, len, rs_hash64(k, len), buf + sizeof buf), -1);
                k[len - 1] ^= 0x40;
                const uint64_t h1 = rs_hash64(k, len - 1); /* the key's first len - 1 bytes */
                cr_expect_eq(rs_dict_get_in(&d, k, len - 1, h1, buf + sizeof buf), rs_dict_get(&d, k, len - 1, h1),
                             "length %zu key %zu, one byte shorter", len, i);
            }
        }
    rs_dict_free(&d);
}

/* The same key with a wrong hash is not found (the hash picks the slot);
 * two keys forced to one hash are told apart by their bytes. */
Test(dict, keys_sharing_a_hash_are_told_apart)
{
    rs_dict_t d;
    rs_dict_init(&d, 8);
    const char *keys[] = {"abcdefgh", "abcdefgi", "abcdefghij", "abcdefghik", "abcdefghijklmnopqrs",
                          "abcdefghijklmnopqrt", "a", "b", ""};
    const size_t nk = sizeof keys / sizeof keys[0];
    for (size_t i = 0; i < nk; i++)
        cr_assert_eq(rs_dict_put(&d, keys[i], strlen(keys[i]), 42, NULL), (int64_t)i);
    for (size_t i = 0; i < nk; i++)
        cr_assert_eq(rs_dict_get(&d, keys[i], strlen(keys[i]), 42), (int64_t)i, "%s", keys[i]);
    cr_expect_eq(rs_dict_get(&d, "abcdefgj", 8, 42), -1);
    cr_expect_eq(rs_dict_get(&d, "abcdefghijklmnopqru", 19, 42), -1);
    rs_dict_free(&d);
}

/* Every key under one hash, so that each lookup compares bytes with the
 * keys before it in the probe: keys of 0 to 40 bytes that differ from
 * others of their length in one byte, at each position (the head, the
 * tail, the arena's rest), found as themselves, in both forms; a byte
 * changed anywhere, absent. */
Test(dict, one_hash_keys_are_told_apart_by_every_byte)
{
    enum { MAXLEN = 40 };
    rs_dict_t d;
    rs_dict_init(&d, 8);
    uint8_t k[MAXLEN + 16];
    const uint64_t h = 7;
    int64_t next = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t len = 0; len <= MAXLEN; len++)
            for (size_t pos = 0; pos <= len; pos++) { /* pos == len: the key of all 'k' */
                memset(k, 'k', sizeof k);
                if (pos < len)
                    k[pos] = 'm';
                memset(k + len, pass ? 'm' : 'k', sizeof k - len); /* what follows must not count */
                if (pass == 0) {
                    cr_assert_eq(rs_dict_put(&d, k, len, h, NULL), next, "length %zu, byte %zu", len, pos);
                    next++;
                    continue;
                }
                const int64_t id = rs_dict_get(&d, k, len, h);
                cr_assert_geq(id, 0, "length %zu, byte %zu", len, pos);
                cr_assert_eq(rs_dict_get_in(&d, k, len, h, k + sizeof k), id, "length %zu, byte %zu", len, pos);
                size_t kl;
                const char *s = rs_dict_key(&d, (size_t)id, &kl);
                cr_assert(kl == len && memcmp(s, k, len) == 0, "length %zu, byte %zu: another key", len, pos);
                if (pos < len) {
                    k[pos] = 'j';
                    cr_assert_eq(rs_dict_get(&d, k, len, h), -1, "length %zu, byte %zu changed", len, pos);
                    cr_assert_eq(rs_dict_get_in(&d, k, len, h, k + sizeof k), -1, "length %zu, byte %zu changed",
                                 len, pos);
                }
            }
    /* keys of zero bytes: their words are all 0, only their lengths differ
     * (the empty key is in already) */
    static const uint8_t zeros[MAXLEN + 16];
    for (size_t len = 1; len <= MAXLEN; len++)
        cr_assert_eq(rs_dict_put(&d, zeros, len, h, NULL), next + (int64_t)len - 1, "%zu zero bytes", len);
    for (size_t len = 1; len <= MAXLEN; len++) {
        const int64_t id = next + (int64_t)len - 1;
        cr_assert_eq(rs_dict_get(&d, zeros, len, h), id, "%zu zero bytes", len);
        cr_assert_eq(rs_dict_get_in(&d, zeros, len, h, zeros + sizeof zeros), id, "%zu zero bytes", len);
    }
    rs_dict_free(&d);
}

Test(dict, ids_stay_across_growth_and_clear_empties)
{
    rs_dict_t d;
    rs_dict_init(&d, sizeof(uint32_t));
    char k[32];
    for (uint32_t i = 0; i < 100000; i++) {
        const int len = snprintf(k, sizeof k, "term%u", i);
        const int64_t id = rs_dict_put(&d, k, (size_t)len, rs_hash64(k, (size_t)len), NULL);
        cr_assert_eq(id, (int64_t)i);
        *(uint32_t *)rs_dict_val(&d, (size_t)id) = i ^ 0x5555u;
    }
    for (uint32_t i = 0; i < 100000; i += 7) {
        const int len = snprintf(k, sizeof k, "term%u", i);
        const int64_t id = rs_dict_get(&d, k, (size_t)len, rs_hash64(k, (size_t)len));
        cr_assert_eq(id, (int64_t)i);
        cr_assert_eq(*(const uint32_t *)rs_dict_val(&d, (size_t)id), i ^ 0x5555u);
    }
    for (int keep = 0; keep < 2; keep++) {
        rs_dict_clear(&d, keep ? (size_t)-1 : 0);
        cr_assert_eq(d.n, 0);
        cr_assert_eq(rs_dict_get(&d, "term1", 5, rs_hash64("term1", 5)), -1);
        cr_assert_eq(rs_dict_put(&d, "term1", 5, rs_hash64("term1", 5), NULL), 0);
        cr_assert_eq(*(const uint32_t *)rs_dict_val(&d, 0), 0, "a new value is zeroed");
    }
    rs_dict_free(&d);
}
