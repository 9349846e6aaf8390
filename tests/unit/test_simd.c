/*
 * test_simd.c - every kernel table this CPU runs against the scalar
 * reference (rs_scalar_tokenize): the whole rs_tokens_t must be identical,
 * token count, every token's offset, length and hash, the folded bytes and
 * the invalid byte count. Criterion parameterised tests, one parameter per
 * table of rs_kernels_all() other than scalar; a table this CPU cannot run
 * is skipped with a message saying so (on stderr and as the skip reason).
 *
 * Inputs:
 *   - every line of WordBreakTest.txt (RS_WORDBREAKTEST), after prefixes of
 *     0..70 bytes, so that each line meets every window position;
 *   - seeded random bytes and seeded random valid UTF-8 (ASCII words and
 *     punctuation mixed with 2-, 3- and 4-byte characters, simple and not),
 *     every length 0..400 at every misalignment 0..63 (the seed is printed
 *     on failure);
 *   - each join case (can't, 3.14, 1,000, e.g., U.S., _id, can’t, ...) at
 *     every offset 0..200 (which crosses the 32-, 48- and 64-byte edges)
 *     with several neighbours, and ending exactly at the end of the text;
 *   - every two-byte character and every character U+2000-U+20FF in joining
 *     contexts, and every two-byte character at each of the first 18
 *     positions of long words of Latin, Greek or Cyrillic letters (the
 *     16-byte edges of the vector fold), and seeded random long words;
 *   - the corpus /work/shared/corpora/changelog-transcripts.tar.zst,
 *     unpacked into a temporary directory with tar (skipped, with the reason
 *     printed, when it is absent), and sample/transcripts.
 * Texts sit at the very end of heap blocks of their exact length and the
 * outputs are sized at exactly the documented capacities, so ASan sees any
 * read or write outside them; half the calls append to a non-empty output.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <criterion/parameterized.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../wordbreak_line.h" /* rs_wordbreak_line */

#include "kernels.h" /* rs_kernels_all, rs_cpu_features */
#include "unicode.h" /* rs_scalar_tokenize, rs_utf8_encode */

#ifndef RS_WORDBREAKTEST
#define RS_WORDBREAKTEST "/usr/share/unicode/auxiliary/WordBreakTest.txt"
#endif
#ifndef RS_SOURCE_DIR
#define RS_SOURCE_DIR "."
#endif
#define SIMD_CORPUS RS_SOURCE_DIR "/../shared/corpora/changelog-transcripts.tar.zst"

/* ------------------------------------------------------------------ */
/* Parameters: the tables, by name */

typedef struct simd_param {
    char name[32];
} simd_param_t;

static simd_param_t simd_params[16];

static size_t simd_make_params(void)
{
    size_t n = 0;
    for (const rs_kernels_t *const *k = rs_kernels_all(); *k && n < 16; k++)
        if (*k != &rs_kernels_scalar)
            snprintf(simd_params[n++].name, sizeof simd_params[0].name, "%s", (*k)->name);
    if (n == 0) /* keep one parameter so the tests say why nothing ran */
        snprintf(simd_params[n++].name, sizeof simd_params[0].name, "%s", "(none)");
    return n;
}

/* The table named by p, or skip the test saying why. */
static const rs_kernels_t *simd_table(const simd_param_t *p)
{
    const rs_kernels_t *found = NULL;
    for (const rs_kernels_t *const *k = rs_kernels_all(); *k; k++)
        if (strcmp((*k)->name, p->name) == 0)
            found = *k;
    if (!found) {
        fprintf(stderr, "test_simd: SKIP: no SIMD table is compiled into this build\n");
        cr_skip_test("no SIMD table is compiled into this build");
    }
    if ((rs_cpu_features() & found->required) != found->required) {
        fprintf(stderr, "test_simd: SKIP backend %s: this CPU lacks its instruction set\n", found->name);
        cr_skip_test("backend %s: this CPU lacks its instruction set", found->name);
    }
    return found;
}

#define SIMD_PARAMS(suite, test)                                                                                 \
    ParameterizedTestParameters(suite, test)                                                                      \
    {                                                                                                             \
        const size_t n = simd_make_params();                                                                      \
        return cr_make_param_array(simd_param_t, simd_params, n);                                                 \
    }

/* ------------------------------------------------------------------ */
/* Comparing one input */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

typedef struct simd_out {
    rs_tokens_t t;
} simd_out_t;

/* Outputs of exactly the documented capacity for len more bytes; pre > 0
 * puts that many one-byte tokens in first. */
static void out_init(simd_out_t *o, size_t len, size_t pre)
{
    memset(o, 0, sizeof *o);
    o->t.tok_cap = pre + len;
    o->t.fold_cap = pre + 2 * len;
    o->t.tok = malloc(o->t.tok_cap ? o->t.tok_cap * sizeof *o->t.tok : 1);
    o->t.fold = malloc(o->t.fold_cap ? o->t.fold_cap : 1);
    cr_assert(o->t.tok && o->t.fold, "out of memory");
    for (size_t i = 0; i < pre; i++) {
        o->t.fold[i] = 'p';
        o->t.tok[i] = (rs_token_t){(uint32_t)i, 1, 12345};
    }
    o->t.n = pre;
    o->t.fold_len = pre;
    o->t.invalid_bytes = pre;
}

static void out_free(simd_out_t *o)
{
    free(o->t.tok);
    free(o->t.fold);
}

static void hexdump(char *buf, size_t cap, const uint8_t *s, size_t len)
{
    size_t w = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < len && w + 4 < cap; i++)
        w += (size_t)snprintf(buf + w, cap - w, "%02X ", s[i]);
    if (len && w + 4 >= cap)
        snprintf(buf + cap - 5, 5, "...");
}

/* Tokenize text[0..len) (placed at the end of a heap block of len bytes)
 * with k and with the reference; 1 when identical, else a failure is
 * reported with what (a printf-style context) and 0 returned. */
static int compare_at(const rs_kernels_t *k, const uint8_t *text, size_t len, size_t pre, const char *what)
{
    simd_out_t a, b;
    out_init(&a, len, pre);
    out_init(&b, len, pre);
    rs_scalar_tokenize(text, len, &a.t);
    k->tokenize(text, len, &b.t);
    char diff[256] = "";
    if (a.t.n != b.t.n)
        snprintf(diff, sizeof diff, "%zu tokens, reference %zu", b.t.n, a.t.n);
    else if (a.t.fold_len != b.t.fold_len)
        snprintf(diff, sizeof diff, "%zu folded bytes, reference %zu", b.t.fold_len, a.t.fold_len);
    else if (a.t.invalid_bytes != b.t.invalid_bytes)
        snprintf(diff, sizeof diff, "%llu invalid bytes, reference %llu", (unsigned long long)b.t.invalid_bytes,
                 (unsigned long long)a.t.invalid_bytes);
    else if (memcmp(a.t.fold, b.t.fold, a.t.fold_len) != 0)
        snprintf(diff, sizeof diff, "folded bytes differ");
    for (size_t i = 0; !diff[0] && i < a.t.n; i++) {
        const rs_token_t *x = &a.t.tok[i], *y = &b.t.tok[i];
        if (x->off != y->off || x->len != y->len || x->hash != y->hash)
            snprintf(diff, sizeof diff, "token %zu is %u+%u hash %016llx, reference %u+%u hash %016llx", i, y->off,
                     y->len, (unsigned long long)y->hash, x->off, x->len, (unsigned long long)x->hash);
    }
    if (diff[0] && a.t.n == b.t.n) {
        /* name the first differing token by its text */
        for (size_t i = 0; i < a.t.n; i++) {
            const rs_token_t *x = &a.t.tok[i], *y = &b.t.tok[i];
            if (x->len != y->len || memcmp(a.t.fold + x->off, b.t.fold + y->off, x->len) != 0) {
                snprintf(diff + strlen(diff), sizeof diff - strlen(diff), "; token %zu \"%.*s\", reference \"%.*s\"", i,
                         (int)(y->len > 40 ? 40 : y->len), (const char *)b.t.fold + y->off,
                         (int)(x->len > 40 ? 40 : x->len), (const char *)a.t.fold + x->off);
                break;
            }
        }
    } else if (diff[0] && a.t.n != b.t.n) {
        for (size_t i = 0; i < a.t.n && i < b.t.n; i++) {
            const rs_token_t *x = &a.t.tok[i], *y = &b.t.tok[i];
            if (x->len != y->len || memcmp(a.t.fold + x->off, b.t.fold + y->off, x->len) != 0) {
                snprintf(diff + strlen(diff), sizeof diff - strlen(diff), "; token %zu \"%.*s\", reference \"%.*s\"", i,
                         (int)(y->len > 40 ? 40 : y->len), (const char *)b.t.fold + y->off,
                         (int)(x->len > 40 ? 40 : x->len), (const char *)a.t.fold + x->off);
                break;
            }
        }
    }
    out_free(&a);
    out_free(&b);
    if (diff[0]) {
        char hex[700];
        hexdump(hex, sizeof hex, text, len);
        cr_expect_fail("backend %s, %s, len %zu: %s; text: %s", k->name, what, len, diff, hex);
        return 0;
    }
    return 1;
}

/* Copy s to the end of a heap block of exactly len bytes, mis bytes into a
 * block of len + mis (so the text is misaligned by mis), and compare. */
static int compare(const rs_kernels_t *k, const uint8_t *s, size_t len, size_t mis, size_t pre, const char *what)
{
    uint8_t *blk = malloc(len + mis ? len + mis : 1);
    cr_assert(blk, "out of memory");
    memset(blk, 0xEE, mis);
    if (len)
        memcpy(blk + mis, s, len);
    const int ok = compare_at(k, blk + mis, len, pre, what);
    free(blk);
    return ok;
}

/* ------------------------------------------------------------------ */

Test(simd, tables_listed)
{
    const uint32_t have = rs_cpu_features();
    size_t n = 0, scalar_at = 0;
    const rs_kernels_t *best = NULL; /* the first table this CPU runs */
    for (const rs_kernels_t *const *k = rs_kernels_all(); *k; k++, n++) {
        const int runs = ((*k)->required & have) == (*k)->required;
        fprintf(stderr, "test_simd: table %-8s %s\n", (*k)->name,
                runs ? "runs here" : "compiled, but this CPU lacks its instruction set: its tests are skipped");
        if (*k == &rs_kernels_scalar)
            scalar_at = n;
        if (runs && !best)
            best = *k;
        cr_expect(rs_kernels_select((*k)->name) == (runs ? *k : NULL), "select %s", (*k)->name);
    }
    cr_expect(n >= 1 && scalar_at == n - 1, "scalar must be listed last");
    cr_expect(rs_kernels_select("auto") == best, "auto selects the first table this CPU runs");
    cr_expect(rs_kernels_select(NULL) == best, "NULL selects the first table this CPU runs");
#if defined(__x86_64__)
    if (n == 1)
        fprintf(stderr, "test_simd: no SIMD table compiled into this x86-64 build\n");
#endif
}

SIMD_PARAMS(simd, wordbreak_lines)
ParameterizedTest(simd_param_t *p, simd, wordbreak_lines)
{
    const rs_kernels_t *k = simd_table(p);
    FILE *f = fopen(RS_WORDBREAKTEST, "r");
    cr_assert(f != NULL, "cannot open %s", RS_WORDBREAKTEST);
    static const char filler[] = "ab cd'ef 1.5 x_y, \xD0\x9F\xD1\x80\xD0\xB8 caf\xC3\xA9 can\xE2\x80\x99t U.S. 42 "
                                 "and so on and so forth until it is long enough";
    char line[4096];
    size_t lineno = 0, tested = 0, failed = 0;
    while (fgets(line, sizeof line, f) && failed < 10) {
        lineno++;
        uint8_t text[1200];
        const size_t len = rs_wordbreak_line(line, text, 1000);
        if (len == 0)
            continue;
        tested++;
        /* the line alone, then after prefixes (a filler, a LF or not) */
        uint8_t buf[1200 + 128];
        for (size_t pl = 0; pl <= 70; pl++) {
            memcpy(buf, filler, pl);
            memcpy(buf + pl, text, len);
            char what[96];
            snprintf(what, sizeof what, "%s line %zu after %zu filler bytes", RS_WORDBREAKTEST, lineno, pl);
            if (!compare(k, buf, pl + len, pl & 7, pl & 1, what))
                failed++;
        }
    }
    fclose(f);
    cr_expect_eq(failed, 0);
    cr_assert_gt(tested, 1800, "only %zu lines read", tested);
}

/* Random valid UTF-8: words of ASCII, simple and other letters; middle
 * characters; marks, ZWJ, emoji, CJK, Hebrew, Katakana; spaces, newlines. */
static size_t random_utf8(uint64_t *st, uint8_t *out, size_t len)
{
    static const char *const pieces[] = {
        "a", "Z", "q", "0", "7", "_", ".", ",", ":", ";", "'", "\"", " ", " ", "  ", "\t", "\n", "\r\n", "\r",
        "-", "!", "(", "/", "?",
        "\xC3\xA9", "\xC3\x89", "\xC3\x9F", "\xC5\x93", "\xC5\xBF", "\xC3\x97", "\xC2\xB5", "\xC2\xAA",
        "\xD0\x9F", "\xD0\xB8", "\xD1\x91", "\xD0\x81", "\xCE\xA3", "\xCF\x82", "\xCE\x86", "\xCE\x87", "\xC8\xBA",
        "\xD2\x83", "\xD4\xB1", "\xCA\x80", "\xCB\x82", "\xC2\xA0", "\xC2\xAB", "\xC2\xBB", "\xC2\xB7", "\xC2\xAD",
        "\xE2\x80\x99", "\xE2\x80\x98", "\xE2\x80\x9C", "\xE2\x80\x9D", "\xE2\x80\x94", "\xE2\x80\xA6",
        "\xE2\x80\xA4", "\xE2\x80\xA7", "\xE2\x80\xAF", "\xE2\x80\x8D", "\xE2\x80\x8B", "\xE2\x80\xA8",
        "\xE2\x81\x84", "\xEF\xBC\x8E",
        "\xCC\x81", "\xCC\x88", "\xEF\xBE\x9E", "\xEF\xB8\x8F", "\xF0\x9F\x98\x80", "\xF0\x9F\x91\x8D",
        "\xF0\x9F\x8F\xBD", "\xF0\x9F\x87\xAB", "\xF0\x9F\x87\xB7", "\xE4\xB8\xAD", "\xE3\x82\xAB", "\xE3\x83\xBC",
        "\xD7\x90", "\xD7\xA9", "\xD9\xA1", "\xE2\x84\xAA", "\xE1\xBA\x9E", "\xF0\x90\x90\x80", "\xC2\x85",
        "\xE3\x80\x80", "\xE2\x80\xAF", "\xEF\xBF\xBD",
    };
    const size_t np = sizeof pieces / sizeof pieces[0];
    size_t i = 0;
    while (i < len) {
        const uint64_t r = rng_next(st);
        /* mostly letters, so that words form; pieces otherwise */
        const char *pc = (r & 3) ? pieces[(r >> 8) % 26] : pieces[(r >> 8) % np];
        const size_t pl = strlen(pc);
        if (i + pl > len) {
            out[i++] = 'x';
            continue;
        }
        memcpy(out + i, pc, pl);
        i += pl;
    }
    return len;
}

/* Random bytes weighted towards UTF-8 shapes. */
static size_t random_bytes(uint64_t *st, uint8_t *out, size_t len)
{
    static const uint8_t ascii[] = "aZ09 .,:;'\"_-\r\n\t";
    for (size_t i = 0; i < len; i++) {
        const uint64_t r = rng_next(st);
        switch (r % 5) {
        case 0:
            out[i] = (uint8_t)(r >> 8);
            break;
        case 1:
        case 2:
            out[i] = ascii[(r >> 8) % (sizeof ascii - 1)];
            break;
        case 3:
            out[i] = (uint8_t)(0x80 | ((r >> 8) & 0x3F)); /* continuation */
            break;
        default:
            out[i] = (uint8_t)(0xC2 + (r >> 8) % 0x33); /* leads C2-F4 */
        }
    }
    return len;
}

static void random_lengths(const rs_kernels_t *k, int utf8, uint64_t seed)
{
    uint8_t text[400];
    size_t failed = 0;
    for (size_t len = 0; len <= 400 && failed < 5; len++) {
        for (size_t mis = 0; mis < 64 && failed < 5; mis++) {
            uint64_t st = (seed ^ (len * 0x9E3779B97F4A7C15ULL) ^ (mis << 48)) | 1;
            if (utf8)
                random_utf8(&st, text, len);
            else
                random_bytes(&st, text, len);
            char what[128];
            snprintf(what, sizeof what, "random %s, seed %#llx, misalignment %zu", utf8 ? "UTF-8" : "bytes",
                     (unsigned long long)seed, mis);
            failed += !compare(k, text, len, mis, mis & 1 ? 3 : 0, what);
        }
    }
}

SIMD_PARAMS(simd, random_bytes)
ParameterizedTest(simd_param_t *p, simd, random_bytes)
{
    const rs_kernels_t *k = simd_table(p);
    random_lengths(k, 0, 0xB17E5EEDULL);
}

SIMD_PARAMS(simd, random_utf8)
ParameterizedTest(simd_param_t *p, simd, random_utf8)
{
    const rs_kernels_t *k = simd_table(p);
    random_lengths(k, 1, 0x07F85EEDULL);
    random_lengths(k, 1, 0x07F85EEEULL);
}

/* Long random texts: many windows, restarts after the scalar path. */
SIMD_PARAMS(simd, random_long)
ParameterizedTest(simd_param_t *p, simd, random_long)
{
    const rs_kernels_t *k = simd_table(p);
    enum { N = 20000 };
    uint8_t *text = malloc(N);
    cr_assert(text);
    for (uint64_t seed = 1; seed <= 60; seed++) {
        uint64_t st = seed * 0x9E3779B97F4A7C15ULL;
        const size_t len = 1000 + rng_next(&st) % (N - 1000);
        if (seed % 3 == 0)
            random_bytes(&st, text, len);
        else
            random_utf8(&st, text, len);
        char what[64];
        snprintf(what, sizeof what, "long random text, seed %llu", (unsigned long long)seed);
        if (!compare(k, text, len, seed % 64, 0, what))
            break;
    }
    free(text);
}

/* Every join case at every offset 0..200, between several neighbours, and
 * ending exactly at the end of the text. */
SIMD_PARAMS(simd, join_cases_at_edges)
ParameterizedTest(simd_param_t *p, simd, join_cases_at_edges)
{
    const rs_kernels_t *k = simd_table(p);
    static const char *const cases[] = {
        "can't", "3.14", "1,000", "1,000,000.50", "e.g.", "U.S.", "U.S.A.", "_id", "__init__", "snake_case",
        "x86_64", "a:b", "a;b", "1;2", "1:2", "a.1", "1.a", "a'1", "1'2", "a..b", "a''b", "a.'b", "end.",
        "'quoted'", "don't-stop", "a.b.c.d.e", "1.2.3", "a_.b", "_._", "a_1_b", "\"x\"", "Hello, World!",
        "can\xE2\x80\x99t", "l\xE2\x80\x99homme", "1\xE2\x80\x99" "000", "a\xE2\x80\x98" "b", "a\xE2\x80\xA4" "b",
        "a\xE2\x80\xA7" "b", "a\xE2\x80\x99\xE2\x80\x99" "b", "\xE2\x80\x99" "a\xE2\x80\x99",
        "na\xC3\xAFve", "CAF\xC3\x89", "Stra\xC3\x9F" "e", "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82",
        "\xCE\xA3\xCE\x8A\xCE\xA3\xCE\xA5\xCE\xA6\xCE\x9F\xCE\xA3", "\xC3\xA9.\xC3\xA9", "\xC3\xA9:\xC3\xA9",
        "\xC3\xA9'\xC3\xA9", "1.\xC3\xA9", "\xC3\xA9_1", "\xC5\xBF" "s", "Cafe\xCC\x81!", "co\xC2\xADop",
        "a\xCC\x81.b", "a.\xCC\x81" "b", "a\xC2\xB7" "b", "\xC2\xAB" "word\xC2\xBB", "a\xC2\xA0" "b",
        "x\xE2\x80\x94y", "ok\xF0\x9F\x98\x80ok", "\xD7\xA6\xD7\x94\xD7\x9C\x22\xD7\x9C", "\xD7\x90'",
        "a\xE2\x80\xAF" "b", "\xE3\x82\xAB\xE3\x82\xBF", "\xEF\xBE\x9E", " \xEF\xBE\x9E", "  \xCC\x81",
        "a\xE2\x80\x8D\xF0\x9F\x98\x80", "\xF0\x9F\x87\xAB\xF0\x9F\x87\xB7\xF0\x9F\x87\xAB", "ab\xFF" "cd",
        "x\xE2\x82" "A", "a\x80.b", "1\xFE" "2", "\xC3", "\xE2\x80", "a\r\nb", "a  b", "a \t b",
    };
    static const char *const around[] = {" ", "x", ".", "1", "\xC3\xA9", "\xE2\x80\x99", "\n", "_"};
    const size_t ncase = sizeof cases / sizeof cases[0], naround = sizeof around / sizeof around[0];
    uint8_t buf[512];
    size_t failed = 0;
    for (size_t c = 0; c < ncase && failed < 10; c++) {
        const size_t cl = strlen(cases[c]);
        for (size_t na = 0; na < naround; na++) {
            const size_t al = strlen(around[na]);
            for (size_t off = 0; off <= 200; off++) {
                /* fill the prefix with words and the neighbour just before */
                size_t len = 0;
                while (len + al + 3 <= off) {
                    const char *w = (len / 4) % 3 == 0 ? "ab " : (len / 4) % 3 == 1 ? "c. " : "d1 ";
                    memcpy(buf + len, w, 3);
                    len += 3;
                }
                while (len + al < off)
                    buf[len++] = ' ';
                if (off >= al) {
                    memcpy(buf + len, around[na], al);
                    len += al;
                }
                memcpy(buf + len, cases[c], cl);
                len += cl;
                char what[160];
                snprintf(what, sizeof what, "case \"%s\" at offset %zu after \"%s\", at the end", cases[c], off,
                         around[na]);
                failed += !compare(k, buf, len, off % 13, 0, what);
                /* and followed by the neighbour and more words */
                memcpy(buf + len, around[na], al);
                len += al;
                memcpy(buf + len, " tail of words 12 and more.", 27);
                len += 27;
                snprintf(what, sizeof what, "case \"%s\" at offset %zu between \"%s\"", cases[c], off, around[na]);
                failed += !compare(k, buf, len, off % 7, off & 1, what);
            }
        }
    }
}

/* Every two-byte character and every character U+2000-U+20FF, in contexts
 * where its Word_Break value matters, at two window positions. */
SIMD_PARAMS(simd, characters_in_context)
ParameterizedTest(simd_param_t *p, simd, characters_in_context)
{
    const rs_kernels_t *k = simd_table(p);
    static const char *const ctx[][2] = {
        {"a", "b"}, {"1", "2"}, {"a.", "b"}, {"1.", "2"}, {"", ".a"}, {"", "'1"}, {"a", "a"}, {" ", " "},
        {"x", "\xCC\x81y"}, {"_", "_"}, {"\xC3\xA9", "\xC3\xA9"}, {"a\xE2\x80\x99", "t"},
    };
    size_t failed = 0;
    for (uint32_t cp = 0x80; cp < 0x2100 && failed < 10; cp++) {
        if (cp == 0x800)
            cp = 0x2000;
        uint8_t ch[4], buf[200];
        const size_t n = rs_utf8_encode(cp, ch);
        for (size_t c = 0; c < sizeof ctx / sizeof ctx[0]; c++) {
            for (size_t pos = 44; pos <= 60; pos += 16) {
                size_t len = 0;
                for (; len < pos; len++)
                    buf[len] = (len % 5 == 4) ? ' ' : 'w';
                const size_t l0 = strlen(ctx[c][0]), l1 = strlen(ctx[c][1]);
                memcpy(buf + len, ctx[c][0], l0);
                len += l0;
                memcpy(buf + len, ch, n);
                len += n;
                memcpy(buf + len, ch, n); /* twice: two of a kind join or not */
                len += n;
                memcpy(buf + len, ctx[c][1], l1);
                len += l1;
                memcpy(buf + len, " and some words after it", 24);
                len += 24;
                char what[96];
                snprintf(what, sizeof what, "U+%04X in context %zu at %zu", (unsigned)cp, c, pos);
                failed += !compare(k, buf, len, 0, 0, what);
                failed += !compare(k, buf, len - 24, 1, 0, what); /* ending the text */
            }
        }
    }
}

/* Every two-byte character inside long words of letters of one script
 * (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic), at each of the first
 * 18 positions, so that it meets the 16-byte edges of the vector fold; then
 * seeded random long words mixing those scripts. */
SIMD_PARAMS(simd, long_words_of_two_byte_letters)
ParameterizedTest(simd_param_t *p, simd, long_words_of_two_byte_letters)
{
    const rs_kernels_t *k = simd_table(p);
    static const uint32_t base[] = {'a', 0xE9, 0x101, 0x3B1, 0x391, 0x430, 0x410};
    static const uint32_t letters[] = {'a', 'Q',   0xC9,  0xE9,  0xDF,  0x100, 0x101, 0x130, 0x17F, 0x386,
                                       0x38C, 0x38F, 0x390, 0x391, 0x3A3, 0x3AB, 0x3B1, 0x3C2, 0x3C9, 0x3CE,
                                       0x3CF, 0x3D0, 0x3F4, 0x400, 0x410, 0x42F, 0x430, 0x45F, 0x460, 0x4C0};
    const size_t nbase = sizeof base / sizeof base[0], nlet = sizeof letters / sizeof letters[0];
    uint8_t buf[400];
    size_t failed = 0;
    for (uint32_t cp = 0x80; cp < 0x800 && failed < 10; cp++) {
        for (size_t b = 0; b < nbase; b++) {
            for (size_t at = 0; at < 18; at++) {
                size_t len = 0;
                memcpy(buf, "x ", 2);
                len = 2;
                for (size_t i = 0; i < 20; i++)
                    len += rs_utf8_encode(i == at ? cp : base[b], buf + len);
                memcpy(buf + len, " y", 2);
                len += 2;
                char what[96];
                snprintf(what, sizeof what, "U+%04X at %zu in a word of U+%04X", (unsigned)cp, at, (unsigned)base[b]);
                failed += !compare(k, buf, len, at, 0, what);
            }
        }
    }
    for (uint64_t seed = 1; seed <= 3000 && failed < 10; seed++) {
        uint64_t st = seed * 0x9E3779B97F4A7C15ULL;
        size_t len = 0;
        while (len + 4 * 45 < sizeof buf) {
            const size_t n = 1 + rng_next(&st) % 40;
            const uint64_t script = rng_next(&st) % 4; /* 0: mixed; else mostly one letter's block */
            const uint32_t home = letters[rng_next(&st) % nlet];
            for (size_t i = 0; i < n; i++) {
                const uint64_t r = rng_next(&st);
                uint32_t c = script == 0 ? letters[r % nlet] : (home & ~0x3Fu) | (uint32_t)(r % 64);
                if (c < 0xC0) /* ASCII and U+0080-U+00BF: ASCII letters instead */
                    c = 'a' + (uint32_t)(r % 26) - (r & 64 ? 32 : 0);
                len += rs_utf8_encode(c, buf + len);
            }
            static const char *const seps[] = {" ", " ", "\n", ".", "'", "\xE2\x80\x99", ", "};
            const char *sep = seps[rng_next(&st) % 7];
            memcpy(buf + len, sep, strlen(sep));
            len += strlen(sep);
        }
        char what[96];
        snprintf(what, sizeof what, "random long two-byte words, seed %llu", (unsigned long long)seed);
        failed += !compare(k, buf, len, seed % 64, seed & 1, what);
    }
}

/* ------------------------------------------------------------------ */
/* Real texts */

/* Calls fn on every regular file under dir (recursively); returns count. */
static size_t for_each_file(const char *dir, int (*fn)(const char *, void *), void *ctx)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            n += for_each_file(path, fn, ctx);
        else if (S_ISREG(st.st_mode) && fn(path, ctx))
            n++;
    }
    closedir(d);
    return n;
}

typedef struct file_ctx {
    const rs_kernels_t *k;
    size_t failed, bytes;
} file_ctx_t;

static int compare_file(const char *path, void *vctx)
{
    file_ctx_t *c = vctx;
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    fseek(f, 0, SEEK_END);
    const long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(size > 0 ? (size_t)size : 1);
    cr_assert(buf);
    const size_t len = fread(buf, 1, (size_t)(size > 0 ? size : 0), f);
    fclose(f);
    if (c->failed < 5)
        c->failed += !compare_at(c->k, buf, len, 0, path);
    c->bytes += len;
    free(buf);
    return 1;
}

SIMD_PARAMS(simd, corpus)
ParameterizedTest(simd_param_t *p, simd, corpus, .timeout = 600)
{
    const rs_kernels_t *k = simd_table(p);
    if (access(SIMD_CORPUS, R_OK) != 0) {
        fprintf(stderr, "test_simd: SKIP corpus: %s not found (no ../shared next to the source tree)\n",
                SIMD_CORPUS);
        cr_skip_test("%s not found (no ../shared next to the source tree)", SIMD_CORPUS);
    }
    char dir[] = "/tmp/rs_test_simd_XXXXXX";
    cr_assert(mkdtemp(dir) != NULL, "mkdtemp failed");
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "tar --zstd -xf '%s' -C '%s'", SIMD_CORPUS, dir);
    const int rc = system(cmd);
    file_ctx_t c = {k, 0, 0};
    size_t files = 0;
    if (rc == 0)
        files = for_each_file(dir, compare_file, &c);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "test_simd: could not remove %s\n", dir);
    cr_assert_eq(rc, 0, "%s failed (tar with zstd needed)", cmd);
    cr_expect_gt(files, 2000, "only %zu files unpacked", files);
    cr_expect_eq(c.failed, 0, "%zu files differ", c.failed);
    cr_log_info("backend %s: %zu corpus files, %zu bytes identical to scalar", k->name, files, c.bytes);
}

SIMD_PARAMS(simd, sample_transcripts)
ParameterizedTest(simd_param_t *p, simd, sample_transcripts)
{
    const rs_kernels_t *k = simd_table(p);
    file_ctx_t c = {k, 0, 0};
    const size_t files = for_each_file(RS_SOURCE_DIR "/sample/transcripts", compare_file, &c);
    cr_expect_gt(files, 0, "no files in %s", RS_SOURCE_DIR "/sample/transcripts");
    cr_expect_eq(c.failed, 0);
}
