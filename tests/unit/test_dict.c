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
