/*
 * stats.c - creation, merge and release of rs_stats_t (stats.h).
 * Merging walks src's dicts in id order and remaps term and speaker ids;
 * one thread at a time per destination.
 */
#include "stats.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h" /* rs_hash64 */

static rs_err_e rs_lexstats_init(rs_lexstats_t *l, size_t ncat, size_t npat)
{
    memset(l, 0, sizeof *l);
    l->ncat = ncat;
    l->npat = npat;
    l->cat = calloc(ncat ? ncat : 1, sizeof *l->cat);
    l->pat_hits = calloc(npat ? npat : 1, sizeof *l->pat_hits);
    rs_dict_init(&l->by_speaker, sizeof(uint64_t));
    return (l->cat && l->pat_hits) ? RS_OK : RS_ERR_NOMEM;
}

static void rs_lexstats_free(rs_lexstats_t *l)
{
    free(l->cat);
    free(l->pat_hits);
    rs_dict_free(&l->by_speaker);
    memset(l, 0, sizeof *l);
}

rs_err_e rs_stats_init(rs_stats_t *s, size_t topic_cats, size_t topic_pats, size_t entity_cats,
                       size_t entity_pats)
{
    memset(s, 0, sizeof *s);
    rs_dict_init(&s->terms, sizeof(rs_term_val_t));
    rs_pairs_init(&s->bigrams);
    rs_dict_init(&s->speakers, sizeof(rs_speaker_val_t));
    if (rs_lexstats_init(&s->topics, topic_cats, topic_pats) != RS_OK
        || rs_lexstats_init(&s->entities, entity_cats, entity_pats) != RS_OK) {
        rs_stats_free(s);
        return RS_ERR_NOMEM;
    }
    return RS_OK;
}

static void rs_docrec_free(rs_docrec_t *d)
{
    free(d->path);
    rs_strlist_free(&d->speakers);
    free(d->meta.title);
    free(d->meta.date);
    rs_strlist_free(&d->meta.speakers);
    rs_strlist_free(&d->meta.tags);
}

void rs_notes_free(rs_notes_t *n)
{
    for (size_t i = 0; i < n->n; i++) {
        free(n->v[i].path);
        free(n->v[i].message);
    }
    free(n->v);
    memset(n, 0, sizeof *n);
}

void rs_stats_free(rs_stats_t *s)
{
    rs_dict_free(&s->terms);
    rs_pairs_free(&s->bigrams);
    rs_dict_free(&s->speakers);
    rs_lexstats_free(&s->topics);
    rs_lexstats_free(&s->entities);
    for (size_t i = 0; i < s->ndocs; i++)
        rs_docrec_free(&s->docs[i]);
    free(s->docs);
    rs_notes_free(&s->skipped);
    rs_notes_free(&s->warnings);
    memset(s, 0, sizeof *s);
}

static void rs_lexstats_clear(rs_lexstats_t *l, size_t keep_slots)
{
    memset(l->cat, 0, (l->ncat ? l->ncat : 1) * sizeof *l->cat);
    memset(l->pat_hits, 0, (l->npat ? l->npat : 1) * sizeof *l->pat_hits);
    rs_dict_clear(&l->by_speaker, keep_slots);
}

void rs_stats_clear(rs_stats_t *s, size_t keep_slots)
{
    s->documents = s->bytes = s->tokens = s->turns = s->invalid_bytes = 0;
    s->labelled_tokens = s->doc_seq = 0;
    rs_dict_clear(&s->terms, keep_slots);
    rs_pairs_clear(&s->bigrams, keep_slots);
    rs_dict_clear(&s->speakers, keep_slots);
    rs_lexstats_clear(&s->topics, keep_slots);
    rs_lexstats_clear(&s->entities, keep_slots);
    for (size_t i = 0; i < s->ndocs; i++)
        rs_docrec_free(&s->docs[i]);
    s->ndocs = 0;
    rs_notes_free(&s->skipped);
    rs_notes_free(&s->warnings);
}

rs_err_e rs_notes_add(rs_notes_t *n, const char *path, const char *message)
{
    if (n->n == n->cap) {
        const size_t cap = n->cap ? n->cap * 2 : 8;
        rs_note_t *v = realloc(n->v, cap * sizeof *v);
        if (!v)
            return RS_ERR_NOMEM;
        n->v = v;
        n->cap = cap;
    }
    char *p = strdup(path), *m = strdup(message);
    if (!p || !m) {
        free(p);
        free(m);
        return RS_ERR_NOMEM;
    }
    n->v[n->n++] = (rs_note_t){p, m};
    return RS_OK;
}

static rs_err_e rs_notes_move(rs_notes_t *dst, rs_notes_t *src)
{
    for (size_t i = 0; i < src->n; i++) {
        if (dst->n == dst->cap) {
            const size_t cap = dst->cap ? dst->cap * 2 : 8;
            rs_note_t *v = realloc(dst->v, cap * sizeof *v);
            if (!v)
                return RS_ERR_NOMEM;
            dst->v = v;
            dst->cap = cap;
        }
        dst->v[dst->n++] = src->v[i];
    }
    free(src->v);
    memset(src, 0, sizeof *src);
    return RS_OK;
}

rs_docrec_t *rs_stats_add_doc(rs_stats_t *s)
{
    if (s->ndocs == s->docs_cap) {
        const size_t cap = s->docs_cap ? s->docs_cap * 2 : 64;
        rs_docrec_t *d = realloc(s->docs, cap * sizeof *d);
        if (!d)
            return NULL;
        s->docs = d;
        s->docs_cap = cap;
    }
    rs_docrec_t *d = &s->docs[s->ndocs++];
    memset(d, 0, sizeof *d);
    return d;
}

/* How far ahead the merge of terms prefetches (as host/scan.c counts). */
#define RS_MERGE_AHEAD 16

/* Maps every key of src into dst; map[i] = dst id of src id i. */
static rs_err_e rs_dict_remap(rs_dict_t *dst, const rs_dict_t *src, uint32_t **map_out)
{
    uint32_t *map = malloc((src->n ? src->n : 1) * sizeof *map);
    if (!map)
        return RS_ERR_NOMEM;
    for (size_t i = 0; i < src->n; i++) {
        if (i + RS_MERGE_AHEAD < src->n)
            rs_dict_prefetch(dst, rs_dict_hash(src, i + RS_MERGE_AHEAD));
        if (i + RS_MERGE_AHEAD / 2 < src->n)
            rs_dict_prefetch_rec(dst, rs_dict_hash(src, i + RS_MERGE_AHEAD / 2));
        size_t len;
        const char *k = rs_dict_key(src, i, &len);
        const int64_t id = rs_dict_put(dst, k, len, rs_dict_hash(src, i), NULL);
        if (id < 0) {
            free(map);
            return RS_ERR_NOMEM;
        }
        map[i] = (uint32_t)id;
    }
    *map_out = map;
    return RS_OK;
}

static rs_err_e rs_lexstats_merge(rs_lexstats_t *d, const rs_lexstats_t *s, const uint32_t *spk)
{
    if (d->ncat != s->ncat || d->npat != s->npat)
        return RS_ERR_INTERNAL;
    for (size_t c = 0; c < s->ncat; c++) {
        d->cat[c].hits += s->cat[c].hits;
        d->cat[c].docs += s->cat[c].docs;
    }
    for (size_t p = 0; p < s->npat; p++)
        d->pat_hits[p] += s->pat_hits[p];
    for (size_t i = 0; i < s->by_speaker.n; i++) {
        uint32_t key[2];
        memcpy(key, rs_dict_key(&s->by_speaker, i, NULL), sizeof key);
        key[1] = spk[key[1]];
        const int64_t id = rs_dict_put(&d->by_speaker, key, sizeof key, rs_hash64(key, sizeof key), NULL);
        if (id < 0)
            return RS_ERR_NOMEM;
        *(uint64_t *)rs_dict_val(&d->by_speaker, (size_t)id) += *(const uint64_t *)rs_dict_val(&s->by_speaker, i);
    }
    return RS_OK;
}

rs_err_e rs_stats_merge(rs_stats_t *dst, rs_stats_t *src)
{
    uint32_t *tmap = NULL;
    rs_err_e e = rs_stats_merge_rest(dst, src, &tmap);
    if (e == RS_OK && rs_pairs_merge(&dst->bigrams, &src->bigrams, tmap) != 0)
        e = RS_ERR_NOMEM;
    free(tmap);
    return e;
}

rs_err_e rs_stats_merge_rest(rs_stats_t *dst, rs_stats_t *src, uint32_t **tmap_out)
{
    *tmap_out = NULL;
    dst->documents += src->documents;
    dst->bytes += src->bytes;
    dst->tokens += src->tokens;
    dst->turns += src->turns;
    dst->invalid_bytes += src->invalid_bytes;
    dst->labelled_tokens += src->labelled_tokens;

    uint32_t *tmap = NULL, *smap = NULL;
    rs_err_e e = rs_dict_remap(&dst->terms, &src->terms, &tmap);
    if (e == RS_OK)
        e = rs_dict_remap(&dst->speakers, &src->speakers, &smap);
    if (e != RS_OK)
        goto out;
    for (size_t i = 0; i < src->terms.n; i++) {
        rs_term_val_t *d = rs_dict_val(&dst->terms, tmap[i]);
        const rs_term_val_t *s = rs_dict_val(&src->terms, i);
        d->count += s->count;
        d->docs += s->docs;
    }
    for (size_t i = 0; i < src->speakers.n; i++) {
        rs_speaker_val_t *d = rs_dict_val(&dst->speakers, smap[i]);
        const rs_speaker_val_t *s = rs_dict_val(&src->speakers, i);
        d->turns += s->turns;
        d->tokens += s->tokens;
        d->questions += s->questions;
        d->docs += s->docs;
        d->talk_ms += s->talk_ms;
    }
    e = rs_lexstats_merge(&dst->topics, &src->topics, smap);
    if (e == RS_OK)
        e = rs_lexstats_merge(&dst->entities, &src->entities, smap);
    if (e != RS_OK)
        goto out;
    for (size_t i = 0; i < src->ndocs; i++) {
        rs_docrec_t *d = rs_stats_add_doc(dst);
        if (!d) {
            e = RS_ERR_NOMEM;
            goto out;
        }
        *d = src->docs[i];
        memset(&src->docs[i], 0, sizeof src->docs[i]);
    }
    src->ndocs = 0;
    e = rs_notes_move(&dst->skipped, &src->skipped);
    if (e == RS_OK)
        e = rs_notes_move(&dst->warnings, &src->warnings);
out:
    if (e == RS_OK)
        *tmap_out = tmap;
    else
        free(tmap);
    free(smap);
    return e;
}
