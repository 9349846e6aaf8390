/*
 * matcher.c - compiling a lexicon and matching it on token windows
 * (matcher.h). Built once by one thread; read-only while workers match.
 * Each first key's patterns are then laid out contiguously
 * (rs_chains_pack) and the prefilter bitmap is built last, from the two
 * first-word tables; per token, its bits are tested before any table is
 * probed.
 */
#include "matcher.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"    /* rs_hash64 */
#include "unicode.h" /* rs_scalar_tokenize: patterns use the reference */

#define RS_NONE UINT32_MAX

/* Filter bits per first-word key (a false positive rate of about 1/16),
 * and the bounds of the filter's size in bits (512 B to 1 MiB). */
#define RS_FILTER_BITS_PER_KEY 16
#define RS_FILTER_MIN_LOG2 12
#define RS_FILTER_MAX_LOG2 23

/* The filter bit of a token (or exact first word) whose hash is h. */
static inline uint64_t rs_fbit_exact(const rs_matcher_t *m, uint64_t h)
{
    return h >> m->filter_shift;
}

/* The filter bit of glob class k (1 to 4) for the first k bytes w
 * (little-endian, zero above them). */
static inline uint64_t rs_fbit_glob(const rs_matcher_t *m, uint32_t w, uint32_t k)
{
    return (((uint64_t)k << 32 | w) * 0x9E3779B97F4A7C15ull) >> m->filter_shift;
}

static inline int rs_fbit_test(const rs_matcher_t *m, uint64_t bit)
{
    return (int)((m->filter[bit >> 6] >> (bit & 63)) & 1);
}

static void rs_fbit_set(rs_matcher_t *m, uint64_t bit)
{
    m->filter[bit >> 6] |= 1ull << (bit & 63);
}

/* Builds the prefilter from the first-word tables. RS_ERR_NOMEM on
 * failure. */
static rs_err_e rs_filter_build(rs_matcher_t *m)
{
    const size_t keys = m->first_exact.n + 2 * m->first_glob.n;
    uint32_t lg = RS_FILTER_MIN_LOG2;
    while (lg < RS_FILTER_MAX_LOG2 && ((size_t)1 << lg) < keys * RS_FILTER_BITS_PER_KEY)
        lg++;
    m->filter = calloc((size_t)1 << (lg - 6), sizeof *m->filter);
    if (!m->filter)
        return RS_ERR_NOMEM;
    m->filter_shift = 64 - lg;
    for (size_t id = 0; id < m->first_exact.n; id++)
        rs_fbit_set(m, rs_fbit_exact(m, rs_dict_hash(&m->first_exact, id)));
    for (size_t id = 0; id < m->first_glob.n; id++) {
        size_t len;
        const uint8_t *k = (const uint8_t *)rs_dict_key(&m->first_glob, id, &len);
        const uint32_t kk = len < 4 ? (uint32_t)len : 4;
        const uint32_t w = kk < 4 ? (uint32_t)rs_hash_load_le(k, kk) : rs_dict_le32(k);
        m->glob_ks |= 1u << kk;
        rs_fbit_set(m, rs_fbit_glob(m, w, kk));
        /* and one for the class with the prefix's own length, 8 + len */
        rs_fbit_set(m, rs_fbit_glob(m, w, 8 + (uint32_t)len));
    }
    return RS_OK;
}

/* Lays each first key's chain out contiguously, in chain (lexicon) order,
 * so that a walk reads consecutive patterns instead of chasing next
 * (each pattern's next becomes its own index + 1, or RS_NONE at a chain's
 * end). The order of a walk, so of the hits, is unchanged. */
static rs_err_e rs_chains_pack(rs_matcher_t *m)
{
    if (m->npat == 0)
        return RS_OK;
    rs_mpat_t *np = malloc(m->npat * sizeof *np);
    if (!np)
        return RS_ERR_NOMEM;
    uint32_t at = 0;
    rs_dict_t *const d[2] = {&m->first_exact, &m->first_glob};
    for (int t = 0; t < 2; t++) {
        for (size_t id = 0; id < d[t]->n; id++) {
            uint32_t *head = rs_dict_val(d[t], id);
            uint32_t pi = *head;
            *head = at;
            for (; pi != RS_NONE; pi = m->pat[pi].next) {
                np[at] = m->pat[pi];
                np[at].next = m->pat[pi].next == RS_NONE ? RS_NONE : at + 1;
                at++;
            }
        }
    }
    free(m->pat);
    m->pat = np;
    return at == m->npat ? RS_OK : RS_ERR_INTERNAL;
}

typedef struct rs_mbuild {
    rs_matcher_t *m;
    size_t pat_cap, words_cap, arena_cap;
} rs_mbuild_t;

static int rs_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* Tokenizes one written word and appends its tokens as words; the last
 * one is a glob when glob is set. Returns the number of words added, -1 on
 * out of memory. */
static int rs_add_word(rs_mbuild_t *b, const char *w, size_t len, int glob)
{
    rs_matcher_t *m = b->m;
    rs_tokens_t t = {0};
    t.tok_cap = len + 1;
    t.fold_cap = 2 * len + 8;
    t.tok = malloc(t.tok_cap * sizeof *t.tok);
    t.fold = malloc(t.fold_cap);
    int added = -1;
    if (!t.tok || !t.fold)
        goto out;
    rs_scalar_tokenize((const uint8_t *)w, len, &t);
    if (rs_grow((void **)&m->words, &b->words_cap, m->nwords + t.n, sizeof *m->words)
        || rs_grow((void **)&m->arena, &b->arena_cap, m->arena_len + t.fold_len + 1, 1))
        goto out;
    for (size_t i = 0; i < t.n; i++) {
        rs_mword_t *mw = &m->words[m->nwords++];
        mw->off = (uint32_t)m->arena_len;
        mw->len = t.tok[i].len;
        mw->glob = glob && i + 1 == t.n;
        memcpy(m->arena + m->arena_len, t.fold + t.tok[i].off, t.tok[i].len);
        m->arena_len += t.tok[i].len;
    }
    added = (int)t.n;
out:
    free(t.tok);
    free(t.fold);
    return added;
}

static rs_err_e rs_index_first(rs_matcher_t *m, uint32_t pi)
{
    rs_mpat_t *p = &m->pat[pi];
    const rs_mword_t *w = &m->words[p->word0];
    rs_dict_t *d = w->glob ? &m->first_glob : &m->first_exact;
    const uint8_t *k = m->arena + w->off;
    int created;
    const int64_t id = rs_dict_put(d, k, w->len, rs_hash64(k, w->len), &created);
    if (id < 0)
        return RS_ERR_NOMEM;
    uint32_t *head = rs_dict_val(d, (size_t)id);
    if (created) {
        p->next = RS_NONE;
    } else {
        /* keep lexicon order along the chain: append at the end */
        uint32_t at = *head;
        while (m->pat[at].next != RS_NONE)
            at = m->pat[at].next;
        m->pat[at].next = pi;
        p->next = RS_NONE;
        return RS_OK;
    }
    *head = pi;
    if (w->glob) {
        size_t i = 0;
        while (i < m->nglob_lens && m->glob_lens[i] < w->len)
            i++;
        if (i == m->nglob_lens || m->glob_lens[i] != w->len) {
            if (m->nglob_lens == sizeof m->glob_lens / sizeof m->glob_lens[0])
                return RS_ERR_TOO_LARGE;
            memmove(&m->glob_lens[i + 1], &m->glob_lens[i], (m->nglob_lens - i) * sizeof m->glob_lens[0]);
            m->glob_lens[i] = w->len;
            m->nglob_lens++;
        }
    }
    return RS_OK;
}

rs_err_e rs_matcher_build(rs_matcher_t *m, const rs_lexicon_t *lex)
{
    static atomic_uint_fast64_t serials;
    memset(m, 0, sizeof *m);
    m->serial = atomic_fetch_add(&serials, 1) + 1;
    m->lex = lex;
    m->ncat = lex->n;
    rs_dict_init(&m->first_exact, sizeof(uint32_t));
    rs_dict_init(&m->first_glob, sizeof(uint32_t));
    m->cat_base = calloc(lex->n + 1, sizeof *m->cat_base);
    if (!m->cat_base)
        return RS_ERR_NOMEM;
    rs_mbuild_t b = {.m = m};
    uint32_t g = 0;
    for (size_t c = 0; c < lex->n; c++) {
        m->cat_base[c] = g;
        const rs_lex_category_t *cat = &lex->cat[c];
        for (size_t k = 0; k < cat->n; k++, g++) {
            const char *text = cat->pat[k].text;
            const size_t word0 = m->nwords;
            size_t nw = 0;
            for (const char *w = text; *w;) {
                while (*w == ' ')
                    w++;
                size_t wl = strcspn(w, " ");
                if (!wl)
                    break;
                const int glob = w[wl - 1] == '*';
                const int added = rs_add_word(&b, w, wl - (size_t)glob, glob);
                if (added < 0)
                    return RS_ERR_NOMEM;
                nw += (size_t)added;
                w += wl;
            }
            if (nw == 0) {
                char msg[512];
                snprintf(msg, sizeof msg, "%s: pattern '%s' has no word in it: ignored", cat->name, text);
                if (rs_strlist_push(&m->warnings, msg, strlen(msg)) < 0)
                    return RS_ERR_NOMEM;
                continue;
            }
            if (rs_grow((void **)&m->pat, &b.pat_cap, m->npat + 1, sizeof *m->pat))
                return RS_ERR_NOMEM;
            m->pat[m->npat] = (rs_mpat_t){(uint32_t)c, g, (uint32_t)word0, (uint32_t)nw, RS_NONE, 0, 0};
            if (nw >= 2 && !m->words[word0 + 1].glob) {
                const rs_mword_t *w1 = &m->words[word0 + 1];
                m->pat[m->npat].has_hash1 = 1;
                m->pat[m->npat].hash1 = rs_hash64(m->arena + w1->off, w1->len);
            }
            RS_FORWARD(rs_index_first(m, (uint32_t)m->npat));
            m->npat++;
            if (nw > m->max_words)
                m->max_words = (uint32_t)nw;
        }
    }
    m->cat_base[lex->n] = g;
    m->npat_total = g;
    RS_FORWARD(rs_chains_pack(m));
    return rs_filter_build(m);
}

void rs_matcher_free(rs_matcher_t *m)
{
    free(m->cat_base);
    free(m->pat);
    free(m->words);
    free(m->arena);
    free(m->filter);
    rs_dict_free(&m->first_exact);
    rs_dict_free(&m->first_glob);
    rs_strlist_free(&m->warnings);
    memset(m, 0, sizeof *m);
}

rs_err_e rs_match_state_init(rs_match_state_t *s, const rs_matcher_t *m)
{
    memset(s, 0, sizeof *s);
    const size_t n = m->ncat ? m->ncat : 1;
    s->blocked = calloc(n, sizeof *s->blocked);
    s->best_len = calloc(n, sizeof *s->best_len);
    s->best_pat = calloc(n, sizeof *s->best_pat);
    s->touched = calloc(n, sizeof *s->touched);
    if (!s->blocked || !s->best_len || !s->best_pat || !s->touched) {
        rs_match_state_free(s);
        return RS_ERR_NOMEM;
    }
    return RS_OK;
}

void rs_match_state_free(rs_match_state_t *s)
{
    free(s->blocked);
    free(s->best_len);
    free(s->best_pat);
    free(s->touched);
    memset(s, 0, sizeof *s);
}

static int rs_word_matches(const rs_matcher_t *m, const rs_mword_t *w, const rs_tokens_t *t, size_t i)
{
    const rs_token_t *k = &t->tok[i];
    if (w->glob ? k->len < w->len : k->len != w->len)
        return 0;
    return memcmp(t->fold + k->off, m->arena + w->off, w->len) == 0;
}

/* Pattern p matches at the token being matched: the longest of its
 * category so far (ties: the one listed first) is kept. */
static inline void rs_note(rs_match_state_t *s, const rs_mpat_t *p)
{
    const uint32_t c = p->cat;
    if (s->best_len[c] == 0)
        s->touched[s->ntouched++] = c;
    if (p->nwords > s->best_len[c] || (p->nwords == s->best_len[c] && p->gpat < s->best_pat[c])) {
        s->best_len[c] = p->nwords;
        s->best_pat[c] = p->gpat;
    }
}

/* The hits at absolute token index at, from what rs_note kept: a
 * category's best is a hit unless an earlier hit of it covers at. */
static inline void rs_emit(rs_match_state_t *s, uint64_t at, rs_hit_fn hit, void *ctx)
{
    for (size_t j = 0; j < s->ntouched; j++) {
        const uint32_t c = s->touched[j];
        if (at >= s->blocked[c]) {
            s->blocked[c] = at + s->best_len[c];
            hit(ctx, c, s->best_pat[c]);
        }
        s->best_len[c] = 0;
    }
    s->ntouched = 0;
}

static void rs_try_chain(const rs_matcher_t *m, rs_match_state_t *s, const rs_tokens_t *t, size_t i,
                         uint32_t pi)
{
    const uint64_t hash1 = i + 1 < t->n ? t->tok[i + 1].hash : 0;
    /* a chain is contiguous (rs_chains_pack): the next pattern's address
     * does not wait for this one's load */
    for (const rs_mpat_t *p = &m->pat[pi];; p++) {
        if (i + p->nwords <= t->n && (!p->has_hash1 || p->hash1 == hash1)) {
            uint32_t k = 1;
            while (k < p->nwords && rs_word_matches(m, &m->words[p->word0 + k], t, i + k))
                k++;
            if (k == p->nwords)
                rs_note(s, p);
        }
        if (p->next == RS_NONE)
            break;
    }
}

/* Whether the glob part of the filter lets a token of len >= glob_lens[0]
 * bytes through: a test per class K <= len, on the first K bytes. */
static inline int rs_filter_glob(const rs_matcher_t *m, const uint8_t *bytes, uint32_t len)
{
    const uint32_t w = len < 4 ? (uint32_t)rs_hash_load_le(bytes, len) : rs_dict_le32(bytes);
    if (len >= 4 && m->glob_ks == 1u << 4) /* the common case: every prefix has 4 bytes or more */
        return rs_fbit_test(m, rs_fbit_glob(m, w, 4));
    for (uint32_t ks = m->glob_ks & ((2u << (len < 4 ? len : 4)) - 1); ks; ks &= ks - 1) {
        const uint32_t kk = (uint32_t)__builtin_ctz(ks);
        if (rs_fbit_test(m, rs_fbit_glob(m, kk == 4 ? w : w & ((1u << (8 * kk)) - 1), kk)))
            return 1;
    }
    return 0;
}

/* The patterns that start at token i, which the filter let through: the
 * tables probed, the hits reported. Out of line, so that the filter's loop
 * keeps its registers. */
static __attribute__((noinline)) void rs_match_at(const rs_matcher_t *m, rs_match_state_t *s,
                                                  const rs_tokens_t *t, size_t i, uint64_t abs_base,
                                                  rs_hit_fn hit, void *ctx)
{
    const rs_token_t *k = &t->tok[i];
    const uint8_t *bytes = t->fold + k->off;
    s->ntouched = 0;
    if (rs_fbit_test(m, rs_fbit_exact(m, k->hash))) {
        const int64_t id = rs_dict_get_in(&m->first_exact, bytes, k->len, k->hash, t->fold + t->fold_cap);
        if (id >= 0)
            rs_try_chain(m, s, t, i, *(const uint32_t *)rs_dict_val(&m->first_exact, (size_t)id));
    }
    if (m->nglob_lens && k->len >= m->glob_lens[0] && rs_filter_glob(m, bytes, k->len)) {
        const uint32_t w4 = k->len < 4 ? (uint32_t)rs_hash_load_le(bytes, k->len) : rs_dict_le32(bytes);
        for (size_t g = 0; g < m->nglob_lens && m->glob_lens[g] <= k->len; g++) {
            const uint32_t gl = m->glob_lens[g], kk = gl < 4 ? gl : 4;
            /* no prefix of this length starts with these bytes: no hash */
            if (!rs_fbit_test(m, rs_fbit_glob(m, kk == 4 ? w4 : w4 & ((1u << (8 * kk)) - 1), 8 + gl)))
                continue;
            const int64_t id = rs_dict_get_in(&m->first_glob, bytes, gl, gl == k->len ? k->hash : rs_hash64(bytes, gl),
                                              t->fold + t->fold_cap);
            if (id >= 0)
                rs_try_chain(m, s, t, i, *(const uint32_t *)rs_dict_val(&m->first_glob, (size_t)id));
        }
    }
    rs_emit(s, abs_base + i, hit, ctx);
}

int rs_matcher_take(const rs_matcher_t *m, rs_match_state_t *s, const rs_count_hit_t *found, size_t n, uint64_t at,
                    rs_hit_fn hit, void *ctx)
{
    for (size_t k = 0; k < n; k++)
        if (found[k].pat >= m->npat)
            return -1;
    s->ntouched = 0;
    for (size_t k = 0; k < n; k++)
        rs_note(s, &m->pat[found[k].pat]);
    rs_emit(s, at, hit, ctx);
    return 0;
}

void rs_matcher_run(const rs_matcher_t *m, rs_match_state_t *s, const rs_tokens_t *t, size_t from,
                    size_t upto, uint64_t abs_base, rs_hit_fn hit, void *ctx)
{
    if (m->npat == 0)
        return;
    const uint64_t *const filter = m->filter;
    const uint32_t shift = m->filter_shift;
#define RS_FILTER_HAS(bit) ((filter[(bit) >> 6] >> ((bit) & 63)) & 1)
    if (m->glob_ks == 0) { /* exact first words only */
        for (size_t i = from; i < upto; i++) {
            const uint64_t bit = t->tok[i].hash >> shift;
            if (RS_FILTER_HAS(bit))
                rs_match_at(m, s, t, i, abs_base, hit, ctx);
        }
    } else if (m->glob_ks == 1u << 4) { /* and glob prefixes of 4 bytes or more */
        const uint32_t glob_min = m->glob_lens[0];
        for (size_t i = from; i < upto; i++) {
            const rs_token_t *k = &t->tok[i];
            const uint64_t bit = k->hash >> shift;
            if (RS_FILTER_HAS(bit))
                rs_match_at(m, s, t, i, abs_base, hit, ctx);
            else if (k->len >= glob_min) {
                const uint64_t gbit = rs_fbit_glob(m, rs_dict_le32(t->fold + k->off), 4);
                if (RS_FILTER_HAS(gbit))
                    rs_match_at(m, s, t, i, abs_base, hit, ctx);
            }
        }
    } else {
        const uint32_t glob_min = m->glob_lens[0];
        for (size_t i = from; i < upto; i++) {
            const rs_token_t *k = &t->tok[i];
            const uint64_t bit = k->hash >> shift;
            if (RS_FILTER_HAS(bit) || (k->len >= glob_min && rs_filter_glob(m, t->fold + k->off, k->len)))
                rs_match_at(m, s, t, i, abs_base, hit, ctx);
        }
    }
#undef RS_FILTER_HAS
}
