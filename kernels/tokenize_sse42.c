/*
 * tokenize_sse42.c - the SIMD tokenizer (simd_tokenize.h) for x86-64 with
 * SSE4.2 and POPCNT: a 64-byte window is four 128-bit registers; classes
 * come from pshufb nibble lookups, masks from pmovmskb. Compiled with
 * -msse4.2 -mpopcnt (cmake/kernels.cmake); empty when the compiler was not
 * given them. Exports rs_kernels_sse42.
 */
#if defined(__SSE4_2__) && defined(__POPCNT__) && defined(__x86_64__)

#include <immintrin.h>
#include <stdint.h>

#include "kernels.h" /* rs_kernels_t, RS_CPU_SSE42 */

#define RS_ISA sse42
#define RS_ISA_NAME "sse4.2"
#define RS_ISA_DESCRIPTION "SSE4.2: 64-byte windows as four 128-bit vectors"
#define RS_ISA_REQUIRED RS_CPU_SSE42

typedef struct rs_win {
    __m128i v[4];
} rs_win_t;

static inline rs_win_t rs_win_load(const uint8_t *p)
{
    rs_win_t w;
    for (int i = 0; i < 4; i++)
        w.v[i] = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
    return w;
}

static inline uint64_t rs_win_bits(const __m128i v[4])
{
    return (uint64_t)(uint16_t)_mm_movemask_epi8(v[0]) | (uint64_t)(uint16_t)_mm_movemask_epi8(v[1]) << 16 |
           (uint64_t)(uint16_t)_mm_movemask_epi8(v[2]) << 32 | (uint64_t)(uint16_t)_mm_movemask_epi8(v[3]) << 48;
}

static inline uint64_t rs_win_high(rs_win_t w)
{
    return rs_win_bits(w.v);
}

static inline uint64_t rs_win_eq(rs_win_t w, uint8_t v)
{
    const __m128i s = _mm_set1_epi8((char)v);
    __m128i r[4];
    for (int i = 0; i < 4; i++)
        r[i] = _mm_cmpeq_epi8(w.v[i], s);
    return rs_win_bits(r);
}

static inline rs_win_t rs_win_lookup(rs_win_t w, const uint8_t lo[16], const uint8_t hi[16])
{
    const __m128i tl = _mm_loadu_si128((const __m128i *)(const void *)lo);
    const __m128i th = _mm_loadu_si128((const __m128i *)(const void *)hi);
    const __m128i nib = _mm_set1_epi8(0x0F);
    rs_win_t r;
    for (int i = 0; i < 4; i++) {
        const __m128i l = _mm_shuffle_epi8(tl, _mm_and_si128(w.v[i], nib));
        const __m128i h = _mm_shuffle_epi8(th, _mm_and_si128(_mm_srli_epi16(w.v[i], 4), nib));
        r.v[i] = _mm_and_si128(l, h);
    }
    return r;
}

static inline rs_win_t rs_win_and(rs_win_t a, rs_win_t b)
{
    rs_win_t r;
    for (int i = 0; i < 4; i++)
        r.v[i] = _mm_and_si128(a.v[i], b.v[i]);
    return r;
}

static inline uint64_t rs_win_any(rs_win_t w, uint8_t bits)
{
    const __m128i m = _mm_set1_epi8((char)bits), z = _mm_setzero_si128();
    __m128i r[4];
    for (int i = 0; i < 4; i++)
        r[i] = _mm_cmpeq_epi8(_mm_and_si128(w.v[i], m), z);
    return ~rs_win_bits(r);
}

#include "simd_tokenize.h"

#else
typedef int rs_tokenize_sse42_unused_t; /* not built for this target */
#endif
