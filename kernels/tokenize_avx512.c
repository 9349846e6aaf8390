/*
 * tokenize_avx512.c - the SIMD tokenizer (simd_tokenize.h) for x86-64 with
 * AVX-512 F and BW (and BMI1, BMI2, POPCNT, LZCNT): a 64-byte window is one
 * 512-bit register and every class test gives its 64-bit mask directly
 * (vptestmb, vpcmpeqb, vpmovb2m). Compiled with -mavx512f -mavx512bw -mbmi
 * -mbmi2 -mpopcnt -mlzcnt where the compiler supports them
 * (cmake/kernels.cmake); empty otherwise. Exports rs_kernels_avx512.
 */
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__BMI__) && defined(__BMI2__) && defined(__POPCNT__) && \
    defined(__LZCNT__) && defined(__x86_64__)

#include <immintrin.h>
#include <stdint.h>

#include "kernels.h" /* rs_kernels_t, RS_CPU_AVX512BW */

#define RS_ISA avx512
#define RS_ISA_NAME "avx512"
#define RS_ISA_DESCRIPTION "AVX-512 BW + BMI2: 64-byte windows as one 512-bit vector"
#define RS_ISA_REQUIRED RS_CPU_AVX512BW

typedef __m512i rs_win_t;

static inline rs_win_t rs_win_load(const uint8_t *p)
{
    return _mm512_loadu_si512((const void *)p);
}

static inline uint64_t rs_win_high(rs_win_t w)
{
    return (uint64_t)_mm512_movepi8_mask(w);
}

static inline uint64_t rs_win_eq(rs_win_t w, uint8_t v)
{
    return (uint64_t)_mm512_cmpeq_epi8_mask(w, _mm512_set1_epi8((char)v));
}

static inline rs_win_t rs_win_lookup(rs_win_t w, const uint8_t lo[16], const uint8_t hi[16])
{
    const __m512i tl = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)lo));
    const __m512i th = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)hi));
    const __m512i nib = _mm512_set1_epi8(0x0F);
    const __m512i l = _mm512_shuffle_epi8(tl, _mm512_and_si512(w, nib));
    const __m512i h = _mm512_shuffle_epi8(th, _mm512_and_si512(_mm512_srli_epi16(w, 4), nib));
    return _mm512_and_si512(l, h);
}

static inline rs_win_t rs_win_and(rs_win_t a, rs_win_t b)
{
    return _mm512_and_si512(a, b);
}

static inline uint64_t rs_win_any(rs_win_t w, uint8_t bits)
{
    return (uint64_t)_mm512_test_epi8_mask(w, _mm512_set1_epi8((char)bits));
}

#include "simd_tokenize.h"

#else
typedef int rs_tokenize_avx512_unused_t; /* not built for this target */
#endif
