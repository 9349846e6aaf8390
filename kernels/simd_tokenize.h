/*
 * simd_tokenize.h - the SIMD tokenizer, written once against a thin layer of
 * primitives and compiled once per instruction set: tokenize_sse42.c,
 * tokenize_avx2.c, tokenize_avx512.c and tokenize_neon.c each define RS_ISA
 * and the window primitives below, then include this file, which defines
 * rs_<isa>_tokenize and the table rs_kernels_<isa>. Same contract as the
 * scalar reference (kernels.h); the output is identical to it, byte for
 * byte, on every input.
 *
 * How it works. The text is read in overlapping 64-byte windows: up to 8
 * bytes of context, 48 bytes decided, 8 bytes of look-ahead; the next
 * window starts 48 bytes later. Each window is classified into 64-bit masks
 * (bit j is byte j) with nibble-table lookups: letters A, digits D, word
 * bytes W (letters, digits, '_'), the ASCII MidLetter/MidNumLet set ML
 * (: . ') and the MidNum/MidNumLet set MN (, ; . '). For ASCII, UAX #29 then
 * reduces to one mask T of the bytes inside tokens:
 *     T = W | ML & A<<1 & A>>1 | MN & D<<1 & D>>1
 * (any two word characters join, WB5-WB13b; a middle character joins when
 * flanked by letters, WB6/WB7, or by digits, WB11/WB12); tokens are the runs
 * of ones in T, their starts and ends the bits of T ^ T<<1, taken in pairs
 * with bit scans (a token still open at the end of a window is carried to
 * the next). A token of at most 16 bytes is folded (A-Z + 32 with vector
 * compares and adds), copied with one 16-byte store and hashed (rs_hash64's
 * one chunk and last step, two multiplies, branch-free, from the two words
 * of the register) in one pass.
 *
 * Some non-ASCII characters are "simple" and stay on this path: two-byte
 * letters of Latin-1, Latin Extended-A/B, IPA, Greek and Cyrillic (Word_Break
 * ALetter, word characters, folding to two bytes), which mark both their
 * bytes A and W; U+2018, U+2019 and U+2024 (MidNumLet, three bytes), which
 * join like '.'; and punctuation that never joins (U+00A0-U+00BF but the
 * letters, U+00AD and U+00B7; U+2010-U+2026 but U+2027). Their rules are
 * those of the ASCII characters of the same Word_Break value. Tokens with
 * Latin-1 or Cyrillic U+0400-U+045F letters are folded with vector
 * operations too (rs_v16_fold2, in 16-byte chunks past 16 bytes), and when
 * that fails, with Latin Extended-A (but U+013F, U+0178) as well
 * (rs_v16_fold2x, out of line, so as not to slow the others), and when that
 * fails too, with Greek U+0386-U+03CE (tonos capitals, U+0391-U+03AB, final
 * sigma) by a lookup of the delta on the pair's low seven bits
 * (rs_v16_fold2g, tables RS_SIMD_GR_ROW*). A token that starts with a Greek
 * lead byte (CE, CF) tries rs_v16_fold2g first and the others after it; the
 * order only saves failed attempts, each fold either folds the whole chunk
 * exactly or reports that it cannot. Other tokens are folded one code point
 * at a time (rs_unicode_fold).
 *
 * Any other non-ASCII byte (call its position q) goes to the scalar
 * reference: the tokens whose end is decided without looking at q are
 * emitted (their end lies before the last character preceding q), then
 * rs_scalar_tokenize runs from the end of the last emitted token (a word
 * boundary) to the next position p > q where segmentation cannot depend on
 * the past: p follows an ASCII byte that never joins what follows (not a
 * letter, digit, '_', middle character, '"', CR or space; or a space not
 * followed by a space; or CR not followed by LF) and text[p] is ASCII. The
 * fast path resumes at p. Cutting the text at two such boundaries never
 * changes a token, as for rs_safe_cut.
 *
 * Nothing is read outside text[0..len): windows are read straight from
 * text where 80 bytes remain (the window, two look-ahead loads, 16 bytes
 * after a token start), else from a copy padded with spaces (a space joins
 * nothing, like the end of the text); other token bytes are read with
 * 16-byte loads only where 16 bytes remain. The vector stores to fold write
 * up to 16 bytes past a token, only where fold_cap leaves room.
 *
 * What an ISA file defines before including this one:
 *   RS_ISA              the name used in symbols (sse42, avx2, ...)
 *   RS_ISA_NAME, RS_ISA_DESCRIPTION, RS_ISA_REQUIRED   for the table
 *   rs_win_t            64 bytes in registers
 *   rs_win_load(p)      64 bytes from p (unaligned)
 *   rs_win_high(w)      mask of the bytes >= 0x80
 *   rs_win_eq(w, v)     mask of the bytes equal to v
 *   rs_win_lookup(w, lo, hi)  per byte x: lo[x & 15] & hi[x >> 4]
 *   rs_win_and(a, b)
 *   rs_win_any(w, bits) mask of the bytes x with x & bits != 0
 * The 16-byte token primitives (rs_v16_*) are here, for x86 and NEON.
 */
#ifndef RS_ISA
#error "define RS_ISA and the window primitives before including simd_tokenize.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hash.h"    /* rs_hash64, rs_hash_step, rs_hash_final */
#include "kernels.h" /* rs_tokens_t, rs_kernels_t */
#include "unicode.h" /* rs_scalar_tokenize, rs_utf8_decode, rs_unicode_fold */

#define RS_SIMD_CAT_(a, b, c) a##b##c
#define RS_SIMD_CAT(a, b, c) RS_SIMD_CAT_(a, b, c)
/* rs_avx2_tokenize, rs_kernels_avx2, ... */
#define RS_FN(name) RS_SIMD_CAT(rs_, RS_ISA, _##name)
#define RS_TABLE RS_SIMD_CAT(rs_kernels_, RS_ISA, )

#if defined(__GNUC__)
#define RS_LIKELY(x) __builtin_expect(!!(x), 1)
#define RS_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define RS_NOINLINE __attribute__((noinline))
#else
#define RS_LIKELY(x) (x)
#define RS_UNLIKELY(x) (x)
#define RS_NOINLINE
#endif

/* ------------------------------------------------------------------ */
/* 16-byte primitives for token bytes */

/* Latin Extended-A U+0100-U+017F (leads C4, C5): bit k of byte k >> 3 of
 * the lead's 8 bytes is set when the continuation 0x80 + k folds to the next
 * code point (+1 on the last byte); C4 BF, C5 B8 and C5 BF fold to another
 * lead or length and are left to the scalar fold. From CaseFolding.txt
 * (statuses C and S); the tests compare every two-byte character. */
#define RS_SIMD_EXT_BITMAPS {0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x54, 0x2A, 0xAA, 0x54, 0x55, 0x55, 0x55, 0x55, 0x55, 0x2A}
#define RS_SIMD_BITS {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128}

/* Greek U+0380-U+03FF (leads CE, CF): the pair is c = (lead & 1) << 6 |
 * (continuation & 0x3F), 0..127, and folds to c + delta, the delta of row
 * c >> 4 at c & 15 (rows 3 and 0x40 + 0..14 fold to themselves; rows 5-7,
 * U+03D0-U+03FF, and the others marked 0x80 are left to the scalar fold):
 * U+0386 +0x26, U+0388-U+038A +0x25, U+038C +0x40, U+038E-U+038F +0x3F,
 * U+0391-U+03AB +0x20 (but U+03A2), final sigma U+03C2 +1. From
 * CaseFolding.txt (statuses C and S); the tests compare every two-byte
 * character. */
#define RS_SIMD_GR_ROW0 {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x26, 0x80, 0x25, 0x25, 0x25, 0x80, 0x40, 0x80, 0x3F, 0x3F}
#define RS_SIMD_GR_ROW1 {0, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20}
#define RS_SIMD_GR_ROW2 {0x20, 0x20, 0x80, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0, 0, 0, 0}
#define RS_SIMD_GR_ROW4 {0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80}
#define RS_SIMD_GR_ROWS03                                                                                            \
    {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x26, 0x80, 0x25, 0x25, 0x25, 0x80, 0x40, 0x80, 0x3F, 0x3F,                 \
     0,    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,                 \
     0x20, 0x20, 0x80, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0,    0,    0,    0,                    \
     0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0}
#define RS_SIMD_GR_ROWS47                                                                                            \
    {0,    0,    1,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0x80,                 \
     0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,                 \
     0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,                 \
     0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80}

#if defined(__SSSE3__)
#include <emmintrin.h>
#include <tmmintrin.h>
typedef __m128i rs_v16_t;

static inline rs_v16_t rs_v16_load(const uint8_t *p)
{
    return _mm_loadu_si128((const __m128i *)(const void *)p);
}

static inline void rs_v16_store(uint8_t *p, rs_v16_t v)
{
    _mm_storeu_si128((__m128i *)(void *)p, v);
}

/* Whether one of the first n bytes (n <= 16) is >= 0x80. */
static inline int rs_v16_high(rs_v16_t v, size_t n)
{
    return ((unsigned)_mm_movemask_epi8(v) & ((1u << n) - 1)) != 0;
}

/* Vector constants, read from memory through rs_v16_consts: an empty asm
 * hides their values, which GCC would otherwise rebuild in registers at
 * every use (three instructions each). */
enum { RS_K_D0, RS_K_D1, RS_K_C3, RS_K_E0, RS_K_80, RS_K_9F, RS_K_08, RS_K_UP, RS_K_UPLIM, RS_K_20, RS_K_0F, RS_K_01,
       RS_K_C4, RS_K_C5, RS_K_B8, RS_K_BF, RS_K_07, RS_K_NIB, RS_K_EXT, RS_K_BITS, RS_K_FE, RS_K_CE, RS_K_CF,
       RS_K_3F, RS_K_40, RS_K_02, RS_K_04, RS_K_GR0, RS_K_GR1, RS_K_GR2, RS_K_GR4, RS_K_N };
#define RS_K_ROW(b) {b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b}
static const uint8_t rs_v16_k[RS_K_N][16] __attribute__((aligned(16))) = {
    RS_K_ROW(0xD0), RS_K_ROW(0xD1), RS_K_ROW(0xC3), RS_K_ROW(0xE0), RS_K_ROW(0x80), RS_K_ROW(0x9F),
    RS_K_ROW(0x08), RS_K_ROW(0x80 - 'A'), RS_K_ROW(0x80 + 26), RS_K_ROW(0x20), RS_K_ROW(0x0F), RS_K_ROW(0x01),
    RS_K_ROW(0xC4), RS_K_ROW(0xC5), RS_K_ROW(0xB8), RS_K_ROW(0xBF), RS_K_ROW(0x07),
    {0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x20, 0xE0, 0, 0, 0, 0, 0}, /* D0 continuation by high nibble */
    RS_SIMD_EXT_BITMAPS,
    RS_SIMD_BITS,
    RS_K_ROW(0xFE), RS_K_ROW(0xCE), RS_K_ROW(0xCF), RS_K_ROW(0x3F), RS_K_ROW(0x40), RS_K_ROW(0x02), RS_K_ROW(0x04),
    RS_SIMD_GR_ROW0, RS_SIMD_GR_ROW1, RS_SIMD_GR_ROW2, RS_SIMD_GR_ROW4,
};
#undef RS_K_ROW

static inline const uint8_t (*rs_v16_consts(void))[16]
{
    const uint8_t(*k)[16] = rs_v16_k;
    __asm__("" : "+r"(k));
    return k;
}

#define RS_K(i) _mm_load_si128((const __m128i *)(const void *)k[i])

/* A-Z + 32; every other byte unchanged. */
static inline rs_v16_t rs_v16_fold(rs_v16_t v)
{
    const uint8_t(*k)[16] = rs_v16_consts();
    const __m128i t = _mm_add_epi8(v, RS_K(RS_K_UP)); /* v - 'A' + 0x80 < 0x80 + 26, signed */
    const __m128i upper = _mm_cmpgt_epi8(RS_K(RS_K_UPLIM), t);
    return _mm_add_epi8(v, _mm_and_si128(upper, RS_K(RS_K_20)));
}

static inline uint64_t rs_v16_lo(rs_v16_t v)
{
    return (uint64_t)_mm_cvtsi128_si64(v);
}

static inline uint64_t rs_v16_hi(rs_v16_t v)
{
    return (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(v, v));
}


/* v with each byte moved one place up (byte 0 becomes 0), or down. */
static inline rs_v16_t rs_v16_up1(rs_v16_t v)
{
    return _mm_slli_si128(v, 1);
}

static inline rs_v16_t rs_v16_down1(rs_v16_t v)
{
    return _mm_srli_si128(v, 1);
}

/* Fold the first n bytes of v (n <= 16), prev and next holding the bytes
 * before and after each one, when they are ASCII, Cyrillic U+0400-U+045F
 * (leads D0, D1 80-9F) or Latin-1 letters (lead C3): A-Z + 32; D0 80-8F ->
 * D1 90-9F, D0 90-9F -> D0 B0-BF, D0 A0-AF -> D1 80-8F; C3 80-9E but 97 ->
 * +32. *ok = 0 when another non-ASCII byte is among them (the result is
 * then not to be used). */
static inline rs_v16_t rs_v16_fold2(rs_v16_t v, rs_v16_t prev, rs_v16_t next, size_t n, int *ok)
{
    const uint8_t(*k)[16] = rs_v16_consts();
    const __m128i is_d0 = _mm_cmpeq_epi8(v, RS_K(RS_K_D0)), after_d0 = _mm_cmpeq_epi8(prev, RS_K(RS_K_D0));
    const __m128i is_c3 = _mm_cmpeq_epi8(v, RS_K(RS_K_C3)), after_c3 = _mm_cmpeq_epi8(prev, RS_K(RS_K_C3));
    const __m128i cur_8x9x = _mm_cmpeq_epi8(_mm_and_si128(v, RS_K(RS_K_E0)), RS_K(RS_K_80));
    const __m128i next_8x9x = _mm_cmpeq_epi8(_mm_and_si128(next, RS_K(RS_K_E0)), RS_K(RS_K_80));
    const __m128i d1_low = _mm_or_si128(_mm_and_si128(_mm_cmpeq_epi8(v, RS_K(RS_K_D1)), next_8x9x),
                                        _mm_and_si128(_mm_cmpeq_epi8(prev, RS_K(RS_K_D1)), cur_8x9x));
    const __m128i known = _mm_or_si128(_mm_or_si128(is_d0, after_d0), _mm_or_si128(_mm_or_si128(is_c3, after_c3), d1_low));
    const unsigned unknown = (unsigned)_mm_movemask_epi8(_mm_andnot_si128(known, v)) & ((1u << n) - 1);
    *ok = unknown == 0;
    /* ASCII capitals: v - 'A' + 0x80 below 0x80 + 26, signed */
    const __m128i t = _mm_add_epi8(v, RS_K(RS_K_UP));
    __m128i delta = _mm_and_si128(_mm_cmpgt_epi8(RS_K(RS_K_UPLIM), t), RS_K(RS_K_20));
    /* D0 continuation by high nibble: 8 +0x10, 9 +0x20, A -0x20, B 0 */
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), RS_K(RS_K_0F));
    delta = _mm_or_si128(delta, _mm_and_si128(after_d0, _mm_shuffle_epi8(RS_K(RS_K_NIB), hi)));
    /* D0 lead before 8x or Ax: D1 */
    const __m128i next_8xax = _mm_cmpeq_epi8(_mm_and_si128(next, RS_K(RS_K_D0)), RS_K(RS_K_80));
    delta = _mm_or_si128(delta, _mm_and_si128(_mm_and_si128(is_d0, next_8xax), RS_K(RS_K_01)));
    /* C3 80-9E but 97: 80-9F but those with x | 8 == 9F */
    const __m128i x97_9f = _mm_cmpeq_epi8(_mm_or_si128(v, RS_K(RS_K_08)), RS_K(RS_K_9F));
    const __m128i c3_up = _mm_andnot_si128(x97_9f, _mm_and_si128(after_c3, cur_8x9x));
    delta = _mm_or_si128(delta, _mm_and_si128(c3_up, RS_K(RS_K_20)));
    return _mm_add_epi8(v, delta);
}

/* rs_v16_fold2 and Latin Extended-A (leads C4, C5): continuations +1 where
 * RS_SIMD_EXT_BITMAPS says (but C4 BF, C5 B8, C5 BF). Out of line: only
 * tokens rs_v16_fold2 cannot fold come here. */
static RS_NOINLINE rs_v16_t rs_v16_fold2x(rs_v16_t v, rs_v16_t prev, rs_v16_t next, size_t n, int *ok)
{
    const uint8_t(*k)[16] = rs_v16_consts();
    const __m128i is_d0 = _mm_cmpeq_epi8(v, RS_K(RS_K_D0)), after_d0 = _mm_cmpeq_epi8(prev, RS_K(RS_K_D0));
    const __m128i is_c3 = _mm_cmpeq_epi8(v, RS_K(RS_K_C3)), after_c3 = _mm_cmpeq_epi8(prev, RS_K(RS_K_C3));
    const __m128i cur_8x9x = _mm_cmpeq_epi8(_mm_and_si128(v, RS_K(RS_K_E0)), RS_K(RS_K_80));
    const __m128i next_8x9x = _mm_cmpeq_epi8(_mm_and_si128(next, RS_K(RS_K_E0)), RS_K(RS_K_80));
    const __m128i d1_low = _mm_or_si128(_mm_and_si128(_mm_cmpeq_epi8(v, RS_K(RS_K_D1)), next_8x9x),
                                        _mm_and_si128(_mm_cmpeq_epi8(prev, RS_K(RS_K_D1)), cur_8x9x));
    __m128i known = _mm_or_si128(_mm_or_si128(is_d0, after_d0), _mm_or_si128(_mm_or_si128(is_c3, after_c3), d1_low));
    /* Latin Extended-A: +1 on the continuations the bitmaps name */
    const __m128i is_ext = _mm_cmpeq_epi8(_mm_andnot_si128(RS_K(RS_K_01), v), RS_K(RS_K_C4)); /* C4, C5 */
    const __m128i after_c4 = _mm_cmpeq_epi8(prev, RS_K(RS_K_C4)), after_c5 = _mm_cmpeq_epi8(prev, RS_K(RS_K_C5));
    const __m128i after_ext = _mm_or_si128(after_c4, after_c5);
    const __m128i bf = _mm_cmpeq_epi8(v, RS_K(RS_K_BF));
    const __m128i odd = _mm_or_si128(_mm_and_si128(after_c4, bf),
                                     _mm_and_si128(after_c5, _mm_or_si128(bf, _mm_cmpeq_epi8(v, RS_K(RS_K_B8)))));
    known = _mm_or_si128(known, _mm_andnot_si128(odd, _mm_or_si128(is_ext, after_ext)));
    const __m128i row = _mm_or_si128(_mm_and_si128(_mm_srli_epi16(v, 3), RS_K(RS_K_07)),
                                     _mm_and_si128(after_c5, RS_K(RS_K_08)));
    const __m128i bm = _mm_shuffle_epi8(RS_K(RS_K_EXT), row);
    const __m128i bit = _mm_shuffle_epi8(RS_K(RS_K_BITS), _mm_and_si128(v, RS_K(RS_K_07)));
    const __m128i ext_delta = _mm_and_si128(_mm_and_si128(after_ext, _mm_cmpeq_epi8(_mm_and_si128(bm, bit), bit)),
                                            RS_K(RS_K_01));
    const unsigned unknown = (unsigned)_mm_movemask_epi8(_mm_andnot_si128(known, v)) & ((1u << n) - 1);
    *ok = unknown == 0;
    /* ASCII capitals: v - 'A' + 0x80 below 0x80 + 26, signed */
    const __m128i t = _mm_add_epi8(v, RS_K(RS_K_UP));
    __m128i delta = _mm_and_si128(_mm_cmpgt_epi8(RS_K(RS_K_UPLIM), t), RS_K(RS_K_20));
    /* D0 continuation by high nibble: 8 +0x10, 9 +0x20, A -0x20, B 0 */
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), RS_K(RS_K_0F));
    delta = _mm_or_si128(delta, _mm_and_si128(after_d0, _mm_shuffle_epi8(RS_K(RS_K_NIB), hi)));
    /* D0 lead before 8x or Ax: D1 */
    const __m128i next_8xax = _mm_cmpeq_epi8(_mm_and_si128(next, RS_K(RS_K_D0)), RS_K(RS_K_80));
    delta = _mm_or_si128(delta, _mm_and_si128(_mm_and_si128(is_d0, next_8xax), RS_K(RS_K_01)));
    /* C3 80-9E but 97: 80-9F but those with x | 8 == 9F */
    const __m128i x97_9f = _mm_cmpeq_epi8(_mm_or_si128(v, RS_K(RS_K_08)), RS_K(RS_K_9F));
    const __m128i c3_up = _mm_andnot_si128(x97_9f, _mm_and_si128(after_c3, cur_8x9x));
    delta = _mm_or_si128(delta, _mm_and_si128(c3_up, RS_K(RS_K_20)));
    return _mm_add_epi8(v, _mm_or_si128(delta, ext_delta));
}
/* The Greek deltas of the pairs c (c < 0x80 in every byte; RS_SIMD_GR_*). */
static inline __m128i rs_v16_gr_delta(const uint8_t (*k)[16], __m128i c)
{
    const __m128i row = _mm_and_si128(_mm_srli_epi16(c, 4), RS_K(RS_K_07)), lo = _mm_and_si128(c, RS_K(RS_K_0F));
    __m128i d = _mm_and_si128(_mm_cmpeq_epi8(row, _mm_setzero_si128()), _mm_shuffle_epi8(RS_K(RS_K_GR0), lo));
    d = _mm_or_si128(d, _mm_and_si128(_mm_cmpeq_epi8(row, RS_K(RS_K_01)), _mm_shuffle_epi8(RS_K(RS_K_GR1), lo)));
    d = _mm_or_si128(d, _mm_and_si128(_mm_cmpeq_epi8(row, RS_K(RS_K_02)), _mm_shuffle_epi8(RS_K(RS_K_GR2), lo)));
    d = _mm_or_si128(d, _mm_and_si128(_mm_cmpeq_epi8(row, RS_K(RS_K_04)), _mm_shuffle_epi8(RS_K(RS_K_GR4), lo)));
    return _mm_or_si128(d, _mm_and_si128(_mm_cmpgt_epi8(row, RS_K(RS_K_04)), RS_K(RS_K_80)));
}

/* Fold ASCII and Greek (leads CE, CF; RS_SIMD_GR_*) as rs_v16_fold2 does
 * its letters; *ok = 0 when another non-ASCII byte, or a Greek character
 * these rows leave to the scalar fold, is among the first n. Out of line:
 * only tokens that start with a Greek letter, or that rs_v16_fold2 and
 * rs_v16_fold2x cannot fold, come here. */
static RS_NOINLINE rs_v16_t rs_v16_fold2g(rs_v16_t v, rs_v16_t prev, rs_v16_t next, size_t n, int *ok)
{
    const uint8_t(*k)[16] = rs_v16_consts();
    const __m128i is_lead = _mm_cmpeq_epi8(_mm_and_si128(v, RS_K(RS_K_FE)), RS_K(RS_K_CE));
    const __m128i after_lead = _mm_cmpeq_epi8(_mm_and_si128(prev, RS_K(RS_K_FE)), RS_K(RS_K_CE));
    /* the pair each continuation ends, and the pair each lead begins */
    const __m128i c = _mm_or_si128(_mm_and_si128(v, RS_K(RS_K_3F)),
                                   _mm_and_si128(_mm_cmpeq_epi8(prev, RS_K(RS_K_CF)), RS_K(RS_K_40)));
    const __m128i cl = _mm_or_si128(_mm_and_si128(next, RS_K(RS_K_3F)),
                                    _mm_and_si128(_mm_cmpeq_epi8(v, RS_K(RS_K_CF)), RS_K(RS_K_40)));
    const __m128i d = rs_v16_gr_delta(k, c), dl = rs_v16_gr_delta(k, cl);
    const unsigned unknown = ((unsigned)_mm_movemask_epi8(_mm_andnot_si128(_mm_or_si128(is_lead, after_lead), v))
                              | (unsigned)_mm_movemask_epi8(_mm_and_si128(after_lead, d)))
                             & ((1u << n) - 1);
    *ok = unknown == 0;
    /* ASCII capitals: v - 'A' + 0x80 below 0x80 + 26, signed */
    const __m128i t = _mm_add_epi8(v, RS_K(RS_K_UP));
    __m128i delta = _mm_and_si128(_mm_cmpgt_epi8(RS_K(RS_K_UPLIM), t), RS_K(RS_K_20));
    /* a lead CE whose pair folds past U+03BF becomes CF */
    const __m128i up = _mm_and_si128(_mm_add_epi8(cl, dl), RS_K(RS_K_40));
    const __m128i ce_up = _mm_andnot_si128(_mm_cmpeq_epi8(v, RS_K(RS_K_CF)), _mm_cmpeq_epi8(up, RS_K(RS_K_40)));
    delta = _mm_or_si128(delta, _mm_and_si128(_mm_and_si128(is_lead, ce_up), RS_K(RS_K_01)));
    const __m128i r = _mm_add_epi8(v, delta);
    /* continuations: 0x80 + the low six bits of the folded pair */
    const __m128i cont = _mm_or_si128(_mm_and_si128(_mm_add_epi8(c, d), RS_K(RS_K_3F)), RS_K(RS_K_80));
    return _mm_or_si128(_mm_andnot_si128(after_lead, r), _mm_and_si128(after_lead, cont));
}
#undef RS_K

#elif defined(__ARM_NEON)
#include <arm_neon.h>
typedef uint8x16_t rs_v16_t;

static inline rs_v16_t rs_v16_load(const uint8_t *p)
{
    return vld1q_u8(p);
}

static inline void rs_v16_store(uint8_t *p, rs_v16_t v)
{
    vst1q_u8(p, v);
}

static inline int rs_v16_high(rs_v16_t v, size_t n)
{
    static const uint8_t idx[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    const uint8x16_t keep = vcltq_u8(vld1q_u8(idx), vdupq_n_u8((uint8_t)n));
    return vmaxvq_u8(vandq_u8(v, keep)) >= 0x80;
}

static inline rs_v16_t rs_v16_fold(rs_v16_t v)
{
    const uint8x16_t upper = vcltq_u8(vsubq_u8(v, vdupq_n_u8('A')), vdupq_n_u8(26));
    return vaddq_u8(v, vandq_u8(upper, vdupq_n_u8(0x20)));
}

static inline uint64_t rs_v16_lo(rs_v16_t v)
{
    return vgetq_lane_u64(vreinterpretq_u64_u8(v), 0);
}

static inline uint64_t rs_v16_hi(rs_v16_t v)
{
    return vgetq_lane_u64(vreinterpretq_u64_u8(v), 1);
}

static inline rs_v16_t rs_v16_up1(rs_v16_t v)
{
    return vextq_u8(vdupq_n_u8(0), v, 15);
}

static inline rs_v16_t rs_v16_down1(rs_v16_t v)
{
    return vextq_u8(v, vdupq_n_u8(0), 1);
}

/* As the x86 rs_v16_fold2 above. */
static inline rs_v16_t rs_v16_fold2(rs_v16_t v, rs_v16_t prev, rs_v16_t next, size_t n, int *ok)
{
    static const uint8_t idx[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    static const uint8_t nib[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x20, 0xE0, 0, 0, 0, 0, 0};
    const uint8x16_t d0 = vdupq_n_u8(0xD0), c3 = vdupq_n_u8(0xC3), d1 = vdupq_n_u8(0xD1);
    const uint8x16_t e0 = vdupq_n_u8(0xE0), x80 = vdupq_n_u8(0x80);
    const uint8x16_t is_d0 = vceqq_u8(v, d0), after_d0 = vceqq_u8(prev, d0);
    const uint8x16_t is_c3 = vceqq_u8(v, c3), after_c3 = vceqq_u8(prev, c3);
    const uint8x16_t cur_8x9x = vceqq_u8(vandq_u8(v, e0), x80), next_8x9x = vceqq_u8(vandq_u8(next, e0), x80);
    const uint8x16_t d1_low = vorrq_u8(vandq_u8(vceqq_u8(v, d1), next_8x9x), vandq_u8(vceqq_u8(prev, d1), cur_8x9x));
    const uint8x16_t known = vorrq_u8(vorrq_u8(is_d0, after_d0), vorrq_u8(vorrq_u8(is_c3, after_c3), d1_low));
    const uint8x16_t in = vcltq_u8(vld1q_u8(idx), vdupq_n_u8((uint8_t)n));
    *ok = vmaxvq_u8(vandq_u8(vbicq_u8(vcgeq_u8(v, x80), known), in)) == 0;
    uint8x16_t delta = vandq_u8(vcltq_u8(vsubq_u8(v, vdupq_n_u8('A')), vdupq_n_u8(26)), vdupq_n_u8(0x20));
    delta = vorrq_u8(delta, vandq_u8(after_d0, vqtbl1q_u8(vld1q_u8(nib), vshrq_n_u8(v, 4))));
    const uint8x16_t next_8xax = vceqq_u8(vandq_u8(next, vdupq_n_u8(0xD0)), x80);
    delta = vorrq_u8(delta, vandq_u8(vandq_u8(is_d0, next_8xax), vdupq_n_u8(1)));
    const uint8x16_t not_9f_97 = vorrq_u8(vceqq_u8(v, vdupq_n_u8(0x9F)), vceqq_u8(v, vdupq_n_u8(0x97)));
    const uint8x16_t c3_up = vbicq_u8(vandq_u8(after_c3, cur_8x9x), not_9f_97);
    delta = vorrq_u8(delta, vandq_u8(c3_up, vdupq_n_u8(0x20)));
    return vaddq_u8(v, delta);
}

/* As the x86 rs_v16_fold2x above. */
static RS_NOINLINE rs_v16_t rs_v16_fold2x(rs_v16_t v, rs_v16_t prev, rs_v16_t next, size_t n, int *ok)
{
    static const uint8_t idx[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    static const uint8_t nib[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x20, 0xE0, 0, 0, 0, 0, 0};
    const uint8x16_t d0 = vdupq_n_u8(0xD0), c3 = vdupq_n_u8(0xC3), d1 = vdupq_n_u8(0xD1);
    const uint8x16_t e0 = vdupq_n_u8(0xE0), x80 = vdupq_n_u8(0x80);
    const uint8x16_t is_d0 = vceqq_u8(v, d0), after_d0 = vceqq_u8(prev, d0);
    const uint8x16_t is_c3 = vceqq_u8(v, c3), after_c3 = vceqq_u8(prev, c3);
    const uint8x16_t cur_8x9x = vceqq_u8(vandq_u8(v, e0), x80), next_8x9x = vceqq_u8(vandq_u8(next, e0), x80);
    const uint8x16_t d1_low = vorrq_u8(vandq_u8(vceqq_u8(v, d1), next_8x9x), vandq_u8(vceqq_u8(prev, d1), cur_8x9x));
    uint8x16_t known = vorrq_u8(vorrq_u8(is_d0, after_d0), vorrq_u8(vorrq_u8(is_c3, after_c3), d1_low));
    static const uint8_t ext[16] = RS_SIMD_EXT_BITMAPS, bits[16] = RS_SIMD_BITS;
    const uint8x16_t after_c4 = vceqq_u8(prev, vdupq_n_u8(0xC4)), after_c5 = vceqq_u8(prev, vdupq_n_u8(0xC5));
    const uint8x16_t after_ext = vorrq_u8(after_c4, after_c5);
    const uint8x16_t is_ext = vorrq_u8(vceqq_u8(v, vdupq_n_u8(0xC4)), vceqq_u8(v, vdupq_n_u8(0xC5)));
    const uint8x16_t bf = vceqq_u8(v, vdupq_n_u8(0xBF));
    const uint8x16_t odd = vorrq_u8(vandq_u8(after_c4, bf), vandq_u8(after_c5, vorrq_u8(bf, vceqq_u8(v, vdupq_n_u8(0xB8)))));
    known = vorrq_u8(known, vbicq_u8(vorrq_u8(is_ext, after_ext), odd));
    const uint8x16_t row = vorrq_u8(vshrq_n_u8(v, 3), vandq_u8(after_c5, vdupq_n_u8(8)));
    const uint8x16_t bm = vqtbl1q_u8(vld1q_u8(ext), vandq_u8(row, vdupq_n_u8(0x0F)));
    const uint8x16_t bit = vqtbl1q_u8(vld1q_u8(bits), vandq_u8(v, vdupq_n_u8(7)));
    const uint8x16_t ext_delta = vandq_u8(vandq_u8(after_ext, vtstq_u8(bm, bit)), vdupq_n_u8(1));
    const uint8x16_t in = vcltq_u8(vld1q_u8(idx), vdupq_n_u8((uint8_t)n));
    *ok = vmaxvq_u8(vandq_u8(vbicq_u8(vcgeq_u8(v, x80), known), in)) == 0;
    uint8x16_t delta = vandq_u8(vcltq_u8(vsubq_u8(v, vdupq_n_u8('A')), vdupq_n_u8(26)), vdupq_n_u8(0x20));
    delta = vorrq_u8(delta, vandq_u8(after_d0, vqtbl1q_u8(vld1q_u8(nib), vshrq_n_u8(v, 4))));
    const uint8x16_t next_8xax = vceqq_u8(vandq_u8(next, vdupq_n_u8(0xD0)), x80);
    delta = vorrq_u8(delta, vandq_u8(vandq_u8(is_d0, next_8xax), vdupq_n_u8(1)));
    const uint8x16_t not_9f_97 = vorrq_u8(vceqq_u8(v, vdupq_n_u8(0x9F)), vceqq_u8(v, vdupq_n_u8(0x97)));
    const uint8x16_t c3_up = vbicq_u8(vandq_u8(after_c3, cur_8x9x), not_9f_97);
    delta = vorrq_u8(delta, vandq_u8(c3_up, vdupq_n_u8(0x20)));
    return vaddq_u8(v, vorrq_u8(delta, ext_delta));
}
/* As the x86 rs_v16_gr_delta above: one 128-byte table lookup. */
static inline uint8x16_t rs_v16_gr_delta(uint8x16_t c)
{
    static const uint8_t lo[64] = RS_SIMD_GR_ROWS03, hi[64] = RS_SIMD_GR_ROWS47;
    const uint8x16x4_t tlo = {{vld1q_u8(lo), vld1q_u8(lo + 16), vld1q_u8(lo + 32), vld1q_u8(lo + 48)}};
    const uint8x16x4_t thi = {{vld1q_u8(hi), vld1q_u8(hi + 16), vld1q_u8(hi + 32), vld1q_u8(hi + 48)}};
    return vqtbx4q_u8(vqtbl4q_u8(tlo, c), thi, vsubq_u8(c, vdupq_n_u8(64)));
}

/* As the x86 rs_v16_fold2g above. */
static RS_NOINLINE rs_v16_t rs_v16_fold2g(rs_v16_t v, rs_v16_t prev, rs_v16_t next, size_t n, int *ok)
{
    static const uint8_t idx[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    const uint8x16_t ce = vdupq_n_u8(0xCE), cf = vdupq_n_u8(0xCF), x3f = vdupq_n_u8(0x3F), x40 = vdupq_n_u8(0x40);
    const uint8x16_t x80 = vdupq_n_u8(0x80), fe = vdupq_n_u8(0xFE);
    const uint8x16_t is_lead = vceqq_u8(vandq_u8(v, fe), ce), after_lead = vceqq_u8(vandq_u8(prev, fe), ce);
    const uint8x16_t is_cf = vceqq_u8(v, cf);
    const uint8x16_t c = vorrq_u8(vandq_u8(v, x3f), vandq_u8(vceqq_u8(prev, cf), x40));
    const uint8x16_t cl = vorrq_u8(vandq_u8(next, x3f), vandq_u8(is_cf, x40));
    const uint8x16_t d = rs_v16_gr_delta(c), dl = rs_v16_gr_delta(cl);
    const uint8x16_t in = vcltq_u8(vld1q_u8(idx), vdupq_n_u8((uint8_t)n));
    const uint8x16_t bad = vorrq_u8(vbicq_u8(vcgeq_u8(v, x80), vorrq_u8(is_lead, after_lead)),
                                    vandq_u8(after_lead, vcgeq_u8(d, x80)));
    *ok = vmaxvq_u8(vandq_u8(bad, in)) == 0;
    uint8x16_t delta = vandq_u8(vcltq_u8(vsubq_u8(v, vdupq_n_u8('A')), vdupq_n_u8(26)), vdupq_n_u8(0x20));
    const uint8x16_t ce_up = vbicq_u8(vtstq_u8(vaddq_u8(cl, dl), x40), is_cf);
    delta = vorrq_u8(delta, vandq_u8(vandq_u8(is_lead, ce_up), vdupq_n_u8(1)));
    const uint8x16_t r = vaddq_u8(v, delta);
    const uint8x16_t cont = vorrq_u8(vandq_u8(vaddq_u8(c, d), x3f), x80);
    return vbslq_u8(after_lead, cont, r);
}
#else
#error "no 16-byte vector primitives for this target"
#endif

/* ------------------------------------------------------------------ */
/* Shared, ISA-independent helpers (static, one copy per ISA file) */

#define RS_WIN 64  /* bytes per window */
#define RS_BACK 8  /* context bytes before the decided ones */
#define RS_STEP 48 /* decided bytes per window */
#define RS_READ (RS_WIN + 2) /* bytes a window reads: two look-ahead loads */

/* ASCII classes: one byte of class bits per character, lo[x & 15] &
 * hi[x >> 4]; bytes >= 0x80 get 0. Letters need two rectangles. */
enum {
    RS_C_L1 = 0x01,    /* A-O, a-o (hi 4/6, lo 1-F) */
    RS_C_L2 = 0x02,    /* P-Z, p-z (hi 5/7, lo 0-A) */
    RS_C_D = 0x04,     /* 0-9 */
    RS_C_U = 0x08,     /* _ */
    RS_C_COLON = 0x10, /* : MidLetter */
    RS_C_SEMI = 0x20,  /* ; MidNum */
    RS_C_DOTQ = 0x40,  /* . ' MidNumLet, Single_Quote */
    RS_C_COMMA = 0x80, /* , MidNum */
    RS_C_ALPHA = RS_C_L1 | RS_C_L2,
    RS_C_WORD = RS_C_L1 | RS_C_L2 | RS_C_D | RS_C_U,
    RS_C_ML = RS_C_COLON | RS_C_DOTQ,
    RS_C_MN = RS_C_SEMI | RS_C_DOTQ | RS_C_COMMA,
};

static const uint8_t rs_ascii_lo[16] = {
    RS_C_L2 | RS_C_D,                       /* 0 */
    RS_C_L1 | RS_C_L2 | RS_C_D,             /* 1 */
    RS_C_L1 | RS_C_L2 | RS_C_D,             /* 2 */
    RS_C_L1 | RS_C_L2 | RS_C_D,             /* 3 */
    RS_C_L1 | RS_C_L2 | RS_C_D,             /* 4 */
    RS_C_L1 | RS_C_L2 | RS_C_D,             /* 5 */
    RS_C_L1 | RS_C_L2 | RS_C_D,             /* 6 */
    RS_C_L1 | RS_C_L2 | RS_C_D | RS_C_DOTQ, /* 7: ' */
    RS_C_L1 | RS_C_L2 | RS_C_D,             /* 8 */
    RS_C_L1 | RS_C_L2 | RS_C_D,             /* 9 */
    RS_C_L1 | RS_C_L2 | RS_C_COLON,         /* A: Z z : */
    RS_C_L1 | RS_C_SEMI,                    /* B: K k ; */
    RS_C_L1 | RS_C_COMMA,                   /* C: L l , */
    RS_C_L1,                                /* D */
    RS_C_L1 | RS_C_DOTQ,                    /* E: N n . */
    RS_C_L1 | RS_C_U,                       /* F: O o _ */
};

static const uint8_t rs_ascii_hi[16] = {
    0, 0,
    RS_C_DOTQ | RS_C_COMMA,            /* 2x */
    RS_C_D | RS_C_COLON | RS_C_SEMI,   /* 3x */
    RS_C_L1,                           /* 4x */
    RS_C_L2 | RS_C_U,                  /* 5x */
    RS_C_L1,                           /* 6x */
    RS_C_L2,                           /* 7x */
    0, 0, 0, 0, 0, 0, 0, 0,
};

/* Two-byte letters, classified at the lead byte x from x and the next byte
 * y: xl[x & 15] & xh[x >> 4] & yl[y & 15] & yh[y >> 4]. A pair is a simple
 * letter when a "good lead" bit is set and no exception bit is. Good leads:
 * C3-CA (U+00C0-U+02BF), CE-CF (Greek), D0-D3 (Cyrillic). Exceptions (not
 * letters, unassigned, or folding to another length); some rectangles take
 * in a few rare letters too, which then just take the scalar path. */
enum {
    RS_L_GC = 0x01, /* C3-CA, CE, CF + continuation */
    RS_L_GD = 0x02, /* D0-D3 + continuation */
    RS_L_E1 = 0x04, /* C3 97, C3 B7: multiplication and division signs */
    RS_L_E2 = 0x08, /* C5 BF: long s folds to ASCII s */
    RS_L_E3 = 0x10, /* C8 BA, C8 BE fold to 3 bytes; CF B6 is a symbol; (+C8 B6, CF BA, CF BE) */
    RS_L_E4 = 0x20, /* CE 80-85, 87, 8B, 8D: unassigned, tonos, ano teleia */
    RS_L_E5 = 0x40, /* CE A2: unassigned */
    RS_L_E6 = 0x80, /* D2 82-89: symbol, combining marks (+D2 80-81, 8A-8F) */
    RS_L_GOOD = RS_L_GC | RS_L_GD,
    RS_L_EXC = 0xFC,
};

static const uint8_t rs_l2_xl[16] = {
    RS_L_GD,                     /* x0 */
    RS_L_GD,                     /* x1 */
    RS_L_GD | RS_L_E6,           /* x2 */
    RS_L_GC | RS_L_GD | RS_L_E1, /* x3 */
    RS_L_GC,                     /* x4 */
    RS_L_GC | RS_L_E2,           /* x5 */
    RS_L_GC,                     /* x6 */
    RS_L_GC,                     /* x7 */
    RS_L_GC | RS_L_E3,           /* x8 */
    RS_L_GC,                     /* x9 */
    RS_L_GC,                     /* xA */
    0,                           /* xB */
    0,                           /* xC */
    0,                           /* xD */
    RS_L_GC | RS_L_E4 | RS_L_E5, /* xE */
    RS_L_GC | RS_L_E3,           /* xF */
};

static const uint8_t rs_l2_xh[16] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    RS_L_GC | RS_L_E1 | RS_L_E2 | RS_L_E3 | RS_L_E4 | RS_L_E5, /* Cx */
    RS_L_GD | RS_L_E6,                                         /* Dx */
    0, 0,
};

#define RS_L_YALL (RS_L_GC | RS_L_GD | RS_L_E6)
static const uint8_t rs_l2_yl[16] = {
    RS_L_YALL | RS_L_E4,           /* y0 */
    RS_L_YALL | RS_L_E4,           /* y1 */
    RS_L_YALL | RS_L_E4 | RS_L_E5, /* y2 */
    RS_L_YALL | RS_L_E4,           /* y3 */
    RS_L_YALL | RS_L_E4,           /* y4 */
    RS_L_YALL | RS_L_E4,           /* y5 */
    RS_L_YALL | RS_L_E3,           /* y6 */
    RS_L_YALL | RS_L_E1 | RS_L_E4, /* y7 */
    RS_L_YALL,                     /* y8 */
    RS_L_YALL,                     /* y9 */
    RS_L_YALL | RS_L_E3,           /* yA */
    RS_L_YALL | RS_L_E4,           /* yB */
    RS_L_YALL,                     /* yC */
    RS_L_YALL | RS_L_E4,           /* yD */
    RS_L_YALL | RS_L_E3,           /* yE */
    RS_L_YALL | RS_L_E2,           /* yF */
};
#undef RS_L_YALL

static const uint8_t rs_l2_yh[16] = {
    0, 0, 0, 0, 0, 0, 0, 0,
    RS_L_GC | RS_L_GD | RS_L_E4 | RS_L_E6,           /* 8x */
    RS_L_GC | RS_L_GD | RS_L_E1,                     /* 9x */
    RS_L_GC | RS_L_GD | RS_L_E5,                     /* Ax */
    RS_L_GC | RS_L_GD | RS_L_E1 | RS_L_E2 | RS_L_E3, /* Bx */
    0, 0, 0, 0,
};

/* The third byte z of E2 80 z: Other U+2010-U+2017, U+201A-U+2023,
 * U+2025-U+2026; MidNumLet U+2018, U+2019, U+2024. */
enum {
    RS_P_O9 = 0x01, /* 90-97, 9A-9F */
    RS_P_OA = 0x02, /* A0-A3, A5, A6 */
    RS_P_Q9 = 0x04, /* 98, 99 */
    RS_P_QA = 0x08, /* A4 */
    RS_P_OTHER = RS_P_O9 | RS_P_OA,
    RS_P_MID = RS_P_Q9 | RS_P_QA,
};

static const uint8_t rs_p3_zl[16] = {
    RS_P_O9 | RS_P_OA, RS_P_O9 | RS_P_OA, RS_P_O9 | RS_P_OA, RS_P_O9 | RS_P_OA,
    RS_P_O9 | RS_P_QA, RS_P_O9 | RS_P_OA, RS_P_O9 | RS_P_OA, RS_P_O9,
    RS_P_Q9,           RS_P_Q9,           RS_P_O9,           RS_P_O9,
    RS_P_O9,           RS_P_O9,           RS_P_O9,           RS_P_O9,
};

static const uint8_t rs_p3_zh[16] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, RS_P_O9 | RS_P_Q9, RS_P_OA | RS_P_QA, 0, 0, 0, 0, 0,
};

/* The second byte y of C2 y: U+00A0-U+00BF that are Word_Break Other (all
 * but AA, AD, B5, B7, BA). */
enum {
    RS_O_A = 0x01, /* A0-A9, AB, AC, AE, AF */
    RS_O_B = 0x02, /* B0-B4, B6, B8, B9, BB-BF */
};

static const uint8_t rs_o2_yl[16] = {
    RS_O_A | RS_O_B, RS_O_A | RS_O_B, RS_O_A | RS_O_B, RS_O_A | RS_O_B,
    RS_O_A | RS_O_B, RS_O_A,          RS_O_A | RS_O_B, RS_O_A,
    RS_O_A | RS_O_B, RS_O_A | RS_O_B, 0,               RS_O_A | RS_O_B,
    RS_O_A | RS_O_B, RS_O_B,          RS_O_A | RS_O_B, RS_O_A | RS_O_B,
};

static const uint8_t rs_o2_yh[16] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, RS_O_A, RS_O_B, 0, 0, 0, 0,
};

/* How an ASCII byte a before position p makes p a restart point: 0 never,
 * 1 when text[p] is ASCII, 2 when text[p] is ASCII but not a space (a is a
 * space: WB3d), 3 when text[p] is ASCII but not LF (a is CR: WB3). */
static inline unsigned rs_simd_restart_kind(unsigned a)
{
    if (a == ' ')
        return 2;
    if (a == '\r')
        return 3;
    if (a == '"' || (rs_ascii_lo[a & 15] & rs_ascii_hi[a >> 4]))
        return 0; /* letters, digits, _, middle characters, '"' */
    return 1;
}

/* The first p in [from, len) where segmentation cannot depend on what
 * precedes p (see the top of this file), or len. from >= 1. */
static inline size_t rs_simd_restart(const uint8_t *text, size_t len, size_t from)
{
    for (size_t p = from; p < len; p++) {
        const unsigned a = text[p - 1], c = text[p];
        if (a >= 0x80 || c >= 0x80)
            continue;
        const unsigned k = rs_simd_restart_kind(a);
        if (k == 1 || (k == 2 && c != ' ') || (k == 3 && c != '\n'))
            return p;
    }
    return len;
}

/* What rs_hash64 needs per length n = 0..16: its seed n * P1 and the
 * masks of the bytes of each of the two words. */
typedef struct rs_simd_hlen {
    uint64_t seed, m0, m1;
} rs_simd_hlen_t;

static const rs_simd_hlen_t rs_simd_hlen[17] = {
    {0 * RS_HASH_P1, 0, 0},
    {1 * RS_HASH_P1, 0xFFULL, 0},
    {2 * RS_HASH_P1, 0xFFFFULL, 0},
    {3 * RS_HASH_P1, 0xFFFFFFULL, 0},
    {4 * RS_HASH_P1, 0xFFFFFFFFULL, 0},
    {5 * RS_HASH_P1, 0xFFFFFFFFFFULL, 0},
    {6 * RS_HASH_P1, 0xFFFFFFFFFFFFULL, 0},
    {7 * RS_HASH_P1, 0xFFFFFFFFFFFFFFULL, 0},
    {8 * RS_HASH_P1, ~0ULL, 0},
    {9 * RS_HASH_P1, ~0ULL, 0xFFULL},
    {10 * RS_HASH_P1, ~0ULL, 0xFFFFULL},
    {11 * RS_HASH_P1, ~0ULL, 0xFFFFFFULL},
    {12 * RS_HASH_P1, ~0ULL, 0xFFFFFFFFULL},
    {13 * RS_HASH_P1, ~0ULL, 0xFFFFFFFFFFULL},
    {14 * RS_HASH_P1, ~0ULL, 0xFFFFFFFFFFFFULL},
    {15 * RS_HASH_P1, ~0ULL, 0xFFFFFFFFFFFFFFULL},
    {16 * RS_HASH_P1, ~0ULL, ~0ULL},
};

/* rs_hash64 of n bytes (n <= 16) whose first 8 are lo and next 8 hi
 * (bytes past n are masked off here): its one chunk, then the last step;
 * no branch on n. */
static inline uint64_t rs_simd_hash16(uint64_t lo, uint64_t hi, size_t n)
{
    const rs_simd_hlen_t *k = &rs_simd_hlen[n];
    return rs_hash_final(rs_hash_step(k->seed, lo & k->m0, hi & k->m1));
}

/* Append the token text[s..e) at tok, its folded bytes at fold + fl; return
 * the new fold length. For tokens the fast path knows: ASCII, simple
 * two-byte letters and U+2018/U+2019/U+2024, each folding to its own
 * length. The general path: fold one code point at a time, then hash. */
static size_t rs_simd_emit_slow(const uint8_t *text, size_t s, size_t e, rs_token_t *tok, uint8_t *fold, size_t fl)
{
    uint8_t *const start = fold + fl;
    uint8_t *w = start;
    size_t i = s;
    while (i < e) {
        const unsigned b = text[i];
        if (b < 0x80) {
            *w++ = (uint8_t)(b + ((b - 0x41u < 26u) ? 32u : 0u));
            i++;
            continue;
        }
        uint32_t cp;
        if (b >= 0xC2 && b <= 0xDF && i + 1 < e && (text[i + 1] & 0xC0) == 0x80) {
            cp = ((b & 0x1Fu) << 6) | (text[i + 1] & 0x3Fu); /* two bytes, valid */
            i += 2;
        } else {
            i += rs_utf8_decode(text, e, i, &cp);
        }
        w += rs_utf8_encode(rs_unicode_fold(cp), w);
    }
    const size_t n = (size_t)(w - start);
    tok->off = (uint32_t)fl;
    tok->len = (uint32_t)n;
    tok->hash = rs_hash64(start, n);
    return fl + n;
}

/* Append a token of the fast path (ASCII, simple letters, U+2018, U+2019,
 * U+2024) of n = e - s bytes, given len - s >= n + 16 and room for n + 16
 * bytes at fold + fl: fold 16-byte chunks with rs_v16_fold2 (the bytes
 * around each chunk read from text, so that a character may straddle two)
 * and hash their words from the registers. Returns the new fold length, or
 * 0 (nothing appended) when a character is not one rs_v16_fold2 folds. */
static inline size_t rs_simd_emit_chunks(const uint8_t *text, size_t s, size_t n, rs_token_t *tok, uint8_t *fold,
                                         size_t fl)
{
    uint8_t *const w = fold + fl;
    uint64_t h = (uint64_t)n * RS_HASH_P1;
    const int greek = (text[s] & 0xFE) == 0xCE; /* a Greek word: its fold first */
    for (size_t o = 0; o < n; o += 16) {
        const rs_v16_t v = rs_v16_load(text + s + o);
        const rs_v16_t prev = o ? rs_v16_load(text + s + o - 1) : rs_v16_up1(v);
        const size_t r = n - o < 16 ? n - o : 16;
        const rs_v16_t next = rs_v16_load(text + s + o + 1);
        int ok;
        rs_v16_t f;
        if (greek) {
            f = rs_v16_fold2g(v, prev, next, r, &ok);
            if (!ok)
                f = rs_v16_fold2(v, prev, next, r, &ok);
            if (!ok)
                f = rs_v16_fold2x(v, prev, next, r, &ok);
        } else {
            f = rs_v16_fold2(v, prev, next, r, &ok);
            if (!ok)
                f = rs_v16_fold2x(v, prev, next, r, &ok);
            if (!ok)
                f = rs_v16_fold2g(v, prev, next, r, &ok);
        }
        if (!ok)
            return 0;
        rs_v16_store(w + o, f);
        h = rs_hash_step(h, rs_v16_lo(f) & rs_simd_hlen[r].m0, rs_v16_hi(f) & rs_simd_hlen[r].m1);
    }
    tok->off = (uint32_t)fl;
    tok->len = (uint32_t)n;
    tok->hash = rs_hash_final(h);
    return fl + n;
}

/* ------------------------------------------------------------------ */
/* Per ISA */

/* Append the token of n <= 16 bytes at src (16 bytes readable there, and
 * writable at fold + fl) when it is ASCII, or its non-ASCII characters are
 * ones rs_v16_fold2 (ext: rs_v16_fold2x) folds: fold, copy and hash in one
 * 16-byte pass; return the new fold length, or 0 (nothing appended). With
 * ascii set the caller knows the token is ASCII. */
static inline size_t RS_FN(emit16)(const uint8_t *src, size_t n, rs_token_t *tok, uint8_t *fold, size_t fl,
                                   int ascii, int ext)
{
    const rs_v16_t v = rs_v16_load(src);
    rs_v16_t f;
    if (ascii || !rs_v16_high(v, n)) {
        f = rs_v16_fold(v);
    } else {
        int ok; /* the token has whole characters: the bytes around are in v */
        const rs_v16_t prev = rs_v16_up1(v), next = rs_v16_down1(v);
        if (ext && (src[0] & 0xFE) == 0xCE) { /* a Greek word: its fold first */
            f = rs_v16_fold2g(v, prev, next, n, &ok);
            if (!ok)
                f = rs_v16_fold2x(v, prev, next, n, &ok);
        } else {
            f = ext ? rs_v16_fold2x(v, prev, next, n, &ok) : rs_v16_fold2(v, prev, next, n, &ok);
            if (!ok && ext)
                f = rs_v16_fold2g(v, prev, next, n, &ok);
        }
        if (!ok)
            return 0;
    }
    rs_v16_store(fold + fl, f);
    tok->off = (uint32_t)fl;
    tok->len = (uint32_t)n;
    tok->hash = rs_simd_hash16(rs_v16_lo(f), rs_v16_hi(f), n);
    return fl + n;
}

/* Append the token text[s..e) whatever its length and position. */
static inline size_t RS_FN(emit)(const uint8_t *text, size_t len, size_t s, size_t e, rs_token_t *tok, uint8_t *fold,
                                 size_t fl, size_t fold_cap)
{
    const size_t n = e - s;
    if (RS_LIKELY(n <= 16 && len - s >= 16 && fold_cap - fl >= 16)) {
        const size_t r = RS_FN(emit16)(text + s, n, tok, fold, fl, 0, 1);
        if (RS_LIKELY(r))
            return r;
    }
    if (len - s >= n + 16 && fold_cap - fl >= n + 16) {
        const size_t r = rs_simd_emit_chunks(text, s, n, tok, fold, fl);
        if (r)
            return r;
    }
    return rs_simd_emit_slow(text, s, e, tok, fold, fl);
}

/* Emit the tokens of the window at base, whose bytes win holds (text +
 * base, or a padded copy): x holds their start and end transitions, in
 * pairs; bit 0 set stands for the start of the token in progress, tstart.
 * An unpaired last start is not in x (the caller keeps it). Fast: fold has
 * room for every token plus 16 bytes, 16 bytes are readable at win + j for
 * a start j in the window and at text + tstart; ascii: the tokens are
 * ASCII. */
static inline void RS_FN(emit_pairs)(const uint8_t *text, size_t len, const uint8_t *win, size_t base, uint64_t x,
                                     size_t tstart, rs_token_t **tokp, uint8_t *fold, size_t *flp, size_t fold_cap,
                                     size_t *cutp, int fast, int ascii)
{
    rs_token_t *tok = *tokp;
    size_t fl = *flp, e = *cutp;
    for (int k = __builtin_popcountll(x) / 2; k > 0; k--) {
        const unsigned bs = (unsigned)__builtin_ctzll(x);
        x &= x - 1;
        const size_t s = bs ? base + bs : tstart;
        e = base + (size_t)__builtin_ctzll(x);
        x &= x - 1;
        if (fast) {
            size_t r = 0;
            const uint8_t *src = bs ? win + bs : text + tstart;
            /* 16 bytes are readable at a start in the window (the window
             * is read from text only where 80 bytes remain, else from a
             * copy of RS_WIN + 16 bytes); the token in progress is read
             * from text, where they may not be: then the slower path */
            const int readable = bs != 0 || len - tstart >= 16;
            if (RS_LIKELY(e - s <= 16) && RS_LIKELY(readable))
                r = RS_FN(emit16)(src, e - s, tok, fold, fl, ascii, 0);
            fl = RS_LIKELY(r) ? r : RS_FN(emit)(text, len, s, e, tok, fold, fl, fold_cap);
        } else {
            fl = RS_FN(emit)(text, len, s, e, tok, fold, fl, fold_cap);
        }
        tok++;
    }
    *tokp = tok;
    *flp = fl;
    *cutp = e;
}

/* Mask T of the bytes inside tokens for the window at p (RS_READ bytes
 * readable); *cx gets the mask of "complex" bytes: non-ASCII and not part
 * of a simple character; *highp the mask of all non-ASCII bytes. */
static inline uint64_t RS_FN(classify)(const uint8_t *p, uint64_t *cx, uint64_t *highp)
{
    const rs_win_t x = rs_win_load(p);
    const rs_win_t c = rs_win_lookup(x, rs_ascii_lo, rs_ascii_hi);
    uint64_t a = rs_win_any(c, RS_C_ALPHA), w = rs_win_any(c, RS_C_WORD);
    const uint64_t d = rs_win_any(c, RS_C_D);
    const uint64_t ml = rs_win_any(c, RS_C_ML), mn = rs_win_any(c, RS_C_MN);
    const uint64_t high = rs_win_high(x);
    uint64_t q3 = 0;
    *cx = 0;
    *highp = high;
    if (high) {
        const rs_win_t y = rs_win_load(p + 1);
        const rs_win_t l2 = rs_win_and(rs_win_lookup(x, rs_l2_xl, rs_l2_xh), rs_win_lookup(y, rs_l2_yl, rs_l2_yh));
        const uint64_t lead2 = rs_win_any(l2, RS_L_GOOD) & ~rs_win_any(l2, RS_L_EXC);
        const uint64_t e280 = rs_win_eq(x, 0xE2) & rs_win_eq(y, 0x80);
        const rs_win_t p3 = rs_win_lookup(rs_win_load(p + 2), rs_p3_zl, rs_p3_zh);
        const uint64_t o3 = e280 & rs_win_any(p3, RS_P_OTHER);
        const uint64_t o2 = rs_win_eq(x, 0xC2) & rs_win_any(rs_win_lookup(y, rs_o2_yl, rs_o2_yh), RS_O_A | RS_O_B);
        const uint64_t letters = lead2 | lead2 << 1;
        q3 = e280 & rs_win_any(p3, RS_P_MID);
        a |= letters;
        w |= letters;
        const uint64_t three = o3 | q3;
        *cx = high & ~(letters | o2 | o2 << 1 | three | three << 1 | three << 2);
    }
    uint64_t t = w | (ml & a << 1 & a >> 1) | (mn & d << 1 & d >> 1);
    if (q3) {
        const uint64_t j = q3 & ((a << 1 & a >> 3) | (d << 1 & d >> 3));
        t |= j | j << 1 | j << 2;
    }
    return t;
}

static void RS_FN(tokenize)(const uint8_t *text, size_t len, rs_tokens_t *out)
{
    size_t b = 0;       /* first decided position of the window */
    size_t cut = 0;     /* a boundary: the tokens before it are emitted, none after */
    size_t tstart = 0;  /* start of the token in progress */
    size_t next = 0;    /* same, after this window */
    int pending = 0;    /* whether a token is in progress */
    uint8_t pad[RS_WIN + 16];
    rs_token_t *tok = out->tok + out->n; /* the output, in locals */
    uint8_t *const fold = out->fold;
    size_t fl = out->fold_len;
    const size_t fold_cap = out->fold_cap;
    while (b < len) {
        /* the window starts RS_BACK bytes before b, or at the start */
        const size_t back = b < RS_BACK ? b : RS_BACK, base = b - back;
        /* the window, its two look-ahead loads and 16 bytes after any
         * token start in it: from text where readable, else a copy */
        const uint8_t *p;
        if (RS_LIKELY(len - base >= RS_WIN + 16)) {
            p = text + base;
        } else {
            const size_t have = len - base;
            memcpy(pad, text + base, have);
            memset(pad + have, ' ', sizeof pad - have);
            p = pad;
        }
        uint64_t cx, high;
        const uint64_t t = RS_FN(classify)(p, &cx, &high);
        uint64_t x = (t ^ t << 1) & (((1ULL << RS_STEP) - 1) << back);
        cx &= ~((1ULL << back) - 1);
        size_t q = 0;
        if (RS_UNLIKELY(cx)) {
            /* Only the tokens ending before the character that precedes q
             * are sure; keep the transitions before it. */
            q = base + (size_t)__builtin_ctzll(cx);
            size_t limit = q > cut ? q - 1 : cut;
            while (limit > cut && (text[limit] & 0xC0) == 0x80)
                limit--;
            const size_t bits = limit - base; /* < 64; "negative" (wrapped): none */
            x &= bits < 64 ? (1ULL << bits) - 1 : 0;
        }
        /* bit 0 stands for the token in progress (there is none when
         * back < RS_BACK: bit 0 is then position base); an odd last start
         * is the next one in progress (unless it is bit 0 itself) */
        tstart = pending ? tstart : base;
        x |= (uint64_t)pending;
        {
            const uint64_t odd = (uint64_t)__builtin_popcountll(x) & 1;
            const unsigned hb = 63u - (unsigned)__builtin_clzll(x | 1);
            const size_t last = hb ? base + hb : tstart;
            x &= ~(odd << hb);
            next = odd ? last : next;
            pending = (int)odd;
        }
        /* the tokens of this window write at most b + RS_STEP + RS_BACK -
         * first bytes; 16 bytes must be readable after the one in progress */
        const size_t first = (x & 1) ? tstart : b;
        if (RS_LIKELY(fold_cap - fl >= b - first + RS_WIN + 16 && (first == b || len - first >= 16))) {
            if (RS_LIKELY(!high && first >= base)) /* every token byte is in this ASCII window */
                RS_FN(emit_pairs)(text, len, p, base, x, tstart, &tok, fold, &fl, fold_cap, &cut, 1, 1);
            else
                RS_FN(emit_pairs)(text, len, p, base, x, tstart, &tok, fold, &fl, fold_cap, &cut, 1, 0);
        } else {
            RS_FN(emit_pairs)(text, len, p, base, x, tstart, &tok, fold, &fl, fold_cap, &cut, 0, 0);
        }
        tstart = next;
        if (RS_UNLIKELY(cx)) {
            const size_t d = rs_simd_restart(text, len, q + 1);
            out->n = (size_t)(tok - out->tok);
            out->fold_len = fl;
            rs_scalar_tokenize(text + cut, d - cut, out);
            tok = out->tok + out->n;
            fl = out->fold_len;
            cut = b = d;
            pending = 0;
            continue;
        }
        b += RS_STEP;
    }
    if (pending)
        fl = RS_FN(emit)(text, len, tstart, len, tok++, fold, fl, fold_cap);
    out->n = (size_t)(tok - out->tok);
    out->fold_len = fl;
}

const rs_kernels_t RS_TABLE = {
    .name = RS_ISA_NAME,
    .description = RS_ISA_DESCRIPTION,
    .required = RS_ISA_REQUIRED,
    .tokenize = RS_FN(tokenize),
};
