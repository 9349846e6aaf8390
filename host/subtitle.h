/*
 * subtitle.h - SubRip (.srt) and WebVTT (.vtt) documents, and the dispatch
 * for every format that is not line-labelled prose (subtitles, JSON Lines,
 * Whisper JSON; see jsonl.h). docs/formats.md describes the rules for users.
 *
 * Parsing works in place on a document that owns its bytes, like format.c:
 * cue numbers, timing lines, the WebVTT header, NOTE/STYLE/REGION blocks,
 * markup tags (<i>, <c.x>, <00:01.000>, {\an8}) and character references are
 * overwritten with spaces, and the cue text is cut into segments. A speaker
 * comes from a <v Name> voice tag or from "Name:" / "[SPEAKER_00]:" at the
 * start of a cue line; a turn starts when the speaker changes; "- " or ">>"
 * at the start of a line starts a new anonymous turn. Each cue's duration
 * is shared equally between the segments holding its text (rs_segment_t.ms).
 *
 * Pure per document; any number of threads may parse different documents.
 */
#ifndef RS_SUBTITLE_H
#define RS_SUBTITLE_H

#include <stddef.h>
#include <stdint.h>

#include "dict.h"   /* rs_dict_t */
#include "doc.h"    /* rs_doc_t, rs_format_e */
#include "error.h"  /* rs_err_e, rs_error_t */
#include "labels.h" /* rs_headings_t */

/* RS_FORMAT_SRT or RS_FORMAT_VTT when path's extension (.srt, .vtt) or the
 * content says so (a "WEBVTT" first line; a cue number then a timing line),
 * else RS_FORMAT_AUTO. Can't fail. */
rs_format_e rs_subtitle_detect(const char *path, const uint8_t *s, size_t len);

/* Parses d (BOM already dropped) as f (SRT or VTT). Fails only when out of
 * memory (RS_ERR_NOMEM, err names the path). */
rs_err_e rs_subtitle_parse(rs_doc_t *d, rs_format_e f, const rs_headings_t *h, rs_error_t *err);

/* The format of d when it is one of the four above: forced when forced is
 * one of them, else RS_FORMAT_AUTO when forced is another format, else
 * detected from the path and content (subtitles first, then JSON). Returns
 * RS_FORMAT_AUTO for everything format.c handles. Can't fail. */
rs_format_e rs_media_detect(const rs_doc_t *d, rs_format_e forced);

/* Parses d as f (a format rs_media_detect returns). */
rs_err_e rs_media_parse(rs_doc_t *d, rs_format_e f, const rs_headings_t *h, rs_error_t *err);
/* The same for a piece of a document (format.h, rs_doc_parse_piece); carry
 * NULL: a whole document. Whisper JSON never comes in pieces. */
rs_err_e rs_media_parse_piece(rs_doc_t *d, rs_format_e f, const rs_headings_t *h, rs_carry_t *carry,
                              rs_error_t *err);

/* --- shared with jsonl.c: building a document's speakers and segments --- */

typedef struct rs_turns {
    rs_doc_t *doc;
    rs_dict_t names; /* name -> int32_t index into doc->speakers */
} rs_turns_t;

/* Starts with the speakers already in d->speakers (those of the pieces
 * before); fails only when out of memory. */
rs_err_e rs_turns_init(rs_turns_t *t, rs_doc_t *d);
/* Adds speakers[i] -> i (int32_t values) to names; RS_ERR_NOMEM only. */
rs_err_e rs_turns_seed(rs_dict_t *names, const rs_strlist_t *speakers);
void rs_turns_free(rs_turns_t *t);
/* Index of the speaker named s[0..len) after trimming white space and
 * turning control characters into spaces (added in order of first turn);
 * -1 when the name is empty or longer than RS_SPEAKER_NAME_MAX; -2 when out
 * of memory. */
int32_t rs_turns_speaker(rs_turns_t *t, const uint8_t *s, size_t len);
/* Appends a segment. */
rs_err_e rs_turns_push(rs_turns_t *t, size_t start, size_t end, int32_t speaker, int is_turn, uint32_t ms);

#define RS_SPEAKER_NAME_MAX 200

/* Extension of the last component of path (after the last '/' or ':'),
 * without the dot; "" when none. */
const char *rs_path_ext(const char *path);

#endif
