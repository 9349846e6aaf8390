/*
 * subtitle.c - SubRip and WebVTT parsing, and the dispatch of the formats
 * that are not line-labelled prose (subtitle.h).
 *
 * One pass line by line over the document's own buffer with a small state
 * machine (header, between blocks, skipped block, cue payload). A line is a
 * timing line when it holds "time --> time"; the line just before one (a cue
 * number or identifier) is blanked with it. In a payload line, markup is
 * blanked first, then voice tags, dashes and labels start turns in the
 * order they appear. A cue's duration is shared out when the cue ends (blank
 * line, next timing line or end of document). Everything allocated here
 * belongs to the document; nothing is shared between threads.
 */
#include "subtitle.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "format.h" /* RS_DETECT_BYTES */
#include "hash.h"  /* rs_hash64 */
#include "jsonl.h" /* rs_jsonl_detect, rs_jsonl_parse */

/* --- shared helpers ---------------------------------------------------- */

const char *rs_path_ext(const char *path)
{
    const char *base = path;
    for (const char *p = path; *p; p++)
        if (*p == '/' || *p == ':')
            base = p + 1;
    const char *dot = strrchr(base, '.');
    return (dot && dot != base) ? dot + 1 : "";
}

rs_err_e rs_turns_seed(rs_dict_t *names, const rs_strlist_t *speakers)
{
    for (size_t i = 0; i < speakers->n; i++) {
        const char *name = speakers->s[i];
        const size_t len = strlen(name);
        const int64_t id = rs_dict_put(names, name, len, rs_hash64(name, len), NULL);
        if (id < 0)
            return RS_ERR_NOMEM;
        *(int32_t *)rs_dict_val(names, (size_t)id) = (int32_t)i;
    }
    return RS_OK;
}

rs_err_e rs_turns_init(rs_turns_t *t, rs_doc_t *d)
{
    t->doc = d;
    rs_dict_init(&t->names, sizeof(int32_t));
    return rs_turns_seed(&t->names, &d->speakers);
}

void rs_turns_free(rs_turns_t *t)
{
    rs_dict_free(&t->names);
}

int32_t rs_turns_speaker(rs_turns_t *t, const uint8_t *s, size_t len)
{
    while (len && (s[0] == ' ' || s[0] == '\t' || s[0] < 0x20))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] < 0x20))
        len--;
    if (!len || len > RS_SPEAKER_NAME_MAX)
        return -1;
    uint8_t name[RS_SPEAKER_NAME_MAX];
    for (size_t i = 0; i < len; i++)
        name[i] = s[i] < 0x20 ? ' ' : s[i];
    int created;
    const int64_t id = rs_dict_put(&t->names, name, len, rs_hash64(name, len), &created);
    if (id < 0)
        return -2;
    int32_t *v = rs_dict_val(&t->names, (size_t)id);
    if (created) {
        const int64_t at = rs_strlist_push(&t->doc->speakers, (const char *)name, len);
        if (at < 0)
            return -2;
        *v = (int32_t)at;
    }
    return *v;
}

rs_err_e rs_turns_push(rs_turns_t *t, size_t start, size_t end, int32_t speaker, int is_turn, uint32_t ms)
{
    rs_doc_t *d = t->doc;
    if (d->nseg == d->seg_cap) {
        const size_t cap = d->seg_cap ? d->seg_cap * 2 : 16;
        rs_segment_t *s = realloc(d->seg, cap * sizeof *s);
        if (!s)
            return RS_ERR_NOMEM;
        d->seg = s;
        d->seg_cap = cap;
    }
    d->seg[d->nseg++] = (rs_segment_t){start, end, speaker, (uint8_t)(is_turn != 0), ms};
    return RS_OK;
}

/* --- lines and times --------------------------------------------------- */

static size_t rs_eol(const uint8_t *s, size_t len, size_t pos)
{
    const uint8_t *nl = memchr(s + pos, '\n', len - pos);
    return nl ? (size_t)(nl - s) : len;
}

/* Line length without a trailing CR. */
static size_t rs_llen(const uint8_t *s, size_t ls, size_t le)
{
    return (le > ls && s[le - 1] == '\r') ? le - ls - 1 : le - ls;
}

static int rs_is_ws(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static int rs_blank_line(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!rs_is_ws(s[i]))
            return 0;
    return 1;
}

static int rs_has_text(const uint8_t *s, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (!rs_is_ws(s[i]) && s[i] != '\n')
            return 1;
    return 0;
}

static void rs_blank(uint8_t *s, size_t from, size_t to)
{
    if (to > from)
        memset(s + from, ' ', to - from);
}

static int rs_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* A cue time at s[0..len): [h+:]mm:ss[.,]fff (the fraction optional);
 * returns the bytes used and sets *ms, or 0. */
static size_t rs_cue_time(const uint8_t *s, size_t len, uint64_t *ms)
{
    uint64_t part[3];
    size_t p = 0;
    int n = 0;
    for (;;) {
        const size_t from = p;
        uint64_t v = 0;
        while (p < len && rs_digit(s[p]) && p - from < 9)
            v = v * 10 + (uint64_t)(s[p++] - '0');
        if (p == from || (n > 0 && p - from != 2))
            return 0;
        part[n++] = v;
        if (n == 3 || p >= len || s[p] != ':')
            break;
        p++;
    }
    if (n < 2)
        return 0;
    uint64_t t = n == 3 ? part[0] * 3600 + part[1] * 60 + part[2] : part[0] * 60 + part[1];
    if ((n == 3 && part[1] > 59) || part[n - 1] > 59)
        return 0;
    t *= 1000;
    if (p + 1 < len && (s[p] == '.' || s[p] == ',') && rs_digit(s[p + 1])) {
        p++;
        uint64_t f = 0, scale = 100;
        for (int i = 0; p < len && rs_digit(s[p]); i++, p++) {
            if (i < 3) {
                f += (uint64_t)(s[p] - '0') * scale;
                scale /= 10;
            }
        }
        t += f;
    }
    *ms = t;
    return p;
}

/* "time --> time [settings]" */
static int rs_timing_line(const uint8_t *s, size_t len, uint64_t *start, uint64_t *end)
{
    size_t p = 0;
    while (p < len && rs_is_ws(s[p]))
        p++;
    const size_t a = rs_cue_time(s + p, len - p, start);
    if (!a)
        return 0;
    p += a;
    while (p < len && rs_is_ws(s[p]))
        p++;
    if (p + 3 > len || memcmp(s + p, "-->", 3) != 0)
        return 0;
    p += 3;
    while (p < len && rs_is_ws(s[p]))
        p++;
    const size_t b = rs_cue_time(s + p, len - p, end);
    if (!b)
        return 0;
    p += b;
    return p == len || rs_is_ws(s[p]);
}

static int rs_all_digits(const uint8_t *s, size_t len)
{
    size_t p = 0, d = 0;
    while (p < len && rs_is_ws(s[p]))
        p++;
    for (; p < len && rs_digit(s[p]); p++)
        d++;
    while (p < len && rs_is_ws(s[p]))
        p++;
    return d > 0 && p == len;
}

/* s starts with word w followed by white space or the end. */
static int rs_starts_word(const uint8_t *s, size_t len, const char *w)
{
    const size_t n = strlen(w);
    return len >= n && memcmp(s, w, n) == 0 && (len == n || rs_is_ws(s[n]) || s[n] == '\n');
}

/* --- detection ------------------------------------------------------- */

rs_format_e rs_subtitle_detect(const char *path, const uint8_t *s, size_t len)
{
    const char *ext = path ? rs_path_ext(path) : "";
    if (strcasecmp(ext, "srt") == 0)
        return RS_FORMAT_SRT;
    if (strcasecmp(ext, "vtt") == 0)
        return RS_FORMAT_VTT;
    if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        s += 3, len -= 3;
    if (rs_starts_word(s, len, "WEBVTT"))
        return RS_FORMAT_VTT;
    /* SRT: the first non-blank line a cue number (or a timing line), then a timing line */
    size_t ls = 0;
    while (ls < len) {
        const size_t le = rs_eol(s, len, ls);
        if (!rs_blank_line(s + ls, rs_llen(s, ls, le)))
            break;
        ls = le + 1;
    }
    if (ls >= len)
        return RS_FORMAT_AUTO;
    uint64_t a, b;
    const size_t le = rs_eol(s, len, ls);
    const size_t ll = rs_llen(s, ls, le);
    if (rs_timing_line(s + ls, ll, &a, &b))
        return RS_FORMAT_SRT;
    if (!rs_all_digits(s + ls, ll) || le >= len)
        return RS_FORMAT_AUTO;
    const size_t l2 = le + 1, e2 = rs_eol(s, len, l2);
    return rs_timing_line(s + l2, rs_llen(s, l2, e2), &a, &b) ? RS_FORMAT_SRT : RS_FORMAT_AUTO;
}

rs_format_e rs_media_detect(const rs_doc_t *d, rs_format_e forced)
{
    if (forced == RS_FORMAT_SRT || forced == RS_FORMAT_VTT || forced == RS_FORMAT_JSONL
        || forced == RS_FORMAT_WHISPER)
        return forced;
    if (forced != RS_FORMAT_AUTO)
        return RS_FORMAT_AUTO;
    if (d->format == RS_FORMAT_JSONL || d->format == RS_FORMAT_WHISPER) /* a hint from rs_jsonl_split */
        return d->format;
    /* the first RS_DETECT_BYTES only, so that a document's first piece
     * (pieces.h) is judged as the whole document is */
    const size_t len = d->len < RS_DETECT_BYTES ? d->len : RS_DETECT_BYTES;
    const rs_format_e f = rs_subtitle_detect(d->path, d->text, len);
    return f != RS_FORMAT_AUTO ? f : rs_jsonl_detect(d->path, d->text, len);
}

rs_err_e rs_media_parse(rs_doc_t *d, rs_format_e f, const rs_headings_t *h, rs_error_t *err)
{
    return rs_media_parse_piece(d, f, h, NULL, err);
}

static rs_err_e rs_subtitle_run(rs_doc_t *d, rs_format_e f, const rs_headings_t *h, const rs_carry_t *c,
                                rs_error_t *err);

rs_err_e rs_media_parse_piece(rs_doc_t *d, rs_format_e f, const rs_headings_t *h, rs_carry_t *carry,
                              rs_error_t *err)
{
    if (f == RS_FORMAT_SRT || f == RS_FORMAT_VTT)
        return rs_subtitle_run(d, f, h, carry && d->piece > 0 ? carry : NULL, err);
    return rs_jsonl_parse_piece(d, f, carry, err);
}

/* --- parsing --------------------------------------------------------- */

enum { RS_ST_HEADER, RS_ST_IDLE, RS_ST_SKIP, RS_ST_CUE };

typedef struct rs_sub {
    rs_turns_t t;
    const rs_headings_t *h;
    int cue;              /* a cue is open */
    uint64_t cue_ms;      /* its duration */
    size_t cue_seg0;      /* the segment open when it began */
    int cue_text_before;  /* it has text before its first turn */
    size_t cue_turns;     /* turns it started */
} rs_sub_t;

static int32_t rs_cur_speaker(const rs_doc_t *d, int *is_turn)
{
    const rs_segment_t *s = &d->seg[d->nseg - 1];
    *is_turn = s->is_turn;
    return s->speaker;
}

/* Starts a turn at text_at, the previous segment ending at at; unless
 * force is set, a named turn of the speaker already talking continues
 * instead. Segments never go backwards: at and text_at are raised to the
 * start of the open segment when a marker sits before it. */
static rs_err_e rs_sub_turn(rs_sub_t *p, size_t at, size_t text_at, int32_t sp, int force)
{
    rs_doc_t *d = p->t.doc;
    int is_turn;
    if (!force && sp >= 0 && rs_cur_speaker(d, &is_turn) == sp && is_turn)
        return RS_OK;
    rs_segment_t *cur = &d->seg[d->nseg - 1];
    if (at < cur->start)
        at = cur->start;
    if (text_at < at)
        text_at = at;
    cur->end = at;
    RS_FORWARD(rs_turns_push(&p->t, text_at, d->len, sp, 1, 0));
    if (p->cue)
        p->cue_turns++;
    return RS_OK;
}

static void rs_sub_cue_end(rs_sub_t *p)
{
    if (!p->cue)
        return;
    p->cue = 0;
    rs_doc_t *d = p->t.doc;
    const size_t first = p->cue_text_before ? p->cue_seg0 : p->cue_seg0 + 1;
    if (first >= d->nseg || !p->cue_ms)
        return;
    const uint64_t n = d->nseg - first, share = p->cue_ms / n, rem = p->cue_ms % n;
    for (size_t i = first; i < d->nseg; i++) {
        const uint64_t add = share + (i == first ? rem : 0);
        const uint64_t ms = d->seg[i].ms + add;
        d->seg[i].ms = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
    }
}

static void rs_sub_cue_begin(rs_sub_t *p, uint64_t start, uint64_t end)
{
    rs_sub_cue_end(p);
    p->cue = 1;
    p->cue_ms = end > start ? end - start : 0;
    p->cue_seg0 = p->t.doc->nseg - 1;
    p->cue_text_before = 0;
    p->cue_turns = 0;
}

/* Notes text in [from, to) of the current cue before its first turn. */
static void rs_sub_text(rs_sub_t *p, size_t from, size_t to)
{
    if (p->cue && !p->cue_turns && rs_has_text(p->t.doc->text, from, to))
        p->cue_text_before = 1;
}

#define RS_MAX_VOICES 8

typedef struct rs_voice {
    size_t at;   /* where the tag was */
    size_t name; /* the name's offset and length (copied before blanking) */
    size_t len;
    uint8_t buf[RS_SPEAKER_NAME_MAX];
} rs_voice_t;

/* Blanks markup in line [ls, ls+ll) and collects voice tags. */
static size_t rs_blank_markup(uint8_t *s, size_t ls, size_t ll, rs_voice_t *v, size_t nv_max)
{
    size_t nv = 0;
    const size_t end = ls + ll;
    for (size_t i = ls; i < end; i++) {
        if (s[i] == '<' && i + 1 < end) {
            const uint8_t c = s[i + 1];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '/' || rs_digit(c)))
                continue;
            const uint8_t *gt = memchr(s + i + 1, '>', (end - i - 1) < 512 ? end - i - 1 : 512);
            if (!gt)
                continue;
            const size_t j = (size_t)(gt - s);
            if (c == 'v' && (s[i + 2] == ' ' || s[i + 2] == '\t' || s[i + 2] == '.') && nv < nv_max) {
                size_t q = i + 2;
                while (q < j && s[q] != ' ' && s[q] != '\t')
                    q++; /* classes: <v.loud Name> */
                while (q < j && (s[q] == ' ' || s[q] == '\t'))
                    q++;
                size_t len = j - q;
                if (len > RS_SPEAKER_NAME_MAX)
                    len = RS_SPEAKER_NAME_MAX;
                v[nv].at = i;
                v[nv].len = len;
                memcpy(v[nv].buf, s + q, len);
                nv++;
            }
            rs_blank(s, i, j + 1);
            i = j;
        } else if (s[i] == '{' && i + 1 < end && s[i + 1] == '\\') {
            const uint8_t *cb = memchr(s + i, '}', (end - i) < 256 ? end - i : 256);
            if (cb) {
                rs_blank(s, i, (size_t)(cb - s) + 1);
                i = (size_t)(cb - s);
            }
        } else if (s[i] == '&') {
            size_t q = i + 1;
            if (q < end && s[q] == '#')
                q++;
            while (q < end && q - i < 12
                   && ((s[q] >= 'a' && s[q] <= 'z') || (s[q] >= 'A' && s[q] <= 'Z') || rs_digit(s[q])))
                q++;
            if (q < end && s[q] == ';' && q > i + 1) {
                const int amp = q - i == 4 && memcmp(s + i, "&amp", 4) == 0;
                rs_blank(s, amp ? i + 1 : i, q + 1);
                i = q;
            }
        }
    }
    return nv;
}

/* "[NAME]:" at s[0..len): name length (name at s+1) and *text_at, or 0. */
static size_t rs_bracket_label(const uint8_t *s, size_t len, size_t *text_at)
{
    if (len < 4 || s[0] != '[')
        return 0;
    size_t q = 1;
    while (q < len && q <= 65 && s[q] != ']' && s[q] != '[' && s[q] >= 0x20)
        q++;
    if (q >= len || s[q] != ']' || q == 1 || q + 1 >= len || s[q + 1] != ':')
        return 0;
    if (q + 2 < len && !rs_is_ws(s[q + 2]))
        return 0;
    *text_at = q + 2;
    return q - 1;
}

static rs_err_e rs_sub_payload(rs_sub_t *p, size_t ls, size_t ll)
{
    rs_doc_t *d = p->t.doc;
    uint8_t *s = d->text;
    rs_voice_t v[RS_MAX_VOICES];
    const size_t nv = rs_blank_markup(s, ls, ll, v, RS_MAX_VOICES);
    const size_t end = ls + ll;
    size_t cursor = ls;
    /* leading marker and label, at the first non-blank byte */
    size_t q = ls;
    while (q < end && rs_is_ws(s[q]))
        q++;
    int anon = 0;
    size_t lab_at = q;
    if (q + 1 < end && (s[q] == '-' || s[q] == '>') && ((s[q] == '-' && (s[q + 1] == ' ' || s[q + 1] == '\t'))
                                                         || (s[q] == '>' && s[q + 1] == '>'))) {
        size_t r = q + (s[q] == '>' ? 2 : 1);
        while (r < end && s[r] == '>')
            r++;
        rs_blank(s, q, r);
        anon = !nv; /* inside a voice cue a dash is punctuation */
        while (r < end && rs_is_ws(s[r]))
            r++;
        lab_at = r;
    }
    size_t name_len = 0, text_at = 0;
    uint8_t name[RS_LABEL_MAX_BYTES + 64];
    size_t after;
    size_t n = rs_label_match(s + lab_at, end - lab_at, p->h, &after);
    if (n) {
        memcpy(name, s + lab_at, n);
        name_len = n;
        text_at = lab_at + after;
    } else if ((n = rs_bracket_label(s + lab_at, end - lab_at, &after)) != 0) {
        memcpy(name, s + lab_at + 1, n);
        name_len = n;
        text_at = lab_at + after;
    }
    /* voice tags before the label position, then the marker/label, then the rest */
    size_t vi = 0;
    for (; vi < nv && v[vi].at <= lab_at; vi++) {
        rs_sub_text(p, cursor, v[vi].at);
        const int32_t sp = rs_turns_speaker(&p->t, v[vi].buf, v[vi].len);
        if (sp == -2)
            return RS_ERR_NOMEM;
        if (sp >= 0)
            RS_FORWARD(rs_sub_turn(p, v[vi].at, v[vi].at, sp, 0));
        cursor = v[vi].at;
    }
    if (name_len) {
        rs_sub_text(p, cursor, q);
        const int32_t sp = rs_turns_speaker(&p->t, name, name_len);
        if (sp == -2)
            return RS_ERR_NOMEM;
        rs_blank(s, lab_at, text_at);
        /* "- Name: text": a new turn even when Name was talking */
        RS_FORWARD(rs_sub_turn(p, q, text_at, sp, anon));
        cursor = text_at;
    } else if (anon) {
        rs_sub_text(p, cursor, q);
        RS_FORWARD(rs_sub_turn(p, q, lab_at, -1, 1));
        cursor = lab_at;
    }
    for (; vi < nv; vi++) {
        rs_sub_text(p, cursor, v[vi].at);
        const int32_t sp = rs_turns_speaker(&p->t, v[vi].buf, v[vi].len);
        if (sp == -2)
            return RS_ERR_NOMEM;
        if (sp >= 0)
            RS_FORWARD(rs_sub_turn(p, v[vi].at, v[vi].at, sp, 0));
        cursor = v[vi].at > cursor ? v[vi].at : cursor;
    }
    rs_sub_text(p, cursor, end);
    return RS_OK;
}

rs_err_e rs_subtitle_parse(rs_doc_t *d, rs_format_e f, const rs_headings_t *h, rs_error_t *err)
{
    return rs_subtitle_run(d, f, h, NULL, err);
}

/* c: the carry of a piece after the first, cut after a blank line (no cue
 * open, no header or NOTE block going on); NULL for a first piece or a
 * whole document. */
static rs_err_e rs_subtitle_run(rs_doc_t *d, rs_format_e f, const rs_headings_t *h, const rs_carry_t *c,
                                rs_error_t *err)
{
    d->format = f;
    rs_sub_t p = {.h = h};
    uint8_t *s = d->text;
    const size_t len = d->len;
    rs_err_e e = rs_turns_init(&p.t, d);
    if (e == RS_OK)
        e = rs_turns_push(&p.t, 0, len, c ? c->speaker : -1, c ? c->is_turn : 0, 0);
    int state = !c && f == RS_FORMAT_VTT && rs_starts_word(s, len, "WEBVTT") ? RS_ST_HEADER : RS_ST_IDLE;
    for (size_t ls = 0; ls < len && e == RS_OK;) {
        const size_t le = rs_eol(s, len, ls);
        const size_t ll = rs_llen(s, ls, le);
        const size_t next = le + 1;
        uint64_t t0, t1;
        if (rs_blank_line(s + ls, ll)) {
            rs_sub_cue_end(&p);
            state = RS_ST_IDLE;
        } else if (rs_timing_line(s + ls, ll, &t0, &t1)) {
            rs_blank(s, ls, ls + ll);
            rs_sub_cue_begin(&p, t0, t1);
            state = RS_ST_CUE;
        } else if (state == RS_ST_HEADER || state == RS_ST_SKIP) {
            rs_blank(s, ls, ls + ll);
        } else {
            const size_t nl = next < len ? rs_eol(s, len, next) : len;
            const int before_timing = next < len && rs_timing_line(s + next, rs_llen(s, next, nl), &t0, &t1);
            if (state == RS_ST_IDLE && f == RS_FORMAT_VTT
                && (rs_starts_word(s + ls, ll, "NOTE") || rs_starts_word(s + ls, ll, "STYLE")
                    || rs_starts_word(s + ls, ll, "REGION"))) {
                rs_blank(s, ls, ls + ll);
                state = RS_ST_SKIP;
            } else if (before_timing && (state == RS_ST_IDLE || rs_all_digits(s + ls, ll))) {
                rs_blank(s, ls, ls + ll); /* cue number or identifier */
            } else {
                e = rs_sub_payload(&p, ls, ll);
            }
        }
        ls = next;
    }
    rs_sub_cue_end(&p);
    rs_turns_free(&p.t);
    if (e != RS_OK)
        return rs_error_set(err, e, "%s: %s", d->path, rs_err_str(e));
    return RS_OK;
}
