/*
 * lexicon.h - dictionaries of topics or entities, read from the formats
 * analysts already have: quanteda-style YAML, LIWC .dic, Lexicoder .lc3 and
 * plain TSV (category<TAB>pattern). docs/lexicons.md describes each.
 *
 * A lexicon is a list of categories in first-seen order, each with its
 * patterns in first-seen order (duplicates within a category dropped).
 * Loading more files into the same lexicon merges categories by name.
 * Patterns are kept as written (trimmed); turning them into folded tokens is
 * the matcher's job (matcher.h). The lexicon owns all its strings.
 * Not thread-safe while loading; read-only afterwards.
 */
#ifndef RS_LEXICON_H
#define RS_LEXICON_H

#include <stddef.h>
#include <stdint.h>

#include "error.h" /* rs_err_e, rs_error_t */

typedef enum rs_lexfmt_e {
    RS_LEXFMT_AUTO = 0, /* by extension, then by content */
    RS_LEXFMT_YAML,     /* .yml .yaml: quanteda dictionary */
    RS_LEXFMT_LIWC,     /* .dic */
    RS_LEXFMT_LEXICODER,/* .lc3 .lcd */
    RS_LEXFMT_TSV,      /* .tsv .txt: category<TAB>pattern */
} rs_lexfmt_e;

typedef struct rs_lex_pattern {
    char *text;    /* as written, surrounding white space trimmed */
    uint32_t line; /* line in the file it came from (1-based) */
} rs_lex_pattern_t;

typedef struct rs_lex_category {
    char *name; /* nested YAML keys joined with '/' */
    rs_lex_pattern_t *pat;
    size_t n, cap;
} rs_lex_category_t;

typedef struct rs_lexicon {
    rs_lex_category_t *cat;
    size_t n, cap;
    uint64_t digest; /* rs_hash64-based digest of all categories and patterns,
                        order-sensitive; updated by every load */
    /* Non-fatal warnings from successful loads, oldest first, each
     * "path:line: message" (e.g. a LIWC2007 conditional field that was
     * skipped). Owned by the lexicon; read them with rs_lexicon_warnings.
     * Not part of the digest. A failed load adds none. */
    char **warn;
    size_t nwarn, capwarn;
} rs_lexicon_t;

/* Zero-initialised rs_lexicon_t is a valid empty lexicon. */

/* Reads path (format fmt, or detected when RS_LEXFMT_AUTO) and merges its
 * categories into lex. On error returns RS_ERR_LEXICON (or RS_ERR_IO,
 * RS_ERR_NOMEM) with err->msg "path:line: what is wrong", and lex is left
 * as it was before the call. */
rs_err_e rs_lexicon_load(rs_lexicon_t *lex, const char *path, rs_lexfmt_e fmt, rs_error_t *err);

/* Same, from a buffer; name is used in messages and for format detection. */
rs_err_e rs_lexicon_load_mem(rs_lexicon_t *lex, const char *name, const char *data, size_t len,
                             rs_lexfmt_e fmt, rs_error_t *err);

/* "yaml", "liwc", "lexicoder", "tsv" -> format; RS_LEXFMT_AUTO for "auto";
 * -1 for anything else. */
int rs_lexfmt_parse(const char *s);

/* Warnings recorded by the successful loads into lex so far: returns their
 * count and, when msgs is not NULL, points *msgs at the array of messages
 * ("path:line: message"), valid until the next load or rs_lexicon_free.
 * lex may be NULL (0 warnings). Can't fail. */
size_t rs_lexicon_warnings(const rs_lexicon_t *lex, const char *const **msgs);

/* Frees every string and array lex owns and leaves it zeroed (a valid empty
 * lexicon). lex may be NULL. Can't fail. */
void rs_lexicon_free(rs_lexicon_t *lex);

#endif
