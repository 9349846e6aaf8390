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

/* How far into a document detection looks. */
#define RS_DETECT_BYTES (1u << 20)

/* Format of s[0..len) judged from its first RS_DETECT_BYTES (never AUTO). */
rs_format_e rs_format_detect(const uint8_t *s, size_t len, const rs_headings_t *h);

/* Parses doc (path, text, len and bytes set; format AUTO or forced).
 * On error (RS_ERR_BINARY for binary data) the document is left for the
 * caller to free and should be skipped; err names the path. */
rs_err_e rs_doc_parse(rs_doc_t *doc, rs_format_e forced, const rs_headings_t *h, rs_error_t *err);

#endif
