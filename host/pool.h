/*
 * pool.h - scanning documents in parallel: the reading thread packs
 * documents into shards of about shard_bytes, a bounded queue hands shards
 * to a pool of worker threads, and each worker scans its shards' documents
 * with its own rs_scanner_t into its own rs_stats_t; rs_pool_finish merges
 * the workers' statistics (rs_stats_merge) into the caller's.
 * A worker flushes its tables into the pool's own (under a mutex) whenever
 * they grow past cfg.flush_entries, so that the statistics are held about
 * once, not once per worker.
 *
 * DESIGN
 *   Threads: the caller (the reader) calls rs_pool_add for each document,
 *   then rs_pool_finish, both from one thread; N workers run in between.
 *   Ownership: rs_pool_add takes the document's contents; the shard that
 *   holds it belongs to the reader until queued, then to the one worker that
 *   pops it; the worker frees each document once scanned. Workers share only
 *   the read-only scan configuration (matchers, headings, kernels).
 *   Memory: the queue holds one shard, so at most workers + 2 shards exist
 *   (one per worker, one queued, one being filled): rs_pool_add blocks while
 *   the queue is full. With workers on N > 1 NUMA nodes there is one queue a
 *   node, so workers + 1 + N, and each node keeps at most 2 spare shard
 *   buffers. A document larger than a shard comes in pieces
 *   (pieces.h) through a stream: the reader queues one shard that stands
 *   for the whole document, and the worker that pops it takes the pieces
 *   one by one, in order, from the stream's own queue of RS_STREAM_PIECES,
 *   which the reader fills (waiting while it is full). So the bound is
 *   (workers + 2 + RS_STREAM_PIECES) times about shard_bytes, plus the
 *   longest line, plus the documents the reader must read whole (Whisper
 *   JSON, JSON Lines grouped by --jsonl-doc, bounded by
 *   --max-document-size), plus the statistics: the pool's merged tables,
 *   and in each worker those of the shards since its last flush (about
 *   flush_entries entries, one shard's worth when that is more), and those
 *   of the document in pieces it is scanning.
 *   Ordering: none. Each document is scanned by one worker (a document in
 *   pieces into a table of its own, merged when its last piece is counted,
 *   thrown away when it breaks off), so its
 *   document frequencies (rs_stats_t.doc_seq / last_doc) are exact, and
 *   merging is addition, so the merged counts do not depend on the number
 *   of workers, the shard size or the order documents arrive in.
 *   Placement: the topology is cut down to the PUs the process is bound to
 *   (taskset, a batch system, mpirun --bind-to), so workers are counted and
 *   placed inside them; they are spread with hwloc_distrib and each binds
 *   itself to one PU (hwloc_bitmap_singlify); failing to bind is a
 *   warning, not an error. When the workers' PUs lie on more than one NUMA
 *   node, each node has its own queue and its own shard buffers
 *   (hwloc_alloc_membind on the node): the reader gives each new shard to
 *   the node of the next worker in turn and copies each document's text
 *   into the shard's buffer, so a worker reads its own node's memory; a
 *   worker takes from its node's queue first and from another's rather
 *   than wait. Documents in pieces, and documents read whole that are
 *   larger than a shard, keep the reader's memory.
 *   Stopping: when *cancel becomes nonzero, workers finish the document in
 *   hand and drop the rest (counted in rs_pool_dropped); the reader stops
 *   feeding. Out of memory in a worker stops the pool the same way and is
 *   returned by rs_pool_add / rs_pool_finish.
 */
#ifndef RS_POOL_H
#define RS_POOL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "doc.h"   /* rs_doc_t */
#include "error.h" /* rs_err_e, rs_error_t */
#include "jsonl.h" /* rs_jsonl_keys_t */
#include "scan.h"  /* rs_scan_cfg_t */
#include "stats.h" /* rs_stats_t */

#define RS_DEFAULT_SHARD_BYTES (8u << 20)
/* Pieces of a document waiting for its worker. */
#define RS_STREAM_PIECES 2
#define RS_MAX_WORKERS 1024

/* A snapshot of the pool's progress. */
typedef struct rs_progress {
    uint64_t docs_read, bytes_read; /* handed to the pool */
    uint64_t input_read;            /* bytes of the input files read, as stored (rs_pool_cfg_t.consumed) */
    uint64_t docs_done, bytes_done; /* scanned (or dropped) by the workers */
    double seconds;                 /* since rs_pool_start */
    unsigned workers;
} rs_progress_t;

typedef void (*rs_progress_fn)(void *ctx, const rs_progress_t *p);

typedef struct rs_pool_cfg {
    unsigned workers;      /* 0: one per core (hwloc), at most RS_MAX_WORKERS */
    uint64_t shard_bytes;  /* 0: RS_DEFAULT_SHARD_BYTES */
    int pin;               /* bind each worker to one PU (best effort) */
    const rs_scan_cfg_t *scan;
    size_t topic_cats, topic_pats, entity_cats, entity_pats; /* rs_stats_init sizes */
    atomic_int *cancel;    /* NULL: never */
    /* Called on the reader's thread about every progress_interval seconds
     * while it feeds or waits; NULL: never. */
    rs_progress_fn progress;
    void *progress_ctx;
    double progress_interval; /* 0: 0.25 s */
    const uint64_t *consumed; /* NULL, or the reader's count for input_read (rs_ingest_cfg_t.consumed) */
    /* With more than one worker, a worker adds its tables to the pool's and
     * empties them after a shard once they hold this many entries (terms,
     * bigrams, hits by speaker); 0: 2^19 / workers, at least 2^16. */
    size_t flush_entries;
} rs_pool_cfg_t;

typedef struct rs_pool rs_pool_t;

/* Starts the workers. On error (RS_ERR_NOMEM, RS_ERR_INTERNAL when threads
 * cannot be created) err says why and *out is NULL. */
rs_err_e rs_pool_start(rs_pool_t **out, const rs_pool_cfg_t *cfg, rs_error_t *err);

/* Takes doc's contents (doc is zeroed) into the current shard, queueing the
 * shard when full; may block until a worker takes a shard. After a cancel
 * the document is dropped. Returns a worker's error (RS_ERR_NOMEM) once the
 * pool has failed. */
rs_err_e rs_pool_add(rs_pool_t *p, rs_doc_t *doc);

/* Queues the last shard, waits for the workers, merges their statistics
 * into into (which may already hold notes) and records pinning problems in
 * warnings. The pool must still be freed. */
rs_err_e rs_pool_finish(rs_pool_t *p, rs_stats_t *into, rs_strlist_t *warnings, rs_error_t *err);

void rs_pool_free(rs_pool_t *p);

unsigned rs_pool_workers(const rs_pool_t *p);
uint64_t rs_pool_shard_bytes(const rs_pool_t *p);
/* Documents larger than a shard that came in pieces, and those pieces
 * (reader's counts: call after rs_pool_finish). Can't fail. */
void rs_pool_pieces(const rs_pool_t *p, uint64_t *docs, uint64_t *pieces);
/* Documents read but not scanned because of a cancel. */
uint64_t rs_pool_dropped(const rs_pool_t *p);
/* Where shards went when the pinned workers are on more than one NUMA
 * node: nodes is how many (1: one queue, no placement, the rest 0);
 * shards were queued for a node in proportion to its workers, local of
 * them were scanned by one of its workers (the others were taken by an
 * idle worker of another node); buffers is how many shard buffers were
 * allocated, bound how many of them on their node (the rest are plain
 * memory, binding failed), peak the most that existed at once (a node
 * keeps 2 spares; one freed when its node has them is allocated again
 * later). Call after rs_pool_finish. Can't fail. */
typedef struct rs_numa_use {
    unsigned nodes;
    uint64_t shards, local, buffers, bound, peak;
} rs_numa_use_t;
void rs_pool_numa(const rs_pool_t *p, rs_numa_use_t *out);
/* 1 when every worker was bound to a PU. */
int rs_pool_pinned(const rs_pool_t *p);
/* One-line hardware summary ("1 package, 2 cores, 2 PUs, 1 NUMA node"). */
const char *rs_pool_topology(const rs_pool_t *p);

/* Workers used when none are asked for: cores found by hwloc, else online
 * CPUs, at least 1. Can't fail. */
unsigned rs_default_workers(void);

/* The machine as hwloc sees it, several lines of text (packages, cores,
 * PUs, NUMA nodes with memory, caches), written into buf: cut down to the
 * PUs this process is bound to, as a scan uses it (rs_pool_start), with a
 * line naming them and the machine's when it is bound. Returns
 * RS_ERR_UNSUPPORTED when hwloc cannot load the topology (buf then says
 * so). */
rs_err_e rs_topology_describe(char *buf, size_t n);

#endif
