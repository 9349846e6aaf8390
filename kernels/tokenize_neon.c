/*
 * tokenize_neon.c - the SIMD tokenizer (simd_tokenize.h) for AArch64 with
 * NEON (always present there): a 64-byte window is four 128-bit registers;
 * classes come from tbl nibble lookups, and a 64-bit mask from four compare
 * results by weighting each byte with its bit and adding pairwise. Compiled
 * only when targeting little-endian aarch64; empty elsewhere. Exports
 * rs_kernels_neon.
 */
#if defined(__aarch64__) && defined(__ARM_NEON) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__

#include <arm_neon.h>
#include <stdint.h>

#include "kernels.h" /* rs_kernels_t, RS_CPU_NEON */

#define RS_ISA neon
#define RS_ISA_NAME "neon"
#define RS_ISA_DESCRIPTION "NEON: 64-byte windows as four 128-bit vectors"
#define RS_ISA_REQUIRED RS_CPU_NEON

typedef struct rs_win {
    uint8x16_t v[4];
} rs_win_t;

static inline rs_win_t rs_win_load(const uint8_t *p)
{
    rs_win_t w;
    for (int i = 0; i < 4; i++)
        w.v[i] = vld1q_u8(p + 16 * i);
    return w;
}

/* Bit j of the result: byte j of the 64 is 0xFF (each byte 0x00 or 0xFF). */
static inline uint64_t rs_win_bits(const uint8x16_t v[4])
{
    static const uint8_t weight[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t wt = vld1q_u8(weight);
    const uint8x16_t s0 = vpaddq_u8(vandq_u8(v[0], wt), vandq_u8(v[1], wt));
    const uint8x16_t s1 = vpaddq_u8(vandq_u8(v[2], wt), vandq_u8(v[3], wt));
    const uint8x16_t s2 = vpaddq_u8(s0, s1);
    const uint8x16_t s3 = vpaddq_u8(s2, s2);
    return vgetq_lane_u64(vreinterpretq_u64_u8(s3), 0);
}

static inline uint64_t rs_win_high(rs_win_t w)
{
    uint8x16_t r[4];
    for (int i = 0; i < 4; i++)
        r[i] = vcgeq_u8(w.v[i], vdupq_n_u8(0x80));
    return rs_win_bits(r);
}

static inline uint64_t rs_win_eq(rs_win_t w, uint8_t v)
{
    uint8x16_t r[4];
    for (int i = 0; i < 4; i++)
        r[i] = vceqq_u8(w.v[i], vdupq_n_u8(v));
    return rs_win_bits(r);
}

static inline rs_win_t rs_win_lookup(rs_win_t w, const uint8_t lo[16], const uint8_t hi[16])
{
    const uint8x16_t tl = vld1q_u8(lo), th = vld1q_u8(hi);
    rs_win_t r;
    for (int i = 0; i < 4; i++)
        r.v[i] = vandq_u8(vqtbl1q_u8(tl, vandq_u8(w.v[i], vdupq_n_u8(0x0F))), vqtbl1q_u8(th, vshrq_n_u8(w.v[i], 4)));
    return r;
}

static inline rs_win_t rs_win_and(rs_win_t a, rs_win_t b)
{
    rs_win_t r;
    for (int i = 0; i < 4; i++)
        r.v[i] = vandq_u8(a.v[i], b.v[i]);
    return r;
}

static inline uint64_t rs_win_any(rs_win_t w, uint8_t bits)
{
    uint8x16_t r[4];
    for (int i = 0; i < 4; i++)
        r[i] = vtstq_u8(w.v[i], vdupq_n_u8(bits));
    return rs_win_bits(r);
}

#include "simd_tokenize.h"

#else
typedef int rs_tokenize_neon_unused_t; /* not built for this target */
#endif
