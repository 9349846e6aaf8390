/*
 * scan.h - counting one document into rs_stats_t: parse its format, tokenize
 * each segment with the chosen kernel table, count terms, bigrams, speakers
 * and lexicon hits.
 *
 * A scanner holds one worker's scratch (token window, match states) and is
 * used by one thread at a time; the configuration it points to is shared
 * and read-only. Long segments are tokenized in pieces of at most
 * RS_CHUNK_BYTES cut at rs_safe_cut points, and tokens are counted through a
 * window that keeps enough lookahead for the longest phrase, so the pieces
 * never change a count. A run of more than RS_CHUNK_BYTES without a safe cut
 * (no white space) is cut at a UTF-8 character boundary; docs/tokens.md
 * says so.
 *
 * Batches (rs_scan_documents): when the kernel table has a batched entry
 * (tokenize_spans: a device backend), a run of documents of up to
 * RS_SCAN_BATCH_BYTES is parsed first, every segment of all of them is
 * tokenized in one call, and then each document is counted from its share
 * of the tokens, in order. A document larger than a batch, or a piece of
 * one, has its segments tokenized a batch at a time, and a segment larger
 * than a batch piece by piece. Each segment's tokens are exactly those of
 * the one-by-one path, so the statistics are the same.
 *
 * Pieces (rs_doc_t.piece, .more; pieces.h): a document larger than a shard
 * comes as pieces cut at line ends, which must reach one scanner in order,
 * with no other document between them, and go into one rs_stats_t. The
 * scanner carries the parse (format, speakers, the segment open at the cut)
 * and the count (the open segment's last term and lookahead tokens, its
 * question mark, the document's totals) from piece to piece, and adds the
 * document's record with the last piece, so the statistics equal those of
 * the whole document. A broken piece drops the document: the caller then
 * throws away the rs_stats_t the pieces went into.
 *
 * Bigrams are not added to st->bigrams one by one: the scanner holds them
 * in a batch (rs_pairs_batch_t, pairs.h), a bucket per part of the table,
 * and adds a bucket when it is full, so that the table's parts are written
 * while they are in the caches. The table ends up exactly as with adds one
 * by one. Each rs_scan_document(s) call flushes the batch at its end,
 * unless the caller sets hold_bigrams: then the bigrams of many documents
 * wait together (the pool does, a shard at a time: a document alone holds
 * too few bigrams per part to gain much), and the caller calls
 * rs_scanner_flush before it reads, merges, clears or frees an rs_stats_t it
 * scanned into. A scan into another rs_stats_t flushes the bigrams held for
 * the last one first.
 */
#ifndef RS_SCAN_H
#define RS_SCAN_H

#include "doc.h"     /* rs_doc_t */
#include "error.h"   /* rs_err_e */
#include "kernels.h" /* rs_kernels_t, rs_tokens_t */
#include "labels.h"  /* rs_headings_t */
#include "matcher.h" /* rs_matcher_t */
#include "pairs.h"   /* rs_pairs_batch_t */
#include "stats.h"   /* rs_stats_t */

#define RS_CHUNK_BYTES (1u << 20)
/* Most text of one batch of rs_scan_documents; a larger document is
 * scanned on its own, piece by piece. */
#define RS_SCAN_BATCH_BYTES (8u << 20)

typedef struct rs_scan_cfg {
    const rs_kernels_t *kernels;
    rs_format_e format; /* RS_FORMAT_AUTO: detect per document */
    const rs_headings_t *headings;
    const rs_matcher_t *topics;   /* never NULL (may be empty) */
    const rs_matcher_t *entities; /* never NULL (may be empty) */
} rs_scan_cfg_t;

/* What the scanner carries between the pieces of one document. */
typedef struct rs_scan_carry {
    int open;            /* a document's later pieces are expected */
    int skip;            /* its first piece could not be parsed: the rest are dropped */
    rs_carry_t parse;
    rs_strlist_t speakers; /* the document's speakers so far */
    rs_doc_meta_t meta;    /* from the first piece */
    uint64_t doc;          /* its number in the rs_stats_t (last_doc marks) */
    uint64_t bytes, tokens, turns;
    int64_t prev;          /* term id of the open segment's last counted token, -1 none */
    int question;          /* the open segment has a question mark */
} rs_scan_carry_t;

typedef struct rs_scanner {
    const rs_scan_cfg_t *cfg;
    rs_tokens_t win;
    uint64_t abs; /* absolute index of win.tok[0] */
    rs_match_state_t mt, me;
    uint32_t *spk; /* per document speaker -> stats speaker id */
    size_t spk_cap;
    uint64_t *bkey, *bhash;   /* bigram keys and hashes of one window */
    size_t scratch_cap;
    rs_pairs_batch_t bigrams; /* bigrams counted into a table at a flush (pairs.h) */
    int hold_bigrams;         /* set by the caller: keep them across calls, until rs_scanner_flush */
    /* batches (rs_scan_documents) */
    rs_tokens_t batch;  /* the tokens of every segment of a batch */
    size_t term_cap;    /* numbers batch.term has room for */
    int64_t *tmap;      /* a numbered batch's term numbers -> term ids, -1 until met */
    size_t tmap_cap;
    rs_span_t *spans;   /* the segments' texts */
    size_t *ntok;       /* tokens of each segment */
    size_t spans_cap;
    unsigned char *ok;  /* per document of the batch: parsed */
    size_t ok_cap;
    uint32_t *sdoc;     /* counted batches: each segment's document in the batch */
    size_t sdoc_cap;
    rs_counts_t counts; /* a batch the kernel table counted (count_spans) */
    int64_t *cid;       /* its term records' term ids */
    size_t cid_cap;
    rs_scan_carry_t carry; /* a document in pieces */
} rs_scanner_t;

rs_err_e rs_scanner_init(rs_scanner_t *sc, const rs_scan_cfg_t *cfg);
/* Frees sc; bigrams it still holds are dropped (rs_scanner_flush first). */
void rs_scanner_free(rs_scanner_t *sc);

/* Adds the bigrams the scanner holds to the rs_stats_t they were counted
 * for (see the top of this file). RS_ERR_NOMEM when out of memory (those
 * not added are dropped). */
rs_err_e rs_scanner_flush(rs_scanner_t *sc);

/* Parses doc and adds it to st. A document that cannot be parsed (binary,
 * say) is recorded in st->skipped and RS_OK is returned; only out of memory
 * and internal errors fail the call. doc's text is consumed; its metadata
 * and path move into st; the caller still calls rs_doc_free(doc). doc may be
 * a piece (see above); a piece out of order is RS_ERR_INTERNAL. */
rs_err_e rs_scan_document(rs_scanner_t *sc, rs_doc_t *doc, rs_stats_t *st);

/* Forgets a document whose pieces stopped coming (a broken piece, a
 * cancel), so that the scanner can take the next document. */
void rs_scan_drop(rs_scanner_t *sc);

/* The speakers of the document being scanned: those of a whole document
 * are in its record; those of a document in pieces, so far, here (valid
 * until the next piece). */
const rs_strlist_t *rs_scan_piece_speakers(const rs_scanner_t *sc);

/* Called by rs_scan_documents after each document, in order: rec is the
 * record just added to st for it, or NULL when it was skipped. */
typedef void (*rs_scan_done_fn)(void *ctx, const rs_doc_t *doc, const rs_docrec_t *rec);

/* docs[0..n) in order, with the same statistics as n calls of
 * rs_scan_document; with a kernel table that has tokenize_spans, the
 * segments of up to RS_SCAN_BATCH_BYTES of documents go to it in one call.
 * When the table also has count_spans, the batch is counted by it instead,
 * and only its statistics come back (with lexicons to match, its tokens
 * too, for the matchers alone): term records put in record order (which
 * gives terms the ids of counting token by token), bigrams added with
 * their counts in the order of their first occurrence (after the bigrams
 * held so far are flushed, so the table is the same slot for slot), each
 * segment's token count; a table that declines (0) gets the batch to
 * tokenize after all.
 * done (may be NULL) sees each document after it is counted, while its
 * segments are still there. The caller still frees each document. */
rs_err_e rs_scan_documents(rs_scanner_t *sc, rs_doc_t *const *docs, size_t n, rs_stats_t *st, rs_scan_done_fn done,
                           void *ctx);

#endif
