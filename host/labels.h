/*
 * labels.h - the speaker label rule, the list of non-speaker headings, and
 * timestamps; docs/labels.md states the rule in words, exactly.
 *
 * A label name is 1 to 5 words separated by single spaces, at most 40 bytes;
 * each word starts with an upper-case letter (one that case-folds to another
 * code point) or a digit and is made of letters, digits and . ' ’ - _, and
 * may end with a comma when another word follows ("Reece, Psy.D"). The name
 * is followed by ':' and then white space or the end of the line; a
 * timestamp may stand between the name and the colon ("Speaker 1 (00:12):",
 * as rev.com writes). A name that is a non-speaker heading (Note, Links, ...)
 * is not a label.
 *
 * The headings set is read-only once built; any thread may query it.
 */
#ifndef RS_LABELS_H
#define RS_LABELS_H

#include <stddef.h>
#include <stdint.h>

#include "dict.h"  /* rs_dict_t */
#include "error.h" /* rs_err_e, rs_error_t */

#define RS_LABEL_MAX_BYTES 40
#define RS_LABEL_MAX_WORDS 5

typedef struct rs_headings {
    rs_dict_t set; /* ASCII-lower-cased names */
} rs_headings_t;

/* The built-in list (labels.c; docs/labels.md). */
rs_err_e rs_headings_init_default(rs_headings_t *h);
/* Replaces the list with path's: one heading per line, '#' comments. */
rs_err_e rs_headings_load(rs_headings_t *h, const char *path, rs_error_t *err);
/* Adds one heading. */
rs_err_e rs_headings_add(rs_headings_t *h, const char *name, size_t len);
int rs_headings_has(const rs_headings_t *h, const uint8_t *name, size_t len);
void rs_headings_free(rs_headings_t *h);
/* The built-in list, NULL-terminated (for docs and tests). */
const char *const *rs_headings_default_list(void);

/* Length of the label name at s[0..len) (the words only), or 0 when no
 * valid name starts there. Does not look at what follows the name. */
size_t rs_label_name(const uint8_t *s, size_t len);

/* Full label at the start of s[0..len) (len = the line, without its '\n'):
 * returns the name's length and sets *text_at to the first byte after the
 * colon, or returns 0 when the line does not start with a label (headings
 * excluded when h is not NULL). */
size_t rs_label_match(const uint8_t *s, size_t len, const rs_headings_t *h, size_t *text_at);

/* Length of a timestamp at the start of s[0..len), or 0: [m:ss], [h:mm:ss],
 * with optional .fff or ,fff, in [..], \[..\] or (..); bare only with two
 * colons (01:02:03) so that times of day in prose stay words. */
size_t rs_timestamp_len(const uint8_t *s, size_t len);

/* Overwrites every timestamp in s[0..len) with spaces; returns how many. */
size_t rs_timestamps_blank(uint8_t *s, size_t len);

#endif
