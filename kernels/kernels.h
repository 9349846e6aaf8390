/*
 * kernels.h - the kernel table: what a backend (scalar reference, each SIMD
 * level, later OpenCL) provides, and how one is chosen.
 *
 * A kernel never allocates, never prints and never fails: the caller sizes
 * the output (see rs_tokens_reserve in host/tokens.h) before the call.
 * Kernels are pure functions of their input; any number of threads may call
 * them at once on different outputs.
 *
 * Tokenization contract (the scalar reference in tokenize_scalar.c is the
 * specification; docs/tokens.md says it in words):
 *   - text is split at Unicode default word boundaries (UAX #29, Unicode
 *     15.0); each invalid UTF-8 byte decodes to U+FFFD (WB=Other) on its own
 *     and is counted in invalid_bytes;
 *   - a segment is a token when it holds at least one code point of
 *     General_Category L*, Nd or Pc, or with Ideographic=Yes;
 *   - each token's code points are case-folded (CaseFolding.txt, statuses C
 *     and S), re-encoded as UTF-8 and appended to fold; its rs_token_t gives
 *     the offset and length of those bytes in fold and rs_hash64 of them.
 *   - text must start at a "safe cut" (rs_safe_cut): the start of a document
 *     or turn, or a position where segmentation does not depend on what came
 *     before, so that cutting a long text at safe cuts never changes tokens.
 */
#ifndef RS_KERNELS_H
#define RS_KERNELS_H

#include <stddef.h>
#include <stdint.h>

typedef struct rs_token {
    uint32_t off;  /* offset of the folded bytes in rs_tokens_t.fold */
    uint32_t len;  /* length of the folded bytes */
    uint64_t hash; /* rs_hash64(fold + off, len) */
} rs_token_t;

/* Output of a tokenize call. The kernel appends: tok[n..], fold[fold_len..],
 * and adds to invalid_bytes. Capacity needed for len input bytes:
 * tok_cap >= n + len and fold_cap >= fold_len + 2 * len. */
typedef struct rs_tokens {
    rs_token_t *tok;
    size_t n;
    size_t tok_cap;
    uint8_t *fold;
    size_t fold_len;
    size_t fold_cap;
    uint64_t invalid_bytes;
    /* Term numbers, which only a device's batched calls give
     * (rs_tokenize_spans_fn): a caller that wants them points term at room
     * for tok_cap numbers and clears numbered before the call. A backend
     * that numbers the terms of every token it appends sets numbered, and
     * gives token k the number term[k] in [nterms, nterms + m), then adds
     * m to nterms: tokens with one number have the same folded bytes (a
     * term may have several: each device pass numbers its own). Others
     * leave all three alone. */
    uint32_t *term;
    size_t nterms;
    int numbered;
} rs_tokens_t;

typedef void (*rs_tokenize_fn)(const uint8_t *text, size_t len, rs_tokens_t *out);

/* One text of a batched tokenize call. */
typedef struct rs_span {
    const uint8_t *text;
    size_t len;
} rs_span_t;

/* Batched tokenization: appends the tokens of spans[0..n) to out, those of
 * each span exactly as its own tokenize call would give them, in order, and
 * sets ntok[i] to the number of tokens of span i. Capacity: as for one call
 * on the sum of the lengths. For backends where one call costs a fixed
 * price (a device pass), so that a whole shard's turns go in one. */
typedef void (*rs_tokenize_spans_fn)(const rs_span_t *spans, size_t n, rs_tokens_t *out, size_t *ntok);

/* Counts reduced on a device (rs_count_spans_fn): the statistics of a
 * batch of spans without its tokens. Each term record stands for the
 * tokens of one term (equal folded bytes) in a stretch of the batch; a term
 * may have several records (one per device pass), in the order of their
 * tokens. Records are in the order of their first token, so that putting
 * each record's term into a dictionary in record order gives terms the ids
 * that counting token by token would. */
typedef struct rs_count_term {
    uint64_t first;          /* the batch-wide index of its first token */
    uint64_t hash;           /* rs_hash64 of its folded bytes */
    uint32_t off, len;       /* its folded bytes in rs_counts_t.fold */
    uint32_t count;          /* its tokens */
    uint32_t docs;           /* distinct documents among them (doc[] values) */
    uint32_t doc_lo, doc_hi; /* the first and the last of them */
} rs_count_term_t;

/* A bigram: two tokens in a row in one span, the first of term record a,
 * the second of b; records in the order of their first occurrence (the
 * index of its second token); one record per pair of term records. */
typedef struct rs_count_pair {
    uint64_t first;
    uint32_t a, b;
    uint64_t count;
} rs_count_pair_t;

/* A lexicon pattern that matches at a token, found on a device: pat is an
 * index into the compiled matcher's patterns (host/matcher.h), tok the
 * batch-wide index of the token it starts at. */
typedef struct rs_count_hit {
    uint32_t tok, pat;
} rs_count_hit_t;

struct rs_matcher; /* host/matcher.h */

/* What rs_count_spans_fn fills. The callee grows the arrays with realloc;
 * the caller owns them and frees them with free(), reusing them between
 * calls.
 *
 * match[0..1] are the caller's: compiled lexicons to match as well, or
 * NULL. A callee that matched them sets matched, fills hit[k][0..nhit[k])
 * with every pattern of match[k] that matches at a token (matches never
 * cross a span), in token order and, at one token, in the order
 * rs_matcher_take (host/matcher.h) wants, and then gives tok no tokens.
 * A callee that did not (matched 0) gives tok the tokens as without
 * lexicons. */
typedef struct rs_counts {
    rs_count_term_t *term;
    size_t nterm, term_cap;
    rs_count_pair_t *pair;
    size_t npair, pair_cap;
    uint8_t *fold;
    size_t fold_len, fold_cap;
    uint64_t invalid_bytes;
    const struct rs_matcher *match[2];
    int matched;
    rs_count_hit_t *hit[2];
    size_t nhit[2], hit_cap[2];
} rs_counts_t;

/* Counts the tokens of spans[0..n) (each tokenized as its own call would),
 * span i belonging to document doc[i] (non-decreasing): resets out and
 * fills it, and sets ntok[i] to span i's token count. tok: NULL, or where
 * the tokens go as well, for a caller that still needs them (lexicon
 * matching): appended as rs_tokenize_spans_fn appends them (same capacity),
 * without term numbers. Returns 1 when it counted, 0 when it could not (a
 * fault, out of memory): out and ntok then mean nothing, tok is as it was,
 * and the caller tokenizes the spans instead. */
typedef int (*rs_count_spans_fn)(const rs_span_t *spans, const uint32_t *doc, size_t n, rs_counts_t *out,
                                 rs_tokens_t *tok, size_t *ntok);

/* CPU features a table needs (bit set), checked by rs_kernels_select. */
enum {
    RS_CPU_SSE42 = 1u << 0,
    RS_CPU_AVX2 = 1u << 1,
    RS_CPU_AVX512BW = 1u << 2,
    RS_CPU_NEON = 1u << 3,
};

typedef struct rs_kernels {
    const char *name;        /* "scalar", "avx2", ... */
    const char *description; /* one line for `rostrum devices` */
    uint32_t required;       /* RS_CPU_* bits */
    rs_tokenize_fn tokenize;
    rs_tokenize_spans_fn tokenize_spans; /* NULL: callers call tokenize per span (CPU tables) */
    rs_count_spans_fn count_spans;       /* NULL: callers count from the tokens (all but devices) */
} rs_kernels_t;

/* The scalar reference table; always available. */
extern const rs_kernels_t rs_kernels_scalar;

/* Tables compiled into this build, best first, scalar last; NULL-terminated. */
const rs_kernels_t *const *rs_kernels_all(void);

/* RS_CPU_* bits this CPU (and OS) supports. Can't fail. */
uint32_t rs_cpu_features(void);

/* The table named name ("auto" or NULL: the best this CPU runs), or NULL
 * when no such table exists or this CPU cannot run it. A name no CPU table
 * has goes to the hook (rs_kernels_set_hook), when one is set. */
const rs_kernels_t *rs_kernels_select(const char *name);

/* A selector for backends that live outside kernels/ (the OpenCL device
 * backend, host/opencl.c, installs one): rs_kernels_select passes it every
 * name that no table of rs_kernels_all has, and returns what it returns
 * (NULL: no such backend). Set once at start-up; NULL removes it. */
typedef const rs_kernels_t *(*rs_kernels_hook_fn)(const char *name);
void rs_kernels_set_hook(rs_kernels_hook_fn fn);

/* Largest p <= len such that text[0..p) can be tokenized on its own and
 * text[p..) after it without changing any token: p is 0 or follows an ASCII
 * space, tab or LF that is followed by an ASCII byte other than a space.
 * Returns 0 when there is no such p > 0. Can't fail. */
size_t rs_safe_cut(const uint8_t *text, size_t len);

#endif
