/*
 * hash.h - rs_hash64, the one hash of folded token bytes that every backend
 * (scalar, SIMD, OpenCL) computes identically.
 *
 * Word at a time: 8-byte little-endian words (the last one zero-padded),
 * each mixed in with a multiply and a rotate, the length folded into the
 * seed, and a final avalanche (the MurmurHash3 64-bit finaliser). The value
 * never reaches a report: reports are sorted by counts and names. It must
 * still never change between backends, since tables built by different
 * backends are merged.
 */
#ifndef RS_HASH_H
#define RS_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define RS_HASH_P1 0x9E3779B185EBCA87ULL
#define RS_HASH_P2 0xC2B2AE3D27D4EB4FULL

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

/* Hash of n bytes at p; defined for any n (0 included). Can't fail. */
static inline uint64_t rs_hash64(const void *data, size_t n)
{
    const uint8_t *p = (const uint8_t *)data;
    uint64_t h = (uint64_t)n * RS_HASH_P1;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        w = __builtin_bswap64(w);
#endif
        h = rs_hash_rotl(h ^ (w * RS_HASH_P2), 31) * RS_HASH_P1;
    }
    if (i < n)
        h = rs_hash_rotl(h ^ (rs_hash_load_le(p + i, n - i) * RS_HASH_P2), 31) * RS_HASH_P1;
    return rs_hash_fmix(h);
}

#endif
