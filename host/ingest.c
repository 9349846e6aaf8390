/*
 * ingest.c - walking files and directories into documents (ingest.h).
 * Directory loops are found by keeping the (device, inode) of every
 * directory on the current walk stack. Each file's first 512 bytes are
 * peeked to tell archives and compressed streams (archives.c) from text;
 * text is then read, the peeked bytes first, whole or in pieces (pieces.h). The optional filter is
 * asked about each input file once it is known to be one (after stat and
 * the extension test) and before it is opened. Runs on one thread.
 */
#include "ingest.h"

#include "archives.h" /* rs_archive_ingest, rs_archive_sniff, rs_archive_name_kind */
#include "pieces.h"   /* rs_pieces_t: documents read whole or in pieces */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct rs_walk {
    const rs_ingest_cfg_t *cfg;
    dev_t dev[64];
    ino_t ino[64];
    int depth;
} rs_walk_t;

#define RS_PEEK_BYTES 512

/* Reads fd to its end into a new buffer that starts with pre[0..npre)
 * (bytes already read from fd). Does not close fd. */
static rs_err_e rs_read_rest(int fd, const char *path, const uint8_t *pre, size_t npre, uint64_t max, uint8_t **out,
                             size_t *len, rs_error_t *err)
{
    size_t cap = 1 << 16, n = npre;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        RS_RETURN_IF(max && (uint64_t)st.st_size > max, err, RS_ERR_TOO_LARGE,
                     "%s: %lld bytes, over the limit of %llu (--max-document-size)", path, (long long)st.st_size,
                     (unsigned long long)max);
        cap = (size_t)st.st_size + 1;
    }
    if (cap < npre + 1)
        cap = npre + 1;
    uint8_t *buf = malloc(cap);
    RS_RETURN_IF(!buf, err, RS_ERR_NOMEM, "%s: out of memory", path);
    if (npre)
        memcpy(buf, pre, npre);
    rs_err_e e = RS_OK;
    for (;;) {
        if (n == cap) {
            if (max && n > max) {
                e = rs_error_set(err, RS_ERR_TOO_LARGE, "%s: over the limit of %llu bytes (--max-document-size)", path,
                                 (unsigned long long)max);
                break;
            }
            uint8_t *b = realloc(buf, cap * 2);
            if (!b) {
                e = rs_error_set(err, RS_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            buf = b;
            cap *= 2;
        }
        const ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            e = rs_error_set(err, RS_ERR_IO, "%s: %s", path, strerror(errno));
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (e == RS_OK && max && n > max)
        e = rs_error_set(err, RS_ERR_TOO_LARGE, "%s: over the limit of %llu bytes (--max-document-size)", path,
                         (unsigned long long)max);
    if (e != RS_OK) {
        free(buf);
        return e;
    }
    *out = buf;
    *len = n;
    return RS_OK;
}

rs_err_e rs_read_file(const char *path, uint64_t max, uint8_t **out, size_t *len, rs_error_t *err)
{
    const int is_stdin = strcmp(path, "-") == 0;
    const int fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    RS_RETURN_IF(fd < 0, err, RS_ERR_IO, "%s: %s", path, strerror(errno));
    const rs_err_e e = rs_read_rest(fd, path, NULL, 0, max, out, len, err);
    if (!is_stdin)
        close(fd);
    return e;
}

int rs_ingest_ext_ok(const char *exts, const char *name)
{
    if (strcmp(exts, "*") == 0)
        return 1;
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name)
        return 0;
    const size_t el = strlen(dot + 1);
    for (const char *p = exts; *p;) {
        const size_t l = strcspn(p, ",");
        if (l == el && strncasecmp(p, dot + 1, l) == 0)
            return 1;
        p += l;
        if (*p == ',')
            p++;
    }
    return 0;
}

static int rs_cancelled(const rs_ingest_cfg_t *cfg)
{
    return cfg->cancel && atomic_load_explicit(cfg->cancel, memory_order_relaxed);
}

/* Reads up to n bytes (fewer only at the end of the input). */
static ssize_t rs_read_full(int fd, uint8_t *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        const ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* Reads a text file from fd (its first np bytes already in peek) into a
 * document, whole or in pieces. */
static rs_err_e rs_take_text(const rs_ingest_cfg_t *cfg, const char *path, int fd, const uint8_t *peek, size_t np,
                             uint64_t size)
{
    char msg[512];
    const uint64_t max = cfg->max_doc_bytes;
    char *name = strdup(path);
    if (!name)
        return RS_ERR_NOMEM;
    rs_pieces_t pc;
    /* a file over the limit is read up to it only */
    rs_pieces_init(&pc, cfg, name, max && size > max ? max + 1 : size);
    uint8_t *at;
    size_t room;
    rs_err_e e = RS_OK;
    for (size_t off = 0; off < np && e == RS_OK;) {
        e = rs_pieces_room(&pc, &at, &room);
        if (e == RS_OK) {
            const size_t k = np - off < room ? np - off : room;
            memcpy(at, peek + off, k);
            off += k;
            e = rs_pieces_add(&pc, k);
        }
    }
    while (e == RS_OK) {
        if (max && pc.total > max)
            return rs_pieces_end_at_limit(&pc);
        if ((e = rs_pieces_room(&pc, &at, &room)) != RS_OK)
            break;
        const ssize_t r = read(fd, at, room);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(msg, sizeof msg, "%s: %s", path, strerror(errno));
            e = rs_pieces_abort(&pc);
            return e == RS_OK ? cfg->on_skip(cfg->ctx, path, msg) : e;
        }
        if (r == 0)
            return rs_pieces_end(&pc);
        if (cfg->consumed)
            *cfg->consumed += (uint64_t)r;
        e = rs_pieces_add(&pc, (size_t)r);
    }
    rs_pieces_abort(&pc);
    return e;
}

static rs_err_e rs_take_file(rs_walk_t *w, const char *path, int top)
{
    const rs_ingest_cfg_t *cfg = w->cfg;
    char msg[512];
    const int is_stdin = top && strcmp(path, "-") == 0;
    const int fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(msg, sizeof msg, "%s: %s", path, strerror(errno));
        return cfg->on_skip(cfg->ctx, path, msg);
    }
    struct stat st;
    const int regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    uint8_t peek[RS_PEEK_BYTES];
    const ssize_t np = rs_read_full(fd, peek, sizeof peek);
    const uint64_t base = cfg->consumed ? *cfg->consumed : 0;
    if (cfg->consumed && np > 0)
        *cfg->consumed += (uint64_t)np;
    rs_err_e e = RS_OK;
    if (np < 0) {
        snprintf(msg, sizeof msg, "%s: %s", path, strerror(errno));
        e = cfg->on_skip(cfg->ctx, path, msg);
    } else if ((!is_stdin && rs_archive_name_kind(path, NULL) != RS_ARCHIVE_NONE)
               || rs_archive_sniff(peek, (size_t)np)) {
        if (cfg->consumed)
            *cfg->consumed = base; /* the archive counts its bytes from its start */
        if (regular && lseek(fd, 0, SEEK_SET) == 0)
            e = rs_archive_ingest(cfg, path, fd, peek, (size_t)np, 1);
        else
            e = rs_archive_ingest(cfg, path, fd, peek, (size_t)np, 0);
    } else {
        e = rs_take_text(cfg, path, fd, peek, (size_t)np, regular ? (uint64_t)st.st_size : 0);
    }
    if (cfg->consumed && regular)
        *cfg->consumed = base + (uint64_t)st.st_size; /* all of it, read, passed over or cut */
    if (!is_stdin)
        close(fd);
    return e;
}

/* A file met in a directory walk is taken when its extension is listed,
 * when it is an archive, or when it is a compressed file whose name without
 * the compression suffix is listed. */
static int rs_walk_takes(const char *exts, const char *path)
{
    if (rs_ingest_ext_ok(exts, path))
        return 1;
    size_t inner = 0;
    const rs_archive_kind_e k = rs_archive_name_kind(path, &inner);
    if (k == RS_ARCHIVE_MULTI)
        return 1;
    if (k != RS_ARCHIVE_SINGLE)
        return 0;
    char *name = strndup(path, inner);
    const int ok = name && rs_ingest_ext_ok(exts, name);
    free(name);
    return ok;
}

static int rs_cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static rs_err_e rs_walk_path(rs_walk_t *w, const char *path, int top);

static rs_err_e rs_walk_dir(rs_walk_t *w, const char *path)
{
    char msg[512];
    DIR *dir = opendir(path);
    if (!dir) {
        snprintf(msg, sizeof msg, "%s: %s", path, strerror(errno));
        return w->cfg->on_skip(w->cfg->ctx, path, msg);
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    rs_err_e e = RS_OK;
    for (struct dirent *de; (de = readdir(dir)) != NULL;) {
        if (de->d_name[0] == '.')
            continue; /* ".", "..", and hidden entries */
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **p = realloc(names, cap * sizeof *p);
            if (!p) {
                e = RS_ERR_NOMEM;
                break;
            }
            names = p;
        }
        if (!(names[n] = strdup(de->d_name))) {
            e = RS_ERR_NOMEM;
            break;
        }
        n++;
    }
    closedir(dir);
    if (e == RS_OK)
        qsort(names, n, sizeof *names, rs_cmp_names);
    const size_t plen = strlen(path);
    for (size_t i = 0; i < n && e == RS_OK && !rs_cancelled(w->cfg); i++) {
        const size_t need = plen + strlen(names[i]) + 2;
        char *child = malloc(need);
        if (!child) {
            e = RS_ERR_NOMEM;
            break;
        }
        snprintf(child, need, "%s%s%s", path, (plen && path[plen - 1] == '/') ? "" : "/", names[i]);
        e = rs_walk_path(w, child, 0);
        free(child);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return e;
}

/* The filter's verdict (ingest.h): 1 when the file is to be read. */
static int rs_walk_filter(const rs_walk_t *w, const char *path, uint64_t size)
{
    return !w->cfg->filter || w->cfg->filter(w->cfg->filter_ctx, path, size) != 0;
}

static rs_err_e rs_walk_path(rs_walk_t *w, const char *path, int top)
{
    char msg[512];
    if (top && strcmp(path, "-") == 0)
        return rs_walk_filter(w, path, 0) ? rs_take_file(w, path, 1) : RS_OK;
    struct stat st;
    if (stat(path, &st) != 0) {
        struct stat lst;
        if (errno == ELOOP || (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)))
            snprintf(msg, sizeof msg, "%s: %s", path, errno == ELOOP ? "symlink loop" : "broken symlink");
        else
            snprintf(msg, sizeof msg, "%s: %s", path, strerror(errno));
        return w->cfg->on_skip(w->cfg->ctx, path, msg);
    }
    if (S_ISDIR(st.st_mode)) {
        for (int i = 0; i < w->depth; i++)
            if (w->dev[i] == st.st_dev && w->ino[i] == st.st_ino) {
                snprintf(msg, sizeof msg, "%s: symlink loop (directory already being walked)", path);
                return w->cfg->on_skip(w->cfg->ctx, path, msg);
            }
        if (w->depth == (int)(sizeof w->dev / sizeof w->dev[0])) {
            snprintf(msg, sizeof msg, "%s: directories nested too deep", path);
            return w->cfg->on_skip(w->cfg->ctx, path, msg);
        }
        w->dev[w->depth] = st.st_dev;
        w->ino[w->depth] = st.st_ino;
        w->depth++;
        const rs_err_e e = rs_walk_dir(w, path);
        w->depth--;
        return e;
    }
    if (!S_ISREG(st.st_mode) && !top)
        return RS_OK; /* sockets, devices and fifos inside directories */
    if (!top && !rs_walk_takes(w->cfg->exts, path))
        return RS_OK;
    if (!rs_walk_filter(w, path, (uint64_t)st.st_size))
        return RS_OK;
    return rs_take_file(w, path, top);
}

rs_err_e rs_ingest_paths(const rs_ingest_cfg_t *cfg, const char *const *paths, size_t n)
{
    rs_walk_t w = {.cfg = cfg};
    for (size_t i = 0; i < n && !rs_cancelled(cfg); i++)
        RS_FORWARD(rs_walk_path(&w, paths[i], 1));
    return RS_OK;
}
