/*
 * test_state.c - Criterion tests for host/state.c: a state survives a
 * round trip byte for byte; merging the states of groups of documents, in
 * several groupings and orders (and through trees of merges), gives the
 * JSON report of one scan of all of them (outside the "run" line); a state
 * cut at every byte offset, with any byte flipped, empty, with a wrong
 * magic or version, or with a well-formed checksum over a bad body is
 * refused with a message saying which; states of different lexicons or
 * tokenizers are refused, naming both.
 *
 * Documents and lexicons are written to a fresh temporary directory and
 * scanned with rs_scan_run (the public API), as the CLI does.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "hash.h"    /* rs_hash64, for re-sealing crafted states */
#include "report.h"  /* rs_report_view_build, rs_report_json */
#include "rostrum.h" /* rs_scan_run */
#include "state.h"   /* rs_state_* */

/* ------------------------------------------------------------------------ */
/* Fixtures                                                                 */

static char tmpdir[256];

static const char *const doc_names[] = {"a.md", "b.txt", "c.txt", "d.md", "e.txt", "f.txt", "g.bin.txt"};
#define NDOCS (sizeof doc_names / sizeof doc_names[0])

static const char *const doc_texts[] = {
    "---\ntitle: \"Episode one\"\ndate: 2024-01-02\ntags: [energy, policy]\n---\n\n"
    "**Ann Lee:** Welcome. Today: energy prices and the power grid. Is rent going up?\n\n"
    "**Bo Chen:** Rents are rising, and the grid connection queue is long.\n\n"
    "**Ann Lee:** What about wind farms? Ann Lee asks Acme Corp.\n",
    "Ann Lee: Housing, housing and more housing.\nCarl: Energy energy. Acme Corp said so.\n"
    "Ann Lee: Rental prices? Wind farm permits?\n",
    ">> good evening, the tram strike goes on\n>> transit is down; energy prices are up\n",
    "---\ntitle: [unclosed\n---\n**Bo Chen:** Front matter above is broken, the report warns.\n"
    "**Dee:** Grid connection, grid connections, energy.\n",
    "Plain prose with no speakers at all: energy, housing, a tram and the grid.\n",
    "Carl: Ünïcödé wörds — ЖИЛЬЁ аренда, 住宅 and Acme corp.\nAnn Lee: Rent? Rent!\n",
    "PNG\x01\x02\x03 binary", /* skipped: binary; written with its NUL below */
};

static const char topics_yml[] = "energy: [energy, electricity, grid connection*, wind farm*]\n"
                                 "housing:\n  - housing\n  - rent*\n  - жиль*\n  - аренд*\n"
                                 "transport: [tram*, transit]\n";
static const char topics2_yml[] = "energy: [energy]\nhousing: [housing]\n";
static const char entities_tsv[] = "Acme\tacme corp\nAnn Lee\tann lee\n";

static void write_file(const char *name, const void *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/rs_state_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    cr_assert_not_null(mkdtemp(tmpdir));
    for (size_t i = 0; i + 1 < NDOCS; i++)
        write_file(doc_names[i], doc_texts[i], strlen(doc_texts[i]));
    static const char bin[] = "PNG\0\x01\x02 binary";
    write_file(doc_names[NDOCS - 1], bin, sizeof bin - 1);
    write_file("topics.yml", topics_yml, strlen(topics_yml));
    write_file("topics2.yml", topics2_yml, strlen(topics2_yml));
    write_file("entities.tsv", entities_tsv, strlen(entities_tsv));
}

static void teardown(void)
{
    DIR *d = opendir(tmpdir);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[768];
        snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(tmpdir);
}

TestSuite(state, .init = setup, .fini = teardown);

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

static char *tmp_path(const char *name)
{
    static _Thread_local char buf[4][512];
    static _Thread_local int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

/* Scans the documents whose indices are listed (-1 ends), with the given
 * topics file (NULL: topics.yml) and entities.tsv. */
static void scan_docs(rs_scan_result_t *res, const int *idx, const char *topics)
{
    const char *paths[NDOCS];
    size_t n = 0;
    for (; idx[n] >= 0; n++)
        paths[n] = strdup(tmp_path(doc_names[idx[n]]));
    const char *tf[1] = {strdup(tmp_path(topics ? topics : "topics.yml"))};
    const char *ef[1] = {strdup(tmp_path("entities.tsv"))};
    const rs_scan_opts_t o = {.paths = paths,
                              .npaths = n,
                              .topic_files = tf,
                              .ntopic_files = 1,
                              .entity_files = ef,
                              .nentity_files = 1,
                              .backend = "scalar"};
    rs_error_t err = {0};
    const rs_err_e e = rs_scan_run(&o, res, &err);
    cr_assert_eq(e, RS_OK, "scan: %s", err.msg);
    for (size_t i = 0; i < n; i++)
        free((char *)paths[i]);
    free((char *)tf[0]);
    free((char *)ef[0]);
}

/* The JSON report without its "run" line; caller frees. */
static char *report_json(const rs_stats_t *st, const rs_lexicon_t *topics, const rs_lexicon_t *entities)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    rs_report_view_t v;
    cr_assert_eq(rs_report_view_build(&v, st, topics, entities, 1000), RS_OK);
    const rs_run_info_t run = {.backend = "test", .threads = 1, .seconds = 0.5, .version = "x"};
    cr_assert_eq(rs_report_json(f, &v, &run), RS_OK);
    rs_report_view_free(&v);
    cr_assert_eq(fclose(f), 0);
    char *run_line = strstr(buf, "\n  \"run\"");
    cr_assert_not_null(run_line);
    char *eol = strchr(run_line + 1, '\n');
    cr_assert_not_null(eol);
    memmove(run_line + 1, eol + 1, strlen(eol + 1) + 1);
    return buf;
}

static void encode(const rs_stats_t *st, const rs_lexicon_t *t, const rs_lexicon_t *e, uint8_t **buf, size_t *len)
{
    rs_error_t err = {0};
    cr_assert_eq(rs_state_encode(st, t, e, buf, len, &err), RS_OK, "encode: %s", err.msg);
}

/* The state of one scan of the listed documents. */
static void state_of(rs_state_t *s, const int *idx, const char *topics)
{
    rs_scan_result_t res;
    scan_docs(&res, idx, topics);
    uint8_t *buf;
    size_t len;
    encode(&res.stats, &res.topics, &res.entities, &buf, &len);
    rs_scan_result_free(&res);
    rs_error_t err = {0};
    cr_assert_eq(rs_state_decode(s, buf, len, "mem", &err), RS_OK, "decode: %s", err.msg);
    free(buf);
}

static const int all_docs[] = {0, 1, 2, 3, 4, 5, 6, -1};

static char *single_scan_json(void)
{
    rs_scan_result_t res;
    scan_docs(&res, all_docs, NULL);
    char *j = report_json(&res.stats, &res.topics, &res.entities);
    rs_scan_result_free(&res);
    return j;
}

/* A small valid state in memory (two documents). */
static void small_state(uint8_t **buf, size_t *len)
{
    static const int two[] = {0, 1, -1};
    rs_scan_result_t res;
    scan_docs(&res, two, NULL);
    encode(&res.stats, &res.topics, &res.entities, buf, len);
    rs_scan_result_free(&res);
}

static void expect_refused(const uint8_t *buf, size_t len, const char *want, const char *ctx, size_t at)
{
    rs_state_t s;
    rs_error_t err = {0};
    const rs_err_e e = rs_state_decode(&s, buf, len, "cut.state", &err);
    cr_assert_eq(e, RS_ERR_STATE, "%s %zu: accepted (code %d)", ctx, at, e);
    cr_assert(strncmp(err.msg, "cut.state: ", 11) == 0, "%s %zu: message does not name the file: %s", ctx, at,
              err.msg);
    cr_assert(strstr(err.msg, want) != NULL, "%s %zu: message lacks '%s': %s", ctx, at, want, err.msg);
    cr_assert_null(s.version);
    cr_assert_eq(s.stats.ndocs, 0);
}

/* The body checksum as docs/cluster.md defines it, written independently. */
static uint64_t doc_checksum(const uint8_t *p, size_t n)
{
    uint64_t h = 0x5253544154453031ULL;
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        h = rs_hash_rotl(h ^ (rs_hash_load_le(p + i, 8) * RS_HASH_P2), 31) * RS_HASH_P1;
    if (i < n)
        h = rs_hash_rotl(h ^ (rs_hash_load_le(p + i, n - i) * RS_HASH_P2), 31) * RS_HASH_P1;
    return rs_hash_fmix(h ^ ((uint64_t)n * RS_HASH_P1));
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Re-seals buf (body length, header checksum, body checksum). */
static void reseal(uint8_t *buf, size_t len)
{
    const size_t body = len - RS_STATE_HEADER_BYTES - RS_STATE_TRAILER_BYTES;
    put_le(buf + 16, body, 8);
    put_le(buf + 24, rs_hash64(buf, 24), 8);
    put_le(buf + len - 8, doc_checksum(buf + RS_STATE_HEADER_BYTES, body), 8);
}

/* ------------------------------------------------------------------------ */
/* Round trip                                                               */

Test(state, round_trip_is_byte_identical)
{
    rs_scan_result_t res;
    scan_docs(&res, all_docs, NULL);
    cr_assert_gt(res.stats.skipped.n, 0, "the binary fixture should be skipped");
    cr_assert_gt(res.stats.warnings.n, 0, "the broken front matter should warn");
    cr_assert_gt(res.stats.topics.by_speaker.n, 0);
    cr_assert_gt(res.stats.entities.by_speaker.n, 0);
    uint8_t *a;
    size_t alen;
    encode(&res.stats, &res.topics, &res.entities, &a, &alen);
    cr_assert_eq(memcmp(a, RS_STATE_MAGIC, RS_STATE_MAGIC_LEN), 0);

    rs_state_t s;
    rs_error_t err = {0};
    cr_assert_eq(rs_state_decode(&s, a, alen, "a", &err), RS_OK, "%s", err.msg);
    cr_expect_str_eq(s.version, RS_VERSION);
    cr_expect_str_eq(s.tokenizer, rs_state_tokenizer());
    cr_expect_eq(s.topics.digest, res.topics.digest);
    cr_expect_eq(s.entities.digest, res.entities.digest);
    uint8_t *b;
    size_t blen;
    encode(&s.stats, &s.topics, &s.entities, &b, &blen);
    cr_assert_eq(alen, blen);
    cr_assert_eq(memcmp(a, b, alen), 0, "re-encoding a decoded state changed its bytes");

    char *j1 = report_json(&res.stats, &res.topics, &res.entities);
    char *j2 = report_json(&s.stats, &s.topics, &s.entities);
    cr_assert_str_eq(j2, j1);
    free(j1);
    free(j2);
    free(a);
    free(b);
    rs_state_free(&s);
    rs_scan_result_free(&res);
}

Test(state, save_and_load_file)
{
    rs_scan_result_t res;
    scan_docs(&res, all_docs, NULL);
    const char *path = tmp_path("all.state");
    rs_error_t err = {0};
    cr_assert_eq(rs_state_save(path, &res.stats, &res.topics, &res.entities, &err), RS_OK, "%s", err.msg);
    /* saving again replaces it; no temporary is left behind */
    cr_assert_eq(rs_state_save(path, &res.stats, &res.topics, &res.entities, &err), RS_OK, "%s", err.msg);
    DIR *d = opendir(tmpdir);
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        cr_expect_null(strstr(e->d_name, ".tmp."), "temporary left: %s", e->d_name);
    closedir(d);
    rs_state_t s;
    cr_assert_eq(rs_state_load(&s, path, &err), RS_OK, "%s", err.msg);
    char *j1 = report_json(&res.stats, &res.topics, &res.entities);
    char *j2 = report_json(&s.stats, &s.topics, &s.entities);
    cr_assert_str_eq(j2, j1);
    free(j1);
    free(j2);
    rs_state_free(&s);

    /* into a missing directory: an I/O error naming the path */
    const char *bad = tmp_path("no/such/dir.state");
    cr_assert_eq(rs_state_save(bad, &res.stats, &res.topics, &res.entities, &err), RS_ERR_IO);
    cr_expect(strstr(err.msg, bad) != NULL, "%s", err.msg);
    /* a missing file */
    cr_assert_eq(rs_state_load(&s, tmp_path("missing.state"), &err), RS_ERR_IO);
    cr_expect(strstr(err.msg, "missing.state") != NULL, "%s", err.msg);
    rs_scan_result_free(&res);
}

Test(state, empty_lexicons_and_no_documents)
{
    rs_stats_t st;
    rs_lexicon_t none = {0};
    cr_assert_eq(rs_stats_init(&st, 0, 0, 0, 0), RS_OK);
    uint8_t *buf;
    size_t len;
    encode(&st, &none, &none, &buf, &len);
    rs_state_t s;
    rs_error_t err = {0};
    cr_assert_eq(rs_state_decode(&s, buf, len, "e", &err), RS_OK, "%s", err.msg);
    cr_expect_eq(s.stats.documents, 0);
    cr_expect_eq(s.topics.n, 0);
    char *j1 = report_json(&st, &none, &none);
    char *j2 = report_json(&s.stats, &s.topics, &s.entities);
    cr_assert_str_eq(j2, j1);
    free(j1);
    free(j2);
    free(buf);
    rs_state_free(&s);
    rs_stats_free(&st);
}

Test(state, encode_refuses_other_lexicons)
{
    rs_scan_result_t res;
    scan_docs(&res, all_docs, NULL);
    rs_lexicon_t none = {0};
    uint8_t *buf = (uint8_t *)1;
    size_t len = 1;
    rs_error_t err = {0};
    cr_assert_eq(rs_state_encode(&res.stats, &none, &res.entities, &buf, &len, &err), RS_ERR_INTERNAL);
    cr_assert_null(buf);
    rs_scan_result_free(&res);
}

/* ------------------------------------------------------------------------ */
/* Merge equals a single scan                                               */

/* Merges the states of the groups (each a -1-terminated list of document
 * indices, the list ended by NULL) in the order given, and compares. */
static void expect_groups(const int *const *groups, const char *want)
{
    rs_state_t acc;
    state_of(&acc, groups[0], NULL);
    for (size_t g = 1; groups[g]; g++) {
        rs_state_t one;
        state_of(&one, groups[g], NULL);
        rs_error_t err = {0};
        cr_assert_eq(rs_state_merge(&acc, "acc", &one, "one", &err), RS_OK, "%s", err.msg);
        rs_state_free(&one);
    }
    char *got = report_json(&acc.stats, &acc.topics, &acc.entities);
    cr_assert_str_eq(got, want);
    free(got);
    rs_state_free(&acc);
}

Test(state, merge_in_groupings_equals_single_scan)
{
    char *want = single_scan_json();
    static const int g_all[] = {0, 1, 2, 3, 4, 5, 6, -1};
    static const int d0[] = {0, -1}, d1[] = {1, -1}, d2[] = {2, -1}, d3[] = {3, -1}, d4[] = {4, -1}, d5[] = {5, -1},
                     d6[] = {6, -1};
    static const int a[] = {0, 1, -1}, b[] = {2, 3, 4, -1}, c[] = {5, 6, -1};
    static const int x[] = {6, 3, 0, -1}, y[] = {5, 1, -1}, z[] = {4, 2, -1};
    static const int none[] = {-1};
    const int *const one[] = {g_all, NULL};
    const int *const each[] = {d0, d1, d2, d3, d4, d5, d6, NULL};
    const int *const each_rev[] = {d6, d5, d4, d3, d2, d1, d0, NULL};
    const int *const abc[] = {a, b, c, NULL};
    const int *const cba[] = {c, b, a, NULL};
    const int *const bca[] = {b, c, a, NULL};
    const int *const xyz[] = {x, y, z, NULL};
    const int *const with_empty[] = {none, z, none, x, y, NULL};
    expect_groups(one, want);
    expect_groups(each, want);
    expect_groups(each_rev, want);
    expect_groups(abc, want);
    expect_groups(cba, want);
    expect_groups(bca, want);
    expect_groups(xyz, want);
    expect_groups(with_empty, want);
    free(want);
}

Test(state, tree_of_merges_through_files)
{
    char *want = single_scan_json();
    static const int a[] = {0, 1, -1}, b[] = {2, 3, -1}, c[] = {4, -1}, d[] = {5, 6, -1};
    const int *const parts[] = {a, b, c, d};
    const char *names[] = {"a.state", "b.state", "c.state", "d.state"};
    rs_error_t err = {0};
    for (size_t i = 0; i < 4; i++) {
        rs_scan_result_t res;
        scan_docs(&res, parts[i], NULL);
        cr_assert_eq(rs_state_save(tmp_path(names[i]), &res.stats, &res.topics, &res.entities, &err), RS_OK, "%s",
                     err.msg);
        rs_scan_result_free(&res);
    }
    /* (d + a) and (c + b) saved, then merged: ((d a) (c b)) */
    const size_t pairs[2][2] = {{3, 0}, {2, 1}};
    const char *mid[] = {"da.state", "cb.state"};
    for (size_t p = 0; p < 2; p++) {
        rs_state_t s, t;
        cr_assert_eq(rs_state_load(&s, tmp_path(names[pairs[p][0]]), &err), RS_OK, "%s", err.msg);
        cr_assert_eq(rs_state_load(&t, tmp_path(names[pairs[p][1]]), &err), RS_OK, "%s", err.msg);
        cr_assert_eq(rs_state_merge(&s, "s", &t, "t", &err), RS_OK, "%s", err.msg);
        cr_assert_eq(rs_state_save(tmp_path(mid[p]), &s.stats, &s.topics, &s.entities, &err), RS_OK, "%s", err.msg);
        rs_state_free(&s);
        rs_state_free(&t);
    }
    rs_state_t s, t;
    cr_assert_eq(rs_state_load(&s, tmp_path("cb.state"), &err), RS_OK, "%s", err.msg);
    cr_assert_eq(rs_state_load(&t, tmp_path("da.state"), &err), RS_OK, "%s", err.msg);
    cr_assert_eq(rs_state_merge(&s, "cb", &t, "da", &err), RS_OK, "%s", err.msg);
    char *got = report_json(&s.stats, &s.topics, &s.entities);
    cr_assert_str_eq(got, want);
    free(got);
    free(want);
    rs_state_free(&s);
    rs_state_free(&t);
}

/* ------------------------------------------------------------------------ */
/* Refusals                                                                 */

Test(state, truncated_at_every_offset)
{
    uint8_t *buf;
    size_t len;
    small_state(&buf, &len);
    cr_assert_gt(len, 200);
    expect_refused(buf, 0, "empty file", "length", 0);
    for (size_t n = 1; n < len; n++) {
        uint8_t *cut = malloc(n); /* exactly n bytes: ASan sees any over-read */
        memcpy(cut, buf, n);
        expect_refused(cut, n, "truncated", "length", n);
        free(cut);
    }
    /* and through files, at a spread of offsets */
    for (size_t n = 0; n < len; n += 1 + n / 3) {
        write_file("cut.state", buf, n);
        rs_state_t s;
        rs_error_t err = {0};
        cr_assert_eq(rs_state_load(&s, tmp_path("cut.state"), &err), RS_ERR_STATE, "file cut at %zu", n);
        cr_assert(strstr(err.msg, n ? "truncated" : "empty file") != NULL, "%zu: %s", n, err.msg);
        cr_assert(strstr(err.msg, "cut.state") != NULL, "%s", err.msg);
    }
    free(buf);
}

Test(state, every_flipped_byte_is_refused)
{
    uint8_t *buf;
    size_t len;
    small_state(&buf, &len);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 7) { /* the lowest and the highest bit */
            buf[i] ^= (uint8_t)(1u << bit);
            const char *want = i < 8     ? "wrong magic"
                               : i < 12  ? "state format version"
                               : i < 32  ? "header checksum"
                                         : "checksum mismatch";
            expect_refused(buf, len, want, "flip at", i);
            buf[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* one extra byte at the end */
    uint8_t *more = malloc(len + 1);
    memcpy(more, buf, len);
    more[len] = 0;
    expect_refused(more, len + 1, "unexpected bytes", "extended", len);
    free(more);
    free(buf);
}

Test(state, wrong_magic_version_and_empty_files)
{
    uint8_t *buf;
    size_t len;
    small_state(&buf, &len);
    rs_state_t s;
    rs_error_t err = {0};

    write_file("empty.state", "", 0);
    cr_assert_eq(rs_state_load(&s, tmp_path("empty.state"), &err), RS_ERR_STATE);
    cr_expect(strstr(err.msg, "empty.state: empty file") != NULL, "%s", err.msg);

    const char text[] = "Ann Lee: this is a transcript, not a state\n";
    write_file("text.state", text, sizeof text - 1);
    cr_assert_eq(rs_state_load(&s, tmp_path("text.state"), &err), RS_ERR_STATE);
    cr_expect(strstr(err.msg, "text.state: not a rostrum state file") != NULL, "%s", err.msg);

    put_le(buf + 8, RS_STATE_FORMAT + 1, 4);
    put_le(buf + 24, rs_hash64(buf, 24), 8); /* a well-sealed newer file */
    write_file("new.state", buf, len);
    cr_assert_eq(rs_state_load(&s, tmp_path("new.state"), &err), RS_ERR_STATE);
    char want[64];
    snprintf(want, sizeof want, "new.state: state format version %d;", RS_STATE_FORMAT + 1);
    cr_expect(strstr(err.msg, want) != NULL, "%s", err.msg);

    cr_assert_eq(rs_state_load(&s, tmpdir, &err), RS_ERR_IO);
    free(buf);
}

Test(state, good_checksum_over_a_bad_body_is_refused)
{
    uint8_t *buf;
    size_t len;
    small_state(&buf, &len);
    rs_state_t s;
    rs_error_t err = {0};
    /* resealing an untouched state keeps it valid: the documented checksum
     * is the one the writer computes */
    reseal(buf, len);
    cr_assert_eq(rs_state_decode(&s, buf, len, "ok", &err), RS_OK, "%s", err.msg);
    rs_state_free(&s);

    /* four bytes of junk before the trailer */
    uint8_t *more = malloc(len + 4);
    memcpy(more, buf, len - 8);
    memset(more + len - 8, 0xAB, 4);
    reseal(more, len + 4);
    cr_assert_eq(rs_state_decode(&s, more, len + 4, "junk", &err), RS_ERR_STATE);
    cr_expect(strstr(err.msg, "junk: malformed state file") != NULL, "%s", err.msg);
    free(more);

    /* a huge string length in the first field (the rostrum version) */
    put_le(buf + RS_STATE_HEADER_BYTES, 0x7FFFFFF0u, 4);
    reseal(buf, len);
    cr_assert_eq(rs_state_decode(&s, buf, len, "huge", &err), RS_ERR_STATE);
    cr_expect(strstr(err.msg, "huge: malformed state file") != NULL, "%s", err.msg);

    /* every single byte of the body changed, then resealed: refused or
     * decoded, never a crash (ASan/UBSan builds check the memory) */
    uint8_t *orig;
    size_t olen;
    small_state(&orig, &olen);
    cr_assert_eq(olen, len);
    for (size_t i = RS_STATE_HEADER_BYTES; i + 8 < len; i++) {
        memcpy(buf, orig, len);
        buf[i] ^= 0xFF;
        reseal(buf, len);
        const rs_err_e e = rs_state_decode(&s, buf, len, "x", &err);
        cr_assert(e == RS_OK || e == RS_ERR_STATE, "byte %zu: code %d", i, e);
        rs_state_free(&s);
    }
    free(orig);
    free(buf);
}

/* A bigram record listed twice, or counted 0 times, is refused (the table
 * would count it wrong, or not hold it). */
Test(state, bigram_listed_twice_or_counted_zero_is_refused)
{
    static const int two[] = {0, 1, -1};
    rs_scan_result_t res;
    scan_docs(&res, two, NULL);
    uint8_t *buf;
    size_t len;
    encode(&res.stats, &res.topics, &res.entities, &buf, &len);
    /* the first two bigram records, in the order the writer walks the table */
    rs_pair_t g[2];
    uint64_t pos = 0;
    cr_assert(rs_pairs_next(&res.stats.bigrams, &pos, &g[0]) && rs_pairs_next(&res.stats.bigrams, &pos, &g[1]));
    uint32_t a, b;
    rs_pair_split(g[0].key, &a, &b);
    uint8_t rec[16];
    put_le(rec, a, 4);
    put_le(rec + 4, b, 4);
    put_le(rec + 8, g[0].count, 8);
    size_t at = 0;
    while (at + sizeof rec <= len && memcmp(buf + at, rec, sizeof rec) != 0)
        at++;
    cr_assert_leq(at + 2 * sizeof rec, len, "the first bigram record is not in the state");
    uint8_t *bad = malloc(len);
    memcpy(bad, buf, len);
    memcpy(bad + at + sizeof rec, rec, sizeof rec); /* the second record becomes the first's twin */
    reseal(bad, len);
    expect_refused(bad, len, "a bigram listed twice", "twin at", at);
    memcpy(bad, buf, len);
    put_le(bad + at + 8, 0, 8);
    reseal(bad, len);
    expect_refused(bad, len, "counted 0 times", "zero count at", at);
    /* untouched and resealed, it still decodes */
    memcpy(bad, buf, len);
    reseal(bad, len);
    rs_state_t st;
    rs_error_t err = {0};
    cr_assert_eq(rs_state_decode(&st, bad, len, "ok", &err), RS_OK, "%s", err.msg);
    rs_state_free(&st);
    free(bad);
    free(buf);
    rs_scan_result_free(&res);
}

Test(state, mismatched_lexicons_are_refused)
{
    static const int a[] = {0, 1, -1}, b[] = {2, 3, -1};
    rs_state_t s, t;
    state_of(&s, a, NULL);
    state_of(&t, b, "topics2.yml");
    char *before = report_json(&s.stats, &s.topics, &s.entities);
    rs_error_t err = {0};
    cr_assert_eq(rs_state_merge(&s, "one.state", &t, "two.state", &err), RS_ERR_STATE);
    cr_expect(strstr(err.msg, "one.state") && strstr(err.msg, "two.state"), "%s", err.msg);
    cr_expect(strstr(err.msg, "topics lexicons") != NULL, "%s", err.msg);
    char *after = report_json(&s.stats, &s.topics, &s.entities);
    cr_assert_str_eq(after, before, "a refused merge changed the accumulator");
    free(before);
    free(after);
    rs_state_free(&t);

    /* entities: same topics, different entities digest */
    state_of(&t, b, NULL);
    t.entities.digest ^= 1;
    cr_assert_eq(rs_state_merge(&s, "one.state", &t, "two.state", &err), RS_ERR_STATE);
    cr_expect(strstr(err.msg, "entities lexicons") != NULL, "%s", err.msg);
    t.entities.digest ^= 1;

    /* tokenizer */
    free(t.tokenizer);
    t.tokenizer = strdup("rostrum-tokens/0 unicode/14.0.0");
    cr_assert_eq(rs_state_merge(&s, "one.state", &t, "two.state", &err), RS_ERR_STATE);
    cr_expect(strstr(err.msg, "tokenized differently") && strstr(err.msg, "one.state") && strstr(err.msg, "two.state"),
              "%s", err.msg);
    rs_state_free(&t);
    rs_state_free(&s);
}
