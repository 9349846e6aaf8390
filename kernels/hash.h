/*
 * hash.h - rs_hash64, the one hash of folded token bytes that every backend
 * (scalar, SIMD, OpenCL) computes identically.
 *
 * Sixteen bytes at a time: each 16-byte chunk (two little-endian words, the
 * last chunk zero-padded; one zero chunk for n = 0) is folded into the
 * running value with one 64 x 64 -> 128-bit multiply whose halves are
 * XORed (rs_hash_mum), the length is the seed, and a last multiply of the
 * same kind by a constant spreads every input bit over the whole value:
 *     h = n * P1
 *     for each chunk (lo, hi):  h = mum(lo ^ K0, hi ^ h ^ K1)
 *     hash = mum(h ^ K2, K3)
 * A token of up to 16 bytes (nearly all of them) costs two multiplies in a
 * chain, where the word-at-a-time hash used before cost six (the AVX2
 * tokenizer is 14 % faster with this one, bench/RESULTS.md). K0's low byte
 * is 0xFF, which never begins a UTF-8 character, so lo ^ K0 is never zero
 * for text (a zero factor would drop the rest of the chunk). The value never reaches a
 * report: reports are sorted by counts and names. It must still never
 * change between backends, since tables built by different backends are
 * merged; RS_HASH_P1, P2, rs_hash_rotl and rs_hash_fmix stay for the other
 * mixes of the host (checksums, digests).
 */
#ifndef RS_HASH_H
#define RS_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define RS_HASH_P1 0x9E3779B185EBCA87ULL
#define RS_HASH_P2 0xC2B2AE3D27D4EB4FULL
#define RS_HASH_K0 0x7D81D544BB08D0FFULL
#define RS_HASH_K1 0x5A486531020173E1ULL
#define RS_HASH_K2 0x3440B0841534F73BULL
#define RS_HASH_K3 0x2C21A4B6C51A1991ULL

static inline uint64_t rs_hash_rotl(uint64_t x, unsigned r)
{
    return (x << r) | (x >> (64 - r));
}

static inline uint64_t rs_hash_fmix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 33;
    return h;
}

static inline uint64_t rs_hash_load_le(const uint8_t *p, size_t n)
{
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++)
        w |= (uint64_t)p[i] << (8 * i);
    return w;
}

/* The low and high halves of the 128-bit product a * b, XORed: written
 * with 32-bit halves, for compilers without a 128-bit type (the tests
 * compare it with rs_hash_mum on every run). */
static inline uint64_t rs_hash_mum_portable(uint64_t a, uint64_t b)
{
    const uint64_t al = a & 0xFFFFFFFFu, ah = a >> 32, bl = b & 0xFFFFFFFFu, bh = b >> 32;
    const uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    const uint64_t mid = (ll >> 32) + (lh & 0xFFFFFFFFu) + (hl & 0xFFFFFFFFu); /* < 3 * 2^32 */
    const uint64_t lo = (mid << 32) | (ll & 0xFFFFFFFFu);
    const uint64_t hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
    return lo ^ hi;
}

#if defined(__SIZEOF_INT128__)
__extension__ typedef unsigned __int128 rs_hash_u128_t;
#endif

/* The same with the compiler's 128-bit multiply where it has one (one
 * mul or mulx on x86-64, mul and umulh on Arm). */
static inline uint64_t rs_hash_mum(uint64_t a, uint64_t b)
{
#if defined(__SIZEOF_INT128__)
    const rs_hash_u128_t p = (rs_hash_u128_t)a * b;
    return (uint64_t)p ^ (uint64_t)(p >> 64);
#else
    return rs_hash_mum_portable(a, b);
#endif
}

/* One chunk of rs_hash64: the running value h and the chunk's two words
 * (zero-padded). */
static inline uint64_t rs_hash_step(uint64_t h, uint64_t lo, uint64_t hi)
{
    return rs_hash_mum(lo ^ RS_HASH_K0, hi ^ h ^ RS_HASH_K1);
}

/* The last step of rs_hash64. */
static inline uint64_t rs_hash_final(uint64_t h)
{
    return rs_hash_mum(h ^ RS_HASH_K2, RS_HASH_K3);
}

/* Hash of n bytes at p; defined for any n (0 included). Can't fail. */
static inline uint64_t rs_hash64(const void *data, size_t n)
{
    const uint8_t *p = (const uint8_t *)data;
    uint64_t h = (uint64_t)n * RS_HASH_P1;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        uint64_t w[2];
        memcpy(w, p + i, 16);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        w[0] = __builtin_bswap64(w[0]);
        w[1] = __builtin_bswap64(w[1]);
#endif
        h = rs_hash_step(h, w[0], w[1]);
    }
    if (i < n || n == 0) {
        const size_t r = n - i; /* 0..15 */
        const uint64_t lo = rs_hash_load_le(p + i, r < 8 ? r : 8);
        const uint64_t hi = r > 8 ? rs_hash_load_le(p + i + 8, r - 8) : 0;
        h = rs_hash_step(h, lo, hi);
    }
    return rs_hash_final(h);
}

#endif
