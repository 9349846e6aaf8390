/*
 * rostrum.h - the library's entry point for a whole scan: lexicons loaded
 * and compiled, inputs walked, documents scanned, statistics returned, ready
 * for report.h. cli/ parses arguments into rs_scan_opts_t and prints.
 *
 * rs_scan_run reads the inputs on the calling thread and scans them on a
 * pool of worker threads (pool.h), then merges their counts; the report is
 * the same for any number of workers, shard size and input order. The
 * result owns everything it holds (lexicons, matchers, statistics) until
 * rs_scan_result_free.
 */
#ifndef RS_ROSTRUM_H
#define RS_ROSTRUM_H

#include <stddef.h>
#include <stdint.h>

#include "doc.h"     /* rs_format_e, rs_strlist_t */
#include "error.h"   /* rs_err_e, rs_error_t */
#include "ingest.h"  /* RS_DEFAULT_EXTS */
#include "kernels.h" /* rs_kernels_t */
#include "labels.h"  /* rs_headings_t */
#include "lexicon.h" /* rs_lexicon_t */
#include "jsonl.h"   /* rs_jsonl_keys_t */
#include "matcher.h" /* rs_matcher_t */
#include "pool.h"    /* rs_progress_t, RS_DEFAULT_SHARD_BYTES */
#include "report.h"  /* rs_run_info_t */
#include "stats.h"   /* rs_stats_t */

#define RS_DEFAULT_MAX_DOC_BYTES (1ull << 30)

typedef struct rs_scan_opts {
    const char *const *paths;
    size_t npaths;
    rs_format_e format;
    const char *const *topic_files;
    size_t ntopic_files;
    const char *const *entity_files;
    size_t nentity_files;
    const char *headings_file; /* NULL: the built-in list */
    const char *backend;       /* NULL or "auto": the best this CPU runs */
    const char *exts;          /* NULL: RS_DEFAULT_EXTS */
    uint64_t max_doc_bytes;    /* 0: RS_DEFAULT_MAX_DOC_BYTES */
    unsigned jobs;             /* scan workers; 0: one per core (hwloc) */
    uint64_t shard_bytes;      /* 0: RS_DEFAULT_SHARD_BYTES */
    int no_pin;                /* 1: do not bind workers to PUs */
    size_t flush_entries;      /* rs_pool_cfg_t.flush_entries; 0: the default */
    rs_jsonl_keys_t jsonl;     /* JSON Lines field names; NULL members: defaults */
    atomic_int *cancel;        /* set nonzero (a SIGINT handler may) to stop early; NULL: never */
    rs_progress_fn progress;   /* called on the calling thread about 4 times a second; NULL: never */
    void *progress_ctx;
    /* NULL: every input file is read. Else called on the calling thread
     * with each input file's path and size before it is read (ingest.h:
     * files named or found in directories; an archive as a whole; "-" with
     * size 0): nonzero takes the file, 0 leaves it unread and unnoted. */
    int (*filter)(void *filter_ctx, const char *path, uint64_t size);
    void *filter_ctx;
} rs_scan_opts_t;

typedef struct rs_scan_result {
    rs_lexicon_t topics, entities;
    rs_matcher_t topic_matcher, entity_matcher;
    rs_headings_t headings;
    rs_stats_t stats;
    const rs_kernels_t *kernels;
    rs_run_info_t run;
    rs_strlist_t warnings; /* lexicon and worker warnings (not about documents) */
    char topology[256];    /* run.topology points here */
} rs_scan_result_t;

/* On error (RS_ERR_LEXICON, RS_ERR_USAGE, RS_ERR_UNSUPPORTED, RS_ERR_NOMEM,
 * RS_ERR_IO for a headings file) err says what and where; the result must
 * still be freed. Unreadable or bad documents are not errors: they are in
 * res->stats.skipped. A cancel is not an error either: the result then
 * holds the documents finished and res->run.partial is 1. */
rs_err_e rs_scan_run(const rs_scan_opts_t *opts, rs_scan_result_t *res, rs_error_t *err);
void rs_scan_result_free(rs_scan_result_t *res);

/* Monotonic clock in seconds. */
double rs_now(void);

#endif
