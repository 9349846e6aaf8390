/*
 * test_filter.c - Criterion tests for the walk's input-file filter
 * (rs_scan_opts_t.filter, ingest.h), which the MPI mode (cluster.c) uses to
 * list the inputs and to take each rank's share.
 *
 * A tree is written in a temporary directory: text files at two depths, a
 * hidden file, a file with an extension not taken, a compressed file
 * (notes.md.gz, one input file however many documents it holds), a binary
 * file and a broken symlink; the scan is also given a file by name and a
 * missing path. Checked: the filter is asked about exactly the input files,
 * once each, in walk order, with their sizes from stat; a file it leaves is
 * neither read (no document) nor noted (no skip); a file it takes is read as
 * without a filter (the binary one is skipped with a note); paths the walk
 * cannot list (missing, broken symlink) give their notes whatever the filter
 * says; with a filter that takes everything the result is the unfiltered
 * scan's. Scans run with one worker on the calling thread's pool.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "rostrum.h" /* rs_scan_run, rs_scan_opts_t */

static char tmpdir[64];

static void make_tmp(void)
{
    strcpy(tmpdir, "/tmp/rs_test_filter_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void drop_tmp(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "test_filter: could not remove %s\n", tmpdir);
}

TestSuite(filter, .init = make_tmp, .fini = drop_tmp);

static void put(const char *rel, const char *data, size_t len)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f, "%s", p);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void put_str(const char *rel, const char *s)
{
    put(rel, s, strlen(s));
}

static void make_tree(void)
{
    char p[256];
    snprintf(p, sizeof p, "%s/d", tmpdir);
    cr_assert_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/d/sub", tmpdir);
    cr_assert_eq(mkdir(p, 0755), 0);
    put_str("d/a.txt", "Ann Lee: the tram is late again.\n");
    put_str("d/b.md", "# Notes\n\nBo Chen: housing first, then the budget.\n");
    put_str("d/sub/c.txt", "Cy Diaz: agreed.\n");
    put_str("d/.hidden.txt", "never listed\n");
    put_str("d/skip.dat", "not a listed extension\n");
    put("d/zz-binary.txt", "PNG\0\1\2 binary", 14);
    put_str("top.txt", "Di Eng: a file named on the command line.\n");
    snprintf(p, sizeof p, "%s/d/notes.md.gz", tmpdir);
    gzFile gz = gzopen(p, "wb");
    cr_assert_not_null(gz);
    const char *inner = "Ed Fox: a compressed transcript, one input file.\n";
    cr_assert_eq(gzwrite(gz, inner, (unsigned)strlen(inner)), (int)strlen(inner));
    cr_assert_eq(gzclose(gz), Z_OK);
    snprintf(p, sizeof p, "%s/d/broken.txt", tmpdir);
    cr_assert_eq(symlink("nowhere", p), 0);
}

#define MAX_SEEN 32

typedef struct seen {
    char path[MAX_SEEN][256];
    uint64_t size[MAX_SEEN];
    size_t n;
    const char *take; /* take files whose path contains one of these '|'-separated words; NULL: none; "*": all */
} seen_t;

static int takes(const char *list, const char *path)
{
    if (!list)
        return 0;
    if (strcmp(list, "*") == 0)
        return 1;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *w = strtok_r(buf, "|", &save); w; w = strtok_r(NULL, "|", &save))
        if (strstr(path, w))
            return 1;
    return 0;
}

static int record(void *ctx, const char *path, uint64_t size)
{
    seen_t *s = ctx;
    cr_assert_lt(s->n, MAX_SEEN);
    snprintf(s->path[s->n], sizeof s->path[0], "%s", path);
    s->size[s->n++] = size;
    return takes(s->take, path);
}

/* Scans "$tmp/d", "$tmp/top.txt" and "$tmp/missing.txt" with the filter (or none). */
static void scan(seen_t *s, rs_scan_result_t *res)
{
    char d[128], top[128], missing[128];
    snprintf(d, sizeof d, "%s/d", tmpdir);
    snprintf(top, sizeof top, "%s/top.txt", tmpdir);
    snprintf(missing, sizeof missing, "%s/missing.txt", tmpdir);
    const char *paths[] = {d, top, missing};
    rs_scan_opts_t o = {.paths = paths, .npaths = 3, .jobs = 1, .no_pin = 1};
    if (s) {
        o.filter = record;
        o.filter_ctx = s;
    }
    rs_error_t err = {0};
    cr_assert_eq(rs_scan_run(&o, res, &err), RS_OK, "%s", err.msg);
}

static int has_doc(const rs_scan_result_t *r, const char *suffix)
{
    const size_t k = strlen(suffix);
    for (size_t i = 0; i < r->stats.ndocs; i++) {
        const char *p = r->stats.docs[i].path;
        const size_t n = strlen(p);
        if (n >= k && strcmp(p + n - k, suffix) == 0)
            return 1;
    }
    return 0;
}

static int has_note(const rs_scan_result_t *r, const char *word)
{
    for (size_t i = 0; i < r->stats.skipped.n; i++)
        if (strstr(r->stats.skipped.v[i].message, word))
            return 1;
    return 0;
}

Test(filter, asked_about_each_input_file_once_in_walk_order)
{
    make_tree();
    seen_t s = {.take = NULL};
    rs_scan_result_t r;
    scan(&s, &r);
    static const char *const want[] = {"d/a.txt", "d/b.md", "d/notes.md.gz", "d/sub/c.txt", "d/zz-binary.txt",
                                       "top.txt"};
    const size_t nwant = sizeof want / sizeof want[0];
    cr_assert_eq(s.n, nwant, "the filter was asked about %zu files, expected %zu", s.n, nwant);
    for (size_t i = 0; i < nwant; i++) {
        char p[256];
        snprintf(p, sizeof p, "%s/%s", tmpdir, want[i]);
        cr_expect_str_eq(s.path[i], p, "file %zu", i);
        struct stat st;
        cr_assert_eq(stat(p, &st), 0);
        cr_expect_eq(s.size[i], (uint64_t)st.st_size, "%s: size %llu, stat says %lld", want[i],
                     (unsigned long long)s.size[i], (long long)st.st_size);
    }
    /* nothing taken: nothing read, and only the walk's own notes */
    cr_expect_eq(r.stats.documents, 0);
    cr_expect_eq(r.stats.bytes, 0);
    cr_expect_eq(r.stats.skipped.n, 2, "%zu notes", r.stats.skipped.n);
    cr_expect(has_note(&r, "broken symlink"));
    cr_expect(has_note(&r, "missing.txt"));
    cr_expect(!has_note(&r, "binary"), "a file the filter left was read");
    rs_scan_result_free(&r);
}

Test(filter, takes_only_what_it_says)
{
    make_tree();
    seen_t s = {.take = "b.md|notes.md.gz|zz-binary"};
    rs_scan_result_t r;
    scan(&s, &r);
    cr_expect_eq(s.n, 6);
    cr_expect_eq(r.stats.documents, 2, "%llu documents", (unsigned long long)r.stats.documents);
    cr_expect(has_doc(&r, "/d/b.md"));
    cr_expect(!has_doc(&r, "/d/a.txt"));
    cr_expect(!has_doc(&r, "/top.txt"));
    int in_gz = 0;
    for (size_t i = 0; i < r.stats.ndocs; i++)
        in_gz += strstr(r.stats.docs[i].path, "notes.md.gz") != NULL;
    cr_expect_eq(in_gz, 1, "the compressed file was not read whole as one input");
    cr_expect_eq(r.stats.skipped.n, 3, "%zu notes", r.stats.skipped.n);
    cr_expect(has_note(&r, "binary"), "the binary file taken was not skipped with a note");
    cr_expect(has_note(&r, "broken symlink"));
    cr_expect(has_note(&r, "missing.txt"));
    rs_scan_result_free(&r);
}

Test(filter, taking_everything_is_no_filter)
{
    make_tree();
    seen_t s = {.take = "*"};
    rs_scan_result_t with, without;
    scan(&s, &with);
    scan(NULL, &without);
    cr_expect_eq(with.stats.documents, without.stats.documents);
    cr_expect_eq(with.stats.documents, 5, "%llu documents", (unsigned long long)with.stats.documents);
    cr_expect_eq(with.stats.bytes, without.stats.bytes);
    cr_expect_eq(with.stats.tokens, without.stats.tokens);
    cr_expect_eq(with.stats.turns, without.stats.turns);
    cr_expect_eq(with.stats.skipped.n, without.stats.skipped.n);
    cr_expect_eq(with.stats.skipped.n, 3);
    rs_scan_result_free(&with);
    rs_scan_result_free(&without);
}
