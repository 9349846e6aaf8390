/*
 * report.c - sorted view of rs_stats_t and its JSON, CSV and table writers
 * (report.h). Sorting uses a thread-local context for the comparators; the
 * view is built and written by one thread.
 */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "unicode.h" /* rs_utf8_decode */

/* --- sorting --------------------------------------------------------- */

typedef int (*rs_cmp_fn)(uint32_t a, uint32_t b);
static _Thread_local const rs_stats_t *rs_cmp_st;
static _Thread_local const rs_lexstats_t *rs_cmp_ls;
static _Thread_local const rs_lexicon_t *rs_cmp_lex;
static _Thread_local rs_cmp_fn rs_cmp_cur;

static int rs_cmp_u64_desc(uint64_t a, uint64_t b)
{
    return a > b ? -1 : a < b ? 1 : 0;
}

static const char *rs_term(uint32_t id)
{
    return rs_dict_key(&rs_cmp_st->terms, id, NULL);
}

static const char *rs_speaker(uint32_t id)
{
    return rs_dict_key(&rs_cmp_st->speakers, id, NULL);
}

static int rs_cmp_terms(uint32_t a, uint32_t b)
{
    const rs_term_val_t *x = rs_dict_val(&rs_cmp_st->terms, a), *y = rs_dict_val(&rs_cmp_st->terms, b);
    const int c = rs_cmp_u64_desc(x->count, y->count);
    return c ? c : strcmp(rs_term(a), rs_term(b));
}

/* Bigrams by count, then by their terms' bytes. */
static int rs_cmp_bigrams(const rs_pair_t *x, const rs_pair_t *y)
{
    const int c = rs_cmp_u64_desc(x->count, y->count);
    if (c)
        return c;
    uint32_t a0, a1, b0, b1;
    rs_pair_split(x->key, &a0, &a1);
    rs_pair_split(y->key, &b0, &b1);
    const int d = strcmp(rs_term(a0), rs_term(b0));
    return d ? d : strcmp(rs_term(a1), rs_term(b1));
}

static int rs_qsort_bigrams(const void *a, const void *b)
{
    return rs_cmp_bigrams(a, b);
}

static int rs_cmp_speakers(uint32_t a, uint32_t b)
{
    const rs_speaker_val_t *x = rs_dict_val(&rs_cmp_st->speakers, a), *y = rs_dict_val(&rs_cmp_st->speakers, b);
    const int c = rs_cmp_u64_desc(x->tokens, y->tokens);
    return c ? c : strcmp(rs_speaker(a), rs_speaker(b));
}

static int rs_cmp_cats(uint32_t a, uint32_t b)
{
    const int c = rs_cmp_u64_desc(rs_cmp_ls->cat[a].hits, rs_cmp_ls->cat[b].hits);
    return c ? c : strcmp(rs_cmp_lex->cat[a].name, rs_cmp_lex->cat[b].name);
}

static int rs_cmp_docs(uint32_t a, uint32_t b)
{
    return strcmp(rs_cmp_st->docs[a].path, rs_cmp_st->docs[b].path);
}

static _Thread_local const rs_notes_t *rs_cmp_notes;
static int rs_cmp_notes_fn(uint32_t a, uint32_t b)
{
    const int c = strcmp(rs_cmp_notes->v[a].path, rs_cmp_notes->v[b].path);
    return c ? c : strcmp(rs_cmp_notes->v[a].message, rs_cmp_notes->v[b].message);
}

static int rs_qsort_cmp(const void *a, const void *b)
{
    return rs_cmp_cur(*(const uint32_t *)a, *(const uint32_t *)b);
}

static uint32_t *rs_sorted_all(size_t n, rs_cmp_fn cmp)
{
    uint32_t *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < n; i++)
        v[i] = (uint32_t)i;
    rs_cmp_cur = cmp;
    qsort(v, n, sizeof *v, rs_qsort_cmp);
    return v;
}

/* The k best of 0..n-1 under cmp, sorted: a bounded heap whose root is the
 * worst kept item. */
static uint32_t *rs_top_k(size_t n, size_t k, rs_cmp_fn cmp, size_t *out_n)
{
    if (k > n)
        k = n;
    uint32_t *h = malloc((k ? k : 1) * sizeof *h);
    if (!h)
        return NULL;
    size_t hn = 0;
    for (size_t i = 0; i < n && k; i++) {
        const uint32_t x = (uint32_t)i;
        size_t j;
        if (hn < k) {
            j = hn++;
            while (j > 0 && cmp(h[(j - 1) / 2], x) < 0) { /* parent better than x: move down */
                h[j] = h[(j - 1) / 2];
                j = (j - 1) / 2;
            }
            h[j] = x;
            continue;
        }
        if (cmp(x, h[0]) >= 0)
            continue; /* not better than the worst kept */
        j = 0;
        for (;;) {
            size_t c = 2 * j + 1;
            if (c >= hn)
                break;
            if (c + 1 < hn && cmp(h[c + 1], h[c]) > 0)
                c++;
            if (cmp(h[c], x) <= 0)
                break;
            h[j] = h[c];
            j = c;
        }
        h[j] = x;
    }
    rs_cmp_cur = cmp;
    qsort(h, hn, sizeof *h, rs_qsort_cmp);
    *out_n = hn;
    return h;
}

/* The k first bigrams under rs_cmp_bigrams, sorted: the bounded heap of
 * rs_top_k, over the table's slots (bigrams have no ids). */
static rs_pair_t *rs_top_bigrams(const rs_pairs_t *p, size_t k, size_t *out_n)
{
    if (k > p->n)
        k = p->n;
    rs_pair_t *h = malloc((k ? k : 1) * sizeof *h);
    if (!h)
        return NULL;
    size_t hn = 0;
    uint64_t pos = 0;
    for (rs_pair_t x; k && rs_pairs_next(p, &pos, &x);) {
        size_t j;
        if (hn < k) {
            j = hn++;
            while (j > 0 && rs_cmp_bigrams(&h[(j - 1) / 2], &x) < 0) {
                h[j] = h[(j - 1) / 2];
                j = (j - 1) / 2;
            }
            h[j] = x;
            continue;
        }
        if (rs_cmp_bigrams(&x, &h[0]) >= 0)
            continue;
        j = 0;
        for (;;) {
            size_t c = 2 * j + 1;
            if (c >= hn)
                break;
            if (c + 1 < hn && rs_cmp_bigrams(&h[c + 1], &h[c]) > 0)
                c++;
            if (rs_cmp_bigrams(&h[c], &x) <= 0)
                break;
            h[j] = h[c];
            j = c;
        }
        h[j] = x;
    }
    qsort(h, hn, sizeof *h, rs_qsort_bigrams);
    *out_n = hn;
    return h;
}

/* Groups the by_speaker entries of topics (l 0) or entities (l 1) by
 * key[field] (category or speaker), in entry order (a counting sort), so
 * that the hits of one category or speaker are found without walking them
 * all. 0 when out of memory. */
static int rs_group_hits(rs_report_view_t *v, int l, int field)
{
    const rs_lexstats_t *ls = l ? &v->st->entities : &v->st->topics;
    const size_t keys = field ? v->st->speakers.n : ls->ncat, n = ls->by_speaker.n;
    uint32_t *at = calloc(keys + 2, sizeof *at), *ids = malloc((n ? n : 1) * sizeof *ids);
    v->group[l][field].at = at;
    v->group[l][field].ids = ids;
    if (!at || !ids)
        return 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t key[2];
        memcpy(key, rs_dict_key(&ls->by_speaker, i, NULL), sizeof key);
        if (key[field] < keys)
            at[key[field] + 2]++;
    }
    for (size_t k = 2; k < keys + 2; k++)
        at[k] += at[k - 1];
    /* at[k + 1] is now where group k starts; filling moves it to its end,
     * which leaves group k at [at[k], at[k + 1]) */
    for (size_t i = 0; i < n; i++) {
        uint32_t key[2];
        memcpy(key, rs_dict_key(&ls->by_speaker, i, NULL), sizeof key);
        if (key[field] < keys)
            ids[at[key[field] + 1]++] = (uint32_t)i;
    }
    return 1;
}

rs_err_e rs_report_view_build(rs_report_view_t *v, const rs_stats_t *st, const rs_lexicon_t *topics,
                              const rs_lexicon_t *entities, size_t top)
{
    memset(v, 0, sizeof *v);
    v->st = st;
    v->topics = topics;
    v->entities = entities;
    v->top = top;
    rs_cmp_st = st;
    v->speakers = rs_sorted_all(st->speakers.n, rs_cmp_speakers);
    v->terms = rs_top_k(st->terms.n, top, rs_cmp_terms, &v->nterms);
    v->bigrams = rs_top_bigrams(&st->bigrams, top, &v->nbigrams);
    rs_cmp_ls = &st->topics;
    rs_cmp_lex = topics;
    v->topic_order = rs_sorted_all(st->topics.ncat, rs_cmp_cats);
    rs_cmp_ls = &st->entities;
    rs_cmp_lex = entities;
    v->entity_order = rs_sorted_all(st->entities.ncat, rs_cmp_cats);
    v->docs = rs_sorted_all(st->ndocs, rs_cmp_docs);
    rs_cmp_notes = &st->skipped;
    v->skipped = rs_sorted_all(st->skipped.n, rs_cmp_notes_fn);
    rs_cmp_notes = &st->warnings;
    v->warnings = rs_sorted_all(st->warnings.n, rs_cmp_notes_fn);
    int grouped = 1;
    for (int l = 0; l < 2; l++)
        for (int field = 0; field < 2; field++)
            grouped &= rs_group_hits(v, l, field);
    if (!v->speakers || !v->terms || !v->bigrams || !v->topic_order || !v->entity_order || !v->docs
        || !v->skipped || !v->warnings || !grouped) {
        rs_report_view_free(v);
        return RS_ERR_NOMEM;
    }
    return RS_OK;
}

void rs_report_view_free(rs_report_view_t *v)
{
    free(v->speakers);
    free(v->terms);
    free(v->bigrams);
    free(v->topic_order);
    free(v->entity_order);
    free(v->docs);
    free(v->skipped);
    free(v->warnings);
    for (int l = 0; l < 2; l++)
        for (int field = 0; field < 2; field++) {
            free(v->group[l][field].at);
            free(v->group[l][field].ids);
        }
    memset(v, 0, sizeof *v);
}

/* Pairs (other, hits) for one category (by_cat) or one speaker, sorted by
 * hits then name. */
typedef struct rs_hits {
    uint32_t other;
    uint64_t hits;
    const char *name;
} rs_hits_t;

static int rs_cmp_hits(const void *a, const void *b)
{
    const rs_hits_t *x = a, *y = b;
    const int c = rs_cmp_u64_desc(x->hits, y->hits);
    return c ? c : strcmp(x->name, y->name);
}

/* Collects by_speaker entries whose key[field] == want (from the view's
 * groups), in entry order; names from the other field. Caller frees. */
static rs_hits_t *rs_hits_of(const rs_report_view_t *v, const rs_lexstats_t *ls, const rs_lexicon_t *lex, int field,
                           uint32_t want, size_t *n_out)
{
    const rs_stats_t *st = v->st;
    const int l = ls == &st->entities;
    const uint32_t *at = v->group[l][field].at, *ids = v->group[l][field].ids;
    const size_t keys = field ? st->speakers.n : ls->ncat;
    const size_t from = want < keys ? at[want] : 0, count = want < keys ? at[want + 1] - at[want] : 0;
    rs_hits_t *p = malloc((count ? count : 1) * sizeof *p);
    if (!p)
        return NULL;
    size_t n = 0;
    for (size_t j = from; j < from + count; j++) {
        const size_t i = ids[j];
        uint32_t key[2];
        memcpy(key, rs_dict_key(&ls->by_speaker, i, NULL), sizeof key);
        const uint32_t other = key[1 - field];
        p[n].other = other;
        p[n].hits = *(const uint64_t *)rs_dict_val(&ls->by_speaker, i);
        p[n].name = field == 0 ? rs_dict_key(&st->speakers, other, NULL) : lex->cat[other].name;
        n++;
    }
    qsort(p, n, sizeof *p, rs_cmp_hits);
    *n_out = n;
    return p;
}

/* Patterns of category c with hits, sorted. */
static rs_hits_t *rs_pattern_hits(const rs_lexstats_t *ls, const rs_lexicon_t *lex, size_t c, size_t *n_out)
{
    size_t base = 0;
    for (size_t i = 0; i < c; i++)
        base += lex->cat[i].n;
    const rs_lex_category_t *cat = &lex->cat[c];
    rs_hits_t *p = malloc((cat->n ? cat->n : 1) * sizeof *p);
    if (!p)
        return NULL;
    size_t n = 0;
    for (size_t k = 0; k < cat->n; k++) {
        const uint64_t h = base + k < ls->npat ? ls->pat_hits[base + k] : 0;
        if (h)
            p[n++] = (rs_hits_t){(uint32_t)k, h, cat->pat[k].text};
    }
    qsort(p, n, sizeof *p, rs_cmp_hits);
    *n_out = n;
    return p;
}

/* --- JSON ------------------------------------------------------------ */

static void rs_json_str(FILE *f, const char *s)
{
    const uint8_t *u = (const uint8_t *)s;
    const size_t len = strlen(s);
    fputc('"', f);
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        const size_t n = rs_utf8_decode(u, len, i, &cp);
        if (rs_utf8_is_invalid(cp, n)) {
            fputs("\\ufffd", f);
        } else if (cp == '"' || cp == '\\') {
            fputc('\\', f);
            fputc((int)cp, f);
        } else if (cp == '\n') {
            fputs("\\n", f);
        } else if (cp == '\t') {
            fputs("\\t", f);
        } else if (cp == '\r') {
            fputs("\\r", f);
        } else if (cp < 0x20) {
            fprintf(f, "\\u%04x", (unsigned)cp);
        } else {
            fwrite(u + i, 1, n, f);
        }
        i += n;
    }
    fputc('"', f);
}

static void rs_json_key(FILE *f, int indent, const char *k)
{
    fprintf(f, "%*s", indent, "");
    rs_json_str(f, k);
    fputs(": ", f);
}

static void rs_json_hits(FILE *f, const rs_hits_t *p, size_t n)
{
    fputc('{', f);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputs(", ", f);
        rs_json_str(f, p[i].name);
        fprintf(f, ": %" PRIu64, p[i].hits);
    }
    fputc('}', f);
}

static void rs_json_strlist(FILE *f, const rs_strlist_t *l)
{
    fputc('[', f);
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            fputs(", ", f);
        rs_json_str(f, l->s[i]);
    }
    fputc(']', f);
}

static void rs_json_notes(FILE *f, const rs_notes_t *n, const uint32_t *order, const char *field)
{
    fputc('[', f);
    for (size_t i = 0; i < n->n; i++) {
        const rs_note_t *x = &n->v[order[i]];
        fputs(i ? ",\n      {\"path\": " : "\n      {\"path\": ", f);
        rs_json_str(f, x->path);
        fprintf(f, ", \"%s\": ", field);
        rs_json_str(f, x->message);
        fputc('}', f);
    }
    fputs(n->n ? "\n    ]" : "]", f);
}

static double rs_share(uint64_t part, uint64_t whole)
{
    return whole ? (double)part / (double)whole : 0.0;
}

static rs_err_e rs_json_lex(FILE *f, const rs_report_view_t *v, const rs_lexstats_t *ls, const rs_lexicon_t *lex,
                            const uint32_t *order, const char *pattern_key)
{
    fputc('[', f);
    for (size_t i = 0; i < ls->ncat; i++) {
        const uint32_t c = order[i];
        size_t ns = 0, np = 0;
        rs_hits_t *sp = rs_hits_of(v, ls, lex, 0, c, &ns);
        rs_hits_t *pp = rs_pattern_hits(ls, lex, c, &np);
        if (!sp || !pp) {
            free(sp);
            free(pp);
            return RS_ERR_NOMEM;
        }
        fputs(i ? ",\n    {\"name\": " : "\n    {\"name\": ", f);
        rs_json_str(f, lex->cat[c].name);
        fprintf(f, ", \"hits\": %" PRIu64 ", \"documents\": %" PRIu64 ",\n     \"speakers\": ", ls->cat[c].hits,
                ls->cat[c].docs);
        rs_json_hits(f, sp, ns);
        fprintf(f, ",\n     \"%s\": ", pattern_key);
        rs_json_hits(f, pp, np);
        fputc('}', f);
        free(sp);
        free(pp);
    }
    fputs(ls->ncat ? "\n  ]" : "]", f);
    return RS_OK;
}

rs_err_e rs_report_json(FILE *f, const rs_report_view_t *v, const rs_run_info_t *run)
{
    const rs_stats_t *st = v->st;
    fputs("{\n", f);
    rs_json_key(f, 2, "schema");
    rs_json_str(f, RS_REPORT_SCHEMA);
    fputs(",\n", f);
    rs_json_key(f, 2, "corpus");
    fprintf(f,
            "{\n    \"documents\": %" PRIu64 ",\n    \"bytes\": %" PRIu64 ",\n    \"tokens\": %" PRIu64
            ",\n    \"types\": %zu,\n    \"turns\": %" PRIu64 ",\n    \"speakers\": %zu,\n"
            "    \"labelled_tokens\": %" PRIu64 ",\n    \"invalid_utf8_bytes\": %" PRIu64 ",\n    \"skipped\": ",
            st->documents, st->bytes, st->tokens, st->terms.n, st->turns, st->speakers.n, st->labelled_tokens,
            st->invalid_bytes);
    rs_json_notes(f, &st->skipped, v->skipped, "reason");
    fputs(",\n    \"warnings\": ", f);
    rs_json_notes(f, &st->warnings, v->warnings, "message");
    fputs("\n  },\n", f);

    rs_json_key(f, 2, "speakers");
    fputc('[', f);
    for (size_t i = 0; i < st->speakers.n; i++) {
        const uint32_t s = v->speakers[i];
        const rs_speaker_val_t *sv = rs_dict_val(&st->speakers, s);
        size_t nt = 0;
        rs_hits_t *tp = rs_hits_of(v, &st->topics, v->topics, 1, s, &nt);
        if (!tp)
            return RS_ERR_NOMEM;
        fputs(i ? ",\n    {\"name\": " : "\n    {\"name\": ", f);
        rs_json_str(f, rs_dict_key(&st->speakers, s, NULL));
        fprintf(f,
                ", \"turns\": %" PRIu64 ", \"tokens\": %" PRIu64 ", \"share\": %.6f, \"questions\": %" PRIu64
                ", \"documents\": %" PRIu64 ", \"seconds\": %" PRIu64 ".%03u,\n     \"topics\": ",
                sv->turns, sv->tokens, rs_share(sv->tokens, st->labelled_tokens), sv->questions, sv->docs,
                sv->talk_ms / 1000, (unsigned)(sv->talk_ms % 1000));
        rs_json_hits(f, tp, nt);
        fputc('}', f);
        free(tp);
    }
    fputs(st->speakers.n ? "\n  ],\n" : "],\n", f);

    rs_json_key(f, 2, "topics");
    RS_FORWARD(rs_json_lex(f, v, &st->topics, v->topics, v->topic_order, "patterns"));
    fputs(",\n", f);
    rs_json_key(f, 2, "entities");
    RS_FORWARD(rs_json_lex(f, v, &st->entities, v->entities, v->entity_order, "patterns"));
    fputs(",\n", f);

    rs_json_key(f, 2, "terms");
    fputc('[', f);
    for (size_t i = 0; i < v->nterms; i++) {
        const rs_term_val_t *tv = rs_dict_val(&st->terms, v->terms[i]);
        fputs(i ? ",\n    {\"term\": " : "\n    {\"term\": ", f);
        rs_json_str(f, rs_dict_key(&st->terms, v->terms[i], NULL));
        fprintf(f, ", \"count\": %" PRIu64 ", \"documents\": %" PRIu64 "}", tv->count, tv->docs);
    }
    fputs(v->nterms ? "\n  ],\n" : "],\n", f);

    rs_json_key(f, 2, "bigrams");
    fputc('[', f);
    for (size_t i = 0; i < v->nbigrams; i++) {
        uint32_t key[2];
        rs_pair_split(v->bigrams[i].key, &key[0], &key[1]);
        const char *a = rs_dict_key(&st->terms, key[0], NULL), *b = rs_dict_key(&st->terms, key[1], NULL);
        const size_t la = strlen(a), lb = strlen(b);
        char *both = malloc(la + lb + 2);
        if (!both)
            return RS_ERR_NOMEM;
        memcpy(both, a, la);
        both[la] = ' ';
        memcpy(both + la + 1, b, lb + 1);
        fputs(i ? ",\n    {\"bigram\": " : "\n    {\"bigram\": ", f);
        rs_json_str(f, both);
        fprintf(f, ", \"count\": %" PRIu64 "}", v->bigrams[i].count);
        free(both);
    }
    fputs(v->nbigrams ? "\n  ],\n" : "],\n", f);

    rs_json_key(f, 2, "documents");
    fputc('[', f);
    for (size_t i = 0; i < st->ndocs; i++) {
        const rs_docrec_t *d = &st->docs[v->docs[i]];
        fputs(i ? ",\n    {\"path\": " : "\n    {\"path\": ", f);
        rs_json_str(f, d->path);
        fprintf(f, ", \"format\": \"%s\", \"bytes\": %" PRIu64 ", \"tokens\": %" PRIu64 ", \"turns\": %" PRIu64
                   ",\n     \"speakers\": ",
                rs_format_name(d->format), d->bytes, d->tokens, d->turns);
        rs_json_strlist(f, &d->speakers);
        fputs(",\n     \"metadata\": {\"title\": ", f);
        if (d->meta.title)
            rs_json_str(f, d->meta.title);
        else
            fputs("null", f);
        fputs(", \"date\": ", f);
        if (d->meta.date)
            rs_json_str(f, d->meta.date);
        else
            fputs("null", f);
        fputs(", \"speakers\": ", f);
        rs_json_strlist(f, &d->meta.speakers);
        fputs(", \"tags\": ", f);
        rs_json_strlist(f, &d->meta.tags);
        fputs("}}", f);
    }
    fputs(st->ndocs ? "\n  ],\n" : "],\n", f);

    rs_json_key(f, 2, "run");
    fputs("{\"backend\": ", f);
    rs_json_str(f, run->backend);
    fprintf(f, ", \"threads\": %u, \"seconds\": %.3f, \"bytes_per_second\": %.0f, \"version\": ", run->threads,
            run->seconds, run->seconds > 0 ? (double)st->bytes / run->seconds : 0.0);
    rs_json_str(f, run->version);
    fputs(", \"topology\": ", f);
    if (run->topology)
        rs_json_str(f, run->topology);
    else
        fputs("null", f);
    fprintf(f, ", \"pinned\": %s, \"shard_bytes\": %" PRIu64 ", \"partial\": %s", run->pinned ? "true" : "false",
            run->shard_bytes, run->partial ? "true" : "false");
    fprintf(f, ", \"split\": {\"documents\": %" PRIu64 ", \"pieces\": %" PRIu64 "}", run->split_docs, run->pieces);
    if (run->numa_nodes > 1)
        fprintf(f,
                ", \"numa\": {\"nodes\": %u, \"shards\": %" PRIu64 ", \"local\": %" PRIu64 ", \"buffers\": %" PRIu64
                ", \"bound\": %" PRIu64 "}",
                run->numa_nodes, run->numa_shards, run->numa_local, run->numa_buffers, run->numa_bound);
    if (run->device)
        fprintf(f,
                ", \"device\": {\"calls\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"cpu_bytes\": %" PRIu64
                ", \"counted_calls\": %" PRIu64 ", \"matched_calls\": %" PRIu64 ", \"numbered_calls\": %" PRIu64 "}",
                run->device_calls, run->device_bytes, run->cpu_bytes, run->counted_calls, run->matched_calls,
                run->numbered_calls);
    fputs("}\n}\n", f);
    return ferror(f) ? RS_ERR_IO : RS_OK;
}

/* --- CSV ------------------------------------------------------------- */

static void rs_csv_field(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static FILE *rs_csv_open(const char *dir, const char *name, const char *header, rs_error_t *err, rs_err_e *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        *e = rs_error_set(err, RS_ERR_IO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    fputs(header, f);
    fputc('\n', f);
    return f;
}

static rs_err_e rs_csv_close(FILE *f, const char *dir, const char *name, rs_error_t *err)
{
    const int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return rs_error_set(err, RS_ERR_IO, "%s/%s: write error", dir, name);
    return RS_OK;
}

#define RS_CSV_BEGIN(name, header)                                                                                    \
    do {                                                                                                              \
        rs_err_e e_ = RS_OK;                                                                                          \
        const char *name_ = (name);                                                                                   \
        FILE *f = rs_csv_open(dir, name_, header, err, &e_);                                                          \
        if (!f)                                                                                                       \
            return e_;
#define RS_CSV_END                                                                                                    \
    RS_FORWARD(rs_csv_close(f, dir, name_, err));                                                                     \
    }                                                                                                                 \
    while (0)

static rs_err_e rs_csv_lex(const char *dir, const rs_report_view_t *v, const rs_lexstats_t *ls,
                           const rs_lexicon_t *lex, const uint32_t *order, const char *kind, const char *pkind,
                           const char *pfile, rs_error_t *err)
{
    char name[64], header[64];
    snprintf(name, sizeof name, "%s.csv", kind);
    snprintf(header, sizeof header, "%s,hits,documents", kind[0] == 't' ? "topic" : "entity");
    RS_CSV_BEGIN(name, header);
    for (size_t i = 0; i < ls->ncat; i++) {
        rs_csv_field(f, lex->cat[order[i]].name);
        fprintf(f, ",%" PRIu64 ",%" PRIu64 "\n", ls->cat[order[i]].hits, ls->cat[order[i]].docs);
    }
    RS_CSV_END;
    const char *one = kind[0] == 't' ? "topic" : "entity";
    snprintf(name, sizeof name, "%s_speakers.csv", one);
    snprintf(header, sizeof header, "%s,speaker,hits", one);
    RS_CSV_BEGIN(name, header);
    for (size_t i = 0; i < ls->ncat; i++) {
        size_t n = 0;
        rs_hits_t *p = rs_hits_of(v, ls, lex, 0, order[i], &n);
        if (!p) {
            fclose(f);
            return RS_ERR_NOMEM;
        }
        for (size_t j = 0; j < n; j++) {
            rs_csv_field(f, lex->cat[order[i]].name);
            fputc(',', f);
            rs_csv_field(f, p[j].name);
            fprintf(f, ",%" PRIu64 "\n", p[j].hits);
        }
        free(p);
    }
    RS_CSV_END;
    snprintf(name, sizeof name, "%s", pfile);
    snprintf(header, sizeof header, "%s,%s,hits", one, pkind);
    RS_CSV_BEGIN(name, header);
    for (size_t i = 0; i < ls->ncat; i++) {
        size_t n = 0;
        rs_hits_t *p = rs_pattern_hits(ls, lex, order[i], &n);
        if (!p) {
            fclose(f);
            return RS_ERR_NOMEM;
        }
        for (size_t j = 0; j < n; j++) {
            rs_csv_field(f, lex->cat[order[i]].name);
            fputc(',', f);
            rs_csv_field(f, p[j].name);
            fprintf(f, ",%" PRIu64 "\n", p[j].hits);
        }
        free(p);
    }
    RS_CSV_END;
    return RS_OK;
}

rs_err_e rs_report_csv(const char *dir, const rs_report_view_t *v, rs_error_t *err)
{
    const rs_stats_t *st = v->st;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return rs_error_set(err, RS_ERR_IO, "%s: %s", dir, strerror(errno));

    RS_CSV_BEGIN("corpus.csv", "metric,value");
    fprintf(f,
            "documents,%" PRIu64 "\nbytes,%" PRIu64 "\ntokens,%" PRIu64 "\ntypes,%zu\nturns,%" PRIu64
            "\nspeakers,%zu\nlabelled_tokens,%" PRIu64 "\ninvalid_utf8_bytes,%" PRIu64 "\nskipped,%zu\n",
            st->documents, st->bytes, st->tokens, st->terms.n, st->turns, st->speakers.n, st->labelled_tokens,
            st->invalid_bytes, st->skipped.n);
    RS_CSV_END;

    RS_CSV_BEGIN("speakers.csv", "speaker,turns,tokens,share,questions,documents");
    for (size_t i = 0; i < st->speakers.n; i++) {
        const rs_speaker_val_t *sv = rs_dict_val(&st->speakers, v->speakers[i]);
        rs_csv_field(f, rs_dict_key(&st->speakers, v->speakers[i], NULL));
        fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%.6f,%" PRIu64 ",%" PRIu64 "\n", sv->turns, sv->tokens,
                rs_share(sv->tokens, st->labelled_tokens), sv->questions, sv->docs);
    }
    RS_CSV_END;

    RS_CSV_BEGIN("speaker_topics.csv", "speaker,topic,hits");
    for (size_t i = 0; i < st->speakers.n; i++) {
        size_t n = 0;
        rs_hits_t *p = rs_hits_of(v, &st->topics, v->topics, 1, v->speakers[i], &n);
        if (!p) {
            fclose(f);
            return RS_ERR_NOMEM;
        }
        for (size_t j = 0; j < n; j++) {
            rs_csv_field(f, rs_dict_key(&st->speakers, v->speakers[i], NULL));
            fputc(',', f);
            rs_csv_field(f, p[j].name);
            fprintf(f, ",%" PRIu64 "\n", p[j].hits);
        }
        free(p);
    }
    RS_CSV_END;

    RS_FORWARD(rs_csv_lex(dir, v, &st->topics, v->topics, v->topic_order, "topics", "pattern", "topic_patterns.csv", err));
    RS_FORWARD(rs_csv_lex(dir, v, &st->entities, v->entities, v->entity_order, "entities", "alias", "entity_aliases.csv", err));

    RS_CSV_BEGIN("terms.csv", "term,count,documents");
    for (size_t i = 0; i < v->nterms; i++) {
        const rs_term_val_t *tv = rs_dict_val(&st->terms, v->terms[i]);
        rs_csv_field(f, rs_dict_key(&st->terms, v->terms[i], NULL));
        fprintf(f, ",%" PRIu64 ",%" PRIu64 "\n", tv->count, tv->docs);
    }
    RS_CSV_END;

    RS_CSV_BEGIN("bigrams.csv", "first,second,count");
    for (size_t i = 0; i < v->nbigrams; i++) {
        uint32_t key[2];
        rs_pair_split(v->bigrams[i].key, &key[0], &key[1]);
        rs_csv_field(f, rs_dict_key(&st->terms, key[0], NULL));
        fputc(',', f);
        rs_csv_field(f, rs_dict_key(&st->terms, key[1], NULL));
        fprintf(f, ",%" PRIu64 "\n", v->bigrams[i].count);
    }
    RS_CSV_END;

    RS_CSV_BEGIN("documents.csv", "path,format,bytes,tokens,turns,speakers,title,date,tags");
    for (size_t i = 0; i < st->ndocs; i++) {
        const rs_docrec_t *d = &st->docs[v->docs[i]];
        rs_csv_field(f, d->path);
        fprintf(f, ",%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%zu,", rs_format_name(d->format), d->bytes, d->tokens,
                d->turns, d->speakers.n);
        rs_csv_field(f, d->meta.title ? d->meta.title : "");
        fputc(',', f);
        rs_csv_field(f, d->meta.date ? d->meta.date : "");
        fputc(',', f);
        size_t tl = 1;
        for (size_t t = 0; t < d->meta.tags.n; t++)
            tl += strlen(d->meta.tags.s[t]) + 1;
        char *tags = calloc(tl, 1);
        if (!tags) {
            fclose(f);
            return RS_ERR_NOMEM;
        }
        for (size_t t = 0; t < d->meta.tags.n; t++) {
            if (t)
                strcat(tags, ";");
            strcat(tags, d->meta.tags.s[t]);
        }
        rs_csv_field(f, tags);
        free(tags);
        fputc('\n', f);
    }
    RS_CSV_END;

    RS_CSV_BEGIN("skipped.csv", "path,reason");
    for (size_t i = 0; i < st->skipped.n; i++) {
        rs_csv_field(f, st->skipped.v[v->skipped[i]].path);
        fputc(',', f);
        rs_csv_field(f, st->skipped.v[v->skipped[i]].message);
        fputc('\n', f);
    }
    RS_CSV_END;
    return RS_OK;
}

/* --- terminal table -------------------------------------------------- */

/* Display width in code points (a fair guess for names and terms). */
static size_t rs_width(const char *s)
{
    size_t w = 0;
    for (const uint8_t *p = (const uint8_t *)s; *p; p++)
        w += (*p & 0xC0) != 0x80;
    return w;
}

static void rs_cell(FILE *f, const char *s, size_t width)
{
    const size_t w = rs_width(s);
    if (w <= width) {
        fprintf(f, "%s%*s", s, (int)(width - w), "");
        return;
    }
    /* cut on a code point boundary and mark it */
    size_t keep = 0, seen = 0;
    for (const uint8_t *p = (const uint8_t *)s; *p; p++, keep++) {
        if ((*p & 0xC0) != 0x80 && seen++ == width - 1)
            break;
    }
    fprintf(f, "%.*s~", (int)keep, s);
}

static void rs_num(char *buf, size_t n, uint64_t v)
{
    char tmp[32];
    const int len = snprintf(tmp, sizeof tmp, "%" PRIu64, v);
    size_t o = 0;
    for (int i = 0; i < len && o + 2 < n; i++) {
        if (i && (len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
}

static void rs_table_lex(FILE *f, const rs_report_view_t *v, const rs_lexstats_t *ls, const rs_lexicon_t *lex,
                         const uint32_t *order, const char *title)
{
    if (!ls->ncat)
        return;
    fprintf(f, "\n%-28s %12s %9s  %s\n", title, "hits", "docs", "said most by");
    for (size_t i = 0; i < ls->ncat && i < v->top; i++) {
        const uint32_t c = order[i];
        char h[32], d[32];
        rs_num(h, sizeof h, ls->cat[c].hits);
        rs_num(d, sizeof d, ls->cat[c].docs);
        size_t n = 0;
        rs_hits_t *p = rs_hits_of(v, ls, lex, 0, c, &n);
        rs_cell(f, lex->cat[c].name, 28);
        fprintf(f, " %12s %9s  %s\n", h, d, (p && n) ? p[0].name : "-");
        free(p);
    }
    if (ls->ncat > v->top)
        fprintf(f, "  ... %zu more (--top, --json or --csv for all)\n", ls->ncat - v->top);
}

rs_err_e rs_report_table(FILE *f, const rs_report_view_t *v, const rs_run_info_t *run)
{
    const rs_stats_t *st = v->st;
    char a[32], b[32], c[32], d[32];
    rs_num(a, sizeof a, st->documents);
    rs_num(b, sizeof b, st->bytes);
    rs_num(c, sizeof c, st->tokens);
    rs_num(d, sizeof d, st->terms.n);
    fprintf(f, "Corpus: %s documents, %s bytes, %s tokens, %s types", a, b, c, d);
    rs_num(a, sizeof a, st->turns);
    fprintf(f, ", %s turns, %zu speakers", a, st->speakers.n);
    if (st->invalid_bytes) {
        rs_num(a, sizeof a, st->invalid_bytes);
        fprintf(f, ", %s invalid UTF-8 bytes", a);
    }
    fprintf(f, "\n        %.2f s on %s (%u thread%s)\n", run->seconds, run->backend, run->threads,
            run->threads == 1 ? "" : "s");
    if (run->partial)
        fputs("PARTIAL: interrupted; these counts cover only the documents finished before the stop\n", f);

    if (st->speakers.n) {
        fprintf(f, "\n%-28s %9s %12s %7s %9s %6s\n", "Speaker", "turns", "tokens", "share", "questions", "docs");
        for (size_t i = 0; i < st->speakers.n && i < v->top; i++) {
            const rs_speaker_val_t *sv = rs_dict_val(&st->speakers, v->speakers[i]);
            rs_num(a, sizeof a, sv->turns);
            rs_num(b, sizeof b, sv->tokens);
            rs_num(c, sizeof c, sv->questions);
            rs_num(d, sizeof d, sv->docs);
            rs_cell(f, rs_dict_key(&st->speakers, v->speakers[i], NULL), 28);
            fprintf(f, " %9s %12s %6.1f%% %9s %6s\n", a, b, 100.0 * rs_share(sv->tokens, st->labelled_tokens), c, d);
        }
        if (st->speakers.n > v->top)
            fprintf(f, "  ... %zu more (--top, --json or --csv for all)\n", st->speakers.n - v->top);
    }
    rs_table_lex(f, v, &st->topics, v->topics, v->topic_order, "Topic");
    rs_table_lex(f, v, &st->entities, v->entities, v->entity_order, "Entity");

    if (v->nterms) {
        fprintf(f, "\n%-28s %12s %9s   %-28s %12s\n", "Term", "count", "docs", "Bigram", "count");
        const size_t rows = v->nterms > v->nbigrams ? v->nterms : v->nbigrams;
        for (size_t i = 0; i < rows; i++) {
            if (i < v->nterms) {
                const rs_term_val_t *tv = rs_dict_val(&st->terms, v->terms[i]);
                rs_num(a, sizeof a, tv->count);
                rs_num(b, sizeof b, tv->docs);
                rs_cell(f, rs_dict_key(&st->terms, v->terms[i], NULL), 28);
                fprintf(f, " %12s %9s   ", a, b);
            } else {
                fprintf(f, "%*s", 28 + 1 + 12 + 1 + 9 + 3, "");
            }
            if (i < v->nbigrams) {
                uint32_t key[2];
                char both[512];
                rs_pair_split(v->bigrams[i].key, &key[0], &key[1]);
                snprintf(both, sizeof both, "%s %s", rs_dict_key(&st->terms, key[0], NULL),
                         rs_dict_key(&st->terms, key[1], NULL));
                rs_num(a, sizeof a, v->bigrams[i].count);
                rs_cell(f, both, 28);
                fprintf(f, " %12s", a);
            }
            fputc('\n', f);
        }
    }
    if (st->skipped.n) {
        fprintf(f, "\nSkipped (%zu):\n", st->skipped.n);
        for (size_t i = 0; i < st->skipped.n; i++)
            fprintf(f, "  %s\n", st->skipped.v[v->skipped[i]].message);
    }
    return ferror(f) ? RS_ERR_IO : RS_OK;
}
