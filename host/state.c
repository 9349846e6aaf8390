/*
 * state.c - encoding, decoding, saving, loading and merging state files
 * (state.h; docs/cluster.md has the layout field by field).
 *
 * DESIGN
 * Writing streams through one buffer: in memory mode the buffer is the
 * result and grows; in file mode it is flushed to a temporary file every
 * RS_STATE_WBUF bytes, so saving a large state costs no second copy of it.
 * The body checksum is computed as the bytes go by (rs_sum_t: rs_hash64's
 * word mix, streamed); the header, which holds the body's length, is
 * written last (patched at offset 0).
 *
 * Reading works on one contiguous buffer: a file is mapped read-only (or
 * read whole when it cannot be mapped), every checksum is verified before
 * anything is parsed, and only then is the body decoded into a fresh
 * rs_stats_t and two rs_lexicon_t. Every count is checked against the bytes
 * left before anything is allocated for it, so even a crafted file with a
 * good checksum cannot make a reader allocate more than a small multiple
 * of the file's size. A failed decode frees what it built.
 *
 * No globals: any number of threads may encode or decode different states.
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"    /* rs_hash64, rs_hash_rotl, rs_hash_fmix */
#include "unicode.h" /* rs_unicode_version */

/* Every field of these structs is either written below or derived (the
 * last_doc marks, doc_seq): a field added to one of them must be added to
 * the format (and RS_STATE_FORMAT bumped), or merged reports would silently
 * lose it. Each mirror lists the fields as this file knows them. */
typedef struct { uint64_t count, docs, last_doc; } rs_term_val_mirror_t;
typedef struct { uint64_t turns, tokens, questions, docs, last_doc, talk_ms; } rs_speaker_val_mirror_t;
typedef struct { uint64_t hits, docs, last_doc; } rs_cat_val_mirror_t;
typedef struct { size_t ncat, npat; rs_cat_val_t *cat; uint64_t *pat_hits; rs_dict_t by_speaker; } rs_lexstats_mirror_t;
typedef struct { char *title, *date; rs_strlist_t speakers, tags; } rs_doc_meta_mirror_t;
typedef struct {
    char *path;
    rs_format_e format;
    uint64_t bytes, tokens, turns;
    rs_strlist_t speakers;
    rs_doc_meta_t meta;
} rs_docrec_mirror_t;
typedef struct { char *path, *message; } rs_note_mirror_t;
typedef struct {
    uint64_t documents, bytes, tokens, turns, invalid_bytes, labelled_tokens, doc_seq;
    rs_dict_t terms;
    rs_pairs_t bigrams;
    rs_dict_t speakers;
    rs_lexstats_t topics, entities;
    rs_docrec_t *docs;
    size_t ndocs, docs_cap;
    rs_notes_t skipped, warnings;
} rs_stats_mirror_t;
#define RS_SAME_SIZE(t)                                                                                               \
    _Static_assert(sizeof(t##_t) == sizeof(t##_mirror_t), #t "_t changed: update state.c and docs/cluster.md")
RS_SAME_SIZE(rs_term_val);
RS_SAME_SIZE(rs_speaker_val);
RS_SAME_SIZE(rs_cat_val);
RS_SAME_SIZE(rs_lexstats);
RS_SAME_SIZE(rs_doc_meta);
RS_SAME_SIZE(rs_docrec);
RS_SAME_SIZE(rs_note);
RS_SAME_SIZE(rs_stats);
#undef RS_SAME_SIZE

#define RS_STATE_WBUF (1u << 20)
#define RS_STATE_SUM_SEED 0x5253544154453031ULL /* "RSTATE01" */
#define RS_STATE_NULL_STR UINT32_MAX            /* length of an absent string */

/* --- streamed checksum -------------------------------------------------- */

/* The word-at-a-time mix of the first rs_hash64 (format version 1)
 * applied to a stream: 8-byte little-endian words, the last one
 * zero-padded, the total length folded in at the end. Each step
 * is a bijection of the running value for a fixed word, and injective in
 * the word for a fixed running value, so any change confined to one 8-byte
 * word (a flipped bit or byte) always changes the result. */
typedef struct rs_sum {
    uint64_t h, len;
    uint8_t pend[8];
    unsigned npend;
} rs_sum_t;

static void rs_sum_init(rs_sum_t *s)
{
    memset(s, 0, sizeof *s);
    s->h = RS_STATE_SUM_SEED;
}

static inline uint64_t rs_sum_mix(uint64_t h, uint64_t w)
{
    return rs_hash_rotl(h ^ (w * RS_HASH_P2), 31) * RS_HASH_P1;
}

static void rs_sum_update(rs_sum_t *s, const uint8_t *p, size_t n)
{
    s->len += n;
    if (s->npend) {
        while (n && s->npend < 8) {
            s->pend[s->npend++] = *p++;
            n--;
        }
        if (s->npend < 8)
            return;
        s->h = rs_sum_mix(s->h, rs_hash_load_le(s->pend, 8));
        s->npend = 0;
    }
    uint64_t h = s->h;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        w = __builtin_bswap64(w);
#endif
        h = rs_sum_mix(h, w);
    }
    s->h = h;
    memcpy(s->pend, p, n);
    s->npend = (unsigned)n;
}

static uint64_t rs_sum_final(const rs_sum_t *s)
{
    uint64_t h = s->h;
    if (s->npend)
        h = rs_sum_mix(h, rs_hash_load_le(s->pend, s->npend));
    return rs_hash_fmix(h ^ (s->len * RS_HASH_P1));
}

/* --- little-endian helpers ---------------------------------------------- */

static void rs_put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

const char *rs_state_tokenizer(void)
{
#define RS_STR_(x) #x
#define RS_STR(x) RS_STR_(x)
    /* rs_unicode_version is not a literal: the string is built on a
     * thread's first call, in that thread's own buffer. */
    static const char prefix[] = "rostrum-tokens/" RS_STR(RS_STATE_TOKENIZER_REV) " unicode/";
#undef RS_STR
#undef RS_STR_
    static _Thread_local char buf[64];
    if (!buf[0])
        snprintf(buf, sizeof buf, "%s%s", prefix, rs_unicode_version);
    return buf;
}

/* --- writer --------------------------------------------------------------- */

typedef struct rs_wr {
    uint8_t *buf;
    size_t len, cap;
    int fd;          /* -1: memory mode */
    int in_body;     /* bytes now written are summed */
    uint64_t body;   /* body bytes so far */
    rs_sum_t sum;
    rs_err_e e;      /* first failure; later writes are dropped */
    int errnum;      /* errno of an I/O failure */
} rs_wr_t;

static int rs_write_all(int fd, const uint8_t *p, size_t n, off_t at)
{
    while (n) {
        const ssize_t w = at >= 0 ? pwrite(fd, p, n, at) : write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
        if (at >= 0)
            at += w;
    }
    return 0;
}

static void rs_wr_flush(rs_wr_t *w)
{
    if (w->e != RS_OK || w->fd < 0 || !w->len)
        return;
    if (rs_write_all(w->fd, w->buf, w->len, -1) != 0) {
        w->e = RS_ERR_IO;
        w->errnum = errno;
    }
    w->len = 0;
}

static void rs_wr_put(rs_wr_t *w, const void *p, size_t n)
{
    if (w->e != RS_OK)
        return;
    if (w->in_body) {
        rs_sum_update(&w->sum, p, n);
        w->body += n;
    }
    if (w->fd >= 0 && w->len + n > w->cap) {
        rs_wr_flush(w);
        if (w->e != RS_OK)
            return;
        if (n >= w->cap) { /* larger than the buffer: straight through */
            if (w->e == RS_OK && rs_write_all(w->fd, p, n, -1) != 0) {
                w->e = RS_ERR_IO;
                w->errnum = errno;
            }
            return;
        }
    }
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap < w->len + n)
            cap *= 2;
        uint8_t *b = realloc(w->buf, cap);
        if (!b) {
            w->e = RS_ERR_NOMEM;
            return;
        }
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void rs_wr_u32(rs_wr_t *w, uint32_t v)
{
    uint8_t b[4];
    rs_put_le(b, v, 4);
    rs_wr_put(w, b, 4);
}

static void rs_wr_u64(rs_wr_t *w, uint64_t v)
{
    uint8_t b[8];
    rs_put_le(b, v, 8);
    rs_wr_put(w, b, 8);
}

static void rs_wr_bytes(rs_wr_t *w, const void *p, size_t n)
{
    if (n >= RS_STATE_NULL_STR) { /* cannot be represented */
        if (w->e == RS_OK)
            w->e = RS_ERR_TOO_LARGE;
        return;
    }
    rs_wr_u32(w, (uint32_t)n);
    rs_wr_put(w, p, n);
}

static void rs_wr_str(rs_wr_t *w, const char *s)
{
    rs_wr_bytes(w, s, strlen(s));
}

/* A string that may be NULL (length RS_STATE_NULL_STR). */
static void rs_wr_nstr(rs_wr_t *w, const char *s)
{
    if (s)
        rs_wr_str(w, s);
    else
        rs_wr_u32(w, RS_STATE_NULL_STR);
}

static void rs_wr_strlist(rs_wr_t *w, const rs_strlist_t *l)
{
    rs_wr_u32(w, (uint32_t)l->n);
    for (size_t i = 0; i < l->n; i++)
        rs_wr_str(w, l->s[i]);
}

static size_t rs_lex_npat(const rs_lexicon_t *lex)
{
    size_t n = 0;
    for (size_t i = 0; i < lex->n; i++)
        n += lex->cat[i].n;
    return n;
}

static void rs_wr_lexicon(rs_wr_t *w, const rs_lexicon_t *lex)
{
    rs_wr_u32(w, (uint32_t)lex->n);
    for (size_t i = 0; i < lex->n; i++) {
        const rs_lex_category_t *c = &lex->cat[i];
        rs_wr_str(w, c->name);
        rs_wr_u32(w, (uint32_t)c->n);
        for (size_t j = 0; j < c->n; j++)
            rs_wr_str(w, c->pat[j].text);
    }
}

static void rs_wr_lexstats(rs_wr_t *w, const rs_lexstats_t *l)
{
    rs_wr_u32(w, (uint32_t)l->ncat);
    for (size_t i = 0; i < l->ncat; i++) {
        rs_wr_u64(w, l->cat[i].hits);
        rs_wr_u64(w, l->cat[i].docs);
    }
    rs_wr_u32(w, (uint32_t)l->npat);
    for (size_t i = 0; i < l->npat; i++)
        rs_wr_u64(w, l->pat_hits[i]);
    rs_wr_u64(w, l->by_speaker.n);
    for (size_t i = 0; i < l->by_speaker.n; i++) {
        uint32_t key[2];
        memcpy(key, rs_dict_key(&l->by_speaker, i, NULL), sizeof key);
        rs_wr_u32(w, key[0]);
        rs_wr_u32(w, key[1]);
        rs_wr_u64(w, *(const uint64_t *)rs_dict_val(&l->by_speaker, i));
    }
}

static void rs_wr_notes(rs_wr_t *w, const rs_notes_t *n)
{
    rs_wr_u64(w, n->n);
    for (size_t i = 0; i < n->n; i++) {
        rs_wr_str(w, n->v[i].path);
        rs_wr_str(w, n->v[i].message);
    }
}

/* The body, in the order docs/cluster.md lists it. */
static void rs_wr_body(rs_wr_t *w, const rs_stats_t *st, const rs_lexicon_t *topics, const rs_lexicon_t *entities)
{
    rs_wr_str(w, RS_VERSION);
    rs_wr_str(w, rs_state_tokenizer());
    rs_wr_u64(w, topics->digest);
    rs_wr_u64(w, entities->digest);
    rs_wr_lexicon(w, topics);
    rs_wr_lexicon(w, entities);

    const uint64_t corpus[6] = {st->documents, st->bytes,         st->tokens,
                                st->turns,     st->invalid_bytes, st->labelled_tokens};
    for (size_t i = 0; i < 6; i++)
        rs_wr_u64(w, corpus[i]);

    rs_wr_u64(w, st->terms.n);
    for (size_t i = 0; i < st->terms.n && w->e == RS_OK; i++) {
        size_t len;
        const char *k = rs_dict_key(&st->terms, i, &len);
        const rs_term_val_t *v = rs_dict_val(&st->terms, i);
        rs_wr_bytes(w, k, len);
        rs_wr_u64(w, v->count);
        rs_wr_u64(w, v->docs);
    }
    rs_wr_u64(w, st->bigrams.n);
    uint64_t pos = 0;
    for (rs_pair_t e; w->e == RS_OK && rs_pairs_next(&st->bigrams, &pos, &e);) {
        uint32_t a, b;
        rs_pair_split(e.key, &a, &b);
        rs_wr_u32(w, a);
        rs_wr_u32(w, b);
        rs_wr_u64(w, e.count);
    }
    rs_wr_u64(w, st->speakers.n);
    for (size_t i = 0; i < st->speakers.n; i++) {
        size_t len;
        const char *k = rs_dict_key(&st->speakers, i, &len);
        const rs_speaker_val_t *v = rs_dict_val(&st->speakers, i);
        rs_wr_bytes(w, k, len);
        rs_wr_u64(w, v->turns);
        rs_wr_u64(w, v->tokens);
        rs_wr_u64(w, v->questions);
        rs_wr_u64(w, v->docs);
        rs_wr_u64(w, v->talk_ms);
    }
    rs_wr_lexstats(w, &st->topics);
    rs_wr_lexstats(w, &st->entities);

    rs_wr_u64(w, st->ndocs);
    for (size_t i = 0; i < st->ndocs && w->e == RS_OK; i++) {
        const rs_docrec_t *d = &st->docs[i];
        rs_wr_str(w, d->path);
        rs_wr_str(w, rs_format_name(d->format)); /* by name: immune to renumbering */
        rs_wr_u64(w, d->bytes);
        rs_wr_u64(w, d->tokens);
        rs_wr_u64(w, d->turns);
        rs_wr_strlist(w, &d->speakers);
        rs_wr_nstr(w, d->meta.title);
        rs_wr_nstr(w, d->meta.date);
        rs_wr_strlist(w, &d->meta.speakers);
        rs_wr_strlist(w, &d->meta.tags);
    }
    rs_wr_notes(w, &st->skipped);
    rs_wr_notes(w, &st->warnings);
}

static void rs_header(uint8_t h[RS_STATE_HEADER_BYTES], uint64_t body_len)
{
    memcpy(h, RS_STATE_MAGIC, RS_STATE_MAGIC_LEN);
    rs_put_le(h + 8, RS_STATE_FORMAT, 4);
    rs_put_le(h + 12, 0, 4); /* flags */
    rs_put_le(h + 16, body_len, 8);
    rs_put_le(h + 24, rs_hash64(h, 24), 8);
}

static rs_err_e rs_check_sizes(const rs_stats_t *st, const rs_lexicon_t *topics, const rs_lexicon_t *entities,
                               rs_error_t *err)
{
    if (st->topics.ncat != topics->n || st->topics.npat != rs_lex_npat(topics) || st->entities.ncat != entities->n
        || st->entities.npat != rs_lex_npat(entities))
        return rs_error_set(err, RS_ERR_INTERNAL, "state: the statistics were not counted with these lexicons");
    return RS_OK;
}

/* Writes header placeholder, body and trailer through w. */
static void rs_wr_all(rs_wr_t *w, const rs_stats_t *st, const rs_lexicon_t *topics, const rs_lexicon_t *entities)
{
    static const uint8_t zero[RS_STATE_HEADER_BYTES];
    rs_sum_init(&w->sum);
    rs_wr_put(w, zero, sizeof zero);
    w->in_body = 1;
    rs_wr_body(w, st, topics, entities);
    w->in_body = 0;
    rs_wr_u64(w, rs_sum_final(&w->sum));
}

rs_err_e rs_state_encode(const rs_stats_t *st, const rs_lexicon_t *topics, const rs_lexicon_t *entities,
                         uint8_t **out, size_t *len, rs_error_t *err)
{
    *out = NULL;
    *len = 0;
    RS_FORWARD(rs_check_sizes(st, topics, entities, err));
    rs_wr_t w = {.fd = -1};
    rs_wr_all(&w, st, topics, entities);
    if (w.e != RS_OK) {
        free(w.buf);
        return rs_error_set(err, w.e, "state: %s", w.e == RS_ERR_NOMEM ? "out of memory" : "a string is too long");
    }
    rs_header(w.buf, w.body);
    *out = w.buf;
    *len = w.len;
    return RS_OK;
}

rs_err_e rs_state_save(const char *path, const rs_stats_t *st, const rs_lexicon_t *topics,
                       const rs_lexicon_t *entities, rs_error_t *err)
{
    RS_FORWARD(rs_check_sizes(st, topics, entities, err));
    const size_t tlen = strlen(path) + 48;
    char *tmp = malloc(tlen);
    if (!tmp)
        return rs_error_set(err, RS_ERR_NOMEM, "%s: out of memory", path);
    int fd = -1;
    for (unsigned k = 0; k < 1000 && fd < 0; k++) {
        snprintf(tmp, tlen, "%s.tmp.%ld.%u", path, (long)getpid(), k);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        const int en = errno;
        free(tmp);
        return rs_error_set(err, RS_ERR_IO, "%s: cannot create a temporary file next to it: %s", path, strerror(en));
    }
    rs_wr_t w = {.fd = fd};
    w.buf = malloc(RS_STATE_WBUF);
    w.cap = RS_STATE_WBUF;
    if (!w.buf)
        w.e = RS_ERR_NOMEM;
    rs_wr_all(&w, st, topics, entities);
    rs_wr_flush(&w);
    free(w.buf);
    if (w.e == RS_OK) {
        uint8_t h[RS_STATE_HEADER_BYTES];
        rs_header(h, w.body);
        if (rs_write_all(fd, h, sizeof h, 0) != 0 || fsync(fd) != 0) {
            w.e = RS_ERR_IO;
            w.errnum = errno;
        }
    }
    if (close(fd) != 0 && w.e == RS_OK) {
        w.e = RS_ERR_IO;
        w.errnum = errno;
    }
    if (w.e == RS_OK && rename(tmp, path) != 0) {
        w.e = RS_ERR_IO;
        w.errnum = errno;
    }
    rs_err_e e = RS_OK;
    if (w.e != RS_OK) {
        unlink(tmp);
        e = rs_error_set(err, w.e, "%s: %s", path,
                         w.e == RS_ERR_IO        ? strerror(w.errnum)
                         : w.e == RS_ERR_NOMEM   ? "out of memory"
                                                 : "a string is too long for a state file");
    }
    free(tmp);
    return e;
}

/* --- reader --------------------------------------------------------------- */

typedef struct rs_rd {
    const uint8_t *p;
    size_t pos, end;
    const char *name;
    rs_error_t *err;
    rs_err_e e; /* first failure; later reads return zeros */
} rs_rd_t;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void rs_rd_fail(rs_rd_t *r, const char *fmt, ...)
{
    if (r->e != RS_OK)
        return;
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    r->e = rs_error_set(r->err, RS_ERR_STATE, "%s: malformed state file: %s (at byte %zu)", r->name, what, r->pos);
}

static void rs_rd_nomem(rs_rd_t *r)
{
    if (r->e == RS_OK)
        r->e = rs_error_set(r->err, RS_ERR_NOMEM, "%s: out of memory reading the state", r->name);
}

static size_t rs_rd_left(const rs_rd_t *r)
{
    return r->end - r->pos;
}

static int rs_rd_need(rs_rd_t *r, size_t n)
{
    if (r->e != RS_OK)
        return 0;
    if (rs_rd_left(r) < n) {
        rs_rd_fail(r, "a field runs past the end of the body");
        return 0;
    }
    return 1;
}

static uint32_t rs_rd_u32(rs_rd_t *r)
{
    if (!rs_rd_need(r, 4))
        return 0;
    const uint32_t v = (uint32_t)rs_hash_load_le(r->p + r->pos, 4);
    r->pos += 4;
    return v;
}

static uint64_t rs_rd_u64(rs_rd_t *r)
{
    if (!rs_rd_need(r, 8))
        return 0;
    const uint64_t v = rs_hash_load_le(r->p + r->pos, 8);
    r->pos += 8;
    return v;
}

/* A count of records of at least min bytes each: refused when the body
 * cannot hold that many (or more than max). */
static size_t rs_rd_count(rs_rd_t *r, uint64_t n, size_t min, uint64_t max, const char *what)
{
    if (r->e != RS_OK)
        return 0;
    if (n > max || n > rs_rd_left(r) / min) {
        rs_rd_fail(r, "%llu %s cannot fit", (unsigned long long)n, what);
        return 0;
    }
    return (size_t)n;
}

/* Bytes of a string in the buffer (not NUL-terminated); *null set when
 * absent (only allowed with nullable). NULL on failure. */
static const char *rs_rd_bytes(rs_rd_t *r, size_t *len, int nullable, int *null)
{
    const uint32_t n = rs_rd_u32(r);
    *len = 0;
    if (null)
        *null = 0;
    if (r->e != RS_OK)
        return NULL;
    if (n == RS_STATE_NULL_STR) {
        if (!nullable) {
            rs_rd_fail(r, "a missing string where one is required");
            return NULL;
        }
        *null = 1;
        return NULL;
    }
    if (!rs_rd_need(r, n))
        return NULL;
    const char *s = (const char *)r->p + r->pos;
    if (memchr(s, '\0', n)) {
        rs_rd_fail(r, "a string holds a NUL byte");
        return NULL;
    }
    r->pos += n;
    *len = n;
    return s;
}

/* A new NUL-terminated copy; NULL on failure or when absent. */
static char *rs_rd_strdup(rs_rd_t *r, int nullable)
{
    size_t n;
    int null = 0;
    const char *s = rs_rd_bytes(r, &n, nullable, &null);
    if (r->e != RS_OK || null)
        return NULL;
    char *c = malloc(n + 1);
    if (!c) {
        rs_rd_nomem(r);
        return NULL;
    }
    memcpy(c, s, n);
    c[n] = '\0';
    return c;
}

static void rs_rd_strlist(rs_rd_t *r, rs_strlist_t *l)
{
    const size_t n = rs_rd_count(r, rs_rd_u32(r), 4, UINT32_MAX, "strings in a list");
    for (size_t i = 0; i < n && r->e == RS_OK; i++) {
        size_t len;
        const char *s = rs_rd_bytes(r, &len, 0, NULL);
        if (s && rs_strlist_push(l, s, len) < 0)
            rs_rd_nomem(r);
    }
}

static void rs_rd_lexicon(rs_rd_t *r, rs_lexicon_t *lex, const char *which)
{
    const size_t n = rs_rd_count(r, rs_rd_u32(r), 8, UINT32_MAX, which);
    if (r->e != RS_OK || !n)
        return;
    lex->cat = calloc(n, sizeof *lex->cat);
    if (!lex->cat) {
        rs_rd_nomem(r);
        return;
    }
    lex->cap = n;
    for (size_t i = 0; i < n && r->e == RS_OK; i++) {
        rs_lex_category_t *c = &lex->cat[i];
        c->name = rs_rd_strdup(r, 0);
        if (!c->name)
            return;
        lex->n++;
        const size_t np = rs_rd_count(r, rs_rd_u32(r), 4, UINT32_MAX, "patterns");
        if (r->e != RS_OK || !np)
            continue;
        c->pat = calloc(np, sizeof *c->pat);
        if (!c->pat) {
            rs_rd_nomem(r);
            return;
        }
        c->cap = np;
        for (size_t j = 0; j < np && r->e == RS_OK; j++) {
            c->pat[j].text = rs_rd_strdup(r, 0);
            if (c->pat[j].text)
                c->n++;
        }
    }
}

/* Reads one key into d; refuses a key already there. */
static int64_t rs_rd_key(rs_rd_t *r, rs_dict_t *d, const void *key, size_t len, const char *what)
{
    int created = 0;
    const int64_t id = rs_dict_put(d, key, len, rs_hash64(key, len), &created);
    if (id < 0) {
        rs_rd_nomem(r);
        return -1;
    }
    if (!created) {
        rs_rd_fail(r, "%s listed twice", what);
        return -1;
    }
    return id;
}

static void rs_rd_lexstats(rs_rd_t *r, rs_lexstats_t *l, size_t nspeakers, const char *which)
{
    const uint32_t ncat = rs_rd_u32(r);
    if (r->e == RS_OK && ncat != l->ncat) {
        rs_rd_fail(r, "%u %s categories counted, the lexicon has %zu", (unsigned)ncat, which, l->ncat);
        return;
    }
    if (!rs_rd_need(r, (size_t)ncat * 16))
        return;
    for (size_t i = 0; i < ncat; i++) {
        l->cat[i].hits = rs_rd_u64(r);
        l->cat[i].docs = rs_rd_u64(r);
    }
    const uint32_t npat = rs_rd_u32(r);
    if (r->e == RS_OK && npat != l->npat) {
        rs_rd_fail(r, "%u %s patterns counted, the lexicon has %zu", (unsigned)npat, which, l->npat);
        return;
    }
    if (!rs_rd_need(r, (size_t)npat * 8))
        return;
    for (size_t i = 0; i < npat; i++)
        l->pat_hits[i] = rs_rd_u64(r);
    const size_t nby = rs_rd_count(r, rs_rd_u64(r), 16, UINT32_MAX - 1, "category-speaker pairs");
    for (size_t i = 0; i < nby && r->e == RS_OK; i++) {
        const uint32_t key[2] = {rs_rd_u32(r), rs_rd_u32(r)};
        const uint64_t hits = rs_rd_u64(r);
        if (r->e != RS_OK)
            return;
        if (key[0] >= l->ncat || key[1] >= nspeakers) {
            rs_rd_fail(r, "%s category-speaker pair (%u, %u) out of range", which, (unsigned)key[0],
                       (unsigned)key[1]);
            return;
        }
        const int64_t id = rs_rd_key(r, &l->by_speaker, key, sizeof key, "a category-speaker pair");
        if (id >= 0)
            *(uint64_t *)rs_dict_val(&l->by_speaker, (size_t)id) = hits;
    }
}

static void rs_rd_notes(rs_rd_t *r, rs_notes_t *notes, const char *what)
{
    const size_t n = rs_rd_count(r, rs_rd_u64(r), 8, UINT32_MAX, what);
    for (size_t i = 0; i < n && r->e == RS_OK; i++) {
        char *path = rs_rd_strdup(r, 0);
        char *msg = rs_rd_strdup(r, 0);
        if (path && msg && rs_notes_add(notes, path, msg) != RS_OK)
            rs_rd_nomem(r);
        free(path);
        free(msg);
    }
}

static void rs_rd_docs(rs_rd_t *r, rs_stats_t *st)
{
    const size_t n = rs_rd_count(r, rs_rd_u64(r), 52, UINT32_MAX, "document records");
    for (size_t i = 0; i < n && r->e == RS_OK; i++) {
        rs_docrec_t *d = rs_stats_add_doc(st);
        if (!d) {
            rs_rd_nomem(r);
            return;
        }
        d->path = rs_rd_strdup(r, 0);
        size_t flen;
        const char *fs = rs_rd_bytes(r, &flen, 0, NULL);
        char fname[32] = "";
        if (fs && flen < sizeof fname)
            memcpy(fname, fs, flen);
        const int fmt = r->e == RS_OK ? rs_format_parse(fname) : 0;
        if (fmt < 0) {
            rs_rd_fail(r, "document format '%s' unknown to this rostrum", fname);
            return;
        }
        d->format = (rs_format_e)fmt;
        d->bytes = rs_rd_u64(r);
        d->tokens = rs_rd_u64(r);
        d->turns = rs_rd_u64(r);
        rs_rd_strlist(r, &d->speakers);
        d->meta.title = rs_rd_strdup(r, 1);
        d->meta.date = rs_rd_strdup(r, 1);
        rs_rd_strlist(r, &d->meta.speakers);
        rs_rd_strlist(r, &d->meta.tags);
    }
}

static void rs_rd_body(rs_rd_t *r, rs_state_t *s)
{
    s->version = rs_rd_strdup(r, 0);
    s->tokenizer = rs_rd_strdup(r, 0);
    const uint64_t tdig = rs_rd_u64(r), edig = rs_rd_u64(r);
    rs_rd_lexicon(r, &s->topics, "topic categories");
    rs_rd_lexicon(r, &s->entities, "entity categories");
    if (r->e != RS_OK)
        return;
    s->topics.digest = tdig;
    s->entities.digest = edig;
    if (rs_stats_init(&s->stats, s->topics.n, rs_lex_npat(&s->topics), s->entities.n, rs_lex_npat(&s->entities))
        != RS_OK) {
        rs_rd_nomem(r);
        return;
    }
    rs_stats_t *st = &s->stats;
    st->documents = rs_rd_u64(r);
    st->bytes = rs_rd_u64(r);
    st->tokens = rs_rd_u64(r);
    st->turns = rs_rd_u64(r);
    st->invalid_bytes = rs_rd_u64(r);
    st->labelled_tokens = rs_rd_u64(r);

    const size_t nterms = rs_rd_count(r, rs_rd_u64(r), 20, UINT32_MAX - 1, "terms");
    for (size_t i = 0; i < nterms && r->e == RS_OK; i++) {
        size_t len;
        const char *k = rs_rd_bytes(r, &len, 0, NULL);
        const uint64_t count = rs_rd_u64(r), docs = rs_rd_u64(r);
        if (r->e != RS_OK)
            return;
        const int64_t id = rs_rd_key(r, &st->terms, k, len, "a term");
        if (id >= 0)
            *(rs_term_val_t *)rs_dict_val(&st->terms, (size_t)id) = (rs_term_val_t){count, docs, 0};
    }
    const size_t nbig = rs_rd_count(r, rs_rd_u64(r), 16, UINT32_MAX - 1, "bigrams");
    for (size_t i = 0; i < nbig && r->e == RS_OK; i++) {
        const uint32_t a = rs_rd_u32(r), b = rs_rd_u32(r);
        const uint64_t count = rs_rd_u64(r);
        if (r->e != RS_OK)
            return;
        if (a >= nterms || b >= nterms) {
            rs_rd_fail(r, "bigram (%u, %u) names a term out of range", (unsigned)a, (unsigned)b);
            return;
        }
        if (count == 0) {
            rs_rd_fail(r, "bigram (%u, %u) is counted 0 times", (unsigned)a, (unsigned)b);
            return;
        }
        const uint64_t key = rs_pair_key(a, b), hash = rs_stats_bigram_hash(st, key);
        if (rs_pairs_get(&st->bigrams, key, hash)) {
            rs_rd_fail(r, "a bigram listed twice");
            return;
        }
        if (rs_pairs_add(&st->bigrams, key, hash, count) != 0) {
            rs_rd_nomem(r);
            return;
        }
    }
    const size_t nspk = rs_rd_count(r, rs_rd_u64(r), 44, UINT32_MAX - 1, "speakers");
    for (size_t i = 0; i < nspk && r->e == RS_OK; i++) {
        size_t len;
        const char *k = rs_rd_bytes(r, &len, 0, NULL);
        rs_speaker_val_t v = {0};
        v.turns = rs_rd_u64(r);
        v.tokens = rs_rd_u64(r);
        v.questions = rs_rd_u64(r);
        v.docs = rs_rd_u64(r);
        v.talk_ms = rs_rd_u64(r);
        if (r->e != RS_OK)
            return;
        const int64_t id = rs_rd_key(r, &st->speakers, k, len, "a speaker");
        if (id >= 0)
            *(rs_speaker_val_t *)rs_dict_val(&st->speakers, (size_t)id) = v;
    }
    rs_rd_lexstats(r, &st->topics, nspk, "topics");
    rs_rd_lexstats(r, &st->entities, nspk, "entities");
    rs_rd_docs(r, st);
    rs_rd_notes(r, &st->skipped, "skipped notes");
    rs_rd_notes(r, &st->warnings, "warnings");
    if (r->e == RS_OK && r->pos != r->end)
        rs_rd_fail(r, "%zu bytes left over after the last section", r->end - r->pos);
}

rs_err_e rs_state_decode(rs_state_t *s, const uint8_t *buf, size_t len, const char *name, rs_error_t *err)
{
    memset(s, 0, sizeof *s);
    if (len == 0)
        return rs_error_set(err, RS_ERR_STATE, "%s: empty file, not a rostrum state", name);
    const size_t m = len < RS_STATE_MAGIC_LEN ? len : RS_STATE_MAGIC_LEN;
    if (memcmp(buf, RS_STATE_MAGIC, m) != 0)
        return rs_error_set(err, RS_ERR_STATE, "%s: not a rostrum state file (wrong magic number)", name);
    if (len < 12)
        return rs_error_set(err, RS_ERR_STATE, "%s: truncated: %zu bytes, shorter than the %d-byte header", name,
                            len, RS_STATE_HEADER_BYTES);
    const uint32_t version = (uint32_t)rs_hash_load_le(buf + 8, 4);
    if (version != RS_STATE_FORMAT)
        return rs_error_set(err, RS_ERR_STATE,
                            "%s: state format version %u; this rostrum (%s) reads version %d only", name, (unsigned)version,
                            RS_VERSION, RS_STATE_FORMAT);
    if (len < RS_STATE_HEADER_BYTES)
        return rs_error_set(err, RS_ERR_STATE, "%s: truncated: %zu bytes, shorter than the %d-byte header", name,
                            len, RS_STATE_HEADER_BYTES);
    if (rs_hash_load_le(buf + 24, 8) != rs_hash64(buf, 24))
        return rs_error_set(err, RS_ERR_STATE, "%s: corrupted: header checksum mismatch", name);
    const uint32_t flags = (uint32_t)rs_hash_load_le(buf + 12, 4);
    if (flags != 0)
        return rs_error_set(err, RS_ERR_STATE, "%s: unsupported state flags 0x%x", name, (unsigned)flags);
    const uint64_t body = rs_hash_load_le(buf + 16, 8);
    const uint64_t room = (uint64_t)(len - RS_STATE_HEADER_BYTES);
    if (body > room || room - body < RS_STATE_TRAILER_BYTES)
        return rs_error_set(err, RS_ERR_STATE, "%s: truncated: %zu bytes, the header says %llu", name, len,
                            (unsigned long long)body + RS_STATE_HEADER_BYTES + RS_STATE_TRAILER_BYTES);
    if (room - body > RS_STATE_TRAILER_BYTES)
        return rs_error_set(err, RS_ERR_STATE, "%s: corrupted: %llu unexpected bytes after the end of the state",
                            name, (unsigned long long)(room - body - RS_STATE_TRAILER_BYTES));
    rs_sum_t sum;
    rs_sum_init(&sum);
    rs_sum_update(&sum, buf + RS_STATE_HEADER_BYTES, (size_t)body);
    if (rs_sum_final(&sum) != rs_hash_load_le(buf + RS_STATE_HEADER_BYTES + body, 8))
        return rs_error_set(err, RS_ERR_STATE, "%s: corrupted: checksum mismatch (the file was damaged after it was written)",
                            name);

    rs_rd_t r = {.p = buf, .pos = RS_STATE_HEADER_BYTES, .end = RS_STATE_HEADER_BYTES + (size_t)body, .name = name,
                 .err = err};
    rs_rd_body(&r, s);
    if (r.e != RS_OK) {
        rs_state_free(s);
        return r.e;
    }
    return RS_OK;
}

rs_err_e rs_state_load(rs_state_t *s, const char *path, rs_error_t *err)
{
    memset(s, 0, sizeof *s);
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return rs_error_set(err, RS_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        const int en = errno;
        close(fd);
        return rs_error_set(err, RS_ERR_IO, "%s: %s", path, strerror(en));
    }
    if (S_ISDIR(sb.st_mode)) {
        close(fd);
        return rs_error_set(err, RS_ERR_IO, "%s: is a directory, not a state file", path);
    }
    if (S_ISREG(sb.st_mode) && sb.st_size > 0) {
        const size_t len = (size_t)sb.st_size;
        void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map != MAP_FAILED) {
            close(fd);
            const rs_err_e e = rs_state_decode(s, map, len, path, err);
            munmap(map, len);
            return e;
        }
    }
    /* not mappable (a pipe, an empty file, a file system without mmap) */
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    rs_err_e e = RS_OK;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 1u << 16;
            uint8_t *b = realloc(buf, cap);
            if (!b) {
                e = rs_error_set(err, RS_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            buf = b;
        }
        const ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            e = rs_error_set(err, RS_ERR_IO, "%s: %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (e == RS_OK)
        e = rs_state_decode(s, buf, len, path, err);
    free(buf);
    return e;
}

rs_err_e rs_state_merge(rs_state_t *dst, const char *dst_name, rs_state_t *src, const char *src_name,
                        rs_error_t *err)
{
    if (strcmp(dst->tokenizer, src->tokenizer) != 0)
        return rs_error_set(err, RS_ERR_STATE,
                            "cannot merge %s with %s: they were tokenized differently ('%s' in %s, '%s' in %s)",
                            src_name, dst_name, src->tokenizer, src_name, dst->tokenizer, dst_name);
    const struct {
        const char *what, *option;
        const rs_lexicon_t *a, *b;
        const rs_lexstats_t *sa, *sb;
    } lex[2] = {
        {"topics", "--topics", &dst->topics, &src->topics, &dst->stats.topics, &src->stats.topics},
        {"entities", "--entities", &dst->entities, &src->entities, &dst->stats.entities, &src->stats.entities},
    };
    for (size_t i = 0; i < 2; i++)
        if (lex[i].a->digest != lex[i].b->digest || lex[i].sa->ncat != lex[i].sb->ncat
            || lex[i].sa->npat != lex[i].sb->npat)
            return rs_error_set(err, RS_ERR_STATE,
                                "cannot merge %s with %s: they were counted with different %s lexicons "
                                "(digest %016llx in %s, %016llx in %s); scan every part with the same %s files",
                                src_name, dst_name, lex[i].what, (unsigned long long)lex[i].b->digest, src_name,
                                (unsigned long long)lex[i].a->digest, dst_name, lex[i].option);
    const rs_err_e e = rs_stats_merge(&dst->stats, &src->stats);
    if (e != RS_OK)
        return rs_error_set(err, e, "merging %s: %s", src_name, rs_err_str(e));
    return RS_OK;
}

void rs_state_free(rs_state_t *s)
{
    rs_stats_free(&s->stats);
    rs_lexicon_free(&s->topics);
    rs_lexicon_free(&s->entities);
    free(s->version);
    free(s->tokenizer);
    memset(s, 0, sizeof *s);
}
