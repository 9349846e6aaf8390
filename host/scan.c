/*
 * scan.c - documents into rs_stats_t (scan.h), one by one or in batches
 * whose segments are tokenized in one call. Single-threaded per scanner;
 * the configuration and matchers are shared read-only.
 */
#include "scan.h"

#include <stdlib.h>
#include <string.h>

#include "format.h" /* rs_doc_parse */
#include "hash.h"   /* rs_hash64 */

rs_err_e rs_scanner_init(rs_scanner_t *sc, const rs_scan_cfg_t *cfg)
{
    memset(sc, 0, sizeof *sc);
    sc->cfg = cfg;
    rs_pairs_batch_init(&sc->bigrams);
    if (rs_match_state_init(&sc->mt, cfg->topics) != RS_OK
        || rs_match_state_init(&sc->me, cfg->entities) != RS_OK) {
        rs_scanner_free(sc);
        return RS_ERR_NOMEM;
    }
    return RS_OK;
}

rs_err_e rs_scanner_flush(rs_scanner_t *sc)
{
    return rs_pairs_batch_flush(&sc->bigrams) == 0 ? RS_OK : RS_ERR_NOMEM;
}

void rs_scanner_free(rs_scanner_t *sc)
{
    free(sc->win.tok);
    free(sc->win.fold);
    free(sc->spk);
    free(sc->bkey);
    free(sc->bhash);
    rs_pairs_batch_free(&sc->bigrams);
    free(sc->batch.tok);
    free(sc->batch.fold);
    free(sc->batch.term);
    free(sc->tmap);
    free(sc->spans);
    free(sc->ntok);
    free(sc->ok);
    free(sc->sdoc);
    free(sc->counts.term);
    free(sc->counts.pair);
    free(sc->counts.fold);
    free(sc->counts.hit[0]);
    free(sc->counts.hit[1]);
    free(sc->cid);
    rs_scan_drop(sc);
    rs_match_state_free(&sc->mt);
    rs_match_state_free(&sc->me);
    memset(sc, 0, sizeof *sc);
}

static rs_err_e rs_win_reserve(rs_tokens_t *w, size_t bytes)
{
    if (w->tok_cap < w->n + bytes + 1) {
        const size_t cap = w->n + bytes + 1;
        rs_token_t *t = realloc(w->tok, cap * sizeof *t);
        if (!t)
            return RS_ERR_NOMEM;
        w->tok = t;
        w->tok_cap = cap;
    }
    if (w->fold_cap < w->fold_len + 2 * bytes + 8) {
        const size_t cap = w->fold_len + 2 * bytes + 8;
        uint8_t *f = realloc(w->fold, cap);
        if (!f)
            return RS_ERR_NOMEM;
        w->fold = f;
        w->fold_cap = cap;
    }
    return RS_OK;
}

/* What a hit needs to know. */
typedef struct rs_hit_ctx {
    rs_lexstats_t *ls;
    uint64_t doc;
    int64_t speaker; /* stats speaker id, -1 for none */
    rs_err_e err;
} rs_hit_ctx_t;

static void rs_on_hit(void *ctx, uint32_t cat, uint32_t gpat)
{
    rs_hit_ctx_t *h = ctx;
    rs_cat_val_t *c = &h->ls->cat[cat];
    c->hits++;
    if (c->last_doc != h->doc) {
        c->last_doc = h->doc;
        c->docs++;
    }
    h->ls->pat_hits[gpat]++;
    if (h->speaker >= 0) {
        const uint32_t key[2] = {cat, (uint32_t)h->speaker};
        const int64_t id = rs_dict_put(&h->ls->by_speaker, key, sizeof key, rs_hash64(key, sizeof key), NULL);
        if (id < 0)
            h->err = RS_ERR_NOMEM;
        else
            (*(uint64_t *)rs_dict_val(&h->ls->by_speaker, (size_t)id))++;
    }
}

typedef struct rs_seg_run {
    rs_scanner_t *sc;
    rs_stats_t *st;
    rs_hit_ctx_t ht, he;
    int64_t prev; /* term id of the previous token in this segment, -1 none */
    uint64_t tokens;
} rs_seg_run_t;

/* How far ahead term lookups are prefetched: index slots at this
 * distance, records at half of it. */
#define RS_PREFETCH_AHEAD 32

static rs_err_e rs_scratch_reserve(rs_scanner_t *sc, size_t n)
{
    if (n <= sc->scratch_cap)
        return RS_OK;
    uint64_t *k = realloc(sc->bkey, n * sizeof *k), *h;
    if (!k)
        return RS_ERR_NOMEM;
    sc->bkey = k;
    h = realloc(sc->bhash, n * sizeof *h);
    if (!h)
        return RS_ERR_NOMEM;
    sc->bhash = h;
    sc->scratch_cap = n;
    return RS_OK;
}

/* Counts tokens w->tok[0..upto) and matches from them; then drops them
 * (w is the scanner's window, or a view of a batch's tokens). */
static rs_err_e rs_win_consume(rs_seg_run_t *r, rs_tokens_t *w, size_t upto)
{
    rs_scanner_t *sc = r->sc;
    rs_stats_t *st = r->st;
    const uint64_t doc = r->ht.doc;
    RS_FORWARD(rs_scratch_reserve(sc, upto));
    size_t nb = 0;
    /* the previous term's hash, for the bigram's part */
    uint64_t ph = r->prev >= 0 ? rs_dict_hash(&st->terms, (size_t)r->prev) : 0;
    int64_t *const tmap = w->numbered ? sc->tmap : NULL;
    for (size_t i = 0; i < upto; i++) {
        const rs_token_t *k = &w->tok[i];
        if (!tmap && i + RS_PREFETCH_AHEAD < upto)
            rs_dict_prefetch(&st->terms, w->tok[i + RS_PREFETCH_AHEAD].hash);
        if (!tmap && i + RS_PREFETCH_AHEAD / 2 < upto)
            rs_dict_prefetch_rec(&st->terms, w->tok[i + RS_PREFETCH_AHEAD / 2].hash);
        int64_t id;
        if (tmap) { /* numbered by the device: the dictionary is probed once per number */
            id = tmap[w->term[i]];
            if (id < 0) {
                id = rs_dict_put(&st->terms, w->fold + k->off, k->len, k->hash, NULL);
                tmap[w->term[i]] = id;
            }
        } else {
            id = rs_dict_put_in(&st->terms, w->fold + k->off, k->len, k->hash, w->fold + w->fold_cap, NULL);
        }
        if (id < 0)
            return RS_ERR_NOMEM;
        rs_term_val_t *v = rs_dict_val(&st->terms, (size_t)id);
        v->count++;
        if (v->last_doc != doc) {
            v->last_doc = doc;
            v->docs++;
        }
        if (r->prev >= 0) {
            sc->bkey[nb] = rs_pair_key((uint32_t)r->prev, (uint32_t)id);
            sc->bhash[nb] = rs_pairs_bigram_hash(sc->bkey[nb], ph, k->hash);
            nb++;
        }
        r->prev = id;
        ph = k->hash;
    }
    if (rs_pairs_batch_add_all(&sc->bigrams, &st->bigrams, sc->bkey, sc->bhash, nb) != 0)
        return RS_ERR_NOMEM;
    rs_matcher_run(sc->cfg->topics, &sc->mt, w, 0, upto, sc->abs, rs_on_hit, &r->ht);
    rs_matcher_run(sc->cfg->entities, &sc->me, w, 0, upto, sc->abs, rs_on_hit, &r->he);
    if (r->ht.err != RS_OK || r->he.err != RS_OK)
        return RS_ERR_NOMEM;
    r->tokens += upto;
    /* keep the rest (lookahead) at the front of the window */
    const size_t keep = w->n - upto;
    if (keep) {
        size_t fold = 0;
        for (size_t i = 0; i < keep; i++) {
            rs_token_t t = w->tok[upto + i];
            memmove(w->fold + fold, w->fold + t.off, t.len);
            t.off = (uint32_t)fold;
            fold += t.len;
            w->tok[i] = t;
        }
        w->fold_len = fold;
    } else {
        w->fold_len = 0;
    }
    w->n = keep;
    sc->abs += upto;
    return RS_OK;
}

/* Matches the lexicons in w->tok[0..upto), tokens counted elsewhere (a
 * counted batch). */
static rs_err_e rs_win_match(rs_seg_run_t *r, const rs_tokens_t *w, size_t upto)
{
    rs_scanner_t *sc = r->sc;
    rs_matcher_run(sc->cfg->topics, &sc->mt, w, 0, upto, sc->abs, rs_on_hit, &r->ht);
    rs_matcher_run(sc->cfg->entities, &sc->me, w, 0, upto, sc->abs, rs_on_hit, &r->he);
    if (r->ht.err != RS_OK || r->he.err != RS_OK)
        return RS_ERR_NOMEM;
    sc->abs += upto;
    return RS_OK;
}

static size_t rs_piece_end(const uint8_t *s, size_t pos, size_t end)
{
    if (end - pos <= RS_CHUNK_BYTES)
        return end;
    /* a safe cut within the chunk; the byte at the cut must be visible */
    size_t cut = rs_safe_cut(s + pos, RS_CHUNK_BYTES + 1);
    if (cut == 0) {
        cut = RS_CHUNK_BYTES;
        while (cut > 1 && (s[pos + cut] & 0xC0) == 0x80)
            cut--;
    }
    return pos + cut;
}

/* Tokens a phrase match may look ahead past the last one counted. */
static size_t rs_lookahead(const rs_scan_cfg_t *cfg)
{
    uint32_t look = cfg->topics->max_words;
    if (cfg->entities->max_words > look)
        look = cfg->entities->max_words;
    return look ? look - 1 : 0;
}

/* Appends the tokens of v (a view of a batch) to the window w. */
static rs_err_e rs_win_append(rs_tokens_t *w, const rs_tokens_t *v)
{
    size_t fold = 0;
    for (size_t i = 0; i < v->n; i++)
        fold += v->tok[i].len;
    if (w->tok_cap < w->n + v->n + 1) {
        rs_token_t *t = realloc(w->tok, (w->n + v->n + 1) * sizeof *t);
        if (!t)
            return RS_ERR_NOMEM;
        w->tok = t;
        w->tok_cap = w->n + v->n + 1;
    }
    if (w->fold_cap < w->fold_len + fold + 8) {
        uint8_t *f = realloc(w->fold, w->fold_len + fold + 8);
        if (!f)
            return RS_ERR_NOMEM;
        w->fold = f;
        w->fold_cap = w->fold_len + fold + 8;
    }
    for (size_t i = 0; i < v->n; i++) {
        rs_token_t t = v->tok[i];
        memcpy(w->fold + w->fold_len, v->fold + t.off, t.len);
        t.off = (uint32_t)w->fold_len;
        w->fold_len += t.len;
        w->tok[w->n++] = t;
    }
    return RS_OK;
}

/* Tokenizes and counts segment sg of d. cont: it continues the segment
 * open at the end of the piece before (r->prev and the window's lookahead
 * are that segment's); open: it goes on in the next piece, so the
 * lookahead tokens stay in the window, uncounted. */
static rs_err_e rs_scan_segment(rs_seg_run_t *r, const rs_doc_t *d, const rs_segment_t *sg, int cont, int open)
{
    rs_scanner_t *sc = r->sc;
    rs_tokens_t *w = &sc->win;
    const rs_kernels_t *k = sc->cfg->kernels;
    const size_t look = rs_lookahead(sc->cfg);
    r->tokens = 0;
    if (!cont) {
        r->prev = -1;
        w->n = 0;
        w->fold_len = 0;
    }
    for (size_t pos = sg->start; pos < sg->end;) {
        const size_t end = rs_piece_end(d->text, pos, sg->end);
        RS_FORWARD(rs_win_reserve(w, end - pos));
        k->tokenize(d->text + pos, end - pos, w);
        pos = end;
        if (pos < sg->end && w->n > look)
            RS_FORWARD(rs_win_consume(r, w, w->n - look));
    }
    if (open)
        return w->n > look ? rs_win_consume(r, w, w->n - look) : RS_OK;
    return rs_win_consume(r, w, w->n);
}

static int rs_has_question(const uint8_t *s, size_t len)
{
    if (memchr(s, '?', len))
        return 1;
    for (const uint8_t *p = s; (p = memchr(p, 0xEF, len - (size_t)(p - s))) != NULL; p++)
        if ((size_t)(p - s) + 2 < len && p[1] == 0xBC && p[2] == 0x9F) /* U+FF1F */
            return 1;
    return 0;
}

/* Parses d; *ok is 0 when it cannot be (recorded in st->skipped). */
static rs_err_e rs_scan_parse(rs_scanner_t *sc, rs_doc_t *d, rs_stats_t *st, int *ok)
{
    const rs_scan_cfg_t *cfg = sc->cfg;
    rs_error_t err = {0};
    *ok = 0;
    rs_err_e e = rs_doc_parse(d, cfg->format, cfg->headings, &err);
    if (e == RS_ERR_NOMEM || e == RS_ERR_INTERNAL)
        return e;
    if (e != RS_OK)
        return rs_notes_add(&st->skipped, d->path, err.msg);
    if (d->warning)
        RS_FORWARD(rs_notes_add(&st->warnings, d->path, d->warning));
    *ok = 1;
    return RS_OK;
}

/* A batch's tokens, handed out segment by segment: the next segment's are
 * t->tok[at .. at + ntok[seg]). lazy: one document larger than a batch,
 * whose segments are tokenized a batch at a time as the count reaches
 * them (rs_pretok_fill): the batch holds segments [.., end) of it. */
typedef struct rs_pretok {
    const rs_tokens_t *t;
    const size_t *ntok;
    size_t seg, at;
    int lazy;
    size_t end;
    int counted; /* the batch was counted (count_spans): ntok, and t only with lexicons (else NULL) */
    int matched; /* and its lexicons matched too (rs_counts_t.hit, hat[k] the next of each; at counts tokens) */
    size_t hat[2];
} rs_pretok_t;

/* The hits of the next segment of a batch whose lexicons were matched
 * elsewhere (rs_counts_t.hit: by token, then by walk order): its ntok
 * tokens from batch token pre->at on, each token's patterns put through
 * the overlap rule (rs_matcher_take) as rs_matcher_run would. */
static rs_err_e rs_win_hits(rs_seg_run_t *r, rs_pretok_t *pre, size_t ntok)
{
    rs_scanner_t *sc = r->sc;
    const rs_counts_t *c = &sc->counts;
    const rs_matcher_t *const m[2] = {sc->cfg->topics, sc->cfg->entities};
    rs_match_state_t *const ms[2] = {&sc->mt, &sc->me};
    rs_hit_ctx_t *const hc[2] = {&r->ht, &r->he};
    const size_t end = pre->at + ntok;
    for (int k = 0; k < 2; k++) {
        size_t j = pre->hat[k];
        while (j < c->nhit[k] && c->hit[k][j].tok < end) {
            const uint32_t tok = c->hit[k][j].tok;
            size_t e = j + 1;
            while (e < c->nhit[k] && c->hit[k][e].tok == tok)
                e++;
            if (tok < pre->at
                || rs_matcher_take(m[k], ms[k], c->hit[k] + j, e - j, sc->abs + (tok - pre->at), rs_on_hit, hc[k]) < 0)
                return RS_ERR_INTERNAL;
            j = e;
        }
        pre->hat[k] = j;
    }
    if (r->ht.err != RS_OK || r->he.err != RS_OK)
        return RS_ERR_NOMEM;
    pre->at = end;
    sc->abs += ntok;
    return RS_OK;
}

static void *rs_grow(void *p, size_t *cap, size_t n, size_t sz, int *fail);

/* Tokenizes sc->spans[0..n) (bytes in all) into sc->batch in one call,
 * asking for term numbers; when the backend gives them, sc->tmap maps
 * each to -1 (no term id yet). */
static rs_err_e rs_batch_tokenize(rs_scanner_t *sc, size_t n, size_t bytes, rs_stats_t *st)
{
    rs_tokens_t *b = &sc->batch;
    b->n = 0;
    b->fold_len = 0;
    b->invalid_bytes = 0;
    b->nterms = 0;
    b->numbered = 0;
    RS_FORWARD(rs_win_reserve(b, bytes));
    if (sc->term_cap < b->tok_cap) {
        uint32_t *t = realloc(b->term, b->tok_cap * sizeof *t);
        if (!t)
            return RS_ERR_NOMEM;
        b->term = t;
        sc->term_cap = b->tok_cap;
    }
    sc->cfg->kernels->tokenize_spans(sc->spans, n, b, sc->ntok);
    st->invalid_bytes += b->invalid_bytes;
    if (b->numbered) {
        int fail = 0;
        sc->tmap = rs_grow(sc->tmap, &sc->tmap_cap, b->nterms, sizeof *sc->tmap, &fail);
        if (fail)
            return RS_ERR_NOMEM;
        memset(sc->tmap, 0xFF, b->nterms * sizeof *sc->tmap); /* -1 */
    }
    return RS_OK;
}

/* Room for n spans (and their token counts). */
static rs_err_e rs_spans_reserve(rs_scanner_t *sc, size_t n)
{
    int fail = 0;
    size_t cap = sc->spans_cap, cap2 = sc->spans_cap;
    sc->spans = rs_grow(sc->spans, &cap, n, sizeof *sc->spans, &fail);
    sc->ntok = rs_grow(sc->ntok, &cap2, n, sizeof *sc->ntok, &fail);
    if (fail)
        return RS_ERR_NOMEM;
    sc->spans_cap = cap;
    return RS_OK;
}

/* Lazy pre: tokenizes the segments of d from segment from on, as many as
 * fit a batch, none larger than one (pre->end == from when d->seg[from]
 * is: the caller tokenizes it piece by piece). */
static rs_err_e rs_pretok_fill(rs_scanner_t *sc, const rs_doc_t *d, size_t from, rs_pretok_t *pre, rs_stats_t *st)
{
    size_t to = from, bytes = 0;
    while (to < d->nseg) {
        const size_t len = d->seg[to].end - d->seg[to].start;
        if (len > RS_SCAN_BATCH_BYTES || bytes + len > RS_SCAN_BATCH_BYTES)
            break;
        bytes += len;
        to++;
    }
    if (to > from) {
        RS_FORWARD(rs_spans_reserve(sc, to - from));
        for (size_t k = from; k < to; k++)
            sc->spans[k - from] = (rs_span_t){d->text + d->seg[k].start, d->seg[k].end - d->seg[k].start};
        RS_FORWARD(rs_batch_tokenize(sc, to - from, bytes, st));
    }
    *pre = (rs_pretok_t){.t = &sc->batch, .ntok = sc->ntok, .lazy = 1, .end = to}; /* after the ntok array grew */
    return RS_OK;
}

/* Counts parsed d into st: its segments tokenized here, or taken from pre
 * (a lazy pre: tokenized here a batch at a time). c: NULL for a whole
 * document, else the carry of the piece d. */
static rs_err_e rs_scan_count(rs_scanner_t *sc, rs_doc_t *d, rs_stats_t *st, rs_pretok_t *given, rs_scan_carry_t *c)
{
    const int first = !c || d->piece == 0, last = !c || !d->more;
    if (c && first)
        c->doc = ++st->doc_seq;
    const uint64_t doc = c ? c->doc : ++st->doc_seq;
    if (d->speakers.n > sc->spk_cap) {
        uint32_t *p = realloc(sc->spk, d->speakers.n * sizeof *p);
        if (!p)
            return RS_ERR_NOMEM;
        sc->spk = p;
        sc->spk_cap = d->speakers.n;
    }
    for (size_t i = 0; i < d->speakers.n; i++) {
        const char *name = d->speakers.s[i];
        const size_t len = strlen(name);
        const int64_t id = rs_dict_put(&st->speakers, name, len, rs_hash64(name, len), NULL);
        if (id < 0)
            return RS_ERR_NOMEM;
        sc->spk[i] = (uint32_t)id;
    }

    rs_seg_run_t r = {.sc = sc, .st = st, .prev = c && !first ? c->prev : -1};
    r.ht = (rs_hit_ctx_t){&st->topics, doc, -1, RS_OK};
    r.he = (rs_hit_ctx_t){&st->entities, doc, -1, RS_OK};
    uint64_t tokens = 0, turns = 0;
    sc->win.invalid_bytes = 0;
    for (size_t i = 0; i < d->nseg; i++) {
        const rs_segment_t *sg = &d->seg[i];
        const int64_t spk = sg->speaker >= 0 ? (int64_t)sc->spk[sg->speaker] : -1;
        const int cont = c && !first && i == 0 && c->parse.open;
        const int open = c && !last && i + 1 == d->nseg && c->parse.open;
        r.ht.speaker = r.he.speaker = spk;
        rs_pretok_t *pre = given;
        if (pre && pre->lazy) {
            if (sg->end - sg->start > RS_SCAN_BATCH_BYTES)
                pre = NULL; /* a turn larger than a batch: piece by piece */
            else if (i >= pre->end)
                RS_FORWARD(rs_pretok_fill(sc, d, i, pre, st));
        }
        if (pre && (cont || open)) {
            /* a segment cut by a piece: through the window, as one by one */
            rs_tokens_t v = *pre->t, *w = &sc->win;
            v.tok += pre->at;
            v.n = pre->ntok[pre->seg];
            if (!cont) {
                r.prev = -1;
                w->n = 0;
                w->fold_len = 0;
            }
            r.tokens = 0;
            RS_FORWARD(rs_win_append(w, &v));
            const size_t look = open ? rs_lookahead(sc->cfg) : 0;
            if (w->n > look)
                RS_FORWARD(rs_win_consume(&r, w, w->n - look));
            pre->at += pre->ntok[pre->seg];
            pre->seg++;
        } else if (pre && pre->counted) {
            r.tokens = pre->ntok[pre->seg++];
            if (pre->matched) {
                RS_FORWARD(rs_win_hits(&r, pre, r.tokens));
            } else if (pre->t) { /* lexicons: the segment's tokens for the matchers */
                rs_tokens_t v = *pre->t;
                v.tok += pre->at;
                v.n = r.tokens;
                RS_FORWARD(rs_win_match(&r, &v, v.n));
                pre->at += r.tokens;
            }
        } else if (pre) {
            rs_tokens_t v = *pre->t;
            v.tok += pre->at;
            if (v.numbered)
                v.term += pre->at;
            v.n = pre->ntok[pre->seg];
            r.prev = -1;
            r.tokens = 0;
            RS_FORWARD(rs_win_consume(&r, &v, v.n));
            pre->at += pre->ntok[pre->seg];
            pre->seg++;
        } else {
            RS_FORWARD(rs_scan_segment(&r, d, sg, cont, open));
        }
        tokens += r.tokens;
        turns += cont ? 0 : sg->is_turn;
        /* a segment cut in two by pieces has its question mark counted once */
        const int q = rs_has_question(d->text + sg->start, sg->end - sg->start), asked = cont && c->question;
        if (open)
            c->question = asked || q;
        if (spk >= 0) {
            rs_speaker_val_t *v = rs_dict_val(&st->speakers, (size_t)spk);
            v->turns += cont ? 0 : 1;
            v->tokens += r.tokens;
            v->questions += (uint64_t)(q && !asked);
            if (v->last_doc != doc) {
                v->last_doc = doc;
                v->docs++;
            }
            st->labelled_tokens += r.tokens;
        }
    }
    st->documents += last;
    st->bytes += d->bytes;
    st->tokens += tokens;
    st->turns += turns;
    st->invalid_bytes += sc->win.invalid_bytes; /* segments tokenized here (batches count their own) */
    if (c) {
        c->prev = r.prev;
        c->bytes += d->bytes;
        c->tokens += tokens;
        c->turns += turns;
        if (!last)
            return RS_OK;
    }

    rs_docrec_t *rec = rs_stats_add_doc(st);
    if (!rec)
        return RS_ERR_NOMEM;
    rec->path = d->path;
    d->path = NULL;
    rec->format = d->format;
    rec->bytes = c ? c->bytes : d->bytes;
    rec->tokens = c ? c->tokens : tokens;
    rec->turns = c ? c->turns : turns;
    rec->speakers = d->speakers;
    memset(&d->speakers, 0, sizeof d->speakers);
    if (c) {
        rec->meta = c->meta;
        memset(&c->meta, 0, sizeof c->meta);
    } else {
        rec->meta = d->meta;
        memset(&d->meta, 0, sizeof d->meta);
    }
    return RS_OK;
}

void rs_scan_drop(rs_scanner_t *sc)
{
    rs_scan_carry_t *c = &sc->carry;
    rs_strlist_free(&c->speakers);
    free(c->meta.title);
    free(c->meta.date);
    rs_strlist_free(&c->meta.speakers);
    rs_strlist_free(&c->meta.tags);
    memset(c, 0, sizeof *c);
    /* lookahead tokens left uncounted: matches never block their indices again */
    sc->abs += sc->win.n;
    sc->win.n = 0;
    sc->win.fold_len = 0;
}

const rs_strlist_t *rs_scan_piece_speakers(const rs_scanner_t *sc)
{
    return &sc->carry.speakers;
}


/* d is a piece of a document that comes in pieces (rs_doc_t.piece). */
static int rs_in_pieces(const rs_doc_t *d)
{
    return d->piece > 0 || d->more || d->broken;
}

/* One piece of a document in pieces (scan.h). With a batched kernel table
 * its segments are tokenized a batch at a time (one call for a piece no
 * larger than a batch). */
static rs_err_e rs_scan_piece(rs_scanner_t *sc, rs_doc_t *d, rs_stats_t *st)
{
    rs_scan_carry_t *c = &sc->carry;
    if (d->broken) {
        rs_scan_drop(sc);
        return RS_OK;
    }
    if (d->piece == 0) {
        rs_scan_drop(sc);
        c->open = 1;
        c->prev = -1;
    } else if (!c->open) {
        return RS_ERR_INTERNAL;
    }
    if (c->skip) {
        if (!d->more)
            rs_scan_drop(sc);
        return RS_OK;
    }
    /* the speakers so far: segments index them, the parse extends them */
    if (d->piece > 0) {
        rs_strlist_free(&d->speakers);
        d->speakers = c->speakers;
        memset(&c->speakers, 0, sizeof c->speakers);
    }
    const rs_scan_cfg_t *cfg = sc->cfg;
    rs_error_t err = {0};
    rs_err_e e = rs_doc_parse_piece(d, cfg->format, cfg->headings, &c->parse, &err);
    if (e == RS_ERR_NOMEM || e == RS_ERR_INTERNAL)
        return e;
    if (e != RS_OK) {
        c->skip = 1;
        if (!d->more)
            rs_scan_drop(sc);
        return rs_notes_add(&st->skipped, d->path, err.msg);
    }
    if (d->warning)
        RS_FORWARD(rs_notes_add(&st->warnings, d->path, d->warning));
    if (d->piece == 0) {
        c->meta = d->meta;
        memset(&d->meta, 0, sizeof d->meta);
    }
    rs_pretok_t lazy = {.lazy = 1};
    e = rs_scan_count(sc, d, st, sc->cfg->kernels->tokenize_spans ? &lazy : NULL, c);
    if (e != RS_OK)
        return e;
    if (d->more) {
        c->speakers = d->speakers;
        memset(&d->speakers, 0, sizeof d->speakers);
    } else {
        rs_scan_drop(sc); /* the record took the speakers and metadata */
    }
    return RS_OK;
}

/* The bigrams held for st added to it, unless the caller holds them
 * across calls (rs_scanner_t.hold_bigrams); e: the call's result so far. */
static rs_err_e rs_scan_end(rs_scanner_t *sc, rs_err_e e)
{
    const rs_err_e f = sc->hold_bigrams ? RS_OK : rs_scanner_flush(sc);
    return e != RS_OK ? e : f;
}

/* rs_scan_document, bigrams held. */
static rs_err_e rs_scan_doc(rs_scanner_t *sc, rs_doc_t *d, rs_stats_t *st)
{
    if (rs_in_pieces(d) || sc->carry.open)
        return rs_scan_piece(sc, d, st);
    int ok;
    RS_FORWARD(rs_scan_parse(sc, d, st, &ok));
    /* with a batched table, a batch at a time (this is how rs_scan_documents
     * sends a document larger than a batch) */
    rs_pretok_t lazy = {.lazy = 1};
    return ok ? rs_scan_count(sc, d, st, sc->cfg->kernels->tokenize_spans ? &lazy : NULL, NULL) : RS_OK;
}

rs_err_e rs_scan_document(rs_scanner_t *sc, rs_doc_t *d, rs_stats_t *st)
{
    return rs_scan_end(sc, rs_scan_doc(sc, d, st));
}

static void *rs_grow(void *p, size_t *cap, size_t n, size_t sz, int *fail)
{
    if (n <= *cap)
        return p;
    size_t c = *cap ? *cap : 64;
    while (c < n)
        c *= 2;
    void *q = realloc(p, c * sz);
    if (!q) {
        *fail = 1;
        return p;
    }
    *cap = c;
    return q;
}

/* A batch's counts (rs_count_spans_fn) into st, documents numbered from
 * doc_base (see rs_scan_documents in scan.h). */
static rs_err_e rs_counts_apply(rs_scanner_t *sc, const rs_counts_t *c, uint64_t doc_base, rs_stats_t *st)
{
    int fail = 0;
    sc->cid = rs_grow(sc->cid, &sc->cid_cap, c->nterm + 1, sizeof *sc->cid, &fail);
    if (fail)
        return RS_ERR_NOMEM;
    for (size_t r = 0; r < c->nterm; r++) {
        const rs_count_term_t *t = &c->term[r];
        const int64_t id = rs_dict_put(&st->terms, c->fold + t->off, t->len, t->hash, NULL);
        if (id < 0)
            return RS_ERR_NOMEM;
        sc->cid[r] = id;
        rs_term_val_t *v = rs_dict_val(&st->terms, (size_t)id);
        v->count += t->count;
        v->docs += t->docs - (v->last_doc == doc_base + t->doc_lo);
        v->last_doc = doc_base + t->doc_hi;
    }
    RS_FORWARD(rs_scanner_flush(sc)); /* the bigrams held so far go first, as in token order */
    for (size_t k = 0; k < c->npair; k++) {
        const rs_count_pair_t *p = &c->pair[k];
        const uint64_t key = rs_pair_key((uint32_t)sc->cid[p->a], (uint32_t)sc->cid[p->b]);
        const uint64_t hash = rs_pairs_bigram_hash(key, c->term[p->a].hash, c->term[p->b].hash);
        if (rs_pairs_add(&st->bigrams, key, hash, p->count) != 0)
            return RS_ERR_NOMEM;
    }
    st->invalid_bytes += c->invalid_bytes;
    return RS_OK;
}

/* Whether the kernel table (count_spans) counted the batch of nspans
 * segments of bytes in all, the spans' documents in sc->sdoc: then
 * sc->counts and sc->ntok hold the counts, and with lexicons to match
 * (*tokens set), the matches (sc->counts.matched) or else sc->batch the
 * tokens too. */
static rs_err_e rs_batch_counted(rs_scanner_t *sc, size_t nspans, size_t bytes, int *counted, int *tokens)
{
    const rs_scan_cfg_t *cfg = sc->cfg;
    *counted = *tokens = 0;
    if (!cfg->kernels->count_spans)
        return RS_OK;
    rs_tokens_t *b = NULL;
    /* the lexicons, for a table that matches them too (then sc->counts.matched) */
    sc->counts.match[0] = cfg->topics->npat ? cfg->topics : NULL;
    sc->counts.match[1] = cfg->entities->npat ? cfg->entities : NULL;
    if (cfg->topics->npat_total || cfg->entities->npat_total) { /* else the matchers need the tokens */
        b = &sc->batch;
        b->n = b->fold_len = 0;
        b->invalid_bytes = 0;
        b->nterms = 0;
        b->numbered = 0;
        RS_FORWARD(rs_win_reserve(b, bytes));
    }
    *counted = cfg->kernels->count_spans(sc->spans, sc->sdoc, nspans, &sc->counts, b, sc->ntok);
    *tokens = *counted && b;
    return RS_OK;
}


/* docs[0..n), parsed already (ok[i]), their segments tokenized in one call. */
static rs_err_e rs_scan_batch(rs_scanner_t *sc, rs_doc_t *const *docs, size_t n, rs_stats_t *st, rs_scan_done_fn done,
                              void *ctx)
{
    size_t nspans = 0, bytes = 0;
    for (size_t i = 0; i < n; i++)
        if (sc->ok[i])
            for (size_t k = 0; k < docs[i]->nseg; k++) {
                nspans++;
                bytes += docs[i]->seg[k].end - docs[i]->seg[k].start;
            }
    RS_FORWARD(rs_spans_reserve(sc, nspans));
    int fail = 0;
    sc->sdoc = rs_grow(sc->sdoc, &sc->sdoc_cap, nspans + 1, sizeof *sc->sdoc, &fail);
    if (fail)
        return RS_ERR_NOMEM;
    size_t j = 0;
    uint32_t ndoc = 0;
    for (size_t i = 0; i < n; i++)
        if (sc->ok[i]) {
            for (size_t k = 0; k < docs[i]->nseg; k++) {
                const rs_segment_t *sg = &docs[i]->seg[k];
                sc->sdoc[j] = ndoc;
                sc->spans[j++] = (rs_span_t){docs[i]->text + sg->start, sg->end - sg->start};
            }
            ndoc++; /* rs_scan_count numbers it st->doc_seq + 1 + its index here */
        }
    rs_pretok_t pre = {.t = &sc->batch, .ntok = sc->ntok};
    int counted, tokens;
    RS_FORWARD(rs_batch_counted(sc, nspans, bytes, &counted, &tokens));
    if (counted) {
        RS_FORWARD(rs_counts_apply(sc, &sc->counts, st->doc_seq + 1, st));
        pre = (rs_pretok_t){.t = tokens && !sc->counts.matched ? &sc->batch : NULL, .ntok = sc->ntok, .counted = 1,
                            .matched = tokens && sc->counts.matched};
    } else {
        RS_FORWARD(rs_batch_tokenize(sc, nspans, bytes, st));
    }
    for (size_t i = 0; i < n; i++) {
        const size_t before = st->ndocs;
        if (sc->ok[i])
            RS_FORWARD(rs_scan_count(sc, docs[i], st, &pre, NULL));
        if (done)
            done(ctx, docs[i], st->ndocs > before ? &st->docs[st->ndocs - 1] : NULL);
    }
    if (pre.matched && (pre.hat[0] != sc->counts.nhit[0] || pre.hat[1] != sc->counts.nhit[1]))
        return RS_ERR_INTERNAL; /* a match outside every segment */
    return RS_OK;
}

/* rs_scan_documents, bigrams held. */
static rs_err_e rs_scan_docs(rs_scanner_t *sc, rs_doc_t *const *docs, size_t n, rs_stats_t *st, rs_scan_done_fn done,
                             void *ctx)
{
    if (!sc->cfg->kernels->tokenize_spans) {
        for (size_t i = 0; i < n; i++) {
            const size_t before = st->ndocs;
            RS_FORWARD(rs_scan_doc(sc, docs[i], st));
            if (done)
                done(ctx, docs[i], st->ndocs > before ? &st->docs[st->ndocs - 1] : NULL);
        }
        return RS_OK;
    }
    int fail = 0;
    sc->ok = rs_grow(sc->ok, &sc->ok_cap, n, 1, &fail);
    if (fail)
        return RS_ERR_NOMEM;
    for (size_t i = 0; i < n;) {
        if (docs[i]->bytes > RS_SCAN_BATCH_BYTES || rs_in_pieces(docs[i])) {
            /* too large for a batch (its segments a batch at a time), or a
             * piece of a document: on its own */
            const size_t before = st->ndocs;
            RS_FORWARD(rs_scan_doc(sc, docs[i], st));
            if (done)
                done(ctx, docs[i], st->ndocs > before ? &st->docs[st->ndocs - 1] : NULL);
            i++;
            continue;
        }
        size_t m = 0, bytes = 0;
        while (i + m < n && docs[i + m]->bytes <= RS_SCAN_BATCH_BYTES
               && bytes + docs[i + m]->bytes <= RS_SCAN_BATCH_BYTES) {
            int ok;
            RS_FORWARD(rs_scan_parse(sc, docs[i + m], st, &ok));
            sc->ok[m] = (unsigned char)ok;
            bytes += docs[i + m]->bytes;
            m++;
        }
        RS_FORWARD(rs_scan_batch(sc, docs + i, m, st, done, ctx));
        i += m;
    }
    return RS_OK;
}

rs_err_e rs_scan_documents(rs_scanner_t *sc, rs_doc_t *const *docs, size_t n, rs_stats_t *st, rs_scan_done_fn done,
                           void *ctx)
{
    return rs_scan_end(sc, rs_scan_docs(sc, docs, n, st, done, ctx));
}
