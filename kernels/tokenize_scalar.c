/*
 * tokenize_scalar.c - the scalar reference tokenizer: the executable
 * specification that every faster backend (SIMD, OpenCL) is checked against.
 *
 * How it works: rs_segment walks one word segment from a boundary to the
 * next, following UAX #29 (Unicode 15.0) rule by rule, and ORs the property
 * bytes of its code points. A segment with a "word char" (RS_UP_WORD) is a
 * token: rs_emit re-reads it, case-folds each code point (simple folding),
 * writes the UTF-8 to out->fold and appends {off, len, rs_hash64}.
 * rs_scalar_tokenize first tries two ASCII shortcuts (a run of letters and
 * digits followed by ASCII that cannot join it, folded in the same pass; a
 * lone ASCII punctuation or space byte), which give what the general walk
 * gives and make English text about twice as fast.
 *
 * Rules WB4 (ignore Extend, Format, ZWJ) and those looking two characters
 * back (WB7, WB7c, WB11) are handled without looking back: the walk keeps
 * the last non-ignored Word_Break value ("prev", WB4's X) and, where WB6,
 * WB7b or WB12 must look one character ahead, takes that character in the
 * same step when the rule holds. Since every text given to a kernel starts
 * at a boundary, and segmentation after a boundary does not depend on what
 * precedes it, each segment starts as if at the start of text (WB1).
 *
 * Invalid UTF-8: each byte of a bad sequence is one U+FFFD (WB Other, no
 * flags), counted in out->invalid_bytes. Reads stay inside text[0..len); no
 * allocation, no output other than *out.
 */
#include <stddef.h>
#include <stdint.h>

#include "hash.h"    /* rs_hash64 */
#include "unicode.h" /* tables, rs_utf8_decode, rs_wb_next, rs_scalar_tokenize */

#define RS_WBB(v) (1u << (v))

/* Sets of Word_Break values, as bit masks over rs_wb_e. */
enum {
    RS_WBS_NEWLINES = RS_WBB(RS_WB_CR) | RS_WBB(RS_WB_LF) | RS_WBB(RS_WB_NEWLINE),
    RS_WBS_IGNORED = RS_WBB(RS_WB_EXTEND) | RS_WBB(RS_WB_FORMAT) | RS_WBB(RS_WB_ZWJ),
    RS_WBS_AHLETTER = RS_WBB(RS_WB_ALETTER) | RS_WBB(RS_WB_HEBREW_LETTER),
    /* (MidLetter | MidNumLetQ), between letters (WB6, WB7) */
    RS_WBS_MIDLETTER = RS_WBB(RS_WB_MIDLETTER) | RS_WBB(RS_WB_MIDNUMLET) | RS_WBB(RS_WB_SINGLE_QUOTE),
    /* (MidNum | MidNumLetQ), between digits (WB11, WB12) */
    RS_WBS_MIDNUM = RS_WBB(RS_WB_MIDNUM) | RS_WBB(RS_WB_MIDNUMLET) | RS_WBB(RS_WB_SINGLE_QUOTE),
    RS_WBS_NUMERIC = RS_WBB(RS_WB_NUMERIC),
    RS_WBS_KATAKANA = RS_WBB(RS_WB_KATAKANA),
    RS_WBS_EXTENDNUMLET = RS_WBB(RS_WB_EXTENDNUMLET),
    RS_WBS_ALNUM = RS_WBS_AHLETTER | RS_WBS_NUMERIC,
    /* the values of prev after which some rule from WB5 on may join */
    RS_WBS_JOINING = RS_WBS_AHLETTER | RS_WBS_NUMERIC | RS_WBS_KATAKANA | RS_WBS_EXTENDNUMLET |
                     RS_WBB(RS_WB_REGIONAL_INDICATOR),
    /* the values of a character after a letter or digit that some rule may
     * join to it: WB4, WB5-WB12, WB13a */
    RS_WBS_AFTER_ALNUM = RS_WBS_IGNORED | RS_WBS_ALNUM | RS_WBS_MIDLETTER | RS_WBS_MIDNUM |
                         RS_WBS_EXTENDNUMLET,
    /* first characters that may join what follows: the above, CR (WB3) and
     * ZWJ (WB3c, here with Extend and Format) */
    RS_WBS_NOT_ALONE = RS_WBS_JOINING | RS_WBB(RS_WB_CR) | RS_WBS_IGNORED,
};

/* Whether byte b is an ASCII letter or digit (Word_Break ALetter, Numeric). */
static inline int rs_ascii_alnum(unsigned b)
{
    return (b - 0x30u < 10u) | ((b | 0x20u) - 0x61u < 26u);
}

/* Simple case folding of an ASCII byte. */
static inline uint8_t rs_ascii_fold(unsigned b)
{
    return (uint8_t)(b + ((b - 0x41u < 26u) ? 32u : 0u));
}

/* What rules WB5 to WB999 say between two non-ignored characters. */
typedef enum rs_pair_e {
    RS_PAIR_BREAK,      /* ÷ */
    RS_PAIR_JOIN,       /* × */
    RS_PAIR_IF_LETTER,  /* × if an AHLetter follows (WB6, WB7), else ÷ */
    RS_PAIR_IF_LETTER_ELSE_JOIN, /* × with the next too if an AHLetter (WB6, WB7), else × alone (WB7a) */
    RS_PAIR_IF_HEBREW,  /* × if a Hebrew_Letter follows (WB7b, WB7c), else ÷ */
    RS_PAIR_IF_NUMERIC, /* × if a Numeric follows (WB11, WB12), else ÷ */
} rs_pair_e;

/* Rules WB5 to WB16 and WB999 for prev (WB4's X: the last character not
 * ignored) followed by cur (not ignored, not a newline); ri_odd: prev ends
 * an odd run of Regional_Indicators. */
static inline rs_pair_e rs_wb_pair(unsigned prev, unsigned cur, int ri_odd)
{
    const uint32_t p = RS_WBB(prev), c = RS_WBB(cur);
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

/* Decode at s[i] (i < len): property byte in *props, bytes consumed returned.
 * ASCII takes the first stage-2 block directly. */
static inline size_t rs_next_cp(const uint8_t *s, size_t len, size_t i, unsigned *props)
{
    if (s[i] < 0x80) {
        *props = rs_unicode_props_stage2[s[i]];
        return 1;
    }
    uint32_t cp;
    const size_t n = rs_utf8_decode(s, len, i, &cp);
    *props = rs_unicode_props(cp);
    return n;
}

/* The look-ahead of WB6, WB7b and WB12: from j, skip Extend, Format and ZWJ
 * (WB4) and return the Word_Break value of the next code point, or
 * RS_WB_COUNT at the end of the text. *end is set just after that code
 * point, *acc to the OR of all property bytes read, *last to its own. */
static inline unsigned rs_wb_peek(const uint8_t *s, size_t len, size_t j, size_t *end, unsigned *acc,
                                  unsigned *last)
{
    unsigned a = 0, p = 0;
    while (j < len) {
        j += rs_next_cp(s, len, j, &p);
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

/* One word segment: from pos (a boundary, pos < len) to the next boundary,
 * which is returned. *acc receives the OR of the property bytes of its code
 * points; the invalid bytes in it are added to *invalid. */
static inline size_t rs_segment(const uint8_t *s, size_t len, size_t pos, unsigned *acc,
                                uint64_t *invalid)
{
    unsigned p;
    size_t n = rs_next_cp(s, len, pos, &p);
    size_t i = pos + n;
    unsigned a = p;
    uint64_t bad = (n == 1 && s[pos] >= 0x80);
    unsigned wb = p & RS_UP_WB_MASK;

    if (wb == RS_WB_CR) { /* WB3: CR × LF; WB3a: break after it */
        if (i < len && s[i] == 0x0A)
            i++;
        goto done;
    }
    if (wb == RS_WB_LF || wb == RS_WB_NEWLINE)
        goto done; /* WB3a */

    unsigned prev = wb; /* WB4's X: the last character not ignored */
    unsigned raw = p;   /* the character just before i, for WB3c and WB3d */
    int ri_odd = (wb == RS_WB_REGIONAL_INDICATOR);
    for (;;) {
        if (RS_WBB(prev) & RS_WBS_ALNUM) {
            /* Fast path, same result as the general case below: after a
             * letter or digit, ASCII letters and digits join (WB5, WB8,
             * WB9, WB10); none is Extended_Pictographic or WSegSpace. */
            size_t j = i;
            while (j < len && rs_ascii_alnum(s[j]))
                j++;
            if (j > i) {
                p = rs_unicode_props_stage2[s[j - 1]];
                a |= p;
                prev = p & RS_UP_WB_MASK;
                raw = p;
                ri_odd = 0;
                i = j;
            }
        }
        if (i >= len)
            break;
        n = rs_next_cp(s, len, i, &p);
        wb = p & RS_UP_WB_MASK;
        if (RS_WBB(wb) & RS_WBS_NEWLINES)
            break; /* WB3b */
        if (!(RS_WBB(wb) & RS_WBS_IGNORED)) { /* else WB4: × and X unchanged */
            const unsigned rawwb = raw & RS_UP_WB_MASK;
            const int wb3c = rawwb == RS_WB_ZWJ && (p & RS_UP_EXTPICT);
            const int wb3d = rawwb == RS_WB_WSEGSPACE && wb == RS_WB_WSEGSPACE;
            if (!wb3c && !wb3d) {
                if (!(RS_WBB(prev) & RS_WBS_JOINING))
                    break; /* shortcut: no rule from WB5 on joins after prev */
                const rs_pair_e r = rs_wb_pair(prev, wb, ri_odd);
                if (r == RS_PAIR_BREAK)
                    break;
                if (r != RS_PAIR_JOIN) {
                    const unsigned want = r == RS_PAIR_IF_HEBREW    ? RS_WBB(RS_WB_HEBREW_LETTER)
                                          : r == RS_PAIR_IF_NUMERIC ? RS_WBS_NUMERIC
                                                                    : RS_WBS_AHLETTER;
                    size_t end = 0;
                    unsigned pa = 0, last = 0;
                    const unsigned next = rs_wb_peek(s, len, i + n, &end, &pa, &last);
                    if (next < RS_WB_COUNT && (RS_WBB(next) & want)) {
                        /* × on both sides of cur (WB6+7, WB7b+7c, WB12+11).
                         * What was skipped is Extend/Format/ZWJ and next is
                         * a letter or digit: all valid UTF-8. */
                        a |= p | pa;
                        i = end;
                        prev = next;
                        raw = last;
                        ri_odd = 0;
                        continue;
                    }
                    if (r != RS_PAIR_IF_LETTER_ELSE_JOIN)
                        break; /* WB999 */
                    /* WB7a: Hebrew_Letter × Single_Quote */
                }
            }
            ri_odd = wb == RS_WB_REGIONAL_INDICATOR && !(prev == RS_WB_REGIONAL_INDICATOR && ri_odd);
            prev = wb;
        }
        raw = p;
        a |= p;
        bad += (n == 1 && s[i] >= 0x80);
        i += n;
    }
done:
    *acc = a;
    *invalid += bad;
    return i;
}

size_t rs_wb_next(const uint8_t *s, size_t len, size_t pos)
{
    if (pos >= len)
        return len;
    unsigned acc;
    uint64_t invalid = 0;
    return rs_segment(s, len, pos, &acc, &invalid);
}

/* Append the token whose n folded bytes were just written at the end of
 * out->fold. */
static inline void rs_push(rs_tokens_t *out, size_t n)
{
    const uint8_t *const start = out->fold + out->fold_len;
    rs_token_t *t = &out->tok[out->n++];
    t->off = (uint32_t)out->fold_len;
    t->len = (uint32_t)n;
    t->hash = rs_hash64(start, n);
    out->fold_len += n;
}

/* Append the token s[pos..end): fold each code point, write UTF-8 at the end
 * of out->fold, then the rs_token_t. An invalid byte (only ever first in a
 * segment, then followed by Extend/Format/ZWJ only) is written as U+FFFD. */
static void rs_emit(const uint8_t *s, size_t pos, size_t end, rs_tokens_t *out)
{
    uint8_t *const start = out->fold + out->fold_len;
    uint8_t *w = start;
    size_t i = pos;
    while (i < end) {
        const uint32_t b = s[i];
        if (b < 0x80) {
            *w++ = rs_ascii_fold(b);
            i++;
            continue;
        }
        uint32_t cp;
        i += rs_utf8_decode(s, end, i, &cp);
        if (rs_unicode_props(cp) & RS_UP_FOLDS)
            cp = rs_unicode_fold(cp);
        w += rs_utf8_encode(cp, w);
    }
    rs_push(out, (size_t)(w - start));
}

/* ASCII Word_Break value of byte b < 0x80. */
static inline unsigned rs_ascii_wb(unsigned b)
{
    return rs_unicode_props_stage2[b] & RS_UP_WB_MASK;
}

void rs_scalar_tokenize(const uint8_t *text, size_t len, rs_tokens_t *out)
{
    uint64_t invalid = 0;
    size_t pos = 0;
    while (pos < len) {
        /* Two shortcuts for ASCII, each giving what the general case below
         * gives, by the same rules; the tests compare them with rs_wb_next. */
        const unsigned b = text[pos];
        if (b < 0x80) {
            const unsigned p0 = rs_unicode_props_stage2[b], wb0 = p0 & RS_UP_WB_MASK;
            if (RS_WBB(wb0) & RS_WBS_ALNUM) {
                /* A run of ASCII letters and digits (WB5, WB8-10) ends the
                 * segment where an ASCII character follows that no rule
                 * joins after a letter or digit. Fold as we go. */
                uint8_t *const w = out->fold + out->fold_len;
                size_t j = pos;
                do {
                    w[j - pos] = rs_ascii_fold(text[j]);
                    j++;
                } while (j < len && rs_ascii_alnum(text[j]));
                if (j == len || (text[j] < 0x80 && !(RS_WBB(rs_ascii_wb(text[j])) & RS_WBS_AFTER_ALNUM))) {
                    rs_push(out, j - pos);
                    pos = j;
                    continue;
                }
            } else if (!(p0 & RS_UP_WORD) && !(RS_WBB(wb0) & RS_WBS_NOT_ALONE) && pos + 1 < len &&
                       text[pos + 1] < 0x80) {
                /* One ASCII non-word character after which nothing joins
                 * (WB5 on), followed by ASCII that is neither ignored (WB4)
                 * nor a second space (WB3d): a segment of its own. */
                const unsigned wb1 = rs_ascii_wb(text[pos + 1]);
                if (!(RS_WBB(wb1) & RS_WBS_IGNORED) && !(wb0 == RS_WB_WSEGSPACE && wb1 == RS_WB_WSEGSPACE)) {
                    pos++;
                    continue;
                }
            }
        }
        unsigned acc;
        const size_t end = rs_segment(text, len, pos, &acc, &invalid);
        if (acc & RS_UP_WORD)
            rs_emit(text, pos, end, out);
        pos = end;
    }
    out->invalid_bytes += invalid;
}
