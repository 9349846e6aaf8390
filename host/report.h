/*
 * report.h - writing rs_stats_t as JSON (docs/report.md), tidy CSV (one
 * long-format table per section) and a terminal summary.
 *
 * rs_report_view_build sorts once (every list by count, descending, ties by
 * name in byte order; documents and notes by path) and the writers only
 * walk the view, so the three outputs agree. Everything but the "run"
 * section is a pure function of the counts, hence byte-identical across
 * backends, thread counts and runs. Writers write to the FILE or directory
 * given; they never print anything else.
 */
#ifndef RS_REPORT_H
#define RS_REPORT_H

#include <stdio.h>

#include "error.h"   /* rs_err_e */
#include "lexicon.h" /* rs_lexicon_t */
#include "stats.h"   /* rs_stats_t */

#define RS_REPORT_SCHEMA "rostrum.report/1"

typedef struct rs_run_info {
    const char *backend;
    unsigned threads;
    double seconds;
    const char *version;
    const char *topology; /* hardware summary (pool.h), or NULL */
    int pinned;           /* 1: every worker was bound to one PU */
    uint64_t shard_bytes; /* --shard-size used, 0 when unknown */
    int partial;          /* 1: interrupted; counts cover finished documents only */
    int device;           /* 1: an OpenCL table; the counters below are its */
    uint64_t device_calls, device_bytes; /* passes on the device and the text they took */
    uint64_t cpu_bytes;   /* text the device table left to the CPU (short, busy, faults) */
    uint64_t numbered_calls; /* passes whose terms the device numbered */
    uint64_t counted_calls;  /* batches the device counted */
    uint64_t matched_calls;  /* of those, batches whose lexicons it matched too */
    uint64_t split_docs, pieces; /* documents larger than a shard, read in pieces, and their pieces */
    unsigned numa_nodes; /* NUMA nodes the workers were on; over 1, the counts below (pool.h, rs_numa_use_t) */
    uint64_t numa_shards, numa_local, numa_buffers, numa_bound;
} rs_run_info_t;

typedef struct rs_report_view {
    const rs_stats_t *st;
    const rs_lexicon_t *topics, *entities;
    size_t top;
    uint32_t *speakers; /* all, sorted */
    uint32_t *terms;    /* top N, sorted */
    size_t nterms;
    rs_pair_t *bigrams; /* top N, sorted */
    size_t nbigrams;
    uint32_t *topic_order, *entity_order;
    uint32_t *docs;                    /* sorted by path */
    uint32_t *skipped, *warnings;      /* sorted by path */
    /* the hits by (category, speaker) of topics [0] and entities [1],
     * grouped by category [..][0] and by speaker [..][1]: ids[at[k] ..
     * at[k + 1]) are the by_speaker entries of category or speaker k */
    struct {
        uint32_t *at, *ids;
    } group[2][2];
} rs_report_view_t;

rs_err_e rs_report_view_build(rs_report_view_t *v, const rs_stats_t *st, const rs_lexicon_t *topics,
                              const rs_lexicon_t *entities, size_t top);
void rs_report_view_free(rs_report_view_t *v);

rs_err_e rs_report_json(FILE *f, const rs_report_view_t *v, const rs_run_info_t *run);
/* Creates dir when missing. On error err names the file. */
rs_err_e rs_report_csv(const char *dir, const rs_report_view_t *v, rs_error_t *err);
rs_err_e rs_report_table(FILE *f, const rs_report_view_t *v, const rs_run_info_t *run);

#endif
