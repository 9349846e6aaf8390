/*
 * format.h - detecting a document's format and cutting it into segments.
 *
 * rs_doc_parse works in place on a document that owns its bytes: it drops a
 * UTF-8 BOM, refuses binary input, reads a YAML front matter block into
 * metadata, finds speaker labels (labels.h) or caption markers, blanks
 * timestamps, labels and link targets with spaces, and records segments.
 * docs/formats.md describes each format for users. Pure per document; any
 * number of threads may parse different documents.
 */
#ifndef RS_FORMAT_H
#define RS_FORMAT_H

#include "doc.h"    /* rs_doc_t, rs_format_e */
#include "error.h"  /* rs_err_e, rs_error_t */
#include "labels.h" /* rs_headings_t */

/* How far into a document (after its front matter) detection looks. */
#define RS_DETECT_BYTES (1u << 20)
/* Lines a front matter block may have before its closing line. */
#define RS_FRONT_MATTER_LINES 1000

/* Format of s[0..len) judged from its first RS_DETECT_BYTES (never AUTO). */
rs_format_e rs_format_detect(const uint8_t *s, size_t len, const rs_headings_t *h);

/* Parses doc (path, text, len and bytes set; format AUTO or forced).
 * On error (RS_ERR_BINARY for binary data) the document is left for the
 * caller to free and should be skipped; err names the path. */
rs_err_e rs_doc_parse(rs_doc_t *doc, rs_format_e forced, const rs_headings_t *h, rs_error_t *err);

/* The same for one piece of a document that arrives in pieces cut at line
 * ends (rs_doc_t.piece; pieces.h says where cuts fall). Piece 0 is parsed as
 * a whole document would be (it holds at least rs_doc_head_bytes of it);
 * a later piece takes the format and the open segment from carry (zeroed
 * before piece 0), and doc->speakers must hold the speakers of the pieces
 * before, in order, which it extends. Each piece updates carry. The pieces'
 * segments, laid end to end, are the whole document's, except that a
 * segment open at a cut is cut in two (carry->open). */
rs_err_e rs_doc_parse_piece(rs_doc_t *doc, rs_format_e forced, const rs_headings_t *h, rs_carry_t *carry,
                            rs_error_t *err);

/* How many bytes at the start of a document, s[0..len) being what has been
 * read of it so far, the first piece must hold so that parsing it gives the
 * same format, front matter and metadata as the whole document: its BOM,
 * front matter and RS_DETECT_BYTES. 0 when s is too short to know yet. */
size_t rs_doc_head_bytes(const uint8_t *s, size_t len);

#endif
