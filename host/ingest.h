/*
 * ingest.h - turning the paths a user gives into documents.
 *
 * A path is a file (always read), a directory (walked recursively, entries
 * in byte order of their names, hidden entries skipped, files taken when
 * their extension is in the list), or "-" for standard input. A file whose
 * first bytes (or, in a directory, whose name) say it is an archive or a
 * compressed file is read as a stream of documents (archives.h): archives in
 * directories are opened, and a single compressed file there ("a.md.gz") is
 * taken when the name without the compression suffix passes the list.
 * Other files are read whole into a buffer that the document then owns, or,
 * past split_bytes, as pieces cut at line ends (pieces.h).
 * Problems with one path (unreadable, a symlink loop, over the size limit,
 * a damaged archive) go to the skip callback and the walk goes on. One
 * thread walks; documents are handed to the callback in walk order. When
 * cancel is set the walk stops before the next document.
 *
 * An optional filter sees every input file before anything of it is read:
 * each file named on the command line (and "-", with size 0) and each file
 * a directory walk takes, with its path (as it will name the document) and
 * its size from stat. An archive or compressed file is one input file: the
 * filter takes or leaves it whole. A file the filter leaves is not opened,
 * gives no document and no note. Paths that cannot be listed (missing, a
 * broken symlink, a loop, a directory that cannot be opened) never reach
 * the filter: their notes go to on_skip as without one. The MPI mode
 * (cluster.h) lists the inputs and divides them among ranks with it.
 */
#ifndef RS_INGEST_H
#define RS_INGEST_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "doc.h"   /* rs_doc_t */
#include "error.h" /* rs_err_e */

#define RS_DEFAULT_EXTS "txt,md,markdown,text,srt,vtt,jsonl,json"

typedef struct rs_ingest_cfg {
    const char *exts;        /* comma-separated, no dots; "*" takes all */
    uint64_t max_doc_bytes;  /* larger documents are cut at a line end within it (pieces.h); 0: no limit */
    uint64_t split_bytes;    /* larger documents come in pieces (pieces.h); 0: always whole */
    rs_format_e format;      /* the forced format (rs_doc_parse), which says where pieces may be cut */
    /* The callback takes ownership of doc's contents (and frees them). A
     * non-OK return stops the walk and is returned. */
    rs_err_e (*on_doc)(void *ctx, rs_doc_t *doc);
    rs_err_e (*on_skip)(void *ctx, const char *path, const char *why);
    void *ctx;
    atomic_int *cancel;                /* nonzero: stop at the next document; NULL: never */
    const struct rs_jsonl_keys *jsonl; /* set on every document (rs_doc_t.jsonl) */
    /* NULL: every file is taken. Else called on the walking thread with
     * each input file; nonzero: take (read) it, 0: leave it. */
    int (*filter)(void *filter_ctx, const char *path, uint64_t size);
    void *filter_ctx;
    /* NULL, or bytes of the input files read so far, as they are stored (an
     * archive's compressed bytes): written on the walking thread as the walk
     * goes, for a progress line's share of the input done. */
    uint64_t *consumed;
} rs_ingest_cfg_t;

/* Returns RS_OK also when stopped by cancel (the caller checks it). */
rs_err_e rs_ingest_paths(const rs_ingest_cfg_t *cfg, const char *const *paths, size_t n);

/* Reads a whole file (or stdin for "-") into a new buffer. */
rs_err_e rs_read_file(const char *path, uint64_t max, uint8_t **out, size_t *len, rs_error_t *err);

/* 1 when name's extension is in exts (comma-separated, case-insensitive,
 * "*" for all), else 0. Can't fail. */
int rs_ingest_ext_ok(const char *exts, const char *name);

#endif
