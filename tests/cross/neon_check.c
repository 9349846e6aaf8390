/*
 * neon_check.c - every SIMD table of an AArch64 build (the NEON tokenizer)
 * against the scalar reference, without Criterion: tests/cross/neon.sh
 * cross-compiles it with the kernels/ sources for aarch64 and runs it under
 * qemu-aarch64 on an x86-64 machine (tests/unit/test_simd.c runs the same
 * kind of checks natively, on the tables the build machine has).
 *
 *   neon_check WORDBREAKTEST [FILE...]
 *
 * Inputs, each at several misalignments of its first byte: every line of
 * WordBreakTest.txt after 0 to 70 bytes of filler; the join rules (can't,
 * 3.14, 1,000, e.g., U.S., _id, curly apostrophes) at every offset around
 * the 64-byte block edges; every two-byte character (U+0080-U+07FF) at
 * each of the first 18 places of long Latin, Greek and Cyrillic words;
 * seeded random valid UTF-8 and random bytes of every length from 0 to 300
 * (the seed is printed: NEON_CHECK_SEED repeats it); and each FILE whole
 * and in slices. A comparison covers every token (offset, length, hash),
 * the folded bytes and the count of invalid bytes. Prints what differs (at
 * most 20 cases) and a summary line; exit status 1 when anything differs
 * or no SIMD table is compiled in, 2 on a usage or I/O error.
 */
#define _POSIX_C_SOURCE 200809L /* strtok_r */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels.h" /* rs_kernels_all, rs_tokens_t */
#include "unicode.h" /* rs_utf8_encode */
#include "../wordbreak_line.h" /* rs_wordbreak_line */

static size_t ncmp, ndiff;

static void tokens_alloc(rs_tokens_t *t, size_t len)
{
    memset(t, 0, sizeof *t);
    t->tok_cap = len + 1;
    t->fold_cap = 2 * len + 64;
    t->tok = malloc(t->tok_cap * sizeof *t->tok);
    t->fold = malloc(t->fold_cap);
    if (!t->tok || !t->fold) {
        fprintf(stderr, "neon_check: out of memory\n");
        exit(2);
    }
}

/* k against scalar on s[0..len) copied mis bytes past a 64-byte boundary. */
static void compare(const rs_kernels_t *k, const uint8_t *s, size_t len, size_t mis, const char *what, size_t n)
{
    uint8_t *blk = aligned_alloc(64, (mis + len + 64 + 63) / 64 * 64);
    if (!blk) {
        fprintf(stderr, "neon_check: out of memory\n");
        exit(2);
    }
    memset(blk, 0xEE, mis);
    if (len)
        memcpy(blk + mis, s, len);
    rs_tokens_t a, b;
    tokens_alloc(&a, len);
    tokens_alloc(&b, len);
    rs_kernels_scalar.tokenize(blk + mis, len, &a);
    k->tokenize(blk + mis, len, &b);
    /* the first token whose span, hash or folded bytes differ */
    size_t at = 0;
    while (at < a.n && at < b.n && a.tok[at].off == b.tok[at].off && a.tok[at].len == b.tok[at].len
           && a.tok[at].hash == b.tok[at].hash && a.tok[at].off + a.tok[at].len <= b.fold_len
           && memcmp(a.fold + a.tok[at].off, b.fold + b.tok[at].off, a.tok[at].len) == 0)
        at++;
    const int ok = at == a.n && a.n == b.n && a.fold_len == b.fold_len && a.invalid_bytes == b.invalid_bytes;
    ncmp++;
    if (!ok && ndiff++ < 20)
        printf("DIFF %s: %s #%zu (%zu bytes at misalignment %zu): %zu tokens against scalar's %zu, "
               "%zu folded bytes against %zu, %llu invalid bytes against %llu; first differing token %zu\n",
               k->name, what, n, len, mis, b.n, a.n, b.fold_len, a.fold_len, (unsigned long long)b.invalid_bytes,
               (unsigned long long)a.invalid_bytes, at);
    free(a.tok);
    free(a.fold);
    free(b.tok);
    free(b.fold);
    free(blk);
}

static uint64_t rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void check_wordbreak(const rs_kernels_t *k, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "neon_check: cannot open %s\n", path);
        exit(2);
    }
    static const char filler[] = "ab cd'ef 1.5 x_y, \xD0\x9F\xD1\x80\xD0\xB8 caf\xC3\xA9 can\xE2\x80\x99t U.S. 42 "
                                 "and so on and so forth until it is long enough";
    char line[4096];
    size_t lines = 0;
    while (fgets(line, sizeof line, f)) {
        uint8_t text[1100], buf[1200];
        const size_t len = rs_wordbreak_line(line, text, 1000);
        if (len == 0)
            continue;
        lines++;
        for (size_t pl = 0; pl <= 70; pl += 5) {
            memcpy(buf, filler, pl);
            memcpy(buf + pl, text, len);
            compare(k, buf, pl + len, pl & 7, "WordBreakTest line", lines);
        }
    }
    fclose(f);
    if (lines < 1800) {
        fprintf(stderr, "neon_check: only %zu lines in %s\n", lines, path);
        exit(2);
    }
}

/* Each join rule at every offset across the first two block edges. */
static void check_joins(const rs_kernels_t *k)
{
    static const char *const joins[] = {
        "can't", "3.14", "1,000", "e.g.", "U.S.", "_id", "can\xE2\x80\x99t", "x_y_z", "a.b.c", "10:30",
        "don't.", "caf\xC3\xA9's", "\xD0\x9F\xD1\x80\xD0\xB8'\xD0\xB2", "\xCE\xA3\xCE\xBF\xCF\x86\xCE\xAF\xCE\xB1",
    };
    uint8_t buf[256];
    for (size_t j = 0; j < sizeof joins / sizeof joins[0]; j++)
        for (size_t off = 0; off < 140; off++) {
            memset(buf, 'a', off);
            for (size_t i = 0; i < off; i += 7)
                buf[i] = ' ';
            const size_t jl = strlen(joins[j]);
            memcpy(buf + off, joins[j], jl);
            memcpy(buf + off + jl, " end", 4);
            compare(k, buf, off + jl + 4, off % 3, "join rule", j);
        }
}

/* Every two-byte character at each of the first 18 places of long words
 * of Latin, Latin-1, Latin Extended-A, Greek and Cyrillic letters. */
static void check_two_byte_words(const rs_kernels_t *k)
{
    static const uint32_t base[] = {'a', 0xE9, 0x101, 0x3B1, 0x391, 0x3AC, 0x430, 0x410};
    uint8_t w[200];
    for (uint32_t cp = 0x80; cp < 0x800; cp++)
        for (size_t b = 0; b < sizeof base / sizeof base[0]; b++)
            for (size_t at = 0; at < 18; at++) {
                size_t len = 2;
                memcpy(w, "x ", 2);
                for (size_t i = 0; i < 20; i++)
                    len += rs_utf8_encode(i == at ? cp : base[b], w + len);
                memcpy(w + len, " y", 2);
                len += 2;
                compare(k, w, len, (cp + at) % 4, "long word", cp);
            }
}

static void check_random(const rs_kernels_t *k, uint64_t seed)
{
    static const uint32_t cps[] = {
        ' ', ' ', '\n', '.', ',', '\'', '_', '0', '7', 0xA0, 0xAD, 0xB7, 0xE9, 0xC9, 0xDF, 0x101, 0x142, 0x17E,
        0x386, 0x3A3, 0x3C2, 0x3CE, 0x401, 0x430, 0x44F, 0x2019, 0x201C, 0x2014, 0x2026, 0x301, 0x200D, 0x4E2D,
        0x30AB, 0x1F600, 0x1F1EB, 0x5D0, 0xFF0E, 0xFFFD,
    };
    uint64_t st = seed;
    uint8_t t[320];
    for (size_t len = 0; len <= 300; len++)
        for (int r = 0; r < 12; r++) {
            size_t n = 0;
            while (n + 4 <= len) {
                const uint64_t x = rng(&st);
                const uint32_t c = (x & 3) ? (uint32_t)('a' + (x >> 8) % 26) : cps[(x >> 8) % (sizeof cps / sizeof *cps)];
                n += rs_utf8_encode(c, t + n);
            }
            while (n < len)
                t[n++] = 'z';
            compare(k, t, len, (size_t)r % 5, "random UTF-8", len);
            for (size_t i = 0; i < len; i++) { /* bytes, weighted towards UTF-8 shapes */
                const uint64_t x = rng(&st);
                t[i] = (x & 1) ? (uint8_t)('a' + (x >> 8) % 26) : (uint8_t)(0x80 + (x >> 8) % 0x80);
            }
            compare(k, t, len, (size_t)r % 7, "random bytes", len);
        }
}

static void check_file(const rs_kernels_t *k, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "neon_check: cannot open %s\n", path);
        exit(2);
    }
    size_t cap = 1 << 16, len = 0, got;
    uint8_t *buf = malloc(cap);
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0)
        if ((len += got) == cap)
            buf = realloc(buf, cap *= 2);
    fclose(f);
    if (!buf) {
        fprintf(stderr, "neon_check: out of memory\n");
        exit(2);
    }
    compare(k, buf, len, 0, path, 0);
    for (size_t off = 0; off + 4000 < len && off < 400000; off += 997)
        compare(k, buf + off, 3000 + off % 700, off % 64, path, off);
    free(buf);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: neon_check WORDBREAKTEST [FILE...]\n");
        return 2;
    }
    const char *e = getenv("NEON_CHECK_SEED");
    const uint64_t seed = e ? strtoull(e, NULL, 10) : (uint64_t)time(NULL);
    printf("neon_check: seed %llu (NEON_CHECK_SEED=%llu repeats it)\n", (unsigned long long)seed,
           (unsigned long long)seed);
    size_t ntables = 0;
    for (const rs_kernels_t *const *k = rs_kernels_all(); *k; k++) {
        if (*k == &rs_kernels_scalar)
            continue;
        ntables++;
        const size_t before = ncmp, dbefore = ndiff;
        check_wordbreak(*k, argv[1]);
        check_joins(*k);
        check_two_byte_words(*k);
        check_random(*k, seed);
        for (int i = 2; i < argc; i++)
            check_file(*k, argv[i]);
        printf("neon_check: table %s: %zu comparisons with scalar, %zu differ\n", (*k)->name, ncmp - before,
               ndiff - dbefore);
    }
    if (ntables == 0) {
        printf("neon_check: no SIMD table compiled into this build\n");
        return 1;
    }
    return ndiff ? 1 : 0;
}
