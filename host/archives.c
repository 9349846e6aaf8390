/*
 * archives.c - archives and compressed files as documents (archives.h), with
 * libarchive reading from our own callbacks: the bytes already peeked from
 * stdin first, then read(2) on the descriptor; regular files also get seek
 * and skip callbacks, so zip can use its central directory.
 *
 * A compressed stream (by its magic) is read in two layers: a decompressing
 * layer, then a libarchive reader that finds the tar (or the single file,
 * raw format) in the decompressed bytes. gzip is inflated here with zlib,
 * member after member, because zlib checks each member's CRC-32 and length
 * and libarchive's gzip filter does not; zstd, xz, bzip2 and lz4 go through
 * a libarchive reader of raw format (their libraries check what the stream
 * carries: xz and bzip2 always, zstd when the frame has a checksum). The
 * decompressing layer is drained to its very end once the members are read,
 * so damage that inflates into plausible bytes is still reported.
 *
 * One archive at a time, on the walking thread. Each member's bytes go into
 * a buffer sized from the header (or grown, up to the size limit) that the
 * new document owns, or past the split size in pieces (pieces.h);
 * libarchive's and zlib's errors are turned into skip notes here, with the
 * detail they give and the offsets reached.
 *
 * DESIGN. Damage is handled where libarchive reports it:
 *   - a header it cannot read (ARCHIVE_RETRY: a tar header with a bad
 *     checksum, say) starts a resync: libarchive looks for the next header
 *     that reads, and once one does (or the archive ends) one skip note
 *     names the archive, the byte where the bad header began (in the
 *     unpacked stream for a compressed tar), the byte where reading
 *     resumed, the member before it and libarchive's message. Retries go on
 *     as long as each moves forward in the input.
 *   - a header read with a warning (ARCHIVE_WARN: a malformed pax record)
 *     is read; the document gets the warning (corpus.warnings) through our
 *     on_doc, which sets rs_doc_t.warning on its last piece.
 *   - member data that fails with ARCHIVE_FATAL ends the reader. A zip read
 *     from a seekable file has a central directory saying where every
 *     member starts, so the reader is opened again on the same descriptor,
 *     the headers already read (r->headers, taken or not) are passed over
 *     with archive_read_data_skip (no data is read: the zip reader seeks),
 *     the last of them checked to be the damaged member, and reading goes
 *     on with the member after it; each member is thus read once. Other
 *     archives (a compressed stream, tar, a zip from a pipe) cannot be
 *     entered past the damage: the note says the rest could not be read.
 */
#include "archives.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <zlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pieces.h" /* rs_pieces_t: a member whole or in pieces */

#define RS_ARCHIVE_BLOCK (1u << 20)
#define RS_ARCHIVE_RETRIES 16 /* retries in a row that move nowhere before giving up */

static int rs_ends_with(const char *s, size_t n, const char *suffix)
{
    const size_t k = strlen(suffix);
    return n >= k && strncasecmp(s + n - k, suffix, k) == 0;
}

rs_archive_kind_e rs_archive_name_kind(const char *name, size_t *inner_len)
{
    static const char *const multi[] = {".tar", ".tar.gz", ".tgz", ".tar.zst", ".tzst", ".tar.xz", ".txz",
                                        ".tar.bz2", ".tbz2", ".tbz", ".tar.lz4", ".zip", ".7z", NULL};
    static const char *const single[] = {".gz", ".zst", ".xz", ".bz2", ".lz4", NULL};
    const size_t n = strlen(name);
    for (const char *const *m = multi; *m; m++)
        if (rs_ends_with(name, n, *m))
            return RS_ARCHIVE_MULTI;
    for (const char *const *m = single; *m; m++)
        if (rs_ends_with(name, n, *m) && n > strlen(*m)) {
            if (inner_len)
                *inner_len = n - strlen(*m);
            return RS_ARCHIVE_SINGLE;
        }
    return RS_ARCHIVE_NONE;
}

int rs_archive_sniff(const uint8_t *p, size_t n)
{
    if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
        return 2; /* gzip */
    if (n >= 4 && memcmp(p, "\x28\xb5\x2f\xfd", 4) == 0)
        return 2; /* zstd */
    if (n >= 6 && memcmp(p, "\xfd" "7zXZ\x00", 6) == 0)
        return 2; /* xz */
    if (n >= 4 && memcmp(p, "BZh", 3) == 0 && p[3] >= '1' && p[3] <= '9')
        return 2; /* bzip2 */
    if (n >= 4 && memcmp(p, "\x04\x22\x4d\x18", 4) == 0)
        return 2; /* lz4 */
    if (n >= 4 && (memcmp(p, "PK\x03\x04", 4) == 0 || memcmp(p, "PK\x05\x06", 4) == 0))
        return 1; /* zip */
    if (n >= 6 && memcmp(p, "7z\xbc\xaf\x27\x1c", 6) == 0)
        return 1; /* 7z */
    if (n >= 262 && memcmp(p + 257, "ustar", 5) == 0)
        return 1; /* tar */
    return 0;
}

/* --- input callbacks --------------------------------------------------- */

typedef struct rs_arc_src {
    int fd;
    const uint8_t *peek;
    size_t peek_len, peek_pos;
    uint8_t *buf;
    /* cfg->consumed (NULL: none): bytes read from the input are added to
     * it, from base, what it held when the archive was opened; but a zip
     * read from a file starts at its end (its central directory) and seeks
     * back and forth, so there it is the offset of the last member's header
     * (by_header; rs_arc_position). The caller sets the file's size at the
     * end. */
    uint64_t *consumed, base;
    int by_header;
} rs_arc_src_t;

static void rs_src_count(rs_arc_src_t *src, size_t n)
{
    if (src->consumed && !src->by_header)
        *src->consumed += n;
}

/* The next block of raw input: the peeked bytes, then read(2). Returns its
 * length, 0 at the end, -1 with errno set on a read error. */
static ssize_t rs_src_next(rs_arc_src_t *src, const void **out)
{
    if (src->peek_pos < src->peek_len) {
        *out = src->peek + src->peek_pos;
        const size_t n = src->peek_len - src->peek_pos;
        src->peek_pos = src->peek_len;
        rs_src_count(src, n);
        return (ssize_t)n;
    }
    for (;;) {
        const ssize_t r = read(src->fd, src->buf, RS_ARCHIVE_BLOCK);
        if (r >= 0) {
            *out = src->buf;
            rs_src_count(src, (size_t)r);
            return r;
        }
        if (errno != EINTR)
            return -1;
    }
}

static la_ssize_t rs_arc_read(struct archive *a, void *ud, const void **out)
{
    const ssize_t r = rs_src_next(ud, out);
    if (r < 0)
        archive_set_error(a, errno, "read error: %s", strerror(errno));
    return r;
}

static la_int64_t rs_arc_seek(struct archive *a, void *ud, la_int64_t off, int whence)
{
    rs_arc_src_t *src = ud;
    const off_t r = lseek(src->fd, (off_t)off, whence);
    if (r < 0)
        archive_set_error(a, errno, "seek error: %s", strerror(errno));
    return r < 0 ? ARCHIVE_FATAL : (la_int64_t)r;
}

static la_int64_t rs_arc_skip(struct archive *a, void *ud, la_int64_t request)
{
    (void)a;
    rs_arc_src_t *src = ud;
    struct stat st;
    const off_t cur = lseek(src->fd, 0, SEEK_CUR);
    /* never past the end (lseek would let us): libarchive then reads, and
     * finds the archive truncated where it is */
    if (cur < 0 || fstat(src->fd, &st) != 0 || request > (la_int64_t)(st.st_size - cur)
        || lseek(src->fd, (off_t)request, SEEK_CUR) < 0)
        return 0; /* libarchive reads through instead */
    return request;
}

/* --- decompressing layers ------------------------------------------- */

/* A libarchive reader of raw format that decompresses (zstd, xz, ...). */
typedef struct rs_arc_pipe {
    struct archive *outer;
} rs_arc_pipe_t;

static la_ssize_t rs_pipe_read(struct archive *a, void *ud, const void **out)
{
    rs_arc_pipe_t *p = ud;
    size_t size;
    la_int64_t off;
    const int r = archive_read_data_block(p->outer, out, &size, &off);
    if (r == ARCHIVE_EOF)
        return 0;
    if (r < ARCHIVE_OK) {
        const char *why = archive_error_string(p->outer);
        archive_set_error(a, EIO, "%s", why ? why : "decompression failed");
        return -1;
    }
    return (la_ssize_t)size;
}

/* gzip, member after member, with zlib: CRC-32 and length checked. */
typedef struct rs_gz {
    rs_arc_src_t *src;
    z_stream z;
    int ready;      /* inflateInit2 done */
    int in_member;  /* inside a gzip member */
    int done;       /* end of input reached cleanly */
    int failed;     /* an error is pending or was returned */
    char err[200];
    uint64_t fed;   /* raw bytes handed to zlib */
    uint64_t out;   /* bytes inflated */
    uint8_t *buf;   /* RS_ARCHIVE_BLOCK */
} rs_gz_t;

static uint64_t rs_gz_raw_pos(const rs_gz_t *g)
{
    return g->fed - g->z.avail_in;
}

/* Inflates the next block into g->buf: its length, 0 at the end, -1 with
 * g->err set (after the bytes inflated before the error were returned). */
static ssize_t rs_gz_next(rs_gz_t *g)
{
    if (g->failed)
        return -1;
    if (g->done)
        return 0;
    z_stream *z = &g->z;
    z->next_out = g->buf;
    z->avail_out = RS_ARCHIVE_BLOCK;
    while (z->avail_out == RS_ARCHIVE_BLOCK && !g->failed && !g->done) {
        if (z->avail_in == 0) {
            const void *p;
            const ssize_t n = rs_src_next(g->src, &p);
            if (n < 0) {
                snprintf(g->err, sizeof g->err, "read error: %s", strerror(errno));
                g->failed = 1;
                break;
            }
            if (n == 0) {
                if (g->in_member) {
                    snprintf(g->err, sizeof g->err, "truncated gzip input");
                    g->failed = 1;
                } else {
                    g->done = 1;
                }
                break;
            }
            z->next_in = (Bytef *)p;
            z->avail_in = (uInt)n;
            g->fed += (uint64_t)n;
        }
        if (!g->in_member) {
            /* another member, or trailing bytes (ignored, as gzip does) */
            if (z->next_in[0] != 0x1f) {
                g->done = 1;
                break;
            }
            if (inflateReset2(z, 16 + MAX_WBITS) != Z_OK) {
                snprintf(g->err, sizeof g->err, "zlib could not start a member");
                g->failed = 1;
                break;
            }
            g->in_member = 1;
        }
        const int r = inflate(z, Z_NO_FLUSH);
        if (r == Z_STREAM_END) {
            g->in_member = 0;
        } else if (r == Z_BUF_ERROR && z->avail_in == 0) {
            /* wants more input */
        } else if (r != Z_OK) {
            snprintf(g->err, sizeof g->err, "gzip: %s", z->msg ? z->msg : "inflate failed");
            g->failed = 1;
        }
    }
    const size_t n = RS_ARCHIVE_BLOCK - z->avail_out;
    g->out += n;
    if (n)
        return (ssize_t)n; /* an error found here is returned by the next call */
    return g->failed ? -1 : 0;
}

static la_ssize_t rs_gz_read(struct archive *a, void *ud, const void **out)
{
    rs_gz_t *g = ud;
    const ssize_t n = rs_gz_next(g);
    if (n < 0)
        archive_set_error(a, EIO, "%s", g->err);
    *out = g->buf;
    return n;
}

/* --- members ----------------------------------------------------------- */

/* The member path without leading "./" and "/"; NULL when a component is
 * hidden (starts with '.') or the path is empty. */
static const char *rs_member_name(const char *p)
{
    for (;;) {
        if (p[0] == '.' && p[1] == '/')
            p += 2;
        else if (p[0] == '/')
            p++;
        else
            break;
    }
    if (!*p)
        return NULL;
    for (const char *c = p; c; c = strchr(c, '/')) {
        if (*c == '/')
            c++;
        if (*c == '.')
            return NULL;
    }
    return p;
}

/* How a pass of the reader of members ended. */
typedef enum rs_arc_end_e {
    RS_ARC_CLEAN = 0, /* the archive's end was reached */
    RS_ARC_STOPPED,   /* damage that ends the archive (noted), a refusal, cancel */
    RS_ARC_REENTER,   /* a zip member's data failed: open it again past that member */
} rs_arc_end_e;

typedef struct rs_arc {
    const rs_ingest_cfg_t *cfg; /* the caller's */
    rs_ingest_cfg_t own;        /* cfg, with on_doc and on_skip through this reader (ctx: the rs_arc_t) */
    const char *name;
    rs_arc_src_t *src;
    int seekable;          /* src->fd is a regular file */
    int compressed;        /* the members are read from a decompressing layer */
    struct archive *a;     /* the reader of members */
    struct archive *outer; /* a libarchive decompressing layer, or NULL */
    rs_gz_t *gz;           /* the gzip layer, or NULL */
    rs_arc_pipe_t *pipe;   /* what reads from outer */
    size_t members;        /* documents taken so far, for notes */
    size_t headers;        /* headers this archive gave so far (every entry, taken or not) */
    char last[256];        /* the pathname of the last header that read ("" before the first) */
    char *warning;         /* a note for the member being read, set on its document (owned) */
    /* RS_ARC_REENTER: the damaged member (its pathname in the header, its
     * document name) and its note without the tail (rs_arc_damaged) */
    char *damaged, *damaged_doc;
    char note[1024];
} rs_arc_t;

/* "PATH: WHAT (DETAIL), after N members, at byte B of the input (U
 * unpacked)" into out; detail NULL: libarchive's message. */
static void rs_arc_format(rs_arc_t *r, char *out, size_t outsz, const char *path, const char *what,
                          const char *detail)
{
    if (!detail && r->a)
        detail = archive_error_string(r->a);
    if (!detail && r->outer)
        detail = archive_error_string(r->outer);
    long long in, unpacked;
    if (r->gz) {
        in = (long long)rs_gz_raw_pos(r->gz);
        unpacked = (long long)r->gz->out;
    } else {
        struct archive *src = r->outer ? r->outer : r->a;
        in = src ? (long long)archive_filter_bytes(src, -1) : -1;
        unpacked = src ? (long long)archive_filter_bytes(src, 0) : -1;
    }
    char where[96] = "";
    if (in >= 0 && unpacked >= 0 && unpacked != in)
        snprintf(where, sizeof where, ", at byte %lld of the input (%lld unpacked)", in, unpacked);
    else if (in >= 0)
        snprintf(where, sizeof where, ", at byte %lld of the input", in);
    else
        snprintf(where, sizeof where, ", at byte 0 of the input (it could not be opened)");
    snprintf(out, outsz, "%s: %s (%s), after %zu member%s%s", path, what, detail ? detail : "no detail", r->members,
             r->members == 1 ? "" : "s", where);
}

/* A skip note: rs_arc_format's, then tail. */
static rs_err_e rs_arc_note(rs_arc_t *r, const char *path, const char *what, const char *detail, const char *tail)
{
    char msg[1280];
    rs_arc_format(r, msg, sizeof msg - 256, path, what, detail);
    snprintf(msg + strlen(msg), sizeof msg - strlen(msg), "%s", tail);
    return r->cfg->on_skip(r->cfg->ctx, path, msg);
}

/* The note held for the damaged member (RS_ARC_REENTER, or a failure that
 * ends the archive), with its tail; forgets the member. */
static rs_err_e rs_arc_damaged(rs_arc_t *r, const char *tail)
{
    char msg[1536];
    snprintf(msg, sizeof msg, "%s%s", r->note, tail);
    const rs_err_e e = r->cfg->on_skip(r->cfg->ctx, r->damaged_doc, msg);
    free(r->damaged);
    free(r->damaged_doc);
    r->damaged = r->damaged_doc = NULL;
    return e;
}

/* on_doc for the documents of members: the member's header warning goes on
 * its last piece (a whole document is its own last piece). */
static rs_err_e rs_arc_on_doc(void *ctx, rs_doc_t *d)
{
    rs_arc_t *r = ctx;
    if (r->warning && !d->more && !d->broken) {
        if (d->warning) { /* cut at the size limit too: both notes */
            const size_t a = strlen(r->warning), b = strlen(d->warning);
            char *both = malloc(a + b + 3);
            if (both) { /* else the cut's note alone */
                memcpy(both, r->warning, a);
                memcpy(both + a, "; ", 2);
                memcpy(both + a + 2, d->warning, b + 1);
                free(d->warning);
                d->warning = both;
            }
            free(r->warning);
        } else {
            d->warning = r->warning;
        }
        r->warning = NULL;
    }
    return r->cfg->on_doc(r->cfg->ctx, d);
}

static rs_err_e rs_arc_on_skip(void *ctx, const char *path, const char *why)
{
    const rs_arc_t *r = ctx;
    return r->cfg->on_skip(r->cfg->ctx, path, why);
}

static char *rs_join(const char *a, const char *b)
{
    const size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 2);
    if (s) {
        memcpy(s, a, la);
        s[la] = ':';
        memcpy(s + la + 1, b, lb + 1);
    }
    return s;
}

/* Reads the current member's data into a new document. header: its
 * pathname as in the archive. Returns RS_OK with *fatal set when libarchive
 * cannot go on (ARCHIVE_FATAL): the member's note is then held in r (note,
 * damaged, damaged_doc) for the caller to finish with rs_arc_damaged. */
static rs_err_e rs_arc_member(rs_arc_t *r, struct archive_entry *ent, const char *member, const char *header,
                              int raw, int *fatal)
{
    const rs_ingest_cfg_t *cfg = r->cfg;
    const uint64_t max = cfg->max_doc_bytes;
    char *path = raw ? strdup(r->name) : rs_join(r->name, member);
    if (!path)
        return RS_ERR_NOMEM;
    char msg[512];
    uint64_t size = archive_entry_size_is_set(ent) ? (uint64_t)archive_entry_size(ent) : 0;
    if (max && size > max)
        size = max + 1; /* read up to the limit only */
    rs_pieces_t pc;
    rs_pieces_init(&pc, &r->own, path, size);
    for (;;) {
        if (max && pc.total > max) {
            /* cut at the limit (a compression bomb stops here); the next
             * header passes over the rest of the member's data, as a stream */
            r->members++;
            return rs_pieces_end_at_limit(&pc);
        }
        uint8_t *at;
        size_t room;
        rs_err_e e = rs_pieces_room(&pc, &at, &room);
        if (e != RS_OK) {
            rs_pieces_abort(&pc);
            return e;
        }
        const la_ssize_t got = archive_read_data(r->a, at, room);
        if (got == 0) {
            r->members++;
            return rs_pieces_end(&pc);
        }
        if (got < 0) {
            *fatal = got == ARCHIVE_FATAL;
            /* the note's text now, while libarchive still holds the detail */
            char *name = strdup(path);
            char note[1024];
            rs_arc_format(r, note, sizeof note, path, "damaged or truncated member data", NULL);
            /* the broken piece first (when pieces went out), then the note */
            e = rs_pieces_abort(&pc);
            if (e == RS_OK && !name)
                e = RS_ERR_NOMEM;
            if (e == RS_OK && *fatal) {
                memcpy(r->note, note, sizeof note);
                r->damaged_doc = name;
                if (!(r->damaged = strdup(header)))
                    e = RS_ERR_NOMEM;
                return e;
            }
            if (e == RS_OK) {
                snprintf(msg, sizeof msg, "%.*s; this member is skipped", (int)(sizeof msg - 32), note);
                e = cfg->on_skip(cfg->ctx, name, msg);
            }
            free(name);
            return e;
        }
        if ((e = rs_pieces_add(&pc, (size_t)got)) != RS_OK) {
            rs_pieces_abort(&pc);
            return e;
        }
    }
}

static int rs_cancelled(const rs_ingest_cfg_t *cfg)
{
    return cfg->cancel && atomic_load_explicit(cfg->cancel, memory_order_relaxed);
}

/* A new reader of everything libarchive knows, raw data included. */
static struct archive *rs_reader_new(int formats)
{
    struct archive *a = archive_read_new();
    if (!a)
        return NULL;
    archive_read_support_filter_all(a);
    if (formats)
        archive_read_support_format_all(a);
    archive_read_support_format_raw(a);
    return a;
}

/* Makes and opens r->a, the reader of members, on the layer below it.
 * Returns RS_OK with *opened 0 when libarchive cannot open it (r->a is
 * kept, for its message). */
static rs_err_e rs_members_open(rs_arc_t *r, int *opened)
{
    struct archive *a = r->a = rs_reader_new(1);
    *opened = 0;
    if (!a)
        return RS_ERR_NOMEM;
    if (r->gz) {
        archive_read_set_read_callback(a, rs_gz_read);
        archive_read_set_callback_data(a, r->gz);
    } else if (r->outer) {
        archive_read_set_read_callback(a, rs_pipe_read);
        archive_read_set_callback_data(a, r->pipe);
    } else {
        archive_read_set_read_callback(a, rs_arc_read);
        if (r->seekable) {
            archive_read_set_seek_callback(a, rs_arc_seek);
            archive_read_set_skip_callback(a, rs_arc_skip);
        }
        archive_read_set_callback_data(a, r->src);
    }
    *opened = archive_read_open1(a) == ARCHIVE_OK;
    return RS_OK;
}

/* A run of headers that do not read (ARCHIVE_RETRY): where it began, where
 * the last retry began, how many retries in a row did not move, and the
 * first retry's message. */
typedef struct rs_resync {
    long long from, pos;
    int stalls;
    char why[200];
} rs_resync_t;

/* One more retry in the run; 1 when retries have stopped moving. */
static int rs_resync_stalled(rs_resync_t *s, struct archive *a)
{
    const long long at = (long long)archive_read_header_position(a);
    if (s->from < 0) {
        s->from = s->pos = at;
        s->stalls = 0;
        snprintf(s->why, sizeof s->why, "%s", archive_error_string(a) ? archive_error_string(a) : "no detail");
        return 0;
    }
    if (at > s->pos) {
        s->pos = at;
        s->stalls = 0;
        return 0;
    }
    return ++s->stalls >= RS_ARCHIVE_RETRIES;
}

/* The note for a run of unreadable headers, once it ends with h: a header
 * that reads (reading resumed there), the end of the archive, a failure, or
 * (stalled) retries that went nowhere. */
static rs_err_e rs_resync_note(rs_arc_t *r, const rs_resync_t *s, int h, int stalled)
{
    const int unpacked = r->compressed || archive_filter_count(r->a) > 1;
    const char *of = unpacked ? "of the unpacked archive" : "of the input";
    const long long at = (long long)archive_read_header_position(r->a);
    char after[300], tail[400];
    if (r->last[0])
        snprintf(after, sizeof after, "after the member %s", r->last);
    else
        snprintf(after, sizeof after, "before any member");
    if (stalled)
        snprintf(tail, sizeof tail,
                 "; libarchive retried %d times without moving on: the rest of the archive could not be read, "
                 "members before it are kept",
                 RS_ARCHIVE_RETRIES);
    else if (h >= ARCHIVE_WARN)
        snprintf(tail, sizeof tail,
                 "; reading resumed at the next readable header, at byte %lld: the %lld bytes between are lost "
                 "(a member or more), members before and after are kept",
                 at, at - s->from);
    else if (h == ARCHIVE_EOF)
        snprintf(tail, sizeof tail,
                 "; no readable header follows: the rest of the archive (to byte %lld) is lost, members before it "
                 "are kept",
                 at);
    else
        snprintf(tail, sizeof tail,
                 "; then libarchive gave up at byte %lld (%s): the rest of the archive could not be read, members "
                 "before it are kept",
                 at, archive_error_string(r->a) ? archive_error_string(r->a) : "no detail");
    char msg[1280];
    snprintf(msg, sizeof msg, "%s: damaged member header (%s) at byte %lld %s, %s (%zu member%s read)%s", r->name,
             s->why, s->from, of, after, r->members, r->members == 1 ? "" : "s", tail);
    return r->cfg->on_skip(r->cfg->ctx, r->name, msg);
}

/* Whether the archive can be entered again past a member whose data failed:
 * a zip in a regular file, whose central directory says where each member
 * starts. */
static int rs_arc_can_reenter(const rs_arc_t *r)
{
    return r->seekable && !r->compressed && archive_filter_count(r->a) == 1
           && (archive_format(r->a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_ZIP;
}

#define RS_REST_LOST                                                                                          \
    "; the rest of the archive could not be read: this member and any after it are skipped, members before it are " \
    "kept"

/* After a header of a zip read from a file: the input read so far is the
 * header's offset (rs_arc_src_t.consumed). */
static void rs_arc_position(rs_arc_t *r)
{
    rs_arc_src_t *s = r->src;
    if (!s->consumed || !r->seekable || (archive_format(r->a) & ARCHIVE_FORMAT_BASE_MASK) != ARCHIVE_FORMAT_ZIP)
        return;
    const la_int64_t at = archive_read_header_position(r->a);
    if (at < 0)
        return;
    if (!s->by_header || s->base + (uint64_t)at > *s->consumed)
        *s->consumed = s->base + (uint64_t)at; /* the first time, the directory's reads are dropped */
    s->by_header = 1;
}

/* Reads members with r->a until the archive ends or cannot go on. */
static rs_err_e rs_arc_entries(rs_arc_t *r, rs_arc_end_e *end)
{
    const rs_ingest_cfg_t *cfg = r->cfg;
    struct archive *a = r->a;
    rs_resync_t bad = {.from = -1};
    char msg[1024];
    rs_err_e e = RS_OK;
    *end = RS_ARC_STOPPED;
    while (e == RS_OK && !rs_cancelled(cfg)) {
        struct archive_entry *ent;
        const int h = archive_read_next_header(a, &ent);
        if (h == ARCHIVE_RETRY) {
            if (rs_resync_stalled(&bad, a)) {
                e = rs_resync_note(r, &bad, h, 1);
                break;
            }
            continue;
        }
        if (bad.from >= 0) {
            e = rs_resync_note(r, &bad, h, 0);
            bad.from = -1;
            if (e != RS_OK)
                break;
            if (h < ARCHIVE_WARN) {
                *end = h == ARCHIVE_EOF ? RS_ARC_CLEAN : RS_ARC_STOPPED;
                break;
            }
        }
        if (h == ARCHIVE_EOF) {
            *end = RS_ARC_CLEAN;
            break;
        }
        if (h < ARCHIVE_WARN) {
            e = rs_arc_note(r, r->name, "damaged or truncated archive", NULL,
                            "; the rest of the archive could not be read, members before it are kept");
            break;
        }
        r->headers++;
        rs_arc_position(r);
        const char *p = archive_entry_pathname(ent);
        if (!p)
            p = archive_entry_pathname_utf8(ent);
        snprintf(r->last, sizeof r->last, "%s", p ? p : "");
        const int raw = archive_format(a) == ARCHIVE_FORMAT_RAW;
        if (raw && !r->compressed && archive_filter_code(a, 0) == ARCHIVE_FILTER_NONE) {
            snprintf(msg, sizeof msg, "%s: not an archive or compressed file (only its name says it is)", r->name);
            e = cfg->on_skip(cfg->ctx, r->name, msg);
            break;
        }
        if (!raw && archive_entry_filetype(ent) != AE_IFREG)
            continue;
        const char *member = p ? rs_member_name(p) : NULL;
        if (!raw && (!member || !rs_ingest_ext_ok(cfg->exts, member)))
            continue;
        if (h == ARCHIVE_WARN) {
            const int unpacked = r->compressed || archive_filter_count(a) > 1;
            snprintf(msg, sizeof msg,
                     "libarchive warns about this member's header at byte %lld %s (%s); its data were read as they "
                     "are",
                     (long long)archive_read_header_position(a), unpacked ? "of the unpacked archive" : "of the input",
                     archive_error_string(a) ? archive_error_string(a) : "no detail");
            if (!(r->warning = strdup(msg))) {
                e = RS_ERR_NOMEM;
                break;
            }
        }
        int fatal = 0;
        e = rs_arc_member(r, ent, member ? member : "", p ? p : "", raw, &fatal);
        free(r->warning);
        r->warning = NULL;
        if (fatal && e == RS_OK) {
            if (rs_arc_can_reenter(r)) {
                *end = RS_ARC_REENTER;
                break;
            }
            e = rs_arc_damaged(r, raw ? "; it could not be read to its end, and is skipped" : RS_REST_LOST);
        }
        if (fatal)
            break;
    }
    return e;
}

/* Opens the zip again on its descriptor and passes over the r->headers
 * headers read before (the last one the damaged member, r->damaged), so
 * that reading goes on with the member after it. Finishes the damaged
 * member's note either way; *ok is 0 when the archive cannot be entered
 * again. */
static rs_err_e rs_arc_reenter(rs_arc_t *r, int *ok)
{
    char why[300] = "";
    *ok = 0;
    archive_read_free(r->a);
    r->a = NULL;
    r->src->peek_pos = r->src->peek_len;
    if (lseek(r->src->fd, 0, SEEK_SET) != 0) {
        snprintf(why, sizeof why, "seek: %s", strerror(errno));
    } else {
        int opened;
        const rs_err_e e = rs_members_open(r, &opened);
        if (e != RS_OK)
            return e;
        const char *err = NULL;
        rs_resync_t s = {.from = -1};
        for (size_t i = 0; opened && i < r->headers && !err;) {
            struct archive_entry *ent;
            const int h = archive_read_next_header(r->a, &ent);
            if (h == ARCHIVE_RETRY) { /* noted the first time */
                if (rs_resync_stalled(&s, r->a))
                    err = "retries without moving on";
                continue;
            }
            s.from = -1;
            if (h < ARCHIVE_WARN) {
                err = h == ARCHIVE_EOF ? "it ended before" : archive_error_string(r->a);
                break;
            }
            const char *p = archive_entry_pathname(ent);
            if (!p)
                p = archive_entry_pathname_utf8(ent);
            if (++i == r->headers && strcmp(p ? p : "", r->damaged) != 0)
                err = "another member was found in its place";
            else if (archive_read_data_skip(r->a) < ARCHIVE_WARN)
                err = archive_error_string(r->a);
            if (err && !*err)
                err = "no detail";
        }
        if (!opened)
            err = archive_error_string(r->a);
        if (err)
            snprintf(why, sizeof why, "%s", err);
        else
            *ok = 1;
    }
    if (*ok)
        return rs_arc_damaged(r, "; this member is skipped, and reading goes on with the member after it (the zip "
                                 "was opened again past it)");
    char tail[600];
    snprintf(tail, sizeof tail,
             "; the archive could not be opened again past it (%s): the rest of the archive could not be read, this "
             "member and any after it are skipped, members before it are kept",
             why[0] ? why : "no detail");
    return rs_arc_damaged(r, tail);
}

/* Reads the decompressing layer to its end, so that the stream's checks
 * are all made; a failure is a note. */
static rs_err_e rs_drain(rs_arc_t *r)
{
    const char *why = NULL;
    if (r->gz) {
        ssize_t n;
        while ((n = rs_gz_next(r->gz)) > 0)
            ;
        if (n < 0)
            why = r->gz->err;
    } else if (r->outer) {
        const void *b;
        size_t size;
        la_int64_t off;
        int h;
        while ((h = archive_read_data_block(r->outer, &b, &size, &off)) == ARCHIVE_OK)
            ;
        if (h != ARCHIVE_EOF)
            why = archive_error_string(r->outer) ? archive_error_string(r->outer) : "decompression failed";
    }
    if (!why)
        return RS_OK;
    return rs_arc_note(r, r->name, "damaged compressed data after the last member", why,
                       "; the members before it were read and kept, but may hold damaged text");
}

rs_err_e rs_archive_ingest(const rs_ingest_cfg_t *cfg, const char *name, int fd, const uint8_t *peek,
                           size_t peek_len, int seekable)
{
    rs_arc_src_t src = {.fd = fd, .peek = peek, .peek_len = seekable ? 0 : peek_len, .consumed = cfg->consumed,
                        .base = cfg->consumed ? *cfg->consumed : 0};
    rs_arc_pipe_t pipe = {0};
    rs_gz_t gz = {.src = &src};
    const int compressed = rs_archive_sniff(peek, peek_len) == 2;
    const int gzip = compressed && peek[0] == 0x1f;
    rs_arc_t r = {.cfg = cfg, .own = *cfg, .name = name, .src = &src, .seekable = seekable,
                  .compressed = compressed, .pipe = &pipe};
    r.own.on_doc = rs_arc_on_doc;
    r.own.on_skip = rs_arc_on_skip;
    r.own.ctx = &r;
    rs_err_e e = RS_OK;
    if (!(src.buf = malloc(RS_ARCHIVE_BLOCK)) || (gzip && !(gz.buf = malloc(RS_ARCHIVE_BLOCK)))) {
        e = RS_ERR_NOMEM;
        goto out;
    }
    if (gzip) {
        if (inflateInit2(&gz.z, 16 + MAX_WBITS) != Z_OK) {
            e = RS_ERR_NOMEM;
            goto out;
        }
        gz.ready = 1;
        r.gz = &gz;
    } else if (compressed) {
        /* the libarchive layer that decompresses, then its raw entry */
        if (!(r.outer = rs_reader_new(0))) {
            e = RS_ERR_NOMEM;
            goto out;
        }
        archive_read_set_read_callback(r.outer, rs_arc_read);
        archive_read_set_callback_data(r.outer, &src);
        struct archive_entry *ent;
        if (archive_read_open1(r.outer) != ARCHIVE_OK || archive_read_next_header(r.outer, &ent) != ARCHIVE_OK) {
            e = rs_arc_note(&r, name, "not a readable compressed file", NULL, "");
            goto out;
        }
        pipe.outer = r.outer;
    }
    int opened;
    if ((e = rs_members_open(&r, &opened)) != RS_OK)
        goto out;
    if (!opened) {
        e = rs_arc_note(&r, name, "not a readable archive or compressed file", NULL, "; nothing was read");
        goto out;
    }
    rs_arc_end_e end = RS_ARC_STOPPED;
    for (;;) {
        if ((e = rs_arc_entries(&r, &end)) != RS_OK || end != RS_ARC_REENTER)
            break;
        int ok;
        if ((e = rs_arc_reenter(&r, &ok)) != RS_OK || !ok) {
            end = RS_ARC_STOPPED;
            break;
        }
    }
    if (e == RS_OK && end == RS_ARC_CLEAN && !rs_cancelled(cfg))
        e = rs_drain(&r);
out:
    if (r.a)
        archive_read_free(r.a);
    if (r.outer)
        archive_read_free(r.outer);
    if (gz.ready)
        inflateEnd(&gz.z);
    free(gz.buf);
    free(src.buf);
    free(r.warning);
    free(r.damaged);
    free(r.damaged_doc);
    return e;
}
