/*
 * test_matcher.c - lexicon matching on folded tokens (host/matcher.c):
 * words, globs, phrases, longest match, no overlap inside a category,
 * independent categories, and windows that end before the lookahead.
 */
#include <criterion/criterion.h>
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
