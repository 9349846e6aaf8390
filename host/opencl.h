/*
 * opencl.h - the OpenCL backend: device discovery, per-device builds of the
 * embedded kernels (the .cl files of kernels/opencl) with an on-disk binary cache, and a
 * tokenize entry that gives exactly what rs_scalar_tokenize gives.
 *
 * What runs on the device: tokenization of each piece (segmentation, case
 * folding, rs_hash64, compaction into the reference's order). The host cuts
 * nothing (work-items find their own safe cuts), uploads the piece, and
 * reads back the finished tokens and folded bytes straight into the
 * caller's rs_tokens_t. For a batch that asks (rs_tokens_t.term), and a
 * handle whose terms option allows it, the device also numbers the terms
 * of each pass (kernels/opencl/tokenize_terms.cl), so that the host looks
 * each term up in its dictionary once per number rather than once per
 * token. A handle whose count option allows it also counts a batch on
 * the device (rs_opencl_count_spans, kernels/opencl/tokenize_terms_count.cl:
 * terms, their documents, bigrams, each span's tokens), and then only those
 * statistics come back, no tokens; its lexicons are matched there too
 * (kernels/opencl/tokenize_terms_match.cl), and the patterns found come
 * back for the host's overlap rule (rs_matcher_take).
 * A scan sends one batch per shard (rs_opencl_tokenize_spans: all the turns
 * of the shard's documents in one call), so that the fixed cost of a
 * device call is paid once per shard, not once per turn.
 *
 * DESIGN
 *   Handles: rs_opencl_open builds the program for one device (or loads it
 *   from the cache) and owns a context, the uploaded Unicode tables and a
 *   few "lanes" (a command queue, its kernels and buffers). Buffers grow on
 *   demand up to a window of RS_OPENCL_WINDOW bytes of text; a longer text
 *   is cut at safe cuts into windows.
 *   Threads: rs_opencl_tokenize may be called from any number of threads at
 *   once; each call takes a free lane (waiting for one, or, for a handle
 *   opened with hybrid set, running on the CPU when none is free), so two
 *   callers overlap one's transfers with the other's kernels. A batch
 *   longer than a window also takes the other lane when it is free (in
 *   hybrid mode too, where callers only get the first) and alternates its
 *   windows between the two: the next window's upload and kernels run
 *   while this one's results are read back (double-buffering).
 *   Short texts (under min_device_bytes, default RS_OPENCL_MIN_BYTES) run
 *   on the CPU: host/scan.c calls tokenize once per turn, and a device
 *   call costs more than tokenizing a short turn on the CPU.
 *   Faults lose nothing: when the build failed, or a call fails (out of
 *   resources, a lost device, a kernel reporting a broken bound), that piece
 *   and every later one run on the CPU (the best CPU kernel table), the
 *   handle is marked failed and a warning is kept (with the build log, or
 *   the OpenCL error). The library never prints: rs_opencl_take_warnings
 *   hands the warnings to the caller.
 *   Kernel tables: rs_opencl_register installs a hook in kernels/dispatch.c
 *   so that rs_kernels_select("opencl"), ("opencl:P:D") and their "+cpu"
 *   (hybrid) forms return an rs_kernels_t whose tokenize runs on that device;
 *   "auto+opencl" is "opencl+cpu": the device alongside the CPU workers (one
 *   lane: the worker that finds it free feeds the device, the others and
 *   every short text run the best CPU table).
 *   Those handles live until rs_opencl_shutdown (at most RS_OPENCL_SLOTS).
 *   Locality: hwloc's OpenCL helper gives the PUs near each device (a
 *   GPU's PCI locality; all of them for a CPU device or a machine of one
 *   locality). When they are fewer than the machine's, a thread feeding
 *   the device is bound to them for the call and bound back after.
 *   Cache: compiled binaries are kept in $XDG_CACHE_HOME/rostrum (else
 *   ~/.cache/rostrum), one file per platform, device, driver, kernel source
 *   and build options; a missing, stale or unusable entry is rebuilt, and
 *   a cache that cannot be written is only noted (rs_opencl_info).
 *
 * Built without OpenCL (RS_OPENCL undefined), every call reports that no
 * device exists; nothing else changes.
 */
#ifndef RS_OPENCL_H
#define RS_OPENCL_H

#include <stddef.h>
#include <stdint.h>

#include "doc.h"     /* rs_strlist_t */
#include "error.h"   /* rs_err_e, rs_error_t */
#include "kernels.h" /* rs_kernels_t, rs_tokens_t */

/* Most bytes of text one device pass takes; longer texts are windowed. */
#define RS_OPENCL_WINDOW (4u << 20)
/* Default for the shortest text sent to the device: below it the fixed
 * cost of a device call (about 60 us on POCL's CPU device on a quiet
 * machine, bench/RESULTS.md) outweighs the work, so the text runs on the
 * CPU. */
#define RS_OPENCL_MIN_BYTES (64u << 10)
/* Most handles rs_kernels_select can open at once. */
#define RS_OPENCL_SLOTS 8

/* One device as discovered, with the outcome of building the kernels when
 * asked for. */
typedef struct rs_opencl_devinfo {
    unsigned platform, device;  /* indices for "opencl:P:D" */
    char platform_name[128];
    char platform_version[128];
    char device_name[128];
    char device_version[128];
    char driver_version[128];
    const char *type;           /* "gpu", "cpu", "accelerator", "other" */
    unsigned compute_units;
    uint64_t global_mem_bytes;
    uint64_t max_alloc_bytes;
    uint64_t local_mem_bytes;
    int built;                  /* 1 kernels built, 0 failed, -1 not tried */
    int from_cache;             /* 1 when the binary came from the cache */
    char status[512];           /* "built", "built (cached)", why not */
    char near[112];             /* the PUs near the device ("all PUs", "PUs 0-15"), from hwloc */
} rs_opencl_devinfo_t;

typedef struct rs_opencl_opts {
    const char *cache_dir;      /* NULL: the default; "": no cache */
    const char *build_options;  /* appended to the defaults; NULL: none */
    uint32_t subchunk_bytes;    /* text per work-item; 0: by device type */
    int hybrid;                 /* 1: when every lane is busy, run on the CPU */
    int64_t min_device_bytes;   /* shorter texts run on the CPU; -1: the environment's
                                 * ROSTRUM_OPENCL_MIN_BYTES, else RS_OPENCL_MIN_BYTES */
    int fault;                  /* tests: 1 makes every kernel run report a fault */
    uint32_t window_bytes;      /* most text per device pass; 0: RS_OPENCL_WINDOW (tests use less) */
    int terms;                  /* term numbers for batches that ask (rs_tokens_t.term): 1 on, -1 off,
                                 * 0 the environment's ROSTRUM_OPENCL_TERMS (1 or 0), else on for every
                                 * device type but "cpu" (where the same cores would do the work the
                                 * numbers save the host) */
    int count;                  /* count batches on the device (rs_opencl_count_spans, numbering its passes
                                 * whatever terms says): 1 on,
                                 * -1 off, 0 the environment's ROSTRUM_OPENCL_COUNT (1 or 0), else as for
                                 * terms */
    int match;                  /* with count: match the lexicons of a batch (rs_counts_t.match) on the device
                                 * as well: 1 on, -1 off, 0 the environment's ROSTRUM_OPENCL_MATCH (1 or 0),
                                 * else on */
} rs_opencl_opts_t;

typedef struct rs_opencl rs_opencl_t;

/* Counters of one handle (for reports and tests). */
typedef struct rs_opencl_counts {
    uint64_t device_calls, device_bytes; /* device passes and their bytes */
    uint64_t short_calls, short_bytes;   /* texts under min_device_bytes, run on the CPU */
    uint64_t cpu_calls, cpu_bytes;       /* other texts that went to the CPU (faults, busy
                                          * lanes in hybrid mode, no safe cut in a window) */
    uint64_t paired_calls;               /* batches double-buffered over two lanes */
    uint64_t numbered_calls;             /* batches whose terms the device numbered */
    uint64_t counted_calls;              /* batches the device counted (rs_opencl_count_spans) */
    uint64_t matched_calls;              /* of those, batches whose lexicons it matched too */
} rs_opencl_counts_t;

/* Whether this build has OpenCL support compiled in. Can't fail. */
int rs_opencl_compiled(void);

/* Every device of every platform into a new array (*out, *n; free with
 * free()). With build set, each device's kernels are built (or loaded from
 * the cache) and the outcome recorded. No platform is not an error: *n is 0
 * and err says why (RS_ERR_DEVICE) only when the loader itself failed.
 * Returns RS_ERR_NOMEM or RS_ERR_DEVICE on failure. */
rs_err_e rs_opencl_devices(rs_opencl_devinfo_t **out, size_t *n, int build, rs_error_t *err);

/* Opens device d of platform p. opts NULL: all defaults (as with
 * min_device_bytes -1); a zeroed rs_opencl_opts_t sends every text to the
 * device. A build failure is not an error: the handle is returned, marked
 * failed (rs_opencl_usable is 0), and its tokenize runs
 * on the CPU with a warning that holds the build log. Fails (NULL, err set:
 * RS_ERR_DEVICE, RS_ERR_NOMEM) only when the device does not exist or no
 * context can be made. */
rs_opencl_t *rs_opencl_open(unsigned p, unsigned d, const rs_opencl_opts_t *opts, rs_error_t *err);

/* Releases everything; h may be NULL. No call may be in flight. */
void rs_opencl_close(rs_opencl_t *h);

/* 1 when the kernels built and no fault has happened since. */
int rs_opencl_usable(const rs_opencl_t *h);

/* What rs_opencl_devices reports for this device, build outcome included. */
const rs_opencl_devinfo_t *rs_opencl_info(const rs_opencl_t *h);

/* The kernel contract of kernels.h, on the device: appends text[0..len)'s
 * tokens to out (capacity as rs_scalar_tokenize needs). Never fails: on a
 * fault the text is tokenized on the CPU. Thread-safe. */
void rs_opencl_tokenize(rs_opencl_t *h, const uint8_t *text, size_t len, rs_tokens_t *out);

/* The batched contract of kernels.h (rs_tokenize_spans_fn): every span of
 * spans[0..n) in one go, joined on the host with a '\n' after each span
 * (which ends and begins a segment whatever surrounds it, so each span
 * tokenizes as if alone) and sent in passes of at most one window; the
 * device also returns each token's first byte, which says whose it is.
 * A batch of fewer than min_device_bytes runs on the CPU, span by span,
 * and so does one that meets a fault (nothing of it is kept from the
 * device). Never fails. Thread-safe. */
void rs_opencl_tokenize_spans(rs_opencl_t *h, const rs_span_t *spans, size_t n, rs_tokens_t *out, size_t *ntok);

/* The counting contract of kernels.h (rs_count_spans_fn) on the device:
 * the spans are joined and windowed as for rs_opencl_tokenize_spans, each
 * pass is tokenized, numbered and counted on the device
 * (kernels/opencl/tokenize_terms_count.cl), and only its term records,
 * pair records and per-span first and last tokens come back. With
 * lexicons in out->match, a handle that matches (rs_opencl_opts_t.match)
 * matches them on the device too (kernels/opencl/tokenize_terms_match.cl)
 * when every span fits one pass (passes then end where spans do), and
 * only the patterns found come back (out->hit, out->matched set);
 * otherwise, with tok, the tokens come back too (appended, as
 * rs_opencl_tokenize_spans gives them, without term numbers; tok is as it
 * was when 0 is returned). Returns 0
 * (nothing counted: the caller tokenizes the spans) when the handle does
 * not count, the batch is empty or under min_device_bytes, the lanes are busy in
 * hybrid mode, or on a fault (which marks the handle failed, with a
 * warning). Thread-safe. */
int rs_opencl_count_spans(rs_opencl_t *h, const rs_span_t *spans, const uint32_t *doc, size_t n, rs_counts_t *out,
                          rs_tokens_t *tok, size_t *ntok);

/* Counters since open. Thread-safe. */
rs_opencl_counts_t rs_opencl_counts(rs_opencl_t *h);

/* Moves the warnings of h (NULL: of every handle rs_kernels_select opened)
 * to the end of into. Returns RS_ERR_NOMEM when they could not all be
 * moved (what was not moved is kept). Thread-safe. */
rs_err_e rs_opencl_take_warnings(rs_opencl_t *h, rs_strlist_t *into);

/* Benchmarks only: uploads text once, then runs the kernels reps times on
 * it (terms 1: the term numbering too; 2: and the counting, the text as
 * one span, for a handle opened to count; 3: and the matching of the
 * lexicons lex[0..1], each NULL or a compiled matcher) with nothing read
 * back but the totals; *seconds is the wall time of the reps runs,
 * *tokens the token count of one run. RS_ERR_DEVICE on an OpenCL error,
 * RS_ERR_UNSUPPORTED when the handle is not usable or len is over
 * RS_OPENCL_WINDOW. */
struct rs_matcher;
rs_err_e rs_opencl_bench_kernels(rs_opencl_t *h, const uint8_t *text, size_t len, unsigned reps, int terms,
                                 const struct rs_matcher *const lex[2], double *seconds, uint64_t *tokens,
                                 rs_error_t *err);

/* Installs the device hook of rs_kernels_select (kernels/dispatch.c).
 * Idempotent; thread-safe. */
void rs_opencl_register(void);

/* The handle behind a table that rs_kernels_select returned for an
 * "opencl..." name, or NULL for any other table. */
rs_opencl_t *rs_opencl_of_kernels(const rs_kernels_t *k);

/* Whether an OpenCL driver other than POCL's is installed, from the ICD
 * files alone (OCL_ICD_VENDORS, a folder or one file, else
 * the .icd files of /etc/OpenCL/vendors): 0 when every one names libpocl, or there is
 * none. No OpenCL library is loaded, so that "auto" costs nothing on a
 * machine whose only driver is POCL's, whose devices are CPUs (loading it
 * costs about 60 MB of memory: a scan of the sample peaked at 70 MB of
 * RSS with it, 8 MB without). Can't fail. */
int rs_opencl_may_have_gpu(void);

/* The counters behind a table that rs_kernels_select returned for an
 * "opencl..." name (summed over a group's devices) into *c; 0 (and *c
 * zeroed) for any other table. */
int rs_opencl_kernels_counts(const rs_kernels_t *k, rs_opencl_counts_t *c);

/* Closes the handles that rs_kernels_select opened (their tables must no
 * longer be in use). */
void rs_opencl_shutdown(void);

#endif
