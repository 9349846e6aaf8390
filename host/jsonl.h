/*
 * jsonl.h - JSON transcripts, read with json-c: JSON Lines (one utterance
 * per line: {"speaker": "Ann", "text": "Hello."}) and Whisper / WhisperX
 * output (one object with segments[] of {text, start, end, speaker?}).
 *
 * Parsing replaces the document's bytes with the utterances' decoded text,
 * one per line, written in place from the start of the buffer (decoded text
 * is never longer than its JSON), and cuts it into segments: in JSON Lines
 * each line is a turn (anonymous when it has no speaker); in Whisper JSON
 * consecutive segments of one speaker make one turn, and segments without a
 * speaker are unattributed text. start/end (seconds) give talk time.
 * A bad JSON line (invalid JSON, not an object, no string text) is skipped
 * and named, with its line number, in the document's warning; the rest of
 * the document is kept.
 *
 * Pure per document; any number of threads may parse different documents.
 * The keys are read-only and owned by the caller (rs_scan_opts_t).
 */
#ifndef RS_JSONL_H
#define RS_JSONL_H

#include <stddef.h>
#include <stdint.h>

#include "doc.h"   /* rs_doc_t, rs_format_e */
#include "error.h" /* rs_err_e, rs_error_t */

#define RS_JSONL_TEXT_KEY "text"
#define RS_JSONL_SPEAKER_KEY "speaker"
#define RS_JSONL_START_KEY "start"
#define RS_JSONL_END_KEY "end"

/* Top-level keys of a JSON Lines object; NULL members take the defaults
 * above; doc NULL: one document per file. */
typedef struct rs_jsonl_keys {
    const char *text;
    const char *speaker;
    const char *doc; /* lines are grouped into documents by this key's value,
                      * or each line is one (RS_JSONL_DOC_LINE) */
} rs_jsonl_keys_t;

/* The doc "key" that makes each line its own document, file.jsonl#N for
 * line N: exports with one whole transcript per line and no id field. */
#define RS_JSONL_DOC_LINE "@line"

/* RS_FORMAT_JSONL or RS_FORMAT_WHISPER when the extension (.jsonl, .ndjson,
 * .json) or the content (a JSON object on the first line; "{" and a
 * "segments" key) says so, else RS_FORMAT_AUTO. Can't fail. */
rs_format_e rs_jsonl_detect(const char *path, const uint8_t *s, size_t len);

/* Parses d (BOM dropped) as f (JSONL or WHISPER), with d->jsonl's keys.
 * Errors: RS_ERR_NOMEM; for Whisper JSON RS_ERR_FORMAT when the document is
 * not one JSON object with segments[] or a string "text" (the document is
 * then skipped), RS_ERR_TOO_LARGE past 2 GiB. err names the path. */
rs_err_e rs_jsonl_parse(rs_doc_t *d, rs_format_e f, rs_error_t *err);
/* The same for one piece of a JSON Lines document (format.h,
 * rs_doc_parse_piece): line numbers go on from carry, and the bad lines of
 * all pieces are named in the last piece's warning. carry NULL: a whole
 * document. */
rs_err_e rs_jsonl_parse_piece(rs_doc_t *d, rs_format_e f, rs_carry_t *carry, rs_error_t *err);

/* Groups the lines of a JSON Lines document d by the value of keys->doc
 * (which must be set) into new documents named "path#value" (lines without
 * the key: "path"), in order of first appearance, each holding its lines in
 * order; with keys->doc RS_JSONL_DOC_LINE, each line into its own document
 * "path#N", N its line number in the file (blank lines count). Bad lines are left out and described, with their line numbers, in
 * *warning (malloc'd; NULL when none). The first group is also charged the
 * bytes of blank and bad lines, so the groups' bytes add up to d->bytes.
 * d is left untouched. On RS_ERR_NOMEM nothing is returned. *n may be 0. */
rs_err_e rs_jsonl_split(const rs_doc_t *d, const rs_jsonl_keys_t *keys, rs_doc_t **out, size_t *n,
                        char **warning);

#endif
