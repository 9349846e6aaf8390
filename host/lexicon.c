/*
 * lexicon.c - reads topic and entity dictionaries (quanteda YAML, LIWC .dic,
 * Lexicoder .lc3/.lcd, TSV) into an rs_lexicon_t. docs/lexicons.md gives the
 * rules for each format in words; this file is their implementation.
 *
 * DESIGN
 *
 * A load never touches the caller's lexicon until the whole file has been
 * read and checked. The bytes are checked first (UTF-8 BOM dropped, any NUL
 * byte or invalid UTF-8 is an error naming its line), then the format's
 * parser fills a private builder: a temporary rs_lexicon_t plus two hash
 * indexes (category name -> index, and (category, pattern) pairs, used to
 * drop duplicates as they come). Only when parsing succeeded is the builder
 * merged into the caller's lexicon, in two phases: first everything that
 * can fail (indexes over the caller's categories, room in every array that
 * will grow), then the moves, which cannot fail. A failure in the first
 * phase may have enlarged some arrays' capacity but changes no category,
 * pattern, warning or digest, so "lex is left as it was" holds for
 * RS_ERR_NOMEM too.
 *
 * Ownership: the lexicon owns every string in it (category names, pattern
 * texts, warnings). Strings are moved, never copied, from the builder into
 * the lexicon; the hash indexes only borrow pointers to them and live no
 * longer than one call. Pointers to strings stay valid when the arrays that
 * hold them are reallocated, which is what lets the indexes borrow them.
 *
 * Threads: no global state; one thread at a time per lexicon while loading,
 * any number of readers afterwards. The library never prints: problems
 * become an rs_error_t ("path:line: what is wrong") or, when they are not
 * fatal, a warning string kept in the lexicon (rs_lexicon_warnings).
 */
#include "lexicon.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h> /* yaml_parser_t, yaml_event_t: libyaml's event API */

#include "hash.h" /* rs_hash64, rs_hash_rotl, rs_hash_fmix, RS_HASH_P1/P2 */

/* Deepest nesting of YAML mappings accepted ("a/b/c/..."). */
#define RS_LEX_YAML_DEPTH_MAX 64
/* Longest piece of the input quoted in a message, in bytes. */
#define RS_LEX_QUOTE_MAX 60
/* Name used in messages when rs_lexicon_load_mem is given none. */
#define RS_LEX_NONAME "<memory>"

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */

static int rs_lex_is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Narrows s[0..*n) to drop surrounding ASCII white space. */
static void rs_lex_trim(const char **s, size_t *n)
{
    const char *p = *s;
    size_t len = *n;
    while (len > 0 && rs_lex_is_space((unsigned char)p[0])) {
        p++;
        len--;
    }
    while (len > 0 && rs_lex_is_space((unsigned char)p[len - 1]))
        len--;
    *s = p;
    *n = len;
}

/* New NUL-terminated copy of s[0..n); NULL when out of memory. */
static char *rs_lex_strndup(const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *d = malloc(n + 1);
    if (d) {
        if (n)
            memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Returns p grown to hold at least need elements of elem bytes (updating
 * *cap), p itself when it already does, or NULL when out of memory (p and
 * *cap are then untouched). need must be > 0. */
static void *rs_lex_reserve(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap && p)
        return p;
    size_t nc = *cap ? *cap : 8;
    while (nc < need) {
        if (nc > SIZE_MAX / 2)
            return NULL;
        nc *= 2;
    }
    if (nc > SIZE_MAX / elem)
        return NULL;
    void *q = realloc(p, nc * elem);
    if (q)
        *cap = nc;
    return q;
}

/* How many bytes of s[0..n) to quote in a message: at most
 * RS_LEX_QUOTE_MAX, never cutting a UTF-8 sequence in two. */
static int rs_lex_quote_len(const char *s, size_t n)
{
    if (n <= RS_LEX_QUOTE_MAX)
        return (int)n;
    size_t k = RS_LEX_QUOTE_MAX;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    return (int)k;
}

static uint32_t rs_lex_line_u32(size_t line)
{
    return line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
}

/* ------------------------------------------------------------------------ */
/* Hash index of borrowed strings                                           */

/* One open-addressing table serves both indexes: a slot holds a borrowed
 * key, a tag (the category index for patterns, 0 for category names), and
 * a value (the category index for names). key == NULL marks an empty slot. */
typedef struct rs_lex_slot {
    uint64_t h;
    const char *key;
    size_t tag;
    size_t val;
} rs_lex_slot_t;

typedef struct rs_lex_table {
    rs_lex_slot_t *slot;
    size_t n, cap; /* cap is 0 or a power of two */
} rs_lex_table_t;

static uint64_t rs_lex_key_hash(const char *key, size_t tag)
{
    return rs_hash_fmix(rs_hash64(key, strlen(key)) ^ (((uint64_t)tag + 1) * RS_HASH_P2));
}

/* The slot holding (key, tag), or the empty slot where it would go; NULL
 * when the table has no slots yet. */
static rs_lex_slot_t *rs_lex_table_find(const rs_lex_table_t *t, uint64_t h, const char *key,
                                        size_t tag)
{
    if (t->cap == 0)
        return NULL;
    const size_t mask = t->cap - 1;
    size_t i = (size_t)h & mask;
    while (t->slot[i].key) {
        const rs_lex_slot_t *s = &t->slot[i];
        if (s->h == h && s->tag == tag && strcmp(s->key, key) == 0)
            break;
        i = (i + 1) & mask;
    }
    return &t->slot[i];
}

/* Looks (key, tag) up; returns its slot or NULL when absent. */
static const rs_lex_slot_t *rs_lex_table_get(const rs_lex_table_t *t, const char *key, size_t tag)
{
    const rs_lex_slot_t *s = rs_lex_table_find(t, rs_lex_key_hash(key, tag), key, tag);
    return s && s->key ? s : NULL;
}

/* Adds (key, tag) -> val, which must not be present yet. Fails only for
 * memory, leaving the table as it was. */
static rs_err_e rs_lex_table_put(rs_lex_table_t *t, const char *key, size_t tag, size_t val)
{
    if ((t->n + 1) * 4 > t->cap * 3) {
        const size_t nc = t->cap ? t->cap * 2 : 16;
        if (nc == 0 || nc > SIZE_MAX / sizeof(rs_lex_slot_t))
            return RS_ERR_NOMEM;
        rs_lex_slot_t *ns = calloc(nc, sizeof *ns);
        if (!ns)
            return RS_ERR_NOMEM;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->slot[i].key)
                continue;
            size_t j = (size_t)t->slot[i].h & (nc - 1);
            while (ns[j].key)
                j = (j + 1) & (nc - 1);
            ns[j] = t->slot[i];
        }
        free(t->slot);
        t->slot = ns;
        t->cap = nc;
    }
    const uint64_t h = rs_lex_key_hash(key, tag);
    rs_lex_slot_t *s = rs_lex_table_find(t, h, key, tag);
    s->h = h;
    s->key = key;
    s->tag = tag;
    s->val = val;
    t->n++;
    return RS_OK;
}

static void rs_lex_table_free(rs_lex_table_t *t)
{
    free(t->slot);
    memset(t, 0, sizeof *t);
}

/* ------------------------------------------------------------------------ */
/* Builder: the temporary lexicon a parser fills                            */

typedef struct rs_lex_build {
    rs_lexicon_t tmp;    /* what this file holds so far */
    rs_lex_table_t cats; /* category name -> index in tmp.cat */
    rs_lex_table_t pats; /* (category index, pattern text) in tmp */
    const char *path;    /* as given, for messages */
    rs_error_t *err;
} rs_lex_build_t;

static rs_err_e rs_lex_nomem(rs_lex_build_t *b)
{
    return rs_error_set(b->err, RS_ERR_NOMEM, "%s: out of memory", b->path);
}

/* Records "path:line: message" as the error and returns RS_ERR_LEXICON. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static rs_err_e rs_lex_fail(rs_lex_build_t *b, uint32_t line, const char *fmt, ...)
{
    char what[RS_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return rs_error_set(b->err, RS_ERR_LEXICON, "%s:%lu: %s", b->path, (unsigned long)line, what);
}

/* Appends the warning "path:line: message" to the builder's lexicon. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static rs_err_e rs_lex_warn(rs_lex_build_t *b, uint32_t line, const char *fmt, ...)
{
    char what[RS_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    rs_lexicon_t *l = &b->tmp;
    void *q = rs_lex_reserve(l->warn, &l->capwarn, l->nwarn + 1, sizeof *l->warn);
    if (!q)
        return rs_lex_nomem(b);
    l->warn = q;
    const int need = snprintf(NULL, 0, "%s:%lu: %s", b->path, (unsigned long)line, what);
    char *msg = need < 0 ? NULL : malloc((size_t)need + 1);
    if (!msg)
        return rs_lex_nomem(b);
    snprintf(msg, (size_t)need + 1, "%s:%lu: %s", b->path, (unsigned long)line, what);
    l->warn[l->nwarn++] = msg;
    return RS_OK;
}

/* Index of the category named s[0..n) (trimmed), created empty at the end
 * when new. An empty name is an error at line. */
static rs_err_e rs_lex_category(rs_lex_build_t *b, const char *s, size_t n, uint32_t line,
                                size_t *idx)
{
    rs_lex_trim(&s, &n);
    if (n == 0)
        return rs_lex_fail(b, line, "empty category name");
    char *name = rs_lex_strndup(s, n);
    if (!name)
        return rs_lex_nomem(b);
    const rs_lex_slot_t *hit = rs_lex_table_get(&b->cats, name, 0);
    if (hit) {
        free(name);
        *idx = hit->val;
        return RS_OK;
    }
    rs_lexicon_t *l = &b->tmp;
    void *q = rs_lex_reserve(l->cat, &l->cap, l->n + 1, sizeof *l->cat);
    if (!q || rs_lex_table_put(&b->cats, name, 0, l->n) != RS_OK) {
        if (q)
            l->cat = q;
        free(name);
        return rs_lex_nomem(b);
    }
    l->cat = q;
    memset(&l->cat[l->n], 0, sizeof l->cat[l->n]);
    l->cat[l->n].name = name;
    *idx = l->n++;
    return RS_OK;
}

/* Turns raw pattern text s[0..n) into *out: trimmed, internal runs of white
 * space collapsed to one space, '*' only at the end of a word. An empty
 * result is an error when empty_ok is 0, and gives *out == NULL otherwise.
 * The caller frees *out. */
static rs_err_e rs_lex_pattern_text(rs_lex_build_t *b, const char *s, size_t n, uint32_t line,
                                    int empty_ok, char **out)
{
    *out = NULL;
    rs_lex_trim(&s, &n);
    if (n == 0) {
        if (empty_ok)
            return RS_OK;
        return rs_lex_fail(b, line, "empty pattern");
    }
    char *t = malloc(n + 1);
    if (!t)
        return rs_lex_nomem(b);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const unsigned char c = (unsigned char)s[i];
        if (rs_lex_is_space(c)) {
            if (t[k - 1] != ' ') /* s is trimmed: k > 0 here */
                t[k++] = ' ';
        } else {
            t[k++] = (char)c;
        }
    }
    t[k] = '\0';
    for (size_t i = 0; i < k; i++) {
        if (t[i] != '*')
            continue;
        const int word_end = t[i + 1] == '\0' || t[i + 1] == ' ';
        const int has_prefix = i > 0 && t[i - 1] != ' ';
        if (!word_end || !has_prefix) {
            free(t);
            return rs_lex_fail(b, line, "'*' is only allowed at the end of a word");
        }
    }
    *out = t;
    return RS_OK;
}

/* Adds a copy of the prepared pattern text to category idx, unless the
 * category already has it. */
static rs_err_e rs_lex_add(rs_lex_build_t *b, size_t idx, const char *text, uint32_t line)
{
    if (rs_lex_table_get(&b->pats, text, idx))
        return RS_OK;
    rs_lex_category_t *c = &b->tmp.cat[idx];
    void *q = rs_lex_reserve(c->pat, &c->cap, c->n + 1, sizeof *c->pat);
    if (!q)
        return rs_lex_nomem(b);
    c->pat = q;
    char *copy = rs_lex_strndup(text, strlen(text));
    if (!copy)
        return rs_lex_nomem(b);
    if (rs_lex_table_put(&b->pats, copy, idx, 0) != RS_OK) {
        free(copy);
        return rs_lex_nomem(b);
    }
    c->pat[c->n].text = copy;
    c->pat[c->n].line = line;
    c->n++;
    return RS_OK;
}

/* rs_lex_pattern_text, then rs_lex_add; an empty pattern is skipped when
 * empty_ok. */
static rs_err_e rs_lex_pattern(rs_lex_build_t *b, size_t idx, const char *s, size_t n,
                               uint32_t line, int empty_ok)
{
    char *t;
    RS_FORWARD(rs_lex_pattern_text(b, s, n, line, empty_ok, &t));
    if (!t)
        return RS_OK;
    const rs_err_e e = rs_lex_add(b, idx, t, line);
    free(t);
    return e;
}

static void rs_lex_build_free(rs_lex_build_t *b)
{
    rs_lexicon_free(&b->tmp);
    rs_lex_table_free(&b->cats);
    rs_lex_table_free(&b->pats);
}

/* ------------------------------------------------------------------------ */
/* Lines and bytes                                                          */

typedef struct rs_lex_cursor {
    const char *p, *end;
    uint32_t no; /* number of the line last returned (1-based) */
} rs_lex_cursor_t;

/* Next line, without its '\n' and a '\r' before it; 0 at the end. */
static int rs_lex_next_line(rs_lex_cursor_t *c, const char **s, size_t *n)
{
    if (c->p >= c->end)
        return 0;
    const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
    const char *stop = nl ? nl : c->end;
    *s = c->p;
    *n = (size_t)(stop - c->p);
    if (*n > 0 && (*s)[*n - 1] == '\r')
        (*n)--;
    c->p = nl ? nl + 1 : c->end;
    if (c->no < UINT32_MAX)
        c->no++;
    return 1;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if none. */
static size_t rs_lex_utf8_len(const unsigned char *p, size_t n)
{
    const unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    unsigned char lo = 0x80, hi = 0xBF;
    size_t len;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F; /* no UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

/* A lexicon must be UTF-8 text: no NUL byte, no invalid sequence. */
static rs_err_e rs_lex_check_bytes(rs_lex_build_t *b, const char *data, size_t len)
{
    const unsigned char *p = (const unsigned char *)data;
    uint32_t line = 1;
    size_t i = 0;
    while (i < len) {
        if (p[i] == '\0')
            return rs_lex_fail(b, line, "NUL byte (a lexicon must be UTF-8 text)");
        if (p[i] == '\n' && line < UINT32_MAX)
            line++;
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        const size_t k = rs_lex_utf8_len(p + i, len - i);
        if (k == 0)
            return rs_lex_fail(b, line, "invalid UTF-8");
        i += k;
    }
    return RS_OK;
}

/* ------------------------------------------------------------------------ */
/* Format detection                                                         */

static int rs_lex_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return 0;
    }
    return *a == *b;
}

static rs_lexfmt_e rs_lex_by_extension(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    const char *dot = strrchr(base, '.');
    if (!dot)
        return RS_LEXFMT_AUTO;
    const char *ext = dot + 1;
    if (rs_lex_ieq(ext, "yml") || rs_lex_ieq(ext, "yaml"))
        return RS_LEXFMT_YAML;
    if (rs_lex_ieq(ext, "dic"))
        return RS_LEXFMT_LIWC;
    if (rs_lex_ieq(ext, "lc3") || rs_lex_ieq(ext, "lcd"))
        return RS_LEXFMT_LEXICODER;
    if (rs_lex_ieq(ext, "tsv") || rs_lex_ieq(ext, "txt"))
        return RS_LEXFMT_TSV;
    return RS_LEXFMT_AUTO;
}

/* First non-blank line "%": LIWC; else a line starting with '+': Lexicoder;
 * else a tab on a line that is not a '#' comment: TSV; else YAML. */
static rs_lexfmt_e rs_lex_by_content(const char *data, size_t len)
{
    rs_lex_cursor_t c = {data, data + len, 0};
    const char *s;
    size_t n;
    int seen_text = 0, plus = 0, tab = 0;
    while (rs_lex_next_line(&c, &s, &n)) {
        const char *t = s;
        size_t tn = n;
        rs_lex_trim(&t, &tn);
        if (tn == 0)
            continue;
        if (!seen_text && tn == 1 && t[0] == '%')
            return RS_LEXFMT_LIWC;
        seen_text = 1;
        if (s[0] == '+')
            plus = 1;
        if (t[0] != '#' && memchr(s, '\t', n))
            tab = 1;
    }
    if (plus)
        return RS_LEXFMT_LEXICODER;
    if (tab)
        return RS_LEXFMT_TSV;
    return RS_LEXFMT_YAML;
}

/* ------------------------------------------------------------------------ */
/* TSV: category<TAB>pattern                                                */

static rs_err_e rs_lex_parse_tsv(rs_lex_build_t *b, const char *data, size_t len)
{
    rs_lex_cursor_t c = {data, data + len, 0};
    const char *s;
    size_t n;
    int first = 1;
    while (rs_lex_next_line(&c, &s, &n)) {
        const char *t = s;
        size_t tn = n;
        rs_lex_trim(&t, &tn);
        if (tn == 0 || t[0] == '#')
            continue;
        if (first) {
            first = 0;
            static const char header[] = "category\tpattern";
            if (n == sizeof header - 1) {
                char buf[sizeof header];
                memcpy(buf, s, n);
                buf[n] = '\0';
                if (rs_lex_ieq(buf, header))
                    continue;
            }
        }
        const char *tab = memchr(s, '\t', n);
        if (!tab)
            return rs_lex_fail(b, c.no, "expected category<TAB>pattern, found no tab");
        size_t idx;
        RS_FORWARD(rs_lex_category(b, s, (size_t)(tab - s), c.no, &idx));
        RS_FORWARD(rs_lex_pattern(b, idx, tab + 1, n - (size_t)(tab - s) - 1, c.no, 0));
    }
    return RS_OK;
}

/* ------------------------------------------------------------------------ */
/* Lexicoder: "+category" lines, then one pattern a line                    */

static rs_err_e rs_lex_parse_lexicoder(rs_lex_build_t *b, const char *data, size_t len)
{
    rs_lex_cursor_t c = {data, data + len, 0};
    const char *s;
    size_t n;
    size_t idx = 0;
    int have_cat = 0;
    while (rs_lex_next_line(&c, &s, &n)) {
        rs_lex_trim(&s, &n);
        if (n == 0)
            continue;
        if (s[0] == '+') {
            RS_FORWARD(rs_lex_category(b, s + 1, n - 1, c.no, &idx));
            have_cat = 1;
            continue;
        }
        if (!have_cat)
            return rs_lex_fail(b, c.no, "pattern before any '+category' line");
        RS_FORWARD(rs_lex_pattern(b, idx, s, n, c.no, 0));
    }
    return RS_OK;
}

/* ------------------------------------------------------------------------ */
/* LIWC .dic: "%" header of "id name" lines "%", then "pattern id id ..."   */

/* Next white-space separated field of s[*pos..n); 0 when there is none.
 * With paren, a field starting with '(' runs to the first ')' and on to the
 * next white space, so that LIWC2007's "(02 134)125/464" is one field. */
static int rs_lex_next_field(const char *s, size_t n, size_t *pos, int paren, const char **f,
                             size_t *fn)
{
    size_t i = *pos;
    while (i < n && rs_lex_is_space((unsigned char)s[i]))
        i++;
    if (i >= n)
        return 0;
    const size_t start = i;
    if (paren && s[i] == '(') {
        while (i < n && s[i] != ')')
            i++;
    }
    while (i < n && !rs_lex_is_space((unsigned char)s[i]))
        i++;
    *f = s + start;
    *fn = i - start;
    *pos = i;
    return 1;
}

/* Copy of a category id; all-digit ids lose leading zeros so that "01"
 * and "1" are the same id. */
static char *rs_lex_liwc_id(const char *f, size_t n)
{
    size_t i = 0;
    while (i < n && f[i] >= '0' && f[i] <= '9')
        i++;
    if (i == n) {
        while (n > 1 && f[0] == '0') {
            f++;
            n--;
        }
    }
    return rs_lex_strndup(f, n);
}

typedef struct rs_lex_liwc {
    rs_lex_table_t ids; /* id -> category index in the builder */
    char **own;         /* the id strings the table borrows */
    size_t n, cap;
} rs_lex_liwc_t;

static void rs_lex_liwc_free(rs_lex_liwc_t *w)
{
    rs_lex_table_free(&w->ids);
    for (size_t i = 0; i < w->n; i++)
        free(w->own[i]);
    free(w->own);
    memset(w, 0, sizeof *w);
}

static rs_err_e rs_lex_liwc_header_line(rs_lex_build_t *b, rs_lex_liwc_t *w, const char *s,
                                        size_t n, uint32_t line)
{
    size_t pos = 0;
    const char *f = s;
    size_t fn = 0;
    rs_lex_next_field(s, n, &pos, 0, &f, &fn); /* s is non-blank */
    const char *name = s + pos;
    size_t nn = n - pos;
    rs_lex_trim(&name, &nn);
    if (nn == 0)
        return rs_lex_fail(b, line, "category id '%.*s' has no name", rs_lex_quote_len(f, fn), f);
    void *q = rs_lex_reserve(w->own, &w->cap, w->n + 1, sizeof *w->own);
    if (!q)
        return rs_lex_nomem(b);
    w->own = q;
    char *id = rs_lex_liwc_id(f, fn);
    if (!id)
        return rs_lex_nomem(b);
    w->own[w->n++] = id;
    if (rs_lex_table_get(&w->ids, id, 0))
        return rs_lex_fail(b, line, "category id '%.*s' is declared twice",
                           rs_lex_quote_len(f, fn), f);
    size_t idx;
    RS_FORWARD(rs_lex_category(b, name, nn, line, &idx));
    if (rs_lex_table_put(&w->ids, id, 0, idx) != RS_OK)
        return rs_lex_nomem(b);
    return RS_OK;
}

static rs_err_e rs_lex_liwc_entry(rs_lex_build_t *b, rs_lex_liwc_t *w, const char *s, size_t n,
                                  uint32_t line)
{
    const char *pat = s;
    size_t pn = 0, pos = 0;
    const char *tab = memchr(s, '\t', n);
    if (tab) { /* LIWC-22: the pattern (maybe a phrase) is before the tab */
        pat = s;
        pn = (size_t)(tab - s);
        pos = pn + 1;
    } else {
        pos = 0;
        rs_lex_next_field(s, n, &pos, 0, &pat, &pn);
    }
    char *text;
    RS_FORWARD(rs_lex_pattern_text(b, pat, pn, line, 0, &text));
    rs_err_e e = RS_OK;
    int fields = 0;
    const char *f;
    size_t fn;
    while (e == RS_OK && rs_lex_next_field(s, n, &pos, 1, &f, &fn)) {
        fields++;
        if (f[0] == '(' || memchr(f, '/', fn)) {
            e = rs_lex_warn(b, line,
                            "conditional category field '%.*s' is not supported; skipped",
                            rs_lex_quote_len(f, fn), f);
            continue;
        }
        char *id = rs_lex_liwc_id(f, fn);
        if (!id) {
            e = rs_lex_nomem(b);
            break;
        }
        const rs_lex_slot_t *hit = rs_lex_table_get(&w->ids, id, 0);
        free(id);
        if (!hit)
            e = rs_lex_fail(b, line, "category id '%.*s' is not declared in the header",
                            rs_lex_quote_len(f, fn), f);
        else
            e = rs_lex_add(b, hit->val, text, line);
    }
    if (e == RS_OK && fields == 0)
        e = rs_lex_warn(b, line, "'%.*s' has no category ids; ignored",
                        rs_lex_quote_len(text, strlen(text)), text);
    free(text);
    return e;
}

static rs_err_e rs_lex_parse_liwc(rs_lex_build_t *b, const char *data, size_t len)
{
    rs_lex_cursor_t c = {data, data + len, 0};
    const char *s;
    size_t n;
    int state = 0; /* 0: before the header, 1: in it, 2: entries */
    uint32_t open_line = 0;
    rs_lex_liwc_t w;
    memset(&w, 0, sizeof w);
    rs_err_e e = RS_OK;
    while (e == RS_OK && rs_lex_next_line(&c, &s, &n)) {
        const char *t = s;
        size_t tn = n;
        rs_lex_trim(&t, &tn);
        if (tn == 0)
            continue;
        const int pct = tn == 1 && t[0] == '%';
        if (state == 0) {
            if (!pct)
                e = rs_lex_fail(b, c.no, "expected a '%%' line to open the category header");
            open_line = c.no;
            state = 1;
        } else if (state == 1) {
            if (pct)
                state = 2;
            else
                e = rs_lex_liwc_header_line(b, &w, t, tn, c.no);
        } else {
            e = rs_lex_liwc_entry(b, &w, s, n, c.no);
        }
    }
    if (e == RS_OK && state == 1)
        e = rs_lex_fail(b, open_line, "the category header opened here has no closing '%%' line");
    rs_lex_liwc_free(&w);
    return e;
}

/* ------------------------------------------------------------------------ */
/* YAML (quanteda dictionary), with libyaml's event API                     */

typedef struct rs_lex_yaml {
    yaml_parser_t parser;
    yaml_event_t ev;
    int have_ev;
    rs_lex_build_t *b;
    const char *data;
    size_t len;
} rs_lex_yaml_t;

static uint32_t rs_lex_yaml_line(const yaml_event_t *ev)
{
    return rs_lex_line_u32(ev->start_mark.line + 1);
}

/* Replaces the current event with the next one. */
static rs_err_e rs_lex_yaml_next(rs_lex_yaml_t *y)
{
    if (y->have_ev) {
        yaml_event_delete(&y->ev);
        y->have_ev = 0;
    }
    if (yaml_parser_parse(&y->parser, &y->ev)) {
        y->have_ev = 1;
        return RS_OK;
    }
    const yaml_parser_t *p = &y->parser;
    if (p->error == YAML_MEMORY_ERROR)
        return rs_lex_nomem(y->b);
    size_t line = p->problem_mark.line + 1;
    if (p->error == YAML_READER_ERROR) { /* has an offset, not a mark */
        line = 1;
        for (size_t i = 0; i < p->problem_offset && i < y->len; i++)
            line += y->data[i] == '\n';
    }
    /* "unexpected end of stream" is marked on the line after a final '\n':
     * name the file's last line instead. */
    size_t last = 0;
    for (size_t i = 0; i < y->len; i++)
        last += y->data[i] == '\n';
    if (y->len > 0 && y->data[y->len - 1] != '\n')
        last++;
    if (last > 0 && line > last)
        line = last;
    const char *problem = p->problem ? p->problem : "syntax error";
    if (p->context)
        return rs_lex_fail(y->b, rs_lex_line_u32(line), "YAML: %s %s", p->context, problem);
    return rs_lex_fail(y->b, rs_lex_line_u32(line), "YAML: %s", problem);
}

static int rs_lex_yaml_is_null(const yaml_event_t *ev)
{
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *v = (const char *)ev->data.scalar.value;
    const size_t n = ev->data.scalar.length;
    return n == 0 || (n == 1 && v[0] == '~') ||
           (n == 4 && (memcmp(v, "null", 4) == 0 || memcmp(v, "Null", 4) == 0 ||
                       memcmp(v, "NULL", 4) == 0));
}

/* A scalar as a C string: one with a NUL in it (a "\0" escape) is refused. */
static rs_err_e rs_lex_yaml_text(rs_lex_yaml_t *y, const char **s, size_t *n)
{
    *s = (const char *)y->ev.data.scalar.value;
    *n = y->ev.data.scalar.length;
    if (memchr(*s, '\0', *n))
        return rs_lex_fail(y->b, rs_lex_yaml_line(&y->ev), "NUL character in a YAML scalar");
    return RS_OK;
}

/* The current event, a pattern scalar, added to category idx. */
static rs_err_e rs_lex_yaml_pattern(rs_lex_yaml_t *y, size_t idx)
{
    if (y->ev.type == YAML_ALIAS_EVENT)
        return rs_lex_fail(y->b, rs_lex_yaml_line(&y->ev), "YAML aliases are not supported");
    if (y->ev.type != YAML_SCALAR_EVENT)
        return rs_lex_fail(y->b, rs_lex_yaml_line(&y->ev),
                           "a pattern must be a single value, not a list or mapping");
    if (rs_lex_yaml_is_null(&y->ev))
        return RS_OK;
    const char *s;
    size_t n;
    RS_FORWARD(rs_lex_yaml_text(y, &s, &n));
    return rs_lex_pattern(y->b, idx, s, n, rs_lex_yaml_line(&y->ev), 1);
}

/* Reads "key: value" pairs up to the end of the mapping whose start is the
 * current event; keys become categories named prefix/key. */
static rs_err_e rs_lex_yaml_mapping(rs_lex_yaml_t *y, const char *prefix, int depth)
{
    for (;;) {
        RS_FORWARD(rs_lex_yaml_next(y));
        if (y->ev.type == YAML_MAPPING_END_EVENT)
            return RS_OK;
        const uint32_t kline = rs_lex_yaml_line(&y->ev);
        if (y->ev.type == YAML_ALIAS_EVENT)
            return rs_lex_fail(y->b, kline, "YAML aliases are not supported");
        if (y->ev.type != YAML_SCALAR_EVENT)
            return rs_lex_fail(y->b, kline,
                               "a category name must be a single value, not a list or mapping");
        const char *k;
        size_t kn;
        RS_FORWARD(rs_lex_yaml_text(y, &k, &kn));
        rs_lex_trim(&k, &kn);
        if (kn == 0)
            return rs_lex_fail(y->b, kline, "empty category name");
        const size_t pn = prefix ? strlen(prefix) + 1 : 0;
        if (kn > SIZE_MAX - pn - 1)
            return rs_lex_nomem(y->b);
        char *name = malloc(pn + kn + 1);
        if (!name)
            return rs_lex_nomem(y->b);
        if (prefix) {
            memcpy(name, prefix, pn - 1);
            name[pn - 1] = '/';
        }
        memcpy(name + pn, k, kn);
        name[pn + kn] = '\0';

        rs_err_e e = rs_lex_yaml_next(y);
        size_t idx = 0;
        if (e != RS_OK) {
            /* nothing more to do */
        } else if (y->ev.type == YAML_SCALAR_EVENT) {
            e = rs_lex_category(y->b, name, pn + kn, kline, &idx);
            if (e == RS_OK)
                e = rs_lex_yaml_pattern(y, idx);
        } else if (y->ev.type == YAML_SEQUENCE_START_EVENT) {
            e = rs_lex_category(y->b, name, pn + kn, kline, &idx);
            while (e == RS_OK) {
                e = rs_lex_yaml_next(y);
                if (e != RS_OK || y->ev.type == YAML_SEQUENCE_END_EVENT)
                    break;
                e = rs_lex_yaml_pattern(y, idx);
            }
        } else if (y->ev.type == YAML_MAPPING_START_EVENT) {
            if (depth >= RS_LEX_YAML_DEPTH_MAX)
                e = rs_lex_fail(y->b, rs_lex_yaml_line(&y->ev),
                                "categories nested more than %d levels deep",
                                RS_LEX_YAML_DEPTH_MAX);
            else
                e = rs_lex_yaml_mapping(y, name, depth + 1);
        } else if (y->ev.type == YAML_ALIAS_EVENT) {
            e = rs_lex_fail(y->b, rs_lex_yaml_line(&y->ev), "YAML aliases are not supported");
        } else {
            e = rs_lex_fail(y->b, rs_lex_yaml_line(&y->ev), "unexpected YAML event");
        }
        free(name);
        if (e != RS_OK)
            return e;
    }
}

static rs_err_e rs_lex_yaml_document(rs_lex_yaml_t *y)
{
    RS_FORWARD(rs_lex_yaml_next(y));
    if (y->ev.type != YAML_STREAM_START_EVENT)
        return rs_lex_fail(y->b, rs_lex_yaml_line(&y->ev), "YAML: no stream start");
    RS_FORWARD(rs_lex_yaml_next(y));
    if (y->ev.type == YAML_STREAM_END_EVENT)
        return RS_OK; /* no document: an empty lexicon */
    if (y->ev.type != YAML_DOCUMENT_START_EVENT)
        return rs_lex_fail(y->b, rs_lex_yaml_line(&y->ev), "YAML: no document start");
    RS_FORWARD(rs_lex_yaml_next(y));
    const uint32_t root_line = rs_lex_yaml_line(&y->ev);
    switch (y->ev.type) {
    case YAML_MAPPING_START_EVENT:
        RS_FORWARD(rs_lex_yaml_mapping(y, NULL, 1));
        break;
    case YAML_SCALAR_EVENT:
        if (!rs_lex_yaml_is_null(&y->ev))
            return rs_lex_fail(y->b, root_line,
                               "expected a mapping of categories at the top level");
        break;
    case YAML_ALIAS_EVENT:
        return rs_lex_fail(y->b, root_line, "YAML aliases are not supported");
    default:
        return rs_lex_fail(y->b, root_line, "expected a mapping of categories at the top level");
    }
    RS_FORWARD(rs_lex_yaml_next(y)); /* document end */
    RS_FORWARD(rs_lex_yaml_next(y));
    if (y->ev.type == YAML_DOCUMENT_START_EVENT)
        return rs_lex_fail(y->b, rs_lex_yaml_line(&y->ev),
                           "only one YAML document is allowed in a lexicon");
    return RS_OK;
}

static rs_err_e rs_lex_parse_yaml(rs_lex_build_t *b, const char *data, size_t len)
{
    rs_lex_yaml_t y;
    memset(&y, 0, sizeof y);
    y.b = b;
    y.data = data;
    y.len = len;
    if (!yaml_parser_initialize(&y.parser))
        return rs_lex_nomem(b);
    yaml_parser_set_input_string(&y.parser, (const unsigned char *)data, len);
    yaml_parser_set_encoding(&y.parser, YAML_UTF8_ENCODING);
    const rs_err_e e = rs_lex_yaml_document(&y);
    if (y.have_ev)
        yaml_event_delete(&y.ev);
    yaml_parser_delete(&y.parser);
    return e;
}

/* ------------------------------------------------------------------------ */
/* Merge and digest                                                         */

static uint64_t rs_lex_mix(uint64_t d, uint64_t v)
{
    return rs_hash_rotl(d ^ (v * RS_HASH_P2), 31) * RS_HASH_P1;
}

/* Order-sensitive digest: the number of categories, then for each its
 * name's hash, its number of patterns and each pattern's hash. A lexicon
 * with no categories has digest 0, as a zeroed one does. */
static uint64_t rs_lex_digest(const rs_lexicon_t *lex)
{
    if (lex->n == 0)
        return 0;
    uint64_t d = rs_lex_mix(RS_HASH_P1, (uint64_t)lex->n);
    for (size_t i = 0; i < lex->n; i++) {
        const rs_lex_category_t *c = &lex->cat[i];
        d = rs_lex_mix(d, rs_hash64(c->name, strlen(c->name)));
        d = rs_lex_mix(d, (uint64_t)c->n);
        for (size_t j = 0; j < c->n; j++)
            d = rs_lex_mix(d, rs_hash64(c->pat[j].text, strlen(c->pat[j].text)));
    }
    return rs_hash_fmix(d);
}

/* Moves what b->tmp holds into lex. Everything that can fail happens before
 * the first move; see DESIGN at the top. */
static rs_err_e rs_lex_merge(rs_lexicon_t *lex, rs_lex_build_t *b)
{
    rs_lexicon_t *tmp = &b->tmp;
    const size_t old_n = lex->n;
    rs_lex_table_t names, have;
    memset(&names, 0, sizeof names);
    memset(&have, 0, sizeof have);
    size_t *map = NULL, *add = NULL;
    rs_err_e e = RS_ERR_NOMEM;

    if (tmp->n) {
        map = malloc(tmp->n * sizeof *map);
        if (!map)
            goto out;
    }
    if (old_n) {
        add = calloc(old_n, sizeof *add);
        if (!add)
            goto out;
    }
    for (size_t i = 0; i < old_n; i++)
        if (rs_lex_table_put(&names, lex->cat[i].name, 0, i) != RS_OK)
            goto out;
    /* Where each new category goes; the existing ones' patterns indexed. */
    size_t fresh = 0;
    for (size_t i = 0; i < tmp->n; i++) {
        const rs_lex_slot_t *hit = rs_lex_table_get(&names, tmp->cat[i].name, 0);
        if (!hit) {
            map[i] = old_n + fresh++;
            continue;
        }
        map[i] = hit->val;
        const rs_lex_category_t *c = &lex->cat[hit->val];
        for (size_t j = 0; j < c->n; j++)
            if (rs_lex_table_put(&have, c->pat[j].text, hit->val, 0) != RS_OK)
                goto out;
    }
    /* Drop patterns an existing category already has; count the rest. */
    for (size_t i = 0; i < tmp->n; i++) {
        if (map[i] >= old_n)
            continue;
        rs_lex_category_t *c = &tmp->cat[i];
        for (size_t j = 0; j < c->n; j++) {
            if (rs_lex_table_get(&have, c->pat[j].text, map[i])) {
                free(c->pat[j].text);
                c->pat[j].text = NULL;
            } else {
                add[map[i]]++;
            }
        }
    }
    /* Room for everything, so that the moves below cannot fail. */
    if (fresh) {
        void *q = rs_lex_reserve(lex->cat, &lex->cap, old_n + fresh, sizeof *lex->cat);
        if (!q)
            goto out;
        lex->cat = q;
    }
    for (size_t i = 0; i < old_n; i++) {
        if (!add[i])
            continue;
        rs_lex_category_t *c = &lex->cat[i];
        void *q = rs_lex_reserve(c->pat, &c->cap, c->n + add[i], sizeof *c->pat);
        if (!q)
            goto out;
        c->pat = q;
    }
    if (tmp->nwarn) {
        void *q = rs_lex_reserve(lex->warn, &lex->capwarn, lex->nwarn + tmp->nwarn,
                                 sizeof *lex->warn);
        if (!q)
            goto out;
        lex->warn = q;
    }

    /* Moves: no failure from here on. */
    for (size_t i = 0; i < tmp->n; i++) {
        rs_lex_category_t *src = &tmp->cat[i];
        if (map[i] >= old_n) {
            lex->cat[lex->n++] = *src;
            memset(src, 0, sizeof *src);
            continue;
        }
        rs_lex_category_t *dst = &lex->cat[map[i]];
        for (size_t j = 0; j < src->n; j++) {
            if (!src->pat[j].text)
                continue;
            dst->pat[dst->n++] = src->pat[j];
            src->pat[j].text = NULL;
        }
    }
    for (size_t i = 0; i < tmp->nwarn; i++) {
        lex->warn[lex->nwarn++] = tmp->warn[i];
        tmp->warn[i] = NULL;
    }
    tmp->nwarn = 0;
    lex->digest = rs_lex_digest(lex);
    e = RS_OK;
out:
    free(map);
    free(add);
    rs_lex_table_free(&names);
    rs_lex_table_free(&have);
    if (e != RS_OK)
        rs_lex_nomem(b);
    return e;
}

/* ------------------------------------------------------------------------ */
/* Public API                                                               */

rs_err_e rs_lexicon_load_mem(rs_lexicon_t *lex, const char *name, const char *data, size_t len,
                             rs_lexfmt_e fmt, rs_error_t *err)
{
    if (!name)
        name = RS_LEX_NONAME;
    RS_RETURN_IF(!lex || (!data && len), err, RS_ERR_USAGE, "%s: no lexicon or no data", name);
    RS_RETURN_IF((unsigned)fmt > (unsigned)RS_LEXFMT_TSV, err, RS_ERR_USAGE,
                 "%s: unknown lexicon format %d", name, (int)fmt);
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        len -= 3;
    }
    rs_lex_build_t b;
    memset(&b, 0, sizeof b);
    b.path = name;
    b.err = err;
    rs_err_e e = rs_lex_check_bytes(&b, data, len);
    size_t blank = 0;
    while (blank < len && (rs_lex_is_space((unsigned char)data[blank]) || data[blank] == '\n'))
        blank++;
    if (e == RS_OK && blank < len) { /* white space only: an empty lexicon */
        if (fmt == RS_LEXFMT_AUTO)
            fmt = rs_lex_by_extension(name);
        if (fmt == RS_LEXFMT_AUTO)
            fmt = rs_lex_by_content(data, len);
        switch (fmt) {
        case RS_LEXFMT_LIWC:
            e = rs_lex_parse_liwc(&b, data, len);
            break;
        case RS_LEXFMT_LEXICODER:
            e = rs_lex_parse_lexicoder(&b, data, len);
            break;
        case RS_LEXFMT_TSV:
            e = rs_lex_parse_tsv(&b, data, len);
            break;
        case RS_LEXFMT_YAML:
        case RS_LEXFMT_AUTO:
        default:
            e = rs_lex_parse_yaml(&b, data, len);
            break;
        }
    }
    if (e == RS_OK)
        e = rs_lex_merge(lex, &b);
    rs_lex_build_free(&b);
    return e;
}

/* Whole file into a malloc'ed buffer (*data is NULL for an empty file). */
static rs_err_e rs_lex_read_file(const char *path, char **data, size_t *len, rs_error_t *err)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return rs_error_set(err, RS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    rs_err_e e = RS_OK;
    for (;;) {
        if (n == cap) {
            void *q = rs_lex_reserve(buf, &cap, cap ? cap + 1 : 65536, 1);
            if (!q) {
                e = rs_error_set(err, RS_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            buf = q;
        }
        const size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                e = rs_error_set(err, RS_ERR_IO, "%s: cannot read: %s", path,
                                 errno ? strerror(errno) : "read error");
            break;
        }
    }
    fclose(f);
    if (e != RS_OK) {
        free(buf);
        return e;
    }
    *data = buf;
    *len = n;
    return RS_OK;
}

rs_err_e rs_lexicon_load(rs_lexicon_t *lex, const char *path, rs_lexfmt_e fmt, rs_error_t *err)
{
    RS_RETURN_IF(!lex || !path, err, RS_ERR_USAGE, "rs_lexicon_load: no lexicon or no path");
    char *data;
    size_t len;
    errno = 0;
    RS_FORWARD(rs_lex_read_file(path, &data, &len, err));
    const rs_err_e e = rs_lexicon_load_mem(lex, path, data, len, fmt, err);
    free(data);
    return e;
}

int rs_lexfmt_parse(const char *s)
{
    static const struct {
        const char *name;
        rs_lexfmt_e fmt;
    } names[] = {
        {"auto", RS_LEXFMT_AUTO}, {"yaml", RS_LEXFMT_YAML},
        {"liwc", RS_LEXFMT_LIWC}, {"lexicoder", RS_LEXFMT_LEXICODER},
        {"tsv", RS_LEXFMT_TSV},
    };
    if (!s)
        return -1;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (rs_lex_ieq(s, names[i].name))
            return (int)names[i].fmt;
    return -1;
}

size_t rs_lexicon_warnings(const rs_lexicon_t *lex, const char *const **msgs)
{
    if (msgs)
        *msgs = lex ? (const char *const *)lex->warn : NULL;
    return lex ? lex->nwarn : 0;
}

void rs_lexicon_free(rs_lexicon_t *lex)
{
    if (!lex)
        return;
    for (size_t i = 0; i < lex->n; i++) {
        rs_lex_category_t *c = &lex->cat[i];
        for (size_t j = 0; j < c->n; j++)
            free(c->pat[j].text);
        free(c->pat);
        free(c->name);
    }
    free(lex->cat);
    for (size_t i = 0; i < lex->nwarn; i++)
        free(lex->warn[i]);
    free(lex->warn);
    memset(lex, 0, sizeof *lex);
}
