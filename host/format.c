/*
 * format.c - format detection and segmentation of one document (format.h).
 *
 * The work is line by line over the document's own buffer: labels and
 * markers found on the original bytes first, then timestamps, labels and
 * link targets overwritten with spaces, so that the tokenizer sees only
 * transcript text. Segment boundaries are byte offsets into the buffer.
 * The document owns everything allocated here; nothing is shared.
 */
#include "format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "dict.h" /* rs_dict_t: speaker names of this document */
#include "hash.h"    /* rs_hash64 */
#include "subtitle.h" /* rs_media_detect, rs_media_parse: SRT, WebVTT, JSON Lines, Whisper; rs_turns_seed */
#include "unicode.h" /* rs_utf8_encode */

/* --- helpers --------------------------------------------------------- */

static size_t rs_line_end(const uint8_t *s, size_t len, size_t pos)
{
    const uint8_t *nl = memchr(s + pos, '\n', len - pos);
    return nl ? (size_t)(nl - s) : len;
}

/* Line length without a trailing CR. */
static size_t rs_line_len(const uint8_t *s, size_t ls, size_t le)
{
    return (le > ls && s[le - 1] == '\r') ? le - ls - 1 : le - ls;
}

/* Markdown label "**Name:**" or "**Name**:" at s[0..len): name length, with
 * *name_at and *text_at set; 0 when none. */
static size_t rs_md_label(const uint8_t *s, size_t len, const rs_headings_t *h, size_t *name_at,
                          size_t *text_at)
{
    if (len < 5 || s[0] != '*' || s[1] != '*')
        return 0;
    const size_t name = rs_label_name(s + 2, len - 2);
    if (!name)
        return 0;
    size_t p = 2 + name;
    if (p + 3 <= len && memcmp(s + p, ":**", 3) == 0) {
        p += 3; /* the closing ** ends the label: text may follow at once */
    } else if (p + 3 <= len && memcmp(s + p, "**:", 3) == 0) {
        p += 3;
        if (p < len && s[p] != ' ' && s[p] != '\t' && s[p] != '\r')
            return 0;
    } else {
        return 0;
    }
    if (h && rs_headings_has(h, s + 2, name))
        return 0;
    *name_at = 2;
    *text_at = p;
    return name;
}

/* Plain label, optionally after a leading timestamp and one space. */
static size_t rs_line_label(const uint8_t *s, size_t len, const rs_headings_t *h, size_t *name_at,
                            size_t *text_at)
{
    size_t p = 0;
    const size_t t = rs_timestamp_len(s, len);
    if (t && t + 1 < len && s[t] == ' ')
        p = t + 1;
    size_t after;
    const size_t name = rs_label_match(s + p, len - p, h, &after);
    if (!name)
        return 0;
    *name_at = p;
    *text_at = p + after;
    return name;
}

static size_t rs_caption_mark(const uint8_t *s, size_t len)
{
    size_t p = 0;
    while (p < len && (s[p] == ' ' || s[p] == '\t'))
        p++;
    if (p + 1 < len && s[p] == '>' && s[p + 1] == '>')
        return p + 1;
    return 0;
}

rs_format_e rs_format_detect(const uint8_t *s, size_t len, const rs_headings_t *h)
{
    if (len > RS_DETECT_BYTES)
        len = RS_DETECT_BYTES;
    size_t md = 0, cap = 0, lab = 0;
    for (size_t ls = 0; ls < len;) {
        const size_t le = rs_line_end(s, len, ls);
        const size_t ll = rs_line_len(s, ls, le);
        size_t a, b;
        if (rs_md_label(s + ls, ll, h, &a, &b))
            md++;
        else if (rs_caption_mark(s + ls, ll))
            cap++;
        else if (rs_line_label(s + ls, ll, h, &a, &b))
            lab++;
        ls = le + 1;
    }
    if (md >= 2)
        return RS_FORMAT_MARKDOWN;
    if (cap >= 2)
        return RS_FORMAT_CAPTION;
    if (lab >= 2)
        return RS_FORMAT_LABELED;
    if (md)
        return RS_FORMAT_MARKDOWN;
    if (cap)
        return RS_FORMAT_CAPTION;
    if (lab)
        return RS_FORMAT_LABELED;
    return RS_FORMAT_PLAIN;
}

/* --- segments -------------------------------------------------------- */

typedef struct rs_parse {
    rs_doc_t *doc;
    rs_dict_t names; /* value: int32_t index into doc->speakers */
    int32_t speaker; /* the first segment's: -1, or carried from the piece before */
    uint8_t is_turn;
} rs_parse_t;

static rs_err_e rs_seg_push(rs_doc_t *d, size_t start, size_t end, int32_t speaker, int is_turn)
{
    if (d->nseg == d->seg_cap) {
        const size_t cap = d->seg_cap ? d->seg_cap * 2 : 16;
        rs_segment_t *s = realloc(d->seg, cap * sizeof *s);
        if (!s)
            return RS_ERR_NOMEM;
        d->seg = s;
        d->seg_cap = cap;
    }
    d->seg[d->nseg++] = (rs_segment_t){.start = start, .end = end, .speaker = speaker, .is_turn = (uint8_t)(is_turn != 0)};
    return RS_OK;
}

/* Closes the open segment (if any) at end. */
static rs_err_e rs_seg_close(rs_doc_t *d, size_t end)
{
    if (d->nseg)
        d->seg[d->nseg - 1].end = end;
    return RS_OK;
}

static int32_t rs_speaker_id(rs_parse_t *ps, const uint8_t *name, size_t len)
{
    int created;
    const int64_t id = rs_dict_put(&ps->names, name, len, rs_hash64(name, len), &created);
    if (id < 0)
        return -2;
    int32_t *v = rs_dict_val(&ps->names, (size_t)id);
    if (created) {
        const int64_t at = rs_strlist_push(&ps->doc->speakers, (const char *)name, len);
        if (at < 0)
            return -2;
        *v = (int32_t)at;
    }
    return *v;
}

/* Starts a turn whose label occupies [blank_from, text_at) of the buffer. */
static rs_err_e rs_turn_start(rs_parse_t *ps, size_t line_start, size_t blank_from, size_t text_at,
                              const uint8_t *name, size_t name_len)
{
    rs_doc_t *d = ps->doc;
    int32_t sp = -1;
    if (name_len) {
        sp = rs_speaker_id(ps, name, name_len);
        if (sp == -2)
            return RS_ERR_NOMEM;
    }
    rs_seg_close(d, line_start);
    memset(d->text + blank_from, ' ', text_at - blank_from);
    return rs_seg_push(d, text_at, d->len, sp, 1);
}

static rs_err_e rs_parse_labeled(rs_parse_t *ps, size_t body, int markdown, const rs_headings_t *h)
{
    rs_doc_t *d = ps->doc;
    uint8_t *s = d->text;
    const size_t len = d->len;
    RS_FORWARD(rs_seg_push(d, body, len, ps->speaker, ps->is_turn));
    for (size_t ls = body; ls < len;) {
        const size_t le = rs_line_end(s, len, ls);
        const size_t ll = rs_line_len(s, ls, le);
        size_t name_at, text_at, name;
        if (markdown)
            name = rs_md_label(s + ls, ll, h, &name_at, &text_at);
        else
            name = rs_line_label(s + ls, ll, h, &name_at, &text_at);
        if (name) {
            /* copy the name before the label is blanked */
            uint8_t nm[RS_LABEL_MAX_BYTES + 1];
            memcpy(nm, s + ls + name_at, name);
            RS_FORWARD(rs_turn_start(ps, ls, ls, ls + text_at, nm, name));
        }
        ls = le + 1;
    }
    return RS_OK;
}

static rs_err_e rs_parse_caption(rs_parse_t *ps, size_t body, const rs_headings_t *h)
{
    rs_doc_t *d = ps->doc;
    uint8_t *s = d->text;
    const size_t len = d->len;
    RS_FORWARD(rs_seg_push(d, body, len, ps->speaker, ps->is_turn));
    for (size_t p = body; p + 1 < len;) {
        const uint8_t *m = memchr(s + p, '>', len - p - 1);
        if (!m)
            break;
        size_t at = (size_t)(m - s);
        if (s[at + 1] != '>' || (at > body && s[at - 1] != ' ' && s[at - 1] != '\t'
                                  && s[at - 1] != '\n' && s[at - 1] != '\r')) {
            p = at + 1;
            while (p < len && s[p] == '>')
                p++;
            continue;
        }
        size_t q = at;
        while (q < len && s[q] == '>')
            q++;
        while (q < len && (s[q] == ' ' || s[q] == '\t'))
            q++;
        const size_t le = rs_line_end(s, len, q);
        size_t after = 0;
        const size_t name = rs_label_match(s + q, rs_line_len(s, q, le), h, &after);
        uint8_t nm[RS_LABEL_MAX_BYTES + 1];
        if (name)
            memcpy(nm, s + q, name);
        const size_t text_at = name ? q + after : q;
        RS_FORWARD(rs_turn_start(ps, at, at, text_at, nm, name));
        p = text_at;
    }
    return RS_OK;
}

/* Blanks Markdown link and image targets: "](...)" without white space. */
static void rs_blank_link_targets(uint8_t *s, size_t from, size_t len)
{
    for (size_t p = from; p + 1 < len;) {
        const uint8_t *m = memchr(s + p, ']', len - p - 1);
        if (!m)
            break;
        size_t at = (size_t)(m - s);
        if (s[at + 1] == '(') {
            size_t q = at + 2;
            while (q < len && q - at < 2048 && s[q] != ')' && s[q] != ' ' && s[q] != '\n')
                q++;
            if (q < len && s[q] == ')') {
                memset(s + at + 1, ' ', q - at);
                p = q + 1;
                continue;
            }
        }
        p = at + 1;
    }
}

/* Decodes HTML character references (&#39; &#x27; &quot; &amp; &lt; &gt;
 * &apos; &nbsp;) in s[start..end), in place: decoded text is never longer,
 * and the freed bytes at the end of the range become spaces. */
static void rs_decode_entities(uint8_t *s, size_t start, size_t end)
{
    static const struct {
        const char *name;
        uint32_t cp;
    } named[] = {{"quot", '"'}, {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"apos", '\''}, {"nbsp", 0xA0}};
    const uint8_t *amp = memchr(s + start, '&', end - start);
    if (!amp)
        return;
    size_t w = (size_t)(amp - s), r = w;
    while (r < end) {
        if (s[r] != '&') {
            s[w++] = s[r++];
            continue;
        }
        size_t semi = r + 1;
        while (semi < end && semi - r <= 10 && s[semi] != ';')
            semi++;
        uint32_t cp = 0;
        if (semi < end && s[semi] == ';' && semi > r + 2) {
            if (s[r + 1] == '#') {
                const int hex = s[r + 2] == 'x' || s[r + 2] == 'X';
                size_t q = r + 2 + (size_t)hex;
                for (; q < semi && cp <= 0x10FFFF; q++) {
                    const uint8_t c = s[q];
                    const int d = (c >= '0' && c <= '9') ? c - '0'
                                  : (hex && c >= 'a' && c <= 'f') ? c - 'a' + 10
                                  : (hex && c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                                  : -1;
                    if (d < 0)
                        break;
                    cp = cp * (hex ? 16u : 10u) + (uint32_t)d;
                }
                if (q != semi || q == r + 2 + (size_t)hex || cp == 0 || cp > 0x10FFFF
                    || (cp >= 0xD800 && cp <= 0xDFFF))
                    cp = 0;
            } else {
                for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
                    if (strlen(named[i].name) == semi - r - 1 && memcmp(s + r + 1, named[i].name, semi - r - 1) == 0)
                        cp = named[i].cp;
            }
        }
        if (!cp) {
            s[w++] = s[r++];
            continue;
        }
        w += rs_utf8_encode(cp, s + w);
        r = semi + 1;
    }
    memset(s + w, ' ', end - w);
}

/* --- front matter ---------------------------------------------------- */

static char *rs_yaml_scalar(yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE)
        return NULL;
    char *c = malloc(n->data.scalar.length + 1);
    if (c) {
        memcpy(c, n->data.scalar.value, n->data.scalar.length);
        c[n->data.scalar.length] = '\0';
    }
    return c;
}

/* A list from a sequence of scalars, or a comma-separated scalar. */
static rs_err_e rs_yaml_list(yaml_document_t *y, yaml_node_t *n, rs_strlist_t *out)
{
    if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
            yaml_node_t *e = yaml_document_get_node(y, *it);
            if (e && e->type == YAML_SCALAR_NODE && e->data.scalar.length
                && rs_strlist_push(out, (const char *)e->data.scalar.value, e->data.scalar.length) < 0)
                return RS_ERR_NOMEM;
        }
    } else if (n->type == YAML_SCALAR_NODE) {
        const char *v = (const char *)n->data.scalar.value;
        size_t len = n->data.scalar.length, i = 0;
        while (i < len) {
            size_t j = i;
            while (j < len && v[j] != ',')
                j++;
            size_t a = i, b = j;
            while (a < b && v[a] == ' ')
                a++;
            while (b > a && v[b - 1] == ' ')
                b--;
            if (b > a && rs_strlist_push(out, v + a, b - a) < 0)
                return RS_ERR_NOMEM;
            i = j + 1;
        }
    }
    return RS_OK;
}

static void rs_doc_warn(rs_doc_t *d, const char *msg)
{
    if (!d->warning)
        d->warning = strdup(msg);
}

/* The front matter block at the top of s[0..len): sets *close to its
 * closing line and returns where the body starts, or returns 0 when there is
 * none. whole: s is the whole document; else *decided is set to 0 when more
 * bytes could change the answer. */
static size_t rs_front_matter_find(const uint8_t *s, size_t len, int whole, size_t *close, int *decided)
{
    *decided = 1;
    const size_t first = rs_line_end(s, len, 0);
    if (first >= len && !whole) {
        *decided = len >= 3 && memcmp(s, "---", 3) != 0;
        return 0;
    }
    if (first >= len || rs_line_len(s, 0, first) != 3 || memcmp(s, "---", 3) != 0)
        return 0;
    size_t ls = first + 1;
    for (int lines = 0; ls < len && lines < RS_FRONT_MATTER_LINES; lines++) {
        const size_t le = rs_line_end(s, len, ls);
        if (le >= len && !whole) {
            *decided = 0; /* the line may go on */
            return 0;
        }
        const size_t ll = rs_line_len(s, ls, le);
        if (ll == 3 && (memcmp(s + ls, "---", 3) == 0 || memcmp(s + ls, "...", 3) == 0)) {
            *close = ls;
            return le < len ? le + 1 : len;
        }
        ls = le + 1;
    }
    if (ls >= len && !whole)
        *decided = 0;
    return 0;
}

size_t rs_doc_head_bytes(const uint8_t *s, size_t len)
{
    size_t bom = 0, close = 0;
    if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        bom = 3;
    int decided;
    const size_t body = rs_front_matter_find(s + bom, len - bom, 0, &close, &decided);
    return decided ? bom + body + RS_DETECT_BYTES : 0;
}

/* Reads a front matter block at the top; returns where the body starts. */
static size_t rs_front_matter(rs_doc_t *d)
{
    const uint8_t *s = d->text;
    const size_t len = d->len;
    size_t close = 0;
    int decided;
    const size_t first = rs_line_end(s, len, 0);
    const size_t body = rs_front_matter_find(s, len, 1, &close, &decided);
    if (!body)
        return 0;
    yaml_parser_t p;
    yaml_document_t y;
    if (!yaml_parser_initialize(&p))
        return body;
    yaml_parser_set_input_string(&p, s + first + 1, close - first - 1);
    if (!yaml_parser_load(&p, &y)) {
        char msg[160];
        snprintf(msg, sizeof msg, "front matter is not valid YAML (line %zu: %s): ignored",
                 p.problem_mark.line + 2, p.problem ? p.problem : "syntax error");
        rs_doc_warn(d, msg);
        yaml_parser_delete(&p);
        return body;
    }
    yaml_node_t *root = yaml_document_get_root_node(&y);
    if (root && root->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
            yaml_node_t *k = yaml_document_get_node(&y, pr->key);
            yaml_node_t *v = yaml_document_get_node(&y, pr->value);
            if (!k || !v || k->type != YAML_SCALAR_NODE)
                continue;
            const char *key = (const char *)k->data.scalar.value;
            if (strcmp(key, "title") == 0 && !d->meta.title)
                d->meta.title = rs_yaml_scalar(v);
            else if (strcmp(key, "date") == 0 && !d->meta.date)
                d->meta.date = rs_yaml_scalar(v);
            else if (strcmp(key, "speakers") == 0)
                rs_yaml_list(&y, v, &d->meta.speakers);
            else if (strcmp(key, "tags") == 0)
                rs_yaml_list(&y, v, &d->meta.tags);
        }
    }
    yaml_document_delete(&y);
    yaml_parser_delete(&p);
    return body;
}

/* --- the document ---------------------------------------------------- */

/* Cuts the body of d (from body) into segments by its format. */
static rs_err_e rs_parse_body(rs_parse_t *ps, size_t body, const rs_headings_t *h)
{
    rs_doc_t *d = ps->doc;
    rs_err_e e;
    switch (d->format) {
    case RS_FORMAT_MARKDOWN:
        e = rs_parse_labeled(ps, body, 1, h);
        if (e == RS_OK) {
            rs_blank_link_targets(d->text, body, d->len);
            for (size_t i = 0; i < d->nseg; i++)
                rs_decode_entities(d->text, d->seg[i].start, d->seg[i].end);
        }
        return e;
    case RS_FORMAT_LABELED:
        return rs_parse_labeled(ps, body, 0, h);
    case RS_FORMAT_CAPTION:
        return rs_parse_caption(ps, body, h);
    default:
        return rs_seg_push(d, body, d->len, ps->speaker, ps->is_turn);
    }
}

rs_err_e rs_doc_parse(rs_doc_t *d, rs_format_e forced, const rs_headings_t *h, rs_error_t *err)
{
    return rs_doc_parse_piece(d, forced, h, NULL, err);
}

/* Notes in c what the next piece continues. */
static void rs_carry_out(rs_carry_t *c, const rs_doc_t *d)
{
    if (!c)
        return;
    c->format = d->format;
    c->open = d->format != RS_FORMAT_JSONL && d->format != RS_FORMAT_WHISPER && d->nseg > 0;
    c->speaker = c->open ? d->seg[d->nseg - 1].speaker : -1;
    c->is_turn = c->open ? d->seg[d->nseg - 1].is_turn : 0;
}

/* A piece after the first: its format is known and its first segment
 * continues the one open at the end of the piece before. */
static rs_err_e rs_parse_next(rs_doc_t *d, const rs_headings_t *h, rs_carry_t *c, rs_error_t *err)
{
    d->format = c->format;
    if (d->format >= RS_FORMAT_SRT) {
        RS_FORWARD(rs_media_parse_piece(d, d->format, h, c, err));
        rs_carry_out(c, d);
        return RS_OK;
    }
    rs_parse_t ps = {.doc = d, .speaker = c->speaker, .is_turn = c->is_turn};
    rs_dict_init(&ps.names, sizeof(int32_t));
    rs_err_e e = rs_turns_seed(&ps.names, &d->speakers); /* the pieces before's */
    if (e == RS_OK)
        e = rs_parse_body(&ps, 0, h);
    rs_dict_free(&ps.names);
    if (e != RS_OK)
        return rs_error_set(err, e, "%s: %s", d->path, rs_err_str(e));
    rs_timestamps_blank(d->text, d->len);
    rs_carry_out(c, d);
    return RS_OK;
}

rs_err_e rs_doc_parse_piece(rs_doc_t *d, rs_format_e forced, const rs_headings_t *h, rs_carry_t *c, rs_error_t *err)
{
    if (c && d->piece > 0)
        return rs_parse_next(d, h, c, err);
    if (d->len >= 3 && memcmp(d->text, "\xEF\xBB\xBF", 3) == 0) {
        memmove(d->text, d->text + 3, d->len - 3);
        d->len -= 3;
    }
    if (d->len >= 2 && ((d->text[0] == 0xFF && d->text[1] == 0xFE) || (d->text[0] == 0xFE && d->text[1] == 0xFF)))
        return rs_error_set(err, RS_ERR_BINARY, "%s: UTF-16 text is not supported (convert it to UTF-8)", d->path);
    const size_t probe = d->len < 65536 ? d->len : 65536;
    const uint8_t *nul = memchr(d->text, 0, probe);
    if (nul)
        return rs_error_set(err, RS_ERR_BINARY, "%s: binary file (NUL byte at offset %zu)", d->path,
                            (size_t)(nul - d->text));
    const rs_format_e media = rs_media_detect(d, forced);
    if (media != RS_FORMAT_AUTO) {
        RS_FORWARD(rs_media_parse_piece(d, media, h, c, err));
        rs_carry_out(c, d);
        return RS_OK;
    }

    const size_t body = rs_front_matter(d);
    if (body)
        memset(d->text, ' ', body);
    d->format = forced != RS_FORMAT_AUTO ? forced : rs_format_detect(d->text + body, d->len - body, h);

    rs_parse_t ps = {.doc = d, .speaker = -1};
    rs_dict_init(&ps.names, sizeof(int32_t));
    const rs_err_e e = rs_parse_body(&ps, body, h);
    rs_dict_free(&ps.names);
    if (e != RS_OK)
        return rs_error_set(err, e, "%s: %s", d->path, rs_err_str(e));
    rs_timestamps_blank(d->text + body, d->len - body);
    rs_carry_out(c, d);
    return RS_OK;
}

