/*
 * state.h - saved partial results: rs_stats_t plus the names of the two
 * lexicons, written to a versioned binary "state" file that `rostrum merge`
 * (or an MPI reduction) reads back and adds up. docs/cluster.md describes
 * the format field by field.
 *
 * A state holds everything a report is made from, so merging states of
 * disjoint document sets gives the report a single scan of all of them
 * gives (outside its "run" section), whatever the grouping and order.
 *
 * Layout: a fixed 32-byte header (magic, format version, flags, body
 * length, header checksum), the body (identity: rostrum version, tokenizer
 * version, lexicon digests; then lexicon names, counters, terms, bigrams,
 * speakers, lexicon stats, documents, notes), and an 8-byte checksum of the
 * body. Integers are little-endian and fixed-width; strings are a u32 length
 * and their bytes.
 *
 * Reading checks, in this order: empty, magic, format version, header
 * checksum, length (truncated or trailing bytes), body checksum, then the
 * structure (every count, index and string). Any failure returns
 * RS_ERR_STATE with a message that names the file and says which check
 * failed, and leaves nothing allocated.
 *
 * Writing goes to a temporary file next to the target, which is renamed
 * over it only when complete; on error the temporary is removed and the
 * target is untouched. Functions are reentrant: threads (or MPI ranks) may
 * encode and decode different states at once. The library never prints.
 */
#ifndef RS_STATE_H
#define RS_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"   /* rs_err_e, rs_error_t */
#include "lexicon.h" /* rs_lexicon_t */
#include "stats.h"   /* rs_stats_t */

/* First 8 bytes of every state file (PNG-style: catches text-mode damage). */
#define RS_STATE_MAGIC "\x89RSTATE\n"
#define RS_STATE_MAGIC_LEN 8
/* Layout version of the file; bumped when any field changes. 2: rs_hash64
 * (the header checksum, the lexicon digests) became the 16-byte-chunk hash
 * of kernels/hash.h. */
#define RS_STATE_FORMAT 2
/* Revision of the tokenization contract (kernels.h, docs/tokens.md): bump
 * it whenever a change could make the same text give different terms, so
 * that states from before and after are never merged. */
#define RS_STATE_TOKENIZER_REV 1
#define RS_STATE_HEADER_BYTES 32
#define RS_STATE_TRAILER_BYTES 8

/* A state read back: counts plus the lexicons' category and pattern names
 * (pattern lines are 0; digest is the one recorded by the writer). Owns all
 * its memory. */
typedef struct rs_state {
    rs_stats_t stats;
    rs_lexicon_t topics, entities;
    char *version;   /* rostrum version that wrote it */
    char *tokenizer; /* rs_state_tokenizer() of the writer */
} rs_state_t;

/* "rostrum-tokens/<rev> unicode/<version>": states must agree on it to be
 * merged. Static storage; can't fail. */
const char *rs_state_tokenizer(void);

/* Encodes st with the names of topics and entities (the lexicons st was
 * counted with: same numbers of categories and patterns) into a new buffer
 * that the caller frees. On error (RS_ERR_NOMEM, RS_ERR_INTERNAL when st
 * and the lexicons disagree) *out is NULL. */
rs_err_e rs_state_encode(const rs_stats_t *st, const rs_lexicon_t *topics, const rs_lexicon_t *entities,
                         uint8_t **out, size_t *len, rs_error_t *err);

/* Writes the same bytes to path, through a temporary file renamed over
 * path when complete. On error err names the path and path is untouched. */
rs_err_e rs_state_save(const char *path, const rs_stats_t *st, const rs_lexicon_t *topics,
                       const rs_lexicon_t *entities, rs_error_t *err);

/* Decodes buf[0..len) into *s; name is used in messages. On error
 * (RS_ERR_STATE, RS_ERR_NOMEM) *s is zeroed and err says what, starting
 * with name. buf is not kept. */
rs_err_e rs_state_decode(rs_state_t *s, const uint8_t *buf, size_t len, const char *name, rs_error_t *err);

/* Reads and decodes the file at path (RS_ERR_IO when it cannot be read). */
rs_err_e rs_state_load(rs_state_t *s, const char *path, rs_error_t *err);

/* Checks that src can be added to dst (same tokenizer, same lexicons) and
 * adds it: src keeps its counts but loses its documents and notes (moved,
 * see rs_stats_merge); the caller frees it. On a mismatch returns
 * RS_ERR_STATE, naming src_name and dst_name, with dst unchanged. */
rs_err_e rs_state_merge(rs_state_t *dst, const char *dst_name, rs_state_t *src, const char *src_name,
                        rs_error_t *err);

/* Releases everything s owns and zeroes it. Can't fail. */
void rs_state_free(rs_state_t *s);

#endif
