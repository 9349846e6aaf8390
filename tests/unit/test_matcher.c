/*
 * test_matcher.c - lexicon matching on folded tokens (host/matcher.c):
 * words, globs, phrases, longest match, no overlap inside a category,
 * independent categories, windows that end before the lookahead, and the
 * prefilter against no prefilter on seeded random lexicons.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matcher.h"
#include "unicode.h"

typedef struct hits {
    uint32_t cat[256], pat[256];
    size_t n;
} hits_t;

static void on_hit(void *ctx, uint32_t cat, uint32_t gpat)
{
    hits_t *h = ctx;
    cr_assert_lt(h->n, 256);
    h->cat[h->n] = cat;
    h->pat[h->n++] = gpat;
}

/* Builds a matcher from TSV text and runs it over text; hits in *h. */
static void run(const char *tsv, const char *text, hits_t *h, rs_lexicon_t *lex, rs_matcher_t *m)
{
    rs_error_t err = {0};
    memset(lex, 0, sizeof *lex);
    cr_assert_eq(rs_lexicon_load_mem(lex, "t.tsv", tsv, strlen(tsv), RS_LEXFMT_TSV, &err), RS_OK, "%s", err.msg);
    cr_assert_eq(rs_matcher_build(m, lex), RS_OK);
    const size_t len = strlen(text);
    rs_tokens_t t = {0};
    t.tok_cap = len + 1;
    t.fold_cap = 2 * len + 8;
    t.tok = malloc(t.tok_cap * sizeof *t.tok);
    t.fold = malloc(t.fold_cap);
    rs_scalar_tokenize((const uint8_t *)text, len, &t);
    rs_match_state_t s;
    cr_assert_eq(rs_match_state_init(&s, m), RS_OK);
    memset(h, 0, sizeof *h);
    rs_matcher_run(m, &s, &t, 0, t.n, 0, on_hit, h);
    rs_match_state_free(&s);
    free(t.tok);
    free(t.fold);
}

static size_t count(const hits_t *h, uint32_t cat, int64_t pat)
{
    size_t n = 0;
    for (size_t i = 0; i < h->n; i++)
        n += h->cat[i] == cat && (pat < 0 || h->pat[i] == (uint32_t)pat);
    return n;
}

Test(matcher, words_globs_phrases)
{
    rs_lexicon_t lex;
    rs_matcher_t m;
    hits_t h;
    run("sec\tsecur*\nsec\tguarantee\nplace\tnew york\nplace\tnew york city\nplace\tyork\n"
        "mail\te-mail\n",
        "Security guarantees: SECURE the new York City guarantee. e-mail or e mail; New York! york",
        &h, &lex, &m);
    /* sec: Security, SECURE (glob), guarantee (exact; "guarantees" is not it) */
    cr_expect_eq(count(&h, 0, 0), 2);
    cr_expect_eq(count(&h, 0, 1), 1);
    /* place: "new york city" (longest, pattern 3), "new york" (pattern 2), "york" (pattern 4) once:
     * the york inside a phrase hit is covered by it */
    cr_expect_eq(count(&h, 1, 3), 1);
    cr_expect_eq(count(&h, 1, 2), 1);
    cr_expect_eq(count(&h, 1, 4), 1);
    /* e-mail tokenizes to [e, mail]: both spellings match */
    cr_expect_eq(count(&h, 2, 5), 2);
    cr_expect_eq(h.n, 8);
    rs_matcher_free(&m);
    rs_lexicon_free(&lex);
}

Test(matcher, categories_are_independent)
{
    rs_lexicon_t lex;
    rs_matcher_t m;
    hits_t h;
    run("a\tnew york\nb\tyork\nc\tyork city\n", "new york city", &h, &lex, &m);
    cr_expect_eq(count(&h, 0, -1), 1);
    cr_expect_eq(count(&h, 1, -1), 1);
    cr_expect_eq(count(&h, 2, -1), 1);
    rs_matcher_free(&m);
    rs_lexicon_free(&lex);
}

Test(matcher, ties_go_to_the_first_listed_and_globs_match_the_prefix_itself)
{
    rs_lexicon_t lex;
    rs_matcher_t m;
    hits_t h;
    run("a\tsecur*\na\tsecurity\na\tzel*\n", "security secur zel", &h, &lex, &m);
    cr_expect_eq(count(&h, 0, 0), 2); /* "security" (tie with pattern 1: first listed wins), "secur" */
    cr_expect_eq(count(&h, 0, 1), 0);
    cr_expect_eq(count(&h, 0, 2), 1);
    rs_matcher_free(&m);
    rs_lexicon_free(&lex);
}

Test(matcher, folding_and_non_ascii)
{
    rs_lexicon_t lex;
    rs_matcher_t m;
    hits_t h;
    run("ru\t\xd0\xb6\xd0\xb8\xd0\xbb\xd1\x8c*\nfr\tlogement\n",
        "\xd0\x96\xd0\x98\xd0\x9b\xd0\xac\xd0\x81 LOGEMENT Logements", &h, &lex, &m);
    cr_expect_eq(count(&h, 0, -1), 1);
    cr_expect_eq(count(&h, 1, -1), 1);
    rs_matcher_free(&m);
    rs_lexicon_free(&lex);
}

Test(matcher, pattern_without_words_is_dropped_with_a_warning)
{
    rs_lexicon_t lex;
    rs_matcher_t m;
    hits_t h;
    run("emo\t:)\nemo\thappy\n", "happy :)", &h, &lex, &m);
    cr_expect_eq(m.warnings.n, 1);
    cr_expect(strstr(m.warnings.s[0], "':)'"), "%s", m.warnings.s[0]);
    cr_expect_eq(count(&h, 0, 1), 1);
    cr_expect_eq(h.n, 1);
    rs_matcher_free(&m);
    rs_lexicon_free(&lex);
}

Test(matcher, phrase_needs_its_lookahead_inside_the_window)
{
    rs_lexicon_t lex;
    rs_matcher_t m;
    hits_t h;
    /* the window ends after "new": the phrase cannot match there */
    run("p\tnew york\n", "big new", &h, &lex, &m);
    cr_expect_eq(h.n, 0);
    cr_expect_eq(m.max_words, 2);
    rs_matcher_free(&m);
    rs_lexicon_free(&lex);
}

/* The prefilter only skips tokens that start no pattern: with every bit of
 * it set (so that no token is skipped), seeded random lexicons of words,
 * globs of 1 to 6 letters and phrases give the same hits on random text;
 * so does the second-word hash of phrases, when it is not used.
 * Each of the filter's three loops is taken: globs with prefixes under 4
 * bytes, only of 4 bytes or more, and no globs. */
typedef struct many_hits {
    uint32_t cat[8192], pat[8192];
    size_t n;
} many_hits_t;

static void on_many(void *ctx, uint32_t cat, uint32_t gpat)
{
    many_hits_t *h = ctx;
    cr_assert_lt(h->n, 8192);
    h->cat[h->n] = cat;
    h->pat[h->n++] = gpat;
}

static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A random word of min to max letters from a small alphabet (with a 2-byte
 * letter), appended to buf at *len. */
static void rnd_word(uint64_t *s, char *buf, size_t *len, size_t min, size_t max)
{
    static const char *const letters[] = {"a", "b", "c", "\xc3\xa9"};
    const size_t n = min + rnd(s) % (max - min + 1);
    for (size_t i = 0; i < n; i++) {
        const char *l = letters[rnd(s) % 4];
        memcpy(buf + *len, l, strlen(l));
        *len += strlen(l);
    }
}

Test(matcher, the_prefilter_skips_only_what_cannot_match)
{
    const char *e = getenv("RS_TEST_SEED");
    uint64_t seed = e ? strtoull(e, NULL, 10) : 20261201;
    fprintf(stderr, "test_matcher: seed %llu (RS_TEST_SEED repeats it)\n", (unsigned long long)seed);
    static char tsv[1 << 16], text[1 << 16];
    size_t hits_total = 0, skipped_total = 0;
    unsigned kinds = 0; /* which of the three loops ran */
    size_t phrases = 0;  /* with an exact second word */
    for (int round = 0; round < 40; round++) {
        uint64_t s = seed + (uint64_t)round;
        size_t tl = 0, xl = 0;
        const size_t npat = 1 + rnd(&s) % 60;
        for (size_t i = 0; i < npat; i++) {
            tl += (size_t)sprintf(tsv + tl, "c%u\t", (unsigned)(rnd(&s) % 3));
            const size_t words = 1 + (rnd(&s) % 4 == 0);
            for (size_t w = 0; w < words; w++) {
                if (w)
                    tsv[tl++] = ' ';
                /* rounds 0, 3, 6...: globs of any length; 1, 4...: of 4 letters or more; 2, 5...: none */
                const int glob = round % 3 != 2 && rnd(&s) % 3 == 0;
                rnd_word(&s, tsv, &tl, glob && round % 3 == 1 ? 4 : 1, 6);
                if (glob)
                    tsv[tl++] = '*';
            }
            tsv[tl++] = '\n';
        }
        tsv[tl] = '\0';
        for (size_t i = 0; i < 400; i++) {
            rnd_word(&s, text, &xl, 1, 8);
            text[xl++] = ' ';
        }
        text[xl] = '\0';

        rs_lexicon_t lex;
        rs_matcher_t m;
        rs_error_t err = {0};
        memset(&lex, 0, sizeof lex);
        cr_assert_eq(rs_lexicon_load_mem(&lex, "t.tsv", tsv, tl, RS_LEXFMT_TSV, &err), RS_OK, "%s", err.msg);
        cr_assert_eq(rs_matcher_build(&m, &lex), RS_OK);
        kinds |= m.glob_ks == 0 ? 1 : m.glob_ks == 1u << 4 ? 2 : 4;
        rs_tokens_t t = {0};
        t.tok_cap = xl + 1;
        t.fold_cap = 2 * xl + 8;
        t.tok = malloc(t.tok_cap * sizeof *t.tok);
        t.fold = malloc(t.fold_cap);
        cr_assert(t.tok && t.fold);
        rs_scalar_tokenize((const uint8_t *)text, xl, &t);

        static many_hits_t a, b;
        rs_match_state_t st;
        cr_assert_eq(rs_match_state_init(&st, &m), RS_OK);
        a.n = 0;
        rs_matcher_run(&m, &st, &t, 0, t.n, 0, on_many, &a);
        rs_match_state_free(&st);

        /* the same, with every token let through */
        const size_t words = ((size_t)1 << (64 - m.filter_shift)) / 64;
        uint64_t *saved = m.filter, *all = malloc(words * sizeof *all);
        cr_assert(all);
        memset(all, 0xFF, words * sizeof *all);
        m.filter = all;
        const uint32_t saved_ks = m.glob_ks;
        m.glob_ks = 0x1E;
        cr_assert_eq(rs_match_state_init(&st, &m), RS_OK);
        b.n = 0;
        rs_matcher_run(&m, &st, &t, 0, t.n, 0, on_many, &b);
        rs_match_state_free(&st);
        m.filter = saved;
        m.glob_ks = saved_ks;
        free(all);

        cr_assert_eq(a.n, b.n, "round %d (seed %llu): %zu hits with the filter, %zu without", round,
                     (unsigned long long)seed, a.n, b.n);
        cr_assert_eq(memcmp(a.cat, b.cat, a.n * sizeof a.cat[0]), 0, "round %d", round);
        cr_assert_eq(memcmp(a.pat, b.pat, a.n * sizeof a.pat[0]), 0, "round %d", round);

        /* and with the second-word hashes not used (every phrase compared) */
        for (size_t p = 0; p < m.npat; p++) {
            phrases += m.pat[p].has_hash1;
            m.pat[p].has_hash1 = 0;
        }
        cr_assert_eq(rs_match_state_init(&st, &m), RS_OK);
        b.n = 0;
        rs_matcher_run(&m, &st, &t, 0, t.n, 0, on_many, &b);
        rs_match_state_free(&st);
        cr_assert_eq(a.n, b.n, "round %d (seed %llu): %zu hits, %zu without second-word hashes", round,
                     (unsigned long long)seed, a.n, b.n);
        cr_assert_eq(memcmp(a.cat, b.cat, a.n * sizeof a.cat[0]), 0, "round %d", round);
        cr_assert_eq(memcmp(a.pat, b.pat, a.n * sizeof a.pat[0]), 0, "round %d", round);
        hits_total += a.n;

        /* and it does skip: tokens whose bits are clear */
        for (size_t i = 0; i < t.n; i++) {
            const uint64_t bit = t.tok[i].hash >> m.filter_shift;
            skipped_total += !((m.filter[bit >> 6] >> (bit & 63)) & 1);
        }
        free(t.tok);
        free(t.fold);
        rs_matcher_free(&m);
        rs_lexicon_free(&lex);
    }
    cr_expect_gt(hits_total, 100, "the random lexicons hit (%zu hits)", hits_total);
    cr_expect_gt(skipped_total, 0);
    cr_expect_eq(kinds, 7, "the lexicons took each loop of the filter (%u)", kinds);
    cr_expect_gt(phrases, 20, "phrases with an exact second word: %zu", phrases);
}
