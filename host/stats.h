/*
 * stats.h - rs_stats_t, every count a report is made from, and their merge.
 *
 * All counts are exact integers. A stats object is filled by one thread
 * (scan.c) and merged into another by one thread (rs_stats_merge); merging
 * is addition, so the result does not depend on how documents were grouped
 * or ordered, as long as each document is counted once. Terms and speakers
 * are keyed by their bytes; bigrams by a pair of term ids of the same
 * object (remapped on merge); category hits by category index, which is the
 * same in every stats object built from the same lexicons.
 *
 * A stats object owns all its memory, including the document records it
 * takes from scanned documents.
 */
#ifndef RS_STATS_H
#define RS_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "dict.h" /* rs_dict_t */
#include "doc.h"  /* rs_doc_meta_t, rs_format_e, rs_strlist_t */
#include "pairs.h" /* rs_pairs_t */
#include "error.h" /* rs_err_e */

typedef struct rs_term_val {
    uint64_t count, docs, last_doc;
} rs_term_val_t;

typedef struct rs_speaker_val {
    uint64_t turns, tokens, questions, docs, last_doc;
    uint64_t talk_ms; /* talk time from cue times (subtitles, Whisper), in whole milliseconds */
} rs_speaker_val_t;

typedef struct rs_cat_val {
    uint64_t hits, docs, last_doc;
} rs_cat_val_t;

/* Counts for one lexicon (topics or entities). */
typedef struct rs_lexstats {
    size_t ncat, npat;
    rs_cat_val_t *cat;
    uint64_t *pat_hits; /* by global pattern index */
    rs_dict_t by_speaker; /* key {uint32 cat, uint32 speaker id} -> uint64 hits */
} rs_lexstats_t;

typedef struct rs_docrec {
    char *path;
    rs_format_e format;
    uint64_t bytes, tokens, turns;
    rs_strlist_t speakers;
    rs_doc_meta_t meta;
} rs_docrec_t;

typedef struct rs_note {
    char *path;
    char *message;
} rs_note_t;

typedef struct rs_notes {
    rs_note_t *v;
    size_t n, cap;
} rs_notes_t;

typedef struct rs_stats {
    uint64_t documents, bytes, tokens, turns, invalid_bytes;
    uint64_t labelled_tokens; /* tokens in named speakers' turns */
    uint64_t doc_seq;         /* documents begun here (marks last_doc) */
    rs_dict_t terms;    /* folded term -> rs_term_val_t */
    rs_pairs_t bigrams; /* rs_pair_key(a, b) of term ids -> count */
    rs_dict_t speakers; /* name -> rs_speaker_val_t */
    rs_lexstats_t topics, entities;
    rs_docrec_t *docs;
    size_t ndocs, docs_cap;
    rs_notes_t skipped;  /* documents not counted, with the reason */
    rs_notes_t warnings; /* documents counted, with a note */
} rs_stats_t;

/* The hash under which st counts the bigram key (two of st's term ids):
 * rs_pairs_bigram_hash with the terms' own hashes. */
static inline uint64_t rs_stats_bigram_hash(const rs_stats_t *st, uint64_t key)
{
    uint32_t a, b;
    rs_pair_split(key, &a, &b);
    return rs_pairs_bigram_hash(key, rs_dict_hash(&st->terms, a), rs_dict_hash(&st->terms, b));
}

/* Empty stats for lexicons of the given sizes (categories, patterns). */
rs_err_e rs_stats_init(rs_stats_t *s, size_t topic_cats, size_t topic_pats, size_t entity_cats,
                       size_t entity_pats);
void rs_stats_free(rs_stats_t *s);

/* Empties s for reuse after its counts were merged elsewhere: counts to
 * zero, tables emptied (their memory kept when at most keep_slots index
 * slots each), document records and notes dropped. Can't fail. */
void rs_stats_clear(rs_stats_t *s, size_t keep_slots);

/* Adds src's counts into dst (same lexicon sizes). src is left empty of its
 * document records and notes (moved), its counts untouched. */
rs_err_e rs_stats_merge(rs_stats_t *dst, rs_stats_t *src);

/* rs_stats_merge but for the bigrams, which the caller then merges with
 * *tmap (src's term ids to dst's; the caller frees it): rs_pairs_merge, or
 * rs_pairs_merge_part a part at a time, and then adds to dst->bigrams.n.
 * dst's term ids stay what they are while more merges into dst run (terms
 * are only ever added), so *tmap stays good through them. */
rs_err_e rs_stats_merge_rest(rs_stats_t *dst, rs_stats_t *src, uint32_t **tmap);

rs_err_e rs_notes_add(rs_notes_t *n, const char *path, const char *message);
void rs_notes_free(rs_notes_t *n);

/* Pushes an empty document record; returns it, or NULL when out of memory. */
rs_docrec_t *rs_stats_add_doc(rs_stats_t *s);

#endif
