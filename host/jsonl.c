/*
 * jsonl.c - JSON Lines and Whisper JSON documents (jsonl.h), with json-c.
 *
 * JSON Lines: each line is parsed on its own by one reused tokener; the
 * decoded text of line k is copied to the write position, which never
 * passes the start of line k, so the buffer is rewritten in place. Whisper
 * JSON: the whole document is parsed first, then its segments' texts are
 * written from the start of the buffer. The splitter (rs_jsonl_split) copies
 * lines into one new buffer per group. json-c objects live only while one
 * line (or one document) is handled; the document owns everything else.
 */
#include "jsonl.h"

#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dict.h"     /* rs_dict_t: groups of rs_jsonl_split */
#include "hash.h"     /* rs_hash64 */
#include "subtitle.h" /* rs_turns_t, rs_path_ext */

#define RS_JSON_DEPTH 64
#define RS_BAD_LINES_SHOWN 5

static size_t rs_eol(const uint8_t *s, size_t len, size_t pos)
{
    const uint8_t *nl = memchr(s + pos, '\n', len - pos);
    return nl ? (size_t)(nl - s) : len;
}

static int rs_ws(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* The line [ls, le) without surrounding white space: [*a, *b). */
static void rs_trim(const uint8_t *s, size_t ls, size_t le, size_t *a, size_t *b)
{
    while (ls < le && rs_ws(s[ls]))
        ls++;
    while (le > ls && rs_ws(s[le - 1]))
        le--;
    *a = ls;
    *b = le;
}

#define RS_WHY_MAX 96

/* Parses s[0..len) as exactly one JSON object; NULL with why[] filled if
 * not. */
static json_object *rs_parse_object(json_tokener *tok, const uint8_t *s, size_t len, char why[RS_WHY_MAX])
{
    if (len > INT_MAX) {
        snprintf(why, RS_WHY_MAX, "longer than 2 GiB");
        return NULL;
    }
    json_tokener_reset(tok);
    json_object *o = json_tokener_parse_ex(tok, (const char *)s, (int)len);
    const enum json_tokener_error je = json_tokener_get_error(tok);
    if (!o) {
        if (je == json_tokener_continue || je == json_tokener_success)
            snprintf(why, RS_WHY_MAX, "truncated JSON");
        else
            snprintf(why, RS_WHY_MAX, "invalid JSON at column %zu: %s", json_tokener_get_parse_end(tok) + 1,
                     json_tokener_error_desc(je));
        return NULL;
    }
    for (size_t p = json_tokener_get_parse_end(tok); p < len; p++)
        if (!rs_ws(s[p])) {
            json_object_put(o);
            snprintf(why, RS_WHY_MAX, "text after the JSON value at column %zu", p + 1);
            return NULL;
        }
    if (!json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        snprintf(why, RS_WHY_MAX, "not a JSON object");
        return NULL;
    }
    return o;
}

/* Talk time from numeric start/end (seconds) in o; 0 when absent or odd. */
static uint32_t rs_span_ms(json_object *o)
{
    json_object *a, *b;
    if (!json_object_object_get_ex(o, RS_JSONL_START_KEY, &a) || !json_object_object_get_ex(o, RS_JSONL_END_KEY, &b))
        return 0;
    if (!(json_object_is_type(a, json_type_double) || json_object_is_type(a, json_type_int))
        || !(json_object_is_type(b, json_type_double) || json_object_is_type(b, json_type_int)))
        return 0;
    const double x = json_object_get_double(a), y = json_object_get_double(b);
    if (!isfinite(x) || !isfinite(y) || x < 0 || y < x || y > 4.0e6)
        return 0;
    return (uint32_t)(llround(y * 1000.0) - llround(x * 1000.0));
}

/* A speaker value: a non-empty string or a number, as text; NULL if none. */
static const char *rs_speaker_of(json_object *o, const char *key, size_t *len)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !v)
        return NULL;
    if (!json_object_is_type(v, json_type_string) && !json_object_is_type(v, json_type_int))
        return NULL;
    const char *s = json_object_get_string(v);
    *len = json_object_is_type(v, json_type_string) ? (size_t)json_object_get_string_len(v) : strlen(s);
    return *len ? s : NULL;
}

/* --- bad line reports -------------------------------------------------- */


static void rs_bad(rs_badlines_t *b, size_t line, const char *why)
{
    if (b->n++ < RS_BAD_LINES_SHOWN && b->used < sizeof b->text) {
        const int w = snprintf(b->text + b->used, sizeof b->text - b->used, "%sline %zu (%s)", b->used ? ", " : "",
                               line, why);
        if (w > 0)
            b->used += (size_t)w < sizeof b->text - b->used ? (size_t)w : sizeof b->text - b->used - 1;
    }
}

/* "N bad lines skipped: line 3 (...), ..." or NULL when none (or no memory). */
static char *rs_bad_message(const rs_badlines_t *b)
{
    if (!b->n)
        return NULL;
    char *m = malloc(sizeof b->text + 96);
    if (m)
        snprintf(m, sizeof b->text + 96, "%zu bad JSON line%s skipped: %s%s", b->n, b->n == 1 ? "" : "s", b->text,
                 b->n > RS_BAD_LINES_SHOWN ? ", ..." : "");
    return m;
}

/* --- detection ------------------------------------------------------- */

rs_format_e rs_jsonl_detect(const char *path, const uint8_t *s, size_t len)
{
    const char *ext = path ? rs_path_ext(path) : "";
    const int is_jsonl = strcasecmp(ext, "jsonl") == 0 || strcasecmp(ext, "ndjson") == 0;
    if (is_jsonl)
        return RS_FORMAT_JSONL;
    if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        s += 3, len -= 3;
    size_t p = 0;
    while (p < len && rs_ws(s[p]))
        p++;
    if (p >= len || s[p] != '{')
        return strcasecmp(ext, "json") == 0 ? RS_FORMAT_WHISPER : RS_FORMAT_AUTO;
    /* one object on the first line: JSON Lines, unless it is the only line
     * and has segments[] (Whisper written on one line) */
    const size_t le = rs_eol(s, len, p);
    json_tokener *tok = json_tokener_new_ex(RS_JSON_DEPTH);
    if (!tok)
        return RS_FORMAT_AUTO;
    char why[RS_WHY_MAX];
    json_object *o = rs_parse_object(tok, s + p, le - p, why);
    json_tokener_free(tok);
    if (o) {
        size_t q = le;
        while (q < len && rs_ws(s[q]))
            q++;
        json_object *segs;
        const int more = q < len; /* a second line */
        const int has_segs = json_object_object_get_ex(o, "segments", &segs) && json_object_is_type(segs, json_type_array);
        json_object_put(o);
        /* one object alone: Whisper when it has segments[] or the name ends
         * in .json; several lines: JSON Lines */
        return !more && (has_segs || strcasecmp(ext, "json") == 0) ? RS_FORMAT_WHISPER : RS_FORMAT_JSONL;
    }
    if (strcasecmp(ext, "json") == 0)
        return RS_FORMAT_WHISPER;
    const size_t probe = len - p < 65536 ? len - p : 65536;
    for (size_t i = p; i + 10 <= p + probe; i++)
        if (s[i] == '"' && memcmp(s + i, "\"segments\"", 10) == 0)
            return RS_FORMAT_WHISPER;
    return RS_FORMAT_AUTO;
}

/* --- JSON Lines ------------------------------------------------------ */

/* c: NULL for a whole document; else the carry of one of its pieces (line
 * numbers go on from the pieces before, bad lines are gathered in it and
 * reported with the last piece). */
static rs_err_e rs_parse_jsonl(rs_doc_t *d, rs_carry_t *c, rs_error_t *err)
{
    const char *tkey = d->jsonl && d->jsonl->text ? d->jsonl->text : RS_JSONL_TEXT_KEY;
    const char *skey = d->jsonl && d->jsonl->speaker ? d->jsonl->speaker : RS_JSONL_SPEAKER_KEY;
    json_tokener *tok = json_tokener_new_ex(RS_JSON_DEPTH);
    if (!tok)
        return rs_error_set(err, RS_ERR_NOMEM, "%s: out of memory", d->path);
    rs_turns_t t;
    rs_badlines_t own = {0}, *bad = c ? &c->bad : &own;
    uint8_t *s = d->text;
    const size_t len = d->len;
    size_t w = 0, line = c ? (size_t)c->lines : 0;
    rs_err_e e = rs_turns_init(&t, d);
    for (size_t ls = 0; ls < len && e == RS_OK;) {
        const size_t le = rs_eol(s, len, ls);
        line++;
        size_t a, b;
        rs_trim(s, ls, le, &a, &b);
        const size_t next = le + 1;
        if (a == b) {
            ls = next;
            continue;
        }
        char why[RS_WHY_MAX];
        json_object *o = rs_parse_object(tok, s + a, b - a, why), *tv = NULL;
        if (o && (!json_object_object_get_ex(o, tkey, &tv) || !json_object_is_type(tv, json_type_string))) {
            snprintf(why, sizeof why, "no string \"%.40s\"", tkey);
            json_object_put(o);
            o = NULL;
        }
        if (!o) {
            rs_bad(bad, line, why);
            ls = next;
            continue;
        }
        size_t slen = 0;
        const char *spk = rs_speaker_of(o, skey, &slen);
        int32_t sp = spk ? rs_turns_speaker(&t, (const uint8_t *)spk, slen) : -1;
        const size_t n = (size_t)json_object_get_string_len(tv);
        const uint32_t ms = rs_span_ms(o);
        if (sp == -2) {
            e = RS_ERR_NOMEM;
        } else if (w + n + 1 > le) {
            e = RS_ERR_INTERNAL; /* decoded text longer than its line: cannot happen */
        } else {
            memcpy(s + w, json_object_get_string(tv), n);
            for (size_t i = w; i < w + n; i++)
                if (s[i] == 0)
                    s[i] = ' ';
            e = rs_turns_push(&t, w, w + n, sp, 1, ms);
            w += n;
            s[w++] = '\n';
        }
        json_object_put(o);
        ls = next;
    }
    json_tokener_free(tok);
    rs_turns_free(&t);
    if (c)
        c->lines = line;
    if (e != RS_OK)
        return rs_error_set(err, e, "%s: %s", d->path, rs_err_str(e));
    d->len = w;
    if (bad->n && !d->more && !d->warning && !(d->warning = rs_bad_message(bad)))
        return rs_error_set(err, RS_ERR_NOMEM, "%s: out of memory", d->path);
    return RS_OK;
}

/* --- Whisper JSON ---------------------------------------------------- */

static rs_err_e rs_parse_whisper(rs_doc_t *d, rs_error_t *err)
{
    if (d->len > INT_MAX)
        return rs_error_set(err, RS_ERR_TOO_LARGE, "%s: Whisper JSON over 2 GiB is not supported", d->path);
    json_tokener *tok = json_tokener_new_ex(RS_JSON_DEPTH);
    if (!tok)
        return rs_error_set(err, RS_ERR_NOMEM, "%s: out of memory", d->path);
    char why[RS_WHY_MAX];
    json_object *root = rs_parse_object(tok, d->text, d->len, why);
    json_tokener_free(tok);
    if (!root)
        return rs_error_set(err, RS_ERR_FORMAT, "%s: not a Whisper JSON document (%s)", d->path, why);
    json_object *segs = NULL, *text = NULL;
    const int has_segs = json_object_object_get_ex(root, "segments", &segs) && json_object_is_type(segs, json_type_array);
    const int has_text = json_object_object_get_ex(root, RS_JSONL_TEXT_KEY, &text)
                         && json_object_is_type(text, json_type_string);
    if (!has_segs && !has_text) {
        json_object_put(root);
        return rs_error_set(err, RS_ERR_FORMAT, "%s: JSON without segments[] or a string \"text\" (not a Whisper transcript)",
                            d->path);
    }
    rs_turns_t t;
    uint8_t *s = d->text;
    size_t w = 0, bad = 0, first_bad = 0;
    rs_err_e e = rs_turns_init(&t, d);
    if (e == RS_OK && (!has_segs || (json_object_array_length(segs) == 0 && has_text))) {
        const size_t n = (size_t)json_object_get_string_len(text);
        memcpy(s, json_object_get_string(text), n);
        w = n;
        e = rs_turns_push(&t, 0, w, -1, 0, 0);
    }
    const size_t nseg = (has_segs && d->nseg == 0) ? json_object_array_length(segs) : 0;
    for (size_t i = 0; i < nseg && e == RS_OK; i++) {
        json_object *sg = json_object_array_get_idx(segs, i), *tv;
        if (!json_object_is_type(sg, json_type_object) || !json_object_object_get_ex(sg, "text", &tv)
            || !json_object_is_type(tv, json_type_string)) {
            if (!bad++)
                first_bad = i;
            continue;
        }
        size_t slen = 0;
        const char *spk = rs_speaker_of(sg, RS_JSONL_SPEAKER_KEY, &slen);
        const int32_t sp = spk ? rs_turns_speaker(&t, (const uint8_t *)spk, slen) : -1;
        if (sp == -2) {
            e = RS_ERR_NOMEM;
            break;
        }
        const size_t n = (size_t)json_object_get_string_len(tv);
        if (w + n + 1 > d->len) {
            e = RS_ERR_INTERNAL;
            break;
        }
        const size_t at = w;
        memcpy(s + w, json_object_get_string(tv), n);
        w += n;
        s[w++] = '\n';
        const uint32_t ms = rs_span_ms(sg);
        rs_segment_t *cur = d->nseg ? &d->seg[d->nseg - 1] : NULL;
        /* one speaker's consecutive segments make one turn; unattributed
         * segments join the unattributed text before them */
        if (cur && cur->speaker == sp && cur->is_turn == (sp >= 0)) {
            cur->end = w - 1;
            const uint64_t sum = (uint64_t)cur->ms + ms;
            cur->ms = sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
        } else {
            e = rs_turns_push(&t, at, w - 1, sp, sp >= 0, ms);
        }
    }
    json_object_put(root);
    rs_turns_free(&t);
    if (e != RS_OK)
        return rs_error_set(err, e, "%s: %s", d->path, rs_err_str(e));
    for (size_t i = 0; i < w; i++)
        if (s[i] == 0)
            s[i] = ' ';
    d->len = w;
    if (bad && !d->warning) {
        char m[160];
        snprintf(m, sizeof m, "%zu segment%s without a string \"text\" skipped (first: segments[%zu])", bad,
                 bad == 1 ? "" : "s", first_bad);
        if (!(d->warning = strdup(m)))
            return rs_error_set(err, RS_ERR_NOMEM, "%s: out of memory", d->path);
    }
    return RS_OK;
}

rs_err_e rs_jsonl_parse(rs_doc_t *d, rs_format_e f, rs_error_t *err)
{
    return rs_jsonl_parse_piece(d, f, NULL, err);
}

rs_err_e rs_jsonl_parse_piece(rs_doc_t *d, rs_format_e f, rs_carry_t *carry, rs_error_t *err)
{
    d->format = f;
    if (f == RS_FORMAT_WHISPER)
        return rs_parse_whisper(d, err);
    return rs_parse_jsonl(d, carry, err);
}

/* --- grouping by a document key ---------------------------------------- */

typedef struct rs_group {
    uint8_t *buf;
    size_t len, cap;
    uint64_t bytes;
} rs_group_t;

static rs_err_e rs_group_add(rs_group_t *g, const uint8_t *s, size_t n)
{
    if (g->len + n + 1 > g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 4096;
        while (cap < g->len + n + 1)
            cap *= 2;
        uint8_t *b = realloc(g->buf, cap);
        if (!b)
            return RS_ERR_NOMEM;
        g->buf = b;
        g->cap = cap;
    }
    memcpy(g->buf + g->len, s, n);
    g->len += n;
    g->buf[g->len++] = '\n';
    return RS_OK;
}

rs_err_e rs_jsonl_split(const rs_doc_t *d, const rs_jsonl_keys_t *keys, rs_doc_t **out, size_t *nout,
                        char **warning)
{
    *out = NULL;
    *nout = 0;
    *warning = NULL;
    const char *tkey = keys->text ? keys->text : RS_JSONL_TEXT_KEY;
    const int per_line = keys->doc && strcmp(keys->doc, RS_JSONL_DOC_LINE) == 0;
    json_tokener *tok = json_tokener_new_ex(RS_JSON_DEPTH);
    if (!tok)
        return RS_ERR_NOMEM;
    rs_dict_t names; /* group value -> uint32 index */
    rs_dict_init(&names, sizeof(uint32_t));
    rs_group_t *g = NULL;
    size_t ng = 0, gcap = 0, line = 0;
    uint64_t loose = 0; /* bytes of blank and bad lines */
    rs_badlines_t bad = {0};
    rs_err_e e = RS_OK;
    const uint8_t *s = d->text;
    size_t first = 0;
    if (d->len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        first = 3;
        loose += 3;
    }
    for (size_t ls = first; ls < d->len && e == RS_OK;) {
        const size_t le = rs_eol(s, d->len, ls);
        const size_t next = le + 1;
        line++;
        size_t a, b;
        rs_trim(s, ls, le, &a, &b);
        const uint64_t raw = (le < d->len ? next : le) - ls;
        if (a == b) {
            loose += raw;
            ls = next;
            continue;
        }
        char why[RS_WHY_MAX];
        json_object *o = rs_parse_object(tok, s + a, b - a, why), *tv;
        if (o && (!json_object_object_get_ex(o, tkey, &tv) || !json_object_is_type(tv, json_type_string))) {
            snprintf(why, sizeof why, "no string \"%.40s\"", tkey);
            json_object_put(o);
            o = NULL;
        }
        if (!o) {
            rs_bad(&bad, line, why);
            loose += raw;
            ls = next;
            continue;
        }
        size_t vlen = 0;
        char num[24];
        const char *v;
        if (per_line) {
            vlen = (size_t)snprintf(num, sizeof num, "%zu", line);
            v = num;
        } else if (!(v = rs_speaker_of(o, keys->doc, &vlen))) {
            v = "", vlen = 0;
        }
        int created;
        const int64_t id = rs_dict_put(&names, v, vlen, rs_hash64(v, vlen), &created);
        json_object_put(o);
        if (id < 0) {
            e = RS_ERR_NOMEM;
            break;
        }
        if (created) {
            if (ng == gcap) {
                gcap = gcap ? gcap * 2 : 8;
                rs_group_t *p = realloc(g, gcap * sizeof *p);
                if (!p) {
                    e = RS_ERR_NOMEM;
                    break;
                }
                g = p;
            }
            memset(&g[ng], 0, sizeof g[ng]);
            *(uint32_t *)rs_dict_val(&names, (size_t)id) = (uint32_t)ng++;
        }
        rs_group_t *gr = &g[*(uint32_t *)rs_dict_val(&names, (size_t)id)];
        e = rs_group_add(gr, s + a, b - a);
        gr->bytes += raw;
        ls = next;
    }
    json_tokener_free(tok);
    rs_doc_t *docs = NULL;
    if (e == RS_OK && ng && !(docs = calloc(ng, sizeof *docs)))
        e = RS_ERR_NOMEM;
    const size_t plen = strlen(d->path);
    for (size_t i = 0; i < ng && e == RS_OK; i++) {
        size_t vlen;
        const char *v = rs_dict_key(&names, i, &vlen);
        char *path = malloc(plen + vlen + 2);
        if (!path) {
            e = RS_ERR_NOMEM;
            break;
        }
        memcpy(path, d->path, plen);
        if (vlen) {
            path[plen] = '#';
            memcpy(path + plen + 1, v, vlen);
            path[plen + 1 + vlen] = '\0';
        } else {
            path[plen] = '\0';
        }
        /* dict ids follow first appearance, as the group indexes do */
        rs_group_t *gr = &g[*(uint32_t *)rs_dict_val(&names, i)];
        docs[i].path = path;
        docs[i].text = gr->buf;
        docs[i].len = gr->len;
        docs[i].bytes = gr->bytes + (i == 0 ? loose : 0);
        docs[i].format = RS_FORMAT_JSONL;
        docs[i].jsonl = d->jsonl;
        gr->buf = NULL;
    }
    if (e == RS_OK && bad.n && !(*warning = rs_bad_message(&bad)))
        e = RS_ERR_NOMEM;
    for (size_t i = 0; i < ng; i++)
        free(g[i].buf);
    free(g);
    rs_dict_free(&names);
    if (e != RS_OK) {
        for (size_t i = 0; docs && i < ng; i++) {
            free(docs[i].path);
            free(docs[i].text);
        }
        free(docs);
        free(*warning);
        *warning = NULL;
        return e;
    }
    *out = docs;
    *nout = ng;
    return RS_OK;
}
