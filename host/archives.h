/*
 * archives.h - archives and compressed files as streams of documents, read
 * with libarchive (no extraction to disk): .tar, .tar.gz/.tgz, .tar.zst,
 * .tar.xz, .tar.bz2, .zip, .7z, and single .gz/.zst/.xz/.bz2 files.
 *
 * Each regular member whose name passes the extension list (and has no
 * hidden component) becomes a document named "ARCHIVE:member/path" (a
 * leading "./" dropped); a single compressed file is one document named by
 * its own path. A member over the size limit (a compression bomb, say) is
 * read up to it and cut at its last line end within it, with a warning
 * (rs_pieces_end_at_limit); the rest of its data is passed over as a stream.
 *
 * Damage is reported by name and place, and costs no more than it must:
 *   - a member header that does not read (a bad tar checksum) is passed
 *     over as libarchive finds the next header that does; one note names
 *     the archive, the byte where the bad header began, the member before
 *     it and where reading resumed, and the members after it are read;
 *   - a header read with a warning (a malformed pax record) is read, and
 *     its document carries the warning (corpus.warnings);
 *   - member data that cannot be read skips that member; in a zip read
 *     from a regular file the members after it are still read (the zip is
 *     opened again past it, each member read once); in a compressed stream,
 *     a tar or a zip from a pipe nothing past the damage can be read, and
 *     the note says that the rest of the archive could not be read.
 * Members read before any damage are kept. Compressed streams are read to
 * their end, so their checksums are always checked (gzip with zlib, which
 * checks CRC-32 and length; libarchive's gzip reader does not); damage found
 * only there is a note that the members read may hold damaged text.
 * Nothing is written to disk. docs/formats.md says all this for users.
 *
 * Runs on the thread that walks the inputs (ingest.c); documents go to the
 * ingest callbacks in archive order. (Named archives.h so that libarchive's
 * <archive.h> stays reachable with host/ on the include path.)
 */
#ifndef RS_ARCHIVES_H
#define RS_ARCHIVES_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"  /* rs_err_e */
#include "ingest.h" /* rs_ingest_cfg_t */

typedef enum rs_archive_kind_e {
    RS_ARCHIVE_NONE = 0,
    RS_ARCHIVE_MULTI,  /* an archive of members: .tar*, .tgz, .zip, .7z */
    RS_ARCHIVE_SINGLE, /* one compressed file: .gz, .zst, .xz, .bz2, .lz4 */
} rs_archive_kind_e;

/* What name's suffix says (case-insensitive). For RS_ARCHIVE_SINGLE,
 * *inner_len (when not NULL) is the length of the name without the
 * compression suffix ("a.md.gz" -> 4). Can't fail. */
rs_archive_kind_e rs_archive_name_kind(const char *name, size_t *inner_len);

/* What p[0..n) starts: 2 a compressed stream (gzip, zstd, xz, bzip2, lz4),
 * 1 an archive (zip, 7z, ustar at offset 257), 0 neither. Can't fail. */
int rs_archive_sniff(const uint8_t *p, size_t n);

/* Reads the archive open on fd, named name. peek[0..peek_len) are its first
 * bytes, already read from fd. seekable: fd is a regular file, put back at
 * offset 0 (peek is then only looked at); else reading goes on after peek.
 * Documents and skips go to cfg's callbacks; members are filtered by
 * cfg->exts (a single compressed file is taken whole: the walk filtered
 * its name). Plain data that only a name called an archive is a skip note.
 * Returns RS_OK for damaged archives (they are notes); only an error from a
 * callback (out of memory) is returned. The caller closes fd. */
rs_err_e rs_archive_ingest(const rs_ingest_cfg_t *cfg, const char *name, int fd, const uint8_t *peek,
                           size_t peek_len, int seekable);

#endif
