/*
 * pieces.h - reading one document (a file, an archive member) as pieces cut
 * at line ends, so that a document larger than a shard never sits whole in
 * memory.
 *
 * The reader pours the document's bytes in (rs_pieces_room, then
 * rs_pieces_add with what it read there), then calls rs_pieces_end at the
 * end of the data, or rs_pieces_abort when the rest cannot be read. With
 * cfg->split_bytes 0, or while no more than that has arrived, nothing is
 * handed over, and a document that ends within it goes to cfg->on_doc
 * whole, as it always did. Past it, the document goes out in pieces
 * (rs_doc_t.piece, .more), each to on_doc as soon as it is cut:
 *   - the first piece holds at least rs_doc_head_bytes (BOM, front matter
 *     and the bytes format detection reads), and at least split_bytes;
 *   - every piece ends just after a '\n' at or past its least size (after a
 *     blank line for SubRip and WebVTT, so that no cue is ever cut); a line
 *     longer than a piece makes that piece longer;
 *   - Whisper JSON (one JSON value) and JSON Lines grouped by --jsonl-doc
 *     are never cut: they are read whole, as before.
 * A document longer than cfg->max_doc_bytes is cut at its last line end
 * within that limit (rs_pieces_end_at_limit): once past the limit, no more
 * pieces are cut and the reader stops.
 * A document that could not be read to its end after pieces went out ends
 * with an empty piece marked broken, so that the pieces are dropped; the
 * caller reports the document as skipped (on_skip) as it always did.
 * docs/formats.md says this for users.
 *
 * Runs on the reading thread; the pieces belong to on_doc once handed over.
 */
#ifndef RS_PIECES_H
#define RS_PIECES_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"  /* rs_err_e */
#include "ingest.h" /* rs_ingest_cfg_t */

typedef struct rs_pieces {
    const rs_ingest_cfg_t *cfg;
    char *path;      /* the document's name, owned; each piece gets a copy */
    uint8_t *buf;    /* bytes read and not handed over yet */
    size_t n, cap;
    uint64_t total;  /* bytes read so far */
    uint32_t sent;   /* pieces handed over */
    int rule;        /* where cuts may fall (pieces.c) */
    size_t from;     /* where the search for the next cut goes on */
    int in_line;     /* blank-line rule: from is inside a line ... */
    int blank;       /* ... which is blank so far */
    char *warning;   /* for the last piece (rs_pieces_end_at_limit), owned */
} rs_pieces_t;

/* Takes path (malloc'd). size_hint: the document's size when known (a
 * regular file, a member with a size), else 0. */
void rs_pieces_init(rs_pieces_t *p, const rs_ingest_cfg_t *cfg, char *path, uint64_t size_hint);

/* After a failure of any call below, call rs_pieces_abort (which is then
 * a no-op when the failure already released everything). */

/* Room for the next read: at least one byte at *at, *room bytes in all. */
rs_err_e rs_pieces_room(rs_pieces_t *p, uint8_t **at, size_t *room);

/* n bytes were read into the room; may hand pieces over. */
rs_err_e rs_pieces_add(rs_pieces_t *p, size_t n);

/* The data ended: hands over the whole document or its last piece, and
 * returns on_doc's result. */
rs_err_e rs_pieces_end(rs_pieces_t *p);

/* The data went past cfg->max_doc_bytes (--max-document-size; the reader
 * stops there: rs_pieces_room never gives room for more than one byte past
 * it): keeps the bytes up to the last line end within the limit, drops the
 * rest, and ends the document as rs_pieces_end does, its last piece (or the
 * whole document) carrying a warning that says where it was cut. */
rs_err_e rs_pieces_end_at_limit(rs_pieces_t *p);

/* The data could not be read to its end: frees what is held, and when
 * pieces went out already, sends the broken last piece (on_doc's result is
 * returned). The caller still reports the document to on_skip. */
rs_err_e rs_pieces_abort(rs_pieces_t *p);

#endif
