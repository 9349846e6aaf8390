/*
 * test_archive.c - Criterion tests for host/archives.c and the archive
 * paths of host/ingest.c. Archives are written at test time with
 * libarchive's writer into a temporary directory: .tar, .tar.gz, .tgz,
 * .tar.zst, .tar.xz, .tar.bz2, .zip, and single .gz, .zst and .xz files.
 *
 * Each kind must give the same report (outside "run", with member names for
 * paths) as the same files unpacked into a directory: members named
 * "ARCHIVE:member/path", "./" dropped, hidden members, directories, links
 * and unlisted extensions left out. Then every kind of bad input: corrupt
 * compressed data, truncated .tar.gz, .tar and .zip, a damaged zip member,
 * garbage with a gzip magic, a text file named .tar.gz, an empty file;
 * members read before the fault are kept, the fault is a skip note that
 * names the archive and the byte offset (and says when the rest of the
 * archive could not be read), and nothing crashes. A tar member header with
 * a bad checksum loses only that member, with a note where it was; a header
 * libarchive warns about is a warning on its document; a damaged zip member
 * loses only itself (the members after it are read, each once), except
 * from a pipe. A member or file over --max-document-size is cut at its last
 * line end within the limit, with a warning, and counts as those bytes do. Standard input is read
 * as an archive too, from a file and from a pipe (not seekable).
 */
#include <criterion/criterion.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archives.h" /* rs_archive_name_kind, rs_archive_sniff */
#include "rostrum.h"  /* rs_scan_run */

/* ------------------------------------------------------------------------ */
/* Writing archives and directories                                         */

typedef struct member {
    const char *name;
    const char *data; /* NULL: a directory, or a link when link is set */
    size_t len;       /* 0: strlen(data) */
    const char *link;
} member_t;

static char tmpdir[64];

static void make_tmp(void)
{
    strcpy(tmpdir, "/tmp/rs_test_archive_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void drop_tmp(void)
{
    if (getenv("RS_KEEP_TMP")) /* for a look at the archives of a failed test */
        return;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "test_archive: could not remove %s\n", tmpdir);
}

TestSuite(archive, .init = make_tmp, .fini = drop_tmp);

static size_t mlen(const member_t *m)
{
    return m->len ? m->len : strlen(m->data);
}

/* kind: tar, tar.gz, tar.zst, tar.xz, tar.bz2, zip, or gz, zst, xz for a
 * single compressed file (one member, raw). */
static void write_archive(const char *path, const char *kind, const member_t *m, size_t n)
{
    struct archive *a = archive_write_new();
    const int raw = strcmp(kind, "gz") == 0 || strcmp(kind, "zst") == 0 || strcmp(kind, "xz") == 0;
    if (strcmp(kind, "zip") == 0)
        cr_assert_eq(archive_write_set_format_zip(a), ARCHIVE_OK);
    else if (raw)
        cr_assert_eq(archive_write_set_format_raw(a), ARCHIVE_OK);
    else
        cr_assert_eq(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
    if (strstr(kind, "gz"))
        cr_assert_eq(archive_write_add_filter_gzip(a), ARCHIVE_OK);
    else if (strstr(kind, "zst"))
        cr_assert_eq(archive_write_add_filter_zstd(a), ARCHIVE_OK);
    else if (strstr(kind, "xz"))
        cr_assert_eq(archive_write_add_filter_xz(a), ARCHIVE_OK);
    else if (strstr(kind, "bz2"))
        cr_assert_eq(archive_write_add_filter_bzip2(a), ARCHIVE_OK);
    cr_assert_eq(archive_write_open_filename(a, path), ARCHIVE_OK, "%s", archive_error_string(a));
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, m[i].name);
        archive_entry_set_mtime(e, 1700000000, 0);
        if (m[i].data) {
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, 0644);
            archive_entry_set_size(e, (la_int64_t)mlen(&m[i]));
        } else if (m[i].link) {
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_perm(e, 0777);
            archive_entry_set_symlink(e, m[i].link);
        } else {
            archive_entry_set_filetype(e, AE_IFDIR);
            archive_entry_set_perm(e, 0755);
        }
        cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK, "%s: %s", m[i].name, archive_error_string(a));
        if (m[i].data)
            cr_assert_eq(archive_write_data(a, m[i].data, mlen(&m[i])), (la_ssize_t)mlen(&m[i]));
        archive_entry_free(e);
    }
    cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

static void mkdirs(const char *path)
{
    char p[512];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0755);
            *s = '/';
        }
}

static void write_file(const char *path, const void *data, size_t len)
{
    mkdirs(path);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* The members as files under dir, hidden ones too; links are left out
 * (a directory walk follows them, an archive does not read them). */
static void write_tree(const char *dir, const member_t *m, size_t n)
{
    char p[512];
    for (size_t i = 0; i < n; i++) {
        const char *name = strncmp(m[i].name, "./", 2) == 0 ? m[i].name + 2 : m[i].name;
        snprintf(p, sizeof p, "%s/%s", dir, name);
        if (m[i].data) {
            write_file(p, m[i].data, mlen(&m[i]));
        } else if (m[i].link) {
            continue;
        } else {
            mkdirs(p);
            mkdir(p, 0755);
        }
    }
}

static void *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    void *b = malloc(*len + 1);
    cr_assert_eq(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

/* ------------------------------------------------------------------------ */
/* Scanning                                                                 */

typedef struct scan_out {
    char *json; /* the report without its run line */
    uint64_t documents;
    size_t nskipped;
    char skipped[4096]; /* every skip note, one per line */
    char docs[4096];    /* every document path, one per line, sorted */
    char warnings[4096]; /* every warning, "path: message", one per line */
} scan_out_t;

static void scan(const char *const *paths, size_t n, uint64_t max_doc, scan_out_t *out)
{
    rs_scan_opts_t o = {.paths = paths, .npaths = n, .max_doc_bytes = max_doc, .jobs = 2, .shard_bytes = 4096};
    rs_scan_result_t r;
    rs_error_t err = {0};
    cr_assert_eq(rs_scan_run(&o, &r, &err), RS_OK, "%s", err.msg);
    rs_report_view_t v;
    cr_assert_eq(rs_report_view_build(&v, &r.stats, &r.topics, &r.entities, 50), RS_OK);
    size_t len = 0;
    FILE *f = open_memstream(&out->json, &len);
    cr_assert_eq(rs_report_json(f, &v, &r.run), RS_OK);
    fclose(f);
    char *run = strstr(out->json, "\n  \"run\": ");
    cr_assert_not_null(run);
    run[1] = '\0';
    out->documents = r.stats.documents;
    out->nskipped = r.stats.skipped.n;
    out->skipped[0] = out->docs[0] = out->warnings[0] = '\0';
    for (size_t i = 0; i < r.stats.skipped.n; i++) {
        strncat(out->skipped, r.stats.skipped.v[v.skipped[i]].message, sizeof out->skipped - strlen(out->skipped) - 2);
        strcat(out->skipped, "\n");
    }
    for (size_t i = 0; i < r.stats.warnings.n; i++) {
        const rs_note_t *w = &r.stats.warnings.v[v.warnings[i]];
        const size_t at = strlen(out->warnings);
        snprintf(out->warnings + at, sizeof out->warnings - at, "%s: %s\n", w->path, w->message);
    }
    for (size_t i = 0; i < r.stats.ndocs; i++) {
        strncat(out->docs, r.stats.docs[v.docs[i]].path, sizeof out->docs - strlen(out->docs) - 2);
        strcat(out->docs, "\n");
    }
    rs_report_view_free(&v);
    rs_scan_result_free(&r);
}

static void scan1(const char *path, uint64_t max_doc, scan_out_t *out)
{
    const char *paths[] = {path};
    scan(paths, 1, max_doc, out);
}

/* s with every "from" replaced by "to" (new string). */
static char *replace_all(const char *s, const char *from, const char *to)
{
    const size_t lf = strlen(from), lt = strlen(to);
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, from)) != NULL; p += lf)
        n++;
    char *out = malloc(strlen(s) + n * (lt > lf ? lt - lf : 0) + 1), *o = out;
    for (const char *p = s;;) {
        const char *q = strstr(p, from);
        if (!q) {
            strcpy(o, p);
            break;
        }
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, lt);
        o += lt;
        p = q + lf;
    }
    return out;
}

/* ------------------------------------------------------------------------ */
/* Standard input                                                           */

typedef struct feeder {
    int fd;
    void *data;
    size_t len;
} feeder_t;

static void *feed(void *arg)
{
    feeder_t *f = arg;
    size_t off = 0;
    while (off < f->len) {
        const ssize_t w = write(f->fd, (char *)f->data + off, f->len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(f->fd);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Fixture members                                                          */

static const char MD_A[] = "---\ntitle: Episode one\n---\n**Ann Lee:** Welcome to the show about compilers.\n"
                           "**Bo Chen:** Thanks, Ann. Compilers are everywhere?\n";
static const char TXT_B[] = "Ann Lee: Une deuxième émission, très courte.\nBo Chen: Oui.\n";
static const char SRT_C[] = "1\n00:00:01,000 --> 00:00:03,000\nAnn Lee: Subtitles count too.\n";

static const member_t MEMBERS[] = {
    {"docs/", NULL, 0, NULL},
    {"docs/a.md", MD_A, 0, NULL},
    {"./docs/b.txt", TXT_B, 0, NULL},
    {"docs/sub/c.srt", SRT_C, 0, NULL},
    {"docs/.hidden.md", "Hidden: never read\n", 0, NULL},
    {"docs/.git/config.md", "Hidden: never read either\n", 0, NULL},
    {"docs/picture.png", "\x89PNG not text", 0, NULL},
    {"docs/link.md", NULL, 0, "a.md"},
};
#define NMEMBERS (sizeof MEMBERS / sizeof MEMBERS[0])

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */

Test(archive, names_and_magic)
{
    size_t inner = 0;
    cr_expect_eq(rs_archive_name_kind("x.tar", NULL), RS_ARCHIVE_MULTI);
    cr_expect_eq(rs_archive_name_kind("x.TAR.GZ", NULL), RS_ARCHIVE_MULTI);
    cr_expect_eq(rs_archive_name_kind("x.tgz", NULL), RS_ARCHIVE_MULTI);
    cr_expect_eq(rs_archive_name_kind("x.tar.zst", NULL), RS_ARCHIVE_MULTI);
    cr_expect_eq(rs_archive_name_kind("x.zip", NULL), RS_ARCHIVE_MULTI);
    cr_expect_eq(rs_archive_name_kind("notes.md.gz", &inner), RS_ARCHIVE_SINGLE);
    cr_expect_eq(inner, 8);
    cr_expect_eq(rs_archive_name_kind(".gz", NULL), RS_ARCHIVE_NONE);
    cr_expect_eq(rs_archive_name_kind("notes.md", NULL), RS_ARCHIVE_NONE);
    cr_expect(rs_archive_sniff((const uint8_t *)"\x1f\x8b\x08", 3));
    cr_expect(rs_archive_sniff((const uint8_t *)"\x28\xb5\x2f\xfd", 4));
    cr_expect(rs_archive_sniff((const uint8_t *)"PK\x03\x04", 4));
    cr_expect(!rs_archive_sniff((const uint8_t *)"PK", 2));
    cr_expect(!rs_archive_sniff((const uint8_t *)"BZh plain text", 14));
    cr_expect(!rs_archive_sniff((const uint8_t *)"Alice: hello", 12));
    uint8_t tar[512] = {0};
    memcpy(tar + 257, "ustar", 5);
    cr_expect(rs_archive_sniff(tar, sizeof tar));
}

/* Every archive kind reads as the same files in a directory. */
Test(archive, every_kind_equals_the_directory)
{
    char ref[256], refpfx[300];
    snprintf(ref, sizeof ref, "%s/ref", tmpdir);
    write_tree(ref, MEMBERS, NMEMBERS);
    scan_out_t want;
    scan1(ref, 0, &want);
    cr_assert_eq(want.documents, 3, "%s", want.docs);
    cr_assert_eq(want.nskipped, 0, "%s", want.skipped);
    snprintf(refpfx, sizeof refpfx, "%s/", ref);
    static const char *const kinds[][2] = {{"tar", "a.tar"},         {"tar.gz", "a.tar.gz"}, {"tar.gz", "a.tgz"},
                                           {"tar.zst", "a.tar.zst"}, {"tar.xz", "a.tar.xz"}, {"tar.bz2", "a.tar.bz2"},
                                           {"zip", "a.zip"}};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        char path[300], pfx[320];
        snprintf(path, sizeof path, "%s/%s", tmpdir, kinds[k][1]);
        write_archive(path, kinds[k][0], MEMBERS, NMEMBERS);
        scan_out_t got;
        scan1(path, 0, &got);
        snprintf(pfx, sizeof pfx, "%s:", path);
        char wantdocs[1024];
        snprintf(wantdocs, sizeof wantdocs, "%sdocs/a.md\n%sdocs/b.txt\n%sdocs/sub/c.srt\n", pfx, pfx, pfx);
        cr_expect_str_eq(got.docs, wantdocs, "%s", kinds[k][1]);
        cr_expect_eq(got.nskipped, 0, "%s: %s", kinds[k][1], got.skipped);
        char *norm = replace_all(got.json, pfx, refpfx);
        cr_expect_str_eq(norm, want.json, "%s differs from the directory", kinds[k][1]);
        free(norm);
        free(got.json);
    }
    free(want.json);
}

Test(archive, single_compressed_files)
{
    char plain[256];
    snprintf(plain, sizeof plain, "%s/notes.md", tmpdir);
    write_file(plain, MD_A, strlen(MD_A));
    scan_out_t want;
    scan1(plain, 0, &want);
    const member_t one[] = {{"notes.md", MD_A, 0, NULL}};
    static const char *const kinds[] = {"gz", "zst", "xz"};
    for (size_t k = 0; k < 3; k++) {
        char path[300];
        snprintf(path, sizeof path, "%s/notes.md.%s", tmpdir, kinds[k]);
        write_archive(path, kinds[k], one, 1);
        scan_out_t got;
        scan1(path, 0, &got);
        cr_expect_eq(got.documents, 1, "%s", kinds[k]);
        char wantdocs[320];
        snprintf(wantdocs, sizeof wantdocs, "%s\n", path);
        cr_expect_str_eq(got.docs, wantdocs);
        char *norm = replace_all(got.json, path, plain);
        cr_expect_str_eq(norm, want.json, "%s", kinds[k]);
        free(norm);
        free(got.json);
    }
    free(want.json);
}

Test(archive, archives_inside_a_directory)
{
    char d[256], p[320];
    snprintf(d, sizeof d, "%s/walk", tmpdir);
    const member_t one[] = {{"x.md", TXT_B, 0, NULL}};
    snprintf(p, sizeof p, "%s/n.md.gz", d);
    mkdirs(p);
    write_archive(p, "gz", one, 1); /* taken: n.md is listed */
    snprintf(p, sizeof p, "%s/pic.png.gz", d);
    write_archive(p, "gz", one, 1); /* left: png is not */
    snprintf(p, sizeof p, "%s/more.tar.zst", d);
    write_archive(p, "tar.zst", MEMBERS, NMEMBERS); /* opened, 3 members */
    scan_out_t got;
    scan1(d, 0, &got);
    cr_expect_eq(got.documents, 4, "%s", got.docs);
    cr_expect(strstr(got.docs, "/walk/n.md.gz\n") && strstr(got.docs, "more.tar.zst:docs/sub/c.srt\n"), "%s",
              got.docs);
    cr_expect(!strstr(got.docs, "pic"));
    free(got.json);
}

/* ------------------------------------------------------------------------ */
/* Damage                                                                   */

/* Three members: a short one first, then two of about 200 KB of made-up
 * words that compress poorly (so that zstd and xz blocks are many and
 * damage at 60% of the archive lands after the first member). */
static member_t big_members[3];
static char *big_text[2];

static void make_big(void)
{
    for (int k = 0; k < 2; k++) {
        const size_t n = 200000;
        big_text[k] = malloc(n + 1);
        uint32_t x = 12345u + (uint32_t)k;
        size_t i = 0;
        i += (size_t)sprintf(big_text[k], "Ann Lee: ");
        while (i + 16 < n) {
            x = x * 1103515245u + 12345u;
            const int wl = 2 + (int)((x >> 16) % 9);
            for (int c = 0; c < wl; c++) {
                x = x * 1103515245u + 12345u;
                big_text[k][i++] = (char)('a' + (x >> 16) % 26);
            }
            i += (size_t)sprintf(big_text[k] + i, "%s", (x >> 8) % 13 == 0 ? ".\nBo Chen: " : " ");
        }
        big_text[k][i] = '\0';
    }
    big_members[0] = (member_t){"first.md", MD_A, 0, NULL};
    big_members[1] = (member_t){"second.md", big_text[0], 0, NULL};
    big_members[2] = (member_t){"third.md", big_text[1], 0, NULL};
}

static void free_big(void)
{
    free(big_text[0]);
    free(big_text[1]);
}

static void expect_damage_note(const scan_out_t *got, const char *archive, const char *what)
{
    cr_expect_geq(got->nskipped, 1, "%s: no skip note", what);
    cr_expect(strstr(got->skipped, archive) != NULL, "%s: note does not name the archive: %s", what, got->skipped);
    cr_expect(strstr(got->skipped, "at byte") != NULL, "%s: note has no location: %s", what, got->skipped);
}

static void damage(const char *src, const char *dst, double at, int flip, size_t cut_to)
{
    size_t len;
    uint8_t *b = slurp(src, &len);
    if (flip)
        for (size_t i = 0; i < 64; i++)
            b[(size_t)(at * (double)len) + i] ^= 0x5a;
    write_file(dst, b, cut_to ? cut_to : len);
    free(b);
}

Test(archive, corrupt_and_truncated)
{
    make_big();
    char good[300], bad[300];
    /* corrupt: 64 bytes flipped at that point; cut: the file ends there.
     * A flip inside deflate data often inflates into other bytes without
     * an error: only gzip's CRC-32 at the end sees it, and then the note
     * says the members may hold damaged text. libarchive writes zstd
     * frames without a checksum, so zstd damage is tested by cutting, and
     * by flipping a frame with a checksum (written by the zstd command).
     * bzip2 decodes blocks of up to 900 KB whole: a cut inside the first
     * block loses the members in it (here, all of them). */
    static const struct {
        const char *kind, *name;
        int flip;
        double at;
    } cases[] = {
        {"tar.gz", "corrupt.tar.gz", 1, 0.6}, {"tar.gz", "cut.tar.gz", 0, 0.6},  {"tar", "cut.tar", 0, 0.7},
        {"tar.zst", "cut.tar.zst", 0, 0.7},   {"tar.xz", "cut.tar.xz", 0, 0.7},  {"tar.xz", "corrupt.tar.xz", 1, 0.6},
        {"tar.bz2", "cut.tar.bz2", 0, 0.7}, /* first member lost with its block */   {"zip", "cut.zip", 0, 0.7},        {"zip", "corrupt.zip", 1, 0.5},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        snprintf(good, sizeof good, "%s/good_%zu.%s", tmpdir, c, cases[c].kind);
        snprintf(bad, sizeof bad, "%s/%s", tmpdir, cases[c].name);
        write_archive(good, cases[c].kind, big_members, 3);
        size_t len;
        free(slurp(good, &len));
        damage(good, bad, cases[c].at, cases[c].flip, cases[c].flip ? 0 : (size_t)(cases[c].at * (double)len));
        scan_out_t got;
        scan1(bad, 0, &got);
        char first[340];
        snprintf(first, sizeof first, "%s:first.md\n", bad);
        if (!strstr(cases[c].kind, "bz2"))
            cr_expect(strncmp(got.docs, first, strlen(first)) == 0, "%s: the member before the damage is lost: %s",
                      cases[c].name, got.docs);
        cr_expect(got.documents < 3 || strstr(got.skipped, "may hold damaged text"), "%s: damage not seen: %s",
                  cases[c].name, got.skipped);
        /* what is lost is said: past damage in a compressed stream, a cut, or
         * a zip member whose data cannot be passed over, nothing more can be
         * read; a zip entered again past its damaged member says so */
        const int reentered = strstr(got.skipped, "reading goes on with the member after it") != NULL;
        if (got.documents < 3 && !strstr(cases[c].kind, "bz2"))
            cr_expect(reentered ? strcmp(cases[c].kind, "zip") == 0
                                : strstr(got.skipped, "the rest of the archive could not be read") != NULL,
                      "%s: the note does not say what was lost: %s", cases[c].name, got.skipped);
        expect_damage_note(&got, cases[c].name, cases[c].name);
        free(got.json);
    }
    /* zstd with a checksum, from the zstd command */
    snprintf(good, sizeof good, "%s/plain.tar", tmpdir);
    write_archive(good, "tar", big_members, 3);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "zstd -q -f --check '%s' -o '%s.zst' 2>/dev/null", good, good);
    if (system(cmd) != 0) {
        fprintf(stderr, "test_archive: the zstd command is missing: zstd checksum case not run\n");
    } else {
        snprintf(good, sizeof good, "%s/plain.tar.zst", tmpdir);
        snprintf(bad, sizeof bad, "%s/corrupt.tar.zst", tmpdir);
        damage(good, bad, 0.6, 1, 0);
        scan_out_t got;
        scan1(bad, 0, &got);
        expect_damage_note(&got, "corrupt.tar.zst", "corrupt.tar.zst");
        free(got.json);
    }
    free_big();
}

/* A tar whose member b.md's header has a bad checksum: libarchive skips
 * ahead to the next header that reads (ARCHIVE_RETRY); the note names the
 * archive, the byte where the bad header began and the member before it,
 * and c.md is still read. With a large b.md, resyncing takes hundreds of
 * retries (one per 512-byte block). Plain, gzip and zstd tar. */
Test(archive, damaged_header_resyncs)
{
    make_big();
    static const char C_MD[] = "Cy Ray: the third member, after the damage.\n";
    const member_t small[] = {{"a.md", MD_A, 0, NULL}, {"b.md", TXT_B, 0, NULL}, {"c.md", C_MD, 0, NULL}};
    const member_t large[] = {{"a.md", MD_A, 0, NULL}, {"b.md", big_text[0], 0, NULL}, {"c.md", C_MD, 0, NULL}};
    static const char *const kinds[] = {"tar", "tar.gz", "tar.zst"};
    for (int big = 0; big < 2; big++)
        for (size_t k = 0; k < 3; k++) {
            char src[300], path[300];
            snprintf(src, sizeof src, "%s/src%d.tar", tmpdir, big);
            write_archive(src, "tar", big ? large : small, 3);
            size_t len, off = 0;
            uint8_t *b = slurp(src, &len);
            for (size_t o = 512; o + 512 <= len && !off; o += 512)
                if (memcmp(b + o, "b.md", 5) == 0)
                    off = o;
            cr_assert_neq(off, 0, "no header for b.md");
            memcpy(b + off + 148, "1234567", 8); /* its checksum, now wrong */
            snprintf(path, sizeof path, "%s/hdr%d.%s", tmpdir, big, kinds[k]);
            if (k == 0) {
                write_file(path, b, len);
            } else {
                const member_t whole = {"x", (const char *)b, len, NULL};
                write_archive(path, strcmp(kinds[k], "tar.gz") == 0 ? "gz" : "zst", &whole, 1);
            }
            free(b);
            scan_out_t got;
            scan1(path, 0, &got);
            char want[700], at[64];
            snprintf(want, sizeof want, "%s:a.md\n%s:c.md\n", path, path);
            cr_expect_str_eq(got.docs, want, "%s (big %d): %s", kinds[k], big, got.skipped);
            cr_expect_eq(got.nskipped, 1, "%s (big %d): %s", kinds[k], big, got.skipped);
            snprintf(at, sizeof at, "at byte %zu ", off);
            cr_expect(strncmp(got.skipped, path, strlen(path)) == 0 && strstr(got.skipped, "damaged member header")
                          && strstr(got.skipped, at) && strstr(got.skipped, "after the member a.md")
                          && strstr(got.skipped, "lost"),
                      "%s (big %d): the note does not say what and where (%s): %s", kinds[k], big, at, got.skipped);
            free(got.json);
        }
    free_big();
}

/* A header that libarchive reads with a warning (ARCHIVE_WARN: here a pax
 * record whose length is wrong) is read, and its document carries the
 * warning, naming the offset (corpus.warnings). */
Test(archive, header_warning_is_kept_with_the_document)
{
    char src[300], path[300];
    snprintf(src, sizeof src, "%s/pax.tar", tmpdir);
    struct archive *a = archive_write_new();
    cr_assert_eq(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
    cr_assert_eq(archive_write_open_filename(a, src), ARCHIVE_OK);
    const member_t m[] = {{"a.md", MD_A, 0, NULL}, {"b.md", TXT_B, 0, NULL}, {"c.md", SRT_C, 0, NULL}};
    for (int i = 0; i < 3; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, m[i].name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_mtime(e, 1700000000, 0);
        archive_entry_set_size(e, (la_int64_t)mlen(&m[i]));
        if (i == 1)
            archive_entry_set_uid(e, 3000000); /* too large for ustar: a pax record */
        cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK);
        cr_assert_eq(archive_write_data(a, m[i].data, mlen(&m[i])), (la_ssize_t)mlen(&m[i]));
        archive_entry_free(e);
    }
    cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    size_t len;
    uint8_t *b = slurp(src, &len);
    uint8_t *rec = NULL;
    for (size_t i = 2; i + 13 <= len && !rec; i++)
        if (memcmp(b + i, " uid=3000000\n", 13) == 0)
            rec = b + i;
    cr_assert_not_null(rec, "no pax record written");
    memcpy(rec - 2, "99", 2); /* its length, now past the header's end */
    snprintf(path, sizeof path, "%s/warn.tar", tmpdir);
    write_file(path, b, len);
    free(b);
    scan_out_t got;
    scan1(path, 0, &got);
    cr_expect_eq(got.documents, 3, "%s", got.docs);
    cr_expect_eq(got.nskipped, 0, "%s", got.skipped);
    char want[400];
    snprintf(want, sizeof want, "%s:b.md: libarchive warns about this member's header at byte 1024 ", path);
    cr_expect(strncmp(got.warnings, want, strlen(want)) == 0
                  && strchr(got.warnings, '\n') == got.warnings + strlen(got.warnings) - 1,
              "want one warning starting '%s', got: %s", want, got.warnings);
    free(got.json);
}

/* The deflate data of a zip member made invalid (a block of the reserved
 * type): libarchive fails that member (ARCHIVE_FATAL). */
static void break_zip_member(uint8_t *b, size_t len, const char *name)
{
    const size_t nl = strlen(name);
    for (size_t h = 0; h + 30 + nl <= len; h++)
        if (memcmp(b + h, "PK\x03\x04", 4) == 0 && b[h + 26] + 256u * b[h + 27] == nl
            && memcmp(b + h + 30, name, nl) == 0) {
            const size_t data = h + 30 + nl + b[h + 28] + 256u * b[h + 29];
            cr_assert_lt(data, len);
            b[data] = 0x07; /* BFINAL, BTYPE 3 */
            return;
        }
    cr_assert_fail("no local header for %s", name);
}

/* A zip with a damaged member in the middle (then two in a row): the members
 * after it are read through the central directory, each once, and the
 * damaged ones are reported by name. From a pipe (no central directory to
 * go by) the rest cannot be read, and the note says so. */
Test(archive, zip_damaged_member_skips_only_it)
{
    make_big();
    const member_t m[] = {{"first.md", MD_A, 0, NULL},
                          {"second.md", big_text[0], 0, NULL},
                          {"third.md", big_text[1], 0, NULL},
                          {"fourth.md", TXT_B, 0, NULL}};
    char src[300], path[300];
    snprintf(src, sizeof src, "%s/src.zip", tmpdir);
    for (int two = 0; two < 2; two++) {
        write_archive(src, "zip", m, 4);
        size_t len;
        uint8_t *b = slurp(src, &len);
        break_zip_member(b, len, "second.md");
        if (two)
            break_zip_member(b, len, "third.md");
        snprintf(path, sizeof path, "%s/mid%d.zip", tmpdir, two);
        write_file(path, b, len);
        scan_out_t got;
        scan1(path, 0, &got);
        char want[1400];
        if (two)
            snprintf(want, sizeof want, "%s:first.md\n%s:fourth.md\n", path, path);
        else
            snprintf(want, sizeof want, "%s:first.md\n%s:fourth.md\n%s:third.md\n", path, path, path);
        cr_expect_str_eq(got.docs, want, "two damaged %d: %s", two, got.skipped);
        cr_expect_eq(got.documents, two ? 2 : 3);
        cr_expect_eq(got.nskipped, two ? 2 : 1, "%s", got.skipped);
        snprintf(want, sizeof want, "%s:second.md: damaged or truncated member data", path);
        cr_expect(strncmp(got.skipped, want, strlen(want)) == 0 && strstr(got.skipped, "at byte")
                      && strstr(got.skipped, "reading goes on with the member after it"),
                  "%s", got.skipped);
        snprintf(want, sizeof want, "\n%s:third.md: damaged or truncated member data", path);
        cr_expect(!two || strstr(got.skipped, want), "%s", got.skipped);
        free(got.json);
        if (two) {
            free(b);
            break;
        }
        /* on standard input, a file: the same, named "-:" */
        const int fd = open(path, O_RDONLY);
        cr_assert_geq(fd, 0);
        cr_assert_eq(dup2(fd, 0), 0);
        close(fd);
        scan1("-", 0, &got);
        cr_expect_str_eq(got.docs, "-:first.md\n-:fourth.md\n-:third.md\n", "%s", got.skipped);
        cr_expect(strncmp(got.skipped, "-:second.md: ", 13) == 0, "%s", got.skipped);
        free(got.json);
        /* from a pipe */
        int pfd[2];
        cr_assert_eq(pipe(pfd), 0);
        feeder_t fe = {.fd = pfd[1], .data = b, .len = len};
        pthread_t th;
        cr_assert_eq(dup2(pfd[0], 0), 0);
        close(pfd[0]);
        signal(SIGPIPE, SIG_IGN); /* the rest is not read: the feeder's writes fail */
        pthread_create(&th, NULL, feed, &fe);
        scan1("-", 0, &got);
        close(0);
        pthread_join(th, NULL);
        cr_expect_str_eq(got.docs, "-:first.md\n", "%s", got.skipped);
        cr_expect(strncmp(got.skipped, "-:second.md: ", 13) == 0
                      && strstr(got.skipped, "the rest of the archive could not be read"),
                  "%s", got.skipped);
        free(got.json);
        free(b);
    }
    free_big();
}

Test(archive, not_archives)
{
    char p[300];
    /* text named like an archive */
    snprintf(p, sizeof p, "%s/text.tar.gz", tmpdir);
    write_file(p, "Alice: not an archive at all\n", 29);
    scan_out_t got;
    scan1(p, 0, &got);
    cr_expect_eq(got.documents, 0);
    cr_expect(strstr(got.skipped, "text.tar.gz") && strstr(got.skipped, "not an archive"), "%s", got.skipped);
    free(got.json);
    /* garbage behind a gzip magic */
    snprintf(p, sizeof p, "%s/garbage.md", tmpdir);
    uint8_t g[4096];
    g[0] = 0x1f;
    g[1] = 0x8b;
    for (size_t i = 2; i < sizeof g; i++)
        g[i] = (uint8_t)(i * 7919u >> 3);
    write_file(p, g, sizeof g);
    scan1(p, 0, &got);
    cr_expect_eq(got.documents, 0);
    cr_expect_geq(got.nskipped, 1);
    cr_expect(strstr(got.skipped, "garbage.md"), "%s", got.skipped);
    free(got.json);
    /* an empty file named .tar.gz, and an empty (valid) tar.gz */
    snprintf(p, sizeof p, "%s/empty.tar.gz", tmpdir);
    write_file(p, "", 0);
    scan1(p, 0, &got);
    cr_expect_eq(got.documents, 0);
    free(got.json);
    snprintf(p, sizeof p, "%s/none.tar.gz", tmpdir);
    write_archive(p, "tar.gz", NULL, 0);
    scan1(p, 0, &got);
    cr_expect_eq(got.documents, 0);
    cr_expect_eq(got.nskipped, 0, "%s", got.skipped);
    free(got.json);
}

/* The report from its speakers on (after corpus, whose notes may differ). */
static const char *from_speakers(const scan_out_t *o)
{
    const char *at = strstr(o->json, "\n  \"speakers\": [");
    cr_assert_not_null(at);
    return at;
}

/* A document over --max-document-size is cut at its last line end within
 * the limit, with a warning, and counts as the cut bytes would: in every
 * archive kind (declared sizes), a single compressed file (inflating) and a
 * plain file, read in 4 KiB pieces (scan's shard size). */
Test(archive, size_limit_cuts_at_a_line_end)
{
    const size_t big = 3u << 20, limit = 1000010, kept = 1000000; /* the last '\n' within it ends byte 1000000 */
    char *fill = malloc(big);
    for (size_t i = 0; i < big; i++)
        fill[i] = (i % 64 == 63) ? '\n' : "abcdefgh "[i % 9];
    cr_assert_eq(fill[kept - 1], '\n');
    const member_t m[] = {{"small.md", MD_A, 0, NULL}, {"bomb.md", fill, big, NULL}, {"after.md", TXT_B, 0, NULL}};
    const member_t r[] = {{"small.md", MD_A, 0, NULL}, {"bomb.md", fill, kept, NULL}, {"after.md", TXT_B, 0, NULL}};
    char p[300], q[300];
    static const char *const kinds[] = {"tar.gz", "zip", "tar.zst", "tar", "gz", "plain"};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        const int single = k >= 4; /* the bomb alone */
        const char *kind = kinds[k];
        if (strcmp(kind, "plain") == 0) {
            snprintf(p, sizeof p, "%s/cut/bomb.md", tmpdir);
            snprintf(q, sizeof q, "%s/ref/bomb.md", tmpdir);
            write_file(p, fill, big);
            write_file(q, fill, kept);
        } else {
            snprintf(p, sizeof p, "%s/cut/bomb%s%s", tmpdir, single ? ".md." : ".", kind);
            snprintf(q, sizeof q, "%s/ref/bomb%s%s", tmpdir, single ? ".md." : ".", kind);
            mkdirs(p);
            mkdirs(q);
            write_archive(p, kind, single ? &m[1] : m, single ? 1 : 3);
            write_archive(q, kind, single ? &r[1] : r, single ? 1 : 3);
        }
        scan_out_t got, want;
        scan1(p, limit, &got);
        scan1(q, 0, &want);
        cr_expect_eq(got.documents, single ? 1 : 3, "%s: %s", kind, got.docs);
        cr_expect_eq(got.nskipped, 0, "%s: %s", kind, got.skipped);
        cr_expect(strstr(got.warnings, "bomb.md") && strstr(got.warnings, "over the limit of 1000010 bytes") &&
                      strstr(got.warnings, "cut at 1000000 bytes"),
                  "%s: %s", kind, got.warnings);
        char *same = replace_all(from_speakers(&got), "/cut/", "/ref/");
        cr_expect_str_eq(same, from_speakers(&want), "%s: the cut document counts as its first %zu bytes", kind, kept);
        free(same);
        free(got.json);
        free(want.json);
        /* under the limit it is read whole, with no warning */
        scan1(p, 4u << 20, &got);
        cr_expect_eq(got.documents, single ? 1 : 3);
        cr_expect_str_eq(got.warnings, "", "%s", kind);
        free(got.json);
    }
    free(fill);
}

/* rs_ingest_cfg_t.consumed, the progress line's share of the input: the
 * stored (compressed) bytes read so far, as each member arrives. */
typedef struct consumed_seen {
    const uint64_t *consumed;
    uint64_t at[64];
    size_t n;
} consumed_seen_t;

static rs_err_e note_consumed(void *ctx, rs_doc_t *d)
{
    consumed_seen_t *c = ctx;
    if (!d->more && c->n < 64)
        c->at[c->n++] = *c->consumed;
    rs_doc_free(d);
    return RS_OK;
}

static rs_err_e no_skip(void *ctx, const char *path, const char *why)
{
    (void)ctx;
    cr_expect_fail("%s skipped: %s", path, why);
    return RS_OK;
}

Test(archive, input_read_as_stored)
{
    enum { NM = 24, MB = 256 << 10 };
    static char text[NM][MB];
    uint64_t x = 12345;
    member_t m[NM];
    static char names[NM][16];
    for (size_t i = 0; i < NM; i++) {
        for (size_t k = 0; k < MB; k++) { /* letters at random, little to compress */
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            text[i][k] = k % 60 == 59 ? '\n' : (char)('a' + (x >> 33) % 26);
        }
        snprintf(names[i], sizeof names[i], "m%02zu.txt", i);
        m[i] = (member_t){names[i], text[i], MB, NULL};
    }
    static const char *const kinds[] = {"tar.gz", "tar.zst", "zip", "tar"};
    for (size_t k = 0; k < 4; k++) {
        char p[300];
        snprintf(p, sizeof p, "%s/sized.%s", tmpdir, kinds[k]);
        write_archive(p, kinds[k], m, NM);
        struct stat st;
        cr_assert_eq(stat(p, &st), 0);
        uint64_t consumed = 1000; /* what the files before it took */
        consumed_seen_t seen = {.consumed = &consumed};
        const rs_ingest_cfg_t cfg = {.exts = "txt", .on_doc = note_consumed, .on_skip = no_skip, .ctx = &seen,
                                     .consumed = &consumed};
        const char *paths[] = {p};
        cr_assert_eq(rs_ingest_paths(&cfg, paths, 1), RS_OK);
        cr_assert_eq(seen.n, NM, "%s", kinds[k]);
        size_t distinct = 1;
        for (size_t i = 0; i < seen.n; i++) {
            cr_expect(seen.at[i] >= 1000 && seen.at[i] <= 1000 + (uint64_t)st.st_size, "%s: member %zu at %llu of %lld",
                      kinds[k], i, (unsigned long long)seen.at[i], (long long)st.st_size);
            cr_expect(i == 0 || seen.at[i] >= seen.at[i - 1], "%s: went back at member %zu", kinds[k], i);
            distinct += i > 0 && seen.at[i] != seen.at[i - 1];
        }
        cr_expect_lt(seen.at[0], 1000 + (uint64_t)st.st_size / 2, "%s: the first member came after half", kinds[k]);
        cr_expect_geq(distinct, 3, "%s: the count moved %zu times over %lld bytes", kinds[k], distinct,
                      (long long)st.st_size);
        cr_expect_eq(consumed, 1000 + (uint64_t)st.st_size, "%s: at the end", kinds[k]);
    }
}

Test(archive, stdin_file_and_pipe)
{
    static const char *const kinds[] = {"tar.gz", "tar.zst", "zip", "tar"};
    for (size_t k = 0; k < 4; k++) {
        char p[300];
        snprintf(p, sizeof p, "%s/in.%s", tmpdir, kinds[k]);
        write_archive(p, kinds[k], MEMBERS, NMEMBERS);
        /* a file on stdin (seekable) */
        const int fd = open(p, O_RDONLY);
        cr_assert_geq(fd, 0);
        cr_assert_eq(dup2(fd, 0), 0);
        close(fd);
        scan_out_t got;
        scan1("-", 0, &got);
        cr_expect_str_eq(got.docs, "-:docs/a.md\n-:docs/b.txt\n-:docs/sub/c.srt\n", "%s from a file", kinds[k]);
        free(got.json);
        /* a pipe (not seekable) */
        int pfd[2];
        cr_assert_eq(pipe(pfd), 0);
        feeder_t fe = {.fd = pfd[1]};
        fe.data = slurp(p, &fe.len);
        pthread_t th;
        cr_assert_eq(dup2(pfd[0], 0), 0);
        close(pfd[0]);
        pthread_create(&th, NULL, feed, &fe);
        scan1("-", 0, &got);
        pthread_join(th, NULL);
        /* a zip read as a stream has no central directory, where the type
         * of its entries is: its symlink reads as a small file */
        cr_expect_str_eq(got.docs,
                         strcmp(kinds[k], "zip") == 0 ? "-:docs/a.md\n-:docs/b.txt\n-:docs/link.md\n-:docs/sub/c.srt\n"
                                                      : "-:docs/a.md\n-:docs/b.txt\n-:docs/sub/c.srt\n",
                         "%s from a pipe: %s", kinds[k], got.skipped);
        free(got.json);
        free(fe.data);
    }
}
