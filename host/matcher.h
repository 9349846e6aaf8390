/*
 * matcher.h - a lexicon compiled for matching on folded tokens.
 *
 * Each pattern is tokenized with the scalar reference tokenizer (so "e-mail"
 * is the phrase [e, mail]) and case-folded; a word written with a trailing
 * '*' matches any token that starts with its folded bytes. Patterns are
 * indexed by their first word: exact first words in one table, glob
 * prefixes in another, probed once per distinct prefix length.
 *
 * Most tokens start no pattern, so a bitmap comes before those tables (a
 * Bloom filter with one hash function, about 16 bits a key): a bit for the
 * hash of each exact first word (a token's own hash, computed by the
 * tokenizer), and a bit for the first K = min(len, 4) bytes of each glob
 * prefix, with K. A token whose bits are clear probes no table and hashes
 * no prefix: a few instructions. Each glob prefix also has a bit for the
 * same bytes with its own length, tested before that length is hashed. The filter skips only what cannot match,
 * so the hits are those of the tables alone.
 *
 * A first word can start many phrases ("you know", "you can"...). Each
 * phrase keeps the hash of its second word when that word is exact, so a
 * walk along the patterns of a first word rejects most of them by
 * comparing the next token's hash, before any byte is compared.
 *
 * Matching rule (docs/lexicons.md): at each token, for each category, the
 * longest pattern of that category that matches there (ties: the one listed
 * first) is a hit, unless an earlier hit of the same category covers that
 * token; categories are independent of each other. Matches never cross a
 * segment (the caller passes one turn's tokens).
 *
 * A compiled matcher is read-only and shared by all workers; each worker has
 * its own rs_match_state_t.
 */
#ifndef RS_MATCHER_H
#define RS_MATCHER_H

#include <stddef.h>
#include <stdint.h>

#include "dict.h"    /* rs_dict_t */
#include "error.h"   /* rs_err_e */
#include "kernels.h" /* rs_tokens_t */
#include "doc.h"     /* rs_strlist_t */
#include "lexicon.h" /* rs_lexicon_t */

typedef struct rs_mword {
    uint32_t off, len; /* folded bytes in the matcher's arena */
    uint32_t glob;     /* 1: prefix match */
} rs_mword_t;

typedef struct rs_mpat {
    uint32_t cat;   /* category index */
    uint32_t gpat;  /* global pattern index (cat_base[cat] + index in category) */
    uint32_t word0; /* first word in words[] */
    uint32_t nwords;
    uint32_t next;       /* next pattern with the same first key (once built: this index + 1), UINT32_MAX ends */
    uint32_t has_hash1;  /* 1: the second word is exact and hash1 is its rs_hash64 */
    uint64_t hash1;      /* a token of another hash cannot be the second word */
} rs_mpat_t;

typedef struct rs_matcher {
    const rs_lexicon_t *lex; /* names of categories and patterns */
    size_t ncat, npat_total; /* categories; patterns of the lexicon */
    uint32_t *cat_base;      /* ncat + 1 */
    rs_mpat_t *pat;          /* compiled (non-empty) patterns */
    size_t npat;
    rs_mword_t *words;
    size_t nwords;
    uint8_t *arena;
    size_t arena_len;
    rs_dict_t first_exact; /* folded first word -> uint32_t head pattern */
    rs_dict_t first_glob;  /* folded prefix -> uint32_t head pattern */
    uint32_t glob_lens[64]; /* distinct glob prefix lengths, ascending */
    size_t nglob_lens;
    uint64_t *filter;      /* the prefilter bitmap, 2^(64 - filter_shift) bits */
    uint32_t filter_shift; /* a bit's index is the top bits of a hash */
    uint32_t glob_ks;      /* bit K set: some glob prefix has min(len, 4) == K */
    uint32_t max_words;
    rs_strlist_t warnings; /* patterns that hold no word, and were dropped */
    uint64_t serial;       /* unique to this build in the process: a device keeps its copy by it */
} rs_matcher_t;

typedef struct rs_match_state {
    uint64_t *blocked;  /* per category: first absolute token index free */
    uint32_t *best_len; /* per category, scratch */
    uint32_t *best_pat;
    uint32_t *touched;
    size_t ntouched;
} rs_match_state_t;

/* Called for each hit: category, global pattern index, and the caller's ctx. */
typedef void (*rs_hit_fn)(void *ctx, uint32_t cat, uint32_t gpat);

/* Compiles lex (which must outlive the matcher). RS_ERR_NOMEM on failure. */
rs_err_e rs_matcher_build(rs_matcher_t *m, const rs_lexicon_t *lex);
void rs_matcher_free(rs_matcher_t *m);

rs_err_e rs_match_state_init(rs_match_state_t *s, const rs_matcher_t *m);
void rs_match_state_free(rs_match_state_t *s);

/* Matches starting at tokens t->tok[from..upto), looking ahead no further
 * than t->tok[t->n - 1]. abs_base is the absolute index of t->tok[0] (a
 * worker-wide counter that only grows, so that blocked[] needs no reset). */
void rs_matcher_run(const rs_matcher_t *m, rs_match_state_t *s, const rs_tokens_t *t, size_t from,
                    size_t upto, uint64_t abs_base, rs_hit_fn hit, void *ctx);

/* Matching done elsewhere (a device, kernels/opencl/tokenize_terms_match.cl):
 * the patterns found[0..n).pat (indices into m->pat) are every pattern
 * that matches at one token, of absolute index at, in the order
 * rs_matcher_run's walk meets them: the exact first word's chain, then
 * each glob prefix length's chain, shortest first, each in pattern order.
 * Reports the hits that rs_matcher_run reports at that token. -1 (nothing
 * reported) when an index is out of range. */
int rs_matcher_take(const rs_matcher_t *m, rs_match_state_t *s, const rs_count_hit_t *found, size_t n, uint64_t at,
                    rs_hit_fn hit, void *ctx);

#endif
