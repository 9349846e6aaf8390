/*
 * bench.h - measuring rostrum on this machine (`rostrum bench`): an
 * in-memory corpus (read from paths, or generated deterministically), a
 * lexicon generated from its vocabulary, every kernel timed on every
 * backend this CPU runs, each result checked against the scalar reference
 * before its figures exist, and the facts of the machine and the build.
 *
 * DESIGN
 *   What is timed (one "pass" = the whole corpus once):
 *     tokenize+fold+hash  each backend's tokenize over every document's
 *                         whole text, cut at safe cuts into pieces of at
 *                         most RS_CHUNK_BYTES (folding and hashing are
 *                         fused into tokenize); on each OpenCL device too
 *                         (backend "opencl:P:D", every piece on the device);
 *     fold+hash           the scalar reference's case folding and rs_hash64
 *                         alone, over the spans of the tokens that the
 *                         scalar segmentation finds in the same pieces
 *                         (found beforehand, untimed): checked to give the
 *                         scalar tokenize row's tokens exactly;
 *     match-500/-5000     rs_matcher_run over the scalar tokens of the
 *                         parsed segments (produced beforehand, untimed),
 *                         one segment at a time, with a lexicon of about
 *                         500 / 5,000 entries;
 *     count               terms and bigrams of those tokens into fresh
 *                         tables, the way host/scan.c counts them (its loop
 *                         is static there, so bench.c has a copy: keep them
 *                         alike);
 *     scan                on each backend, rs_scan_documents over a copy of
 *                         every document: parse, tokenize, count, match
 *                         (the 500-entry lexicon as topics); on each OpenCL
 *                         device through rs_kernels_select("opencl:P:D"),
 *                         as `rostrum scan --backend` runs it (batches under
 *                         RS_OPENCL_MIN_BYTES go to the CPU: a note says
 *                         how many calls reached the device);
 *     scan-pool           the same through the worker pool (pool.h) with
 *                         N workers, for each N asked for (and 1), on the
 *                         best backend.
 *   Matching and counting are host code: rs_kernels_t has no entry for
 *   them, so they are measured once, as backend "host" (every backend's
 *   tokens equal the scalar ones, which the tokenize rows check).
 *   Method: for each row one untimed warm-up pass, whose full result is
 *   compared with the scalar backend's (token count, folded and invalid
 *   bytes, and a checksum of token hashes and lengths for tokenize; every
 *   table entry by entry for scan and scan-pool); its time calibrates the
 *   passes per run so that a run lasts at least min_time; then `runs` timed
 *   runs, each pass also checked cheaply (same number of items). A row's
 *   figures are the median, minimum and maximum over runs of seconds per
 *   pass. Scalar runs first and is the reference; a backend that disagrees
 *   makes rs_bench_run fail with RS_ERR_INTERNAL and no row for it.
 *   Threads: the calling thread runs everything, except scan-pool rows,
 *   whose workers the pool owns for the pass. The library prints nothing:
 *   rows go to the caller's callback as they are measured, and into the
 *   result.
 *   Memory: the corpus (owned by rs_bench_corpus_t), one parsed copy, and
 *   one backend's tokens at a time (16 bytes per token plus folded bytes).
 *   Determinism: the generator and the lexicon generator use integer
 *   arithmetic only (xoshiro256**, integer Zipf tables), so a seed gives
 *   the same bytes on every machine.
 */
#ifndef RS_BENCH_H
#define RS_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dict.h"    /* rs_dict_t */
#include "doc.h"     /* rs_strlist_t */
#include "error.h"   /* rs_err_e, rs_error_t */
#include "lexicon.h" /* rs_lexicon_t */
#include "stats.h"   /* rs_stats_t */

#define RS_BENCH_SCHEMA "rostrum.bench/1"
#define RS_BENCH_DEFAULT_SEED 1
#define RS_BENCH_DEFAULT_NON_ASCII 0.05
#define RS_BENCH_DEFAULT_BYTES (8u << 20) /* the default run prints its table within a minute */
#define RS_BENCH_DEFAULT_MIN_TIME 0.1
#define RS_BENCH_DEFAULT_RUNS 5
#define RS_BENCH_MAX_THREADS 256
#define RS_BENCH_MAX_DEVICES 8 /* OpenCL devices listed and measured */

/* ---- corpus -------------------------------------------------------------- */

typedef struct rs_bench_text {
    char *name;
    uint8_t *text;
    size_t len;
} rs_bench_text_t;

typedef struct rs_bench_corpus {
    rs_bench_text_t *doc;
    size_t n, cap;
    uint64_t bytes;          /* sum of the documents' lengths */
    uint64_t nonascii_bytes; /* bytes >= 0x80 among them */
    char source[512];        /* how it was made, for reports */
    int generated;
    /* What the generator wrote (generated corpora only): labelled turns in
     * all, and speaker name -> uint64_t turns. */
    uint64_t turns;
    rs_dict_t speakers;
} rs_bench_corpus_t;

typedef struct rs_bench_gen {
    uint64_t bytes;   /* at least this much text (the last document ends the run) */
    uint64_t seed;
    double non_ascii; /* share of bytes >= 0x80 to aim at, 0 to 0.9; 0 is pure ASCII */
} rs_bench_gen_t;

/* Generates a corpus of transcripts: half Markdown (`**Name:** text`),
 * half labelled (`Name: text`, some with timestamps), 2 to 5 named speakers
 * per document from a Zipfian pool, turns of Zipfian English-like words
 * (real function words, then generated words), topic phrases, questions,
 * and sentences in other scripts (Latin with diacritics, Cyrillic, Greek,
 * Arabic, Hebrew, Devanagari, Han, Japanese, Hangul, Thai, emoji) until
 * bytes >= 0x80 make up about non_ascii of the text. The same options give
 * the same bytes. On error (RS_ERR_NOMEM, RS_ERR_USAGE for options out of
 * range) the corpus must still be freed. */
rs_err_e rs_bench_generate(rs_bench_corpus_t *c, const rs_bench_gen_t *g, rs_error_t *err);

/* Reads paths as `rostrum scan` walks them (ingest.h, default extensions).
 * Unreadable inputs fail the call with RS_ERR_IO; an empty result is
 * RS_ERR_USAGE. The corpus must be freed in every case. */
rs_err_e rs_bench_load(rs_bench_corpus_t *c, const char *const *paths, size_t n, rs_error_t *err);

void rs_bench_corpus_free(rs_bench_corpus_t *c);

/* Writes each document as DIR/<its name> (generated names are
 * "generated/NNNNNN.md" or ".txt"), creating directories as needed, so
 * that other tools can read the same corpus from disk. RS_ERR_IO with the
 * path on failure. */
rs_err_e rs_bench_corpus_write(const rs_bench_corpus_t *c, const char *dir, rs_error_t *err);

/* A lexicon of about `entries` patterns drawn from vocab's terms and
 * bigrams (frequent function words left out), about 60% single words, 25%
 * phrases of two or three words, 15% globs (`prefix*`), in entries / 10
 * categories ("topic_001", ...). Deterministic for a given vocabulary and
 * seed; fewer entries when the vocabulary is small. Loaded into lex (empty
 * on entry) as TSV; when tsv is not NULL, *tsv receives a copy of the TSV
 * text (the caller frees it). */
rs_err_e rs_bench_lexicon(rs_lexicon_t *lex, const rs_stats_t *vocab, size_t entries, uint64_t seed,
                          char **tsv, rs_error_t *err);

/* ---- checks against the reference ---------------------------------------- */

/* What one pass produced: items (tokens, hits), bytes (folded bytes,
 * invalid bytes), and an order-sensitive checksum. */
typedef struct rs_bench_sum {
    uint64_t items, bytes, checksum;
} rs_bench_sum_t;

/* RS_OK when got equals ref; otherwise RS_ERR_INTERNAL and err says what
 * differs, naming what ("tokenize/avx2"). Can't fail otherwise. */
rs_err_e rs_bench_check_sum(const char *what, const rs_bench_sum_t *ref, const rs_bench_sum_t *got,
                            rs_error_t *err);

/* RS_OK when got holds the same counts as ref: totals, every term (count,
 * documents), every bigram (by its terms' bytes), every speaker, every
 * category and pattern hit count and the hits by speaker. Otherwise
 * RS_ERR_INTERNAL and err names the first difference. */
rs_err_e rs_bench_check_stats(const char *what, const rs_stats_t *ref, const rs_stats_t *got, rs_error_t *err);

/* ---- results --------------------------------------------------------------- */

typedef struct rs_bench_stat {
    double median, min, max;
} rs_bench_stat_t;

typedef struct rs_bench_row {
    char kernel[24];  /* "tokenize+fold+hash", "match-500", "match-5000", "count", "scan", "scan-pool" */
    char backend[24]; /* kernel table name, or "host" (code shared by all backends) */
    unsigned threads; /* workers: 1, or N for scan-pool */
    uint64_t bytes;   /* input bytes one pass covers */
    uint64_t items;   /* tokens one pass produces or consumes */
    uint64_t reps;    /* passes per timed run */
    unsigned runs;
    rs_bench_stat_t sec;  /* seconds per pass */
    rs_bench_stat_t gbps; /* bytes / seconds / 1e9: median of medians, min from max seconds */
    double mtokps;        /* millions of tokens per second, median */
    double speedup;       /* scalar's median seconds / this one's (scan-pool: 1 worker's; host: 1) */
    double efficiency;    /* scan-pool: speedup / threads; else 0 */
    char check[32];       /* "reference", "= scalar", "= scalar (tables)", "host code, one version" */
} rs_bench_row_t;

typedef struct rs_bench_machine {
    char cpu[128];
    char topology_from[16]; /* "hwloc" or "sysconf" */
    unsigned packages, cores, pus, numa_nodes;
    uint64_t memory;            /* bytes */
    uint64_t cache_size[4];     /* L1d, L2, L3, L4 bytes each; 0 unknown */
    unsigned cache_count[4];    /* instances */
    char features[96];          /* rs_cpu_features() as words */
    char backends[128];         /* compiled tables, best first */
    char compiler[128];
    char flags[512];            /* baked in at build time (RS_BUILD_FLAGS) */
    char os[128];
    char version[32];
    /* OpenCL devices as rs_opencl_devices finds them (not built): "opencl:P:D
     * NAME (TYPE, N compute units, M MiB); PLATFORM; driver V", or one line
     * saying why there is none */
    char opencl[RS_BENCH_MAX_DEVICES][384];
    unsigned nopencl;
} rs_bench_machine_t;

typedef struct rs_bench_result {
    rs_bench_machine_t machine;
    char corpus[512];
    uint64_t docs, bytes, tokens, nonascii_bytes;
    size_t lexicon_entries[2]; /* actual sizes of the 500 and 5,000 lexicons */
    double min_time;
    unsigned runs;
    double load[2]; /* 1-minute load average before and after the run; -1 unknown */
    rs_bench_row_t *row;
    size_t n, cap;
    rs_strlist_t notes; /* backends skipped and why */
} rs_bench_result_t;

typedef struct rs_bench_opts {
    double min_time; /* seconds a timed run lasts at least; 0: default */
    unsigned runs;   /* timed runs per row; 0: default */
    const unsigned *threads; /* scan-pool worker counts; none: no scan-pool rows */
    size_t nthreads;
    uint64_t seed; /* for the generated lexicons */
    int no_opencl;  /* 1: measure no OpenCL device (they are still listed) */
    int opencl_fault; /* tests: every device kernel run reports a fault */
    /* Called with each row once measured and checked; NULL: never. */
    void (*on_row)(void *ctx, const rs_bench_row_t *row);
    void *ctx;
} rs_bench_opts_t;

/* Fills the machine's facts: hwloc's topology when it loads, else
 * /proc/cpuinfo and sysconf; the OpenCL devices. Can't fail (unknowns are
 * left empty or 0). */
void rs_bench_machine(rs_bench_machine_t *m);

/* Measures everything on c. res is filled as far as it got, and must be
 * freed in every case. RS_ERR_INTERNAL: a backend disagreed with scalar
 * (err says where); RS_ERR_NOMEM. An OpenCL device whose kernels do not
 * build, or that falls back to the CPU during its row (a fault), gives a
 * note and no row, since its figures would be the CPU's. Installs the
 * OpenCL hook (rs_opencl_register); the caller may rs_opencl_shutdown
 * after. */
rs_err_e rs_bench_run(const rs_bench_corpus_t *c, const rs_bench_opts_t *o, rs_bench_result_t *res,
                      rs_error_t *err);
void rs_bench_result_free(rs_bench_result_t *r);

/* Appends a copy of row to r (for readers and tests). RS_ERR_NOMEM. */
rs_err_e rs_bench_result_add(rs_bench_result_t *r, const rs_bench_row_t *row);

/* The result as JSON (schema RS_BENCH_SCHEMA). RS_ERR_IO on write errors. */
rs_err_e rs_bench_write_json(FILE *f, const rs_bench_result_t *r);
/* Reads what rs_bench_write_json wrote. RS_ERR_IO, RS_ERR_FORMAT (err says
 * why); r must be freed in every case. */
rs_err_e rs_bench_read_json(const char *path, rs_bench_result_t *r, rs_error_t *err);

/* One line of a comparison: a row of run A and the row of run B with the
 * same kernel, backend and threads (either NULL when the other run lacks
 * it), and B's throughput over A's: median over median, and the range
 * from B's slowest over A's fastest to B's fastest over A's slowest. */
typedef struct rs_bench_cmp {
    const rs_bench_row_t *a, *b;
    double ratio, ratio_lo, ratio_hi; /* 0 when a row is missing */
} rs_bench_cmp_t;

/* A's rows in order, then the rows only B has. *out is the caller's to
 * free. RS_ERR_NOMEM. */
rs_err_e rs_bench_compare(const rs_bench_result_t *a, const rs_bench_result_t *b, rs_bench_cmp_t **out,
                          size_t *n);

#endif
