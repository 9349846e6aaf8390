/*
 * tokenize_avx2.c - the SIMD tokenizer (simd_tokenize.h) for x86-64 with
 * AVX2, BMI1, BMI2, POPCNT and LZCNT: a 64-byte window is two 256-bit
 * registers; classes come from vpshufb nibble lookups, masks from
 * vpmovmskb. Compiled with -mavx2 -mbmi -mbmi2 -mpopcnt -mlzcnt
 * (cmake/kernels.cmake); empty when the compiler was not given them.
 * Exports rs_kernels_avx2.
 */
#if defined(__AVX2__) && defined(__BMI__) && defined(__BMI2__) && defined(__POPCNT__) && defined(__LZCNT__) && \
    defined(__x86_64__)

#include <immintrin.h>
#include <stdint.h>

#include "kernels.h" /* rs_kernels_t, RS_CPU_AVX2 */

#define RS_ISA avx2
#define RS_ISA_NAME "avx2"
#define RS_ISA_DESCRIPTION "AVX2 + BMI2: 64-byte windows as two 256-bit vectors"
#define RS_ISA_REQUIRED RS_CPU_AVX2

typedef struct rs_win {
    __m256i v[2];
} rs_win_t;

static inline rs_win_t rs_win_load(const uint8_t *p)
{
    rs_win_t w;
    w.v[0] = _mm256_loadu_si256((const __m256i *)(const void *)p);
    w.v[1] = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
    return w;
}

static inline uint64_t rs_win_bits(__m256i lo, __m256i hi)
{
    return (uint64_t)(uint32_t)_mm256_movemask_epi8(lo) | (uint64_t)(uint32_t)_mm256_movemask_epi8(hi) << 32;
}

static inline uint64_t rs_win_high(rs_win_t w)
{
    return rs_win_bits(w.v[0], w.v[1]);
}

static inline uint64_t rs_win_eq(rs_win_t w, uint8_t v)
{
    const __m256i s = _mm256_set1_epi8((char)v);
    return rs_win_bits(_mm256_cmpeq_epi8(w.v[0], s), _mm256_cmpeq_epi8(w.v[1], s));
}

static inline __m256i rs_avx2_lookup1(__m256i x, __m256i lo, __m256i hi)
{
    const __m256i nib = _mm256_set1_epi8(0x0F);
    const __m256i l = _mm256_shuffle_epi8(lo, _mm256_and_si256(x, nib));
    const __m256i h = _mm256_shuffle_epi8(hi, _mm256_and_si256(_mm256_srli_epi16(x, 4), nib));
    return _mm256_and_si256(l, h);
}

static inline rs_win_t rs_win_lookup(rs_win_t w, const uint8_t lo[16], const uint8_t hi[16])
{
    const __m256i tl = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)lo));
    const __m256i th = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)hi));
    rs_win_t r;
    r.v[0] = rs_avx2_lookup1(w.v[0], tl, th);
    r.v[1] = rs_avx2_lookup1(w.v[1], tl, th);
    return r;
}

static inline rs_win_t rs_win_and(rs_win_t a, rs_win_t b)
{
    rs_win_t r;
    r.v[0] = _mm256_and_si256(a.v[0], b.v[0]);
    r.v[1] = _mm256_and_si256(a.v[1], b.v[1]);
    return r;
}

static inline uint64_t rs_win_any(rs_win_t w, uint8_t bits)
{
    const __m256i m = _mm256_set1_epi8((char)bits), z = _mm256_setzero_si256();
    return ~rs_win_bits(_mm256_cmpeq_epi8(_mm256_and_si256(w.v[0], m), z),
                        _mm256_cmpeq_epi8(_mm256_and_si256(w.v[1], m), z));
}

#include "simd_tokenize.h"

#else
typedef int rs_tokenize_avx2_unused_t; /* not built for this target */
#endif
