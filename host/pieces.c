/*
 * pieces.c - a document read as pieces cut at line ends (pieces.h).
 *
 * One buffer holds what has been read and not handed over. Once the first
 * piece's least size is read, the cut rule is chosen from those bytes (the
 * detection the parser runs on the first piece, over the same bytes, so a
 * subtitle file is cut only after blank lines), and each time a cut point is found past the piece's least size,
 * the bytes before it are handed over in the buffer itself (shrunk to
 * fit) and the rest moves to a new buffer. The search for a cut goes on
 * from where it stopped, so each byte is looked at about once. Reading
 * thread only.
 */
#include "pieces.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"   /* rs_doc_head_bytes */
#include "jsonl.h"    /* rs_jsonl_keys_t */
#include "subtitle.h" /* rs_media_detect */

enum {
    RS_RULE_UNDECIDED = 0,
    RS_RULE_WHOLE, /* never cut */
    RS_RULE_LINE,  /* after any line */
    RS_RULE_BLANK, /* after a blank line (white space only) */
};

#define RS_PIECES_MIN_CAP (64u << 10)

void rs_pieces_init(rs_pieces_t *p, const rs_ingest_cfg_t *cfg, char *path, uint64_t size_hint)
{
    memset(p, 0, sizeof *p);
    p->cfg = cfg;
    p->path = path;
    const uint64_t split = cfg->split_bytes;
    if (size_hint && (!split || size_hint <= split))
        p->cap = (size_t)size_hint + 1; /* read in one go, as a whole document */
    else if (split)
        p->cap = (size_t)split + RS_PIECES_MIN_CAP;
}

/* Frees everything; a later rs_pieces_abort or rs_pieces_end is a no-op
 * (nothing more is sent). */
static void rs_pieces_release(rs_pieces_t *p)
{
    const rs_ingest_cfg_t *cfg = p->cfg;
    free(p->buf);
    free(p->path);
    free(p->warning);
    memset(p, 0, sizeof *p);
    p->cfg = cfg;
    p->rule = RS_RULE_WHOLE;
}

rs_err_e rs_pieces_room(rs_pieces_t *p, uint8_t **at, size_t *room)
{
    if (!p->buf || p->n == p->cap) {
        /* the size when known (so a small document takes no more), else
         * 64 KiB, then doubling */
        size_t cap = p->buf ? p->cap * 2 : p->cap;
        if (cap <= p->n)
            cap = p->n + RS_PIECES_MIN_CAP;
        uint8_t *b = realloc(p->buf, cap);
        if (!b)
            return RS_ERR_NOMEM;
        p->buf = b;
        p->cap = cap;
    }
    *at = p->buf + p->n;
    *room = p->cap - p->n;
    /* never read more than one byte past the size limit */
    const uint64_t max = p->cfg->max_doc_bytes;
    if (max && p->total <= max && *room > max + 1 - p->total)
        *room = (size_t)(max + 1 - p->total);
    return RS_OK;
}

/* Hands over buf[0..len) as the next piece (or the whole document). */
static rs_err_e rs_pieces_send(rs_pieces_t *p, uint8_t *buf, size_t len, int more, int broken)
{
    rs_doc_t doc = {0};
    doc.path = strdup(p->path);
    if (!doc.path) {
        free(buf);
        return RS_ERR_NOMEM;
    }
    doc.text = buf;
    doc.len = len;
    doc.bytes = len;
    doc.jsonl = p->cfg->jsonl;
    doc.piece = p->sent++;
    doc.more = (uint8_t)more;
    doc.broken = (uint8_t)broken;
    if (!more && !broken) {
        doc.warning = p->warning;
        p->warning = NULL;
    }
    return p->cfg->on_doc(p->cfg->ctx, &doc);
}

/* The cut rule for this document, judged from its first bytes. */
static int rs_pieces_rule(const rs_pieces_t *p)
{
    rs_doc_t probe = {0};
    probe.path = p->path;
    probe.text = p->buf;
    probe.len = p->n;
    switch (rs_media_detect(&probe, p->cfg->format)) {
    case RS_FORMAT_WHISPER:
        return RS_RULE_WHOLE;
    case RS_FORMAT_JSONL:
        return p->cfg->jsonl && p->cfg->jsonl->doc ? RS_RULE_WHOLE : RS_RULE_LINE;
    case RS_FORMAT_SRT:
    case RS_FORMAT_VTT:
        return RS_RULE_BLANK;
    default:
        return RS_RULE_LINE;
    }
}

static int rs_ws(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* A cut at or past least (just after a '\n' the rule allows), or 0 when
 * the bytes read so far hold none. The search keeps its place in p (from;
 * for blank lines also the line it is in and whether that is blank so
 * far), so a long line is not searched again on every read. */
static size_t rs_pieces_cut(rs_pieces_t *p, size_t least)
{
    const uint8_t *s = p->buf;
    const size_t n = p->n;
    if (p->rule == RS_RULE_LINE) {
        const size_t at = p->from > least - 1 ? p->from : least - 1;
        const uint8_t *nl = at < n ? memchr(s + at, '\n', n - at) : NULL;
        p->from = nl ? 0 : n;
        return nl ? (size_t)(nl - s) + 1 : 0;
    }
    if (!p->in_line) {
        /* from the start of the line that holds byte least - 1 */
        size_t at = least - 1;
        while (at > 0 && s[at - 1] != '\n')
            at--;
        p->from = at;
        p->blank = 1;
        p->in_line = 1;
    }
    for (;;) {
        const size_t pos = p->from;
        const uint8_t *nl = pos < n ? memchr(s + pos, '\n', n - pos) : NULL;
        const size_t end = nl ? (size_t)(nl - s) : n;
        for (size_t i = pos; p->blank && i < end; i++)
            p->blank = rs_ws(s[i]);
        if (!nl) {
            p->from = n;
            return 0;
        }
        if (p->blank && end + 1 >= least) {
            p->from = 0;
            p->in_line = 0;
            return end + 1;
        }
        p->from = end + 1;
        p->blank = 1;
    }
}

rs_err_e rs_pieces_add(rs_pieces_t *p, size_t n)
{
    p->n += n;
    p->total += n;
    const uint64_t split = p->cfg->split_bytes, max = p->cfg->max_doc_bytes;
    if (max && p->total > max)
        return RS_OK; /* past the limit: rs_pieces_end_at_limit cuts what is held */
    rs_err_e e = RS_OK;
    while (split && e == RS_OK && p->rule != RS_RULE_WHOLE && p->n > split) {
        size_t least = (size_t)split;
        if (p->sent == 0) {
            const size_t head = rs_doc_head_bytes(p->buf, p->n);
            if (!head)
                return RS_OK; /* a front matter block still open */
            if (head > least)
                least = head;
            if (p->n <= least)
                return RS_OK;
            /* judged from as many bytes as the parser's detection reads */
            if (p->rule == RS_RULE_UNDECIDED && (p->rule = rs_pieces_rule(p)) == RS_RULE_WHOLE)
                return RS_OK;
        }
        const size_t cut = rs_pieces_cut(p, least);
        if (!cut)
            return RS_OK;
        /* the rest to a new buffer; the piece keeps the old one */
        const size_t rest = p->n - cut;
        size_t cap = (size_t)split + RS_PIECES_MIN_CAP;
        if (cap < rest + RS_PIECES_MIN_CAP)
            cap = rest + RS_PIECES_MIN_CAP;
        uint8_t *nb = malloc(cap);
        if (!nb) {
            rs_pieces_release(p);
            return RS_ERR_NOMEM;
        }
        memcpy(nb, p->buf + cut, rest);
        uint8_t *piece = realloc(p->buf, cut + 1);
        if (!piece)
            piece = p->buf;
        p->buf = nb;
        p->n = rest;
        p->cap = cap;
        e = rs_pieces_send(p, piece, cut, 1, 0);
    }
    if (e != RS_OK)
        rs_pieces_release(p);
    return e;
}

rs_err_e rs_pieces_end(rs_pieces_t *p)
{
    if (!p->path)
        return RS_OK; /* released after a failure */
    if (!p->buf && !(p->buf = malloc(1))) {
        rs_pieces_release(p);
        return RS_ERR_NOMEM;
    }
    uint8_t *buf = p->buf;
    const size_t n = p->n;
    p->buf = NULL;
    const rs_err_e e = rs_pieces_send(p, buf, n, 0, 0);
    rs_pieces_release(p);
    return e;
}

rs_err_e rs_pieces_end_at_limit(rs_pieces_t *p)
{
    if (!p->path)
        return RS_OK; /* released after a failure */
    const uint64_t max = p->cfg->max_doc_bytes;
    /* the held bytes start at offset total - n of the document, and pieces
     * already sent end at line ends within the limit */
    size_t keep = p->n;
    if (max && p->total > max)
        keep -= (size_t)(p->total - max < keep ? p->total - max : keep);
    while (keep && p->buf[keep - 1] != '\n')
        keep--;
    const uint64_t kept = p->total - p->n + keep;
    p->n = keep;
    char msg[512];
    snprintf(msg, sizeof msg, "over the limit of %llu bytes (--max-document-size): cut at %llu bytes, %s",
             (unsigned long long)max, (unsigned long long)kept,
             kept ? "the last line end within it; the rest is not read" : "no line ends within it; nothing is kept");
    free(p->warning);
    if (!(p->warning = strdup(msg))) {
        rs_pieces_release(p);
        return RS_ERR_NOMEM;
    }
    return rs_pieces_end(p);
}

rs_err_e rs_pieces_abort(rs_pieces_t *p)
{
    rs_err_e e = RS_OK;
    free(p->buf);
    p->buf = NULL;
    if (p->sent && p->path) {
        uint8_t *empty = malloc(1);
        e = empty ? rs_pieces_send(p, empty, 0, 0, 1) : RS_ERR_NOMEM;
    }
    rs_pieces_release(p);
    return e;
}
