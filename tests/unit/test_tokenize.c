/*
 * test_tokenize.c - Criterion tests of the Unicode tables, the UTF-8 decoder
 * and the scalar reference tokenizer (kernels/unicode.h).
 *
 *   - WordBreakTest.txt (path in RS_WORDBREAKTEST): every line's ÷/× marks
 *     against the boundaries rs_wb_next walks;
 *   - a second, naive implementation of UAX #29 (each position decided from
 *     its whole context, the way the rules are written) against rs_wb_next
 *     on seeded random strings of representative characters;
 *   - the generated tables against the UCD files next to WordBreakTest.txt
 *     (skipped when those are missing);
 *   - the decoder exhaustively for 1- to 3-byte inputs, and on 4-byte edges;
 *   - hand-written tokens and folds, invalid UTF-8, random bytes (seeded,
 *     the seed printed on failure) at every length 0..300 with outputs sized
 *     exactly at the documented capacities, so ASan sees any overrun.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"    /* rs_hash64 */
#include "unicode.h" /* rs_wb_next, rs_scalar_tokenize, tables, decoder */

#ifndef RS_WORDBREAKTEST
#define RS_WORDBREAKTEST "/usr/share/unicode/auxiliary/WordBreakTest.txt"
#endif

/* ------------------------------------------------------------------ */
/* Helpers */

/* xorshift64*: deterministic, seeded per test. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

typedef struct run {
    rs_tokens_t t;
    rs_token_t *tok;
    uint8_t *fold;
} run_t;

/* Tokenize len bytes into buffers of exactly the documented capacity. */
static void run_tokenize(run_t *r, const uint8_t *text, size_t len)
{
    memset(r, 0, sizeof *r);
    r->tok = malloc((len ? len : 1) * sizeof *r->tok);
    r->fold = malloc(len ? 2 * len : 1);
    cr_assert(r->tok && r->fold, "out of memory");
    r->t.tok = r->tok;
    r->t.tok_cap = len;
    r->t.fold = r->fold;
    r->t.fold_cap = 2 * len;
    rs_scalar_tokenize(text, len, &r->t);
}

static void run_free(run_t *r)
{
    free(r->tok);
    free(r->fold);
}

/* Tokenize the C string s and expect exactly the NULL-terminated tokens. */
static void expect_tokens(const char *s, const char *const *want)
{
    run_t r;
    run_tokenize(&r, (const uint8_t *)s, strlen(s));
    size_t nwant = 0;
    while (want[nwant])
        nwant++;
    cr_expect_eq(r.t.n, nwant, "\"%s\": %zu tokens, expected %zu", s, r.t.n, nwant);
    for (size_t i = 0; i < r.t.n && i < nwant; i++) {
        const rs_token_t *k = &r.t.tok[i];
        const int same = k->len == strlen(want[i]) && memcmp(r.t.fold + k->off, want[i], k->len) == 0;
        cr_expect(same, "\"%s\": token %zu is \"%.*s\", expected \"%s\"", s, i, (int)k->len,
                  (const char *)r.t.fold + k->off, want[i]);
        cr_expect_eq(k->hash, rs_hash64(r.t.fold + k->off, k->len), "\"%s\": token %zu hash", s, i);
    }
    cr_expect_eq(r.t.invalid_bytes, 0, "\"%s\": invalid bytes", s);
    run_free(&r);
}

#define TOKENS(s, ...) expect_tokens(s, (const char *const[]){__VA_ARGS__, NULL})
#define NO_TOKENS(s) expect_tokens(s, (const char *const[]){NULL})

/* Boundaries rs_wb_next walks from 0, into b (room for len + 1); count. */
static size_t walk(const uint8_t *s, size_t len, size_t *b)
{
    size_t n = 0, pos = 0;
    b[n++] = 0;
    while (pos < len) {
        const size_t next = rs_wb_next(s, len, pos);
        cr_assert(next > pos && next <= len, "rs_wb_next(%zu) = %zu, len %zu", pos, next, len);
        b[n++] = next;
        pos = next;
    }
    return n;
}

/* Whether s[0..len) is valid UTF-8, by a check written independently of
 * rs_utf8_decode (the value ranges rather than the byte ranges). */
static int valid_utf8(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        const uint8_t b = s[i];
        size_t n;
        uint32_t cp, min;
        if (b < 0x80) {
            i++;
            continue;
        } else if ((b & 0xE0) == 0xC0) {
            n = 2, cp = b & 0x1F, min = 0x80;
        } else if ((b & 0xF0) == 0xE0) {
            n = 3, cp = b & 0x0F, min = 0x800;
        } else if ((b & 0xF8) == 0xF0) {
            n = 4, cp = b & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (len - i < n)
            return 0;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += n;
    }
    return 1;
}

/* ------------------------------------------------------------------ */
/* (a) WordBreakTest.txt */

Test(wordbreak, unicode_test_file)
{
    FILE *f = fopen(RS_WORDBREAKTEST, "r");
    cr_assert(f != NULL,
              "cannot open %s: install unicode-data (Debian) or point RS_WORDBREAKTEST at "
              "WordBreakTest.txt of Unicode 15.0",
              RS_WORDBREAKTEST);
    char line[4096];
    size_t lineno = 0, tested = 0, failed = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        uint8_t text[1024];
        size_t len = 0, want[512], nwant = 0, got[1025];
        int ok = 1, any = 0;
        char *save = NULL;
        for (char *w = strtok_r(line, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save)) {
            if (strcmp(w, "\xC3\xB7") == 0) { /* ÷ */
                want[nwant++] = len;
            } else if (strcmp(w, "\xC3\x97") == 0) { /* × */
            } else {
                char *end;
                const unsigned long cp = strtoul(w, &end, 16);
                if (*end || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || len + 4 > sizeof text) {
                    ok = 0;
                    break;
                }
                len += rs_utf8_encode((uint32_t)cp, text + len);
                any = 1;
            }
            if (nwant == sizeof want / sizeof want[0]) {
                ok = 0;
                break;
            }
        }
        if (!any)
            continue;
        cr_assert(ok, "%s:%zu: cannot parse this line", RS_WORDBREAKTEST, lineno);
        tested++;
        const size_t ngot = walk(text, len, got);
        int same = ngot == nwant;
        for (size_t i = 0; same && i < ngot; i++)
            same = got[i] == want[i];
        if (!same) {
            char gs[512] = "", ws[512] = "";
            for (size_t i = 0; i < ngot; i++)
                snprintf(gs + strlen(gs), sizeof gs - strlen(gs), " %zu", got[i]);
            for (size_t i = 0; i < nwant; i++)
                snprintf(ws + strlen(ws), sizeof ws - strlen(ws), " %zu", want[i]);
            if (failed++ < 20)
                cr_expect_fail("%s:%zu: boundaries (byte offsets)%s, expected%s", RS_WORDBREAKTEST,
                               lineno, gs, ws);
        }
    }
    fclose(f);
    cr_expect_eq(failed, 0, "%zu of %zu lines of WordBreakTest.txt failed", failed, tested);
    cr_assert_gt(tested, 1800, "only %zu test lines read from %s", tested, RS_WORDBREAKTEST);
}

/* ------------------------------------------------------------------ */
/* A naive UAX #29: each position decided from the whole string, with
 * look-behind, as the rules are written. Classes come from the tables. */

static int naive_nl(unsigned c)
{
    return c == RS_WB_CR || c == RS_WB_LF || c == RS_WB_NEWLINE;
}

static int naive_efz(unsigned c)
{
    return c == RS_WB_EXTEND || c == RS_WB_FORMAT || c == RS_WB_ZWJ;
}

static int naive_ah(int c)
{
    return c == RS_WB_ALETTER || c == RS_WB_HEBREW_LETTER;
}

/* Index of the WB4 "X" that the character at j belongs to (j itself when it
 * is not Extend/Format/ZWJ, or follows sot or a newline); -1 for j < 0. */
static long naive_x(const unsigned *c, long j)
{
    if (j < 0)
        return -1;
    while (j > 0 && naive_efz(c[j]) && !naive_nl(c[j - 1]))
        j--;
    return j;
}

/* Break between characters k-1 and k (0 < k < n)? */
static int naive_break(const unsigned *c, const int *ep, long n, long k)
{
    const unsigned a = c[k - 1], b = c[k];
    if (a == RS_WB_CR && b == RS_WB_LF)
        return 0; /* WB3 */
    if (naive_nl(a) || naive_nl(b))
        return 1; /* WB3a, WB3b */
    if (a == RS_WB_ZWJ && ep[k])
        return 0; /* WB3c */
    if (a == RS_WB_WSEGSPACE && b == RS_WB_WSEGSPACE)
        return 0; /* WB3d */
    if (naive_efz(b))
        return 0; /* WB4 */
    const long l1 = naive_x(c, k - 1), l2 = naive_x(c, l1 - 1);
    long r2 = k + 1;
    while (r2 < n && naive_efz(c[r2]))
        r2++;
    const int L1 = (int)c[l1], L2 = l2 >= 0 ? (int)c[l2] : -1, R1 = (int)b,
              R2 = r2 < n ? (int)c[r2] : -1;
    const int midl = R1 == RS_WB_MIDLETTER || R1 == RS_WB_MIDNUMLET || R1 == RS_WB_SINGLE_QUOTE;
    const int midl1 = L1 == RS_WB_MIDLETTER || L1 == RS_WB_MIDNUMLET || L1 == RS_WB_SINGLE_QUOTE;
    const int midn = R1 == RS_WB_MIDNUM || R1 == RS_WB_MIDNUMLET || R1 == RS_WB_SINGLE_QUOTE;
    const int midn1 = L1 == RS_WB_MIDNUM || L1 == RS_WB_MIDNUMLET || L1 == RS_WB_SINGLE_QUOTE;
    if (naive_ah(L1) && naive_ah(R1))
        return 0; /* WB5 */
    if (naive_ah(L1) && midl && naive_ah(R2))
        return 0; /* WB6 */
    if (naive_ah(L2) && midl1 && naive_ah(R1))
        return 0; /* WB7 */
    if (L1 == RS_WB_HEBREW_LETTER && R1 == RS_WB_SINGLE_QUOTE)
        return 0; /* WB7a */
    if (L1 == RS_WB_HEBREW_LETTER && R1 == RS_WB_DOUBLE_QUOTE && R2 == RS_WB_HEBREW_LETTER)
        return 0; /* WB7b */
    if (L2 == RS_WB_HEBREW_LETTER && L1 == RS_WB_DOUBLE_QUOTE && R1 == RS_WB_HEBREW_LETTER)
        return 0; /* WB7c */
    if (L1 == RS_WB_NUMERIC && R1 == RS_WB_NUMERIC)
        return 0; /* WB8 */
    if (naive_ah(L1) && R1 == RS_WB_NUMERIC)
        return 0; /* WB9 */
    if (L1 == RS_WB_NUMERIC && naive_ah(R1))
        return 0; /* WB10 */
    if (L2 == RS_WB_NUMERIC && midn1 && R1 == RS_WB_NUMERIC)
        return 0; /* WB11 */
    if (L1 == RS_WB_NUMERIC && midn && R2 == RS_WB_NUMERIC)
        return 0; /* WB12 */
    if (L1 == RS_WB_KATAKANA && R1 == RS_WB_KATAKANA)
        return 0; /* WB13 */
    if ((naive_ah(L1) || L1 == RS_WB_NUMERIC || L1 == RS_WB_KATAKANA || L1 == RS_WB_EXTENDNUMLET) &&
        R1 == RS_WB_EXTENDNUMLET)
        return 0; /* WB13a */
    if (L1 == RS_WB_EXTENDNUMLET && (naive_ah(R1) || R1 == RS_WB_NUMERIC || R1 == RS_WB_KATAKANA))
        return 0; /* WB13b */
    if (L1 == RS_WB_REGIONAL_INDICATOR && R1 == RS_WB_REGIONAL_INDICATOR) {
        long run = 0; /* RIs before k, WB4 applied */
        for (long j = l1; j >= 0 && c[j] == RS_WB_REGIONAL_INDICATOR; j = naive_x(c, j - 1))
            run++;
        if (run % 2 == 1)
            return 0; /* WB15, WB16 */
    }
    return 1; /* WB999 */
}

/* Characters of every Word_Break value, some pictographic; 0 stands for an
 * invalid byte (0xFF). */
static const uint32_t naive_pool[] = {
    0,       '!',     '\t',    0xA9,    0x1F600, 0x4E00,  0xFFFD,  0x0D,    0x0A,    0x0B,
    0x85,    0x2028,  0x0301,  0x0308,  0x200D,  0x200D,  0x1F1E6, 0x1F1E7, 0x00AD,  0x200E,
    0x30A2,  0x30FC,  0x05D0,  0x05D1,  'a',     'B',     0x24C2,  0xE9,    '\'',    '"',
    '.',     ':',     0xB7,    ',',     ';',     '1',     0x0661,  '_',     0x203F,  ' ',
    0x3000,  0x2764,  0x1F3FB, 0xFE0F,  0x0300,  'z',     '2',     0x3042,  0x3031,  0x1F469,
};

Test(wordbreak, naive_reference_random)
{
    const uint64_t seed = 0x5EED0001ULL;
    uint64_t st = seed;
    enum { MAXN = 24 };
    for (int iter = 0; iter < 200000; iter++) {
        const long n = (long)(rng_next(&st) % (MAXN + 1));
        uint32_t cps[MAXN];
        unsigned cls[MAXN];
        int ep[MAXN];
        uint8_t text[4 * MAXN];
        size_t off[MAXN + 1], len = 0;
        for (long k = 0; k < n; k++) {
            cps[k] = naive_pool[rng_next(&st) % (sizeof naive_pool / sizeof naive_pool[0])];
            off[k] = len;
            if (cps[k] == 0) {
                text[len++] = 0xFF;
                cls[k] = RS_WB_OTHER;
                ep[k] = 0;
            } else {
                len += rs_utf8_encode(cps[k], text + len);
                cls[k] = rs_unicode_wb(cps[k]);
                ep[k] = (rs_unicode_props(cps[k]) & RS_UP_EXTPICT) != 0;
            }
        }
        off[n] = len;
        size_t want[MAXN + 2], nwant = 0, got[4 * MAXN + 2];
        want[nwant++] = 0;
        for (long k = 1; k < n; k++)
            if (naive_break(cls, ep, n, k))
                want[nwant++] = off[k];
        if (n > 0)
            want[nwant++] = len;
        const size_t ngot = walk(text, len, got);
        int same = ngot == nwant;
        for (size_t i = 0; same && i < ngot; i++)
            same = got[i] == want[i];
        if (!same) {
            char cs[512] = "", gs[256] = "", ws[256] = "";
            for (long k = 0; k < n; k++)
                snprintf(cs + strlen(cs), sizeof cs - strlen(cs), " %04X", (unsigned)cps[k]);
            for (size_t i = 0; i < ngot; i++)
                snprintf(gs + strlen(gs), sizeof gs - strlen(gs), " %zu", got[i]);
            for (size_t i = 0; i < nwant; i++)
                snprintf(ws + strlen(ws), sizeof ws - strlen(ws), " %zu", want[i]);
            cr_assert_fail("seed %#llx iteration %d: code points%s (0000 = invalid byte): "
                           "boundaries%s, naive reference%s",
                           (unsigned long long)seed, iter, cs, gs, ws);
        }
    }
}

/* ------------------------------------------------------------------ */
/* The generated tables against the UCD files, parsed independently. */

static char ucd_dir[1024];

/* Directory of the UCD (parent of auxiliary/), or NULL. */
static const char *ucd_root(void)
{
    snprintf(ucd_dir, sizeof ucd_dir, "%s", RS_WORDBREAKTEST);
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(ucd_dir, '/');
        if (!slash)
            return NULL;
        *slash = '\0';
    }
    return ucd_dir;
}

static FILE *ucd_open(const char *rel)
{
    const char *root = ucd_root();
    if (!root)
        return NULL;
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    return fopen(path, "r");
}

/* Calls fn(lo, hi, value, ctx) for each "lo[..hi] ; value" data line. */
static void ucd_ranges(FILE *f, void (*fn)(uint32_t, uint32_t, const char *, void *), void *ctx)
{
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char *h = strchr(line, '#');
        if (h)
            *h = '\0';
        char *semi = strchr(line, ';');
        if (!semi)
            continue;
        *semi = '\0';
        char *val = semi + 1;
        while (*val == ' ' || *val == '\t')
            val++;
        size_t vl = strcspn(val, " \t\r\n;");
        val[vl] = '\0';
        char *dots = strstr(line, "..");
        const uint32_t lo = (uint32_t)strtoul(line, NULL, 16);
        const uint32_t hi = dots ? (uint32_t)strtoul(dots + 2, NULL, 16) : lo;
        fn(lo, hi, val, ctx);
    }
}

static const char *const wb_names[RS_WB_COUNT] = {
    "Other",         "CR",           "LF",           "Newline",   "Extend",
    "ZWJ",           "Regional_Indicator", "Format", "Katakana",  "Hebrew_Letter",
    "ALetter",       "Single_Quote", "Double_Quote", "MidNumLet", "MidLetter",
    "MidNum",        "Numeric",      "ExtendNumLet", "WSegSpace",
};

static void set_wb(uint32_t lo, uint32_t hi, const char *v, void *ctx)
{
    uint8_t *p = ctx;
    unsigned k = 0;
    while (k < RS_WB_COUNT && strcmp(wb_names[k], v) != 0)
        k++;
    cr_assert(k < RS_WB_COUNT, "unknown Word_Break value %s", v);
    for (uint32_t c = lo; c <= hi; c++)
        p[c] = (uint8_t)((p[c] & ~RS_UP_WB_MASK) | k);
}

static void set_extpict(uint32_t lo, uint32_t hi, const char *v, void *ctx)
{
    uint8_t *p = ctx;
    if (strcmp(v, "Extended_Pictographic") == 0)
        for (uint32_t c = lo; c <= hi; c++)
            p[c] |= RS_UP_EXTPICT;
}

static void set_ideographic(uint32_t lo, uint32_t hi, const char *v, void *ctx)
{
    uint8_t *p = ctx;
    if (strcmp(v, "Ideographic") == 0)
        for (uint32_t c = lo; c <= hi; c++)
            p[c] |= RS_UP_WORD;
}

Test(tables, match_ucd_files)
{
    FILE *fwb = ucd_open("auxiliary/WordBreakProperty.txt"), *fem = ucd_open("emoji/emoji-data.txt"),
         *fpl = ucd_open("PropList.txt"), *fud = ucd_open("UnicodeData.txt"),
         *fcf = ucd_open("CaseFolding.txt");
    if (!fwb || !fem || !fpl || !fud || !fcf) {
        FILE *all[] = {fwb, fem, fpl, fud, fcf};
        for (size_t i = 0; i < 5; i++)
            if (all[i])
                fclose(all[i]);
        cr_skip_test("UCD files not found next to %s", RS_WORDBREAKTEST);
    }
    uint8_t *want = calloc(0x110000, 1);
    uint32_t *fold = malloc(0x110000 * sizeof *fold);
    cr_assert(want && fold, "out of memory");
    for (uint32_t c = 0; c < 0x110000; c++)
        fold[c] = c;
    ucd_ranges(fwb, set_wb, want);
    ucd_ranges(fem, set_extpict, want);
    ucd_ranges(fpl, set_ideographic, want);

    char line[1024];
    uint32_t first = 0;
    while (fgets(line, sizeof line, fud)) {
        char *f[4] = {line, NULL, NULL, NULL};
        for (int k = 1; k < 4; k++) {
            f[k] = strchr(f[k - 1], ';');
            if (!f[k])
                break;
            *f[k]++ = '\0';
        }
        if (!f[3])
            continue;
        const uint32_t cp = (uint32_t)strtoul(f[0], NULL, 16);
        const size_t nl = strlen(f[1]);
        if (nl > 8 && strcmp(f[1] + nl - 8, ", First>") == 0) {
            first = cp;
            continue;
        }
        const uint32_t lo = (nl > 7 && strcmp(f[1] + nl - 7, ", Last>") == 0) ? first : cp;
        const char *gc = f[2];
        const int word = (gc[0] == 'L' && gc[1] != '\0' && strchr("ultmo", gc[1]) && gc[2] == '\0') ||
                         strcmp(gc, "Nd") == 0 || strcmp(gc, "Pc") == 0;
        if (word)
            for (uint32_t c = lo; c <= cp; c++)
                want[c] |= RS_UP_WORD;
    }
    while (fgets(line, sizeof line, fcf)) {
        unsigned src, dst;
        char st;
        if (sscanf(line, "%x; %c; %x;", &src, &st, &dst) == 3 && (st == 'C' || st == 'S') &&
            src < 0x110000) {
            fold[src] = dst;
            want[src] |= RS_UP_FOLDS;
        }
    }
    fclose(fwb);
    fclose(fem);
    fclose(fpl);
    fclose(fud);
    fclose(fcf);

    size_t bad = 0, nfold = 0;
    for (uint32_t c = 0; c < 0x110000; c++) {
        nfold += fold[c] != c;
        if (rs_unicode_props(c) != want[c] || rs_unicode_fold(c) != fold[c]) {
            if (bad++ < 10)
                cr_expect_fail("U+%04X: props %#x fold %04X, UCD says %#x %04X", (unsigned)c,
                               rs_unicode_props(c), (unsigned)rs_unicode_fold(c), want[c],
                               (unsigned)fold[c]);
        }
    }
    cr_expect_eq(bad, 0, "%zu code points differ from the UCD", bad);
    cr_expect_gt(nfold, 1400, "only %zu folds read", nfold);
    cr_expect_eq(rs_unicode_props(0x110000), 0);
    cr_expect_eq(rs_unicode_props(0xFFFFFFFFu), 0);
    cr_expect_eq(rs_unicode_fold(0xFFFFFFFFu), 0xFFFFFFFFu);
    cr_expect_eq(rs_unicode_props_stage1[0], 0, "ASCII must be stage-2 block 0");
    cr_expect_str_eq(rs_unicode_version, "15.0.0");
    free(want);
    free(fold);
}

/* ------------------------------------------------------------------ */
/* The decoder */

Test(utf8, decoder_exhaustive_short)
{
    /* Every 1-, 2- and 3-byte input: the decoder takes a whole sequence
     * exactly when it is the shortest encoding of a scalar value. */
    uint8_t b[3];
    for (uint32_t v = 0; v < (1u << 24); v++) {
        b[0] = (uint8_t)(v >> 16);
        b[1] = (uint8_t)(v >> 8);
        b[2] = (uint8_t)v;
        for (size_t len = 1; len <= 3; len++) {
            if (len < 3 && (v & ((1u << (8 * (3 - len))) - 1)) != 0)
                continue; /* the shorter lengths once per prefix */
            uint32_t cp;
            const size_t n = rs_utf8_decode(b, len, 0, &cp);
            size_t vn = 0; /* longest valid prefix sequence, by the independent check */
            for (size_t k = 1; k <= len && !vn; k++)
                if (valid_utf8(b, k))
                    vn = k;
            if (vn) {
                cr_assert_eq(n, vn, "%02X %02X %02X len %zu: took %zu, expected %zu", b[0], b[1],
                             b[2], len, n, vn);
                uint8_t e[4];
                cr_assert(rs_utf8_encode(cp, e) == n && memcmp(e, b, n) == 0,
                          "%02X %02X %02X: decoded U+%04X", b[0], b[1], b[2], (unsigned)cp);
            } else {
                cr_assert(n == 1 && cp == 0xFFFD && rs_utf8_is_invalid(cp, n),
                          "%02X %02X %02X len %zu: took %zu bytes as U+%04X, expected invalid",
                          b[0], b[1], b[2], len, n, (unsigned)cp);
            }
        }
    }
}

Test(utf8, decoder_four_bytes_and_roundtrip)
{
    uint8_t e[4];
    uint32_t cp;
    for (uint32_t c = 0; c <= 0x10FFFF; c++) {
        if (c >= 0xD800 && c <= 0xDFFF)
            continue;
        const size_t n = rs_utf8_encode(c, e);
        cr_assert(valid_utf8(e, n), "U+%04X encoded invalid", (unsigned)c);
        cr_assert_eq(rs_utf8_decode(e, n, 0, &cp), n);
        cr_assert_eq(cp, c);
        cr_assert(!rs_utf8_is_invalid(cp, n));
        if (n > 1) /* truncated: the lead byte alone is invalid */
            cr_assert(rs_utf8_decode(e, n - 1, 0, &cp) == 1 && cp == 0xFFFD);
    }
    /* 4-byte edges: overlong, above U+10FFFF, bad leads and continuations. */
    const uint8_t bad[][4] = {
        {0xF0, 0x8F, 0xBF, 0xBF}, {0xF4, 0x90, 0x80, 0x80}, {0xF5, 0x80, 0x80, 0x80},
        {0xF8, 0x88, 0x80, 0x80}, {0xF0, 0x90, 0x80, 0x7F}, {0xF0, 0x90, 0xC0, 0x80},
        {0xFF, 0xBF, 0xBF, 0xBF}, {0xED, 0xA0, 0x80, 0x41}, {0xC0, 0x80, 0x41, 0x41},
        {0xC1, 0xBF, 0x41, 0x41}, {0xE0, 0x9F, 0xBF, 0x41}, {0x80, 0x41, 0x41, 0x41},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_expect_eq(rs_utf8_decode(bad[i], 4, 0, &cp), 1, "case %zu", i);
        cr_expect_eq(cp, 0xFFFD, "case %zu", i);
    }
    cr_expect_eq(rs_utf8_decode(e, 0, 0, &cp), 0);
    cr_expect_eq(rs_utf8_decode(e, 4, 4, &cp), 0);
}

/* ------------------------------------------------------------------ */
/* (b) tokens and folding */

Test(tokens, english)
{
    TOKENS("Hello, World!", "hello", "world");
    TOKENS("can't", "can't");
    TOKENS("Can\xE2\x80\x99t stop", "can\xE2\x80\x99t", "stop"); /* U+2019 is MidNumLet */
    TOKENS("3.14", "3.14");
    TOKENS("1,000", "1,000");
    TOKENS("1,000,000.50 dollars", "1,000,000.50", "dollars");
    TOKENS("e.g.", "e.g");
    TOKENS("U.S.", "u.s");
    TOKENS("U.S.A. and e.g. this", "u.s.a", "and", "e.g", "this");
    TOKENS("_id", "_id");
    TOKENS("snake_case __init__", "snake_case", "__init__");
    TOKENS("x86_64 v2 3rd", "x86_64", "v2", "3rd");
    TOKENS("a:b", "a:b");
    TOKENS("a: b", "a", "b");
    TOKENS("end.", "end");
    TOKENS("'quoted'", "quoted");
    TOKENS("don't-stop", "don't", "stop");
    TOKENS("  spaces\t\ttabs\r\nlines\n", "spaces", "tabs", "lines");
    TOKENS("A", "a");
    NO_TOKENS("");
    NO_TOKENS(" ,.!? -- ... \r\n");
}

Test(tokens, folding)
{
    TOKENS("\xCE\xA3\xCE\x8A\xCE\xA3\xCE\xA5\xCE\xA6\xCE\x9F\xCE\xA3",
           "\xCF\x83\xCE\xAF\xCF\x83\xCF\x85\xCF\x86\xCE\xBF\xCF\x83"); /* ΣΊΣΥΦΟΣ -> σίσυφοσ */
    TOKENS("\xCF\x82", "\xCF\x83");                                    /* final sigma: ς -> σ (C) */
    TOKENS("Stra\xC3\x9F" "e", "stra\xC3\x9F" "e");                    /* ß is kept */
    TOKENS("STRA\xE1\xBA\x9E" "E", "stra\xC3\x9F" "e");               /* ẞ -> ß (S) */
    TOKENS("\xE2\x84\xAA", "k");                                       /* Kelvin sign */
    TOKENS("10\xE2\x84\xAA", "10k");
    TOKENS("\xC5\xBF", "s");                                           /* long s */
    TOKENS("\xC4\xB0stanbul", "\xC4\xB0stanbul");                      /* İ: T/F only, kept */
    TOKENS("\xC8\xBA", "\xE2\xB1\xA5");                                /* Ⱥ -> ⱥ grows 2 -> 3 */
    TOKENS("\xD0\x9C\xD0\xBE\xD1\x81\xD0\xBA\xD0\xB2\xD0\xB0", "\xD0\xBC\xD0\xBE\xD1\x81\xD0\xBA\xD0\xB2\xD0\xB0");
    TOKENS("\xF0\x90\x90\x80", "\xF0\x90\x90\xA8");                    /* Deseret 𐐀 -> 𐐨 */
    TOKENS("\xE1\x8F\xB8", "\xE1\x8F\xB0");                            /* Cherokee ᏸ -> Ᏸ (C) */
}

Test(tokens, scripts_and_marks)
{
    /* CJK ideographs: each its own segment and token. */
    TOKENS("\xE4\xB8\xAD\xE6\x96\x87\xE5\xAD\x97", "\xE4\xB8\xAD", "\xE6\x96\x87", "\xE5\xAD\x97");
    /* Katakana runs stay together; hiragana splits per character. */
    TOKENS("\xE3\x82\xAB\xE3\x82\xBF\xE3\x82\xAB\xE3\x83\x8A", "\xE3\x82\xAB\xE3\x82\xBF\xE3\x82\xAB\xE3\x83\x8A");
    TOKENS("\xE3\x81\x82\xE3\x81\x84", "\xE3\x81\x82", "\xE3\x81\x84");
    /* Thai has no word separators and UAX #29 no dictionary: per letter,
     * vowel marks attached (สวัสดี -> ส วั ส ดี). */
    TOKENS("\xE0\xB8\xAA\xE0\xB8\xA7\xE0\xB8\xB1\xE0\xB8\xAA\xE0\xB8\x94\xE0\xB8\xB5", "\xE0\xB8\xAA",
           "\xE0\xB8\xA7\xE0\xB8\xB1", "\xE0\xB8\xAA", "\xE0\xB8\x94\xE0\xB8\xB5");
    /* Emoji, alone or in ZWJ sequences, with skin tones: no token. */
    NO_TOKENS("\xF0\x9F\x98\x80");
    NO_TOKENS("\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD");
    NO_TOKENS("\xF0\x9F\x87\xAB\xF0\x9F\x87\xB7"); /* flag: regional indicators */
    TOKENS("ok\xF0\x9F\x98\x80ok", "ok", "ok");
    /* Combining marks stay in the token, unnormalised. */
    TOKENS("Cafe\xCC\x81!", "cafe\xCC\x81");
    TOKENS("E\xCC\x81t\xC3\xA9", "e\xCC\x81t\xC3\xA9");
    NO_TOKENS(" \xCC\x81"); /* a mark on a space is not a word */
    /* Hebrew with geresh and gershayim; Arabic digits. */
    TOKENS("\xD7\xA6\xD7\x94\xD7\x9C\x22\xD7\x9C", "\xD7\xA6\xD7\x94\xD7\x9C\x22\xD7\x9C");
    TOKENS("\xD9\xA1\xD9\xA2\xD9\xA3", "\xD9\xA1\xD9\xA2\xD9\xA3");
    /* Soft hyphen (Format) is inside the word. */
    TOKENS("co\xC2\xADop", "co\xC2\xADop");
    /* U+FFFD written in the text is an ordinary non-word character. */
    TOKENS("a\xEF\xBF\xBD" "b", "a", "b");
}

/* ------------------------------------------------------------------ */
/* (c) invalid UTF-8 */

Test(invalid, counted_and_separating)
{
    run_t r;
    const char *s = "ab\xFF" "cd";
    run_tokenize(&r, (const uint8_t *)s, 5);
    cr_assert_eq(r.t.n, 2);
    cr_expect(r.t.tok[0].len == 2 && memcmp(r.t.fold + r.t.tok[0].off, "ab", 2) == 0);
    cr_expect(r.t.tok[1].len == 2 && memcmp(r.t.fold + r.t.tok[1].off, "cd", 2) == 0);
    cr_expect_eq(r.t.invalid_bytes, 1);
    run_free(&r);

    /* E2 82 41: two invalid bytes, then 'A'. */
    const uint8_t t2[] = {'x', 0xE2, 0x82, 'A'};
    run_tokenize(&r, t2, sizeof t2);
    cr_expect_eq(r.t.invalid_bytes, 2);
    cr_assert_eq(r.t.n, 2);
    cr_expect(r.t.fold[r.t.tok[0].off] == 'x' && r.t.fold[r.t.tok[1].off] == 'a');
    run_free(&r);

    /* Overlong '/', a surrogate, beyond U+10FFFF, truncated at the end. */
    const uint8_t t3[] = {'a', 0xC0, 0xAF, 'b', 0xED, 0xA0, 0x80, 'c', 0xF4, 0x90, 0x80, 0x80, 'd', 0xF0, 0x9F};
    run_tokenize(&r, t3, sizeof t3);
    cr_expect_eq(r.t.invalid_bytes, 2 + 3 + 4 + 2);
    cr_expect_eq(r.t.n, 4);
    run_free(&r);

    /* An invalid byte keeps the marks after it (WB4); with a mark that is a
     * letter (U+FF9E, Lm, Word_Break Extend) that makes a token, U+FFFD in it. */
    const uint8_t t5[] = {0xFF, 0xEF, 0xBE, 0x9E, ' ', 0xFF, 0xCC, 0x81};
    run_tokenize(&r, t5, sizeof t5);
    cr_expect_eq(r.t.invalid_bytes, 2);
    cr_assert_eq(r.t.n, 1);
    cr_expect(r.t.tok[0].len == 6 && memcmp(r.t.fold + r.t.tok[0].off, "\xEF\xBF\xBD\xEF\xBE\x9E", 6) == 0);
    run_free(&r);

    /* Invalid bytes split what would otherwise join. */
    const uint8_t t4[] = {'a', 0x80, '.', 'b', ' ', '1', 0xFE, '2'};
    run_tokenize(&r, t4, sizeof t4);
    cr_expect_eq(r.t.invalid_bytes, 2);
    cr_expect_eq(r.t.n, 4);
    run_free(&r);
}

/* Random bytes, weighted towards UTF-8 shapes so that valid sequences,
 * near misses and every property class appear. */
static size_t random_text(uint64_t *st, uint8_t *out, size_t len)
{
    static const uint8_t ascii[] = "aZ09 .,:'\"_-\r\n\t";
    static const char *const pieces[] = {
        "\xCC\x81", "\xE2\x80\x8D", "\xF0\x9F\x98\x80", "\xF0\x9F\x87\xA6", "\xE4\xB8\xAD",
        "\xD7\x90", "\xE3\x82\xAB", "\xE2\x84\xAA", "\xC3\x9F", "\xCE\xA3", "\xC2\xAD",
        "\xE3\x80\x80", "\xC8\xBA", "\xEF\xBF\xBD", "\xEF\xBE\x9E",
    };
    size_t i = 0;
    while (i < len) {
        const uint64_t r = rng_next(st);
        switch (r % 4) {
        case 0:
            out[i++] = (uint8_t)(r >> 8);
            break;
        case 1:
            out[i++] = ascii[(r >> 8) % (sizeof ascii - 1)];
            break;
        case 2:
            out[i++] = (uint8_t)(0x80 | ((r >> 8) & 0x7F)); /* continuations and leads */
            break;
        default: {
            const char *p = pieces[(r >> 8) % (sizeof pieces / sizeof pieces[0])];
            for (size_t k = 0; p[k] && i < len; k++)
                out[i++] = (uint8_t)p[k];
        }
        }
    }
    return len;
}

/* Checks (c) and (d) on one input. */
static void check_random(const uint8_t *text, size_t len, unsigned long long seed)
{
    uint64_t invalid = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        const size_t n = rs_utf8_decode(text, len, i, &cp);
        invalid += rs_utf8_is_invalid(cp, n);
        i += n;
    }
    run_t r;
    run_tokenize(&r, text, len);
    cr_assert_eq(r.t.invalid_bytes, invalid, "seed %#llx len %zu: %llu invalid bytes, decoder says %llu",
                 seed, len, (unsigned long long)r.t.invalid_bytes, (unsigned long long)invalid);
    cr_assert(r.t.n <= len && r.t.fold_len <= 2 * len, "seed %#llx len %zu: capacity exceeded", seed, len);
    size_t off = 0;
    for (size_t k = 0; k < r.t.n; k++) {
        const rs_token_t *t = &r.t.tok[k];
        cr_assert(t->off == off && t->len > 0 && t->off + t->len <= r.t.fold_len,
                  "seed %#llx len %zu: token %zu at %u+%u", seed, len, k, t->off, t->len);
        cr_assert(valid_utf8(r.t.fold + t->off, t->len), "seed %#llx len %zu: token %zu not UTF-8", seed,
                  len, k);
        cr_assert_eq(t->hash, rs_hash64(r.t.fold + t->off, t->len), "seed %#llx len %zu: token %zu hash",
                     seed, len, k);
        off += t->len;
    }
    cr_assert_eq(off, r.t.fold_len, "seed %#llx len %zu: fold bytes outside tokens", seed, len);
    /* Tokens are the word segments, folded: rebuild them from rs_wb_next. */
    size_t k = 0;
    for (size_t pos = 0; pos < len;) {
        const size_t end = rs_wb_next(text, len, pos);
        cr_assert(end > pos && end <= len, "seed %#llx len %zu: rs_wb_next(%zu) = %zu", seed, len, pos, end);
        int word = 0;
        uint8_t buf[1200];
        size_t bl = 0;
        for (size_t i = pos; i < end;) {
            uint32_t cp;
            i += rs_utf8_decode(text, end, i, &cp);
            word |= (rs_unicode_props(cp) & RS_UP_WORD) != 0;
            bl += rs_utf8_encode(rs_unicode_fold(cp), buf + bl);
        }
        if (word) {
            cr_assert(k < r.t.n, "seed %#llx len %zu: missing token at %zu", seed, len, pos);
            cr_assert(r.t.tok[k].len == bl && memcmp(r.t.fold + r.t.tok[k].off, buf, bl) == 0,
                      "seed %#llx len %zu: token %zu differs from segment %zu..%zu", seed, len, k, pos, end);
            k++;
        }
        pos = end;
    }
    cr_assert_eq(k, r.t.n, "seed %#llx len %zu: extra tokens", seed, len);
    run_free(&r);
}

Test(invalid, random_bytes_every_length)
{
    uint8_t text[300];
    for (unsigned long long seed = 1; seed <= 40; seed++) {
        uint64_t st = seed * 0x9E3779B97F4A7C15ULL;
        for (size_t len = 0; len <= 300; len++) {
            /* Exactly len bytes on the heap so ASan sees any over-read. */
            random_text(&st, text, len);
            uint8_t *heap = malloc(len ? len : 1);
            cr_assert(heap);
            memcpy(heap, text, len);
            check_random(heap, len, seed);
            free(heap);
        }
    }
}

Test(invalid, all_single_and_pair_bytes)
{
    uint8_t *two = malloc(2);
    cr_assert(two);
    for (unsigned a = 0; a < 256; a++) {
        two[0] = (uint8_t)a;
        check_random(two, 1, a);
        for (unsigned b = 0; b < 256; b++) {
            two[1] = (uint8_t)b;
            check_random(two, 2, a << 8 | b);
        }
    }
    free(two);
}
