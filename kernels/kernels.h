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
