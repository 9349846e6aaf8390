/*
 * doc.h - rs_doc_t, one document in memory: its bytes, its format, its
 * metadata and its segments (speaker turns and unattributed text).
 *
 * A document owns its text buffer and every string in it. Format parsing
 * (format.c) overwrites the bytes that are not transcript text (labels,
 * timestamps, front matter, link targets) with spaces and cuts the text into
 * segments; a segment is scanned on its own, so no token, phrase or bigram
 * ever crosses a turn. One thread owns a document at a time.
 */
#ifndef RS_DOC_H
#define RS_DOC_H

#include <stddef.h>
#include <stdint.h>

typedef enum rs_format_e {
    RS_FORMAT_AUTO = 0,
    RS_FORMAT_PLAIN,    /* prose: no speakers */
    RS_FORMAT_CAPTION,  /* auto-captions: ">>" starts an anonymous turn */
    RS_FORMAT_LABELED,  /* "Name:" at the start of a line */
    RS_FORMAT_MARKDOWN, /* "**Name:**" at the start of a line */
    RS_FORMAT_SRT,      /* SubRip subtitles (subtitle.h) */
    RS_FORMAT_VTT,      /* WebVTT subtitles (subtitle.h) */
    RS_FORMAT_JSONL,    /* JSON Lines, one utterance per line (jsonl.h) */
    RS_FORMAT_WHISPER,  /* Whisper / WhisperX JSON: segments[] (jsonl.h) */
    RS_FORMAT_COUNT_
} rs_format_e;

const char *rs_format_name(rs_format_e f);
/* -1 when s names no format. */
int rs_format_parse(const char *s);

typedef struct rs_segment {
    size_t start, end; /* byte range in rs_doc_t.text */
    int32_t speaker;   /* index in rs_doc_t.speakers, -1 for none */
    uint8_t is_turn;   /* a speaker turn (named or anonymous) */
    uint32_t ms;       /* talk time from cue times (subtitles, Whisper), 0 when unknown */
} rs_segment_t;

typedef struct rs_strlist {
    char **s;
    size_t n, cap;
} rs_strlist_t;

typedef struct rs_doc_meta {
    char *title; /* NULL when absent */
    char *date;
    rs_strlist_t speakers;
    rs_strlist_t tags;
} rs_doc_meta_t;

typedef struct rs_doc {
    char *path;    /* as given, or "archive:member" */
    uint8_t *text; /* the bytes (BOM dropped), blanked by parsing */
    size_t len;
    uint64_t bytes; /* size of the input as read, BOM included */
    rs_format_e format;
    rs_segment_t *seg;
    size_t nseg, seg_cap;
    rs_strlist_t speakers; /* names in order of first turn */
    rs_doc_meta_t meta;
    char *warning; /* a non-fatal note about this document, or NULL */
    const struct rs_jsonl_keys *jsonl; /* JSON Lines field names (jsonl.h); NULL: defaults; not owned */
    /* A document larger than a shard arrives in pieces cut at line ends
     * (pieces.h): piece counts them from 0; more is 1 on every piece but the
     * last; broken marks an empty last piece sent when the rest of the
     * document could not be read, so that what came before is dropped. A
     * whole document has all three 0. */
    uint32_t piece;
    uint8_t more, broken;
} rs_doc_t;

/* The bad lines of one document: how many, and the first few described
 * (jsonl.c). */
typedef struct rs_badlines {
    size_t n;
    char text[512];
    size_t used;
} rs_badlines_t;

/* What parsing carries from one piece of a document to the next
 * (rs_doc_parse_piece in format.h). Zeroed before the first piece. */
typedef struct rs_carry {
    rs_format_e format; /* AUTO until the first piece is parsed */
    int32_t speaker;    /* the segment open at the end of the last piece */
    uint8_t is_turn;
    uint8_t open;       /* the format's last segment continues into the next piece */
    uint64_t lines;     /* JSON Lines: lines in the pieces before */
    rs_badlines_t bad;  /* JSON Lines: bad lines so far */
} rs_carry_t;

/* Appends a copy of s[0..len); returns its index, or -1 when out of memory. */
int64_t rs_strlist_push(rs_strlist_t *l, const char *s, size_t len);
void rs_strlist_free(rs_strlist_t *l);

/* Releases everything the document owns and zeroes it. */
void rs_doc_free(rs_doc_t *d);

#endif
