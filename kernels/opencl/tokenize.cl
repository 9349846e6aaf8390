/*
 * tokenize.cl - the OpenCL C 1.2 port of the scalar reference tokenizer
 * (kernels/tokenize_scalar.c, the specification): UAX #29 word boundaries
 * (Unicode 15.0), one U+FFFD per invalid UTF-8 byte, simple case folding,
 * rs_hash64 of the folded bytes. No extension is needed beyond 64-bit
 * integers (core in the full profile).
 *
 * The Unicode tables are the generated two-stage arrays of
 * kernels/unicode_tables.c, uploaded unchanged as read-only buffers. The
 * host (host/opencl.c) embeds this file at build time and runs three
 * kernels on one piece of text, in order on one queue:
 *
 *   rs_tok_chunks   one work-item per sub-chunk: work-item i owns the text
 *                   from the first safe cut at or after i * sub up to the
 *                   first safe cut at or after (i + 1) * sub (a safe cut is
 *                   rs_safe_cut's: after an ASCII space, tab or LF, before
 *                   an ASCII byte other than a space; segmentation after it
 *                   does not depend on what precedes it), so that neighbours
 *                   agree on their edges without talking. It tokenizes that
 *                   text on its own, writing tokens {fold offset, length,
 *                   rs_hash64} and folded bytes into its own region of the
 *                   scratch buffers
 *                   (token index = its first byte, fold offset = twice that:
 *                   tokens <= bytes and folded bytes <= 2 * bytes), with
 *                   want_src each token's first byte in the text into src
 *                   (for batched calls: which text a token came from), and its
 *                   counts into info[i] = {first byte | flags, tokens, fold
 *                   bytes, invalid bytes}. A work-item whose range holds no safe
 *                   cut owns nothing; the one before it runs on.
 *   rs_tok_scan     one work-group: exclusive prefix sums of the counts,
 *                   and the totals (with the OR of the flags).
 *   rs_tok_compact  one work-item per sub-chunk: copies its tokens and
 *                   folded bytes to their final places, so the output is
 *                   exactly the scalar reference's, in its order.
 *
 * Positions are uint: the host never gives more than 2^30 bytes at once.
 * The numbering of Word_Break values and property bits is kernels/unicode.h's
 * (frozen there for this file's sake).
 */

#ifdef RS_FAULT_BUILD
#error "build failure injected with -DRS_FAULT_BUILD (tests)"
#endif

/* Word_Break values (enum rs_wb_e in kernels/unicode.h). */
#define RS_WB_OTHER 0u
#define RS_WB_CR 1u
#define RS_WB_LF 2u
#define RS_WB_NEWLINE 3u
#define RS_WB_EXTEND 4u
#define RS_WB_ZWJ 5u
#define RS_WB_REGIONAL_INDICATOR 6u
#define RS_WB_FORMAT 7u
#define RS_WB_KATAKANA 8u
#define RS_WB_HEBREW_LETTER 9u
#define RS_WB_ALETTER 10u
#define RS_WB_SINGLE_QUOTE 11u
#define RS_WB_DOUBLE_QUOTE 12u
#define RS_WB_MIDNUMLET 13u
#define RS_WB_MIDLETTER 14u
#define RS_WB_MIDNUM 15u
#define RS_WB_NUMERIC 16u
#define RS_WB_EXTENDNUMLET 17u
#define RS_WB_WSEGSPACE 18u
#define RS_WB_COUNT 19u

/* Property byte (kernels/unicode.h). */
#define RS_UP_WB_MASK 0x1Fu
#define RS_UP_EXTPICT 0x20u
#define RS_UP_WORD 0x40u
#define RS_UP_FOLDS 0x80u
#define RS_UNICODE_SHIFT 7u
#define RS_UNICODE_BLOCK_MASK 127u
#define RS_UNICODE_MAX 0x10FFFFu
#define RS_UNICODE_REPLACEMENT 0xFFFDu

#define RS_WBB(v) (1u << (v))

/* Sets of Word_Break values, as in tokenize_scalar.c. */
#define RS_WBS_NEWLINES (RS_WBB(RS_WB_CR) | RS_WBB(RS_WB_LF) | RS_WBB(RS_WB_NEWLINE))
#define RS_WBS_IGNORED (RS_WBB(RS_WB_EXTEND) | RS_WBB(RS_WB_FORMAT) | RS_WBB(RS_WB_ZWJ))
#define RS_WBS_AHLETTER (RS_WBB(RS_WB_ALETTER) | RS_WBB(RS_WB_HEBREW_LETTER))
#define RS_WBS_MIDLETTER (RS_WBB(RS_WB_MIDLETTER) | RS_WBB(RS_WB_MIDNUMLET) | RS_WBB(RS_WB_SINGLE_QUOTE))
#define RS_WBS_MIDNUM (RS_WBB(RS_WB_MIDNUM) | RS_WBB(RS_WB_MIDNUMLET) | RS_WBB(RS_WB_SINGLE_QUOTE))
#define RS_WBS_NUMERIC RS_WBB(RS_WB_NUMERIC)
#define RS_WBS_KATAKANA RS_WBB(RS_WB_KATAKANA)
#define RS_WBS_EXTENDNUMLET RS_WBB(RS_WB_EXTENDNUMLET)
#define RS_WBS_ALNUM (RS_WBS_AHLETTER | RS_WBS_NUMERIC)
#define RS_WBS_JOINING                                                                             \
    (RS_WBS_AHLETTER | RS_WBS_NUMERIC | RS_WBS_KATAKANA | RS_WBS_EXTENDNUMLET |                    \
     RS_WBB(RS_WB_REGIONAL_INDICATOR))
#define RS_WBS_AFTER_ALNUM                                                                         \
    (RS_WBS_IGNORED | RS_WBS_ALNUM | RS_WBS_MIDLETTER | RS_WBS_MIDNUM | RS_WBS_EXTENDNUMLET)
#define RS_WBS_NOT_ALONE (RS_WBS_JOINING | RS_WBB(RS_WB_CR) | RS_WBS_IGNORED)

/* What rules WB5 to WB999 say between two non-ignored characters. */
#define RS_PAIR_BREAK 0u
#define RS_PAIR_JOIN 1u
#define RS_PAIR_IF_LETTER 2u
#define RS_PAIR_IF_LETTER_ELSE_JOIN 3u
#define RS_PAIR_IF_HEBREW 4u
#define RS_PAIR_IF_NUMERIC 5u

/* Flags in the top bits of info[c].x (its first byte is below 2^30) and
 * in totals.w, which the host reads back (host/opencl.c). */
#define RS_CL_FLAG_OVERFLOW 0x80000000u
#define RS_CL_FLAG_FAULT 0x40000000u
#define RS_CL_START_MASK 0x3FFFFFFFu

/* rs_hash64 (kernels/hash.h). */
#define RS_HASH_P1 0x9E3779B185EBCA87UL
#define RS_HASH_K0 0x7D81D544BB08D0FFUL
#define RS_HASH_K1 0x5A486531020173E1UL
#define RS_HASH_K2 0x3440B0841534F73BUL
#define RS_HASH_K3 0x2C21A4B6C51A1991UL

/* The uploaded tables. */
typedef struct rs_cl_tables {
    __global const ushort *p1; /* rs_unicode_props_stage1 */
    __global const uchar *p2;  /* rs_unicode_props_stage2 */
    __global const ushort *f1; /* rs_unicode_fold_stage1 */
    __global const int *f2;    /* rs_unicode_fold_stage2 */
    uint f1_len;               /* rs_unicode_fold_stage1_len */
} rs_cl_tables;

/* One output token: the layout of rs_token_t (checked by the host). */
typedef struct rs_cl_token {
    uint off;
    uint len;
    ulong hash;
} rs_cl_token;

uint rs_cl_props(const rs_cl_tables *t, uint cp)
{
    if (cp < 0x80u)
        return t->p2[cp];
    if (cp > RS_UNICODE_MAX)
        return 0u;
    const uint blk = t->p1[cp >> RS_UNICODE_SHIFT];
    return t->p2[(blk << RS_UNICODE_SHIFT) | (cp & RS_UNICODE_BLOCK_MASK)];
}

uint rs_cl_fold(const rs_cl_tables *t, uint cp)
{
    if (cp < 0x80u)
        return cp + ((cp - 0x41u < 26u) ? 32u : 0u);
    const uint b = cp >> RS_UNICODE_SHIFT;
    if (b >= t->f1_len)
        return cp;
    const uint blk = t->f1[b];
    const int d = t->f2[(blk << RS_UNICODE_SHIFT) | (cp & RS_UNICODE_BLOCK_MASK)];
    return (uint)((int)cp + d);
}

/* rs_utf8_decode: the sequence at s[pos] (pos < len) into *cp; returns the
 * bytes consumed, 1 for an invalid byte (then *cp = U+FFFD). */
uint rs_cl_decode(__global const uchar *s, uint len, uint pos, uint *cp)
{
    const uint b0 = s[pos];
    if (b0 < 0x80u) {
        *cp = b0;
        return 1u;
    }
    const uint avail = len - pos;
    if (b0 >= 0xC2u && b0 <= 0xDFu) {
        if (avail >= 2u) {
            const uint b1 = s[pos + 1u];
            if ((b1 & 0xC0u) == 0x80u) {
                *cp = ((b0 & 0x1Fu) << 6) | (b1 & 0x3Fu);
                return 2u;
            }
        }
    } else if (b0 >= 0xE0u && b0 <= 0xEFu) {
        if (avail >= 3u) {
            const uint lo = b0 == 0xE0u ? 0xA0u : 0x80u, hi = b0 == 0xEDu ? 0x9Fu : 0xBFu;
            const uint b1 = s[pos + 1u], b2 = s[pos + 2u];
            if (b1 >= lo && b1 <= hi && (b2 & 0xC0u) == 0x80u) {
                *cp = ((b0 & 0x0Fu) << 12) | ((b1 & 0x3Fu) << 6) | (b2 & 0x3Fu);
                return 3u;
            }
        }
    } else if (b0 >= 0xF0u && b0 <= 0xF4u) {
        if (avail >= 4u) {
            const uint lo = b0 == 0xF0u ? 0x90u : 0x80u, hi = b0 == 0xF4u ? 0x8Fu : 0xBFu;
            const uint b1 = s[pos + 1u], b2 = s[pos + 2u], b3 = s[pos + 3u];
            if (b1 >= lo && b1 <= hi && (b2 & 0xC0u) == 0x80u && (b3 & 0xC0u) == 0x80u) {
                *cp = ((b0 & 0x07u) << 18) | ((b1 & 0x3Fu) << 12) | ((b2 & 0x3Fu) << 6) | (b3 & 0x3Fu);
                return 4u;
            }
        }
    }
    *cp = RS_UNICODE_REPLACEMENT;
    return 1u;
}

/* rs_utf8_encode: cp (a scalar value) as UTF-8 at out; bytes written. */
uint rs_cl_encode(uint cp, __global uchar *out)
{
    if (cp < 0x80u) {
        out[0] = (uchar)cp;
        return 1u;
    }
    if (cp < 0x800u) {
        out[0] = (uchar)(0xC0u | (cp >> 6));
        out[1] = (uchar)(0x80u | (cp & 0x3Fu));
        return 2u;
    }
    if (cp < 0x10000u) {
        out[0] = (uchar)(0xE0u | (cp >> 12));
        out[1] = (uchar)(0x80u | ((cp >> 6) & 0x3Fu));
        out[2] = (uchar)(0x80u | (cp & 0x3Fu));
        return 3u;
    }
    out[0] = (uchar)(0xF0u | (cp >> 18));
    out[1] = (uchar)(0x80u | ((cp >> 12) & 0x3Fu));
    out[2] = (uchar)(0x80u | ((cp >> 6) & 0x3Fu));
    out[3] = (uchar)(0x80u | (cp & 0x3Fu));
    return 4u;
}

uint rs_cl_ascii_alnum(uint b)
{
    return (b - 0x30u < 10u) | ((b | 0x20u) - 0x61u < 26u);
}

uchar rs_cl_ascii_fold(uint b)
{
    return (uchar)(b + ((b - 0x41u < 26u) ? 32u : 0u));
}

/* Rules WB5 to WB16 and WB999 (rs_wb_pair). */
uint rs_cl_wb_pair(uint prev, uint cur, int ri_odd)
{
    const uint p = RS_WBB(prev), c = RS_WBB(cur);
    if ((p & RS_WBS_AHLETTER) && (c & RS_WBS_AHLETTER))
        return RS_PAIR_JOIN; /* WB5 */
    if ((p & RS_WBS_AHLETTER) && (c & RS_WBS_MIDLETTER)) {
        if (prev == RS_WB_HEBREW_LETTER && cur == RS_WB_SINGLE_QUOTE)
            return RS_PAIR_IF_LETTER_ELSE_JOIN; /* WB6, WB7, else WB7a */
        return RS_PAIR_IF_LETTER;               /* WB6, WB7 */
    }
    if (prev == RS_WB_HEBREW_LETTER && cur == RS_WB_DOUBLE_QUOTE)
        return RS_PAIR_IF_HEBREW; /* WB7b, WB7c */
    if ((p & RS_WBS_NUMERIC) && (c & RS_WBS_NUMERIC))
        return RS_PAIR_JOIN; /* WB8 */
    if ((p & RS_WBS_AHLETTER) && (c & RS_WBS_NUMERIC))
        return RS_PAIR_JOIN; /* WB9 */
    if ((p & RS_WBS_NUMERIC) && (c & RS_WBS_AHLETTER))
        return RS_PAIR_JOIN; /* WB10 */
    if ((p & RS_WBS_NUMERIC) && (c & RS_WBS_MIDNUM))
        return RS_PAIR_IF_NUMERIC; /* WB11, WB12 */
    if ((p & RS_WBS_KATAKANA) && (c & RS_WBS_KATAKANA))
        return RS_PAIR_JOIN; /* WB13 */
    if ((p & (RS_WBS_AHLETTER | RS_WBS_NUMERIC | RS_WBS_KATAKANA | RS_WBS_EXTENDNUMLET)) &&
        (c & RS_WBS_EXTENDNUMLET))
        return RS_PAIR_JOIN; /* WB13a */
    if ((p & RS_WBS_EXTENDNUMLET) && (c & (RS_WBS_AHLETTER | RS_WBS_NUMERIC | RS_WBS_KATAKANA)))
        return RS_PAIR_JOIN; /* WB13b */
    if (prev == RS_WB_REGIONAL_INDICATOR && cur == RS_WB_REGIONAL_INDICATOR && ri_odd)
        return RS_PAIR_JOIN; /* WB15, WB16 */
    return RS_PAIR_BREAK;    /* WB999 */
}

/* rs_next_cp: property byte of the code point at s[i] into *props. */
uint rs_cl_next_cp(const rs_cl_tables *t, __global const uchar *s, uint len, uint i, uint *props)
{
    const uint b = s[i];
    if (b < 0x80u) {
        *props = t->p2[b];
        return 1u;
    }
    uint cp;
    const uint n = rs_cl_decode(s, len, i, &cp);
    *props = rs_cl_props(t, cp);
    return n;
}

/* rs_wb_peek: the look-ahead of WB6, WB7b and WB12. */
uint rs_cl_wb_peek(const rs_cl_tables *t, __global const uchar *s, uint len, uint j, uint *end,
                   uint *acc, uint *last)
{
    uint a = 0u, p = 0u;
    while (j < len) {
        j += rs_cl_next_cp(t, s, len, j, &p);
        a |= p;
        if (!(RS_WBB(p & RS_UP_WB_MASK) & RS_WBS_IGNORED)) {
            *end = j;
            *acc = a;
            *last = p;
            return p & RS_UP_WB_MASK;
        }
    }
    return RS_WB_COUNT;
}

/* rs_segment: one word segment from the boundary pos (< len) to the next
 * boundary, returned; *acc gets the OR of its property bytes, *invalid
 * grows by its invalid bytes. */
uint rs_cl_segment(const rs_cl_tables *t, __global const uchar *s, uint len, uint pos, uint *acc,
                   uint *invalid)
{
    uint p;
    uint n = rs_cl_next_cp(t, s, len, pos, &p);
    uint i = pos + n;
    uint a = p;
    uint bad = (n == 1u && s[pos] >= 0x80u) ? 1u : 0u;
    uint wb = p & RS_UP_WB_MASK;

    if (wb == RS_WB_CR) { /* WB3: CR x LF; WB3a: break after it */
        if (i < len && s[i] == 0x0Au)
            i++;
        *acc = a;
        *invalid += bad;
        return i;
    }
    if (wb == RS_WB_LF || wb == RS_WB_NEWLINE) { /* WB3a */
        *acc = a;
        *invalid += bad;
        return i;
    }

    uint prev = wb; /* WB4's X: the last character not ignored */
    uint raw = p;   /* the character just before i, for WB3c and WB3d */
    int ri_odd = (wb == RS_WB_REGIONAL_INDICATOR);
    for (;;) {
        if (RS_WBB(prev) & RS_WBS_ALNUM) {
            /* after a letter or digit, ASCII letters and digits join */
            uint j = i;
            while (j < len && rs_cl_ascii_alnum(s[j]))
                j++;
            if (j > i) {
                p = t->p2[s[j - 1u]];
                a |= p;
                prev = p & RS_UP_WB_MASK;
                raw = p;
                ri_odd = 0;
                i = j;
            }
        }
        if (i >= len)
            break;
        n = rs_cl_next_cp(t, s, len, i, &p);
        wb = p & RS_UP_WB_MASK;
        if (RS_WBB(wb) & RS_WBS_NEWLINES)
            break; /* WB3b */
        if (!(RS_WBB(wb) & RS_WBS_IGNORED)) { /* else WB4: x and X unchanged */
            const uint rawwb = raw & RS_UP_WB_MASK;
            const int wb3c = rawwb == RS_WB_ZWJ && (p & RS_UP_EXTPICT);
            const int wb3d = rawwb == RS_WB_WSEGSPACE && wb == RS_WB_WSEGSPACE;
            if (!wb3c && !wb3d) {
                if (!(RS_WBB(prev) & RS_WBS_JOINING))
                    break; /* no rule from WB5 on joins after prev */
                const uint r = rs_cl_wb_pair(prev, wb, ri_odd);
                if (r == RS_PAIR_BREAK)
                    break;
                if (r != RS_PAIR_JOIN) {
                    const uint want = r == RS_PAIR_IF_HEBREW    ? RS_WBB(RS_WB_HEBREW_LETTER)
                                      : r == RS_PAIR_IF_NUMERIC ? RS_WBS_NUMERIC
                                                                : RS_WBS_AHLETTER;
                    uint end = 0u, pa = 0u, last = 0u;
                    const uint next = rs_cl_wb_peek(t, s, len, i + n, &end, &pa, &last);
                    if (next < RS_WB_COUNT && (RS_WBB(next) & want)) {
                        /* x on both sides of cur (WB6+7, WB7b+7c, WB12+11) */
                        a |= p | pa;
                        i = end;
                        prev = next;
                        raw = last;
                        ri_odd = 0;
                        continue;
                    }
                    if (r != RS_PAIR_IF_LETTER_ELSE_JOIN)
                        break; /* WB999 */
                    /* WB7a: Hebrew_Letter x Single_Quote */
                }
            }
            ri_odd = wb == RS_WB_REGIONAL_INDICATOR && !(prev == RS_WB_REGIONAL_INDICATOR && ri_odd);
            prev = wb;
        }
        raw = p;
        a |= p;
        bad += (n == 1u && s[i] >= 0x80u) ? 1u : 0u;
        i += n;
    }
    *acc = a;
    *invalid += bad;
    return i;
}

/* rs_emit: fold s[pos..end) code point by code point into w; bytes written.
 * An invalid byte (only ever first in a segment) is written as U+FFFD. */
uint rs_cl_emit(const rs_cl_tables *t, __global const uchar *s, uint pos, uint end, __global uchar *w)
{
    uint k = 0u, i = pos;
    while (i < end) {
        const uint b = s[i];
        if (b < 0x80u) {
            w[k++] = rs_cl_ascii_fold(b);
            i++;
            continue;
        }
        uint cp;
        i += rs_cl_decode(s, end, i, &cp);
        if (rs_cl_props(t, cp) & RS_UP_FOLDS)
            cp = rs_cl_fold(t, cp);
        k += rs_cl_encode(cp, w + k);
    }
    return k;
}

/* rs_hash_mum (kernels/hash.h): the halves of the 128-bit product, XORed. */
ulong rs_cl_mum(ulong a, ulong b)
{
    return (a * b) ^ mul_hi(a, b);
}

/* rs_hash64 of the n bytes at p (kernels/hash.h: 16-byte chunks of two
 * little-endian words, the last zero-padded, one zero chunk when n = 0;
 * the length in the seed; a last multiply by a constant). */
ulong rs_cl_hash(__global const uchar *p, uint n)
{
    ulong h = (ulong)n * RS_HASH_P1;
    uint i = 0u;
    do {
        ulong w[2] = {0UL, 0UL};
        for (uint q = 0u; q < 16u && i + q < n; q++)
            w[q >> 3] |= (ulong)p[i + q] << (8u * (q & 7u));
        h = rs_cl_mum(w[0] ^ RS_HASH_K0, w[1] ^ h ^ RS_HASH_K1);
        i += 16u;
    } while (i < n);
    return rs_cl_mum(h ^ RS_HASH_K2, RS_HASH_K3);
}

/* Whether a sub-chunk may start at p (0 < p < len): rs_safe_cut's rule. */
int rs_cl_is_cut(__global const uchar *text, uint p)
{
    const uint prev = text[p - 1u], next = text[p];
    return (prev == 0x20u || prev == 0x09u || prev == 0x0Au) && next < 0x80u && next != 0x20u;
}

/* The first safe cut in [from, to), or to when there is none. */
uint rs_cl_cut_from(__global const uchar *text, uint from, uint to)
{
    uint p = from < 1u ? 1u : from;
    while (p < to && !rs_cl_is_cut(text, p))
        p++;
    return p < to ? p : to;
}

__kernel void rs_tok_chunks(__global const uchar *text, uint len, uint sub, uint nchunks,
                            __global const ushort *p1, __global const uchar *p2,
                            __global const ushort *f1, uint f1_len, __global const int *f2,
                            __global rs_cl_token *tok, __global uchar *fold, __global uint4 *info,
                            uint fault, __global uint *src, uint want_src)
{
    const uint c = (uint)get_global_id(0);
    if (c >= nchunks)
        return;
    const rs_cl_tables t = {p1, p2, f1, f2, f1_len};
    const uint nominal = c * sub;
    const uint lim = len - nominal < sub ? len : nominal + sub;
    /* where this work-item starts and ends; lim when it owns nothing */
    const uint start = c == 0u ? 0u : rs_cl_cut_from(text, nominal, lim);
    if (start >= lim) {
        info[c] = (uint4)(start, 0u, 0u, 0u);
        return;
    }
    const uint end = lim >= len ? len : rs_cl_cut_from(text, lim, len);

    __global const uchar *s = text + start;
    const uint n = end - start;
    __global rs_cl_token *const otok = tok + start;
    __global uchar *const ofold = fold + 2u * (ulong)start;
    __global uint *const osrc = src + start;
    uint ntok = 0u, nfold = 0u, invalid = 0u;
    uint pos = 0u;
    while (pos < n) {
        /* the two ASCII shortcuts of rs_scalar_tokenize */
        const uint b = s[pos];
        if (b < 0x80u) {
            const uint p0 = p2[b], wb0 = p0 & RS_UP_WB_MASK;
            if (RS_WBB(wb0) & RS_WBS_ALNUM) {
                __global uchar *const w = ofold + nfold;
                uint j = pos;
                do {
                    w[j - pos] = rs_cl_ascii_fold(s[j]);
                    j++;
                } while (j < n && rs_cl_ascii_alnum(s[j]));
                if (j == n ||
                    (s[j] < 0x80u && !(RS_WBB(p2[s[j]] & RS_UP_WB_MASK) & RS_WBS_AFTER_ALNUM))) {
                    rs_cl_token o;
                    o.off = nfold;
                    o.len = j - pos;
                    o.hash = rs_cl_hash(w, j - pos);
                    if (want_src)
                        osrc[ntok] = start + pos;
                    otok[ntok++] = o;
                    nfold += j - pos;
                    pos = j;
                    continue;
                }
            } else if (!(p0 & RS_UP_WORD) && !(RS_WBB(wb0) & RS_WBS_NOT_ALONE) && pos + 1u < n &&
                       s[pos + 1u] < 0x80u) {
                const uint wb1 = p2[s[pos + 1u]] & RS_UP_WB_MASK;
                if (!(RS_WBB(wb1) & RS_WBS_IGNORED) &&
                    !(wb0 == RS_WB_WSEGSPACE && wb1 == RS_WB_WSEGSPACE)) {
                    pos++;
                    continue;
                }
            }
        }
        uint acc;
        const uint e = rs_cl_segment(&t, s, n, pos, &acc, &invalid);
        if (acc & RS_UP_WORD) {
            const uint k = rs_cl_emit(&t, s, pos, e, ofold + nfold);
            rs_cl_token o;
            o.off = nfold;
            o.len = k;
            o.hash = rs_cl_hash(ofold + nfold, k);
            if (want_src)
                osrc[ntok] = start + pos;
            otok[ntok++] = o;
            nfold += k;
        }
        pos = e;
    }
    /* The bounds hold by the contract (kernels.h); a breach is reported,
     * and the host then takes the piece to the CPU. */
    const uint flags = (ntok > n || nfold > 2u * n ? RS_CL_FLAG_OVERFLOW : 0u) | (fault ? RS_CL_FLAG_FAULT : 0u);
    info[c] = (uint4)(start | flags, ntok, nfold, invalid);
}

/* One work-group: prefix[i] = {tokens, fold bytes} before sub-chunk i;
 * totals = {tokens, fold bytes, invalid bytes, OR of the flags}. */
__kernel void rs_tok_scan(__global const uint4 *info, uint nchunks, __global uint2 *prefix,
                          __global uint4 *totals, __local uint *lt, __local uint *lf, __local uint *li,
                          __local uint *lg)
{
    const uint l = (uint)get_local_id(0), L = (uint)get_local_size(0);
    const uint per = (nchunks + L - 1u) / L;
    const uint b = min(l * per, nchunks), e = min(b + per, nchunks);
    uint st = 0u, sf = 0u, si = 0u, sg = 0u;
    for (uint k = b; k < e; k++) {
        const uint4 v = info[k];
        st += v.y;
        sf += v.z;
        si += v.w;
        sg |= v.x & ~RS_CL_START_MASK;
    }
    lt[l] = st;
    lf[l] = sf;
    li[l] = si;
    lg[l] = sg;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint off = 1u; off < L; off <<= 1) {
        uint a = 0u, bb = 0u, cc = 0u, dd = 0u;
        if (l >= off) {
            a = lt[l - off];
            bb = lf[l - off];
            cc = li[l - off];
            dd = lg[l - off];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (l >= off) {
            lt[l] += a;
            lf[l] += bb;
            li[l] += cc;
            lg[l] |= dd;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    uint pt = lt[l] - st, pf = lf[l] - sf;
    for (uint k = b; k < e; k++) {
        const uint4 v = info[k];
        prefix[k] = (uint2)(pt, pf);
        pt += v.y;
        pf += v.z;
    }
    if (l == L - 1u)
        totals[0] = (uint4)(lt[l], lf[l], li[l], lg[l]);
}

/* Copies sub-chunk c's tokens and folded bytes (and, with want_src, the
 * tokens' first bytes) to their final places; each token's off becomes
 * fold_base + its place in out_fold. */
__kernel void rs_tok_compact(__global const rs_cl_token *tok, __global const uchar *fold,
                             __global const uint4 *info, __global const uint2 *prefix, uint nchunks,
                             uint fold_base, __global rs_cl_token *out_tok, __global uchar *out_fold,
                             __global const uint *src, __global uint *out_src, uint want_src)
{
    const uint c = (uint)get_global_id(0);
    if (c >= nchunks)
        return;
    const uint4 v = info[c];
    if (v.y == 0u)
        return;
    const uint2 pre = prefix[c];
    const uint start = v.x & RS_CL_START_MASK;
    __global const rs_cl_token *const t = tok + start;
    __global rs_cl_token *const ot = out_tok + pre.x;
    const uint base = fold_base + pre.y;
    for (uint k = 0u; k < v.y; k++) {
        rs_cl_token o = t[k];
        o.off += base;
        ot[k] = o;
    }
    if (want_src) {
        __global const uint *const sr = src + start;
        __global uint *const osr = out_src + pre.x;
        for (uint k = 0u; k < v.y; k++)
            osr[k] = sr[k];
    }
    __global const uchar *const f = fold + 2u * (ulong)start;
    __global uchar *const of = out_fold + pre.y;
    const uint n = v.z;
    uint i = 0u;
    for (; i + 16u <= n; i += 16u)
        vstore16(vload16(0, f + i), 0, of + i);
    for (; i < n; i++)
        of[i] = f[i];
}
