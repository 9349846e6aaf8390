/*
 * test_hash.c - rs_hash64 (kernels/hash.h): against the definition in
 * docs/tokens.md spelled out a byte at a time, on random bytes of every
 * length from 0 to 80 at every alignment; the portable 128-bit multiply
 * against the compiler's; recorded values (a change to the definition must
 * bump RS_STATE_FORMAT, whose header checksum and lexicon digests use it);
 * and its spread on a million short distinct keys (no 64-bit collision,
 * even slot and tag bits, every input bit flipping each output bit about
 * half the time; every key of one or two bytes told apart). Seeds are
 * fixed: every run checks the same cases.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "state.h" /* RS_STATE_FORMAT */

static uint64_t rng_next(uint64_t *s)
{
    *s += 0x9E3779B97F4A7C15ull;
    uint64_t z = *s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The product a * b as four 16-bit limbs each, schoolbook: the
 * definition of mum, independent of both implementations. */
static uint64_t spec_mum(uint64_t a, uint64_t b)
{
    uint32_t r[8] = {0};
    for (int i = 0; i < 4; i++) {
        uint64_t carry = 0;
        for (int j = 0; j < 4; j++) {
            const uint64_t t = ((a >> (16 * i)) & 0xFFFF) * ((b >> (16 * j)) & 0xFFFF) + r[i + j] + carry;
            r[i + j] = (uint32_t)(t & 0xFFFF);
            carry = t >> 16;
        }
        r[i + 4] += (uint32_t)carry;
    }
    uint64_t lo = 0, hi = 0;
    for (int k = 0; k < 4; k++) {
        lo |= (uint64_t)r[k] << (16 * k);
        hi |= (uint64_t)r[k + 4] << (16 * k);
    }
    return lo ^ hi;
}

/* docs/tokens.md: h = n * P1; per 16-byte chunk (one zero chunk for n = 0)
 * h = mum(lo ^ K0, hi ^ h ^ K1); mum(h ^ K2, K3). */
static uint64_t spec_hash(const uint8_t *p, size_t n)
{
    uint64_t h = (uint64_t)n * 0x9E3779B185EBCA87ull;
    size_t i = 0;
    do {
        uint64_t w[2] = {0, 0};
        for (size_t q = 0; q < 16 && i + q < n; q++)
            w[q / 8] |= (uint64_t)p[i + q] << (8 * (q % 8));
        h = spec_mum(w[0] ^ 0x7D81D544BB08D0FFull, w[1] ^ h ^ 0x5A486531020173E1ull);
        i += 16;
    } while (i < n);
    return spec_mum(h ^ 0x3440B0841534F73Bull, 0x2C21A4B6C51A1991ull);
}

Test(hash, mum_portable_and_native_equal_the_schoolbook_product)
{
    static const uint64_t edge[] = {0, 1, 2, 0xFFFFFFFFull, 0x100000000ull, 0x100000001ull, 0xFFFFFFFF00000000ull,
                                    0x8000000000000000ull, ~0ull, ~0ull - 1, RS_HASH_K0, RS_HASH_K3};
    const size_t ne = sizeof edge / sizeof edge[0];
    for (size_t i = 0; i < ne; i++)
        for (size_t j = 0; j < ne; j++) {
            const uint64_t a = edge[i], b = edge[j], want = spec_mum(a, b);
            cr_assert_eq(rs_hash_mum_portable(a, b), want, "portable mum(%llx, %llx)", (unsigned long long)a,
                         (unsigned long long)b);
            cr_assert_eq(rs_hash_mum(a, b), want, "mum(%llx, %llx)", (unsigned long long)a, (unsigned long long)b);
        }
    uint64_t s = 1;
    for (int i = 0; i < 200000; i++) {
        const uint64_t a = rng_next(&s), b = rng_next(&s) >> (i % 64), want = spec_mum(a, b);
        cr_assert_eq(rs_hash_mum_portable(a, b), want, "portable mum(%llx, %llx)", (unsigned long long)a,
                     (unsigned long long)b);
        cr_assert_eq(rs_hash_mum(a, b), want, "mum(%llx, %llx)", (unsigned long long)a, (unsigned long long)b);
    }
}

Test(hash, equals_the_documented_definition_at_every_length_and_alignment)
{
    uint8_t buf[80 + 16];
    uint64_t s = 2;
    for (int round = 0; round < 20; round++) {
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = (uint8_t)rng_next(&s);
        for (size_t n = 0; n <= 80; n++)
            for (size_t a = 0; a < 16; a++)
                cr_assert_eq(rs_hash64(buf + a, n), spec_hash(buf + a, n), "length %zu at offset %zu, round %d", n,
                             a, round);
    }
}

/* Values recorded when the definition was written (2026-12-04). When one
 * changes, so do state files: bump RS_STATE_FORMAT, then these. */
Test(hash, recorded_values)
{
    static const struct {
        const char *s;
        uint64_t h;
    } v[] = {
        {"", 0x8AACAF3CE777EB84ull},
        {"a", 0x1488E986C47183C5ull},
        {"the", 0xB74243EC1446D21Full},
        {"rostrum", 0x8C135EFE756CB2E0ull},
        {"transcripts", 0x7A534D4C8CC122A6ull},
        {"sixteen bytes!!!", 0xA765E5ABA0BAA271ull},
        {"seventeen bytes!!", 0x32C751B425FDAEA5ull},
        {"\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", 0xACC82EBEF97F614Bull}, /* привет */
    };
    cr_expect_eq(RS_STATE_FORMAT, 2, "RS_STATE_FORMAT moved: check that these values are still the ones it expects");
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        cr_expect_eq(rs_hash64(v[i].s, strlen(v[i].s)), v[i].h, "rs_hash64(\"%s\") = 0x%016llX", v[i].s,
                     (unsigned long long)rs_hash64(v[i].s, strlen(v[i].s)));
}

static int cmp_u64(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Chi-square statistic of counts in nb buckets against an even spread. */
static double chi2(const uint32_t *cnt, size_t nb, size_t n)
{
    const double e = (double)n / (double)nb;
    double x = 0;
    for (size_t i = 0; i < nb; i++)
        x += ((double)cnt[i] - e) * ((double)cnt[i] - e) / e;
    return x;
}

/* Key i: i in base 26 as lowercase letters, then 0 to 19 capitals that
 * make the lengths vary from 1 to 24 bytes (the shapes of words); the
 * case change keeps the keys distinct. */
static size_t make_word(uint8_t *p, uint32_t i)
{
    size_t n = 0;
    for (uint32_t v = i;; v /= 26) {
        p[n++] = (uint8_t)('a' + v % 26);
        if (v < 26)
            break;
    }
    const size_t extra = (size_t)(i * 2654435761u >> 27) % 20; /* 0..19 */
    for (size_t k = 0; k < extra; k++)
        p[n++] = (uint8_t)('A' + (i + k) % 26);
    return n;
}

Test(hash, a_million_short_keys_spread_evenly)
{
    enum { N = 1000000, NB = 1 << 16 };
    uint64_t *h = malloc(N * sizeof *h);
    uint32_t *lo = calloc(NB, sizeof *lo), *tag = calloc(NB, sizeof *tag);
    cr_assert(h && lo && tag);
    uint8_t key[32];
    for (uint32_t i = 0; i < N; i++) {
        const size_t n = make_word(key, i);
        h[i] = rs_hash64(key, n);
        lo[h[i] & (NB - 1)]++;    /* the bits a table's slot comes from */
        tag[(h[i] >> 48) & (NB - 1)]++; /* the top of a dict's 32-bit tag */
    }
    /* 65535 degrees of freedom: mean 65535, sd 362; 6 sd either way */
    const double c1 = chi2(lo, NB, N), c2 = chi2(tag, NB, N);
    cr_expect(c1 > 65535 - 6 * 362 && c1 < 65535 + 6 * 362, "low 16 bits: chi-square %.0f", c1);
    cr_expect(c2 > 65535 - 6 * 362 && c2 < 65535 + 6 * 362, "bits 48-63: chi-square %.0f", c2);
    qsort(h, N, sizeof *h, cmp_u64);
    size_t same = 0;
    for (size_t i = 1; i < N; i++)
        same += h[i] == h[i - 1];
    cr_expect_eq(same, 0, "%zu 64-bit collisions among %d distinct keys", same, N);
    free(h);
    free(lo);
    free(tag);
}

Test(hash, every_key_of_one_or_two_bytes_is_told_apart)
{
    enum { N = 256 + 65536, NB = 1 << 12 };
    uint64_t *h = malloc(N * sizeof *h);
    uint32_t *lo = calloc(NB, sizeof *lo);
    cr_assert(h && lo);
    for (uint32_t i = 0; i < N; i++) {
        const uint8_t key[2] = {(uint8_t)i, (uint8_t)(i >> 8)};
        h[i] = rs_hash64(key, i < 256 ? 1 : 2);
        if (i >= 256)
            lo[h[i] & (NB - 1)]++;
    }
    /* 4095 degrees of freedom: sd 90.5; 6 sd either way */
    const double c = chi2(lo, NB, 65536);
    cr_expect(c > 4095 - 6 * 90.5 && c < 4095 + 6 * 90.5, "two-byte keys, low 12 bits: chi-square %.0f", c);
    qsort(h, N, sizeof *h, cmp_u64);
    for (size_t i = 1; i < N; i++)
        cr_assert_neq(h[i], h[i - 1], "two keys of one or two bytes share the hash 0x%016llX", (unsigned long long)h[i]);
    free(h);
    free(lo);
}

/* Keys of 4 bytes and more: fewer than that have too few values for 2,000
 * samples to be independent (they are all told apart above). */
Test(hash, every_input_bit_flips_each_output_bit_about_half_the_time)
{
    enum { SAMPLES = 2000 };
    uint64_t s = 3;
    static const size_t lens[] = {4, 5, 8, 12, 16, 20};
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        const size_t n = lens[li];
        for (size_t bit = 0; bit < 8 * n; bit++) {
            uint32_t flips[64] = {0};
            for (int k = 0; k < SAMPLES; k++) {
                uint8_t key[24];
                for (size_t i = 0; i < n; i++)
                    key[i] = (uint8_t)rng_next(&s);
                const uint64_t a = rs_hash64(key, n);
                key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                const uint64_t d = a ^ rs_hash64(key, n);
                for (int o = 0; o < 64; o++)
                    flips[o] += (uint32_t)(d >> o & 1);
            }
            /* binomial(2000, 1/2): sd 22.4; 0.4 and 0.6 are 9 sd away */
            for (int o = 0; o < 64; o++)
                cr_assert(flips[o] > SAMPLES * 4 / 10 && flips[o] < SAMPLES * 6 / 10,
                          "length %zu, input bit %zu: output bit %d flipped %u times in %d", n, bit, o, flips[o],
                          SAMPLES);
        }
    }
}
